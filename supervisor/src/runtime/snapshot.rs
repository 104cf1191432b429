//! A picture of the whole tree at one moment, for terminals and dashboards.

use std::fmt;

use super::handle::{ChildKindName, ChildState, SupervisorHandle};
use crate::error::CommandError;
use crate::mailbox::MailboxDepth;

/// The whole tree (or a subtree) now: every supervisor and child with its
/// kind, state, restart count, attempt, uptime and last exit.
///
/// `Display` renders it as an indented tree; with the `serde` feature it
/// serializes (to JSON, say) with the same fields.
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
    /// Its children, in declaration order (dynamic ones last).
    pub children: Vec<ChildSnapshot>,
}

/// One child in a [`Snapshot`].
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct ChildSnapshot {
    /// The child's id.
    pub id: String,
    /// Worker or supervisor.
    pub kind: ChildKindName,
    /// Where it stands.
    pub state: ChildState,
    /// Restarts by policy so far.
    pub restarts: u32,
    /// The current (or last) attempt; 1 for the first run.
    pub attempt: u32,
    /// Milliseconds since the current run started, if it runs.
    pub uptime_ms: Option<u64>,
    /// How the last run ended, in words, if one has ended.
    pub last_exit: Option<String>,
    /// Whether it was added with `start_child`.
    pub dynamic: bool,
    /// How full the mailbox its runs receive from is, if they take one.
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub mailbox: Option<MailboxDepth>,
    /// A running nested supervisor's own snapshot.
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub supervisor: Option<Snapshot>,
}

impl SupervisorHandle {
    /// A snapshot of this supervisor and everything below it.
    pub async fn snapshot(&self) -> Result<Snapshot, CommandError> {
        let mut children = Vec::new();
        for info in self.which_children().await? {
            let supervisor = if info.kind == ChildKindName::Supervisor && info.state == ChildState::Running {
                match self.supervisor(&info.id).await {
                    Ok(nested) => Box::pin(nested.snapshot()).await.ok(),
                    Err(_) => None,
                }
            } else {
                None
            };
            children.push(ChildSnapshot {
                uptime_ms: info.uptime.map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
                last_exit: info.last_exit.as_ref().map(ToString::to_string),
                id: info.id,
                kind: info.kind,
                state: info.state,
                restarts: info.restarts,
                attempt: info.attempt,
                dynamic: info.dynamic,
                mailbox: info.mailbox,
                supervisor,
            });
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
                ChildKindName::Worker => "worker",
                ChildKindName::Supervisor => "supervisor",
            };
            write!(f, "{:indent$}{kind} {} [{state}] attempt {}, {} restarts", "", c.id, c.attempt, c.restarts)?;
            if c.dynamic {
                f.write_str(", dynamic")?;
            }
            if let Some(ms) = c.uptime_ms {
                write!(f, ", up {:.1}s", ms as f64 / 1000.0)?;
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
