//! The crypto provider model: small capability traits, bundled into a
//! [`Provider`] value that a crypto library's crate fills in.
//!
//! A provider is a struct of `&'static dyn` references to stateless capability
//! values (one per algorithm), plus a [`KeyProvider`] that turns key material into
//! [`Signer`]s. A [`Signer`] owns its key, wherever the key lives: in memory (the
//! software providers, which parse it once when it is loaded), in a PKCS#11 token
//! or in a secure element. Nothing in this module holds secret bytes.
//!
//! Providers: `citysec-rustcrypto` (pure Rust, any target) and `citysec-ring`
//! (servers). A provider made of parts of two others is a struct literal with
//! the fields of each that are wanted:
//!
//! ```
//! # use citysec_core::provider::Provider;
//! fn with_other_aeads(base: &Provider, other: &Provider) -> Provider {
//!     Provider { name: "mixed", aeads: other.aeads, ..*base }
//! }
//! ```
//!
//! Every capability treats failure as opaque (no detail about why a signature or
//! a tag did not verify) and must not panic on any input.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::fmt::Debug;

use crate::backend::{SIGNATURE_LEN, TAG_LEN};
use crate::keys::{SigningKey, SymmetricKey, VerifyingKey, X25519PublicKey, X25519SecretKey};
use crate::{Algorithm, Error, Result, SharedSecret};

/// Signature verification for one algorithm.
pub trait SignatureVerifier: Send + Sync + Debug {
    /// The algorithm this verifier implements (`EdDSA` or `ES256`).
    fn algorithm(&self) -> Algorithm;

    /// Verifies `sig` over `msg` with `key`. Ed25519 verification is strict
    /// (RFC 8032 with canonical encodings, no small-order `R` or public key); ES256
    /// takes the 64-byte `r || s` with r and s in 1..n-1.
    ///
    /// # Errors
    /// [`Error::BadSignature`], whatever the reason (also for a key of another
    /// algorithm).
    fn verify(&self, key: &VerifyingKey, msg: &[u8], sig: &[u8]) -> Result<()>;

    /// Verifies many signatures: one result per item, in order, each as
    /// [`SignatureVerifier::verify`] would give it. The default verifies them one
    /// by one; a provider overrides it where batching is faster.
    fn verify_batch(&self, items: &[BatchItem<'_>]) -> Vec<Result<()>> {
        items.iter().map(|i| self.verify(i.key, i.msg, i.sig)).collect()
    }
}

/// One signature of a batch.
#[derive(Clone, Copy, Debug)]
pub struct BatchItem<'a> {
    /// The key to verify with.
    pub key: &'a VerifyingKey,
    /// The signed message.
    pub msg: &'a [u8],
    /// The signature.
    pub sig: &'a [u8],
}

/// A signing key, wherever it lives. The private key is never reachable through
/// this trait.
pub trait Signer: Send + Sync + Debug {
    /// The public half, with the `kid` the signer's messages carry.
    fn verifying_key(&self) -> &VerifyingKey;

    /// Signs `msg` (the whole message, not a digest), returning the 64-byte
    /// signature (raw `r || s` for ES256).
    ///
    /// # Errors
    /// [`Error::Backend`] if the key's holder fails (a token removed, a session
    /// closed); never a partial signature.
    fn sign(&self, msg: &[u8]) -> Result<[u8; SIGNATURE_LEN]>;

    /// The signature algorithm.
    fn algorithm(&self) -> Algorithm {
        self.verifying_key().algorithm()
    }

    /// The key id, if the key has one.
    fn kid(&self) -> Option<&[u8]> {
        self.verifying_key().kid()
    }
}

/// An AEAD for one algorithm (ChaCha20-Poly1305, A128GCM or A256GCM).
pub trait Aead: Send + Sync + Debug {
    /// The algorithm this AEAD implements.
    fn algorithm(&self) -> Algorithm;

    /// Encrypts `in_out` in place and returns the tag.
    ///
    /// # Errors
    /// [`Error::InvalidIv`] for a nonce that is not 12 bytes;
    /// [`Error::UnsupportedAlgorithm`] for a key of another algorithm.
    fn seal(&self, key: &SymmetricKey, nonce: &[u8], aad: &[u8], in_out: &mut [u8]) -> Result<[u8; TAG_LEN]>;

    /// Checks `tag` and decrypts `in_out` in place. On failure `in_out` holds no
    /// plaintext.
    ///
    /// # Errors
    /// [`Error::DecryptFailed`], whatever the reason (also for a key of another
    /// algorithm), and [`Error::InvalidIv`] for a nonce that is not 12 bytes.
    fn open(&self, key: &SymmetricKey, nonce: &[u8], aad: &[u8], in_out: &mut [u8], tag: &[u8]) -> Result<()>;
}

/// HKDF-SHA-256 (RFC 5869).
pub trait Hkdf: Send + Sync + Debug {
    /// Extracts with `salt` (empty means none) and expands with `info` into `okm`.
    ///
    /// # Errors
    /// [`Error::InvalidLength`] if `okm` is longer than 255 * 32 bytes.
    fn hkdf_sha256(&self, salt: &[u8], ikm: &[u8], info: &[u8], okm: &mut [u8]) -> Result<()>;
}

/// Static X25519 key agreement (RFC 7748).
pub trait KeyAgreement: Send + Sync + Debug {
    /// The shared secret of `secret` and `public`.
    ///
    /// # Errors
    /// [`Error::NonContributory`] if the result is all zero (a low-order peer key).
    fn x25519(&self, secret: &X25519SecretKey, public: &X25519PublicKey) -> Result<SharedSecret>;
}

/// Turns key material into [`Signer`]s.
pub trait KeyProvider: Send + Sync + Debug {
    /// A signer for a software key, which the signer owns from now on (the key
    /// is parsed into the provider's form once, here, not per signature).
    ///
    /// # Errors
    /// [`Error::UnsupportedAlgorithm`] if the provider cannot sign with the key's
    /// algorithm; [`Error::InvalidKey`] if it refuses the key.
    fn load_signing_key(&self, key: SigningKey) -> Result<Box<dyn Signer>>;
}

/// A crypto provider: what every citysec format is built from.
///
/// The fields are public so that a provider can be assembled from parts of
/// others; [`Provider::verifier`] and [`Provider::aead`] look an algorithm up.
#[derive(Clone, Copy, Debug)]
pub struct Provider {
    /// A short name for logs and benchmarks, e.g. `"ring"`.
    pub name: &'static str,
    /// Signature verification, one entry per algorithm.
    pub signature_verifiers: &'static [&'static dyn SignatureVerifier],
    /// AEADs, one entry per algorithm.
    pub aeads: &'static [&'static dyn Aead],
    /// HKDF-SHA-256, if the provider has it (a verify-only provider has not).
    pub hkdf: Option<&'static dyn Hkdf>,
    /// X25519, if the provider has it.
    pub key_agreement: Option<&'static dyn KeyAgreement>,
    /// Signers from key material, if the provider signs (a verify-only provider
    /// does not).
    pub key_provider: Option<&'static dyn KeyProvider>,
}

impl Provider {
    /// The verifier for `alg`.
    ///
    /// # Errors
    /// [`Error::UnsupportedAlgorithm`] if the provider has none.
    pub fn verifier(&self, alg: Algorithm) -> Result<&'static dyn SignatureVerifier> {
        self.signature_verifiers
            .iter()
            .copied()
            .find(|v| v.algorithm() == alg)
            .ok_or(Error::UnsupportedAlgorithm)
    }

    /// The AEAD for `alg`.
    ///
    /// # Errors
    /// [`Error::UnsupportedAlgorithm`] if the provider has none.
    pub fn aead(&self, alg: Algorithm) -> Result<&'static dyn Aead> {
        self.aeads
            .iter()
            .copied()
            .find(|a| a.algorithm() == alg)
            .ok_or(Error::UnsupportedAlgorithm)
    }

    /// Verifies `sig` over `msg` with the verifier for `key`'s algorithm.
    ///
    /// # Errors
    /// [`Error::BadSignature`], also when the provider lacks the algorithm.
    pub fn verify(&self, key: &VerifyingKey, msg: &[u8], sig: &[u8]) -> Result<()> {
        self.verifier(key.algorithm())
            .map_err(|_| Error::BadSignature)?
            .verify(key, msg, sig)
    }

    /// Seals `in_out` with the AEAD for `key`'s algorithm.
    ///
    /// # Errors
    /// [`Error::UnsupportedAlgorithm`] if the provider has no such AEAD; as
    /// [`Aead::seal`].
    pub fn seal(&self, key: &SymmetricKey, nonce: &[u8], aad: &[u8], in_out: &mut [u8]) -> Result<[u8; TAG_LEN]> {
        self.aead(key.algorithm())?.seal(key, nonce, aad, in_out)
    }

    /// Opens `in_out` with the AEAD for `key`'s algorithm. On failure `in_out`
    /// holds no plaintext.
    ///
    /// # Errors
    /// [`Error::DecryptFailed`], also when the provider has no such AEAD; as
    /// [`Aead::open`].
    pub fn open(&self, key: &SymmetricKey, nonce: &[u8], aad: &[u8], in_out: &mut [u8], tag: &[u8]) -> Result<()> {
        match self.aead(key.algorithm()) {
            Ok(aead) => aead.open(key, nonce, aad, in_out, tag),
            Err(_) => {
                in_out.fill(0);
                Err(Error::DecryptFailed)
            }
        }
    }

    /// A signer owning the software key `key` (parsed once, here), from the
    /// provider's [`KeyProvider`].
    ///
    /// # Errors
    /// As [`KeyProvider::load_signing_key`]; [`Error::UnsupportedAlgorithm`] if
    /// the provider does not sign.
    pub fn signer(&self, key: SigningKey) -> Result<Box<dyn Signer>> {
        self.key_provider
            .ok_or(Error::UnsupportedAlgorithm)?
            .load_signing_key(key)
    }

    /// HKDF-SHA-256 with the provider's HKDF.
    ///
    /// # Errors
    /// [`Error::UnsupportedAlgorithm`] if the provider has none; as
    /// [`Hkdf::hkdf_sha256`].
    pub fn hkdf_sha256(&self, salt: &[u8], ikm: &[u8], info: &[u8], okm: &mut [u8]) -> Result<()> {
        self.hkdf
            .ok_or(Error::UnsupportedAlgorithm)?
            .hkdf_sha256(salt, ikm, info, okm)
    }

    /// X25519 with the provider's key agreement.
    ///
    /// # Errors
    /// [`Error::UnsupportedAlgorithm`] if the provider has none; as
    /// [`KeyAgreement::x25519`].
    pub fn x25519(&self, secret: &X25519SecretKey, public: &X25519PublicKey) -> Result<SharedSecret> {
        self.key_agreement
            .ok_or(Error::UnsupportedAlgorithm)?
            .x25519(secret, public)
    }
}

/// A capability that calls a [`Backend`](crate::Backend) for one algorithm: how a
/// provider reaches primitives that still live behind the `Backend` trait (the
/// next steps of the provider model move them into the provider crates).
///
/// For [`Hkdf`] and [`KeyAgreement`] the algorithm is not used.
#[derive(Debug)]
pub struct BackendBridge<B>(pub Algorithm, pub B);

impl<B: crate::Backend> SignatureVerifier for BackendBridge<B> {
    fn algorithm(&self) -> Algorithm {
        self.0
    }

    fn verify(&self, key: &VerifyingKey, msg: &[u8], sig: &[u8]) -> Result<()> {
        if key.algorithm() != self.0 {
            return Err(Error::BadSignature);
        }
        self.1.verify(key, msg, sig)
    }
}

impl<B: crate::Backend> Aead for BackendBridge<B> {
    fn algorithm(&self) -> Algorithm {
        self.0
    }

    fn seal(&self, key: &SymmetricKey, nonce: &[u8], aad: &[u8], in_out: &mut [u8]) -> Result<[u8; TAG_LEN]> {
        if key.algorithm() != self.0 {
            return Err(Error::UnsupportedAlgorithm);
        }
        self.1.seal(key, nonce, aad, in_out)
    }

    fn open(&self, key: &SymmetricKey, nonce: &[u8], aad: &[u8], in_out: &mut [u8], tag: &[u8]) -> Result<()> {
        if key.algorithm() != self.0 {
            in_out.fill(0);
            return Err(Error::DecryptFailed);
        }
        self.1.open(key, nonce, aad, in_out, tag)
    }
}

impl<B: crate::Backend> Hkdf for BackendBridge<B> {
    fn hkdf_sha256(&self, salt: &[u8], ikm: &[u8], info: &[u8], okm: &mut [u8]) -> Result<()> {
        self.1.hkdf_sha256(salt, ikm, info, okm)
    }
}

impl<B: crate::Backend> KeyAgreement for BackendBridge<B> {
    fn x25519(&self, secret: &X25519SecretKey, public: &X25519PublicKey) -> Result<SharedSecret> {
        self.1.x25519(secret, public)
    }
}

/// A [`Signer`] that signs with a borrowed in-memory key through a
/// [`Backend`](crate::Backend): the signing counterpart of [`BackendBridge`],
/// for code that still holds a `Backend` and a [`SigningKey`] (the differential
/// tests use it to cover every backend's `sign`). A provider's
/// [`Provider::signer`] is the way to sign otherwise.
pub struct BackendSigner<'a> {
    backend: &'a dyn crate::Backend,
    key: &'a SigningKey,
    public: VerifyingKey,
}

impl<'a> BackendSigner<'a> {
    /// Signs with `key` through `backend`.
    #[must_use]
    pub fn new(backend: &'a dyn crate::Backend, key: &'a SigningKey) -> Self {
        Self {
            backend,
            key,
            public: key.verifying_key(),
        }
    }
}

impl Debug for BackendSigner<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("BackendSigner")
            .field("backend", &self.backend.name())
            .field("key", &self.public)
            .finish()
    }
}

impl Signer for BackendSigner<'_> {
    fn verifying_key(&self) -> &VerifyingKey {
        &self.public
    }

    fn sign(&self, msg: &[u8]) -> Result<[u8; SIGNATURE_LEN]> {
        self.backend.sign(self.key, msg)
    }
}

/// What checks a signature: a [`Provider`] (by the verifier for the key's
/// algorithm) or a [`Backend`](crate::Backend). The COSE verification functions
/// take either; a type that holds a bound provider passes it.
pub trait VerifySignature {
    /// Verifies `sig` over `msg` with `key`.
    ///
    /// # Errors
    /// [`Error::BadSignature`], whatever the reason.
    fn verify_signature(&self, key: &VerifyingKey, msg: &[u8], sig: &[u8]) -> Result<()>;
}

impl VerifySignature for Provider {
    fn verify_signature(&self, key: &VerifyingKey, msg: &[u8], sig: &[u8]) -> Result<()> {
        self.verify(key, msg, sig)
    }
}

impl<B: crate::Backend + ?Sized> VerifySignature for B {
    fn verify_signature(&self, key: &VerifyingKey, msg: &[u8], sig: &[u8]) -> Result<()> {
        self.verify(key, msg, sig)
    }
}
