//! The commands of a supervisor's handle, one function each. A command
//! that has to stop or start children becomes the supervisor's job (see
//! `job`) and is answered when that job is done.

use tokio::time::Instant;

use super::child::Phase;
use super::handle::{ChildInfo, Command, SupervisorHandle};
use super::job::{Job, JobKind, Reply};
use super::supervisor::Supervisor;
use crate::error::{CommandError, SpecErrors, rules};
use crate::spec::{Body, ChildSpec};

impl Supervisor {
    pub(super) fn on_command(&mut self, cmd: Command) {
        match cmd {
            Command::WhichChildren(reply) => {
                let _ = reply.send(self.which_children());
            }
            Command::StartChild(spec, reply) => self.start_child(*spec, reply),
            Command::TerminateChild(id, reply) => self.terminate_child(&id, reply),
            Command::RestartChild(id, reply) => self.restart_child(&id, reply),
            Command::DeleteChild(id, reply) => {
                let _ = reply.send(self.delete_child(&id));
            }
            Command::Nested(id, reply) => {
                let _ = reply.send(self.nested(&id));
            }
            Command::CheckInvariants(reply) => {
                let _ = reply.send(self.check_invariants().map_err(|v| format!("supervisor `{}`: {v}", self.path)));
            }
        }
    }

    fn unknown(&self, id: &str) -> CommandError {
        CommandError::UnknownChild { supervisor: self.path.to_string(), id: id.to_string() }
    }

    /// Every child as its phase shows it, with what its task did by itself.
    pub(super) fn which_children(&self) -> Vec<ChildInfo> {
        let now = Instant::now();
        self.slots
            .iter()
            .map(|s| {
                let run = s.run();
                let mut info = ChildInfo {
                    id: s.id().to_string(),
                    kind: s.kind_name(),
                    state: s.phase.state(),
                    restarts: s.restarts,
                    attempt: s.attempt,
                    last_exit: s.last_exit().cloned(),
                    dynamic: s.dynamic,
                    uptime: run.map(|r| now.saturating_duration_since(r.started)),
                    mailbox: s.mailbox_depth(),
                    supervisor: None,
                };
                // A task that restarted its worker by itself knows better.
                if let Some(run) = run
                    && let Some(in_task) = run.cell.in_task()
                {
                    info.restarts = info.restarts.saturating_add(in_task.restarts);
                    info.attempt = run.cell.attempt();
                    info.last_exit = in_task.last_exit;
                    info.uptime = Some(now.saturating_duration_since(in_task.started));
                }
                info
            })
            .collect()
    }

    fn start_child(&mut self, spec: ChildSpec, reply: Reply<String>) {
        if let Some(max) = self.max_children
            && self.slots.len() >= max
        {
            let _ = reply.send(Err(CommandError::TooManyChildren { supervisor: self.path.to_string(), max }));
            return;
        }
        if self.index_of_id(&spec.id).is_some() {
            let error = CommandError::AlreadyPresent { supervisor: self.path.to_string(), id: spec.id.to_string() };
            let _ = reply.send(Err(error));
            return;
        }
        let mut errors = Vec::new();
        spec.validate_as_child(
            &self.path,
            |g| self.groups.iter().any(|gs| *gs.id == *g),
            |g| rules::closest(g, self.groups.iter().map(|gs| &*gs.id)).map(str::to_string),
            self.auto_shutdown,
            &mut errors,
        );
        if !errors.is_empty() {
            let _ = reply.send(Err(CommandError::Invalid(SpecErrors(errors))));
            return;
        }
        let i = self.add_slot(spec, true, None);
        let key = self.slots[i].key;
        self.job = Some(Job::new(JobKind::StartChild(key, reply)).starting([key]));
    }

    fn terminate_child(&mut self, id: &str, reply: Reply<()>) {
        let Some(i) = self.index_of_id(id) else {
            let _ = reply.send(Err(self.unknown(id)));
            return;
        };
        let key = self.slots[i].key;
        self.job = Some(Job::new(JobKind::Terminate(key, reply)).stopping(vec![key]));
    }

    fn restart_child(&mut self, id: &str, reply: Reply<()>) {
        let Some(i) = self.index_of_id(id) else {
            let _ = reply.send(Err(self.unknown(id)));
            return;
        };
        let batch = match self.slots[i].phase {
            Phase::Live(_) => {
                let _ = reply.send(Err(CommandError::Running { child: self.slots[i].path.to_string() }));
                return;
            }
            // A quarantined scope comes back whole, with a fresh window.
            Phase::Quarantined(scope) => {
                if let Some(window) = self.window(scope) {
                    window.clear();
                }
                self.slots
                    .iter()
                    .filter(|s| matches!(s.phase, Phase::Quarantined(q) if q == scope))
                    .map(|s| s.key)
                    .collect()
            }
            _ => vec![self.slots[i].key],
        };
        let batch = self.with_waiters(batch);
        self.job = Some(Job::new(JobKind::RestartChild(reply)).starting(batch));
    }

    fn delete_child(&mut self, id: &str) -> Result<(), CommandError> {
        let i = self.index_of_id(id).ok_or_else(|| self.unknown(id))?;
        if self.slots[i].run().is_some() {
            return Err(CommandError::Running { child: self.slots[i].path.to_string() });
        }
        // A pending restart of its scope goes with it.
        let key = self.slots[i].key;
        self.release_waiters(&[key], false);
        self.remove_slot(i);
        Ok(())
    }

    fn nested(&self, id: &str) -> Result<SupervisorHandle, CommandError> {
        let i = self.index_of_id(id).ok_or_else(|| self.unknown(id))?;
        let slot = &self.slots[i];
        match (&slot.kind, slot.run()) {
            (Body::Worker(_), _) => Err(CommandError::NotASupervisor { child: slot.path.to_string() }),
            (_, Some(run)) => match &run.nested {
                Some(nested) => Ok(nested.handle.clone()),
                None => Err(CommandError::NotRunning { supervisor: slot.path.to_string() }),
            },
            _ => Err(CommandError::NotRunning { supervisor: slot.path.to_string() }),
        }
    }
}
