//! This workspace's supervisor, built with its builder as a user would for
//! a tree assembled at run time.

use std::sync::Arc;

use supervisor::{ChildSpec, Context, Strategy, SupervisorHandle, SupervisorSpec};

use super::{BUDGET_WINDOW, Running, Scope, from_tasks};
use crate::probe::Probe;

/// A supervisor with the budget every library gets (children are
/// permanent and without backoff by default).
fn root(strategy: Strategy) -> SupervisorSpec {
    SupervisorSpec::new("bench").strategy(strategy).max_restarts(u32::MAX).within(BUDGET_WINDOW)
}

/// A worker that runs until it is stopped; the first of a one_for_all
/// tree fails when the probe's trigger is notified.
fn idle_child(p: &Arc<Probe>, id: String, fails: bool) -> ChildSpec {
    let p = p.clone();
    ChildSpec::from_fn(id, move |ctx: Context| {
        let p = p.clone();
        async move {
            let _alive = p.enter();
            if fails {
                tokio::select! {
                    _ = ctx.cancelled() => Ok(()),
                    _ = p.trigger.notified() => Err("boom"),
                }
            } else {
                ctx.cancelled().await;
                Ok(())
            }
        }
    })
}

async fn started(spec: SupervisorSpec) -> Result<Running, String> {
    let tree = spec.start().await.map_err(|e| e.to_string())?;
    Ok(stops(tree))
}

fn stops(tree: SupervisorHandle) -> Running {
    Running::new(move || async move { tree.shutdown().await.map_err(|e| e.to_string()) })
}

pub(crate) async fn idle(p: &Arc<Probe>, n: usize) -> Result<Running, String> {
    let mut spec = root(Strategy::OneForOne);
    for i in 0..n {
        spec = spec.child(idle_child(p, format!("w{i}"), false));
    }
    started(spec).await
}

pub(crate) async fn crashing(p: &Arc<Probe>, scope: Scope) -> Result<Running, String> {
    let strategy = match scope {
        Scope::OneForOne => Strategy::OneForOne,
        Scope::OneForAll => Strategy::OneForAll,
    };
    let p = p.clone();
    let crash = ChildSpec::from_fn("crash", move |_ctx: Context| {
        let p = p.clone();
        async move {
            p.record_start();
            Err::<(), &str>("boom")
        }
    });
    started(root(strategy).child(crash)).await
}

pub(crate) async fn one_for_all(p: &Arc<Probe>, n: usize) -> Result<Running, String> {
    let mut spec = root(Strategy::OneForAll);
    for i in 0..n {
        spec = spec.child(idle_child(p, format!("w{i}"), i == 0));
    }
    started(spec).await
}

pub(crate) async fn dynamic(p: &Arc<Probe>, n: usize, tasks: usize) -> Result<Running, String> {
    let tree = root(Strategy::OneForOne).start().await.map_err(|e| e.to_string())?;
    let handle = tree.clone();
    let p = p.clone();
    from_tasks(n, tasks, move |i| {
        let handle = handle.clone();
        let child = idle_child(&p, format!("d{i}"), false);
        async move { handle.start_child(child).await.map(drop).map_err(|e| e.to_string()) }
    })
    .await?;
    Ok(stops(tree))
}
