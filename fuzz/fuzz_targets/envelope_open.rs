//! Fuzz target `envelope_open`: arbitrary bytes as a telemetry envelope, and as a
//! message sealed to a recipient.
//!
//! The receiver derives keys from the master secret of the docs vectors (0x5a..).
//! Invariants: no panic; every envelope the fixed-layout decoder accepts is also
//! accepted by citysec-core's generic COSE_Encrypt0 parser with the same kid; an
//! opened envelope's plaintext is the ciphertext minus the tag; the same envelope
//! opened again is a replay; a failed open leaves no plaintext behind.
#![no_main]

use citysec_core::encrypt0::UnverifiedEncrypt0;
use citysec_core::sign1::VerifyOptions;
use citysec_core::{Limits, X25519SecretKey};
use citysec_telemetry::{Envelope, Error, MasterSecret, MemoryReplayStore, Receiver, ReceiverConfig};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(env) = Envelope::parse(data, 64 * 1024) {
        let generic = UnverifiedEncrypt0::parse(data, &VerifyOptions::default())
            .expect("the fixed layout is a subset of the generic profile");
        assert_eq!(generic.kid(), Some(env.device_id()));
    }
    let config = ReceiverConfig::default().with_epochs(&[0, 3]);
    let mut r = Receiver::new(
        &citysec_rustcrypto::PROVIDER,
        MasterSecret::new([0x5a; 32]),
        config,
        MemoryReplayStore::new(),
    );
    let mut out = Vec::new();
    match r.open(data, None, &mut out) {
        Ok(env) => {
            assert_eq!(out.len(), env.plaintext_len());
            let mut again = Vec::new();
            assert_eq!(r.open(data, None, &mut again).err(), Some(Error::Replay));
            assert!(again.is_empty());
        }
        Err(_) => assert!(out.is_empty()),
    }
    let secret = X25519SecretKey::new(&[7; 32]).expect("nonzero");
    let _ =
        citysec_telemetry::recipient::open_from(&citysec_rustcrypto::PROVIDER, &secret, data, b"", &Limits::DEFAULT);
});
