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
        })
    }
}

impl core::error::Error for Error {}

/// This crate's result type.
pub type Result<T, E = Error> = core::result::Result<T, E>;
