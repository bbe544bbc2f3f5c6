//! Verifying CWTs offline under trust anchors of one domain.

use alloc::string::String;
use alloc::vec::Vec;
use core::marker::PhantomData;

use crate::provider::Provider;
use crate::sign1::{UnverifiedSign1, VerifyOptions};
use crate::{Algorithm, Clock, Limits, Timestamp, VerifyingKey};

use crate::cwt::claims::{ClaimsSet, Profile};
use crate::cwt::domain::{StatusListSigners, TrustDomain};
use crate::cwt::status::VerifiedStatusList;
use crate::cwt::{Error, Result};

/// Default clock skew allowed on `exp`, `nbf` and `iat`: 60 seconds.
pub const DEFAULT_SKEW_SECONDS: u64 = 60;

/// A trusted issuer key with the `iss` it belongs to.
#[derive(Debug, Clone)]
pub(crate) struct TrustedKey {
    pub(crate) iss: String,
    pub(crate) key: VerifyingKey,
}

/// What a verifier accepts: trusted keys of one trust domain `D` (several at
/// once, looked up by `kid`), audiences, clock skew and decoder limits.
///
/// Each key belongs to one issuer: a token signed by a trusted key but naming
/// another `iss` is refused ([`Error::WrongIssuer`]). The domain is part of the
/// type ([`crate::cwt::domain`]), and tokens decode into its claims profile. The
/// profile crates name their domains' anchors: `citysec_credential::Verifier`
/// (credential issuers), `citysec_attest::ManufacturerVerifier` and
/// `citysec_attest::ResultVerifier`; [`StatusListVerifier`] is here.
#[derive(Debug, Clone)]
pub struct TrustAnchors<D: TrustDomain> {
    provider: Provider,
    trusted: Vec<TrustedKey>,
    audiences: Vec<String>,
    any_audience: bool,
    skew: u64,
    limits: Limits,
    require_status: bool,
    max_status_age: Option<u64>,
    domain: PhantomData<D>,
}

/// Trust anchors for Token Status Lists.
pub type StatusListVerifier = TrustAnchors<StatusListSigners>;

/// A CWT whose signature, issuer, validity period, audience and status were
/// checked under trust anchors of domain `D`. Only [`TrustAnchors::verify`] (and
/// the batch and presentation checks) make one, so a value of this type is
/// verified, and its domain says by whom.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedCwt<D: TrustDomain> {
    /// `claims.iss` is the trusted key's issuer (checked before one is made), so it
    /// doubles as [`Self::issuer`] instead of a second copy.
    claims: D::Claims,
    kid: Vec<u8>,
    alg: Algorithm,
    domain: PhantomData<D>,
}

impl<D: TrustDomain> VerifiedCwt<D> {
    /// The verified claims.
    #[must_use]
    pub const fn claims(&self) -> &D::Claims {
        &self.claims
    }

    /// The issuer whose key signed the credential (equal to `claims().iss`).
    #[must_use]
    pub fn issuer(&self) -> &str {
        self.claims.claims_set().iss.as_deref().unwrap_or_default()
    }

    /// The `kid` of the issuer key that verified.
    #[must_use]
    pub fn kid(&self) -> &[u8] {
        &self.kid
    }

    /// The signature algorithm.
    #[must_use]
    pub const fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// The claims, by value.
    #[must_use]
    pub fn into_claims(self) -> D::Claims {
        self.claims
    }
}

/// A parsed token with its issuer key chosen, before the signature check.
pub(crate) struct Pending<'t, 'v> {
    pub(crate) msg: UnverifiedSign1<'t>,
    pub(crate) trusted: &'v TrustedKey,
}

impl<D: TrustDomain> TrustAnchors<D> {
    /// A verifier that checks signatures with `provider` (bound once: no call
    /// takes a backend), trusts nothing and accepts no audience yet.
    #[must_use]
    pub const fn new(provider: &Provider) -> Self {
        Self {
            provider: *provider,
            trusted: Vec::new(),
            audiences: Vec::new(),
            any_audience: false,
            skew: DEFAULT_SKEW_SECONDS,
            limits: Limits::DEFAULT,
            require_status: false,
            max_status_age: None,
            domain: PhantomData,
        }
    }

    /// The same keys, audiences and settings, as trust anchors of another domain
    /// `E`: for a deployment where one signer really holds both roles (in
    /// citysec's profile, an issuer signs its own status lists:
    /// [`Self::status_list_signers`]). Every such conversion is explicit.
    #[must_use]
    pub fn for_domain<E: TrustDomain>(&self) -> TrustAnchors<E> {
        TrustAnchors {
            provider: self.provider,
            trusted: self.trusted.clone(),
            audiences: self.audiences.clone(),
            any_audience: self.any_audience,
            skew: self.skew,
            limits: self.limits,
            require_status: self.require_status,
            max_status_age: self.max_status_age,
            domain: PhantomData,
        }
    }

    /// Trusts `key` (which must have a `kid`) for issuer `iss`. The provider
    /// imports the key here ([`Provider::import`]): it checks that the key is a
    /// point of its curve and parses it once, for every later verification.
    ///
    /// # Errors
    /// [`Error::InvalidConfiguration`] without a `kid`;
    /// `Error::Core(DuplicateKid)` if a trusted key already has this `kid`;
    /// `Error::Core(InvalidKey)` if the key is not a point of its curve;
    /// `Error::Core(UnsupportedAlgorithm)` if the provider cannot verify its
    /// algorithm.
    pub fn trust(mut self, iss: impl Into<String>, key: VerifyingKey) -> Result<Self> {
        let kid = key.kid().ok_or(Error::InvalidConfiguration)?;
        if self.trusted.iter().any(|t| t.key.kid() == Some(kid)) {
            return Err(Error::Core(crate::Error::DuplicateKid));
        }
        let key = self.provider.import(key)?;
        self.trusted.push(TrustedKey { iss: iss.into(), key });
        Ok(self)
    }

    /// Stops trusting the key with `kid` (after a rotation), returning whether it was there.
    pub fn distrust(&mut self, kid: &[u8]) -> bool {
        let before = self.trusted.len();
        self.trusted.retain(|t| t.key.kid() != Some(kid));
        before != self.trusted.len()
    }

    /// Accepts credentials for `aud` (call once per accepted audience).
    #[must_use]
    pub fn audience(mut self, aud: impl Into<String>) -> Self {
        self.audiences.push(aud.into());
        self
    }

    /// Accepts credentials whatever their audience. For inspection tools only: a door
    /// controller should always name its audience.
    #[must_use]
    pub const fn any_audience(mut self) -> Self {
        self.any_audience = true;
        self
    }

    /// Allowed clock skew in seconds (default 60).
    #[must_use]
    pub const fn skew(mut self, seconds: u64) -> Self {
        self.skew = seconds;
        self
    }

    /// Decoder limits (default [`Limits::DEFAULT`]).
    #[must_use]
    pub const fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Refuses credentials that carry no status reference.
    #[must_use]
    pub const fn require_status(mut self, yes: bool) -> Self {
        self.require_status = yes;
        self
    }

    /// Refuses, when checking a credential, a status list older (`now - iat`) than
    /// `seconds`, or than the list's own `ttl` where it has one
    /// ([`Error::StatusListTooOld`]).
    ///
    /// Default: no bound beyond the list's `exp`, which every list must carry.
    /// A door controller may be offline for longer than a list's `ttl` (which the
    /// draft defines as a caching hint); refusing then would lock every holder out,
    /// so the bound is the site's choice: set it to how often lists are pushed,
    /// plus margin.
    #[must_use]
    pub const fn max_status_age(mut self, seconds: u64) -> Self {
        self.max_status_age = Some(seconds);
        self
    }

    /// The crypto provider signatures are checked with.
    #[must_use]
    pub const fn provider(&self) -> &Provider {
        &self.provider
    }

    /// The limits in use.
    #[must_use]
    pub const fn current_limits(&self) -> &Limits {
        &self.limits
    }

    /// The issuer a trusted `kid` belongs to.
    #[must_use]
    pub fn issuer_of(&self, kid: &[u8]) -> Option<&str> {
        self.trusted
            .iter()
            .find(|t| t.key.kid() == Some(kid))
            .map(|t| t.iss.as_str())
    }

    pub(crate) fn options(&self) -> VerifyOptions<'static> {
        VerifyOptions::default().with_limits(self.limits)
    }

    /// Parses `token` and picks the trusted key: by `kid`, or the only trusted key
    /// when the token has no `kid`.
    pub(crate) fn pending<'t>(&self, token: &'t [u8]) -> Result<Pending<'t, '_>> {
        let msg = UnverifiedSign1::parse(token, &self.options())?;
        let trusted = match msg.kid() {
            Some(kid) => self.trusted.iter().find(|t| t.key.kid() == Some(kid)),
            None => match self.trusted.as_slice() {
                [only] => Some(only),
                _ => None,
            },
        }
        .ok_or(crate::Error::UnknownKey)?;
        if trusted.key.algorithm() != msg.algorithm() {
            return Err(Error::Core(crate::Error::KeyAlgMismatch));
        }
        Ok(Pending { msg, trusted })
    }

    /// Verifies a credential at time `now`, checking its status against `status_lists`
    /// when it carries a status reference.
    ///
    /// Order: COSE structure and profile, key by `kid`, signature; then (only for a
    /// genuine token) claims, issuer, `exp`/`nbf`/`iat` with the skew, audience, status.
    ///
    /// # Errors
    /// [`Error::Core`] for the COSE layer (including `UnknownKey`, `KeyAlgMismatch`
    /// and the opaque `BadSignature`); then the claim errors of [`Error`].
    pub fn verify(&self, token: &[u8], now: Timestamp, status_lists: &[VerifiedStatusList]) -> Result<VerifiedCwt<D>> {
        let p = self.pending(token)?;
        let verified = p.msg.verify(&self.provider, &p.trusted.key, b"")?;
        self.check_claims(verified.payload(), p.trusted, now, status_lists)
    }

    /// As [`Self::verify`], reading the time from `clock` (no time: refused).
    ///
    /// # Errors
    /// `Error::Core(ClockUnavailable)` when the clock has no time; else as [`Self::verify`].
    pub fn verify_with_clock(
        &self,
        token: &[u8],
        clock: &dyn Clock,
        status_lists: &[VerifiedStatusList],
    ) -> Result<VerifiedCwt<D>> {
        let now = clock.now().ok_or(crate::Error::ClockUnavailable)?;
        self.verify(token, now, status_lists)
    }

    /// The claim checks, after the signature verified.
    pub(crate) fn check_claims(
        &self,
        payload: &[u8],
        trusted: &TrustedKey,
        now: Timestamp,
        status_lists: &[VerifiedStatusList],
    ) -> Result<VerifiedCwt<D>> {
        let claims = D::Claims::from_cbor(payload, &self.limits)?;
        let set = claims.claims_set();
        if set.iss.as_deref() != Some(trusted.iss.as_str()) {
            return Err(Error::WrongIssuer);
        }
        self.check_times(set, now)?;
        if !self.any_audience {
            if set.aud.is_empty() {
                return Err(Error::MissingAudience);
            }
            if !set.aud.iter().any(|a| self.audiences.contains(a)) {
                return Err(Error::WrongAudience);
            }
        }
        match &set.status {
            Some(r) => {
                let list = status_lists
                    .iter()
                    .find(|l| l.uri() == r.uri)
                    .ok_or(Error::StatusUnavailable)?;
                list.check_with_age(&trusted.iss, r.idx, now, self.skew, self.max_status_age)?;
            }
            None if self.require_status => return Err(Error::StatusUnavailable),
            None => {}
        }
        Ok(VerifiedCwt {
            claims,
            kid: trusted.key.kid().unwrap_or_default().to_vec(),
            alg: trusted.key.algorithm(),
            domain: PhantomData,
        })
    }

    /// `exp` required; `exp`, `nbf`, `iat` against `now` with the skew.
    fn check_times(&self, claims: &ClaimsSet, now: Timestamp) -> Result<()> {
        let exp = claims.exp.ok_or(Error::MissingExpiration)?;
        if now >= exp.saturating_add(self.skew) {
            return Err(Error::Expired);
        }
        let latest = now.saturating_add(self.skew);
        if claims.nbf.is_some_and(|nbf| nbf > latest) {
            return Err(Error::NotYetValid);
        }
        if claims.iat.is_some_and(|iat| iat > latest) {
            return Err(Error::IssuedInFuture);
        }
        Ok(())
    }

    /// Verifies many credentials at once: the signatures through the provider's
    /// batch verification ([`Provider::verify_batch`], one result per
    /// signature; the RustCrypto provider's `batch` feature checks Ed25519
    /// signatures in one equation that accepts exactly what strict single
    /// verification accepts), then each credential's claims. Results come in the
    /// order of `tokens`, each as [`Self::verify`] would return it.
    pub fn verify_batch(
        &self,
        tokens: &[&[u8]],
        now: Timestamp,
        status_lists: &[VerifiedStatusList],
    ) -> Vec<Result<VerifiedCwt<D>>> {
        use crate::provider::BatchItem;

        let pending: Vec<Result<Pending<'_, '_>>> = tokens.iter().map(|t| self.pending(t)).collect();
        let tbs: Vec<Option<Vec<u8>>> = pending
            .iter()
            .map(|p| p.as_ref().ok().map(|p| p.msg.to_be_signed(b"")))
            .collect();
        // One batch per algorithm, in token order; each result goes back to its token.
        let mut signature: Vec<Option<crate::Result<()>>> = pending.iter().map(|_| None).collect();
        for alg in [Algorithm::EdDSA, Algorithm::ES256] {
            let (at, items): (Vec<usize>, Vec<BatchItem<'_>>) = pending
                .iter()
                .zip(&tbs)
                .enumerate()
                .filter_map(|(i, (p, t))| match (p, t) {
                    (Ok(p), Some(t)) if p.msg.algorithm() == alg => Some((
                        i,
                        BatchItem {
                            key: &p.trusted.key,
                            msg: t,
                            sig: p.msg.signature(),
                        },
                    )),
                    _ => None,
                })
                .unzip();
            if items.is_empty() {
                continue;
            }
            let results = self.provider.verify_batch(alg, &items);
            for (i, r) in at.into_iter().zip(results) {
                if let Some(slot) = signature.get_mut(i) {
                    *slot = Some(r);
                }
            }
        }
        pending
            .into_iter()
            .zip(signature)
            .map(|(p, sig)| {
                let p = p?;
                // A missing result (impossible: every parsed token was in a batch)
                // is a refusal.
                sig.unwrap_or(Err(crate::Error::BadSignature))?;
                // The provider verified this signature over the Sig_structure of
                // exactly these bytes; the structure was checked in `pending`.
                self.check_claims(p.msg.payload_unverified(), p.trusted, now, status_lists)
            })
            .collect()
    }
}
