#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc = include_str!("../README.md")]
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;
#[cfg(test)]
extern crate std;

#[cfg(feature = "secrets")]
use alloc::boxed::Box;
use alloc::sync::Arc;
#[cfg(feature = "batch")]
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU8, Ordering};

#[cfg(feature = "secrets")]
use chacha20poly1305::aead;
use citysec_core::keys::Prepared;
#[cfg(any(feature = "batch", test))]
use citysec_core::keys::ed25519_r_is_strict;
#[cfg(feature = "batch")]
use citysec_core::provider::BatchItem;
#[cfg(any(feature = "secrets", feature = "p256"))]
use citysec_core::provider::SIGNATURE_LEN;
#[cfg(feature = "secrets")]
use citysec_core::provider::{Aead, KeyProvider, Signer, TAG_LEN};
use citysec_core::provider::{Hkdf, Provider, SignatureVerifier};
#[cfg(feature = "x25519")]
use citysec_core::provider::{KeyAgreement, SharedSecret};
use citysec_core::{Algorithm, Error, Result, VerifyingKey};
#[cfg(feature = "secrets")]
use citysec_core::{SigningKey, SymmetricKey};
#[cfg(feature = "x25519")]
use citysec_core::{X25519PublicKey, X25519SecretKey};

/// The pure-Rust provider.
pub static PROVIDER: Provider = Provider {
    name: "rustcrypto",
    signature_verifiers: &[
        &Ed25519,
        #[cfg(feature = "p256")]
        &P256,
    ],
    aeads: &[
        #[cfg(feature = "secrets")]
        &ChaCha20Poly1305,
        #[cfg(feature = "aes-gcm")]
        &AesGcm(Algorithm::A128GCM),
        #[cfg(feature = "aes-gcm")]
        &AesGcm(Algorithm::A256GCM),
    ],
    hkdf: Some(&HkdfSha256),
    #[cfg(feature = "x25519")]
    key_agreement: Some(&X25519),
    #[cfg(not(feature = "x25519"))]
    key_agreement: None,
    #[cfg(feature = "secrets")]
    key_provider: Some(&Keys),
    #[cfg(not(feature = "secrets"))]
    key_provider: None,
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

// ---------------------------------------------------------------------------
// Ed25519

/// Ed25519: strict single verification, and batch verification with the `batch`
/// feature.
#[derive(Debug)]
struct Ed25519;

/// An imported Ed25519 key: the decompressed point, and whether it lies in the
/// prime-order subgroup (0 not computed yet, 1 yes, 2 no; batch verification
/// computes it on first use, a scalar multiplication, then keeps it).
#[derive(Debug)]
struct Ed25519Key {
    key: ed25519_dalek::VerifyingKey,
    torsion: AtomicU8,
}

impl Ed25519Key {
    /// Decompresses the key. Its encoding is canonical and not one of a point
    /// of small order (citysec-core checked the bytes when the key was made),
    /// so what is left to check is that it is a point at all.
    fn parse(key: &VerifyingKey) -> Result<Self> {
        let bytes: &[u8; 32] = key.as_bytes().try_into().map_err(|_| Error::InvalidKey)?;
        let key = ed25519_dalek::VerifyingKey::from_bytes(bytes).map_err(|_| Error::InvalidKey)?;
        Ok(Self {
            key,
            torsion: AtomicU8::new(0),
        })
    }

    /// Whether the key is in the prime-order subgroup (every honestly generated
    /// key is). Strict single verification does not need it; batch verification
    /// does, to accept exactly what single verification accepts.
    #[cfg_attr(
        not(any(feature = "batch", test)),
        expect(dead_code, reason = "only batch verification asks")
    )]
    fn is_torsion_free(&self) -> bool {
        match self.torsion.load(Ordering::Relaxed) {
            1 => true,
            2 => false,
            _ => {
                let free = point_is_torsion_free(&self.key.to_edwards());
                self.torsion.store(if free { 1 } else { 2 }, Ordering::Relaxed);
                free
            }
        }
    }
}

/// Runs `f` on the key's parsed form: the one made at import, or one parsed now
/// for a key that was never imported (a holder key read from a credential).
fn with_ed25519<T>(key: &VerifyingKey, f: impl FnOnce(&Ed25519Key) -> Result<T>) -> Result<T> {
    if key.algorithm() != Algorithm::EdDSA {
        return Err(Error::BadSignature);
    }
    match key.prepared::<Ed25519Key>() {
        Some(k) => f(k),
        None => f(&Ed25519Key::parse(key).map_err(|_| Error::BadSignature)?),
    }
}

impl SignatureVerifier for Ed25519 {
    fn algorithm(&self) -> Algorithm {
        Algorithm::EdDSA
    }

    fn prepare(&self, key: &VerifyingKey) -> Result<Option<Prepared>> {
        if key.algorithm() != Algorithm::EdDSA {
            return Err(Error::UnsupportedAlgorithm);
        }
        Ok(Some(Arc::new(Ed25519Key::parse(key)?)))
    }

    fn verify(&self, key: &VerifyingKey, msg: &[u8], sig: &[u8]) -> Result<()> {
        let sig = ed25519_dalek::Signature::from_slice(sig).map_err(|_| Error::BadSignature)?;
        with_ed25519(key, |k| k.key.verify_strict(msg, &sig).map_err(|_| Error::BadSignature))
    }

    /// One batch equation for all items (same acceptance as strict verification,
    /// see [`ed25519_verify_batch`]); if it fails, each item is verified singly so
    /// that every result is exact.
    #[cfg(feature = "batch")]
    fn verify_batch(&self, items: &[BatchItem<'_>]) -> Vec<Result<()>> {
        if !items.is_empty() && ed25519_verify_batch(items).is_ok() {
            return items.iter().map(|_| Ok(())).collect();
        }
        items.iter().map(|i| self.verify(i.key, i.msg, i.sig)).collect()
    }
}

/// Whether an Edwards point lies in the prime-order subgroup: `[l]P` is the
/// identity, computed as `[l - 1]P + P` with a variable-time multiplication (the
/// point is public).
fn point_is_torsion_free(p: &curve25519_dalek::EdwardsPoint) -> bool {
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

/// Verifies many Ed25519 signatures at once (ed25519-dalek's batch equation with
/// deterministic random coefficients), after the per-signature checks that batch
/// verification does not make: a canonical `S`, an `R` accepted by
/// [`ed25519_r_is_strict`], and a key in the prime-order subgroup (computed once
/// per imported key and kept, so keep the keys of a trust store alive between
/// batches).
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
pub fn ed25519_verify_batch(items: &[BatchItem<'_>]) -> Result<()> {
    let mut messages = Vec::with_capacity(items.len());
    let mut signatures = Vec::with_capacity(items.len());
    let mut keys = Vec::with_capacity(items.len());
    for item in items {
        let key = with_ed25519(item.key, |k| {
            if k.is_torsion_free() {
                Ok(k.key)
            } else {
                Err(Error::BadSignature)
            }
        })?;
        if !ed25519_r_is_strict(item.sig) {
            return Err(Error::BadSignature);
        }
        let s = ed25519_dalek::Signature::from_slice(item.sig).map_err(|_| Error::BadSignature)?;
        messages.push(item.msg);
        signatures.push(s);
        keys.push(key);
    }
    ed25519_dalek::verify_batch(&messages, &signatures, &keys).map_err(|_| Error::BadSignature)
}

// ---------------------------------------------------------------------------
// P-256

/// ES256: ECDSA over P-256 with SHA-256, raw `r || s`.
#[cfg(feature = "p256")]
#[derive(Debug)]
struct P256;

#[cfg(feature = "p256")]
fn p256_parse(key: &VerifyingKey) -> Result<p256::ecdsa::VerifyingKey> {
    p256::ecdsa::VerifyingKey::from_sec1_bytes(key.as_bytes()).map_err(|_| Error::InvalidKey)
}

#[cfg(feature = "p256")]
impl SignatureVerifier for P256 {
    fn algorithm(&self) -> Algorithm {
        Algorithm::ES256
    }

    fn prepare(&self, key: &VerifyingKey) -> Result<Option<Prepared>> {
        if key.algorithm() != Algorithm::ES256 {
            return Err(Error::UnsupportedAlgorithm);
        }
        Ok(Some(Arc::new(p256_parse(key)?)))
    }

    fn verify(&self, key: &VerifyingKey, msg: &[u8], sig: &[u8]) -> Result<()> {
        use p256::ecdsa::signature::Verifier;
        if key.algorithm() != Algorithm::ES256 || sig.len() != SIGNATURE_LEN {
            return Err(Error::BadSignature);
        }
        // from_slice refuses r or s outside 1..n-1.
        let sig = p256::ecdsa::Signature::from_slice(sig).map_err(|_| Error::BadSignature)?;
        let parsed;
        let k = match key.prepared::<p256::ecdsa::VerifyingKey>() {
            Some(k) => k,
            None => {
                parsed = p256_parse(key).map_err(|_| Error::BadSignature)?;
                &parsed
            }
        };
        k.verify(msg, &sig).map_err(|_| Error::BadSignature)
    }
}

// ---------------------------------------------------------------------------
// AEADs, HKDF, X25519

#[cfg(feature = "secrets")]
#[derive(Debug)]
struct ChaCha20Poly1305;

#[cfg(feature = "secrets")]
impl Aead for ChaCha20Poly1305 {
    fn algorithm(&self) -> Algorithm {
        Algorithm::ChaCha20Poly1305
    }

    fn seal(&self, key: &SymmetricKey, nonce: &[u8], aad: &[u8], in_out: &mut [u8]) -> Result<[u8; TAG_LEN]> {
        if key.algorithm() != Algorithm::ChaCha20Poly1305 {
            return Err(Error::UnsupportedAlgorithm);
        }
        aead_seal::<chacha20poly1305::ChaCha20Poly1305>(key.secret_bytes(), nonce, aad, in_out)
    }

    fn open(&self, key: &SymmetricKey, nonce: &[u8], aad: &[u8], in_out: &mut [u8], tag: &[u8]) -> Result<()> {
        if key.algorithm() != Algorithm::ChaCha20Poly1305 {
            in_out.fill(0);
            return Err(Error::DecryptFailed);
        }
        aead_open::<chacha20poly1305::ChaCha20Poly1305>(key.secret_bytes(), nonce, aad, in_out, tag)
    }
}

/// AES-GCM with a 128- or 256-bit key (the algorithm says which).
#[cfg(feature = "aes-gcm")]
#[derive(Debug)]
struct AesGcm(Algorithm);

#[cfg(feature = "aes-gcm")]
impl Aead for AesGcm {
    fn algorithm(&self) -> Algorithm {
        self.0
    }

    fn seal(&self, key: &SymmetricKey, nonce: &[u8], aad: &[u8], in_out: &mut [u8]) -> Result<[u8; TAG_LEN]> {
        match (self.0, key.algorithm()) {
            (Algorithm::A128GCM, Algorithm::A128GCM) => {
                aead_seal::<aes_gcm::Aes128Gcm>(key.secret_bytes(), nonce, aad, in_out)
            }
            (Algorithm::A256GCM, Algorithm::A256GCM) => {
                aead_seal::<aes_gcm::Aes256Gcm>(key.secret_bytes(), nonce, aad, in_out)
            }
            _ => Err(Error::UnsupportedAlgorithm),
        }
    }

    fn open(&self, key: &SymmetricKey, nonce: &[u8], aad: &[u8], in_out: &mut [u8], tag: &[u8]) -> Result<()> {
        match (self.0, key.algorithm()) {
            (Algorithm::A128GCM, Algorithm::A128GCM) => {
                aead_open::<aes_gcm::Aes128Gcm>(key.secret_bytes(), nonce, aad, in_out, tag)
            }
            (Algorithm::A256GCM, Algorithm::A256GCM) => {
                aead_open::<aes_gcm::Aes256Gcm>(key.secret_bytes(), nonce, aad, in_out, tag)
            }
            _ => {
                in_out.fill(0);
                Err(Error::DecryptFailed)
            }
        }
    }
}

#[cfg(feature = "secrets")]
fn aead_seal<A>(key: &[u8], nonce: &[u8], aad: &[u8], in_out: &mut [u8]) -> Result<[u8; TAG_LEN]>
where
    A: aead::AeadInOut + aead::KeyInit,
{
    let cipher = A::new_from_slice(key).map_err(|_| Error::InvalidKey)?;
    let nonce = aead::Nonce::<A>::try_from(nonce).map_err(|_| Error::InvalidIv)?;
    let tag = cipher
        .encrypt_inout_detached(&nonce, aad, in_out.into())
        .map_err(|_| Error::InvalidLength)?;
    <[u8; TAG_LEN]>::try_from(tag.as_slice()).map_err(|_| Error::Backend)
}

#[cfg(feature = "secrets")]
fn aead_open<A>(key: &[u8], nonce: &[u8], aad: &[u8], in_out: &mut [u8], tag: &[u8]) -> Result<()>
where
    A: aead::AeadInOut + aead::KeyInit,
{
    let Ok(cipher) = A::new_from_slice(key) else {
        in_out.fill(0);
        return Err(Error::DecryptFailed);
    };
    let nonce = aead::Nonce::<A>::try_from(nonce).map_err(|_| Error::InvalidIv)?;
    let tag = aead::Tag::<A>::try_from(tag).map_err(|_| Error::DecryptFailed)?;
    // The AEAD crates leave the ciphertext in place on failure: no plaintext.
    cipher
        .decrypt_inout_detached(&nonce, aad, in_out.into(), &tag)
        .map_err(|_| Error::DecryptFailed)
}

#[derive(Debug)]
struct HkdfSha256;

impl Hkdf for HkdfSha256 {
    fn hkdf_sha256(&self, salt: &[u8], ikm: &[u8], info: &[u8], okm: &mut [u8]) -> Result<()> {
        let salt = if salt.is_empty() { None } else { Some(salt) };
        let hk = hkdf::Hkdf::<sha2::Sha256>::new(salt, ikm);
        hk.expand(info, okm).map_err(|_| Error::InvalidLength)
    }
}

/// Static X25519 with x25519-dalek, refusing the all-zero result.
#[cfg(feature = "x25519")]
#[derive(Debug)]
struct X25519;

#[cfg(feature = "x25519")]
impl KeyAgreement for X25519 {
    fn x25519(&self, secret: &X25519SecretKey, public: &X25519PublicKey) -> Result<SharedSecret> {
        x25519(secret, public)
    }

    fn public_key(&self, secret: &X25519SecretKey) -> Result<X25519PublicKey> {
        x25519_public_key(secret)
    }
}

/// X25519 with x25519-dalek, refusing the all-zero result (a low-order peer
/// key). The ring provider uses it too: *ring* has no static X25519 keys.
///
/// # Errors
/// [`Error::NonContributory`] for a low-order peer key.
#[cfg(feature = "x25519")]
#[cfg_attr(docsrs, doc(cfg(feature = "x25519")))]
pub fn x25519(secret: &X25519SecretKey, public: &X25519PublicKey) -> Result<SharedSecret> {
    let s = x25519_dalek::StaticSecret::from(*secret.secret_bytes());
    let p = x25519_dalek::PublicKey::from(*public.as_bytes());
    let shared = s.diffie_hellman(&p);
    if !shared.was_contributory() {
        return Err(Error::NonContributory);
    }
    Ok(SharedSecret::new(shared.to_bytes()))
}

/// The public key of an X25519 secret (with its `kid`), checked against the
/// public key stored with it, if any.
///
/// # Errors
/// [`Error::InvalidKey`] if the stored public key is another.
#[cfg(feature = "x25519")]
#[cfg_attr(docsrs, doc(cfg(feature = "x25519")))]
pub fn x25519_public_key(secret: &X25519SecretKey) -> Result<X25519PublicKey> {
    let s = x25519_dalek::StaticSecret::from(*secret.secret_bytes());
    let public = x25519_dalek::PublicKey::from(&s).to_bytes();
    secret.own_public(public)
}

// ---------------------------------------------------------------------------
// Signers

#[cfg(feature = "secrets")]
#[derive(Debug)]
struct Keys;

#[cfg(feature = "secrets")]
impl KeyProvider for Keys {
    fn load_signing_key(&self, key: SigningKey) -> Result<Box<dyn Signer>> {
        let (pair, public) = SoftwarePair::parse(&key)?;
        Ok(Box::new(SoftwareSigner { pair, public }))
    }

    fn public_key(&self, key: &SigningKey) -> Result<VerifyingKey> {
        SoftwarePair::parse(key).map(|(_, public)| public)
    }
}

/// A signer over a copy of `key`, which stays with the caller ([`Provider::signer`]
/// takes the key itself): for code that signs with one software key through
/// several providers, or keeps the key to export it. The copy lives in the
/// signer (parsed once, zeroized on drop).
///
/// # Errors
/// As [`Provider::signer`].
#[cfg(feature = "secrets")]
#[cfg_attr(docsrs, doc(cfg(feature = "secrets")))]
pub fn signer_copy(key: &SigningKey) -> Result<Box<dyn Signer>> {
    let (pair, public) = SoftwarePair::parse(key)?;
    Ok(Box::new(SoftwareSigner { pair, public }))
}

/// A parsed key pair (the dalek key and the p256 key zeroize themselves on drop).
#[cfg(feature = "secrets")]
enum SoftwarePair {
    Ed25519(ed25519_dalek::SigningKey),
    #[cfg(feature = "p256")]
    P256(p256::ecdsa::SigningKey),
}

#[cfg(feature = "secrets")]
impl SoftwarePair {
    /// Parses `key` and derives its public key (imported, with the key's `kid`),
    /// checking it against the public key stored with `key`, if any.
    fn parse(key: &SigningKey) -> Result<(Self, VerifyingKey)> {
        let (pair, public) = match key.algorithm() {
            Algorithm::EdDSA => {
                let sk = ed25519_dalek::SigningKey::from_bytes(key.secret_bytes());
                let public = VerifyingKey::ed25519(sk.verifying_key().as_bytes())?;
                (Self::Ed25519(sk), public)
            }
            #[cfg(feature = "p256")]
            Algorithm::ES256 => {
                let sk = p256::ecdsa::SigningKey::from_slice(key.secret_bytes()).map_err(|_| Error::InvalidKey)?;
                let point = sk.verifying_key().to_sec1_point(false);
                let public = VerifyingKey::p256_sec1(point.as_bytes())?;
                (Self::P256(sk), public)
            }
            _ => return Err(Error::UnsupportedAlgorithm),
        };
        let public = PROVIDER.import(key.own_public(public)?)?;
        Ok((pair, public))
    }
}

/// A key held in memory, parsed once when it was loaded.
#[cfg(feature = "secrets")]
struct SoftwareSigner {
    pair: SoftwarePair,
    public: VerifyingKey,
}

#[cfg(feature = "secrets")]
impl core::fmt::Debug for SoftwareSigner {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SoftwareSigner")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

#[cfg(feature = "secrets")]
impl Signer for SoftwareSigner {
    fn verifying_key(&self) -> &VerifyingKey {
        &self.public
    }

    fn sign(&self, msg: &[u8]) -> Result<[u8; SIGNATURE_LEN]> {
        match &self.pair {
            SoftwarePair::Ed25519(k) => {
                use ed25519_dalek::Signer as _;
                Ok(k.sign(msg).to_bytes())
            }
            #[cfg(feature = "p256")]
            SoftwarePair::P256(k) => {
                use p256::ecdsa::signature::Signer as _;
                let sig: p256::ecdsa::Signature = k.try_sign(msg).map_err(|_| Error::Backend)?;
                <[u8; SIGNATURE_LEN]>::try_from(sig.to_bytes().as_slice()).map_err(|_| Error::Backend)
            }
        }
    }
}

#[cfg(test)]
mod tests;
