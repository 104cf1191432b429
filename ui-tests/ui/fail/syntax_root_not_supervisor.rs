use supervisor::{Context, supervision_tree, worker};

#[worker]
#[derive(Clone)]
struct Idle;
impl Idle {
    async fn run(self, ctx: Context) {
        ctx.cancelled().await
    }
}

fn main() {
    let _ = supervision_tree! {
        worker a = Idle;
    };
}
