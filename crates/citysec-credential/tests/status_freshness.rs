//! Status lists never go backwards: held `iat` per URI in a `StateStore`, the
//! deterministic payload, and the optional age bound (`max_status_age`, `ttl`).

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

use citysec_core::cbor::{Tags, check_deterministic};
use citysec_core::coset::cbor::value::Value;
use citysec_core::coset::{Header, Label};
use citysec_core::provider::Signer;
use citysec_core::state::{HeldBundle, HeldStatusList, MemoryStateStore, StateStore, StoreError};
use citysec_core::{Error as CoreError, Limits, SigningKey, Timestamp};
use citysec_credential::status::{INVALID, STATUS_LIST_TYP, StatusList};
use citysec_credential::{Claims, Error, Issuer, StatusRef, Verifier};

const B: citysec_core::provider::Provider = citysec_rustcrypto::PROVIDER;
const ISS: &str = "https://issuer.city.example";
const AUD: &str = "door-controllers";
const URI: &str = "https://issuer.city.example/status/1";
const NOW: u64 = 1_767_000_000;

fn t(s: u64) -> Timestamp {
    Timestamp::from_unix_seconds(s)
}

fn issuer() -> Issuer {
    Issuer::new(ISS, soft(SigningKey::ed25519(&[1; 32]).with_kid(b"iss-ed-1".to_vec()))).unwrap()
}

fn verifier() -> Verifier {
    Verifier::new(&citysec_rustcrypto::PROVIDER)
        .trust(ISS, issuer().verifying_key())
        .unwrap()
        .audience(AUD)
}

/// A list for `URI` issued at `iat`, with entry 5 revoked if `revoke_5`.
fn list(iat: u64, revoke_5: bool, ttl: Option<u64>) -> Vec<u8> {
    let mut l = StatusList::new(1, 64).unwrap();
    if revoke_5 {
        l.set(5, INVALID).unwrap();
    }
    l.sign(&issuer(), URI, t(iat), t(iat + 86_400), ttl).unwrap()
}

fn credential(idx: u64) -> Vec<u8> {
    let mut c = Claims::new();
    c.sub = Some("staff-17".into());
    c.aud = vec![AUD.into()];
    c.exp = Some(t(NOW + 86_400));
    c.status = Some(StatusRef { idx, uri: URI.into() });
    issuer().issue(&c).unwrap()
}

#[test]
fn an_older_list_is_refused_after_a_newer_one() {
    let v = verifier();
    let mut store = MemoryStateStore::new();
    // Monday: entry 5 revoked. Yesterday's list (not revoked) must not come back.
    let today = list(NOW, true, None);
    let yesterday = list(NOW - 86_400, false, None);
    let held = v
        .status_list_signers()
        .accept_status_list(&today, 1024, &mut store)
        .unwrap();
    assert_eq!(store.status_list(URI).unwrap(), Some(held.held()));
    assert_eq!(held.held().iat, NOW);
    let err = v
        .status_list_signers()
        .accept_status_list(&yesterday, 1024, &mut store)
        .unwrap_err();
    assert_eq!(err, Error::StaleStatusList);
    assert_eq!(err.to_string(), "status list is older than the one held for its uri");
    // The held state did not move.
    assert_eq!(store.status_list(URI).unwrap(), Some(held.held()));
    // And the revocation stands.
    assert_eq!(v.verify(&credential(5), t(NOW), &[held]).unwrap_err(), Error::Revoked);
}

#[test]
fn the_same_list_again_is_a_no_op_and_a_different_one_at_the_same_iat_is_refused() {
    let v = verifier();
    let mut store = MemoryStateStore::new();
    let a = list(NOW, true, None);
    v.status_list_signers()
        .accept_status_list(&a, 1024, &mut store)
        .unwrap();
    let before = store.clone();
    assert_eq!(
        v.status_list_signers()
            .accept_status_list(&a, 1024, &mut store)
            .unwrap()
            .held(),
        before.status_list(URI).unwrap().unwrap()
    );
    assert_eq!(store, before);
    let b = list(NOW, false, None);
    let err = v
        .status_list_signers()
        .accept_status_list(&b, 1024, &mut store)
        .unwrap_err();
    assert_eq!(err, Error::StatusListConflict);
    assert_eq!(
        err.to_string(),
        "status list differs from the one held with the same issue time"
    );
    assert_eq!(store, before);
    // A newer list replaces it.
    let newer = v
        .status_list_signers()
        .accept_status_list(&list(NOW + 1, false, None), 1024, &mut store)
        .unwrap();
    assert_eq!(store.status_list(URI).unwrap(), Some(newer.held()));
}

#[derive(Debug, Default)]
struct WriteFails(MemoryStateStore);

impl StateStore for WriteFails {
    fn bundle(&self) -> Result<Option<HeldBundle>, StoreError> {
        self.0.bundle()
    }
    fn save_bundle(&mut self, _: &HeldBundle) -> Result<(), StoreError> {
        Err(StoreError::Write)
    }
    fn status_list(&self, uri: &str) -> Result<Option<HeldStatusList>, StoreError> {
        self.0.status_list(uri)
    }
    fn save_status_list(&mut self, _: &str, _: &HeldStatusList) -> Result<(), StoreError> {
        Err(StoreError::Write)
    }
}

#[test]
fn a_list_whose_freshness_cannot_be_recorded_is_refused() {
    let err = verifier()
        .status_list_signers()
        .accept_status_list(&list(NOW, false, None), 1024, &mut WriteFails::default())
        .unwrap_err();
    assert_eq!(err, Error::StateStore(StoreError::Write));
    assert_eq!(err.to_string(), "status list refused: held state could not be written");
}

#[test]
fn max_status_age_and_ttl_bound_a_lists_age() {
    let l = verifier()
        .status_list_signers()
        .verify_status_list(&list(NOW, false, Some(600)), 1024)
        .unwrap();
    let lists = [l];
    let cred = credential(1);
    // Without a bound (the default), only exp counts.
    assert!(verifier().verify(&cred, t(NOW + 50_000), &lists).is_ok());
    // With a bound of one hour: ttl (600 s) is shorter and decides.
    let v = verifier().max_status_age(3600);
    assert!(v.verify(&cred, t(NOW + 600), &lists).is_ok());
    assert_eq!(
        v.verify(&cred, t(NOW + 601), &lists).unwrap_err(),
        Error::StatusListTooOld
    );
    // A bound shorter than ttl decides.
    let v = verifier().max_status_age(60);
    assert!(v.verify(&cred, t(NOW + 60), &lists).is_ok());
    assert_eq!(
        v.verify(&cred, t(NOW + 61), &lists).unwrap_err(),
        Error::StatusListTooOld
    );
    // A list without ttl: only the bound.
    let no_ttl = [verifier()
        .status_list_signers()
        .verify_status_list(&list(NOW, false, None), 1024)
        .unwrap()];
    let v = verifier().max_status_age(3600);
    assert!(v.verify(&cred, t(NOW + 3600), &no_ttl).is_ok());
    assert_eq!(
        v.verify(&cred, t(NOW + 3601), &no_ttl).unwrap_err().to_string(),
        "status list is older than the verifier accepts"
    );
}

#[test]
fn status_list_payloads_are_deterministic_and_others_are_refused() {
    let token = list(NOW, true, Some(600));
    let msg = citysec_core::sign1::verify(
        &B,
        &citysec_core::KeySet::from_keys([issuer().verifying_key()]).unwrap(),
        &token,
        &Default::default(),
    )
    .unwrap();
    assert_eq!(
        check_deterministic(msg.payload(), &Limits::DEFAULT, Tags::Forbid),
        Ok(())
    );

    // The same claims with the keys in another order (ttl before status_list, as
    // citysec 0.1 wrote them) are refused.
    let l = StatusList::new(1, 64).unwrap();
    let claims = Value::Map(vec![
        (Value::from(1), Value::Text(ISS.into())),
        (Value::from(2), Value::Text(URI.into())),
        (Value::from(4), Value::from(NOW + 86_400)),
        (Value::from(6), Value::from(NOW)),
        (Value::from(65534), Value::from(600)),
        (
            Value::from(65533),
            Value::Map(vec![
                (Value::Text("bits".into()), Value::from(1)),
                (Value::Text("lst".into()), Value::Bytes(l.compressed())),
            ]),
        ),
    ]);
    let mut payload = Vec::new();
    citysec_core::coset::cbor::ser::into_writer(&claims, &mut payload).unwrap();
    let protected = Header {
        rest: vec![(Label::Int(16), Value::Text(STATUS_LIST_TYP.into()))],
        ..Header::default()
    };
    let unordered = citysec_core::sign1::sign_with_headers(
        issuer().signer(),
        protected,
        Header::default(),
        &payload,
        b"",
        citysec_core::sign1::Tagging::Tagged,
    )
    .unwrap();
    assert_eq!(
        verifier()
            .status_list_signers()
            .verify_status_list(&unordered, 1024)
            .unwrap_err(),
        Error::Core(CoreError::NotDeterministic)
    );
}

/// A signer for a test key, through the pure-Rust provider.
fn soft(key: SigningKey) -> Box<dyn Signer> {
    citysec_rustcrypto::PROVIDER.signer(key).unwrap()
}
