use supervisor::{Context, worker};

#[worker]
#[derive(Clone)]
enum Mode {
    Fast,
    Slow,
}

impl Mode {
    async fn run(self, _ctx: Context) {}
}

fn main() {}
