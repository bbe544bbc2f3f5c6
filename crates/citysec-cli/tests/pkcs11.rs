//! `pkcs11:` key URIs through the CLI, against a real SoftHSM2 token: every
//! signing command signs with a token key that a public key file verifies; the
//! refusals exit 1 or 2 with a clear message and write nothing. Needs the tokens
//! and environment of `crates/citysec-pkcs11/softhsm-env.sh`; built only with the
//! `softhsm-tests` feature (`.ci/run` turns it on).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed unwrap or index is a failed test"
)]

use std::path::Path;

mod common;
use common::{citysec, p, text};

const TOKEN: &str = "citysec-test";

/// SoftHSM2's file store is not safe for two processes writing one token at
/// once, so the tests of this file take turns.
static TOKEN_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn take_turn() -> std::sync::MutexGuard<'static, ()> {
    TOKEN_LOCK.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
const NOW: &str = "1767000000";
const NONCE: &str = "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a";

fn uri(object: &str) -> String {
    format!("pkcs11:token={TOKEN};object={object}")
}

/// A `--key` value, the environment it runs in, the exit code and a part of the
/// message expected.
type Case<'a> = (String, &'a [(&'a str, &'a str)], i32, &'a str);

/// Runs the CLI and asserts exit 0.
fn ok(args: &[&str]) -> String {
    let (code, out, err) = text(&citysec(args));
    assert_eq!(code, 0, "{args:?}\nstdout: {out}\nstderr: {err}");
    out
}

/// A key pair made in the token, its public key written to `public`.
fn token_key(alg: &str, object: &str, public: &Path) {
    let out = ok(&[
        "key",
        "generate",
        "--alg",
        alg,
        "--pkcs11",
        &uri(object),
        "--out",
        p(public),
    ]);
    assert!(
        out.contains(&format!(
            "in the token: pkcs11:token={TOKEN};object={object};type=private"
        )),
        "{out}"
    );
}

#[test]
fn every_signing_command_takes_a_token_key() {
    let _turn = take_turn();
    let d = tempfile::tempdir().unwrap();
    let f = |n: &str| d.path().join(n);
    let iss = "https://issuer.city.example";

    // A credential and a status list from a token issuer key (EdDSA).
    token_key("EdDSA", "cli-issuer", &f("iss.pub"));
    std::fs::write(
        f("claims.json"),
        format!(r#"{{"iss": "{iss}", "sub": "alice", "aud": ["doors"], "exp": 1767229200}}"#),
    )
    .unwrap();
    ok(&[
        "credential",
        "issue",
        "--key",
        &uri("cli-issuer"),
        "--claims",
        p(&f("claims.json")),
        "--out",
        p(&f("cred")),
    ]);
    let out = ok(&[
        "credential",
        "verify",
        "--trust",
        p(&f("iss.pub")),
        "--aud",
        "doors",
        "--now",
        NOW,
        p(&f("cred")),
    ]);
    assert!(out.contains("\"sub\": \"alice\""), "{out}");
    ok(&[
        "credential",
        "status",
        "new",
        "--key",
        &uri("cli-issuer"),
        "--iss",
        iss,
        "--uri",
        "https://issuer.city.example/status/1",
        "--size",
        "64",
        "--now",
        NOW,
        "--out",
        p(&f("list")),
    ]);
    ok(&["inspect", p(&f("list")), "--key", p(&f("iss.pub"))]);

    // A policy bundle from a token key (ES256).
    token_key("ES256", "cli-policy", &f("policy.pub"));
    std::fs::write(f("schema"), "action open; resource door; subject.badge: string;").unwrap();
    std::fs::write(
        f("policy"),
        r#"permit "b" action open on door when subject.badge == "7";"#,
    )
    .unwrap();
    ok(&[
        "policy",
        "bundle",
        "--key",
        &uri("cli-policy"),
        "--version",
        "2",
        "--scope",
        "site:a",
        "--issued-at",
        "1790000000",
        "--schema",
        p(&f("schema")),
        p(&f("policy")),
        "--out",
        p(&f("bundle")),
    ]);
    ok(&[
        "policy",
        "verify-bundle",
        "--trust",
        p(&f("policy.pub")),
        p(&f("bundle")),
    ]);

    // Evidence from a token device key, endorsed by a token manufacturer key,
    // appraised into a result signed by a token verifier key.
    token_key("ES256", "cli-device", &f("device.pub"));
    token_key("EdDSA", "cli-oem", &f("oem.pub"));
    token_key("EdDSA", "cli-av", &f("av.pub"));
    std::fs::write(
        f("device.json"),
        r#"{"ueid": "02001b63000042", "hwmodel": "door-ctl-2", "swversion": "1.4.2", "dbgstat": "disabled-permanently", "oemboot": true}"#,
    )
    .unwrap();
    std::fs::write(
        f("ref.json"),
        r#"{"hwmodel": "door-ctl-2", "min_version": "1.4.0", "accepted_versions": ["1.4.2"]}"#,
    )
    .unwrap();
    ok(&[
        "attest",
        "evidence",
        "--key",
        &uri("cli-device"),
        "--claims",
        p(&f("device.json")),
        "--nonce",
        NONCE,
        "--out",
        p(&f("ev")),
    ]);
    ok(&[
        "attest",
        "endorse",
        "--key",
        &uri("cli-oem"),
        "--iss",
        "https://oem.example",
        "--device",
        p(&f("device.pub")),
        "--ueid",
        "02001b63000042",
        "--hwmodel",
        "door-ctl-2",
        "--out",
        p(&f("endorsement")),
    ]);
    ok(&[
        "attest",
        "appraise",
        "--endorsement",
        p(&f("endorsement")),
        "--reference",
        p(&f("ref.json")),
        "--nonce",
        NONCE,
        "--trust",
        p(&f("oem.pub")),
        "--key",
        &uri("cli-av"),
        "--iss",
        "https://attest.city.example",
        "--aud",
        "door-controllers",
        "--out",
        p(&f("result")),
        p(&f("ev")),
    ]);
    ok(&[
        "attest",
        "verify-result",
        "--trust",
        p(&f("av.pub")),
        "--aud",
        "door-controllers",
        p(&f("result")),
    ]);
    // The public key of a token key, by URI.
    ok(&["key", "public", &uri("cli-av"), "--out", p(&f("av2.pub"))]);
    assert_eq!(
        std::fs::read(f("av2.pub")).unwrap(),
        std::fs::read(f("av.pub")).unwrap()
    );
}

#[test]
fn refusals_exit_1_or_2_and_sign_nothing() {
    let _turn = take_turn();
    let d = tempfile::tempdir().unwrap();
    let f = |n: &str| d.path().join(n);
    token_key("EdDSA", "cli-guarded", &f("g.pub"));
    std::fs::write(
        f("claims.json"),
        r#"{"iss": "https://i.example", "sub": "a", "aud": ["doors"], "exp": 1767229200}"#,
    )
    .unwrap();
    let issue = |key: &str, env: &[(&str, &str)]| {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_citysec"));
        c.args([
            "credential",
            "issue",
            "--key",
            key,
            "--claims",
            p(&f("claims.json")),
            "--out",
            p(&f("cred")),
        ]);
        for (k, v) in env {
            c.env(k, v);
        }
        text(&c.output().unwrap())
    };
    let cases: [Case<'_>; 7] = [
        (
            uri("cli-guarded"),
            &[("CITYSEC_PKCS11_PIN", "0000")],
            1,
            "the token refused the PIN",
        ),
        (
            format!("{}?pin-value=1234", uri("cli-guarded")),
            &[],
            2,
            "carries `pin-value`",
        ),
        (
            format!("{}?module-path=/tmp/x.so", uri("cli-guarded")),
            &[],
            2,
            "names a module",
        ),
        (
            uri("no-such-key"),
            &[],
            2,
            "no private key in the token matches the URI",
        ),
        (
            "pkcs11:token=no-such-token;object=k".to_owned(),
            &[],
            2,
            "no PKCS#11 token matches the URI",
        ),
        (
            uri("cli-guarded"),
            &[("CITYSEC_PKCS11_MODULE", "/nonexistent/module.so")],
            2,
            "PKCS#11 module",
        ),
        ("pkcs11:token=a;token=b".to_owned(), &[], 2, "an attribute given twice"),
    ];
    for (key, env, code, msg) in cases {
        let (got, _, err) = issue(&key, env);
        assert_eq!(got, code, "{key}: {err}");
        assert!(err.contains(msg), "{key}: {err}");
        assert!(!f("cred").exists(), "{key}: a credential was written");
    }
    // A key of another type (P-384, imported by softhsm-env.sh).
    let (got, _, err) = issue(&uri("wrong-type-p384"), &[]);
    assert_eq!((got, err.contains("not an Ed25519 or P-256 key")), (2, true), "{err}");

    // Symmetric, X25519 and master keys stay in files.
    std::fs::write(f("r.json"), b"{}").unwrap();
    for args in [
        &[
            "telemetry",
            "seal",
            "--master",
            &uri("m"),
            "--device",
            "s",
            "--seq",
            "1",
            "--topic",
            "t",
            p(&f("r.json")),
            p(&f("e")),
        ][..],
        &[
            "telemetry",
            "seal",
            "--to",
            &uri("x"),
            "--topic",
            "t",
            p(&f("r.json")),
            p(&f("e")),
        ][..],
        &["key", "generate", "--alg", "X25519", "--pkcs11", &uri("x")][..],
        &["key", "generate", "--alg", "A256GCM", "--pkcs11", &uri("x")][..],
    ] {
        let (got, _, err) = text(&citysec(args));
        assert_eq!(got, 2, "{args:?}: {err}");
        assert!(
            err.contains("stay in files") || err.contains("stays in a file"),
            "{args:?}: {err}"
        );
        assert!(!f("e").exists());
    }
}
