#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod checkpoint;
mod error;
pub mod log;
pub mod merkle;
pub mod note;
pub mod receipt;
pub mod record;

pub use error::{Error, Result};
