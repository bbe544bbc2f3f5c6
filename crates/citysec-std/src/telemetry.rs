//! Telemetry adapters: the embedded crash-safe replay store (redb), a file counter
//! store for senders on std, and batch opening that decrypts on several threads.

use std::path::{Path, PathBuf};

use citysec_core::Backend;
use citysec_telemetry::window::ReplayWindow;
use citysec_telemetry::{CounterStore, Decrypted, Envelope, Error as TelemetryError, Receiver, ReplayStore};

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

/// Opens `envelopes` (from any number of devices) like
/// [`Receiver::open_batch`], but decrypts on `threads` threads; the replay windows
/// are then checked in arrival order and persisted in one step. Results come in
/// the order of `envelopes`. Batches smaller than 64 envelopes per thread are
/// decrypted on the calling thread, where threads do not pay off.
pub fn open_batch_parallel<'a, S>(
    receiver: &mut Receiver<S>,
    backend: &dyn Backend,
    envelopes: &[&'a [u8]],
    threads: usize,
) -> Vec<BatchItem<'a>>
where
    S: ReplayStore + Sync,
{
    let threads = threads.clamp(1, 64);
    if threads == 1 || envelopes.len() < threads.saturating_mul(64) {
        return receiver.open_batch(backend, envelopes);
    }
    let chunk = envelopes.len().div_ceil(threads);
    let shared: &Receiver<S> = receiver;
    let decrypted: Vec<citysec_telemetry::Result<(Decrypted<'a>, Vec<u8>)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = envelopes
            .chunks(chunk)
            .map(|part| {
                let len = part.len();
                let handle = scope.spawn(move || {
                    part.iter()
                        .map(|bytes| {
                            let mut out = Vec::new();
                            shared.decrypt(backend, bytes, None, &mut out).map(|d| (d, out))
                        })
                        .collect::<Vec<_>>()
                });
                (len, handle)
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|(len, h)| {
                // A decryption thread cannot panic (the libraries do not); if one
                // did, its envelopes are refused, never accepted.
                h.join()
                    .unwrap_or_else(|_| (0..len).map(|_| Err(TelemetryError::ReplayStore)).collect())
            })
            .collect()
    });
    receiver.accept_batch(decrypted)
}
