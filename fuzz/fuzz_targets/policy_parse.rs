//! Fuzz target `policy_parse`: arbitrary text through the policy language.
//!
//! The text is parsed as a schema, and compiled against a fixed schema and against
//! an empty one (then its own declarations are the schema). Invariants: no panic,
//! no stack overflow (the parser's depth limit); every diagnostic has a position
//! inside the text and the right severity; compiling twice gives the same digest;
//! what compiles decides the same with and without the index, and as explained.
#![no_main]

use std::sync::LazyLock;

use citysec_policy::{Diagnostic, PolicyLimits, PolicySet, Schema, Severity, Type, Value, Weekday, compile};
use libfuzzer_sys::fuzz_target;

const SCHEMA: &str = "
action open, unlock, hold;
resource door, gate;
subject.id: string;
subject.roles: set<string>;
subject.level: int;
subject.clearances: set<int>;
resource.id: string;
resource.zone: string;
context.hour: int;
context.weekday: weekday;
context.emergency: bool;
";

static FIXED: LazyLock<Schema> =
    LazyLock::new(|| Schema::parse(SCHEMA, &PolicyLimits::DEFAULT).expect("the fixed schema parses"));

fn check_diagnostic(d: &Diagnostic, src: &str, severity: Severity) {
    assert_eq!(d.severity(), severity, "{d}");
    let lines = src.lines().count().max(1) + 1;
    assert!(d.line >= 1 && (d.line as usize) <= lines, "{d}");
    assert!(d.column >= 1, "{d}");
    let _ = d.to_string();
}

/// (decision, reason, deciding rules) by the index, by the scan and by explain.
fn decide_three_ways(p: &PolicySet, req: &mut citysec_policy::Request<'_, '_>) {
    let a = {
        let r = req.evaluate();
        (
            r.decision(),
            r.reason(),
            r.rules().map(str::to_owned).collect::<Vec<_>>(),
        )
    };
    let b = {
        let r = req.evaluate_scan();
        (
            r.decision(),
            r.reason(),
            r.rules().map(str::to_owned).collect::<Vec<_>>(),
        )
    };
    assert_eq!(a, b, "index and scan disagree");
    let e = req.explain();
    assert_eq!((e.decision, e.reason), (a.0, a.1));
    assert_eq!(e.deciding.iter().map(|s| s.to_string()).collect::<Vec<_>>(), a.2);
    assert!(e.rules.len() + e.not_considered == p.len());
    let _ = e.to_string();
}

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else { return };
    let limits = PolicyLimits::DEFAULT;
    if let Err(diags) = Schema::parse(src, &limits) {
        assert!(!diags.is_empty());
        diags.iter().for_each(|d| check_diagnostic(d, src, Severity::Error));
    }
    for schema in [&*FIXED, &Schema::new()] {
        let compiled = match compile(schema, src, &limits) {
            Ok(c) => c,
            Err(diags) => {
                assert!(!diags.is_empty());
                diags.iter().for_each(|d| check_diagnostic(d, src, Severity::Error));
                continue;
            }
        };
        compiled
            .warnings
            .iter()
            .for_each(|d| check_diagnostic(d, src, Severity::Warning));
        let p = &compiled.policy;
        let again = compile(schema, src, &limits).expect("compiles twice");
        assert_eq!(p.digest(), again.policy.digest(), "compilation is deterministic");

        // Nothing set: every rule that reads an attribute errors.
        let mut req = p.request();
        decide_three_ways(p, &mut req);
        // Every attribute set to a value of its type, for each action and resource type.
        let strs = ["staff", "lobby"];
        let ints = [1i64, 9];
        let actions: Vec<String> = p
            .schema()
            .actions()
            .map(str::to_owned)
            .chain(["other".into()])
            .collect();
        let rtypes: Vec<String> = p
            .schema()
            .resource_types()
            .map(str::to_owned)
            .chain(["other".into()])
            .collect();
        let attrs: Vec<(String, Type)> = p.schema().attributes().map(|(n, t)| (n.to_owned(), t)).collect();
        for (name, ty) in &attrs {
            let v = match ty {
                Type::String => Value::String("lobby"),
                Type::Int => Value::Int(9),
                Type::Bool => Value::Bool(true),
                Type::Weekday => Value::Weekday(Weekday::Tue),
                Type::StringSet => Value::StringSet(&strs),
                Type::IntSet => Value::IntSet(&ints),
            };
            req.set_named(name, v).expect("declared attribute");
        }
        for a in actions.iter().take(4) {
            for r in rtypes.iter().take(4) {
                // Names outside the schema are refused; only declared ones are decided.
                if req.set_action_name(a).is_err() || req.set_resource_type_name(r).is_err() {
                    continue;
                }
                decide_three_ways(p, &mut req);
            }
        }
    }
});
