//! Appraisal: endorsement + evidence + freshness + reference values → a signed
//! attestation result.

use alloc::format;
use alloc::string::{String, ToString as _};
use alloc::sync::Arc;
use alloc::vec::Vec;

use citysec_core::audit::{AuditEvent, AuditSink};
use citysec_core::cwt::{DEFAULT_SKEW_SECONDS, Issuer};
use citysec_core::{Limits, Timestamp};

use crate::domain::ManufacturerVerifier;

use crate::endorsement::{Endorsement, VerifiedEndorsement};
use crate::evidence::{DebugStatus, Evidence, UnverifiedEvidence, VerifiedEvidence};
use crate::labels::claim;
use crate::nonce::NonceStore;
use crate::reference::{ReferenceSet, ReferenceValues, Version};
use crate::result::{AttestationResult, Check, Reason, Tier, TrustVector, VerifierId};
use crate::{Error, Result};

/// Default lifetime of an attestation result: one hour.
pub const DEFAULT_RESULT_TTL_SECONDS: u64 = 3600;

/// How the appraisal knows the evidence is fresh. There is no default: the caller
/// chooses.
pub enum Freshness<'a> {
    /// The evidence must carry a nonce that `store` issued, has not expired and was
    /// not used; the appraisal uses it up. Replayed evidence is refused.
    Nonce(&'a mut dyn NonceStore),
    /// The evidence must carry an `iat` no older than `max_age_seconds` and not in the
    /// future (beyond the appraiser's skew). Weaker: evidence can be replayed within
    /// the window, and the device needs a trustworthy clock. Choose it only where a
    /// round trip for a challenge is impossible.
    Timestamp {
        /// The oldest accepted evidence, in seconds before now.
        max_age_seconds: u64,
    },
}

impl core::fmt::Debug for Freshness<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Nonce(_) => f.write_str("Freshness::Nonce(..)"),
            Self::Timestamp { max_age_seconds } => f
                .debug_struct("Freshness::Timestamp")
                .field("max_age_seconds", max_age_seconds)
                .finish(),
        }
    }
}

/// The outcome of the checks against reference values, before it is signed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// The worst tier of the checks.
    pub status: Tier,
    /// The trustworthiness vector.
    pub trust_vector: TrustVector,
    /// One reason per check.
    pub reasons: Vec<Reason>,
}

/// A signed attestation result and its decoded form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Appraisal {
    /// The result, as signed.
    pub result: AttestationResult,
    /// The signed result (a CWT) for relying parties.
    pub token: Vec<u8>,
}

/// An attestation verifier: trusted manufacturers, reference values per hardware
/// model, and the key it signs results with.
///
/// # The checks, and the tier each outcome gives
///
/// | check | affirming | warning | contraindicated |
/// | --- | --- | --- | --- |
/// | `swversion` | an accepted version at or above the minimum | at or above the minimum but not an accepted version | below the minimum (rollback), missing, or not a dotted numeric version |
/// | `measurement` (one per component) | the expected digest | a component the reference values do not list | a different digest, or an expected component missing |
/// | `dbgstat` | at least the required status | disabled, but less locked down than required | `enabled` or missing |
/// | `oemboot` | true | | false or missing |
///
/// **Debug enabled is contraindicated**, not a warning: an open debug port lets
/// anyone with physical access (and city devices stand in the street) read the
/// attestation key and change the firmware at will, so nothing else the device
/// says can be believed.
///
/// The trustworthiness vector: `instance-identity` 2 (the key is endorsed and the
/// ueid matches), `hardware` 2 (an endorsed model with reference values),
/// `executables` from `swversion`, `measurement` and `oemboot` (2 approved, 33
/// unrecognized, 96 contraindicated), `configuration` from `dbgstat` (2 approved, 32
/// unsafe, 96 unsupportable). The status is the worst tier of the checks.
///
/// Identity failures are errors, not results: an untrusted manufacturer, a bad
/// signature, another device's evidence, an unknown model or stale evidence give no
/// signed result at all.
#[derive(Debug)]
pub struct Appraiser {
    manufacturers: ManufacturerVerifier,
    signer: Issuer,
    audience: String,
    references: ReferenceSet,
    verifier_id: VerifierId,
    result_ttl: u64,
    skew: u64,
    limits: Limits,
    audit: Option<Arc<dyn AuditSink>>,
}

impl Appraiser {
    /// An appraiser that trusts the manufacturer keys in `manufacturers` (a
    /// [`ManufacturerVerifier`]; endorsements name no audience, so give it
    /// `any_audience()`), signs
    /// results with `signer` for relying parties of `audience`, and appraises against
    /// `references`.
    ///
    /// The verifier id defaults to the signer's `iss` as developer and
    /// `citysec-attest <version>` as build; results live one hour; the clock skew is
    /// 60 s; the limits are [`Limits::DEFAULT`].
    #[must_use]
    pub fn new(
        manufacturers: ManufacturerVerifier,
        signer: Issuer,
        audience: impl Into<String>,
        references: ReferenceSet,
    ) -> Self {
        let verifier_id = VerifierId {
            developer: String::from(signer.iss()),
            build: String::from(concat!("citysec-attest ", env!("CARGO_PKG_VERSION"))),
        };
        Self {
            manufacturers,
            signer,
            audience: audience.into(),
            references,
            verifier_id,
            result_ttl: DEFAULT_RESULT_TTL_SECONDS,
            skew: DEFAULT_SKEW_SECONDS,
            limits: Limits::DEFAULT,
            audit: None,
        }
    }

    /// Another verifier id (`ear.verifier-id`).
    #[must_use]
    pub fn verifier_id(mut self, developer: impl Into<String>, build: impl Into<String>) -> Self {
        self.verifier_id = VerifierId {
            developer: developer.into(),
            build: build.into(),
        };
        self
    }

    /// How long results stay valid, in seconds (default one hour). A result never
    /// outlives the endorsement it rests on.
    #[must_use]
    pub const fn result_ttl(mut self, seconds: u64) -> Self {
        self.result_ttl = seconds;
        self
    }

    /// Clock skew allowed on evidence `iat` in timestamp mode (default 60 s).
    #[must_use]
    pub const fn skew(mut self, seconds: u64) -> Self {
        self.skew = seconds;
        self
    }

    /// Decoder limits for evidence (default [`Limits::DEFAULT`]: 64 KiB, depth 16,
    /// 256 entries).
    #[must_use]
    pub const fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Reports every appraisal to `sink` from now on: a signed result as
    /// accepted with its tier and the device, a refusal with the error's message
    /// (and the device, once its endorsement verified). A result the sink could
    /// not record is not handed out ([`Error::Audit`]).
    #[must_use]
    pub fn with_audit(mut self, sink: Arc<dyn AuditSink>) -> Self {
        self.audit = Some(sink);
        self
    }

    /// The reference values.
    #[must_use]
    pub const fn references(&self) -> &ReferenceSet {
        &self.references
    }

    /// The key results are signed with.
    #[must_use]
    pub const fn signer(&self) -> &Issuer {
        &self.signer
    }

    /// Appraises `evidence` from the device that `endorsement` vouches for, at `now`.
    ///
    /// In order: the endorsement (trusted manufacturer, signature, validity); the
    /// evidence's COSE layer and signature with the endorsed device key; its claims
    /// (strictly decoded) bound to the endorsement (`ueid`, `hwmodel`, `oemid`);
    /// freshness (a nonce is used up only once the evidence verified); the reference
    /// values of the endorsed `hwmodel`; the checks; the signed result.
    ///
    /// # Errors
    /// [`Error::Endorsement`] and the errors of [`Endorsement::verify`];
    /// [`Error::Core`] and the errors of [`UnverifiedEvidence::parse`] and
    /// [`UnverifiedEvidence::verify`]; freshness errors ([`Error::MissingNonce`],
    /// [`Error::UnknownNonce`], [`Error::NonceExpired`], [`Error::NonceReplayed`],
    /// [`Error::MissingTimestamp`], [`Error::StaleEvidence`],
    /// [`Error::EvidenceFromFuture`]); [`Error::UnknownHwModel`];
    /// [`Error::Credential`] if signing the result fails.
    pub fn appraise(
        &self,
        endorsement: &[u8],
        evidence: &[u8],
        freshness: Freshness<'_>,
        now: Timestamp,
    ) -> Result<Appraisal> {
        let endorsed =
            Endorsement::verify(&self.manufacturers, endorsement, now).map_err(|e| self.refused(None, now, e))?;
        let verified = UnverifiedEvidence::parse(evidence, &self.limits)
            .and_then(|e| e.verify(&endorsed))
            .map_err(|e| self.refused(Some(&endorsed.endorsement().ueid), now, e))?;
        self.appraise_verified(&endorsed, &verified, freshness, now)
    }

    /// Reports a refusal (the refusal stands whether or not it was recorded).
    fn refused(&self, device: Option<&[u8]>, now: Timestamp, e: Error) -> Error {
        if let Some(sink) = &self.audit {
            let reason = e.to_string();
            let event = AuditEvent::Attestation {
                device,
                accepted: false,
                tier: None,
                reason: Some(&reason),
            };
            let _refused = sink.record(Some(now), &event);
        }
        e
    }

    /// As [`Self::appraise`], for an endorsement and evidence that are already verified.
    ///
    /// # Errors
    /// As [`Self::appraise`], from freshness on.
    pub fn appraise_verified(
        &self,
        endorsed: &VerifiedEndorsement,
        evidence: &VerifiedEvidence,
        freshness: Freshness<'_>,
        now: Timestamp,
    ) -> Result<Appraisal> {
        let device = &endorsed.endorsement().ueid;
        let appraisal = self
            .appraise_unreported(endorsed, evidence, freshness, now)
            .map_err(|e| self.refused(Some(device), now, e))?;
        if let Some(sink) = &self.audit {
            let tier = appraisal.result.status.to_string();
            let event = AuditEvent::Attestation {
                device: Some(device),
                accepted: true,
                tier: Some(&tier),
                reason: None,
            };
            sink.record(Some(now), &event).map_err(Error::Audit)?;
        }
        Ok(appraisal)
    }

    fn appraise_unreported(
        &self,
        endorsed: &VerifiedEndorsement,
        evidence: &VerifiedEvidence,
        freshness: Freshness<'_>,
        now: Timestamp,
    ) -> Result<Appraisal> {
        let claims = evidence.claims();
        let nonce = self.check_freshness(claims, freshness, now)?;
        let e = endorsed.endorsement();
        let reference = self.references.get(&e.hwmodel).ok_or(Error::UnknownHwModel)?;
        let verdict = check(claims, reference);
        let expires = now.saturating_add(self.result_ttl).min(endorsed.expires());
        let result = AttestationResult {
            issuer: String::from(self.signer.iss()),
            status: verdict.status,
            trust_vector: verdict.trust_vector,
            reasons: verdict.reasons,
            ueid: e.ueid.clone(),
            hwmodel: e.hwmodel.clone(),
            verifier_id: self.verifier_id.clone(),
            nonce,
            issued_at: now,
            expires,
        };
        let token = result.sign(&self.signer, &self.audience)?;
        Ok(Appraisal { result, token })
    }

    /// Checks freshness, using up the nonce in nonce mode; returns the nonce.
    fn check_freshness(&self, claims: &Evidence, freshness: Freshness<'_>, now: Timestamp) -> Result<Option<Vec<u8>>> {
        match freshness {
            Freshness::Nonce(store) => {
                let nonce = claims.nonce.as_deref().ok_or(Error::MissingNonce)?;
                store.consume(nonce, now)?;
                Ok(Some(nonce.to_vec()))
            }
            Freshness::Timestamp { max_age_seconds } => {
                let iat = claims.iat.ok_or(Error::MissingTimestamp)?;
                if iat > now.saturating_add(self.skew) {
                    return Err(Error::EvidenceFromFuture);
                }
                if iat < now.saturating_sub(max_age_seconds) {
                    return Err(Error::StaleEvidence);
                }
                Ok(None)
            }
        }
    }
}

/// Checks verified evidence claims against the reference values of its model (the
/// table on [`Appraiser`]).
#[must_use]
pub fn check(evidence: &Evidence, reference: &ReferenceValues) -> Verdict {
    let mut reasons = Vec::new();
    let firmware = check_swversion(evidence, reference);
    let mut executables = firmware.tier;
    reasons.push(firmware);
    for r in check_measurements(evidence, reference) {
        executables = executables.max(r.tier);
        reasons.push(r);
    }
    let boot = check_oemboot(evidence);
    executables = executables.max(boot.tier);
    let debug = check_dbgstat(evidence, reference);
    let configuration = debug.tier;
    reasons.push(debug);
    reasons.push(boot);

    let trust_vector = TrustVector {
        instance_identity: Some(claim::TRUSTWORTHY_INSTANCE),
        hardware: Some(claim::GENUINE_HARDWARE),
        executables: Some(match executables {
            Tier::Contraindicated => claim::CONTRAINDICATED_RUNTIME,
            Tier::Warning => claim::UNRECOGNIZED_RUNTIME,
            Tier::Affirming | Tier::None => claim::APPROVED_RUNTIME,
        }),
        configuration: Some(match configuration {
            Tier::Contraindicated => claim::UNSUPPORTABLE_CONFIG,
            Tier::Warning => claim::UNSAFE_CONFIG,
            Tier::Affirming | Tier::None => claim::APPROVED_CONFIG,
        }),
        ..TrustVector::default()
    };
    let status = reasons.iter().map(|r| r.tier).max().unwrap_or(Tier::None);
    Verdict {
        status,
        trust_vector,
        reasons,
    }
}

fn reason(check: Check, tier: Tier, detail: String) -> Reason {
    Reason { check, tier, detail }
}

fn check_swversion(e: &Evidence, r: &ReferenceValues) -> Reason {
    let Some(claim) = &e.swversion else {
        return reason(
            Check::SwVersion,
            Tier::Contraindicated,
            "evidence has no swversion".into(),
        );
    };
    let Some(v) = Version::parse(&claim.version) else {
        return reason(
            Check::SwVersion,
            Tier::Contraindicated,
            format!("swversion `{}` is not a dotted numeric version", claim.version),
        );
    };
    if v < *r.min_version() {
        return reason(
            Check::SwVersion,
            Tier::Contraindicated,
            format!("swversion `{v}` is below the minimum `{}`", r.min_version()),
        );
    }
    if !r.accepted_versions().contains(&v) {
        return reason(
            Check::SwVersion,
            Tier::Warning,
            format!("swversion `{v}` is not an accepted version"),
        );
    }
    reason(
        Check::SwVersion,
        Tier::Affirming,
        format!("swversion `{v}` is accepted"),
    )
}

fn check_measurements(e: &Evidence, r: &ReferenceValues) -> Vec<Reason> {
    let mut out = Vec::new();
    for (name, digest) in r.components() {
        out.push(match e.measurement(name) {
            None => reason(
                Check::Measurement,
                Tier::Contraindicated,
                format!("component `{name}` is not measured"),
            ),
            Some(m) if m.digest != *digest => reason(
                Check::Measurement,
                Tier::Contraindicated,
                format!("component `{name}` digest differs from the reference"),
            ),
            Some(_) => reason(
                Check::Measurement,
                Tier::Affirming,
                format!("component `{name}` matches the reference"),
            ),
        });
    }
    for m in &e.measurements {
        if !r.components().iter().any(|(n, _)| *n == m.name) {
            out.push(reason(
                Check::Measurement,
                Tier::Warning,
                format!("component `{}` is not in the reference values", m.name),
            ));
        }
    }
    out
}

fn check_dbgstat(e: &Evidence, r: &ReferenceValues) -> Reason {
    match e.dbgstat {
        None => reason(
            Check::DebugStatus,
            Tier::Contraindicated,
            "evidence has no dbgstat".into(),
        ),
        Some(DebugStatus::Enabled) => reason(Check::DebugStatus, Tier::Contraindicated, "debug is `enabled`".into()),
        Some(d) if d < r.required_debug_status() => reason(
            Check::DebugStatus,
            Tier::Warning,
            format!(
                "dbgstat `{}` is less than the required `{}`",
                d.name(),
                r.required_debug_status().name()
            ),
        ),
        Some(d) => reason(Check::DebugStatus, Tier::Affirming, format!("dbgstat `{}`", d.name())),
    }
}

fn check_oemboot(e: &Evidence) -> Reason {
    match e.oemboot {
        None => reason(Check::OemBoot, Tier::Contraindicated, "evidence has no oemboot".into()),
        Some(false) => reason(
            Check::OemBoot,
            Tier::Contraindicated,
            "boot chain is not oem-authorized".into(),
        ),
        Some(true) => reason(Check::OemBoot, Tier::Affirming, "boot chain is oem-authorized".into()),
    }
}
