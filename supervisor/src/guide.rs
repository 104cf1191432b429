//! The guide: the reference of the DSL, the semantics of the runtime, and
//! how to make workers talk, and to observe, test and operate a tree. A
//! chapter a module; each is documentation only.
//!
//! - [`dsl`]: `supervision_tree!` and `#[worker]`: grammar, options,
//!   defaults, compile-time checks.
//! - [`workers`]: workers, their `Context`, state across restarts.
//! - [`semantics`]: what the runtime does, and the handle's commands.
//! - [`mailboxes`]: workers that talk across restarts.
//! - [`observability`]: events, snapshots, tracing, metrics, services.
//! - [`reading_a_spec`]: a spec's diagram and restart-storm bound.
//! - [`testing`]: the test kit for your own trees.
//! - [`operating`]: the admin endpoint, dashboard, probes and systemd.

#[doc = include_str!("guide/dsl.md")]
pub mod dsl {}

#[doc = include_str!("guide/workers.md")]
pub mod workers {}

#[doc = include_str!("guide/mailboxes.md")]
pub mod mailboxes {}

#[doc = include_str!("guide/semantics.md")]
pub mod semantics {}

#[doc = include_str!("guide/observability.md")]
pub mod observability {}

#[doc = include_str!("guide/reading_a_spec.md")]
pub mod reading_a_spec {}

#[doc = include_str!("guide/testing.md")]
pub mod testing {}

#[doc = include_str!("guide/operating.md")]
pub mod operating {}
