//! Door decisions: a credential presentation, the door controller's attestation
//! result and the signed policy, checked in that order, in one call.
//!
//! [`DoorAuthority::decide`] runs, for one [`DoorRequest`]:
//!
//! 1. **Credential and presentation**: the credential inside the presentation is
//!    verified fully (signature by a trusted issuer key, issuer, validity period,
//!    audience, revocation status), then the presentation's signature by the
//!    credential's `cnf` key, then that it answers the reader's challenge, then
//!    the challenge's age ([`Verifier::verify_presentation`]).
//! 2. **Schedule**: the credential's own `schedule` claim must allow the request's
//!    local time ([`Denial::OutsideSchedule`] otherwise), whatever the policy
//!    says: the same rule as the policy attribute `subject.in_schedule` (weekday
//!    and minute of [`DoorRequest::local_time`]; a window's start minute is
//!    inside, its end minute is not; no schedule means no restriction).
//! 3. **Device trust**: the attestation result of the door controller that relays
//!    the request is verified (trusted attestation verifier key, audience,
//!    expiry), must name the door's device (`ueid`) and must be `affirming`
//!    (or `warning`, if [`DoorAuthority::accept_device_warnings`] says so).
//! 4. **Policy**: only now are the verified values turned into a policy request
//!    (the attributes in [`attributes`]) and evaluated against the installed,
//!    signed policy bundle.
//!
//! The policy request can only be built from a [`VerifiedCredential`] (which only
//! a credential [`Verifier`] makes) and a [`TrustedDevice`] (which only step 2
//! makes): unverified data cannot reach policy. Every failure denies, and the
//! [`DoorDecision`] names the step that denied and why, with one line per step.
//!
//! **Held state.** The bundle version and, per status-list URI, the newest `iat`
//! go through a [`StateStore`] ([`DoorAuthority::with_store`]; by default one in
//! memory, which a restart forgets): a new bundle or list is recorded there before
//! it takes effect, and nothing older than what is held installs again.
//!
//! **Audit.** With a sink ([`DoorAuthority::with_audit`]), every decision is
//! reported before `decide` returns: a request whose credential was refused as
//! [`AuditEvent::CredentialRefused`], every other one as
//! [`AuditEvent::DoorDecision`] (with the credential's issuer, subject and `cti`,
//! and the controller's device once checked). A decision to allow that the sink
//! could not keep becomes a denial ([`Denial::Audit`]): the door opens only when
//! the opening is on record. Bundle and status-list installations are reported
//! too (see [`DoorAuthority::install_policy`] and
//! [`DoorAuthority::install_status_list`]).
//!
//! `examples/door_access_offline.rs` walks through a whole door, from keys to
//! decisions.

use alloc::boxed::Box;
use alloc::format;
use alloc::string::{String, ToString as _};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;

use citysec_attest::{
    AttestationResult, ExpectedDevice, ExternalEar, ExternalEarVerifier, ExternalError, ResultVerifier, Tier,
};
use citysec_core::Timestamp;
use citysec_core::audit::{AuditError, AuditEvent, AuditSink};
use citysec_core::state::{MemoryStateStore, StateStore, StoreError};
use citysec_credential::{Challenge, StatusListVerifier, VerifiedCredential, VerifiedStatusList, Verifier};
use citysec_policy::bundle::{self, BundleError, LoadOptions, PolicySigners};
use citysec_policy::{Attr, Decision, PolicyLimits, PolicySet, Reason, Request, RequestError, Value, Weekday};

/// The attributes the door glue sets in a policy request. A schema declares the
/// ones its rules use; the others are not set. A declared attribute of another
/// type than listed here makes every rule that reads it error, which denies.
pub mod attributes {
    /// `string`: the credential's `sub`.
    pub const SUBJECT_ID: &str = "subject.id";
    /// `string`: the credential's issuer.
    pub const SUBJECT_ISSUER: &str = "subject.issuer";
    /// `string`: the credential's kind (`staff`, `visitor`, `contractor`, `service`, ...).
    pub const SUBJECT_KIND: &str = "subject.kind";
    /// `set<string>`: the credential's roles.
    pub const SUBJECT_ROLES: &str = "subject.roles";
    /// `set<string>`: the credential's zones.
    pub const SUBJECT_ZONES: &str = "subject.zones";
    /// `bool`: the credential's weekly schedule allows the local time (true without a
    /// schedule).
    pub const SUBJECT_IN_SCHEDULE: &str = "subject.in_schedule";
    /// `string`: the door's id.
    pub const RESOURCE_ID: &str = "resource.id";
    /// `string`: the door's zone.
    pub const RESOURCE_ZONE: &str = "resource.zone";
    /// `weekday`: the local weekday.
    pub const CONTEXT_WEEKDAY: &str = "context.weekday";
    /// `int`: the local hour, 0..=23.
    pub const CONTEXT_HOUR: &str = "context.hour";
    /// `int`: the local minute of the day, 0..=1439.
    pub const CONTEXT_MINUTE: &str = "context.minute";
    /// `int`: the threat level the site has set (0 = normal).
    pub const CONTEXT_THREAT_LEVEL: &str = "context.threat_level";
    /// `string`: the door controller's attestation tier (`affirming` or `warning`).
    pub const CONTEXT_DEVICE_TRUST: &str = "context.device_trust";
}

/// Minutes in a day.
const MINUTES_PER_DAY: u16 = 1440;

/// A local wall-clock time as policies see it: weekday and minute of the day.
///
/// There is no time zone database in `no_std`: the caller knows its UTC offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LocalTime {
    weekday: Weekday,
    minute: u16,
}

impl LocalTime {
    /// `weekday` at `minute` after local midnight; `None` unless `minute < 1440`.
    #[must_use]
    pub const fn new(weekday: Weekday, minute: u16) -> Option<Self> {
        if minute < MINUTES_PER_DAY {
            Some(Self { weekday, minute })
        } else {
            None
        }
    }

    /// The local time at `now` for a site `utc_offset_minutes` east of UTC (clamped
    /// to ±18 h).
    #[must_use]
    pub fn at(now: Timestamp, utc_offset_minutes: i16) -> Self {
        // Shifted by one week so that the sum cannot be negative (the offset is at
        // least -18 h); a whole week changes neither the weekday nor the minute.
        // Timestamps end in year 9999, far from u64::MAX.
        const WEEK: u64 = 7 * 86_400;
        let offset = i64::from(utc_offset_minutes.clamp(-18 * 60, 18 * 60)).saturating_mul(60);
        let shifted = now.as_unix_seconds().saturating_add(WEEK).saturating_add_signed(offset);
        // Below 1440, which clippy sees: the cast cannot truncate.
        let minute = (shifted % 86_400 / 60) as u16;
        // Day 0 (1970-01-01) was a Thursday; the week shift keeps that.
        let weekday = match (shifted / 86_400) % 7 {
            0 => Weekday::Thu,
            1 => Weekday::Fri,
            2 => Weekday::Sat,
            3 => Weekday::Sun,
            4 => Weekday::Mon,
            5 => Weekday::Tue,
            _ => Weekday::Wed,
        };
        Self { weekday, minute }
    }

    /// The weekday.
    #[must_use]
    pub const fn weekday(self) -> Weekday {
        self.weekday
    }

    /// The minute of the day, 0..=1439.
    #[must_use]
    pub const fn minute(self) -> u16 {
        self.minute
    }

    /// The hour, 0..=23.
    #[must_use]
    pub const fn hour(self) -> u16 {
        self.minute / 60
    }
}

impl fmt::Display for LocalTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {:02}:{:02}",
            self.weekday.as_str(),
            self.minute / 60,
            self.minute % 60
        )
    }
}

/// A door: what the policy calls the resource, and the controller that guards it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Door {
    id: String,
    zone: String,
    device: Vec<u8>,
    action: String,
    resource_type: String,
}

impl Door {
    /// Door `id` in `zone`, guarded by the controller whose attestation `ueid` is
    /// `device`. The policy action is `open` on resource type `door` unless changed.
    #[must_use]
    pub fn new(id: impl Into<String>, zone: impl Into<String>, device: impl Into<Vec<u8>>) -> Self {
        Self {
            id: id.into(),
            zone: zone.into(),
            device: device.into(),
            action: String::from("open"),
            resource_type: String::from("door"),
        }
    }

    /// The policy action this door asks about (default `open`).
    #[must_use]
    pub fn action(mut self, action: impl Into<String>) -> Self {
        self.action = action.into();
        self
    }

    /// The policy resource type (default `door`).
    #[must_use]
    pub fn resource_type(mut self, ty: impl Into<String>) -> Self {
        self.resource_type = ty.into();
        self
    }

    /// The door's id.
    #[must_use]
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The door's zone.
    #[must_use]
    pub fn zone(&self) -> &str {
        &self.zone
    }

    /// The `ueid` of the controller guarding the door.
    #[must_use]
    pub fn device(&self) -> &[u8] {
        &self.device
    }
}

/// A door controller whose attestation result verified, names it and is
/// acceptable. Only [`DoorAuthority`] makes one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustedDevice {
    result: Attested,
}

/// Which verifier attested a trusted device.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Attested {
    Citysec(AttestationResult),
    External(ExternalEar),
}

impl TrustedDevice {
    /// The verified citysec attestation result, if a citysec verifier attested
    /// the controller.
    #[must_use]
    pub const fn result(&self) -> Option<&AttestationResult> {
        match &self.result {
            Attested::Citysec(r) => Some(r),
            Attested::External(_) => None,
        }
    }

    /// The verified EAR, if the door's external verifier attested the controller.
    #[must_use]
    pub const fn external(&self) -> Option<&ExternalEar> {
        match &self.result {
            Attested::External(e) => Some(e),
            Attested::Citysec(_) => None,
        }
    }

    /// The tier the door decides on (`affirming`, or `warning` where accepted):
    /// a citysec result's status, or an external EAR's [`ExternalEar::tier`] (the
    /// less trustworthy of its device appraisal's and its overall status, `none`
    /// counting as the least).
    #[must_use]
    pub fn tier(&self) -> Tier {
        match &self.result {
            Attested::Citysec(r) => r.status,
            Attested::External(e) => e.tier(),
        }
    }

    /// Who attested: the citysec verifier's `iss`, or the external verifier's
    /// `ear.verifier-id` developer.
    #[must_use]
    pub fn verifier(&self) -> &str {
        match &self.result {
            Attested::Citysec(r) => &r.issuer,
            Attested::External(e) => &e.verifier_id.developer,
        }
    }
}

/// The controller's attestation result in a door request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeviceResult<'a> {
    /// A citysec attestation result (a CWT from a verifier the door's
    /// `ResultVerifier` trusts).
    Citysec(&'a [u8]),
    /// An EAR from the external verifier the door trusts
    /// ([`DoorAuthority::trust_external_attestation`]), with the nonce the caller
    /// issued for this attestation, if any: an EAR without the controller's
    /// `ueid` is bound to it only by that nonce.
    External {
        /// The EAR (a COSE_Sign1).
        token: &'a [u8],
        /// The nonce this relying party issued for the controller's attestation.
        /// The door only compares it with the EAR's: issuing it, remembering it
        /// and using it up once (a `citysec_attest::Challenge` in a
        /// `NonceStore`) is the caller's job, and a nonce taken from the
        /// controller's own message binds nothing.
        nonce: Option<&'a [u8]>,
    },
}

/// One door access attempt.
#[derive(Clone, Copy, Debug)]
pub struct DoorRequest<'a> {
    /// The door.
    pub door: &'a Door,
    /// The holder's presentation (COSE_Sign1 by the credential's `cnf` key).
    pub presentation: &'a [u8],
    /// The challenge the reader gave the holder.
    pub challenge: &'a Challenge,
    /// The controller's attestation result: a citysec result, or an EAR from the
    /// external verifier the door trusts.
    pub device_result: DeviceResult<'a>,
    /// The time, for validity periods, status lists and challenge age.
    pub now: Timestamp,
    /// The local time, for schedules and policies.
    pub local_time: LocalTime,
    /// The site's threat level (0 = normal).
    pub threat_level: i64,
}

/// The step of a door decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Step {
    /// The credential and its presentation.
    Credential,
    /// The credential's own schedule.
    Schedule,
    /// The door controller's attestation result.
    Device,
    /// The policy.
    Policy,
    /// Recording the decision ([`DoorAuthority::with_audit`]).
    Audit,
}

impl Step {
    /// `credential`, `device` or `policy`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Credential => "credential",
            Self::Schedule => "schedule",
            Self::Device => "device",
            Self::Policy => "policy",
            Self::Audit => "audit",
        }
    }
}

/// Why a door request was denied.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Denial {
    /// The credential or its presentation was refused.
    Credential(citysec_credential::Error),
    /// The credential's `schedule` claim does not allow this local time.
    OutsideSchedule(LocalTime),
    /// The controller's attestation result was refused.
    DeviceResult(citysec_attest::Error),
    /// The attestation result is about another device than the door's controller.
    WrongDevice,
    /// The attestation result does not affirm the controller.
    DeviceNotTrusted(Tier),
    /// The request carries an external EAR and the door trusts no external
    /// verifier.
    NoExternalVerifier,
    /// No policy bundle is installed.
    NoPolicy,
    /// The policy denied.
    Policy(Reason),
    /// The door's action or resource type is not declared by the installed policy's
    /// schema ([`RequestError::UnknownAction`] or [`RequestError::UnknownResourceType`]):
    /// refused before any rule, never matched by `*` rules.
    Request(RequestError),
    /// The policy allowed, but the audit sink could not record the decision.
    Audit(AuditError),
}

impl Denial {
    /// The step that denied.
    #[must_use]
    pub const fn step(&self) -> Step {
        match self {
            Self::Credential(_) => Step::Credential,
            Self::OutsideSchedule(_) => Step::Schedule,
            Self::DeviceResult(_) | Self::WrongDevice | Self::DeviceNotTrusted(_) | Self::NoExternalVerifier => {
                Step::Device
            }
            Self::NoPolicy | Self::Policy(_) | Self::Request(_) => Step::Policy,
            Self::Audit(_) => Step::Audit,
        }
    }
}

impl fmt::Display for Denial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Credential(e) => write!(f, "credential refused: {e}"),
            Self::OutsideSchedule(t) => write!(f, "credential schedule does not allow {t}"),
            Self::DeviceResult(e) => write!(f, "controller attestation refused: {e}"),
            Self::WrongDevice => f.write_str("controller attestation is about another device"),
            Self::DeviceNotTrusted(t) => write!(f, "controller attestation is {t}, not affirming"),
            Self::NoExternalVerifier => {
                f.write_str("controller attestation is an external EAR; no external verifier is trusted")
            }
            Self::NoPolicy => f.write_str("no policy installed"),
            Self::Policy(Reason::Forbidden) => f.write_str("policy: a forbid rule applies"),
            Self::Policy(Reason::NoPermit) => f.write_str("policy: no permit rule applies (default deny)"),
            Self::Policy(Reason::LimitExceeded) => f.write_str("policy: evaluation limit exceeded"),
            Self::Policy(r) => write!(f, "policy: {r:?}"),
            Self::Request(e) => write!(f, "policy: request refused: {e}"),
            Self::Audit(e) => write!(f, "decision not recorded: {e}"),
        }
    }
}

/// One step's outcome, for logs and people.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Check {
    /// The step.
    pub step: Step,
    /// Whether it passed.
    pub passed: bool,
    /// What was found, in words.
    pub detail: String,
}

/// The outcome of [`DoorAuthority::decide`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DoorDecision {
    denial: Option<Denial>,
    subject: Option<String>,
    issuer: Option<String>,
    credential_id: Option<Vec<u8>>,
    device: Option<Vec<u8>>,
    rules: Vec<String>,
    checks: Vec<Check>,
}

impl DoorDecision {
    fn deny(self, denial: Denial) -> Self {
        let detail = denial.to_string();
        self.deny_with(denial, detail)
    }

    fn deny_with(mut self, denial: Denial, detail: String) -> Self {
        self.check(denial.step(), false, detail);
        self.denial = Some(denial);
        self
    }

    fn pass(&mut self, step: Step, detail: String) {
        self.check(step, true, detail);
    }

    fn check(&mut self, step: Step, passed: bool, detail: String) {
        self.checks.push(Check { step, passed, detail });
    }

    /// Allow or deny.
    #[must_use]
    pub const fn decision(&self) -> Decision {
        if self.denial.is_none() {
            Decision::Allow
        } else {
            Decision::Deny
        }
    }

    /// Whether the door may open.
    #[must_use]
    pub const fn is_allowed(&self) -> bool {
        self.denial.is_none()
    }

    /// Why it was denied; `None` when allowed.
    #[must_use]
    pub const fn denial(&self) -> Option<&Denial> {
        self.denial.as_ref()
    }

    /// The verified subject (`sub`), once the credential verified.
    #[must_use]
    pub fn subject(&self) -> Option<&str> {
        self.subject.as_deref()
    }

    /// The verified credential's issuer, once the credential verified.
    #[must_use]
    pub fn issuer(&self) -> Option<&str> {
        self.issuer.as_deref()
    }

    /// The verified credential's id (`cti`), once the credential verified.
    #[must_use]
    pub fn credential_id(&self) -> Option<&[u8]> {
        self.credential_id.as_deref()
    }

    /// The door controller's device id, once its attestation result was checked.
    #[must_use]
    pub fn device(&self) -> Option<&[u8]> {
        self.device.as_deref()
    }

    /// The event that reports this decision at `door`.
    fn event<'a>(&'a self, door: &'a str, reason: Option<&'a str>, rule: Option<&'a str>) -> AuditEvent<'a> {
        match (&self.denial, self.checks.last()) {
            (Some(Denial::Credential(_)), _) => AuditEvent::CredentialRefused {
                door,
                reason: reason.unwrap_or_default(),
            },
            (denial, last) => AuditEvent::DoorDecision {
                door,
                allowed: denial.is_none(),
                step: last.map_or("credential", |c| c.step.name()),
                reason,
                rule,
                issuer: self.issuer.as_deref(),
                subject: self.subject.as_deref(),
                credential_id: self.credential_id.as_deref(),
                device: self.device.as_deref(),
            },
        }
    }

    /// The policy rules that decided: the permits that allowed, or the forbids
    /// that denied.
    #[must_use]
    pub fn rules(&self) -> &[String] {
        &self.rules
    }

    /// One line per step run, in order; the last one failed if denied.
    #[must_use]
    pub fn checks(&self) -> &[Check] {
        &self.checks
    }
}

impl fmt::Display for DoorDecision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.denial {
            None => write!(f, "allow ({})", self.rules.join(", ")),
            Some(d) => write!(f, "deny: {d}"),
        }
    }
}

/// What a door needs to decide: whom it trusts for credentials, attestation
/// results and policy bundles, its scope, the installed policy and status lists,
/// and the store of held state.
#[derive(Debug)]
pub struct DoorAuthority {
    credentials: Verifier,
    status_signers: StatusListVerifier,
    attestation: ResultVerifier,
    external: Option<ExternalEarVerifier>,
    policy_keys: PolicySigners,
    policy: Option<PolicySet>,
    held_version: Option<u64>,
    scope: Option<String>,
    store: Box<dyn StateStore + Send + Sync>,
    audit: Option<Arc<dyn AuditSink>>,
    limits: PolicyLimits,
    status_lists: Vec<VerifiedStatusList>,
    max_challenge_age: u64,
    accept_warnings: bool,
}

/// Default largest challenge age, in seconds.
pub const DEFAULT_MAX_CHALLENGE_AGE: u64 = 30;

impl DoorAuthority {
    /// An authority that verifies credentials with `credentials` (trusting the
    /// credential issuers, with this site's audience; their keys also sign the
    /// status lists, [`Verifier::status_list_signers`]), attestation results with
    /// `attestation` (trusting the attestation verifiers, with the audience they
    /// sign results for) and policy bundles signed by one of `policy_keys`. It
    /// holds no policy yet, so it denies everything until [`Self::install_policy`].
    ///
    /// The three trust domains have three types: the arguments cannot be swapped.
    #[must_use]
    pub fn new(credentials: Verifier, attestation: ResultVerifier, policy_keys: PolicySigners) -> Self {
        Self {
            status_signers: credentials.status_list_signers(),
            credentials,
            attestation,
            external: None,
            policy_keys,
            policy: None,
            held_version: None,
            scope: None,
            store: Box::new(MemoryStateStore::new()),
            audit: None,
            limits: PolicyLimits::DEFAULT,
            status_lists: Vec::new(),
            max_challenge_age: DEFAULT_MAX_CHALLENGE_AGE,
            accept_warnings: false,
        }
    }

    /// Trusts an attestation verifier that is not citysec's (Veraison, say) for
    /// this door's controllers, under the anchor's policy
    /// (docs/attestation-result.md, "Results from other verifiers"). Requests
    /// then may carry [`DeviceResult::External`]; without this, such a request
    /// is denied ([`Denial::NoExternalVerifier`]). The anchor's audience, expiry
    /// and binding rules apply; the door adds its controller's `ueid` and the
    /// request's nonce as the expected device.
    #[must_use]
    pub fn trust_external_attestation(mut self, anchor: ExternalEarVerifier) -> Self {
        self.external = Some(anchor);
        self
    }

    /// The largest accepted challenge age, in seconds (default 30).
    #[must_use]
    pub const fn max_challenge_age(mut self, seconds: u64) -> Self {
        self.max_challenge_age = seconds;
        self
    }

    /// Whether a controller whose attestation result is `warning` may still decide
    /// (the policy then sees `context.device_trust == "warning"`). Default: no.
    #[must_use]
    pub const fn accept_device_warnings(mut self, yes: bool) -> Self {
        self.accept_warnings = yes;
        self
    }

    /// The policy version this controller held before (restored from its storage
    /// after a reboot): only newer bundles install.
    #[must_use]
    pub const fn holding_version(mut self, version: u64) -> Self {
        self.held_version = Some(version);
        self
    }

    /// The scope (site or controller group) this controller accepts bundles for:
    /// only format 2 bundles signed for exactly this scope install
    /// ([`BundleError::ScopeMismatch`] otherwise, also for a format 1 bundle).
    /// Without one, bundles of any scope install.
    #[must_use]
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = Some(scope.into());
        self
    }

    /// Keeps held state (bundle version, status-list `iat`s) in `store` from now
    /// on, and reads the bundle version it holds. Give the store that survives a
    /// restart (redb or a file in `citysec-std`, flash on a device).
    ///
    /// # Errors
    /// [`StoreError`] if the store cannot be read.
    pub fn with_store(mut self, store: Box<dyn StateStore + Send + Sync>) -> Result<Self, StoreError> {
        if let Some(held) = store.bundle()? {
            self.held_version = Some(self.held_version.map_or(held.version, |v| v.max(held.version)));
        }
        self.store = store;
        Ok(self)
    }

    /// Reports every decision, bundle and status-list installation to `sink`
    /// from now on (the module's "Audit"). One sink can serve several
    /// components.
    #[must_use]
    pub fn with_audit(mut self, sink: Arc<dyn AuditSink>) -> Self {
        self.audit = Some(sink);
        self
    }

    /// The version of the installed or held policy.
    #[must_use]
    pub const fn policy_version(&self) -> Option<u64> {
        self.held_version
    }

    /// Verifies, compiles and installs a signed policy bundle for this
    /// controller's scope, replacing the current policy only if the bundle's
    /// version is above the one held (or it is the held bundle itself, loaded
    /// again after a restart). The new version is written to the store before the
    /// new policy takes effect ([`bundle::load_held`]). Returns the version.
    ///
    /// # Errors
    /// Every [`BundleError`], including [`BundleError::Rollback`],
    /// [`BundleError::ScopeMismatch`] and [`BundleError::Store`]; the policy in
    /// force stays in place.
    pub fn install_policy(&mut self, signed: &[u8]) -> Result<u64, BundleError> {
        let opts = LoadOptions {
            held_version: self.held_version,
            scope: self.scope.as_deref(),
            limits: self.limits,
            ..LoadOptions::default()
        };
        let loaded = match self.audit.as_deref() {
            Some(sink) => bundle::load_held_audited(&self.policy_keys, signed, &opts, &mut *self.store, sink)?,
            None => bundle::load_held(&self.policy_keys, signed, &opts, &mut *self.store)?,
        };
        let version = loaded.version();
        self.policy = Some(loaded.into_policy());
        self.held_version = Some(version);
        Ok(version)
    }

    /// Verifies a status list token with the credential verifier's issuer keys,
    /// checks it against the `iat` held for its URI and keeps it, replacing a list
    /// with the same URI ([`StatusListVerifier::accept_status_list`]: an older list is
    /// refused, the held one again changes nothing, another one with the held
    /// `iat` is refused, a newer one is recorded in the store first).
    ///
    /// # Errors
    /// The errors of [`StatusListVerifier::accept_status_list`], among them
    /// [`citysec_credential::Error::StaleStatusList`] and
    /// [`citysec_credential::Error::StatusListConflict`]; the lists in force stay.
    pub fn install_status_list(&mut self, token: &[u8], max_entries: usize) -> Result<(), citysec_credential::Error> {
        let result = self
            .status_signers
            .accept_status_list(token, max_entries, &mut *self.store);
        if let Some(sink) = &self.audit {
            match &result {
                Ok(list) => {
                    let event = AuditEvent::StatusList {
                        issuer: Some(list.issuer()),
                        installed: true,
                        issued_at: Some(list.issued_at().as_unix_seconds()),
                        reason: None,
                    };
                    sink.record(None, &event).map_err(citysec_credential::Error::Audit)?;
                }
                Err(e) => {
                    let reason = e.to_string();
                    let event = AuditEvent::StatusList {
                        issuer: None,
                        installed: false,
                        issued_at: None,
                        reason: Some(&reason),
                    };
                    // The refusal stands whether or not it was recorded.
                    let _refused = sink.record(None, &event);
                }
            }
        }
        let list = result?;
        self.status_lists.retain(|l| l.uri() != list.uri());
        self.status_lists.push(list);
        Ok(())
    }

    /// Verifies a controller's attestation result at `now` and checks it names
    /// `device` and is acceptable: a citysec result under the door's
    /// `ResultVerifier`, an external EAR under its external anchor (expecting
    /// `device` as `ueid` and the request's nonce).
    ///
    /// # Errors
    /// [`Denial::DeviceResult`], [`Denial::WrongDevice`], [`Denial::DeviceNotTrusted`],
    /// [`Denial::NoExternalVerifier`].
    pub fn trust_device(
        &self,
        result: DeviceResult<'_>,
        device: &[u8],
        now: Timestamp,
    ) -> Result<TrustedDevice, Denial> {
        let trusted = match result {
            DeviceResult::Citysec(token) => {
                let result = AttestationResult::verify(&self.attestation, token, now).map_err(Denial::DeviceResult)?;
                if result.ueid != device {
                    return Err(Denial::WrongDevice);
                }
                TrustedDevice {
                    result: Attested::Citysec(result),
                }
            }
            DeviceResult::External { token, nonce } => {
                let anchor = self.external.as_ref().ok_or(Denial::NoExternalVerifier)?;
                let expected = ExpectedDevice {
                    ueid: Some(device),
                    nonce,
                };
                let ear = anchor.verify(token, now, expected).map_err(|e| match e {
                    citysec_attest::Error::External(ExternalError::DeviceMismatch) => Denial::WrongDevice,
                    other => Denial::DeviceResult(other),
                })?;
                TrustedDevice {
                    result: Attested::External(ear),
                }
            }
        };
        match trusted.tier() {
            Tier::Affirming => {}
            Tier::Warning if self.accept_warnings => {}
            other => return Err(Denial::DeviceNotTrusted(other)),
        }
        Ok(trusted)
    }

    /// Decides one door request: credential and presentation, the credential's
    /// schedule, device trust, policy, in that order; the first failure denies.
    /// With an audit sink, the decision is reported before it is returned, and
    /// an allow the sink could not keep is a [`Denial::Audit`].
    #[must_use]
    pub fn decide(&self, req: &DoorRequest<'_>) -> DoorDecision {
        let out = self.run_steps(req);
        let Some(sink) = &self.audit else {
            return out;
        };
        let reason = out.denial.as_ref().map(|d| d.to_string());
        let rule = (!out.rules.is_empty()).then(|| out.rules.join(","));
        let kept = sink.record(
            Some(req.now),
            &out.event(req.door.id(), reason.as_deref(), rule.as_deref()),
        );
        match kept {
            Err(e) if out.is_allowed() => out.deny(Denial::Audit(e)),
            _ => out,
        }
    }

    fn run_steps(&self, req: &DoorRequest<'_>) -> DoorDecision {
        let mut out = DoorDecision {
            denial: None,
            subject: None,
            issuer: None,
            credential_id: None,
            device: None,
            rules: Vec::new(),
            checks: Vec::new(),
        };
        let credential = match self.credentials.verify_presentation(
            req.presentation,
            req.challenge,
            req.now,
            self.max_challenge_age,
            &self.status_lists,
        ) {
            Ok(c) => c,
            Err(e) => return out.deny(Denial::Credential(e)),
        };
        let claims = credential.claims();
        out.subject.clone_from(&claims.sub);
        out.issuer = Some(String::from(credential.issuer()));
        out.credential_id.clone_from(&claims.cti);
        out.pass(
            Step::Credential,
            format!(
                "`{}` from `{}`, roles [{}], holder proved possession",
                claims.sub.as_deref().unwrap_or("?"),
                credential.issuer(),
                claims.roles.join(", ")
            ),
        );

        let time = req.local_time;
        if !in_schedule(claims, time) {
            return out.deny(Denial::OutsideSchedule(time));
        }
        out.pass(
            Step::Schedule,
            if claims.schedule.is_empty() {
                format!("no schedule restricts {time}")
            } else {
                format!("schedule allows {time}")
            },
        );

        let device = match self.trust_device(req.device_result, req.door.device(), req.now) {
            Ok(d) => d,
            Err(d) => return out.deny(d),
        };
        out.device = Some(req.door.device().to_vec());
        out.pass(
            Step::Device,
            format!(
                "controller of `{}` is {} (result from `{}`)",
                req.door.id(),
                device.tier(),
                device.verifier()
            ),
        );

        let Some(policy) = &self.policy else {
            return out.deny(Denial::NoPolicy);
        };
        let facts = RequestFacts::new(req.door, &credential, Some(&device), time, req.threat_level);
        let mut request = policy.request();
        if let Err(e) = facts.fill(&mut request, policy) {
            return out.deny(Denial::Request(e));
        }
        let response = request.evaluate();
        out.rules = response.rules().map(String::from).collect();
        if response.is_allowed() {
            out.pass(
                Step::Policy,
                format!(
                    "permitted by {} (policy v{})",
                    out.rules.join(", "),
                    self.held_version.unwrap_or(0)
                ),
            );
            out
        } else {
            let reason = response.reason();
            let mut errors = response
                .errors()
                .map(|e| format!("{} ({} {})", e.rule, e.attribute, e.kind));
            let detail = match (out.rules.is_empty(), errors.next()) {
                (false, _) => format!("denied by {}", out.rules.join(", ")),
                (true, Some(first)) => format!("no permit applies; erroring rules: {first}"),
                (true, None) => String::from("no permit applies"),
            };
            out.deny_with(Denial::Policy(reason), detail)
        }
    }
}

/// The one local-time rule for schedules, used by the schedule step and for
/// `subject.in_schedule`: the weekday (Monday = 0) and minute of the local time.
fn in_schedule(claims: &citysec_credential::Claims, time: LocalTime) -> bool {
    claims.schedule_allows(time.weekday().iso().saturating_sub(1), time.minute())
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// What a door's policy request is built from, verified data only: a
/// [`VerifiedCredential`] (only a credential [`Verifier`] makes one), the
/// [`TrustedDevice`] relaying the request, if the caller checked one (only
/// [`DoorAuthority::trust_device`] makes one), the door, the local time and the
/// threat level. [`DoorAuthority::decide`] builds its request with it, and so can
/// a controller that decides step by step (firmware without attestation, say).
#[derive(Debug)]
pub struct RequestFacts<'v> {
    door: &'v Door,
    credential: &'v VerifiedCredential,
    device: Option<&'v TrustedDevice>,
    local_time: LocalTime,
    threat_level: i64,
    roles: Vec<&'v str>,
    zones: Vec<&'v str>,
}

impl<'v> RequestFacts<'v> {
    /// The facts of one request.
    #[must_use]
    pub fn new(
        door: &'v Door,
        credential: &'v VerifiedCredential,
        device: Option<&'v TrustedDevice>,
        local_time: LocalTime,
        threat_level: i64,
    ) -> Self {
        let claims = credential.claims();
        Self {
            door,
            credential,
            device,
            local_time,
            threat_level,
            roles: strs(&claims.roles),
            zones: strs(&claims.zones),
        }
    }

    /// Sets the door's action and resource type on `request`, and every attribute
    /// of [`attributes`] that `policy` declares. Without a trusted device,
    /// `context.device_trust` stays unset, so a rule that reads it errors and
    /// denies.
    ///
    /// # Errors
    /// The door's action or resource type is not declared by the schema.
    pub fn fill(&'v self, request: &mut Request<'_, 'v>, policy: &PolicySet) -> Result<(), RequestError> {
        use attributes as a;
        let claims = self.credential.claims();
        request
            .set_action_name(&self.door.action)?
            .set_resource_type_name(&self.door.resource_type)?;
        let time = self.local_time;
        let mut set = |name: &str, value: Value<'v>| {
            if let Some(attr) = policy.attribute(name) {
                set_attr(request, attr, value);
            }
        };
        if let Some(sub) = &claims.sub {
            set(a::SUBJECT_ID, Value::String(sub));
        }
        set(a::SUBJECT_ISSUER, Value::String(self.credential.issuer()));
        if let Some(kind) = &claims.kind {
            set(a::SUBJECT_KIND, Value::String(kind.as_str()));
        }
        set(a::SUBJECT_ROLES, Value::StringSet(&self.roles));
        set(a::SUBJECT_ZONES, Value::StringSet(&self.zones));
        set(a::SUBJECT_IN_SCHEDULE, Value::Bool(in_schedule(claims, time)));
        set(a::RESOURCE_ID, Value::String(&self.door.id));
        set(a::RESOURCE_ZONE, Value::String(&self.door.zone));
        set(a::CONTEXT_WEEKDAY, Value::Weekday(time.weekday()));
        set(a::CONTEXT_HOUR, Value::Int(i64::from(time.hour())));
        set(a::CONTEXT_MINUTE, Value::Int(i64::from(time.minute())));
        set(a::CONTEXT_THREAT_LEVEL, Value::Int(self.threat_level));
        if let Some(device) = self.device {
            set(a::CONTEXT_DEVICE_TRUST, Value::String(device.tier().name()));
        }
        Ok(())
    }
}

/// Sets one attribute. A handle of this policy set cannot be foreign, and a
/// failure would leave the attribute unset, which makes the rules reading it
/// error and deny: failing closed either way.
fn set_attr<'v>(request: &mut Request<'_, 'v>, attr: Attr, value: Value<'v>) {
    let _unset_denies = request.set(attr, value);
}
