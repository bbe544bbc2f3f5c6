#![allow(clippy::arithmetic_side_effects, reason = "test model arithmetic on small numbers")]

use super::*;
use proptest::prelude::*;

#[test]
fn basic_window() {
    let mut w = ReplayWindow::new();
    for s in [5u64, 3, 7, 6] {
        assert_eq!(w.check(s, 64), Ok(()));
        w.accept(s, 64);
    }
    for s in [5u64, 3, 7, 6] {
        assert_eq!(w.check(s, 64), Err(Error::Replay));
    }
    assert_eq!(w.check(4, 64), Ok(()));
    w.accept(1000, 64);
    assert_eq!(w.check(1000 - 63, 64), Ok(()));
    assert_eq!(w.check(1000 - 64, 64), Err(Error::OutsideWindow));
    assert_eq!(w.check(7, 64), Err(Error::OutsideWindow));
    let back = ReplayWindow::from_bytes(&w.to_bytes()).unwrap();
    assert_eq!(back, w);
}

proptest! {
    /// Model test: the window against a set of everything accepted, for any order,
    /// duplicates and window size.
    #[test]
    fn matches_a_model(ops in proptest::collection::vec(0u64..3000, 1..400), size in 1u32..=1024) {
        let mut w = ReplayWindow::new();
        let mut seen = alloc::collections::BTreeSet::new();
        let mut top: Option<u64> = None;
        for s in ops {
            let expected = if seen.contains(&s) && top.is_some_and(|t| t - s < u64::from(size)) {
                Err(Error::Replay)
            } else if top.is_some_and(|t| s <= t && t - s >= u64::from(size)) {
                Err(Error::OutsideWindow)
            } else {
                Ok(())
            };
            prop_assert_eq!(w.check(s, size), expected);
            if expected.is_ok() {
                w.accept(s, size);
                seen.insert(s);
                top = Some(top.map_or(s, |t| t.max(s)));
            }
            prop_assert_eq!(ReplayWindow::from_bytes(&w.to_bytes()).unwrap(), w);
        }
    }
}

/// The window update as first written: shift all sixteen words, then clear
/// everything at or beyond `size`. `accept` touches only the words below `size`.
fn reference_accept(w: &mut ReplayWindow, seq: u64, size: u32) {
    let size = u64::from(size.clamp(1, MAX_WINDOW));
    let set = |bits: &mut [u64; WORDS], i: u64| bits[(i / 64) as usize] |= 1u64 << (i % 64);
    match w.top {
        Some(top) if seq <= top => {
            if top - seq < size {
                set(&mut w.bits, top - seq);
            }
        }
        Some(top) => {
            let n = seq - top;
            let old = w.bits;
            for i in 0..WORDS {
                let bit_lo = (i as u64) * 64;
                let mut v = 0u64;
                for b in 0..64u64 {
                    let dst = bit_lo + b;
                    if dst >= n {
                        let src = dst - n;
                        if src < (WORDS as u64) * 64 && old[(src / 64) as usize] & (1 << (src % 64)) != 0 {
                            v |= 1 << b;
                        }
                    }
                }
                w.bits[i] = v;
            }
            w.top = Some(seq);
            set(&mut w.bits, 0);
        }
        None => {
            w.bits = [0; WORDS];
            w.top = Some(seq);
            set(&mut w.bits, 0);
        }
    }
    for i in 0..WORDS {
        for b in 0..64u64 {
            if (i as u64) * 64 + b >= size {
                w.bits[i] &= !(1u64 << b);
            }
        }
    }
}

proptest! {
    /// `accept` equals the plain full-width update, also for stored windows with
    /// bits beyond the configured size (a window saved under a larger size).
    #[test]
    fn accept_matches_the_full_width_update(
        bits in proptest::array::uniform16(any::<u64>()),
        top in 0u64..5000,
        steps in proptest::collection::vec((0u64..7000, 1u32..=1100), 1..20),
    ) {
        let mut w = ReplayWindow { top: Some(top), bits };
        let mut r = w;
        for (seq, size) in steps {
            w.accept(seq, size);
            reference_accept(&mut r, seq, size);
            prop_assert_eq!(w, r);
        }
    }
}
