//! citysec-core against the raw primitives, in one run.
//!
//! - `sign1_verify_200B`: our full COSE_Sign1 verify (size and well-formedness
//!   checks, coset parse, header rules, key lookup by kid, strict Ed25519 verify)
//!   vs ed25519-dalek's `verify_strict` over the same Sig_structure bytes.
//! - `encrypt0_open_1KiB`: our full COSE_Encrypt0 open vs the raw AEAD on the same
//!   ciphertext, per provider (RustCrypto vs chacha20poly1305, ring vs ring).
//! - `sign_ed25519_200B`: a provider's `Signer::sign` (the key parsed once, when
//!   it was loaded) vs the raw signature of the same library with a parsed key:
//!   ring provider vs `ring::signature::Ed25519KeyPair::sign`, RustCrypto provider
//!   vs ed25519-dalek's `SigningKey::sign`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    missing_docs,
    reason = "benchmark code"
)]

use core::hint::black_box;

use chacha20poly1305::aead::{AeadInOut, KeyInit};
use citysec_core::encrypt0::{self, Iv, UnverifiedEncrypt0};
use citysec_core::sign1::{self, UnverifiedSign1, VerifyOptions};
use citysec_core::{Algorithm, KeySet, SigningKey, SymmetricKey};
use criterion::{Criterion, Throughput};

fn sign1_verify(c: &mut Criterion) {
    let key = SigningKey::ed25519(&[7u8; 32]).with_kid(b"issuer-1".to_vec());
    let payload = vec![0x5au8; 200];
    let msg = sign1::sign(&citysec_rustcrypto::signer_copy(&key).unwrap(), &payload, b"").unwrap();
    let keys = KeySet::from_keys([citysec_rustcrypto::PROVIDER.public_key(&key).unwrap()]).unwrap();
    let opts = VerifyOptions::default();

    // The same bytes the raw verify checks.
    let parsed = UnverifiedSign1::parse(&msg, &opts).unwrap();
    let tbs = parsed.to_be_signed(b"");
    let sig = ed25519_dalek::Signature::from_slice(parsed.signature()).unwrap();
    let dalek_key = ed25519_dalek::VerifyingKey::from_bytes(
        &citysec_rustcrypto::PROVIDER
            .public_key(&key)
            .unwrap()
            .as_bytes()
            .try_into()
            .unwrap(),
    )
    .unwrap();
    assert!(dalek_key.verify_strict(&tbs, &sig).is_ok());

    let mut g = c.benchmark_group("sign1_verify_200B");
    g.bench_function("citysec", |b| {
        b.iter(|| sign1::verify(&citysec_rustcrypto::PROVIDER, &keys, black_box(&msg), &opts).unwrap());
    });
    g.bench_function("ed25519_dalek", |b| {
        b.iter(|| dalek_key.verify_strict(black_box(&tbs), black_box(&sig)).unwrap());
    });
    if std::env::var_os("CITYSEC_BENCH_PARTS").is_some() {
        g.bench_function("parts_parse", |b| {
            b.iter(|| UnverifiedSign1::parse(black_box(&msg), &opts).unwrap());
        });
        g.bench_function("parts_backend_verify", |b| {
            let vk = citysec_rustcrypto::PROVIDER.public_key(&key).unwrap();
            b.iter(|| {
                citysec_rustcrypto::PROVIDER
                    .verify(&vk, black_box(&tbs), parsed.signature())
                    .unwrap()
            });
        });
    }
    g.finish();
}

fn encrypt0_open(c: &mut Criterion) {
    let raw_key = [0x42u8; 32];
    let key = SymmetricKey::new(Algorithm::ChaCha20Poly1305, &raw_key).unwrap();
    let iv = [9u8; 12];
    let plaintext = vec![0xa5u8; 1024];
    let msg = encrypt0::seal(&citysec_rustcrypto::PROVIDER, &key, Iv::Full(&iv), &plaintext, b"").unwrap();
    let opts = VerifyOptions::default();

    // The raw AEAD sees the same nonce, AAD (Enc_structure) and ciphertext.
    let parsed = UnverifiedEncrypt0::parse(&msg, &opts).unwrap();
    assert_eq!(parsed.protected_bytes(), [0xa1, 0x01, 0x18, 0x18]);
    let aad = {
        // Enc_structure = ["Encrypt0", h'a10118 18', h'']
        let mut v = vec![0x83, 0x68];
        v.extend_from_slice(b"Encrypt0");
        v.extend_from_slice(&[0x44, 0xa1, 0x01, 0x18, 0x18, 0x40]);
        v
    };
    let ct_and_tag = msg[msg.len() - (1024 + 16)..].to_vec();
    let (ct, tag) = ct_and_tag.split_at(1024);
    let rc = chacha20poly1305::ChaCha20Poly1305::new_from_slice(&raw_key).unwrap();
    let rc_nonce = chacha20poly1305::Nonce::try_from(&iv[..]).unwrap();
    let rc_tag = chacha20poly1305::Tag::try_from(tag).unwrap();
    let ring_key =
        ring::aead::LessSafeKey::new(ring::aead::UnboundKey::new(&ring::aead::CHACHA20_POLY1305, &raw_key).unwrap());
    let ring_tag = ring::aead::Tag::try_from(tag).unwrap();
    {
        let mut buf = ct.to_vec();
        rc.decrypt_inout_detached(&rc_nonce, &aad, buf.as_mut_slice().into(), &rc_tag)
            .unwrap();
        assert_eq!(buf, plaintext, "the raw baseline decrypts the same message");
    }

    let mut g = c.benchmark_group("encrypt0_open_1KiB");
    g.throughput(Throughput::Bytes(1024));
    g.bench_function("citysec_rustcrypto", |b| {
        b.iter(|| encrypt0::open(&citysec_rustcrypto::PROVIDER, &key, black_box(&msg), &opts).unwrap());
    });
    g.bench_function("chacha20poly1305", |b| {
        b.iter(|| {
            let mut buf = black_box(ct).to_vec();
            rc.decrypt_inout_detached(&rc_nonce, &aad, buf.as_mut_slice().into(), &rc_tag)
                .unwrap();
            buf
        });
    });
    g.bench_function("citysec_ring", |b| {
        b.iter(|| encrypt0::open(&citysec_ring::PROVIDER, &key, black_box(&msg), &opts).unwrap());
    });
    g.bench_function("ring", |b| {
        b.iter(|| {
            let mut buf = black_box(ct).to_vec();
            let nonce = ring::aead::Nonce::assume_unique_for_key(iv);
            ring_key
                .open_in_place_separate_tag(nonce, ring::aead::Aad::from(&aad), ring_tag, &mut buf, 0..)
                .unwrap();
            buf
        });
    });
    if std::env::var_os("CITYSEC_BENCH_PARTS").is_some() {
        g.bench_function("parts_parse", |b| {
            b.iter(|| UnverifiedEncrypt0::parse(black_box(&msg), &opts).unwrap());
        });
        g.bench_function("parts_wellformed", |b| {
            b.iter(|| {
                citysec_core::cbor::check_well_formed(
                    black_box(&msg[1..]),
                    &citysec_core::Limits::DEFAULT,
                    citysec_core::cbor::Tags::Forbid,
                )
                .unwrap()
            });
        });
    }
    g.finish();
}

fn sign_ed25519(c: &mut Criterion) {
    use ed25519_dalek::Signer as _;

    let seed = [9u8; 32];
    let msg = vec![0x5au8; 200];
    let ring_signer = citysec_ring::PROVIDER.signer(SigningKey::ed25519(&seed)).unwrap();
    let rc_signer = citysec_rustcrypto::PROVIDER.signer(SigningKey::ed25519(&seed)).unwrap();
    let pair = ring::signature::Ed25519KeyPair::from_seed_unchecked(&seed).unwrap();
    let dalek = ed25519_dalek::SigningKey::from_bytes(&seed);
    // all four give the same signature
    let expected = ring_signer.sign(&msg).unwrap();
    assert_eq!(rc_signer.sign(&msg).unwrap(), expected);
    assert_eq!(pair.sign(&msg).as_ref(), &expected[..]);
    assert_eq!(dalek.sign(&msg).to_bytes(), expected);

    let mut g = c.benchmark_group("sign_ed25519_200B");
    g.bench_function("ring_provider", |b| {
        b.iter(|| ring_signer.sign(black_box(&msg)).unwrap())
    });
    g.bench_function("ring", |b| b.iter(|| pair.sign(black_box(&msg))));
    g.bench_function("rustcrypto_provider", |b| {
        b.iter(|| rc_signer.sign(black_box(&msg)).unwrap())
    });
    g.bench_function("ed25519_dalek", |b| b.iter(|| dalek.sign(black_box(&msg))));
    g.finish();
}

fn main() {
    let mut c = citysec_benches::criterion();
    sign1_verify(&mut c);
    encrypt0_open(&mut c);
    sign_ed25519(&mut c);
    c.final_summary();
    citysec_benches::report(&[
        ("sign_ed25519_200B", "ring_provider", "ring", 1.10),
        ("sign_ed25519_200B", "rustcrypto_provider", "ed25519_dalek", 1.10),
        ("sign1_verify_200B", "citysec", "ed25519_dalek", 1.05),
        ("encrypt0_open_1KiB", "citysec_rustcrypto", "chacha20poly1305", 1.25),
        ("encrypt0_open_1KiB", "citysec_ring", "ring", 2.0),
    ]);
}
