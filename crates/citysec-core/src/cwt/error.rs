//! The error type of the CWT layer and its profiles.

use core::fmt;

/// Result alias for the CWT layer and its profiles.
pub type Result<T, E = Error> = core::result::Result<T, E>;

/// Why a CWT (a credential, an endorsement, an attestation result), a
/// presentation or a status list was refused.
///
/// Structural and cryptographic failures come from citysec-core unchanged
/// ([`Error::Core`]): a bad signature stays opaque. Claim errors are reported only
/// after the signature verified.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Error {
    /// The COSE layer refused the token (tag, well-formedness, headers, unknown key,
    /// key/alg mismatch, bad signature, limits, ...).
    Core(crate::Error),
    /// The claims are not a CBOR map of the registered and profile claim types.
    MalformedClaims,
    /// `exp`, `nbf` or `iat` is not an integer in 0..=253402300799.
    InvalidTime,
    /// The credential has no `exp`; citysec credentials must expire.
    MissingExpiration,
    /// `exp` has passed (beyond the allowed clock skew).
    Expired,
    /// `nbf` lies in the future (beyond the allowed clock skew).
    NotYetValid,
    /// `iat` lies in the future (beyond the allowed clock skew).
    IssuedInFuture,
    /// The credential names no audience.
    MissingAudience,
    /// None of the credential's audiences is one this verifier accepts.
    WrongAudience,
    /// The credential's `iss` is missing or is not the issuer its signing key belongs to.
    WrongIssuer,
    /// The issuer configuration is unusable (no `kid` on the key, `iss` given twice, ...).
    InvalidConfiguration,
    /// The status list says the credential is revoked (status 1, or any value this
    /// verifier does not know).
    Revoked,
    /// The status list says the credential is suspended (status 2).
    Suspended,
    /// The credential refers to a status list the verifier was not given, or the
    /// verifier requires a status reference and the credential has none.
    StatusUnavailable,
    /// The status list has expired.
    StatusListExpired,
    /// The status list is older (by `iat`) than the one held for its URI.
    StaleStatusList,
    /// The status list has the `iat` of the one held for its URI but another payload.
    StatusListConflict,
    /// The status list is older (`now - iat`) than the verifier's
    /// `max_status_age`, or than its own `ttl` where the verifier bounds the age.
    StatusListTooOld,
    /// The held-state store failed; the status list is refused.
    StateStore(crate::state::StoreError),
    /// The credential's status index lies outside the status list.
    StatusIndexOutOfRange,
    /// The status list was issued by another issuer than the credential.
    StatusIssuerMismatch,
    /// The status list is malformed (bits, encoding, compression, size limit).
    MalformedStatusList,
    /// The credential binds no holder key (`cnf` with a COSE_Key) to present with.
    NoConfirmationKey,
    /// The presentation answers another challenge (nonce, reader or time differ).
    ChallengeMismatch,
    /// The challenge is older than the verifier accepts.
    ChallengeExpired,
    /// The presentation is not a citysec presentation.
    MalformedPresentation,
    /// The audit sink could not record the status list's installation; it is
    /// not in force.
    Audit(crate::audit::AuditError),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let msg = match self {
            Self::Core(e) => return fmt::Display::fmt(e, f),
            Self::MalformedClaims => "malformed claims",
            Self::InvalidTime => "time claim is not an integer in range",
            Self::MissingExpiration => "credential has no expiry",
            Self::Expired => "credential expired",
            Self::NotYetValid => "credential not yet valid",
            Self::IssuedInFuture => "credential issued in the future",
            Self::MissingAudience => "credential names no audience",
            Self::WrongAudience => "credential is for another audience",
            Self::WrongIssuer => "credential names another issuer than its key's",
            Self::InvalidConfiguration => "invalid issuer or verifier configuration",
            Self::Revoked => "credential revoked",
            Self::Suspended => "credential suspended",
            Self::StatusUnavailable => "credential status unavailable",
            Self::StatusListExpired => "status list expired",
            Self::StaleStatusList => "status list is older than the one held for its uri",
            Self::StatusListConflict => "status list differs from the one held with the same issue time",
            Self::StatusListTooOld => "status list is older than the verifier accepts",
            Self::StateStore(e) => return write!(f, "status list refused: {e}"),
            Self::Audit(e) => return write!(f, "status list not recorded: {e}"),
            Self::StatusIndexOutOfRange => "status index outside the status list",
            Self::StatusIssuerMismatch => "status list from another issuer",
            Self::MalformedStatusList => "malformed status list",
            Self::NoConfirmationKey => "credential binds no holder key",
            Self::ChallengeMismatch => "presentation answers another challenge",
            Self::ChallengeExpired => "challenge expired",
            Self::MalformedPresentation => "malformed presentation",
        };
        f.write_str(msg)
    }
}

impl core::error::Error for Error {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Core(e) => Some(e),
            Self::StateStore(e) => Some(e),
            _ => None,
        }
    }
}

impl From<crate::Error> for Error {
    fn from(e: crate::Error) -> Self {
        Self::Core(e)
    }
}
