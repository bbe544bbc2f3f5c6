//! The allocation-free COSE_Sign1 writer: the bytes it writes in place are the
//! bytes `sign1::sign` builds through coset, they verify, and every way of
//! misusing it is refused with its exact error.

#![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "test code")]

use citysec_core::cbor::write::{self, Sink as _};
use citysec_core::sign1::{self, InPlaceLayout};
use citysec_core::{Error, SigningKey};

const B: citysec_core::provider::Provider = citysec_rustcrypto::PROVIDER;

fn payload() -> Vec<u8> {
    let mut e = write::VecEncoder::new();
    e.map(2);
    e.uint(1);
    e.text("door-17");
    e.uint(2);
    e.bytes(&[0xab; 300]);
    e.into_bytes()
}

#[test]
fn sign_into_writes_what_sign_writes() {
    for key in [
        SigningKey::ed25519(&[7; 32]).with_kid(b"dev-1".to_vec()),
        SigningKey::ed25519(&[8; 32]),
    ] {
        let signer = citysec_rustcrypto::signer_copy(&key).unwrap();
        let p = payload();
        let layout = InPlaceLayout::new(&signer, p.len()).unwrap();
        let mut out = vec![0u8; layout.buffer_len()];
        let n = sign1::sign_into(&signer, &layout, |w| w.put(&p), &mut out).unwrap();
        assert_eq!(n, layout.signed_len());
        // Ed25519 is deterministic: the same message, byte for byte.
        let reference = sign1::sign(&signer, &p, b"").unwrap();
        assert_eq!(&out[..n], reference.as_slice());

        let vk = citysec_rustcrypto::PROVIDER.public_key(&key).unwrap();
        let verified = sign1::verify_with_key(&B, &vk, &out[..n], &Default::default()).unwrap();
        assert_eq!(verified.payload(), p.as_slice());
    }
}

#[test]
fn sign_into_refuses_a_short_buffer_and_a_wrong_payload_length() {
    let key = SigningKey::ed25519(&[7; 32]).with_kid(b"dev-1".to_vec());
    let signer = citysec_rustcrypto::signer_copy(&key).unwrap();
    let p = payload();
    let layout = InPlaceLayout::new(&signer, p.len()).unwrap();

    let mut short = vec![0u8; layout.buffer_len() - 1];
    assert_eq!(
        sign1::sign_into(&signer, &layout, |w| w.put(&p), &mut short),
        Err(Error::BufferTooSmall)
    );

    let mut out = vec![0u8; layout.buffer_len() + 8];
    assert_eq!(
        sign1::sign_into(&signer, &layout, |w| w.put(&p[1..]), &mut out),
        Err(Error::InvalidLength)
    );
    assert_eq!(
        sign1::sign_into(
            &signer,
            &layout,
            |w| {
                w.put(&p)?;
                w.put(&[0])
            },
            &mut out
        ),
        Err(Error::InvalidLength)
    );
}
