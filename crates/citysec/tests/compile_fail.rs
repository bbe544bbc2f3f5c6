//! The trust-domain guarantees of issue 14, proved by programs that must not
//! compile (trybuild). Each case's expected compiler output is in
//! `tests/compile-fail/*.stderr`, written by the MSRV toolchain (1.88), which is
//! the one `.ci/run` runs this test with, so that a newer compiler's wording does
//! not break it: `cargo +1.88 test -p citysec --features compile-fail-tests --test
//! compile_fail` (`TRYBUILD=overwrite` rewrites the expectations).

#[test]
fn trust_domains_do_not_mix() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/compile-fail/*.rs");
}
