//! Compile tests for `#[magpie::main]`, `#[magpie::test]`, `join!`, `try_join!` and `select!`.
//!
//! Regenerate the expected output with
//! `TRYBUILD=overwrite cargo test -p magpie-macros --test ui`.

#[test]
#[cfg_attr(
    windows,
    ignore = "trybuild compiles the cases with the host's cargo, which a Windows test binary \
              (under Wine) cannot run; the cases are platform-independent and run on the host"
)]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
    t.pass("tests/pass/*.rs");
}
