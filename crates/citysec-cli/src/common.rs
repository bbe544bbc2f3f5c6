//! Helpers the subcommands share: key files by kind, the time, plain file writes.

use std::path::Path;

use citysec::core::{Key, SigningKey, Timestamp, VerifyingKey};
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

/// An EdDSA or ES256 private key from a key file.
pub(crate) fn signing_key(path: &Path) -> Result<SigningKey, Failure> {
    match read_key(path)? {
        Key::Signing(k) => Ok(k),
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
