//! Restarts a child's task makes by itself: a worker restarted alone, at
//! once, is restarted inside its own task. These tests pin that the result
//! is the same as a restart by the supervisor: counts, events, budget,
//! panics, stops, and that a crash loop never holds its thread.

mod common;

use std::sync::{Arc, Mutex};

use common::*;
use supervisor::{
    ChildSpec, ChildState, Context, Escalation, EventKind, ExitReason, GroupSpec, Policy, Strategy, SupervisorError,
    SupervisorSpec,
};

/// A worker that fails at once for its first `fails` runs, then idles; it
/// records the task each run ran in.
fn fails_then_idles(id: &str, fails: u32, tasks: Arc<Mutex<Vec<tokio::task::Id>>>) -> ChildSpec {
    ChildSpec::from_fn(id, move |ctx: Context| {
        let tasks = tasks.clone();
        async move {
            tasks.lock().unwrap().push(tokio::task::id());
            if ctx.attempt() <= fails {
                return Err(format!("run {} failed", ctx.attempt()));
            }
            ctx.cancelled().await;
            Ok(())
        }
    })
}

#[tokio::test(start_paused = true)]
async fn a_plain_one_for_one_worker_is_restarted_inside_its_task() {
    let tasks = Arc::new(Mutex::new(Vec::new()));
    let tree = SupervisorSpec::new("app")
        .max_restarts(5)
        .child(fails_then_idles("w", 3, tasks.clone()))
        .start()
        .await
        .unwrap();
    settle().await;
    let tasks = tasks.lock().unwrap().clone();
    assert_eq!(tasks.len(), 4, "three failed runs and the one that idles");
    assert!(tasks.iter().all(|t| *t == tasks[0]), "every run in the first run's task: {tasks:?}");
    tree.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_worker_in_a_one_for_all_scope_gets_a_new_task_per_run() {
    // The scope's other children must be stopped first: the supervisor
    // restarts, not the task.
    let probe = Probe::new();
    let tasks = Arc::new(Mutex::new(Vec::new()));
    let tree = SupervisorSpec::new("app")
        .strategy(Strategy::OneForAll)
        .max_restarts(5)
        .child(idle(&probe, "calm"))
        .child(fails_then_idles("w", 2, tasks.clone()))
        .start()
        .await
        .unwrap();
    settle().await;
    let tasks = tasks.lock().unwrap().clone();
    assert_eq!(tasks.len(), 3);
    assert!(tasks[0] != tasks[1] && tasks[1] != tasks[2], "{tasks:?}");
    assert_eq!(probe.runs("calm"), 3, "calm restarted with its scope each time");
    tree.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn restarts_inside_the_task_show_in_which_children_and_the_snapshot() {
    let tasks = Arc::new(Mutex::new(Vec::new()));
    let tree = SupervisorSpec::new("app").max_restarts(5).child(fails_then_idles("w", 3, tasks)).start().await.unwrap();
    settle().await;
    let info = tree.which_children().await.unwrap().remove(0);
    assert_eq!(info.state, ChildState::Running);
    assert_eq!((info.attempt, info.restarts), (4, 3));
    assert_eq!(info.last_exit.map(|e| e.to_string()).as_deref(), Some("failed: run 3 failed"));
    let snapshot = tree.snapshot().await.unwrap();
    assert_eq!((snapshot.children[0].attempt, snapshot.children[0].restarts), (4, 3));

    // The counts stay once the run has ended and the supervisor holds them.
    tree.terminate_child("w").await.unwrap();
    let info = tree.which_children().await.unwrap().remove(0);
    assert_eq!((info.state, info.attempt, info.restarts), (ChildState::Stopped, 4, 3));
    assert_eq!(info.last_exit, Some(ExitReason::Shutdown));
    // And a restart by command carries on from there.
    tree.restart_child("w").await.unwrap();
    let info = tree.which_children().await.unwrap().remove(0);
    assert_eq!((info.state, info.attempt, info.restarts), (ChildState::Running, 5, 3));
    tree.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn an_in_task_restart_reports_the_same_events_as_the_supervisor() {
    let probe = Probe::new();
    let tree =
        SupervisorSpec::new("app").child(first_then_idle(&probe, "w", Act::ErrAfter(ms(10)))).start().await.unwrap();
    let mut events = tree.subscribe();
    settle_for(ms(20)).await;
    let seen: Vec<(u32, String)> = drain(&mut events)
        .into_iter()
        .filter(|e| &*e.path == "app/w")
        .map(|e| {
            let kind = match e.kind {
                EventKind::Started => "started".to_string(),
                EventKind::Exited { reason } => format!("exited: {reason}"),
                EventKind::RestartScheduled { delay } => format!("restart in {delay:?}"),
                other => format!("{other:?}"),
            };
            (e.attempt, kind)
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            (1, "exited: failed: w failed".to_string()),
            (1, "restart in 0ns".to_string()),
            (2, "started".to_string()),
        ]
    );
    tree.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_budget_spent_inside_the_task_escalates_with_the_panic() {
    let probe = Probe::new();
    let tree =
        SupervisorSpec::new("app").max_restarts(2).child(always(&probe, "crash", Act::Panic)).start().await.unwrap();
    let err = ended(&tree).await.unwrap_err();
    let SupervisorError::Escalated { child, reason, restarts, .. } = &err else { panic!("{err:?}") };
    assert_eq!((child.as_str(), *restarts), ("app/crash", 3));
    assert_eq!(reason, &ExitReason::Panicked("crash panicked".into()));
    assert_eq!(probe.runs("crash"), 3, "the first run and two restarts");
    assert_eq!(probe.live(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_stop_during_a_crash_loop_ends_it() {
    let probe = Probe::new();
    let tree = SupervisorSpec::new("app")
        .max_restarts(u32::MAX)
        .within(secs(1))
        .child(idle(&probe, "calm"))
        .child(always(&probe, "crash", Act::Err))
        .start()
        .await
        .unwrap();
    tokio::task::yield_now().await;
    tree.terminate_child("crash").await.unwrap();
    let runs = probe.runs("crash");
    assert!(runs > 1, "the loop ran before the stop ({runs} runs)");
    settle_for(secs(5)).await;
    assert_eq!(probe.runs("crash"), runs, "no run after terminate_child returned");
    assert_eq!(probe.overlaps(), 0);
    let info = tree.which_children().await.unwrap();
    assert_eq!(info[1].state, ChildState::Stopped);
    assert_eq!(info[0].state, ChildState::Running);
    tree.shutdown().await.unwrap();
    assert_eq!(probe.live(), 0);
}

#[test]
fn a_crash_loop_gives_way_to_other_tasks_on_its_thread() {
    // One thread, a worker that fails at once with an unlimited budget: the
    // other tasks on the thread and the shutdown must still get their turn.
    // The runtime runs on its own thread so that a loop that never gives way
    // fails the test instead of hanging it.
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().start_paused(true).build().unwrap();
        let outcome = rt.block_on(async {
            let probe = Probe::new();
            let tree = SupervisorSpec::new("app")
                .max_restarts(u32::MAX)
                .within(secs(3600))
                .child(always(&probe, "crash", Act::Err))
                .start()
                .await
                .unwrap();
            let ticks = Arc::new(std::sync::atomic::AtomicU32::new(0));
            let counter = {
                let ticks = ticks.clone();
                tokio::spawn(async move {
                    for _ in 0..50 {
                        ticks.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        tokio::task::yield_now().await;
                    }
                })
            };
            counter.await.unwrap();
            tree.shutdown().await.unwrap();
            (ticks.load(std::sync::atomic::Ordering::SeqCst), probe.runs("crash"), probe.live())
        });
        let _ = done.send(outcome);
    });
    let (ticks, runs, live) =
        finished.recv_timeout(std::time::Duration::from_secs(60)).expect("the crash loop held its thread");
    assert_eq!(ticks, 50);
    assert!(runs > 50, "the loop kept running meanwhile ({runs} runs)");
    assert_eq!(live, 0);
}

#[tokio::test(start_paused = true)]
async fn in_task_restarts_count_against_their_group_and_override_budgets() {
    let probe = Probe::new();
    let tree = SupervisorSpec::new("app")
        // One restart more in the supervisor's own window would end the tree.
        .max_restarts(1)
        .within(secs(60))
        .group(GroupSpec::new("g").max_restarts(3).within(secs(60)).escalation(Escalation::Quarantine))
        .child(always(&probe, "grouped", Act::Err).group("g"))
        .child(always(&probe, "overridden", Act::Err))
        .child(first_then_idle(&probe, "plain", Act::ErrAfter(ms(50))))
        .override_child("overridden", Policy::new().max_restarts(2).within(secs(60)).escalation(Escalation::Quarantine))
        .start()
        .await
        .unwrap();
    settle_for(ms(100)).await;
    assert_eq!(probe.runs("grouped"), 4, "three restarts in the group's window, then quarantine");
    assert_eq!(probe.runs("overridden"), 3, "two restarts in the override's window, then quarantine");
    assert_eq!(probe.runs("plain"), 2, "the supervisor's one restart is left for this child");
    let states: Vec<ChildState> = tree.which_children().await.unwrap().into_iter().map(|c| c.state).collect();
    assert_eq!(states, [ChildState::Quarantined, ChildState::Quarantined, ChildState::Running]);
    assert!(!tree.is_finished());
    tree.shutdown().await.unwrap();
    assert_eq!(probe.live(), 0);
}
