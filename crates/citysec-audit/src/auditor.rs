//! From the components' events to the log: each [`AuditEvent`] becomes one
//! [`Record`], its personal values become commitments whose openings go to a
//! [`SideTable`], and the record is appended to a [`ControllerLog`].
//!
//! The mapping (docs/audit-log.md, "From events to records"):
//!
//! | event | kind | fields |
//! | --- | --- | --- |
//! | `DoorDecision` | 1 | door, outcome, step; rule, reason, issuer, subject, credential id, device |
//! | `CredentialRefused` | 2 | door, reason |
//! | `StatusList` | 3 | outcome; issuer, number (`iat`), reason |
//! | `PolicyBundle` | 4 | number (version), outcome; reason |
//! | `Attestation` | 5 | outcome; device, tier, reason |
//! | `TelemetryRefused` | 6 | device, number (sequence number), reason |
//! | `DoorSensor` | 7 | door, outcome |
//! | `CounterReservation` | 8 | name, number (first), end (last) |
//! | `KeyRotation` | 9 | name; issuer |
//!
//! Device ids and credential ids are bytes: they are written as lowercase
//! hex. A text over [`MAX_TEXT`] bytes (a long list of rules, say) is cut to
//! [`MAX_TEXT`] bytes at a character boundary. A personal value (a subject, a
//! credential id's hex) over [`MAX_TEXT`] bytes, or an empty one, is refused
//! ([`citysec_core::audit::AuditError::Invalid`] through a sink): it is not cut, because its commitment must open to
//! the whole value.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

#[cfg(feature = "std")]
use citysec_core::audit::{AuditError, AuditSink};
use citysec_core::audit::{AuditEvent, SensorEvent};
use citysec_core::keys::RandomSource;
use citysec_core::provider::Provider;
use citysec_core::{Clock, Timestamp};
use zeroize::Zeroizing;

use crate::log::{Appended, ControllerLog, RecordStore};
use crate::record::{Disclosure, Kind, MAX_TEXT, Outcome, Personal, Record, Text};
use crate::{Error, Result};

/// Which personal field of a record a disclosure opens.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PersonalField {
    /// The subject (key 16).
    Subject,
    /// The credential id (key 17).
    CredentialId,
}

/// Where the disclosures (salt and value) of records' personal fields live:
/// outside the log, so that they can be erased while every proof stays valid.
pub trait SideTable {
    /// Keeps the disclosure of `field` of the record at `index`.
    ///
    /// # Errors
    /// [`Error::StoreFull`] if there is no room.
    fn put(&mut self, index: u64, field: PersonalField, disclosure: Disclosure) -> Result<()>;

    /// The disclosure of `field` of the record at `index`, unless erased.
    fn get(&self, index: u64, field: PersonalField) -> Option<&Disclosure>;

    /// Erases every disclosure of `value` (one person's subject or credential
    /// id); returns how many were erased.
    fn erase_value(&mut self, value: &str) -> usize;
}

/// Disclosures in RAM, at most a given number (`no_std`): one vector sorted by
/// record index and field, so a controller pays for what it keeps and no more.
#[derive(Debug, Default)]
pub struct RamSideTable {
    entries: Vec<((u64, PersonalField), Disclosure)>,
    max: usize,
}

impl RamSideTable {
    /// A table for at most `max` disclosures.
    #[must_use]
    pub const fn new(max: usize) -> Self {
        Self {
            entries: Vec::new(),
            max,
        }
    }

    fn find(&self, key: (u64, PersonalField)) -> Result<usize, usize> {
        self.entries.binary_search_by(|(k, _)| k.cmp(&key))
    }

    /// The number of disclosures kept.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether none is kept.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl SideTable for RamSideTable {
    fn put(&mut self, index: u64, field: PersonalField, disclosure: Disclosure) -> Result<()> {
        match self.find((index, field)) {
            Ok(at) => {
                if let Some(slot) = self.entries.get_mut(at) {
                    slot.1 = disclosure;
                }
            }
            Err(_) if self.entries.len() >= self.max => return Err(Error::StoreFull),
            Err(at) => self.entries.insert(at, ((index, field), disclosure)),
        }
        Ok(())
    }

    fn get(&self, index: u64, field: PersonalField) -> Option<&Disclosure> {
        let at = self.find((index, field)).ok()?;
        self.entries.get(at).map(|(_, d)| d)
    }

    fn erase_value(&mut self, value: &str) -> usize {
        let before = self.entries.len();
        // Dropping a disclosure zeroizes it.
        self.entries.retain(|(_, d)| d.value() != value);
        before.saturating_sub(self.entries.len())
    }
}

/// Turns events into records of a controller's log.
pub struct Auditor<S: RecordStore, T: SideTable> {
    log: ControllerLog<S>,
    side: T,
    source: String,
    provider: Provider,
    site_key: Zeroizing<[u8; 32]>,
    rng: Box<dyn RandomSource + Send>,
    clock: Box<dyn Clock + Send>,
}

impl<S: RecordStore + core::fmt::Debug, T: SideTable + core::fmt::Debug> core::fmt::Debug for Auditor<S, T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Auditor")
            .field("log", &self.log)
            .field("side", &self.side)
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

impl<S: RecordStore, T: SideTable> Auditor<S, T> {
    /// An auditor that appends to `log` as `source` (the records' key 3),
    /// keeps disclosures in `side`, derives pseudonyms under `site_key` with
    /// `provider`'s HKDF, draws salts from `rng` and reads `clock` for events
    /// that come without a time.
    ///
    /// # Errors
    /// [`Error::MalformedRecord`] for a source a record cannot have.
    pub fn new(
        log: ControllerLog<S>,
        side: T,
        source: &str,
        provider: &Provider,
        site_key: [u8; 32],
        rng: Box<dyn RandomSource + Send>,
        clock: Box<dyn Clock + Send>,
    ) -> Result<Self> {
        Record::new(Kind::KeyRotation, 0, source)?;
        Ok(Self {
            log,
            side,
            source: source.into(),
            provider: *provider,
            site_key: Zeroizing::new(site_key),
            rng,
            clock,
        })
    }

    /// The log.
    #[must_use]
    pub const fn log(&self) -> &ControllerLog<S> {
        &self.log
    }

    /// The log, to export checkpoints ([`ControllerLog::exported`]).
    pub const fn log_mut(&mut self) -> &mut ControllerLog<S> {
        &mut self.log
    }

    /// The side table.
    #[must_use]
    pub const fn side_table(&self) -> &T {
        &self.side
    }

    /// The side table, to erase a person's disclosures.
    pub const fn side_table_mut(&mut self) -> &mut T {
        &mut self.side
    }

    /// Appends `event` (which happened at `time`, or now by the clock) as one
    /// record; its disclosures go to the side table once the record is logged.
    ///
    /// # Errors
    /// [`Error::MalformedRecord`] for an event the record format cannot hold;
    /// [`Error::NoTime`] if the event has no time and the clock none either;
    /// [`Error::Signing`] if the random source or HKDF fails; the errors of [`ControllerLog::append`]; the side table's.
    pub fn append_event(&mut self, time: Option<Timestamp>, event: &AuditEvent<'_>) -> Result<Appended> {
        let time = time.or_else(|| self.clock.now()).ok_or(Error::NoTime)?;
        let (record, disclosures) = self.record_of(time.as_unix_seconds(), event)?;
        let appended = self.log.append(record)?;
        if let Appended::Logged(index) = appended {
            for (field, d) in disclosures {
                self.side.put(index, field, d)?;
            }
        }
        Ok(appended)
    }

    fn commit(&mut self, value: &str) -> Result<(Personal, Disclosure)> {
        Personal::commit(&self.provider, &mut *self.rng, &self.site_key, value)
    }

    /// Commits `value` into the record's subject (or credential id), keeping
    /// its disclosure.
    fn personal(
        &mut self,
        r: &mut Record,
        field: PersonalField,
        value: &str,
        disclosures: &mut Vec<(PersonalField, Disclosure)>,
    ) -> Result<()> {
        let (p, d) = self.commit(value)?;
        r.set_personal(field == PersonalField::CredentialId, p);
        disclosures.push((field, d));
        Ok(())
    }

    /// The record of `event` at `time`, with its disclosures. Fields are set in
    /// place (one record, no copies: firmware links this).
    fn record_of(&mut self, time: u64, event: &AuditEvent<'_>) -> Result<(Record, Vec<(PersonalField, Disclosure)>)> {
        let mut disclosures = Vec::new();
        let kind = match event {
            AuditEvent::DoorDecision { .. } => Kind::DoorDecision,
            AuditEvent::CredentialRefused { .. } => Kind::CredentialRefused,
            AuditEvent::StatusList { .. } => Kind::StatusList,
            AuditEvent::PolicyBundle { .. } => Kind::PolicyBundle,
            AuditEvent::Attestation { .. } => Kind::Attestation,
            AuditEvent::TelemetryRefused { .. } => Kind::TelemetryRefused,
            AuditEvent::DoorSensor { .. } => Kind::DoorSensor,
            AuditEvent::CounterReservation { .. } => Kind::CounterReservation,
            AuditEvent::KeyRotation { .. } => Kind::KeyRotation,
            _ => return Err(Error::MalformedRecord),
        };
        let mut r = Record::new(kind, time, &self.source)?;
        // The optional texts of each kind, set where present.
        let mut texts: [(Text, Option<&str>); 5] = [(Text::Door, None); 5];
        let mut device = None;
        match *event {
            AuditEvent::DoorDecision {
                door,
                allowed,
                step,
                reason,
                rule,
                issuer,
                subject,
                credential_id,
                device: d,
            } => {
                r.set_outcome(accepted(allowed));
                texts = [
                    (Text::Door, Some(door)),
                    (Text::Step, Some(step)),
                    (Text::Rule, rule),
                    (Text::Reason, reason),
                    (Text::Issuer, issuer),
                ];
                device = d;
                if let Some(subject) = subject {
                    self.personal(&mut r, PersonalField::Subject, subject, &mut disclosures)?;
                }
                if let Some(cti) = credential_id {
                    self.personal(&mut r, PersonalField::CredentialId, &hex(cti), &mut disclosures)?;
                }
            }
            AuditEvent::CredentialRefused { door, reason } => {
                texts[0] = (Text::Door, Some(door));
                texts[1] = (Text::Reason, Some(reason));
            }
            AuditEvent::StatusList {
                issuer,
                installed,
                issued_at,
                reason,
            } => {
                r.set_outcome(accepted(installed));
                texts[0] = (Text::Issuer, issuer);
                texts[1] = (Text::Reason, reason);
                if let Some(iat) = issued_at {
                    r.set_number(iat);
                }
            }
            AuditEvent::PolicyBundle {
                version,
                installed,
                reason,
            } => {
                r.set_number(version);
                r.set_outcome(accepted(installed));
                texts[0] = (Text::Reason, reason);
            }
            AuditEvent::Attestation {
                device: d,
                accepted: ok,
                tier,
                reason,
            } => {
                r.set_outcome(accepted(ok));
                device = d;
                texts[0] = (Text::Tier, tier);
                texts[1] = (Text::Reason, reason);
            }
            AuditEvent::TelemetryRefused { device: d, seq, reason } => {
                device = Some(d);
                r.set_number(seq);
                texts[0] = (Text::Reason, Some(reason));
            }
            AuditEvent::DoorSensor { door, event } => {
                texts[0] = (Text::Door, Some(door));
                r.set_outcome(match event {
                    SensorEvent::Opened => Outcome::Opened,
                    SensorEvent::Closed => Outcome::Closed,
                    SensorEvent::HeldOpen => Outcome::HeldOpen,
                    SensorEvent::Forced => Outcome::Forced,
                    _ => return Err(Error::MalformedRecord),
                });
            }
            AuditEvent::CounterReservation { name, first, last } => {
                texts[0] = (Text::Name, Some(name));
                r.set_number(first);
                r.set_end(last);
            }
            AuditEvent::KeyRotation { name, issuer } => {
                texts[0] = (Text::Name, Some(name));
                texts[1] = (Text::Issuer, issuer);
            }
            _ => return Err(Error::MalformedRecord),
        }
        for (field, value) in texts {
            if let Some(value) = value {
                r.set_text(field, clip(value))?;
            }
        }
        if let Some(d) = device {
            r.set_text(Text::Device, clip(&hex(d)))?;
        }
        Ok((r, disclosures))
    }
}

const fn accepted(yes: bool) -> Outcome {
    if yes { Outcome::Allow } else { Outcome::Deny }
}

/// `s` cut to at most [`MAX_TEXT`] bytes at a character boundary.
fn clip(s: &str) -> &str {
    if s.len() <= MAX_TEXT {
        return s;
    }
    let mut end = MAX_TEXT;
    while !s.is_char_boundary(end) {
        end = end.saturating_sub(1);
    }
    s.get(..end).unwrap_or_default()
}

/// Lowercase hex of `bytes` (no formatting machinery: firmware links this).
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let digit = |n: u8| char::from(DIGITS.get(usize::from(n)).copied().unwrap_or(b'0'));
    let mut s = String::with_capacity(bytes.len().saturating_mul(2));
    for b in bytes {
        s.push(digit(b >> 4));
        s.push(digit(b & 0x0f));
    }
    s
}

/// What an [`Auditor`]'s error means to the component that reported.
#[cfg(feature = "std")]
const fn sink_error(e: Error) -> AuditError {
    match e {
        Error::StoreFull => AuditError::Full,
        Error::MalformedRecord => AuditError::Invalid,
        _ => AuditError::Storage,
    }
}

/// An [`Auditor`] behind a mutex: the [`AuditSink`] to give the door, the
/// receiver, the appraiser and the bundle loader (one auditor can serve them
/// all through an `Arc`).
#[cfg(feature = "std")]
#[derive(Debug)]
pub struct SharedAuditor<S: RecordStore, T: SideTable>(std::sync::Mutex<Auditor<S, T>>);

#[cfg(feature = "std")]
impl<S: RecordStore, T: SideTable> SharedAuditor<S, T> {
    /// Shares `auditor`.
    #[must_use]
    pub const fn new(auditor: Auditor<S, T>) -> Self {
        Self(std::sync::Mutex::new(auditor))
    }

    /// Runs `f` on the auditor (to read the log, export a checkpoint, erase a
    /// person). A poisoned lock is taken over: the auditor's state is
    /// consistent after every call.
    pub fn with<R>(&self, f: impl FnOnce(&mut Auditor<S, T>) -> R) -> R {
        let mut guard = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut guard)
    }
}

#[cfg(feature = "std")]
impl<S, T> AuditSink for SharedAuditor<S, T>
where
    S: RecordStore + Send + core::fmt::Debug,
    T: SideTable + Send + core::fmt::Debug,
{
    /// Appends the event; a record dropped under
    /// [`WhenFull::DecideAndCount`](crate::log::WhenFull::DecideAndCount) is
    /// `Ok` (it is counted in the next record).
    fn record(&self, time: Option<Timestamp>, event: &AuditEvent<'_>) -> core::result::Result<(), AuditError> {
        self.with(|a| a.append_event(time, event).map(|_| ()).map_err(sink_error))
    }
}
