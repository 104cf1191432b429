//! Each library's side of the scenarios: the same four things built the
//! way that library's users build them. The scenario drivers (in
//! `scenarios.rs`) time them all the same way.
//!
//! Every library is configured alike: children permanent, restarted at
//! once (no backoff), with a restart budget no run can exhaust.

pub(crate) mod ash_flare;
pub(crate) mod floor;
pub(crate) mod kameo;
pub(crate) mod ractor;
pub(crate) mod rts;
pub(crate) mod supervisor;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use crate::libs::Lib;
use crate::probe::Probe;

/// The restart budget every library gets where it takes a count: as many
/// restarts as its type holds, within the shortest window, so that no
/// library keeps a long log of restarts that the run cannot exhaust
/// anyway.
pub(crate) const BUDGET_WINDOW: Duration = Duration::from_millis(1);

/// What a child does when it runs.
#[derive(Clone, Copy)]
pub(crate) enum Mode {
    /// Runs until it is stopped.
    Idle,
    /// Fails at once (the restart scenarios).
    Crash,
    /// Fails when the probe's trigger is notified (the first child of the
    /// one_for_all scenario).
    Trigger,
}

impl Mode {
    /// Child `i` of the one_for_all scenario.
    pub(crate) fn one_for_all(i: usize) -> Mode {
        if i == 0 { Mode::Trigger } else { Mode::Idle }
    }
}

/// The error of every failing child.
#[derive(Debug)]
pub(crate) struct Boom;

impl std::fmt::Display for Boom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("boom")
    }
}

impl std::error::Error for Boom {}

/// Which restart path the restart scenario takes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    /// A lone one_for_one worker.
    OneForOne,
    /// A one_for_all scope of one child: the same restart, decided by the
    /// supervisor for a scope.
    OneForAll,
}

type Stop = Pin<Box<dyn Future<Output = Result<(), String>>>>;

/// Children a library has started, with the way that library stops them.
pub(crate) struct Running {
    stop: Box<dyn FnOnce() -> Stop>,
}

impl Running {
    pub(crate) fn new<F, Fut>(stop: F) -> Running
    where
        F: FnOnce() -> Fut + 'static,
        Fut: Future<Output = Result<(), String>> + 'static,
    {
        Running { stop: Box::new(move || Box::pin(stop()) as Stop) }
    }

    /// Stops the children as the library's shutdown does; returns when
    /// that shutdown returns (which may be before every child has ended).
    pub(crate) async fn shutdown(self) -> Result<(), String> {
        (self.stop)().await
    }
}

/// `n` idle children that end when stopped (or are aborted, where the
/// library has no stop signal).
pub(crate) async fn idle(lib: Lib, p: &Arc<Probe>, n: usize) -> Result<Running, String> {
    match lib {
        Lib::Floor | Lib::Token | Lib::Ordered => floor::idle(lib, p, n),
        Lib::Supervisor => supervisor::idle(p, n).await,
        Lib::AshFlare => ash_flare::idle(p, n),
        Lib::Rts => rts::idle(p, n).await,
        Lib::Ractor => ractor::idle(p, n).await,
        Lib::Kameo => kameo::idle(p, n),
    }
}

/// One child that fails as soon as it runs, restarted for ever.
pub(crate) async fn crashing(lib: Lib, p: &Arc<Probe>, scope: Scope) -> Result<Running, String> {
    match lib {
        Lib::Floor | Lib::Token | Lib::Ordered => floor::crashing(lib, p),
        Lib::Supervisor => supervisor::crashing(p, scope).await,
        Lib::AshFlare => ash_flare::crashing(p, scope),
        Lib::Rts => rts::crashing(p, scope).await,
        Lib::Ractor => ractor::crashing(p, scope).await,
        Lib::Kameo => kameo::crashing(p, scope),
    }
}

/// `n` children under one_for_all; the first fails when the probe's
/// trigger is notified.
pub(crate) async fn one_for_all(lib: Lib, p: &Arc<Probe>, n: usize) -> Result<Running, String> {
    match lib {
        Lib::Floor | Lib::Token | Lib::Ordered => floor::one_for_all(lib, p, n),
        Lib::Supervisor => supervisor::one_for_all(p, n).await,
        Lib::AshFlare => ash_flare::one_for_all(p, n),
        Lib::Rts => rts::one_for_all(p, n).await,
        Lib::Ractor => ractor::one_for_all(p, n).await,
        Lib::Kameo => kameo::one_for_all(p, n),
    }
}

/// A running supervisor (or set) that `tasks` tasks add `n` children to,
/// `n / tasks` each; returns once every call to add one has returned.
pub(crate) async fn dynamic(lib: Lib, p: &Arc<Probe>, n: usize, tasks: usize) -> Result<Running, String> {
    match lib {
        Lib::Floor | Lib::Token | Lib::Ordered => floor::dynamic(lib, p, n, tasks).await,
        Lib::Supervisor => supervisor::dynamic(p, n, tasks).await,
        Lib::AshFlare => ash_flare::dynamic(p, n, tasks).await,
        Lib::Rts => Err("rust-tokio-supervisor cannot start dynamic children".to_string()),
        Lib::Ractor => ractor::dynamic(p, n, tasks).await,
        Lib::Kameo => kameo::dynamic(p, n, tasks).await,
    }
}

/// Runs `tasks` tasks, task `t` calling `add(t, i)` for its share of
/// `0..n`, and waits for them all; the first error wins.
pub(crate) async fn from_tasks<F, Fut>(n: usize, tasks: usize, add: F) -> Result<(), String>
where
    F: Fn(usize) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Result<(), String>> + Send + 'static,
{
    let mut set = tokio::task::JoinSet::new();
    for t in 0..tasks {
        let add = add.clone();
        set.spawn(async move {
            for i in (t..n).step_by(tasks) {
                add(i).await?;
            }
            Ok::<(), String>(())
        });
    }
    while let Some(done) = set.join_next().await {
        done.map_err(|e| e.to_string())??;
    }
    Ok(())
}
