//! Proof of possession: a holder answers a reader's challenge with a presentation
//! signed by the key its credential is bound to (`cnf`, RFC 8747).
//!
//! A presentation is a tagged COSE_Sign1 by the holder key whose payload is
//!
//! ```text
//! {1: credential (bstr, the whole token), 2: nonce (bstr), 3: reader (tstr), 4: time (uint)}
//! ```
//!
//! so a credential copied off the air is useless without the holder's key, and a
//! recorded presentation does not answer the next challenge.

use alloc::string::String;
use alloc::vec::Vec;

use crate::cbor::{Head, Reader, Tags, check_well_formed};
use crate::provider::Signer;
use crate::sign1::{self, UnverifiedSign1};
use crate::{RandomSource, Timestamp};
use coset::cbor::value::Value;
use subtle::ConstantTimeEq;

use crate::cwt::domain::TrustDomain;
use crate::cwt::status::VerifiedStatusList;
use crate::cwt::{Confirmation, Error, Profile, Result, TrustAnchors, VerifiedCwt};

/// Length of a challenge nonce in bytes.
pub const NONCE_LEN: usize = 32;

/// A reader's challenge: a fresh random nonce, the reader's id and the time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
    nonce: [u8; NONCE_LEN],
    reader: String,
    issued_at: Timestamp,
}

impl Challenge {
    /// A fresh challenge from `rng` for `reader` at `now`.
    ///
    /// # Errors
    /// Errors of `rng`.
    pub fn new(rng: &mut dyn RandomSource, reader: impl Into<String>, now: Timestamp) -> Result<Self> {
        let mut nonce = [0u8; NONCE_LEN];
        rng.fill(&mut nonce)?;
        Ok(Self::from_parts(nonce, reader, now))
    }

    /// A challenge from its parts (a holder device decoding one, or a test).
    #[must_use]
    pub fn from_parts(nonce: [u8; NONCE_LEN], reader: impl Into<String>, issued_at: Timestamp) -> Self {
        Self {
            nonce,
            reader: reader.into(),
            issued_at,
        }
    }

    /// The nonce.
    #[must_use]
    pub const fn nonce(&self) -> &[u8; NONCE_LEN] {
        &self.nonce
    }

    /// The reader's id.
    #[must_use]
    pub fn reader(&self) -> &str {
        &self.reader
    }

    /// When the reader made the challenge.
    #[must_use]
    pub const fn issued_at(&self) -> Timestamp {
        self.issued_at
    }

    /// The challenge as CBOR `[nonce, reader, time]`, to send to the holder.
    ///
    /// # Errors
    /// [`Error::MalformedPresentation`] if encoding fails.
    pub fn to_cbor(&self) -> Result<Vec<u8>> {
        let v = Value::Array(alloc::vec![
            Value::Bytes(self.nonce.to_vec()),
            Value::Text(self.reader.clone()),
            Value::from(self.issued_at.as_unix_seconds()),
        ]);
        let mut out = Vec::new();
        crate::cbor::write::value(&mut out, &v).map_err(|_| Error::MalformedPresentation)?;
        Ok(out)
    }

    /// Decodes a challenge sent by a reader.
    ///
    /// # Errors
    /// [`Error::Core`] for ill-formed CBOR; [`Error::MalformedPresentation`].
    pub fn from_cbor(bytes: &[u8]) -> Result<Self> {
        check_well_formed(bytes, &crate::Limits::DEFAULT.with_max_message_size(1024), Tags::Forbid)?;
        let v = crate::cbor::to_value(bytes).map_err(|_| Error::MalformedPresentation)?;
        let Value::Array(parts) = v else {
            return Err(Error::MalformedPresentation);
        };
        let [nonce, reader, time] = <[Value; 3]>::try_from(parts).map_err(|_| Error::MalformedPresentation)?;
        match (nonce, reader, time) {
            (Value::Bytes(n), Value::Text(r), Value::Integer(t)) => Ok(Self {
                nonce: n.try_into().map_err(|_| Error::MalformedPresentation)?,
                reader: r,
                issued_at: Timestamp::from_unix_seconds(u64::try_from(t).map_err(|_| Error::MalformedPresentation)?),
            }),
            _ => Err(Error::MalformedPresentation),
        }
    }
}

/// The holder's answer: signs the credential and the challenge with the holder
/// key (the one the credential's `cnf` names), held by `holder`.
///
/// # Errors
/// [`Error::MalformedPresentation`] if encoding fails; the signer's errors.
pub fn present(holder: &dyn Signer, credential: &[u8], challenge: &Challenge) -> Result<Vec<u8>> {
    let payload = Value::Map(alloc::vec![
        (Value::from(1), Value::Bytes(credential.to_vec())),
        (Value::from(2), Value::Bytes(challenge.nonce.to_vec())),
        (Value::from(3), Value::Text(challenge.reader.clone())),
        (Value::from(4), Value::from(challenge.issued_at.as_unix_seconds())),
    ]);
    let mut bytes = Vec::new();
    crate::cbor::write::value(&mut bytes, &payload).map_err(|_| Error::MalformedPresentation)?;
    Ok(sign1::sign(holder, &bytes, b"")?)
}

/// The parts of a presentation payload, borrowed from it.
struct Parts<'a> {
    credential: &'a [u8],
    nonce: &'a [u8],
    reader: &'a str,
    time: u64,
}

/// The content of the string whose head `h` was just read.
fn string<'a>(r: &mut Reader<'a>, h: Head) -> Result<&'a [u8]> {
    r.take_string(h).map_err(|_| Error::MalformedPresentation)
}

/// Reads the presentation payload `{1: bstr, 2: bstr, 3: tstr, 4: uint}`, which
/// already passed the well-formedness pass (so no key appears twice), straight
/// from the bytes.
fn parts(payload: &[u8]) -> Result<Parts<'_>> {
    use crate::cbor::{MAJOR_BYTES, MAJOR_MAP, MAJOR_TEXT, MAJOR_UINT};
    let mut r = Reader::new(payload);
    let map = r.head().map_err(|_| Error::MalformedPresentation)?;
    if map.major != MAJOR_MAP {
        return Err(Error::MalformedPresentation);
    }
    let (mut credential, mut nonce, mut reader, mut time) = (None, None, None, None);
    for _ in 0..map.arg {
        let key = r.head().map_err(|_| Error::MalformedPresentation)?;
        let value = r.head().map_err(|_| Error::MalformedPresentation)?;
        match (key.major, key.arg, value.major) {
            (MAJOR_UINT, 1, MAJOR_BYTES) => credential = Some(string(&mut r, value)?),
            (MAJOR_UINT, 2, MAJOR_BYTES) => nonce = Some(string(&mut r, value)?),
            (MAJOR_UINT, 3, MAJOR_TEXT) => {
                reader = Some(core::str::from_utf8(string(&mut r, value)?).map_err(|_| Error::MalformedPresentation)?);
            }
            (MAJOR_UINT, 4, MAJOR_UINT) => time = Some(value.arg),
            _ => return Err(Error::MalformedPresentation),
        }
    }
    Ok(Parts {
        credential: credential.ok_or(Error::MalformedPresentation)?,
        nonce: nonce.ok_or(Error::MalformedPresentation)?,
        reader: reader.ok_or(Error::MalformedPresentation)?,
        time: time.ok_or(Error::MalformedPresentation)?,
    })
}

impl<D: TrustDomain> TrustAnchors<D> {
    /// Verifies a presentation answering `challenge` at `now`: the embedded
    /// token (fully, as [`Self::verify`]), then the presentation's signature by the
    /// credential's `cnf` key, then that it answers this very challenge, then that
    /// the challenge is at most `max_age` seconds old.
    ///
    /// # Errors
    /// [`Error::MalformedPresentation`]; every error of [`Self::verify`];
    /// [`Error::NoConfirmationKey`] if the credential binds no embedded key;
    /// `Error::Core(BadSignature)` if another key signed the presentation;
    /// [`Error::ChallengeMismatch`]; [`Error::ChallengeExpired`].
    pub fn verify_presentation(
        &self,
        presentation: &[u8],
        challenge: &Challenge,
        now: Timestamp,
        max_age: u64,
        status_lists: &[VerifiedStatusList],
    ) -> Result<VerifiedCwt<D>> {
        let outer = UnverifiedSign1::parse(presentation, &self.options())?;
        let payload = outer.payload_unverified();
        check_well_formed(payload, self.current_limits(), Tags::Forbid).map_err(|_| Error::MalformedPresentation)?;
        let p = parts(payload)?;
        let credential = self.verify(p.credential, now, status_lists)?;
        let Some(Confirmation::Key(holder)) = &credential.claims().claims_set().cnf else {
            return Err(Error::NoConfirmationKey);
        };
        // The holder key was read from the credential without curve arithmetic:
        // the provider checks that it is a point here.
        let holder = self.provider().import(holder.clone())?;
        outer.verify(self.provider(), &holder, b"")?;
        let same = bool::from(p.nonce.ct_eq(&challenge.nonce[..]))
            && p.reader == challenge.reader.as_str()
            && p.time == challenge.issued_at.as_unix_seconds();
        if !same {
            return Err(Error::ChallengeMismatch);
        }
        if now > challenge.issued_at.saturating_add(max_age) {
            return Err(Error::ChallengeExpired);
        }
        Ok(credential)
    }
}
