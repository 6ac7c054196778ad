//! What the typed API refuses to compile: a misspelled action, a wrong argument, result or
//! event payload type, an event of another actor, and declarations that could not work.
//! The expected compiler messages are in `tests/ui/*.stderr` (regenerate with
//! `TRYBUILD=overwrite cargo test -p rivet-client --test typed_compile_fail` and review).

#[test]
fn mistakes_are_compile_errors() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
