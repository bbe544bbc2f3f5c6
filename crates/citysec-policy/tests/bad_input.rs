//! Every "Bad input" item of issue 7, each with its exact outcome, plus the other
//! ways a bundle can be wrong. Bundles are signed for real, so a rejection is never
//! a signature failure in disguise unless the test says so.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::cast_possible_truncation,
    reason = "test code: a failed unwrap or index is a failed test"
)]

use citysec_core::coset::{Header, HeaderBuilder};
use citysec_core::sign1::{self, Tagging};
use citysec_core::{Error, SigningKey};
use citysec_policy::bundle::PolicySigners;
use citysec_policy::bundle::{self, BundleError, BundleSource, CONTENT_TYPE, LoadOptions};
use citysec_policy::{
    Decision, Diagnostic, DiagnosticKind, EvalErrorKind, PolicyLimits, PolicySet, Reason, RuleError, Schema, Value,
    compile,
};

const SCHEMA: &str = "
action open;
resource door;
subject.roles: set<string>;
resource.zone: string;
context.hour: int;
context.threat_level: int;
";

const POLICY: &str = r#"permit "staff"
  action open on door
  when subject.roles has "staff" and context.hour in 7..19;

forbid "lockdown"
  action * on *
  when context.threat_level >= 3
  unless subject.roles has "security";
"#;

fn schema() -> Schema {
    Schema::parse(SCHEMA, &PolicyLimits::DEFAULT).unwrap()
}

fn only_error(src: &str) -> Diagnostic {
    let errs = compile(&schema(), src, &PolicyLimits::DEFAULT).unwrap_err().into_vec();
    assert_eq!(errs.len(), 1, "{errs:?}");
    errs.into_iter().next().unwrap()
}

fn summary(d: &Diagnostic) -> (DiagnosticKind, u32, u32, &str, &str, &str) {
    (d.kind, d.line, d.column, &d.found, &d.expected, &d.note)
}

// ------------------------------------------------------------------ language

#[test]
fn unterminated_string() {
    let d = only_error("permit \"staff action open on door;\n");
    assert_eq!(
        summary(&d),
        (
            DiagnosticKind::UnterminatedString,
            1,
            8,
            "\"staff action open on door;",
            "a closing `\"` before the end of the line",
            ""
        )
    );
    // Also inside a condition, on a later line.
    let d = only_error("permit \"s\" action open on door\n  when resource.zone == \"lobby;\n");
    assert_eq!((d.kind, d.line, d.column), (DiagnosticKind::UnterminatedString, 2, 25));
    assert_eq!(
        d.to_string(),
        "2:25: error: unterminated string: found `\"lobby;`, expected a closing `\"` before the end of the line"
    );
}

#[test]
fn unknown_attribute() {
    let d = only_error("permit \"s\" action open on door\n  when subject.role has \"staff\";");
    assert_eq!(
        summary(&d),
        (
            DiagnosticKind::UnknownAttribute,
            2,
            8,
            "subject.role",
            "an attribute declared in the schema",
            "did you mean `subject.roles`?"
        )
    );
    let d = only_error("permit \"s\" action open on door when context.weather == \"rain\";");
    assert_eq!(d.kind, DiagnosticKind::UnknownAttribute);
    assert_eq!(
        d.note,
        "declared: subject.roles, resource.zone, context.hour, context.threat_level"
    );
}

#[test]
fn type_mismatch() {
    let d = only_error("permit \"s\" action open on door when context.hour >= \"7\";");
    assert_eq!(
        summary(&d),
        (
            DiagnosticKind::TypeMismatch,
            1,
            53,
            "\"7\"",
            "an integer (to match context.hour)",
            ""
        )
    );
    let d = only_error("permit \"s\" action open on door when subject.roles == \"staff\";");
    assert_eq!(
        summary(&d),
        (
            DiagnosticKind::TypeMismatch,
            1,
            37,
            "subject.roles == \"staff\"",
            "`has` to test membership of subject.roles (set<string>); sets are not compared",
            ""
        )
    );
}

/// Runs `f` on a thread with a small stack, so unbounded recursion would crash.
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap()
}

#[test]
fn ten_thousand_deep_parentheses_are_an_error_not_a_stack_overflow() {
    let d = on_small_stack(|| {
        let src = format!(
            "permit \"deep\" action * on * when {}true{};",
            "(".repeat(10_000),
            ")".repeat(10_000)
        );
        let errs = compile(&schema(), &src, &PolicyLimits::DEFAULT).unwrap_err().into_vec();
        assert_eq!(errs.len(), 1);
        errs.into_iter().next().unwrap()
    });
    // The 33rd `(` (column 34 + 32) is one level too deep.
    assert_eq!(
        summary(&d),
        (
            DiagnosticKind::TooDeep,
            1,
            66,
            "(",
            "at most 32 nested parentheses and `not` (PolicyLimits::max_depth)",
            ""
        )
    );
    let d = on_small_stack(|| {
        let src = format!("permit \"deep\" action * on * when {}true;", "not ".repeat(10_000));
        compile(&schema(), &src, &PolicyLimits::DEFAULT)
            .unwrap_err()
            .into_vec()
            .remove(0)
    });
    assert_eq!(
        (d.kind, d.column, d.found.as_str()),
        (DiagnosticKind::TooDeep, 162, "not")
    );
    // 32 levels are fine.
    let src = format!(
        "permit \"ok\" action * on * when {}true{};",
        "(".repeat(32),
        ")".repeat(32)
    );
    assert!(compile(&schema(), &src, &PolicyLimits::DEFAULT).is_ok());
}

#[test]
fn ten_megabyte_policy_is_a_limit_error() {
    let rule = "permit \"r\" action open on door when context.hour in 7..19;\n";
    let src = rule.repeat(10 * 1024 * 1024 / rule.len() + 1);
    assert!(src.len() > 10 * 1024 * 1024);
    let d = only_error(&src);
    assert_eq!(
        summary(&d),
        (
            DiagnosticKind::TooLarge,
            1,
            1,
            format!("{} bytes", src.len()).as_str(),
            "at most 1048576 bytes (PolicyLimits::max_source_len)",
            ""
        )
    );
    // The schema parser applies the same limit.
    let big_schema = "context.x: int;\n".repeat(700_000);
    let e = Schema::parse(&big_schema, &PolicyLimits::DEFAULT).unwrap_err();
    assert_eq!(e.first().unwrap().kind, DiagnosticKind::TooLarge);
}

#[test]
fn duplicate_rule_ids() {
    let d = only_error(
        "permit \"staff\" action open on door;\n\
         forbid \"other\" action open on door when context.hour < 6;\n\
         permit \"staff\" action open on door when context.hour > 3;",
    );
    assert_eq!(
        summary(&d),
        (
            DiagnosticKind::DuplicateRuleId,
            3,
            8,
            "\"staff\"",
            "a rule id not used before",
            "first used at line 1"
        )
    );
}

#[test]
fn request_missing_an_attribute_a_forbid_needs_is_denied() {
    let policy = compile(&schema(), POLICY, &PolicyLimits::DEFAULT).unwrap().policy;
    let staff = ["staff"];
    let mut req = policy.request();
    req.set_action_name("open")
        .unwrap()
        .set_resource_type_name("door")
        .unwrap();
    req.set_named("subject.roles", Value::StringSet(&staff)).unwrap();
    req.set_named("context.hour", Value::Int(9)).unwrap();
    req.set_named("context.threat_level", Value::Int(0)).unwrap();
    assert_eq!(req.evaluate().decision(), Decision::Allow);

    // Without context.threat_level the lockdown forbid cannot be evaluated: deny.
    req.unset(policy.attribute("context.threat_level").unwrap()).unwrap();
    let r = req.evaluate();
    assert_eq!((r.decision(), r.reason()), (Decision::Deny, Reason::Forbidden));
    assert_eq!(r.rules().collect::<Vec<_>>(), ["lockdown"]);
    assert_eq!(
        r.errors().collect::<Vec<_>>(),
        [RuleError {
            rule: "lockdown",
            effect: citysec_policy::Effect::Forbid,
            attribute: "context.threat_level",
            kind: EvalErrorKind::Missing,
        }]
    );
    // The same with the wrong type.
    req.set_named("context.threat_level", Value::String("high")).unwrap();
    let r = req.evaluate();
    assert_eq!((r.decision(), r.reason()), (Decision::Deny, Reason::Forbidden));
    assert_eq!(
        r.errors().next().unwrap().kind,
        EvalErrorKind::WrongType {
            expected: citysec_policy::Type::Int,
            found: citysec_policy::Type::String
        }
    );
}

// ------------------------------------------------------------------ bundles

const SCOPE: &str = "site:lyon-3";

fn signer() -> SigningKey {
    SigningKey::ed25519(&[7u8; 32]).with_kid(*b"signer-1")
}

fn trusted() -> PolicySigners {
    PolicySigners::from_keys(
        &citysec_rustcrypto::PROVIDER,
        [citysec_rustcrypto::PROVIDER.public_key(&signer()).unwrap()],
    )
    .unwrap()
}

fn make(version: u64) -> Vec<u8> {
    let src = BundleSource {
        schema: SCHEMA,
        policy: POLICY,
        version,
        issued_at: 1_790_000_000,
        scope: SCOPE,
    };
    bundle::create(
        &citysec_rustcrypto::signer_copy(&signer()).unwrap(),
        &src,
        &PolicyLimits::DEFAULT,
    )
    .unwrap()
}

fn load(bytes: &[u8], held: Option<u64>) -> Result<bundle::Bundle, BundleError> {
    let opts = LoadOptions {
        held_version: held,
        ..LoadOptions::default()
    };
    bundle::load(&trusted(), bytes, &opts)
}

#[test]
fn bundle_round_trip() {
    let b = load(&make(3), None).unwrap();
    assert_eq!(
        (b.version(), b.issued_at(), b.kid()),
        (3, 1_790_000_000, &b"signer-1"[..])
    );
    let direct = compile(&schema(), POLICY, &PolicyLimits::DEFAULT).unwrap().policy;
    assert_eq!(b.digest(), &direct.digest());
    assert_eq!(b.policy().len(), 2);
}

#[test]
fn bundle_signed_by_an_untrusted_key() {
    let rogue = SigningKey::ed25519(&[9u8; 32]).with_kid(*b"rogue");
    let src = BundleSource {
        schema: SCHEMA,
        policy: POLICY,
        version: 9,
        issued_at: 1_790_000_000,
        scope: SCOPE,
    };
    let signed = bundle::create(
        &citysec_rustcrypto::signer_copy(&rogue).unwrap(),
        &src,
        &PolicyLimits::DEFAULT,
    )
    .unwrap();
    assert_eq!(load(&signed, None).unwrap_err(), BundleError::Cose(Error::UnknownKey));
    // A different key claiming the trusted kid fails the signature check.
    let impostor = SigningKey::ed25519(&[9u8; 32]).with_kid(*b"signer-1");
    let signed = bundle::create(
        &citysec_rustcrypto::signer_copy(&impostor).unwrap(),
        &src,
        &PolicyLimits::DEFAULT,
    )
    .unwrap();
    assert_eq!(load(&signed, None).unwrap_err(), BundleError::Cose(Error::BadSignature));
}

#[test]
fn bundle_with_a_lower_or_equal_version_is_refused() {
    let b4 = make(4);
    assert_eq!(
        load(&b4, Some(5)).unwrap_err(),
        BundleError::Rollback { held: 5, version: 4 }
    );
    assert_eq!(
        load(&make(5), Some(5)).unwrap_err(),
        BundleError::Rollback { held: 5, version: 5 }
    );
    assert_eq!(load(&make(6), Some(5)).unwrap().version(), 6);
    assert_eq!(load(&b4, None).unwrap().version(), 4);
}

#[test]
fn bundle_with_trailing_bytes_is_refused() {
    let mut b = make(2);
    b.push(0x00);
    assert_eq!(load(&b, None).unwrap_err(), BundleError::Cose(Error::TrailingBytes));
}

#[test]
fn tampered_or_untagged_bundles_are_refused() {
    let b = make(2);
    let pos = b.windows(8).position(|w| w == b"lockdown").unwrap();
    let mut t = b.clone();
    t[pos] = b'L';
    assert_eq!(load(&t, None).unwrap_err(), BundleError::Cose(Error::BadSignature));
    assert_eq!(b[0], 0xd2);
    assert_eq!(load(&b[1..], None).unwrap_err(), BundleError::Cose(Error::WrongTag));
    let small = LoadOptions {
        max_bundle_len: 64,
        ..LoadOptions::default()
    };
    assert_eq!(
        bundle::load(&trusted(), &b, &small).unwrap_err(),
        BundleError::Cose(Error::TooLarge)
    );
}

#[test]
fn bundle_headers_of_another_shape_are_refused_first() {
    assert_eq!(bundle::MAX_PROTECTED_HEADER, 256);
    let b = make(2);
    // d2 84, the protected bstr (head 0x58 and its length), then a0
    assert_eq!(&b[..3], &[0xd2, 0x84, 0x58]);
    let plen = usize::from(b[3]);
    // alg, the content type and the 8-byte kid "signer-1": 50 + 8 bytes
    assert_eq!(plen, 58);
    assert_eq!(b[4 + plen], 0xa0);
    // an unprotected kid, signed for real: refused before the signature check
    let src = make_payload_with_unprotected_kid();
    assert_eq!(load(&src, None).unwrap_err(), BundleError::HeaderShape);
    // the same bundle wrapped in CWT tag 61 is read the same way
    let mut cwt = vec![0xd8, 0x3d];
    cwt.extend_from_slice(&src);
    assert_eq!(load(&cwt, None).unwrap_err(), BundleError::HeaderShape);
    // a protected header of 257 bytes (an extra label with a long value)
    let long = HeaderBuilder::new()
        .content_type(CONTENT_TYPE.into())
        .value(-70_000, citysec_core::coset::cbor::Value::Bytes(vec![0; 200]))
        .build();
    let msg = sign1::sign_with_headers(
        &citysec_rustcrypto::signer_copy(&signer()).unwrap(),
        long,
        Header::default(),
        b"x",
        b"",
        Tagging::Tagged,
    )
    .unwrap();
    assert!(msg[3] as usize > 256 || msg[2] == 0x59, "protected header is long");
    assert_eq!(load(&msg, None).unwrap_err(), BundleError::HeaderShape);
    // the shape is read before the well-formedness pass: junk after the empty
    // unprotected map is the COSE checks' to name
    let mut junk = b[..5 + plen].to_vec();
    junk.extend_from_slice(&[0x1c; 8]);
    assert_eq!(load(&junk, None).unwrap_err(), BundleError::Cose(Error::Malformed));
    // message the size of the limit with a large unprotected map: refused at once
    let mut big = b[..4 + plen].to_vec();
    big.extend_from_slice(&[0xb9, 0x01, 0x00]);
    big.resize(LoadOptions::default().max_bundle_len, 0);
    assert_eq!(load(&big, None).unwrap_err(), BundleError::HeaderShape);
}

fn make_payload_with_unprotected_kid() -> Vec<u8> {
    let d = digest();
    let mut f = good_fields(&d);
    f[0] = F::U(1, 1);
    let protected = HeaderBuilder::new().content_type(CONTENT_TYPE.into()).build();
    let unprotected = HeaderBuilder::new().key_id(b"signer-1".to_vec()).build();
    let key = SigningKey::ed25519(&[7u8; 32]);
    sign1::sign_with_headers(
        &citysec_rustcrypto::signer_copy(&key).unwrap(),
        protected,
        unprotected,
        &payload(&f),
        b"",
        Tagging::Tagged,
    )
    .unwrap()
}

/// CBOR helpers to build payloads by hand.
fn head(out: &mut Vec<u8>, major: u8, n: u64) {
    let m = major << 5;
    match n {
        0..=23 => out.push(m | n as u8),
        24..=0xff => out.extend([m | 24, n as u8]),
        0x100..=0xffff => {
            out.push(m | 25);
            out.extend((n as u16).to_be_bytes());
        }
        _ => {
            out.push(m | 27);
            out.extend(n.to_be_bytes());
        }
    }
}

fn text(out: &mut Vec<u8>, s: &str) {
    head(out, 3, s.len() as u64);
    out.extend(s.as_bytes());
}

/// A payload map with the given entries, in order.
enum F<'a> {
    U(u64, u64),
    T(u64, &'a str),
    B(u64, &'a [u8]),
}

fn payload(fields: &[F<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    head(&mut out, 5, fields.len() as u64);
    for f in fields {
        match f {
            F::U(k, v) => {
                head(&mut out, 0, *k);
                head(&mut out, 0, *v);
            }
            F::T(k, v) => {
                head(&mut out, 0, *k);
                text(&mut out, v);
            }
            F::B(k, v) => {
                head(&mut out, 0, *k);
                head(&mut out, 2, v.len() as u64);
                out.extend(*v);
            }
        }
    }
    out
}

fn sign_payload(payload: &[u8], content_type: Option<&str>) -> Vec<u8> {
    let protected = match content_type {
        Some(ct) => HeaderBuilder::new().content_type(ct.into()).build(),
        None => Header::default(),
    };
    sign1::sign_with_headers(
        &citysec_rustcrypto::signer_copy(&signer()).unwrap(),
        protected,
        Header::default(),
        payload,
        b"",
        Tagging::Tagged,
    )
    .unwrap()
}

fn digest() -> [u8; 32] {
    compile(&schema(), POLICY, &PolicyLimits::DEFAULT)
        .unwrap()
        .policy
        .digest()
}

fn good_fields<'a>(d: &'a [u8]) -> Vec<F<'a>> {
    vec![
        F::U(1, 1),
        F::U(2, 8),
        F::U(3, 1_790_000_000),
        F::T(4, SCHEMA),
        F::T(5, POLICY),
        F::B(6, d),
    ]
}

#[test]
fn hand_built_payloads() {
    let d = digest();
    // The hand-built good payload loads: the helpers are right.
    let ok = sign_payload(&payload(&good_fields(&d)), Some(CONTENT_TYPE));
    assert_eq!(load(&ok, None).unwrap().version(), 8);
    // Same payload, key order reversed: still fine.
    let mut rev = good_fields(&d);
    rev.reverse();
    assert!(load(&sign_payload(&payload(&rev), Some(CONTENT_TYPE)), None).is_ok());

    // No or another content type.
    let p = payload(&good_fields(&d));
    assert_eq!(
        load(&sign_payload(&p, None), None).unwrap_err(),
        BundleError::WrongContentType
    );
    assert_eq!(
        load(&sign_payload(&p, Some("application/cwt")), None).unwrap_err(),
        BundleError::WrongContentType
    );

    // A digest of another compiled form.
    let wrong = [0u8; 32];
    let mut f = good_fields(&d);
    f[5] = F::B(6, &wrong);
    assert_eq!(
        load(&sign_payload(&payload(&f), Some(CONTENT_TYPE)), None).unwrap_err(),
        BundleError::DigestMismatch
    );

    // Another format; format 2 without a scope.
    let mut f = good_fields(&d);
    f[0] = F::U(1, 3);
    assert_eq!(
        load(&sign_payload(&payload(&f), Some(CONTENT_TYPE)), None).unwrap_err(),
        BundleError::UnsupportedFormat(3)
    );
    let mut f = good_fields(&d);
    f[0] = F::U(1, 2);
    assert_eq!(
        load(&sign_payload(&payload(&f), Some(CONTENT_TYPE)), None).unwrap_err(),
        BundleError::Malformed
    );

    // An unknown key, a missing key, a short digest, an issue time after 9999.
    let mut f = good_fields(&d);
    f[5] = F::U(7, 1);
    assert_eq!(
        load(&sign_payload(&payload(&f), Some(CONTENT_TYPE)), None).unwrap_err(),
        BundleError::Malformed
    );
    let f = &good_fields(&d)[..5];
    assert_eq!(
        load(&sign_payload(&payload(f), Some(CONTENT_TYPE)), None).unwrap_err(),
        BundleError::Malformed
    );
    let mut f = good_fields(&d);
    f[5] = F::B(6, &d[..31]);
    assert_eq!(
        load(&sign_payload(&payload(&f), Some(CONTENT_TYPE)), None).unwrap_err(),
        BundleError::Malformed
    );
    let mut f = good_fields(&d);
    f[2] = F::U(3, 253_402_300_800);
    assert_eq!(
        load(&sign_payload(&payload(&f), Some(CONTENT_TYPE)), None).unwrap_err(),
        BundleError::Malformed
    );

    // A duplicate key, and trailing bytes inside the signed payload.
    let mut f = good_fields(&d);
    f[1] = F::U(1, 1);
    assert_eq!(
        load(&sign_payload(&payload(&f), Some(CONTENT_TYPE)), None).unwrap_err(),
        BundleError::Cose(Error::DuplicateMapKey)
    );
    let mut p = payload(&good_fields(&d));
    p.push(0x00);
    assert_eq!(
        load(&sign_payload(&p, Some(CONTENT_TYPE)), None).unwrap_err(),
        BundleError::Cose(Error::TrailingBytes)
    );

    // Signed sources that do not compile.
    let mut f = good_fields(&d);
    f[4] = F::T(5, "permit \"x\" action open on door when subject.nope;");
    let err = load(&sign_payload(&payload(&f), Some(CONTENT_TYPE)), None).unwrap_err();
    let BundleError::Compile(diags) = err else {
        panic!("{err:?}")
    };
    assert_eq!(diags.first().unwrap().kind, DiagnosticKind::UnknownAttribute);
}

#[test]
fn create_refuses_sources_that_do_not_compile() {
    let src = BundleSource {
        schema: SCHEMA,
        policy: "permit \"x\" action open on door when context.hour == \"9\";",
        version: 1,
        issued_at: 0,
        scope: SCOPE,
    };
    let err = bundle::create(
        &citysec_rustcrypto::signer_copy(&signer()).unwrap(),
        &src,
        &PolicyLimits::DEFAULT,
    )
    .unwrap_err();
    let BundleError::Compile(d) = err else {
        panic!("{err:?}")
    };
    assert_eq!(d.first().unwrap().kind, DiagnosticKind::TypeMismatch);
}

#[test]
fn es256_bundles_load() {
    let key = SigningKey::p256(&[0x11; 32]).unwrap().with_kid(*b"p256-signer");
    let src = BundleSource {
        schema: SCHEMA,
        policy: POLICY,
        version: 1,
        issued_at: 1_790_000_000,
        scope: SCOPE,
    };
    let signed = bundle::create(
        &citysec_rustcrypto::signer_copy(&key).unwrap(),
        &src,
        &PolicyLimits::DEFAULT,
    )
    .unwrap();
    let keys = PolicySigners::from_keys(
        &citysec_rustcrypto::PROVIDER,
        [citysec_rustcrypto::PROVIDER.public_key(&key).unwrap()],
    )
    .unwrap();
    let b = bundle::load(&keys, &signed, &LoadOptions::default()).unwrap();
    let p: &PolicySet = b.policy();
    assert_eq!(p.len(), 2);
    // The Ed25519 set does not trust it.
    assert_eq!(load(&signed, None).unwrap_err(), BundleError::Cose(Error::UnknownKey));
}
