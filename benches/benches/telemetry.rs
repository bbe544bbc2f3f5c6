//! Telemetry envelopes against the raw AEAD of the same backend, in one run.
//!
//! - `telemetry_open_{64B,1KiB,16KiB}`: our open (parse, key lookup, decrypt into
//!   a reused buffer, replay-window check and update, in-memory persistence) vs the
//!   raw AEAD decrypting the same ciphertext with the same nonce and AAD into a
//!   reused buffer; on ring (`citysec_ring` vs `ring`) and on RustCrypto
//!   (`citysec_rustcrypto` vs `chacha20poly1305`).
//! - `telemetry_seal_64B`: our seal into a caller buffer vs the raw AEAD seal.
//! - `gateway_open_batch`: 10,000 envelopes from 10,000 devices per iteration,
//!   `batch` (citysec-std, decryption on both cores) vs `single` (one thread).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::cast_possible_truncation,
    clippy::std_instead_of_core,
    missing_docs,
    reason = "benchmark code"
)]

use core::hint::black_box;
use std::time::{Duration, Instant};

use chacha20poly1305::aead::{AeadInOut, KeyInit};
use citysec_core::provider::Provider;
use citysec_std::telemetry::open_batch_parallel;
use citysec_telemetry::{MasterSecret, MemoryReplayStore, Receiver, ReceiverConfig, seal, seal_into};
use criterion::{BatchSize, Criterion, Throughput};

const TOPIC: &str = "city/traffic/7";

/// The envelope's nonce and Enc_structure, rebuilt here for the raw baselines.
fn raw_parts(device: &[u8], seq: u64, common_iv: [u8; 12]) -> ([u8; 12], Vec<u8>) {
    let piv = seq.to_be_bytes();
    let mut nonce = common_iv;
    for (n, p) in nonce.iter_mut().skip(4).zip(piv) {
        *n ^= p;
    }
    assert!(device.len() < 24 && TOPIC.len() < 24);
    let mut ext = vec![0x83, 0x40 | device.len() as u8];
    ext.extend_from_slice(device);
    ext.push(0x1a);
    ext.extend_from_slice(&(seq as u32).to_be_bytes());
    ext.push(0x60 | TOPIC.len() as u8);
    ext.extend_from_slice(TOPIC.as_bytes());
    let mut aad = vec![0x83, 0x68];
    aad.extend_from_slice(b"Encrypt0");
    aad.extend_from_slice(&[0x44, 0xa1, 0x01, 0x18, 0x18]);
    aad.extend_from_slice(&[0x58, ext.len() as u8]);
    aad.extend_from_slice(&ext);
    (nonce, aad)
}

/// Envelopes with consecutive sequence numbers (so each one opened is new to the
/// window, as on a real gateway), and for the raw baselines each one's nonce, AAD,
/// ciphertext and tag.
struct Stream {
    envelopes: Vec<Vec<u8>>,
    raw: Vec<RawParts>,
}

/// Nonce, AAD, ciphertext and tag of one envelope.
type RawParts = ([u8; 12], Vec<u8>, Vec<u8>, [u8; 16]);

const STREAM: usize = 256;

fn stream(master: &MasterSecret, device: &[u8], size: usize) -> Stream {
    let key = master.derive(&citysec_rustcrypto::PROVIDER, device, 0).unwrap();
    let plaintext = vec![0xa5u8; size];
    let first = 0x0100_0000u64; // 4-byte Partial IVs
    let mut envelopes = Vec::new();
    let mut raw = Vec::new();
    for i in 0..STREAM as u64 {
        let seq = first + i;
        let env = seal(&citysec_rustcrypto::PROVIDER, &key, seq, TOPIC, &plaintext).unwrap();
        let (nonce, aad) = raw_parts(device, seq, key.common_iv());
        let ct = env[env.len() - (size + 16)..env.len() - 16].to_vec();
        let tag: [u8; 16] = env[env.len() - 16..].try_into().unwrap();
        envelopes.push(env);
        raw.push((nonce, aad, ct, tag));
    }
    Stream { envelopes, raw }
}

fn open_group(c: &mut Criterion, name: &str, size: usize) {
    let master = MasterSecret::new([3; 32]);
    let device = b"traffic-counter-7";
    let s = stream(&master, device, size);
    let raw_key = master
        .derive(&citysec_rustcrypto::PROVIDER, device, 0)
        .unwrap()
        .key()
        .secret_bytes()
        .to_vec();
    let rc = chacha20poly1305::ChaCha20Poly1305::new_from_slice(&raw_key).unwrap();
    let ring_key =
        ring::aead::LessSafeKey::new(ring::aead::UnboundKey::new(&ring::aead::CHACHA20_POLY1305, &raw_key).unwrap());
    let mut buf = Vec::with_capacity(size);
    // The raw baselines decrypt the same bytes: check that first.
    for (nonce, aad, ct, tag) in &s.raw {
        buf.clear();
        buf.extend_from_slice(ct);
        let n = chacha20poly1305::Nonce::try_from(&nonce[..]).unwrap();
        let t = chacha20poly1305::Tag::try_from(&tag[..]).unwrap();
        rc.decrypt_inout_detached(&n, aad, buf.as_mut_slice().into(), &t)
            .unwrap();
        assert_eq!(buf, vec![0xa5u8; size]);
    }

    // A receiver with the device's key cached; the stream is opened in order, and
    // a fresh receiver (outside the timed part) starts every pass over it.
    let fresh = |provider: &Provider| {
        let mut r = Receiver::new(
            provider,
            master.clone(),
            ReceiverConfig::default(),
            MemoryReplayStore::new(),
        );
        r.warm(device, 0).unwrap();
        r
    };

    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Bytes(size as u64));
    let providers: [(&str, &Provider); 2] = [
        ("citysec_ring", &citysec_ring::PROVIDER),
        ("citysec_rustcrypto", &citysec_rustcrypto::PROVIDER),
    ];
    for (id, provider) in providers {
        let mut out = Vec::with_capacity(size);
        g.bench_function(id, |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                let mut left = iters as usize;
                while left > 0 {
                    let n = left.min(STREAM);
                    let mut r = fresh(provider);
                    let start = Instant::now();
                    for env in &s.envelopes[..n] {
                        r.open(black_box(env), Some(TOPIC), &mut out).unwrap();
                    }
                    total += start.elapsed();
                    left -= n;
                }
                total
            });
        });
    }
    let mut i = 0usize;
    g.bench_function("ring", |b| {
        b.iter(|| {
            let (nonce, aad, ct, tag) = &s.raw[i % STREAM];
            i += 1;
            buf.clear();
            buf.extend_from_slice(black_box(ct));
            let n = ring::aead::Nonce::assume_unique_for_key(*nonce);
            let t = ring::aead::Tag::from(*tag);
            ring_key
                .open_in_place_separate_tag(n, ring::aead::Aad::from(aad), t, &mut buf, 0..)
                .unwrap();
        });
    });
    g.bench_function("chacha20poly1305", |b| {
        b.iter(|| {
            let (nonce, aad, ct, tag) = &s.raw[i % STREAM];
            i += 1;
            buf.clear();
            buf.extend_from_slice(black_box(ct));
            let n = chacha20poly1305::Nonce::try_from(&nonce[..]).unwrap();
            let t = chacha20poly1305::Tag::try_from(&tag[..]).unwrap();
            rc.decrypt_inout_detached(&n, aad, buf.as_mut_slice().into(), &t)
                .unwrap();
        });
    });
    g.finish();
}

fn gateway_batch(c: &mut Criterion) {
    let master = MasterSecret::new([3; 32]);
    let envelopes: Vec<Vec<u8>> = (0..10_000u32)
        .map(|d| {
            let key = master
                .derive(&citysec_rustcrypto::PROVIDER, format!("sensor-{d:05}").as_bytes(), 0)
                .unwrap();
            seal(&citysec_rustcrypto::PROVIDER, &key, 1, TOPIC, &[0x42; 64]).unwrap()
        })
        .collect();
    let refs: Vec<&[u8]> = envelopes.iter().map(Vec::as_slice).collect();
    // Receivers with every device's key cached (a gateway in steady state).
    let warm = || {
        let mut r = Receiver::new(
            &citysec_ring::PROVIDER,
            master.clone(),
            ReceiverConfig::default(),
            MemoryReplayStore::new(),
        );
        for d in 0..10_000u32 {
            r.warm(format!("sensor-{d:05}").as_bytes(), 0).unwrap();
        }
        r
    };
    let mut r = warm();
    assert!(open_batch_parallel(&mut r, &refs, 2).iter().all(Result::is_ok));

    let mut g = c.benchmark_group("gateway_open_batch");
    g.throughput(Throughput::Elements(10_000));
    g.sample_size(20);
    g.bench_function("batch", |b| {
        b.iter_batched_ref(
            warm,
            |r| open_batch_parallel(r, black_box(&refs), 2),
            BatchSize::LargeInput,
        );
    });
    g.bench_function("single", |b| {
        b.iter_batched_ref(
            warm,
            |r| {
                let mut out = Vec::new();
                for e in &refs {
                    r.open(black_box(e), None, &mut out).unwrap();
                }
            },
            BatchSize::LargeInput,
        );
    });
    g.finish();
}

fn seal_group(c: &mut Criterion) {
    let master = MasterSecret::new([3; 32]);
    let device = b"traffic-counter-7";
    let key = master.derive(&citysec_rustcrypto::PROVIDER, device, 0).unwrap();
    let seq = 0x0100_0000u64;
    let plaintext = [0x5au8; 64];
    let (nonce, aad) = raw_parts(device, seq, key.common_iv());
    let raw_key = key.key().secret_bytes().to_vec();
    let rc = chacha20poly1305::ChaCha20Poly1305::new_from_slice(&raw_key).unwrap();
    let rc_nonce = chacha20poly1305::Nonce::try_from(&nonce[..]).unwrap();
    let ring_key =
        ring::aead::LessSafeKey::new(ring::aead::UnboundKey::new(&ring::aead::CHACHA20_POLY1305, &raw_key).unwrap());
    let mut out = [0u8; 256];
    let mut buf = [0u8; 64];

    let mut g = c.benchmark_group("telemetry_seal_64B");
    g.throughput(Throughput::Bytes(64));
    let providers: [(&str, &Provider); 2] = [
        ("citysec_ring", &citysec_ring::PROVIDER),
        ("citysec_rustcrypto", &citysec_rustcrypto::PROVIDER),
    ];
    for (id, provider) in providers {
        g.bench_function(id, |b| {
            b.iter(|| seal_into(provider, &key, seq, TOPIC, black_box(&plaintext), &mut out).unwrap());
        });
    }
    g.bench_function("ring", |b| {
        b.iter(|| {
            buf.copy_from_slice(black_box(&plaintext));
            let n = ring::aead::Nonce::assume_unique_for_key(nonce);
            ring_key
                .seal_in_place_separate_tag(n, ring::aead::Aad::from(&aad), &mut buf)
                .unwrap()
        });
    });
    g.bench_function("chacha20poly1305", |b| {
        b.iter(|| {
            buf.copy_from_slice(black_box(&plaintext));
            rc.encrypt_inout_detached(&rc_nonce, &aad, buf.as_mut_slice().into())
                .unwrap()
        });
    });
    g.finish();
}

fn main() {
    let mut c = citysec_benches::criterion();
    open_group(&mut c, "telemetry_open_64B", 64);
    open_group(&mut c, "telemetry_open_1KiB", 1024);
    open_group(&mut c, "telemetry_open_16KiB", 16 * 1024);
    seal_group(&mut c);
    gateway_batch(&mut c);
    c.final_summary();
    citysec_benches::report(&[
        ("telemetry_open_64B", "citysec_ring", "ring", 1.5),
        ("telemetry_open_64B", "citysec_rustcrypto", "chacha20poly1305", 1.2),
        ("telemetry_open_1KiB", "citysec_ring", "ring", 2.0),
        ("telemetry_open_1KiB", "citysec_rustcrypto", "chacha20poly1305", 1.2),
        ("telemetry_open_16KiB", "citysec_ring", "ring", 1.05),
        ("telemetry_open_16KiB", "citysec_rustcrypto", "chacha20poly1305", 1.05),
        ("telemetry_seal_64B", "citysec_ring", "ring", 2.0),
        ("telemetry_seal_64B", "citysec_rustcrypto", "chacha20poly1305", 1.2),
        // batch time / single time <= 1/1.7 means single/batch >= 1.7
        ("gateway_open_batch", "batch", "single", 1.0 / 1.7),
    ]);
    if let Some(batch) = citysec_benches::mean_ns("gateway_open_batch", "batch") {
        println!(
            "  gateway_open_batch: {:.0} envelopes/s with the batch API",
            10_000.0 / (batch / 1e9)
        );
    }
}
