//! Interop with Go's reference signed-note code (golang.org/x/mod/sumdb/note,
//! from Debian's golang-golang-x-mod-dev) through interop/go-note: Go verifies
//! our checkpoints with `note.NewVerifier` and our cosignatures with a
//! cosignature/v1 verifier written in that program, and we verify notes Go signs.
//! Needs `go` and the x/mod sources (GOPATH mode): feature `go-interop`.

#![cfg(feature = "go-interop")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed unwrap is a failed test"
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use citysec_audit::checkpoint::{Checkpoint, CheckpointVerifier, cosign};
use citysec_audit::merkle::{CompactRange, leaf_hash};
use citysec_audit::note::{Note, NoteSigner, NoteVerifier};
use citysec_core::SigningKey;
use citysec_core::provider::Signer;

fn go(args: &[&str]) -> Output {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let gopath = std::env::var_os("CITYSEC_GOPATH").unwrap_or_else(|| "/usr/share/gocode".into());
    Command::new("go")
        .args(["run", "./interop/go-note"])
        .args(args)
        .current_dir(root)
        .env("GOPATH", gopath)
        .env("GO111MODULE", "off")
        .env("GOFLAGS", "")
        .output()
        .expect("go must be installed for the go-interop feature")
}

fn signer(seed: [u8; 32]) -> Box<dyn Signer> {
    citysec_rustcrypto::PROVIDER.signer(SigningKey::ed25519(&seed)).unwrap()
}

fn write(dir: &Path, name: &str, contents: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, contents).unwrap();
    p
}

fn checkpoint() -> Checkpoint {
    let mut range = CompactRange::new();
    for i in 0..7 {
        range.append(&leaf_hash(format!("entry {i}").as_bytes())).unwrap();
    }
    Checkpoint::new("citysec.example/site-log", range.size(), range.root()).unwrap()
}

#[test]
fn go_verifies_our_checkpoints_and_cosignatures() {
    let p = &citysec_rustcrypto::PROVIDER;
    let dir = tempfile::tempdir().unwrap();
    let log = NoteSigner::new("citysec.example/site-log", signer([1; 32])).unwrap();
    let w1 = NoteSigner::cosigner("witness.example/w1", signer([2; 32])).unwrap();
    let w2 = NoteSigner::cosigner("witness.example/w2", signer([3; 32])).unwrap();
    let signed = checkpoint().sign(&log).unwrap();
    let cosigned = cosign(&w2, &cosign(&w1, &signed, 1_765_000_000).unwrap(), 1_765_000_001).unwrap();
    let (lv, v1, v2) = (
        log.verifier(p).unwrap().to_vkey(),
        w1.verifier(p).unwrap().to_vkey(),
        w2.verifier(p).unwrap().to_vkey(),
    );

    let file = write(dir.path(), "checkpoint", &cosigned);
    let out = go(&["verify", file.to_str().unwrap(), &lv, &v1, &v2]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "ok citysec.example/site-log witness.example/w1 witness.example/w2\n"
    );

    // A changed tree size: Go refuses (exit 1).
    let tampered = write(dir.path(), "tampered", &cosigned.replacen("\n7\n", "\n8\n", 1));
    let out = go(&["verify", tampered.to_str().unwrap(), &lv, &v1]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));

    // A witness that did not cosign: Go finds fewer signatures than keys.
    let w3 = NoteSigner::cosigner("witness.example/w3", signer([4; 32])).unwrap();
    let out = go(&[
        "verify",
        file.to_str().unwrap(),
        &lv,
        &w3.verifier(p).unwrap().to_vkey(),
    ]);
    assert_eq!(out.status.code(), Some(1));

    // The log's signature alone, with the log's key alone.
    let only_log = write(dir.path(), "log-only", &signed);
    let out = go(&["verify", only_log.to_str().unwrap(), &lv]);
    assert!(out.status.success());
}

#[test]
fn we_verify_notes_go_signs_and_sign_the_same_bytes() {
    let p = &citysec_rustcrypto::PROVIDER;
    let dir = tempfile::tempdir().unwrap();
    let seed = [7u8; 32];
    let text = checkpoint().to_text();
    let file = write(dir.path(), "text", &text);
    let out = go(&[
        "sign",
        "citysec.example/site-log",
        &"07".repeat(32),
        file.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let (vkey, note) = stdout.split_once('\n').unwrap();

    let v = NoteVerifier::from_vkey(p, vkey).unwrap();
    let ours = NoteSigner::new("citysec.example/site-log", signer(seed)).unwrap();
    assert_eq!(v.to_vkey(), ours.verifier(p).unwrap().to_vkey(), "the same vkey");
    assert_eq!(
        ours.sign(&text).unwrap(),
        note,
        "Ed25519 is deterministic: the same note"
    );

    let parsed = Note::parse(note.as_bytes()).unwrap();
    assert_eq!(parsed.verify(p, core::slice::from_ref(&v)).unwrap().len(), 1);
    let verified = CheckpointVerifier::new("citysec.example/site-log", v)
        .unwrap()
        .verify(p, note.as_bytes())
        .unwrap();
    assert_eq!(verified.checkpoint(), &checkpoint());
}
