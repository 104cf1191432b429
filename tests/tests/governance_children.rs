//! auto_shutdown with significant children, and dynamic children.

mod common;

use common::*;
use supervisor::{AutoShutdown, ChildState, CommandError, EventKind, ExitReason, Restart, Strategy, SupervisorSpec};
use tokio::time::Instant;

#[tokio::test(start_paused = true)]
async fn any_significant_transient_ending_normally_ends_the_supervisor() {
    let probe = Probe::new();
    let tree = SupervisorSpec::new("app")
        .auto_shutdown(AutoShutdown::AnySignificant)
        .child(idle(&probe, "a"))
        .child(always(&probe, "job", Act::OkAfter(ms(10))).restart(Restart::Transient).significant(true))
        .start()
        .await
        .unwrap();
    let mut events = tree.subscribe();
    let t0 = Instant::now();
    assert!(ended(&tree).await.is_ok());
    assert_eq!(t0.elapsed(), ms(10));
    assert_eq!(probe.live(), 0);
    assert!(drain(&mut events).iter().any(|e| matches!(e.kind, EventKind::AutoShutdown) && &*e.path == "app"));
}

#[tokio::test(start_paused = true)]
async fn significant_transient_failing_is_restarted_instead() {
    let probe = Probe::new();
    let tree = SupervisorSpec::new("app")
        .auto_shutdown(AutoShutdown::AnySignificant)
        .child(idle(&probe, "a"))
        .child(first_then_idle(&probe, "job", Act::ErrAfter(ms(10))).restart(Restart::Transient).significant(true))
        .start()
        .await
        .unwrap();
    settle_for(ms(50)).await;
    assert!(!tree.is_finished());
    assert_eq!(probe.runs("job"), 2);
    tree.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn significant_temporary_ending_at_all_ends_the_supervisor() {
    let probe = Probe::new();
    let tree = SupervisorSpec::new("app")
        .auto_shutdown(AutoShutdown::AnySignificant)
        .child(idle(&probe, "a"))
        .child(always(&probe, "job", Act::ErrAfter(ms(10))).restart(Restart::Temporary).significant(true))
        .start()
        .await
        .unwrap();
    assert!(ended(&tree).await.is_ok());
    assert_eq!(probe.live(), 0);
}

#[tokio::test(start_paused = true)]
async fn exits_caused_by_a_siblings_restart_or_terminate_child_do_not_count() {
    let probe = Probe::new();
    let tree = SupervisorSpec::new("app")
        .strategy(Strategy::OneForAll)
        .auto_shutdown(AutoShutdown::AnySignificant)
        .child(idle(&probe, "sig").restart(Restart::Transient).significant(true))
        .child(first_then_idle(&probe, "crash", Act::ErrAfter(ms(10))))
        .start()
        .await
        .unwrap();
    settle_for(ms(50)).await;
    assert!(!tree.is_finished(), "a sibling's restart stopped it: that does not count");
    assert_eq!(probe.runs("sig"), 2);
    tree.terminate_child("sig").await.unwrap();
    settle_for(ms(50)).await;
    assert!(!tree.is_finished(), "terminate_child does not count");
    assert_eq!(tree.which_children().await.unwrap()[0].state, ChildState::Stopped);
    tree.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn all_significant_waits_for_the_last_significant_child() {
    let probe = Probe::new();
    let tree = SupervisorSpec::new("app")
        .auto_shutdown(AutoShutdown::AllSignificant)
        .child(idle(&probe, "a"))
        .child(always(&probe, "s1", Act::OkAfter(ms(10))).restart(Restart::Transient).significant(true))
        .child(always(&probe, "s2", Act::OkAfter(ms(30))).restart(Restart::Transient).significant(true))
        .start()
        .await
        .unwrap();
    settle_for(ms(20)).await;
    assert!(!tree.is_finished(), "s2 still runs");
    let t0 = Instant::now();
    assert!(ended(&tree).await.is_ok());
    assert_eq!(t0.elapsed(), ms(10), "ends when s2 ends, 30 ms in");
    assert_eq!(probe.live(), 0);
}

#[tokio::test(start_paused = true)]
async fn all_significant_ignores_a_terminated_significant_child() {
    let probe = Probe::new();
    let tree = SupervisorSpec::new("app")
        .auto_shutdown(AutoShutdown::AllSignificant)
        .child(idle(&probe, "a"))
        .child(idle(&probe, "s1").restart(Restart::Transient).significant(true))
        .child(always(&probe, "s2", Act::OkAfter(ms(30))).restart(Restart::Transient).significant(true))
        .start()
        .await
        .unwrap();
    tree.terminate_child("s1").await.unwrap();
    settle_for(ms(10)).await;
    assert!(!tree.is_finished());
    // OTP: the supervisor ends once no significant child is left alive; a
    // terminated one is not.
    let ended = tokio::time::timeout(secs(10), tree.wait()).await;
    assert!(matches!(ended, Ok(Ok(()))), "{ended:?}");
    assert_eq!(probe.live(), 0);
}

#[tokio::test(start_paused = true)]
async fn nested_supervisor_auto_shutdown_is_a_normal_exit_for_its_parent() {
    let probe = Probe::new();
    let sub = SupervisorSpec::new("sub")
        .auto_shutdown(AutoShutdown::AnySignificant)
        .child(idle(&probe, "x"))
        .child(always(&probe, "job", Act::OkAfter(ms(10))).restart(Restart::Transient).significant(true));
    let tree = SupervisorSpec::new("app")
        .child(idle(&probe, "a"))
        .child(supervisor::ChildSpec::supervisor(sub).restart(Restart::Transient))
        .start()
        .await
        .unwrap();
    settle_for(ms(50)).await;
    let kids = tree.which_children().await.unwrap();
    assert_eq!(kids[1].state, ChildState::Stopped);
    assert_eq!(kids[1].last_exit, Some(ExitReason::Normal));
    assert_eq!((probe.runs("x"), probe.runs("job")), (1, 1));
    assert_eq!(probe.live(), 1);
    tree.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn max_children_is_enforced_for_start_child() {
    let probe = Probe::new();
    let tree = SupervisorSpec::new("app")
        .max_children(3)
        .child(idle(&probe, "a"))
        .child(idle(&probe, "b"))
        .start()
        .await
        .unwrap();
    tree.start_child(idle(&probe, "c")).await.unwrap();
    assert_eq!(
        tree.start_child(idle(&probe, "d")).await,
        Err(CommandError::TooManyChildren { supervisor: "app".into(), max: 3 })
    );
    assert_eq!(probe.runs("d"), 0);
    tree.terminate_child("c").await.unwrap();
    tree.delete_child("c").await.unwrap();
    tree.start_child(idle(&probe, "d")).await.unwrap();
    let kids = tree.which_children().await.unwrap();
    assert_eq!(
        kids.iter().map(|k| (k.id.as_str(), k.dynamic)).collect::<Vec<_>>(),
        [("a", false), ("b", false), ("d", true)]
    );
    tree.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn dynamic_children_are_restarted_by_policy() {
    let probe = Probe::new();
    let tree = SupervisorSpec::new("app").child(idle(&probe, "a")).start().await.unwrap();
    tree.start_child(first_then_idle(&probe, "dyn", Act::ErrAfter(ms(10)))).await.unwrap();
    tree.start_child(always(&probe, "tmp", Act::ErrAfter(ms(10))).restart(Restart::Temporary)).await.unwrap();
    settle_for(ms(50)).await;
    assert_eq!((probe.runs("dyn"), probe.runs("tmp")), (2, 1));
    let ids: Vec<String> = tree.which_children().await.unwrap().into_iter().map(|c| c.id).collect();
    assert_eq!(ids, ["a", "dyn"]);
    tree.shutdown().await.unwrap();
    assert_eq!(probe.live(), 0);
}

#[tokio::test(start_paused = true)]
async fn dynamic_children_are_not_kept_across_the_supervisors_restart() {
    let probe = Probe::new();
    let p = probe.clone();
    // The declared child fails once, 50 ms in, over all incarnations.
    let w = scripted(&probe, "w", move |_| if p.runs("w") == 0 { Act::ErrAfter(ms(50)) } else { Act::Idle });
    let tree = SupervisorSpec::new("app")
        .supervisor(SupervisorSpec::new("sub").max_restarts(0).child(w))
        .start()
        .await
        .unwrap();
    let sub = tree.nested("sub").await.unwrap();
    sub.start_child(idle(&probe, "dyn")).await.unwrap();
    assert_eq!(probe.live(), 2);
    settle_for(ms(100)).await;
    assert!(sub.is_finished(), "the nested supervisor gave up");
    let sub = tree.nested("sub").await.unwrap();
    let ids: Vec<String> = sub.which_children().await.unwrap().into_iter().map(|c| c.id).collect();
    assert_eq!(ids, ["w"]);
    assert_eq!((probe.runs("w"), probe.runs("dyn")), (2, 1));
    assert_eq!(probe.live(), 1);
    tree.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn dynamic_children_stop_concurrently_at_shutdown() {
    let probe = Probe::new();
    let tree = SupervisorSpec::new("app").child(idle(&probe, "a")).start().await.unwrap();
    tree.start_child(always(&probe, "d1", Act::SlowStop(secs(1)))).await.unwrap();
    tree.start_child(always(&probe, "d2", Act::SlowStop(secs(1)))).await.unwrap();
    probe.clear_log();
    let t0 = Instant::now();
    tree.shutdown().await.unwrap();
    assert_eq!(t0.elapsed(), secs(1), "two dynamic children taking 1 s each stop together");
    assert_eq!(probe.live(), 0);
    assert_eq!(probe.log().last().map(String::as_str), Some("stop:a"), "declared children stop after the dynamic ones");
}
