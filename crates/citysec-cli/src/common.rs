//! Helpers the subcommands share: key files by kind, the time, plain file writes.

use std::path::Path;

use citysec::core::provider::Signer;
use citysec::core::{Key, Timestamp, VerifyingKey};
use citysec::std_adapters::SystemClock;

use crate::key::read_key;
use crate::{CmdResult, Failure};

/// `now` if given, else the system clock.
pub(crate) fn now_or_clock(now: Option<u64>) -> Result<Timestamp, Failure> {
    match now {
        Some(s) => Ok(Timestamp::from_unix_seconds(s)),
        None => {
            citysec::core::Clock::now(&SystemClock).ok_or_else(|| Failure::usage("the system clock is before 1970"))
        }
    }
}

/// A signer for an EdDSA or ES256 private key from a key file, loaded once into
/// the ring provider.
pub(crate) fn signer(path: &Path) -> Result<Box<dyn Signer>, Failure> {
    match read_key(path)? {
        Key::Signing(k) => citysec::ring::PROVIDER
            .signer(k)
            .map_err(|e| Failure::usage(format!("`{}`: {e}", path.display()))),
        _ => Err(Failure::usage(format!(
            "`{}` is not an EdDSA or ES256 private key",
            path.display()
        ))),
    }
}

/// An EdDSA or ES256 public key from a key file (a private key gives its public half).
pub(crate) fn verifying_key(path: &Path) -> Result<VerifyingKey, Failure> {
    match read_key(path)? {
        Key::Verifying(k) => Ok(k),
        Key::Signing(k) => Ok(k.verifying_key()),
        _ => Err(Failure::usage(format!(
            "`{}` is not an EdDSA or ES256 key",
            path.display()
        ))),
    }
}

/// Writes `bytes` to `path`.
pub(crate) fn write_file(path: &Path, bytes: &[u8]) -> CmdResult {
    std::fs::write(path, bytes).map_err(|e| Failure::usage(format!("cannot write `{}`: {}", path.display(), e.kind())))
}
