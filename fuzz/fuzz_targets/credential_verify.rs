//! Fuzz target `credential_verify`: arbitrary bytes as a credential, a status list
//! and a claims map.
//!
//! The verifier trusts the issuer of docs/credential-profile.md (Ed25519 seed 0x11,
//! kid "issuer-2026") and a P-256 issuer. Invariants: no panic; an accepted
//! credential names its key's issuer, has `exp` after `now - skew`, an accepted
//! audience; batch verification returns exactly what single verification returns;
//! claims that decode have a stable encoding.
#![no_main]

use std::sync::LazyLock;

use citysec_core::{Limits, SigningKey, Timestamp};
use citysec_credential::{Claims, Verifier};
use libfuzzer_sys::fuzz_target;

const ISS: &str = "https://issuer.city.example";
const NOW: u64 = 1_767_139_300;

static VERIFIER: LazyLock<Verifier> = LazyLock::new(|| {
    let ed = SigningKey::ed25519(&[0x11; 32]).with_kid(b"issuer-2026".to_vec());
    let es = SigningKey::p256(&[0x22; 32])
        .expect("valid scalar")
        .with_kid(b"issuer-es".to_vec());
    Verifier::new(&citysec_rustcrypto::PROVIDER)
        .trust(ISS, citysec_rustcrypto::PROVIDER.public_key(&ed).expect("public key"))
        .and_then(|v| {
            v.trust(
                "https://other.example",
                citysec_rustcrypto::PROVIDER.public_key(&es).expect("public key"),
            )
        })
        .expect("distinct kids")
        .audience("door-controllers")
});

fuzz_target!(|data: &[u8]| {
    let v = &*VERIFIER;
    let now = Timestamp::from_unix_seconds(NOW);
    let single = v.verify(data, now, &[]);
    if let Ok(c) = &single {
        assert_eq!(c.claims().iss.as_deref(), Some(c.issuer()));
        let exp = c.claims().exp.expect("accepted credentials have exp");
        assert!(exp.saturating_add(60) > now);
        assert!(c.claims().aud.iter().any(|a| a == "door-controllers"));
        assert!(data.len() <= Limits::DEFAULT.max_message_size);
    }
    let batch = v.verify_batch(&[data, data], now, &[]);
    assert_eq!(batch.len(), 2);
    assert_eq!(batch[0], single);
    assert_eq!(batch[1], single);

    let _ = v.status_list_signers().verify_status_list(data, 1 << 16);

    // Decoded claims re-encode to bytes that decode and encode to the same bytes
    // (compared as bytes: a NaN in an unknown claim is not equal to itself).
    if let Ok(claims) = Claims::from_cbor(data, &Limits::DEFAULT) {
        let once = claims.to_cbor().expect("decoded claims encode");
        let twice = Claims::from_cbor(&once, &Limits::DEFAULT)
            .expect("re-decodes")
            .to_cbor()
            .expect("encodes again");
        assert_eq!(once, twice);
    }
});
