//! Puts memory.x where the linker finds it (cortex-m-rt's link.x includes it).

use std::path::PathBuf;

fn main() {
    let out = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default());
    if std::fs::write(out.join("memory.x"), include_bytes!("memory.x")).is_err() {
        println!("cargo::error=cannot write memory.x to OUT_DIR");
        return;
    }
    println!("cargo::rustc-link-search={}", out.display());
    println!("cargo::rerun-if-changed=memory.x");
    println!("cargo::rerun-if-changed=build.rs");
}
