#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

use std::path::PathBuf;

use citysec_core::backend::{SIGNATURE_LEN, TAG_LEN};
use citysec_core::provider::Provider;
use citysec_core::{
    Algorithm, Backend, Error, Result, SharedSecret, SigningKey, SymmetricKey, VerifyingKey, X25519PublicKey,
    X25519SecretKey,
};

/// A provider seen through the `Backend` trait, so that every vector and
/// property test of this crate runs over the providers too. Signing loads the key
/// through the provider's key provider, as an application would.
#[derive(Debug)]
pub struct ViaProvider(pub &'static Provider, pub &'static str);

/// A copy of a software key (the providers take keys by value).
fn copy_key(key: &SigningKey) -> Result<SigningKey> {
    let secret = key.secret_bytes();
    let copy = match key.algorithm() {
        Algorithm::EdDSA => SigningKey::ed25519(&secret),
        Algorithm::ES256 => SigningKey::p256(&secret)?,
        _ => return Err(Error::UnsupportedAlgorithm),
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

    fn sign(&self, key: &SigningKey, msg: &[u8]) -> Result<[u8; SIGNATURE_LEN]> {
        self.0.signer(copy_key(key)?)?.sign(msg)
    }

    fn verify(&self, key: &VerifyingKey, msg: &[u8], sig: &[u8]) -> Result<()> {
        self.0.verify(key, msg, sig)
    }

    fn seal(&self, key: &SymmetricKey, nonce: &[u8], aad: &[u8], in_out: &mut [u8]) -> Result<[u8; TAG_LEN]> {
        self.0.aead(key.algorithm())?.seal(key, nonce, aad, in_out)
    }

    fn open(&self, key: &SymmetricKey, nonce: &[u8], aad: &[u8], in_out: &mut [u8], tag: &[u8]) -> Result<()> {
        match self.0.aead(key.algorithm()) {
            Ok(aead) => aead.open(key, nonce, aad, in_out, tag),
            Err(_) => {
                in_out.fill(0);
                Err(Error::DecryptFailed)
            }
        }
    }

    fn hkdf_sha256(&self, salt: &[u8], ikm: &[u8], info: &[u8], okm: &mut [u8]) -> Result<()> {
        self.0.hkdf_sha256(salt, ikm, info, okm)
    }

    fn x25519(&self, secret: &X25519SecretKey, public: &X25519PublicKey) -> Result<SharedSecret> {
        self.0.x25519(secret, public)
    }
}

static RUSTCRYPTO_PROVIDER: ViaProvider = ViaProvider(&citysec_rustcrypto::PROVIDER, "rustcrypto provider");
static RING_PROVIDER: ViaProvider = ViaProvider(&citysec_ring::PROVIDER, "ring provider");

/// Both backends and both providers, with their names.
#[must_use]
pub fn backends() -> [&'static dyn Backend; 4] {
    [
        &citysec_core::RustCrypto,
        &citysec_ring::Ring,
        &RUSTCRYPTO_PROVIDER,
        &RING_PROVIDER,
    ]
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
