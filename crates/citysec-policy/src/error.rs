//! Diagnostics: compile errors and warnings a person can act on.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// Whether a diagnostic stops compilation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Severity {
    /// The source does not compile.
    Error,
    /// The source compiles, but a rule is probably not what its author meant.
    Warning,
}

/// What a diagnostic is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DiagnosticKind {
    /// A character that starts no token.
    UnexpectedCharacter,
    /// A string literal without its closing quote on the same line.
    UnterminatedString,
    /// A backslash escape other than `\"`, `\\`, `\n`, `\t`.
    InvalidEscape,
    /// An integer literal outside the 64-bit signed range.
    IntegerOutOfRange,
    /// A token where the grammar expects something else.
    Syntax,
    /// Parentheses and `not` nest deeper than [`PolicyLimits::max_depth`](crate::PolicyLimits).
    TooDeep,
    /// The source is longer than [`PolicyLimits::max_source_len`](crate::PolicyLimits).
    TooLarge,
    /// More rules, list entries or declarations than the limits allow.
    TooMany,
    /// An attribute the schema does not declare.
    UnknownAttribute,
    /// An action the schema does not declare.
    UnknownAction,
    /// A resource type the schema does not declare.
    UnknownResourceType,
    /// An operator applied to a value of the wrong type, or operands of different types.
    TypeMismatch,
    /// Two rules with the same id.
    DuplicateRuleId,
    /// An attribute, action or resource type declared twice.
    DuplicateDeclaration,
    /// An integer range whose lower bound exceeds its upper bound.
    EmptyRange,
    /// A list literal with no entries.
    EmptyList,
    /// A rule in a schema source (a schema holds declarations only).
    RuleInSchema,
    /// Warning: the rule's condition is false for every request.
    NeverApplies,
    /// Warning: a permit is covered by a forbid without conditions, so it never allows.
    ShadowedByForbid,
}

impl DiagnosticKind {
    /// Whether this kind is an error or a warning.
    #[must_use]
    pub const fn severity(self) -> Severity {
        match self {
            Self::NeverApplies | Self::ShadowedByForbid => Severity::Warning,
            _ => Severity::Error,
        }
    }

    /// A short description, e.g. `"unknown attribute"`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::UnexpectedCharacter => "unexpected character",
            Self::UnterminatedString => "unterminated string",
            Self::InvalidEscape => "invalid escape",
            Self::IntegerOutOfRange => "integer out of range",
            Self::Syntax => "syntax error",
            Self::TooDeep => "nesting too deep",
            Self::TooLarge => "source too large",
            Self::TooMany => "too many items",
            Self::UnknownAttribute => "unknown attribute",
            Self::UnknownAction => "unknown action",
            Self::UnknownResourceType => "unknown resource type",
            Self::TypeMismatch => "type mismatch",
            Self::DuplicateRuleId => "duplicate rule id",
            Self::DuplicateDeclaration => "duplicate declaration",
            Self::EmptyRange => "empty range",
            Self::EmptyList => "empty list",
            Self::RuleInSchema => "rule in schema",
            Self::NeverApplies => "rule can never apply",
            Self::ShadowedByForbid => "permit shadowed by an unconditional forbid",
        }
    }
}

impl fmt::Display for DiagnosticKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One error or warning, with its position in the source.
///
/// Displayed as `LINE:COLUMN: error: KIND: found `TEXT`, expected WHAT (NOTE)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// What went wrong (its [`DiagnosticKind::severity`] says whether it is fatal).
    pub kind: DiagnosticKind,
    /// 1-based line.
    pub line: u32,
    /// 1-based column, counted in characters.
    pub column: u32,
    /// The offending text (shortened when long), or a description such as `end of input`.
    pub found: String,
    /// What the language expected at this point (empty for warnings).
    pub expected: String,
    /// Additional context: a suggestion, the rule that shadows this one, ... (may be empty).
    pub note: String,
}

impl Diagnostic {
    /// Whether this is an error or a warning.
    #[must_use]
    pub const fn severity(&self) -> Severity {
        self.kind.severity()
    }

    /// A diagnostic at byte `offset` of `src`.
    pub(crate) fn at(
        src: &str,
        offset: usize,
        kind: DiagnosticKind,
        found: impl Into<String>,
        expected: impl Into<String>,
    ) -> Self {
        let (line, column) = line_col(src, offset);
        Self {
            kind,
            line,
            column,
            found: found.into(),
            expected: expected.into(),
            note: String::new(),
        }
    }

    /// This diagnostic with a note.
    pub(crate) fn with_note(mut self, note: impl Into<String>) -> Self {
        self.note = note.into();
        self
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity() {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(
            f,
            "{}:{}: {sev}: {}: found `{}`",
            self.line, self.column, self.kind, self.found
        )?;
        if !self.expected.is_empty() {
            write!(f, ", expected {}", self.expected)?;
        }
        if !self.note.is_empty() {
            write!(f, " ({})", self.note)?;
        }
        Ok(())
    }
}

impl core::error::Error for Diagnostic {}

/// The errors that stopped a compilation, in source order (at least one).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostics(pub(crate) Vec<Diagnostic>);

impl Diagnostics {
    /// The diagnostics, in source order.
    #[must_use]
    pub fn as_slice(&self) -> &[Diagnostic] {
        &self.0
    }

    /// The first diagnostic.
    #[must_use]
    pub fn first(&self) -> Option<&Diagnostic> {
        self.0.first()
    }

    /// Number of diagnostics.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none (never the case for a returned error).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Iterates over the diagnostics.
    pub fn iter(&self) -> core::slice::Iter<'_, Diagnostic> {
        self.0.iter()
    }

    /// The diagnostics as a vector.
    #[must_use]
    pub fn into_vec(self) -> Vec<Diagnostic> {
        self.0
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Self {
        Self(alloc::vec![d])
    }
}

impl<'a> IntoIterator for &'a Diagnostics {
    type Item = &'a Diagnostic;
    type IntoIter = core::slice::Iter<'a, Diagnostic>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl core::error::Error for Diagnostics {}

/// 1-based line and column (in characters) of byte `offset` in `src`.
pub(crate) fn line_col(src: &str, offset: usize) -> (u32, u32) {
    let before = src.get(..offset).unwrap_or(src);
    let line_start = before.rfind('\n').map_or(0, |i| i.saturating_add(1));
    let lines = before.bytes().filter(|&b| b == b'\n').count();
    let col = before.get(line_start..).map_or(0, |s| s.chars().count());
    (to_u32(lines.saturating_add(1)), to_u32(col.saturating_add(1)))
}

/// Saturating conversion for positions and counts.
pub(crate) fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// `text`, shortened to at most 40 characters for display.
pub(crate) fn excerpt(text: &str) -> String {
    const MAX: usize = 40;
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => {
            let mut s = String::from(text.get(..cut).unwrap_or(""));
            s.push_str("...");
            s
        }
        None => String::from(text),
    }
}

/// Line number of byte offsets, computed once per source.
#[derive(Debug)]
pub(crate) struct LineIndex {
    newlines: Vec<usize>,
}

impl LineIndex {
    pub(crate) fn new(src: &str) -> Self {
        let newlines = src
            .bytes()
            .enumerate()
            .filter_map(|(i, b)| (b == b'\n').then_some(i))
            .collect();
        Self { newlines }
    }

    /// 1-based line of `offset`.
    pub(crate) fn line(&self, offset: usize) -> u32 {
        let n = self.newlines.partition_point(|&nl| nl < offset);
        to_u32(n.saturating_add(1))
    }
}
