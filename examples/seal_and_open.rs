//! Seal a sensor reading as COSE_Encrypt0 (ChaCha20/Poly1305, Partial IV from a
//! sequence number), open it with both providers, and see that the external AAD binds
//! the message to its topic.
//!
//! Run: `cargo run --example seal_and_open`

use citysec::core::encrypt0::{self, Iv};
use citysec::core::sign1::VerifyOptions;
use citysec::core::{Algorithm, Error, SymmetricKey};

fn main() -> Result<(), Error> {
    let key = SymmetricKey::new(Algorithm::ChaCha20Poly1305, &[0x33; 32])?
        .with_kid(b"sensor-0042".to_vec())
        .with_base_iv([0x5a; 12]);
    let topic = b"city/air/no2";
    let reading = br#"{"no2_ugm3": 38}"#;

    for seq in [1u32, 2, 3] {
        let partial = seq.to_be_bytes();
        let msg = encrypt0::seal(&citysec::ring::PROVIDER, &key, Iv::Partial(&partial), reading, topic)?;
        println!("seq {seq}: COSE_Encrypt0 ({} bytes): {}", msg.len(), hex::encode(&msg));
        let providers: [&citysec::core::Provider; 2] = [&citysec::rustcrypto::PROVIDER, &citysec::ring::PROVIDER];
        for provider in providers {
            let opts = VerifyOptions::default().with_external_aad(topic);
            let opened = encrypt0::open(provider, &key, &msg, &opts)?;
            println!(
                "  opened on {:<10} {}",
                provider.name,
                String::from_utf8_lossy(opened.plaintext())
            );
        }
        let wrong_topic = VerifyOptions::default().with_external_aad(b"city/air/o3");
        let err = encrypt0::open(&citysec::rustcrypto::PROVIDER, &key, &msg, &wrong_topic)
            .err()
            .ok_or(Error::Backend)?;
        println!("  moved to another topic: rejected ({err})");
        assert_eq!(err, Error::DecryptFailed);
    }
    Ok(())
}
