//! The one error type of citysec-core.

use core::fmt;

/// Result alias used across citysec-core.
pub type Result<T, E = Error> = core::result::Result<T, E>;

/// Everything that can go wrong in citysec-core.
///
/// Cryptographic failures are deliberately opaque: [`Error::BadSignature`] and
/// [`Error::DecryptFailed`] carry no detail, so a verifier never becomes an oracle.
/// Structural errors (tags, headers, limits) are precise, because they are reported
/// before any key is used and reveal nothing about secrets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Error {
    /// The input is not a CBOR data item we accept (truncated, reserved encoding,
    /// invalid UTF-8, wrong structure).
    Malformed,
    /// An indefinite-length item appeared; the citysec profile forbids them.
    IndefiniteLength,
    /// A CBOR map carries the same key twice.
    DuplicateMapKey,
    /// Bytes follow the end of the object.
    TrailingBytes,
    /// The input is larger than [`Limits::max_message_size`](crate::Limits).
    TooLarge,
    /// The input nests deeper than [`Limits::max_depth`](crate::Limits).
    TooDeep,
    /// A map or array has more entries than [`Limits::max_entries`](crate::Limits).
    TooManyEntries,
    /// The leading CBOR tag is missing or is not the one this API expects.
    WrongTag,
    /// A CBOR tag appears inside the structure, where the profile allows none.
    UnexpectedTag,
    /// The protected header does not carry `alg` (an `alg` only in the
    /// unprotected bucket counts as missing).
    AlgNotProtected,
    /// The algorithm is not one citysec implements (or its feature is off).
    UnsupportedAlgorithm,
    /// A header label appears in both the protected and the unprotected bucket.
    DuplicateHeaderLabel,
    /// `crit` appears in the unprotected bucket.
    CritNotProtected,
    /// `crit` lists a label this verifier does not implement.
    UnknownCrit,
    /// The payload or ciphertext is detached (`nil`); this API needs it attached.
    DetachedContent,
    /// Both an IV and a Partial IV are present, or the nonce material is invalid.
    InvalidIv,
    /// The selected key is for another algorithm than the message's `alg`.
    KeyAlgMismatch,
    /// No trusted key has the message's `kid` (or the message carries none).
    UnknownKey,
    /// Two keys in one key set carry the same `kid`.
    DuplicateKid,
    /// The key material is invalid (wrong length, not on the curve, wrong type,
    /// missing parameters).
    InvalidKey,
    /// The key is weak: a small-order Ed25519 public key or an all-zero X25519 secret.
    WeakKey,
    /// Signature verification failed.
    BadSignature,
    /// Authenticated decryption failed.
    DecryptFailed,
    /// An X25519 exchange produced the all-zero shared secret (a low-order peer key).
    NonContributory,
    /// An output length or parameter is out of range for the primitive.
    InvalidLength,
    /// The crypto backend failed for a reason it does not disclose.
    Backend,
    /// A signer's key could not be used: its token was removed, its session
    /// closed or its login lost (a PKCS#11 token, a secure element). Nothing was
    /// signed.
    KeyUnavailable,
    /// Secret key material was to be exported without the `hazmat` feature.
    SecretExport,
    /// The clock could not give the current time; time checks fail closed.
    ClockUnavailable,
    /// A well-formed item that is not in the deterministic encoding (RFC 8949
    /// §4.2.1) its format requires: a head longer than needed, a float not in its
    /// shortest form, or map keys out of order.
    NotDeterministic,
    /// A map whose keys are not in ascending order has more entries than
    /// `cbor::UNSORTED_MAP_MAX`, or such maps hold more than
    /// `cbor::UNSORTED_ENTRIES_MAX` entries in one message.
    UnsortedMap,
    /// An encoder's output buffer is shorter than what it writes, or a length
    /// to encode overflows.
    BufferTooSmall,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let msg = match self {
            Self::Malformed => "malformed input",
            Self::IndefiniteLength => "indefinite-length item not allowed",
            Self::DuplicateMapKey => "duplicate map key",
            Self::TrailingBytes => "trailing bytes after the object",
            Self::TooLarge => "input exceeds the size limit",
            Self::TooDeep => "input exceeds the nesting depth limit",
            Self::TooManyEntries => "map or array exceeds the entry limit",
            Self::WrongTag => "missing or unexpected cbor tag",
            Self::UnexpectedTag => "cbor tag not allowed inside the structure",
            Self::AlgNotProtected => "alg not protected",
            Self::UnsupportedAlgorithm => "unsupported algorithm",
            Self::DuplicateHeaderLabel => "header label in both protected and unprotected buckets",
            Self::CritNotProtected => "crit not protected",
            Self::UnknownCrit => "unknown critical header",
            Self::DetachedContent => "detached content not supported here",
            Self::InvalidIv => "invalid iv or partial iv",
            Self::KeyAlgMismatch => "key does not match the message algorithm",
            Self::UnknownKey => "unknown key",
            Self::DuplicateKid => "duplicate kid in key set",
            Self::InvalidKey => "invalid key",
            Self::WeakKey => "weak key",
            Self::BadSignature => "bad signature",
            Self::DecryptFailed => "decryption failed",
            Self::NonContributory => "key agreement produced the all-zero secret",
            Self::InvalidLength => "invalid length",
            Self::Backend => "crypto backend failure",
            Self::KeyUnavailable => "signing key unavailable (token removed or session lost)",
            Self::SecretExport => "secret key export needs the hazmat feature",
            Self::ClockUnavailable => "clock unavailable",
            Self::NotDeterministic => "not in deterministic cbor encoding",
            Self::UnsortedMap => "map keys out of order in a map too large, or in too many maps, to check unsorted",
            Self::BufferTooSmall => "output buffer too small",
        };
        f.write_str(msg)
    }
}

impl core::error::Error for Error {}

/// A sink that cannot fail (a `Vec<u8>`) has [`Infallible`](core::convert::Infallible) errors.
impl From<core::convert::Infallible> for Error {
    fn from(never: core::convert::Infallible) -> Self {
        match never {}
    }
}
