// Claims are checked only after the signature: there is no public way to run
// the claim checks on an unverified payload, nor to make a verified credential
// from claims.
use citysec::core::sign1::{UnverifiedSign1, VerifyOptions};
use citysec::core::Timestamp;
use citysec::credential::{Claims, VerifiedCredential, Verifier};

fn main() {
    let token = [0u8; 16];
    let verifier = Verifier::new(&citysec::rustcrypto::PROVIDER);
    let msg = UnverifiedSign1::parse(&token, &VerifyOptions::default()).unwrap();
    let _checked = verifier.check_claims(msg.payload_unverified(), Timestamp::from_unix_seconds(0), &[]);
    let _forged = VerifiedCredential { claims: Claims::new() };
}
