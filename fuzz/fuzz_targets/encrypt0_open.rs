//! Fuzz target `encrypt0_open`: see `citysec_fuzz::encrypt0_open` (fuzz/src/lib.rs) for what it checks.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    citysec_fuzz::encrypt0_open(data);
});
