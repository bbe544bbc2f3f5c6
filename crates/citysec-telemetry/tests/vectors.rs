//! docs/telemetry-envelope.md carries test vectors (master secret, device id,
//! epoch, sequence number, topic, plaintext -> derived key and IV, envelope). This
//! test recomputes every one on both backends and opens each envelope.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed unwrap or index is a failed test"
)]

use citysec_telemetry::{MasterSecret, MemoryReplayStore, Receiver, ReceiverConfig, seal};

fn h(v: &serde_json::Value) -> Vec<u8> {
    hex::decode(v.as_str().unwrap()).unwrap()
}

#[test]
fn documented_vectors() {
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/telemetry-envelope.md")).unwrap();
    let block = doc.split("```json\n").nth(1).unwrap().split("```").next().unwrap();
    let vectors: serde_json::Value = serde_json::from_str(block).unwrap();
    let vectors = vectors.as_array().unwrap();
    assert!(vectors.len() >= 4);
    let backends: [&citysec_core::provider::Provider; 2] = [&citysec_rustcrypto::PROVIDER, &citysec_ring::PROVIDER];
    for v in vectors {
        let master = MasterSecret::new(h(&v["master_secret"]).try_into().unwrap());
        let device = h(&v["device_id"]);
        let epoch = u32::try_from(v["epoch"].as_u64().unwrap()).unwrap();
        let seq = v["seq"].as_u64().unwrap();
        let topic = v["topic"].as_str().unwrap();
        let plaintext = h(&v["plaintext"]);
        for b in backends {
            let p = if b.name == "ring" {
                &citysec_ring::PROVIDER
            } else {
                &citysec_rustcrypto::PROVIDER
            };
            let key = master.derive(p, &device, epoch).unwrap();
            assert_eq!(hex::encode(key.key().secret_bytes()), v["key"].as_str().unwrap());
            assert_eq!(hex::encode(key.common_iv()), v["common_iv"].as_str().unwrap());
            let env = seal(p, &key, seq, topic, &plaintext).unwrap();
            assert_eq!(hex::encode(&env), v["envelope"].as_str().unwrap(), "{}", b.name);
            let mut r = Receiver::new(
                p,
                master.clone(),
                ReceiverConfig::default().with_epochs(&[epoch]),
                MemoryReplayStore::new(),
            );
            let mut out = Vec::new();
            let e = r.open(&env, Some(topic), &mut out).unwrap();
            assert_eq!((e.seq(), out.as_slice()), (seq, plaintext.as_slice()));
        }
    }
}

/// Prints the vectors (run with --ignored --nocapture when the format changes on purpose).
#[test]
#[ignore = "generator for the documentation, not a check"]
fn print_vectors() {
    type Case<'a> = (&'a [u8; 32], &'a [u8], u32, u64, &'a str, &'a [u8]);
    let cases: [Case<'_>; 4] = [
        (&[0u8; 32], b"sensor-0001", 0, 0, "", b""),
        (&[0x5a; 32], b"sensor-0042", 0, 1, "city/air/no2", br#"{"no2_ugm3":38}"#),
        (
            &[0x5a; 32],
            b"sensor-0042",
            3,
            0x0001_0203_0405,
            "city/air/no2",
            b"\x01\x02\x03",
        ),
        (
            &[0xa5; 32],
            b"\x00\x01\x02\x03",
            0xffff_ffff,
            (1 << 40) - 1,
            "t",
            b"last",
        ),
    ];
    let mut out = Vec::new();
    for (m, d, epoch, seq, topic, pt) in cases {
        let master = MasterSecret::new(*m);
        let key = master.derive(&citysec_rustcrypto::PROVIDER, d, epoch).unwrap();
        let env = seal(&citysec_rustcrypto::PROVIDER, &key, seq, topic, pt).unwrap();
        out.push(serde_json::json!({
            "master_secret": hex::encode(m), "device_id": hex::encode(d), "epoch": epoch, "seq": seq,
            "topic": topic, "plaintext": hex::encode(pt),
            "key": hex::encode(key.key().secret_bytes()), "common_iv": hex::encode(key.common_iv()),
            "envelope": hex::encode(env),
        }));
    }
    println!("{}", serde_json::to_string_pretty(&out).unwrap());
}
