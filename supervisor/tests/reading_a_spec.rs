//! The diagrams of a spec, pinned: a tree with every option, and the DSL
//! guide's example tree, whose diagram and bound the guide's chapter on
//! reading a spec shows.
//!
//! After a deliberate change, `UPDATE_PINNED=1 cargo test -p supervisor
//! --test reading_a_spec` rewrites the pinned files and the guide's blocks; read
//! the diff before committing it.

use std::path::{Path, PathBuf};

use supervisor::{Context, SupervisorSpec, supervision_tree, worker};

#[worker]
#[derive(Clone)]
struct Idle;

impl Idle {
    async fn run(self, ctx: Context) {
        ctx.cancelled().await;
    }
}

/// The DSL guide's `Db`, with its type's defaults.
#[worker(restart = permanent, shutdown = 5s)]
#[derive(Clone)]
struct Db {
    url: String,
}

impl Db {
    async fn run(self, ctx: Context) -> anyhow::Result<()> {
        let _ = &self.url;
        ctx.cancelled().await;
        Ok(())
    }
}

fn every_option() -> SupervisorSpec {
    supervision_tree! {
        supervisor app(strategy = one_for_all, max_restarts = 5, within = 10s, escalation = shutdown_tree, max_children = 20) {
            worker db(restart = permanent, shutdown = 10s) = Idle;
            worker cache(restart = transient, shutdown = brutal_kill, backoff = 10ms..1s) = Idle;
            worker ingest(group = pipeline, heartbeat = 500ms) = Idle;
            worker parse(group = pipeline, start_timeout = 1.5s) = Idle;
            worker audit(restart = temporary, shutdown = infinity, group = loose) = Idle;
            supervisor jobs(strategy = rest_for_one, auto_shutdown = any_significant, escalation = quarantine,
                            restart = transient, shutdown = 30s, group = loose) {
                worker batch(restart = transient, significant) = Idle;
                worker report(restart = temporary, significant, backoff = 250us..2m) = Idle;
                override batch(max_restarts = 1, within = 1h);
            }
            group pipeline(strategy = rest_for_one, max_restarts = 10, within = 1s, escalation = escalate);
            group loose(strategy = one_for_one);
            override db(strategy = one_for_one, escalation = quarantine);
            override cache(max_restarts = 2);
            override parse(strategy = one_for_all);
        }
    }
}

fn readme_tree() -> SupervisorSpec {
    let db_url = String::from("postgres://localhost/app");
    supervision_tree! {
        supervisor app(strategy = one_for_one, max_restarts = 3, within = 5s) {
            worker db(shutdown = 10s) = Db { url: db_url.clone() };
            worker ingest(group = pipeline) = Idle;
            worker parse(group = pipeline, backoff = 10ms..1s) = Idle;
            worker audit(restart = temporary, shutdown = brutal_kill) = Idle;
            supervisor http(strategy = rest_for_one) {
                worker listener(start_timeout = 2s) = Idle;
                worker router(heartbeat = 500ms) = Idle;
            }
            group pipeline(strategy = rest_for_one, max_restarts = 10, within = 1s);
            override db(strategy = one_for_all);
        }
    }
}

fn updating() -> bool {
    std::env::var_os("UPDATE_PINNED").is_some_and(|v| v == "1")
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

/// Writes `text` to `path` in one step: the other tests of this file read
/// the guide meanwhile.
fn rewrite(path: &Path, text: &str) {
    let fresh = path.with_extension("pinned-tmp");
    std::fs::write(&fresh, text).unwrap();
    std::fs::rename(&fresh, path).unwrap();
}

/// Compares `actual` with the pinned file, line by line.
fn assert_pinned(path: &Path, actual: &str) {
    if updating() {
        rewrite(path, actual);
        return;
    }
    let pinned = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}; run with UPDATE_PINNED=1 to write it", path.display()));
    if pinned != actual {
        let diff: Vec<String> = pinned
            .lines()
            .zip(actual.lines())
            .enumerate()
            .filter(|(_, (p, a))| p != a)
            .map(|(i, (p, a))| format!("line {}:\n  pinned: {p}\n  now:    {a}", i + 1))
            .collect();
        panic!(
            "{} is not what the spec draws now ({} lines pinned, {} now):\n{}\nrun with UPDATE_PINNED=1 to rewrite it",
            path.display(),
            pinned.lines().count(),
            actual.lines().count(),
            diff.join("\n")
        );
    }
}

#[test]
fn every_option_shows_in_the_mermaid_diagram() {
    assert_pinned(&fixture("every_option.mmd"), &every_option().to_mermaid());
}

#[test]
fn every_option_shows_in_the_dot_diagram() {
    assert_pinned(&fixture("every_option.dot"), &every_option().to_dot());
}

const README_MARK: &str =
    "<!-- drawn by SupervisorSpec::to_mermaid; supervisor/tests/reading_a_spec.rs keeps it in step -->";

#[test]
fn the_readme_tree_is_the_one_the_readme_shows() {
    // The tree above is copied from the DSL guide's example: keep both in
    // step by checking the guide still declares these children.
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/guide/dsl.md")).unwrap();
    for line in [
        "supervisor app(strategy = one_for_one, max_restarts = 3, within = 5s) {",
        "worker db(shutdown = 10s) = Db { url: db_url.clone() };",
        "worker ingest(group = pipeline) = Ingest::new(&cfg);",
        "worker parse(group = pipeline, backoff = 10ms..1s) = Parse::default();",
        "worker audit(restart = temporary, shutdown = brutal_kill) = Audit;",
        "supervisor http(strategy = rest_for_one) {",
        "worker listener(start_timeout = 2s) = Listener::bind(addr);",
        "worker router(heartbeat = 500ms) = Router::new();",
        "group pipeline(strategy = rest_for_one, max_restarts = 10, within = 1s);",
        "override db(strategy = one_for_all);",
        "#[worker(restart = permanent, shutdown = 5s)]",
    ] {
        assert!(readme.contains(line), "the DSL guide no longer declares `{line}`: update readme_tree() to match it");
    }
}

const BOUND_MARK: &str =
    "<!-- the restart bound of the DSL chapter's example tree; supervisor/tests/reading_a_spec.rs keeps it in step -->";

/// The guide's table of the bound, row by row.
fn bound_table(spec: &SupervisorSpec) -> String {
    let mut table = String::from("| child | most runs | within | budgets counted |\n| --- | --- | --- | --- |\n");
    for b in spec.restart_bound() {
        let within = b.within.map_or("-".to_string(), |d| format!("{d:?}"));
        let budgets =
            if b.budgets.is_empty() { "none: it is never restarted".to_string() } else { b.budgets.join(", ") };
        table.push_str(&format!("| `{}` | {} | {within} | {budgets} |\n", b.path, b.runs));
    }
    table
}

#[test]
fn the_readme_tree_bounds_are_hand_computed() {
    let runs: Vec<(String, u64)> = readme_tree().restart_bound().into_iter().map(|b| (b.path, b.runs)).collect();
    let expected = [
        // The supervisor's 3 restarts in 5s.
        ("app/db", 4),
        // The pipeline's own 10 in 1s, and db's one_for_all against the
        // supervisor's 3: 1 + 10 + 3.
        ("app/ingest", 14),
        ("app/parse", 14),
        // Temporary: never restarted.
        ("app/audit", 1),
        ("app/http", 4),
        // 4 runs of http, each with 1 + 3 runs of its children.
        ("app/http/listener", 16),
        ("app/http/router", 16),
    ];
    assert_eq!(runs, expected.map(|(p, n)| (p.to_string(), n)));
}

/// Splits a guide chapter at the block that follows `mark`: what is before
/// it, the block, what is after.
fn split_block<'a>(readme: &'a str, mark: &str, block_end: &str) -> (&'a str, &'a str, &'a str) {
    let at = readme.find(mark).unwrap_or_else(|| panic!("the chapter has lost its mark `{mark}`")) + mark.len() + 1;
    let len = readme[at..].find(block_end).unwrap_or_else(|| panic!("the block after `{mark}` does not end"));
    let end = at + len + block_end.len();
    (&readme[..at], &readme[at..end], &readme[end..])
}

#[test]
fn the_readme_shows_its_tree_drawn_and_bounded() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/guide/reading_a_spec.md");
    let mut readme = std::fs::read_to_string(&path).unwrap();
    let spec = readme_tree();
    let blocks = [
        (README_MARK, "```\n", format!("```mermaid\n{}```\n", spec.to_mermaid())),
        (BOUND_MARK, "|\n\n", format!("{}\n", bound_table(&spec))),
    ];
    for (mark, block_end, now) in blocks {
        let (head, block, tail) = split_block(&readme, mark, block_end);
        if updating() {
            readme = format!("{head}{now}{tail}");
            continue;
        }
        assert_eq!(
            block, now,
            "the guide's block after `{mark}` is out of step with its tree: run with UPDATE_PINNED=1"
        );
    }
    if updating() {
        rewrite(&path, &readme);
    }
}
