//! Property tests across the two backends: what one signs the other verifies, what
//! one seals the other opens, any single-bit flip is rejected, and COSE_Key
//! encoding round-trips.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::cast_possible_truncation,
    reason = "test code: a failed unwrap or index is a failed test"
)]

use citysec_backend_tests::backends;
use citysec_backend_tests::copy_key;
use citysec_core::encrypt0::{self, Iv};
use citysec_core::sign1::{self, VerifyOptions};
use citysec_core::{Algorithm, Error, Key, KeySet, Limits, SigningKey, SymmetricKey, X25519SecretKey};
use proptest::prelude::*;

fn signing_key(ed: bool, seed: [u8; 32]) -> SigningKey {
    if ed {
        SigningKey::ed25519(&seed).with_kid(b"kid-sig".to_vec())
    } else {
        // A seed that is not a valid scalar (probability ~2^-32) falls back to Ed25519.
        SigningKey::p256(&seed)
            .unwrap_or_else(|_| SigningKey::ed25519(&seed))
            .with_kid(b"kid-sig".to_vec())
    }
}

fn aead_alg(i: u8) -> Algorithm {
    match i % 3 {
        0 => Algorithm::ChaCha20Poly1305,
        1 => Algorithm::A128GCM,
        _ => Algorithm::A256GCM,
    }
}

fn sym_key(alg: Algorithm, bytes: [u8; 32]) -> SymmetricKey {
    let len = alg.aead_key_len().unwrap();
    SymmetricKey::new(alg, &bytes[..len])
        .unwrap()
        .with_kid(b"kid-enc".to_vec())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn sign_with_one_verifies_with_the_other(ed: bool, seed: [u8; 32], payload in proptest::collection::vec(any::<u8>(), 0..300), aad in proptest::collection::vec(any::<u8>(), 0..16)) {
        let sk = signing_key(ed, seed);
        let keys = KeySet::from_keys([citysec_rustcrypto::PROVIDER.public_key(&sk).unwrap()]).unwrap();
        for signer in backends() {
            let msg = sign1::sign(&signer.provider().signer(copy_key(&sk).unwrap()).unwrap(), &payload, &aad).unwrap();
            for verifier in backends() {
                let opts = VerifyOptions::default().with_external_aad(&aad);
                let v = sign1::verify(verifier.provider(), &keys, &msg, &opts).unwrap();
                prop_assert_eq!(v.payload(), payload.as_slice());
            }
        }
    }

    #[test]
    fn seal_with_one_opens_with_the_other(alg_i: u8, key in any::<[u8; 32]>(), iv: [u8; 12], pt in proptest::collection::vec(any::<u8>(), 0..600), aad in proptest::collection::vec(any::<u8>(), 0..16)) {
        let key = sym_key(aead_alg(alg_i), key);
        // The key as made, and as each provider prepared it (a provider reads
        // back only its own prepared form; every form gives the same bytes).
        let mut forms = vec![key.clone()];
        forms.extend(backends().iter().map(|b| b.provider().prepare_aead_key(key.clone()).unwrap()));
        for sealer in backends() {
            let msg = encrypt0::seal(sealer.provider(), &key, Iv::Full(&iv), &pt, &aad).unwrap();
            for form in &forms {
                prop_assert_eq!(&encrypt0::seal(sealer.provider(), form, Iv::Full(&iv), &pt, &aad).unwrap(), &msg);
                for opener in backends() {
                    let opts = VerifyOptions::default().with_external_aad(&aad);
                    let o = encrypt0::open(opener.provider(), form, &msg, &opts).unwrap();
                    prop_assert_eq!(o.plaintext(), pt.as_slice());
                }
            }
        }
    }

    #[test]
    fn any_bit_flip_in_sign1_rejects(ed: bool, seed: [u8; 32], payload in proptest::collection::vec(any::<u8>(), 1..64), bit in any::<prop::sample::Index>()) {
        let sk = signing_key(ed, seed);
        let keys = KeySet::from_keys([citysec_rustcrypto::PROVIDER.public_key(&sk).unwrap()]).unwrap();
        let mut msg = sign1::sign(&backends()[0].provider().signer(copy_key(&sk).unwrap()).unwrap(), &payload, b"").unwrap();
        let i = bit.index(msg.len() * 8);
        msg[i / 8] ^= 1 << (i % 8);
        for b in backends() {
            prop_assert!(sign1::verify(b.provider(), &keys, &msg, &VerifyOptions::default()).is_err(), "bit {} accepted on {}", i, b.name());
        }
    }

    #[test]
    fn any_bit_flip_in_encrypt0_rejects(alg_i: u8, key in any::<[u8; 32]>(), iv: [u8; 12], pt in proptest::collection::vec(any::<u8>(), 0..64), bit in any::<prop::sample::Index>()) {
        let key = sym_key(aead_alg(alg_i), key);
        let mut msg = encrypt0::seal(backends()[0].provider(), &key, Iv::Full(&iv), &pt, b"").unwrap();
        let i = bit.index(msg.len() * 8);
        msg[i / 8] ^= 1 << (i % 8);
        for b in backends() {
            let prepared = b.provider().prepare_aead_key(key.clone()).unwrap();
            for k in [&key, &prepared] {
                prop_assert!(encrypt0::open(b.provider(), k, &msg, &VerifyOptions::default()).is_err(), "bit {} accepted on {}", i, b.name());
            }
        }
    }

    #[test]
    fn truncation_of_encrypt0_rejects(key in any::<[u8; 32]>(), iv: [u8; 12], pt in proptest::collection::vec(any::<u8>(), 0..64), cut in 1usize..40) {
        let key = sym_key(Algorithm::ChaCha20Poly1305, key);
        let msg = encrypt0::seal(backends()[0].provider(), &key, Iv::Full(&iv), &pt, b"").unwrap();
        let cut = cut.min(msg.len());
        let short = &msg[..msg.len() - cut];
        for b in backends() {
            prop_assert!(encrypt0::open(b.provider(), &key, short, &VerifyOptions::default()).is_err());
        }
    }

    #[test]
    fn cose_key_round_trips(kind in 0u8..6, bytes: [u8; 32], kid in proptest::collection::vec(any::<u8>(), 1..12)) {
        let key: Key = match kind {
            0 => SigningKey::ed25519(&bytes).into(),
            1 => citysec_rustcrypto::PROVIDER.public_key(&SigningKey::ed25519(&bytes)).unwrap().into(),
            2 => match SigningKey::p256(&bytes) { Ok(k) => k.into(), Err(_) => return Ok(()) },
            3 => sym_key(aead_alg(bytes[0]), bytes).into(),
            4 => match X25519SecretKey::new(&bytes) { Ok(k) => k.into(), Err(_) => return Ok(()) },
            _ => match X25519SecretKey::new(&bytes) { Ok(k) => citysec_rustcrypto::PROVIDER.x25519_public_key(&k).unwrap().into(), Err(_) => return Ok(()) },
        };
        let key = key.with_kid(kid.clone()).complete(&citysec_rustcrypto::PROVIDER).unwrap();
        let encoded = key.to_cose_key().unwrap();
        let decoded = Key::from_cose_key(&encoded, &Limits::DEFAULT).unwrap();
        prop_assert_eq!(decoded.kid(), Some(kid.as_slice()));
        prop_assert_eq!(decoded.algorithm(), key.algorithm());
        prop_assert_eq!(decoded.is_secret(), key.is_secret());
        let again = decoded.to_cose_key().unwrap();
        prop_assert_eq!(again.as_slice(), encoded.as_slice());
        if let Some(p) = key.public(&citysec_rustcrypto::PROVIDER).unwrap() {
            let pe = p.to_cose_key().unwrap();
            let pd = Key::from_cose_key(&pe, &Limits::DEFAULT).unwrap();
            prop_assert!(!pd.is_secret());
            let pde = pd.to_cose_key().unwrap();
            prop_assert_eq!(pde.as_slice(), pe.as_slice());
        }
    }

    #[test]
    fn hkdf_agrees(salt in proptest::collection::vec(any::<u8>(), 0..40), ikm in proptest::collection::vec(any::<u8>(), 0..64), info in proptest::collection::vec(any::<u8>(), 0..40), len in 1usize..200) {
        let outputs: Vec<Vec<u8>> = backends()
            .iter()
            .map(|b| {
                let mut x = vec![0u8; len];
                b.hkdf_sha256(&salt, &ikm, &info, &mut x).unwrap();
                x
            })
            .collect();
        for o in &outputs[1..] {
            prop_assert_eq!(o, &outputs[0]);
        }
    }

    #[test]
    fn x25519_agrees_both_ways(a: [u8; 32], b: [u8; 32]) {
        let (Ok(sa), Ok(sb)) = (X25519SecretKey::new(&a), X25519SecretKey::new(&b)) else { return Ok(()) };
        for r in backends() {
            for g in backends() {
                let ab = r.x25519(&sa, &citysec_rustcrypto::PROVIDER.x25519_public_key(&sb).unwrap()).unwrap();
                let ba = g.x25519(&sb, &citysec_rustcrypto::PROVIDER.x25519_public_key(&sa).unwrap()).unwrap();
                prop_assert_eq!(ab.as_bytes(), ba.as_bytes());
            }
        }
    }
}

#[test]
fn ring_and_rustcrypto_ed25519_signatures_are_identical() {
    // Ed25519 is deterministic: both backends and both providers must produce the
    // same bytes.
    let sk = SigningKey::ed25519(&[9u8; 32]).with_kid(b"k".to_vec());
    let first = sign1::sign(
        &backends()[0].provider().signer(copy_key(&sk).unwrap()).unwrap(),
        b"same",
        b"",
    )
    .unwrap();
    for b in backends() {
        assert_eq!(
            sign1::sign(&b.provider().signer(copy_key(&sk).unwrap()).unwrap(), b"same", b"").unwrap(),
            first,
            "{}",
            b.name()
        );
        assert_eq!(
            b.verify(&citysec_rustcrypto::PROVIDER.public_key(&sk).unwrap(), b"x", &[0u8; 63]),
            Err(Error::BadSignature),
            "short signature on {}",
            b.name()
        );
    }
}
