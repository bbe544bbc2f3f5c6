//! The example evidence and attestation result in docs/attestation-result.md are
//! reproduced byte for byte (Ed25519 signatures are deterministic).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    reason = "test code: a failed unwrap or index is a failed test"
)]

use citysec_attest::{
    Appraiser, AttestationResult, DebugStatus, Endorsement, EvidenceBuilder, Freshness, MemoryNonceStore, NonceStore,
    ReferenceSet, ReferenceValues, Tier,
};
use citysec_attest::{ManufacturerVerifier, ResultVerifier};
use citysec_core::cwt::Issuer;
use citysec_core::provider::Signer;
use citysec_core::{SigningKey, Timestamp};

const NOW: u64 = 1_767_000_000;

fn t(s: u64) -> Timestamp {
    Timestamp::from_unix_seconds(s)
}

/// (evidence, endorsement, result token) of the documented example.
fn example() -> (Vec<u8>, Vec<u8>, Vec<u8>, ResultVerifier) {
    let oem = Issuer::new(
        "https://oem.example",
        soft(SigningKey::ed25519(&[0x11; 32]).with_kid(*b"oem-2026")),
    )
    .unwrap();
    let device = soft(SigningKey::ed25519(&[0x22; 32]).with_kid(*b"door-0042"));
    let av = Issuer::new(
        "https://attest.city.example",
        soft(SigningKey::ed25519(&[0x33; 32]).with_kid(*b"av-1")),
    )
    .unwrap();
    let ueid = [0x02, 0x00, 0x1b, 0x63, 0x00, 0x00, 0x42];
    let endorsement = Endorsement::new(ueid, device.verifying_key().clone(), *b"door-ctl-2")
        .unwrap()
        .issue(&oem, t(1_735_689_600), t(2_051_222_400))
        .unwrap();
    let boot = [0xb0; 32];
    let refs = ReferenceSet::new()
        .with(
            ReferenceValues::new(*b"door-ctl-2", "1.4.0")
                .unwrap()
                .accept_version("1.4.2")
                .unwrap()
                .component("bootloader", boot)
                .unwrap(),
        )
        .unwrap();
    let rp = ResultVerifier::new(&citysec_rustcrypto::PROVIDER)
        .trust(av.iss(), av.verifying_key())
        .unwrap()
        .audience("door-controllers");
    let manufacturers = ManufacturerVerifier::new(&citysec_rustcrypto::PROVIDER)
        .trust(oem.iss(), oem.verifying_key())
        .unwrap()
        .any_audience();
    let appraiser = Appraiser::new(manufacturers, av, "door-controllers", refs)
        .verifier_id("City of Example", "attest-verifier 2026.1");
    let nonce = [0x5a; 16];
    let mut store = MemoryNonceStore::new(8);
    store.insert(&nonce, t(NOW + 60), t(NOW)).unwrap();
    let measurements = [("bootloader", boot)];
    let evidence = EvidenceBuilder::new(&ueid)
        .nonce(&nonce)
        .hwmodel(b"door-ctl-2")
        .oemboot(true)
        .dbgstat(DebugStatus::DisabledPermanently)
        .swversion("1.4.2")
        .measurements(&measurements)
        .sign_to_vec(&*device)
        .unwrap();
    let appraisal = appraiser
        .appraise(&endorsement, &evidence, Freshness::Nonce(&mut store), t(NOW))
        .unwrap();
    assert_eq!(appraisal.result.status, Tier::Affirming);
    (evidence, endorsement, appraisal.token, rp)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
fn the_documented_examples_are_reproduced() {
    let (evidence, endorsement, result, rp) = example();
    let docs =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/attestation-result.md")).unwrap();
    let blocks: Vec<String> = docs
        .split("```hex\n")
        .skip(1)
        .map(|b| {
            b.split("```")
                .next()
                .unwrap()
                .chars()
                .filter(char::is_ascii_hexdigit)
                .collect()
        })
        .collect();
    assert_eq!(blocks.len(), 3);
    assert_eq!(hex(&evidence), blocks[0], "evidence");
    assert_eq!(hex(&endorsement), blocks[1], "endorsement");
    assert_eq!(hex(&result), blocks[2], "result");
    let read = AttestationResult::verify(&rp, &result, t(NOW)).unwrap();
    assert_eq!(read.status, Tier::Affirming);
    assert_eq!(read.verifier_id.developer, "City of Example");
}

/// A signer for a test key, through the pure-Rust provider.
fn soft(key: SigningKey) -> Box<dyn Signer> {
    citysec_rustcrypto::PROVIDER.signer(key).unwrap()
}
