//! Door decisions: every step, every denial, with exact outcomes.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::arithmetic_side_effects,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc,
    reason = "tests"
)]

use citysec::attest::{
    Appraiser, Challenge as NonceChallenge, DebugStatus, Endorsement, EvidenceBuilder, Freshness, MemoryNonceStore,
    ReferenceSet, ReferenceValues, Tier,
};
use citysec::attest::{
    AudienceRule, Error as AttestError, ExpiryRule, ExternalEarPolicy, ExternalEarVerifier, ExternalError,
};
use citysec::attest::{ManufacturerVerifier, ResultVerifier};
use citysec::core::provider::Signer;
use citysec::policy::bundle::PolicySigners;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use citysec::audit::auditor::{Auditor, PersonalField, RamSideTable, SharedAuditor, SideTable as _};
use citysec::audit::log::{ControllerLog, RamStore, RecordStore as _, WhenFull};
use citysec::audit::merkle;
use citysec::audit::record::{Kind, Outcome, Record};
use citysec::core::FixedClock;
use citysec::core::audit::{AuditError, AuditSink};
use citysec::core::coset::cbor::value::Value;
use citysec::core::state::{HeldBundle, HeldStatusList, MemoryStateStore, StateStore, StoreError};
use citysec::core::{Error as CoreError, RandomSource, Result as CoreResult, SigningKey, Timestamp};
use citysec::credential::{
    Challenge, Claims, Confirmation, Error as CredError, Issuer, StatusList, StatusRef, Verifier,
};
use citysec::door::{Denial, DeviceResult, Door, DoorAuthority, DoorRequest, LocalTime, Step};
use citysec::policy::bundle::{self, BundleError, BundleSource};
use citysec::policy::{Decision, PolicyLimits, Reason, RequestError, Weekday};

/// Thursday 2026-11-26 10:00 UTC.
const THU_10: u64 = 1_795_687_200;
/// Thursday 2026-11-26 23:30 UTC.
const THU_2330: u64 = 1_795_735_800;
const DOOR_UEID: [u8; 7] = [0x01, 0xd0, 0x0f, 0x00, 0x00, 0x00, 0x01];
const BOOT: [u8; 32] = [0x5a; 32];
const STATUS_URI: &str = "https://city.example/status/1";
const SCOPE: &str = "site:lyon-3";
/// Thursday 2026-11-26 00:00 UTC.
const THU_0: u64 = THU_10 - 10 * 3600;

const SCHEMA: &str = r"
    action open;
    resource door;
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
      when subject.roles has "staff" and context.weekday in mon..fri and context.hour in 7..19
       and context.device_trust == "affirming";
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

struct Rng(u8);
impl RandomSource for Rng {
    fn fill(&mut self, buf: &mut [u8]) -> CoreResult<()> {
        for b in buf {
            self.0 = self.0.wrapping_mul(31).wrapping_add(7);
            *b = self.0;
        }
        Ok(())
    }
}

struct City {
    issuer: Issuer,
    attest_signer: Issuer,
    policy_key: SigningKey,
    authority: DoorAuthority,
    door: Door,
    device_result: Vec<u8>,
    statuses: StatusList,
}

fn at(t: u64) -> Timestamp {
    Timestamp::from_unix_seconds(t)
}

/// An attestation result, made at `t`, for a controller whose firmware is `version`
/// with `boot` as its digest. Version 1.2.0 is accepted; 1.1.0 gives a warning.
fn attest(ueid: &[u8], boot: [u8; 32], version: &str, t: u64) -> (Vec<u8>, Issuer) {
    let signer_key = || SigningKey::ed25519(&[3; 32]).with_kid(*b"av-1");
    let now = at(t);
    let factory = Issuer::new(
        "https://oem.example",
        soft(SigningKey::ed25519(&[1; 32]).with_kid(*b"oem-1")),
    )
    .unwrap();
    let device_key = SigningKey::ed25519(&[2; 32]).with_kid(*b"dev-1");
    let endorsement = Endorsement::new(
        ueid.to_vec(),
        citysec::rustcrypto::PROVIDER.public_key(&device_key).unwrap(),
        *b"door-ctl-2",
    )
    .unwrap()
    .issue(&factory, at(THU_0 - 86_400), at(THU_10 + 86_400 * 365))
    .unwrap();
    let signer = Issuer::new("https://attest.example", soft(signer_key())).unwrap();
    let refs = ReferenceSet::new()
        .with(
            ReferenceValues::new(*b"door-ctl-2", "1.0.0")
                .unwrap()
                .accept_version("1.2.0")
                .unwrap()
                .component("bootloader", BOOT)
                .unwrap(),
        )
        .unwrap();
    let manufacturers = ManufacturerVerifier::new(&citysec::rustcrypto::PROVIDER)
        .trust(factory.iss(), factory.verifying_key())
        .unwrap()
        .any_audience();
    let appraiser = Appraiser::new(manufacturers, signer, "door-controllers", refs);
    let mut nonces = MemoryNonceStore::new(16);
    let challenge = NonceChallenge::issue(&mut nonces, &mut Rng(9), now, 60).unwrap();
    let measurements = [("bootloader", boot)];
    let mut buf = [0u8; 512];
    let len = EvidenceBuilder::new(ueid)
        .nonce(challenge.nonce())
        .hwmodel(b"door-ctl-2")
        .swversion(version)
        .dbgstat(DebugStatus::DisabledPermanently)
        .oemboot(true)
        .measurements(&measurements)
        .sign(&citysec::rustcrypto::signer_copy(&device_key).unwrap(), &mut buf)
        .unwrap();
    let appraisal = appraiser
        .appraise(&endorsement, &buf[..len], Freshness::Nonce(&mut nonces), now)
        .unwrap();
    (
        appraisal.token,
        Issuer::new("https://attest.example", soft(signer_key())).unwrap(),
    )
}

fn city() -> City {
    city_with("1.2.0", false, true)
}

/// A city whose door controller runs `version`; `lenient` accepts device warnings.
fn city_with(version: &str, lenient: bool, with_policy: bool) -> City {
    city_audited(version, lenient, with_policy, None)
}

/// As [`city_with`], the door reporting to `audit` from the start.
fn city_audited(version: &str, lenient: bool, with_policy: bool, audit: Option<Arc<dyn AuditSink>>) -> City {
    let issuer = Issuer::new(
        "https://city.example",
        soft(SigningKey::ed25519(&[4; 32]).with_kid(*b"city-1")),
    )
    .unwrap();
    let policy_key = SigningKey::ed25519(&[5; 32]).with_kid(*b"policy-1");
    let (device_result, attest_signer) = attest(&DOOR_UEID, BOOT, version, THU_10);
    let mut authority = authority(&issuer, &attest_signer, &policy_key)
        .scope(SCOPE)
        .accept_device_warnings(lenient);
    if let Some(sink) = audit {
        authority = authority.with_audit(sink);
    }
    let statuses = StatusList::new(1, 16).unwrap();
    let list = statuses
        .sign(&issuer, STATUS_URI, at(THU_10), at(THU_10 + 86_400), None)
        .unwrap();
    authority.install_status_list(&list, 1024).unwrap();
    let mut c = City {
        issuer,
        attest_signer,
        policy_key,
        authority,
        door: Door::new("lobby-east", "lobby", DOOR_UEID),
        device_result,
        statuses,
    };
    if with_policy {
        let v1 = c.bundle("", 1);
        assert_eq!(c.authority.install_policy(&v1), Ok(1));
    }
    c
}

/// A controller with no policy and no status list, trusting the city's keys.
fn authority(issuer: &Issuer, attest_signer: &Issuer, policy_key: &SigningKey) -> DoorAuthority {
    let credentials = Verifier::new(&citysec::rustcrypto::PROVIDER)
        .trust(issuer.iss(), issuer.verifying_key())
        .unwrap()
        .audience("city-doors");
    let attestation = ResultVerifier::new(&citysec::rustcrypto::PROVIDER)
        .trust(attest_signer.iss(), attest_signer.verifying_key())
        .unwrap()
        .audience("door-controllers");
    let keys = PolicySigners::from_keys(
        &citysec::rustcrypto::PROVIDER,
        [citysec::rustcrypto::PROVIDER.public_key(policy_key).unwrap()],
    )
    .unwrap();
    DoorAuthority::new(credentials, attestation, keys)
}

impl City {
    /// The city policy plus `extra` rules, signed as `version` for [`SCOPE`].
    fn bundle(&self, extra: &str, version: u64) -> Vec<u8> {
        self.bundle_for(extra, version, SCOPE)
    }

    /// The city policy plus `extra` rules, signed as `version` for `scope`.
    fn bundle_for(&self, extra: &str, version: u64, scope: &str) -> Vec<u8> {
        let policy = format!("{POLICY}{extra}");
        let src = BundleSource {
            schema: SCHEMA,
            policy: &policy,
            version,
            issued_at: THU_10,
            scope,
        };
        bundle::create(
            &citysec::rustcrypto::signer_copy(&self.policy_key).unwrap(),
            &src,
            &PolicyLimits::DEFAULT,
        )
        .unwrap()
    }

    /// A controller of this city restarted from `store`, scoped to [`SCOPE`],
    /// holding no policy in memory yet.
    fn restart(&self, store: &SharedStore) -> DoorAuthority {
        authority(&self.issuer, &self.attest_signer, &self.policy_key)
            .scope(SCOPE)
            .with_store(Box::new(store.clone()))
            .unwrap()
    }

    /// The status list with entry `revoked` set, issued at `iat`.
    fn status_list(&self, revoked: Option<usize>, iat: u64) -> Vec<u8> {
        let mut l = self.statuses.clone();
        if let Some(i) = revoked {
            l.set(i, 1).unwrap();
        }
        l.sign(&self.issuer, STATUS_URI, at(iat), at(iat + 86_400), None)
            .unwrap()
    }

    /// A credential for `sub` with `roles`, bound to `holder`, status index `idx`.
    fn credential(&self, sub: &str, roles: &[&str], holder: &SigningKey, idx: u64) -> Vec<u8> {
        let mut claims = Claims::new();
        claims.iss = Some(self.issuer.iss().into());
        claims.sub = Some(sub.into());
        claims.aud = vec!["city-doors".into()];
        claims.iat = Some(at(THU_10 - 3600));
        claims.exp = Some(at(THU_10 + 7 * 86_400));
        claims.roles = roles.iter().map(|r| (*r).to_string()).collect();
        claims.cnf = Some(Confirmation::Key(
            citysec::rustcrypto::PROVIDER.public_key(holder).unwrap(),
        ));
        claims.status = Some(StatusRef {
            idx,
            uri: STATUS_URI.into(),
        });
        self.issuer.issue(&claims).unwrap()
    }

    /// The decision for `credential` presented by `signer` at `t`, threat level `threat`.
    fn decide(&self, credential: &[u8], signer: &SigningKey, t: u64, threat: i64) -> citysec::door::DoorDecision {
        self.decide_with(
            credential,
            signer,
            t,
            threat,
            DeviceResult::Citysec(&self.device_result),
        )
    }

    /// As [`Self::decide`], the controller attested by `device_result`.
    fn decide_with(
        &self,
        credential: &[u8],
        signer: &SigningKey,
        t: u64,
        threat: i64,
        device_result: DeviceResult<'_>,
    ) -> citysec::door::DoorDecision {
        let challenge = Challenge::from_parts([7; 32], "lobby-east", at(t));
        let presentation = citysec::credential::present(
            &citysec::rustcrypto::signer_copy(signer).unwrap(),
            credential,
            &challenge,
        )
        .unwrap();
        self.authority.decide(&DoorRequest {
            door: &self.door,
            presentation: &presentation,
            challenge: &challenge,
            device_result,
            now: at(t),
            local_time: LocalTime::at(at(t), 0),
            threat_level: threat,
        })
    }
}

fn holder(seed: u8) -> SigningKey {
    SigningKey::ed25519(&[seed; 32]).with_kid(*b"holder")
}

#[test]
fn staff_in_office_hours_is_allowed_with_every_step_passed() {
    let c = city();
    let alice = holder(10);
    let d = c.decide(&c.credential("alice", &["staff"], &alice, 0), &alice, THU_10, 0);
    assert_eq!(d.decision(), Decision::Allow, "{d}");
    assert_eq!(d.subject(), Some("alice"));
    assert_eq!(d.rules(), ["staff-office-hours"]);
    let steps: Vec<_> = d.checks().iter().map(|c| (c.step, c.passed)).collect();
    assert_eq!(
        steps,
        [
            (Step::Credential, true),
            (Step::Schedule, true),
            (Step::Device, true),
            (Step::Policy, true)
        ]
    );
    assert_eq!(d.checks()[1].detail, "no schedule restricts thu 10:00");
}

#[test]
fn staff_at_night_is_denied_by_default() {
    let mut c = city();
    // Results live an hour: the controller attested again at night.
    (c.device_result, _) = attest(&DOOR_UEID, BOOT, "1.2.0", THU_2330);
    let alice = holder(10);
    let d = c.decide(&c.credential("alice", &["staff"], &alice, 0), &alice, THU_2330, 0);
    assert_eq!(d.denial(), Some(&Denial::Policy(Reason::NoPermit)));
    assert_eq!(d.subject(), Some("alice"));
    assert!(d.rules().is_empty());
    assert_eq!(d.checks().len(), 4);
    // Security staff may enter at night.
    let bob = holder(11);
    let d = c.decide(&c.credential("bob", &["security"], &bob, 1), &bob, THU_2330, 0);
    assert_eq!(d.rules(), ["security-any-time"]);
}

#[test]
fn a_cloned_credential_without_the_holder_key_is_refused_before_policy() {
    let c = city();
    let token = c.credential("alice", &["staff"], &holder(10), 0);
    let d = c.decide(&token, &holder(66), THU_10, 0);
    assert_eq!(
        d.denial(),
        Some(&Denial::Credential(CredError::Core(CoreError::BadSignature)))
    );
    assert_eq!(d.subject(), None);
    assert_eq!(d.checks().len(), 1);
    assert_eq!(d.checks()[0].step, Step::Credential);
}

#[test]
fn a_revoked_credential_is_refused() {
    let mut c = city();
    let alice = holder(10);
    let token = c.credential("alice", &["staff"], &alice, 3);
    c.statuses.set(3, 1).unwrap();
    let list = c
        .statuses
        .sign(&c.issuer, STATUS_URI, at(THU_10 + 1), at(THU_10 + 86_400), None)
        .unwrap();
    c.authority.install_status_list(&list, 1024).unwrap();
    assert_eq!(
        c.decide(&token, &alice, THU_10, 0).denial(),
        Some(&Denial::Credential(CredError::Revoked))
    );
}

#[test]
fn an_old_challenge_is_refused() {
    let c = city();
    let alice = holder(10);
    let token = c.credential("alice", &["staff"], &alice, 0);
    let challenge = Challenge::from_parts([7; 32], "lobby-east", at(THU_10 - 31));
    let presentation =
        citysec::credential::present(&citysec::rustcrypto::signer_copy(&alice).unwrap(), &token, &challenge).unwrap();
    let d = c.authority.decide(&DoorRequest {
        door: &c.door,
        presentation: &presentation,
        challenge: &challenge,
        device_result: DeviceResult::Citysec(&c.device_result),
        now: at(THU_10),
        local_time: LocalTime::at(at(THU_10), 0),
        threat_level: 0,
    });
    assert_eq!(d.denial(), Some(&Denial::Credential(CredError::ChallengeExpired)));
}

#[test]
fn the_controller_must_be_attested_as_itself_and_affirming() {
    let mut c = city();
    let alice = holder(10);
    let token = c.credential("alice", &["staff"], &alice, 0);

    c.door = Door::new("lobby-east", "lobby", [0x01, 0xd0, 0x0f, 0, 0, 0, 2]);
    let d = c.decide(&token, &alice, THU_10, 0);
    assert_eq!(d.denial(), Some(&Denial::WrongDevice));
    assert_eq!(
        d.checks().iter().map(|c| c.passed).collect::<Vec<_>>(),
        [true, true, false]
    );

    c.door = Door::new("lobby-east", "lobby", DOOR_UEID);
    (c.device_result, _) = attest(&DOOR_UEID, [0xee; 32], "1.2.0", THU_10);
    assert_eq!(
        c.decide(&token, &alice, THU_10, 0).denial(),
        Some(&Denial::DeviceNotTrusted(Tier::Contraindicated))
    );

    // A result two hours old has expired (results live one hour).
    (c.device_result, _) = attest(&DOOR_UEID, BOOT, "1.2.0", THU_10);
    let d = c.decide(&token, &alice, THU_10 + 7200, 0);
    assert!(matches!(d.denial(), Some(Denial::DeviceResult(_))), "{d}");
}

#[test]
fn no_policy_denies_after_the_other_steps_passed() {
    let c = city_with("1.2.0", false, false);
    assert_eq!(c.authority.policy_version(), None);
    let alice = holder(10);
    let d = c.decide(&c.credential("alice", &["staff"], &alice, 0), &alice, THU_10, 0);
    assert_eq!(d.denial(), Some(&Denial::NoPolicy));
    assert_eq!(
        d.checks().iter().map(|c| c.passed).collect::<Vec<_>>(),
        [true, true, true, false]
    );
}

#[test]
fn lockdown_bundle_installs_and_rollback_is_refused() {
    let mut c = city();
    let alice = holder(10);
    let bob = holder(11);
    let staff = c.credential("alice", &["staff"], &alice, 0);
    let security = c.credential("bob", &["security"], &bob, 1);

    let v2 = c.bundle(LOCKDOWN, 2);
    assert_eq!(c.authority.install_policy(&v2), Ok(2));
    let d = c.decide(&staff, &alice, THU_10, 3);
    assert_eq!(d.denial(), Some(&Denial::Policy(Reason::Forbidden)));
    assert_eq!(d.rules(), ["lockdown"]);
    assert_eq!(c.decide(&security, &bob, THU_10, 3).rules(), ["security-any-time"]);
    // Threat level back to normal: staff may enter again under v2.
    assert!(c.decide(&staff, &alice, THU_10, 0).is_allowed());

    // The old bundle (v1) cannot come back; v2 stays in force.
    let v1 = c.bundle("", 1);
    assert_eq!(
        c.authority.install_policy(&v1),
        Err(BundleError::Rollback { held: 2, version: 1 })
    );
    assert_eq!(c.authority.policy_version(), Some(2));
    assert_eq!(c.decide(&staff, &alice, THU_10, 3).rules(), ["lockdown"]);

    // A bundle signed by an untrusted key does not install.
    let rogue = SigningKey::ed25519(&[99; 32]).with_kid(*b"policy-1");
    let src = BundleSource {
        schema: SCHEMA,
        policy: POLICY,
        version: 9,
        issued_at: THU_10,
        scope: SCOPE,
    };
    let forged = bundle::create(
        &citysec::rustcrypto::signer_copy(&rogue).unwrap(),
        &src,
        &PolicyLimits::DEFAULT,
    )
    .unwrap();
    assert_eq!(
        c.authority.install_policy(&forged),
        Err(BundleError::Cose(CoreError::BadSignature))
    );
}

#[test]
fn a_device_warning_is_refused_unless_accepted_and_then_visible_to_policy() {
    let alice = holder(10);
    let bob = holder(11);

    let strict = city_with("1.1.0", false, true);
    let staff = strict.credential("alice", &["staff"], &alice, 0);
    assert_eq!(
        strict.decide(&staff, &alice, THU_10, 0).denial(),
        Some(&Denial::DeviceNotTrusted(Tier::Warning))
    );

    // Accepted, the warning reaches policy: staff need an affirming controller,
    // security staff do not.
    let lenient = city_with("1.1.0", true, true);
    let d = lenient.decide(&staff, &alice, THU_10, 0);
    assert_eq!(d.denial(), Some(&Denial::Policy(Reason::NoPermit)));
    assert!(d.checks()[2].detail.contains("warning"), "{}", d.checks()[2].detail);
    let security = lenient.credential("bob", &["security"], &bob, 1);
    assert_eq!(
        lenient.decide(&security, &bob, THU_10, 0).rules(),
        ["security-any-time"]
    );
}

#[test]
fn local_time_from_a_timestamp() {
    let t = LocalTime::at(at(THU_10), 0);
    assert_eq!((t.weekday(), t.hour(), t.minute()), (Weekday::Thu, 10, 600));
    let t = LocalTime::at(at(THU_2330), 60);
    assert_eq!((t.weekday(), t.hour(), t.minute()), (Weekday::Fri, 0, 30));
    let t = LocalTime::at(at(0), -60);
    assert_eq!((t.weekday(), t.minute()), (Weekday::Wed, 23 * 60));
    assert_eq!(t.to_string(), "wed 23:00");
    assert_eq!(LocalTime::new(Weekday::Sun, 1440), None);
    assert_eq!(LocalTime::new(Weekday::Sun, 1439).map(LocalTime::hour), Some(23));
}

#[test]
fn an_undeclared_action_or_resource_type_is_refused_before_any_rule() {
    let mut c = city();
    let alice = holder(10);
    let token = c.credential("alice", &["staff"], &alice, 0);
    c.door = Door::new("lobby-east", "lobby", DOOR_UEID).action("paint");
    let d = c.decide(&token, &alice, THU_10, 0);
    assert_eq!(d.denial(), Some(&Denial::Request(RequestError::UnknownAction)));
    assert!(d.rules().is_empty());
    assert_eq!(
        d.checks().iter().map(|c| (c.step, c.passed)).collect::<Vec<_>>(),
        [
            (Step::Credential, true),
            (Step::Schedule, true),
            (Step::Device, true),
            (Step::Policy, false)
        ]
    );
    assert_eq!(
        d.checks()[3].detail,
        "policy: request refused: the schema declares no such action"
    );
    c.door = Door::new("lobby-east", "lobby", DOOR_UEID).resource_type("bench");
    assert_eq!(
        c.decide(&token, &alice, THU_10, 0).denial(),
        Some(&Denial::Request(RequestError::UnknownResourceType))
    );
}

// ------------------------------------------------------------------ schedule

impl City {
    /// A credential for `sub` with `roles` and the weekly `schedule`
    /// (`[days, start, end]`), valid all week around [`THU_0`].
    fn scheduled(&self, sub: &str, roles: &[&str], holder: &SigningKey, schedule: &[(u8, u16, u16)]) -> Vec<u8> {
        let mut claims = Claims::new();
        claims.sub = Some(sub.into());
        claims.aud = vec!["city-doors".into()];
        claims.iat = Some(at(THU_0 - 86_400));
        claims.exp = Some(at(THU_0 + 7 * 86_400));
        claims.roles = roles.iter().map(|r| (*r).to_string()).collect();
        claims.cnf = Some(Confirmation::Key(
            citysec::rustcrypto::PROVIDER.public_key(holder).unwrap(),
        ));
        claims.schedule = schedule
            .iter()
            .map(
                |&(days, start_minute, end_minute)| citysec::credential::ScheduleWindow {
                    days,
                    start_minute,
                    end_minute,
                },
            )
            .collect();
        self.issuer.issue(&claims).unwrap()
    }

    /// The decision at `t` with the site `offset` minutes east of UTC, the
    /// controller attested at `t`.
    fn decide_local(
        &mut self,
        credential: &[u8],
        signer: &SigningKey,
        t: u64,
        offset: i16,
    ) -> citysec::door::DoorDecision {
        (self.device_result, _) = attest(&DOOR_UEID, BOOT, "1.2.0", t);
        let challenge = Challenge::from_parts([7; 32], "lobby-east", at(t));
        let presentation = citysec::credential::present(
            &citysec::rustcrypto::signer_copy(signer).unwrap(),
            credential,
            &challenge,
        )
        .unwrap();
        self.authority.decide(&DoorRequest {
            door: &self.door,
            presentation: &presentation,
            challenge: &challenge,
            device_result: DeviceResult::Citysec(&self.device_result),
            now: at(t),
            local_time: LocalTime::at(at(t), offset),
            threat_level: 0,
        })
    }
}

#[test]
fn the_door_enforces_the_credential_schedule_at_both_edges_whatever_the_policy() {
    let mut c = city();
    // Security staff: the policy permits them at any time ("security-any-time"),
    // so only the credential's own schedule (Mon-Fri 07:00-19:00) can deny.
    let bob = holder(11);
    let token = c.scheduled("bob", &["security"], &bob, &[(0b001_1111, 420, 1140)]);
    let minute = |m: u64| THU_0 + m * 60;
    for (t, allowed, local) in [
        (minute(419), false, "thu 06:59"),
        (minute(420), true, "thu 07:00"),
        (minute(1139), true, "thu 18:59"),
        (minute(1140), false, "thu 19:00"),
        // Friday evening in, Saturday morning out.
        (minute(1440 + 1139), true, "fri 18:59"),
        (minute(2 * 1440 + 420), false, "sat 07:00"),
    ] {
        let d = c.decide_local(&token, &bob, t, 0);
        assert_eq!(d.is_allowed(), allowed, "{local}: {d}");
        if allowed {
            assert_eq!(d.checks()[1].detail, format!("schedule allows {local}"));
            assert_eq!(d.rules(), ["security-any-time"]);
        } else {
            let lt = LocalTime::at(at(t), 0);
            assert_eq!(d.denial(), Some(&Denial::OutsideSchedule(lt)));
            assert_eq!(d.denial().unwrap().step(), Step::Schedule);
            assert_eq!(
                d.to_string(),
                format!("deny: credential schedule does not allow {local}")
            );
            // Denied before device trust and policy ran.
            assert_eq!(d.checks().len(), 2);
        }
    }
}

#[test]
fn the_schedule_uses_the_local_time_with_the_site_offset() {
    let mut c = city();
    let bob = holder(11);
    let token = c.scheduled("bob", &["security"], &bob, &[(0b001_1111, 420, 1140)]);
    // UTC+1: 06:00 UTC is 07:00 local (inside), 05:59 UTC is 06:59 local (outside).
    assert!(c.decide_local(&token, &bob, THU_0 + 6 * 3600, 60).is_allowed());
    let d = c.decide_local(&token, &bob, THU_0 + 6 * 3600 - 60, 60);
    assert_eq!(
        d.denial(),
        Some(&Denial::OutsideSchedule(LocalTime::new(Weekday::Thu, 419).unwrap()))
    );
    // A window ending at midnight includes 23:59.
    let night = c.scheduled("bob", &["security"], &bob, &[(0b000_1000, 1380, 1440)]);
    assert!(c.decide_local(&night, &bob, THU_0 + 1439 * 60, 0).is_allowed());
    assert!(!c.decide_local(&night, &bob, THU_0 + 1440 * 60, 0).is_allowed());
}

// ------------------------------------------------------------------ held state

/// A store shared by the controller before and after a restart. It can fail its
/// writes, or "lose power" right after saving a bundle version (a panic, after
/// the value was stored).
#[derive(Clone, Debug, Default)]
struct SharedStore {
    state: Arc<Mutex<MemoryStateStore>>,
    crash_after_bundle_save: Arc<AtomicBool>,
    fail_writes: Arc<AtomicBool>,
}

impl StateStore for SharedStore {
    fn bundle(&self) -> Result<Option<HeldBundle>, StoreError> {
        self.state.lock().unwrap().bundle()
    }
    fn save_bundle(&mut self, held: &HeldBundle) -> Result<(), StoreError> {
        if self.fail_writes.load(Ordering::SeqCst) {
            return Err(StoreError::Write);
        }
        self.state.lock().unwrap().save_bundle(held)?;
        if self.crash_after_bundle_save.swap(false, Ordering::SeqCst) {
            panic!("power lost after the version was stored");
        }
        Ok(())
    }
    fn status_list(&self, uri: &str) -> Result<Option<HeldStatusList>, StoreError> {
        self.state.lock().unwrap().status_list(uri)
    }
    fn save_status_list(&mut self, uri: &str, held: &HeldStatusList) -> Result<(), StoreError> {
        if self.fail_writes.load(Ordering::SeqCst) {
            return Err(StoreError::Write);
        }
        self.state.lock().unwrap().save_status_list(uri, held)
    }
}

#[test]
fn a_crash_between_storing_the_version_and_activation_keeps_the_old_policy_and_holds_the_new_version() {
    let mut c = city_with("1.2.0", false, false);
    let store = SharedStore::default();
    c.authority = c.restart(&store);
    c.authority
        .install_status_list(&c.status_list(None, THU_10), 1024)
        .unwrap();
    let v1 = c.bundle("", 1);
    let v2 = c.bundle(LOCKDOWN, 2);
    assert_eq!(c.authority.install_policy(&v1), Ok(1));
    let alice = holder(10);
    let staff = c.credential("alice", &["staff"], &alice, 0);

    // v2 (lockdown) arrives; the store records version 2, then power is lost.
    c.authority_crash_during(&store, &v2);
    // Until the crash the old policy was in force: no lockdown.
    assert_eq!(c.authority.policy_version(), Some(1));
    assert!(c.decide(&staff, &alice, THU_10, 5).is_allowed());

    // Restart: version 2 is held, v1 (what was in force) is now a rollback.
    c.authority = c.restart(&store);
    assert_eq!(c.authority.policy_version(), Some(2));
    assert_eq!(
        c.authority.install_policy(&v1),
        Err(BundleError::Rollback { held: 2, version: 1 })
    );
    c.authority
        .install_status_list(&c.status_list(None, THU_10), 1024)
        .unwrap();
    let d = c.decide(&staff, &alice, THU_10, 5);
    assert_eq!(d.denial(), Some(&Denial::NoPolicy));
    // v2 delivered again installs (it is the bundle held), and is in force.
    assert_eq!(c.authority.install_policy(&v2), Ok(2));
    assert_eq!(c.decide(&staff, &alice, THU_10, 5).rules(), ["lockdown"]);
}

impl City {
    fn authority_crash_during(&mut self, store: &SharedStore, bundle: &[u8]) {
        store.crash_after_bundle_save.store(true, Ordering::SeqCst);
        let crashed = catch_unwind(AssertUnwindSafe(|| self.authority.install_policy(bundle)));
        assert!(crashed.is_err(), "the store did not crash");
    }
}

#[test]
fn a_bundle_whose_version_cannot_be_stored_is_refused_and_the_old_policy_stays() {
    let mut c = city_with("1.2.0", false, false);
    let store = SharedStore::default();
    c.authority = c.restart(&store);
    c.authority
        .install_status_list(&c.status_list(None, THU_10), 1024)
        .unwrap();
    assert_eq!(c.authority.install_policy(&c.bundle("", 1)), Ok(1));
    store.fail_writes.store(true, Ordering::SeqCst);
    assert_eq!(
        c.authority.install_policy(&c.bundle(LOCKDOWN, 2)),
        Err(BundleError::Store(StoreError::Write))
    );
    assert_eq!(c.authority.policy_version(), Some(1));
    assert_eq!(store.bundle().unwrap().map(|h| h.version), Some(1));
    let alice = holder(10);
    assert!(
        c.decide(&c.credential("alice", &["staff"], &alice, 0), &alice, THU_10, 5)
            .is_allowed()
    );
    // A status list whose iat cannot be stored is refused too.
    assert_eq!(
        c.authority
            .install_status_list(&c.status_list(Some(0), THU_10 + 1), 1024),
        Err(CredError::StateStore(StoreError::Write))
    );
    assert!(
        c.decide(&c.credential("alice", &["staff"], &alice, 0), &alice, THU_10, 0)
            .is_allowed()
    );
}

#[test]
fn a_bundle_for_another_scope_or_in_the_old_format_is_refused() {
    let mut c = city();
    let other = c.bundle_for(LOCKDOWN, 5, "site:lyon-4");
    assert_eq!(
        c.authority.install_policy(&other),
        Err(BundleError::ScopeMismatch {
            expected: SCOPE.into(),
            found: Some("site:lyon-4".into())
        })
    );
    assert_eq!(c.authority.policy_version(), Some(1));
}

#[test]
fn status_lists_never_go_back_at_the_door() {
    let mut c = city();
    let alice = holder(10);
    let token = c.credential("alice", &["staff"], &alice, 3);
    // Installed by `city()`: the list of THU_10 with nothing revoked.
    let monday = c.status_list(None, THU_10);
    let revoked = c.status_list(Some(3), THU_10 + 60);
    c.authority.install_status_list(&revoked, 1024).unwrap();
    assert_eq!(
        c.decide(&token, &alice, THU_10 + 120, 0).denial(),
        Some(&Denial::Credential(CredError::Revoked))
    );
    // Re-installing the older list would un-revoke: refused, revocation stands.
    assert_eq!(
        c.authority.install_status_list(&monday, 1024),
        Err(CredError::StaleStatusList)
    );
    // The same list again changes nothing; another one with its iat is refused.
    assert_eq!(c.authority.install_status_list(&revoked, 1024), Ok(()));
    assert_eq!(
        c.authority.install_status_list(&c.status_list(None, THU_10 + 60), 1024),
        Err(CredError::StatusListConflict)
    );
    assert_eq!(
        c.decide(&token, &alice, THU_10 + 120, 0).denial(),
        Some(&Denial::Credential(CredError::Revoked))
    );
}

#[test]
fn held_status_list_iats_survive_a_restart() {
    let mut c = city_with("1.2.0", false, false);
    let store = SharedStore::default();
    c.authority = c.restart(&store);
    let old = c.status_list(None, THU_10);
    let new = c.status_list(Some(3), THU_10 + 60);
    c.authority.install_status_list(&new, 1024).unwrap();
    c.authority = c.restart(&store);
    assert_eq!(
        c.authority.install_status_list(&old, 1024),
        Err(CredError::StaleStatusList)
    );
    assert_eq!(c.authority.install_status_list(&new, 1024), Ok(()));
}

#[test]
fn a_controller_restarted_from_its_state_file_refuses_the_old_bundle() {
    use citysec::std_adapters::state::FileStateStore;
    let c = city_with("1.2.0", false, false);
    let dir = tempfile::tempdir().unwrap();
    let open = || {
        authority(&c.issuer, &c.attest_signer, &c.policy_key)
            .scope(SCOPE)
            .with_store(Box::new(FileStateStore::open(dir.path()).unwrap()))
            .unwrap()
    };
    let mut door = open();
    assert_eq!(door.install_policy(&c.bundle("", 1)), Ok(1));
    assert_eq!(door.install_policy(&c.bundle(LOCKDOWN, 2)), Ok(2));
    drop(door);
    let mut door = open();
    assert_eq!(door.policy_version(), Some(2));
    assert_eq!(
        door.install_policy(&c.bundle("", 1)),
        Err(BundleError::Rollback { held: 2, version: 1 })
    );
    assert_eq!(door.install_policy(&c.bundle(LOCKDOWN, 2)), Ok(2));
}

/// A signer for a test key, through the pure-Rust provider.
fn soft(key: SigningKey) -> Box<dyn Signer> {
    citysec::rustcrypto::PROVIDER.signer(key).unwrap()
}

#[test]
fn request_facts_build_the_policy_request_from_verified_data_only() {
    let c = city();
    let alice = holder(10);
    let token = c.credential("alice", &["staff"], &alice, 0);
    let credentials = Verifier::new(&citysec::rustcrypto::PROVIDER)
        .trust(c.issuer.iss(), c.issuer.verifying_key())
        .unwrap()
        .audience("city-doors");
    // The city's issuer signs its own status lists.
    let list = c
        .statuses
        .sign(&c.issuer, STATUS_URI, at(THU_10), at(THU_10 + 86_400), None)
        .unwrap();
    let lists = [credentials
        .status_list_signers()
        .verify_status_list(&list, 1024)
        .unwrap()];
    let credential = credentials.verify(&token, at(THU_10), &lists).unwrap();
    let schema = citysec::policy::Schema::parse(SCHEMA, &PolicyLimits::DEFAULT).unwrap();
    let policy = citysec::policy::compile(&schema, POLICY, &PolicyLimits::DEFAULT)
        .unwrap()
        .policy;
    let time = LocalTime::at(at(THU_10), 0);
    let decide = |facts: &citysec::door::RequestFacts<'_>| {
        let mut request = policy.request();
        facts.fill(&mut request, &policy).unwrap();
        let response = request.evaluate();
        (
            response.decision(),
            response.rules().map(String::from).collect::<Vec<_>>(),
        )
    };
    // Without a trusted device, context.device_trust stays unset: the staff rule
    // that reads it errors, so the request is denied.
    let no_device = citysec::door::RequestFacts::new(&c.door, &credential, None, time, 0);
    assert_eq!(decide(&no_device), (Decision::Deny, vec![]));
    // With the controller's verified attestation result, the same rule permits.
    let device = c
        .authority
        .trust_device(DeviceResult::Citysec(&c.device_result), &DOOR_UEID, at(THU_10))
        .unwrap();
    let with_device = citysec::door::RequestFacts::new(&c.door, &credential, Some(&device), time, 0);
    assert_eq!(
        decide(&with_device),
        (Decision::Allow, vec!["staff-office-hours".to_owned()])
    );
    // Security staff need no device trust in this policy.
    let sam = holder(11);
    let token = c.credential("sam", &["security"], &sam, 1);
    let security = credentials.verify(&token, at(THU_10), &lists).unwrap();
    let facts = citysec::door::RequestFacts::new(&c.door, &security, None, time, 0);
    assert_eq!(decide(&facts), (Decision::Allow, vec!["security-any-time".to_owned()]));
}

type Log = SharedAuditor<RamStore, RamSideTable>;

/// An auditor for door `lobby-east` keeping at most `max_records` records.
fn auditor(max_records: usize) -> Arc<Log> {
    let log = ControllerLog::new(
        "lobby-east.city.example/log",
        RamStore::new(max_records, 1 << 20),
        WhenFull::Deny,
    )
    .unwrap();
    let a = Auditor::new(
        log,
        RamSideTable::new(1024),
        "lobby-east",
        &citysec::rustcrypto::PROVIDER,
        [9; 32],
        Box::new(citysec::std_adapters::OsRandom),
        Box::new(FixedClock(at(THU_10))),
    )
    .unwrap();
    Arc::new(SharedAuditor::new(a))
}

/// Every record the auditor's store holds, decoded.
fn records(log: &Log) -> Vec<Record> {
    log.with(|a| {
        let store = a.log().store();
        (store.first()..a.log().size())
            .map(|i| Record::from_cbor(store.get(i).unwrap()).unwrap())
            .collect()
    })
}

#[test]
fn every_decision_and_installation_is_recorded_with_personal_fields_committed() {
    let log = auditor(64);
    let c = city_audited("1.2.0", false, true, Some(log.clone()));
    let alice = holder(10);
    let mallory = holder(66);
    let cred = c.credential("alice", &["staff"], &alice, 0);
    let allowed = c.decide(&cred, &alice, THU_10, 0);
    assert!(allowed.is_allowed());
    let cloned = c.decide(&cred, &mallory, THU_10, 0);
    let at_night = c.decide(&cred, &alice, THU_10 + 10 * 3600, 0);
    assert_eq!(at_night.denial().unwrap().step(), Step::Device);

    let r = records(&log);
    let kinds: Vec<Kind> = r.iter().map(Record::kind).collect();
    assert_eq!(
        kinds,
        [
            Kind::StatusList,
            Kind::PolicyBundle,
            Kind::DoorDecision,
            Kind::CredentialRefused,
            Kind::DoorDecision
        ]
    );
    // The installations: the status list's issuer and iat, the bundle's version.
    assert_eq!(r[0].outcome(), Some(Outcome::Allow));
    assert_eq!(r[0].issuer(), Some("https://city.example"));
    assert_eq!(r[0].number(), Some(THU_10));
    assert_eq!((r[1].number(), r[1].outcome()), (Some(1), Some(Outcome::Allow)));
    // The allow, with every field, at the request's time.
    let d = &r[2];
    assert_eq!(d.time(), THU_10);
    assert_eq!(d.source(), "lobby-east");
    assert_eq!(d.door(), Some("lobby-east"));
    assert_eq!(d.outcome(), Some(Outcome::Allow));
    assert_eq!(d.step(), Some("policy"));
    assert_eq!(d.rule(), Some("staff-office-hours"));
    assert_eq!(d.reason(), None);
    assert_eq!(d.issuer(), Some("https://city.example"));
    assert_eq!(d.device(), Some("01d00f00000001"));
    // The subject is a commitment the side table opens, to "alice".
    let subject = *d.subject().unwrap();
    log.with(|a| {
        let disclosure = a.side_table().get(2, PersonalField::Subject).unwrap();
        assert_eq!(disclosure.value(), "alice");
        assert!(subject.is_opened_by(disclosure));
    });
    assert!(!String::from_utf8_lossy(&records_bytes(&log, 2)).contains("alice"));
    // The cloned credential: refused at the credential step, nothing of it kept.
    assert_eq!(r[3].door(), Some("lobby-east"));
    assert_eq!(r[3].reason(), Some(cloned.denial().unwrap().to_string().as_str()));
    assert_eq!(r[3].subject(), None);
    // At night the device result had expired: a denial at the device step,
    // after the credential verified.
    assert_eq!(r[4].outcome(), Some(Outcome::Deny));
    assert_eq!(r[4].step(), Some("device"));
    assert_eq!(r[4].reason(), Some(at_night.denial().unwrap().to_string().as_str()));
    assert_eq!(r[4].device(), None);
    assert!(r[4].subject().is_some());
}

fn records_bytes(log: &Log, index: u64) -> Vec<u8> {
    log.with(|a| a.log().store().get(index).unwrap().to_vec())
}

#[test]
fn erasing_a_person_keeps_every_proof_valid() {
    let log = auditor(64);
    let c = city_audited("1.2.0", false, true, Some(log.clone()));
    let alice = holder(10);
    let cred = c.credential("alice", &["staff"], &alice, 0);
    assert!(c.decide(&cred, &alice, THU_10, 0).is_allowed());
    assert!(c.decide(&cred, &alice, THU_10 + 60, 0).is_allowed());
    let leaves: Vec<_> = (0..4).map(|i| merkle::leaf_hash(&records_bytes(&log, i))).collect();
    let root = log.with(|a| a.log().root());
    assert_eq!(merkle::root(&leaves), root);

    assert_eq!(log.with(|a| a.side_table_mut().erase_value("alice")), 2);
    log.with(|a| {
        assert!(a.side_table().get(2, PersonalField::Subject).is_none());
        assert!(a.side_table().get(3, PersonalField::Subject).is_none());
    });
    // Nothing in the log changed: the record, its proof and the root stand.
    let proof = merkle::inclusion_proof(&leaves, 2).unwrap();
    merkle::verify_inclusion(2, 4, &merkle::leaf_hash(&records_bytes(&log, 2)), &proof, &root).unwrap();
    // The pseudonym still links her two records.
    let r = records(&log);
    assert_eq!(r[2].subject().unwrap().pseudonym(), r[3].subject().unwrap().pseudonym());
    assert_ne!(
        r[2].subject().unwrap().commitment(),
        r[3].subject().unwrap().commitment()
    );
}

#[test]
fn a_full_log_turns_an_allow_into_a_denial_and_leaves_denials_as_they_were() {
    // Room for the status list, the bundle and one decision.
    let log = auditor(3);
    let c = city_audited("1.2.0", false, true, Some(log.clone()));
    let alice = holder(10);
    let cred = c.credential("alice", &["staff"], &alice, 0);
    assert!(c.decide(&cred, &alice, THU_10, 0).is_allowed());
    let d = c.decide(&cred, &alice, THU_10, 0);
    assert_eq!(d.denial(), Some(&Denial::Audit(AuditError::Full)));
    assert_eq!(d.denial().unwrap().step(), Step::Audit);
    let steps: Vec<_> = d.checks().iter().map(|c| (c.step, c.passed)).collect();
    assert_eq!(
        steps,
        [
            (Step::Credential, true),
            (Step::Schedule, true),
            (Step::Device, true),
            (Step::Policy, true),
            (Step::Audit, false)
        ]
    );
    // A denial stays the denial it was.
    let night = c.decide(&cred, &alice, THU_2330, 0);
    assert_eq!(night.denial().unwrap().step(), Step::Device);
    // Both are counted as dropped.
    assert_eq!(log.with(|a| a.log().dropped()), 2);
}

#[test]
fn refused_installations_are_recorded_and_an_unrecorded_bundle_does_not_take_effect() {
    let log = auditor(5);
    let mut c = city_audited("1.2.0", false, true, Some(log.clone()));
    let v2 = c.bundle(LOCKDOWN, 2);
    assert_eq!(c.authority.install_policy(&v2), Ok(2));
    let v1 = c.bundle("", 1);
    assert!(c.authority.install_policy(&v1).is_err());
    let old = c.status_list(None, THU_10 - 60);
    assert_eq!(
        c.authority.install_status_list(&old, 1024),
        Err(CredError::StaleStatusList)
    );
    let r = records(&log);
    assert_eq!(r.len(), 5);
    assert_eq!(
        (r[2].kind(), r[2].number(), r[2].outcome()),
        (Kind::PolicyBundle, Some(2), Some(Outcome::Allow))
    );
    assert_eq!(
        (r[3].kind(), r[3].number(), r[3].outcome()),
        (Kind::PolicyBundle, Some(1), Some(Outcome::Deny))
    );
    assert_eq!(
        r[3].reason(),
        Some(BundleError::Rollback { held: 2, version: 1 }.to_string().as_str())
    );
    assert_eq!(
        (r[4].kind(), r[4].outcome(), r[4].issuer()),
        (Kind::StatusList, Some(Outcome::Deny), None)
    );
    assert_eq!(r[4].reason(), Some(CredError::StaleStatusList.to_string().as_str()));

    // The log is full: a newer bundle is not put into force.
    let v3 = c.bundle("", 3);
    assert_eq!(
        c.authority.install_policy(&v3),
        Err(BundleError::Audit(AuditError::Full))
    );
    let alice = holder(10);
    let staff = c.credential("alice", &["staff"], &alice, 0);
    assert_eq!(
        c.decide(&staff, &alice, THU_10, 3).denial(),
        Some(&Denial::Policy(Reason::Forbidden)),
        "v2 (lockdown) stays in force"
    );
}

/// An EAR as an external verifier (Veraison) writes one for the door's
/// controller: profile, iat, verifier id, the `door-ctl` appraisal of `status`,
/// and `extra` claims; signed by `key`.
fn external_ear(key: &dyn Signer, status: u64, t: u64, extra: Vec<(Value, Value)>) -> Vec<u8> {
    let appraisal = Value::Map(vec![(Value::from(1000), Value::from(status))]);
    let mut claims = vec![
        (Value::from(265), Value::Text("tag:ietf.org,2026:rats/ear#04".into())),
        (Value::from(6), Value::from(t)),
        (
            Value::from(1004),
            Value::Map(vec![
                (Value::from(0), Value::Text("https://veraison.example".into())),
                (Value::from(1), Value::Text("ear 0.6.0".into())),
            ]),
        ),
        (
            Value::from(266),
            Value::Map(vec![(Value::Text("door-ctl".into()), appraisal)]),
        ),
    ];
    claims.extend(extra);
    let mut payload = Vec::new();
    citysec::core::coset::cbor::ser::into_writer(&Value::Map(claims), &mut payload).unwrap();
    citysec::core::sign1::sign(key, &payload, b"").unwrap()
}

#[test]
fn an_external_ear_attests_the_controller_only_where_its_verifier_is_trusted() {
    let mut c = city();
    let alice = holder(10);
    let credential = c.credential("alice", &["staff"], &alice, 0);
    let veraison = soft(SigningKey::ed25519(&[9; 32]));
    let nonce = [0x6b; 16];
    let with_nonce = |n: &[u8]| vec![(Value::from(10), Value::Bytes(n.to_vec()))];
    let affirming = external_ear(&*veraison, 2, THU_10 - 5, with_nonce(&nonce));
    let external = |token| DeviceResult::External {
        token,
        nonce: Some(&nonce),
    };

    // A door that trusts no external verifier denies it.
    let d = c.decide_with(&credential, &alice, THU_10, 0, external(&affirming));
    assert_eq!(d.denial(), Some(&Denial::NoExternalVerifier));
    assert_eq!(d.denial().unwrap().step(), Step::Device);

    // Trusting Veraison's key, with its EARs' shape: no aud, no exp (5 minutes
    // from iat), the device bound by the door's nonce.
    let policy = ExternalEarPolicy::new("door-controllers", "door-ctl")
        .with_audience(AudienceRule::IfPresent("door-controllers".into()))
        .with_expiry(ExpiryRule::MaxAge(300));
    let anchor =
        ExternalEarVerifier::new(&citysec::rustcrypto::PROVIDER, veraison.verifying_key().clone(), policy).unwrap();
    c.authority = authority(&c.issuer, &c.attest_signer, &c.policy_key)
        .scope(SCOPE)
        .trust_external_attestation(anchor);
    let list = c
        .statuses
        .sign(&c.issuer, STATUS_URI, at(THU_10), at(THU_10 + 86_400), None)
        .unwrap();
    c.authority.install_status_list(&list, 1024).unwrap();
    let v1 = c.bundle("", 1);
    assert_eq!(c.authority.install_policy(&v1), Ok(1));

    let d = c.decide_with(&credential, &alice, THU_10, 0, external(&affirming));
    assert_eq!(d.decision(), Decision::Allow, "{d}");
    assert_eq!(
        d.checks()[2].detail,
        "controller of `lobby-east` is affirming (result from `https://veraison.example`)"
    );
    // The citysec result still works beside it.
    assert_eq!(c.decide(&credential, &alice, THU_10, 0).decision(), Decision::Allow);

    let denial = |token: &[u8], nonce: Option<&[u8]>| {
        c.decide_with(&credential, &alice, THU_10, 0, DeviceResult::External { token, nonce })
            .denial()
            .cloned()
    };
    // Contraindicated.
    let bad = external_ear(&*veraison, 96, THU_10 - 5, with_nonce(&nonce));
    assert_eq!(
        denial(&bad, Some(&nonce)),
        Some(Denial::DeviceNotTrusted(Tier::Contraindicated))
    );
    // Another nonce; no nonce and no ueid; another controller's ueid.
    assert_eq!(
        denial(&affirming, Some(&[0x11; 16])),
        Some(Denial::DeviceResult(AttestError::External(
            ExternalError::NonceMismatch
        )))
    );
    let unbound = external_ear(&*veraison, 2, THU_10 - 5, vec![]);
    assert_eq!(
        denial(&unbound, None),
        Some(Denial::DeviceResult(AttestError::External(
            ExternalError::MissingDeviceBinding
        )))
    );
    let other = external_ear(
        &*veraison,
        2,
        THU_10 - 5,
        vec![(Value::from(256), Value::Bytes(vec![0x01, 0xd0, 0x0f, 0, 0, 0, 2]))],
    );
    assert_eq!(denial(&other, None), Some(Denial::WrongDevice));
    // A device appraisal without a status, another submodule affirming: the
    // overall status is `none`, not trusted.
    let mut no_status_claims = Vec::new();
    citysec::core::coset::cbor::ser::into_writer(
        &Value::Map(vec![
            (Value::from(265), Value::Text("tag:ietf.org,2026:rats/ear#04".into())),
            (Value::from(6), Value::from(THU_10 - 5)),
            (
                Value::from(1004),
                Value::Map(vec![
                    (Value::from(0), Value::Text("https://veraison.example".into())),
                    (Value::from(1), Value::Text("ear 0.6.0".into())),
                ]),
            ),
            (
                Value::from(266),
                Value::Map(vec![
                    (Value::Text("door-ctl".into()), Value::Map(vec![])),
                    (
                        Value::Text("modem".into()),
                        Value::Map(vec![(Value::from(1000), Value::from(2))]),
                    ),
                ]),
            ),
            (Value::from(10), Value::Bytes(nonce.to_vec())),
        ]),
        &mut no_status_claims,
    )
    .unwrap();
    let no_status = citysec::core::sign1::sign(&*veraison, &no_status_claims, b"").unwrap();
    assert_eq!(
        denial(&no_status, Some(&nonce)),
        Some(Denial::DeviceNotTrusted(Tier::None))
    );
    // Older than five minutes.
    let old = external_ear(&*veraison, 2, THU_10 - 301, with_nonce(&nonce));
    assert_eq!(
        denial(&old, Some(&nonce)),
        Some(Denial::DeviceResult(AttestError::External(ExternalError::TooOld)))
    );
    // Each kind of result only through its own path: a citysec result as an
    // external EAR fails the external key; an external EAR as a citysec result
    // fails the citysec verifier.
    assert_eq!(
        denial(&c.device_result, Some(&nonce)),
        Some(Denial::DeviceResult(AttestError::Core(CoreError::BadSignature)))
    );
    let d = c.decide_with(&credential, &alice, THU_10, 0, DeviceResult::Citysec(&affirming));
    assert!(
        matches!(d.denial(), Some(Denial::DeviceResult(AttestError::Credential(_)))),
        "{d}"
    );
}
