//! Helpers the subcommands share: key files by kind, the time, plain file writes.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use citysec::core::provider::Signer;
use citysec::core::{Key, Timestamp, VerifyingKey};
use citysec::std_adapters::SystemClock;
use citysec_pkcs11::{Error as P11Error, Module, Pkcs11Signer, Pkcs11Uri};

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

/// The `--pkcs11-module` option, set once by `main`.
static PKCS11_MODULE: OnceLock<Option<PathBuf>> = OnceLock::new();

/// Records the `--pkcs11-module` option.
pub(crate) fn set_pkcs11_module(path: Option<PathBuf>) {
    let _already = PKCS11_MODULE.set(path);
}

/// The `pkcs11:` URI in `arg`, if it is one.
pub(crate) fn pkcs11_uri(arg: &Path) -> Option<&str> {
    arg.to_str().filter(|s| Pkcs11Uri::is_pkcs11(s))
}

/// A PKCS#11 failure as a CLI failure: a wrong PIN, a locked PIN or a token
/// that failed is a refusal (exit 1); anything the user must fix in the URI,
/// the configuration or the token's contents is a usage error (exit 2).
pub(crate) fn pkcs11_failure(e: &P11Error) -> Failure {
    match e {
        P11Error::PinIncorrect | P11Error::PinLocked | P11Error::TokenUnavailable | P11Error::Device(_) => {
            Failure::Rejected(format!("pkcs11: {e}"))
        }
        _ => Failure::usage(format!("pkcs11: {e}")),
    }
}

/// The module for `pkcs11:` URIs: `--pkcs11-module`, else CITYSEC_PKCS11_MODULE.
pub(crate) fn pkcs11_module() -> Result<Module, Failure> {
    let option = PKCS11_MODULE.get().and_then(Option::as_deref);
    Module::open_or_env(option).map_err(|e| pkcs11_failure(&e))
}

/// The token key a `pkcs11:` URI names.
fn pkcs11_signer(uri: &str) -> Result<Pkcs11Signer, Failure> {
    let uri = Pkcs11Uri::parse(uri).map_err(|e| pkcs11_failure(&e))?;
    Pkcs11Signer::open(&pkcs11_module()?, &uri).map_err(|e| pkcs11_failure(&e))
}

/// A signer for `--key`: a `pkcs11:` URI (the key stays in the token), or an
/// EdDSA or ES256 private key file, loaded once into the ring provider.
pub(crate) fn signer(path: &Path) -> Result<Box<dyn Signer>, Failure> {
    if let Some(uri) = pkcs11_uri(path) {
        return Ok(Box::new(pkcs11_signer(uri)?));
    }
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

/// An EdDSA or ES256 public key from a key file (a private key gives its public
/// half) or from the token a `pkcs11:` URI names.
pub(crate) fn verifying_key(path: &Path) -> Result<VerifyingKey, Failure> {
    if let Some(uri) = pkcs11_uri(path) {
        return Ok(Signer::verifying_key(&pkcs11_signer(uri)?).clone());
    }
    match read_key(path)? {
        Key::Verifying(k) => Ok(k),
        Key::Signing(k) => citysec::ring::PROVIDER
            .public_key(&k)
            .map_err(|e| Failure::usage(format!("`{}`: {e}", path.display()))),
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
