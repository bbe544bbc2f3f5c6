//! The sender (firmware side): sequence numbers that never repeat, across reboots.
//!
//! Before using sequence numbers the sender persists an upper bound, `reserved`,
//! through a [`CounterStore`]; it seals with numbers below it and reserves the next
//! block when it reaches it (the scheme of OSCORE, RFC 8613 appendix B.1.1). After
//! a reboot it starts at the persisted bound, skipping at most one block, and never
//! reuses a number. If persisting fails, it refuses to seal.

use citysec_core::Backend;

use crate::envelope::{MAX_SEQ, seal_into};
use crate::{DeviceKey, Error, Result};

/// Persistent storage for a sender's reserved sequence bound.
pub trait CounterStore {
    /// The last persisted bound, or `None` for a fresh device.
    ///
    /// # Errors
    /// [`Error::CounterStore`] if the store cannot be read (the sender then refuses).
    fn load(&mut self) -> Result<Option<u64>>;

    /// Persists `reserved` durably before returning.
    ///
    /// # Errors
    /// [`Error::CounterStore`] if it could not.
    fn store(&mut self, reserved: u64) -> Result<()>;
}

/// A counter store in memory: for tests, or for firmware that keeps it in
/// battery-backed RAM itself.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct MemoryCounterStore {
    /// The persisted bound.
    pub value: Option<u64>,
}

impl CounterStore for MemoryCounterStore {
    fn load(&mut self) -> Result<Option<u64>> {
        Ok(self.value)
    }

    fn store(&mut self, reserved: u64) -> Result<()> {
        self.value = Some(reserved);
        Ok(())
    }
}

impl<T: CounterStore + ?Sized> CounterStore for &mut T {
    fn load(&mut self) -> Result<Option<u64>> {
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
    key: DeviceKey,
    store: S,
    next: u64,
    reserved: u64,
    block: u64,
}

impl<S: CounterStore> Sender<S> {
    /// A sender with `key`, resuming from what `store` holds. It reserves its first
    /// block before returning.
    ///
    /// # Errors
    /// [`Error::CounterStore`] if the store cannot be read or written;
    /// [`Error::SequenceExhausted`] if nothing is left; [`Error::InvalidParameter`] for a
    /// zero block.
    pub fn new(key: DeviceKey, mut store: S, block: u64) -> Result<Self> {
        if block == 0 {
            return Err(Error::InvalidParameter);
        }
        let next = store.load()?.unwrap_or(0);
        if next > MAX_SEQ {
            return Err(Error::SequenceExhausted);
        }
        let mut s = Self {
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
    pub fn seal_into(
        &mut self,
        backend: &dyn Backend,
        topic: &str,
        plaintext: &[u8],
        out: &mut [u8],
    ) -> Result<(u64, usize)> {
        if self.next > MAX_SEQ {
            return Err(Error::SequenceExhausted);
        }
        if self.next >= self.reserved {
            self.reserve()?;
        }
        let seq = self.next;
        let n = seal_into(backend, &self.key, seq, topic, plaintext, out)?;
        // The number is used once sealed, whatever happens to the envelope.
        self.next = seq.saturating_add(1);
        Ok((seq, n))
    }

    /// As [`Self::seal_into`], into a new vector.
    ///
    /// # Errors
    /// As [`Self::seal_into`].
    pub fn seal(&mut self, backend: &dyn Backend, topic: &str, plaintext: &[u8]) -> Result<(u64, alloc::vec::Vec<u8>)> {
        let mut out = alloc::vec![0u8; plaintext.len().saturating_add(crate::envelope::MAX_OVERHEAD)];
        let (seq, n) = self.seal_into(backend, topic, plaintext, &mut out)?;
        out.truncate(n);
        Ok((seq, out))
    }
}
