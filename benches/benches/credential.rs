//! Credential verification against the raw signature check, in one run.
//!
//! - `credential_verify`: our full verify (COSE parse and profile, key by kid,
//!   strict Ed25519, claims decode, issuer, times, audience, status bit) vs
//!   ed25519-dalek's `verify_strict` of the same signature over the same bytes.
//! - `credential_verify_batch64`: 64 credentials from 64 different issuers verified
//!   with `Verifier::verify_batch` vs 64 calls of `Verifier::verify`.
//! - `issue_credential`: `Issuer::issue` with a ring-provider signer (claims
//!   encoding, COSE_Sign1, Ed25519 with the key parsed once) vs ring signing the
//!   same Sig_structure with a parsed key pair. With `CITYSEC_PKCS11_MODULE` and a
//!   SoftHSM2 token (`citysec-test`, as `softhsm-env.sh` makes), also `softhsm`:
//!   the same issuer with its key in the token (reported, not a target: an IPC).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    missing_docs,
    reason = "benchmark code"
)]

use core::hint::black_box;

use citysec_core::provider::Signer;
use citysec_core::sign1::{UnverifiedSign1, VerifyOptions};
use citysec_core::{SigningKey, Timestamp};
use citysec_credential::status::StatusList;
use citysec_credential::{Claims, CredentialKind, Issuer, StatusRef, Verifier};
use criterion::{Criterion, Throughput};

const AUD: &str = "door-controllers";
const NOW: u64 = 1_767_000_000;
const URI: &str = "https://issuer.city.example/status/1";

fn claims(i: u64) -> Claims {
    let mut c = Claims::new();
    c.sub = Some(format!("staff-{i}"));
    c.aud = vec![AUD.into()];
    c.exp = Some(Timestamp::from_unix_seconds(NOW + 86_400));
    c.iat = Some(Timestamp::from_unix_seconds(NOW - 60));
    c.roles = vec!["staff".into()];
    c.zones = vec!["lobby".into(), "office".into()];
    c.kind = Some(CredentialKind::Staff);
    c.status = Some(StatusRef {
        idx: i,
        uri: URI.into(),
    });
    c
}

fn issuer(i: u8) -> Issuer {
    Issuer::new(
        format!("https://issuer-{i}.city.example"),
        soft(SigningKey::ed25519(&[i.wrapping_add(1); 32]).with_kid(format!("k{i}").into_bytes())),
    )
    .unwrap()
}

fn credential_verify(c: &mut Criterion) {
    let iss = issuer(0);
    let verifier = Verifier::new(&citysec_rustcrypto::PROVIDER)
        .trust(iss.iss(), iss.verifying_key())
        .unwrap()
        .audience(AUD);
    let token = iss.issue(&claims(5)).unwrap();
    let list = StatusList::new(1, 1024).unwrap();
    let list_token = list
        .sign(
            &iss,
            URI,
            Timestamp::from_unix_seconds(NOW - 60),
            Timestamp::from_unix_seconds(NOW + 3600),
            None,
        )
        .unwrap();
    let lists = [verifier
        .status_list_signers()
        .verify_status_list(&list_token, 1 << 20)
        .unwrap()];
    let now = Timestamp::from_unix_seconds(NOW);
    assert!(verifier.verify(&token, now, &lists).is_ok());

    let parsed = UnverifiedSign1::parse(&token, &VerifyOptions::default()).unwrap();
    let tbs = parsed.to_be_signed(b"");
    let sig = ed25519_dalek::Signature::from_slice(parsed.signature()).unwrap();
    let vk = ed25519_dalek::VerifyingKey::from_bytes(&iss.verifying_key().as_bytes().try_into().unwrap()).unwrap();

    let mut g = c.benchmark_group("credential_verify");
    g.bench_function("citysec", |b| {
        b.iter(|| verifier.verify(black_box(&token), now, &lists).unwrap());
    });
    g.bench_function("ed25519_dalek", |b| {
        b.iter(|| vk.verify_strict(black_box(&tbs), black_box(&sig)).unwrap());
    });
    g.finish();
}

fn credential_verify_batch64(c: &mut Criterion) {
    let issuers: Vec<Issuer> = (0..64u8).map(issuer).collect();
    let mut verifier = Verifier::new(&citysec_rustcrypto::PROVIDER).audience(AUD);
    for iss in &issuers {
        verifier = verifier.trust(iss.iss(), iss.verifying_key()).unwrap();
    }
    let tokens: Vec<Vec<u8>> = issuers
        .iter()
        .enumerate()
        .map(|(i, iss)| {
            let mut cl = claims(i as u64);
            cl.status = None;
            iss.issue(&cl).unwrap()
        })
        .collect();
    let refs: Vec<&[u8]> = tokens.iter().map(Vec::as_slice).collect();
    let now = Timestamp::from_unix_seconds(NOW);
    assert!(verifier.verify_batch(&refs, now, &[]).iter().all(Result::is_ok));

    let mut g = c.benchmark_group("credential_verify_batch64");
    g.throughput(Throughput::Elements(64));
    g.bench_function("batch", |b| {
        b.iter(|| verifier.verify_batch(black_box(&refs), now, &[]));
    });
    g.bench_function("single", |b| {
        b.iter(|| {
            refs.iter()
                .map(|t| verifier.verify(black_box(t), now, &[]))
                .collect::<Vec<_>>()
        });
    });
    g.finish();
}

fn issue_credential(c: &mut Criterion) {
    let seed = [0x31u8; 32];
    let key = || SigningKey::ed25519(&seed).with_kid(b"issuer-ring".to_vec());
    let issuer = Issuer::new(
        "https://issuer.city.example",
        citysec_ring::PROVIDER.signer(key()).unwrap(),
    )
    .unwrap();
    let mut cl = claims(7);
    cl.iss = Some("https://issuer.city.example".into());
    let token = issuer.issue(&cl).unwrap();
    // The Sig_structure the issuer signed, rebuilt from the token.
    let msg = UnverifiedSign1::parse(&token, &VerifyOptions::default()).unwrap();
    let tbs = msg.to_be_signed(b"");
    let raw = ring::signature::Ed25519KeyPair::from_seed_unchecked(&seed).unwrap();
    assert_eq!(raw.sign(&tbs).as_ref(), &token[token.len() - 64..]);
    let mut g = c.benchmark_group("issue_credential");
    g.bench_function("ring_provider", |b| b.iter(|| issuer.issue(black_box(&cl)).unwrap()));
    g.bench_function("ring_raw", |b| b.iter(|| raw.sign(black_box(&tbs))));
    if let Some(token_issuer) = softhsm_issuer() {
        g.bench_function("softhsm", |b| b.iter(|| token_issuer.issue(black_box(&cl)).unwrap()));
    }
    g.finish();
}

/// An issuer whose key is in the SoftHSM2 token `citysec-test`, if the
/// environment names a module and the token is there.
fn softhsm_issuer() -> Option<Issuer> {
    use citysec_pkcs11::{Error, Module, Pkcs11Signer, Pkcs11Uri};
    let module = Module::open_or_env(None).ok()?;
    let uri = Pkcs11Uri::parse("pkcs11:token=citysec-test;object=bench-issuer").ok()?;
    let signer = match Pkcs11Signer::open(&module, &uri) {
        Err(Error::KeyNotFound) => Pkcs11Signer::generate(&module, &uri, citysec_core::Algorithm::EdDSA),
        other => other,
    }
    .ok()?;
    Issuer::new("https://issuer.city.example", Box::new(signer)).ok()
}

fn main() {
    let mut c = citysec_benches::criterion();
    credential_verify(&mut c);
    credential_verify_batch64(&mut c);
    issue_credential(&mut c);
    c.final_summary();
    citysec_benches::report(&[
        ("credential_verify", "citysec", "ed25519_dalek", 1.10),
        ("issue_credential", "ring_provider", "ring_raw", 1.10),
        ("issue_credential", "softhsm", "ring_raw", f64::INFINITY),
        // batch time / single time: <= 1/1.8 means >= 1.8x the throughput
        ("credential_verify_batch64", "batch", "single", 1.0 / 1.8),
    ]);
}

/// A signer for a test key, through the pure-Rust provider.
fn soft(key: SigningKey) -> Box<dyn Signer> {
    citysec_rustcrypto::PROVIDER.signer(key).unwrap()
}
