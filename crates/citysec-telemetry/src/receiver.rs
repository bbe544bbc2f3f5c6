//! The receiver (gateway side): open, then check and update the device's replay
//! window, persisted before anything is handed out.

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::vec::Vec;
use core::fmt;
use core::hash::BuildHasher as _;

use hashbrown::hash_table::Entry;
use hashbrown::{DefaultHashBuilder, HashMap, HashTable};

use citysec_core::SymmetricKey;
use citysec_core::provider::Provider;

use crate::envelope::{Envelope, MAX_DEVICE_ID};
use crate::window::{DEFAULT_WINDOW, MAX_WINDOW, ReplayWindow};
use crate::{Error, MasterSecret, Result};

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

/// Persistent storage for replay windows.
///
/// `save` must be atomic and durable: when it returns `Ok`, a restarted receiver
/// loading from the store refuses every sequence number accepted so far. The
/// receiver hands out nothing before `save` returned `Ok`.
///
/// A store that several receivers share (a server such as Redis) cannot let each
/// receiver check a window it loaded earlier: two gateways would both accept the
/// same envelope. Such a store returns `true` from [`Self::is_shared`] and decides
/// in [`Self::check_and_update`], atomically on its side; the receiver then keeps
/// no window of its own and asks the store for every envelope whose tag verified.
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
    /// to at the same time ([`Receiver::split`]); each part's `save` is atomic and
    /// durable like [`Self::save`], for its own devices. `None` (the default) if
    /// the store cannot be split: then a split batch persists in one
    /// [`Self::save_all`] at the end.
    fn parts_mut(&mut self) -> Option<[&mut dyn ReplayStorePart; SHARDS]> {
        None
    }

    /// Whether the store decides itself, in [`Self::check_and_update`], which
    /// sequence numbers are new (default `false`: the receiver checks the windows it
    /// loaded and persists them with [`Self::save`]). A store shared by several
    /// receivers must return `true`.
    fn is_shared(&self) -> bool {
        false
    }

    /// Checks each `(device, seq)` of `items`, in order, against the device's window
    /// of `window` numbers and records the new ones, atomically and durably: when it
    /// returns, every number reported accepted is refused from then on, by every
    /// receiver using the store. A number repeated within `items` is a replay of its
    /// first occurrence. Returns one verdict per item: `Ok(())` accepted,
    /// [`Error::Replay`] or [`Error::OutsideWindow`] refused.
    ///
    /// Called only with envelopes whose tag verified. The default implementation
    /// uses [`Self::load`] and one [`Self::save`]: atomic for a store that one
    /// receiver owns, not between receivers; shared stores override it.
    ///
    /// # Errors
    /// [`Error::ReplayStore`] if the store failed; then none of the items counts as
    /// accepted.
    fn check_and_update(&mut self, items: &[(&[u8], u64)], window: u32) -> Result<Vec<Result<()>>> {
        let mut windows: BTreeMap<&[u8], ReplayWindow> = BTreeMap::new();
        let mut verdicts = Vec::with_capacity(items.len());
        for (device, seq) in items {
            let w = match windows.entry(*device) {
                alloc::collections::btree_map::Entry::Occupied(o) => o.into_mut(),
                alloc::collections::btree_map::Entry::Vacant(v) => {
                    v.insert(self.load(device).map_err(|_| Error::ReplayStore)?.unwrap_or_default())
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
            self.save(&updates).map_err(|_| Error::ReplayStore)?;
        }
        Ok(verdicts)
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
            *self.shard_mut(d)?.windows.entry_ref(*d).or_default() = *w;
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

    fn save_all(&mut self, parts: &[&[(&[u8], ReplayWindow)]]) -> Result<()> {
        (**self).save_all(parts)
    }

    fn parts_mut(&mut self) -> Option<[&mut dyn ReplayStorePart; SHARDS]> {
        (**self).parts_mut()
    }

    fn is_shared(&self) -> bool {
        (**self).is_shared()
    }

    fn check_and_update(&mut self, items: &[(&[u8], u64)], window: u32) -> Result<Vec<Result<()>>> {
        (**self).check_and_update(items, window)
    }
}

/// What a receiver accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReceiverConfig {
    /// Replay window size per device (default 64, at most 1024).
    pub window: u32,
    /// Key epochs accepted (default: only 0).
    pub epochs: Vec<u32>,
    /// Largest envelope accepted, in bytes (default 64 KiB).
    pub max_envelope: usize,
    /// If set, only these device ids are accepted.
    pub devices: Option<BTreeSet<Vec<u8>>>,
}

impl Default for ReceiverConfig {
    fn default() -> Self {
        Self {
            window: DEFAULT_WINDOW,
            epochs: alloc::vec![0],
            max_envelope: 64 * 1024,
            devices: None,
        }
    }
}

impl ReceiverConfig {
    /// This configuration with another window size (clamped to 1..=1024).
    #[must_use]
    pub fn with_window(mut self, size: u32) -> Self {
        self.window = size.clamp(1, MAX_WINDOW);
        self
    }

    /// This configuration accepting these epochs.
    #[must_use]
    pub fn with_epochs(mut self, epochs: &[u32]) -> Self {
        self.epochs = epochs.to_vec();
        self
    }

    /// This configuration accepting only these devices.
    #[must_use]
    pub fn with_devices<I: IntoIterator<Item = Vec<u8>>>(mut self, devices: I) -> Self {
        self.devices = Some(devices.into_iter().collect());
        self
    }

    /// Parses `bytes` and checks the epoch, the device and the topic.
    fn check<'a>(&self, bytes: &'a [u8], expected_topic: Option<&str>) -> Result<Envelope<'a>> {
        let envelope = Envelope::parse(bytes, self.max_envelope)?;
        if !self.epochs.contains(&envelope.epoch()) {
            return Err(Error::UnknownEpoch);
        }
        if let Some(devices) = &self.devices
            && !devices.contains(envelope.device_id())
        {
            return Err(Error::UnknownDevice);
        }
        if expected_topic.is_some_and(|t| t != envelope.topic()) {
            return Err(Error::TopicMismatch);
        }
        Ok(envelope)
    }
}

/// An envelope that decrypted but is not yet accepted (the replay window has not
/// seen it). Produced by [`Receiver::decrypt`], consumed by [`Receiver::accept`].
#[derive(Debug)]
pub struct Decrypted<'a> {
    envelope: Envelope<'a>,
    derived: Option<SymmetricKey>,
}

impl<'a> Decrypted<'a> {
    /// The envelope (authenticated, not yet replay-checked).
    #[must_use]
    pub const fn envelope(&self) -> &Envelope<'a> {
        &self.envelope
    }
}

/// What a receiver keeps per device: the id inline (compared on every lookup),
/// the derived key of the first epoch seen inline and any others after it, and
/// the window once loaded.
#[derive(Debug)]
struct DeviceEntry {
    id: [u8; MAX_DEVICE_ID],
    id_len: u8,
    key: Option<(u32, SymmetricKey)>,
    other_keys: Vec<(u32, SymmetricKey)>,
    window: Option<ReplayWindow>,
    /// In split batch `.0`, this device's update sits at index `.1` of its
    /// shard's updates.
    pending: Option<(u32, usize)>,
}

impl DeviceEntry {
    fn new(device: &[u8]) -> Result<Self> {
        let mut id = [0u8; MAX_DEVICE_ID];
        id.get_mut(..device.len())
            .ok_or(Error::InvalidParameter)?
            .copy_from_slice(device);
        Ok(Self {
            id,
            id_len: u8::try_from(device.len()).map_err(|_| Error::InvalidParameter)?,
            key: None,
            other_keys: Vec::new(),
            window: None,
            pending: None,
        })
    }

    fn id(&self) -> &[u8] {
        self.id.get(..usize::from(self.id_len)).unwrap_or_default()
    }

    fn key(&self, epoch: u32) -> Option<&SymmetricKey> {
        match &self.key {
            Some((e, k)) if *e == epoch => Some(k),
            _ => self.other_keys.iter().find(|(e, _)| *e == epoch).map(|(_, k)| k),
        }
    }

    /// Keeps `key` for `epoch` unless one is kept already.
    fn keep_key(&mut self, epoch: u32, key: SymmetricKey) {
        if self.key(epoch).is_some() {
            return;
        }
        if self.key.is_none() {
            self.key = Some((epoch, key));
        } else {
            self.other_keys.push((epoch, key));
        }
    }

    /// Loads the window from `load` if it is not cached yet.
    fn load_window(&mut self, load: impl FnOnce(&[u8]) -> Result<Option<ReplayWindow>>) -> Result<()> {
        if self.window.is_none() {
            let w = load(self.id())?.unwrap_or_default();
            self.window = Some(w);
        }
        Ok(())
    }

    /// The window after accepting `seq`, or why `seq` is refused (nothing changes).
    fn next_window(&self, seq: u64, size: u32) -> Result<ReplayWindow> {
        let mut w = self.window.unwrap_or_default();
        w.check(seq, size)?;
        w.accept(seq, size);
        Ok(w)
    }
}

/// The per-device state of one shard of the device space, on its own cache
/// lines (batch threads work on neighbouring shards at the same time).
#[derive(Debug, Default)]
#[repr(align(128))]
struct Shard {
    devices: HashTable<DeviceEntry>,
}

impl Shard {
    fn find(&self, hash: u64, device: &[u8]) -> Option<&DeviceEntry> {
        self.devices.find(hash, |e| e.id() == device)
    }

    fn find_mut(&mut self, hash: u64, device: &[u8]) -> Option<&mut DeviceEntry> {
        self.devices.find_mut(hash, |e| e.id() == device)
    }

    /// The device's entry, created (without key or window) if missing.
    fn entry(&mut self, hasher: &DefaultHashBuilder, hash: u64, device: &[u8]) -> Result<&mut DeviceEntry> {
        match self
            .devices
            .entry(hash, |e| e.id() == device, |e| hasher.hash_one(e.id()))
        {
            Entry::Occupied(o) => Ok(o.into_mut()),
            Entry::Vacant(v) => Ok(v.insert(DeviceEntry::new(device)?).into_mut()),
        }
    }

    /// Adds an entry for a device known not to be in the shard.
    fn insert_new(&mut self, hasher: &DefaultHashBuilder, hash: u64, entry: DeviceEntry) {
        self.devices.insert_unique(hash, entry, |e| hasher.hash_one(e.id()));
    }
}

/// Derives the key of `device` in `epoch`, as the receiver caches it (no `kid`).
fn derive_key(master: &MasterSecret, backend: &Provider, device: &[u8], epoch: u32) -> Result<SymmetricKey> {
    let derived = master.derive(backend, device, epoch)?;
    Ok(derived.key().clone().without_kid())
}

/// Decrypts `envelope` into `out` with the key `entry` holds for its epoch, or
/// one derived from `master` (returned, for the caller to keep once accepted).
fn decrypt_with(
    master: &MasterSecret,
    entry: Option<&DeviceEntry>,
    backend: &Provider,
    envelope: &Envelope<'_>,
    out: &mut Vec<u8>,
) -> Result<Option<SymmetricKey>> {
    match entry.and_then(|e| e.key(envelope.epoch())) {
        Some(key) => {
            envelope.open_into(backend, key, out)?;
            Ok(None)
        }
        None => {
            let key = derive_key(master, backend, envelope.device_id(), envelope.epoch())?;
            envelope.open_into(backend, &key, out)?;
            Ok(Some(key))
        }
    }
}

/// A gateway's receiver for many devices.
#[derive(Debug)]
pub struct Receiver<S: ReplayStore> {
    provider: Provider,
    master: MasterSecret,
    config: ReceiverConfig,
    hasher: DefaultHashBuilder,
    shards: [Shard; SHARDS],
    store: S,
    batches: u32,
}

impl<S: ReplayStore> Receiver<S> {
    /// A receiver that derives device keys and opens envelopes with `provider`
    /// (bound once: no call takes a backend), deriving device keys from `master`,
    /// with windows in `store`.
    pub fn new(provider: &Provider, master: MasterSecret, config: ReceiverConfig, store: S) -> Self {
        Self {
            provider: *provider,
            master,
            config,
            hasher: DefaultHashBuilder::default(),
            shards: core::array::from_fn(|_| Shard::default()),
            store,
            batches: 0,
        }
    }

    /// The configuration.
    #[must_use]
    pub const fn config(&self) -> &ReceiverConfig {
        &self.config
    }

    /// The replay store.
    #[must_use]
    pub const fn store(&self) -> &S {
        &self.store
    }

    /// The highest sequence number accepted from `device` (in any key epoch), as
    /// its replay store holds it; `None` if none was.
    ///
    /// The replay window is per device across key epochs, so a device provisioned
    /// again at a new epoch after losing its counter store must start above this
    /// number: anything at or below it is refused (`Replay` or `OutsideWindow`).
    ///
    /// # Errors
    /// [`Error::ReplayStore`] if the store cannot be read.
    pub fn highest_seq(&self, device: &[u8]) -> Result<Option<u64>> {
        Ok(self.store.load(device)?.and_then(|w| w.top()))
    }

    /// Gives the store back (the receiver's caches are dropped).
    pub fn into_store(self) -> S {
        self.store
    }

    /// Derives and caches the key of `device` in `epoch` ahead of traffic.
    ///
    /// # Errors
    /// As [`MasterSecret::derive`].
    pub fn warm(&mut self, device: &[u8], epoch: u32) -> Result<()> {
        let k = derive_key(&self.master, &self.provider, device, epoch)?;
        let hash = self.hasher.hash_one(device);
        let shard = self.shards.get_mut(device_shard(device)).ok_or(Error::UnknownDevice)?;
        shard.entry(&self.hasher, hash, device)?.keep_key(epoch, k);
        Ok(())
    }

    fn entry_mut(&mut self, device: &[u8]) -> Result<&mut DeviceEntry> {
        let hash = self.hasher.hash_one(device);
        let shard = self.shards.get_mut(device_shard(device)).ok_or(Error::UnknownDevice)?;
        shard.entry(&self.hasher, hash, device)
    }

    /// Parses, checks the epoch, device and topic, and decrypts into `out`. Does not
    /// touch the replay window: [`Self::accept`] does, after this succeeded. Takes
    /// `&self`, so a batch can decrypt on several threads.
    ///
    /// # Errors
    /// The errors of [`Envelope::parse`] and of decryption (`Core(DecryptFailed)`,
    /// `Core(KeyAlgMismatch)`);
    /// [`Error::UnknownEpoch`], [`Error::UnknownDevice`], [`Error::TopicMismatch`].
    pub fn decrypt<'a>(
        &self,
        bytes: &'a [u8],
        expected_topic: Option<&str>,
        out: &mut Vec<u8>,
    ) -> Result<Decrypted<'a>> {
        out.clear();
        let envelope = self.config.check(bytes, expected_topic)?;
        let device = envelope.device_id();
        let entry = self
            .shards
            .get(device_shard(device))
            .and_then(|s| s.find(self.hasher.hash_one(device), device));
        let derived = decrypt_with(&self.master, entry, &self.provider, &envelope, out)?;
        Ok(Decrypted { envelope, derived })
    }

    /// Keeps a newly derived key (a shared store keeps the windows, not the receiver).
    fn keep_key(&mut self, d: Decrypted<'_>) {
        let Some(k) = d.derived else { return };
        let epoch = d.envelope.epoch();
        if let Ok(entry) = self.entry_mut(d.envelope.device_id()) {
            entry.keep_key(epoch, k);
        }
    }

    /// [`Self::accept`] for a shared store: the store checks and records.
    fn accept_shared<'a>(&mut self, d: Decrypted<'a>) -> Result<Envelope<'a>> {
        let env = d.envelope;
        let verdicts = self
            .store
            .check_and_update(&[(env.device_id(), env.seq())], self.config.window)
            .map_err(|_| Error::ReplayStore)?;
        verdicts.into_iter().next().unwrap_or(Err(Error::ReplayStore))?;
        self.keep_key(d);
        Ok(env)
    }

    /// [`Self::accept_batch`] for a shared store: one `check_and_update` for the
    /// batch, in arrival order.
    fn accept_batch_shared<'a>(
        &mut self,
        decrypted: Vec<Result<(Decrypted<'a>, Vec<u8>)>>,
    ) -> Vec<Result<(Envelope<'a>, Vec<u8>)>> {
        let items: Vec<(&'a [u8], u64)> = decrypted
            .iter()
            .filter_map(|r| r.as_ref().ok())
            .map(|(d, _)| (d.envelope.device_id(), d.envelope.seq()))
            .collect();
        let verdicts = if items.is_empty() {
            Ok(Vec::new())
        } else {
            self.store.check_and_update(&items, self.config.window)
        };
        // A store that answers with the wrong number of verdicts accepts nothing.
        let mut verdicts = match verdicts {
            Ok(v) if v.len() == items.len() => Some(v.into_iter()),
            _ => None,
        };
        let mut results = Vec::with_capacity(decrypted.len());
        for item in decrypted {
            let r = item.and_then(|(d, mut plaintext)| {
                let verdict = verdicts
                    .as_mut()
                    .and_then(Iterator::next)
                    .unwrap_or(Err(Error::ReplayStore));
                if let Err(e) = verdict {
                    zeroize::Zeroize::zeroize(&mut plaintext);
                    return Err(e);
                }
                let env = d.envelope;
                self.keep_key(d);
                Ok((env, plaintext))
            });
            results.push(r);
        }
        results
    }

    /// Accepts a decrypted envelope: checks and updates the replay window and
    /// persists it. Only on `Ok` may the plaintext be used.
    ///
    /// # Errors
    /// [`Error::Replay`], [`Error::OutsideWindow`], [`Error::ReplayStore`] (nothing
    /// was accepted then).
    pub fn accept<'a>(&mut self, d: Decrypted<'a>) -> Result<Envelope<'a>> {
        if self.store.is_shared() {
            return self.accept_shared(d);
        }
        let env = d.envelope;
        let device = env.device_id();
        let hash = self.hasher.hash_one(device);
        let size = self.config.window;
        let Self {
            hasher, shards, store, ..
        } = self;
        let shard = shards.get_mut(device_shard(device)).ok_or(Error::UnknownDevice)?;
        let entry = shard.entry(hasher, hash, device)?;
        accept_into(entry, store, &env, size)?;
        if let Some(k) = d.derived {
            entry.keep_key(env.epoch(), k);
        }
        Ok(env)
    }

    /// Opens one envelope: decrypt, then accept. The plaintext is in `out` on `Ok`;
    /// `out` is empty on error.
    ///
    /// # Errors
    /// The errors of [`Self::decrypt`] and [`Self::accept`].
    pub fn open<'a>(
        &mut self,
        bytes: &'a [u8],
        expected_topic: Option<&str>,
        out: &mut Vec<u8>,
    ) -> Result<Envelope<'a>> {
        if self.store.is_shared() {
            let d = self.decrypt(bytes, expected_topic, out)?;
            return self.accept_shared(d).inspect_err(|_| wipe(out));
        }
        // One hash and one lookup for the key, the window and the update.
        out.clear();
        let env = self.config.check(bytes, expected_topic)?;
        let device = env.device_id();
        let hash = self.hasher.hash_one(device);
        let Self {
            provider,
            master,
            config,
            hasher,
            shards,
            store,
            ..
        } = self;
        let shard = shards.get_mut(device_shard(device)).ok_or(Error::UnknownDevice)?;
        if let Some(entry) = shard.find_mut(hash, device) {
            let derived = decrypt_with(master, Some(&*entry), provider, &env, out)?;
            accept_into(entry, store, &env, config.window).inspect_err(|_| wipe(out))?;
            if let Some(k) = derived {
                entry.keep_key(env.epoch(), k);
            }
        } else {
            // A device seen for the first time gets an entry only once accepted.
            let key = derive_key(master, provider, device, env.epoch())?;
            env.open_into(provider, &key, out)?;
            let mut entry = DeviceEntry::new(device).inspect_err(|_| wipe(out))?;
            accept_into(&mut entry, store, &env, config.window).inspect_err(|_| wipe(out))?;
            entry.keep_key(env.epoch(), key);
            shard.insert_new(hasher, hash, entry);
        }
        Ok(env)
    }

    /// Accepts decrypted envelopes in order (a duplicate within the batch is a
    /// replay of the earlier one) and persists every touched window in one `save`.
    /// If that fails, nothing is accepted.
    ///
    /// `decrypted` holds one entry per envelope, in arrival order: the result of
    /// [`Self::decrypt`] and its plaintext.
    ///
    /// With a shared store ([`ReplayStore::is_shared`]) the whole batch goes to
    /// [`ReplayStore::check_and_update`] in one call; if that fails, nothing is
    /// accepted either.
    pub fn accept_batch<'a>(
        &mut self,
        decrypted: Vec<Result<(Decrypted<'a>, Vec<u8>)>>,
    ) -> Vec<Result<(Envelope<'a>, Vec<u8>)>> {
        if self.store.is_shared() {
            return self.accept_batch_shared(decrypted);
        }
        let size = self.config.window;
        let mut touched: Vec<&'a [u8]> = Vec::new();
        let mut results: Vec<Result<(Envelope<'a>, Vec<u8>)>> = Vec::with_capacity(decrypted.len());
        for item in decrypted {
            let r = item.and_then(|(d, plaintext)| {
                let env = d.envelope;
                let device = env.device_id();
                let hash = self.hasher.hash_one(device);
                let Self {
                    hasher, shards, store, ..
                } = &mut *self;
                let shard = shards.get_mut(device_shard(device)).ok_or(Error::UnknownDevice)?;
                let entry = shard.entry(hasher, hash, device)?;
                entry.load_window(|id| store.load(id))?;
                let w = entry.next_window(env.seq(), size)?;
                entry.window = Some(w);
                if let Some(k) = d.derived {
                    entry.keep_key(env.epoch(), k);
                }
                touched.push(device);
                Ok((env, plaintext))
            });
            results.push(r);
        }
        if touched.is_empty() {
            return results;
        }
        touched.sort_unstable();
        touched.dedup();
        // Each touched device once, with its final window.
        let updates: Vec<(&[u8], ReplayWindow)> = touched
            .iter()
            .map(|d| {
                let w = self
                    .shards
                    .get(device_shard(d))
                    .and_then(|s| s.find(self.hasher.hash_one(*d), d))
                    .and_then(|e| e.window)
                    .unwrap_or_default();
                (*d, w)
            })
            .collect();
        if self.store.save(&updates).is_err() {
            self.fail_batch(touched, &mut results);
        }
        results
    }

    /// Splits the receiver for a batch on several threads: a shared context and
    /// one [`ShardWork`] per shard (all [`SHARDS`] of them, in shard order). A
    /// thread takes a shard's work and opens the envelopes of that shard's devices
    /// ([`device_shard`]) with [`BatchContext::open`], in arrival order, then calls
    /// [`ShardWork::finish`]. If the store has parts ([`ReplayStore::parts_mut`]),
    /// `finish` persists the shard's windows in its part, on that thread; else it
    /// returns them, and [`Self::finish_batch`] persists all of them in one step.
    /// Nothing may be handed out before its shard's windows are persisted.
    ///
    /// Only for stores that are not shared ([`ReplayStore::is_shared`]).
    pub fn split<'a>(&mut self) -> (BatchContext<'_, S>, Vec<ShardWork<'_, 'a>>) {
        self.batches = self.batches.wrapping_add(1);
        let batch = self.batches;
        let Self {
            provider,
            master,
            config,
            hasher,
            shards,
            store,
            ..
        } = self;
        let has_parts = store.parts_mut().is_some();
        let (loads, parts): (Option<&S>, [Option<&mut dyn ReplayStorePart>; SHARDS]) = if has_parts {
            match store.parts_mut() {
                Some(parts) => (None, parts.map(Some)),
                None => (None, [const { None }; SHARDS]),
            }
        } else {
            (Some(&*store), [const { None }; SHARDS])
        };
        let work = shards
            .iter_mut()
            .zip(parts)
            .enumerate()
            .map(|(index, (shard, part))| ShardWork {
                index,
                batch,
                shard,
                part,
                updates: Vec::new(),
            })
            .collect();
        let ctx = BatchContext {
            provider,
            master,
            config,
            hasher,
            store: loads,
            batch,
        };
        (ctx, work)
    }

    /// Persists the windows a split batch left to it (see [`Self::split`]), in one
    /// [`ReplayStore::save_all`], and fails every accepted result if that is not
    /// possible.
    pub fn finish_batch<'a>(
        &mut self,
        pending: &[&[(&'a [u8], ReplayWindow)]],
        results: &mut [Result<(Envelope<'a>, Vec<u8>)>],
    ) {
        let parts: Vec<&[(&[u8], ReplayWindow)]> = pending.iter().copied().filter(|p| !p.is_empty()).collect();
        if parts.is_empty() {
            return;
        }
        if self.store.save_all(&parts).is_err() {
            self.fail_batch(pending.iter().flat_map(|p| p.iter().map(|(d, _)| *d)), results);
        }
    }

    /// After a failed save: forget the touched windows (the atomic store still holds
    /// the ones from before the batch) and refuse every accepted result.
    fn fail_batch<'a, I: IntoIterator<Item = &'a [u8]>>(
        &mut self,
        touched: I,
        results: &mut [Result<(Envelope<'a>, Vec<u8>)>],
    ) {
        for d in touched {
            let hash = self.hasher.hash_one(d);
            if let Some(e) = self.shards.get_mut(device_shard(d)).and_then(|s| s.find_mut(hash, d)) {
                e.window = None;
            }
        }
        for r in results.iter_mut() {
            if let Ok((_, plaintext)) = r {
                zeroize::Zeroize::zeroize(plaintext);
                *r = Err(Error::ReplayStore);
            }
        }
    }

    /// Opens a batch of envelopes from many devices, one after the other, with one
    /// persistence step at the end. Results come in the order of `envelopes`.
    /// (citysec-std spreads the work over threads.)
    pub fn open_batch<'a>(&mut self, envelopes: &[&'a [u8]]) -> Vec<Result<(Envelope<'a>, Vec<u8>)>> {
        let decrypted = envelopes
            .iter()
            .map(|b| {
                let mut out = Vec::new();
                self.decrypt(b, None, &mut out).map(|d| (d, out))
            })
            .collect();
        self.accept_batch(decrypted)
    }
}

/// Loads `entry`'s window if needed, checks `env` against it, persists the
/// updated window and then records it in `entry`.
fn accept_into<S: ReplayStore>(entry: &mut DeviceEntry, store: &mut S, env: &Envelope<'_>, size: u32) -> Result<()> {
    entry.load_window(|id| store.load(id))?;
    let (seq, device) = (env.seq(), env.device_id());
    // The window is 144 bytes: check it in place and copy it once, into the update.
    let current = entry.window.get_or_insert_default();
    current.check(seq, size)?;
    let mut update = [(device, *current)];
    let [(_, next)] = &mut update;
    next.accept(seq, size);
    store.save(&update).map_err(|_| Error::ReplayStore)?;
    current.accept(seq, size);
    Ok(())
}

/// One shard of a split batch ([`Receiver::split`]): its devices' state, its part
/// of the store if the store has parts, and the windows it updated.
pub struct ShardWork<'r, 'a> {
    index: usize,
    batch: u32,
    shard: &'r mut Shard,
    part: Option<&'r mut dyn ReplayStorePart>,
    updates: Vec<(&'a [u8], ReplayWindow)>,
}

impl fmt::Debug for ShardWork<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ShardWork")
            .field("index", &self.index)
            .field("devices", &self.shard.devices.len())
            .field("has_part", &self.part.is_some())
            .field("updates", &self.updates.len())
            .finish()
    }
}

impl<'a> ShardWork<'_, 'a> {
    /// The shard this work is for (see [`device_shard`]).
    #[must_use]
    pub const fn index(&self) -> usize {
        self.index
    }

    /// Ends the shard's part of the batch. With a store that has parts, persists
    /// the windows the shard updated in its part and returns nothing left to
    /// persist; else returns them for [`Receiver::finish_batch`].
    ///
    /// # Errors
    /// [`Error::ReplayStore`] if the part failed to save: then none of the shard's
    /// envelopes may be accepted, and the shard forgets the windows it updated (they
    /// are read from the store again).
    pub fn finish(self) -> Result<Vec<(&'a [u8], ReplayWindow)>> {
        let Self {
            batch,
            shard,
            part,
            updates,
            ..
        } = self;
        let Some(part) = part else { return Ok(updates) };
        if updates.is_empty() {
            return Ok(updates);
        }
        if part.save(&updates).is_err() {
            for e in shard.devices.iter_mut() {
                if e.pending.is_some_and(|(b, _)| b == batch) {
                    e.window = None;
                }
            }
            return Err(Error::ReplayStore);
        }
        Ok(Vec::new())
    }
}

/// What the threads of a split batch share (see [`Receiver::split`]).
#[derive(Debug)]
pub struct BatchContext<'r, S: ReplayStore> {
    provider: &'r Provider,
    master: &'r MasterSecret,
    config: &'r ReceiverConfig,
    hasher: &'r DefaultHashBuilder,
    /// The store, for loading windows, when it has no parts.
    store: Option<&'r S>,
    batch: u32,
}

impl<S: ReplayStore> BatchContext<'_, S> {
    /// The shard whose [`ShardWork`] opens `bytes`: that of its device id, found
    /// at its fixed place in the layout. An envelope whose id is not there is
    /// parsed in full: it goes to its device's shard if it parses, else the error
    /// is what [`Self::open`] would return.
    ///
    /// # Errors
    /// As [`Envelope::parse`], [`Error::UnknownEpoch`], [`Error::UnknownDevice`].
    pub fn route(&self, bytes: &[u8]) -> Result<usize> {
        if let Some(device) = crate::envelope::device_id_hint(bytes) {
            return Ok(device_shard(device));
        }
        let env = self.config.check(bytes, None)?;
        Ok(device_shard(env.device_id()))
    }

    /// Opens one envelope of `work`'s shard: decrypt, then check and update the
    /// window in memory, noting the update in `work`. Not persisted yet: nothing
    /// may be handed out before [`ShardWork::finish`] (and, for a store without
    /// parts, [`Receiver::finish_batch`]) succeeded.
    ///
    /// # Errors
    /// As [`Receiver::open`], and [`Error::UnknownDevice`] for an envelope of
    /// another shard's device.
    pub fn open<'a>(&self, work: &mut ShardWork<'_, 'a>, bytes: &'a [u8], out: &mut Vec<u8>) -> Result<Envelope<'a>> {
        out.clear();
        let env = self.config.check(bytes, None)?;
        let device = env.device_id();
        if device_shard(device) != work.index {
            return Err(Error::UnknownDevice);
        }
        let hash = self.hasher.hash_one(device);
        let ShardWork {
            shard, part, updates, ..
        } = work;
        let load = |id: &[u8]| match (&*part, self.store) {
            (Some(p), _) => p.load(id),
            (None, Some(s)) => s.load(id),
            (None, None) => Err(Error::ReplayStore),
        };
        let entry = match shard.find_mut(hash, device) {
            Some(entry) => {
                let derived = decrypt_with(self.master, Some(&*entry), self.provider, &env, out)?;
                if let Some(k) = derived {
                    entry.keep_key(env.epoch(), k);
                }
                entry
            }
            None => {
                // A device seen for the first time gets an entry only once its tag verified.
                let key = derive_key(self.master, self.provider, device, env.epoch())?;
                env.open_into(self.provider, &key, out)?;
                let mut entry = DeviceEntry::new(device).inspect_err(|_| wipe(out))?;
                entry.keep_key(env.epoch(), key);
                shard.insert_new(self.hasher, hash, entry);
                shard
                    .find_mut(hash, device)
                    .ok_or(Error::UnknownDevice)
                    .inspect_err(|_| wipe(out))?
            }
        };
        entry.load_window(load).inspect_err(|_| wipe(out))?;
        // Updated in place (the window is 144 bytes) and copied once, into the
        // shard's updates: one per device and batch, with its latest window.
        let (seq, size) = (env.seq(), self.config.window);
        let w = entry.window.get_or_insert_default();
        w.check(seq, size).inspect_err(|_| wipe(out))?;
        w.accept(seq, size);
        let slot = match entry.pending {
            Some((b, i)) if b == self.batch => updates.get_mut(i).filter(|(d, _)| *d == device),
            _ => None,
        };
        match slot {
            Some(slot) => slot.1 = *w,
            None => {
                let w = *w;
                entry.pending = Some((self.batch, updates.len()));
                updates.push((device, w));
            }
        }
        Ok(env)
    }
}

fn wipe(out: &mut Vec<u8>) {
    zeroize::Zeroize::zeroize(out);
    out.clear();
}
