//! CWT claims: the registered claims of RFC 8392 plus the citysec access profile.

use alloc::string::String;
use alloc::vec::Vec;

use citysec_core::cbor::{Tags, check_well_formed};
use citysec_core::coset::cbor::value::Value;
use citysec_core::coset::{CborSerializable, CoseKey};
use citysec_core::{Key, Limits, Timestamp, VerifyingKey};

use crate::{Error, Result};

/// Registered CWT claim keys (RFC 8392 section 4, RFC 8747 for `cnf`).
pub mod keys {
    /// `iss`: the issuer.
    pub const ISS: i64 = 1;
    /// `sub`: the subject (the credential holder).
    pub const SUB: i64 = 2;
    /// `aud`: the audience (a text or an array of texts).
    pub const AUD: i64 = 3;
    /// `exp`: expiry, seconds since the epoch.
    pub const EXP: i64 = 4;
    /// `nbf`: not before, seconds since the epoch.
    pub const NBF: i64 = 5;
    /// `iat`: issued at, seconds since the epoch.
    pub const IAT: i64 = 6;
    /// `cti`: the CWT id (bytes).
    pub const CTI: i64 = 7;
    /// `cnf`: the confirmation (holder) key (RFC 8747).
    pub const CNF: i64 = 8;
    /// `status`: the Token Status List reference (draft-ietf-oauth-status-list).
    pub const STATUS: i64 = 65535;
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

/// A claim key that is not one of the registered or profile claims.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ClaimKey {
    /// An integer key.
    Int(i64),
    /// A text key.
    Text(String),
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

/// A credential's reference into a Token Status List.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct StatusRef {
    /// The index of this credential's entry.
    pub idx: u64,
    /// The URI of the status list (its `sub`).
    pub uri: String,
}

/// The holder binding of a credential (RFC 8747).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
#[expect(
    clippy::large_enum_variant,
    reason = "one per credential, decoded once; boxing the key would add an allocation to every verify"
)]
pub enum Confirmation {
    /// The holder's public key, embedded.
    Key(VerifyingKey),
    /// Only the holder key's id; the verifier must know the key.
    KeyId(Vec<u8>),
}

/// The claims of a citysec credential.
///
/// Registered claims have their own fields; the access profile's claims too;
/// everything else is kept in `other`, in the order it came.
#[derive(Clone, Debug, PartialEq, Default)]
#[non_exhaustive]
pub struct Claims {
    /// `iss` (1).
    pub iss: Option<String>,
    /// `sub` (2).
    pub sub: Option<String>,
    /// `aud` (3): one or more audiences.
    pub aud: Vec<String>,
    /// `exp` (4).
    pub exp: Option<Timestamp>,
    /// `nbf` (5).
    pub nbf: Option<Timestamp>,
    /// `iat` (6).
    pub iat: Option<Timestamp>,
    /// `cti` (7).
    pub cti: Option<Vec<u8>>,
    /// `cnf` (8).
    pub cnf: Option<Confirmation>,
    /// `status` (65535): where to look up revocation.
    pub status: Option<StatusRef>,
    /// Profile `roles` (-65537).
    pub roles: Vec<String>,
    /// Profile `zones` (-65538).
    pub zones: Vec<String>,
    /// Profile `kind` (-65539).
    pub kind: Option<CredentialKind>,
    /// Profile `schedule` (-65540); empty means no time-of-week restriction.
    pub schedule: Vec<ScheduleWindow>,
    /// Every other claim, kept as it came.
    pub other: Vec<(ClaimKey, Value)>,
}

impl Claims {
    /// Empty claims.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The value of an unknown claim, if present.
    #[must_use]
    pub fn other_claim(&self, key: &ClaimKey) -> Option<&Value> {
        self.other.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Whether the schedule (if any) allows local `weekday` (0 = Monday) and `minute`.
    #[must_use]
    pub fn schedule_allows(&self, weekday: u8, minute: u16) -> bool {
        self.schedule.is_empty() || self.schedule.iter().any(|w| w.contains(weekday, minute))
    }

    /// Encodes the claims as a CBOR map (registered claims first, in key order).
    ///
    /// # Errors
    /// [`Error::MalformedClaims`] if a field cannot be encoded (a cnf key coset
    /// refuses) or [`Error::InvalidTime`] for a time past year 9999.
    pub fn to_cbor(&self) -> Result<Vec<u8>> {
        let mut m: Vec<(Value, Value)> = Vec::new();
        let k = |key: i64| Value::from(key);
        if let Some(v) = &self.iss {
            m.push((k(keys::ISS), Value::Text(v.clone())));
        }
        if let Some(v) = &self.sub {
            m.push((k(keys::SUB), Value::Text(v.clone())));
        }
        match self.aud.as_slice() {
            [] => {}
            [one] => m.push((k(keys::AUD), Value::Text(one.clone()))),
            many => m.push((
                k(keys::AUD),
                Value::Array(many.iter().cloned().map(Value::Text).collect()),
            )),
        }
        for (key, t) in [(keys::EXP, self.exp), (keys::NBF, self.nbf), (keys::IAT, self.iat)] {
            if let Some(t) = t {
                if t > Timestamp::MAX {
                    return Err(Error::InvalidTime);
                }
                m.push((k(key), Value::from(t.as_unix_seconds())));
            }
        }
        if let Some(v) = &self.cti {
            m.push((k(keys::CTI), Value::Bytes(v.clone())));
        }
        if let Some(cnf) = &self.cnf {
            let inner = match cnf {
                Confirmation::Key(key) => {
                    let bytes = Key::Verifying(key.clone()).to_cose_key()?;
                    let cose = CoseKey::from_slice(&bytes).map_err(|_| Error::MalformedClaims)?;
                    let v =
                        citysec_core::coset::AsCborValue::to_cbor_value(cose).map_err(|_| Error::MalformedClaims)?;
                    (Value::from(1), v)
                }
                Confirmation::KeyId(kid) => (Value::from(3), Value::Bytes(kid.clone())),
            };
            m.push((k(keys::CNF), Value::Map(alloc::vec![inner])));
        }
        if let Some(s) = &self.status {
            let inner = Value::Map(alloc::vec![
                (Value::Text("idx".into()), Value::from(s.idx)),
                (Value::Text("uri".into()), Value::Text(s.uri.clone())),
            ]);
            m.push((
                k(keys::STATUS),
                Value::Map(alloc::vec![(Value::Text("status_list".into()), inner)]),
            ));
        }
        if !self.roles.is_empty() {
            m.push((k(keys::ROLES), texts(&self.roles)));
        }
        if !self.zones.is_empty() {
            m.push((k(keys::ZONES), texts(&self.zones)));
        }
        if let Some(kind) = &self.kind {
            m.push((k(keys::KIND), Value::Text(kind.as_str().into())));
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
            m.push((k(keys::SCHEDULE), Value::Array(windows)));
        }
        for (key, v) in &self.other {
            let kv = match key {
                ClaimKey::Int(i) => Value::from(*i),
                ClaimKey::Text(t) => Value::Text(t.clone()),
            };
            m.push((kv, v.clone()));
        }
        let mut out = Vec::new();
        citysec_core::coset::cbor::ser::into_writer(&Value::Map(m), &mut out).map_err(|_| Error::MalformedClaims)?;
        Ok(out)
    }

    /// Decodes a claims map under the citysec profile: well-formed, definite, no
    /// duplicate keys, no tags, within `limits`; registered and profile claims must
    /// have their types; unknown claims are kept.
    ///
    /// # Errors
    /// [`Error::Core`] with the well-formedness error; [`Error::MalformedClaims`];
    /// [`Error::InvalidTime`].
    pub fn from_cbor(bytes: &[u8], limits: &Limits) -> Result<Self> {
        check_well_formed(bytes, limits, Tags::Forbid)?;
        let value: Value = citysec_core::coset::cbor::de::from_reader(bytes).map_err(|_| Error::MalformedClaims)?;
        let Value::Map(entries) = value else {
            return Err(Error::MalformedClaims);
        };
        let mut c = Self::default();
        for (key, v) in entries {
            let key = match key {
                Value::Integer(i) => ClaimKey::Int(i64::try_from(i).map_err(|_| Error::MalformedClaims)?),
                Value::Text(t) => ClaimKey::Text(t),
                _ => return Err(Error::MalformedClaims),
            };
            match key {
                ClaimKey::Int(keys::ISS) => c.iss = Some(text(v)?),
                ClaimKey::Int(keys::SUB) => c.sub = Some(text(v)?),
                ClaimKey::Int(keys::AUD) => {
                    c.aud = match v {
                        Value::Text(t) => alloc::vec![t],
                        Value::Array(a) if !a.is_empty() => text_list(a)?,
                        _ => return Err(Error::MalformedClaims),
                    }
                }
                ClaimKey::Int(keys::EXP) => c.exp = Some(time(&v)?),
                ClaimKey::Int(keys::NBF) => c.nbf = Some(time(&v)?),
                ClaimKey::Int(keys::IAT) => c.iat = Some(time(&v)?),
                ClaimKey::Int(keys::CTI) => match v {
                    Value::Bytes(b) => c.cti = Some(b),
                    _ => return Err(Error::MalformedClaims),
                },
                ClaimKey::Int(keys::CNF) => c.cnf = Some(confirmation(v)?),
                ClaimKey::Int(keys::STATUS) => c.status = Some(status_ref(v)?),
                ClaimKey::Int(keys::ROLES) => c.roles = text_array(v)?,
                ClaimKey::Int(keys::ZONES) => c.zones = text_array(v)?,
                ClaimKey::Int(keys::KIND) => c.kind = Some(CredentialKind::from_text(&text(v)?)),
                ClaimKey::Int(keys::SCHEDULE) => c.schedule = schedule(v)?,
                other => c.other.push((other, v)),
            }
        }
        Ok(c)
    }
}

fn texts(items: &[String]) -> Value {
    Value::Array(items.iter().cloned().map(Value::Text).collect())
}

fn text(v: Value) -> Result<String> {
    match v {
        Value::Text(t) => Ok(t),
        _ => Err(Error::MalformedClaims),
    }
}

fn text_list(a: Vec<Value>) -> Result<Vec<String>> {
    a.into_iter().map(text).collect()
}

fn text_array(v: Value) -> Result<Vec<String>> {
    match v {
        Value::Array(a) => text_list(a),
        _ => Err(Error::MalformedClaims),
    }
}

fn uint(v: &Value) -> Result<u64> {
    match v {
        Value::Integer(i) => u64::try_from(*i).map_err(|_| Error::MalformedClaims),
        _ => Err(Error::MalformedClaims),
    }
}

/// A NumericDate: an integer in 0..=253402300799; floats, negatives and larger
/// values are refused.
fn time(v: &Value) -> Result<Timestamp> {
    let Value::Integer(i) = v else {
        return Err(Error::InvalidTime);
    };
    let t = u64::try_from(*i).map_err(|_| Error::InvalidTime)?;
    let t = Timestamp::from_unix_seconds(t);
    if t > Timestamp::MAX {
        return Err(Error::InvalidTime);
    }
    Ok(t)
}

fn confirmation(v: Value) -> Result<Confirmation> {
    let Value::Map(entries) = v else {
        return Err(Error::MalformedClaims);
    };
    let [(k, inner)] = <[(Value, Value); 1]>::try_from(entries).map_err(|_| Error::MalformedClaims)?;
    match (uint(&k)?, inner) {
        (1, key @ Value::Map(_)) => {
            let cose = <CoseKey as citysec_core::coset::AsCborValue>::from_cbor_value(key)
                .map_err(|_| Error::MalformedClaims)?;
            match Key::from_coset(&cose)? {
                Key::Verifying(k) => Ok(Confirmation::Key(k)),
                // A holder's private key in a credential is a leak, not a binding.
                _ => Err(Error::MalformedClaims),
            }
        }
        (3, Value::Bytes(kid)) if !kid.is_empty() => Ok(Confirmation::KeyId(kid)),
        _ => Err(Error::MalformedClaims),
    }
}

fn status_ref(v: Value) -> Result<StatusRef> {
    let Value::Map(outer) = v else {
        return Err(Error::MalformedClaims);
    };
    let mut found = None;
    for (k, inner) in outer {
        if matches!(&k, Value::Text(t) if t == "status_list") {
            let Value::Map(fields) = inner else {
                return Err(Error::MalformedClaims);
            };
            let (mut idx, mut uri) = (None, None);
            for (fk, fv) in fields {
                match &fk {
                    Value::Text(t) if t == "idx" => idx = Some(uint(&fv)?),
                    Value::Text(t) if t == "uri" => uri = Some(text(fv)?),
                    _ => {}
                }
            }
            found = Some(StatusRef {
                idx: idx.ok_or(Error::MalformedClaims)?,
                uri: uri.ok_or(Error::MalformedClaims)?,
            });
        }
    }
    found.ok_or(Error::MalformedClaims)
}

fn schedule(v: Value) -> Result<Vec<ScheduleWindow>> {
    let Value::Array(windows) = v else {
        return Err(Error::MalformedClaims);
    };
    windows
        .into_iter()
        .map(|w| {
            let Value::Array(parts) = w else {
                return Err(Error::MalformedClaims);
            };
            let [days, start, end] = <[Value; 3]>::try_from(parts).map_err(|_| Error::MalformedClaims)?;
            let days = u8::try_from(uint(&days)?).map_err(|_| Error::MalformedClaims)?;
            let start_minute = u16::try_from(uint(&start)?).map_err(|_| Error::MalformedClaims)?;
            let end_minute = u16::try_from(uint(&end)?).map_err(|_| Error::MalformedClaims)?;
            if days == 0 || days > 0x7f || start_minute >= end_minute || end_minute > 1440 {
                return Err(Error::MalformedClaims);
            }
            Ok(ScheduleWindow {
                days,
                start_minute,
                end_minute,
            })
        })
        .collect()
}
