//! Signed, versioned policy bundles.
//!
//! A bundle is a tagged COSE_Sign1 (tag 18) whose protected header carries `alg`,
//! the signer's `kid` and the content type [`CONTENT_TYPE`], and whose payload is
//! a CBOR map in RFC 8949 §4.2.1 deterministic encoding (shortest heads, definite
//! lengths, keys in this order):
//!
//! | key | value |
//! | --- | --- |
//! | 1 | format, [`FORMAT`] (2) |
//! | 2 | version (uint): a loader refuses a version not above the one it holds |
//! | 3 | issue time (uint, seconds since the Unix epoch, at most 253402300799) |
//! | 4 | schema source (text) |
//! | 5 | policy source (text) |
//! | 6 | SHA-256 digest of the compiled form (32-byte bstr) |
//! | 7 | scope (text): the site or controller group the bundle is for, see [`valid_scope`] |
//!
//! The headers have one shape: the unprotected header is the empty map and the
//! protected header's content is at most [`MAX_PROTECTED_HEADER`] bytes. [`load`]
//! reads this from the first bytes, before anything else, and refuses any other
//! shape with [`BundleError::HeaderShape`]: whatever the size of a bundle, the
//! CBOR read before its signature is verified is at most that many bytes (the
//! payload is a byte string, skipped in one step).
//!
//! Format 1 (keys 1 to 6 in any order, no scope) still loads on a loader without a
//! scope ([`LoadOptions::scope`] `None`); a scoped loader refuses it. The version
//! is one counter across formats: a format 2 bundle must be above a held format 1
//! version.
//!
//! The bundle carries the *source*, and the loader compiles it with the same
//! compiler as the signer; the signed digest of the compiled form must match what
//! the loader compiled, so a controller enforces exactly the rules, programs and
//! schema the signer checked, or nothing. One decoder (the parser, which is
//! fuzzed) serves both the text and the bundle path.

use alloc::vec::Vec;
use core::fmt;

use alloc::string::{String, ToString as _};
use citysec_core::audit::{AuditError, AuditEvent, AuditSink};
use citysec_core::cbor::{Reader, Tags, check_deterministic, check_well_formed};
use citysec_core::coset::HeaderBuilder;
use citysec_core::provider::Provider;
use citysec_core::provider::Signer;
use citysec_core::sign1::{self, Tagging, VerifyOptions};
use citysec_core::state::{HeldBundle, StateStore, StoreError};
use citysec_core::{ContentTypeRef, KeySet, Limits, VerifyingKey};
use sha2::{Digest as _, Sha256};

use citysec_core::cbor::write::VecEncoder;

use crate::cbor::Dec;
use crate::error::Diagnostics;
use crate::{PolicyLimits, PolicySet, Schema, compile};

/// The content type in every bundle's protected header.
pub const CONTENT_TYPE: &str = "application/vnd.citysec.policy-bundle+cbor";
/// The payload format this crate writes (and, with [`FORMAT_V1`], reads).
pub const FORMAT: u64 = 2;
/// The earlier format (no scope, keys in any order): read by unscoped loaders only.
pub const FORMAT_V1: u64 = 1;
/// The longest protected header content a bundle may carry, in bytes (one that
/// citysec writes holds `alg`, the content type and a `kid`: 50 bytes plus a
/// `kid` of up to 23 bytes).
pub const MAX_PROTECTED_HEADER: usize = 256;
/// The longest scope, in bytes.
pub const MAX_SCOPE_LEN: usize = 64;
/// The latest accepted issue time (9999-12-31T23:59:59Z), as for CWT times.
pub const MAX_TIME: u64 = 253_402_300_799;

const K_FORMAT: u64 = 1;
const K_VERSION: u64 = 2;
const K_ISSUED_AT: u64 = 3;
const K_SCHEMA: u64 = 4;
const K_POLICY: u64 = 5;
const K_DIGEST: u64 = 6;
const K_SCOPE: u64 = 7;

/// Whether `scope` is a valid bundle scope: 1 to [`MAX_SCOPE_LEN`] bytes, each an
/// ASCII letter, digit, or one of `.`, `_`, `:`, `/`, `-`. By convention
/// `site:NAME` for a whole site and `group:NAME` for a controller group; the
/// loader compares scopes byte for byte and gives the convention no meaning.
#[must_use]
pub fn valid_scope(scope: &str) -> bool {
    (1..=MAX_SCOPE_LEN).contains(&scope.len())
        && scope
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'/' | b'-'))
}

/// Why a bundle was not made or not loaded.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BundleError {
    /// The COSE_Sign1 failed a structural or signature check: among others
    /// [`citysec_core::Error::UnknownKey`] for a key not in the trusted set,
    /// [`citysec_core::Error::BadSignature`], [`citysec_core::Error::TrailingBytes`],
    /// [`citysec_core::Error::WrongTag`], [`citysec_core::Error::TooLarge`].
    Cose(citysec_core::Error),
    /// The headers are not a bundle's: the unprotected header is not the empty
    /// map, or the protected header's content is longer than
    /// [`MAX_PROTECTED_HEADER`] bytes. Checked on the first bytes, before any
    /// other check but the size.
    HeaderShape,
    /// The protected header does not carry [`CONTENT_TYPE`].
    WrongContentType,
    /// The payload is not the map described in the module docs (or not
    /// well-formed: then [`BundleError::Cose`] says how).
    Malformed,
    /// The payload format is neither [`FORMAT`] nor [`FORMAT_V1`].
    UnsupportedFormat(u64),
    /// The bundle is for another scope than the loader's ([`LoadOptions::scope`]),
    /// or is a format 1 bundle (no scope) and the loader has a scope.
    ScopeMismatch {
        /// The loader's scope.
        expected: String,
        /// The bundle's scope; `None` for a format 1 bundle.
        found: Option<String>,
    },
    /// [`create`] was given a scope that [`valid_scope`] refuses.
    InvalidScope,
    /// The held-state store failed: the bundle is refused and the policy held
    /// stays in force.
    Store(StoreError),
    /// The bundle's version is not above the version held (no rollback).
    Rollback {
        /// The version the loader holds.
        held: u64,
        /// The bundle's version.
        version: u64,
    },
    /// The sources do not compile (for a signed bundle: with this compiler).
    Compile(Diagnostics),
    /// The loader's compiled form differs from the one the signer compiled.
    DigestMismatch,
    /// The bundle loaded but the audit sink ([`load_audited`],
    /// [`load_held_audited`]) could not record it: it is not returned to put
    /// into force. ([`load_held_audited`] has already held its version then, so
    /// the same bundle installs again.)
    Audit(AuditError),
}

impl fmt::Display for BundleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Cose(e) => write!(f, "bundle rejected: {e}"),
            Self::HeaderShape => write!(
                f,
                "not a policy bundle (the unprotected header must be empty and the protected header at most {MAX_PROTECTED_HEADER} bytes)"
            ),
            Self::WrongContentType => write!(f, "not a policy bundle (content type is not {CONTENT_TYPE})"),
            Self::Malformed => f.write_str("malformed bundle payload"),
            Self::UnsupportedFormat(n) => write!(f, "unsupported bundle format {n}"),
            Self::ScopeMismatch {
                expected,
                found: Some(found),
            } => {
                write!(f, "bundle is for scope `{found}`, not `{expected}`")
            }
            Self::ScopeMismatch { expected, found: None } => {
                write!(
                    f,
                    "bundle format 1 carries no scope; scope `{expected}` requires format 2"
                )
            }
            Self::InvalidScope => f.write_str("invalid bundle scope"),
            Self::Store(e) => write!(f, "bundle refused: {e}"),
            Self::Rollback { held, version } => {
                write!(
                    f,
                    "bundle version {version} is not above the version held ({held}): rollback refused"
                )
            }
            Self::Compile(d) => write!(f, "bundle policy does not compile:\n{d}"),
            Self::DigestMismatch => f.write_str("compiled form differs from the signed digest"),
            Self::Audit(e) => write!(f, "bundle installation not recorded: {e}"),
        }
    }
}

impl core::error::Error for BundleError {}

impl From<citysec_core::Error> for BundleError {
    fn from(e: citysec_core::Error) -> Self {
        Self::Cose(e)
    }
}

/// What goes into a bundle.
#[derive(Clone, Copy, Debug)]
pub struct BundleSource<'a> {
    /// The schema source (declarations); may be empty if the policy declares its own.
    pub schema: &'a str,
    /// The policy source.
    pub policy: &'a str,
    /// The version; controllers accept only versions above the one they hold.
    pub version: u64,
    /// The issue time, in seconds since the Unix epoch.
    pub issued_at: u64,
    /// The site or controller group the bundle is for (see [`valid_scope`]).
    pub scope: &'a str,
}

/// Compiles `src` (refusing it if it does not compile), then signs it as a bundle
/// with `signer` (the policy signing key, in memory or in an HSM).
///
/// # Errors
/// [`BundleError::Compile`]; [`BundleError::Malformed`] for an issue time after
/// [`MAX_TIME`]; [`BundleError::InvalidScope`]; [`BundleError::Cose`] with the signer's error.
pub fn create(signer: &dyn Signer, src: &BundleSource<'_>, limits: &PolicyLimits) -> Result<Vec<u8>, BundleError> {
    if src.issued_at > MAX_TIME {
        return Err(BundleError::Malformed);
    }
    if !valid_scope(src.scope) {
        return Err(BundleError::InvalidScope);
    }
    let policy = compile_sources(src.schema, src.policy, limits)?;
    let digest = policy.digest();
    let mut e = VecEncoder::new();
    e.map(7);
    e.uint(K_FORMAT);
    e.uint(FORMAT);
    e.uint(K_VERSION);
    e.uint(src.version);
    e.uint(K_ISSUED_AT);
    e.uint(src.issued_at);
    e.uint(K_SCHEMA);
    e.text(src.schema);
    e.uint(K_POLICY);
    e.text(src.policy);
    e.uint(K_DIGEST);
    e.bytes(&digest);
    e.uint(K_SCOPE);
    e.text(src.scope);
    let protected = HeaderBuilder::new().content_type(CONTENT_TYPE.into()).build();
    let msg = sign1::sign_with_headers(signer, protected, Default::default(), &e.0, b"", Tagging::Tagged)?;
    Ok(msg)
}

fn compile_sources(schema: &str, policy: &str, limits: &PolicyLimits) -> Result<PolicySet, BundleError> {
    let schema = Schema::parse(schema, limits).map_err(BundleError::Compile)?;
    Ok(compile(&schema, policy, limits).map_err(BundleError::Compile)?.policy)
}

/// How [`load`] checks a bundle.
#[derive(Clone, Copy, Debug)]
pub struct LoadOptions<'a> {
    /// The version the controller holds: only a higher version loads. `None` for a
    /// controller that holds no policy yet. [`load_held`] also reads the store.
    pub held_version: Option<u64>,
    /// The controller's scope: only a format 2 bundle with exactly this scope
    /// loads. `None` loads a bundle of any scope, and format 1 bundles; every
    /// deployed controller should have a scope.
    pub scope: Option<&'a str>,
    /// Limits for compiling the bundle's sources and evaluating the result.
    pub limits: PolicyLimits,
    /// Largest accepted bundle, in bytes (default 2 MiB).
    pub max_bundle_len: usize,
}

impl Default for LoadOptions<'_> {
    fn default() -> Self {
        Self {
            held_version: None,
            scope: None,
            limits: PolicyLimits::DEFAULT,
            max_bundle_len: 2 * 1024 * 1024,
        }
    }
}

impl<'a> LoadOptions<'a> {
    /// These options for a controller holding `version`.
    #[must_use]
    pub const fn holding(mut self, version: u64) -> Self {
        self.held_version = Some(version);
        self
    }

    /// These options for a controller whose scope is `scope`.
    #[must_use]
    pub const fn scoped(mut self, scope: &'a str) -> Self {
        self.scope = Some(scope);
        self
    }
}

/// A verified, compiled bundle.
#[derive(Debug)]
pub struct Bundle {
    format: u64,
    version: u64,
    issued_at: u64,
    scope: Option<String>,
    digest: [u8; 32],
    payload_digest: [u8; 32],
    kid: Vec<u8>,
    policy: PolicySet,
}

impl Bundle {
    /// The bundle's version (store it; pass it as [`LoadOptions::held_version`] next time).
    #[must_use]
    pub const fn version(&self) -> u64 {
        self.version
    }

    /// The payload format ([`FORMAT`] or [`FORMAT_V1`]).
    #[must_use]
    pub const fn format(&self) -> u64 {
        self.format
    }

    /// The bundle's scope; `None` for a format 1 bundle.
    #[must_use]
    pub fn scope(&self) -> Option<&str> {
        self.scope.as_deref()
    }

    /// SHA-256 of the signed payload: with the version, what a [`StateStore`] holds.
    #[must_use]
    pub const fn payload_digest(&self) -> &[u8; 32] {
        &self.payload_digest
    }

    /// What a [`StateStore`] holds for this bundle.
    #[must_use]
    pub const fn held(&self) -> HeldBundle {
        HeldBundle {
            version: self.version,
            payload_digest: self.payload_digest,
        }
    }

    /// The issue time, in seconds since the Unix epoch (not checked against a clock).
    #[must_use]
    pub const fn issued_at(&self) -> u64 {
        self.issued_at
    }

    /// The digest of the compiled form, for audit logs.
    #[must_use]
    pub const fn digest(&self) -> &[u8; 32] {
        &self.digest
    }

    /// The `kid` of the key that signed the bundle.
    #[must_use]
    pub fn kid(&self) -> &[u8] {
        &self.kid
    }

    /// The policy set.
    #[must_use]
    pub const fn policy(&self) -> &PolicySet {
        &self.policy
    }

    /// The policy set, by value.
    #[must_use]
    pub fn into_policy(self) -> PolicySet {
        self.policy
    }
}

/// The trust anchors of policy bundles: the policy signers' public keys, looked
/// up by `kid`, and the crypto provider that checks their signatures (bound
/// once). A type of its own, so that the keys of another trust domain
/// (credential issuers, attestation verifiers) cannot be passed where policy
/// signers are meant.
#[derive(Debug)]
pub struct PolicySigners {
    provider: Provider,
    keys: KeySet<VerifyingKey>,
}

impl PolicySigners {
    /// The policy signers with these keys, checked with `provider`.
    #[must_use]
    pub const fn new(provider: &Provider, keys: KeySet<VerifyingKey>) -> Self {
        Self {
            provider: *provider,
            keys,
        }
    }

    /// The policy signers with the keys of `keys` (each with a distinct `kid`),
    /// checked with `provider`, which imports each key here
    /// ([`Provider::import`]: it checks that the key is a point of its curve and
    /// parses it once). [`Self::new`] takes the keys as they are, and the
    /// provider checks them at each verification instead.
    ///
    /// # Errors
    /// As [`KeySet::from_keys`] and [`Provider::import`].
    pub fn from_keys(
        provider: &Provider,
        keys: impl IntoIterator<Item = VerifyingKey>,
    ) -> Result<Self, citysec_core::Error> {
        let imported = keys
            .into_iter()
            .map(|k| provider.import(k))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self::new(provider, KeySet::from_keys(imported)?))
    }

    /// The keys.
    #[must_use]
    pub const fn keys(&self) -> &KeySet<VerifyingKey> {
        &self.keys
    }

    /// The crypto provider.
    #[must_use]
    pub const fn provider(&self) -> &Provider {
        &self.provider
    }
}

/// Verifies, checks and compiles a bundle, from one buffer.
///
/// In order: size, the header shape ([`BundleError::HeaderShape`]), tag, CBOR well-formedness (no trailing bytes, duplicate keys,
/// indefinite lengths), COSE header rules, the signature by a key in `trusted`
/// named by the bundle's `kid`, the content type, the payload map, the format
/// (format 2: deterministic encoding, [`citysec_core::Error::NotDeterministic`]
/// otherwise), the scope against [`LoadOptions::scope`], the version against
/// [`LoadOptions::held_version`], the issue time, compilation, and the digest.
///
/// # Errors
/// Every [`BundleError`] variant but [`BundleError::InvalidScope`],
/// [`BundleError::Store`] and [`create`]'s signing failures.
pub fn load(trusted: &PolicySigners, bytes: &[u8], opts: &LoadOptions<'_>) -> Result<Bundle, BundleError> {
    load_inner(trusted, bytes, opts, None)
}

/// As [`load`], reporting the outcome to `sink`: a bundle that loads as
/// installed, any other as refused with the error's message (and the bundle's
/// version for a rollback, 0 otherwise). (Separate from [`load`] so that a
/// build that never reports links none of the message formatting.)
///
/// # Errors
/// As [`load`]; [`BundleError::Audit`] for a bundle that loaded but that `sink`
/// did not record.
pub fn load_audited(
    trusted: &PolicySigners,
    bytes: &[u8],
    opts: &LoadOptions<'_>,
    sink: &dyn AuditSink,
) -> Result<Bundle, BundleError> {
    reported(sink, load(trusted, bytes, opts))
}

/// Reports `result` to `sink`.
fn reported(sink: &dyn AuditSink, result: Result<Bundle, BundleError>) -> Result<Bundle, BundleError> {
    match result {
        Ok(bundle) => {
            let event = AuditEvent::PolicyBundle {
                version: bundle.version(),
                installed: true,
                reason: None,
            };
            sink.record(None, &event).map_err(BundleError::Audit)?;
            Ok(bundle)
        }
        Err(e) => {
            let version = match e {
                BundleError::Rollback { version, .. } => version,
                _ => 0,
            };
            let reason = e.to_string();
            let event = AuditEvent::PolicyBundle {
                version,
                installed: false,
                reason: Some(&reason),
            };
            // The refusal stands whether or not it was recorded.
            let _refused = sink.record(None, &event);
            Err(e)
        }
    }
}

/// As [`load`], with the held bundle read from `store` (the higher of the store's
/// version and [`LoadOptions::held_version`] is held). A bundle above the held
/// version is recorded in `store` (durably, by the store's contract) **before**
/// this returns it, so the caller puts it into force only after it is held: a
/// crash in between leaves the old policy in force and the new version held.
///
/// The bundle the store holds (same version, same payload digest) loads again
/// without a write, so a controller can reload its bundle after a restart; any
/// other bundle at or below the held version is [`BundleError::Rollback`].
///
/// # Errors
/// As [`load`]; [`BundleError::Store`] if the store cannot be read or written
/// (then nothing is returned to put into force).
pub fn load_held(
    trusted: &PolicySigners,
    bytes: &[u8],
    opts: &LoadOptions<'_>,
    store: &mut dyn StateStore,
) -> Result<Bundle, BundleError> {
    let held = store.bundle().map_err(BundleError::Store)?;
    let bundle = load_inner(trusted, bytes, opts, held)?;
    if held != Some(bundle.held()) {
        store.save_bundle(&bundle.held()).map_err(BundleError::Store)?;
    }
    Ok(bundle)
}

/// As [`load_held`], reporting the outcome to `sink` as [`load_audited`] does:
/// a bundle is reported installed once it is held.
///
/// # Errors
/// As [`load_held`]; [`BundleError::Audit`] for a bundle that loaded and is
/// held but that `sink` did not record.
pub fn load_held_audited(
    trusted: &PolicySigners,
    bytes: &[u8],
    opts: &LoadOptions<'_>,
    store: &mut dyn StateStore,
    sink: &dyn AuditSink,
) -> Result<Bundle, BundleError> {
    reported(sink, load_held(trusted, bytes, opts, store))
}

/// The header shape every bundle has, read from the first bytes: after tag 18
/// (and an optional CWT tag 61 before it) and the array head, a protected bstr of
/// at most [`MAX_PROTECTED_HEADER`] bytes, then the empty map `a0`. Other
/// prefixes (no tag, another tag, not an array of four, no bstr first) are left to
/// the COSE checks, which name them.
fn check_header_shape(bytes: &[u8]) -> Result<(), BundleError> {
    const TAG_CWT: [u8; 2] = [0xd8, 0x3d];
    const TAG_SIGN1_ARRAY: [u8; 2] = [0xd2, 0x84];
    let body = bytes.strip_prefix(&TAG_CWT[..]).unwrap_or(bytes);
    let Some(body) = body.strip_prefix(&TAG_SIGN1_ARRAY[..]) else {
        return Ok(());
    };
    let mut r = Reader::new(body);
    let Ok(h) = r.head() else { return Ok(()) };
    if h.major != citysec_core::cbor::MAJOR_BYTES {
        return Ok(());
    }
    if usize::try_from(h.arg).map_or(true, |len| len > MAX_PROTECTED_HEADER) {
        return Err(BundleError::HeaderShape);
    }
    if r.take_string(h).is_err() {
        return Ok(());
    }
    match r.remaining().first() {
        Some(0xa0) => Ok(()),
        _ => Err(BundleError::HeaderShape),
    }
}

fn load_inner(
    trusted: &PolicySigners,
    bytes: &[u8],
    opts: &LoadOptions<'_>,
    held: Option<HeldBundle>,
) -> Result<Bundle, BundleError> {
    if bytes.len() > opts.max_bundle_len {
        return Err(BundleError::Cose(citysec_core::Error::TooLarge));
    }
    check_header_shape(bytes)?;
    let vopts = VerifyOptions::default().with_limits(Limits::DEFAULT.with_max_message_size(opts.max_bundle_len));
    let verified = sign1::verify(&trusted.provider, &trusted.keys, bytes, &vopts)?;
    // Read from the wire bytes: decoding the whole header would bring coset's
    // header decoder into every firmware that loads bundles.
    if verified.protected_content_type() != Some(ContentTypeRef::Text(CONTENT_TYPE)) {
        return Err(BundleError::WrongContentType);
    }
    let payload = verified.payload();
    let limits = Limits::new(opts.max_bundle_len, 1, 7);
    check_well_formed(payload, &limits, Tags::Forbid)?;
    let fields = Fields::decode(payload).ok_or(BundleError::Malformed)?;
    match (fields.format, fields.scope) {
        (FORMAT, Some(scope)) => {
            check_deterministic(payload, &limits, Tags::Forbid)?;
            if !valid_scope(scope) {
                return Err(BundleError::Malformed);
            }
            if let Some(expected) = opts.scope
                && expected != scope
            {
                return Err(BundleError::ScopeMismatch {
                    expected: String::from(expected),
                    found: Some(String::from(scope)),
                });
            }
        }
        (FORMAT_V1, None) => {
            if let Some(expected) = opts.scope {
                return Err(BundleError::ScopeMismatch {
                    expected: String::from(expected),
                    found: None,
                });
            }
        }
        (FORMAT | FORMAT_V1, _) => return Err(BundleError::Malformed),
        (other, _) => return Err(BundleError::UnsupportedFormat(other)),
    }
    let payload_digest: [u8; 32] = Sha256::digest(payload).into();
    let held_version = match (opts.held_version, held) {
        (Some(a), Some(b)) => Some(a.max(b.version)),
        (a, b) => a.or(b.map(|h| h.version)),
    };
    if let Some(held_version) = held_version
        && fields.version <= held_version
    {
        let reload = held.is_some_and(|h| h.version == fields.version && h.payload_digest == payload_digest)
            && held_version == fields.version;
        if !reload {
            return Err(BundleError::Rollback {
                held: held_version,
                version: fields.version,
            });
        }
    }
    if fields.issued_at > MAX_TIME {
        return Err(BundleError::Malformed);
    }
    let policy = compile_sources(fields.schema, fields.policy, &opts.limits)?;
    let digest = policy.digest();
    if digest != fields.digest {
        return Err(BundleError::DigestMismatch);
    }
    Ok(Bundle {
        format: fields.format,
        version: fields.version,
        issued_at: fields.issued_at,
        scope: fields.scope.map(String::from),
        digest,
        payload_digest,
        kid: verified.kid().unwrap_or_default().to_vec(),
        policy,
    })
}

struct Fields<'a> {
    format: u64,
    version: u64,
    issued_at: u64,
    schema: &'a str,
    policy: &'a str,
    digest: [u8; 32],
    scope: Option<&'a str>,
}

impl<'a> Fields<'a> {
    /// Decodes the six-entry (format 1) or seven-entry (format 2, with the scope)
    /// map, in any key order here; every key exactly once, since the
    /// well-formedness pass refused duplicates. Format 2's order is checked by the
    /// deterministic-encoding pass.
    fn decode(payload: &'a [u8]) -> Option<Self> {
        let mut d = Dec::new(payload);
        let entries = d.map()?;
        if !matches!(entries, 6 | 7) {
            return None;
        }
        let (mut format, mut version, mut issued_at) = (None, None, None);
        let (mut schema, mut policy, mut digest, mut scope) = (None, None, None, None);
        for _ in 0..entries {
            match d.uint()? {
                K_FORMAT => format = Some(d.uint()?),
                K_VERSION => version = Some(d.uint()?),
                K_ISSUED_AT => issued_at = Some(d.uint()?),
                K_SCHEMA => schema = Some(d.text()?),
                K_POLICY => policy = Some(d.text()?),
                K_DIGEST => digest = Some(<[u8; 32]>::try_from(d.bytes()?).ok()?),
                K_SCOPE => scope = Some(d.text()?),
                _ => return None,
            }
        }
        if !d.is_done() {
            return None;
        }
        Some(Self {
            format: format?,
            version: version?,
            issued_at: issued_at?,
            schema: schema?,
            policy: policy?,
            digest: digest?,
            scope,
        })
    }
}
