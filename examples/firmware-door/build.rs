//! Puts memory.x where the linker finds it (cortex-m-rt's link.x includes it) and,
//! for the `icount` feature, writes the adversarial credential the instruction-count
//! run measures (`adversarial.cbor` in `OUT_DIR`).

use std::path::PathBuf;

/// The verifier's token limit (`Limits::DEFAULT.max_message_size`, which the door's
/// `Verifier` uses): the adversarial credential is as large as it accepts.
const TOKEN_LIMIT: usize = 64 * 1024;

fn main() {
    let out = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default());
    if std::fs::write(out.join("memory.x"), include_bytes!("memory.x")).is_err() {
        println!("cargo::error=cannot write memory.x to OUT_DIR");
        return;
    }
    if std::env::var_os("CARGO_FEATURE_ICOUNT").is_some()
        && std::fs::write(out.join("adversarial.cbor"), adversarial()).is_err()
    {
        println!("cargo::error=cannot write adversarial.cbor to OUT_DIR");
        return;
    }
    println!("cargo::rustc-link-search={}", out.display());
    println!("cargo::rerun-if-changed=memory.x");
    println!("cargo::rerun-if-changed=build.rs");
}

/// A CBOR head in shortest form (arguments below 2^16).
fn head(out: &mut Vec<u8>, major: u8, n: usize) {
    let m = major << 5;
    match u8::try_from(n) {
        Ok(b) if b < 24 => out.push(m | b),
        Ok(b) => out.extend_from_slice(&[m | 24, b]),
        Err(_) => {
            out.push(m | 25);
            out.extend_from_slice(&u16::try_from(n).unwrap_or(u16::MAX).to_be_bytes());
        }
    }
}

/// The worst shape for the well-formedness pass, in a tagged COSE_Sign1 of at most
/// `TOKEN_LIMIT` bytes: protected `{1: -8}`, unprotected `{4: "issuer-2026", 100:
/// [maps, items]}` where `maps` are eight maps of 32 one-byte keys in descending
/// order (each key inserted at the front of the pass's sorted key array: the 256
/// unsorted entries a message may hold) and `items` are one-byte items in arrays
/// of 256, the last one a map with a duplicate key; an empty payload and a zero
/// signature. The verifier refuses it with `DuplicateMapKey` at that last map,
/// before any key or signature is used.
fn adversarial() -> Vec<u8> {
    let mut map = vec![0xb8, 32];
    for k in (0x20u8..=0x27).rev().chain((0u8..=23).rev()) {
        map.extend_from_slice(&[k, 0x00]);
    }
    let dup: &[u8] = &[0xa2, 0x00, 0x00, 0x00, 0x00];
    let mut body = vec![0x82, 0x88];
    for _ in 0..8 {
        body.extend_from_slice(&map);
    }
    let count = (TOKEN_LIMIT - 3_000) / 256 * 252;
    let outer = count.div_ceil(256);
    head(&mut body, 4, outer);
    let mut left = count;
    for _ in 0..outer {
        let n = left.min(256);
        left = left.saturating_sub(n);
        head(&mut body, 4, n);
        for i in 0..n {
            body.extend_from_slice(if left == 0 && i.saturating_add(1) == n {
                dup
            } else {
                &[0x00]
            });
        }
    }
    let mut msg = vec![0xd2, 0x84, 0x43, 0xa1, 0x01, 0x27, 0xa2, 0x04, 0x4b];
    msg.extend_from_slice(b"issuer-2026");
    msg.extend_from_slice(&[0x18, 100]);
    msg.extend_from_slice(&body);
    msg.extend_from_slice(&[0x40, 0x58, 0x40]);
    msg.extend_from_slice(&[0u8; 64]);
    assert!(msg.len() <= TOKEN_LIMIT, "adversarial credential too large");
    msg
}
