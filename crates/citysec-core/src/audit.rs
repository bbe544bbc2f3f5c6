//! Audit events: what the library's components report, and the sink they report
//! to.
//!
//! A component that makes a security decision (the door, the telemetry receiver,
//! the appraiser, the policy bundle loader) reports it to an [`AuditSink`] the
//! caller gave it; there is no global logger. citysec-audit turns each event
//! into a record of its tamper-evident log (`citysec_audit::Auditor`); a caller
//! can also send events anywhere else.
//!
//! Events borrow what they name; a sink copies what it keeps. Device
//! identifiers are bytes (a UEID); credential ids (`cti`) are bytes; subjects
//! are text. A `reason` is the refusing error's message (its `Display`).
//!
//! What a sink's failure does is the reporting component's to say: a door
//! denies a request whose decision it could not record, a policy bundle whose
//! installation could not be recorded does not take effect, and a refusal stays
//! a refusal.

use core::fmt;

use crate::Timestamp;

/// Where components report their security events.
///
/// `record` takes `&self` so that one sink can serve several components (wrap
/// a log in a mutex); it returns `Ok` only once the event is kept.
pub trait AuditSink: Send + Sync + fmt::Debug {
    /// Keeps `event`, which happened at `time` when the component knew the
    /// time (the sink's clock supplies it otherwise).
    ///
    /// # Errors
    /// [`AuditError`] if the event was not kept.
    fn record(&self, time: Option<Timestamp>, event: &AuditEvent<'_>) -> Result<(), AuditError>;
}

/// Why a sink did not keep an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuditError {
    /// The sink's store is full and its policy is to refuse.
    Full,
    /// The sink's storage, clock or random source failed.
    Storage,
    /// The event cannot be recorded (a field too long or empty).
    Invalid,
}

impl fmt::Display for AuditError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Full => "audit log full",
            Self::Storage => "audit log storage failed",
            Self::Invalid => "audit event cannot be recorded",
        })
    }
}

impl core::error::Error for AuditError {}

/// A door sensor's report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SensorEvent {
    /// The door opened.
    Opened,
    /// The door closed.
    Closed,
    /// The door stayed open too long.
    HeldOpen,
    /// The door opened without a decision to allow it.
    Forced,
}

/// One security event. Each variant is one record kind of docs/audit-log.md.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuditEvent<'a> {
    /// A door decided on a request whose credential verified.
    DoorDecision {
        /// The door.
        door: &'a str,
        /// Allowed or denied.
        allowed: bool,
        /// The step that decided: the last step run (`policy` when allowed).
        step: &'a str,
        /// Why it was denied; `None` when allowed.
        reason: Option<&'a str>,
        /// The policy rules that decided (comma-separated), if any.
        rule: Option<&'a str>,
        /// The credential's issuer.
        issuer: Option<&'a str>,
        /// The credential's subject (`sub`): personal.
        subject: Option<&'a str>,
        /// The credential's id (`cti`): personal.
        credential_id: Option<&'a [u8]>,
        /// The door controller's device id, once its attestation was checked.
        device: Option<&'a [u8]>,
    },
    /// A door refused a request because its credential or presentation was
    /// refused (nothing in an unverified credential is recorded).
    CredentialRefused {
        /// The door.
        door: &'a str,
        /// Why.
        reason: &'a str,
    },
    /// A status list was installed or refused.
    StatusList {
        /// The list's issuer, once its signature verified.
        issuer: Option<&'a str>,
        /// Installed or refused.
        installed: bool,
        /// The list's `iat` when it verified.
        issued_at: Option<u64>,
        /// Why it was refused.
        reason: Option<&'a str>,
    },
    /// A policy bundle was installed or refused.
    PolicyBundle {
        /// The bundle's version (0 when it did not verify).
        version: u64,
        /// Installed or refused.
        installed: bool,
        /// Why it was refused (a rollback, a bad signature, ...).
        reason: Option<&'a str>,
    },
    /// A device's evidence was appraised, or refused before a result.
    Attestation {
        /// The device (its UEID), once its endorsement verified.
        device: Option<&'a [u8]>,
        /// Whether a result was signed.
        accepted: bool,
        /// The result's tier (`affirming`, `warning`, ...).
        tier: Option<&'a str>,
        /// Why the evidence was refused.
        reason: Option<&'a str>,
    },
    /// A telemetry envelope was refused after its header parsed. The device
    /// and sequence number are as the envelope claims them.
    TelemetryRefused {
        /// The device the envelope names.
        device: &'a [u8],
        /// Its sequence number.
        seq: u64,
        /// Why (a replay, a failed tag, ...).
        reason: &'a str,
    },
    /// A door sensor reported (reported by the caller).
    DoorSensor {
        /// The door.
        door: &'a str,
        /// What happened.
        event: SensorEvent,
    },
    /// Counter values were reserved (persisted before use; reported by the
    /// caller).
    CounterReservation {
        /// The counter's name.
        name: &'a str,
        /// The first value reserved.
        first: u64,
        /// The last value reserved.
        last: u64,
    },
    /// A key was rotated in (reported by the caller).
    KeyRotation {
        /// The key's kid or role.
        name: &'a str,
        /// The issuer it signs for, if any.
        issuer: Option<&'a str>,
    },
}

/// A sink that keeps nothing and never fails: for callers that record events
/// elsewhere, and for tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NoAudit;

impl AuditSink for NoAudit {
    fn record(&self, _time: Option<Timestamp>, _event: &AuditEvent<'_>) -> Result<(), AuditError> {
        Ok(())
    }
}

#[cfg(target_has_atomic = "ptr")]
impl<T: AuditSink + ?Sized> AuditSink for alloc::sync::Arc<T> {
    fn record(&self, time: Option<Timestamp>, event: &AuditEvent<'_>) -> Result<(), AuditError> {
        (**self).record(time, event)
    }
}
