//! The one error type of citysec-std.

use core::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// Result alias used across citysec-std.
pub type Result<T, E = Error> = core::result::Result<T, E>;

/// Everything that can go wrong in citysec-std.
///
/// Messages are lowercase and never contain key material. PEM parse failures are
/// deliberately coarse ([`Error::MalformedPem`]): the decoder's detail could describe
/// secret bytes.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A file operation failed.
    Io {
        /// What was being done: `"read"`, `"write"`, `"create"`, `"replace"`, ...
        op: &'static str,
        /// The file the operation was about (for writes: the destination, not the
        /// temporary file).
        path: PathBuf,
        /// The kind of I/O error; [`io::ErrorKind::AlreadyExists`] when a write
        /// refused to replace an existing file.
        kind: io::ErrorKind,
    },
    /// A key file is larger than [`MAX_KEY_FILE_SIZE`](crate::MAX_KEY_FILE_SIZE).
    FileTooLarge {
        /// The file.
        path: PathBuf,
    },
    /// citysec-core refused the key (a malformed COSE_Key, a weak or invalid key, an
    /// unsupported algorithm).
    Key(citysec_core::Error),
    /// A secret key was needed, but the file holds a public key.
    NotSecret,
    /// The PEM text or the DER inside it is malformed, or the key in it is invalid.
    MalformedPem,
    /// The PEM block has a label this crate does not read (only `PRIVATE KEY`,
    /// PKCS#8, and `PUBLIC KEY`, SPKI, are read).
    UnsupportedPemLabel(String),
    /// The PKCS#8 or SPKI document is for an algorithm other than Ed25519 or P-256.
    UnsupportedPemAlgorithm(String),
    /// PEM was asked for a key kind that has no PEM form here (symmetric and X25519
    /// keys are written as COSE_Key only).
    PemNotAvailable,
    /// Encoding a key failed: a private key without its public part in a
    /// COSE_Key (`Key::complete` attaches it).
    Encoding,
    /// A persistent store (the redb database) could not be opened or used.
    Store(String),
    /// The audit log refused (an entry, a size, a proof, a checkpoint).
    #[cfg(feature = "audit")]
    Audit(citysec_audit::Error),
    /// A Redis fleet store refused the server: its configuration could lose or
    /// forget what the store records (see [`crate::fleet::RedisOptions`] for the
    /// checks and the opt-outs).
    #[cfg(feature = "redis")]
    RedisRefused {
        /// The server, `host:port` or the socket path (never the password).
        addr: String,
        /// What is wrong with it.
        reason: crate::fleet::RedisRefusal,
    },
}

impl Error {
    pub(crate) fn io(op: &'static str, path: &Path, err: &io::Error) -> Self {
        Self::Io {
            op,
            path: path.to_path_buf(),
            kind: err.kind(),
        }
    }

    /// The I/O error kind, if this is an I/O error.
    #[must_use]
    pub fn io_kind(&self) -> Option<io::ErrorKind> {
        match self {
            Self::Io { kind, .. } => Some(*kind),
            _ => None,
        }
    }
}

impl From<citysec_core::Error> for Error {
    fn from(e: citysec_core::Error) -> Self {
        Self::Key(e)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io { op, path, kind } => write!(f, "cannot {op} `{}`: {kind}", path.display()),
            Self::FileTooLarge { path } => {
                write!(f, "`{}` is too large to be a key file", path.display())
            }
            Self::Key(e) => write!(f, "invalid key: {e}"),
            Self::NotSecret => f.write_str("the key file holds a public key, but a secret key is needed"),
            Self::MalformedPem => f.write_str("malformed pem key"),
            Self::UnsupportedPemLabel(label) => write!(f, "unsupported pem label `{label}`"),
            Self::UnsupportedPemAlgorithm(oid) => write!(f, "unsupported key algorithm `{oid}` in pem"),
            Self::PemNotAvailable => f.write_str("pem is available for ed25519 and p-256 keys only"),
            Self::Encoding => f.write_str("key encoding failed (a COSE_Key private key needs its public part)"),
            Self::Store(msg) => write!(f, "store failed: {msg}"),
            #[cfg(feature = "audit")]
            Self::Audit(e) => write!(f, "audit log: {e}"),
            #[cfg(feature = "redis")]
            Self::RedisRefused { addr, reason } => write!(f, "redis at `{addr}` refused: {reason}"),
        }
    }
}

impl core::error::Error for Error {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Key(e) => Some(e),
            _ => None,
        }
    }
}
