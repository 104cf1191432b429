//! Helpers for tokio's paused clock: wait for what the tree does instead of
//! sleeping for a guess. Each waits on the tree's events and reads its state
//! through the public handle; each has a bound of virtual time and says
//! what it saw when the bound runs out.
//!
//! On the paused clock (`#[tokio::test(start_paused = true)]`), tokio moves
//! time forward by itself whenever every task waits, straight to the next
//! timer: backoff delays, heartbeat checks, shutdown timeouts and the
//! workers' own sleeps pass in no real time. On a running clock the same
//! helpers work, in real time.

use std::time::Duration;

use tokio::time::{Instant, timeout_at};

use super::expect::describe;
use crate::error::CommandError;
use crate::runtime::{ChildInfo, ChildState, Event, EventKind, RecvError, Snapshot, SupervisorHandle};

/// Why a helper of the paused clock gave up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WaitError {
    /// The tree was still busy when the bound ran out.
    #[error("the tree was not idle after {limit:?}: {busy}")]
    NotIdle {
        /// The bound.
        limit: Duration,
        /// What kept it busy: its last event, or the child waiting for a
        /// restart.
        busy: String,
    },
    /// No child started again within the bound.
    #[error("no child started again within {limit:?}{}", last.as_ref().map(|l| format!(": the last event was {l}")).unwrap_or_default())]
    NoRestart {
        /// The bound.
        limit: Duration,
        /// The last event seen meanwhile.
        last: Option<String>,
    },
    /// The child did not reach the state within the bound.
    #[error("child `{path}` was not {want:?} within {limit:?}: {now}")]
    NotReached {
        /// The child's path.
        path: String,
        /// The state waited for.
        want: ChildState,
        /// The bound.
        limit: Duration,
        /// Where it stood at the end, in words.
        now: String,
    },
    /// The path is not below the handle it was asked of.
    #[error("`{path}` is not in the tree of `{tree}`: give the child's full path, starting with `{tree}/`")]
    NotInTree {
        /// The path asked for.
        path: String,
        /// The handle's path.
        tree: String,
    },
}

/// The first child of a snapshot that waits for a restart, by path.
fn restarting(snapshot: &Snapshot) -> Option<String> {
    snapshot.children.iter().find_map(|c| {
        if c.state == ChildState::Restarting {
            return Some(format!("{}/{}", snapshot.path, c.id));
        }
        c.supervisor.as_ref().and_then(restarting)
    })
}

/// Runs the tree until it is idle: nothing has happened for `quiet`, and
/// no child waits for a restart. A tree that has ended is idle. Gives up
/// after `limit` of (virtual) time, saying what was still going on.
///
/// `quiet` is the bound on what counts as pending: a timer further away
/// than `quiet` (a backoff of a minute, a heartbeat check) does not keep the
/// tree busy, unless a child waits on it to start again. Pick it longer
/// than the longest delay the test wants to see through.
///
/// ```
/// use std::time::Duration;
/// use supervisor::testing::{Script, run_until_idle};
/// use supervisor::{ChildSpec, SupervisorSpec};
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() -> anyhow::Result<()> {
/// let ms = Duration::from_millis;
/// let db = Script::new().fails().times(3).stays_up();
/// let tree = SupervisorSpec::new("app")
///     .child(ChildSpec::worker("db", db.clone()).backoff(ms(10)..ms(100)))
///     .start()
///     .await?;
/// run_until_idle(&tree, ms(200), Duration::from_secs(10)).await?;
/// assert_eq!(db.runs(), 4);
/// tree.shutdown().await?;
/// # Ok(()) }
/// ```
pub async fn run_until_idle(tree: &SupervisorHandle, quiet: Duration, limit: Duration) -> Result<(), WaitError> {
    let deadline = Instant::now() + limit;
    let mut events = tree.subscribe();
    let mut last: Option<Event> = None;
    loop {
        let quiet_until = Instant::now() + quiet;
        match timeout_at(quiet_until.min(deadline), events.recv()).await {
            Ok(Ok(event)) => last = Some(event),
            Ok(Err(RecvError::Lagged(_))) => {}
            Ok(Err(RecvError::Closed)) => return Ok(()),
            Err(_) if Instant::now() < quiet_until => {
                let busy = last
                    .as_ref()
                    .map_or("it kept sending events".to_string(), |e| format!("the last event was {}", describe(e)));
                return Err(WaitError::NotIdle { limit, busy });
            }
            Err(_) => {
                let waiting = match tree.snapshot().await {
                    Ok(snapshot) => restarting(&snapshot),
                    // Ended meanwhile: nothing is left to happen.
                    Err(CommandError::NotRunning { .. }) => return Ok(()),
                    Err(_) => None,
                };
                // Something happened at the very moment the quiet time
                // ended (a timer due then): the snapshot may show a child
                // between two steps, so the tree is not idle yet.
                if let Some(Ok(event)) = events.try_recv() {
                    last = Some(event);
                    continue;
                }
                match waiting {
                    None => return Ok(()),
                    Some(path) if Instant::now() >= deadline => {
                        return Err(WaitError::NotIdle { limit, busy: format!("child `{path}` waits for a restart") });
                    }
                    Some(_) => {}
                }
            }
        }
    }
}

/// Moves the clock on until a child starts again, and returns its
/// `Started` event; in a tree that runs, every start is a restart (or a
/// `start_child`). Gives up after `limit`.
///
/// ```
/// use std::time::Duration;
/// use supervisor::testing::{Script, advance_to_next_restart};
/// use supervisor::{ChildSpec, SupervisorSpec};
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() -> anyhow::Result<()> {
/// let secs = Duration::from_secs;
/// let db = Script::new().fails_after(secs(1)).stays_up();
/// let tree = SupervisorSpec::new("app")
///     .child(ChildSpec::worker("db", db).backoff(secs(30)..secs(60)))
///     .start()
///     .await?;
/// let started = tokio::time::Instant::now();
/// let restart = advance_to_next_restart(&tree, secs(60)).await?;
/// assert_eq!((&*restart.path, restart.attempt), ("app/db", 2));
/// assert_eq!(restart.at - started, secs(31));
/// tree.shutdown().await?;
/// # Ok(()) }
/// ```
pub async fn advance_to_next_restart(tree: &SupervisorHandle, limit: Duration) -> Result<Event, WaitError> {
    let deadline = Instant::now() + limit;
    let mut events = tree.subscribe();
    let mut last = None;
    loop {
        match timeout_at(deadline, events.recv()).await {
            Ok(Ok(event)) if matches!(event.kind, EventKind::Started) => return Ok(event),
            Ok(Ok(event)) => last = Some(describe(&event)),
            Ok(Err(RecvError::Lagged(_))) => {}
            Ok(Err(RecvError::Closed)) | Err(_) => return Err(WaitError::NoRestart { limit, last }),
        }
    }
}

/// Where the child at `path` stands now, if it can be reached: `None`
/// while a supervisor on its path is not running.
async fn child_info(tree: &SupervisorHandle, path: &str) -> Result<Option<ChildInfo>, WaitError> {
    let not_in_tree = || WaitError::NotInTree { path: path.to_string(), tree: tree.path().to_string() };
    let rest = path.strip_prefix(tree.path()).and_then(|r| r.strip_prefix('/')).ok_or_else(not_in_tree)?;
    let mut ids: Vec<&str> = rest.split('/').collect();
    let Some(id) = ids.pop() else { return Err(not_in_tree()) };
    let mut handle = tree.clone();
    for nested in ids {
        match handle.nested(nested).await {
            Ok(next) => handle = next,
            Err(_) => return Ok(None),
        }
    }
    Ok(handle.which_children().await.ok().and_then(|children| children.into_iter().find(|c| c.id == id)))
}

/// Waits until the child at `path` (its full path: `app/http/router`) is
/// in `state`, and returns what `which_children` says of it then; gives up
/// after `limit`, saying where it stands. Wakes on each event of the tree,
/// never on a poll.
///
/// ```
/// use std::time::Duration;
/// use supervisor::testing::{Script, wait_for_state};
/// use supervisor::{ChildSpec, ChildState, SupervisorSpec};
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() -> anyhow::Result<()> {
/// let secs = Duration::from_secs;
/// let db = Script::new().fails_after(secs(1)).stays_up();
/// let tree = SupervisorSpec::new("app")
///     .child(ChildSpec::worker("db", db).backoff(secs(5)..secs(10)))
///     .start()
///     .await?;
/// wait_for_state(&tree, "app/db", ChildState::Restarting, secs(2)).await?;
/// let db = wait_for_state(&tree, "app/db", ChildState::Running, secs(10)).await?;
/// assert_eq!(db.attempt, 2);
/// tree.shutdown().await?;
/// # Ok(()) }
/// ```
pub async fn wait_for_state(
    tree: &SupervisorHandle,
    path: &str,
    state: ChildState,
    limit: Duration,
) -> Result<ChildInfo, WaitError> {
    let deadline = Instant::now() + limit;
    // Subscribed before the first look: a change in between is not missed.
    let mut events = tree.subscribe();
    let mut ended = false;
    loop {
        let info = child_info(tree, path).await?;
        if let Some(info) = info.as_ref().filter(|i| i.state == state) {
            return Ok(info.clone());
        }
        let out_of_time = ended
            || match timeout_at(deadline, events.recv()).await {
                Ok(Ok(_) | Err(RecvError::Lagged(_))) => false,
                Ok(Err(RecvError::Closed)) => {
                    // One more look: the last events may have settled it.
                    ended = true;
                    false
                }
                Err(_) => true,
            };
        if out_of_time {
            let now = match info {
                Some(info) => format!("it is {:?}", info.state),
                None if tree.is_finished() => "the tree has ended".to_string(),
                None => "it is not in the tree now".to_string(),
            };
            return Err(WaitError::NotReached { path: path.to_string(), want: state, limit, now });
        }
    }
}
