//! Key types: Ed25519 and P-256 signing and verifying keys, AEAD keys and X25519
//! keys, with COSE_Key (RFC 9052 section 7) encoding and decoding.
//!
//! Secret keys are zeroized on drop, are not `Clone` or `Copy`, and their `Debug`
//! output never shows key bytes. Public keys are validated when they are made:
//! small-order (weak) Ed25519 keys, P-256 points off the curve and all-zero X25519
//! secrets are refused there, so no later operation sees them.

use alloc::vec::Vec;
use core::fmt;
use core::sync::atomic::{AtomicU8, Ordering};

use coset::iana;
use coset::{AsCborValue, CborSerializable, CoseKey, KeyType, Label};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::cbor::{Tags, check_well_formed};
use crate::{Algorithm, Error, Limits, Result};

/// Length of an AEAD nonce (all three AEADs use 96 bits).
pub const NONCE_LEN: usize = 12;

/// COSE_Key labels used here (RFC 9052 section 7, RFC 9053 section 7).
const CRV: i64 = -1;
const X: i64 = -2;
const Y: i64 = -3;
const D: i64 = -4;
const K: i64 = -1;
const CRV_P256: i64 = 1;
const CRV_X25519: i64 = 4;
const CRV_ED25519: i64 = 6;

/// A source of cryptographically secure random bytes, supplied by the caller.
///
/// Core crates never reach for a global RNG: firmware passes its TRNG, servers pass
/// the operating system's (citysec-std has one).
pub trait RandomSource {
    /// Fills `buf` with random bytes.
    ///
    /// # Errors
    /// Whatever the source reports; key generation then fails.
    fn fill(&mut self, buf: &mut [u8]) -> Result<()>;
}

/// Compares two optional key ids.
fn kid_debug(kid: Option<&[u8]>) -> KidDebug<'_> {
    KidDebug(kid)
}

struct KidDebug<'a>(Option<&'a [u8]>);

impl fmt::Debug for KidDebug<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            None => f.write_str("None"),
            Some(k) => {
                f.write_str("h'")?;
                for b in k {
                    write!(f, "{b:02x}")?;
                }
                f.write_str("'")
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Public keys

/// A P-256 public key, validated, kept as the uncompressed SEC1 point.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct P256Public {
    pub(crate) sec1: [u8; 65],
    #[cfg(feature = "p256")]
    pub(crate) parsed: p256::ecdsa::VerifyingKey,
}

#[derive(Clone, PartialEq, Eq)]
pub(crate) enum PublicInner {
    Ed25519(ed25519_dalek::VerifyingKey),
    P256(P256Public),
}

/// A public signature key (Ed25519 or P-256) with an optional `kid`.
pub struct VerifyingKey {
    kid: Option<Vec<u8>>,
    pub(crate) inner: PublicInner,
    /// Whether an Ed25519 key lies in the prime-order subgroup: 0 not computed yet,
    /// 1 yes, 2 no. Computed on first use by batch verification (a scalar
    /// multiplication, as costly as a verification), then kept.
    torsion: AtomicU8,
}

impl Clone for VerifyingKey {
    fn clone(&self) -> Self {
        Self {
            kid: self.kid.clone(),
            inner: self.inner.clone(),
            torsion: AtomicU8::new(self.torsion.load(Ordering::Relaxed)),
        }
    }
}

impl PartialEq for VerifyingKey {
    fn eq(&self, other: &Self) -> bool {
        self.kid == other.kid && self.inner == other.inner
    }
}

impl Eq for VerifyingKey {}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("alg", &self.algorithm())
            .field("kid", &kid_debug(self.kid()))
            .finish_non_exhaustive()
    }
}

impl VerifyingKey {
    /// An Ed25519 public key from its 32-byte encoding.
    ///
    /// # Errors
    /// [`Error::InvalidKey`] if the bytes are not a point; [`Error::WeakKey`] if the
    /// point has small order (as `verify_strict` would refuse it).
    pub fn ed25519(bytes: &[u8; 32]) -> Result<Self> {
        let key = ed25519_dalek::VerifyingKey::from_bytes(bytes).map_err(|_| Error::InvalidKey)?;
        if key.is_weak() {
            return Err(Error::WeakKey);
        }
        Ok(Self::from_inner(PublicInner::Ed25519(key)))
    }

    /// A P-256 public key from its affine coordinates.
    ///
    /// # Errors
    /// [`Error::InvalidKey`] if the point is not on the curve;
    /// [`Error::UnsupportedAlgorithm`] without the `p256` feature.
    pub fn p256(x: &[u8; 32], y: &[u8; 32]) -> Result<Self> {
        let mut sec1 = [0u8; 65];
        sec1[0] = 4;
        sec1[1..33].copy_from_slice(x);
        sec1[33..].copy_from_slice(y);
        Self::p256_sec1(sec1)
    }

    #[cfg(feature = "p256")]
    fn p256_sec1(sec1: [u8; 65]) -> Result<Self> {
        let parsed = p256::ecdsa::VerifyingKey::from_sec1_bytes(&sec1).map_err(|_| Error::InvalidKey)?;
        Ok(Self::from_inner(PublicInner::P256(P256Public { sec1, parsed })))
    }

    #[cfg(not(feature = "p256"))]
    fn p256_sec1(_sec1: [u8; 65]) -> Result<Self> {
        Err(Error::UnsupportedAlgorithm)
    }

    pub(crate) const fn from_inner(inner: PublicInner) -> Self {
        Self {
            kid: None,
            inner,
            torsion: AtomicU8::new(0),
        }
    }

    /// Whether this is an Ed25519 key in the prime-order subgroup (every honestly
    /// generated key is). Strict single verification does not need it; batch
    /// verification does, to accept exactly what single verification accepts. The
    /// first call costs a scalar multiplication; the answer is kept.
    #[must_use]
    pub fn is_torsion_free(&self) -> bool {
        match self.torsion.load(Ordering::Relaxed) {
            1 => true,
            2 => false,
            _ => {
                let free = match &self.inner {
                    PublicInner::Ed25519(k) => crate::backend::ed25519_point_is_torsion_free(&k.to_edwards()),
                    PublicInner::P256(_) => false,
                };
                self.torsion.store(if free { 1 } else { 2 }, Ordering::Relaxed);
                free
            }
        }
    }

    /// This key with a `kid`.
    #[must_use]
    pub fn with_kid(mut self, kid: impl Into<Vec<u8>>) -> Self {
        self.kid = Some(kid.into());
        self
    }

    /// The key id, if any.
    #[must_use]
    pub fn kid(&self) -> Option<&[u8]> {
        self.kid.as_deref()
    }

    /// The signature algorithm this key is for.
    #[must_use]
    pub const fn algorithm(&self) -> Algorithm {
        match self.inner {
            PublicInner::Ed25519(_) => Algorithm::EdDSA,
            PublicInner::P256(_) => Algorithm::ES256,
        }
    }

    /// The raw public key: 32 bytes for Ed25519, the 65-byte uncompressed point for P-256.
    #[must_use]
    pub fn to_bytes(&self) -> Vec<u8> {
        self.as_bytes().to_vec()
    }

    /// The raw public key, borrowed: 32 bytes for Ed25519, the 65-byte uncompressed
    /// SEC1 point for P-256.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        match &self.inner {
            PublicInner::Ed25519(k) => k.as_bytes(),
            PublicInner::P256(p) => &p.sec1,
        }
    }

    fn to_cose(&self) -> CoseKey {
        let mut key = match &self.inner {
            PublicInner::Ed25519(k) => okp(CRV_ED25519, k.as_bytes(), None),
            PublicInner::P256(p) => ec2(&p.sec1, None),
        };
        key.alg = Some(self.algorithm().to_cose());
        key.key_id = self.kid.clone().unwrap_or_default();
        key
    }
}

// ---------------------------------------------------------------------------
// Signing keys

pub(crate) enum SigningInner {
    Ed25519(ed25519_dalek::SigningKey),
    #[cfg_attr(not(feature = "p256"), expect(dead_code, reason = "only made with the p256 feature"))]
    P256 {
        d: Zeroizing<[u8; 32]>,
        public: P256Public,
    },
}

/// A private signature key (Ed25519 or P-256) with an optional `kid`.
///
/// Zeroized on drop; `Debug` shows the algorithm and kid only.
pub struct SigningKey {
    kid: Option<Vec<u8>>,
    pub(crate) inner: SigningInner,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("alg", &self.algorithm())
            .field("kid", &kid_debug(self.kid()))
            .finish_non_exhaustive()
    }
}

// The dalek key and the `Zeroizing` scalar wipe themselves on drop.
impl ZeroizeOnDrop for SigningKey {}

impl SigningKey {
    /// An Ed25519 signing key from its 32-byte seed.
    #[must_use]
    pub fn ed25519(seed: &[u8; 32]) -> Self {
        Self {
            kid: None,
            inner: SigningInner::Ed25519(ed25519_dalek::SigningKey::from_bytes(seed)),
        }
    }

    /// A P-256 signing key from its 32-byte big-endian scalar.
    ///
    /// # Errors
    /// [`Error::InvalidKey`] if the scalar is zero or not below the group order;
    /// [`Error::UnsupportedAlgorithm`] without the `p256` feature.
    #[cfg(feature = "p256")]
    pub fn p256(d: &[u8; 32]) -> Result<Self> {
        let sk = p256::ecdsa::SigningKey::from_slice(d).map_err(|_| Error::InvalidKey)?;
        let point = sk.verifying_key().to_sec1_point(false);
        let mut sec1 = [0u8; 65];
        if point.as_bytes().len() != 65 {
            return Err(Error::InvalidKey);
        }
        sec1.copy_from_slice(point.as_bytes());
        Ok(Self {
            kid: None,
            inner: SigningInner::P256 {
                d: Zeroizing::new(*d),
                public: P256Public {
                    sec1,
                    parsed: *sk.verifying_key(),
                },
            },
        })
    }

    /// A P-256 signing key from its 32-byte big-endian scalar.
    ///
    /// # Errors
    /// [`Error::UnsupportedAlgorithm`]: the `p256` feature is off.
    #[cfg(not(feature = "p256"))]
    pub fn p256(_d: &[u8; 32]) -> Result<Self> {
        Err(Error::UnsupportedAlgorithm)
    }

    /// Generates a key for `alg` (EdDSA or ES256) from `rng`.
    ///
    /// # Errors
    /// [`Error::UnsupportedAlgorithm`] for other algorithms; errors of `rng`.
    pub fn generate(alg: Algorithm, rng: &mut dyn RandomSource) -> Result<Self> {
        let mut seed = Zeroizing::new([0u8; 32]);
        match alg {
            Algorithm::EdDSA => {
                rng.fill(seed.as_mut())?;
                Ok(Self::ed25519(&seed))
            }
            Algorithm::ES256 => {
                // A uniformly random 256-bit string is a valid scalar with
                // overwhelming probability; retry the rare ones that are not.
                for _ in 0..16 {
                    rng.fill(seed.as_mut())?;
                    match Self::p256(&seed) {
                        Err(Error::InvalidKey) => {}
                        other => return other,
                    }
                }
                Err(Error::Backend)
            }
            _ => Err(Error::UnsupportedAlgorithm),
        }
    }

    /// This key with a `kid`.
    #[must_use]
    pub fn with_kid(mut self, kid: impl Into<Vec<u8>>) -> Self {
        self.kid = Some(kid.into());
        self
    }

    /// The key id, if any.
    #[must_use]
    pub fn kid(&self) -> Option<&[u8]> {
        self.kid.as_deref()
    }

    /// The signature algorithm this key is for.
    #[must_use]
    pub const fn algorithm(&self) -> Algorithm {
        match self.inner {
            SigningInner::Ed25519(_) => Algorithm::EdDSA,
            SigningInner::P256 { .. } => Algorithm::ES256,
        }
    }

    /// The matching public key, with the same `kid`.
    #[must_use]
    pub fn verifying_key(&self) -> VerifyingKey {
        let inner = match &self.inner {
            SigningInner::Ed25519(k) => PublicInner::Ed25519(k.verifying_key()),
            SigningInner::P256 { public, .. } => PublicInner::P256(public.clone()),
        };
        VerifyingKey {
            kid: self.kid.clone(),
            inner,
            // A key derived from its secret is torsion-free by construction.
            torsion: AtomicU8::new(1),
        }
    }

    /// The raw secret: the Ed25519 seed or the P-256 scalar. Only with the
    /// `hazmat` feature (key-file export and crypto providers use it).
    #[cfg(feature = "hazmat")]
    #[cfg_attr(docsrs, doc(cfg(feature = "hazmat")))]
    #[must_use]
    pub fn secret_bytes(&self) -> Zeroizing<[u8; 32]> {
        self.secret()
    }

    pub(crate) fn secret(&self) -> Zeroizing<[u8; 32]> {
        match &self.inner {
            SigningInner::Ed25519(k) => Zeroizing::new(k.to_bytes()),
            SigningInner::P256 { d, .. } => Zeroizing::new(**d),
        }
    }

    fn to_cose(&self) -> CoseKey {
        let secret = self.secret();
        let mut key = match &self.inner {
            SigningInner::Ed25519(k) => okp(CRV_ED25519, k.verifying_key().as_bytes(), Some(&secret[..])),
            SigningInner::P256 { public, .. } => ec2(&public.sec1, Some(&secret[..])),
        };
        key.alg = Some(self.algorithm().to_cose());
        key.key_id = self.kid.clone().unwrap_or_default();
        key
    }
}

// ---------------------------------------------------------------------------
// Symmetric keys

/// A content-encryption key for ChaCha20/Poly1305 or AES-GCM, bound to its algorithm.
///
/// Zeroized on drop; `Debug` shows the algorithm and kid only.
pub struct SymmetricKey {
    kid: Option<Vec<u8>>,
    alg: Algorithm,
    key: Zeroizing<[u8; 32]>,
    len: usize,
    base_iv: Option<[u8; NONCE_LEN]>,
}

impl fmt::Debug for SymmetricKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SymmetricKey")
            .field("alg", &self.alg)
            .field("kid", &kid_debug(self.kid()))
            .finish_non_exhaustive()
    }
}

impl ZeroizeOnDrop for SymmetricKey {}

impl Clone for SymmetricKey {
    fn clone(&self) -> Self {
        Self {
            kid: self.kid.clone(),
            alg: self.alg,
            key: self.key.clone(),
            len: self.len,
            base_iv: self.base_iv,
        }
    }
}

impl Drop for SymmetricKey {
    fn drop(&mut self) {
        if let Some(iv) = self.base_iv.as_mut() {
            iv.zeroize();
        }
    }
}

impl SymmetricKey {
    /// A key for the AEAD `alg` from its raw bytes.
    ///
    /// # Errors
    /// [`Error::UnsupportedAlgorithm`] if `alg` is not an AEAD;
    /// [`Error::InvalidKey`] if the length does not fit `alg`.
    pub fn new(alg: Algorithm, bytes: &[u8]) -> Result<Self> {
        let len = alg.aead_key_len().ok_or(Error::UnsupportedAlgorithm)?;
        if bytes.len() != len {
            return Err(Error::InvalidKey);
        }
        let mut key = Zeroizing::new([0u8; 32]);
        key.get_mut(..len).ok_or(Error::InvalidKey)?.copy_from_slice(bytes);
        Ok(Self {
            kid: None,
            alg,
            key,
            len,
            base_iv: None,
        })
    }

    /// Generates a key for the AEAD `alg` from `rng`.
    ///
    /// # Errors
    /// As [`SymmetricKey::new`]; errors of `rng`.
    pub fn generate(alg: Algorithm, rng: &mut dyn RandomSource) -> Result<Self> {
        let len = alg.aead_key_len().ok_or(Error::UnsupportedAlgorithm)?;
        let mut buf = Zeroizing::new([0u8; 32]);
        let slice = buf.get_mut(..len).ok_or(Error::InvalidKey)?;
        rng.fill(slice)?;
        Self::new(alg, slice)
    }

    /// This key with a `kid`.
    #[must_use]
    pub fn with_kid(mut self, kid: impl Into<Vec<u8>>) -> Self {
        self.kid = Some(kid.into());
        self
    }

    /// This key with a Base IV (COSE_Key label 5) for Partial IV messages.
    #[must_use]
    pub fn with_base_iv(mut self, base_iv: [u8; NONCE_LEN]) -> Self {
        self.base_iv = Some(base_iv);
        self
    }

    /// The key id, if any.
    #[must_use]
    pub fn kid(&self) -> Option<&[u8]> {
        self.kid.as_deref()
    }

    /// The AEAD this key is for.
    #[must_use]
    pub const fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// The Base IV, if any.
    #[must_use]
    pub const fn base_iv(&self) -> Option<&[u8; NONCE_LEN]> {
        self.base_iv.as_ref()
    }

    /// The raw key bytes. Handle with care: this is the secret itself. Only with
    /// the `hazmat` feature (key-file export and crypto providers use it).
    #[cfg(feature = "hazmat")]
    #[cfg_attr(docsrs, doc(cfg(feature = "hazmat")))]
    #[must_use]
    pub fn secret_bytes(&self) -> &[u8] {
        self.secret()
    }

    pub(crate) fn secret(&self) -> &[u8] {
        self.key.get(..self.len).unwrap_or_default()
    }

    /// This key without its `kid`.
    #[must_use]
    pub fn without_kid(mut self) -> Self {
        self.kid = None;
        self
    }

    fn to_cose(&self) -> CoseKey {
        let mut key = CoseKey {
            kty: KeyType::Assigned(iana::KeyType::Symmetric),
            ..CoseKey::default()
        };
        key.params
            .push((Label::Int(K), coset::cbor::Value::Bytes(self.secret().to_vec())));
        key.alg = Some(self.alg.to_cose());
        key.key_id = self.kid.clone().unwrap_or_default();
        if let Some(iv) = self.base_iv {
            key.base_iv = iv.to_vec();
        }
        key
    }
}

impl ConstantTimeEq for SymmetricKey {
    fn ct_eq(&self, other: &Self) -> subtle::Choice {
        let same_shape = subtle::Choice::from(u8::from(self.alg == other.alg && self.len == other.len));
        same_shape & self.key[..].ct_eq(&other.key[..])
    }
}

// ---------------------------------------------------------------------------
// X25519

/// A static X25519 private key. Zeroized on drop; `Debug` shows the kid only.
pub struct X25519SecretKey {
    kid: Option<Vec<u8>>,
    secret: Zeroizing<[u8; 32]>,
    public: [u8; 32],
}

impl fmt::Debug for X25519SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("X25519SecretKey")
            .field("kid", &kid_debug(self.kid()))
            .finish_non_exhaustive()
    }
}

impl ZeroizeOnDrop for X25519SecretKey {}

impl X25519SecretKey {
    /// A static secret from its 32 bytes.
    ///
    /// # Errors
    /// [`Error::WeakKey`] for the all-zero secret; [`Error::UnsupportedAlgorithm`]
    /// without the `x25519` feature.
    pub fn new(bytes: &[u8; 32]) -> Result<Self> {
        if bool::from(bytes.ct_eq(&[0u8; 32])) {
            return Err(Error::WeakKey);
        }
        let public = x25519_public(bytes)?;
        Ok(Self {
            kid: None,
            secret: Zeroizing::new(*bytes),
            public,
        })
    }

    /// Generates a secret from `rng`.
    ///
    /// # Errors
    /// As [`X25519SecretKey::new`]; errors of `rng`.
    pub fn generate(rng: &mut dyn RandomSource) -> Result<Self> {
        let mut buf = Zeroizing::new([0u8; 32]);
        rng.fill(buf.as_mut())?;
        Self::new(&buf)
    }

    /// This key with a `kid`.
    #[must_use]
    pub fn with_kid(mut self, kid: impl Into<Vec<u8>>) -> Self {
        self.kid = Some(kid.into());
        self
    }

    /// The key id, if any.
    #[must_use]
    pub fn kid(&self) -> Option<&[u8]> {
        self.kid.as_deref()
    }

    /// The matching public key, with the same `kid`.
    #[must_use]
    pub fn public_key(&self) -> X25519PublicKey {
        X25519PublicKey {
            kid: self.kid.clone(),
            bytes: self.public,
        }
    }

    /// The raw secret. Handle with care. Only with the `hazmat` feature (key-file
    /// export and crypto providers use it).
    #[cfg(feature = "hazmat")]
    #[cfg_attr(docsrs, doc(cfg(feature = "hazmat")))]
    #[must_use]
    pub fn secret_bytes(&self) -> &[u8; 32] {
        &self.secret
    }

    #[cfg_attr(
        not(feature = "x25519"),
        expect(dead_code, reason = "only X25519 agreement reads the secret")
    )]
    pub(crate) fn secret_ref(&self) -> &[u8; 32] {
        &self.secret
    }

    fn to_cose(&self) -> CoseKey {
        let mut key = okp(CRV_X25519, &self.public, Some(&self.secret[..]));
        key.key_id = self.kid.clone().unwrap_or_default();
        key
    }
}

#[cfg(feature = "x25519")]
fn x25519_public(secret: &[u8; 32]) -> Result<[u8; 32]> {
    let s = x25519_dalek::StaticSecret::from(*secret);
    Ok(x25519_dalek::PublicKey::from(&s).to_bytes())
}

#[cfg(not(feature = "x25519"))]
fn x25519_public(_secret: &[u8; 32]) -> Result<[u8; 32]> {
    Err(Error::UnsupportedAlgorithm)
}

/// A static X25519 public key.
#[derive(Clone, PartialEq, Eq)]
pub struct X25519PublicKey {
    kid: Option<Vec<u8>>,
    bytes: [u8; 32],
}

impl fmt::Debug for X25519PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("X25519PublicKey")
            .field("kid", &kid_debug(self.kid()))
            .finish_non_exhaustive()
    }
}

impl X25519PublicKey {
    /// A public key from its 32 bytes. Low-order points are caught at agreement time
    /// (the shared secret would be all zero).
    #[must_use]
    pub const fn new(bytes: [u8; 32]) -> Self {
        Self { kid: None, bytes }
    }

    /// This key with a `kid`.
    #[must_use]
    pub fn with_kid(mut self, kid: impl Into<Vec<u8>>) -> Self {
        self.kid = Some(kid.into());
        self
    }

    /// The key id, if any.
    #[must_use]
    pub fn kid(&self) -> Option<&[u8]> {
        self.kid.as_deref()
    }

    /// The raw public key.
    #[must_use]
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.bytes
    }

    fn to_cose(&self) -> CoseKey {
        let mut key = okp(CRV_X25519, &self.bytes, None);
        key.key_id = self.kid.clone().unwrap_or_default();
        key
    }
}

// ---------------------------------------------------------------------------
// COSE_Key

/// Any key citysec reads from or writes to a COSE_Key.
#[derive(Debug)]
#[non_exhaustive]
pub enum Key {
    /// An Ed25519 or P-256 private key.
    Signing(SigningKey),
    /// An Ed25519 or P-256 public key.
    Verifying(VerifyingKey),
    /// A ChaCha20/Poly1305 or AES-GCM key.
    Symmetric(SymmetricKey),
    /// A static X25519 private key.
    X25519Secret(X25519SecretKey),
    /// An X25519 public key.
    X25519Public(X25519PublicKey),
}

impl From<SigningKey> for Key {
    fn from(k: SigningKey) -> Self {
        Self::Signing(k)
    }
}
impl From<VerifyingKey> for Key {
    fn from(k: VerifyingKey) -> Self {
        Self::Verifying(k)
    }
}
impl From<SymmetricKey> for Key {
    fn from(k: SymmetricKey) -> Self {
        Self::Symmetric(k)
    }
}
impl From<X25519SecretKey> for Key {
    fn from(k: X25519SecretKey) -> Self {
        Self::X25519Secret(k)
    }
}
impl From<X25519PublicKey> for Key {
    fn from(k: X25519PublicKey) -> Self {
        Self::X25519Public(k)
    }
}

impl Key {
    /// Decodes a COSE_Key (untagged CBOR map).
    ///
    /// Accepted: OKP Ed25519 (alg EdDSA or none) and X25519, EC2 P-256 with both
    /// coordinates (alg ES256 or none), Symmetric with an AEAD `alg` (required: the
    /// length alone does not say which AEAD). A private key's public part, when
    /// present, must match the secret.
    ///
    /// # Errors
    /// The well-formedness errors of [`check_well_formed`];
    /// [`Error::InvalidKey`] for a key of the wrong shape; [`Error::KeyAlgMismatch`] if
    /// `alg` does not fit the key type; [`Error::WeakKey`] for small-order Ed25519 keys
    /// and all-zero X25519 secrets; [`Error::UnsupportedAlgorithm`] for key types
    /// citysec does not implement.
    pub fn from_cose_key(bytes: &[u8], limits: &Limits) -> Result<Self> {
        check_well_formed(bytes, limits, Tags::Forbid)?;
        let value = crate::cbor::to_value(bytes).map_err(|_| Error::InvalidKey)?;
        let key = CoseKey::from_cbor_value(value).map_err(|_| Error::InvalidKey)?;
        Self::from_coset(&key)
    }

    /// Converts a parsed coset [`CoseKey`].
    ///
    /// # Errors
    /// As [`Key::from_cose_key`].
    pub fn from_coset(key: &CoseKey) -> Result<Self> {
        let kid = if key.key_id.is_empty() {
            None
        } else {
            Some(key.key_id.clone())
        };
        let alg = match &key.alg {
            None => None,
            Some(a) => Some(Algorithm::from_cose(a).ok_or(Error::UnsupportedAlgorithm)?),
        };
        let mut out = match key.kty {
            KeyType::Assigned(iana::KeyType::OKP) => decode_okp(key, alg)?,
            KeyType::Assigned(iana::KeyType::EC2) => decode_ec2(key, alg)?,
            KeyType::Assigned(iana::KeyType::Symmetric) => decode_symmetric(key, alg)?,
            _ => return Err(Error::UnsupportedAlgorithm),
        };
        if let Some(kid) = kid {
            out = out.with_kid(kid);
        }
        Ok(out)
    }

    /// Encodes this key as a COSE_Key. Private keys come back in a buffer that is
    /// wiped on drop, and only with the `hazmat` feature (key-file export in
    /// citysec-std turns it on): without it, secret material is not exported.
    ///
    /// # Errors
    /// [`Error::SecretExport`] for a private or symmetric key without `hazmat`;
    /// [`Error::Malformed`] if coset fails to encode (it does not for these keys).
    pub fn to_cose_key(&self) -> Result<Zeroizing<Vec<u8>>> {
        if self.is_secret() && !cfg!(feature = "hazmat") {
            return Err(Error::SecretExport);
        }
        let key = match self {
            Self::Signing(k) => k.to_cose(),
            Self::Verifying(k) => k.to_cose(),
            Self::Symmetric(k) => k.to_cose(),
            Self::X25519Secret(k) => k.to_cose(),
            Self::X25519Public(k) => k.to_cose(),
        };
        let mut key = key;
        key.canonicalize(coset::CborOrdering::LengthFirstLexicographic);
        let out = key.clone().to_vec().map_err(|_| Error::Malformed);
        wipe_cose_key(&mut key);
        out.map(Zeroizing::new)
    }

    /// The public half of this key, if it has one (`None` for symmetric keys).
    #[must_use]
    pub fn public(&self) -> Option<Self> {
        match self {
            Self::Signing(k) => Some(Self::Verifying(k.verifying_key())),
            Self::Verifying(k) => Some(Self::Verifying(k.clone())),
            Self::X25519Secret(k) => Some(Self::X25519Public(k.public_key())),
            Self::X25519Public(k) => Some(Self::X25519Public(k.clone())),
            Self::Symmetric(_) => None,
        }
    }

    /// Whether this key holds secret material.
    #[must_use]
    pub const fn is_secret(&self) -> bool {
        matches!(self, Self::Signing(_) | Self::Symmetric(_) | Self::X25519Secret(_))
    }

    /// The algorithm this key is for.
    #[must_use]
    pub const fn algorithm(&self) -> Algorithm {
        match self {
            Self::Signing(k) => k.algorithm(),
            Self::Verifying(k) => k.algorithm(),
            Self::Symmetric(k) => k.algorithm(),
            Self::X25519Secret(_) | Self::X25519Public(_) => Algorithm::EcdhEsHkdf256,
        }
    }

    /// The key id, if any.
    #[must_use]
    pub fn kid(&self) -> Option<&[u8]> {
        match self {
            Self::Signing(k) => k.kid(),
            Self::Verifying(k) => k.kid(),
            Self::Symmetric(k) => k.kid(),
            Self::X25519Secret(k) => k.kid(),
            Self::X25519Public(k) => k.kid(),
        }
    }

    /// This key with a `kid`.
    #[must_use]
    pub fn with_kid(self, kid: impl Into<Vec<u8>>) -> Self {
        match self {
            Self::Signing(k) => Self::Signing(k.with_kid(kid)),
            Self::Verifying(k) => Self::Verifying(k.with_kid(kid)),
            Self::Symmetric(k) => Self::Symmetric(k.with_kid(kid)),
            Self::X25519Secret(k) => Self::X25519Secret(k.with_kid(kid)),
            Self::X25519Public(k) => Self::X25519Public(k.with_kid(kid)),
        }
    }
}

fn wipe_cose_key(key: &mut CoseKey) {
    for (_, v) in &mut key.params {
        if let coset::cbor::Value::Bytes(b) = v {
            b.zeroize();
        }
    }
}

fn okp(crv: i64, x: &[u8], d: Option<&[u8]>) -> CoseKey {
    use coset::cbor::Value;
    let mut key = CoseKey {
        kty: KeyType::Assigned(iana::KeyType::OKP),
        ..CoseKey::default()
    };
    key.params.push((Label::Int(CRV), Value::from(crv)));
    key.params.push((Label::Int(X), Value::Bytes(x.to_vec())));
    if let Some(d) = d {
        key.params.push((Label::Int(D), Value::Bytes(d.to_vec())));
    }
    key
}

fn ec2(sec1: &[u8; 65], d: Option<&[u8]>) -> CoseKey {
    use coset::cbor::Value;
    let mut key = CoseKey {
        kty: KeyType::Assigned(iana::KeyType::EC2),
        ..CoseKey::default()
    };
    key.params.push((Label::Int(CRV), Value::from(CRV_P256)));
    key.params.push((
        Label::Int(X),
        Value::Bytes(sec1.get(1..33).unwrap_or_default().to_vec()),
    ));
    key.params
        .push((Label::Int(Y), Value::Bytes(sec1.get(33..).unwrap_or_default().to_vec())));
    if let Some(d) = d {
        key.params.push((Label::Int(D), Value::Bytes(d.to_vec())));
    }
    key
}

/// Looks up a parameter; a label given twice was already rejected by coset.
fn param(key: &CoseKey, label: i64) -> Option<&coset::cbor::Value> {
    key.params.iter().find(|(l, _)| *l == Label::Int(label)).map(|(_, v)| v)
}

fn param_int(key: &CoseKey, label: i64) -> Result<i64> {
    let v = param(key, label).ok_or(Error::InvalidKey)?;
    let i = v.as_integer().ok_or(Error::InvalidKey)?;
    i64::try_from(i).map_err(|_| Error::InvalidKey)
}

fn param_32(key: &CoseKey, label: i64) -> Result<Option<Zeroizing<[u8; 32]>>> {
    match param(key, label) {
        None => Ok(None),
        Some(v) => {
            let b = v.as_bytes().ok_or(Error::InvalidKey)?;
            let arr: [u8; 32] = b.as_slice().try_into().map_err(|_| Error::InvalidKey)?;
            Ok(Some(Zeroizing::new(arr)))
        }
    }
}

fn decode_okp(key: &CoseKey, alg: Option<Algorithm>) -> Result<Key> {
    let crv = param_int(key, CRV)?;
    let x = param_32(key, X)?;
    let d = param_32(key, D)?;
    match crv {
        CRV_ED25519 => {
            if alg.is_some_and(|a| a != Algorithm::EdDSA) {
                return Err(Error::KeyAlgMismatch);
            }
            match d {
                Some(d) => {
                    let sk = SigningKey::ed25519(&d);
                    if let Some(x) = x {
                        let expected = sk.verifying_key().to_bytes();
                        if !bool::from(expected.as_slice().ct_eq(&x[..])) {
                            return Err(Error::InvalidKey);
                        }
                    }
                    Ok(Key::Signing(sk))
                }
                None => Ok(Key::Verifying(VerifyingKey::ed25519(&*x.ok_or(Error::InvalidKey)?)?)),
            }
        }
        CRV_X25519 => {
            if alg.is_some_and(|a| a != Algorithm::EcdhEsHkdf256) {
                return Err(Error::KeyAlgMismatch);
            }
            match d {
                Some(d) => {
                    let sk = X25519SecretKey::new(&d)?;
                    if let Some(x) = x
                        && !bool::from(sk.public.ct_eq(&*x))
                    {
                        return Err(Error::InvalidKey);
                    }
                    Ok(Key::X25519Secret(sk))
                }
                None => Ok(Key::X25519Public(X25519PublicKey::new(*x.ok_or(Error::InvalidKey)?))),
            }
        }
        _ => Err(Error::UnsupportedAlgorithm),
    }
}

fn decode_ec2(key: &CoseKey, alg: Option<Algorithm>) -> Result<Key> {
    if param_int(key, CRV)? != CRV_P256 {
        return Err(Error::UnsupportedAlgorithm);
    }
    if alg.is_some_and(|a| a != Algorithm::ES256) {
        return Err(Error::KeyAlgMismatch);
    }
    let x = param_32(key, X)?;
    let y = param_32(key, Y)?;
    let d = param_32(key, D)?;
    match d {
        Some(d) => {
            let sk = SigningKey::p256(&d)?;
            if let (Some(x), Some(y)) = (x, y) {
                let vk = sk.verifying_key().to_bytes();
                let mut given = [0u8; 65];
                given[0] = 4;
                given[1..33].copy_from_slice(&x[..]);
                given[33..].copy_from_slice(&y[..]);
                if !bool::from(vk.as_slice().ct_eq(&given)) {
                    return Err(Error::InvalidKey);
                }
            }
            Ok(Key::Signing(sk))
        }
        None => {
            let (x, y) = (x.ok_or(Error::InvalidKey)?, y.ok_or(Error::InvalidKey)?);
            Ok(Key::Verifying(VerifyingKey::p256(&x, &y)?))
        }
    }
}

fn decode_symmetric(key: &CoseKey, alg: Option<Algorithm>) -> Result<Key> {
    let alg = alg.ok_or(Error::InvalidKey)?;
    if alg.aead_key_len().is_none() {
        return Err(Error::KeyAlgMismatch);
    }
    let k = param(key, K)
        .and_then(coset::cbor::Value::as_bytes)
        .ok_or(Error::InvalidKey)?;
    let mut sym = SymmetricKey::new(alg, k).map_err(|e| match e {
        Error::InvalidKey => Error::KeyAlgMismatch,
        other => other,
    })?;
    if !key.base_iv.is_empty() {
        let iv: [u8; NONCE_LEN] = key.base_iv.as_slice().try_into().map_err(|_| Error::InvalidKey)?;
        sym = sym.with_base_iv(iv);
    }
    Ok(Key::Symmetric(sym))
}

/// Keys that carry a `kid` and an algorithm, for [`KeySet`](crate::KeySet).
pub trait KeyInfo {
    /// The key id, if any.
    fn kid(&self) -> Option<&[u8]>;
    /// The algorithm the key is for.
    fn algorithm(&self) -> Algorithm;
}

impl KeyInfo for VerifyingKey {
    fn kid(&self) -> Option<&[u8]> {
        self.kid()
    }
    fn algorithm(&self) -> Algorithm {
        self.algorithm()
    }
}

impl KeyInfo for SymmetricKey {
    fn kid(&self) -> Option<&[u8]> {
        self.kid()
    }
    fn algorithm(&self) -> Algorithm {
        self.algorithm()
    }
}

impl KeyInfo for SigningKey {
    fn kid(&self) -> Option<&[u8]> {
        self.kid()
    }
    fn algorithm(&self) -> Algorithm {
        self.algorithm()
    }
}
