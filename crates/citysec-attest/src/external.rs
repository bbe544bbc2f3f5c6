//! Attestation results from other verifiers: EARs (draft-ietf-rats-ear-04) that a
//! verifier not built on citysec signed, such as Veraison's, accepted on purpose
//! under a trust anchor configured with what it must enforce.
//!
//! citysec's own results ([`crate::AttestationResult`]) carry an issuer, an
//! audience, an expiry and the device's `ueid`, and have one byte form. EARs from
//! elsewhere need not: Veraison's carry none of those bindings, make `exp`
//! optional, and encode their claims with indefinite-length maps. An
//! [`ExternalEarVerifier`] trusts one external verifier's key and reads its EARs
//! under an [`ExternalEarPolicy`]:
//!
//! - the COSE_Sign1 structure and its protected header are read under the
//!   citysec COSE profile (definite lengths, no duplicate labels, limits) before
//!   the signature is checked over the raw bytes;
//! - only then is the payload decoded, by a decoder that also takes
//!   indefinite-length items, and only there ([`decode_payload`]); duplicate keys,
//!   tags, trailing bytes and the size, depth and entry limits still refuse;
//! - every binding the policy requires (audience, expiry or age, the device by
//!   `ueid` or by the nonce the relying party issued) must be present, and every
//!   relaxation is an explicit option.
//!
//! The format and the rules are in docs/attestation-result.md.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use citysec_core::coset::cbor::value::{Integer, Value};
use citysec_core::provider::Provider;
use citysec_core::sign1::{UnverifiedSign1, VerifyOptions};
use citysec_core::{Limits, Timestamp, VerifyingKey};

use crate::evidence::{NONCE_LEN_RANGE, UEID_LEN_RANGE};
use crate::result::{Tier, TrustVector, VerifierId};
use crate::{Error, Result, labels};

/// Why an external EAR was refused after its signature verified (or, for
/// [`ExternalError::Jwt`], before anything was read).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ExternalError {
    /// The token is an EAR as JWT (text); citysec reads EARs as COSE only.
    Jwt,
    /// The payload is not one well-formed CBOR item within the limits
    /// (malformed, trailing bytes, duplicate map key, a tag, too deep, too many
    /// entries, too large).
    Payload(citysec_core::Error),
    /// `eat_profile` is not the EAR profile `tag:ietf.org,2026:rats/ear#04`.
    Profile,
    /// A claim has the wrong type, or `iat`, `ear.verifier-id` or `submods` is
    /// missing or empty.
    Malformed,
    /// A status is not one of the tiers 0, 2, 32, 96, or a trustworthiness
    /// vector has a key outside 0..=7 or a value outside -128..=127.
    StatusOutOfRange,
    /// The top-level `ear.status` claims more trust than a submodule's.
    StatusInconsistent,
    /// `submods` has no appraisal under the policy's device submodule name.
    NoDeviceSubmodule,
    /// The policy requires an audience and the EAR names none.
    MissingAudience,
    /// The EAR names audiences, none of them this relying party's.
    WrongAudience,
    /// The policy requires `exp` and the EAR has none.
    MissingExpiry,
    /// `exp` has passed (beyond the skew).
    Expired,
    /// The EAR is older than the policy's maximum age (from `iat`).
    TooOld,
    /// `iat` lies in the future (beyond the skew).
    IssuedInFuture,
    /// The EAR binds no device: no `ueid`, and no nonce the relying party issued.
    MissingDeviceBinding,
    /// The EAR's `ueid` is not the expected device's.
    DeviceMismatch,
    /// The EAR's nonce is not the one the relying party issued.
    NonceMismatch,
}

impl fmt::Display for ExternalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Self::Jwt => "EAR as JWT is not accepted (COSE only)",
            Self::Payload(e) => return write!(f, "EAR payload refused: {e}"),
            Self::Profile => "not an EAR (eat_profile)",
            Self::Malformed => "malformed EAR claims",
            Self::StatusOutOfRange => "EAR status or trustworthiness claim out of range",
            Self::StatusInconsistent => "EAR top-level status claims more trust than a submodule",
            Self::NoDeviceSubmodule => "EAR has no appraisal for the device submodule",
            Self::MissingAudience => "EAR names no audience and the policy requires one",
            Self::WrongAudience => "EAR is for another audience",
            Self::MissingExpiry => "EAR has no exp and the policy requires one",
            Self::Expired => "EAR expired",
            Self::TooOld => "EAR is older than the policy's maximum age",
            Self::IssuedInFuture => "EAR iat lies in the future",
            Self::MissingDeviceBinding => "EAR binds no device (no ueid, no issued nonce)",
            Self::DeviceMismatch => "EAR is for another device (ueid)",
            Self::NonceMismatch => "EAR nonce is not the one issued",
        };
        f.write_str(s)
    }
}

/// How an external EAR must be bound to this relying party.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AudienceRule {
    /// `aud` (3) must be present and name this audience (a text or an array of texts).
    Required(String),
    /// Relaxation: an EAR without `aud` is accepted (Veraison's carry none). One
    /// that names audiences must still name this one.
    IfPresent(String),
}

/// How long an external EAR is good for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExpiryRule {
    /// `exp` (4) must be present and not passed.
    Required,
    /// Relaxation for verifiers that issue no `exp`: good for this many seconds
    /// after `iat`; an `exp` that is present is honoured too.
    MaxAge(u64),
}

/// What the relying party requires of one external verifier's EARs.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExternalEarPolicy {
    /// The audience binding.
    pub audience: AudienceRule,
    /// The lifetime rule.
    pub expiry: ExpiryRule,
    /// The `submods` label of the device's appraisal (Veraison names it after the
    /// evidence scheme; citysec's own results use `device`).
    pub device_submodule: String,
    /// Relaxation: accept an EAR that binds no device (no `ueid`, no nonce). Off
    /// by default: such an EAR could be any device's.
    pub allow_unbound_device: bool,
    /// Clock skew allowed on `exp` and `iat`, in seconds (default 60).
    pub skew_seconds: u64,
    /// Decoder limits for the token and its payload (default [`Limits::DEFAULT`]).
    pub limits: Limits,
}

impl ExternalEarPolicy {
    /// The strict policy: `aud` must name `audience`, `exp` is required, the
    /// device is bound by `ueid` or nonce, 60 s skew, default limits.
    #[must_use]
    pub fn new(audience: &str, device_submodule: &str) -> Self {
        Self {
            audience: AudienceRule::Required(String::from(audience)),
            expiry: ExpiryRule::Required,
            device_submodule: String::from(device_submodule),
            allow_unbound_device: false,
            skew_seconds: 60,
            limits: Limits::DEFAULT,
        }
    }

    /// This policy with another audience rule.
    #[must_use]
    pub fn with_audience(mut self, rule: AudienceRule) -> Self {
        self.audience = rule;
        self
    }

    /// This policy with another expiry rule.
    #[must_use]
    pub const fn with_expiry(mut self, rule: ExpiryRule) -> Self {
        self.expiry = rule;
        self
    }

    /// This policy accepting EARs that bind no device (see the field).
    #[must_use]
    pub const fn allowing_unbound_device(mut self) -> Self {
        self.allow_unbound_device = true;
        self
    }

    /// This policy with another skew.
    #[must_use]
    pub const fn with_skew(mut self, seconds: u64) -> Self {
        self.skew_seconds = seconds;
        self
    }

    /// This policy with other limits.
    #[must_use]
    pub const fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }
}

/// The device the relying party expects the EAR to be about.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExpectedDevice<'a> {
    /// The device's `ueid`, if the relying party knows it.
    pub ueid: Option<&'a [u8]>,
    /// The nonce the relying party issued for this attestation, if any.
    pub nonce: Option<&'a [u8]>,
}

/// One appraisal of an external EAR.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExternalAppraisal {
    /// Its `submods` label.
    pub name: String,
    /// `ear.status` (none when absent).
    pub status: Tier,
    /// `ear.trustworthiness-vector`, if present.
    pub trust_vector: Option<TrustVector>,
    /// `ear.appraisal-policy-ids`, if present.
    pub policy_ids: Vec<String>,
}

/// An external EAR that verified under its trust anchor and policy.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExternalEar {
    /// `eat_profile`.
    pub profile: String,
    /// `iat`.
    pub issued_at: Timestamp,
    /// `exp`, if present.
    pub expires: Option<Timestamp>,
    /// `ear.verifier-id`.
    pub verifier_id: VerifierId,
    /// The overall status: the top-level `ear.status` if present (it may not
    /// claim more trust than any appraisal, [`distrust`]), else the least
    /// trustworthy of the appraisals'.
    pub status: Tier,
    /// The device's appraisal (the policy's submodule).
    pub device: ExternalAppraisal,
    /// Every appraisal, the device's included, in label order.
    pub appraisals: Vec<ExternalAppraisal>,
    /// `ueid`, if present.
    pub ueid: Option<Vec<u8>>,
    /// `eat_nonce` (top level, or the device appraisal's), if present.
    pub nonce: Option<Vec<u8>>,
    /// `aud` values, if present.
    pub audience: Vec<String>,
}

impl ExternalEar {
    /// The tier a relying party decides on: the less trustworthy of the device
    /// appraisal's status and the overall status, where `none` (no claim) counts
    /// as less trustworthy than any claim ([`distrust`]).
    #[must_use]
    pub fn tier(&self) -> Tier {
        if distrust(self.status) > distrust(self.device.status) {
            self.status
        } else {
            self.device.status
        }
    }

    /// Whether the EAR affirms the device: [`Self::tier`] is `affirming` (so
    /// the device appraisal and the overall status both are).
    #[must_use]
    pub fn is_affirming(&self) -> bool {
        self.tier() == Tier::Affirming
    }
}

/// How little a tier lets a relying party trust: affirming 0, warning 1,
/// contraindicated 2, none 3. `none` means the verifier made no claim, so it
/// never stands for more trust than a claim (unlike [`Tier`]'s order, which
/// follows the code points).
#[must_use]
pub const fn distrust(tier: Tier) -> u8 {
    match tier {
        Tier::Affirming => 0,
        Tier::Warning => 1,
        Tier::Contraindicated => 2,
        _ => 3,
    }
}

/// A trust anchor for one external EAR verifier: its public key (EARs from
/// Veraison carry no `kid` and no `iss`, so the key is the verifier's identity)
/// and the policy its EARs are read under. A distinct type from
/// [`crate::ResultVerifier`], so an external EAR is never taken for a citysec
/// result or the other way round.
#[derive(Clone, Debug)]
pub struct ExternalEarVerifier {
    provider: &'static Provider,
    key: VerifyingKey,
    policy: ExternalEarPolicy,
}

impl ExternalEarVerifier {
    /// Trusts `key` (EdDSA or ES256) for EARs read under `policy`.
    ///
    /// # Errors
    /// [`Error::Core`] if the provider cannot use the key.
    pub fn new(provider: &'static Provider, key: VerifyingKey, policy: ExternalEarPolicy) -> Result<Self> {
        let key = provider.import(key).map_err(Error::Core)?;
        Ok(Self { provider, key, policy })
    }

    /// The policy.
    #[must_use]
    pub const fn policy(&self) -> &ExternalEarPolicy {
        &self.policy
    }

    /// Verifies `token` (a tagged COSE_Sign1 holding an EAR) at `now` for
    /// `expected`, then reads it under the policy.
    ///
    /// # Errors
    /// [`Error::External`] ([`ExternalError::Jwt`]) for a JWT; [`Error::Core`] for
    /// the COSE layer (tag, structure, indefinite lengths outside the payload,
    /// header, key, signature); after the signature verified,
    /// [`Error::External`] with the first rule the EAR breaks.
    pub fn verify(&self, token: &[u8], now: Timestamp, expected: ExpectedDevice<'_>) -> Result<ExternalEar> {
        if token.first().is_some_and(u8::is_ascii_alphanumeric) && token.contains(&b'.') {
            return Err(Error::External(ExternalError::Jwt));
        }
        let opts = VerifyOptions::default().with_limits(self.policy.limits);
        let msg = UnverifiedSign1::parse(token, &opts).map_err(Error::Core)?;
        let verified = msg.verify(self.provider, &self.key, &[]).map_err(Error::Core)?;
        let claims = decode_payload(verified.payload(), &self.policy.limits)
            .map_err(|e| Error::External(ExternalError::Payload(e)))?;
        read(&claims, &self.policy, now, expected).map_err(Error::External)
    }
}

/// Decodes an external EAR's payload, after its signature verified: one CBOR
/// item, definite or indefinite lengths, map keys integers or texts and distinct,
/// no tags, no `undefined` or other simple values than false, true and null,
/// within `limits` (size, depth, entries per map or array), no trailing bytes.
/// Each byte is read once, and each map's keys are sorted once to find
/// duplicates: about log2(entries) comparisons per key, each at most the key's
/// length, so the work is linear in the input with a small constant (the
/// step-count test requires at most 9 steps per byte on its worst shapes).
///
/// # Errors
/// [`citysec_core::Error::TooLarge`], [`citysec_core::Error::TooDeep`],
/// [`citysec_core::Error::TooManyEntries`], [`citysec_core::Error::DuplicateMapKey`],
/// [`citysec_core::Error::UnexpectedTag`], [`citysec_core::Error::TrailingBytes`],
/// [`citysec_core::Error::Malformed`].
pub fn decode_payload(bytes: &[u8], limits: &Limits) -> core::result::Result<Value, citysec_core::Error> {
    decode_payload_counted(bytes, limits).0
}

/// [`decode_payload`] and the number of steps it took: one per head read, and
/// per key comparison one plus the bytes two text keys share (what the
/// step-count test bounds per input byte).
pub fn decode_payload_counted(
    bytes: &[u8],
    limits: &Limits,
) -> (core::result::Result<Value, citysec_core::Error>, usize) {
    use citysec_core::Error as E;
    if bytes.len() > limits.max_message_size {
        return (Err(E::TooLarge), 0);
    }
    let mut d = Decoder {
        bytes,
        pos: 0,
        limits,
        steps: 0,
    };
    let out = d.item(0).and_then(|v| match v {
        Item::Value(v) if d.pos == bytes.len() => Ok(v),
        Item::Value(_) => Err(E::TrailingBytes),
        Item::Break => Err(E::Malformed),
    });
    (out, d.steps)
}

/// An item, or the break code that ends an indefinite-length one.
enum Item {
    Value(Value),
    Break,
}

struct Decoder<'a, 'l> {
    bytes: &'a [u8],
    pos: usize,
    limits: &'l Limits,
    steps: usize,
}

/// What a head's additional information says about the length.
enum Arg {
    Definite(u64),
    Indefinite,
}

impl Decoder<'_, '_> {
    fn byte(&mut self) -> core::result::Result<u8, citysec_core::Error> {
        let b = *self.bytes.get(self.pos).ok_or(citysec_core::Error::Malformed)?;
        self.pos = self.pos.saturating_add(1);
        Ok(b)
    }

    fn take(&mut self, len: u64) -> core::result::Result<&[u8], citysec_core::Error> {
        let len = usize::try_from(len).map_err(|_| citysec_core::Error::Malformed)?;
        let end = self.pos.checked_add(len).ok_or(citysec_core::Error::Malformed)?;
        let s = self.bytes.get(self.pos..end).ok_or(citysec_core::Error::Malformed)?;
        self.pos = end;
        Ok(s)
    }

    fn head(&mut self) -> core::result::Result<(u8, u8, Arg), citysec_core::Error> {
        self.steps = self.steps.saturating_add(1);
        let initial = self.byte()?;
        let (major, info) = (initial >> 5, initial & 0x1f);
        let mut wide = |n: usize| -> core::result::Result<u64, citysec_core::Error> {
            let mut v = 0u64;
            for _ in 0..n {
                v = (v << 8) | u64::from(self.byte()?);
            }
            Ok(v)
        };
        let arg = match info {
            0..=23 => Arg::Definite(u64::from(info)),
            24 => Arg::Definite(wide(1)?),
            25 => Arg::Definite(wide(2)?),
            26 => Arg::Definite(wide(4)?),
            27 => Arg::Definite(wide(8)?),
            31 => Arg::Indefinite,
            _ => return Err(citysec_core::Error::Malformed),
        };
        Ok((major, info, arg))
    }

    fn count(&self, n: u64) -> core::result::Result<usize, citysec_core::Error> {
        let n = usize::try_from(n).map_err(|_| citysec_core::Error::TooManyEntries)?;
        if n > self.limits.max_entries {
            return Err(citysec_core::Error::TooManyEntries);
        }
        Ok(n)
    }

    fn item(&mut self, depth: usize) -> core::result::Result<Item, citysec_core::Error> {
        use citysec_core::Error as E;
        if depth > self.limits.max_depth {
            return Err(E::TooDeep);
        }
        let (major, info, arg) = self.head()?;
        let inner = depth.saturating_add(1);
        let v = match (major, arg) {
            (0, Arg::Definite(n)) => Value::Integer(Integer::from(n)),
            (1, Arg::Definite(n)) => {
                let v = i128::from(n)
                    .checked_neg()
                    .and_then(|v| v.checked_sub(1))
                    .ok_or(E::Malformed)?;
                Value::Integer(Integer::try_from(v).map_err(|_| E::Malformed)?)
            }
            (2 | 3, Arg::Definite(n)) => self.string(major, n)?,
            (2 | 3, Arg::Indefinite) => self.chunked(major)?,
            (4, arg) => {
                let mut items = Vec::new();
                loop {
                    if let Arg::Definite(n) = arg
                        && items.len() >= self.count(n)?
                    {
                        break;
                    }
                    match self.item(inner)? {
                        Item::Value(v) => items.push(v),
                        Item::Break if matches!(arg, Arg::Indefinite) => break,
                        Item::Break => return Err(E::Malformed),
                    }
                    self.count(items.len() as u64)?;
                }
                Value::Array(items)
            }
            (5, arg) => {
                let mut entries: Vec<(Value, Value)> = Vec::new();
                loop {
                    if let Arg::Definite(n) = arg
                        && entries.len() >= self.count(n)?
                    {
                        break;
                    }
                    let key = match self.item(inner)? {
                        Item::Value(k @ (Value::Integer(_) | Value::Text(_))) => k,
                        Item::Break if matches!(arg, Arg::Indefinite) => break,
                        _ => return Err(E::Malformed),
                    };
                    let Item::Value(value) = self.item(inner)? else {
                        return Err(E::Malformed);
                    };
                    entries.push((key, value));
                    self.count(entries.len() as u64)?;
                }
                self.check_distinct(&entries)?;
                Value::Map(entries)
            }
            (6, _) => return Err(E::UnexpectedTag),
            (7, Arg::Indefinite) => return Ok(Item::Break),
            (7, Arg::Definite(n)) => match (info, n) {
                (20, _) => Value::Bool(false),
                (21, _) => Value::Bool(true),
                (22, _) => Value::Null,
                (25, bits) => Value::Float(half(u16::try_from(bits).map_err(|_| E::Malformed)?)),
                (26, bits) => Value::Float(f64::from(f32::from_bits(
                    u32::try_from(bits).map_err(|_| E::Malformed)?,
                ))),
                (27, bits) => Value::Float(f64::from_bits(bits)),
                _ => return Err(E::Malformed),
            },
            _ => return Err(E::Malformed),
        };
        Ok(Item::Value(v))
    }

    fn string(&mut self, major: u8, len: u64) -> core::result::Result<Value, citysec_core::Error> {
        let s = self.take(len)?;
        if major == 2 {
            return Ok(Value::Bytes(s.to_vec()));
        }
        core::str::from_utf8(s)
            .map(|t| Value::Text(String::from(t)))
            .map_err(|_| citysec_core::Error::Malformed)
    }

    /// An indefinite-length string: definite chunks of the same major type until
    /// the break code (RFC 8949 section 3.2.3); text is UTF-8 as a whole.
    fn chunked(&mut self, major: u8) -> core::result::Result<Value, citysec_core::Error> {
        use citysec_core::Error as E;
        let mut out = Vec::new();
        loop {
            match self.head()? {
                (7, 31, Arg::Indefinite) => break,
                (m, _, Arg::Definite(n)) if m == major => out.extend_from_slice(self.take(n)?),
                _ => return Err(E::Malformed),
            }
        }
        if major == 2 {
            return Ok(Value::Bytes(out));
        }
        String::from_utf8(out).map(Value::Text).map_err(|_| E::Malformed)
    }

    /// Refuses equal keys: sorts the keys' positions (at most `max_entries`) and
    /// compares neighbours.
    fn check_distinct(&mut self, entries: &[(Value, Value)]) -> core::result::Result<(), citysec_core::Error> {
        let mut keys: Vec<&Value> = entries.iter().map(|(k, _)| k).collect();
        let mut steps = 0usize;
        keys.sort_by(|a, b| {
            steps = steps.saturating_add(compare_cost(a, b));
            key_order(a, b)
        });
        self.steps = self.steps.saturating_add(steps);
        if keys.windows(2).any(|w| matches!(w, [a, b] if key_order(a, b).is_eq())) {
            return Err(citysec_core::Error::DuplicateMapKey);
        }
        Ok(())
    }
}

/// The steps of one key comparison: one, plus the bytes two texts share.
fn compare_cost(a: &Value, b: &Value) -> usize {
    match (a, b) {
        (Value::Text(x), Value::Text(y)) => {
            1usize.saturating_add(x.bytes().zip(y.bytes()).take_while(|(p, q)| p == q).count())
        }
        _ => 1,
    }
}

/// An order on integer and text keys (integers first, by value; then texts).
fn key_order(a: &Value, b: &Value) -> core::cmp::Ordering {
    use core::cmp::Ordering;
    match (a, b) {
        (Value::Integer(x), Value::Integer(y)) => i128::from(*x).cmp(&i128::from(*y)),
        (Value::Text(x), Value::Text(y)) => x.cmp(y),
        (Value::Integer(_), _) => Ordering::Less,
        (_, Value::Integer(_)) => Ordering::Greater,
        _ => Ordering::Equal,
    }
}

/// An IEEE 754 half-precision value as an `f64`.
fn half(bits: u16) -> f64 {
    let sign = if bits & 0x8000 == 0 { 1.0 } else { -1.0 };
    let exp = i32::from((bits >> 10) & 0x1f);
    let frac = f64::from(bits & 0x03ff);
    let magnitude = match exp {
        0 => frac * pow2(-24),
        31 if frac == 0.0 => f64::INFINITY,
        31 => f64::NAN,
        e => (1024.0 + frac) * pow2(e.saturating_sub(25)),
    };
    sign * magnitude
}

/// 2^e for the small exponents of half precision.
fn pow2(e: i32) -> f64 {
    let mut v = 1.0f64;
    for _ in 0..e.unsigned_abs() {
        v = if e < 0 { v / 2.0 } else { v * 2.0 };
    }
    v
}

type Claims<'v> = &'v [(Value, Value)];

fn get<'v>(map: Claims<'v>, key: i64) -> Option<&'v Value> {
    map.iter()
        .find(|(k, _)| matches!(k, Value::Integer(i) if i64::try_from(*i) == Ok(key)))
        .map(|(_, v)| v)
}

fn int(v: &Value) -> core::result::Result<i64, ExternalError> {
    match v {
        Value::Integer(i) => i64::try_from(*i).map_err(|_| ExternalError::Malformed),
        _ => Err(ExternalError::Malformed),
    }
}

fn text(v: &Value) -> core::result::Result<String, ExternalError> {
    match v {
        Value::Text(t) => Ok(t.clone()),
        _ => Err(ExternalError::Malformed),
    }
}

fn time(v: &Value) -> core::result::Result<Timestamp, ExternalError> {
    let t = int(v)?;
    u64::try_from(t)
        .map(Timestamp::from_unix_seconds)
        .map_err(|_| ExternalError::Malformed)
}

fn tier(v: &Value) -> core::result::Result<Tier, ExternalError> {
    Tier::from_code(int(v)?).ok_or(ExternalError::StatusOutOfRange)
}

fn nonce(v: &Value) -> core::result::Result<Vec<u8>, ExternalError> {
    match v {
        Value::Bytes(b) if NONCE_LEN_RANGE.contains(&b.len()) => Ok(b.clone()),
        _ => Err(ExternalError::Malformed),
    }
}

fn vector(v: &Value) -> core::result::Result<TrustVector, ExternalError> {
    let Value::Map(entries) = v else {
        return Err(ExternalError::Malformed);
    };
    if entries.is_empty() {
        return Err(ExternalError::Malformed);
    }
    let mut tv = TrustVector::default();
    for (k, v) in entries {
        let claim = i8::try_from(int(v)?).map_err(|_| ExternalError::StatusOutOfRange)?;
        let slot = tv.slot_mut(int(k)?).ok_or(ExternalError::StatusOutOfRange)?;
        *slot = Some(claim);
    }
    Ok(tv)
}

fn appraisal(
    name: &Value,
    claims: &Value,
) -> core::result::Result<(ExternalAppraisal, Option<Vec<u8>>), ExternalError> {
    let (Value::Text(name), Value::Map(claims)) = (name, claims) else {
        return Err(ExternalError::Malformed);
    };
    let status = get(claims, labels::EAR_STATUS)
        .map(tier)
        .transpose()?
        .unwrap_or(Tier::None);
    let trust_vector = get(claims, labels::EAR_TRUST_VECTOR).map(vector).transpose()?;
    let policy_ids = match get(claims, labels::EAR_APPRAISAL_POLICY_IDS) {
        None => Vec::new(),
        Some(Value::Array(ids)) if !ids.is_empty() => ids.iter().map(text).collect::<core::result::Result<_, _>>()?,
        Some(_) => return Err(ExternalError::Malformed),
    };
    let nonce = get(claims, labels::EAT_NONCE).map(nonce).transpose()?;
    Ok((
        ExternalAppraisal {
            name: name.clone(),
            status,
            trust_vector,
            policy_ids,
        },
        nonce,
    ))
}

/// Reads verified EAR claims under `policy`.
fn read(
    claims: &Value,
    policy: &ExternalEarPolicy,
    now: Timestamp,
    expected: ExpectedDevice<'_>,
) -> core::result::Result<ExternalEar, ExternalError> {
    let Value::Map(claims) = claims else {
        return Err(ExternalError::Malformed);
    };
    let claims = claims.as_slice();
    let profile =
        text(get(claims, labels::EAT_PROFILE).ok_or(ExternalError::Profile)?).map_err(|_| ExternalError::Profile)?;
    if profile != labels::RESULT_PROFILE {
        return Err(ExternalError::Profile);
    }
    let issued_at = time(get(claims, labels::IAT).ok_or(ExternalError::Malformed)?)?;
    if issued_at.as_unix_seconds() == 0 {
        return Err(ExternalError::Malformed);
    }
    let expires = get(claims, labels::EXP).map(time).transpose()?;
    let verifier_id = match get(claims, labels::EAR_VERIFIER_ID) {
        Some(Value::Map(id)) => VerifierId {
            developer: text(get(id, labels::VERIFIER_ID_DEVELOPER).ok_or(ExternalError::Malformed)?)?,
            build: text(get(id, labels::VERIFIER_ID_BUILD).ok_or(ExternalError::Malformed)?)?,
        },
        _ => return Err(ExternalError::Malformed),
    };
    if verifier_id.developer.is_empty() || verifier_id.build.is_empty() {
        return Err(ExternalError::Malformed);
    }
    let Some(Value::Map(submods)) = get(claims, labels::SUBMODS) else {
        return Err(ExternalError::Malformed);
    };
    if submods.is_empty() {
        return Err(ExternalError::Malformed);
    }
    let mut appraisals = Vec::with_capacity(submods.len());
    let mut device = None;
    for (name, value) in submods {
        let (a, nonce) = appraisal(name, value)?;
        if a.name == policy.device_submodule {
            device = Some((a.clone(), nonce));
        }
        appraisals.push(a);
    }
    appraisals.sort_by(|a, b| a.name.cmp(&b.name));
    let worst = appraisals
        .iter()
        .map(|a| a.status)
        .max_by_key(|t| distrust(*t))
        .unwrap_or(Tier::None);
    let status = match get(claims, labels::EAR_STATUS).map(tier).transpose()? {
        Some(top) if distrust(top) < distrust(worst) => return Err(ExternalError::StatusInconsistent),
        Some(top) => top,
        None => worst,
    };
    let (device, device_nonce) = device.ok_or(ExternalError::NoDeviceSubmodule)?;
    let ueid = match get(claims, labels::UEID) {
        None => None,
        Some(Value::Bytes(u)) if UEID_LEN_RANGE.contains(&u.len()) => Some(u.clone()),
        Some(_) => return Err(ExternalError::Malformed),
    };
    let nonce = match get(claims, labels::EAT_NONCE).map(nonce).transpose()? {
        Some(n) => Some(n),
        None => device_nonce,
    };
    let audience = match get(claims, labels::AUD) {
        None => Vec::new(),
        Some(Value::Text(a)) => alloc::vec![a.clone()],
        Some(Value::Array(a)) if !a.is_empty() => a.iter().map(text).collect::<core::result::Result<_, _>>()?,
        Some(_) => return Err(ExternalError::Malformed),
    };

    // Audience.
    let (wanted, required) = match &policy.audience {
        AudienceRule::Required(a) => (a, true),
        AudienceRule::IfPresent(a) => (a, false),
    };
    if audience.is_empty() {
        if required {
            return Err(ExternalError::MissingAudience);
        }
    } else if !audience.iter().any(|a| a == wanted) {
        return Err(ExternalError::WrongAudience);
    }

    // Lifetime.
    let now_s = now.as_unix_seconds();
    if issued_at.as_unix_seconds() > now_s.saturating_add(policy.skew_seconds) {
        return Err(ExternalError::IssuedInFuture);
    }
    if let Some(exp) = expires
        && now_s >= exp.as_unix_seconds().saturating_add(policy.skew_seconds)
    {
        return Err(ExternalError::Expired);
    }
    match policy.expiry {
        ExpiryRule::Required if expires.is_none() => return Err(ExternalError::MissingExpiry),
        ExpiryRule::Required => {}
        ExpiryRule::MaxAge(age) => {
            if now_s > issued_at.as_unix_seconds().saturating_add(age) {
                return Err(ExternalError::TooOld);
            }
        }
    }

    // The device: by ueid, or by the nonce this relying party issued.
    let by_ueid = match (&ueid, expected.ueid) {
        (Some(have), Some(want)) if have.as_slice() != want => return Err(ExternalError::DeviceMismatch),
        (Some(_), Some(_)) => true,
        _ => false,
    };
    let by_nonce = match (&nonce, expected.nonce) {
        (Some(have), Some(want)) if have.as_slice() != want => return Err(ExternalError::NonceMismatch),
        (Some(_), Some(_)) => true,
        _ => false,
    };
    if !(by_ueid || by_nonce || policy.allow_unbound_device) {
        return Err(ExternalError::MissingDeviceBinding);
    }

    Ok(ExternalEar {
        profile,
        issued_at,
        expires,
        verifier_id,
        status,
        device,
        appraisals,
        ueid,
        nonce,
        audience,
    })
}
