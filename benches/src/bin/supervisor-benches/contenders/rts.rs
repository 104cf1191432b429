//! rust-tokio-supervisor (library `rust_supervisor`): children are
//! service functions given a task context with a cancellation token.

use std::sync::Arc;
use std::time::Duration;

use rust_supervisor::control::handle::SupervisorHandle;
use rust_supervisor::error::types::{TaskFailure, TaskFailureKind};
use rust_supervisor::id::types::ChildId;
use rust_supervisor::runtime::supervisor::Supervisor;
use rust_supervisor::spec::child::{BackoffPolicy, ChildSpec, RestartPolicy, TaskKind};
use rust_supervisor::spec::supervisor::{RestartBudget, SupervisionStrategy, SupervisorSpec};
use rust_supervisor::task::context::TaskContext;
use rust_supervisor::task::factory::{BoxTaskFuture, TaskResult, service_fn};

use super::{BUDGET_WINDOW, Running, Scope};
use crate::probe::Probe;

fn child(i: usize, f: impl Fn(TaskContext) -> BoxTaskFuture + Send + Sync + 'static) -> ChildSpec {
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

fn root(children: Vec<ChildSpec>, strategy: SupervisionStrategy) -> SupervisorSpec {
    let mut spec = SupervisorSpec::root(children);
    spec.strategy = strategy;
    spec.restart_budget = Some(RestartBudget::new(u32::MAX, BUDGET_WINDOW));
    spec
}

fn failure() -> TaskResult {
    TaskResult::Failed(TaskFailure::new(TaskFailureKind::Error, "bench", "boom"))
}

fn idle_child(p: &Arc<Probe>, i: usize, fails: bool) -> ChildSpec {
    let p = p.clone();
    child(i, move |ctx| {
        let p = p.clone();
        Box::pin(async move {
            let _alive = p.enter();
            let token = ctx.cancellation_token();
            if fails {
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
}

async fn started(spec: SupervisorSpec) -> Result<Running, String> {
    let handle: SupervisorHandle = Supervisor::start(spec).await.map_err(|e| e.to_string())?;
    Ok(Running::new(
        move || async move { handle.shutdown_tree("bench", "done").await.map(drop).map_err(|e| e.to_string()) },
    ))
}

pub(crate) async fn idle(p: &Arc<Probe>, n: usize) -> Result<Running, String> {
    started(root((0..n).map(|i| idle_child(p, i, false)).collect(), SupervisionStrategy::OneForOne)).await
}

pub(crate) async fn crashing(p: &Arc<Probe>, scope: Scope) -> Result<Running, String> {
    let p = p.clone();
    let crash = child(0, move |_ctx| {
        let p = p.clone();
        Box::pin(async move {
            p.record_start();
            failure()
        })
    });
    let strategy = match scope {
        Scope::OneForOne => SupervisionStrategy::OneForOne,
        Scope::OneForAll => SupervisionStrategy::OneForAll,
    };
    started(root(vec![crash], strategy)).await
}

pub(crate) async fn one_for_all(p: &Arc<Probe>, n: usize) -> Result<Running, String> {
    started(root((0..n).map(|i| idle_child(p, i, i == 0)).collect(), SupervisionStrategy::OneForAll)).await
}
