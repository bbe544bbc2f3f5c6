//! The citysec header profile, applied on the wire bytes without allocating.
//!
//! COSE structures are decoded here by a zero-copy reader over the bytes that the
//! well-formedness pass already checked. Every rule lives in this one place; coset
//! is used to build messages and, on request, to present decoded headers.

use coset::{AsCborValue, Header};

use crate::cbor::{self, Reader};
use crate::{Algorithm, AlgorithmKind, Error, Limits, Result};

/// Header labels of RFC 9052 section 3.1 that this crate implements; they may not
/// appear in `crit`.
const BASE_LABELS: [i64; 6] = [1, 2, 3, 4, 5, 6];

/// Most labels one header bucket may carry (`Error::TooManyEntries` beyond).
///
/// The heads of both header maps are read before the well-formedness pass, so a
/// message whose headers announce more labels is refused in constant time. COSE
/// headers in use carry a handful (alg, crit, content type, kid, IV or Partial IV,
/// typ, a few application labels).
pub const MAX_HEADER_LABELS: u64 = 32;

const ALG: i64 = 1;
const CRIT: i64 = 2;
const CONTENT_TYPE: i64 = 3;
const KID: i64 = 4;
const IV: i64 = 5;
const PARTIAL_IV: i64 = 6;
const COUNTER_SIGNATURE: i64 = 7;

/// Which `crit` labels a verifier implements beyond the RFC 9052 basics.
///
/// A protected `crit` listing anything else, or any of the base labels 1..=6,
/// rejects with [`Error::UnknownCrit`].
#[derive(Clone, Copy, Debug, Default)]
pub struct CritPolicy<'a> {
    /// Integer labels the caller processes itself.
    pub understood: &'a [i64],
}

/// A header label as it appears on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LabelRef<'a> {
    Int(i64),
    Text(&'a [u8]),
}

fn read_label<'a>(r: &mut Reader<'a>) -> Result<LabelRef<'a>> {
    let h = r.head()?;
    match h.major {
        0 => i64::try_from(h.arg).map(LabelRef::Int).map_err(|_| Error::Malformed),
        1 => i64::try_from(h.arg)
            .ok()
            .and_then(|n| (-1i64).checked_sub(n))
            .map(LabelRef::Int)
            .ok_or(Error::Malformed),
        3 => r.take_string(h).map(LabelRef::Text),
        _ => Err(Error::Malformed),
    }
}

/// A content type header value (label 3), borrowed from the message: a CoAP
/// content format number or a media type text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ContentTypeRef<'a> {
    /// A CoAP content format (uint, at most 65535).
    Uint(u16),
    /// A media type text (non-empty).
    Text(&'a str),
}

/// An `alg` value as found on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum AlgValue {
    Int(i64),
    Text,
}

/// What one header bucket carries.
#[derive(Clone, Copy, Debug, Default)]
struct Bucket<'a> {
    alg: Option<AlgValue>,
    content_type: Option<ContentTypeRef<'a>>,
    crit: Option<&'a [u8]>,
    kid: Option<&'a [u8]>,
    iv: Option<&'a [u8]>,
    partial_iv: Option<&'a [u8]>,
}

/// A non-empty byte string value (kid, IV, Partial IV).
fn nonempty_bstr<'a>(r: &mut Reader<'a>) -> Result<&'a [u8]> {
    let h = r.head()?;
    if h.major != 2 || h.arg == 0 {
        return Err(Error::Malformed);
    }
    r.take_string(h)
}

/// Reads the heads of both header maps at the start of an array body and refuses
/// a bucket that announces more than [`MAX_HEADER_LABELS`] labels, without reading
/// further. Anything else wrong with the heads is left to the well-formedness pass,
/// which reports it with its own error.
pub(crate) fn precheck_label_counts(body: &[u8]) -> Result<()> {
    let mut r = Reader::new(body);
    let Ok(array) = r.head() else { return Ok(()) };
    if array.major != 4 {
        return Ok(());
    }
    let Ok(ph) = r.head() else { return Ok(()) };
    if ph.major != 2 {
        return Ok(());
    }
    let Ok(protected) = r.take_string(ph) else {
        return Ok(());
    };
    if let Some(Ok(h)) = (!protected.is_empty()).then(|| Reader::new(protected).head())
        && h.major == 5
        && h.arg > MAX_HEADER_LABELS
    {
        return Err(Error::TooManyEntries);
    }
    match r.head() {
        Ok(h) if h.major == 5 && h.arg > MAX_HEADER_LABELS => Err(Error::TooManyEntries),
        _ => Ok(()),
    }
}

/// Reads one header map (already checked well-formed, without duplicates).
fn parse_bucket(map: &[u8]) -> Result<Bucket<'_>> {
    let mut out = Bucket::default();
    if map.is_empty() {
        return Ok(out);
    }
    let mut r = Reader::new(map);
    let h = r.head()?;
    if h.major != 5 {
        return Err(Error::Malformed);
    }
    for _ in 0..h.arg {
        match read_label(&mut r)? {
            LabelRef::Int(ALG) => {
                let v = r.head()?;
                out.alg = Some(match v.major {
                    0 => AlgValue::Int(i64::try_from(v.arg).map_err(|_| Error::Malformed)?),
                    1 => AlgValue::Int(
                        i64::try_from(v.arg)
                            .ok()
                            .and_then(|n| (-1i64).checked_sub(n))
                            .ok_or(Error::Malformed)?,
                    ),
                    3 => {
                        r.take_string(v)?;
                        AlgValue::Text
                    }
                    _ => return Err(Error::Malformed),
                });
            }
            LabelRef::Int(CRIT) => {
                let start = r.position();
                let v = r.head()?;
                if v.major != 4 || v.arg == 0 {
                    return Err(Error::Malformed);
                }
                for _ in 0..v.arg {
                    read_label(&mut r)?;
                }
                out.crit = Some(map.get(start..r.position()).ok_or(Error::Malformed)?);
            }
            LabelRef::Int(CONTENT_TYPE) => {
                let v = r.head()?;
                out.content_type = Some(match v.major {
                    0 => ContentTypeRef::Uint(u16::try_from(v.arg).map_err(|_| Error::Malformed)?),
                    3 if v.arg > 0 => {
                        let text = r.take_string(v)?;
                        ContentTypeRef::Text(core::str::from_utf8(text).map_err(|_| Error::Malformed)?)
                    }
                    _ => return Err(Error::Malformed),
                });
            }
            LabelRef::Int(KID) => out.kid = Some(nonempty_bstr(&mut r)?),
            LabelRef::Int(IV) => out.iv = Some(nonempty_bstr(&mut r)?),
            LabelRef::Int(PARTIAL_IV) => out.partial_iv = Some(nonempty_bstr(&mut r)?),
            // Counter signatures are not part of the citysec profile.
            LabelRef::Int(COUNTER_SIGNATURE) => return Err(Error::Malformed),
            LabelRef::Int(_) | LabelRef::Text(_) => cbor::skip_checked(&mut r)?,
        }
    }
    if out.iv.is_some() && out.partial_iv.is_some() {
        return Err(Error::InvalidIv);
    }
    Ok(out)
}

/// Whether any label of `unprotected` is also in `protected`: both maps passed the
/// well-formedness pass, so their labels are merged in ascending order in linear
/// time (a label lookup per entry would walk the other map once per label).
fn shares_a_label(protected: &[u8], unprotected: &[u8]) -> Result<bool> {
    if protected.is_empty() || unprotected.is_empty() {
        return Ok(false);
    }
    cbor::maps_share_a_key(protected, unprotected)
}

fn check_crit(crit: &[u8], policy: CritPolicy<'_>) -> Result<()> {
    let mut r = Reader::new(crit);
    let h = r.head()?;
    for _ in 0..h.arg {
        let ok = match read_label(&mut r)? {
            LabelRef::Int(id) => policy.understood.contains(&id) && !BASE_LABELS.contains(&id),
            LabelRef::Text(_) => false,
        };
        if !ok {
            return Err(Error::UnknownCrit);
        }
    }
    Ok(())
}

/// The decoded and checked headers of one COSE structure, borrowing the message.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Headers<'a> {
    /// The protected header bytes (the bstr's content, maybe empty).
    pub(crate) protected: &'a [u8],
    /// The unprotected header map, as encoded.
    pub(crate) unprotected: &'a [u8],
    pub(crate) alg: Algorithm,
    /// The content type of the protected bucket.
    pub(crate) protected_content_type: Option<ContentTypeRef<'a>>,
    pub(crate) kid: Option<&'a [u8]>,
    pub(crate) iv: Option<&'a [u8]>,
    pub(crate) partial_iv: Option<&'a [u8]>,
}

/// Reads `[protected: bstr, unprotected: map, ...]` from the start of an array body
/// and applies the profile. Returns the headers and a reader positioned after them.
///
/// Order of checks: unsupported protected `alg`; a label in both buckets; `crit`;
/// missing protected `alg`; the algorithm's kind.
pub(crate) fn read<'a>(
    r: &mut Reader<'a>,
    limits: &Limits,
    crit: CritPolicy<'_>,
    kind: AlgorithmKind,
) -> Result<Headers<'a>> {
    let ph = r.head()?;
    if ph.major != 2 {
        return Err(Error::Malformed);
    }
    let protected = r.take_string(ph)?;
    if !protected.is_empty() {
        cbor::check_well_formed(protected, limits, cbor::Tags::Forbid)?;
    }
    let u_start = r.position();
    cbor::skip_checked(r)?;
    let unprotected = r.slice_from(u_start)?;

    let p = parse_bucket(protected)?;
    let u = parse_bucket(unprotected)?;

    if let Some(a) = p.alg {
        let supported = match a {
            AlgValue::Int(id) => Algorithm::from_cose_id(id).is_some(),
            AlgValue::Text => false,
        };
        if !supported {
            return Err(Error::UnsupportedAlgorithm);
        }
    }
    if shares_a_label(protected, unprotected)? {
        return Err(Error::DuplicateHeaderLabel);
    }
    if u.crit.is_some() {
        return Err(Error::CritNotProtected);
    }
    if let Some(c) = p.crit {
        check_crit(c, crit)?;
    }
    let alg = match p.alg {
        None => return Err(Error::AlgNotProtected),
        Some(AlgValue::Int(id)) => Algorithm::from_cose_id(id).ok_or(Error::UnsupportedAlgorithm)?,
        Some(AlgValue::Text) => return Err(Error::UnsupportedAlgorithm),
    };
    if alg.kind() != kind {
        return Err(Error::UnsupportedAlgorithm);
    }
    let iv = p.iv.or(u.iv);
    let partial_iv = p.partial_iv.or(u.partial_iv);
    if iv.is_some() && partial_iv.is_some() {
        return Err(Error::InvalidIv);
    }
    Ok(Headers {
        protected,
        unprotected,
        alg,
        protected_content_type: p.content_type,
        kid: p.kid.or(u.kid),
        iv,
        partial_iv,
    })
}

/// Decodes a header map with coset, for display; the profile was already applied.
pub(crate) fn decode(map: &[u8]) -> Result<Header> {
    if map.is_empty() {
        return Ok(Header::default());
    }
    let value = cbor::to_value(map).map_err(|_| Error::Malformed)?;
    Header::from_cbor_value(value).map_err(|e| match e {
        coset::CoseError::DuplicateMapKey => Error::DuplicateMapKey,
        _ => Error::Malformed,
    })
}
