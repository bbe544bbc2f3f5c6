//! Explicit bounds every decoder checks before it allocates.

/// Size, depth and count bounds for decoding untrusted input.
///
/// Every decoder in citysec checks these before allocating. A caller may tighten or
/// loosen them; the defaults fit credentials, evidence and telemetry comfortably.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Largest accepted encoded message, in bytes (default 64 KiB).
    pub max_message_size: usize,
    /// Deepest accepted nesting of arrays, maps and tags (default 16).
    pub max_depth: usize,
    /// Most entries accepted in one map or array (default 256).
    pub max_entries: usize,
}

impl Limits {
    /// The defaults: 64 KiB, depth 16, 256 entries.
    pub const DEFAULT: Self = Self {
        max_message_size: 64 * 1024,
        max_depth: 16,
        max_entries: 256,
    };

    /// Limits with the given values.
    #[must_use]
    pub const fn new(max_message_size: usize, max_depth: usize, max_entries: usize) -> Self {
        Self {
            max_message_size,
            max_depth,
            max_entries,
        }
    }

    /// These limits with another maximum message size.
    #[must_use]
    pub const fn with_max_message_size(mut self, bytes: usize) -> Self {
        self.max_message_size = bytes;
        self
    }

    /// These limits with another maximum depth.
    #[must_use]
    pub const fn with_max_depth(mut self, depth: usize) -> Self {
        self.max_depth = depth;
        self
    }

    /// These limits with another maximum number of entries per map or array.
    #[must_use]
    pub const fn with_max_entries(mut self, entries: usize) -> Self {
        self.max_entries = entries;
        self
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self::DEFAULT
    }
}
