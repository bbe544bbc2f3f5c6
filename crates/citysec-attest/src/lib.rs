#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

extern crate alloc;

/// The core this crate builds on.
pub use citysec_core as core_api;
