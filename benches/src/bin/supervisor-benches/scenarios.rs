//! The scenarios, once per library. Each runs in a fresh process and returns
//! its figures as `(metric, value)` pairs; a value is a number, or a note
//! saying why there is no number.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::probe::{Alive, Probe, rss_bytes};

/// One figure: a number, or the reason there is none.
pub(crate) enum Value {
    Num(f64),
    Note(String),
}

pub(crate) type Figures = Vec<(&'static str, Value)>;

/// Restarts recorded by the restart scenario.
pub(crate) const RESTARTS: usize = 20_000;
/// Rounds of the one_for_all scenario per process.
pub(crate) const OFA_ROUNDS: usize = 15;
/// Children of the one_for_all scenario.
pub(crate) const OFA_CHILDREN: usize = 100;
/// Children of the shutdown scenario.
pub(crate) const SHUTDOWN_CHILDREN: usize = 10_000;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Lib {
    /// Bare tokio: tasks in a `JoinSet`, stopped by abort.
    Tokio,
    /// Bare tokio with one `CancellationToken` per task: the floor for
    /// cooperative cancellation.
    TokioToken,
    /// Bare tokio with tokens, stopped one by one in reverse order, each
    /// awaited before the next is cancelled: the floor for the ordered stop
    /// that OTP (and this supervisor) promise. Runs only the scenarios that
    /// stop children.
    TokioOrdered,
    /// This workspace's `supervisor`.
    Supervisor,
    /// ash-flare 2.3.2.
    AshFlare,
    /// rust-tokio-supervisor 0.1.2.
    Rts,
}

pub(crate) const LIBS: [Lib; 6] =
    [Lib::Tokio, Lib::TokioToken, Lib::TokioOrdered, Lib::Supervisor, Lib::AshFlare, Lib::Rts];

impl Lib {
    pub(crate) fn key(self) -> &'static str {
        match self {
            Lib::Tokio => "tokio",
            Lib::TokioToken => "tokio-token",
            Lib::TokioOrdered => "tokio-ordered",
            Lib::Supervisor => "supervisor",
            Lib::AshFlare => "ash-flare",
            Lib::Rts => "rust-tokio-supervisor",
        }
    }

    pub(crate) fn title(self) -> &'static str {
        match self {
            Lib::Tokio => "tokio JoinSet",
            Lib::TokioToken => "tokio + CancellationToken (floor)",
            Lib::TokioOrdered => "tokio + token, stopped in order (ordered floor)",
            Lib::Supervisor => "**supervisor**",
            Lib::AshFlare => "ash-flare 2.3.2",
            Lib::Rts => "rust-tokio-supervisor 0.1.2",
        }
    }

    /// Whether this library takes part in `scenario`.
    pub(crate) fn runs(self, scenario: &str) -> bool {
        self != Lib::TokioOrdered || scenario.starts_with("shutdown") || scenario.starts_with("one_for_all")
    }

    pub(crate) fn from_key(key: &str) -> Option<Lib> {
        LIBS.into_iter().find(|l| l.key() == key)
    }
}

pub(crate) async fn run(scenario: &str, lib: Lib) -> Result<Figures, String> {
    match scenario {
        "start_1000" => start(lib, 1_000).await,
        "start_10000" => start(lib, 10_000).await,
        "restart" => restart(lib).await,
        "shutdown_10000" => shutdown(lib, SHUTDOWN_CHILDREN).await,
        "one_for_all_100" => one_for_all(lib).await,
        other => Err(format!("unknown scenario `{other}`")),
    }
}

// ---------------------------------------------------------------- start

async fn start(lib: Lib, n: usize) -> Result<Figures, String> {
    if !lib.runs("start") {
        return Err(format!("{} does not run this scenario", lib.key()));
    }
    let probe = Probe::new(0);
    let rss0 = rss_bytes();
    let (elapsed, keep) = match lib {
        Lib::Tokio | Lib::TokioToken | Lib::TokioOrdered => {
            let token = CancellationToken::new();
            let t0 = Instant::now();
            let mut set = JoinSet::new();
            let mut tokens = Vec::new();
            for _ in 0..n {
                let p = probe.clone();
                if lib == Lib::TokioToken {
                    let t = CancellationToken::new();
                    tokens.push(t.clone());
                    set.spawn(async move {
                        let _alive = p.enter();
                        t.cancelled().await;
                    });
                } else {
                    set.spawn(async move {
                        let _alive = p.enter();
                        std::future::pending::<()>().await;
                    });
                }
            }
            probe.wait_started(n).await;
            let elapsed = t0.elapsed();
            drop(token);
            (elapsed, Box::new((set, tokens)) as Box<dyn std::any::Any>)
        }
        Lib::Supervisor => {
            let spec = sup::idle_tree(&probe, n);
            let t0 = Instant::now();
            let tree = spec.start().await.map_err(|e| e.to_string())?;
            probe.wait_started(n).await;
            (t0.elapsed(), Box::new(tree) as Box<dyn std::any::Any>)
        }
        Lib::AshFlare => {
            let spec = ash::idle_tree(&probe, n);
            let t0 = Instant::now();
            let handle = ash_flare::SupervisorHandle::start(spec);
            probe.wait_started(n).await;
            (t0.elapsed(), Box::new(handle) as Box<dyn std::any::Any>)
        }
        Lib::Rts => {
            let spec = rts::idle_tree(&probe, n);
            let t0 = Instant::now();
            let handle =
                rust_supervisor::runtime::supervisor::Supervisor::start(spec).await.map_err(|e| e.to_string())?;
            probe.wait_started(n).await;
            (t0.elapsed(), Box::new(handle) as Box<dyn std::any::Any>)
        }
    };
    let rss1 = rss_bytes();
    drop(keep);
    Ok(vec![
        ("time_ms", Value::Num(elapsed.as_secs_f64() * 1e3)),
        ("bytes_per_child", Value::Num(rss1.saturating_sub(rss0) as f64 / n as f64)),
    ])
}

// -------------------------------------------------------------- restart

async fn restart(lib: Lib) -> Result<Figures, String> {
    if !lib.runs("restart") {
        return Err(format!("{} does not run this scenario", lib.key()));
    }
    let probe = Probe::new(RESTARTS);
    let limit = Duration::from_secs(20);
    let finished = match lib {
        Lib::Tokio | Lib::TokioToken | Lib::TokioOrdered => {
            let p = probe.clone();
            let with_token = lib == Lib::TokioToken;
            let stop = CancellationToken::new();
            let s = stop.clone();
            // The smallest "supervisor" one can write: respawn on every end.
            let sup = tokio::spawn(async move {
                let mut set = JoinSet::new();
                while !s.is_cancelled() {
                    let p = p.clone();
                    if with_token {
                        let t = CancellationToken::new();
                        set.spawn(async move {
                            p.record_start();
                            let _t = t;
                            Err::<(), &str>("boom")
                        });
                    } else {
                        set.spawn(async move {
                            p.record_start();
                            Err::<(), &str>("boom")
                        });
                    }
                    let _ = set.join_next().await;
                }
            });
            let ok = tokio::time::timeout(limit, probe.wait_recorded()).await.is_ok();
            stop.cancel();
            let _ = sup.await;
            ok
        }
        Lib::Supervisor => {
            let tree = sup::crash_tree(&probe).start().await.map_err(|e| e.to_string())?;
            let ok = tokio::time::timeout(limit, probe.wait_recorded()).await.is_ok();
            let _ = tree.shutdown().await;
            ok
        }
        Lib::AshFlare => {
            let handle = ash_flare::SupervisorHandle::start(ash::crash_tree(&probe));
            let ok = tokio::time::timeout(limit, probe.wait_recorded()).await.is_ok();
            let _ = handle.shutdown().await;
            ok
        }
        Lib::Rts => {
            let handle = rust_supervisor::runtime::supervisor::Supervisor::start(rts::crash_tree(&probe))
                .await
                .map_err(|e| e.to_string())?;
            let ok = tokio::time::timeout(limit, probe.wait_recorded()).await.is_ok();
            let _ = handle.shutdown_tree("bench", "done").await;
            ok
        }
    };
    if !finished {
        let n = probe.start_times().iter().filter(|&&t| t > 0).count();
        return Ok(vec![("median_us", Value::Note(format!("stopped restarting after {n} runs")))]);
    }
    let times = probe.start_times();
    let mut gaps: Vec<u64> = times.windows(2).map(|w| w[1] - w[0]).collect();
    gaps.sort_unstable();
    let total = (times[times.len() - 1] - times[0]) as f64 / 1e9;
    Ok(vec![
        ("median_us", Value::Num(percentile(&gaps, 0.5) / 1e3)),
        ("p99_us", Value::Num(percentile(&gaps, 0.99) / 1e3)),
        ("restarts_per_s", Value::Num((times.len() - 1) as f64 / total)),
    ])
}

pub(crate) fn percentile(sorted: &[u64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[i] as f64
}

// ------------------------------------------------------------- shutdown

async fn shutdown(lib: Lib, n: usize) -> Result<Figures, String> {
    let probe = Probe::new(0);
    let elapsed;
    let mut note = None;
    match lib {
        Lib::Tokio | Lib::TokioToken => {
            let mut set = JoinSet::new();
            let mut tokens = Vec::with_capacity(n);
            for _ in 0..n {
                let p = probe.clone();
                let t = CancellationToken::new();
                if lib == Lib::TokioToken {
                    tokens.push(t.clone());
                }
                set.spawn(async move {
                    let _alive = p.enter();
                    t.cancelled().await;
                });
            }
            probe.wait_started(n).await;
            let t0 = Instant::now();
            if lib == Lib::TokioToken {
                for t in &tokens {
                    t.cancel();
                }
            } else {
                set.abort_all();
                note = Some("abort_all (not cooperative)".to_string());
            }
            while set.join_next().await.is_some() {}
            elapsed = t0.elapsed();
        }
        Lib::TokioOrdered => {
            let mut children = Vec::with_capacity(n);
            for _ in 0..n {
                let p = probe.clone();
                let t = CancellationToken::new();
                let stop = t.clone();
                let handle = tokio::spawn(async move {
                    let _alive = p.enter();
                    stop.cancelled().await;
                });
                children.push((t, handle));
            }
            probe.wait_started(n).await;
            let t0 = Instant::now();
            // On a worker thread, as a supervisor's task runs.
            let _ = tokio::spawn(base::stop_in_reverse(children)).await;
            elapsed = t0.elapsed();
        }
        Lib::Supervisor => {
            let tree = sup::idle_tree(&probe, n).start().await.map_err(|e| e.to_string())?;
            probe.wait_started(n).await;
            let t0 = Instant::now();
            tree.shutdown().await.map_err(|e| e.to_string())?;
            elapsed = t0.elapsed();
        }
        Lib::AshFlare => {
            let handle = ash_flare::SupervisorHandle::start(ash::idle_tree(&probe, n));
            probe.wait_started(n).await;
            let t0 = Instant::now();
            handle.shutdown().await.map_err(|e| e.to_string())?;
            elapsed = t0.elapsed();
            note = Some("no cooperative cancellation: aborts".to_string());
        }
        Lib::Rts => {
            let handle = rust_supervisor::runtime::supervisor::Supervisor::start(rts::idle_tree(&probe, n))
                .await
                .map_err(|e| e.to_string())?;
            probe.wait_started(n).await;
            let t0 = Instant::now();
            handle.shutdown_tree("bench", "done").await.map_err(|e| e.to_string())?;
            elapsed = t0.elapsed();
        }
    }
    let alive = probe.alive();
    let mut figures: Figures =
        vec![("time_ms", Value::Num(elapsed.as_secs_f64() * 1e3)), ("alive_after", Value::Num(alive as f64))];
    if alive > 0 {
        let gone = probe.wait_none_alive(Duration::from_secs(2)).await;
        figures.push((
            "leak",
            Value::Note(match gone {
                Some(d) => {
                    format!("{alive} alive when shutdown returned; all gone {:.1} ms later", d.as_secs_f64() * 1e3)
                }
                None => format!("{alive} alive when shutdown returned; {} still alive 2 s later", probe.alive()),
            }),
        ));
    }
    if let Some(note) = note {
        figures.push(("note", Value::Note(note)));
    }
    Ok(figures)
}

// ---------------------------------------------------------- one_for_all

async fn one_for_all(lib: Lib) -> Result<Figures, String> {
    let n = OFA_CHILDREN;
    let probe = Probe::new(0);
    let stop = CancellationToken::new();
    let mut keep: Vec<Box<dyn std::any::Any>> = Vec::new();
    let mut shut: Option<std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>> = None;
    match lib {
        Lib::Tokio | Lib::TokioToken => {
            let p = probe.clone();
            let s = stop.clone();
            let with_token = lib == Lib::TokioToken;
            let sup = tokio::spawn(base::one_for_all(p, s, n, with_token));
            keep.push(Box::new(sup));
        }
        Lib::TokioOrdered => {
            let sup = tokio::spawn(base::one_for_all_ordered(probe.clone(), stop.clone(), n));
            keep.push(Box::new(sup));
        }
        Lib::Supervisor => {
            let tree = sup::ofa_tree(&probe, n).start().await.map_err(|e| e.to_string())?;
            shut = Some(Box::pin(async move {
                let _ = tree.shutdown().await;
            }));
        }
        Lib::AshFlare => keep.push(Box::new(ash_flare::SupervisorHandle::start(ash::ofa_tree(&probe, n)))),
        Lib::Rts => {
            let h = rust_supervisor::runtime::supervisor::Supervisor::start(rts::ofa_tree(&probe, n))
                .await
                .map_err(|e| e.to_string())?;
            keep.push(Box::new(h));
        }
    }
    probe.wait_started(n).await;
    let mut rounds = Vec::with_capacity(OFA_ROUNDS);
    let mut extra_alive = 0isize;
    for round in 1..=OFA_ROUNDS {
        // Let the restarted children reach their await points.
        tokio::time::sleep(Duration::from_millis(2)).await;
        let t0 = Instant::now();
        probe.trigger.notify_one();
        let waited = tokio::time::timeout(Duration::from_secs(10), probe.wait_started(n * (round + 1))).await;
        if waited.is_err() {
            return Ok(vec![("time_us", Value::Note(format!("children did not all run again (round {round})")))]);
        }
        rounds.push(u64::try_from(t0.elapsed().as_nanos()).unwrap_or(u64::MAX));
        tokio::time::sleep(Duration::from_millis(1)).await;
        extra_alive = extra_alive.max(probe.alive() - n as isize);
    }
    rounds.sort_unstable();
    stop.cancel();
    if let Some(shut) = shut {
        shut.await;
    }
    drop(keep);
    let mut figures: Figures =
        vec![("time_us", Value::Num(percentile(&rounds, 0.5) / 1e3)), ("extra_alive", Value::Num(extra_alive as f64))];
    if extra_alive > 0 {
        figures.push(("leak", Value::Note(format!("old runs not stopped: {extra_alive} extra children alive"))));
    }
    Ok(figures)
}

/// Bare tokio written by hand, as a user without a library would.
mod base {
    use super::*;

    /// A one_for_all loop: on any failure, stop all (abort or cancel), wait
    /// for all, start all again.
    pub(super) async fn one_for_all(p: Arc<Probe>, stop: CancellationToken, n: usize, with_token: bool) {
        let mut set = JoinSet::new();
        let mut group = CancellationToken::new();
        spawn_all(&mut set, &p, n, &group, with_token);
        loop {
            tokio::select! {
                _ = stop.cancelled() => break,
                end = set.join_next() => match end {
                    Some(Ok(Err(()))) => {
                        if with_token {
                            group.cancel();
                        } else {
                            set.abort_all();
                        }
                        while set.join_next().await.is_some() {}
                        group = CancellationToken::new();
                        spawn_all(&mut set, &p, n, &group, with_token);
                    }
                    Some(_) => {}
                    None => break,
                }
            }
        }
        group.cancel();
        set.abort_all();
        while set.join_next().await.is_some() {}
    }

    /// Stops children one by one, last first: cancel, then await its end
    /// before the next is cancelled. The yield lets the woken child run on
    /// this thread before its handle is awaited (without it, each await
    /// parks this task and wakes another thread: ten times slower).
    pub(super) async fn stop_in_reverse(children: Vec<(CancellationToken, tokio::task::JoinHandle<()>)>) {
        for (token, handle) in children.into_iter().rev() {
            token.cancel();
            tokio::task::yield_now().await;
            let _ = handle.await;
        }
    }

    /// A one_for_all loop with the ordered stop: on a failure, the others
    /// are stopped last first, each awaited, then all start again in order.
    pub(super) async fn one_for_all_ordered(p: Arc<Probe>, stop: CancellationToken, n: usize) {
        let (failed_tx, mut failed) = tokio::sync::mpsc::unbounded_channel::<()>();
        let spawn_all = |p: &Arc<Probe>| {
            (0..n)
                .map(|i| {
                    let p = p.clone();
                    let t = CancellationToken::new();
                    let own = t.clone();
                    let failed_tx = failed_tx.clone();
                    let handle = tokio::spawn(async move {
                        let _alive: Alive = p.enter();
                        if i == 0 {
                            tokio::select! {
                                _ = own.cancelled() => {}
                                _ = p.trigger.notified() => {
                                    let _ = failed_tx.send(());
                                }
                            }
                        } else {
                            own.cancelled().await;
                        }
                    });
                    (t, handle)
                })
                .collect::<Vec<_>>()
        };
        let mut children = spawn_all(&p);
        loop {
            tokio::select! {
                _ = stop.cancelled() => break,
                Some(()) = failed.recv() => {
                    stop_in_reverse(std::mem::take(&mut children)).await;
                    children = spawn_all(&p);
                }
            }
        }
        stop_in_reverse(children).await;
    }

    fn spawn_all(
        set: &mut JoinSet<Result<(), ()>>,
        p: &Arc<Probe>,
        n: usize,
        group: &CancellationToken,
        with_token: bool,
    ) {
        for i in 0..n {
            let p = p.clone();
            let t = if with_token { group.clone() } else { CancellationToken::new() };
            set.spawn(async move {
                let _alive: Alive = p.enter();
                if i == 0 {
                    tokio::select! {
                        _ = t.cancelled() => Ok(()),
                        _ = p.trigger.notified() => Err(()),
                    }
                } else {
                    t.cancelled().await;
                    Ok(())
                }
            });
        }
    }
}

/// This workspace's supervisor.
mod sup {
    use super::*;
    use supervisor::{ChildSpec, Context, Strategy, SupervisorSpec};

    pub(super) fn idle_tree(p: &Arc<Probe>, n: usize) -> SupervisorSpec {
        let mut spec = SupervisorSpec::new("bench");
        for i in 0..n {
            let p = p.clone();
            spec = spec.child(ChildSpec::from_fn(format!("w{i}"), move |ctx: Context| {
                let p = p.clone();
                async move {
                    let _alive = p.enter();
                    ctx.cancelled().await;
                }
            }));
        }
        spec
    }

    pub(super) fn crash_tree(p: &Arc<Probe>) -> SupervisorSpec {
        let p = p.clone();
        SupervisorSpec::new("bench").max_restarts(u32::MAX).within(Duration::from_millis(1)).child(ChildSpec::from_fn(
            "crash",
            move |_ctx: Context| {
                let p = p.clone();
                async move {
                    p.record_start();
                    Err::<(), &str>("boom")
                }
            },
        ))
    }

    pub(super) fn ofa_tree(p: &Arc<Probe>, n: usize) -> SupervisorSpec {
        let mut spec = SupervisorSpec::new("bench")
            .strategy(Strategy::OneForAll)
            .max_restarts(u32::MAX)
            .within(Duration::from_millis(1));
        for i in 0..n {
            let p = p.clone();
            spec = spec.child(ChildSpec::from_fn(format!("w{i}"), move |ctx: Context| {
                let p = p.clone();
                async move {
                    let _alive = p.enter();
                    if i == 0 {
                        tokio::select! {
                            _ = ctx.cancelled() => Ok(()),
                            _ = p.trigger.notified() => Err("boom"),
                        }
                    } else {
                        ctx.cancelled().await;
                        Ok(())
                    }
                }
            }));
        }
        spec
    }
}

/// ash-flare 2.3.2: workers are `async_trait` objects made by a factory; no
/// context, no cooperative cancellation (children are aborted).
mod ash {
    use super::*;
    use ash_flare::{RestartIntensity, RestartPolicy, RestartStrategy, SupervisorSpec, Worker};

    #[derive(Debug)]
    pub(super) struct Boom;
    impl std::fmt::Display for Boom {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("boom")
        }
    }
    impl std::error::Error for Boom {}

    #[derive(Clone, Copy)]
    enum Mode {
        Idle,
        Crash,
        Trigger,
    }

    pub(super) struct W {
        p: Arc<Probe>,
        mode: Mode,
    }

    #[async_trait::async_trait]
    impl Worker for W {
        type Error = Boom;
        async fn run(&mut self) -> Result<(), Boom> {
            match self.mode {
                Mode::Crash => {
                    self.p.record_start();
                    Err(Boom)
                }
                Mode::Idle => {
                    let _alive = self.p.enter();
                    std::future::pending::<()>().await;
                    Ok(())
                }
                Mode::Trigger => {
                    let _alive = self.p.enter();
                    self.p.trigger.notified().await;
                    Err(Boom)
                }
            }
        }
    }

    fn tree(p: &Arc<Probe>, n: usize, mode: impl Fn(usize) -> Mode) -> SupervisorSpec<W> {
        // A VecDeque of max_restarts + 1 is allocated up front: keep it sane.
        let mut spec = SupervisorSpec::new("bench").with_restart_intensity(RestartIntensity::new(2_000_000, 1));
        for i in 0..n {
            let p = p.clone();
            let m = mode(i);
            spec = spec.with_worker(format!("w{i}"), move || W { p: p.clone(), mode: m }, RestartPolicy::Permanent);
        }
        spec
    }

    pub(super) fn idle_tree(p: &Arc<Probe>, n: usize) -> SupervisorSpec<W> {
        tree(p, n, |_| Mode::Idle)
    }

    pub(super) fn crash_tree(p: &Arc<Probe>) -> SupervisorSpec<W> {
        tree(p, 1, |_| Mode::Crash)
    }

    pub(super) fn ofa_tree(p: &Arc<Probe>, n: usize) -> SupervisorSpec<W> {
        tree(p, n, |i| if i == 0 { Mode::Trigger } else { Mode::Idle })
            .with_restart_strategy(RestartStrategy::OneForAll)
    }
}

/// rust-tokio-supervisor 0.1.2 (library `rust_supervisor`).
mod rts {
    use super::*;
    use rust_supervisor::error::types::{TaskFailure, TaskFailureKind};
    use rust_supervisor::id::types::ChildId;
    use rust_supervisor::spec::child::{BackoffPolicy, ChildSpec, RestartPolicy, TaskKind};
    use rust_supervisor::spec::supervisor::{SupervisionStrategy, SupervisorSpec};
    use rust_supervisor::task::context::TaskContext;
    use rust_supervisor::task::factory::{TaskResult, service_fn};

    fn child(
        i: usize,
        f: impl Fn(TaskContext) -> rust_supervisor::task::factory::BoxTaskFuture + Send + Sync + 'static,
    ) -> ChildSpec {
        let mut c = ChildSpec::worker(
            ChildId::new(format!("w{i}")),
            format!("w{i}"),
            TaskKind::AsyncWorker,
            Arc::new(service_fn(f)),
        );
        c.restart_policy = RestartPolicy::Permanent;
        c.backoff_policy = BackoffPolicy::new(Duration::ZERO, Duration::ZERO, 0.0);
        c
    }

    fn failure() -> TaskResult {
        TaskResult::Failed(TaskFailure::new(TaskFailureKind::Error, "bench", "boom"))
    }

    pub(super) fn idle_tree(p: &Arc<Probe>, n: usize) -> SupervisorSpec {
        let children = (0..n)
            .map(|i| {
                let p = p.clone();
                child(i, move |ctx| {
                    let p = p.clone();
                    Box::pin(async move {
                        let _alive = p.enter();
                        ctx.cancellation_token().cancelled().await;
                        TaskResult::Succeeded
                    })
                })
            })
            .collect();
        SupervisorSpec::root(children)
    }

    pub(super) fn crash_tree(p: &Arc<Probe>) -> SupervisorSpec {
        let p = p.clone();
        SupervisorSpec::root(vec![child(0, move |_ctx| {
            let p = p.clone();
            Box::pin(async move {
                p.record_start();
                failure()
            })
        })])
    }

    pub(super) fn ofa_tree(p: &Arc<Probe>, n: usize) -> SupervisorSpec {
        let children = (0..n)
            .map(|i| {
                let p = p.clone();
                child(i, move |ctx| {
                    let p = p.clone();
                    Box::pin(async move {
                        let _alive = p.enter();
                        let token = ctx.cancellation_token();
                        if i == 0 {
                            tokio::select! {
                                _ = token.cancelled() => TaskResult::Succeeded,
                                _ = p.trigger.notified() => failure(),
                            }
                        } else {
                            token.cancelled().await;
                            TaskResult::Succeeded
                        }
                    })
                })
            })
            .collect();
        let mut spec = SupervisorSpec::root(children);
        spec.strategy = SupervisionStrategy::OneForAll;
        spec
    }
}
