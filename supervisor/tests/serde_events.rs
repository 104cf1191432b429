//! The JSON shape of events (feature `serde`): the kind as a snake_case tag
//! beside its fields, durations in milliseconds, exits and errors with their
//! kind and words.
#![cfg(feature = "serde")]

use std::time::Duration;

use serde_json::{Value, json};
use supervisor::{Backoff, ChildSpec, Context, SupervisorSpec};

#[tokio::test(start_paused = true)]
async fn failures_backoff_and_escalation_serialize_with_their_fields() {
    let failing = |_ctx: Context| async move {
        tokio::time::sleep(Duration::from_millis(5)).await;
        Err::<(), _>(std::io::Error::other("disk on fire"))
    };
    let tree = SupervisorSpec::new("app")
        .max_restarts(1)
        .within(Duration::from_secs(60))
        .child(
            ChildSpec::from_fn("db", failing)
                .backoff(Backoff::Exponential { min: Duration::from_millis(10), max: Duration::from_secs(1) }),
        )
        .start()
        .await
        .unwrap();
    let mut events = tree.subscribe();
    let _ = tree.wait().await;
    let mut seen: Vec<Value> = Vec::new();
    while let Ok(event) = events.recv().await {
        seen.push(serde_json::to_value(&event).unwrap());
    }
    let of = |kind: &str| {
        seen.iter().find(|e| e["kind"] == kind).cloned().unwrap_or_else(|| panic!("no {kind} in {seen:?}"))
    };

    let exited = of("exited");
    assert_eq!(exited["path"], "app/db");
    assert_eq!(exited["attempt"], 1);
    assert_eq!(exited["reason"], json!({"kind": "error", "failure": true, "message": "failed: disk on fire"}));
    assert!(exited["at_unix_ms"].is_u64());

    let scheduled = of("restart_scheduled");
    let delay = scheduled["delay_ms"].as_f64().unwrap();
    assert!((7.5..=10.0).contains(&delay), "10 ms less a jitter of up to a quarter: {scheduled}");

    let exceeded = of("budget_exceeded");
    assert_eq!(exceeded["attempt"], 0);
    assert_eq!(exceeded["within_ms"], 60_000.0);
    assert_eq!(exceeded["restarts"], 2);
    assert_eq!(exceeded["scope"], "supervisor `app`");

    let escalated = of("escalated");
    assert_eq!(escalated["error"]["kind"], "escalated");
    let message = escalated["error"]["message"].as_str().unwrap();
    assert!(message.starts_with("supervisor `app` gave up"), "{message}");
}

#[test]
fn unit_kinds_are_bare_tags() {
    let event = supervisor::Event {
        at: tokio::time::Instant::now(),
        path: "app".into(),
        attempt: 0,
        kind: supervisor::EventKind::ShutdownStarted,
    };
    let json = serde_json::to_value(&event).unwrap();
    let keys: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["at_unix_ms", "attempt", "kind", "path"]);
    assert_eq!(json["kind"], "shutdown_started");
}
