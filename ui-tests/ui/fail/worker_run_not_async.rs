use supervisor::{Context, worker};

#[worker]
#[derive(Clone)]
struct Poller;

impl Poller {
    fn run(self, _ctx: Context) {}
}

fn main() {}
