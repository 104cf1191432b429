use supervisor::{Context, worker};

#[worker]
struct Poller {
    url: String,
}

impl Poller {
    async fn run(self, _ctx: Context) {
        let _ = self.url;
    }
}

fn main() {}
