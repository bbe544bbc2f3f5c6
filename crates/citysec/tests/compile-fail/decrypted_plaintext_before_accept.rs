// A receiver's decryption holds the plaintext back: only `accept` (after the
// replay window accepted and persisted the sequence number) hands it out.
use citysec::telemetry::{MasterSecret, MemoryReplayStore, Receiver, ReceiverConfig};

fn main() {
    let receiver = Receiver::new(
        &citysec::rustcrypto::PROVIDER,
        MasterSecret::new([7; 32]),
        ReceiverConfig::default(),
        MemoryReplayStore::new(),
    );
    let bytes = [0u8; 64];
    let decrypted = receiver.decrypt(&bytes, None).unwrap();
    let _plaintext: Vec<u8> = decrypted.plaintext;
}
