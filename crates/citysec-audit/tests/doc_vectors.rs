//! docs/audit-log.md carries vectors (entries, leaf hashes, the root of every
//! prefix, inclusion and consistency proofs) computed by a separate
//! implementation; this test recomputes each one and verifies every proof.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    reason = "test code: a failed unwrap or index is a failed test"
)]

use citysec_audit::Error;
use citysec_audit::merkle::{
    CompactRange, Hash, consistency_proof, hash_from_slice, inclusion_proof, leaf_hash, root, verify_consistency,
    verify_inclusion,
};
use serde_json::Value;

fn hex(v: &Value) -> Hash {
    let s = v.as_str().unwrap();
    let bytes: Vec<u8> = (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect();
    hash_from_slice(&bytes).unwrap()
}

fn hashes(v: &Value) -> Vec<Hash> {
    v.as_array().unwrap().iter().map(hex).collect()
}

#[test]
fn documented_vectors() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/audit-log.md")).unwrap();
    let block = doc.split("```json\n").nth(1).unwrap().split("```").next().unwrap();
    let v: Value = serde_json::from_str(block).unwrap();

    let entries: Vec<&str> = v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    assert_eq!(entries.len(), 7);
    let leaves: Vec<Hash> = entries.iter().map(|e| leaf_hash(e.as_bytes())).collect();
    assert_eq!(leaves, hashes(&v["leaf_hashes"]));

    let mut range = CompactRange::new();
    for n in 0..=7usize {
        let want = hex(&v["roots"][n.to_string()]);
        assert_eq!(range.root(), want, "compact range at {n}");
        assert_eq!(root(&leaves[..n]), want, "MTH at {n}");
        if let Some(l) = leaves.get(n) {
            range.append(l).unwrap();
        }
    }
    let root7 = hex(&v["roots"]["7"]);

    let inclusion = v["inclusion"].as_array().unwrap();
    assert_eq!(inclusion.len(), 3);
    for case in inclusion {
        let (index, size) = (case["index"].as_u64().unwrap(), case["size"].as_u64().unwrap());
        let proof = hashes(&case["proof"]);
        assert_eq!(inclusion_proof(&leaves, index).unwrap(), proof);
        let leaf = leaves[usize::try_from(index).unwrap()];
        assert_eq!(verify_inclusion(index, size, &leaf, &proof, &root7), Ok(()));
        assert_eq!(
            verify_inclusion(index, size, &leaf, &proof, &hex(&v["roots"]["6"])),
            Err(Error::RootMismatch)
        );
    }

    let consistency = v["consistency"].as_array().unwrap();
    assert_eq!(consistency.len(), 3);
    for case in consistency {
        let (m, n) = (case["size1"].as_u64().unwrap(), case["size2"].as_u64().unwrap());
        let proof = hashes(&case["proof"]);
        assert_eq!(consistency_proof(&leaves, m).unwrap(), proof);
        let old = hex(&v["roots"][m.to_string()]);
        assert_eq!(verify_consistency(m, n, &old, &root7, &proof), Ok(()));
        assert_eq!(verify_consistency(m, n, &root7, &old, &proof), Err(Error::RootMismatch));
    }
}

/// The receipt vector of docs/audit-log.md: entry 3 of the seven, signed by the
/// Ed25519 key of seed `01` x 32 with kid `site-log-1`. Recomputed here (Ed25519
/// is deterministic) and verified.
#[test]
fn documented_receipt() {
    use citysec_audit::receipt::{Receipt, issue_inclusion};
    use citysec_core::SigningKey;

    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/audit-log.md")).unwrap();
    let block = doc.split("```json\n").nth(2).unwrap().split("```").next().unwrap();
    let v: Value = serde_json::from_str(block).unwrap();
    assert_eq!(v["entry"].as_str().unwrap(), "entry 3");
    assert_eq!(v["kid"].as_str().unwrap(), "site-log-1");
    let p = &citysec_rustcrypto::PROVIDER;
    let signer = p
        .signer(SigningKey::ed25519(&[1; 32]).with_kid(b"site-log-1".to_vec()))
        .unwrap();
    let public = signer.verifying_key().as_bytes().to_vec();
    assert_eq!(to_hex(&public), v["public_key"].as_str().unwrap());
    let entries: Vec<Hash> = (0..7).map(|i| leaf_hash(format!("entry {i}").as_bytes())).collect();
    let proof = inclusion_proof(&entries, 3).unwrap();
    let receipt = issue_inclusion(&signer, 7, 3, &proof, &root(&entries)).unwrap();
    assert_eq!(to_hex(&receipt), v["receipt"].as_str().unwrap());
    let key = p.import(signer.verifying_key().clone()).unwrap();
    let verified = Receipt::parse(&receipt)
        .unwrap()
        .verify_inclusion(p, &key, &entries[3])
        .unwrap();
    assert_eq!(to_hex(verified.root()), v["root"].as_str().unwrap());
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
