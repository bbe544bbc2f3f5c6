#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::cast_possible_truncation,
    reason = "test code: a failed unwrap or index is a failed test"
)]

use alloc::vec;
use alloc::vec::Vec;

use proptest::prelude::*;

use super::*;

fn leaves(n: usize) -> Vec<Hash> {
    (0..n).map(|i| leaf_hash(&(i as u64).to_be_bytes())).collect()
}

fn hex32(s: &str) -> Hash {
    let mut out = [0u8; 32];
    for (o, pair) in out.iter_mut().zip(s.as_bytes().chunks(2)) {
        *o = u8::from_str_radix(core::str::from_utf8(pair).unwrap(), 16).unwrap();
    }
    out
}

#[test]
fn known_hashes() {
    // SHA-256 of no bytes, and of the single byte 0x00 (the empty leaf).
    assert_eq!(
        empty_root(),
        hex32("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    );
    assert_eq!(
        leaf_hash(b""),
        hex32("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d")
    );
    assert_eq!(root(&[]), empty_root());
    assert_eq!(CompactRange::new().root(), empty_root());
    let l = leaves(2);
    assert_eq!(root(&l), node_hash(&l[0], &l[1]));
    // three leaves split 2 + 1
    let l = leaves(3);
    assert_eq!(root(&l), node_hash(&node_hash(&l[0], &l[1]), &l[2]));
}

proptest! {
    #[test]
    fn node_hash_is_sha256_of_the_65_bytes(left in any::<[u8; 32]>(), right in any::<[u8; 32]>()) {
        let mut msg = vec![0x01];
        msg.extend_from_slice(&left);
        msg.extend_from_slice(&right);
        let want: Hash = Sha256::digest(&msg).into();
        prop_assert_eq!(node_hash(&left, &right), want);
    }
}

#[test]
fn hash_from_slice_wants_32_bytes() {
    assert_eq!(hash_from_slice(&[0u8; 31]), Err(Error::HashLength));
    assert_eq!(hash_from_slice(&[0u8; 33]), Err(Error::HashLength));
    assert_eq!(hash_from_slice(&[]), Err(Error::HashLength));
    assert_eq!(hash_from_slice(&[7u8; 32]), Ok([7u8; 32]));
}

#[test]
fn proof_lengths_at_the_extremes() {
    assert_eq!(inclusion_proof_len(0, 1), Ok(0));
    assert_eq!(inclusion_proof_len(0, 0), Err(Error::IndexOutOfRange));
    assert_eq!(inclusion_proof_len(5, 5), Err(Error::IndexOutOfRange));
    assert_eq!(inclusion_proof_len(0, u64::MAX), Ok(64));
    // the last leaf of 2^64 - 1 is a subtree of its own: one sibling per other subtree
    assert_eq!(inclusion_proof_len(u64::MAX - 1, u64::MAX), Ok(63));
    assert_eq!(inclusion_proof_len(0, 1 << 63), Ok(63));
    assert_eq!(consistency_proof_len(3, u64::MAX), Ok(65));
    assert_eq!(consistency_proof_len(1 << 62, 1 << 63), Ok(1));
    assert_eq!(consistency_proof_len(7, 7), Ok(0));
    assert_eq!(consistency_proof_len(0, 7), Err(Error::EmptyTree));
    assert_eq!(consistency_proof_len(8, 7), Err(Error::SizesOutOfOrder));
    // nothing longer than MAX_PROOF_LEN exists
    for (a, b) in [(1u64, u64::MAX), (u64::MAX - 1, u64::MAX), (3, u64::MAX), (5, u64::MAX)] {
        assert!(consistency_proof_len(a, b).unwrap() <= MAX_PROOF_LEN);
    }
}

#[test]
fn a_proof_of_the_wrong_length_is_refused_before_any_hashing() {
    let l = leaves(10);
    let r = root(&l);
    let mut p = inclusion_proof(&l, 3).unwrap();
    p.push([0; 32]);
    assert_eq!(verify_inclusion(3, 10, &l[3], &p, &r), Err(Error::ProofLength));
    p.truncate(1);
    assert_eq!(verify_inclusion(3, 10, &l[3], &p, &r), Err(Error::ProofLength));
    let long = vec![[0u8; 32]; 1000];
    assert_eq!(verify_inclusion(3, 10, &l[3], &long, &r), Err(Error::ProofLength));
    assert_eq!(verify_consistency(3, 10, &r, &r, &long), Err(Error::ProofLength));
    assert_eq!(verify_consistency(10, 10, &r, &r, &[r]), Err(Error::ProofLength));
}

#[test]
fn equal_sizes_compare_roots() {
    let a = root(&leaves(4));
    let b = root(&leaves(5));
    assert_eq!(verify_consistency(4, 4, &a, &a, &[]), Ok(()));
    assert_eq!(verify_consistency(4, 4, &a, &b, &[]), Err(Error::RootMismatch));
}

#[test]
fn compact_range_state_and_limits() {
    let mut c = CompactRange::new();
    for l in leaves(11) {
        c.append(&l).unwrap();
    }
    assert_eq!(c.size(), 11);
    assert_eq!(c.peaks().len(), 3, "11 = 8 + 2 + 1");
    let again = CompactRange::from_parts(11, c.peaks().to_vec()).unwrap();
    assert_eq!(again, c);
    assert_eq!(CompactRange::from_parts(11, vec![[0; 32]; 2]), Err(Error::InvalidState));
    assert_eq!(CompactRange::from_parts(0, vec![[0; 32]]), Err(Error::InvalidState));
    let mut full = CompactRange::from_parts(u64::MAX, vec![[1; 32]; 64]).unwrap();
    assert_eq!(full.append(&[2; 32]), Err(Error::TreeFull));
    assert_eq!(full.size(), u64::MAX, "a refused append changes nothing");
    // the largest tree that still takes one more leaf folds all 63 peaks into one
    let mut big = CompactRange::from_parts(u64::MAX >> 1, vec![[1; 32]; 63]).unwrap();
    big.append(&[2; 32]).unwrap();
    assert_eq!(big.peaks().len(), 1);
    assert_eq!(big.size(), 1 << 63);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Every size of a random tree: the compact range's root is the tree's; every
    /// inclusion and consistency proof has the predicted length and verifies; a
    /// changed hash, leaf, index or root is refused.
    #[test]
    fn proofs_from_every_size_verify(n in 1usize..70, flip in any::<prop::sample::Index>()) {
        let l = leaves(n);
        let mut c = CompactRange::new();
        let mut roots = vec![empty_root()];
        for leaf in &l {
            c.append(leaf).unwrap();
            roots.push(c.root());
        }
        for size in 1..=n {
            prop_assert_eq!(roots[size], root(&l[..size]));
        }
        let size = n as u64;
        for i in 0..n {
            let p = inclusion_proof(&l, i as u64).unwrap();
            prop_assert_eq!(p.len(), inclusion_proof_len(i as u64, size).unwrap());
            prop_assert_eq!(verify_inclusion(i as u64, size, &l[i], &p, &roots[n]), Ok(()));
            prop_assert_eq!(verify_inclusion(i as u64, size, &leaf_hash(b"other"), &p, &roots[n]), Err(Error::RootMismatch));
            if !p.is_empty() {
                let mut bad = p.clone();
                let k = flip.index(bad.len());
                bad[k][k % 32] ^= 0x80;
                prop_assert_eq!(verify_inclusion(i as u64, size, &l[i], &bad, &roots[n]), Err(Error::RootMismatch));
            }
            if n > 1 {
                let j = (i + 1) % n;
                prop_assert!(verify_inclusion(j as u64, size, &l[i], &p, &roots[n]).is_err());
            }
        }
        for m in 1..=n {
            let p = consistency_proof(&l, m as u64).unwrap();
            prop_assert_eq!(p.len(), consistency_proof_len(m as u64, size).unwrap());
            prop_assert_eq!(verify_consistency(m as u64, size, &roots[m], &roots[n], &p), Ok(()));
            if m < n {
                prop_assert_eq!(verify_consistency(m as u64, size, &roots[m - 1], &roots[n], &p), Err(Error::RootMismatch));
                prop_assert_eq!(verify_consistency(m as u64, size, &roots[m], &roots[n - 1], &p), Err(Error::RootMismatch));
                let mut bad = p.clone();
                let k = flip.index(bad.len());
                bad[k][0] ^= 1;
                prop_assert_eq!(verify_consistency(m as u64, size, &roots[m], &roots[n], &bad), Err(Error::RootMismatch));
            }
        }
    }
}

/// docs/audit-log.md: a proof does not bind the tree size. The proof of entry 0
/// in a tree of 5 also verifies as a proof in a tree of 6, against the same root.
#[test]
fn a_proof_does_not_bind_the_size() {
    let l = leaves(5);
    let r = root(&l);
    let p = inclusion_proof(&l, 0).unwrap();
    assert_eq!(verify_inclusion(0, 5, &l[0], &p, &r), Ok(()));
    assert_eq!(verify_inclusion(0, 6, &l[0], &p, &r), Ok(()));
    // another shape along the path does not verify
    assert_eq!(verify_inclusion(0, 9, &l[0], &p, &r), Err(Error::ProofLength));
}

proptest! {
    /// Proofs from subtree hashes equal the proofs from all the leaves.
    #[test]
    fn proofs_from_subtrees_equal_proofs_from_leaves(n in 1u64..300, a in any::<u64>(), b in any::<u64>()) {
        let leaves: Vec<Hash> = (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        let mut src: &[Hash] = &leaves;
        let index = a % n;
        let size1 = b % n + 1;
        prop_assert_eq!(root_from(&mut src, n).unwrap(), root(&leaves));
        prop_assert_eq!(
            inclusion_proof_from(&mut src, index, n).unwrap(),
            inclusion_proof(&leaves, index).unwrap()
        );
        prop_assert_eq!(
            consistency_proof_from(&mut src, size1, n).unwrap(),
            consistency_proof(&leaves, size1).unwrap()
        );
        prop_assert_eq!(inclusion_proof_from(&mut src, n, n), Err(Error::IndexOutOfRange));
        prop_assert_eq!(consistency_proof_from(&mut src, n + 1, n), Err(Error::SizesOutOfOrder));
        prop_assert_eq!(consistency_proof_from(&mut src, 0, n), Err(Error::EmptyTree));
    }
}
