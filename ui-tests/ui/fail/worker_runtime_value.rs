use supervisor::{Context, worker};

#[worker(shutdown = { std::time::Duration::from_secs(1) })]
#[derive(Clone)]
struct Poller;

impl Poller {
    async fn run(self, _ctx: Context) {}
}

fn main() {}
