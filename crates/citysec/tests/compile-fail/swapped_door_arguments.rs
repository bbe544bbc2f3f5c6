// DoorAuthority::new takes three trust domains of three types: swapping the
// credential issuers and the attestation verifiers does not compile.
use citysec::attest::ResultVerifier;
use citysec::credential::Verifier;
use citysec::door::DoorAuthority;
use citysec::policy::bundle::PolicySigners;

fn main() {
    let credentials = Verifier::new(&citysec::rustcrypto::PROVIDER);
    let attestation = ResultVerifier::new(&citysec::rustcrypto::PROVIDER);
    let policy = PolicySigners::from_keys(&citysec::rustcrypto::PROVIDER, []).unwrap();
    let _door = DoorAuthority::new(attestation, credentials, policy);
}
