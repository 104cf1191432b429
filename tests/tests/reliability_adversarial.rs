//! Workers that misbehave on purpose: they block their thread, panic in
//! `Drop`, spawn tasks of their own, or ignore cancellation. The tree must
//! still shut down, and leave nothing behind that it owns.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use supervisor::{ChildSpec, ChildState, Context, EventKind, ExitReason, Shutdown, SupervisorSpec};
use tokio::sync::Notify;
use tokio::time::timeout;

/// Counts the runs alive: one guard per run, dropped with the run's future
/// (also when its task is aborted).
#[derive(Clone, Default)]
struct Live(Arc<AtomicUsize>);

struct Guard(Arc<AtomicUsize>);

impl Live {
    fn enter(&self) -> Guard {
        self.0.fetch_add(1, Ordering::SeqCst);
        Guard(self.0.clone())
    }

    fn now(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

fn idle(id: &str, live: &Live) -> ChildSpec {
    let live = live.clone();
    ChildSpec::from_fn(id, move |ctx: Context| {
        let live = live.clone();
        async move {
            let _g = live.enter();
            ctx.cancelled().await;
        }
    })
}

/// A worker that blocks its thread (a synchronous call that never yields)
/// cannot be aborted while it blocks: tokio aborts a task only at an await.
/// Shutdown must still complete once the block ends, and leave nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thread_blocking_worker_still_shuts_down() {
    let live = Live::default();
    let l = live.clone();
    let blocker = ChildSpec::from_fn("blocker", move |ctx: Context| {
        let l = l.clone();
        async move {
            let _g = l.enter();
            loop {
                // The deliberate real block: 50 ms without yielding.
                std::thread::sleep(Duration::from_millis(50));
                if ctx.is_cancelled() {
                    // Ignores cancellation once, blocking again.
                    std::thread::sleep(Duration::from_millis(50));
                    return;
                }
                tokio::task::yield_now().await;
            }
        }
    })
    .shutdown(Shutdown::BrutalKill);
    let tree = SupervisorSpec::new("app")
        .child(idle("before", &live))
        .child(blocker)
        .child(idle("after", &live))
        .start()
        .await
        .expect("start");
    // Started means spawned: on two threads the runs begin a moment later.
    timeout(Duration::from_secs(10), async {
        while live.now() < 3 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    })
    .await
    .expect("the three runs begin");
    let shutdown = timeout(Duration::from_secs(10), tree.shutdown()).await;
    assert!(matches!(shutdown, Ok(Ok(()))), "shutdown: {shutdown:?}");
    assert_eq!(live.now(), 0, "runs left after shutdown");
    assert!(tree.which_children().await.is_err());
}

/// The same under a finite shutdown time that a block outlasts: the abort
/// lands at the next await, the tree still ends and nothing is left.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocking_worker_past_its_shutdown_time_is_aborted_at_its_next_await() {
    let live = Live::default();
    let l = live.clone();
    let blocker = ChildSpec::from_fn("blocker", move |_ctx: Context| {
        let l = l.clone();
        async move {
            let _g = l.enter();
            loop {
                std::thread::sleep(Duration::from_millis(50));
                tokio::task::yield_now().await;
            }
            #[allow(unreachable_code)]
            ()
        }
    })
    .shutdown(Duration::from_millis(10));
    let tree = SupervisorSpec::new("app").child(blocker).start().await.expect("start");
    let mut events = tree.subscribe();
    let shutdown = timeout(Duration::from_secs(10), tree.shutdown()).await;
    assert!(matches!(shutdown, Ok(Ok(()))), "shutdown: {shutdown:?}");
    assert_eq!(live.now(), 0);
    let mut killed = false;
    while let Ok(e) = events.recv().await {
        if let EventKind::Exited { reason: ExitReason::Killed } = e.kind {
            killed = true;
        }
    }
    assert!(killed, "the blocker is reported killed");
}

struct PanicOnDrop;

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            panic!("panic in Drop (on purpose)");
        }
    }
}

/// A worker whose state panics in `Drop`: the panic is caught with the run
/// (it is the run's task that drops it), not by the supervisor, which
/// restarts the worker and still shuts the tree down.
#[tokio::test(start_paused = true)]
async fn a_panic_in_drop_does_not_take_the_supervisor_down() {
    let live = Live::default();
    let runs = Arc::new(AtomicUsize::new(0));
    let (l, r) = (live.clone(), runs.clone());
    let bomb = ChildSpec::from_fn("bomb", move |ctx: Context| {
        let (l, r) = (l.clone(), r.clone());
        async move {
            let _g = l.enter();
            let _bomb = PanicOnDrop;
            if r.fetch_add(1, Ordering::SeqCst) == 0 {
                // Ends normally, then panics while dropping its state.
                tokio::time::sleep(Duration::from_millis(10)).await;
                return;
            }
            ctx.cancelled().await;
        }
    })
    .shutdown(Duration::from_millis(100));
    let tree = SupervisorSpec::new("app").child(idle("calm", &live)).child(bomb).start().await.expect("start");
    tokio::time::sleep(Duration::from_secs(1)).await;
    let kids = tree.which_children().await.expect("the supervisor is alive");
    assert_eq!(kids[1].state, ChildState::Running, "{kids:#?}");
    assert!(matches!(kids[1].last_exit, Some(ExitReason::Panicked(_))), "{kids:#?}");
    assert_eq!(runs.load(Ordering::SeqCst), 2);
    // The second run panics in Drop at shutdown too.
    let shutdown = tree.shutdown().await;
    assert!(shutdown.is_ok(), "{shutdown:?}");
    assert_eq!(live.now(), 0);
}

/// What the library promises about tasks a worker spawns itself: nothing.
/// A worker's own `tokio::spawn`ed tasks are not the supervisor's; they are
/// the worker's to stop. Tying them to the run's token
/// (`ctx.token().child_token()`) ends them when the run is asked to stop, so
/// they end with the worker at a restart and at shutdown.
#[tokio::test(start_paused = true)]
async fn tasks_a_worker_spawns_end_with_it_when_tied_to_its_token() {
    let helpers = Live::default();
    let h = helpers.clone();
    let spawner = ChildSpec::from_fn("spawner", move |ctx: Context| {
        let h = h.clone();
        async move {
            let mut set = tokio::task::JoinSet::new();
            for _ in 0..3 {
                let token = ctx.token().child_token();
                let g = h.enter();
                set.spawn(async move {
                    let _g = g;
                    token.cancelled().await;
                });
            }
            ctx.cancelled().await;
            // Wait for the helpers, so that they have ended when the run has.
            while set.join_next().await.is_some() {}
        }
    })
    .shutdown(Duration::from_secs(1));
    let tree = SupervisorSpec::new("app").child(spawner).start().await.expect("start");
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert_eq!(helpers.now(), 3);
    tree.terminate_child("spawner").await.expect("terminate");
    assert_eq!(helpers.now(), 0, "helpers end with the run they belong to");
    tree.restart_child("spawner").await.expect("restart");
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert_eq!(helpers.now(), 3);
    tree.shutdown().await.expect("shutdown");
    assert_eq!(helpers.now(), 0, "no helper outlives shutdown");
}

/// The counterpart: a detached task that holds no token is not stopped by
/// the supervisor (it is not the tree's task); the worker must own it.
#[tokio::test(start_paused = true)]
async fn a_detached_task_without_the_token_is_not_the_trees() {
    let helpers = Live::default();
    let stop = Arc::new(Notify::new());
    let (h, s) = (helpers.clone(), stop.clone());
    let leaky = ChildSpec::from_fn("leaky", move |ctx: Context| {
        let (h, s) = (h.clone(), s.clone());
        async move {
            let g = h.enter();
            tokio::spawn(async move {
                let _g = g;
                s.notified().await;
            });
            ctx.cancelled().await;
        }
    });
    let tree = SupervisorSpec::new("app").child(leaky).start().await.expect("start");
    tree.shutdown().await.expect("shutdown");
    assert_eq!(helpers.now(), 1, "a detached task lives on: stopping it is the worker's job");
    stop.notify_one();
    tokio::task::yield_now().await;
    assert_eq!(helpers.now(), 0);
}

/// Under `shutdown = infinity` a worker that ignores cancellation is waited
/// for, as long as it takes: shutdown stays pending across a long (paused)
/// advance, and completes once the worker ends by itself.
#[tokio::test(start_paused = true)]
async fn shutdown_infinity_waits_for_a_worker_that_ignores_cancellation() {
    let live = Live::default();
    let release = Arc::new(Notify::new());
    let (l, r) = (live.clone(), release.clone());
    let stubborn = ChildSpec::from_fn("stubborn", move |_ctx: Context| {
        let (l, r) = (l.clone(), r.clone());
        async move {
            let _g = l.enter();
            // Ignores the token; ends only when released.
            r.notified().await;
        }
    })
    .shutdown(Shutdown::Infinity);
    let tree = SupervisorSpec::new("app").child(idle("first", &live)).child(stubborn).start().await.expect("start");
    let t = tree.clone();
    let shutdown = tokio::spawn(async move { t.shutdown().await });
    tokio::time::sleep(Duration::from_secs(3600)).await;
    assert!(!shutdown.is_finished(), "shutdown waits for the stubborn worker");
    assert!(!tree.is_finished());
    // `first` is declared before `stubborn`, so it is stopped after it: still
    // running while the stubborn one is waited for.
    assert_eq!(live.now(), 2);
    release.notify_one();
    let result = timeout(Duration::from_secs(1), shutdown).await;
    assert!(matches!(result, Ok(Ok(Ok(())))), "{result:?}");
    assert_eq!(live.now(), 0);
}

/// Under a finite shutdown time the same worker is aborted once the time is
/// up, and reported killed.
#[tokio::test(start_paused = true)]
async fn a_worker_ignoring_cancellation_is_aborted_after_its_shutdown_time() {
    let live = Live::default();
    let l = live.clone();
    let stubborn = ChildSpec::from_fn("stubborn", move |_ctx: Context| {
        let l = l.clone();
        async move {
            let _g = l.enter();
            loop {
                tokio::time::sleep(Duration::from_millis(7)).await;
            }
            #[allow(unreachable_code)]
            ()
        }
    })
    .shutdown(Duration::from_secs(2));
    let tree = SupervisorSpec::new("app").child(stubborn).start().await.expect("start");
    let mut events = tree.subscribe();
    let started = tokio::time::Instant::now();
    tree.shutdown().await.expect("shutdown");
    let took = started.elapsed();
    assert!(took >= Duration::from_secs(2) && took < Duration::from_millis(2100), "took {took:?}");
    assert_eq!(live.now(), 0);
    let mut reasons = Vec::new();
    while let Ok(e) = events.recv().await {
        if let EventKind::Exited { reason } = e.kind {
            reasons.push(reason);
        }
    }
    assert_eq!(reasons, vec![ExitReason::Killed]);
}

/// A stubborn worker inside a nested supervisor under `infinity`: the
/// nested supervisor's own shutdown takes the worker's time, and the root
/// waits for both.
#[tokio::test(start_paused = true)]
async fn a_nested_supervisor_waits_for_its_stubborn_worker() {
    let live = Live::default();
    let l = live.clone();
    let stubborn = ChildSpec::from_fn("stubborn", move |_ctx: Context| {
        let l = l.clone();
        async move {
            let _g = l.enter();
            std::future::pending::<()>().await;
        }
    })
    .shutdown(Duration::from_millis(500));
    let tree = SupervisorSpec::new("app")
        .supervisor(SupervisorSpec::new("inner").child(stubborn).child(idle("calm", &live)))
        .start()
        .await
        .expect("start");
    assert_eq!(live.now(), 2);
    let started = tokio::time::Instant::now();
    tree.shutdown().await.expect("shutdown");
    assert!(started.elapsed() >= Duration::from_millis(500));
    assert_eq!(live.now(), 0);
}
