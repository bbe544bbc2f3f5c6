//! Fuzz target `receipt_parse`: COSE Receipts from arbitrary bytes.
//!
//! The input is parsed as a receipt and, if it parses, verified as an inclusion
//! receipt of a fixed leaf and as a consistency receipt from a fixed root, with a
//! fixed Ed25519 log key. Invariants: no panic; a parsed receipt has one kind of
//! proof, no path longer than `MAX_PROOF_LEN` and a 64-byte signature; nothing
//! verifies (the fuzzer cannot forge Ed25519).
#![no_main]

use std::sync::OnceLock;

use citysec_audit::merkle::{MAX_PROOF_LEN, leaf_hash};
use citysec_audit::receipt::Receipt;
use citysec_core::{SigningKey, VerifyingKey};
use libfuzzer_sys::fuzz_target;

fn key() -> &'static VerifyingKey {
    static K: OnceLock<VerifyingKey> = OnceLock::new();
    K.get_or_init(|| {
        let p = &citysec_rustcrypto::PROVIDER;
        let k = p
            .public_key(&SigningKey::ed25519(&[1; 32]).with_kid(b"k".to_vec()))
            .expect("key");
        p.import(k).expect("import")
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(r) = Receipt::parse(data) else { return };
    assert!(r.inclusion_proofs().is_empty() != r.consistency_proofs().is_empty());
    assert!(r.inclusion_proofs().iter().all(|p| p.path.len() <= MAX_PROOF_LEN));
    assert!(r.consistency_proofs().iter().all(|p| p.path.len() <= MAX_PROOF_LEN));
    let p = &citysec_rustcrypto::PROVIDER;
    assert!(r.verify_inclusion(p, key(), &leaf_hash(b"entry")).is_err());
    assert!(r.verify_consistency(p, key(), &leaf_hash(b"root")).is_err());
});
