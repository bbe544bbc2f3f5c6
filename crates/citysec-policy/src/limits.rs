//! [`PolicyLimits`]: explicit bounds on policy source, compiled size and evaluation work.

/// Bounds on policy source, the compiled set and the work of one decision.
///
/// Every bound is checked before the work it bounds: the source length before
/// lexing, the nesting depth while parsing (so a deep nest is an error, never a
/// stack overflow), counts while compiling, and the step budget while deciding.
/// A decision that exceeds [`PolicyLimits::max_steps`] is a deny.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct PolicyLimits {
    /// Longest accepted policy or schema source, in bytes (default 1 MiB).
    pub max_source_len: usize,
    /// Deepest nesting of parentheses and `not` in a condition (default 32).
    pub max_depth: usize,
    /// Most rules in one policy set (default 10,000).
    pub max_rules: usize,
    /// Most entries in one list literal, action list or resource list (default 256).
    pub max_list_len: usize,
    /// Most declared attributes, actions or resource types, each (default 1,024).
    pub max_declarations: usize,
    /// Most evaluation steps in one decision (default 100,000): one per instruction,
    /// one per set element compared. Exceeding it denies.
    pub max_steps: u32,
}

impl PolicyLimits {
    /// The defaults: 1 MiB source, depth 32, 10,000 rules, lists of 256, 1,024
    /// declarations, 100,000 steps per decision.
    pub const DEFAULT: Self = Self {
        max_source_len: 1024 * 1024,
        max_depth: 32,
        max_rules: 10_000,
        max_list_len: 256,
        max_declarations: 1024,
        max_steps: 100_000,
    };

    /// These limits with another maximum source length.
    #[must_use]
    pub const fn with_max_source_len(mut self, bytes: usize) -> Self {
        self.max_source_len = bytes;
        self
    }

    /// These limits with another maximum nesting depth.
    #[must_use]
    pub const fn with_max_depth(mut self, depth: usize) -> Self {
        self.max_depth = depth;
        self
    }

    /// These limits with another maximum number of rules.
    #[must_use]
    pub const fn with_max_rules(mut self, rules: usize) -> Self {
        self.max_rules = rules;
        self
    }

    /// These limits with another maximum list length.
    #[must_use]
    pub const fn with_max_list_len(mut self, len: usize) -> Self {
        self.max_list_len = len;
        self
    }

    /// These limits with another maximum number of declarations of each kind.
    #[must_use]
    pub const fn with_max_declarations(mut self, n: usize) -> Self {
        self.max_declarations = n;
        self
    }

    /// These limits with another step budget per decision.
    #[must_use]
    pub const fn with_max_steps(mut self, steps: u32) -> Self {
        self.max_steps = steps;
        self
    }
}

impl Default for PolicyLimits {
    fn default() -> Self {
        Self::DEFAULT
    }
}
