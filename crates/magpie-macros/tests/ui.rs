//! Compile tests for `#[magpie::main]`, `#[magpie::test]`, `join!`, `try_join!` and `select!`.
//!
//! Regenerate the expected output with
//! `TRYBUILD=overwrite cargo test -p magpie-macros --test ui`.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
    t.pass("tests/pass/*.rs");
}
