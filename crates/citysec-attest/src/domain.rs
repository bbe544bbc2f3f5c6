//! The attestation profile's trust domains (see `citysec_core::cwt::domain`): the
//! manufacturers that endorse device keys and the attestation verifiers that sign
//! results. Both decode into a plain [`ClaimsSet`]; the endorsement and result
//! types read their claims from it.

use citysec_core::cwt::{ClaimsSet, TrustAnchors, TrustDomain};

/// Device manufacturers: the keys that sign endorsements of device keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Manufacturers;

/// Attestation verifiers: the keys that sign attestation results.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AttestationVerifiers;

impl TrustDomain for Manufacturers {
    const NAME: &'static str = "manufacturers";
    type Claims = ClaimsSet;
}

impl TrustDomain for AttestationVerifiers {
    const NAME: &'static str = "attestation verifiers";
    type Claims = ClaimsSet;
}

/// Trust anchors for endorsements: the manufacturers' keys.
pub type ManufacturerVerifier = TrustAnchors<Manufacturers>;

/// Trust anchors for attestation results: the attestation verifiers' keys.
pub type ResultVerifier = TrustAnchors<AttestationVerifiers>;
