#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::sync::Arc;

use citysec_core::keys::{Prepared, ed25519_r_is_strict};
use citysec_core::provider::{
    Aead, Hkdf, KeyAgreement, KeyProvider, Provider, SIGNATURE_LEN, SharedSecret, SignatureVerifier, Signer, TAG_LEN,
};
use citysec_core::{
    Algorithm, Error, Result, SigningKey, SymmetricKey, VerifyingKey, X25519PublicKey, X25519SecretKey,
};
use ring::{aead, hkdf, rand, signature};

/// The *ring* provider. X25519 comes from x25519-dalek: *ring* has no static
/// X25519 keys.
pub static PROVIDER: Provider = Provider {
    name: "ring",
    signature_verifiers: &[&Ed25519, &P256],
    aeads: &[
        &RingAead(Algorithm::ChaCha20Poly1305),
        &RingAead(Algorithm::A128GCM),
        &RingAead(Algorithm::A256GCM),
    ],
    hkdf: Some(&HkdfSha256),
    key_agreement: Some(&X25519),
    key_provider: Some(&Keys),
};

// ---------------------------------------------------------------------------
// Signature verification

#[derive(Debug)]
struct Ed25519;

impl SignatureVerifier for Ed25519 {
    fn algorithm(&self) -> Algorithm {
        Algorithm::EdDSA
    }

    /// *ring* parses the key on every verification and has no call that checks
    /// one alone: curve25519-dalek checks that the encoding is a point (its
    /// canonical form and small-order encodings citysec-core checked by bytes).
    fn prepare(&self, key: &VerifyingKey) -> Result<Option<Prepared>> {
        if key.algorithm() != Algorithm::EdDSA {
            return Err(Error::UnsupportedAlgorithm);
        }
        let bytes: [u8; 32] = key.as_bytes().try_into().map_err(|_| Error::InvalidKey)?;
        curve25519_dalek::edwards::CompressedEdwardsY(bytes)
            .decompress()
            .ok_or(Error::InvalidKey)?;
        Ok(None)
    }

    fn verify(&self, key: &VerifyingKey, msg: &[u8], sig: &[u8]) -> Result<()> {
        if key.algorithm() != Algorithm::EdDSA || sig.len() != SIGNATURE_LEN {
            return Err(Error::BadSignature);
        }
        // ring's Ed25519 verification follows RFC 8032 but, unlike dalek's
        // `verify_strict`, does not refuse an R of small order: check that
        // first, so both providers accept exactly the same signatures
        // (Wycheproof in citysec-backend-tests).
        if !ed25519_r_is_strict(sig) {
            return Err(Error::BadSignature);
        }
        signature::UnparsedPublicKey::new(&signature::ED25519, key.as_bytes())
            .verify(msg, sig)
            .map_err(|_| Error::BadSignature)
    }
}

#[derive(Debug)]
struct P256;

impl SignatureVerifier for P256 {
    fn algorithm(&self) -> Algorithm {
        Algorithm::ES256
    }

    /// *ring* parses the key on every verification and has no call that checks
    /// one alone: p256 checks that the point is on the curve.
    fn prepare(&self, key: &VerifyingKey) -> Result<Option<Prepared>> {
        if key.algorithm() != Algorithm::ES256 {
            return Err(Error::UnsupportedAlgorithm);
        }
        p256::PublicKey::from_sec1_bytes(key.as_bytes()).map_err(|_| Error::InvalidKey)?;
        Ok(None)
    }

    fn verify(&self, key: &VerifyingKey, msg: &[u8], sig: &[u8]) -> Result<()> {
        if key.algorithm() != Algorithm::ES256 || sig.len() != SIGNATURE_LEN {
            return Err(Error::BadSignature);
        }
        signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, key.as_bytes())
            .verify(msg, sig)
            .map_err(|_| Error::BadSignature)
    }
}

// ---------------------------------------------------------------------------
// AEADs, HKDF, X25519

/// One of *ring*'s AEADs (the algorithm says which).
#[derive(Debug)]
struct RingAead(Algorithm);

impl RingAead {
    /// *ring*'s algorithm for `key`, if it is of this AEAD's algorithm.
    fn ring_alg(&self, key: &SymmetricKey) -> Option<&'static aead::Algorithm> {
        match (self.0, key.algorithm()) {
            (Algorithm::ChaCha20Poly1305, Algorithm::ChaCha20Poly1305) => Some(&aead::CHACHA20_POLY1305),
            (Algorithm::A128GCM, Algorithm::A128GCM) => Some(&aead::AES_128_GCM),
            (Algorithm::A256GCM, Algorithm::A256GCM) => Some(&aead::AES_256_GCM),
            _ => None,
        }
    }

    /// A new *ring* key for `key`, if it is of this AEAD's algorithm.
    fn build(&self, key: &SymmetricKey) -> Option<aead::LessSafeKey> {
        aead::UnboundKey::new(self.ring_alg(key)?, key.secret_bytes())
            .ok()
            .map(aead::LessSafeKey::new)
    }

    /// Runs `f` with *ring*'s key for `key`: the one [`Aead::prepare`] attached,
    /// or one built for this call.
    fn with_key<T>(&self, key: &SymmetricKey, f: impl FnOnce(Option<&aead::LessSafeKey>) -> T) -> T {
        let alg = self.ring_alg(key);
        match key.prepared::<aead::LessSafeKey>() {
            Some(k) if alg.is_some_and(|a| a == k.algorithm()) => f(Some(k)),
            _ => f(self.build(key).as_ref()),
        }
    }
}

fn nonce(bytes: &[u8]) -> Result<aead::Nonce> {
    aead::Nonce::try_assume_unique_for_key(bytes).map_err(|_| Error::InvalidIv)
}

impl Aead for RingAead {
    fn algorithm(&self) -> Algorithm {
        self.0
    }

    fn seal(&self, key: &SymmetricKey, nonce_bytes: &[u8], aad: &[u8], in_out: &mut [u8]) -> Result<[u8; TAG_LEN]> {
        let n = nonce(nonce_bytes)?;
        let tag = self.with_key(key, |k| {
            k.ok_or(Error::UnsupportedAlgorithm)?
                .seal_in_place_separate_tag(n, aead::Aad::from(aad), in_out)
                .map_err(|_| Error::InvalidLength)
        })?;
        <[u8; TAG_LEN]>::try_from(tag.as_ref()).map_err(|_| Error::Backend)
    }

    fn open(&self, key: &SymmetricKey, nonce_bytes: &[u8], aad: &[u8], in_out: &mut [u8], tag: &[u8]) -> Result<()> {
        let n = nonce(nonce_bytes)?;
        let opened = self.with_key(key, |k| match (k, aead::Tag::try_from(tag)) {
            (Some(k), Ok(tag)) => k
                .open_in_place_separate_tag(n, aead::Aad::from(aad), tag, in_out, 0..)
                .is_ok(),
            _ => false,
        });
        if opened {
            Ok(())
        } else {
            // ring leaves unspecified bytes behind on failure; leave none.
            in_out.fill(0);
            Err(Error::DecryptFailed)
        }
    }

    /// *ring*'s key, built once. *ring* does not wipe its keys when they are
    /// dropped (nor offers a way to), so the key schedule of a prepared key stays
    /// in freed memory as the per-call keys stay on the stack; the RustCrypto
    /// provider wipes its keys.
    fn prepare(&self, key: &SymmetricKey) -> Result<Option<Prepared>> {
        let k = self.build(key).ok_or(Error::UnsupportedAlgorithm)?;
        Ok(Some(Arc::new(k)))
    }
}

/// An HKDF output length for ring's `KeyType`.
struct OkmLen(usize);

impl hkdf::KeyType for OkmLen {
    fn len(&self) -> usize {
        self.0
    }
}

#[derive(Debug)]
struct HkdfSha256;

impl Hkdf for HkdfSha256 {
    fn hkdf_sha256(&self, salt: &[u8], ikm: &[u8], info: &[u8], okm: &mut [u8]) -> Result<()> {
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, salt).extract(ikm);
        let info = [info];
        let out = prk.expand(&info, OkmLen(okm.len())).map_err(|_| Error::InvalidLength)?;
        out.fill(okm).map_err(|_| Error::InvalidLength)
    }
}

/// Static X25519 with x25519-dalek (*ring* has no static X25519 keys).
#[derive(Debug)]
struct X25519;

impl KeyAgreement for X25519 {
    fn x25519(&self, secret: &X25519SecretKey, public: &X25519PublicKey) -> Result<SharedSecret> {
        let s = x25519_dalek::StaticSecret::from(*secret.secret_bytes());
        let shared = s.diffie_hellman(&x25519_dalek::PublicKey::from(*public.as_bytes()));
        if !shared.was_contributory() {
            return Err(Error::NonContributory);
        }
        Ok(SharedSecret::new(shared.to_bytes()))
    }

    fn public_key(&self, secret: &X25519SecretKey) -> Result<X25519PublicKey> {
        let s = x25519_dalek::StaticSecret::from(*secret.secret_bytes());
        let public = x25519_dalek::PublicKey::from(&s).to_bytes();
        secret.own_public(public)
    }
}

// ---------------------------------------------------------------------------
// Signers

#[derive(Debug)]
struct Keys;

impl KeyProvider for Keys {
    /// Parses the key into *ring*'s key pair once; the [`SigningKey`] is dropped
    /// (and zeroized) here. *ring*'s key pairs do not zeroize their private
    /// scalar on drop.
    fn load_signing_key(&self, key: SigningKey) -> Result<Box<dyn Signer>> {
        let (pair, public) = RingPair::parse(&key)?;
        Ok(Box::new(RingSigner { pair, public }))
    }

    fn public_key(&self, key: &SigningKey) -> Result<VerifyingKey> {
        RingPair::parse(key).map(|(_, public)| public)
    }
}

/// A *ring* key pair, parsed once.
enum RingPair {
    Ed25519(signature::Ed25519KeyPair),
    P256(signature::EcdsaKeyPair, rand::SystemRandom),
}

impl RingPair {
    /// Parses `key` and derives its public key (imported, with the key's `kid`),
    /// checking it against the public key stored with `key`, if any.
    fn parse(key: &SigningKey) -> Result<(Self, VerifyingKey)> {
        let secret = key.secret_bytes();
        let (pair, public) = match key.algorithm() {
            Algorithm::EdDSA => {
                let pair = signature::Ed25519KeyPair::from_seed_unchecked(secret).map_err(|_| Error::InvalidKey)?;
                let public: [u8; 32] = signature::KeyPair::public_key(&pair)
                    .as_ref()
                    .try_into()
                    .map_err(|_| Error::InvalidKey)?;
                (Self::Ed25519(pair), VerifyingKey::ed25519(&public)?)
            }
            Algorithm::ES256 => {
                // ring's ECDSA key pair needs the public point beside the scalar.
                let scalar = p256::SecretKey::from_slice(secret).map_err(|_| Error::InvalidKey)?;
                let point = p256::elliptic_curve::sec1::ToSec1Point::to_sec1_point(&scalar.public_key(), false);
                let public = VerifyingKey::p256_sec1(point.as_bytes())?;
                let rng = rand::SystemRandom::new();
                let pair = signature::EcdsaKeyPair::from_private_key_and_public_key(
                    &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                    secret,
                    public.as_bytes(),
                    &rng,
                )
                .map_err(|_| Error::InvalidKey)?;
                (Self::P256(pair, rng), public)
            }
            _ => return Err(Error::UnsupportedAlgorithm),
        };
        Ok((pair, key.own_public(public)?))
    }

    fn sign(&self, msg: &[u8]) -> Result<[u8; SIGNATURE_LEN]> {
        let sig = match self {
            Self::Ed25519(pair) => pair.sign(msg),
            Self::P256(pair, rng) => pair.sign(rng, msg).map_err(|_| Error::Backend)?,
        };
        <[u8; SIGNATURE_LEN]>::try_from(sig.as_ref()).map_err(|_| Error::Backend)
    }
}

/// A signer over a *ring* key pair.
struct RingSigner {
    pair: RingPair,
    public: VerifyingKey,
}

impl core::fmt::Debug for RingSigner {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RingSigner")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

impl Signer for RingSigner {
    fn verifying_key(&self) -> &VerifyingKey {
        &self.public
    }

    fn sign(&self, msg: &[u8]) -> Result<[u8; SIGNATURE_LEN]> {
        self.pair.sign(msg)
    }
}
