#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

extern crate alloc;
#[cfg(test)]
extern crate std;

mod ast;
pub mod bundle;
mod cbor;
mod compile;
mod digest;
mod error;
mod eval;
mod explain;
mod index;
mod lexer;
mod limits;
mod parser;
mod policy;
mod program;
mod schema;
mod sort;
mod value;

pub use ast::Effect;
pub use compile::{Compiled, compile};
pub use error::{Diagnostic, DiagnosticKind, Diagnostics, Severity};
pub use eval::{Decision, EvalErrorKind, Reason, Request, RequestError, Response, RuleError};
pub use explain::{Explanation, RuleOutcome, RuleTrace};
pub use limits::PolicyLimits;
pub use policy::{ActionId, Attr, PolicySet, ResourceTypeId};
pub use schema::Schema;
pub use value::{Type, Value, Weekday};

/// The core this crate builds on.
pub use citysec_core as core_api;

#[cfg(test)]
mod tests;
