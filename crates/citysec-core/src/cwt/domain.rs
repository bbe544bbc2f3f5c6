//! Trust domains: which kind of signer a set of trust anchors is for.
//!
//! A [`TrustAnchors`](crate::cwt::TrustAnchors) value carries its domain in its type,
//! and so does every token it verifies ([`VerifiedCwt`](crate::cwt::VerifiedCwt)):
//! trust anchors of one domain cannot stand in for another's, and a token
//! verified under one domain cannot be read as another's. The domain also names
//! the claims profile its tokens decode into ([`TrustDomain::Claims`]).
//!
//! Each profile crate defines its domains:
//!
//! | domain | crate | verifier alias | claims |
//! | --- | --- | --- | --- |
//! | [`StatusListSigners`] | citysec-cwt | [`StatusListVerifier`](crate::cwt::StatusListVerifier) | (status lists have their own decoder) |
//! | `Issuers` | citysec-credential | `Verifier` | the access profile's `Claims` |
//! | `Manufacturers` | citysec-attest | `ManufacturerVerifier` | [`ClaimsSet`] (endorsements) |
//! | `AttestationVerifiers` | citysec-attest | `ResultVerifier` | [`ClaimsSet`] (attestation results) |
//!
//! Policy signers are a fifth domain, `citysec_policy::bundle::PolicySigners`.

use core::fmt::Debug;

use crate::cwt::claims::{ClaimsSet, Profile};

/// A trust domain: a zero-sized marker type naming one kind of signer.
pub trait TrustDomain: Copy + Debug + PartialEq + Eq + Send + Sync + 'static {
    /// A name for messages.
    const NAME: &'static str;
    /// The claims profile tokens of this domain decode into.
    type Claims: Profile;
}

/// Status-list signers: the keys that sign Token Status Lists. In citysec's
/// profile an issuer signs its own lists
/// ([`TrustAnchors::status_list_signers`](crate::cwt::TrustAnchors::status_list_signers)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatusListSigners;

impl TrustDomain for StatusListSigners {
    const NAME: &'static str = "status-list signers";
    type Claims = ClaimsSet;
}
