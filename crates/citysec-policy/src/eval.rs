//! Requests, decisions and the evaluator.
//!
//! A [`Request`] is a fixed-size vector of attribute values (one slot per declared
//! attribute) plus scratch space for the deciding rules, both allocated when the
//! request is made. Evaluating it allocates nothing.

use alloc::vec::Vec;

use crate::ast::{CmpOp, Effect};
use crate::index::{ANY, KeyEntries, Part, hash_str};
use crate::policy::{ActionId, Attr, PolicySet, ResourceTypeId};
use crate::program::{Insn, Operand, Rule, Test, ix};
use crate::sort;
use crate::value::{Type, Value, Weekday};

/// The decision on a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Decision {
    /// A permit applies and no forbid applies or errors.
    Allow,
    /// Anything else.
    Deny,
}

/// Why a request was allowed or denied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Reason {
    /// At least one permit applies and no forbid applies or errors.
    Permitted,
    /// A forbid applies, or a forbid's condition errored (fail closed).
    Forbidden,
    /// No permit applies (default deny); permits whose conditions errored are
    /// listed by [`Response::errors`].
    NoPermit,
    /// The decision exceeded [`PolicyLimits::max_steps`](crate::PolicyLimits); denied.
    LimitExceeded,
}

/// Why a rule's condition could not be evaluated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EvalErrorKind {
    /// The request does not set the attribute.
    Missing,
    /// The request sets the attribute to a value of another type than the schema declares.
    WrongType {
        /// The declared type.
        expected: Type,
        /// The type of the value in the request.
        found: Type,
    },
}

impl core::fmt::Display for EvalErrorKind {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Missing => f.write_str("missing from the request"),
            Self::WrongType { expected, found } => write!(f, "is a {found}, the schema declares {expected}"),
        }
    }
}

/// An evaluation error: the attribute slot and what was wrong with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct EvalError {
    pub(crate) slot: u16,
    pub(crate) kind: EvalErrorKind,
}

/// A rule whose condition errored, counted against access.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RuleError<'p> {
    /// The rule id.
    pub rule: &'p str,
    /// The rule's effect: an erroring forbid denies, an erroring permit does not permit.
    pub effect: Effect,
    /// The attribute that could not be read.
    pub attribute: &'p str,
    /// What was wrong with it.
    pub kind: EvalErrorKind,
}

/// A request handle or name that does not fit this policy set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RequestError {
    /// The handle was resolved against a policy set with another schema.
    ForeignHandle,
    /// The schema declares no attribute of this name.
    UnknownAttribute,
    /// The schema declares no action of this name (or the handle names none).
    UnknownAction,
    /// The schema declares no resource type of this name (or the handle names none).
    UnknownResourceType,
}

impl core::fmt::Display for RequestError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::ForeignHandle => "handle belongs to a policy set with another schema",
            Self::UnknownAttribute => "the schema declares no such attribute",
            Self::UnknownAction => "the schema declares no such action",
            Self::UnknownResourceType => "the schema declares no such resource type",
        })
    }
}

impl core::error::Error for RequestError {}

/// A rule that decided or errored in the last decision.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Hit {
    pub(crate) rule: u32,
    pub(crate) effect: Effect,
    pub(crate) error: Option<EvalError>,
}

/// A request: the action, the resource type and the attribute values of subject,
/// resource and context.
///
/// Made by [`PolicySet::request`]; values borrow from the caller. Reuse one
/// request for many decisions with [`Request::clear`].
#[derive(Debug)]
pub struct Request<'p, 'v> {
    policy: &'p PolicySet,
    action: u32,
    resource: u32,
    values: Vec<Option<Value<'v>>>,
    hits: Vec<Hit>,
}

impl<'p, 'v> Request<'p, 'v> {
    pub(crate) fn new(policy: &'p PolicySet) -> Self {
        let mut values = Vec::new();
        values.resize(policy.schema.attrs.len(), None);
        Self {
            policy,
            action: ANY,
            resource: ANY,
            values,
            hits: Vec::with_capacity(policy.rules.len()),
        }
    }

    /// The policy set this request is evaluated against.
    #[must_use]
    pub const fn policy(&self) -> &'p PolicySet {
        self.policy
    }

    /// Sets an attribute. A value of another type than the schema declares is
    /// stored as given; rules that read it then error (counted against access).
    ///
    /// # Errors
    /// [`RequestError::ForeignHandle`] if `attr` comes from a set with another schema.
    pub fn set(&mut self, attr: Attr, value: Value<'v>) -> Result<&mut Self, RequestError> {
        if attr.fingerprint != self.policy.fingerprint {
            return Err(RequestError::ForeignHandle);
        }
        let slot = self
            .values
            .get_mut(usize::from(attr.slot))
            .ok_or(RequestError::ForeignHandle)?;
        *slot = Some(value);
        Ok(self)
    }

    /// Sets an attribute by name, resolving it on every call (prefer [`Request::set`]
    /// with a handle from [`PolicySet::attribute`] on hot paths).
    ///
    /// # Errors
    /// [`RequestError::UnknownAttribute`].
    pub fn set_named(&mut self, name: &str, value: Value<'v>) -> Result<&mut Self, RequestError> {
        let attr = self.policy.attribute(name).ok_or(RequestError::UnknownAttribute)?;
        self.set(attr, value)
    }

    /// Unsets an attribute.
    ///
    /// # Errors
    /// [`RequestError::ForeignHandle`].
    pub fn unset(&mut self, attr: Attr) -> Result<&mut Self, RequestError> {
        if attr.fingerprint != self.policy.fingerprint {
            return Err(RequestError::ForeignHandle);
        }
        if let Some(slot) = self.values.get_mut(usize::from(attr.slot)) {
            *slot = None;
        }
        Ok(self)
    }

    /// The value of an attribute, if set.
    #[must_use]
    pub fn get(&self, attr: Attr) -> Option<Value<'v>> {
        if attr.fingerprint != self.policy.fingerprint {
            return None;
        }
        self.values.get(usize::from(attr.slot)).copied().flatten()
    }

    /// Sets the action. An action the schema does not declare is refused, as an
    /// undeclared attribute is: it never falls through to `action *` rules.
    ///
    /// # Errors
    /// [`RequestError::ForeignHandle`]; [`RequestError::UnknownAction`] for a handle
    /// of a name outside the schema ([`ActionId::is_known`] false). The request's
    /// action is left as it was.
    pub fn set_action(&mut self, action: ActionId) -> Result<&mut Self, RequestError> {
        if action.fingerprint != self.policy.fingerprint {
            return Err(RequestError::ForeignHandle);
        }
        if !action.is_known() {
            return Err(RequestError::UnknownAction);
        }
        self.action = action.id;
        Ok(self)
    }

    /// Sets the action by name.
    ///
    /// # Errors
    /// [`RequestError::UnknownAction`] for a name the schema does not declare (the
    /// request's action is left as it was).
    pub fn set_action_name(&mut self, name: &str) -> Result<&mut Self, RequestError> {
        self.set_action(self.policy.action(name))
    }

    /// Sets the resource type. A resource type the schema does not declare is
    /// refused, as an undeclared attribute is: it never falls through to `on *` rules.
    ///
    /// # Errors
    /// [`RequestError::ForeignHandle`]; [`RequestError::UnknownResourceType`] for a
    /// handle of a name outside the schema ([`ResourceTypeId::is_known`] false). The
    /// request's resource type is left as it was.
    pub fn set_resource_type(&mut self, ty: ResourceTypeId) -> Result<&mut Self, RequestError> {
        if ty.fingerprint != self.policy.fingerprint {
            return Err(RequestError::ForeignHandle);
        }
        if !ty.is_known() {
            return Err(RequestError::UnknownResourceType);
        }
        self.resource = ty.id;
        Ok(self)
    }

    /// Sets the resource type by name.
    ///
    /// # Errors
    /// [`RequestError::UnknownResourceType`] for a name the schema does not declare
    /// (the request's resource type is left as it was).
    pub fn set_resource_type_name(&mut self, name: &str) -> Result<&mut Self, RequestError> {
        self.set_resource_type(self.policy.resource_type(name))
    }

    /// Unsets every attribute, the action and the resource type.
    pub fn clear(&mut self) {
        self.values.iter_mut().for_each(|v| *v = None);
        self.action = ANY;
        self.resource = ANY;
        self.hits.clear();
    }

    /// Decides the request, consulting only the rules the index selects.
    /// Allocates nothing.
    pub fn evaluate(&mut self) -> Response<'_> {
        let (decision, reason) = self.decide(&mut NoTrace, false);
        self.response(decision, reason)
    }

    /// Decides the request by evaluating every rule whose action and resource type
    /// match, in source order, without the index. Slower; the same result as
    /// [`Request::evaluate`] (a reference for tests and audits), except that it
    /// evaluates more rules and so may exceed [`PolicyLimits::max_steps`](crate::PolicyLimits)
    /// where the indexed evaluation does not.
    pub fn evaluate_scan(&mut self) -> Response<'_> {
        let (decision, reason) = self.decide(&mut NoTrace, true);
        self.response(decision, reason)
    }

    /// Decides the request and explains why each rule the index selected did or
    /// did not apply. Allocates the explanation.
    pub fn explain(&mut self) -> crate::Explanation<'p> {
        let mut rec = Recorder(Vec::new());
        let (decision, reason) = self.decide(&mut rec, false);
        let policy = self.policy;
        let deciding = deciding(&self.hits, reason).map(|h| policy.rule_id(h.rule)).collect();
        crate::explain::build(policy, decision, reason, deciding, &rec.0)
    }

    fn response(&self, decision: Decision, reason: Reason) -> Response<'_> {
        Response {
            decision,
            reason,
            hits: &self.hits,
            policy: self.policy,
        }
    }

    fn decide<T: Trace>(&mut self, trace: &mut T, scan: bool) -> (Decision, Reason) {
        self.hits.clear();
        let mut engine = Engine {
            policy: self.policy,
            values: &self.values,
            action: self.action,
            resource: self.resource,
            budget: self.policy.limits.max_steps,
            hits: &mut self.hits,
            trace,
        };
        let result = if scan { engine.scan() } else { engine.indexed() };
        match result {
            Ok(d) => {
                sort::sort_unstable_by(&mut self.hits, |a, b| a.rule < b.rule);
                d
            }
            Err(OutOfSteps) => {
                self.hits.clear();
                (Decision::Deny, Reason::LimitExceeded)
            }
        }
    }
}

/// The hits that decided, for `reason`.
fn deciding(hits: &[Hit], reason: Reason) -> impl Iterator<Item = &Hit> {
    hits.iter().filter(move |h| match reason {
        Reason::Forbidden => h.effect == Effect::Forbid,
        Reason::Permitted => h.effect == Effect::Permit && h.error.is_none(),
        _ => false,
    })
}

/// A decision with the rules that made it. Borrows the request's scratch space.
#[derive(Clone, Copy, Debug)]
pub struct Response<'r> {
    decision: Decision,
    reason: Reason,
    hits: &'r [Hit],
    policy: &'r PolicySet,
}

impl<'r> Response<'r> {
    /// Allow or deny.
    #[must_use]
    pub const fn decision(&self) -> Decision {
        self.decision
    }

    /// Why.
    #[must_use]
    pub const fn reason(&self) -> Reason {
        self.reason
    }

    /// Whether the request is allowed.
    #[must_use]
    pub fn is_allowed(&self) -> bool {
        self.decision == Decision::Allow
    }

    /// The ids of the rules that decided, in source order: for
    /// [`Reason::Forbidden`] every forbid that applied or errored, for
    /// [`Reason::Permitted`] every permit that applied; none otherwise.
    pub fn rules(&self) -> impl Iterator<Item = &'r str> + use<'r> {
        let policy = self.policy;
        deciding(self.hits, self.reason).map(move |h| policy.rule_id(h.rule))
    }

    /// The rules whose conditions errored, in source order. When a forbid decided,
    /// permits were not evaluated and are not listed.
    pub fn errors(&self) -> impl Iterator<Item = RuleError<'r>> + use<'r> {
        let policy = self.policy;
        self.hits.iter().filter_map(move |h| {
            let e = h.error?;
            Some(RuleError {
                rule: policy.rule_id(h.rule),
                effect: h.effect,
                attribute: policy.attr_name(e.slot),
                kind: e.kind,
            })
        })
    }
}

/// The evaluation ran out of steps.
#[derive(Debug)]
struct OutOfSteps;

/// What happened to one rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    Applies,
    WhenFalse,
    UnlessTrue,
    Error(EvalError),
    OutOfSteps,
}

/// Observes each evaluated rule: nothing on the fast path, a record for explanations.
pub(crate) trait Trace {
    fn rule(&mut self, rule: u32, outcome: Outcome, last_test: Option<u32>);
}

struct NoTrace;

impl Trace for NoTrace {
    #[inline(always)]
    fn rule(&mut self, _: u32, _: Outcome, _: Option<u32>) {}
}

struct Recorder(Vec<(u32, Outcome, Option<u32>)>);

impl Trace for Recorder {
    fn rule(&mut self, rule: u32, outcome: Outcome, last_test: Option<u32>) {
        self.0.push((rule, outcome, last_test));
    }
}

/// The three-valued result register.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tri {
    True,
    False,
    Err(EvalError),
}

impl From<bool> for Tri {
    fn from(b: bool) -> Self {
        if b { Self::True } else { Self::False }
    }
}

enum TestErr {
    Eval(EvalError),
    OutOfSteps,
}

impl From<EvalError> for TestErr {
    fn from(e: EvalError) -> Self {
        Self::Eval(e)
    }
}

struct Engine<'a, 'p, 'v, T> {
    policy: &'p PolicySet,
    values: &'a [Option<Value<'v>>],
    action: u32,
    resource: u32,
    budget: u32,
    hits: &'a mut Vec<Hit>,
    trace: &'a mut T,
}

impl<'v, T: Trace> Engine<'_, '_, 'v, T> {
    fn spend(&mut self, n: usize) -> Result<(), OutOfSteps> {
        let n = u32::try_from(n).map_err(|_| OutOfSteps)?;
        self.budget = self.budget.checked_sub(n).ok_or(OutOfSteps)?;
        Ok(())
    }

    fn permit_result(&self) -> (Decision, Reason) {
        if self.hits.iter().any(|h| h.error.is_none()) {
            (Decision::Allow, Reason::Permitted)
        } else {
            (Decision::Deny, Reason::NoPermit)
        }
    }

    fn indexed(&mut self) -> Result<(Decision, Reason), OutOfSteps> {
        let policy = self.policy;
        let buckets = policy.index.lookup(self.action, self.resource);
        for b in buckets.iter().flatten() {
            self.part(&b.forbid)?;
        }
        if !self.hits.is_empty() {
            return Ok((Decision::Deny, Reason::Forbidden));
        }
        for b in buckets.iter().flatten() {
            self.part(&b.permit)?;
        }
        Ok(self.permit_result())
    }

    fn scan(&mut self) -> Result<(Decision, Reason), OutOfSteps> {
        let policy = self.policy;
        for effect in [Effect::Forbid, Effect::Permit] {
            for (i, rule) in policy.rules.iter().enumerate() {
                if rule.effect == effect && rule.actions.covers(self.action) && rule.resources.covers(self.resource) {
                    self.rule(u32::try_from(i).map_err(|_| OutOfSteps)?)?;
                }
            }
            if effect == Effect::Forbid && !self.hits.is_empty() {
                return Ok((Decision::Deny, Reason::Forbidden));
            }
        }
        Ok(self.permit_result())
    }

    fn value(&self, slot: u16) -> Option<Value<'v>> {
        self.values.get(usize::from(slot)).copied().flatten()
    }

    fn part(&mut self, part: &Part) -> Result<(), OutOfSteps> {
        let policy = self.policy;
        for k in &part.keyed {
            self.spend(1)?;
            match (self.value(k.slot), &k.entries) {
                (Some(Value::String(s)), KeyEntries::Str(e)) => {
                    let h = hash_str(s);
                    let from = e.partition_point(|&(eh, _, _)| eh < h);
                    for &(eh, id, rule) in e.get(from..).unwrap_or_default() {
                        if eh != h {
                            break;
                        }
                        if policy.pools.string(id) == s {
                            self.rule(rule)?;
                        }
                    }
                }
                (Some(Value::Int(n)), KeyEntries::Int(e)) => {
                    let from = e.partition_point(|(v, _)| *v < n);
                    for &(v, rule) in e.get(from..).unwrap_or_default() {
                        if v != n {
                            break;
                        }
                        self.rule(rule)?;
                    }
                }
                // Missing or of the wrong type: every keyed rule errors on it.
                _ => {
                    for &rule in &k.all {
                        self.rule(rule)?;
                    }
                }
            }
        }
        for &rule in &part.residual {
            self.rule(rule)?;
        }
        Ok(())
    }

    fn rule(&mut self, idx: u32) -> Result<(), OutOfSteps> {
        let policy = self.policy;
        let Some(rule) = policy.rules.get(ix(idx)) else {
            return Ok(());
        };
        if rule.check_resource && !rule.resources.covers(self.resource) {
            return Ok(());
        }
        let (outcome, last) = match self.run(rule) {
            Ok(x) => x,
            Err(e) => {
                self.trace.rule(idx, Outcome::OutOfSteps, None);
                return Err(e);
            }
        };
        self.trace.rule(idx, outcome, last);
        let error = match outcome {
            Outcome::Applies => None,
            Outcome::Error(e) => Some(e),
            _ => return Ok(()),
        };
        self.hits.push(Hit {
            rule: idx,
            effect: rule.effect,
            error,
        });
        Ok(())
    }

    /// Runs a rule's program; returns its outcome and the last test executed.
    fn run(&mut self, rule: &Rule) -> Result<(Outcome, Option<u32>), OutOfSteps> {
        self.spend(1)?;
        let code = &self.policy.code;
        let mut r = Tri::True;
        let mut last = None;
        let mut pc = rule.start;
        while pc < rule.end {
            let Some(insn) = code.get(ix(pc)) else { break };
            self.spend(1)?;
            let mut next = pc.saturating_add(1);
            match insn {
                Insn::Const(b) => {
                    r = Tri::from(*b);
                    last = Some(pc);
                }
                Insn::Not => {
                    r = match r {
                        Tri::True => Tri::False,
                        Tri::False => Tri::True,
                        e @ Tri::Err(_) => e,
                    };
                }
                // Jumps only move forward, so every program terminates.
                Insn::JumpUnlessTrue(t) => {
                    if r != Tri::True {
                        next = next.max(*t);
                    }
                }
                Insn::JumpUnlessFalse(t) => {
                    if r != Tri::False {
                        next = next.max(*t);
                    }
                }
                Insn::Test(t) => {
                    r = match self.test(t) {
                        Ok(b) => Tri::from(b),
                        Err(TestErr::Eval(e)) => Tri::Err(e),
                        Err(TestErr::OutOfSteps) => return Err(OutOfSteps),
                    };
                    last = Some(pc);
                }
            }
            pc = next;
        }
        let outcome = match r {
            Tri::True => Outcome::Applies,
            Tri::Err(e) => Outcome::Error(e),
            Tri::False => match (rule.unless_at, last) {
                (Some(u), Some(l)) if l >= u => Outcome::UnlessTrue,
                _ => Outcome::WhenFalse,
            },
        };
        Ok((outcome, last))
    }

    fn read<X>(&self, slot: u16, ty: Type, pick: fn(Value<'v>) -> Option<X>) -> Result<X, EvalError> {
        let v = self.value(slot).ok_or(EvalError {
            slot,
            kind: EvalErrorKind::Missing,
        })?;
        pick(v).ok_or(EvalError {
            slot,
            kind: EvalErrorKind::WrongType {
                expected: ty,
                found: v.ty(),
            },
        })
    }

    fn internal(&self) -> EvalError {
        // Unreachable for compiled programs (the compiler checked the types);
        // reported as an error so it counts against access.
        EvalError {
            slot: u16::MAX,
            kind: EvalErrorKind::Missing,
        }
    }

    fn int_operand(&self, op: Operand) -> Result<i64, EvalError> {
        match op {
            Operand::Int(n) => Ok(n),
            Operand::Attr(o) => self.read(o, Type::Int, as_int),
            _ => Err(self.internal()),
        }
    }

    fn test(&mut self, t: &Test) -> Result<bool, TestErr> {
        let pools = &self.policy.pools;
        Ok(match *t {
            Test::Truthy { slot } => self.read(slot, Type::Bool, as_bool)?,
            Test::Eq { lhs, ty, rhs, negate } => {
                let eq = match ty {
                    Type::String => {
                        let a = self.read(lhs, ty, as_str)?;
                        match rhs {
                            Operand::Str(id) => a == pools.string(id),
                            Operand::Attr(o) => a == self.read(o, ty, as_str)?,
                            _ => return Err(self.internal().into()),
                        }
                    }
                    Type::Int => self.read(lhs, ty, as_int)? == self.int_operand(rhs)?,
                    Type::Bool => {
                        let a = self.read(lhs, ty, as_bool)?;
                        match rhs {
                            Operand::Bool(b) => a == b,
                            Operand::Attr(o) => a == self.read(o, ty, as_bool)?,
                            _ => return Err(self.internal().into()),
                        }
                    }
                    Type::Weekday => {
                        let a = self.read(lhs, ty, as_day)?;
                        match rhs {
                            Operand::Weekday(d) => a == d,
                            Operand::Attr(o) => a == self.read(o, ty, as_day)?,
                            _ => return Err(self.internal().into()),
                        }
                    }
                    Type::StringSet | Type::IntSet => return Err(self.internal().into()),
                };
                eq != negate
            }
            Test::Cmp { lhs, op, rhs } => {
                let a = self.read(lhs, Type::Int, as_int)?;
                let b = self.int_operand(rhs)?;
                match op {
                    CmpOp::Lt => a < b,
                    CmpOp::Le => a <= b,
                    CmpOp::Gt => a > b,
                    CmpOp::Ge => a >= b,
                    CmpOp::Eq => a == b,
                    CmpOp::Ne => a != b,
                }
            }
            Test::WeekdayIn { slot, mask, .. } => mask & self.read(slot, Type::Weekday, as_day)?.bit() != 0,
            Test::StrIn { slot, list } => {
                let s = self.read(slot, Type::String, as_str)?;
                pools
                    .str_list(list)
                    .binary_search_by(|id| pools.string(*id).cmp(s))
                    .is_ok()
            }
            Test::IntIn { slot, list } => {
                let n = self.read(slot, Type::Int, as_int)?;
                pools.int_list(list).binary_search(&n).is_ok()
            }
            Test::IntRange { slot, lo, hi } => {
                let n = self.read(slot, Type::Int, as_int)?;
                lo <= n && n <= hi
            }
            Test::Has { set, elem_ty, elem } => match elem_ty {
                Type::String => {
                    let items = self.read(set, Type::StringSet, as_str_set)?;
                    let e = match elem {
                        Operand::Str(id) => pools.string(id),
                        Operand::Attr(o) => self.read(o, Type::String, as_str)?,
                        _ => return Err(self.internal().into()),
                    };
                    self.spend(items.len()).map_err(|_| TestErr::OutOfSteps)?;
                    items.contains(&e)
                }
                Type::Int => {
                    let items = self.read(set, Type::IntSet, as_int_set)?;
                    let e = self.int_operand(elem)?;
                    self.spend(items.len()).map_err(|_| TestErr::OutOfSteps)?;
                    items.contains(&e)
                }
                _ => return Err(self.internal().into()),
            },
        })
    }
}

fn as_str(v: Value<'_>) -> Option<&str> {
    match v {
        Value::String(s) => Some(s),
        _ => None,
    }
}

fn as_int(v: Value<'_>) -> Option<i64> {
    match v {
        Value::Int(n) => Some(n),
        _ => None,
    }
}

fn as_bool(v: Value<'_>) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(b),
        _ => None,
    }
}

fn as_day(v: Value<'_>) -> Option<Weekday> {
    match v {
        Value::Weekday(d) => Some(d),
        _ => None,
    }
}

fn as_str_set<'v>(v: Value<'v>) -> Option<&'v [&'v str]> {
    match v {
        Value::StringSet(s) => Some(s),
        _ => None,
    }
}

fn as_int_set<'v>(v: Value<'v>) -> Option<&'v [i64]> {
    match v {
        Value::IntSet(s) => Some(s),
        _ => None,
    }
}
