//! COSE Receipts: the draft's two example receipts parse to their documented
//! contents; our inclusion and consistency receipts verify on both providers;
//! every refusal has its exact error; a receipt at 2^24 leaves fits in 1 KiB.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::cast_possible_truncation,
    reason = "test code: a failed unwrap or index is a failed test"
)]

use std::path::{Path, PathBuf};

use citysec_audit::Error;
use citysec_audit::merkle::{
    Hash, consistency_proof, consistency_proof_len, inclusion_proof, inclusion_proof_len, leaf_hash, node_hash, root,
};
use citysec_audit::receipt::{MAX_RECEIPT_LEN, Receipt, issue_consistency, issue_inclusion};
use citysec_core::cbor::{Tags, check_deterministic, write};
use citysec_core::provider::{Provider, Signer};
use citysec_core::{Algorithm, Limits, SigningKey};

fn vectors() -> PathBuf {
    std::env::var_os("CITYSEC_VECTORS").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../vectors"),
        PathBuf::from,
    )
}

fn providers() -> [&'static Provider; 2] {
    [&citysec_rustcrypto::PROVIDER, &citysec_ring::PROVIDER]
}

fn log_signer(seed: u8, kid: &[u8]) -> Box<dyn Signer> {
    citysec_rustcrypto::PROVIDER
        .signer(SigningKey::ed25519(&[seed; 32]).with_kid(kid.to_vec()))
        .unwrap()
}

fn leaves(n: usize) -> Vec<Hash> {
    (0..n).map(|i| leaf_hash(format!("entry {i}").as_bytes())).collect()
}

/// The draft's examples (draft-ietf-cose-merkle-tree-proofs, examples/): their
/// contents are checked; their signatures cannot be, since no key is published
/// for them (an ES256 key of ours only shows that they do not verify with it).
#[test]
fn the_draft_examples_parse_to_their_documented_contents() {
    let inc = Receipt::parse(&std::fs::read(vectors().join("cose-receipts/inclusion-receipt.cbor")).unwrap()).unwrap();
    assert_eq!(inc.algorithm(), Algorithm::ES256);
    assert_eq!(inc.kid(), Some(&b"test-key-1"[..]));
    assert_eq!(inc.payload(), None, "detached");
    assert!(inc.consistency_proofs().is_empty());
    let [p] = inc.inclusion_proofs() else {
        panic!("one proof")
    };
    assert_eq!((p.tree_size, p.leaf_index, p.path.len()), (5, 3, 3));
    assert_eq!(p.path.len(), inclusion_proof_len(3, 5).unwrap());
    assert_eq!(p.path[0][..4], [0x3d, 0x06, 0x45, 0x5d]);

    let con =
        Receipt::parse(&std::fs::read(vectors().join("cose-receipts/consistency-receipt.cbor")).unwrap()).unwrap();
    assert_eq!(con.algorithm(), Algorithm::ES256);
    assert!(con.inclusion_proofs().is_empty());
    let [c] = con.consistency_proofs() else {
        panic!("one proof")
    };
    assert_eq!((c.size1, c.size2, c.path.len()), (3, 5, 4));
    assert_eq!(c.path.len(), consistency_proof_len(3, 5).unwrap());
    // the two receipts are of one tree: the consistency path shares nodes
    assert_eq!(c.path[0], p.path[0]);
    assert_eq!(c.path[2..], p.path[1..]);

    // No key is published for them: with a key of ours they do not verify.
    let es256 = citysec_rustcrypto::PROVIDER
        .public_key(&SigningKey::p256(&[5; 32]).unwrap().with_kid(b"test-key-1".to_vec()))
        .unwrap();
    let es256 = citysec_rustcrypto::PROVIDER.import(es256).unwrap();
    assert_eq!(
        inc.verify_inclusion(&citysec_rustcrypto::PROVIDER, &es256, &[0; 32])
            .unwrap_err(),
        Error::BadSignature
    );
    // Nor is the old root of its consistency proof: a made-up one is not where
    // the path leads.
    assert_eq!(
        con.verify_consistency(&citysec_rustcrypto::PROVIDER, &es256, &[0; 32])
            .unwrap_err(),
        Error::RootMismatch
    );
}

#[test]
fn our_inclusion_receipts_verify_for_every_leaf_on_both_providers() {
    let log = log_signer(1, b"site-log-1");
    let l = leaves(7);
    let r = root(&l);
    for (i, leaf) in l.iter().enumerate() {
        let path = inclusion_proof(&l, i as u64).unwrap();
        let bytes = issue_inclusion(&log, 7, i as u64, &path, &r).unwrap();
        check_deterministic(&bytes[1..], &Limits::DEFAULT, Tags::Forbid).unwrap();
        let receipt = Receipt::parse(&bytes).unwrap();
        assert_eq!(receipt.kid(), Some(&b"site-log-1"[..]));
        for p in providers() {
            let key = p.import(log.verifying_key().clone()).unwrap();
            let v = receipt.verify_inclusion(p, &key, leaf).unwrap();
            assert_eq!(v.root(), &r);
            assert_eq!((v.claimed_tree_size(), v.claimed_leaf_index()), (7, Some(i as u64)));
            // another entry, another key, another kid
            assert_eq!(
                receipt.verify_inclusion(p, &key, &leaf_hash(b"forged")).unwrap_err(),
                Error::BadSignature
            );
            let stranger = p.import(log_signer(2, b"site-log-1").verifying_key().clone()).unwrap();
            assert_eq!(
                receipt.verify_inclusion(p, &stranger, leaf).unwrap_err(),
                Error::BadSignature
            );
            let other_kid = p.import(log_signer(1, b"site-log-2").verifying_key().clone()).unwrap();
            assert_eq!(
                receipt.verify_inclusion(p, &other_kid, leaf).unwrap_err(),
                Error::NoKnownSignature
            );
            // an inclusion receipt is not a consistency receipt
            assert_eq!(
                receipt.verify_consistency(p, &key, &r).unwrap_err(),
                Error::MalformedReceipt
            );
        }
    }
}

#[test]
fn our_consistency_receipts_verify_from_the_pinned_root() {
    let log = log_signer(1, b"site-log-1");
    let l = leaves(7);
    for m in 1..=7usize {
        let path = consistency_proof(&l, m as u64).unwrap();
        let bytes = issue_consistency(&log, m as u64, 7, &path, &root(&l)).unwrap();
        let receipt = Receipt::parse(&bytes).unwrap();
        for p in providers() {
            let key = p.import(log.verifying_key().clone()).unwrap();
            let v = receipt.verify_consistency(p, &key, &root(&l[..m])).unwrap();
            assert_eq!(
                (v.root(), v.claimed_tree_size(), v.claimed_leaf_index()),
                (&root(&l), 7, None)
            );
            // from another old root: the proof leads elsewhere (or to a root the
            // signature does not cover)
            let wrong = receipt.verify_consistency(p, &key, &root(&l[..m - 1])).unwrap_err();
            assert!(matches!(wrong, Error::RootMismatch | Error::BadSignature), "{wrong:?}");
        }
    }
}

/// The issue's size target: a receipt at 2^24 leaves is at most 1 KiB.
#[test]
fn a_receipt_at_2_pow_24_leaves_fits_in_1_kib() {
    // A tree whose leaves are all equal: each level's nodes are equal, so the
    // path and the root are cheap to compute and the proof is genuine.
    let mut level = leaf_hash(b"door-7 allow");
    let leaf = level;
    let mut path = Vec::new();
    for _ in 0..24 {
        path.push(level);
        level = node_hash(&level, &level);
    }
    let log = log_signer(1, b"site-log-1");
    let index = (1u64 << 24) - 1;
    let bytes = issue_inclusion(&log, 1 << 24, index, &path, &level).unwrap();
    assert!(bytes.len() <= 1024, "{} bytes", bytes.len());
    let p = &citysec_rustcrypto::PROVIDER;
    let key = p.import(log.verifying_key().clone()).unwrap();
    let v = Receipt::parse(&bytes)
        .unwrap()
        .verify_inclusion(p, &key, &leaf)
        .unwrap();
    assert_eq!(v.root(), &level);
    println!("receipt at 2^24 leaves: {} bytes", bytes.len());
}

#[test]
fn malformed_receipts_are_refused_with_exact_errors() {
    let log = log_signer(1, b"k");
    let l = leaves(5);
    let path = inclusion_proof(&l, 3).unwrap();
    let good = issue_inclusion(&log, 5, 3, &path, &root(&l)).unwrap();
    Receipt::parse(&good).unwrap();
    let replace = |from: &[u8], to: &[u8]| -> Vec<u8> {
        let i = good.windows(from.len()).position(|w| w == from).expect("pattern");
        let mut out = good[..i].to_vec();
        out.extend_from_slice(to);
        out.extend_from_slice(&good[i + from.len()..]);
        out
    };
    // untagged; another tag
    assert_eq!(Receipt::parse(&good[1..]).unwrap_err(), Error::MalformedReceipt);
    assert_eq!(
        Receipt::parse(&[&[0xd1][..], &good[1..]].concat()).unwrap_err(),
        Error::MalformedReceipt
    );
    // vds 2 (protected header `19 018b 01` -> `19 018b 02`)
    assert_eq!(
        Receipt::parse(&replace(&[0x19, 0x01, 0x8b, 0x01], &[0x19, 0x01, 0x8b, 0x02])).unwrap_err(),
        Error::UnsupportedReceipt
    );
    // alg ES384 (-35), an AEAD (24), and vds 2, written by hand
    let p3 = [proof(5, 3, &path.iter().map(|h| h.to_vec()).collect::<Vec<_>>())];
    assert_eq!(
        Receipt::parse(&by_hand_with(&log, -35, 1, &p3)).unwrap_err(),
        Error::UnsupportedReceipt
    );
    assert_eq!(
        Receipt::parse(&by_hand_with(&log, 24, 1, &p3)).unwrap_err(),
        Error::UnsupportedReceipt
    );
    assert_eq!(
        Receipt::parse(&by_hand_with(&log, -8, 2, &p3)).unwrap_err(),
        Error::UnsupportedReceipt
    );
    assert_eq!(
        Receipt::parse(&by_hand_with(&log, -7, 1, &p3)).unwrap().algorithm(),
        Algorithm::ES256
    );
    // vdp key -1 -> -2: a consistency receipt then; -1 -> -3: no proof at all
    let as_consistency = Receipt::parse(&replace(&[0xa1, 0x20, 0x81], &[0xa1, 0x21, 0x81])).unwrap();
    assert_eq!(as_consistency.consistency_proofs().len(), 1);
    assert_eq!(
        Receipt::parse(&replace(&[0xa1, 0x20, 0x81], &[0xa1, 0x22, 0x81])).unwrap_err(),
        Error::MalformedReceipt
    );
    // no vdp (396 -> 397)
    assert_eq!(
        Receipt::parse(&replace(&[0x19, 0x01, 0x8c], &[0x19, 0x01, 0x8d])).unwrap_err(),
        Error::MalformedReceipt
    );
    // a signature of 63 bytes: the head and one byte less
    let mut sig63 = good[..good.len() - 66].to_vec();
    sig63.extend_from_slice(&[0x58, 0x3f]);
    sig63.extend_from_slice(&good[good.len() - 63..]);
    assert_eq!(Receipt::parse(&sig63).unwrap_err(), Error::MalformedReceipt);
    // trailing bytes; too large
    assert_eq!(
        Receipt::parse(&[&good[..], &[0]].concat()).unwrap_err(),
        Error::MalformedReceipt
    );
    assert_eq!(
        Receipt::parse(&vec![0xd2; MAX_RECEIPT_LEN + 1]).unwrap_err(),
        Error::TooLarge
    );
    // a path longer than any tree's
    let long = vec![[0u8; 32]; 66];
    assert_eq!(
        issue_inclusion(&log, 5, 3, &long, &root(&l)).unwrap_err(),
        Error::ProofLength
    );
    // proofs written by hand: 66 hashes, a 31-byte hash, a negative size, two
    // proofs in one receipt
    let hashes = |n: usize, len: usize| -> Vec<Vec<u8>> { vec![vec![7u8; len]; n] };
    assert_eq!(
        Receipt::parse(&by_hand(&log, &[proof(5, 3, &hashes(66, 32))])).unwrap_err(),
        Error::ProofLength
    );
    assert_eq!(
        Receipt::parse(&by_hand(&log, &[proof(5, 3, &hashes(3, 31))])).unwrap_err(),
        Error::HashLength
    );
    let mut negative = proof(5, 3, &hashes(3, 32));
    negative[1] = 0x24; // -5
    assert_eq!(
        Receipt::parse(&by_hand(&log, &[negative])).unwrap_err(),
        Error::MalformedReceipt
    );
    let two = by_hand(&log, &[proof(5, 3, &hashes(3, 32)), proof(5, 3, &hashes(3, 32))]);
    let parsed = Receipt::parse(&two).unwrap();
    let key = citysec_rustcrypto::PROVIDER
        .import(log.verifying_key().clone())
        .unwrap();
    assert_eq!(
        parsed
            .verify_inclusion(&citysec_rustcrypto::PROVIDER, &key, &l[3])
            .unwrap_err(),
        Error::MalformedReceipt,
        "one proof per receipt"
    );
    // the hand-made writer agrees with ours
    let path_bytes: Vec<Vec<u8>> = path.iter().map(|h| h.to_vec()).collect();
    assert_eq!(by_hand(&log, &[proof(5, 3, &path_bytes)]).len(), good.len());
}

/// `[size, index, [hashes...]]`, sizes below 24.
fn proof(size: u8, index: u8, hashes: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    let Ok(()) = (|| -> Result<(), core::convert::Infallible> {
        write::array(&mut out, 3)?;
        write::uint(&mut out, u64::from(size))?;
        write::uint(&mut out, u64::from(index))?;
        write::array(&mut out, hashes.len())?;
        for h in hashes {
            write::bytes(&mut out, h)?;
        }
        Ok(())
    })();
    out
}

/// A receipt around `proofs` (inclusion), with a signature of `log` over a root
/// of zeros (its signature does not matter to the parser).
fn by_hand(log: &dyn Signer, proofs: &[Vec<u8>]) -> Vec<u8> {
    by_hand_with(log, -8, 1, proofs)
}

/// As [`by_hand`], with the protected header's `alg` and `vds`.
fn by_hand_with(log: &dyn Signer, alg: i64, vds: u64, proofs: &[Vec<u8>]) -> Vec<u8> {
    let mut protected = Vec::new();
    let mut out = Vec::new();
    let sig = log.sign(b"anything").unwrap();
    let Ok(()) = (|| -> Result<(), core::convert::Infallible> {
        write::map(&mut protected, 3)?;
        write::uint(&mut protected, 1)?;
        write::int(&mut protected, alg)?;
        write::uint(&mut protected, 4)?;
        write::bytes(&mut protected, log.kid().unwrap())?;
        write::uint(&mut protected, 395)?;
        write::uint(&mut protected, vds)?;
        write::tag(&mut out, 18)?;
        write::array(&mut out, 4)?;
        write::bytes(&mut out, &protected)?;
        write::map(&mut out, 1)?;
        write::uint(&mut out, 396)?;
        write::map(&mut out, 1)?;
        write::int(&mut out, -1)?;
        write::array(&mut out, proofs.len())?;
        for p in proofs {
            write::bytes(&mut out, p)?;
        }
        write::null(&mut out)?;
        write::bytes(&mut out, &sig)
    })();
    out
}
