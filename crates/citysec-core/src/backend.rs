//! The crypto backend boundary and the pure-Rust backend.
//!
//! citysec's formats never call a crypto library directly: they go through
//! [`Backend`], so the RustCrypto/dalek backend here (firmware, any target) and the
//! *ring* backend in `citysec-ring` (servers) are interchangeable, and the next
//! generation of the RustCrypto traits stays an internal change.

use chacha20poly1305::aead;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::keys::{
    PublicInner, SigningInner, SigningKey, SymmetricKey, VerifyingKey, X25519PublicKey, X25519SecretKey,
};
use crate::{Algorithm, Error, Result};

/// Length of every signature citysec produces (Ed25519, and ES256 as raw r||s).
pub const SIGNATURE_LEN: usize = 64;
/// Length of every AEAD tag citysec uses.
pub const TAG_LEN: usize = 16;

/// A 32-byte X25519 shared secret, zeroized on drop.
pub struct SharedSecret([u8; 32]);

impl SharedSecret {
    /// Wraps raw bytes (a backend's output).
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

impl core::fmt::Debug for SharedSecret {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("SharedSecret(..)")
    }
}

/// A crypto backend: the primitives every citysec format is built from.
///
/// Implementations must treat every failure as opaque (no detail about why a
/// signature or tag did not verify) and must not panic on any input.
pub trait Backend: Send + Sync + core::fmt::Debug {
    /// A short name for logs and benchmarks, e.g. `"rustcrypto"`.
    fn name(&self) -> &'static str;

    /// Signs `msg`, returning the 64-byte signature (raw r||s for ES256).
    ///
    /// # Errors
    /// [`Error::UnsupportedAlgorithm`] if this backend lacks the algorithm.
    fn sign(&self, key: &SigningKey, msg: &[u8]) -> Result<[u8; SIGNATURE_LEN]>;

    /// Verifies `sig` over `msg`. Ed25519 verification is strict (RFC 8032 with
    /// canonical encodings, no small-order components); ES256 takes raw r||s with
    /// r and s in 1..n-1.
    ///
    /// # Errors
    /// [`Error::BadSignature`], whatever the reason.
    fn verify(&self, key: &VerifyingKey, msg: &[u8], sig: &[u8]) -> Result<()>;

    /// Encrypts `in_out` in place and returns the tag.
    ///
    /// # Errors
    /// [`Error::InvalidIv`] for a nonce that is not 12 bytes;
    /// [`Error::UnsupportedAlgorithm`] if this backend lacks the key's AEAD.
    fn seal(&self, key: &SymmetricKey, nonce: &[u8], aad: &[u8], in_out: &mut [u8]) -> Result<[u8; TAG_LEN]>;

    /// Checks `tag` and decrypts `in_out` in place. On failure `in_out` holds no
    /// plaintext.
    ///
    /// # Errors
    /// [`Error::DecryptFailed`], whatever the reason, and [`Error::InvalidIv`] for a
    /// nonce that is not 12 bytes.
    fn open(&self, key: &SymmetricKey, nonce: &[u8], aad: &[u8], in_out: &mut [u8], tag: &[u8]) -> Result<()>;

    /// HKDF-SHA-256 (RFC 5869): extract with `salt` (empty means none), expand
    /// with `info` into `okm`.
    ///
    /// # Errors
    /// [`Error::InvalidLength`] if `okm` is longer than 255 * 32 bytes.
    fn hkdf_sha256(&self, salt: &[u8], ikm: &[u8], info: &[u8], okm: &mut [u8]) -> Result<()>;

    /// X25519 key agreement.
    ///
    /// # Errors
    /// [`Error::NonContributory`] if the result is all zero (a low-order peer key);
    /// [`Error::UnsupportedAlgorithm`] without X25519 support.
    fn x25519(&self, secret: &X25519SecretKey, public: &X25519PublicKey) -> Result<SharedSecret>;
}

/// Strict Ed25519 verification alone (ed25519-dalek `verify_strict`), for a
/// provider that links no other signature code. A key of another algorithm is
/// [`Error::BadSignature`].
///
/// # Errors
/// [`Error::BadSignature`], whatever the reason.
pub fn ed25519_verify(key: &VerifyingKey, msg: &[u8], sig: &[u8]) -> Result<()> {
    let PublicInner::Ed25519(k) = &key.inner else {
        return Err(Error::BadSignature);
    };
    let sig = ed25519_dalek::Signature::from_slice(sig).map_err(|_| Error::BadSignature)?;
    k.verify_strict(msg, &sig).map_err(|_| Error::BadSignature)
}

/// The pure-Rust backend: ed25519-dalek (`verify_strict`), p256/ecdsa,
/// chacha20poly1305, aes-gcm, hkdf/sha2 and x25519-dalek. Builds for any target.
#[derive(Clone, Copy, Debug, Default)]
pub struct RustCrypto;

impl Backend for RustCrypto {
    fn name(&self) -> &'static str {
        "rustcrypto"
    }

    fn sign(&self, key: &SigningKey, msg: &[u8]) -> Result<[u8; SIGNATURE_LEN]> {
        match &key.inner {
            SigningInner::Ed25519(k) => {
                use ed25519_dalek::Signer;
                Ok(k.sign(msg).to_bytes())
            }
            SigningInner::P256 { d, .. } => sign_p256(d, msg),
        }
    }

    fn verify(&self, key: &VerifyingKey, msg: &[u8], sig: &[u8]) -> Result<()> {
        match &key.inner {
            PublicInner::Ed25519(_) => ed25519_verify(key, msg, sig),
            PublicInner::P256(p) => verify_p256(p, msg, sig),
        }
    }

    fn seal(&self, key: &SymmetricKey, nonce: &[u8], aad: &[u8], in_out: &mut [u8]) -> Result<[u8; TAG_LEN]> {
        match key.algorithm() {
            Algorithm::ChaCha20Poly1305 => {
                aead_seal::<chacha20poly1305::ChaCha20Poly1305>(key.secret(), nonce, aad, in_out)
            }
            #[cfg(feature = "aes-gcm")]
            Algorithm::A128GCM => aead_seal::<aes_gcm::Aes128Gcm>(key.secret(), nonce, aad, in_out),
            #[cfg(feature = "aes-gcm")]
            Algorithm::A256GCM => aead_seal::<aes_gcm::Aes256Gcm>(key.secret(), nonce, aad, in_out),
            _ => Err(Error::UnsupportedAlgorithm),
        }
    }

    fn open(&self, key: &SymmetricKey, nonce: &[u8], aad: &[u8], in_out: &mut [u8], tag: &[u8]) -> Result<()> {
        match key.algorithm() {
            Algorithm::ChaCha20Poly1305 => {
                aead_open::<chacha20poly1305::ChaCha20Poly1305>(key.secret(), nonce, aad, in_out, tag)
            }
            #[cfg(feature = "aes-gcm")]
            Algorithm::A128GCM => aead_open::<aes_gcm::Aes128Gcm>(key.secret(), nonce, aad, in_out, tag),
            #[cfg(feature = "aes-gcm")]
            Algorithm::A256GCM => aead_open::<aes_gcm::Aes256Gcm>(key.secret(), nonce, aad, in_out, tag),
            _ => Err(Error::UnsupportedAlgorithm),
        }
    }

    fn hkdf_sha256(&self, salt: &[u8], ikm: &[u8], info: &[u8], okm: &mut [u8]) -> Result<()> {
        let salt = if salt.is_empty() { None } else { Some(salt) };
        let hk = hkdf::Hkdf::<sha2::Sha256>::new(salt, ikm);
        hk.expand(info, okm).map_err(|_| Error::InvalidLength)
    }

    fn x25519(&self, secret: &X25519SecretKey, public: &X25519PublicKey) -> Result<SharedSecret> {
        x25519(secret, public)
    }
}

/// X25519 with x25519-dalek, refusing the all-zero result. Shared by both backends
/// (ring has no static X25519 keys).
///
/// # Errors
/// [`Error::NonContributory`] for a low-order peer key;
/// [`Error::UnsupportedAlgorithm`] without the `x25519` feature.
#[cfg(feature = "x25519")]
pub fn x25519(secret: &X25519SecretKey, public: &X25519PublicKey) -> Result<SharedSecret> {
    let s = x25519_dalek::StaticSecret::from(*secret.secret_ref());
    let p = x25519_dalek::PublicKey::from(*public.as_bytes());
    let shared = s.diffie_hellman(&p);
    if !shared.was_contributory() {
        return Err(Error::NonContributory);
    }
    Ok(SharedSecret::new(shared.to_bytes()))
}

/// X25519 is unavailable without the `x25519` feature.
///
/// # Errors
/// Always [`Error::UnsupportedAlgorithm`].
#[cfg(not(feature = "x25519"))]
pub fn x25519(_secret: &X25519SecretKey, _public: &X25519PublicKey) -> Result<SharedSecret> {
    Err(Error::UnsupportedAlgorithm)
}

fn aead_seal<A>(key: &[u8], nonce: &[u8], aad: &[u8], in_out: &mut [u8]) -> Result<[u8; TAG_LEN]>
where
    A: aead::AeadInOut + aead::KeyInit,
{
    let cipher = A::new_from_slice(key).map_err(|_| Error::InvalidKey)?;
    let nonce = aead::Nonce::<A>::try_from(nonce).map_err(|_| Error::InvalidIv)?;
    let tag = cipher
        .encrypt_inout_detached(&nonce, aad, in_out.into())
        .map_err(|_| Error::InvalidLength)?;
    let mut out = [0u8; TAG_LEN];
    if tag.len() != TAG_LEN {
        return Err(Error::Backend);
    }
    out.copy_from_slice(&tag);
    Ok(out)
}

fn aead_open<A>(key: &[u8], nonce: &[u8], aad: &[u8], in_out: &mut [u8], tag: &[u8]) -> Result<()>
where
    A: aead::AeadInOut + aead::KeyInit,
{
    let cipher = A::new_from_slice(key).map_err(|_| Error::InvalidKey)?;
    let nonce = aead::Nonce::<A>::try_from(nonce).map_err(|_| Error::InvalidIv)?;
    let tag = aead::Tag::<A>::try_from(tag).map_err(|_| Error::DecryptFailed)?;
    cipher
        .decrypt_inout_detached(&nonce, aad, in_out.into(), &tag)
        .map_err(|_| Error::DecryptFailed)
}

#[cfg(feature = "p256")]
fn sign_p256(d: &[u8; 32], msg: &[u8]) -> Result<[u8; SIGNATURE_LEN]> {
    use p256::ecdsa::signature::Signer;
    let sk = p256::ecdsa::SigningKey::from_slice(d).map_err(|_| Error::InvalidKey)?;
    let sig: p256::ecdsa::Signature = sk.try_sign(msg).map_err(|_| Error::Backend)?;
    let bytes = sig.to_bytes();
    let mut out = [0u8; SIGNATURE_LEN];
    if bytes.len() != SIGNATURE_LEN {
        return Err(Error::Backend);
    }
    out.copy_from_slice(&bytes);
    Ok(out)
}

#[cfg(not(feature = "p256"))]
fn sign_p256(_d: &[u8; 32], _msg: &[u8]) -> Result<[u8; SIGNATURE_LEN]> {
    Err(Error::UnsupportedAlgorithm)
}

#[cfg(feature = "p256")]
fn verify_p256(key: &crate::keys::P256Public, msg: &[u8], sig: &[u8]) -> Result<()> {
    use p256::ecdsa::signature::Verifier;
    if sig.len() != SIGNATURE_LEN {
        return Err(Error::BadSignature);
    }
    // from_slice refuses r or s outside 1..n-1.
    let sig = p256::ecdsa::Signature::from_slice(sig).map_err(|_| Error::BadSignature)?;
    key.parsed.verify(msg, &sig).map_err(|_| Error::BadSignature)
}

#[cfg(not(feature = "p256"))]
fn verify_p256(_key: &crate::keys::P256Public, _msg: &[u8], _sig: &[u8]) -> Result<()> {
    Err(Error::BadSignature)
}

/// Whether an Edwards point lies in the prime-order subgroup: `[l]P` is the
/// identity, computed as `[l - 1]P + P` with a variable-time multiplication (the
/// point is public).
pub(crate) fn ed25519_point_is_torsion_free(p: &curve25519_dalek::EdwardsPoint) -> bool {
    use curve25519_dalek::traits::IsIdentity;
    let l_minus_1 = -curve25519_dalek::Scalar::ONE;
    #[expect(
        clippy::arithmetic_side_effects,
        reason = "group operations on curve points cannot overflow"
    )]
    let lp = curve25519_dalek::EdwardsPoint::vartime_double_scalar_mul_basepoint(
        &l_minus_1,
        p,
        &curve25519_dalek::Scalar::ZERO,
    ) + p;
    lp.is_identity()
}

/// The checks `verify_strict` makes on an Ed25519 signature's `R` beyond the
/// verification equation: `R` is a canonical encoding (y below p) of a point that
/// is not of small order. A backend or batch verifier that does not make them
/// itself runs this first so that it accepts exactly what strict verification
/// accepts. (Whether `R` decompresses at all is left to the verification, which
/// fails otherwise.)
///
/// It compares bytes instead of decompressing: the small-order points of
/// edwards25519 are exactly those with y in {0, 1, p-1, y8, p-y8}, and x = 0 (where
/// a set sign bit would be non-canonical) only occurs for y = 1 and y = p-1.
#[must_use]
pub fn ed25519_r_is_strict(signature: &[u8]) -> bool {
    let Some(r) = signature.get(..32).and_then(|r| <[u8; 32]>::try_from(r).ok()) else {
        return false;
    };
    let mut y = r;
    if let Some(top) = y.last_mut() {
        *top &= 0x7f;
    }
    lt_le(&y, &ED25519_P) && !ED25519_SMALL_ORDER_Y.contains(&y)
}

/// Whether a 32-byte X25519 public key (u-coordinate, little-endian) is in its
/// canonical encoding: top bit clear and u below 2^255 - 19. X25519 itself masks
/// the top bit and reduces u, so a decoder that wants one encoding per key checks
/// this first.
#[must_use]
pub fn x25519_public_is_canonical(u: &[u8; 32]) -> bool {
    lt_le(u, &ED25519_P)
}

/// Whether little-endian `a` < `b`.
fn lt_le(a: &[u8; 32], b: &[u8; 32]) -> bool {
    for (x, y) in a.iter().rev().zip(b.iter().rev()) {
        if x != y {
            return x < y;
        }
    }
    false
}

/// p = 2^255 - 19, little-endian.
const ED25519_P: [u8; 32] = [
    0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f,
];

/// The y-coordinates of the small-order points: 0, 1, p-1, and the two of order 8.
const ED25519_SMALL_ORDER_Y: [[u8; 32]; 5] = [
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

/// Verifies many Ed25519 signatures at once (ed25519-dalek's batch equation with
/// deterministic random coefficients), after the per-signature checks that batch
/// verification does not make: a canonical `S`, an `R` accepted by
/// [`ed25519_r_is_strict`], and a key in the prime-order subgroup
/// ([`VerifyingKey::is_torsion_free`], computed once per key and kept, so keep the
/// keys of a trust store alive between batches).
///
/// Returns `Ok` only if every signature is valid; on `Err` the caller verifies one by
/// one to find the bad ones.
///
/// One difference from strict single verification remains, and only the holder of
/// a signing key can use it: a signature whose `R` has a small-order component
/// (mixed order) fails strict verification but passes the batch equation with
/// probability about 1/2 to 7/8. Nobody without the key can make such a signature
/// (the hash binds `R`), and ruling it out would cost a scalar multiplication per
/// signature, as much as verifying it singly.
///
/// # Errors
/// [`Error::BadSignature`] if any item fails (or is not an Ed25519 key or a
/// 64-byte signature).
#[cfg(feature = "batch")]
#[cfg_attr(docsrs, doc(cfg(feature = "batch")))]
pub fn ed25519_verify_batch(items: &[(&[u8], &[u8], &VerifyingKey)]) -> Result<()> {
    let mut messages = alloc::vec::Vec::with_capacity(items.len());
    let mut signatures = alloc::vec::Vec::with_capacity(items.len());
    let mut keys = alloc::vec::Vec::with_capacity(items.len());
    for (msg, sig, key) in items {
        let PublicInner::Ed25519(k) = &key.inner else {
            return Err(Error::BadSignature);
        };
        if !ed25519_r_is_strict(sig) || !key.is_torsion_free() {
            return Err(Error::BadSignature);
        }
        let s = ed25519_dalek::Signature::from_slice(sig).map_err(|_| Error::BadSignature)?;
        messages.push(*msg);
        signatures.push(s);
        keys.push(*k);
    }
    ed25519_dalek::verify_batch(&messages, &signatures, &keys).map_err(|_| Error::BadSignature)
}

#[cfg(test)]
mod tests;
