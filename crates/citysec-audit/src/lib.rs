#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod auditor;
pub mod checkpoint;
mod error;
pub mod ingest;
pub mod log;
pub mod merkle;
pub mod note;
pub mod receipt;
pub mod record;

pub use error::{Error, Result};
