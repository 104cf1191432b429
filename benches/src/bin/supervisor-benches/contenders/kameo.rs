//! kameo: children are actors spawned with `supervise(..)` under a
//! supervisor actor whose type names its strategy; a restarted child keeps
//! its mailbox and is built again from its arguments.

use std::sync::Arc;

use kameo::actor::{Actor, ActorRef, Spawn, WeakActorRef};
use kameo::error::Infallible;
use kameo::mailbox::{MailboxReceiver, Signal};
use kameo::supervision::{RestartPolicy, SupervisionStrategy};

use super::{BUDGET_WINDOW, Boom, Mode, Running, Scope, from_tasks};
use crate::probe::{Alive, Probe};

#[derive(Clone)]
struct ChildArgs {
    p: Arc<Probe>,
    mode: Mode,
}

struct Child {
    p: Arc<Probe>,
    fails: bool,
    _alive: Alive,
}

impl Actor for Child {
    type Args = ChildArgs;
    type Error = Boom;

    async fn on_start(args: ChildArgs, _me: ActorRef<Self>) -> Result<Self, Boom> {
        match args.mode {
            Mode::Crash => {
                args.p.record_start();
                Err(Boom)
            }
            Mode::Idle | Mode::Trigger => {
                Ok(Child { _alive: args.p.enter(), fails: matches!(args.mode, Mode::Trigger), p: args.p })
            }
        }
    }

    /// The failing child waits for its mailbox or the trigger, whichever
    /// comes first: kameo's hook for an actor's own work between messages.
    async fn next(
        &mut self,
        _me: WeakActorRef<Self>,
        mailbox: &mut MailboxReceiver<Self>,
    ) -> Result<Option<Signal<Self>>, Boom> {
        if !self.fails {
            return Ok(mailbox.recv().await);
        }
        tokio::select! {
            signal = mailbox.recv() => Ok(signal),
            _ = self.p.trigger.notified() => Err(Boom),
        }
    }
}

/// What a supervisor starts: `n` children, the mode of each.
#[derive(Clone)]
struct Plan {
    p: Arc<Probe>,
    n: usize,
    mode: fn(usize) -> Mode,
}

/// A supervisor actor; kameo reads the strategy from its type.
struct Sup<const ONE_FOR_ALL: bool>;

impl<const ONE_FOR_ALL: bool> Actor for Sup<ONE_FOR_ALL> {
    type Args = Plan;
    type Error = Infallible;

    fn supervision_strategy() -> SupervisionStrategy {
        if ONE_FOR_ALL { SupervisionStrategy::OneForAll } else { SupervisionStrategy::OneForOne }
    }

    async fn on_start(plan: Plan, me: ActorRef<Self>) -> Result<Self, Infallible> {
        for i in 0..plan.n {
            supervised(&me, ChildArgs { p: plan.p.clone(), mode: (plan.mode)(i) }).await;
        }
        Ok(Sup)
    }
}

async fn supervised<S: Actor>(sup: &ActorRef<S>, args: ChildArgs) -> ActorRef<Child> {
    Child::supervise(sup, args)
        .restart_policy(RestartPolicy::Permanent)
        .restart_limit(u32::MAX, BUDGET_WINDOW)
        .spawn()
        .await
}

fn stops<const ONE_FOR_ALL: bool>(sup: ActorRef<Sup<ONE_FOR_ALL>>) -> Running {
    Running::new(move || async move {
        sup.stop_gracefully().await.map_err(|e| e.to_string())?;
        sup.wait_for_shutdown().await;
        Ok(())
    })
}

fn plan(p: &Arc<Probe>, n: usize, mode: fn(usize) -> Mode) -> Plan {
    Plan { p: p.clone(), n, mode }
}

pub(crate) fn idle(p: &Arc<Probe>, n: usize) -> Result<Running, String> {
    Ok(stops(Sup::<false>::spawn(plan(p, n, |_| Mode::Idle))))
}

pub(crate) fn crashing(p: &Arc<Probe>, scope: Scope) -> Result<Running, String> {
    let plan = plan(p, 1, |_| Mode::Crash);
    Ok(match scope {
        Scope::OneForOne => stops(Sup::<false>::spawn(plan)),
        Scope::OneForAll => stops(Sup::<true>::spawn(plan)),
    })
}

pub(crate) fn one_for_all(p: &Arc<Probe>, n: usize) -> Result<Running, String> {
    Ok(stops(Sup::<true>::spawn(plan(p, n, Mode::one_for_all))))
}

pub(crate) async fn dynamic(p: &Arc<Probe>, n: usize, tasks: usize) -> Result<Running, String> {
    let sup = Sup::<false>::spawn(plan(p, 0, |_| Mode::Idle));
    let adder = sup.clone();
    let p = p.clone();
    from_tasks(n, tasks, move |_| {
        let adder = adder.clone();
        let args = ChildArgs { p: p.clone(), mode: Mode::Idle };
        async move {
            supervised(&adder, args).await;
            Ok(())
        }
    })
    .await?;
    Ok(stops(sup))
}
