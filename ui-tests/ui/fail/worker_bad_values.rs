use supervisor::{Context, worker};

#[worker(restart = sometimes, heartbeat = 0s, backoff = 2s..1s)]
#[derive(Clone)]
struct Poller;

impl Poller {
    async fn run(self, _ctx: Context) {}
}

fn main() {}
