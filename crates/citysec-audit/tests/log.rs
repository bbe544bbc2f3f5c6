//! A controller's log: records stay until a checkpoint covering them was
//! exported; a full store denies (the default) or decides and counts, and the
//! next record logged carries the count.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test code: a failed unwrap or index is a failed test"
)]

use citysec_audit::Error;
use citysec_audit::checkpoint::CheckpointVerifier;
use citysec_audit::log::{Appended, ControllerLog, RamStore, RecordStore, WhenFull};
use citysec_audit::merkle::{leaf_hash, root};
use citysec_audit::note::NoteSigner;
use citysec_audit::record::{Kind, Outcome, Record};
use citysec_core::SigningKey;

fn decision(t: u64, allow: bool) -> Record {
    Record::new(Kind::DoorDecision, t, "door-7")
        .unwrap()
        .with_door("north-gate")
        .unwrap()
        .with_outcome(if allow { Outcome::Allow } else { Outcome::Deny })
        .with_step("policy")
        .unwrap()
}

#[test]
fn records_are_kept_until_exported_and_the_checkpoint_signs_the_tree() {
    let mut log = ControllerLog::new("door-7.city.example/log", RamStore::new(8, 4096), WhenFull::default()).unwrap();
    for t in 0..5 {
        assert_eq!(log.append(decision(t, t % 2 == 0)).unwrap(), Appended::Logged(t));
    }
    let leaves: Vec<_> = (0..5).map(|i| leaf_hash(log.store().get(i).unwrap())).collect();
    assert_eq!(log.root(), root(&leaves));
    assert_eq!(
        Record::from_cbor(log.store().get(3).unwrap()).unwrap(),
        decision(3, false)
    );

    let p = &citysec_rustcrypto::PROVIDER;
    let key = NoteSigner::new(
        "door-7.city.example/log",
        p.signer(SigningKey::ed25519(&[5; 32])).unwrap(),
    )
    .unwrap();
    let note = log.signed_checkpoint(&key).unwrap();
    let v = CheckpointVerifier::new("door-7.city.example/log", key.verifier(p).unwrap()).unwrap();
    let c = v.verify(p, note.as_bytes()).unwrap();
    assert_eq!((c.checkpoint().size(), c.checkpoint().root()), (5, &root(&leaves)));

    log.exported(3).unwrap();
    assert_eq!(log.store().first(), 3);
    assert_eq!(log.store().len(), 2);
    assert!(log.store().get(2).is_none());
    assert!(log.store().get(3).is_some());
    assert_eq!(log.exported(2).unwrap_err(), Error::Rollback);
    assert_eq!(log.exported(6).unwrap_err(), Error::SizesOutOfOrder);
    log.exported(5).unwrap();
    assert!(log.store().is_empty());
    assert_eq!(log.append(decision(9, true)).unwrap(), Appended::Logged(5));
    assert_eq!(log.store().first(), 5);
}

#[test]
fn a_full_store_denies_by_default_and_the_next_record_counts_the_gap() {
    let mut log = ControllerLog::new("door-7/log", RamStore::new(2, 4096), WhenFull::Deny).unwrap();
    log.append(decision(0, true)).unwrap();
    log.append(decision(1, true)).unwrap();
    assert_eq!(log.append(decision(2, true)).unwrap_err(), Error::StoreFull);
    assert_eq!(log.append(decision(3, false)).unwrap_err(), Error::StoreFull);
    assert_eq!((log.size(), log.dropped()), (2, 2));
    log.exported(2).unwrap();
    assert_eq!(log.append(decision(4, true)).unwrap(), Appended::Logged(2));
    let logged = Record::from_cbor(log.store().get(2).unwrap()).unwrap();
    assert_eq!(logged.dropped(), 2);
    assert_eq!(log.dropped(), 0);
    // the count is inside the log: the leaf covers it
    assert_ne!(
        leaf_hash(log.store().get(2).unwrap()),
        decision(4, true).leaf_hash().unwrap()
    );
}

#[test]
fn decide_and_count_keeps_deciding_and_counts() {
    let mut log = ControllerLog::new("door-7/log", RamStore::new(1, 4096), WhenFull::DecideAndCount).unwrap();
    log.append(decision(0, true)).unwrap();
    for t in 1..4 {
        assert_eq!(log.append(decision(t, true)).unwrap(), Appended::Dropped);
    }
    log.exported(1).unwrap();
    log.append(decision(5, true)).unwrap();
    assert_eq!(Record::from_cbor(log.store().get(1).unwrap()).unwrap().dropped(), 3);
}

#[test]
fn the_store_is_bounded_by_bytes_too() {
    let one = decision(0, true).to_cbor().unwrap().len();
    let mut store = RamStore::new(100, 2 * one);
    store.push(0, &vec![0; one]).unwrap();
    store.push(1, &vec![0; one]).unwrap();
    assert_eq!(store.push(2, &[0]).unwrap_err(), Error::StoreFull);
    assert_eq!(store.bytes(), 2 * one);
    assert_eq!(
        store.push(3, &[0]).unwrap_err(),
        Error::InvalidState,
        "not the next index"
    );
    store.release(1);
    assert_eq!(store.bytes(), one);
    store.push(2, &[0]).unwrap();
    assert_eq!(store.first(), 1);
}

/// A controller's log of `n` decisions, its records and its signer.
fn controller(n: u64) -> (ControllerLog<RamStore>, Vec<Vec<u8>>) {
    let mut log = ControllerLog::new(
        "door-7.city.example/log",
        RamStore::new(64, 1 << 16),
        WhenFull::default(),
    )
    .unwrap();
    for t in 0..n {
        log.append(decision(t, t % 3 != 0)).unwrap();
    }
    let records = (0..n).map(|i| log.store().get(i).unwrap().to_vec()).collect();
    (log, records)
}

#[test]
fn a_gateway_ingests_exactly_what_the_controller_signed() {
    use citysec_audit::ingest::ControllerFeed;
    let p = &citysec_rustcrypto::PROVIDER;
    let key = NoteSigner::new(
        "door-7.city.example/log",
        p.signer(SigningKey::ed25519(&[5; 32])).unwrap(),
    )
    .unwrap();
    let verifier = CheckpointVerifier::new("door-7.city.example/log", key.verifier(p).unwrap()).unwrap();
    let mut feed = ControllerFeed::new(verifier.clone());
    let (log, records) = controller(6);
    let refs: Vec<&[u8]> = records.iter().map(Vec::as_slice).collect();

    // The first four, with the checkpoint of 4 (a controller log of 4).
    let (log4, _) = controller(4);
    let note4 = log4.signed_checkpoint(&key).unwrap();
    assert_eq!(
        feed.ingest(p, note4.as_bytes(), &refs[..4])
            .unwrap()
            .checkpoint()
            .size(),
        4
    );
    let note6 = log.signed_checkpoint(&key).unwrap();

    // Each refusal leaves the feed at 4.
    let mut changed = refs[4..].to_vec();
    let other = decision(99, true).to_cbor().unwrap();
    changed[1] = &other;
    assert_eq!(
        feed.ingest(p, note6.as_bytes(), &changed).unwrap_err(),
        Error::RootMismatch
    );
    let swapped = [refs[5], refs[4]];
    assert_eq!(
        feed.ingest(p, note6.as_bytes(), &swapped).unwrap_err(),
        Error::RootMismatch
    );
    assert_eq!(
        feed.ingest(p, note6.as_bytes(), &refs[4..5]).unwrap_err(),
        Error::SizesOutOfOrder
    );
    let junk: [&[u8]; 2] = [refs[4], b"not a record"];
    assert_eq!(
        feed.ingest(p, note6.as_bytes(), &junk).unwrap_err(),
        Error::MalformedRecord
    );
    let (log3, _) = controller(3);
    let note3 = log3.signed_checkpoint(&key).unwrap();
    assert_eq!(feed.ingest(p, note3.as_bytes(), &[]).unwrap_err(), Error::Rollback);
    let rogue = NoteSigner::new(
        "door-7.city.example/log",
        p.signer(SigningKey::ed25519(&[6; 32])).unwrap(),
    )
    .unwrap();
    let forged = log.signed_checkpoint(&rogue).unwrap();
    assert_eq!(
        feed.ingest(p, forged.as_bytes(), &refs[4..]).unwrap_err(),
        Error::NoKnownSignature
    );
    assert_eq!(feed.size(), 4);

    // The rest, in order: the feed's range is the controller's tree.
    feed.ingest(p, note6.as_bytes(), &refs[4..]).unwrap();
    assert_eq!((feed.size(), feed.range().root()), (6, log.root()));
    // A restored feed goes on from there.
    let again = ControllerFeed::resume(verifier, feed.range().clone());
    assert_eq!(again.size(), 6);
}
