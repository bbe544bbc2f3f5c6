#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

extern crate alloc;
#[cfg(test)]
extern crate std;

pub mod envelope;
mod error;
mod keys;
mod receiver;
#[cfg(feature = "x25519")]
#[cfg_attr(docsrs, doc(cfg(feature = "x25519")))]
pub mod recipient;
mod sender;
mod store;
pub mod window;

pub use envelope::{Envelope, MAX_DEVICE_ID, MAX_SEQ, MAX_TOPIC, seal, seal_into};
pub use error::{Error, Result};
pub use keys::{DeviceKey, IV_LABEL, KDF_SALT, KEY_LABEL, MasterSecret};
pub use receiver::{
    BatchContext, Decrypted, Opened, Receiver, ReceiverConfig, ReplayGuard, ShardResults, ShardWork, WindowSlots,
};
pub use sender::{CounterStore, DEFAULT_BLOCK, MemoryCounterStore, Sender};
pub use store::{
    LocalAsShared, MemoryReplayStore, ReplayStore, ReplayStorePart, SHARDS, Shared, SharedReplayStore, device_shard,
};
pub use window::{DEFAULT_WINDOW, ReplayWindow};
