//! Trust domains: which kind of signer a set of trust anchors is for.
//!
//! A [`TrustAnchors`](crate::TrustAnchors) value carries its domain in its type,
//! and so does every token it verifies ([`VerifiedCwt`](crate::VerifiedCwt)):
//! a verifier of credential issuers cannot stand in for a verifier of
//! attestation results, and a verified endorsement cannot be read as an access
//! credential. The aliases name the combinations:
//!
//! | domain | verifier | verified token |
//! | --- | --- | --- |
//! | [`Issuers`] | [`Verifier`](crate::Verifier) | [`VerifiedCredential`](crate::VerifiedCredential) |
//! | [`StatusListSigners`] | [`StatusListVerifier`](crate::StatusListVerifier) | [`VerifiedStatusList`](crate::VerifiedStatusList) |
//! | [`Manufacturers`] | [`ManufacturerVerifier`](crate::ManufacturerVerifier) | endorsements (citysec-attest) |
//! | [`AttestationVerifiers`] | [`ResultVerifier`](crate::ResultVerifier) | attestation results (citysec-attest) |
//!
//! Policy signers are a fifth domain, `citysec_policy::bundle::PolicySigners`.
//! The trait is sealed: the domains are these four.

use core::fmt::Debug;

mod sealed {
    pub trait Sealed {}
}

/// A trust domain (sealed; one of the four types of this module).
pub trait TrustDomain: sealed::Sealed + Copy + Debug + PartialEq + Eq + Send + Sync + 'static {
    /// A name for messages.
    const NAME: &'static str;
}

/// Credential issuers: the keys that sign access credentials.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Issuers;

/// Status-list signers: the keys that sign Token Status Lists. In citysec's
/// profile an issuer signs its own lists (`Verifier::status_list_signers`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatusListSigners;

/// Device manufacturers: the keys that sign endorsements of device keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Manufacturers;

/// Attestation verifiers: the keys that sign attestation results.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AttestationVerifiers;

impl sealed::Sealed for Issuers {}
impl sealed::Sealed for StatusListSigners {}
impl sealed::Sealed for Manufacturers {}
impl sealed::Sealed for AttestationVerifiers {}

impl TrustDomain for Issuers {
    const NAME: &'static str = "credential issuers";
}
impl TrustDomain for StatusListSigners {
    const NAME: &'static str = "status-list signers";
}
impl TrustDomain for Manufacturers {
    const NAME: &'static str = "manufacturers";
}
impl TrustDomain for AttestationVerifiers {
    const NAME: &'static str = "attestation verifiers";
}
