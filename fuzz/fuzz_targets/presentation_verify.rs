//! Fuzz target `presentation_verify`: arbitrary bytes as a presentation answering
//! a fixed challenge, and as a challenge.
//!
//! Invariants: no panic; an accepted presentation's credential binds a holder key
//! (`cnf`); a challenge that decodes re-encodes to the same challenge.
#![no_main]

use std::sync::LazyLock;

use citysec_core::{SigningKey, Timestamp};
use citysec_credential::{Challenge, Confirmation, Verifier};
use libfuzzer_sys::fuzz_target;

const NOW: u64 = 1_767_139_300;

static VERIFIER: LazyLock<Verifier> = LazyLock::new(|| {
    let ed = SigningKey::ed25519(&[0x11; 32]).with_kid(b"issuer-2026".to_vec());
    Verifier::new(&citysec_rustcrypto::PROVIDER)
        .trust(
            "https://issuer.city.example",
            citysec_rustcrypto::PROVIDER.public_key(&ed).expect("public key"),
        )
        .expect("one key")
        .audience("door-controllers")
});

fuzz_target!(|data: &[u8]| {
    let challenge = Challenge::from_parts([7; 32], "door-7", Timestamp::from_unix_seconds(NOW));
    let now = Timestamp::from_unix_seconds(NOW + 5);
    if let Ok(c) = VERIFIER.verify_presentation(data, &challenge, now, 30, &[]) {
        assert!(matches!(c.claims().cnf, Some(Confirmation::Key(_))));
    }
    if let Ok(c) = Challenge::from_cbor(data) {
        let again = c.to_cbor().expect("encodes");
        assert_eq!(Challenge::from_cbor(&again).expect("re-decodes"), c);
    }
});
