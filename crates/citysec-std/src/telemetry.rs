//! Telemetry adapters: the embedded crash-safe replay store (redb), a file counter
//! store for senders on std, and batch opening that decrypts on several threads.

use std::path::{Path, PathBuf};

use citysec_core::Backend;
use citysec_telemetry::window::ReplayWindow;
use citysec_telemetry::{CounterStore, Envelope, Error as TelemetryError, Receiver, ReplayStore};

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
        let txn = self.db.begin_write().map_err(|_| TelemetryError::ReplayStore)?;
        {
            let mut table = txn.open_table(WINDOWS).map_err(|_| TelemetryError::ReplayStore)?;
            for (device, window) in updates {
                table
                    .insert(*device, window.to_bytes().as_slice())
                    .map_err(|_| TelemetryError::ReplayStore)?;
            }
        }
        txn.commit().map_err(|_| TelemetryError::ReplayStore)
    }
}

/// A sender's reserved sequence bound in a small file, replaced atomically
/// (temporary file, fsync, rename).
#[derive(Debug, Clone)]
pub struct FileCounterStore {
    path: PathBuf,
}

impl FileCounterStore {
    /// A counter store at `path` (the file need not exist yet).
    #[must_use]
    pub fn new(path: impl AsRef<Path>) -> Self {
        Self {
            path: path.as_ref().to_path_buf(),
        }
    }
}

impl CounterStore for FileCounterStore {
    fn load(&mut self) -> citysec_telemetry::Result<Option<u64>> {
        match read_bounded(&self.path, 64) {
            Ok(bytes) => {
                let text = core::str::from_utf8(&bytes).map_err(|_| TelemetryError::CounterStore)?;
                text.trim().parse().map(Some).map_err(|_| TelemetryError::CounterStore)
            }
            Err(crate::Error::Io {
                kind: std::io::ErrorKind::NotFound,
                ..
            }) => Ok(None),
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
pub type BatchItem<'a> = citysec_telemetry::Result<(Envelope<'a>, Vec<u8>)>;

/// What one group of a split batch produced: each result with its envelope's
/// index, and the final window of every device it accepted for.
type Done<'a> = (Vec<(usize, BatchItem<'a>)>, Vec<(&'a [u8], ReplayWindow)>);

/// Opens the envelopes at `indices` (all of `group`'s devices), in order.
fn run_group<'a, S: ReplayStore>(
    ctx: &citysec_telemetry::BatchContext<'_, S>,
    group: &mut citysec_telemetry::ShardGroup<'_>,
    backend: &dyn Backend,
    envelopes: &[&'a [u8]],
    indices: Vec<usize>,
) -> Done<'a> {
    let opened: Vec<(usize, BatchItem<'a>)> = indices
        .into_iter()
        .map(|i| {
            let mut out = Vec::new();
            let r = match envelopes.get(i) {
                Some(bytes) => ctx.open(group, backend, bytes, &mut out).map(|e| (e, out)),
                None => Err(TelemetryError::Malformed),
            };
            (i, r)
        })
        .collect();
    let windows = opened
        .iter()
        .filter_map(|(_, r)| r.as_ref().ok())
        .filter_map(|(e, _)| ctx.window_of(group, e.device_id()).map(|w| (e.device_id(), w)))
        .collect();
    (opened, windows)
}

/// Opens `envelopes` (from any number of devices) like
/// [`Receiver::open_batch`], on `threads` threads: the devices are split into
/// disjoint shards, each thread decrypts and checks the windows of its own devices
/// in arrival order, and the touched windows are persisted in one step at the end;
/// nothing is handed out before that step succeeded. Results come in the order of
/// `envelopes`. Small batches (under 64 envelopes per thread) and shared stores
/// ([`ReplayStore::is_shared`]) go through [`Receiver::open_batch`] instead.
pub fn open_batch_parallel<'a, S>(
    receiver: &mut Receiver<S>,
    backend: &dyn Backend,
    envelopes: &[&'a [u8]],
    threads: usize,
) -> Vec<BatchItem<'a>>
where
    S: ReplayStore + Sync,
{
    let threads = threads.clamp(1, citysec_telemetry::SHARDS);
    if threads == 1 || envelopes.len() < threads.saturating_mul(64) || receiver.store().is_shared() {
        return receiver.open_batch(backend, envelopes);
    }
    let mut results: Vec<BatchItem<'a>> = Vec::with_capacity(envelopes.len());
    let mut updates: Vec<(&'a [u8], ReplayWindow)> = Vec::new();
    {
        let (ctx, groups) = receiver.split(threads);
        let mut parts: Vec<Vec<usize>> = vec![Vec::new(); groups.len()];
        for (i, bytes) in envelopes.iter().enumerate() {
            if let Some(p) = parts.get_mut(ctx.group_of(bytes)) {
                p.push(i);
            }
        }
        let ctx = &ctx;
        let done: Vec<Done<'a>> = std::thread::scope(|scope| {
            // The calling thread works on the first group itself rather than waiting:
            // with two cores, a second spawned thread could sit queued behind the
            // first one until the scheduler rebalances.
            let mut work = groups.into_iter().zip(parts);
            let first = work.next();
            let handles: Vec<_> = work
                .map(|(mut group, indices)| {
                    let n = indices.len();
                    let handle = scope.spawn(move || run_group(ctx, &mut group, backend, envelopes, indices));
                    (n, handle)
                })
                .collect();
            let mut done: Vec<Done<'a>> = Vec::with_capacity(handles.len().saturating_add(1));
            if let Some((mut group, indices)) = first {
                done.push(run_group(ctx, &mut group, backend, envelopes, indices));
            }
            done.extend(handles.into_iter().map(|(n, h)| {
                // The libraries do not panic; if a thread did anyway, its envelopes
                // are refused, never accepted.
                h.join().unwrap_or_else(|_| {
                    let refused = (0..n).map(|_| (usize::MAX, Err(TelemetryError::ReplayStore))).collect();
                    (refused, Vec::new())
                })
            }));
            done
        });
        let mut slots: Vec<Option<BatchItem<'a>>> = (0..envelopes.len()).map(|_| None).collect();
        for (opened, windows) in done {
            updates.extend(windows);
            for (i, r) in opened {
                if let Some(slot) = slots.get_mut(i) {
                    *slot = Some(r);
                }
            }
        }
        results.extend(slots.into_iter().map(|s| s.unwrap_or(Err(TelemetryError::ReplayStore))));
    }
    receiver.finish_batch(&updates, &mut results);
    results
}
