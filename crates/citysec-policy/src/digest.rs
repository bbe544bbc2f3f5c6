//! The digest of a compiled policy set: SHA-256 over a canonical CBOR encoding of
//! its schema, rules and programs (docs/policy-language.md, "Digest").

use sha2::{Digest, Sha256};

use crate::ast::{CmpOp, Effect};
use crate::policy::PolicySet;
use crate::program::{Insn, Operand, Scope, Test};
use crate::schema::ty_code;
use citysec_core::cbor::write::VecEncoder;

/// The first element of the encoding; changes with the compiled form's layout.
pub(crate) const FORM: &str = "citysec-policy-compiled/1";

pub(crate) fn digest(p: &PolicySet) -> [u8; 32] {
    Sha256::digest(encode(p)).into()
}

/// The canonical encoding the digest covers.
pub(crate) fn encode(p: &PolicySet) -> alloc::vec::Vec<u8> {
    let mut e = VecEncoder::new();
    e.array(5);
    e.text(FORM);
    e.array(p.schema.attrs.len());
    for a in &p.schema.attrs {
        e.array(2);
        e.text(&a.name);
        e.uint(u64::from(ty_code(a.ty)));
    }
    for names in [&p.schema.actions, &p.schema.resource_types] {
        e.array(names.len());
        for n in names {
            e.text(n);
        }
    }
    e.array(p.rules.len());
    for r in &p.rules {
        e.array(6);
        e.text(&r.id);
        e.uint(match r.effect {
            Effect::Permit => 0,
            Effect::Forbid => 1,
        });
        for s in [&r.actions, &r.resources] {
            match s {
                Scope::All => e.null(),
                Scope::Only(ids) => {
                    e.array(ids.len());
                    for id in ids {
                        e.uint(u64::from(*id));
                    }
                }
            }
        }
        match r.unless_at {
            Some(u) => e.uint(u64::from(u.saturating_sub(r.start))),
            None => e.null(),
        }
        let code = usize::try_from(r.start)
            .ok()
            .zip(usize::try_from(r.end).ok())
            .and_then(|(s, t)| p.code.get(s..t))
            .unwrap_or_default();
        e.array(code.len());
        for insn in code {
            insn_enc(&mut e, p, insn, r.start);
        }
    }
    e.0
}

fn insn_enc(e: &mut VecEncoder, p: &PolicySet, insn: &Insn, base: u32) {
    match insn {
        Insn::Const(b) => {
            e.array(2);
            e.uint(0);
            e.boolean(*b);
        }
        Insn::Not => {
            e.array(1);
            e.uint(1);
        }
        Insn::JumpUnlessTrue(t) | Insn::JumpUnlessFalse(t) => {
            e.array(2);
            e.uint(if matches!(insn, Insn::JumpUnlessTrue(_)) { 2 } else { 3 });
            e.uint(u64::from(t.saturating_sub(base)));
        }
        Insn::Test(t) => test_enc(e, p, t),
    }
}

fn operand(e: &mut VecEncoder, p: &PolicySet, op: Operand) {
    e.array(2);
    match op {
        Operand::Str(id) => {
            e.uint(0);
            e.text(p.pools.string(id));
        }
        Operand::Int(n) => {
            e.uint(1);
            e.int(n);
        }
        Operand::Bool(b) => {
            e.uint(2);
            e.boolean(b);
        }
        Operand::Weekday(d) => {
            e.uint(3);
            e.uint(u64::from(d.iso()));
        }
        Operand::Attr(slot) => {
            e.uint(4);
            e.uint(u64::from(slot));
        }
    }
}

const fn op_code(op: CmpOp) -> u64 {
    match op {
        CmpOp::Eq => 0,
        CmpOp::Ne => 1,
        CmpOp::Lt => 2,
        CmpOp::Le => 3,
        CmpOp::Gt => 4,
        CmpOp::Ge => 5,
    }
}

fn test_enc(e: &mut VecEncoder, p: &PolicySet, t: &Test) {
    match *t {
        Test::Truthy { slot } => {
            e.array(2);
            e.uint(10);
            e.uint(u64::from(slot));
        }
        Test::Eq { lhs, ty, rhs, negate } => {
            e.array(5);
            e.uint(11);
            e.uint(u64::from(lhs));
            e.uint(u64::from(ty_code(ty)));
            e.boolean(negate);
            operand(e, p, rhs);
        }
        Test::Cmp { lhs, op, rhs } => {
            e.array(4);
            e.uint(12);
            e.uint(u64::from(lhs));
            e.uint(op_code(op));
            operand(e, p, rhs);
        }
        Test::WeekdayIn { slot, mask, .. } => {
            e.array(3);
            e.uint(13);
            e.uint(u64::from(slot));
            e.uint(u64::from(mask));
        }
        Test::StrIn { slot, list } => {
            e.array(3);
            e.uint(14);
            e.uint(u64::from(slot));
            let items = p.pools.str_list(list);
            e.array(items.len());
            for id in items {
                e.text(p.pools.string(*id));
            }
        }
        Test::IntIn { slot, list } => {
            e.array(3);
            e.uint(15);
            e.uint(u64::from(slot));
            let items = p.pools.int_list(list);
            e.array(items.len());
            for n in items {
                e.int(*n);
            }
        }
        Test::IntRange { slot, lo, hi } => {
            e.array(4);
            e.uint(16);
            e.uint(u64::from(slot));
            e.int(lo);
            e.int(hi);
        }
        Test::Has { set, elem_ty, elem } => {
            e.array(4);
            e.uint(17);
            e.uint(u64::from(set));
            e.uint(u64::from(ty_code(elem_ty)));
            operand(e, p, elem);
        }
    }
}
