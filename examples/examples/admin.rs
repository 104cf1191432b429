//! The admin endpoint and its live dashboard on 127.0.0.1, serving a tree
//! with a child that fails now and then. Prints the dashboard's URL (the
//! token rides in the URL's `#fragment`, which the browser never sends).
//!
//! Stops by itself after 5 s, or `-- --seconds N`; on SIGTERM or Ctrl-C
//! before that. `-- --port N` picks the port (default: any free one); the
//! tokens are random unless `ADMIN_TOKEN` and `ADMIN_READ_TOKEN` are set.
//! On Unix, SIGUSR1 makes the `flaky` worker fail at once.

use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use supervisor::admin::{AdminConfig, AdminServer, Readiness};
use supervisor::{Context, TreeExit, supervision_tree, worker};

/// A service that runs until it is stopped, beating its heartbeat.
#[worker(shutdown = 1s)]
#[derive(Clone)]
struct Service;

impl Service {
    async fn run(self, ctx: Context) {
        ctx.ready();
        loop {
            tokio::select! {
                _ = ctx.cancelled() => return,
                _ = tokio::time::sleep(Duration::from_millis(200)) => ctx.heartbeat(),
            }
        }
    }
}

/// Fails every second or few, with varied errors; at once when poked.
#[worker(backoff = 200ms..2s)]
#[derive(Clone)]
struct Flaky {
    /// A poke that comes while it backs off waits for its next run.
    poke: Arc<Notify>,
}

impl Flaky {
    async fn run(self, ctx: Context) -> anyhow::Result<()> {
        const ERRORS: [&str; 4] =
            ["upstream timed out after 3s", "connection reset by peer", "invalid frame header", "lease lost"];
        let n = u64::from(ctx.attempt());
        // A spread of run lengths without a random number generator.
        let lifetime = Duration::from_millis(1200 + (n * 7919) % 2600);
        tokio::select! {
            _ = ctx.cancelled() => Ok(()),
            _ = tokio::time::sleep(lifetime) => Err(anyhow::anyhow!(ERRORS[(n % 4) as usize])),
            _ = self.poke.notified() => Err(anyhow::anyhow!("poked by SIGUSR1")),
        }
    }
}

/// SIGUSR1, listened to for the whole run so that none is lost.
#[cfg(unix)]
type Pokes = Option<tokio::signal::unix::Signal>;
#[cfg(not(unix))]
type Pokes = ();

fn pokes() -> Pokes {
    #[cfg(unix)]
    return tokio::signal::unix::signal(tokio::signal::unix::SignalKind::user_defined1()).ok();
}

async fn next_poke(pokes: &mut Pokes) {
    #[cfg(unix)]
    if let Some(usr1) = pokes {
        usr1.recv().await;
        return;
    }
    let _ = pokes;
    std::future::pending().await
}

/// A token of 128 random bits, as hex.
fn random_token() -> std::io::Result<String> {
    let mut bytes = [0u8; 16];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

fn arg(name: &str) -> Option<u64> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)?.parse().ok())
}

#[tokio::main]
async fn main() -> anyhow::Result<TreeExit> {
    let seconds = arg("--seconds").unwrap_or(5);
    let port = u16::try_from(arg("--port").unwrap_or(0))?;
    let full = std::env::var("ADMIN_TOKEN").or_else(|_| random_token())?;
    let read = std::env::var("ADMIN_READ_TOKEN").or_else(|_| random_token())?;
    let config = AdminConfig::new()
        .full_token(&full)
        .read_token(&read)
        // Flaky is down now and then by design: ready means the rest runs.
        .readiness(Readiness::Children(vec!["demo/api".into(), "demo/jobs/queue".into()]));
    let admin = AdminServer::new(config).port(port);
    let poke = Arc::new(Notify::new());
    let mut pokes = pokes();

    let spec = supervision_tree! {
        supervisor demo(strategy = one_for_one, max_restarts = 30, within = 10s) {
            worker api(heartbeat = 1s) = Service;
            worker flaky = Flaky { poke: poke.clone() };
            supervisor jobs(strategy = rest_for_one) {
                worker queue = Service;
                worker scheduler = Service;
            }
            worker admin = admin.clone();
        }
    };
    let tree = match spec.start().await {
        Ok(tree) => tree,
        Err(e) => return Ok(TreeExit::from(e)),
    };
    let addr = admin.local_addr().ok_or_else(|| anyhow::anyhow!("the admin endpoint did not bind"))?;
    println!("dashboard: http://{addr}/#token={full}");
    println!("read-only: http://{addr}/#token={read}");
    println!("probes:    http://{addr}/livez  http://{addr}/readyz");
    println!("running for {seconds} s; send SIGTERM or press Ctrl-C to stop sooner");

    let run = tree.run_until_signal();
    let deadline = tokio::time::sleep(Duration::from_secs(seconds));
    tokio::pin!(run, deadline);
    let exit = loop {
        tokio::select! {
            exit = &mut run => break exit,
            _ = &mut deadline => break TreeExit::from(tree.shutdown().await),
            _ = next_poke(&mut pokes) => poke.notify_one(),
        }
    };
    println!("stopped ({:?}): {:?}", exit.signal, exit.result);
    Ok(exit)
}
