//! Shared helpers for the citysec benches: where criterion writes its results, and
//! a ratio report read back from them, so every bench prints "ours / baseline".

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    reason = "benchmark support code, not a library"
)]

use std::path::PathBuf;

/// The folder criterion writes to: `$CRITERION_HOME`, else `target/criterion` of this workspace.
#[must_use]
pub fn criterion_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("CRITERION_HOME") {
        return PathBuf::from(d);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"),
        PathBuf::from,
    );
    target.join("criterion")
}

/// A configured criterion that writes where [`criterion_dir`] says.
#[must_use]
pub fn criterion() -> criterion::Criterion {
    criterion::Criterion::default()
        .output_directory(&criterion_dir())
        .configure_from_args()
}

/// The mean time in nanoseconds criterion measured for `group/function`, if any.
#[must_use]
pub fn mean_ns(group: &str, function: &str) -> Option<f64> {
    let path = criterion_dir()
        .join(group)
        .join(function)
        .join("new")
        .join("estimates.json");
    let text = std::fs::read_to_string(path).ok()?;
    // {"mean":{"confidence_interval":{...},"point_estimate":123.4,...},...}
    let mean = text.find("\"slope\":{").or_else(|| text.find("\"mean\""))?;
    let rest = &text[mean..];
    let pe = rest.find("\"point_estimate\":")? + "\"point_estimate\":".len();
    let end = rest[pe..].find([',', '}'])?;
    rest[pe..pe + end].trim().parse().ok()
}

/// Prints `ours / baseline` for each pair, with the target, from this run's results
/// (a target of `f64::INFINITY` reports the ratio without one).
pub fn report(pairs: &[(&str, &str, &str, f64)]) {
    println!();
    println!("ratios (mean time ours / mean time baseline; lower is better):");
    for (group, ours, base, target) in pairs {
        match (mean_ns(group, ours), mean_ns(group, base)) {
            (Some(a), Some(b)) => {
                let r = a / b;
                if target.is_infinite() {
                    println!("  {group}: {ours} {a:.0} ns / {base} {b:.0} ns = {r:.3} (reported, no target)");
                    continue;
                }
                let verdict = if r <= *target { "meets" } else { "MISSES" };
                println!("  {group}: {ours} {a:.0} ns / {base} {b:.0} ns = {r:.3} ({verdict} target <= {target})");
            }
            _ => println!("  {group}: {ours} vs {base}: not measured in this run"),
        }
    }
}
