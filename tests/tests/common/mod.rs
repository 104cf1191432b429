//! Shared probes for the runtime and governance tests: a log of what workers
//! did, a count of live runs (a drop guard per run), a per-child overlap
//! check, and scripted workers.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use supervisor::{ChildSpec, Context, Event, Subscription};

/// What the workers of one test did, seen from outside the tree.
#[derive(Clone, Default)]
pub(crate) struct Probe {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    log: Mutex<Vec<String>>,
    live: AtomicUsize,
    per_child: Mutex<HashMap<String, usize>>,
    runs: Mutex<HashMap<String, u32>>,
    overlaps: AtomicUsize,
}

/// Held by one run of a worker: counts it live until it is dropped (which
/// also happens when its task is aborted).
pub(crate) struct RunGuard {
    probe: Probe,
    id: String,
}

impl Probe {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Marks the start of a run of `id`: logs `start:id`, counts it live and
    /// records an overlap if another run of `id` is still alive.
    pub(crate) fn enter(&self, id: &str) -> RunGuard {
        {
            let mut per = self.inner.per_child.lock().unwrap();
            let n = per.entry(id.to_string()).or_default();
            if *n != 0 {
                self.inner.overlaps.fetch_add(1, Ordering::SeqCst);
            }
            *n += 1;
        }
        *self.inner.runs.lock().unwrap().entry(id.to_string()).or_default() += 1;
        self.inner.live.fetch_add(1, Ordering::SeqCst);
        self.push(format!("start:{id}"));
        RunGuard { probe: self.clone(), id: id.to_string() }
    }

    pub(crate) fn push(&self, line: impl Into<String>) {
        self.inner.log.lock().unwrap().push(line.into());
    }

    pub(crate) fn log(&self) -> Vec<String> {
        self.inner.log.lock().unwrap().clone()
    }

    /// The log lines that start with `prefix` (`"start:"`, `"stop:"`).
    pub(crate) fn lines(&self, prefix: &str) -> Vec<String> {
        self.log().into_iter().filter(|l| l.starts_with(prefix)).collect()
    }

    pub(crate) fn clear_log(&self) {
        self.inner.log.lock().unwrap().clear();
    }

    /// Runs alive now, over every child.
    pub(crate) fn live(&self) -> usize {
        self.inner.live.load(Ordering::SeqCst)
    }

    /// How many runs of `id` have started.
    pub(crate) fn runs(&self, id: &str) -> u32 {
        self.inner.runs.lock().unwrap().get(id).copied().unwrap_or(0)
    }

    /// How many times a run started while another run of the same child was
    /// still alive.
    pub(crate) fn overlaps(&self) -> usize {
        self.inner.overlaps.load(Ordering::SeqCst)
    }
}

impl Drop for RunGuard {
    fn drop(&mut self) {
        if let Some(n) = self.probe.inner.per_child.lock().unwrap().get_mut(&self.id) {
            *n -= 1;
        }
        self.probe.inner.live.fetch_sub(1, Ordering::SeqCst);
        self.probe.push(format!("stop:{}", self.id));
    }
}

/// What one run of a scripted worker does.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Act {
    /// Calls `ready()`, waits for cancellation, returns `Ok`.
    Idle,
    /// Waits for cancellation without ever calling `ready()`.
    NeverReady,
    /// Returns `Ok` at once.
    Ok,
    /// Returns an error at once.
    Err,
    /// Panics at once.
    Panic,
    /// Runs (ready) for this long, then returns `Ok`.
    OkAfter(Duration),
    /// Runs (ready) for this long, then returns an error.
    ErrAfter(Duration),
    /// Calls `ready()` after this long, then idles.
    ReadyAfter(Duration),
    /// Calls `ready()` and never returns, not even when cancelled.
    IgnoreCancel,
    /// Calls `ready()`; once cancelled, takes this long to stop.
    SlowStop(Duration),
    /// Calls `ready()` and `heartbeat()` every `Duration` until cancelled.
    Beat(Duration),
}

/// A worker child that runs `script(attempt)` under a [`RunGuard`]; its
/// errors and panics name the child.
pub(crate) fn scripted<F>(probe: &Probe, id: &str, script: F) -> ChildSpec
where
    F: Fn(u32) -> Act + Clone + Send + Sync + 'static,
{
    let probe = probe.clone();
    let name = id.to_string();
    ChildSpec::from_fn(id, move |ctx: Context| {
        let probe = probe.clone();
        let name = name.clone();
        let act = script(ctx.attempt());
        async move {
            let _guard = probe.enter(&name);
            run_act(act, &ctx, &name).await
        }
    })
}

/// A worker child that does the same every run.
pub(crate) fn always(probe: &Probe, id: &str, act: Act) -> ChildSpec {
    scripted(probe, id, move |_| act)
}

/// A worker child that idles until cancelled.
pub(crate) fn idle(probe: &Probe, id: &str) -> ChildSpec {
    always(probe, id, Act::Idle)
}

/// A worker child whose first run does `first` and later runs idle.
pub(crate) fn first_then_idle(probe: &Probe, id: &str, first: Act) -> ChildSpec {
    scripted(probe, id, move |attempt| if attempt == 1 { first } else { Act::Idle })
}

async fn run_act(act: Act, ctx: &Context, name: &str) -> Result<(), String> {
    match act {
        Act::Idle => {
            ctx.ready();
            ctx.cancelled().await;
            Ok(())
        }
        Act::NeverReady => {
            ctx.cancelled().await;
            Ok(())
        }
        Act::Ok => Ok(()),
        Act::Err => Err(format!("{name} failed")),
        Act::Panic => panic!("{name} panicked"),
        Act::OkAfter(d) => {
            ctx.ready();
            tokio::select! {
                _ = ctx.cancelled() => Ok(()),
                _ = tokio::time::sleep(d) => Ok(()),
            }
        }
        Act::ErrAfter(d) => {
            ctx.ready();
            tokio::select! {
                _ = ctx.cancelled() => Ok(()),
                _ = tokio::time::sleep(d) => Err(format!("{name} failed")),
            }
        }
        Act::ReadyAfter(d) => {
            tokio::select! {
                _ = ctx.cancelled() => return Ok(()),
                _ = tokio::time::sleep(d) => {}
            }
            ctx.ready();
            ctx.cancelled().await;
            Ok(())
        }
        Act::IgnoreCancel => {
            ctx.ready();
            std::future::pending::<()>().await;
            Ok(())
        }
        Act::SlowStop(d) => {
            ctx.ready();
            ctx.cancelled().await;
            tokio::time::sleep(d).await;
            Ok(())
        }
        Act::Beat(every) => {
            ctx.ready();
            loop {
                ctx.heartbeat();
                tokio::select! {
                    _ = ctx.cancelled() => return Ok(()),
                    _ = tokio::time::sleep(every) => {}
                }
            }
        }
    }
}

/// Lets every task run until the tree is idle, moving the paused clock by
/// `d` (timers due within it fire).
pub(crate) async fn settle_for(d: Duration) {
    tokio::time::sleep(d).await;
    for _ in 0..16 {
        tokio::task::yield_now().await;
    }
}

/// Lets every task run; the paused clock moves by 1 ms.
pub(crate) async fn settle() {
    settle_for(Duration::from_millis(1)).await;
}

/// The events received so far.
pub(crate) fn drain(sub: &mut Subscription) -> Vec<Event> {
    let mut out = Vec::new();
    while let Some(Ok(e)) = sub.try_recv() {
        out.push(e);
    }
    out
}

pub(crate) const fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

pub(crate) const fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// `tree.wait()`, failing the test instead of hanging if the tree does not
/// end within a day of paused time.
pub(crate) async fn ended(tree: &supervisor::SupervisorHandle) -> Result<(), supervisor::SupervisorError> {
    tokio::time::timeout(secs(86_400), tree.wait()).await.expect("the tree did not end")
}
