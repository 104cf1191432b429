//! The restart-storm bound against the runtime: trees whose children fail
//! as fast as they can run exactly as often as `restart_bound()` says
//! before the root gives up.
#![cfg(feature = "testing")]

use std::time::Duration;

use supervisor::testing::Script;
use supervisor::{ChildSpec, GroupSpec, Policy, Strategy, SupervisorError, SupervisorSpec};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn bound(spec: &SupervisorSpec, path: &str) -> u64 {
    spec.restart_bound().into_iter().find(|b| b.path == path).map(|b| b.runs).unwrap()
}

/// Starts the tree and waits for the root to give up.
async fn run_to_the_end(spec: SupervisorSpec) {
    let tree = spec.start().await.unwrap();
    let end = tokio::time::timeout(Duration::from_secs(60), tree.wait()).await.expect("the root gives up");
    assert!(matches!(end, Err(SupervisorError::Escalated { .. })), "{end:?}");
}

#[tokio::test(start_paused = true)]
async fn a_leaf_under_three_default_supervisors_runs_64_times() {
    let leaf = Script::new().fails_after(ms(1));
    let spec = SupervisorSpec::new("app").supervisor(
        SupervisorSpec::new("a").supervisor(SupervisorSpec::new("b").child(ChildSpec::worker("leaf", leaf.clone()))),
    );
    assert_eq!(bound(&spec, "app/a/b/leaf"), 64);
    run_to_the_end(spec).await;
    assert_eq!(leaf.runs(), 64);
}

#[tokio::test(start_paused = true)]
async fn a_group_with_its_own_budget_multiplies_under_its_supervisors() {
    let fast = Script::new().fails_after(ms(1));
    let spec = SupervisorSpec::new("app").supervisor(
        SupervisorSpec::new("sub")
            .child(ChildSpec::worker("steady", Script::new()))
            .child(ChildSpec::worker("fast", fast.clone()).group("g"))
            .group(GroupSpec::new("g").max_restarts(10).within(Duration::from_secs(1))),
    );
    assert_eq!(bound(&spec, "app/sub/fast"), 4 * 11);
    run_to_the_end(spec).await;
    assert_eq!(fast.runs(), 44);
}

#[tokio::test(start_paused = true)]
async fn a_sibling_restarted_by_an_overrides_budget_and_its_own_reaches_both() {
    // cache spends the supervisor's budget (3 restarts) by itself; db's
    // one_for_all restarts it five times more against db's own budget, and
    // db's sixth failure ends the tree.
    let cache = Script::new().fails_after(ms(1)).times(3).stays_up();
    let db = Script::new().fails_after(ms(10));
    let spec = SupervisorSpec::new("app")
        .child(ChildSpec::worker("db", db.clone()))
        .child(ChildSpec::worker("cache", cache.clone()))
        .override_child(
            "db",
            Policy::new().strategy(Strategy::OneForAll).max_restarts(5).within(Duration::from_secs(1)),
        );
    assert_eq!(bound(&spec, "app/cache"), 1 + 3 + 5);
    assert_eq!(bound(&spec, "app/db"), 1 + 5);
    run_to_the_end(spec).await;
    assert_eq!((cache.runs(), db.runs()), (9, 6));
}
