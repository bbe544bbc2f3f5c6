//! Where replay windows live: a store one receiver owns ([`ReplayStore`]) or one
//! several receivers share ([`SharedReplayStore`]), and the split of the device
//! space into shards that batches and stores agree on.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use hashbrown::{DefaultHashBuilder, HashMap};

use crate::window::ReplayWindow;
use crate::{Error, Result};

/// How many shards the device space is split into (a power of two). Batches
/// handle disjoint shards on different threads; a store can offer one part per
/// shard ([`ReplayStore::parts_mut`]).
pub const SHARDS: usize = 64;

/// The shard of `device`, `0..SHARDS`: a fixed function of the id (not keyed),
/// so that a receiver and a store split the devices the same way.
///
/// It only spreads work: nothing depends on it being hard to predict.
#[must_use]
pub fn device_shard(device: &[u8]) -> usize {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut h = (device.len() as u64).wrapping_mul(K);
    let mut chunks = device.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes(<[u8; 8]>::try_from(c).unwrap_or_default());
        h = (h ^ w).wrapping_mul(K).rotate_left(29);
    }
    let last = chunks
        .remainder()
        .iter()
        .rev()
        .fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
    h = (h ^ last).wrapping_mul(K);
    // murmur3's final mix
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^= h >> 33;
    usize::try_from(h & (SHARDS as u64).wrapping_sub(1)).unwrap_or(0)
}

/// A replay store one receiver owns (memory, a redb file): the receiver loads a
/// device's window once, checks each sequence number against it and persists
/// the updated window with [`Self::save`] before it hands anything out.
///
/// `save` must be atomic and durable: when it returns `Ok`, a restarted receiver
/// loading from the store refuses every sequence number accepted so far.
///
/// A store that several receivers use at once is a [`SharedReplayStore`]
/// instead: two receivers checking windows they loaded earlier would both accept
/// the same envelope.
pub trait ReplayStore {
    /// The stored window of `device`, if any.
    ///
    /// # Errors
    /// [`Error::ReplayStore`] if the store cannot be read.
    fn load(&self, device: &[u8]) -> Result<Option<ReplayWindow>>;

    /// Stores all `updates` atomically and durably.
    ///
    /// # Errors
    /// [`Error::ReplayStore`] if it could not (then none of them counts as stored).
    fn save(&mut self, updates: &[(&[u8], ReplayWindow)]) -> Result<()>;

    /// Stores one update, as [`Self::save`] of it (the default); a receiver
    /// opening one envelope calls this, which a store may make cheaper.
    ///
    /// # Errors
    /// As [`Self::save`].
    fn save_one(&mut self, device: &[u8], window: &ReplayWindow) -> Result<()> {
        self.save(&[(device, *window)])
    }

    /// Stores the updates of all `parts` atomically and durably, as one
    /// [`Self::save`] of all of them (a split batch collects one part per shard).
    /// The default saves their concatenation.
    ///
    /// # Errors
    /// As [`Self::save`].
    fn save_all(&mut self, parts: &[&[(&[u8], ReplayWindow)]]) -> Result<()> {
        match parts {
            [] => Ok(()),
            [one] => self.save(one),
            _ => {
                let all: Vec<(&[u8], ReplayWindow)> = parts.iter().flat_map(|p| p.iter().copied()).collect();
                self.save(&all)
            }
        }
    }

    /// The store as [`SHARDS`] parts, part `i` holding the devices of shard `i`
    /// ([`device_shard`]), that the threads of a split batch load from and save
    /// to at the same time ([`Receiver::split`](crate::Receiver::split)); each
    /// part's `save` is atomic and durable like [`Self::save`], for its own
    /// devices. `None` (the default) if the store cannot be split: then a split
    /// batch persists in one [`Self::save_all`] at the end.
    fn parts_mut(&mut self) -> Option<[&mut dyn ReplayStorePart; SHARDS]> {
        None
    }
}

/// A replay store several receivers share (a server such as Redis): it decides
/// itself which sequence numbers are new, atomically on its side, so that of
/// several gateways that receive the same envelope exactly one accepts it. A
/// receiver over it ([`Shared`]) keeps no window of its own and asks the store
/// for every envelope whose tag verified.
pub trait SharedReplayStore {
    /// Checks each `(device, seq)` of `items`, in order, against the device's window
    /// of `window` numbers and records the new ones, atomically and durably: when it
    /// returns, every number reported accepted is refused from then on, by every
    /// receiver using the store. A number repeated within `items` is a replay of its
    /// first occurrence. Returns one verdict per item: `Ok(())` accepted,
    /// [`Error::Replay`] or [`Error::OutsideWindow`] refused.
    ///
    /// Called only with envelopes whose tag verified.
    ///
    /// # Errors
    /// [`Error::ReplayStore`] if the store failed; then none of the items counts as
    /// accepted.
    fn check_and_update(&mut self, items: &[(&[u8], u64)], window: u32) -> Result<Vec<Result<()>>>;

    /// The stored window of `device`, if any (for
    /// [`Receiver::highest_seq`](crate::Receiver::highest_seq)).
    ///
    /// # Errors
    /// [`Error::ReplayStore`] if the store cannot be read.
    fn load(&self, device: &[u8]) -> Result<Option<ReplayWindow>>;
}

/// A [`SharedReplayStore`] as the store of a receiver:
/// `Receiver::new(provider, master, config, Shared(store))`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Shared<S>(pub S);

impl<T: SharedReplayStore + ?Sized> SharedReplayStore for &mut T {
    fn check_and_update(&mut self, items: &[(&[u8], u64)], window: u32) -> Result<Vec<Result<()>>> {
        (**self).check_and_update(items, window)
    }

    fn load(&self, device: &[u8]) -> Result<Option<ReplayWindow>> {
        (**self).load(device)
    }
}

/// A [`ReplayStore`] used as a shared one: the check and update of
/// [`SharedReplayStore::check_and_update`] through `load` and one `save`. Atomic
/// for a store one receiver owns, not between receivers: for tests and models of
/// a shared store.
#[derive(Debug, Clone, Default)]
pub struct LocalAsShared<S>(pub S);

impl<S: ReplayStore> SharedReplayStore for LocalAsShared<S> {
    fn check_and_update(&mut self, items: &[(&[u8], u64)], window: u32) -> Result<Vec<Result<()>>> {
        let mut windows: BTreeMap<&[u8], ReplayWindow> = BTreeMap::new();
        let mut verdicts = Vec::with_capacity(items.len());
        for (device, seq) in items {
            let w = match windows.entry(*device) {
                alloc::collections::btree_map::Entry::Occupied(o) => o.into_mut(),
                alloc::collections::btree_map::Entry::Vacant(v) => {
                    v.insert(self.0.load(device).map_err(|_| Error::ReplayStore)?.unwrap_or_default())
                }
            };
            let verdict = w.check(*seq, window);
            if verdict.is_ok() {
                w.accept(*seq, window);
            }
            verdicts.push(verdict);
        }
        if verdicts.iter().any(Result::is_ok) {
            let updates: Vec<(&[u8], ReplayWindow)> = windows.into_iter().collect();
            self.0.save(&updates).map_err(|_| Error::ReplayStore)?;
        }
        Ok(verdicts)
    }

    fn load(&self, device: &[u8]) -> Result<Option<ReplayWindow>> {
        self.0.load(device)
    }
}

/// One shard's part of a [`ReplayStore`] ([`ReplayStore::parts_mut`]): the
/// windows of the devices of that shard, which one thread of a split batch loads
/// and saves while other threads use the other parts.
pub trait ReplayStorePart: Send {
    /// The stored window of `device` (a device of this part's shard), if any.
    ///
    /// # Errors
    /// [`Error::ReplayStore`] if the store cannot be read.
    fn load(&self, device: &[u8]) -> Result<Option<ReplayWindow>>;

    /// Stores all `updates` (devices of this part's shard) atomically and durably.
    ///
    /// # Errors
    /// [`Error::ReplayStore`] if it could not (then none of them counts as stored).
    fn save(&mut self, updates: &[(&[u8], ReplayWindow)]) -> Result<()>;
}

/// One shard of a [`MemoryReplayStore`], on its own cache lines (threads write
/// neighbouring shards at the same time).
#[derive(Debug, Default, Clone)]
#[repr(align(128))]
struct MemoryShard {
    windows: HashMap<Vec<u8>, ReplayWindow, DefaultHashBuilder>,
}

impl ReplayStorePart for MemoryShard {
    fn load(&self, device: &[u8]) -> Result<Option<ReplayWindow>> {
        Ok(self.windows.get(device).copied())
    }

    fn save(&mut self, updates: &[(&[u8], ReplayWindow)]) -> Result<()> {
        // At most this many new devices: grow once, not step by step.
        self.windows.reserve(updates.len());
        for (d, w) in updates {
            *self.windows.entry_ref(*d).or_default() = *w;
        }
        Ok(())
    }
}

/// Replay windows in memory: for tests and for receivers that need no restart
/// safety. Split into one part per shard, so a parallel batch saves on all its
/// threads.
#[derive(Debug, Clone)]
pub struct MemoryReplayStore {
    shards: [MemoryShard; SHARDS],
}

impl Default for MemoryReplayStore {
    fn default() -> Self {
        Self {
            shards: core::array::from_fn(|_| MemoryShard::default()),
        }
    }
}

impl MemoryReplayStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of devices stored.
    #[must_use]
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| s.windows.len()).sum()
    }

    /// Whether nothing is stored.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.shards.iter().all(|s| s.windows.is_empty())
    }

    fn shard_mut(&mut self, device: &[u8]) -> Result<&mut MemoryShard> {
        self.shards.get_mut(device_shard(device)).ok_or(Error::ReplayStore)
    }
}

impl ReplayStore for MemoryReplayStore {
    fn load(&self, device: &[u8]) -> Result<Option<ReplayWindow>> {
        self.shards
            .get(device_shard(device))
            .ok_or(Error::ReplayStore)?
            .load(device)
    }

    fn save(&mut self, updates: &[(&[u8], ReplayWindow)]) -> Result<()> {
        for (d, w) in updates {
            self.save_one(d, w)?;
        }
        Ok(())
    }

    #[inline]
    fn save_one(&mut self, device: &[u8], window: &ReplayWindow) -> Result<()> {
        let shard = self.shard_mut(device)?;
        match shard.windows.get_mut(device) {
            Some(slot) => *slot = *window,
            None => {
                shard.windows.insert(device.to_vec(), *window);
            }
        }
        Ok(())
    }

    fn parts_mut(&mut self) -> Option<[&mut dyn ReplayStorePart; SHARDS]> {
        Some(self.shards.each_mut().map(as_part))
    }
}

fn as_part(shard: &mut MemoryShard) -> &mut dyn ReplayStorePart {
    shard
}

impl<T: ReplayStore + ?Sized> ReplayStore for &mut T {
    fn load(&self, device: &[u8]) -> Result<Option<ReplayWindow>> {
        (**self).load(device)
    }

    fn save(&mut self, updates: &[(&[u8], ReplayWindow)]) -> Result<()> {
        (**self).save(updates)
    }

    fn save_one(&mut self, device: &[u8], window: &ReplayWindow) -> Result<()> {
        (**self).save_one(device, window)
    }

    fn save_all(&mut self, parts: &[&[(&[u8], ReplayWindow)]]) -> Result<()> {
        (**self).save_all(parts)
    }

    fn parts_mut(&mut self) -> Option<[&mut dyn ReplayStorePart; SHARDS]> {
        (**self).parts_mut()
    }
}
