//! `citysec credential ...` end to end: issue, verify (JSON out, exit codes),
//! status lists, challenge and presentation.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed unwrap or index is a failed test"
)]

use std::path::Path;
use std::process::Output;

mod common;
use common::{citysec, p};

fn ok(o: &Output) -> String {
    assert_eq!(
        o.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn rejected(o: &Output) -> String {
    assert_eq!(
        o.status.code(),
        Some(1),
        "stdout: {}",
        String::from_utf8_lossy(&o.stdout)
    );
    String::from_utf8(o.stderr.clone()).unwrap()
}

const ISS: &str = "https://issuer.city.example";
const URI: &str = "https://issuer.city.example/status/1";
const NOW: &str = "1767000000";

#[test]
fn issue_verify_revoke_present() {
    let d = tempfile::tempdir().unwrap();
    let (key, public) = (d.path().join("iss.key"), d.path().join("iss.pub"));
    let (phone, phone_pub) = (d.path().join("phone.key"), d.path().join("phone.pub"));
    ok(&citysec(&[
        "key",
        "generate",
        "--alg",
        "EdDSA",
        "--kid",
        "iss-1",
        "--out",
        p(&key),
    ]));
    ok(&citysec(&["key", "public", p(&key), "--out", p(&public)]));
    ok(&citysec(&[
        "key",
        "generate",
        "--alg",
        "ES256",
        "--kid",
        "phone-1",
        "--out",
        p(&phone),
    ]));
    ok(&citysec(&["key", "public", p(&phone), "--out", p(&phone_pub)]));

    let claims = d.path().join("claims.json");
    std::fs::write(
        &claims,
        format!(
            r#"{{"iss": "{ISS}", "sub": "staff-17", "aud": ["door-controllers", "lifts"], "exp": 1767229200,
                "iat": 1766000000, "cti": "0b71", "roles": ["staff"], "zones": ["lobby"], "kind": "staff",
                "schedule": [{{"days": ["mon", "fri"], "start": "07:30", "end": "19:00"}}],
                "status": {{"idx": 5, "uri": "{URI}"}}, "-70001": "badge-7731", "floor": 3}}"#
        ),
    )
    .unwrap();
    let cred = d.path().join("cred.cwt");
    ok(&citysec(&[
        "credential",
        "issue",
        "--key",
        p(&key),
        "--claims",
        p(&claims),
        "--holder",
        p(&phone_pub),
        "--out",
        p(&cred),
    ]));
    let list = d.path().join("list.cwt");
    ok(&citysec(&[
        "credential",
        "status",
        "new",
        "--key",
        p(&key),
        "--iss",
        ISS,
        "--uri",
        URI,
        "--size",
        "64",
        "--now",
        NOW,
        "--out",
        p(&list),
    ]));

    let verify = |extra: &[&str]| {
        let mut args = vec![
            "credential",
            "verify",
            "--trust",
            p(&public),
            "--now",
            NOW,
            "--status",
            p(&list),
        ];
        args.extend_from_slice(extra);
        citysec(&args)
    };
    let out = ok(&verify(&["--aud", "door-controllers", p(&cred)]));
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["iss"], ISS);
    assert_eq!(json["sub"], "staff-17");
    assert_eq!(json["aud"], serde_json::json!(["door-controllers", "lifts"]));
    assert_eq!(json["exp"], 1_767_229_200);
    assert_eq!(json["cti"], "0b71");
    assert_eq!(json["roles"], serde_json::json!(["staff"]));
    assert_eq!(json["kind"], "staff");
    assert_eq!(json["schedule"][0]["days"], serde_json::json!(["mon", "fri"]));
    assert_eq!(json["schedule"][0]["start"], "07:30");
    assert_eq!(json["status"]["idx"], 5);
    assert_eq!(json["-70001"], "badge-7731");
    assert_eq!(json["floor"], 3);
    assert_eq!(json["cnf"]["alg"], "ES256");
    assert_eq!(json["cnf"]["kid"], hex::encode("phone-1"));

    // wrong audience, expired, no status list given
    assert!(rejected(&verify(&["--aud", "parking", p(&cred)])).contains("another audience"));
    let late = citysec(&[
        "credential",
        "verify",
        "--trust",
        p(&public),
        "--now",
        "1767300000",
        "--status",
        p(&list),
        p(&cred),
    ]);
    assert!(rejected(&late).contains("expired"));
    let no_list = citysec(&["credential", "verify", "--trust", p(&public), "--now", NOW, p(&cred)]);
    assert!(rejected(&no_list).contains("status unavailable"));

    // revoke entry 5, then the credential is refused; show lists it
    ok(&citysec(&[
        "credential",
        "status",
        "revoke",
        "--key",
        p(&key),
        "--iss",
        ISS,
        "--index",
        "5",
        "--now",
        NOW,
        p(&list),
    ]));
    assert!(rejected(&verify(&["--aud", "door-controllers", p(&cred)])).contains("revoked"));
    let shown: serde_json::Value = serde_json::from_str(&ok(&citysec(&[
        "credential",
        "status",
        "show",
        "--trust",
        p(&public),
        "--iss",
        ISS,
        p(&list),
    ])))
    .unwrap();
    assert_eq!(shown["revoked"], serde_json::json!([5]));
    assert_eq!(shown["entries"], 64);
    assert_eq!(shown["uri"], URI);

    // proof of possession with a fresh list
    let list2 = d.path().join("list2.cwt");
    ok(&citysec(&[
        "credential",
        "status",
        "new",
        "--key",
        p(&key),
        "--iss",
        ISS,
        "--uri",
        URI,
        "--size",
        "64",
        "--now",
        NOW,
        "--out",
        p(&list2),
    ]));
    let (challenge, presentation) = (d.path().join("c.cbor"), d.path().join("p.cbor"));
    ok(&citysec(&[
        "credential",
        "challenge",
        "--reader",
        "door-7",
        "--now",
        NOW,
        "--out",
        p(&challenge),
    ]));
    ok(&citysec(&[
        "credential",
        "present",
        "--key",
        p(&phone),
        "--challenge",
        p(&challenge),
        "--out",
        p(&presentation),
        p(&cred),
    ]));
    let verify_p = |challenge: &Path, now: &str| {
        citysec(&[
            "credential",
            "verify",
            "--trust",
            p(&public),
            "--now",
            now,
            "--status",
            p(&list2),
            "--aud",
            "lifts",
            "--challenge",
            p(challenge),
            p(&presentation),
        ])
    };
    let out = ok(&verify_p(&challenge, "1767000010"));
    assert!(out.contains("staff-17"));
    // the recorded presentation does not answer a new challenge
    let challenge2 = d.path().join("c2.cbor");
    ok(&citysec(&[
        "credential",
        "challenge",
        "--reader",
        "door-7",
        "--now",
        "1767000020",
        "--out",
        p(&challenge2),
    ]));
    assert!(rejected(&verify_p(&challenge2, "1767000021")).contains("another challenge"));
    // and goes stale
    assert!(rejected(&verify_p(&challenge, "1767000100")).contains("challenge expired"));
    // presented with the issuer's key instead of the phone's
    let stolen = d.path().join("stolen.cbor");
    ok(&citysec(&[
        "credential",
        "present",
        "--key",
        p(&key),
        "--challenge",
        p(&challenge),
        "--out",
        p(&stolen),
        p(&cred),
    ]));
    let o = citysec(&[
        "credential",
        "verify",
        "--trust",
        p(&public),
        "--now",
        "1767000010",
        "--status",
        p(&list2),
        "--challenge",
        p(&challenge),
        p(&stolen),
    ]);
    assert!(rejected(&o).contains("key does not match") || rejected(&o).contains("bad signature"));
}

#[test]
fn usage_errors_exit_2() {
    let d = tempfile::tempdir().unwrap();
    let claims = d.path().join("c.json");
    std::fs::write(&claims, r#"{"sub": "no issuer", "exp": 1}"#).unwrap();
    let key = d.path().join("k.key");
    ok(&citysec(&[
        "key",
        "generate",
        "--alg",
        "EdDSA",
        "--kid",
        "k",
        "--out",
        p(&key),
    ]));
    let o = citysec(&[
        "credential",
        "issue",
        "--key",
        p(&key),
        "--claims",
        p(&claims),
        "--out",
        "/dev/null",
    ]);
    assert_eq!(o.status.code(), Some(2));
    std::fs::write(&claims, r#"{"iss": "x", "exp": "tomorrow"}"#).unwrap();
    let o = citysec(&[
        "credential",
        "issue",
        "--key",
        p(&key),
        "--claims",
        p(&claims),
        "--out",
        "/dev/null",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("`exp` must be a non-negative integer"));
    let o = citysec(&["credential", "verify", "--trust", p(&key), "/nonexistent.cwt"]);
    assert_eq!(o.status.code(), Some(2));
    let o = citysec(&["credential", "verify", "missing-trust.cwt"]);
    assert_eq!(o.status.code(), Some(2));
}
