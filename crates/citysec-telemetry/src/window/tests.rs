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
