//! The test kit used as a user would: scripted workers, the recorder and
//! the paused-clock helpers on real trees.
#![cfg(feature = "testing")]

use std::time::Duration;

use supervisor::testing::{
    Exit, Recorder, Script, WaitError, advance_to_next_restart, escalated, exited, heartbeat_missed, restart_scheduled,
    run_until_idle, shutdown_completed, shutdown_started, start_failed, started, wait_for_state,
};
use supervisor::{ChildSpec, ChildState, ExitReason, Restart, Shutdown, StartError, SupervisorSpec};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

async fn last_exit(tree: &supervisor::SupervisorHandle, id: &str) -> Option<ExitReason> {
    tree.which_children().await.unwrap().into_iter().find(|c| c.id == id).and_then(|c| c.last_exit)
}

#[tokio::test(start_paused = true)]
async fn a_script_plays_its_runs_in_order_then_repeats_the_last() {
    let db = Script::new().fails_after(ms(10)).panics().exits().stays_up();
    let tree = SupervisorSpec::new("app").child(ChildSpec::worker("db", db.clone())).start().await.unwrap();
    let mut events = Recorder::new(&tree);
    run_until_idle(&tree, ms(100), secs(10)).await.unwrap();
    events.assert_in_order(&[
        exited("app/db", Exit::Error).attempt(1),
        exited("app/db", Exit::Panic).attempt(2),
        exited("app/db", Exit::Normal).attempt(3),
        started("app/db").attempt(4),
    ]);
    assert_eq!(db.runs(), 4);
    assert_eq!(last_exit(&tree, "db").await, Some(ExitReason::Normal));
    tree.shutdown().await.unwrap();
    assert_eq!(db.runs(), 4, "the last run stayed up until the shutdown");
}

#[tokio::test(start_paused = true)]
async fn a_script_that_panics_says_which_run() {
    let job = Script::new().panics_after(ms(3));
    let tree = SupervisorSpec::new("app")
        .child(ChildSpec::worker("job", job).restart(Restart::Transient))
        .max_restarts(0)
        .start()
        .await
        .unwrap();
    let err = tree.wait().await.unwrap_err().to_string();
    assert!(err.contains("child `app/job` panicked: scripted panic in run 1"), "{err}");
}

#[tokio::test(start_paused = true)]
async fn a_script_that_is_never_ready_times_out_its_start() {
    let spec = SupervisorSpec::new("app")
        .child(ChildSpec::worker("listener", Script::new().never_ready()).start_timeout(ms(200)));
    let err = spec.start().await.unwrap_err();
    assert!(
        matches!(&err, StartError::ChildFailed { child, reason: ExitReason::StartTimeout(d) } if child == "app/listener" && *d == ms(200)),
        "{err}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_script_that_fails_to_start_is_a_failed_start_under_a_start_timeout() {
    let listener = Script::new().fails_after(ms(5)).fails_to_start().stays_up();
    let tree = SupervisorSpec::new("app")
        .child(ChildSpec::worker("listener", listener.clone()).start_timeout(secs(1)))
        .start()
        .await
        .unwrap();
    let mut events = Recorder::new(&tree);
    run_until_idle(&tree, ms(100), secs(10)).await.unwrap();
    events.assert_in_order(&[
        exited("app/listener", Exit::Error).attempt(1),
        start_failed("app/listener", Exit::Error).attempt(2),
        started("app/listener").attempt(3),
    ]);
    tree.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_script_that_hangs_is_killed_when_its_shutdown_time_runs_out() {
    let tree = SupervisorSpec::new("app")
        .child(ChildSpec::worker("stuck", Script::new().hangs()).shutdown(Shutdown::Timeout(ms(50))))
        .start()
        .await
        .unwrap();
    let t0 = tokio::time::Instant::now();
    tree.terminate_child("stuck").await.unwrap();
    assert_eq!(t0.elapsed(), ms(50));
    assert_eq!(last_exit(&tree, "stuck").await, Some(ExitReason::Killed));
    tree.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_script_that_beats_keeps_its_heartbeat_and_one_that_stays_up_misses_it() {
    let tree = SupervisorSpec::new("app")
        .child(ChildSpec::worker("beating", Script::new().beats_every(ms(10))).heartbeat(ms(50)))
        .child(ChildSpec::worker("silent", Script::new().stays_up()).heartbeat(ms(50)))
        .max_restarts(100)
        .start()
        .await
        .unwrap();
    let mut events = Recorder::new(&tree);
    tokio::time::sleep(ms(500)).await;
    assert!(!events.events().iter().any(|e| &*e.path == "app/beating"), "{:?}", events.events());
    events.assert_in_order(&[heartbeat_missed("app/silent"), exited("app/silent", Exit::HeartbeatMissed)]);
    tree.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn the_recorder_pins_one_subtree_exactly() {
    let tree = SupervisorSpec::new("app")
        .child(ChildSpec::worker("noise", Script::new().fails_after(ms(2)).stays_up()))
        .supervisor(
            SupervisorSpec::new("pipeline")
                .child(ChildSpec::worker("ingest", Script::new().fails_after(ms(5)).stays_up())),
        )
        .start()
        .await
        .unwrap();
    let mut events = Recorder::new(&tree).only_under("app/pipeline");
    run_until_idle(&tree, ms(100), secs(10)).await.unwrap();
    events.assert_exactly(&[
        exited("app/pipeline/ingest", Exit::Error),
        restart_scheduled("app/pipeline/ingest", Duration::ZERO),
        started("app/pipeline/ingest").attempt(2),
    ]);
    events.clear();
    tree.shutdown().await.unwrap();
    events.assert_exactly(&[
        shutdown_started("app/pipeline"),
        exited("app/pipeline/ingest", Exit::Shutdown),
        shutdown_completed("app/pipeline"),
        exited("app/pipeline", Exit::Shutdown),
    ]);
}

#[tokio::test(start_paused = true)]
async fn a_real_tree_that_does_not_match_gets_the_diff_of_expected_and_seen() {
    let tree = SupervisorSpec::new("app")
        .child(ChildSpec::worker("db", Script::new().fails_after(ms(5)).stays_up()))
        .start()
        .await
        .unwrap();
    let mut events = Recorder::new(&tree);
    run_until_idle(&tree, ms(100), secs(10)).await.unwrap();
    let report = events.check_exactly(&[exited("app/db", Exit::Panic), started("app/db")]).unwrap_err();
    assert_eq!(
        report.to_string(),
        "the events did not match exactly (- expected but not seen, + seen but not expected):
  - exited app/db: panic
  + exited app/db, attempt 1: error (failed: scripted failure of run 1)
  + restart_scheduled app/db, attempt 1: 0s
    started app/db, attempt 2"
    );
    let report = events.check_in_order(&[started("app/db"), escalated("app")]).unwrap_err();
    assert_eq!(
        report.to_string(),
        "the events did not match in order (gaps allowed): `escalated app` was not seen after event 3
expected:
  = started app/db  event 3
  ! escalated app   missing
seen (3 events):
  1   exited app/db, attempt 1: error (failed: scripted failure of run 1)
  2   restart_scheduled app/db, attempt 1: 0s
  3 = started app/db, attempt 2"
    );
    tree.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
#[should_panic(expected = "the events did not match in order (gaps allowed): `escalated app` was not seen")]
async fn assert_in_order_panics_with_its_report() {
    let tree = SupervisorSpec::new("app").child(ChildSpec::worker("db", Script::new())).start().await.unwrap();
    Recorder::new(&tree).assert_in_order(&[escalated("app")]);
}

#[tokio::test(start_paused = true)]
async fn run_until_idle_waits_through_a_long_backoff_and_ends_with_the_tree() {
    // A restart pending past `quiet` keeps the tree busy until it happens.
    let db = Script::new().fails().stays_up();
    let tree = SupervisorSpec::new("app")
        .child(ChildSpec::worker("db", db.clone()).backoff(secs(30)..secs(60)))
        .start()
        .await
        .unwrap();
    run_until_idle(&tree, ms(100), secs(60)).await.unwrap();
    assert_eq!(db.runs(), 2);
    tree.shutdown().await.unwrap();
    // A tree that gives up is idle once it has ended.
    let tree = SupervisorSpec::new("app").child(ChildSpec::worker("db", Script::new().fails())).start().await.unwrap();
    run_until_idle(&tree, ms(100), secs(60)).await.unwrap();
    assert!(tree.is_finished());
}

#[tokio::test(start_paused = true)]
async fn run_until_idle_gives_up_on_a_tree_that_never_settles() {
    // Restarts 10s apart against a budget of 1s: a crash loop that never
    // escalates.
    let tree = SupervisorSpec::new("app")
        .within(secs(1))
        .child(ChildSpec::worker("db", Script::new().fails()).backoff(secs(10)..secs(10)))
        .start()
        .await
        .unwrap();
    // (The bound falls between two restarts, not on one.)
    let err = run_until_idle(&tree, ms(100), secs(65)).await.unwrap_err();
    assert!(matches!(&err, WaitError::NotIdle { limit, .. } if *limit == secs(65)), "{err}");
    assert_eq!(err.to_string(), "the tree was not idle after 65s: child `app/db` waits for a restart");
    tree.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn advance_to_next_restart_moves_the_clock_to_the_restart() {
    let tree = SupervisorSpec::new("app")
        .child(
            ChildSpec::worker("db", Script::new().fails_after(secs(1)).fails_after(secs(1)).stays_up())
                .backoff(secs(5)..secs(60)),
        )
        .start()
        .await
        .unwrap();
    let t0 = tokio::time::Instant::now();
    let first = advance_to_next_restart(&tree, secs(60)).await.unwrap();
    assert_eq!((&*first.path, first.attempt, first.at - t0), ("app/db", 2, secs(6)));
    let second = advance_to_next_restart(&tree, secs(60)).await.unwrap();
    assert_eq!(second.attempt, 3);
    let err = advance_to_next_restart(&tree, secs(60)).await.unwrap_err();
    assert_eq!(err, WaitError::NoRestart { limit: secs(60), last: None });
    assert_eq!(err.to_string(), "no child started again within 60s");
    tree.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn wait_for_state_follows_a_child_through_nested_supervisors() {
    let tree =
        SupervisorSpec::new("app")
            .supervisor(SupervisorSpec::new("http").child(
                ChildSpec::worker("router", Script::new().fails_after(ms(10)).stays_up()).backoff(secs(2)..secs(4)),
            ))
            .start()
            .await
            .unwrap();
    let t0 = tokio::time::Instant::now();
    wait_for_state(&tree, "app/http/router", ChildState::Restarting, secs(1)).await.unwrap();
    assert_eq!(t0.elapsed(), ms(10));
    let router = wait_for_state(&tree, "app/http/router", ChildState::Running, secs(5)).await.unwrap();
    assert_eq!((router.attempt, router.restarts), (2, 1));
    assert_eq!(t0.elapsed(), ms(2010));

    let err = wait_for_state(&tree, "app/http/router", ChildState::Stopped, secs(1)).await.unwrap_err();
    assert_eq!(err.to_string(), "child `app/http/router` was not Stopped within 1s: it is Running");
    let err = wait_for_state(&tree, "app/http/ruoter", ChildState::Running, secs(1)).await.unwrap_err();
    assert_eq!(err.to_string(), "child `app/http/ruoter` was not Running within 1s: it is not in the tree now");
    let err = wait_for_state(&tree, "http/router", ChildState::Running, secs(1)).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "`http/router` is not in the tree of `app`: give the child's full path, starting with `app/`"
    );
    tree.shutdown().await.unwrap();
}
