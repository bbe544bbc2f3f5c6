// An envelope's plaintext comes out of a Receiver, which checks the replay
// window: a parsed envelope cannot be decrypted on its own.
use citysec::telemetry::{Envelope, MasterSecret};

fn main() {
    let bytes = [0u8; 64];
    let envelope = Envelope::parse(&bytes, 1024).unwrap();
    let key = MasterSecret::new([7; 32]).derive(&citysec::rustcrypto::PROVIDER, b"sensor-1", 0).unwrap();
    let mut plaintext = Vec::new();
    envelope.open_into(&citysec::rustcrypto::PROVIDER, key.key(), &mut plaintext).unwrap();
}
