//! Telemetry adapters: the embedded crash-safe replay store (redb), a file counter
//! store for senders on std, and batch opening that decrypts on several threads.

use core::sync::atomic::{AtomicUsize, Ordering};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use citysec_telemetry::window::ReplayWindow;
use citysec_telemetry::{
    BatchContext, CounterStore, Error as TelemetryError, Receiver, ReplayStore, SHARDS, ShardResults, ShardWork,
};

use crate::ExistingFile;
use crate::fsutil::{read_bounded, write_atomic};

const WINDOWS: redb::TableDefinition<'static, &[u8], &[u8]> = redb::TableDefinition::new("replay_windows");

/// Replay windows in a redb database: each `save` is one durable, atomic
/// transaction, so a gateway restarted from the file refuses every envelope it
/// accepted before. The default persistent [`ReplayStore`].
#[derive(Debug)]
pub struct RedbReplayStore {
    db: redb::Database,
    path: PathBuf,
}

impl RedbReplayStore {
    /// Opens (or creates) the store at `path`.
    ///
    /// # Errors
    /// [`crate::Error::Store`] if the database cannot be opened.
    pub fn open(path: impl AsRef<Path>) -> crate::Result<Self> {
        let path = path.as_ref().to_path_buf();
        let db = redb::Database::create(&path).map_err(|e| crate::Error::Store(e.to_string()))?;
        Ok(Self { db, path })
    }

    /// Where the database lives.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl ReplayStore for RedbReplayStore {
    fn load(&self, device: &[u8]) -> citysec_telemetry::Result<Option<ReplayWindow>> {
        let txn = self.db.begin_read().map_err(|_| TelemetryError::ReplayStore)?;
        let table = match txn.open_table(WINDOWS) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
            Err(_) => return Err(TelemetryError::ReplayStore),
        };
        match table.get(device).map_err(|_| TelemetryError::ReplayStore)? {
            None => Ok(None),
            Some(v) => ReplayWindow::from_bytes(v.value())
                .map(Some)
                .map_err(|_| TelemetryError::ReplayStore),
        }
    }

    fn save(&mut self, updates: &[(&[u8], ReplayWindow)]) -> citysec_telemetry::Result<()> {
        self.save_all(&[updates])
    }

    /// All parts in one transaction.
    fn save_all(&mut self, parts: &[&[(&[u8], ReplayWindow)]]) -> citysec_telemetry::Result<()> {
        let txn = self.db.begin_write().map_err(|_| TelemetryError::ReplayStore)?;
        {
            let mut table = txn.open_table(WINDOWS).map_err(|_| TelemetryError::ReplayStore)?;
            for (device, window) in parts.iter().flat_map(|p| p.iter()) {
                table
                    .insert(*device, window.to_bytes().as_slice())
                    .map_err(|_| TelemetryError::ReplayStore)?;
            }
        }
        txn.commit().map_err(|_| TelemetryError::ReplayStore)
    }
}

/// A sender's reserved sequence bound in a small file (the number in decimal and
/// a newline, mode 0600), replaced atomically (temporary file, fsync, rename).
///
/// The file is created once, by [`FileCounterStore::provision`]; a sender started
/// on a missing file refuses with `citysec_telemetry::Error::CounterMissing`, and
/// on an unreadable or corrupt one with `Error::CounterStore`: a lost counter never
/// starts again at 0 under the same key. The recovery is to provision the device at
/// its next key epoch, starting above the gateway's highest accepted sequence number
/// for it (`Receiver::highest_seq`).
#[derive(Debug, Clone)]
pub struct FileCounterStore {
    path: PathBuf,
}

impl FileCounterStore {
    /// Creates the counter file at `path`, holding `start`: the first sequence
    /// number the sender may use (0 for a new device key; above the gateway's
    /// highest accepted number when a device is provisioned again at a new key
    /// epoch). Refuses to overwrite an existing file.
    ///
    /// # Errors
    /// [`crate::Error::Io`] of kind `AlreadyExists` if `path` exists, or any other
    /// I/O error.
    pub fn provision(path: impl AsRef<Path>, start: u64) -> crate::Result<Self> {
        let path = path.as_ref().to_path_buf();
        write_atomic(&path, format!("{start}\n").as_bytes(), 0o600, ExistingFile::Refuse)?;
        Ok(Self { path })
    }

    /// The provisioned counter file at `path`. Nothing is read here: the sender
    /// reads it when it starts, and refuses a missing or unreadable file.
    #[must_use]
    pub fn open(path: impl AsRef<Path>) -> Self {
        Self {
            path: path.as_ref().to_path_buf(),
        }
    }

    /// Where the counter lives.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl CounterStore for FileCounterStore {
    fn load(&mut self) -> citysec_telemetry::Result<u64> {
        match read_bounded(&self.path, 64) {
            Ok(bytes) => {
                let text = core::str::from_utf8(&bytes).map_err(|_| TelemetryError::CounterStore)?;
                let digits = text.strip_suffix('\n').ok_or(TelemetryError::CounterStore)?;
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(TelemetryError::CounterStore);
                }
                digits.parse().map_err(|_| TelemetryError::CounterStore)
            }
            Err(crate::Error::Io {
                kind: std::io::ErrorKind::NotFound,
                ..
            }) => Err(TelemetryError::CounterMissing),
            Err(_) => Err(TelemetryError::CounterStore),
        }
    }

    fn store(&mut self, reserved: u64) -> citysec_telemetry::Result<()> {
        write_atomic(
            &self.path,
            format!("{reserved}\n").as_bytes(),
            0o600,
            ExistingFile::Replace,
        )
        .map_err(|_| TelemetryError::CounterStore)
    }
}

/// One opened envelope of a batch and its plaintext.
pub type BatchItem<'a> = citysec_telemetry::Opened<'a>;

/// A shard's share of a parallel batch: its work and the indices of its
/// envelopes, in arrival order.
struct Job<'r> {
    work: ShardWork<'r>,
    indices: Vec<u32>,
}

/// How often a thread looks for its jobs before it sleeps until they come.
const SPINS: u32 = 100_000;

/// The jobs, once the calling thread has sorted the envelopes (a fraction of a
/// millisecond after the threads start). A thread waits for them spinning: one
/// that sleeps takes about as long again to be woken.
fn wait_for<T>(jobs: &OnceLock<T>) -> &T {
    for _ in 0..SPINS {
        if let Some(j) = jobs.get() {
            return j;
        }
        core::hint::spin_loop();
    }
    jobs.wait()
}

/// How many envelopes a thread reads ahead, together.
const AHEAD: usize = 4;
/// How many envelopes routing reads ahead (only their first bytes), together.
const ROUTE_AHEAD: usize = 8;

/// Reads a byte of each of the first cache lines of each of `group`, so that the
/// memory reads of the whole group overlap instead of each envelope waiting for
/// its own later: a shard's envelopes lie far apart in memory (one in every
/// [`SHARDS`]), where the CPU's own prefetching does not follow. Changes no
/// result.
fn touch<'b>(group: impl Iterator<Item = &'b [u8]>) {
    let mut x = 0u8;
    for bytes in group {
        for offset in (0..bytes.len()).step_by(64).take(3) {
            x ^= bytes.get(offset).copied().unwrap_or(0);
        }
    }
    core::hint::black_box(x);
}

/// Decrypts the envelopes of one shard, in order, then accepts them through the
/// receiver's rule ([`ShardWork::finish`]): released if the store's part for the
/// shard saved, else staged for [`Receiver::finish_batch`].
fn run_shard<'a, S: ReplayStore>(
    ctx: &BatchContext<'_, S>,
    work: ShardWork<'_>,
    indices: &[u32],
    envelopes: &[&'a [u8]],
) -> ShardResults<'a> {
    let mut decrypted = Vec::with_capacity(indices.len());
    let envelope = |i: &u32| usize::try_from(*i).ok().and_then(|i| envelopes.get(i)).copied();
    touch(indices.iter().take(AHEAD).filter_map(envelope));
    for (k, i) in indices.iter().enumerate() {
        if k % AHEAD == 0 {
            // The next group's reads overlap with this group's work.
            let next = indices.get(k.saturating_add(AHEAD)..).unwrap_or_default();
            touch(next.iter().take(AHEAD).filter_map(envelope));
        }
        decrypted.push(match envelope(i) {
            Some(bytes) => ctx.decrypt(&work, bytes),
            None => Err(TelemetryError::Malformed),
        });
    }
    work.finish(ctx, decrypted)
}

/// Takes shards one after the other until none is left (each thread of a batch
/// runs this, so a thread that starts late or is slowed down takes fewer).
fn run_jobs<'a, S: ReplayStore>(
    ctx: &BatchContext<'_, S>,
    jobs: &[Mutex<Option<Job<'_>>>],
    next: &AtomicUsize,
    envelopes: &[&'a [u8]],
) -> Vec<ShardResults<'a>> {
    let mut done = Vec::new();
    loop {
        let Some(slot) = jobs.get(next.fetch_add(1, Ordering::Relaxed)) else {
            return done;
        };
        if let Some(Job { work, indices }) = slot.lock().ok().and_then(|mut j| j.take()) {
            done.push(run_shard(ctx, work, &indices, envelopes));
        }
    }
}

/// Opens `envelopes` (from any number of devices) like
/// [`Receiver::open_batch`], on `threads` threads, for a receiver over a store it
/// owns ([`ReplayStore`]; a receiver over a shared store opens batches with
/// [`Receiver::open_batch`], in one round trip to the store). The devices fall
/// into [`SHARDS`] disjoint shards; each thread takes whole shards (as many as it
/// gets to: a thread that starts late takes fewer), decrypts their envelopes in
/// arrival order and accepts them through the receiver's rule
/// ([`ShardWork::finish`]). A store with parts ([`ReplayStore::parts_mut`], such
/// as `MemoryReplayStore`) persists each shard's windows on the thread that
/// opened it; if that fails, the shard's envelopes are refused. Other stores
/// persist all touched windows in one step at the end
/// ([`Receiver::finish_batch`]), and if that fails, nothing is accepted. Either
/// way no plaintext leaves the receiver before its window was persisted. Results
/// come in the order of `envelopes`. Small batches (under 64 envelopes per
/// thread) go through [`Receiver::open_batch`] instead.
pub fn open_batch_parallel<'a, S>(
    receiver: &mut Receiver<S>,
    envelopes: &[&'a [u8]],
    threads: usize,
) -> Vec<BatchItem<'a>>
where
    S: ReplayStore + Sync,
{
    let threads = threads.clamp(1, SHARDS);
    if threads == 1 || envelopes.len() < threads.saturating_mul(64) || u32::try_from(envelopes.len()).is_err() {
        return receiver.open_batch(envelopes);
    }
    let n = envelopes.len();
    let (routes, done) = {
        let (ctx, works) = receiver.split();
        let jobs: OnceLock<Vec<Mutex<Option<Job<'_>>>>> = OnceLock::new();
        let next = AtomicUsize::new(0);
        let (ctx, jobs_ref, next_ref) = (&ctx, &jobs, &next);
        std::thread::scope(|scope| {
            // Start the other threads first: they get going while this one sorts
            // the envelopes into shards.
            let handles: Vec<_> = (1..threads)
                .map(|_| scope.spawn(move || run_jobs(ctx, wait_for(jobs_ref).as_slice(), next_ref, envelopes)))
                .collect();
            let per_shard = n / SHARDS;
            let mut lists: Vec<Vec<u32>> = (0..SHARDS)
                .map(|_| Vec::with_capacity(per_shard.saturating_add(per_shard / 2).saturating_add(8)))
                .collect();
            let routes: Vec<citysec_telemetry::Result<u8>> = envelopes
                .iter()
                .zip(0u32..)
                .enumerate()
                .map(|(k, (bytes, i))| {
                    if k % ROUTE_AHEAD == 0 {
                        let next = envelopes.get(k.saturating_add(ROUTE_AHEAD)..).unwrap_or_default();
                        touch(next.iter().take(ROUTE_AHEAD).map(|b| b.get(..1).unwrap_or_default()));
                    }
                    let shard = ctx.route(bytes)?;
                    lists.get_mut(shard).ok_or(TelemetryError::UnknownDevice)?.push(i);
                    u8::try_from(shard).map_err(|_| TelemetryError::UnknownDevice)
                })
                .collect();
            let all = works
                .into_iter()
                .zip(lists)
                .map(|(work, indices)| Mutex::new(Some(Job { work, indices })))
                .collect();
            let mut done = run_jobs(ctx, jobs_ref.get_or_init(|| all), next_ref, envelopes);
            // The others finish within about a shard's time of this thread: wait
            // for them spinning, as for the jobs.
            for h in &handles {
                for _ in 0..SPINS {
                    if h.is_finished() {
                        break;
                    }
                    core::hint::spin_loop();
                }
            }
            for h in handles {
                // The libraries do not panic; if a thread did anyway, the shards it
                // was opening give no results, and their envelopes are refused below.
                if let Ok(d) = h.join() {
                    done.extend(d);
                }
            }
            (routes, done)
        })
    };
    // Persists what the shards staged (nothing if the store has parts) and
    // releases their plaintexts; then back into arrival order.
    let mut per_shard: Vec<Option<<Vec<BatchItem<'a>> as IntoIterator>::IntoIter>> =
        (0..SHARDS).map(|_| None).collect();
    for (shard, results) in receiver.finish_batch(done) {
        if let Some(slot) = per_shard.get_mut(shard) {
            *slot = Some(results.into_iter());
        }
    }
    let mut results: Vec<BatchItem<'a>> = Vec::with_capacity(n);
    for route in routes {
        results.push(match route {
            Ok(shard) => per_shard
                .get_mut(usize::from(shard))
                .and_then(Option::as_mut)
                .and_then(Iterator::next)
                .unwrap_or(Err(TelemetryError::ReplayStore)),
            Err(e) => Err(e),
        });
    }
    results
}
