//! Telemetry envelopes end to end: round trips on both backends, every bad input
//! and fault from the issue with its exact outcome, restart safety, and a
//! million-envelope replay property test.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::cast_possible_truncation,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc,
    reason = "test code: a failed unwrap or index is a failed test"
)]

use std::cell::Cell;

use citysec_core::Error as CoreError;
use citysec_core::provider::Provider;
use citysec_core::sign1::VerifyOptions;
use citysec_telemetry::window::ReplayWindow;
use citysec_telemetry::{
    CounterStore, Envelope, Error, LocalAsShared, MasterSecret, MemoryCounterStore, MemoryReplayStore, Receiver,
    ReceiverConfig, ReplayStore, Sender, Shared, SharedReplayStore, seal,
};

const MASTER: [u8; 32] = [0x5a; 32];
const TOPIC: &str = "city/air/no2";

fn master() -> MasterSecret {
    MasterSecret::new(MASTER)
}

fn receiver() -> Receiver<MemoryReplayStore> {
    Receiver::new(
        &citysec_rustcrypto::PROVIDER,
        master(),
        ReceiverConfig::default(),
        MemoryReplayStore::new(),
    )
}

fn envelope(device: &[u8], seq: u64, topic: &str, body: &[u8]) -> Vec<u8> {
    let key = master().derive(&citysec_rustcrypto::PROVIDER, device, 0).unwrap();
    seal(&citysec_rustcrypto::PROVIDER, &key, seq, topic, body).unwrap()
}

fn open(r: &mut Receiver<MemoryReplayStore>, env: &[u8]) -> Result<(u64, Vec<u8>), Error> {
    let mut out = Vec::new();
    r.open(env, None, &mut out).map(|e| (e.seq(), out))
}

#[test]
fn round_trip_on_both_backends_and_the_generic_cose_parser_agrees() {
    let both: [(&Provider, &Provider); 2] = [
        (&citysec_rustcrypto::PROVIDER, &citysec_rustcrypto::PROVIDER),
        (&citysec_ring::PROVIDER, &citysec_ring::PROVIDER),
    ];
    for (sealer, sealer_backend) in both {
        let key = master().derive(sealer, b"sensor-1", 0).unwrap();
        let env = seal(sealer, &key, 7, TOPIC, b"reading").unwrap();
        for (opener, _) in both {
            let mut r = Receiver::new(opener, master(), ReceiverConfig::default(), MemoryReplayStore::new());
            let mut out = Vec::new();
            let e = r.open(&env, Some(TOPIC), &mut out).unwrap();
            assert_eq!(
                (e.device_id(), e.seq(), e.topic(), out.as_slice()),
                (&b"sensor-1"[..], 7, TOPIC, &b"reading"[..])
            );
        }
        // The generic COSE_Encrypt0 path of citysec-core opens it too, with the
        // external AAD [device_id, seq, topic].
        let mut aad = vec![0x83, 0x48];
        aad.extend_from_slice(b"sensor-1");
        aad.extend_from_slice(&[0x07, 0x6c]);
        aad.extend_from_slice(TOPIC.as_bytes());
        let opened = citysec_core::encrypt0::open(
            sealer_backend,
            key.key(),
            &env,
            &VerifyOptions::default().with_external_aad(&aad),
        )
        .unwrap();
        assert_eq!(opened.plaintext(), b"reading");
    }
}

#[test]
fn replay_of_the_last_and_of_older_envelopes() {
    let mut r = receiver();
    let envs: Vec<Vec<u8>> = (0..100).map(|s| envelope(b"s", s, TOPIC, b"x")).collect();
    for e in &envs[..100] {
        open(&mut r, e).unwrap();
    }
    // the last one again
    assert_eq!(open(&mut r, &envs[99]), Err(Error::Replay));
    // an old one inside the window (top 99, window 64: 36..=99)
    assert_eq!(open(&mut r, &envs[36]), Err(Error::Replay));
    // below the window
    assert_eq!(open(&mut r, &envs[35]), Err(Error::OutsideWindow));
    assert_eq!(open(&mut r, &envs[0]), Err(Error::OutsideWindow));
    // a larger configured window remembers more
    let mut big = Receiver::new(
        &citysec_rustcrypto::PROVIDER,
        master(),
        ReceiverConfig::default().with_window(128),
        MemoryReplayStore::new(),
    );
    for e in &envs {
        open(&mut big, e).unwrap();
    }
    assert_eq!(open(&mut big, &envs[0]), Err(Error::Replay));
}

#[test]
fn a_forged_huge_sequence_number_does_not_move_the_window() {
    let mut r = receiver();
    open(&mut r, &envelope(b"s", 10, TOPIC, b"x")).unwrap();
    // sealed with a wrong master: the tag fails, the window stays
    let forged_key = MasterSecret::new([1; 32])
        .derive(&citysec_rustcrypto::PROVIDER, b"s", 0)
        .unwrap();
    let forged = seal(&citysec_rustcrypto::PROVIDER, &forged_key, (1 << 40) - 1, TOPIC, b"x").unwrap();
    assert_eq!(open(&mut r, &forged), Err(Error::Core(CoreError::DecryptFailed)));
    // a genuine envelope just after 10 is still in the window
    assert_eq!(open(&mut r, &envelope(b"s", 11, TOPIC, b"x")).map(|x| x.0), Ok(11));
    assert_eq!(open(&mut r, &envelope(b"s", 9, TOPIC, b"x")).map(|x| x.0), Ok(9));
}

#[test]
fn truncated_tag_and_bit_flips() {
    let env = envelope(b"s", 3, TOPIC, b"reading");
    // cut one byte off the tag: the ciphertext bstr no longer matches its length
    let mut cut = env.clone();
    cut.pop();
    assert_eq!(open(&mut receiver(), &cut), Err(Error::Core(CoreError::Malformed)));
    // a well-formed envelope whose ciphertext is one byte short
    let mut short = env.clone();
    let len_pos = short.len() - (7 + 16) - 1;
    assert_eq!(short[len_pos], 0x40 | 23); // bstr of 23 bytes
    short[len_pos] = 0x40 | 22;
    short.pop();
    assert_eq!(
        open(&mut receiver(), &short),
        Err(Error::Core(CoreError::DecryptFailed))
    );
    // every single-bit flip anywhere is refused
    for i in 0..env.len() * 8 {
        let mut e = env.clone();
        e[i / 8] ^= 1 << (i % 8);
        assert!(open(&mut receiver(), &e).is_err(), "bit {i} accepted");
    }
}

#[test]
fn moved_to_another_topic_or_device() {
    let env = envelope(b"sensor-1", 3, TOPIC, b"reading");
    // pinned topic on the gateway
    let mut out = Vec::new();
    assert_eq!(
        receiver().open(&env, Some("city/air/o3"), &mut out).err(),
        Some(Error::TopicMismatch)
    );
    // the topic rewritten inside the envelope (same length)
    let mut moved = env.clone();
    let pos = moved.windows(TOPIC.len()).position(|w| w == TOPIC.as_bytes()).unwrap();
    moved[pos..pos + TOPIC.len()].copy_from_slice(b"city/air/o3x");
    assert_eq!(
        open(&mut receiver(), &moved),
        Err(Error::Core(CoreError::DecryptFailed))
    );
    // the device id rewritten
    let mut other = env;
    let pos = other.windows(8).position(|w| w == b"sensor-1").unwrap();
    other[pos + 7] = b'2';
    assert_eq!(
        open(&mut receiver(), &other),
        Err(Error::Core(CoreError::DecryptFailed))
    );
}

#[test]
fn unknown_device_and_epoch() {
    let r = ReceiverConfig::default().with_devices([b"sensor-1".to_vec()]);
    let mut r = Receiver::new(&citysec_rustcrypto::PROVIDER, master(), r, MemoryReplayStore::new());
    let mut out = Vec::new();
    assert_eq!(
        r.open(&envelope(b"sensor-9", 1, TOPIC, b"x"), None, &mut out).err(),
        Some(Error::UnknownDevice)
    );
    assert!(r.open(&envelope(b"sensor-1", 1, TOPIC, b"x"), None, &mut out).is_ok());
    // epoch 1 is not accepted by default; it is when configured
    let k1 = master().derive(&citysec_rustcrypto::PROVIDER, b"sensor-1", 1).unwrap();
    let e1 = seal(&citysec_rustcrypto::PROVIDER, &k1, 5, TOPIC, b"x").unwrap();
    assert_eq!(open(&mut receiver(), &e1), Err(Error::UnknownEpoch));
    let mut both = Receiver::new(
        &citysec_rustcrypto::PROVIDER,
        master(),
        ReceiverConfig::default().with_epochs(&[0, 1]),
        MemoryReplayStore::new(),
    );
    assert_eq!(open(&mut both, &e1).map(|x| x.0), Ok(5));
    // the epoch is bound by the key: claiming epoch 1 for an epoch-0 envelope fails
    assert_eq!(Envelope::parse(&e1, 1024).unwrap().epoch(), 1);
}

#[test]
fn iv_rules() {
    let env = envelope(b"s", 0x0102, TOPIC, b"x");
    // {4: kid, 6: piv} -> replace key 6 by 5 (a full IV header)
    let mut iv = env.clone();
    let pos = 7 + 1 + 1 + 2; // prefix, map head, key 4, bstr(1) "s"
    assert_eq!(iv[pos], 0x06);
    iv[pos] = 0x05;
    assert_eq!(open(&mut receiver(), &iv), Err(Error::Core(CoreError::InvalidIv)));
    // a Partial IV with a leading zero (not minimal) and one of 6 bytes
    let mut padded = env.clone();
    assert_eq!(&padded[pos + 1..pos + 4], &[0x42, 0x01, 0x02]);
    padded.splice(pos + 1..pos + 4, [0x43, 0x00, 0x01, 0x02]);
    assert_eq!(open(&mut receiver(), &padded), Err(Error::Core(CoreError::InvalidIv)));
    let mut long = env;
    long.splice(pos + 1..pos + 4, [0x46, 1, 2, 3, 4, 5, 6]);
    assert_eq!(open(&mut receiver(), &long), Err(Error::Core(CoreError::InvalidIv)));
    // a sender cannot go past 2^40 - 1
    let key = master().derive(&citysec_rustcrypto::PROVIDER, b"s", 0).unwrap();
    assert_eq!(
        seal(&citysec_rustcrypto::PROVIDER, &key, 1 << 40, TOPIC, b"x").err(),
        Some(Error::SequenceExhausted)
    );
}

#[test]
fn other_layouts_are_refused() {
    let env = envelope(b"s", 1, TOPIC, b"x");
    let mut trailing = env.clone();
    trailing.push(0);
    assert_eq!(
        open(&mut receiver(), &trailing),
        Err(Error::Core(CoreError::TrailingBytes))
    );
    let mut tag = env.clone();
    tag[0] = 0xd2;
    assert_eq!(open(&mut receiver(), &tag), Err(Error::Malformed));
    assert_eq!(open(&mut receiver(), &env[1..]), Err(Error::Malformed));
    let big = vec![0u8; 70_000];
    assert_eq!(open(&mut receiver(), &big), Err(Error::Core(CoreError::TooLarge)));
}

// ---- sender counters

/// A counter store that fails on demand and remembers what it persisted.
struct FlakyCounter {
    persisted: Option<u64>,
    fail: std::rc::Rc<Cell<bool>>,
}

impl CounterStore for FlakyCounter {
    fn load(&mut self) -> citysec_telemetry::Result<u64> {
        self.persisted.ok_or(Error::CounterMissing)
    }
    fn store(&mut self, reserved: u64) -> citysec_telemetry::Result<()> {
        if self.fail.get() {
            return Err(Error::CounterStore);
        }
        self.persisted = Some(reserved);
        Ok(())
    }
}

#[test]
fn a_reboot_skips_ahead_and_never_reuses_a_number() {
    let mut store = MemoryCounterStore::provisioned(0);
    let key = || master().derive(&citysec_rustcrypto::PROVIDER, b"s", 0).unwrap();
    let mut seen = std::collections::BTreeSet::new();
    for _boot in 0..5 {
        let mut s = Sender::new(&citysec_rustcrypto::PROVIDER, key(), &mut store, 16).unwrap();
        for _ in 0..10 {
            let (seq, _) = s.seal(TOPIC, b"x").unwrap();
            assert!(seen.insert(seq), "seq {seq} reused");
        }
    }
    // five boots of 10 each, blocks of 16: each boot starts at the next block
    assert_eq!(
        seen.iter().copied().collect::<Vec<_>>()[..12],
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 16, 17]
    );
    assert_eq!(store.value, Some(80));
}

#[test]
fn a_sender_whose_store_fails_stops_sealing() {
    let fail = std::rc::Rc::new(Cell::new(false));
    let mut store = FlakyCounter {
        persisted: Some(0),
        fail: fail.clone(),
    };
    let mut s = Sender::new(
        &citysec_rustcrypto::PROVIDER,
        master().derive(&citysec_rustcrypto::PROVIDER, b"s", 0).unwrap(),
        &mut store,
        4,
    )
    .unwrap();
    for expected in 0..4 {
        assert_eq!(s.seal(TOPIC, b"x").unwrap().0, expected);
    }
    fail.set(true);
    assert_eq!(s.seal(TOPIC, b"x").err(), Some(Error::CounterStore));
    assert_eq!(s.next_seq(), 4, "no number was consumed");
    // a store that cannot persist at start-up gives no sender at all
    let mut broken = FlakyCounter {
        persisted: Some(100),
        fail: std::rc::Rc::new(Cell::new(true)),
    };
    assert_eq!(
        Sender::new(
            &citysec_rustcrypto::PROVIDER,
            master().derive(&citysec_rustcrypto::PROVIDER, b"s", 0).unwrap(),
            &mut broken,
            4
        )
        .err(),
        Some(Error::CounterStore)
    );
}

#[test]
fn a_sender_never_starts_on_a_store_that_holds_nothing() {
    // never provisioned, or lost (battery-backed RAM gone): no sender, never seq 0
    let key = || master().derive(&citysec_rustcrypto::PROVIDER, b"s", 0).unwrap();
    let mut empty = MemoryCounterStore { value: None };
    assert_eq!(
        Sender::new(&citysec_rustcrypto::PROVIDER, key(), &mut empty, 16).err(),
        Some(Error::CounterMissing)
    );
    assert_eq!(empty.value, None, "nothing was reserved");
    assert_eq!(
        Error::CounterMissing.to_string(),
        "counter store missing: provision the device at its next key epoch"
    );
}

#[test]
fn a_lost_counter_is_recovered_at_the_next_epoch_above_the_gateways_window() {
    let mut gateway = Receiver::new(
        &citysec_rustcrypto::PROVIDER,
        master(),
        ReceiverConfig::default().with_epochs(&[0, 1]),
        MemoryReplayStore::new(),
    );
    let mut out = Vec::new();
    let mut store = MemoryCounterStore::provisioned(0);
    let mut s = Sender::new(
        &citysec_rustcrypto::PROVIDER,
        master().derive(&citysec_rustcrypto::PROVIDER, b"s", 0).unwrap(),
        &mut store,
        16,
    )
    .unwrap();
    for expected in 0..3 {
        let (seq, env) = s.seal(TOPIC, b"x").unwrap();
        assert_eq!(seq, expected);
        gateway.open(&env, None, &mut out).unwrap();
    }
    drop(s);
    assert_eq!(gateway.highest_seq(b"s"), Ok(Some(2)));
    assert_eq!(gateway.highest_seq(b"other"), Ok(None));
    // the counter is lost
    store.value = None;
    assert_eq!(
        Sender::new(
            &citysec_rustcrypto::PROVIDER,
            master().derive(&citysec_rustcrypto::PROVIDER, b"s", 0).unwrap(),
            &mut store,
            16
        )
        .err(),
        Some(Error::CounterMissing)
    );
    // provisioned again at epoch 1 from 0: a new key, but the window is per device
    // across epochs, so the gateway refuses numbers it has seen
    let k1 = || master().derive(&citysec_rustcrypto::PROVIDER, b"s", 1).unwrap();
    let mut from_zero = Sender::new(
        &citysec_rustcrypto::PROVIDER,
        k1(),
        MemoryCounterStore::provisioned(0),
        16,
    )
    .unwrap();
    let (_, env) = from_zero.seal(TOPIC, b"x").unwrap();
    assert_eq!(gateway.open(&env, None, &mut out).err(), Some(Error::Replay));
    // provisioned at epoch 1 above the gateway's highest number: accepted
    let start = gateway.highest_seq(b"s").unwrap().unwrap() + 1;
    let mut s = Sender::new(
        &citysec_rustcrypto::PROVIDER,
        k1(),
        MemoryCounterStore::provisioned(start),
        16,
    )
    .unwrap();
    let (seq, env) = s.seal(TOPIC, b"y").unwrap();
    assert_eq!(seq, 3);
    let opened = gateway.open(&env, None, &mut out).unwrap();
    assert_eq!((opened.epoch(), opened.seq(), out.as_slice()), (1, 3, &b"y"[..]));
}

#[test]
fn the_sequence_space_ends() {
    let mut store = MemoryCounterStore {
        value: Some((1 << 40) - 2),
    };
    let mut s = Sender::new(
        &citysec_rustcrypto::PROVIDER,
        master().derive(&citysec_rustcrypto::PROVIDER, b"s", 0).unwrap(),
        &mut store,
        16,
    )
    .unwrap();
    assert_eq!(s.seal(TOPIC, b"x").unwrap().0, (1 << 40) - 2);
    assert_eq!(s.seal(TOPIC, b"x").unwrap().0, (1 << 40) - 1);
    assert_eq!(s.seal(TOPIC, b"x").err(), Some(Error::SequenceExhausted));
}

// ---- receiver persistence

/// A replay store that persists into a shared map and can be made to fail.
#[derive(Default)]
struct Durable {
    map: std::rc::Rc<std::cell::RefCell<std::collections::BTreeMap<Vec<u8>, ReplayWindow>>>,
    fail_after: Cell<Option<usize>>,
    saves: Cell<usize>,
}

impl ReplayStore for Durable {
    fn load(&self, device: &[u8]) -> citysec_telemetry::Result<Option<ReplayWindow>> {
        Ok(self.map.borrow().get(device).copied())
    }
    fn save(&mut self, updates: &[(&[u8], ReplayWindow)]) -> citysec_telemetry::Result<()> {
        if self.fail_after.get().is_some_and(|n| self.saves.get() >= n) {
            return Err(Error::ReplayStore);
        }
        self.saves.set(self.saves.get() + 1);
        for (d, w) in updates {
            self.map.borrow_mut().insert(d.to_vec(), *w);
        }
        Ok(())
    }
}

#[test]
fn a_gateway_killed_between_accepting_and_persisting_loses_no_replay_protection() {
    let envs: Vec<Vec<u8>> = (0..20).map(|s| envelope(b"s", s, TOPIC, b"x")).collect();
    let shared = std::rc::Rc::new(std::cell::RefCell::new(std::collections::BTreeMap::new()));
    // The store dies after 10 saves: envelope 10 is decrypted but cannot be persisted.
    let store = Durable {
        map: shared.clone(),
        fail_after: Cell::new(Some(10)),
        saves: Cell::new(0),
    };
    let mut r = Receiver::new(
        &citysec_rustcrypto::PROVIDER,
        master(),
        ReceiverConfig::default(),
        store,
    );
    let mut delivered = Vec::new();
    for e in &envs[..11] {
        let mut out = Vec::new();
        match r.open(e, None, &mut out) {
            Ok(env) => delivered.push(env.seq()),
            Err(err) => {
                assert_eq!(err, Error::ReplayStore);
                assert!(out.is_empty(), "no plaintext handed out");
            }
        }
    }
    assert_eq!(delivered, (0..10).collect::<Vec<_>>());
    drop(r); // the gateway is killed
    // restart from what was persisted
    let mut r = Receiver::new(
        &citysec_rustcrypto::PROVIDER,
        master(),
        ReceiverConfig::default(),
        Durable {
            map: shared,
            ..Durable::default()
        },
    );
    for e in &envs[..10] {
        let mut out = Vec::new();
        assert_eq!(r.open(e, None, &mut out).err(), Some(Error::Replay));
    }
    // the envelope that was never delivered is accepted now, and the rest follow
    for e in &envs[10..] {
        let mut out = Vec::new();
        assert!(r.open(e, None, &mut out).is_ok());
    }
}

#[test]
fn batch_open_equals_one_by_one_and_fails_closed() {
    let mut envs: Vec<Vec<u8>> = Vec::new();
    for d in 0..50u8 {
        for s in 0..4 {
            envs.push(envelope(&[b'd', d], s, TOPIC, &[d, s as u8]));
        }
    }
    envs.push(envs[3].clone()); // a duplicate inside the batch
    envs.push(vec![0xd0]); // garbage
    let refs: Vec<&[u8]> = envs.iter().map(Vec::as_slice).collect();
    let mut single = receiver();
    let expected: Vec<_> = refs.iter().map(|e| open(&mut single, e)).collect();
    let mut batch = receiver();
    let got: Vec<_> = batch
        .open_batch(&refs)
        .into_iter()
        .map(|r| r.map(|(e, p)| (e.seq(), p)))
        .collect();
    assert_eq!(got, expected);
    assert_eq!(got.iter().filter(|r| r.is_ok()).count(), 200);
    assert_eq!(got[200], Err(Error::Replay));
    // a failing store: nothing in the batch is accepted
    let store = Durable {
        fail_after: Cell::new(Some(0)),
        ..Durable::default()
    };
    let mut r = Receiver::new(
        &citysec_rustcrypto::PROVIDER,
        master(),
        ReceiverConfig::default(),
        store,
    );
    assert!(
        r.open_batch(&refs[..10])
            .iter()
            .all(|x| x.as_ref().err() == Some(&Error::ReplayStore))
    );
}

// ---- the million-envelope property

/// xorshift64*: a small deterministic generator for the event stream.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Drives `devices * per_device` originals through reordering within a bound
/// smaller than the window, duplication and loss; returns (accepted, duplicates
/// offered, originals offered).
fn drive(devices: u32, per_device: u64, seed: u64) -> (u64, u64, u64) {
    let mut rng = Rng(seed | 1);
    let keys: Vec<_> = (0..devices)
        .map(|d| {
            master()
                .derive(&citysec_ring::PROVIDER, format!("dev-{d}").as_bytes(), 0)
                .unwrap()
        })
        .collect();
    // Per device: sequence numbers shuffled within chunks of 32 (window 64), some
    // lost, some duplicated (a copy inserted later in the same device's stream).
    let mut streams: Vec<Vec<(u64, bool)>> = Vec::with_capacity(devices as usize);
    let mut originals = 0;
    for _ in 0..devices {
        let mut seqs: Vec<u64> = (0..per_device).collect();
        for chunk in seqs.chunks_mut(32) {
            for i in (1..chunk.len()).rev() {
                let j = rng.below(i as u64 + 1) as usize;
                chunk.swap(i, j);
            }
        }
        let mut stream = Vec::with_capacity(per_device as usize + per_device as usize / 8);
        let mut pending: Vec<(usize, u64)> = Vec::new();
        for s in seqs {
            if rng.below(20) == 0 {
                continue; // lost
            }
            stream.push((s, false));
            originals += 1;
            if rng.below(10) == 0 {
                pending.push((stream.len() + 1 + rng.below(200) as usize, s));
            }
        }
        // Duplicates (retransmissions) arrive after their original, up to 200
        // envelopes later (some inside the window, some far below it).
        pending.sort_unstable();
        for (k, (at, s)) in pending.into_iter().enumerate() {
            let at = (at + k).min(stream.len());
            stream.insert(at, (s, true));
        }
        streams.push(stream);
    }
    // Interleave the devices at random.
    let mut pos = vec![0usize; devices as usize];
    // A device whose every envelope was lost sends nothing.
    let mut live: Vec<u32> = (0..devices).filter(|d| !streams[*d as usize].is_empty()).collect();
    let mut r = Receiver::new(
        &citysec_rustcrypto::PROVIDER,
        master(),
        ReceiverConfig::default(),
        MemoryReplayStore::new(),
    );
    let mut seen = std::collections::BTreeSet::new();
    let (mut accepted, mut dups) = (0u64, 0u64);
    let mut buf = vec![0u8; 256];
    let mut out = Vec::new();
    while !live.is_empty() {
        let li = rng.below(live.len() as u64) as usize;
        let d = live[li] as usize;
        let (seq, _duplicate) = streams[d][pos[d]];
        pos[d] += 1;
        if pos[d] == streams[d].len() {
            live.swap_remove(li);
        }
        let n = citysec_telemetry::seal_into(
            &citysec_ring::PROVIDER,
            &keys[d],
            seq,
            "t",
            &seq.to_be_bytes(),
            &mut buf,
        )
        .unwrap();
        match r.open(&buf[..n], Some("t"), &mut out) {
            Ok(e) => {
                assert!(seen.insert((d, seq)), "device {d} seq {seq} accepted twice");
                assert_eq!(out, seq.to_be_bytes());
                assert_eq!(e.seq(), seq);
                accepted += 1;
            }
            Err(Error::Replay | Error::OutsideWindow) => {
                dups += 1;
            }
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!(accepted, originals, "every original inside the window is accepted");
    (accepted, dups, originals)
}

#[test]
fn a_million_envelopes_from_a_thousand_devices() {
    let (accepted, refused, originals) = drive(1000, 1000, 0x00c1_7750_c000_0001);
    // ~5% lost, ~10% of the rest duplicated: about 950k originals, 95k duplicates
    assert_eq!(accepted, originals);
    assert!(accepted + refused > 1_000_000, "{accepted} + {refused}");
    assert!(refused > 80_000, "{refused}");
}

/// The case proptest once found: one envelope per device, and a device whose
/// only envelope was lost (the driver then picked a device with nothing to send).
#[test]
fn a_device_whose_every_envelope_is_lost_sends_nothing() {
    // Five devices send their one envelope (one of them twice), one sends none.
    assert_eq!(drive(6, 1, 5_758_621_387_169_925_002), (5, 1, 5));
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(16))]
    #[test]
    fn reordering_duplication_and_loss(seed: u64, devices in 1u32..20, per in 1u64..300) {
        let (accepted, _, originals) = drive(devices, per, seed);
        proptest::prop_assert_eq!(accepted, originals);
    }
}

/// A store two receivers share (as gateways share a Redis): it decides through
/// `LocalAsShared`'s `check_and_update`, and can be made to fail.
#[derive(Clone)]
struct SharedStore {
    inner: std::rc::Rc<std::cell::RefCell<MemoryReplayStore>>,
    down: std::rc::Rc<Cell<bool>>,
}

impl ReplayStore for SharedStore {
    fn load(&self, device: &[u8]) -> Result<Option<ReplayWindow>, Error> {
        if self.down.get() {
            return Err(Error::ReplayStore);
        }
        self.inner.borrow().load(device)
    }

    fn save(&mut self, updates: &[(&[u8], ReplayWindow)]) -> Result<(), Error> {
        if self.down.get() {
            return Err(Error::ReplayStore);
        }
        self.inner.borrow_mut().save(updates)
    }
}

#[test]
fn receivers_sharing_a_store_accept_each_envelope_once() {
    let store = SharedStore {
        inner: std::rc::Rc::default(),
        down: std::rc::Rc::default(),
    };
    let mut a = Receiver::new(
        &citysec_rustcrypto::PROVIDER,
        master(),
        ReceiverConfig::default(),
        Shared(LocalAsShared(store.clone())),
    );
    let mut b = Receiver::new(
        &citysec_rustcrypto::PROVIDER,
        master(),
        ReceiverConfig::default(),
        Shared(LocalAsShared(store.clone())),
    );
    let envs: Vec<Vec<u8>> = (0..40).map(|s| envelope(b"sensor-9", s, TOPIC, b"r")).collect();
    let mut out = Vec::new();
    for (i, e) in envs.iter().enumerate().take(20) {
        let (first, second) = if i % 2 == 0 { (&mut a, &mut b) } else { (&mut b, &mut a) };
        first.open(e, None, &mut out).unwrap();
        assert_eq!(second.open(e, None, &mut out).unwrap_err(), Error::Replay);
        assert!(out.is_empty());
    }
    // Batches: a duplicate inside the batch and envelopes the other receiver took.
    let batch: Vec<&[u8]> = envs[15..30].iter().chain(&envs[25..26]).map(Vec::as_slice).collect();
    let got = a.open_batch(&batch);
    let accepted: Vec<u64> = got
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .map(|(e, _)| e.seq())
        .collect();
    assert_eq!(accepted, (20..30).collect::<Vec<_>>());
    assert_eq!(got[15].as_ref().unwrap_err(), &Error::Replay);
    assert!(
        b.open_batch(&batch)
            .iter()
            .all(|r| r.as_ref().unwrap_err() == &Error::Replay)
    );
    // A failing store accepts nothing, one by one or in a batch, and recovers.
    store.down.set(true);
    assert_eq!(a.open(&envs[30], None, &mut out).unwrap_err(), Error::ReplayStore);
    let batch: Vec<&[u8]> = envs[30..35].iter().map(Vec::as_slice).collect();
    assert!(
        a.open_batch(&batch)
            .iter()
            .all(|r| r.as_ref().unwrap_err() == &Error::ReplayStore)
    );
    store.down.set(false);
    assert_eq!(b.open_batch(&batch).iter().filter(|r| r.is_ok()).count(), 5);
    assert_eq!(a.open(&envs[30], None, &mut out).unwrap_err(), Error::Replay);
}

#[test]
fn a_local_store_used_as_shared_matches_the_window() {
    let mut store = LocalAsShared(MemoryReplayStore::new());
    let items: Vec<(&[u8], u64)> = vec![
        (b"d1", 5),
        (b"d1", 5),
        (b"d2", 100),
        (b"d1", 3),
        (b"d2", 30),
        (b"d1", 70),
    ];
    let got = store.check_and_update(&items, 64).unwrap();
    assert_eq!(
        got,
        vec![
            Ok(()),
            Err(Error::Replay),
            Ok(()),
            Ok(()),
            Err(Error::OutsideWindow),
            Ok(())
        ]
    );
    assert_eq!(SharedReplayStore::load(&store, b"d1").unwrap().unwrap().top(), Some(70));
    assert_eq!(
        store.check_and_update(&[(b"d1", 5)], 64).unwrap(),
        vec![Err(Error::OutsideWindow)]
    );
}
