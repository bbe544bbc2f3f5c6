//! C2SP signed notes (c2sp.org/signed-note): text signed by one or more keys,
//! with Ed25519 note signatures (type `0x01`) and verifier keys (`vkey`s).
//!
//! ```text
//! <text, ending in a newline>
//!
//! — <key name> base64(4-byte key ID ‖ signature)
//! ```
//!
//! The parser takes exactly that form:
//! - valid UTF-8 with no control character other than the newline;
//! - the text ends at the last empty line;
//! - one or more signature lines follow, each an em dash, a space, the key
//!   name (no spaces, no `+`), a space, and standard base64 with padding
//!   (canonical: its unused bits are zero).
//!
//! It is bounded by [`MAX_NOTE_LEN`] bytes and [`MAX_SIGNATURES`] lines. A
//! signature line of an unknown key (its name and key ID do not both match a
//! trusted key) is ignored, and so is any line of a trusted key after its first.
//! If a trusted key's signature fails, the whole note is refused.

use alloc::string::String;
use alloc::vec::Vec;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use citysec_core::provider::{Provider, Signer};
use citysec_core::{Algorithm, VerifyingKey};
use sha2::{Digest as _, Sha256};

use crate::{Error, Result};

/// The longest note accepted, in bytes.
pub const MAX_NOTE_LEN: usize = 16 * 1024;

/// The most signature lines a note may carry (the specification asks verifiers
/// to accept at least 16).
pub const MAX_SIGNATURES: usize = 64;

/// Signature type of Ed25519 note signatures.
pub const TYPE_ED25519: u8 = 0x01;

/// Signature type of Ed25519 checkpoint cosignatures (c2sp.org/tlog-cosignature).
pub const TYPE_COSIGNATURE_V1: u8 = 0x04;

/// The start of a signature line: an em dash (U+2014) and a space.
const SIG_PREFIX: &str = "\u{2014} ";

/// One signature line of a note, its base64 decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteSignature<'a> {
    name: &'a str,
    key_id: u32,
    signature: Vec<u8>,
}

impl<'a> NoteSignature<'a> {
    /// The key name.
    #[must_use]
    pub const fn name(&self) -> &'a str {
        self.name
    }

    /// The key ID (the first four bytes, big-endian).
    #[must_use]
    pub const fn key_id(&self) -> u32 {
        self.key_id
    }

    /// The signature bytes after the key ID.
    #[must_use]
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }
}

/// A parsed note: the text and the signature lines, none verified yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note<'a> {
    text: &'a str,
    signatures: Vec<NoteSignature<'a>>,
}

impl<'a> Note<'a> {
    /// Parses `bytes` as a signed note (see the [module](self) for the form).
    ///
    /// # Errors
    /// [`Error::TooLarge`] beyond [`MAX_NOTE_LEN`]; [`Error::TooManySignatures`]
    /// beyond [`MAX_SIGNATURES`]; [`Error::MalformedNote`] for anything else that
    /// is not a signed note.
    pub fn parse(bytes: &'a [u8]) -> Result<Self> {
        if bytes.len() > MAX_NOTE_LEN {
            return Err(Error::TooLarge);
        }
        let all = core::str::from_utf8(bytes).map_err(|_| Error::MalformedNote)?;
        if all.bytes().any(|b| b < 0x20 && b != b'\n') {
            return Err(Error::MalformedNote);
        }
        let split = all.rfind("\n\n").ok_or(Error::MalformedNote)?;
        let (text, rest) = all
            .split_at_checked(split.saturating_add(1))
            .ok_or(Error::MalformedNote)?;
        let lines = rest.strip_prefix('\n').ok_or(Error::MalformedNote)?;
        let lines = lines.strip_suffix('\n').ok_or(Error::MalformedNote)?;
        let mut signatures = Vec::new();
        for line in lines.split('\n') {
            if signatures.len() >= MAX_SIGNATURES {
                return Err(Error::TooManySignatures);
            }
            signatures.push(signature_line(line)?);
        }
        Ok(Self { text, signatures })
    }

    /// The note text, with its final newline.
    #[must_use]
    pub const fn text(&self) -> &'a str {
        self.text
    }

    /// The signature lines, in order.
    #[must_use]
    pub fn signatures(&self) -> &[NoteSignature<'a>] {
        &self.signatures
    }

    /// The signature lines of `verifier`'s key (its name and key ID both match).
    pub fn signatures_of<'n>(&'n self, verifier: &'n NoteVerifier) -> impl Iterator<Item = &'n NoteSignature<'a>> {
        self.signatures
            .iter()
            .filter(|s| s.name == verifier.name && s.key_id == verifier.key_id)
    }

    /// Verifies the note with the Ed25519 note keys among `verifiers` (type
    /// `0x01`; cosigner keys sign another message, see
    /// [`checkpoint`](crate::checkpoint)) and returns those whose signature
    /// verified, in the order given. Lines of unknown keys are ignored. Only the
    /// first line of each trusted key is checked and later lines of the same key
    /// are ignored, as Go's reference code does: a note costs at most one
    /// signature check per trusted key, however many lines it repeats.
    ///
    /// # Errors
    /// [`Error::BadSignature`] if the line of a trusted key does not verify (the
    /// whole note is refused); [`Error::NoKnownSignature`] if no trusted key
    /// signed it.
    pub fn verify<'v>(&self, provider: &Provider, verifiers: &'v [NoteVerifier]) -> Result<Vec<&'v NoteVerifier>> {
        let mut verified = Vec::new();
        for v in verifiers.iter().filter(|v| v.sig_type == TYPE_ED25519) {
            if let Some(s) = self.signatures_of(v).next() {
                provider
                    .verify(&v.key, self.text.as_bytes(), &s.signature)
                    .map_err(|_| Error::BadSignature)?;
                verified.push(v);
            }
        }
        if verified.is_empty() {
            return Err(Error::NoKnownSignature);
        }
        Ok(verified)
    }
}

/// One signature line, without its newline.
fn signature_line(line: &str) -> Result<NoteSignature<'_>> {
    let rest = line.strip_prefix(SIG_PREFIX).ok_or(Error::MalformedNote)?;
    let (name, b64) = rest.split_once(' ').ok_or(Error::MalformedNote)?;
    check_name(name).map_err(|_| Error::MalformedNote)?;
    let raw = STANDARD.decode(b64).map_err(|_| Error::MalformedNote)?;
    match raw.split_first_chunk::<4>() {
        Some((id, sig)) if !sig.is_empty() => Ok(NoteSignature {
            name,
            key_id: u32::from_be_bytes(*id),
            signature: sig.to_vec(),
        }),
        _ => Err(Error::MalformedNote),
    }
}

/// A key name: non-empty, no Unicode space, no `+`.
fn check_name(name: &str) -> Result<()> {
    if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c == '+') {
        return Err(Error::InvalidKey);
    }
    Ok(())
}

/// Checks that `text` can be a note's text: UTF-8 by type, no control character
/// other than the newline, ending in a newline, not empty.
pub(crate) fn check_text(text: &str) -> Result<()> {
    if !text.ends_with('\n') || text.bytes().any(|b| b < 0x20 && b != b'\n') {
        return Err(Error::MalformedNote);
    }
    Ok(())
}

/// The key ID of a key: the first four bytes, big-endian, of
/// `SHA-256(name ‖ 0x0A ‖ sig_type ‖ public key)`.
#[must_use]
pub fn key_id(name: &str, sig_type: u8, public: &[u8]) -> u32 {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([0x0a, sig_type]);
    h.update(public);
    let digest: [u8; 32] = h.finalize().into();
    let [a, b, c, d, ..] = digest;
    u32::from_be_bytes([a, b, c, d])
}

/// A trusted note key: name, key ID, signature type and an imported Ed25519
/// public key.
#[derive(Clone, Debug)]
pub struct NoteVerifier {
    name: String,
    key_id: u32,
    sig_type: u8,
    key: VerifyingKey,
}

impl NoteVerifier {
    /// A verifier for `name` and the Ed25519 key `key` with signature type
    /// `sig_type` ([`TYPE_ED25519`] for note signatures,
    /// [`TYPE_COSIGNATURE_V1`] for a witness), imported by `provider`.
    ///
    /// # Errors
    /// [`Error::InvalidKey`] for a bad name, another signature type, a key that
    /// is not Ed25519 or that the provider refuses.
    pub fn new(provider: &Provider, name: &str, sig_type: u8, key: VerifyingKey) -> Result<Self> {
        check_name(name)?;
        if !matches!(sig_type, TYPE_ED25519 | TYPE_COSIGNATURE_V1) || key.algorithm() != Algorithm::EdDSA {
            return Err(Error::InvalidKey);
        }
        let key = provider.import(key).map_err(|_| Error::InvalidKey)?;
        Ok(Self {
            key_id: key_id(name, sig_type, key.as_bytes()),
            name: name.into(),
            sig_type,
            key,
        })
    }

    /// A verifier from its `vkey` text: `<name>+<hex key ID>+<base64(type ‖ key)>`.
    ///
    /// # Errors
    /// [`Error::InvalidKey`] if it is not of that form, the type is neither
    /// [`TYPE_ED25519`] nor [`TYPE_COSIGNATURE_V1`], the key is not a valid
    /// Ed25519 key, or the key ID is not the one computed from the rest.
    pub fn from_vkey(provider: &Provider, vkey: &str) -> Result<Self> {
        // A name has no `+`; the base64 key may (Go's note.NewVerifier cuts the
        // first two `+` only, as here).
        let mut parts = vkey.splitn(3, '+');
        let (Some(name), Some(id), Some(b64), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
            return Err(Error::InvalidKey);
        };
        if id.len() != 8 || !id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(Error::InvalidKey);
        }
        let id = u32::from_str_radix(id, 16).map_err(|_| Error::InvalidKey)?;
        let raw = STANDARD.decode(b64).map_err(|_| Error::InvalidKey)?;
        let Some((&sig_type, public)) = raw.split_first() else {
            return Err(Error::InvalidKey);
        };
        let public: &[u8; 32] = public.try_into().map_err(|_| Error::InvalidKey)?;
        let key = VerifyingKey::ed25519(public).map_err(|_| Error::InvalidKey)?;
        let v = Self::new(provider, name, sig_type, key)?;
        if v.key_id != id {
            return Err(Error::InvalidKey);
        }
        Ok(v)
    }

    /// The `vkey` text of this key.
    #[must_use]
    pub fn to_vkey(&self) -> String {
        let mut raw = Vec::with_capacity(33);
        raw.push(self.sig_type);
        raw.extend_from_slice(self.key.as_bytes());
        alloc::format!("{}+{:08x}+{}", self.name, self.key_id, STANDARD.encode(raw))
    }

    /// The key name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key ID.
    #[must_use]
    pub const fn key_id(&self) -> u32 {
        self.key_id
    }

    /// The signature type.
    #[must_use]
    pub const fn sig_type(&self) -> u8 {
        self.sig_type
    }

    /// The public key.
    #[must_use]
    pub const fn key(&self) -> &VerifyingKey {
        &self.key
    }
}

/// A note key that signs: a name and an Ed25519 [`Signer`] (its private key may
/// live in a provider, a PKCS#11 token or a secure element).
#[derive(Debug)]
pub struct NoteSigner<S: Signer> {
    name: String,
    key_id: u32,
    sig_type: u8,
    signer: S,
}

impl<S: Signer> NoteSigner<S> {
    /// A note signer (type [`TYPE_ED25519`]) named `name`.
    ///
    /// # Errors
    /// [`Error::InvalidKey`] for a bad name or a signer that is not Ed25519.
    pub fn new(name: &str, signer: S) -> Result<Self> {
        Self::with_type(name, TYPE_ED25519, signer)
    }

    /// A witness's cosigner (type [`TYPE_COSIGNATURE_V1`]) named `name`.
    ///
    /// # Errors
    /// As [`Self::new`].
    pub fn cosigner(name: &str, signer: S) -> Result<Self> {
        Self::with_type(name, TYPE_COSIGNATURE_V1, signer)
    }

    fn with_type(name: &str, sig_type: u8, signer: S) -> Result<Self> {
        check_name(name)?;
        if signer.algorithm() != Algorithm::EdDSA {
            return Err(Error::InvalidKey);
        }
        Ok(Self {
            key_id: key_id(name, sig_type, signer.verifying_key().as_bytes()),
            name: name.into(),
            sig_type,
            signer,
        })
    }

    /// The key name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key ID.
    #[must_use]
    pub const fn key_id(&self) -> u32 {
        self.key_id
    }

    /// The signature type.
    #[must_use]
    pub const fn sig_type(&self) -> u8 {
        self.sig_type
    }

    /// The matching verifier, imported by `provider`.
    ///
    /// # Errors
    /// As [`NoteVerifier::new`].
    pub fn verifier(&self, provider: &Provider) -> Result<NoteVerifier> {
        NoteVerifier::new(provider, &self.name, self.sig_type, self.signer.verifying_key().clone())
    }

    /// The signature line (with its newline) of `prefix ‖ message`, whose
    /// signature is `prefix` followed by the Ed25519 signature.
    pub(crate) fn line(&self, prefix: &[u8], message: &[u8]) -> Result<String> {
        let sig = self.signer.sign(message).map_err(Error::Signing)?;
        let mut raw = Vec::with_capacity(4usize.saturating_add(prefix.len()).saturating_add(sig.len()));
        raw.extend_from_slice(&self.key_id.to_be_bytes());
        raw.extend_from_slice(prefix);
        raw.extend_from_slice(&sig);
        // Built by pushing, not `format!`: firmware links this path.
        let mut out = String::from(SIG_PREFIX);
        out.push_str(&self.name);
        out.push(' ');
        STANDARD.encode_string(raw, &mut out);
        out.push('\n');
        Ok(out)
    }

    /// Signs `text` as a note: `text`, an empty line and this key's signature
    /// line.
    ///
    /// # Errors
    /// [`Error::MalformedNote`] if `text` cannot be a note's text (it must end in
    /// a newline and hold no control character other than newlines);
    /// [`Error::InvalidKey`] for a cosigner, which signs checkpoints only;
    /// [`Error::Signing`] if the signer fails.
    pub fn sign(&self, text: &str) -> Result<String> {
        check_text(text)?;
        if self.sig_type != TYPE_ED25519 {
            return Err(Error::InvalidKey);
        }
        let line = self.line(&[], text.as_bytes())?;
        let mut out = String::with_capacity(text.len().saturating_add(1).saturating_add(line.len()));
        out.push_str(text);
        out.push('\n');
        out.push_str(&line);
        Ok(out)
    }
}
