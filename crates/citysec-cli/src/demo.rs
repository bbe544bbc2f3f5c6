//! `citysec demo`: a small city, end to end, with verdicts and timings.
//!
//! Keys are generated in memory; attestation nonces, the sensor's counter and the
//! gateway's replay windows live in embedded stores under a temporary directory
//! that is removed afterwards. Servers (issuer, attestation verifier, gateway) use
//! the ring provider; door controllers and the sensor use the pure-Rust provider that
//! firmware embeds.

use alloc::sync::Arc;
use core::fmt::Display;
use core::time::Duration;
use std::path::PathBuf;
use std::time::Instant;

use citysec::attest::{
    Appraisal, Appraiser, Challenge as AttestChallenge, DebugStatus, Endorsement, EvidenceBuilder, Freshness,
    ReferenceSet, ReferenceValues,
};
use citysec::attest::{ManufacturerVerifier, ResultVerifier};
use citysec::audit::Error as AuditError;
use citysec::audit::auditor::{Auditor, RamSideTable, SharedAuditor};
use citysec::audit::checkpoint::{CheckpointVerifier, VerifiedCheckpoint, cosign};
use citysec::audit::ingest::ControllerFeed;
use citysec::audit::log::{ControllerLog, RamStore, RecordStore as _, WhenFull};
use citysec::audit::merkle::leaf_hash;
use citysec::audit::note::NoteSigner;
use citysec::audit::receipt::{Receipt, issue_inclusion};
use citysec::audit::record::{Kind, Record};
use citysec::core::provider::{Provider, Signer};
use citysec::core::{Algorithm, FixedClock, SigningKey, Timestamp};
use citysec::credential::{
    Challenge, Claims, Confirmation, CredentialKind, Issuer, ScheduleWindow, StatusList, StatusRef, Verifier, present,
};
use citysec::door::{Denial, DeviceResult, Door, DoorAuthority, DoorDecision, DoorRequest, LocalTime};
use citysec::policy::Reason;
use citysec::policy::bundle::PolicySigners;
use citysec::policy::bundle::{self, BundleError, BundleSource};
use citysec::std_adapters::OsRandom;
use citysec::std_adapters::attest::RedbNonceStore;
use citysec::std_adapters::audit::{FilePin, RedbLog};
use citysec::std_adapters::telemetry::{FileCounterStore, RedbReplayStore};
use citysec::telemetry::{MasterSecret, Receiver, ReceiverConfig, Sender};
use clap::Args;

use crate::out::{Colour, Out, outln};
use crate::{CmdResult, Failure};

pub(crate) const HELP: &str = "\
A small city: a credential issuer, a manufacturer, an attestation verifier, a
telemetry gateway and two door controllers. The demo onboards the controllers by
attestation, issues a staff and a visitor credential, decides door requests in
office hours and at night, opens sealed sensor readings at the gateway, pushes a
lockdown as a new signed policy bundle, and then runs seven attacks, each of which
must be refused for the right reason: a cloned credential without the holder key,
a revoked credential, yesterday's status list replayed to un-revoke it, a replayed
telemetry envelope, tampered firmware, a rolled-back policy bundle, and a bundle
signed for another site. A visitor at night is refused by the door itself: the
credential's own schedule does not allow it. Every decision goes into each
controller's audit log; in the last act the site log takes lobby-east's
records, a witness cosigns, lobby-east verifies a receipt for alice's entry
offline, and an insider who deletes that entry and re-signs the log is caught
by lobby-east's pinned checkpoint.

Keys are generated in memory (with --pkcs11, the issuer and policy keys live
in a PKCS#11 token and sign there); nonce, counter and replay state live in embedded
stores under a temporary directory, removed at the end. The city clock is
simulated (Thursday 2026-11-26, UTC). Exit 0 only if every step came out as
expected, else 1.

Examples:
  citysec demo
  citysec demo --json
  NO_COLOR=1 citysec demo";

/// Thursday 2026-11-26 10:00 UTC: office hours.
const MORNING: u64 = 1_795_687_200;
/// The same day, 23:30 UTC.
const NIGHT: u64 = 1_795_735_800;
const DAY: u64 = 86_400;

const CITY: &str = "https://id.city.example";
const OEM: &str = "https://oem.example";
const VERIFIER: &str = "https://attest.city.example";
const AUDIENCE_DOORS: &str = "city-doors";
const AUDIENCE_CONTROLLERS: &str = "door-controllers";
const STATUS_URI: &str = "https://id.city.example/status/1";
/// The scope the city's door controllers accept policy bundles for.
const SITE: &str = "site:city-hall";
const HWMODEL: &[u8] = b"door-ctl-2";
const FIRMWARE: &str = "1.2.0";
const BOOTLOADER: [u8; 32] = [0xb0; 32];
const APPLICATION: [u8; 32] = [0xa7; 32];
const TOPIC: &str = "city/air/no2";
/// The city's keys (issuer, manufacturer, attestation verifier, policy) sign
/// through the ring provider; the attestation verifier verifies with it.
const SERVER: Provider = citysec::ring::PROVIDER;
/// Controllers and badges sign, and controllers verify, through the pure-Rust
/// provider, as firmware does.
const DEVICE: Provider = citysec::rustcrypto::PROVIDER;

const SCHEMA: &str = r"
action open;
resource door;
subject.kind: string;
subject.roles: set<string>;
subject.in_schedule: bool;
resource.zone: string;
context.weekday: weekday;
context.hour: int;
context.threat_level: int;
context.device_trust: string;
";
const POLICY: &str = r#"
permit "staff-office-hours"
  action open on door
  when subject.roles has "staff"
   and context.weekday in mon..fri and context.hour in 7..19;

permit "visitor-lobby"
  action open on door
  when subject.kind == "visitor" and resource.zone == "lobby" and subject.in_schedule;

permit "security-any-time"
  action open on door
  when subject.roles has "security";
"#;
const LOCKDOWN: &str = r#"
forbid "lockdown"
  action * on *
  when context.threat_level >= 3
  unless subject.roles has "security";
"#;

/// Arguments of `demo`.
#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// Print one JSON object with the steps instead of text.
    #[arg(long)]
    json: bool,
    /// Keep the city's issuer and policy keys in this PKCS#11 token (a URI naming
    /// the token, e.g. `pkcs11:token=city`): the demo opens, or else creates,
    /// the Ed25519 keys `citysec-demo-issuer` and `citysec-demo-policy` there and
    /// signs every credential, status list and policy bundle through the token.
    #[arg(long, value_name = "URI")]
    pkcs11: Option<String>,
}

/// The issuer and policy signers the city uses.
struct CityKeys {
    issuer: Box<dyn Signer>,
    policy: Box<dyn Signer>,
    origin: String,
}

impl CityKeys {
    /// New Ed25519 keys from the OS, loaded into the ring provider.
    fn software() -> Result<Self, citysec::core::Error> {
        Ok(Self {
            issuer: generate(&SERVER, b"city-2026")?,
            policy: generate(&SERVER, b"policy-2026")?,
            origin: "Ed25519 from the OS, in the ring provider".to_owned(),
        })
    }

    /// The keys `citysec-demo-issuer` and `citysec-demo-policy` in the token
    /// `uri` names, created there if they are missing.
    fn token(uri: &str) -> Result<Self, Failure> {
        use citysec_pkcs11::{Error as P11Error, Pkcs11Signer, Pkcs11Uri};
        let base = Pkcs11Uri::parse(uri).map_err(|e| crate::common::pkcs11_failure(&e))?;
        if base.object.is_some() || base.id.is_some() {
            return Err(Failure::usage(
                "--pkcs11 names the token only (the demo picks its key labels)",
            ));
        }
        let module = crate::common::pkcs11_module()?;
        let key = |label: &str| -> Result<Box<dyn Signer>, Failure> {
            let uri = Pkcs11Uri {
                object: Some(label.to_owned()),
                ..base.clone()
            };
            let signer = match Pkcs11Signer::open(&module, &uri) {
                Err(P11Error::KeyNotFound) => Pkcs11Signer::generate(&module, &uri, Algorithm::EdDSA),
                other => other,
            };
            Ok(Box::new(signer.map_err(|e| crate::common::pkcs11_failure(&e))?))
        };
        Ok(Self {
            issuer: key("citysec-demo-issuer")?,
            policy: key("citysec-demo-policy")?,
            origin: format!(
                "issuer and policy keys in the PKCS#11 token `{}`",
                base.token.as_deref().unwrap_or("?")
            ),
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    Accept,
    Reject,
}

#[derive(Debug)]
struct Step {
    act: &'static str,
    name: String,
    expect: Expect,
    accepted: bool,
    as_expected: bool,
    detail: String,
    elapsed: Duration,
    checks: Vec<String>,
}

#[derive(Debug, Default)]
struct Demo {
    act: &'static str,
    steps: Vec<Step>,
}

fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let start = Instant::now();
    let out = f();
    (out, start.elapsed())
}

impl Demo {
    fn record(
        &mut self,
        name: String,
        expect: Expect,
        accepted: bool,
        as_expected: bool,
        detail: String,
        elapsed: Duration,
    ) {
        self.steps.push(Step {
            act: self.act,
            name,
            expect,
            accepted,
            as_expected,
            detail,
            elapsed,
            checks: Vec::new(),
        });
    }

    /// A step that must succeed; returns its value if it did.
    fn accept<T, E: Display>(
        &mut self,
        name: impl Into<String>,
        (result, elapsed): (Result<T, E>, Duration),
        detail: impl FnOnce(&T) -> String,
    ) -> Option<T> {
        match result {
            Ok(v) => {
                self.record(name.into(), Expect::Accept, true, true, detail(&v), elapsed);
                Some(v)
            }
            Err(e) => {
                let detail = format!("unexpectedly failed: {e}");
                self.record(name.into(), Expect::Accept, false, false, detail, elapsed);
                None
            }
        }
    }

    /// A step that must fail with an error equal to `want`.
    fn reject<T, E: Display + PartialEq>(
        &mut self,
        name: impl Into<String>,
        (result, elapsed): (Result<T, E>, Duration),
        want: &E,
    ) {
        let (accepted, as_expected, detail) = match result {
            Ok(_) => (true, false, String::from("unexpectedly accepted")),
            Err(e) if e == *want => (false, true, e.to_string()),
            Err(e) => (
                false,
                false,
                format!("refused for the wrong reason: {e} (expected: {want})"),
            ),
        };
        self.record(name.into(), Expect::Reject, accepted, as_expected, detail, elapsed);
    }

    /// A door decision: allowed when `want` is `None`, else denied exactly so.
    fn door(&mut self, name: impl Into<String>, (d, elapsed): (DoorDecision, Duration), want: Option<Denial>) {
        let expect = if want.is_none() { Expect::Accept } else { Expect::Reject };
        let as_expected = d.denial() == want.as_ref();
        let detail = match (&want, as_expected) {
            (_, true) => d.to_string(),
            (None, false) => format!("expected allow, got {d}"),
            (Some(w), false) => format!("expected deny ({w}), got {d}"),
        };
        self.record(name.into(), expect, d.is_allowed(), as_expected, detail, elapsed);
        if let Some(step) = self.steps.last_mut() {
            step.checks = d
                .checks()
                .iter()
                .map(|c| format!("{} {}: {}", if c.passed { "+" } else { "-" }, c.step.name(), c.detail))
                .collect();
        }
    }

    fn passed(&self) -> bool {
        !self.steps.is_empty() && self.steps.iter().all(|s| s.as_expected)
    }
}

fn at(t: u64) -> Timestamp {
    Timestamp::from_unix_seconds(t)
}

/// A temporary directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> std::io::Result<Self> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let path = std::env::temp_dir().join(format!("citysec-demo-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&path)?;
        Ok(Self(path))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _best_effort = std::fs::remove_dir_all(&self.0);
    }
}

/// The city's parties.
struct City {
    issuer: Issuer,
    policy_key: Box<dyn Signer>,
    appraiser: Appraiser,
    nonces: RedbNonceStore,
    manufacturer: Issuer,
    statuses: StatusList,
}

/// A door controller: its attestation key, identity, endorsement, door and authority.
struct Controller {
    name: &'static str,
    key: Box<dyn Signer>,
    ueid: Vec<u8>,
    endorsement: Vec<u8>,
    door: Door,
    authority: DoorAuthority,
    result: Vec<u8>,
    /// The controller's own audit log, which its authority reports to.
    log: Arc<ControllerAudit>,
}

/// A controller's audit log: records in RAM, denying when full.
type ControllerAudit = SharedAuditor<RamStore, RamSideTable>;

/// The origin of the site log.
const SITE_LOG: &str = "log.city.example/site";

/// A credential holder: holder key and credential.
struct Holder {
    key: Box<dyn Signer>,
    credential: Vec<u8>,
}

/// A new Ed25519 key with `kid`, loaded into `provider`.
fn generate(provider: &Provider, kid: &[u8]) -> Result<Box<dyn Signer>, citysec::core::Error> {
    provider.signer(SigningKey::generate(Algorithm::EdDSA, &mut OsRandom)?.with_kid(kid))
}

impl City {
    fn new(state: &TempDir, keys: CityKeys) -> Result<Self, Box<dyn core::error::Error>> {
        let issuer = Issuer::new(CITY, keys.issuer)?;
        let manufacturer = Issuer::new(OEM, generate(&SERVER, b"oem-2026")?)?;
        let signer = Issuer::new(VERIFIER, generate(&SERVER, b"av-1")?)?;
        let references = ReferenceSet::new().with(
            ReferenceValues::new(HWMODEL, "1.0.0")?
                .accept_version(FIRMWARE)?
                .component("bootloader", BOOTLOADER)?
                .component("door-app", APPLICATION)?,
        )?;
        let manufacturers = ManufacturerVerifier::new(&SERVER)
            .trust(manufacturer.iss(), manufacturer.verifying_key())?
            .any_audience();
        let appraiser = Appraiser::new(manufacturers, signer, AUDIENCE_CONTROLLERS, references)
            .result_ttl(DAY)
            .verifier_id("city of example", "citysec-demo");
        Ok(Self {
            issuer,
            policy_key: keys.policy,
            appraiser,
            nonces: RedbNonceStore::open(state.0.join("nonces.redb"))?,
            manufacturer,
            statuses: StatusList::new(1, 1024)?,
        })
    }

    /// A controller built at the factory: key, ueid, endorsement.
    fn controller(
        &self,
        name: &'static str,
        zone: &str,
        serial: u8,
    ) -> Result<Controller, Box<dyn core::error::Error>> {
        let key = generate(&DEVICE, name.as_bytes())?;
        let ueid = vec![0x01, 0xc1, 0x71, 0x00, 0x00, 0x00, serial];
        let endorsement = Endorsement::new(ueid.clone(), key.verifying_key().clone(), HWMODEL)?.issue(
            &self.manufacturer,
            at(MORNING - DAY),
            at(MORNING + 5 * 365 * DAY),
        )?;
        let credentials = Verifier::new(&DEVICE)
            .trust(self.issuer.iss(), self.issuer.verifying_key())?
            .audience(AUDIENCE_DOORS);
        let attestation = ResultVerifier::new(&DEVICE)
            .trust(VERIFIER, self.appraiser.signer().verifying_key())?
            .audience(AUDIENCE_CONTROLLERS);
        let policy_keys = PolicySigners::from_keys(&DEVICE, [self.policy_key.verifying_key().clone()])?;
        let records = ControllerLog::new(
            &format!("{name}.city.example/log"),
            RamStore::new(4096, 1 << 20),
            WhenFull::Deny,
        )?;
        let auditor = Auditor::new(
            records,
            RamSideTable::new(4096),
            name,
            &DEVICE,
            random32()?,
            Box::new(OsRandom),
            Box::new(FixedClock(at(MORNING))),
        )?;
        let log = Arc::new(SharedAuditor::new(auditor));
        Ok(Controller {
            name,
            key,
            door: Door::new(name, zone, ueid.clone()),
            ueid,
            endorsement,
            authority: DoorAuthority::new(credentials, attestation, policy_keys)
                .scope(SITE)
                .with_audit(log.clone()),
            result: Vec::new(),
            log,
        })
    }

    /// Challenge, evidence signed on the controller (pure-Rust provider), appraisal.
    fn attest(&mut self, c: &Controller, boot: [u8; 32]) -> Result<Appraisal, citysec::attest::Error> {
        let now = at(MORNING);
        let challenge = AttestChallenge::issue(&mut self.nonces, &mut OsRandom, now, 60)?;
        let measurements = [("bootloader", boot), ("door-app", APPLICATION)];
        let mut buf = [0u8; 1024];
        let len = EvidenceBuilder::new(&c.ueid)
            .nonce(challenge.nonce())
            .hwmodel(HWMODEL)
            .swversion(FIRMWARE)
            .dbgstat(DebugStatus::DisabledPermanently)
            .oemboot(true)
            .measurements(&measurements)
            .sign(&*c.key, &mut buf)?;
        let evidence = buf.get(..len).unwrap_or_default();
        self.appraiser
            .appraise(&c.endorsement, evidence, Freshness::Nonce(&mut self.nonces), now)
    }

    fn credential(
        &self,
        name: &'static str,
        kind: CredentialKind,
        roles: &[&str],
        idx: u64,
    ) -> Result<Holder, Box<dyn core::error::Error>> {
        let key = generate(&DEVICE, name.as_bytes())?;
        let mut claims = Claims::new();
        claims.iss = Some(CITY.into());
        claims.sub = Some(name.into());
        claims.aud = vec![AUDIENCE_DOORS.into()];
        claims.iat = Some(at(MORNING - 3600));
        claims.exp = Some(at(MORNING + 30 * DAY));
        claims.roles = roles.iter().map(|r| (*r).to_owned()).collect();
        if kind == CredentialKind::Visitor {
            // Weekdays, 08:00 to 18:00.
            claims.schedule = vec![ScheduleWindow {
                days: 0b001_1111,
                start_minute: 8 * 60,
                end_minute: 18 * 60,
            }];
        }
        claims.kind = Some(kind);
        claims.cnf = Some(Confirmation::Key(key.verifying_key().clone()));
        claims.status = Some(StatusRef {
            idx,
            uri: STATUS_URI.into(),
        });
        Ok(Holder {
            credential: self.issuer.issue(&claims)?,
            key,
        })
    }

    /// The status list as it stands, issued at `iat`.
    fn status_list(&self, iat: u64) -> Result<Vec<u8>, citysec::credential::Error> {
        self.statuses.sign(
            &self.issuer,
            STATUS_URI,
            at(iat),
            at(iat.saturating_add(DAY)),
            Some(300),
        )
    }

    fn bundle(&self, version: u64, extra: &str) -> Result<Vec<u8>, BundleError> {
        self.bundle_for(version, extra, SITE)
    }

    fn bundle_for(&self, version: u64, extra: &str, scope: &str) -> Result<Vec<u8>, BundleError> {
        let policy = format!("{POLICY}{extra}");
        let src = BundleSource {
            schema: SCHEMA,
            policy: &policy,
            version,
            issued_at: MORNING,
            scope,
        };
        bundle::create(&*self.policy_key, &src, &citysec::policy::PolicyLimits::DEFAULT)
    }
}

/// The holder answers the reader's challenge with `signer`; the controller decides.
fn knock(c: &Controller, credential: &[u8], signer: &dyn Signer, t: u64, threat: i64) -> DoorDecision {
    let challenge = match Challenge::new(&mut OsRandom, c.name, at(t)) {
        Ok(ch) => ch,
        Err(_) => Challenge::from_parts([0; 32], c.name, at(t)),
    };
    let presentation = present(signer, credential, &challenge).unwrap_or_default();
    c.authority.decide(&DoorRequest {
        door: &c.door,
        presentation: &presentation,
        challenge: &challenge,
        device_result: DeviceResult::Citysec(&c.result),
        now: at(t),
        local_time: LocalTime::at(at(t), 0),
        threat_level: threat,
    })
}

fn summary(a: &Appraisal) -> String {
    let worst = a.result.reasons.iter().find(|r| r.tier == a.result.status);
    match worst {
        Some(r) if !a.result.is_affirming() => format!("{}: {}", a.result.status, r.detail),
        _ => format!(
            "{}, firmware {FIRMWARE}, {} checks, result {} bytes",
            a.result.status,
            a.result.reasons.len(),
            a.token.len()
        ),
    }
}

/// The scenario; stops at the first step whose result later steps need.
fn scenario(d: &mut Demo, state: &TempDir, keys: CityKeys) -> Option<()> {
    d.act = "setup";
    let origin = keys.origin.clone();
    let mut city = d.accept(
        "keys for issuer, manufacturer, attestation verifier, policy signer",
        timed(|| City::new(state, keys)),
        |_| format!("{origin}; nonce store {}", state.0.join("nonces.redb").display()),
    )?;
    let endorsed = |c: &Controller| {
        format!(
            "ueid {}, endorsement {} bytes",
            hex::encode(&c.ueid),
            c.endorsement.len()
        )
    };
    let mut lobby = d.accept(
        "factory: manufacturer endorses controller lobby-east",
        timed(|| city.controller("lobby-east", "lobby", 1)),
        endorsed,
    )?;
    let mut lab = d.accept(
        "factory: manufacturer endorses controller lab-3",
        timed(|| city.controller("lab-3", "lab", 2)),
        endorsed,
    )?;

    d.act = "onboarding";
    for c in [&mut lobby, &mut lab] {
        let name = format!("{} attests (nonce, EAT evidence, appraisal)", c.name);
        let appraisal = d.accept(name, timed(|| city.attest(c, BOOTLOADER)), summary)?;
        c.result = appraisal.token;
    }

    d.act = "credentials";
    let alice = d.accept(
        "issue staff credential to alice",
        timed(|| city.credential("alice", CredentialKind::Staff, &["staff"], 0)),
        |h| format!("CWT {} bytes, bound to alice's key (cnf)", h.credential.len()),
    )?;
    let vera = d.accept(
        "issue visitor credential to vera",
        timed(|| city.credential("vera", CredentialKind::Visitor, &["visitor"], 1)),
        |h| format!("CWT {} bytes, weekdays 08:00-18:00", h.credential.len()),
    )?;
    let sam = d.accept(
        "issue security credential to sam",
        timed(|| city.credential("sam", CredentialKind::Staff, &["security"], 2)),
        |h| format!("CWT {} bytes", h.credential.len()),
    )?;
    let list = d.accept("publish status list", timed(|| city.status_list(MORNING - 60)), |l| {
        format!("{} bytes, 1024 entries, all valid", l.len())
    })?;
    for c in [&mut lobby, &mut lab] {
        let name = format!("{} installs status list", c.name);
        d.accept(name, timed(|| c.authority.install_status_list(&list, 1024)), |()| {
            String::from("signature and issuer verified")
        })?;
    }

    d.act = "policy";
    let v1 = d.accept("policy signer creates bundle v1", timed(|| city.bundle(1, "")), |b| {
        format!("{} bytes, 3 rules", b.len())
    })?;
    for c in [&mut lobby, &mut lab] {
        let name = format!("{} installs bundle v1", c.name);
        d.accept(name, timed(|| c.authority.install_policy(&v1)), |v| {
            format!("version {v} installed")
        })?;
    }

    d.act = "doors";
    let no_permit = || Some(Denial::Policy(Reason::NoPermit));
    d.door(
        "alice at lobby-east, thu 10:00",
        timed(|| knock(&lobby, &alice.credential, &*alice.key, MORNING, 0)),
        None,
    );
    d.door(
        "vera at lobby-east, thu 10:00",
        timed(|| knock(&lobby, &vera.credential, &*vera.key, MORNING, 0)),
        None,
    );
    d.door(
        "vera at lab-3, thu 10:00",
        timed(|| knock(&lab, &vera.credential, &*vera.key, MORNING, 0)),
        no_permit(),
    );
    d.door(
        "vera at lobby-east, thu 23:30",
        timed(|| knock(&lobby, &vera.credential, &*vera.key, NIGHT, 0)),
        Some(Denial::OutsideSchedule(LocalTime::at(at(NIGHT), 0))),
    );
    d.door(
        "alice at lobby-east, thu 23:30",
        timed(|| knock(&lobby, &alice.credential, &*alice.key, NIGHT, 0)),
        no_permit(),
    );
    d.door(
        "sam at lab-3, thu 23:30",
        timed(|| knock(&lab, &sam.credential, &*sam.key, NIGHT, 0)),
        None,
    );

    d.act = "telemetry";
    let master = MasterSecret::new(d.accept("gateway master secret", timed(random32), |_| {
        String::from("32 random bytes; devices get HKDF-derived keys")
    })?);
    let mut sensor = d.accept(
        "provision sensor air-7 (derived key, counter file)",
        timed(|| -> Result<_, Box<dyn core::error::Error>> {
            let key = master.derive(&DEVICE, b"air-7", 0)?;
            let counter = FileCounterStore::provision(state.0.join("air-7.counter"), 0)?;
            Ok(Sender::new(&DEVICE, key, counter, 64)?)
        }),
        |_| String::from("counter reserved in blocks of 64"),
    )?;
    let mut envelopes = Vec::new();
    for reading in [&b"{\"no2\": 38}"[..], b"{\"no2\": 41}", b"{\"no2\": 40}"] {
        let (seq, env) = d.accept(
            "air-7 seals a reading",
            timed(|| sensor.seal(TOPIC, reading)),
            |(s, e)| format!("seq {s}, COSE_Encrypt0 {} bytes", e.len()),
        )?;
        envelopes.push((seq, env, reading));
    }
    let store = d.accept(
        "gateway opens its replay store",
        timed(|| RedbReplayStore::open(state.0.join("replay.redb"))),
        |_| String::from("embedded, crash-safe (redb)"),
    )?;
    let mut gateway = Receiver::new(&SERVER, master, ReceiverConfig::default(), store);
    let mut plaintext = Vec::new();
    for (seq, env, reading) in &envelopes {
        let name = format!("gateway opens seq {seq} (ring)");
        let ok = d.accept(name, timed(|| gateway.open(env, Some(TOPIC), &mut plaintext)), |o| {
            format!("device air-7, seq {}, {}", o.seq(), String::from_utf8_lossy(reading))
        });
        ok?;
    }

    d.act = "lockdown";
    let v2 = d.accept(
        "policy signer creates bundle v2 (lockdown)",
        timed(|| city.bundle(2, LOCKDOWN)),
        |b| format!("{} bytes, 4 rules", b.len()),
    )?;
    for c in [&mut lobby, &mut lab] {
        let name = format!("{} installs bundle v2", c.name);
        d.accept(name, timed(|| c.authority.install_policy(&v2)), |v| {
            format!("version {v} installed")
        })?;
    }
    d.door(
        "alice at lobby-east, threat level 3",
        timed(|| knock(&lobby, &alice.credential, &*alice.key, MORNING, 3)),
        Some(Denial::Policy(Reason::Forbidden)),
    );
    d.door(
        "sam at lobby-east, threat level 3",
        timed(|| knock(&lobby, &sam.credential, &*sam.key, MORNING, 3)),
        None,
    );

    d.act = "attacks";
    // Mallory copied alice's token and the holder key's id from its cnf, but not the key.
    let mallory = generate(&DEVICE, b"alice").ok()?;
    d.door(
        "cloned credential: mallory presents alice's token",
        timed(|| knock(&lobby, &alice.credential, &*mallory, MORNING, 0)),
        Some(Denial::Credential(citysec::credential::Error::Core(
            citysec::core::Error::BadSignature,
        ))),
    );
    city.statuses.set(1, 1).ok()?;
    let revoked = d.accept(
        "issuer revokes vera's credential",
        timed(|| city.status_list(MORNING)),
        |l| format!("new status list, {} bytes", l.len()),
    )?;
    d.accept(
        "lobby-east installs the new status list",
        timed(|| lobby.authority.install_status_list(&revoked, 1024)),
        |()| String::from("entry 1 revoked"),
    )?;
    d.door(
        "revoked credential: vera at lobby-east",
        timed(|| knock(&lobby, &vera.credential, &*vera.key, MORNING, 0)),
        Some(Denial::Credential(citysec::credential::Error::Revoked)),
    );
    d.reject(
        "stale status list: the list without the revocation replayed to lobby-east",
        timed(|| lobby.authority.install_status_list(&list, 1024)),
        &citysec::credential::Error::StaleStatusList,
    );
    if let Some((_, first, _)) = envelopes.first() {
        d.reject(
            "replayed telemetry: seq 0 sent again",
            timed(|| gateway.open(first, Some(TOPIC), &mut plaintext).map(|o| o.seq())),
            &citysec::telemetry::Error::Replay,
        );
    }
    let tampered = d.accept(
        "tampered firmware: lab-3 runs a modified bootloader",
        timed(|| city.attest(&lab, [0xee; 32])),
        summary,
    )?;
    lab.result = tampered.token;
    d.door(
        "alice at lab-3 with tampered firmware",
        timed(|| knock(&lab, &alice.credential, &*alice.key, MORNING, 0)),
        Some(Denial::DeviceNotTrusted(citysec::attest::Tier::Contraindicated)),
    );
    d.reject(
        "rolled-back policy: bundle v1 replayed to lobby-east",
        timed(|| lobby.authority.install_policy(&v1)),
        &BundleError::Rollback { held: 2, version: 1 },
    );
    let elsewhere = city.bundle_for(3, "", "site:depot-north").ok()?;
    d.reject(
        "bundle v3 signed for site:depot-north offered to lobby-east",
        timed(|| lobby.authority.install_policy(&elsewhere)),
        &BundleError::ScopeMismatch {
            expected: SITE.into(),
            found: Some("site:depot-north".into()),
        },
    );
    audit_act(d, state, &lobby)
}

/// The records a controller's log holds, in order.
fn records_of(c: &Controller) -> Vec<Vec<u8>> {
    c.log.with(|a| {
        let store = a.log().store();
        (store.first()..a.log().size())
            .filter_map(|i| store.get(i).map(<[u8]>::to_vec))
            .collect()
    })
}

/// The audit error inside a std adapter's error.
fn audit_error(e: citysec::std_adapters::Error) -> AuditError {
    match e {
        citysec::std_adapters::Error::Audit(a) => a,
        _ => AuditError::InvalidState,
    }
}

/// The audit act: lobby-east's log holds every decision it made; the site log
/// takes its records; a witness cosigns; alice's entry is proven to the door
/// offline; an insider's deletion is caught by the door's pin.
fn audit_act(d: &mut Demo, state: &TempDir, lobby: &Controller) -> Option<()> {
    d.act = "audit";
    let records = records_of(lobby);
    let decisions = records
        .iter()
        .filter_map(|r| Record::from_cbor(r).ok())
        .filter(|r| matches!(r.kind(), Kind::DoorDecision | Kind::CredentialRefused))
        .count();
    // lobby-east decided 8 requests: 4 in the doors act, 2 in lockdown, 2 in attacks.
    d.accept(
        "lobby-east's log holds every decision it made",
        timed(|| {
            if decisions == 8 {
                Ok(records.len())
            } else {
                Err(format!("{decisions} decisions logged, 8 made"))
            }
        }),
        |n| format!("{n} records: 8 decisions, status lists and bundles installed or refused"),
    )?;
    let controller_note = d.accept(
        "lobby-east signs its log checkpoint with its device key",
        timed(|| -> Result<String, AuditError> {
            let signer = NoteSigner::new("lobby-east.city.example/log", &*lobby.key)?;
            lobby.log.with(|a| a.log().signed_checkpoint(&signer))
        }),
        |n| format!("{} lines, Ed25519 note signature", n.lines().count()),
    )?;
    let log_key = generate(&SERVER, b"site-log").ok()?;
    let log_signer = NoteSigner::new(SITE_LOG, &*log_key).ok()?;
    let site = d.accept(
        "the gateway checks lobby-east's records against its checkpoint and ingests them (redb)",
        timed(|| -> Result<RedbLog, AuditError> {
            let controller = NoteSigner::new("lobby-east.city.example/log", &*lobby.key)?.verifier(&DEVICE)?;
            let mut feed = ControllerFeed::new(CheckpointVerifier::new("lobby-east.city.example/log", controller)?);
            let refs: Vec<&[u8]> = records.iter().map(Vec::as_slice).collect();
            feed.ingest(&DEVICE, controller_note.as_bytes(), &refs)?;
            let mut site = RedbLog::open(state.0.join("site-log.redb"), SITE_LOG).map_err(audit_error)?;
            site.append(&refs).map_err(audit_error)?;
            Ok(site)
        }),
        |s| format!("{} entries, the controller's tree; one durable batch", s.size()),
    )?;
    let witness_key = generate(&SERVER, b"witness").ok()?;
    let witness = NoteSigner::cosigner("witness.transparency.example", &*witness_key).ok()?;
    let verifier = CheckpointVerifier::new(SITE_LOG, log_signer.verifier(&DEVICE).ok()?)
        .ok()?
        .with_witnesses(vec![witness.verifier(&DEVICE).ok()?], 1)
        .ok()?;
    let cosigned = d.accept(
        "a witness cosigns the site checkpoint",
        timed(|| -> Result<VerifiedCheckpoint, AuditError> {
            let note = site.checkpoint().map_err(audit_error)?.sign(&log_signer)?;
            let cosigned = cosign(&witness, &note, MORNING)?;
            verifier.verify(&DEVICE, cosigned.as_bytes())
        }),
        |c| format!("size {}, cosigned by {}", c.checkpoint().size(), c.cosignatures().len()),
    )?;
    // Alice's 10:00 entry at lobby-east: the first door decision recorded.
    let index = records
        .iter()
        .position(|r| Record::from_cbor(r).is_ok_and(|r| r.kind() == Kind::DoorDecision))?;
    let index = u64::try_from(index).ok()?;
    let leaf = leaf_hash(records.get(usize::try_from(index).ok()?)?);
    d.accept(
        "operator proves alice's 10:00 entry; lobby-east verifies the receipt offline",
        timed(|| -> Result<u64, AuditError> {
            let size = cosigned.checkpoint().size();
            let proof = site.inclusion_proof(index, size).map_err(audit_error)?;
            let receipt = issue_inclusion(&*log_key, size, index, &proof, cosigned.checkpoint().root())?;
            let verified = Receipt::parse(&receipt)?.verify_inclusion(&DEVICE, log_key.verifying_key(), &leaf)?;
            if verified.root() == cosigned.checkpoint().root() {
                Ok(index)
            } else {
                Err(AuditError::RootMismatch)
            }
        }),
        |i| format!("entry {i}: COSE Receipt, proof of the cosigned root"),
    )?;
    let mut pin = d.accept(
        "lobby-east pins the cosigned checkpoint",
        timed(|| -> Result<FilePin, citysec::std_adapters::Error> {
            let mut pin = FilePin::open(state.0.join("lobby-east.pin"))?;
            pin.accept(&cosigned, &[])?;
            Ok(pin)
        }),
        |p| format!("size {} kept in a file", p.pinned().map_or(0, |p| p.size())),
    )?;
    // The insider rebuilds the site log without alice's entry, adds one record
    // so the tree grows, and signs with the log key they hold.
    let forged = d.accept(
        "an insider deletes alice's entry from the site store and re-signs",
        timed(
            || -> Result<(VerifiedCheckpoint, Vec<citysec::audit::merkle::Hash>), AuditError> {
                let mut copy = RedbLog::open(state.0.join("edited.redb"), SITE_LOG).map_err(audit_error)?;
                let kept: Vec<&[u8]> = records
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| u64::try_from(*i).ok() != Some(index))
                    .map(|(_, r)| r.as_slice())
                    .chain(records.last().map(Vec::as_slice))
                    .chain(records.last().map(Vec::as_slice))
                    .collect();
                copy.append(&kept).map_err(audit_error)?;
                let note = cosign(
                    &witness,
                    &copy.checkpoint().map_err(audit_error)?.sign(&log_signer)?,
                    MORNING,
                )?;
                let from = pin.pinned().map_or(1, |p| p.size());
                let proof = copy.consistency_proof(from, copy.size()).map_err(audit_error)?;
                Ok((verifier.verify(&DEVICE, note.as_bytes())?, proof))
            },
        ),
        |(c, _)| format!("size {}, validly signed and cosigned", c.checkpoint().size()),
    )?;
    d.reject(
        "lobby-east checks the next checkpoint against its pin",
        timed(|| pin.accept(&forged.0, &forged.1).map_err(audit_error)),
        &AuditError::RootMismatch,
    );
    Some(())
}

fn random32() -> Result<[u8; 32], citysec::core::Error> {
    let mut b = [0u8; 32];
    citysec::core::RandomSource::fill(&mut OsRandom, &mut b)?;
    Ok(b)
}

pub(crate) fn run(args: &DemoArgs, out: &mut Out) -> CmdResult {
    let state = TempDir::new().map_err(|e| Failure::Usage(format!("temporary directory: {e}")))?;
    let keys = match &args.pkcs11 {
        Some(uri) => CityKeys::token(uri)?,
        None => CityKeys::software().map_err(|e| Failure::Usage(format!("keys: {e}")))?,
    };
    let mut demo = Demo::default();
    let (finished, total) = timed(|| scenario(&mut demo, &state, keys));
    let passed = finished.is_some() && demo.passed();
    if args.json {
        print_json(out, &demo, passed, total);
    } else {
        print_text(out, &demo, passed, total);
    }
    if passed {
        Ok(())
    } else {
        Err(Failure::Rejected("the demo did not behave as expected".to_owned()))
    }
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn print_text(out: &mut Out, demo: &Demo, passed: bool, total: Duration) {
    outln!(
        out,
        "{}",
        out.paint(Colour::Bold, "citysec demo: a small city, end to end")
    );
    let mut act = "";
    for (i, s) in demo.steps.iter().enumerate() {
        if s.act != act {
            act = s.act;
            outln!(out);
            outln!(out, "{}", out.paint(Colour::Bold, &format!("== {act}")));
        }
        let verdict = match (s.as_expected, s.accepted) {
            (true, true) => out.paint(Colour::Green, "ok     "),
            (true, false) => out.paint(Colour::Yellow, "refused"),
            (false, _) => out.paint(Colour::Red, "FAIL   "),
        };
        outln!(
            out,
            "{:>2}. {:<62} {verdict} {:>9}  {}",
            i.saturating_add(1),
            s.name,
            ms(s.elapsed),
            s.detail
        );
        for c in &s.checks {
            outln!(out, "      {c}");
        }
    }
    outln!(out);
    let expected = demo.steps.iter().filter(|s| s.as_expected).count();
    let refused = demo
        .steps
        .iter()
        .filter(|s| s.expect == Expect::Reject && s.as_expected)
        .count();
    if passed {
        let line = format!(
            "PASS: all {} steps as expected ({refused} refusals, each for the expected reason)",
            demo.steps.len()
        );
        outln!(out, "{} in {}", out.paint(Colour::Green, &line), ms(total));
    } else {
        let line = format!("FAIL: {expected} of {} steps behaved as expected", demo.steps.len());
        outln!(out, "{} in {}", out.paint(Colour::Red, &line), ms(total));
    }
}

fn print_json(out: &mut Out, demo: &Demo, passed: bool, total: Duration) {
    let steps: Vec<serde_json::Value> = demo
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            serde_json::json!({
                "step": i.saturating_add(1),
                "act": s.act,
                "name": s.name,
                "expect": match s.expect { Expect::Accept => "accept", Expect::Reject => "reject" },
                "outcome": if s.accepted { "accepted" } else { "refused" },
                "as_expected": s.as_expected,
                "detail": s.detail,
                "checks": s.checks,
                "elapsed_us": u64::try_from(s.elapsed.as_micros()).unwrap_or(u64::MAX),
            })
        })
        .collect();
    let doc = serde_json::json!({
        "demo": "citysec city",
        "passed": passed,
        "total_us": u64::try_from(total.as_micros()).unwrap_or(u64::MAX),
        "steps": steps,
    });
    outln!(out, "{doc}");
}
