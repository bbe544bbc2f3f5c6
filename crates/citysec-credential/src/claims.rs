//! The access profile: a CWT claims set ([`ClaimsSet`], citysec-cwt) with the
//! claims a door decides on (`roles`, `zones`, `kind`, `schedule`).

use alloc::string::String;
use alloc::vec::Vec;
use core::ops::{Deref, DerefMut};

use citysec_core::Limits;
use citysec_core::coset::cbor::value::Value;
use citysec_core::cwt::{ClaimReader, ClaimsSet, Profile};

use crate::{Error, Result};

/// Claim keys: the registered ones (from citysec-cwt) and the access profile's,
/// from the private-use range (below -65536, RFC 8392 section 9.1).
pub mod keys {
    pub use citysec_core::cwt::claims::keys::*;

    /// citysec profile: `roles`, an array of texts.
    pub const ROLES: i64 = -65537;
    /// citysec profile: `zones`, an array of texts.
    pub const ZONES: i64 = -65538;
    /// citysec profile: `kind`, one of "resident", "staff", "contractor", "visitor"
    /// (other texts are kept as they are).
    pub const KIND: i64 = -65539;
    /// citysec profile: `schedule`, an array of `[days, start_minute, end_minute]`.
    pub const SCHEDULE: i64 = -65540;
}

/// What kind of holder a credential is for.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CredentialKind {
    /// A resident of the district.
    Resident,
    /// City staff.
    Staff,
    /// A contractor.
    Contractor,
    /// A visitor.
    Visitor,
    /// Another kind, kept as written.
    Other(String),
}

impl CredentialKind {
    /// The kind as its profile text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            Self::Resident => "resident",
            Self::Staff => "staff",
            Self::Contractor => "contractor",
            Self::Visitor => "visitor",
            Self::Other(s) => s,
        }
    }

    /// The kind for a profile text.
    #[must_use]
    pub fn from_text(s: &str) -> Self {
        match s {
            "resident" => Self::Resident,
            "staff" => Self::Staff,
            "contractor" => Self::Contractor,
            "visitor" => Self::Visitor,
            other => Self::Other(String::from(other)),
        }
    }
}

/// A weekly validity window: on the `days` (bit 0 = Monday ... bit 6 = Sunday),
/// from `start_minute` (inclusive) to `end_minute` (exclusive), minutes after local
/// midnight.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ScheduleWindow {
    /// Days of the week as bits, Monday = bit 0.
    pub days: u8,
    /// First minute of the window (0..1440).
    pub start_minute: u16,
    /// Minute after the last one (1..=1440), greater than `start_minute`.
    pub end_minute: u16,
}

impl ScheduleWindow {
    /// Whether local `weekday` (0 = Monday) and `minute` of the day fall in this window.
    #[must_use]
    pub fn contains(&self, weekday: u8, minute: u16) -> bool {
        weekday < 7 && self.days & (1u8 << weekday) != 0 && self.start_minute <= minute && minute < self.end_minute
    }
}

/// The claims of an access credential: the CWT claims set (its fields are
/// reached through `Deref`: `claims.sub`, `claims.exp`, ...) and the access
/// profile's claims.
#[derive(Clone, Debug, PartialEq, Default)]
#[non_exhaustive]
pub struct Claims {
    /// The registered claims and every claim neither registered nor of this
    /// profile (`other`).
    pub cwt: ClaimsSet,
    /// Profile `roles` (-65537).
    pub roles: Vec<String>,
    /// Profile `zones` (-65538).
    pub zones: Vec<String>,
    /// Profile `kind` (-65539).
    pub kind: Option<CredentialKind>,
    /// Profile `schedule` (-65540); empty means no time-of-week restriction.
    pub schedule: Vec<ScheduleWindow>,
}

impl Deref for Claims {
    type Target = ClaimsSet;

    fn deref(&self) -> &ClaimsSet {
        &self.cwt
    }
}

impl DerefMut for Claims {
    fn deref_mut(&mut self) -> &mut ClaimsSet {
        &mut self.cwt
    }
}

impl Claims {
    /// Empty claims.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the schedule (if any) allows local `weekday` (0 = Monday) and `minute`.
    #[must_use]
    pub fn schedule_allows(&self, weekday: u8, minute: u16) -> bool {
        self.schedule.is_empty() || self.schedule.iter().any(|w| w.contains(weekday, minute))
    }

    /// Encodes the claims as a CBOR map: the registered claims in key order, the
    /// profile's claims, then `other`.
    ///
    /// # Errors
    /// [`Error::MalformedClaims`] if a field cannot be encoded (a cnf key coset
    /// refuses) or [`Error::InvalidTime`] for a time past year 9999.
    pub fn to_cbor(&self) -> Result<Vec<u8>> {
        let mut m: Vec<(i64, Value)> = Vec::new();
        if !self.roles.is_empty() {
            m.push((keys::ROLES, texts(&self.roles)));
        }
        if !self.zones.is_empty() {
            m.push((keys::ZONES, texts(&self.zones)));
        }
        if let Some(kind) = &self.kind {
            m.push((keys::KIND, Value::Text(kind.as_str().into())));
        }
        if !self.schedule.is_empty() {
            let windows = self
                .schedule
                .iter()
                .map(|w| {
                    Value::Array(alloc::vec![
                        Value::from(w.days),
                        Value::from(w.start_minute),
                        Value::from(w.end_minute)
                    ])
                })
                .collect();
            m.push((keys::SCHEDULE, Value::Array(windows)));
        }
        self.cwt.to_cbor_with(m)
    }

    /// Decodes a claims map under the access profile: the rules of
    /// [`ClaimsSet::from_cbor`], and the profile's claims must have their types.
    ///
    /// # Errors
    /// As [`ClaimsSet::from_cbor`].
    pub fn from_cbor(bytes: &[u8], limits: &Limits) -> Result<Self> {
        let (mut roles, mut zones, mut kind, mut schedule) = (Vec::new(), Vec::new(), None, Vec::new());
        let cwt = ClaimsSet::from_cbor_with(bytes, limits, |key, r| {
            match key {
                keys::ROLES => roles = r.text_array()?,
                keys::ZONES => zones = r.text_array()?,
                keys::KIND => kind = Some(CredentialKind::from_text(&r.text()?)),
                keys::SCHEDULE => schedule = schedule_of(r)?,
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        Ok(Self {
            cwt,
            roles,
            zones,
            kind,
            schedule,
        })
    }
}

impl Profile for Claims {
    fn claims_set(&self) -> &ClaimsSet {
        &self.cwt
    }
    fn claims_set_mut(&mut self) -> &mut ClaimsSet {
        &mut self.cwt
    }
    fn to_cbor(&self) -> Result<Vec<u8>> {
        Self::to_cbor(self)
    }
    fn from_cbor(bytes: &[u8], limits: &Limits) -> Result<Self> {
        Self::from_cbor(bytes, limits)
    }
}

fn texts(items: &[String]) -> Value {
    Value::Array(items.iter().cloned().map(Value::Text).collect())
}

/// An array of `[days, start_minute, end_minute]`.
fn schedule_of(r: &mut ClaimReader<'_>) -> Result<Vec<ScheduleWindow>> {
    let n = r.array()?;
    let mut out = Vec::with_capacity(usize::try_from(n).map_err(|_| Error::MalformedClaims)?);
    for _ in 0..n {
        if r.array()? != 3 {
            return Err(Error::MalformedClaims);
        }
        let days = u8::try_from(r.uint()?).map_err(|_| Error::MalformedClaims)?;
        let start_minute = u16::try_from(r.uint()?).map_err(|_| Error::MalformedClaims)?;
        let end_minute = u16::try_from(r.uint()?).map_err(|_| Error::MalformedClaims)?;
        if days == 0 || days > 0x7f || start_minute >= end_minute || end_minute > 1440 {
            return Err(Error::MalformedClaims);
        }
        out.push(ScheduleWindow {
            days,
            start_minute,
            end_minute,
        });
    }
    Ok(out)
}
