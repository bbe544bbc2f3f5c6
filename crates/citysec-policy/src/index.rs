//! The rule index: rules grouped by (action, resource type), and inside each group
//! by the value their first condition requires, so a decision evaluates only the
//! rules that can apply.
//!
//! A rule whose `when` starts with `attr == literal` or `attr in [literals]`
//! (string or integer) is *keyed* on that attribute. Short-circuit evaluation makes
//! skipping it exact: when the request holds a value of the declared type that is
//! not one of the literals, that first test is false, so the rule is not
//! applicable and cannot error. When the attribute is missing or of the wrong
//! type, every rule keyed on it is evaluated (each then errors, which counts
//! against access as the semantics require).

use alloc::vec::Vec;

use crate::ast::Effect;
use crate::program::{Pools, Rule, Scope, ix};
use crate::sort;

/// The id standing for "any action" or "any resource type" in a bucket key, and
/// for an action or resource type outside the schema in a request.
pub(crate) const ANY: u32 = u32::MAX;

/// Resource lists longer than this are not expanded into buckets; the rule goes
/// into the bucket for any resource type and the evaluator checks its list.
const MAX_RESOURCE_EXPANSION: usize = 4;

/// The values a keyed rule's first test accepts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum KeyVals {
    /// String pool ids.
    Str(Vec<u32>),
    Int(Vec<i64>),
}

/// A rule's index key: its first test's attribute and accepted values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Key {
    pub(crate) slot: u16,
    pub(crate) vals: KeyVals,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum KeyEntries {
    /// (hash of the string, string pool id, rule), sorted. Lookups compare
    /// 64-bit hashes in one contiguous array and check the string of each hit.
    Str(Vec<(u64, u32, u32)>),
    /// (value, rule), sorted.
    Int(Vec<(i64, u32)>),
}

/// The rules of one part keyed on one attribute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct KeyIndex {
    pub(crate) slot: u16,
    pub(crate) entries: KeyEntries,
    /// Every rule keyed here once, for requests without a usable value.
    pub(crate) all: Vec<u32>,
}

/// The forbids or the permits of one bucket.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Part {
    pub(crate) keyed: Vec<KeyIndex>,
    pub(crate) residual: Vec<u32>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Bucket {
    pub(crate) forbid: Part,
    pub(crate) permit: Part,
}

/// Buckets sorted by (action, resource type), where [`ANY`] stands for `*`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Index {
    buckets: Vec<((u32, u32), Bucket)>,
}

impl Index {
    /// Builds the index; `keys[i]` is rule `i`'s key. Marks rules whose resource
    /// list is checked at evaluation time.
    pub(crate) fn build(rules: &mut [Rule], keys: &[Option<Key>], pools: &Pools) -> Self {
        let mut placements: Vec<((u32, u32), u32)> = Vec::new();
        for (i, rule) in rules.iter_mut().enumerate() {
            let Ok(id) = u32::try_from(i) else { break };
            let actions: &[u32] = match &rule.actions {
                Scope::All => &[ANY],
                Scope::Only(ids) => ids,
            };
            let resources: &[u32] = match &rule.resources {
                Scope::All => &[ANY],
                Scope::Only(ids) if ids.len() <= MAX_RESOURCE_EXPANSION => ids,
                Scope::Only(_) => {
                    rule.check_resource = true;
                    &[ANY]
                }
            };
            for &a in actions {
                for &r in resources {
                    placements.push(((a, r), id));
                }
            }
        }
        sort::sort_unstable(&mut placements);
        let mut buckets: Vec<((u32, u32), Bucket)> = Vec::new();
        for (key, rule_id) in placements {
            if buckets.last().is_none_or(|(k, _)| *k != key) {
                buckets.push((key, Bucket::default()));
            }
            let Some((_, bucket)) = buckets.last_mut() else {
                continue;
            };
            let Some(rule) = rules.get(ix(rule_id)) else { continue };
            let part = match rule.effect {
                Effect::Forbid => &mut bucket.forbid,
                Effect::Permit => &mut bucket.permit,
            };
            part.add(rule_id, keys.get(ix(rule_id)).and_then(Option::as_ref), pools);
        }
        for (_, b) in &mut buckets {
            b.forbid.finish();
            b.permit.finish();
        }
        Self { buckets }
    }

    /// The bucket for exactly this (action, resource type) key.
    pub(crate) fn get(&self, action: u32, resource: u32) -> Option<&Bucket> {
        self.buckets
            .binary_search_by_key(&(action, resource), |(k, _)| *k)
            .ok()
            .and_then(|i| self.buckets.get(i))
            .map(|(_, b)| b)
    }

    /// The up to four buckets a request for (action, resource) consults; each rule
    /// is in at most one of them.
    pub(crate) fn lookup(&self, action: u32, resource: u32) -> [Option<&Bucket>; 4] {
        let mut out = [None; 4];
        let pairs = [(action, resource), (action, ANY), (ANY, resource), (ANY, ANY)];
        for (i, (a, r)) in pairs.into_iter().enumerate() {
            // A pair repeats when the request's action or resource is ANY itself.
            let dup = pairs.iter().take(i).any(|&p| p == (a, r));
            if !dup && let Some(slot) = out.get_mut(i) {
                *slot = self.get(a, r);
            }
        }
        out
    }
}

impl Part {
    fn add(&mut self, rule: u32, key: Option<&Key>, pools: &Pools) {
        let Some(key) = key else {
            self.residual.push(rule);
            return;
        };
        let pos = match self.keyed.iter().position(|k| k.slot == key.slot) {
            Some(p) => p,
            None => {
                self.keyed.push(KeyIndex {
                    slot: key.slot,
                    entries: match key.vals {
                        KeyVals::Str(_) => KeyEntries::Str(Vec::new()),
                        KeyVals::Int(_) => KeyEntries::Int(Vec::new()),
                    },
                    all: Vec::new(),
                });
                self.keyed.len().saturating_sub(1)
            }
        };
        let Some(k) = self.keyed.get_mut(pos) else { return };
        k.all.push(rule);
        match (&mut k.entries, &key.vals) {
            (KeyEntries::Str(e), KeyVals::Str(v)) => {
                e.extend(v.iter().map(|&s| (hash_str(pools.string(s)), s, rule)));
            }
            (KeyEntries::Int(e), KeyVals::Int(v)) => e.extend(v.iter().map(|&n| (n, rule))),
            // A slot has one type, so its keys have one kind; keep the rule reachable anyway.
            _ => self.residual.push(rule),
        }
    }

    fn finish(&mut self) {
        for k in &mut self.keyed {
            match &mut k.entries {
                KeyEntries::Str(e) => {
                    sort::sort_unstable(e);
                    e.dedup();
                }
                KeyEntries::Int(e) => {
                    sort::sort_unstable(e);
                    e.dedup();
                }
            }
        }
    }
}

/// FNV-1a (64 bit) of a string: the index key of string values. Not a security
/// boundary: every hit is checked against the string itself.
pub(crate) fn hash_str(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in s.as_bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}
