//! Events, snapshots, exit codes: what operators see of a tree.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use supervisor::{
    ChildSpec, ChildState, Context, EventKind, ExitReason, RecvError, Restart, SupervisorError, SupervisorSpec,
    TreeExit,
};

fn idle(id: &str) -> ChildSpec {
    ChildSpec::from_fn(id, |ctx: Context| async move { ctx.cancelled().await })
}

/// A worker that fails (returns an error) on its first `times` runs.
fn failing(id: &str, times: u32) -> (ChildSpec, Arc<AtomicU32>) {
    let runs = Arc::new(AtomicU32::new(0));
    let r = runs.clone();
    let spec = ChildSpec::from_fn(id, move |ctx: Context| {
        let r = r.clone();
        async move {
            if r.fetch_add(1, Ordering::SeqCst) < times {
                return Err(std::io::Error::other("disk on fire"));
            }
            ctx.cancelled().await;
            Ok(())
        }
    });
    (spec, runs)
}

fn describe(kind: &EventKind) -> String {
    match kind {
        EventKind::Started => "started".into(),
        EventKind::Exited { reason } => format!("exited:{}", reason.kind()),
        EventKind::RestartScheduled { delay } => format!("restart:{delay:?}"),
        EventKind::BudgetExceeded { restarts, .. } => format!("budget:{restarts}"),
        EventKind::Escalated { .. } => "escalated".into(),
        EventKind::ShutdownStarted => "shutdown_started".into(),
        EventKind::ShutdownCompleted => "shutdown_completed".into(),
        other => format!("{other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn restart_emits_exit_restart_and_start_in_order() {
    let gate = Arc::new(tokio::sync::Notify::new());
    let g = gate.clone();
    let flaky = ChildSpec::from_fn("flaky", move |ctx: Context| {
        let g = g.clone();
        async move {
            if ctx.attempt() == 1 {
                g.notified().await;
                return Err("disk on fire");
            }
            ctx.cancelled().await;
            Ok(())
        }
    });
    let spec = SupervisorSpec::new("app")
        .child(idle("a"))
        .child(flaky.backoff(Duration::from_millis(10)..Duration::from_secs(1)));
    let tree = spec.start().await.unwrap();
    let mut events = tree.subscribe();
    gate.notify_one();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut seen = Vec::new();
    while let Some(Ok(e)) = events.try_recv() {
        seen.push((e.path.to_string(), e.attempt, describe(&e.kind)));
    }
    assert_eq!(
        seen,
        &[
            ("app/flaky".to_string(), 1, "exited:error".to_string()),
            ("app/flaky".to_string(), 1, "restart:10ms".to_string()),
            ("app/flaky".to_string(), 2, "started".to_string()),
        ]
    );
    tree.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn escalation_emits_budget_exceeded_then_escalated_and_ends_the_root() {
    let gate = Arc::new(tokio::sync::Notify::new());
    let g = gate.clone();
    let crash = ChildSpec::from_fn("crash", move |_ctx: Context| {
        let g = g.clone();
        async move {
            g.notified().await;
            Err::<(), _>("boom")
        }
    });
    let tree = SupervisorSpec::new("app").max_restarts(0).child(crash).start().await.unwrap();
    let mut events = tree.subscribe();
    gate.notify_one();
    let mut kinds = Vec::new();
    loop {
        match events.recv().await {
            Ok(e) => kinds.push((e.path.to_string(), describe(&e.kind))),
            Err(RecvError::Closed) => break,
            Err(e) => panic!("unexpected {e}"),
        }
    }
    assert_eq!(
        kinds,
        vec![
            ("app/crash".to_string(), "exited:error".to_string()),
            ("app".to_string(), "budget:1".to_string()),
            ("app".to_string(), "escalated".to_string()),
            ("app".to_string(), "shutdown_started".to_string()),
            ("app".to_string(), "shutdown_completed".to_string()),
        ]
    );
    let err = tree.wait().await.unwrap_err();
    assert!(matches!(err, SupervisorError::Escalated { ref child, .. } if child == "app/crash"), "{err}");
}

#[tokio::test(start_paused = true)]
async fn lagging_subscriber_loses_events_but_does_not_block_restarts() {
    let (flaky, runs) = failing("flaky", 3000);
    let tree = SupervisorSpec::new("app").max_restarts(10_000).within(Duration::from_secs(3600)).child(flaky);
    // The subscriber reads nothing while restarts go on.
    let handle = tree.start().await.unwrap();
    let mut lagging = handle.subscribe();
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(runs.load(Ordering::SeqCst) >= 2500, "restarts were slowed: {}", runs.load(Ordering::SeqCst));
    match lagging.recv().await {
        Err(RecvError::Lagged(n)) => assert!(n > 1000, "lost {n}"),
        other => panic!("expected a lag report, got {other:?}"),
    }
    assert!(lagging.recv().await.is_ok(), "after the lag report, events flow again");
    handle.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn snapshot_shows_counts_states_and_nesting_after_restarts() {
    let (flaky, _) = failing("flaky", 2);
    let job = ChildSpec::from_fn("job", |_ctx: Context| async {}).restart(Restart::Transient);
    let tree = SupervisorSpec::new("app")
        .child(idle("db"))
        .child(job)
        .supervisor(SupervisorSpec::new("http").child(flaky).child(idle("router")))
        .start()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let snap = tree.snapshot().await.unwrap();
    assert_eq!(snap.path, "app");
    let ids: Vec<_> = snap.children.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["db", "job", "http"]);
    assert_eq!(snap.children[0].state, ChildState::Running);
    assert_eq!(snap.children[1].state, ChildState::Stopped);
    assert_eq!(snap.children[1].last_exit.as_ref().map(ToString::to_string).as_deref(), Some("exited normally"));
    let http = snap.children[2].supervisor.as_ref().expect("nested snapshot");
    assert_eq!(http.path, "app/http");
    assert_eq!(http.children[0].id, "flaky");
    assert_eq!(http.children[0].restarts, 2);
    assert_eq!(http.children[0].attempt, 3);
    assert_eq!(http.children[0].state, ChildState::Running);
    assert_eq!(http.children[0].last_exit.as_ref().map(ToString::to_string).as_deref(), Some("failed: disk on fire"));
    let text = snap.to_string();
    assert!(text.starts_with("supervisor app\n"), "{text}");
    assert!(text.contains("\n    worker flaky [running] attempt 3, 2 restarts"), "{text}");
    tree.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn exit_code_is_zero_after_a_requested_shutdown() {
    let tree = SupervisorSpec::new("app").child(idle("a")).start().await.unwrap();
    let exit = TreeExit::from(tree.shutdown().await);
    assert_eq!(exit.exit_code(), ExitCode::SUCCESS);
}

#[tokio::test(start_paused = true)]
async fn exit_code_is_one_after_an_escalation_at_the_root() {
    let (crash, _) = failing("crash", u32::MAX);
    let tree = SupervisorSpec::new("app").child(crash).start().await.unwrap();
    let exit = TreeExit::from(tree.wait().await);
    assert!(matches!(exit.result, Err(SupervisorError::Escalated { .. })));
    assert_eq!(exit.exit_code(), ExitCode::FAILURE);
}

#[tokio::test(start_paused = true)]
async fn exit_code_is_one_after_shutdown_tree() {
    let (crash, _) = failing("crash", u32::MAX);
    let tree = SupervisorSpec::new("app")
        .child(idle("a"))
        .supervisor(SupervisorSpec::new("deep").escalation(supervisor::Escalation::ShutdownTree).child(crash))
        .start()
        .await
        .unwrap();
    let exit = TreeExit::from(tree.wait().await);
    assert!(
        matches!(exit.result, Err(SupervisorError::ShutdownTree { ref supervisor, .. }) if supervisor == "app/deep"),
        "{:?}",
        exit.result
    );
    assert_eq!(exit.exit_code(), ExitCode::FAILURE);
}

#[tokio::test(start_paused = true)]
async fn exit_code_is_one_when_the_tree_cannot_start() {
    let bad = ChildSpec::from_fn("bad", |_ctx: Context| async { Err::<(), _>("no config") });
    let bad = bad.start_timeout(Duration::from_secs(1));
    let err = SupervisorSpec::new("app").child(bad).start().await.unwrap_err();
    assert!(err.to_string().contains("child `app/bad` failed to start"), "{err}");
    let exit = TreeExit::from(err);
    assert_eq!(exit.exit_code(), ExitCode::FAILURE);
}

#[tokio::test(start_paused = true)]
async fn panic_message_reaches_the_exit_event() {
    let gate = Arc::new(tokio::sync::Notify::new());
    let g = gate.clone();
    let panicking = ChildSpec::from_fn("p", move |_ctx: Context| {
        let g = g.clone();
        async move {
            g.notified().await;
            let crash = true;
            if crash {
                panic!("kaboom {}", 42);
            }
        }
    });
    let tree = SupervisorSpec::new("app")
        .child(panicking.restart(Restart::Temporary))
        .child(idle("keep"))
        .start()
        .await
        .unwrap();
    let mut events = tree.subscribe();
    gate.notify_one();
    let reason = loop {
        let e = events.recv().await.unwrap();
        if let EventKind::Exited { reason } = e.kind {
            break reason;
        }
    };
    assert_eq!(reason, ExitReason::Panicked("kaboom 42".into()));
    tree.shutdown().await.unwrap();
}
