use supervisor::{Context, worker};

#[worker]
async fn poll(ctx: Context) {
    ctx.cancelled().await
}

fn main() {}
