//! The receiver (gateway side): open, then check and update the device's replay
//! window, persisted before anything is handed out.

use alloc::collections::{BTreeMap, BTreeSet};
use core::hash::BuildHasher as _;

use alloc::vec::Vec;
use hashbrown::{DefaultHashBuilder, HashMap};

use citysec_core::{Backend, SymmetricKey};

use crate::envelope::Envelope;
use crate::window::{DEFAULT_WINDOW, MAX_WINDOW, ReplayWindow};
use crate::{Error, MasterSecret, Result};

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

/// Replay windows in memory: for tests and for receivers that need no restart safety.
#[derive(Debug, Default, Clone)]
pub struct MemoryReplayStore {
    windows: HashMap<Vec<u8>, ReplayWindow, DefaultHashBuilder>,
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
        self.windows.len()
    }

    /// Whether nothing is stored.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.windows.is_empty()
    }
}

impl ReplayStore for MemoryReplayStore {
    fn load(&self, device: &[u8]) -> Result<Option<ReplayWindow>> {
        Ok(self.windows.get(device).copied())
    }

    fn save(&mut self, updates: &[(&[u8], ReplayWindow)]) -> Result<()> {
        for (d, w) in updates {
            *self.windows.entry_ref(*d).or_default() = *w;
        }
        Ok(())
    }
}

impl<T: ReplayStore + ?Sized> ReplayStore for &mut T {
    fn load(&self, device: &[u8]) -> Result<Option<ReplayWindow>> {
        (**self).load(device)
    }

    fn save(&mut self, updates: &[(&[u8], ReplayWindow)]) -> Result<()> {
        (**self).save(updates)
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

/// What a receiver keeps per device: derived keys by epoch, and the window once loaded.
#[derive(Debug, Default)]
struct DeviceEntry {
    keys: Vec<(u32, SymmetricKey)>,
    window: Option<ReplayWindow>,
}

impl DeviceEntry {
    fn key(&self, epoch: u32) -> Option<&SymmetricKey> {
        self.keys.iter().find(|(e, _)| *e == epoch).map(|(_, k)| k)
    }

    /// The window after accepting `seq`, or why `seq` is refused (nothing changes).
    fn next_window(&self, seq: u64, size: u32) -> Result<ReplayWindow> {
        let mut w = self.window.unwrap_or_default();
        w.check(seq, size)?;
        w.accept(seq, size);
        Ok(w)
    }

    /// Records an accepted window and keeps a key derived for this envelope.
    fn record(&mut self, w: ReplayWindow, epoch: u32, derived: Option<SymmetricKey>) {
        self.window = Some(w);
        if let Some(k) = derived
            && self.key(epoch).is_none()
        {
            self.keys.push((epoch, k));
        }
    }
}

/// Parses, checks epoch, device and topic, finds the device key in `shard` (or
/// derives it from `master`) and decrypts into `out`. Shared by single opens and
/// split batches.
fn decrypt_envelope<'a, 's>(
    master: &MasterSecret,
    config: &ReceiverConfig,
    shard: impl FnOnce(&[u8]) -> Option<&'s Shard>,
    backend: &dyn Backend,
    bytes: &'a [u8],
    expected_topic: Option<&str>,
    out: &mut Vec<u8>,
) -> Result<Decrypted<'a>> {
    out.clear();
    let envelope = Envelope::parse(bytes, config.max_envelope)?;
    if !config.epochs.contains(&envelope.epoch()) {
        return Err(Error::UnknownEpoch);
    }
    if let Some(devices) = &config.devices
        && !devices.contains(envelope.device_id())
    {
        return Err(Error::UnknownDevice);
    }
    if expected_topic.is_some_and(|t| t != envelope.topic()) {
        return Err(Error::TopicMismatch);
    }
    let cached = shard(envelope.device_id())
        .and_then(|s| s.devices.get(envelope.device_id()))
        .and_then(|d| d.key(envelope.epoch()));
    let derived = match cached {
        Some(_) => None,
        None => Some(clone_key(
            master.derive(backend, envelope.device_id(), envelope.epoch())?.key(),
        )?),
    };
    let key = cached.or(derived.as_ref()).ok_or(Error::UnknownDevice)?;
    envelope.open_into(backend, key, out)?;
    Ok(Decrypted { envelope, derived })
}

/// How many shards the per-device state is split into (a power of two). Batches
/// handle disjoint shards on different threads.
pub const SHARDS: usize = 16;

/// The per-device state of one shard of the device space.
#[derive(Debug, Default)]
pub struct Shard {
    devices: HashMap<Vec<u8>, DeviceEntry, DefaultHashBuilder>,
}

impl Shard {
    fn with_hasher(h: DefaultHashBuilder) -> Self {
        Self {
            devices: HashMap::with_hasher(h),
        }
    }
}

/// A gateway's receiver for many devices.
#[derive(Debug)]
pub struct Receiver<S: ReplayStore> {
    master: MasterSecret,
    config: ReceiverConfig,
    hasher: DefaultHashBuilder,
    shards: Vec<Shard>,
    store: S,
}

/// Which shard a device id falls in.
fn shard_of(hasher: &DefaultHashBuilder, device: &[u8]) -> usize {
    let h = hasher.hash_one(device);
    const MASK: u64 = (SHARDS as u64).wrapping_sub(1);
    usize::try_from(h & MASK).unwrap_or(0)
}

impl<S: ReplayStore> Receiver<S> {
    /// A receiver deriving device keys from `master`, with windows in `store`.
    pub fn new(master: MasterSecret, config: ReceiverConfig, store: S) -> Self {
        let hasher = DefaultHashBuilder::default();
        let shards = (0..SHARDS).map(|_| Shard::with_hasher(hasher.clone())).collect();
        Self {
            master,
            config,
            hasher,
            shards,
            store,
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

    /// Gives the store back (the receiver's caches are dropped).
    pub fn into_store(self) -> S {
        self.store
    }

    /// Derives and caches the key of `device` in `epoch` ahead of traffic.
    ///
    /// # Errors
    /// As [`MasterSecret::derive`].
    pub fn warm(&mut self, backend: &dyn Backend, device: &[u8], epoch: u32) -> Result<()> {
        let k = clone_key(self.master.derive(backend, device, epoch)?.key())?;
        let entry = self.shard_mut(device)?.devices.entry_ref(device).or_default();
        if entry.key(epoch).is_none() {
            entry.keys.push((epoch, k));
        }
        Ok(())
    }

    fn shard(&self, device: &[u8]) -> Option<&Shard> {
        self.shards.get(shard_of(&self.hasher, device))
    }

    fn shard_mut(&mut self, device: &[u8]) -> Result<&mut Shard> {
        let i = shard_of(&self.hasher, device);
        self.shards.get_mut(i).ok_or(Error::UnknownDevice)
    }

    /// Parses, checks the epoch, device and topic, and decrypts into `out`. Does not
    /// touch the replay window: [`Self::accept`] does, after this succeeded. Takes
    /// `&self`, so a batch can decrypt on several threads.
    ///
    /// # Errors
    /// The errors of [`Envelope::parse`] and [`Envelope::open_into`];
    /// [`Error::UnknownEpoch`], [`Error::UnknownDevice`], [`Error::TopicMismatch`].
    pub fn decrypt<'a>(
        &self,
        backend: &dyn Backend,
        bytes: &'a [u8],
        expected_topic: Option<&str>,
        out: &mut Vec<u8>,
    ) -> Result<Decrypted<'a>> {
        decrypt_envelope(
            &self.master,
            &self.config,
            |d| self.shard(d),
            backend,
            bytes,
            expected_topic,
            out,
        )
    }

    /// The device's entry, its window loaded from the store if needed.
    fn entry(&mut self, device: &[u8]) -> Result<&mut DeviceEntry> {
        let i = shard_of(&self.hasher, device);
        let Self { shards, store, .. } = self;
        let shard = shards.get_mut(i).ok_or(Error::UnknownDevice)?;
        load_entry(shard, store, device)
    }

    /// Checks `d` against its device's window and returns the updated window
    /// (nothing is changed yet).
    fn next_window(&mut self, d: &Decrypted<'_>) -> Result<ReplayWindow> {
        let size = self.config.window;
        self.entry(d.envelope.device_id())?.next_window(d.envelope.seq(), size)
    }

    /// Records an accepted window and a newly derived key in memory.
    fn commit(&mut self, d: Decrypted<'_>, w: ReplayWindow) -> Result<()> {
        self.entry(d.envelope.device_id())?
            .record(w, d.envelope.epoch(), d.derived);
        Ok(())
    }

    /// Keeps a newly derived key (a shared store keeps the windows, not the receiver).
    fn keep_key(&mut self, d: Decrypted<'_>) {
        let Some(k) = d.derived else { return };
        let epoch = d.envelope.epoch();
        let device = d.envelope.device_id();
        let Ok(shard) = self.shard_mut(device) else { return };
        let entry = shard.devices.entry_ref(device).or_default();
        if entry.key(epoch).is_none() {
            entry.keys.push((epoch, k));
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
        let size = self.config.window;
        let i = shard_of(&self.hasher, env.device_id());
        let Self { shards, store, .. } = self;
        let shard = shards.get_mut(i).ok_or(Error::UnknownDevice)?;
        // One lookup: check, persist, then record, on the same entry.
        let entry = load_entry(shard, store, env.device_id())?;
        let w = entry.next_window(env.seq(), size)?;
        store.save(&[(env.device_id(), w)]).map_err(|_| Error::ReplayStore)?;
        entry.record(w, env.epoch(), d.derived);
        Ok(env)
    }

    /// Opens one envelope: decrypt, then accept. The plaintext is in `out` on `Ok`;
    /// `out` is empty on error.
    ///
    /// # Errors
    /// The errors of [`Self::decrypt`] and [`Self::accept`].
    pub fn open<'a>(
        &mut self,
        backend: &dyn Backend,
        bytes: &'a [u8],
        expected_topic: Option<&str>,
        out: &mut Vec<u8>,
    ) -> Result<Envelope<'a>> {
        let d = self.decrypt(backend, bytes, expected_topic, out)?;
        self.accept(d).inspect_err(|_| {
            zeroize::Zeroize::zeroize(out);
            out.clear();
        })
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
        let mut touched: Vec<&'a [u8]> = Vec::new();
        let mut results: Vec<Result<(Envelope<'a>, Vec<u8>)>> = Vec::with_capacity(decrypted.len());
        for item in decrypted {
            let r = item.and_then(|(d, plaintext)| {
                let env = d.envelope;
                let w = self.next_window(&d)?;
                self.commit(d, w)?;
                touched.push(env.device_id());
                Ok((env, plaintext))
            });
            results.push(r);
        }
        if touched.is_empty() {
            return results;
        }
        touched.sort_unstable();
        touched.dedup();
        self.persist(touched, &mut results);
        results
    }

    /// Persists the windows of `touched` devices in one save; if it fails, turns
    /// every accepted result into `Err(ReplayStore)` (wiping its plaintext) and
    /// forgets the cached windows so they are read from the store again.
    fn persist<'a>(&mut self, touched: Vec<&'a [u8]>, results: &mut [Result<(Envelope<'a>, Vec<u8>)>]) {
        if touched.is_empty() {
            return;
        }
        // A device touched twice is written twice with its final window: harmless.
        let updates: Vec<(&[u8], ReplayWindow)> = touched
            .iter()
            .map(|d| {
                let w = self
                    .shard(d)
                    .and_then(|s| s.devices.get(*d))
                    .and_then(|e| e.window)
                    .unwrap_or_default();
                (*d, w)
            })
            .collect();
        if self.store.save(&updates).is_err() {
            self.fail_batch(touched, results);
        }
    }

    /// Splits the receiver for a batch on `groups` threads: a shared context and
    /// one [`ShardGroup`] per thread, owning disjoint shards. Each thread opens the
    /// envelopes whose device falls in its group ([`BatchContext::group_of`]) with
    /// [`BatchContext::open`]; then [`Self::finish_batch`] persists the windows in
    /// one step. Only for stores that are not shared ([`ReplayStore::is_shared`]).
    pub fn split(&mut self, groups: usize) -> (BatchContext<'_, S>, Vec<ShardGroup<'_>>) {
        let groups = groups.clamp(1, SHARDS);
        let Self {
            master,
            config,
            hasher,
            shards,
            store,
        } = self;
        let mut out: Vec<ShardGroup<'_>> = (0..groups).map(|_| ShardGroup { shards: Vec::new() }).collect();
        for (i, shard) in shards.iter_mut().enumerate() {
            if let Some(g) = i.checked_rem(groups).and_then(|k| out.get_mut(k)) {
                g.shards.push((i, shard));
            }
        }
        let ctx = BatchContext {
            master,
            config,
            hasher,
            store,
            groups,
        };
        (ctx, out)
    }

    /// Persists the windows a split batch touched (see [`Self::split`]), as the
    /// threads collected them with [`BatchContext::window_of`], in one save, and
    /// fails every accepted result if that is not possible.
    pub fn finish_batch<'a>(
        &mut self,
        updates: &[(&'a [u8], ReplayWindow)],
        results: &mut [Result<(Envelope<'a>, Vec<u8>)>],
    ) {
        if updates.is_empty() {
            return;
        }
        if self.store.save(updates).is_err() {
            self.fail_batch(updates.iter().map(|(d, _)| *d), results);
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
            if let Ok(shard) = self.shard_mut(d)
                && let Some(e) = shard.devices.get_mut(d)
            {
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
    /// (citysec-std spreads the decryption over threads.)
    pub fn open_batch<'a>(
        &mut self,
        backend: &dyn Backend,
        envelopes: &[&'a [u8]],
    ) -> Vec<Result<(Envelope<'a>, Vec<u8>)>> {
        let decrypted = envelopes
            .iter()
            .map(|b| {
                let mut out = Vec::new();
                self.decrypt(backend, b, None, &mut out).map(|d| (d, out))
            })
            .collect();
        self.accept_batch(decrypted)
    }
}

/// The device's entry in `shard`, created if missing, its window loaded from
/// `store` if not cached yet.
fn load_entry<'s, S: ReplayStore>(shard: &'s mut Shard, store: &S, device: &[u8]) -> Result<&'s mut DeviceEntry> {
    let entry = shard.devices.entry_ref(device).or_default();
    if entry.window.is_none() {
        entry.window = Some(store.load(device)?.unwrap_or_default());
    }
    Ok(entry)
}

/// The shards one thread of a split batch owns.
#[derive(Debug)]
pub struct ShardGroup<'r> {
    shards: Vec<(usize, &'r mut Shard)>,
}

/// What the threads of a split batch share (see [`Receiver::split`]).
#[derive(Debug)]
pub struct BatchContext<'r, S: ReplayStore> {
    master: &'r MasterSecret,
    config: &'r ReceiverConfig,
    hasher: &'r DefaultHashBuilder,
    store: &'r S,
    groups: usize,
}

impl<S: ReplayStore> BatchContext<'_, S> {
    /// The group (thread) that handles `bytes`: by its device id; envelopes that do
    /// not parse go to group 0, which refuses them.
    #[must_use]
    pub fn group_of(&self, bytes: &[u8]) -> usize {
        // The device id sits at a fixed place in the fixed layout; anything else goes
        // to group 0, whose full parse refuses it.
        crate::envelope::device_id_hint(bytes)
            .and_then(|d| shard_of(self.hasher, d).checked_rem(self.groups))
            .unwrap_or(0)
    }

    /// The current window of `device` in `group` (after [`Self::open`] updated it),
    /// for the one persistence step of the batch.
    #[must_use]
    pub fn window_of(&self, group: &ShardGroup<'_>, device: &[u8]) -> Option<ReplayWindow> {
        let index = shard_of(self.hasher, device);
        group
            .shards
            .iter()
            .find(|(i, _)| *i == index)
            .and_then(|(_, s)| s.devices.get(device))
            .and_then(|e| e.window)
    }

    /// Opens one envelope of `group`'s devices: decrypt, then check and update the
    /// window in memory. Not persisted yet: the caller collects the device ids of
    /// the accepted ones for [`Receiver::finish_batch`] and hands out nothing before.
    ///
    /// # Errors
    /// As [`Receiver::open`], and [`Error::UnknownDevice`] for an envelope of another
    /// group's devices.
    pub fn open<'a>(
        &self,
        group: &mut ShardGroup<'_>,
        backend: &dyn Backend,
        bytes: &'a [u8],
        out: &mut Vec<u8>,
    ) -> Result<Envelope<'a>> {
        let index = |d: &[u8]| shard_of(self.hasher, d);
        let d = decrypt_envelope(
            self.master,
            self.config,
            |dev| group.shards.iter().find(|(i, _)| *i == index(dev)).map(|(_, s)| &**s),
            backend,
            bytes,
            None,
            out,
        )?;
        let env = d.envelope;
        let shard = group
            .shards
            .iter_mut()
            .find(|(i, _)| *i == index(env.device_id()))
            .map(|(_, s)| &mut **s)
            .ok_or(Error::UnknownDevice)
            .inspect_err(|_| wipe(out))?;
        let entry = load_entry(shard, self.store, env.device_id()).inspect_err(|_| wipe(out))?;
        let w = entry
            .next_window(env.seq(), self.config.window)
            .inspect_err(|_| wipe(out))?;
        entry.record(w, env.epoch(), d.derived);
        Ok(env)
    }
}

fn wipe(out: &mut Vec<u8>) {
    zeroize::Zeroize::zeroize(out);
    out.clear();
}

fn clone_key(k: &SymmetricKey) -> Result<SymmetricKey> {
    let mut c = SymmetricKey::new(k.algorithm(), k.secret_bytes())?;
    if let Some(kid) = k.kid() {
        c = c.with_kid(kid.to_vec());
    }
    if let Some(iv) = k.base_iv() {
        c = c.with_base_iv(*iv);
    }
    Ok(c)
}
