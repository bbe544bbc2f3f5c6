//! Signed, versioned policy bundles.
//!
//! A bundle is a tagged COSE_Sign1 (tag 18) whose protected header carries `alg`,
//! the signer's `kid` and the content type [`CONTENT_TYPE`], and whose payload is
//! a CBOR map:
//!
//! | key | value |
//! | --- | --- |
//! | 1 | format, [`FORMAT`] (1) |
//! | 2 | version (uint): a loader refuses a version not above the one it holds |
//! | 3 | issue time (uint, seconds since the Unix epoch, at most 253402300799) |
//! | 4 | schema source (text) |
//! | 5 | policy source (text) |
//! | 6 | SHA-256 digest of the compiled form (32-byte bstr) |
//!
//! The bundle carries the *source*, and the loader compiles it with the same
//! compiler as the signer; the signed digest of the compiled form must match what
//! the loader compiled, so a controller enforces exactly the rules, programs and
//! schema the signer checked, or nothing. One decoder (the parser, which is
//! fuzzed) serves both the text and the bundle path.

use alloc::vec::Vec;
use core::fmt;

use citysec_core::cbor::{Tags, check_well_formed};
use citysec_core::coset::HeaderBuilder;
use citysec_core::sign1::{self, Tagging, VerifyOptions};
use citysec_core::{Backend, ContentTypeRef, KeySet, Limits, SigningKey, VerifyingKey};

use crate::cbor::{Dec, Enc, MAJOR_MAP};
use crate::error::Diagnostics;
use crate::{PolicyLimits, PolicySet, Schema, compile};

/// The content type in every bundle's protected header.
pub const CONTENT_TYPE: &str = "application/vnd.citysec.policy-bundle+cbor";
/// The payload format this crate writes and reads.
pub const FORMAT: u64 = 1;
/// The latest accepted issue time (9999-12-31T23:59:59Z), as for CWT times.
pub const MAX_TIME: u64 = 253_402_300_799;

const K_FORMAT: u64 = 1;
const K_VERSION: u64 = 2;
const K_ISSUED_AT: u64 = 3;
const K_SCHEMA: u64 = 4;
const K_POLICY: u64 = 5;
const K_DIGEST: u64 = 6;

/// Why a bundle was not made or not loaded.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BundleError {
    /// The COSE_Sign1 failed a structural or signature check: among others
    /// [`citysec_core::Error::UnknownKey`] for a key not in the trusted set,
    /// [`citysec_core::Error::BadSignature`], [`citysec_core::Error::TrailingBytes`],
    /// [`citysec_core::Error::WrongTag`], [`citysec_core::Error::TooLarge`].
    Cose(citysec_core::Error),
    /// The protected header does not carry [`CONTENT_TYPE`].
    WrongContentType,
    /// The payload is not the map described in the module docs (or not
    /// well-formed: then [`BundleError::Cose`] says how).
    Malformed,
    /// The payload format is not [`FORMAT`].
    UnsupportedFormat(u64),
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
}

impl fmt::Display for BundleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Cose(e) => write!(f, "bundle rejected: {e}"),
            Self::WrongContentType => write!(f, "not a policy bundle (content type is not {CONTENT_TYPE})"),
            Self::Malformed => f.write_str("malformed bundle payload"),
            Self::UnsupportedFormat(n) => write!(f, "unsupported bundle format {n}"),
            Self::Rollback { held, version } => {
                write!(
                    f,
                    "bundle version {version} is not above the version held ({held}): rollback refused"
                )
            }
            Self::Compile(d) => write!(f, "bundle policy does not compile:\n{d}"),
            Self::DigestMismatch => f.write_str("compiled form differs from the signed digest"),
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
}

/// Compiles `src` (refusing it if it does not compile), then signs it as a bundle.
///
/// # Errors
/// [`BundleError::Compile`]; [`BundleError::Malformed`] for an issue time after
/// [`MAX_TIME`]; [`BundleError::Cose`] if signing fails.
pub fn create(
    backend: &dyn Backend,
    key: &SigningKey,
    src: &BundleSource<'_>,
    limits: &PolicyLimits,
) -> Result<Vec<u8>, BundleError> {
    if src.issued_at > MAX_TIME {
        return Err(BundleError::Malformed);
    }
    let policy = compile_sources(src.schema, src.policy, limits)?;
    let digest = policy.digest();
    let mut e = Enc::default();
    e.head(MAJOR_MAP, 6);
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
    let protected = HeaderBuilder::new().content_type(CONTENT_TYPE.into()).build();
    let msg = sign1::sign_with_headers(backend, key, protected, Default::default(), &e.0, b"", Tagging::Tagged)?;
    Ok(msg)
}

fn compile_sources(schema: &str, policy: &str, limits: &PolicyLimits) -> Result<PolicySet, BundleError> {
    let schema = Schema::parse(schema, limits).map_err(BundleError::Compile)?;
    Ok(compile(&schema, policy, limits).map_err(BundleError::Compile)?.policy)
}

/// How [`load`] checks a bundle.
#[derive(Clone, Copy, Debug)]
pub struct LoadOptions {
    /// The version the controller holds: only a higher version loads. `None` for a
    /// controller that holds no policy yet.
    pub held_version: Option<u64>,
    /// Limits for compiling the bundle's sources and evaluating the result.
    pub limits: PolicyLimits,
    /// Largest accepted bundle, in bytes (default 2 MiB).
    pub max_bundle_len: usize,
}

impl Default for LoadOptions {
    fn default() -> Self {
        Self {
            held_version: None,
            limits: PolicyLimits::DEFAULT,
            max_bundle_len: 2 * 1024 * 1024,
        }
    }
}

impl LoadOptions {
    /// These options for a controller holding `version`.
    #[must_use]
    pub const fn holding(mut self, version: u64) -> Self {
        self.held_version = Some(version);
        self
    }
}

/// A verified, compiled bundle.
#[derive(Debug)]
pub struct Bundle {
    version: u64,
    issued_at: u64,
    digest: [u8; 32],
    kid: Vec<u8>,
    policy: PolicySet,
}

impl Bundle {
    /// The bundle's version (store it; pass it as [`LoadOptions::held_version`] next time).
    #[must_use]
    pub const fn version(&self) -> u64 {
        self.version
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

/// Verifies, checks and compiles a bundle, from one buffer.
///
/// In order: size, tag, CBOR well-formedness (no trailing bytes, duplicate keys,
/// indefinite lengths), COSE header rules, the signature by a key in `trusted`
/// named by the bundle's `kid`, the content type, the payload map, the format, the
/// version against [`LoadOptions::held_version`], compilation, and the digest.
///
/// # Errors
/// Every [`BundleError`] variant but none of [`create`]'s signing failures.
pub fn load(
    backend: &dyn Backend,
    trusted: &KeySet<VerifyingKey>,
    bytes: &[u8],
    opts: &LoadOptions,
) -> Result<Bundle, BundleError> {
    let vopts = VerifyOptions::default().with_limits(Limits::DEFAULT.with_max_message_size(opts.max_bundle_len));
    let verified = sign1::verify(backend, trusted, bytes, &vopts)?;
    // Read from the wire bytes: decoding the whole header would bring coset's
    // header decoder into every firmware that loads bundles.
    if verified.protected_content_type() != Some(ContentTypeRef::Text(CONTENT_TYPE)) {
        return Err(BundleError::WrongContentType);
    }
    let payload = verified.payload();
    check_well_formed(payload, &Limits::new(opts.max_bundle_len, 1, 6), Tags::Forbid)?;
    let fields = Fields::decode(payload).ok_or(BundleError::Malformed)?;
    if fields.format != FORMAT {
        return Err(BundleError::UnsupportedFormat(fields.format));
    }
    if let Some(held) = opts.held_version
        && fields.version <= held
    {
        return Err(BundleError::Rollback {
            held,
            version: fields.version,
        });
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
        version: fields.version,
        issued_at: fields.issued_at,
        digest,
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
}

impl<'a> Fields<'a> {
    /// Decodes the six-entry map (any key order; every key exactly once, since
    /// the well-formedness pass refused duplicates).
    fn decode(payload: &'a [u8]) -> Option<Self> {
        let mut d = Dec::new(payload);
        if d.map()? != 6 {
            return None;
        }
        let (mut format, mut version, mut issued_at) = (None, None, None);
        let (mut schema, mut policy, mut digest) = (None, None, None);
        for _ in 0..6 {
            match d.uint()? {
                K_FORMAT => format = Some(d.uint()?),
                K_VERSION => version = Some(d.uint()?),
                K_ISSUED_AT => issued_at = Some(d.uint()?),
                K_SCHEMA => schema = Some(d.text()?),
                K_POLICY => policy = Some(d.text()?),
                K_DIGEST => digest = Some(<[u8; 32]>::try_from(d.bytes()?).ok()?),
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
        })
    }
}
