//! COSE_Encrypt0 (RFC 9052 section 5.2) under the citysec profile.
//!
//! The nonce is either a full IV (label 5) or a Partial IV (label 6) combined with
//! the key's Base IV as RFC 9052 section 3.1 describes: the Partial IV is
//! left-padded with zeros to the nonce length and XORed with the Base IV.

use alloc::vec::Vec;

use coset::{CborSerializable, CoseEncrypt0, Header, ProtectedHeader};

use crate::headers::{self, Headers};
use crate::keys::{NONCE_LEN, SymmetricKey};
use crate::provider::{Provider, TAG_LEN};
use crate::sign1::{Tagging, VerifyOptions, bstr_or_nil, strict_body};
use crate::{Algorithm, AlgorithmKind, Error, KeySet, Result, cbor};

/// CBOR tag of COSE_Encrypt0.
pub const TAG_COSE_ENCRYPT0: u64 = 16;

const CONTEXT: &str = "Encrypt0";

/// The nonce material a message carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Iv<'a> {
    /// A full 12-byte IV, sent in the unprotected header (label 5).
    Full(&'a [u8; NONCE_LEN]),
    /// A Partial IV (label 6), combined with the key's Base IV. At most 12 bytes.
    Partial(&'a [u8]),
}

/// The nonce for a Partial IV: the Partial IV left-padded to 12 bytes, XOR the Base IV.
///
/// # Errors
/// [`Error::InvalidIv`] if the Partial IV is empty or longer than 12 bytes.
pub fn partial_iv_nonce(base_iv: &[u8; NONCE_LEN], partial: &[u8]) -> Result<[u8; NONCE_LEN]> {
    if partial.is_empty() || partial.len() > NONCE_LEN {
        return Err(Error::InvalidIv);
    }
    let mut nonce = *base_iv;
    let offset = NONCE_LEN.checked_sub(partial.len()).ok_or(Error::InvalidIv)?;
    for (n, p) in nonce.iter_mut().skip(offset).zip(partial) {
        *n ^= *p;
    }
    Ok(nonce)
}

fn nonce_for(key: &SymmetricKey, iv: Iv<'_>) -> Result<[u8; NONCE_LEN]> {
    match iv {
        Iv::Full(iv) => Ok(*iv),
        Iv::Partial(p) => partial_iv_nonce(key.base_iv().ok_or(Error::InvalidIv)?, p),
    }
}

/// Encrypts `plaintext` as a tagged COSE_Encrypt0 with `alg` (from the key) in the
/// protected header and the IV or Partial IV in the unprotected header.
///
/// The caller owns nonce uniqueness: never seal twice with the same key and IV.
///
/// # Errors
/// [`Error::InvalidIv`]; the provider's errors.
pub fn seal(
    provider: &Provider,
    key: &SymmetricKey,
    iv: Iv<'_>,
    plaintext: &[u8],
    external_aad: &[u8],
) -> Result<Vec<u8>> {
    seal_with_headers(
        provider,
        key,
        iv,
        Header::default(),
        Header::default(),
        plaintext,
        external_aad,
        Tagging::Tagged,
    )
}

/// Encrypts with caller-supplied header buckets; `alg` is set from the key and the
/// IV or Partial IV is placed in the unprotected bucket.
///
/// # Errors
/// As [`seal`].
#[expect(clippy::too_many_arguments, reason = "mirrors the COSE structure's parts one to one")]
pub fn seal_with_headers(
    provider: &Provider,
    key: &SymmetricKey,
    iv: Iv<'_>,
    mut protected: Header,
    mut unprotected: Header,
    plaintext: &[u8],
    external_aad: &[u8],
    tagging: Tagging,
) -> Result<Vec<u8>> {
    let nonce = nonce_for(key, iv)?;
    protected.alg = Some(key.algorithm().to_cose());
    protected.iv = Vec::new();
    protected.partial_iv = Vec::new();
    unprotected.alg = None;
    match iv {
        Iv::Full(v) => {
            unprotected.iv = v.to_vec();
            unprotected.partial_iv = Vec::new();
        }
        Iv::Partial(p) => {
            unprotected.partial_iv = p.to_vec();
            unprotected.iv = Vec::new();
        }
    }
    let protected_bytes = protected.clone().to_vec().map_err(|_| Error::Malformed)?;
    let aad = cbor::to_be_processed(CONTEXT, &protected_bytes, external_aad, None);
    let mut buf = Vec::with_capacity(plaintext.len().saturating_add(TAG_LEN));
    buf.extend_from_slice(plaintext);
    let tag = provider.seal(key, &nonce, &aad, &mut buf)?;
    buf.extend_from_slice(&tag);
    let msg = CoseEncrypt0 {
        protected: ProtectedHeader {
            original_data: Some(protected_bytes),
            header: protected,
        },
        unprotected,
        ciphertext: Some(buf),
    };
    let out = match tagging {
        Tagging::Tagged => coset::TaggedCborSerializable::to_tagged_vec(msg),
        Tagging::Untagged => msg.to_vec(),
    };
    out.map_err(|_| Error::Malformed)
}

/// A COSE_Encrypt0 that passed every structural check but is not yet decrypted.
/// It borrows the message.
#[derive(Debug, Clone, Copy)]
pub struct UnverifiedEncrypt0<'a> {
    headers: Headers<'a>,
    ciphertext: &'a [u8],
}

impl<'a> UnverifiedEncrypt0<'a> {
    /// Parses `msg` under the citysec profile, without copying it.
    ///
    /// # Errors
    /// The structural errors of [`UnverifiedSign1::parse`](crate::sign1::UnverifiedSign1::parse)
    /// (with tag 16 and no CWT tag); [`Error::InvalidIv`] if both an IV and a
    /// Partial IV are present, or neither; [`Error::DetachedContent`].
    pub fn parse(msg: &'a [u8], opts: &VerifyOptions<'_>) -> Result<Self> {
        let mut r = strict_body(msg, opts, TAG_COSE_ENCRYPT0, false, 3)?;
        let headers = headers::read(&mut r, &opts.limits, opts.crit, AlgorithmKind::Aead)?;
        if headers.iv.is_none() && headers.partial_iv.is_none() {
            return Err(Error::InvalidIv);
        }
        let ciphertext = bstr_or_nil(&mut r)?.ok_or(Error::DetachedContent)?;
        Ok(Self { headers, ciphertext })
    }

    /// The protected `alg`.
    #[must_use]
    pub const fn algorithm(&self) -> Algorithm {
        self.headers.alg
    }

    /// The `kid`, from either bucket.
    #[must_use]
    pub const fn kid(&self) -> Option<&'a [u8]> {
        self.headers.kid
    }

    /// The protected header bytes as they were on the wire.
    #[must_use]
    pub const fn protected_bytes(&self) -> &'a [u8] {
        self.headers.protected
    }

    /// The protected header, decoded (not yet authenticated).
    ///
    /// # Errors
    /// [`Error::Malformed`] if coset cannot represent a value the profile allows.
    pub fn protected(&self) -> Result<Header> {
        headers::decode(self.headers.protected)
    }

    /// The unprotected header, decoded.
    ///
    /// # Errors
    /// As [`Self::protected`].
    pub fn unprotected(&self) -> Result<Header> {
        headers::decode(self.headers.unprotected)
    }

    /// The ciphertext including the tag.
    #[must_use]
    pub const fn ciphertext(&self) -> &'a [u8] {
        self.ciphertext
    }

    /// The IV or Partial IV the message carries.
    #[must_use]
    pub fn iv(&self) -> Option<Iv<'a>> {
        if let Some(full) = self.headers.iv {
            return <&[u8; NONCE_LEN]>::try_from(full).ok().map(Iv::Full);
        }
        self.headers.partial_iv.map(Iv::Partial)
    }

    fn check_key(&self, key: &SymmetricKey) -> Result<()> {
        if key.algorithm() != self.headers.alg {
            return Err(Error::KeyAlgMismatch);
        }
        match (self.kid(), key.kid()) {
            (Some(want), Some(have)) if want != have => Err(Error::UnknownKey),
            _ => Ok(()),
        }
    }

    /// Decrypts with `key` into `out` (cleared first), so a caller can reuse one
    /// buffer for many messages.
    ///
    /// # Errors
    /// As [`Self::open`]; on error `out` is left empty.
    pub fn open_into(
        &self,
        provider: &Provider,
        key: &SymmetricKey,
        external_aad: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<()> {
        out.clear();
        self.check_key(key)?;
        let iv = self.iv().ok_or(Error::InvalidIv)?;
        let nonce = nonce_for(key, iv)?;
        let body_len = self.ciphertext.len().checked_sub(TAG_LEN).ok_or(Error::DecryptFailed)?;
        let (body, tag) = self.ciphertext.split_at(body_len);
        let aad = cbor::to_be_processed(CONTEXT, self.headers.protected, external_aad, None);
        out.extend_from_slice(body);
        if let Err(e) = provider.open(key, &nonce, &aad, out, tag) {
            zeroize::Zeroize::zeroize(out);
            out.clear();
            return Err(e);
        }
        Ok(())
    }

    /// Decrypts with `key`.
    ///
    /// # Errors
    /// [`Error::KeyAlgMismatch`] if the key is for another AEAD; [`Error::UnknownKey`]
    /// if both carry different kids; [`Error::InvalidIv`] for an IV that is not 12
    /// bytes, a Partial IV longer than 12 bytes, or a Partial IV with a key that has
    /// no Base IV; [`Error::DecryptFailed`].
    pub fn open(self, provider: &Provider, key: &SymmetricKey, external_aad: &[u8]) -> Result<OpenedEncrypt0<'a>> {
        let mut plaintext = Vec::new();
        self.open_into(provider, key, external_aad, &mut plaintext)?;
        Ok(OpenedEncrypt0 { inner: self, plaintext })
    }

    /// Decrypts with the key in `keys` named by the message's `kid`.
    ///
    /// # Errors
    /// [`Error::UnknownKey`] if the message has no `kid` or no key has it; the
    /// errors of [`Self::open`].
    pub fn open_with_keys(
        self,
        provider: &Provider,
        keys: &KeySet<SymmetricKey>,
        external_aad: &[u8],
    ) -> Result<OpenedEncrypt0<'a>> {
        let kid = self.kid().ok_or(Error::UnknownKey)?;
        let key = keys.resolve(kid, self.headers.alg)?;
        self.open(provider, key, external_aad)
    }
}

/// A decrypted COSE_Encrypt0: the plaintext, and the headers borrowed from the message.
#[derive(Debug, Clone)]
pub struct OpenedEncrypt0<'a> {
    inner: UnverifiedEncrypt0<'a>,
    plaintext: Vec<u8>,
}

impl<'a> OpenedEncrypt0<'a> {
    /// The algorithm.
    #[must_use]
    pub const fn algorithm(&self) -> Algorithm {
        self.inner.headers.alg
    }

    /// The `kid`, if any.
    #[must_use]
    pub const fn kid(&self) -> Option<&'a [u8]> {
        self.inner.headers.kid
    }

    /// The plaintext.
    #[must_use]
    pub fn plaintext(&self) -> &[u8] {
        &self.plaintext
    }

    /// The plaintext, by value.
    #[must_use]
    pub fn into_plaintext(self) -> Vec<u8> {
        self.plaintext
    }

    /// The IV or Partial IV (authenticated through the nonce).
    #[must_use]
    pub fn iv(&self) -> Option<Iv<'a>> {
        self.inner.iv()
    }

    /// The protected (authenticated) header, decoded.
    ///
    /// # Errors
    /// [`Error::Malformed`] if coset cannot represent a value the profile allows.
    pub fn protected(&self) -> Result<Header> {
        self.inner.protected()
    }

    /// The unprotected header, decoded.
    ///
    /// # Errors
    /// As [`Self::protected`].
    pub fn unprotected(&self) -> Result<Header> {
        self.inner.unprotected()
    }
}

/// Parses and decrypts a tagged COSE_Encrypt0 with one key.
///
/// # Errors
/// Everything [`UnverifiedEncrypt0::parse`] and [`UnverifiedEncrypt0::open`] return.
pub fn open<'a>(
    provider: &Provider,
    key: &SymmetricKey,
    msg: &'a [u8],
    opts: &VerifyOptions<'_>,
) -> Result<OpenedEncrypt0<'a>> {
    UnverifiedEncrypt0::parse(msg, opts)?.open(provider, key, opts.external_aad)
}

/// Writes the start of a tagged COSE_Encrypt0 into `s`: tag 16, an array of
/// three, and `protected` (the encoded protected header) as a byte string. The
/// caller then writes the unprotected header map and the ciphertext (a byte
/// string). For fixed-layout formats that seal into a caller's buffer without
/// allocating (telemetry envelopes).
///
/// # Errors
/// The sink's.
pub fn write_message_start<S: cbor::write::Sink + ?Sized>(
    s: &mut S,
    protected: &[u8],
) -> core::result::Result<(), S::Error> {
    cbor::write::tag(s, TAG_COSE_ENCRYPT0)?;
    cbor::write::array(s, 3)?;
    cbor::write::bytes(s, protected)
}

/// Writes the start of an Enc_structure (RFC 9052 section 5.3, the AEAD's
/// associated data) into `s`: `["Encrypt0", protected, ` and the head of the
/// external AAD, a byte string of `external_aad_len` bytes that the caller
/// writes next.
///
/// # Errors
/// The sink's.
pub fn write_enc_structure_start<S: cbor::write::Sink + ?Sized>(
    s: &mut S,
    protected: &[u8],
    external_aad_len: usize,
) -> core::result::Result<(), S::Error> {
    cbor::write::array(s, 3)?;
    cbor::write::text(s, CONTEXT)?;
    cbor::write::bytes(s, protected)?;
    cbor::write::head(s, cbor::MAJOR_BYTES, cbor::write::len_arg(external_aad_len))
}
