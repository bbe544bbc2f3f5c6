//! Door decisions: every step, every denial, with exact outcomes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, reason = "tests")]

use citysec::attest::{
    Appraiser, Challenge as NonceChallenge, DebugStatus, Endorsement, EvidenceBuilder, Freshness, MemoryNonceStore,
    ReferenceSet, ReferenceValues, Tier,
};
use citysec::core::{
    Error as CoreError, KeySet, RandomSource, Result as CoreResult, RustCrypto, SigningKey, Timestamp,
};
use citysec::credential::{
    Challenge, Claims, Confirmation, Error as CredError, Issuer, StatusList, StatusRef, Verifier,
};
use citysec::door::{Denial, Door, DoorAuthority, DoorRequest, LocalTime, Step};
use citysec::policy::bundle::{self, BundleError, BundleSource};
use citysec::policy::{Decision, PolicyLimits, Reason, RequestError, Weekday};

/// Thursday 2026-11-26 10:00 UTC.
const THU_10: u64 = 1_795_687_200;
/// Thursday 2026-11-26 23:30 UTC.
const THU_2330: u64 = 1_795_735_800;
const DOOR_UEID: [u8; 7] = [0x01, 0xd0, 0x0f, 0x00, 0x00, 0x00, 0x01];
const BOOT: [u8; 32] = [0x5a; 32];
const STATUS_URI: &str = "https://city.example/status/1";

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
    let factory = Issuer::new("https://oem.example", SigningKey::ed25519(&[1; 32]).with_kid(*b"oem-1")).unwrap();
    let device_key = SigningKey::ed25519(&[2; 32]).with_kid(*b"dev-1");
    let endorsement = Endorsement::new(ueid.to_vec(), device_key.verifying_key(), *b"door-ctl-2")
        .unwrap()
        .issue(&factory, &RustCrypto, at(THU_10), at(THU_10 + 86_400 * 365))
        .unwrap();
    let signer = Issuer::new("https://attest.example", signer_key()).unwrap();
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
    let manufacturers = Verifier::new()
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
        .sign(&RustCrypto, &device_key, &mut buf)
        .unwrap();
    let appraisal = appraiser
        .appraise(
            &RustCrypto,
            &endorsement,
            &buf[..len],
            Freshness::Nonce(&mut nonces),
            now,
        )
        .unwrap();
    (
        appraisal.token,
        Issuer::new("https://attest.example", signer_key()).unwrap(),
    )
}

fn city() -> City {
    city_with("1.2.0", false, true)
}

/// A city whose door controller runs `version`; `lenient` accepts device warnings.
fn city_with(version: &str, lenient: bool, with_policy: bool) -> City {
    let issuer = Issuer::new(
        "https://city.example",
        SigningKey::ed25519(&[4; 32]).with_kid(*b"city-1"),
    )
    .unwrap();
    let policy_key = SigningKey::ed25519(&[5; 32]).with_kid(*b"policy-1");
    let (device_result, attest_signer) = attest(&DOOR_UEID, BOOT, version, THU_10);
    let credentials = Verifier::new()
        .trust(issuer.iss(), issuer.verifying_key())
        .unwrap()
        .audience("city-doors");
    let attestation = Verifier::new()
        .trust(attest_signer.iss(), attest_signer.verifying_key())
        .unwrap()
        .audience("door-controllers");
    let keys = KeySet::from_keys([policy_key.verifying_key()]).unwrap();
    let mut authority = DoorAuthority::new(credentials, attestation, keys).accept_device_warnings(lenient);
    let statuses = StatusList::new(1, 16).unwrap();
    let list = statuses
        .sign(&RustCrypto, &issuer, STATUS_URI, at(THU_10), at(THU_10 + 86_400), None)
        .unwrap();
    authority.install_status_list(&RustCrypto, &list, 1024).unwrap();
    let mut c = City {
        issuer,
        policy_key,
        authority,
        door: Door::new("lobby-east", "lobby", DOOR_UEID),
        device_result,
        statuses,
    };
    if with_policy {
        let v1 = c.bundle("", 1);
        assert_eq!(c.authority.install_policy(&RustCrypto, &v1), Ok(1));
    }
    c
}

impl City {
    /// The city policy plus `extra` rules, signed as `version`.
    fn bundle(&self, extra: &str, version: u64) -> Vec<u8> {
        let policy = format!("{POLICY}{extra}");
        let src = BundleSource {
            schema: SCHEMA,
            policy: &policy,
            version,
            issued_at: THU_10,
        };
        bundle::create(&RustCrypto, &self.policy_key, &src, &PolicyLimits::DEFAULT).unwrap()
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
        claims.cnf = Some(Confirmation::Key(holder.verifying_key()));
        claims.status = Some(StatusRef {
            idx,
            uri: STATUS_URI.into(),
        });
        self.issuer.issue(&RustCrypto, &claims).unwrap()
    }

    /// The decision for `credential` presented by `signer` at `t`, threat level `threat`.
    fn decide(&self, credential: &[u8], signer: &SigningKey, t: u64, threat: i64) -> citysec::door::DoorDecision {
        let challenge = Challenge::from_parts([7; 32], "lobby-east", at(t));
        let presentation = citysec::credential::present(&RustCrypto, signer, credential, &challenge).unwrap();
        self.authority.decide(
            &RustCrypto,
            &DoorRequest {
                door: &self.door,
                presentation: &presentation,
                challenge: &challenge,
                device_result: &self.device_result,
                now: at(t),
                local_time: LocalTime::at(at(t), 0),
                threat_level: threat,
            },
        )
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
        [(Step::Credential, true), (Step::Device, true), (Step::Policy, true)]
    );
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
    assert_eq!(d.checks().len(), 3);
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
        .sign(
            &RustCrypto,
            &c.issuer,
            STATUS_URI,
            at(THU_10),
            at(THU_10 + 86_400),
            None,
        )
        .unwrap();
    c.authority.install_status_list(&RustCrypto, &list, 1024).unwrap();
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
    let presentation = citysec::credential::present(&RustCrypto, &alice, &token, &challenge).unwrap();
    let d = c.authority.decide(
        &RustCrypto,
        &DoorRequest {
            door: &c.door,
            presentation: &presentation,
            challenge: &challenge,
            device_result: &c.device_result,
            now: at(THU_10),
            local_time: LocalTime::at(at(THU_10), 0),
            threat_level: 0,
        },
    );
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
    assert_eq!(d.checks().iter().map(|c| c.passed).collect::<Vec<_>>(), [true, false]);

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
        [true, true, false]
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
    assert_eq!(c.authority.install_policy(&RustCrypto, &v2), Ok(2));
    let d = c.decide(&staff, &alice, THU_10, 3);
    assert_eq!(d.denial(), Some(&Denial::Policy(Reason::Forbidden)));
    assert_eq!(d.rules(), ["lockdown"]);
    assert_eq!(c.decide(&security, &bob, THU_10, 3).rules(), ["security-any-time"]);
    // Threat level back to normal: staff may enter again under v2.
    assert!(c.decide(&staff, &alice, THU_10, 0).is_allowed());

    // The old bundle (v1) cannot come back; v2 stays in force.
    let v1 = c.bundle("", 1);
    assert_eq!(
        c.authority.install_policy(&RustCrypto, &v1),
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
    };
    let forged = bundle::create(&RustCrypto, &rogue, &src, &PolicyLimits::DEFAULT).unwrap();
    assert_eq!(
        c.authority.install_policy(&RustCrypto, &forged),
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
    assert!(d.checks()[1].detail.contains("warning"), "{}", d.checks()[1].detail);
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
        [(Step::Credential, true), (Step::Device, true), (Step::Policy, false)]
    );
    assert_eq!(
        d.checks()[2].detail,
        "policy: request refused: the schema declares no such action"
    );
    c.door = Door::new("lobby-east", "lobby", DOOR_UEID).resource_type("bench");
    assert_eq!(
        c.decide(&token, &alice, THU_10, 0).denial(),
        Some(&Denial::Request(RequestError::UnknownResourceType))
    );
}
