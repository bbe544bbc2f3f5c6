//! Every attack named in DESIGN.md "Rules every decoder follows", each with its
//! exact error. Messages are assembled byte by byte so each test changes exactly
//! one thing, and signatures are real, so a rejection is never a signature failure
//! in disguise.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::cast_possible_truncation,
    reason = "test code: a failed unwrap or index is a failed test"
)]

use citysec_core::encrypt0::{self, Iv};
use citysec_core::sign1::{self, Tagging, VerifyOptions};
use citysec_core::{
    Algorithm, CritPolicy, Error, Key, KeySet, Limits, SigningKey, SymmetricKey, VerifyingKey, X25519SecretKey,
};

const B: citysec_core::provider::Provider = citysec_rustcrypto::PROVIDER;

/// CBOR head in preferred form.
fn head(major: u8, n: usize) -> Vec<u8> {
    let m = major << 5;
    match n {
        0..=23 => vec![m | n as u8],
        24..=0xff => vec![m | 24, n as u8],
        0x100..=0xffff => {
            let mut v = vec![m | 25];
            v.extend_from_slice(&(n as u16).to_be_bytes());
            v
        }
        _ => {
            let mut v = vec![m | 26];
            v.extend_from_slice(&(n as u32).to_be_bytes());
            v
        }
    }
}

fn bstr(b: &[u8]) -> Vec<u8> {
    let mut v = head(2, b.len());
    v.extend_from_slice(b);
    v
}

fn hx(s: &str) -> Vec<u8> {
    hex::decode(s.replace(' ', "")).unwrap()
}

fn ed_key() -> SigningKey {
    SigningKey::ed25519(&[42u8; 32]).with_kid(b"k1".to_vec())
}

fn keys() -> KeySet<VerifyingKey> {
    KeySet::from_keys([citysec_rustcrypto::PROVIDER.public_key(&ed_key()).unwrap()]).unwrap()
}

/// Sig_structure for Sign1.
fn tbs(protected: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut v = vec![0x84];
    v.extend(head(3, 10));
    v.extend_from_slice(b"Signature1");
    v.extend(bstr(protected));
    v.extend(bstr(b""));
    v.extend(bstr(payload));
    v
}

/// A tagged Sign1 over raw header bytes, really signed by `ed_key()`.
fn sign1_raw(protected: &[u8], unprotected: &[u8], payload: &[u8]) -> Vec<u8> {
    let sig = citysec_rustcrypto::signer_copy(&ed_key())
        .unwrap()
        .sign(&tbs(protected, payload))
        .unwrap();
    let mut v = vec![0xd2, 0x84];
    v.extend(bstr(protected));
    v.extend_from_slice(unprotected);
    v.extend(bstr(payload));
    v.extend(bstr(&sig));
    v
}

fn verify(msg: &[u8]) -> Result<Vec<u8>, Error> {
    sign1::verify(&B, &keys(), msg, &VerifyOptions::default()).map(|v| v.payload().to_vec())
}

// protected {1: -8, 4: 'k1'}
const P_ED_KID: &str = "a2 01 27 04 42 6b31";

#[test]
fn the_baseline_message_verifies() {
    let msg = sign1_raw(&hx(P_ED_KID), &hx("a0"), b"payload");
    assert_eq!(verify(&msg), Ok(b"payload".to_vec()));
}

#[test]
fn alg_only_in_unprotected_is_rejected() {
    // protected h'' and h'a0', with {1: -8, 4: 'k1'} unprotected
    for protected in [hx(""), hx("a0")] {
        let msg = sign1_raw(&protected, &hx("a2 01 27 04 42 6b31"), b"p");
        assert_eq!(verify(&msg), Err(Error::AlgNotProtected));
    }
    // protected has only the kid
    let msg = sign1_raw(&hx("a1 04 42 6b31"), &hx("a1 01 27"), b"p");
    assert_eq!(verify(&msg), Err(Error::AlgNotProtected));
}

#[test]
fn a_label_in_both_buckets_is_rejected() {
    let msg = sign1_raw(&hx(P_ED_KID), &hx("a1 01 27"), b"p");
    assert_eq!(verify(&msg), Err(Error::DuplicateHeaderLabel));
    let msg = sign1_raw(&hx(P_ED_KID), &hx("a1 04 42 6b31"), b"p");
    assert_eq!(verify(&msg), Err(Error::DuplicateHeaderLabel));
    // a private label
    let msg = sign1_raw(&hx("a3 01 27 04 42 6b31 3a00010000 01"), &hx("a1 3a00010000 02"), b"p");
    assert_eq!(verify(&msg), Err(Error::DuplicateHeaderLabel));
}

/// `{1: -8, 4: 'k1'}` and `extra` more labels 100, 101, ... (value 0).
fn protected_with_labels(extra: usize) -> Vec<u8> {
    let mut p = head(5, 2 + extra);
    p.extend(hx("01 27 04 42 6b31"));
    for l in 0..extra {
        p.extend(head(0, 100 + l));
        p.push(0);
    }
    p
}

/// An unprotected map of `n` labels 200, 201, ... (value 0).
fn unprotected_with_labels(n: usize) -> Vec<u8> {
    let mut u = head(5, n);
    for l in 0..n {
        u.extend(head(0, 200 + l));
        u.push(0);
    }
    u
}

#[test]
fn a_header_bucket_holds_at_most_32_labels() {
    assert_eq!(citysec_core::MAX_HEADER_LABELS, 32);
    let msg = sign1_raw(&protected_with_labels(30), &unprotected_with_labels(32), b"p");
    assert_eq!(verify(&msg), Ok(b"p".to_vec()));
    let msg = sign1_raw(&protected_with_labels(31), &unprotected_with_labels(32), b"p");
    assert_eq!(verify(&msg), Err(Error::TooManyEntries));
    let msg = sign1_raw(&protected_with_labels(30), &unprotected_with_labels(33), b"p");
    assert_eq!(verify(&msg), Err(Error::TooManyEntries));
    // the count is read before the well-formedness pass: trailing bytes after
    // an over-full header are not what is reported
    let mut msg = sign1_raw(&protected_with_labels(0), &unprotected_with_labels(33), b"p");
    msg.push(0);
    assert_eq!(verify(&msg), Err(Error::TooManyEntries));
    // the same in a COSE_Encrypt0
    let mut enc = vec![0xd0, 0x83];
    enc.extend(bstr(&hx("a1 01 18 18")));
    enc.extend(unprotected_with_labels(33));
    enc.extend(bstr(&[0u8; 16]));
    let opts = VerifyOptions::default();
    assert_eq!(
        encrypt0::UnverifiedEncrypt0::parse(&enc, &opts).map(|_| ()),
        Err(Error::TooManyEntries)
    );
}

#[test]
fn duplicate_labels_inside_one_bucket_are_rejected() {
    let msg = sign1_raw(&hx("a3 01 27 04 42 6b31 01 27"), &hx("a0"), b"p");
    assert_eq!(verify(&msg), Err(Error::DuplicateMapKey));
    let msg = sign1_raw(&hx(P_ED_KID), &hx("a2 05 41 00 05 41 00"), b"p");
    assert_eq!(verify(&msg), Err(Error::DuplicateMapKey));
    // the same label in two encodings (4 and 0x18 0x04)
    let msg = sign1_raw(&hx("a3 01 27 04 42 6b31 1804 42 6b31"), &hx("a0"), b"p");
    assert_eq!(verify(&msg), Err(Error::DuplicateMapKey));
}

#[test]
fn crit_rules() {
    // crit [-65537] with that label present, protected
    let p = hx("a4 01 27 04 42 6b31 02 81 3a00010000 3a00010000 01");
    let msg = sign1_raw(&p, &hx("a0"), b"p");
    assert_eq!(verify(&msg), Err(Error::UnknownCrit));
    // the same message is fine for a caller that implements label -65537
    let opts = VerifyOptions {
        crit: CritPolicy { understood: &[-65537] },
        ..VerifyOptions::default()
    };
    assert_eq!(
        sign1::verify(&B, &keys(), &msg, &opts).map(|v| v.payload().to_vec()),
        Ok(b"p".to_vec())
    );
    // crit naming a base label (alg) is refused
    let msg = sign1_raw(&hx("a3 01 27 04 42 6b31 02 81 01"), &hx("a0"), b"p");
    assert_eq!(verify(&msg), Err(Error::UnknownCrit));
    // crit in the unprotected bucket
    let msg = sign1_raw(&hx(P_ED_KID), &hx("a2 02 81 3a00010000 3a00010000 01"), b"p");
    assert_eq!(verify(&msg), Err(Error::CritNotProtected));
    // empty crit
    let msg = sign1_raw(&hx("a3 01 27 04 42 6b31 02 80"), &hx("a0"), b"p");
    assert_eq!(verify(&msg), Err(Error::Malformed));
}

#[test]
fn tags() {
    let good = sign1_raw(&hx(P_ED_KID), &hx("a0"), b"p");
    let body = &good[1..];
    // untagged through the tagged API
    assert_eq!(verify(body), Err(Error::WrongTag));
    // and accepted through the untagged one
    let v = sign1::verify(&B, &keys(), body, &VerifyOptions::default().untagged()).unwrap();
    assert_eq!(v.payload(), b"p");
    // the untagged API refuses a tagged message
    assert_eq!(
        sign1::verify(&B, &keys(), &good, &VerifyOptions::default().untagged()).err(),
        Some(Error::WrongTag)
    );
    // a foreign tag: COSE_Mac0 (17), COSE_Encrypt0 (16)
    for t in [0xd1u8, 0xd0] {
        let mut m = vec![t];
        m.extend_from_slice(body);
        assert_eq!(verify(&m), Err(Error::WrongTag));
    }
    // CWT tag 61 around COSE_Sign1 is accepted, alone it is not, twice 18 is not
    let mut cwt = hx("d8 3d");
    cwt.extend_from_slice(&good);
    assert_eq!(verify(&cwt), Ok(b"p".to_vec()));
    let mut cwt_only = hx("d8 3d");
    cwt_only.extend_from_slice(body);
    assert_eq!(verify(&cwt_only), Err(Error::WrongTag));
    let mut double = vec![0xd2];
    double.extend_from_slice(&good);
    assert_eq!(verify(&double), Err(Error::WrongTag));
    // a tag on an inner field (the unprotected kid as tag 1)
    let msg = sign1_raw(&hx("a1 01 27"), &hx("a1 04 c1 42 6b31"), b"p");
    assert_eq!(verify(&msg), Err(Error::UnexpectedTag));
    // Encrypt0 API on a Sign1
    let k = SymmetricKey::new(Algorithm::ChaCha20Poly1305, &[1; 32]).unwrap();
    assert_eq!(
        encrypt0::open(&B, &k, &good, &VerifyOptions::default()).err(),
        Some(Error::WrongTag)
    );
}

#[test]
fn trailing_bytes_are_rejected() {
    let mut msg = sign1_raw(&hx(P_ED_KID), &hx("a0"), b"p");
    msg.push(0x00);
    assert_eq!(verify(&msg), Err(Error::TrailingBytes));
}

#[test]
fn indefinite_lengths_are_rejected() {
    // unprotected as an indefinite map {_ 5: h'00'}
    let msg = sign1_raw(&hx(P_ED_KID), &hx("bf 05 41 00 ff"), b"p");
    assert_eq!(verify(&msg), Err(Error::IndefiniteLength));
    // payload as indefinite chunks (_ h'70')
    let mut m = vec![0xd2, 0x84];
    m.extend(bstr(&hx(P_ED_KID)));
    m.extend(hx("a0 5f 41 70 ff"));
    m.extend(bstr(&[0u8; 64]));
    assert_eq!(verify(&m), Err(Error::IndefiniteLength));
}

#[test]
fn over_size_input_is_rejected_before_allocation() {
    let big = vec![0u8; 64];
    let msg = sign1_raw(&hx(P_ED_KID), &hx("a0"), &big);
    let tight = VerifyOptions::default().with_limits(Limits::DEFAULT.with_max_message_size(msg.len() - 1));
    assert_eq!(sign1::verify(&B, &keys(), &msg, &tight).err(), Some(Error::TooLarge));
    let exact = VerifyOptions::default().with_limits(Limits::DEFAULT.with_max_message_size(msg.len()));
    assert!(sign1::verify(&B, &keys(), &msg, &exact).is_ok());
    // a 10 MB message is refused by length alone
    let huge = vec![0u8; 10 * 1024 * 1024];
    assert_eq!(verify(&huge), Err(Error::TooLarge));
    // a payload that declares 4 GiB in a 20-byte message: refused without allocating
    let mut m = vec![0xd2, 0x84];
    m.extend(bstr(&hx(P_ED_KID)));
    m.extend(hx("a0 5a ffffffff 00"));
    assert_eq!(verify(&m), Err(Error::Malformed));
    // an array that declares more entries than the limit
    let msg = sign1_raw(&hx(P_ED_KID), &hx("a1 3a00010000 99 0101"), b"p");
    assert_eq!(verify(&msg), Err(Error::TooManyEntries));
}

#[test]
fn over_deep_input_is_rejected() {
    // unprotected {-65537: [[[...0...]]]} nested 20 deep
    let mut u = hx("a1 3a00010000");
    u.extend(core::iter::repeat_n(0x81u8, 20));
    u.push(0x00);
    let msg = sign1_raw(&hx(P_ED_KID), &u, b"p");
    assert_eq!(verify(&msg), Err(Error::TooDeep));
    // depth inside the protected bstr counts too
    let mut p = hx("a3 01 27 04 42 6b31 3a00010000");
    p.extend(core::iter::repeat_n(0x81u8, 20));
    p.push(0x00);
    let msg = sign1_raw(&p, &hx("a0"), b"p");
    assert_eq!(verify(&msg), Err(Error::TooDeep));
}

#[test]
fn keys_must_match_the_alg() {
    let msg = sign1_raw(&hx(P_ED_KID), &hx("a0"), b"p");
    let p256 = SigningKey::p256(&[7u8; 32]).unwrap().with_kid(b"k1".to_vec());
    // an EdDSA message with a P-256 key under the same kid
    let set = KeySet::from_keys([citysec_rustcrypto::PROVIDER.public_key(&p256).unwrap()]).unwrap();
    assert_eq!(
        sign1::verify(&B, &set, &msg, &VerifyOptions::default()).err(),
        Some(Error::KeyAlgMismatch)
    );
    assert_eq!(
        sign1::verify_with_key(
            &B,
            &citysec_rustcrypto::PROVIDER.public_key(&p256).unwrap(),
            &msg,
            &VerifyOptions::default()
        )
        .err(),
        Some(Error::KeyAlgMismatch)
    );
    // and the reverse: an ES256 message with an Ed25519 key
    let es = sign1::sign(&citysec_rustcrypto::signer_copy(&p256).unwrap(), b"p", b"").unwrap();
    assert_eq!(verify(&es), Err(Error::KeyAlgMismatch));
    // an AEAD alg in a Sign1
    let msg = sign1_raw(&hx("a2 01 18 18 04 42 6b31"), &hx("a0"), b"p");
    assert_eq!(verify(&msg), Err(Error::UnsupportedAlgorithm));
    // a COSE_Key whose alg does not fit its type: OKP Ed25519 marked ES256
    let x = citysec_rustcrypto::PROVIDER.public_key(&ed_key()).unwrap().to_bytes();
    let mut ck = hx("a4 01 01 03 26 20 06 21");
    ck.extend(bstr(&x));
    assert_eq!(
        Key::from_cose_key(&ck, &Limits::DEFAULT).err(),
        Some(Error::KeyAlgMismatch)
    );
    // an AES-128 key for a ChaCha20/Poly1305 message
    let cc = SymmetricKey::new(Algorithm::ChaCha20Poly1305, &[1; 32]).unwrap();
    let aes = SymmetricKey::new(Algorithm::A128GCM, &[1; 16]).unwrap();
    let sealed = encrypt0::seal(&B, &cc, Iv::Full(&[0; 12]), b"r", b"").unwrap();
    assert_eq!(
        encrypt0::open(&B, &aes, &sealed, &VerifyOptions::default()).err(),
        Some(Error::KeyAlgMismatch)
    );
    // a key of the wrong length for its alg
    assert_eq!(
        SymmetricKey::new(Algorithm::A128GCM, &[1; 32]).err(),
        Some(Error::InvalidKey)
    );
    assert_eq!(
        SymmetricKey::new(Algorithm::EdDSA, &[1; 32]).err(),
        Some(Error::UnsupportedAlgorithm)
    );
}

#[test]
fn kid_lookup() {
    // unknown kid
    let msg = sign1_raw(&hx("a2 01 27 04 42 6b32"), &hx("a0"), b"p");
    assert_eq!(verify(&msg), Err(Error::UnknownKey));
    // no kid at all with a key set
    let msg = sign1_raw(&hx("a1 01 27"), &hx("a0"), b"p");
    assert_eq!(verify(&msg), Err(Error::UnknownKey));
    // but fine with one explicit key
    assert!(
        sign1::verify_with_key(
            &B,
            &citysec_rustcrypto::PROVIDER.public_key(&ed_key()).unwrap(),
            &msg,
            &VerifyOptions::default()
        )
        .is_ok()
    );
    // two trusted keys with the same kid
    let other = SigningKey::ed25519(&[43u8; 32]).with_kid(b"k1".to_vec());
    assert_eq!(
        KeySet::from_keys([
            citysec_rustcrypto::PROVIDER.public_key(&ed_key()).unwrap(),
            citysec_rustcrypto::PROVIDER.public_key(&other).unwrap()
        ])
        .err(),
        Some(Error::DuplicateKid)
    );
    // a key without a kid cannot join a set
    assert_eq!(
        KeySet::from_keys([citysec_rustcrypto::PROVIDER
            .public_key(&SigningKey::ed25519(&[1; 32]))
            .unwrap()])
        .err(),
        Some(Error::UnknownKey)
    );
    // rotation: old and new key side by side
    let new = SigningKey::ed25519(&[44u8; 32]).with_kid(b"k2".to_vec());
    let set = KeySet::from_keys([
        citysec_rustcrypto::PROVIDER.public_key(&ed_key()).unwrap(),
        citysec_rustcrypto::PROVIDER.public_key(&new).unwrap(),
    ])
    .unwrap();
    for k in [ed_key(), new] {
        let m = sign1::sign(&citysec_rustcrypto::signer_copy(&k).unwrap(), b"r", b"").unwrap();
        assert!(sign1::verify(&B, &set, &m, &VerifyOptions::default()).is_ok());
    }
}

#[test]
fn a_wrong_signature_is_opaque() {
    let mut msg = sign1_raw(&hx(P_ED_KID), &hx("a0"), b"p");
    let last = msg.len() - 1;
    msg[last] ^= 1;
    assert_eq!(verify(&msg), Err(Error::BadSignature));
    // a signature of the wrong length
    let mut m = vec![0xd2, 0x84];
    m.extend(bstr(&hx(P_ED_KID)));
    m.extend(hx("a0"));
    m.extend(bstr(b"p"));
    m.extend(bstr(&[0u8; 63]));
    assert_eq!(verify(&m), Err(Error::BadSignature));
    // detached payload (nil)
    let mut m = vec![0xd2, 0x84];
    m.extend(bstr(&hx(P_ED_KID)));
    m.extend(hx("a0 f6"));
    m.extend(bstr(&[0u8; 64]));
    assert_eq!(verify(&m), Err(Error::DetachedContent));
}

#[test]
fn weak_keys_are_refused() {
    // the identity point and a point of order 8 are small-order Ed25519 keys
    let mut identity = [0u8; 32];
    identity[0] = 1;
    assert_eq!(VerifyingKey::ed25519(&identity).err(), Some(Error::WeakKey));
    let order8 = hex::decode("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a").unwrap();
    assert_eq!(
        VerifyingKey::ed25519(&order8.try_into().unwrap()).err(),
        Some(Error::WeakKey)
    );
    // also when they arrive as a COSE_Key
    let mut ck = hx("a3 01 01 20 06 21");
    ck.extend(bstr(&identity));
    assert_eq!(Key::from_cose_key(&ck, &Limits::DEFAULT).err(), Some(Error::WeakKey));
    // the all-zero X25519 secret
    assert_eq!(X25519SecretKey::new(&[0u8; 32]).err(), Some(Error::WeakKey));
    // an X25519 agreement with a low-order point
    let sk = X25519SecretKey::new(&[5u8; 32]).unwrap();
    let zero = citysec_core::X25519PublicKey::new([0u8; 32]);
    assert_eq!(B.x25519(&sk, &zero).err(), Some(Error::NonContributory));
    // a P-256 point off the curve: in range, so core takes the bytes, and the
    // provider refuses it at import
    let off_curve = VerifyingKey::p256(&[1u8; 32], &[2u8; 32]).unwrap();
    assert_eq!(
        citysec_rustcrypto::PROVIDER.import(off_curve).err(),
        Some(Error::InvalidKey)
    );
    // a coordinate not below the field prime
    assert_eq!(
        VerifyingKey::p256(&[0xff; 32], &[2u8; 32]).err(),
        Some(Error::InvalidKey)
    );
    // a non-canonical Ed25519 encoding (y = p + 2)
    let mut y = [0xffu8; 32];
    y[0] = 0xef;
    y[31] = 0x7f;
    assert_eq!(VerifyingKey::ed25519(&y).err(), Some(Error::InvalidKey));
}

#[test]
fn encrypt0_truncated_tag_and_iv_rules() {
    let key = SymmetricKey::new(Algorithm::ChaCha20Poly1305, &[9; 32])
        .unwrap()
        .with_base_iv([3; 12]);
    let opts = VerifyOptions::default();
    let open = |m: &[u8]| encrypt0::open(&B, &key, m, &opts).map(|o| o.plaintext().to_vec());
    // protected {1: 24}
    let p = hx("a1 01 18 18");
    let raw = |unprotected: &[u8], ct: &[u8]| {
        let mut v = vec![0xd0, 0x83];
        v.extend(bstr(&p));
        v.extend_from_slice(unprotected);
        v.extend(bstr(ct));
        v
    };
    let good = encrypt0::seal(&B, &key, Iv::Full(&[7; 12]), b"reading", b"").unwrap();
    assert_eq!(open(&good), Ok(b"reading".to_vec()));
    let ct = &good[good.len() - (7 + 16)..];
    let mut u = hx("a1 05");
    u.extend(bstr(&[7; 12]));
    assert_eq!(open(&raw(&u, ct)), Ok(b"reading".to_vec()));
    // the tag cut by one byte, and a ciphertext shorter than a tag
    assert_eq!(open(&raw(&u, &ct[..ct.len() - 1])), Err(Error::DecryptFailed));
    assert_eq!(open(&raw(&u, &ct[..15])), Err(Error::DecryptFailed));
    // IV and Partial IV together, in one bucket or across both
    let mut both = hx("a2 05");
    both.extend(bstr(&[7; 12]));
    both.extend(hx("06 41 01"));
    assert_eq!(open(&raw(&both, ct)), Err(Error::InvalidIv));
    let mut p_piv = vec![0xd0, 0x83];
    p_piv.extend(bstr(&hx("a2 01 18 18 06 41 01")));
    p_piv.extend_from_slice(&u);
    p_piv.extend(bstr(ct));
    assert_eq!(open(&p_piv), Err(Error::InvalidIv));
    // no IV at all, an 8-byte IV, a 13-byte Partial IV
    assert_eq!(open(&raw(&hx("a0"), ct)), Err(Error::InvalidIv));
    let mut short = hx("a1 05");
    short.extend(bstr(&[7; 8]));
    assert_eq!(open(&raw(&short, ct)), Err(Error::InvalidIv));
    let mut long_piv = hx("a1 06");
    long_piv.extend(bstr(&[7; 13]));
    assert_eq!(open(&raw(&long_piv, ct)), Err(Error::InvalidIv));
    // a Partial IV with a key that has no Base IV
    let sealed = encrypt0::seal(&B, &key, Iv::Partial(&[0, 5]), b"r", b"").unwrap();
    assert_eq!(open(&sealed), Ok(b"r".to_vec()));
    let no_base = SymmetricKey::new(Algorithm::ChaCha20Poly1305, &[9; 32]).unwrap();
    assert_eq!(
        encrypt0::open(&B, &no_base, &sealed, &opts).err(),
        Some(Error::InvalidIv)
    );
    // external AAD binds
    let bound = encrypt0::seal(&B, &key, Iv::Full(&[1; 12]), b"r", b"topic/a").unwrap();
    assert_eq!(open(&bound), Err(Error::DecryptFailed));
    let with = VerifyOptions::default().with_external_aad(b"topic/a");
    assert!(encrypt0::open(&B, &key, &bound, &with).is_ok());
}

#[test]
fn partial_iv_nonce_follows_rfc9052() {
    let base = [0xffu8; 12];
    let n = encrypt0::partial_iv_nonce(&base, &[0x01, 0x02]).unwrap();
    assert_eq!(
        n,
        [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, 0xfd]
    );
    assert_eq!(encrypt0::partial_iv_nonce(&base, &[]), Err(Error::InvalidIv));
}

#[test]
fn debug_never_prints_secrets() {
    let seed = [0xabu8; 32];
    let sk = SigningKey::ed25519(&seed).with_kid(b"kid".to_vec());
    let sym = SymmetricKey::new(Algorithm::ChaCha20Poly1305, &seed).unwrap();
    let x = X25519SecretKey::new(&seed).unwrap();
    for s in [
        format!("{sk:?}"),
        format!("{sym:?}"),
        format!("{x:?}"),
        format!("{:?}", Key::from(SigningKey::ed25519(&seed))),
    ] {
        assert!(!s.to_lowercase().contains("abab"), "{s}");
        assert!(!s.contains("171, 171"), "{s}");
    }
    assert_eq!(format!("{sk:?}"), "SigningKey { alg: EdDSA, kid: h'6b6964', .. }");
}

#[test]
fn untagged_encrypt0_only_through_the_untagged_api() {
    let key = SymmetricKey::new(Algorithm::A256GCM, &[2; 32]).unwrap();
    let tagged = encrypt0::seal(&B, &key, Iv::Full(&[4; 12]), b"x", b"").unwrap();
    let body = &tagged[1..];
    assert_eq!(
        encrypt0::open(&B, &key, body, &VerifyOptions::default()).err(),
        Some(Error::WrongTag)
    );
    let opts = VerifyOptions {
        tagging: Tagging::Untagged,
        ..VerifyOptions::default()
    };
    assert_eq!(encrypt0::open(&B, &key, body, &opts).unwrap().plaintext(), b"x");
    // a CWT tag is not accepted around Encrypt0
    let mut cwt = hx("d8 3d");
    cwt.extend_from_slice(&tagged);
    assert_eq!(
        encrypt0::open(&B, &key, &cwt, &VerifyOptions::default()).err(),
        Some(Error::WrongTag)
    );
}

#[test]
fn content_type_is_read_from_the_protected_bucket_without_decoding() {
    use citysec_core::ContentTypeRef;
    use citysec_core::coset::{ContentType, iana};
    use citysec_core::sign1::UnverifiedSign1;

    // protected {1: -8, 3: "text/plain", 4: 'k1'}
    let text = sign1_raw(&hx("a3 01 27 03 6a 746578742f706c61696e 04 42 6b31"), &hx("a0"), b"p");
    // protected {1: -8, 3: 60, 4: 'k1'}
    let number = sign1_raw(&hx("a3 01 27 03 18 3c 04 42 6b31"), &hx("a0"), b"p");
    // protected {1: -8, 4: 'k1'}, unprotected {3: 60}
    let unprotected = sign1_raw(&hx(P_ED_KID), &hx("a1 03 18 3c"), b"p");
    let opts = VerifyOptions::default();
    for (msg, want, decoded) in [
        (
            &text,
            Some(ContentTypeRef::Text("text/plain")),
            Some(ContentType::Text("text/plain".into())),
        ),
        (
            &number,
            Some(ContentTypeRef::Uint(60)),
            Some(ContentType::Assigned(iana::CoapContentFormat::Cbor)),
        ),
        (&unprotected, None, None),
    ] {
        let parsed = UnverifiedSign1::parse(msg, &opts).unwrap();
        assert_eq!(parsed.protected_content_type(), want);
        assert_eq!(parsed.protected().unwrap().content_type, decoded);
        let verified = parsed
            .verify(&B, &citysec_rustcrypto::PROVIDER.public_key(&ed_key()).unwrap(), b"")
            .unwrap();
        assert_eq!(verified.protected_content_type(), want);
    }
    // An empty text, or a number above 65535, is malformed.
    for p in ["a3 01 27 03 60 04 42 6b31", "a3 01 27 03 1a 00010000 04 42 6b31"] {
        let msg = sign1_raw(&hx(p), &hx("a0"), b"p");
        assert_eq!(UnverifiedSign1::parse(&msg, &opts).unwrap_err(), Error::Malformed);
    }
}

#[test]
fn secret_keys_are_exported_only_with_hazmat() {
    let signing = Key::from(SigningKey::ed25519(&[5u8; 32]).with_kid(b"k".to_vec()))
        .complete(&citysec_rustcrypto::PROVIDER)
        .unwrap();
    let public = signing.public(&citysec_rustcrypto::PROVIDER).unwrap().unwrap();
    // A public key always encodes.
    assert!(public.to_cose_key().is_ok());
    #[cfg(not(feature = "hazmat"))]
    assert_eq!(signing.to_cose_key().err(), Some(Error::SecretExport));
    // With hazmat (key-file export), the COSE_Key carries `d` (label -4) and
    // decodes back to the same key.
    #[cfg(feature = "hazmat")]
    {
        let bytes = signing.to_cose_key().unwrap();
        let back = Key::from_cose_key(&bytes, &Limits::DEFAULT).unwrap();
        assert_eq!(
            back.public(&citysec_rustcrypto::PROVIDER)
                .unwrap()
                .unwrap()
                .to_cose_key()
                .unwrap(),
            public.to_cose_key().unwrap()
        );
        assert!(back.is_secret());
    }
}

#[test]
fn signature_forms_are_checked_by_bytes_in_core() {
    use citysec_core::keys::signature_is_well_formed;
    let hx32 = |h: &str| <[u8; 32]>::try_from(hex::decode(h).unwrap()).unwrap();
    // Ed25519: a real signature, then S = L (not canonical), S = L - 1 (canonical),
    // and a small-order R.
    let signer = citysec_rustcrypto::signer_copy(&ed_key()).unwrap();
    let sig = signer.sign(b"m").unwrap();
    assert!(signature_is_well_formed(Algorithm::EdDSA, &sig));
    let l = hx32("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010");
    let mut l_minus_1 = l;
    l_minus_1[0] -= 1;
    let with_s = |s: [u8; 32]| [&sig[..32], &s[..]].concat();
    assert!(!signature_is_well_formed(Algorithm::EdDSA, &with_s(l)));
    assert!(signature_is_well_formed(Algorithm::EdDSA, &with_s(l_minus_1)));
    let identity_r = [[1u8].as_slice(), &[0u8; 31], &sig[32..]].concat();
    assert!(!signature_is_well_formed(Algorithm::EdDSA, &identity_r));
    assert!(!signature_is_well_formed(Algorithm::EdDSA, &sig[..63]));
    // Through the provider, the refused forms are bad signatures whatever the key.
    let vk = signer.verifying_key();
    let p = &citysec_rustcrypto::PROVIDER;
    assert_eq!(p.verify(vk, b"m", &sig), Ok(()));
    assert_eq!(p.verify(vk, b"m", &with_s(l)), Err(Error::BadSignature));
    assert_eq!(p.verify(vk, b"m", &identity_r), Err(Error::BadSignature));
    // A batch refuses the ill-formed items itself and keeps the order.
    let non_canonical = with_s(l);
    let good = citysec_core::provider::BatchItem {
        key: vk,
        msg: b"m",
        sig: &sig,
    };
    let bad = citysec_core::provider::BatchItem {
        sig: &non_canonical,
        ..good
    };
    assert_eq!(
        p.verify_batch(Algorithm::EdDSA, &[good, bad, good]),
        vec![Ok(()), Err(Error::BadSignature), Ok(())]
    );
    assert_eq!(
        p.verify_batch(Algorithm::ES256, &[good]),
        vec![Err(Error::BadSignature)],
        "a key of another algorithm"
    );
    // ES256: r and s in 1..n-1.
    let n = hx32("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551");
    let mut n_minus_1 = n;
    n_minus_1[31] -= 1;
    let one = {
        let mut b = [0u8; 32];
        b[31] = 1;
        b
    };
    let es = |r: [u8; 32], s: [u8; 32]| [r, s].concat();
    assert!(signature_is_well_formed(Algorithm::ES256, &es(one, n_minus_1)));
    assert!(signature_is_well_formed(Algorithm::ES256, &es(n_minus_1, one)));
    assert!(!signature_is_well_formed(Algorithm::ES256, &es([0; 32], one)));
    assert!(!signature_is_well_formed(Algorithm::ES256, &es(one, [0; 32])));
    assert!(!signature_is_well_formed(Algorithm::ES256, &es(n, one)));
    assert!(!signature_is_well_formed(Algorithm::ES256, &es(one, n)));
    assert!(!signature_is_well_formed(Algorithm::ES256, &es([0xff; 32], one)));
    // Other algorithms have no signatures.
    assert!(!signature_is_well_formed(Algorithm::ChaCha20Poly1305, &sig));
}
