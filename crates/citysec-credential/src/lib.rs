#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod claims;
pub mod domain;
mod error;
mod issuer;
pub mod presentation;
pub mod status;
mod verifier;

pub use claims::{ClaimKey, Claims, Confirmation, CredentialKind, ScheduleWindow, StatusRef};
pub use error::{Error, Result};
pub use issuer::Issuer;
pub use presentation::{Challenge, present};
pub use status::{StatusList, VerifiedStatusList};
pub use verifier::{
    DEFAULT_SKEW_SECONDS, ManufacturerVerifier, ResultVerifier, StatusListVerifier, TrustAnchors, VerifiedCredential,
    VerifiedCwt, Verifier,
};
