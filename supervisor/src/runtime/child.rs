//! One child of a supervisor, and the phase of its life.
//!
//! A child's state is its [`Phase`], stored once in its [`Slot`]; the
//! [`ChildState`] that commands and snapshots report is derived from it
//! ([`Phase::state`]). The supervisor changes a phase only through the
//! transitions below, each in one place of `supervisor.rs` or
//! `commands.rs`:
//!
//! ```text
//!            start                     its task ends by itself
//! Stopped ----------> Live(run) -------------------------------> Exited
//! Waiting ---------->   |   ^                                      |
//! Pending ---------->   |   | start (a restart, restart_child)     | handled: restart now,
//! Quarantined ------>   |   +--------------------------------------+ or later (Pending,
//! Exited ----------->   |                                            with the rest of its
//!                       | stopped by the supervisor                  scope Waiting on it),
//!                       v                                            or not (Stopped)
//!                    Stopped, or Quarantined(scope), or Exited (a missed heartbeat)
//! ```
//!
//! # Invariants
//! Checked by [`Supervisor::check_invariants`](super::supervisor::Supervisor::check_invariants)
//! after every step in debug builds:
//!
//! 1. A child has a live task if and only if its phase is `Live`; the run
//!    is held there and nowhere else.
//! 2. The supervisor's task set holds the tasks of the `Live` children, one
//!    each, and nothing else; each task's output names its child's key.
//! 3. A `Pending { token }` child has a restart timer with that token (its
//!    restart starts it together with the children `Waiting` on it), or the
//!    job in progress holds it (it will stop, start or settle it).
//! 4. A `Waiting { cause }` child waits on a child of the same supervisor
//!    that is `Pending` or `Exited` (a failed start not yet handled), or
//!    the job in progress holds it or its cause. Only a supervisor with a
//!    scope that is not one_for_one has such children.
//! 5. An `Exited` child is in the queue of exits to handle.
//! 6. The job in progress waits on at most one thing, and what it waits on
//!    is a `Live` child's task.

use std::sync::Arc;
use std::time::Duration;

use tokio::task::AbortHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::cell::{MailboxRef, RunCell};
use super::decide::ScopeKey;
use super::handle::{ChildKind, ChildState, SupervisorHandle};
use super::job::Wait;
use super::supervisor::Supervisor;
use super::timers::TimerKind;
use super::window::SharedWindow;
use crate::error::ExitReason;
use crate::mailbox::MailboxDepth;
use crate::policy::{Backoff, Policy, Restart, Shutdown};
use crate::spec::{Body, ChildSpec};
use tokio::task::Id;

/// Where a child stands: the one store of its state.
pub(crate) enum Phase {
    /// Its task runs (starting, running, or asked to stop).
    Live(Run),
    /// Its run ended by itself, or failed to start; the supervisor has not
    /// handled that yet (the reason is its `last_exit`).
    Exited,
    /// It waits for its restart timer.
    Pending { token: u64 },
    /// It was stopped by a restart of its scope that waits on the child
    /// `cause` (its backoff, or its failed start); it starts with it.
    Waiting { cause: u64 },
    /// It is not running and will not start by itself.
    Stopped,
    /// The scope whose quarantine stopped it.
    Quarantined(ScopeKey),
}

impl Phase {
    /// The state commands and snapshots report.
    pub(crate) fn state(&self) -> ChildState {
        match self {
            Phase::Live(_) => ChildState::Running,
            Phase::Pending { .. } | Phase::Waiting { .. } => ChildState::Restarting,
            Phase::Exited | Phase::Stopped => ChildState::Stopped,
            Phase::Quarantined(_) => ChildState::Quarantined,
        }
    }

    pub(crate) fn run(&self) -> Option<&Run> {
        match self {
            Phase::Live(run) => Some(run),
            _ => None,
        }
    }

    /// Whether the child runs or will run again without a command: what
    /// `all_significant` counts.
    pub(crate) fn is_alive(&self) -> bool {
        matches!(self, Phase::Live(_) | Phase::Exited | Phase::Pending { .. } | Phase::Waiting { .. })
    }
}

/// One run of a child.
pub(crate) struct Run {
    /// The run's task (its id is the task's id).
    pub(crate) abort: AbortHandle,
    pub(crate) cell: Arc<RunCell>,
    pub(crate) started: Instant,
    /// A nested supervisor's handle and kill signal (boxed: most children
    /// are workers).
    pub(crate) nested: Option<Box<Nested>>,
}

pub(crate) struct Nested {
    pub(crate) handle: SupervisorHandle,
    /// A nested supervisor's kill signal: where a worker's task is aborted,
    /// a supervisor aborts its own subtree and awaits it, so that no task
    /// below it outlives it.
    pub(crate) kill: CancellationToken,
}

impl Run {
    /// Ends the run without waiting for it to stop by itself.
    pub(crate) fn kill(&self) {
        match &self.nested {
            Some(nested) => nested.kill.cancel(),
            None => self.abort.abort(),
        }
    }
}

/// One child. Kept small: a supervisor may hold thousands.
pub(crate) struct Slot {
    pub(crate) key: u64,
    pub(crate) kind: Body,
    /// The child's path; its id is the last `id_len` bytes.
    pub(crate) path: Arc<str>,
    pub(crate) id_len: u32,
    pub(crate) dynamic: bool,
    pub(crate) opts: ChildOpts,
    pub(crate) group: Option<u32>,
    /// The child's own override, with its own restart window.
    pub(crate) overriding: Option<Box<Override>>,
    pub(crate) phase: Phase,
    pub(crate) restarts: u32,
    pub(crate) attempt: u32,
    /// Made when the child first ends.
    cold: Option<Box<Cold>>,
}

/// What a slot holds only once its child has ended: boxed, so that a child
/// that runs on costs a pointer for it.
#[derive(Default)]
struct Cold {
    /// Consecutive failures, for backoff.
    failures: u32,
    last_exit: Option<ExitReason>,
    /// The mailbox its last run received from, for its depth meanwhile.
    mailbox: Option<MailboxRef>,
}

pub(crate) struct Override {
    pub(crate) policy: Policy,
    pub(crate) window: Arc<SharedWindow>,
}

impl Slot {
    pub(crate) fn new(key: u64, path: Arc<str>, spec: ChildSpec, dynamic: bool, group: Option<u32>) -> Slot {
        Slot {
            key,
            path,
            id_len: u32::try_from(spec.id.len()).unwrap_or(u32::MAX),
            dynamic,
            opts: ChildOpts::resolve(&spec),
            kind: spec.kind,
            group,
            overriding: None,
            phase: Phase::Stopped,
            restarts: 0,
            attempt: 0,
            cold: None,
        }
    }

    pub(crate) fn id(&self) -> &str {
        let start = self.path.len().saturating_sub(self.id_len as usize);
        self.path.get(start..).unwrap_or(&self.path)
    }

    pub(crate) fn is_supervisor(&self) -> bool {
        matches!(self.kind, Body::Supervisor(_))
    }

    pub(crate) fn kind_name(&self) -> ChildKind {
        if self.is_supervisor() { ChildKind::Supervisor } else { ChildKind::Worker }
    }

    pub(crate) fn run(&self) -> Option<&Run> {
        self.phase.run()
    }

    fn cold_mut(&mut self) -> &mut Cold {
        self.cold.get_or_insert_with(Box::default)
    }

    pub(crate) fn failures(&self) -> u32 {
        self.cold.as_ref().map_or(0, |c| c.failures)
    }

    pub(crate) fn set_failures(&mut self, failures: u32) {
        if failures != 0 || self.cold.is_some() {
            self.cold_mut().failures = failures;
        }
    }

    pub(crate) fn last_exit(&self) -> Option<&ExitReason> {
        self.cold.as_ref().and_then(|c| c.last_exit.as_ref())
    }

    pub(crate) fn set_last_exit(&mut self, reason: ExitReason) {
        self.cold_mut().last_exit = Some(reason);
    }

    /// The depth of the mailbox the child's runs receive from: the current
    /// run's, else the last run's.
    pub(crate) fn mailbox_depth(&self) -> Option<MailboxDepth> {
        let mailbox = self.run().and_then(|r| r.cell.mailbox()).or_else(|| self.cold.as_ref()?.mailbox.clone())?;
        Some(mailbox.upgrade()?.depth())
    }

    /// Leaves the `Live` phase for `next`, folding into the slot what the
    /// task did by itself (restarts inside it: their count, the attempt
    /// reached and the last exit before the current run); returns the run.
    pub(crate) fn end_run(&mut self, next: Phase) -> Option<Run> {
        let Phase::Live(run) = std::mem::replace(&mut self.phase, next) else { return None };
        // What the run left behind (a task it spawned with a clone of its
        // context, a child token) learns that it is over.
        run.cell.cancel();
        if let Some(in_task) = run.cell.in_task() {
            self.restarts = self.restarts.saturating_add(in_task.restarts);
            self.attempt = run.cell.attempt();
            if let Some(exit) = in_task.last_exit {
                self.set_last_exit(exit);
            }
        }
        if let Some(mailbox) = run.cell.mailbox() {
            self.cold_mut().mailbox = Some(mailbox);
        }
        Some(run)
    }
}

/// A child's options, resolved once (tree, then `#[worker]` default, then
/// library default). The rarely set ones sit behind a box.
pub(crate) struct ChildOpts {
    pub(crate) restart: Restart,
    pub(crate) significant: bool,
    pub(crate) shutdown: Shutdown,
    timing: Option<Box<Timing>>,
}

struct Timing {
    backoff: Backoff,
    heartbeat: Option<Duration>,
    start_timeout: Option<Duration>,
}

impl ChildOpts {
    fn resolve(spec: &ChildSpec) -> ChildOpts {
        let options = spec.options();
        let (backoff, heartbeat, start_timeout) = (options.backoff, options.heartbeat, options.start_timeout);
        let timing = (backoff != Backoff::None || heartbeat.is_some() || start_timeout.is_some())
            .then(|| Box::new(Timing { backoff, heartbeat, start_timeout }));
        ChildOpts { restart: options.restart, significant: options.significant, shutdown: options.shutdown, timing }
    }

    /// Whether the child has a backoff, a heartbeat or a start timeout.
    pub(crate) fn is_timed(&self) -> bool {
        self.timing.is_some()
    }

    pub(crate) fn backoff(&self) -> Backoff {
        self.timing.as_ref().map_or(Backoff::None, |t| t.backoff)
    }

    pub(crate) fn heartbeat(&self) -> Option<Duration> {
        self.timing.as_ref().and_then(|t| t.heartbeat)
    }

    pub(crate) fn start_timeout(&self) -> Option<Duration> {
        self.timing.as_ref().and_then(|t| t.start_timeout)
    }
}

impl Supervisor {
    /// Checks the invariants listed in `child` on this supervisor's state.
    pub(super) fn check_invariants(&self) -> Result<(), String> {
        let live = self.slots.iter().filter(|s| s.run().is_some()).count();
        if self.tasks.len() != live {
            return Err(format!("{live} children are live, but the task set holds {}", self.tasks.len()));
        }
        // A child the job will stop or start is settled by it.
        let in_job = |key: u64| self.job.as_ref().is_some_and(|j| j.holds(key));
        for slot in self.slots.iter() {
            let key = slot.key;
            match &slot.phase {
                Phase::Live(_) => {}
                Phase::Pending { token } => {
                    let timer = self.timers.contains(TimerKind::Restart { key, token: *token });
                    if !timer && !in_job(key) {
                        return Err(format!("`{}` waits for a restart timer that does not exist", slot.path));
                    }
                }
                Phase::Waiting { cause } => {
                    if !self.restarts_stop_others {
                        return Err(format!("`{}` waits, but every scope of its supervisor is one_for_one", slot.path));
                    }
                    let cause_ok = self.index(*cause).is_some_and(|c| {
                        matches!(self.slots[c].phase, Phase::Pending { .. } | Phase::Exited)
                            || in_job(key)
                            || in_job(*cause)
                    });
                    if !cause_ok {
                        return Err(format!("`{}` waits on a child whose restart will not come", slot.path));
                    }
                }
                Phase::Exited => {
                    if !self.exits.contains(&key) {
                        return Err(format!("`{}` has an exit that is not queued", slot.path));
                    }
                }
                Phase::Stopped | Phase::Quarantined(_) => {}
            }
        }
        if let Some(wait) = self.job.as_ref().and_then(|j| j.wait.as_ref()) {
            let live_task = |key: u64, task: Id| {
                self.index(key).and_then(|i| self.slots[i].run()).is_some_and(|r| r.abort.id() == task)
            };
            let ok = match wait {
                Wait::Stop { key, task, .. } | Wait::Ready { key, task, .. } => live_task(*key, *task),
                Wait::Together { tasks, .. } => tasks.iter().all(|(task, key)| live_task(*key, *task)),
            };
            if !ok {
                return Err("the job waits on a task that is not a live child's".into());
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slot_stays_small() {
        // A supervisor holds one per child; the benchmarks count them.
        assert!(std::mem::size_of::<Slot>() <= 160, "{}", std::mem::size_of::<Slot>());
    }

    #[test]
    fn phases_map_to_the_reported_states() {
        assert_eq!(Phase::Exited.state(), ChildState::Stopped);
        assert_eq!(Phase::Pending { token: 1 }.state(), ChildState::Restarting);
        assert_eq!(Phase::Waiting { cause: 1 }.state(), ChildState::Restarting);
        assert_eq!(Phase::Stopped.state(), ChildState::Stopped);
        assert_eq!(Phase::Quarantined(ScopeKey::Supervisor).state(), ChildState::Quarantined);
        assert!(Phase::Waiting { cause: 1 }.is_alive());
        assert!(!Phase::Stopped.is_alive());
        assert!(!Phase::Quarantined(ScopeKey::Supervisor).is_alive());
    }
}
