//! ractor, with the supervisors of the ractor-supervisor crate: children
//! are actors linked to a supervisor actor, each under a name of ractor's
//! global registry, and started again by a spawn function.

use std::sync::Arc;

use ractor::{Actor, ActorProcessingErr, ActorRef};
use ractor_supervisor::{
    ChildSpec, DynamicSupervisor, DynamicSupervisorOptions, Restart, SpawnFn, Supervisor, SupervisorArguments,
    SupervisorOptions, SupervisorStrategy,
};

use super::{BUDGET_WINDOW, Boom, Mode, Running, Scope, from_tasks};
use crate::probe::{Alive, Probe};

struct Child {
    p: Arc<Probe>,
    mode: Mode,
}

#[ractor::async_trait]
impl Actor for Child {
    type Msg = ();
    /// Holds the child's drop guard: dropped when the actor ends.
    type State = Option<Alive>;
    type Arguments = ();

    async fn pre_start(&self, _me: ActorRef<()>, _: ()) -> Result<Option<Alive>, ActorProcessingErr> {
        Ok(match self.mode {
            Mode::Crash => {
                self.p.record_start();
                None
            }
            Mode::Idle | Mode::Trigger => Some(self.p.enter()),
        })
    }

    /// A failure here is the child's failure (a supervision event);
    /// ractor still handles a kill while it waits.
    async fn post_start(&self, _me: ActorRef<()>, _state: &mut Option<Alive>) -> Result<(), ActorProcessingErr> {
        match self.mode {
            Mode::Idle => Ok(()),
            Mode::Crash => Err(Boom.into()),
            Mode::Trigger => {
                self.p.trigger.notified().await;
                Err(Boom.into())
            }
        }
    }
}

fn child(p: &Arc<Probe>, id: String, mode: Mode) -> ChildSpec {
    let p = p.clone();
    ChildSpec {
        id,
        restart: Restart::Permanent,
        spawn_fn: SpawnFn::new(move |supervisor, id| {
            let child = Child { p: p.clone(), mode };
            async move {
                let (actor, _) = Supervisor::spawn_linked(id, child, (), supervisor).await?;
                Ok(actor.get_cell())
            }
        }),
        backoff_fn: None,
        reset_after: None,
    }
}

async fn started(child_specs: Vec<ChildSpec>, strategy: SupervisorStrategy) -> Result<Running, String> {
    let options =
        SupervisorOptions { strategy, max_restarts: usize::MAX, max_window: BUDGET_WINDOW, reset_after: None };
    let (sup, handle) = Supervisor::spawn("bench".into(), SupervisorArguments { child_specs, options })
        .await
        .map_err(|e| e.to_string())?;
    Ok(Running::new(move || async move {
        sup.stop_and_wait(None, None).await.map_err(|e| e.to_string())?;
        handle.await.map_err(|e| e.to_string())
    }))
}

pub(crate) async fn idle(p: &Arc<Probe>, n: usize) -> Result<Running, String> {
    started((0..n).map(|i| child(p, format!("w{i}"), Mode::Idle)).collect(), SupervisorStrategy::OneForOne).await
}

pub(crate) async fn crashing(p: &Arc<Probe>, scope: Scope) -> Result<Running, String> {
    let strategy = match scope {
        Scope::OneForOne => SupervisorStrategy::OneForOne,
        Scope::OneForAll => SupervisorStrategy::OneForAll,
    };
    started(vec![child(p, "crash".into(), Mode::Crash)], strategy).await
}

pub(crate) async fn one_for_all(p: &Arc<Probe>, n: usize) -> Result<Running, String> {
    let children = (0..n).map(|i| child(p, format!("w{i}"), Mode::one_for_all(i))).collect();
    started(children, SupervisorStrategy::OneForAll).await
}

pub(crate) async fn dynamic(p: &Arc<Probe>, n: usize, tasks: usize) -> Result<Running, String> {
    let options = DynamicSupervisorOptions {
        max_children: None,
        max_restarts: usize::MAX,
        max_window: BUDGET_WINDOW,
        reset_after: None,
    };
    let (sup, handle) = DynamicSupervisor::spawn("bench".into(), options).await.map_err(|e| e.to_string())?;
    let adder = sup.clone();
    let p = p.clone();
    from_tasks(n, tasks, move |i| {
        let adder = adder.clone();
        let spec = child(&p, format!("d{i}"), Mode::Idle);
        async move { DynamicSupervisor::spawn_child(adder, spec).await.map_err(|e| e.to_string()) }
    })
    .await?;
    Ok(Running::new(move || async move {
        sup.stop_and_wait(None, None).await.map_err(|e| e.to_string())?;
        handle.await.map_err(|e| e.to_string())
    }))
}
