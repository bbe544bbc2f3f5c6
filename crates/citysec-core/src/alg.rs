//! The algorithms citysec implements, with their IANA COSE identifiers.

use coset::iana;
use coset::{Algorithm as CoseAlgorithm, RegisteredLabelWithPrivate};

/// A COSE algorithm citysec implements.
///
/// Every variant exists whatever features are on; an operation whose feature is off
/// fails with [`Error::UnsupportedAlgorithm`](crate::Error::UnsupportedAlgorithm).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Algorithm {
    /// EdDSA with Ed25519 (COSE -8).
    EdDSA,
    /// ECDSA with P-256 and SHA-256, raw r||s signatures (COSE -7).
    ES256,
    /// ChaCha20/Poly1305 with a 256-bit key and 128-bit tag (COSE 24).
    ChaCha20Poly1305,
    /// AES-GCM with a 128-bit key (COSE 1).
    A128GCM,
    /// AES-GCM with a 256-bit key (COSE 3; feature `aes-gcm`).
    A256GCM,
    /// ECDH-ES with HKDF-SHA-256, X25519 (COSE -25; feature `x25519`).
    EcdhEsHkdf256,
}

/// What an algorithm is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AlgorithmKind {
    /// A signature algorithm (COSE_Sign1).
    Signature,
    /// An AEAD content-encryption algorithm (COSE_Encrypt0).
    Aead,
    /// A key-agreement algorithm (COSE_Encrypt recipients).
    KeyAgreement,
}

impl Algorithm {
    /// The IANA COSE algorithm identifier.
    #[must_use]
    pub const fn cose_id(self) -> i64 {
        match self {
            Self::EdDSA => -8,
            Self::ES256 => -7,
            Self::ChaCha20Poly1305 => 24,
            Self::A128GCM => 1,
            Self::A256GCM => 3,
            Self::EcdhEsHkdf256 => -25,
        }
    }

    /// The algorithm with this IANA COSE identifier, if citysec implements it.
    #[must_use]
    pub const fn from_cose_id(id: i64) -> Option<Self> {
        Some(match id {
            -8 => Self::EdDSA,
            -7 => Self::ES256,
            24 => Self::ChaCha20Poly1305,
            1 => Self::A128GCM,
            3 => Self::A256GCM,
            -25 => Self::EcdhEsHkdf256,
            _ => return None,
        })
    }

    /// The algorithm's name as the COSE registry spells it.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::EdDSA => "EdDSA",
            Self::ES256 => "ES256",
            Self::ChaCha20Poly1305 => "ChaCha20/Poly1305",
            Self::A128GCM => "A128GCM",
            Self::A256GCM => "A256GCM",
            Self::EcdhEsHkdf256 => "ECDH-ES + HKDF-256",
        }
    }

    /// What the algorithm is for.
    #[must_use]
    pub const fn kind(self) -> AlgorithmKind {
        match self {
            Self::EdDSA | Self::ES256 => AlgorithmKind::Signature,
            Self::ChaCha20Poly1305 | Self::A128GCM | Self::A256GCM => AlgorithmKind::Aead,
            Self::EcdhEsHkdf256 => AlgorithmKind::KeyAgreement,
        }
    }

    /// Key length in bytes for AEAD algorithms, `None` for the others.
    #[must_use]
    pub const fn aead_key_len(self) -> Option<usize> {
        match self {
            Self::ChaCha20Poly1305 | Self::A256GCM => Some(32),
            Self::A128GCM => Some(16),
            _ => None,
        }
    }

    /// The algorithm as a coset header value.
    #[must_use]
    pub fn to_cose(self) -> CoseAlgorithm {
        let a = match self {
            Self::EdDSA => iana::Algorithm::EdDSA,
            Self::ES256 => iana::Algorithm::ES256,
            Self::ChaCha20Poly1305 => iana::Algorithm::ChaCha20Poly1305,
            Self::A128GCM => iana::Algorithm::A128GCM,
            Self::A256GCM => iana::Algorithm::A256GCM,
            Self::EcdhEsHkdf256 => iana::Algorithm::ECDH_ES_HKDF_256,
        };
        RegisteredLabelWithPrivate::Assigned(a)
    }

    /// The algorithm a coset header value names, if citysec implements it.
    #[must_use]
    pub fn from_cose(alg: &CoseAlgorithm) -> Option<Self> {
        match alg {
            RegisteredLabelWithPrivate::Assigned(a) => Self::from_cose_id(*a as i64),
            RegisteredLabelWithPrivate::PrivateUse(_) | RegisteredLabelWithPrivate::Text(_) => None,
        }
    }
}

impl core::fmt::Display for Algorithm {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}
