#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

extern crate alloc;

pub use citysec_core as core;
/// The pure-Rust crypto provider (any target).
pub use citysec_rustcrypto as rustcrypto;

#[cfg(feature = "credential")]
#[cfg_attr(docsrs, doc(cfg(feature = "credential")))]
pub use citysec_credential as credential;

#[cfg(feature = "attest")]
#[cfg_attr(docsrs, doc(cfg(feature = "attest")))]
pub use citysec_attest as attest;

#[cfg(feature = "telemetry")]
#[cfg_attr(docsrs, doc(cfg(feature = "telemetry")))]
pub use citysec_telemetry as telemetry;

#[cfg(feature = "policy")]
#[cfg_attr(docsrs, doc(cfg(feature = "policy")))]
pub use citysec_policy as policy;

#[cfg(feature = "audit")]
#[cfg_attr(docsrs, doc(cfg(feature = "audit")))]
pub use citysec_audit as audit;

#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
pub use citysec_std as std_adapters;

#[cfg(feature = "ring")]
#[cfg_attr(docsrs, doc(cfg(feature = "ring")))]
pub use citysec_ring as ring;

#[cfg(feature = "door")]
#[cfg_attr(docsrs, doc(cfg(feature = "door")))]
pub mod door;
