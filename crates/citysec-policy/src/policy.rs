//! [`PolicySet`]: a compiled, indexed policy set, and the handles a caller
//! resolves once to build requests.

use alloc::vec::Vec;

use crate::index::{ANY, Index};
use crate::program::{Insn, Pools, Rule};
use crate::value::Type;
use crate::{Effect, PolicyLimits, Request, Schema};

/// A compiled policy set: checked against its schema, indexed by action, resource
/// type and first condition, ready to evaluate requests without allocating.
///
/// Made by [`compile`](crate::compile) or loaded from a signed bundle
/// ([`bundle::load`](crate::bundle::load)).
#[derive(Clone, Debug)]
pub struct PolicySet {
    pub(crate) schema: Schema,
    pub(crate) rules: Vec<Rule>,
    pub(crate) code: Vec<Insn>,
    pub(crate) pools: Pools,
    pub(crate) index: Index,
    pub(crate) limits: PolicyLimits,
    pub(crate) fingerprint: u64,
}

/// A resolved attribute: its request slot and declared type.
///
/// Resolve attribute names once with [`PolicySet::attribute`] and reuse the handle
/// for every request. A handle works with every policy set compiled against the
/// same schema.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Attr {
    pub(crate) slot: u16,
    pub(crate) ty: Type,
    pub(crate) fingerprint: u64,
}

impl Attr {
    /// The attribute's declared type.
    #[must_use]
    pub const fn ty(&self) -> Type {
        self.ty
    }
}

/// A resolved action. A name outside the schema resolves to an unknown handle
/// ([`ActionId::is_known`] false), which [`Request::set_action`](crate::Request::set_action)
/// refuses with [`RequestError::UnknownAction`](crate::RequestError::UnknownAction).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ActionId {
    pub(crate) id: u32,
    pub(crate) fingerprint: u64,
}

impl ActionId {
    /// Whether the schema declares this action.
    #[must_use]
    pub const fn is_known(&self) -> bool {
        self.id != ANY
    }
}

/// A resolved resource type. A name outside the schema resolves to an unknown
/// handle ([`ResourceTypeId::is_known`] false), which
/// [`Request::set_resource_type`](crate::Request::set_resource_type) refuses with
/// [`RequestError::UnknownResourceType`](crate::RequestError::UnknownResourceType).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ResourceTypeId {
    pub(crate) id: u32,
    pub(crate) fingerprint: u64,
}

impl ResourceTypeId {
    /// Whether the schema declares this resource type.
    #[must_use]
    pub const fn is_known(&self) -> bool {
        self.id != ANY
    }
}

impl PolicySet {
    pub(crate) fn new(
        schema: Schema,
        rules: Vec<Rule>,
        code: Vec<Insn>,
        pools: Pools,
        index: Index,
        limits: PolicyLimits,
    ) -> Self {
        let fingerprint = schema.fingerprint();
        Self {
            schema,
            rules,
            code,
            pools,
            index,
            limits,
            fingerprint,
        }
    }

    /// The schema this set was compiled against (with the source's own declarations).
    #[must_use]
    pub const fn schema(&self) -> &Schema {
        &self.schema
    }

    /// The limits this set was compiled with; [`PolicyLimits::max_steps`] bounds
    /// every decision.
    #[must_use]
    pub const fn limits(&self) -> &PolicyLimits {
        &self.limits
    }

    /// Number of rules.
    #[must_use]
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether the set has no rules (it then denies everything).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The rule ids with their effects, in source order.
    pub fn rules(&self) -> impl Iterator<Item = (&str, Effect)> {
        self.rules.iter().map(|r| (&*r.id, r.effect))
    }

    /// The handle of attribute `name` (e.g. `"subject.roles"`), if the schema declares it.
    #[must_use]
    pub fn attribute(&self, name: &str) -> Option<Attr> {
        let slot = self.schema.slot(name)?;
        Some(Attr {
            slot,
            ty: self.schema.attr_type(slot)?,
            fingerprint: self.fingerprint,
        })
    }

    /// The handle of action `name`; see [`ActionId`] for names outside the schema.
    #[must_use]
    pub fn action(&self, name: &str) -> ActionId {
        ActionId {
            id: self.schema.action_id(name).unwrap_or(ANY),
            fingerprint: self.fingerprint,
        }
    }

    /// The handle of resource type `name`; see [`ResourceTypeId`] for names outside
    /// the schema.
    #[must_use]
    pub fn resource_type(&self, name: &str) -> ResourceTypeId {
        ResourceTypeId {
            id: self.schema.resource_id(name).unwrap_or(ANY),
            fingerprint: self.fingerprint,
        }
    }

    /// A new request with every attribute unset, for another action and resource
    /// type until they are set. It allocates its attribute vector and scratch space
    /// once; reuse it with [`Request::clear`].
    #[must_use]
    pub fn request<'v>(&self) -> Request<'_, 'v> {
        Request::new(self)
    }

    pub(crate) fn rule_id(&self, rule: u32) -> &str {
        usize::try_from(rule)
            .ok()
            .and_then(|i| self.rules.get(i))
            .map_or("", |r| &r.id)
    }

    /// Name of attribute slot `slot`.
    pub(crate) fn attr_name(&self, slot: u16) -> &str {
        self.schema.attr_name(slot)
    }

    /// The SHA-256 digest of the compiled form (see docs/policy-language.md,
    /// "Digest"): equal digests mean the same rules, programs and schema.
    #[must_use]
    pub fn digest(&self) -> [u8; 32] {
        crate::digest::digest(self)
    }
}
