#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

extern crate alloc;

#[cfg(feature = "attest")]
#[cfg_attr(docsrs, doc(cfg(feature = "attest")))]
pub mod attest;
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
