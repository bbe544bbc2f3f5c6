//! Attestation results: the verifier's signed verdict about a device, an EAR
//! (draft-ietf-rats-ear-04, as Veraison's `ear` crate 0.6.0 reads and writes it)
//! in a CWT that relying parties verify like any credential.
//!
//! The wire format is specified in `docs/attestation-result.md`.

use alloc::string::String;
use alloc::vec::Vec;

use citysec_core::Timestamp;
use citysec_core::cbor::{Tags, check_deterministic};
use citysec_core::coset::cbor::value::Value;
use citysec_core::cwt::{ClaimKey, ClaimsSet, Issuer, VerifiedCwt};
use citysec_core::sign1::{UnverifiedSign1, VerifyOptions};

use crate::domain::{AttestationVerifiers, ResultVerifier};

use crate::evidence::{HWMODEL_LEN_RANGE, NONCE_LEN_RANGE, UEID_LEN_RANGE};
use crate::{Error, Result, hex, labels};

/// A trust tier (draft-ietf-rats-ar4si), ordered from no claim to contraindicated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Tier {
    /// 0: no claim is made.
    None,
    /// 2: the verifier affirms the device.
    Affirming,
    /// 32: the device may be used with care; something is not as expected.
    Warning,
    /// 96: the device must not be trusted.
    Contraindicated,
}

impl Tier {
    /// The code point.
    #[must_use]
    pub const fn code(self) -> i64 {
        match self {
            Self::None => labels::TIER_NONE,
            Self::Affirming => labels::TIER_AFFIRMING,
            Self::Warning => labels::TIER_WARNING,
            Self::Contraindicated => labels::TIER_CONTRAINDICATED,
        }
    }

    /// The tier with this code point.
    #[must_use]
    pub const fn from_code(code: i64) -> Option<Self> {
        Some(match code {
            labels::TIER_NONE => Self::None,
            labels::TIER_AFFIRMING => Self::Affirming,
            labels::TIER_WARNING => Self::Warning,
            labels::TIER_CONTRAINDICATED => Self::Contraindicated,
            _ => return None,
        })
    }

    /// The tier of a trustworthiness claim value: -1..=1 none, 2..=31 affirming,
    /// 32..=95 warning, 96..=127 and -128..=-2 contraindicated (draft-ietf-rats-ar4si).
    #[must_use]
    pub const fn of_claim(value: i8) -> Self {
        match value {
            -1..=1 => Self::None,
            2..=31 => Self::Affirming,
            32..=95 => Self::Warning,
            _ => Self::Contraindicated,
        }
    }

    /// The tier's name: `none`, `affirming`, `warning`, `contraindicated`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Affirming => "affirming",
            Self::Warning => "warning",
            Self::Contraindicated => "contraindicated",
        }
    }
}

impl core::fmt::Display for Tier {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// The AR4SI trustworthiness vector; `None` means no claim for that aspect.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct TrustVector {
    /// `instance-identity` (0).
    pub instance_identity: Option<i8>,
    /// `configuration` (1).
    pub configuration: Option<i8>,
    /// `executables` (2).
    pub executables: Option<i8>,
    /// `file-system` (3).
    pub file_system: Option<i8>,
    /// `hardware` (4).
    pub hardware: Option<i8>,
    /// `runtime-opaque` (5).
    pub runtime_opaque: Option<i8>,
    /// `storage-opaque` (6).
    pub storage_opaque: Option<i8>,
    /// `sourced-data` (7).
    pub sourced_data: Option<i8>,
}

impl TrustVector {
    fn slots(&self) -> [(i64, Option<i8>); 8] {
        use labels::vector as v;
        [
            (v::INSTANCE_IDENTITY, self.instance_identity),
            (v::CONFIGURATION, self.configuration),
            (v::EXECUTABLES, self.executables),
            (v::FILE_SYSTEM, self.file_system),
            (v::HARDWARE, self.hardware),
            (v::RUNTIME_OPAQUE, self.runtime_opaque),
            (v::STORAGE_OPAQUE, self.storage_opaque),
            (v::SOURCED_DATA, self.sourced_data),
        ]
    }

    /// The claim slot of vector key `key` (0..=7), if it is one.
    pub(crate) fn slot_mut(&mut self, key: i64) -> Option<&mut Option<i8>> {
        use labels::vector as v;
        Some(match key {
            v::INSTANCE_IDENTITY => &mut self.instance_identity,
            v::CONFIGURATION => &mut self.configuration,
            v::EXECUTABLES => &mut self.executables,
            v::FILE_SYSTEM => &mut self.file_system,
            v::HARDWARE => &mut self.hardware,
            v::RUNTIME_OPAQUE => &mut self.runtime_opaque,
            v::STORAGE_OPAQUE => &mut self.storage_opaque,
            v::SOURCED_DATA => &mut self.sourced_data,
            _ => return None,
        })
    }

    /// The claims that are set, as `(key, value)`.
    pub fn iter(&self) -> impl Iterator<Item = (i64, i8)> {
        self.slots().into_iter().filter_map(|(k, v)| v.map(|v| (k, v)))
    }

    /// The worst tier among the claims that are set.
    #[must_use]
    pub fn worst(&self) -> Tier {
        self.iter().map(|(_, v)| Tier::of_claim(v)).max().unwrap_or(Tier::None)
    }

    fn to_value(self) -> Value {
        Value::Map(self.iter().map(|(k, v)| (Value::from(k), Value::from(v))).collect())
    }

    fn from_value(v: &Value) -> Result<Self> {
        let Value::Map(entries) = v else {
            return Err(Error::MalformedResult);
        };
        if entries.is_empty() {
            return Err(Error::MalformedResult);
        }
        let mut tv = Self::default();
        for (k, v) in entries {
            let slot = tv.slot_mut(int(k)?).ok_or(Error::MalformedResult)?;
            *slot = Some(i8::try_from(int(v)?).map_err(|_| Error::MalformedResult)?);
        }
        Ok(tv)
    }
}

/// What one check of an appraisal looked at.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Check {
    /// The firmware version (`swversion`).
    SwVersion,
    /// One measured component (`measurement`; the component is named in the detail).
    Measurement,
    /// The debug status (`dbgstat`).
    DebugStatus,
    /// The OEM boot claim (`oemboot`).
    OemBoot,
    /// A check this version of citysec does not know, by name.
    Other(String),
}

impl Check {
    /// The check's name on the wire.
    #[must_use]
    pub fn name(&self) -> &str {
        match self {
            Self::SwVersion => labels::check::SWVERSION,
            Self::Measurement => labels::check::MEASUREMENT,
            Self::DebugStatus => labels::check::DBGSTAT,
            Self::OemBoot => labels::check::OEMBOOT,
            Self::Other(s) => s,
        }
    }

    /// The check with this name.
    #[must_use]
    pub fn from_name(name: &str) -> Self {
        match name {
            labels::check::SWVERSION => Self::SwVersion,
            labels::check::MEASUREMENT => Self::Measurement,
            labels::check::DBGSTAT => Self::DebugStatus,
            labels::check::OEMBOOT => Self::OemBoot,
            other => Self::Other(String::from(other)),
        }
    }
}

/// The outcome of one check: its tier and a short explanation.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Reason {
    /// What was checked.
    pub check: Check,
    /// The check's tier.
    pub tier: Tier,
    /// A lowercase explanation, with claim values in backticks.
    pub detail: String,
}

/// Who appraised: `ear.verifier-id` (draft-ietf-rats-ear).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct VerifierId {
    /// The organisation that runs the verifier.
    pub developer: String,
    /// The verifier software and version.
    pub build: String,
}

/// A citysec attestation result.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct AttestationResult {
    /// The verifier that signed it (`iss`).
    pub issuer: String,
    /// The overall tier (`ear.status`, top level and the device appraisal's): the
    /// worst tier of the checks.
    pub status: Tier,
    /// The device appraisal's trustworthiness vector (`ear.trustworthiness-vector`).
    pub trust_vector: TrustVector,
    /// One reason per check (the device appraisal's `citysec.reasons`).
    pub reasons: Vec<Reason>,
    /// The device (`ueid`; also `sub` as lowercase hex).
    pub ueid: Vec<u8>,
    /// The device's endorsed hardware model (`hwmodel`).
    pub hwmodel: Vec<u8>,
    /// Who appraised (`ear.verifier-id`).
    pub verifier_id: VerifierId,
    /// The evidence's nonce, when the appraisal used nonce freshness (`eat_nonce`).
    pub nonce: Option<Vec<u8>>,
    /// When the appraisal was made (`iat`).
    pub issued_at: Timestamp,
    /// When relying parties must stop using it (`exp`).
    pub expires: Timestamp,
}

impl AttestationResult {
    /// Whether the verifier affirms the device (status `affirming`).
    #[must_use]
    pub fn is_affirming(&self) -> bool {
        self.status == Tier::Affirming
    }

    /// The result as CWT claims for audience `aud`.
    #[must_use]
    pub fn to_claims(&self, aud: &str) -> ClaimsSet {
        let mut c = ClaimsSet::new();
        c.iss = Some(self.issuer.clone());
        c.sub = Some(hex::encode(&self.ueid));
        c.aud = alloc::vec![String::from(aud)];
        c.exp = Some(self.expires);
        c.iat = Some(self.issued_at);
        let k = |key: i64| ClaimKey::Int(key);
        if let Some(n) = &self.nonce {
            c.other.push((k(labels::EAT_NONCE), Value::Bytes(n.clone())));
        }
        c.other.push((k(labels::UEID), Value::Bytes(self.ueid.clone())));
        c.other.push((k(labels::HWMODEL), Value::Bytes(self.hwmodel.clone())));
        c.other
            .push((k(labels::EAT_PROFILE), Value::Text(labels::RESULT_PROFILE.into())));
        c.other.push((
            k(labels::SUBMODS),
            Value::Map(alloc::vec![(
                Value::Text(labels::RESULT_SUBMODULE.into()),
                self.appraisal_value()
            )]),
        ));
        // The overall status: the worst of the submodules', and there is one.
        c.other.push((k(labels::EAR_STATUS), Value::from(self.status.code())));
        c.other.push((
            k(labels::EAR_VERIFIER_ID),
            Value::Map(alloc::vec![
                (
                    Value::from(labels::VERIFIER_ID_DEVELOPER),
                    Value::Text(self.verifier_id.developer.clone())
                ),
                (
                    Value::from(labels::VERIFIER_ID_BUILD),
                    Value::Text(self.verifier_id.build.clone())
                ),
            ]),
        ));
        c
    }

    /// The device's EAR appraisal: its profile (naming the citysec extension),
    /// status, trustworthiness vector and reasons, keys in deterministic order.
    fn appraisal_value(&self) -> Value {
        let reasons = (0u64..)
            .zip(&self.reasons)
            .map(|(i, r)| {
                (
                    Value::from(i),
                    Value::Array(alloc::vec![
                        Value::Text(r.check.name().into()),
                        Value::from(r.tier.code()),
                        Value::Text(r.detail.clone()),
                    ]),
                )
            })
            .collect();
        Value::Map(alloc::vec![
            (
                Value::from(labels::EAT_PROFILE),
                Value::Text(labels::APPRAISAL_PROFILE.into())
            ),
            (Value::from(labels::EAR_STATUS), Value::from(self.status.code())),
            (Value::from(labels::EAR_TRUST_VECTOR), self.trust_vector.to_value()),
            (Value::from(labels::CITYSEC_REASONS), Value::Map(reasons)),
        ])
    }

    /// Signs the result as `verifier` (whose `iss` it must carry) for audience `aud`.
    ///
    /// # Errors
    /// [`Error::Credential`] with the issuer's error.
    pub fn sign(&self, verifier: &Issuer, aud: &str) -> Result<Vec<u8>> {
        verifier.issue(&self.to_claims(aud)).map_err(Error::Credential)
    }

    /// Reads a result from a CWT that a relying party's [`ResultVerifier`] accepted
    /// (so its signature, issuer, validity period and audience were checked under
    /// the attestation verifiers' keys; an access credential, verified under
    /// issuer keys, has another type and does not fit). The
    /// credential no longer has its bytes, so their encoding is not checked here:
    /// [`Self::verify`] checks it.
    ///
    /// # Errors
    /// [`Error::MalformedResult`] if it is not a citysec attestation result: another
    /// profile (an access credential from the same issuer, say, or a citysec 0.1
    /// result), `submods` other than exactly the `device` appraisal as documented,
    /// a missing or unknown status, a top-level status other than the device's, a
    /// `sub` that is not the hex of `ueid`, a `ueid`, `hwmodel` or nonce outside its
    /// RFC 9711 size, or claims of the wrong type.
    pub fn from_credential(credential: &VerifiedCwt<AttestationVerifiers>) -> Result<Self> {
        let c = credential.claims();
        let get = |key: i64| c.other_claim(&ClaimKey::Int(key));
        if !matches!(get(labels::EAT_PROFILE), Some(Value::Text(p)) if p == labels::RESULT_PROFILE) {
            return Err(Error::MalformedResult);
        }
        let status = get(labels::EAR_STATUS)
            .map(int)
            .transpose()?
            .and_then(Tier::from_code)
            .ok_or(Error::MalformedResult)?;
        let (trust_vector, reasons) = device_appraisal(get(labels::SUBMODS), status)?;
        let ueid = bytes(get(labels::UEID)).and_then(|u| sized(u, &UEID_LEN_RANGE))?;
        if c.sub.as_deref() != Some(hex::encode(&ueid).as_str()) {
            return Err(Error::MalformedResult);
        }
        let hwmodel = bytes(get(labels::HWMODEL)).and_then(|h| sized(h, &HWMODEL_LEN_RANGE))?;
        let nonce = match get(labels::EAT_NONCE) {
            None => None,
            v => Some(bytes(v).and_then(|n| sized(n, &NONCE_LEN_RANGE))?),
        };
        let verifier_id = verifier_id(get(labels::EAR_VERIFIER_ID).ok_or(Error::MalformedResult)?)?;
        Ok(Self {
            issuer: String::from(credential.issuer()),
            status,
            trust_vector,
            reasons,
            ueid,
            hwmodel,
            verifier_id,
            nonce,
            issued_at: c.iat.ok_or(Error::MalformedResult)?,
            expires: c.exp.ok_or(Error::MalformedResult)?,
        })
    }

    /// Verifies a result token with a relying party's [`ResultVerifier`] (trusting
    /// the attestation verifiers' keys, with the relying party's audience) at `now`,
    /// then reads it, and checks that its claims are deterministically encoded
    /// (RFC 8949 section 4.2.1): an attestation result has one byte form.
    ///
    /// # Errors
    /// [`Error::Credential`] with the verifier's error (untrusted key, bad signature,
    /// expired, wrong audience, ...); then as [`Self::from_credential`]; then
    /// `Error::Core(NotDeterministic)` for a result whose claims are in another
    /// encoding (keys out of order, a longer head than needed).
    pub fn verify(relying_party: &ResultVerifier, token: &[u8], now: Timestamp) -> Result<Self> {
        let credential = relying_party.verify(token, now, &[]).map_err(Error::Credential)?;
        let result = Self::from_credential(&credential)?;
        // The signature verified on these very bytes, so this parse succeeds; its
        // payload is what the verifier decoded.
        let limits = *relying_party.current_limits();
        let msg = UnverifiedSign1::parse(token, &VerifyOptions::default().with_limits(limits))?;
        check_deterministic(msg.payload_unverified(), &limits, Tags::Forbid)?;
        Ok(result)
    }
}

fn int(v: &Value) -> Result<i64> {
    match v {
        Value::Integer(i) => i64::try_from(*i).map_err(|_| Error::MalformedResult),
        _ => Err(Error::MalformedResult),
    }
}

fn bytes(v: Option<&Value>) -> Result<Vec<u8>> {
    match v {
        Some(Value::Bytes(b)) => Ok(b.clone()),
        _ => Err(Error::MalformedResult),
    }
}

fn sized(b: Vec<u8>, range: &core::ops::RangeInclusive<usize>) -> Result<Vec<u8>> {
    if range.contains(&b.len()) {
        Ok(b)
    } else {
        Err(Error::MalformedResult)
    }
}

fn text(v: &Value) -> Result<String> {
    match v {
        Value::Text(t) => Ok(t.clone()),
        _ => Err(Error::MalformedResult),
    }
}

fn verifier_id(v: &Value) -> Result<VerifierId> {
    let Value::Map(entries) = v else {
        return Err(Error::MalformedResult);
    };
    let (mut developer, mut build) = (None, None);
    for (k, v) in entries {
        match int(k)? {
            labels::VERIFIER_ID_DEVELOPER => developer = Some(text(v)?),
            labels::VERIFIER_ID_BUILD => build = Some(text(v)?),
            _ => return Err(Error::MalformedResult),
        }
    }
    Ok(VerifierId {
        developer: developer.ok_or(Error::MalformedResult)?,
        build: build.ok_or(Error::MalformedResult)?,
    })
}

/// The trustworthiness vector and reasons of the one appraisal in `submods` of a
/// citysec result, whose status must be the result's `status`: a map of exactly
/// one entry, [`labels::RESULT_SUBMODULE`], holding the citysec appraisal profile,
/// `ear.status`, `ear.trustworthiness-vector` and `citysec.reasons` and nothing else.
fn device_appraisal(submods: Option<&Value>, status: Tier) -> Result<(TrustVector, Vec<Reason>)> {
    let Some(Value::Map(entries)) = submods else {
        return Err(Error::MalformedResult);
    };
    let [(Value::Text(name), Value::Map(claims))] = entries.as_slice() else {
        return Err(Error::MalformedResult);
    };
    if name != labels::RESULT_SUBMODULE {
        return Err(Error::MalformedResult);
    }
    let (mut profile, mut own, mut vector, mut reasons) = (None, None, None, None);
    for (k, v) in claims {
        match int(k)? {
            labels::EAT_PROFILE => profile = Some(text(v)?),
            labels::EAR_STATUS => own = Tier::from_code(int(v)?),
            labels::EAR_TRUST_VECTOR => vector = Some(TrustVector::from_value(v)?),
            labels::CITYSEC_REASONS => reasons = Some(reasons_map(v)?),
            _ => return Err(Error::MalformedResult),
        }
    }
    if profile.as_deref() != Some(labels::APPRAISAL_PROFILE) || own != Some(status) {
        return Err(Error::MalformedResult);
    }
    Ok((
        vector.ok_or(Error::MalformedResult)?,
        reasons.ok_or(Error::MalformedResult)?,
    ))
}

/// `citysec.reasons`: a map keyed 0, 1, 2, ... (in that order) of
/// `[check, tier, detail]`.
fn reasons_map(v: &Value) -> Result<Vec<Reason>> {
    let Value::Map(items) = v else {
        return Err(Error::MalformedResult);
    };
    (0i64..)
        .zip(items)
        .map(|(expected, (key, item))| {
            if int(key)? != expected {
                return Err(Error::MalformedResult);
            }
            let Value::Array(parts) = item else {
                return Err(Error::MalformedResult);
            };
            let [check, tier, detail] = parts.as_slice() else {
                return Err(Error::MalformedResult);
            };
            Ok(Reason {
                check: Check::from_name(&text(check)?),
                tier: Tier::from_code(int(tier)?).ok_or(Error::MalformedResult)?,
                detail: text(detail)?,
            })
        })
        .collect()
}
