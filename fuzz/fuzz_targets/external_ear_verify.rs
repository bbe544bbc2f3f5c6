//! Fuzz target `external_ear_verify`: a relying party reading EARs from an
//! external verifier (`ExternalEarVerifier`), the one path that accepts
//! indefinite-length CBOR (inside the payload).
//!
//! The input is used three ways: as a whole token (the COSE layer); as a payload
//! signed by the trusted key (so the signature check does not stop the fuzzer),
//! then verified and read under the permissive policy; and as a payload for
//! `decode_payload` alone.
//!
//! Invariants (a failed one is a finding): no panic; a decoded payload
//! re-encodes (definite lengths) to bytes that decode to the same value; an
//! accepted EAR has the EAR profile, a device appraisal under the policy's label
//! with a known status, and an overall status no better than any appraisal's.
#![no_main]

use std::sync::LazyLock;

use citysec_attest::external::decode_payload;
use citysec_attest::{AudienceRule, ExpectedDevice, ExpiryRule, ExternalEarPolicy, ExternalEarVerifier};
use citysec_core::provider::Signer;
use citysec_core::{Limits, SigningKey, Timestamp, sign1};
use libfuzzer_sys::fuzz_target;

const NOW: u64 = 1_767_000_000;

struct Fixture {
    signer: Box<dyn Signer>,
    anchor: ExternalEarVerifier,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let signer = citysec_rustcrypto::PROVIDER
        .signer(SigningKey::ed25519(&[0x33; 32]))
        .expect("key");
    let policy = ExternalEarPolicy::new("door-controllers", "door-ctl")
        .with_audience(AudienceRule::IfPresent("door-controllers".into()))
        .with_expiry(ExpiryRule::MaxAge(u64::MAX))
        .allowing_unbound_device();
    let anchor =
        ExternalEarVerifier::new(&citysec_rustcrypto::PROVIDER, signer.verifying_key().clone(), policy).expect("anchor");
    Fixture { signer, anchor }
});

fuzz_target!(|data: &[u8]| {
    let f = &*FIXTURE;
    let now = Timestamp::from_unix_seconds(NOW);
    let expected = ExpectedDevice::default();
    let _ = f.anchor.verify(data, now, expected);
    if let Ok(value) = decode_payload(data, &Limits::DEFAULT) {
        let mut again = Vec::new();
        citysec_core::coset::cbor::ser::into_writer(&value, &mut again).expect("re-encode");
        let back = decode_payload(&again, &Limits::DEFAULT).expect("a re-encoded payload decodes");
        // NaN payloads compare unequal to themselves: compare the encodings.
        let mut third = Vec::new();
        citysec_core::coset::cbor::ser::into_writer(&back, &mut third).expect("re-encode");
        assert_eq!(again, third);
    }
    let Ok(token) = sign1::sign(&*f.signer, data, b"") else {
        return;
    };
    if let Ok(ear) = f.anchor.verify(&token, now, expected) {
        assert_eq!(ear.profile, "tag:ietf.org,2026:rats/ear#04");
        assert_eq!(ear.device.name, "door-ctl");
        assert!(matches!(ear.device.status.code(), 0 | 2 | 32 | 96));
        assert!(ear.appraisals.iter().all(|a| a.status <= ear.status));
    }
});
