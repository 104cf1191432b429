//! A picture of the whole tree at one moment, for terminals and dashboards.

use std::fmt;

use super::handle::{ChildInfo, ChildKind, ChildState, SupervisorHandle};
use crate::error::CommandError;
use crate::inspect::words;

/// The whole tree (or a subtree) now: every supervisor and child with its
/// kind, state, restart count, attempt, uptime and last exit.
///
/// `Display` renders it as an indented tree; with the `serde` feature it
/// serializes (to JSON, say) with the same fields (see [`ChildInfo`]).
///
/// ```
/// use supervisor::{ChildSpec, Context, SupervisorSpec};
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> anyhow::Result<()> {
/// let tree = SupervisorSpec::new("app")
///     .child(ChildSpec::from_fn("db", |ctx: Context| async move { ctx.cancelled().await }))
///     .supervisor(SupervisorSpec::new("http")
///         .child(ChildSpec::from_fn("router", |ctx: Context| async move { ctx.cancelled().await })))
///     .start()
///     .await?;
/// let snap = tree.snapshot().await?;
/// assert_eq!(snap.children[1].supervisor.as_ref().unwrap().children[0].id, "router");
/// println!("{snap}");
/// tree.shutdown().await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Snapshot {
    /// The supervisor's path.
    pub path: String,
    /// Its children, in declaration order (dynamic ones last), each with
    /// its own snapshot if it is a running supervisor.
    pub children: Vec<ChildInfo>,
}

impl SupervisorHandle {
    /// A snapshot of this supervisor and everything below it.
    pub async fn snapshot(&self) -> Result<Snapshot, CommandError> {
        let mut children = self.which_children().await?;
        for child in &mut children {
            if child.kind == ChildKind::Supervisor && child.state == ChildState::Running {
                // A nested supervisor that ended meanwhile shows without.
                if let Ok(nested) = self.nested(&child.id).await {
                    child.supervisor = Box::pin(nested.snapshot()).await.ok();
                }
            }
        }
        Ok(Snapshot { path: self.path().to_string(), children })
    }
}

impl Snapshot {
    fn write_children(&self, f: &mut fmt::Formatter<'_>, indent: usize) -> fmt::Result {
        for c in &self.children {
            let state = match c.state {
                ChildState::Running => "running",
                ChildState::Restarting => "restarting",
                ChildState::Stopped => "stopped",
                ChildState::Quarantined => "quarantined",
            };
            let kind = match c.kind {
                ChildKind::Worker => "worker",
                ChildKind::Supervisor => "supervisor",
            };
            write!(
                f,
                "{:indent$}{kind} {} [{state}] attempt {}, {}",
                "",
                c.id,
                c.attempt,
                words::restarts(c.restarts)
            )?;
            if c.dynamic {
                f.write_str(", dynamic")?;
            }
            if let Some(up) = c.uptime {
                write!(f, ", up {:.1}s", up.as_secs_f64())?;
            }
            if let Some(mailbox) = &c.mailbox {
                write!(f, ", mailbox {mailbox}")?;
            }
            if let Some(exit) = &c.last_exit {
                write!(f, ", last {exit}")?;
            }
            writeln!(f)?;
            if let Some(nested) = &c.supervisor {
                nested.write_children(f, indent + 2)?;
            }
        }
        Ok(())
    }
}

impl fmt::Display for Snapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "supervisor {}", self.path)?;
        self.write_children(f, 2)
    }
}
