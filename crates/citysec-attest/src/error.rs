//! The one error type of citysec-attest.

use core::fmt;

/// Result alias for this crate.
pub type Result<T, E = Error> = core::result::Result<T, E>;

/// Why evidence, an endorsement or an attestation result was refused, or an
/// appraisal could not be made.
///
/// COSE-layer failures of evidence (tag, well-formedness, limits, headers, key,
/// signature) come from citysec-core unchanged in [`Error::Core`], so a bad signature
/// stays opaque. Endorsements and attestation results are CWTs checked by
/// the CWT layer (citysec-cwt); its errors are wrapped in [`Error::Endorsement`] and
/// [`Error::Credential`]. Claim errors are reported only after a signature verified.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Error {
    /// The COSE layer refused the evidence, or its claims are not well-formed CBOR
    /// within the limits (too large, too deep, duplicate keys, ...).
    Core(citysec_core::Error),
    /// The endorsement is not a valid CWT by a trusted manufacturer (untrusted key,
    /// bad signature, expired, ...).
    Endorsement(citysec_core::cwt::Error),
    /// The attestation result is not a valid CWT by a trusted verifier, or could not
    /// be issued.
    Credential(citysec_core::cwt::Error),
    /// The evidence claims do not follow the citysec EAT profile (types, sizes).
    MalformedEvidence,
    /// The endorsement verified but is not a citysec endorsement (profile, `sub`,
    /// `cnf`, `hwmodel`).
    MalformedEndorsement,
    /// The attestation result verified but is not a citysec attestation result.
    MalformedResult,
    /// An EAR from an external verifier was refused after its signature verified
    /// (or, as JWT, before anything was read): which rule it broke.
    External(crate::external::ExternalError),
    /// The evidence names another `eat_profile` than the citysec evidence profile.
    UnsupportedProfile,
    /// A nonce is not a byte string of 8..=64 bytes (RFC 9711), or a challenge nonce
    /// is shorter than 16 bytes.
    InvalidNonce,
    /// A `ueid` is not 7..=33 bytes (RFC 9711).
    InvalidUeid,
    /// A claim given to the evidence builder or endorsement is out of range
    /// (`hwmodel` not 1..=32 bytes, duplicate submodule name, ...).
    InvalidClaim,
    /// The evidence has no `ueid`.
    MissingUeid,
    /// Nonce freshness was chosen and the evidence has no `eat_nonce`.
    MissingNonce,
    /// Timestamp freshness was chosen and the evidence has no `iat`.
    MissingTimestamp,
    /// The evidence nonce was never issued by this verifier (or was forgotten after it expired).
    UnknownNonce,
    /// The evidence nonce expired before the evidence arrived.
    NonceExpired,
    /// The evidence nonce was used before: replayed evidence.
    NonceReplayed,
    /// The nonce store holds as many unexpired nonces as it may; no challenge was issued.
    NonceStoreFull,
    /// The nonce store could not be reached or failed (a shared store's server is
    /// down, say); the challenge or the appraisal fails closed.
    NonceStoreUnavailable,
    /// Timestamp freshness: the evidence `iat` is older than the window allows.
    StaleEvidence,
    /// Timestamp freshness: the evidence `iat` lies in the future (beyond the skew).
    EvidenceFromFuture,
    /// The evidence `ueid` is not the endorsed device's.
    UeidMismatch,
    /// The evidence `hwmodel` is not the endorsed one.
    HwModelMismatch,
    /// The evidence `oemid` is not the endorsed one.
    OemIdMismatch,
    /// The verifier has no reference values for the endorsed `hwmodel`; no result is issued.
    UnknownHwModel,
    /// Reference values are unusable (a version that is not dotted numbers, a
    /// duplicate hwmodel or component).
    InvalidReferenceValues,
    /// The output buffer given to the evidence builder is too small.
    BufferTooSmall,
    /// The appraisal succeeded but the audit sink could not record it: no result
    /// is handed out.
    Audit(citysec_core::audit::AuditError),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let msg = match self {
            Self::Core(e) => return fmt::Display::fmt(e, f),
            Self::Endorsement(e) => return write!(f, "endorsement refused: {e}"),
            Self::Credential(e) => return write!(f, "attestation result refused: {e}"),
            Self::MalformedEvidence => "malformed evidence claims",
            Self::MalformedEndorsement => "malformed endorsement",
            Self::MalformedResult => "malformed attestation result",
            Self::External(e) => return write!(f, "external attestation result refused: {e}"),
            Self::UnsupportedProfile => "evidence follows another eat profile",
            Self::InvalidNonce => "nonce length out of range",
            Self::InvalidUeid => "ueid length out of range",
            Self::InvalidClaim => "claim value out of range",
            Self::MissingUeid => "evidence has no ueid",
            Self::MissingNonce => "evidence has no nonce",
            Self::MissingTimestamp => "evidence has no iat",
            Self::UnknownNonce => "nonce unknown to this verifier",
            Self::NonceExpired => "nonce expired",
            Self::NonceReplayed => "nonce already used",
            Self::NonceStoreFull => "nonce store full",
            Self::NonceStoreUnavailable => "nonce store unavailable",
            Self::StaleEvidence => "evidence too old",
            Self::EvidenceFromFuture => "evidence issued in the future",
            Self::UeidMismatch => "evidence is from another device than the endorsed one",
            Self::HwModelMismatch => "evidence names another hwmodel than the endorsement",
            Self::OemIdMismatch => "evidence names another oemid than the endorsement",
            Self::UnknownHwModel => "no reference values for this hwmodel",
            Self::InvalidReferenceValues => "invalid reference values",
            Self::BufferTooSmall => "output buffer too small",
            Self::Audit(e) => return write!(f, "appraisal not recorded: {e}"),
        };
        f.write_str(msg)
    }
}

impl core::error::Error for Error {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Core(e) => Some(e),
            Self::Endorsement(e) | Self::Credential(e) => Some(e),
            _ => None,
        }
    }
}

/// What a `Vec<u8>` sink cannot return.
impl From<core::convert::Infallible> for Error {
    fn from(never: core::convert::Infallible) -> Self {
        match never {}
    }
}

impl From<citysec_core::Error> for Error {
    fn from(e: citysec_core::Error) -> Self {
        Self::Core(e)
    }
}
