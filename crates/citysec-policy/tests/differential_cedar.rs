//! Differential test against cedar-policy.
//!
//! proptest generates door-access policy sets (permits and forbids over actions,
//! resource types and conditions on subject, resource and context attributes) and
//! requests (attributes sometimes missing, actions and resource types sometimes
//! outside the schema). Each set is written in both languages (the mapping is in
//! docs/policy-language.md, section 9) and every request is decided by both:
//!
//! - where Cedar reports no erroring policy, the decisions and the deciding rules
//!   must be equal;
//! - where a policy errors (Cedar skips it), citysec must fail closed: deny if a
//!   forbid applies or errors, else allow exactly when a permit applies, with the
//!   same deciding rules and the same erroring rules as Cedar reports.
//!
//! Every decision is also checked against `evaluate_scan` (no index) and `explain`.
//! The run prints its case counts; at least 10,000 generated cases are required.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc,
    reason = "std test code: a failed unwrap or index is a failed test"
)]

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::str::FromStr;

use cedar_policy::{
    AuthorizationError, Authorizer, Context, Entities, Entity, EntityId, EntityTypeName, EntityUid,
    Request as CedarRequest, RestrictedExpression,
};
use citysec_policy::{Decision, PolicyLimits, Reason, RequestError, Schema, Value, Weekday, compile};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

/// Generated cases (policy set + requests) per run.
const CASES: u32 = 10_000;
/// Requests decided per generated policy set.
const REQUESTS_PER_SET: usize = 3;

const SCHEMA: &str = "
action open, unlock, hold;
resource door, gate;
subject.id: string;
subject.roles: set<string>;
subject.level: int;
subject.zones: set<string>;
subject.home: string;
resource.id: string;
resource.zone: string;
resource.level: int;
context.hour: int;
context.weekday: weekday;
context.threat: int;
context.emergency: bool;
context.trust: string;
";

const ACTIONS: &[&str] = &["open", "unlock", "hold"];
/// Request actions: the declared ones and one outside the schema.
const REQ_ACTIONS: &[&str] = &["open", "unlock", "hold", "paint"];
const RTYPES: &[&str] = &["door", "gate"];
const REQ_RTYPES: &[&str] = &["door", "gate", "bench"];
const ROLES: &[&str] = &["staff", "security", "guard", "visitor"];
const ZONES: &[&str] = &["lobby", "office", "lab", "roof"];
const TRUST: &[&str] = &["affirming", "warning", "none"];
const DAYS: &[&str] = &["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// A condition in both languages.
#[derive(Clone, Debug)]
struct Cond {
    ours: String,
    cedar: String,
}

fn cond(ours: impl Into<String>, cedar: impl Into<String>) -> Cond {
    Cond {
        ours: ours.into(),
        cedar: cedar.into(),
    }
}

fn q(s: &str) -> String {
    format!("\"{s}\"")
}

fn pick(list: &'static [&'static str]) -> impl Strategy<Value = &'static str> {
    proptest::sample::select(list)
}

fn cmp_op() -> impl Strategy<Value = &'static str> {
    pick(&["==", "!=", "<", "<=", ">", ">="])
}

/// A first conjunct the index can key on.
fn key_leaf() -> impl Strategy<Value = Cond> {
    prop_oneof![
        (0..6u8).prop_map(|i| {
            let v = q(&format!("d{i}"));
            cond(format!("resource.id == {v}"), format!("resource.id == {v}"))
        }),
        (0..6u8, 0..6u8).prop_map(|(a, b)| {
            let (a, b) = (q(&format!("d{a}")), q(&format!("d{b}")));
            cond(
                format!("resource.id in [{a}, {b}]"),
                format!("[{a}, {b}].contains(resource.id)"),
            )
        }),
        pick(ZONES).prop_map(|z| cond(
            format!("resource.zone == {}", q(z)),
            format!("resource.zone == {}", q(z))
        )),
        (pick(ZONES), pick(ZONES)).prop_map(|(a, b)| {
            let (a, b) = (q(a), q(b));
            cond(
                format!("resource.zone in [{a}, {b}]"),
                format!("[{a}, {b}].contains(resource.zone)"),
            )
        }),
        (0..4u8).prop_map(|i| {
            let v = q(&format!("u{i}"));
            cond(format!("subject.id == {v}"), format!("principal.id == {v}"))
        }),
        (0..6i64, 0..6i64).prop_map(|(a, b)| cond(
            format!("resource.level in [{a}, {b}]"),
            format!("[{a}, {b}].contains(resource.level)")
        )),
    ]
}

fn leaf() -> impl Strategy<Value = Cond> {
    prop_oneof![
        key_leaf(),
        pick(ROLES).prop_map(|r| cond(
            format!("subject.roles has {}", q(r)),
            format!("principal.roles.contains({})", q(r))
        )),
        pick(ROLES).prop_map(|r| cond(
            format!("{} in subject.roles", q(r)),
            format!("principal.roles.contains({})", q(r))
        )),
        (pick(ZONES), any::<bool>()).prop_map(|(z, eq)| {
            let op = if eq { "==" } else { "!=" };
            cond(
                format!("resource.zone {op} {}", q(z)),
                format!("resource.zone {op} {}", q(z)),
            )
        }),
        (cmp_op(), 0..6i64)
            .prop_map(|(op, n)| cond(format!("subject.level {op} {n}"), format!("principal.level {op} {n}"))),
        (0..24i64, 0..24i64).prop_map(|(a, b)| {
            let (lo, hi) = (a.min(b), a.max(b));
            cond(
                format!("context.hour in {lo}..{hi}"),
                format!("(context.hour >= {lo} && context.hour <= {hi})"),
            )
        }),
        (cmp_op(), 0..24i64)
            .prop_map(|(op, n)| cond(format!("context.hour {op} {n}"), format!("context.hour {op} {n}"))),
        (1..=7i64, 1..=7i64).prop_map(|(a, b)| {
            let (da, db) = (DAYS[a as usize - 1], DAYS[b as usize - 1]);
            let cedar = if a <= b {
                format!("(context.weekday >= {a} && context.weekday <= {b})")
            } else {
                format!("(context.weekday >= {a} || context.weekday <= {b})")
            };
            cond(format!("context.weekday in {da}..{db}"), cedar)
        }),
        (1..=7i64, any::<bool>()).prop_map(|(a, eq)| {
            let op = if eq { "==" } else { "!=" };
            cond(
                format!("context.weekday {op} {}", DAYS[a as usize - 1]),
                format!("context.weekday {op} {a}"),
            )
        }),
        (1..=7i64, 1..=7i64).prop_map(|(a, b)| cond(
            format!(
                "context.weekday in [{}, {}]",
                DAYS[a as usize - 1],
                DAYS[b as usize - 1]
            ),
            format!("[{a}, {b}].contains(context.weekday)")
        )),
        (pick(&[">=", ">", "<", "=="]), 0..6i64)
            .prop_map(|(op, n)| cond(format!("context.threat {op} {n}"), format!("context.threat {op} {n}"))),
        Just(cond("context.emergency", "context.emergency")),
        pick(TRUST).prop_map(|t| cond(
            format!("context.trust == {}", q(t)),
            format!("context.trust == {}", q(t))
        )),
        Just(cond(
            "subject.zones has resource.zone",
            "principal.zones.contains(resource.zone)"
        )),
        Just(cond(
            "resource.zone in subject.zones",
            "principal.zones.contains(resource.zone)"
        )),
        Just(cond("subject.home == resource.zone", "principal.home == resource.zone")),
        (pick(&["<=", "<", "=="])).prop_map(|op| cond(
            format!("resource.level {op} subject.level"),
            format!("resource.level {op} principal.level")
        )),
        any::<bool>().prop_map(|b| cond(b.to_string(), b.to_string())),
    ]
}

fn tree() -> impl Strategy<Value = Cond> {
    leaf().prop_recursive(3, 10, 3, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| cond(
                format!("({} and {})", a.ours, b.ours),
                format!("({} && {})", a.cedar, b.cedar)
            )),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| cond(
                format!("({} or {})", a.ours, b.ours),
                format!("({} || {})", a.cedar, b.cedar)
            )),
            inner.prop_map(|a| cond(format!("not {}", a.ours), format!("!({})", a.cedar))),
        ]
    })
}

/// A `when` condition: an arbitrary tree, or a top-level conjunction whose first
/// test the index keys on.
fn when_cond() -> impl Strategy<Value = Cond> {
    prop_oneof![
        tree(),
        (key_leaf(), proptest::collection::vec(tree(), 0..3)).prop_map(|(k, rest)| {
            let mut ours = k.ours;
            let mut cedar = k.cedar;
            for r in rest {
                ours.push_str(&format!(" and {}", r.ours));
                cedar.push_str(&format!(" && {}", r.cedar));
            }
            cond(ours, cedar)
        }),
    ]
}

#[derive(Clone, Debug)]
enum Scope {
    All,
    One(&'static str),
    Two(&'static str, &'static str),
}

fn scope(list: &'static [&'static str]) -> impl Strategy<Value = Scope> {
    prop_oneof![
        1 => Just(Scope::All),
        3 => pick(list).prop_map(Scope::One),
        1 => (pick(list), pick(list)).prop_map(|(a, b)| Scope::Two(a, b)),
    ]
}

#[derive(Clone, Debug)]
struct Rule {
    forbid: bool,
    actions: Scope,
    resources: Scope,
    when: Option<Cond>,
    unless: Option<Cond>,
}

fn rule() -> impl Strategy<Value = Rule> {
    (
        proptest::bool::weighted(0.3),
        scope(ACTIONS),
        scope(RTYPES),
        proptest::option::weighted(0.9, when_cond()),
        proptest::option::weighted(0.25, tree()),
    )
        .prop_map(|(forbid, actions, resources, when, unless)| Rule {
            forbid,
            actions,
            resources,
            when,
            unless,
        })
}

fn capital(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
        .unwrap_or_default()
}

/// The set in our language; rule `i` has id `r{i}`.
fn ours(rules: &[Rule]) -> String {
    let mut out = String::new();
    for (i, r) in rules.iter().enumerate() {
        let scope = |s: &Scope| match s {
            Scope::All => "*".to_string(),
            Scope::One(a) => (*a).to_string(),
            Scope::Two(a, b) => format!("[{a}, {b}]"),
        };
        out.push_str(&format!(
            "{} \"r{i}\" action {} on {}",
            if r.forbid { "forbid" } else { "permit" },
            scope(&r.actions),
            scope(&r.resources)
        ));
        if let Some(w) = &r.when {
            out.push_str(&format!("\n  when {}", w.ours));
        }
        if let Some(u) = &r.unless {
            out.push_str(&format!("\n  unless {}", u.ours));
        }
        out.push_str(";\n");
    }
    out
}

/// The set in Cedar; rule `i` is Cedar's `policy{i}`.
fn cedar(rules: &[Rule]) -> String {
    let mut out = String::new();
    for r in rules {
        let action = match &r.actions {
            Scope::All => "action".to_string(),
            Scope::One(a) => format!("action == Action::\"{a}\""),
            Scope::Two(a, b) => format!("action in [Action::\"{a}\", Action::\"{b}\"]"),
        };
        let (resource, type_test) = match &r.resources {
            Scope::All => ("resource".to_string(), None),
            Scope::One(t) => (format!("resource is {}", capital(t)), None),
            // Cedar's scope names one type; a list becomes a guard in front of the condition.
            Scope::Two(a, b) => (
                "resource".to_string(),
                Some(format!("(resource is {} || resource is {})", capital(a), capital(b))),
            ),
        };
        out.push_str(&format!(
            "{}(principal, {action}, {resource})",
            if r.forbid { "forbid" } else { "permit" }
        ));
        match (&type_test, &r.when) {
            (Some(t), Some(w)) => out.push_str(&format!(" when {{ {t} && ({}) }}", w.cedar)),
            (Some(t), None) => out.push_str(&format!(" when {{ {t} }}")),
            (None, Some(w)) => out.push_str(&format!(" when {{ {} }}", w.cedar)),
            (None, None) => {}
        }
        if let Some(u) = &r.unless {
            out.push_str(&format!(" unless {{ {} }}", u.cedar));
        }
        out.push_str(";\n");
    }
    out
}

/// One attribute value of a generated request.
#[derive(Clone, Debug)]
enum V {
    S(&'static str),
    Owned(String),
    I(i64),
    B(bool),
    Day(u8),
    Set(Vec<&'static str>),
}

#[derive(Clone, Debug)]
struct Req {
    action: &'static str,
    rtype: &'static str,
    /// (attribute, value); absent attributes are missing from the request.
    attrs: Vec<(&'static str, V)>,
}

fn maybe(s: impl Strategy<Value = V> + 'static) -> BoxedStrategy<Option<V>> {
    proptest::option::weighted(0.9, s).boxed()
}

fn subset(list: &'static [&'static str]) -> impl Strategy<Value = V> {
    proptest::sample::subsequence(list, 0..=list.len()).prop_map(V::Set)
}

fn request() -> impl Strategy<Value = Req> {
    let attrs = (
        (
            maybe((0..4u8).prop_map(|i| V::Owned(format!("u{i}")))),
            maybe(subset(ROLES)),
            maybe((0..6i64).prop_map(V::I)),
            maybe(subset(ZONES)),
            maybe(pick(ZONES).prop_map(V::S)),
        ),
        (
            maybe((0..7u8).prop_map(|i| V::Owned(format!("d{i}")))),
            maybe(pick(ZONES).prop_map(V::S)),
            maybe((0..6i64).prop_map(V::I)),
        ),
        (
            maybe((0..24i64).prop_map(V::I)),
            maybe((1..=7u8).prop_map(V::Day)),
            maybe((0..6i64).prop_map(V::I)),
            maybe(any::<bool>().prop_map(V::B)),
            maybe(pick(TRUST).prop_map(V::S)),
        ),
    );
    (pick(REQ_ACTIONS), pick(REQ_RTYPES), attrs).prop_map(|(action, rtype, (s, r, c))| {
        let names_values = [
            ("subject.id", s.0),
            ("subject.roles", s.1),
            ("subject.level", s.2),
            ("subject.zones", s.3),
            ("subject.home", s.4),
            ("resource.id", r.0),
            ("resource.zone", r.1),
            ("resource.level", r.2),
            ("context.hour", c.0),
            ("context.weekday", c.1),
            ("context.threat", c.2),
            ("context.emergency", c.3),
            ("context.trust", c.4),
        ];
        Req {
            action,
            rtype,
            attrs: names_values
                .into_iter()
                .filter_map(|(n, v)| v.map(|v| (n, v)))
                .collect(),
        }
    })
}

fn cedar_value(v: &V) -> RestrictedExpression {
    match v {
        V::S(s) => RestrictedExpression::new_string((*s).to_string()),
        V::Owned(s) => RestrictedExpression::new_string(s.clone()),
        V::I(n) => RestrictedExpression::new_long(*n),
        V::B(b) => RestrictedExpression::new_bool(*b),
        V::Day(d) => RestrictedExpression::new_long(i64::from(*d)),
        V::Set(items) => {
            RestrictedExpression::new_set(items.iter().map(|s| RestrictedExpression::new_string((*s).to_string())))
        }
    }
}

fn uid(ty: &str, id: &str) -> EntityUid {
    EntityUid::from_type_name_and_id(EntityTypeName::from_str(ty).unwrap(), EntityId::new(id))
}

/// Cedar's decision: (allow, satisfied policy indices, erroring policy indices).
fn cedar_decide(ps: &cedar_policy::PolicySet, req: &Req) -> (bool, BTreeSet<usize>, BTreeSet<usize>) {
    let mut principal = HashMap::new();
    let mut resource = HashMap::new();
    let mut context = Vec::new();
    for (name, v) in &req.attrs {
        let (root, attr) = name.split_once('.').unwrap();
        match root {
            "subject" => {
                principal.insert(attr.to_string(), cedar_value(v));
            }
            "resource" => {
                resource.insert(attr.to_string(), cedar_value(v));
            }
            _ => context.push((attr.to_string(), cedar_value(v))),
        }
    }
    let p = uid("User", "u");
    let r = uid(&capital(req.rtype), "r");
    let entities = Entities::from_entities(
        [
            Entity::new(p.clone(), principal, HashSet::new()).unwrap(),
            Entity::new(r.clone(), resource, HashSet::new()).unwrap(),
        ],
        None,
    )
    .unwrap();
    let request = CedarRequest::new(
        p,
        uid("Action", req.action),
        r,
        Context::from_pairs(context).unwrap(),
        None,
    )
    .unwrap();
    let resp = Authorizer::new().is_authorized(&request, ps, &entities);
    let idx = |id: &cedar_policy::PolicyId| -> usize { id.to_string().trim_start_matches("policy").parse().unwrap() };
    let reason = resp.diagnostics().reason().map(idx).collect();
    let errors = resp
        .diagnostics()
        .errors()
        .map(|e| match e {
            AuthorizationError::PolicyEvaluationError(pe) => idx(pe.policy_id()),
        })
        .collect();
    (resp.decision() == cedar_policy::Decision::Allow, reason, errors)
}

fn our_value(v: &V) -> Value<'_> {
    match v {
        V::S(s) => Value::String(s),
        V::Owned(s) => Value::String(s),
        V::I(n) => Value::Int(*n),
        V::B(b) => Value::Bool(*b),
        V::Day(d) => Value::Weekday(Weekday::from_iso(*d).unwrap()),
        V::Set(items) => Value::StringSet(items),
    }
}

fn rule_index(id: &str) -> usize {
    id.trim_start_matches('r').parse().unwrap()
}

#[derive(Debug, Default)]
struct Stats {
    cases: u64,
    decisions: u64,
    agree_allow: u64,
    agree_deny: u64,
    with_errors: u64,
    fail_closed_deny_where_cedar_allows: u64,
    forbidden: u64,
}

#[test]
fn decisions_agree_with_cedar() {
    let schema = Schema::parse(SCHEMA, &PolicyLimits::DEFAULT).unwrap();
    let stats = RefCell::new(Stats::default());
    let mut runner = TestRunner::new(Config {
        cases: CASES,
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = (
        proptest::collection::vec(rule(), 1..=8),
        proptest::collection::vec(request(), REQUESTS_PER_SET),
    );
    let result = runner.run(&strategy, |(rules, requests)| {
        let ours_src = ours(&rules);
        let cedar_src = cedar(&rules);
        let compiled = compile(&schema, &ours_src, &PolicyLimits::DEFAULT)
            .map_err(|e| TestCaseError::fail(format!("{e}\n{ours_src}")))?;
        let policy = compiled.policy;
        let ps: cedar_policy::PolicySet = cedar_src
            .parse()
            .map_err(|e| TestCaseError::fail(format!("{e:?}\n{cedar_src}")))?;
        let forbids: BTreeSet<usize> = (0..rules.len()).filter(|&i| rules[i].forbid).collect();

        let mut st = stats.borrow_mut();
        st.cases += 1;
        for req in &requests {
            let (cedar_allow, reason, errors) = cedar_decide(&ps, req);

            let mut r = policy.request();
            // An action or resource type outside the schema is refused before any
            // rule is consulted (Cedar, without a schema, would match `*` rules).
            let known = ACTIONS.contains(&req.action) && RTYPES.contains(&req.rtype);
            let set = r
                .set_action_name(req.action)
                .and_then(|r| r.set_resource_type_name(req.rtype))
                .map(|_| ());
            if !known {
                let want = if ACTIONS.contains(&req.action) {
                    RequestError::UnknownResourceType
                } else {
                    RequestError::UnknownAction
                };
                prop_assert_eq!(set, Err(want));
                continue;
            }
            prop_assert_eq!(set, Ok(()));
            for (name, v) in &req.attrs {
                r.set_named(name, our_value(v)).unwrap();
            }
            let resp = r.evaluate();
            let decision = resp.decision();
            let reason_ours = resp.reason();
            let deciding: BTreeSet<usize> = resp.rules().map(rule_index).collect();
            let errored: BTreeSet<usize> = resp.errors().map(|e| rule_index(e.rule)).collect();
            let ctx = || format!("\nours:\n{ours_src}\ncedar:\n{cedar_src}\nrequest: {req:?}");

            // The expected fail-closed result, from Cedar's per-policy outcomes.
            let forbid_hits: BTreeSet<usize> = reason.union(&errors).filter(|i| forbids.contains(i)).copied().collect();
            let permits: BTreeSet<usize> = reason.iter().filter(|i| !forbids.contains(i)).copied().collect();
            let (want_decision, want_reason, want_deciding, want_errors) = if !forbid_hits.is_empty() {
                let e: BTreeSet<usize> = errors.intersection(&forbids).copied().collect();
                (Decision::Deny, Reason::Forbidden, forbid_hits, e)
            } else if !permits.is_empty() {
                (Decision::Allow, Reason::Permitted, permits, errors.clone())
            } else {
                (Decision::Deny, Reason::NoPermit, BTreeSet::new(), errors.clone())
            };
            prop_assert_eq!(decision, want_decision, "decision{}", ctx());
            prop_assert_eq!(reason_ours, want_reason, "reason{}", ctx());
            prop_assert_eq!(&deciding, &want_deciding, "deciding rules{}", ctx());
            prop_assert_eq!(&errored, &want_errors, "erroring rules{}", ctx());
            if errors.is_empty() {
                // No rule errors: exactly Cedar's decision.
                prop_assert_eq!(decision == Decision::Allow, cedar_allow, "cedar decision{}", ctx());
                if cedar_allow {
                    st.agree_allow += 1;
                } else {
                    st.agree_deny += 1;
                }
            } else {
                st.with_errors += 1;
                if cedar_allow && decision == Decision::Deny {
                    st.fail_closed_deny_where_cedar_allows += 1;
                }
            }
            if reason_ours == Reason::Forbidden {
                st.forbidden += 1;
            }
            st.decisions += 1;

            // The index changes nothing, and the explanation tells the same story.
            let scan = {
                let s = r.evaluate_scan();
                (
                    s.decision(),
                    s.reason(),
                    s.rules().map(rule_index).collect::<BTreeSet<_>>(),
                )
            };
            prop_assert_eq!(
                scan,
                (decision, reason_ours, deciding.clone()),
                "scan vs index{}",
                ctx()
            );
            let e = r.explain();
            prop_assert_eq!((e.decision, e.reason), (decision, reason_ours), "explain{}", ctx());
            prop_assert_eq!(
                e.deciding.iter().map(|id| rule_index(id)).collect::<BTreeSet<_>>(),
                deciding,
                "explain deciding{}",
                ctx()
            );
        }
        Ok(())
    });
    let st = stats.into_inner();
    println!("differential vs cedar-policy: {st:?}");
    if let Err(e) = result {
        panic!("{e}");
    }
    assert!(st.cases >= u64::from(CASES), "{st:?}");
    assert!(st.decisions >= 10_000, "{st:?}");
    // The generator must exercise every outcome, or the agreement means little.
    let total = st.decisions;
    assert!(st.agree_allow * 20 >= total, "too few allows: {st:?}");
    assert!(st.agree_deny * 20 >= total, "too few denies: {st:?}");
    assert!(st.with_errors * 20 >= total, "too few erroring cases: {st:?}");
    assert!(st.fail_closed_deny_where_cedar_allows > 0, "{st:?}");
    assert!(st.forbidden * 20 >= total, "too few forbids: {st:?}");
}
