//! Behaviours of the supervisor core that its state once kept by hand got
//! wrong: a pending scope restart that outlived its cause, deadlines that
//! overflowed, an abandoned start that left children running, a panicking
//! `Clone` that killed the tree.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use common::*;
use supervisor::{
    Backoff, ChildSpec, ChildState, Context, EventKind, ExitReason, Shutdown, StartError, Strategy, SupervisorSpec,
    Worker, WorkerResult,
};

fn states(children: &[supervisor::ChildInfo]) -> Vec<(&str, ChildState)> {
    children.iter().map(|c| (c.id.as_str(), c.state)).collect()
}

/// A rest_for_one tree whose first child fails once and waits out a backoff
/// of 100 ms; its siblings are stopped meanwhile.
async fn failed_with_pending_restart(probe: &Probe) -> supervisor::SupervisorHandle {
    let tree = SupervisorSpec::new("app")
        .strategy(Strategy::RestForOne)
        .child(first_then_idle(probe, "a", Act::ErrAfter(ms(10))).backoff(Backoff::exponential(ms(100), ms(100))))
        .child(idle(probe, "b"))
        .child(idle(probe, "c"))
        .start()
        .await
        .unwrap();
    settle_for(ms(20)).await;
    let kids = tree.which_children().await.unwrap();
    assert_eq!(
        states(&kids),
        [("a", ChildState::Restarting), ("b", ChildState::Restarting), ("c", ChildState::Restarting)],
        "the scope waits on a's backoff"
    );
    tree
}

#[tokio::test(start_paused = true)]
async fn terminated_child_drops_its_pending_scope_restart() {
    let probe = Probe::new();
    let tree = failed_with_pending_restart(&probe).await;
    tree.terminate_child("a").await.unwrap();
    // Past the backoff: nothing starts by itself.
    settle_for(ms(500)).await;
    let kids = tree.which_children().await.unwrap();
    assert_eq!(states(&kids), [("a", ChildState::Stopped), ("b", ChildState::Stopped), ("c", ChildState::Stopped)]);
    assert_eq!(probe.live(), 0);
    // restart_child starts the one it names; a later restart of the scope
    // starts the rest, in declaration order.
    probe.clear_log();
    tree.restart_child("a").await.unwrap();
    tree.restart_child("b").await.unwrap();
    tree.restart_child("c").await.unwrap();
    assert_eq!(probe.lines("start:"), ["start:a", "start:b", "start:c"]);
    assert_eq!(probe.overlaps(), 0);
    tree.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn deleted_child_drops_its_pending_scope_restart() {
    let probe = Probe::new();
    let tree = failed_with_pending_restart(&probe).await;
    tree.delete_child("a").await.unwrap();
    settle_for(ms(500)).await;
    let kids = tree.which_children().await.unwrap();
    assert_eq!(states(&kids), [("b", ChildState::Stopped), ("c", ChildState::Stopped)]);
    assert_eq!(probe.live(), 0);
    tree.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn terminated_child_drops_the_retry_of_its_failed_start() {
    // a's second run fails before it is ready: the scope's restart waits on
    // a's retry (after its backoff), b and c with it.
    let probe = Probe::new();
    let tree = SupervisorSpec::new("app")
        .strategy(Strategy::RestForOne)
        .child(
            scripted(&probe, "a", |attempt| match attempt {
                1 => Act::ErrAfter(ms(10)),
                2 => Act::Err,
                _ => Act::Idle,
            })
            .start_timeout(ms(50))
            .backoff(Backoff::exponential(ms(100), ms(100))),
        )
        .child(idle(&probe, "b"))
        .child(idle(&probe, "c"))
        .start()
        .await
        .unwrap();
    // a fails at 10 ms; its restart, at 110 ms, fails to start; the retry
    // waits another backoff.
    settle_for(ms(150)).await;
    let kids = tree.which_children().await.unwrap();
    assert_eq!(kids[0].attempt, 2);
    assert!(kids.iter().all(|c| c.state == ChildState::Restarting), "{kids:#?}");
    tree.terminate_child("a").await.unwrap();
    settle_for(ms(1000)).await;
    let kids = tree.which_children().await.unwrap();
    assert_eq!(states(&kids), [("a", ChildState::Stopped), ("b", ChildState::Stopped), ("c", ChildState::Stopped)]);
    assert_eq!(probe.live(), 0);
    tree.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn huge_durations_mean_practically_never() {
    let probe = Probe::new();
    let tree = SupervisorSpec::new("app")
        .within(Duration::MAX)
        .child(always(&probe, "slow_stop", Act::SlowStop(ms(10))).shutdown(Duration::MAX))
        .child(always(&probe, "silent", Act::Idle).heartbeat(Duration::MAX))
        .child(always(&probe, "ready_late", Act::ReadyAfter(ms(10))).start_timeout(Duration::MAX))
        .child(
            first_then_idle(&probe, "backs_off", Act::Err).backoff(Backoff::exponential(Duration::MAX, Duration::MAX)),
        )
        .child(first_then_idle(&probe, "grows", Act::Err).backoff(Backoff::exponential(ms(1), Duration::MAX)))
        .start()
        .await
        .unwrap();
    settle_for(secs(3600)).await;
    let kids = tree.which_children().await.unwrap();
    assert_eq!(
        states(&kids),
        [
            ("slow_stop", ChildState::Running),
            ("silent", ChildState::Running),
            ("ready_late", ChildState::Running),
            ("backs_off", ChildState::Restarting),
            ("grows", ChildState::Running),
        ]
    );
    // Stopping waits for the child, not for the clock's end.
    let started = tokio::time::Instant::now();
    tree.shutdown().await.unwrap();
    assert_eq!(started.elapsed(), ms(10));
    assert_eq!(probe.live(), 0);
}

#[tokio::test(start_paused = true)]
async fn abandoned_start_stops_what_it_started() {
    let probe = Probe::new();
    let spec = SupervisorSpec::new("app")
        .child(always(&probe, "a", Act::SlowStop(ms(5))))
        .child(always(&probe, "b", Act::Idle))
        .child(always(&probe, "c", Act::NeverReady).start_timeout(secs(3600)));
    let abandoned = tokio::time::timeout(ms(10), spec.start()).await;
    assert!(abandoned.is_err(), "c holds the start for an hour");
    assert_eq!(probe.live(), 3);
    // Nobody holds the tree: it stops at once, last first, each in its
    // shutdown time.
    settle_for(ms(10)).await;
    assert_eq!(probe.live(), 0);
    assert_eq!(probe.lines("stop:"), ["stop:c", "stop:b", "stop:a"]);
}

/// A worker whose `Clone` panics on the clones `panics` names (the first
/// clone is 1); each run idles (the first fails, with `fail_first`).
#[derive(Default)]
struct PanickyClone {
    clones: Arc<AtomicU32>,
    panics: Arc<Vec<u32>>,
    /// The first run fails at once.
    fail_first: bool,
}

impl Clone for PanickyClone {
    fn clone(&self) -> Self {
        let n = self.clones.fetch_add(1, Ordering::SeqCst) + 1;
        if self.panics.contains(&n) {
            panic!("clone {n} panicked");
        }
        self.clone_without_count()
    }
}

impl Worker for PanickyClone {
    async fn run(self, ctx: Context) -> impl WorkerResult {
        ctx.ready();
        if self.fail_first && ctx.attempt() == 1 {
            return Err("first run fails");
        }
        ctx.cancelled().await;
        Ok::<(), &'static str>(())
    }
}

#[tokio::test(start_paused = true)]
async fn panicking_clone_is_a_failed_start() {
    // The first start clones once (1); a's own failure makes the supervisor
    // clone again (2), which panics; the retry (3) runs.
    let worker = PanickyClone { panics: Arc::new(vec![2]), ..PanickyClone::default() };
    // (A start timeout keeps the supervisor making each run: a task that
    // restarts its worker by itself clones in the task, see below.)
    let flaky = ChildSpec::worker("flaky", worker.clone_without_count()).start_timeout(secs(1));
    let tree = SupervisorSpec::new("app")
        .child(flaky.shutdown(Shutdown::BrutalKill))
        .child(ChildSpec::from_fn("other", |ctx: Context| async move { ctx.cancelled().await }))
        .start()
        .await
        .unwrap();
    let mut events = tree.subscribe();
    tree.terminate_child("flaky").await.unwrap();
    tree.restart_child("flaky").await.unwrap_err();
    let failed = drain(&mut events).into_iter().find_map(|e| match e.kind {
        EventKind::StartFailed { reason } => Some(reason),
        _ => None,
    });
    assert_eq!(failed, Some(ExitReason::Panicked("clone 2 panicked".into())));
    // The tree lives on, and the child starts on the next try.
    tree.restart_child("flaky").await.unwrap();
    let kids = tree.which_children().await.unwrap();
    assert_eq!(states(&kids), [("flaky", ChildState::Running), ("other", ChildState::Running)]);
    tree.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn panicking_clone_at_the_first_start_fails_the_start() {
    let worker = PanickyClone { panics: Arc::new(vec![1]), ..PanickyClone::default() };
    let err = SupervisorSpec::new("app").child(ChildSpec::worker("flaky", worker.clone_without_count())).start().await;
    match err {
        Err(StartError::ChildFailed { child, reason }) => {
            assert_eq!(child, "app/flaky");
            assert_eq!(reason, ExitReason::Panicked("clone 1 panicked".into()));
        }
        other => panic!("expected the child's failed start, got {other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn panicking_clone_of_a_restart_counts_against_the_budget() {
    // The first run fails by itself; every clone after the first panics, so
    // each restart fails to start and is handled as a failure, until the
    // budget (2 in 5 s) is spent and the root escalates with the panic.
    let worker = PanickyClone { panics: Arc::new((2..100).collect()), fail_first: true, ..PanickyClone::default() };
    let tree = SupervisorSpec::new("app")
        .max_restarts(2)
        .child(ChildSpec::worker("flaky", worker.clone_without_count()).start_timeout(secs(1)))
        .start()
        .await
        .unwrap();
    match ended(&tree).await {
        Err(supervisor::SupervisorError::Escalated { child, reason, restarts, .. }) => {
            assert_eq!(child, "app/flaky");
            assert_eq!(reason, ExitReason::Panicked("clone 3 panicked".into()));
            assert_eq!(restarts, 3);
        }
        other => panic!("expected an escalation, got {other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn panicking_clone_in_a_task_that_restarts_itself_fails_that_run() {
    // A plain one_for_one worker is restarted by its own task, which clones
    // the worker for each run (the supervisor cloned it once, 1, for the
    // task): the clone for the second run (3) panics, which ends that run
    // as failed; the supervisor restarts it (4 for the task, 5 for the run).
    let worker = PanickyClone { panics: Arc::new(vec![3]), fail_first: true, ..PanickyClone::default() };
    let tree = SupervisorSpec::new("app")
        .child(ChildSpec::worker("flaky", worker.clone_without_count()))
        .start()
        .await
        .unwrap();
    settle().await;
    let kids = tree.which_children().await.unwrap();
    assert_eq!(states(&kids), [("flaky", ChildState::Running)]);
    assert_eq!(kids[0].restarts, 2, "one in the task, one by the supervisor");
    assert_eq!(kids[0].attempt, 3);
    assert_eq!(kids[0].last_exit, Some(ExitReason::Panicked("clone 3 panicked".into())));
    tree.shutdown().await.unwrap();
}

impl PanickyClone {
    /// A copy that shares the counters without counting as a clone.
    fn clone_without_count(&self) -> Self {
        PanickyClone { clones: self.clones.clone(), panics: self.panics.clone(), fail_first: self.fail_first }
    }
}

#[tokio::test(start_paused = true)]
async fn ping_answers_while_the_supervisor_stops_a_child() {
    let probe = Probe::new();
    let tree = SupervisorSpec::new("app")
        .child(always(&probe, "slow", Act::SlowStop(secs(10))).shutdown(secs(30)))
        .start()
        .await
        .unwrap();
    let stopping = tokio::spawn({
        let tree = tree.clone();
        async move { tree.terminate_child("slow").await }
    });
    settle().await;
    // Other commands wait for the stop; a ping does not.
    let started = tokio::time::Instant::now();
    tree.ping().await.unwrap();
    assert_eq!(started.elapsed(), Duration::ZERO);
    assert!(tokio::time::timeout(secs(1), tree.which_children()).await.is_err(), "which_children waits");
    stopping.await.unwrap().unwrap();
    tree.shutdown().await.unwrap();
    assert!(matches!(tree.ping().await, Err(supervisor::CommandError::NotRunning { .. })));
}

#[tokio::test(start_paused = true)]
async fn a_runs_own_handles_do_not_keep_the_tree_alive() {
    let probe = Probe::new();
    let kept: Arc<std::sync::Mutex<Vec<supervisor::SupervisorHandle>>> = Arc::default();
    let keeper = {
        let (probe, kept) = (probe.clone(), kept.clone());
        ChildSpec::from_fn("keeper", move |ctx: Context| {
            let (probe, kept) = (probe.clone(), kept.clone());
            async move {
                let _guard = probe.enter("keeper");
                kept.lock().unwrap().extend([ctx.supervisor(), ctx.root()]);
                ctx.cancelled().await;
            }
        })
    };
    let tree = SupervisorSpec::new("app").supervisor(SupervisorSpec::new("inner").child(keeper)).start().await.unwrap();
    settle().await;
    {
        let kept = kept.lock().unwrap();
        assert_eq!((kept[0].path(), kept[1].path()), ("app/inner", "app"));
    }
    let (inner, root) = {
        let kept = kept.lock().unwrap();
        (kept[0].clone(), kept[1].clone())
    };
    // Commands work while the tree runs.
    assert_eq!(inner.which_children().await.unwrap().len(), 1);
    assert_eq!(root.which_children().await.unwrap().len(), 1);
    // The last handle `start()` gave out goes: the tree shuts down.
    drop(tree);
    settle().await;
    assert_eq!(probe.live(), 0);
    assert!(matches!(root.which_children().await, Err(supervisor::CommandError::NotRunning { .. })));
    assert!(matches!(inner.which_children().await, Err(supervisor::CommandError::NotRunning { .. })));
}

#[tokio::test(start_paused = true)]
async fn a_context_kept_past_its_run_sees_the_run_over() {
    // A run that ends by itself leaves a task holding its context: the
    // task's token is cancelled with the end of the run.
    let left_behind = Arc::new(std::sync::Mutex::new(None));
    let child = {
        let left_behind = left_behind.clone();
        ChildSpec::from_fn("leaver", move |ctx: Context| {
            let left_behind = left_behind.clone();
            async move {
                if ctx.attempt() == 1 {
                    *left_behind.lock().unwrap() = Some((ctx.clone(), ctx.token().child_token()));
                    return Err("first run ends");
                }
                ctx.cancelled().await;
                Ok(())
            }
        })
        .start_timeout(secs(1))
    };
    let tree = SupervisorSpec::new("app").child(child).start().await;
    // The first run failed before it was ready: the start fails, and the
    // kept context and token see that run over.
    assert!(tree.is_err());
    let (ctx, token) = left_behind.lock().unwrap().take().unwrap();
    assert!(ctx.is_cancelled());
    assert!(token.is_cancelled());
}

/// Past a few dozen children a supervisor finds them by id through an
/// index, kept as children come and go: every command by id must answer as
/// the scan did, for children added at run time and for those deleted.
#[tokio::test(start_paused = true)]
async fn commands_by_id_past_the_scan_follow_added_and_deleted_children() {
    use supervisor::{CommandError, Restart};
    let probe = Probe::new();
    let mut spec = SupervisorSpec::new("app");
    for n in 0..20 {
        spec = spec.child(idle(&probe, &format!("s{n}")));
    }
    let tree = spec.start().await.unwrap();
    for n in 0..60 {
        tree.start_child(idle(&probe, &format!("d{n}")).restart(Restart::Temporary)).await.unwrap();
    }
    assert_eq!(probe.live(), 80);
    // The index is made on this first look (80 children); a temporary
    // child terminated is deleted with it.
    tree.terminate_child("d59").await.unwrap();
    assert!(
        matches!(tree.terminate_child("d59").await, Err(CommandError::UnknownChild { .. })),
        "a deleted child is gone from the index"
    );
    // An id deleted can be added again, and is found.
    tree.start_child(idle(&probe, "d59").restart(Restart::Temporary)).await.unwrap();
    assert!(matches!(
        tree.start_child(idle(&probe, "d59").restart(Restart::Temporary)).await,
        Err(CommandError::AlreadyPresent { .. })
    ));
    // Children added after the index was made are found, and the declared
    // ones still are, with the right child behind each id.
    tree.start_child(idle(&probe, "late").restart(Restart::Temporary)).await.unwrap();
    tree.terminate_child("late").await.unwrap();
    tree.terminate_child("s7").await.unwrap();
    tree.terminate_child("s12").await.unwrap();
    tree.delete_child("s12").await.unwrap();
    tree.terminate_child("d3").await.unwrap();
    let kids = tree.which_children().await.unwrap();
    let stopped: Vec<&str> = kids.iter().filter(|c| c.state == ChildState::Stopped).map(|c| c.id.as_str()).collect();
    assert_eq!(stopped, ["s7"], "temporary children are removed when stopped; s7 is kept, stopped");
    assert!(!kids.iter().any(|c| c.id == "late" || c.id == "d3" || c.id == "s12"));
    // 80, with d59 back and late, s12 and d3 gone.
    assert_eq!(kids.len(), 78);
    assert!(matches!(tree.delete_child("s12").await, Err(CommandError::UnknownChild { .. })));
    tree.restart_child("s7").await.unwrap();
    assert!(matches!(tree.restart_child("nope").await, Err(CommandError::UnknownChild { .. })));
    tree.shutdown().await.unwrap();
    assert_eq!(probe.live(), 0);
}
