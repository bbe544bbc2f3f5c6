//! CWT claims: the registered claims of RFC 8392 plus the citysec access profile.

use alloc::string::String;
use alloc::vec::Vec;

use citysec_core::cbor::{Head, Reader, Tags, check_well_formed};
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
    /// The registered and profile claims are read straight from the bytes; only
    /// unknown claims (and `cnf`'s COSE_Key) are decoded into [`Value`]s.
    ///
    /// # Errors
    /// [`Error::Core`] with the well-formedness error; [`Error::MalformedClaims`];
    /// [`Error::InvalidTime`].
    pub fn from_cbor(bytes: &[u8], limits: &Limits) -> Result<Self> {
        check_well_formed(bytes, limits, Tags::Forbid)?;
        if limits.max_depth >= VALUE_NESTING_LIMIT {
            // Only reachable with limits above the default: keeps refusing what the
            // `Value` decoder (nesting limit 256) refused.
            check_value_nesting(&mut Reader::new(bytes), 0)?;
        }
        let mut r = Reader::new(bytes);
        let map = head(&mut r)?;
        if map.major != MAJOR_MAP {
            return Err(Error::MalformedClaims);
        }
        let mut c = Self::default();
        for _ in 0..map.arg {
            let key = head(&mut r)?;
            let key = match key.major {
                MAJOR_UINT => i64::try_from(key.arg).map_err(|_| Error::MalformedClaims)?,
                MAJOR_NINT => {
                    let n = i64::try_from(key.arg).map_err(|_| Error::MalformedClaims)?;
                    (-1i64).checked_sub(n).ok_or(Error::MalformedClaims)?
                }
                MAJOR_TEXT => {
                    // Every registered and profile claim has an integer key.
                    let name = String::from(text_str(&mut r, key)?);
                    c.other.push((ClaimKey::Text(name), value(&mut r)?));
                    continue;
                }
                _ => return Err(Error::MalformedClaims),
            };
            match key {
                keys::ISS => c.iss = Some(text(&mut r)?),
                keys::SUB => c.sub = Some(text(&mut r)?),
                keys::AUD => c.aud = audience(&mut r)?,
                keys::EXP => c.exp = Some(time(&mut r)?),
                keys::NBF => c.nbf = Some(time(&mut r)?),
                keys::IAT => c.iat = Some(time(&mut r)?),
                keys::CTI => {
                    let h = head(&mut r)?;
                    if h.major != MAJOR_BYTES {
                        return Err(Error::MalformedClaims);
                    }
                    c.cti = Some(string(&mut r, h)?.to_vec());
                }
                keys::CNF => c.cnf = Some(confirmation(value(&mut r)?)?),
                keys::STATUS => c.status = Some(status_ref(&mut r)?),
                keys::ROLES => c.roles = text_array(&mut r)?,
                keys::ZONES => c.zones = text_array(&mut r)?,
                keys::KIND => {
                    let h = head(&mut r)?;
                    if h.major != MAJOR_TEXT {
                        return Err(Error::MalformedClaims);
                    }
                    c.kind = Some(CredentialKind::from_text(text_str(&mut r, h)?));
                }
                keys::SCHEDULE => c.schedule = schedule(&mut r)?,
                other => c.other.push((ClaimKey::Int(other), value(&mut r)?)),
            }
        }
        Ok(c)
    }
}

fn texts(items: &[String]) -> Value {
    Value::Array(items.iter().cloned().map(Value::Text).collect())
}

const MAJOR_UINT: u8 = 0;
const MAJOR_NINT: u8 = 1;
const MAJOR_BYTES: u8 = 2;
const MAJOR_TEXT: u8 = 3;
const MAJOR_ARRAY: u8 = 4;
const MAJOR_MAP: u8 = 5;
const MAJOR_TAG: u8 = 6;

/// The container nesting ciborium's `from_reader` refuses beyond.
const VALUE_NESTING_LIMIT: usize = 256;

// The readers below run after `check_well_formed` accepted the whole map, so the
// reader's own errors cannot happen; they map to `MalformedClaims` all the same.

fn head(r: &mut Reader<'_>) -> Result<Head> {
    r.head().map_err(|_| Error::MalformedClaims)
}

fn string<'a>(r: &mut Reader<'a>, h: Head) -> Result<&'a [u8]> {
    r.take_string(h).map_err(|_| Error::MalformedClaims)
}

fn text_str<'a>(r: &mut Reader<'a>, h: Head) -> Result<&'a str> {
    core::str::from_utf8(string(r, h)?).map_err(|_| Error::MalformedClaims)
}

/// Skips one item.
fn skip(r: &mut Reader<'_>) -> Result<()> {
    let mut pending: u64 = 1;
    while pending > 0 {
        pending = pending.checked_sub(1).ok_or(Error::MalformedClaims)?;
        let h = head(r)?;
        let more = match h.major {
            MAJOR_BYTES | MAJOR_TEXT => {
                string(r, h)?;
                0
            }
            MAJOR_ARRAY => h.arg,
            MAJOR_MAP => h.arg.checked_mul(2).ok_or(Error::MalformedClaims)?,
            MAJOR_TAG => 1,
            _ => 0,
        };
        pending = pending.checked_add(more).ok_or(Error::MalformedClaims)?;
    }
    Ok(())
}

/// Refuses a container nested [`VALUE_NESTING_LIMIT`] deep or deeper (the top item is
/// at `depth` 0); recurses at most that deep.
fn check_value_nesting(r: &mut Reader<'_>, depth: usize) -> Result<()> {
    let h = head(r)?;
    let items = match h.major {
        MAJOR_BYTES | MAJOR_TEXT => {
            string(r, h)?;
            return Ok(());
        }
        MAJOR_ARRAY => h.arg,
        MAJOR_MAP => h.arg.checked_mul(2).ok_or(Error::MalformedClaims)?,
        MAJOR_TAG => 1,
        _ => return Ok(()),
    };
    if depth >= VALUE_NESTING_LIMIT {
        return Err(Error::MalformedClaims);
    }
    let inner = depth.checked_add(1).ok_or(Error::MalformedClaims)?;
    for _ in 0..items {
        check_value_nesting(r, inner)?;
    }
    Ok(())
}

/// The next item as a ciborium [`Value`] (unknown claims, `cnf`), built by
/// citysec-core's serde-free reader (the same tree ciborium's `from_reader` makes).
fn value(r: &mut Reader<'_>) -> Result<Value> {
    let start = r.position();
    skip(r)?;
    let item = r.slice_from(start).map_err(|_| Error::MalformedClaims)?;
    citysec_core::cbor::to_value(item).map_err(|_| Error::MalformedClaims)
}

fn text(r: &mut Reader<'_>) -> Result<String> {
    let h = head(r)?;
    if h.major != MAJOR_TEXT {
        return Err(Error::MalformedClaims);
    }
    text_str(r, h).map(String::from)
}

/// `count` texts into a vector.
fn texts_of(r: &mut Reader<'_>, count: u64) -> Result<Vec<String>> {
    // The count was checked against the bytes present and the entry limit.
    let mut out = Vec::with_capacity(usize::try_from(count).map_err(|_| Error::MalformedClaims)?);
    for _ in 0..count {
        out.push(text(r)?);
    }
    Ok(out)
}

fn text_array(r: &mut Reader<'_>) -> Result<Vec<String>> {
    let h = head(r)?;
    if h.major != MAJOR_ARRAY {
        return Err(Error::MalformedClaims);
    }
    texts_of(r, h.arg)
}

/// A text or a non-empty array of texts.
fn audience(r: &mut Reader<'_>) -> Result<Vec<String>> {
    let h = head(r)?;
    match h.major {
        MAJOR_TEXT => Ok(alloc::vec![String::from(text_str(r, h)?)]),
        MAJOR_ARRAY if h.arg > 0 => texts_of(r, h.arg),
        _ => Err(Error::MalformedClaims),
    }
}

/// An unsigned integer (a negative one is refused too).
fn uint(r: &mut Reader<'_>) -> Result<u64> {
    let h = head(r)?;
    if h.major != MAJOR_UINT {
        return Err(Error::MalformedClaims);
    }
    Ok(h.arg)
}

/// A NumericDate: an integer in 0..=253402300799; floats, negatives and larger
/// values are refused.
fn time(r: &mut Reader<'_>) -> Result<Timestamp> {
    let h = head(r)?;
    if h.major != MAJOR_UINT {
        return Err(Error::InvalidTime);
    }
    let t = Timestamp::from_unix_seconds(h.arg);
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
    let k = match k {
        Value::Integer(i) => u64::try_from(i).map_err(|_| Error::MalformedClaims)?,
        _ => return Err(Error::MalformedClaims),
    };
    match (k, inner) {
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

/// Reads a map key and tells whether it is the text `name` (keys are integers or
/// strings: the well-formedness pass refused others).
fn key_is(r: &mut Reader<'_>, name: &str) -> Result<bool> {
    let h = head(r)?;
    match h.major {
        MAJOR_TEXT => Ok(string(r, h)? == name.as_bytes()),
        MAJOR_BYTES => string(r, h).map(|_| false),
        _ => Ok(false),
    }
}

/// `{"status_list": {"idx": uint, "uri": text, ...}, ...}`; other entries are ignored.
fn status_ref(r: &mut Reader<'_>) -> Result<StatusRef> {
    let outer = head(r)?;
    if outer.major != MAJOR_MAP {
        return Err(Error::MalformedClaims);
    }
    let mut found = None;
    for _ in 0..outer.arg {
        if !key_is(r, "status_list")? {
            skip(r)?;
            continue;
        }
        let fields = head(r)?;
        if fields.major != MAJOR_MAP {
            return Err(Error::MalformedClaims);
        }
        let (mut idx, mut uri) = (None, None);
        for _ in 0..fields.arg {
            let h = head(r)?;
            let name = match h.major {
                MAJOR_TEXT => string(r, h)?,
                MAJOR_BYTES => {
                    string(r, h)?;
                    &[]
                }
                _ => &[],
            };
            match name {
                b"idx" => idx = Some(uint(r)?),
                b"uri" => uri = Some(text(r)?),
                _ => skip(r)?,
            }
        }
        found = Some(StatusRef {
            idx: idx.ok_or(Error::MalformedClaims)?,
            uri: uri.ok_or(Error::MalformedClaims)?,
        });
    }
    found.ok_or(Error::MalformedClaims)
}

/// An array of `[days, start_minute, end_minute]`.
fn schedule(r: &mut Reader<'_>) -> Result<Vec<ScheduleWindow>> {
    let windows = head(r)?;
    if windows.major != MAJOR_ARRAY {
        return Err(Error::MalformedClaims);
    }
    let mut out = Vec::with_capacity(usize::try_from(windows.arg).map_err(|_| Error::MalformedClaims)?);
    for _ in 0..windows.arg {
        let parts = head(r)?;
        if parts.major != MAJOR_ARRAY || parts.arg != 3 {
            return Err(Error::MalformedClaims);
        }
        let days = u8::try_from(uint(r)?).map_err(|_| Error::MalformedClaims)?;
        let start_minute = u16::try_from(uint(r)?).map_err(|_| Error::MalformedClaims)?;
        let end_minute = u16::try_from(uint(r)?).map_err(|_| Error::MalformedClaims)?;
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
