//! Telling systemd how the tree is (feature `systemd`, with the `sd-notify`
//! crate): `READY=1` once the tree has started, `STATUS=` with a one-line
//! summary, `WATCHDOG=1` while the root supervisor answers, `STOPPING=1`
//! when it shuts down.
//!
//! Outside systemd (no `NOTIFY_SOCKET` in the environment) nothing is sent,
//! subscribed to or asked of the tree: [`watch`] only waits for its end.
//!
//! Use [`run_until_signal`] in place of
//! [`SupervisorHandle::run_until_signal`]; or await [`watch`] beside your own
//! loop. Neither spawns a task: the notifications are sent from the future
//! you await.
//!
//! ```no_run
//! use supervisor::{ChildSpec, Context, SupervisorSpec, TreeExit};
//!
//! #[tokio::main]
//! async fn main() -> TreeExit {
//!     let spec = SupervisorSpec::new("service")
//!         .child(ChildSpec::from_fn("idle", |ctx: Context| async move { ctx.cancelled().await }));
//!     match spec.start().await {
//!         // READY=1 now; WATCHDOG=1 and STATUS= while it runs; STOPPING=1 on SIGTERM.
//!         Ok(tree) => supervisor::systemd::run_until_signal(&tree).await,
//!         Err(e) => TreeExit::from(e),
//!     }
//! }
//! ```
//!
//! With `WatchdogSec=` in the unit, systemd sets `WATCHDOG_USEC`; the root
//! is pinged at half of it, and each ping is sent only if the root's loop
//! answers within that half. A root that hangs thus stops the pings, and
//! systemd restarts the service. Once `STOPPING=1` is sent the pings end:
//! systemd does not watch a service that is stopping (`TimeoutStopSec=`
//! bounds that instead).

use std::time::Duration;

use sd_notify::NotifyState;

use crate::error::SupervisorError;
use crate::inspect::words;
use crate::runtime::{ChildState, Event, EventKind, RecvError, Snapshot, SupervisorHandle, TreeExit};

/// How often the status line is refreshed (when something happened) while
/// no watchdog asks for more.
const STATUS_EVERY: Duration = Duration::from_secs(1);

/// Runs the tree as [`SupervisorHandle::run_until_signal`] does (until it
/// ends, or SIGTERM or Ctrl-C shuts it down) and tells systemd about it as
/// [`watch`] does. Call it once `start()` has returned.
pub async fn run_until_signal(tree: &SupervisorHandle) -> TreeExit {
    let (exit, _) = tokio::join!(tree.run_until_signal(), watch(tree));
    exit
}

/// Tells systemd about the tree until it ends, and returns how it ended (as
/// [`SupervisorHandle::wait`]): `READY=1` and a status at once (call it once
/// `start()` has returned), the status again after events, `WATCHDOG=1` at
/// half of `WATCHDOG_USEC` while the root answers, `STOPPING=1` when the
/// root begins to shut down (or, at the latest, when it has ended).
pub async fn watch(tree: &SupervisorHandle) -> Result<(), SupervisorError> {
    if std::env::var_os("NOTIFY_SOCKET").is_none() {
        return tree.wait().await;
    }
    let watchdog = sd_notify::watchdog_enabled().and_then(ping_period);
    let every = watchdog.unwrap_or(STATUS_EVERY);
    let mut events = tree.subscribe();
    let status = match tree.snapshot().await {
        Ok(snapshot) => summary(&snapshot),
        Err(e) => e.to_string(),
    };
    send(&[NotifyState::Ready, NotifyState::Status(&status)]);
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let (mut stopping, mut changed, mut closed) = (false, false, false);
    loop {
        tokio::select! {
            biased;
            // Events first: the root's ShutdownStarted is read before its end.
            event = events.recv(), if !closed => match event {
                Ok(event) if !stopping && is_root_stopping(&event, tree.path()) => {
                    stopping = true;
                    send(&[NotifyState::Stopping, NotifyState::Status(&format!("{}: stopping", one_line(tree.path())))]);
                }
                Ok(_) | Err(RecvError::Lagged(_)) => changed = true,
                Err(RecvError::Closed) => closed = true,
            },
            result = tree.wait() => {
                if !stopping {
                    send(&[NotifyState::Stopping]);
                }
                return result;
            }
            _ = tick.tick(), if !stopping => {
                if watchdog.is_some() && root_answers(tree, every).await {
                    send(&[NotifyState::Watchdog]);
                }
                if changed {
                    changed = false;
                    if let Ok(Ok(snapshot)) = tokio::time::timeout(every, tree.snapshot()).await {
                        send(&[NotifyState::Status(&summary(&snapshot))]);
                    }
                }
            }
        }
    }
}

fn send(states: &[NotifyState<'_>]) {
    if let Err(e) = sd_notify::notify(states) {
        tracing::debug!(error = %e, "systemd notification not sent");
    }
}

async fn root_answers(tree: &SupervisorHandle, within: Duration) -> bool {
    matches!(tokio::time::timeout(within, tree.ping()).await, Ok(Ok(())))
}

/// How often to ping a watchdog of `timeout`: at half of it, as
/// `sd_watchdog_enabled(3)` advises; none for a zero timeout.
fn ping_period(timeout: Duration) -> Option<Duration> {
    (!timeout.is_zero()).then(|| (timeout / 2).max(Duration::from_micros(1)))
}

/// Whether `event` is the root supervisor beginning its shutdown.
fn is_root_stopping(event: &Event, root: &str) -> bool {
    matches!(event.kind, EventKind::ShutdownStarted) && &*event.path == root
}

/// The tree in one line: `app: 5/6 running, 1 restarting, 7 restarts`.
fn summary(snapshot: &Snapshot) -> String {
    #[derive(Default)]
    struct Counts {
        all: usize,
        running: usize,
        restarting: usize,
        stopped: usize,
        quarantined: usize,
        restarts: u64,
    }
    fn count(snapshot: &Snapshot, c: &mut Counts) {
        for child in &snapshot.children {
            c.all += 1;
            c.restarts += u64::from(child.restarts);
            match child.state {
                ChildState::Running => c.running += 1,
                ChildState::Restarting => c.restarting += 1,
                ChildState::Stopped => c.stopped += 1,
                ChildState::Quarantined => c.quarantined += 1,
            }
            if let Some(nested) = &child.supervisor {
                count(nested, c);
            }
        }
    }
    let mut c = Counts::default();
    count(snapshot, &mut c);
    let mut line = format!("{}: {}/{} running", one_line(&snapshot.path), c.running, c.all);
    for (n, word) in [(c.restarting, "restarting"), (c.stopped, "stopped"), (c.quarantined, "quarantined")] {
        if n > 0 {
            line.push_str(&format!(", {n} {word}"));
        }
    }
    if c.restarts > 0 {
        line.push_str(&format!(", {}", words::restarts(c.restarts)));
    }
    line
}

/// A status is one line of the notification: ids may hold any character.
fn one_line(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::{ChildInfo, ChildKind};

    fn child(id: &str, state: ChildState, restarts: u32) -> ChildInfo {
        ChildInfo {
            id: id.into(),
            kind: ChildKind::Worker,
            state,
            restarts,
            attempt: restarts + 1,
            uptime: None,
            last_exit: None,
            dynamic: false,
            mailbox: None,
            supervisor: None,
        }
    }

    #[test]
    fn watchdog_is_pinged_at_half_its_timeout() {
        assert_eq!(ping_period(Duration::from_secs(10)), Some(Duration::from_secs(5)));
        assert_eq!(ping_period(Duration::from_micros(1)), Some(Duration::from_micros(1)));
        assert_eq!(ping_period(Duration::ZERO), None);
    }

    #[test]
    fn summary_counts_the_whole_tree_in_one_line() {
        let mut http = child("http", ChildState::Running, 0);
        http.kind = ChildKind::Supervisor;
        http.supervisor = Some(Snapshot {
            path: "app/http".into(),
            children: vec![child("router", ChildState::Restarting, 3), child("listener", ChildState::Running, 0)],
        });
        let snap = Snapshot {
            path: "app".into(),
            children: vec![child("db", ChildState::Running, 1), child("audit", ChildState::Stopped, 0), http],
        };
        assert_eq!(summary(&snap), "app: 3/5 running, 1 restarting, 1 stopped, 4 restarts");
    }

    #[test]
    fn summary_of_a_calm_tree_says_only_what_runs() {
        let snap = Snapshot { path: "app".into(), children: vec![child("db", ChildState::Running, 1)] };
        assert_eq!(summary(&snap), "app: 1/1 running, 1 restart");
        let snap = Snapshot { path: "a\nb".into(), children: vec![child("db", ChildState::Running, 0)] };
        assert_eq!(summary(&snap), "a b: 1/1 running");
    }

    #[test]
    fn only_the_roots_shutdown_means_stopping() {
        let event = |path: &str, kind| Event { at: tokio::time::Instant::now(), path: path.into(), attempt: 0, kind };
        assert!(is_root_stopping(&event("app", EventKind::ShutdownStarted), "app"));
        assert!(!is_root_stopping(&event("app/http", EventKind::ShutdownStarted), "app"));
        assert!(!is_root_stopping(&event("app", EventKind::ShutdownCompleted), "app"));
    }
}
