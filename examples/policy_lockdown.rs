//! A lockdown pushed as a signed policy bundle. The city's policy is compiled once,
//! signed as bundle v1 and loaded by a controller; decisions come with the rules
//! that made them and an explanation. Then the city pushes v2 with a lockdown rule;
//! an attacker replaying v1 to lift the lockdown is refused.
//!
//! Run: `cargo run --example policy_lockdown`

use citysec::core::SigningKey;
use citysec::core::state::{MemoryStateStore, StateStore as _};
use citysec::policy::bundle::PolicySigners;
use citysec::policy::bundle::{self, BundleError, BundleSource, LoadOptions};
use citysec::policy::{Decision, PolicyLimits, PolicySet, Reason, Value, Weekday};
use citysec::rustcrypto::PROVIDER;
use citysec_examples::THU_10;

/// The site this controller belongs to: bundles are signed for it.
const SITE: &str = "site:city-hall";

const SCHEMA: &str = r"
action open;
resource door;
subject.roles: set<string>;
resource.zone: string;
context.weekday: weekday;
context.hour: int;
context.threat_level: int;
";
const RULES: &str = r#"
permit "staff-office-hours"
  action open on door
  when subject.roles has "staff"
   and resource.zone in ["lobby", "office"]
   and context.weekday in mon..fri and context.hour in 7..19;

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

/// Decides `roles` opening a lobby door on Tuesday 09:00 at `threat`; prints the
/// explanation when `explain`.
fn decide(
    policy: &PolicySet,
    roles: &[&str],
    threat: i64,
    explain: bool,
) -> Result<(Decision, Reason, Vec<String>), Box<dyn core::error::Error>> {
    let attr = |name: &str| policy.attribute(name).ok_or_else(|| format!("schema lacks {name}"));
    let mut req = policy.request();
    req.set_action(policy.action("open"))?
        .set_resource_type(policy.resource_type("door"))?
        .set(attr("subject.roles")?, Value::StringSet(roles))?
        .set(attr("resource.zone")?, Value::String("lobby"))?
        .set(attr("context.weekday")?, Value::Weekday(Weekday::Tue))?
        .set(attr("context.hour")?, Value::Int(9))?
        .set(attr("context.threat_level")?, Value::Int(threat))?;
    let response = req.evaluate();
    let out = (
        response.decision(),
        response.reason(),
        response.rules().map(String::from).collect(),
    );
    if explain {
        println!("{}", req.explain());
    }
    Ok(out)
}

fn main() -> Result<(), Box<dyn core::error::Error>> {
    let signer = PROVIDER.signer(SigningKey::ed25519(&[0x30; 32]).with_kid(*b"policy-2026"))?;
    let trusted = PolicySigners::from_keys(&PROVIDER, [signer.verifying_key().clone()])?;
    let sign = |policy: &str, version: u64| {
        let src = BundleSource {
            schema: SCHEMA,
            policy,
            version,
            issued_at: THU_10,
            scope: SITE,
        };
        bundle::create(&*signer, &src, &PolicyLimits::DEFAULT)
    };
    // The controller accepts bundles signed for its site only, and keeps the
    // version it holds in a store (in memory here; redb or a file on a real
    // controller, see citysec-std), written before a new bundle takes effect.
    let opts = LoadOptions::default().scoped(SITE);
    let mut store = MemoryStateStore::new();

    // Normal operation: bundle v1.
    let v1 = sign(RULES, 1)?;
    let loaded = bundle::load_held(&trusted, &v1, &opts, &mut store)?;
    let policy = loaded.into_policy();
    println!("v1 loaded: {} rules, {} bytes signed", policy.len(), v1.len());
    for (roles, threat) in [(&["staff"][..], 0), (&["visitor"][..], 0)] {
        let (decision, reason, rules) = decide(&policy, roles, threat, false)?;
        println!("  {roles:?} at threat {threat}: {decision:?} ({reason:?}) {rules:?}");
    }
    assert_eq!(
        decide(&policy, &["staff"], 3, false)?.0,
        Decision::Allow,
        "v1 has no lockdown rule"
    );

    // The city raises the threat level and pushes v2 with the lockdown rule.
    let v2 = sign(&format!("{RULES}{LOCKDOWN}"), 2)?;
    let loaded = bundle::load_held(&trusted, &v2, &opts, &mut store)?;
    let policy = loaded.into_policy();
    println!("v2 loaded: {} rules", policy.len());
    let staff = decide(&policy, &["staff"], 3, true)?;
    println!("  staff at threat 3: {:?} ({:?}) {:?}", staff.0, staff.1, staff.2);
    assert_eq!(staff, (Decision::Deny, Reason::Forbidden, vec!["lockdown".to_owned()]));
    let guard = decide(&policy, &["security"], 3, false)?;
    println!("  security at threat 3: {:?} {:?}", guard.0, guard.2);
    assert_eq!(guard.0, Decision::Allow);

    // An attacker replays the signed v1 to lift the lockdown.
    let rollback = bundle::load_held(&trusted, &v1, &opts, &mut store);
    let err = rollback.err().ok_or("v1 was accepted over v2")?;
    println!("v1 replayed: {err}");
    assert_eq!(err, BundleError::Rollback { held: 2, version: 1 });
    assert_eq!(store.bundle()?.map(|h| h.version), Some(2));

    // A bundle v3 signed for another site (without the lockdown) is refused too.
    let elsewhere = bundle::create(
        &*signer,
        &BundleSource {
            schema: SCHEMA,
            policy: RULES,
            version: 3,
            issued_at: THU_10,
            scope: "site:depot-north",
        },
        &PolicyLimits::DEFAULT,
    )?;
    let err = bundle::load_held(&trusted, &elsewhere, &opts, &mut store)
        .err()
        .ok_or("a bundle for another site was accepted")?;
    println!("v3 for another site: {err}");
    assert!(matches!(err, BundleError::ScopeMismatch { .. }));
    Ok(())
}
