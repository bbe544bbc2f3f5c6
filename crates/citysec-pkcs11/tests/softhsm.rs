//! Token keys in a real SoftHSM2 token: every citysec format signed by a key that
//! never leaves the token, verified with the RustCrypto provider; every failure
//! typed. Needs the tokens and environment of `softhsm-env.sh` (`.ci/run` sets
//! them up); compiled only with the `softhsm` feature.

#![cfg(feature = "softhsm")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    reason = "test code: a failed unwrap or index is a failed test"
)]

use std::process::Command;

use citysec_attest::{
    Appraiser, AttestationResult, DebugStatus, Endorsement, EvidenceBuilder, Freshness, ReferenceSet, ReferenceValues,
    UnverifiedEvidence,
};
use citysec_attest::{ManufacturerVerifier, ResultVerifier};
use citysec_core::provider::Signer;
use citysec_core::sign1::{self, VerifyOptions};
use citysec_core::{Algorithm, KeySet, Limits, SigningKey, Timestamp};
use citysec_credential::{Claims, Issuer, StatusList, Verifier};
use citysec_pkcs11::{Error, Module, Pin, Pkcs11Signer, Pkcs11Uri};
use citysec_policy::PolicyLimits;
use citysec_policy::bundle::PolicySigners;
use citysec_policy::bundle::{self, BundleSource, LoadOptions};

/// Verification through the RustCrypto provider.
const RC: &citysec_core::provider::Provider = &citysec_rustcrypto::PROVIDER;
const NOW: u64 = 1_795_687_200;
const TOKEN: &str = "citysec-test";

/// SoftHSM2 answers `CKR_GENERAL_ERROR` to a process that reads its slots while
/// another process deletes a token, so the tests of this file take turns (one
/// of them deletes a token with `softhsm2-util`).
static TOKEN_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn take_turn() -> std::sync::MutexGuard<'static, ()> {
    TOKEN_LOCK.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn t(s: u64) -> Timestamp {
    Timestamp::from_unix_seconds(s)
}

fn module() -> Module {
    Module::open_or_env(None).expect("CITYSEC_PKCS11_MODULE: run under softhsm-env.sh")
}

fn uri(token: &str, object: &str) -> Pkcs11Uri {
    Pkcs11Uri::parse(&format!("pkcs11:token={token};object={object}")).unwrap()
}

/// A new key `object` of `alg` in the test token.
fn generate(object: &str, alg: Algorithm) -> Pkcs11Signer {
    Pkcs11Signer::generate(&module(), &uri(TOKEN, object), alg).unwrap()
}

fn soft(key: SigningKey) -> Box<dyn Signer> {
    citysec_rustcrypto::PROVIDER.signer(key).unwrap()
}

#[test]
fn token_keys_sign_every_format_and_the_rustcrypto_provider_verifies() {
    let _turn = take_turn();
    for (alg, tag) in [(Algorithm::EdDSA, "ed"), (Algorithm::ES256, "p256")] {
        // A plain COSE_Sign1; the kid is the key's label.
        let key = generate(&format!("sign1-{tag}"), alg);
        assert_eq!(key.kid(), Some(format!("sign1-{tag}").as_bytes()));
        assert_eq!(key.algorithm(), alg);
        let msg = sign1::sign(&key, b"door 7: open", b"").unwrap();
        let keys = KeySet::from_keys([key.verifying_key().clone()]).unwrap();
        let v = sign1::verify(RC, &keys, &msg, &VerifyOptions::default()).unwrap();
        assert_eq!(v.payload(), b"door 7: open");

        // A credential, and a status list, from a token issuer key.
        let issuer = Issuer::new(
            "https://id.city.example",
            Box::new(generate(&format!("issuer-{tag}"), alg)),
        )
        .unwrap();
        let mut claims = Claims::new();
        claims.sub = Some("alice".into());
        claims.aud = vec!["doors".into()];
        claims.exp = Some(t(NOW + 3600));
        let credential = issuer.issue(&claims).unwrap();
        let verifier = Verifier::new(&citysec_rustcrypto::PROVIDER)
            .trust(issuer.iss(), issuer.verifying_key())
            .unwrap()
            .audience("doors");
        let c = verifier.verify(&credential, t(NOW), &[]).unwrap();
        assert_eq!(c.claims().sub.as_deref(), Some("alice"));
        let list = StatusList::new(1, 16).unwrap();
        let token = list
            .sign(&issuer, "https://id.city.example/status/1", t(NOW), t(NOW + 60), None)
            .unwrap();
        let held = verifier.status_list_signers().verify_status_list(&token, 1024).unwrap();
        assert_eq!(held.uri(), "https://id.city.example/status/1");

        // A policy bundle.
        let policy_key = generate(&format!("policy-{tag}"), alg);
        let src = BundleSource {
            schema: "action open; resource door; subject.badge: string;",
            policy: r#"permit "b" action open on door when subject.badge == "7";"#,
            version: 3,
            issued_at: NOW,
            scope: "site:city-hall",
        };
        let signed = bundle::create(&policy_key, &src, &PolicyLimits::DEFAULT).unwrap();
        let trusted =
            PolicySigners::from_keys(&citysec_rustcrypto::PROVIDER, [policy_key.verifying_key().clone()]).unwrap();
        let opts = LoadOptions {
            scope: Some("site:city-hall"),
            ..LoadOptions::default()
        };
        assert_eq!(bundle::load(&trusted, &signed, &opts).unwrap().version(), 3);

        // Evidence from a device key in the token, appraised into a result that a
        // token key of the attestation verifier signs.
        let device = generate(&format!("device-{tag}"), alg);
        let ueid = [0x02, 0x00, 0x1b, 0x63, 0x00, 0x00, 0x42];
        let oem = Issuer::new(
            "https://oem.example",
            soft(SigningKey::ed25519(&[1; 32]).with_kid(*b"oem-1")),
        )
        .unwrap();
        let endorsement = Endorsement::new(ueid, device.verifying_key().clone(), *b"door-ctl-2")
            .unwrap()
            .issue(&oem, t(NOW - 60), t(NOW + 86_400))
            .unwrap();
        let boot = [("bootloader", [0xb0; 32])];
        let evidence = EvidenceBuilder::new(&ueid)
            .nonce(&[7; 16])
            .hwmodel(b"door-ctl-2")
            .swversion("1.2.0")
            .dbgstat(DebugStatus::DisabledPermanently)
            .oemboot(true)
            .measurements(&boot)
            .iat(t(NOW))
            .sign_to_vec(&device)
            .unwrap();
        let manufacturers = ManufacturerVerifier::new(&citysec_rustcrypto::PROVIDER)
            .trust(oem.iss(), oem.verifying_key())
            .unwrap()
            .any_audience();
        let endorsed = Endorsement::verify(&manufacturers, &endorsement, t(NOW)).unwrap();
        let verified = UnverifiedEvidence::parse(&evidence, &Limits::DEFAULT)
            .unwrap()
            .verify(&endorsed)
            .unwrap();
        let av = Issuer::new(
            "https://attest.city.example",
            Box::new(generate(&format!("av-{tag}"), alg)),
        )
        .unwrap();
        let rp = ResultVerifier::new(&citysec_rustcrypto::PROVIDER)
            .trust(av.iss(), av.verifying_key())
            .unwrap()
            .audience("door-controllers");
        let refs = ReferenceSet::new()
            .with(
                ReferenceValues::new(*b"door-ctl-2", "1.0.0")
                    .unwrap()
                    .accept_version("1.2.0")
                    .unwrap()
                    .component("bootloader", [0xb0; 32])
                    .unwrap(),
            )
            .unwrap();
        let appraiser = Appraiser::new(manufacturers, av, "door-controllers", refs);
        let appraisal = appraiser
            .appraise_verified(
                &endorsed,
                &verified,
                Freshness::Timestamp { max_age_seconds: 300 },
                t(NOW),
            )
            .unwrap();
        let result = AttestationResult::verify(&rp, &appraisal.token, t(NOW)).unwrap();
        assert!(result.is_affirming(), "{result:?}");
        assert_eq!(result.ueid, ueid);
    }
}

#[test]
fn an_existing_key_opens_by_label_or_id_with_the_same_public_key() {
    let _turn = take_turn();
    let made = generate("reopen", Algorithm::EdDSA);
    let by_label = Pkcs11Signer::open(&module(), &uri(TOKEN, "reopen")).unwrap();
    assert_eq!(by_label.verifying_key(), made.verifying_key());
    // generate gives CKA_ID the label's bytes when the URI has no id.
    let by_id = Pkcs11Signer::open(
        &module(),
        &Pkcs11Uri::parse(&format!("pkcs11:token={TOKEN};id=reopen")).unwrap(),
    )
    .unwrap();
    assert_eq!(by_id.verifying_key(), made.verifying_key());
    // Two signers of one key: either signature verifies under the other's key.
    let msg = sign1::sign(&by_id, b"x", b"").unwrap();
    let keys = KeySet::from_keys([by_label.verifying_key().clone()]).unwrap();
    assert!(sign1::verify(RC, &keys, &msg, &VerifyOptions::default()).is_ok());
    // The same label again is refused.
    assert_eq!(
        Pkcs11Signer::generate(&module(), &uri(TOKEN, "reopen"), Algorithm::ES256).err(),
        Some(Error::KeyExists)
    );
}

#[test]
fn each_failure_is_typed_and_nothing_is_signed() {
    let _turn = take_turn();
    let m = module();
    generate("guarded", Algorithm::EdDSA);
    // A wrong PIN.
    assert_eq!(
        Pkcs11Signer::open_with_pin(&m, &uri(TOKEN, "guarded"), &Pin::new("not-the-pin")).err(),
        Some(Error::PinIncorrect)
    );
    // A PIN from the URI's pin-source file.
    let dir = tempfile::tempdir().unwrap();
    let wrong = dir.path().join("wrong-pin");
    std::fs::write(&wrong, "0000\n").unwrap();
    let with_file = Pkcs11Uri::parse(&format!(
        "pkcs11:token={TOKEN};object=guarded?pin-source=file:{}",
        wrong.display()
    ))
    .unwrap();
    assert_eq!(Pkcs11Signer::open(&m, &with_file).err(), Some(Error::PinIncorrect));
    let right = std::env::var("CITYSEC_PKCS11_PIN_FILE").unwrap();
    let with_file = Pkcs11Uri::parse(&format!("pkcs11:token={TOKEN};object=guarded?pin-source={right}")).unwrap();
    assert!(Pkcs11Signer::open(&m, &with_file).is_ok());
    // A missing key, a missing token, a URI that names no key.
    assert_eq!(
        Pkcs11Signer::open(&m, &uri(TOKEN, "no-such-key")).err(),
        Some(Error::KeyNotFound)
    );
    assert_eq!(
        Pkcs11Signer::open(&m, &uri("no-such-token", "guarded")).err(),
        Some(Error::TokenNotFound)
    );
    assert_eq!(
        Pkcs11Signer::open(&m, &Pkcs11Uri::parse(&format!("pkcs11:token={TOKEN}")).unwrap()).err(),
        Some(Error::NoKeySelected)
    );
    // A key of another type: the P-384 key softhsm-env.sh imported.
    assert_eq!(
        Pkcs11Signer::open(&m, &uri(TOKEN, "wrong-type-p384")).err(),
        Some(Error::WrongKeyType)
    );
    // Generating an X25519 or AEAD key is refused before the token is touched.
    assert_eq!(
        Pkcs11Signer::generate(&m, &uri(TOKEN, "aead"), Algorithm::ChaCha20Poly1305).err(),
        Some(Error::WrongKeyType)
    );
}

#[test]
fn a_token_deleted_under_a_signer_signs_nothing() {
    let _turn = take_turn();
    let m = module();
    let signer = Pkcs11Signer::generate(&m, &uri("citysec-removable", "doomed"), Algorithm::EdDSA).unwrap();
    assert!(signer.sign(b"before").is_ok());
    let status = Command::new("softhsm2-util")
        .args(["--delete-token", "--token", "citysec-removable"])
        .output()
        .unwrap();
    assert!(status.status.success(), "{status:?}");
    assert_eq!(signer.sign(b"after"), Err(citysec_core::Error::KeyUnavailable));
    assert!(sign1::sign(&signer, b"after", b"").is_err());
    assert_eq!(
        Pkcs11Signer::open(&m, &uri("citysec-removable", "doomed")).err(),
        Some(Error::TokenNotFound)
    );
}
