//! The receiver (gateway side): one state machine from bytes to plaintext.
//!
//! An envelope is parsed and checked ([`ReceiverConfig`]), decrypted (its tag
//! verified: [`Decrypted`] holds the plaintext back), then accepted: its sequence
//! number is checked against the device's replay window and the window persisted
//! before the plaintext is handed out. Who decides is the store's kind
//! ([`ReplayGuard`]): a [`ReplayStore`] the receiver owns (the receiver checks
//! the windows it loaded, then saves them) or a [`SharedReplayStore`] several
//! receivers share (the store checks and records atomically). [`Receiver::open`],
//! [`Receiver::accept`], [`Receiver::accept_batch`] and the split batches of
//! [`Receiver::split`] all accept through the same rule.

use alloc::collections::BTreeSet;
use alloc::string::ToString as _;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;
use core::hash::BuildHasher as _;

use hashbrown::hash_table::Entry;
use hashbrown::{DefaultHashBuilder, HashTable};

use citysec_core::SymmetricKey;
use citysec_core::audit::{AuditEvent, AuditSink};
use citysec_core::provider::Provider;

use crate::envelope::{Envelope, MAX_DEVICE_ID};
use crate::store::{ReplayStore, ReplayStorePart, SHARDS, Shared, SharedReplayStore, device_shard};
use crate::window::{DEFAULT_WINDOW, MAX_WINDOW, ReplayWindow};
use crate::{Error, MasterSecret, Result};

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

    /// Parses `bytes` and checks the epoch, the device and the topic. Inlined,
    /// with the parse: an envelope returned through memory costs store-forwarding
    /// stalls worth ~5% of a 64-byte open.
    #[inline(always)]
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

/// An envelope whose tag verified but that is not accepted yet (its replay
/// window has not seen it): made by [`Receiver::decrypt`] (or a split batch),
/// consumed by [`Receiver::accept`] / [`Receiver::accept_batch`], which alone
/// hand out the plaintext. Dropped unaccepted, it wipes the plaintext.
pub struct Decrypted<'a> {
    envelope: Envelope<'a>,
    plaintext: Vec<u8>,
    derived: Option<SymmetricKey>,
}

impl<'a> Decrypted<'a> {
    /// The envelope (authenticated, not yet replay-checked).
    #[must_use]
    pub const fn envelope(&self) -> &Envelope<'a> {
        &self.envelope
    }

    /// The envelope and the plaintext, once accepted.
    fn release(mut self) -> (Envelope<'a>, Vec<u8>, Option<SymmetricKey>) {
        let plaintext = core::mem::take(&mut self.plaintext);
        (self.envelope, plaintext, self.derived.take())
    }
}

impl Drop for Decrypted<'_> {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.plaintext);
    }
}

impl fmt::Debug for Decrypted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Decrypted")
            .field("envelope", &self.envelope)
            .field("plaintext_len", &self.plaintext.len())
            .finish_non_exhaustive()
    }
}

/// One opened envelope of a batch and its plaintext.
pub type Opened<'a> = Result<(Envelope<'a>, Vec<u8>)>;

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

/// The stage of the accept rule: `seq` checked against the device's window in
/// `slot` (loaded with `load` the first time) and, if new, recorded there in
/// memory. Returns the window to persist; refused, `slot` is unchanged.
#[inline]
fn stage(
    slot: &mut Option<ReplayWindow>,
    load: impl FnOnce() -> Result<Option<ReplayWindow>>,
    seq: u64,
    size: u32,
) -> Result<&ReplayWindow> {
    let w = match slot {
        Some(w) => w,
        None => slot.insert(load().map_err(|_| Error::ReplayStore)?.unwrap_or_default()),
    };
    w.check(seq, size)?;
    w.accept(seq, size);
    Ok(w)
}

/// Where a receiver keeps the windows it staged, by device (doc-hidden: the
/// receiver's part of [`ReplayGuard`]).
#[doc(hidden)]
pub trait WindowSlots {
    /// The cached window of `device` (created empty if the device is new);
    /// `None` only for an id no entry can hold.
    fn slot(&mut self, device: &[u8]) -> Option<&mut Option<ReplayWindow>>;
}

/// The windows of every shard.
struct AllSlots<'r> {
    hasher: &'r DefaultHashBuilder,
    shards: &'r mut [Shard; SHARDS],
}

impl WindowSlots for AllSlots<'_> {
    fn slot(&mut self, device: &[u8]) -> Option<&mut Option<ReplayWindow>> {
        let hash = self.hasher.hash_one(device);
        let shard = self.shards.get_mut(device_shard(device))?;
        shard.entry(self.hasher, hash, device).ok().map(|e| &mut e.window)
    }
}

/// The windows of one shard (a split batch).
struct ShardSlots<'r> {
    hasher: &'r DefaultHashBuilder,
    shard: &'r mut Shard,
}

impl WindowSlots for ShardSlots<'_> {
    fn slot(&mut self, device: &[u8]) -> Option<&mut Option<ReplayWindow>> {
        let hash = self.hasher.hash_one(device);
        self.shard.entry(self.hasher, hash, device).ok().map(|e| &mut e.window)
    }
}

/// Where [`accept_local`] loads windows from and persists them to.
trait WindowStore<'d> {
    fn load(&self, device: &[u8]) -> Result<Option<ReplayWindow>>;
    fn save(&mut self, updates: &[(&'d [u8], ReplayWindow)]) -> Result<()>;
}

/// A whole [`ReplayStore`].
struct Whole<'s, S: ?Sized>(&'s mut S);

impl<S: ReplayStore + ?Sized> WindowStore<'_> for Whole<'_, S> {
    fn load(&self, device: &[u8]) -> Result<Option<ReplayWindow>> {
        self.0.load(device)
    }
    fn save(&mut self, updates: &[(&[u8], ReplayWindow)]) -> Result<()> {
        self.0.save(updates)
    }
}

/// One shard's part of a store.
struct Part<'s>(&'s mut dyn ReplayStorePart);

impl WindowStore<'_> for Part<'_> {
    fn load(&self, device: &[u8]) -> Result<Option<ReplayWindow>> {
        self.0.load(device)
    }
    fn save(&mut self, updates: &[(&[u8], ReplayWindow)]) -> Result<()> {
        self.0.save(updates)
    }
}

/// A store without parts, in a split batch: loads from the store, and keeps
/// the updates for [`Receiver::finish_batch`] to persist.
struct Deferred<'s, 'd, S> {
    store: Option<&'s S>,
    updates: Vec<(&'d [u8], ReplayWindow)>,
}

impl<'d, S: ReplayStore> WindowStore<'d> for Deferred<'_, 'd, S> {
    fn load(&self, device: &[u8]) -> Result<Option<ReplayWindow>> {
        self.store.ok_or(Error::ReplayStore)?.load(device)
    }
    fn save(&mut self, updates: &[(&'d [u8], ReplayWindow)]) -> Result<()> {
        self.updates.extend_from_slice(updates);
        Ok(())
    }
}

/// The accept rule for windows the receiver keeps, for a batch: every item is
/// staged in order (a number repeated in the batch is a replay of its first
/// occurrence), then the final windows of the devices with an accepted item
/// are handed to `save`, once each, before any verdict counts. If `save` fails,
/// the staged windows are forgotten (the atomic store still holds the ones from
/// before) and every item is refused ([`Error::ReplayStore`]).
fn accept_local<'d>(
    items: &[(&'d [u8], u64)],
    slots: &mut dyn WindowSlots,
    store: &mut dyn WindowStore<'d>,
    size: u32,
) -> Vec<Result<()>> {
    let mut verdicts = Vec::with_capacity(items.len());
    let mut touched: Vec<&'d [u8]> = Vec::new();
    for (device, seq) in items {
        let v = match slots.slot(device) {
            Some(slot) => stage(slot, || store.load(device), *seq, size).map(|_| ()),
            None => Err(Error::UnknownDevice),
        };
        if v.is_ok() {
            touched.push(device);
        }
        verdicts.push(v);
    }
    if touched.is_empty() {
        return verdicts;
    }
    touched.sort_unstable();
    touched.dedup();
    let updates: Option<Vec<(&'d [u8], ReplayWindow)>> = touched
        .iter()
        .map(|d| slots.slot(d).and_then(|s| *s).map(|w| (*d, w)))
        .collect();
    let saved = match &updates {
        Some(u) => store.save(u),
        None => Err(Error::ReplayStore),
    };
    if saved.is_err() {
        forget(slots, touched.iter().copied());
        refuse(&mut verdicts);
    }
    verdicts
}

/// After a failed save: the staged windows of `devices` are dropped, so they are
/// read from the store again.
fn forget<'d>(slots: &mut dyn WindowSlots, devices: impl IntoIterator<Item = &'d [u8]>) {
    for d in devices {
        if let Some(slot) = slots.slot(d) {
            *slot = None;
        }
    }
}

/// Every accepted verdict becomes a refusal.
fn refuse(verdicts: &mut [Result<()>]) {
    for v in verdicts.iter_mut().filter(|v| v.is_ok()) {
        *v = Err(Error::ReplayStore);
    }
}

mod sealed {
    pub trait Sealed {}
}

/// Who decides which sequence numbers are new: a [`ReplayStore`] the receiver
/// owns (the receiver stages windows it loaded and saves them) or a
/// [`SharedReplayStore`] wrapped in [`Shared`] (the store checks and records
/// atomically; the receiver keeps no window). Sealed: these two kinds.
pub trait ReplayGuard: sealed::Sealed {
    /// Accepts `seq` of `device`, whose window this receiver caches in `slot`:
    /// decides and persists, or refuses with nothing recorded.
    #[doc(hidden)]
    fn accept_one(&mut self, device: &[u8], slot: &mut Option<ReplayWindow>, seq: u64, size: u32) -> Result<()>;

    /// Accepts `items` in order, one verdict each, all persisted before any is
    /// `Ok`.
    #[doc(hidden)]
    fn accept_many(&mut self, items: &[(&[u8], u64)], slots: &mut dyn WindowSlots, size: u32) -> Vec<Result<()>>;

    /// The stored window of `device`.
    #[doc(hidden)]
    fn stored(&self, device: &[u8]) -> Result<Option<ReplayWindow>>;
}

impl<S: ReplayStore> sealed::Sealed for S {}

impl<S: ReplayStore> ReplayGuard for S {
    #[inline]
    fn accept_one(&mut self, device: &[u8], slot: &mut Option<ReplayWindow>, seq: u64, size: u32) -> Result<()> {
        // The batch rule for one item, without its allocations.
        let w = stage(slot, || self.load(device), seq, size)?;
        self.save_one(device, w).map_err(|_| {
            *slot = None;
            Error::ReplayStore
        })
    }

    fn accept_many(&mut self, items: &[(&[u8], u64)], slots: &mut dyn WindowSlots, size: u32) -> Vec<Result<()>> {
        accept_local(items, slots, &mut Whole(self), size)
    }

    fn stored(&self, device: &[u8]) -> Result<Option<ReplayWindow>> {
        self.load(device)
    }
}

impl<S: SharedReplayStore> sealed::Sealed for Shared<S> {}

impl<S: SharedReplayStore> ReplayGuard for Shared<S> {
    fn accept_one(&mut self, device: &[u8], _slot: &mut Option<ReplayWindow>, seq: u64, size: u32) -> Result<()> {
        self.0
            .check_and_update(&[(device, seq)], size)
            .map_err(|_| Error::ReplayStore)?
            .into_iter()
            .next()
            .unwrap_or(Err(Error::ReplayStore))
    }

    fn accept_many(&mut self, items: &[(&[u8], u64)], _slots: &mut dyn WindowSlots, size: u32) -> Vec<Result<()>> {
        if items.is_empty() {
            return Vec::new();
        }
        match self.0.check_and_update(items, size) {
            // A store that answers with the wrong number of verdicts accepts nothing.
            Ok(v) if v.len() == items.len() => v,
            _ => items.iter().map(|_| Err(Error::ReplayStore)).collect(),
        }
    }

    fn stored(&self, device: &[u8]) -> Result<Option<ReplayWindow>> {
        self.0.load(device)
    }
}

/// A gateway's receiver for many devices, over a store of either kind
/// ([`ReplayGuard`]).
#[derive(Debug)]
pub struct Receiver<S: ReplayGuard> {
    provider: Provider,
    master: MasterSecret,
    config: ReceiverConfig,
    hasher: DefaultHashBuilder,
    shards: [Shard; SHARDS],
    store: S,
    audit: Option<Arc<dyn AuditSink>>,
}

/// Reports the refusal of the envelope `bytes` to `audit`, naming the device and
/// sequence number its header claims; an envelope whose header does not parse
/// names neither and is not reported.
fn report_bytes(audit: Option<&dyn AuditSink>, config: &ReceiverConfig, bytes: &[u8], e: &Error) {
    if let Some(sink) = audit
        && let Ok(env) = Envelope::parse(bytes, config.max_envelope)
    {
        report(Some(sink), env.device_id(), env.seq(), e);
    }
}

/// Reports the refusal of the envelope of `device` numbered `seq`. The refusal
/// stands whether or not the sink kept it.
fn report(audit: Option<&dyn AuditSink>, device: &[u8], seq: u64, e: &Error) {
    if let Some(sink) = audit {
        let reason = e.to_string();
        let event = AuditEvent::TelemetryRefused {
            device,
            seq,
            reason: &reason,
        };
        let _refused = sink.record(None, &event);
    }
}

impl<S: ReplayGuard> Receiver<S> {
    /// A receiver that derives device keys and opens envelopes with `provider`
    /// (bound once: no call takes a backend), deriving device keys from `master`,
    /// with windows in `store`: a [`ReplayStore`] it owns, or `Shared(store)` for
    /// a [`SharedReplayStore`].
    pub fn new(provider: &Provider, master: MasterSecret, config: ReceiverConfig, store: S) -> Self {
        Self {
            provider: *provider,
            master,
            config,
            hasher: DefaultHashBuilder::default(),
            shards: core::array::from_fn(|_| Shard::default()),
            store,
            audit: None,
        }
    }

    /// Reports every envelope refused after its header parsed to `sink` from
    /// now on: the device and sequence number the header claims, and the error's
    /// message (a replay, a failed tag, an unknown epoch, ...). Bytes that do not
    /// parse as an envelope name no device and are not reported. Accepted
    /// envelopes are not reported.
    #[must_use]
    pub fn with_audit(mut self, sink: Arc<dyn AuditSink>) -> Self {
        self.audit = Some(sink);
        self
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
        Ok(self.store.stored(device)?.and_then(|w| w.top()))
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
        self.entry_mut(device)?.keep_key(epoch, k);
        Ok(())
    }

    fn entry_mut(&mut self, device: &[u8]) -> Result<&mut DeviceEntry> {
        let hash = self.hasher.hash_one(device);
        let shard = self.shards.get_mut(device_shard(device)).ok_or(Error::UnknownDevice)?;
        shard.entry(&self.hasher, hash, device)
    }

    /// Parses, checks the epoch, device and topic, and decrypts. Does not touch the
    /// replay window, and holds the plaintext back: [`Self::accept`] hands it out
    /// once the window accepted and persisted the sequence number. Takes `&self`,
    /// so a batch can decrypt on several threads.
    ///
    /// # Errors
    /// The errors of [`Envelope::parse`] and of decryption (`Core(DecryptFailed)`,
    /// `Core(KeyAlgMismatch)`);
    /// [`Error::UnknownEpoch`], [`Error::UnknownDevice`], [`Error::TopicMismatch`].
    pub fn decrypt<'a>(&self, bytes: &'a [u8], expected_topic: Option<&str>) -> Result<Decrypted<'a>> {
        self.decrypt_unreported(bytes, expected_topic)
            .inspect_err(|e| report_bytes(self.audit.as_deref(), &self.config, bytes, e))
    }

    fn decrypt_unreported<'a>(&self, bytes: &'a [u8], expected_topic: Option<&str>) -> Result<Decrypted<'a>> {
        let envelope = self.config.check(bytes, expected_topic)?;
        let device = envelope.device_id();
        let entry = self
            .shards
            .get(device_shard(device))
            .and_then(|s| s.find(self.hasher.hash_one(device), device));
        let mut plaintext = Vec::new();
        let derived = decrypt_with(&self.master, entry, &self.provider, &envelope, &mut plaintext)?;
        Ok(Decrypted {
            envelope,
            plaintext,
            derived,
        })
    }

    /// Accepts a decrypted envelope: checks and updates the replay window and
    /// persists it, then hands out the envelope and its plaintext.
    ///
    /// # Errors
    /// [`Error::Replay`], [`Error::OutsideWindow`], [`Error::ReplayStore`] (nothing
    /// was accepted then, and the plaintext is wiped).
    pub fn accept<'a>(&mut self, d: Decrypted<'a>) -> Result<(Envelope<'a>, Vec<u8>)> {
        let (device, seq, size) = (d.envelope.device_id(), d.envelope.seq(), self.config.window);
        let hash = self.hasher.hash_one(device);
        let Self {
            hasher,
            shards,
            store,
            audit,
            ..
        } = self;
        let refused = |e: Error| {
            report(audit.as_deref(), device, seq, &e);
            e
        };
        let shard = shards
            .get_mut(device_shard(device))
            .ok_or(Error::UnknownDevice)
            .map_err(refused)?;
        let entry = shard.entry(hasher, hash, device).map_err(refused)?;
        store
            .accept_one(device, &mut entry.window, seq, size)
            .map_err(refused)?;
        let (env, plaintext, derived) = d.release();
        if let Some(k) = derived {
            entry.keep_key(env.epoch(), k);
        }
        Ok((env, plaintext))
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
        match self.open_unreported(bytes, expected_topic, out) {
            Ok(env) => Ok(env),
            Err(e) => {
                report_bytes(self.audit.as_deref(), &self.config, bytes, &e);
                Err(e)
            }
        }
    }

    #[inline(always)]
    fn open_unreported<'a>(
        &mut self,
        bytes: &'a [u8],
        expected_topic: Option<&str>,
        out: &mut Vec<u8>,
    ) -> Result<Envelope<'a>> {
        // One hash and one lookup for the key, the window and the update; the
        // plaintext is written to `out` and wiped unless accepted.
        out.clear();
        let env = self.config.check(bytes, expected_topic)?;
        let device = env.device_id();
        let hash = self.hasher.hash_one(device);
        let (seq, size) = (env.seq(), self.config.window);
        let Self {
            provider,
            master,
            hasher,
            shards,
            store,
            ..
        } = self;
        let shard = shards.get_mut(device_shard(device)).ok_or(Error::UnknownDevice)?;
        if let Some(entry) = shard.find_mut(hash, device) {
            let derived = decrypt_with(master, Some(&*entry), provider, &env, out)?;
            store
                .accept_one(device, &mut entry.window, seq, size)
                .inspect_err(|_| wipe(out))?;
            if let Some(k) = derived {
                entry.keep_key(env.epoch(), k);
            }
        } else {
            // A device seen for the first time gets an entry only once accepted.
            let key = derive_key(master, provider, device, env.epoch())?;
            env.open_into(provider, &key, out)?;
            let mut entry = DeviceEntry::new(device).inspect_err(|_| wipe(out))?;
            store
                .accept_one(device, &mut entry.window, seq, size)
                .inspect_err(|_| wipe(out))?;
            entry.keep_key(env.epoch(), key);
            shard.insert_new(hasher, hash, entry);
        }
        Ok(env)
    }

    /// Accepts decrypted envelopes in order (a duplicate within the batch is a
    /// replay of the earlier one), persisting every touched window in one step
    /// before any is handed out; if that fails, nothing is accepted. `decrypted`
    /// holds one entry per envelope, in arrival order (the results of
    /// [`Self::decrypt`]); the results come in the same order.
    pub fn accept_batch<'a>(&mut self, decrypted: Vec<Result<Decrypted<'a>>>) -> Vec<Opened<'a>> {
        let items: Vec<(&'a [u8], u64)> = decrypted
            .iter()
            .filter_map(|r| r.as_ref().ok())
            .map(|d| (d.envelope.device_id(), d.envelope.seq()))
            .collect();
        let Self {
            hasher, shards, store, ..
        } = self;
        let mut slots = AllSlots { hasher, shards };
        let verdicts = store.accept_many(&items, &mut slots, self.config.window);
        self.release_all(decrypted, verdicts)
    }

    /// Hands out the plaintexts of the decrypted envelopes whose verdict is `Ok`
    /// (one verdict per `Ok` decryption, in order) and keeps their derived keys.
    fn release_all<'a>(&mut self, decrypted: Vec<Result<Decrypted<'a>>>, verdicts: Vec<Result<()>>) -> Vec<Opened<'a>> {
        let mut verdicts = verdicts.into_iter();
        let mut results = Vec::with_capacity(decrypted.len());
        for item in decrypted {
            let r = item.and_then(|d| {
                verdicts.next().unwrap_or(Err(Error::ReplayStore)).inspect_err(|e| {
                    report(self.audit.as_deref(), d.envelope.device_id(), d.envelope.seq(), e);
                })?;
                let (env, plaintext, derived) = d.release();
                if let Some(k) = derived
                    && let Ok(entry) = self.entry_mut(env.device_id())
                {
                    entry.keep_key(env.epoch(), k);
                }
                Ok((env, plaintext))
            });
            results.push(r);
        }
        results
    }

    /// Opens a batch of envelopes from many devices, one after the other, with one
    /// persistence step at the end. Results come in the order of `envelopes`.
    /// (citysec-std spreads the work over threads.)
    pub fn open_batch<'a>(&mut self, envelopes: &[&'a [u8]]) -> Vec<Opened<'a>> {
        let decrypted = envelopes.iter().map(|b| self.decrypt(b, None)).collect();
        self.accept_batch(decrypted)
    }
}

impl<S: ReplayStore> Receiver<S> {
    /// Splits the receiver for a batch on several threads: a shared context and
    /// one [`ShardWork`] per shard (all [`SHARDS`] of them, in shard order). A
    /// thread takes a shard's work, decrypts the envelopes of that shard's devices
    /// ([`device_shard`]) with [`BatchContext::decrypt`], in arrival order, then
    /// accepts them with [`ShardWork::finish`]. If the store has parts
    /// ([`ReplayStore::parts_mut`]), `finish` persists the shard's windows in its
    /// part, on that thread, and releases the plaintexts; else it stages them, and
    /// [`Self::finish_batch`] persists all shards' windows in one step and then
    /// releases. Only stores the receiver owns split: a shared store decides
    /// batches in [`Self::accept_batch`].
    pub fn split(&mut self) -> (BatchContext<'_, S>, Vec<ShardWork<'_>>) {
        let Self {
            provider,
            master,
            config,
            hasher,
            shards,
            store,
            audit,
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
            .map(|(index, (shard, part))| ShardWork { index, shard, part })
            .collect();
        let ctx = BatchContext {
            provider,
            master,
            config,
            hasher,
            store: loads,
            audit: audit.as_deref(),
        };
        (ctx, work)
    }

    /// Persists the windows the shards of a split batch staged (see
    /// [`Self::split`]) in one [`ReplayStore::save_all`], and releases their
    /// plaintexts; if that fails, every envelope of those shards is refused.
    /// Returns each shard's results (its index and its results, in the order its
    /// envelopes were decrypted).
    pub fn finish_batch<'a>(&mut self, shards: Vec<ShardResults<'a>>) -> Vec<(usize, Vec<Opened<'a>>)> {
        let staged: Vec<&[(&'a [u8], ReplayWindow)]> = shards
            .iter()
            .filter_map(|s| match &s.state {
                ShardState::Staged { updates, .. } if !updates.is_empty() => Some(updates.as_slice()),
                _ => None,
            })
            .collect();
        let saved = staged.is_empty() || self.store.save_all(&staged).is_ok();
        let mut out = Vec::with_capacity(shards.len());
        for s in shards {
            let results = match s.state {
                ShardState::Done(results) => results,
                ShardState::Staged {
                    decrypted,
                    mut verdicts,
                    updates,
                } => {
                    if !saved {
                        let Self { hasher, shards, .. } = &mut *self;
                        let mut slots = AllSlots { hasher, shards };
                        forget(&mut slots, updates.iter().map(|(d, _)| *d));
                        refuse(&mut verdicts);
                    }
                    self.release_all(decrypted, verdicts)
                }
            };
            out.push((s.index, results));
        }
        out
    }
}

/// One shard of a split batch ([`Receiver::split`]): its devices' state and its
/// part of the store if the store has parts.
pub struct ShardWork<'r> {
    index: usize,
    shard: &'r mut Shard,
    part: Option<&'r mut dyn ReplayStorePart>,
}

impl fmt::Debug for ShardWork<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ShardWork")
            .field("index", &self.index)
            .field("devices", &self.shard.devices.len())
            .field("has_part", &self.part.is_some())
            .finish()
    }
}

/// What [`ShardWork::finish`] made of a shard's envelopes: released results
/// (the store has parts and this shard's part saved), or staged windows and held
/// plaintexts that only [`Receiver::finish_batch`] releases.
#[derive(Debug)]
pub struct ShardResults<'a> {
    index: usize,
    state: ShardState<'a>,
}

#[derive(Debug)]
enum ShardState<'a> {
    Done(Vec<Opened<'a>>),
    Staged {
        decrypted: Vec<Result<Decrypted<'a>>>,
        verdicts: Vec<Result<()>>,
        updates: Vec<(&'a [u8], ReplayWindow)>,
    },
}

impl ShardResults<'_> {
    /// The shard (see [`device_shard`]).
    #[must_use]
    pub const fn index(&self) -> usize {
        self.index
    }
}

impl ShardWork<'_> {
    /// The shard this work is for (see [`device_shard`]).
    #[must_use]
    pub const fn index(&self) -> usize {
        self.index
    }

    /// Accepts the shard's decrypted envelopes (in arrival order) through the
    /// receiver's accept rule. With a store that has parts, persists the windows
    /// in the shard's part and releases the plaintexts (if the part fails to
    /// save, every one of them is refused); else stages the windows for
    /// [`Receiver::finish_batch`], which alone releases them.
    pub fn finish<'a, S: ReplayStore>(
        self,
        ctx: &BatchContext<'_, S>,
        decrypted: Vec<Result<Decrypted<'a>>>,
    ) -> ShardResults<'a> {
        let Self { index, shard, part } = self;
        let items: Vec<(&'a [u8], u64)> = decrypted
            .iter()
            .filter_map(|r| r.as_ref().ok())
            .map(|d| (d.envelope.device_id(), d.envelope.seq()))
            .collect();
        let mut slots = ShardSlots {
            hasher: ctx.hasher,
            shard,
        };
        let size = ctx.config.window;
        match part {
            Some(part) => {
                let verdicts = accept_local(&items, &mut slots, &mut Part(part), size);
                let results = release_in_shard(&mut slots, decrypted, verdicts, ctx.audit);
                ShardResults {
                    index,
                    state: ShardState::Done(results),
                }
            }
            None => {
                let mut deferred = Deferred {
                    store: ctx.store,
                    updates: Vec::new(),
                };
                let verdicts = accept_local(&items, &mut slots, &mut deferred, size);
                ShardResults {
                    index,
                    state: ShardState::Staged {
                        decrypted,
                        verdicts,
                        updates: deferred.updates,
                    },
                }
            }
        }
    }
}

/// [`Receiver::release_all`] inside a shard's work.
fn release_in_shard<'a>(
    slots: &mut ShardSlots<'_>,
    decrypted: Vec<Result<Decrypted<'a>>>,
    verdicts: Vec<Result<()>>,
    audit: Option<&dyn AuditSink>,
) -> Vec<Opened<'a>> {
    let mut verdicts = verdicts.into_iter();
    decrypted
        .into_iter()
        .map(|item| {
            item.and_then(|d| {
                verdicts
                    .next()
                    .unwrap_or(Err(Error::ReplayStore))
                    .inspect_err(|e| report(audit, d.envelope.device_id(), d.envelope.seq(), e))?;
                let (env, plaintext, derived) = d.release();
                if let Some(k) = derived {
                    let device = env.device_id();
                    let hash = slots.hasher.hash_one(device);
                    if let Ok(entry) = slots.shard.entry(slots.hasher, hash, device) {
                        entry.keep_key(env.epoch(), k);
                    }
                }
                Ok((env, plaintext))
            })
        })
        .collect()
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
    audit: Option<&'r dyn AuditSink>,
}

impl<S: ReplayStore> BatchContext<'_, S> {
    /// The shard whose [`ShardWork`] takes `bytes`: that of its device id, found
    /// at its fixed place in the layout. An envelope whose id is not there is
    /// parsed in full: it goes to its device's shard if it parses, else the error
    /// is what [`Self::decrypt`] would return.
    ///
    /// # Errors
    /// As [`Envelope::parse`], [`Error::UnknownEpoch`], [`Error::UnknownDevice`].
    pub fn route(&self, bytes: &[u8]) -> Result<usize> {
        if let Some(device) = crate::envelope::device_id_hint(bytes) {
            return Ok(device_shard(device));
        }
        let env = self
            .config
            .check(bytes, None)
            .inspect_err(|e| report_bytes(self.audit, self.config, bytes, e))?;
        Ok(device_shard(env.device_id()))
    }

    /// Decrypts one envelope of `work`'s shard with the shard's cached keys,
    /// holding the plaintext back until [`ShardWork::finish`] accepts it.
    ///
    /// # Errors
    /// As [`Receiver::decrypt`], and [`Error::UnknownDevice`] for an envelope of
    /// another shard's device.
    pub fn decrypt<'a>(&self, work: &ShardWork<'_>, bytes: &'a [u8]) -> Result<Decrypted<'a>> {
        let envelope = self
            .config
            .check(bytes, None)
            .inspect_err(|e| report_bytes(self.audit, self.config, bytes, e))?;
        let device = envelope.device_id();
        if device_shard(device) != work.index {
            // The caller's routing error, not the envelope's: not reported.
            return Err(Error::UnknownDevice);
        }
        let entry = work.shard.find(self.hasher.hash_one(device), device);
        let mut plaintext = Vec::new();
        let derived = decrypt_with(self.master, entry, self.provider, &envelope, &mut plaintext)
            .inspect_err(|e| report(self.audit, device, envelope.seq(), e))?;
        Ok(Decrypted {
            envelope,
            plaintext,
            derived,
        })
    }
}

fn wipe(out: &mut Vec<u8>) {
    zeroize::Zeroize::zeroize(out);
    out.clear();
}
