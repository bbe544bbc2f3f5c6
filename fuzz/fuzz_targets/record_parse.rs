//! Fuzz target `record_parse`: audit records from arbitrary bytes, and a
//! gateway's ingest of them.
//!
//! The input is decoded as a record (`Record::from_cbor`). Invariants: no panic;
//! a record that decodes encodes back to exactly the input (one byte form); its
//! leaf hash is the input's. Then the input, split in two at its first byte, is
//! offered to a `ControllerFeed` as two records under a fixed signed checkpoint
//! of another tree: it must be refused.
#![no_main]

use std::sync::OnceLock;

use citysec_audit::checkpoint::{Checkpoint, CheckpointVerifier};
use citysec_audit::ingest::ControllerFeed;
use citysec_audit::merkle::leaf_hash;
use citysec_audit::note::NoteSigner;
use citysec_audit::record::Record;
use citysec_core::SigningKey;
use libfuzzer_sys::fuzz_target;

const ORIGIN: &str = "fuzz.example/log";

/// A verifier and a signed checkpoint of two records that are not the input's.
fn fixed() -> &'static (CheckpointVerifier, String) {
    static F: OnceLock<(CheckpointVerifier, String)> = OnceLock::new();
    F.get_or_init(|| {
        let p = &citysec_rustcrypto::PROVIDER;
        let signer = NoteSigner::new(ORIGIN, p.signer(SigningKey::ed25519(&[3; 32])).expect("key")).expect("signer");
        let verifier = CheckpointVerifier::new(ORIGIN, signer.verifier(p).expect("verifier")).expect("verifier");
        let root = citysec_audit::merkle::root(&[leaf_hash(b"a"), leaf_hash(b"b")]);
        let note = Checkpoint::new(ORIGIN, 2, root)
            .and_then(|c| c.sign(&signer))
            .expect("note");
        (verifier, note)
    })
}

fuzz_target!(|data: &[u8]| {
    if let Ok(r) = Record::from_cbor(data) {
        assert_eq!(r.to_cbor().expect("a decoded record encodes"), data);
        assert_eq!(r.leaf_hash().expect("leaf hash"), leaf_hash(data));
    }
    let (verifier, note) = fixed();
    let cut = usize::from(data.first().copied().unwrap_or(0)).min(data.len());
    let (a, b) = data.split_at(cut);
    let mut feed = ControllerFeed::new(verifier.clone());
    assert!(
        feed.ingest(&citysec_rustcrypto::PROVIDER, note.as_bytes(), &[a, b])
            .is_err()
    );
    assert_eq!(feed.size(), 0);
});
