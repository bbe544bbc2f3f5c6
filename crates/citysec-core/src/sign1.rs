//! COSE_Sign1 (RFC 9052 section 4.2) under the citysec profile.
//!
//! Verification is two steps: [`UnverifiedSign1::parse`] applies every structural
//! rule (size, tags, well-formedness, header buckets, `crit`, protected `alg`) and
//! [`UnverifiedSign1::verify`] checks the signature with a key whose algorithm
//! must equal `alg`. Only a [`VerifiedSign1`] gives out the payload as trusted.

use alloc::vec::Vec;

use coset::{CborSerializable, CoseSign1, Header, ProtectedHeader};

use crate::backend::{Backend, SIGNATURE_LEN};
use crate::cbor::{self, Tags, check_well_formed};
use crate::headers::{self, CritPolicy};
use crate::keys::{SigningKey, VerifyingKey};
use crate::{Algorithm, AlgorithmKind, Error, KeySet, Limits, Result};

/// CBOR tag of COSE_Sign1.
pub const TAG_COSE_SIGN1: u64 = 18;
/// CBOR tag of a CWT (RFC 8392), accepted around a tagged COSE_Sign1.
pub const TAG_CWT: u64 = 61;

const CONTEXT: &str = "Signature1";

/// Whether a message carries its CBOR tag.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Tagging {
    /// The structure's tag is required (a CWT tag 61 around COSE_Sign1 is accepted).
    #[default]
    Tagged,
    /// No tag at all: only for callers that handle untagged structures on purpose.
    Untagged,
}

/// How a message is checked, beyond the key.
#[derive(Clone, Copy, Debug)]
pub struct VerifyOptions<'a> {
    /// Externally supplied data bound into the signature or tag (default empty).
    pub external_aad: &'a [u8],
    /// Decoder bounds (default [`Limits::DEFAULT`]).
    pub limits: Limits,
    /// `crit` labels the caller implements (default none).
    pub crit: CritPolicy<'a>,
    /// Tagged (default) or untagged input.
    pub tagging: Tagging,
}

impl Default for VerifyOptions<'_> {
    fn default() -> Self {
        Self {
            external_aad: &[],
            limits: Limits::DEFAULT,
            crit: CritPolicy::default(),
            tagging: Tagging::Tagged,
        }
    }
}

impl<'a> VerifyOptions<'a> {
    /// These options with external AAD.
    #[must_use]
    pub const fn with_external_aad(mut self, aad: &'a [u8]) -> Self {
        self.external_aad = aad;
        self
    }

    /// These options with other limits.
    #[must_use]
    pub const fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// These options for untagged input.
    #[must_use]
    pub const fn untagged(mut self) -> Self {
        self.tagging = Tagging::Untagged;
        self
    }
}

/// Strips and checks the leading tag(s) for `tag`; `allow_cwt` also accepts 61(tag(..)).
pub(crate) fn expect_tag(msg: &[u8], tagging: Tagging, tag: u64, allow_cwt: bool) -> Result<&[u8]> {
    let (tags, body) = cbor::strip_tags(msg)?;
    let ok = match (tagging, tags.as_slice()) {
        (Tagging::Untagged, []) => true,
        (Tagging::Tagged, [t]) => *t == tag,
        (Tagging::Tagged, [outer, inner]) => allow_cwt && *outer == TAG_CWT && *inner == tag,
        _ => false,
    };
    if ok { Ok(body) } else { Err(Error::WrongTag) }
}

/// Parses a COSE structure body strictly: limits and well-formedness over the whole
/// message and over the protected header bytes.
pub(crate) fn strict_body<'m>(msg: &'m [u8], opts: &VerifyOptions<'_>, tag: u64, allow_cwt: bool) -> Result<&'m [u8]> {
    if msg.len() > opts.limits.max_message_size {
        return Err(Error::TooLarge);
    }
    let body = expect_tag(msg, opts.tagging, tag, allow_cwt)?;
    check_well_formed(body, &opts.limits, Tags::Forbid)?;
    match cbor::protected_alg(body)? {
        Some(cbor::AlgLabel::Int(id)) if Algorithm::from_cose_id(id).is_none() => Err(Error::UnsupportedAlgorithm),
        Some(cbor::AlgLabel::Other) => Err(Error::UnsupportedAlgorithm),
        _ => Ok(body),
    }
}

/// Checks the bytes inside the protected-header bstr like any other structure.
pub(crate) fn check_protected_bytes(protected: &ProtectedHeader, limits: &Limits) -> Result<()> {
    match protected.original_data.as_deref() {
        Some(bytes) if !bytes.is_empty() => check_well_formed(bytes, limits, Tags::Forbid),
        _ => Ok(()),
    }
}

/// A COSE_Sign1 that passed every structural check but whose signature is not yet
/// verified. Nothing in it is trustworthy yet.
#[derive(Debug, Clone)]
pub struct UnverifiedSign1 {
    inner: CoseSign1,
    alg: Algorithm,
}

impl UnverifiedSign1 {
    /// Parses `msg` under the citysec profile.
    ///
    /// # Errors
    /// [`Error::TooLarge`], [`Error::WrongTag`], the well-formedness errors
    /// ([`Error::TrailingBytes`], [`Error::DuplicateMapKey`], [`Error::IndefiniteLength`],
    /// [`Error::TooDeep`], [`Error::TooManyEntries`], [`Error::UnexpectedTag`],
    /// [`Error::Malformed`]), [`Error::DuplicateHeaderLabel`], [`Error::CritNotProtected`],
    /// [`Error::UnknownCrit`], [`Error::AlgNotProtected`], [`Error::UnsupportedAlgorithm`]
    /// (also for an AEAD `alg`), [`Error::DetachedContent`].
    pub fn parse(msg: &[u8], opts: &VerifyOptions<'_>) -> Result<Self> {
        let body = strict_body(msg, opts, TAG_COSE_SIGN1, true)?;
        let inner = CoseSign1::from_slice(body).map_err(|e| headers::from_coset(&e))?;
        check_protected_bytes(&inner.protected, &opts.limits)?;
        let alg = headers::check(&inner.protected, &inner.unprotected, opts.crit)?;
        if alg.kind() != AlgorithmKind::Signature {
            return Err(Error::UnsupportedAlgorithm);
        }
        if inner.payload.is_none() {
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

    /// The payload, unverified: for display and debugging only.
    #[must_use]
    pub fn payload_unverified(&self) -> &[u8] {
        self.inner.payload.as_deref().unwrap_or_default()
    }

    /// The protected header, unverified.
    #[must_use]
    pub const fn protected(&self) -> &Header {
        &self.inner.protected.header
    }

    /// The unprotected header.
    #[must_use]
    pub const fn unprotected(&self) -> &Header {
        &self.inner.unprotected
    }

    /// The signature bytes.
    #[must_use]
    pub fn signature(&self) -> &[u8] {
        &self.inner.signature
    }

    /// The Sig_structure bytes the signature covers, built from the protected header
    /// exactly as it was on the wire.
    #[must_use]
    pub fn to_be_signed(&self, external_aad: &[u8]) -> Vec<u8> {
        cbor::to_be_processed(
            CONTEXT,
            self.inner.protected.original_data.as_deref().unwrap_or_default(),
            external_aad,
            Some(self.payload_unverified()),
        )
    }

    /// Checks that `key` may verify this message: same algorithm, and the same
    /// `kid` when both carry one.
    ///
    /// # Errors
    /// [`Error::KeyAlgMismatch`], [`Error::UnknownKey`].
    pub fn check_key(&self, key: &VerifyingKey) -> Result<()> {
        if key.algorithm() != self.alg {
            return Err(Error::KeyAlgMismatch);
        }
        if let (Some(want), Some(have)) = (self.kid(), key.kid())
            && want != have
        {
            return Err(Error::UnknownKey);
        }
        Ok(())
    }

    /// Verifies the signature with `key`.
    ///
    /// # Errors
    /// [`Error::KeyAlgMismatch`] or [`Error::UnknownKey`] from [`Self::check_key`];
    /// [`Error::BadSignature`].
    pub fn verify(self, backend: &dyn Backend, key: &VerifyingKey, external_aad: &[u8]) -> Result<VerifiedSign1> {
        self.check_key(key)?;
        if self.inner.signature.len() != SIGNATURE_LEN {
            return Err(Error::BadSignature);
        }
        let tbs = self.to_be_signed(external_aad);
        backend.verify(key, &tbs, &self.inner.signature)?;
        Ok(VerifiedSign1 {
            alg: self.alg,
            inner: self.inner,
        })
    }

    /// Verifies with the key in `keys` named by the message's `kid`.
    ///
    /// # Errors
    /// [`Error::UnknownKey`] if the message has no `kid` or no key has it;
    /// [`Error::KeyAlgMismatch`]; [`Error::BadSignature`].
    pub fn verify_with_keys(
        self,
        backend: &dyn Backend,
        keys: &KeySet<VerifyingKey>,
        external_aad: &[u8],
    ) -> Result<VerifiedSign1> {
        let kid = self.kid().ok_or(Error::UnknownKey)?;
        let key = keys.resolve(kid, self.alg)?;
        self.verify(backend, key, external_aad)
    }
}

/// A COSE_Sign1 whose signature verified.
#[derive(Debug, Clone)]
pub struct VerifiedSign1 {
    inner: CoseSign1,
    alg: Algorithm,
}

impl VerifiedSign1 {
    /// The algorithm that was verified.
    #[must_use]
    pub const fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// The `kid`, from either bucket (the unprotected one is not covered by the signature).
    #[must_use]
    pub fn kid(&self) -> Option<&[u8]> {
        headers::kid(&self.inner.protected, &self.inner.unprotected)
    }

    /// The verified payload.
    #[must_use]
    pub fn payload(&self) -> &[u8] {
        self.inner.payload.as_deref().unwrap_or_default()
    }

    /// The verified payload, by value.
    #[must_use]
    pub fn into_payload(self) -> Vec<u8> {
        self.inner.payload.unwrap_or_default()
    }

    /// The protected (signed) header.
    #[must_use]
    pub const fn protected(&self) -> &Header {
        &self.inner.protected.header
    }

    /// The unprotected header (not covered by the signature).
    #[must_use]
    pub const fn unprotected(&self) -> &Header {
        &self.inner.unprotected
    }
}

/// Parses and verifies a tagged COSE_Sign1 with the key named by its `kid`.
///
/// # Errors
/// Everything [`UnverifiedSign1::parse`] and [`UnverifiedSign1::verify_with_keys`] return.
pub fn verify(
    backend: &dyn Backend,
    keys: &KeySet<VerifyingKey>,
    msg: &[u8],
    opts: &VerifyOptions<'_>,
) -> Result<VerifiedSign1> {
    UnverifiedSign1::parse(msg, opts)?.verify_with_keys(backend, keys, opts.external_aad)
}

/// Parses and verifies a COSE_Sign1 with one given key.
///
/// # Errors
/// Everything [`UnverifiedSign1::parse`] and [`UnverifiedSign1::verify`] return.
pub fn verify_with_key(
    backend: &dyn Backend,
    key: &VerifyingKey,
    msg: &[u8],
    opts: &VerifyOptions<'_>,
) -> Result<VerifiedSign1> {
    UnverifiedSign1::parse(msg, opts)?.verify(backend, key, opts.external_aad)
}

/// Signs `payload` as a tagged COSE_Sign1. The protected header carries `alg` and,
/// if the key has one, `kid`.
///
/// # Errors
/// Backend errors ([`Error::UnsupportedAlgorithm`]); [`Error::Malformed`] if the
/// header cannot be encoded.
pub fn sign(backend: &dyn Backend, key: &SigningKey, payload: &[u8], external_aad: &[u8]) -> Result<Vec<u8>> {
    sign_with_headers(
        backend,
        key,
        Header::default(),
        Header::default(),
        payload,
        external_aad,
        Tagging::Tagged,
    )
}

/// Signs `payload` with caller-supplied header buckets.
///
/// `alg` is always set in the protected bucket from the key (an `alg` the caller
/// put in either bucket is replaced or removed). The key's `kid` is added to the
/// protected bucket when neither bucket has a `kid`.
///
/// # Errors
/// As [`sign`].
pub fn sign_with_headers(
    backend: &dyn Backend,
    key: &SigningKey,
    mut protected: Header,
    mut unprotected: Header,
    payload: &[u8],
    external_aad: &[u8],
    tagging: Tagging,
) -> Result<Vec<u8>> {
    protected.alg = Some(key.algorithm().to_cose());
    unprotected.alg = None;
    if protected.key_id.is_empty()
        && unprotected.key_id.is_empty()
        && let Some(kid) = key.kid()
    {
        protected.key_id = kid.to_vec();
    }
    let protected_bytes = protected.clone().to_vec().map_err(|_| Error::Malformed)?;
    let tbs = cbor::to_be_processed(CONTEXT, &protected_bytes, external_aad, Some(payload));
    let signature = backend.sign(key, &tbs)?;
    let msg = CoseSign1 {
        protected: ProtectedHeader {
            original_data: Some(protected_bytes),
            header: protected,
        },
        unprotected,
        payload: Some(payload.to_vec()),
        signature: signature.to_vec(),
    };
    let out = match tagging {
        Tagging::Tagged => coset::TaggedCborSerializable::to_tagged_vec(msg),
        Tagging::Untagged => msg.to_vec(),
    };
    out.map_err(|_| Error::Malformed)
}
