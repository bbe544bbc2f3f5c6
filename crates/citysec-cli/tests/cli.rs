//! The `citysec` binary end to end: exit codes, key files, inspect, demo.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed unwrap or index is a failed test"
)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

use citysec::core::encrypt0::{self, Iv};
use citysec::core::{Key, VerifyingKey, sign1};
use citysec::std_adapters::{ExistingFile, KeyFormat, read_key, write_key};

mod common;
use common::{citysec, p};

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exit code")
}

/// Runs `key generate` and returns the key file.
fn generate(dir: &Path, name: &str, alg: &str, kid: Option<&str>) -> PathBuf {
    let path = dir.join(name);
    let mut args = vec!["key", "generate", "--alg", alg, "--out", p(&path)];
    if let Some(kid) = kid {
        args.extend(["--kid", kid]);
    }
    let o = citysec(&args);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    path
}

fn signing_key(path: &Path) -> citysec::core::SigningKey {
    match read_key(path).unwrap() {
        Key::Signing(k) => k,
        other => panic!("not a signing key: {other:?}"),
    }
}

#[test]
fn key_generate_and_public_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    for alg in ["EdDSA", "ES256", "X25519"] {
        let key_path = generate(dir.path(), &format!("{alg}.key"), alg, Some("kid-1"));
        let mode = std::fs::metadata(&key_path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let key = read_key(&key_path).unwrap();
        assert!(key.is_secret());
        assert_eq!(key.kid(), Some(&b"kid-1"[..]));

        let pub_path = dir.path().join(format!("{alg}.pub"));
        let o = citysec(&["key", "public", p(&key_path), "--out", p(&pub_path)]);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        let public = read_key(&pub_path).unwrap();
        assert!(!public.is_secret());
        assert_eq!(public.kid(), Some(&b"kid-1"[..]));
        assert_eq!(
            *public.to_cose_key().unwrap(),
            *key.public(&citysec::rustcrypto::PROVIDER)
                .unwrap()
                .unwrap()
                .to_cose_key()
                .unwrap()
        );
    }
}

#[test]
fn key_generate_never_prints_secrets() {
    let dir = tempfile::tempdir().unwrap();
    for alg in ["EdDSA", "ES256", "ChaCha20Poly1305", "A128GCM", "A256GCM", "X25519"] {
        let path = dir.path().join(format!("{alg}.key"));
        let o = citysec(&["key", "generate", "--alg", alg, "--out", p(&path)]);
        assert_eq!(code(&o), 0, "{alg}: {}", stderr(&o));
        let secret = match read_key(&path).unwrap() {
            Key::Signing(k) => hex::encode(*k.secret_bytes()),
            Key::Symmetric(k) => hex::encode(k.secret_bytes()),
            Key::X25519Secret(k) => hex::encode(k.secret_bytes()),
            other => panic!("{other:?}"),
        };
        let all = format!("{}{}", stdout(&o), stderr(&o));
        assert!(!all.contains(&secret), "{alg} printed its secret");
        // inspect of the key file redacts it too.
        let o = citysec(&["inspect", p(&path)]);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        let text = stdout(&o);
        assert!(
            !text.to_lowercase().contains(&secret),
            "inspect printed the secret of {alg}:\n{text}"
        );
        // minicbor writes byte strings with a space between bytes.
        let spaced: Vec<&str> = secret
            .as_bytes()
            .chunks(2)
            .map(|c| core::str::from_utf8(c).unwrap())
            .collect();
        assert!(
            !text.contains(&spaced.join(" ")),
            "inspect printed the secret of {alg}:\n{text}"
        );
        assert!(text.contains("<secret, "), "{text}");
    }
}

#[test]
fn key_generate_pem_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    let pem = dir.path().join("es256.pem");
    let o = citysec(&["key", "generate", "--alg", "ES256", "--format", "pem", "--out", p(&pem)]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        std::fs::read_to_string(&pem)
            .unwrap()
            .starts_with("-----BEGIN PRIVATE KEY-----")
    );
    let pub_pem = dir.path().join("es256.pub.pem");
    let o = citysec(&["key", "public", p(&pem), "--format", "pem", "--out", p(&pub_pem)]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        std::fs::read_to_string(&pub_pem)
            .unwrap()
            .starts_with("-----BEGIN PUBLIC KEY-----")
    );

    // Existing files are not replaced without --force.
    let o = citysec(&["key", "generate", "--alg", "EdDSA", "--out", p(&pem)]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("already exists"), "{}", stderr(&o));
    let o = citysec(&["key", "generate", "--alg", "EdDSA", "--out", p(&pem), "--force"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));

    // PEM only for signature keys, and it has no kid.
    let x = dir.path().join("x.pem");
    assert_eq!(
        code(&citysec(&[
            "key",
            "generate",
            "--alg",
            "X25519",
            "--format",
            "pem",
            "--out",
            p(&x)
        ])),
        2
    );
    let o = citysec(&[
        "key",
        "generate",
        "--alg",
        "EdDSA",
        "--format",
        "pem",
        "--kid",
        "a",
        "--out",
        p(&x),
    ]);
    assert_eq!(code(&o), 2);
    assert!(!x.exists());

    // Symmetric keys have no public half.
    let sym = generate(dir.path(), "sym.key", "ChaCha20Poly1305", None);
    let o = citysec(&["key", "public", p(&sym), "--out", p(&dir.path().join("sym.pub"))]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("no public half"), "{}", stderr(&o));
}

#[test]
fn inspect_verifies_what_the_cli_keys_signed() {
    let dir = tempfile::tempdir().unwrap();
    let key_path = generate(dir.path(), "issuer.key", "EdDSA", Some("issuer-1"));
    let pub_path = dir.path().join("issuer.pub");
    assert_eq!(
        code(&citysec(&["key", "public", p(&key_path), "--out", p(&pub_path)])),
        0
    );

    // {"temp": 21, "door": "lobby"}
    let payload = [
        0xa2, 0x64, b't', b'e', b'm', b'p', 0x15, 0x64, b'd', b'o', b'o', b'r', 0x65, b'l', b'o', b'b', b'b', b'y',
    ];
    let msg = sign1::sign(
        &citysec::rustcrypto::signer_copy(&signing_key(&key_path)).unwrap(),
        &payload,
        b"",
    )
    .unwrap();
    let token = dir.path().join("token.cbor");
    std::fs::write(&token, &msg).unwrap();

    // Without a key: readable, but UNVERIFIED.
    let o = citysec(&["inspect", p(&token)]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("UNVERIFIED"), "{text}");
    assert!(text.contains("structure: COSE_Sign1 (tag 18)"), "{text}");
    assert!(text.contains("alg: EdDSA (-8)"), "{text}");
    assert!(text.contains("kid: h'6973737565722d31' (\"issuer-1\")"), "{text}");
    assert!(text.contains("18([h'"), "{text}");

    // With the public key: VERIFIED and the payload.
    let o = citysec(&["inspect", p(&token), "--key", p(&pub_path)]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("VERIFIED: signature valid"), "{text}");
    assert!(!text.contains("UNVERIFIED"), "{text}");
    assert!(text.contains(r#"{"temp": 21, "door": "lobby"}"#), "{text}");

    // The same as hex and as base64url text.
    let hex_file = dir.path().join("token.hex");
    std::fs::write(&hex_file, hex::encode(&msg)).unwrap();
    let o = citysec(&["inspect", p(&hex_file), "--key", p(&pub_path)]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).contains("(hex text)"));
    let b64_file = dir.path().join("token.b64");
    use base64::Engine as _;
    std::fs::write(&b64_file, base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&msg)).unwrap();
    let o = citysec(&["inspect", p(&b64_file), "--key", p(&pub_path)]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).contains("(base64 text)"));

    // One byte changed in the payload: rejected, exit 1, reason on stderr.
    let mut tampered = msg.clone();
    let at = tampered.windows(5).position(|w| w == b"lobby").unwrap();
    tampered[at] ^= 1;
    let bad = dir.path().join("tampered.cbor");
    std::fs::write(&bad, &tampered).unwrap();
    let o = citysec(&["inspect", p(&bad), "--key", p(&pub_path)]);
    assert_eq!(code(&o), 1, "{}", stdout(&o));
    assert_eq!(stderr(&o).trim(), "rejected: bad signature");
    assert!(!stdout(&o).contains("VERIFIED: "), "{}", stdout(&o));

    // A different key: rejected (kid mismatch).
    let other = generate(dir.path(), "other.key", "EdDSA", Some("other"));
    let o = citysec(&["inspect", p(&token), "--key", p(&other)]);
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).starts_with("rejected: "), "{}", stderr(&o));

    // Wrong external AAD: rejected.
    let o = citysec(&["inspect", p(&token), "--key", p(&pub_path), "--external-aad", "00"]);
    assert_eq!(code(&o), 1);
}

#[test]
fn inspect_opens_encrypt0_with_a_symmetric_key() {
    let dir = tempfile::tempdir().unwrap();
    let key_path = generate(dir.path(), "door.key", "ChaCha20Poly1305", Some("door-17"));
    let Key::Symmetric(key) = read_key(&key_path).unwrap() else {
        panic!()
    };
    let iv = [7u8; 12];
    let msg = encrypt0::seal(&citysec::ring::PROVIDER, &key, Iv::Full(&iv), b"21.5 C", b"ctx").unwrap();
    let file = dir.path().join("reading.cbor");
    std::fs::write(&file, &msg).unwrap();

    let o = citysec(&["inspect", p(&file)]);
    assert_eq!(code(&o), 0);
    let text = stdout(&o);
    assert!(text.contains("UNVERIFIED"), "{text}");
    assert!(text.contains("alg: ChaCha20/Poly1305 (24)"), "{text}");
    assert!(text.contains("IV: h'070707070707070707070707'"), "{text}");

    let o = citysec(&["inspect", p(&file), "--key", p(&key_path), "--external-aad", "637478"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("VERIFIED: decrypted"), "{text}");
    assert!(text.contains("text: \"21.5 C\""), "{text}");

    // Missing AAD, or another key: exit 1.
    let o = citysec(&["inspect", p(&file), "--key", p(&key_path)]);
    assert_eq!(code(&o), 1);
    assert_eq!(stderr(&o).trim(), "rejected: decryption failed");
    let other = generate(dir.path(), "other.key", "ChaCha20Poly1305", None);
    assert_eq!(
        code(&citysec(&[
            "inspect",
            p(&file),
            "--key",
            p(&other),
            "--external-aad",
            "637478"
        ])),
        1
    );

    // A signature key for an Encrypt0 is a usage error.
    let sig = generate(dir.path(), "sig.key", "EdDSA", None);
    assert_eq!(code(&citysec(&["inspect", p(&file), "--key", p(&sig)])), 2);
}

fn vectors() -> PathBuf {
    std::env::var_os("CITYSEC_VECTORS")
        .map_or_else(
            || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../vectors"),
            PathBuf::from,
        )
        .join("cose-wg-examples")
}

fn json_field<'a>(v: &'a serde_json::Value, path: &[&str]) -> &'a str {
    path.iter().fold(v, |v, k| &v[*k]).as_str().unwrap()
}

#[test]
fn inspect_cose_wg_eddsa_sig_01() {
    let vector: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(vectors().join("eddsa-examples/eddsa-sig-01.json")).unwrap())
            .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("eddsa-sig-01.hex");
    std::fs::write(&file, json_field(&vector, &["output", "cbor"])).unwrap();

    let o = citysec(&["inspect", p(&file)]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("alg: EdDSA (-8)"), "{text}");
    assert!(text.contains("kid: h'3131' (\"11\")"), "{text}");
    assert!(text.contains("content type: 0"), "{text}");
    assert!(text.contains("UNVERIFIED"), "{text}");
    assert!(text.contains("text: \"This is the content.\""), "{text}");

    // Verify with the vector's public key, written as a COSE_Key with kid "11".
    let x = hex::decode(json_field(&vector, &["input", "sign0", "key", "x_hex"])).unwrap();
    let vk = VerifyingKey::ed25519(&x.try_into().unwrap()).unwrap().with_kid(*b"11");
    let pub_path = dir.path().join("11.pub");
    write_key(&pub_path, &Key::Verifying(vk), KeyFormat::CoseKey, ExistingFile::Refuse).unwrap();
    let o = citysec(&["inspect", p(&file), "--key", p(&pub_path)]);
    assert_eq!(code(&o), 0, "{}\n{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("VERIFIED: signature valid"));
}

#[test]
fn usage_and_io_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(code(&citysec(&[])), 2);
    assert_eq!(code(&citysec(&["inspect"])), 2);
    assert_eq!(code(&citysec(&["no-such-command"])), 2);
    assert_eq!(code(&citysec(&["key", "generate", "--alg", "RSA", "--out", "x"])), 2);
    let o = citysec(&["inspect", p(&dir.path().join("missing"))]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).starts_with("error: cannot read"), "{}", stderr(&o));
    // --key on something that is not a COSE_Sign1 or COSE_Encrypt0.
    let key = generate(dir.path(), "k", "EdDSA", None);
    assert_eq!(code(&citysec(&["inspect", p(&key), "--key", p(&key)])), 2);
    // Bad hex for --external-aad.
    let file = dir.path().join("one.cbor");
    std::fs::write(&file, [0x01]).unwrap();
    assert_eq!(
        code(&citysec(&[
            "inspect",
            p(&file),
            "--key",
            p(&key),
            "--external-aad",
            "zz"
        ])),
        2
    );
}

#[test]
fn every_subcommand_has_help_with_an_example() {
    for args in [
        &["--help"][..],
        &["key", "--help"],
        &["key", "generate", "--help"],
        &["key", "public", "--help"],
        &["inspect", "--help"],
        &["demo", "--help"],
    ] {
        let o = citysec(args);
        assert_eq!(code(&o), 0, "{args:?}");
        let text = stdout(&o);
        assert!(
            text.contains("Examples:") && text.contains("citysec "),
            "{args:?}: {text}"
        );
    }
}

#[test]
fn inspect_plain_cbor_and_garbage() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plain.cbor");
    std::fs::write(&file, [0x83, 0x01, 0x02, 0x03]).unwrap();
    let o = citysec(&["inspect", p(&file), "--encoding", "raw"]);
    assert_eq!(code(&o), 0);
    assert!(stdout(&o).contains("[1, 2, 3]"), "{}", stdout(&o));
    assert!(stdout(&o).contains("plain CBOR"), "{}", stdout(&o));

    // Control characters in text never reach the terminal raw.
    std::fs::write(&file, [0x63, 0x1b, b'[', b'2']).unwrap();
    let o = citysec(&["inspect", p(&file), "--encoding", "raw"]);
    assert_eq!(code(&o), 0);
    assert!(!stdout(&o).contains('\u{1b}'));
}

#[test]
fn demo_passes_and_json_parses() {
    let o = citysec(&["demo"]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("PASS"), "{text}");
    assert!(text.contains("bad signature"), "{text}");
    assert!(
        !text.contains('\u{1b}'),
        "no colour when NO_COLOR is set or stdout is a pipe"
    );

    let o = citysec(&["demo", "--json"]);
    assert_eq!(code(&o), 0);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["passed"], true);
    let steps = v["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 52);
    assert!(steps.iter().all(|s| s["as_expected"] == true));
    // Every refusal, with its reason: the policy denials, the lockdown, the attacks and the insider.
    let refused: Vec<(&str, &str)> = steps
        .iter()
        .filter(|s| s["outcome"] == "refused")
        .map(|s| (s["name"].as_str().unwrap(), s["detail"].as_str().unwrap()))
        .collect();
    assert_eq!(
        refused,
        [
            (
                "vera at lab-3, thu 10:00",
                "deny: policy: no permit rule applies (default deny)"
            ),
            (
                "vera at lobby-east, thu 23:30",
                "deny: credential schedule does not allow thu 23:30"
            ),
            (
                "alice at lobby-east, thu 23:30",
                "deny: policy: no permit rule applies (default deny)"
            ),
            (
                "alice at lobby-east, threat level 3",
                "deny: policy: a forbid rule applies"
            ),
            (
                "cloned credential: mallory presents alice's token",
                "deny: credential refused: bad signature"
            ),
            (
                "revoked credential: vera at lobby-east",
                "deny: credential refused: credential revoked"
            ),
            (
                "stale status list: the list without the revocation replayed to lobby-east",
                "status list is older than the one held for its uri"
            ),
            ("replayed telemetry: seq 0 sent again", "replayed envelope"),
            (
                "alice at lab-3 with tampered firmware",
                "deny: controller attestation is contraindicated, not affirming"
            ),
            (
                "rolled-back policy: bundle v1 replayed to lobby-east",
                "bundle version 1 is not above the version held (2): rollback refused"
            ),
            (
                "bundle v3 signed for site:depot-north offered to lobby-east",
                "bundle is for scope `site:depot-north`, not `site:city-hall`"
            ),
            (
                "lobby-east checks the next checkpoint against its pin",
                "proof does not lead to the root"
            ),
        ]
    );
    assert!(
        steps
            .iter()
            .all(|s| s["expect"] == if s["outcome"] == "refused" { "reject" } else { "accept" })
    );
    assert!(v["total_us"].as_u64().unwrap() < 1_000_000);
}
