use supervisor::{Context, worker};

#[worker]
#[derive(Clone)]
struct Poller;

impl Poller {
    async fn run(&self, _ctx: Context) {}
}

fn main() {}
