#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc = include_str!("../README.md")]
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::boxed::Box;
#[cfg(feature = "batch")]
use alloc::vec::Vec;

use citysec_core::backend::SIGNATURE_LEN;
#[cfg(feature = "batch")]
use citysec_core::provider::BatchItem;
use citysec_core::provider::{BackendBridge, KeyProvider, Provider, SignatureVerifier, Signer};
use citysec_core::{Algorithm, Backend, Result, RustCrypto, SigningKey, VerifyingKey};

/// The pure-Rust provider.
pub static PROVIDER: Provider = Provider {
    name: "rustcrypto",
    signature_verifiers: &[
        &Ed25519,
        #[cfg(feature = "p256")]
        &BackendBridge(Algorithm::ES256, RustCrypto),
    ],
    aeads: &[
        &BackendBridge(Algorithm::ChaCha20Poly1305, RustCrypto),
        #[cfg(feature = "aes-gcm")]
        &BackendBridge(Algorithm::A128GCM, RustCrypto),
        #[cfg(feature = "aes-gcm")]
        &BackendBridge(Algorithm::A256GCM, RustCrypto),
    ],
    hkdf: Some(&BackendBridge(Algorithm::EcdhEsHkdf256, RustCrypto)),
    #[cfg(feature = "x25519")]
    key_agreement: Some(&BackendBridge(Algorithm::EcdhEsHkdf256, RustCrypto)),
    #[cfg(not(feature = "x25519"))]
    key_agreement: None,
    key_provider: Some(&Keys),
};

/// A provider that only verifies Ed25519 signatures: for firmware that checks
/// credentials, presentations and policy bundles and never signs, seals or
/// derives keys. It links the Ed25519 verification code and nothing else.
pub static VERIFY_ONLY: Provider = Provider {
    name: "rustcrypto-verify-only",
    signature_verifiers: &[&Ed25519],
    aeads: &[],
    hkdf: None,
    key_agreement: None,
    key_provider: None,
};

/// Ed25519: strict single verification, and batch verification with the `batch`
/// feature.
#[derive(Debug)]
struct Ed25519;

impl SignatureVerifier for Ed25519 {
    fn algorithm(&self) -> Algorithm {
        Algorithm::EdDSA
    }

    fn verify(&self, key: &VerifyingKey, msg: &[u8], sig: &[u8]) -> Result<()> {
        citysec_core::backend::ed25519_verify(key, msg, sig)
    }

    /// One batch equation for all items (same acceptance as strict verification,
    /// see `citysec_core::backend::ed25519_verify_batch`); if it fails, each item
    /// is verified singly so that every result is exact.
    #[cfg(feature = "batch")]
    fn verify_batch(&self, items: &[BatchItem<'_>]) -> Vec<Result<()>> {
        if !items.is_empty() && items.iter().all(|i| i.key.algorithm() == Algorithm::EdDSA) {
            let triples: Vec<(&[u8], &[u8], &VerifyingKey)> = items.iter().map(|i| (i.msg, i.sig, i.key)).collect();
            if citysec_core::backend::ed25519_verify_batch(&triples).is_ok() {
                return items.iter().map(|_| Ok(())).collect();
            }
        }
        items.iter().map(|i| self.verify(i.key, i.msg, i.sig)).collect()
    }
}

#[derive(Debug)]
struct Keys;

impl KeyProvider for Keys {
    fn load_signing_key(&self, key: SigningKey) -> Result<Box<dyn Signer>> {
        let public = key.verifying_key();
        Ok(Box::new(SoftwareSigner { key, public }))
    }
}

/// A key held in memory (zeroized on drop by [`SigningKey`]).
#[derive(Debug)]
struct SoftwareSigner {
    key: SigningKey,
    public: VerifyingKey,
}

impl Signer for SoftwareSigner {
    fn verifying_key(&self) -> &VerifyingKey {
        &self.public
    }

    fn sign(&self, msg: &[u8]) -> Result<[u8; SIGNATURE_LEN]> {
        RustCrypto.sign(&self.key, msg)
    }
}
