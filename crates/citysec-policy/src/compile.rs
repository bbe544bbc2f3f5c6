//! The compiler: resolves names against the schema, checks types, emits each
//! rule's program, finds rules that can never apply or are shadowed, and builds
//! the index.

use alloc::borrow::ToOwned;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::ast::{AttrName, CmpOp, Cond, Effect, Leaf, LeafOp, Lit, LitVal, Operand as AstOperand, ScopeAst, Span};
use crate::error::{Diagnostic, DiagnosticKind, Diagnostics, LineIndex, excerpt};
use crate::index::{Index, Key, KeyVals};
use crate::policy::PolicySet;
use crate::program::{Insn, List, Operand, Pools, Rule, Scope, Test};
use crate::schema::{name_list, suggest};
use crate::sort;
use crate::value::Type;
use crate::{PolicyLimits, Schema, parser};

/// A compiled policy set and the warnings found while compiling it.
#[derive(Debug)]
#[must_use]
pub struct Compiled {
    /// The policy set, ready to evaluate.
    pub policy: PolicySet,
    /// Rules that can never apply or are shadowed by a forbid without conditions.
    pub warnings: Vec<Diagnostic>,
}

/// Parses and compiles `source` against `schema`.
///
/// Declarations in `source` extend (a copy of) `schema`. Every error found is
/// reported, in source order; syntax errors stop at the first.
///
/// # Errors
/// Every [`DiagnosticKind`] of [`Severity::Error`](crate::Severity::Error).
pub fn compile(schema: &Schema, source: &str, limits: &PolicyLimits) -> Result<Compiled, Diagnostics> {
    let ast = parser::parse(source, limits)?;
    let mut errors = Vec::new();
    let mut schema = schema.clone();
    schema.apply(source, &ast.decls, limits, &mut errors);

    let lines = LineIndex::new(source);
    let mut c = Compiler {
        src: source,
        schema: &schema,
        code: Vec::new(),
        pools: Pools::default(),
        interned: BTreeMap::new(),
        errors: &mut errors,
    };
    let mut first_use: BTreeMap<&str, usize> = BTreeMap::new();
    let mut rules = Vec::with_capacity(ast.rules.len());
    let mut keys = Vec::with_capacity(ast.rules.len());
    let mut warnings = Vec::new();
    let mut unconditional_forbids = Vec::new();

    for r in &ast.rules {
        if r.id.is_empty() {
            c.err(
                r.id_span.start,
                DiagnosticKind::Syntax,
                "\"\"",
                "a non-empty rule id".into(),
                String::new(),
            );
        } else if let Some(&first) = first_use.get(r.id.as_str()) {
            let note = format!("first used at line {}", lines.line(first));
            c.err(
                r.id_span.start,
                DiagnosticKind::DuplicateRuleId,
                c.text(r.id_span),
                "a rule id not used before".into(),
                note,
            );
        } else {
            first_use.insert(&r.id, r.id_span.start);
        }
        let actions = c.scope(&r.actions, true);
        let resources = c.scope(&r.resources, false);

        let start = c.pc();
        let (key, top) = match &r.when {
            Some(w) => c.top_when(w),
            None => (None, Vec::new()),
        };
        let mut unless_at = None;
        if let Some(u) = &r.unless {
            let jump = if r.when.is_some() {
                c.emit(Insn::JumpUnlessTrue(0));
                Some(c.code.len().saturating_sub(1))
            } else {
                None
            };
            unless_at = Some(c.pc());
            c.cond(u);
            c.emit(Insn::Not);
            let end = c.pc();
            if let Some(Insn::JumpUnlessTrue(t)) = jump.and_then(|j| c.code.get_mut(j)) {
                *t = end;
            }
        }
        let end = c.pc();

        let when_const = r.when.as_ref().map_or(Some(true), constant);
        let unless_const = r.unless.as_ref().map_or(Some(false), constant);
        let never = if when_const == Some(false) {
            Some("its `when` condition is always false")
        } else if unless_const == Some(true) {
            Some("its `unless` condition is always true")
        } else if contradictory(&top, &c.pools) {
            Some("the tests on one attribute in its `when` condition exclude each other")
        } else {
            None
        };
        if let Some(why) = never {
            let mut note = String::from(why);
            if r.effect == Effect::Forbid {
                note.push_str("; it still denies when evaluating its condition errors");
            }
            warnings.push(
                Diagnostic::at(source, r.start, DiagnosticKind::NeverApplies, c.text(r.id_span), "").with_note(note),
            );
        }
        if r.effect == Effect::Forbid && when_const == Some(true) && unless_const == Some(false) {
            unconditional_forbids.push(rules.len());
        }
        rules.push(Rule {
            id: r.id.as_str().into(),
            effect: r.effect,
            actions,
            resources,
            start,
            end,
            unless_at,
            line: lines.line(r.start),
            check_resource: false,
        });
        keys.push(key);
    }
    if c.code.len() >= usize::try_from(u32::MAX).unwrap_or(usize::MAX) {
        c.err(
            0,
            DiagnosticKind::TooMany,
            "too many conditions",
            "a smaller policy".into(),
            String::new(),
        );
    }
    let Compiler { code, pools, .. } = c;

    // A permit whose actions and resource types an unconditional forbid covers never allows.
    for (i, (rule, r)) in rules.iter().zip(&ast.rules).enumerate() {
        if rule.effect != Effect::Permit {
            continue;
        }
        // At most SHADOW_CHECK_FORBIDS forbids per permit: checking every permit
        // against every forbid would be quadratic in the rule count.
        let shadow = unconditional_forbids
            .iter()
            .take(SHADOW_CHECK_FORBIDS)
            .filter_map(|&f| rules.get(f))
            .find(|f| covers(&f.actions, &rule.actions) && covers(&f.resources, &rule.resources));
        if let Some(f) = shadow {
            let note = format!(
                "forbid \"{}\" at line {} has no condition and covers all its actions and resource types",
                f.id, f.line
            );
            let found = ast
                .rules
                .get(i)
                .map_or("", |x| source.get(x.id_span.start..x.id_span.end).unwrap_or(""));
            warnings.push(
                Diagnostic::at(source, r.start, DiagnosticKind::ShadowedByForbid, excerpt(found), "").with_note(note),
            );
        }
    }

    sort::sort_stable_by_key(&mut warnings, |d| (d.line, d.column));
    if !errors.is_empty() {
        sort::sort_stable_by_key(&mut errors, |d| (d.line, d.column));
        return Err(Diagnostics(errors));
    }
    let index = Index::build(&mut rules, &keys, &pools);
    Ok(Compiled {
        policy: PolicySet::new(schema, rules, code, pools, index, *limits),
        warnings,
    })
}

/// How many forbids without conditions (the first, in source order) each permit is
/// checked against for the "shadowed by an unconditional forbid" warning, so that
/// the check stays linear in the number of rules.
const SHADOW_CHECK_FORBIDS: usize = 64;

/// Whether scope `outer` includes every id of `inner` (`*` includes unknown ids,
/// so only `*` covers `*`).
fn covers(outer: &Scope, inner: &Scope) -> bool {
    match (outer, inner) {
        (Scope::All, _) => true,
        (Scope::Only(_), Scope::All) => false,
        (Scope::Only(o), Scope::Only(i)) => i.iter().all(|x| o.binary_search(x).is_ok()),
    }
}

/// The value of a condition that does not depend on the request, if any.
fn constant(c: &Cond<'_>) -> Option<bool> {
    match c {
        Cond::Const(b) => Some(*b),
        Cond::Not(inner) => constant(inner).map(|b| !b),
        Cond::And(v) => {
            let vals: Vec<Option<bool>> = v.iter().map(constant).collect();
            if vals.contains(&Some(false)) {
                Some(false)
            } else if vals.iter().all(|x| *x == Some(true)) {
                Some(true)
            } else {
                None
            }
        }
        Cond::Or(v) => {
            let vals: Vec<Option<bool>> = v.iter().map(constant).collect();
            if vals.contains(&Some(true)) {
                Some(true)
            } else if vals.iter().all(|x| *x == Some(false)) {
                Some(false)
            } else {
                None
            }
        }
        Cond::Leaf(_) => None,
    }
}

/// What the top-level tests of a `when` allow for one attribute.
enum Facts {
    Str {
        only: Option<Vec<u32>>,
        not: Vec<u32>,
    },
    Int {
        lo: i64,
        hi: i64,
        only: Option<Vec<i64>>,
        not: Vec<i64>,
    },
    Day(u8),
    Bool(u8),
}

/// Whether the conjunction of `tests` is false for every request.
fn contradictory(tests: &[Option<Test>], pools: &Pools) -> bool {
    let mut facts: Vec<(u16, Facts)> = Vec::new();
    let mut get = |slot: u16, init: Facts| -> usize {
        if let Some(p) = facts.iter().position(|(s, _)| *s == slot) {
            p
        } else {
            facts.push((slot, init));
            facts.len().saturating_sub(1)
        }
    };
    let str_facts = || Facts::Str {
        only: None,
        not: Vec::new(),
    };
    let int_facts = || Facts::Int {
        lo: i64::MIN,
        hi: i64::MAX,
        only: None,
        not: Vec::new(),
    };
    let mut updates: Vec<(usize, Update)> = Vec::new();
    for t in tests.iter().flatten() {
        let u = match *t {
            Test::Truthy { slot } => (get(slot, Facts::Bool(3)), Update::Bool(1)),
            Test::Eq { lhs, rhs, negate, .. } => match rhs {
                Operand::Str(id) => (get(lhs, str_facts()), Update::Str(alloc::vec![id], negate)),
                Operand::Int(n) if negate => (get(lhs, int_facts()), Update::IntNot(n)),
                Operand::Int(n) => (get(lhs, int_facts()), Update::IntRange(n, n)),
                Operand::Bool(b) => (get(lhs, Facts::Bool(3)), Update::Bool(if b != negate { 1 } else { 2 })),
                Operand::Weekday(d) => (
                    get(lhs, Facts::Day(0x7f)),
                    Update::Day(if negate { !d.bit() } else { d.bit() }),
                ),
                Operand::Attr(_) => continue,
            },
            Test::Cmp {
                lhs,
                op,
                rhs: Operand::Int(n),
            } => {
                let (lo, hi) = match op {
                    CmpOp::Lt => match n.checked_sub(1) {
                        Some(m) => (i64::MIN, m),
                        None => (1, 0),
                    },
                    CmpOp::Le => (i64::MIN, n),
                    CmpOp::Gt => match n.checked_add(1) {
                        Some(m) => (m, i64::MAX),
                        None => (1, 0),
                    },
                    CmpOp::Ge => (n, i64::MAX),
                    CmpOp::Eq | CmpOp::Ne => continue,
                };
                (get(lhs, int_facts()), Update::IntRange(lo, hi))
            }
            Test::WeekdayIn { slot, mask, .. } => (get(slot, Facts::Day(0x7f)), Update::Day(mask)),
            Test::StrIn { slot, list } => (
                get(slot, str_facts()),
                Update::Str(pools.str_list(list).to_vec(), false),
            ),
            Test::IntIn { slot, list } => (get(slot, int_facts()), Update::IntOnly(pools.int_list(list).to_vec())),
            Test::IntRange { slot, lo, hi } => (get(slot, int_facts()), Update::IntRange(lo, hi)),
            Test::Cmp { .. } | Test::Has { .. } => continue,
        };
        updates.push(u);
    }
    for (i, u) in updates {
        if let Some((_, f)) = facts.get_mut(i) {
            u.apply(f);
        }
    }
    facts.iter().any(|(_, f)| f.is_empty())
}

enum Update {
    Str(Vec<u32>, bool),
    IntRange(i64, i64),
    IntNot(i64),
    IntOnly(Vec<i64>),
    Day(u8),
    Bool(u8),
}

impl Update {
    fn apply(self, f: &mut Facts) {
        match (self, f) {
            (Self::Str(ids, true), Facts::Str { not, .. }) => not.extend(ids),
            (Self::Str(ids, false), Facts::Str { only, .. }) => match only {
                Some(o) => o.retain(|x| ids.contains(x)),
                None => *only = Some(ids),
            },
            (Self::IntRange(a, b), Facts::Int { lo, hi, .. }) => {
                *lo = (*lo).max(a);
                *hi = (*hi).min(b);
            }
            (Self::IntNot(n), Facts::Int { not, .. }) => not.push(n),
            (Self::IntOnly(v), Facts::Int { only, .. }) => match only {
                Some(o) => o.retain(|x| v.contains(x)),
                None => *only = Some(v),
            },
            (Self::Day(m), Facts::Day(mask)) => *mask &= m,
            (Self::Bool(m), Facts::Bool(mask)) => *mask &= m,
            _ => {}
        }
    }
}

impl Facts {
    fn is_empty(&self) -> bool {
        match self {
            Self::Str { only: Some(o), not } => o.iter().all(|x| not.contains(x)),
            Self::Str { only: None, .. } => false,
            Self::Int { lo, hi, only, not } => {
                if lo > hi {
                    return true;
                }
                match only {
                    Some(o) => !o.iter().any(|x| x >= lo && x <= hi && !not.contains(x)),
                    None => lo == hi && not.contains(lo),
                }
            }
            Self::Day(mask) => mask & 0x7f == 0,
            Self::Bool(mask) => *mask == 0,
        }
    }
}

struct Compiler<'a, 's> {
    src: &'s str,
    schema: &'a Schema,
    code: Vec<Insn>,
    pools: Pools,
    interned: BTreeMap<String, u32>,
    errors: &'a mut Vec<Diagnostic>,
}

impl<'s> Compiler<'_, 's> {
    fn text(&self, span: Span) -> &'s str {
        self.src.get(span.start..span.end).unwrap_or("")
    }

    fn err(&mut self, at: usize, kind: DiagnosticKind, found: &str, expected: String, note: String) {
        self.errors
            .push(Diagnostic::at(self.src, at, kind, excerpt(found), expected).with_note(note));
    }

    fn pc(&self) -> u32 {
        u32::try_from(self.code.len()).unwrap_or(u32::MAX)
    }

    fn emit(&mut self, insn: Insn) {
        self.code.push(insn);
    }

    fn intern(&mut self, s: &str) -> u32 {
        if let Some(&id) = self.interned.get(s) {
            return id;
        }
        let id = u32::try_from(self.pools.strings.len()).unwrap_or(u32::MAX);
        self.pools.strings.push(s.into());
        self.interned.insert(s.to_owned(), id);
        id
    }

    fn scope(&mut self, s: &ScopeAst<'_>, actions: bool) -> Scope {
        let names = match s {
            ScopeAst::All => return Scope::All,
            ScopeAst::List(names) => names,
        };
        let mut ids = Vec::with_capacity(names.len());
        for n in names {
            let id = if actions {
                self.schema.action_id(n.text)
            } else {
                self.schema.resource_id(n.text)
            };
            match id {
                Some(id) => ids.push(id),
                None => {
                    let (kind, what, known): (_, _, Vec<&str>) = if actions {
                        (
                            DiagnosticKind::UnknownAction,
                            "an action",
                            self.schema.actions().collect(),
                        )
                    } else {
                        (
                            DiagnosticKind::UnknownResourceType,
                            "a resource type",
                            self.schema.resource_types().collect(),
                        )
                    };
                    let note = hint(n.text, &known);
                    self.err(
                        n.span.start,
                        kind,
                        n.text,
                        format!("{what} declared in the schema"),
                        note,
                    );
                }
            }
        }
        sort::sort_unstable(&mut ids);
        ids.dedup();
        Scope::Only(ids)
    }

    /// Emits a top-level `when` and returns its index key and, for a conjunction,
    /// the test of each conjunct that is a leaf.
    fn top_when(&mut self, c: &Cond<'_>) -> (Option<Key>, Vec<Option<Test>>) {
        let tops = match c {
            Cond::And(v) => self.chain(v, true),
            other => alloc::vec![self.cond(other)],
        };
        let key = tops.first().copied().flatten().and_then(|t| self.key(&t));
        (key, tops)
    }

    fn key(&self, t: &Test) -> Option<Key> {
        let (slot, vals) = match *t {
            Test::Eq {
                lhs,
                rhs: Operand::Str(id),
                negate: false,
                ..
            } => (lhs, KeyVals::Str(alloc::vec![id])),
            Test::Eq {
                lhs,
                rhs: Operand::Int(n),
                negate: false,
                ..
            } => (lhs, KeyVals::Int(alloc::vec![n])),
            Test::StrIn { slot, list } => (slot, KeyVals::Str(self.pools.str_list(list).to_vec())),
            Test::IntIn { slot, list } => (slot, KeyVals::Int(self.pools.int_list(list).to_vec())),
            _ => return None,
        };
        Some(Key { slot, vals })
    }

    /// Emits a condition; returns its test if it is a leaf.
    fn cond(&mut self, c: &Cond<'_>) -> Option<Test> {
        match c {
            Cond::Const(b) => {
                self.emit(Insn::Const(*b));
                None
            }
            Cond::Not(inner) => {
                self.cond(inner);
                self.emit(Insn::Not);
                None
            }
            Cond::And(v) => {
                self.chain(v, true);
                None
            }
            Cond::Or(v) => {
                self.chain(v, false);
                None
            }
            Cond::Leaf(l) => {
                let t = self.leaf(l);
                self.emit(t.map_or(Insn::Const(false), Insn::Test));
                t
            }
        }
    }

    /// `a and b and c` (or `or`): each operand but the last is followed by a
    /// jump to the end that is taken unless the register is true (false for `or`).
    fn chain(&mut self, v: &[Cond<'_>], and: bool) -> Vec<Option<Test>> {
        let mut patches = Vec::with_capacity(v.len());
        let mut tests = Vec::with_capacity(v.len());
        let last = v.len().saturating_sub(1);
        for (i, x) in v.iter().enumerate() {
            tests.push(self.cond(x));
            if i < last {
                patches.push(self.code.len());
                self.emit(if and {
                    Insn::JumpUnlessTrue(0)
                } else {
                    Insn::JumpUnlessFalse(0)
                });
            }
        }
        let end = self.pc();
        for p in patches {
            if let Some(Insn::JumpUnlessTrue(t) | Insn::JumpUnlessFalse(t)) = self.code.get_mut(p) {
                *t = end;
            }
        }
        tests
    }

    fn resolve(&mut self, a: &AttrName<'_>) -> Option<(u16, Type)> {
        if let Some(slot) = self.schema.slot(a.text)
            && let Some(ty) = self.schema.attr_type(slot)
        {
            return Some((slot, ty));
        }
        let known: Vec<&str> = self.schema.attributes().map(|(n, _)| n).collect();
        let note = hint(a.text, &known);
        self.err(
            a.span.start,
            DiagnosticKind::UnknownAttribute,
            a.text,
            "an attribute declared in the schema".into(),
            note,
        );
        None
    }

    fn mismatch(&mut self, at: usize, found: &str, expected: String) {
        self.err(at, DiagnosticKind::TypeMismatch, found, expected, String::new());
    }

    fn leaf(&mut self, l: &Leaf<'_>) -> Option<Test> {
        let (slot, ty) = self.resolve(&l.lhs)?;
        let lhs = l.lhs.text;
        match &l.op {
            LeafOp::Truthy => {
                if ty == Type::Bool {
                    return Some(Test::Truthy { slot });
                }
                let expected = match ty {
                    Type::StringSet | Type::IntSet => format!("`has` after {lhs} ({ty}), e.g. `{lhs} has ...`"),
                    _ => format!("an operator after {lhs} ({ty}) such as `==` or `in`; only a bool stands alone"),
                };
                self.mismatch(l.lhs.span.start, lhs, expected);
                None
            }
            LeafOp::Cmp(op, rhs) => {
                if ty.element().is_some() {
                    let expected = format!("`has` to test membership of {lhs} ({ty}); sets are not compared");
                    self.mismatch(l.lhs.span.start, self.text(l.span), expected);
                    return None;
                }
                let rhs = self.operand(rhs, ty, lhs)?;
                match op {
                    CmpOp::Eq | CmpOp::Ne => Some(Test::Eq {
                        lhs: slot,
                        ty,
                        rhs,
                        negate: *op == CmpOp::Ne,
                    }),
                    _ if ty == Type::Int => Some(Test::Cmp {
                        lhs: slot,
                        op: *op,
                        rhs,
                    }),
                    _ => {
                        let expected = format!(
                            "`==` or `!=`: `{}` orders integers only, and {lhs} is {ty}",
                            op.as_str()
                        );
                        self.mismatch(l.span.start, self.text(l.span), expected);
                        None
                    }
                }
            }
            LeafOp::InList(items, span) => self.in_list(slot, ty, lhs, items, *span),
            LeafOp::InRange(lo, hi) => self.in_range(slot, ty, lhs, lo, hi),
            LeafOp::InAttr(set) => {
                let (set_slot, set_ty) = self.resolve(set)?;
                if set_ty.element() == Some(ty) {
                    Some(Test::Has {
                        set: set_slot,
                        elem_ty: ty,
                        elem: Operand::Attr(slot),
                    })
                } else {
                    let want = match ty {
                        Type::String => "a set<string> attribute",
                        Type::Int => "a set<int> attribute",
                        _ => "a list, a range or a set attribute of the same element type",
                    };
                    let expected = format!("{want} after `{lhs} in` ({lhs} is {ty}; {} is {set_ty})", set.text);
                    self.mismatch(set.span.start, set.text, expected);
                    None
                }
            }
            LeafOp::Has(operand) => {
                let Some(elem_ty) = ty.element() else {
                    let expected = format!("a set attribute before `has` ({lhs} is {ty}); use `==` or `in`");
                    self.mismatch(l.lhs.span.start, lhs, expected);
                    return None;
                };
                let elem = self.operand(operand, elem_ty, lhs)?;
                Some(Test::Has {
                    set: slot,
                    elem_ty,
                    elem,
                })
            }
        }
    }

    fn operand(&mut self, o: &AstOperand<'_>, want: Type, lhs: &str) -> Option<Operand> {
        match o {
            AstOperand::Lit(l) => {
                if l.val.ty() != want {
                    let expected = format!("{} (to match {lhs})", describe(want));
                    self.mismatch(l.span.start, self.text(l.span), expected);
                    return None;
                }
                Some(self.lit(l))
            }
            AstOperand::Attr(a) => {
                let (slot, ty) = self.resolve(a)?;
                if ty != want {
                    let expected = format!("{} attribute (to match {lhs}), not {ty}", want.as_str());
                    self.mismatch(a.span.start, a.text, expected);
                    return None;
                }
                Some(Operand::Attr(slot))
            }
        }
    }

    fn lit(&mut self, l: &Lit) -> Operand {
        match &l.val {
            LitVal::Str(s) => Operand::Str(self.intern(s)),
            LitVal::Int(n) => Operand::Int(*n),
            LitVal::Bool(b) => Operand::Bool(*b),
            LitVal::Weekday(d) => Operand::Weekday(*d),
        }
    }

    fn in_list(&mut self, slot: u16, ty: Type, lhs: &str, items: &[Lit], span: Span) -> Option<Test> {
        if items.is_empty() {
            self.err(
                span.start,
                DiagnosticKind::EmptyList,
                "[]",
                "a list with at least one value".into(),
                String::new(),
            );
            return None;
        }
        if !matches!(ty, Type::String | Type::Int | Type::Weekday) {
            let expected = format!("a string, int or weekday attribute before `in [...]` ({lhs} is {ty})");
            self.mismatch(span.start, self.text(span), expected);
            return None;
        }
        let mut ok = true;
        for item in items {
            if item.val.ty() != ty {
                let expected = format!("{} in the list (to match {lhs})", describe(ty));
                self.mismatch(item.span.start, self.text(item.span), expected);
                ok = false;
            }
        }
        if !ok {
            return None;
        }
        match ty {
            Type::String => {
                let mut ids: Vec<u32> = items
                    .iter()
                    .filter_map(|i| match &i.val {
                        LitVal::Str(s) => Some(s.as_str()),
                        _ => None,
                    })
                    .collect::<Vec<&str>>()
                    .into_iter()
                    .map(|s| self.intern(s))
                    .collect();
                let pools = &self.pools;
                sort::sort_unstable_by(&mut ids, |a, b| pools.string(*a) < pools.string(*b));
                ids.dedup();
                let list = push_list(&mut self.pools.str_lists, &ids)?;
                Some(Test::StrIn { slot, list })
            }
            Type::Int => {
                let mut ns: Vec<i64> = items
                    .iter()
                    .filter_map(|i| match i.val {
                        LitVal::Int(n) => Some(n),
                        _ => None,
                    })
                    .collect();
                sort::sort_unstable(&mut ns);
                ns.dedup();
                let list = push_list(&mut self.pools.int_lists, &ns)?;
                Some(Test::IntIn { slot, list })
            }
            _ => {
                let mask = items.iter().fold(0u8, |m, i| match i.val {
                    LitVal::Weekday(d) => m | d.bit(),
                    _ => m,
                });
                Some(Test::WeekdayIn {
                    slot,
                    mask,
                    range: None,
                })
            }
        }
    }

    fn in_range(&mut self, slot: u16, ty: Type, lhs: &str, lo: &Lit, hi: &Lit) -> Option<Test> {
        match (ty, &lo.val, &hi.val) {
            (Type::Int, LitVal::Int(a), LitVal::Int(b)) => {
                if a <= b {
                    return Some(Test::IntRange { slot, lo: *a, hi: *b });
                }
                let found = format!("{a}..{b}");
                self.err(
                    lo.span.start,
                    DiagnosticKind::EmptyRange,
                    &found,
                    "a range whose start is not after its end (both ends are included)".into(),
                    "for a range that wraps, such as 22..6, write `x >= 22 or x <= 6`".into(),
                );
                None
            }
            (Type::Weekday, LitVal::Weekday(a), LitVal::Weekday(b)) => Some(Test::WeekdayIn {
                slot,
                mask: a.range_mask(*b),
                range: Some((*a, *b)),
            }),
            (Type::Int | Type::Weekday, _, _) => {
                let bad = if lo.val.ty() == ty { hi } else { lo };
                let expected = format!("{} as a range bound (to match {lhs})", describe(ty));
                self.mismatch(bad.span.start, self.text(bad.span), expected);
                None
            }
            _ => {
                let expected = format!("an int or weekday attribute before a range ({lhs} is {ty})");
                self.mismatch(lo.span.start, self.text(lo.span), expected);
                None
            }
        }
    }
}

fn push_list<T: Copy>(pool: &mut Vec<T>, items: &[T]) -> Option<List> {
    let start = u32::try_from(pool.len()).ok()?;
    let len = u32::try_from(items.len()).ok()?;
    pool.extend_from_slice(items);
    Some(List { start, len })
}

fn describe(ty: Type) -> &'static str {
    match ty {
        Type::String => "a string",
        Type::Int => "an integer",
        Type::Bool => "`true` or `false`",
        Type::Weekday => "a weekday (`mon` .. `sun`)",
        Type::StringSet => "a set of strings",
        Type::IntSet => "a set of integers",
    }
}

/// "did you mean `x`?" or the list of declared names.
fn hint(name: &str, known: &[&str]) -> String {
    if let Some(s) = suggest(name, known.iter().copied()) {
        format!("did you mean `{s}`?")
    } else if known.is_empty() {
        "the schema declares none".into()
    } else {
        format!("declared: {}", name_list(known.iter().copied()))
    }
}
