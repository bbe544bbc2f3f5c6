//! Audit records: one deterministic CBOR map per security event, the bytes a log
//! leaf commits to (`leaf_hash(record.to_cbor())`).
//!
//! A record is a map with small unsigned keys in ascending order, every head in
//! its shortest form (RFC 8949 section 4.2.1), so a record has one byte form.
//! Keys 0 to 4 are the header; keys 10 and up are the fields of the record's
//! kind (docs/audit-log.md, "Records", has the table):
//!
//! | key | field | type |
//! | --- | --- | --- |
//! | 0 | version | uint, 1 |
//! | 1 | kind | uint ([`Kind`]) |
//! | 2 | time | uint, POSIX seconds |
//! | 3 | source | text, 1..=64 bytes: the controller or gateway that recorded it |
//! | 4 | dropped | uint >= 1, only when records were dropped just before this one |
//! | 10 | door | text |
//! | 11 | outcome | uint (its meaning per kind: [`Outcome`]) |
//! | 12 | step | text: the step that decided |
//! | 13 | rule | text |
//! | 14 | reason | text |
//! | 15 | issuer | text |
//! | 16 | subject | [`Personal`]: `[commitment (32 bytes), pseudonym (16 bytes)]` |
//! | 17 | credential id (`cti`) | [`Personal`] |
//! | 18 | device | text |
//! | 19 | number | uint: a sequence number, bundle version or the first counter value |
//! | 20 | tier | text |
//! | 21 | name | text: a counter's or key's name |
//! | 22 | end | uint: the last counter value reserved |
//!
//! Texts are 1..=[`MAX_TEXT`] bytes of UTF-8. Personal data (the subject, the
//! credential id) never enters a record: only a salted commitment to it and a
//! keyed pseudonym do ([`Personal`]).

use alloc::string::String;
use alloc::vec::Vec;
use core::convert::Infallible;

use citysec_core::Limits;
use citysec_core::cbor::write;
use citysec_core::cbor::{Head, MAJOR_ARRAY, MAJOR_BYTES, MAJOR_MAP, MAJOR_TEXT, MAJOR_UINT, Reader, Tags};
use citysec_core::keys::RandomSource;
use citysec_core::provider::Provider;
use sha2::{Digest as _, Sha256};
use zeroize::{Zeroize as _, Zeroizing};

use crate::merkle::{Hash, leaf_hash};
use crate::{Error, Result};

/// The record format's version.
pub const VERSION: u64 = 1;
/// The longest text field, in bytes.
pub const MAX_TEXT: usize = 256;
/// The longest source name, in bytes.
pub const MAX_SOURCE: usize = 64;
/// The longest encoded record, in bytes.
pub const MAX_RECORD_LEN: usize = 2048;
/// Bytes of a commitment's salt.
pub const SALT_LEN: usize = 32;
/// Bytes of a pseudonym.
pub const PSEUDONYM_LEN: usize = 16;
/// HKDF `info` of pseudonyms.
pub const PSEUDONYM_INFO: &[u8] = b"citysec audit pseudonym v1";

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Kind {
    /// A door decision: door, outcome (allow / deny), step; rule, reason,
    /// issuer, subject, credential id, device when known.
    DoorDecision,
    /// A credential refused before any decision: door, reason; issuer, subject,
    /// credential id when known.
    CredentialRefused,
    /// A status list installed or refused: outcome; issuer (once verified),
    /// number (its `iat`), reason when refused.
    StatusList,
    /// A policy bundle installed or refused (a rollback): number (the bundle
    /// version), outcome; reason when refused.
    PolicyBundle,
    /// A device's evidence appraised: outcome; device (once its endorsement
    /// verified), tier, reason when refused.
    Attestation,
    /// A telemetry envelope refused: device, number (its sequence number),
    /// reason (replay, forgery, ...).
    TelemetryRefused,
    /// A door sensor event: door, outcome ([`Outcome::Opened`] ...).
    DoorSensor,
    /// Counter values reserved (persisted before use): name, number (first),
    /// end (last).
    CounterReservation,
    /// A key rotated in: name (the key's kid or role), issuer when it is an
    /// issuer's key.
    KeyRotation,
}

impl Kind {
    /// The record's value of key 1.
    #[must_use]
    pub const fn id(self) -> u64 {
        match self {
            Self::DoorDecision => 1,
            Self::CredentialRefused => 2,
            Self::StatusList => 3,
            Self::PolicyBundle => 4,
            Self::Attestation => 5,
            Self::TelemetryRefused => 6,
            Self::DoorSensor => 7,
            Self::CounterReservation => 8,
            Self::KeyRotation => 9,
        }
    }

    /// The kind's name: `door-decision`, `credential-refused`, `status-list`,
    /// `policy-bundle`, `attestation`, `telemetry-refused`, `door-sensor`,
    /// `counter-reservation`, `key-rotation`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::DoorDecision => "door-decision",
            Self::CredentialRefused => "credential-refused",
            Self::StatusList => "status-list",
            Self::PolicyBundle => "policy-bundle",
            Self::Attestation => "attestation",
            Self::TelemetryRefused => "telemetry-refused",
            Self::DoorSensor => "door-sensor",
            Self::CounterReservation => "counter-reservation",
            Self::KeyRotation => "key-rotation",
        }
    }

    /// The kind named `name` (see [`Self::name`]).
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        (1..=9).filter_map(Self::from_u64).find(|k| k.name() == name)
    }

    fn from_u64(v: u64) -> Option<Self> {
        Some(match v {
            1 => Self::DoorDecision,
            2 => Self::CredentialRefused,
            3 => Self::StatusList,
            4 => Self::PolicyBundle,
            5 => Self::Attestation,
            6 => Self::TelemetryRefused,
            7 => Self::DoorSensor,
            8 => Self::CounterReservation,
            9 => Self::KeyRotation,
            _ => return None,
        })
    }

    /// The fields (as bits `1 << (key - 10)`) a record of this kind must have,
    /// and those it may have.
    const fn fields(self) -> (u16, u16) {
        const DOOR: u16 = 1;
        const OUTCOME: u16 = 1 << 1;
        const STEP: u16 = 1 << 2;
        const RULE: u16 = 1 << 3;
        const REASON: u16 = 1 << 4;
        const ISSUER: u16 = 1 << 5;
        const SUBJECT: u16 = 1 << 6;
        const CTI: u16 = 1 << 7;
        const DEVICE: u16 = 1 << 8;
        const NUMBER: u16 = 1 << 9;
        const TIER: u16 = 1 << 10;
        const NAME: u16 = 1 << 11;
        const END: u16 = 1 << 12;
        match self {
            Self::DoorDecision => (DOOR | OUTCOME | STEP, RULE | REASON | ISSUER | SUBJECT | CTI | DEVICE),
            Self::CredentialRefused => (DOOR | REASON, ISSUER | SUBJECT | CTI),
            Self::StatusList => (OUTCOME, ISSUER | NUMBER | REASON),
            Self::PolicyBundle => (NUMBER | OUTCOME, REASON),
            Self::Attestation => (OUTCOME, DEVICE | TIER | REASON),
            Self::TelemetryRefused => (DEVICE | NUMBER | REASON, 0),
            Self::DoorSensor => (DOOR | OUTCOME, 0),
            Self::CounterReservation => (NAME | NUMBER | END, 0),
            Self::KeyRotation => (NAME, ISSUER),
        }
    }
}

/// The outcome field (key 11); which values a kind takes is in
/// docs/audit-log.md.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Outcome {
    /// A door decision: denied. Installs and appraisals: refused.
    Deny,
    /// A door decision: allowed. Installs and appraisals: accepted.
    Allow,
    /// A door sensor: opened.
    Opened,
    /// A door sensor: closed.
    Closed,
    /// A door sensor: held open too long.
    HeldOpen,
    /// A door sensor: forced open (opened without a decision to allow).
    Forced,
}

impl Outcome {
    /// The record's value of key 11.
    #[must_use]
    pub const fn id(self) -> u64 {
        match self {
            Self::Deny => 0,
            Self::Allow => 1,
            Self::Opened => 2,
            Self::Closed => 3,
            Self::HeldOpen => 4,
            Self::Forced => 5,
        }
    }

    /// The outcome's name: `deny`, `allow`, `opened`, `closed`, `held-open`,
    /// `forced`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Deny => "deny",
            Self::Allow => "allow",
            Self::Opened => "opened",
            Self::Closed => "closed",
            Self::HeldOpen => "held-open",
            Self::Forced => "forced",
        }
    }

    /// The outcome named `name` (see [`Self::name`]).
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        (0..=5).filter_map(Self::from_u64).find(|o| o.name() == name)
    }

    fn from_u64(v: u64) -> Option<Self> {
        Some(match v {
            0 => Self::Deny,
            1 => Self::Allow,
            2 => Self::Opened,
            3 => Self::Closed,
            4 => Self::HeldOpen,
            5 => Self::Forced,
            _ => return None,
        })
    }

    /// Whether a record of `kind` may carry this outcome.
    const fn fits(self, kind: Kind) -> bool {
        match kind {
            Kind::DoorSensor => matches!(self, Self::Opened | Self::Closed | Self::HeldOpen | Self::Forced),
            _ => matches!(self, Self::Deny | Self::Allow),
        }
    }
}

/// A personal value (a subject, a credential id) as a record carries it: a
/// salted commitment `SHA-256(salt ‖ value)` and a keyed pseudonym, the first
/// 16 bytes of `HKDF-SHA-256(salt = site key, ikm = value, info = "citysec audit
/// pseudonym v1")`.
///
/// - The commitment lets whoever holds the [`Disclosure`] (salt and value, kept
///   in an erasable side table) show what the record says. Erasing the
///   disclosure erases the personal data: the record, and every proof over it,
///   stays valid.
/// - The pseudonym lets detectors link one person's records without the value.
///   After erasure it still links the records to each other, but no longer to
///   a person, unless someone holding the site key tests candidate values.
///   Destroying or rotating the site key ends that too.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Personal {
    commitment: Hash,
    pseudonym: [u8; PSEUDONYM_LEN],
}

impl Personal {
    /// Commits to `value` with a fresh salt from `rng`, and derives its
    /// pseudonym under `site_key` with `provider`'s HKDF.
    ///
    /// # Errors
    /// [`Error::MalformedRecord`] for an empty value or one over [`MAX_TEXT`]
    /// bytes; [`Error::Signing`] if the random source or the HKDF fails.
    pub fn commit(
        provider: &Provider,
        rng: &mut dyn RandomSource,
        site_key: &[u8; 32],
        value: &str,
    ) -> Result<(Self, Disclosure)> {
        if value.is_empty() || value.len() > MAX_TEXT {
            return Err(Error::MalformedRecord);
        }
        let mut salt = Zeroizing::new([0u8; SALT_LEN]);
        rng.fill(salt.as_mut()).map_err(Error::Signing)?;
        let pseudonym = pseudonym(provider, site_key, value)?;
        let disclosure = Disclosure {
            salt: *salt,
            value: value.into(),
        };
        Ok((
            Self {
                commitment: disclosure.commitment(),
                pseudonym,
            },
            disclosure,
        ))
    }

    /// A personal field from its parts (as read from a record).
    #[must_use]
    pub const fn from_parts(commitment: Hash, pseudonym: [u8; PSEUDONYM_LEN]) -> Self {
        Self { commitment, pseudonym }
    }

    /// The commitment.
    #[must_use]
    pub const fn commitment(&self) -> &Hash {
        &self.commitment
    }

    /// The pseudonym.
    #[must_use]
    pub const fn pseudonym(&self) -> &[u8; PSEUDONYM_LEN] {
        &self.pseudonym
    }

    /// Whether `disclosure` opens this commitment.
    #[must_use]
    pub fn is_opened_by(&self, disclosure: &Disclosure) -> bool {
        disclosure.commitment() == self.commitment
    }
}

/// The pseudonym of `value` under `site_key`.
///
/// # Errors
/// [`Error::Signing`] if the provider has no HKDF.
pub fn pseudonym(provider: &Provider, site_key: &[u8; 32], value: &str) -> Result<[u8; PSEUDONYM_LEN]> {
    let mut out = [0u8; PSEUDONYM_LEN];
    provider
        .hkdf_sha256(site_key, value.as_bytes(), PSEUDONYM_INFO, &mut out)
        .map_err(Error::Signing)?;
    Ok(out)
}

/// The salt and value that open a [`Personal`] commitment: personal data, kept
/// outside the log in a table it can be erased from. Zeroized on drop; `Debug`
/// shows neither.
#[derive(Clone, PartialEq, Eq)]
pub struct Disclosure {
    salt: [u8; SALT_LEN],
    value: String,
}

impl core::fmt::Debug for Disclosure {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Disclosure { .. }")
    }
}

impl Drop for Disclosure {
    fn drop(&mut self) {
        self.salt.zeroize();
        self.value.zeroize();
    }
}

impl Disclosure {
    /// A disclosure from its parts (as read back from the side table).
    #[must_use]
    pub fn new(salt: [u8; SALT_LEN], value: &str) -> Self {
        Self {
            salt,
            value: value.into(),
        }
    }

    /// The salt.
    #[must_use]
    pub const fn salt(&self) -> &[u8; SALT_LEN] {
        &self.salt
    }

    /// The value.
    #[must_use]
    pub fn value(&self) -> &str {
        &self.value
    }

    /// `SHA-256(salt ‖ value)`.
    #[must_use]
    pub fn commitment(&self) -> Hash {
        let mut h = Sha256::new();
        h.update(self.salt);
        h.update(self.value.as_bytes());
        h.finalize().into()
    }
}

/// The text fields, for setting one in place.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Text {
    Door,
    Step,
    Rule,
    Reason,
    Issuer,
    Device,
    Tier,
    Name,
}

/// One audit record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    kind: Kind,
    time: u64,
    source: String,
    dropped: u64,
    door: Option<String>,
    outcome: Option<Outcome>,
    step: Option<String>,
    rule: Option<String>,
    reason: Option<String>,
    issuer: Option<String>,
    subject: Option<Personal>,
    credential_id: Option<Personal>,
    device: Option<String>,
    number: Option<u64>,
    tier: Option<String>,
    name: Option<String>,
    end: Option<u64>,
}

fn check_text(s: &str, max: usize) -> Result<()> {
    if s.is_empty() || s.len() > max {
        return Err(Error::MalformedRecord);
    }
    Ok(())
}

impl Record {
    /// A record of `kind` at `time` (POSIX seconds) from `source`, without
    /// fields yet: set them with the `with_*` methods, then [`Self::to_cbor`]
    /// checks that the kind's required fields are there.
    ///
    /// # Errors
    /// [`Error::MalformedRecord`] for an empty source or one over
    /// [`MAX_SOURCE`] bytes.
    pub fn new(kind: Kind, time: u64, source: &str) -> Result<Self> {
        check_text(source, MAX_SOURCE)?;
        Ok(Self::blank(kind, time, source.into()))
    }

    /// A record with no field set and no check made.
    const fn blank(kind: Kind, time: u64, source: String) -> Self {
        Self {
            kind,
            time,
            source,
            dropped: 0,
            door: None,
            outcome: None,
            step: None,
            rule: None,
            reason: None,
            issuer: None,
            subject: None,
            credential_id: None,
            device: None,
            number: None,
            tier: None,
            name: None,
            end: None,
        }
    }

    /// Sets a text field in place (what every `with_*` text method does).
    pub(crate) fn set_text(&mut self, field: Text, value: &str) -> Result<()> {
        check_text(value, MAX_TEXT)?;
        let slot = match field {
            Text::Door => &mut self.door,
            Text::Step => &mut self.step,
            Text::Rule => &mut self.rule,
            Text::Reason => &mut self.reason,
            Text::Issuer => &mut self.issuer,
            Text::Device => &mut self.device,
            Text::Tier => &mut self.tier,
            Text::Name => &mut self.name,
        };
        *slot = Some(value.into());
        Ok(())
    }

    /// Sets the outcome in place.
    pub(crate) const fn set_outcome(&mut self, outcome: Outcome) {
        self.outcome = Some(outcome);
    }

    /// Sets the number in place.
    pub(crate) const fn set_number(&mut self, number: u64) {
        self.number = Some(number);
    }

    /// Sets the end in place.
    pub(crate) const fn set_end(&mut self, end: u64) {
        self.end = Some(end);
    }

    /// Sets the subject or the credential id in place.
    pub(crate) const fn set_personal(&mut self, credential_id: bool, value: Personal) {
        if credential_id {
            self.credential_id = Some(value);
        } else {
            self.subject = Some(value);
        }
    }

    /// Records dropped just before this one (a full store; see the store).
    #[must_use]
    pub const fn with_dropped(mut self, dropped: u64) -> Self {
        self.dropped = dropped;
        self
    }

    /// The door.
    ///
    /// # Errors
    /// [`Error::MalformedRecord`] for an empty text or one over [`MAX_TEXT`].
    pub fn with_door(mut self, door: &str) -> Result<Self> {
        self.set_text(Text::Door, door)?;
        Ok(self)
    }

    /// The outcome.
    #[must_use]
    pub const fn with_outcome(mut self, outcome: Outcome) -> Self {
        self.outcome = Some(outcome);
        self
    }

    /// The step that decided.
    ///
    /// # Errors
    /// As [`Self::with_door`].
    pub fn with_step(mut self, step: &str) -> Result<Self> {
        self.set_text(Text::Step, step)?;
        Ok(self)
    }

    /// The rule that decided.
    ///
    /// # Errors
    /// As [`Self::with_door`].
    pub fn with_rule(mut self, rule: &str) -> Result<Self> {
        self.set_text(Text::Rule, rule)?;
        Ok(self)
    }

    /// Why something was refused.
    ///
    /// # Errors
    /// As [`Self::with_door`].
    pub fn with_reason(mut self, reason: &str) -> Result<Self> {
        self.set_text(Text::Reason, reason)?;
        Ok(self)
    }

    /// The issuer.
    ///
    /// # Errors
    /// As [`Self::with_door`].
    pub fn with_issuer(mut self, issuer: &str) -> Result<Self> {
        self.set_text(Text::Issuer, issuer)?;
        Ok(self)
    }

    /// The subject (committed, see [`Personal`]).
    #[must_use]
    pub const fn with_subject(mut self, subject: Personal) -> Self {
        self.subject = Some(subject);
        self
    }

    /// The credential id (committed, see [`Personal`]).
    #[must_use]
    pub const fn with_credential_id(mut self, cti: Personal) -> Self {
        self.credential_id = Some(cti);
        self
    }

    /// The device.
    ///
    /// # Errors
    /// As [`Self::with_door`].
    pub fn with_device(mut self, device: &str) -> Result<Self> {
        self.set_text(Text::Device, device)?;
        Ok(self)
    }

    /// The number (sequence number, version, first counter value).
    #[must_use]
    pub const fn with_number(mut self, number: u64) -> Self {
        self.number = Some(number);
        self
    }

    /// The attestation tier.
    ///
    /// # Errors
    /// As [`Self::with_door`].
    pub fn with_tier(mut self, tier: &str) -> Result<Self> {
        self.set_text(Text::Tier, tier)?;
        Ok(self)
    }

    /// The counter's or key's name.
    ///
    /// # Errors
    /// As [`Self::with_door`].
    pub fn with_name(mut self, name: &str) -> Result<Self> {
        self.set_text(Text::Name, name)?;
        Ok(self)
    }

    /// The last counter value reserved.
    #[must_use]
    pub const fn with_end(mut self, end: u64) -> Self {
        self.end = Some(end);
        self
    }

    /// The fields present, as bits `1 << (key - 10)`.
    fn present(&self) -> u16 {
        [
            self.door.is_some(),
            self.outcome.is_some(),
            self.step.is_some(),
            self.rule.is_some(),
            self.reason.is_some(),
            self.issuer.is_some(),
            self.subject.is_some(),
            self.credential_id.is_some(),
            self.device.is_some(),
            self.number.is_some(),
            self.tier.is_some(),
            self.name.is_some(),
            self.end.is_some(),
        ]
        .iter()
        .rev()
        .fold(0u16, |bits, &p| (bits << 1) | u16::from(p))
    }

    /// Checks the kind's rules: required fields present, no other field, an
    /// outcome the kind takes, a reservation whose end is not before its start.
    fn check(&self) -> Result<()> {
        let (required, optional) = self.kind.fields();
        let present = self.present();
        if present & required != required || present & !(required | optional) != 0 {
            return Err(Error::MalformedRecord);
        }
        if self.outcome.is_some_and(|o| !o.fits(self.kind)) {
            return Err(Error::MalformedRecord);
        }
        if let (Some(first), Some(last)) = (self.number, self.end)
            && last < first
        {
            return Err(Error::MalformedRecord);
        }
        Ok(())
    }

    /// The record's bytes: deterministic CBOR (see the [module](self)).
    ///
    /// # Errors
    /// [`Error::MalformedRecord`] if the kind's rules do not hold.
    pub fn to_cbor(&self) -> Result<Vec<u8>> {
        self.check()?;
        let mut out = Vec::new();
        let Ok(()) = self.write(&mut out);
        if out.len() > MAX_RECORD_LEN {
            return Err(Error::MalformedRecord);
        }
        Ok(out)
    }

    fn write(&self, out: &mut Vec<u8>) -> core::result::Result<(), Infallible> {
        let count = 4usize
            .saturating_add(usize::from(self.dropped != 0))
            .saturating_add(usize::try_from(self.present().count_ones()).unwrap_or(0));
        write::map(out, count)?;
        write::uint(out, 0)?;
        write::uint(out, VERSION)?;
        write::uint(out, 1)?;
        write::uint(out, self.kind.id())?;
        write::uint(out, 2)?;
        write::uint(out, self.time)?;
        write::uint(out, 3)?;
        write::text(out, &self.source)?;
        if self.dropped != 0 {
            write::uint(out, 4)?;
            write::uint(out, self.dropped)?;
        }
        let text = |out: &mut Vec<u8>, key: u64, v: &Option<String>| -> core::result::Result<(), Infallible> {
            if let Some(v) = v {
                write::uint(out, key)?;
                write::text(out, v)?;
            }
            Ok(())
        };
        let personal = |out: &mut Vec<u8>, key: u64, v: &Option<Personal>| -> core::result::Result<(), Infallible> {
            if let Some(p) = v {
                write::uint(out, key)?;
                write::array(out, 2)?;
                write::bytes(out, &p.commitment)?;
                write::bytes(out, &p.pseudonym)?;
            }
            Ok(())
        };
        text(out, 10, &self.door)?;
        if let Some(o) = self.outcome {
            write::uint(out, 11)?;
            write::uint(out, o.id())?;
        }
        text(out, 12, &self.step)?;
        text(out, 13, &self.rule)?;
        text(out, 14, &self.reason)?;
        text(out, 15, &self.issuer)?;
        personal(out, 16, &self.subject)?;
        personal(out, 17, &self.credential_id)?;
        text(out, 18, &self.device)?;
        if let Some(n) = self.number {
            write::uint(out, 19)?;
            write::uint(out, n)?;
        }
        text(out, 20, &self.tier)?;
        text(out, 21, &self.name)?;
        if let Some(e) = self.end {
            write::uint(out, 22)?;
            write::uint(out, e)?;
        }
        Ok(())
    }

    /// The leaf hash of this record in a log.
    ///
    /// # Errors
    /// As [`Self::to_cbor`].
    pub fn leaf_hash(&self) -> Result<Hash> {
        Ok(leaf_hash(&self.to_cbor()?))
    }

    /// Reads a record: exactly the form [`Self::to_cbor`] writes.
    ///
    /// # Errors
    /// [`Error::TooLarge`] beyond [`MAX_RECORD_LEN`]; [`Error::MalformedRecord`]
    /// for anything else: not deterministic CBOR, an unknown key, version or
    /// kind, a field of the wrong type or length, or the kind's rules broken.
    pub fn from_cbor(bytes: &[u8]) -> Result<Self> {
        if bytes.len() > MAX_RECORD_LEN {
            return Err(Error::TooLarge);
        }
        citysec_core::cbor::check_deterministic(bytes, &Limits::new(MAX_RECORD_LEN, 3, 32), Tags::Forbid)
            .map_err(|_| Error::MalformedRecord)?;
        let mut r = Reader::new(bytes);
        let entries = expect(&mut r, MAJOR_MAP)?;
        // Filled in as the keys come (ascending: the header first).
        let mut rec = Self::blank(Kind::DoorDecision, 0, String::new());
        let mut header = 0u8;
        for _ in 0..entries {
            match expect(&mut r, MAJOR_UINT)? {
                0 => {
                    if expect(&mut r, MAJOR_UINT)? != VERSION {
                        return Err(Error::MalformedRecord);
                    }
                    header |= 1;
                }
                1 => {
                    rec.kind = Kind::from_u64(expect(&mut r, MAJOR_UINT)?).ok_or(Error::MalformedRecord)?;
                    header |= 2;
                }
                2 => {
                    rec.time = expect(&mut r, MAJOR_UINT)?;
                    header |= 4;
                }
                3 => {
                    rec.source = text(&mut r, MAX_SOURCE)?;
                    header |= 8;
                }
                4 => {
                    rec.dropped = expect(&mut r, MAJOR_UINT)?;
                    if rec.dropped == 0 {
                        return Err(Error::MalformedRecord);
                    }
                }
                key => rec.read_field(key, &mut r)?,
            }
        }
        if header != 0b1111 {
            return Err(Error::MalformedRecord);
        }
        rec.check()?;
        Ok(rec)
    }

    fn read_field(&mut self, key: u64, r: &mut Reader<'_>) -> Result<()> {
        match key {
            10 => self.door = Some(text(r, MAX_TEXT)?),
            11 => self.outcome = Some(Outcome::from_u64(expect(r, MAJOR_UINT)?).ok_or(Error::MalformedRecord)?),
            12 => self.step = Some(text(r, MAX_TEXT)?),
            13 => self.rule = Some(text(r, MAX_TEXT)?),
            14 => self.reason = Some(text(r, MAX_TEXT)?),
            15 => self.issuer = Some(text(r, MAX_TEXT)?),
            16 => self.subject = Some(personal(r)?),
            17 => self.credential_id = Some(personal(r)?),
            18 => self.device = Some(text(r, MAX_TEXT)?),
            19 => self.number = Some(expect(r, MAJOR_UINT)?),
            20 => self.tier = Some(text(r, MAX_TEXT)?),
            21 => self.name = Some(text(r, MAX_TEXT)?),
            22 => self.end = Some(expect(r, MAJOR_UINT)?),
            _ => return Err(Error::MalformedRecord),
        }
        Ok(())
    }

    /// The kind.
    #[must_use]
    pub const fn kind(&self) -> Kind {
        self.kind
    }

    /// The time, POSIX seconds.
    #[must_use]
    pub const fn time(&self) -> u64 {
        self.time
    }

    /// The source.
    #[must_use]
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Records dropped just before this one (0 if none).
    #[must_use]
    pub const fn dropped(&self) -> u64 {
        self.dropped
    }

    /// The door.
    #[must_use]
    pub fn door(&self) -> Option<&str> {
        self.door.as_deref()
    }

    /// The outcome.
    #[must_use]
    pub const fn outcome(&self) -> Option<Outcome> {
        self.outcome
    }

    /// The deciding step.
    #[must_use]
    pub fn step(&self) -> Option<&str> {
        self.step.as_deref()
    }

    /// The deciding rule.
    #[must_use]
    pub fn rule(&self) -> Option<&str> {
        self.rule.as_deref()
    }

    /// The reason of a refusal.
    #[must_use]
    pub fn reason(&self) -> Option<&str> {
        self.reason.as_deref()
    }

    /// The issuer.
    #[must_use]
    pub fn issuer(&self) -> Option<&str> {
        self.issuer.as_deref()
    }

    /// The subject, committed.
    #[must_use]
    pub const fn subject(&self) -> Option<&Personal> {
        self.subject.as_ref()
    }

    /// The credential id, committed.
    #[must_use]
    pub const fn credential_id(&self) -> Option<&Personal> {
        self.credential_id.as_ref()
    }

    /// The device.
    #[must_use]
    pub fn device(&self) -> Option<&str> {
        self.device.as_deref()
    }

    /// The number.
    #[must_use]
    pub const fn number(&self) -> Option<u64> {
        self.number
    }

    /// The tier.
    #[must_use]
    pub fn tier(&self) -> Option<&str> {
        self.tier.as_deref()
    }

    /// The name.
    #[must_use]
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The end of a reservation.
    #[must_use]
    pub const fn end(&self) -> Option<u64> {
        self.end
    }
}

/// The argument of a head of major type `major` (definite, shortest form: the
/// deterministic check ran first).
fn expect(r: &mut Reader<'_>, major: u8) -> Result<u64> {
    let Head { major: m, arg, float } = r.head().map_err(|_| Error::MalformedRecord)?;
    if m != major || float {
        return Err(Error::MalformedRecord);
    }
    Ok(arg)
}

fn text(r: &mut Reader<'_>, max: usize) -> Result<String> {
    let len = usize::try_from(expect(r, MAJOR_TEXT)?).map_err(|_| Error::MalformedRecord)?;
    let bytes = r.take(len).map_err(|_| Error::MalformedRecord)?;
    let s = core::str::from_utf8(bytes).map_err(|_| Error::MalformedRecord)?;
    check_text(s, max)?;
    Ok(s.into())
}

fn fixed<const N: usize>(r: &mut Reader<'_>) -> Result<[u8; N]> {
    let len = usize::try_from(expect(r, MAJOR_BYTES)?).map_err(|_| Error::MalformedRecord)?;
    let bytes = r.take(len).map_err(|_| Error::MalformedRecord)?;
    bytes.try_into().map_err(|_| Error::MalformedRecord)
}

fn personal(r: &mut Reader<'_>) -> Result<Personal> {
    if expect(r, MAJOR_ARRAY)? != 2 {
        return Err(Error::MalformedRecord);
    }
    Ok(Personal {
        commitment: fixed(r)?,
        pseudonym: fixed(r)?,
    })
}
