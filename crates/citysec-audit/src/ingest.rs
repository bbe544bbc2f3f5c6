//! A gateway taking a controller's records into the site log: only records that
//! are the controller's, in its order, with nothing left out.
//!
//! A [`ControllerFeed`] is the gateway's view of one controller's log: the
//! controller's checkpoint key and the compact range of the records ingested so
//! far. The controller sends the records that follow and its signed checkpoint
//! of the tree they complete. [`ControllerFeed::ingest`] verifies the checkpoint,
//! checks that every record is a record, and appends their leaf hashes to a copy
//! of its range. The records are taken only if that copy has the checkpoint's
//! size and root: a record dropped, added, changed or reordered, or a checkpoint
//! of another tree, is refused and nothing changes. The gateway then appends the
//! records to the site log, so the site log holds exactly what the controller
//! signed.

use alloc::vec::Vec;

use citysec_core::provider::Provider;

use crate::checkpoint::{CheckpointVerifier, VerifiedCheckpoint};
use crate::merkle::{CompactRange, leaf_hash};
use crate::record::Record;
use crate::{Error, Result};

/// The gateway's state for one controller's log.
#[derive(Clone, Debug)]
pub struct ControllerFeed {
    verifier: CheckpointVerifier,
    range: CompactRange,
}

impl ControllerFeed {
    /// A feed from the start of the controller's log, whose checkpoints
    /// `verifier` accepts (the controller's origin and note key).
    #[must_use]
    pub const fn new(verifier: CheckpointVerifier) -> Self {
        Self {
            verifier,
            range: CompactRange::new(),
        }
    }

    /// A feed restored from the range it had reached (persist
    /// [`Self::range`] after each ingest).
    #[must_use]
    pub const fn resume(verifier: CheckpointVerifier, range: CompactRange) -> Self {
        Self { verifier, range }
    }

    /// The controller's records ingested so far, as a compact range.
    #[must_use]
    pub const fn range(&self) -> &CompactRange {
        &self.range
    }

    /// How many of the controller's records were ingested.
    #[must_use]
    pub const fn size(&self) -> u64 {
        self.range.size()
    }

    /// Takes `records`, the controller's records from [`Self::size`] on, with
    /// `note`, its signed checkpoint of the tree they complete. On any error
    /// nothing is taken.
    ///
    /// # Errors
    /// The errors of [`CheckpointVerifier::verify`]; [`Error::Rollback`] for a
    /// checkpoint below the records already ingested;
    /// [`Error::SizesOutOfOrder`] unless the checkpoint's size is the ingested
    /// size plus the number of records; [`Error::MalformedRecord`] for bytes
    /// that are not a record; [`Error::RootMismatch`] if the records do not
    /// make the checkpoint's root (one changed, reordered, or replaced).
    pub fn ingest(&mut self, provider: &Provider, note: &[u8], records: &[&[u8]]) -> Result<VerifiedCheckpoint> {
        let verified = self.verifier.verify(provider, note)?;
        let c = verified.checkpoint();
        if c.size() < self.range.size() {
            return Err(Error::Rollback);
        }
        let count = u64::try_from(records.len()).map_err(|_| Error::SizesOutOfOrder)?;
        if self.range.size().checked_add(count) != Some(c.size()) {
            return Err(Error::SizesOutOfOrder);
        }
        let mut range = self.range.clone();
        let mut leaves = Vec::with_capacity(records.len());
        for r in records {
            Record::from_cbor(r)?;
            leaves.push(leaf_hash(r));
        }
        for leaf in &leaves {
            range.append(leaf)?;
        }
        if range.root() != *c.root() {
            return Err(Error::RootMismatch);
        }
        self.range = range;
        Ok(verified)
    }
}
