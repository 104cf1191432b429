//! Erlang/OTP-style supervision trees for tokio, declared inline and checked
//! by the compiler.
//!
//! Declare a tree with [`supervision_tree!`]; mistakes in ids, groups,
//! overrides, budgets and policies are compile errors on the offending
//! token. The macro expands to plain [`SupervisorSpec`] construction, which
//! [`SupervisorSpec::start`] runs on tokio with OTP's semantics: ordered
//! start, one_for_one / one_for_all / rest_for_one restarts, restart
//! intensity with escalation up the tree, and an orderly shutdown in reverse
//! order that leaves no task behind.
//!
//! ```
//! use supervisor::{supervision_tree, worker, Context};
//!
//! #[worker(restart = permanent, shutdown = 1s)]
//! #[derive(Clone)]
//! struct Ticker { every_ms: u64 }
//!
//! impl Ticker {
//!     async fn run(self, ctx: Context) -> anyhow::Result<()> {
//!         let every = std::time::Duration::from_millis(self.every_ms);
//!         loop {
//!             tokio::select! {
//!                 _ = ctx.cancelled() => return Ok(()),
//!                 _ = tokio::time::sleep(every) => {}
//!             }
//!         }
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> anyhow::Result<()> {
//! let spec = supervision_tree! {
//!     supervisor app(strategy = one_for_one, max_restarts = 3, within = 5s) {
//!         worker fast = Ticker { every_ms: 10 };
//!         worker slow(shutdown = 2s) = Ticker { every_ms: 1000 };
//!     }
//! };
//! let tree = spec.start().await?;
//! tree.shutdown().await?;
//! # Ok(()) }
//! ```
//!
//! Trees assembled at run time use the builder ([`SupervisorSpec`],
//! [`ChildSpec`]) and [`SupervisorSpec::validate`], which checks the same
//! rules with the same words.
#![deny(missing_docs)]
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used))]

mod error;
pub mod mailbox;
mod policy;
mod runtime;
mod spec;
mod worker;

pub use error::{AutoShutdownName, CommandError, ExitReason, SpecError, SpecErrors, StartError, SupervisorError};
pub use mailbox::{Address, Mailbox, mailbox};
pub use policy::{AutoShutdown, Backoff, Escalation, Policy, Restart, Shutdown, Strategy};
pub use runtime::{
    ChildInfo, ChildKindName, ChildSnapshot, ChildState, ChildrenCount, Event, EventKind, RecvError, Signal, Snapshot,
    Subscription, SupervisorHandle, TreeExit, start,
};
pub use spec::{ChildSpec, GroupSpec, SupervisorSpec};
pub use worker::{BoxError, Context, FnWorker, Worker, WorkerDefaults, WorkerResult};

/// Declares a supervision tree; see the crate's README for the grammar, every
/// option and the compile-time checks.
pub use supervisor_macros::supervision_tree;

/// Makes a struct a [`Worker`] that calls its inherent
/// `async fn run(self, ctx: Context)`, with checked per-type defaults.
pub use supervisor_macros::worker;

/// Re-exported for the `select!` loops workers write around
/// [`Context::cancelled`].
pub use tokio_util::sync::CancellationToken;

#[doc(hidden)]
pub mod __private {
    //! Items the macros' expansions use. Not public API.
    pub use std::time::Duration;

    /// Asserts at compile time that a `#[worker]` type is `Clone`.
    #[diagnostic::on_unimplemented(
        message = "`{Self}` must be `Clone` to be a worker",
        label = "each start of a worker runs a fresh clone of this value",
        note = "add `#[derive(Clone)]` to the struct"
    )]
    pub trait WorkerMustBeClone {}
    impl<T: Clone> WorkerMustBeClone for T {}

    /// Used by `#[worker]` to require `Clone` with a clear message.
    pub const fn assert_clone<T: WorkerMustBeClone + ?Sized>() {}
}
