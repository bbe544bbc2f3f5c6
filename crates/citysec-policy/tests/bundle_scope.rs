//! Bundle format 2: deterministic encoding, the signed scope, and held state that
//! survives a restart (`load_held` with a `StateStore`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::cast_possible_truncation,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc,
    reason = "test code: a failed unwrap or index is a failed test"
)]

use citysec_core::coset::HeaderBuilder;
use citysec_core::sign1::{self, Tagging};
use citysec_core::state::{HeldBundle, HeldStatusList, MemoryStateStore, StateStore, StoreError};
use citysec_core::{Error, SigningKey};
use citysec_policy::bundle::PolicySigners;
use citysec_policy::bundle::{self, BundleError, BundleSource, CONTENT_TYPE, FORMAT, LoadOptions, valid_scope};
use citysec_policy::{PolicyLimits, Schema, compile};

const SCHEMA: &str = "action open; resource door; subject.badge: string;";
const POLICY: &str = r#"permit "badge-7" action open on door when subject.badge == "7";"#;
const SITE_A: &str = "site:lyon-3";
const SITE_B: &str = "site:lyon-4";

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

fn make(version: u64, scope: &str) -> Vec<u8> {
    let src = BundleSource {
        schema: SCHEMA,
        policy: POLICY,
        version,
        issued_at: 1_790_000_000,
        scope,
    };
    bundle::create(
        &citysec_rustcrypto::signer_copy(&signer()).unwrap(),
        &src,
        &PolicyLimits::DEFAULT,
    )
    .unwrap()
}

fn digest() -> [u8; 32] {
    let schema = Schema::parse(SCHEMA, &PolicyLimits::DEFAULT).unwrap();
    compile(&schema, POLICY, &PolicyLimits::DEFAULT)
        .unwrap()
        .policy
        .digest()
}

/// Minimal CBOR writer for hand-built payloads (shortest heads unless told).
fn head(out: &mut Vec<u8>, major: u8, n: u64) {
    let m = major << 5;
    match n {
        0..=23 => out.push(m | n as u8),
        24..=0xff => out.extend([m | 24, n as u8]),
        0x100..=0xffff => {
            out.push(m | 25);
            out.extend((n as u16).to_be_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            out.push(m | 26);
            out.extend((n as u32).to_be_bytes());
        }
        _ => {
            out.push(m | 27);
            out.extend(n.to_be_bytes());
        }
    }
}

enum F<'a> {
    U(u64, u64),
    T(u64, &'a str),
    B(u64, &'a [u8]),
    /// A uint value written with a one-byte head although it is below 24.
    Long(u64, u8),
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
                head(&mut out, 3, v.len() as u64);
                out.extend(v.as_bytes());
            }
            F::B(k, v) => {
                head(&mut out, 0, *k);
                head(&mut out, 2, v.len() as u64);
                out.extend(*v);
            }
            F::Long(k, v) => {
                head(&mut out, 0, *k);
                out.extend([0x18, *v]);
            }
        }
    }
    out
}

fn sign_payload(payload: &[u8]) -> Vec<u8> {
    let protected = HeaderBuilder::new().content_type(CONTENT_TYPE.into()).build();
    sign1::sign_with_headers(
        &citysec_rustcrypto::signer_copy(&signer()).unwrap(),
        protected,
        Default::default(),
        payload,
        b"",
        Tagging::Tagged,
    )
    .unwrap()
}

fn v2_fields<'a>(d: &'a [u8], scope: &'a str) -> Vec<F<'a>> {
    vec![
        F::U(1, 2),
        F::U(2, 8),
        F::U(3, 1_790_000_000),
        F::T(4, SCHEMA),
        F::T(5, POLICY),
        F::B(6, d),
        F::T(7, scope),
    ]
}

fn v1_fields(d: &[u8]) -> Vec<F<'_>> {
    vec![
        F::U(1, 1),
        F::U(2, 8),
        F::U(3, 1_790_000_000),
        F::T(4, SCHEMA),
        F::T(5, POLICY),
        F::B(6, d),
    ]
}

fn load(bytes: &[u8], opts: &LoadOptions<'_>) -> Result<bundle::Bundle, BundleError> {
    bundle::load(&trusted(), bytes, opts)
}

#[test]
fn created_bundles_are_format_2_deterministic_and_scoped() {
    let signed = make(3, SITE_A);
    let b = load(&signed, &LoadOptions::default().scoped(SITE_A)).unwrap();
    assert_eq!((b.format(), b.version(), b.scope()), (FORMAT, 3, Some(SITE_A)));
    assert_eq!(FORMAT, 2);
    // The hand-built payload in the documented byte order is the one `create` signs
    // (Ed25519 is deterministic, so the whole bundle is equal byte for byte).
    let d = digest();
    let mut by_hand = v2_fields(&d, SITE_A);
    by_hand[1] = F::U(2, 3);
    assert_eq!(sign_payload(&payload(&by_hand)), signed);
}

#[test]
fn a_bundle_for_another_scope_is_refused() {
    let signed = make(3, SITE_B);
    assert_eq!(
        load(&signed, &LoadOptions::default().scoped(SITE_A)).unwrap_err(),
        BundleError::ScopeMismatch {
            expected: SITE_A.into(),
            found: Some(SITE_B.into())
        }
    );
    assert_eq!(
        load(&signed, &LoadOptions::default().scoped(SITE_A))
            .unwrap_err()
            .to_string(),
        "bundle is for scope `site:lyon-4`, not `site:lyon-3`"
    );
    // An unscoped loader does not check the scope.
    assert_eq!(load(&signed, &LoadOptions::default()).unwrap().scope(), Some(SITE_B));
}

#[test]
fn a_scoped_loader_refuses_format_1() {
    let d = digest();
    let v1 = sign_payload(&payload(&v1_fields(&d)));
    let err = load(&v1, &LoadOptions::default().scoped(SITE_A)).unwrap_err();
    assert_eq!(
        err,
        BundleError::ScopeMismatch {
            expected: SITE_A.into(),
            found: None
        }
    );
    assert_eq!(
        err.to_string(),
        "bundle format 1 carries no scope; scope `site:lyon-3` requires format 2"
    );
    // Unscoped, format 1 still loads (any key order), without a scope.
    let b = load(&v1, &LoadOptions::default()).unwrap();
    assert_eq!((b.format(), b.scope()), (1, None));
    let mut rev = v1_fields(&d);
    rev.reverse();
    assert_eq!(
        load(&sign_payload(&payload(&rev)), &LoadOptions::default())
            .unwrap()
            .version(),
        8
    );
}

#[test]
fn format_2_must_be_deterministic() {
    let d = digest();
    // Keys out of order.
    let mut f = v2_fields(&d, SITE_A);
    f.swap(3, 4);
    assert_eq!(
        load(&sign_payload(&payload(&f)), &LoadOptions::default()).unwrap_err(),
        BundleError::Cose(Error::NotDeterministic)
    );
    // A head longer than needed (version 8 as 0x18 0x08).
    let mut f = v2_fields(&d, SITE_A);
    f[1] = F::Long(2, 8);
    assert_eq!(
        load(&sign_payload(&payload(&f)), &LoadOptions::default()).unwrap_err(),
        BundleError::Cose(Error::NotDeterministic)
    );
    // A scope on format 1, a scope of another type, an invalid scope.
    let mut f = v2_fields(&d, SITE_A);
    f[0] = F::U(1, 1);
    assert_eq!(
        load(&sign_payload(&payload(&f)), &LoadOptions::default()).unwrap_err(),
        BundleError::Malformed
    );
    let mut f = v2_fields(&d, SITE_A);
    f[6] = F::U(7, 1);
    assert_eq!(
        load(&sign_payload(&payload(&f)), &LoadOptions::default()).unwrap_err(),
        BundleError::Malformed
    );
    let f = v2_fields(&d, "site A");
    assert_eq!(
        load(&sign_payload(&payload(&f)), &LoadOptions::default()).unwrap_err(),
        BundleError::Malformed
    );
    // The good hand-built one loads.
    assert_eq!(
        load(&sign_payload(&payload(&v2_fields(&d, SITE_A))), &LoadOptions::default())
            .unwrap()
            .version(),
        8
    );
}

#[test]
fn create_refuses_invalid_scopes() {
    let long = "x".repeat(65);
    for bad in ["", "site a", "site:\u{1b}[31m", long.as_str()] {
        assert!(!valid_scope(bad), "{bad:?}");
        let src = BundleSource {
            schema: SCHEMA,
            policy: POLICY,
            version: 1,
            issued_at: 0,
            scope: bad,
        };
        assert_eq!(
            bundle::create(
                &citysec_rustcrypto::signer_copy(&signer()).unwrap(),
                &src,
                &PolicyLimits::DEFAULT
            )
            .unwrap_err(),
            BundleError::InvalidScope
        );
    }
    assert!(valid_scope(&"x".repeat(64)));
    assert!(valid_scope("group:north/doors-1_a.b"));
}

#[test]
fn the_version_counter_continues_across_formats() {
    let d = digest();
    // Held: a format 1 bundle at version 8.
    let v1 = sign_payload(&payload(&v1_fields(&d)));
    let mut store = MemoryStateStore::new();
    let b = bundle::load_held(&trusted(), &v1, &LoadOptions::default(), &mut store).unwrap();
    assert_eq!(store.bundle().unwrap(), Some(b.held()));
    // A format 2 bundle at 8 is a rollback, at 9 it loads.
    assert_eq!(
        bundle::load_held(&trusted(), &make(8, SITE_A), &LoadOptions::default(), &mut store).unwrap_err(),
        BundleError::Rollback { held: 8, version: 8 }
    );
    let b9 = bundle::load_held(&trusted(), &make(9, SITE_A), &LoadOptions::default(), &mut store).unwrap();
    assert_eq!(store.bundle().unwrap().map(|h| h.version), Some(9));
    assert_eq!(b9.format(), 2);
}

#[test]
fn the_held_bundle_reloads_and_another_at_its_version_does_not() {
    let mut store = MemoryStateStore::new();
    let opts = LoadOptions::default().scoped(SITE_A);
    let v5 = make(5, SITE_A);
    bundle::load_held(&trusted(), &v5, &opts, &mut store).unwrap();
    // After a restart the controller reloads the bundle it holds.
    assert_eq!(
        bundle::load_held(&trusted(), &v5, &opts, &mut store).unwrap().version(),
        5
    );
    // Another bundle with the same version (here: another issue time) is refused.
    let src = BundleSource {
        schema: SCHEMA,
        policy: POLICY,
        version: 5,
        issued_at: 1_790_000_001,
        scope: SITE_A,
    };
    let other5 = bundle::create(
        &citysec_rustcrypto::signer_copy(&signer()).unwrap(),
        &src,
        &PolicyLimits::DEFAULT,
    )
    .unwrap();
    assert_eq!(
        bundle::load_held(&trusted(), &other5, &opts, &mut store).unwrap_err(),
        BundleError::Rollback { held: 5, version: 5 }
    );
    // Without the store, `load` refuses the held version as before.
    assert_eq!(
        load(&v5, &opts.holding(5)).unwrap_err(),
        BundleError::Rollback { held: 5, version: 5 }
    );
}

/// A store whose writes fail, or whose reads fail.
#[derive(Debug, Default)]
struct Failing {
    inner: MemoryStateStore,
    fail_reads: bool,
}

impl StateStore for Failing {
    fn bundle(&self) -> Result<Option<HeldBundle>, StoreError> {
        if self.fail_reads {
            return Err(StoreError::Read);
        }
        self.inner.bundle()
    }
    fn save_bundle(&mut self, _: &HeldBundle) -> Result<(), StoreError> {
        Err(StoreError::Write)
    }
    fn status_list(&self, uri: &str) -> Result<Option<HeldStatusList>, StoreError> {
        self.inner.status_list(uri)
    }
    fn save_status_list(&mut self, _: &str, _: &HeldStatusList) -> Result<(), StoreError> {
        Err(StoreError::Write)
    }
}

#[test]
fn a_store_that_fails_refuses_the_bundle() {
    let mut store = Failing::default();
    let err = bundle::load_held(&trusted(), &make(2, SITE_A), &LoadOptions::default(), &mut store).unwrap_err();
    assert_eq!(err, BundleError::Store(StoreError::Write));
    assert_eq!(err.to_string(), "bundle refused: held state could not be written");
    store.fail_reads = true;
    assert_eq!(
        bundle::load_held(&trusted(), &make(2, SITE_A), &LoadOptions::default(), &mut store).unwrap_err(),
        BundleError::Store(StoreError::Read)
    );
}

/// The byte-by-byte example of docs/policy-language.md §8 (digest all zero).
#[test]
fn the_documented_payload_example() {
    let zero = [0u8; 32];
    let built = payload(&[
        F::U(1, 2),
        F::U(2, 3),
        F::U(3, 1_790_000_000),
        F::T(4, "S"),
        F::T(5, "P"),
        F::B(6, &zero),
        F::T(7, "site:a"),
    ]);
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/policy-language.md")).unwrap();
    let line = doc.lines().find(|l| l.starts_with("a7 01 02 02")).unwrap();
    let hex: String = line
        .replace("<32 bytes>", &"00".repeat(32))
        .split_whitespace()
        .collect();
    let expected: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    assert_eq!(built, expected);
    assert_eq!(
        citysec_core::cbor::check_deterministic(
            &built,
            &citysec_core::Limits::DEFAULT,
            citysec_core::cbor::Tags::Forbid
        ),
        Ok(())
    );
}
