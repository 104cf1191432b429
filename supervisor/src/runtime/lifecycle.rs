//! Starting and stopping one child: the transitions into and out of its
//! `Live` phase, and what a failed start means for the job that started it.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::Arc;

use tokio::task::JoinError;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::cell::RunCell;
use super::child::{Nested, Phase, Run};
use super::decide;
use super::handle::SupervisorHandle;
use super::job::{AfterStop, Job, JobKind, StartReport, Wait};
use super::report;
use super::run::{self, RunOutput, Spawn, classify};
use super::supervisor::Supervisor;
use super::timers::TimerKind;
use crate::error::{CommandError, ExitReason, StartError};
use crate::policy::Shutdown;
use crate::spec::Body;
use crate::worker::Context;

impl Supervisor {
    /// Starts the child `key` unless it runs already. Returns the wait for
    /// its readiness when it has to say it is ready (a start timeout, a
    /// nested supervisor), or the reason it could not be started at all (its
    /// `Clone` panicked).
    pub(super) fn begin_start(&mut self, key: u64) -> Result<Option<Wait>, ExitReason> {
        let Some(i) = self.index(key) else { return Ok(None) };
        if self.slots[i].run().is_some() {
            return Ok(None);
        }
        let lane = self.lane_for(i);
        let now = Instant::now();
        let slot = &mut self.slots[i];
        slot.attempt += 1;
        let cell =
            RunCell::new(slot.path.clone(), slot.id_len as usize, slot.attempt, slot.opts.restart, self.shared.clone());
        let ctx = Context { inner: cell.clone() };
        let (abort, nested) = match &slot.kind {
            Body::Worker(w) => {
                let how = Spawn {
                    key,
                    lane,
                    supervisor: &self.span,
                    #[cfg(feature = "testing")]
                    fault: self.shared.tree.faults.plan().and_then(|plan| plan.fault_for(&slot.path, slot.attempt)),
                };
                (w.spawn(&mut self.tasks, ctx, how)?, None)
            }
            Body::Supervisor(spec) => {
                let spec = run::clone_caught(&**spec)?;
                let kill = CancellationToken::new();
                let (nested, shared) =
                    Supervisor::new(spec, &self.path, self.shared.tree.clone(), cell.token().clone(), kill.clone());
                let task = nested.run_boxed(StartReport::Nested(cell.clone()));
                let abort = run::spawn_run(&mut self.tasks, key, &ctx, &self.span, async move {
                    task.await.map_err(|e| ExitReason::Supervisor(Arc::new(e)))
                });
                (abort, Some(Box::new(Nested { handle: SupervisorHandle::unowned(shared), kill })))
            }
        };
        let task = abort.id();
        let timeout = slot.opts.start_timeout();
        let needs_ready = timeout.is_some() || nested.is_some();
        slot.phase = Phase::Live(Run { abort, cell: cell.clone(), started: now, nested });
        if needs_ready && !cell.is_ready() {
            let deadline = timeout.map(|t| (decide::deadline(now, t), t));
            return Ok(Some(Wait::Ready { key, task, cell, deadline }));
        }
        self.started(i);
        Ok(None)
    }

    /// The child at `i` runs.
    pub(super) fn started(&mut self, i: usize) {
        let slot = &self.slots[i];
        let (key, attempt) = (slot.key, slot.attempt);
        if let Some(interval) = slot.opts.heartbeat() {
            self.timers.push(decide::deadline(Instant::now(), interval), TimerKind::Heartbeat { key, attempt });
        }
        let slot = &self.slots[i];
        report::started(&self.shared.tree, &slot.path, slot.attempt);
    }

    /// Asks the child `key` to stop as its shutdown policy says; returns the
    /// wait for its task's end, if it has one. A child that is not running
    /// is stopped at once: a pending restart is dropped, and an exit not yet
    /// handled is taken as the end of the stop (as OTP's shutdown takes the
    /// child's exit message).
    pub(super) fn begin_stop(&mut self, key: u64, then: AfterStop) -> Option<Wait> {
        let i = self.index(key)?;
        let slot = &mut self.slots[i];
        match &slot.phase {
            Phase::Live(run) => {
                let deadline = match slot.opts.shutdown {
                    Shutdown::BrutalKill => {
                        run.kill();
                        None
                    }
                    Shutdown::Timeout(t) => {
                        run.cell.cancel();
                        Some(decide::deadline(Instant::now(), t))
                    }
                    Shutdown::Infinity => {
                        run.cell.cancel();
                        None
                    }
                };
                Some(Wait::Stop { key, task: run.abort.id(), deadline, then })
            }
            Phase::Exited => {
                slot.phase = Phase::Stopped;
                if let Some(reason) = slot.last_exit() {
                    report::exited(&self.shared.tree, &slot.path, slot.attempt, reason);
                }
                None
            }
            Phase::Pending { .. } | Phase::Waiting { .. } => {
                slot.phase = Phase::Stopped;
                None
            }
            Phase::Stopped | Phase::Quarantined(_) => None,
        }
    }

    /// Asks the running children among `keys` to stop together; returns the
    /// wait for their ends.
    pub(super) fn stop_together(&mut self, keys: &[u64]) -> Option<Wait> {
        let mut tasks = HashMap::default();
        let mut deadlines = BinaryHeap::new();
        for &key in keys {
            if let Some(Wait::Stop { task, deadline, .. }) = self.begin_stop(key, AfterStop::Stopped) {
                tasks.insert(task, key);
                if let Some(at) = deadline {
                    deadlines.push(Reverse((at, key)));
                }
            }
        }
        (!tasks.is_empty()).then_some(Wait::Together { tasks, deadlines })
    }

    pub(super) fn kill_overdue(&self, key: u64) {
        if let Some(i) = self.index(key)
            && let Some(run) = self.slots[i].run()
        {
            tracing::warn!(child = %self.slots[i].path, "shutdown time ran out: aborting");
            run.kill();
        }
    }

    /// The task of the child at `i`, asked to stop, has ended.
    pub(super) fn stopped(&mut self, i: usize, end: Result<RunOutput, JoinError>, then: AfterStop) {
        let reason = classify(end, true);
        let slot = &mut self.slots[i];
        slot.end_run(Phase::Stopped);
        match then {
            AfterStop::Stopped => {
                report::exited(&self.shared.tree, &slot.path, slot.attempt, &reason);
                slot.set_last_exit(reason);
            }
            AfterStop::Quiet => {}
            AfterStop::FailStart(reason) => {
                let key = slot.key;
                self.start_failed(key, reason);
            }
        }
    }

    /// The child at `i` ended by itself (or is taken as failed): its exit
    /// is queued, to be handled once no job is in progress.
    pub(super) fn exited(&mut self, i: usize, reason: ExitReason) {
        let now = Instant::now();
        let slot = &mut self.slots[i];
        let ran = slot.run().map_or(std::time::Duration::ZERO, |r| now.saturating_duration_since(r.started));
        slot.end_run(Phase::Exited);
        slot.set_failures(decide::failures_after(slot.failures(), &reason, ran, slot.opts.backoff()));
        slot.set_last_exit(reason);
        self.exits.push_back(slot.key);
    }

    /// The child `key` failed to start with `reason`; what follows depends
    /// on the job that started it.
    pub(super) fn start_failed(&mut self, key: u64, reason: ExitReason) {
        let Some(i) = self.index(key) else { return };
        report::start_failed(&self.shared.tree, &self.slots[i].path, self.slots[i].attempt, &reason);
        let Some(job) = self.job.take() else { return };
        match job.kind {
            JobKind::Boot(report) => {
                // Those started before it stop, last first; then the
                // supervisor ends with the error.
                let slot = &mut self.slots[i];
                slot.set_last_exit(reason.clone());
                let error = StartError::ChildFailed { child: slot.path.to_string(), reason };
                let started = self.slots.iter().filter(|s| s.run().is_some()).map(|s| s.key).collect();
                self.job = Some(Job::new(JobKind::BootFailed(report, error)).stopping(started));
            }
            JobKind::Batch => {
                // Handled as the child's failure; the rest of the batch
                // waits on its restart.
                self.slots[i].phase = Phase::Stopped;
                self.exited(i, reason);
                for rest in job.starts {
                    if let Some(j) = self.index(rest)
                        && self.slots[j].run().is_none()
                    {
                        self.slots[j].phase = Phase::Waiting { cause: key };
                    }
                }
            }
            JobKind::RestartChild(reply) => {
                let slot = &mut self.slots[i];
                slot.phase = Phase::Stopped;
                slot.set_last_exit(reason.clone());
                let child = slot.path.to_string();
                self.release_waiters(&[key], false);
                let _ = reply.send(Err(CommandError::StartFailed { child, reason }));
            }
            JobKind::StartChild(_, reply) => {
                let child = self.slots[i].path.to_string();
                self.remove_slot(i);
                let _ = reply.send(Err(CommandError::StartFailed { child, reason }));
            }
            // These jobs start nothing.
            kind => {
                self.slots[i].phase = Phase::Stopped;
                self.job = Some(Job { kind, ..job });
            }
        }
    }
}
