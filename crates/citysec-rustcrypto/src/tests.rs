use super::*;

/// The core's byte test on `R` agrees with decompressing: for R in a canonical
/// encoding of a point, strict iff not small order; for non-canonical or
/// off-curve R, the byte test may pass only if the point does not decompress
/// (verification then fails).
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
        // The same byte checks guard public keys: a key is accepted by bytes
        // exactly when it is a canonical point of large order.
        assert_eq!(VerifyingKey::ed25519(&r).is_ok(), slow, "key = {}", hex::encode(r));
    }
}

/// The small-order y values and p, little-endian.
const SMALL_ORDER_Y: [&str; 5] = [
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0100000000000000000000000000000000000000000000000000000000000000",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
];
const P: &str = "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f";

fn b32(h: &str) -> [u8; 32] {
    hex::decode(h).unwrap().try_into().unwrap()
}

#[test]
fn small_order_and_non_canonical_encodings() {
    // every small-order encoding, canonical or not, with either sign bit
    for y in SMALL_ORDER_Y.map(b32) {
        for sign in [0u8, 0x80] {
            let mut r = y;
            r[31] |= sign;
            check(r);
            assert!(!ed25519_r_is_strict(&[r, [0; 32]].concat()));
            assert_eq!(VerifyingKey::ed25519(&r).err(), Some(Error::WeakKey));
        }
    }
    // y = p and y = p + 1 (non-canonical 0 and 1)
    let mut p = b32(P);
    check(p);
    assert!(!ed25519_r_is_strict(&[p, [0; 32]].concat()));
    assert_eq!(VerifyingKey::ed25519(&p).err(), Some(Error::InvalidKey));
    p[0] = 0xee;
    check(p);
    assert!(!ed25519_r_is_strict(&[p, [0; 32]].concat()));
    assert_eq!(VerifyingKey::ed25519(&p).err(), Some(Error::InvalidKey));
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
fn a_key_that_is_not_a_point_passes_the_byte_checks_and_fails_import() {
    // y = 2 is canonical and not small order, but (y^2 - 1) / (d y^2 + 1) has
    // no square root: no point has it.
    let mut y = [0u8; 32];
    y[0] = 2;
    assert_eq!(by_decompression(y), None);
    let key = VerifyingKey::ed25519(&y).unwrap();
    assert_eq!(PROVIDER.import(key.clone()).err(), Some(Error::InvalidKey));
    // Never imported, it verifies nothing.
    assert_eq!(PROVIDER.verify(&key, b"m", &[0u8; 64]), Err(Error::BadSignature));
}

#[test]
fn mixed_order_keys_import_but_never_batch() {
    let honest = PROVIDER.public_key(&SigningKey::ed25519(&[3; 32])).unwrap();
    let prepared = honest.prepared::<Ed25519Key>().unwrap();
    assert!(prepared.is_torsion_free());
    let a = curve25519_dalek::edwards::CompressedEdwardsY(honest.as_bytes().try_into().unwrap())
        .decompress()
        .unwrap();
    let mixed = (a + curve25519_dalek::constants::EIGHT_TORSION[1])
        .compress()
        .to_bytes();
    let key = PROVIDER.import(VerifyingKey::ed25519(&mixed).unwrap()).unwrap();
    let prepared = key.prepared::<Ed25519Key>().unwrap();
    assert!(!prepared.is_torsion_free());
    assert!(!prepared.is_torsion_free(), "the cached answer is the same");
    // a clone shares the parsed form
    assert!(!key.clone().prepared::<Ed25519Key>().unwrap().is_torsion_free());
    #[cfg(feature = "batch")]
    {
        let sig = [0u8; 64];
        let item = BatchItem {
            key: &key,
            msg: b"m",
            sig: &sig,
        };
        assert_eq!(ed25519_verify_batch(&[item]), Err(Error::BadSignature));
    }
}

#[test]
fn a_stored_public_key_must_belong_to_the_secret() {
    let other = PROVIDER.public_key(&SigningKey::ed25519(&[4; 32])).unwrap();
    let key = SigningKey::ed25519(&[3; 32]).with_public(other).unwrap();
    assert_eq!(PROVIDER.signer(key).err(), Some(Error::InvalidKey));
    let own = PROVIDER.public_key(&SigningKey::ed25519(&[3; 32])).unwrap();
    let key = SigningKey::ed25519(&[3; 32]).with_public(own.clone()).unwrap();
    assert_eq!(PROVIDER.signer(key).unwrap().verifying_key(), &own);
}
