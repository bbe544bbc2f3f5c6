//! Onboarding a door controller by attestation. The manufacturer endorses the
//! device key at the factory; the city's attestation verifier challenges the device
//! with a nonce, the device signs EAT evidence about its firmware, the verifier
//! appraises it against reference values and signs an attestation result that
//! relying parties verify offline. Replayed evidence and rolled-back firmware are
//! refused.
//!
//! Nonces live in the embedded redb store, as on a verifier server.
//!
//! Run: `cargo run --example device_onboarding`

use citysec::attest::{
    Appraiser, AttestationResult, Challenge, DebugStatus, Endorsement, Error, EvidenceBuilder, Freshness, ReferenceSet,
    ReferenceValues, Tier,
};
use citysec::attest::{ManufacturerVerifier, ResultVerifier};
use citysec::core::SigningKey;
use citysec::credential::Issuer;
use citysec::rustcrypto::PROVIDER;
use citysec::std_adapters::attest::RedbNonceStore;
use citysec_examples::{ExampleRng, THU_10, at};

const BOOT: [u8; 32] = [0xb0; 32];
const APP: [u8; 32] = [0xa7; 32];

fn main() -> Result<(), Box<dyn core::error::Error>> {
    let now = at(THU_10);
    let ueid = [0x01, 0xd0, 0x02, 0x00, 0x00, 0x00, 0x09];

    // Factory: the device key never leaves the device; the manufacturer endorses it.
    let oem = Issuer::new(
        "https://oem.example",
        citysec::ring::PROVIDER.signer(SigningKey::ed25519(&[0x01; 32]).with_kid(*b"oem-2026"))?,
    )?;
    let device_key = PROVIDER.signer(SigningKey::ed25519(&[0x02; 32]).with_kid(*b"door-0009"))?;
    let endorsement = Endorsement::new(ueid, device_key.verifying_key().clone(), *b"door-ctl-2")?.issue(
        &oem,
        now,
        now.saturating_add(5 * 365 * 86_400),
    )?;
    println!("endorsement: {} bytes from {}", endorsement.len(), oem.iss());

    // The city's verifier: trusted manufacturers, reference values, its result key.
    let references = ReferenceSet::new().with(
        ReferenceValues::new(*b"door-ctl-2", "1.2.0")?
            .accept_version("1.2.0")?
            .accept_version("1.3.0")?
            .component("bootloader", BOOT)?
            .component("door-app", APP)?,
    )?;
    let signer = Issuer::new(
        "https://attest.city.example",
        citysec::ring::PROVIDER.signer(SigningKey::ed25519(&[0x03; 32]).with_kid(*b"av-1"))?,
    )?;
    let manufacturers = ManufacturerVerifier::new(&PROVIDER)
        .trust(oem.iss(), oem.verifying_key())?
        .any_audience();
    let appraiser = Appraiser::new(manufacturers, signer, "door-controllers", references);
    let dir = std::env::temp_dir().join(format!("citysec-example-onboarding-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let mut nonces = RedbNonceStore::open(dir.join("nonces.redb"))?;

    // The device answers a fresh challenge (evidence is built without allocating).
    let mut rng = ExampleRng(7);
    let mut evidence_for = |version: &str, nonces: &mut RedbNonceStore| -> Result<Vec<u8>, Error> {
        let challenge = Challenge::issue(nonces, &mut rng, now, 60)?;
        let measurements = [("bootloader", BOOT), ("door-app", APP)];
        let mut buf = [0u8; 512];
        let len = EvidenceBuilder::new(&ueid)
            .nonce(challenge.nonce())
            .hwmodel(b"door-ctl-2")
            .swversion(version)
            .dbgstat(DebugStatus::DisabledPermanently)
            .oemboot(true)
            .measurements(&measurements)
            .sign(&*device_key, &mut buf)?;
        Ok(buf.get(..len).unwrap_or_default().to_vec())
    };
    let evidence = evidence_for("1.3.0", &mut nonces)?;
    let appraisal = appraiser.appraise(&endorsement, &evidence, Freshness::Nonce(&mut nonces), now)?;
    println!(
        "appraisal: {} ({} bytes signed)",
        appraisal.result.status,
        appraisal.token.len()
    );
    for reason in &appraisal.result.reasons {
        println!("    {} {}: {}", reason.tier, reason.check.name(), reason.detail);
    }
    assert_eq!(appraisal.result.status, Tier::Affirming);

    // A door controller (relying party) checks the result offline.
    let relying_party = ResultVerifier::new(&PROVIDER)
        .trust("https://attest.city.example", appraiser.signer().verifying_key())?
        .audience("door-controllers");
    let result = AttestationResult::verify(&relying_party, &appraisal.token, now)?;
    println!(
        "relying party: {} until {}",
        result.status,
        result.expires.as_unix_seconds()
    );

    // The same evidence again: its nonce was used up.
    let replay = appraiser.appraise(&endorsement, &evidence, Freshness::Nonce(&mut nonces), now);
    println!(
        "replayed evidence: {}",
        replay
            .as_ref()
            .err()
            .map_or_else(|| "accepted".into(), ToString::to_string)
    );
    assert_eq!(replay.err(), Some(Error::NonceReplayed));

    // Firmware rolled back below the minimum: a signed, contraindicated result.
    let old = evidence_for("1.1.9", &mut nonces)?;
    let rollback = appraiser.appraise(&endorsement, &old, Freshness::Nonce(&mut nonces), now)?;
    println!("firmware 1.1.9: {}", rollback.result.status);
    assert_eq!(rollback.result.status, Tier::Contraindicated);

    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
