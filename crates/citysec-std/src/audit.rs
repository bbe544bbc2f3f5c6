//! The site log on a gateway or backend: records and tree hashes in a redb
//! database, appended in durable batches, served as C2SP tlog-tiles.
//!
//! [`RedbLog`] keeps three tables in one redb file:
//! - the entries as tlog-tiles entry bundles: 256 entries to a bundle, each
//!   prefixed with its length as a big-endian `u16`, keyed by bundle index; the
//!   rightmost bundle grows until it is full;
//! - the tree as its tiles (c2sp.org/tlog-tiles): level `L` holds the hashes of
//!   the complete subtrees of `256^L` entries, 256 to a tile, keyed by level and
//!   tile index; the rightmost tile of a level grows until it is full. Any
//!   other node hash is computed from at most 128 hashes of one tile;
//! - the size, the origin and the compact range.
//!
//! A batch of entries is one write transaction: the entries, their node hashes
//! and the new size commit together, durably, or not at all. A crash (a killed
//! process, a power loss) between batches loses nothing a returned
//! [`RedbLog::append`] acknowledged; a crash inside a batch loses that batch
//! whole, and it was not acknowledged.
//!
//! [`FilePin`] keeps a controller's pinned checkpoint of a log in a file.
//!
//! [`RedbLog::write_tiles`] writes the log as static files (c2sp.org/tlog-tiles:
//! `tile/<L>/<N>[.p/<W>]`, `tile/entries/<N>[.p/<W>]` and `checkpoint`) that any
//! web server or object store can serve: that is how the log scales past one
//! machine without a log server of its own.

use core::ops::Range;
use std::path::{Path, PathBuf};

use citysec_audit::Error as AuditError;
use citysec_audit::checkpoint::{Checkpoint, PinnedCheckpoint, VerifiedCheckpoint};
use citysec_audit::merkle::{self, CompactRange, HASH_LEN, Hash, SubtreeHashes, leaf_hash};
use redb::ReadableTable as _;

use crate::{Error, ExistingFile, Result};

/// The one table: tiles at `(level, n)`, entry bundles at `(BUNDLES, n)`, the
/// origin and the compact range at `(META, 0)` and `(META, 1)`. One table, so
/// that a batch rewrites one B-tree.
const LOG: redb::TableDefinition<'static, (u32, u64), &[u8]> = redb::TableDefinition::new("audit_log");
const BUNDLES: u32 = 0x1_0000;
const META: u32 = 0x2_0000;
const ORIGIN_KEY: (u32, u64) = (META, 0);
const RANGE_KEY: (u32, u64) = (META, 1);

type Table<'t> = redb::Table<'t, (u32, u64), &'static [u8]>;

/// The largest entry: tile entry bundles prefix each entry with a big-endian
/// `u16` length.
pub const MAX_ENTRY: usize = 0xffff;
/// Hashes in a full tile.
pub const TILE_WIDTH: u64 = 256;
/// The height of a tile (8: 256 hashes wide).
pub const TILE_HEIGHT: u32 = 8;
/// Bytes of a full tile.
const TILE_BYTES: usize = 256 * HASH_LEN;

fn store_err(e: impl core::fmt::Display) -> Error {
    Error::Store(e.to_string())
}

/// A site log in a redb database.
#[derive(Debug)]
pub struct RedbLog {
    db: redb::Database,
    path: PathBuf,
    origin: String,
    range: CompactRange,
    /// The growing entry bundle and the growing tile of each level, as stored.
    tails: Tails,
}

#[derive(Clone, Debug, Default)]
struct Tails {
    bundle: Vec<u8>,
    tiles: Vec<Vec<u8>>,
}

impl RedbLog {
    /// Opens the log at `path`, creating it for `origin` if the file holds none.
    ///
    /// # Errors
    /// [`Error::Store`] if the database cannot be opened or holds another
    /// origin's log or a damaged state; [`Error::Audit`] for an origin a
    /// checkpoint cannot have.
    pub fn open(path: impl AsRef<Path>, origin: &str) -> Result<Self> {
        Checkpoint::new(origin, 0, merkle::empty_root()).map_err(Error::Audit)?;
        Self::open_with(path.as_ref(), Some(origin))
    }

    /// Opens the log at `path`, which must already hold one (of any origin).
    ///
    /// # Errors
    /// [`Error::Store`] if there is no log there, or as [`Self::open`].
    pub fn open_existing(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        if !path.exists() {
            return Err(Error::Store(format!("{}: no audit log", path.display())));
        }
        Self::open_with(path, None)
    }

    /// Opens the log at `path`: with `origin`, creating it for that origin or
    /// checking the one held; without, taking the one held (none is an error).
    fn open_with(path: &Path, origin: Option<&str>) -> Result<Self> {
        let path = path.to_path_buf();
        let db = redb::Database::create(&path).map_err(store_err)?;
        let txn = db.begin_write().map_err(store_err)?;
        let (origin, range) = {
            let mut meta = txn.open_table(LOG).map_err(store_err)?;
            let held = meta.get(ORIGIN_KEY).map_err(store_err)?.map(|v| v.value().to_vec());
            match (held, origin) {
                (None, Some(origin)) => {
                    meta.insert(ORIGIN_KEY, origin.as_bytes()).map_err(store_err)?;
                    write_range(&mut meta, &CompactRange::new())?;
                    (String::from(origin), CompactRange::new())
                }
                (None, None) => return Err(Error::Store(format!("{}: no audit log", path.display()))),
                (Some(held), Some(origin)) if held != origin.as_bytes() => {
                    return Err(Error::Store(format!(
                        "{} holds another log than {origin}",
                        path.display()
                    )));
                }
                (Some(held), _) => (String::from_utf8(held).map_err(store_err)?, read_range(&meta)?),
            }
        };
        txn.commit().map_err(store_err)?;
        let tails = read_tails(&db, range.size())?;
        Ok(Self {
            db,
            path,
            origin,
            range,
            tails,
        })
    }

    /// Where the database lives.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The log's origin (its checkpoints' first line).
    #[must_use]
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The number of entries.
    #[must_use]
    pub const fn size(&self) -> u64 {
        self.range.size()
    }

    /// The root of the tree.
    #[must_use]
    pub fn root(&self) -> Hash {
        self.range.root()
    }

    /// The checkpoint of the tree as it is (to sign with
    /// [`citysec_audit::note::NoteSigner`]).
    ///
    /// # Errors
    /// As [`Checkpoint::new`].
    pub fn checkpoint(&self) -> Result<Checkpoint> {
        Checkpoint::new(&self.origin, self.size(), self.root()).map_err(Error::Audit)
    }

    /// Appends `entries` in one durable transaction and returns their indices.
    /// When this returns `Ok`, every one of them survives a crash; on an error,
    /// none was appended.
    ///
    /// # Errors
    /// [`Error::Audit`] ([`AuditError::MalformedRecord`]) for an empty entry or
    /// one over [`MAX_ENTRY`] bytes, [`AuditError::TreeFull`]; [`Error::Store`]
    /// if the database fails.
    pub fn append(&mut self, entries: &[&[u8]]) -> Result<Range<u64>> {
        if entries.iter().any(|e| e.is_empty() || e.len() > MAX_ENTRY) {
            return Err(Error::Audit(AuditError::MalformedRecord));
        }
        let first = self.range.size();
        let mut range = self.range.clone();
        let mut tails = self.tails.clone();
        // The new hashes of each tile level, in order, from the first new index
        // of that level.
        let mut levels: Vec<(u64, Vec<Hash>)> = Vec::new();
        let txn = self.db.begin_write().map_err(store_err)?;
        {
            let mut table = txn.open_table(LOG).map_err(store_err)?;
            let bundle = &mut tails.bundle;
            for entry in entries {
                let index = range.size();
                let leaf = leaf_hash(entry);
                let len = u16::try_from(entry.len()).map_err(|_| Error::Audit(AuditError::MalformedRecord))?;
                bundle.extend_from_slice(&len.to_be_bytes());
                bundle.extend_from_slice(entry);
                if index % TILE_WIDTH == TILE_WIDTH - 1 {
                    table
                        .insert((BUNDLES, index / TILE_WIDTH), bundle.as_slice())
                        .map_err(store_err)?;
                    bundle.clear();
                }
                push_level(&mut levels, 0, index, leaf);
                // The subtrees this leaf completes of 256^L entries are level
                // L's new hashes.
                range
                    .append_reporting(&leaf, |height, hash| {
                        if height % TILE_HEIGHT == 0 {
                            push_level(&mut levels, height / TILE_HEIGHT, index >> height, *hash);
                        }
                    })
                    .map_err(Error::Audit)?;
            }
            if !bundle.is_empty() {
                table
                    .insert((BUNDLES, range.size() / TILE_WIDTH), bundle.as_slice())
                    .map_err(store_err)?;
            }
            if tails.tiles.len() < levels.len() {
                tails.tiles.resize_with(levels.len(), Vec::new);
            }
            for ((level, (start, hashes)), tail) in (0u32..).zip(&levels).zip(&mut tails.tiles) {
                extend_tiles(&mut table, level, *start, hashes, tail)?;
            }
            write_range(&mut table, &range)?;
        }
        txn.commit().map_err(store_err)?;
        self.range = range;
        self.tails = tails;
        Ok(first..self.range.size())
    }

    /// The entry at `index`, if the log has one.
    ///
    /// # Errors
    /// [`Error::Store`] if the database fails.
    pub fn entry(&self, index: u64) -> Result<Option<Vec<u8>>> {
        let txn = self.db.begin_read().map_err(store_err)?;
        let table = txn.open_table(LOG).map_err(store_err)?;
        if index >= self.size() {
            return Ok(None);
        }
        let bundle = table
            .get((BUNDLES, index / TILE_WIDTH))
            .map_err(store_err)?
            .ok_or_else(|| missing_entry(index))?;
        let k = usize::try_from(index % TILE_WIDTH).unwrap_or(usize::MAX);
        let start = bundle_prefix(bundle.value(), k)
            .ok_or_else(|| missing_entry(index))?
            .len();
        let rest = bundle.value().get(start..).unwrap_or_default();
        let one = bundle_prefix(rest, 1).ok_or_else(|| missing_entry(index))?;
        Ok(Some(one.get(2..).unwrap_or_default().to_vec()))
    }

    /// Reads node hashes in one read transaction.
    fn with_nodes<T>(&self, f: impl FnOnce(&mut Nodes) -> Result<T, AuditError>) -> Result<T> {
        let txn = self.db.begin_read().map_err(store_err)?;
        let table = txn.open_table(LOG).map_err(store_err)?;
        let mut nodes = Nodes { table };
        f(&mut nodes).map_err(Error::Audit)
    }

    /// The root of the tree of the first `size` entries.
    ///
    /// # Errors
    /// [`Error::Audit`] ([`AuditError::SizesOutOfOrder`]) for a size beyond the
    /// log; [`Error::Store`].
    pub fn root_at(&self, size: u64) -> Result<Hash> {
        self.check_size(size)?;
        self.with_nodes(|n| merkle::root_from(n, size))
    }

    /// The inclusion proof of entry `index` in the tree of `size` entries.
    ///
    /// # Errors
    /// [`Error::Audit`] ([`AuditError::IndexOutOfRange`],
    /// [`AuditError::SizesOutOfOrder`]); [`Error::Store`].
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>> {
        self.check_size(size)?;
        self.with_nodes(|n| merkle::inclusion_proof_from(n, index, size))
    }

    /// The consistency proof from the tree of `size1` entries to that of
    /// `size2`.
    ///
    /// # Errors
    /// [`Error::Audit`] ([`AuditError::SizesOutOfOrder`],
    /// [`AuditError::EmptyTree`]); [`Error::Store`].
    pub fn consistency_proof(&self, size1: u64, size2: u64) -> Result<Vec<Hash>> {
        self.check_size(size2)?;
        self.with_nodes(|n| merkle::consistency_proof_from(n, size1, size2))
    }

    fn check_size(&self, size: u64) -> Result<()> {
        if size > self.size() {
            return Err(Error::Audit(AuditError::SizesOutOfOrder));
        }
        Ok(())
    }

    /// Writes the tree of the first `size` entries as tlog-tiles under `dir`:
    /// every tile and entry bundle that tree has (full ones only if not yet
    /// there: they never change), and `checkpoint` holding `signed_checkpoint`
    /// (a signed note of this log's checkpoint of `size`). Each file is written
    /// whole, then moved into place.
    ///
    /// # Errors
    /// [`Error::Audit`] ([`AuditError::SizesOutOfOrder`]) for a size beyond the
    /// log, [`AuditError::MalformedCheckpoint`] if `signed_checkpoint` is not
    /// this log's checkpoint of `size` and root; [`Error::Io`]; [`Error::Store`].
    pub fn write_tiles(&self, dir: &Path, size: u64, signed_checkpoint: &str) -> Result<TileStats> {
        self.check_size(size)?;
        let root = self.root_at(size)?;
        let body = signed_checkpoint
            .split_once("\n\n")
            .map(|(text, _)| format!("{text}\n"))
            .ok_or(Error::Audit(AuditError::MalformedCheckpoint))?;
        let cp = Checkpoint::parse_text(&body).map_err(Error::Audit)?;
        if cp.origin() != self.origin || cp.size() != size || *cp.root() != root {
            return Err(Error::Audit(AuditError::MalformedCheckpoint));
        }
        let mut stats = TileStats::default();
        let txn = self.db.begin_read().map_err(store_err)?;
        let stored = txn.open_table(LOG).map_err(store_err)?;
        let mut level = 0u32;
        loop {
            let height = level.saturating_mul(TILE_HEIGHT);
            // Hashes at this level: one per complete subtree of 2^height leaves.
            let count = size.checked_shr(height).unwrap_or(0);
            if count == 0 {
                break;
            }
            for (n, width) in tiles(count) {
                let path = dir.join(tile_path(Some(level), n, width));
                if width == TILE_WIDTH && path.exists() {
                    continue;
                }
                // The stored tile may be wider than this size's: its first
                // `width` hashes are this size's tile.
                let tile = stored
                    .get((level, n))
                    .map_err(store_err)?
                    .ok_or_else(|| damaged(level, n))?;
                let len = usize::try_from(width).unwrap_or(usize::MAX).saturating_mul(HASH_LEN);
                let bytes = tile.value().get(..len).ok_or_else(|| damaged(level, n))?;
                put(&path, bytes)?;
                stats.tiles = stats.tiles.saturating_add(1);
            }
            if level == 0 {
                for (n, width) in tiles(count) {
                    let path = dir.join(tile_path(None, n, width));
                    if width == TILE_WIDTH && path.exists() {
                        continue;
                    }
                    let first = n.saturating_mul(TILE_WIDTH);
                    let bundle = stored
                        .get((BUNDLES, n))
                        .map_err(store_err)?
                        .ok_or_else(|| missing_entry(first))?;
                    let count = usize::try_from(width).unwrap_or(usize::MAX);
                    let bytes = bundle_prefix(bundle.value(), count).ok_or_else(|| missing_entry(first))?;
                    put(&path, bytes)?;
                    stats.bundles = stats.bundles.saturating_add(1);
                }
            }
            level = level.saturating_add(1);
        }
        put(&dir.join("checkpoint"), signed_checkpoint.as_bytes())?;
        Ok(stats)
    }
}

/// What [`RedbLog::write_tiles`] wrote.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TileStats {
    /// Hash tiles written.
    pub tiles: u64,
    /// Entry bundles written.
    pub bundles: u64,
}

/// Writes a tile file whole (creating its directories), then moves it in place.
fn put(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| Error::io("create", parent, &e))?;
    }
    crate::write_file(path, bytes, 0o644, ExistingFile::Replace)
}

fn damaged(level: u32, n: u64) -> Error {
    Error::Store(format!("audit log misses tile {level}/{n}"))
}

fn missing_entry(index: u64) -> Error {
    Error::Store(format!("audit log misses entry {index}"))
}

/// Adds `hash` at `index` to the new hashes of `level`.
fn push_level(levels: &mut Vec<(u64, Vec<Hash>)>, level: u32, index: u64, hash: Hash) {
    let at = usize::try_from(level).unwrap_or(usize::MAX);
    if levels.len() <= at {
        levels.resize_with(at.saturating_add(1), || (index, Vec::new()));
    }
    if let Some((_, hashes)) = levels.get_mut(at) {
        hashes.push(hash);
    }
}

/// Appends `hashes`, the hashes of `level` from index `start` on, to that
/// level's tiles; `tail` is the level's growing tile as stored.
fn extend_tiles(tiles: &mut Table<'_>, level: u32, start: u64, hashes: &[Hash], tail: &mut Vec<u8>) -> Result<()> {
    let mut n = start / TILE_WIDTH;
    let offset = usize::try_from(start % TILE_WIDTH).unwrap_or(usize::MAX);
    if tail.len() != offset.saturating_mul(HASH_LEN) {
        return Err(damaged(level, n));
    }
    for h in hashes {
        tail.extend_from_slice(h);
        if tail.len() == TILE_BYTES {
            tiles.insert((level, n), tail.as_slice()).map_err(store_err)?;
            tail.clear();
            n = n.saturating_add(1);
        }
    }
    if !tail.is_empty() {
        tiles.insert((level, n), tail.as_slice()).map_err(store_err)?;
    }
    Ok(())
}

/// The growing bundle and tiles of a log of `size` entries, read from `db`.
fn read_tails(db: &redb::Database, size: u64) -> Result<Tails> {
    let txn = db.begin_read().map_err(store_err)?;
    let tiles = txn.open_table(LOG).map_err(store_err)?;
    let mut tails = Tails::default();
    if !size.is_multiple_of(TILE_WIDTH) {
        let n = size / TILE_WIDTH;
        let b = tiles
            .get((BUNDLES, n))
            .map_err(store_err)?
            .ok_or_else(|| missing_entry(size.saturating_sub(1)))?;
        tails.bundle = b.value().to_vec();
    }
    let mut level = 0u32;
    loop {
        let count = size.checked_shr(level.saturating_mul(TILE_HEIGHT)).unwrap_or(0);
        if count == 0 {
            break;
        }
        let mut tail = Vec::new();
        if !count.is_multiple_of(TILE_WIDTH) {
            let n = count / TILE_WIDTH;
            let t = tiles
                .get((level, n))
                .map_err(store_err)?
                .ok_or_else(|| damaged(level, n))?;
            tail = t.value().to_vec();
            if tail.len()
                != usize::try_from(count % TILE_WIDTH)
                    .unwrap_or(0)
                    .saturating_mul(HASH_LEN)
            {
                return Err(damaged(level, n));
            }
        }
        tails.tiles.push(tail);
        level = level.saturating_add(1);
    }
    Ok(tails)
}

/// The tiles of a level with `count` hashes: `(index, width)`, full ones
/// (width 256) then the partial one, if any.
fn tiles(count: u64) -> impl Iterator<Item = (u64, u64)> {
    let full = count / TILE_WIDTH;
    let partial = count % TILE_WIDTH;
    (0..full)
        .map(|n| (n, TILE_WIDTH))
        .chain((partial > 0).then_some((full, partial)))
}

/// The first `count` length-prefixed entries of `bundle`, if it has them.
fn bundle_prefix(bundle: &[u8], count: usize) -> Option<&[u8]> {
    let mut at = 0usize;
    for _ in 0..count {
        let head = bundle.get(at..at.checked_add(2)?)?;
        let len = usize::from(u16::from_be_bytes([*head.first()?, *head.get(1)?]));
        at = at.checked_add(2)?.checked_add(len)?;
        if at > bundle.len() {
            return None;
        }
    }
    bundle.get(..at)
}

/// The tlog-tiles path of tile `n` of `level` (`None`: the entry bundle) of
/// `width` hashes: `tile/<L>/<N>[.p/<W>]`, `N` in 3-digit groups, all but the
/// last prefixed with `x` (1234067 is `x001/x234/067`).
#[must_use]
pub fn tile_path(level: Option<u32>, n: u64, width: u64) -> String {
    let mut groups = Vec::new();
    let mut rest = n;
    loop {
        groups.push(rest % 1000);
        rest /= 1000;
        if rest == 0 {
            break;
        }
    }
    let mut path = match level {
        Some(l) => format!("tile/{l}"),
        None => String::from("tile/entries"),
    };
    let last = groups.len().saturating_sub(1);
    for (i, g) in groups.iter().rev().enumerate() {
        let x = if i == last { "" } else { "x" };
        path.push_str(&format!("/{x}{g:03}"));
    }
    if width < TILE_WIDTH {
        path.push_str(&format!(".p/{width}"));
    }
    path
}

struct Nodes {
    table: redb::ReadOnlyTable<(u32, u64), &'static [u8]>,
}

impl SubtreeHashes for Nodes {
    /// The subtree of `height` is `2^(height % 8)` consecutive hashes of tile
    /// level `height / 8`, all in one tile, hashed up.
    fn subtree(&mut self, height: u32, index: u64) -> Result<Hash, AuditError> {
        let (level, within) = (height / TILE_HEIGHT, height % TILE_HEIGHT);
        let first = index.checked_shl(within).ok_or(AuditError::InvalidState)?;
        let tile = self
            .table
            .get((level, first / TILE_WIDTH))
            .map_err(|_| AuditError::InvalidState)?
            .ok_or(AuditError::InvalidState)?;
        let start = usize::try_from(first % TILE_WIDTH).map_err(|_| AuditError::InvalidState)?;
        let count = 1usize << within;
        let bytes = tile
            .value()
            .get(start.saturating_mul(HASH_LEN)..start.saturating_add(count).saturating_mul(HASH_LEN))
            .ok_or(AuditError::InvalidState)?;
        let hashes = bytes
            .chunks_exact(HASH_LEN)
            .map(merkle::hash_from_slice)
            .collect::<Result<Vec<Hash>, _>>()?;
        Ok(merkle::root(&hashes))
    }
}

fn write_range(meta: &mut Table<'_>, range: &CompactRange) -> Result<()> {
    let mut v = range.size().to_be_bytes().to_vec();
    for peak in range.peaks() {
        v.extend_from_slice(peak);
    }
    meta.insert(RANGE_KEY, v.as_slice()).map_err(store_err)?;
    Ok(())
}

fn read_range(meta: &Table<'_>) -> Result<CompactRange> {
    let v = meta
        .get(RANGE_KEY)
        .map_err(store_err)?
        .ok_or_else(|| Error::Store("audit log has no state".into()))?;
    let v = v.value();
    let (size, hashes) = v
        .split_first_chunk::<8>()
        .ok_or_else(|| Error::Store("audit log state is damaged".into()))?;
    let peaks = hashes
        .chunks(HASH_LEN)
        .map(merkle::hash_from_slice)
        .collect::<Result<Vec<Hash>, _>>()
        .map_err(Error::Audit)?;
    CompactRange::from_parts(u64::from_be_bytes(*size), peaks).map_err(Error::Audit)
}

/// A controller's pinned checkpoint of a log, kept in a file: the pin moves
/// only once its new value is durable, so a restarted controller still refuses
/// a rollback or a split view of what it saw before.
///
/// The file holds [`PinnedCheckpoint::to_bytes`] (40 bytes), replaced whole
/// (written to a temporary file, synced, moved into place).
#[derive(Debug)]
pub struct FilePin {
    path: PathBuf,
    pin: Option<PinnedCheckpoint>,
}

impl FilePin {
    /// Reads the pin at `path`; no file means nothing pinned yet.
    ///
    /// # Errors
    /// [`Error::Io`] if the file cannot be read; [`Error::Audit`]
    /// ([`AuditError::MalformedPin`]) if it is not a pin.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let pin = match std::fs::read(&path) {
            Ok(bytes) => Some(PinnedCheckpoint::from_bytes(&bytes).map_err(Error::Audit)?),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(Error::io("read", &path, &e)),
        };
        Ok(Self { path, pin })
    }

    /// The pin, if any.
    #[must_use]
    pub const fn pinned(&self) -> Option<&PinnedCheckpoint> {
        self.pin.as_ref()
    }

    /// Accepts `next` (verified, with its witness policy): the first checkpoint
    /// is pinned as it is (trust on first use: give the controller its first
    /// checkpoint at installation); later ones only with a consistency `proof`
    /// from the pinned tree ([`PinnedCheckpoint::advance`]). The new pin is
    /// written before it is kept; on any error the pin and the file are
    /// unchanged.
    ///
    /// # Errors
    /// The errors of [`PinnedCheckpoint::advance`] ([`AuditError::Rollback`],
    /// [`AuditError::SplitView`], [`AuditError::RootMismatch`], ...);
    /// [`Error::Io`] if the file cannot be written.
    pub fn accept(&mut self, next: &VerifiedCheckpoint, proof: &[Hash]) -> Result<()> {
        let new = match self.pin {
            None => PinnedCheckpoint::new(next),
            Some(mut pin) => {
                pin.advance(next, proof).map_err(Error::Audit)?;
                pin
            }
        };
        crate::write_file(&self.path, &new.to_bytes(), 0o600, ExistingFile::Replace)?;
        self.pin = Some(new);
        Ok(())
    }
}
