//! Makes the fixtures the firmware-door program verifies, and checks them.
//!
//! ```text
//! cargo run --release            # (re)write ../fixtures/*
//! cargo run --release -- --check # fail unless ../fixtures/* are what this makes
//! ```
//!
//! Ed25519 signatures are deterministic and the CBOR encoders are too, so the same
//! seeds give the same bytes: `--check` regenerates every fixture, compares it
//! with the committed file, then verifies the committed files on the host with the
//! same library calls and the same expected outcomes as the firmware.
//!
//! The seeds below are TEST KEYS, published here on purpose: never use them for
//! anything but these fixtures.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use citysec_attest::{EvidenceBuilder, UnverifiedEvidence};
use citysec_audit::merkle::{self, Hash, leaf_hash};
use citysec_audit::receipt::{Receipt, issue_inclusion};
use citysec_audit::record::{Kind, Outcome, Record};
use citysec_core::{SigningKey, Timestamp, VerifyingKey};
use citysec_credential::presentation::Challenge;
use citysec_credential::{Claims, Confirmation, CredentialKind, Error as CredentialError, Issuer, Verifier, present};
use citysec_policy::bundle::{self, BundleError, BundleSource, LoadOptions, PolicySigners};
use citysec_policy::{Decision, PolicyLimits, Value, Weekday};

#[allow(
    dead_code,
    reason = "the scenario file is shared with the firmware, which uses other parts"
)]
mod scenario {
    include!("../../scenario.rs");
}
use scenario::*;

/// TEST KEY: the issuer's Ed25519 seed.
const ISSUER_SEED: [u8; 32] = [0x11; 32];
/// TEST KEY: the credential holder's Ed25519 seed (the phone or badge).
const HOLDER_SEED: [u8; 32] = [0x22; 32];
/// TEST KEY: a key that is not the holder's (whoever cloned the credential).
const CLONER_SEED: [u8; 32] = [0x33; 32];
/// TEST KEY: the policy signer's Ed25519 seed.
const POLICY_SEED: [u8; 32] = [0x44; 32];
/// TEST KEY: the site log's receipt key (Ed25519 seed).
const SITE_LOG_SEED: [u8; 32] = [0x66; 32];

const SCHEMA: &str = "\
action open;
resource door;
subject.roles: set<string>;
resource.zone: string;
context.weekday: weekday;
context.hour: int;
context.threat_level: int;
";

const POLICY_V1: &str = r#"
permit "staff-office-hours"
  action open on door
  when subject.roles has "staff"
   and resource.zone in ["lobby", "office"]
   and context.weekday in mon..fri and context.hour in 7..19;
"#;

const POLICY_V2: &str = r#"
permit "staff-office-hours"
  action open on door
  when subject.roles has "staff"
   and resource.zone in ["lobby", "office"]
   and context.weekday in mon..fri and context.hour in 7..19;

forbid "lockdown"
  action * on *
  when context.threat_level >= 3
  unless subject.roles has "security";
"#;

type Failure = String;

fn fail(what: &str, e: impl std::fmt::Debug) -> Failure {
    format!("{what}: {e:?}")
}

/// Every fixture, by file name.
fn fixtures() -> Result<Vec<(&'static str, Vec<u8>)>, Failure> {
    let signer = |key| citysec_rustcrypto::PROVIDER.signer(key).map_err(|e| fail("key", e));
    let issuer = Issuer::new(ISSUER, signer(SigningKey::ed25519(&ISSUER_SEED).with_kid(ISSUER_KID))?)
        .map_err(|e| fail("issuer", e))?;
    let holder = signer(SigningKey::ed25519(&HOLDER_SEED).with_kid(*b"holder"))?;
    let cloner = signer(SigningKey::ed25519(&CLONER_SEED).with_kid(*b"holder"))?;
    let policy_signer = signer(SigningKey::ed25519(&POLICY_SEED).with_kid(POLICY_KID))?;

    let mut claims = Claims::new();
    claims.sub = Some("alice".into());
    claims.aud = vec![DOOR.into()];
    claims.exp = Some(Timestamp::from_unix_seconds(EXPIRES));
    claims.iat = Some(Timestamp::from_unix_seconds(ISSUED_AT));
    claims.cti = Some(b"cred-0001".to_vec());
    claims.cnf = Some(Confirmation::Key(holder.verifying_key().clone()));
    claims.roles = vec!["staff".into()];
    claims.zones = vec!["lobby".into(), "office".into()];
    claims.kind = Some(CredentialKind::Staff);
    let credential = issuer.issue(&claims).map_err(|e| fail("issue", e))?;

    let challenge = challenge();
    let by_holder = present(&*holder, &credential, &challenge).map_err(|e| fail("present", e))?;
    let by_cloner = present(&*cloner, &credential, &challenge).map_err(|e| fail("present", e))?;

    let limits = PolicyLimits::DEFAULT;
    let bundle = |policy: &str, version: u64| {
        let src = BundleSource {
            schema: SCHEMA,
            policy,
            version,
            issued_at: ISSUED_AT,
            scope: SCOPE,
        };
        bundle::create(&*policy_signer, &src, &limits).map_err(|e| fail("bundle", e))
    };
    let v1 = bundle(POLICY_V1, HELD_AT_BOOT)?;
    let v2 = bundle(POLICY_V2, HELD_AT_BOOT + 1)?;

    // The evidence the door's secure element must sign for the verifier's nonce.
    let device = signer(SigningKey::ed25519(&DEVICE_SEED).with_kid(DEVICE_KID))?;
    let evidence = evidence().sign_to_vec(&*device).map_err(|e| fail("evidence", e))?;

    // A receipt for one of the door's records in a site log of 2^20 entries;
    // the other entries stand in for the rest of the site's records.
    let site = signer(SigningKey::ed25519(&SITE_LOG_SEED).with_kid(SITE_LOG_KID))?;
    let record = audit_record()?;
    let index = usize::try_from(RECEIPT_INDEX).map_err(|e| fail("index", e))?;
    let leaves: Vec<Hash> = (0..SITE_LOG_SIZE)
        .map(|i| {
            if i == RECEIPT_INDEX {
                leaf_hash(&record)
            } else {
                leaf_hash(&i.to_be_bytes())
            }
        })
        .collect();
    let proof = merkle::inclusion_proof(&leaves, RECEIPT_INDEX).map_err(|e| fail("proof", e))?;
    let root = merkle::root(&leaves);
    let receipt =
        issue_inclusion(&*site, SITE_LOG_SIZE, RECEIPT_INDEX, &proof, &root).map_err(|e| fail("receipt", e))?;
    if leaves.get(index) != Some(&leaf_hash(&record)) {
        return Err("the record is not at its index".into());
    }

    Ok(vec![
        ("site-log.pub", site.verifying_key().as_bytes().to_vec()),
        ("audit-record.cbor", record),
        ("receipt.cbor", receipt),
        ("issuer.pub", issuer.verifying_key().as_bytes().to_vec()),
        ("policy-signer.pub", policy_signer.verifying_key().as_bytes().to_vec()),
        ("credential.cbor", credential),
        ("presentation-holder.cbor", by_holder),
        ("presentation-cloned.cbor", by_cloner),
        ("bundle-v1.cbor", v1),
        ("bundle-v2.cbor", v2),
        ("device.pub", device.verifying_key().as_bytes().to_vec()),
        ("evidence.cbor", evidence),
    ])
}

/// The door's record the site log's receipt is for: its decision at 09:30.
fn audit_record() -> Result<Vec<u8>, Failure> {
    Record::new(Kind::DoorDecision, NOW, DOOR)
        .and_then(|r| r.with_door(DOOR))
        .map(|r| r.with_outcome(Outcome::Allow))
        .and_then(|r| r.with_step("policy"))
        .and_then(|r| r.with_rule("staff-office-hours"))
        .and_then(|r| r.with_issuer(ISSUER))
        .and_then(|r| r.to_cbor())
        .map_err(|e| fail("record", e))
}

/// The door's evidence: its UEID, hardware model, the verifier's nonce and the
/// time, as the firmware builds it.
fn evidence() -> EvidenceBuilder<'static> {
    EvidenceBuilder::new(&DEVICE_UEID)
        .hwmodel(DEVICE_HWMODEL)
        .nonce(&ATTEST_NONCE)
        .iat(Timestamp::from_unix_seconds(NOW))
}

fn challenge() -> Challenge {
    Challenge::from_parts(CHALLENGE_NONCE, DOOR, Timestamp::from_unix_seconds(CHALLENGE_AT))
}

/// Verifies the fixtures as the firmware does, expecting the same outcomes.
fn verify(files: &[(&'static str, Vec<u8>)]) -> Result<(), Failure> {
    let get = |name: &str| {
        files
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, b)| b.as_slice())
            .ok_or_else(|| format!("no fixture {name}"))
    };
    let key = |name: &str, kid: &[u8]| -> Result<VerifyingKey, Failure> {
        let raw: [u8; 32] = get(name)?.try_into().map_err(|e| fail(name, e))?;
        Ok(VerifyingKey::ed25519(&raw).map_err(|e| fail(name, e))?.with_kid(kid))
    };
    let now = Timestamp::from_unix_seconds(NOW);

    let verifier = Verifier::new(&citysec_rustcrypto::PROVIDER)
        .trust(ISSUER, key("issuer.pub", ISSUER_KID)?)
        .map_err(|e| fail("trust", e))?
        .audience(DOOR);
    let trusted = PolicySigners::from_keys(&citysec_rustcrypto::PROVIDER, [key("policy-signer.pub", POLICY_KID)?])
        .map_err(|e| fail("key set", e))?;

    let v2 = bundle::load(
        &trusted,
        get("bundle-v2.cbor")?,
        &LoadOptions::default().holding(HELD_AT_BOOT).scoped(SCOPE),
    )
    .map_err(|e| fail("bundle v2", e))?;

    let cred = verifier
        .verify_presentation(
            get("presentation-holder.cbor")?,
            &challenge(),
            now,
            CHALLENGE_MAX_AGE,
            &[],
        )
        .map_err(|e| fail("holder presentation", e))?;
    let policy = v2.policy();
    let roles: Vec<&str> = cred.claims().roles.iter().map(String::as_str).collect();
    let attr = |name: &str| policy.attribute(name).ok_or_else(|| format!("no attribute {name}"));
    let mut req = policy.request();
    req.set_action(policy.action("open"))
        .and_then(|r| r.set_resource_type(policy.resource_type("door")))
        .map_err(|e| fail("request", e))?;
    let (roles_attr, zone, weekday) = (attr("subject.roles")?, attr("resource.zone")?, attr("context.weekday")?);
    let (hour, threat) = (attr("context.hour")?, attr("context.threat_level")?);
    req.set(roles_attr, Value::StringSet(&roles))
        .and_then(|r| r.set(zone, Value::String(DOOR_ZONE)))
        .and_then(|r| r.set(weekday, Value::Weekday(Weekday::Tue)))
        .and_then(|r| r.set(hour, Value::Int(9)))
        .and_then(|r| r.set(threat, Value::Int(0)))
        .map_err(|e| fail("request", e))?;
    if req.evaluate().decision() != Decision::Allow {
        return Err("the holder's request at 09:30 was not allowed".into());
    }

    match verifier.verify_presentation(
        get("presentation-cloned.cbor")?,
        &challenge(),
        now,
        CHALLENGE_MAX_AGE,
        &[],
    ) {
        Err(CredentialError::Core(citysec_core::Error::BadSignature)) => {}
        other => return Err(fail("cloned presentation not refused as a bad signature", other)),
    }

    match bundle::load(
        &trusted,
        get("bundle-v1.cbor")?,
        &LoadOptions::default().holding(v2.version()).scoped(SCOPE),
    ) {
        Err(BundleError::Rollback { .. }) => {}
        other => return Err(fail("bundle v1 after v2 not refused as a rollback", other)),
    }

    // The evidence verifies under the device key and carries the nonce.
    let ev = UnverifiedEvidence::parse(get("evidence.cbor")?, &citysec_core::Limits::DEFAULT)
        .map_err(|e| fail("evidence", e))?;
    let device = key("device.pub", DEVICE_KID)?;
    citysec_core::sign1::verify_with_key(
        &citysec_rustcrypto::PROVIDER,
        &device,
        get("evidence.cbor")?,
        &citysec_core::sign1::VerifyOptions::default(),
    )
    .map_err(|e| fail("evidence signature", e))?;
    let claims = citysec_attest::Evidence::from_cbor(ev.payload_unverified(), &citysec_core::Limits::DEFAULT)
        .map_err(|e| fail("evidence claims", e))?;
    if claims.nonce.as_deref() != Some(&ATTEST_NONCE[..]) || claims.ueid.as_deref() != Some(&DEVICE_UEID[..]) {
        return Err("the evidence does not carry the nonce and ueid".into());
    }

    // The receipt proves the door's record under the site log's key, and only it.
    let site_key = key("site-log.pub", SITE_LOG_KID)?;
    let receipt = Receipt::parse(get("receipt.cbor")?).map_err(|e| fail("receipt", e))?;
    let verified = receipt
        .verify_inclusion(
            &citysec_rustcrypto::PROVIDER,
            &site_key,
            &leaf_hash(get("audit-record.cbor")?),
        )
        .map_err(|e| fail("receipt", e))?;
    if verified.claimed_tree_size() != SITE_LOG_SIZE {
        return Err("the receipt is for another tree size".into());
    }
    if receipt
        .verify_inclusion(&citysec_rustcrypto::PROVIDER, &site_key, &leaf_hash(b"another record"))
        .is_ok()
    {
        return Err("the receipt proves another record".into());
    }
    Ok(())
}

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("fixtures")
}

fn run() -> Result<(), Failure> {
    let check = match std::env::args().nth(1).as_deref() {
        None => false,
        Some("--check") => true,
        Some(other) => return Err(format!("unknown argument {other}; usage: gen [--check]")),
    };
    let made = fixtures()?;
    let dir = fixture_dir();
    if check {
        let mut committed = Vec::new();
        for (name, bytes) in &made {
            let path = dir.join(name);
            let on_disk = std::fs::read(&path).map_err(|e| fail(&path.display().to_string(), e))?;
            if &on_disk != bytes {
                return Err(format!(
                    "{} differs from what the generator makes: run `cargo run --release` in {} and commit",
                    path.display(),
                    Path::new(env!("CARGO_MANIFEST_DIR")).display()
                ));
            }
            committed.push((*name, on_disk));
        }
        verify(&committed)?;
        println!(
            "fixtures: {} files up to date and verified on the host",
            committed.len()
        );
    } else {
        verify(&made)?;
        std::fs::create_dir_all(&dir).map_err(|e| fail("mkdir", e))?;
        for (name, bytes) in &made {
            std::fs::write(dir.join(name), bytes).map_err(|e| fail(name, e))?;
            println!("wrote fixtures/{name} ({} bytes)", bytes.len());
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gen: {e}");
            ExitCode::FAILURE
        }
    }
}
