#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

extern crate alloc;
#[cfg(test)]
extern crate std;

mod alg;
pub mod audit;
pub mod cbor;
pub mod cwt;
pub mod encrypt0;
mod error;
mod headers;
pub mod keys;
mod keyset;
mod limits;
pub mod provider;
pub mod sign1;
pub mod state;
mod time;

pub use alg::{Algorithm, AlgorithmKind};
pub use error::{Error, Result};
pub use headers::{ContentTypeRef, CritPolicy, MAX_HEADER_LABELS};
pub use keys::{Key, KeyInfo, RandomSource, SigningKey, SymmetricKey, VerifyingKey, X25519PublicKey, X25519SecretKey};
pub use keyset::KeySet;
pub use limits::Limits;
pub use provider::{Provider, SIGNATURE_LEN, SharedSecret, Signer, TAG_LEN};
pub use time::{Clock, FixedClock, Timestamp};

/// Re-export of coset, whose header and CBOR value types appear in this API.
pub use coset;
