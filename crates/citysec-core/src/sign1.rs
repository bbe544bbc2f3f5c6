//! COSE_Sign1 (RFC 9052 section 4.2) under the citysec profile.
//!
//! Verification is two steps: [`UnverifiedSign1::parse`] applies every structural
//! rule (size, tags, well-formedness, header buckets, `crit`, protected `alg`) and
//! [`UnverifiedSign1::verify`] checks the signature with a key whose algorithm
//! must equal `alg`. Only a [`VerifiedSign1`] gives out the payload as trusted.
//! Both borrow the message: verifying copies nothing but the Sig_structure.

use alloc::vec::Vec;

use coset::{CborSerializable, CoseSign1, Header, ProtectedHeader};

use crate::cbor::{self, Reader, Tags, check_well_formed};
use crate::headers::{self, ContentTypeRef, CritPolicy, Headers};
use crate::keys::VerifyingKey;
use crate::provider::{Provider, SIGNATURE_LEN, Signer};
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

/// Size, tag and well-formedness checks of a whole message; returns a reader at the
/// start of the structure's array body, after its head (which must announce `items`).
pub(crate) fn strict_body<'m>(
    msg: &'m [u8],
    opts: &VerifyOptions<'_>,
    tag: u64,
    allow_cwt: bool,
    items: u64,
) -> Result<Reader<'m>> {
    if msg.len() > opts.limits.max_message_size {
        return Err(Error::TooLarge);
    }
    let body = expect_tag(msg, opts.tagging, tag, allow_cwt)?;
    headers::precheck_label_counts(body)?;
    check_well_formed(body, &opts.limits, Tags::Forbid)?;
    let mut r = Reader::new(body);
    let h = r.head()?;
    if h.major != 4 || h.arg != items {
        return Err(Error::Malformed);
    }
    Ok(r)
}

/// Reads a bstr, or `nil` as `None`.
pub(crate) fn bstr_or_nil<'a>(r: &mut Reader<'a>) -> Result<Option<&'a [u8]>> {
    let h = r.head()?;
    match (h.major, h.arg) {
        (2, _) => r.take_string(h).map(Some),
        (7, 22) => Ok(None),
        _ => Err(Error::Malformed),
    }
}

/// A COSE_Sign1 that passed every structural check but whose signature is not yet
/// verified. It borrows the message; nothing in it is trustworthy yet.
#[derive(Debug, Clone, Copy)]
pub struct UnverifiedSign1<'a> {
    headers: Headers<'a>,
    payload: &'a [u8],
    signature: &'a [u8],
}

impl<'a> UnverifiedSign1<'a> {
    /// Parses `msg` under the citysec profile, without copying it.
    ///
    /// # Errors
    /// [`Error::TooLarge`], [`Error::WrongTag`], the well-formedness errors
    /// ([`Error::TrailingBytes`], [`Error::DuplicateMapKey`], [`Error::IndefiniteLength`],
    /// [`Error::TooDeep`], [`Error::TooManyEntries`], [`Error::UnexpectedTag`],
    /// [`Error::Malformed`]), [`Error::UnsupportedAlgorithm`] (also for an AEAD
    /// `alg`), [`Error::DuplicateHeaderLabel`], [`Error::CritNotProtected`],
    /// [`Error::UnknownCrit`], [`Error::AlgNotProtected`], [`Error::DetachedContent`].
    pub fn parse(msg: &'a [u8], opts: &VerifyOptions<'_>) -> Result<Self> {
        let mut r = strict_body(msg, opts, TAG_COSE_SIGN1, true, 4)?;
        let headers = headers::read(&mut r, &opts.limits, opts.crit, AlgorithmKind::Signature)?;
        let payload = bstr_or_nil(&mut r)?;
        let sh = r.head()?;
        if sh.major != 2 {
            return Err(Error::Malformed);
        }
        let signature = r.take_string(sh)?;
        let payload = payload.ok_or(Error::DetachedContent)?;
        Ok(Self {
            headers,
            payload,
            signature,
        })
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

    /// The content type in the protected header (label 3), read from the wire
    /// without decoding the header.
    #[must_use]
    pub const fn protected_content_type(&self) -> Option<ContentTypeRef<'a>> {
        self.headers.protected_content_type
    }

    /// The payload, unverified: for display and debugging only.
    #[must_use]
    pub const fn payload_unverified(&self) -> &'a [u8] {
        self.payload
    }

    /// The protected header bytes as they were on the wire.
    #[must_use]
    pub const fn protected_bytes(&self) -> &'a [u8] {
        self.headers.protected
    }

    /// The protected header, decoded (unverified).
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

    /// The signature bytes.
    #[must_use]
    pub const fn signature(&self) -> &'a [u8] {
        self.signature
    }

    /// The Sig_structure bytes the signature covers, built from the protected header
    /// exactly as it was on the wire.
    #[must_use]
    pub fn to_be_signed(&self, external_aad: &[u8]) -> Vec<u8> {
        cbor::to_be_processed(CONTEXT, self.headers.protected, external_aad, Some(self.payload))
    }

    /// Checks that `key` may verify this message: same algorithm, and the same
    /// `kid` when both carry one.
    ///
    /// # Errors
    /// [`Error::KeyAlgMismatch`], [`Error::UnknownKey`].
    pub fn check_key(&self, key: &VerifyingKey) -> Result<()> {
        if key.algorithm() != self.headers.alg {
            return Err(Error::KeyAlgMismatch);
        }
        match (self.kid(), key.kid()) {
            (Some(want), Some(have)) if want != have => Err(Error::UnknownKey),
            _ => Ok(()),
        }
    }

    /// Verifies the signature with `key`.
    ///
    /// # Errors
    /// [`Error::KeyAlgMismatch`] or [`Error::UnknownKey`] from [`Self::check_key`];
    /// [`Error::BadSignature`].
    pub fn verify(self, provider: &Provider, key: &VerifyingKey, external_aad: &[u8]) -> Result<VerifiedSign1<'a>> {
        self.check_key(key)?;
        if self.signature.len() != SIGNATURE_LEN {
            return Err(Error::BadSignature);
        }
        let tbs = self.to_be_signed(external_aad);
        provider.verify(key, &tbs, self.signature)?;
        Ok(VerifiedSign1 { inner: self })
    }

    /// Verifies with the key in `keys` named by the message's `kid`.
    ///
    /// # Errors
    /// [`Error::UnknownKey`] if the message has no `kid` or no key has it;
    /// [`Error::KeyAlgMismatch`]; [`Error::BadSignature`].
    pub fn verify_with_keys(
        self,
        provider: &Provider,
        keys: &KeySet<VerifyingKey>,
        external_aad: &[u8],
    ) -> Result<VerifiedSign1<'a>> {
        let kid = self.kid().ok_or(Error::UnknownKey)?;
        let key = keys.resolve(kid, self.headers.alg)?;
        self.verify(provider, key, external_aad)
    }
}

/// A COSE_Sign1 whose signature verified. It borrows the message.
#[derive(Debug, Clone, Copy)]
pub struct VerifiedSign1<'a> {
    inner: UnverifiedSign1<'a>,
}

impl<'a> VerifiedSign1<'a> {
    /// The algorithm that was verified.
    #[must_use]
    pub const fn algorithm(&self) -> Algorithm {
        self.inner.headers.alg
    }

    /// The `kid`, from either bucket (an unprotected `kid` is not covered by the
    /// signature; it only chose the key).
    #[must_use]
    pub const fn kid(&self) -> Option<&'a [u8]> {
        self.inner.headers.kid
    }

    /// The content type in the protected (signed) header, read from the wire
    /// without decoding the header.
    #[must_use]
    pub const fn protected_content_type(&self) -> Option<ContentTypeRef<'a>> {
        self.inner.headers.protected_content_type
    }

    /// The verified payload.
    #[must_use]
    pub const fn payload(&self) -> &'a [u8] {
        self.inner.payload
    }

    /// The protected (signed) header bytes.
    #[must_use]
    pub const fn protected_bytes(&self) -> &'a [u8] {
        self.inner.headers.protected
    }

    /// The protected (signed) header, decoded.
    ///
    /// # Errors
    /// [`Error::Malformed`] if coset cannot represent a value the profile allows.
    pub fn protected(&self) -> Result<Header> {
        self.inner.protected()
    }

    /// The unprotected header (not covered by the signature), decoded.
    ///
    /// # Errors
    /// As [`Self::protected`].
    pub fn unprotected(&self) -> Result<Header> {
        self.inner.unprotected()
    }
}

/// Parses and verifies a tagged COSE_Sign1 with the key named by its `kid`.
///
/// # Errors
/// Everything [`UnverifiedSign1::parse`] and [`UnverifiedSign1::verify_with_keys`] return.
pub fn verify<'a>(
    provider: &Provider,
    keys: &KeySet<VerifyingKey>,
    msg: &'a [u8],
    opts: &VerifyOptions<'_>,
) -> Result<VerifiedSign1<'a>> {
    UnverifiedSign1::parse(msg, opts)?.verify_with_keys(provider, keys, opts.external_aad)
}

/// Parses and verifies a COSE_Sign1 with one given key.
///
/// # Errors
/// Everything [`UnverifiedSign1::parse`] and [`UnverifiedSign1::verify`] return.
pub fn verify_with_key<'a>(
    provider: &Provider,
    key: &VerifyingKey,
    msg: &'a [u8],
    opts: &VerifyOptions<'_>,
) -> Result<VerifiedSign1<'a>> {
    UnverifiedSign1::parse(msg, opts)?.verify(provider, key, opts.external_aad)
}

/// Signs `payload` as a tagged COSE_Sign1 with a [`Signer`], wherever its key
/// lives (a provider's software key, a PKCS#11 token, a secure element). The
/// protected header carries `alg` and, if the signer has one, `kid`.
///
/// # Errors
/// What the signer reports (nothing is returned without a signature);
/// [`Error::Malformed`] if the header cannot be encoded.
pub fn sign(signer: &dyn Signer, payload: &[u8], external_aad: &[u8]) -> Result<Vec<u8>> {
    sign_with_headers(
        signer,
        Header::default(),
        Header::default(),
        payload,
        external_aad,
        Tagging::Tagged,
    )
}

/// Signs `payload` with caller-supplied header buckets.
///
/// `alg` is always set in the protected bucket from the signer (an `alg` the
/// caller put in either bucket is replaced or removed). The signer's `kid` is
/// added to the protected bucket when neither bucket has a `kid`.
///
/// # Errors
/// As [`sign`].
pub fn sign_with_headers(
    signer: &dyn Signer,
    protected: Header,
    unprotected: Header,
    payload: &[u8],
    external_aad: &[u8],
    tagging: Tagging,
) -> Result<Vec<u8>> {
    let mut protected = protected;
    let mut unprotected = unprotected;
    protected.alg = Some(signer.algorithm().to_cose());
    unprotected.alg = None;
    if protected.key_id.is_empty()
        && unprotected.key_id.is_empty()
        && let Some(kid) = signer.kid()
    {
        protected.key_id = kid.to_vec();
    }
    let protected_bytes = protected.clone().to_vec().map_err(|_| Error::Malformed)?;
    let tbs = cbor::to_be_processed(CONTEXT, &protected_bytes, external_aad, Some(payload));
    let signature = signer.sign(&tbs)?;
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

/// `0x84` (array of 4), then the text "Signature1".
const SIG_STRUCTURE_PREFIX: &[u8] = b"\x84\x6aSignature1";
/// Tag 18, then `0x84` (array of 4).
const TAGGED_SIGN1_PREFIX: &[u8] = &[0xd2, 0x84];
/// `h''`: the empty external AAD.
const EMPTY_BSTR: u8 = 0x40;
/// `{}`: the empty unprotected header.
const EMPTY_MAP: u8 = 0xa0;

/// The sizes of a COSE_Sign1 written in place by [`sign_into`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InPlaceLayout {
    protected_len: usize,
    payload_len: usize,
    signed_len: usize,
    buffer_len: usize,
}

impl InPlaceLayout {
    /// The layout for `signer` and a payload of `payload_len` bytes.
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`] if a length overflows.
    pub fn new(signer: &dyn Signer, payload_len: usize) -> Result<Self> {
        use cbor::write::{Counter, count, head_len, len_arg};
        let protected_len = count(|c: &mut Counter| write_protected(c, signer))?;
        let total = [
            TAGGED_SIGN1_PREFIX.len(),
            head_len(len_arg(protected_len)),
            protected_len,
            1, // the empty unprotected map
            head_len(len_arg(payload_len)),
            payload_len,
            head_len(len_arg(SIGNATURE_LEN)),
            SIGNATURE_LEN,
        ];
        let tbs = [
            SIG_STRUCTURE_PREFIX.len(),
            head_len(len_arg(protected_len)),
            protected_len,
            1, // the empty external AAD
            head_len(len_arg(payload_len)),
            payload_len,
        ];
        let add = |parts: &[usize]| parts.iter().try_fold(0usize, |acc, n| acc.checked_add(*n));
        let signed_len = add(&total).ok_or(Error::BufferTooSmall)?;
        let tbs_len = add(&tbs).ok_or(Error::BufferTooSmall)?;
        Ok(Self {
            protected_len,
            payload_len,
            signed_len,
            buffer_len: signed_len.max(tbs_len),
        })
    }

    /// The length of the COSE_Sign1.
    #[must_use]
    pub const fn signed_len(&self) -> usize {
        self.signed_len
    }

    /// The buffer [`sign_into`] needs: the Sig_structure is built in the same
    /// buffer first, so it may be longer than the message.
    #[must_use]
    pub const fn buffer_len(&self) -> usize {
        self.buffer_len
    }
}

/// `{1: alg, ? 4: kid}`.
fn write_protected<S: cbor::write::Sink + ?Sized>(
    s: &mut S,
    signer: &dyn Signer,
) -> core::result::Result<(), S::Error> {
    use cbor::write::{bytes, int, map};
    map(s, if signer.kid().is_some() { 2 } else { 1 })?;
    int(s, 1)?;
    int(s, signer.algorithm().cose_id())?;
    if let Some(kid) = signer.kid() {
        int(s, 4)?;
        bytes(s, kid)?;
    }
    Ok(())
}

/// Signs a payload as a tagged COSE_Sign1 into `out` without allocating: the
/// protected header is `{1: alg, ? 4: kid}` from `signer`, the unprotected header
/// is empty, there is no external AAD. `write_payload` writes the payload, exactly
/// `layout`'s payload length, into the sink it is given.
///
/// The Sig_structure is built in `out`, signed, then rearranged in place into
/// the COSE_Sign1; `out` must hold [`InPlaceLayout::buffer_len`] bytes. Returns
/// the message length ([`InPlaceLayout::signed_len`]). Firmware signs its
/// evidence this way.
///
/// # Errors
/// [`Error::BufferTooSmall`] if `out` is short; [`Error::InvalidLength`] if
/// `write_payload` writes another length than the layout's; `write_payload`'s
/// errors; the signer's.
pub fn sign_into<E: From<Error>>(
    signer: &dyn Signer,
    layout: &InPlaceLayout,
    write_payload: impl FnOnce(&mut cbor::write::SliceSink<'_>) -> core::result::Result<(), E>,
    out: &mut [u8],
) -> core::result::Result<usize, E> {
    use cbor::write::{Sink as _, SliceSink, bytes, head, len_arg};
    if out.len() < layout.buffer_len {
        return Err(Error::BufferTooSmall.into());
    }
    // Sig_structure = ["Signature1", protected, h'', payload]
    let mut w = SliceSink::new(out);
    w.put(SIG_STRUCTURE_PREFIX)?;
    head(&mut w, cbor::MAJOR_BYTES, len_arg(layout.protected_len))?;
    write_protected(&mut w, signer)?;
    let aad_at = w.position();
    w.put(&[EMPTY_BSTR])?;
    head(&mut w, cbor::MAJOR_BYTES, len_arg(layout.payload_len))?;
    let payload_at = w.position();
    write_payload(&mut w)?;
    let tbs_len = w.position();
    if tbs_len.checked_sub(payload_at) != Some(layout.payload_len) {
        return Err(Error::InvalidLength.into());
    }
    let tbs = out.get(..tbs_len).ok_or(Error::BufferTooSmall)?;
    let signature = signer.sign(tbs)?;
    // COSE_Sign1 = 18([protected, {}, payload, signature]): the protected header
    // and payload move left by the difference of the two prefixes.
    let shift = SIG_STRUCTURE_PREFIX
        .len()
        .checked_sub(TAGGED_SIGN1_PREFIX.len())
        .ok_or(Error::BufferTooSmall)?;
    out.copy_within(SIG_STRUCTURE_PREFIX.len()..tbs_len, TAGGED_SIGN1_PREFIX.len());
    out.get_mut(..TAGGED_SIGN1_PREFIX.len())
        .ok_or(Error::BufferTooSmall)?
        .copy_from_slice(TAGGED_SIGN1_PREFIX);
    let unprotected_at = aad_at.checked_sub(shift).ok_or(Error::BufferTooSmall)?;
    *out.get_mut(unprotected_at).ok_or(Error::BufferTooSmall)? = EMPTY_MAP;
    let sig_at = tbs_len.checked_sub(shift).ok_or(Error::BufferTooSmall)?;
    let tail = out.get_mut(sig_at..layout.signed_len).ok_or(Error::BufferTooSmall)?;
    bytes(&mut SliceSink::new(tail), &signature)?;
    Ok(layout.signed_len)
}
