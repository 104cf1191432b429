//! The JSON shape of a snapshot (feature `serde`).
#![cfg(feature = "serde")]

use supervisor::{ChildSpec, Context, SupervisorSpec};

#[tokio::test(start_paused = true)]
async fn snapshot_serializes_to_nested_json() {
    let idle = |ctx: Context| async move { ctx.cancelled().await };
    let tree = SupervisorSpec::new("app")
        .child(ChildSpec::from_fn("db", idle))
        .supervisor(SupervisorSpec::new("http").child(ChildSpec::from_fn("router", idle)))
        .child(ChildSpec::from_fn("job", |_ctx: Context| async {}).restart(supervisor::Restart::Transient))
        .start()
        .await
        .unwrap();
    tokio::task::yield_now().await;
    let json = serde_json::to_value(tree.snapshot().await.unwrap()).unwrap();
    assert_eq!(json["path"], "app");
    let db = &json["children"][0];
    assert_eq!(db["id"], "db");
    assert_eq!(db["kind"], "worker");
    assert_eq!(db["state"], "running");
    assert_eq!(db["restarts"], 0);
    assert_eq!(db["attempt"], 1);
    assert_eq!(db["uptime_ms"], 0);
    assert!(db["last_exit"].is_null());
    assert!(db.get("supervisor").is_none(), "workers carry no nested snapshot");
    let http = &json["children"][1];
    assert_eq!(http["kind"], "supervisor");
    assert_eq!(http["supervisor"]["path"], "app/http");
    assert_eq!(http["supervisor"]["children"][0]["id"], "router");
    let job = &json["children"][2];
    assert_eq!(job["state"], "stopped");
    assert!(job.get("uptime_ms").is_none(), "no uptime for a child that does not run");
    assert_eq!(job["last_exit"], serde_json::json!({"kind": "normal", "failure": false, "message": "exited normally"}));
    tree.shutdown().await.unwrap();
}
