//! Commands to a supervisor: terminate, restart, delete, nested handles, and
//! prompt refusals once the tree has ended.

mod common;

use std::future::Future;

use common::*;
use supervisor::{ChildInfo, ChildState, CommandError, Restart, SupervisorHandle, SupervisorSpec};

/// Fails the test if a command takes more than a second of (paused) time.
async fn promptly<T>(f: impl Future<Output = T>) -> T {
    tokio::time::timeout(secs(1), f).await.expect("the command hung")
}

async fn child(tree: &SupervisorHandle, id: &str) -> Option<ChildInfo> {
    tree.which_children().await.unwrap().into_iter().find(|c| c.id == id)
}

fn not_running(r: Result<impl std::fmt::Debug, CommandError>, path: &str) {
    match r {
        Err(CommandError::NotRunning { supervisor }) => assert_eq!(supervisor, path),
        other => panic!("expected NotRunning for `{path}`, got {other:?}"),
    }
}

async fn assert_all_refused(tree: &SupervisorHandle, sub: &SupervisorHandle, probe: &Probe) {
    not_running(promptly(tree.which_children()).await, "app");
    not_running(promptly(tree.count_children()).await, "app");
    not_running(promptly(tree.terminate_child("a")).await, "app");
    not_running(promptly(tree.restart_child("a")).await, "app");
    not_running(promptly(tree.delete_child("a")).await, "app");
    not_running(promptly(tree.start_child(idle(probe, "new"))).await, "app");
    not_running(promptly(tree.nested("sub")).await, "app");
    not_running(promptly(sub.which_children()).await, "app/sub");
    not_running(promptly(sub.start_child(idle(probe, "new"))).await, "app/sub");
    assert_eq!(probe.runs("new"), 0);
}

#[tokio::test(start_paused = true)]
async fn commands_after_shutdown_return_not_running_promptly() {
    let probe = Probe::new();
    let tree = SupervisorSpec::new("app")
        .child(idle(&probe, "a"))
        .supervisor(SupervisorSpec::new("sub").child(idle(&probe, "b")))
        .start()
        .await
        .unwrap();
    let sub = tree.nested("sub").await.unwrap();
    tree.shutdown().await.unwrap();
    assert!(tree.is_finished() && sub.is_finished());
    assert_all_refused(&tree, &sub, &probe).await;
}

#[tokio::test(start_paused = true)]
async fn commands_after_an_escalation_return_not_running_promptly() {
    let probe = Probe::new();
    let tree = SupervisorSpec::new("app")
        .max_restarts(0)
        .child(always(&probe, "a", Act::ErrAfter(ms(5))))
        .supervisor(SupervisorSpec::new("sub").child(idle(&probe, "b")))
        .start()
        .await
        .unwrap();
    let sub = tree.nested("sub").await.unwrap();
    assert!(ended(&tree).await.is_err());
    assert_all_refused(&tree, &sub, &probe).await;
}

#[tokio::test(start_paused = true)]
async fn terminate_child_keeps_the_spec_and_restart_child_starts_it_again() {
    let probe = Probe::new();
    let tree = SupervisorSpec::new("app").child(idle(&probe, "a")).child(idle(&probe, "b")).start().await.unwrap();
    tree.terminate_child("a").await.unwrap();
    assert_eq!(probe.live(), 1);
    settle_for(secs(1)).await;
    assert_eq!(probe.runs("a"), 1, "a terminated permanent child is not restarted by policy");
    let a = child(&tree, "a").await.expect("the spec is kept");
    assert_eq!(a.state, ChildState::Stopped);
    assert_eq!(tree.count_children().await.unwrap().active, 1);

    tree.restart_child("a").await.unwrap();
    assert_eq!(probe.runs("a"), 2);
    let a = child(&tree, "a").await.unwrap();
    assert_eq!((a.state, a.attempt), (ChildState::Running, 2));
    assert_eq!(probe.overlaps(), 0);
    tree.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn terminate_child_of_a_temporary_child_removes_it() {
    let probe = Probe::new();
    let tree = SupervisorSpec::new("app").child(idle(&probe, "a").restart(Restart::Temporary)).start().await.unwrap();
    tree.terminate_child("a").await.unwrap();
    assert!(child(&tree, "a").await.is_none());
    assert_eq!(probe.live(), 0);
    tree.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn restart_child_of_a_running_child_is_refused() {
    let probe = Probe::new();
    let tree = SupervisorSpec::new("app").child(idle(&probe, "a")).start().await.unwrap();
    assert_eq!(tree.restart_child("a").await, Err(CommandError::Running { child: "app/a".into() }));
    assert_eq!(probe.runs("a"), 1);
    tree.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn delete_child_only_when_stopped() {
    let probe = Probe::new();
    let tree = SupervisorSpec::new("app").child(idle(&probe, "a")).child(idle(&probe, "b")).start().await.unwrap();
    assert_eq!(tree.delete_child("a").await, Err(CommandError::Running { child: "app/a".into() }));
    assert!(child(&tree, "a").await.is_some());
    tree.terminate_child("a").await.unwrap();
    tree.delete_child("a").await.unwrap();
    assert!(child(&tree, "a").await.is_none());
    assert!(matches!(tree.restart_child("a").await, Err(CommandError::UnknownChild { .. })));
    assert!(matches!(tree.delete_child("a").await, Err(CommandError::UnknownChild { .. })));
    tree.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn commands_name_unknown_children_and_non_supervisors() {
    let probe = Probe::new();
    let tree = SupervisorSpec::new("app").child(idle(&probe, "a")).start().await.unwrap();
    assert_eq!(
        tree.terminate_child("nope").await,
        Err(CommandError::UnknownChild { supervisor: "app".into(), id: "nope".into() })
    );
    assert_eq!(tree.nested("a").await.unwrap_err(), CommandError::NotASupervisor { child: "app/a".into() });
    assert_eq!(
        tree.start_child(idle(&probe, "a")).await,
        Err(CommandError::AlreadyPresent { supervisor: "app".into(), id: "a".into() })
    );
    tree.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn terminate_child_of_a_nested_supervisor_stops_its_subtree() {
    let probe = Probe::new();
    let tree = SupervisorSpec::new("app")
        .supervisor(SupervisorSpec::new("sub").child(idle(&probe, "x")).child(idle(&probe, "y")))
        .start()
        .await
        .unwrap();
    let sub = tree.nested("sub").await.unwrap();
    probe.clear_log();
    tree.terminate_child("sub").await.unwrap();
    assert_eq!(probe.log(), ["stop:y", "stop:x"]);
    assert!(sub.is_finished());
    assert!(matches!(tree.nested("sub").await, Err(CommandError::NotRunning { .. })));
    tree.restart_child("sub").await.unwrap();
    let sub = tree.nested("sub").await.unwrap();
    assert_eq!(sub.count_children().await.unwrap().active, 2);
    tree.shutdown().await.unwrap();
    assert_eq!(probe.live(), 0);
}
