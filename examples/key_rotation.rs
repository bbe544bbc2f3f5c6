//! Rotating keys without a flag day. The credential issuer moves from key
//! `city-2025` to `city-2026`: door controllers trust both `kid`s during the
//! overlap, so old and new credentials both open doors; then the old key is
//! retired and its credentials are refused. The telemetry master secret moves to
//! key epoch 1 the same way: the gateway accepts epochs 0 and 1 while sensors are
//! re-provisioned, then only 1.
//!
//! Run: `cargo run --example key_rotation`

use citysec::core::{Error as CoreError, SigningKey};
use citysec::credential::{Claims, Error, Issuer, Verifier};
use citysec::rustcrypto::PROVIDER;
use citysec::std_adapters::telemetry::FileCounterStore;
use citysec::telemetry::{self, MasterSecret, MemoryReplayStore, Receiver, ReceiverConfig, Sender};
use citysec_examples::{THU_10, at};

const ISS: &str = "https://id.city.example";

fn credential(issuer: &Issuer, sub: &str) -> Result<Vec<u8>, Error> {
    let mut claims = Claims::new();
    claims.iss = Some(ISS.into());
    claims.sub = Some(sub.into());
    claims.aud = vec!["city-doors".into()];
    claims.exp = Some(at(THU_10 + 90 * 86_400));
    issuer.issue(&claims)
}

fn main() -> Result<(), Box<dyn core::error::Error>> {
    let now = at(THU_10);
    let old = Issuer::new(
        ISS,
        PROVIDER.signer(SigningKey::ed25519(&[0x25; 32]).with_kid(*b"city-2025"))?,
    )?;
    let new = Issuer::new(
        ISS,
        PROVIDER.signer(SigningKey::ed25519(&[0x26; 32]).with_kid(*b"city-2026"))?,
    )?;
    let from_old = credential(&old, "alice")?;

    // Overlap: controllers trust both keys (one issuer, two kids).
    let mut doors = Verifier::new(&PROVIDER)
        .trust(ISS, old.verifying_key())?
        .trust(ISS, new.verifying_key())?
        .audience("city-doors");
    let from_new = credential(&new, "bob")?;
    for (token, who) in [(&from_old, "alice (2025 key)"), (&from_new, "bob (2026 key)")] {
        let v = doors.verify(token, now, &[])?;
        println!("overlap: {who} verified with kid {}", String::from_utf8_lossy(v.kid()));
    }

    // Retirement: the 2025 key is no longer trusted.
    assert!(doors.distrust(b"city-2025"));
    let refused = doors.verify(&from_old, now, &[]);
    println!(
        "after retirement: alice (2025 key) -> {}",
        refused
            .as_ref()
            .err()
            .map_or_else(|| "accepted".into(), ToString::to_string)
    );
    assert_eq!(refused.err(), Some(Error::Core(CoreError::UnknownKey)));
    assert!(doors.verify(&from_new, now, &[]).is_ok());

    // Telemetry: key epochs under one master secret. The gateway's replay window is
    // per device across epochs, so the sensor keeps its counter when it is re-keyed:
    // the new sender resumes above the block the old one reserved.
    let dir = std::env::temp_dir().join(format!("citysec-example-rotation-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let counter = dir.join("air-7.counter");
    let master = || MasterSecret::new([0x4d; 32]);
    // The counter file is created once, when the sensor is provisioned; a sender
    // refuses a missing one (`CounterMissing`) rather than start again at 0.
    let mut epoch0 = Sender::new(
        &PROVIDER,
        master().derive(&PROVIDER, b"air-7", 0)?,
        FileCounterStore::provision(&counter, 0)?,
        64,
    )?;
    let (_, before) = epoch0.seal("city/air/no2", b"{\"no2\": 38}")?;
    drop(epoch0);
    let mut epoch1 = Sender::new(
        &PROVIDER,
        master().derive(&PROVIDER, b"air-7", 1)?,
        FileCounterStore::open(&counter),
        64,
    )?;
    let (_, after) = epoch1.seal("city/air/no2", b"{\"no2\": 39}")?;
    let mut plaintext = Vec::new();

    let mut overlap = Receiver::new(
        &PROVIDER,
        master(),
        ReceiverConfig::default().with_epochs(&[0, 1]),
        MemoryReplayStore::new(),
    );
    for (env, epoch) in [(&before, 0), (&after, 1)] {
        let opened = overlap.open(env, None, &mut plaintext)?;
        println!("overlap: epoch {epoch} reading seq {} accepted", opened.seq());
    }
    let mut rotated = Receiver::new(
        &PROVIDER,
        master(),
        ReceiverConfig::default().with_epochs(&[1]),
        MemoryReplayStore::new(),
    );
    let stale = rotated.open(&before, None, &mut plaintext).map(|o| o.seq());
    println!(
        "after rotation: epoch 0 reading -> {}",
        stale
            .as_ref()
            .err()
            .map_or_else(|| "accepted".into(), ToString::to_string)
    );
    assert_eq!(stale, Err(telemetry::Error::UnknownEpoch));
    assert_eq!(rotated.open(&after, None, &mut plaintext).map(|o| o.seq()), Ok(64));
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
