use super::*;

/// The byte test agrees with decompressing: for R in a canonical encoding of a
/// point, strict iff not small order; for non-canonical or off-curve R, the byte
/// test may pass only if the point does not decompress (verification then fails).
fn by_decompression(r: [u8; 32]) -> Option<bool> {
    let c = curve25519_dalek::edwards::CompressedEdwardsY(r);
    let p = c.decompress()?;
    Some(!p.is_small_order() && p.compress() == c)
}

fn check(r: [u8; 32]) {
    let mut sig = [0u8; 64];
    sig[..32].copy_from_slice(&r);
    let fast = ed25519_r_is_strict(&sig);
    // Not a point at all: both batch and single verification refuse it later.
    if let Some(slow) = by_decompression(r) {
        assert_eq!(fast, slow, "R = {}", hex::encode(r));
    }
}

#[test]
fn small_order_and_non_canonical_encodings() {
    // every small-order encoding, canonical or not, with either sign bit
    for y in ED25519_SMALL_ORDER_Y {
        for sign in [0u8, 0x80] {
            let mut r = y;
            r[31] |= sign;
            check(r);
            assert!(!ed25519_r_is_strict(&[r, [0; 32]].concat()));
        }
    }
    // y = p and y = p + 1 (non-canonical 0 and 1)
    let mut p = ED25519_P;
    check(p);
    assert!(!ed25519_r_is_strict(&[p, [0; 32]].concat()));
    p[0] = 0xee;
    check(p);
    assert!(!ed25519_r_is_strict(&[p, [0; 32]].concat()));
}

#[test]
fn random_points_agree() {
    // multiples of the basepoint (honest R values) and arbitrary byte strings
    let mut x = curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
    for i in 0..200u32 {
        let r = x.compress().to_bytes();
        check(r);
        assert!(ed25519_r_is_strict(&[r, [0; 32]].concat()));
        let mut torsioned = (x + curve25519_dalek::constants::EIGHT_TORSION[1])
            .compress()
            .to_bytes();
        check(torsioned);
        torsioned[0] ^= (i & 0xff) as u8;
        check(torsioned);
        x += curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
    }
}

#[test]
fn mixed_order_keys_import_but_never_batch() {
    let honest = SigningKey::ed25519(&[3; 32]).verifying_key();
    assert!(honest.is_torsion_free());
    let a = curve25519_dalek::edwards::CompressedEdwardsY(honest.as_bytes().try_into().unwrap())
        .decompress()
        .unwrap();
    let mixed = (a + curve25519_dalek::constants::EIGHT_TORSION[1])
        .compress()
        .to_bytes();
    let key = VerifyingKey::ed25519(&mixed).unwrap();
    assert!(!key.is_torsion_free());
    assert!(!key.is_torsion_free(), "the cached answer is the same");
    // a fresh import computes it again and agrees
    assert!(!VerifyingKey::ed25519(&mixed).unwrap().clone().is_torsion_free());
    #[cfg(feature = "batch")]
    {
        let sig = [0u8; 64];
        assert_eq!(ed25519_verify_batch(&[(b"m", &sig, &key)]), Err(Error::BadSignature));
    }
}
