//! citysec-policy against cedar-policy, in one run.
//!
//! The sets are door-access sets of N = 10, 100 and 1,000 rules built from the
//! rule shapes of the differential test (crates/citysec-policy/tests/differential_cedar.rs),
//! written in both languages with the same mapping:
//!
//! - rule 0: `forbid "lockdown" action * on * when context.threat >= 3 unless subject.roles has "security"`;
//! - every 10th rule from 5: a maintenance forbid for one door at night;
//! - every 10th rule from 7: a zone permit for guards, keyed on `resource.zone in [...]`;
//! - the others (and always the last): a door permit keyed on `resource.id == "dI"`,
//!   with a role, an hour range and a weekday range.
//!
//! Groups:
//! - `policy_eval_match_last`: the request is allowed by the last rule only.
//! - `policy_eval_no_match`: the request names a door no rule mentions (deny).
//!   Both with `citysec/N` (`Request::evaluate`, request prebuilt) and `cedar/N`
//!   (`Authorizer::is_authorized`, request, entities and policy set prebuilt).
//! - `policy_compile`: `citysec` (parse + compile the 1,000-rule source against a
//!   prebuilt schema) vs `cedar` (`PolicySet` parse of the same set).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc,
    missing_docs,
    reason = "benchmark code"
)]

use core::hint::black_box;
use std::collections::{HashMap, HashSet};
use std::str::FromStr;

use cedar_policy::{
    Authorizer, Context, Entities, Entity, EntityId, EntityTypeName, EntityUid, PolicySet as CedarSet,
    Request as CedarRequest, RestrictedExpression,
};
use citysec_policy::{Decision, PolicyLimits, PolicySet, Schema, Value, Weekday, compile};
use criterion::{BenchmarkId, Criterion};

const SIZES: [usize; 3] = [10, 100, 1000];

const SCHEMA: &str = "
action open, unlock, hold;
resource door, gate;
subject.roles: set<string>;
resource.id: string;
resource.zone: string;
context.hour: int;
context.weekday: weekday;
context.threat: int;
";

const ROLES: [&str; 4] = ["staff", "engineer", "cleaner", "manager"];

/// The set of `n` rules in both languages: (citysec source, Cedar source).
fn door_set(n: usize) -> (String, String) {
    let mut ours = String::new();
    let mut cedar = String::new();
    for i in 0..n {
        let last = i + 1 == n;
        if i == 0 {
            ours.push_str(
                "forbid \"lockdown\" action * on * when context.threat >= 3 unless subject.roles has \"security\";\n",
            );
            cedar.push_str(
                "forbid(principal, action, resource) when { context.threat >= 3 } \
                 unless { principal.roles.contains(\"security\") };\n",
            );
        } else if i % 10 == 5 && !last {
            ours.push_str(&format!(
                "forbid \"maint-{i}\" action * on door when resource.id == \"d{i}\" and context.hour in 0..5;\n"
            ));
            cedar.push_str(&format!(
                "forbid(principal, action, resource is Door) when {{ resource.id == \"d{i}\" && \
                 (context.hour >= 0 && context.hour <= 5) }};\n"
            ));
        } else if i % 10 == 7 && !last {
            ours.push_str(&format!(
                "permit \"zone-{i}\" action [open, unlock] on door when resource.zone in [\"zone-{i}\", \"zone-{}\"] \
                 and subject.roles has \"guard\" and context.weekday in mon..sun;\n",
                i + 1
            ));
            cedar.push_str(&format!(
                "permit(principal, action in [Action::\"open\", Action::\"unlock\"], resource is Door) when {{ \
                 [\"zone-{i}\", \"zone-{}\"].contains(resource.zone) && principal.roles.contains(\"guard\") && \
                 (context.weekday >= 1 && context.weekday <= 7) }};\n",
                i + 1
            ));
        } else {
            let role = ROLES[i % ROLES.len()];
            ours.push_str(&format!(
                "permit \"door-{i}\" action open on door when resource.id == \"d{i}\" and subject.roles has \"{role}\" \
                 and context.hour in 7..19 and context.weekday in mon..fri;\n"
            ));
            cedar.push_str(&format!(
                "permit(principal, action == Action::\"open\", resource is Door) when {{ resource.id == \"d{i}\" && \
                 principal.roles.contains(\"{role}\") && (context.hour >= 7 && context.hour <= 19) && \
                 (context.weekday >= 1 && context.weekday <= 5) }};\n"
            ));
        }
    }
    (ours, cedar)
}

fn uid(ty: &str, id: &str) -> EntityUid {
    EntityUid::from_type_name_and_id(EntityTypeName::from_str(ty).unwrap(), EntityId::new(id))
}

/// A prebuilt Cedar request and entities for a door request.
fn cedar_request(door: &str, role: &str) -> (CedarRequest, Entities) {
    let p = uid("User", "u");
    let r = uid("Door", "r");
    let roles = RestrictedExpression::new_set([RestrictedExpression::new_string(role.to_string())]);
    let principal = Entity::new(p.clone(), HashMap::from([("roles".to_string(), roles)]), HashSet::new()).unwrap();
    let resource = Entity::new(
        r.clone(),
        HashMap::from([
            ("id".to_string(), RestrictedExpression::new_string(door.to_string())),
            (
                "zone".to_string(),
                RestrictedExpression::new_string("lobby".to_string()),
            ),
        ]),
        HashSet::new(),
    )
    .unwrap();
    let entities = Entities::from_entities([principal, resource], None).unwrap();
    let context = Context::from_pairs([
        ("hour".to_string(), RestrictedExpression::new_long(9)),
        ("weekday".to_string(), RestrictedExpression::new_long(2)),
        ("threat".to_string(), RestrictedExpression::new_long(0)),
    ])
    .unwrap();
    let req = CedarRequest::new(p, uid("Action", "open"), r, context, None).unwrap();
    (req, entities)
}

/// Fills a citysec request for the same door request.
fn fill<'v>(policy: &PolicySet, req: &mut citysec_policy::Request<'_, 'v>, door: &'v str, roles: &'v [&'v str]) {
    req.set_action(policy.action("open")).unwrap();
    req.set_resource_type(policy.resource_type("door")).unwrap();
    req.set(policy.attribute("subject.roles").unwrap(), Value::StringSet(roles))
        .unwrap();
    req.set(policy.attribute("resource.id").unwrap(), Value::String(door))
        .unwrap();
    req.set(policy.attribute("resource.zone").unwrap(), Value::String("lobby"))
        .unwrap();
    req.set(policy.attribute("context.hour").unwrap(), Value::Int(9))
        .unwrap();
    req.set(
        policy.attribute("context.weekday").unwrap(),
        Value::Weekday(Weekday::Tue),
    )
    .unwrap();
    req.set(policy.attribute("context.threat").unwrap(), Value::Int(0))
        .unwrap();
}

fn eval(c: &mut Criterion, group: &str, match_last: bool) {
    let schema = Schema::parse(SCHEMA, &PolicyLimits::DEFAULT).unwrap();
    let mut g = c.benchmark_group(group);
    for n in SIZES {
        let (ours_src, cedar_src) = door_set(n);
        let compiled = compile(&schema, &ours_src, &PolicyLimits::DEFAULT).unwrap();
        assert!(compiled.warnings.is_empty());
        let policy = compiled.policy;
        let cedar_set = CedarSet::from_str(&cedar_src).unwrap();
        assert_eq!(policy.len(), n);

        let door = if match_last {
            format!("d{}", n - 1)
        } else {
            "d-none".to_string()
        };
        let role = [ROLES[(n - 1) % ROLES.len()]];
        let mut req = policy.request();
        fill(&policy, &mut req, &door, &role);
        let (creq, entities) = cedar_request(&door, role[0]);
        let authorizer = Authorizer::new();

        // Both decide the same before anything is timed.
        let ours_rules: Vec<String> = {
            let r = req.evaluate();
            assert_eq!(r.decision(), if match_last { Decision::Allow } else { Decision::Deny });
            r.rules().map(str::to_string).collect()
        };
        let theirs = authorizer.is_authorized(&creq, &cedar_set, &entities);
        assert_eq!(theirs.diagnostics().errors().count(), 0);
        let cedar_rules: Vec<String> = theirs.diagnostics().reason().map(ToString::to_string).collect();
        if match_last {
            assert_eq!(theirs.decision(), cedar_policy::Decision::Allow);
            assert_eq!(ours_rules, [format!("door-{}", n - 1)]);
            assert_eq!(cedar_rules, [format!("policy{}", n - 1)]);
        } else {
            assert_eq!(theirs.decision(), cedar_policy::Decision::Deny);
            assert!(ours_rules.is_empty() && cedar_rules.is_empty());
        }

        g.bench_function(BenchmarkId::new("citysec", n), |b| {
            b.iter(|| black_box(req.evaluate().decision()));
        });
        g.bench_function(BenchmarkId::new("cedar", n), |b| {
            b.iter(|| {
                black_box(
                    authorizer
                        .is_authorized(black_box(&creq), &cedar_set, &entities)
                        .decision(),
                )
            });
        });
    }
    g.finish();
}

fn policy_compile(c: &mut Criterion) {
    let schema = Schema::parse(SCHEMA, &PolicyLimits::DEFAULT).unwrap();
    let (ours_src, cedar_src) = door_set(1000);
    let mut g = c.benchmark_group("policy_compile");
    g.sample_size(20);
    g.bench_function("citysec", |b| {
        b.iter(|| compile(&schema, black_box(&ours_src), &PolicyLimits::DEFAULT).unwrap());
    });
    g.bench_function("cedar", |b| {
        b.iter(|| CedarSet::from_str(black_box(&cedar_src)).unwrap());
    });
    g.finish();
}

fn main() {
    let mut c = citysec_benches::criterion();
    eval(&mut c, "policy_eval_match_last", true);
    eval(&mut c, "policy_eval_no_match", false);
    policy_compile(&mut c);
    c.final_summary();
    let mut pairs = Vec::new();
    for group in ["policy_eval_match_last", "policy_eval_no_match"] {
        pairs.push((group, "citysec/10", "cedar/10", 0.1));
        pairs.push((group, "citysec/100", "cedar/100", 0.1));
        pairs.push((group, "citysec/1000", "cedar/1000", 0.01));
        pairs.push((group, "citysec/1000", "citysec/10", 2.0));
    }
    pairs.push(("policy_compile", "citysec", "cedar", 0.1));
    citysec_benches::report(&pairs);
}
