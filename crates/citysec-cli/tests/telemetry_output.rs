//! `citysec telemetry ...`: what `open` prints (escaped, binary ids as hex), `--out`
//! mode 0600, `seal` refusing what `open` refuses, and recipient mode
//! (`seal --to`, `open --recipient-key`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed unwrap or index is a failed test"
)]

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use citysec::telemetry::{MasterSecret, seal};

mod common;
use common::{citysec, p, text};

const MASTER: [u8; 32] = [0x5a; 32];

/// An envelope sealed by the library, for ids and topics the CLI cannot type.
fn envelope(dir: &Path, name: &str, device: &[u8], seq: u64, topic: &str, reading: &[u8]) -> String {
    let key = MasterSecret::new(MASTER)
        .derive(&citysec::ring::PROVIDER, device, 0)
        .unwrap();
    let path = dir.join(name);
    std::fs::write(
        &path,
        seal(&citysec::ring::PROVIDER, &key, seq, topic, reading).unwrap(),
    )
    .unwrap();
    p(&path).to_owned()
}

fn open(dir: &Path, env: &str, extra: &[&str]) -> (i32, String, String) {
    let master = dir.join("m");
    std::fs::write(&master, MASTER).unwrap();
    let state = dir.join("state");
    let mut args = vec!["telemetry", "open", "--master", p(&master), "--state", p(&state)];
    args.extend_from_slice(extra);
    args.push(env);
    text(&citysec(&args))
}

#[test]
fn open_escapes_everything_it_prints() {
    let d = tempfile::tempdir().unwrap();
    // Terminal escapes, a bell, bidi override and a backslash from an
    // authenticated but hostile device.
    let env = envelope(
        d.path(),
        "e1",
        b"\x1b[31mred\x07",
        1,
        "city/\x1b]0;pwn\x07\u{202e}x\\y\u{85}",
        b"ok\x1b[2J\ttab\r\nnext\n\n",
    );
    assert_eq!(
        open(d.path(), &env, &[]),
        (
            0,
            "device (hex): 1b5b33316d72656407\nseq: 1\nepoch: 0\ntopic: city/\\u{1b}]0;pwn\\u{7}\\u{202e}x\\\\y\\u{85}\nreading: ok\\u{1b}[2J\\u{9}tab\\u{d}\\u{a}next\n"
                .to_owned(),
            String::new()
        )
    );
    // A printable UTF-8 id is printed as text; a non-UTF-8 id and reading as hex.
    let env = envelope(d.path(), "e2", "capteur-é".as_bytes(), 2, "", b"\xff\x00");
    assert_eq!(
        open(d.path(), &env, &[]).1,
        "device: capteur-é\nseq: 2\nepoch: 0\ntopic: \nreading (hex): ff00\n"
    );
    let env = envelope(d.path(), "e3", b"\xc3\x28id", 3, "t", b"x");
    assert_eq!(
        open(d.path(), &env, &[]).1,
        "device (hex): c3286964\nseq: 3\nepoch: 0\ntopic: t\nreading: x\n"
    );
    // A line separator in an otherwise printable id makes it binary.
    let env = envelope(d.path(), "e4", "a\u{2028}b".as_bytes(), 4, "", b"");
    assert!(open(d.path(), &env, &[]).1.starts_with("device (hex): 61e280a862\n"));
}

#[test]
fn open_writes_out_with_mode_0600_atomically() {
    let d = tempfile::tempdir().unwrap();
    let env = envelope(d.path(), "e", b"sensor-1", 1, "", b"\x1b[2Jsecret reading");
    let out = d.path().join("reading.bin");
    // An existing world-readable file is replaced, not reused.
    std::fs::write(&out, b"old").unwrap();
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (code, stdout, _) = open(d.path(), &env, &["--out", p(&out)]);
    assert_eq!(code, 0);
    assert!(
        stdout.ends_with(&format!("wrote 18 bytes to {} (mode 0600)\n", p(&out))),
        "{stdout}"
    );
    assert_eq!(std::fs::read(&out).unwrap(), b"\x1b[2Jsecret reading");
    assert_eq!(std::fs::metadata(&out).unwrap().permissions().mode() & 0o777, 0o600);
    // No temporary file is left beside it.
    let names: Vec<String> = std::fs::read_dir(d.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(names.is_empty(), "{names:?}");
}

#[test]
fn seal_refuses_what_open_refuses() {
    let d = tempfile::tempdir().unwrap();
    let master = d.path().join("m");
    std::fs::write(&master, MASTER).unwrap();
    let seal_args = |device: &str, topic: &str, input: &Path, output: &Path| {
        text(&citysec(&[
            "telemetry",
            "seal",
            "--master",
            p(&master),
            "--device",
            device,
            "--seq",
            "1",
            "--topic",
            topic,
            p(input),
            p(output),
        ]))
    };
    let small = d.path().join("small");
    std::fs::write(&small, b"x").unwrap();
    let out = d.path().join("env");
    // Over 65536 bytes of reading: refused before sealing.
    let big = d.path().join("big");
    std::fs::write(&big, vec![0u8; 65_537]).unwrap();
    assert_eq!(
        seal_args("s", "", &big, &out),
        (
            2,
            String::new(),
            format!(
                "error: `{}` is too large: an envelope holds less than 65536 bytes of reading\n",
                p(&big)
            )
        )
    );
    // A reading under the limit whose envelope is not: with this device id and topic
    // the envelope adds 54 bytes (prefix 7, map head 1, kid 1 + 9, Partial IV 1 + 2,
    // topic 5 + 9, ciphertext head 3, tag 16), so 65483 bytes make 65537. Refused,
    // nothing written.
    let edge = d.path().join("edge");
    std::fs::write(&edge, vec![0u8; 65_483]).unwrap();
    let (code, _, err) = seal_args("sensor-1", "city/air", &edge, &out);
    assert_eq!(code, 2);
    assert!(
        err.starts_with("error: the envelope would be 65537 bytes, over the 65536 bytes `open` accepts"),
        "{err}"
    );
    assert!(!out.exists());
    // The largest reading that fits is sealed, and opens.
    std::fs::write(&edge, vec![0u8; 65_482]).unwrap();
    let (code, stdout, err) = seal_args("sensor-1", "city/air", &edge, &out);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        stdout,
        format!("sealed 65482 bytes as seq 1 (65536 bytes) to {}\n", p(&out))
    );
    assert_eq!(open(d.path(), p(&out), &["--out", p(&d.path().join("r"))]).0, 0);
    // Device id and topic limits.
    let long_id = "d".repeat(65);
    let long_topic = "t".repeat(129);
    for (device, topic) in [(long_id.as_str(), ""), ("s", long_topic.as_str())] {
        assert_eq!(
            seal_args(device, topic, &small, &d.path().join("x")),
            (2, String::new(), "error: device id or topic out of range\n".to_owned())
        );
    }
}

fn x25519_keys(dir: &Path, kid: &str) -> (String, String) {
    let (key, public) = (dir.join(format!("{kid}.key")), dir.join(format!("{kid}.pub")));
    assert_eq!(
        text(&citysec(&[
            "key",
            "generate",
            "--alg",
            "X25519",
            "--kid",
            kid,
            "--out",
            p(&key)
        ]))
        .0,
        0
    );
    assert_eq!(text(&citysec(&["key", "public", p(&key), "--out", p(&public)])).0, 0);
    (p(&key).to_owned(), p(&public).to_owned())
}

#[test]
fn recipient_mode_round_trip_and_refusals() {
    let d = tempfile::tempdir().unwrap();
    let (key, public) = x25519_keys(d.path(), "backend-1");
    let reading = d.path().join("r.json");
    std::fs::write(&reading, b"{\"no2\": 38}\n").unwrap();
    let sealed = d.path().join("sealed.cbor");
    let (code, stdout, err) = text(&citysec(&[
        "telemetry",
        "seal",
        "--to",
        &public,
        "--topic",
        "city/air/no2",
        p(&reading),
        p(&sealed),
    ]));
    assert_eq!(code, 0, "{err}");
    let bytes = std::fs::read(&sealed).unwrap();
    assert_eq!(
        stdout,
        format!(
            "sealed 12 bytes to the X25519 key h'6261636b656e642d31' (\"backend-1\") ({} bytes) to {}\n",
            bytes.len(),
            p(&sealed)
        )
    );
    // COSE_Encrypt (tag 96) of the documented layout: 12 + 16 bytes of ciphertext.
    assert_eq!(&bytes[..3], [0xd8, 0x60, 0x84]);
    // tag+array 3, protected 5, {5: iv} 15, ciphertext 2 + 28, recipients 2,
    // recipient protected 5, {-1: ephemeral key, 4: kid} 1 + 7 + 34 + 1 + 10, h'' 1.
    assert_eq!(bytes.len(), 3 + 5 + 15 + 30 + 2 + 5 + 53 + 1);
    let open_with = |k: &str, extra: &[&str]| {
        let mut args = vec!["telemetry", "open", "--recipient-key", k];
        args.extend_from_slice(extra);
        args.push(p(&sealed));
        text(&citysec(&args))
    };
    let banner =
        "mode: recipient (X25519 ECDH-ES + HKDF-256); the sender is not authenticated and replays are not detected\n";
    assert_eq!(
        open_with(&key, &["--topic", "city/air/no2"]),
        (
            0,
            format!("{banner}topic: city/air/no2\nreading: {{\"no2\": 38}}\n"),
            String::new()
        )
    );
    // Opening twice works: recipient mode has no replay protection (documented).
    assert_eq!(open_with(&key, &["--topic", "city/air/no2"]).0, 0);
    // The topic is bound through the external AAD.
    assert_eq!(
        open_with(&key, &[]),
        (1, String::new(), "rejected: decryption failed\n".to_owned())
    );
    assert_eq!(open_with(&key, &["--topic", "city/air/so2"]).0, 1);
    // Another key with the same kid: the tag fails. Another kid: unknown key.
    let other = tempfile::tempdir().unwrap();
    let (same_kid, _) = x25519_keys(other.path(), "backend-1");
    assert_eq!(
        open_with(&same_kid, &["--topic", "city/air/no2"]),
        (1, String::new(), "rejected: decryption failed\n".to_owned())
    );
    let (other_kid, _) = x25519_keys(d.path(), "backend-2");
    assert_eq!(
        open_with(&other_kid, &["--topic", "city/air/no2"]),
        (1, String::new(), "rejected: unknown key\n".to_owned())
    );
    // A key of another kind is a usage error; so is mixing the modes.
    let (code, _, err) = open_with(&public, &[]);
    assert_eq!(
        (code, err),
        (2, format!("error: `{public}` is not an X25519 private key\n"))
    );
    let (code, _, err) = text(&citysec(&[
        "telemetry",
        "open",
        "--recipient-key",
        &key,
        "--state",
        p(d.path()),
        p(&sealed),
    ]));
    assert_eq!(code, 2);
    assert!(err.contains("cannot be used with"), "{err}");
    let (code, _, err) = text(&citysec(&[
        "telemetry",
        "seal",
        "--to",
        &public,
        "--seq",
        "1",
        p(&reading),
        p(&d.path().join("x")),
    ]));
    assert_eq!(code, 2);
    assert!(err.contains("cannot be used with"), "{err}");
    // --out gets the exact bytes, mode 0600.
    let out = d.path().join("plain");
    let (code, stdout, _) = open_with(&key, &["--topic", "city/air/no2", "--out", p(&out)]);
    assert_eq!(code, 0);
    assert!(stdout.ends_with(&format!("wrote 12 bytes to {} (mode 0600)\n", p(&out))));
    assert_eq!(std::fs::read(&out).unwrap(), b"{\"no2\": 38}\n");
    assert_eq!(std::fs::metadata(&out).unwrap().permissions().mode() & 0o777, 0o600);
}

#[test]
fn changed_subcommands_have_help_with_examples_and_the_rules() {
    for (args, must) in [
        (&["telemetry", "seal", "--help"][..], "65536 bytes"),
        (&["telemetry", "open", "--help"], "U+2066-U+2069"),
        (&["telemetry", "open", "--help"], "mode 0600"),
        (&["credential", "verify", "--help"], "--trust ISS=FILE"),
        (&["policy", "eval", "--help"], "duplicate key"),
        (&["policy", "--help"], "does not declare"),
        (&["telemetry", "--help"], "--recipient-key"),
    ] {
        let (code, stdout, _) = text(&citysec(args));
        assert_eq!(code, 0, "{args:?}");
        assert!(
            stdout.contains("Example") && stdout.contains("  citysec "),
            "{args:?}: {stdout}"
        );
        assert!(stdout.contains(must), "{args:?} lacks {must}: {stdout}");
    }
}
