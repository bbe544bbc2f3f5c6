//! COSE Receipts (draft-ietf-cose-merkle-tree-proofs) for the RFC9162_SHA256
//! verifiable data structure: a COSE_Sign1 whose signature covers a Merkle
//! root, with the proof that leads to it in the unprotected header.
//!
//! ```text
//! 18([ << {1: alg, 4: kid, 395: 1} >>,          / protected: alg, kid, vds /
//!      {396: {-1: [<< [size, index, [h1, h2, ...]] >>]}},   / vdp: inclusion /
//!      null,                                     / payload: detached root /
//!      signature ])
//! ```
//!
//! - The payload is detached: the verifier recomputes the root from the proof and
//!   the entry, then checks the signature over
//!   `["Signature1", protected, h'', root]`.
//! - Consistency receipts carry `{-2: [<< [size1, size2, [h1, ...]] >>]}`; their
//!   signature covers the newer root.
//! - These are the exceptions docs/cose-profile.md grants receipts alone: a
//!   detached payload, and proofs in the unprotected header.
//! - The tree size and leaf index sit in the unprotected header and are not
//!   signed. A verified receipt reports them as claimed, never as proven (see
//!   docs/audit-log.md, "What a proof does not prove").
//!
//! Receipts citysec writes are in deterministic encoding. The parser also reads
//! receipts of other issuers: any well-formed encoding under citysec's CBOR
//! profile, other header labels ignored, bounded by [`MAX_RECEIPT_LEN`].

use alloc::vec::Vec;

use core::convert::Infallible;

use citysec_core::cbor::write;
use citysec_core::cbor::{Tags, check_well_formed, to_value};
use citysec_core::coset::cbor::Value;
use citysec_core::provider::{Provider, Signer};
use citysec_core::{Algorithm, Limits, VerifyingKey};

use crate::merkle::{Hash, MAX_PROOF_LEN, consistency_root, hash_from_slice, inclusion_root};
use crate::{Error, Result};

/// The COSE header label of the verifiable data structure (`vds`).
pub const LABEL_VDS: i64 = 395;
/// The COSE header label of the verifiable data structure proofs (`vdp`).
pub const LABEL_VDP: i64 = 396;
/// The `vds` value of RFC 9162 Merkle trees with SHA-256.
pub const VDS_RFC9162_SHA256: i64 = 1;
/// The `vdp` key of inclusion proofs.
pub const PROOF_INCLUSION: i64 = -1;
/// The `vdp` key of consistency proofs.
pub const PROOF_CONSISTENCY: i64 = -2;
/// The longest receipt accepted, in bytes.
pub const MAX_RECEIPT_LEN: usize = 8 * 1024;

/// The first byte of a receipt: tag 18 (COSE_Sign1).
const TAG_SIGN1: u8 = 0xd2;

/// Limits of the CBOR items inside a receipt.
const LIMITS: Limits = Limits::new(MAX_RECEIPT_LEN, 8, 128);

/// An inclusion proof as a receipt carries it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InclusionProof {
    /// The tree size the proof is for (not signed).
    pub tree_size: u64,
    /// The leaf's index (not signed).
    pub leaf_index: u64,
    /// The audit path.
    pub path: Vec<Hash>,
}

/// A consistency proof as a receipt carries it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsistencyProof {
    /// The older tree's size (not signed).
    pub size1: u64,
    /// The newer tree's size (not signed).
    pub size2: u64,
    /// The consistency path.
    pub path: Vec<Hash>,
}

/// A parsed receipt, not verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
    protected: Vec<u8>,
    alg: Algorithm,
    kid: Option<Vec<u8>>,
    inclusion: Vec<InclusionProof>,
    consistency: Vec<ConsistencyProof>,
    payload: Option<Vec<u8>>,
    signature: Vec<u8>,
}

fn malformed<T>(_: T) -> Error {
    Error::MalformedReceipt
}

/// The integer value of `v`.
fn int(v: &Value) -> Result<i128> {
    v.as_integer().map(i128::from).ok_or(Error::MalformedReceipt)
}

fn uint(v: &Value) -> Result<u64> {
    u64::try_from(int(v)?).map_err(malformed)
}

/// The value of the integer label `label` in the map `entries`.
fn get(entries: &[(Value, Value)], label: i64) -> Option<&Value> {
    entries
        .iter()
        .find(|(k, _)| k.as_integer().is_some_and(|i| i128::from(i) == i128::from(label)))
        .map(|(_, v)| v)
}

/// A CBOR item inside a byte string (`bstr .cbor`).
fn embedded(bytes: &[u8]) -> Result<Value> {
    check_well_formed(bytes, &LIMITS, Tags::Forbid).map_err(malformed)?;
    to_value(bytes).map_err(malformed)
}

/// `[a, b, [+ bstr]]` with `a`, `b` unsigned and every bstr a hash.
fn proof(item: &Value) -> Result<(u64, u64, Vec<Hash>)> {
    let bytes = item.as_bytes().ok_or(Error::MalformedReceipt)?;
    let v = embedded(bytes)?;
    let [a, b, path] = v.as_array().map(Vec::as_slice).ok_or(Error::MalformedReceipt)? else {
        return Err(Error::MalformedReceipt);
    };
    let path = path.as_array().ok_or(Error::MalformedReceipt)?;
    if path.len() > MAX_PROOF_LEN {
        return Err(Error::ProofLength);
    }
    let path = path
        .iter()
        .map(|h| {
            h.as_bytes()
                .ok_or(Error::MalformedReceipt)
                .and_then(|b| hash_from_slice(b))
        })
        .collect::<Result<Vec<Hash>>>()?;
    Ok((uint(a)?, uint(b)?, path))
}

fn proofs(vdp: &[(Value, Value)], key: i64) -> Result<Vec<(u64, u64, Vec<Hash>)>> {
    match get(vdp, key) {
        None => Ok(Vec::new()),
        Some(v) => v.as_array().ok_or(Error::MalformedReceipt)?.iter().map(proof).collect(),
    }
}

impl Receipt {
    /// Parses a receipt (see the [module](self)).
    ///
    /// # Errors
    /// [`Error::TooLarge`] beyond [`MAX_RECEIPT_LEN`];
    /// [`Error::UnsupportedReceipt`] for a `vds` other than RFC9162_SHA256 or an
    /// algorithm other than EdDSA and ES256; [`Error::ProofLength`] for a path
    /// longer than [`MAX_PROOF_LEN`]; [`Error::HashLength`] for a path entry that
    /// is not 32 bytes; [`Error::MalformedReceipt`] for anything else that is not
    /// a receipt (no tag 18, no `vdp`, neither or both kinds of proof, a
    /// signature that is not 64 bytes, CBOR outside the profile).
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        if bytes.len() > MAX_RECEIPT_LEN {
            return Err(Error::TooLarge);
        }
        let body = match bytes.split_first() {
            Some((&TAG_SIGN1, body)) => body,
            _ => return Err(Error::MalformedReceipt),
        };
        let v = embedded(body)?;
        let [protected, unprotected, payload, signature] =
            v.as_array().map(Vec::as_slice).ok_or(Error::MalformedReceipt)?
        else {
            return Err(Error::MalformedReceipt);
        };
        let protected = protected.as_bytes().ok_or(Error::MalformedReceipt)?.clone();
        let header = embedded(&protected)?;
        let header = header.as_map().ok_or(Error::MalformedReceipt)?;
        let alg = Algorithm::from_cose_id(
            i64::try_from(int(get(header, 1).ok_or(Error::MalformedReceipt)?)?).map_err(malformed)?,
        )
        .filter(|a| matches!(a, Algorithm::EdDSA | Algorithm::ES256))
        .ok_or(Error::UnsupportedReceipt)?;
        if int(get(header, LABEL_VDS).ok_or(Error::MalformedReceipt)?)? != i128::from(VDS_RFC9162_SHA256) {
            return Err(Error::UnsupportedReceipt);
        }
        let kid = match get(header, 4) {
            None => None,
            Some(k) => Some(k.as_bytes().ok_or(Error::MalformedReceipt)?.clone()),
        };
        let unprotected = unprotected.as_map().ok_or(Error::MalformedReceipt)?;
        let vdp = get(unprotected, LABEL_VDP)
            .and_then(Value::as_map)
            .ok_or(Error::MalformedReceipt)?;
        let inclusion: Vec<InclusionProof> = proofs(vdp, PROOF_INCLUSION)?
            .into_iter()
            .map(|(tree_size, leaf_index, path)| InclusionProof {
                tree_size,
                leaf_index,
                path,
            })
            .collect();
        let consistency: Vec<ConsistencyProof> = proofs(vdp, PROOF_CONSISTENCY)?
            .into_iter()
            .map(|(size1, size2, path)| ConsistencyProof { size1, size2, path })
            .collect();
        if inclusion.is_empty() == consistency.is_empty() {
            return Err(Error::MalformedReceipt);
        }
        let payload = match payload {
            Value::Null => None,
            Value::Bytes(b) => Some(b.clone()),
            _ => return Err(Error::MalformedReceipt),
        };
        let signature = signature.as_bytes().ok_or(Error::MalformedReceipt)?.clone();
        if signature.len() != 64 {
            return Err(Error::MalformedReceipt);
        }
        Ok(Self {
            protected,
            alg,
            kid,
            inclusion,
            consistency,
            payload,
            signature,
        })
    }

    /// The signature algorithm.
    #[must_use]
    pub const fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// The key id, if the protected header has one.
    #[must_use]
    pub fn kid(&self) -> Option<&[u8]> {
        self.kid.as_deref()
    }

    /// The inclusion proofs (none in a consistency receipt).
    #[must_use]
    pub fn inclusion_proofs(&self) -> &[InclusionProof] {
        &self.inclusion
    }

    /// The consistency proofs (none in an inclusion receipt).
    #[must_use]
    pub fn consistency_proofs(&self) -> &[ConsistencyProof] {
        &self.consistency
    }

    /// The attached payload, if any (receipts citysec writes detach it).
    #[must_use]
    pub fn payload(&self) -> Option<&[u8]> {
        self.payload.as_deref()
    }

    /// Checks the signature over `root` with `key`, after the attached payload
    /// (if any) is compared with it.
    fn check_signature(&self, provider: &Provider, key: &VerifyingKey, root: &Hash) -> Result<()> {
        if self.payload.as_deref().is_some_and(|p| p != root.as_slice()) {
            return Err(Error::RootMismatch);
        }
        if key.algorithm() != self.alg || self.kid.as_deref().zip(key.kid()).is_some_and(|(a, b)| a != b) {
            return Err(Error::NoKnownSignature);
        }
        let tbs = to_be_signed(&self.protected, root);
        provider
            .verify(key, &tbs, &self.signature)
            .map_err(|_| Error::BadSignature)
    }

    /// Verifies an inclusion receipt for the leaf hash `leaf` with the log's
    /// receipt key `key`: the root the proof leads to, then the signature over
    /// it.
    ///
    /// # Errors
    /// [`Error::MalformedReceipt`] unless the receipt holds exactly one
    /// inclusion proof; as [`inclusion_root`]; [`Error::RootMismatch`] if an
    /// attached payload is not that root; [`Error::NoKnownSignature`] if `key`
    /// is of another algorithm or kid than the receipt's;
    /// [`Error::BadSignature`].
    pub fn verify_inclusion(&self, provider: &Provider, key: &VerifyingKey, leaf: &Hash) -> Result<VerifiedReceipt> {
        let [p] = self.inclusion.as_slice() else {
            return Err(Error::MalformedReceipt);
        };
        let root = inclusion_root(p.leaf_index, p.tree_size, leaf, &p.path)?;
        self.check_signature(provider, key, &root)?;
        Ok(VerifiedReceipt {
            root,
            claimed_size: p.tree_size,
            claimed_index: Some(p.leaf_index),
        })
    }

    /// Verifies a consistency receipt from the tree with root `old_root` (the
    /// one a verifier pinned) with the log's receipt key `key`: the newer root
    /// the proof leads to, then the signature over it. An `old_root` that is not
    /// the one the log extended leads to a root the signature does not cover.
    ///
    /// # Errors
    /// [`Error::MalformedReceipt`] unless the receipt holds exactly one
    /// consistency proof; as [`consistency_root`]; otherwise as
    /// [`Self::verify_inclusion`].
    pub fn verify_consistency(
        &self,
        provider: &Provider,
        key: &VerifyingKey,
        old_root: &Hash,
    ) -> Result<VerifiedReceipt> {
        let [p] = self.consistency.as_slice() else {
            return Err(Error::MalformedReceipt);
        };
        let root = consistency_root(p.size1, p.size2, old_root, &p.path)?;
        self.check_signature(provider, key, &root)?;
        Ok(VerifiedReceipt {
            root,
            claimed_size: p.size2,
            claimed_index: None,
        })
    }
}

/// What a verified receipt proves: the log's key signed `root`, and the entry
/// (or the old tree) is in the tree with that root. The size and index it
/// carries are claims: they are not signed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VerifiedReceipt {
    root: Hash,
    claimed_size: u64,
    claimed_index: Option<u64>,
}

impl VerifiedReceipt {
    /// The signed root.
    #[must_use]
    pub const fn root(&self) -> &Hash {
        &self.root
    }

    /// The tree size the receipt claims (unsigned: pair it with a checkpoint
    /// of that root to know the size).
    #[must_use]
    pub const fn claimed_tree_size(&self) -> u64 {
        self.claimed_size
    }

    /// The leaf index an inclusion receipt claims (unsigned).
    #[must_use]
    pub const fn claimed_leaf_index(&self) -> Option<u64> {
        self.claimed_index
    }
}

/// `["Signature1", protected, h'', root]`.
fn to_be_signed(protected: &[u8], root: &Hash) -> Vec<u8> {
    let mut out = Vec::with_capacity(protected.len().saturating_add(64));
    let Ok(()) = write_tbs(&mut out, protected, root);
    out
}

fn write_tbs(out: &mut Vec<u8>, protected: &[u8], root: &Hash) -> core::result::Result<(), Infallible> {
    write::array(out, 4)?;
    write::text(out, "Signature1")?;
    write::bytes(out, protected)?;
    write::bytes(out, &[])?;
    write::bytes(out, root)
}

/// The protected header `{1: alg, 4: kid, 395: 1}` (kid only if the signer has
/// one), deterministic.
fn protected_header(signer: &dyn Signer) -> Vec<u8> {
    let mut out = Vec::new();
    let kid = signer.kid();
    let Ok(()) = (|| -> core::result::Result<(), Infallible> {
        write::map(&mut out, if kid.is_some() { 3 } else { 2 })?;
        write::uint(&mut out, 1)?;
        write::int(&mut out, signer.algorithm().cose_id())?;
        if let Some(kid) = kid {
            write::uint(&mut out, 4)?;
            write::bytes(&mut out, kid)?;
        }
        write::uint(&mut out, 395)?;
        write::int(&mut out, VDS_RFC9162_SHA256)
    })();
    out
}

/// A receipt for `root` with one proof `[a, b, path]` under `vdp` key `kind`.
fn issue(signer: &dyn Signer, kind: i64, a: u64, b: u64, path: &[Hash], root: &Hash) -> Result<Vec<u8>> {
    if path.len() > MAX_PROOF_LEN {
        return Err(Error::ProofLength);
    }
    let protected = protected_header(signer);
    let signature = signer.sign(&to_be_signed(&protected, root)).map_err(Error::Signing)?;
    let mut proof = Vec::new();
    let mut out = Vec::new();
    let Ok(()) = (|| -> core::result::Result<(), Infallible> {
        write::array(&mut proof, 3)?;
        write::uint(&mut proof, a)?;
        write::uint(&mut proof, b)?;
        write::array(&mut proof, path.len())?;
        for h in path {
            write::bytes(&mut proof, h)?;
        }
        write::tag(&mut out, 18)?;
        write::array(&mut out, 4)?;
        write::bytes(&mut out, &protected)?;
        write::map(&mut out, 1)?;
        write::uint(&mut out, 396)?;
        write::map(&mut out, 1)?;
        write::int(&mut out, kind)?;
        write::array(&mut out, 1)?;
        write::bytes(&mut out, &proof)?;
        write::null(&mut out)?;
        write::bytes(&mut out, &signature)
    })();
    if out.len() > MAX_RECEIPT_LEN {
        return Err(Error::TooLarge);
    }
    Ok(out)
}

/// An inclusion receipt: the log's `signer` signs `root`, the root of the tree of
/// `tree_size` leaves, and the receipt carries the proof of leaf `leaf_index`.
///
/// # Errors
/// [`Error::ProofLength`] for a path longer than [`MAX_PROOF_LEN`];
/// [`Error::Signing`].
pub fn issue_inclusion(
    signer: &dyn Signer,
    tree_size: u64,
    leaf_index: u64,
    path: &[Hash],
    root: &Hash,
) -> Result<Vec<u8>> {
    issue(signer, PROOF_INCLUSION, tree_size, leaf_index, path, root)
}

/// A consistency receipt: the log's `signer` signs `root`, the root of the tree
/// of `size2` leaves, and the receipt carries the proof from `size1`.
///
/// # Errors
/// As [`issue_inclusion`].
pub fn issue_consistency(signer: &dyn Signer, size1: u64, size2: u64, path: &[Hash], root: &Hash) -> Result<Vec<u8>> {
    issue(signer, PROOF_CONSISTENCY, size1, size2, path, root)
}
