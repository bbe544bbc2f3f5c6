//! Key files: COSE_Key (CBOR) and PEM (PKCS#8 private keys, SPKI public keys).

use std::path::Path;

use citysec_core::{Algorithm, Key, Limits, SigningKey, VerifyingKey};
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use p256::elliptic_curve::sec1::ToSec1Point;
use p256::pkcs8::der::{Decode, pem};
use p256::pkcs8::{AssociatedOid, LineEnding, PrivateKeyInfoRef, SubjectPublicKeyInfoRef};
use zeroize::{Zeroize as _, Zeroizing};

pub use crate::fsutil::ExistingFile;
use crate::fsutil::{read_bounded, write_atomic};
use crate::{Error, Result};

/// The largest key file [`read_key`] reads (64 KiB); real key files are far smaller.
pub const MAX_KEY_FILE_SIZE: usize = 64 * 1024;

/// Permission bits of files holding secret keys.
const SECRET_MODE: u32 = 0o600;
/// Permission bits of files holding public keys.
const PUBLIC_MODE: u32 = 0o644;

const PEM_PRIVATE: &str = "PRIVATE KEY";
const PEM_PUBLIC: &str = "PUBLIC KEY";

/// The encodings a key file can have.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyFormat {
    /// A COSE_Key (RFC 9052 section 7) as raw CBOR: every key kind, with its `kid`.
    #[default]
    CoseKey,
    /// PEM: PKCS#8 `PRIVATE KEY` for Ed25519 and P-256 private keys, SPKI
    /// `PUBLIC KEY` for their public keys. PEM carries no `kid`.
    Pem,
}

impl KeyFormat {
    /// Guesses the format of a key file's bytes: PEM if the text starts (after
    /// whitespace) with `-----BEGIN`, COSE_Key otherwise.
    #[must_use]
    pub fn detect(bytes: &[u8]) -> Self {
        let start = bytes
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .unwrap_or(bytes.len());
        if bytes.get(start..).is_some_and(|rest| rest.starts_with(b"-----BEGIN")) {
            Self::Pem
        } else {
            Self::CoseKey
        }
    }
}

/// Decodes a key file's bytes, detecting the format with [`KeyFormat::detect`].
///
/// COSE_Keys go through [`Key::from_cose_key`] with the default [`Limits`]; PEM
/// keys through the PKCS#8 and SPKI decoders of ed25519-dalek and p256 and then
/// through the same citysec-core constructors, so weak Ed25519 keys and off-curve
/// points are refused either way. A PKCS#8 key's embedded public key, if any, must
/// match the private key.
///
/// # Errors
/// [`Error::Key`] for a COSE_Key citysec-core refuses or a PEM key it refuses;
/// [`Error::MalformedPem`]; [`Error::UnsupportedPemLabel`];
/// [`Error::UnsupportedPemAlgorithm`].
pub fn decode_key(bytes: &[u8]) -> Result<Key> {
    match KeyFormat::detect(bytes) {
        KeyFormat::CoseKey => Ok(Key::from_cose_key(bytes, &Limits::DEFAULT)?),
        KeyFormat::Pem => decode_pem(bytes),
    }
}

/// Encodes `key` in `format`. The result may hold secret material and is wiped on
/// drop.
///
/// # Errors
/// [`Error::PemNotAvailable`] for PEM of a symmetric or X25519 key;
/// [`Error::Encoding`] if an encoder fails (it does not for valid keys).
pub fn encode_key(key: &Key, format: KeyFormat) -> Result<Zeroizing<Vec<u8>>> {
    match format {
        KeyFormat::CoseKey => key.to_cose_key().map_err(|_| Error::Encoding),
        KeyFormat::Pem => encode_pem(key),
    }
}

/// Reads a key file (COSE_Key or PEM, detected) of at most [`MAX_KEY_FILE_SIZE`] bytes.
///
/// The file's bytes are held in a buffer that is wiped on drop. PEM keys come back
/// without a `kid`; add one with [`Key::with_kid`].
///
/// # Errors
/// [`Error::Io`], [`Error::FileTooLarge`], and the errors of [`decode_key`].
pub fn read_key(path: impl AsRef<Path>) -> Result<Key> {
    let bytes = read_bounded(path.as_ref(), MAX_KEY_FILE_SIZE)?;
    decode_key(&bytes)
}

/// Reads a key file that must hold secret material (a signing, symmetric or X25519
/// private key).
///
/// # Errors
/// The errors of [`read_key`]; [`Error::NotSecret`] for a public key.
pub fn read_secret_key(path: impl AsRef<Path>) -> Result<Key> {
    let key = read_key(path)?;
    if key.is_secret() {
        Ok(key)
    } else {
        Err(Error::NotSecret)
    }
}

/// Writes `key` to `path` in `format`.
///
/// The bytes go to a temporary file in the same directory, which is flushed to disk
/// and then moved into place, so a crash leaves either the old file or the new one.
/// Files with secret material get mode `0600`, public keys `0644` (exactly, whatever
/// the umask). With [`ExistingFile::Refuse`] an existing `path` is never touched.
///
/// # Errors
/// The errors of [`encode_key`]; [`Error::Io`] (of kind
/// [`AlreadyExists`](std::io::ErrorKind::AlreadyExists) when `path` exists and
/// `existing` is [`ExistingFile::Refuse`]).
pub fn write_key(path: impl AsRef<Path>, key: &Key, format: KeyFormat, existing: ExistingFile) -> Result<()> {
    let bytes = encode_key(key, format)?;
    let mode = if key.is_secret() { SECRET_MODE } else { PUBLIC_MODE };
    write_atomic(path.as_ref(), &bytes, mode, existing)
}

// ---------------------------------------------------------------------------
// PEM

fn decode_pem(bytes: &[u8]) -> Result<Key> {
    let (label, der) = pem::decode_vec(bytes).map_err(|_| Error::MalformedPem)?;
    let der = Zeroizing::new(der);
    match label {
        PEM_PRIVATE => decode_pkcs8(&der),
        PEM_PUBLIC => decode_spki(&der),
        other => Err(Error::UnsupportedPemLabel(other.to_owned())),
    }
}

fn is_p256(params: Result<p256::pkcs8::ObjectIdentifier, p256::pkcs8::spki::Error>) -> bool {
    params.is_ok_and(|oid| oid == p256::NistP256::OID)
}

fn decode_pkcs8(der: &[u8]) -> Result<Key> {
    let info = PrivateKeyInfoRef::from_der(der).map_err(|_| Error::MalformedPem)?;
    let oid = info.algorithm.oid;
    if oid == ed25519_dalek::pkcs8::ALGORITHM_OID {
        let sk = ed25519_dalek::SigningKey::from_pkcs8_der(der).map_err(|_| Error::MalformedPem)?;
        let seed = Zeroizing::new(sk.to_bytes());
        Ok(Key::Signing(SigningKey::ed25519(&seed)))
    } else if oid == p256::elliptic_curve::ALGORITHM_OID && is_p256(info.algorithm.parameters_oid()) {
        let sk = p256::SecretKey::from_pkcs8_der(der).map_err(|_| Error::MalformedPem)?;
        let d: Zeroizing<[u8; 32]> = Zeroizing::new(sk.to_bytes().into());
        Ok(Key::Signing(SigningKey::p256(&d)?))
    } else {
        Err(Error::UnsupportedPemAlgorithm(oid.to_string()))
    }
}

fn decode_spki(der: &[u8]) -> Result<Key> {
    let info = SubjectPublicKeyInfoRef::from_der(der).map_err(|_| Error::MalformedPem)?;
    let oid = info.algorithm.oid;
    if oid == ed25519_dalek::pkcs8::ALGORITHM_OID {
        let vk = ed25519_dalek::VerifyingKey::from_public_key_der(der).map_err(|_| Error::MalformedPem)?;
        Ok(Key::Verifying(VerifyingKey::ed25519(vk.as_bytes())?))
    } else if oid == p256::elliptic_curve::ALGORITHM_OID && is_p256(info.algorithm.parameters_oid()) {
        let pk = p256::PublicKey::from_public_key_der(der).map_err(|_| Error::MalformedPem)?;
        let point = pk.to_sec1_point(false);
        let (x, y) = match (point.x(), point.y()) {
            (Some(x), Some(y)) => (x, y),
            _ => return Err(Error::MalformedPem),
        };
        let x: [u8; 32] = x.as_slice().try_into().map_err(|_| Error::MalformedPem)?;
        let y: [u8; 32] = y.as_slice().try_into().map_err(|_| Error::MalformedPem)?;
        Ok(Key::Verifying(VerifyingKey::p256(&x, &y)?))
    } else {
        Err(Error::UnsupportedPemAlgorithm(oid.to_string()))
    }
}

fn into_bytes(mut pem: Zeroizing<String>) -> Zeroizing<Vec<u8>> {
    Zeroizing::new(core::mem::take(&mut *pem).into_bytes())
}

fn encode_pem(key: &Key) -> Result<Zeroizing<Vec<u8>>> {
    match key {
        Key::Signing(sk) => match sk.algorithm() {
            Algorithm::EdDSA => {
                // PKCS#8 v1 (RFC 8410 without the optional public key): OpenSSL 3.0
                // refuses the v2 form that ed25519-dalek writes.
                let mut keypair = ed25519_dalek::pkcs8::KeypairBytes {
                    secret_key: *sk.secret_bytes(),
                    public_key: None,
                };
                let pem = keypair.to_pkcs8_pem(LineEnding::LF);
                keypair.secret_key.zeroize();
                Ok(into_bytes(pem.map_err(|_| Error::Encoding)?))
            }
            Algorithm::ES256 => {
                let d = sk.secret_bytes();
                let secret = p256::SecretKey::from_slice(d.as_slice()).map_err(|_| Error::Encoding)?;
                let pem = secret.to_pkcs8_pem(LineEnding::LF).map_err(|_| Error::Encoding)?;
                Ok(into_bytes(pem))
            }
            _ => Err(Error::PemNotAvailable),
        },
        Key::Verifying(vk) => {
            let pem = match vk.algorithm() {
                Algorithm::EdDSA => {
                    let bytes: &[u8; 32] = vk.as_bytes().try_into().map_err(|_| Error::Encoding)?;
                    let dalek = ed25519_dalek::VerifyingKey::from_bytes(bytes).map_err(|_| Error::Encoding)?;
                    dalek.to_public_key_pem(LineEnding::LF).map_err(|_| Error::Encoding)?
                }
                Algorithm::ES256 => {
                    let pk = p256::PublicKey::from_sec1_bytes(vk.as_bytes()).map_err(|_| Error::Encoding)?;
                    pk.to_public_key_pem(LineEnding::LF).map_err(|_| Error::Encoding)?
                }
                _ => return Err(Error::PemNotAvailable),
            };
            Ok(Zeroizing::new(pem.into_bytes()))
        }
        _ => Err(Error::PemNotAvailable),
    }
}
