//! [`KeySet`]: trusted keys looked up by `kid`, checked against the message's `alg`.

use alloc::vec::Vec;

use crate::keys::KeyInfo;
use crate::{Algorithm, Error, Result};

/// A set of keys, each with a distinct `kid`.
///
/// Several keys can be trusted at once, so issuers rotate keys without a flag day:
/// add the new key, start signing with it, remove the old one when its tokens have
/// expired. Lookups check that the key's algorithm equals the message's `alg`.
#[derive(Debug)]
pub struct KeySet<K> {
    keys: Vec<K>,
}

impl<K> Default for KeySet<K> {
    fn default() -> Self {
        Self { keys: Vec::new() }
    }
}

impl<K: KeyInfo> KeySet<K> {
    /// An empty set.
    #[must_use]
    pub const fn new() -> Self {
        Self { keys: Vec::new() }
    }

    /// Adds a key.
    ///
    /// # Errors
    /// [`Error::UnknownKey`] if the key has no `kid` (a set is looked up by kid);
    /// [`Error::DuplicateKid`] if a key with the same `kid` is already present.
    pub fn insert(&mut self, key: K) -> Result<()> {
        let kid = key.kid().ok_or(Error::UnknownKey)?;
        if self.keys.iter().any(|k| k.kid() == Some(kid)) {
            return Err(Error::DuplicateKid);
        }
        self.keys.push(key);
        Ok(())
    }

    /// Builds a set from keys.
    ///
    /// # Errors
    /// As [`KeySet::insert`].
    pub fn from_keys(keys: impl IntoIterator<Item = K>) -> Result<Self> {
        let mut set = Self::new();
        for k in keys {
            set.insert(k)?;
        }
        Ok(set)
    }

    /// Removes the key with `kid`, returning it.
    pub fn remove(&mut self, kid: &[u8]) -> Option<K> {
        let pos = self.keys.iter().position(|k| k.kid() == Some(kid))?;
        Some(self.keys.swap_remove(pos))
    }

    /// The key with `kid`, if any.
    #[must_use]
    pub fn get(&self, kid: &[u8]) -> Option<&K> {
        self.keys.iter().find(|k| k.kid() == Some(kid))
    }

    /// The key for a message with `kid` and `alg`.
    ///
    /// # Errors
    /// [`Error::UnknownKey`] if no key has `kid`; [`Error::KeyAlgMismatch`] if the
    /// key is for another algorithm.
    pub fn resolve(&self, kid: &[u8], alg: Algorithm) -> Result<&K> {
        let key = self.get(kid).ok_or(Error::UnknownKey)?;
        if key.algorithm() != alg {
            return Err(Error::KeyAlgMismatch);
        }
        Ok(key)
    }

    /// Number of keys.
    #[must_use]
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the set is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The keys, in insertion order (after removals, in no particular order).
    pub fn iter(&self) -> impl Iterator<Item = &K> {
        self.keys.iter()
    }
}
