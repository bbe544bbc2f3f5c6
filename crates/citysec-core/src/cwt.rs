//! The CWT layer (RFC 8392) under citysec's profiles: a claims
//! set with the registered claims, trust anchors that carry their trust domain in
//! their type, an issuer that signs through any `Signer` (its key may live in an
//! HSM), revocation by Token Status List, and proof of possession of the holder key
//! (`cnf`, RFC 8747).
//!
//! Two sibling profiles build on it, and neither depends on the other:
//!
//! - **citysec-credential**, access credentials: `roles`, `zones`, `kind` and
//!   `schedule` on top of the claims set, verified by `Verifier`
//!   (`TrustAnchors<Issuers>`).
//! - **citysec-attest**, endorsements and attestation results: claims sets verified
//!   by `ManufacturerVerifier` and `ResultVerifier`.
//!
//! # The layer
//!
//! - [`ClaimsSet`]: `iss`, `sub`, `aud`, `exp`, `nbf`, `iat`, `cti`, `cnf`, `status`
//!   in their own fields, every other claim kept in `other` as it came. A profile
//!   adds claims through [`ClaimsSet::from_cbor_with`] (it is offered each
//!   unregistered integer key first) and [`ClaimsSet::to_cbor_with`], and implements
//!   [`Profile`].
//! - [`TrustDomain`]: a marker type per kind of signer, naming the [`Profile`] its
//!   tokens decode into. [`TrustAnchors<D>`](TrustAnchors) holds the trusted keys of
//!   one domain (each bound to its `iss`), the accepted audiences, the clock skew,
//!   the decoder limits and the provider that checks signatures; it makes
//!   [`VerifiedCwt<D>`](VerifiedCwt), and nothing else does.
//! - What [`TrustAnchors::verify`] checks, in order: the COSE layer (citysec-core's
//!   profile), the key by `kid` (its algorithm equal to `alg`), the signature
//!   (opaque failure); then, only for a genuine token: the claims map and types,
//!   `iss` equal to the key's issuer, `exp` required and not past, `nbf` and `iat`
//!   not in the future (each with the skew, default 60 s), an accepted audience
//!   (unless `any_audience`), and the status entry when the token has a status
//!   reference.
//! - [`Issuer`]: an `iss` and a `Signer`; [`Issuer::issue`] signs any profile's
//!   claims as a tagged COSE_Sign1 with `alg` and `kid` protected, refusing claims
//!   without `exp` or naming another issuer.
//! - [`status`]: Token Status Lists (draft-ietf-oauth-status-list, CWT form), signed
//!   by an issuer, verified by a [`StatusListVerifier`], never accepted older than
//!   the one held.
//! - [`presentation`]: a holder's answer to a reader's challenge, signed by the
//!   `cnf` key.
//!
//! ```
//! use citysec_core::{SigningKey, Timestamp};
//! use citysec_core::cwt::{ClaimsSet, Issuer, TrustAnchors, TrustDomain};
//! use citysec_rustcrypto::PROVIDER;
//!
//! // A profile names its domain and the claims its tokens decode into.
//! #[derive(Clone, Copy, Debug, PartialEq, Eq)]
//! struct DeviceRegistrars;
//! impl TrustDomain for DeviceRegistrars {
//!     const NAME: &'static str = "device registrars";
//!     type Claims = ClaimsSet;
//! }
//!
//! let issuer = Issuer::new(
//!     "https://issuer.city.example",
//!     PROVIDER.signer(SigningKey::ed25519(&[1u8; 32]).with_kid(b"iss-1".to_vec()))?,
//! )?;
//! let mut claims = ClaimsSet::new();
//! claims.sub = Some("device-7".into());
//! claims.aud = vec!["gateways".into()];
//! claims.exp = Some(Timestamp::from_unix_seconds(2_000_000_000));
//! let token = issuer.issue(&claims)?;
//!
//! let anchors = TrustAnchors::<DeviceRegistrars>::new(&PROVIDER)
//!     .trust(issuer.iss(), issuer.verifying_key())?
//!     .audience("gateways");
//! let verified = anchors.verify(&token, Timestamp::from_unix_seconds(1_900_000_000), &[])?;
//! assert_eq!(verified.claims().sub.as_deref(), Some("device-7"));
//! assert_eq!(verified.issuer(), "https://issuer.city.example");
//! # Ok::<(), citysec_core::cwt::Error>(())
//! ```

pub mod claims;
pub mod domain;
mod error;
mod issuer;
pub mod presentation;
pub mod status;
mod verifier;

pub use claims::{ClaimKey, ClaimReader, ClaimsSet, Confirmation, Profile, StatusRef};
pub use domain::{StatusListSigners, TrustDomain};
pub use error::{Error, Result};
pub use issuer::Issuer;
pub use presentation::{Challenge, present};
pub use status::{StatusList, VerifiedStatusList};
pub use verifier::{DEFAULT_SKEW_SECONDS, StatusListVerifier, TrustAnchors, VerifiedCwt};
