//! Reference values: what a verifier expects of each hardware model.

use alloc::string::String;
use alloc::vec::Vec;
use core::cmp::Ordering;

use crate::evidence::{DIGEST_LEN, DebugStatus, HWMODEL_LEN_RANGE};
use crate::{Error, Result};

/// Most numeric parts a [`Version`] may have.
pub const MAX_VERSION_PARTS: usize = 8;

/// A firmware version of dotted decimal numbers (`1.4.2`), compared part by part with
/// missing parts counting as 0 (`1.4` equals `1.4.0`). Anything else (letters,
/// suffixes, empty parts, more than [`MAX_VERSION_PARTS`] parts, a part above
/// `u32::MAX`) is not a version: an appraisal cannot order it.
#[derive(Clone, Debug)]
pub struct Version {
    parts: [u32; MAX_VERSION_PARTS],
    text: String,
}

impl Version {
    /// Parses `text`.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        let mut parts = [0u32; MAX_VERSION_PARTS];
        let mut n = 0usize;
        for part in text.split('.') {
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let slot = parts.get_mut(n)?;
            *slot = part.parse().ok()?;
            n = n.checked_add(1)?;
        }
        Some(Self {
            parts,
            text: String::from(text),
        })
    }

    /// The version as written.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.parts == other.parts
    }
}

impl Eq for Version {}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        // Unused parts are 0, so comparing the arrays pads the shorter version.
        self.parts.cmp(&other.parts)
    }
}

impl core::fmt::Display for Version {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.text)
    }
}

/// What a verifier expects of one hardware model.
///
/// - Firmware: `swversion` at or above `min_version` (anti-rollback), and one of the
///   accepted versions.
/// - Components: each expected component measured with exactly its digest.
/// - Debug: `dbgstat` at least `min_debug_status` (default [`DebugStatus::Disabled`]).
/// - Boot: `oemboot` true, always.
///
/// How each outcome maps to a trust tier is described on [`crate::Appraiser`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReferenceValues {
    hwmodel: Vec<u8>,
    min_version: Version,
    accepted_versions: Vec<Version>,
    components: Vec<(String, [u8; DIGEST_LEN])>,
    min_debug_status: DebugStatus,
}

impl ReferenceValues {
    /// Reference values for `hwmodel` with the anti-rollback minimum `min_version`.
    ///
    /// # Errors
    /// [`Error::InvalidReferenceValues`] if `hwmodel` is not 1..=32 bytes or
    /// `min_version` is not a [`Version`].
    pub fn new(hwmodel: impl Into<Vec<u8>>, min_version: &str) -> Result<Self> {
        let hwmodel = hwmodel.into();
        if !HWMODEL_LEN_RANGE.contains(&hwmodel.len()) {
            return Err(Error::InvalidReferenceValues);
        }
        Ok(Self {
            hwmodel,
            min_version: Version::parse(min_version).ok_or(Error::InvalidReferenceValues)?,
            accepted_versions: Vec::new(),
            components: Vec::new(),
            min_debug_status: DebugStatus::Disabled,
        })
    }

    /// Accepts firmware `version`.
    ///
    /// # Errors
    /// [`Error::InvalidReferenceValues`] if it is not a [`Version`].
    pub fn accept_version(mut self, version: &str) -> Result<Self> {
        let v = Version::parse(version).ok_or(Error::InvalidReferenceValues)?;
        if !self.accepted_versions.contains(&v) {
            self.accepted_versions.push(v);
        }
        Ok(self)
    }

    /// Expects component `name` with SHA-256 `digest`.
    ///
    /// # Errors
    /// [`Error::InvalidReferenceValues`] if `name` is already expected.
    pub fn component(mut self, name: impl Into<String>, digest: [u8; DIGEST_LEN]) -> Result<Self> {
        let name = name.into();
        if self.components.iter().any(|(n, _)| *n == name) {
            return Err(Error::InvalidReferenceValues);
        }
        self.components.push((name, digest));
        Ok(self)
    }

    /// The least locked-down debug status that is affirmed (default `Disabled`);
    /// `Enabled` is never affirmed whatever this says.
    #[must_use]
    pub const fn min_debug_status(mut self, status: DebugStatus) -> Self {
        self.min_debug_status = status;
        self
    }

    /// The hardware model.
    #[must_use]
    pub fn hwmodel(&self) -> &[u8] {
        &self.hwmodel
    }

    /// The anti-rollback minimum.
    #[must_use]
    pub const fn min_version(&self) -> &Version {
        &self.min_version
    }

    /// The accepted firmware versions.
    #[must_use]
    pub fn accepted_versions(&self) -> &[Version] {
        &self.accepted_versions
    }

    /// The expected components and digests.
    #[must_use]
    pub fn components(&self) -> &[(String, [u8; DIGEST_LEN])] {
        &self.components
    }

    /// The required debug status.
    #[must_use]
    pub const fn required_debug_status(&self) -> DebugStatus {
        self.min_debug_status
    }
}

/// Reference values for every hardware model a verifier appraises, one per model.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReferenceSet {
    models: Vec<ReferenceValues>,
}

impl ReferenceSet {
    /// An empty set (every appraisal then fails with [`Error::UnknownHwModel`]).
    #[must_use]
    pub const fn new() -> Self {
        Self { models: Vec::new() }
    }

    /// Adds the values of one model.
    ///
    /// # Errors
    /// [`Error::InvalidReferenceValues`] if the model already has values.
    pub fn with(mut self, values: ReferenceValues) -> Result<Self> {
        if self.get(&values.hwmodel).is_some() {
            return Err(Error::InvalidReferenceValues);
        }
        self.models.push(values);
        Ok(self)
    }

    /// The values for `hwmodel`.
    #[must_use]
    pub fn get(&self, hwmodel: &[u8]) -> Option<&ReferenceValues> {
        self.models.iter().find(|m| m.hwmodel == hwmodel)
    }

    /// Every model's values.
    pub fn iter(&self) -> impl Iterator<Item = &ReferenceValues> {
        self.models.iter()
    }
}
