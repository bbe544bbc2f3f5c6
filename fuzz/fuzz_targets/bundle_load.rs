//! Fuzz target `bundle_load`: arbitrary bytes as a signed policy bundle.
//!
//! Each input is loaded twice: with the RustCrypto provider, and with a
//! fuzz-only provider that accepts every signature (so the fuzzer gets past the
//! signature into the payload decoder and the compiler; the keys still have to be
//! found by kid and match the message's alg). Invariants: no panic; what the real
//! provider accepts, the permissive one accepts with the same version and digest; a
//! real-provider error other than a bad signature is the permissive provider's error
//! too; an accepted bundle is within the size limit, above the held version, issued
//! by year 9999, and its digest is its policy's digest. Each is loaded without and
//! with the scope `site:fuzz`: a bundle the scoped load accepts is format 2 with
//! exactly that scope. `load_held` with an empty store accepts exactly what `load`
//! accepts, and then holds the bundle's version and payload digest.
#![no_main]

use std::sync::LazyLock;

use citysec_core::provider::{Provider, SignatureVerifier};
use citysec_core::state::{MemoryStateStore, StateStore as _};
use citysec_core::{Algorithm, Error, Result, SigningKey, VerifyingKey};
use citysec_policy::bundle::{self, BundleError, LoadOptions, PolicySigners};
use libfuzzer_sys::fuzz_target;

/// Accepts every signature of its algorithm. Fuzzing only.
#[derive(Debug)]
struct AcceptAnySignature(Algorithm);

impl SignatureVerifier for AcceptAnySignature {
    fn algorithm(&self) -> Algorithm {
        self.0
    }
    fn prepare(&self, _key: &VerifyingKey) -> Result<Option<citysec_core::keys::Prepared>> {
        Ok(None)
    }
    fn verify(&self, _key: &VerifyingKey, _msg: &[u8], _sig: &[u8]) -> Result<()> {
        Ok(())
    }
}

/// A provider whose signature checks accept everything. Fuzzing only.
static ACCEPT_ANY: Provider = Provider {
    name: "fuzz-accept-any-signature",
    signature_verifiers: &[
        &AcceptAnySignature(Algorithm::EdDSA),
        &AcceptAnySignature(Algorithm::ES256),
    ],
    aeads: &[],
    hkdf: None,
    key_agreement: None,
    key_provider: None,
};

/// The signers' public keys of the committed seeds (fuzz/seeds/bundle_load):
/// Ed25519 seed [7; 32] with kid "fuzz-signer", P-256 d = [0x11; 32] with kid
/// "fuzz-p256".
fn signer_keys() -> [VerifyingKey; 2] {
    let public = |key: SigningKey| citysec_rustcrypto::PROVIDER.public_key(&key).expect("public key");
    let ed = public(SigningKey::ed25519(&[7u8; 32]).with_kid(*b"fuzz-signer"));
    let p256 = public(
        SigningKey::p256(&[0x11u8; 32])
            .expect("P-256 key")
            .with_kid(*b"fuzz-p256"),
    );
    [ed, p256]
}

/// The signers, checked by the RustCrypto provider.
static TRUSTED: LazyLock<PolicySigners> =
    LazyLock::new(|| PolicySigners::from_keys(&citysec_rustcrypto::PROVIDER, signer_keys()).expect("key set"));
/// The same signers, checked by a provider that accepts every signature.
static LOOSE: LazyLock<PolicySigners> =
    LazyLock::new(|| PolicySigners::from_keys(&ACCEPT_ANY, signer_keys()).expect("key set"));

const SCOPE: &str = "site:fuzz";

fuzz_target!(|data: &[u8]| {
    for (held, scope) in [(None, None), (Some(3), None), (None, Some(SCOPE))] {
        let opts = LoadOptions {
            held_version: held,
            scope,
            ..LoadOptions::default()
        };
        let real = bundle::load(&TRUSTED, data, &opts);
        let loose = bundle::load(&LOOSE, data, &opts);
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
        let held_load = bundle::load_held(&LOOSE, data, &opts, &mut store);
        assert_eq!(
            held_load.as_ref().err(),
            loose.as_ref().err(),
            "load_held and load disagree"
        );
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
