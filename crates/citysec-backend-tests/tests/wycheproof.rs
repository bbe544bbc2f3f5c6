//! Project Wycheproof vectors through the `Backend` trait, on both backends.
//! Every vector's expected result is asserted; the counts are checked too, so a
//! vector file that silently loses its tests fails here.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::cast_possible_truncation,
    reason = "test code: a failed unwrap or index is a failed test"
)]

use citysec_backend_tests::{backends, vectors_dir};
use citysec_core::{Algorithm, Error, SymmetricKey, VerifyingKey, X25519PublicKey, X25519SecretKey};
use serde_json::Value;

fn load(name: &str) -> Value {
    let path = vectors_dir().join("wycheproof").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

fn hexf(v: &Value, field: &str) -> Vec<u8> {
    hex::decode(v[field].as_str().unwrap_or_else(|| panic!("field {field}"))).unwrap()
}

fn tests(doc: &Value) -> impl Iterator<Item = (&Value, &Value)> {
    doc["testGroups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["tests"].as_array().unwrap().iter().map(move |t| (g, t)))
}

#[test]
fn ed25519_verify() {
    let doc = load("ed25519_test.json");
    for backend in backends() {
        let (mut valid, mut invalid) = (0, 0);
        for (group, t) in tests(&doc) {
            let pk: [u8; 32] = hexf(&group["publicKey"], "pk").try_into().unwrap();
            let key = VerifyingKey::ed25519(&pk).expect("wycheproof ed25519 keys are valid");
            let got = backend.verify(&key, &hexf(t, "msg"), &hexf(t, "sig"));
            match t["result"].as_str().unwrap() {
                "valid" => {
                    assert_eq!(got, Ok(()), "{} tcId {}", backend.name(), t["tcId"]);
                    valid += 1;
                }
                "invalid" => {
                    assert_eq!(got, Err(Error::BadSignature), "{} tcId {}", backend.name(), t["tcId"]);
                    invalid += 1;
                }
                other => panic!("unexpected result {other}"),
            }
        }
        assert_eq!((valid, invalid), (88, 63), "{}", backend.name());
    }
}

#[test]
fn ecdsa_p256_p1363_verify() {
    let doc = load("ecdsa_secp256r1_sha256_p1363_test.json");
    for backend in backends() {
        let (mut valid, mut invalid, mut bad_key) = (0, 0, 0);
        for (group, t) in tests(&doc) {
            let sec1 = hexf(&group["publicKey"], "uncompressed");
            let (x, y): ([u8; 32], [u8; 32]) = (sec1[1..33].try_into().unwrap(), sec1[33..].try_into().unwrap());
            let key = match VerifyingKey::p256(&x, &y) {
                Ok(k) => k,
                Err(e) => {
                    // A public key we refuse at import can make no signature valid.
                    assert_eq!(e, Error::InvalidKey);
                    assert_eq!(t["result"], "invalid", "tcId {}", t["tcId"]);
                    bad_key += 1;
                    continue;
                }
            };
            let got = backend.verify(&key, &hexf(t, "msg"), &hexf(t, "sig"));
            match t["result"].as_str().unwrap() {
                "valid" => {
                    assert_eq!(got, Ok(()), "{} tcId {}", backend.name(), t["tcId"]);
                    valid += 1;
                }
                "invalid" => {
                    assert_eq!(got, Err(Error::BadSignature), "{} tcId {}", backend.name(), t["tcId"]);
                    invalid += 1;
                }
                other => panic!("unexpected result {other}"),
            }
        }
        assert_eq!(valid + invalid + bad_key, 262, "{}", backend.name());
        assert_eq!(valid, 173, "{}", backend.name());
    }
}

#[test]
fn chacha20_poly1305_seal_and_open() {
    let doc = load("chacha20_poly1305_test.json");
    for backend in backends() {
        let (mut valid, mut invalid, mut wrong_nonce) = (0, 0, 0);
        for (_, t) in tests(&doc) {
            let key = SymmetricKey::new(Algorithm::ChaCha20Poly1305, &hexf(t, "key")).unwrap();
            let (iv, aad, msg, ct, tag) = (
                hexf(t, "iv"),
                hexf(t, "aad"),
                hexf(t, "msg"),
                hexf(t, "ct"),
                hexf(t, "tag"),
            );
            let result = t["result"].as_str().unwrap();
            if iv.len() != 12 {
                // Our API takes 96-bit nonces only: refused by type, whatever the vector says.
                let mut buf = ct.clone();
                assert_eq!(backend.open(&key, &iv, &aad, &mut buf, &tag), Err(Error::InvalidIv));
                let mut buf = msg.clone();
                assert_eq!(backend.seal(&key, &iv, &aad, &mut buf), Err(Error::InvalidIv));
                wrong_nonce += 1;
                continue;
            }
            let mut buf = ct.clone();
            let opened = backend.open(&key, &iv, &aad, &mut buf, &tag);
            match result {
                "valid" => {
                    assert_eq!(opened, Ok(()), "{} tcId {}", backend.name(), t["tcId"]);
                    assert_eq!(buf, msg, "{} tcId {}", backend.name(), t["tcId"]);
                    let mut sealed = msg.clone();
                    let got_tag = backend.seal(&key, &iv, &aad, &mut sealed).unwrap();
                    assert_eq!(sealed, ct);
                    assert_eq!(got_tag.as_slice(), tag.as_slice());
                    valid += 1;
                }
                "invalid" => {
                    assert_eq!(
                        opened,
                        Err(Error::DecryptFailed),
                        "{} tcId {}",
                        backend.name(),
                        t["tcId"]
                    );
                    invalid += 1;
                }
                other => panic!("unexpected result {other}"),
            }
        }
        assert_eq!(valid + invalid + wrong_nonce, 325, "{}", backend.name());
        assert_eq!(wrong_nonce, 9, "{}", backend.name());
    }
}

/// x25519: valid vectors must match; "acceptable" ones (low-order and twist points,
/// non-canonical encodings) must match too, except that an all-zero shared secret
/// is refused with `NonContributory` (our documented choice).
#[test]
fn x25519_agreement() {
    let doc = load("x25519_test.json");
    for backend in backends() {
        let (mut matched, mut refused) = (0, 0);
        for (_, t) in tests(&doc) {
            let private: [u8; 32] = hexf(t, "private").try_into().unwrap();
            let public: [u8; 32] = hexf(t, "public").try_into().unwrap();
            let shared = hexf(t, "shared");
            let sk = X25519SecretKey::new(&private).unwrap();
            let got = backend.x25519(&sk, &X25519PublicKey::new(public));
            if shared.iter().all(|b| *b == 0) {
                assert_eq!(got.err(), Some(Error::NonContributory), "tcId {}", t["tcId"]);
                assert_ne!(t["result"], "valid");
                refused += 1;
            } else {
                assert_eq!(
                    got.unwrap().as_bytes().as_slice(),
                    shared.as_slice(),
                    "tcId {}",
                    t["tcId"]
                );
                matched += 1;
            }
        }
        assert_eq!(matched + refused, 518, "{}", backend.name());
        assert!(refused > 0, "the file has low-order cases");
    }
}

#[test]
fn hkdf_rfc5869_case_1_on_both_backends() {
    // RFC 5869 A.1
    let ikm = [0x0bu8; 22];
    let salt = hex::decode("000102030405060708090a0b0c").unwrap();
    let info = hex::decode("f0f1f2f3f4f5f6f7f8f9").unwrap();
    let expected =
        hex::decode("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865").unwrap();
    for backend in backends() {
        let mut okm = [0u8; 42];
        backend.hkdf_sha256(&salt, &ikm, &info, &mut okm).unwrap();
        assert_eq!(okm.as_slice(), expected.as_slice(), "{}", backend.name());
        let mut too_long = vec![0u8; 255 * 32 + 1];
        assert_eq!(
            backend.hkdf_sha256(&salt, &ikm, &info, &mut too_long),
            Err(Error::InvalidLength)
        );
    }
}
