//! Fuzz target `attestation_result_verify`: a relying party reading attestation results.
//!
//! The input is used twice. As a whole token it goes through
//! `AttestationResult::verify` with a relying party that trusts a fixed verifier
//! key. As a claims payload it is first signed by that key (so the signature check
//! does not stop the fuzzer), then verified and parsed: the credential layer's
//! claims decoding and the attestation result's typed parse.
//!
//! Invariants (a failed one is a finding): no panic; an accepted result has a
//! known status and a ueid of 7..=33 bytes, and re-signing it gives a token that
//! reads back as the same result.
#![no_main]

use std::sync::LazyLock;

use citysec_attest::AttestationResult;
use citysec_attest::ResultVerifier;
use citysec_core::provider::Signer;
use citysec_core::{SigningKey, Timestamp, sign1};
use citysec_credential::Issuer;
use libfuzzer_sys::fuzz_target;

const NOW: u64 = 1_767_000_000;
const AUD: &str = "door-controllers";

struct Fixture {
    key: SigningKey,
    issuer: Issuer,
    relying_party: ResultVerifier,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let key = SigningKey::ed25519(&[0x33; 32]).with_kid(*b"av-1");
    let issuer = Issuer::new(
        "https://attest.city.example",
        soft(SigningKey::ed25519(&[0x33; 32]).with_kid(*b"av-1")),
    )
    .expect("verifier key");
    let relying_party = ResultVerifier::new(&citysec_rustcrypto::PROVIDER)
        .trust(issuer.iss(), issuer.verifying_key())
        .expect("trust")
        .audience(AUD);
    Fixture {
        key,
        issuer,
        relying_party,
    }
});

fn check(f: &Fixture, r: &AttestationResult) {
    assert!((7..=33).contains(&r.ueid.len()), "ueid length {}", r.ueid.len());
    assert!(matches!(r.status.code(), 0 | 2 | 32 | 96));
    // Re-signing an accepted result and reading it back gives the same result.
    let token = r.sign(&f.issuer, AUD).expect("re-sign an accepted result");
    let again = AttestationResult::verify(&f.relying_party, &token, Timestamp::from_unix_seconds(NOW))
        .expect("a re-signed result verifies");
    assert_eq!(&again, r);
}

fuzz_target!(|data: &[u8]| {
    let f = &*FIXTURE;
    let now = Timestamp::from_unix_seconds(NOW);
    if let Ok(r) = AttestationResult::verify(&f.relying_party, data, now) {
        check(f, &r);
    }
    let Ok(token) = sign1::sign(&citysec_rustcrypto::signer_copy(&f.key).unwrap(), data, b"") else {
        return;
    };
    if let Ok(r) = AttestationResult::verify(&f.relying_party, &token, now) {
        check(f, &r);
    }
});

/// A signer for a test key, through the pure-Rust provider.
fn soft(key: SigningKey) -> Box<dyn Signer> {
    citysec_rustcrypto::PROVIDER.signer(key).unwrap()
}
