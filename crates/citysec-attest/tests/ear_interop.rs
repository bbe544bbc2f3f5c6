//! Interop with Veraison's EAR reference implementation, the `ear` crate 0.6.0,
//! through interop/ear (its own Cargo project, built here): `ear` verifies
//! citysec's attestation results, and citysec reads `ear`'s results through
//! `ExternalEarVerifier`, for EdDSA and ES256, affirming and contraindicated.
//! Negative cases go through citysec (`ear` panics on some bad input). Needs
//! crates.io and a C toolchain: feature `ear-interop`.

#![cfg(feature = "ear-interop")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed unwrap is a failed test"
)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use base64::Engine as _;
use citysec_attest::{
    Appraiser, AudienceRule, DebugStatus, Endorsement, Error, EvidenceBuilder, ExpectedDevice, ExpiryRule,
    ExternalEarPolicy, ExternalEarVerifier, ExternalError, Freshness, ManufacturerVerifier, MemoryNonceStore,
    NonceStore, ReferenceSet, ReferenceValues, Tier,
};
use citysec_core::cwt::Issuer;
use citysec_core::provider::Signer;
use citysec_core::sign1::{UnverifiedSign1, VerifyOptions};
use citysec_core::{Error as CoreError, SigningKey, Timestamp};

const P: &citysec_core::provider::Provider = &citysec_rustcrypto::PROVIDER;

fn now() -> Timestamp {
    let s = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    Timestamp::from_unix_seconds(s)
}

/// The interop program, built once.
fn program() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../interop/ear");
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "--quiet", "--locked", "--manifest-path"])
            .arg(dir.join("Cargo.toml"))
            .env_remove("CARGO_TARGET_DIR")
            .status()
            .unwrap();
        assert!(status.success(), "building interop/ear failed");
        dir.join("target/debug/citysec-ear-interop")
    })
}

/// Runs the program: (exit success, stdout).
fn run(args: &[&str]) -> (bool, String) {
    let out = Command::new(program()).args(args).output().unwrap();
    (out.status.success(), String::from_utf8(out.stdout).unwrap())
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The verifier key of algorithm `alg` (EdDSA or ES256) and its secret.
fn verifier_key(alg: &str) -> (SigningKey, [u8; 32]) {
    if alg == "EdDSA" {
        (SigningKey::ed25519(&[0x33; 32]).with_kid(*b"av-1"), [0x33; 32])
    } else {
        (SigningKey::p256(&[0x44; 32]).unwrap().with_kid(*b"av-2"), [0x44; 32])
    }
}

const ALGS: [&str; 2] = ["EdDSA", "ES256"];

/// A citysec result of `debug` status for a device, signed by `key`, at `at`.
fn citysec_result(key: SigningKey, debug: DebugStatus, at: Timestamp) -> (Vec<u8>, Tier) {
    let oem = Issuer::new(
        "https://oem.example",
        P.signer(SigningKey::ed25519(&[0x11; 32]).with_kid(*b"oem-2026"))
            .unwrap(),
    )
    .unwrap();
    let device = P
        .signer(SigningKey::ed25519(&[0x22; 32]).with_kid(*b"door-0042"))
        .unwrap();
    let av = Issuer::new("https://attest.city.example", P.signer(key).unwrap()).unwrap();
    let ueid = [0x02, 0x00, 0x1b, 0x63, 0x00, 0x00, 0x42];
    let endorsement = Endorsement::new(ueid, device.verifying_key().clone(), *b"door-ctl-2")
        .unwrap()
        .issue(&oem, at, at.saturating_add(86_400))
        .unwrap();
    let refs = ReferenceSet::new()
        .with(
            ReferenceValues::new(*b"door-ctl-2", "1.4.0")
                .unwrap()
                .accept_version("1.4.2")
                .unwrap(),
        )
        .unwrap();
    let manufacturers = ManufacturerVerifier::new(P)
        .trust(oem.iss(), oem.verifying_key())
        .unwrap()
        .any_audience();
    let appraiser = Appraiser::new(manufacturers, av, "door-controllers", refs)
        .verifier_id("City of Example", "attest-verifier 2026.1");
    let nonce = [0x5a; 16];
    let mut store = MemoryNonceStore::new(8);
    store.insert(&nonce, at.saturating_add(60), at).unwrap();
    let evidence = EvidenceBuilder::new(&ueid)
        .nonce(&nonce)
        .hwmodel(b"door-ctl-2")
        .oemboot(true)
        .dbgstat(debug)
        .swversion("1.4.2")
        .sign_to_vec(&*device)
        .unwrap();
    let appraisal = appraiser
        .appraise(&endorsement, &evidence, Freshness::Nonce(&mut store), at)
        .unwrap();
    (appraisal.token, appraisal.result.status)
}

#[test]
fn ear_verifies_citysec_results() {
    let dir = tempfile::tempdir().unwrap();
    for alg in ALGS {
        let public = hex(P.public_key(&verifier_key(alg).0).unwrap().as_bytes());
        for (debug, tier, name) in [
            (DebugStatus::DisabledPermanently, Tier::Affirming, "affirming"),
            (DebugStatus::Enabled, Tier::Contraindicated, "contraindicated"),
        ] {
            let (token, status) = citysec_result(verifier_key(alg).0, debug, now());
            assert_eq!(status, tier);
            let file = dir.path().join(format!("{alg}-{name}.cbor"));
            std::fs::write(&file, &token).unwrap();
            let (ok, out) = run(&["verify", alg, &public, file.to_str().unwrap()]);
            assert!(ok, "{alg} {name}: {out}");
            assert_eq!(
                out,
                format!("profile tag:ietf.org,2026:rats/ear#04\nstatus {name}\nsubmod device {name}\n"),
                "{alg}"
            );
            // The other algorithm's key does not verify it.
            let other_alg = if alg == "EdDSA" { "ES256" } else { "EdDSA" };
            let other_key = hex(P.public_key(&verifier_key(other_alg).0).unwrap().as_bytes());
            let (ok, out) = run(&["verify", other_alg, &other_key, file.to_str().unwrap()]);
            assert!(!ok && out.starts_with("refused"), "{out}");
        }
    }
}

/// PEM of a private key in a form `ear` signs with: PKCS#8 for Ed25519, SEC1
/// `EC PRIVATE KEY` for P-256.
fn pem(alg: &str, secret: [u8; 32], public: &[u8]) -> String {
    let (label, der) = if alg == "EdDSA" {
        let mut der = vec![
            0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
        ];
        der.extend_from_slice(&secret);
        ("PRIVATE KEY", der)
    } else {
        let mut der = vec![0x30, 0x77, 0x02, 0x01, 0x01, 0x04, 0x20];
        der.extend_from_slice(&secret);
        der.extend_from_slice(&[
            0xa0, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0xa1, 0x44, 0x03, 0x42, 0x00,
        ]);
        der.extend_from_slice(public);
        ("EC PRIVATE KEY", der)
    };
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| core::str::from_utf8(c).unwrap())
        .collect();
    format!("-----BEGIN {label}-----\n{}\n-----END {label}-----\n", lines.join("\n"))
}

#[test]
fn citysec_reads_ear_results() {
    let dir = tempfile::tempdir().unwrap();
    let nonce = [0x6b; 32];
    let at = now();
    for alg in ALGS {
        let (key, secret) = verifier_key(alg);
        let public = P.public_key(&key).unwrap();
        let pem_file = dir.path().join(format!("{alg}.pem"));
        std::fs::write(&pem_file, pem(alg, secret, public.as_bytes())).unwrap();
        let policy = ExternalEarPolicy::new("door-controllers", "door-ctl")
            .with_audience(AudienceRule::IfPresent("door-controllers".into()))
            .with_expiry(ExpiryRule::MaxAge(300));
        let anchor = ExternalEarVerifier::new(P, public.clone(), policy).unwrap();
        let expected = ExpectedDevice {
            ueid: None,
            nonce: Some(&nonce),
        };
        for (name, tier) in [
            ("affirming", Tier::Affirming),
            ("contraindicated", Tier::Contraindicated),
        ] {
            let out_file = dir.path().join(format!("{alg}-{name}.cbor"));
            let (ok, out) = run(&[
                "sign",
                alg,
                pem_file.to_str().unwrap(),
                name,
                "door-ctl",
                &hex(&nonce),
                &at.as_unix_seconds().to_string(),
                out_file.to_str().unwrap(),
            ]);
            assert!(ok, "{alg} {name}: {out}");
            let token = std::fs::read(&out_file).unwrap();
            // ear writes its claims as an indefinite-length map.
            let msg = UnverifiedSign1::parse(&token, &VerifyOptions::default()).unwrap();
            assert_eq!(msg.payload_unverified().first(), Some(&0xbf));
            let ear = anchor.verify(&token, at, expected).unwrap();
            assert_eq!(ear.status, tier, "{alg} {name}");
            assert_eq!(ear.device.status, tier);
            assert_eq!(ear.device.name, "door-ctl");
            assert_eq!(ear.verifier_id.build, "ear 0.6.0");
            assert_eq!(ear.issued_at, at);
            assert_eq!(ear.is_affirming(), tier == Tier::Affirming);
            // Negative cases, through citysec: a flipped signature byte, another
            // nonce, the strict policy (aud and exp required), too late.
            let mut bad = token.clone();
            *bad.last_mut().unwrap() ^= 1;
            assert_eq!(
                anchor.verify(&bad, at, expected),
                Err(Error::Core(CoreError::BadSignature))
            );
            let other = ExpectedDevice {
                ueid: None,
                nonce: Some(&[0x11; 32]),
            };
            assert_eq!(
                anchor.verify(&token, at, other),
                Err(Error::External(ExternalError::NonceMismatch))
            );
            let strict = ExternalEarVerifier::new(
                P,
                public.clone(),
                ExternalEarPolicy::new("door-controllers", "door-ctl"),
            )
            .unwrap();
            assert_eq!(
                strict.verify(&token, at, expected),
                Err(Error::External(ExternalError::MissingAudience))
            );
            assert_eq!(
                anchor.verify(&token, at.saturating_add(301), expected),
                Err(Error::External(ExternalError::TooOld))
            );
        }
    }
}
