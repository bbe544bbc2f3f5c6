//! Revocation with a Token Status List (draft-ietf-oauth-status-list), CWT form.
//!
//! A status list is a bit array with 1, 2, 4 or 8 bits per credential (entry `i`
//! starts at bit `i * bits`, least significant bit first), zlib-compressed into
//! `lst` and signed by the credential issuer as a CWT:
//!
//! ```text
//! protected: {1: alg, 4: kid, 16: "application/statuslist+cwt"}
//! payload:   {1: iss, 2: uri (sub), 6: iat, 4: exp, 65534: ttl,
//!             65533: {"bits": 1|2|4|8, "lst": zlib(bytes)}}
//! ```
//!
//! Status values: 0 valid, 1 invalid (revoked), 2 suspended; any other value is
//! treated as revoked (fail closed). citysec requires `exp` on status lists so a
//! stale list cannot be used forever.
//!
//! The payload must be in RFC 8949 §4.2.1 deterministic encoding (keys in the
//! order 1, 2, 4, 6, 65533, 65534; inside 65533 `"lst"` before `"bits"`);
//! anything else is refused with `Error::Core(NotDeterministic)`.
//!
//! **Freshness.** [`StatusListVerifier::accept_status_list`] refuses a list older (by `iat`)
//! than the one held for its URI in a [`StateStore`] ([`Error::StaleStatusList`]),
//! accepts the held list again (same `iat`, same payload) without a write, refuses
//! another list with the held `iat` ([`Error::StatusListConflict`]) and records a
//! newer one before returning it. A verifier with [`TrustAnchors::max_status_age`](crate::cwt::TrustAnchors::max_status_age)
//! also refuses, when checking a credential, a list whose age (`now - iat`)
//! exceeds that bound or the list's `ttl` ([`Error::StatusListTooOld`]).

use alloc::string::String;
use alloc::vec::Vec;

use crate::Timestamp;
use crate::cbor::{Tags, check_deterministic};
use crate::state::{HeldStatusList, StateStore};
use coset::Header;
use coset::cbor::value::Value;
use sha2::{Digest as _, Sha256};

use crate::cwt::claims::keys;
use crate::cwt::domain::TrustDomain;
use crate::cwt::{Error, Issuer, Result, StatusListVerifier, TrustAnchors};

/// CWT claim key of the status list (draft-ietf-oauth-status-list).
pub const STATUS_LIST_CLAIM: i64 = 65533;
/// CWT claim key of the time to live.
pub const TTL_CLAIM: i64 = 65534;
/// The `typ` header (label 16) of a status list token.
pub const STATUS_LIST_TYP: &str = "application/statuslist+cwt";
/// Most entries a verifier decompresses by default (16 Mi entries).
pub const DEFAULT_MAX_ENTRIES: usize = 1 << 24;

/// Status value: valid.
pub const VALID: u8 = 0;
/// Status value: invalid (revoked).
pub const INVALID: u8 = 1;
/// Status value: suspended.
pub const SUSPENDED: u8 = 2;

/// A status list: `len` entries of `bits` bits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusList {
    bits: u8,
    len: usize,
    bytes: Vec<u8>,
}

impl StatusList {
    /// A list of `len` valid entries with `bits` (1, 2, 4 or 8) bits each.
    ///
    /// # Errors
    /// [`Error::MalformedStatusList`] for other widths or a size that overflows.
    pub fn new(bits: u8, len: usize) -> Result<Self> {
        if !matches!(bits, 1 | 2 | 4 | 8) {
            return Err(Error::MalformedStatusList);
        }
        let total_bits = len.checked_mul(usize::from(bits)).ok_or(Error::MalformedStatusList)?;
        let n = total_bits.div_ceil(8);
        Ok(Self {
            bits,
            len,
            bytes: alloc::vec![0u8; n],
        })
    }

    /// Bits per entry.
    #[must_use]
    pub const fn bits(&self) -> u8 {
        self.bits
    }

    /// Number of entries.
    #[must_use]
    pub const fn len(&self) -> usize {
        self.len
    }

    /// Whether the list has no entries.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn locate(&self, idx: usize) -> Option<(usize, u32, u8)> {
        if idx >= self.len {
            return None;
        }
        let bit = idx.checked_mul(usize::from(self.bits))?;
        let byte = bit / 8;
        let shift = u32::try_from(bit % 8).ok()?;
        let mask = u8::try_from((1u16 << self.bits).checked_sub(1)?).ok()?;
        Some((byte, shift, mask))
    }

    /// The status of entry `idx`, or `None` outside the list.
    #[must_use]
    pub fn get(&self, idx: usize) -> Option<u8> {
        let (byte, shift, mask) = self.locate(idx)?;
        self.bytes.get(byte).map(|b| (b >> shift) & mask)
    }

    /// Sets entry `idx` to `status`.
    ///
    /// # Errors
    /// [`Error::StatusIndexOutOfRange`] outside the list; [`Error::MalformedStatusList`]
    /// if `status` does not fit in the entry width.
    pub fn set(&mut self, idx: usize, status: u8) -> Result<()> {
        let (byte, shift, mask) = self.locate(idx).ok_or(Error::StatusIndexOutOfRange)?;
        if status & !mask != 0 {
            return Err(Error::MalformedStatusList);
        }
        let b = self.bytes.get_mut(byte).ok_or(Error::StatusIndexOutOfRange)?;
        *b = (*b & !(mask << shift)) | (status << shift);
        Ok(())
    }

    /// The zlib-compressed bytes (`lst`).
    #[must_use]
    pub fn compressed(&self) -> Vec<u8> {
        miniz_oxide::deflate::compress_to_vec_zlib(&self.bytes, 9)
    }

    /// A list from its compressed bytes. The entry count is the decompressed size
    /// times `8 / bits`; decompression stops (and fails) beyond `max_entries`.
    ///
    /// # Errors
    /// [`Error::MalformedStatusList`] for a bad width, bad zlib data or too many entries.
    pub fn from_compressed(bits: u8, lst: &[u8], max_entries: usize) -> Result<Self> {
        if !matches!(bits, 1 | 2 | 4 | 8) {
            return Err(Error::MalformedStatusList);
        }
        let max_bytes = max_entries
            .checked_mul(usize::from(bits))
            .ok_or(Error::MalformedStatusList)?
            / 8;
        let bytes = miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(lst, max_bytes)
            .map_err(|_| Error::MalformedStatusList)?;
        let per_byte = 8usize
            .checked_div(usize::from(bits))
            .ok_or(Error::MalformedStatusList)?;
        let len = bytes.len().checked_mul(per_byte).ok_or(Error::MalformedStatusList)?;
        Ok(Self { bits, len, bytes })
    }

    /// Signs this list as a status list token for `uri`, valid from `iat` to `exp`,
    /// with an optional `ttl` (seconds a relying party may cache it).
    ///
    /// # Errors
    /// [`Error::InvalidTime`] if `exp` is not after `iat` or past year 9999; the signer's errors.
    pub fn sign(
        &self,
        issuer: &Issuer,
        uri: &str,
        iat: Timestamp,
        exp: Timestamp,
        ttl: Option<u64>,
    ) -> Result<Vec<u8>> {
        if exp <= iat || exp > Timestamp::MAX {
            return Err(Error::InvalidTime);
        }
        // Deterministic encoding: keys in bytewise order of their encodings
        // (1, 2, 4, 6, 65533, 65534; "lst" (0x63...) before "bits" (0x64...)).
        let mut m = alloc::vec![
            (Value::from(keys::ISS), Value::Text(issuer.iss().into())),
            (Value::from(keys::SUB), Value::Text(uri.into())),
            (Value::from(keys::EXP), Value::from(exp.as_unix_seconds())),
            (Value::from(keys::IAT), Value::from(iat.as_unix_seconds())),
            (
                Value::from(STATUS_LIST_CLAIM),
                Value::Map(alloc::vec![
                    (Value::Text("lst".into()), Value::Bytes(self.compressed())),
                    (Value::Text("bits".into()), Value::from(self.bits)),
                ]),
            ),
        ];
        if let Some(ttl) = ttl {
            m.push((Value::from(TTL_CLAIM), Value::from(ttl)));
        }
        let mut payload = Vec::new();
        crate::cbor::write::value(&mut payload, &Value::Map(m)).map_err(|_| Error::MalformedStatusList)?;
        let protected = Header {
            rest: alloc::vec![(coset::Label::Int(16), Value::Text(STATUS_LIST_TYP.into()))],
            ..Header::default()
        };
        issuer.sign_payload(&payload, protected)
    }
}

/// A status list whose signature, issuer and type were verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedStatusList {
    issuer: String,
    uri: String,
    iat: Timestamp,
    exp: Timestamp,
    ttl: Option<u64>,
    list: StatusList,
    payload_digest: [u8; 32],
}

impl VerifiedStatusList {
    /// SHA-256 of the signed payload: with `iat`, what a [`StateStore`] holds.
    #[must_use]
    pub const fn payload_digest(&self) -> &[u8; 32] {
        &self.payload_digest
    }

    /// What a [`StateStore`] holds for this list.
    #[must_use]
    pub const fn held(&self) -> HeldStatusList {
        HeldStatusList {
            iat: self.iat.as_unix_seconds(),
            payload_digest: self.payload_digest,
        }
    }

    /// The issuer that signed the list.
    #[must_use]
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The list's URI (its `sub`).
    #[must_use]
    pub fn uri(&self) -> &str {
        &self.uri
    }

    /// When the list was issued.
    #[must_use]
    pub const fn issued_at(&self) -> Timestamp {
        self.iat
    }

    /// When the list expires.
    #[must_use]
    pub const fn expires_at(&self) -> Timestamp {
        self.exp
    }

    /// The time to live, if the issuer set one.
    #[must_use]
    pub const fn ttl(&self) -> Option<u64> {
        self.ttl
    }

    /// The entries.
    #[must_use]
    pub const fn list(&self) -> &StatusList {
        &self.list
    }

    /// Checks entry `idx` for a credential of `iss` at `now`, with no bound on the
    /// list's age (only `exp`): [`Self::check_with_age`] with `None`.
    ///
    /// # Errors
    /// [`Error::StatusIssuerMismatch`], [`Error::StatusListExpired`],
    /// [`Error::StatusIndexOutOfRange`], [`Error::Revoked`], [`Error::Suspended`].
    pub fn check(&self, iss: &str, idx: u64, now: Timestamp, skew: u64) -> Result<()> {
        self.check_with_age(iss, idx, now, skew, None)
    }

    /// Checks entry `idx` for a credential of `iss` at `now`. With `max_age`, the
    /// list is refused when its age `now - iat` exceeds `max_age` seconds, or its
    /// `ttl` where it has one (a list at exactly that age still passes).
    ///
    /// # Errors
    /// [`Error::StatusIssuerMismatch`], [`Error::StatusListExpired`],
    /// [`Error::StatusListTooOld`], [`Error::StatusIndexOutOfRange`],
    /// [`Error::Revoked`], [`Error::Suspended`].
    pub fn check_with_age(&self, iss: &str, idx: u64, now: Timestamp, skew: u64, max_age: Option<u64>) -> Result<()> {
        if self.issuer != iss {
            return Err(Error::StatusIssuerMismatch);
        }
        if now >= self.exp.saturating_add(skew) {
            return Err(Error::StatusListExpired);
        }
        if let Some(max_age) = max_age {
            let age = now.as_unix_seconds().saturating_sub(self.iat.as_unix_seconds());
            if age > max_age || self.ttl.is_some_and(|ttl| age > ttl) {
                return Err(Error::StatusListTooOld);
            }
        }
        let idx = usize::try_from(idx).map_err(|_| Error::StatusIndexOutOfRange)?;
        match self.list.get(idx).ok_or(Error::StatusIndexOutOfRange)? {
            VALID => Ok(()),
            SUSPENDED => Err(Error::Suspended),
            _ => Err(Error::Revoked),
        }
    }
}

impl<D: TrustDomain> TrustAnchors<D> {
    /// Trust anchors for the status lists of these signers: the same keys, for
    /// citysec's profile, where an issuer signs its own status lists.
    #[must_use]
    pub fn status_list_signers(&self) -> StatusListVerifier {
        self.for_domain()
    }
}

impl StatusListVerifier {
    /// Verifies a status list token with this verifier's trusted issuer keys. The
    /// token must be signed by a trusted key, name that key's issuer, carry the
    /// status list `typ`, a `sub` (its URI), `iat` and `exp`, and decompress to at
    /// most `max_entries` entries. Expiry is checked when a credential is checked
    /// against it.
    ///
    /// This checks no freshness: [`Self::accept_status_list`] does.
    ///
    /// # Errors
    /// [`Error::Core`] for the COSE layer and for a payload not in deterministic
    /// encoding (`NotDeterministic`); [`Error::WrongIssuer`];
    /// [`Error::MalformedStatusList`]; [`Error::InvalidTime`].
    pub fn verify_status_list(&self, token: &[u8], max_entries: usize) -> Result<VerifiedStatusList> {
        let p = self.pending(token)?;
        let typ_ok = p
            .msg
            .protected()?
            .rest
            .iter()
            .any(|(l, v)| *l == coset::Label::Int(16) && matches!(v, Value::Text(t) if t == STATUS_LIST_TYP));
        let verified = p.msg.verify(self.provider(), &p.trusted.key, b"")?;
        if !typ_ok {
            return Err(Error::MalformedStatusList);
        }
        let payload = verified.payload();
        check_deterministic(payload, self.current_limits(), Tags::Forbid)?;
        let payload_digest: [u8; 32] = Sha256::digest(payload).into();
        let value = crate::cbor::to_value(payload).map_err(|_| Error::MalformedStatusList)?;
        let Value::Map(entries) = value else {
            return Err(Error::MalformedStatusList);
        };
        let (mut iss, mut uri, mut iat, mut exp, mut ttl, mut list) = (None, None, None, None, None, None);
        for (k, v) in entries {
            let Value::Integer(k) = k else { continue };
            match i64::try_from(k).ok() {
                Some(keys::ISS) => iss = Some(text(v)?),
                Some(keys::SUB) => uri = Some(text(v)?),
                Some(keys::IAT) => iat = Some(time(&v)?),
                Some(keys::EXP) => exp = Some(time(&v)?),
                Some(TTL_CLAIM) => ttl = Some(uint(&v)?),
                Some(STATUS_LIST_CLAIM) => list = Some(status_list(v, max_entries)?),
                _ => {}
            }
        }
        if iss.as_deref() != Some(p.trusted.iss.as_str()) {
            return Err(Error::WrongIssuer);
        }
        Ok(VerifiedStatusList {
            issuer: p.trusted.iss.clone(),
            uri: uri.ok_or(Error::MalformedStatusList)?,
            iat: iat.ok_or(Error::MalformedStatusList)?,
            exp: exp.ok_or(Error::MalformedStatusList)?,
            ttl,
            list: list.ok_or(Error::MalformedStatusList)?,
            payload_digest,
        })
    }

    /// Verifies a status list token ([`Self::verify_status_list`]) and checks it
    /// against the list held for its URI in `store`, which never goes back:
    ///
    /// - no list held, or the new `iat` is later: the new list is recorded in
    ///   `store` (durably, by the store's contract) and then returned;
    /// - the same `iat` and the same payload (the list held, delivered again, as
    ///   after a restart): returned, nothing written;
    /// - the same `iat` and another payload: [`Error::StatusListConflict`];
    /// - an earlier `iat`: [`Error::StaleStatusList`].
    ///
    /// # Errors
    /// Those of [`Self::verify_status_list`]; [`Error::StaleStatusList`];
    /// [`Error::StatusListConflict`]; [`Error::StateStore`] if the store cannot be
    /// read or written (the list is then refused).
    pub fn accept_status_list(
        &self,
        token: &[u8],
        max_entries: usize,
        store: &mut dyn StateStore,
    ) -> Result<VerifiedStatusList> {
        let list = self.verify_status_list(token, max_entries)?;
        let new = list.held();
        match store.status_list(list.uri()).map_err(Error::StateStore)? {
            Some(held) if held.iat > new.iat => Err(Error::StaleStatusList),
            Some(held) if held.iat == new.iat && held.payload_digest != new.payload_digest => {
                Err(Error::StatusListConflict)
            }
            Some(held) if held == new => Ok(list),
            _ => {
                store.save_status_list(list.uri(), &new).map_err(Error::StateStore)?;
                Ok(list)
            }
        }
    }
}

fn text(v: Value) -> Result<String> {
    match v {
        Value::Text(t) => Ok(t),
        _ => Err(Error::MalformedStatusList),
    }
}

fn uint(v: &Value) -> Result<u64> {
    match v {
        Value::Integer(i) => u64::try_from(*i).map_err(|_| Error::MalformedStatusList),
        _ => Err(Error::MalformedStatusList),
    }
}

fn time(v: &Value) -> Result<Timestamp> {
    let t = Timestamp::from_unix_seconds(uint(v).map_err(|_| Error::InvalidTime)?);
    if t > Timestamp::MAX {
        return Err(Error::InvalidTime);
    }
    Ok(t)
}

fn status_list(v: Value, max_entries: usize) -> Result<StatusList> {
    let Value::Map(fields) = v else {
        return Err(Error::MalformedStatusList);
    };
    let (mut bits, mut lst) = (None, None);
    for (k, v) in fields {
        match (&k, v) {
            (Value::Text(t), v) if t == "bits" => {
                bits = Some(u8::try_from(uint(&v)?).map_err(|_| Error::MalformedStatusList)?)
            }
            (Value::Text(t), Value::Bytes(b)) if t == "lst" => lst = Some(b),
            (Value::Text(t), _) if t == "lst" => return Err(Error::MalformedStatusList),
            _ => {}
        }
    }
    StatusList::from_compressed(
        bits.ok_or(Error::MalformedStatusList)?,
        &lst.ok_or(Error::MalformedStatusList)?,
        max_entries,
    )
}
