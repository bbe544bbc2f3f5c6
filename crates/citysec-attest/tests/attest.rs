//! Attestation end to end: happy paths for Ed25519 and ES256 devices, every bad input
//! of issue 5 with its exact outcome, freshness in both modes, the checks and their
//! tiers, and relying parties reading results.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    reason = "test code: a failed unwrap or index is a failed test"
)]

extern crate alloc;

use citysec_attest::labels;
use citysec_attest::{
    Appraisal, Appraiser, AttestationResult, Challenge, Check, DebugStatus, Endorsement, Error, Evidence,
    EvidenceBuilder, Freshness, MemoryNonceStore, NonceStore, OemId, Reason, ReferenceSet, ReferenceValues, Tier,
    TrustVector, UnverifiedEvidence, VerifierId,
};
use citysec_attest::{ManufacturerVerifier, ResultVerifier};
use citysec_core::coset::cbor::value::Value;
use citysec_core::cwt::{ClaimKey, ClaimsSet, Error as CredError, Issuer};
use citysec_core::provider::Signer;
use citysec_core::{Error as CoreError, Limits, RandomSource, SigningKey, Timestamp, sign1};

const NOW: u64 = 1_767_000_000;
const OEM: &str = "https://oem.example";
const AV: &str = "https://attest.city.example";
const AUD: &str = "door-controllers";
/// An EUI-48 ueid (type 0x02 and six bytes).
const UEID: [u8; 7] = [0x02, 0x00, 0x1b, 0x63, 0x00, 0x00, 0x42];
const OTHER_UEID: [u8; 7] = [0x02, 0x00, 0x1b, 0x63, 0x00, 0x00, 0x43];
const MODEL: &[u8] = b"door-ctl-2";
const BOOT: [u8; 32] = [0x11; 32];
const APP: [u8; 32] = [0x22; 32];
const GOOD_MEASUREMENTS: [(&str, [u8; 32]); 2] = [("bootloader", BOOT), ("app", APP)];
const YEAR: u64 = 365 * 86_400;

fn t(s: u64) -> Timestamp {
    Timestamp::from_unix_seconds(s)
}

struct Rng(u64);

impl RandomSource for Rng {
    fn fill(&mut self, buf: &mut [u8]) -> citysec_core::Result<()> {
        for b in buf {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            *b = (self.0 >> 56) as u8;
        }
        Ok(())
    }
}

fn manufacturer() -> Issuer {
    Issuer::new(OEM, soft(SigningKey::ed25519(&[1; 32]).with_kid(*b"oem-2026"))).unwrap()
}

fn ed_device() -> Box<dyn Signer> {
    soft(SigningKey::ed25519(&[2; 32]).with_kid(*b"door-0042"))
}

fn es_device() -> Box<dyn Signer> {
    soft(SigningKey::p256(&[3; 32]).unwrap().with_kid(*b"cam-0007"))
}

fn signer() -> Issuer {
    Issuer::new(AV, soft(SigningKey::ed25519(&[4; 32]).with_kid(*b"av-1"))).unwrap()
}

fn references() -> ReferenceSet {
    ReferenceSet::new()
        .with(
            ReferenceValues::new(MODEL, "1.4.0")
                .unwrap()
                .accept_version("1.4.2")
                .unwrap()
                .accept_version("1.5.0")
                .unwrap()
                .component("bootloader", BOOT)
                .unwrap()
                .component("app", APP)
                .unwrap()
                .min_debug_status(DebugStatus::Disabled),
        )
        .unwrap()
}

fn manufacturers() -> ManufacturerVerifier {
    ManufacturerVerifier::new(&citysec_rustcrypto::PROVIDER)
        .trust(OEM, manufacturer().verifying_key())
        .unwrap()
        .any_audience()
}

fn appraiser() -> Appraiser {
    Appraiser::new(manufacturers(), signer(), AUD, references())
}

fn relying_party() -> ResultVerifier {
    ResultVerifier::new(&citysec_rustcrypto::PROVIDER)
        .trust(AV, signer().verifying_key())
        .unwrap()
        .audience(AUD)
}

fn endorse_with(by: &Issuer, device: &dyn Signer, ueid: &[u8], model: &[u8]) -> Vec<u8> {
    Endorsement::new(ueid, device.verifying_key().clone(), model)
        .unwrap()
        .issue(by, t(NOW - YEAR), t(NOW + 10 * YEAR))
        .unwrap()
}

fn endorse(device: &dyn Signer) -> Vec<u8> {
    endorse_with(&manufacturer(), device, &UEID, MODEL)
}

/// The evidence a healthy door controller sends.
fn good(nonce: &[u8]) -> EvidenceBuilder<'_> {
    EvidenceBuilder::new(&UEID)
        .nonce(nonce)
        .oemid(OemId::Ieee([0x00, 0x1b, 0x63]))
        .hwmodel(MODEL)
        .hwversion("rev-c")
        .uptime(3_600)
        .oemboot(true)
        .dbgstat(DebugStatus::DisabledPermanently)
        .bootcount(17)
        .swname("door-fw")
        .swversion("1.4.2")
        .measurements(&GOOD_MEASUREMENTS)
}

/// A verifier with its nonce store and random source.
struct Setup {
    appraiser: Appraiser,
    nonces: MemoryNonceStore,
    rng: Rng,
}

impl Setup {
    fn new() -> Self {
        Self::with(appraiser())
    }

    fn with(appraiser: Appraiser) -> Self {
        Self {
            appraiser,
            nonces: MemoryNonceStore::new(64),
            rng: Rng(5),
        }
    }

    fn challenge(&mut self) -> Challenge {
        Challenge::issue(&mut self.nonces, &mut self.rng, t(NOW), 60).unwrap()
    }

    fn appraise_at(&mut self, endorsement: &[u8], evidence: &[u8], now: u64) -> Result<Appraisal, Error> {
        self.appraiser
            .appraise(endorsement, evidence, Freshness::Nonce(&mut self.nonces), t(now))
    }

    fn appraise(&mut self, endorsement: &[u8], evidence: &[u8]) -> Result<Appraisal, Error> {
        self.appraise_at(endorsement, evidence, NOW)
    }
}

/// Signs a hand-made claims map with the device key (for evidence the builder refuses
/// to make), its top-level keys sorted as deterministic encoding wants them (equal
/// keys stay side by side, in the order given).
fn sign_claims(device: &dyn Signer, mut claims: Vec<(Value, Value)>) -> Vec<u8> {
    claims.sort_by_key(|(k, _)| cbor(k));
    sign1::sign(&device, &cbor(&Value::Map(claims)), b"").unwrap()
}

/// `bytes` with the first occurrence of `from` replaced by `to`.
fn replace_once(bytes: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let at = bytes.windows(from.len()).position(|w| w == from).unwrap();
    [&bytes[..at], to, &bytes[at + from.len()..]].concat()
}

fn cbor(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    citysec_core::coset::cbor::ser::into_writer(v, &mut out).unwrap();
    out
}

fn base_claims(nonce: &[u8]) -> Vec<(Value, Value)> {
    vec![
        (Value::from(labels::EAT_NONCE), Value::Bytes(nonce.to_vec())),
        (Value::from(labels::UEID), Value::Bytes(UEID.to_vec())),
        (
            Value::from(labels::EAT_PROFILE),
            Value::Text(labels::EVIDENCE_PROFILE.into()),
        ),
    ]
}

fn affirmed(check: Check, detail: &str) -> Reason {
    Reason {
        check,
        tier: Tier::Affirming,
        detail: detail.into(),
    }
}

fn all_affirming_reasons() -> Vec<Reason> {
    vec![
        affirmed(Check::SwVersion, "swversion `1.4.2` is accepted"),
        affirmed(Check::Measurement, "component `bootloader` matches the reference"),
        affirmed(Check::Measurement, "component `app` matches the reference"),
        affirmed(Check::DebugStatus, "dbgstat `disabled-permanently`"),
        affirmed(Check::OemBoot, "boot chain is oem-authorized"),
    ]
}

fn vector(configuration: i8, executables: i8) -> TrustVector {
    let mut v = TrustVector::default();
    v.instance_identity = Some(2);
    v.configuration = Some(configuration);
    v.executables = Some(executables);
    v.hardware = Some(2);
    v
}

// ---------------------------------------------------------------------------
// Happy paths

#[test]
fn ed25519_device_is_affirmed_and_the_relying_party_reads_the_same_result() {
    let mut s = Setup::new();
    let c = s.challenge();
    let evidence = good(c.nonce()).sign_to_vec(&*ed_device()).unwrap();
    let appraisal = s.appraise(&endorse(&ed_device()), &evidence).unwrap();
    let r = &appraisal.result;
    assert_eq!(r.status, Tier::Affirming);
    assert_eq!(r.reasons, all_affirming_reasons());
    assert_eq!(r.trust_vector, vector(2, 2));
    assert_eq!(r.ueid, UEID);
    assert_eq!(r.hwmodel, MODEL);
    assert_eq!(r.nonce.as_deref(), Some(&c.nonce()[..]));
    assert_eq!(r.issuer, AV);
    assert_eq!(
        r.verifier_id,
        VerifierId {
            developer: AV.into(),
            build: concat!("citysec-attest ", env!("CARGO_PKG_VERSION")).into(),
        }
    );
    assert_eq!(r.issued_at, t(NOW));
    assert_eq!(r.expires, t(NOW + 3600));

    let read = AttestationResult::verify(&relying_party(), &appraisal.token, t(NOW + 10)).unwrap();
    assert_eq!(&read, r);
    assert!(read.is_affirming());
}

#[test]
fn es256_device_is_affirmed() {
    let mut s = Setup::new();
    let c = s.challenge();
    let evidence = good(c.nonce()).sign_to_vec(&*es_device()).unwrap();
    let parsed = UnverifiedEvidence::parse(&evidence, &Limits::DEFAULT).unwrap();
    assert_eq!(parsed.algorithm(), citysec_core::Algorithm::ES256);
    assert_eq!(parsed.kid(), Some(&b"cam-0007"[..]));
    let appraisal = s.appraise(&endorse(&es_device()), &evidence).unwrap();
    assert_eq!(appraisal.result.status, Tier::Affirming);
    assert_eq!(appraisal.result.reasons, all_affirming_reasons());
}

#[test]
fn all_es256_chain_manufacturer_verifier_and_device() {
    let oem = Issuer::new(OEM, soft(SigningKey::p256(&[7; 32]).unwrap().with_kid(*b"oem-p256"))).unwrap();
    let av = Issuer::new(AV, soft(SigningKey::p256(&[8; 32]).unwrap().with_kid(*b"av-p256"))).unwrap();
    let rp = ResultVerifier::new(&citysec_rustcrypto::PROVIDER)
        .trust(AV, av.verifying_key())
        .unwrap()
        .audience(AUD);
    let manufacturers = ManufacturerVerifier::new(&citysec_rustcrypto::PROVIDER)
        .trust(OEM, oem.verifying_key())
        .unwrap()
        .any_audience();
    let mut s = Setup::with(Appraiser::new(manufacturers, av, AUD, references()));
    let c = s.challenge();
    let evidence = good(c.nonce()).sign_to_vec(&*es_device()).unwrap();
    let endorsement = endorse_with(&oem, &es_device(), &UEID, MODEL);
    let appraisal = s.appraise(&endorsement, &evidence).unwrap();
    let read = AttestationResult::verify(&rp, &appraisal.token, t(NOW)).unwrap();
    assert_eq!(read.status, Tier::Affirming);
    assert_eq!(read, appraisal.result);
}

#[test]
fn the_ring_backend_appraises_the_same_evidence() {
    for device in [ed_device(), es_device()] {
        let mut s = Setup::new();
        let c = s.challenge();
        let evidence = good(c.nonce()).sign_to_vec(&*device).unwrap();
        let appraisal = s
            .appraiser
            .appraise(&endorse(&device), &evidence, Freshness::Nonce(&mut s.nonces), t(NOW))
            .unwrap();
        assert_eq!(appraisal.result.status, Tier::Affirming);
        // And the result verifies with the other backend.
        let read = AttestationResult::verify(&relying_party(), &appraisal.token, t(NOW)).unwrap();
        assert_eq!(read, appraisal.result);
    }
}

#[test]
fn builder_output_equals_core_sign1_over_the_same_claims() {
    let nonce = [9u8; 32];
    let b = good(&nonce);
    let key = ed_device();
    let payload = b.to_claims_vec().unwrap();
    let reference = sign1::sign(&*key, &payload, b"").unwrap();
    assert_eq!(b.sign_to_vec(&*key).unwrap(), reference);
    // Exactly the buffer it asks for, and not one byte less.
    let need = b.signed_len(&*key).unwrap();
    assert_eq!(need, reference.len());
    let mut buf = vec![0u8; need];
    assert_eq!(b.sign(&*key, &mut buf).unwrap(), need);
    assert_eq!(buf, reference);
    let mut short = vec![0u8; need - 1];
    assert_eq!(b.sign(&*key, &mut short), Err(Error::BufferTooSmall));
}

#[test]
fn builder_claims_decode_to_the_same_values() {
    let nonce = [9u8; 32];
    let sub_measurements = [("modem-fw", [0x33; 32])];
    let subs = [(
        "modem",
        EvidenceBuilder::submodule()
            .swversion("7.1")
            .measurements(&sub_measurements),
    )];
    let payload = good(&nonce).iat(t(NOW)).submods(&subs).to_claims_vec().unwrap();
    let e = Evidence::from_cbor(&payload, &Limits::DEFAULT).unwrap();
    assert_eq!(e.iat, Some(t(NOW)));
    assert_eq!(e.nonce.as_deref(), Some(&nonce[..]));
    assert_eq!(e.ueid.as_deref(), Some(&UEID[..]));
    assert_eq!(e.oemid, Some(OemId::Ieee([0x00, 0x1b, 0x63])));
    assert_eq!(e.hwmodel.as_deref(), Some(MODEL));
    assert_eq!(e.hwversion.as_ref().unwrap().version, "rev-c");
    assert_eq!(e.hwversion.as_ref().unwrap().scheme, None);
    assert_eq!(e.uptime, Some(3_600));
    assert_eq!(e.oemboot, Some(true));
    assert_eq!(e.dbgstat, Some(DebugStatus::DisabledPermanently));
    assert_eq!(e.profile.as_deref(), Some(labels::EVIDENCE_PROFILE));
    assert_eq!(e.bootcount, Some(17));
    assert_eq!(e.swname.as_deref(), Some("door-fw"));
    assert_eq!(e.swversion.as_ref().unwrap().version, "1.4.2");
    assert_eq!(e.measurements.len(), 2);
    assert_eq!(e.measurement("bootloader").unwrap().digest, BOOT);
    assert_eq!(e.measurement("app").unwrap().digest, APP);
    assert_eq!(e.submods.len(), 1);
    let (name, modem) = &e.submods[0];
    assert_eq!(name, "modem");
    assert_eq!(modem.swversion.as_ref().unwrap().version, "7.1");
    assert_eq!(modem.measurement("modem-fw").unwrap().digest, [0x33; 32]);
    assert_eq!(modem.profile, None);
    assert!(e.other.is_empty());
}

#[test]
fn unknown_claims_are_kept() {
    let mut claims = base_claims(&[1; 16]);
    claims.push((Value::from(-70_000), Value::Text("kept".into())));
    claims.push((Value::Text("vendor".into()), Value::from(5)));
    let e = Evidence::from_cbor(&cbor(&Value::Map(claims)), &Limits::DEFAULT).unwrap();
    assert_eq!(
        e.other,
        vec![
            (ClaimKey::Int(-70_000), Value::Text("kept".into())),
            (ClaimKey::Text("vendor".into()), Value::from(5)),
        ]
    );
}

// ---------------------------------------------------------------------------
// Bad input (issue 5), each with its exact outcome

#[test]
fn missing_nonce() {
    let mut s = Setup::new();
    let _ = s.challenge();
    let evidence = EvidenceBuilder::new(&UEID)
        .hwmodel(MODEL)
        .swversion("1.4.2")
        .oemboot(true)
        .dbgstat(DebugStatus::DisabledPermanently)
        .sign_to_vec(&*ed_device())
        .unwrap();
    assert_eq!(s.appraise(&endorse(&ed_device()), &evidence), Err(Error::MissingNonce));
}

#[test]
fn a_nonce_used_before_is_replayed_evidence() {
    let mut s = Setup::new();
    let c = s.challenge();
    let evidence = good(c.nonce()).sign_to_vec(&*ed_device()).unwrap();
    let endorsement = endorse(&ed_device());
    assert!(s.appraise(&endorsement, &evidence).is_ok());
    assert_eq!(s.appraise(&endorsement, &evidence), Err(Error::NonceReplayed));
    // Fresh evidence with the same nonce is just as replayed.
    let again = good(c.nonce()).uptime(3_700).sign_to_vec(&*ed_device()).unwrap();
    assert_eq!(s.appraise(&endorsement, &again), Err(Error::NonceReplayed));
}

#[test]
fn an_expired_nonce() {
    let mut s = Setup::new();
    let c = s.challenge();
    assert_eq!(c.expires(), t(NOW + 60));
    let evidence = good(c.nonce()).sign_to_vec(&*ed_device()).unwrap();
    let endorsement = endorse(&ed_device());
    assert_eq!(
        s.appraise_at(&endorsement, &evidence, NOW + 60),
        Err(Error::NonceExpired)
    );
    // One second earlier it was still good.
    let mut s = Setup::new();
    let c = s.challenge();
    let evidence = good(c.nonce()).sign_to_vec(&*ed_device()).unwrap();
    assert!(s.appraise_at(&endorsement, &evidence, NOW + 59).is_ok());
}

#[test]
fn a_nonce_never_issued() {
    let mut s = Setup::new();
    let evidence = good(&[0x5a; 32]).sign_to_vec(&*ed_device()).unwrap();
    assert_eq!(s.appraise(&endorse(&ed_device()), &evidence), Err(Error::UnknownNonce));
}

#[test]
fn evidence_signed_by_a_key_other_than_the_endorsed_one() {
    let endorsement = endorse(&ed_device());
    let mut s = Setup::new();
    let c = s.challenge();
    // Another device's key, with its own kid: the kid does not name the endorsed key.
    let other = soft(SigningKey::ed25519(&[5; 32]).with_kid(*b"door-0099"));
    let evidence = good(c.nonce()).sign_to_vec(&*other).unwrap();
    assert_eq!(
        s.appraise(&endorsement, &evidence),
        Err(Error::Core(CoreError::UnknownKey))
    );
    // The same key claiming the endorsed key's kid: the signature does not verify.
    let impostor = soft(SigningKey::ed25519(&[5; 32]).with_kid(*b"door-0042"));
    let evidence = good(c.nonce()).sign_to_vec(&*impostor).unwrap();
    assert_eq!(
        s.appraise(&endorsement, &evidence),
        Err(Error::Core(CoreError::BadSignature))
    );
    // An ES256 key where an Ed25519 key is endorsed.
    let evidence = good(c.nonce()).sign_to_vec(&*es_device()).unwrap();
    assert_eq!(
        s.appraise(&endorsement, &evidence),
        Err(Error::Core(CoreError::KeyAlgMismatch))
    );
    // None of these used up the nonce: the genuine device can still answer it.
    let evidence = good(c.nonce()).sign_to_vec(&*ed_device()).unwrap();
    assert_eq!(
        s.appraise(&endorsement, &evidence).unwrap().result.status,
        Tier::Affirming
    );
}

#[test]
fn endorsement_from_an_untrusted_manufacturer() {
    let mut s = Setup::new();
    let c = s.challenge();
    let evidence = good(c.nonce()).sign_to_vec(&*ed_device()).unwrap();
    let rogue = Issuer::new(OEM, soft(SigningKey::ed25519(&[6; 32]).with_kid(*b"rogue"))).unwrap();
    assert_eq!(
        s.appraise(&endorse_with(&rogue, &ed_device(), &UEID, MODEL), &evidence),
        Err(Error::Endorsement(CredError::Core(CoreError::UnknownKey)))
    );
    // Claiming the trusted manufacturer's kid does not help.
    let forger = Issuer::new(OEM, soft(SigningKey::ed25519(&[6; 32]).with_kid(*b"oem-2026"))).unwrap();
    assert_eq!(
        s.appraise(&endorse_with(&forger, &ed_device(), &UEID, MODEL), &evidence),
        Err(Error::Endorsement(CredError::Core(CoreError::BadSignature)))
    );
    // A device cannot endorse itself: its key is not a manufacturer key.
    let own = Issuer::new(OEM, ed_device()).unwrap();
    assert_eq!(
        s.appraise(&endorse_with(&own, &ed_device(), &UEID, MODEL), &evidence),
        Err(Error::Endorsement(CredError::Core(CoreError::UnknownKey)))
    );
}

#[test]
fn endorsement_for_another_ueid() {
    let mut s = Setup::new();
    let c = s.challenge();
    let evidence = good(c.nonce()).sign_to_vec(&*ed_device()).unwrap();
    let endorsement = endorse_with(&manufacturer(), &ed_device(), &OTHER_UEID, MODEL);
    assert_eq!(s.appraise(&endorsement, &evidence), Err(Error::UeidMismatch));
}

#[test]
fn unknown_hwmodel() {
    let mut s = Setup::new();
    let c = s.challenge();
    let evidence = good(c.nonce()).hwmodel(b"cam-9").sign_to_vec(&*ed_device()).unwrap();
    let endorsement = endorse_with(&manufacturer(), &ed_device(), &UEID, b"cam-9");
    assert_eq!(s.appraise(&endorsement, &evidence), Err(Error::UnknownHwModel));
}

#[test]
fn firmware_below_the_minimum_is_contraindicated() {
    let mut s = Setup::new();
    let c = s.challenge();
    let evidence = good(c.nonce()).swversion("1.3.9").sign_to_vec(&*ed_device()).unwrap();
    let appraisal = s.appraise(&endorse(&ed_device()), &evidence).unwrap();
    let r = &appraisal.result;
    assert_eq!(r.status, Tier::Contraindicated);
    assert_eq!(
        r.reasons[0],
        Reason {
            check: Check::SwVersion,
            tier: Tier::Contraindicated,
            detail: "swversion `1.3.9` is below the minimum `1.4.0`".into(),
        }
    );
    assert!(r.reasons[1..].iter().all(|r| r.tier == Tier::Affirming));
    assert_eq!(r.trust_vector, vector(2, 96));
    // A contraindicated result is still a valid signed result.
    let read = AttestationResult::verify(&relying_party(), &appraisal.token, t(NOW)).unwrap();
    assert_eq!(read.status, Tier::Contraindicated);
    assert!(!read.is_affirming());
}

#[test]
fn a_measurement_digest_that_differs_is_contraindicated() {
    let mut s = Setup::new();
    let c = s.challenge();
    let tampered = [("bootloader", [0x12; 32]), ("app", APP)];
    let evidence = good(c.nonce())
        .measurements(&tampered)
        .sign_to_vec(&*ed_device())
        .unwrap();
    let r = s.appraise(&endorse(&ed_device()), &evidence).unwrap().result;
    assert_eq!(r.status, Tier::Contraindicated);
    assert_eq!(
        r.reasons[1],
        Reason {
            check: Check::Measurement,
            tier: Tier::Contraindicated,
            detail: "component `bootloader` digest differs from the reference".into(),
        }
    );
    assert_eq!(r.reasons[2].tier, Tier::Affirming);
    assert_eq!(r.trust_vector, vector(2, 96));
}

#[test]
fn a_missing_component_is_contraindicated() {
    let mut s = Setup::new();
    let c = s.challenge();
    let only_boot = [("bootloader", BOOT)];
    let evidence = good(c.nonce())
        .measurements(&only_boot)
        .sign_to_vec(&*ed_device())
        .unwrap();
    let r = s.appraise(&endorse(&ed_device()), &evidence).unwrap().result;
    assert_eq!(r.status, Tier::Contraindicated);
    assert_eq!(
        r.reasons[2],
        Reason {
            check: Check::Measurement,
            tier: Tier::Contraindicated,
            detail: "component `app` is not measured".into(),
        }
    );
}

#[test]
fn debug_enabled_is_contraindicated() {
    let mut s = Setup::new();
    let c = s.challenge();
    let evidence = good(c.nonce())
        .dbgstat(DebugStatus::Enabled)
        .sign_to_vec(&*ed_device())
        .unwrap();
    let r = s.appraise(&endorse(&ed_device()), &evidence).unwrap().result;
    assert_eq!(r.status, Tier::Contraindicated);
    assert_eq!(
        r.reasons[3],
        Reason {
            check: Check::DebugStatus,
            tier: Tier::Contraindicated,
            detail: "debug is `enabled`".into(),
        }
    );
    assert_eq!(r.trust_vector, vector(96, 2));
}

/// `{..., 266: {"sub": {266: {"sub": ... {261: 5}}}}}` with `levels` nested submodules.
fn nested_submods(levels: usize) -> Value {
    let mut inner = Value::Map(vec![(Value::from(labels::UPTIME), Value::from(5))]);
    for _ in 0..levels {
        inner = Value::Map(vec![(
            Value::from(labels::SUBMODS),
            Value::Map(vec![(Value::Text("sub".into()), inner)]),
        )]);
    }
    inner
}

#[test]
fn submods_nested_past_the_depth_limit() {
    // Each nested submodule adds two levels (the submods map and its claims set). With
    // 7 levels the innermost value sits at depth 15 of the claims (the limit is 16).
    let make = |levels: usize, nonce: &[u8]| {
        let Value::Map(mut claims) = nested_submods(levels) else {
            panic!()
        };
        claims.extend(base_claims(nonce));
        sign_claims(&ed_device(), claims)
    };
    let endorsement = endorse(&ed_device());
    let mut s = Setup::new();
    let c = s.challenge();
    let within = s.appraise(&endorsement, &make(7, c.nonce()));
    // Within the limit it decodes (and is appraised: no firmware claims, so contraindicated).
    assert_eq!(within.unwrap().result.status, Tier::Contraindicated);
    let c = s.challenge();
    assert_eq!(
        s.appraise(&endorsement, &make(8, c.nonce())),
        Err(Error::Core(CoreError::TooDeep))
    );
    // A tighter limit applies to the claims too.
    let mut s = Setup::with(appraiser().limits(Limits::DEFAULT.with_max_depth(4)));
    let c = s.challenge();
    assert_eq!(
        s.appraise(&endorsement, &make(2, c.nonce())),
        Err(Error::Core(CoreError::TooDeep))
    );
}

#[test]
fn a_nonce_of_7_or_65_bytes() {
    let endorsement = endorse(&ed_device());
    for len in [7usize, 65] {
        let nonce = vec![0x42; len];
        // The builder refuses to make it.
        assert_eq!(
            good(&nonce).sign_to_vec(&*ed_device()),
            Err(Error::InvalidNonce),
            "{len}"
        );
        // Made by hand and signed by the endorsed key, the verifier refuses it.
        let evidence = sign_claims(&ed_device(), base_claims(&nonce));
        let mut s = Setup::new();
        assert_eq!(s.appraise(&endorsement, &evidence), Err(Error::InvalidNonce), "{len}");
    }
    // The bounds themselves are fine for the decoder: 8 and 64 bytes.
    for len in [8usize, 64] {
        let claims = cbor(&Value::Map(base_claims(&vec![0x42; len])));
        assert!(Evidence::from_cbor(&claims, &Limits::DEFAULT).is_ok(), "{len}");
    }
    // An array of nonces is refused like a nonce of the wrong size.
    let mut claims = base_claims(&[1; 16]);
    claims[0].1 = Value::Array(vec![Value::Bytes(vec![1; 16]), Value::Bytes(vec![2; 16])]);
    assert_eq!(
        Evidence::from_cbor(&cbor(&Value::Map(claims)), &Limits::DEFAULT),
        Err(Error::InvalidNonce)
    );
}

#[test]
fn evidence_bigger_than_the_limit() {
    let endorsement = endorse(&ed_device());
    // Over the default 64 KiB.
    let mut s = Setup::new();
    let c = s.challenge();
    let name = "x".repeat(64 * 1024);
    let evidence = good(c.nonce()).swname(&name).sign_to_vec(&*ed_device()).unwrap();
    assert!(evidence.len() > 64 * 1024);
    assert_eq!(
        s.appraise(&endorsement, &evidence),
        Err(Error::Core(CoreError::TooLarge))
    );
    // And exactly at a tighter limit: one byte over rejects, the exact size passes.
    let c = s.challenge();
    let evidence = good(c.nonce()).sign_to_vec(&*ed_device()).unwrap();
    let limit = |n: usize| Limits::DEFAULT.with_max_message_size(n);
    let mut tight = Setup::with(appraiser().limits(limit(evidence.len() - 1)));
    tight.nonces = s.nonces.clone();
    assert_eq!(
        tight.appraise(&endorsement, &evidence),
        Err(Error::Core(CoreError::TooLarge))
    );
    let mut exact = Setup::with(appraiser().limits(limit(evidence.len())));
    exact.nonces = s.nonces.clone();
    assert_eq!(
        exact.appraise(&endorsement, &evidence).unwrap().result.status,
        Tier::Affirming
    );
}

// ---------------------------------------------------------------------------
// More identity, profile and structure failures

#[test]
fn hwmodel_and_oemid_must_match_the_endorsement() {
    let mut s = Setup::new();
    let c = s.challenge();
    let evidence = good(c.nonce()).hwmodel(b"cam-9").sign_to_vec(&*ed_device()).unwrap();
    assert_eq!(
        s.appraise(&endorse(&ed_device()), &evidence),
        Err(Error::HwModelMismatch)
    );
    let endorsement = Endorsement::new(UEID, ed_device().verifying_key().clone(), MODEL)
        .unwrap()
        .with_oemid(OemId::Pen(32_473))
        .issue(&manufacturer(), t(NOW - 10), t(NOW + YEAR))
        .unwrap();
    let evidence = good(c.nonce()).sign_to_vec(&*ed_device()).unwrap();
    assert_eq!(s.appraise(&endorsement, &evidence), Err(Error::OemIdMismatch));
}

#[test]
fn an_expired_endorsement() {
    let endorsement = Endorsement::new(UEID, ed_device().verifying_key().clone(), MODEL)
        .unwrap()
        .issue(&manufacturer(), t(NOW - YEAR), t(NOW - 3600))
        .unwrap();
    let mut s = Setup::new();
    let c = s.challenge();
    let evidence = good(c.nonce()).sign_to_vec(&*ed_device()).unwrap();
    assert_eq!(
        s.appraise(&endorsement, &evidence),
        Err(Error::Endorsement(CredError::Expired))
    );
}

#[test]
fn a_credential_that_is_not_an_endorsement() {
    // Signed by the trusted manufacturer, but an access credential, not an endorsement.
    let mut claims = ClaimsSet::new();
    claims.sub = Some("0200".into());
    claims.exp = Some(t(NOW + YEAR));
    let token = manufacturer().issue(&claims).unwrap();
    let mut s = Setup::new();
    let c = s.challenge();
    let evidence = good(c.nonce()).sign_to_vec(&*ed_device()).unwrap();
    assert_eq!(s.appraise(&token, &evidence), Err(Error::MalformedEndorsement));
}

#[test]
fn a_result_never_outlives_its_endorsement() {
    let endorsement = Endorsement::new(UEID, ed_device().verifying_key().clone(), MODEL)
        .unwrap()
        .issue(&manufacturer(), t(NOW - YEAR), t(NOW + 100))
        .unwrap();
    let mut s = Setup::new();
    let c = s.challenge();
    let evidence = good(c.nonce()).sign_to_vec(&*ed_device()).unwrap();
    assert_eq!(
        s.appraise(&endorsement, &evidence).unwrap().result.expires,
        t(NOW + 100)
    );
}

#[test]
fn strict_decoding_of_the_claims() {
    let endorsement = endorse(&ed_device());
    let nonce = [7u8; 32];
    // Duplicate claim key (ciborium would keep both).
    let mut dup = base_claims(&nonce);
    dup.push((Value::from(labels::UEID), Value::Bytes(OTHER_UEID.to_vec())));
    let evidence = sign_claims(&ed_device(), dup);
    assert_eq!(
        Setup::new().appraise(&endorsement, &evidence),
        Err(Error::Core(CoreError::DuplicateMapKey))
    );
    // Indefinite-length map: 0xbf ... 0xff.
    let mut indefinite = vec![0xbf];
    indefinite.extend_from_slice(&[0x19, 0x01, 0x00, 0x47]);
    indefinite.extend_from_slice(&UEID);
    indefinite.push(0xff);
    let evidence = sign1::sign(&*ed_device(), &indefinite, b"").unwrap();
    assert_eq!(
        Setup::new().appraise(&endorsement, &evidence),
        Err(Error::Core(CoreError::IndefiniteLength))
    );
    // A tag inside the claims.
    let mut tagged = base_claims(&nonce);
    tagged.push((Value::from(labels::UPTIME), Value::Tag(1, Box::new(Value::from(5)))));
    assert_eq!(
        Setup::new().appraise(&endorsement, &sign_claims(&ed_device(), tagged)),
        Err(Error::Core(CoreError::UnexpectedTag))
    );
    // Another profile.
    let mut other = base_claims(&nonce);
    other[2].1 = Value::Text("tag:example.com,2026:other".into());
    assert_eq!(
        Setup::new().appraise(&endorsement, &sign_claims(&ed_device(), other)),
        Err(Error::UnsupportedProfile)
    );
    // A ueid of 6 bytes.
    let mut short = base_claims(&nonce);
    short[1].1 = Value::Bytes(vec![2; 6]);
    assert_eq!(
        Setup::new().appraise(&endorsement, &sign_claims(&ed_device(), short)),
        Err(Error::InvalidUeid)
    );
    // No ueid at all.
    let mut none = base_claims(&nonce);
    none.remove(1);
    assert_eq!(
        Setup::new().appraise(&endorsement, &sign_claims(&ed_device(), none)),
        Err(Error::MissingUeid)
    );
    // ClaimsSet of the wrong type: dbgstat 5, oemboot as an integer, a SHA-1-sized digest.
    for (key, value) in [
        (labels::DBGSTAT, Value::from(5)),
        (labels::OEMBOOT, Value::from(1)),
        (
            labels::MEASUREMENTS,
            Value::Array(vec![Value::Array(vec![
                Value::from(labels::MEASUREMENT_CONTENT_FORMAT),
                Value::Bytes(cbor(&Value::Map(vec![
                    (Value::from(1), Value::Array(vec![Value::Text("app".into())])),
                    (
                        Value::from(2),
                        Value::Array(vec![Value::from(1), Value::Bytes(vec![0; 20])]),
                    ),
                ]))),
            ])]),
        ),
    ] {
        let mut claims = base_claims(&nonce);
        claims.push((Value::from(key), value));
        assert_eq!(
            Setup::new().appraise(&endorsement, &sign_claims(&ed_device(), claims)),
            Err(Error::MalformedEvidence),
            "{key}"
        );
    }
    // Untagged evidence.
    let untagged = sign1::sign_with_headers(
        &*ed_device(),
        Default::default(),
        Default::default(),
        &cbor(&Value::Map(base_claims(&nonce))),
        b"",
        sign1::Tagging::Untagged,
    )
    .unwrap();
    assert_eq!(
        Setup::new().appraise(&endorsement, &untagged),
        Err(Error::Core(CoreError::WrongTag))
    );
}

#[test]
fn builder_refuses_out_of_range_claims() {
    let nonce = [1u8; 16];
    let key = ed_device();
    assert_eq!(
        EvidenceBuilder::new(&UEID[..6]).sign_to_vec(&*key),
        Err(Error::InvalidUeid)
    );
    assert_eq!(
        EvidenceBuilder::submodule().nonce(&nonce).sign_to_vec(&*key),
        Err(Error::MissingUeid)
    );
    assert_eq!(
        EvidenceBuilder::new(&UEID).hwmodel(&[0; 33]).sign_to_vec(&*key),
        Err(Error::InvalidClaim)
    );
    let twice = [("app", APP), ("app", BOOT)];
    assert_eq!(
        EvidenceBuilder::new(&UEID).measurements(&twice).sign_to_vec(&*key),
        Err(Error::InvalidClaim)
    );
    let subs = [
        ("modem", EvidenceBuilder::submodule()),
        ("modem", EvidenceBuilder::submodule()),
    ];
    assert_eq!(
        EvidenceBuilder::new(&UEID).submods(&subs).sign_to_vec(&*key),
        Err(Error::InvalidClaim)
    );
}

// ---------------------------------------------------------------------------
// Warnings

#[test]
fn warnings_for_unrecognized_firmware_extra_components_and_weak_debug_lock() {
    let refs = ReferenceSet::new()
        .with(
            ReferenceValues::new(MODEL, "1.4.0")
                .unwrap()
                .accept_version("1.4.2")
                .unwrap()
                .component("bootloader", BOOT)
                .unwrap()
                .min_debug_status(DebugStatus::DisabledPermanently),
        )
        .unwrap();
    let mut s = Setup::with(Appraiser::new(manufacturers(), signer(), AUD, refs));
    let c = s.challenge();
    let evidence = good(c.nonce())
        .swversion("1.4.5")
        .dbgstat(DebugStatus::Disabled)
        .sign_to_vec(&*ed_device())
        .unwrap();
    let r = s.appraise(&endorse(&ed_device()), &evidence).unwrap().result;
    let warn = |check, detail: &str| Reason {
        check,
        tier: Tier::Warning,
        detail: detail.into(),
    };
    assert_eq!(
        r.reasons,
        vec![
            warn(Check::SwVersion, "swversion `1.4.5` is not an accepted version"),
            affirmed(Check::Measurement, "component `bootloader` matches the reference"),
            warn(Check::Measurement, "component `app` is not in the reference values"),
            warn(
                Check::DebugStatus,
                "dbgstat `disabled` is less than the required `disabled-permanently`"
            ),
            affirmed(Check::OemBoot, "boot chain is oem-authorized"),
        ]
    );
    assert_eq!(r.status, Tier::Warning);
    assert_eq!(r.trust_vector, vector(32, 33));
}

#[test]
fn missing_firmware_claims_are_contraindicated() {
    let mut s = Setup::new();
    let c = s.challenge();
    let evidence = EvidenceBuilder::new(&UEID)
        .nonce(c.nonce())
        .swversion("1.4.2-rc1")
        .sign_to_vec(&*ed_device())
        .unwrap();
    let r = s.appraise(&endorse(&ed_device()), &evidence).unwrap().result;
    let details: Vec<(&str, Tier)> = r.reasons.iter().map(|r| (r.detail.as_str(), r.tier)).collect();
    assert_eq!(
        details,
        vec![
            (
                "swversion `1.4.2-rc1` is not a dotted numeric version",
                Tier::Contraindicated
            ),
            ("component `bootloader` is not measured", Tier::Contraindicated),
            ("component `app` is not measured", Tier::Contraindicated),
            ("evidence has no dbgstat", Tier::Contraindicated),
            ("evidence has no oemboot", Tier::Contraindicated),
        ]
    );
}

// ---------------------------------------------------------------------------
// Timestamp freshness

#[test]
fn timestamp_mode_accepts_a_window_and_nothing_else() {
    let a = appraiser();
    let endorsement = endorse(&ed_device());
    let ts = || Freshness::Timestamp { max_age_seconds: 300 };
    let at = |iat: u64| {
        let evidence = good(&[0; 8]).iat(t(iat)).sign_to_vec(&*ed_device()).unwrap();
        a.appraise(&endorsement, &evidence, ts(), t(NOW))
    };
    let oldest = at(NOW - 300).unwrap();
    assert_eq!(oldest.result.status, Tier::Affirming);
    assert_eq!(oldest.result.nonce, None);
    assert_eq!(at(NOW - 301), Err(Error::StaleEvidence));
    assert!(at(NOW + 60).is_ok());
    assert_eq!(at(NOW + 61), Err(Error::EvidenceFromFuture));
    // Without iat.
    let evidence = good(&[0; 8]).sign_to_vec(&*ed_device()).unwrap();
    assert_eq!(
        a.appraise(&endorsement, &evidence, ts(), t(NOW)),
        Err(Error::MissingTimestamp)
    );
}

// ---------------------------------------------------------------------------
// Nonce store

#[test]
fn memory_nonce_store_bounds_expiry_and_single_use() {
    let mut store = MemoryNonceStore::new(2);
    let mut rng = Rng(1);
    let a = Challenge::issue(&mut store, &mut rng, t(NOW), 60).unwrap();
    let _b = Challenge::issue(&mut store, &mut rng, t(NOW), 120).unwrap();
    assert_eq!(
        Challenge::issue(&mut store, &mut rng, t(NOW), 60),
        Err(Error::NonceStoreFull)
    );
    // Once `a` expired it is dropped and makes room.
    assert!(Challenge::issue(&mut store, &mut rng, t(NOW + 60), 60).is_ok());
    assert_eq!(store.consume(a.nonce(), t(NOW + 60)), Err(Error::UnknownNonce));
    // Too short or too long to be a challenge.
    assert_eq!(store.insert(&[1; 15], t(NOW + 60), t(NOW)), Err(Error::InvalidNonce));
    assert_eq!(store.insert(&[1; 65], t(NOW + 60), t(NOW)), Err(Error::InvalidNonce));

    let mut store = MemoryNonceStore::new(8);
    store.insert(&[9; 16], t(NOW + 10), t(NOW)).unwrap();
    assert_eq!(store.insert(&[9; 16], t(NOW + 10), t(NOW)), Err(Error::InvalidNonce));
    assert_eq!(store.consume(&[9; 16], t(NOW + 9)), Ok(()));
    assert_eq!(store.consume(&[9; 16], t(NOW + 9)), Err(Error::NonceReplayed));
    assert_eq!(store.len(), 1);
    store.prune(t(NOW + 10));
    assert!(store.is_empty());
}

// ---------------------------------------------------------------------------
// Relying parties

#[test]
fn relying_parties_refuse_what_is_not_their_result() {
    let mut s = Setup::new();
    let c = s.challenge();
    let evidence = good(c.nonce()).sign_to_vec(&*ed_device()).unwrap();
    let token = s.appraise(&endorse(&ed_device()), &evidence).unwrap().token;
    // Another audience.
    let elsewhere = ResultVerifier::new(&citysec_rustcrypto::PROVIDER)
        .trust(AV, signer().verifying_key())
        .unwrap()
        .audience("parking-meters");
    assert_eq!(
        AttestationResult::verify(&elsewhere, &token, t(NOW)),
        Err(Error::Credential(CredError::WrongAudience))
    );
    // Expired (after exp + the 60 s skew).
    assert_eq!(
        AttestationResult::verify(&relying_party(), &token, t(NOW + 3600 + 60)),
        Err(Error::Credential(CredError::Expired))
    );
    // A relying party that does not trust the verifier's key.
    let stranger = ResultVerifier::new(&citysec_rustcrypto::PROVIDER)
        .trust(AV, manufacturer().verifying_key())
        .unwrap()
        .audience(AUD);
    assert_eq!(
        AttestationResult::verify(&stranger, &token, t(NOW)),
        Err(Error::Credential(CredError::Core(CoreError::UnknownKey)))
    );
    // An access credential from the same verifier key is not an attestation result.
    let mut claims = ClaimsSet::new();
    claims.sub = Some(citysec_hex(&UEID));
    claims.aud = vec![AUD.into()];
    claims.exp = Some(t(NOW + 60));
    claims.other.push((ClaimKey::Int(labels::EAR_STATUS), Value::from(2)));
    let credential = signer().issue(&claims).unwrap();
    assert_eq!(
        AttestationResult::verify(&relying_party(), &credential, t(NOW)),
        Err(Error::MalformedResult)
    );
    // A result whose ueid is shorter than RFC 9711 allows, signed by the verifier.
    let mut short = appraisal_result();
    short.ueid = vec![2; 6];
    let token = short.sign(&signer(), AUD).unwrap();
    assert_eq!(
        AttestationResult::verify(&relying_party(), &token, t(NOW)),
        Err(Error::MalformedResult)
    );
    // The same result with a proper ueid reads back.
    let token = appraisal_result().sign(&signer(), AUD).unwrap();
    assert_eq!(
        AttestationResult::verify(&relying_party(), &token, t(NOW)),
        Ok(appraisal_result())
    );
}

/// `claims` with claim `key` replaced by `value` (removed if `None`).
fn with_claim(mut claims: ClaimsSet, key: i64, value: Option<Value>) -> ClaimsSet {
    let at = claims.other.iter().position(|(k, _)| *k == ClaimKey::Int(key));
    match (at, value) {
        (Some(i), Some(v)) => claims.other[i].1 = v,
        (Some(i), None) => {
            claims.other.remove(i);
        }
        (None, Some(v)) => claims.other.push((ClaimKey::Int(key), v)),
        (None, None) => {}
    }
    claims
}

/// The device appraisal of `claims`, changed by `f`, put back.
fn with_appraisal(claims: ClaimsSet, f: impl FnOnce(&mut Vec<(Value, Value)>)) -> ClaimsSet {
    let Some(Value::Map(submods)) = claims.other_claim(&ClaimKey::Int(266)).cloned() else {
        panic!("no submods")
    };
    let (name, Value::Map(mut appraisal)) = submods[0].clone() else {
        panic!("no appraisal")
    };
    f(&mut appraisal);
    with_claim(claims, 266, Some(Value::Map(vec![(name, Value::Map(appraisal))])))
}

#[test]
fn results_outside_the_ear_layout_are_refused() {
    let good = appraisal_result().to_claims(AUD);
    let reasons_array = Value::Array(vec![Value::Array(vec![
        Value::Text("swversion".into()),
        Value::from(2),
        Value::Text("ok".into()),
    ])]);
    // A citysec 0.1 result: its own profile, status, vector and reasons (an
    // array) at the top level, no submods.
    let old = with_claim(
        with_claim(
            with_claim(
                with_claim(
                    good.clone(),
                    265,
                    Some(Value::Text("tag:github.com,2026:citysec/attestation-result/1".into())),
                ),
                266,
                None,
            ),
            1001,
            Some(Value::Map(vec![(Value::from(0), Value::from(2))])),
        ),
        -65601,
        Some(reasons_array.clone()),
    );
    let appraisal = |c: &ClaimsSet| {
        let Some(Value::Map(s)) = c.other_claim(&ClaimKey::Int(266)).cloned() else {
            panic!()
        };
        s[0].1.clone()
    };
    let cases: Vec<(&str, ClaimsSet)> = vec![
        ("0.1 layout", old),
        ("no submods", with_claim(good.clone(), 266, None)),
        (
            "two submodules",
            with_claim(
                good.clone(),
                266,
                Some(Value::Map(vec![
                    (Value::Text("device".into()), appraisal(&good)),
                    (Value::Text("modem".into()), appraisal(&good)),
                ])),
            ),
        ),
        (
            "another submodule name",
            with_claim(
                good.clone(),
                266,
                Some(Value::Map(vec![(Value::Text("door".into()), appraisal(&good))])),
            ),
        ),
        ("no top-level status", with_claim(good.clone(), 1000, None)),
        (
            "top-level status better than the device's",
            with_appraisal(good.clone(), |a| a[1].1 = Value::from(96)),
        ),
        (
            "device status out of range",
            with_appraisal(with_claim(good.clone(), 1000, Some(Value::from(3))), |a| {
                a[1].1 = Value::from(3);
            }),
        ),
        (
            "reasons as an array",
            with_appraisal(good.clone(), |a| a[3].1 = reasons_array.clone()),
        ),
        (
            "reasons keyed out of order",
            with_appraisal(good.clone(), |a| {
                let Value::Map(r) = &mut a[3].1 else { panic!() };
                r[0].0 = Value::from(1);
                r[1].0 = Value::from(0);
            }),
        ),
        (
            "no appraisal profile",
            with_appraisal(good.clone(), |a| {
                a.remove(0);
            }),
        ),
        (
            "an unknown appraisal claim",
            with_appraisal(good.clone(), |a| {
                a.push((Value::from(1003), Value::Array(vec![Value::Text("p".into())])));
            }),
        ),
        (
            "a vector value beyond i8",
            with_appraisal(good.clone(), |a| {
                a[2].1 = Value::Map(vec![(Value::from(0), Value::from(128))]);
            }),
        ),
    ];
    for (what, claims) in cases {
        let token = signer().issue(&claims).unwrap();
        assert_eq!(
            AttestationResult::verify(&relying_party(), &token, t(NOW)),
            Err(Error::MalformedResult),
            "{what}"
        );
    }
    // The unchanged claims read back.
    let token = signer().issue(&good).unwrap();
    assert_eq!(
        AttestationResult::verify(&relying_party(), &token, t(NOW)),
        Ok(appraisal_result())
    );
}

#[test]
fn evidence_has_one_byte_form() {
    let nonce = [9u8; 32];
    let limits = Limits::DEFAULT;
    // The builder writes deterministic claims, submodule names sorted whatever the
    // order given (shorter first, then bytewise).
    let sub_measurements = [("modem-fw", [0x33; 32]), ("bb", [0x44; 32])];
    let subs = [
        ("zeta", EvidenceBuilder::submodule().uptime(1)),
        (
            "modem",
            EvidenceBuilder::submodule()
                .swversion("7.1")
                .measurements(&sub_measurements),
        ),
        ("b", EvidenceBuilder::submodule().bootcount(300)),
        ("aa", EvidenceBuilder::submodule().oemboot(false)),
    ];
    let payload = good(&nonce).iat(t(NOW)).submods(&subs).to_claims_vec().unwrap();
    assert_eq!(
        citysec_core::cbor::check_deterministic(&payload, &limits, citysec_core::cbor::Tags::Forbid),
        Ok(())
    );
    let e = Evidence::from_cbor(&payload, &limits).unwrap();
    let names: Vec<&str> = e.submods.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["b", "aa", "zeta", "modem"]);
    assert_eq!(e.submods[3].1.measurements.len(), 2);
    // Every measured component inside is deterministic too (a CBOR item in a bstr).
    let endorsement = endorse(&ed_device());
    let mut s = Setup::new();
    let c = s.challenge();
    let signed = good(c.nonce()).submods(&subs).sign_to_vec(&*ed_device()).unwrap();
    assert_eq!(
        s.appraise(&endorsement, &signed).unwrap().result.status,
        Tier::Affirming
    );

    // The same claims with one head longer than needed: `ueid`'s key 256 in four
    // bytes. Signed by the device, refused after the signature verified.
    let c = s.challenge();
    let payload = good(c.nonce()).to_claims_vec().unwrap();
    let wide = replace_once(&payload, &[0x19, 0x01, 0x00], &[0x1a, 0x00, 0x00, 0x01, 0x00]);
    assert_eq!(
        Evidence::from_cbor(&wide, &limits),
        Err(Error::Core(CoreError::NotDeterministic))
    );
    let evidence = sign1::sign(&*ed_device(), &wide, b"").unwrap();
    assert_eq!(
        s.appraise(&endorsement, &evidence),
        Err(Error::Core(CoreError::NotDeterministic))
    );
    // ... the unchanged claims signed the same way are appraised (the nonce is still
    // unused: the refusal did not consume it)
    let evidence = sign1::sign(&*ed_device(), &payload, b"").unwrap();
    assert_eq!(
        s.appraise(&endorsement, &evidence).unwrap().result.status,
        Tier::Affirming
    );

    // Keys out of order: `eat_profile` (265) before `ueid` (256).
    let mut unsorted = cbor(&Value::Map(vec![
        (Value::from(labels::EAT_NONCE), Value::Bytes(nonce.to_vec())),
        (
            Value::from(labels::EAT_PROFILE),
            Value::Text(labels::EVIDENCE_PROFILE.into()),
        ),
        (Value::from(labels::UEID), Value::Bytes(UEID.to_vec())),
    ]));
    assert_eq!(
        Evidence::from_cbor(&unsorted, &limits),
        Err(Error::Core(CoreError::NotDeterministic))
    );
    unsorted = cbor(&Value::Map(base_claims(&nonce)));
    assert!(Evidence::from_cbor(&unsorted, &limits).is_ok());

    // A measured component whose inner map has its keys swapped.
    let component = cbor(&Value::Map(vec![
        (
            Value::from(labels::MEASURED_COMPONENT_MEASUREMENT),
            Value::Array(vec![Value::from(labels::HASH_ALG_SHA256), Value::Bytes(BOOT.to_vec())]),
        ),
        (
            Value::from(labels::MEASURED_COMPONENT_ID),
            Value::Array(vec![Value::Text("bootloader".into())]),
        ),
    ]));
    let mut claims = base_claims(&nonce);
    claims.push((
        Value::from(labels::MEASUREMENTS),
        Value::Array(vec![Value::Array(vec![
            Value::from(labels::MEASUREMENT_CONTENT_FORMAT),
            Value::Bytes(component),
        ])]),
    ));
    assert_eq!(
        Evidence::from_cbor(&cbor(&Value::Map(claims)), &limits),
        Err(Error::Core(CoreError::NotDeterministic))
    );
}

#[test]
fn attestation_results_have_one_byte_form() {
    let key = soft(SigningKey::ed25519(&[4; 32]).with_kid(*b"av-1"));
    let result = appraisal_result();
    // What the verifier signs is deterministic.
    let token = result.sign(&signer(), AUD).unwrap();
    let msg = sign1::UnverifiedSign1::parse(&token, &sign1::VerifyOptions::default()).unwrap();
    let claims = msg.payload_unverified().to_vec();
    assert_eq!(
        citysec_core::cbor::check_deterministic(&claims, &Limits::DEFAULT, citysec_core::cbor::Tags::Forbid),
        Ok(())
    );
    // The same claims signed with the verifier's key directly read back...
    let same = sign1::sign(&*key, &claims, b"").unwrap();
    assert_eq!(
        AttestationResult::verify(&relying_party(), &same, t(NOW)),
        Ok(result.clone())
    );
    // ... but not with `ear.status`'s key 1000 in five bytes instead of three,
    let wide = replace_once(&claims, &[0x19, 0x03, 0xe8], &[0x1a, 0x00, 0x00, 0x03, 0xe8]);
    let token = sign1::sign(&*key, &wide, b"").unwrap();
    assert_eq!(
        AttestationResult::verify(&relying_party(), &token, t(NOW)),
        Err(Error::Core(CoreError::NotDeterministic))
    );
    // or with the verifier-id map's keys (0 and 1) swapped.
    let developer = cbor(&Value::from(labels::VERIFIER_ID_DEVELOPER));
    let at = claims.windows(3).position(|w| w == [0x19, 0x03, 0xec]).unwrap() + 3;
    assert_eq!(claims[at], 0xa2);
    assert_eq!(&claims[at + 1..at + 2], developer.as_slice());
    let mut r = citysec_core::cbor::Reader::new(&claims[at + 1..]);
    for _ in 0..2 {
        let h = r.head().unwrap();
        if h.major == 3 {
            r.take_string(h).unwrap();
        }
    }
    let first = r.position();
    for _ in 0..2 {
        let h = r.head().unwrap();
        if h.major == 3 {
            r.take_string(h).unwrap();
        }
    }
    let end = r.position();
    let inner = &claims[at + 1..];
    let swapped = [&claims[..=at], &inner[first..end], &inner[..first], &inner[end..]].concat();
    assert_eq!(swapped.len(), claims.len());
    let token = sign1::sign(&*key, &swapped, b"").unwrap();
    assert_eq!(
        AttestationResult::verify(&relying_party(), &token, t(NOW)),
        Err(Error::Core(CoreError::NotDeterministic))
    );
}

fn appraisal_result() -> AttestationResult {
    let mut s = Setup::new();
    let c = s.challenge();
    let evidence = good(c.nonce()).sign_to_vec(&*ed_device()).unwrap();
    s.appraise(&endorse(&ed_device()), &evidence).unwrap().result
}

#[test]
fn result_claims_use_the_documented_keys() {
    let mut s = Setup::new();
    let c = s.challenge();
    let evidence = good(c.nonce()).sign_to_vec(&*ed_device()).unwrap();
    let token = s.appraise(&endorse(&ed_device()), &evidence).unwrap().token;
    let cred = relying_party().verify(&token, t(NOW), &[]).unwrap();
    let claims = cred.claims();
    assert_eq!(claims.sub.as_deref(), Some("02001b63000042"));
    assert_eq!(claims.aud, vec![AUD.to_string()]);
    let get = |k: i64| claims.other_claim(&ClaimKey::Int(k)).cloned();
    assert_eq!(get(265), Some(Value::Text("tag:ietf.org,2026:rats/ear#04".into())));
    assert_eq!(get(1000), Some(Value::from(2)));
    // Status, vector and reasons are the one appraisal's, under `submods`.
    assert_eq!(get(1001), None);
    assert_eq!(get(-65601), None);
    let Some(Value::Map(submods)) = get(266) else {
        panic!("no submods")
    };
    let [(Value::Text(name), Value::Map(appraisal))] = submods.as_slice() else {
        panic!("not one submodule: {submods:?}")
    };
    assert_eq!(name, "device");
    let keys: Vec<&Value> = appraisal.iter().map(|(k, _)| k).collect();
    assert_eq!(
        keys,
        [
            &Value::from(265),
            &Value::from(1000),
            &Value::from(1001),
            &Value::from(-65601)
        ]
    );
    assert_eq!(
        appraisal[0].1,
        Value::Text("tag:github.com,2026:citysec/appraisal/2".into())
    );
    assert_eq!(appraisal[1].1, Value::from(2));
    assert_eq!(
        appraisal[2].1,
        Value::Map(vec![
            (Value::from(0), Value::from(2)),
            (Value::from(1), Value::from(2)),
            (Value::from(2), Value::from(2)),
            (Value::from(4), Value::from(2)),
        ])
    );
    let Value::Map(reasons) = &appraisal[3].1 else {
        panic!("reasons are not a map")
    };
    let indexes: Vec<Value> = reasons.iter().map(|(k, _)| k.clone()).collect();
    assert_eq!(indexes, (0..reasons.len() as u64).map(Value::from).collect::<Vec<_>>());
    assert_eq!(
        reasons[0].1,
        Value::Array(vec![
            Value::Text("swversion".into()),
            Value::from(2),
            Value::Text("swversion `1.4.2` is accepted".into()),
        ])
    );
    assert_eq!(
        get(1004),
        Some(Value::Map(vec![
            (Value::from(0), Value::Text(AV.into())),
            (
                Value::from(1),
                Value::Text(concat!("citysec-attest ", env!("CARGO_PKG_VERSION")).into())
            ),
        ]))
    );
    assert_eq!(get(256), Some(Value::Bytes(UEID.to_vec())));
    assert_eq!(get(259), Some(Value::Bytes(MODEL.to_vec())));
    assert_eq!(get(10), Some(Value::Bytes(c.nonce().to_vec())));
}

#[test]
fn endorsement_claims_use_the_documented_keys() {
    let token = Endorsement::new(UEID, ed_device().verifying_key().clone(), MODEL)
        .unwrap()
        .with_oemid(OemId::Ieee([0x00, 0x1b, 0x63]))
        .issue(&manufacturer(), t(NOW), t(NOW + YEAR))
        .unwrap();
    let cred = manufacturers().verify(&token, t(NOW), &[]).unwrap();
    let claims = cred.claims();
    assert_eq!(claims.iss.as_deref(), Some(OEM));
    assert_eq!(claims.sub.as_deref(), Some("02001b63000042"));
    assert_eq!(
        claims.cnf,
        Some(citysec_core::cwt::Confirmation::Key(
            ed_device().verifying_key().clone()
        ))
    );
    let get = |k: i64| claims.other_claim(&ClaimKey::Int(k)).cloned();
    assert_eq!(get(258), Some(Value::Bytes(vec![0x00, 0x1b, 0x63])));
    assert_eq!(get(259), Some(Value::Bytes(MODEL.to_vec())));
    assert_eq!(get(265), Some(Value::Text(labels::ENDORSEMENT_PROFILE.into())));
    let verified = Endorsement::verify(&manufacturers(), &token, t(NOW)).unwrap();
    assert_eq!(verified.manufacturer(), OEM);
    assert_eq!(verified.expires(), t(NOW + YEAR));
    assert_eq!(verified.endorsement().ueid, UEID);
    assert_eq!(verified.endorsement().oemid, Some(OemId::Ieee([0x00, 0x1b, 0x63])));
}

fn citysec_hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A signer for a test key, through the pure-Rust provider.
fn soft(key: SigningKey) -> Box<dyn Signer> {
    citysec_rustcrypto::PROVIDER.signer(key).unwrap()
}

/// An audit sink that keeps the attestation events it is told of, or refuses
/// every one.
/// One reported appraisal: device, accepted, tier, reason, time.
type Reported = (Option<Vec<u8>>, bool, Option<String>, Option<String>, Option<Timestamp>);

#[derive(Debug, Default)]
struct Events {
    kept: std::sync::Mutex<Vec<Reported>>,
    refuse: bool,
}

impl citysec_core::audit::AuditSink for Events {
    fn record(
        &self,
        time: Option<Timestamp>,
        event: &citysec_core::audit::AuditEvent<'_>,
    ) -> Result<(), citysec_core::audit::AuditError> {
        if self.refuse {
            return Err(citysec_core::audit::AuditError::Storage);
        }
        let citysec_core::audit::AuditEvent::Attestation {
            device,
            accepted,
            tier,
            reason,
        } = *event
        else {
            panic!("an appraiser reports only appraisals: {event:?}");
        };
        self.kept.lock().unwrap().push((
            device.map(<[u8]>::to_vec),
            accepted,
            tier.map(str::to_owned),
            reason.map(str::to_owned),
            time,
        ));
        Ok(())
    }
}

#[test]
fn every_appraisal_is_reported_and_an_unrecorded_result_is_not_handed_out() {
    let sink = alloc::sync::Arc::new(Events::default());
    let mut s = Setup::with(appraiser().with_audit(sink.clone()));
    let c = s.challenge();
    let evidence = good(c.nonce()).sign_to_vec(&*ed_device()).unwrap();
    let endorsement = endorse(&ed_device());
    assert!(s.appraise(&endorsement, &evidence).is_ok());
    assert_eq!(s.appraise(&endorsement, &evidence), Err(Error::NonceReplayed));
    // An endorsement by an unknown manufacturer: the device is not known.
    let rogue = Issuer::new(OEM, soft(SigningKey::ed25519(&[77; 32]).with_kid(*b"oem-1"))).unwrap();
    let forged = endorse_with(&rogue, &*ed_device(), &UEID, MODEL);
    let refused = s.appraise(&forged, &evidence).unwrap_err();
    let kept = sink.kept.lock().unwrap().clone();
    assert_eq!(
        kept,
        [
            (
                Some(UEID.to_vec()),
                true,
                Some("affirming".to_owned()),
                None,
                Some(t(NOW))
            ),
            (
                Some(UEID.to_vec()),
                false,
                None,
                Some(Error::NonceReplayed.to_string()),
                Some(t(NOW))
            ),
            (None, false, None, Some(refused.to_string()), Some(t(NOW))),
        ]
    );

    let failing = alloc::sync::Arc::new(Events {
        refuse: true,
        ..Events::default()
    });
    let mut s = Setup::with(appraiser().with_audit(failing));
    let c = s.challenge();
    let evidence = good(c.nonce()).sign_to_vec(&*ed_device()).unwrap();
    assert_eq!(
        s.appraise(&endorsement, &evidence),
        Err(Error::Audit(citysec_core::audit::AuditError::Storage))
    );
}
