//! EARs from other verifiers (Veraison's shape: indefinite-length maps, no `iss`,
//! `aud`, `ueid` or `exp`) through `ExternalEarVerifier`: what is accepted under
//! which policy, and a typed error for each way one is refused.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::cast_possible_truncation,
    reason = "test code: a failed unwrap or index is a failed test"
)]

use citysec_attest::external::decode_payload_counted;
use citysec_attest::{
    AudienceRule, Error, ExpectedDevice, ExpiryRule, ExternalEarPolicy, ExternalEarVerifier, ExternalError, Tier,
};
use citysec_core::provider::Signer;
use citysec_core::{Error as CoreError, Limits, SigningKey, Timestamp, sign1};

const NOW: u64 = 1_767_000_000;
const PROFILE: &str = "tag:ietf.org,2026:rats/ear#04";
const NONCE: [u8; 16] = [0x5a; 16];
const UEID: [u8; 7] = [0x02, 0x00, 0x1b, 0x63, 0x00, 0x00, 0x42];

fn t(s: u64) -> Timestamp {
    Timestamp::from_unix_seconds(s)
}

/// A CBOR item for building payloads by hand, definite or not.
#[derive(Clone)]
enum C {
    U(u64),
    N(u64),
    T(&'static str),
    B(Vec<u8>),
    A(Vec<C>),
    M(Vec<(C, C)>),
    /// An indefinite-length map.
    IM(Vec<(C, C)>),
    Raw(Vec<u8>),
}

fn head(out: &mut Vec<u8>, major: u8, n: u64) {
    let m = major << 5;
    match n {
        0..=23 => out.push(m | n as u8),
        24..=0xff => out.extend_from_slice(&[m | 24, n as u8]),
        0x100..=0xffff => {
            out.push(m | 25);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        _ => {
            out.push(m | 26);
            out.extend_from_slice(&(n as u32).to_be_bytes());
        }
    }
}

fn enc(c: &C, out: &mut Vec<u8>) {
    match c {
        C::U(n) => head(out, 0, *n),
        C::N(n) => head(out, 1, *n),
        C::T(s) => {
            head(out, 3, s.len() as u64);
            out.extend_from_slice(s.as_bytes());
        }
        C::B(b) => {
            head(out, 2, b.len() as u64);
            out.extend_from_slice(b);
        }
        C::A(items) => {
            head(out, 4, items.len() as u64);
            items.iter().for_each(|i| enc(i, out));
        }
        C::M(entries) => {
            head(out, 5, entries.len() as u64);
            for (k, v) in entries {
                enc(k, out);
                enc(v, out);
            }
        }
        C::IM(entries) => {
            out.push(0xbf);
            for (k, v) in entries {
                enc(k, out);
                enc(v, out);
            }
            out.push(0xff);
        }
        C::Raw(b) => out.extend_from_slice(b),
    }
}

fn bytes(c: &C) -> Vec<u8> {
    let mut out = Vec::new();
    enc(c, &mut out);
    out
}

/// An appraisal as Veraison writes it: indefinite map, status, vector.
fn appraisal(status: u64, executables: u64) -> C {
    C::IM(vec![
        (C::U(1000), C::U(status)),
        (
            C::U(1001),
            C::IM(vec![(C::U(0), C::U(2)), (C::U(2), C::U(executables))]),
        ),
    ])
}

/// Claims as `ear` 0.6.0 writes them (its key order, indefinite maps), with
/// `extra` appended: profile, iat, verifier id, submods, top status, nonce.
fn ear_claims(status: u64, extra: Vec<(C, C)>) -> Vec<(C, C)> {
    let mut claims = vec![
        (C::U(265), C::T(PROFILE)),
        (C::U(6), C::U(NOW - 10)),
        (
            C::U(1004),
            C::M(vec![
                (C::U(0), C::T("https://veraison.example")),
                (C::U(1), C::T("ear 0.6.0")),
            ]),
        ),
        (C::U(266), C::M(vec![(C::T("door-ctl"), appraisal(status, status))])),
        (C::U(1000), C::U(status)),
        (C::U(10), C::B(NONCE.to_vec())),
    ];
    claims.extend(extra);
    claims
}

fn ed_key() -> Box<dyn Signer> {
    citysec_rustcrypto::PROVIDER
        .signer(SigningKey::ed25519(&[7; 32]))
        .unwrap()
}

fn es_key() -> Box<dyn Signer> {
    citysec_rustcrypto::PROVIDER
        .signer(SigningKey::p256(&[9; 32]).unwrap())
        .unwrap()
}

fn sign(key: &dyn Signer, payload: &[u8]) -> Vec<u8> {
    sign1::sign(key, payload, b"").unwrap()
}

/// The policy for a Veraison-style verifier: no audience required, 5 minutes
/// from `iat`, the device appraisal labelled `door-ctl`.
fn veraison_policy() -> ExternalEarPolicy {
    ExternalEarPolicy::new("door-controllers", "door-ctl")
        .with_audience(AudienceRule::IfPresent("door-controllers".into()))
        .with_expiry(ExpiryRule::MaxAge(300))
}

fn verifier(key: &dyn Signer, policy: ExternalEarPolicy) -> ExternalEarVerifier {
    ExternalEarVerifier::new(&citysec_rustcrypto::PROVIDER, key.verifying_key().clone(), policy).unwrap()
}

fn by_nonce() -> ExpectedDevice<'static> {
    ExpectedDevice {
        ueid: None,
        nonce: Some(&NONCE),
    }
}

#[test]
fn a_veraison_style_ear_is_read_for_both_algorithms_and_statuses() {
    for key in [ed_key(), es_key()] {
        for (code, tier) in [(2, Tier::Affirming), (96, Tier::Contraindicated)] {
            let token = sign(&*key, &bytes(&C::IM(ear_claims(code, vec![]))));
            let ear = verifier(&*key, veraison_policy())
                .verify(&token, t(NOW), by_nonce())
                .unwrap();
            assert_eq!(ear.status, tier);
            assert_eq!(ear.device.name, "door-ctl");
            assert_eq!(ear.device.status, tier);
            assert_eq!(ear.device.trust_vector.unwrap().executables, Some(code as i8));
            assert_eq!(ear.verifier_id.developer, "https://veraison.example");
            assert_eq!(ear.issued_at, t(NOW - 10));
            assert_eq!(ear.expires, None);
            assert_eq!(ear.nonce.as_deref(), Some(&NONCE[..]));
            assert_eq!(ear.is_affirming(), code == 2);
        }
    }
}

#[test]
fn citysec_results_read_through_the_external_path() {
    // A citysec result (definite maps, every binding) under the strict policy.
    let claims = ear_claims(
        2,
        vec![
            (C::U(3), C::T("door-controllers")),
            (C::U(4), C::U(NOW + 3600)),
            (C::U(256), C::B(UEID.to_vec())),
        ],
    );
    let key = ed_key();
    let token = sign(&*key, &bytes(&C::M(claims)));
    let strict = ExternalEarPolicy::new("door-controllers", "door-ctl");
    let ear = verifier(&*key, strict)
        .verify(
            &token,
            t(NOW),
            ExpectedDevice {
                ueid: Some(&UEID),
                nonce: None,
            },
        )
        .unwrap();
    assert_eq!(ear.ueid.as_deref(), Some(&UEID[..]));
    assert_eq!(ear.audience, vec!["door-controllers".to_string()]);
}

fn refused(token: &[u8], policy: ExternalEarPolicy, expected: ExpectedDevice<'_>) -> Error {
    verifier(&*ed_key(), policy)
        .verify(token, t(NOW), expected)
        .unwrap_err()
}

fn refused_claims(claims: Vec<(C, C)>, policy: ExternalEarPolicy, expected: ExpectedDevice<'_>) -> Error {
    refused(&sign(&*ed_key(), &bytes(&C::IM(claims))), policy, expected)
}

#[test]
fn cose_layer_faults_are_refused_before_the_payload_is_read() {
    let payload = bytes(&C::IM(ear_claims(2, vec![])));
    let token = sign(&*ed_key(), &payload);
    // Unsigned: the bare claims, and a Sign1 whose signature was cut off.
    assert_eq!(
        refused(&payload, veraison_policy(), by_nonce()),
        Error::Core(CoreError::WrongTag)
    );
    let mut cut = token.clone();
    let sig_at = cut.len() - 64;
    cut.truncate(sig_at - 2);
    cut.extend_from_slice(&[0x40]);
    assert_eq!(
        refused(&cut, veraison_policy(), by_nonce()),
        Error::Core(CoreError::BadSignature)
    );
    // Another verifier's key.
    let other = verifier(&*es_key(), veraison_policy());
    assert_eq!(
        other.verify(&token, t(NOW), by_nonce()).unwrap_err(),
        Error::Core(CoreError::KeyAlgMismatch)
    );
    let other_ed = citysec_rustcrypto::PROVIDER
        .signer(SigningKey::ed25519(&[8; 32]))
        .unwrap();
    assert_eq!(
        verifier(&*other_ed, veraison_policy())
            .verify(&token, t(NOW), by_nonce())
            .unwrap_err(),
        Error::Core(CoreError::BadSignature)
    );
    // Indefinite lengths in the COSE structure, before the signature check: the
    // Sign1 array, and the protected header map.
    let mut indefinite_array = token.clone();
    assert_eq!(indefinite_array[1], 0x84);
    indefinite_array[1] = 0x9f;
    indefinite_array.push(0xff);
    assert_eq!(
        refused(&indefinite_array, veraison_policy(), by_nonce()),
        Error::Core(CoreError::IndefiniteLength)
    );
    let protected_len = token[2] & 0x1f;
    let mut indefinite_header = vec![0xd2, 0x84, 0x40 | (protected_len + 1), 0xbf];
    indefinite_header.extend_from_slice(&token[4..3 + protected_len as usize]);
    indefinite_header.push(0xff);
    indefinite_header.extend_from_slice(&token[3 + protected_len as usize..]);
    assert_eq!(
        refused(&indefinite_header, veraison_policy(), by_nonce()),
        Error::Core(CoreError::IndefiniteLength)
    );
    // An EAR as JWT.
    assert_eq!(
        refused(b"eyJhbGciOiJFUzI1NiJ9.eyJlYXQ.sig", veraison_policy(), by_nonce()),
        Error::External(ExternalError::Jwt)
    );
}

#[test]
fn payload_faults_are_typed_errors() {
    let ext = |e| Error::External(ExternalError::Payload(e));
    // Nested beyond the depth limit (16) inside an extension.
    let mut deep = C::U(0);
    for _ in 0..20 {
        deep = C::A(vec![deep]);
    }
    assert_eq!(
        refused_claims(ear_claims(2, vec![(C::N(65600), deep)]), veraison_policy(), by_nonce()),
        ext(CoreError::TooDeep)
    );
    // A duplicate key (in an indefinite map), a tag, trailing bytes.
    assert_eq!(
        refused_claims(ear_claims(2, vec![(C::U(6), C::U(NOW))]), veraison_policy(), by_nonce()),
        ext(CoreError::DuplicateMapKey)
    );
    assert_eq!(
        refused_claims(
            ear_claims(2, vec![(C::N(65600), C::Raw(vec![0xc1, 0x01]))]),
            veraison_policy(),
            by_nonce()
        ),
        ext(CoreError::UnexpectedTag)
    );
    let mut trailing = bytes(&C::IM(ear_claims(2, vec![])));
    trailing.push(0x00);
    assert_eq!(
        refused(&sign(&*ed_key(), &trailing), veraison_policy(), by_nonce()),
        ext(CoreError::TrailingBytes)
    );
    // A break where no indefinite item is open; a truncated indefinite map.
    let mut stray = bytes(&C::M(ear_claims(2, vec![])));
    stray.push(0xff);
    assert_eq!(
        refused(&sign(&*ed_key(), &stray), veraison_policy(), by_nonce()),
        ext(CoreError::TrailingBytes)
    );
    let mut open = bytes(&C::IM(ear_claims(2, vec![])));
    open.pop();
    assert_eq!(
        refused(&sign(&*ed_key(), &open), veraison_policy(), by_nonce()),
        ext(CoreError::Malformed)
    );
    // More entries than the limit allows, in an indefinite array.
    let many = C::Raw([vec![0x9f], vec![0x00; 300], vec![0xff]].concat());
    assert_eq!(
        refused_claims(ear_claims(2, vec![(C::N(65600), many)]), veraison_policy(), by_nonce()),
        ext(CoreError::TooManyEntries)
    );
}

/// What is refused, its claims, the policy, the expected device, the error.
type Case = (
    &'static str,
    Vec<(C, C)>,
    ExternalEarPolicy,
    ExpectedDevice<'static>,
    ExternalError,
);

#[test]
fn claims_faults_and_missing_bindings_are_typed_errors() {
    let e = |x| Error::External(x);
    let status_99 = |claims: Vec<(C, C)>| {
        claims
            .into_iter()
            .map(|(k, v)| match k {
                C::U(266) => (k, C::M(vec![(C::T("door-ctl"), appraisal(99, 2))])),
                _ => (k, v),
            })
            .collect::<Vec<_>>()
    };
    let without = |key: u64, claims: Vec<(C, C)>| {
        claims
            .into_iter()
            .filter(|(k, _)| !matches!(k, C::U(n) if *n == key))
            .collect::<Vec<_>>()
    };
    let replace = |key: u64, value: C, claims: Vec<(C, C)>| {
        claims
            .into_iter()
            .map(|(k, v)| match k {
                C::U(n) if n == key => (k, value.clone()),
                _ => (k, v),
            })
            .collect::<Vec<_>>()
    };
    let strict = || ExternalEarPolicy::new("door-controllers", "door-ctl");
    let cases: Vec<Case> = vec![
        (
            "a submodule status out of range",
            without(1000, status_99(ear_claims(2, vec![]))),
            veraison_policy(),
            by_nonce(),
            ExternalError::StatusOutOfRange,
        ),
        (
            "another profile",
            replace(265, C::T("tag:github.com,2023:veraison/ear"), ear_claims(2, vec![])),
            veraison_policy(),
            by_nonce(),
            ExternalError::Profile,
        ),
        (
            "top-level status better than a submodule's",
            replace(1000, C::U(2), ear_claims(96, vec![])),
            veraison_policy(),
            by_nonce(),
            ExternalError::StatusInconsistent,
        ),
        (
            "no aud, the policy requires one",
            ear_claims(2, vec![(C::U(4), C::U(NOW + 60))]),
            strict(),
            by_nonce(),
            ExternalError::MissingAudience,
        ),
        (
            "another audience",
            ear_claims(2, vec![(C::U(3), C::T("parking"))]),
            veraison_policy(),
            by_nonce(),
            ExternalError::WrongAudience,
        ),
        (
            "no exp, the policy requires one",
            ear_claims(2, vec![(C::U(3), C::T("door-controllers"))]),
            strict(),
            by_nonce(),
            ExternalError::MissingExpiry,
        ),
        (
            "expired",
            ear_claims(2, vec![(C::U(4), C::U(NOW - 61))]),
            veraison_policy(),
            by_nonce(),
            ExternalError::Expired,
        ),
        (
            "older than the maximum age",
            replace(6, C::U(NOW - 301), ear_claims(2, vec![])),
            veraison_policy(),
            by_nonce(),
            ExternalError::TooOld,
        ),
        (
            "issued in the future",
            replace(6, C::U(NOW + 61), ear_claims(2, vec![])),
            veraison_policy(),
            by_nonce(),
            ExternalError::IssuedInFuture,
        ),
        (
            "no ueid and no nonce",
            without(10, ear_claims(2, vec![])),
            veraison_policy(),
            by_nonce(),
            ExternalError::MissingDeviceBinding,
        ),
        (
            "a nonce, but the relying party issued none and knows no ueid",
            ear_claims(2, vec![]),
            veraison_policy(),
            ExpectedDevice::default(),
            ExternalError::MissingDeviceBinding,
        ),
        (
            "another nonce",
            ear_claims(2, vec![]),
            veraison_policy(),
            ExpectedDevice {
                ueid: None,
                nonce: Some(&[0x11; 16]),
            },
            ExternalError::NonceMismatch,
        ),
        (
            "another device",
            ear_claims(2, vec![(C::U(256), C::B(vec![2, 0, 0, 0, 0, 0, 1]))]),
            veraison_policy(),
            ExpectedDevice {
                ueid: Some(&UEID),
                nonce: None,
            },
            ExternalError::DeviceMismatch,
        ),
        (
            "no iat",
            without(6, ear_claims(2, vec![])),
            veraison_policy(),
            by_nonce(),
            ExternalError::Malformed,
        ),
        (
            "empty submods",
            without(1000, replace(266, C::M(vec![]), ear_claims(2, vec![]))),
            veraison_policy(),
            by_nonce(),
            ExternalError::Malformed,
        ),
        (
            "a vector key beyond 7",
            replace(
                266,
                C::M(vec![(
                    C::T("door-ctl"),
                    C::M(vec![
                        (C::U(1000), C::U(2)),
                        (C::U(1001), C::M(vec![(C::U(8), C::U(2))])),
                    ]),
                )]),
                ear_claims(2, vec![]),
            ),
            veraison_policy(),
            by_nonce(),
            ExternalError::StatusOutOfRange,
        ),
    ];
    for (what, claims, policy, expected, error) in cases {
        assert_eq!(refused_claims(claims, policy, expected), e(error), "{what}");
    }
    assert_eq!(
        refused_claims(
            ear_claims(2, vec![]),
            ExternalEarPolicy::new("door-controllers", "camera")
                .with_audience(AudienceRule::IfPresent("door-controllers".into()))
                .with_expiry(ExpiryRule::MaxAge(300)),
            by_nonce()
        ),
        e(ExternalError::NoDeviceSubmodule)
    );
    // The relaxation: an EAR binding no device, accepted only when configured.
    let unbound = without(10, ear_claims(2, vec![]));
    let token = sign(&*ed_key(), &bytes(&C::IM(unbound)));
    let ear = verifier(&*ed_key(), veraison_policy().allowing_unbound_device())
        .verify(&token, t(NOW), ExpectedDevice::default())
        .unwrap();
    assert_eq!(ear.nonce, None);
}

/// `none` (no claim) never counts as more trust than a claim.
#[test]
fn a_device_appraisal_without_a_status_is_not_trusted() {
    let key = ed_key();
    let no_status = C::IM(vec![(C::U(1001), C::IM(vec![(C::U(0), C::U(2))]))]);
    let submods = |device: C, other: Option<C>| {
        let mut m = vec![(C::T("door-ctl"), device)];
        if let Some(o) = other {
            m.push((C::T("modem"), o));
        }
        (C::U(266), C::M(m))
    };
    let claims = |entries: Vec<(C, C)>, top: Option<u64>| {
        let mut c: Vec<(C, C)> = ear_claims(2, vec![])
            .into_iter()
            .filter(|(k, _)| !matches!(k, C::U(266 | 1000)))
            .collect();
        c.extend(entries);
        if let Some(t) = top {
            c.push((C::U(1000), C::U(t)));
        }
        c
    };
    // The device appraisal has no status and the top level claims affirming.
    let token = sign(
        &*key,
        &bytes(&C::IM(claims(vec![submods(no_status.clone(), None)], Some(2)))),
    );
    assert_eq!(
        refused(&token, veraison_policy(), by_nonce()),
        Error::External(ExternalError::StatusInconsistent)
    );
    // No top level, another submodule affirming: read, but not affirming.
    let token = sign(
        &*key,
        &bytes(&C::IM(claims(vec![submods(no_status, Some(appraisal(2, 2)))], None))),
    );
    let ear = verifier(&*key, veraison_policy())
        .verify(&token, t(NOW), by_nonce())
        .unwrap();
    assert_eq!(ear.device.status, Tier::None);
    assert_eq!(ear.status, Tier::None);
    assert_eq!(ear.tier(), Tier::None);
    assert!(!ear.is_affirming());
    // A top-level `none` over an affirming device: read, not affirming.
    let token = sign(
        &*key,
        &bytes(&C::IM(claims(vec![submods(appraisal(2, 2), None)], Some(0)))),
    );
    let ear = verifier(&*key, veraison_policy())
        .verify(&token, t(NOW), by_nonce())
        .unwrap();
    assert_eq!(ear.device.status, Tier::Affirming);
    assert_eq!(ear.tier(), Tier::None);
    assert!(!ear.is_affirming());
}

/// The payload decoder's steps per byte on its worst shapes: the deepest
/// nesting, maps of the most entries with keys in descending order, a map of
/// the most text keys in shuffled order sharing a long prefix (the costliest
/// sort), chunked strings of one-byte chunks.
#[test]
fn payload_decoding_is_linear_in_its_input() {
    let limits = Limits::DEFAULT;
    let mut shapes: Vec<(&str, Vec<u8>)> = Vec::new();
    let mut deep = vec![0x00];
    for _ in 0..16 {
        deep = [vec![0x9f], deep, vec![0xff]].concat();
    }
    shapes.push(("deepest indefinite arrays", deep));
    // 60 maps of 256 descending integer keys each, in an indefinite array.
    let mut maps = vec![0x9f];
    for _ in 0..60 {
        maps.extend_from_slice(&[0xb9, 0x01, 0x00]);
        for k in (0..256u16).rev() {
            maps.extend_from_slice(&[0x19]);
            maps.extend_from_slice(&k.to_be_bytes());
            maps.push(0x00);
        }
    }
    maps.push(0xff);
    shapes.push(("descending maps", maps));
    // 256 text keys of 200 bytes, a shared 196-byte prefix, shuffled.
    let mut order: Vec<u32> = (0..256).collect();
    let mut x = 0x2545_f491u32;
    for i in (1..order.len()).rev() {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        order.swap(i, x as usize % (i + 1));
    }
    let mut texts = vec![0xb9, 0x01, 0x00];
    for k in order {
        texts.extend_from_slice(&[0x78, 200]);
        texts.extend_from_slice(&[b'p'; 196]);
        texts.extend_from_slice(format!("{k:04}").as_bytes());
        texts.push(0x00);
    }
    shapes.push(("shuffled shared-prefix text keys", texts));
    let mut chunks = vec![0x7f];
    for _ in 0..20_000 {
        chunks.extend_from_slice(&[0x61, b'a']);
    }
    chunks.push(0xff);
    shapes.push(("one-byte text chunks", chunks));
    // log2(256) + 1 = 9 steps per byte at most (see decode_payload).
    for (name, bytes) in shapes {
        let (out, steps) = decode_payload_counted(&bytes, &limits);
        assert!(out.is_ok(), "{name}: {out:?}");
        println!("{name}: {steps} steps for {} bytes", bytes.len());
        assert!(
            steps <= 9 * bytes.len(),
            "{name}: {steps} steps for {} bytes",
            bytes.len()
        );
    }
}
