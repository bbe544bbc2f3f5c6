//! COSE_Encrypt0 (RFC 9052 section 5.2) under the citysec profile.
//!
//! The nonce is either a full IV (label 5) or a Partial IV (label 6) combined with
//! the key's Base IV as RFC 9052 section 3.1 describes: the Partial IV is
//! left-padded with zeros to the nonce length and XORed with the Base IV.

use alloc::vec::Vec;

use coset::{CborSerializable, CoseEncrypt0, Header, ProtectedHeader};

use crate::backend::{Backend, TAG_LEN};
use crate::headers;
use crate::keys::{NONCE_LEN, SymmetricKey};
use crate::sign1::{Tagging, VerifyOptions, check_protected_bytes, strict_body};
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
/// [`Error::InvalidIv`]; backend errors.
pub fn seal(
    backend: &dyn Backend,
    key: &SymmetricKey,
    iv: Iv<'_>,
    plaintext: &[u8],
    external_aad: &[u8],
) -> Result<Vec<u8>> {
    seal_with_headers(
        backend,
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
    backend: &dyn Backend,
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
    let tag = backend.seal(key, &nonce, &aad, &mut buf)?;
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
#[derive(Debug, Clone)]
pub struct UnverifiedEncrypt0 {
    inner: CoseEncrypt0,
    alg: Algorithm,
}

impl UnverifiedEncrypt0 {
    /// Parses `msg` under the citysec profile.
    ///
    /// # Errors
    /// The structural errors of [`UnverifiedSign1::parse`](crate::sign1::UnverifiedSign1::parse)
    /// (with tag 16 and no CWT tag); [`Error::InvalidIv`] if both an IV and a
    /// Partial IV are present, or neither.
    pub fn parse(msg: &[u8], opts: &VerifyOptions<'_>) -> Result<Self> {
        let body = strict_body(msg, opts, TAG_COSE_ENCRYPT0, false)?;
        let inner = CoseEncrypt0::from_slice(body).map_err(|e| match e {
            // coset refuses IV and Partial IV in one bucket as an unexpected item
            coset::CoseError::UnexpectedItem("IV and partial-IV specified", _) => Error::InvalidIv,
            other => headers::from_coset(&other),
        })?;
        check_protected_bytes(&inner.protected, &opts.limits)?;
        let alg = headers::check(&inner.protected, &inner.unprotected, opts.crit)?;
        if alg.kind() != AlgorithmKind::Aead {
            return Err(Error::UnsupportedAlgorithm);
        }
        let has_iv = !inner.protected.header.iv.is_empty() || !inner.unprotected.iv.is_empty();
        let has_piv = !inner.protected.header.partial_iv.is_empty() || !inner.unprotected.partial_iv.is_empty();
        if has_iv == has_piv {
            return Err(Error::InvalidIv);
        }
        if inner.ciphertext.is_none() {
            return Err(Error::DetachedContent);
        }
        Ok(Self { inner, alg })
    }

    /// The protected `alg`.
    #[must_use]
    pub const fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// The `kid`, from either bucket.
    #[must_use]
    pub fn kid(&self) -> Option<&[u8]> {
        headers::kid(&self.inner.protected, &self.inner.unprotected)
    }

    /// The protected header.
    #[must_use]
    pub const fn protected(&self) -> &Header {
        &self.inner.protected.header
    }

    /// The unprotected header.
    #[must_use]
    pub const fn unprotected(&self) -> &Header {
        &self.inner.unprotected
    }

    /// The IV or Partial IV the message carries.
    #[must_use]
    pub fn iv(&self) -> Option<Iv<'_>> {
        let p = &self.inner.protected.header;
        let u = &self.inner.unprotected;
        let full = if p.iv.is_empty() { &u.iv } else { &p.iv };
        let partial = if p.partial_iv.is_empty() {
            &u.partial_iv
        } else {
            &p.partial_iv
        };
        if let Ok(arr) = <&[u8; NONCE_LEN]>::try_from(full.as_slice()) {
            Some(Iv::Full(arr))
        } else if !partial.is_empty() {
            Some(Iv::Partial(partial))
        } else {
            None
        }
    }

    /// Decrypts with `key`.
    ///
    /// # Errors
    /// [`Error::KeyAlgMismatch`] if the key is for another AEAD; [`Error::UnknownKey`]
    /// if both carry different kids; [`Error::InvalidIv`] for an IV that is not 12
    /// bytes, a Partial IV longer than 12 bytes, or a Partial IV with a key that has
    /// no Base IV; [`Error::DecryptFailed`].
    pub fn open(self, backend: &dyn Backend, key: &SymmetricKey, external_aad: &[u8]) -> Result<OpenedEncrypt0> {
        if key.algorithm() != self.alg {
            return Err(Error::KeyAlgMismatch);
        }
        if let (Some(want), Some(have)) = (self.kid(), key.kid())
            && want != have
        {
            return Err(Error::UnknownKey);
        }
        let iv = self.iv().ok_or(Error::InvalidIv)?;
        let nonce = nonce_for(key, iv)?;
        let aad = cbor::to_be_processed(
            CONTEXT,
            self.inner.protected.original_data.as_deref().unwrap_or_default(),
            external_aad,
            None,
        );
        let mut inner = self.inner;
        let mut ct = inner.ciphertext.take().unwrap_or_default();
        let body_len = ct.len().checked_sub(TAG_LEN).ok_or(Error::DecryptFailed)?;
        let (body, tag) = ct.split_at_mut(body_len);
        if let Err(e) = backend.open(key, &nonce, &aad, body, tag) {
            zeroize::Zeroize::zeroize(&mut ct);
            return Err(e);
        }
        ct.truncate(body_len);
        Ok(OpenedEncrypt0 {
            alg: self.alg,
            inner,
            plaintext: ct,
        })
    }

    /// Decrypts with the key in `keys` named by the message's `kid`.
    ///
    /// # Errors
    /// [`Error::UnknownKey`] if the message has no `kid` or no key has it; the
    /// errors of [`Self::open`].
    pub fn open_with_keys(
        self,
        backend: &dyn Backend,
        keys: &KeySet<SymmetricKey>,
        external_aad: &[u8],
    ) -> Result<OpenedEncrypt0> {
        let kid = self.kid().ok_or(Error::UnknownKey)?;
        let key = keys.resolve(kid, self.alg)?;
        self.open(backend, key, external_aad)
    }
}

/// A decrypted COSE_Encrypt0.
#[derive(Debug, Clone)]
pub struct OpenedEncrypt0 {
    inner: CoseEncrypt0,
    alg: Algorithm,
    plaintext: Vec<u8>,
}

impl OpenedEncrypt0 {
    /// The algorithm.
    #[must_use]
    pub const fn algorithm(&self) -> Algorithm {
        self.alg
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

    /// The protected (authenticated) header.
    #[must_use]
    pub const fn protected(&self) -> &Header {
        &self.inner.protected.header
    }

    /// The unprotected header (the IV in it is authenticated through the tag).
    #[must_use]
    pub const fn unprotected(&self) -> &Header {
        &self.inner.unprotected
    }
}

/// Parses and decrypts a tagged COSE_Encrypt0 with one key.
///
/// # Errors
/// Everything [`UnverifiedEncrypt0::parse`] and [`UnverifiedEncrypt0::open`] return.
pub fn open(backend: &dyn Backend, key: &SymmetricKey, msg: &[u8], opts: &VerifyOptions<'_>) -> Result<OpenedEncrypt0> {
    UnverifiedEncrypt0::parse(msg, opts)?.open(backend, key, opts.external_aad)
}
