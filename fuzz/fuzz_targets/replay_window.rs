//! Fuzz target `replay_window`: arbitrary operation sequences against a model.
//!
//! The input is a window size and a list of sequence numbers (near each other, so
//! the window is exercised). Each number is checked and, if allowed, accepted; a
//! model (the set of accepted numbers and the highest one) predicts every answer.
//! The state also round-trips through its byte form after each step.
#![no_main]

use std::collections::BTreeSet;

use citysec_telemetry::Error;
use citysec_telemetry::window::ReplayWindow;
use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;

fn run(u: &mut Unstructured<'_>) -> Result<()> {
    let size = u32::from(u.int_in_range(1u16..=1024)?);
    let base: u64 = u.int_in_range(0..=(1u64 << 40))?;
    let mut w = ReplayWindow::new();
    let mut seen = BTreeSet::new();
    let mut top: Option<u64> = None;
    while !u.is_empty() {
        let s = base.saturating_add(u64::from(u.int_in_range(0u16..=4096)?));
        let outside = top.is_some_and(|t| s <= t && t - s >= u64::from(size));
        let expected = if outside {
            Err(Error::OutsideWindow)
        } else if seen.contains(&s) {
            Err(Error::Replay)
        } else {
            Ok(())
        };
        assert_eq!(w.check(s, size), expected, "seq {s} size {size} top {top:?}");
        if expected.is_ok() {
            w.accept(s, size);
            seen.insert(s);
            top = Some(top.map_or(s, |t| t.max(s)));
        }
        assert_eq!(w.top(), top);
        assert_eq!(ReplayWindow::from_bytes(&w.to_bytes()).expect("round trip"), w);
    }
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let _ = run(&mut Unstructured::new(data));
});
