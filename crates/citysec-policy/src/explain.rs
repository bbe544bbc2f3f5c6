//! Explanations: why each considered rule did or did not apply.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::{self, Write};

use crate::ast::Effect;
use crate::eval::{Decision, EvalErrorKind, Outcome, Reason};
use crate::policy::PolicySet;
use crate::program::{Insn, Operand, Test, ix};
use crate::value::Weekday;

/// A decision with the reason for every rule the evaluator considered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Explanation<'p> {
    /// Allow or deny.
    pub decision: Decision,
    /// Why.
    pub reason: Reason,
    /// The ids of the rules that decided (as [`Response::rules`](crate::Response::rules)).
    pub deciding: Vec<&'p str>,
    /// Every rule the index selected, in the order evaluated.
    pub rules: Vec<RuleTrace<'p>>,
    /// Rules not considered: their action or resource type does not match, the
    /// index ruled them out by their first test, or a forbid decided before the
    /// permits were evaluated.
    pub not_considered: usize,
}

/// What happened to one rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleTrace<'p> {
    /// The rule id.
    pub rule: &'p str,
    /// Permit or forbid.
    pub effect: Effect,
    /// The line the rule starts on.
    pub line: u32,
    /// Whether it applied, and if not, why.
    pub outcome: RuleOutcome<'p>,
    /// The last test evaluated (the one that settled the outcome), as policy text.
    pub last_test: Option<String>,
}

/// Whether a rule applied, and if not, why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RuleOutcome<'p> {
    /// The `when` condition held and the `unless` condition did not.
    Applies,
    /// The `when` condition was false.
    WhenFalse,
    /// The `unless` condition was true.
    UnlessTrue,
    /// The condition could not be evaluated; this counts against access.
    Error {
        /// The attribute that could not be read.
        attribute: &'p str,
        /// What was wrong with it.
        kind: EvalErrorKind,
    },
    /// The step budget ran out while evaluating this rule (the request is denied).
    OutOfSteps,
}

pub(crate) fn build<'p>(
    policy: &'p PolicySet,
    decision: Decision,
    reason: Reason,
    deciding: Vec<&'p str>,
    records: &[(u32, Outcome, Option<u32>)],
) -> Explanation<'p> {
    let rules: Vec<RuleTrace<'p>> = records
        .iter()
        .filter_map(|&(rule, outcome, last)| {
            let r = policy.rules.get(ix(rule))?;
            let outcome = match outcome {
                Outcome::Applies => RuleOutcome::Applies,
                Outcome::WhenFalse => RuleOutcome::WhenFalse,
                Outcome::UnlessTrue => RuleOutcome::UnlessTrue,
                Outcome::Error(e) => RuleOutcome::Error {
                    attribute: policy.attr_name(e.slot),
                    kind: e.kind,
                },
                Outcome::OutOfSteps => RuleOutcome::OutOfSteps,
            };
            Some(RuleTrace {
                rule: &r.id,
                effect: r.effect,
                line: r.line,
                outcome,
                last_test: last.and_then(|pc| policy.code.get(ix(pc))).map(|i| render(policy, i)),
            })
        })
        .collect();
    Explanation {
        decision,
        reason,
        deciding,
        not_considered: policy.rules.len().saturating_sub(rules.len()),
        rules,
    }
}

/// Policy text for a test or constant instruction.
pub(crate) fn render(policy: &PolicySet, insn: &Insn) -> String {
    let mut s = String::new();
    let _ = match insn {
        Insn::Test(t) => write_test(&mut s, policy, t),
        Insn::Const(b) => write!(s, "{b}"),
        Insn::Not => write!(s, "not"),
        Insn::JumpUnlessTrue(_) | Insn::JumpUnlessFalse(_) => Ok(()),
    };
    s
}

fn write_str_lit(s: &mut String, lit: &str) -> fmt::Result {
    s.push('"');
    for c in lit.chars() {
        match c {
            '"' => s.push_str("\\\""),
            '\\' => s.push_str("\\\\"),
            '\n' => s.push_str("\\n"),
            '\t' => s.push_str("\\t"),
            c => s.push(c),
        }
    }
    s.push('"');
    Ok(())
}

fn write_operand(s: &mut String, policy: &PolicySet, op: Operand) -> fmt::Result {
    match op {
        Operand::Str(id) => write_str_lit(s, policy.pools.string(id)),
        Operand::Int(n) => write!(s, "{n}"),
        Operand::Bool(b) => write!(s, "{b}"),
        Operand::Weekday(d) => write!(s, "{d}"),
        Operand::Attr(slot) => write!(s, "{}", policy.attr_name(slot)),
    }
}

fn write_test(s: &mut String, policy: &PolicySet, t: &Test) -> fmt::Result {
    let name = |slot| policy.attr_name(slot);
    match *t {
        Test::Truthy { slot } => write!(s, "{}", name(slot)),
        Test::Eq { lhs, rhs, negate, .. } => {
            write!(s, "{} {} ", name(lhs), if negate { "!=" } else { "==" })?;
            write_operand(s, policy, rhs)
        }
        Test::Cmp { lhs, op, rhs } => {
            write!(s, "{} {} ", name(lhs), op.as_str())?;
            write_operand(s, policy, rhs)
        }
        Test::WeekdayIn {
            slot,
            range: Some((a, b)),
            ..
        } => write!(s, "{} in {a}..{b}", name(slot)),
        Test::WeekdayIn { slot, mask, .. } => {
            let days: Vec<&str> = Weekday::ALL
                .iter()
                .filter(|d| mask & d.bit() != 0)
                .map(|d| d.as_str())
                .collect();
            write!(s, "{} in [{}]", name(slot), days.join(", "))
        }
        Test::StrIn { slot, list } => {
            write!(s, "{} in [", name(slot))?;
            for (i, id) in policy.pools.str_list(list).iter().enumerate() {
                if i > 0 {
                    s.push_str(", ");
                }
                write_str_lit(s, policy.pools.string(*id))?;
            }
            s.push(']');
            Ok(())
        }
        Test::IntIn { slot, list } => {
            let items: Vec<String> = policy.pools.int_list(list).iter().map(|n| format!("{n}")).collect();
            write!(s, "{} in [{}]", name(slot), items.join(", "))
        }
        Test::IntRange { slot, lo, hi } => write!(s, "{} in {lo}..{hi}", name(slot)),
        Test::Has { set, elem, .. } => {
            write!(s, "{} has ", name(set))?;
            write_operand(s, policy, elem)
        }
    }
}

impl fmt::Display for Explanation<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = match self.decision {
            Decision::Allow => "allow",
            Decision::Deny => "deny",
        };
        let why = match self.reason {
            Reason::Permitted => "permitted by",
            Reason::Forbidden => "forbidden by",
            Reason::NoPermit => "no permit applies (default deny)",
            Reason::LimitExceeded => "evaluation step limit exceeded",
        };
        write!(f, "{d}: {why}")?;
        for (i, id) in self.deciding.iter().enumerate() {
            write!(f, "{}\"{id}\"", if i == 0 { " " } else { ", " })?;
        }
        for r in &self.rules {
            write!(f, "\n  {} \"{}\" (line {}): ", r.effect, r.rule, r.line)?;
            match r.outcome {
                RuleOutcome::Applies => f.write_str("applies")?,
                RuleOutcome::WhenFalse => f.write_str("does not apply: `when` is false")?,
                RuleOutcome::UnlessTrue => f.write_str("does not apply: `unless` is true")?,
                RuleOutcome::Error { attribute, kind } => {
                    let counts = match r.effect {
                        Effect::Forbid => "an erroring forbid denies",
                        Effect::Permit => "an erroring permit does not permit",
                    };
                    write!(f, "error: {attribute} {kind} ({counts})")?;
                }
                RuleOutcome::OutOfSteps => f.write_str("not finished: step limit exceeded")?,
            }
            if let Some(t) = &r.last_test {
                write!(f, "; last test `{t}`")?;
            }
        }
        if self.not_considered > 0 {
            write!(f, "\n  ({} other rules not considered)", self.not_considered)?;
        }
        Ok(())
    }
}
