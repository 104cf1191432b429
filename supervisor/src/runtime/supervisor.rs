//! One supervisor: a task that owns its children and their state, and reacts
//! to child exits, commands and timers in one loop.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::{AbortHandle, Id, JoinError, JoinSet};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::decide::{self, SharedWindow};
use super::event::EventKind;
use super::handle::{ChildInfo, ChildKindName, ChildState, Command, Exit, Shared, SupervisorHandle};
use super::{RunOutput, Tree};
use crate::error::{CommandError, ExitReason, StartError, SupervisorError};
use crate::policy::{AutoShutdown, Backoff, Escalation, Policy, Restart, Shutdown, Strategy};
use crate::spec::{ChildKind, ChildSpec, SupervisorSpec, join_path_arc};
use crate::worker::{Context, RunCell};

/// Commands waiting per supervisor; senders wait (never drop) past this.
const COMMAND_CAPACITY: usize = 32;

/// The `pending` mark of children left behind a child that failed to start
/// during a restart; timer tokens start at 1.
const WAITING_FOR_FAILED_START: u64 = 0;

/// One run of a child.
struct Run {
    /// The run's task (its id is the task's id).
    abort: AbortHandle,
    cell: Arc<RunCell>,
    started: Instant,
    /// A nested supervisor's handle and kill signal (boxed: most children
    /// are workers).
    nested: Option<Box<Nested>>,
}

struct Nested {
    handle: SupervisorHandle,
    /// A nested supervisor's kill signal: where a worker's task is aborted,
    /// a supervisor aborts its own subtree and awaits it, so that no task
    /// below it outlives it.
    kill: CancellationToken,
}

impl Run {
    /// Ends the run without waiting for it to stop by itself.
    fn kill(&self) {
        match &self.nested {
            Some(nested) => nested.kill.cancel(),
            None => self.abort.abort(),
        }
    }
}

/// One child and its state. Kept small: a supervisor may hold thousands.
struct Slot {
    key: u64,
    kind: ChildKind,
    /// The child's path; its id is the last `id_len` bytes.
    path: Arc<str>,
    id_len: u32,
    opts: ChildOpts,
    dynamic: bool,
    state: ChildState,
    group: Option<u32>,
    /// The child's own override, with its own restart window.
    overriding: Option<Box<Override>>,
    run: Option<Run>,
    restarts: u32,
    attempt: u32,
    /// Made when the child first ends or waits.
    cold: Option<Box<Cold>>,
}

/// What a slot holds only once its child has ended: boxed, so that a child
/// that runs on costs a pointer for it.
#[derive(Default)]
struct Cold {
    /// Consecutive failures, for backoff.
    failures: u32,
    last_exit: Option<ExitReason>,
    /// The restart this slot waits for (matches a timer's token).
    pending: Option<u64>,
    /// The scope whose quarantine stopped this slot.
    quarantine: Option<ScopeKey>,
}

impl Slot {
    fn id(&self) -> &str {
        let start = self.path.len().saturating_sub(self.id_len as usize);
        self.path.get(start..).unwrap_or(&self.path)
    }

    fn is_supervisor(&self) -> bool {
        matches!(self.kind, ChildKind::Supervisor(_))
    }

    fn cold_mut(&mut self) -> &mut Cold {
        self.cold.get_or_insert_with(Box::default)
    }

    fn failures(&self) -> u32 {
        self.cold.as_ref().map_or(0, |c| c.failures)
    }

    fn last_exit(&self) -> Option<&ExitReason> {
        self.cold.as_ref().and_then(|c| c.last_exit.as_ref())
    }

    fn set_last_exit(&mut self, reason: Option<ExitReason>) {
        if reason.is_some() || self.cold.is_some() {
            self.cold_mut().last_exit = reason;
        }
    }

    fn pending(&self) -> Option<u64> {
        self.cold.as_ref().and_then(|c| c.pending)
    }

    fn set_pending(&mut self, pending: Option<u64>) {
        if pending.is_some() || self.cold.is_some() {
            self.cold_mut().pending = pending;
        }
    }

    fn quarantine(&self) -> Option<ScopeKey> {
        self.cold.as_ref().and_then(|c| c.quarantine)
    }

    fn set_quarantine(&mut self, scope: Option<ScopeKey>) {
        if scope.is_some() || self.cold.is_some() {
            self.cold_mut().quarantine = scope;
        }
    }

    /// Takes the slot's run, folding in the restarts its task made by
    /// itself: their count, the attempt reached and the last exit before
    /// the current run.
    fn take_run(&mut self) -> Option<Run> {
        let run = self.run.take()?;
        if let Some((restarts, last_exit, _)) = run.cell.in_task() {
            self.restarts = self.restarts.saturating_add(restarts);
            self.attempt = run.cell.attempt();
            self.set_last_exit(last_exit);
        }
        Some(run)
    }
}

/// A child's options, resolved once (tree, then `#[worker]` default, then
/// library default). The rarely set ones sit behind a box.
struct ChildOpts {
    restart: Restart,
    significant: bool,
    shutdown: Shutdown,
    timing: Option<Box<Timing>>,
}

struct Timing {
    backoff: Backoff,
    heartbeat: Option<Duration>,
    start_timeout: Option<Duration>,
}

impl ChildOpts {
    fn resolve(spec: &ChildSpec) -> ChildOpts {
        let backoff = spec.backoff_policy();
        let heartbeat = spec.heartbeat_interval();
        let start_timeout = spec.start_timeout_limit();
        let timing = (backoff != Backoff::None || heartbeat.is_some() || start_timeout.is_some())
            .then(|| Box::new(Timing { backoff, heartbeat, start_timeout }));
        ChildOpts {
            restart: spec.restart_policy(),
            significant: spec.is_significant(),
            shutdown: spec.shutdown_policy(),
            timing,
        }
    }

    fn backoff(&self) -> Backoff {
        self.timing.as_ref().map_or(Backoff::None, |t| t.backoff)
    }

    fn heartbeat(&self) -> Option<Duration> {
        self.timing.as_ref().and_then(|t| t.heartbeat)
    }

    fn start_timeout(&self) -> Option<Duration> {
        self.timing.as_ref().and_then(|t| t.start_timeout)
    }
}

struct Override {
    policy: Policy,
    window: Arc<SharedWindow>,
}

struct Group {
    id: Arc<str>,
    policy: Policy,
    window: Arc<SharedWindow>,
}

/// Whose budget a restart counts against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ScopeKey {
    Supervisor,
    Group(usize),
    Child(u64),
}

/// A restart scope resolved for one child. Its members and name are
/// looked up only when needed: a one_for_one restart needs neither.
struct Scope {
    group: Option<u32>,
    strategy: Strategy,
    budget: ScopeKey,
    escalation: Escalation,
}

#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum TimerKind {
    Restart { token: u64 },
    Heartbeat { key: u64, attempt: u32 },
}

#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Timer {
    at: Instant,
    seq: u64,
    kind: TimerKind,
}

/// Whether stopping a child reports its exit: not when the caller reports
/// the real reason itself (a missed heartbeat, a start timeout).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Quiet {
    Yes,
    No,
}

enum Started {
    Ok,
    Failed(ExitReason),
    /// The supervisor was asked to stop meanwhile.
    Interrupted,
}

/// How the supervisor reports the end of its own start.
pub(crate) enum StartReport {
    Root(oneshot::Sender<Result<(), StartError>>),
    Nested(Arc<RunCell>),
}

pub(crate) struct Supervisor {
    path: Arc<str>,
    policy: Policy,
    auto_shutdown: AutoShutdown,
    max_children: Option<usize>,
    groups: Vec<Group>,
    window: Arc<SharedWindow>,
    slots: Vec<Slot>,
    next_key: u64,
    tasks: JoinSet<RunOutput>,
    by_task: HashMap<Id, u64, BuildHasherDefault<IdHasher>>,
    /// Task ends collected while waiting for another task.
    stash: VecDeque<(Id, Result<RunOutput, JoinError>)>,
    /// Children whose start failed during a restart, handled as failures.
    /// Each with the attempt that failed: a later run of the same child
    /// makes the entry stale.
    failed_starts: VecDeque<(u64, u32, ExitReason)>,
    /// Some children wait for the failed starts to be handled.
    behind_failed_start: bool,
    timers: BinaryHeap<Reverse<Timer>>,
    timer_seq: u64,
    rx: mpsc::Receiver<Command>,
    stop: CancellationToken,
    /// Cancelled by the parent instead of aborting this supervisor's task.
    kill: CancellationToken,
    exit_tx: watch::Sender<Option<Exit>>,
    tree: Arc<Tree>,
    is_root: bool,
}

impl Supervisor {
    /// Builds a supervisor from a validated spec, and its handle.
    pub(crate) fn new(
        spec: SupervisorSpec,
        parent: &str,
        tree: Arc<Tree>,
        stop: CancellationToken,
        kill: CancellationToken,
    ) -> (Supervisor, SupervisorHandle) {
        let path = join_path_arc(parent, &spec.id);
        let (tx, rx) = mpsc::channel(COMMAND_CAPACITY);
        let (exit_tx, exit_rx) = watch::channel(None);
        let groups: Vec<Group> = spec
            .groups
            .iter()
            .map(|g| Group {
                id: g.id.clone(),
                policy: g.policy,
                window: SharedWindow::new(g.policy.or(spec.policy), tree.clone()),
            })
            .collect();
        let mut sup = Supervisor {
            path: path.clone(),
            policy: spec.policy,
            auto_shutdown: spec.auto_shutdown,
            max_children: spec.max_children,
            groups,
            window: SharedWindow::new(spec.policy, tree.clone()),
            slots: Vec::with_capacity(spec.children.len()),
            next_key: 0,
            tasks: JoinSet::new(),
            by_task: HashMap::with_capacity_and_hasher(spec.children.len(), BuildHasherDefault::default()),
            stash: VecDeque::new(),
            failed_starts: VecDeque::new(),
            behind_failed_start: false,
            timers: BinaryHeap::new(),
            timer_seq: 0,
            rx,
            stop: stop.clone(),
            kill,
            exit_tx,
            tree,
            is_root: parent.is_empty(),
        };
        let mut overrides: HashMap<&str, Policy> = spec.overrides.iter().map(|(id, p)| (&**id, *p)).collect();
        for child in spec.children {
            let overriding = if overrides.is_empty() { None } else { overrides.remove(&*child.id) };
            sup.add_slot(child, false, overriding);
        }
        let handle =
            SupervisorHandle { tx, shared: Arc::new(Shared { path, stop, exit: exit_rx, tree: sup.tree.clone() }) };
        (sup, handle)
    }

    fn add_slot(&mut self, spec: ChildSpec, dynamic: bool, overriding: Option<Policy>) -> usize {
        let key = self.next_key;
        self.next_key += 1;
        let group = spec
            .group
            .as_ref()
            .and_then(|g| self.groups.iter().position(|gs| gs.id == *g))
            .and_then(|g| u32::try_from(g).ok());
        let path = join_path_arc(&self.path, &spec.id);
        let opts = ChildOpts::resolve(&spec);
        self.slots.push(Slot {
            key,
            path,
            id_len: u32::try_from(spec.id.len()).unwrap_or(u32::MAX),
            kind: spec.kind,
            opts,
            dynamic,
            group,
            overriding: overriding.map(|policy| {
                let below = group.and_then(|g| self.groups.get(g as usize)).map(|g| g.policy).unwrap_or_default();
                Box::new(Override {
                    policy,
                    window: SharedWindow::new(policy.or(below).or(self.policy), self.tree.clone()),
                })
            }),
            state: ChildState::Stopped,
            run: None,
            restarts: 0,
            attempt: 0,
            cold: None,
        });
        self.slots.len() - 1
    }

    fn index(&self, key: u64) -> Option<usize> {
        // Until a child is removed, a key is its position.
        if let Ok(i) = usize::try_from(key)
            && self.slots.get(i).is_some_and(|s| s.key == key)
        {
            return Some(i);
        }
        // Keys grow in declaration order and slots keep that order.
        self.slots.binary_search_by_key(&key, |s| s.key).ok()
    }

    fn index_of_id(&self, id: &str) -> Option<usize> {
        self.slots.iter().position(|s| s.id() == id)
    }

    fn emit(&self, path: &Arc<str>, attempt: u32, kind: EventKind) {
        self.tree.emit(path, attempt, kind);
    }

    /// [`run`](Self::run) behind a box: a supervisor's future holds its
    /// nested supervisors' futures, and the box ends that recursion.
    pub(crate) fn run_boxed(
        self,
        report: StartReport,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), SupervisorError>> + Send>> {
        Box::pin(self.run(report))
    }

    /// Runs the supervisor to its end: start, loop, shutdown.
    pub(crate) async fn run(mut self, report: StartReport) -> Result<(), SupervisorError> {
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
                self.kill_children().await;
                Err(SupervisorError::Aborted { supervisor: self.path.to_string() })
            }
        };
        self.exit_tx.send_replace(Some(result.clone()));
        result
    }

    /// Aborts every worker task and kills every nested supervisor, then
    /// awaits them all.
    async fn kill_children(&mut self) {
        self.rx.close();
        // Workers are aborted; nested supervisors are killed in turn, not
        // aborted, so that their own subtrees are awaited too.
        for slot in &self.slots {
            if let Some(run) = &slot.run {
                run.kill();
            }
        }
        while self.tasks.join_next().await.is_some() {}
        for i in 0..self.slots.len() {
            let slot = &mut self.slots[i];
            slot.state = ChildState::Stopped;
            if slot.take_run().is_some() {
                self.emit(&self.slots[i].path, self.slots[i].attempt, EventKind::Exited { reason: ExitReason::Killed });
            }
        }
    }

    /// The supervisor's life: start, serve, shut down.
    async fn live(&mut self, report: StartReport) -> Result<(), SupervisorError> {
        match self.start_all().await {
            Ok(()) => match report {
                StartReport::Root(tx) => {
                    let _ = tx.send(Ok(()));
                }
                StartReport::Nested(cell) => cell.mark_ready(),
            },
            Err(err) => {
                if let StartReport::Root(tx) = report {
                    let _ = tx.send(Err(err.clone()));
                }
                return Err(SupervisorError::Start(err));
            }
        }
        let result = self.serve().await;
        self.shutdown_children().await;
        match (self.is_root, self.tree.cause()) {
            (true, Some(cause)) => Err(cause),
            _ => result,
        }
    }

    /// Starts the declared children in order; on a failure, stops those
    /// started in reverse order and names the child.
    async fn start_all(&mut self) -> Result<(), StartError> {
        for i in 0..self.slots.len() {
            let key = self.slots[i].key;
            match self.start_slot(key).await {
                Started::Ok => {}
                outcome => {
                    // An interrupted start leaves child `i` running (a failed
                    // one has ended): it is stopped first, and awaited, so
                    // that nothing is left to the task set's drop.
                    let started: Vec<u64> = self.slots[..=i].iter().map(|s| s.key).collect();
                    self.stop_in_reverse(&started).await;
                    self.drain_stash_quietly();
                    return Err(match outcome {
                        Started::Failed(reason) => {
                            StartError::ChildFailed { child: self.slots[i].path.to_string(), reason }
                        }
                        _ => StartError::Cancelled { supervisor: self.path.to_string() },
                    });
                }
            }
        }
        Ok(())
    }

    /// Starts one child and waits until it runs (at once, or once ready
    /// when it has a start timeout or is a supervisor).
    async fn start_slot(&mut self, key: u64) -> Started {
        let Some(i) = self.index(key) else { return Started::Ok };
        let now = Instant::now();
        let slot = &mut self.slots[i];
        slot.attempt += 1;
        slot.set_pending(None);
        slot.set_quarantine(None);
        self.forget_failed_start(key);
        let lane = self.lane_for(i);
        let slot = &mut self.slots[i];
        let cell =
            RunCell::new(slot.path.clone(), slot.id_len as usize, slot.attempt, slot.opts.restart, self.tree.epoch);
        let ctx = Context { inner: cell.clone() };
        let (abort, handle) = match &slot.kind {
            ChildKind::Worker(w) => (w.spawn(&mut self.tasks, ctx, lane), None),
            ChildKind::Supervisor(spec) => {
                let kill = CancellationToken::new();
                let (nested, handle) = Supervisor::new(
                    (**spec).clone(),
                    &self.path,
                    self.tree.clone(),
                    cell.token().clone(),
                    kill.clone(),
                );
                let report = StartReport::Nested(cell.clone());
                let run = nested.run_boxed(report);
                let abort = super::spawn_run(&mut self.tasks, ctx, async move {
                    run.await.map_err(|e| ExitReason::Supervisor(Arc::new(e)))
                });
                (abort, Some(Box::new(Nested { handle, kill })))
            }
        };
        let task = abort.id();
        self.by_task.insert(task, key);
        let timeout = slot.opts.start_timeout();
        let needs_ready = timeout.is_some() || handle.is_some();
        slot.run = Some(Run { abort, cell: cell.clone(), started: now, nested: handle });
        slot.state = ChildState::Running;
        if needs_ready {
            let deadline = timeout.map(|t| now + t);
            loop {
                if cell.is_ready() {
                    break;
                }
                tokio::select! {
                    biased;
                    _ = self.stop.cancelled() => return Started::Interrupted,
                    _ = cell.ready() => {}
                    end = self.tasks.join_next_with_id() => {
                        let Some((id, end)) = end.map(task_end) else { continue };
                        if id == task {
                            self.by_task.remove(&id);
                            let reason = classify(end, false);
                            let slot = &mut self.slots[i];
                            slot.take_run();
                            slot.state = ChildState::Stopped;
                            slot.set_last_exit(Some(reason.clone()));
                            self.emit(&self.slots[i].path, self.slots[i].attempt, EventKind::StartFailed { reason: reason.clone() });
                            return Started::Failed(reason);
                        }
                        self.stash.push_back((id, end));
                    }
                    _ = sleep_until_opt(deadline), if deadline.is_some() => {
                        let limit = timeout.unwrap_or_default();
                        self.stop_one(key, Quiet::Yes).await;
                        let reason = ExitReason::StartTimeout(limit);
                        let slot = &mut self.slots[i];
                        slot.state = ChildState::Stopped;
                        slot.set_last_exit(Some(reason.clone()));
                        self.emit(&self.slots[i].path, self.slots[i].attempt, EventKind::StartFailed { reason: reason.clone() });
                        return Started::Failed(reason);
                    }
                }
            }
        }
        let attempt = self.slots[i].attempt;
        if let Some(interval) = self.slots[i].opts.heartbeat() {
            self.push_timer(Instant::now() + interval, TimerKind::Heartbeat { key, attempt });
        }
        tracing::debug!(child = %self.slots[i].path, attempt, "child started");
        self.emit(&self.slots[i].path, self.slots[i].attempt, EventKind::Started);
        Started::Ok
    }

    /// Drops a queued failed start of this child: something has decided its
    /// fate since (a new run, a quarantine, a command).
    fn forget_failed_start(&mut self, key: u64) {
        if !self.failed_starts.is_empty() {
            self.failed_starts.retain(|(k, _, _)| *k != key);
        }
    }

    fn push_timer(&mut self, at: Instant, kind: TimerKind) {
        self.timer_seq += 1;
        self.timers.push(Reverse(Timer { at, seq: self.timer_seq, kind }));
    }

    /// The main loop: child exits, commands and timers, until the
    /// supervisor is asked to stop or gives up.
    async fn serve(&mut self) -> Exit {
        // One stop future for the whole loop, not one per turn.
        let stop = self.stop.clone().cancelled_owned();
        tokio::pin!(stop);
        loop {
            if let Some((id, end)) = self.stash.pop_front() {
                if let Some(exit) = self.on_task_end(id, end).await {
                    return exit;
                }
                continue;
            }
            if let Some((key, attempt, reason)) = self.failed_starts.pop_front() {
                // Another exit may have restarted the child since its start
                // failed: that newer run is not the one that failed.
                let current = self.index(key).is_some_and(|i| {
                    let slot = &self.slots[i];
                    slot.attempt == attempt && slot.run.is_none()
                });
                if current && let Some(exit) = self.on_child_exit(key, reason).await {
                    return exit;
                }
                continue;
            }
            if self.behind_failed_start {
                // The children that waited behind failed starts and that
                // their handling did not take up (a narrower scope, no
                // restart, or the entry went stale) start now, or they would
                // wait forever.
                self.behind_failed_start = false;
                let waiting: Vec<u64> = self
                    .slots
                    .iter()
                    .filter(|s| s.pending() == Some(WAITING_FOR_FAILED_START))
                    .map(|s| s.key)
                    .collect();
                if let Some(exit) = self.start_batch(&waiting).await {
                    return exit;
                }
                continue;
            }
            let next_timer = self.timers.peek().map(|t| t.0.at);
            tokio::select! {
                biased;
                _ = &mut stop => return Ok(()),
                end = self.tasks.join_next_with_id(), if !self.tasks.is_empty() => {
                    if let Some((id, end)) = end.map(task_end)
                        && let Some(exit) = self.on_task_end(id, end).await
                    {
                        return exit;
                    }
                }
                cmd = self.rx.recv() => match cmd {
                    Some(cmd) => {
                        if let Some(exit) = self.on_command(cmd).await {
                            return exit;
                        }
                    }
                    // Every handle is gone: nobody can stop the tree any more,
                    // so it stops now rather than run unowned.
                    None => return Ok(()),
                },
                _ = sleep_until_opt(next_timer), if next_timer.is_some() => {
                    if let Some(exit) = self.on_timer().await {
                        return exit;
                    }
                }
            }
        }
    }

    async fn on_task_end(&mut self, id: Id, end: Result<RunOutput, JoinError>) -> Option<Exit> {
        let key = self.by_task.remove(&id)?;
        let i = self.index(key)?;
        if self.slots[i].run.as_ref().map(|r| r.abort.id()) != Some(id) {
            return None;
        }
        let reason = classify(end, false);
        self.on_child_exit(key, reason).await
    }

    /// A child's run ended by itself (or was found hung): restart per policy,
    /// strategy and budget, or escalate.
    async fn on_child_exit(&mut self, key: u64, reason: ExitReason) -> Option<Exit> {
        let i = self.index(key)?;
        let now = Instant::now();
        let slot = &mut self.slots[i];
        let run = slot.take_run();
        if reason.is_failure() {
            // A run that lasted the backoff's `max` starts the count afresh.
            let reset = slot.opts.backoff().reset_after();
            if let Some(run) = &run
                && reset.is_some_and(|r| now.saturating_duration_since(run.started) >= r)
            {
                slot.cold_mut().failures = 0;
            }
            let cold = slot.cold_mut();
            cold.failures = cold.failures.saturating_add(1);
        }
        drop(run);
        slot.set_last_exit(Some(reason.clone()));
        slot.state = ChildState::Stopped;
        let restart = slot.opts.restart;
        let path = slot.path.clone();
        let attempt = slot.attempt;
        if reason.is_failure() {
            tracing::warn!(child = %path, attempt, %reason, "child failed");
        } else {
            tracing::debug!(child = %path, attempt, %reason, "child exited");
        }
        self.emit(&path, attempt, EventKind::Exited { reason: reason.clone() });

        if self.slots[i].opts.significant && decide::significant_exit_counts(restart, &reason) {
            // As OTP: what counts is whether a significant child is still
            // alive (running, or waiting for its restart); one stopped by
            // terminate_child or a quarantine is not.
            let left =
                self.slots.iter().filter(|s| s.opts.significant && (s.run.is_some() || s.pending().is_some())).count();
            if decide::auto_shutdown_now(self.auto_shutdown, left) {
                tracing::info!(supervisor = %self.path, "significant children ended: auto_shutdown");
                self.emit(&self.path.clone(), 0, EventKind::AutoShutdown);
                return Some(Ok(()));
            }
        }
        if !decide::should_restart(restart, &reason) {
            if restart == Restart::Temporary {
                self.remove_slot(i);
            }
            return None;
        }
        self.restart_for(key, reason).await
    }

    /// Resolves the restart scope of the child at `i`: its override, else its
    /// group, else the supervisor.
    fn scope_of(&self, i: usize) -> Scope {
        let slot = &self.slots[i];
        let group = slot.group.and_then(|g| self.groups.get(g as usize));
        let over = slot.overriding.as_ref().map(|o| o.policy).unwrap_or_default();
        let policy = over.or(group.map(|g| g.policy).unwrap_or_default()).or(self.policy);
        let budget = if over.has_budget() {
            ScopeKey::Child(slot.key)
        } else if let Some(g) = slot.group.filter(|_| group.is_some_and(|g| g.policy.has_budget())) {
            ScopeKey::Group(g as usize)
        } else {
            ScopeKey::Supervisor
        };
        Scope {
            group: slot.group,
            strategy: policy.strategy.unwrap_or_default(),
            budget,
            escalation: policy.escalation.unwrap_or_default(),
        }
    }

    /// The children of a scope, in declaration order: a group's members, or
    /// all children.
    fn members(&self, group: Option<u32>) -> Vec<u64> {
        match group {
            Some(g) => self.slots.iter().filter(|s| s.group == Some(g)).map(|s| s.key).collect(),
            None => self.slots.iter().map(|s| s.key).collect(),
        }
    }

    /// How messages name a scope.
    fn scope_name(&self, budget: ScopeKey) -> String {
        match budget {
            ScopeKey::Supervisor => format!("supervisor `{}`", self.path),
            ScopeKey::Group(g) => {
                let id = self.groups.get(g).map_or("?", |g| &g.id);
                format!("group `{id}` of supervisor `{}`", self.path)
            }
            ScopeKey::Child(k) => {
                let id = self.index(k).map_or("?", |i| self.slots[i].id());
                format!("the override of `{id}` in supervisor `{}`", self.path)
            }
        }
    }

    fn window(&self, key: ScopeKey) -> Option<&Arc<SharedWindow>> {
        match key {
            ScopeKey::Supervisor => Some(&self.window),
            ScopeKey::Group(g) => self.groups.get(g).map(|g| &g.window),
            ScopeKey::Child(k) => {
                let i = self.index(k)?;
                self.slots[i].overriding.as_ref().map(|o| &o.window)
            }
        }
    }

    /// The lane of the worker at `i`, when its task can restart it by
    /// itself (see `lane`): a one_for_one scope, no backoff, heartbeat or
    /// start timeout, and not significant.
    fn lane_for(&self, i: usize) -> Option<super::Lane> {
        let slot = &self.slots[i];
        let plain = matches!(slot.kind, ChildKind::Worker(_))
            && slot.opts.restart != Restart::Temporary
            && !slot.opts.significant
            && slot.opts.timing.is_none();
        if !plain {
            return None;
        }
        let scope = self.scope_of(i);
        if scope.strategy != Strategy::OneForOne {
            return None;
        }
        Some(super::Lane { window: self.window(scope.budget)?.clone() })
    }

    async fn restart_for(&mut self, key: u64, reason: ExitReason) -> Option<Exit> {
        let i = self.index(key)?;
        let scope = self.scope_of(i);
        let now = Instant::now();
        if let Some(window) = self.window(scope.budget) {
            let (restarts, exceeded) = window.record(now);
            if exceeded {
                let within = window.within;
                return self.escalate(key, scope, reason, restarts, within).await;
            }
        }
        // one_for_one, the common case, restarts the child alone: no scope
        // to walk, nothing else to stop.
        let batch = match scope.strategy {
            Strategy::OneForOne => None,
            strategy => {
                // Quarantined children stay stopped until restart_child.
                let members: Vec<u64> = self
                    .members(scope.group)
                    .into_iter()
                    .filter(|&k| self.index(k).is_some_and(|j| self.slots[j].state != ChildState::Quarantined))
                    .collect();
                let affected = decide::affected(strategy, &members, key);
                // Stop the others of the scope in reverse order; temporary ones go.
                let others: Vec<u64> = affected.iter().copied().filter(|&k| k != key).collect();
                self.stop_in_reverse(&others).await;
                for &k in &others {
                    if let Some(j) = self.index(k)
                        && self.slots[j].opts.restart == Restart::Temporary
                    {
                        self.remove_slot(j);
                    }
                }
                Some(affected.into_iter().filter(|&k| self.index(k).is_some()).collect::<Vec<u64>>())
            }
        };
        let i = self.index(key)?;
        let slot = &mut self.slots[i];
        slot.restarts += 1;
        let delay =
            if reason.is_failure() { slot.opts.backoff().delay(slot.failures().max(1)) } else { Duration::ZERO };
        tracing::info!(child = %slot.path, %reason, ?delay, "restarting");
        self.emit(&self.slots[i].path, self.slots[i].attempt, EventKind::RestartScheduled { delay });
        let batch = batch.as_deref().unwrap_or(std::slice::from_ref(&key));
        if delay.is_zero() {
            self.start_batch(batch).await
        } else {
            self.timer_seq += 1;
            let token = self.timer_seq;
            for &k in batch {
                if let Some(j) = self.index(k) {
                    self.slots[j].set_pending(Some(token));
                    self.slots[j].state = ChildState::Restarting;
                }
            }
            self.push_timer(now + delay, TimerKind::Restart { token });
            None
        }
    }

    /// Starts children in declaration order. A child that fails to start is
    /// handled as a failure on the next turn of the loop, and the ones after
    /// it wait for that restart.
    async fn start_batch(&mut self, batch: &[u64]) -> Option<Exit> {
        for (n, &k) in batch.iter().enumerate() {
            if self.index(k).is_none_or(|j| self.slots[j].run.is_some()) {
                continue;
            }
            match self.start_slot(k).await {
                Started::Ok => {}
                Started::Interrupted => return Some(Ok(())),
                Started::Failed(reason) => {
                    for &rest in &batch[n + 1..] {
                        if let Some(j) = self.index(rest) {
                            self.slots[j].state = ChildState::Restarting;
                            self.slots[j].set_pending(Some(WAITING_FOR_FAILED_START));
                            self.behind_failed_start = true;
                        }
                    }
                    let attempt = self.index(k).map_or(0, |j| self.slots[j].attempt);
                    self.failed_starts.push_back((k, attempt, reason));
                    return None;
                }
            }
        }
        None
    }

    async fn escalate(
        &mut self,
        key: u64,
        scope: Scope,
        reason: ExitReason,
        restarts: u32,
        within: Duration,
    ) -> Option<Exit> {
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
        let path = self.path.clone();
        self.emit(&path, 0, EventKind::BudgetExceeded { scope: name, restarts, within });
        match scope.escalation {
            Escalation::Escalate => {
                tracing::error!(supervisor = %path, %error, "escalating");
                self.emit(&path, 0, EventKind::Escalated { error: error.clone() });
                Some(Err(error))
            }
            Escalation::ShutdownTree => {
                tracing::error!(supervisor = %path, %error, "shutting the tree down");
                let cause = SupervisorError::ShutdownTree { supervisor: path.to_string(), cause: Box::new(error) };
                self.emit(&path, 0, EventKind::Escalated { error: cause.clone() });
                self.tree.shutdown_tree(cause);
                None
            }
            Escalation::Quarantine => {
                tracing::error!(supervisor = %path, %error, "quarantining");
                let own = matches!(scope.budget, ScopeKey::Child(_));
                let members = self.members(scope.group);
                let stopped = decide::quarantined(own, scope.strategy, &members, key);
                self.stop_in_reverse(&stopped).await;
                for &k in &stopped {
                    self.forget_failed_start(k);
                    if let Some(j) = self.index(k) {
                        let slot = &mut self.slots[j];
                        slot.state = ChildState::Quarantined;
                        slot.set_pending(None);
                        slot.set_quarantine(Some(scope.budget));
                        self.emit(&self.slots[j].path, self.slots[j].attempt, EventKind::Quarantined);
                    }
                }
                None
            }
        }
    }

    async fn on_timer(&mut self) -> Option<Exit> {
        let Reverse(timer) = self.timers.pop()?;
        match timer.kind {
            TimerKind::Restart { token } => {
                let batch: Vec<u64> = self.slots.iter().filter(|s| s.pending() == Some(token)).map(|s| s.key).collect();
                self.start_batch(&batch).await
            }
            TimerKind::Heartbeat { key, attempt } => {
                let i = self.index(key)?;
                let slot = &self.slots[i];
                let run = slot.run.as_ref()?;
                if slot.attempt != attempt {
                    return None;
                }
                let interval = slot.opts.heartbeat()?;
                let last = run.cell.last_beat().map_or(run.started, |b| b.max(run.started));
                let due = last + interval;
                if Instant::now() < due {
                    self.push_timer(due, TimerKind::Heartbeat { key, attempt });
                    return None;
                }
                tracing::warn!(child = %slot.path, ?interval, "heartbeat missed");
                self.emit(&slot.path, attempt, EventKind::HeartbeatMissed { interval });
                // The exit is reported once, as a missed heartbeat.
                self.stop_one(key, Quiet::Yes).await;
                self.on_child_exit(key, ExitReason::HeartbeatMissed(interval)).await
            }
        }
    }

    async fn on_command(&mut self, cmd: Command) -> Option<Exit> {
        match cmd {
            Command::WhichChildren(reply) => {
                let _ = reply.send(self.which_children());
            }
            Command::StartChild(spec, reply) => {
                let result = self.start_dynamic(*spec).await;
                let _ = reply.send(result);
            }
            Command::TerminateChild(id, reply) => {
                let result = match self.index_of_id(&id) {
                    None => Err(self.unknown(&id)),
                    Some(i) => {
                        let key = self.slots[i].key;
                        self.forget_failed_start(key);
                        self.stop_one(key, Quiet::No).await;
                        if let Some(i) = self.index(key) {
                            if self.slots[i].opts.restart == Restart::Temporary {
                                self.remove_slot(i);
                            } else {
                                let slot = &mut self.slots[i];
                                slot.state = ChildState::Stopped;
                                slot.set_pending(None);
                                slot.set_quarantine(None);
                            }
                        }
                        Ok(())
                    }
                };
                let _ = reply.send(result);
            }
            Command::RestartChild(id, reply) => {
                let Some(i) = self.index_of_id(&id) else {
                    let _ = reply.send(Err(self.unknown(&id)));
                    return None;
                };
                if self.slots[i].run.is_some() {
                    let _ = reply.send(Err(CommandError::Running { child: self.slots[i].path.to_string() }));
                    return None;
                }
                let batch: Vec<u64> = match self.slots[i].quarantine() {
                    Some(scope) => {
                        if let Some(w) = self.window(scope) {
                            w.lock().clear();
                        }
                        self.slots.iter().filter(|s| s.quarantine() == Some(scope)).map(|s| s.key).collect()
                    }
                    None => vec![self.slots[i].key],
                };
                let mut result = Ok(());
                for k in batch {
                    match self.start_slot(k).await {
                        Started::Ok => {}
                        Started::Interrupted => {
                            let _ = reply.send(Err(CommandError::NotRunning { supervisor: self.path.to_string() }));
                            return Some(Ok(()));
                        }
                        Started::Failed(reason) => {
                            let path = self.index(k).map(|j| self.slots[j].path.to_string()).unwrap_or_default();
                            result =
                                Err(CommandError::StartFailed(format!("child `{path}` failed to start: it {reason}")));
                            break;
                        }
                    }
                }
                let _ = reply.send(result);
            }
            Command::DeleteChild(id, reply) => {
                let result = match self.index_of_id(&id) {
                    None => Err(self.unknown(&id)),
                    Some(i) if self.slots[i].run.is_some() => {
                        Err(CommandError::Running { child: self.slots[i].path.to_string() })
                    }
                    Some(i) => {
                        self.remove_slot(i);
                        Ok(())
                    }
                };
                let _ = reply.send(result);
            }
            Command::Supervisor(id, reply) => {
                let result = match self.index_of_id(&id) {
                    None => Err(self.unknown(&id)),
                    Some(i) => match (&self.slots[i].kind, &self.slots[i].run) {
                        (ChildKind::Worker(_), _) => {
                            Err(CommandError::NotASupervisor { child: self.slots[i].path.to_string() })
                        }
                        (_, Some(Run { nested: Some(nested), .. })) => Ok(nested.handle.clone()),
                        _ => Err(CommandError::NotRunning { supervisor: self.slots[i].path.to_string() }),
                    },
                };
                let _ = reply.send(result);
            }
        }
        None
    }

    fn unknown(&self, id: &str) -> CommandError {
        CommandError::UnknownChild { supervisor: self.path.to_string(), id: id.to_string() }
    }

    fn which_children(&self) -> Vec<ChildInfo> {
        let now = Instant::now();
        self.slots
            .iter()
            .map(|s| {
                let mut info = ChildInfo {
                    id: s.id().to_string(),
                    kind: if s.is_supervisor() { ChildKindName::Supervisor } else { ChildKindName::Worker },
                    state: s.state,
                    restarts: s.restarts,
                    attempt: s.attempt,
                    last_exit: s.last_exit().cloned(),
                    dynamic: s.dynamic,
                    uptime: s.run.as_ref().map(|r| now.saturating_duration_since(r.started)),
                };
                // A task that restarted its worker by itself knows better.
                if let Some(run) = &s.run
                    && let Some((restarts, last_exit, started)) = run.cell.in_task()
                {
                    info.restarts = info.restarts.saturating_add(restarts);
                    info.attempt = run.cell.attempt();
                    info.last_exit = last_exit;
                    info.uptime = Some(now.saturating_duration_since(started));
                }
                info
            })
            .collect()
    }

    async fn start_dynamic(&mut self, spec: ChildSpec) -> Result<(), CommandError> {
        if let Some(max) = self.max_children
            && self.slots.len() >= max
        {
            return Err(CommandError::TooManyChildren { supervisor: self.path.to_string(), max });
        }
        if self.index_of_id(&spec.id).is_some() {
            return Err(CommandError::AlreadyPresent { supervisor: self.path.to_string(), id: spec.id.to_string() });
        }
        let mut errors = Vec::new();
        spec.validate_as_child(
            &self.path,
            |g| self.groups.iter().any(|gs| *gs.id == *g),
            self.auto_shutdown,
            &mut errors,
        );
        if !errors.is_empty() {
            return Err(CommandError::Invalid(crate::SpecErrors(errors).to_string()));
        }
        let i = self.add_slot(spec, true, None);
        let key = self.slots[i].key;
        match self.start_slot(key).await {
            Started::Ok => Ok(()),
            Started::Interrupted => Err(CommandError::NotRunning { supervisor: self.path.to_string() }),
            Started::Failed(reason) => {
                let path = self.slots[i].path.to_string();
                if let Some(i) = self.index(key) {
                    self.remove_slot(i);
                }
                Err(CommandError::StartFailed(format!("child `{path}` failed to start: it {reason}")))
            }
        }
    }

    fn remove_slot(&mut self, i: usize) {
        let slot = self.slots.remove(i);
        self.forget_failed_start(slot.key);
        if let Some(run) = slot.run {
            // Only stopped children are removed; a run left here is a bug,
            // and aborting it keeps the no-orphan promise.
            run.kill();
        }
    }

    /// Stops children one by one in reverse order of `keys` (which is in
    /// declaration order).
    async fn stop_in_reverse(&mut self, keys: &[u64]) {
        for &k in keys.iter().rev() {
            self.stop_one(k, Quiet::No).await;
        }
    }

    /// Asks a running child to stop as its shutdown policy says; returns its
    /// task and the deadline after which it is aborted.
    fn begin_stop(&mut self, key: u64, now: Instant) -> Option<(Id, Option<Instant>)> {
        let i = self.index(key)?;
        let slot = &mut self.slots[i];
        if slot.pending().is_some() {
            slot.set_pending(None);
            slot.state = ChildState::Stopped;
        }
        let run = slot.run.as_ref()?;
        let deadline = match slot.opts.shutdown {
            Shutdown::BrutalKill => {
                run.kill();
                None
            }
            Shutdown::Timeout(t) => {
                run.cell.cancel();
                Some(now + t)
            }
            Shutdown::Infinity => {
                run.cell.cancel();
                None
            }
        };
        Some((run.abort.id(), deadline))
    }

    fn abort_overdue(&self, key: u64) {
        if let Some(i) = self.index(key)
            && let Some(run) = &self.slots[i].run
        {
            tracing::warn!(child = %self.slots[i].path, "shutdown time ran out: aborting");
            run.kill();
        }
    }

    /// Stops one child and awaits its task: cancel, wait its shutdown time,
    /// abort.
    async fn stop_one(&mut self, key: u64, quiet: Quiet) {
        let Some((task, mut deadline)) = self.begin_stop(key, Instant::now()) else { return };
        // It may have ended while the supervisor waited for another task.
        if let Some(pos) = self.stash.iter().position(|(id, _)| *id == task)
            && let Some((id, end)) = self.stash.remove(pos)
        {
            self.finish_stopped(id, end, quiet);
            return;
        }
        // A cooperative child ends as soon as it runs: let it run first, and
        // collect its end without a timer or a wake-up of its own. Stopping
        // thousands of children in turn costs half as much this way.
        tokio::task::yield_now().await;
        while let Some((id, end)) = self.tasks.try_join_next_with_id().map(task_end) {
            if id == task {
                self.finish_stopped(id, end, quiet);
                return;
            }
            self.stash.push_back((id, end));
        }
        loop {
            tokio::select! {
                biased;
                end = self.tasks.join_next_with_id() => {
                    let Some((id, end)) = end.map(task_end) else { return };
                    if id == task {
                        self.finish_stopped(id, end, quiet);
                        return;
                    }
                    self.stash.push_back((id, end));
                }
                _ = sleep_until_opt(deadline), if deadline.is_some() => {
                    deadline = None;
                    self.abort_overdue(key);
                }
            }
        }
    }

    /// Stops the running children among `keys` together: cancel each,
    /// wait its shutdown time, abort, and await every task.
    async fn stop_together(&mut self, keys: &[u64]) {
        let now = Instant::now();
        // Thousands of dynamic children may stop together: the waiting set
        // and the deadlines are indexed, not scanned.
        let mut waiting: HashMap<Id, u64, BuildHasherDefault<IdHasher>> = HashMap::default();
        let mut deadlines: BinaryHeap<Reverse<(Instant, u64)>> = BinaryHeap::new();
        for &k in keys {
            if let Some((task, deadline)) = self.begin_stop(k, now) {
                waiting.insert(task, k);
                if let Some(at) = deadline {
                    deadlines.push(Reverse((at, k)));
                }
            }
        }
        // Ends that came in while the supervisor waited for other tasks.
        let stashed: VecDeque<(Id, Result<RunOutput, JoinError>)> = {
            let (ours, others) =
                std::mem::take(&mut self.stash).into_iter().partition(|(id, _)| waiting.contains_key(id));
            self.stash = others;
            ours
        };
        for (id, end) in stashed {
            waiting.remove(&id);
            self.finish_stopped(id, end, Quiet::No);
        }
        while !waiting.is_empty() {
            let deadline = deadlines.peek().map(|Reverse((at, _))| *at);
            tokio::select! {
                biased;
                end = self.tasks.join_next_with_id() => {
                    let Some((id, end)) = end.map(task_end) else { break };
                    if waiting.remove(&id).is_some() {
                        self.finish_stopped(id, end, Quiet::No);
                    } else {
                        self.stash.push_back((id, end));
                    }
                }
                _ = sleep_until_opt(deadline), if deadline.is_some() => {
                    let now = Instant::now();
                    while let Some(&Reverse((at, key))) = deadlines.peek() {
                        if at > now {
                            break;
                        }
                        deadlines.pop();
                        // A child that has ended already is no longer in the
                        // slot's run: nothing to abort.
                        self.abort_overdue(key);
                    }
                }
            }
        }
    }

    /// Records the end of a run the supervisor stopped.
    fn finish_stopped(&mut self, id: Id, end: Result<RunOutput, JoinError>, quiet: Quiet) {
        let Some(key) = self.by_task.remove(&id) else { return };
        let Some(i) = self.index(key) else { return };
        let reason = classify(end, true);
        let slot = &mut self.slots[i];
        slot.take_run();
        slot.state = ChildState::Stopped;
        if quiet == Quiet::No {
            self.emit(&self.slots[i].path, self.slots[i].attempt, EventKind::Exited { reason: reason.clone() });
            self.slots[i].set_last_exit(Some(reason));
        }
    }

    /// Ends left over from a failed start: every task has ended by now.
    fn drain_stash_quietly(&mut self) {
        while let Some((id, _)) = self.stash.pop_front() {
            self.by_task.remove(&id);
        }
    }

    /// Stops every child: dynamic ones together, then the declared ones in
    /// reverse order; refuses commands meanwhile.
    async fn shutdown_children(&mut self) {
        self.rx.close();
        let path = self.path.clone();
        self.emit(&path, 0, EventKind::ShutdownStarted);
        tracing::debug!(supervisor = %path, "shutting down");
        let dynamic: Vec<u64> = self.slots.iter().filter(|s| s.dynamic).map(|s| s.key).collect();
        self.stop_together(&dynamic).await;
        let declared: Vec<u64> = self.slots.iter().filter(|s| !s.dynamic).map(|s| s.key).collect();
        self.stop_in_reverse(&declared).await;
        // Anything still in the set (a run replaced without being awaited
        // cannot happen, but the promise is no orphans): abort and await.
        self.tasks.abort_all();
        while self.tasks.join_next().await.is_some() {}
        self.stash.clear();
        self.timers.clear();
        while let Ok(cmd) = self.rx.try_recv() {
            drop(cmd);
        }
        self.emit(&path, 0, EventKind::ShutdownCompleted);
    }
}

/// Hashes task ids, which tokio hands out as distinct integers, as they
/// are: the map is touched on every start and exit.
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        // Spread consecutive ids over the table's high bits too.
        self.0 = n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// A task's end as the set reports it, split into the task and its result
/// (a panic or an abort carries the task's id in the error).
fn task_end(end: Result<(Id, RunOutput), JoinError>) -> (Id, Result<RunOutput, JoinError>) {
    match end {
        Ok((id, out)) => (id, Ok(out)),
        Err(e) => (e.id(), Err(e)),
    }
}

/// Why a run ended, from its task's result; `stopping` when the supervisor
/// asked it to stop.
fn classify(end: Result<RunOutput, JoinError>, stopping: bool) -> ExitReason {
    match end {
        Ok(Ok(())) if stopping => ExitReason::Shutdown,
        Ok(Ok(())) => ExitReason::Normal,
        Ok(Err(reason)) => reason,
        Err(e) if e.is_cancelled() => ExitReason::Killed,
        Err(e) => ExitReason::Panicked(super::lane::panic_message(&*e.into_panic())),
    }
}

async fn sleep_until_opt(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
