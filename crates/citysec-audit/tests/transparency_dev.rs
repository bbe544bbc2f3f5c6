//! Every inclusion and consistency vector of transparency-dev/merkle (vendored in
//! `vectors/transparency-dev-merkle`), with its expected outcome and the exact
//! error of each refusal.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed unwrap or index is a failed test"
)]

use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use citysec_audit::Error;
use citysec_audit::merkle::{
    Hash, consistency_proof, hash_from_slice, inclusion_proof, leaf_hash, verify_consistency, verify_inclusion,
};
use serde_json::Value;

fn vectors() -> PathBuf {
    std::env::var_os("CITYSEC_VECTORS")
        .map_or_else(
            || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../vectors"),
            PathBuf::from,
        )
        .join("transparency-dev-merkle/testdata")
}

/// The JSON files under `dir`, by path.
fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            files(&p, out);
        } else if p.extension().is_some_and(|e| e == "json") {
            out.push(p);
        }
    }
    out.sort();
}

fn bytes(v: &Value) -> Vec<u8> {
    STANDARD.decode(v.as_str().unwrap()).unwrap()
}

/// A hash field: a base64 string that must decode to 32 bytes.
fn hash(v: &Value) -> Result<Hash, Error> {
    hash_from_slice(&bytes(v))
}

/// The proof: `null` is no hashes.
fn proof(v: &Value) -> Result<Vec<Hash>, Error> {
    match v {
        Value::Null => Ok(Vec::new()),
        Value::Array(items) => items.iter().map(hash).collect(),
        other => panic!("proof is {other}"),
    }
}

fn int(v: &Value) -> u64 {
    v.as_u64().unwrap()
}

fn inclusion(v: &Value) -> Result<(), Error> {
    let (leaf, root, proof) = (hash(&v["leafHash"])?, hash(&v["root"])?, proof(&v["proof"])?);
    verify_inclusion(int(&v["leafIdx"]), int(&v["treeSize"]), &leaf, &proof, &root)
}

fn consistency(v: &Value) -> Result<(), Error> {
    let (root1, root2, proof) = (hash(&v["root1"])?, hash(&v["root2"])?, proof(&v["proof"])?);
    verify_consistency(int(&v["size1"]), int(&v["size2"]), &root1, &root2, &proof)
}

/// The leaf hashes of a tree of `n` leaves (their values do not matter: only
/// the shape of the proofs made from them is used).
fn tree(n: u64) -> Vec<Hash> {
    (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect()
}

/// The outcome a vector must have, by a rule stated independently of the
/// verifier: a field that is not a 32-byte hash is refused when read; then the
/// sizes and index are checked; then the proof must have the length of the proof
/// our generator (RFC 9162 `PATH` / `PROOF`) makes for the same tree shape;
/// anything left is a wrong hash somewhere, which leads to another root.
fn expected_inclusion(v: &Value) -> Result<(), Error> {
    let (_, _, proof) = (hash(&v["leafHash"])?, hash(&v["root"])?, proof(&v["proof"])?);
    let (index, size) = (int(&v["leafIdx"]), int(&v["treeSize"]));
    if index >= size {
        return Err(Error::IndexOutOfRange);
    }
    if proof.len() != inclusion_proof(&tree(size), index).unwrap().len() {
        return Err(Error::ProofLength);
    }
    if v["wantErr"].as_bool().unwrap() {
        Err(Error::RootMismatch)
    } else {
        Ok(())
    }
}

/// As [`expected_inclusion`], for consistency: sizes out of order, then a proof
/// from the empty tree, then the length, then the roots.
fn expected_consistency(v: &Value) -> Result<(), Error> {
    let (_, _, proof) = (hash(&v["root1"])?, hash(&v["root2"])?, proof(&v["proof"])?);
    let (size1, size2) = (int(&v["size1"]), int(&v["size2"]));
    if size1 > size2 {
        return Err(Error::SizesOutOfOrder);
    }
    if size1 == 0 {
        return Err(Error::EmptyTree);
    }
    if proof.len() != consistency_proof(&tree(size2), size1).unwrap().len() {
        return Err(Error::ProofLength);
    }
    if v["wantErr"].as_bool().unwrap() {
        Err(Error::RootMismatch)
    } else {
        Ok(())
    }
}

/// The one vector whose expectation this crate does not meet: two equal 12-byte
/// placeholder roots ("don't care 2") of trees of equal size one, expected
/// consistent. A root is a 32-byte SHA-256 hash here, so they are refused when
/// read.
const PLACEHOLDER_ROOTS: &str = "consistency/additional/sizes-are-equal-one-and-proof-is-empty.json";

fn run(kind: &str, verify: fn(&Value) -> Result<(), Error>, expected: fn(&Value) -> Result<(), Error>) -> usize {
    let mut paths = Vec::new();
    files(&vectors().join(kind), &mut paths);
    for p in &paths {
        let v: Value = serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap();
        let name = p.strip_prefix(vectors()).unwrap().to_str().unwrap().replace('\\', "/");
        let got = verify(&v);
        if name == PLACEHOLDER_ROOTS {
            assert!(!v["wantErr"].as_bool().unwrap());
            assert_eq!(got, Err(Error::HashLength), "{name}");
            continue;
        }
        assert_eq!(got.is_err(), v["wantErr"].as_bool().unwrap(), "{name}: {got:?}");
        assert_eq!(got, expected(&v), "{name}");
    }
    paths.len()
}

#[test]
fn every_inclusion_vector_has_its_expected_outcome() {
    assert_eq!(run("inclusion", inclusion, expected_inclusion), 98);
}

#[test]
fn every_consistency_vector_has_its_expected_outcome() {
    assert_eq!(run("consistency", consistency, expected_consistency), 98);
}

/// Some refusals checked by name, each with the error its tampering calls for.
#[test]
fn named_refusals() {
    let read = |name: &str| -> Value { serde_json::from_slice(&std::fs::read(vectors().join(name)).unwrap()).unwrap() };
    type Check = fn(&Value) -> Result<(), Error>;
    let cases: [(&str, Check, Error); 12] = [
        (
            "inclusion/4/modified-proof[0]-bit-@3.json",
            inclusion,
            Error::RootMismatch,
        ),
        ("inclusion/4/random-root.json", inclusion, Error::RootMismatch),
        ("inclusion/4/treeSize-mul-@2.json", inclusion, Error::ProofLength),
        ("inclusion/4/trailing-root.json", inclusion, Error::ProofLength),
        ("inclusion/4/wrong-leaf.json", inclusion, Error::HashLength),
        ("inclusion/0/leafIdx-sub-@1.json", inclusion, Error::IndexOutOfRange),
        ("consistency/3/swapped-roots.json", consistency, Error::RootMismatch),
        ("consistency/3/truncated-proof.json", consistency, Error::ProofLength),
        ("consistency/3/empty-proof.json", consistency, Error::ProofLength),
        (
            "consistency/additional/size1-is-greater-than-size2.json",
            consistency,
            Error::HashLength,
        ),
        (
            "consistency/additional/consistency-check-on-empty-tree-size1-is-zero-is-useless.json",
            consistency,
            Error::EmptyTree,
        ),
        (
            "consistency/additional/sizes-match-but-proof-is-not-empty-and-sizes-are-one.json",
            consistency,
            Error::ProofLength,
        ),
    ];
    for (name, f, want) in cases {
        assert_eq!(f(&read(name)), Err(want), "{name}");
    }
}
