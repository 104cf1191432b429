use supervisor::worker;

#[worker]
#[derive(Clone)]
struct Poller;

impl Poller {
    async fn run(self) {}
}

fn main() {}
