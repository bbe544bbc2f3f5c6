//! [`Schema`]: the attributes, actions and resource types a policy may use.

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::ast::{Decl, Ident, Span};
use crate::error::{Diagnostic, DiagnosticKind, Diagnostics};
use crate::value::Type;
use crate::{PolicyLimits, parser};

/// One declared attribute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct AttrDef {
    pub(crate) name: Box<str>,
    pub(crate) ty: Type,
}

/// The attribute names and types, actions and resource types a policy may use.
///
/// Written in the declaration syntax of the policy language:
///
/// ```text
/// action open, unlock;
/// resource door, gate;
/// subject.roles: set<string>;
/// resource.zone: string;
/// context.hour: int;
/// context.weekday: weekday;
/// ```
///
/// Attributes get their request slots in declaration order. A policy source may
/// add declarations of its own; a name declared twice is an error.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Schema {
    pub(crate) attrs: Vec<AttrDef>,
    attr_index: BTreeMap<Box<str>, u16>,
    pub(crate) actions: Vec<Box<str>>,
    action_index: BTreeMap<Box<str>, u32>,
    pub(crate) resource_types: Vec<Box<str>>,
    resource_index: BTreeMap<Box<str>, u32>,
}

impl Schema {
    /// An empty schema.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses a schema source (declarations only).
    ///
    /// # Errors
    /// Syntax and limit errors, [`DiagnosticKind::DuplicateDeclaration`], and
    /// [`DiagnosticKind::RuleInSchema`] for a rule.
    pub fn parse(src: &str, limits: &PolicyLimits) -> Result<Self, Diagnostics> {
        let ast = parser::parse(src, limits)?;
        let mut errors = Vec::new();
        if let Some(rule) = ast.rules.first() {
            errors.push(Diagnostic::at(
                src,
                rule.start,
                DiagnosticKind::RuleInSchema,
                rule.effect.as_str(),
                "a declaration (`action ...;`, `resource ...;`, `subject.NAME: TYPE;`)",
            ));
        }
        let mut schema = Self::new();
        schema.apply(src, &ast.decls, limits, &mut errors);
        if errors.is_empty() {
            Ok(schema)
        } else {
            Err(Diagnostics(errors))
        }
    }

    /// Adds the declarations parsed from `src`, recording errors.
    pub(crate) fn apply(
        &mut self,
        src: &str,
        decls: &[(Decl<'_>, Span)],
        limits: &PolicyLimits,
        errors: &mut Vec<Diagnostic>,
    ) {
        for (decl, _) in decls {
            match decl {
                Decl::Actions(names) => {
                    for n in names {
                        declare(
                            &mut self.actions,
                            &mut self.action_index,
                            src,
                            n,
                            "action",
                            limits,
                            errors,
                        );
                    }
                }
                Decl::ResourceTypes(names) => {
                    for n in names {
                        declare(
                            &mut self.resource_types,
                            &mut self.resource_index,
                            src,
                            n,
                            "resource type",
                            limits,
                            errors,
                        );
                    }
                }
                Decl::Attribute { name, ty } => {
                    if self.attr_index.contains_key(name.text) {
                        errors.push(Diagnostic::at(
                            src,
                            name.span.start,
                            DiagnosticKind::DuplicateDeclaration,
                            name.text,
                            "an attribute not declared before",
                        ));
                        continue;
                    }
                    let slot = u16::try_from(self.attrs.len())
                        .ok()
                        .filter(|&s| usize::from(s) < limits.max_declarations);
                    let Some(slot) = slot else {
                        errors.push(too_many(src, name.span.start, "attributes", limits));
                        continue;
                    };
                    self.attr_index.insert(name.text.into(), slot);
                    self.attrs.push(AttrDef {
                        name: name.text.into(),
                        ty: *ty,
                    });
                }
            }
        }
    }

    /// The declared type of attribute `name` (e.g. `"subject.roles"`).
    #[must_use]
    pub fn attribute_type(&self, name: &str) -> Option<Type> {
        self.slot(name)
            .and_then(|s| self.attrs.get(usize::from(s)))
            .map(|a| a.ty)
    }

    /// The declared attributes with their types, in declaration (slot) order.
    pub fn attributes(&self) -> impl Iterator<Item = (&str, Type)> {
        self.attrs.iter().map(|a| (&*a.name, a.ty))
    }

    /// The declared actions.
    pub fn actions(&self) -> impl Iterator<Item = &str> {
        self.actions.iter().map(|a| &**a)
    }

    /// The declared resource types.
    pub fn resource_types(&self) -> impl Iterator<Item = &str> {
        self.resource_types.iter().map(|a| &**a)
    }

    pub(crate) fn slot(&self, name: &str) -> Option<u16> {
        self.attr_index.get(name).copied()
    }

    pub(crate) fn action_id(&self, name: &str) -> Option<u32> {
        self.action_index.get(name).copied()
    }

    pub(crate) fn resource_id(&self, name: &str) -> Option<u32> {
        self.resource_index.get(name).copied()
    }

    pub(crate) fn attr_name(&self, slot: u16) -> &str {
        self.attrs.get(usize::from(slot)).map_or("?", |a| &a.name)
    }

    pub(crate) fn attr_type(&self, slot: u16) -> Option<Type> {
        self.attrs.get(usize::from(slot)).map(|a| a.ty)
    }

    /// A fingerprint of the slot layout, carried by request handles.
    pub(crate) fn fingerprint(&self) -> u64 {
        let mut h = Fnv::new();
        for a in &self.attrs {
            h.write(a.name.as_bytes());
            h.write(&[0, ty_code(a.ty)]);
        }
        h.write(&[1]);
        for a in &self.actions {
            h.write(a.as_bytes());
            h.write(&[0]);
        }
        h.write(&[2]);
        for r in &self.resource_types {
            h.write(r.as_bytes());
            h.write(&[0]);
        }
        h.0
    }
}

fn too_many(src: &str, at: usize, what: &str, limits: &PolicyLimits) -> Diagnostic {
    Diagnostic::at(
        src,
        at,
        DiagnosticKind::TooMany,
        format!("more than {} {what}", limits.max_declarations),
        format!(
            "at most {} {what} (PolicyLimits::max_declarations)",
            limits.max_declarations
        ),
    )
}

fn declare(
    list: &mut Vec<Box<str>>,
    index: &mut BTreeMap<Box<str>, u32>,
    src: &str,
    n: &Ident<'_>,
    what: &str,
    limits: &PolicyLimits,
    errors: &mut Vec<Diagnostic>,
) {
    if index.contains_key(n.text) {
        errors.push(Diagnostic::at(
            src,
            n.span.start,
            DiagnosticKind::DuplicateDeclaration,
            n.text,
            format!("an {what} not declared before"),
        ));
        return;
    }
    let id = u32::try_from(list.len())
        .ok()
        .filter(|&i| usize::try_from(i).is_ok_and(|i| i < limits.max_declarations) && i != u32::MAX);
    let Some(id) = id else {
        errors.push(too_many(src, n.span.start, what, limits));
        return;
    };
    index.insert(n.text.into(), id);
    list.push(n.text.into());
}

/// The stable code of a type in fingerprints and digests.
pub(crate) const fn ty_code(ty: Type) -> u8 {
    match ty {
        Type::String => 0,
        Type::Int => 1,
        Type::Bool => 2,
        Type::Weekday => 3,
        Type::StringSet => 4,
        Type::IntSet => 5,
    }
}

/// FNV-1a, 64 bit: a fingerprint, not a security boundary.
struct Fnv(u64);

impl Fnv {
    const fn new() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

/// The candidate closest to `name` by edit distance, if it is close enough to be
/// a likely typo.
pub(crate) fn suggest<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).clamp(1, 3);
    candidates
        .map(|c| (edit_distance(name, c), c))
        .filter(|&(d, _)| d <= limit)
        .min_by_key(|&(d, _)| d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur: Vec<usize> = alloc::vec![0; b.len().saturating_add(1)];
    for (i, ca) in a.chars().enumerate() {
        if let Some(first) = cur.first_mut() {
            *first = i.saturating_add(1);
        }
        for (j, cb) in b.iter().enumerate() {
            let sub = prev.get(j).copied().unwrap_or(0).saturating_add(usize::from(ca != *cb));
            let del = prev.get(j.saturating_add(1)).copied().unwrap_or(0).saturating_add(1);
            let ins = cur.get(j).copied().unwrap_or(0).saturating_add(1);
            if let Some(c) = cur.get_mut(j.saturating_add(1)) {
                *c = sub.min(del).min(ins);
            }
        }
        core::mem::swap(&mut prev, &mut cur);
    }
    prev.get(b.len()).copied().unwrap_or(usize::MAX)
}

/// A list of names for an error message: `a, b, c` (at most eight).
pub(crate) fn name_list<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let mut out = String::new();
    for (i, n) in names.enumerate() {
        if i == 8 {
            out.push_str(", ...");
            break;
        }
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(n);
    }
    out
}
