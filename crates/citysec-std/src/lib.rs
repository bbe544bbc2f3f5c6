#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

extern crate alloc;

#[cfg(feature = "attest")]
#[cfg_attr(docsrs, doc(cfg(feature = "attest")))]
pub mod attest;
#[cfg(feature = "audit")]
#[cfg_attr(docsrs, doc(cfg(feature = "audit")))]
pub mod audit;
mod clock;
mod error;
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub mod fleet;
mod fsutil;
mod keyfile;
mod random;
pub mod state;
#[cfg(feature = "telemetry")]
#[cfg_attr(docsrs, doc(cfg(feature = "telemetry")))]
pub mod telemetry;

pub use clock::SystemClock;
pub use error::{Error, Result};
pub use keyfile::{
    ExistingFile, KeyFormat, MAX_KEY_FILE_SIZE, decode_key, encode_key, read_key, read_secret_key, write_key,
};
pub use random::OsRandom;

/// Writes `bytes` to `path` with exactly the permission bits `mode` (whatever the
/// umask): through a temporary file in the same directory, `fsync`, then an atomic
/// move into place, so a reader sees the old file or the whole new one. With
/// [`ExistingFile::Refuse`] an existing `path` is an [`Error::Io`] of kind
/// `AlreadyExists`; with [`ExistingFile::Replace`] it is replaced.
///
/// # Errors
/// [`Error::Io`] when the file cannot be created, written, synced or moved.
pub fn write_file(path: impl AsRef<std::path::Path>, bytes: &[u8], mode: u32, existing: ExistingFile) -> Result<()> {
    fsutil::write_atomic(path.as_ref(), bytes, mode, existing)
}
