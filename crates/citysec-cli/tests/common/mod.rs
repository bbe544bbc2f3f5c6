//! What the CLI integration tests share: running the binary and reading its output.

#![allow(dead_code, reason = "each test file uses part of this module")]

use std::path::Path;
use std::process::{Command, Output};

/// Runs `citysec` with `args`, colour off.
pub(crate) fn citysec(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_citysec"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run citysec")
}

/// Exit code, stdout and stderr.
pub(crate) fn text(o: &Output) -> (i32, String, String) {
    (
        o.status.code().unwrap(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// A path as `&str`.
pub(crate) fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}
