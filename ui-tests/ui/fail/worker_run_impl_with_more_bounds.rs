use supervisor::{Context, worker};

#[worker]
#[derive(Clone)]
struct Poller<T> {
    item: T,
}

impl<T: std::fmt::Debug + Send + 'static> Poller<T> {
    async fn run(self, _ctx: Context) {
        let _ = format!("{:?}", self.item);
    }
}

fn main() {}
