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

use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::keys::{Prepared, SigningKey, SymmetricKey, VerifyingKey, X25519PublicKey, X25519SecretKey};
use crate::{Algorithm, Error, Result};

/// Length of every signature citysec produces (Ed25519, and ES256 as raw r||s).
pub const SIGNATURE_LEN: usize = 64;
/// Length of every AEAD tag citysec uses.
pub const TAG_LEN: usize = 16;

/// A 32-byte X25519 shared secret, zeroized on drop.
pub struct SharedSecret([u8; 32]);

impl SharedSecret {
    /// Wraps raw bytes (a provider's output).
    #[must_use]
    pub const fn new(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The raw secret.
    #[must_use]
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl Drop for SharedSecret {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl ZeroizeOnDrop for SharedSecret {}

impl Debug for SharedSecret {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("SharedSecret(..)")
    }
}

/// Signature verification for one algorithm.
pub trait SignatureVerifier: Send + Sync + Debug {
    /// The algorithm this verifier implements (`EdDSA` or `ES256`).
    fn algorithm(&self) -> Algorithm;

    /// Imports a public key of this algorithm: makes the checks that need curve
    /// arithmetic (the encoding is a point; for P-256, on the curve) and returns
    /// the provider's parsed form to keep with the key, if the provider has one
    /// ([`VerifyingKey::prepared`] reads it back). Called once per trusted key,
    /// by [`Provider::import`].
    ///
    /// # Errors
    /// [`Error::InvalidKey`] if the key is not a point of the curve.
    fn prepare(&self, key: &VerifyingKey) -> Result<Option<Prepared>>;

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

impl<S: Signer + ?Sized> Signer for Box<S> {
    fn verifying_key(&self) -> &VerifyingKey {
        (**self).verifying_key()
    }

    fn sign(&self, msg: &[u8]) -> Result<[u8; SIGNATURE_LEN]> {
        (**self).sign(msg)
    }

    fn algorithm(&self) -> Algorithm {
        (**self).algorithm()
    }

    fn kid(&self) -> Option<&[u8]> {
        (**self).kid()
    }
}

impl<S: Signer + ?Sized> Signer for &S {
    fn verifying_key(&self) -> &VerifyingKey {
        (**self).verifying_key()
    }

    fn sign(&self, msg: &[u8]) -> Result<[u8; SIGNATURE_LEN]> {
        (**self).sign(msg)
    }

    fn algorithm(&self) -> Algorithm {
        (**self).algorithm()
    }

    fn kid(&self) -> Option<&[u8]> {
        (**self).kid()
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

    /// The provider's form of `key` (its key schedule), for a key that seals or
    /// opens many messages; `seal` and `open` read it back with
    /// [`SymmetricKey::prepared`] instead of building it per call. `None` (the
    /// default): the AEAD builds nothing worth keeping.
    ///
    /// # Errors
    /// [`Error::UnsupportedAlgorithm`] for a key of another algorithm.
    fn prepare(&self, key: &SymmetricKey) -> Result<Option<Prepared>> {
        if key.algorithm() == self.algorithm() {
            Ok(None)
        } else {
            Err(Error::UnsupportedAlgorithm)
        }
    }
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

    /// The public key of `secret` (with its `kid`).
    ///
    /// # Errors
    /// [`Error::InvalidKey`] if `secret` stores a public key that is not this one.
    fn public_key(&self, secret: &X25519SecretKey) -> Result<X25519PublicKey>;
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

    /// The public key of a software key (with its `kid`), imported.
    ///
    /// # Errors
    /// [`Error::UnsupportedAlgorithm`] for an algorithm the provider lacks;
    /// [`Error::InvalidKey`] if `key` stores a public key that is not its own.
    fn public_key(&self, key: &SigningKey) -> Result<VerifyingKey>;
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

    /// Verifies `sig` over `msg` with the verifier for `key`'s algorithm, after
    /// core's checks of the signature's form
    /// ([`keys::signature_is_well_formed`](crate::keys::signature_is_well_formed)).
    ///
    /// # Errors
    /// [`Error::BadSignature`], also when the provider lacks the algorithm.
    pub fn verify(&self, key: &VerifyingKey, msg: &[u8], sig: &[u8]) -> Result<()> {
        if !crate::keys::signature_is_well_formed(key.algorithm(), sig) {
            return Err(Error::BadSignature);
        }
        self.verifier(key.algorithm())
            .map_err(|_| Error::BadSignature)?
            .verify(key, msg, sig)
    }

    /// Verifies a batch of signatures of `alg`, one result per item in order:
    /// items whose key is of another algorithm or whose signature fails core's
    /// checks of its form are refused here, the rest go to the provider's
    /// [`SignatureVerifier::verify_batch`] together.
    pub fn verify_batch(&self, alg: Algorithm, items: &[BatchItem<'_>]) -> Vec<Result<()>> {
        let Ok(verifier) = self.verifier(alg) else {
            return items.iter().map(|_| Err(Error::BadSignature)).collect();
        };
        let ok = |i: &BatchItem<'_>| i.key.algorithm() == alg && crate::keys::signature_is_well_formed(alg, i.sig);
        let passing: Vec<BatchItem<'_>> = items.iter().copied().filter(|i| ok(i)).collect();
        let mut verdicts = verifier.verify_batch(&passing).into_iter();
        items
            .iter()
            .map(|i| {
                if ok(i) {
                    verdicts.next().unwrap_or(Err(Error::BadSignature))
                } else {
                    Err(Error::BadSignature)
                }
            })
            .collect()
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

    /// `key` with the key schedule of the provider's AEAD for its algorithm
    /// attached ([`Aead::prepare`]): for a key that seals or opens many
    /// messages, such as a telemetry device key.
    ///
    /// # Errors
    /// [`Error::UnsupportedAlgorithm`] if the provider has no AEAD for it.
    pub fn prepare_aead_key(&self, key: SymmetricKey) -> Result<SymmetricKey> {
        let prepared = self.aead(key.algorithm())?.prepare(&key)?;
        Ok(key.with_prepared(prepared))
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

    /// `key`, imported: the provider's verifier for its algorithm checks it
    /// (the checks that need curve arithmetic) and attaches its parsed form, so
    /// that verification does not parse it again. Trust anchors import every key
    /// they are given.
    ///
    /// # Errors
    /// [`Error::InvalidKey`] if the key is not a point of its curve;
    /// [`Error::UnsupportedAlgorithm`] if the provider cannot verify the key's
    /// algorithm.
    pub fn import(&self, key: VerifyingKey) -> Result<VerifyingKey> {
        let prepared = self.verifier(key.algorithm())?.prepare(&key)?;
        Ok(key.with_prepared(prepared))
    }

    /// The public key of the software key `key` (with its `kid`), imported.
    ///
    /// # Errors
    /// As [`KeyProvider::public_key`]; [`Error::UnsupportedAlgorithm`] if the
    /// provider does not sign.
    pub fn public_key(&self, key: &SigningKey) -> Result<VerifyingKey> {
        self.key_provider.ok_or(Error::UnsupportedAlgorithm)?.public_key(key)
    }

    /// The public key of the X25519 secret `secret` (with its `kid`).
    ///
    /// # Errors
    /// As [`KeyAgreement::public_key`]; [`Error::UnsupportedAlgorithm`] if the
    /// provider has no X25519.
    pub fn x25519_public_key(&self, secret: &X25519SecretKey) -> Result<X25519PublicKey> {
        self.key_agreement
            .ok_or(Error::UnsupportedAlgorithm)?
            .public_key(secret)
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
