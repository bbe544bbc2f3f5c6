//! C2SP checkpoints (c2sp.org/tlog-checkpoint) and Ed25519 witness cosignatures
//! (c2sp.org/tlog-cosignature, `cosignature/v1`).
//!
//! A checkpoint is a signed note whose text is the log's origin, the tree size
//! in decimal and the root hash in base64, one per line, and optional extension
//! lines:
//!
//! ```text
//! citysec.example/site-log
//! 7
//! mMl/C6MXXNCLAx3QhLncTmSbZNGijm6mlGRlAxc6tYc=
//!
//! — citysec.example/site-log <base64(key ID ‖ Ed25519 signature)>
//! ```
//!
//! A witness cosigns a checkpoint by adding a signature line of type `0x04`
//! whose bytes are the key ID, an 8-byte big-endian timestamp and an Ed25519
//! signature of `cosignature/v1\ntime <timestamp>\n` followed by the note text.

use alloc::string::String;
use alloc::vec::Vec;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use citysec_core::provider::{Provider, Signer};

use crate::merkle::{HASH_LEN, Hash, verify_consistency};
use crate::note::{Note, NoteSigner, NoteVerifier, TYPE_COSIGNATURE_V1, TYPE_ED25519};
use crate::{Error, Result};

/// The largest cosignature timestamp (2^63 - 1).
pub const MAX_TIMESTAMP: u64 = i64::MAX.unsigned_abs();

/// A log's tree head: origin, size, root, and extension lines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    origin: String,
    size: u64,
    root: Hash,
    extensions: Vec<String>,
}

/// A line of a checkpoint's text: non-empty, no newline, no control character.
fn check_line(line: &str) -> Result<()> {
    if line.is_empty() || line.bytes().any(|b| b < 0x20) {
        return Err(Error::MalformedCheckpoint);
    }
    Ok(())
}

impl Checkpoint {
    /// The checkpoint of the tree of `size` leaves with root `root`, of the log
    /// `origin`.
    ///
    /// # Errors
    /// [`Error::MalformedCheckpoint`] for an empty origin or one with a newline
    /// or another control character.
    pub fn new(origin: &str, size: u64, root: Hash) -> Result<Self> {
        check_line(origin)?;
        Ok(Self {
            origin: origin.into(),
            size,
            root,
            extensions: Vec::new(),
        })
    }

    /// This checkpoint with an extension line (opaque; not recommended by the
    /// specification, as monitors cannot audit it).
    ///
    /// # Errors
    /// As [`Self::new`], for the line.
    pub fn with_extension(mut self, line: &str) -> Result<Self> {
        check_line(line)?;
        self.extensions.push(line.into());
        Ok(self)
    }

    /// Parses a checkpoint's note text (with its final newline).
    ///
    /// # Errors
    /// [`Error::MalformedCheckpoint`] unless the text is at least three
    /// non-empty lines, ending in a newline, with a size in decimal without
    /// leading zeros that fits 64 bits and a root that is the base64 of 32 bytes.
    pub fn parse_text(text: &str) -> Result<Self> {
        let body = text.strip_suffix('\n').ok_or(Error::MalformedCheckpoint)?;
        let mut lines = body.split('\n');
        let (Some(origin), Some(size), Some(root)) = (lines.next(), lines.next(), lines.next()) else {
            return Err(Error::MalformedCheckpoint);
        };
        let size = parse_size(size)?;
        let root = STANDARD.decode(root).map_err(|_| Error::MalformedCheckpoint)?;
        let root: Hash = root.try_into().map_err(|_| Error::MalformedCheckpoint)?;
        let mut checkpoint = Self::new(origin, size, root)?;
        for line in lines {
            checkpoint = checkpoint.with_extension(line)?;
        }
        Ok(checkpoint)
    }

    /// The note text: origin, size, root and extension lines, each ending in a
    /// newline.
    #[must_use]
    pub fn to_text(&self) -> String {
        // Built by pushing, not `format!`: firmware links this path.
        let mut out = String::with_capacity(self.origin.len().saturating_add(70));
        out.push_str(&self.origin);
        out.push('\n');
        push_decimal(&mut out, self.size);
        out.push('\n');
        STANDARD.encode_string(self.root, &mut out);
        out.push('\n');
        for e in &self.extensions {
            out.push_str(e);
            out.push('\n');
        }
        out
    }

    /// Signs the checkpoint as a note with the log's key.
    ///
    /// # Errors
    /// As [`NoteSigner::sign`].
    pub fn sign<S: Signer>(&self, log: &NoteSigner<S>) -> Result<String> {
        log.sign(&self.to_text())
    }

    /// The log's origin.
    #[must_use]
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The tree size.
    #[must_use]
    pub const fn size(&self) -> u64 {
        self.size
    }

    /// The root hash.
    #[must_use]
    pub const fn root(&self) -> &Hash {
        &self.root
    }

    /// The extension lines.
    #[must_use]
    pub fn extensions(&self) -> &[String] {
        &self.extensions
    }
}

/// A tree size: ASCII decimal, no sign, no leading zero unless it is `0`.
fn parse_size(s: &str) -> Result<u64> {
    let canonical = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
    if !canonical {
        return Err(Error::MalformedCheckpoint);
    }
    s.parse().map_err(|_| Error::MalformedCheckpoint)
}

/// Appends `n` in decimal, without leading zeros.
fn push_decimal(out: &mut String, n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut rest = n;
    loop {
        at = at.saturating_sub(1);
        if let Some(d) = digits.get_mut(at) {
            // `rest % 10` is below 10: the digit fits.
            *d = b'0'.saturating_add(u8::try_from(rest % 10).unwrap_or(0));
        }
        rest /= 10;
        if rest == 0 || at == 0 {
            break;
        }
    }
    for d in digits.get(at..).unwrap_or_default() {
        out.push(char::from(*d));
    }
}

/// The message a `cosignature/v1` signs: the header line, the time line and the
/// checkpoint's note text.
#[must_use]
pub fn cosignature_message(text: &str, timestamp: u64) -> String {
    alloc::format!("cosignature/v1\ntime {timestamp}\n{text}")
}

/// Cosigns the checkpoint `note` (a signed note) as the witness `cosigner` at
/// `timestamp` (POSIX seconds) and returns the note with the cosignature line
/// added. The witness must have checked first that the checkpoint is consistent
/// with every earlier one of the log it has seen.
///
/// # Errors
/// [`Error::InvalidKey`] unless `cosigner` is a cosigner
/// ([`NoteSigner::cosigner`]); [`Error::Timestamp`] beyond [`MAX_TIMESTAMP`];
/// as [`Note::parse`] and [`Checkpoint::parse_text`] for `note`;
/// [`Error::Signing`].
pub fn cosign<S: Signer>(cosigner: &NoteSigner<S>, note: &str, timestamp: u64) -> Result<String> {
    if cosigner.sig_type() != TYPE_COSIGNATURE_V1 {
        return Err(Error::InvalidKey);
    }
    if timestamp > MAX_TIMESTAMP {
        return Err(Error::Timestamp);
    }
    let text = Note::parse(note.as_bytes())?.text();
    Checkpoint::parse_text(text)?;
    let line = cosigner.line(
        &timestamp.to_be_bytes(),
        cosignature_message(text, timestamp).as_bytes(),
    )?;
    // `note` parsed as a note, so it ends in a signature line: one more follows.
    Ok(alloc::format!("{note}{line}"))
}

/// A checkpoint that verified: the log's signature and enough witness
/// cosignatures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedCheckpoint {
    checkpoint: Checkpoint,
    cosignatures: Vec<(String, u64)>,
}

impl VerifiedCheckpoint {
    /// The checkpoint.
    #[must_use]
    pub const fn checkpoint(&self) -> &Checkpoint {
        &self.checkpoint
    }

    /// The witnesses whose cosignature verified, with its timestamp, in the
    /// order the verifier lists them (the first line of each witness).
    #[must_use]
    pub fn cosignatures(&self) -> &[(String, u64)] {
        &self.cosignatures
    }
}

/// What a checkpoint must carry to be accepted: the log's origin, a valid
/// signature of the log's key, and valid cosignatures of at least `threshold`
/// of the witnesses.
#[derive(Clone, Debug)]
pub struct CheckpointVerifier {
    origin: String,
    log: NoteVerifier,
    witnesses: Vec<NoteVerifier>,
    threshold: usize,
}

impl CheckpointVerifier {
    /// Checkpoints of `origin` signed by `log` (a note key, type `0x01`), with
    /// no witness policy.
    ///
    /// # Errors
    /// [`Error::InvalidKey`] if `log` is not a note key;
    /// [`Error::MalformedCheckpoint`] for an origin a checkpoint cannot have.
    pub fn new(origin: &str, log: NoteVerifier) -> Result<Self> {
        check_line(origin)?;
        if log.sig_type() != TYPE_ED25519 {
            return Err(Error::InvalidKey);
        }
        Ok(Self {
            origin: origin.into(),
            log,
            witnesses: Vec::new(),
            threshold: 0,
        })
    }

    /// This verifier requiring valid cosignatures of at least `threshold` of
    /// `witnesses` ("k of these n").
    ///
    /// # Errors
    /// [`Error::InvalidKey`] if a witness is not a cosigner (type `0x04`), two
    /// share a name and key ID, or `threshold` exceeds their number.
    pub fn with_witnesses(mut self, witnesses: Vec<NoteVerifier>, threshold: usize) -> Result<Self> {
        let distinct = witnesses.iter().enumerate().all(|(i, w)| {
            witnesses
                .iter()
                .skip(i.saturating_add(1))
                .all(|o| o.name() != w.name() || o.key_id() != w.key_id())
        });
        if !distinct || threshold > witnesses.len() || witnesses.iter().any(|w| w.sig_type() != TYPE_COSIGNATURE_V1) {
            return Err(Error::InvalidKey);
        }
        self.witnesses = witnesses;
        self.threshold = threshold;
        Ok(self)
    }

    /// Verifies the checkpoint note `note`: the log's signature, the origin,
    /// the checkpoint text, then the cosignature of each listed witness (its
    /// first line; later lines of the same witness are ignored).
    ///
    /// # Errors
    /// As [`Note::parse`]; [`Error::BadSignature`] if a signature or
    /// cosignature of a trusted key does not verify (or a cosignature is not 72
    /// bytes with a timestamp up to [`MAX_TIMESTAMP`]);
    /// [`Error::NoKnownSignature`] without the log's signature;
    /// [`Error::MalformedCheckpoint`]; [`Error::WrongOrigin`];
    /// [`Error::NotEnoughCosignatures`] below the threshold.
    pub fn verify(&self, provider: &Provider, note: &[u8]) -> Result<VerifiedCheckpoint> {
        let note = Note::parse(note)?;
        note.verify(provider, core::slice::from_ref(&self.log))?;
        let checkpoint = Checkpoint::parse_text(note.text())?;
        if checkpoint.origin != self.origin {
            return Err(Error::WrongOrigin);
        }
        let mut cosignatures = Vec::new();
        for w in &self.witnesses {
            // The first line of each witness only, as for note keys.
            let Some(s) = note.signatures_of(w).next() else {
                continue;
            };
            let (ts, sig) = s
                .signature()
                .split_first_chunk::<8>()
                .filter(|(_, sig)| sig.len() == 2 * HASH_LEN)
                .ok_or(Error::BadSignature)?;
            let ts = u64::from_be_bytes(*ts);
            if ts > MAX_TIMESTAMP {
                return Err(Error::BadSignature);
            }
            provider
                .verify(w.key(), cosignature_message(note.text(), ts).as_bytes(), sig)
                .map_err(|_| Error::BadSignature)?;
            cosignatures.push((String::from(w.name()), ts));
        }
        if cosignatures.len() < self.threshold {
            return Err(Error::NotEnoughCosignatures);
        }
        Ok(VerifiedCheckpoint {
            checkpoint,
            cosignatures,
        })
    }
}

/// The last checkpoint a controller or witness accepted from a log, pinned: a
/// newer one is accepted only with a consistency proof from it, so a log that
/// drops or edits an entry, rolls back or shows two histories is caught.
///
/// Persist it ([`Self::to_bytes`]) after every [`Self::advance`]: its byte form
/// is the size (8 bytes, big-endian) and the root (32 bytes), nothing else.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PinnedCheckpoint {
    size: u64,
    root: Hash,
}

/// Bytes of a pinned checkpoint.
pub const PIN_LEN: usize = 8 + HASH_LEN;

impl PinnedCheckpoint {
    /// Pins `first`, the first checkpoint trusted from this log (verified,
    /// including its witness policy).
    #[must_use]
    pub const fn new(first: &VerifiedCheckpoint) -> Self {
        Self {
            size: first.checkpoint.size,
            root: first.checkpoint.root,
        }
    }

    /// The pinned tree size.
    #[must_use]
    pub const fn size(&self) -> u64 {
        self.size
    }

    /// The pinned root.
    #[must_use]
    pub const fn root(&self) -> &Hash {
        &self.root
    }

    /// Moves the pin to `next` if `proof` shows that its tree extends the pinned
    /// one; on any error the pin is unchanged.
    ///
    /// - A smaller tree is [`Error::Rollback`].
    /// - The same size with another root is [`Error::SplitView`] (the proof
    ///   must then be empty, [`Error::ProofLength`] otherwise).
    /// - From a pinned empty tree any tree follows, with an empty proof.
    /// - Otherwise the proof is checked as [`verify_consistency`] does: a log
    ///   that dropped or changed an entry fails with [`Error::RootMismatch`].
    ///
    /// # Errors
    /// As above.
    pub fn advance(&mut self, next: &VerifiedCheckpoint, proof: &[Hash]) -> Result<()> {
        let (size, root) = (next.checkpoint.size, next.checkpoint.root);
        if size < self.size {
            return Err(Error::Rollback);
        }
        if size == self.size && root != self.root {
            if !proof.is_empty() {
                return Err(Error::ProofLength);
            }
            return Err(Error::SplitView);
        }
        if self.size == 0 {
            if !proof.is_empty() {
                return Err(Error::ProofLength);
            }
        } else {
            verify_consistency(self.size, size, &self.root, &root, proof)?;
        }
        *self = Self { size, root };
        Ok(())
    }

    /// The byte form: size (big-endian) then root.
    #[must_use]
    pub fn to_bytes(&self) -> [u8; PIN_LEN] {
        let mut out = [0u8; PIN_LEN];
        let (size, root) = out.split_at_mut(8);
        size.copy_from_slice(&self.size.to_be_bytes());
        root.copy_from_slice(&self.root);
        out
    }

    /// A pin read back from [`Self::to_bytes`].
    ///
    /// # Errors
    /// [`Error::MalformedPin`] unless `bytes` is [`PIN_LEN`] long.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let bytes: &[u8; PIN_LEN] = bytes.try_into().map_err(|_| Error::MalformedPin)?;
        let (size, root) = bytes.split_first_chunk::<8>().ok_or(Error::MalformedPin)?;
        Ok(Self {
            size: u64::from_be_bytes(*size),
            root: root.try_into().map_err(|_| Error::MalformedPin)?,
        })
    }
}
