//! The std telemetry adapters: a gateway restarted from its redb store accepts no
//! replay, file counters survive reboots, and parallel batch opening gives the same
//! results as opening one by one.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::cast_possible_truncation,
    reason = "test code: a failed unwrap or index is a failed test"
)]

use citysec_core::RustCrypto;
use citysec_ring::Ring;
use citysec_std::telemetry::{FileCounterStore, RedbReplayStore, open_batch_parallel};
use citysec_telemetry::{Error, MasterSecret, MemoryReplayStore, Receiver, ReceiverConfig, Sender, seal};

fn master() -> MasterSecret {
    MasterSecret::new([0x42; 32])
}

fn env(device: &str, seq: u64) -> Vec<u8> {
    let key = master().derive(&RustCrypto, device.as_bytes(), 0).unwrap();
    seal(&RustCrypto, &key, seq, "t", &seq.to_be_bytes()).unwrap()
}

#[test]
fn a_gateway_restarted_from_redb_accepts_no_replay() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("replay.redb");
    let envs: Vec<Vec<u8>> = (0..30).map(|s| env("sensor-1", s)).collect();
    {
        let mut r = Receiver::new(
            master(),
            ReceiverConfig::default(),
            RedbReplayStore::open(&path).unwrap(),
        );
        for e in &envs[..20] {
            let mut out = Vec::new();
            r.open(&Ring, e, None, &mut out).unwrap();
        }
        // the gateway stops here (drop closes the database)
    }
    let mut r = Receiver::new(
        master(),
        ReceiverConfig::default(),
        RedbReplayStore::open(&path).unwrap(),
    );
    let mut out = Vec::new();
    for e in &envs[..20] {
        let err = r.open(&Ring, e, None, &mut out).err().unwrap();
        assert!(matches!(err, Error::Replay | Error::OutsideWindow), "{err:?}");
    }
    for e in &envs[20..] {
        assert!(r.open(&Ring, e, None, &mut out).is_ok());
    }
    // and a batch, persisted in one transaction, survives a restart too
    let more: Vec<Vec<u8>> = (0..100).map(|d| env(&format!("d{d}"), 1)).collect();
    let refs: Vec<&[u8]> = more.iter().map(Vec::as_slice).collect();
    assert!(r.open_batch(&Ring, &refs).iter().all(Result::is_ok));
    drop(r);
    let mut r = Receiver::new(
        master(),
        ReceiverConfig::default(),
        RedbReplayStore::open(&path).unwrap(),
    );
    assert!(
        r.open_batch(&Ring, &refs)
            .iter()
            .all(|x| x.as_ref().err() == Some(&Error::Replay))
    );
}

#[test]
fn file_counters_survive_reboots() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("counter");
    let mut seqs = Vec::new();
    for _boot in 0..3 {
        let key = master().derive(&RustCrypto, b"s", 0).unwrap();
        let mut s = Sender::new(key, FileCounterStore::new(&path), 8).unwrap();
        for _ in 0..3 {
            seqs.push(s.seal(&RustCrypto, "t", b"x").unwrap().0);
        }
    }
    assert_eq!(seqs, [0, 1, 2, 8, 9, 10, 16, 17, 18]);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "24\n");
    // an unreadable counter file stops the sender
    std::fs::write(&path, "not a number").unwrap();
    let key = master().derive(&RustCrypto, b"s", 0).unwrap();
    assert_eq!(
        Sender::new(key, FileCounterStore::new(&path), 8).err(),
        Some(Error::CounterStore)
    );
}

#[test]
fn parallel_batch_equals_single_opens() {
    let mut envs: Vec<Vec<u8>> = (0..2000).map(|d| env(&format!("dev-{d}"), 7)).collect();
    envs.push(envs[5].clone());
    envs.push(vec![0xd0, 0x83]);
    let mut bad = envs[9].clone();
    let n = bad.len();
    bad[n - 1] ^= 1;
    envs.push(bad);
    let refs: Vec<&[u8]> = envs.iter().map(Vec::as_slice).collect();
    let mut one = Receiver::new(master(), ReceiverConfig::default(), MemoryReplayStore::new());
    let expected: Vec<_> = refs
        .iter()
        .map(|e| {
            let mut out = Vec::new();
            one.open(&Ring, e, None, &mut out).map(|x| (x.seq(), out))
        })
        .collect();
    let mut par = Receiver::new(master(), ReceiverConfig::default(), MemoryReplayStore::new());
    let got: Vec<_> = open_batch_parallel(&mut par, &Ring, &refs, 2)
        .into_iter()
        .map(|r| r.map(|(e, p)| (e.seq(), p)))
        .collect();
    assert_eq!(got, expected);
    assert_eq!(got.iter().filter(|r| r.is_ok()).count(), 2000);
}
