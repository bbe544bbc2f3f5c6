//! `citysec policy eval`: requests are refused (exit 1, nothing decided) when they
//! repeat a JSON key or name an action, resource type or attribute the schema does
//! not declare.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed unwrap or index is a failed test"
)]

use std::process::{Command, Output};

const SCHEMA: &str = "\
action open, unlock;
resource door, gate;
subject.roles: set<string>;
resource.zone: string;
context.threat_level: int;
";

const POLICY: &str = r#"
permit "staff" action open on door when subject.roles has "staff";
permit "any-gate" action * on gate;
permit "open-anything" action open on *;
forbid "lockdown" action * on * when context.threat_level >= 3 unless subject.roles has "security";
"#;

fn eval(request: &str) -> (i32, String, String) {
    let d = tempfile::tempdir().unwrap();
    let path = |n: &str| d.path().join(n).to_str().unwrap().to_owned();
    std::fs::write(path("city.schema"), SCHEMA).unwrap();
    std::fs::write(path("doors.policy"), POLICY).unwrap();
    std::fs::write(path("req.json"), request).unwrap();
    let o: Output = Command::new(env!("CARGO_BIN_EXE_citysec"))
        .args([
            "policy",
            "eval",
            "--policy",
            &path("doors.policy"),
            "--schema",
            &path("city.schema"),
            "--request",
            &path("req.json"),
        ])
        .env("NO_COLOR", "1")
        .current_dir(d.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr).replace(&path("req.json"), "req.json");
    (
        o.status.code().unwrap(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr,
    )
}

fn refused(msg: &str) -> (i32, String, String) {
    (1, String::new(), format!("rejected: request `req.json`: {msg}\n"))
}

#[test]
fn the_lockdown_holds_and_duplicate_keys_are_refused() {
    let ok = r#"{"action": "open", "resource_type": "door", "subject": {"roles": ["staff"]}, "context": {"threat_level": 5}}"#;
    let (code, stdout, _) = eval(ok);
    assert_eq!(code, 1);
    // Compared as JSON: the key order of the output depends on serde_json's
    // features, which a workspace build unifies.
    let got: serde_json::Value = serde_json::from_str(stdout.lines().next().unwrap_or("")).unwrap();
    assert_eq!(
        got,
        serde_json::json!({"decision": "deny", "errors": [], "reason": "Forbidden", "rules": ["lockdown"]}),
        "{stdout}"
    );
    // With serde_json's last-one-wins, this would read threat_level 0 and allow.
    assert_eq!(
        eval(
            r#"{"action":"open","resource_type":"door","subject":{"roles":["staff"]},"context":{"threat_level":5,"threat_level":0}}"#
        ),
        refused("duplicate key \"threat_level\" at line 1 column 112")
    );
    // Top level, nested deeper, and equal only after unescaping.
    assert_eq!(
        eval(r#"{"action":"unlock","resource_type":"door","action":"open"}"#),
        refused("duplicate key \"action\" at line 1 column 50")
    );
    assert_eq!(
        eval(
            "{\"action\":\"open\",\"resource_type\":\"door\",\n \"subject\":{\"roles\":[\"staff\"],\"r\\u006fles\":[]}}"
        ),
        refused("duplicate key \"roles\" at line 2 column 42")
    );
    assert_eq!(
        eval(r#"{"action":"open","resource_type":"door","subject":{},"subject":{"roles":["staff"]}}"#),
        refused("duplicate key \"subject\" at line 1 column 62")
    );
}

#[test]
fn undeclared_names_are_refused_not_matched_by_star() {
    // `paint` is not declared: `any-gate` (action *) must not allow it.
    assert_eq!(
        eval(r#"{"action": "paint", "resource_type": "gate"}"#),
        refused("action `paint`: the schema declares no such action")
    );
    // `bench` is not declared: `open-anything` (on *) must not allow it.
    assert_eq!(
        eval(r#"{"action": "open", "resource_type": "bench"}"#),
        refused("resource type `bench`: the schema declares no such resource type")
    );
    assert_eq!(
        eval(r#"{"action": "open", "resource_type": "door", "context": {"threat": 5}}"#),
        refused("attribute `context.threat`: the schema declares no such attribute")
    );
    // Declared names decide as before: `*` rules cover every declared name.
    let (code, stdout, _) = eval(r#"{"action": "unlock", "resource_type": "gate", "context": {"threat_level": 0}}"#);
    assert_eq!(
        (code, stdout.contains(r#""rules":["any-gate"]"#)),
        (0, true),
        "{stdout}"
    );
    let (code, stdout, _) = eval(r#"{"action": "open", "resource_type": "gate", "context": {"threat_level": 0}}"#);
    assert_eq!(
        (code, stdout.contains(r#""rules":["any-gate","open-anything"]"#)),
        (0, true),
        "{stdout}"
    );
    let (code, stdout, _) = eval(r#"{"action": "unlock", "resource_type": "door", "context": {"threat_level": 0}}"#);
    assert_eq!((code, stdout.contains(r#""decision":"deny""#)), (1, true), "{stdout}");
}
