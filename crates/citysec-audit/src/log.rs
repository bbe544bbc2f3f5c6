//! A controller's own log: records kept in a bounded store, the tree kept as a
//! compact range, checkpoints signed through the controller's `Signer`.
//!
//! A record leaves the store only after a checkpoint covering it was exported
//! ([`ControllerLog::exported`]): until then it is the only copy. When the store
//! is full the next record cannot be kept. What the controller does then is
//! [`WhenFull`]:
//! - [`WhenFull::Deny`] (the default): the append fails with
//!   [`Error::StoreFull`] and the door denies, so nothing is allowed that the
//!   log does not hold.
//! - [`WhenFull::DecideAndCount`]: the decision stands unrecorded.
//!
//! Either way, the dropped record is counted. The next record that fits carries
//! the count in its `dropped` field, so the log itself shows the gap.

use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::vec::Vec;

use citysec_core::provider::Signer;

use crate::checkpoint::Checkpoint;
use crate::merkle::{CompactRange, Hash, leaf_hash};
use crate::note::NoteSigner;
use crate::record::Record;
use crate::{Error, Result};

/// Where a controller keeps the records it has not exported yet.
pub trait RecordStore {
    /// Keeps `bytes` as the record at `index` (always the next index).
    ///
    /// # Errors
    /// [`Error::StoreFull`] if there is no room (nothing is kept).
    fn push(&mut self, index: u64, bytes: &[u8]) -> Result<()>;

    /// The record at `index`, if still kept.
    fn get(&self, index: u64) -> Option<&[u8]>;

    /// Lets every record below `index` go (a checkpoint covering them was
    /// exported).
    fn release(&mut self, index: u64);

    /// The index of the oldest record kept (the next index if none is).
    fn first(&self) -> u64;

    /// The number of records kept.
    fn len(&self) -> usize;

    /// Whether no record is kept.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Records in RAM, bounded by a number of records and of bytes (`no_std`).
#[derive(Clone, Debug)]
pub struct RamStore {
    max_records: usize,
    max_bytes: usize,
    first: u64,
    bytes: usize,
    records: VecDeque<Vec<u8>>,
}

impl RamStore {
    /// A store for at most `max_records` records of `max_bytes` bytes in all.
    #[must_use]
    pub const fn new(max_records: usize, max_bytes: usize) -> Self {
        Self {
            max_records,
            max_bytes,
            first: 0,
            bytes: 0,
            records: VecDeque::new(),
        }
    }

    /// Bytes of the records kept.
    #[must_use]
    pub const fn bytes(&self) -> usize {
        self.bytes
    }
}

impl RecordStore for RamStore {
    fn push(&mut self, index: u64, bytes: &[u8]) -> Result<()> {
        let next = self
            .first
            .checked_add(u64::try_from(self.records.len()).map_err(|_| Error::StoreFull)?)
            .ok_or(Error::StoreFull)?;
        if index != next {
            return Err(Error::InvalidState);
        }
        let total = self.bytes.checked_add(bytes.len()).ok_or(Error::StoreFull)?;
        if self.records.len() >= self.max_records || total > self.max_bytes {
            return Err(Error::StoreFull);
        }
        self.records.push_back(bytes.to_vec());
        self.bytes = total;
        Ok(())
    }

    fn get(&self, index: u64) -> Option<&[u8]> {
        let at = usize::try_from(index.checked_sub(self.first)?).ok()?;
        self.records.get(at).map(Vec::as_slice)
    }

    fn release(&mut self, index: u64) {
        while self.first < index {
            let Some(r) = self.records.pop_front() else {
                // Nothing kept: the next record starts at `index`.
                self.first = index;
                return;
            };
            self.bytes = self.bytes.saturating_sub(r.len());
            self.first = self.first.saturating_add(1);
        }
    }

    fn first(&self) -> u64 {
        self.first
    }

    fn len(&self) -> usize {
        self.records.len()
    }
}

/// What a controller does when its store is full.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum WhenFull {
    /// The append fails ([`Error::StoreFull`]): the door denies.
    #[default]
    Deny,
    /// The decision stands and the record is dropped.
    DecideAndCount,
}

/// What [`ControllerLog::append`] did with a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Appended {
    /// Logged at this index.
    Logged(u64),
    /// Dropped: the store was full and the policy is
    /// [`WhenFull::DecideAndCount`].
    Dropped,
}

/// A controller's log: its store, its tree and its policy when full.
#[derive(Debug)]
pub struct ControllerLog<S: RecordStore> {
    origin: String,
    store: S,
    range: CompactRange,
    exported: u64,
    dropped: u64,
    when_full: WhenFull,
}

impl<S: RecordStore> ControllerLog<S> {
    /// An empty log named `origin` (the checkpoints' origin line) over `store`.
    ///
    /// # Errors
    /// [`Error::MalformedCheckpoint`] for an origin a checkpoint cannot have.
    pub fn new(origin: &str, store: S, when_full: WhenFull) -> Result<Self> {
        Checkpoint::new(origin, 0, [0; 32])?;
        Ok(Self {
            origin: origin.into(),
            store,
            range: CompactRange::new(),
            exported: 0,
            dropped: 0,
            when_full,
        })
    }

    /// Appends `record`, with the count of records dropped before it.
    ///
    /// # Errors
    /// As [`Record::to_cbor`]; [`Error::StoreFull`] if the store is full and the
    /// policy is [`WhenFull::Deny`] (the record is counted as dropped);
    /// [`Error::TreeFull`].
    pub fn append(&mut self, record: Record) -> Result<Appended> {
        let record = if self.dropped == 0 {
            record
        } else {
            record.with_dropped(self.dropped)
        };
        let bytes = record.to_cbor()?;
        let index = self.range.size();
        match self.store.push(index, &bytes) {
            Ok(()) => {}
            Err(Error::StoreFull) => {
                self.dropped = self.dropped.saturating_add(1);
                return match self.when_full {
                    WhenFull::Deny => Err(Error::StoreFull),
                    WhenFull::DecideAndCount => Ok(Appended::Dropped),
                };
            }
            Err(e) => return Err(e),
        }
        self.range.append(&leaf_hash(&bytes))?;
        self.dropped = 0;
        Ok(Appended::Logged(index))
    }

    /// The tree size.
    #[must_use]
    pub const fn size(&self) -> u64 {
        self.range.size()
    }

    /// The tree's root.
    #[must_use]
    pub fn root(&self) -> Hash {
        self.range.root()
    }

    /// Records dropped since the last one logged.
    #[must_use]
    pub const fn dropped(&self) -> u64 {
        self.dropped
    }

    /// The size the last exported checkpoint covers.
    #[must_use]
    pub const fn exported_size(&self) -> u64 {
        self.exported
    }

    /// The store.
    #[must_use]
    pub const fn store(&self) -> &S {
        &self.store
    }

    /// The checkpoint of the tree as it is.
    ///
    /// # Errors
    /// As [`Checkpoint::new`].
    pub fn checkpoint(&self) -> Result<Checkpoint> {
        Checkpoint::new(&self.origin, self.range.size(), self.range.root())
    }

    /// The checkpoint signed by the controller's key.
    ///
    /// # Errors
    /// As [`NoteSigner::sign`].
    pub fn signed_checkpoint<K: Signer>(&self, key: &NoteSigner<K>) -> Result<String> {
        self.checkpoint()?.sign(key)
    }

    /// Records that the checkpoint of `size` (and the records below it) was
    /// exported: they may now leave the store.
    ///
    /// # Errors
    /// [`Error::Rollback`] for a size below one exported before;
    /// [`Error::SizesOutOfOrder`] for a size beyond the tree.
    pub fn exported(&mut self, size: u64) -> Result<()> {
        if size < self.exported {
            return Err(Error::Rollback);
        }
        if size > self.range.size() {
            return Err(Error::SizesOutOfOrder);
        }
        self.exported = size;
        self.store.release(size);
        Ok(())
    }
}
