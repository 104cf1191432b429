//! The README's first code block is the `hello` example, word for word, in
//! the workspace's README and in the `supervisor` package's (which crates.io
//! shows): CI builds and runs the example, so the program a reader pastes
//! first compiles and runs. Its "Cost" section is what the benchmark
//! runner last wrote.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn hello() -> String {
    std::fs::read_to_string(root().join("examples/examples/hello.rs")).unwrap()
}

#[test]
fn the_readmes_first_block_is_the_hello_example() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let start = readme.find("```rust\n").expect("the README has a Rust block") + "```rust\n".len();
    let len = readme[start..].find("```").expect("the block ends");
    assert_eq!(
        readme[start..start + len],
        hello(),
        "README.md's first block and examples/examples/hello.rs differ: copy the example into the README"
    );
}

#[test]
fn the_package_readme_shows_the_hello_example() {
    let readme = std::fs::read_to_string(root().join("supervisor/README.md")).unwrap();
    assert!(
        readme.contains(&format!("```rust\n{}```", hello())),
        "supervisor/README.md no longer shows examples/examples/hello.rs: copy the example into it"
    );
}

/// README's "Cost" is `benches/COST.md`, which the benchmark runner writes
/// with `benches/RESULTS.md` from one run: the README shows no figure that
/// run did not print.
#[test]
fn the_readmes_cost_section_is_the_benchmark_runners() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let cost = std::fs::read_to_string(root().join("benches/COST.md")).unwrap();
    let start = readme.find("\n## Cost\n").expect("README.md has a `## Cost` section") + "\n## Cost\n".len();
    let len = readme[start..].find("\n## ").unwrap_or(readme.len() - start);
    assert!(
        readme[start..start + len].contains(cost.trim()),
        "README.md's Cost section does not include benches/COST.md as the benchmark runner last wrote it: \
         paste the file into the section"
    );
}
