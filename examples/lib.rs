//! Shared setup for the runnable examples (`cargo run --example NAME`).
//!
//! Fixed seeds keep the examples' output reproducible; real keys come from
//! `citysec::std_adapters::OsRandom` or key files.

use citysec::attest::{
    Appraiser, Challenge, DebugStatus, Endorsement, EvidenceBuilder, Freshness, MemoryNonceStore, ReferenceSet,
    ReferenceValues,
};
use citysec::attest::{ManufacturerVerifier, ResultVerifier};
use citysec::core::{RandomSource, SigningKey, Timestamp};
use citysec::credential::Issuer;
use citysec::rustcrypto::PROVIDER;

/// Thursday 2026-11-26 10:00 UTC, the examples' clock.
pub const THU_10: u64 = 1_795_687_200;

/// The examples' time as a [`Timestamp`].
#[must_use]
pub const fn at(seconds: u64) -> Timestamp {
    Timestamp::from_unix_seconds(seconds)
}

/// A deterministic random source for reproducible examples (never for real keys).
#[derive(Debug)]
pub struct ExampleRng(pub u64);

impl RandomSource for ExampleRng {
    fn fill(&mut self, buf: &mut [u8]) -> citysec::core::Result<()> {
        for b in buf {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            *b = self.0.to_be_bytes().first().copied().unwrap_or_default();
        }
        Ok(())
    }
}

/// An onboarded door controller: its attestation result, and a verifier that
/// trusts the attestation verifier which signed it (audience `door-controllers`).
#[derive(Debug)]
pub struct Onboarded {
    /// The signed attestation result.
    pub result: Vec<u8>,
    /// A relying party's verifier for results.
    pub results_verifier: ResultVerifier,
}

/// The short version of `device_onboarding`: the controller with `ueid` is
/// endorsed, answers a nonce with evidence (firmware 1.2.0, debug locked) and is
/// appraised at `now`; results live 24 hours.
///
/// # Errors
/// Any error of the attestation steps.
pub fn onboard(ueid: &[u8], now: Timestamp) -> Result<Onboarded, Box<dyn core::error::Error>> {
    let boot = [0xb0; 32];
    let oem = Issuer::new(
        "https://oem.example",
        PROVIDER.signer(SigningKey::ed25519(&[0x01; 32]).with_kid(*b"oem-1"))?,
    )?;
    let device_key = PROVIDER.signer(SigningKey::ed25519(&[0x02; 32]).with_kid(*b"dev-1"))?;
    let endorsement = Endorsement::new(ueid.to_vec(), device_key.verifying_key().clone(), *b"door-ctl-2")?.issue(
        &oem,
        now,
        now.saturating_add(365 * 86_400),
    )?;
    let signer = Issuer::new(
        "https://attest.example",
        PROVIDER.signer(SigningKey::ed25519(&[0x03; 32]).with_kid(*b"av-1"))?,
    )?;
    let results_verifier = ResultVerifier::new(&PROVIDER)
        .trust(signer.iss(), signer.verifying_key())?
        .audience("door-controllers");
    let references = ReferenceSet::new().with(
        ReferenceValues::new(*b"door-ctl-2", "1.0.0")?
            .accept_version("1.2.0")?
            .component("bootloader", boot)?,
    )?;
    let manufacturers = ManufacturerVerifier::new(&PROVIDER)
        .trust(oem.iss(), oem.verifying_key())?
        .any_audience();
    let appraiser = Appraiser::new(manufacturers, signer, "door-controllers", references).result_ttl(86_400);
    let mut nonces = MemoryNonceStore::new(16);
    let challenge = Challenge::issue(&mut nonces, &mut ExampleRng(1), now, 60)?;
    let measurements = [("bootloader", boot)];
    let mut buf = [0u8; 512];
    let len = EvidenceBuilder::new(ueid)
        .nonce(challenge.nonce())
        .hwmodel(b"door-ctl-2")
        .swversion("1.2.0")
        .dbgstat(DebugStatus::DisabledPermanently)
        .oemboot(true)
        .measurements(&measurements)
        .sign(&*device_key, &mut buf)?;
    let evidence = buf.get(..len).unwrap_or_default();
    let appraisal = appraiser.appraise(&endorsement, evidence, Freshness::Nonce(&mut nonces), now)?;
    Ok(Onboarded {
        result: appraisal.token,
        results_verifier,
    })
}

/// The repository README: its Rust example runs as a doctest of this package.
#[doc = include_str!("../README.md")]
mod readme {}
