//! Unit tests of the lexer, parser, compiler and evaluator.

use alloc::format;
use alloc::string::{String, ToString as _};
use alloc::vec::Vec;

use crate::*;

const SCHEMA: &str = r#"
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
"#;

const POLICY: &str = r#"
permit "staff-office-hours"
  action open on door
  when subject.roles has "staff"
   and resource.zone in ["lobby", "office"]
   and context.weekday in mon..fri and context.hour in 7..19
   and context.device_trust == "affirming";

forbid "lockdown"
  action * on *
  when context.threat_level >= 3
  unless subject.roles has "security";
"#;

fn schema() -> Schema {
    Schema::parse(SCHEMA, &PolicyLimits::DEFAULT).unwrap()
}

fn compiled(src: &str) -> Compiled {
    match compile(&schema(), src, &PolicyLimits::DEFAULT) {
        Ok(c) => c,
        Err(e) => panic!("{e}"),
    }
}

fn set(src: &str) -> PolicySet {
    compiled(src).policy
}

fn errors(src: &str) -> Vec<Diagnostic> {
    compile(&schema(), src, &PolicyLimits::DEFAULT).unwrap_err().into_vec()
}

fn one_error(src: &str) -> Diagnostic {
    let e = errors(src);
    assert_eq!(e.len(), 1, "{e:?}");
    e.into_iter().next().unwrap()
}

fn ids<'a>(it: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    it.collect()
}

/// A request for the design example that the staff rule allows.
fn office_request<'p>(p: &'p PolicySet, roles: &'p [&'p str]) -> Request<'p, 'p> {
    let mut req = p.request();
    req.set_action_name("open")
        .unwrap()
        .set_resource_type_name("door")
        .unwrap();
    req.set_named("subject.roles", Value::StringSet(roles)).unwrap();
    req.set_named("resource.zone", Value::String("lobby")).unwrap();
    req.set_named("context.weekday", Value::Weekday(Weekday::Tue)).unwrap();
    req.set_named("context.hour", Value::Int(9)).unwrap();
    req.set_named("context.device_trust", Value::String("affirming"))
        .unwrap();
    req.set_named("context.threat_level", Value::Int(0)).unwrap();
    req
}

// ---------------------------------------------------------------- decisions

#[test]
fn design_example_allows_and_lockdown_forbids() {
    let p = set(POLICY);
    let roles = ["staff"];
    let mut req = office_request(&p, &roles);
    let r = req.evaluate();
    assert_eq!((r.decision(), r.reason()), (Decision::Allow, Reason::Permitted));
    assert_eq!(ids(r.rules()), ["staff-office-hours"]);
    assert_eq!(r.errors().count(), 0);

    req.set_named("context.threat_level", Value::Int(3)).unwrap();
    let r = req.evaluate();
    assert_eq!((r.decision(), r.reason()), (Decision::Deny, Reason::Forbidden));
    assert_eq!(ids(r.rules()), ["lockdown"]);

    let sec = ["staff", "security"];
    let mut req = office_request(&p, &sec);
    req.set_named("context.threat_level", Value::Int(5)).unwrap();
    assert_eq!(req.evaluate().decision(), Decision::Allow);
}

#[test]
fn default_deny() {
    let p = set(POLICY);
    let roles = ["visitor"];
    let mut req = office_request(&p, &roles);
    let r = req.evaluate();
    assert_eq!((r.decision(), r.reason()), (Decision::Deny, Reason::NoPermit));
    assert_eq!(r.rules().count(), 0);
    let empty = set("");
    let mut req = empty.request();
    assert_eq!(req.evaluate().reason(), Reason::NoPermit);
}

#[test]
fn erroring_forbid_denies_and_erroring_permit_does_not_permit() {
    let p = set(POLICY);
    let roles = ["staff"];
    let mut req = office_request(&p, &roles);
    req.unset(p.attribute("context.threat_level").unwrap()).unwrap();
    let r = req.evaluate();
    assert_eq!((r.decision(), r.reason()), (Decision::Deny, Reason::Forbidden));
    assert_eq!(ids(r.rules()), ["lockdown"]);
    let errs: Vec<RuleError<'_>> = r.errors().collect();
    assert_eq!(
        errs,
        [RuleError {
            rule: "lockdown",
            effect: Effect::Forbid,
            attribute: "context.threat_level",
            kind: EvalErrorKind::Missing,
        }]
    );

    // A permit that errors does not permit, and is reported.
    let mut req = office_request(&p, &roles);
    req.set_named("context.hour", Value::String("nine")).unwrap();
    let r = req.evaluate();
    assert_eq!((r.decision(), r.reason()), (Decision::Deny, Reason::NoPermit));
    let errs: Vec<RuleError<'_>> = r.errors().collect();
    assert_eq!(
        errs,
        [RuleError {
            rule: "staff-office-hours",
            effect: Effect::Permit,
            attribute: "context.hour",
            kind: EvalErrorKind::WrongType {
                expected: Type::Int,
                found: Type::String,
            },
        }]
    );
}

#[test]
fn forbid_wins_over_permit_regardless_of_order() {
    let a = set(r#"permit "p" action open on door; forbid "f" action open on door when subject.level < 2;"#);
    let b = set(r#"forbid "f" action open on door when subject.level < 2; permit "p" action open on door;"#);
    for p in [&a, &b] {
        let mut req = p.request();
        req.set_action_name("open")
            .unwrap()
            .set_resource_type_name("door")
            .unwrap();
        req.set_named("subject.level", Value::Int(1)).unwrap();
        assert_eq!(ids(req.evaluate().rules()), ["f"]);
        req.set_named("subject.level", Value::Int(2)).unwrap();
        assert_eq!(ids(req.evaluate().rules()), ["p"]);
    }
}

#[test]
fn all_applying_permits_are_listed_in_source_order() {
    let p = set(r#"
        permit "b" action open on door when subject.level >= 1;
        permit "a" action open on * when subject.level >= 2;
        permit "c" action * on door;
        permit "d" action * on *  when subject.level >= 9;
    "#);
    let mut req = p.request();
    req.set_action_name("open")
        .unwrap()
        .set_resource_type_name("door")
        .unwrap();
    req.set_named("subject.level", Value::Int(5)).unwrap();
    assert_eq!(ids(req.evaluate().rules()), ["b", "a", "c"]);
}

#[test]
fn short_circuit_matches_cedar() {
    // `false and <error>` is false, not an error: the forbid does not apply.
    let p = set(r#"forbid "f" action * on * when context.emergency and context.hour > 3; permit "p" action * on *;"#);
    let mut req = p.request();
    req.set_named("context.emergency", Value::Bool(false)).unwrap();
    assert_eq!(req.evaluate().decision(), Decision::Allow);
    // `true and <error>` errors, so the forbid denies.
    req.set_named("context.emergency", Value::Bool(true)).unwrap();
    let r = req.evaluate();
    assert_eq!((r.decision(), r.reason()), (Decision::Deny, Reason::Forbidden));
    // `true or <error>` is true.
    let p = set(r#"permit "p" action * on * when context.emergency or context.hour > 3;"#);
    let mut req = p.request();
    req.set_named("context.emergency", Value::Bool(true)).unwrap();
    assert_eq!(req.evaluate().decision(), Decision::Allow);
    // `<error> or true` errors.
    let p = set(r#"permit "p" action * on * when context.hour > 3 or context.emergency;"#);
    let mut req = p.request();
    req.set_named("context.emergency", Value::Bool(true)).unwrap();
    let r = req.evaluate();
    assert_eq!((r.decision(), r.reason()), (Decision::Deny, Reason::NoPermit));
    assert_eq!(r.errors().count(), 1);
    // `not <error>` errors.
    let p = set(r#"forbid "f" action * on * when not context.emergency; permit "p" action * on *;"#);
    let mut req = p.request();
    assert_eq!(req.evaluate().reason(), Reason::Forbidden);
}

#[test]
fn unless_errors_only_when_when_holds() {
    let p = set(
        r#"forbid "f" action * on * when context.hour < 6 unless subject.roles has "night"; permit "p" action * on *;"#,
    );
    let mut req = p.request();
    req.set_named("context.hour", Value::Int(9)).unwrap();
    assert_eq!(req.evaluate().decision(), Decision::Allow);
    req.set_named("context.hour", Value::Int(3)).unwrap();
    assert_eq!(req.evaluate().reason(), Reason::Forbidden);
    let night = ["night"];
    req.set_named("subject.roles", Value::StringSet(&night)).unwrap();
    assert_eq!(req.evaluate().decision(), Decision::Allow);
}

#[test]
fn operators() {
    let cases: &[(&str, bool)] = &[
        ("subject.level == 3", true),
        ("subject.level != 3", false),
        ("subject.level < 3", false),
        ("subject.level <= 3", true),
        ("subject.level > 2", true),
        ("subject.level >= 4", false),
        ("subject.level in [1, 3, 5]", true),
        ("subject.level in [1, 5]", false),
        ("subject.level in 3..3", true),
        ("subject.level in -10..2", false),
        ("subject.id == \"alice\"", true),
        ("subject.id != \"alice\"", false),
        ("subject.id in [\"bob\", \"alice\"]", true),
        ("subject.id == subject.home", false),
        ("resource.zone == subject.home", true),
        ("resource.zone in subject.zones", true),
        ("subject.id in subject.zones", false),
        ("subject.zones has resource.zone", true),
        ("subject.zones has \"roof\"", false),
        ("\"north\" in subject.zones", true),
        ("subject.clearances has 4", true),
        ("subject.clearances has subject.level", false),
        ("subject.level in subject.clearances", false),
        ("context.weekday == sat", true),
        ("context.weekday != sat", false),
        ("context.weekday in mon..fri", false),
        ("context.weekday in fri..mon", true),
        ("context.weekday in [sun, sat]", true),
        ("context.emergency", false),
        ("not context.emergency", true),
        ("context.emergency == false", true),
        ("true", true),
        ("false", false),
        ("not (subject.level == 3 and subject.id == \"alice\")", false),
        ("subject.level == 1 or subject.id == \"alice\"", true),
        ("(subject.level == 1 or subject.level == 3) and not false", true),
    ];
    let zones = ["north", "south"];
    let clearances = [4i64, 7];
    for (cond, want) in cases {
        let p = set(&format!("permit \"r\" action * on * when {cond};"));
        let mut req = p.request();
        req.set_named("subject.level", Value::Int(3)).unwrap();
        req.set_named("subject.id", Value::String("alice")).unwrap();
        req.set_named("subject.home", Value::String("north")).unwrap();
        req.set_named("resource.zone", Value::String("north")).unwrap();
        req.set_named("subject.zones", Value::StringSet(&zones)).unwrap();
        req.set_named("subject.clearances", Value::IntSet(&clearances)).unwrap();
        req.set_named("context.weekday", Value::Weekday(Weekday::Sat)).unwrap();
        req.set_named("context.emergency", Value::Bool(false)).unwrap();
        assert_eq!(req.evaluate().is_allowed(), *want, "{cond}");
        assert_eq!(req.evaluate_scan().is_allowed(), *want, "{cond} (scan)");
    }
}

#[test]
fn weekday_ranges_wrap() {
    let mask = |a: Weekday, b: Weekday| a.range_mask(b);
    assert_eq!(mask(Weekday::Mon, Weekday::Fri), 0b001_1111);
    assert_eq!(mask(Weekday::Fri, Weekday::Mon), 0b111_0001);
    assert_eq!(mask(Weekday::Sun, Weekday::Sun), 0b100_0000);
    assert_eq!(mask(Weekday::Tue, Weekday::Mon), 0b111_1111);
}

#[test]
fn scope_and_unknown_names() {
    let p = set(r#"
        permit "doors" action [open, unlock] on door;
        permit "any-action-gate" action * on gate;
        permit "many" action hold on [door, gate, lift, stair, hatch, vault];
    "#);
    let check = |action: &str, rtype: &str| {
        let mut req = p.request();
        req.set_action_name(action)
            .unwrap()
            .set_resource_type_name(rtype)
            .unwrap();
        let a = ids(req.evaluate().rules()).join(",");
        let b = ids(req.evaluate_scan().rules()).join(",");
        assert_eq!(a, b, "{action} on {rtype}");
        a
    };
    assert_eq!(check("open", "door"), "doors");
    assert_eq!(check("unlock", "door"), "doors");
    assert_eq!(check("hold", "door"), "many");
    assert_eq!(check("hold", "vault"), "many");
    assert_eq!(check("hold", "gate"), "any-action-gate,many");
    assert_eq!(check("open", "hatch"), "");
    assert!(!p.action("paint").is_known());
    assert!(p.resource_type("gate").is_known());
    assert!(!p.resource_type("bench").is_known());
    // An unset action or resource type is "another" one: only `*` rules cover it.
    let mut req = p.request();
    req.set_resource_type_name("gate").unwrap();
    assert_eq!(ids(req.evaluate().rules()), ["any-action-gate"]);
}

#[test]
fn undeclared_action_or_resource_type_is_refused() {
    // Without the refusal, `paint` on a gate would be permitted by `action *`.
    let p = set(r#"
        permit "any-action-gate" action * on gate;
        permit "doors" action open on *;
    "#);
    let mut req = p.request();
    assert_eq!(req.set_action_name("paint").unwrap_err(), RequestError::UnknownAction);
    assert_eq!(
        req.set_resource_type_name("bench").unwrap_err(),
        RequestError::UnknownResourceType
    );
    assert_eq!(
        req.set_action(p.action("paint")).unwrap_err(),
        RequestError::UnknownAction
    );
    assert_eq!(
        req.set_resource_type(p.resource_type("bench")).unwrap_err(),
        RequestError::UnknownResourceType
    );
    // Names are case-sensitive: `Open` is not `open`.
    assert_eq!(req.set_action_name("Open").unwrap_err(), RequestError::UnknownAction);
    assert_eq!(
        RequestError::UnknownAction.to_string(),
        "the schema declares no such action"
    );
    assert_eq!(
        RequestError::UnknownResourceType.to_string(),
        "the schema declares no such resource type"
    );
    // A refused name leaves what was set before.
    req.set_action_name("open")
        .unwrap()
        .set_resource_type_name("gate")
        .unwrap();
    assert!(req.set_action_name("paint").is_err());
    assert!(req.set_resource_type_name("bench").is_err());
    assert_eq!(ids(req.evaluate().rules()), ["any-action-gate", "doors"]);
}

#[test]
fn bare_cr_ends_a_comment() {
    // A comment ends at LF, CRLF or a bare CR: the rule after the CR is live.
    let p = set("permit \"p\" action open on door;\n// note\rforbid \"after-cr\" action * on *;\n");
    assert_eq!(p.len(), 2);
    assert!(p.rules().any(|(id, e)| id == "after-cr" && e == Effect::Forbid));
    let mut req = p.request();
    req.set_action_name("open")
        .unwrap()
        .set_resource_type_name("door")
        .unwrap();
    assert_eq!(ids(req.evaluate().rules()), ["after-cr"]);
    let crlf = set("// note\r\npermit \"p\" action open on door;\r\n// end");
    assert_eq!(crlf.len(), 1);
    // A comment with nothing after it runs to the end of the source.
    assert_eq!(set("permit \"p\" action open on door; // end").len(), 1);
}

#[test]
fn index_skips_rules_by_first_test_and_falls_back_when_missing() {
    let mut src = String::new();
    for i in 0..200 {
        src.push_str(&format!(
            "permit \"door-{i}\" action open on door when resource.id == \"d{i}\" and subject.level >= {};\n",
            i % 5
        ));
    }
    src.push_str("forbid \"zone-x\" action open on door when resource.zone in [\"x\", \"y\"] and context.hour < 6;\n");
    let p = set(&src);
    let mut req = p.request();
    req.set_action_name("open")
        .unwrap()
        .set_resource_type_name("door")
        .unwrap();
    req.set_named("resource.id", Value::String("d137")).unwrap();
    req.set_named("subject.level", Value::Int(4)).unwrap();
    req.set_named("resource.zone", Value::String("lobby")).unwrap();
    let e = req.explain();
    assert_eq!(e.decision, Decision::Allow);
    assert_eq!(e.deciding, ["door-137"]);
    // Only the keyed match was considered: the zone-x forbid is keyed on "x"/"y".
    assert_eq!(e.rules.len(), 1);
    assert_eq!(e.not_considered, 200);

    // resource.id missing: every rule keyed on it is evaluated and errors.
    req.unset(p.attribute("resource.id").unwrap()).unwrap();
    let r = req.evaluate();
    assert_eq!((r.decision(), r.reason()), (Decision::Deny, Reason::NoPermit));
    assert_eq!(r.errors().count(), 200);
    // resource.zone of the wrong type: the keyed forbid errors, so deny.
    req.set_named("resource.id", Value::String("d1")).unwrap();
    req.set_named("resource.zone", Value::Int(7)).unwrap();
    let r = req.evaluate();
    assert_eq!((r.decision(), r.reason()), (Decision::Deny, Reason::Forbidden));
    assert_eq!(ids(r.rules()), ["zone-x"]);
}

#[test]
fn int_keys_index() {
    let p = set(r#"
        permit "l1" action open on door when resource.level == 1;
        permit "l2" action open on door when resource.level in [2, 3] and subject.level > 0;
        permit "l3" action open on door when resource.level in [3];
    "#);
    let mut req = p.request();
    req.set_action_name("open")
        .unwrap()
        .set_resource_type_name("door")
        .unwrap();
    req.set_named("subject.level", Value::Int(1)).unwrap();
    for (level, want) in [(1, "l1"), (2, "l2"), (3, "l2,l3"), (4, "")] {
        req.set_named("resource.level", Value::Int(level)).unwrap();
        assert_eq!(ids(req.evaluate().rules()).join(","), want);
        assert_eq!(ids(req.evaluate_scan().rules()).join(","), want);
    }
}

#[test]
fn step_budget_denies() {
    let limits = PolicyLimits::DEFAULT.with_max_steps(10);
    let p = compile(
        &schema(),
        r#"permit "p" action * on * when subject.roles has "x";"#,
        &limits,
    )
    .unwrap()
    .policy;
    let many: Vec<&str> = (0..20).map(|_| "y").collect();
    let mut req = p.request();
    req.set_named("subject.roles", Value::StringSet(&many)).unwrap();
    let r = req.evaluate();
    assert_eq!((r.decision(), r.reason()), (Decision::Deny, Reason::LimitExceeded));
    let few = ["x"];
    req.set_named("subject.roles", Value::StringSet(&few)).unwrap();
    assert_eq!(req.evaluate().decision(), Decision::Allow);
    let e = req.explain();
    assert_eq!(e.rules.first().map(|r| r.outcome), Some(RuleOutcome::Applies));
}

#[test]
fn explanation_outcomes() {
    let p = set(r#"
        permit "a" action open on door when subject.level > 5;
        permit "b" action open on door when subject.level > 1 unless context.emergency;
        permit "c" action open on door when context.hour < 3;
        permit "d" action open on door;
    "#);
    let mut req = p.request();
    req.set_action_name("open")
        .unwrap()
        .set_resource_type_name("door")
        .unwrap();
    req.set_named("subject.level", Value::Int(3)).unwrap();
    req.set_named("context.emergency", Value::Bool(true)).unwrap();
    let e = req.explain();
    let outcomes: Vec<(&str, RuleOutcome<'_>, Option<&str>)> = e
        .rules
        .iter()
        .map(|r| (r.rule, r.outcome, r.last_test.as_deref()))
        .collect();
    assert_eq!(
        outcomes,
        [
            ("a", RuleOutcome::WhenFalse, Some("subject.level > 5")),
            ("b", RuleOutcome::UnlessTrue, Some("context.emergency")),
            (
                "c",
                RuleOutcome::Error {
                    attribute: "context.hour",
                    kind: EvalErrorKind::Missing
                },
                Some("context.hour < 3")
            ),
            ("d", RuleOutcome::Applies, None),
        ]
    );
    assert_eq!(e.deciding, ["d"]);
    let text = format!("{e}");
    assert!(text.starts_with("allow: permitted by \"d\"\n"), "{text}");
    assert!(
        text.contains("permit \"c\" (line 4): error: context.hour missing from the request"),
        "{text}"
    );
}

#[test]
fn handles_from_another_schema_are_refused() {
    let p = set(POLICY);
    let other = compile(
        &Schema::parse("subject.roles: set<int>;", &PolicyLimits::DEFAULT).unwrap(),
        "",
        &PolicyLimits::DEFAULT,
    )
    .unwrap()
    .policy;
    let foreign = other.attribute("subject.roles").unwrap();
    let mut req = p.request();
    assert_eq!(
        req.set(foreign, Value::Int(1)).unwrap_err(),
        RequestError::ForeignHandle
    );
    assert_eq!(
        req.set_action(other.action("open")).unwrap_err(),
        RequestError::ForeignHandle
    );
    assert_eq!(
        req.set_named("subject.nope", Value::Int(1)).unwrap_err(),
        RequestError::UnknownAttribute
    );
    // Same schema, another set: handles work.
    let p2 = set(r#"permit "x" action * on *;"#);
    let h = p2.attribute("subject.roles").unwrap();
    assert!(req.set(h, Value::StringSet(&[])).is_ok());
}

#[test]
fn digest_is_stable_and_sensitive() {
    let a = set(POLICY);
    let b = set(POLICY);
    assert_eq!(a.digest(), b.digest());
    let c = set(&POLICY.replace("7..19", "7..18"));
    assert_ne!(a.digest(), c.digest());
    // Formatting and comments do not change the compiled form.
    let d = set(&format!("// comment\n{}", POLICY.replace("\n  ", "\n    ")));
    assert_eq!(a.digest(), d.digest());
}

// ---------------------------------------------------------------- diagnostics

#[test]
fn lexer_errors() {
    let d = one_error("permit \"abc action open on door;\npermit \"x\" action * on *;");
    assert_eq!(
        (d.kind, d.line, d.column, d.found.as_str(), d.expected.as_str()),
        (
            DiagnosticKind::UnterminatedString,
            1,
            8,
            "\"abc action open on door;",
            "a closing `\"` before the end of the line"
        )
    );
    let d = one_error("permit \"a\\q\" action * on *;");
    assert_eq!(
        (d.kind, d.column, d.found.as_str()),
        (DiagnosticKind::InvalidEscape, 10, "\\q")
    );
    let d = one_error("permit \"a\" action * on * when subject.level = 3;");
    assert_eq!(
        (d.kind, d.column, d.found.as_str()),
        (DiagnosticKind::UnexpectedCharacter, 45, "=")
    );
    let d = one_error("permit \"a\" action * on * when subject.level == 99999999999999999999;");
    assert_eq!(
        (d.kind, d.found.as_str()),
        (DiagnosticKind::IntegerOutOfRange, "99999999999999999999")
    );
    let d = one_error("permit \"é\" action * on * when subject.level == 3 § ;");
    assert_eq!(
        (d.kind, d.line, d.column, d.found.as_str()),
        (DiagnosticKind::UnexpectedCharacter, 1, 50, "§")
    );
    // i64::MIN is representable.
    set("permit \"m\" action * on * when subject.level > -9223372036854775808;");
}

#[test]
fn syntax_errors_say_what_was_expected() {
    let d = one_error("permit \"a\" action open door;");
    assert_eq!(
        (d.kind, d.column, d.found.as_str(), d.expected.as_str()),
        (
            DiagnosticKind::Syntax,
            24,
            "door",
            "`on` and the resource type the rule covers"
        )
    );
    let d = one_error("permit \"a\" action open on door when subject.level == 3");
    assert_eq!(
        (d.found.as_str(), d.expected.as_str()),
        ("end of input", "`and`, `or`, `unless` or `;` to end the rule")
    );
    let d = one_error("permit a action open on door;");
    assert_eq!(d.expected, "the rule id as a string, e.g. \"staff-office-hours\"");
    let d = one_error("permit \"a\" action open on door when (subject.level == 3;");
    assert_eq!((d.found.as_str(), d.expected.as_str()), (";", "`)`, `and` or `or`"));
    let d = one_error("permit \"a\" action on on door;");
    assert_eq!(d.expected, "an action name, `*` or a list `[open, close]`");
    let d = one_error("permit \"a\" action open on door when subject . level == 3;");
    assert_eq!(
        d.expected,
        "an attribute name written without spaces, e.g. `subject.roles`"
    );
    let d = one_error("permit \"a\" action open on door when subject.level in 3;");
    assert_eq!(d.expected, "`..` and the end of the range, e.g. `7..19` or `mon..fri`");
    let d = one_error("permit \"a\" action open on door when monday == 3;");
    assert_eq!(d.found, "monday");
    let d = one_error("frobnicate;");
    assert_eq!(d.kind, DiagnosticKind::Syntax);
    assert!(d.expected.starts_with("`permit`, `forbid`, or a declaration"));
    // Display shows position, found and expected.
    assert_eq!(
        format!("{}", one_error("\n\n  permit \"a\" action open door;")),
        "3:26: error: syntax error: found `door`, expected `on` and the resource type the rule covers"
    );
}

#[test]
fn semantic_errors() {
    let d = one_error("permit \"a\" action open on door when subject.role has \"x\";");
    assert_eq!(
        (d.kind, d.column, d.found.as_str(), d.note.as_str()),
        (
            DiagnosticKind::UnknownAttribute,
            37,
            "subject.role",
            "did you mean `subject.roles`?"
        )
    );
    let d = one_error("permit \"a\" action opn on door;");
    assert_eq!(
        (d.kind, d.note.as_str()),
        (DiagnosticKind::UnknownAction, "did you mean `open`?")
    );
    let d = one_error("permit \"a\" action open on boat;");
    assert_eq!(
        (d.kind, d.note.as_str()),
        (
            DiagnosticKind::UnknownResourceType,
            "declared: door, gate, lift, stair, hatch, vault"
        )
    );
    let d = one_error("permit \"a\" action open on door when context.hour == \"nine\";");
    assert_eq!(
        (d.kind, d.found.as_str(), d.expected.as_str()),
        (
            DiagnosticKind::TypeMismatch,
            "\"nine\"",
            "an integer (to match context.hour)"
        )
    );
    let d = one_error("permit \"a\" action open on door when subject.roles == \"x\";");
    assert_eq!(d.kind, DiagnosticKind::TypeMismatch);
    let d = one_error("permit \"a\" action open on door when subject.id < \"b\";");
    assert_eq!(
        d.expected,
        "`==` or `!=`: `<` orders integers only, and subject.id is string"
    );
    let d = one_error("permit \"a\" action open on door when subject.level;");
    assert_eq!(d.kind, DiagnosticKind::TypeMismatch);
    let d = one_error("permit \"a\" action open on door when subject.level has 3;");
    assert_eq!(d.kind, DiagnosticKind::TypeMismatch);
    let d = one_error("permit \"a\" action open on door when context.hour in 19..7;");
    assert_eq!((d.kind, d.found.as_str()), (DiagnosticKind::EmptyRange, "19..7"));
    let d = one_error("permit \"a\" action open on door when context.hour in [];");
    assert_eq!(d.kind, DiagnosticKind::EmptyList);
    let d = one_error("permit \"a\" action open on door when context.hour in [1, \"2\"];");
    assert_eq!((d.kind, d.found.as_str()), (DiagnosticKind::TypeMismatch, "\"2\""));
    let d = one_error("permit \"a\" action open on door when subject.level == subject.id;");
    assert_eq!(d.expected, "int attribute (to match subject.level), not string");
    let d = one_error("permit \"\" action open on door;");
    assert_eq!(
        (d.kind, d.expected.as_str()),
        (DiagnosticKind::Syntax, "a non-empty rule id")
    );
    let d = one_error("subject.id: int;");
    assert_eq!(d.kind, DiagnosticKind::DuplicateDeclaration);
    // Several errors are all reported, in source order.
    let e = errors("permit \"a\" action x on door;\npermit \"a\" action open on y;");
    let kinds: Vec<(DiagnosticKind, u32)> = e.iter().map(|d| (d.kind, d.line)).collect();
    assert_eq!(
        kinds,
        [
            (DiagnosticKind::UnknownAction, 1),
            (DiagnosticKind::DuplicateRuleId, 2),
            (DiagnosticKind::UnknownResourceType, 2)
        ]
    );
}

#[test]
fn schema_rejects_rules() {
    let e = Schema::parse("action open; permit \"x\" action * on *;", &PolicyLimits::DEFAULT).unwrap_err();
    assert_eq!(e.first().map(|d| d.kind), Some(DiagnosticKind::RuleInSchema));
}

#[test]
fn declarations_in_the_policy_extend_the_schema() {
    let c = compile(
        &Schema::new(),
        "action open; resource door; subject.badge: string;\npermit \"b\" action open on door when subject.badge == \"7\";",
        &PolicyLimits::DEFAULT,
    )
    .unwrap();
    assert_eq!(c.policy.schema().attribute_type("subject.badge"), Some(Type::String));
    assert_eq!(c.policy.len(), 1);
}

#[test]
fn warnings() {
    let c = compiled(
        r#"
        permit "never-when" action open on door when false;
        permit "never-unless" action open on door unless true or subject.level > 1;
        permit "contradiction" action open on door when context.hour < 7 and context.hour > 19;
        permit "zones" action open on door when resource.zone == "a" and resource.zone in ["b", "c"];
        permit "days" action open on door when context.weekday in mon..fri and context.weekday == sun;
        forbid "never-forbid" action open on gate when context.emergency and not true;
        permit "ok" action open on door when context.hour > 7 and context.hour < 19;
        permit "ok2" action open on door when resource.zone in ["a", "b"] and resource.zone != "a";
        forbid "closed" action [open, unlock] on gate;
        permit "gate" action open on gate when subject.level > 3;
        permit "gate-any" action open on [gate, door];
        "#,
    );
    let w: Vec<(DiagnosticKind, u32, &str)> = c.warnings.iter().map(|d| (d.kind, d.line, d.found.as_str())).collect();
    assert_eq!(
        w,
        [
            (DiagnosticKind::NeverApplies, 2, "\"never-when\""),
            (DiagnosticKind::NeverApplies, 3, "\"never-unless\""),
            (DiagnosticKind::NeverApplies, 4, "\"contradiction\""),
            (DiagnosticKind::NeverApplies, 5, "\"zones\""),
            (DiagnosticKind::NeverApplies, 6, "\"days\""),
            (DiagnosticKind::NeverApplies, 7, "\"never-forbid\""),
            (DiagnosticKind::ShadowedByForbid, 11, "\"gate\""),
        ]
    );
    assert!(c.warnings.iter().all(|d| d.severity() == Severity::Warning));
    let shadow = c.warnings.last().unwrap();
    assert_eq!(
        shadow.note,
        "forbid \"closed\" at line 10 has no condition and covers all its actions and resource types"
    );
    assert!(format!("{shadow}").starts_with("11:9: warning: permit shadowed by an unconditional forbid"));
}

#[test]
fn limits() {
    let limits = PolicyLimits::DEFAULT
        .with_max_rules(2)
        .with_max_list_len(2)
        .with_max_depth(3);
    let c = |src: &str| compile(&schema(), src, &limits).unwrap_err().into_vec().remove(0);
    let d = c("permit \"a\" action * on *; permit \"b\" action * on *; permit \"c\" action * on *;");
    assert_eq!((d.kind, d.column), (DiagnosticKind::TooMany, 53));
    let d = c("permit \"a\" action * on * when subject.level in [1, 2, 3];");
    assert_eq!(d.kind, DiagnosticKind::TooMany);
    assert!(compile(&schema(), "permit \"a\" action * on * when ((not true));", &limits).is_ok());
    let d = c("permit \"a\" action * on * when ((((true))));");
    assert_eq!((d.kind, d.column, d.found.as_str()), (DiagnosticKind::TooDeep, 34, "("));
    let d = c("permit \"a\" action * on * when not not not not true;");
    assert_eq!(
        (d.kind, d.column, d.found.as_str()),
        (DiagnosticKind::TooDeep, 43, "not")
    );
}

#[test]
fn line_and_column_count_characters() {
    assert_eq!(error::line_col("ab\ncdé\nx", 8), (3, 1));
    assert_eq!(error::line_col("ab\ncdé\nx", 7), (2, 4));
    assert_eq!(error::excerpt(&"x".repeat(50)), format!("{}...", "x".repeat(40)));
}

#[test]
fn shadow_check_looks_at_the_first_64_unconditional_forbids() {
    // n forbids without conditions on `door`, then one on `gate`, then a permit on
    // `gate`: the gate forbid shadows it when it is among the first 64.
    let src = |n: usize| {
        let mut s = String::new();
        for i in 0..n {
            s.push_str(&format!("forbid \"f{i}\" action open on door;\n"));
        }
        s.push_str("forbid \"closed\" action open on gate;\npermit \"gate\" action open on gate;\n");
        s
    };
    let shadowed = |n: usize| {
        compiled(&src(n))
            .warnings
            .iter()
            .filter(|d| d.kind == DiagnosticKind::ShadowedByForbid)
            .count()
    };
    assert_eq!(shadowed(63), 1);
    assert_eq!(shadowed(64), 0);
}
