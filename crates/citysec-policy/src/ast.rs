//! The syntax tree the parser produces and the compiler consumes.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

use crate::Weekday;
use crate::value::Type;

/// A byte span in the source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Span {
    pub(crate) start: usize,
    pub(crate) end: usize,
}

/// Whether a rule permits or forbids.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Effect {
    /// The rule allows the request when it applies (unless a forbid applies).
    Permit,
    /// The rule denies the request when it applies or when its condition errors.
    Forbid,
}

impl Effect {
    /// `"permit"` or `"forbid"`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Permit => "permit",
            Self::Forbid => "forbid",
        }
    }
}

impl core::fmt::Display for Effect {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A word from the source.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ident<'s> {
    pub(crate) text: &'s str,
    pub(crate) span: Span,
}

/// `root.name` as written; `text` is the whole `root.name`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct AttrName<'s> {
    pub(crate) text: &'s str,
    pub(crate) span: Span,
}

#[derive(Debug)]
pub(crate) enum Decl<'s> {
    Actions(Vec<Ident<'s>>),
    ResourceTypes(Vec<Ident<'s>>),
    Attribute { name: AttrName<'s>, ty: Type },
}

#[derive(Debug)]
pub(crate) enum ScopeAst<'s> {
    All,
    List(Vec<Ident<'s>>),
}

#[derive(Debug)]
pub(crate) struct RuleAst<'s> {
    pub(crate) effect: Effect,
    pub(crate) id: String,
    pub(crate) id_span: Span,
    pub(crate) start: usize,
    pub(crate) actions: ScopeAst<'s>,
    pub(crate) resources: ScopeAst<'s>,
    pub(crate) when: Option<Cond<'s>>,
    pub(crate) unless: Option<Cond<'s>>,
}

#[derive(Debug)]
pub(crate) enum Cond<'s> {
    Const(bool),
    Not(Box<Cond<'s>>),
    And(Vec<Cond<'s>>),
    Or(Vec<Cond<'s>>),
    Leaf(Leaf<'s>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    pub(crate) const fn as_str(self) -> &'static str {
        match self {
            Self::Eq => "==",
            Self::Ne => "!=",
            Self::Lt => "<",
            Self::Le => "<=",
            Self::Gt => ">",
            Self::Ge => ">=",
        }
    }
}

#[derive(Debug)]
pub(crate) struct Leaf<'s> {
    pub(crate) span: Span,
    pub(crate) lhs: AttrName<'s>,
    pub(crate) op: LeafOp<'s>,
}

#[derive(Debug)]
pub(crate) enum LeafOp<'s> {
    /// A boolean attribute on its own.
    Truthy,
    Cmp(CmpOp, Operand<'s>),
    InList(Vec<Lit>, Span),
    InRange(Lit, Lit),
    /// `x in set_attr`.
    InAttr(AttrName<'s>),
    /// `set has x` (also `"lit" in set`).
    Has(Operand<'s>),
}

#[derive(Debug)]
pub(crate) enum Operand<'s> {
    Attr(AttrName<'s>),
    Lit(Lit),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum LitVal {
    Str(String),
    Int(i64),
    Bool(bool),
    Weekday(Weekday),
}

impl LitVal {
    pub(crate) const fn ty(&self) -> Type {
        match self {
            Self::Str(_) => Type::String,
            Self::Int(_) => Type::Int,
            Self::Bool(_) => Type::Bool,
            Self::Weekday(_) => Type::Weekday,
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Lit {
    pub(crate) val: LitVal,
    pub(crate) span: Span,
}

#[derive(Debug, Default)]
pub(crate) struct Ast<'s> {
    pub(crate) decls: Vec<(Decl<'s>, Span)>,
    pub(crate) rules: Vec<RuleAst<'s>>,
}
