//! Trees built with `supervision_tree!` and `#[worker]` start and behave as
//! their options say; run-time values in braces are checked by `validate()`
//! and `start()` with the words of the compile errors.

use std::time::Duration;

use supervisor::{ChildInfo, Context, Restart, StartError, SupervisorHandle, supervision_tree, worker};

/// Runs until cancelled.
#[worker]
#[derive(Clone)]
struct Idle;
impl Idle {
    async fn run(self, ctx: Context) {
        ctx.cancelled().await
    }
}

/// Fails 10 ms into its first run, then runs until cancelled.
#[worker]
#[derive(Clone)]
struct FailsOnce;
impl FailsOnce {
    async fn run(self, ctx: Context) -> Result<(), std::io::Error> {
        if ctx.attempt() == 1 {
            tokio::time::sleep(Duration::from_millis(10)).await;
            return Err(std::io::Error::other("first run fails"));
        }
        ctx.cancelled().await;
        Ok(())
    }
}

/// Like `FailsOnce`, but temporary by default: never restarted unless the
/// tree says otherwise.
#[worker(restart = temporary)]
#[derive(Clone)]
struct TemporaryFailsOnce;
impl TemporaryFailsOnce {
    async fn run(self, ctx: Context) -> Result<(), std::io::Error> {
        FailsOnce.run(ctx).await
    }
}

/// Ends normally after 10 ms.
#[worker(restart = temporary)]
#[derive(Clone)]
struct Finishes;
impl Finishes {
    async fn run(self, _ctx: Context) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn child(tree: &SupervisorHandle, id: &str) -> ChildInfo {
    let children = tree.which_children().await.expect("the tree runs");
    children.into_iter().find(|c| c.id == id).unwrap_or_else(|| panic!("no child `{id}`"))
}

/// Waits (in paused time) until child `id` is on its `attempt`-th run.
async fn wait_for_attempt(tree: &SupervisorHandle, id: &str, attempt: u32) {
    for _ in 0..1000 {
        if child(tree, id).await.attempt >= attempt {
            return;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    panic!("child `{id}` never reached attempt {attempt}");
}

#[tokio::test(start_paused = true)]
async fn group_one_for_all_restarts_only_its_members() {
    let spec = supervision_tree! {
        supervisor app(strategy = one_for_one) {
            worker a(group = pair) = FailsOnce;
            worker b(group = pair) = Idle;
            worker outsider = Idle;
            group pair(strategy = one_for_all);
        }
    };
    let tree = spec.start().await.expect("starts");
    wait_for_attempt(&tree, "a", 2).await;
    wait_for_attempt(&tree, "b", 2).await;
    assert_eq!(child(&tree, "outsider").await.attempt, 1, "a non-member is left alone");
    tree.shutdown().await.expect("shuts down");
}

#[tokio::test(start_paused = true)]
async fn override_strategy_applies_to_its_child_only() {
    let spec = supervision_tree! {
        supervisor app(strategy = one_for_one) {
            worker a = FailsOnce;
            worker b = Idle;
            worker c = Idle;
            override a(strategy = rest_for_one);
        }
    };
    let tree = spec.start().await.expect("starts");
    wait_for_attempt(&tree, "a", 2).await;
    wait_for_attempt(&tree, "c", 2).await;
    assert_eq!(child(&tree, "b").await.attempt, 2, "rest_for_one from `a` restarts `b` too");
    tree.shutdown().await.expect("shuts down");
}

#[tokio::test(start_paused = true)]
async fn tree_option_wins_over_worker_default() {
    let spec = supervision_tree! {
        supervisor app {
            worker by_default = TemporaryFailsOnce;
            worker overridden(restart = permanent) = TemporaryFailsOnce;
        }
    };
    assert_eq!(spec.children()[0].options().restart, Restart::Temporary);
    assert_eq!(spec.children()[1].options().restart, Restart::Permanent);
    let tree = spec.start().await.expect("starts");
    wait_for_attempt(&tree, "overridden", 2).await;
    // The temporary one ended and is gone (or stopped), never restarted.
    let children = tree.which_children().await.expect("runs");
    assert!(children.iter().all(|c| c.id != "by_default" || c.attempt == 1), "{children:?}");
    tree.shutdown().await.expect("shuts down");
}

#[tokio::test(start_paused = true)]
async fn significant_child_ends_the_tree_under_any_significant() {
    let spec = supervision_tree! {
        supervisor app(auto_shutdown = any_significant) {
            worker keep = Idle;
            worker done(significant) = Finishes;
        }
    };
    let tree = spec.start().await.expect("starts");
    tokio::time::timeout(Duration::from_secs(5), tree.wait())
        .await
        .expect("the tree ends by itself")
        .expect("without an error");
}

/// The first line of a pinned compile error, without `error: `.
fn compile_error(case: &str) -> String {
    let path = format!("{}/../ui-tests/ui/fail/{case}.stderr", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let first = text.lines().next().expect("a message");
    first.strip_prefix("error: ").expect("an error").to_string()
}

#[tokio::test]
async fn run_time_backoff_is_checked_at_start_with_the_compile_error_wording() {
    let (min, max) = (Duration::from_millis(1500), Duration::from_millis(10));
    let spec = supervision_tree! {
        supervisor app {
            worker a(backoff = { min..max }) = Idle;
        }
    };
    let expected = compile_error("backoff_min_above_max");
    assert_eq!(expected, "backoff of child `app/a` has min 1.5s above max 10ms: write the smaller delay first");
    let err = spec.validate().expect_err("min above max");
    assert_eq!(err.to_string(), format!("invalid supervision tree: {expected}"));
    match spec.start().await {
        Err(StartError::Invalid(errors)) => assert_eq!(errors, err),
        other => panic!("expected an invalid spec, got {:?}", other.map(|_| ())),
    }
}

#[test]
fn run_time_zero_within_is_rejected_with_the_compile_error_wording() {
    let window = Duration::ZERO;
    let spec = supervision_tree! {
        supervisor app {
            worker a(group = g) = Idle;
            group g(max_restarts = 5, within = { window });
        }
    };
    let expected = compile_error("within_zero");
    let err = spec.validate().expect_err("zero window");
    assert_eq!(err.to_string(), format!("invalid supervision tree: {expected}"));
}

#[test]
fn run_time_group_name_is_checked_by_validate() {
    let name = "pipelin";
    let spec = supervision_tree! {
        supervisor app {
            worker a(group = { name }) = Idle;
            group pipeline(strategy = one_for_all);
        }
    };
    let err = spec.validate().expect_err("unknown group");
    assert!(
        err.to_string().contains("child `app/a` names group `pipelin`, which supervisor `app` does not declare"),
        "{err}"
    );
}
