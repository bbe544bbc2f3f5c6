//! The compiled form: a schema, literal pools, and per rule a short linear
//! program with forward jumps only.
//!
//! A program works on one result register holding true, false or an error. A
//! test sets it; `Not` flips true and false (an error stays an error);
//! `JumpUnlessTrue` and `JumpUnlessFalse` skip forward, which is how `and` and `or`
//! short-circuit. Jumps only go forward, so a program runs at most as many
//! instructions as it has: the work of a decision is bounded by construction.

use alloc::boxed::Box;
use alloc::vec::Vec;

use crate::ast::{CmpOp, Effect};
use crate::value::{Type, Weekday};

/// The right-hand side of a test: a literal or another attribute's slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Operand {
    /// Index into the string pool.
    Str(u32),
    Int(i64),
    Bool(bool),
    Weekday(Weekday),
    Attr(u16),
}

/// A list literal: a range of a pool (strings sorted by value, integers sorted).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct List {
    pub(crate) start: u32,
    pub(crate) len: u32,
}

/// A leaf condition over the request's slots.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Test {
    /// A boolean attribute on its own.
    Truthy { slot: u16 },
    /// `==` / `!=` on strings, integers, booleans or weekdays (`ty`).
    Eq {
        lhs: u16,
        ty: Type,
        rhs: Operand,
        negate: bool,
    },
    /// `<`, `<=`, `>`, `>=` on integers.
    Cmp { lhs: u16, op: CmpOp, rhs: Operand },
    /// `in [days]` or `in d1..d2` (a range wraps past Sunday).
    WeekdayIn {
        slot: u16,
        mask: u8,
        range: Option<(Weekday, Weekday)>,
    },
    /// `in ["a", "b"]`.
    StrIn { slot: u16, list: List },
    /// `in [1, 2]`.
    IntIn { slot: u16, list: List },
    /// `in lo..hi`, both ends included.
    IntRange { slot: u16, lo: i64, hi: i64 },
    /// `set has x` / `x in set`; `elem_ty` is `String` or `Int`.
    Has { set: u16, elem_ty: Type, elem: Operand },
}

/// One instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Insn {
    Const(bool),
    Not,
    /// Jump to the absolute index unless the register is true.
    JumpUnlessTrue(u32),
    /// Jump to the absolute index unless the register is false.
    JumpUnlessFalse(u32),
    Test(Test),
}

/// Which actions or resource types a rule covers (ids sorted, no duplicates).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Scope {
    All,
    Only(Vec<u32>),
}

impl Scope {
    pub(crate) fn covers(&self, id: u32) -> bool {
        match self {
            Self::All => true,
            Self::Only(ids) => ids.binary_search(&id).is_ok(),
        }
    }
}

/// A compiled rule: its program is `code[start..end]`; the `unless` part, if
/// any, starts at `unless_at`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Rule {
    pub(crate) id: Box<str>,
    pub(crate) effect: Effect,
    pub(crate) actions: Scope,
    pub(crate) resources: Scope,
    pub(crate) start: u32,
    pub(crate) end: u32,
    pub(crate) unless_at: Option<u32>,
    pub(crate) line: u32,
    /// The index placed this rule without regard to its resource types, so the
    /// evaluator checks them.
    pub(crate) check_resource: bool,
}

/// Literal pools shared by all rules.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Pools {
    pub(crate) strings: Vec<Box<str>>,
    pub(crate) str_lists: Vec<u32>,
    pub(crate) int_lists: Vec<i64>,
}

impl Pools {
    pub(crate) fn string(&self, id: u32) -> &str {
        usize::try_from(id)
            .ok()
            .and_then(|i| self.strings.get(i))
            .map_or("", |s| s)
    }

    pub(crate) fn str_list(&self, list: List) -> &[u32] {
        slice(&self.str_lists, list)
    }

    pub(crate) fn int_list(&self, list: List) -> &[i64] {
        slice(&self.int_lists, list)
    }
}

fn slice<T>(pool: &[T], list: List) -> &[T] {
    let start = usize::try_from(list.start).unwrap_or(usize::MAX);
    let end = start.saturating_add(usize::try_from(list.len).unwrap_or(usize::MAX));
    pool.get(start..end).unwrap_or_default()
}

/// `u32` index to `usize` (saturating on 16-bit targets).
pub(crate) fn ix(n: u32) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}
