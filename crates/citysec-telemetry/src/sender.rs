//! The sender (firmware side): sequence numbers that never repeat, across reboots.
//!
//! Before using sequence numbers the sender persists an upper bound, `reserved`,
//! through a [`CounterStore`]; it seals with numbers below it and reserves the next
//! block when it reaches it (the scheme of OSCORE, RFC 8613 appendix B.1.1). After
//! a reboot it starts at the persisted bound, skipping at most one block, and never
//! reuses a number. If persisting fails, it refuses to seal.
//!
//! A counter store is created once, explicitly, when the device is provisioned
//! (for example `citysec_std::telemetry::FileCounterStore::provision`, or
//! [`MemoryCounterStore::provisioned`]). A sender never starts on a store that holds
//! nothing: a missing store is [`Error::CounterMissing`], an unreadable one
//! [`Error::CounterStore`], never sequence number 0, because a lost counter under
//! the same key would reuse nonces. The recovery is to provision the device at its
//! next key epoch, starting above the highest sequence number the gateway accepted
//! from it ([`Receiver::highest_seq`](crate::Receiver::highest_seq)): the gateway's
//! replay window is per device across key epochs.

use citysec_core::provider::Provider;

use crate::envelope::{MAX_SEQ, seal_into};
use crate::{DeviceKey, Error, Result};

/// Persistent storage for a sender's reserved sequence bound.
///
/// Implementations are created by provisioning and must tell "never provisioned
/// or lost" ([`Error::CounterMissing`]) and "cannot be read"
/// ([`Error::CounterStore`]) apart from a stored bound: neither may read as 0.
pub trait CounterStore {
    /// The last persisted bound: the first sequence number the sender may use.
    ///
    /// # Errors
    /// [`Error::CounterMissing`] if the store holds no bound (never provisioned, or
    /// lost); [`Error::CounterStore`] if it cannot be read or holds something else.
    /// The sender then refuses.
    fn load(&mut self) -> Result<u64>;

    /// Persists `reserved` durably before returning.
    ///
    /// # Errors
    /// [`Error::CounterStore`] if it could not.
    fn store(&mut self, reserved: u64) -> Result<()>;
}

/// A counter store in memory: for tests, or for firmware that keeps it in
/// battery-backed RAM itself (`value: None` after the RAM was lost: the sender
/// then refuses with [`Error::CounterMissing`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryCounterStore {
    /// The persisted bound; `None`: never provisioned, or lost.
    pub value: Option<u64>,
}

impl MemoryCounterStore {
    /// A store provisioned to start at sequence number `start` (0 for a device
    /// key's first use; above the gateway's highest accepted number when a device
    /// is provisioned again at a new key epoch).
    #[must_use]
    pub const fn provisioned(start: u64) -> Self {
        Self { value: Some(start) }
    }
}

impl CounterStore for MemoryCounterStore {
    fn load(&mut self) -> Result<u64> {
        self.value.ok_or(Error::CounterMissing)
    }

    fn store(&mut self, reserved: u64) -> Result<()> {
        self.value = Some(reserved);
        Ok(())
    }
}

impl<T: CounterStore + ?Sized> CounterStore for &mut T {
    fn load(&mut self) -> Result<u64> {
        (**self).load()
    }

    fn store(&mut self, reserved: u64) -> Result<()> {
        (**self).store(reserved)
    }
}

/// Default reservation block: how many numbers a reboot may skip.
pub const DEFAULT_BLOCK: u64 = 256;

/// A device's envelope sender.
#[derive(Debug)]
pub struct Sender<S: CounterStore> {
    provider: Provider,
    key: DeviceKey,
    store: S,
    next: u64,
    reserved: u64,
    block: u64,
}

impl<S: CounterStore> Sender<S> {
    /// A sender sealing with `provider` (bound once) and `key`, resuming from what
    /// `store` holds (a store created by
    /// provisioning). It reserves its first block before returning.
    ///
    /// # Errors
    /// [`Error::CounterMissing`] if the store holds nothing (never provisioned, or
    /// lost: provision the device at its next key epoch); [`Error::CounterStore`] if
    /// the store cannot be read or written; [`Error::SequenceExhausted`] if nothing is
    /// left; [`Error::InvalidParameter`] for a zero block.
    pub fn new(provider: &Provider, key: DeviceKey, mut store: S, block: u64) -> Result<Self> {
        if block == 0 {
            return Err(Error::InvalidParameter);
        }
        let next = store.load()?;
        if next > MAX_SEQ {
            return Err(Error::SequenceExhausted);
        }
        let mut s = Self {
            provider: *provider,
            key,
            store,
            next,
            reserved: next,
            block,
        };
        s.reserve()?;
        Ok(s)
    }

    fn reserve(&mut self) -> Result<()> {
        let want = self.next.saturating_add(self.block).min(MAX_SEQ.saturating_add(1));
        if want <= self.next {
            return Err(Error::SequenceExhausted);
        }
        self.store.store(want).map_err(|_| Error::CounterStore)?;
        self.reserved = want;
        Ok(())
    }

    /// The sequence number the next envelope will carry.
    #[must_use]
    pub const fn next_seq(&self) -> u64 {
        self.next
    }

    /// The device key.
    #[must_use]
    pub const fn key(&self) -> &DeviceKey {
        &self.key
    }

    /// Seals `plaintext` for `topic` into `out` with the next sequence number and
    /// returns `(seq, length)`. Allocates nothing.
    ///
    /// # Errors
    /// [`Error::SequenceExhausted`]; [`Error::CounterStore`] if the next block could
    /// not be reserved (nothing is sealed then); the errors of
    /// [`seal_into`](crate::envelope::seal_into).
    pub fn seal_into(&mut self, topic: &str, plaintext: &[u8], out: &mut [u8]) -> Result<(u64, usize)> {
        if self.next > MAX_SEQ {
            return Err(Error::SequenceExhausted);
        }
        if self.next >= self.reserved {
            self.reserve()?;
        }
        let seq = self.next;
        let n = seal_into(&self.provider, &self.key, seq, topic, plaintext, out)?;
        // The number is used once sealed, whatever happens to the envelope.
        self.next = seq.saturating_add(1);
        Ok((seq, n))
    }

    /// As [`Self::seal_into`], into a new vector.
    ///
    /// # Errors
    /// As [`Self::seal_into`].
    pub fn seal(&mut self, topic: &str, plaintext: &[u8]) -> Result<(u64, alloc::vec::Vec<u8>)> {
        let mut out = alloc::vec![0u8; plaintext.len().saturating_add(crate::envelope::MAX_OVERHEAD)];
        let (seq, n) = self.seal_into(topic, plaintext, &mut out)?;
        out.truncate(n);
        Ok((seq, out))
    }
}
