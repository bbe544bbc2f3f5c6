//! A telemetry gateway for many sensors. Each sensor seals readings with its own
//! HKDF-derived key and sequence numbers; the gateway opens a batch from all of them
//! on two threads with the ring provider, persists the replay windows in the embedded
//! redb store, restarts, and still refuses every envelope it accepted before.
//!
//! Run: `cargo run --example telemetry_gateway`

#![allow(
    clippy::arithmetic_side_effects,
    clippy::cast_precision_loss,
    clippy::as_conversions,
    reason = "example figures from small constants, printed"
)]

use std::time::Instant;

use citysec::std_adapters::telemetry::{RedbReplayStore, open_batch_parallel};
use citysec::telemetry::{Error, MasterSecret, MemoryCounterStore, Receiver, ReceiverConfig, Sender};

const SENSORS: usize = 500;
const READINGS: usize = 4;
const MASTER: [u8; 32] = [0x4d; 32];

fn main() -> Result<(), Box<dyn core::error::Error>> {
    let master = MasterSecret::new(MASTER);

    // Provisioning: each sensor gets only its derived key and a counter store that
    // starts at 0 (in memory here; `FileCounterStore::provision` on std); on the
    // sensor, sealing allocates nothing beyond the output buffer.
    let mut sensors = Vec::with_capacity(SENSORS);
    let mut envelopes = Vec::with_capacity(SENSORS * READINGS);
    for n in 0..SENSORS {
        let id = format!("air-{n:04}");
        let mut sensor = Sender::new(
            &citysec::rustcrypto::PROVIDER,
            master.derive(&citysec::rustcrypto::PROVIDER, id.as_bytes(), 0)?,
            MemoryCounterStore::provisioned(0),
            64,
        )?;
        for r in 0..READINGS {
            let reading = format!("{{\"no2\": {}}}", 30 + (n + r) % 20);
            envelopes.push(sensor.seal("city/air/no2", reading.as_bytes())?.1);
        }
        sensors.push(sensor);
    }
    // One envelope arrives twice (a retransmission, or an attacker replaying it).
    let replayed = envelopes.first().cloned().unwrap_or_default();
    envelopes.push(replayed);
    let batch: Vec<&[u8]> = envelopes.iter().map(Vec::as_slice).collect();

    let dir = std::env::temp_dir().join(format!("citysec-example-gateway-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("replay.redb");

    let store = RedbReplayStore::open(&path)?;
    let mut gateway = Receiver::new(
        &citysec::rustcrypto::PROVIDER,
        MasterSecret::new(MASTER),
        ReceiverConfig::default(),
        store,
    );
    let start = Instant::now();
    let results = open_batch_parallel(&mut gateway, &batch, 2);
    let elapsed = start.elapsed();
    let accepted = results.iter().filter(|r| r.is_ok()).count();
    let replays = results.iter().filter(|r| matches!(r, Err(Error::Replay))).count();
    println!(
        "batch of {}: {accepted} accepted, {replays} replay refused, {:.1} ms ({:.0} envelopes/s, windows persisted)",
        batch.len(),
        elapsed.as_secs_f64() * 1000.0,
        batch.len() as f64 / elapsed.as_secs_f64()
    );
    assert_eq!((accepted, replays), (SENSORS * READINGS, 1));
    if let Some(Ok((envelope, plaintext))) = results.first() {
        println!(
            "first: device {}, seq {}, {}",
            String::from_utf8_lossy(envelope.device_id()),
            envelope.seq(),
            String::from_utf8_lossy(plaintext)
        );
    }

    // The gateway restarts from its store: nothing accepted before is accepted again.
    drop(results);
    drop(gateway);
    let mut gateway = Receiver::new(
        &citysec::rustcrypto::PROVIDER,
        MasterSecret::new(MASTER),
        ReceiverConfig::default(),
        RedbReplayStore::open(&path)?,
    );
    let again = open_batch_parallel(&mut gateway, &batch, 2);
    let refused = again.iter().filter(|r| r.is_err()).count();
    println!("after restart: {refused} of {} replayed envelopes refused", batch.len());
    assert_eq!(refused, batch.len());

    // The next reading of a sensor is accepted.
    let sensor = sensors.first_mut().ok_or("no sensors")?;
    let (_, fresh) = sensor.seal("city/air/no2", b"{\"no2\": 33}")?;
    let mut plaintext = Vec::new();
    let opened = gateway.open(&fresh, Some("city/air/no2"), &mut plaintext)?;
    println!("after restart: new reading seq {} accepted", opened.seq());

    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
