//! [`AdminServer`]: a worker that serves the admin router by itself, so that
//! the endpoint is a child of the tree it shows.

use std::net::{Ipv4Addr, SocketAddr};
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::{AdminConfig, routes};
use crate::worker::{Context, Worker, WorkerDefaults, WorkerResult};
use crate::{Backoff, Restart, Shutdown};

/// Connections served at once; further ones wait in the listen backlog.
const MAX_CONNECTIONS: usize = 256;
/// A client has this long to send a request's head.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// At shutdown, open connections get this long to finish their request.
const DRAIN: Duration = Duration::from_secs(1);

/// A worker that serves the admin endpoint on its own listener, binding
/// `127.0.0.1` unless told otherwise.
///
/// Put it in the tree like any worker: it serves the tree it runs in,
/// reaching the root through its run's [`Context::root`], which does not
/// keep the tree alive (dropping the last handle the application holds
/// still shuts the tree down). It binds before it counts as started (a
/// start timeout of 5 s by default), so an address in use fails the tree's
/// start with that error; it is permanent and backs off from 100 ms to 5 s.
///
/// Every connection is a task the worker owns: at shutdown it stops
/// accepting, ends the `/events` streams, lets open requests finish for up
/// to a second, then aborts and awaits what is left.
///
/// ```no_run
/// use supervisor::admin::{AdminConfig, AdminServer};
/// use supervisor::{ChildSpec, Context, SupervisorSpec};
///
/// # async fn demo() -> anyhow::Result<()> {
/// let admin = AdminServer::new(AdminConfig::new().full_token(std::env::var("ADMIN_TOKEN")?)).port(9090);
/// let tree = SupervisorSpec::new("app")
///     .child(ChildSpec::from_fn("idle", |ctx: Context| async move { ctx.cancelled().await }))
///     .child(ChildSpec::worker("admin", admin.clone()))
///     .start()
///     .await?;
/// println!("dashboard on http://{}/", admin.local_addr().expect("bound before start() returned"));
/// tree.run_until_signal().await;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct AdminServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

struct Shared {
    config: AdminConfig,
    bound: watch::Sender<Option<SocketAddr>>,
}

impl std::fmt::Debug for AdminServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminServer").field("addr", &self.addr).field("bound", &self.local_addr()).finish()
    }
}

impl AdminServer {
    /// A server of `config` on `127.0.0.1`, on a port the system picks
    /// ([`local_addr`](Self::local_addr) tells which) unless
    /// [`port`](Self::port) or [`addr`](Self::addr) says otherwise.
    pub fn new(config: AdminConfig) -> Self {
        AdminServer {
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            shared: Arc::new(Shared { config, bound: watch::channel(None).0 }),
        }
    }

    /// Listens on this port of `127.0.0.1`.
    pub fn port(mut self, port: u16) -> Self {
        self.addr.set_port(port);
        self
    }

    /// Listens on this address: `0.0.0.0:9090` to be reached from other
    /// hosts (a Kubernetes probe, say). Keep the tokens secret then, and put
    /// TLS in front (a proxy or the mesh).
    pub fn addr(mut self, addr: SocketAddr) -> Self {
        self.addr = addr;
        self
    }

    /// Where the current run listens, once it has bound. On port 0 a run
    /// after a restart may get another port: read it again.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        *self.shared.bound.borrow()
    }
}

impl Worker for AdminServer {
    const DEFAULTS: WorkerDefaults = WorkerDefaults {
        restart: Some(Restart::Permanent),
        shutdown: Some(Shutdown::Timeout(Duration::from_secs(2))),
        backoff: Some(Backoff::Exponential { min: Duration::from_millis(100), max: Duration::from_secs(5) }),
        heartbeat: None,
        start_timeout: Some(Duration::from_secs(5)),
    };

    async fn run(self, ctx: Context) -> impl WorkerResult {
        let listener = TcpListener::bind(self.addr).await.map_err(|e| {
            std::io::Error::new(e.kind(), format!("cannot listen on {} for the admin endpoint: {e}", self.addr))
        })?;
        let local = listener.local_addr()?;
        self.shared.bound.send_replace(Some(local));
        ctx.ready();
        tracing::info!(addr = %local, "admin endpoint listening");
        let stop = ctx.token().child_token();
        let config = self.shared.config.clone().end_streams_on(stop.clone());
        let app = routes::build(ctx.root(), config);
        serve(listener, app, &ctx).await;
        self.shared.bound.send_replace(None);
        Ok::<(), std::io::Error>(())
    }
}

/// Accepts and serves connections until `ctx` is cancelled, each in a task
/// of a set this function owns.
async fn serve(listener: TcpListener, app: axum::Router, ctx: &Context) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            biased;
            _ = ctx.cancelled() => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept(), if connections.len() < MAX_CONNECTIONS => match accepted {
                Ok((io, _)) => {
                    let service = TowerToHyperService::new(app.clone());
                    let stop = ctx.token().clone();
                    connections.spawn(async move {
                        let mut http = hyper::server::conn::http1::Builder::new();
                        http.timer(TokioTimer::new()).header_read_timeout(HEADER_TIMEOUT);
                        let mut conn = pin!(http.serve_connection(TokioIo::new(io), service));
                        tokio::select! {
                            _ = conn.as_mut() => {}
                            _ = stop.cancelled() => {
                                conn.as_mut().graceful_shutdown();
                                let _ = conn.await;
                            }
                        }
                    });
                }
                // Out of file descriptors, say: wait a little rather than spin.
                Err(e) => {
                    tracing::warn!(error = %e, "admin endpoint: accept failed");
                    tokio::select! {
                        _ = ctx.cancelled() => break,
                        _ = tokio::time::sleep(Duration::from_millis(50)) => {}
                    }
                }
            },
        }
    }
    drop(listener);
    let drained = tokio::time::timeout(DRAIN, async { while connections.join_next().await.is_some() {} }).await;
    if drained.is_err() {
        connections.shutdown().await;
    }
}
