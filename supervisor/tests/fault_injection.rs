//! Each fault of a `FaultPlan` on a real tree, whose workers know nothing
//! of the plan.
#![cfg(feature = "testing")]

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use supervisor::testing::{
    Exit, Fault, FaultPlan, FaultStartError, Recorder, exited, heartbeat_missed, run_until_idle, start_failed,
    start_with_faults, started,
};
use supervisor::{ChildSpec, Context, ExitReason, StartError, SupervisorError, SupervisorHandle, SupervisorSpec};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// A real worker: counts its runs, says it is ready, beats every 10ms and
/// ends as soon as it is asked to.
fn real(id: &str, runs: &Arc<AtomicU32>) -> ChildSpec {
    let runs = runs.clone();
    ChildSpec::from_fn(id, move |ctx: Context| {
        let runs = runs.clone();
        async move {
            runs.fetch_add(1, Ordering::SeqCst);
            ctx.ready();
            loop {
                ctx.heartbeat();
                tokio::select! {
                    _ = ctx.cancelled() => return,
                    _ = tokio::time::sleep(ms(10)) => {}
                }
            }
        }
    })
}

/// A real worker that fails after 1ms, every run.
fn failing(id: &str, runs: &Arc<AtomicU32>) -> ChildSpec {
    let runs = runs.clone();
    ChildSpec::from_fn(id, move |_ctx: Context| {
        let runs = runs.clone();
        async move {
            runs.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(ms(1)).await;
            Err::<(), _>("real failure")
        }
    })
}

async fn child(tree: &SupervisorHandle, id: &str) -> supervisor::ChildInfo {
    tree.which_children().await.unwrap().into_iter().find(|c| c.id == id).unwrap()
}

fn counter() -> Arc<AtomicU32> {
    Arc::new(AtomicU32::new(0))
}

#[tokio::test(start_paused = true)]
async fn an_error_fails_the_planned_run_after_the_real_one_went_first() {
    let runs = counter();
    let plan = FaultPlan::new().at("app/db", 1, Fault::error("disk full").after(ms(5)));
    let tree = start_with_faults(SupervisorSpec::new("app").child(real("db", &runs)), plan).await.unwrap();
    let mut events = Recorder::new(&tree);
    run_until_idle(&tree, ms(100), secs(10)).await.unwrap();
    events.assert_exactly(&[
        exited("app/db", Exit::Error).attempt(1),
        supervisor::testing::restart_scheduled("app/db", Duration::ZERO),
        started("app/db").attempt(2),
    ]);
    let db = child(&tree, "db").await;
    assert_eq!(db.last_exit.map(|e| e.to_string()), Some("failed: injected fault: disk full".to_string()));
    assert_eq!(runs.load(Ordering::SeqCst), 2, "run 1 went first, run 2 is the real one, untouched");
    tree.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_panic_replaces_the_planned_run_and_later_runs_are_real() {
    let runs = counter();
    // Each after 1ms: the recorder is made after the start returns.
    let plan = FaultPlan::new().at("app/db", 1, Fault::error("refused").after(ms(1))).at(
        "app/db",
        2,
        Fault::panic("bad row").after(ms(1)),
    );
    let tree = start_with_faults(SupervisorSpec::new("app").child(real("db", &runs)), plan).await.unwrap();
    let mut events = Recorder::new(&tree);
    run_until_idle(&tree, ms(100), secs(10)).await.unwrap();
    events.assert_in_order(&[exited("app/db", Exit::Panic).attempt(2), started("app/db").attempt(3)]);
    let db = child(&tree, "db").await;
    assert_eq!(db.last_exit, Some(ExitReason::Panicked("bad row".into())));
    assert_eq!(runs.load(Ordering::SeqCst), 3, "each run began as the real worker; runs 1 and 2 were cut short");
    tree.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_planned_run_of_a_worker_restarted_in_its_task_meets_its_fault() {
    // A plain one_for_one worker without backoff restarts inside its own
    // task; a plan must reach those runs too.
    let runs = counter();
    let plan = FaultPlan::new().at("app/db", 2, Fault::panic("planned"));
    let tree =
        start_with_faults(SupervisorSpec::new("app").max_restarts(10).child(failing("db", &runs)), plan).await.unwrap();
    let mut events = Recorder::new(&tree);
    tokio::time::sleep(ms(5)).await;
    events.assert_in_order(&[
        exited("app/db", Exit::Error).attempt(1),
        exited("app/db", Exit::Panic).attempt(2),
        exited("app/db", Exit::Error).attempt(3),
    ]);
    tree.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_hang_ignores_cancellation_until_its_shutdown_time_runs_out() {
    let runs = counter();
    let spec = || SupervisorSpec::new("app").child(real("db", &runs).shutdown(ms(50)));
    let tree = start_with_faults(spec(), FaultPlan::new().at("app/db", 1, Fault::hang().after(ms(1)))).await.unwrap();
    tokio::time::sleep(ms(2)).await;
    let t0 = tokio::time::Instant::now();
    tree.terminate_child("db").await.unwrap();
    assert_eq!(t0.elapsed(), ms(50), "the hung run is aborted at the end of its shutdown time");
    assert_eq!(child(&tree, "db").await.last_exit, Some(ExitReason::Killed));
    tree.shutdown().await.unwrap();
    // Without the fault, the same worker stops at once.
    let tree = spec().start().await.unwrap();
    let t0 = tokio::time::Instant::now();
    tree.terminate_child("db").await.unwrap();
    assert_eq!(t0.elapsed(), Duration::ZERO);
    tree.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn fail_to_start_fails_the_first_start_of_the_tree() {
    let runs = counter();
    let spec = SupervisorSpec::new("app").child(real("db", &runs).start_timeout(secs(1)));
    let err = start_with_faults(spec, FaultPlan::new().at("app/db", 1, Fault::fail_to_start())).await.unwrap_err();
    assert!(
        matches!(&err, FaultStartError::Start(StartError::ChildFailed { child, reason: ExitReason::Failed(e) })
            if child == "app/db" && e.to_string() == "injected fault: the child failed to start"),
        "{err}"
    );
    assert_eq!(runs.load(Ordering::SeqCst), 0);
}

#[tokio::test(start_paused = true)]
async fn start_timeout_makes_a_ready_worker_time_out() {
    let runs = counter();
    let plan =
        FaultPlan::new().at("app/db", 1, Fault::error("first").after(ms(5))).at("app/db", 2, Fault::start_timeout());
    let spec = SupervisorSpec::new("app").child(real("db", &runs).start_timeout(ms(100)));
    let tree = start_with_faults(spec, plan).await.unwrap();
    let mut events = Recorder::new(&tree);
    run_until_idle(&tree, ms(300), secs(10)).await.unwrap();
    events.assert_in_order(&[
        exited("app/db", Exit::Error).attempt(1),
        start_failed("app/db", Exit::StartTimeout).attempt(2),
        started("app/db").attempt(3),
    ]);
    assert_eq!(runs.load(Ordering::SeqCst), 3, "every run began as the real worker; run 2 was deaf to its ready()");
    tree.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn stop_heartbeat_makes_a_live_worker_hung() {
    let runs = counter();
    let plan = FaultPlan::new().at("app/db", 1, Fault::stop_heartbeat().after(ms(100)));
    let t0 = tokio::time::Instant::now();
    let tree =
        start_with_faults(SupervisorSpec::new("app").child(real("db", &runs).heartbeat(ms(50))), plan).await.unwrap();
    let mut events = Recorder::new(&tree);
    tokio::time::sleep(secs(1)).await;
    events.assert_exactly(&[
        heartbeat_missed("app/db").attempt(1),
        exited("app/db", Exit::HeartbeatMissed).attempt(1),
        supervisor::testing::restart_scheduled("app/db", Duration::ZERO),
        started("app/db").attempt(2),
    ]);
    let missed = events.events()[0].at - t0;
    assert!((ms(100)..=ms(150)).contains(&missed), "found hung {missed:?} in: the last beat was at 90ms");
    tree.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_fault_from_a_run_onwards_escalates_a_crash_loop() {
    let runs = counter();
    let plan = FaultPlan::new().from("app/db", 1, Fault::error("down"));
    let tree = start_with_faults(SupervisorSpec::new("app").child(real("db", &runs)), plan).await.unwrap();
    let end = tokio::time::timeout(secs(10), tree.wait()).await.unwrap();
    assert!(matches!(end, Err(SupervisorError::Escalated { .. })), "{end:?}");
    assert_eq!(runs.load(Ordering::SeqCst), 0, "no run reached the real worker");
}

#[tokio::test(start_paused = true)]
async fn children_the_plan_does_not_name_run_untouched() {
    let (db_runs, cache_runs) = (counter(), counter());
    let plan = FaultPlan::new().at("app/cache", 1, Fault::error("only the cache"));
    let spec = SupervisorSpec::new("app").child(real("db", &db_runs)).child(real("cache", &cache_runs));
    let tree = start_with_faults(spec, plan).await.unwrap();
    run_until_idle(&tree, ms(100), secs(10)).await.unwrap();
    assert_eq!(child(&tree, "db").await.attempt, 1);
    assert_eq!(child(&tree, "cache").await.attempt, 2);
    assert_eq!((db_runs.load(Ordering::SeqCst), cache_runs.load(Ordering::SeqCst)), (1, 1));
    tree.shutdown().await.unwrap();
}
