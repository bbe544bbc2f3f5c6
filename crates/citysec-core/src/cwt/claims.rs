//! The CWT claims set (RFC 8392): the registered claims, the holder binding
//! (`cnf`, RFC 8747) and the status reference (draft-ietf-oauth-status-list),
//! with every other claim kept as it came. Profiles (access credentials in
//! citysec-credential, endorsements and attestation results in citysec-attest)
//! add their claims on top through [`Profile`], [`ClaimsSet::from_cbor_with`] and
//! [`ClaimsSet::to_cbor_with`].

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Debug;

use crate::cbor::{
    Head, MAJOR_ARRAY, MAJOR_BYTES, MAJOR_MAP, MAJOR_NINT, MAJOR_TAG, MAJOR_TEXT, MAJOR_UINT, Reader, Tags,
    check_well_formed,
};
use crate::{Key, Limits, Timestamp, VerifyingKey};
use coset::cbor::value::Value;
use coset::{CborSerializable, CoseKey};

use crate::cwt::{Error, Result};

/// Registered CWT claim keys (RFC 8392 section 4, RFC 8747 for `cnf`, the
/// status list draft for `status`).
pub mod keys {
    /// `iss`: the issuer.
    pub const ISS: i64 = 1;
    /// `sub`: the subject (the credential holder).
    pub const SUB: i64 = 2;
    /// `aud`: the audience (a text or an array of texts).
    pub const AUD: i64 = 3;
    /// `exp`: expiry, seconds since the epoch.
    pub const EXP: i64 = 4;
    /// `nbf`: not before, seconds since the epoch.
    pub const NBF: i64 = 5;
    /// `iat`: issued at, seconds since the epoch.
    pub const IAT: i64 = 6;
    /// `cti`: the CWT id (bytes).
    pub const CTI: i64 = 7;
    /// `cnf`: the confirmation (holder) key (RFC 8747).
    pub const CNF: i64 = 8;
    /// `status`: the Token Status List reference (draft-ietf-oauth-status-list).
    pub const STATUS: i64 = 65535;
}

/// A claim key that is not one of the registered or profile claims.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ClaimKey {
    /// An integer key.
    Int(i64),
    /// A text key.
    Text(String),
}

/// A token's reference into a Token Status List.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct StatusRef {
    /// The index of this token's entry.
    pub idx: u64,
    /// The URI of the status list (its `sub`).
    pub uri: String,
}

/// The holder binding of a token (RFC 8747).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Confirmation {
    /// The holder's public key, embedded.
    Key(VerifyingKey),
    /// Only the holder key's id; the verifier must know the key.
    KeyId(Vec<u8>),
}

/// The claims of a CWT: the registered claims in their own fields, every other
/// claim in `other`, in the order it came.
#[derive(Clone, Debug, PartialEq, Default)]
#[non_exhaustive]
pub struct ClaimsSet {
    /// `iss` (1).
    pub iss: Option<String>,
    /// `sub` (2).
    pub sub: Option<String>,
    /// `aud` (3): one or more audiences.
    pub aud: Vec<String>,
    /// `exp` (4).
    pub exp: Option<Timestamp>,
    /// `nbf` (5).
    pub nbf: Option<Timestamp>,
    /// `iat` (6).
    pub iat: Option<Timestamp>,
    /// `cti` (7).
    pub cti: Option<Vec<u8>>,
    /// `cnf` (8).
    pub cnf: Option<Confirmation>,
    /// `status` (65535): where to look up revocation.
    pub status: Option<StatusRef>,
    /// Every other claim (a profile's claims excepted), kept as it came.
    pub other: Vec<(ClaimKey, Value)>,
}

/// The claims a profile puts in a CWT: a [`ClaimsSet`] with, possibly, claims of
/// its own. Trust anchors decode a verified payload into their domain's profile
/// ([`TrustDomain::Claims`](crate::cwt::domain::TrustDomain::Claims)); an
/// [`Issuer`](crate::cwt::Issuer) encodes one.
pub trait Profile: Clone + Debug + PartialEq + Send + Sync + Sized + 'static {
    /// The registered claims.
    fn claims_set(&self) -> &ClaimsSet;
    /// The registered claims, to change.
    fn claims_set_mut(&mut self) -> &mut ClaimsSet;
    /// The payload bytes.
    ///
    /// # Errors
    /// As [`ClaimsSet::to_cbor`], and the profile's own.
    fn to_cbor(&self) -> Result<Vec<u8>>;
    /// Decodes a payload.
    ///
    /// # Errors
    /// As [`ClaimsSet::from_cbor`], and the profile's own.
    fn from_cbor(bytes: &[u8], limits: &Limits) -> Result<Self>;
}

impl Profile for ClaimsSet {
    fn claims_set(&self) -> &ClaimsSet {
        self
    }
    fn claims_set_mut(&mut self) -> &mut ClaimsSet {
        self
    }
    fn to_cbor(&self) -> Result<Vec<u8>> {
        Self::to_cbor(self)
    }
    fn from_cbor(bytes: &[u8], limits: &Limits) -> Result<Self> {
        Self::from_cbor(bytes, limits)
    }
}

impl ClaimsSet {
    /// An empty claims set.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The value of an unknown claim, if present.
    #[must_use]
    pub fn other_claim(&self, key: &ClaimKey) -> Option<&Value> {
        self.other.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Encodes the claims as a CBOR map: the registered claims in key order, then
    /// `other` in its order.
    ///
    /// # Errors
    /// [`Error::MalformedClaims`] if a field cannot be encoded (a cnf key coset
    /// refuses) or [`Error::InvalidTime`] for a time past year 9999.
    pub fn to_cbor(&self) -> Result<Vec<u8>> {
        self.to_cbor_with(Vec::new())
    }

    /// As [`Self::to_cbor`], with a profile's claims (`(key, value)`, in the given
    /// order) between the registered claims and `other`.
    ///
    /// # Errors
    /// As [`Self::to_cbor`].
    pub fn to_cbor_with(&self, profile: Vec<(i64, Value)>) -> Result<Vec<u8>> {
        let mut m: Vec<(Value, Value)> = Vec::new();
        let k = |key: i64| Value::from(key);
        if let Some(v) = &self.iss {
            m.push((k(keys::ISS), Value::Text(v.clone())));
        }
        if let Some(v) = &self.sub {
            m.push((k(keys::SUB), Value::Text(v.clone())));
        }
        match self.aud.as_slice() {
            [] => {}
            [one] => m.push((k(keys::AUD), Value::Text(one.clone()))),
            many => m.push((
                k(keys::AUD),
                Value::Array(many.iter().cloned().map(Value::Text).collect()),
            )),
        }
        for (key, t) in [(keys::EXP, self.exp), (keys::NBF, self.nbf), (keys::IAT, self.iat)] {
            if let Some(t) = t {
                if t > Timestamp::MAX {
                    return Err(Error::InvalidTime);
                }
                m.push((k(key), Value::from(t.as_unix_seconds())));
            }
        }
        if let Some(v) = &self.cti {
            m.push((k(keys::CTI), Value::Bytes(v.clone())));
        }
        if let Some(cnf) = &self.cnf {
            let inner = match cnf {
                Confirmation::Key(key) => {
                    let bytes = Key::Verifying(key.clone()).to_cose_key()?;
                    let cose = CoseKey::from_slice(&bytes).map_err(|_| Error::MalformedClaims)?;
                    let v = coset::AsCborValue::to_cbor_value(cose).map_err(|_| Error::MalformedClaims)?;
                    (Value::from(1), v)
                }
                Confirmation::KeyId(kid) => (Value::from(3), Value::Bytes(kid.clone())),
            };
            m.push((k(keys::CNF), Value::Map(alloc::vec![inner])));
        }
        if let Some(s) = &self.status {
            let inner = Value::Map(alloc::vec![
                (Value::Text("idx".into()), Value::from(s.idx)),
                (Value::Text("uri".into()), Value::Text(s.uri.clone())),
            ]);
            m.push((
                k(keys::STATUS),
                Value::Map(alloc::vec![(Value::Text("status_list".into()), inner)]),
            ));
        }
        m.extend(profile.into_iter().map(|(key, v)| (k(key), v)));
        for (key, v) in &self.other {
            let kv = match key {
                ClaimKey::Int(i) => Value::from(*i),
                ClaimKey::Text(t) => Value::Text(t.clone()),
            };
            m.push((kv, v.clone()));
        }
        let mut out = Vec::new();
        crate::cbor::write::value(&mut out, &Value::Map(m)).map_err(|_| Error::MalformedClaims)?;
        Ok(out)
    }

    /// Decodes a claims map: well-formed, definite, no duplicate keys, no tags,
    /// within `limits`; registered claims must have their types; unknown claims
    /// are kept.
    ///
    /// The registered claims are read straight from the bytes; only unknown
    /// claims (and `cnf`'s COSE_Key) are decoded into [`Value`]s.
    ///
    /// # Errors
    /// [`Error::Core`] with the well-formedness error; [`Error::MalformedClaims`];
    /// [`Error::InvalidTime`].
    pub fn from_cbor(bytes: &[u8], limits: &Limits) -> Result<Self> {
        Self::from_cbor_with(bytes, limits, |_, _| Ok(false))
    }

    /// As [`Self::from_cbor`], offering each claim with an integer key that is
    /// not a registered one to `profile` first: it reads the value from the
    /// [`ClaimReader`] and returns `true`, or returns `false` without reading
    /// (the claim then goes to `other`).
    ///
    /// # Errors
    /// As [`Self::from_cbor`], and `profile`'s.
    pub fn from_cbor_with(
        bytes: &[u8],
        limits: &Limits,
        mut profile: impl FnMut(i64, &mut ClaimReader<'_>) -> Result<bool>,
    ) -> Result<Self> {
        check_well_formed(bytes, limits, Tags::Forbid)?;
        if limits.max_depth >= VALUE_NESTING_LIMIT {
            // Only reachable with limits above the default: keeps refusing what the
            // `Value` decoder (nesting limit 256) refused.
            check_value_nesting(&mut Reader::new(bytes), 0)?;
        }
        let mut r = ClaimReader(Reader::new(bytes));
        let map = r.head()?;
        if map.major != MAJOR_MAP {
            return Err(Error::MalformedClaims);
        }
        let mut c = Self::default();
        for _ in 0..map.arg {
            let key = r.head()?;
            let key = match key.major {
                MAJOR_UINT | MAJOR_NINT => int_of(key)?,
                MAJOR_TEXT => {
                    // Every registered and profile claim has an integer key.
                    let name = String::from(r.text_of(key)?);
                    c.other.push((ClaimKey::Text(name), r.value()?));
                    continue;
                }
                _ => return Err(Error::MalformedClaims),
            };
            match key {
                keys::ISS => c.iss = Some(r.text()?),
                keys::SUB => c.sub = Some(r.text()?),
                keys::AUD => c.aud = audience(&mut r)?,
                keys::EXP => c.exp = Some(time(&mut r)?),
                keys::NBF => c.nbf = Some(time(&mut r)?),
                keys::IAT => c.iat = Some(time(&mut r)?),
                keys::CTI => c.cti = Some(r.bytes()?.to_vec()),
                keys::CNF => c.cnf = Some(confirmation(&mut r)?),
                keys::STATUS => c.status = Some(status_ref(&mut r)?),
                other => {
                    if !profile(other, &mut r)? {
                        c.other.push((ClaimKey::Int(other), r.value()?));
                    }
                }
            }
        }
        Ok(c)
    }
}

/// Reads a profile claim's value inside [`ClaimsSet::from_cbor_with`], over a map
/// that already passed the well-formedness check. Every mismatch is
/// [`Error::MalformedClaims`].
#[derive(Debug)]
pub struct ClaimReader<'a>(Reader<'a>);

impl<'a> ClaimReader<'a> {
    /// The next head.
    ///
    /// # Errors
    /// [`Error::MalformedClaims`].
    pub fn head(&mut self) -> Result<Head> {
        self.0.head().map_err(|_| Error::MalformedClaims)
    }

    fn string(&mut self, h: Head) -> Result<&'a [u8]> {
        self.0.take_string(h).map_err(|_| Error::MalformedClaims)
    }

    fn text_of(&mut self, h: Head) -> Result<&'a str> {
        core::str::from_utf8(self.string(h)?).map_err(|_| Error::MalformedClaims)
    }

    /// A text.
    ///
    /// # Errors
    /// [`Error::MalformedClaims`] for another item.
    pub fn text(&mut self) -> Result<String> {
        let h = self.head()?;
        if h.major != MAJOR_TEXT {
            return Err(Error::MalformedClaims);
        }
        self.text_of(h).map(String::from)
    }

    /// A byte string.
    ///
    /// # Errors
    /// [`Error::MalformedClaims`] for another item.
    pub fn bytes(&mut self) -> Result<&'a [u8]> {
        let h = self.head()?;
        if h.major != MAJOR_BYTES {
            return Err(Error::MalformedClaims);
        }
        self.string(h)
    }

    /// An unsigned integer (a negative one is refused too).
    ///
    /// # Errors
    /// [`Error::MalformedClaims`] for another item.
    pub fn uint(&mut self) -> Result<u64> {
        let h = self.head()?;
        if h.major != MAJOR_UINT {
            return Err(Error::MalformedClaims);
        }
        Ok(h.arg)
    }

    /// The length of an array.
    ///
    /// # Errors
    /// [`Error::MalformedClaims`] for another item.
    pub fn array(&mut self) -> Result<u64> {
        let h = self.head()?;
        if h.major != MAJOR_ARRAY {
            return Err(Error::MalformedClaims);
        }
        Ok(h.arg)
    }

    /// An array of texts.
    ///
    /// # Errors
    /// [`Error::MalformedClaims`] for another item.
    pub fn text_array(&mut self) -> Result<Vec<String>> {
        let n = self.array()?;
        self.texts(n)
    }

    /// `count` texts (the count was checked against the bytes present and the
    /// entry limit).
    fn texts(&mut self, count: u64) -> Result<Vec<String>> {
        let mut out = Vec::with_capacity(usize::try_from(count).map_err(|_| Error::MalformedClaims)?);
        for _ in 0..count {
            out.push(self.text()?);
        }
        Ok(out)
    }

    /// Skips one item.
    ///
    /// # Errors
    /// [`Error::MalformedClaims`].
    pub fn skip(&mut self) -> Result<()> {
        crate::cbor::skip_checked(&mut self.0).map_err(|_| Error::MalformedClaims)
    }

    /// The next item as a ciborium [`Value`], built by citysec-core's serde-free
    /// reader (the same tree ciborium's `from_reader` makes).
    ///
    /// # Errors
    /// [`Error::MalformedClaims`].
    pub fn value(&mut self) -> Result<Value> {
        let start = self.0.position();
        self.skip()?;
        let item = self.0.slice_from(start).map_err(|_| Error::MalformedClaims)?;
        crate::cbor::to_value(item).map_err(|_| Error::MalformedClaims)
    }

    /// The string of head `h`, which must be of major type `major`.
    fn string_of(&mut self, h: Head, major: u8) -> Result<&'a [u8]> {
        if h.major != major {
            return Err(Error::MalformedClaims);
        }
        self.string(h)
    }

    /// Skips the rest of the item whose head `h` was just read.
    fn skip_rest(&mut self, h: Head) -> Result<()> {
        crate::cbor::skip_after_head(&mut self.0, h).map_err(|_| Error::MalformedClaims)
    }

    /// The bytes of a byte string with head `h`, or `None` (the item skipped)
    /// for another item.
    fn bytes_or_skip(&mut self, h: Head) -> Result<Option<&'a [u8]>> {
        if h.major == MAJOR_BYTES {
            return self.string(h).map(Some);
        }
        self.skip_rest(h)?;
        Ok(None)
    }

    /// Reads a map key and tells whether it is the text `name` (keys are integers
    /// or strings: the well-formedness pass refused others).
    fn key_is(&mut self, name: &str) -> Result<bool> {
        let h = self.head()?;
        match h.major {
            MAJOR_TEXT => Ok(self.string(h)? == name.as_bytes()),
            MAJOR_BYTES => self.string(h).map(|_| false),
            _ => Ok(false),
        }
    }
}

/// The container nesting ciborium's `from_reader` refuses beyond.
const VALUE_NESTING_LIMIT: usize = 256;

/// Refuses a container nested [`VALUE_NESTING_LIMIT`] deep or deeper (the top item is
/// at `depth` 0); recurses at most that deep.
fn check_value_nesting(r: &mut Reader<'_>, depth: usize) -> Result<()> {
    let h = r.head().map_err(|_| Error::MalformedClaims)?;
    let items = match h.major {
        MAJOR_BYTES | MAJOR_TEXT => {
            r.take_string(h).map_err(|_| Error::MalformedClaims)?;
            return Ok(());
        }
        MAJOR_ARRAY => h.arg,
        MAJOR_MAP => h.arg.checked_mul(2).ok_or(Error::MalformedClaims)?,
        MAJOR_TAG => 1,
        _ => return Ok(()),
    };
    if depth >= VALUE_NESTING_LIMIT {
        return Err(Error::MalformedClaims);
    }
    let inner = depth.checked_add(1).ok_or(Error::MalformedClaims)?;
    for _ in 0..items {
        check_value_nesting(r, inner)?;
    }
    Ok(())
}

/// A text or a non-empty array of texts.
fn audience(r: &mut ClaimReader<'_>) -> Result<Vec<String>> {
    let h = r.head()?;
    match h.major {
        MAJOR_TEXT => Ok(alloc::vec![String::from(r.text_of(h)?)]),
        MAJOR_ARRAY if h.arg > 0 => r.texts(h.arg),
        _ => Err(Error::MalformedClaims),
    }
}

/// A NumericDate: an integer in 0..=253402300799; floats, negatives and larger
/// values are refused.
fn time(r: &mut ClaimReader<'_>) -> Result<Timestamp> {
    let h = r.head()?;
    if h.major != MAJOR_UINT {
        return Err(Error::InvalidTime);
    }
    let t = Timestamp::from_unix_seconds(h.arg);
    if t > Timestamp::MAX {
        return Err(Error::InvalidTime);
    }
    Ok(t)
}

/// `cnf`: `{1: COSE_Key}` (the holder's public key) or `{3: kid}`, read straight
/// from the bytes (docs/credential-profile.md, "The holder key").
fn confirmation(r: &mut ClaimReader<'_>) -> Result<Confirmation> {
    let entries = r.head()?;
    if entries.major != MAJOR_MAP || entries.arg != 1 {
        return Err(Error::MalformedClaims);
    }
    let label = r.head()?;
    match (label.major, label.arg) {
        (MAJOR_UINT, 1) => holder_key(r).map(Confirmation::Key),
        (MAJOR_UINT, 3) => {
            let kid = r.bytes()?;
            if kid.is_empty() {
                return Err(Error::MalformedClaims);
            }
            Ok(Confirmation::KeyId(kid.to_vec()))
        }
        _ => Err(Error::MalformedClaims),
    }
}

/// COSE_Key labels and values (RFC 9052, RFC 9053) the holder key uses.
mod cose_key {
    pub(super) const KTY: i64 = 1;
    pub(super) const KID: i64 = 2;
    pub(super) const ALG: i64 = 3;
    pub(super) const KEY_OPS: i64 = 4;
    pub(super) const BASE_IV: i64 = 5;
    pub(super) const CRV: i64 = -1;
    pub(super) const X: i64 = -2;
    pub(super) const Y: i64 = -3;
    pub(super) const D: i64 = -4;
    pub(super) const KTY_OKP: u64 = 1;
    pub(super) const KTY_EC2: u64 = 2;
    pub(super) const CRV_P256: i64 = 1;
    pub(super) const CRV_X25519: i64 = 4;
    pub(super) const CRV_ED25519: i64 = 6;
}

/// What a holder key's COSE_Key holds, as read.
#[derive(Default)]
struct HolderKeyParts<'a> {
    kty: Option<u64>,
    kid: Option<&'a [u8]>,
    /// `Some(Some(id))` for an integer `alg`, `Some(None)` for a text one.
    alg: Option<Option<i64>>,
    /// `Some(Some(n))` for an integer `crv`, `Some(None)` for another item.
    crv: Option<Option<i64>>,
    x: Option<Option<&'a [u8]>>,
    y: Option<Option<&'a [u8]>>,
    private: bool,
}

/// A holder's public key: an OKP Ed25519 or EC2 P-256 COSE_Key without a
/// private part. Structure errors are [`Error::MalformedClaims`]; the key's own
/// (a missing or bad coordinate, an unsupported curve, an `alg` that does not
/// match, a point off the curve) are `Error::Core`.
#[inline(never)]
fn holder_key(r: &mut ClaimReader<'_>) -> Result<VerifyingKey> {
    use cose_key as k;
    let map = r.head()?;
    if map.major != MAJOR_MAP {
        return Err(Error::MalformedClaims);
    }
    let mut p = HolderKeyParts::default();
    for _ in 0..map.arg {
        let label = r.head()?;
        let label = match label.major {
            MAJOR_UINT | MAJOR_NINT => int_of(label)?,
            MAJOR_TEXT => {
                // Text labels are no COSE_Key parameter this key uses.
                r.text_of(label)?;
                r.skip()?;
                continue;
            }
            _ => return Err(Error::MalformedClaims),
        };
        let value = r.head()?;
        match label {
            k::KTY => {
                if value.major != MAJOR_UINT {
                    return Err(Error::MalformedClaims);
                }
                p.kty = Some(value.arg);
            }
            k::KID => p.kid = Some(nonempty(r.string_of(value, MAJOR_BYTES)?)?),
            k::ALG => {
                p.alg = Some(match value.major {
                    MAJOR_UINT | MAJOR_NINT => Some(int_of(value)?),
                    MAJOR_TEXT => {
                        r.text_of(value)?;
                        None
                    }
                    _ => return Err(Error::MalformedClaims),
                })
            }
            k::KEY_OPS => {
                // Not used for a holder key; a non-empty array of operations.
                if value.major != MAJOR_ARRAY || value.arg == 0 {
                    return Err(Error::MalformedClaims);
                }
                for _ in 0..value.arg {
                    let op = r.head()?;
                    match op.major {
                        MAJOR_UINT | MAJOR_NINT => {}
                        MAJOR_TEXT => {
                            r.text_of(op)?;
                        }
                        _ => return Err(Error::MalformedClaims),
                    }
                }
            }
            k::BASE_IV => {
                nonempty(r.string_of(value, MAJOR_BYTES)?)?;
            }
            k::CRV => {
                p.crv = Some(match value.major {
                    MAJOR_UINT | MAJOR_NINT => Some(int_of(value)?),
                    _ => {
                        r.skip_rest(value)?;
                        None
                    }
                });
            }
            k::X => p.x = Some(r.bytes_or_skip(value)?),
            k::Y => p.y = Some(r.bytes_or_skip(value)?),
            k::D => {
                r.skip_rest(value)?;
                p.private = true;
            }
            _ => r.skip_rest(value)?,
        }
    }
    let kty = p.kty.ok_or(Error::MalformedClaims)?;
    if kty != k::KTY_OKP && kty != k::KTY_EC2 {
        return Err(Error::MalformedClaims);
    }
    // A holder's private key in a credential is a leak, not a binding.
    if p.private {
        return Err(Error::MalformedClaims);
    }
    let alg = match p.alg {
        None => None,
        Some(Some(id)) => Some(crate::Algorithm::from_cose_id(id).ok_or(crate::Error::UnsupportedAlgorithm)?),
        Some(None) => return Err(Error::Core(crate::Error::UnsupportedAlgorithm)),
    };
    let crv = p.crv.flatten().ok_or(crate::Error::InvalidKey)?;
    let x = coordinate(p.x)?;
    let key = match (kty, crv) {
        (k::KTY_OKP, k::CRV_ED25519) => {
            if alg.is_some_and(|a| a != crate::Algorithm::EdDSA) {
                return Err(Error::Core(crate::Error::KeyAlgMismatch));
            }
            VerifyingKey::ed25519(&x)?
        }
        // An X25519 key agrees on secrets; it cannot sign a presentation.
        (k::KTY_OKP, k::CRV_X25519) => return Err(Error::MalformedClaims),
        (k::KTY_EC2, k::CRV_P256) => {
            if alg.is_some_and(|a| a != crate::Algorithm::ES256) {
                return Err(Error::Core(crate::Error::KeyAlgMismatch));
            }
            VerifyingKey::p256(&x, &coordinate(p.y)?)?
        }
        _ => return Err(Error::Core(crate::Error::UnsupportedAlgorithm)),
    };
    Ok(match p.kid {
        Some(kid) => key.with_kid(kid.to_vec()),
        None => key,
    })
}

/// A 32-byte coordinate: missing, not a byte string or another length is
/// `Core(InvalidKey)`.
fn coordinate(c: Option<Option<&[u8]>>) -> Result<[u8; 32]> {
    c.flatten()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .ok_or(Error::Core(crate::Error::InvalidKey))
}

fn nonempty(b: &[u8]) -> Result<&[u8]> {
    if b.is_empty() {
        Err(Error::MalformedClaims)
    } else {
        Ok(b)
    }
}

/// The integer of an integer head (major 0 or 1) within `i64`
/// ([`Error::MalformedClaims`] beyond).
fn int_of(h: Head) -> Result<i64> {
    let n = i64::try_from(h.arg).map_err(|_| Error::MalformedClaims)?;
    if h.major == MAJOR_NINT {
        (-1i64).checked_sub(n).ok_or(Error::MalformedClaims)
    } else {
        Ok(n)
    }
}

/// `{"status_list": {"idx": uint, "uri": text, ...}, ...}`; other entries are ignored.
fn status_ref(r: &mut ClaimReader<'_>) -> Result<StatusRef> {
    let outer = r.head()?;
    if outer.major != MAJOR_MAP {
        return Err(Error::MalformedClaims);
    }
    let mut found = None;
    for _ in 0..outer.arg {
        if !r.key_is("status_list")? {
            r.skip()?;
            continue;
        }
        let fields = r.head()?;
        if fields.major != MAJOR_MAP {
            return Err(Error::MalformedClaims);
        }
        let (mut idx, mut uri) = (None, None);
        for _ in 0..fields.arg {
            let h = r.head()?;
            let name = match h.major {
                MAJOR_TEXT => r.string(h)?,
                MAJOR_BYTES => {
                    r.string(h)?;
                    &[]
                }
                _ => &[],
            };
            match name {
                b"idx" => idx = Some(r.uint()?),
                b"uri" => uri = Some(r.text()?),
                _ => r.skip()?,
            }
        }
        found = Some(StatusRef {
            idx: idx.ok_or(Error::MalformedClaims)?,
            uri: uri.ok_or(Error::MalformedClaims)?,
        });
    }
    found.ok_or(Error::MalformedClaims)
}
