//! Attribute types and the values a caller puts into a request.

use core::fmt;

/// The type of an attribute, declared in the schema.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Type {
    /// A UTF-8 string (`string`).
    String,
    /// A 64-bit signed integer (`int`).
    Int,
    /// `true` or `false` (`bool`).
    Bool,
    /// A day of the week, `mon` to `sun` (`weekday`).
    Weekday,
    /// A set of strings (`set<string>`).
    StringSet,
    /// A set of integers (`set<int>`).
    IntSet,
}

impl Type {
    /// The type as written in a schema, e.g. `set<string>`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Int => "int",
            Self::Bool => "bool",
            Self::Weekday => "weekday",
            Self::StringSet => "set<string>",
            Self::IntSet => "set<int>",
        }
    }

    /// The element type of a set type.
    #[must_use]
    pub const fn element(self) -> Option<Self> {
        match self {
            Self::StringSet => Some(Self::String),
            Self::IntSet => Some(Self::Int),
            _ => None,
        }
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A day of the week (ISO 8601 numbering: Monday is 1, Sunday is 7).
///
/// The caller passes the *local* weekday in the request: there is no time zone
/// database in `no_std`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Weekday {
    /// Monday (`mon`).
    Mon = 1,
    /// Tuesday (`tue`).
    Tue = 2,
    /// Wednesday (`wed`).
    Wed = 3,
    /// Thursday (`thu`).
    Thu = 4,
    /// Friday (`fri`).
    Fri = 5,
    /// Saturday (`sat`).
    Sat = 6,
    /// Sunday (`sun`).
    Sun = 7,
}

impl Weekday {
    /// All days, Monday first.
    pub const ALL: [Self; 7] = [
        Self::Mon,
        Self::Tue,
        Self::Wed,
        Self::Thu,
        Self::Fri,
        Self::Sat,
        Self::Sun,
    ];

    /// The day with ISO number `n` (1 = Monday ... 7 = Sunday).
    #[must_use]
    pub const fn from_iso(n: u8) -> Option<Self> {
        Some(match n {
            1 => Self::Mon,
            2 => Self::Tue,
            3 => Self::Wed,
            4 => Self::Thu,
            5 => Self::Fri,
            6 => Self::Sat,
            7 => Self::Sun,
            _ => return None,
        })
    }

    /// The ISO number (1 = Monday ... 7 = Sunday).
    #[must_use]
    pub const fn iso(self) -> u8 {
        self as u8
    }

    /// The name used in policies: `mon`, `tue`, ...
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Mon => "mon",
            Self::Tue => "tue",
            Self::Wed => "wed",
            Self::Thu => "thu",
            Self::Fri => "fri",
            Self::Sat => "sat",
            Self::Sun => "sun",
        }
    }

    /// Parses `mon` ... `sun`.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.as_str() == name)
    }

    /// This day's bit in a week mask (bit 0 = Monday).
    pub(crate) const fn bit(self) -> u8 {
        1u8 << (self as u8).saturating_sub(1)
    }

    /// The mask of the days from `self` to `to`, inclusive, wrapping past Sunday.
    pub(crate) fn range_mask(self, to: Self) -> u8 {
        let mut mask = 0u8;
        let mut d = self;
        loop {
            mask |= d.bit();
            if d == to {
                return mask;
            }
            d = Self::from_iso(d.iso().checked_rem(7).unwrap_or(0).saturating_add(1)).unwrap_or(Self::Mon);
        }
    }
}

impl fmt::Display for Weekday {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A value the caller sets for one attribute of a request. It borrows strings and
/// sets from the caller, so building a request copies nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value<'a> {
    /// A string.
    String(&'a str),
    /// An integer.
    Int(i64),
    /// A boolean.
    Bool(bool),
    /// A weekday.
    Weekday(Weekday),
    /// A set of strings (duplicates are harmless).
    StringSet(&'a [&'a str]),
    /// A set of integers (duplicates are harmless).
    IntSet(&'a [i64]),
}

impl Value<'_> {
    /// The type of this value.
    #[must_use]
    pub const fn ty(&self) -> Type {
        match self {
            Self::String(_) => Type::String,
            Self::Int(_) => Type::Int,
            Self::Bool(_) => Type::Bool,
            Self::Weekday(_) => Type::Weekday,
            Self::StringSet(_) => Type::StringSet,
            Self::IntSet(_) => Type::IntSet,
        }
    }
}

impl<'a> From<&'a str> for Value<'a> {
    fn from(s: &'a str) -> Self {
        Self::String(s)
    }
}

impl From<i64> for Value<'_> {
    fn from(n: i64) -> Self {
        Self::Int(n)
    }
}

impl From<bool> for Value<'_> {
    fn from(b: bool) -> Self {
        Self::Bool(b)
    }
}

impl From<Weekday> for Value<'_> {
    fn from(d: Weekday) -> Self {
        Self::Weekday(d)
    }
}

impl<'a> From<&'a [&'a str]> for Value<'a> {
    fn from(s: &'a [&'a str]) -> Self {
        Self::StringSet(s)
    }
}

impl<'a> From<&'a [i64]> for Value<'a> {
    fn from(s: &'a [i64]) -> Self {
        Self::IntSet(s)
    }
}
