use std::time::Duration;

use supervisor::{Context, supervision_tree, worker};

/// A worker is a value; every run starts from a fresh clone of it.
#[worker(restart = permanent, shutdown = 5s)]
#[derive(Clone)]
struct Db {
    url: String,
}

impl Db {
    async fn run(self, ctx: Context) -> anyhow::Result<()> {
        println!("db: serving {} (run {})", self.url, ctx.attempt());
        ctx.cancelled().await; // serve until asked to stop
        Ok(())
    }
}

/// Fails its first two runs; the supervisor restarts it after a backoff.
#[worker]
#[derive(Clone)]
struct Flaky;

impl Flaky {
    async fn run(self, ctx: Context) -> anyhow::Result<()> {
        if ctx.attempt() < 3 {
            anyhow::bail!("crashed in run {}", ctx.attempt());
        }
        ctx.cancelled().await;
        Ok(())
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let spec = supervision_tree! {
        supervisor app(strategy = one_for_one, max_restarts = 3, within = 5s) {
            worker db(shutdown = 10s) = Db { url: "postgres://localhost/app".into() };
            worker flaky(backoff = 10ms..1s) = Flaky;
        }
    };
    let tree = spec.start().await?; // every child runs, in declaration order
    tokio::time::sleep(Duration::from_millis(100)).await;
    println!("{}", tree.snapshot().await?); // flaky: attempt 3, 2 restarts
    tree.shutdown().await?; // reverse order; returns when every task has ended
    Ok(())
}
