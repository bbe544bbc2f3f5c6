#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod claims;

pub use citysec_core::cwt::presentation::{self, Challenge, present};
pub use citysec_core::cwt::status::{self, StatusList, VerifiedStatusList};
pub use citysec_core::cwt::{
    ClaimKey, Confirmation, DEFAULT_SKEW_SECONDS, Error, Issuer, Result, StatusListSigners, StatusListVerifier,
    StatusRef, TrustAnchors, TrustDomain, VerifiedCwt,
};
pub use claims::{Claims, CredentialKind, ScheduleWindow};

/// The trust domain of credential issuers: the keys that sign access
/// credentials. Its tokens decode into the access profile's [`Claims`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Issuers;

impl TrustDomain for Issuers {
    const NAME: &'static str = "credential issuers";
    type Claims = Claims;
}

/// Trust anchors for access credentials: the credential issuers' keys.
pub type Verifier = TrustAnchors<Issuers>;

/// A verified access credential.
pub type VerifiedCredential = VerifiedCwt<Issuers>;
