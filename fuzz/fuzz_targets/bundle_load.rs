//! Fuzz target `bundle_load`: arbitrary bytes as a signed policy bundle.
//!
//! Each input is loaded twice: with the real RustCrypto backend, and with a
//! fuzz-only backend that accepts every signature (so the fuzzer gets past the
//! signature into the payload decoder and the compiler; the keys still have to be
//! found by kid and match the message's alg). Invariants: no panic; what the real
//! backend accepts, the permissive one accepts with the same version and digest; a
//! real-backend error other than a bad signature is the permissive backend's error
//! too; an accepted bundle is within the size limit, above the held version, issued
//! by year 9999, and its digest is its policy's digest. Each is loaded without and
//! with the scope `site:fuzz`: a bundle the scoped load accepts is format 2 with
//! exactly that scope. `load_held` with an empty store accepts exactly what `load`
//! accepts, and then holds the bundle's version and payload digest.
#![no_main]

use std::sync::LazyLock;

use citysec_core::backend::{SIGNATURE_LEN, TAG_LEN};
use citysec_core::state::{MemoryStateStore, StateStore as _};
use citysec_core::{
    Backend, Error, Result, RustCrypto, SharedSecret, SigningKey, SymmetricKey, VerifyingKey, X25519PublicKey,
    X25519SecretKey,
};
use citysec_policy::bundle::{self, BundleError, LoadOptions, PolicySigners};
use libfuzzer_sys::fuzz_target;

/// Accepts every signature; everything else is RustCrypto. Fuzzing only.
#[derive(Debug)]
struct AcceptAnySignature;

impl Backend for AcceptAnySignature {
    fn name(&self) -> &'static str {
        "fuzz-accept-any-signature"
    }
    fn sign(&self, key: &SigningKey, msg: &[u8]) -> Result<[u8; SIGNATURE_LEN]> {
        RustCrypto.sign(key, msg)
    }
    fn verify(&self, _key: &VerifyingKey, _msg: &[u8], _sig: &[u8]) -> Result<()> {
        Ok(())
    }
    fn seal(&self, key: &SymmetricKey, nonce: &[u8], aad: &[u8], in_out: &mut [u8]) -> Result<[u8; TAG_LEN]> {
        RustCrypto.seal(key, nonce, aad, in_out)
    }
    fn open(&self, key: &SymmetricKey, nonce: &[u8], aad: &[u8], in_out: &mut [u8], tag: &[u8]) -> Result<()> {
        RustCrypto.open(key, nonce, aad, in_out, tag)
    }
    fn hkdf_sha256(&self, salt: &[u8], ikm: &[u8], info: &[u8], okm: &mut [u8]) -> Result<()> {
        RustCrypto.hkdf_sha256(salt, ikm, info, okm)
    }
    fn x25519(&self, secret: &X25519SecretKey, public: &X25519PublicKey) -> Result<SharedSecret> {
        RustCrypto.x25519(secret, public)
    }
}

/// The signers of the committed seeds (fuzz/seeds/bundle_load): Ed25519 seed
/// [7; 32] with kid "fuzz-signer", P-256 d = [0x11; 32] with kid "fuzz-p256".
static TRUSTED: LazyLock<PolicySigners> = LazyLock::new(|| {
    let ed = SigningKey::ed25519(&[7u8; 32])
        .with_kid(*b"fuzz-signer")
        .verifying_key();
    let p256 = SigningKey::p256(&[0x11u8; 32])
        .expect("P-256 key")
        .with_kid(*b"fuzz-p256")
        .verifying_key();
    PolicySigners::from_keys([ed, p256]).expect("key set")
});

const SCOPE: &str = "site:fuzz";

fuzz_target!(|data: &[u8]| {
    for (held, scope) in [(None, None), (Some(3), None), (None, Some(SCOPE))] {
        let opts = LoadOptions {
            held_version: held,
            scope,
            ..LoadOptions::default()
        };
        let real = bundle::load(&RustCrypto, &TRUSTED, data, &opts);
        let loose = bundle::load(&AcceptAnySignature, &TRUSTED, data, &opts);
        match &real {
            Ok(b) => {
                let l = loose
                    .as_ref()
                    .expect("accepted with a real signature check, so accepted without");
                assert_eq!((b.version(), b.digest()), (l.version(), l.digest()));
            }
            Err(BundleError::Cose(Error::BadSignature)) => {}
            Err(e) => assert_eq!(
                loose.as_ref().err(),
                Some(e),
                "the same error before the signature check"
            ),
        }
        let mut store = MemoryStateStore::new();
        let held_load = bundle::load_held(&AcceptAnySignature, &TRUSTED, data, &opts, &mut store);
        assert_eq!(held_load.as_ref().err(), loose.as_ref().err(), "load_held and load disagree");
        if let Ok(b) = &held_load {
            assert_eq!(store.bundle(), Ok(Some(b.held())));
        }
        if let Ok(b) = &loose {
            assert!(data.len() <= opts.max_bundle_len);
            if scope.is_some() {
                assert_eq!((b.format(), b.scope()), (bundle::FORMAT, scope), "scope not enforced");
            }
            if let Some(h) = held {
                assert!(b.version() > h, "rollback");
            }
            assert!(b.issued_at() <= bundle::MAX_TIME);
            assert_eq!(b.digest(), &b.policy().digest());
            let mut req = b.policy().request();
            let r = req.evaluate();
            let _ = (r.decision(), r.rules().count());
        }
    }
});
