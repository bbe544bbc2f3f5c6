//! Fuzz target `cose_key_decode`: see `citysec_fuzz::cose_key_decode` (fuzz/src/lib.rs) for what it checks.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    citysec_fuzz::cose_key_decode(data);
});
