//! `citysec attest verify-result --external-trust`: EARs from another verifier
//! (Veraison's shape: indefinite-length maps, no `aud`, `exp` or `ueid`) read
//! under a config file, printed as JSON, with exit codes and typed refusals.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed unwrap or index is a failed test"
)]

use std::path::{Path, PathBuf};

use citysec::core::{Key, sign1};
use citysec::std_adapters::read_key;
use serde_json::{Value as Json, json};

mod common;
use common::{citysec, p, text};

const NOW: u64 = 1_767_000_000;

/// A key pair made by the CLI: (key file, public key file).
fn keys(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let key = dir.join(format!("{name}.key"));
    let public = dir.join(format!("{name}.pub"));
    let (c, _, e) = text(&citysec(&["key", "generate", "--alg", "EdDSA", "--out", p(&key)]));
    assert_eq!(c, 0, "{e}");
    let (c, _, e) = text(&citysec(&["key", "public", p(&key), "--out", p(&public)]));
    assert_eq!(c, 0, "{e}");
    (key, public)
}

/// An EAR as Veraison writes it, with the `door-ctl` appraisal at `status`, the
/// nonce `6b..6b` (16 bytes), issued at NOW - 10, signed with `key`.
fn ear(key: &Path, status: u8) -> Vec<u8> {
    let mut c = vec![0xbf];
    c.extend_from_slice(&[0x19, 0x01, 0x09, 0x78, 0x1d]);
    c.extend_from_slice(b"tag:ietf.org,2026:rats/ear#04");
    c.extend_from_slice(&[0x06, 0x1a]);
    c.extend_from_slice(&u32::try_from(NOW - 10).unwrap().to_be_bytes());
    c.extend_from_slice(&[0x19, 0x03, 0xec, 0xa2, 0x00, 0x68]);
    c.extend_from_slice(b"veraison");
    c.extend_from_slice(&[0x01, 0x63]);
    c.extend_from_slice(b"0.6");
    c.extend_from_slice(&[0x19, 0x01, 0x0a, 0xa1, 0x68]);
    c.extend_from_slice(b"door-ctl");
    c.extend_from_slice(&[0xbf, 0x19, 0x03, 0xe8, 0x18, status, 0xff]);
    c.extend_from_slice(&[0x0a, 0x50]);
    c.extend_from_slice(&[0x6b; 16]);
    c.push(0xff);
    let Key::Signing(k) = read_key(key).unwrap() else {
        panic!("not a signing key")
    };
    sign1::sign(&*citysec::rustcrypto::PROVIDER.signer(k).unwrap(), &c, b"").unwrap()
}

fn verify(public: &Path, token: &Path, extra: &[&str]) -> (i32, String, String) {
    let now = NOW.to_string();
    let mut args = vec!["attest", "verify-result", "--external-trust", p(public), "--now", &now];
    args.extend_from_slice(extra);
    args.push(p(token));
    text(&citysec(&args))
}

#[test]
fn external_ears_are_read_under_the_config_and_printed() {
    let dir = tempfile::tempdir().unwrap();
    let (key, public) = keys(dir.path(), "veraison");
    let config = dir.path().join("ext.json");
    std::fs::write(
        &config,
        r#"{"audience": "door-controllers", "audience_required": false, "expiry": {"max_age": 300},
            "device_submodule": "door-ctl"}"#,
    )
    .unwrap();
    let good = dir.path().join("good.cbor");
    std::fs::write(&good, ear(&key, 2)).unwrap();
    let nonce = "6b".repeat(16);
    let with_config = ["--config", p(&config), "--nonce", &nonce];

    let (c, out, err) = verify(&public, &good, &with_config);
    assert_eq!(c, 0, "{err}");
    let v: Json = serde_json::from_str(&out).unwrap();
    assert_eq!(
        v,
        json!({
            "kind": "external-ear",
            "profile": "tag:ietf.org,2026:rats/ear#04",
            "status": "affirming",
            "device": {"submodule": "door-ctl", "status": "affirming", "trust_vector": null, "policy_ids": []},
            "submods": {"door-ctl": {"status": "affirming", "trust_vector": null, "policy_ids": []}},
            "verifier_id": {"developer": "veraison", "build": "0.6"},
            "iat": NOW - 10,
            "exp": null,
            "ueid": null,
            "nonce": nonce,
            "aud": [],
        })
    );

    // Contraindicated: printed, exit 1, the status on stderr.
    let bad = dir.path().join("bad.cbor");
    std::fs::write(&bad, ear(&key, 96)).unwrap();
    let (c, out, err) = verify(&public, &bad, &with_config);
    assert_eq!(c, 1);
    assert_eq!(serde_json::from_str::<Json>(&out).unwrap()["status"], "contraindicated");
    assert!(
        err.contains("status contraindicated: device `door-ctl` is contraindicated"),
        "{err}"
    );

    // Without --config: the strict policy, whose device submodule is `device`.
    let (c, _, err) = verify(&public, &good, &["--aud", "door-controllers", "--nonce", &nonce]);
    assert_eq!(c, 1);
    assert!(err.contains("EAR has no appraisal for the device submodule"), "{err}");
    // The audience required (the default), and the EAR names none.
    let strict = dir.path().join("strict.json");
    std::fs::write(
        &strict,
        r#"{"audience": "door-controllers", "device_submodule": "door-ctl"}"#,
    )
    .unwrap();
    let (c, _, err) = verify(&public, &good, &["--config", p(&strict), "--nonce", &nonce]);
    assert_eq!(c, 1);
    assert!(
        err.contains("EAR names no audience and the policy requires one"),
        "{err}"
    );
    // Another nonce; no binding at all; too old; another key.
    let (c, _, err) = verify(&public, &good, &["--config", p(&config), "--nonce", &"11".repeat(16)]);
    assert_eq!(c, 1);
    assert!(err.contains("EAR nonce is not the one issued"), "{err}");
    let (c, _, err) = verify(&public, &good, &["--config", p(&config)]);
    assert_eq!(c, 1);
    assert!(err.contains("EAR binds no device"), "{err}");
    let later = (NOW + 300).to_string();
    let (c, _, err) = text(&citysec(&[
        "attest",
        "verify-result",
        "--external-trust",
        p(&public),
        "--config",
        p(&config),
        "--nonce",
        &nonce,
        "--now",
        &later,
        p(&good),
    ]));
    assert_eq!(c, 1);
    assert!(err.contains("EAR is older than the policy's maximum age"), "{err}");
    let (_, stranger) = keys(dir.path(), "stranger");
    let (c, _, err) = verify(&stranger, &good, &with_config);
    assert_eq!(c, 1);
    assert!(err.contains("signature"), "{err}");

    // An EAR as JWT.
    let jwt = dir.path().join("ear.jwt");
    std::fs::write(&jwt, "eyJhbGciOiJFUzI1NiJ9.eyJlYXJfc3RhdHVzIjoyfQ.c2ln\n").unwrap();
    let (c, _, err) = verify(&public, &jwt, &with_config);
    assert_eq!(c, 1);
    assert!(err.contains("EAR as JWT is not accepted (COSE only)"), "{err}");
}

#[test]
fn external_config_mistakes_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (key, public) = keys(dir.path(), "veraison");
    let good = dir.path().join("good.cbor");
    std::fs::write(&good, ear(&key, 2)).unwrap();
    for (config, message) in [
        (r#"{"audiance": "x"}"#, "unknown field `audiance`"),
        (r#"{"audience": "x", "expiry": "never"}"#, "`expiry` must be"),
        (r#"{"audience": 7}"#, "`audience` must be a string"),
        (r#"[]"#, "must be a JSON object"),
        (r#"{"device_submodule": "door-ctl"}"#, "needs an audience"),
    ] {
        let file = dir.path().join("ext.json");
        std::fs::write(&file, config).unwrap();
        let (c, _, err) = verify(&public, &good, &["--config", p(&file)]);
        assert_eq!(c, 2, "{config}: {err}");
        assert!(err.contains(message), "{config}: {err}");
    }
    // --config belongs to --external-trust; a citysec result needs --aud.
    let (c, _, _) = text(&citysec(&[
        "attest",
        "verify-result",
        "--trust",
        p(&public),
        "--config",
        "x.json",
        p(&good),
    ]));
    assert_eq!(c, 2);
    let (c, _, err) = text(&citysec(&["attest", "verify-result", "--trust", p(&public), p(&good)]));
    assert_eq!(c, 2);
    assert!(err.contains("--aud is required"), "{err}");
}
