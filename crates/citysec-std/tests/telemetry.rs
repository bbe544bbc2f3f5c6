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
    clippy::std_instead_of_alloc,
    reason = "test code: a failed unwrap or index is a failed test; Arc from std"
)]

use std::sync::{Arc, Mutex};

use citysec_std::telemetry::{FileCounterStore, RedbReplayStore, open_batch_parallel};
use citysec_telemetry::window::ReplayWindow;
use citysec_telemetry::{
    Error, MasterSecret, MemoryReplayStore, Receiver, ReceiverConfig, ReplayStore, ReplayStorePart, SHARDS, Sender,
    device_shard, seal,
};

fn master() -> MasterSecret {
    MasterSecret::new([0x42; 32])
}

fn env(device: &str, seq: u64) -> Vec<u8> {
    let key = master()
        .derive(&citysec_rustcrypto::PROVIDER, device.as_bytes(), 0)
        .unwrap();
    seal(&citysec_rustcrypto::PROVIDER, &key, seq, "t", &seq.to_be_bytes()).unwrap()
}

#[test]
fn a_gateway_restarted_from_redb_accepts_no_replay() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("replay.redb");
    let envs: Vec<Vec<u8>> = (0..30).map(|s| env("sensor-1", s)).collect();
    {
        let mut r = Receiver::new(
            &citysec_rustcrypto::PROVIDER,
            master(),
            ReceiverConfig::default(),
            RedbReplayStore::open(&path).unwrap(),
        );
        for e in &envs[..20] {
            let mut out = Vec::new();
            r.open(e, None, &mut out).unwrap();
        }
        // the gateway stops here (drop closes the database)
    }
    let mut r = Receiver::new(
        &citysec_rustcrypto::PROVIDER,
        master(),
        ReceiverConfig::default(),
        RedbReplayStore::open(&path).unwrap(),
    );
    let mut out = Vec::new();
    for e in &envs[..20] {
        let err = r.open(e, None, &mut out).err().unwrap();
        assert!(matches!(err, Error::Replay | Error::OutsideWindow), "{err:?}");
    }
    for e in &envs[20..] {
        assert!(r.open(e, None, &mut out).is_ok());
    }
    // and a batch, persisted in one transaction, survives a restart too
    let more: Vec<Vec<u8>> = (0..100).map(|d| env(&format!("d{d}"), 1)).collect();
    let refs: Vec<&[u8]> = more.iter().map(Vec::as_slice).collect();
    assert!(r.open_batch(&refs).iter().all(Result::is_ok));
    drop(r);
    let mut r = Receiver::new(
        &citysec_rustcrypto::PROVIDER,
        master(),
        ReceiverConfig::default(),
        RedbReplayStore::open(&path).unwrap(),
    );
    assert!(
        r.open_batch(&refs)
            .iter()
            .all(|x| x.as_ref().err() == Some(&Error::Replay))
    );
}

#[test]
fn file_counters_survive_reboots() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("counter");
    FileCounterStore::provision(&path, 0).unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "0\n");
    let mut seqs = Vec::new();
    for _boot in 0..3 {
        let key = master().derive(&citysec_rustcrypto::PROVIDER, b"s", 0).unwrap();
        let mut s = Sender::new(&citysec_rustcrypto::PROVIDER, key, FileCounterStore::open(&path), 8).unwrap();
        for _ in 0..3 {
            seqs.push(s.seal("t", b"x").unwrap().0);
        }
    }
    assert_eq!(seqs, [0, 1, 2, 8, 9, 10, 16, 17, 18]);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "24\n");
    // provisioning never overwrites a counter
    assert_eq!(
        FileCounterStore::provision(&path, 0).unwrap_err().io_kind(),
        Some(std::io::ErrorKind::AlreadyExists)
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "24\n");
    // an unreadable or corrupt counter file stops the sender
    for corrupt in [
        &b"not a number"[..],
        b"",
        b"\n",
        b"24",
        b"-1\n",
        b" 24\n",
        b"18446744073709551616\n",
    ] {
        std::fs::write(&path, corrupt).unwrap();
        let key = master().derive(&citysec_rustcrypto::PROVIDER, b"s", 0).unwrap();
        assert_eq!(
            Sender::new(&citysec_rustcrypto::PROVIDER, key, FileCounterStore::open(&path), 8).err(),
            Some(Error::CounterStore),
            "{corrupt:?}"
        );
    }
    std::fs::remove_file(&path).unwrap();
    std::fs::create_dir(&path).unwrap();
    let key = master().derive(&citysec_rustcrypto::PROVIDER, b"s", 0).unwrap();
    assert_eq!(
        Sender::new(&citysec_rustcrypto::PROVIDER, key, FileCounterStore::open(&path), 8).err(),
        Some(Error::CounterStore)
    );
}

#[test]
fn a_lost_counter_file_is_refused_and_recovered_at_the_next_epoch() {
    let dir = tempfile::tempdir().unwrap();
    let counter = dir.path().join("sensor-7.counter");
    let mut gateway = Receiver::new(
        &citysec_rustcrypto::PROVIDER,
        master(),
        ReceiverConfig::default().with_epochs(&[0, 1]),
        RedbReplayStore::open(dir.path().join("replay.redb")).unwrap(),
    );
    let mut out = Vec::new();
    // provision at epoch 0, send
    FileCounterStore::provision(&counter, 0).unwrap();
    let key0 = || master().derive(&citysec_rustcrypto::PROVIDER, b"sensor-7", 0).unwrap();
    let sender_with = |key| Sender::new(&citysec_rustcrypto::PROVIDER, key, FileCounterStore::open(&counter), 16);
    let mut sender = sender_with(key0()).unwrap();
    for expected in 0..5 {
        let (seq, env) = sender.seal("t", b"x").unwrap();
        assert_eq!(seq, expected);
        assert_eq!(gateway.open(&env, Some("t"), &mut out).map(|o| o.seq()), Ok(seq));
    }
    drop(sender);
    // the file is lost: the sender refuses, at any epoch, and writes nothing
    std::fs::remove_file(&counter).unwrap();
    assert_eq!(sender_with(key0()).err(), Some(Error::CounterMissing));
    let key1 = || master().derive(&citysec_rustcrypto::PROVIDER, b"sensor-7", 1).unwrap();
    assert_eq!(sender_with(key1()).err(), Some(Error::CounterMissing));
    assert!(!counter.exists());
    // re-provisioned at epoch 1, above the gateway's highest number for the device
    // (its replay window is per device across key epochs): accepted
    let highest = gateway.highest_seq(b"sensor-7").unwrap();
    assert_eq!(highest, Some(4));
    FileCounterStore::provision(&counter, highest.unwrap() + 1).unwrap();
    let mut sender = sender_with(key1()).unwrap();
    let (seq, env) = sender.seal("t", b"after").unwrap();
    assert_eq!(seq, 5);
    let opened = gateway.open(&env, Some("t"), &mut out).unwrap();
    assert_eq!((opened.epoch(), opened.seq(), out.as_slice()), (1, 5, &b"after"[..]));
    // an epoch-1 counter provisioned from 0 instead would be refused by the gateway
    let mut from_zero = Sender::new(
        &citysec_rustcrypto::PROVIDER,
        key1(),
        citysec_telemetry::MemoryCounterStore::provisioned(0),
        16,
    )
    .unwrap();
    let (_, env) = from_zero.seal("t", b"x").unwrap();
    assert_eq!(gateway.open(&env, Some("t"), &mut out).err(), Some(Error::Replay));
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
    let mut one = Receiver::new(
        &citysec_rustcrypto::PROVIDER,
        master(),
        ReceiverConfig::default(),
        MemoryReplayStore::new(),
    );
    let expected: Vec<_> = refs
        .iter()
        .map(|e| {
            let mut out = Vec::new();
            one.open(e, None, &mut out).map(|x| (x.seq(), out))
        })
        .collect();
    let mut par = Receiver::new(
        &citysec_rustcrypto::PROVIDER,
        master(),
        ReceiverConfig::default(),
        MemoryReplayStore::new(),
    );
    let got: Vec<_> = open_batch_parallel(&mut par, &refs, 2)
        .into_iter()
        .map(|r| r.map(|(e, p)| (e.seq(), p)))
        .collect();
    assert_eq!(got, expected);
    assert_eq!(got.iter().filter(|r| r.is_ok()).count(), 2000);
}

/// Envelopes from `devices` devices, `per` each, interleaved, plus a duplicate of
/// the first one at the end.
fn spread(devices: usize, per: u64) -> Vec<Vec<u8>> {
    let mut envs = Vec::new();
    for s in 0..per {
        for d in 0..devices {
            envs.push(env(&format!("spread-{d}"), s));
        }
    }
    envs.push(envs[0].clone());
    envs
}

#[test]
fn a_parallel_batch_persists_in_the_store_parts_before_handing_out() {
    let envs = spread(300, 3);
    let refs: Vec<&[u8]> = envs.iter().map(Vec::as_slice).collect();
    let mut r = Receiver::new(
        &citysec_rustcrypto::PROVIDER,
        master(),
        ReceiverConfig::default(),
        MemoryReplayStore::new(),
    );
    let got = open_batch_parallel(&mut r, &refs, 2);
    assert_eq!(got.iter().filter(|x| x.is_ok()).count(), 900);
    assert_eq!(got[900].as_ref().err(), Some(&Error::Replay));
    // Every accepted window is in the store: a gateway restarted from it refuses
    // the whole batch, in parallel and one by one.
    let store = r.into_store();
    assert_eq!(store.len(), 300);
    let mut again = Receiver::new(
        &citysec_rustcrypto::PROVIDER,
        master(),
        ReceiverConfig::default(),
        store.clone(),
    );
    assert!(
        open_batch_parallel(&mut again, &refs, 2)
            .iter()
            .all(|x| x.as_ref().err() == Some(&Error::Replay))
    );
    let mut one = Receiver::new(
        &citysec_rustcrypto::PROVIDER,
        master(),
        ReceiverConfig::default(),
        store,
    );
    let mut out = Vec::new();
    for e in &refs {
        assert_eq!(one.open(e, None, &mut out).err(), Some(Error::Replay));
        assert!(out.is_empty());
    }
}

/// A store without parts that can be made to fail, keeping what it saved.
#[derive(Default)]
struct Flaky {
    inner: MemoryReplayStore,
    fail: core::sync::atomic::AtomicBool,
}

impl ReplayStore for Flaky {
    fn load(&self, device: &[u8]) -> citysec_telemetry::Result<Option<ReplayWindow>> {
        self.inner.load(device)
    }
    fn save(&mut self, updates: &[(&[u8], ReplayWindow)]) -> citysec_telemetry::Result<()> {
        if self.fail.load(core::sync::atomic::Ordering::Relaxed) {
            return Err(Error::ReplayStore);
        }
        self.inner.save(updates)
    }
}

#[test]
fn a_parallel_batch_whose_store_fails_accepts_nothing_and_recovers() {
    let envs = spread(200, 2);
    let refs: Vec<&[u8]> = envs.iter().map(Vec::as_slice).collect();
    let store = Flaky::default();
    store.fail.store(true, core::sync::atomic::Ordering::Relaxed);
    let mut r = Receiver::new(
        &citysec_rustcrypto::PROVIDER,
        master(),
        ReceiverConfig::default(),
        store,
    );
    let got = open_batch_parallel(&mut r, &refs, 2);
    assert!(got[..400].iter().all(|x| x.as_ref().err() == Some(&Error::ReplayStore)));
    // (the duplicate within the batch is still a replay of its first copy, as in
    // `Receiver::open_batch`)
    assert_eq!(got[400].as_ref().err(), Some(&Error::Replay));
    // Nothing counted as accepted: once the store works, the same batch goes through.
    let store = r.into_store();
    store.fail.store(false, core::sync::atomic::Ordering::Relaxed);
    assert!(store.inner.is_empty());
    let mut r = Receiver::new(
        &citysec_rustcrypto::PROVIDER,
        master(),
        ReceiverConfig::default(),
        store,
    );
    let got = open_batch_parallel(&mut r, &refs, 2);
    assert_eq!(got.iter().filter(|x| x.is_ok()).count(), 400);
    assert_eq!(got[400].as_ref().err(), Some(&Error::Replay));
}

/// A store whose parts save into a shared memory store, and whose part for one
/// shard fails.
struct OnePartFails {
    parts: Vec<Part>,
}

struct Part {
    shard: usize,
    broken: bool,
    saved: Arc<Mutex<MemoryReplayStore>>,
}

impl ReplayStorePart for Part {
    fn load(&self, device: &[u8]) -> citysec_telemetry::Result<Option<ReplayWindow>> {
        self.saved.lock().unwrap().load(device)
    }
    fn save(&mut self, updates: &[(&[u8], ReplayWindow)]) -> citysec_telemetry::Result<()> {
        assert!(updates.iter().all(|(d, _)| device_shard(d) == self.shard));
        if self.broken {
            return Err(Error::ReplayStore);
        }
        self.saved.lock().unwrap().save(updates)
    }
}

impl ReplayStore for OnePartFails {
    fn load(&self, device: &[u8]) -> citysec_telemetry::Result<Option<ReplayWindow>> {
        self.parts[device_shard(device)].load(device)
    }
    fn save(&mut self, updates: &[(&[u8], ReplayWindow)]) -> citysec_telemetry::Result<()> {
        for u in updates {
            self.parts[device_shard(u.0)].save(core::slice::from_ref(u))?;
        }
        Ok(())
    }
    fn parts_mut(&mut self) -> Option<[&mut dyn ReplayStorePart; SHARDS]> {
        let parts: Vec<&mut dyn ReplayStorePart> = self
            .parts
            .iter_mut()
            .map(|p| -> &mut dyn ReplayStorePart { p })
            .collect();
        parts.try_into().ok()
    }
}

#[test]
fn a_failing_store_part_refuses_its_shard_and_nothing_else() {
    let envs = spread(400, 2);
    let refs: Vec<&[u8]> = envs.iter().map(Vec::as_slice).collect();
    let broken = device_shard(b"spread-0");
    let saved = Arc::new(Mutex::new(MemoryReplayStore::new()));
    let parts = (0..SHARDS)
        .map(|shard| Part {
            shard,
            broken: shard == broken,
            saved: saved.clone(),
        })
        .collect();
    let mut r = Receiver::new(
        &citysec_rustcrypto::PROVIDER,
        master(),
        ReceiverConfig::default(),
        OnePartFails { parts },
    );
    let got = open_batch_parallel(&mut r, &refs, 2);
    let key = |e: &[u8]| {
        citysec_telemetry::Envelope::parse(e, 1 << 16)
            .unwrap()
            .device_id()
            .to_vec()
    };
    for (e, x) in refs.iter().zip(&got).take(800) {
        if device_shard(&key(e)) == broken {
            assert_eq!(x.as_ref().err(), Some(&Error::ReplayStore));
        } else {
            assert!(x.is_ok());
        }
    }
    // The duplicate of an envelope of the broken shard is refused too.
    assert_eq!(got[800].as_ref().err(), Some(&Error::Replay));
    // The broken shard's windows were forgotten: with the part repaired, its
    // envelopes are accepted now, and everything else is a replay.
    for p in &mut r.into_store().parts {
        p.broken = false;
    }
    let store = Arc::try_unwrap(saved).ok().unwrap().into_inner().unwrap();
    let mut r = Receiver::new(
        &citysec_rustcrypto::PROVIDER,
        master(),
        ReceiverConfig::default(),
        store,
    );
    let mut out = Vec::new();
    for e in &refs[..800] {
        let x = r.open(e, None, &mut out);
        if device_shard(&key(e)) == broken {
            assert!(x.is_ok());
        } else {
            assert_eq!(x.err(), Some(Error::Replay));
        }
    }
}

#[test]
fn a_small_parallel_batch_opens_one_by_one_with_the_same_results() {
    let mut envs: Vec<Vec<u8>> = (0..20).map(|d| env(&format!("small-{d}"), 3)).collect();
    envs.push(envs[2].clone());
    envs.push(b"not an envelope".to_vec());
    let refs: Vec<&[u8]> = envs.iter().map(Vec::as_slice).collect();
    let mut one = Receiver::new(
        &citysec_rustcrypto::PROVIDER,
        master(),
        ReceiverConfig::default(),
        MemoryReplayStore::new(),
    );
    let expected: Vec<_> = refs
        .iter()
        .map(|e| {
            let mut out = Vec::new();
            one.open(e, None, &mut out).map(|x| (x.seq(), out))
        })
        .collect();
    let mut par = Receiver::new(
        &citysec_rustcrypto::PROVIDER,
        master(),
        ReceiverConfig::default(),
        MemoryReplayStore::new(),
    );
    let got: Vec<_> = open_batch_parallel(&mut par, &refs, 2)
        .into_iter()
        .map(|r| r.map(|(e, p)| (e.seq(), p)))
        .collect();
    assert_eq!(got, expected);
    assert_eq!(got.iter().filter(|r| r.is_ok()).count(), 20);
}

/// An audit sink that keeps the refusals it is told of.
#[derive(Debug, Default)]
struct Refusals(Mutex<Vec<(Vec<u8>, u64, String)>>);

impl citysec_core::audit::AuditSink for Refusals {
    fn record(
        &self,
        _time: Option<citysec_core::Timestamp>,
        event: &citysec_core::audit::AuditEvent<'_>,
    ) -> Result<(), citysec_core::audit::AuditError> {
        match *event {
            citysec_core::audit::AuditEvent::TelemetryRefused { device, seq, reason } => {
                self.0.lock().unwrap().push((device.to_vec(), seq, reason.to_owned()));
                Ok(())
            }
            _ => panic!("a receiver reports only refusals: {event:?}"),
        }
    }
}

#[test]
fn every_refused_envelope_is_reported_once_whichever_way_it_was_opened() {
    let mut envs = spread(300, 2);
    let mut forged = envs[5].clone();
    let n = forged.len();
    forged[n - 1] ^= 1;
    envs.push(forged);
    envs.push(b"not an envelope".to_vec());
    let refs: Vec<&[u8]> = envs.iter().map(Vec::as_slice).collect();
    // What must be reported: (device, seq, message) of every refusal of a
    // parseable envelope, in arrival order.
    let expected = vec![
        (b"spread-0".to_vec(), 0, Error::Replay.to_string()),
        (
            b"spread-5".to_vec(),
            0,
            Error::Core(citysec_core::Error::DecryptFailed).to_string(),
        ),
    ];
    let sorted = |sink: &Refusals| {
        let mut v = sink.0.lock().unwrap().clone();
        v.sort();
        v
    };
    let dir = tempfile::tempdir().unwrap();
    for way in ["one by one", "batch", "parallel, store parts", "parallel, staged"] {
        let sink = Arc::new(Refusals::default());
        let audit: Arc<dyn citysec_core::audit::AuditSink> = sink.clone();
        let config = ReceiverConfig::default();
        let p = &citysec_rustcrypto::PROVIDER;
        let results: Vec<bool> = match way {
            "one by one" => {
                let mut r = Receiver::new(p, master(), config, MemoryReplayStore::new()).with_audit(audit);
                refs.iter().map(|e| r.open(e, None, &mut Vec::new()).is_ok()).collect()
            }
            "batch" => {
                let mut r = Receiver::new(p, master(), config, MemoryReplayStore::new()).with_audit(audit);
                r.open_batch(&refs).iter().map(Result::is_ok).collect()
            }
            "parallel, store parts" => {
                let mut r = Receiver::new(p, master(), config, MemoryReplayStore::new()).with_audit(audit);
                open_batch_parallel(&mut r, &refs, 2)
                    .iter()
                    .map(Result::is_ok)
                    .collect()
            }
            _ => {
                let mut store = RedbReplayStore::open(dir.path().join("staged.redb")).unwrap();
                assert!(store.parts_mut().is_none(), "redb stages its windows");
                let mut r = Receiver::new(p, master(), config, store).with_audit(audit);
                open_batch_parallel(&mut r, &refs, 2)
                    .iter()
                    .map(Result::is_ok)
                    .collect()
            }
        };
        assert_eq!(results.iter().filter(|ok| **ok).count(), 600, "{way}");
        let mut want = expected.clone();
        want.sort();
        assert_eq!(sorted(&sink), want, "{way}");
    }
}
