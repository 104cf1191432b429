use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;
use supervisor::*;

#[tokio::test(start_paused = true)]
async fn smoke_panic_restart_and_shutdown() {
    let runs = Arc::new(AtomicU32::new(0));
    let r = runs.clone();
    let spec = SupervisorSpec::new("app")
        .child(ChildSpec::from_fn("idle", |ctx: Context| async move { ctx.cancelled().await }))
        .child(ChildSpec::from_fn("crash", move |ctx: Context| {
            let r = r.clone();
            async move {
                if r.fetch_add(1, Ordering::SeqCst) == 0 {
                    panic!("boom");
                }
                ctx.cancelled().await
            }
        }))
        .supervisor(
            SupervisorSpec::new("sub")
                .child(ChildSpec::from_fn("w", |ctx: Context| async move { ctx.cancelled().await })),
        );
    let tree = spec.start().await.unwrap();
    tokio::time::sleep(Duration::from_millis(10)).await;
    let kids = tree.which_children().await.unwrap();
    println!("{kids:#?}");
    assert_eq!(runs.load(Ordering::SeqCst), 2);
    let sub = tree.nested("sub").await.unwrap();
    assert_eq!(sub.count_children().await.unwrap().active, 1);
    tree.shutdown().await.unwrap();
    assert!(tree.which_children().await.is_err());
    assert!(sub.which_children().await.is_err());
}
