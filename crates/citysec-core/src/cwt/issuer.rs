//! Issuing CWTs.

use alloc::string::String;
use alloc::vec::Vec;

use crate::sign1::{self, Tagging};
use alloc::boxed::Box;
use coset::Header;

use crate::VerifyingKey;
use crate::provider::Signer;

use crate::cwt::claims::Profile;
use crate::cwt::{Error, Result};

/// A CWT issuer (of access credentials, endorsements, attestation results or
/// status lists): an `iss` name and the signer whose public key its verifiers
/// trust. The signer's key may live anywhere: in memory (a provider's
/// [`Provider::signer`](crate::provider::Provider::signer)), in a PKCS#11
/// token or in a secure element.
#[derive(Debug)]
pub struct Issuer {
    iss: String,
    signer: Box<dyn Signer>,
}

impl Issuer {
    /// An issuer named `iss` signing with `signer` (EdDSA or ES256).
    ///
    /// # Errors
    /// [`Error::InvalidConfiguration`] if the signer's key has no `kid` (verifiers
    /// pick the key by `kid`, so rotation works without a flag day) or `iss` is
    /// empty.
    pub fn new(iss: impl Into<String>, signer: Box<dyn Signer>) -> Result<Self> {
        let iss = iss.into();
        if signer.kid().is_none() || iss.is_empty() {
            return Err(Error::InvalidConfiguration);
        }
        Ok(Self { iss, signer })
    }

    /// The issuer's name.
    #[must_use]
    pub fn iss(&self) -> &str {
        &self.iss
    }

    /// The public key verifiers trust for this issuer.
    #[must_use]
    pub fn verifying_key(&self) -> VerifyingKey {
        self.signer.verifying_key().clone()
    }

    /// The signer.
    #[must_use]
    pub fn signer(&self) -> &dyn Signer {
        &*self.signer
    }

    /// Signs `claims` (of any profile) as a CWT: a tagged COSE_Sign1 with `alg` and
    /// `kid` in the protected header and the claims as payload. `iss` is set to
    /// this issuer.
    ///
    /// # Errors
    /// [`Error::MissingExpiration`] without `exp`; [`Error::WrongIssuer`] if the claims
    /// name another issuer; the encoding errors of [`Profile::to_cbor`]; the signer's errors.
    pub fn issue<C: Profile>(&self, claims: &C) -> Result<Vec<u8>> {
        let set = claims.claims_set();
        if set.exp.is_none() {
            return Err(Error::MissingExpiration);
        }
        if set.iss.as_deref().is_some_and(|i| i != self.iss) {
            return Err(Error::WrongIssuer);
        }
        let mut claims = claims.clone();
        claims.claims_set_mut().iss = Some(self.iss.clone());
        let payload = claims.to_cbor()?;
        self.sign_payload(&payload, Header::default())
    }

    /// Signs an already encoded payload with this issuer's key (status lists use it).
    pub(crate) fn sign_payload(&self, payload: &[u8], protected: Header) -> Result<Vec<u8>> {
        Ok(sign1::sign_with_headers(
            &*self.signer,
            protected,
            Header::default(),
            payload,
            b"",
            Tagging::Tagged,
        )?)
    }
}
