//! Issuing credentials.

use alloc::string::String;
use alloc::vec::Vec;

use alloc::boxed::Box;
use citysec_core::coset::Header;
use citysec_core::sign1::{self, Tagging};

use citysec_core::VerifyingKey;
use citysec_core::provider::Signer;

use crate::{Claims, Error, Result};

/// A credential issuer: an `iss` name and the signer whose public key its
/// verifiers trust. The signer's key may live anywhere: in memory (a provider's
/// [`Provider::signer`](citysec_core::provider::Provider::signer)), in a PKCS#11
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

    /// Signs `claims` as a credential: a tagged COSE_Sign1 with `alg` and `kid` in the
    /// protected header and the claims as payload. `iss` is set to this issuer.
    ///
    /// # Errors
    /// [`Error::MissingExpiration`] without `exp`; [`Error::WrongIssuer`] if the claims
    /// name another issuer; the encoding errors of [`Claims::to_cbor`]; the signer's errors.
    pub fn issue(&self, claims: &Claims) -> Result<Vec<u8>> {
        if claims.exp.is_none() {
            return Err(Error::MissingExpiration);
        }
        if claims.iss.as_deref().is_some_and(|i| i != self.iss) {
            return Err(Error::WrongIssuer);
        }
        let mut claims = claims.clone();
        claims.iss = Some(self.iss.clone());
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
