// An attestation result is read from a token verified under the attestation
// verifiers' keys: an access credential, verified under issuer keys, does not fit.
use citysec::attest::AttestationResult;
use citysec::credential::VerifiedCredential;

fn read(credential: &VerifiedCredential) {
    let _result = AttestationResult::from_credential(credential);
}

fn main() {}
