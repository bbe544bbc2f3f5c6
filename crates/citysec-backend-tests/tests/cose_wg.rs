//! The COSE working group examples (vectors/cose-wg-examples), each with
//! its exact expected outcome under the citysec profile, on both backends.
//!
//! Profile decisions (DESIGN.md "Rules every decoder follows"):
//! - sign-pass-01 and enc-pass-01 carry `alg` only in the unprotected bucket, so
//!   they are rejected with `AlgNotProtected`.
//! - sign-pass-03 is untagged: the tagged API refuses it (`WrongTag`), the untagged
//!   API accepts it.
//! - enc-pass-03 is untagged *and* has `alg` only unprotected (its protected header
//!   is `h''`): the tagged API says `WrongTag`, the untagged API `AlgNotProtected`.
//! - aes-gcm-enc-02 uses A192GCM, which citysec does not implement (AES-GCM 1 and
//!   3 only): `UnsupportedAlgorithm`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::cast_possible_truncation,
    reason = "test code: a failed unwrap or index is a failed test"
)]

use base64::Engine as _;
use citysec_backend_tests::copy_key;
use citysec_backend_tests::{backends, vectors_dir};
use citysec_core::coset::{ContentType, Header, iana};
use citysec_core::encrypt0::{self, Iv};
use citysec_core::sign1::{self, Tagging, VerifyOptions};
use citysec_core::{Algorithm, Error, SigningKey, SymmetricKey, VerifyingKey};
use serde_json::Value;

/// A vector file, the API to use, and the exact outcome expected.
type Case = (&'static str, Tagging, Result<Vec<u8>, Error>);

fn load(rel: &str) -> Value {
    let path = vectors_dir().join("cose-wg-examples").join(rel);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

fn b64(s: &Value) -> Vec<u8> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s.as_str().unwrap())
        .unwrap()
}

fn output(doc: &Value) -> Vec<u8> {
    hex::decode(doc["output"]["cbor"].as_str().unwrap()).unwrap()
}

fn plaintext(doc: &Value) -> Vec<u8> {
    doc["input"]["plaintext"].as_str().unwrap().as_bytes().to_vec()
}

fn external(section: &Value) -> Vec<u8> {
    section
        .get("external")
        .map(|e| hex::decode(e.as_str().unwrap()).unwrap())
        .unwrap_or_default()
}

/// The public key of a sign0 example (EC P-256 with base64url x/y, or OKP with hex).
fn sign_keys(jwk: &Value) -> (VerifyingKey, SigningKey) {
    match jwk["kty"].as_str().unwrap() {
        "EC" => {
            let x: [u8; 32] = b64(&jwk["x"]).try_into().unwrap();
            let y: [u8; 32] = b64(&jwk["y"]).try_into().unwrap();
            let d: [u8; 32] = b64(&jwk["d"]).try_into().unwrap();
            let sk = SigningKey::p256(&d).unwrap();
            let vk = VerifyingKey::p256(&x, &y).unwrap();
            assert_eq!(citysec_rustcrypto::PROVIDER.public_key(&sk).unwrap(), vk);
            (vk, sk)
        }
        "OKP" => {
            let x: [u8; 32] = hex::decode(jwk["x_hex"].as_str().unwrap()).unwrap().try_into().unwrap();
            let d: [u8; 32] = hex::decode(jwk["d_hex"].as_str().unwrap()).unwrap().try_into().unwrap();
            let sk = SigningKey::ed25519(&d);
            let vk = VerifyingKey::ed25519(&x).unwrap();
            assert_eq!(citysec_rustcrypto::PROVIDER.public_key(&sk).unwrap(), vk);
            (vk, sk)
        }
        other => panic!("kty {other}"),
    }
}

fn verify_sign1(rel: &str, tagging: Tagging) -> Vec<Result<Vec<u8>, Error>> {
    let doc = load(rel);
    let sign0 = &doc["input"]["sign0"];
    let (vk, _) = sign_keys(&sign0["key"]);
    let aad = external(sign0);
    let msg = output(&doc);
    let mut opts = VerifyOptions::default().with_external_aad(&aad);
    opts.tagging = tagging;
    backends()
        .iter()
        .map(|b| sign1::verify_with_key(b.provider(), &vk, &msg, &opts).map(|v| v.payload().to_vec()))
        .collect()
}

fn assert_all(results: Vec<Result<Vec<u8>, Error>>, expected: Result<Vec<u8>, Error>, what: &str) {
    assert_eq!(results.len(), 2);
    for (r, b) in results.into_iter().zip(backends()) {
        assert_eq!(r, expected, "{what} on {}", b.name());
    }
}

#[test]
fn sign1_tests_expected_outcomes() {
    let content = b"This is the content.".to_vec();
    let cases: [Case; 11] = [
        ("sign1-tests/sign-fail-01.json", Tagging::Tagged, Err(Error::WrongTag)),
        (
            "sign1-tests/sign-fail-02.json",
            Tagging::Tagged,
            Err(Error::BadSignature),
        ),
        (
            "sign1-tests/sign-fail-03.json",
            Tagging::Tagged,
            Err(Error::UnsupportedAlgorithm),
        ),
        (
            "sign1-tests/sign-fail-04.json",
            Tagging::Tagged,
            Err(Error::UnsupportedAlgorithm),
        ),
        (
            "sign1-tests/sign-fail-06.json",
            Tagging::Tagged,
            Err(Error::BadSignature),
        ),
        (
            "sign1-tests/sign-fail-07.json",
            Tagging::Tagged,
            Err(Error::BadSignature),
        ),
        (
            "sign1-tests/sign-pass-01.json",
            Tagging::Tagged,
            Err(Error::AlgNotProtected),
        ),
        ("sign1-tests/sign-pass-02.json", Tagging::Tagged, Ok(content.clone())),
        ("sign1-tests/sign-pass-03.json", Tagging::Tagged, Err(Error::WrongTag)),
        ("sign1-tests/sign-pass-03.json", Tagging::Untagged, Ok(content.clone())),
        ("ecdsa-examples/ecdsa-sig-01.json", Tagging::Tagged, Ok(content.clone())),
    ];
    for (rel, tagging, expected) in cases {
        assert_all(verify_sign1(rel, tagging), expected, rel);
    }
    // sign-pass-02 without its external AAD must fail.
    let doc = load("sign1-tests/sign-pass-02.json");
    let (vk, _) = sign_keys(&doc["input"]["sign0"]["key"]);
    for b in backends() {
        assert_eq!(
            sign1::verify_with_key(b.provider(), &vk, &output(&doc), &VerifyOptions::default()).err(),
            Some(Error::BadSignature)
        );
    }
}

#[test]
fn eddsa_sig_01_verifies_and_reproduces_byte_for_byte() {
    let rel = "eddsa-examples/eddsa-sig-01.json";
    assert_all(
        verify_sign1(rel, Tagging::Tagged),
        Ok(b"This is the content.".to_vec()),
        rel,
    );
    let doc = load(rel);
    let (_, sk) = sign_keys(&doc["input"]["sign0"]["key"]);
    let protected = Header {
        content_type: Some(ContentType::Assigned(iana::CoapContentFormat::TextPlainUtf8)),
        ..Header::default()
    };
    let unprotected = Header {
        key_id: b"11".to_vec(),
        ..Header::default()
    };
    for b in backends() {
        let out = sign1::sign_with_headers(
            &b.provider().signer(copy_key(&sk).unwrap()).unwrap(),
            protected.clone(),
            unprotected.clone(),
            &plaintext(&doc),
            b"",
            Tagging::Tagged,
        )
        .unwrap();
        assert_eq!(
            hex::encode_upper(out),
            doc["output"]["cbor"].as_str().unwrap(),
            "{}",
            b.name()
        );
    }
}

#[test]
fn ecdsa_sig_01_our_signatures_verify_on_both_backends() {
    let doc = load("ecdsa-examples/ecdsa-sig-01.json");
    let (vk, sk) = sign_keys(&doc["input"]["sign0"]["key"]);
    for signer in backends() {
        let msg = sign1::sign(
            &signer.provider().signer(copy_key(&sk).unwrap()).unwrap(),
            &plaintext(&doc),
            b"",
        )
        .unwrap();
        for verifier in backends() {
            let v = sign1::verify_with_key(verifier.provider(), &vk, &msg, &VerifyOptions::default()).unwrap();
            assert_eq!(v.payload(), plaintext(&doc).as_slice());
            assert_eq!(v.algorithm(), Algorithm::ES256);
        }
    }
}

/// The symmetric key of an encrypted example and the algorithm the example names.
fn enc_key(doc: &Value) -> SymmetricKey {
    let enc = &doc["input"]["encrypted"];
    let jwk = &enc["recipients"][0]["key"];
    let alg_name = enc["protected"]["alg"]
        .as_str()
        .or(enc["unprotected"]["alg"].as_str())
        .unwrap();
    let alg = match alg_name {
        "A128GCM" => Algorithm::A128GCM,
        "A256GCM" => Algorithm::A256GCM,
        "ChaCha-Poly1305" => Algorithm::ChaCha20Poly1305,
        // A192GCM: not implemented; open with an A256GCM-shaped key of the same bytes is
        // impossible, so use A128GCM and expect the alg check to fire first.
        _ => Algorithm::A128GCM,
    };
    let k = b64(&jwk["k"]);
    SymmetricKey::new(alg, &k).unwrap_or_else(|_| SymmetricKey::new(Algorithm::A128GCM, &[0u8; 16]).unwrap())
}

fn open_enc(rel: &str, tagging: Tagging) -> Vec<Result<Vec<u8>, Error>> {
    let doc = load(rel);
    let key = enc_key(&doc);
    let aad = external(&doc["input"]["encrypted"]);
    let msg = output(&doc);
    let mut opts = VerifyOptions::default().with_external_aad(&aad);
    opts.tagging = tagging;
    backends()
        .iter()
        .map(|b| encrypt0::open(b.provider(), &key, &msg, &opts).map(|o| o.plaintext().to_vec()))
        .collect()
}

#[test]
fn encrypted_tests_expected_outcomes() {
    let content = b"This is the content.".to_vec();
    let cases: [Case; 16] = [
        ("encrypted-tests/aes-gcm-01.json", Tagging::Tagged, Ok(content.clone())),
        (
            "encrypted-tests/enc-fail-01.json",
            Tagging::Tagged,
            Err(Error::WrongTag),
        ),
        (
            "encrypted-tests/enc-fail-02.json",
            Tagging::Tagged,
            Err(Error::DecryptFailed),
        ),
        (
            "encrypted-tests/enc-fail-03.json",
            Tagging::Tagged,
            Err(Error::UnsupportedAlgorithm),
        ),
        (
            "encrypted-tests/enc-fail-04.json",
            Tagging::Tagged,
            Err(Error::UnsupportedAlgorithm),
        ),
        (
            "encrypted-tests/enc-fail-06.json",
            Tagging::Tagged,
            Err(Error::DecryptFailed),
        ),
        (
            "encrypted-tests/enc-fail-07.json",
            Tagging::Tagged,
            Err(Error::DecryptFailed),
        ),
        (
            "encrypted-tests/enc-pass-01.json",
            Tagging::Tagged,
            Err(Error::AlgNotProtected),
        ),
        ("encrypted-tests/enc-pass-02.json", Tagging::Tagged, Ok(content.clone())),
        (
            "encrypted-tests/enc-pass-03.json",
            Tagging::Tagged,
            Err(Error::WrongTag),
        ),
        (
            "encrypted-tests/enc-pass-03.json",
            Tagging::Untagged,
            Err(Error::AlgNotProtected),
        ),
        (
            "aes-gcm-examples/aes-gcm-enc-01.json",
            Tagging::Tagged,
            Ok(content.clone()),
        ),
        (
            "aes-gcm-examples/aes-gcm-enc-02.json",
            Tagging::Tagged,
            Err(Error::UnsupportedAlgorithm),
        ),
        (
            "aes-gcm-examples/aes-gcm-enc-03.json",
            Tagging::Tagged,
            Ok(content.clone()),
        ),
        (
            "aes-gcm-examples/aes-gcm-enc-04.json",
            Tagging::Tagged,
            Err(Error::DecryptFailed),
        ),
        (
            "chacha-poly-examples/chacha-poly-enc-01.json",
            Tagging::Tagged,
            Ok(content.clone()),
        ),
    ];
    for (rel, tagging, expected) in cases {
        assert_all(open_enc(rel, tagging), expected, rel);
    }
}

/// Sealing reproduces the examples byte for byte (the IV is the example's rng_stream).
#[test]
fn encrypt0_outputs_reproduce_byte_for_byte() {
    for rel in [
        "chacha-poly-examples/chacha-poly-enc-01.json",
        "aes-gcm-examples/aes-gcm-enc-01.json",
        "aes-gcm-examples/aes-gcm-enc-03.json",
        "encrypted-tests/enc-pass-02.json",
    ] {
        let doc = load(rel);
        let key = enc_key(&doc);
        let iv: [u8; 12] = hex::decode(doc["input"]["rng_stream"][0].as_str().unwrap())
            .unwrap()
            .try_into()
            .unwrap();
        let aad = external(&doc["input"]["encrypted"]);
        for b in backends() {
            let out = encrypt0::seal(b.provider(), &key, Iv::Full(&iv), &plaintext(&doc), &aad).unwrap();
            assert_eq!(
                hex::encode_upper(&out),
                doc["output"]["cbor"].as_str().unwrap(),
                "{rel} on {}",
                b.name()
            );
        }
    }
}

#[test]
fn aes_gcm_enc_02_is_a192gcm() {
    // The unsupported case above is unsupported for the right reason: the example
    // really uses A192GCM (COSE alg 2), which citysec does not implement.
    let doc = load("aes-gcm-examples/aes-gcm-enc-02.json");
    assert_eq!(doc["input"]["encrypted"]["protected"]["alg"], "A192GCM");
    assert_eq!(Algorithm::from_cose_id(2), None);
}
