#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

use citysec_core::backend::{SIGNATURE_LEN, TAG_LEN};
use citysec_core::provider::{BackendBridge, KeyProvider, Provider, Signer};
use citysec_core::{
    Algorithm, Backend, Error, Result, SharedSecret, SigningKey, SymmetricKey, VerifyingKey, X25519PublicKey,
    X25519SecretKey,
};
use ring::{aead, hkdf, rand, signature};

/// The *ring* backend. Cheap to construct and to copy.
#[derive(Clone, Copy, Debug, Default)]
pub struct Ring;

fn aead_alg(alg: Algorithm) -> Result<&'static aead::Algorithm> {
    match alg {
        Algorithm::ChaCha20Poly1305 => Ok(&aead::CHACHA20_POLY1305),
        Algorithm::A128GCM => Ok(&aead::AES_128_GCM),
        Algorithm::A256GCM => Ok(&aead::AES_256_GCM),
        _ => Err(Error::UnsupportedAlgorithm),
    }
}

fn aead_key(key: &SymmetricKey) -> Result<aead::LessSafeKey> {
    let unbound =
        aead::UnboundKey::new(aead_alg(key.algorithm())?, key.secret_bytes()).map_err(|_| Error::InvalidKey)?;
    Ok(aead::LessSafeKey::new(unbound))
}

fn nonce(bytes: &[u8]) -> Result<aead::Nonce> {
    aead::Nonce::try_assume_unique_for_key(bytes).map_err(|_| Error::InvalidIv)
}

/// An HKDF output length for ring's `KeyType`.
struct OkmLen(usize);

impl hkdf::KeyType for OkmLen {
    fn len(&self) -> usize {
        self.0
    }
}

impl Backend for Ring {
    fn name(&self) -> &'static str {
        "ring"
    }

    /// Parses the key on every call; a signer from [`PROVIDER`]'s key provider
    /// parses it once.
    fn sign(&self, key: &SigningKey, msg: &[u8]) -> Result<[u8; SIGNATURE_LEN]> {
        RingPair::parse(key)?.sign(msg)
    }

    fn verify(&self, key: &VerifyingKey, msg: &[u8], sig: &[u8]) -> Result<()> {
        let alg: &dyn signature::VerificationAlgorithm = match key.algorithm() {
            Algorithm::EdDSA => &signature::ED25519,
            Algorithm::ES256 => &signature::ECDSA_P256_SHA256_FIXED,
            _ => return Err(Error::BadSignature),
        };
        if sig.len() != SIGNATURE_LEN {
            return Err(Error::BadSignature);
        }
        // ring's Ed25519 verification follows RFC 8032 but, unlike dalek's `verify_strict`,
        // does not refuse an R of small order: check that first, so both backends accept
        // exactly the same signatures (Wycheproof in citysec-backend-tests).
        if key.algorithm() == Algorithm::EdDSA && !citysec_core::backend::ed25519_r_is_strict(sig) {
            return Err(Error::BadSignature);
        }
        signature::UnparsedPublicKey::new(alg, key.as_bytes())
            .verify(msg, sig)
            .map_err(|_| Error::BadSignature)
    }

    fn seal(&self, key: &SymmetricKey, nonce_bytes: &[u8], aad: &[u8], in_out: &mut [u8]) -> Result<[u8; TAG_LEN]> {
        let k = aead_key(key)?;
        let tag = k
            .seal_in_place_separate_tag(nonce(nonce_bytes)?, aead::Aad::from(aad), in_out)
            .map_err(|_| Error::InvalidLength)?;
        <[u8; TAG_LEN]>::try_from(tag.as_ref()).map_err(|_| Error::Backend)
    }

    fn open(&self, key: &SymmetricKey, nonce_bytes: &[u8], aad: &[u8], in_out: &mut [u8], tag: &[u8]) -> Result<()> {
        let k = aead_key(key)?;
        let n = nonce(nonce_bytes)?;
        let tag = aead::Tag::try_from(tag).map_err(|_| Error::DecryptFailed)?;
        k.open_in_place_separate_tag(n, aead::Aad::from(aad), tag, in_out, 0..)
            .map(|_| ())
            .map_err(|_| {
                // ring leaves unspecified bytes behind on failure; leave none.
                in_out.fill(0);
                Error::DecryptFailed
            })
    }

    fn hkdf_sha256(&self, salt: &[u8], ikm: &[u8], info: &[u8], okm: &mut [u8]) -> Result<()> {
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, salt).extract(ikm);
        let info = [info];
        let out = prk.expand(&info, OkmLen(okm.len())).map_err(|_| Error::InvalidLength)?;
        out.fill(okm).map_err(|_| Error::InvalidLength)
    }

    fn x25519(&self, secret: &X25519SecretKey, public: &X25519PublicKey) -> Result<SharedSecret> {
        citysec_core::backend::x25519(secret, public)
    }
}

// ---------------------------------------------------------------------------
// The provider model (issue 14, step (a)).

/// The *ring* provider. X25519 comes from x25519-dalek through citysec-core:
/// *ring* has no static X25519 keys.
pub static PROVIDER: Provider = Provider {
    name: "ring",
    signature_verifiers: &[
        &BackendBridge(Algorithm::EdDSA, Ring),
        &BackendBridge(Algorithm::ES256, Ring),
    ],
    aeads: &[
        &BackendBridge(Algorithm::ChaCha20Poly1305, Ring),
        &BackendBridge(Algorithm::A128GCM, Ring),
        &BackendBridge(Algorithm::A256GCM, Ring),
    ],
    hkdf: Some(&BackendBridge(Algorithm::EcdhEsHkdf256, Ring)),
    key_agreement: Some(&BackendBridge(Algorithm::EcdhEsHkdf256, Ring)),
    key_provider: Some(&Keys),
};

#[derive(Debug)]
struct Keys;

impl KeyProvider for Keys {
    /// Parses the key into *ring*'s key pair once; the [`SigningKey`] is dropped
    /// (and zeroized) here. *ring*'s key pairs do not zeroize their private
    /// scalar on drop.
    fn load_signing_key(&self, key: SigningKey) -> Result<Box<dyn Signer>> {
        let pair = RingPair::parse(&key)?;
        Ok(Box::new(RingSigner {
            pair,
            public: key.verifying_key(),
        }))
    }
}

/// A *ring* key pair, parsed once.
enum RingPair {
    Ed25519(signature::Ed25519KeyPair),
    P256(signature::EcdsaKeyPair, rand::SystemRandom),
}

impl RingPair {
    fn parse(key: &SigningKey) -> Result<Self> {
        let secret = key.secret_bytes();
        let public = key.verifying_key();
        match key.algorithm() {
            Algorithm::EdDSA => signature::Ed25519KeyPair::from_seed_and_public_key(&secret[..], public.as_bytes())
                .map(Self::Ed25519)
                .map_err(|_| Error::InvalidKey),
            Algorithm::ES256 => {
                let rng = rand::SystemRandom::new();
                let pair = signature::EcdsaKeyPair::from_private_key_and_public_key(
                    &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                    &secret[..],
                    public.as_bytes(),
                    &rng,
                )
                .map_err(|_| Error::InvalidKey)?;
                Ok(Self::P256(pair, rng))
            }
            _ => Err(Error::UnsupportedAlgorithm),
        }
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
