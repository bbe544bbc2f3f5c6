//! Sign a payload as COSE_Sign1 with Ed25519 and ES256, verify it with both providers,
//! rotate to a second issuer key, and watch a tampered message fail.
//!
//! Run: `cargo run --example sign_and_verify`

use citysec::core::sign1::{self, VerifyOptions};
use citysec::core::{Error, KeySet, SigningKey};

fn main() -> Result<(), Error> {
    // Fixed seeds keep the output reproducible; real keys come from an RNG
    // (citysec::std_adapters::OsRandom) or a key file.
    // Keys are loaded into a provider once; a signer's key may also live in an
    // HSM (citysec-pkcs11) or a secure element.
    let ed = citysec::ring::PROVIDER.signer(SigningKey::ed25519(&[0x11; 32]).with_kid(b"issuer-2026-ed".to_vec()))?;
    let es = citysec::ring::PROVIDER.signer(SigningKey::p256(&[0x22; 32])?.with_kid(b"issuer-2026-es".to_vec()))?;
    let trusted = KeySet::from_keys([ed.verifying_key().clone(), es.verifying_key().clone()])?;

    for key in [&ed, &es] {
        let msg = sign1::sign(&**key, b"door 7: open", b"")?;
        println!(
            "{} COSE_Sign1 ({} bytes): {}",
            key.algorithm(),
            msg.len(),
            hex::encode(&msg)
        );
        let providers: [&citysec::core::Provider; 2] = [&citysec::rustcrypto::PROVIDER, &citysec::ring::PROVIDER];
        for provider in providers {
            let v = sign1::verify(provider, &trusted, &msg, &VerifyOptions::default())?;
            println!(
                "  verified on {:<10} kid={} payload={:?}",
                provider.name,
                String::from_utf8_lossy(v.kid().unwrap_or_default()),
                String::from_utf8_lossy(v.payload())
            );
        }
        let mut tampered = msg.clone();
        if let Some(last) = tampered.last_mut() {
            *last ^= 0x01;
        }
        let err = sign1::verify(
            &citysec::rustcrypto::PROVIDER,
            &trusted,
            &tampered,
            &VerifyOptions::default(),
        )
        .err()
        .ok_or(Error::Backend)?;
        println!("  tampered copy rejected: {err}");
        assert_eq!(err, Error::BadSignature);
    }
    Ok(())
}
