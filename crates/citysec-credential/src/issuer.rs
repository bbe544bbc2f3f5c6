//! Issuing credentials.

use alloc::string::String;
use alloc::vec::Vec;

use citysec_core::coset::Header;
use citysec_core::sign1::{self, Tagging};
use citysec_core::{Backend, SigningKey, VerifyingKey};

use crate::{Claims, Error, Result};

/// A credential issuer: an `iss` name and the signing key its verifiers trust.
#[derive(Debug)]
pub struct Issuer {
    iss: String,
    key: SigningKey,
}

impl Issuer {
    /// An issuer named `iss` signing with `key` (EdDSA or ES256).
    ///
    /// # Errors
    /// [`Error::InvalidConfiguration`] if the key has no `kid` (verifiers pick the
    /// key by `kid`, so rotation works without a flag day) or `iss` is empty.
    pub fn new(iss: impl Into<String>, key: SigningKey) -> Result<Self> {
        let iss = iss.into();
        if key.kid().is_none() || iss.is_empty() {
            return Err(Error::InvalidConfiguration);
        }
        Ok(Self { iss, key })
    }

    /// The issuer's name.
    #[must_use]
    pub fn iss(&self) -> &str {
        &self.iss
    }

    /// The public key verifiers trust for this issuer.
    #[must_use]
    pub fn verifying_key(&self) -> VerifyingKey {
        self.key.verifying_key()
    }

    /// The signing key.
    #[must_use]
    pub const fn signing_key(&self) -> &SigningKey {
        &self.key
    }

    /// Signs `claims` as a credential: a tagged COSE_Sign1 with `alg` and `kid` in the
    /// protected header and the claims as payload. `iss` is set to this issuer.
    ///
    /// # Errors
    /// [`Error::MissingExpiration`] without `exp`; [`Error::WrongIssuer`] if the claims
    /// name another issuer; the encoding errors of [`Claims::to_cbor`]; backend errors.
    pub fn issue(&self, backend: &dyn Backend, claims: &Claims) -> Result<Vec<u8>> {
        if claims.exp.is_none() {
            return Err(Error::MissingExpiration);
        }
        if claims.iss.as_deref().is_some_and(|i| i != self.iss) {
            return Err(Error::WrongIssuer);
        }
        let mut claims = claims.clone();
        claims.iss = Some(self.iss.clone());
        let payload = claims.to_cbor()?;
        self.sign_payload(backend, &payload, Header::default())
    }

    /// Signs an already encoded payload with this issuer's key (status lists use it).
    pub(crate) fn sign_payload(&self, backend: &dyn Backend, payload: &[u8], protected: Header) -> Result<Vec<u8>> {
        Ok(sign1::sign_with_headers(
            backend,
            &self.key,
            protected,
            Header::default(),
            payload,
            b"",
            Tagging::Tagged,
        )?)
    }
}
