//! Split views, rollbacks, dropped and edited entries: a pinned checkpoint
//! accepts a newer one only with a consistency proof from it.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test code: a failed unwrap or index is a failed test"
)]

use citysec_audit::Error;
use citysec_audit::checkpoint::{Checkpoint, CheckpointVerifier, PIN_LEN, PinnedCheckpoint, VerifiedCheckpoint};
use citysec_audit::merkle::{Hash, consistency_proof, leaf_hash, root};
use citysec_audit::note::NoteSigner;
use citysec_core::SigningKey;
use citysec_core::provider::Signer;

const ORIGIN: &str = "citysec.example/site-log";

struct Log {
    signer: NoteSigner<Box<dyn Signer>>,
    verifier: CheckpointVerifier,
}

impl Log {
    fn new() -> Self {
        let p = &citysec_rustcrypto::PROVIDER;
        let signer = NoteSigner::new(ORIGIN, p.signer(SigningKey::ed25519(&[4; 32])).unwrap()).unwrap();
        let verifier = CheckpointVerifier::new(ORIGIN, signer.verifier(p).unwrap()).unwrap();
        Self { signer, verifier }
    }

    /// The verified checkpoint of the tree of `leaves`, as a controller gets it.
    fn checkpoint(&self, leaves: &[Hash]) -> VerifiedCheckpoint {
        let c = Checkpoint::new(ORIGIN, leaves.len() as u64, root(leaves)).unwrap();
        let note = c.sign(&self.signer).unwrap();
        self.verifier
            .verify(&citysec_rustcrypto::PROVIDER, note.as_bytes())
            .unwrap()
    }
}

fn entries(names: &[&str]) -> Vec<Hash> {
    names.iter().map(|n| leaf_hash(n.as_bytes())).collect()
}

const HONEST: [&str; 8] = [
    "door-1 allow",
    "door-2 deny",
    "door-1 allow",
    "door-3 allow",
    "door-2 allow",
    "door-4 deny",
    "door-1 deny",
    "door-3 allow",
];

#[test]
fn an_honest_log_advances_the_pin() {
    let log = Log::new();
    let all = entries(&HONEST);
    let mut pin = PinnedCheckpoint::new(&log.checkpoint(&all[..3]));
    for n in [3usize, 5, 5, 8] {
        let proof = consistency_proof(&all[..n], pin.size()).unwrap();
        pin.advance(&log.checkpoint(&all[..n]), &proof).unwrap();
        assert_eq!((pin.size(), pin.root()), (n as u64, &root(&all[..n])));
    }
    let bytes = pin.to_bytes();
    assert_eq!(bytes.len(), PIN_LEN);
    assert_eq!(PinnedCheckpoint::from_bytes(&bytes).unwrap(), pin);
    assert_eq!(
        PinnedCheckpoint::from_bytes(&bytes[1..]).unwrap_err(),
        Error::MalformedPin
    );
}

#[test]
fn a_dropped_or_edited_entry_a_rollback_and_a_split_view_are_refused() {
    let log = Log::new();
    let all = entries(&HONEST);
    let mut pin = PinnedCheckpoint::new(&log.checkpoint(&all[..5]));
    let before = pin;

    // An insider deletes entry 2 and the log grows on: the new tree does not
    // extend the pinned one, whatever proof the log makes for it.
    let mut dropped = all.clone();
    dropped.remove(2);
    let proof = consistency_proof(&dropped, 5).unwrap();
    assert_eq!(
        pin.advance(&log.checkpoint(&dropped), &proof).unwrap_err(),
        Error::RootMismatch
    );
    assert_eq!(pin, before, "a refused checkpoint leaves the pin");

    // An entry edited in place.
    let mut edited = all.clone();
    edited[1] = leaf_hash(b"door-2 allow");
    let proof = consistency_proof(&edited, 5).unwrap();
    assert_eq!(
        pin.advance(&log.checkpoint(&edited), &proof).unwrap_err(),
        Error::RootMismatch
    );

    // The honest proof does not make an edited tree acceptable either.
    let honest_proof = consistency_proof(&all, 5).unwrap();
    assert_eq!(
        pin.advance(&log.checkpoint(&edited), &honest_proof).unwrap_err(),
        Error::RootMismatch
    );

    // A rollback to a smaller tree.
    assert_eq!(
        pin.advance(&log.checkpoint(&all[..4]), &[]).unwrap_err(),
        Error::Rollback
    );

    // Two trees of the pinned size: a split view.
    let mut other = all[..5].to_vec();
    other[4] = leaf_hash(b"door-2 deny");
    assert_eq!(pin.advance(&log.checkpoint(&other), &[]).unwrap_err(), Error::SplitView);
    assert_eq!(
        pin.advance(&log.checkpoint(&other), &[[0; 32]]).unwrap_err(),
        Error::ProofLength
    );

    // A wrong proof for an honest tree is refused too; the honest one passes.
    let mut bad = honest_proof.clone();
    bad[0][0] ^= 1;
    assert_eq!(
        pin.advance(&log.checkpoint(&all), &bad).unwrap_err(),
        Error::RootMismatch
    );
    assert_eq!(pin, before);
    pin.advance(&log.checkpoint(&all), &honest_proof).unwrap();
    assert_eq!(pin.size(), 8);
}

#[test]
fn from_the_empty_tree_any_tree_follows_with_an_empty_proof() {
    let log = Log::new();
    let all = entries(&HONEST);
    let mut pin = PinnedCheckpoint::new(&log.checkpoint(&[]));
    assert_eq!(pin.size(), 0);
    assert_eq!(
        pin.advance(&log.checkpoint(&all[..2]), &[[0; 32]]).unwrap_err(),
        Error::ProofLength
    );
    pin.advance(&log.checkpoint(&all[..2]), &[]).unwrap();
    assert_eq!(pin.size(), 2);
}
