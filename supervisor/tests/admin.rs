//! The admin endpoint (feature `admin`): each endpoint's status and body,
//! tokens, odd requests, and event streams, in process through
//! `tower::ServiceExt::oneshot` and on a real listener on 127.0.0.1.
#![cfg(feature = "admin")]

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use futures_util::StreamExt;
use serde_json::Value;
use supervisor::admin::{self, AdminConfig, AdminServer, Readiness};
use supervisor::{ChildSpec, ChildState, SupervisorHandle, SupervisorSpec};
use tokio::net::TcpStream;
use tower::ServiceExt;

mod admin_support;

use admin_support::{FULL, READ, RawClient, config, http_get, idle, parse_message, start_served};

/// `app { db, cache, http { router } }`.
async fn start_tree() -> SupervisorHandle {
    SupervisorSpec::new("app")
        .child(ChildSpec::from_fn("db", idle))
        .child(ChildSpec::from_fn("cache", idle))
        .supervisor(SupervisorSpec::new("http").child(ChildSpec::from_fn("router", idle)))
        .start()
        .await
        .unwrap()
}

fn request(method: Method, uri: &str, token: Option<&str>) -> Request<Body> {
    let mut builder = Request::builder().method(method).uri(uri);
    if let Some(token) = token {
        builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    builder.body(Body::empty()).unwrap()
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    json: Value,
}

async fn send(router: &Router, request: Request<Body>) -> Answer {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
    let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Answer { status, headers, json }
}

async fn call(router: &Router, method: Method, uri: &str, token: Option<&str>) -> Answer {
    send(router, request(method, uri, token)).await
}

/// What a request could change: every child's path, state, attempt and
/// restarts (uptimes move by themselves).
async fn state_of(tree: &SupervisorHandle) -> Vec<(String, ChildState, u32, u32)> {
    fn walk(snap: &supervisor::Snapshot, out: &mut Vec<(String, ChildState, u32, u32)>) {
        for c in &snap.children {
            out.push((format!("{}/{}", snap.path, c.id), c.state, c.attempt, c.restarts));
            if let Some(nested) = &c.supervisor {
                walk(nested, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(&tree.snapshot().await.unwrap(), &mut out);
    out
}

fn state(tree: &[(String, ChildState, u32, u32)], path: &str) -> ChildState {
    tree.iter().find(|c| c.0 == path).map(|c| c.1).unwrap_or_else(|| panic!("no {path} in {tree:?}"))
}

#[tokio::test(start_paused = true)]
async fn tree_is_the_snapshot_as_json() {
    let tree = start_tree().await;
    let router = admin::router(tree.clone(), config());
    let answer = call(&router, Method::GET, "/tree", Some(READ)).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.headers[header::CONTENT_TYPE], "application/json");
    assert_eq!(answer.headers["x-supervisor-access"], "read");
    assert_eq!(answer.json, serde_json::to_value(tree.snapshot().await.unwrap()).unwrap());
    assert_eq!(answer.json["children"][2]["supervisor"]["children"][0]["id"], "router");
    let answer = call(&router, Method::GET, "/tree", Some(FULL)).await;
    assert_eq!(answer.headers["x-supervisor-access"], "full");
    tree.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn page_is_served_without_a_token_and_holds_no_data() {
    let tree = start_tree().await;
    let router = admin::router(tree.clone(), config());
    let response = router.clone().oneshot(request(Method::GET, "/", None)).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/html"));
    let policy = response.headers()[header::CONTENT_SECURITY_POLICY].to_str().unwrap().to_string();
    assert!(policy.contains("connect-src 'self'"), "{policy}");
    let body = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
    let page = String::from_utf8(body.to_vec()).unwrap();
    assert!(page.contains("<title>"), "a page");
    assert!(!page.contains("router"), "the page holds no part of the tree");
    tree.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn commands_terminate_restart_and_delete() {
    let tree = start_tree().await;
    let router = admin::router(tree.clone(), config());

    let answer = call(&router, Method::POST, "/children/app/db/terminate", Some(FULL)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.json);
    assert_eq!(answer.json, serde_json::json!({"ok": true, "command": "terminate", "path": "app/db"}));
    assert_eq!(state(&state_of(&tree).await, "app/db"), ChildState::Stopped);

    let answer = call(&router, Method::POST, "/children/app/db/restart", Some(FULL)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.json);
    assert_eq!(state(&state_of(&tree).await, "app/db"), ChildState::Running);

    // Nested paths go through the nested supervisor's handle.
    let answer = call(&router, Method::POST, "/children/app/http/router/terminate", Some(FULL)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.json);
    assert_eq!(answer.json["path"], "app/http/router");
    assert_eq!(state(&state_of(&tree).await, "app/http/router"), ChildState::Stopped);

    call(&router, Method::POST, "/children/app/cache/terminate", Some(FULL)).await;
    let answer = call(&router, Method::DELETE, "/children/app/cache", Some(FULL)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.json);
    assert!(state_of(&tree).await.iter().all(|c| c.0 != "app/cache"), "deleted");
    tree.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn command_errors_are_json_with_404_and_409() {
    let tree = start_tree().await;
    let router = admin::router(tree.clone(), config());
    let cases: &[(Method, &str, StatusCode, &str)] = &[
        (Method::POST, "/children/app/nope/restart", StatusCode::NOT_FOUND, "unknown_child"),
        (Method::DELETE, "/children/app/nope", StatusCode::NOT_FOUND, "unknown_child"),
        (Method::POST, "/children/other/db/restart", StatusCode::NOT_FOUND, "unknown_child"),
        (Method::POST, "/children/app/db/x/restart", StatusCode::NOT_FOUND, "not_a_supervisor"),
        (Method::POST, "/children/app/http/nope/terminate", StatusCode::NOT_FOUND, "unknown_child"),
        (Method::POST, "/children/app/db/explode", StatusCode::NOT_FOUND, "not_found"),
        (Method::POST, "/children/app/db/restart", StatusCode::CONFLICT, "running"),
        (Method::DELETE, "/children/app/db", StatusCode::CONFLICT, "running"),
        (Method::POST, "/children/app/terminate", StatusCode::CONFLICT, "root"),
    ];
    let before = state_of(&tree).await;
    for (method, uri, status, code) in cases {
        let answer = call(&router, method.clone(), uri, Some(FULL)).await;
        assert_eq!(answer.status, *status, "{method} {uri}: {}", answer.json);
        assert_eq!(answer.json["code"], *code, "{method} {uri}: {}", answer.json);
        assert!(answer.json["error"].as_str().is_some_and(|e| !e.is_empty()), "{method} {uri}: {}", answer.json);
    }
    assert_eq!(state_of(&tree).await, before);
    tree.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn requests_without_the_right_token_change_nothing() {
    let tree = start_tree().await;
    let router = admin::router(tree.clone(), config());
    // Stopped children too, so that restart and delete could apply.
    tree.terminate_child("cache").await.unwrap();
    let commands: &[(Method, &str)] = &[
        (Method::POST, "/children/app/db/terminate"),
        (Method::POST, "/children/app/cache/restart"),
        (Method::DELETE, "/children/app/cache"),
        (Method::POST, "/children/app/http/router/terminate"),
    ];
    let reads = ["/tree", "/events"];
    let mut requests = Vec::new();
    for (method, uri) in commands {
        requests.push((method.clone(), *uri, None, StatusCode::UNAUTHORIZED, "unauthorized"));
        requests.push((method.clone(), *uri, Some("wrong"), StatusCode::UNAUTHORIZED, "invalid_token"));
        requests.push((method.clone(), *uri, Some("full-token-012345678"), StatusCode::UNAUTHORIZED, "invalid_token"));
        requests.push((method.clone(), *uri, Some(READ), StatusCode::FORBIDDEN, "forbidden"));
    }
    for uri in reads {
        requests.push((Method::GET, uri, None, StatusCode::UNAUTHORIZED, "unauthorized"));
        requests.push((Method::GET, uri, Some("wrong"), StatusCode::UNAUTHORIZED, "invalid_token"));
    }
    for (method, uri, token, status, code) in requests {
        let before = state_of(&tree).await;
        let answer = call(&router, method.clone(), uri, token).await;
        assert_eq!(answer.status, status, "{method} {uri} with {token:?}");
        assert_eq!(answer.json["code"], code, "{method} {uri} with {token:?}");
        assert!(answer.headers.contains_key(header::WWW_AUTHENTICATE), "{method} {uri} with {token:?}");
        assert!(!answer.headers.contains_key("x-supervisor-access"));
        assert_eq!(state_of(&tree).await, before, "{method} {uri} with {token:?} changed the tree");
    }
    // Other schemes and malformed headers are no token at all.
    for value in ["Basic Zm9vOmJhcg==", FULL, "Bearer", "bearer\t"] {
        let before = state_of(&tree).await;
        let req = Request::post("/children/app/db/terminate").header(header::AUTHORIZATION, value).body(Body::empty());
        let answer = send(&router, req.unwrap()).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{value}");
        assert_eq!(state_of(&tree).await, before, "{value}");
    }
    tree.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn no_token_configured_lets_nothing_in() {
    let tree = start_tree().await;
    let router = admin::router(tree.clone(), AdminConfig::new().full_token(""));
    let before = state_of(&tree).await;
    for token in [None, Some("")] {
        let answer = call(&router, Method::POST, "/children/app/db/terminate", token).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(call(&router, Method::GET, "/livez", None).await.status, StatusCode::OK);
    assert_eq!(state_of(&tree).await, before);
    tree.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn odd_paths_methods_and_bodies_are_refused_cleanly() {
    let tree = start_tree().await;
    let router = admin::router(tree.clone(), config());
    // Near the longest URI the http crate represents (64 KiB).
    let long_id = "x".repeat(60_000);
    let deep = format!("/children/app/{}restart", "http/".repeat(5_000));
    let odd: Vec<(Method, String)> = vec![
        (Method::POST, "/children/app/../app/db/terminate".into()),
        (Method::POST, "/children/../tree/terminate".into()),
        (Method::POST, "/children/app/%2E%2E/db/terminate".into()),
        (Method::POST, "/children/app%2Fdb/terminate".into()),
        (Method::POST, "/children/app/db%2Fterminate".into()),
        (Method::POST, "/children/app/http%2Frouter/terminate".into()),
        (Method::DELETE, "/children/app//db".into()),
        (Method::DELETE, "/children/app/db/".into()),
        (Method::POST, "/children/app/%FF%FE/restart".into()),
        (Method::POST, "/children/app/%zz/restart".into()),
        (Method::POST, format!("/children/app/{long_id}/restart")),
        (Method::DELETE, format!("/children/{long_id}")),
        (Method::POST, deep),
        (Method::POST, "/children/".into()),
        (Method::POST, "/children".into()),
        (Method::POST, "/tree/../children/app/db/terminate".into()),
        (Method::GET, "/children/app/db/terminate".into()),
        (Method::PUT, "/children/app/db".into()),
        (Method::PATCH, "/tree".into()),
        (Method::OPTIONS, "/events".into()),
        (Method::from_bytes(b"FROB").unwrap(), "/children/app/db/terminate".into()),
        (Method::GET, "/%00".into()),
        (Method::GET, "/nope".into()),
    ];
    for (method, uri) in odd {
        let before = state_of(&tree).await;
        let answer = call(&router, method.clone(), &uri, Some(FULL)).await;
        let shown: String = uri.chars().take(80).collect();
        assert!(answer.status.is_client_error(), "{method} {shown}: {}", answer.status);
        assert!(answer.json["code"].is_string(), "{method} {shown}: a JSON error, got {}", answer.json);
        assert!(answer.json.to_string().len() < 2_000, "{method} {shown}: the answer does not echo a long id whole");
        assert_eq!(state_of(&tree).await, before, "{method} {shown} changed the tree");
    }
    tree.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn oversized_bodies_get_413_and_change_nothing() {
    let tree = start_tree().await;
    let router = admin::router(tree.clone(), config().max_body_bytes(1024));
    let before = state_of(&tree).await;
    // Declared too long.
    let req = Request::post("/children/app/db/terminate")
        .header(header::AUTHORIZATION, format!("Bearer {FULL}"))
        .header(header::CONTENT_LENGTH, "10000000")
        .body(Body::from(vec![b'x'; 10_000_000]))
        .unwrap();
    let answer = send(&router, req).await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(answer.json["code"], "payload_too_large");
    // Streamed without a length, past the limit.
    let chunks = (0..100).map(|_| Ok::<_, std::io::Error>(bytes_of(100)));
    let req = Request::post("/children/app/db/terminate")
        .header(header::AUTHORIZATION, format!("Bearer {FULL}"))
        .body(Body::from_stream(futures_util::stream::iter(chunks)))
        .unwrap();
    assert_eq!(send(&router, req).await.status, StatusCode::PAYLOAD_TOO_LARGE);
    // Unauthenticated and oversized: refused as well.
    let req = Request::post("/children/app/db/terminate").body(Body::from(vec![0u8; 5000])).unwrap();
    assert!(send(&router, req).await.status.is_client_error());
    assert_eq!(state_of(&tree).await, before);
    // A small body of garbage is ignored: no endpoint reads one.
    let req = Request::post("/children/app/db/terminate")
        .header(header::AUTHORIZATION, format!("Bearer {FULL}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(&b"{\xff\x00 not json"[..]))
        .unwrap();
    assert_eq!(send(&router, req).await.status, StatusCode::OK);
    tree.shutdown().await.unwrap();
}

fn bytes_of(n: usize) -> axum::body::Bytes {
    axum::body::Bytes::from(vec![b'y'; n])
}

#[tokio::test(start_paused = true)]
async fn livez_answers_while_the_root_does() {
    let tree = start_tree().await;
    let router = admin::router(tree.clone(), config());
    let answer = call(&router, Method::GET, "/livez", None).await;
    assert_eq!((answer.status, answer.json), (StatusCode::OK, serde_json::json!({"live": true})));
    tree.shutdown().await.unwrap();
    let answer = call(&router, Method::GET, "/livez", None).await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(answer.json["live"], false);
    assert_eq!(answer.json["reason"], "supervisor `app` is not running");
}

#[tokio::test(start_paused = true)]
async fn readyz_follows_the_declared_children() {
    let tree = start_tree().await;
    let router = admin::router(tree.clone(), config());
    let answer = call(&router, Method::GET, "/readyz", None).await;
    assert_eq!((answer.status, answer.json), (StatusCode::OK, serde_json::json!({"ready": true})));
    tree.nested("http").await.unwrap().terminate_child("router").await.unwrap();
    let answer = call(&router, Method::GET, "/readyz", None).await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(answer.json, serde_json::json!({"ready": false, "reason": "`app/http/router` is stopped"}));

    // Configured to look at the database only.
    let only_db = admin::router(tree.clone(), config().readiness(Readiness::Children(vec!["app/db".into()])));
    assert_eq!(call(&only_db, Method::GET, "/readyz", None).await.status, StatusCode::OK);
    tree.terminate_child("db").await.unwrap();
    assert_eq!(call(&only_db, Method::GET, "/readyz", None).await.status, StatusCode::SERVICE_UNAVAILABLE);
    tree.shutdown().await.unwrap();
    let answer = call(&router, Method::GET, "/readyz", None).await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test(start_paused = true)]
async fn extreme_settings_are_accepted() {
    let tree = start_tree().await;
    let config = config().max_event_streams(usize::MAX).max_body_bytes(usize::MAX).probe_deadline(Duration::ZERO);
    let router = admin::router(tree.clone(), config);
    assert_eq!(call(&router, Method::GET, "/tree", Some(READ)).await.status, StatusCode::OK);
    // No deadline to answer within: the probe says so rather than wait.
    let answer = call(&router, Method::GET, "/livez", None).await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(answer.json["reason"], "the root supervisor did not answer within 0ns");
    tree.shutdown().await.unwrap();
}

/// The messages of one SSE body: `(event name, data)`, comments left out.
struct Messages {
    body: axum::body::BodyDataStream,
    buffer: String,
}

impl Messages {
    fn new(body: Body) -> Self {
        Messages { body: body.into_data_stream(), buffer: String::new() }
    }

    async fn next(&mut self) -> Option<(String, Value)> {
        loop {
            if let Some(at) = self.buffer.find("\n\n") {
                let raw: String = self.buffer.drain(..at + 2).collect();
                if let Some(message) = parse_message(&raw) {
                    return Some(message);
                }
                continue;
            }
            let chunk = self.body.next().await?.unwrap();
            self.buffer.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }
}

async fn open_events(router: &Router) -> Messages {
    let response = router.clone().oneshot(request(Method::GET, "/events", Some(READ))).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[header::CONTENT_TYPE], "text/event-stream");
    Messages::new(response.into_body())
}

#[tokio::test(start_paused = true)]
async fn events_start_with_the_tree_then_follow_it() {
    let tree = start_tree().await;
    let router = admin::router(tree.clone(), config());
    let mut events = open_events(&router).await;
    let (name, snapshot) = events.next().await.unwrap();
    assert_eq!(name, "tree");
    assert_eq!(snapshot, serde_json::to_value(tree.snapshot().await.unwrap()).unwrap());

    tree.terminate_child("db").await.unwrap();
    tree.restart_child("db").await.unwrap();
    let (name, exited) = events.next().await.unwrap();
    assert_eq!(name, "message");
    assert_eq!(exited["path"], "app/db");
    assert_eq!(exited["kind"], "exited");
    assert_eq!(exited["attempt"], 1);
    assert_eq!(exited["reason"], serde_json::json!({"kind": "shutdown", "failure": false, "message": "was shut down"}));
    assert!(exited["at_unix_ms"].as_u64().unwrap() > 1_600_000_000_000, "wall-clock time: {exited}");
    let (_, started) = events.next().await.unwrap();
    assert_eq!((started["path"].as_str(), started["kind"].as_str()), (Some("app/db"), Some("started")));
    assert_eq!(started["attempt"], 2);

    // The stream ends with the tree.
    tree.shutdown().await.unwrap();
    let mut last = None;
    while let Some((name, _)) = events.next().await {
        last = Some(name);
    }
    assert_eq!(last.as_deref(), Some("ended"));
}

#[tokio::test(start_paused = true)]
async fn a_client_that_does_not_read_lags_and_is_told() {
    let tree = start_tree().await;
    let router = admin::router(tree.clone(), config());
    let mut slow = open_events(&router).await;
    assert_eq!(slow.next().await.unwrap().0, "tree");
    // Far more events than the tree holds for a subscriber, while this
    // client reads none: the supervisor is not held up by it.
    for _ in 0..1500 {
        tree.terminate_child("db").await.unwrap();
        tree.restart_child("db").await.unwrap();
    }
    let (name, lagged) = slow.next().await.unwrap();
    assert_eq!(name, "lagged");
    let missed = lagged["missed"].as_u64().unwrap();
    assert!(missed > 0 && missed < 3000, "{lagged}");
    // Then the newest events, up to the last one.
    let mut rest = 0;
    loop {
        let (name, event) = slow.next().await.unwrap();
        assert_eq!(name, "message");
        rest += 1;
        if event["kind"] == "started" && event["attempt"] == 1501 {
            break;
        }
    }
    assert_eq!(missed + rest, 3000, "every event is either received or counted as missed");
    tree.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn event_streams_are_limited_and_end_on_their_token() {
    let tree = start_tree().await;
    let end = supervisor::CancellationToken::new();
    let router = admin::router(tree.clone(), config().max_event_streams(1).end_streams_on(end.clone()));
    let mut first = open_events(&router).await;
    assert_eq!(first.next().await.unwrap().0, "tree");
    let answer = call(&router, Method::GET, "/events", Some(READ)).await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(answer.json["code"], "too_many_streams");
    end.cancel();
    assert!(first.next().await.is_none(), "the stream ends on its token");
    drop(first);
    // The closed stream's place is free again.
    let response = router.clone().oneshot(request(Method::GET, "/events", Some(READ))).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    tree.shutdown().await.unwrap();
}

// On a real listener: the worker, its start and its shutdown.

// On a real listener: the worker, its start and its shutdown.

#[tokio::test]
async fn server_binds_loopback_and_serves_the_tree_it_runs_in() {
    let (tree, server) = start_served(config()).await;
    let addr = server.local_addr().expect("bound before the tree's start returned");
    assert!(addr.ip().is_loopback(), "{addr}");
    assert!(http_get(addr, "/livez").await.starts_with("HTTP/1.1 200"));
    assert!(http_get(addr, "/tree").await.starts_with("HTTP/1.1 200"));
    assert!(http_get(addr, "/readyz").await.starts_with("HTTP/1.1 200"));
    tree.shutdown().await.unwrap();
    assert!(TcpStream::connect(addr).await.is_err(), "the listener is closed with the tree");
}

#[tokio::test]
async fn an_address_in_use_fails_the_start_with_its_address() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let server = AdminServer::new(config()).addr(addr);
    let error = SupervisorSpec::new("app").child(ChildSpec::worker("admin", server)).start().await.unwrap_err();
    let message = error.to_string();
    assert!(message.contains("app/admin") && message.contains(&addr.to_string()), "{message}");
}

#[tokio::test]
async fn shutdown_ends_open_event_streams() {
    let (tree, server) = start_served(config()).await;
    let addr = server.local_addr().unwrap();
    let mut client = RawClient::get(addr, "/events", READ, false).await;
    assert!(client.head().await.starts_with("HTTP/1.1 200"));
    assert_eq!(client.messages_until(|name, _| name == "tree").await.len(), 1);
    // Shutdown waits for the server, which ends the stream rather than wait
    // for the client to hang up.
    tokio::time::timeout(Duration::from_secs(10), tree.shutdown()).await.expect("no hang").unwrap();
    let rest = client.messages_until(|_, _| false).await;
    assert!(rest.iter().all(|(name, _)| name == "message"), "{rest:?}");
}
