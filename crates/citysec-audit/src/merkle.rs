//! RFC 9162 Merkle trees (section 2.1): hashing, the compact range a log appends
//! with, and inclusion and consistency proofs.
//!
//! - A leaf is `SHA-256(0x00 ‖ entry)`, an interior node
//!   `SHA-256(0x01 ‖ left ‖ right)`, the empty tree `SHA-256()` (of no bytes).
//! - A tree of `n > 1` leaves splits at `k`, the largest power of two below `n`:
//!   its root is the node of the roots of the first `k` leaves and of the rest.
//! - An inclusion proof is the audit path of RFC 9162 section 2.1.3, a
//!   consistency proof the one of section 2.1.4; both are verified by the
//!   algorithms of sections 2.1.3.2 and 2.1.4.2, after a check that the proof has
//!   exactly the number of hashes the tree sizes call for (so the work is bounded
//!   by the sizes, whatever the proof).
//!
//! Consistency between two trees is only defined for `0 < size1 <= size2`: a proof
//! from the empty tree proves nothing and is refused ([`Error::EmptyTree`]); two
//! trees of the same size are consistent when their roots are equal and the
//! proof is empty.

use alloc::vec::Vec;

use sha2::{Digest as _, Sha256};

use crate::{Error, Result};

/// Bytes in a hash (SHA-256).
pub const HASH_LEN: usize = 32;

/// A SHA-256 hash: a leaf hash, a node hash or a root.
pub type Hash = [u8; HASH_LEN];

/// The longest proof of either kind for trees of up to `u64::MAX` leaves: 64
/// hashes for an inclusion proof, 65 for a consistency proof.
pub const MAX_PROOF_LEN: usize = 65;

/// The hash of the leaf `entry`: `SHA-256(0x00 ‖ entry)`.
#[must_use]
pub fn leaf_hash(entry: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0x00]);
    h.update(entry);
    h.finalize().into()
}

/// SHA-256's initial state (FIPS 180-4 section 5.3.3).
const SHA256_IV: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

/// The hash of an interior node: `SHA-256(0x01 ‖ left ‖ right)`.
///
/// The 65-byte message is always two blocks, so they are laid out here, padding
/// included, and handed to SHA-256's compression function directly (every proof
/// step and every append is one of these; a test checks them against the
/// hasher).
#[must_use]
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut blocks = [[0u8; 64]; 2];
    let [first, second] = &mut blocks;
    let (tag, rest) = first.split_at_mut(1);
    tag.fill(0x01);
    let (l, r) = rest.split_at_mut(HASH_LEN);
    l.copy_from_slice(left);
    let (right_head, right_last) = right.split_at(HASH_LEN - 1);
    r.copy_from_slice(right_head);
    let [last, pad, .., len_hi, len_lo] = second;
    *last = right_last.first().copied().unwrap_or(0);
    *pad = 0x80;
    // the message length in bits, 65 * 8 = 520 = 0x0208, big-endian at the end
    (*len_hi, *len_lo) = (0x02, 0x08);
    let mut state = SHA256_IV;
    sha2::block_api::compress256(&mut state, &blocks);
    let mut out = [0u8; HASH_LEN];
    for (o, w) in out.chunks_exact_mut(4).zip(state) {
        o.copy_from_slice(&w.to_be_bytes());
    }
    out
}

/// The root of the empty tree: `SHA-256()` of no bytes.
#[must_use]
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// `bytes` as a hash.
///
/// # Errors
/// [`Error::HashLength`] unless `bytes` is 32 bytes long.
pub fn hash_from_slice(bytes: &[u8]) -> Result<Hash> {
    Hash::try_from(bytes).map_err(|_| Error::HashLength)
}

/// The number of bits needed to write `x` (0 for 0).
const fn bit_len(x: u64) -> u32 {
    u64::BITS.saturating_sub(x.leading_zeros())
}

/// The levels of the inclusion path of leaf `index` in a tree of `size` leaves
/// (`index < size`): `inner`, the levels where the leaf's subtree and its sibling
/// both lie inside the largest complete subtree holding the leaf and the tree's
/// last leaf, and `border`, the levels above them, one per complete subtree of
/// the tree's right border that the path passes.
fn inclusion_levels(index: u64, size: u64) -> Result<(u32, u32)> {
    if index >= size {
        return Err(Error::IndexOutOfRange);
    }
    let last = size.checked_sub(1).ok_or(Error::IndexOutOfRange)?;
    let inner = bit_len(index ^ last);
    let border = index.checked_shr(inner).unwrap_or(0).count_ones();
    Ok((inner, border))
}

/// The exact number of hashes in the inclusion proof of leaf `index` in a tree
/// of `size` leaves.
///
/// # Errors
/// [`Error::IndexOutOfRange`] if `index >= size`.
pub fn inclusion_proof_len(index: u64, size: u64) -> Result<usize> {
    let (inner, border) = inclusion_levels(index, size)?;
    usize::try_from(inner.saturating_add(border)).map_err(|_| Error::ProofLength)
}

/// The exact number of hashes in the consistency proof from a tree of `size1`
/// leaves to one of `size2`.
///
/// # Errors
/// [`Error::SizesOutOfOrder`] if `size1 > size2`; [`Error::EmptyTree`] if
/// `size1 == 0`.
pub fn consistency_proof_len(size1: u64, size2: u64) -> Result<usize> {
    if size1 > size2 {
        return Err(Error::SizesOutOfOrder);
    }
    if size1 == 0 {
        return Err(Error::EmptyTree);
    }
    if size1 == size2 {
        return Ok(0);
    }
    // The path of the old tree's last leaf in the new tree, less the levels
    // inside the old tree's last complete subtree (whose root the proof starts
    // from), plus that root unless the old tree is one complete subtree.
    let (inner, border) = inclusion_levels(size1.saturating_sub(1), size2)?;
    let inner = inner.saturating_sub(size1.trailing_zeros());
    let seed = u32::from(!size1.is_power_of_two());
    usize::try_from(inner.saturating_add(border).saturating_add(seed)).map_err(|_| Error::ProofLength)
}

/// The root that the inclusion proof `proof` of the leaf hash `leaf` at `index`
/// in a tree of `size` leaves leads to (RFC 9162 section 2.1.3.2). A COSE
/// Receipt's signature is then checked over this root.
///
/// # Errors
/// [`Error::IndexOutOfRange`]; [`Error::ProofLength`] unless `proof` has exactly
/// [`inclusion_proof_len`] hashes.
pub fn inclusion_root(index: u64, size: u64, leaf: &Hash, proof: &[Hash]) -> Result<Hash> {
    if proof.len() != inclusion_proof_len(index, size)? {
        return Err(Error::ProofLength);
    }
    let (mut f, mut s) = (index, size.saturating_sub(1));
    let mut r = *leaf;
    for p in proof {
        if s == 0 {
            return Err(Error::ProofLength);
        }
        if f & 1 == 1 || f == s {
            r = node_hash(p, &r);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err(Error::ProofLength);
    }
    Ok(r)
}

/// Verifies that the leaf hash `leaf` is at `index` in the tree of `size` leaves
/// whose root is `root`.
///
/// # Errors
/// As [`inclusion_root`]; [`Error::RootMismatch`] if the proof leads to another
/// root.
pub fn verify_inclusion(index: u64, size: u64, leaf: &Hash, proof: &[Hash], root: &Hash) -> Result<()> {
    if inclusion_root(index, size, leaf, proof)? == *root {
        Ok(())
    } else {
        Err(Error::RootMismatch)
    }
}

/// Verifies that the tree of `size2` leaves with root `root2` extends the tree
/// of `size1` leaves with root `root1` (RFC 9162 section 2.1.4.2): its first
/// `size1` leaves are those of the older tree, unchanged.
///
/// # Errors
/// [`Error::SizesOutOfOrder`] if `size1 > size2`; [`Error::EmptyTree`] if
/// `size1 == 0`; [`Error::ProofLength`] unless `proof` has exactly
/// [`consistency_proof_len`] hashes (none for equal sizes);
/// [`Error::RootMismatch`] if it does not lead to both roots.
pub fn verify_consistency(size1: u64, size2: u64, root1: &Hash, root2: &Hash, proof: &[Hash]) -> Result<()> {
    if consistency_root(size1, size2, root1, proof)? == *root2 {
        Ok(())
    } else {
        Err(Error::RootMismatch)
    }
}

/// The root of the tree of `size2` leaves that the consistency proof `proof`
/// leads to from the tree of `size1` leaves with root `root1`, after checking
/// that it also leads back to `root1` (RFC 9162 section 2.1.4.2). A COSE
/// Receipt of consistency is signed over this root.
///
/// # Errors
/// As [`verify_consistency`]; [`Error::RootMismatch`] if the proof does not lead
/// to `root1`.
pub fn consistency_root(size1: u64, size2: u64, root1: &Hash, proof: &[Hash]) -> Result<Hash> {
    if proof.len() != consistency_proof_len(size1, size2)? {
        return Err(Error::ProofLength);
    }
    if size1 == size2 {
        return Ok(*root1);
    }
    // Step 2: an old tree that is one complete subtree starts from its own root.
    let (seed, rest) = if size1.is_power_of_two() {
        (root1, proof)
    } else {
        proof.split_first().ok_or(Error::ProofLength)?
    };
    let (mut f, mut s) = (size1.saturating_sub(1), size2.saturating_sub(1));
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let (mut fr, mut sr) = (*seed, *seed);
    for c in rest {
        if s == 0 {
            return Err(Error::ProofLength);
        }
        if f & 1 == 1 || f == s {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err(Error::ProofLength);
    }
    if fr == *root1 { Ok(sr) } else { Err(Error::RootMismatch) }
}

/// The state a log appends with: the roots of the complete subtrees that make up
/// the tree, largest (leftmost) first, one per bit set in the size (at most 64
/// hashes; 20 for a million leaves). Appending and the root need nothing else,
/// so a controller keeps its log's tree in a few hundred bytes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CompactRange {
    size: u64,
    peaks: Vec<Hash>,
}

impl CompactRange {
    /// The empty tree.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            size: 0,
            peaks: Vec::new(),
        }
    }

    /// A range from persisted parts: the size and the subtree roots, largest
    /// first.
    ///
    /// # Errors
    /// [`Error::InvalidState`] unless there is one root per bit set in `size`.
    pub fn from_parts(size: u64, peaks: Vec<Hash>) -> Result<Self> {
        if usize::try_from(size.count_ones()).ok() != Some(peaks.len()) {
            return Err(Error::InvalidState);
        }
        Ok(Self { size, peaks })
    }

    /// The number of leaves.
    #[must_use]
    pub const fn size(&self) -> u64 {
        self.size
    }

    /// The roots of the complete subtrees, largest first.
    #[must_use]
    pub fn peaks(&self) -> &[Hash] {
        &self.peaks
    }

    /// Appends the leaf hash `leaf` (see [`leaf_hash`]); at most 64 node hashes.
    ///
    /// # Errors
    /// [`Error::TreeFull`] at `u64::MAX` leaves.
    pub fn append(&mut self, leaf: &Hash) -> Result<()> {
        self.append_reporting(leaf, |_, _| {})
    }

    /// As [`Self::append`], calling `completed(height, hash)` for every subtree
    /// the leaf completes, smallest first: the subtree of height `h` (2^h
    /// leaves) ending with this leaf, for `h` from 1 to the number of trailing
    /// one bits of the old size. A store of the tree's nodes (tiles) takes them
    /// from here instead of hashing them again.
    ///
    /// # Errors
    /// [`Error::TreeFull`] at `u64::MAX` leaves.
    pub fn append_reporting(&mut self, leaf: &Hash, mut completed: impl FnMut(u32, &Hash)) -> Result<()> {
        let size = self.size.checked_add(1).ok_or(Error::TreeFull)?;
        // Each trailing one bit of the old size is a complete subtree of the size
        // of what is being carried: merge them, smallest first.
        let mut carry = *leaf;
        for height in 1..=self.size.trailing_ones() {
            let left = self.peaks.pop().ok_or(Error::InvalidState)?;
            carry = node_hash(&left, &carry);
            completed(height, &carry);
        }
        self.peaks.push(carry);
        self.size = size;
        Ok(())
    }

    /// The tree's root.
    #[must_use]
    pub fn root(&self) -> Hash {
        let mut peaks = self.peaks.iter().rev();
        let Some(mut root) = peaks.next().copied() else {
            return empty_root();
        };
        for p in peaks {
            root = node_hash(p, &root);
        }
        root
    }
}

/// The largest power of two below `n` (for `n >= 2`), where a tree of `n` leaves
/// splits.
fn split(n: usize) -> usize {
    let below = n.saturating_sub(1);
    match below.checked_ilog2() {
        Some(bits) => 1usize.checked_shl(bits).unwrap_or(0),
        None => 0,
    }
}

/// The two parts of a tree of two or more `leaves`.
fn halves(leaves: &[Hash]) -> Option<(&[Hash], &[Hash])> {
    if leaves.len() < 2 {
        return None;
    }
    leaves.split_at_checked(split(leaves.len()))
}

/// The root of the tree of the leaf hashes `leaves` (RFC 9162 MTH), computed from
/// all of them: linear in their number.
#[must_use]
pub fn root(leaves: &[Hash]) -> Hash {
    match (leaves, halves(leaves)) {
        ([], _) => empty_root(),
        (_, Some((left, right))) => node_hash(&root(left), &root(right)),
        ([one, ..], None) => *one,
    }
}

/// The inclusion proof of leaf `index` in the tree of the leaf hashes `leaves`
/// (RFC 9162 `PATH`), computed from all of them: linear in their number.
///
/// # Errors
/// [`Error::IndexOutOfRange`].
pub fn inclusion_proof(leaves: &[Hash], index: u64) -> Result<Vec<Hash>> {
    let i = usize::try_from(index).map_err(|_| Error::IndexOutOfRange)?;
    if i >= leaves.len() {
        return Err(Error::IndexOutOfRange);
    }
    let mut out = Vec::new();
    path(i, leaves, &mut out);
    Ok(out)
}

fn path(m: usize, leaves: &[Hash], out: &mut Vec<Hash>) {
    let Some((left, right)) = halves(leaves) else {
        return;
    };
    match m.checked_sub(left.len()) {
        None => {
            path(m, left, out);
            out.push(root(right));
        }
        Some(m) => {
            path(m, right, out);
            out.push(root(left));
        }
    }
}

/// The consistency proof from the tree of the first `size1` of `leaves` to the
/// tree of all of them (RFC 9162 `PROOF`), computed from all of them: linear in
/// their number.
///
/// # Errors
/// [`Error::SizesOutOfOrder`] if `size1` exceeds the number of leaves;
/// [`Error::EmptyTree`] if it is 0.
pub fn consistency_proof(leaves: &[Hash], size1: u64) -> Result<Vec<Hash>> {
    let m = usize::try_from(size1).map_err(|_| Error::SizesOutOfOrder)?;
    if m > leaves.len() {
        return Err(Error::SizesOutOfOrder);
    }
    if m == 0 {
        return Err(Error::EmptyTree);
    }
    let mut out = Vec::new();
    subproof(m, leaves, true, &mut out);
    Ok(out)
}

fn subproof(m: usize, leaves: &[Hash], whole: bool, out: &mut Vec<Hash>) {
    if m >= leaves.len() {
        if !whole {
            out.push(root(leaves));
        }
        return;
    }
    let Some((left, right)) = halves(leaves) else {
        return;
    };
    match m.checked_sub(left.len()) {
        Some(0) | None => {
            subproof(m, left, whole, out);
            out.push(root(right));
        }
        Some(m) => {
            subproof(m, right, false, out);
            out.push(root(left));
        }
    }
}

/// Where the hashes of complete subtrees come from, for proofs over a tree that
/// is not in memory (a database, tiles): the subtree of height `height` with
/// index `index` spans the leaves `index * 2^height .. (index + 1) * 2^height`.
pub trait SubtreeHashes {
    /// The hash of that subtree (the leaf hash for height 0).
    ///
    /// # Errors
    /// The source's, for a subtree it does not hold.
    fn subtree(&mut self, height: u32, index: u64) -> Result<Hash>;
}

/// The largest power of two below `n` (for `n >= 2`), as a shift.
fn split_bits(n: u64) -> Option<u32> {
    n.checked_sub(1)?.checked_ilog2()
}

/// The root of the leaves `start..end` (RFC 9162 MTH of `D[start..end]`) for the
/// ranges RFC 9162's recursion visits: `start` is a multiple of the largest power
/// of two not above `end - start`. Reads at most two hashes per level.
fn range_root(src: &mut dyn SubtreeHashes, start: u64, end: u64) -> Result<Hash> {
    let n = end.checked_sub(start).ok_or(Error::SizesOutOfOrder)?;
    if n == 0 {
        return Ok(empty_root());
    }
    if n.is_power_of_two() {
        let height = n.trailing_zeros();
        return src.subtree(height, start.checked_shr(height).unwrap_or(0));
    }
    let k = 1u64 << split_bits(n).ok_or(Error::InvalidState)?;
    let mid = start.checked_add(k).ok_or(Error::InvalidState)?;
    Ok(node_hash(&range_root(src, start, mid)?, &range_root(src, mid, end)?))
}

/// The root of the tree of the first `size` leaves of `src`.
///
/// # Errors
/// The source's.
pub fn root_from(src: &mut dyn SubtreeHashes, size: u64) -> Result<Hash> {
    range_root(src, 0, size)
}

/// The inclusion proof of leaf `index` in the tree of the first `size` leaves
/// of `src` (RFC 9162 `PATH`), from O(log size) subtree hashes.
///
/// # Errors
/// [`Error::IndexOutOfRange`]; the source's.
pub fn inclusion_proof_from(src: &mut dyn SubtreeHashes, index: u64, size: u64) -> Result<Vec<Hash>> {
    if index >= size {
        return Err(Error::IndexOutOfRange);
    }
    let mut out = Vec::new();
    let (mut start, mut end) = (0u64, size);
    // Walk down from the root, collecting siblings; the proof lists them leaf first.
    while end.saturating_sub(start) > 1 {
        let k = 1u64 << split_bits(end.saturating_sub(start)).ok_or(Error::InvalidState)?;
        let mid = start.checked_add(k).ok_or(Error::InvalidState)?;
        if index < mid {
            out.push(range_root(src, mid, end)?);
            end = mid;
        } else {
            out.push(range_root(src, start, mid)?);
            start = mid;
        }
    }
    out.reverse();
    Ok(out)
}

/// The consistency proof from the tree of the first `size1` leaves of `src` to
/// that of the first `size2` (RFC 9162 `PROOF`), from O(log size2) subtree
/// hashes.
///
/// # Errors
/// [`Error::SizesOutOfOrder`] if `size1 > size2`; [`Error::EmptyTree`] if
/// `size1` is 0; the source's.
pub fn consistency_proof_from(src: &mut dyn SubtreeHashes, size1: u64, size2: u64) -> Result<Vec<Hash>> {
    if size1 > size2 {
        return Err(Error::SizesOutOfOrder);
    }
    if size1 == 0 {
        return Err(Error::EmptyTree);
    }
    let mut out = Vec::new();
    let (mut m, mut start, mut end, mut whole) = (size1, 0u64, size2, true);
    loop {
        let n = end.saturating_sub(start);
        if m >= n {
            if !whole {
                out.push(range_root(src, start, end)?);
            }
            break;
        }
        let k = 1u64 << split_bits(n).ok_or(Error::InvalidState)?;
        let mid = start.checked_add(k).ok_or(Error::InvalidState)?;
        if m <= k {
            out.push(range_root(src, mid, end)?);
            end = mid;
        } else {
            out.push(range_root(src, start, mid)?);
            m = m.saturating_sub(k);
            start = mid;
            whole = false;
        }
    }
    out.reverse();
    Ok(out)
}

/// Leaf hashes in memory as a [`SubtreeHashes`] source (subtrees computed from
/// them: for tests and small trees).
impl SubtreeHashes for &[Hash] {
    fn subtree(&mut self, height: u32, index: u64) -> Result<Hash> {
        let width = 1usize.checked_shl(height).ok_or(Error::IndexOutOfRange)?;
        let start = usize::try_from(index)
            .ok()
            .and_then(|i| i.checked_mul(width))
            .ok_or(Error::IndexOutOfRange)?;
        let end = start.checked_add(width).ok_or(Error::IndexOutOfRange)?;
        self.get(start..end).map(root).ok_or(Error::IndexOutOfRange)
    }
}

#[cfg(test)]
mod tests;
