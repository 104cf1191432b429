//! Start and shutdown: order, rollback, start timeouts, shutdown policies,
//! and no task left behind.

mod common;

use common::*;
use supervisor::{
    ChildSpec, Context, EventKind, ExitReason, Shutdown, StartError, Strategy, SupervisorError, SupervisorSpec,
};
use tokio::time::Instant;

fn three_level(probe: &Probe) -> SupervisorSpec {
    SupervisorSpec::new("app")
        .child(idle(probe, "a"))
        .supervisor(
            SupervisorSpec::new("mid")
                .child(idle(probe, "b"))
                .supervisor(SupervisorSpec::new("leaf").child(idle(probe, "c")).child(idle(probe, "d")))
                .child(idle(probe, "e")),
        )
        .child(idle(probe, "f"))
}

#[tokio::test(start_paused = true)]
async fn start_order_is_declaration_order_depth_first() {
    let probe = Probe::new();
    let tree = three_level(&probe).start().await.unwrap();
    assert_eq!(probe.log(), ["start:a", "start:b", "start:c", "start:d", "start:e", "start:f"]);
    tree.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn shutdown_order_is_reverse_start_order_including_nested_supervisors() {
    let probe = Probe::new();
    let tree = three_level(&probe).start().await.unwrap();
    probe.clear_log();
    tree.shutdown().await.unwrap();
    assert_eq!(probe.log(), ["stop:f", "stop:e", "stop:d", "stop:c", "stop:b", "stop:a"]);
}

#[tokio::test(start_paused = true)]
async fn no_task_is_alive_after_shutdown_of_a_three_level_tree() {
    let probe = Probe::new();
    let spec =
        SupervisorSpec::new("app").child(always(&probe, "stubborn", Act::IgnoreCancel).shutdown(ms(100))).supervisor(
            SupervisorSpec::new("mid").child(always(&probe, "slow", Act::SlowStop(ms(50)))).supervisor(
                SupervisorSpec::new("leaf")
                    .child(always(&probe, "killed", Act::IgnoreCancel).shutdown(Shutdown::BrutalKill))
                    .child(always(&probe, "deaf", Act::IgnoreCancel).shutdown(ms(10))),
            ),
        );
    let tree = spec.start().await.unwrap();
    assert_eq!(probe.live(), 4);
    tree.shutdown().await.unwrap();
    assert_eq!(probe.live(), 0, "shutdown returned while a task was alive");
}

#[tokio::test(start_paused = true)]
async fn child_ignoring_cancellation_is_aborted_after_its_shutdown_time() {
    let probe = Probe::new();
    let tree = SupervisorSpec::new("app")
        .child(always(&probe, "deaf", Act::IgnoreCancel).shutdown(secs(2)))
        .start()
        .await
        .unwrap();
    let mut events = tree.subscribe();
    let t0 = Instant::now();
    tree.shutdown().await.unwrap();
    assert_eq!(t0.elapsed(), secs(2));
    assert_eq!(probe.live(), 0);
    let reasons: Vec<ExitReason> = drain(&mut events)
        .into_iter()
        .filter_map(|e| match e.kind {
            EventKind::Exited { reason } => Some(reason),
            _ => None,
        })
        .collect();
    assert_eq!(reasons, [ExitReason::Killed]);
}

#[tokio::test(start_paused = true)]
async fn child_stopping_within_its_time_ends_as_shutdown() {
    let probe = Probe::new();
    let tree = SupervisorSpec::new("app")
        .child(always(&probe, "slow", Act::SlowStop(ms(300))).shutdown(secs(2)))
        .start()
        .await
        .unwrap();
    let mut events = tree.subscribe();
    let t0 = Instant::now();
    tree.shutdown().await.unwrap();
    assert_eq!(t0.elapsed(), ms(300));
    let reasons: Vec<ExitReason> = drain(&mut events)
        .into_iter()
        .filter_map(|e| match e.kind {
            EventKind::Exited { reason } => Some(reason),
            _ => None,
        })
        .collect();
    assert_eq!(reasons, [ExitReason::Shutdown]);
}

#[tokio::test(start_paused = true)]
async fn brutal_kill_aborts_without_cancellation() {
    let probe = Probe::new();
    let p = probe.clone();
    // Records, when its run is dropped, whether it had been asked to stop.
    struct Witness(Context, Probe);
    impl Drop for Witness {
        fn drop(&mut self) {
            self.1.push(format!("cancelled={}", self.0.is_cancelled()));
        }
    }
    let tree = SupervisorSpec::new("app")
        .child(
            ChildSpec::from_fn("victim", move |ctx: Context| {
                let witness = Witness(ctx.clone(), p.clone());
                async move {
                    let _witness = witness;
                    ctx.cancelled().await;
                }
            })
            .shutdown(Shutdown::BrutalKill),
        )
        .start()
        .await
        .unwrap();
    let t0 = Instant::now();
    tree.shutdown().await.unwrap();
    assert_eq!(t0.elapsed(), ms(0));
    assert_eq!(probe.log(), ["cancelled=false"]);
}

#[tokio::test(start_paused = true)]
async fn infinity_waits_for_a_slow_child() {
    let probe = Probe::new();
    let tree = SupervisorSpec::new("app")
        .child(idle(&probe, "first"))
        .child(always(&probe, "slow", Act::SlowStop(secs(3600))).shutdown(Shutdown::Infinity))
        .start()
        .await
        .unwrap();
    probe.clear_log();
    let t0 = Instant::now();
    tree.shutdown().await.unwrap();
    assert_eq!(t0.elapsed(), secs(3600));
    assert_eq!(probe.log(), ["stop:slow", "stop:first"]);
    assert_eq!(probe.live(), 0);
}

#[tokio::test(start_paused = true)]
async fn failing_start_rolls_back_in_reverse_and_names_the_child() {
    let probe = Probe::new();
    let result = SupervisorSpec::new("app")
        .child(idle(&probe, "a"))
        .child(idle(&probe, "b"))
        .child(always(&probe, "bad", Act::Err).start_timeout(secs(1)))
        .child(idle(&probe, "never"))
        .start()
        .await;
    let err = result.unwrap_err();
    assert!(
        matches!(&err, StartError::ChildFailed { child, reason: ExitReason::Failed(e) }
            if child == "app/bad" && e.to_string() == "bad failed"),
        "{err:?}"
    );
    assert!(err.to_string().contains("app/bad"), "{err}");
    assert_eq!(probe.log(), ["start:a", "start:b", "start:bad", "stop:bad", "stop:b", "stop:a"]);
    assert_eq!(probe.runs("never"), 0);
    assert_eq!(probe.live(), 0);
}

#[tokio::test(start_paused = true)]
async fn start_timeout_without_ready_rolls_back() {
    let probe = Probe::new();
    let t0 = Instant::now();
    let err = SupervisorSpec::new("app")
        .child(idle(&probe, "a"))
        .child(always(&probe, "mute", Act::NeverReady).start_timeout(secs(1)))
        .child(idle(&probe, "never"))
        .start()
        .await
        .unwrap_err();
    assert_eq!(t0.elapsed(), secs(1));
    assert!(
        matches!(&err, StartError::ChildFailed { child, reason: ExitReason::StartTimeout(d) }
            if child == "app/mute" && *d == secs(1)),
        "{err:?}"
    );
    assert_eq!(probe.log(), ["start:a", "start:mute", "stop:mute", "stop:a"]);
    assert_eq!(probe.live(), 0);
}

#[tokio::test(start_paused = true)]
async fn nested_start_failure_names_the_nested_child() {
    let probe = Probe::new();
    let err = SupervisorSpec::new("app")
        .child(idle(&probe, "a"))
        .supervisor(
            SupervisorSpec::new("sub")
                .child(idle(&probe, "x"))
                .child(always(&probe, "bad", Act::Panic).start_timeout(secs(1))),
        )
        .child(idle(&probe, "never"))
        .start()
        .await
        .unwrap_err();
    let StartError::ChildFailed { child, reason: ExitReason::Supervisor(inner) } = &err else { panic!("{err:?}") };
    assert_eq!(child, "app/sub");
    assert!(
        matches!(&**inner, SupervisorError::Start(StartError::ChildFailed { child, reason: ExitReason::Panicked(_) })
            if child == "app/sub/bad"),
        "{inner:?}"
    );
    assert!(err.to_string().contains("app/sub/bad"), "{err}");
    assert_eq!(probe.log(), ["start:a", "start:x", "start:bad", "stop:bad", "stop:x", "stop:a"]);
    assert_eq!(probe.live(), 0);
}

#[tokio::test(start_paused = true)]
async fn next_sibling_starts_only_once_the_previous_is_ready() {
    let probe = Probe::new();
    let spec = SupervisorSpec::new("app")
        .child(always(&probe, "warm", Act::ReadyAfter(ms(500))).start_timeout(secs(1)))
        .child(idle(&probe, "next"));
    let t0 = Instant::now();
    let starting = tokio::spawn(spec.start());
    settle_for(ms(250)).await;
    assert_eq!(probe.log(), ["start:warm"]);
    let tree = starting.await.unwrap().unwrap();
    assert_eq!(t0.elapsed(), ms(500));
    assert_eq!(probe.log(), ["start:warm", "start:next"]);
    tree.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn child_failing_at_once_without_start_timeout_is_restarted_not_a_start_error() {
    let probe = Probe::new();
    let tree = SupervisorSpec::new("app")
        .child(first_then_idle(&probe, "hasty", Act::Err))
        .child(idle(&probe, "next"))
        .start()
        .await
        .unwrap();
    settle().await;
    assert_eq!((probe.runs("hasty"), probe.runs("next")), (2, 1));
    tree.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn dropping_every_root_handle_shuts_the_tree_down() {
    let probe = Probe::new();
    let tree = three_level(&probe).start().await.unwrap();
    let clone = tree.clone();
    let mid = tree.nested("mid").await.unwrap();
    let mut events = tree.subscribe();
    assert_eq!(probe.live(), 6);
    drop(tree);
    settle().await;
    assert_eq!(probe.live(), 6, "a clone still owns the tree");
    drop(clone);
    settle().await;
    assert_eq!(probe.live(), 0, "a nested handle does not keep the tree alive");
    assert!(mid.is_finished());
    let last = drain(&mut events).pop().map(|e| (e.path.to_string(), e.kind));
    assert!(matches!(last, Some((ref p, EventKind::ShutdownCompleted)) if p == "app"), "{last:?}");
}

#[tokio::test(start_paused = true)]
async fn shutdown_while_a_nested_supervisor_restarts_leaves_no_task() {
    let probe = Probe::new();
    let p = probe.clone();
    // The nested child is ready at once the first time, and takes an hour
    // the second time: the tree is shut down while it waits.
    let slow =
        scripted(&probe, "slow", move |_| if p.runs("slow") == 0 { Act::Idle } else { Act::ReadyAfter(secs(3600)) })
            .start_timeout(secs(7200));
    let tree = SupervisorSpec::new("app")
        .strategy(Strategy::OneForAll)
        .supervisor(SupervisorSpec::new("sub").child(idle(&probe, "first")).child(slow))
        .child(first_then_idle(&probe, "crash", Act::ErrAfter(ms(10))))
        .start()
        .await
        .unwrap();
    settle_for(ms(100)).await;
    assert_eq!(probe.runs("slow"), 2);
    assert_eq!(probe.live(), 2, "first and slow run, crash waits");
    probe.clear_log();
    let t0 = Instant::now();
    tree.shutdown().await.unwrap();
    assert!(t0.elapsed() < secs(1), "shutdown waited for the start: {:?}", t0.elapsed());
    assert_eq!(probe.live(), 0, "a child of the interrupted start outlived the shutdown");
    assert_eq!(probe.log(), ["stop:slow", "stop:first"], "the interrupted start stops in reverse order");
}

#[tokio::test(start_paused = true)]
async fn shutdown_returns_ok_and_is_idempotent() {
    let probe = Probe::new();
    let tree = SupervisorSpec::new("app").child(idle(&probe, "a")).start().await.unwrap();
    let other = tree.clone();
    let (a, b) = tokio::join!(tree.shutdown(), other.shutdown());
    assert!(a.is_ok() && b.is_ok());
    assert!(tree.shutdown().await.is_ok());
    assert!(ended(&tree).await.is_ok());
}
