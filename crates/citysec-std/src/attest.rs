//! Attestation adapters: the embedded, crash-safe nonce store (redb).

use std::path::{Path, PathBuf};

use citysec_attest::evidence::NONCE_LEN_RANGE;
use citysec_attest::nonce::MIN_CHALLENGE_NONCE_LEN;
use citysec_attest::{Error as AttestError, NonceStore};
use citysec_core::Timestamp;
use redb::ReadableTable as _;

const NONCES: redb::TableDefinition<'static, &[u8], &[u8]> = redb::TableDefinition::new("attestation_nonces");

/// Attestation challenge nonces in a redb database: each issue and each use is one
/// durable transaction, so a verifier restarted from the file still refuses a nonce
/// used before it stopped. Expired nonces are dropped when new ones are issued.
/// For several verifiers sharing nonces, use the Redis store (feature `redis`).
#[derive(Debug)]
pub struct RedbNonceStore {
    db: redb::Database,
    path: PathBuf,
}

impl RedbNonceStore {
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

/// Stored value: expiry (u64 big-endian) and a used flag.
fn record(expires: Timestamp, used: bool) -> [u8; 9] {
    let mut v = [0u8; 9];
    let (head, flag) = v.split_at_mut(8);
    head.copy_from_slice(&expires.as_unix_seconds().to_be_bytes());
    if let Some(f) = flag.first_mut() {
        *f = u8::from(used);
    }
    v
}

fn parse(v: &[u8]) -> Option<(Timestamp, bool)> {
    let (head, flag) = v.split_at_checked(8)?;
    let secs = u64::from_be_bytes(head.try_into().ok()?);
    Some((Timestamp::from_unix_seconds(secs), flag.first().copied()? != 0))
}

const UNAVAILABLE: AttestError = AttestError::NonceStoreUnavailable;

impl NonceStore for RedbNonceStore {
    fn insert(&mut self, nonce: &[u8], expires: Timestamp, now: Timestamp) -> citysec_attest::Result<()> {
        if nonce.len() < MIN_CHALLENGE_NONCE_LEN || !NONCE_LEN_RANGE.contains(&nonce.len()) {
            return Err(AttestError::InvalidNonce);
        }
        let txn = self.db.begin_write().map_err(|_| UNAVAILABLE)?;
        {
            let mut table = txn.open_table(NONCES).map_err(|_| UNAVAILABLE)?;
            // Forget nonces that have expired: they can be refused as unknown.
            table
                .retain(|_, v| parse(v).is_some_and(|(exp, _)| exp > now))
                .map_err(|_| UNAVAILABLE)?;
            if table.get(nonce).map_err(|_| UNAVAILABLE)?.is_some() {
                return Err(AttestError::InvalidNonce);
            }
            table
                .insert(nonce, record(expires, false).as_slice())
                .map_err(|_| UNAVAILABLE)?;
        }
        txn.commit().map_err(|_| UNAVAILABLE)
    }

    fn consume(&mut self, nonce: &[u8], now: Timestamp) -> citysec_attest::Result<()> {
        let txn = self.db.begin_write().map_err(|_| UNAVAILABLE)?;
        {
            let mut table = txn.open_table(NONCES).map_err(|_| UNAVAILABLE)?;
            let state = table
                .get(nonce)
                .map_err(|_| UNAVAILABLE)?
                .map(|v| parse(v.value()).ok_or(UNAVAILABLE))
                .transpose()?;
            let (expires, used) = state.ok_or(AttestError::UnknownNonce)?;
            if used {
                return Err(AttestError::NonceReplayed);
            }
            if now >= expires {
                return Err(AttestError::NonceExpired);
            }
            table
                .insert(nonce, record(expires, true).as_slice())
                .map_err(|_| UNAVAILABLE)?;
        }
        txn.commit().map_err(|_| UNAVAILABLE)
    }
}
