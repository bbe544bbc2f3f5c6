//! Held freshness state (policy bundle version, status-list `iat`s) that survives a
//! restart: [`RedbStateStore`] (embedded, crash-safe) and [`FileStateStore`] (one
//! small text file, replaced atomically; the CLI's `--state DIR`).
//!
//! Both implement [`StateStore`]: every `save_*` returns only after the new state
//! is on stable storage (a committed redb transaction; a file written, synced and
//! renamed into place, and its directory synced), so the loaders can record a new
//! bundle or list before it takes effect.

use alloc::collections::BTreeMap;
use std::path::{Path, PathBuf};

use citysec_core::state::{HeldBundle, HeldStatusList, StateStore, StoreError};

use crate::ExistingFile;
use crate::fsutil::{read_bounded, write_atomic};

#[cfg(feature = "state")]
const BUNDLE: redb::TableDefinition<'static, &str, &[u8]> = redb::TableDefinition::new("held_bundle");
#[cfg(feature = "state")]
const LISTS: redb::TableDefinition<'static, &str, &[u8]> = redb::TableDefinition::new("held_status_lists");
#[cfg(feature = "state")]
const BUNDLE_KEY: &str = "bundle";

/// Held state in a redb database; each save is one durable transaction.
#[cfg(feature = "state")]
#[cfg_attr(docsrs, doc(cfg(feature = "state")))]
#[derive(Debug)]
pub struct RedbStateStore {
    db: redb::Database,
}

#[cfg(feature = "state")]
impl RedbStateStore {
    /// Opens (or creates) the store at `path`.
    ///
    /// # Errors
    /// [`crate::Error::Store`] if the database cannot be opened.
    pub fn open(path: impl AsRef<Path>) -> crate::Result<Self> {
        let db = redb::Database::create(path.as_ref()).map_err(|e| crate::Error::Store(e.to_string()))?;
        Ok(Self { db })
    }

    fn get(
        &self,
        table: redb::TableDefinition<'static, &str, &[u8]>,
        key: &str,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let txn = self.db.begin_read().map_err(|_| StoreError::Read)?;
        let table = match txn.open_table(table) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
            Err(_) => return Err(StoreError::Read),
        };
        Ok(table
            .get(key)
            .map_err(|_| StoreError::Read)?
            .map(|v| v.value().to_vec()))
    }

    fn put(
        &self,
        table: redb::TableDefinition<'static, &str, &[u8]>,
        key: &str,
        value: &[u8],
    ) -> Result<(), StoreError> {
        let txn = self.db.begin_write().map_err(|_| StoreError::Write)?;
        {
            let mut t = txn.open_table(table).map_err(|_| StoreError::Write)?;
            t.insert(key, value).map_err(|_| StoreError::Write)?;
        }
        txn.commit().map_err(|_| StoreError::Write)
    }
}

#[cfg(feature = "state")]
impl StateStore for RedbStateStore {
    fn bundle(&self) -> Result<Option<HeldBundle>, StoreError> {
        self.get(BUNDLE, BUNDLE_KEY)?
            .map(|b| HeldBundle::from_bytes(&b))
            .transpose()
    }

    fn save_bundle(&mut self, held: &HeldBundle) -> Result<(), StoreError> {
        self.put(BUNDLE, BUNDLE_KEY, &held.to_bytes())
    }

    fn status_list(&self, uri: &str) -> Result<Option<HeldStatusList>, StoreError> {
        self.get(LISTS, uri)?
            .map(|b| HeldStatusList::from_bytes(&b))
            .transpose()
    }

    fn save_status_list(&mut self, uri: &str, held: &HeldStatusList) -> Result<(), StoreError> {
        self.put(LISTS, uri, &held.to_bytes())
    }
}

/// The file a [`FileStateStore`] keeps in its directory.
pub const STATE_FILE_NAME: &str = "held-state";
/// The first line of that file.
const HEADER: &str = "citysec-held-state 1";
/// The largest state file read.
const MAX_STATE_FILE: usize = 1 << 20;

/// Held state in one text file, `DIR/held-state`, replaced atomically (temporary
/// file, fsync, rename, directory fsync) on every save, with mode 0600.
///
/// The file holds the line `citysec-held-state 1`, then at most one line
/// `bundle VERSION DIGEST` and one line `status IAT DIGEST URI` per status-list
/// URI: numbers in decimal, the SHA-256 payload digests and the URI in lowercase
/// hex. A missing file means nothing is held (a controller's first start); a file
/// in any other form is [`StoreError::Corrupt`] when opened.
#[derive(Debug, Clone)]
pub struct FileStateStore {
    path: PathBuf,
    bundle: Option<HeldBundle>,
    lists: BTreeMap<String, HeldStatusList>,
}

impl FileStateStore {
    /// Opens the state kept in directory `dir` (which must exist).
    ///
    /// # Errors
    /// [`crate::Error::Io`] if `dir` is not a directory or the file cannot be
    /// read; [`crate::Error::Store`] if the file is not in the format above.
    pub fn open(dir: impl AsRef<Path>) -> crate::Result<Self> {
        let dir = dir.as_ref();
        let meta = std::fs::metadata(dir).map_err(|e| crate::Error::io("open", dir, &e))?;
        if !meta.is_dir() {
            return Err(crate::Error::io(
                "open",
                dir,
                &std::io::Error::from(std::io::ErrorKind::NotADirectory),
            ));
        }
        let path = dir.join(STATE_FILE_NAME);
        let mut store = Self {
            path,
            bundle: None,
            lists: BTreeMap::new(),
        };
        match read_bounded(&store.path, MAX_STATE_FILE) {
            Ok(bytes) => store
                .parse(&bytes)
                .map_err(|e| crate::Error::Store(format!("`{}`: {e}", store.path.display())))?,
            Err(e) if e.io_kind() == Some(std::io::ErrorKind::NotFound) => {}
            Err(e) => return Err(e),
        }
        Ok(store)
    }

    /// The state file's path.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn parse(&mut self, bytes: &[u8]) -> Result<(), StoreError> {
        let text = core::str::from_utf8(bytes).map_err(|_| StoreError::Corrupt)?;
        let mut lines = text.split('\n');
        if lines.next() != Some(HEADER) {
            return Err(StoreError::Corrupt);
        }
        for line in lines {
            let mut parts = line.split(' ');
            match (parts.next(), parts.next(), parts.next(), parts.next(), parts.next()) {
                (Some(""), None, None, None, None) => {}
                (Some("bundle"), Some(v), Some(d), None, None) if self.bundle.is_none() => {
                    self.bundle = Some(HeldBundle {
                        version: number(v)?,
                        payload_digest: digest(d)?,
                    });
                }
                (Some("status"), Some(iat), Some(d), Some(uri), None) => {
                    let uri = String::from_utf8(hex_decode(uri)?).map_err(|_| StoreError::Corrupt)?;
                    let held = HeldStatusList {
                        iat: number(iat)?,
                        payload_digest: digest(d)?,
                    };
                    if self.lists.insert(uri, held).is_some() {
                        return Err(StoreError::Corrupt);
                    }
                }
                _ => return Err(StoreError::Corrupt),
            }
        }
        Ok(())
    }

    fn render(bundle: Option<&HeldBundle>, lists: &BTreeMap<String, HeldStatusList>) -> String {
        let mut out = format!("{HEADER}\n");
        if let Some(b) = bundle {
            out.push_str(&format!("bundle {} {}\n", b.version, hex_encode(&b.payload_digest)));
        }
        for (uri, h) in lists {
            out.push_str(&format!(
                "status {} {} {}\n",
                h.iat,
                hex_encode(&h.payload_digest),
                hex_encode(uri.as_bytes())
            ));
        }
        out
    }

    fn write(&self, bundle: Option<&HeldBundle>, lists: &BTreeMap<String, HeldStatusList>) -> Result<(), StoreError> {
        write_atomic(
            &self.path,
            Self::render(bundle, lists).as_bytes(),
            0o600,
            ExistingFile::Replace,
        )
        .map_err(|_| StoreError::Write)
    }
}

impl StateStore for FileStateStore {
    fn bundle(&self) -> Result<Option<HeldBundle>, StoreError> {
        Ok(self.bundle)
    }

    fn save_bundle(&mut self, held: &HeldBundle) -> Result<(), StoreError> {
        self.write(Some(held), &self.lists)?;
        self.bundle = Some(*held);
        Ok(())
    }

    fn status_list(&self, uri: &str) -> Result<Option<HeldStatusList>, StoreError> {
        Ok(self.lists.get(uri).copied())
    }

    fn save_status_list(&mut self, uri: &str, held: &HeldStatusList) -> Result<(), StoreError> {
        let mut lists = self.lists.clone();
        lists.insert(uri.to_owned(), *held);
        self.write(self.bundle.as_ref(), &lists)?;
        self.lists = lists;
        Ok(())
    }
}

fn number(s: &str) -> Result<u64, StoreError> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || (s.len() > 1 && s.starts_with('0')) {
        return Err(StoreError::Corrupt);
    }
    s.parse().map_err(|_| StoreError::Corrupt)
}

fn digest(s: &str) -> Result<[u8; 32], StoreError> {
    hex_decode(s)?.try_into().map_err(|_| StoreError::Corrupt)
}

fn hex_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hex_decode(s: &str) -> Result<Vec<u8>, StoreError> {
    let nibble = |c: u8| match c {
        b'0'..=b'9' => Ok(c.wrapping_sub(b'0')),
        b'a'..=b'f' => Ok(c.wrapping_sub(b'a').wrapping_add(10)),
        _ => Err(StoreError::Corrupt),
    };
    if !s.len().is_multiple_of(2) {
        return Err(StoreError::Corrupt);
    }
    s.as_bytes()
        .chunks_exact(2)
        .map(|pair| match pair {
            [hi, lo] => Ok(nibble(*hi)? << 4 | nibble(*lo)?),
            _ => Err(StoreError::Corrupt),
        })
        .collect()
}
