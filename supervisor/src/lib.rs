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
//!
//! # The guide
//!
//! The [`guide`] is the reference, a chapter a module:
//! - [`guide::dsl`]: the tree macro and `#[worker]`: grammar, every option
//!   with its default, the compile-time checks;
//! - [`guide::workers`]: workers, their [`Context`], state across restarts;
//! - [`guide::semantics`]: what the runtime does, and the handle's commands;
//! - [`guide::mailboxes`]: workers that talk across restarts
//!   ([`mailbox()`]);
//! - [`guide::observability`]: events, snapshots, tracing, metrics,
//!   services;
//! - [`guide::reading_a_spec`]: a spec's diagram and restart-storm bound;
//! - [`guide::testing`]: the test kit for your own trees;
//! - [`guide::operating`]: the admin endpoint, dashboard, probes, systemd.
//!
//! # Features
//!
//! | feature | what it adds |
//! | --- | --- |
//! | `signal` (default) | `run_until_signal`: shut down on SIGTERM or Ctrl-C |
//! | `serde` | `Serialize` for snapshots, events and errors |
//! | `metrics` | counters and gauges through the `metrics` facade |
//! | `testing` | [`testing`]: scripted workers, event assertions, paused-clock helpers, fault injection |
//! | `admin` | [`admin`]: an axum router with the tree, its events, commands, probes and a live dashboard |
//! | `systemd` | [`systemd`]: READY, STATUS, WATCHDOG and STOPPING notifications |
#![deny(missing_docs)]
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used))]

#[cfg(feature = "admin")]
pub mod admin;
mod error;
pub mod guide;
mod inspect;
pub mod mailbox;
mod policy;
mod runtime;
mod spec;
#[cfg(feature = "systemd")]
pub mod systemd;
#[cfg(feature = "testing")]
pub mod testing;
mod worker;

pub use error::{CommandError, ExitReason, SpecError, SpecErrors, StartError, SupervisorError};
pub use inspect::{RestartBound, RestartBoundExceeded};
pub use mailbox::{Address, Mailbox, mailbox};
pub use policy::{AutoShutdown, Backoff, Escalation, Policy, Restart, Shutdown, Strategy};
pub use runtime::{
    ChildInfo, ChildKind, ChildState, ChildrenCount, Event, EventKind, RecvError, Signal, Snapshot, Subscription,
    SupervisorHandle, TreeExit,
};
pub use spec::{ChildOptions, ChildSpec, GroupSpec, SupervisorSpec};
pub use worker::{BoxError, Context, FnWorker, Worker, WorkerDefaults, WorkerResult};

#[doc(inline)]
pub use supervisor_macros::supervision_tree;

#[doc(inline)]
pub use supervisor_macros::worker;

/// Re-exported for the `select!` loops workers write around
/// [`Context::cancelled`].
pub use tokio_util::sync::CancellationToken;

#[doc(hidden)]
pub mod __private {
    //! Items the macros' expansions use. Not public API.
    //!
    //! The diagnostics live here rather than in the expansions: a
    //! `#[diagnostic::...]` attribute does not resolve in a module with
    //! `#![no_implicit_prelude]`, and an expansion must compile there.
    pub use std::time::Duration;

    use std::future::Future;

    use crate::{Context, SupervisorSpec};

    /// What `supervision_tree!` hands to [`build_the_tree_in_a_function`]:
    /// the builder calls of the tree, run once.
    pub trait BuildTree {
        /// Runs the builder calls.
        fn build(&mut self) -> SupervisorSpec;
    }

    impl<F: FnOnce() -> SupervisorSpec> BuildTree for Option<F> {
        fn build(&mut self) -> SupervisorSpec {
            match self.take() {
                Some(build) => build(),
                // The expansion calls `build` once, on a `Some`.
                None => SupervisorSpec::new(""),
            }
        }
    }

    /// Builds the spec of a `supervision_tree!`. It is not `const` (a spec
    /// holds boxed workers): in a `const` or `static` this call is the one
    /// error of the macro, and its name says what to do instead.
    pub fn build_the_tree_in_a_function(tree: &mut dyn BuildTree) -> SupervisorSpec {
        tree.build()
    }

    /// Asserts at compile time that a `#[worker]` type is `Clone`.
    #[diagnostic::on_unimplemented(
        message = "`{Self}` must be `Clone` to be a worker",
        label = "each start of a worker runs a fresh clone of this value",
        note = "add `#[derive(Clone)]` to the struct"
    )]
    pub trait WorkerMustBeClone {}
    impl<T: Clone> WorkerMustBeClone for T {}

    /// Used by `#[worker]` to require `Clone` and `Send` of a struct without
    /// generics, each with one clear error.
    pub const fn assert_worker<T: WorkerMustBeClone + Send + ?Sized>() {}

    /// What `#[worker]` calls when the struct has no inherent `run` (in
    /// scope through `use ... as _` in the expansion). Its bound is the error
    /// that says what to add; without it, `<T>::run` would find
    /// `Worker::run` itself and recurse.
    pub mod fallback {
        use std::future::{Ready, ready};

        use crate::Context;

        /// A struct without generics has no inherent `run`.
        #[diagnostic::on_unimplemented(
            message = "`{Self}` has no inherent `run` method for `#[worker]` to call",
            label = "#[worker] calls `{Self}::run(self, ctx)`",
            note = "add `impl {Self} {{ async fn run(self, ctx: supervisor::Context) {{ ... }} }}`; it may return `()` or `Result<(), E>`"
        )]
        pub trait NeedsAnInherentRun {}

        /// The `run` found when the struct has none.
        pub trait Plain: Sized {
            /// Never called: its bound fails to compile.
            fn run(self, _: Context) -> Ready<()>
            where
                Self: NeedsAnInherentRun,
            {
                ready(())
            }
        }
        impl<T> Plain for T {}

        /// A generic struct has no inherent `run` that holds for every
        /// parameter the struct allows.
        #[diagnostic::on_unimplemented(
            message = "`{Self}` has no inherent `run` method for `#[worker]` to call with the struct's own bounds",
            label = "#[worker] calls `{Self}::run(self, ctx)` wherever the struct's bounds hold",
            note = "add `impl<..> {Self} {{ async fn run(self, ctx: supervisor::Context) {{ ... }} }}` with no more bounds than the struct declares; if `run` needs a bound, declare it on the struct too"
        )]
        pub trait GenericNeedsAnInherentRun {}

        /// The `run` found when the generic struct has none for every
        /// parameter.
        pub trait Generic: Sized {
            /// Never called: its bound fails to compile.
            fn run(self, _: Context) -> Ready<()>
            where
                Self: GenericNeedsAnInherentRun,
            {
                ready(())
            }
        }
        impl<T> Generic for T {}
    }

    /// `#[worker]`'s first check of the struct's `run`: it takes the value
    /// and the context.
    #[diagnostic::on_unimplemented(
        message = "`{W}::run` must take `self` and the worker's `Context` for `#[worker]` to call it",
        label = "#[worker] calls `{W}::run(self, ctx)`",
        note = "write it `async fn run(self, ctx: supervisor::Context) -> R`, where `R` is `()` or `Result<(), E>`"
    )]
    pub trait RunTakesSelfAndContext<W> {
        /// What `run` returns.
        type Output;
        /// Calls `run`.
        fn call(self, worker: W, ctx: Context) -> Self::Output;
    }

    #[diagnostic::do_not_recommend]
    impl<W, F, R> RunTakesSelfAndContext<W> for F
    where
        F: FnOnce(W, Context) -> R,
    {
        type Output = R;
        fn call(self, worker: W, ctx: Context) -> R {
            self(worker, ctx)
        }
    }

    /// Calls the struct's `run` through [`RunTakesSelfAndContext`].
    pub fn run_takes_self_and_context<W, F: RunTakesSelfAndContext<W>>(run: F, worker: W, ctx: Context) -> F::Output {
        run.call(worker, ctx)
    }

    /// `#[worker]`'s second check of the struct's `run`: it returns a
    /// future (it is `async`).
    #[diagnostic::on_unimplemented(
        message = "`{W}::run` is not async: it returns `{Self}`, and `#[worker]` awaits what it returns",
        label = "#[worker] awaits `{W}::run(self, ctx)`",
        note = "write it `async fn run(self, ctx: supervisor::Context) -> R`, where `R` is `()` or `Result<(), E>`"
    )]
    pub trait RunIsAsync<W> {
        /// The future.
        type Future: Future;
        /// The future itself.
        fn into_future(self) -> Self::Future;
    }

    #[diagnostic::do_not_recommend]
    impl<W, R: Future> RunIsAsync<W> for R {
        type Future = R;
        fn into_future(self) -> R {
            self
        }
    }

    /// Passes what `run` returned through [`RunIsAsync`].
    pub fn run_is_async<W, R: RunIsAsync<W>>(run: R) -> R::Future {
        run.into_future()
    }
}
