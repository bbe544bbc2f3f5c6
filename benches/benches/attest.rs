//! Attestation appraisal against the signatures it cannot avoid, in one run.
//!
//! - `attest_appraise/citysec`: `Appraiser::appraise` on Ed25519 keys: verify the
//!   manufacturer's endorsement (COSE profile, strict Ed25519, claims, the device's
//!   COSE_Key from `cnf`), verify the device's evidence with the endorsed key (COSE
//!   profile, strict claims decode), freshness (timestamp mode: a nonce store would
//!   need fresh evidence per iteration), the reference-value checks, and sign the
//!   attestation result as a CWT.
//! - `attest_appraise/raw_signatures`: the 2 `verify_strict` + 1 `sign` of
//!   ed25519-dalek over the same bytes, with the keys already parsed.
//!
//! After criterion, an interleaved estimate (fastest of many short alternating
//! batches) gives the ratio on a machine other jobs are using.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    missing_docs,
    reason = "benchmark code"
)]

use core::hint::black_box;

use citysec_attest::ManufacturerVerifier;
use citysec_attest::{
    Appraiser, DebugStatus, Endorsement, EvidenceBuilder, Freshness, ReferenceSet, ReferenceValues, Tier,
};
use citysec_core::provider::Signer;
use citysec_core::sign1::{UnverifiedSign1, VerifyOptions};
use citysec_core::{SigningKey, Timestamp};
use citysec_credential::Issuer;
use criterion::{Criterion, Throughput};
use ed25519_dalek::Signer as _;

const NOW: u64 = 1_767_000_000;
const GROUP: &str = "attest_appraise";

fn t(s: u64) -> Timestamp {
    Timestamp::from_unix_seconds(s)
}

fn dalek_public(token: &[u8]) -> (Vec<u8>, ed25519_dalek::Signature) {
    let parsed = UnverifiedSign1::parse(token, &VerifyOptions::default()).unwrap();
    (
        parsed.to_be_signed(b""),
        ed25519_dalek::Signature::from_slice(parsed.signature()).unwrap(),
    )
}

fn attest_appraise(c: &mut Criterion) {
    let oem = Issuer::new(
        "https://oem.example",
        soft(SigningKey::ed25519(&[1; 32]).with_kid(*b"oem-2026")),
    )
    .unwrap();
    let device = SigningKey::ed25519(&[2; 32]).with_kid(*b"door-0042");
    let av = Issuer::new(
        "https://attest.city.example",
        soft(SigningKey::ed25519(&[3; 32]).with_kid(*b"av-1")),
    )
    .unwrap();
    let ueid = [0x02, 0x00, 0x1b, 0x63, 0x00, 0x00, 0x42];
    let boot = [0x11; 32];
    let app = [0x22; 32];
    let endorsement = Endorsement::new(
        ueid,
        citysec_rustcrypto::PROVIDER.public_key(&device).unwrap(),
        *b"door-ctl-2",
    )
    .unwrap()
    .issue(&oem, t(NOW - 86_400), t(NOW + 365 * 86_400))
    .unwrap();
    let refs = ReferenceSet::new()
        .with(
            ReferenceValues::new(*b"door-ctl-2", "1.4.0")
                .unwrap()
                .accept_version("1.4.2")
                .unwrap()
                .component("bootloader", boot)
                .unwrap()
                .component("app", app)
                .unwrap(),
        )
        .unwrap();
    let manufacturers = ManufacturerVerifier::new(&citysec_rustcrypto::PROVIDER)
        .trust(oem.iss(), oem.verifying_key())
        .unwrap()
        .any_audience();
    let appraiser = Appraiser::new(manufacturers, av, "door-controllers", refs);
    let measurements = [("bootloader", boot), ("app", app)];
    let evidence = EvidenceBuilder::new(&ueid)
        .iat(t(NOW - 5))
        .hwmodel(b"door-ctl-2")
        .swname("door-fw")
        .swversion("1.4.2")
        .dbgstat(DebugStatus::DisabledPermanently)
        .oemboot(true)
        .bootcount(17)
        .measurements(&measurements)
        .sign_to_vec(&citysec_rustcrypto::signer_copy(&device).unwrap())
        .unwrap();
    let now = t(NOW);
    let fresh = || Freshness::Timestamp { max_age_seconds: 300 };
    let appraisal = appraiser.appraise(&endorsement, &evidence, fresh(), now).unwrap();
    assert_eq!(appraisal.result.status, Tier::Affirming);

    // The baseline: the same two verifications and one signature, with ed25519-dalek.
    let (end_tbs, end_sig) = dalek_public(&endorsement);
    let (ev_tbs, ev_sig) = dalek_public(&evidence);
    let (result_tbs, _) = dalek_public(&appraisal.token);
    let oem_vk = ed25519_dalek::SigningKey::from_bytes(&[1; 32]).verifying_key();
    let device_vk = ed25519_dalek::SigningKey::from_bytes(&[2; 32]).verifying_key();
    let av_sk = ed25519_dalek::SigningKey::from_bytes(&[3; 32]);
    oem_vk.verify_strict(&end_tbs, &end_sig).unwrap();
    device_vk.verify_strict(&ev_tbs, &ev_sig).unwrap();

    let mut ours = || {
        appraiser
            .appraise(black_box(&endorsement), black_box(&evidence), fresh(), now)
            .unwrap()
    };
    let mut raw = || {
        oem_vk.verify_strict(black_box(&end_tbs), black_box(&end_sig)).unwrap();
        device_vk.verify_strict(black_box(&ev_tbs), black_box(&ev_sig)).unwrap();
        av_sk.sign(black_box(&result_tbs))
    };

    let mut g = c.benchmark_group(GROUP);
    g.throughput(Throughput::Elements(1));
    g.bench_function("citysec", |b| b.iter(&mut ours));
    g.bench_function("raw_signatures", |b| b.iter(&mut raw));
    g.finish();
    interleaved(&mut ours, &mut raw);
}

/// A second estimate that tolerates a busy machine: short batches of each function
/// alternate, and the fastest batch of each counts (noise only ever adds time).
fn interleaved<A, B>(ours: &mut impl FnMut() -> A, raw: &mut impl FnMut() -> B) {
    const ROUNDS: usize = 200;
    const BATCH: u32 = 20;
    let (mut best_ours, mut best_raw) = (f64::MAX, f64::MAX);
    for _ in 0..ROUNDS {
        let start = std::time::Instant::now();
        for _ in 0..BATCH {
            black_box(ours());
        }
        best_ours = best_ours.min(start.elapsed().as_secs_f64() / f64::from(BATCH));
        let start = std::time::Instant::now();
        for _ in 0..BATCH {
            black_box(raw());
        }
        best_raw = best_raw.min(start.elapsed().as_secs_f64() / f64::from(BATCH));
    }
    println!(
        "  {GROUP} interleaved, fastest of {ROUNDS} batches of {BATCH}: citysec {:.0} ns / raw_signatures {:.0} ns = {:.3}; {:.0} appraisals per second",
        best_ours * 1e9,
        best_raw * 1e9,
        best_ours / best_raw,
        1.0 / best_ours
    );
}

fn main() {
    let mut c = citysec_benches::criterion();
    attest_appraise(&mut c);
    c.final_summary();
    citysec_benches::report(&[(GROUP, "citysec", "raw_signatures", 1.15)]);
    for f in ["citysec", "raw_signatures"] {
        if let Some(ns) = citysec_benches::mean_ns(GROUP, f) {
            println!("  {GROUP}/{f}: {:.0} appraisals per second on one core", 1e9 / ns);
        }
    }
}

/// A signer for a test key, through the pure-Rust provider.
fn soft(key: SigningKey) -> Box<dyn Signer> {
    citysec_rustcrypto::PROVIDER.signer(key).unwrap()
}
