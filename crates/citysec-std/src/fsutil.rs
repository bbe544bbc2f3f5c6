//! Bounded reads and crash-safe, permission-aware writes.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::{Error, Result};

/// Reads at most `limit` bytes of `path` into a buffer that is wiped on drop.
pub(crate) fn read_bounded(path: &Path, limit: usize) -> Result<Zeroizing<Vec<u8>>> {
    let file = File::open(path).map_err(|e| Error::io("open", path, &e))?;
    let mut buf = Zeroizing::new(Vec::with_capacity(limit.min(4096)));
    let take = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    file.take(take)
        .read_to_end(&mut buf)
        .map_err(|e| Error::io("read", path, &e))?;
    if buf.len() > limit {
        return Err(Error::FileTooLarge {
            path: path.to_path_buf(),
        });
    }
    Ok(buf)
}

/// What to do when the destination of a write already exists.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ExistingFile {
    /// Fail with an [`Error::Io`] of kind [`io::ErrorKind::AlreadyExists`] (the default).
    #[default]
    Refuse,
    /// Replace the file atomically.
    Replace,
}

/// A temporary file next to the destination, removed on drop unless it was moved.
struct TempFile {
    path: Option<PathBuf>,
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(p) = self.path.take() {
            // Best effort: the file holds only what we were about to publish.
            let _ignored = fs::remove_file(p);
        }
    }
}

fn temp_name(file_name: &std::ffi::OsStr) -> PathBuf {
    let mut rnd = [0u8; 8];
    let suffix = match getrandom::fill(&mut rnd) {
        Ok(()) => u64::from_le_bytes(rnd),
        Err(_) => u64::from(std::process::id()),
    };
    let mut name = std::ffi::OsString::from(".");
    name.push(file_name);
    name.push(format!(".{suffix:016x}.tmp"));
    PathBuf::from(name)
}

/// Writes `bytes` to `path` through a temporary file in the same directory, with
/// exactly the permission bits `mode`, then moves it into place.
///
/// With [`ExistingFile::Refuse`] the move is a hard link, which fails atomically if
/// `path` exists; where the file system has no hard links it falls back to a check
/// followed by a rename.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8], mode: u32, existing: ExistingFile) -> Result<()> {
    let file_name = path
        .file_name()
        .ok_or_else(|| Error::io("write", path, &io::Error::from(io::ErrorKind::InvalidInput)))?;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if existing == ExistingFile::Refuse && fs::symlink_metadata(path).is_ok() {
        return Err(Error::io(
            "create",
            path,
            &io::Error::from(io::ErrorKind::AlreadyExists),
        ));
    }

    let mut attempt = 0u8;
    let (tmp_path, mut file) = loop {
        let candidate = dir.join(temp_name(file_name));
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&candidate)
        {
            Ok(f) => break (candidate, f),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempt < 8 => {
                attempt = attempt.saturating_add(1);
            }
            Err(e) => return Err(Error::io("create", path, &e)),
        }
    };
    let mut tmp = TempFile {
        path: Some(tmp_path.clone()),
    };
    // The umask may have removed bits; it never adds any, but make the mode exact.
    file.set_permissions(fs::Permissions::from_mode(mode))
        .map_err(|e| Error::io("write", path, &e))?;
    file.write_all(bytes).map_err(|e| Error::io("write", path, &e))?;
    file.sync_all().map_err(|e| Error::io("write", path, &e))?;
    drop(file);

    match existing {
        ExistingFile::Replace => {
            fs::rename(&tmp_path, path).map_err(|e| Error::io("replace", path, &e))?;
            tmp.path = None;
        }
        ExistingFile::Refuse => match fs::hard_link(&tmp_path, path) {
            Ok(()) => {} // the temporary name is removed when `tmp` drops
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Err(Error::io("create", path, &e)),
            Err(_) => {
                if fs::symlink_metadata(path).is_ok() {
                    return Err(Error::io(
                        "create",
                        path,
                        &io::Error::from(io::ErrorKind::AlreadyExists),
                    ));
                }
                fs::rename(&tmp_path, path).map_err(|e| Error::io("create", path, &e))?;
                tmp.path = None;
            }
        },
    }
    drop(tmp);
    // Persist the directory entry; not every file system supports this, so a
    // failure here does not undo a write that already happened.
    if let Ok(d) = File::open(dir) {
        let _ignored = d.sync_all();
    }
    Ok(())
}
