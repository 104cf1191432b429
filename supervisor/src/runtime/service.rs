//! Running a tree as a service: shut down on SIGTERM or Ctrl-C (feature
//! `signal`, on by default), and turn the way the tree ended into the
//! process's exit code.

use std::process::{ExitCode, Termination};

#[cfg(feature = "signal")]
use super::handle::SupervisorHandle;
use crate::error::SupervisorError;

/// The signal that asked a tree to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Signal {
    /// Ctrl-C (SIGINT).
    Interrupt,
    /// SIGTERM, as sent by systemd, Kubernetes or `kill`.
    Terminate,
}

/// How a tree run as a service ended: the signal that stopped it, if any,
/// and its result. `main` can return it: the process then exits 0 after a
/// requested shutdown and 1 after an escalation at the root, so that
/// systemd or Kubernetes restart it.
///
/// ```no_run
/// use supervisor::{ChildSpec, Context, SupervisorSpec, TreeExit};
///
/// #[tokio::main]
/// async fn main() -> TreeExit {
///     SupervisorSpec::new("service")
///         .child(ChildSpec::from_fn("idle", |ctx: Context| async move { ctx.cancelled().await }))
///         .run_until_signal()
///         .await
/// }
/// ```
///
/// A failed start converts too (`TreeExit::from(error)`), for a `main` that
/// does more between the start and the wait.
#[derive(Debug)]
#[must_use = "a TreeExit says how the tree ended; return it from main or check exit_code()"]
pub struct TreeExit {
    /// The signal that asked the tree to stop, if one did.
    pub signal: Option<Signal>,
    /// `Ok` after a requested shutdown or an auto_shutdown, the error after
    /// an escalation or a `shutdown_tree`.
    pub result: Result<(), SupervisorError>,
}

impl TreeExit {
    /// 0 when the tree ended as asked, 1 when it ended with an error.
    pub fn exit_code(&self) -> ExitCode {
        if self.result.is_ok() { ExitCode::SUCCESS } else { ExitCode::FAILURE }
    }
}

/// A tree that could not start: exit code 1.
impl From<crate::StartError> for TreeExit {
    fn from(error: crate::StartError) -> Self {
        TreeExit { signal: None, result: Err(SupervisorError::Start(error)) }
    }
}

impl From<Result<(), SupervisorError>> for TreeExit {
    fn from(result: Result<(), SupervisorError>) -> Self {
        TreeExit { signal: None, result }
    }
}

impl From<TreeExit> for ExitCode {
    fn from(exit: TreeExit) -> Self {
        exit.exit_code()
    }
}

impl Termination for TreeExit {
    fn report(self) -> ExitCode {
        if let Err(error) = &self.result {
            eprintln!("error: {error}");
        }
        self.exit_code()
    }
}

#[cfg(feature = "signal")]
impl crate::SupervisorSpec {
    /// Starts the tree and runs it as [`SupervisorHandle::run_until_signal`]
    /// does: the whole of a service's `main` (see [`TreeExit`]). A tree
    /// that cannot start ends at once, with exit code 1.
    pub async fn run_until_signal(self) -> TreeExit {
        match self.start().await {
            Ok(tree) => tree.run_until_signal().await,
            Err(error) => TreeExit::from(error),
        }
    }
}

#[cfg(feature = "signal")]
impl SupervisorHandle {
    /// Runs until the tree ends by itself or the process gets SIGTERM or
    /// Ctrl-C; on a signal, shuts the tree down gracefully and waits for
    /// every task. Returns how it ended.
    pub async fn run_until_signal(&self) -> TreeExit {
        tokio::select! {
            result = self.wait() => TreeExit { signal: None, result },
            signal = shutdown_signal() => {
                tracing::info!(?signal, "signal received: shutting the tree down");
                TreeExit { signal: Some(signal), result: self.shutdown().await }
            }
        }
    }
}

/// Resolves on the first SIGTERM or Ctrl-C. Where a handler cannot be
/// installed, that signal is simply not listened to.
#[cfg(feature = "signal")]
async fn shutdown_signal() -> Signal {
    let interrupt = async {
        match tokio::signal::ctrl_c().await {
            Ok(()) => Signal::Interrupt,
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
                Signal::Terminate
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<Signal>();
    tokio::select! {
        s = interrupt => s,
        s = terminate => s,
    }
}
