//! Held freshness state: what a verifier has accepted, so that nothing older is
//! accepted again, across restarts.
//!
//! A door controller holds the version of its policy bundle and, per status-list
//! URI, the `iat` of the newest status list it accepted. The loaders
//! (`citysec_policy::bundle::load_held`, `citysec_credential::Verifier::accept_status_list`)
//! read the held value from a [`StateStore`], refuse anything older, and write the
//! new value through the store **before** the caller starts using the new object.
//! A store must therefore make each `save_*` durable before it returns: a crash
//! after the save leaves the old object in use and the new one held, so the old one
//! can never be installed again.
//!
//! Each held value carries the SHA-256 of the object's signed payload, so the same
//! object can be loaded again (after a reboot) while another object with the same
//! version or `iat` is refused.
//!
//! [`MemoryStateStore`] keeps the state in memory (tests, and devices whose held
//! state lives elsewhere); `citysec-std` has a redb store and a file store.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// Length of [`HeldBundle::to_bytes`] and [`HeldStatusList::to_bytes`].
pub const HELD_LEN: usize = 40;

/// The policy bundle a controller holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct HeldBundle {
    /// The bundle's version.
    pub version: u64,
    /// SHA-256 of the bundle's signed payload.
    pub payload_digest: [u8; 32],
}

/// The newest status list a verifier accepted for one URI.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct HeldStatusList {
    /// The list's `iat`, in seconds since the Unix epoch.
    pub iat: u64,
    /// SHA-256 of the list's signed payload.
    pub payload_digest: [u8; 32],
}

fn to_bytes(n: u64, digest: &[u8; 32]) -> [u8; HELD_LEN] {
    let mut out = [0u8; HELD_LEN];
    let (head, tail) = out.split_at_mut(8);
    head.copy_from_slice(&n.to_be_bytes());
    tail.copy_from_slice(digest);
    out
}

fn from_bytes(bytes: &[u8]) -> Result<(u64, [u8; 32]), StoreError> {
    let bytes: &[u8; HELD_LEN] = bytes.try_into().map_err(|_| StoreError::Corrupt)?;
    let (head, tail) = bytes.split_at(8);
    let n = u64::from_be_bytes(head.try_into().map_err(|_| StoreError::Corrupt)?);
    let digest = tail.try_into().map_err(|_| StoreError::Corrupt)?;
    Ok((n, digest))
}

impl HeldBundle {
    /// The stored form: the version as 8 big-endian bytes, then the digest.
    #[must_use]
    pub fn to_bytes(&self) -> [u8; HELD_LEN] {
        to_bytes(self.version, &self.payload_digest)
    }

    /// Reads [`Self::to_bytes`].
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] unless `bytes` is exactly [`HELD_LEN`] long.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, StoreError> {
        let (version, payload_digest) = from_bytes(bytes)?;
        Ok(Self {
            version,
            payload_digest,
        })
    }
}

impl HeldStatusList {
    /// The stored form: `iat` as 8 big-endian bytes, then the digest.
    #[must_use]
    pub fn to_bytes(&self) -> [u8; HELD_LEN] {
        to_bytes(self.iat, &self.payload_digest)
    }

    /// Reads [`Self::to_bytes`].
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] unless `bytes` is exactly [`HELD_LEN`] long.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, StoreError> {
        let (iat, payload_digest) = from_bytes(bytes)?;
        Ok(Self { iat, payload_digest })
    }
}

/// Why a [`StateStore`] failed. Every loader refuses the object when its store
/// fails: nothing is accepted whose freshness could not be checked or recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StoreError {
    /// The held state could not be read.
    Read,
    /// The held state could not be written durably.
    Write,
    /// The stored state is not in the store's format.
    Corrupt,
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Read => "held state could not be read",
            Self::Write => "held state could not be written",
            Self::Corrupt => "held state is corrupt",
        })
    }
}

impl core::error::Error for StoreError {}

/// Durable storage for held freshness state.
///
/// A `save_*` call returns `Ok` only once the value is durable (survives a power
/// loss); the loaders call it before the caller uses the new object.
pub trait StateStore: fmt::Debug {
    /// The policy bundle held, if any.
    ///
    /// # Errors
    /// [`StoreError`] if the state cannot be read.
    fn bundle(&self) -> Result<Option<HeldBundle>, StoreError>;

    /// Records `held` as the policy bundle held, durably.
    ///
    /// # Errors
    /// [`StoreError`] if it could not be written.
    fn save_bundle(&mut self, held: &HeldBundle) -> Result<(), StoreError>;

    /// The newest status list held for `uri`, if any.
    ///
    /// # Errors
    /// [`StoreError`] if the state cannot be read.
    fn status_list(&self, uri: &str) -> Result<Option<HeldStatusList>, StoreError>;

    /// Records `held` as the newest status list for `uri`, durably.
    ///
    /// # Errors
    /// [`StoreError`] if it could not be written.
    fn save_status_list(&mut self, uri: &str, held: &HeldStatusList) -> Result<(), StoreError>;
}

/// Held state in memory: lost on restart. For tests, and for devices that persist
/// [`MemoryStateStore::bundle`] and the lists themselves.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemoryStateStore {
    bundle: Option<HeldBundle>,
    lists: Vec<(String, HeldStatusList)>,
}

impl MemoryStateStore {
    /// An empty store.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            bundle: None,
            lists: Vec::new(),
        }
    }

    /// Every held status list, by URI, in the order first saved.
    #[must_use]
    pub fn status_lists(&self) -> &[(String, HeldStatusList)] {
        &self.lists
    }
}

impl StateStore for MemoryStateStore {
    fn bundle(&self) -> Result<Option<HeldBundle>, StoreError> {
        Ok(self.bundle)
    }

    fn save_bundle(&mut self, held: &HeldBundle) -> Result<(), StoreError> {
        self.bundle = Some(*held);
        Ok(())
    }

    fn status_list(&self, uri: &str) -> Result<Option<HeldStatusList>, StoreError> {
        Ok(self.lists.iter().find(|(u, _)| u == uri).map(|(_, h)| *h))
    }

    fn save_status_list(&mut self, uri: &str, held: &HeldStatusList) -> Result<(), StoreError> {
        match self.lists.iter_mut().find(|(u, _)| u == uri) {
            Some((_, h)) => *h = *held,
            None => self.lists.push((String::from(uri), *held)),
        }
        Ok(())
    }
}

impl<S: StateStore + ?Sized> StateStore for &mut S {
    fn bundle(&self) -> Result<Option<HeldBundle>, StoreError> {
        (**self).bundle()
    }

    fn save_bundle(&mut self, held: &HeldBundle) -> Result<(), StoreError> {
        (**self).save_bundle(held)
    }

    fn status_list(&self, uri: &str) -> Result<Option<HeldStatusList>, StoreError> {
        (**self).status_list(uri)
    }

    fn save_status_list(&mut self, uri: &str, held: &HeldStatusList) -> Result<(), StoreError> {
        (**self).save_status_list(uri, held)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn held_values_round_trip_and_refuse_other_lengths() {
        let b = HeldBundle {
            version: 0x0102_0304_0506_0708,
            payload_digest: [7; 32],
        };
        let bytes = b.to_bytes();
        assert_eq!(bytes.get(..8), Some(&[1u8, 2, 3, 4, 5, 6, 7, 8][..]));
        assert_eq!(HeldBundle::from_bytes(&bytes), Ok(b));
        assert_eq!(HeldStatusList::from_bytes(&bytes[..39]), Err(StoreError::Corrupt));
        let s = HeldStatusList {
            iat: 5,
            payload_digest: [9; 32],
        };
        assert_eq!(HeldStatusList::from_bytes(&s.to_bytes()), Ok(s));
    }

    #[test]
    fn memory_store_replaces_per_uri() {
        let mut m = MemoryStateStore::new();
        let a = HeldStatusList {
            iat: 1,
            payload_digest: [1; 32],
        };
        let b = HeldStatusList {
            iat: 2,
            payload_digest: [2; 32],
        };
        m.save_status_list("u", &a).unwrap();
        m.save_status_list("v", &a).unwrap();
        m.save_status_list("u", &b).unwrap();
        assert_eq!(m.status_list("u"), Ok(Some(b)));
        assert_eq!(m.status_list("v"), Ok(Some(a)));
        assert_eq!(m.status_list("w"), Ok(None));
        assert_eq!(m.status_lists().len(), 2);
    }
}
