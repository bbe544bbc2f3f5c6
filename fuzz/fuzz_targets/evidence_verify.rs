//! Fuzz target `evidence_verify`: citysec-attest evidence, from the wire to the verdict.
//!
//! The input is used twice. As a whole evidence message it goes through
//! `UnverifiedEvidence::parse` and, when it parses, `verify` with a fixed endorsed
//! device key. As a claims payload it is first signed with that device key (so the
//! signature check does not stop the fuzzer) and then appraised end to end: strict
//! claims decoding, the binding to the endorsement, both freshness modes (a nonce
//! used twice must be refused the second time) and the reference-value checks.
//! `Evidence::from_cbor` also runs on it directly.
//!
//! Invariants (a failed one is a finding): no panic; parsed evidence is within the
//! size limit; decoded claims respect the RFC 9711 sizes (nonce 8..=64, ueid
//! 7..=33, hwmodel 1..=32); a result's status is the worst tier of its reasons.
#![no_main]

use std::sync::LazyLock;

use citysec_attest::ManufacturerVerifier;
use citysec_attest::{
    Appraiser, DebugStatus, Endorsement, Evidence, Freshness, MemoryNonceStore, NonceStore, ReferenceSet,
    ReferenceValues, Tier, UnverifiedEvidence, VerifiedEndorsement,
};
use citysec_core::provider::Signer;
use citysec_core::{Limits, SigningKey, Timestamp, sign1};
use citysec_credential::Issuer;
use libfuzzer_sys::fuzz_target;

const NOW: u64 = 1_767_000_000;
const UEID: [u8; 7] = [0x02, 0x00, 0x1b, 0x63, 0x00, 0x00, 0x42];

struct Fixture {
    device: SigningKey,
    endorsed: VerifiedEndorsement,
    appraiser: Appraiser,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let oem = Issuer::new(
        "https://oem.example",
        soft(SigningKey::ed25519(&[0x11; 32]).with_kid(*b"oem-2026")),
    )
    .expect("manufacturer key");
    let device = SigningKey::ed25519(&[0x22; 32]).with_kid(*b"door-0042");
    let endorsement = Endorsement::new(
        UEID,
        citysec_rustcrypto::PROVIDER.public_key(&device).expect("public key"),
        *b"door-ctl-2",
    )
    .expect("endorsement")
    .issue(
        &oem,
        Timestamp::from_unix_seconds(NOW - 86_400),
        Timestamp::from_unix_seconds(NOW + 86_400),
    )
    .expect("signed endorsement");
    let manufacturers = ManufacturerVerifier::new(&citysec_rustcrypto::PROVIDER)
        .trust(oem.iss(), oem.verifying_key())
        .expect("trust")
        .any_audience();
    let endorsed = Endorsement::verify(&manufacturers, &endorsement, Timestamp::from_unix_seconds(NOW))
        .expect("endorsement verifies");
    let refs = ReferenceSet::new()
        .with(
            ReferenceValues::new(*b"door-ctl-2", "1.4.0")
                .expect("reference")
                .accept_version("1.4.2")
                .expect("version")
                .component("bootloader", [0xb0; 32])
                .expect("component")
                .min_debug_status(DebugStatus::DisabledPermanently),
        )
        .expect("reference set");
    let signer = Issuer::new(
        "https://attest.city.example",
        soft(SigningKey::ed25519(&[0x33; 32]).with_kid(*b"av-1")),
    )
    .expect("verifier key");
    Fixture {
        device,
        endorsed,
        appraiser: Appraiser::new(manufacturers, signer, "door-controllers", refs),
    }
});

fn check_claims(e: &Evidence) {
    if let Some(n) = &e.nonce {
        assert!((8..=64).contains(&n.len()), "nonce length {}", n.len());
    }
    if let Some(u) = &e.ueid {
        assert!((7..=33).contains(&u.len()), "ueid length {}", u.len());
    }
    if let Some(h) = &e.hwmodel {
        assert!((1..=32).contains(&h.len()), "hwmodel length {}", h.len());
    }
    for (_, sub) in &e.submods {
        check_claims(sub);
    }
}

fuzz_target!(|data: &[u8]| {
    let f = &*FIXTURE;
    let limits = Limits::DEFAULT;
    let now = Timestamp::from_unix_seconds(NOW);

    // The input as an evidence message.
    if let Ok(parsed) = UnverifiedEvidence::parse(data, &limits) {
        assert!(data.len() <= limits.max_message_size);
        if let Ok(verified) = parsed.verify(&f.endorsed) {
            check_claims(verified.claims());
            assert_eq!(verified.claims().ueid.as_deref(), Some(&UEID[..]));
        }
    }

    // The input as claims, decoded directly.
    if let Ok(e) = Evidence::from_cbor(data, &limits) {
        check_claims(&e);
    }

    // The input as claims, signed by the endorsed device and appraised end to end
    // (the fixed endorsement was verified once, in the fixture).
    let Ok(evidence) = sign1::sign(&citysec_rustcrypto::signer_copy(&f.device).unwrap(), data, b"") else {
        return;
    };
    let Ok(verified) = UnverifiedEvidence::parse(&evidence, &limits).and_then(|p| p.verify(&f.endorsed)) else {
        return;
    };
    check_claims(verified.claims());
    let timestamp = Freshness::Timestamp { max_age_seconds: 300 };
    if let Ok(a) = f.appraiser.appraise_verified(&f.endorsed, &verified, timestamp, now) {
        let worst = a.result.reasons.iter().map(|r| r.tier).max().unwrap_or(Tier::None);
        assert_eq!(a.result.status, worst);
        assert_eq!(a.result.ueid, UEID);
        assert_eq!(a.result.nonce, None);
    }
    let mut store = MemoryNonceStore::new(4);
    let nonce = [0x5a; 16];
    store
        .insert(&nonce, Timestamp::from_unix_seconds(NOW + 60), now)
        .expect("a fresh store takes a nonce");
    let first = f
        .appraiser
        .appraise_verified(&f.endorsed, &verified, Freshness::Nonce(&mut store), now);
    if let Ok(a) = &first {
        assert_eq!(a.result.nonce.as_deref(), Some(&nonce[..]));
        // The same evidence again is a replay.
        let again = f
            .appraiser
            .appraise_verified(&f.endorsed, &verified, Freshness::Nonce(&mut store), now);
        assert_eq!(again.err(), Some(citysec_attest::Error::NonceReplayed));
    }
});

/// A signer for a test key, through the pure-Rust provider.
fn soft(key: SigningKey) -> Box<dyn Signer> {
    citysec_rustcrypto::PROVIDER.signer(key).unwrap()
}
