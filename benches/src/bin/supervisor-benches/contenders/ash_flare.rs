//! ash-flare: workers are `async_trait` objects made by a factory; they
//! have no stop signal, so the supervisor aborts them.

use std::sync::Arc;

use ash_flare::{RestartIntensity, RestartPolicy, RestartStrategy, SupervisorHandle, SupervisorSpec, Worker};

use super::{Boom, Mode, Running, Scope, from_tasks};
use crate::probe::Probe;

/// `Clone` because ash-flare's handle is `Clone` only for cloneable workers.
#[derive(Clone)]
pub(crate) struct W {
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

fn factory(p: &Arc<Probe>, mode: Mode) -> impl Fn() -> W + Send + Sync + use<> {
    let p = p.clone();
    move || W { p: p.clone(), mode }
}

fn tree(p: &Arc<Probe>, n: usize, strategy: RestartStrategy, mode: impl Fn(usize) -> Mode) -> SupervisorSpec<W> {
    // Its window is in whole seconds, and it allocates room for
    // max_restarts + 1 instants up front: a count far above what a run
    // makes, not the type's maximum.
    let budget = RestartIntensity::new(100 * crate::scenarios::RESTARTS, 1);
    let mut spec = SupervisorSpec::new("bench").with_restart_intensity(budget).with_restart_strategy(strategy);
    for i in 0..n {
        spec = spec.with_worker(format!("w{i}"), factory(p, mode(i)), RestartPolicy::Permanent);
    }
    spec
}

/// Its `shutdown` only sends the request; the loop has exited (and every
/// child been aborted and awaited) once a command queued behind it is
/// dropped unanswered.
fn stops(handle: SupervisorHandle<W>) -> Running {
    Running::new(move || async move {
        handle.shutdown().await.map_err(|e| e.to_string())?;
        match handle.which_children().await {
            Err(_) => Ok(()),
            Ok(_) => Err("ash-flare answered a command after its shutdown".to_string()),
        }
    })
}

pub(crate) fn idle(p: &Arc<Probe>, n: usize) -> Result<Running, String> {
    Ok(stops(SupervisorHandle::start(tree(p, n, RestartStrategy::OneForOne, |_| Mode::Idle))))
}

pub(crate) fn crashing(p: &Arc<Probe>, scope: Scope) -> Result<Running, String> {
    let strategy = match scope {
        Scope::OneForOne => RestartStrategy::OneForOne,
        Scope::OneForAll => RestartStrategy::OneForAll,
    };
    Ok(stops(SupervisorHandle::start(tree(p, 1, strategy, |_| Mode::Crash))))
}

pub(crate) fn one_for_all(p: &Arc<Probe>, n: usize) -> Result<Running, String> {
    let spec = tree(p, n, RestartStrategy::OneForAll, Mode::one_for_all);
    Ok(stops(SupervisorHandle::start(spec)))
}

pub(crate) async fn dynamic(p: &Arc<Probe>, n: usize, tasks: usize) -> Result<Running, String> {
    let handle = SupervisorHandle::start(tree(p, 0, RestartStrategy::OneForOne, |_| Mode::Idle));
    let adder = handle.clone();
    let p = p.clone();
    from_tasks(n, tasks, move |i| {
        let adder = adder.clone();
        let make = factory(&p, Mode::Idle);
        async move {
            adder
                .start_child(format!("d{i}"), make, RestartPolicy::Permanent)
                .await
                .map(drop)
                .map_err(|e| e.to_string())
        }
    })
    .await?;
    Ok(stops(handle))
}
