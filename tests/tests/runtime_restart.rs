//! Restart policies and strategies: who is restarted after which exit, in
//! which order, and never two runs of one child at once.

mod common;

use common::*;
use supervisor::{
    ChildInfo, ChildSpec, ChildState, CommandError, EventKind, ExitReason, Restart, Strategy, SupervisorHandle,
    SupervisorSpec,
};

fn explode(msg: &str) {
    panic!("{msg}");
}

async fn child(tree: &SupervisorHandle, id: &str) -> ChildInfo {
    let kids = tree.which_children().await.unwrap();
    kids.into_iter().find(|c| c.id == id).unwrap_or_else(|| panic!("no child `{id}`"))
}

#[tokio::test(start_paused = true)]
async fn panic_counts_as_failure_and_is_restarted_with_its_message() {
    let probe = Probe::new();
    let tree = SupervisorSpec::new("app")
        .child(first_then_idle(&probe, "crash", Act::ErrAfter(ms(10))).restart(Restart::Transient))
        .child(scripted(&probe, "boom", |a| if a == 1 { Act::Panic } else { Act::Idle }).restart(Restart::Transient))
        .start()
        .await
        .unwrap();
    let mut events = tree.subscribe();
    settle_for(ms(20)).await;

    assert_eq!(probe.runs("boom"), 2, "a transient child that panicked is restarted");
    let boom = child(&tree, "boom").await;
    assert_eq!(boom.state, ChildState::Running);
    assert_eq!(boom.attempt, 2);
    assert_eq!(boom.restarts, 1);
    assert_eq!(boom.last_exit, Some(ExitReason::Panicked("boom panicked".into())));

    // The error exit shows in the events with its reason.
    let exits: Vec<(String, ExitReason)> = drain(&mut events)
        .into_iter()
        .filter_map(|e| match e.kind {
            EventKind::Exited { reason } => Some((e.path.to_string(), reason)),
            _ => None,
        })
        .collect();
    assert_eq!(exits.len(), 1, "{exits:?}");
    assert_eq!(exits[0].0, "app/crash");
    assert!(matches!(&exits[0].1, ExitReason::Failed(e) if e.to_string() == "crash failed"), "{exits:?}");
    tree.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn panic_message_shows_in_exited_event() {
    let probe = Probe::new();
    let tree = SupervisorSpec::new("app").child(idle(&probe, "keep")).start().await.unwrap();
    let mut events = tree.subscribe();
    // A child whose run panics after the subscription.
    let panicker = ChildSpec::from_fn("late", |_ctx: supervisor::Context| async move {
        tokio::time::sleep(ms(5)).await;
        explode("late panicked");
    })
    .restart(Restart::Temporary);
    tree.start_child(panicker).await.unwrap();
    settle_for(ms(10)).await;
    let panicked: Vec<_> = drain(&mut events)
        .into_iter()
        .filter_map(|e| match e.kind {
            EventKind::Exited { reason: ExitReason::Panicked(msg) } => Some((e.path.to_string(), msg.to_string())),
            _ => None,
        })
        .collect();
    assert_eq!(panicked, vec![("app/late".to_string(), "late panicked".to_string())]);
    tree.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn transient_is_not_restarted_after_normal_exit() {
    let probe = Probe::new();
    let tree = SupervisorSpec::new("app")
        .child(always(&probe, "job", Act::OkAfter(ms(5))).restart(Restart::Transient))
        .start()
        .await
        .unwrap();
    settle_for(ms(50)).await;
    assert_eq!(probe.runs("job"), 1);
    let job = child(&tree, "job").await;
    assert_eq!(job.state, ChildState::Stopped);
    assert_eq!(job.restarts, 0);
    assert_eq!(job.last_exit, Some(ExitReason::Normal));
    tree.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn transient_is_restarted_after_error() {
    let probe = Probe::new();
    let tree = SupervisorSpec::new("app")
        .child(first_then_idle(&probe, "job", Act::ErrAfter(ms(5))).restart(Restart::Transient))
        .start()
        .await
        .unwrap();
    settle_for(ms(50)).await;
    assert_eq!(probe.runs("job"), 2);
    let job = child(&tree, "job").await;
    assert_eq!(job.state, ChildState::Running);
    assert_eq!(job.restarts, 1);
    tree.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn permanent_is_restarted_after_normal_exit() {
    let probe = Probe::new();
    let tree =
        SupervisorSpec::new("app").child(first_then_idle(&probe, "job", Act::OkAfter(ms(5)))).start().await.unwrap();
    settle_for(ms(50)).await;
    assert_eq!(probe.runs("job"), 2);
    assert_eq!(child(&tree, "job").await.state, ChildState::Running);
    tree.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn temporary_is_never_restarted_and_its_spec_is_removed() {
    let probe = Probe::new();
    let tree = SupervisorSpec::new("app")
        .child(idle(&probe, "keep"))
        .child(always(&probe, "once", Act::ErrAfter(ms(5))).restart(Restart::Temporary))
        .start()
        .await
        .unwrap();
    settle_for(ms(50)).await;
    assert_eq!(probe.runs("once"), 1);
    let ids: Vec<String> = tree.which_children().await.unwrap().into_iter().map(|c| c.id).collect();
    assert_eq!(ids, vec!["keep"]);
    tree.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn temporary_is_not_restarted_by_a_siblings_one_for_all() {
    let probe = Probe::new();
    let tree = SupervisorSpec::new("app")
        .strategy(Strategy::OneForAll)
        .child(idle(&probe, "temp").restart(Restart::Temporary))
        .child(idle(&probe, "perm"))
        .child(first_then_idle(&probe, "crash", Act::ErrAfter(ms(5))))
        .start()
        .await
        .unwrap();
    settle_for(ms(50)).await;
    assert_eq!(probe.runs("temp"), 1, "a temporary child is stopped, not restarted");
    assert_eq!(probe.runs("perm"), 2);
    assert_eq!(probe.runs("crash"), 2);
    let ids: Vec<String> = tree.which_children().await.unwrap().into_iter().map(|c| c.id).collect();
    assert_eq!(ids, vec!["perm", "crash"], "the stopped temporary child's spec is gone");
    assert_eq!(probe.live(), 2);
    tree.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn one_for_all_restarts_nested_supervisor() {
    let probe = Probe::new();
    let tree = SupervisorSpec::new("app")
        .strategy(Strategy::OneForAll)
        .supervisor(SupervisorSpec::new("sub").child(idle(&probe, "inner")))
        .child(first_then_idle(&probe, "crash", Act::ErrAfter(ms(5))))
        .start()
        .await
        .unwrap();
    let old_sub = tree.nested("sub").await.unwrap();
    settle_for(ms(50)).await;
    assert_eq!(probe.runs("inner"), 2, "the nested supervisor's child ran again");
    assert_eq!(probe.overlaps(), 0);
    assert!(old_sub.is_finished(), "the old nested supervisor ended");
    assert!(matches!(old_sub.which_children().await, Err(CommandError::NotRunning { .. })));
    let new_sub = tree.nested("sub").await.unwrap();
    assert_eq!(new_sub.which_children().await.unwrap()[0].state, ChildState::Running);
    let sub = child(&tree, "sub").await;
    assert_eq!(sub.attempt, 2);
    assert_eq!(sub.last_exit, Some(ExitReason::Shutdown));
    tree.shutdown().await.unwrap();
    assert_eq!(probe.live(), 0);
}

#[tokio::test(start_paused = true)]
async fn one_for_all_stops_others_in_reverse_then_starts_all_in_order() {
    let probe = Probe::new();
    let tree = SupervisorSpec::new("app")
        .strategy(Strategy::OneForAll)
        .child(idle(&probe, "a"))
        .child(first_then_idle(&probe, "b", Act::ErrAfter(ms(10))))
        .child(idle(&probe, "c"))
        .start()
        .await
        .unwrap();
    probe.clear_log();
    settle_for(ms(50)).await;
    assert_eq!(probe.log(), ["stop:b", "stop:c", "stop:a", "start:a", "start:b", "start:c"]);
    tree.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn rest_for_one_restarts_only_later_siblings_in_declaration_order() {
    let probe = Probe::new();
    let tree = SupervisorSpec::new("app")
        .strategy(Strategy::RestForOne)
        .child(idle(&probe, "a"))
        .child(first_then_idle(&probe, "b", Act::ErrAfter(ms(10))))
        .child(idle(&probe, "c"))
        .child(idle(&probe, "d"))
        .start()
        .await
        .unwrap();
    probe.clear_log();
    settle_for(ms(50)).await;
    assert_eq!(probe.log(), ["stop:b", "stop:d", "stop:c", "start:b", "start:c", "start:d"]);
    assert_eq!(probe.runs("a"), 1);
    let a = child(&tree, "a").await;
    assert_eq!((a.attempt, a.state), (1, ChildState::Running));
    tree.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn rest_for_one_of_the_last_child_restarts_it_alone() {
    let probe = Probe::new();
    let tree = SupervisorSpec::new("app")
        .strategy(Strategy::RestForOne)
        .child(idle(&probe, "a"))
        .child(first_then_idle(&probe, "b", Act::ErrAfter(ms(10))))
        .start()
        .await
        .unwrap();
    settle_for(ms(50)).await;
    assert_eq!((probe.runs("a"), probe.runs("b")), (1, 2));
    tree.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn old_run_is_gone_before_the_new_one_starts() {
    let probe = Probe::new();
    // Slow to stop, restarted by a sibling's failures again and again.
    let tree = SupervisorSpec::new("app")
        .strategy(Strategy::OneForAll)
        .max_restarts(10)
        .within(secs(60))
        .child(always(&probe, "slow", Act::SlowStop(ms(30))))
        .child(scripted(&probe, "flaky", |a| if a <= 4 { Act::ErrAfter(ms(5)) } else { Act::Idle }))
        .child(always(&probe, "stubborn", Act::IgnoreCancel).shutdown(ms(20)))
        .start()
        .await
        .unwrap();
    settle_for(secs(1)).await;
    assert_eq!(probe.runs("flaky"), 5);
    assert_eq!(probe.runs("slow"), 5);
    assert_eq!(probe.runs("stubborn"), 5);
    assert_eq!(probe.overlaps(), 0, "a new run started while the old one was alive");
    assert_eq!(probe.live(), 3);
    tree.shutdown().await.unwrap();
    assert_eq!(probe.live(), 0);
}
