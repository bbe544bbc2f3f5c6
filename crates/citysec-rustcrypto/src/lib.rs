#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc = include_str!("../README.md")]
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::boxed::Box;
#[cfg(feature = "batch")]
use alloc::vec::Vec;

use citysec_core::backend::{SIGNATURE_LEN, TAG_LEN};
#[cfg(feature = "batch")]
use citysec_core::provider::BatchItem;
use citysec_core::provider::{Aead, Hkdf, KeyAgreement, KeyProvider, Provider, SignatureVerifier, Signer};
use citysec_core::{
    Algorithm, Backend, Error, Result, RustCrypto, SharedSecret, SigningKey, SymmetricKey, VerifyingKey,
    X25519PublicKey, X25519SecretKey,
};

/// The pure-Rust provider.
pub static PROVIDER: Provider = Provider {
    name: "rustcrypto",
    signature_verifiers: &[&Verify(Algorithm::EdDSA), &Verify(Algorithm::ES256)],
    aeads: &[
        &AeadAlg(Algorithm::ChaCha20Poly1305),
        &AeadAlg(Algorithm::A128GCM),
        &AeadAlg(Algorithm::A256GCM),
    ],
    hkdf: &HkdfSha256,
    key_agreement: Some(&X25519),
    key_provider: &Keys,
};

/// Signature verification for one algorithm.
#[derive(Debug)]
struct Verify(Algorithm);

impl SignatureVerifier for Verify {
    fn algorithm(&self) -> Algorithm {
        self.0
    }

    fn verify(&self, key: &VerifyingKey, msg: &[u8], sig: &[u8]) -> Result<()> {
        if key.algorithm() != self.0 {
            return Err(Error::BadSignature);
        }
        RustCrypto.verify(key, msg, sig)
    }

    /// Ed25519 with the `batch` feature: one batch equation for all items (same
    /// acceptance as strict verification, see
    /// `citysec_core::backend::ed25519_verify_batch`); if it fails, each item is
    /// verified singly so that every result is exact.
    #[cfg(feature = "batch")]
    fn verify_batch(&self, items: &[BatchItem<'_>]) -> Vec<Result<()>> {
        if self.0 == Algorithm::EdDSA && !items.is_empty() && items.iter().all(|i| i.key.algorithm() == self.0) {
            let triples: Vec<(&[u8], &[u8], &VerifyingKey)> = items.iter().map(|i| (i.msg, i.sig, i.key)).collect();
            if citysec_core::backend::ed25519_verify_batch(&triples).is_ok() {
                return items.iter().map(|_| Ok(())).collect();
            }
        }
        items.iter().map(|i| self.verify(i.key, i.msg, i.sig)).collect()
    }
}

/// An AEAD for one algorithm.
#[derive(Debug)]
struct AeadAlg(Algorithm);

impl Aead for AeadAlg {
    fn algorithm(&self) -> Algorithm {
        self.0
    }

    fn seal(&self, key: &SymmetricKey, nonce: &[u8], aad: &[u8], in_out: &mut [u8]) -> Result<[u8; TAG_LEN]> {
        if key.algorithm() != self.0 {
            return Err(Error::UnsupportedAlgorithm);
        }
        RustCrypto.seal(key, nonce, aad, in_out)
    }

    fn open(&self, key: &SymmetricKey, nonce: &[u8], aad: &[u8], in_out: &mut [u8], tag: &[u8]) -> Result<()> {
        if key.algorithm() != self.0 {
            in_out.fill(0);
            return Err(Error::DecryptFailed);
        }
        RustCrypto.open(key, nonce, aad, in_out, tag)
    }
}

#[derive(Debug)]
struct HkdfSha256;

impl Hkdf for HkdfSha256 {
    fn hkdf_sha256(&self, salt: &[u8], ikm: &[u8], info: &[u8], okm: &mut [u8]) -> Result<()> {
        RustCrypto.hkdf_sha256(salt, ikm, info, okm)
    }
}

#[derive(Debug)]
struct X25519;

impl KeyAgreement for X25519 {
    fn x25519(&self, secret: &X25519SecretKey, public: &X25519PublicKey) -> Result<SharedSecret> {
        citysec_core::backend::x25519(secret, public)
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
