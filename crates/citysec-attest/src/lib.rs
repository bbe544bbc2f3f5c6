#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

extern crate alloc;
#[cfg(test)]
extern crate std;

mod appraise;
pub mod domain;
pub mod endorsement;
mod error;
pub mod evidence;
pub mod external;
mod hex;
pub mod labels;
pub mod nonce;
pub mod reference;
pub mod result;

pub use appraise::{Appraisal, Appraiser, DEFAULT_RESULT_TTL_SECONDS, Freshness, Verdict, check};
pub use domain::{AttestationVerifiers, ManufacturerVerifier, Manufacturers, ResultVerifier};
pub use endorsement::{Endorsement, VerifiedEndorsement};
pub use error::{Error, Result};
pub use evidence::{
    DebugStatus, Evidence, EvidenceBuilder, Measurement, OemId, UnverifiedEvidence, VerifiedEvidence, VersionClaim,
};
pub use external::{
    AudienceRule, ExpectedDevice, ExpiryRule, ExternalAppraisal, ExternalEar, ExternalEarPolicy, ExternalEarVerifier,
    ExternalError,
};
pub use nonce::{Challenge, MemoryNonceStore, NonceStore};
pub use reference::{ReferenceSet, ReferenceValues, Version};
pub use result::{AttestationResult, Check, Reason, Tier, TrustVector, VerifierId};

#[cfg(test)]
mod tests;
