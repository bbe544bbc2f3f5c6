//! Freshness by challenge: random nonces that expire and are used once, kept in a
//! [`NonceStore`].
//!
//! The verifier issues a [`Challenge`] (32 random bytes from the caller's random
//! source, an expiry), the device puts the nonce in its evidence, and the appraisal
//! consumes it: a nonce that was never issued, has expired, or was used before is
//! refused. [`MemoryNonceStore`] is a bounded in-memory store for one process; a
//! store that survives restarts, or is shared by several verifiers, implements the
//! same trait.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use citysec_core::{RandomSource, Timestamp};

use crate::evidence::NONCE_LEN_RANGE;
use crate::{Error, Result};

/// Length of the nonces [`Challenge::issue`] makes.
pub const CHALLENGE_NONCE_LEN: usize = 32;
/// The shortest nonce a store accepts: 128 bits, so guessing one is hopeless.
pub const MIN_CHALLENGE_NONCE_LEN: usize = 16;

/// Where a verifier remembers the nonces it issued until they expire.
///
/// Implementations must make [`NonceStore::consume`] atomic: of two appraisals that
/// present the same nonce at once, only one may succeed. A store that cannot answer
/// (its server is down) returns [`Error::NonceStoreUnavailable`], never success.
pub trait NonceStore {
    /// Records `nonce`, issued at `now`, as valid until `expires` (exclusive).
    ///
    /// # Errors
    /// [`Error::InvalidNonce`] for a nonce shorter than [`MIN_CHALLENGE_NONCE_LEN`] or
    /// longer than 64 bytes, or one the store already holds;
    /// [`Error::NonceStoreFull`] when the store cannot hold another unexpired nonce;
    /// [`Error::NonceStoreUnavailable`] when it cannot be reached.
    fn insert(&mut self, nonce: &[u8], expires: Timestamp, now: Timestamp) -> Result<()>;

    /// Uses `nonce` at `now`: succeeds once for a nonce that was issued and has not
    /// expired.
    ///
    /// # Errors
    /// [`Error::UnknownNonce`] if it was never issued (or was forgotten after it
    /// expired); [`Error::NonceExpired`] if `now` is at or past its expiry;
    /// [`Error::NonceReplayed`] if it was used before; [`Error::NonceStoreUnavailable`]
    /// when the store cannot be reached.
    fn consume(&mut self, nonce: &[u8], now: Timestamp) -> Result<()>;
}

impl<S: NonceStore + ?Sized> NonceStore for &mut S {
    fn insert(&mut self, nonce: &[u8], expires: Timestamp, now: Timestamp) -> Result<()> {
        (**self).insert(nonce, expires, now)
    }

    fn consume(&mut self, nonce: &[u8], now: Timestamp) -> Result<()> {
        (**self).consume(nonce, now)
    }
}

/// A challenge for a device: a fresh nonce and when it stops being accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Challenge {
    nonce: [u8; CHALLENGE_NONCE_LEN],
    expires: Timestamp,
}

impl Challenge {
    /// Draws a 32-byte nonce from `rng`, records it in `store` as valid for
    /// `ttl_seconds` from `now`, and returns it.
    ///
    /// # Errors
    /// [`Error::Core`] with the random source's error; the store's errors
    /// ([`Error::NonceStoreFull`]).
    pub fn issue(
        store: &mut dyn NonceStore,
        rng: &mut dyn RandomSource,
        now: Timestamp,
        ttl_seconds: u64,
    ) -> Result<Self> {
        let mut nonce = [0u8; CHALLENGE_NONCE_LEN];
        rng.fill(&mut nonce)?;
        let expires = now.saturating_add(ttl_seconds);
        store.insert(&nonce, expires, now)?;
        Ok(Self { nonce, expires })
    }

    /// The nonce to send to the device.
    #[must_use]
    pub const fn nonce(&self) -> &[u8; CHALLENGE_NONCE_LEN] {
        &self.nonce
    }

    /// The first second at which the nonce is no longer accepted.
    #[must_use]
    pub const fn expires(&self) -> Timestamp {
        self.expires
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Entry {
    expires: Timestamp,
    used: bool,
}

/// A bounded in-memory [`NonceStore`] (no_std, `alloc`): at most `capacity` nonces,
/// each kept until it expires, used ones included, so a replay within the lifetime is
/// reported as such. Expired entries are dropped when a nonce is inserted.
///
/// When full of unexpired nonces it refuses new challenges
/// ([`Error::NonceStoreFull`]) rather than forgetting one that a device may still
/// answer. Its state is lost on restart: nonces issued before a restart are then
/// refused as unknown, which fails closed.
#[derive(Debug, Clone)]
pub struct MemoryNonceStore {
    entries: BTreeMap<Vec<u8>, Entry>,
    capacity: usize,
}

impl MemoryNonceStore {
    /// A store for at most `capacity` nonces at once.
    #[must_use]
    pub const fn new(capacity: usize) -> Self {
        Self {
            entries: BTreeMap::new(),
            capacity,
        }
    }

    /// Number of nonces held (unexpired or not yet dropped).
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the store holds no nonce.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Drops every nonce that has expired at `now`.
    pub fn prune(&mut self, now: Timestamp) {
        self.entries.retain(|_, e| e.expires > now);
    }
}

impl NonceStore for MemoryNonceStore {
    fn insert(&mut self, nonce: &[u8], expires: Timestamp, now: Timestamp) -> Result<()> {
        if nonce.len() < MIN_CHALLENGE_NONCE_LEN || !NONCE_LEN_RANGE.contains(&nonce.len()) {
            return Err(Error::InvalidNonce);
        }
        self.prune(now);
        if self.entries.contains_key(nonce) {
            return Err(Error::InvalidNonce);
        }
        if self.entries.len() >= self.capacity {
            return Err(Error::NonceStoreFull);
        }
        self.entries.insert(nonce.to_vec(), Entry { expires, used: false });
        Ok(())
    }

    fn consume(&mut self, nonce: &[u8], now: Timestamp) -> Result<()> {
        let entry = self.entries.get_mut(nonce).ok_or(Error::UnknownNonce)?;
        if entry.used {
            return Err(Error::NonceReplayed);
        }
        if now >= entry.expires {
            return Err(Error::NonceExpired);
        }
        entry.used = true;
        Ok(())
    }
}
