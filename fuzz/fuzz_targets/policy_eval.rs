//! Fuzz target `policy_eval`: arbitrary requests against a fixed policy set.
//!
//! The input chooses the action, the resource type and, for every attribute,
//! nothing, a value of its declared type, or a value of another type (strings and
//! sets from a small dictionary or arbitrary). Invariants: no panic; the index, the
//! full scan (unless one of them ran out of steps) and the explanation decide alike; allow means a permit applied and no
//! forbid applied or errored; a forbid that errors always denies; a deny by forbid
//! names only forbids; a set with a tiny step budget denies with `LimitExceeded`
//! or decides like the full set.
#![no_main]

use std::sync::LazyLock;

use citysec_policy::{
    Decision, Effect, PolicyLimits, PolicySet, Reason, RequestError, RuleOutcome, Schema, Type, Value, Weekday, compile,
};
use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;

const SCHEMA: &str = "
action open, unlock, hold;
resource door, gate, lift, stair, hatch, vault;
subject.id: string;
subject.roles: set<string>;
subject.level: int;
subject.zones: set<string>;
subject.clearances: set<int>;
subject.home: string;
resource.id: string;
resource.zone: string;
resource.level: int;
context.hour: int;
context.weekday: weekday;
context.threat_level: int;
context.device_trust: string;
context.emergency: bool;
";

/// Every kind of test, keyed and unkeyed rules, wildcards and long resource lists.
const POLICY: &str = r#"
permit "staff-office-hours" action open on door
  when subject.roles has "staff" and resource.zone in ["lobby", "office"]
   and context.weekday in mon..fri and context.hour in 7..19 and context.device_trust == "affirming";
forbid "lockdown" action * on * when context.threat_level >= 3 unless subject.roles has "security";
permit "door-d1" action [open, unlock] on door when resource.id == "d1" and subject.level >= 2;
permit "door-d2" action open on [door, gate] when resource.id in ["d2", "d3"] and not context.emergency;
forbid "maint-d3" action * on door when resource.id == "d3" and (context.hour < 6 or context.hour > 22);
permit "home-zone" action * on * when subject.zones has resource.zone and subject.home == resource.zone;
permit "level" action hold on [door, gate, lift, stair, hatch, vault] when resource.level <= subject.level;
permit "clearance" action unlock on vault when subject.clearances has 7 or resource.level in subject.clearances;
forbid "weekend-vault" action * on vault when context.weekday in sat..sun;
permit "night" action open on gate when context.weekday in fri..mon and "guard" in subject.roles;
permit "ids" action open on lift when subject.id in ["u1", "u2"] and resource.level in [1, 2, 3];
forbid "emergency-stairs" action open on stair unless context.emergency;
permit "stairs" action open on stair when true;
"#;

static SETS: LazyLock<(PolicySet, PolicySet)> = LazyLock::new(|| {
    let schema = Schema::parse(SCHEMA, &PolicyLimits::DEFAULT).expect("schema");
    let full = compile(&schema, POLICY, &PolicyLimits::DEFAULT).expect("policy").policy;
    let tiny = compile(&schema, POLICY, &PolicyLimits::DEFAULT.with_max_steps(12))
        .expect("policy")
        .policy;
    (full, tiny)
});

const WORDS: &[&str] = &[
    "staff",
    "security",
    "guard",
    "lobby",
    "office",
    "lab",
    "d1",
    "d2",
    "d3",
    "u1",
    "u2",
    "affirming",
    "warning",
    "",
];
const ACTIONS: &[&str] = &["open", "unlock", "hold", "paint"];
const RTYPES: &[&str] = &["door", "gate", "lift", "stair", "hatch", "vault", "bench"];

/// An owned attribute value (the request borrows from it).
#[derive(Debug)]
enum Owned {
    Str(String),
    Int(i64),
    Bool(bool),
    Day(Weekday),
    Strs(Vec<String>),
    Ints(Vec<i64>),
}

fn word(u: &mut Unstructured<'_>) -> Result<String> {
    if u.ratio(7u8, 8u8)? {
        Ok(WORDS[u.choose_index(WORDS.len())?].to_owned())
    } else {
        u.arbitrary()
    }
}

fn small_int(u: &mut Unstructured<'_>) -> Result<i64> {
    if u.ratio(7u8, 8u8)? {
        Ok(i64::from(u.int_in_range(-1i8..=25)?))
    } else {
        u.arbitrary()
    }
}

fn value_of(u: &mut Unstructured<'_>, ty: Type) -> Result<Owned> {
    Ok(match ty {
        Type::String => Owned::Str(word(u)?),
        Type::Int => Owned::Int(small_int(u)?),
        Type::Bool => Owned::Bool(u.arbitrary()?),
        Type::Weekday => Owned::Day(Weekday::from_iso(u.int_in_range(1u8..=7)?).unwrap_or(Weekday::Mon)),
        Type::StringSet => {
            let n = u.int_in_range(0usize..=6)?;
            Owned::Strs((0..n).map(|_| word(u)).collect::<Result<_>>()?)
        }
        Type::IntSet => {
            let n = u.int_in_range(0usize..=6)?;
            Owned::Ints((0..n).map(|_| small_int(u)).collect::<Result<_>>()?)
        }
    })
}

const TYPES: [Type; 6] = [
    Type::String,
    Type::Int,
    Type::Bool,
    Type::Weekday,
    Type::StringSet,
    Type::IntSet,
];

fn request(u: &mut Unstructured<'_>, attrs: &[(String, Type)]) -> Result<(usize, usize, Vec<Option<Owned>>)> {
    let action = u.choose_index(ACTIONS.len())?;
    let rtype = u.choose_index(RTYPES.len())?;
    let mut values = Vec::with_capacity(attrs.len());
    for (_, ty) in attrs {
        values.push(match u.int_in_range(0u8..=9)? {
            0 => None,
            1 => {
                let other = TYPES[u.choose_index(TYPES.len())?];
                Some(value_of(u, other)?)
            }
            _ => Some(value_of(u, *ty)?),
        });
    }
    Ok((action, rtype, values))
}

type Outcome = (Decision, Reason, Vec<String>);

fn run(
    p: &PolicySet,
    action: &str,
    rtype: &str,
    attrs: &[(String, Type)],
    values: &[Option<Owned>],
) -> Option<Outcome> {
    let sets: Vec<Vec<&str>> = values
        .iter()
        .map(|v| match v {
            Some(Owned::Strs(s)) => s.iter().map(String::as_str).collect(),
            _ => Vec::new(),
        })
        .collect();
    let mut req = p.request();
    // A name outside the schema is refused (never matched by `*` rules).
    match req.set_action_name(action) {
        Ok(_) => assert!(p.action(action).is_known()),
        Err(e) => {
            assert_eq!(e, RequestError::UnknownAction);
            assert!(!p.action(action).is_known());
            return None;
        }
    }
    match req.set_resource_type_name(rtype) {
        Ok(_) => assert!(p.resource_type(rtype).is_known()),
        Err(e) => {
            assert_eq!(e, RequestError::UnknownResourceType);
            assert!(!p.resource_type(rtype).is_known());
            return None;
        }
    }
    for (((name, _), v), strs) in attrs.iter().zip(values).zip(&sets) {
        let value = match v {
            None => continue,
            Some(Owned::Str(s)) => Value::String(s),
            Some(Owned::Int(n)) => Value::Int(*n),
            Some(Owned::Bool(b)) => Value::Bool(*b),
            Some(Owned::Day(d)) => Value::Weekday(*d),
            Some(Owned::Strs(_)) => Value::StringSet(strs),
            Some(Owned::Ints(v)) => Value::IntSet(v),
        };
        req.set_named(name, value).expect("declared attribute");
    }
    let effect = |id: &str| p.rules().find(|(r, _)| *r == id).map(|(_, e)| e).expect("rule id");

    let r = req.evaluate();
    let out: Outcome = (r.decision(), r.reason(), r.rules().map(str::to_owned).collect());
    let errors: Vec<(String, Effect)> = r.errors().map(|e| (e.rule.to_owned(), e.effect)).collect();
    match out.1 {
        Reason::Permitted => {
            assert_eq!(out.0, Decision::Allow);
            assert!(!out.2.is_empty() && out.2.iter().all(|id| effect(id) == Effect::Permit));
            assert!(
                errors.iter().all(|(_, e)| *e == Effect::Permit),
                "an erroring forbid must deny"
            );
        }
        Reason::Forbidden => {
            assert_eq!(out.0, Decision::Deny);
            assert!(!out.2.is_empty() && out.2.iter().all(|id| effect(id) == Effect::Forbid));
        }
        _ => {
            assert_eq!(out.0, Decision::Deny);
            assert!(out.2.is_empty());
        }
    }
    let s = req.evaluate_scan();
    let scan: Outcome = (s.decision(), s.reason(), s.rules().map(str::to_owned).collect());
    if scan.1 == Reason::LimitExceeded || out.1 == Reason::LimitExceeded {
        // The two paths spend steps differently (the scan evaluates more rules, the
        // index pays for its lookups), so one may run out where the other does not.
        // Running out always denies.
        for o in [&scan, &out] {
            if o.1 == Reason::LimitExceeded {
                assert_eq!(o.0, Decision::Deny);
            }
        }
    } else {
        assert_eq!(scan, out, "index and scan disagree");
    }
    let e = req.explain();
    assert_eq!(
        (
            e.decision,
            e.reason,
            e.deciding.iter().map(|s| s.to_string()).collect::<Vec<_>>()
        ),
        out
    );
    for t in &e.rules {
        if t.effect == Effect::Forbid && matches!(t.outcome, RuleOutcome::Error { .. } | RuleOutcome::Applies) {
            assert_eq!(e.decision, Decision::Deny, "fail closed");
        }
    }
    let _ = e.to_string();
    Some(out)
}

fuzz_target!(|data: &[u8]| {
    let (full, tiny) = &*SETS;
    let attrs: Vec<(String, Type)> = full.schema().attributes().map(|(n, t)| (n.to_owned(), t)).collect();
    let mut u = Unstructured::new(data);
    let Ok((action, rtype, values)) = request(&mut u, &attrs) else {
        return;
    };
    let (action, rtype) = (ACTIONS[action], RTYPES[rtype]);
    let out = run(full, action, rtype, &attrs, &values);
    let limited = run(tiny, action, rtype, &attrs, &values);
    assert_eq!(out.is_some(), limited.is_some());
    let (Some(out), Some(limited)) = (out, limited) else {
        return;
    };
    if limited.1 == Reason::LimitExceeded {
        assert_eq!(limited.0, Decision::Deny);
    } else {
        assert_eq!(limited, out, "a decision within the budget is the same decision");
    }
});
