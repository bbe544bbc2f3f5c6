//! The audit crate's errors.

use core::fmt;

/// Why a proof, a hash or a tree state was refused. Every refusal is one of
/// these; none is a panic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Error {
    /// A leaf index at or beyond the tree size.
    IndexOutOfRange,
    /// A proof with another number of hashes than the tree sizes call for
    /// (every tree shape has exactly one proof length).
    ProofLength,
    /// The proof's hashes do not lead to the root (or roots) given.
    RootMismatch,
    /// A consistency proof from a larger tree to a smaller one.
    SizesOutOfOrder,
    /// A consistency proof from the empty tree: it proves nothing, and is refused.
    EmptyTree,
    /// A hash that is not 32 bytes.
    HashLength,
    /// The tree holds `u64::MAX` leaves: nothing more can be appended.
    TreeFull,
    /// A compact range whose hashes do not fit its size.
    InvalidState,
    /// A note longer than [`MAX_NOTE_LEN`](crate::note::MAX_NOTE_LEN).
    TooLarge,
    /// A note with more than [`MAX_SIGNATURES`](crate::note::MAX_SIGNATURES)
    /// signature lines.
    TooManySignatures,
    /// Bytes that are not a signed note (or text that cannot be a note's).
    MalformedNote,
    /// A note text that is not a checkpoint.
    MalformedCheckpoint,
    /// A key name, verifier key (`vkey`) or key that cannot be used.
    InvalidKey,
    /// A signature of a trusted key that does not verify: the whole note is
    /// refused.
    BadSignature,
    /// No signature of a trusted key.
    NoKnownSignature,
    /// A checkpoint of another log (its origin line).
    WrongOrigin,
    /// Fewer valid witness cosignatures than the policy asks for.
    NotEnoughCosignatures,
    /// A cosignature timestamp beyond 2^63 - 1.
    Timestamp,
    /// The signer failed (a token removed, a session closed); nothing was
    /// signed.
    Signing(citysec_core::Error),
    /// A checkpoint of a smaller tree than the one pinned: a rollback.
    Rollback,
    /// A checkpoint of the pinned size with another root: the log shows two
    /// different trees (a split view).
    SplitView,
    /// Bytes that are not a pinned checkpoint.
    MalformedPin,
    /// Bytes that are not a COSE Receipt of the RFC9162_SHA256 profile.
    MalformedReceipt,
    /// A receipt of another verifiable data structure than RFC9162_SHA256, or
    /// signed with an algorithm other than EdDSA and ES256.
    UnsupportedReceipt,
    /// Bytes that are not an audit record, or a record that breaks its kind's
    /// rules.
    MalformedRecord,
    /// The record store is full: nothing was kept (the record is counted as
    /// dropped).
    StoreFull,
    /// An event came without a time and the clock has none.
    NoTime,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::IndexOutOfRange => "leaf index out of range for the tree size",
            Self::ProofLength => "proof has the wrong number of hashes for the tree sizes",
            Self::RootMismatch => "proof does not lead to the root",
            Self::SizesOutOfOrder => "consistency proof from a larger tree to a smaller one",
            Self::EmptyTree => "consistency proof from the empty tree",
            Self::HashLength => "hash is not 32 bytes",
            Self::TreeFull => "tree is full",
            Self::InvalidState => "compact range does not fit its size",
            Self::TooLarge => "note too large",
            Self::TooManySignatures => "note has too many signatures",
            Self::MalformedNote => "not a signed note",
            Self::MalformedCheckpoint => "not a checkpoint",
            Self::InvalidKey => "invalid note key",
            Self::BadSignature => "a trusted key's signature does not verify",
            Self::NoKnownSignature => "no signature of a trusted key",
            Self::WrongOrigin => "checkpoint of another log",
            Self::NotEnoughCosignatures => "not enough witness cosignatures",
            Self::Timestamp => "cosignature timestamp out of range",
            Self::Signing(_) => "the signer failed",
            Self::Rollback => "checkpoint older than the pinned one",
            Self::SplitView => "checkpoint of the pinned size with another root",
            Self::MalformedPin => "not a pinned checkpoint",
            Self::MalformedReceipt => "not a receipt",
            Self::UnsupportedReceipt => "receipt of an unsupported data structure or algorithm",
            Self::MalformedRecord => "not an audit record",
            Self::StoreFull => "record store full",
            Self::NoTime => "no time for the record",
        })
    }
}

impl core::error::Error for Error {}

/// This crate's result type.
pub type Result<T, E = Error> = core::result::Result<T, E>;
