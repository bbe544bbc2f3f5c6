//! Fuzz target `sign1_verify`: see `citysec_fuzz::sign1_verify` (fuzz/src/lib.rs) for what it checks.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    citysec_fuzz::sign1_verify(data);
});
