//! A test kit for your own trees (feature `testing`): scripted workers,
//! an event recorder with assertions over sequences, helpers for tokio's
//! paused clock, and fault injection into a real tree by child path and run
//! number.
//!
//! Turn it on for tests only:
//!
//! ```toml
//! [dev-dependencies]
//! supervisor = { version = "0.1", features = ["testing"] }
//! tokio = { version = "1", features = ["macros", "rt", "test-util"] }
//! ```
//!
//! A test of a whole tree, on the paused clock: the db crashes three times
//! and comes back, the pipeline gives up and is started again, the root
//! stays up. It runs through half a second of the tree's time in a few
//! milliseconds.
//!
//! ```
//! use std::time::Duration;
//! use supervisor::testing::{Exit, Recorder, Script, escalated, exited, run_until_idle, started};
//! use supervisor::{ChildState, supervision_tree};
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() -> anyhow::Result<()> {
//! let ms = Duration::from_millis;
//! let db = Script::new().fails_after(ms(1)).times(3).stays_up();
//! let ingest = Script::new().fails_after(ms(1)).times(3).stays_up();
//! let spec = supervision_tree! {
//!     supervisor app(max_restarts = 10, within = 1s) {
//!         worker db(backoff = 10ms..100ms) = db.clone();
//!         supervisor pipeline(max_restarts = 2, within = 1s) {
//!             worker ingest = ingest.clone();
//!             worker parse = Script::new();
//!         }
//!     }
//! };
//! let tree = spec.start().await?;
//! let mut events = Recorder::new(&tree);
//! run_until_idle(&tree, ms(200), Duration::from_secs(10)).await?;
//!
//! assert_eq!(db.runs(), 4);
//! events.assert_in_order(&[
//!     exited("app/pipeline/ingest", Exit::Failure).attempt(3),
//!     escalated("app/pipeline"),
//!     exited("app/pipeline", Exit::Supervisor),
//!     started("app/pipeline"),
//! ]);
//! let db = tree.which_children().await?.into_iter().find(|c| c.id == "db").unwrap();
//! assert_eq!((db.state, db.restarts), (ChildState::Running, 3));
//! assert!(!tree.is_finished(), "the root stays up");
//! tree.shutdown().await?;
//! # Ok(()) }
//! ```
//!
//! - [`Script`]: a worker that does, run after run, what it is told.
//! - [`Recorder`]: the tree's events, checked against [`started`],
//!   [`exited`], [`restart_scheduled`], [`escalated`] ... in order with
//!   gaps allowed, or exactly; a failure prints expected against seen.
//! - [`run_until_idle`], [`advance_to_next_restart`], [`wait_for_state`]:
//!   waits with a bound instead of sleeps.
//! - [`FaultPlan`] and [`start_with_faults`]: errors, panics, hangs, failed
//!   starts, start timeouts and silent heartbeats, injected into the runs
//!   of your real workers, by path and run number.

mod clock;
mod expect;
mod faults;
mod recorder;
mod script;

pub use clock::{WaitError, advance_to_next_restart, run_until_idle, wait_for_state};
pub use expect::{
    Exit, Expect, auto_shutdown, budget_exceeded, dead_letter, escalated, exited, heartbeat_missed, quarantined,
    redelivered, restart_scheduled, restart_scheduled_between, shutdown_completed, shutdown_started, start_failed,
    started,
};
pub(crate) use faults::RunSwitches;
pub use faults::{Fault, FaultPlan, FaultPlanError, FaultStartError, start_with_faults};
pub use recorder::{Mismatch, Recorder};
pub use script::Script;
