//! Fuzz target `merkle_proofs`: RFC 9162 proof verification against a model.
//!
//! The input picks a tree of up to 300 leaves, a leaf and an older size, and then
//! either tampers with the genuine proofs (a flipped bit, a hash dropped, added or
//! moved, another index) or hands the verifier arbitrary sizes and
//! hashes. Genuine proofs must verify; tampered ones and arbitrary ones must be
//! refused (a random proof that verifies would be a SHA-256 collision), and
//! nothing may panic.
#![no_main]

use citysec_audit::merkle::{
    CompactRange, Hash, MAX_PROOF_LEN, consistency_proof, inclusion_proof, leaf_hash, verify_consistency,
    verify_inclusion,
};
use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;

fn run(u: &mut Unstructured<'_>) -> Result<()> {
    let n: u64 = u.int_in_range(1..=300)?;
    let leaves: Vec<Hash> = (0..n).map(|i| leaf_hash(&i.to_le_bytes())).collect();
    let mut range = CompactRange::new();
    let mut roots = Vec::new();
    for l in &leaves {
        range.append(l).expect("append");
        roots.push(range.root());
    }
    let root = *roots.last().expect("a root");
    let index = u.int_in_range(0..=n - 1)?;
    let old = u.int_in_range(1..=n)?;
    let leaf = leaves[usize::try_from(index).expect("small")];
    let old_root = roots[usize::try_from(old - 1).expect("small")];
    let inc = inclusion_proof(&leaves, index).expect("proof");
    let con = consistency_proof(&leaves, old).expect("proof");
    assert_eq!(verify_inclusion(index, n, &leaf, &inc, &root), Ok(()));
    assert_eq!(verify_consistency(old, n, &old_root, &root, &con), Ok(()));

    match u.int_in_range(0u8..=5)? {
        0 if !inc.is_empty() => {
            let mut p = inc.clone();
            let k = u.choose_index(p.len())?;
            let bit = u.int_in_range(0usize..=255)?;
            p[k][bit / 8] ^= 1 << (bit % 8);
            assert!(verify_inclusion(index, n, &leaf, &p, &root).is_err());
        }
        1 if !con.is_empty() => {
            let mut p = con.clone();
            let k = u.choose_index(p.len())?;
            let bit = u.int_in_range(0usize..=255)?;
            p[k][bit / 8] ^= 1 << (bit % 8);
            assert!(verify_consistency(old, n, &old_root, &root, &p).is_err());
        }
        2 => {
            // a hash dropped, added or moved
            let mut p = inc.clone();
            match u.int_in_range(0u8..=2)? {
                0 if !p.is_empty() => {
                    p.remove(u.choose_index(p.len())?);
                }
                1 => p.insert(u.int_in_range(0..=p.len())?, u.arbitrary()?),
                _ if p.len() > 1 => {
                    let last = p.len() - 1;
                    p.swap(0, last);
                }
                _ => return Ok(()),
            }
            if p != inc {
                assert!(verify_inclusion(index, n, &leaf, &p, &root).is_err());
            }
        }
        3 => {
            // Another index in the same tree leads elsewhere. (Another tree size
            // may not: a proof does not bind the size, which only the signed
            // checkpoint does; docs/audit-log.md says so.)
            let other = u.int_in_range(0..=n.saturating_mul(2))?;
            if other != index {
                assert!(verify_inclusion(other, n, &leaf, &inc, &root).is_err());
            }
        }
        _ => {
            // arbitrary everything: refused, bounded, no panic
            let (i, s1, s2): (u64, u64, u64) = (u.arbitrary()?, u.arbitrary()?, u.arbitrary()?);
            let len = u.int_in_range(0..=MAX_PROOF_LEN + 2)?;
            let mut p = Vec::with_capacity(len);
            for _ in 0..len {
                p.push(u.arbitrary::<Hash>()?);
            }
            let (a, b): (Hash, Hash) = (u.arbitrary()?, u.arbitrary()?);
            let _ = verify_inclusion(i, s2, &a, &p, &b);
            let _ = verify_consistency(s1, s2, &a, &b, &p);
        }
    }
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let _ = run(&mut Unstructured::new(data));
});
