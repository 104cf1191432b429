//! Compile-fail cases of `supervision_tree!` and `#[worker]` (one rule per
//! file, with the exact diagnostics pinned in `.stderr`), and compile-pass
//! cases that build, validate, start and stop trees of every form.
//!
//! Regenerate the expected output with `TRYBUILD=overwrite cargo test -p
//! supervisor-ui-tests`, then read every changed `.stderr`.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("ui/fail/*.rs");
    t.pass("ui/pass/*.rs");
}
