use std::rc::Rc;
use supervisor::{Context, worker};

#[worker]
#[derive(Clone)]
struct Poller {
    cache: Rc<String>,
}

impl Poller {
    async fn run(self, _ctx: Context) {
        let _ = self.cache;
    }
}

fn main() {}
