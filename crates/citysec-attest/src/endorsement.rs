//! Endorsements: a manufacturer's CWT that binds a device (`sub` = its ueid) to its
//! attestation key (`cnf`) and its `hwmodel` / `oemid`.
//!
//! An endorsement is a CWT of the generic layer (a COSE_Sign1 by a trusted issuer
//! key, with `exp`), issued with [`citysec_core::cwt::Issuer`] and verified with a
//! [`ManufacturerVerifier`] configured with the manufacturers' keys. A
//! verifier trusts manufacturer keys, never device keys: a device key is trusted only
//! as far as an endorsement that verified says.
//!
//! ClaimsSet: `iss` (the manufacturer), `sub` (the ueid as lowercase hex: CWT `sub` is
//! text), `iat`, `exp`, `cnf` = `{1: COSE_Key}` (the device's public key, with its
//! `kid` if it has one), `eat_profile` (265) = [`labels::ENDORSEMENT_PROFILE`],
//! `hwmodel` (259, bytes), and optionally `oemid` (258).

use alloc::string::String;
use alloc::vec::Vec;

use citysec_core::coset::cbor::value::Value;
use citysec_core::cwt::{ClaimKey, ClaimsSet, Confirmation, Issuer, VerifiedCwt};
use citysec_core::provider::Provider;
use citysec_core::{Timestamp, VerifyingKey};

use crate::domain::{ManufacturerVerifier, Manufacturers};

use crate::evidence::{HWMODEL_LEN_RANGE, OemId, UEID_LEN_RANGE};
use crate::{Error, Result, hex, labels};

/// What a manufacturer vouches for about one device.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Endorsement {
    /// The device's `ueid` (7..=33 bytes).
    pub ueid: Vec<u8>,
    /// The device's attestation public key.
    pub device_key: VerifyingKey,
    /// The device's hardware model (1..=32 bytes).
    pub hwmodel: Vec<u8>,
    /// The manufacturer id, if the manufacturer states it.
    pub oemid: Option<OemId>,
}

impl Endorsement {
    /// An endorsement of the device with `ueid`, attestation key `device_key` and `hwmodel`.
    ///
    /// # Errors
    /// [`Error::InvalidUeid`]; [`Error::InvalidClaim`] for a `hwmodel` outside 1..=32 bytes.
    pub fn new(ueid: impl Into<Vec<u8>>, device_key: VerifyingKey, hwmodel: impl Into<Vec<u8>>) -> Result<Self> {
        let ueid = ueid.into();
        let hwmodel = hwmodel.into();
        if !UEID_LEN_RANGE.contains(&ueid.len()) {
            return Err(Error::InvalidUeid);
        }
        if !HWMODEL_LEN_RANGE.contains(&hwmodel.len()) {
            return Err(Error::InvalidClaim);
        }
        Ok(Self {
            ueid,
            device_key,
            hwmodel,
            oemid: None,
        })
    }

    /// This endorsement with an `oemid`.
    #[must_use]
    pub fn with_oemid(mut self, oemid: OemId) -> Self {
        self.oemid = Some(oemid);
        self
    }

    /// The endorsement as CWT claims (without `iss`, which the issuer sets).
    #[must_use]
    pub fn to_claims(&self, issued_at: Timestamp, expires: Timestamp) -> ClaimsSet {
        let mut c = ClaimsSet::new();
        c.sub = Some(hex::encode(&self.ueid));
        c.iat = Some(issued_at);
        c.exp = Some(expires);
        c.cnf = Some(Confirmation::Key(self.device_key.clone()));
        if let Some(o) = &self.oemid {
            c.other.push((ClaimKey::Int(labels::OEMID), o.to_value()));
        }
        c.other
            .push((ClaimKey::Int(labels::HWMODEL), Value::Bytes(self.hwmodel.clone())));
        c.other.push((
            ClaimKey::Int(labels::EAT_PROFILE),
            Value::Text(labels::ENDORSEMENT_PROFILE.into()),
        ));
        c
    }

    /// Signs this endorsement as `manufacturer`, valid from `issued_at` until `expires`.
    ///
    /// # Errors
    /// [`Error::Endorsement`] with the issuer's error (`exp` past year 9999, the
    /// signer's errors).
    pub fn issue(&self, manufacturer: &Issuer, issued_at: Timestamp, expires: Timestamp) -> Result<Vec<u8>> {
        manufacturer
            .issue(&self.to_claims(issued_at, expires))
            .map_err(Error::Endorsement)
    }

    /// Reads an endorsement from verified CWT claims.
    ///
    /// # Errors
    /// [`Error::MalformedEndorsement`] if the profile is not the endorsement profile,
    /// `sub` is not the lowercase hex of a 7..=33 byte ueid, `cnf` is not an embedded
    /// public key, or `hwmodel` / `oemid` are missing or of the wrong type.
    pub fn from_claims(claims: &ClaimsSet) -> Result<Self> {
        let profile = claims.other_claim(&ClaimKey::Int(labels::EAT_PROFILE));
        if !matches!(profile, Some(Value::Text(p)) if p == labels::ENDORSEMENT_PROFILE) {
            return Err(Error::MalformedEndorsement);
        }
        let ueid = claims
            .sub
            .as_deref()
            .and_then(hex::decode)
            .filter(|u| UEID_LEN_RANGE.contains(&u.len()))
            .ok_or(Error::MalformedEndorsement)?;
        let Some(Confirmation::Key(device_key)) = &claims.cnf else {
            return Err(Error::MalformedEndorsement);
        };
        let hwmodel = match claims.other_claim(&ClaimKey::Int(labels::HWMODEL)) {
            Some(Value::Bytes(h)) if HWMODEL_LEN_RANGE.contains(&h.len()) => h.clone(),
            _ => return Err(Error::MalformedEndorsement),
        };
        let oemid = match claims.other_claim(&ClaimKey::Int(labels::OEMID)) {
            None => None,
            Some(v) => Some(OemId::from_value(v).ok_or(Error::MalformedEndorsement)?),
        };
        Ok(Self {
            ueid,
            device_key: device_key.clone(),
            hwmodel,
            oemid,
        })
    }

    /// Verifies an endorsement token with `manufacturers`, the trust anchors of the
    /// manufacturers' keys (a [`ManufacturerVerifier`]: a credential issuers'
    /// `citysec_credential::Verifier` does not fit; endorsements name no audience: configure it
    /// with `any_audience()`, or with the audience your manufacturers write), at `now`.
    ///
    /// # Errors
    /// [`Error::Endorsement`] with the verifier's error (an untrusted manufacturer
    /// key is `Core(UnknownKey)`, a bad signature `Core(BadSignature)`, an expired
    /// endorsement `Expired`, ...); then the errors of [`Self::from_claims`].
    pub fn verify(manufacturers: &ManufacturerVerifier, token: &[u8], now: Timestamp) -> Result<VerifiedEndorsement> {
        let credential = manufacturers.verify(token, now, &[]).map_err(Error::Endorsement)?;
        VerifiedEndorsement::from_credential(manufacturers, &credential)
    }
}

/// An endorsement that verified under a trusted manufacturer key. Only
/// [`Endorsement::verify`] and [`VerifiedEndorsement::from_credential`] make one.
/// It keeps the crypto provider of the manufacturers' verifier, which checks the
/// device's evidence ([`crate::UnverifiedEvidence::verify`]).
#[derive(Clone, Debug)]
pub struct VerifiedEndorsement {
    endorsement: Endorsement,
    manufacturer: String,
    expires: Timestamp,
    provider: Provider,
}

/// Equal when they endorse the same thing, by the same manufacturer, until the
/// same time (the provider is not compared).
impl PartialEq for VerifiedEndorsement {
    fn eq(&self, other: &Self) -> bool {
        self.endorsement == other.endorsement
            && self.manufacturer == other.manufacturer
            && self.expires == other.expires
    }
}

impl Eq for VerifiedEndorsement {}

impl VerifiedEndorsement {
    /// An endorsement from a CWT that `manufacturers` accepted (its provider
    /// will check the device's evidence).
    ///
    /// # Errors
    /// As [`Endorsement::from_claims`].
    pub fn from_credential(
        manufacturers: &ManufacturerVerifier,
        credential: &VerifiedCwt<Manufacturers>,
    ) -> Result<Self> {
        let endorsement = Endorsement::from_claims(credential.claims())?;
        Ok(Self {
            endorsement,
            manufacturer: String::from(credential.issuer()),
            expires: credential.claims().exp.ok_or(Error::MalformedEndorsement)?,
            provider: *manufacturers.provider(),
        })
    }

    /// The crypto provider that checks evidence from the endorsed device.
    #[must_use]
    pub const fn provider(&self) -> &Provider {
        &self.provider
    }

    /// What the manufacturer vouches for.
    #[must_use]
    pub const fn endorsement(&self) -> &Endorsement {
        &self.endorsement
    }

    /// The manufacturer (`iss`) whose key signed it.
    #[must_use]
    pub fn manufacturer(&self) -> &str {
        &self.manufacturer
    }

    /// When the endorsement expires.
    #[must_use]
    pub const fn expires(&self) -> Timestamp {
        self.expires
    }
}
