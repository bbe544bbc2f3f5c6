//! A door controller decides offline. The back office issues a credential bound to
//! the holder's phone key, a status list and a signed policy bundle; the controller
//! holds only public keys. At the door, the reader challenges the phone, the phone
//! presents, and `DoorAuthority::decide` checks credential, presentation, the
//! credential's own schedule, the controller's own attestation and the policy
//! (signed for this site), in that order.
//!
//! Run: `cargo run --example door_access_offline`

#![allow(clippy::arithmetic_side_effects, reason = "example times are small constants")]

use citysec::core::SigningKey;
use citysec::credential::{Challenge, Claims, Confirmation, Issuer, StatusList, StatusRef, Verifier, present};
use citysec::door::{Denial, DeviceResult, Door, DoorAuthority, DoorRequest, LocalTime};
use citysec::policy::PolicyLimits;
use citysec::policy::bundle::PolicySigners;
use citysec::policy::bundle::{self, BundleSource};
use citysec::rustcrypto::PROVIDER;
use citysec_examples::{ExampleRng, THU_10, at, onboard};

const UEID: [u8; 7] = [0x01, 0xd0, 0x02, 0x00, 0x00, 0x00, 0x07];
const STATUS: &str = "https://id.city.example/status/7";

fn main() -> Result<(), Box<dyn core::error::Error>> {
    let now = at(THU_10);

    // Back office: the issuer, alice's phone key, her credential, the status list, the policy.
    let issuer = Issuer::new(
        "https://id.city.example",
        PROVIDER.signer(SigningKey::ed25519(&[0x10; 32]).with_kid(*b"city-1"))?,
    )?;
    let phone = PROVIDER.signer(SigningKey::ed25519(&[0x20; 32]).with_kid(*b"alice-phone"))?;
    let mut claims = Claims::new();
    claims.iss = Some(issuer.iss().into());
    claims.sub = Some("alice".into());
    claims.aud = vec!["city-doors".into()];
    claims.exp = Some(now.saturating_add(30 * 86_400));
    claims.roles = vec!["staff".into()];
    claims.cnf = Some(Confirmation::Key(phone.verifying_key().clone()));
    claims.status = Some(StatusRef {
        idx: 0,
        uri: STATUS.into(),
    });
    let credential = issuer.issue(&claims)?;
    let status_list = StatusList::new(1, 64)?.sign(&issuer, STATUS, now, now.saturating_add(86_400), None)?;
    let policy_key = PROVIDER.signer(SigningKey::ed25519(&[0x30; 32]).with_kid(*b"policy-1"))?;
    let policy = bundle::create(
        &*policy_key,
        &BundleSource {
            schema: "action open; resource door; subject.roles: set<string>; context.hour: int;",
            policy: r#"permit "staff-daytime" action open on door when subject.roles has "staff" and context.hour in 7..19;"#,
            version: 1,
            issued_at: THU_10,
            scope: "site:lab-campus",
        },
        &PolicyLimits::DEFAULT,
    )?;
    println!(
        "issued: credential {} B, status list {} B, policy bundle {} B",
        credential.len(),
        status_list.len(),
        policy.len()
    );

    // The controller: it was onboarded by attestation and holds its own result.
    let onboarded = onboard(&UEID, now)?;
    let credentials = Verifier::new(&PROVIDER)
        .trust(issuer.iss(), issuer.verifying_key())?
        .audience("city-doors");
    let mut controller = DoorAuthority::new(
        credentials,
        onboarded.results_verifier,
        PolicySigners::from_keys(&PROVIDER, [policy_key.verifying_key().clone()])?,
    )
    // Bundles for this site only; a real controller also gives `with_store` a
    // store that survives a restart (citysec-std: redb or a file).
    .scope("site:lab-campus");
    controller.install_status_list(&status_list, 1024)?;
    controller.install_policy(&policy)?;
    let door = Door::new("lab-2-west", "lab", UEID);

    // At the door: a fresh challenge, the phone's presentation, the decision.
    let mut rng = ExampleRng(42);
    let clone = PROVIDER.signer(SigningKey::ed25519(&[0x66; 32]).with_kid(*b"alice-phone"))?;
    for (who, key, hour) in [("alice", &phone, 10), ("alice", &phone, 22), ("a clone", &clone, 10)] {
        let t = at(THU_10 - 10 * 3600 + hour * 3600);
        let challenge = Challenge::new(&mut rng, door.id(), t)?;
        let presentation = present(&**key, &credential, &challenge)?;
        let decision = controller.decide(&DoorRequest {
            door: &door,
            presentation: &presentation,
            challenge: &challenge,
            device_result: DeviceResult::Citysec(&onboarded.result),
            now: t,
            local_time: LocalTime::at(t, 0),
            threat_level: 0,
        });
        println!("{who} at {hour}:00 -> {decision}");
        for check in decision.checks() {
            println!("    {}: {}", check.step.name(), check.detail);
        }
        match (who, hour) {
            ("alice", 10) => assert!(decision.is_allowed()),
            ("alice", _) => assert_eq!(
                decision.denial(),
                Some(&Denial::Policy(citysec::policy::Reason::NoPermit))
            ),
            _ => assert_eq!(
                decision.denial(),
                Some(&Denial::Credential(citysec::credential::Error::Core(
                    citysec::core::Error::BadSignature
                )))
            ),
        }
    }
    Ok(())
}
