//! The admin endpoint (feature `admin`): see and steer a running tree over
//! HTTP, and tell Kubernetes how it is.
//!
//! [`router`] gives an axum [`Router`](axum::Router) to mount in a server of
//! your own; [`AdminServer`] is a worker that serves the same router by
//! itself, so that the endpoint can be a child of the tree it shows.
//!
//! | endpoint | token | what it does |
//! | --- | --- | --- |
//! | `GET /` | none | the live dashboard page (static: it holds no data, and asks for the token) |
//! | `GET /tree` | read | the [`Snapshot`](crate::Snapshot) as JSON |
//! | `GET /events` | read | the tree's [`Event`](crate::Event)s as Server-Sent Events |
//! | `POST /children/{path}/restart` | full | [`restart_child`](crate::SupervisorHandle::restart_child) |
//! | `POST /children/{path}/terminate` | full | [`terminate_child`](crate::SupervisorHandle::terminate_child) |
//! | `DELETE /children/{path}` | full | [`delete_child`](crate::SupervisorHandle::delete_child) |
//! | `GET /livez` | none | 200 while the root supervisor answers within the probe deadline |
//! | `GET /readyz` | none | 200 while the tree is ready, by [`Readiness`] |
//!
//! A `{path}` is a child's path as snapshots and events name it, root
//! first (`app/http/router`), each id percent-encoded.
//!
//! Tokens go in an `Authorization: Bearer TOKEN` header and are compared in
//! constant time. A request without a token, or with a token that matches
//! none, gets 401; a read-only token on a command gets 403. Every response
//! to an accepted token carries `x-supervisor-access: read` or `full`, which
//! the dashboard uses to show its command buttons. Command errors are JSON
//! (`{"error": "...", "code": "unknown_child"}`) with 404 for a path that
//! names no child and 409 where the command does not apply (a running
//! child to restart or delete, a supervisor that is not running).
//!
//! `/events` sends the snapshot first (`event: tree`), then one message per
//! event (its JSON as `data`). Each client reads the tree's bounded event
//! ring at its own pace: one that falls behind loses the oldest events and
//! is told how many (`event: lagged`, `{"missed": N}`); it never slows a
//! supervisor down. `event: ended` closes the stream once the tree has
//! ended.
//!
//! ```no_run
//! use supervisor::admin::{self, AdminConfig};
//! use supervisor::{ChildSpec, Context, SupervisorSpec};
//!
//! # async fn demo() -> anyhow::Result<()> {
//! let tree = SupervisorSpec::new("app")
//!     .child(ChildSpec::from_fn("idle", |ctx: Context| async move { ctx.cancelled().await }))
//!     .start()
//!     .await?;
//! let config = AdminConfig::new()
//!     .full_token(std::env::var("ADMIN_TOKEN")?)
//!     .read_token(std::env::var("ADMIN_READ_TOKEN")?);
//! // Mounted under /admin in the application's own axum server.
//! let app = axum::Router::new().nest("/admin", admin::router(tree.clone(), config));
//! # let _ = app;
//! # Ok(()) }
//! ```

mod auth;
mod events;
mod probes;
mod routes;
mod server;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

pub use probes::{Readiness, ReadinessRule};
pub use server::AdminServer;

use crate::runtime::SupervisorHandle;
use auth::Tokens;

/// What the admin endpoint allows and how it answers: tokens, readiness,
/// deadlines and limits.
///
/// ```
/// use std::time::Duration;
/// use supervisor::admin::{AdminConfig, Readiness};
///
/// let config = AdminConfig::new()
///     .full_token("a-long-random-secret")
///     .read_token("another-long-random-secret")
///     .readiness(Readiness::Children(vec!["app/db".into()]))
///     .probe_deadline(Duration::from_millis(300));
/// # let _ = config;
/// ```
#[derive(Clone)]
pub struct AdminConfig {
    tokens: Tokens,
    readiness: Readiness,
    probe_deadline: Duration,
    max_body_bytes: usize,
    max_event_streams: usize,
    streams_end: CancellationToken,
}

impl Default for AdminConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl AdminConfig {
    /// No token (only the probes and the page answer), readiness when every
    /// declared child runs, a probe deadline of 500 ms, request bodies of at
    /// most 4 KiB, at most 128 event streams at once.
    pub fn new() -> Self {
        AdminConfig {
            tokens: Tokens::default(),
            readiness: Readiness::AllDeclared,
            probe_deadline: Duration::from_millis(500),
            max_body_bytes: 4096,
            max_event_streams: 128,
            streams_end: CancellationToken::new(),
        }
    }

    /// Adds a token that may read (`/tree`, `/events`) but not command.
    /// An empty token is ignored (it would match an empty header).
    pub fn read_token(mut self, token: impl Into<String>) -> Self {
        self.tokens.add(auth::Access::Read, token.into());
        self
    }

    /// Adds a token that may read and command (restart, terminate, delete).
    /// An empty token is ignored (it would match an empty header).
    pub fn full_token(mut self, token: impl Into<String>) -> Self {
        self.tokens.add(auth::Access::Full, token.into());
        self
    }

    /// When `/readyz` says ready; [`Readiness::AllDeclared`] by default.
    pub fn readiness(mut self, readiness: Readiness) -> Self {
        self.readiness = readiness;
        self
    }

    /// How long `/livez` and `/readyz` wait for the tree to answer before
    /// they report a failure (503). Keep it below the probe's
    /// `timeoutSeconds`, so that the body says why.
    pub fn probe_deadline(mut self, deadline: Duration) -> Self {
        self.probe_deadline = deadline;
        self
    }

    /// The largest request body accepted (413 beyond it). No endpoint reads
    /// a body, so the default of 4 KiB is generous.
    pub fn max_body_bytes(mut self, bytes: usize) -> Self {
        self.max_body_bytes = bytes;
        self
    }

    /// How many `/events` streams may be open at once (503 beyond it).
    pub fn max_event_streams(mut self, streams: usize) -> Self {
        self.max_event_streams = streams;
        self
    }

    /// Ends every open `/events` stream when `token` is cancelled, so that a
    /// server's graceful shutdown does not wait on them. Streams also end
    /// by themselves when the tree ends. [`AdminServer`] sets this itself.
    pub fn end_streams_on(mut self, token: CancellationToken) -> Self {
        self.streams_end = token;
        self
    }
}

impl fmt::Debug for AdminConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AdminConfig")
            .field("tokens", &self.tokens)
            .field("readiness", &self.readiness)
            .field("probe_deadline", &self.probe_deadline)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("max_event_streams", &self.max_event_streams)
            .finish_non_exhaustive()
    }
}

/// The router of the admin endpoint for `tree` (usually the root's handle:
/// paths are resolved from it), to mount in an axum server.
///
/// The router holds a clone of the handle, so the tree lives at least as
/// long as the router.
pub fn router(tree: SupervisorHandle, config: AdminConfig) -> axum::Router {
    routes::build(tree, config)
}

/// What every handler of one router shares.
#[derive(Clone)]
struct Admin {
    /// The tree it serves.
    tree: SupervisorHandle,
    config: Arc<AdminConfig>,
    streams: Arc<tokio::sync::Semaphore>,
}
