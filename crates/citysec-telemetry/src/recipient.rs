//! Sealing to a recipient: COSE_Encrypt (tag 96) with one recipient using
//! ECDH-ES + HKDF-256 (COSE alg -25) over X25519, RFC 9053 section 6.3.
//!
//! For a device that knows only the backend's X25519 public key. This gives
//! confidentiality towards the backend; it does **not** authenticate the sender
//! (anyone with the public key can seal). Use the device-keyed envelope where
//! authenticity and replay protection matter.
//!
//! ```text
//! 96([ << {1: content alg} >>, {5: iv}, ciphertext,
//!      [ [ << {1: -25} >>, {-1: {1: 1, -1: 4, -2: ephemeral x}, 4: kid}, h'' ] ] ])
//! ```
//! The content key is HKDF-SHA-256 (no salt) of the X25519 shared secret with the
//! COSE_KDF_Context `[alg, [nil, nil, nil], [nil, nil, nil], [key bits, << {1: -25} >>]]`.

use alloc::vec::Vec;

use citysec_core::cbor::{Reader, Tags, check_well_formed};
use citysec_core::provider::Provider;
use citysec_core::{Algorithm, AlgorithmKind, Limits, SymmetricKey, X25519PublicKey, X25519SecretKey};
use zeroize::Zeroizing;

use crate::{Error, Result};
use citysec_core::cbor::write::{self, SliceSink};

/// CBOR tag of COSE_Encrypt.
pub const TAG_COSE_ENCRYPT: u64 = 96;
const RECIPIENT_PROTECTED: [u8; 4] = [0xa1, 0x01, 0x38, 0x18];

/// The COSE_KDF_Context for `alg` with the recipient's protected header.
fn kdf_context(alg: Algorithm, key_bits: u64) -> Result<([u8; 32], usize)> {
    let mut buf = [0u8; 32];
    let mut w = SliceSink::new(&mut buf);
    write::array(&mut w, 4)?;
    write::int(&mut w, alg.cose_id())?;
    // PartyUInfo and PartyVInfo: [nil, nil, nil] each.
    for _ in 0..2 {
        write::array(&mut w, 3)?;
        for _ in 0..3 {
            write::null(&mut w)?;
        }
    }
    write::array(&mut w, 2)?;
    write::uint(&mut w, key_bits)?;
    write::bytes(&mut w, &RECIPIENT_PROTECTED)?;
    let n = w.position();
    Ok((buf, n))
}

/// The content layer's protected header `{1: alg}` in its one byte form.
fn protected_header(alg: Algorithm) -> Result<([u8; 4], usize)> {
    let mut buf = [0u8; 4];
    let mut w = SliceSink::new(&mut buf);
    write::map(&mut w, 1)?;
    write::uint(&mut w, 1)?;
    write::int(&mut w, alg.cose_id())?;
    let n = w.position();
    Ok((buf, n))
}

fn content_key(backend: &Provider, shared: &[u8; 32], alg: Algorithm) -> Result<SymmetricKey> {
    let len = alg
        .aead_key_len()
        .ok_or(Error::Core(citysec_core::Error::UnsupportedAlgorithm))?;
    let bits = u64::try_from(len.saturating_mul(8)).map_err(|_| Error::Malformed)?;
    let (ctx, n) = kdf_context(alg, bits)?;
    let mut cek = Zeroizing::new([0u8; 32]);
    let cek = cek.get_mut(..len).ok_or(Error::Malformed)?;
    backend.hkdf_sha256(&[], shared, ctx.get(..n).ok_or(Error::Malformed)?, cek)?;
    Ok(SymmetricKey::new(alg, cek)?)
}

fn enc_structure(protected: &[u8], external_aad: &[u8]) -> Vec<u8> {
    let mut w = write::VecEncoder(Vec::with_capacity(external_aad.len().saturating_add(32)));
    w.array(3);
    w.text("Encrypt");
    w.bytes(protected);
    w.bytes(external_aad);
    w.into_bytes()
}

/// Seals `plaintext` to `recipient` with a fresh `ephemeral` secret (consumed: it
/// must never be used twice) and a fresh 12-byte `iv`, encrypting with `alg`
/// (ChaCha20/Poly1305, A128GCM or A256GCM).
///
/// # Errors
/// `Error::Core(UnsupportedAlgorithm)` for a non-AEAD `alg`;
/// `Error::Core(NonContributory)` for a low-order recipient key; backend errors.
pub fn seal_to(
    backend: &Provider,
    recipient: &X25519PublicKey,
    ephemeral: X25519SecretKey,
    alg: Algorithm,
    iv: &[u8; 12],
    plaintext: &[u8],
    external_aad: &[u8],
) -> Result<Vec<u8>> {
    if alg.kind() != AlgorithmKind::Aead {
        return Err(Error::Core(citysec_core::Error::UnsupportedAlgorithm));
    }
    let shared = backend.x25519(&ephemeral, recipient)?;
    let cek = content_key(backend, shared.as_bytes(), alg)?;
    let epk = backend.x25519_public_key(&ephemeral)?;
    drop(ephemeral);

    let (protected, plen) = protected_header(alg)?;
    let protected = protected.get(..plen).ok_or(Error::Malformed)?;
    let aad = enc_structure(protected, external_aad);
    let mut body = plaintext.to_vec();
    let tag = backend.seal(&cek, iv, &aad, &mut body)?;
    body.extend_from_slice(&tag);

    let kid = recipient.kid().unwrap_or_default();
    let mut w = write::VecEncoder(Vec::with_capacity(
        body.len().saturating_add(kid.len()).saturating_add(128),
    ));
    w.tag(TAG_COSE_ENCRYPT);
    w.array(4);
    w.bytes(protected);
    w.map(1);
    w.uint(5); // iv
    w.bytes(iv);
    w.bytes(&body);
    w.array(1); // one recipient
    w.array(3);
    w.bytes(&RECIPIENT_PROTECTED);
    w.map(if kid.is_empty() { 1 } else { 2 });
    w.int(-1); // the ephemeral key, a COSE_Key
    w.map(3);
    w.uint(1); // kty: OKP
    w.uint(1);
    w.int(-1); // crv: X25519
    w.uint(4);
    w.int(-2); // x
    w.bytes(epk.as_bytes());
    if !kid.is_empty() {
        w.uint(4); // kid
        w.bytes(kid);
    }
    w.bytes(&[]); // the recipient's ciphertext: none (direct key agreement)
    Ok(w.into_bytes())
}

/// Opens a message sealed with [`seal_to`] (or by another COSE implementation in
/// the same layout) with the recipient's secret key.
///
/// Checked: tag 96, the citysec well-formedness rules and `limits`, a protected
/// AEAD `alg` (the protected header exactly `{1: alg}` in shortest form), exactly
/// one recipient with protected header exactly `h'a1013818'` (`{1: -25}`) and an
/// empty encrypted key, an X25519 ephemeral key in canonical encoding, a `kid` (if
/// any, and if `recipient` has one) equal to the key's. docs/telemetry-envelope.md,
/// "Recipient mode", gives the layout byte for byte.
///
/// # Errors
/// `Error::Core(WrongTag)`, the well-formedness errors, `Error::Core(AlgNotProtected)`,
/// `Error::Core(InvalidKey)` for a non-canonical ephemeral key,
/// `Error::Core(UnsupportedAlgorithm)` (also for ECDH-SS and other recipient
/// algorithms), `Error::Core(UnknownKey)`, `Error::Core(NonContributory)`,
/// `Error::Core(DecryptFailed)`; [`Error::Malformed`] for another layout.
pub fn open_from(
    backend: &Provider,
    recipient: &X25519SecretKey,
    bytes: &[u8],
    external_aad: &[u8],
    limits: &Limits,
) -> Result<Vec<u8>> {
    if bytes.len() > limits.max_message_size {
        return Err(Error::Core(citysec_core::Error::TooLarge));
    }
    let body = bytes
        .strip_prefix(&[0xd8, 0x60])
        .ok_or(Error::Core(citysec_core::Error::WrongTag))?;
    check_well_formed(body, limits, Tags::Forbid)?;
    let mut r = Reader::new(body);
    expect(&mut r, 4, 4)?;
    let protected = bstr(&mut r)?;
    let alg = protected_alg(protected)?;
    // One byte form: exactly `{1: alg}` with shortest heads, nothing after it.
    let (canonical, clen) = protected_header(alg)?;
    if canonical.get(..clen) != Some(protected) {
        return Err(Error::Malformed);
    }
    let iv = single_iv(&mut r)?;
    let ciphertext = bstr(&mut r)?;
    expect(&mut r, 4, 1)?;
    expect(&mut r, 4, 3)?;
    let rp = bstr(&mut r)?;
    if protected_alg_id(rp)? != -25 {
        return Err(Error::Core(citysec_core::Error::UnsupportedAlgorithm));
    }
    // The KDF context carries these bytes: only their one byte form `a1 01 38 18`.
    if rp != RECIPIENT_PROTECTED {
        return Err(Error::Malformed);
    }
    let (epk, kid) = recipient_unprotected(&mut r)?;
    if !bstr(&mut r)?.is_empty() {
        return Err(Error::Malformed);
    }
    if let (Some(want), Some(have)) = (kid, recipient.kid())
        && want != have
    {
        return Err(Error::Core(citysec_core::Error::UnknownKey));
    }
    let shared = backend.x25519(recipient, &X25519PublicKey::new(epk))?;
    let cek = content_key(backend, shared.as_bytes(), alg)?;
    let aad = enc_structure(protected, external_aad);
    let body_len = ciphertext
        .len()
        .checked_sub(16)
        .ok_or(Error::Core(citysec_core::Error::DecryptFailed))?;
    let (ct, tag) = ciphertext.split_at(body_len);
    let mut out = ct.to_vec();
    if let Err(e) = backend.open(&cek, iv, &aad, &mut out, tag) {
        zeroize::Zeroize::zeroize(&mut out);
        return Err(Error::Core(e));
    }
    Ok(out)
}

fn expect(r: &mut Reader<'_>, major: u8, arg: u64) -> Result<()> {
    let h = r.head()?;
    if h.major == major && h.arg == arg {
        Ok(())
    } else {
        Err(Error::Malformed)
    }
}

fn bstr<'a>(r: &mut Reader<'a>) -> Result<&'a [u8]> {
    let h = r.head()?;
    if h.major != 2 {
        return Err(Error::Malformed);
    }
    Ok(r.take_string(h)?)
}

fn int(r: &mut Reader<'_>) -> Result<i64> {
    let h = r.head()?;
    let v = i64::try_from(h.arg).map_err(|_| Error::Malformed)?;
    match h.major {
        0 => Ok(v),
        1 => (-1i64).checked_sub(v).ok_or(Error::Malformed),
        _ => Err(Error::Malformed),
    }
}

/// The `alg` of a protected header that holds only `{1: alg}`.
fn protected_alg_id(protected: &[u8]) -> Result<i64> {
    if protected.is_empty() || protected == [0xa0] {
        return Err(Error::Core(citysec_core::Error::AlgNotProtected));
    }
    let mut r = Reader::new(protected);
    let h = r.head()?;
    if h.major != 5 || h.arg != 1 || int(&mut r)? != 1 {
        return Err(Error::Core(citysec_core::Error::AlgNotProtected));
    }
    int(&mut r).map_err(|_| Error::Core(citysec_core::Error::UnsupportedAlgorithm))
}

fn protected_alg(protected: &[u8]) -> Result<Algorithm> {
    let id = protected_alg_id(protected)?;
    Algorithm::from_cose_id(id)
        .filter(|a| a.kind() == AlgorithmKind::Aead)
        .ok_or(Error::Core(citysec_core::Error::UnsupportedAlgorithm))
}

/// The unprotected `{5: iv}` of the content layer.
fn single_iv<'a>(r: &mut Reader<'a>) -> Result<&'a [u8; 12]> {
    expect(r, 5, 1)?;
    let label = int(r)?;
    if label != 5 {
        return Err(Error::Core(citysec_core::Error::InvalidIv));
    }
    bstr(r)?
        .try_into()
        .map_err(|_| Error::Core(citysec_core::Error::InvalidIv))
}

/// `{-1: {1: 1, -1: 4, -2: x}, ? 4: kid}` in either order.
fn recipient_unprotected<'a>(r: &mut Reader<'a>) -> Result<([u8; 32], Option<&'a [u8]>)> {
    let h = r.head()?;
    if h.major != 5 || !(1..=2).contains(&h.arg) {
        return Err(Error::Malformed);
    }
    let (mut epk, mut kid) = (None, None);
    for _ in 0..h.arg {
        match int(r)? {
            -1 => {
                let m = r.head()?;
                if m.major != 5 || m.arg != 3 {
                    return Err(Error::Malformed);
                }
                let (mut kty, mut crv, mut x) = (None, None, None);
                for _ in 0..3 {
                    match int(r)? {
                        1 => kty = Some(int(r)?),
                        -1 => crv = Some(int(r)?),
                        -2 => x = Some(bstr(r)?),
                        _ => return Err(Error::Malformed),
                    }
                }
                if kty != Some(1) || crv != Some(4) {
                    return Err(Error::Core(citysec_core::Error::UnsupportedAlgorithm));
                }
                let x = <[u8; 32]>::try_from(x.ok_or(Error::Malformed)?).map_err(|_| Error::Malformed)?;
                // X25519 ignores the top bit and reduces u modulo p: two encodings of
                // one key would make two distinct messages that open alike. Only the
                // canonical encoding is accepted.
                if !citysec_core::keys::x25519_public_is_canonical(&x) {
                    return Err(Error::Core(citysec_core::Error::InvalidKey));
                }
                epk = Some(x);
            }
            4 => kid = Some(bstr(r)?),
            _ => return Err(Error::Malformed),
        }
    }
    Ok((epk.ok_or(Error::Malformed)?, kid))
}
