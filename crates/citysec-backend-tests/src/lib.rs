#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

use std::path::PathBuf;

use citysec_core::Backend;

/// Both backends, with their names.
#[must_use]
pub fn backends() -> [&'static dyn Backend; 2] {
    [&citysec_core::RustCrypto, &citysec_ring::Ring]
}

/// The folder with the outside test vectors: `vectors/` at the top of the
/// repository, or `$CITYSEC_VECTORS` when set.
#[must_use]
pub fn vectors_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CITYSEC_VECTORS") {
        return PathBuf::from(dir);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../vectors")
}
