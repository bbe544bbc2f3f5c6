// Endorsements verify under the manufacturers' keys only.
use citysec::attest::Endorsement;
use citysec::core::Timestamp;
use citysec::credential::Verifier;

fn main() {
    let issuers = Verifier::new(&citysec::rustcrypto::PROVIDER).any_audience();
    let _e = Endorsement::verify(&issuers, &[0u8; 8], Timestamp::from_unix_seconds(0));
}
