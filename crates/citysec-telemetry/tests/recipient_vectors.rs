//! docs/telemetry-envelope.md, "Recipient mode", carries vectors with every
//! intermediate value. This test rebuilds each value from the page's description
//! (KDF context, content key, Enc_structure, the message byte by byte), checks it
//! against the page, checks that `seal_to` writes the same message and `open_from`
//! opens it, on both backends; and checks the refusals the page lists.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss,
    clippy::arithmetic_side_effects,
    clippy::type_complexity,
    reason = "test code: a failed unwrap or index is a failed test"
)]

use citysec_core::{Algorithm, Error as CoreError, Limits, SymmetricKey, X25519SecretKey};
use citysec_telemetry::Error;
use citysec_telemetry::recipient::{open_from, seal_to};
use serde_json::Value;

fn h(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().unwrap()).unwrap()
}

fn doc_vectors() -> Vec<Value> {
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/telemetry-envelope.md")).unwrap();
    let section = doc
        .split("\n## Recipient mode")
        .nth(1)
        .expect("a Recipient mode section");
    let block = section.split("```json\n").nth(1).unwrap().split("```").next().unwrap();
    serde_json::from_str::<Value>(block)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

/// A CBOR head in shortest form.
fn head(major: u8, arg: u64) -> Vec<u8> {
    let m = major << 5;
    match arg {
        0..=23 => vec![m | arg as u8],
        24..=0xff => vec![m | 24, arg as u8],
        0x100..=0xffff => [vec![m | 25], (arg as u16).to_be_bytes().to_vec()].concat(),
        _ => [vec![m | 26], (arg as u32).to_be_bytes().to_vec()].concat(),
    }
}

fn bstr(b: &[u8]) -> Vec<u8> {
    [head(2, b.len() as u64), b.to_vec()].concat()
}

fn int(v: i64) -> Vec<u8> {
    if v >= 0 {
        head(0, v as u64)
    } else {
        head(1, (-1 - v) as u64)
    }
}

/// What the page says, written out independently of the crate.
fn kdf_context(alg: i64, key_bits: u64) -> Vec<u8> {
    [
        vec![0x84],
        int(alg),
        vec![0x83, 0xf6, 0xf6, 0xf6, 0x83, 0xf6, 0xf6, 0xf6, 0x82],
        head(0, key_bits),
        bstr(&[0xa1, 0x01, 0x38, 0x18]),
    ]
    .concat()
}

fn protected(alg: i64) -> Vec<u8> {
    [vec![0xa1, 0x01], int(alg)].concat()
}

fn enc_structure(protected: &[u8], external_aad: &[u8]) -> Vec<u8> {
    [
        vec![0x83, 0x67],
        b"Encrypt".to_vec(),
        bstr(protected),
        bstr(external_aad),
    ]
    .concat()
}

fn message(alg: i64, iv: &[u8], ciphertext: &[u8], epk: &[u8], kid: &[u8]) -> Vec<u8> {
    let mut rcpt_unprotected = vec![if kid.is_empty() { 0xa1 } else { 0xa2 }];
    rcpt_unprotected.extend([0x20, 0xa3, 0x01, 0x01, 0x20, 0x04, 0x21]);
    rcpt_unprotected.extend(bstr(epk));
    if !kid.is_empty() {
        rcpt_unprotected.push(0x04);
        rcpt_unprotected.extend(bstr(kid));
    }
    [
        vec![0xd8, 0x60, 0x84],
        bstr(&protected(alg)),
        vec![0xa1, 0x05],
        bstr(iv),
        bstr(ciphertext),
        vec![0x81, 0x83],
        bstr(&[0xa1, 0x01, 0x38, 0x18]),
        rcpt_unprotected,
        vec![0x40],
    ]
    .concat()
}

fn secret(d: &[u8], kid: &[u8]) -> X25519SecretKey {
    let s = X25519SecretKey::new(&d.try_into().unwrap()).unwrap();
    if kid.is_empty() { s } else { s.with_kid(kid.to_vec()) }
}

#[test]
fn documented_recipient_vectors() {
    let vectors = doc_vectors();
    assert_eq!(vectors.len(), 2);
    let backends: [&citysec_core::provider::Provider; 2] = [&citysec_rustcrypto::PROVIDER, &citysec_ring::PROVIDER];
    for v in &vectors {
        let alg_id = v["alg"].as_i64().unwrap();
        let alg = Algorithm::from_cose_id(alg_id).unwrap();
        let kid = h(&v["kid"]);
        let (iv, aad, plaintext) = (h(&v["iv"]), h(&v["external_aad"]), h(&v["plaintext"]));
        let iv12: [u8; 12] = iv.clone().try_into().unwrap();
        let rcpt = secret(&h(&v["recipient_secret"]), &kid);
        assert_eq!(
            citysec_rustcrypto::PROVIDER
                .x25519_public_key(&rcpt)
                .unwrap()
                .as_bytes()
                .to_vec(),
            h(&v["recipient_public"])
        );
        let eph_bytes = h(&v["ephemeral_secret"]);
        let eph = secret(&eph_bytes, b"");
        assert_eq!(
            citysec_rustcrypto::PROVIDER
                .x25519_public_key(&eph)
                .unwrap()
                .as_bytes()
                .to_vec(),
            h(&v["ephemeral_public"])
        );
        let key_bits = if alg_id == 1 { 128 } else { 256 };
        let ctx = kdf_context(alg_id, key_bits);
        assert_eq!(hex::encode(&ctx), v["kdf_context"].as_str().unwrap());
        let prot = protected(alg_id);
        assert_eq!(hex::encode(&prot), v["protected"].as_str().unwrap());
        let enc = enc_structure(&prot, &aad);
        assert_eq!(hex::encode(&enc), v["enc_structure"].as_str().unwrap());
        for b in backends {
            let p = if b.name == "ring" {
                &citysec_ring::PROVIDER
            } else {
                &citysec_rustcrypto::PROVIDER
            };
            // Both sides of the agreement give the documented secret.
            let shared = b
                .x25519(&eph, &citysec_rustcrypto::PROVIDER.x25519_public_key(&rcpt).unwrap())
                .unwrap();
            assert_eq!(hex::encode(shared.as_bytes()), v["shared_secret"].as_str().unwrap());
            let back = b
                .x25519(
                    &rcpt,
                    &citysec_core::X25519PublicKey::new(
                        *citysec_rustcrypto::PROVIDER.x25519_public_key(&eph).unwrap().as_bytes(),
                    ),
                )
                .unwrap();
            assert_eq!(shared.as_bytes(), back.as_bytes());
            // HKDF-SHA-256, no salt, info = the KDF context.
            let mut cek = vec![0u8; key_bits as usize / 8];
            b.hkdf_sha256(&[], shared.as_bytes(), &ctx, &mut cek).unwrap();
            assert_eq!(hex::encode(&cek), v["cek"].as_str().unwrap());
            // The AEAD with the IV as nonce and the Enc_structure as AAD.
            let mut body = plaintext.clone();
            let tag = b
                .seal(&SymmetricKey::new(alg, &cek).unwrap(), &iv12, &enc, &mut body)
                .unwrap();
            body.extend_from_slice(&tag);
            assert_eq!(hex::encode(&body), v["ciphertext"].as_str().unwrap());
            let expected = message(
                alg_id,
                &iv,
                &body,
                citysec_rustcrypto::PROVIDER.x25519_public_key(&eph).unwrap().as_bytes(),
                &kid,
            );
            assert_eq!(hex::encode(&expected), v["message"].as_str().unwrap(), "{}", b.name);
            // The crate writes exactly that and opens it.
            let sealed = seal_to(
                p,
                &citysec_rustcrypto::PROVIDER.x25519_public_key(&rcpt).unwrap(),
                secret(&eph_bytes, b""),
                alg,
                &iv12,
                &plaintext,
                &aad,
            )
            .unwrap();
            assert_eq!(sealed, expected, "{}", b.name);
            assert_eq!(
                open_from(p, &rcpt, &expected, &aad, &Limits::DEFAULT).unwrap(),
                plaintext
            );
        }
    }
}

#[test]
fn documented_refusals() {
    let v = &doc_vectors()[0];
    let rcpt = secret(&h(&v["recipient_secret"]), &h(&v["kid"]));
    let aad = h(&v["external_aad"]);
    let msg = h(&v["message"]);
    let open = |m: &[u8]| open_from(&citysec_rustcrypto::PROVIDER, &rcpt, m, &aad, &Limits::DEFAULT).err();
    let replace = |from: &[u8], to: &[u8]| {
        let pos = msg.windows(from.len()).position(|w| w == from).unwrap();
        [&msg[..pos], to, &msg[pos + from.len()..]].concat()
    };
    // Another byte form of the recipient's protected header (-25 in a two-byte head).
    assert_eq!(
        open(&replace(
            &[0x44, 0xa1, 0x01, 0x38, 0x18],
            &[0x45, 0xa1, 0x01, 0x39, 0x00, 0x18]
        )),
        Some(Error::Malformed)
    );
    // ... or of the content layer's (24 in a two-byte head), or a byte after it.
    assert_eq!(
        open(&replace(
            &[0x44, 0xa1, 0x01, 0x18, 0x18],
            &[0x45, 0xa1, 0x01, 0x19, 0x00, 0x18]
        )),
        Some(Error::Malformed)
    );
    assert_eq!(
        open(&replace(
            &[0x44, 0xa1, 0x01, 0x18, 0x18],
            &[0x45, 0xa1, 0x01, 0x18, 0x18, 0x00]
        )),
        Some(Error::Malformed)
    );
    // ECDH-SS (-27) or direct key agreement with another KDF: not supported.
    assert_eq!(
        open(&replace(
            &[0x44, 0xa1, 0x01, 0x38, 0x18],
            &[0x44, 0xa1, 0x01, 0x38, 0x1a]
        )),
        Some(Error::Core(CoreError::UnsupportedAlgorithm))
    );
    // No alg in the content layer's protected header.
    assert_eq!(
        open(&replace(&[0x44, 0xa1, 0x01, 0x18, 0x18], &[0x40])),
        Some(Error::Core(CoreError::AlgNotProtected))
    );
    // An untagged message, another external AAD, another kid.
    assert_eq!(open(&msg[2..]), Some(Error::Core(CoreError::WrongTag)));
    assert_eq!(
        open_from(
            &citysec_rustcrypto::PROVIDER,
            &rcpt,
            &msg,
            b"city/air/so2",
            &Limits::DEFAULT
        )
        .err(),
        Some(Error::Core(CoreError::DecryptFailed))
    );
    let other_kid = secret(&h(&v["recipient_secret"]), b"backend-2");
    assert_eq!(
        open_from(&citysec_rustcrypto::PROVIDER, &other_kid, &msg, &aad, &Limits::DEFAULT).err(),
        Some(Error::Core(CoreError::UnknownKey))
    );
    // A non-canonical ephemeral key (top bit set): one key, one encoding.
    let epk = h(&v["ephemeral_public"]);
    let mut high = epk.clone();
    high[31] |= 0x80;
    assert_eq!(open(&replace(&epk, &high)), Some(Error::Core(CoreError::InvalidKey)));
}

/// Prints the vectors (run with --ignored --nocapture when the format changes on purpose).
#[test]
#[ignore = "generator for the documentation, not a check"]
fn print_recipient_vectors() {
    let seq = |start: u8, n: u8| (start..start + n).collect::<Vec<u8>>();
    let cases: [(Vec<u8>, &[u8], Vec<u8>, Vec<u8>, Algorithm, &[u8], &[u8]); 2] = [
        (
            seq(0x01, 32),
            b"backend-1",
            seq(0x21, 32),
            seq(0x50, 12),
            Algorithm::ChaCha20Poly1305,
            b"city/air/no2",
            br#"{"no2_ugm3":38}"#,
        ),
        (
            seq(0x61, 32),
            b"",
            seq(0x81, 32),
            seq(0xb0, 12),
            Algorithm::A128GCM,
            b"",
            b"",
        ),
    ];
    let mut out = Vec::new();
    for (d, kid, e, iv, alg, aad, pt) in cases {
        let rcpt = secret(&d, kid);
        let eph = secret(&e, b"");
        let iv12: [u8; 12] = iv.clone().try_into().unwrap();
        let shared = citysec_rustcrypto::PROVIDER
            .x25519(&eph, &citysec_rustcrypto::PROVIDER.x25519_public_key(&rcpt).unwrap())
            .unwrap();
        let key_bits: u64 = if alg == Algorithm::A128GCM { 128 } else { 256 };
        let ctx = kdf_context(alg.cose_id(), key_bits);
        let mut cek = vec![0u8; key_bits as usize / 8];
        citysec_rustcrypto::PROVIDER
            .hkdf_sha256(&[], shared.as_bytes(), &ctx, &mut cek)
            .unwrap();
        let prot = protected(alg.cose_id());
        let enc = enc_structure(&prot, aad);
        let epk = *citysec_rustcrypto::PROVIDER.x25519_public_key(&eph).unwrap().as_bytes();
        let m = seal_to(
            &citysec_rustcrypto::PROVIDER,
            &citysec_rustcrypto::PROVIDER.x25519_public_key(&rcpt).unwrap(),
            eph,
            alg,
            &iv12,
            pt,
            aad,
        )
        .unwrap();
        let ct_start = 3 + 1 + prot.len() + 2 + 13 + if pt.len() + 16 < 24 { 1 } else { 2 };
        out.push(serde_json::json!({
            "recipient_secret": hex::encode(&d), "recipient_public": hex::encode(citysec_rustcrypto::PROVIDER.x25519_public_key(&rcpt).unwrap().as_bytes()),
            "kid": hex::encode(kid), "ephemeral_secret": hex::encode(&e), "ephemeral_public": hex::encode(epk),
            "iv": hex::encode(&iv), "alg": alg.cose_id(), "external_aad": hex::encode(aad),
            "plaintext": hex::encode(pt), "shared_secret": hex::encode(shared.as_bytes()),
            "kdf_context": hex::encode(&ctx), "cek": hex::encode(&cek), "protected": hex::encode(&prot),
            "enc_structure": hex::encode(&enc), "ciphertext": hex::encode(&m[ct_start..ct_start + pt.len() + 16]),
            "message": hex::encode(&m),
        }));
    }
    println!("{}", serde_json::to_string_pretty(&out).unwrap());
}
