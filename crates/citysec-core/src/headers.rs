//! Header rules shared by every COSE structure (the citysec profile).

use alloc::vec::Vec;

use coset::{Header, Label, ProtectedHeader, RegisteredLabelWithPrivate};

use crate::{Algorithm, Error, Result};

/// Header labels this crate implements (RFC 9052 section 3.1).
const IMPLEMENTED: [i64; 6] = [1, 2, 3, 4, 5, 6];

/// Which `crit` labels a verifier implements beyond the RFC 9052 basics.
///
/// A protected `crit` listing anything else rejects with [`Error::UnknownCrit`].
#[derive(Clone, Copy, Debug, Default)]
pub struct CritPolicy<'a> {
    /// Integer labels the caller processes itself.
    pub understood: &'a [i64],
}

/// The labels present in a header bucket, as coset parsed it.
fn labels(h: &Header) -> Vec<Label> {
    let mut out = Vec::new();
    if h.alg.is_some() {
        out.push(Label::Int(1));
    }
    if !h.crit.is_empty() {
        out.push(Label::Int(2));
    }
    if h.content_type.is_some() {
        out.push(Label::Int(3));
    }
    if !h.key_id.is_empty() {
        out.push(Label::Int(4));
    }
    if !h.iv.is_empty() {
        out.push(Label::Int(5));
    }
    if !h.partial_iv.is_empty() {
        out.push(Label::Int(6));
    }
    if !h.counter_signatures.is_empty() {
        out.push(Label::Int(7));
    }
    out.extend(h.rest.iter().map(|(l, _)| l.clone()));
    out
}

/// Applies the profile to a parsed header pair and returns the protected `alg`.
///
/// Order: duplicate labels across buckets, then `crit`, then `alg`.
pub(crate) fn check(protected: &ProtectedHeader, unprotected: &Header, crit: CritPolicy<'_>) -> Result<Algorithm> {
    let p = &protected.header;
    let in_protected = labels(p);
    if labels(unprotected).iter().any(|l| in_protected.contains(l)) {
        return Err(Error::DuplicateHeaderLabel);
    }
    if !unprotected.crit.is_empty() {
        return Err(Error::CritNotProtected);
    }
    for c in &p.crit {
        let understood = match c {
            RegisteredLabelWithPrivate::Assigned(a) => {
                let id = *a as i64;
                crit.understood.contains(&id) && !IMPLEMENTED.contains(&id)
            }
            RegisteredLabelWithPrivate::PrivateUse(id) => crit.understood.contains(id),
            RegisteredLabelWithPrivate::Text(_) => false,
        };
        if !understood {
            return Err(Error::UnknownCrit);
        }
    }
    let alg = p.alg.as_ref().ok_or(Error::AlgNotProtected)?;
    Algorithm::from_cose(alg).ok_or(Error::UnsupportedAlgorithm)
}

/// The `kid` of a message: protected first, else unprotected (never both: that
/// is a duplicate label).
pub(crate) fn kid<'a>(protected: &'a ProtectedHeader, unprotected: &'a Header) -> Option<&'a [u8]> {
    if !protected.header.key_id.is_empty() {
        Some(&protected.header.key_id)
    } else if !unprotected.key_id.is_empty() {
        Some(&unprotected.key_id)
    } else {
        None
    }
}

/// Maps a coset parse error to ours.
pub(crate) fn from_coset(e: &coset::CoseError) -> Error {
    match e {
        coset::CoseError::DuplicateMapKey => Error::DuplicateMapKey,
        coset::CoseError::ExtraneousData => Error::TrailingBytes,
        _ => Error::Malformed,
    }
}
