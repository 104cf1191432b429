//! One supervisor: a task that owns its children and their state, and reacts
//! to child exits, commands and timers in one loop.
//!
//! The loop is small: [`advance`](Supervisor::advance) moves the job in
//! progress (see `job`) as far as it goes and handles the exits queued
//! meanwhile; [`next_input`](Supervisor::next_input) waits for one input;
//! [`on_input`](Supervisor::on_input) handles it. Every handler is a plain
//! function: nothing awaits inside a handler, so no input is ever held back
//! by another one half done. What a child is doing is its `Phase` (see
//! `child`); the rest of this file is the restart and escalation flow.

use std::cmp::Reverse;
use std::collections::{HashMap, VecDeque};
use std::pin::Pin;
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::{Id, JoinError, JoinSet};
use tokio::time::Instant;
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};
use tracing::Instrument;

use super::Tree;
use super::cell::RunCell;
use super::child::{Override, Phase, Slot};
use super::decide::{self, Heartbeat, Scope, ScopeKey};
use super::handle::{Command, Exit, Shared};
use super::job::{AfterStop, Job, JobKind, StartReport, Wait};
use super::lane::Lane;
use super::report;
use super::run::{RunOutput, Tasks, classify};
use super::slots::Slots;
use super::timers::{Alarm, TimerKind, Timers};
use super::window::SharedWindow;
use crate::error::{ExitReason, StartError, SupervisorError};
use crate::policy::{AutoShutdown, Escalation, Policy, Restart, Strategy};
use crate::spec::{ChildSpec, SupervisorSpec, join_path_arc};

/// Commands waiting per supervisor; senders wait (never drop) past this.
const COMMAND_CAPACITY: usize = 32;
/// Pings waiting per supervisor, likewise.
const PING_CAPACITY: usize = 8;
/// Task ends handled in a row before the loop looks at a request to stop.
const ENDS_BEFORE_A_LOOK_AT_THE_STOP: u32 = 32;

/// Invariants are checked after every step, in debug builds, for
/// supervisors up to this size (the check reads every child).
#[cfg(debug_assertions)]
const CHECKED_UP_TO: usize = 64;

/// Children looked for by id with a scan up to this many; past it, through
/// an index made on the first look (a tree that grows by `start_child`).
const SCANNED_UP_TO: usize = 32;

/// A child's id as the key of the index by id: its path, hashed and
/// compared by the id at its end, so that the index borrows the slot's path
/// and looks up by `&str`.
struct IdKey {
    path: Arc<str>,
    id_start: usize,
}

impl IdKey {
    fn id(&self) -> &str {
        self.path.get(self.id_start..).unwrap_or(&self.path)
    }
}

impl std::borrow::Borrow<str> for IdKey {
    fn borrow(&self) -> &str {
        self.id()
    }
}

impl PartialEq for IdKey {
    fn eq(&self, other: &Self) -> bool {
        self.id() == other.id()
    }
}

impl Eq for IdKey {}

impl std::hash::Hash for IdKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        // As `str` hashes, for the lookups by `&str`.
        self.id().hash(state);
    }
}

pub(super) struct Group {
    pub(super) id: Arc<str>,
    pub(super) policy: Policy,
    pub(super) window: Arc<SharedWindow>,
}

/// One input of the loop.
enum Input {
    /// Asked to shut down.
    Stop,
    /// A child's task ended: its child's key (none when it was aborted),
    /// its id, and how.
    TaskEnd(Option<u64>, Id, Result<RunOutput, JoinError>),
    /// The child the job starts said it is ready.
    Ready,
    Alarm,
    Command(Option<Command>),
    Ping(oneshot::Sender<()>),
}

pub(crate) struct Supervisor {
    pub(super) path: Arc<str>,
    pub(super) policy: Policy,
    pub(super) auto_shutdown: AutoShutdown,
    pub(super) max_children: Option<usize>,
    pub(super) groups: Vec<Group>,
    pub(super) window: Arc<SharedWindow>,
    pub(super) slots: Slots,
    /// Whether a restart here may stop other children than the one that
    /// failed (some scope is not one_for_one): only then do children wait
    /// on another's restart (see `Phase::Waiting`).
    pub(super) restarts_stop_others: bool,
    /// The children by id, made on the first look past a few children, and
    /// kept with the children from then on.
    ids: std::cell::OnceCell<HashMap<IdKey, u64>>,
    next_key: u64,
    pub(super) tasks: Tasks,
    /// Children whose exit waits to be handled (their phase is `Exited`),
    /// in the order the exits came.
    pub(super) exits: VecDeque<u64>,
    /// What the supervisor is in the middle of.
    pub(super) job: Option<Job>,
    pub(super) timers: Timers,
    alarm: Alarm,
    rx: mpsc::Receiver<Command>,
    pings: mpsc::Receiver<oneshot::Sender<()>>,
    /// Task ends taken in a row, for the look at the stop.
    ends_in_a_row: u32,
    /// Where children's paths are joined before they are copied into their
    /// `Arc`.
    scratch: String,
    /// Resolves once the supervisor is asked to shut down.
    stop: Pin<Box<WaitForCancellationFutureOwned>>,
    /// Cancelled by the parent instead of aborting this supervisor's task.
    kill: CancellationToken,
    exit_tx: watch::Sender<Option<Exit>>,
    /// What this supervisor's handles share; each run gets it through its
    /// context.
    pub(super) shared: Arc<Shared>,
    /// The supervisor's span: its task runs in it, and its children's runs'
    /// spans are children of it.
    pub(super) span: tracing::Span,
    is_root: bool,
}

impl Supervisor {
    /// Builds a supervisor from a validated spec, and its handle's state.
    pub(crate) fn new(
        spec: SupervisorSpec,
        parent: &str,
        tree: Arc<Tree>,
        stop: CancellationToken,
        kill: CancellationToken,
    ) -> (Supervisor, Arc<Shared>) {
        let path = join_path_arc(&mut String::new(), parent, &spec.id);
        let span = tracing::info_span!("supervisor", path = %path);
        let (tx, rx) = mpsc::channel(COMMAND_CAPACITY);
        let (pings_tx, pings) = mpsc::channel(PING_CAPACITY);
        let (exit_tx, exit_rx) = watch::channel(None);
        let shared =
            Arc::new(Shared { path: path.clone(), stop: stop.clone(), exit: exit_rx, tree, tx, pings: pings_tx });
        let groups: Vec<Group> = spec
            .groups
            .iter()
            .map(|g| Group {
                id: g.id.clone(),
                policy: g.policy,
                window: SharedWindow::new(decide::budget_policy(ScopeKey::Group(0), None, Some(g.policy), spec.policy)),
            })
            .collect();
        let restarts_stop_others = decide::restarts_stop_others(
            spec.policy,
            spec.groups.iter().map(|g| g.policy),
            spec.overrides.iter().map(|(_, p)| *p),
        );
        let mut sup = Supervisor {
            path,
            restarts_stop_others,
            policy: spec.policy,
            auto_shutdown: spec.auto_shutdown,
            max_children: spec.max_children,
            groups,
            window: SharedWindow::new(spec.policy),
            slots: Slots::with_capacity(spec.children.len()),
            ids: std::cell::OnceCell::new(),
            next_key: 0,
            tasks: JoinSet::new(),
            exits: VecDeque::new(),
            job: None,
            timers: Timers::default(),
            alarm: Alarm::default(),
            rx,
            pings,
            ends_in_a_row: 0,
            scratch: String::new(),
            stop: Box::pin(stop.cancelled_owned()),
            kill,
            exit_tx,
            shared: shared.clone(),
            span,
            is_root: parent.is_empty(),
        };
        let mut overrides: HashMap<&str, Policy> = spec.overrides.iter().map(|(id, p)| (&**id, *p)).collect();
        for child in spec.children {
            let overriding = if overrides.is_empty() { None } else { overrides.remove(&*child.id) };
            sup.add_slot(child, false, overriding);
        }
        (sup, shared)
    }

    pub(super) fn add_slot(&mut self, spec: ChildSpec, dynamic: bool, overriding: Option<Policy>) -> usize {
        let key = self.next_key;
        self.next_key += 1;
        let group = spec
            .group
            .as_ref()
            .and_then(|g| self.groups.iter().position(|gs| gs.id == *g))
            .and_then(|g| u32::try_from(g).ok());
        let path = join_path_arc(&mut self.scratch, &self.path, &spec.id);
        if let Some(ids) = self.ids.get_mut() {
            let id_start = path.len() - spec.id.len();
            ids.insert(IdKey { path: path.clone(), id_start }, key);
        }
        let mut slot = Slot::new(key, path, spec, dynamic, group);
        slot.overriding = overriding.map(|policy| {
            let below = group.and_then(|g| self.groups.get(g as usize)).map(|g| g.policy);
            let budget = decide::budget_policy(ScopeKey::Child(key), Some(policy), below, self.policy);
            Box::new(Override { policy, window: SharedWindow::new(budget) })
        });
        self.slots.push(slot)
    }

    pub(super) fn index(&self, key: u64) -> Option<usize> {
        self.slots.position(key)
    }

    pub(super) fn index_of_id(&self, id: &str) -> Option<usize> {
        if self.slots.len() <= SCANNED_UP_TO && self.ids.get().is_none() {
            return self.slots.position_where(|s| s.id() == id);
        }
        let ids = self.ids.get_or_init(|| {
            self.slots
                .iter()
                .map(|s| (IdKey { path: s.path.clone(), id_start: s.path.len() - s.id().len() }, s.key))
                .collect()
        });
        self.index(*ids.get(id)?)
    }

    pub(super) fn tree(&self) -> &Tree {
        &self.shared.tree
    }

    /// [`run`](Self::run) behind a box: a supervisor's future holds its
    /// nested supervisors' futures, and the box ends that recursion.
    /// It runs in the supervisor's span.
    pub(crate) fn run_boxed(self, report: StartReport) -> Pin<Box<dyn std::future::Future<Output = Exit> + Send>> {
        let span = self.span.clone();
        if span.is_disabled() { Box::pin(self.run(report)) } else { Box::pin(self.run(report).instrument(span)) }
    }

    /// Runs the supervisor to its end: start, loop, shutdown.
    pub(crate) async fn run(mut self, report: StartReport) -> Exit {
        let kill = self.kill.clone();
        let result = tokio::select! {
            biased;
            _ = kill.cancelled() => None,
            result = self.live(report) => Some(result),
        };
        let result = match result {
            Some(result) => result,
            None => {
                // Killed by the parent: whatever this supervisor was doing,
                // its subtree ends now, and is awaited before it returns.
                self.kill_children();
                Err(SupervisorError::Aborted { supervisor: self.path.to_string() })
            }
        };
        // Every run has been awaited by now, unless the supervisor was
        // killed; this awaits what is left. (Not `abort_all`: an aborted
        // nested supervisor would drop its own tasks without awaiting them.)
        if !self.tasks.is_empty() {
            self.kill_children();
        }
        while self.tasks.join_next().await.is_some() {}
        let result = match (self.is_root, self.tree().cause()) {
            (true, Some(cause)) => Err(cause),
            _ => result,
        };
        // The children's specs go first, and with them their workers'
        // mailboxes: once the end is told, a send is a dead letter at once.
        self.slots.clear();
        self.exit_tx.send_replace(Some(result.clone()));
        result
    }

    /// The supervisor's life: the loop, from its start to its end.
    async fn live(&mut self, report: StartReport) -> Exit {
        let declared: Vec<u64> = self.slots.iter().map(|s| s.key).collect();
        self.job = Some(Job::new(JobKind::Boot(report)).starting(declared));
        loop {
            if let Some(exit) = self.advance() {
                return exit;
            }
            #[cfg(debug_assertions)]
            if self.slots.len() <= CHECKED_UP_TO
                && let Err(violation) = self.check_invariants()
            {
                self.tree().record_violation(format!("supervisor `{}`: {violation}", self.path));
            }
            let input = self.next_input().await;
            self.on_input(input);
        }
    }

    /// Kills every worker task and every nested supervisor; their ends are
    /// awaited by [`run`](Self::run).
    fn kill_children(&mut self) {
        self.rx.close();
        for slot in self.slots.iter_mut() {
            if let Some(run) = slot.end_run(Phase::Stopped) {
                // Workers are aborted; nested supervisors are killed in turn,
                // not aborted, so that their own subtrees are awaited too.
                run.kill();
                report::exited(&self.shared.tree, &slot.path, slot.attempt, &ExitReason::Killed);
            }
        }
    }

    // -----------------------------------------------------------------
    // The loop.

    /// Moves the job on until it has to wait; with no job, handles the
    /// queued exits (which may make one). Returns how the supervisor ends,
    /// once it does.
    fn advance(&mut self) -> Option<Exit> {
        enum Next {
            Idle,
            Wait,
            Exit(u64),
            Together(Vec<u64>),
            Stop(u64, AfterStop),
            Start(u64),
            Finish,
        }
        loop {
            let next = match &mut self.job {
                None => self.exits.pop_front().map_or(Next::Idle, Next::Exit),
                Some(job) if job.wait.is_some() => Next::Wait,
                Some(job) if !job.together.is_empty() => Next::Together(std::mem::take(&mut job.together)),
                Some(job) => match job.stops.pop() {
                    Some(key) => {
                        let then =
                            if matches!(job.kind, JobKind::Hung(..)) { AfterStop::Quiet } else { AfterStop::Stopped };
                        Next::Stop(key, then)
                    }
                    None => job.starts.pop_front().map_or(Next::Finish, Next::Start),
                },
            };
            match next {
                Next::Idle | Next::Wait => return None,
                Next::Exit(key) => self.on_exit(key),
                Next::Together(keys) => {
                    let wait = self.stop_together(&keys);
                    self.set_wait(wait);
                }
                Next::Stop(key, then) => {
                    let wait = self.begin_stop(key, then);
                    self.set_wait(wait);
                }
                Next::Start(key) => match self.begin_start(key) {
                    Ok(wait) => self.set_wait(wait),
                    Err(reason) => self.start_failed(key, reason),
                },
                Next::Finish => {
                    let job = self.job.take()?;
                    if let Some(exit) = self.finish(job) {
                        return Some(exit);
                    }
                }
            }
        }
    }

    pub(super) fn set_wait(&mut self, wait: Option<Wait>) {
        if let Some(job) = &mut self.job {
            job.wait = wait;
        }
    }

    /// Waits for the next input: a shutdown request, a task's end, the
    /// readiness the job waits for, the alarm, or (with no job) a command.
    async fn next_input(&mut self) -> Input {
        let idle = self.job.is_none();
        let shutting_down = self.job.as_ref().is_some_and(Job::is_shutdown);
        let due = match &self.job {
            Some(job) => job.wait.as_ref().and_then(Wait::deadline),
            None => self.timers.next(),
        };
        self.alarm.set(due);
        let ready = match &self.job {
            Some(Job { wait: Some(Wait::Ready { cell, .. }), .. }) => Some(cell.clone()),
            _ => None,
        };
        // Task ends come first: a stop in order is a run of them, and each
        // then costs one look. So that a stream of ends cannot hold a
        // shutdown back, the stop is looked at every so many ends.
        if self.ends_in_a_row >= ENDS_BEFORE_A_LOOK_AT_THE_STOP {
            self.ends_in_a_row = 0;
            if !shutting_down && self.shared.stop.is_cancelled() {
                return Input::Stop;
            }
        }
        let Supervisor { stop, tasks, rx, pings, alarm, ends_in_a_row, .. } = self;
        let input = tokio::select! {
            biased;
            Some(end) = tasks.join_next_with_id(), if !tasks.is_empty() => match end {
                Ok((id, (key, out))) => Input::TaskEnd(Some(key), id, Ok(out)),
                Err(e) => Input::TaskEnd(None, e.id(), Err(e)),
            },
            _ = stop.as_mut(), if !shutting_down => Input::Stop,
            _ = wait_ready(ready.as_deref()), if ready.is_some() => Input::Ready,
            _ = alarm.ring(), if alarm.armed.is_some() => Input::Alarm,
            cmd = rx.recv(), if idle => Input::Command(cmd),
            Some(reply) = pings.recv() => Input::Ping(reply),
        };
        *ends_in_a_row = if matches!(input, Input::TaskEnd(..)) { ends_in_a_row.saturating_add(1) } else { 0 };
        input
    }

    fn on_input(&mut self, input: Input) {
        match input {
            Input::Stop => self.on_stop(),
            Input::TaskEnd(key, id, end) => self.on_task_end(key, id, end),
            Input::Ready => self.on_ready(),
            Input::Alarm => self.on_alarm(),
            Input::Command(Some(cmd)) => self.on_command(cmd),
            // Every sender is gone: no handle can reach this supervisor.
            Input::Command(None) => self.on_stop(),
            Input::Ping(reply) => {
                let _ = reply.send(());
            }
        }
    }

    // -----------------------------------------------------------------
    // Inputs.

    /// A request to shut down takes over from whatever job was running.
    fn on_stop(&mut self) {
        let (exit, report, carried) = match self.job.take() {
            Some(Job { kind: JobKind::Boot(report), wait, .. }) => {
                let error = StartError::Cancelled { supervisor: self.path.to_string() };
                (Err(SupervisorError::Start(error.clone())), Some((report, error)), wait)
            }
            Some(Job { kind: JobKind::BootFailed(report, error), wait, .. }) => {
                (Err(SupervisorError::Start(error.clone())), Some((report, error)), wait)
            }
            // The other jobs' commands answer `NotRunning` as their replies
            // drop.
            Some(job) => (Ok(()), None, job.wait),
            None => (Ok(()), None, None),
        };
        self.begin_shutdown(exit, report);
        // A child being stopped goes on stopping, with the time it was given.
        if let Some(Wait::Stop { key, task, deadline, .. }) = carried {
            self.set_wait(Some(Wait::Stop { key, task, deadline, then: AfterStop::Stopped }));
        }
    }

    fn on_task_end(&mut self, key: Option<u64>, id: Id, end: Result<RunOutput, JoinError>) {
        let Some(key) = key.or_else(|| self.key_of_task(id)) else { return };
        let Some(i) = self.index(key) else { return };
        if self.slots[i].run().map(|r| r.abort.id()) != Some(id) {
            return;
        }
        let awaited = self.job.as_mut().and_then(|job| job.wait.take_if(|w| w.is_for(id)));
        match awaited {
            Some(Wait::Stop { then, .. }) => self.stopped(i, end, then),
            Some(Wait::Together { mut tasks, deadlines }) => {
                tasks.remove(&id);
                self.stopped(i, end, AfterStop::Stopped);
                if !tasks.is_empty() {
                    self.set_wait(Some(Wait::Together { tasks, deadlines }));
                }
            }
            Some(Wait::Ready { cell, .. }) if !cell.is_ready() => {
                // It ended before it was ready: a failed start.
                let reason = classify(end, false);
                self.slots[i].end_run(Phase::Stopped);
                self.start_failed(key, reason);
            }
            awaited => {
                if awaited.is_some() {
                    // It said it was ready, then ended before the
                    // supervisor saw it: it started, then exited.
                    self.started(i);
                }
                // It ended by itself; handled once no job is in progress.
                let stopping = self.slots[i].run().is_some_and(|r| r.cell.is_cancelled());
                let reason = classify(end, stopping);
                self.exited(i, reason);
            }
        }
    }

    /// The child whose task is `id`, for a task that ended without saying
    /// (it was aborted): the one the job waits on, else found among them all.
    fn key_of_task(&self, id: Id) -> Option<u64> {
        let waited = match self.job.as_ref().and_then(|j| j.wait.as_ref()) {
            Some(Wait::Stop { key, task, .. } | Wait::Ready { key, task, .. }) if *task == id => Some(*key),
            Some(Wait::Together { tasks, .. }) => tasks.get(&id).copied(),
            _ => None,
        };
        waited.or_else(|| self.slots.iter().find(|s| s.run().is_some_and(|r| r.abort.id() == id)).map(|s| s.key))
    }

    fn on_ready(&mut self) {
        let Some(job) = &mut self.job else { return };
        let Some(Wait::Ready { key, cell, .. }) =
            job.wait.take_if(|w| matches!(w, Wait::Ready { cell, .. } if cell.is_ready()))
        else {
            return;
        };
        drop(cell);
        if let Some(i) = self.index(key) {
            self.started(i);
        }
    }

    fn on_alarm(&mut self) {
        let now = Instant::now();
        let Some(job) = &mut self.job else {
            self.on_timers(now);
            return;
        };
        match &mut job.wait {
            Some(Wait::Stop { key, deadline, .. }) if deadline.is_some_and(|at| at <= now) => {
                *deadline = None;
                let key = *key;
                self.kill_overdue(key);
            }
            Some(Wait::Together { deadlines, .. }) => {
                let mut overdue = Vec::new();
                while let Some(&Reverse((at, key))) = deadlines.peek() {
                    if at > now {
                        break;
                    }
                    deadlines.pop();
                    overdue.push(key);
                }
                for key in overdue {
                    // A child that has ended already has no run to kill.
                    self.kill_overdue(key);
                }
            }
            Some(Wait::Ready { key, deadline: Some((at, limit)), .. }) if *at <= now => {
                let (key, limit) = (*key, *limit);
                // Stopped without a word; the failed start says why.
                let wait = self.begin_stop(key, AfterStop::FailStart(ExitReason::StartTimeout(limit)));
                self.set_wait(wait);
            }
            _ => {}
        }
    }

    /// Handles the timers that are due, until one of them makes a job.
    fn on_timers(&mut self, now: Instant) {
        while self.job.is_none()
            && let Some(timer) = self.timers.pop_due(now)
        {
            match timer {
                TimerKind::Restart { key, token } => {
                    if let Some(i) = self.index(key)
                        && matches!(self.slots[i].phase, Phase::Pending { token: t } if t == token)
                    {
                        // Its restart is due: the batch starts it, with
                        // those waiting on it.
                        self.slots[i].phase = Phase::Stopped;
                        let batch = self.with_waiters(vec![key]);
                        self.job = Some(Job::new(JobKind::Batch).starting(batch));
                    }
                }
                TimerKind::Heartbeat { key, attempt } => self.check_heartbeat(key, attempt, now),
            }
        }
    }

    fn check_heartbeat(&mut self, key: u64, attempt: u32, now: Instant) {
        let Some(i) = self.index(key) else { return };
        let slot = &self.slots[i];
        let (Some(run), Some(interval)) = (slot.run(), slot.opts.heartbeat()) else { return };
        if slot.attempt != attempt {
            return;
        }
        match decide::heartbeat(run.started, run.cell.last_beat(), interval, now) {
            Heartbeat::CheckAt(at) => self.timers.push(at, TimerKind::Heartbeat { key, attempt }),
            Heartbeat::Missed => {
                report::heartbeat_missed(&self.shared.tree, &slot.path, attempt, interval);
                self.job = Some(Job::new(JobKind::Hung(key, interval)).stopping(vec![key]));
            }
        }
    }

    // -----------------------------------------------------------------
    // Exits, restarts, escalation.

    /// Handles a queued exit: restart per policy, strategy and budget, or
    /// escalate, or end the supervisor when its significant children say so.
    fn on_exit(&mut self, key: u64) {
        let Some(i) = self.index(key) else { return };
        // The exit may have been taken since by a stop of its scope.
        if !matches!(self.slots[i].phase, Phase::Exited) {
            return;
        }
        let slot = &mut self.slots[i];
        slot.phase = Phase::Stopped;
        let reason = slot.last_exit().cloned().unwrap_or(ExitReason::Normal);
        let restart = slot.opts.restart;
        report::exited(&self.shared.tree, &slot.path, slot.attempt, &reason);

        if slot.opts.significant && decide::significant_exit_counts(restart, &reason) {
            // As OTP: what counts is whether a significant child is still
            // alive (running, or waiting for its restart); one stopped by
            // terminate_child or a quarantine is not.
            let left = self.slots.iter().filter(|s| s.opts.significant && s.phase.is_alive()).count();
            if decide::auto_shutdown_now(self.auto_shutdown, left) {
                report::auto_shutdown(&self.shared.tree, &self.path);
                self.begin_shutdown(Ok(()), None);
                return;
            }
        }
        if !decide::should_restart(restart, &reason) {
            // What waited on it starts now: the restart it waited for will
            // not come.
            self.release_waiters(&[key], true);
            if restart == Restart::Temporary {
                self.remove_slot(i);
            }
            return;
        }
        self.restart(key, reason);
    }

    /// The scope of the child at `i`.
    pub(super) fn scope(&self, i: usize) -> Scope {
        let slot = &self.slots[i];
        let group = slot.group.and_then(|g| self.groups.get(g as usize).map(|grp| (g, grp.policy)));
        decide::scope_of(slot.key, slot.overriding.as_ref().map(|o| o.policy), group, self.policy)
    }

    /// The children of a scope, in declaration order: a group's members, or
    /// all children.
    fn members(&self, group: Option<u32>) -> Vec<u64> {
        match group {
            Some(g) => self.slots.iter().filter(|s| s.group == Some(g)).map(|s| s.key).collect(),
            None => self.slots.iter().map(|s| s.key).collect(),
        }
    }

    pub(super) fn window(&self, key: ScopeKey) -> Option<&Arc<SharedWindow>> {
        match key {
            ScopeKey::Supervisor => Some(&self.window),
            ScopeKey::Group(g) => self.groups.get(g as usize).map(|g| &g.window),
            ScopeKey::Child(k) => {
                let i = self.index(k)?;
                self.slots[i].overriding.as_ref().map(|o| &o.window)
            }
        }
    }

    /// How messages name a scope.
    fn scope_name(&self, budget: ScopeKey) -> String {
        match budget {
            ScopeKey::Supervisor => format!("supervisor `{}`", self.path),
            ScopeKey::Group(g) => {
                let id = self.groups.get(g as usize).map_or("?", |g| &g.id);
                format!("group `{id}` of supervisor `{}`", self.path)
            }
            ScopeKey::Child(k) => {
                let id = self.index(k).map_or("?", |i| self.slots[i].id());
                format!("the override of `{id}` in supervisor `{}`", self.path)
            }
        }
    }

    /// The lane of the worker at `i`, when its own task may restart it.
    pub(super) fn lane_for(&self, i: usize) -> Option<Lane> {
        let slot = &self.slots[i];
        // The runs a fault plan names go through the supervisor, which
        // applies the plan to each.
        #[cfg(feature = "testing")]
        if self.shared.tree.faults.plan().is_some_and(|plan| plan.names(&slot.path)) {
            return None;
        }
        let scope = self.scope(i);
        let in_task = decide::restarts_in_task(
            !slot.is_supervisor(),
            slot.opts.restart,
            slot.opts.significant,
            slot.opts.is_timed(),
            scope.strategy,
        );
        in_task.then(|| self.window(scope.budget).map(|w| Lane { window: w.clone() })).flatten()
    }

    /// `batch` with every child that waits on one of its members, in
    /// declaration order.
    pub(super) fn with_waiters(&self, mut batch: Vec<u64>) -> Vec<u64> {
        // No child waits where every scope is one_for_one: its exits and
        // restarts need not look at every child.
        if !self.restarts_stop_others {
            batch.sort_unstable();
            return batch;
        }
        loop {
            let more: Vec<u64> = self
                .slots
                .iter()
                .filter(|s| {
                    matches!(s.phase, Phase::Waiting { cause } if batch.contains(&cause)) && !batch.contains(&s.key)
                })
                .map(|s| s.key)
                .collect();
            if more.is_empty() {
                break;
            }
            batch.extend(more);
        }
        batch.sort_unstable();
        batch
    }

    /// The children waiting on one of `causes`, whose restart will not
    /// come: they start now (`start`), or they stay stopped (when a command
    /// stopped or removed the cause: as OTP drops a pending restart with its
    /// child).
    pub(super) fn release_waiters(&mut self, causes: &[u64], start: bool) {
        if !self.restarts_stop_others {
            return;
        }
        let waiting: Vec<u64> = self
            .slots
            .iter()
            .filter(|s| matches!(s.phase, Phase::Waiting { cause } if causes.contains(&cause)))
            .map(|s| s.key)
            .collect();
        if waiting.is_empty() {
            return;
        }
        if start && self.job.is_none() {
            let batch = self.with_waiters(waiting);
            self.job = Some(Job::new(JobKind::Batch).starting(batch));
            return;
        }
        for key in waiting {
            if let Some(i) = self.index(key) {
                self.slots[i].phase = Phase::Stopped;
            }
        }
    }

    fn restart(&mut self, key: u64, reason: ExitReason) {
        let Some(i) = self.index(key) else { return };
        let scope = self.scope(i);
        if let Some(window) = self.window(scope.budget) {
            let (restarts, exceeded) = window.record(Instant::now());
            if exceeded {
                let within = window.within;
                self.escalate(key, scope, reason, restarts, within);
                return;
            }
        }
        // one_for_one, the common case, restarts the child alone: no scope
        // to walk, nothing else to stop.
        let batch = match scope.strategy {
            Strategy::OneForOne => vec![key],
            strategy => {
                // Quarantined children stay stopped until restart_child.
                let members: Vec<u64> = self
                    .members(scope.group)
                    .into_iter()
                    .filter(|&k| self.index(k).is_some_and(|j| !matches!(self.slots[j].phase, Phase::Quarantined(_))))
                    .collect();
                decide::affected(strategy, &members, key)
            }
        };
        let batch = self.with_waiters(batch);
        let slot = &self.slots[i];
        let delay = decide::restart_delay(&reason, slot.opts.backoff(), slot.failures());
        let others = batch.iter().copied().filter(|&k| k != key).collect();
        self.job = Some(Job::new(JobKind::Restart { cause: key, reason, batch, delay }).stopping(others));
    }

    /// The scope's budget is spent.
    fn escalate(&mut self, key: u64, scope: Scope, reason: ExitReason, restarts: u32, within: std::time::Duration) {
        let child = self.index(key).map(|i| self.slots[i].path.to_string()).unwrap_or_default();
        let name = self.scope_name(scope.budget);
        let error = SupervisorError::Escalated {
            supervisor: self.path.to_string(),
            scope: name.clone(),
            child,
            reason,
            restarts,
            within,
        };
        report::budget_exceeded(&self.shared.tree, &self.path, name, restarts, within);
        match scope.escalation {
            Escalation::Escalate => {
                report::escalated(&self.shared.tree, &self.path, &error, "escalating");
                self.begin_shutdown(Err(error), None);
            }
            Escalation::ShutdownTree => {
                let cause = SupervisorError::ShutdownTree { supervisor: self.path.to_string(), cause: Box::new(error) };
                report::escalated(&self.shared.tree, &self.path, &cause, "shutting the tree down");
                self.shared.tree.shutdown_tree(cause);
                // The tree goes down from the root: nothing restarts.
                self.release_waiters(&[key], false);
            }
            Escalation::Quarantine => {
                tracing::error!(supervisor = %self.path, %error, "quarantining");
                let own = matches!(scope.budget, ScopeKey::Child(_));
                let members = self.members(scope.group);
                let stopped = decide::quarantined(own, scope.strategy, &members, key);
                self.job = Some(Job::new(JobKind::Quarantine(scope.budget, stopped.clone())).stopping(stopped));
            }
        }
    }

    /// Stops every child: dynamic ones together, then the declared ones,
    /// last first; refuses commands from now on.
    pub(super) fn begin_shutdown(&mut self, exit: Exit, report: Option<(StartReport, StartError)>) {
        self.rx.close();
        // Commands already queued answer `NotRunning` as they drop.
        while self.rx.try_recv().is_ok() {}
        // Pending restarts go: nothing starts any more.
        self.timers.clear();
        for slot in self.slots.iter_mut() {
            if matches!(slot.phase, Phase::Pending { .. } | Phase::Waiting { .. }) {
                slot.phase = Phase::Stopped;
            }
        }
        report::shutdown_started(&self.shared.tree, &self.path);
        let mut job = Job::new(JobKind::Shutdown(exit, report));
        job.together = self.slots.iter().filter(|s| s.dynamic).map(|s| s.key).collect();
        job.stops = self.slots.iter().filter(|s| !s.dynamic).map(|s| s.key).collect();
        self.job = Some(job);
    }

    /// The job's stops and starts are done: what follows.
    fn finish(&mut self, job: Job) -> Option<Exit> {
        match job.kind {
            JobKind::Boot(report) => match report {
                StartReport::Root(tx) => {
                    let _ = tx.send(Ok(()));
                }
                StartReport::Nested(cell) => cell.mark_ready(),
            },
            JobKind::BootFailed(report, error) => {
                if let StartReport::Root(tx) = report {
                    let _ = tx.send(Err(error.clone()));
                }
                return Some(Err(SupervisorError::Start(error)));
            }
            JobKind::Restart { cause, reason, mut batch, delay } => {
                // Temporary children stopped by the restart are not
                // restarted, not even with their scope: they go.
                for &k in &batch {
                    if k != cause
                        && let Some(j) = self.index(k)
                        && self.slots[j].opts.restart == Restart::Temporary
                    {
                        self.remove_slot(j);
                    }
                }
                batch.retain(|&k| self.index(k).is_some());
                let i = self.index(cause)?;
                let slot = &mut self.slots[i];
                slot.restarts += 1;
                report::restart_scheduled(&self.shared.tree, &slot.path, slot.attempt, &reason, delay);
                if delay.is_zero() {
                    self.job = Some(Job::new(JobKind::Batch).starting(batch));
                } else {
                    let token = self.timers.token();
                    self.slots[i].phase = Phase::Pending { token };
                    for &k in &batch {
                        if k != cause
                            && let Some(j) = self.index(k)
                        {
                            self.slots[j].phase = Phase::Waiting { cause };
                        }
                    }
                    self.timers.push(decide::deadline(Instant::now(), delay), TimerKind::Restart { key: cause, token });
                }
            }
            JobKind::Batch => {}
            JobKind::Quarantine(scope, keys) => {
                for &k in &keys {
                    if let Some(j) = self.index(k) {
                        let slot = &mut self.slots[j];
                        slot.phase = Phase::Quarantined(scope);
                        report::quarantined(&self.shared.tree, &slot.path, slot.attempt);
                    }
                }
                // What waited on a quarantined child starts now: the restart
                // it waited for will not come.
                self.release_waiters(&keys, true);
            }
            JobKind::Hung(key, interval) => {
                let i = self.index(key)?;
                self.exited(i, ExitReason::HeartbeatMissed(interval));
            }
            JobKind::Terminate(key, reply) => {
                if let Some(i) = self.index(key) {
                    // Stopped, out of a quarantine too; a pending restart of
                    // its scope goes with it.
                    self.slots[i].phase = Phase::Stopped;
                    self.release_waiters(&[key], false);
                    if self.slots[i].opts.restart == Restart::Temporary {
                        self.remove_slot(i);
                    }
                }
                let _ = reply.send(Ok(()));
            }
            JobKind::RestartChild(reply) => {
                let _ = reply.send(Ok(()));
            }
            JobKind::StartChild(key, reply) => {
                let path = self.index(key).map(|i| self.slots[i].path.to_string()).unwrap_or_default();
                let _ = reply.send(Ok(path));
            }
            JobKind::Shutdown(exit, report) => {
                report::shutdown_completed(&self.shared.tree, &self.path);
                if let Some((StartReport::Root(tx), error)) = report {
                    let _ = tx.send(Err(error));
                }
                return Some(exit);
            }
        }
        None
    }

    pub(super) fn remove_slot(&mut self, i: usize) {
        let Some(slot) = self.slots.remove(i) else { return };
        if let Some(ids) = self.ids.get_mut() {
            ids.remove(slot.id());
        }
        if let Some(run) = slot.run() {
            // Only children that have ended are removed; a run left here
            // would be a bug, and killing it keeps the no-orphan promise
            // (its task is still awaited).
            run.kill();
        }
    }
}

/// Resolves once `cell` says it is ready (never without a cell).
async fn wait_ready(cell: Option<&RunCell>) {
    match cell {
        Some(cell) => cell.ready().await,
        None => std::future::pending().await,
    }
}
