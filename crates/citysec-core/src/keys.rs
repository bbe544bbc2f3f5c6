//! Key types: Ed25519 and P-256 signing and verifying keys, AEAD keys and X25519
//! keys, with COSE_Key (RFC 9052 section 7) encoding and decoding.
//!
//! Keys here are bytes, checked for everything that needs no curve arithmetic:
//! lengths, canonical encodings, the small-order Ed25519 encodings, coordinates
//! and scalars in range. What needs curve arithmetic (whether an encoding is a
//! point, deriving a public key from a secret) is the crypto provider's duty:
//! [`Provider::import`](crate::provider::Provider::import) checks a public key,
//! and a provider's key provider checks a signing key when it loads it
//! ([`Provider::signer`](crate::provider::Provider::signer)).
//!
//! Secret keys are zeroized on drop, are not `Clone` or `Copy`, and their `Debug`
//! output never shows key bytes; their bytes are reachable only with the
//! `hazmat` feature (key-file export and the software providers).

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::any::Any;
use core::fmt;

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
// Encoding checks (no curve arithmetic)

/// p = 2^255 - 19, little-endian.
const ED25519_P: [u8; 32] = [
    0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f,
];

/// The y-coordinates of the small-order points of edwards25519: 0, 1, p-1, and
/// the two of order 8.
pub(crate) const ED25519_SMALL_ORDER_Y: [[u8; 32]; 5] = [
    [0; 32],
    [
        1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ],
    [
        0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f,
    ],
    [
        0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98, 0xf0, 0xd5, 0xdf,
        0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05,
    ],
    [
        0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67, 0x0f, 0x2a, 0x20,
        0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a,
    ],
];

/// The P-256 field prime, big-endian.
const P256_P: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
];

/// The P-256 group order n, big-endian.
const P256_N: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xbc, 0xe6, 0xfa,
    0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
];

/// Whether little-endian `a` < `b` (public values: not constant time).
fn lt_le(a: &[u8; 32], b: &[u8; 32]) -> bool {
    for (x, y) in a.iter().rev().zip(b.iter().rev()) {
        if x != y {
            return x < y;
        }
    }
    false
}

/// Whether big-endian `a` < `b`, in constant time (`a` may be a secret scalar).
fn lt_be_ct(a: &[u8; 32], b: &[u8; 32]) -> bool {
    // Subtract b from a byte by byte from the least significant end; a borrow
    // out of the top byte means a < b.
    let mut borrow = 0u16;
    for (x, y) in a.iter().rev().zip(b.iter().rev()) {
        let d = u16::from(*x).wrapping_sub(u16::from(*y)).wrapping_sub(borrow);
        borrow = (d >> 8) & 1;
    }
    borrow == 1
}

/// Whether the Ed25519 encoding `bytes` is canonical (y below p) and not one of
/// a small-order point: the checks of RFC 8032 decoding and of `verify_strict`
/// that need no curve arithmetic. The small-order points are exactly those with
/// y in {0, 1, p-1, y8, p-y8}, and x = 0 (where a set sign bit would be
/// non-canonical) only occurs for y = 1 and y = p-1, so comparing y suffices.
fn ed25519_encoding(bytes: &[u8; 32]) -> Result<()> {
    let mut y = *bytes;
    if let Some(top) = y.last_mut() {
        *top &= 0x7f;
    }
    if !lt_le(&y, &ED25519_P) {
        return Err(Error::InvalidKey);
    }
    if ED25519_SMALL_ORDER_Y.contains(&y) {
        return Err(Error::WeakKey);
    }
    Ok(())
}

/// The checks strict Ed25519 verification makes on a signature's `R` beyond the
/// verification equation, by bytes: `R` is a canonical encoding (y below p) of
/// a point that is not of small order. A provider or batch verifier that does
/// not make them itself runs this first so that it accepts exactly what strict
/// verification accepts. (Whether `R` decompresses at all is left to the
/// verification, which fails otherwise.)
#[must_use]
pub fn ed25519_r_is_strict(signature: &[u8]) -> bool {
    signature
        .get(..32)
        .and_then(|r| <[u8; 32]>::try_from(r).ok())
        .is_some_and(|r| ed25519_encoding(&r).is_ok())
}

/// The Ed25519 group order L, little-endian.
const ED25519_L: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
];

/// Whether `sig` has the form a signature of `alg` must have, by bytes alone:
/// 64 bytes; for EdDSA an `R` accepted by [`ed25519_r_is_strict`] and `S` below
/// the group order L (RFC 8032's canonical `S`); for ES256 `r` and `s` in
/// 1..n-1. [`Provider::verify`](crate::provider::Provider::verify) and
/// [`Provider::verify_batch`](crate::provider::Provider::verify_batch) refuse
/// any other signature before the provider sees it, so every provider starts
/// from the same checks.
#[must_use]
pub fn signature_is_well_formed(alg: Algorithm, sig: &[u8]) -> bool {
    let (Some(first), Some(second)) = (sig.get(..32), sig.get(32..)) else {
        return false;
    };
    let (Ok(first), Ok(second)) = (<&[u8; 32]>::try_from(first), <&[u8; 32]>::try_from(second)) else {
        return false;
    };
    match alg {
        Algorithm::EdDSA => ed25519_encoding(first).is_ok() && lt_le(second, &ED25519_L),
        Algorithm::ES256 => {
            let in_range = |x: &[u8; 32]| x.iter().any(|b| *b != 0) && lt_be_ct(x, &P256_N);
            in_range(first) && in_range(second)
        }
        _ => false,
    }
}

/// Whether a 32-byte X25519 public key (u-coordinate, little-endian) is in its
/// canonical encoding: top bit clear and u below 2^255 - 19. X25519 itself masks
/// the top bit and reduces u, so a decoder that wants one encoding per key checks
/// this first.
#[must_use]
pub fn x25519_public_is_canonical(u: &[u8; 32]) -> bool {
    lt_le(u, &ED25519_P)
}

// ---------------------------------------------------------------------------
// Public keys

/// The bytes of a public signature key.
#[derive(Clone, Copy, PartialEq, Eq)]
enum PublicBytes {
    Ed25519([u8; 32]),
    P256([u8; 65]),
}

/// A provider's parsed form of a key, made once: of a public key when it is
/// imported ([`Provider::import`](crate::provider::Provider::import)), of a
/// symmetric key when it is prepared
/// ([`Provider::prepare_aead_key`](crate::provider::Provider::prepare_aead_key)).
pub type Prepared = Arc<dyn Any + Send + Sync>;

/// A public signature key (Ed25519 or P-256) with an optional `kid`: validated
/// bytes and the algorithm.
///
/// The constructors make every check that needs no curve arithmetic (see the
/// [module](self)); a key that passes them may still not be a point, which the
/// provider finds when it imports the key or, for a key never imported (a
/// holder key read from a credential), when it verifies with it. An imported
/// key also carries the provider's parsed form, so that verification does not
/// parse it again.
#[derive(Clone)]
pub struct VerifyingKey {
    kid: Option<Vec<u8>>,
    public: PublicBytes,
    prepared: Option<Prepared>,
}

impl PartialEq for VerifyingKey {
    fn eq(&self, other: &Self) -> bool {
        self.kid == other.kid && self.public == other.public
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
    /// [`Error::InvalidKey`] if the encoding is not canonical (y at or above
    /// 2^255 - 19); [`Error::WeakKey`] if it encodes a point of small order (as
    /// strict verification would refuse it). Whether it is a point at all is
    /// checked by the provider.
    pub fn ed25519(bytes: &[u8; 32]) -> Result<Self> {
        ed25519_encoding(bytes)?;
        Ok(Self::from_public(PublicBytes::Ed25519(*bytes)))
    }

    /// A P-256 public key from its affine coordinates (big-endian).
    ///
    /// # Errors
    /// [`Error::InvalidKey`] if a coordinate is not below the field prime.
    /// Whether the point is on the curve is checked by the provider.
    pub fn p256(x: &[u8; 32], y: &[u8; 32]) -> Result<Self> {
        // Public values: a variable-time comparison is fine, but one function
        // serves both uses.
        if !lt_be_ct(x, &P256_P) || !lt_be_ct(y, &P256_P) {
            return Err(Error::InvalidKey);
        }
        let mut sec1 = [0u8; 65];
        let (tag, xy) = sec1.split_at_mut(1);
        let (sx, sy) = xy.split_at_mut(32);
        tag.fill(4);
        sx.copy_from_slice(x);
        sy.copy_from_slice(y);
        Ok(Self::from_public(PublicBytes::P256(sec1)))
    }

    /// A P-256 public key from its 65-byte uncompressed SEC1 encoding
    /// (`04 || x || y`).
    ///
    /// # Errors
    /// [`Error::InvalidKey`] for another length or form, or a coordinate not
    /// below the field prime.
    pub fn p256_sec1(sec1: &[u8]) -> Result<Self> {
        let (tag, xy) = sec1.split_first().ok_or(Error::InvalidKey)?;
        if *tag != 4 || xy.len() != 64 {
            return Err(Error::InvalidKey);
        }
        let (x, y) = xy.split_at(32);
        let x: &[u8; 32] = x.try_into().map_err(|_| Error::InvalidKey)?;
        let y: &[u8; 32] = y.try_into().map_err(|_| Error::InvalidKey)?;
        Self::p256(x, y)
    }

    const fn from_public(public: PublicBytes) -> Self {
        Self {
            kid: None,
            public,
            prepared: None,
        }
    }

    /// The provider's parsed form of this key, if it was imported by a provider
    /// whose form is a `T`.
    #[must_use]
    pub fn prepared<T: Any>(&self) -> Option<&T> {
        self.prepared.as_deref().and_then(|p| p.downcast_ref::<T>())
    }

    /// Whether a provider attached its form of this key.
    #[must_use]
    pub fn is_prepared(&self) -> bool {
        self.prepared.is_some()
    }

    /// This key with the provider's parsed form attached (by
    /// [`Provider::import`](crate::provider::Provider::import) only).
    pub(crate) fn with_prepared(mut self, prepared: Option<Prepared>) -> Self {
        self.prepared = prepared;
        self
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
        match self.public {
            PublicBytes::Ed25519(_) => Algorithm::EdDSA,
            PublicBytes::P256(_) => Algorithm::ES256,
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
        match &self.public {
            PublicBytes::Ed25519(k) => k,
            PublicBytes::P256(p) => p,
        }
    }

    fn to_cose(&self) -> CoseKey {
        let mut key = match &self.public {
            PublicBytes::Ed25519(k) => okp(CRV_ED25519, k, None),
            PublicBytes::P256(p) => ec2(p, None),
        };
        key.alg = Some(self.algorithm().to_cose());
        key.key_id = self.kid.clone().unwrap_or_default();
        key
    }
}

// ---------------------------------------------------------------------------
// Signing keys

/// A private signature key (Ed25519 seed or P-256 scalar) with an optional
/// `kid`, and the public key stored beside it, if it came with one (a
/// COSE_Key's `x`/`y`).
///
/// It cannot sign by itself: a provider's key provider turns it into a
/// [`Signer`](crate::provider::Signer) ([`Provider::signer`](crate::provider::Provider::signer)),
/// derives the public key and checks it against the stored one there.
///
/// Zeroized on drop; `Debug` shows the algorithm and kid only.
pub struct SigningKey {
    kid: Option<Vec<u8>>,
    alg: Algorithm,
    secret: Zeroizing<[u8; 32]>,
    public: Option<VerifyingKey>,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("alg", &self.algorithm())
            .field("kid", &kid_debug(self.kid()))
            .finish_non_exhaustive()
    }
}

// The `Zeroizing` secret wipes itself on drop.
impl ZeroizeOnDrop for SigningKey {}

impl SigningKey {
    /// An Ed25519 signing key from its 32-byte seed.
    #[must_use]
    pub fn ed25519(seed: &[u8; 32]) -> Self {
        Self {
            kid: None,
            alg: Algorithm::EdDSA,
            secret: Zeroizing::new(*seed),
            public: None,
        }
    }

    /// A P-256 signing key from its 32-byte big-endian scalar.
    ///
    /// # Errors
    /// [`Error::InvalidKey`] if the scalar is zero or not below the group order
    /// (checked in constant time).
    pub fn p256(d: &[u8; 32]) -> Result<Self> {
        let zero = bool::from(d.ct_eq(&[0u8; 32]));
        if zero | !lt_be_ct(d, &P256_N) {
            return Err(Error::InvalidKey);
        }
        Ok(Self {
            kid: None,
            alg: Algorithm::ES256,
            secret: Zeroizing::new(*d),
            public: None,
        })
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

    /// This key with the public key that belongs to it (the provider checks
    /// that it does when it loads the key).
    ///
    /// # Errors
    /// [`Error::KeyAlgMismatch`] if `public` is for another algorithm.
    pub fn with_public(mut self, public: VerifyingKey) -> Result<Self> {
        if public.algorithm() != self.alg {
            return Err(Error::KeyAlgMismatch);
        }
        self.public = Some(public);
        Ok(self)
    }

    /// The key id, if any.
    #[must_use]
    pub fn kid(&self) -> Option<&[u8]> {
        self.kid.as_deref()
    }

    /// The signature algorithm this key is for.
    #[must_use]
    pub const fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// `derived`, the public key a provider computed from this key's secret, as
    /// this key's: checked against the public key stored with it, if any, and
    /// given this key's `kid`. Every key provider ends its load with it.
    ///
    /// # Errors
    /// [`Error::InvalidKey`] if a stored public key is another, or `derived` is
    /// for another algorithm.
    pub fn own_public(&self, derived: VerifyingKey) -> Result<VerifyingKey> {
        if derived.algorithm() != self.alg || self.public.as_ref().is_some_and(|p| p.public != derived.public) {
            return Err(Error::InvalidKey);
        }
        Ok(match self.kid() {
            Some(kid) => derived.with_kid(kid),
            None => derived,
        })
    }

    /// The public key stored with this key, if it came with one (without the
    /// `kid`). A provider's signer has the public key whatever this returns.
    #[must_use]
    pub const fn stored_public(&self) -> Option<&VerifyingKey> {
        self.public.as_ref()
    }

    /// The raw secret: the Ed25519 seed or the P-256 scalar. Only with the
    /// `hazmat` feature (key-file export and the software providers use it).
    #[cfg(feature = "hazmat")]
    #[cfg_attr(docsrs, doc(cfg(feature = "hazmat")))]
    #[must_use]
    pub fn secret_bytes(&self) -> &[u8; 32] {
        &self.secret
    }

    fn to_cose(&self) -> Result<CoseKey> {
        // Export needs the public part, which only a provider can derive.
        let public = self.public.as_ref().ok_or(Error::InvalidKey)?;
        let mut key = match &public.public {
            PublicBytes::Ed25519(k) => okp(CRV_ED25519, k, Some(&self.secret[..])),
            PublicBytes::P256(p) => ec2(p, Some(&self.secret[..])),
        };
        key.alg = Some(self.algorithm().to_cose());
        key.key_id = self.kid.clone().unwrap_or_default();
        Ok(key)
    }
}

// ---------------------------------------------------------------------------
// Symmetric keys

/// A content-encryption key for ChaCha20/Poly1305 or AES-GCM, bound to its algorithm.
///
/// Zeroized on drop; `Debug` shows the algorithm and kid only. A key prepared by
/// a provider ([`Provider::prepare_aead_key`](crate::provider::Provider::prepare_aead_key))
/// also carries the provider's form of it (its key schedule), so that sealing and
/// opening do not build it again; whether that form is wiped when the last copy
/// of the key is dropped is the provider's affair (its crate says).
pub struct SymmetricKey {
    kid: Option<Vec<u8>>,
    alg: Algorithm,
    key: Zeroizing<[u8; 32]>,
    len: usize,
    base_iv: Option<[u8; NONCE_LEN]>,
    prepared: Option<Prepared>,
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
            prepared: self.prepared.clone(),
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
            prepared: None,
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

    /// The provider's form of this key, if a provider prepared it and it is of
    /// type `T` (a provider reads back only its own).
    #[must_use]
    pub fn prepared<T: Any>(&self) -> Option<&T> {
        self.prepared.as_deref().and_then(|p| p.downcast_ref::<T>())
    }

    /// Whether a provider attached its form of this key.
    #[must_use]
    pub fn is_prepared(&self) -> bool {
        self.prepared.is_some()
    }

    /// This key with the provider's form attached (by
    /// [`Provider::prepare_aead_key`](crate::provider::Provider::prepare_aead_key) only).
    pub(crate) fn with_prepared(mut self, prepared: Option<Prepared>) -> Self {
        self.prepared = prepared;
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

/// A static X25519 private key, and its public key if it came with one (a
/// COSE_Key's `x`): a provider's key agreement derives it
/// ([`Provider::x25519_public_key`](crate::provider::Provider::x25519_public_key)).
/// Zeroized on drop; `Debug` shows the kid only.
pub struct X25519SecretKey {
    kid: Option<Vec<u8>>,
    secret: Zeroizing<[u8; 32]>,
    public: Option<[u8; 32]>,
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
    /// [`Error::WeakKey`] for the all-zero secret.
    pub fn new(bytes: &[u8; 32]) -> Result<Self> {
        if bool::from(bytes.ct_eq(&[0u8; 32])) {
            return Err(Error::WeakKey);
        }
        Ok(Self {
            kid: None,
            secret: Zeroizing::new(*bytes),
            public: None,
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

    /// This key with the public key that belongs to it (a provider checks that
    /// it does: [`Provider::x25519_public_key`](crate::provider::Provider::x25519_public_key)).
    #[must_use]
    pub const fn with_public(mut self, public: [u8; 32]) -> Self {
        self.public = Some(public);
        self
    }

    /// The key id, if any.
    #[must_use]
    pub fn kid(&self) -> Option<&[u8]> {
        self.kid.as_deref()
    }

    /// `derived`, the public key a provider computed from this secret, as this
    /// key's: checked against the public key stored with it, if any, and given
    /// this key's `kid`.
    ///
    /// # Errors
    /// [`Error::InvalidKey`] if a stored public key is another.
    pub fn own_public(&self, derived: [u8; 32]) -> Result<X25519PublicKey> {
        if self.public.is_some_and(|p| p != derived) {
            return Err(Error::InvalidKey);
        }
        let key = X25519PublicKey::new(derived);
        Ok(match self.kid() {
            Some(kid) => key.with_kid(kid),
            None => key,
        })
    }

    /// The public key stored with this key, if it came with one.
    #[must_use]
    pub const fn stored_public(&self) -> Option<&[u8; 32]> {
        self.public.as_ref()
    }

    /// The raw secret. Handle with care. Only with the `hazmat` feature (key-file
    /// export and the software providers use it).
    #[cfg(feature = "hazmat")]
    #[cfg_attr(docsrs, doc(cfg(feature = "hazmat")))]
    #[must_use]
    pub fn secret_bytes(&self) -> &[u8; 32] {
        &self.secret
    }

    fn to_cose(&self) -> Result<CoseKey> {
        let public = self.public.as_ref().ok_or(Error::InvalidKey)?;
        let mut key = okp(CRV_X25519, public, Some(&self.secret[..]));
        key.key_id = self.kid.clone().unwrap_or_default();
        Ok(key)
    }
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
    /// coordinates or none (alg ES256 or none), Symmetric with an AEAD `alg`
    /// (required: the length alone does not say which AEAD). A private key's
    /// public part, when present, is kept with it; the provider checks that it
    /// belongs to the secret when it loads the key ([`Key::complete`],
    /// [`Provider::signer`](crate::provider::Provider::signer)).
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
    /// citysec-std turns it on): without it, secret material is not exported. A
    /// private key is written with its public part, so it must carry one
    /// ([`Key::complete`] attaches it).
    ///
    /// # Errors
    /// [`Error::SecretExport`] for a private or symmetric key without `hazmat`;
    /// [`Error::InvalidKey`] for a private Ed25519, P-256 or X25519 key without
    /// its public part; [`Error::Malformed`] if coset fails to encode (it does
    /// not for these keys).
    pub fn to_cose_key(&self) -> Result<Zeroizing<Vec<u8>>> {
        if self.is_secret() && !cfg!(feature = "hazmat") {
            return Err(Error::SecretExport);
        }
        let mut key = match self {
            Self::Signing(k) => k.to_cose()?,
            Self::Verifying(k) => k.to_cose(),
            Self::Symmetric(k) => k.to_cose(),
            Self::X25519Secret(k) => k.to_cose()?,
            Self::X25519Public(k) => k.to_cose(),
        };
        key.canonicalize(coset::CborOrdering::LengthFirstLexicographic);
        let out = key.clone().to_vec().map_err(|_| Error::Malformed);
        wipe_cose_key(&mut key);
        out.map(Zeroizing::new)
    }

    /// This key with its public part derived by `provider` and attached (a
    /// private signature or X25519 key; other keys come back as they are). A
    /// public part the key already carries must be the derived one.
    ///
    /// # Errors
    /// [`Error::InvalidKey`] if the stored public part does not belong to the
    /// secret, or the provider refuses the key; [`Error::UnsupportedAlgorithm`]
    /// if the provider cannot derive it.
    pub fn complete(self, provider: &crate::provider::Provider) -> Result<Self> {
        match self {
            Self::Signing(k) => {
                let public = provider.public_key(&k)?;
                k.with_public(public).map(Self::Signing)
            }
            Self::X25519Secret(k) => {
                let public = provider.x25519_public_key(&k)?;
                Ok(Self::X25519Secret(k.with_public(*public.as_bytes())))
            }
            other => Ok(other),
        }
    }

    /// The public half of this key, if it has one (`None` for symmetric keys),
    /// derived by `provider` for a private key.
    ///
    /// # Errors
    /// As [`Key::complete`].
    pub fn public(&self, provider: &crate::provider::Provider) -> Result<Option<Self>> {
        Ok(match self {
            Self::Signing(k) => Some(Self::Verifying(provider.public_key(k)?)),
            Self::Verifying(k) => Some(Self::Verifying(k.clone())),
            Self::X25519Secret(k) => Some(Self::X25519Public(provider.x25519_public_key(k)?)),
            Self::X25519Public(k) => Some(Self::X25519Public(k.clone())),
            Self::Symmetric(_) => None,
        })
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
            let public = x.map(|x| VerifyingKey::ed25519(&x)).transpose()?;
            match (d, public) {
                (Some(d), None) => Ok(Key::Signing(SigningKey::ed25519(&d))),
                (Some(d), Some(public)) => SigningKey::ed25519(&d).with_public(public).map(Key::Signing),
                (None, Some(public)) => Ok(Key::Verifying(public)),
                (None, None) => Err(Error::InvalidKey),
            }
        }
        CRV_X25519 => {
            if alg.is_some_and(|a| a != Algorithm::EcdhEsHkdf256) {
                return Err(Error::KeyAlgMismatch);
            }
            match (d, x) {
                (Some(d), None) => Ok(Key::X25519Secret(X25519SecretKey::new(&d)?)),
                (Some(d), Some(x)) => Ok(Key::X25519Secret(X25519SecretKey::new(&d)?.with_public(*x))),
                (None, Some(x)) => Ok(Key::X25519Public(X25519PublicKey::new(*x))),
                (None, None) => Err(Error::InvalidKey),
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
    let public = match (x, y) {
        (Some(x), Some(y)) => Some(VerifyingKey::p256(&x, &y)?),
        (None, None) => None,
        // One coordinate without the other is no key.
        _ => return Err(Error::InvalidKey),
    };
    match (d, public) {
        (Some(d), None) => Ok(Key::Signing(SigningKey::p256(&d)?)),
        (Some(d), Some(public)) => SigningKey::p256(&d)?.with_public(public).map(Key::Signing),
        (None, Some(public)) => Ok(Key::Verifying(public)),
        (None, None) => Err(Error::InvalidKey),
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
