//! Credentials: issue and verify, each bad input with its exact error, status lists,
//! proof of possession, key rotation, the RFC 8392 example and batch verification.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::cast_possible_truncation,
    reason = "test code: a failed unwrap or index is a failed test"
)]

use citysec_core::coset::cbor::value::Value;
use citysec_core::provider::Signer;
use citysec_core::{Error as CoreError, SigningKey, Timestamp, VerifyingKey, sign1};
use citysec_credential::status::{INVALID, SUSPENDED, StatusList};
use citysec_credential::{
    Challenge, ClaimKey, Claims, Confirmation, CredentialKind, Error, Issuer, ScheduleWindow, StatusRef, Verifier,
    present,
};

const ISS: &str = "https://issuer.city.example";
const AUD: &str = "door-controllers";
const NOW: u64 = 1_767_000_000;
const EXP: u64 = 1_767_229_200;

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

fn claims() -> Claims {
    let mut c = Claims::new();
    c.sub = Some("staff-17".into());
    c.aud = vec![AUD.into()];
    c.exp = Some(t(EXP));
    c.nbf = Some(t(NOW - 3600));
    c.iat = Some(t(NOW - 3600));
    c.cti = Some(vec![0x0b, 0x71]);
    c.roles = vec!["staff".into()];
    c.zones = vec!["lobby".into(), "office".into()];
    c.kind = Some(CredentialKind::Staff);
    c.schedule = vec![ScheduleWindow {
        days: 0b001_1111,
        start_minute: 7 * 60,
        end_minute: 19 * 60,
    }];
    c
}

fn verify(token: &[u8], now: u64) -> Result<Claims, Error> {
    verifier().verify(token, t(now), &[]).map(|v| v.into_claims())
}

/// Signs an arbitrary claims payload with the trusted issuer key.
fn sign_raw(payload: &[u8]) -> Vec<u8> {
    sign1::sign(issuer().signer(), payload, b"").unwrap()
}

#[test]
fn issue_and_verify_round_trip() {
    let token = issuer().issue(&claims()).unwrap();
    let got = verify(&token, NOW).unwrap();
    let mut expected = claims();
    expected.iss = Some(ISS.into());
    assert_eq!(got, expected);
    assert!(got.schedule_allows(0, 8 * 60));
    assert!(!got.schedule_allows(5, 8 * 60));
    assert!(!got.schedule_allows(0, 19 * 60));
    let v = verifier().verify(&token, t(NOW), &[]).unwrap();
    assert_eq!(v.issuer(), ISS);
    assert_eq!(v.kid(), b"iss-ed-1");
}

#[test]
fn es256_credentials_verify_on_both_providers() {
    let key = || SigningKey::p256(&[9; 32]).unwrap().with_kid(b"iss-es-1".to_vec());
    let providers = [&citysec_rustcrypto::PROVIDER, &citysec_ring::PROVIDER];
    for signing in providers {
        let es = Issuer::new(ISS, signing.signer(key()).unwrap()).unwrap();
        let token = es.issue(&claims()).unwrap();
        for verifying in providers {
            let v = Verifier::new(verifying)
                .trust(ISS, citysec_rustcrypto::PROVIDER.public_key(&key()).unwrap())
                .unwrap()
                .audience(AUD);
            let c = v.verify(&token, t(NOW), &[]).unwrap();
            assert_eq!(
                c.claims().sub.as_deref(),
                Some("staff-17"),
                "{} -> {}",
                signing.name,
                verifying.name
            );
        }
    }
}

#[test]
fn time_checks_around_the_skew_boundary() {
    let token = issuer().issue(&claims()).unwrap();
    // exp + skew (60 s) is the first second refused
    assert!(verify(&token, EXP + 59).is_ok());
    assert_eq!(verify(&token, EXP + 60), Err(Error::Expired));
    assert_eq!(verify(&token, EXP + 10_000_000), Err(Error::Expired));
    // nbf: valid from nbf - skew
    let nbf = NOW - 3600;
    assert!(verify(&token, nbf - 60).is_ok());
    assert_eq!(verify(&token, nbf - 61), Err(Error::NotYetValid));
    // iat in the future
    let mut c = claims();
    c.nbf = None;
    c.iat = Some(t(NOW + 61));
    let token = issuer().issue(&c).unwrap();
    assert_eq!(verify(&token, NOW), Err(Error::IssuedInFuture));
    c.iat = Some(t(NOW + 60));
    let token = issuer().issue(&c).unwrap();
    assert!(verify(&token, NOW).is_ok());
    // a tighter skew
    let token = issuer().issue(&claims()).unwrap();
    assert_eq!(
        verifier().skew(0).verify(&token, t(EXP), &[]).err(),
        Some(Error::Expired)
    );
    assert!(verifier().skew(0).verify(&token, t(EXP - 1), &[]).is_ok());
}

#[test]
fn missing_exp_is_refused_on_both_sides() {
    let mut c = claims();
    c.exp = None;
    assert_eq!(issuer().issue(&c).err(), Some(Error::MissingExpiration));
    // a token made elsewhere without exp: {1: iss, 3: aud}
    let payload = cbor(&Value::Map(vec![
        (Value::from(1), Value::Text(ISS.into())),
        (Value::from(3), Value::Text(AUD.into())),
    ]));
    assert_eq!(verify(&sign_raw(&payload), NOW), Err(Error::MissingExpiration));
}

#[test]
fn times_must_be_integers_in_range() {
    for bad in [
        Value::Float(1_767_229_200.5),
        Value::from(-1),
        Value::from(253_402_300_800u64),
        Value::Text("2026-01-01".into()),
    ] {
        let payload = cbor(&Value::Map(vec![
            (Value::from(1), Value::Text(ISS.into())),
            (Value::from(3), Value::Text(AUD.into())),
            (Value::from(4), bad),
        ]));
        assert_eq!(verify(&sign_raw(&payload), NOW), Err(Error::InvalidTime));
    }
    let mut c = claims();
    c.exp = Some(t(253_402_300_800));
    assert_eq!(issuer().issue(&c).err(), Some(Error::InvalidTime));
}

#[test]
fn audience_absent_or_different() {
    let mut c = claims();
    c.aud = vec![];
    assert_eq!(verify(&issuer().issue(&c).unwrap(), NOW), Err(Error::MissingAudience));
    c.aud = vec!["parking-gates".into()];
    assert_eq!(verify(&issuer().issue(&c).unwrap(), NOW), Err(Error::WrongAudience));
    // one of several audiences is enough
    c.aud = vec!["parking-gates".into(), AUD.into()];
    assert!(verify(&issuer().issue(&c).unwrap(), NOW).is_ok());
}

#[test]
fn a_trusted_key_naming_another_issuer_is_refused() {
    let payload = cbor(&Value::Map(vec![
        (Value::from(1), Value::Text("https://evil.example".into())),
        (Value::from(3), Value::Text(AUD.into())),
        (Value::from(4), Value::from(EXP)),
    ]));
    assert_eq!(verify(&sign_raw(&payload), NOW), Err(Error::WrongIssuer));
    // and an issuer refuses to sign claims naming someone else
    let mut c = claims();
    c.iss = Some("https://evil.example".into());
    assert_eq!(issuer().issue(&c).err(), Some(Error::WrongIssuer));
    // a key of issuer A cannot vouch for issuer B's name
    let other = Issuer::new(
        "https://other.example",
        soft(SigningKey::ed25519(&[2; 32]).with_kid(b"o-1".to_vec())),
    )
    .unwrap();
    let v = verifier()
        .trust("https://other.example", other.verifying_key())
        .unwrap();
    let forged = sign1::sign(
        other.signer(),
        &cbor(&Value::Map(vec![
            (Value::from(1), Value::Text(ISS.into())),
            (Value::from(3), Value::Text(AUD.into())),
            (Value::from(4), Value::from(EXP)),
        ])),
        b"",
    )
    .unwrap();
    assert_eq!(v.verify(&forged, t(NOW), &[]).err(), Some(Error::WrongIssuer));
}

#[test]
fn key_lookup_and_rotation() {
    // two trusted keys with the same kid
    let dup = SigningKey::ed25519(&[3; 32]).with_kid(b"iss-ed-1".to_vec());
    assert_eq!(
        verifier()
            .trust(ISS, citysec_rustcrypto::PROVIDER.public_key(&dup).unwrap())
            .err(),
        Some(Error::Core(CoreError::DuplicateKid))
    );
    // a kid nobody trusts
    let stranger = Issuer::new(ISS, soft(SigningKey::ed25519(&[4; 32]).with_kid(b"unknown".to_vec()))).unwrap();
    let token = stranger.issue(&claims()).unwrap();
    assert_eq!(verify(&token, NOW), Err(Error::Core(CoreError::UnknownKey)));
    // rotation: old and new keys both trusted, then the old one removed
    let new = Issuer::new(ISS, soft(SigningKey::ed25519(&[5; 32]).with_kid(b"iss-ed-2".to_vec()))).unwrap();
    let mut v = verifier().trust(ISS, new.verifying_key()).unwrap();
    let old_token = issuer().issue(&claims()).unwrap();
    let new_token = new.issue(&claims()).unwrap();
    assert!(v.verify(&old_token, t(NOW), &[]).is_ok());
    assert!(v.verify(&new_token, t(NOW), &[]).is_ok());
    assert!(v.distrust(b"iss-ed-1"));
    assert_eq!(
        v.verify(&old_token, t(NOW), &[]).err(),
        Some(Error::Core(CoreError::UnknownKey))
    );
    assert!(v.verify(&new_token, t(NOW), &[]).is_ok());
    // a key without a kid cannot be trusted or issue
    assert_eq!(
        Verifier::new(&citysec_rustcrypto::PROVIDER)
            .trust(
                ISS,
                citysec_rustcrypto::PROVIDER
                    .public_key(&SigningKey::ed25519(&[6; 32]))
                    .unwrap()
            )
            .err(),
        Some(Error::InvalidConfiguration)
    );
    assert_eq!(
        Issuer::new(ISS, soft(SigningKey::ed25519(&[6; 32]))).err(),
        Some(Error::InvalidConfiguration)
    );
}

#[test]
fn algorithm_and_key_type_must_agree() {
    // EdDSA token, but the trusted key under that kid is P-256
    let p256_same_kid = SigningKey::p256(&[7; 32]).unwrap().with_kid(b"iss-ed-1".to_vec());
    let v = Verifier::new(&citysec_rustcrypto::PROVIDER)
        .trust(ISS, citysec_rustcrypto::PROVIDER.public_key(&p256_same_kid).unwrap())
        .unwrap()
        .audience(AUD);
    let token = issuer().issue(&claims()).unwrap();
    assert_eq!(
        v.verify(&token, t(NOW), &[]).err(),
        Some(Error::Core(CoreError::KeyAlgMismatch))
    );
    // and the reverse: ES256 token, Ed25519 key under its kid
    let es = Issuer::new(
        ISS,
        soft(SigningKey::p256(&[7; 32]).unwrap().with_kid(b"iss-ed-1".to_vec())),
    )
    .unwrap();
    let token = es.issue(&claims()).unwrap();
    assert_eq!(verify(&token, NOW), Err(Error::Core(CoreError::KeyAlgMismatch)));
}

#[test]
fn bad_signature_is_opaque() {
    let mut token = issuer().issue(&claims()).unwrap();
    let n = token.len();
    token[n - 1] ^= 0x80;
    assert_eq!(verify(&token, NOW), Err(Error::Core(CoreError::BadSignature)));
    // tampering with the claims is caught by the signature, not by a claim check
    let mut token = issuer().issue(&claims()).unwrap();
    let pos = token.windows(5).position(|w| w == b"lobby").unwrap();
    token[pos] = b'L';
    assert_eq!(verify(&token, NOW), Err(Error::Core(CoreError::BadSignature)));
}

#[test]
fn duplicate_claim_keys_are_refused() {
    // {1: iss, 3: aud, 4: exp, 3: "other"} signed by the trusted issuer
    let mut payload = vec![0xa4];
    payload.extend(cbor(&Value::from(1)));
    payload.extend(cbor(&Value::Text(ISS.into())));
    payload.extend(cbor(&Value::from(3)));
    payload.extend(cbor(&Value::Text(AUD.into())));
    payload.extend(cbor(&Value::from(4)));
    payload.extend(cbor(&Value::from(EXP)));
    payload.extend(cbor(&Value::from(3)));
    payload.extend(cbor(&Value::Text("other".into())));
    assert_eq!(
        verify(&sign_raw(&payload), NOW),
        Err(Error::Core(CoreError::DuplicateMapKey))
    );
}

#[test]
fn claims_nested_past_the_depth_limit_are_refused() {
    // an unknown claim -70000: [[[[...]]]] 20 deep
    let mut deep = Value::from(0);
    for _ in 0..20 {
        deep = Value::Array(vec![deep]);
    }
    let payload = cbor(&Value::Map(vec![
        (Value::from(1), Value::Text(ISS.into())),
        (Value::from(3), Value::Text(AUD.into())),
        (Value::from(4), Value::from(EXP)),
        (Value::from(-70000), deep),
    ]));
    assert_eq!(verify(&sign_raw(&payload), NOW), Err(Error::Core(CoreError::TooDeep)));
}

#[test]
fn a_ten_megabyte_token_is_refused_before_allocation() {
    let huge = vec![0xd2u8; 10 * 1024 * 1024];
    assert_eq!(verify(&huge, NOW), Err(Error::Core(CoreError::TooLarge)));
    // a small token that declares a 4 GiB payload
    let mut lying = vec![0xd2, 0x84, 0x43, 0xa1, 0x01, 0x27, 0xa0, 0x5a, 0xff, 0xff, 0xff, 0xff];
    lying.extend_from_slice(&[0; 16]);
    assert_eq!(verify(&lying, NOW), Err(Error::Core(CoreError::Malformed)));
}

#[test]
fn macs_and_encrypted_tokens_never_make_a_credential() {
    // RFC 8392 A.4 (MACed, COSE_Mac0) and A.5 (encrypted) from the cose-wg examples
    for f in ["A_4.json", "A_5.json", "A_6.json", "A_7.json"] {
        let token = vector_cbor(f);
        assert_eq!(verify(&token, NOW), Err(Error::Core(CoreError::WrongTag)), "{f}");
    }
}

#[test]
fn unknown_claims_are_kept() {
    let mut c = claims();
    c.other = vec![
        (ClaimKey::Int(-70001), Value::Text("badge-7731".into())),
        (ClaimKey::Text("floor".into()), Value::from(3)),
    ];
    let token = issuer().issue(&c).unwrap();
    let got = verify(&token, NOW).unwrap();
    assert_eq!(
        got.other_claim(&ClaimKey::Int(-70001)),
        Some(&Value::Text("badge-7731".into()))
    );
    assert_eq!(got.other_claim(&ClaimKey::Text("floor".into())), Some(&Value::from(3)));
    assert_eq!(got.other.len(), 2);
    // and survive re-encoding byte for byte
    let again = Claims::from_cbor(&got.to_cbor().unwrap(), &citysec_core::Limits::DEFAULT).unwrap();
    assert_eq!(again, got);
}

// ---- status lists

fn status_issuer() -> (Issuer, Verifier) {
    (issuer(), verifier())
}

#[test]
fn revocation_through_a_status_list() {
    let (iss, v) = status_issuer();
    let uri = "https://issuer.city.example/status/1";
    let mut list = StatusList::new(2, 1000).unwrap();
    list.set(17, INVALID).unwrap();
    list.set(18, SUSPENDED).unwrap();
    let list_token = list.sign(&iss, uri, t(NOW - 60), t(NOW + 3600), Some(600)).unwrap();
    let verified_list = v
        .status_list_signers()
        .verify_status_list(&list_token, 1 << 20)
        .unwrap();
    assert_eq!(verified_list.uri(), uri);
    assert_eq!(verified_list.ttl(), Some(600));
    assert_eq!(verified_list.list().get(17), Some(INVALID));
    assert_eq!(verified_list.list().len(), 1000);
    let lists = [verified_list];

    let with_idx = |idx: u64| {
        let mut c = claims();
        c.status = Some(StatusRef { idx, uri: uri.into() });
        iss.issue(&c).unwrap()
    };
    assert!(v.verify(&with_idx(16), t(NOW), &lists).is_ok());
    assert_eq!(v.verify(&with_idx(17), t(NOW), &lists).err(), Some(Error::Revoked));
    assert_eq!(v.verify(&with_idx(18), t(NOW), &lists).err(), Some(Error::Suspended));
    assert_eq!(
        v.verify(&with_idx(1000), t(NOW), &lists).err(),
        Some(Error::StatusIndexOutOfRange)
    );
    // no list given for a credential that has a status reference
    assert_eq!(
        v.verify(&with_idx(16), t(NOW), &[]).err(),
        Some(Error::StatusUnavailable)
    );
    // the list has expired
    assert_eq!(
        v.verify(&with_idx(16), t(NOW + 3600 + 60), &lists).err(),
        Some(Error::StatusListExpired)
    );
    // a verifier that requires a status reference
    assert_eq!(
        verifier()
            .require_status(true)
            .verify(&iss.issue(&claims()).unwrap(), t(NOW), &lists)
            .err(),
        Some(Error::StatusUnavailable)
    );
}

#[test]
fn a_status_list_from_another_issuer_is_refused() {
    let other = Issuer::new(
        "https://other.example",
        soft(SigningKey::ed25519(&[8; 32]).with_kid(b"o-1".to_vec())),
    )
    .unwrap();
    let v = verifier()
        .trust("https://other.example", other.verifying_key())
        .unwrap();
    let uri = "https://issuer.city.example/status/1";
    let list = StatusList::new(1, 64).unwrap();
    let foreign = v
        .status_list_signers()
        .verify_status_list(&list.sign(&other, uri, t(NOW), t(NOW + 60), None).unwrap(), 1024)
        .unwrap();
    let mut c = claims();
    c.status = Some(StatusRef {
        idx: 1,
        uri: uri.into(),
    });
    let token = issuer().issue(&c).unwrap();
    assert_eq!(
        v.verify(&token, t(NOW), &[foreign]).err(),
        Some(Error::StatusIssuerMismatch)
    );
    // an untrusted signer's list does not verify at all
    let stranger = Issuer::new(ISS, soft(SigningKey::ed25519(&[9; 32]).with_kid(b"x".to_vec()))).unwrap();
    let bad = list.sign(&stranger, uri, t(NOW), t(NOW + 60), None).unwrap();
    assert_eq!(
        verifier().status_list_signers().verify_status_list(&bad, 1024).err(),
        Some(Error::Core(CoreError::UnknownKey))
    );
    // a credential is not a status list
    let cred = issuer().issue(&claims()).unwrap();
    assert_eq!(
        verifier().status_list_signers().verify_status_list(&cred, 1024).err(),
        Some(Error::MalformedStatusList)
    );
}

#[test]
fn status_list_bits_and_bounds() {
    for bits in [1u8, 2, 4, 8] {
        let mut l = StatusList::new(bits, 100).unwrap();
        let max = ((1u16 << bits) - 1) as u8;
        l.set(0, max).unwrap();
        l.set(99, 1).unwrap();
        assert_eq!(l.get(0), Some(max));
        assert_eq!(l.get(1), Some(0));
        assert_eq!(l.get(99), Some(1));
        assert_eq!(l.get(100), None);
        if bits < 8 {
            assert_eq!(l.set(5, max + 1).err(), Some(Error::MalformedStatusList));
        }
        let back = StatusList::from_compressed(bits, &l.compressed(), 1 << 20).unwrap();
        assert_eq!(back.get(0), Some(max));
        assert_eq!(back.get(99), Some(1));
    }
    assert_eq!(StatusList::new(3, 10).err(), Some(Error::MalformedStatusList));
    // draft-ietf-oauth-status-list example: bits 1, statuses [1,0,0,1,1,1,0,1, 1,1,0,0,0,1,0,1]
    // encodes to bytes b9 a3
    let mut l = StatusList::new(1, 16).unwrap();
    for (i, s) in [1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1].into_iter().enumerate() {
        l.set(i, s).unwrap();
    }
    let back = StatusList::from_compressed(1, &l.compressed(), 16).unwrap();
    assert_eq!(back.get(0), Some(1));
    let raw = miniz_inflate(&l.compressed());
    assert_eq!(raw, vec![0xb9, 0xa3]);
    // a decompression bomb is refused: 1 MiB of zeros, allowed 1024 entries
    let big = StatusList::new(8, 1 << 20).unwrap();
    assert_eq!(
        StatusList::from_compressed(8, &big.compressed(), 1024).err(),
        Some(Error::MalformedStatusList)
    );
}

// ---- proof of possession

struct Counter(u8);
impl citysec_core::RandomSource for Counter {
    fn fill(&mut self, buf: &mut [u8]) -> citysec_core::Result<()> {
        for b in buf {
            self.0 = self.0.wrapping_add(37);
            *b = self.0;
        }
        Ok(())
    }
}

fn holder_credential() -> (SigningKey, Vec<u8>) {
    let holder = SigningKey::ed25519(&[0x42; 32]).with_kid(b"phone-17".to_vec());
    let mut c = claims();
    c.cnf = Some(Confirmation::Key(
        citysec_rustcrypto::PROVIDER.public_key(&holder).unwrap(),
    ));
    (holder, issuer().issue(&c).unwrap())
}

#[test]
fn proof_of_possession() {
    let (holder, cred) = holder_credential();
    let mut rng = Counter(0);
    let challenge = Challenge::new(&mut rng, "door-7", t(NOW)).unwrap();
    // the challenge travels as CBOR
    let received = Challenge::from_cbor(&challenge.to_cbor().unwrap()).unwrap();
    assert_eq!(received, challenge);
    let p = present(&citysec_rustcrypto::signer_copy(&holder).unwrap(), &cred, &received).unwrap();
    let v = verifier()
        .verify_presentation(&p, &challenge, t(NOW + 5), 30, &[])
        .unwrap();
    assert_eq!(v.claims().sub.as_deref(), Some("staff-17"));
    assert_eq!(
        v.claims().cnf,
        Some(Confirmation::Key(
            citysec_rustcrypto::PROVIDER.public_key(&holder).unwrap()
        ))
    );

    // a recorded presentation replayed to the next challenge
    let next = Challenge::new(&mut rng, "door-7", t(NOW + 10)).unwrap();
    assert_eq!(
        verifier().verify_presentation(&p, &next, t(NOW + 11), 30, &[]).err(),
        Some(Error::ChallengeMismatch)
    );
    // or to another reader with the same nonce
    let other_reader = Challenge::from_parts(*challenge.nonce(), "door-8", challenge.issued_at());
    assert_eq!(
        verifier()
            .verify_presentation(&p, &other_reader, t(NOW + 5), 30, &[])
            .err(),
        Some(Error::ChallengeMismatch)
    );
    // a copied credential presented with the thief's own key
    let thief = SigningKey::ed25519(&[0x66; 32]).with_kid(b"phone-17".to_vec());
    let stolen = present(&citysec_rustcrypto::signer_copy(&thief).unwrap(), &cred, &challenge).unwrap();
    assert_eq!(
        verifier()
            .verify_presentation(&stolen, &challenge, t(NOW + 5), 30, &[])
            .err(),
        Some(Error::Core(CoreError::BadSignature))
    );
    // too slow
    assert_eq!(
        verifier()
            .verify_presentation(&p, &challenge, t(NOW + 31), 30, &[])
            .err(),
        Some(Error::ChallengeExpired)
    );
    // a credential without cnf cannot be presented
    let plain = issuer().issue(&claims()).unwrap();
    let p = present(&citysec_rustcrypto::signer_copy(&holder).unwrap(), &plain, &challenge).unwrap();
    assert_eq!(
        verifier().verify_presentation(&p, &challenge, t(NOW), 30, &[]).err(),
        Some(Error::NoConfirmationKey)
    );
    // an expired credential inside a fresh presentation
    let p = present(
        &citysec_rustcrypto::signer_copy(&holder).unwrap(),
        &cred,
        &Challenge::from_parts([1; 32], "door-7", t(EXP + 100)),
    )
    .unwrap();
    assert_eq!(
        verifier()
            .verify_presentation(
                &p,
                &Challenge::from_parts([1; 32], "door-7", t(EXP + 100)),
                t(EXP + 100),
                30,
                &[]
            )
            .err(),
        Some(Error::Expired)
    );
    // the credential itself, without a presentation, is not a presentation
    assert_eq!(
        verifier().verify_presentation(&cred, &challenge, t(NOW), 30, &[]).err(),
        Some(Error::MalformedPresentation)
    );
}

#[test]
fn cnf_with_a_private_key_is_malformed() {
    // cnf {1: COSE_Key with d}
    let holder = SigningKey::ed25519(&[0x42; 32]);
    let key_bytes = citysec_core::Key::Signing(holder)
        .complete(&citysec_rustcrypto::PROVIDER)
        .unwrap()
        .to_cose_key()
        .unwrap();
    let key_value: Value = citysec_core::coset::cbor::de::from_reader(key_bytes.as_slice()).unwrap();
    let payload = cbor(&Value::Map(vec![
        (Value::from(1), Value::Text(ISS.into())),
        (Value::from(3), Value::Text(AUD.into())),
        (Value::from(4), Value::from(EXP)),
        (Value::from(8), Value::Map(vec![(Value::from(1), key_value)])),
    ]));
    assert_eq!(verify(&sign_raw(&payload), NOW), Err(Error::MalformedClaims));
}

// ---- interop: RFC 8392 A.3 (as regenerated by the COSE working group)

#[test]
fn rfc8392_a3_verifies_and_decodes_to_the_rfc_values() {
    let doc = vector("A_3.json");
    let key = &doc["input"]["sign0"]["key"];
    let x: [u8; 32] = hex::decode(key["x_hex"].as_str().unwrap()).unwrap().try_into().unwrap();
    let y: [u8; 32] = hex::decode(key["y_hex"].as_str().unwrap()).unwrap().try_into().unwrap();
    let pk = VerifyingKey::p256(&x, &y)
        .unwrap()
        .with_kid(b"AsymmetricECDSA256".to_vec());
    let token = vector_cbor("A_3.json");
    // The token has no kid: the verifier's only trusted key is used.
    let v = Verifier::new(&citysec_rustcrypto::PROVIDER)
        .trust("coap://as.example.com", pk)
        .unwrap()
        .audience("coap://light.example.com");
    // exp 1444064944 is 2015-10-05T17:09:04Z: verify at iat.
    let c = v.verify(&token, t(1_443_944_944), &[]).unwrap().into_claims();
    assert_eq!(c.iss.as_deref(), Some("coap://as.example.com"));
    assert_eq!(c.sub.as_deref(), Some("erikw"));
    assert_eq!(c.aud, ["coap://light.example.com"]);
    assert_eq!(c.exp, Some(t(1_444_064_944)));
    assert_eq!(c.nbf, Some(t(1_443_944_944)));
    assert_eq!(c.iat, Some(t(1_443_944_944)));
    assert_eq!(c.cti, Some(vec![0x0b, 0x71]));
    assert!(c.other.is_empty());
    // and it has expired since
    assert_eq!(v.verify(&token, t(NOW), &[]).err(), Some(Error::Expired));
    // with two trusted keys and no kid, the verifier cannot choose
    let two = v
        .trust(
            "coap://as.example.com",
            citysec_rustcrypto::PROVIDER
                .public_key(&SigningKey::ed25519(&[1; 32]))
                .unwrap()
                .with_kid(b"z".to_vec()),
        )
        .unwrap();
    assert_eq!(
        two.verify(&token, t(1_443_944_944), &[]).err(),
        Some(Error::Core(CoreError::UnknownKey))
    );
}

// ---- batch

#[test]
fn batch_accepts_exactly_what_single_verification_accepts() {
    let good: Vec<Vec<u8>> = (0..20u8)
        .map(|i| {
            let mut c = claims();
            c.cti = Some(vec![i]);
            issuer().issue(&c).unwrap()
        })
        .collect();
    let mut tokens = good.clone();
    // corruptions of every kind, mixed in
    let mut bad_sig = good[0].clone();
    let n = bad_sig.len();
    bad_sig[n - 1] ^= 1;
    tokens.push(bad_sig);
    let mut expired = claims();
    expired.exp = Some(t(NOW - 1000));
    tokens.push(issuer().issue(&expired).unwrap());
    tokens.push(vec![0xd2, 0x80]);
    let stranger = Issuer::new(ISS, soft(SigningKey::ed25519(&[4; 32]).with_kid(b"unknown".to_vec()))).unwrap();
    tokens.push(stranger.issue(&claims()).unwrap());
    let es = Issuer::new(ISS, soft(SigningKey::p256(&[9; 32]).unwrap().with_kid(b"es".to_vec()))).unwrap();
    let v = verifier().trust(ISS, es.verifying_key()).unwrap();
    tokens.push(es.issue(&claims()).unwrap());
    // a signature with a non-canonical S (S + L) over a valid token
    let mut high_s = good[1].clone();
    let s_start = high_s.len() - 32;
    add_l(&mut high_s[s_start..]);
    tokens.push(high_s);
    // a small-order R
    let mut small_r = good[2].clone();
    let r_start = small_r.len() - 64;
    small_r[r_start..r_start + 32].copy_from_slice(&{
        let mut id = [0u8; 32];
        id[0] = 1;
        id
    });
    tokens.push(small_r);

    let refs: Vec<&[u8]> = tokens.iter().map(Vec::as_slice).collect();
    let batch = v.verify_batch(&refs, t(NOW), &[]);
    let single: Vec<_> = refs.iter().map(|tok| v.verify(tok, t(NOW), &[])).collect();
    assert_eq!(batch, single);
    assert_eq!(batch.iter().filter(|r| r.is_ok()).count(), 21);
    // all good: the batch path itself accepts them all
    let good_refs: Vec<&[u8]> = good.iter().map(Vec::as_slice).collect();
    assert!(v.verify_batch(&good_refs, t(NOW), &[]).iter().all(Result::is_ok));
}

/// Adds the group order L to a little-endian 32-byte scalar in place.
fn add_l(s: &mut [u8]) {
    let l: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];
    let mut carry = 0u16;
    for i in 0..32 {
        let v = u16::from(s[i]) + u16::from(l[i]) + carry;
        s[i] = v as u8;
        carry = v >> 8;
    }
}

// ---- helpers

fn cbor(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    citysec_core::coset::cbor::ser::into_writer(v, &mut out).unwrap();
    out
}

fn vector(name: &str) -> serde_json::Value {
    let dir = std::env::var_os("CITYSEC_VECTORS").map_or_else(
        || std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../vectors"),
        Into::into,
    );
    let text = std::fs::read_to_string(dir.join("cose-wg-examples/CWT").join(name)).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn vector_cbor(name: &str) -> Vec<u8> {
    hex::decode(vector(name)["output"]["cbor"].as_str().unwrap()).unwrap()
}

fn miniz_inflate(data: &[u8]) -> Vec<u8> {
    StatusList::from_compressed(8, data, 1 << 20)
        .map(|l| (0..l.len()).map(|i| l.get(i).unwrap()).collect())
        .unwrap()
}

// ---- the documented example token

/// docs/credential-profile.md shows a token made by this exact code: issuing it
/// again must give the same bytes (Ed25519 is deterministic), and it must verify.
#[test]
fn the_documented_example_token_is_reproduced() {
    let issuer = Issuer::new(
        ISS,
        soft(SigningKey::ed25519(&[0x11; 32]).with_kid(b"issuer-2026".to_vec())),
    )
    .unwrap();
    let holder = SigningKey::ed25519(&[0x22; 32]).with_kid(b"phone-17".to_vec());
    let mut c = Claims::new();
    c.sub = Some("staff-17".into());
    c.aud = vec![AUD.into()];
    c.exp = Some(t(1_767_229_200));
    c.iat = Some(t(1_767_139_200));
    c.cti = Some(vec![0x0b, 0x71]);
    c.cnf = Some(Confirmation::Key(
        citysec_rustcrypto::PROVIDER.public_key(&holder).unwrap(),
    ));
    c.status = Some(StatusRef {
        idx: 17,
        uri: "https://issuer.city.example/status/1".into(),
    });
    c.roles = vec!["staff".into()];
    c.zones = vec!["lobby".into(), "office".into()];
    c.kind = Some(CredentialKind::Staff);
    c.schedule = vec![ScheduleWindow {
        days: 0b001_1111,
        start_minute: 420,
        end_minute: 1140,
    }];
    let token = issuer.issue(&c).unwrap();
    let docs =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/credential-profile.md")).unwrap();
    let block = docs.split("```hex\n").nth(1).unwrap().split("```").next().unwrap();
    let documented: String = block.chars().filter(char::is_ascii_hexdigit).collect();
    assert_eq!(hex::encode(&token), documented);
    let v = Verifier::new(&citysec_rustcrypto::PROVIDER)
        .trust(ISS, issuer.verifying_key())
        .unwrap()
        .audience(AUD);
    let at = 1_767_139_300;
    let list = StatusList::new(1, 64)
        .unwrap()
        .sign(&issuer, "https://issuer.city.example/status/1", t(at), t(at + 60), None)
        .unwrap();
    let lists = [v.status_list_signers().verify_status_list(&list, 1024).unwrap()];
    assert_eq!(
        v.verify(&token, t(at), &lists).unwrap().claims().sub.as_deref(),
        Some("staff-17")
    );
}

/// A signer for a test key, through the pure-Rust provider.
fn soft(key: SigningKey) -> Box<dyn Signer> {
    citysec_rustcrypto::PROVIDER.signer(key).unwrap()
}

/// The access profile sits on core's CWT layer: its claims are read by the
/// profile, and the plain claims set keeps them, undecoded, in `other`; both
/// encode to the bytes they came from.
#[test]
fn the_access_profile_is_a_layer_over_the_claims_set() {
    use citysec_core::cwt::{ClaimsSet, Profile as _};
    use citysec_credential::claims::keys;

    let c = claims();
    let bytes = c.to_cbor().unwrap();
    let limits = citysec_core::Limits::DEFAULT;

    let access = Claims::from_cbor(&bytes, &limits).unwrap();
    assert_eq!(access, c);
    assert!(access.other.is_empty());
    assert_eq!(access.claims_set().sub.as_deref(), Some("staff-17"));

    let set = ClaimsSet::from_cbor(&bytes, &limits).unwrap();
    let mut registered = set.clone();
    registered.other.clear();
    assert_eq!(registered, access.cwt);
    let other: Vec<i64> = set
        .other
        .iter()
        .map(|(k, _)| match k {
            ClaimKey::Int(i) => *i,
            ClaimKey::Text(_) => panic!("no text keys here"),
        })
        .collect();
    assert_eq!(other, [keys::ROLES, keys::ZONES, keys::KIND, keys::SCHEDULE]);
    assert_eq!(
        set.other_claim(&ClaimKey::Int(keys::ROLES)),
        Some(&Value::Array(vec![Value::Text("staff".into())]))
    );
    assert_eq!(set.to_cbor().unwrap(), bytes);
}
