//! Fuzz target `note_parse`: signed notes and checkpoints from arbitrary bytes.
//!
//! The input is parsed as a signed note, its text as a checkpoint, and the whole
//! note verified as a checkpoint of a fixed log with a 1-of-1 witness policy.
//! Invariants: no panic; a parsed note's text ends in a newline and it has one
//! to `MAX_SIGNATURES` signature lines; a parsed checkpoint prints back to
//! exactly its text (one byte form); nothing verifies without the log's real
//! signature (the fuzzer cannot forge Ed25519).
#![no_main]

use std::sync::OnceLock;

use citysec_audit::checkpoint::{Checkpoint, CheckpointVerifier};
use citysec_audit::note::{MAX_SIGNATURES, Note, NoteSigner};
use citysec_core::SigningKey;
use libfuzzer_sys::fuzz_target;

fn verifier() -> &'static CheckpointVerifier {
    static V: OnceLock<CheckpointVerifier> = OnceLock::new();
    V.get_or_init(|| {
        let p = &citysec_rustcrypto::PROVIDER;
        let log = NoteSigner::new(
            "citysec.example/log",
            p.signer(SigningKey::ed25519(&[1; 32])).expect("signer"),
        )
        .expect("log");
        let w = NoteSigner::cosigner(
            "witness.example/w",
            p.signer(SigningKey::ed25519(&[2; 32])).expect("signer"),
        )
        .expect("witness");
        CheckpointVerifier::new("citysec.example/log", log.verifier(p).expect("vkey"))
            .expect("verifier")
            .with_witnesses(vec![w.verifier(p).expect("vkey")], 1)
            .expect("policy")
    })
}

fuzz_target!(|data: &[u8]| {
    if let Ok(note) = Note::parse(data) {
        assert!(note.text().ends_with('\n'));
        assert!((1..=MAX_SIGNATURES).contains(&note.signatures().len()));
        if let Ok(c) = Checkpoint::parse_text(note.text()) {
            assert_eq!(c.to_text(), note.text(), "one byte form");
        }
    }
    assert!(verifier().verify(&citysec_rustcrypto::PROVIDER, data).is_err());
});
