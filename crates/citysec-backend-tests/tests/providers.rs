//! The provider model: lookups, signers, wrong-algorithm keys and batch results,
//! on both providers. (Every vector and differential test of this crate also runs
//! over both providers, through `ViaProvider`.)

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed unwrap or index is a failed test"
)]

use citysec_backend_tests::copy_key;
use citysec_core::provider::{BatchItem, Provider};
use citysec_core::{Algorithm, Error, SigningKey, SymmetricKey, X25519SecretKey};

fn providers() -> [&'static Provider; 2] {
    [&citysec_rustcrypto::PROVIDER, &citysec_ring::PROVIDER]
}

#[test]
fn lookups_find_each_algorithm_and_refuse_the_rest() {
    for p in providers() {
        assert_eq!(p.verifier(Algorithm::EdDSA).unwrap().algorithm(), Algorithm::EdDSA);
        assert_eq!(p.verifier(Algorithm::ES256).unwrap().algorithm(), Algorithm::ES256);
        for alg in [Algorithm::ChaCha20Poly1305, Algorithm::A128GCM, Algorithm::A256GCM] {
            assert_eq!(p.aead(alg).unwrap().algorithm(), alg, "{}", p.name);
            assert_eq!(p.verifier(alg).unwrap_err(), Error::UnsupportedAlgorithm);
        }
        assert_eq!(p.aead(Algorithm::EdDSA).unwrap_err(), Error::UnsupportedAlgorithm);
        assert!(p.key_agreement.is_some());
    }
    assert_eq!(citysec_rustcrypto::PROVIDER.name, "rustcrypto");
    assert_eq!(citysec_ring::PROVIDER.name, "ring");
}

#[test]
fn signers_keep_the_kid_and_their_signatures_verify_on_every_provider() {
    for signing in providers() {
        let keys = [
            SigningKey::ed25519(&[5u8; 32]).with_kid(*b"ed"),
            SigningKey::p256(&[6u8; 32]).unwrap().with_kid(*b"p256"),
        ];
        for key in keys {
            let (alg, public) = (key.algorithm(), citysec_rustcrypto::PROVIDER.public_key(&key).unwrap());
            let signer = signing.signer(key).unwrap();
            assert_eq!(signer.algorithm(), alg);
            assert_eq!(signer.verifying_key(), &public);
            assert_eq!(signer.kid(), public.kid());
            let sig = signer.sign(b"open door 7").unwrap();
            for verifying in providers() {
                assert_eq!(
                    verifying.verify(&public, b"open door 7", &sig),
                    Ok(()),
                    "{}",
                    verifying.name
                );
                assert_eq!(
                    verifying.verify(&public, b"open door 8", &sig),
                    Err(Error::BadSignature),
                    "{}",
                    verifying.name
                );
            }
            // Debug names the key, never its secret.
            let shown = format!("{signer:?}");
            assert!(shown.contains("VerifyingKey"), "{shown}");
            for secret in ["5, 5, 5, 5", "6, 6, 6, 6", "0505050505", "0606060606"] {
                assert!(!shown.contains(secret), "{shown}");
            }
        }
    }
}

#[test]
fn ed25519_signers_of_both_providers_give_the_same_bytes() {
    let sigs: Vec<_> = providers()
        .iter()
        .map(|p| {
            let signer = p.signer(SigningKey::ed25519(&[7u8; 32])).unwrap();
            signer.sign(b"same").unwrap()
        })
        .collect();
    assert_eq!(sigs[0], sigs[1]);
}

#[test]
fn a_key_of_another_algorithm_is_refused() {
    let ed = SigningKey::ed25519(&[1u8; 32]);
    let p256 = SigningKey::p256(&[2u8; 32]).unwrap();
    let chacha = SymmetricKey::new(Algorithm::ChaCha20Poly1305, &[3u8; 32]).unwrap();
    for p in providers() {
        let signer = p.signer(SigningKey::ed25519(&[1u8; 32])).unwrap();
        let sig = signer.sign(b"m").unwrap();
        // the EdDSA signature checked as ES256 with the P-256 key, and the EdDSA key
        // given to the ES256 verifier
        assert_eq!(
            p.verify(&citysec_rustcrypto::PROVIDER.public_key(&p256).unwrap(), b"m", &sig),
            Err(Error::BadSignature)
        );
        let es256 = p.verifier(Algorithm::ES256).unwrap();
        assert_eq!(
            es256.verify(&citysec_rustcrypto::PROVIDER.public_key(&ed).unwrap(), b"m", &sig),
            Err(Error::BadSignature)
        );
        // a ChaCha20 key given to the AES-GCM AEAD
        let gcm = p.aead(Algorithm::A256GCM).unwrap();
        let mut buf = *b"plaintext";
        assert_eq!(
            gcm.seal(&chacha, &[0u8; 12], b"", &mut buf).unwrap_err(),
            Error::UnsupportedAlgorithm
        );
        let mut buf = *b"ciphertext";
        assert_eq!(
            gcm.open(&chacha, &[0u8; 12], b"", &mut buf, &[0u8; 16]).unwrap_err(),
            Error::DecryptFailed
        );
        assert_eq!(buf, [0u8; 10], "{}: no bytes left behind", p.name);
        // and the right AEAD round-trips
        let aead = p.aead(Algorithm::ChaCha20Poly1305).unwrap();
        let mut buf = *b"reading";
        let tag = aead.seal(&chacha, &[9u8; 12], b"aad", &mut buf).unwrap();
        assert_ne!(&buf, b"reading");
        aead.open(&chacha, &[9u8; 12], b"aad", &mut buf, &tag).unwrap();
        assert_eq!(&buf, b"reading");
        // preparing a key for another algorithm's AEAD is refused too
        assert_eq!(gcm.prepare(&chacha).unwrap_err(), Error::UnsupportedAlgorithm);
        // and a prepared ChaCha20 key given to the AES-GCM AEAD is still refused
        let prepared = p.prepare_aead_key(chacha.clone()).unwrap();
        let mut buf = *b"plaintext";
        assert_eq!(
            gcm.seal(&prepared, &[0u8; 12], b"", &mut buf).unwrap_err(),
            Error::UnsupportedAlgorithm
        );
    }
}

#[test]
fn ring_prepares_aead_keys_and_rustcrypto_needs_not() {
    for alg in [Algorithm::ChaCha20Poly1305, Algorithm::A128GCM, Algorithm::A256GCM] {
        let key = SymmetricKey::new(alg, &[7u8; 32][..alg.aead_key_len().unwrap()]).unwrap();
        let ring = citysec_ring::PROVIDER.prepare_aead_key(key.clone()).unwrap();
        assert!(ring.is_prepared(), "{alg:?}");
        assert!(ring.clone().is_prepared(), "a clone keeps it");
        assert!(ring.clone().without_kid().with_kid(*b"k").is_prepared());
        let rc = citysec_rustcrypto::PROVIDER.prepare_aead_key(key.clone()).unwrap();
        assert!(!rc.is_prepared());
        assert!(!key.is_prepared());
    }
}

#[test]
fn batch_verification_gives_one_exact_result_per_item() {
    let a = SigningKey::ed25519(&[11u8; 32]);
    let b = SigningKey::ed25519(&[12u8; 32]);
    let p = SigningKey::p256(&[13u8; 32]).unwrap();
    let sign = |k: &SigningKey, m: &[u8]| {
        citysec_rustcrypto::PROVIDER
            .signer(SigningKey::ed25519(k.secret_bytes()))
            .unwrap()
            .sign(m)
            .unwrap()
    };
    let (ka, kb, kp) = (
        citysec_rustcrypto::PROVIDER.public_key(&a).unwrap(),
        citysec_rustcrypto::PROVIDER.public_key(&b).unwrap(),
        citysec_rustcrypto::PROVIDER.public_key(&p).unwrap(),
    );
    let sa = sign(&a, b"one");
    let sb = sign(&b, b"two");
    let mut forged = sb;
    forged[0] ^= 1;
    let good = [
        BatchItem {
            key: &ka,
            msg: b"one",
            sig: &sa,
        },
        BatchItem {
            key: &kb,
            msg: b"two",
            sig: &sb,
        },
    ];
    let mixed = [
        BatchItem {
            key: &ka,
            msg: b"one",
            sig: &sa,
        },
        BatchItem {
            key: &kb,
            msg: b"two",
            sig: &forged,
        },
        BatchItem {
            key: &kb,
            msg: b"two",
            sig: &sb,
        },
        BatchItem {
            key: &kp,
            msg: b"one",
            sig: &sa,
        },
    ];
    for prov in providers() {
        let ed = prov.verifier(Algorithm::EdDSA).unwrap();
        assert_eq!(ed.verify_batch(&good), vec![Ok(()), Ok(())], "{}", prov.name);
        assert_eq!(
            ed.verify_batch(&mixed),
            vec![Ok(()), Err(Error::BadSignature), Ok(()), Err(Error::BadSignature)],
            "{}",
            prov.name
        );
        assert_eq!(ed.verify_batch(&[]), Vec::new());
    }
}

#[test]
fn a_provider_can_be_made_of_parts_of_two() {
    let mixed = Provider {
        name: "mixed",
        aeads: citysec_ring::PROVIDER.aeads,
        ..citysec_rustcrypto::PROVIDER
    };
    let key = SymmetricKey::new(Algorithm::ChaCha20Poly1305, &[4u8; 32]).unwrap();
    let mut buf = *b"x";
    let tag = mixed
        .aead(Algorithm::ChaCha20Poly1305)
        .unwrap()
        .seal(&key, &[1u8; 12], b"", &mut buf)
        .unwrap();
    citysec_rustcrypto::PROVIDER
        .aead(Algorithm::ChaCha20Poly1305)
        .unwrap()
        .open(&key, &[1u8; 12], b"", &mut buf, &tag)
        .unwrap();
    assert_eq!(&buf, b"x");
    let s = X25519SecretKey::new(&[8u8; 32]).unwrap();
    let t = X25519SecretKey::new(&[9u8; 32]).unwrap();
    assert_eq!(
        mixed
            .x25519(&s, &citysec_rustcrypto::PROVIDER.x25519_public_key(&t).unwrap())
            .unwrap()
            .as_bytes(),
        citysec_ring::PROVIDER
            .x25519(&t, &citysec_rustcrypto::PROVIDER.x25519_public_key(&s).unwrap())
            .unwrap()
            .as_bytes()
    );
}

#[test]
fn cose_sign1_from_a_signer_verifies_and_matches_the_rustcrypto_signer() {
    use citysec_core::KeySet;
    use citysec_core::coset::Header;
    use citysec_core::sign1::{self, Tagging, VerifyOptions};

    for p in providers() {
        for key in [
            SigningKey::ed25519(&[21u8; 32]).with_kid(*b"issuer-ed"),
            SigningKey::p256(&[22u8; 32]).unwrap().with_kid(*b"issuer-p256"),
        ] {
            let trusted = KeySet::from_keys([citysec_rustcrypto::PROVIDER.public_key(&key).unwrap()]).unwrap();
            let alg = key.algorithm();
            let reference_signer = citysec_rustcrypto::PROVIDER.signer(copy_key(&key).unwrap()).unwrap();
            let backend_msg = sign1::sign(&reference_signer, b"claims", b"").unwrap();
            let signer = p.signer(key).unwrap();
            let msg = sign1::sign_with_headers(
                signer.as_ref(),
                Header::default(),
                Header::default(),
                b"claims",
                b"",
                Tagging::Tagged,
            )
            .unwrap();
            let verified =
                sign1::verify(&citysec_rustcrypto::PROVIDER, &trusted, &msg, &VerifyOptions::default()).unwrap();
            assert_eq!(verified.payload(), b"claims");
            assert_eq!(verified.kid(), signer.kid());
            if alg == Algorithm::EdDSA {
                // deterministic: the same bytes as the RustCrypto signer's
                assert_eq!(msg, backend_msg, "{}", p.name);
            } else {
                // ES256 signatures differ; everything before the signature is the same
                assert_eq!(msg.len(), backend_msg.len());
                assert_eq!(msg[..msg.len() - 64], backend_msg[..backend_msg.len() - 64]);
            }
        }
    }
}

#[test]
fn the_verify_only_provider_verifies_ed25519_and_does_nothing_else() {
    let p = &citysec_rustcrypto::VERIFY_ONLY;
    let ed = citysec_rustcrypto::PROVIDER
        .signer(SigningKey::ed25519(&[31u8; 32]))
        .unwrap();
    let sig = ed.sign(b"door").unwrap();
    assert_eq!(p.verify(ed.verifying_key(), b"door", &sig), Ok(()));
    assert_eq!(p.verify(ed.verifying_key(), b"doors", &sig), Err(Error::BadSignature));
    let es = citysec_rustcrypto::PROVIDER
        .signer(SigningKey::p256(&[32u8; 32]).unwrap())
        .unwrap();
    let sig = es.sign(b"door").unwrap();
    assert_eq!(
        citysec_rustcrypto::PROVIDER.verify(es.verifying_key(), b"door", &sig),
        Ok(())
    );
    assert_eq!(p.verify(es.verifying_key(), b"door", &sig), Err(Error::BadSignature));
    assert_eq!(
        p.signer(SigningKey::ed25519(&[1u8; 32])).err(),
        Some(Error::UnsupportedAlgorithm)
    );
    assert_eq!(
        p.aead(Algorithm::ChaCha20Poly1305).err(),
        Some(Error::UnsupportedAlgorithm)
    );
    let mut okm = [0u8; 32];
    assert_eq!(
        p.hkdf_sha256(b"", b"ikm", b"", &mut okm),
        Err(Error::UnsupportedAlgorithm)
    );
    let x = X25519SecretKey::new(&[9u8; 32]).unwrap();
    assert_eq!(
        p.x25519(&x, &citysec_rustcrypto::PROVIDER.x25519_public_key(&x).unwrap())
            .err(),
        Some(Error::UnsupportedAlgorithm)
    );
}
