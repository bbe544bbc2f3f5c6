//! Recipient mode against the COSE working group's X25519 examples.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed unwrap or index is a failed test"
)]

use citysec_core::{Algorithm, Error as CoreError, Limits, X25519PublicKey, X25519SecretKey};
use citysec_telemetry::Error;
use citysec_telemetry::recipient::{open_from, seal_to};

fn vector(name: &str) -> serde_json::Value {
    let dir = std::env::var_os("CITYSEC_VECTORS").map_or_else(
        || std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../vectors"),
        Into::into,
    );
    serde_json::from_str(&std::fs::read_to_string(dir.join("cose-wg-examples/X25519-tests").join(name)).unwrap())
        .unwrap()
}

fn h(v: &serde_json::Value) -> Vec<u8> {
    hex::decode(v.as_str().unwrap()).unwrap()
}

#[test]
fn ecdh_es_vector_reproduces_and_opens() {
    let doc = vector("x25519-hkdf-256-direct.json");
    let rcpt = &doc["input"]["enveloped"]["recipients"][0]["key"];
    let d: [u8; 32] = h(&rcpt["d_hex"]).try_into().unwrap();
    let x: [u8; 32] = h(&rcpt["x_hex"]).try_into().unwrap();
    let secret = X25519SecretKey::new(&d).unwrap().with_kid(b"X25519-1".to_vec());
    assert_eq!(
        citysec_rustcrypto::PROVIDER
            .x25519_public_key(&secret)
            .unwrap()
            .as_bytes(),
        &x
    );
    let expected = h(&doc["output"]["cbor"]);
    for provider in [&citysec_rustcrypto::PROVIDER, &citysec_ring::PROVIDER] {
        let eph: [u8; 32] = h(&doc["input"]["rng_stream"][0]).try_into().unwrap();
        let iv: [u8; 12] = h(&doc["input"]["rng_stream"][1]).try_into().unwrap();
        let public = X25519PublicKey::new(x).with_kid(b"X25519-1".to_vec());
        let sealed = seal_to(
            provider,
            &public,
            X25519SecretKey::new(&eph).unwrap(),
            Algorithm::A128GCM,
            &iv,
            b"This is the content.",
            b"",
        )
        .unwrap();
        assert_eq!(
            hex::encode_upper(&sealed),
            hex::encode_upper(&expected),
            "{}",
            provider.name
        );
        assert_eq!(
            open_from(provider, &secret, &expected, b"", &Limits::DEFAULT).unwrap(),
            b"This is the content."
        );
    }
}

#[test]
fn ecdh_ss_is_not_supported() {
    let doc = vector("x25519-ss-hkdf-256-direct.json");
    let rcpt = &doc["input"]["enveloped"]["recipients"][0]["key"];
    let d: [u8; 32] = h(&rcpt["d_hex"]).try_into().unwrap();
    let secret = X25519SecretKey::new(&d).unwrap();
    assert_eq!(
        open_from(
            &citysec_rustcrypto::PROVIDER,
            &secret,
            &h(&doc["output"]["cbor"]),
            b"",
            &Limits::DEFAULT
        )
        .err(),
        Some(Error::Core(CoreError::UnsupportedAlgorithm))
    );
}

#[test]
fn chacha_round_trip_and_rejections() {
    let secret = X25519SecretKey::new(&[7; 32]).unwrap().with_kid(b"backend-1".to_vec());
    let public = citysec_rustcrypto::PROVIDER.x25519_public_key(&secret).unwrap();
    let sealed = seal_to(
        &citysec_rustcrypto::PROVIDER,
        &public,
        X25519SecretKey::new(&[9; 32]).unwrap(),
        Algorithm::ChaCha20Poly1305,
        &[1; 12],
        b"reading",
        b"topic",
    )
    .unwrap();
    assert_eq!(
        open_from(&citysec_ring::PROVIDER, &secret, &sealed, b"topic", &Limits::DEFAULT).unwrap(),
        b"reading"
    );
    // another external AAD, another recipient key, another kid
    assert_eq!(
        open_from(
            &citysec_rustcrypto::PROVIDER,
            &secret,
            &sealed,
            b"other",
            &Limits::DEFAULT
        )
        .err(),
        Some(Error::Core(CoreError::DecryptFailed))
    );
    let other = X25519SecretKey::new(&[8; 32]).unwrap();
    assert_eq!(
        open_from(
            &citysec_rustcrypto::PROVIDER,
            &other,
            &sealed,
            b"topic",
            &Limits::DEFAULT
        )
        .err(),
        Some(Error::Core(CoreError::DecryptFailed))
    );
    let other_kid = X25519SecretKey::new(&[7; 32]).unwrap().with_kid(b"backend-2".to_vec());
    assert_eq!(
        open_from(
            &citysec_rustcrypto::PROVIDER,
            &other_kid,
            &sealed,
            b"topic",
            &Limits::DEFAULT
        )
        .err(),
        Some(Error::Core(CoreError::UnknownKey))
    );
    // any bit flip
    for i in 0..sealed.len() * 8 {
        let mut m = sealed.clone();
        m[i / 8] ^= 1 << (i % 8);
        assert!(
            open_from(&citysec_rustcrypto::PROVIDER, &secret, &m, b"topic", &Limits::DEFAULT).is_err(),
            "bit {i}"
        );
    }
    // a low-order ephemeral key gives the all-zero secret
    let mut low = sealed.clone();
    let pos = low.windows(4).position(|w| w == [0x04, 0x21, 0x58, 0x20]).unwrap() + 4;
    low[pos..pos + 32].copy_from_slice(&[0; 32]);
    assert_eq!(
        open_from(&citysec_rustcrypto::PROVIDER, &secret, &low, b"topic", &Limits::DEFAULT).err(),
        Some(Error::Core(CoreError::NonContributory))
    );
    // a low-order recipient key cannot be sealed to
    assert_eq!(
        seal_to(
            &citysec_rustcrypto::PROVIDER,
            &X25519PublicKey::new([0; 32]),
            X25519SecretKey::new(&[9; 32]).unwrap(),
            Algorithm::A128GCM,
            &[0; 12],
            b"x",
            b""
        )
        .err(),
        Some(Error::Core(CoreError::NonContributory))
    );
}
