//! One small sort for the whole crate.
//!
//! `slice::sort_unstable` and `slice::sort` instantiate their full algorithms
//! (pattern-defeating quicksort, driftsort) for every element type, some 2 to 4
//! KiB of code each. This crate sorts seven element types, which cost a firmware
//! that loads bundles more than 20 KiB of flash. The sort here is an insertion
//! sort for short slices and a heapsort above: O(n log n) in the worst case, no
//! allocation, a few hundred bytes per element type.

use alloc::vec::Vec;

/// Slices up to this length are insertion-sorted (a decision's hits, most lists).
const SHORT: usize = 16;

/// Whether `v[a] < v[b]` under `less` (false for an index out of range, which the
/// callers below never pass).
fn lt<T>(v: &[T], a: usize, b: usize, less: &mut impl FnMut(&T, &T) -> bool) -> bool {
    match (v.get(a), v.get(b)) {
        (Some(x), Some(y)) => less(x, y),
        _ => false,
    }
}

/// Sorts `v` by `less` (a strict weak order). Not stable.
pub(crate) fn sort_unstable_by<T>(v: &mut [T], mut less: impl FnMut(&T, &T) -> bool) {
    let len = v.len();
    if len <= SHORT {
        insertion(v, &mut less);
        return;
    }
    let mut start = len / 2;
    while let Some(node) = start.checked_sub(1) {
        start = node;
        sift_down(v, node, len, &mut less);
    }
    let mut end = len;
    while let Some(last) = end.checked_sub(1).filter(|l| *l > 0) {
        end = last;
        v.swap(0, last);
        sift_down(v, 0, last, &mut less);
    }
}

/// Sorts `v` in ascending order. Not stable.
pub(crate) fn sort_unstable<T: Ord>(v: &mut [T]) {
    sort_unstable_by(v, |a, b| a < b);
}

/// Sorts `v` by `key`, keeping the order of elements with equal keys (stable).
/// Allocates one vector of keyed entries.
pub(crate) fn sort_stable_by_key<T, K: Ord>(v: &mut Vec<T>, key: impl Fn(&T) -> K) {
    let mut keyed: Vec<(K, usize, T)> = v.drain(..).enumerate().map(|(i, t)| (key(&t), i, t)).collect();
    sort_unstable_by(&mut keyed, |a, b| (&a.0, a.1) < (&b.0, b.1));
    v.extend(keyed.into_iter().map(|(_, _, t)| t));
}

/// Insertion sort: stable, quadratic, fastest on short slices.
fn insertion<T>(v: &mut [T], less: &mut impl FnMut(&T, &T) -> bool) {
    for i in 1..v.len() {
        let mut j = i;
        while let Some(prev) = j.checked_sub(1) {
            if !lt(v, j, prev, less) {
                break;
            }
            v.swap(j, prev);
            j = prev;
        }
    }
}

/// Moves `v[node]` down the max-heap `v[..end]` to where it belongs.
fn sift_down<T>(v: &mut [T], mut node: usize, end: usize, less: &mut impl FnMut(&T, &T) -> bool) {
    loop {
        let Some(left) = node.checked_mul(2).and_then(|n| n.checked_add(1)) else {
            return;
        };
        if left >= end {
            return;
        }
        let mut child = left;
        if let Some(right) = left.checked_add(1)
            && right < end
            && lt(v, left, right, less)
        {
            child = right;
        }
        if !lt(v, node, child, less) {
            return;
        }
        v.swap(node, child);
        node = child;
    }
}

#[cfg(test)]
mod tests {
    use alloc::vec::Vec;

    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn sorts_like_the_standard_library(mut v in proptest::collection::vec(any::<i16>(), 0..300)) {
            let mut want = v.clone();
            want.sort_unstable();
            sort_unstable(&mut v);
            prop_assert_eq!(v, want);
        }

        #[test]
        fn stable_sort_keeps_equal_keys_in_order(v in proptest::collection::vec((0u8..8, any::<u32>()), 0..300)) {
            let mut want = v.clone();
            want.sort_by_key(|e| e.0);
            let mut got = v;
            sort_stable_by_key(&mut got, |e| e.0);
            prop_assert_eq!(got, want);
        }
    }

    #[test]
    fn edge_lengths() {
        for n in 0..40usize {
            let mut v: Vec<usize> = (0..n).rev().collect();
            sort_unstable(&mut v);
            assert_eq!(v, (0..n).collect::<Vec<_>>());
        }
    }
}
