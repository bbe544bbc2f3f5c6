// DoorAuthority::new takes three trust domains of three types: swapping the
// credential issuers and the attestation verifiers does not compile.
use citysec::credential::{ResultVerifier, Verifier};
use citysec::door::DoorAuthority;
use citysec::policy::bundle::PolicySigners;

fn main() {
    let credentials = Verifier::new();
    let attestation = ResultVerifier::new();
    let policy = PolicySigners::from_keys([]).unwrap();
    let _door = DoorAuthority::new(attestation, credentials, policy);
}
