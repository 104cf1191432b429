//! A tree run as a service: it stops gracefully on SIGTERM or Ctrl-C and
//! exits 0, or 1 when the tree gives up. Ends by itself after 10 s.

use std::time::Duration;

use supervisor::{Context, TreeExit, supervision_tree, worker};

#[worker(shutdown = 2s)]
#[derive(Clone)]
struct Server {
    name: &'static str,
}

impl Server {
    async fn run(self, ctx: Context) {
        ctx.ready();
        println!("{} serving", self.name);
        ctx.cancelled().await;
        // A graceful stop: finish what is in flight.
        tokio::time::sleep(Duration::from_millis(50)).await;
        println!("{} drained", self.name);
    }
}

#[tokio::main]
async fn main() -> TreeExit {
    let spec = supervision_tree! {
        supervisor service {
            worker api(start_timeout = 1s) = Server { name: "api" };
            worker metrics = Server { name: "metrics" };
        }
    };
    let tree = match spec.start().await {
        Ok(tree) => tree,
        Err(e) => return TreeExit::from(e),
    };
    println!("running; send SIGTERM or press Ctrl-C to stop");
    let exit = tokio::select! {
        exit = tree.run_until_signal() => exit,
        _ = tokio::time::sleep(Duration::from_secs(10)) => {
            println!("no signal within 10 s: stopping");
            TreeExit::from(tree.shutdown().await)
        }
    };
    println!("stopped ({:?}): {:?}", exit.signal, exit.result);
    exit
}
