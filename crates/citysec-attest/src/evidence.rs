//! Device evidence: EAT claims (RFC 9711) in a tagged COSE_Sign1 signed by the
//! device's attestation key.
//!
//! The device side is [`EvidenceBuilder`]: it borrows every claim and signs into a
//! buffer the caller gives it, allocating nothing, so firmware can call it from a
//! static buffer. The verifier side is [`UnverifiedEvidence`] → [`VerifiedEvidence`],
//! which decodes the claims strictly into [`Evidence`] only after the signature
//! verified with the key a trusted manufacturer endorsed.

use alloc::string::String;
use alloc::vec::Vec;

use citysec_core::cbor::{Tags, check_deterministic};
use citysec_core::coset::cbor::value::Value;
use citysec_core::cwt::ClaimKey;
use citysec_core::provider::Signer;
use citysec_core::sign1::{UnverifiedSign1, VerifyOptions};
use citysec_core::{Algorithm, Limits, Timestamp};

use crate::endorsement::VerifiedEndorsement;
use crate::labels;
use crate::{Error, Result};
use citysec_core::cbor::write::{self as enc, Sink};
use citysec_core::sign1::{self, InPlaceLayout};

/// Shortest and longest `eat_nonce` (RFC 9711 section 4.1).
pub const NONCE_LEN_RANGE: core::ops::RangeInclusive<usize> = 8..=64;
/// Shortest and longest `ueid` (RFC 9711 section 4.2.1).
pub const UEID_LEN_RANGE: core::ops::RangeInclusive<usize> = 7..=33;
/// Shortest and longest `hwmodel` (RFC 9711 section 4.2.4).
pub const HWMODEL_LEN_RANGE: core::ops::RangeInclusive<usize> = 1..=32;
/// Length of a SHA-256 digest.
pub const DIGEST_LEN: usize = 32;

/// The debug status of a device (`dbgstat`, RFC 9711 section 4.2.9), ordered from
/// least to most locked down.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum DebugStatus {
    /// 0: debug is enabled.
    Enabled,
    /// 1: debug is disabled (it could be enabled again).
    Disabled,
    /// 2: debug is disabled since boot and cannot be enabled until the next boot.
    DisabledSinceBoot,
    /// 3: debug is disabled permanently.
    DisabledPermanently,
    /// 4: debug is disabled permanently for the whole device, submodules included.
    DisabledFullyAndPermanently,
}

impl DebugStatus {
    /// The claim value.
    #[must_use]
    pub const fn code(self) -> u64 {
        match self {
            Self::Enabled => 0,
            Self::Disabled => 1,
            Self::DisabledSinceBoot => 2,
            Self::DisabledPermanently => 3,
            Self::DisabledFullyAndPermanently => 4,
        }
    }

    /// The status with this claim value.
    #[must_use]
    pub const fn from_code(code: u64) -> Option<Self> {
        Some(match code {
            0 => Self::Enabled,
            1 => Self::Disabled,
            2 => Self::DisabledSinceBoot,
            3 => Self::DisabledPermanently,
            4 => Self::DisabledFullyAndPermanently,
            _ => return None,
        })
    }

    /// The status's name as RFC 9711 spells it.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Enabled => "enabled",
            Self::Disabled => "disabled",
            Self::DisabledSinceBoot => "disabled-since-boot",
            Self::DisabledPermanently => "disabled-permanently",
            Self::DisabledFullyAndPermanently => "disabled-fully-and-permanently",
        }
    }
}

/// The manufacturer (`oemid`, RFC 9711 section 4.2.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OemId {
    /// An IEEE OUI (3 bytes).
    Ieee([u8; 3]),
    /// A random manufacturer id (16 bytes).
    Random([u8; 16]),
    /// An IANA Private Enterprise Number.
    Pen(u64),
}

impl OemId {
    fn encode<S: Sink + ?Sized>(&self, s: &mut S) -> Result<()>
    where
        Error: From<S::Error>,
    {
        match self {
            Self::Ieee(b) => enc::bytes(s, b)?,
            Self::Random(b) => enc::bytes(s, b)?,
            Self::Pen(n) => enc::uint(s, *n)?,
        }
        Ok(())
    }

    /// The claim as a CBOR value.
    #[must_use]
    pub fn to_value(&self) -> Value {
        match self {
            Self::Ieee(b) => Value::Bytes(b.to_vec()),
            Self::Random(b) => Value::Bytes(b.to_vec()),
            Self::Pen(n) => Value::from(*n),
        }
    }

    /// The claim from a CBOR value: 3 or 16 bytes, or an unsigned integer.
    #[must_use]
    pub fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Bytes(b) => {
                if let Ok(a) = <[u8; 3]>::try_from(b.as_slice()) {
                    Some(Self::Ieee(a))
                } else {
                    <[u8; 16]>::try_from(b.as_slice()).ok().map(Self::Random)
                }
            }
            Value::Integer(i) => u64::try_from(*i).ok().map(Self::Pen),
            _ => None,
        }
    }
}

/// A `swversion` or `hwversion` claim: `[version, ? scheme]` (RFC 9711 sections
/// 4.2.5 and 4.2.7; the scheme is a CoSWID version-scheme).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct VersionClaim {
    /// The version text, e.g. `1.4.2`.
    pub version: String,
    /// The version scheme, if given.
    pub scheme: Option<i64>,
}

/// One measured component: a name and the SHA-256 digest of what was measured.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Measurement {
    /// The component's name, e.g. `bootloader`.
    pub name: String,
    /// Its SHA-256 digest.
    pub digest: [u8; DIGEST_LEN],
}

/// Decoded evidence claims (a verifier's view). Unknown claims are kept in
/// [`Evidence::other`], in the order they came.
#[derive(Clone, Debug, PartialEq, Default)]
#[non_exhaustive]
pub struct Evidence {
    /// `iat` (6).
    pub iat: Option<Timestamp>,
    /// `eat_nonce` (10), 8..=64 bytes.
    pub nonce: Option<Vec<u8>>,
    /// `ueid` (256), 7..=33 bytes.
    pub ueid: Option<Vec<u8>>,
    /// `oemid` (258).
    pub oemid: Option<OemId>,
    /// `hwmodel` (259), 1..=32 bytes.
    pub hwmodel: Option<Vec<u8>>,
    /// `hwversion` (260).
    pub hwversion: Option<VersionClaim>,
    /// `uptime` (261), seconds.
    pub uptime: Option<u64>,
    /// `oemboot` (262).
    pub oemboot: Option<bool>,
    /// `dbgstat` (263).
    pub dbgstat: Option<DebugStatus>,
    /// `eat_profile` (265), text.
    pub profile: Option<String>,
    /// `submods` (266): submodules' claims sets, by name.
    pub submods: Vec<(String, Evidence)>,
    /// `bootcount` (267).
    pub bootcount: Option<u64>,
    /// `swname` (270).
    pub swname: Option<String>,
    /// `swversion` (271).
    pub swversion: Option<VersionClaim>,
    /// `measurements` (273).
    pub measurements: Vec<Measurement>,
    /// Every other claim, kept as it came.
    pub other: Vec<(ClaimKey, Value)>,
}

impl Evidence {
    /// The measurement of component `name`, if any.
    #[must_use]
    pub fn measurement(&self, name: &str) -> Option<&Measurement> {
        self.measurements.iter().find(|m| m.name == name)
    }

    /// Decodes a claims set under the citysec EAT profile: deterministically encoded
    /// (RFC 8949 section 4.2.1: shortest heads, map keys in ascending bytewise order,
    /// definite lengths) and within `limits` (no duplicate keys, no tags, nesting of
    /// `submods` within the depth limit), every known claim with its RFC 9711 type
    /// and size, unknown claims kept. The top level must name the citysec evidence
    /// profile or none. Each measured component, a CBOR item inside a byte string,
    /// must be deterministically encoded too.
    ///
    /// # Errors
    /// [`Error::Core`] with the encoding error ([`citysec_core::Error::NotDeterministic`]
    /// for a well-formed item in another encoding, [`citysec_core::Error::TooLarge`],
    /// [`citysec_core::Error::TooDeep`], [`citysec_core::Error::DuplicateMapKey`], ...);
    /// [`Error::InvalidNonce`]; [`Error::InvalidUeid`]; [`Error::UnsupportedProfile`];
    /// [`Error::MalformedEvidence`].
    pub fn from_cbor(bytes: &[u8], limits: &Limits) -> Result<Self> {
        check_deterministic(bytes, limits, Tags::Forbid)?;
        let value: Value = citysec_core::cbor::to_value(bytes).map_err(|_| Error::MalformedEvidence)?;
        let evidence = Self::from_value(value, limits)?;
        if evidence
            .profile
            .as_deref()
            .is_some_and(|p| p != labels::EVIDENCE_PROFILE)
        {
            return Err(Error::UnsupportedProfile);
        }
        Ok(evidence)
    }

    fn from_value(value: Value, limits: &Limits) -> Result<Self> {
        let Value::Map(entries) = value else {
            return Err(Error::MalformedEvidence);
        };
        let mut e = Self::default();
        for (key, v) in entries {
            let key = match key {
                Value::Integer(i) => ClaimKey::Int(i64::try_from(i).map_err(|_| Error::MalformedEvidence)?),
                Value::Text(t) => ClaimKey::Text(t),
                _ => return Err(Error::MalformedEvidence),
            };
            match key {
                ClaimKey::Int(labels::IAT) => e.iat = Some(time(&v)?),
                ClaimKey::Int(labels::EAT_NONCE) => e.nonce = Some(nonce(v)?),
                ClaimKey::Int(labels::UEID) => e.ueid = Some(ueid(v)?),
                ClaimKey::Int(labels::OEMID) => e.oemid = Some(OemId::from_value(&v).ok_or(Error::MalformedEvidence)?),
                ClaimKey::Int(labels::HWMODEL) => e.hwmodel = Some(hwmodel(v)?),
                ClaimKey::Int(labels::HWVERSION) => e.hwversion = Some(version(v)?),
                ClaimKey::Int(labels::UPTIME) => e.uptime = Some(uint(&v)?),
                ClaimKey::Int(labels::OEMBOOT) => match v {
                    Value::Bool(b) => e.oemboot = Some(b),
                    _ => return Err(Error::MalformedEvidence),
                },
                ClaimKey::Int(labels::DBGSTAT) => {
                    e.dbgstat = Some(DebugStatus::from_code(uint(&v)?).ok_or(Error::MalformedEvidence)?);
                }
                ClaimKey::Int(labels::EAT_PROFILE) => match v {
                    Value::Text(t) => e.profile = Some(t),
                    // An OID profile is well-formed but is not ours.
                    Value::Bytes(_) => return Err(Error::UnsupportedProfile),
                    _ => return Err(Error::MalformedEvidence),
                },
                ClaimKey::Int(labels::SUBMODS) => e.submods = submods(v, limits)?,
                ClaimKey::Int(labels::BOOTCOUNT) => e.bootcount = Some(uint(&v)?),
                ClaimKey::Int(labels::SWNAME) => match v {
                    Value::Text(t) => e.swname = Some(t),
                    _ => return Err(Error::MalformedEvidence),
                },
                ClaimKey::Int(labels::SWVERSION) => e.swversion = Some(version(v)?),
                ClaimKey::Int(labels::MEASUREMENTS) => e.measurements = measurements(v, limits)?,
                other => e.other.push((other, v)),
            }
        }
        Ok(e)
    }
}

fn uint(v: &Value) -> Result<u64> {
    match v {
        Value::Integer(i) => u64::try_from(*i).map_err(|_| Error::MalformedEvidence),
        _ => Err(Error::MalformedEvidence),
    }
}

fn time(v: &Value) -> Result<Timestamp> {
    let t = Timestamp::from_unix_seconds(uint(v)?);
    if t > Timestamp::MAX {
        return Err(Error::MalformedEvidence);
    }
    Ok(t)
}

/// One nonce of 8..=64 bytes. RFC 9711 also allows an array of nonces; the citysec
/// profile sends exactly one, so an array is refused like a nonce of the wrong size.
fn nonce(v: Value) -> Result<Vec<u8>> {
    match v {
        Value::Bytes(b) if NONCE_LEN_RANGE.contains(&b.len()) => Ok(b),
        _ => Err(Error::InvalidNonce),
    }
}

fn ueid(v: Value) -> Result<Vec<u8>> {
    match v {
        Value::Bytes(b) if UEID_LEN_RANGE.contains(&b.len()) => Ok(b),
        _ => Err(Error::InvalidUeid),
    }
}

fn hwmodel(v: Value) -> Result<Vec<u8>> {
    match v {
        Value::Bytes(b) if HWMODEL_LEN_RANGE.contains(&b.len()) => Ok(b),
        _ => Err(Error::MalformedEvidence),
    }
}

fn version(v: Value) -> Result<VersionClaim> {
    let Value::Array(parts) = v else {
        return Err(Error::MalformedEvidence);
    };
    let mut it = parts.into_iter();
    let version = match it.next() {
        Some(Value::Text(t)) => t,
        _ => return Err(Error::MalformedEvidence),
    };
    let scheme = match it.next() {
        None => None,
        Some(Value::Integer(i)) => Some(i64::try_from(i).map_err(|_| Error::MalformedEvidence)?),
        Some(_) => return Err(Error::MalformedEvidence),
    };
    if it.next().is_some() {
        return Err(Error::MalformedEvidence);
    }
    Ok(VersionClaim { version, scheme })
}

/// `{ + text => claims-set }`. Nested tokens and detached digests (the other
/// submodule forms of RFC 9711) are refused.
fn submods(v: Value, limits: &Limits) -> Result<Vec<(String, Evidence)>> {
    let Value::Map(entries) = v else {
        return Err(Error::MalformedEvidence);
    };
    if entries.is_empty() {
        return Err(Error::MalformedEvidence);
    }
    entries
        .into_iter()
        .map(|(k, v)| match (k, v) {
            (Value::Text(name), claims @ Value::Map(_)) => Ok((name, Evidence::from_value(claims, limits)?)),
            _ => Err(Error::MalformedEvidence),
        })
        .collect()
}

/// `[+ [content-type, bstr .cbor measured-component]]` with the citysec content type;
/// component names unique.
fn measurements(v: Value, limits: &Limits) -> Result<Vec<Measurement>> {
    let Value::Array(items) = v else {
        return Err(Error::MalformedEvidence);
    };
    if items.is_empty() {
        return Err(Error::MalformedEvidence);
    }
    let mut out: Vec<Measurement> = Vec::with_capacity(items.len());
    for item in items {
        let Value::Array(pair) = item else {
            return Err(Error::MalformedEvidence);
        };
        let [content_type, Value::Bytes(inner)] = <[Value; 2]>::try_from(pair).map_err(|_| Error::MalformedEvidence)?
        else {
            return Err(Error::MalformedEvidence);
        };
        if uint(&content_type)? != labels::MEASUREMENT_CONTENT_FORMAT {
            return Err(Error::MalformedEvidence);
        }
        out.push(measured_component(&inner, limits)?);
    }
    // Each name once: sorted and compared with its neighbour (comparing every pair
    // would be quadratic in the number of measurements).
    let mut names: Vec<&str> = out.iter().map(|m| m.name.as_str()).collect();
    names.sort_unstable();
    if names.windows(2).any(|w| w.first() == w.get(1)) {
        return Err(Error::MalformedEvidence);
    }
    Ok(out)
}

/// `{1: [name, ? version], 2: [1 (sha-256), digest]}`.
fn measured_component(bytes: &[u8], limits: &Limits) -> Result<Measurement> {
    check_deterministic(bytes, limits, Tags::Forbid)?;
    let value: Value = citysec_core::cbor::to_value(bytes).map_err(|_| Error::MalformedEvidence)?;
    let Value::Map(entries) = value else {
        return Err(Error::MalformedEvidence);
    };
    let (mut name, mut digest) = (None, None);
    for (k, v) in entries {
        let k = i64::try_from(match k {
            Value::Integer(i) => i,
            _ => return Err(Error::MalformedEvidence),
        })
        .map_err(|_| Error::MalformedEvidence)?;
        match (k, v) {
            (labels::MEASURED_COMPONENT_ID, Value::Array(id)) => {
                let mut it = id.into_iter();
                match it.next() {
                    Some(Value::Text(t)) => name = Some(t),
                    _ => return Err(Error::MalformedEvidence),
                }
                if let Some(v) = it.next() {
                    version(v)?;
                }
                if it.next().is_some() {
                    return Err(Error::MalformedEvidence);
                }
            }
            (labels::MEASURED_COMPONENT_MEASUREMENT, Value::Array(d)) => {
                let [alg, Value::Bytes(value)] = <[Value; 2]>::try_from(d).map_err(|_| Error::MalformedEvidence)?
                else {
                    return Err(Error::MalformedEvidence);
                };
                if alg != Value::from(labels::HASH_ALG_SHA256) {
                    return Err(Error::MalformedEvidence);
                }
                digest = Some(<[u8; DIGEST_LEN]>::try_from(value.as_slice()).map_err(|_| Error::MalformedEvidence)?);
            }
            _ => return Err(Error::MalformedEvidence),
        }
    }
    Ok(Measurement {
        name: name.ok_or(Error::MalformedEvidence)?,
        digest: digest.ok_or(Error::MalformedEvidence)?,
    })
}

// ---------------------------------------------------------------------------
// The device side

/// Builds and signs evidence on a device, borrowing every claim and allocating
/// nothing: [`EvidenceBuilder::sign`] writes into the caller's buffer.
///
/// Claims are encoded deterministically (RFC 8949 section 4.2.1: keys in ascending
/// order of their encodings, submodule names included, shortest heads), as
/// verifiers require;
/// the top level also carries `eat_profile` = [`labels::EVIDENCE_PROFILE`].
/// Submodules are builders too (`submods`), each without a profile.
#[derive(Clone, Copy, Debug, Default)]
pub struct EvidenceBuilder<'a> {
    iat: Option<Timestamp>,
    nonce: Option<&'a [u8]>,
    ueid: Option<&'a [u8]>,
    oemid: Option<OemId>,
    hwmodel: Option<&'a [u8]>,
    hwversion: Option<&'a str>,
    uptime: Option<u64>,
    oemboot: Option<bool>,
    dbgstat: Option<DebugStatus>,
    submods: &'a [(&'a str, EvidenceBuilder<'a>)],
    bootcount: Option<u64>,
    swname: Option<&'a str>,
    swversion: Option<&'a str>,
    measurements: &'a [(&'a str, [u8; DIGEST_LEN])],
}

impl<'a> EvidenceBuilder<'a> {
    /// Evidence about the device with `ueid` (7..=33 bytes, checked when signing).
    #[must_use]
    pub const fn new(ueid: &'a [u8]) -> Self {
        Self::submodule().ueid(ueid)
    }

    /// An empty claims set, for a submodule.
    #[must_use]
    pub const fn submodule() -> Self {
        Self {
            iat: None,
            nonce: None,
            ueid: None,
            oemid: None,
            hwmodel: None,
            hwversion: None,
            uptime: None,
            oemboot: None,
            dbgstat: None,
            submods: &[],
            bootcount: None,
            swname: None,
            swversion: None,
            measurements: &[],
        }
    }

    /// `iat`: when the evidence was made (for timestamp freshness).
    #[must_use]
    pub const fn iat(mut self, t: Timestamp) -> Self {
        self.iat = Some(t);
        self
    }

    /// `eat_nonce`: the verifier's challenge (8..=64 bytes, checked when signing).
    #[must_use]
    pub const fn nonce(mut self, nonce: &'a [u8]) -> Self {
        self.nonce = Some(nonce);
        self
    }

    /// `ueid`.
    #[must_use]
    pub const fn ueid(mut self, ueid: &'a [u8]) -> Self {
        self.ueid = Some(ueid);
        self
    }

    /// `oemid`.
    #[must_use]
    pub const fn oemid(mut self, oemid: OemId) -> Self {
        self.oemid = Some(oemid);
        self
    }

    /// `hwmodel` (1..=32 bytes, checked when signing).
    #[must_use]
    pub const fn hwmodel(mut self, hwmodel: &'a [u8]) -> Self {
        self.hwmodel = Some(hwmodel);
        self
    }

    /// `hwversion`, written as `[version]`.
    #[must_use]
    pub const fn hwversion(mut self, version: &'a str) -> Self {
        self.hwversion = Some(version);
        self
    }

    /// `uptime` in seconds.
    #[must_use]
    pub const fn uptime(mut self, seconds: u64) -> Self {
        self.uptime = Some(seconds);
        self
    }

    /// `oemboot`: whether the boot chain is OEM-authorized.
    #[must_use]
    pub const fn oemboot(mut self, yes: bool) -> Self {
        self.oemboot = Some(yes);
        self
    }

    /// `dbgstat`.
    #[must_use]
    pub const fn dbgstat(mut self, status: DebugStatus) -> Self {
        self.dbgstat = Some(status);
        self
    }

    /// `submods`: named submodule claims sets (names must be distinct).
    #[must_use]
    pub const fn submods(mut self, submods: &'a [(&'a str, EvidenceBuilder<'a>)]) -> Self {
        self.submods = submods;
        self
    }

    /// `bootcount`.
    #[must_use]
    pub const fn bootcount(mut self, count: u64) -> Self {
        self.bootcount = Some(count);
        self
    }

    /// `swname`: the firmware's name.
    #[must_use]
    pub const fn swname(mut self, name: &'a str) -> Self {
        self.swname = Some(name);
        self
    }

    /// `swversion`, written as `[version]`.
    #[must_use]
    pub const fn swversion(mut self, version: &'a str) -> Self {
        self.swversion = Some(version);
        self
    }

    /// `measurements`: component names (distinct) with their SHA-256 digests.
    #[must_use]
    pub const fn measurements(mut self, measurements: &'a [(&'a str, [u8; DIGEST_LEN])]) -> Self {
        self.measurements = measurements;
        self
    }

    /// Checks the sizes RFC 9711 sets and that names are distinct.
    fn validate(&self) -> Result<()> {
        if self.nonce.is_some_and(|n| !NONCE_LEN_RANGE.contains(&n.len())) {
            return Err(Error::InvalidNonce);
        }
        if self.ueid.is_some_and(|u| !UEID_LEN_RANGE.contains(&u.len())) {
            return Err(Error::InvalidUeid);
        }
        if self.hwmodel.is_some_and(|h| !HWMODEL_LEN_RANGE.contains(&h.len())) {
            return Err(Error::InvalidClaim);
        }
        if self.iat.is_some_and(|t| t > Timestamp::MAX) {
            return Err(Error::InvalidClaim);
        }
        for (i, (name, _)) in self.measurements.iter().enumerate() {
            if self
                .measurements
                .iter()
                .skip(i.saturating_add(1))
                .any(|(n, _)| n == name)
            {
                return Err(Error::InvalidClaim);
            }
        }
        for (i, (name, sub)) in self.submods.iter().enumerate() {
            if self.submods.iter().skip(i.saturating_add(1)).any(|(n, _)| n == name) {
                return Err(Error::InvalidClaim);
            }
            sub.validate()?;
        }
        Ok(())
    }

    /// Writes the claims map; `top` adds the profile.
    fn encode_claims<S: Sink + ?Sized>(&self, s: &mut S, top: bool) -> Result<()>
    where
        Error: From<S::Error>,
    {
        let entries = [
            self.iat.is_some(),
            self.nonce.is_some(),
            self.ueid.is_some(),
            self.oemid.is_some(),
            self.hwmodel.is_some(),
            self.hwversion.is_some(),
            self.uptime.is_some(),
            self.oemboot.is_some(),
            self.dbgstat.is_some(),
            top,
            !self.submods.is_empty(),
            self.bootcount.is_some(),
            self.swname.is_some(),
            self.swversion.is_some(),
            !self.measurements.is_empty(),
        ]
        .iter()
        .filter(|b| **b)
        .count();
        enc::map(s, entries)?;
        if let Some(t) = self.iat {
            enc::int(s, labels::IAT)?;
            enc::uint(s, t.as_unix_seconds())?;
        }
        if let Some(n) = self.nonce {
            enc::int(s, labels::EAT_NONCE)?;
            enc::bytes(s, n)?;
        }
        if let Some(u) = self.ueid {
            enc::int(s, labels::UEID)?;
            enc::bytes(s, u)?;
        }
        if let Some(o) = &self.oemid {
            enc::int(s, labels::OEMID)?;
            o.encode(s)?;
        }
        if let Some(h) = self.hwmodel {
            enc::int(s, labels::HWMODEL)?;
            enc::bytes(s, h)?;
        }
        if let Some(v) = self.hwversion {
            enc::int(s, labels::HWVERSION)?;
            enc::array(s, 1)?;
            enc::text(s, v)?;
        }
        if let Some(u) = self.uptime {
            enc::int(s, labels::UPTIME)?;
            enc::uint(s, u)?;
        }
        if let Some(b) = self.oemboot {
            enc::int(s, labels::OEMBOOT)?;
            enc::boolean(s, b)?;
        }
        if let Some(d) = self.dbgstat {
            enc::int(s, labels::DBGSTAT)?;
            enc::uint(s, d.code())?;
        }
        if top {
            enc::int(s, labels::EAT_PROFILE)?;
            enc::text(s, labels::EVIDENCE_PROFILE)?;
        }
        if !self.submods.is_empty() {
            enc::int(s, labels::SUBMODS)?;
            enc::map(s, self.submods.len())?;
            // Keys in the order of their encodings (RFC 8949 section 4.2.1): for text,
            // shorter first, then bytewise. Names are distinct (checked by
            // `validate`); each round writes the least name above the previous one,
            // so nothing is allocated.
            let mut previous: Option<&str> = None;
            for _ in 0..self.submods.len() {
                let next = self
                    .submods
                    .iter()
                    .filter(|(name, _)| previous.is_none_or(|p| encoded_order(name, p).is_gt()))
                    .min_by(|a, b| encoded_order(a.0, b.0))
                    .ok_or(Error::InvalidClaim)?;
                enc::text(s, next.0)?;
                next.1.encode_claims(s, false)?;
                previous = Some(next.0);
            }
        }
        if let Some(b) = self.bootcount {
            enc::int(s, labels::BOOTCOUNT)?;
            enc::uint(s, b)?;
        }
        if let Some(n) = self.swname {
            enc::int(s, labels::SWNAME)?;
            enc::text(s, n)?;
        }
        if let Some(v) = self.swversion {
            enc::int(s, labels::SWVERSION)?;
            enc::array(s, 1)?;
            enc::text(s, v)?;
        }
        if !self.measurements.is_empty() {
            enc::int(s, labels::MEASUREMENTS)?;
            enc::array(s, self.measurements.len())?;
            for (name, digest) in self.measurements {
                enc::array(s, 2)?;
                enc::uint(s, labels::MEASUREMENT_CONTENT_FORMAT)?;
                let inner = measured_component_len(name, digest)?;
                enc::head(s, citysec_core::cbor::MAJOR_BYTES, enc::len_arg(inner))?;
                measured_component_encode(s, name, digest)?;
            }
        }
        Ok(())
    }

    /// The encoded claims (the COSE payload), for inspection and tests.
    ///
    /// # Errors
    /// As [`Self::sign`], without the signing errors.
    pub fn to_claims_vec(&self) -> Result<Vec<u8>> {
        self.validate()?;
        let mut out = Vec::new();
        self.encode_claims(&mut out, true)?;
        Ok(out)
    }

    /// The buffer length [`Self::sign`] needs with `signer` (the length it writes).
    ///
    /// # Errors
    /// As [`Self::sign`], without the signing errors.
    pub fn signed_len(&self, signer: &dyn Signer) -> Result<usize> {
        self.validate()?;
        Ok(self.layout(signer)?.buffer_len())
    }

    /// The in-place layout for `signer`.
    fn layout(&self, signer: &dyn Signer) -> Result<InPlaceLayout> {
        let payload_len = enc::count(|c| self.encode_claims(c, true))?;
        Ok(InPlaceLayout::new(signer, payload_len)?)
    }

    /// Signs the evidence as a tagged COSE_Sign1 with `signer` (EdDSA or ES256:
    /// the device key, in memory or in a secure element) into `out`, returning the
    /// length written. The protected header carries `alg` and, if the signer has
    /// one, `kid`; the unprotected header is empty. Nothing is allocated: core's
    /// [`sign1::sign_into`] builds the Sig_structure in `out`, signs it, then
    /// rearranges it in place into the COSE_Sign1.
    ///
    /// # Errors
    /// [`Error::MissingUeid`] without a `ueid`; [`Error::InvalidNonce`],
    /// [`Error::InvalidUeid`], [`Error::InvalidClaim`] for claims out of range;
    /// [`Error::BufferTooSmall`] if `out` is shorter than [`Self::signed_len`];
    /// [`Error::Core`] with the signer's error.
    pub fn sign(&self, signer: &dyn Signer, out: &mut [u8]) -> Result<usize> {
        if self.ueid.is_none() {
            return Err(Error::MissingUeid);
        }
        self.validate()?;
        let layout = self.layout(signer)?;
        if out.len() < layout.buffer_len() {
            return Err(Error::BufferTooSmall);
        }
        sign1::sign_into(signer, &layout, |w| self.encode_claims(w, true), out)
    }

    /// As [`Self::sign`], into a new vector of the exact size.
    ///
    /// # Errors
    /// As [`Self::sign`].
    pub fn sign_to_vec(&self, signer: &dyn Signer) -> Result<Vec<u8>> {
        let mut out = alloc::vec![0u8; self.signed_len(signer)?];
        let n = self.sign(signer, &mut out)?;
        out.truncate(n);
        Ok(out)
    }
}

/// `{1: [name], 2: [1, digest]}`.
/// The order of two text keys' encodings: by length, then bytewise.
fn encoded_order(a: &str, b: &str) -> core::cmp::Ordering {
    a.len().cmp(&b.len()).then_with(|| a.as_bytes().cmp(b.as_bytes()))
}

/// The length of [`measured_component_encode`]'s output (outside the generic
/// writers, whose `From` bound would shadow the counter's error type).
fn measured_component_len(name: &str, digest: &[u8; DIGEST_LEN]) -> Result<usize> {
    enc::count(|c| measured_component_encode(c, name, digest))
}

fn measured_component_encode<S: Sink + ?Sized>(s: &mut S, name: &str, digest: &[u8; DIGEST_LEN]) -> Result<()>
where
    Error: From<S::Error>,
{
    enc::map(s, 2)?;
    enc::int(s, labels::MEASURED_COMPONENT_ID)?;
    enc::array(s, 1)?;
    enc::text(s, name)?;
    enc::int(s, labels::MEASURED_COMPONENT_MEASUREMENT)?;
    enc::array(s, 2)?;
    enc::int(s, labels::HASH_ALG_SHA256)?;
    enc::bytes(s, digest)?;
    Ok(())
}

// ---------------------------------------------------------------------------
// The verifier side

/// Evidence that passed the COSE profile checks but whose signature is not yet
/// verified. Nothing in it is trustworthy; it borrows the message.
#[derive(Clone, Copy, Debug)]
pub struct UnverifiedEvidence<'a> {
    msg: UnverifiedSign1<'a>,
    limits: Limits,
}

impl<'a> UnverifiedEvidence<'a> {
    /// Parses tagged evidence (COSE_Sign1, tag 18, optionally inside CWT tag 61)
    /// under the citysec COSE profile and `limits`.
    ///
    /// # Errors
    /// [`Error::Core`] with everything `citysec_core::sign1::UnverifiedSign1::parse`
    /// refuses ([`citysec_core::Error::TooLarge`] for evidence over the size limit,
    /// [`citysec_core::Error::WrongTag`], ...).
    pub fn parse(evidence: &'a [u8], limits: &Limits) -> Result<Self> {
        let msg = UnverifiedSign1::parse(evidence, &VerifyOptions::default().with_limits(*limits))?;
        Ok(Self { msg, limits: *limits })
    }

    /// The protected `alg`.
    #[must_use]
    pub const fn algorithm(&self) -> Algorithm {
        self.msg.algorithm()
    }

    /// The `kid` that names the device key, if any (unverified).
    #[must_use]
    pub const fn kid(&self) -> Option<&'a [u8]> {
        self.msg.kid()
    }

    /// The claims, unverified: for display and debugging only.
    #[must_use]
    pub const fn payload_unverified(&self) -> &'a [u8] {
        self.msg.payload_unverified()
    }

    /// Verifies the signature with the device key a trusted manufacturer endorsed,
    /// then decodes the claims and binds them to the endorsement: the evidence
    /// `ueid` must be the endorsed one, and `hwmodel` and `oemid`, when the evidence
    /// carries them, too. Freshness is not checked here (see [`crate::Appraiser`]).
    ///
    /// # Errors
    /// [`Error::Core`] for the key (`KeyAlgMismatch`, `UnknownKey` when both carry a
    /// different `kid`), the opaque `BadSignature`, and well-formedness errors of the
    /// claims (`TooDeep`, ...); the decoding errors of [`Evidence::from_cbor`];
    /// [`Error::MissingUeid`]; [`Error::UeidMismatch`]; [`Error::HwModelMismatch`];
    /// [`Error::OemIdMismatch`].
    pub fn verify(self, endorsement: &VerifiedEndorsement) -> Result<VerifiedEvidence> {
        let e = endorsement.endorsement();
        let verified = self.msg.verify(endorsement.provider(), &e.device_key, b"")?;
        let claims = Evidence::from_cbor(verified.payload(), &self.limits)?;
        let ueid = claims.ueid.as_deref().ok_or(Error::MissingUeid)?;
        if ueid != e.ueid.as_slice() {
            return Err(Error::UeidMismatch);
        }
        if claims.hwmodel.as_deref().is_some_and(|h| h != e.hwmodel.as_slice()) {
            return Err(Error::HwModelMismatch);
        }
        if let (Some(have), Some(want)) = (&claims.oemid, &e.oemid)
            && have != want
        {
            return Err(Error::OemIdMismatch);
        }
        Ok(VerifiedEvidence {
            claims,
            alg: verified.algorithm(),
        })
    }
}

/// Evidence whose signature verified with an endorsed device key and whose
/// identity claims match the endorsement. Only [`UnverifiedEvidence::verify`] makes one.
#[derive(Clone, Debug, PartialEq)]
pub struct VerifiedEvidence {
    claims: Evidence,
    alg: Algorithm,
}

impl VerifiedEvidence {
    /// The verified claims.
    #[must_use]
    pub const fn claims(&self) -> &Evidence {
        &self.claims
    }

    /// The claims, by value.
    #[must_use]
    pub fn into_claims(self) -> Evidence {
        self.claims
    }

    /// The device key's algorithm.
    #[must_use]
    pub const fn algorithm(&self) -> Algorithm {
        self.alg
    }
}

#[cfg(test)]
mod measurement_tests {
    use alloc::vec;
    use alloc::vec::Vec;

    use super::*;

    /// One measurement entry `[65000, bstr .cbor {1: [name], 2: [1, digest]}]`.
    fn entry(name: &str) -> Value {
        let mut inner = vec![0xa2, 0x01, 0x81, 0x60 | u8::try_from(name.len()).unwrap()];
        inner.extend_from_slice(name.as_bytes());
        inner.extend_from_slice(&[0x02, 0x82, 0x01, 0x58, 0x20]);
        inner.extend_from_slice(&[7u8; 32]);
        Value::Array(vec![
            Value::from(labels::MEASUREMENT_CONTENT_FORMAT),
            Value::Bytes(inner),
        ])
    }

    #[test]
    fn a_measurement_name_may_appear_once() {
        let limits = Limits::DEFAULT;
        let names = |ns: &[&str]| Value::Array(ns.iter().map(|n| entry(n)).collect::<Vec<_>>());
        let ok = measurements(names(&["app", "boot", "modem"]), &limits).unwrap();
        assert_eq!(ok.len(), 3);
        assert_eq!(
            measurements(names(&["app", "boot", "app"]), &limits).unwrap_err(),
            Error::MalformedEvidence
        );
    }
}
