#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

use std::path::PathBuf;

use citysec_core::provider::{Provider, SIGNATURE_LEN, SharedSecret, TAG_LEN};
use citysec_core::{
    Algorithm, Error, Result, SigningKey, SymmetricKey, VerifyingKey, X25519PublicKey, X25519SecretKey,
};

/// Every primitive of a provider, one call each, as the vector and property
/// tests of this crate use them: signing loads the key through the provider's
/// key provider, as an application would.
pub trait Backend: Sync + core::fmt::Debug {
    /// The provider's name.
    fn name(&self) -> &'static str;
    /// The provider itself, for the COSE functions that take one.
    fn provider(&self) -> &'static Provider;
    /// Signs `msg` with a copy of `key`, loaded by the provider.
    ///
    /// # Errors
    /// As the provider's.
    fn sign(&self, key: &SigningKey, msg: &[u8]) -> Result<[u8; SIGNATURE_LEN]>;
    /// Verifies `sig` (the key imported first, as trust anchors do).
    ///
    /// # Errors
    /// As the provider's.
    fn verify(&self, key: &VerifyingKey, msg: &[u8], sig: &[u8]) -> Result<()>;
    /// Verifies `sig` with a key never imported (a holder key).
    ///
    /// # Errors
    /// As the provider's.
    fn verify_unimported(&self, key: &VerifyingKey, msg: &[u8], sig: &[u8]) -> Result<()>;
    /// Seals in place.
    ///
    /// # Errors
    /// As the provider's.
    fn seal(&self, key: &SymmetricKey, nonce: &[u8], aad: &[u8], in_out: &mut [u8]) -> Result<[u8; TAG_LEN]>;
    /// Opens in place.
    ///
    /// # Errors
    /// As the provider's.
    fn open(&self, key: &SymmetricKey, nonce: &[u8], aad: &[u8], in_out: &mut [u8], tag: &[u8]) -> Result<()>;
    /// HKDF-SHA-256.
    ///
    /// # Errors
    /// As the provider's.
    fn hkdf_sha256(&self, salt: &[u8], ikm: &[u8], info: &[u8], okm: &mut [u8]) -> Result<()>;
    /// X25519.
    ///
    /// # Errors
    /// As the provider's.
    fn x25519(&self, secret: &X25519SecretKey, public: &X25519PublicKey) -> Result<SharedSecret>;
}

/// A provider seen through [`Backend`].
#[derive(Debug)]
pub struct ViaProvider(pub &'static Provider, pub &'static str);

/// A copy of a software key (the providers take keys by value).
///
/// # Errors
/// As the key constructors.
pub fn copy_key(key: &SigningKey) -> Result<SigningKey> {
    let secret = key.secret_bytes();
    let copy = match key.algorithm() {
        Algorithm::EdDSA => SigningKey::ed25519(secret),
        Algorithm::ES256 => SigningKey::p256(secret)?,
        _ => return Err(Error::UnsupportedAlgorithm),
    };
    let copy = match key.stored_public() {
        Some(p) => copy.with_public(p.clone())?,
        None => copy,
    };
    Ok(match key.kid() {
        Some(kid) => copy.with_kid(kid.to_vec()),
        None => copy,
    })
}

impl Backend for ViaProvider {
    fn name(&self) -> &'static str {
        self.1
    }

    fn provider(&self) -> &'static Provider {
        self.0
    }

    fn sign(&self, key: &SigningKey, msg: &[u8]) -> Result<[u8; SIGNATURE_LEN]> {
        self.0.signer(copy_key(key)?)?.sign(msg)
    }

    fn verify(&self, key: &VerifyingKey, msg: &[u8], sig: &[u8]) -> Result<()> {
        let key = self.0.import(key.clone()).map_err(|_| Error::BadSignature)?;
        self.0.verify(&key, msg, sig)
    }

    fn verify_unimported(&self, key: &VerifyingKey, msg: &[u8], sig: &[u8]) -> Result<()> {
        self.0.verify(key, msg, sig)
    }

    fn seal(&self, key: &SymmetricKey, nonce: &[u8], aad: &[u8], in_out: &mut [u8]) -> Result<[u8; TAG_LEN]> {
        self.0.seal(key, nonce, aad, in_out)
    }

    fn open(&self, key: &SymmetricKey, nonce: &[u8], aad: &[u8], in_out: &mut [u8], tag: &[u8]) -> Result<()> {
        self.0.open(key, nonce, aad, in_out, tag)
    }

    fn hkdf_sha256(&self, salt: &[u8], ikm: &[u8], info: &[u8], okm: &mut [u8]) -> Result<()> {
        self.0.hkdf_sha256(salt, ikm, info, okm)
    }

    fn x25519(&self, secret: &X25519SecretKey, public: &X25519PublicKey) -> Result<SharedSecret> {
        self.0.x25519(secret, public)
    }
}

static RUSTCRYPTO: ViaProvider = ViaProvider(&citysec_rustcrypto::PROVIDER, "rustcrypto");
static RING: ViaProvider = ViaProvider(&citysec_ring::PROVIDER, "ring");

/// Both providers, with their names.
#[must_use]
pub fn backends() -> [&'static dyn Backend; 2] {
    [&RUSTCRYPTO, &RING]
}

/// The folder with the outside test vectors: `vectors/` at the top of the
/// repository, or `$CITYSEC_VECTORS` when set.
#[must_use]
pub fn vectors_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CITYSEC_VECTORS") {
        return PathBuf::from(dir);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../vectors")
}
