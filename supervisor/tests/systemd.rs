//! The notifications a tree sends systemd (feature `systemd`), read from a
//! fake `NOTIFY_SOCKET` that the test binds.
//!
//! sd-notify reads its settings from the environment, which a test must not
//! change under other threads: each test runs its tree in a child process
//! (this same test binary, filtered to that test) with the environment set
//! there, and reads what it sent.
#![cfg(all(feature = "systemd", unix))]

use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use supervisor::{ChildSpec, Context, SupervisorSpec};

/// Set in the child process: run the tree instead of spawning.
const CHILD: &str = "SUPERVISOR_SYSTEMD_TEST_CHILD";

/// The tree, run for 3 s of tokio's paused clock under [`supervisor::systemd::watch`],
/// then shut down.
fn run_tree_and_shut_down() {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().start_paused(true).build().unwrap();
    runtime.block_on(async {
        let tree = SupervisorSpec::new("app")
            .child(ChildSpec::from_fn("db", |ctx: Context| async move { ctx.cancelled().await }))
            .child(ChildSpec::from_fn("cache", |ctx: Context| async move { ctx.cancelled().await }))
            .start()
            .await
            .unwrap();
        let stop = async {
            tokio::time::sleep(Duration::from_secs(3)).await;
            tree.shutdown().await
        };
        let (watched, stopped) = tokio::join!(supervisor::systemd::watch(&tree), stop);
        watched.unwrap();
        stopped.unwrap();
    });
}

/// Runs `test` of this binary in a child process with `env` and a fresh
/// notify socket, and returns the datagrams it received, in order.
fn notifications_of(test: &str, env: &[(&str, &str)]) -> Vec<String> {
    let dir = std::env::temp_dir().join(format!("supervisor-systemd-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let socket_path: PathBuf = dir.join("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).unwrap();
    socket.set_nonblocking(true).unwrap();
    let output = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .env("NOTIFY_SOCKET", &socket_path)
        .env_remove("WATCHDOG_USEC")
        .env_remove("WATCHDOG_PID")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    assert!(output.status.success(), "child failed: {}", String::from_utf8_lossy(&output.stderr));
    let mut received = Vec::new();
    let mut buf = vec![0u8; 4096];
    while let Ok(n) = socket.recv(&mut buf) {
        received.push(String::from_utf8_lossy(&buf[..n]).into_owned());
    }
    let _ = std::fs::remove_dir_all(&dir);
    received
}

fn position(messages: &[String], line: &str) -> Vec<usize> {
    messages.iter().enumerate().filter(|(_, m)| m.lines().any(|l| l == line)).map(|(i, _)| i).collect()
}

#[test]
fn ready_then_watchdog_then_stopping() {
    if std::env::var_os(CHILD).is_some() {
        return run_tree_and_shut_down();
    }
    // A watchdog of 1 s: a ping every 500 ms over the 3 s the tree runs.
    let got = notifications_of("ready_then_watchdog_then_stopping", &[("WATCHDOG_USEC", "1000000")]);
    let ready = position(&got, "READY=1");
    let watchdog = position(&got, "WATCHDOG=1");
    let stopping = position(&got, "STOPPING=1");
    assert_eq!(ready, vec![0], "READY=1 first and once: {got:?}");
    assert!(got[0].lines().any(|l| l == "STATUS=app: 2/2 running"), "{got:?}");
    assert!(watchdog.len() >= 5, "a ping every 500 ms for 3 s: {got:?}");
    assert_eq!(stopping.len(), 1, "STOPPING=1 once: {got:?}");
    assert!(watchdog.iter().all(|&w| w > ready[0] && w < stopping[0]), "pings between READY and STOPPING: {got:?}");
    assert_eq!(stopping[0], got.len() - 1, "nothing after STOPPING=1: {got:?}");
    // Sent as the root begins to stop, not once it has ended.
    assert!(got[stopping[0]].lines().any(|l| l == "STATUS=app: stopping"), "{got:?}");
}

#[test]
fn no_watchdog_without_watchdog_usec() {
    if std::env::var_os(CHILD).is_some() {
        return run_tree_and_shut_down();
    }
    let got = notifications_of("no_watchdog_without_watchdog_usec", &[]);
    assert_eq!(position(&got, "READY=1"), vec![0], "{got:?}");
    assert!(position(&got, "WATCHDOG=1").is_empty(), "no watchdog was asked for: {got:?}");
    assert_eq!(position(&got, "STOPPING=1"), vec![got.len() - 1], "{got:?}");
}

#[test]
fn a_watchdog_for_another_process_is_not_pinged() {
    if std::env::var_os(CHILD).is_some() {
        return run_tree_and_shut_down();
    }
    // systemd names the process the watchdog is for; pid 1 is never this test.
    let got = notifications_of(
        "a_watchdog_for_another_process_is_not_pinged",
        &[("WATCHDOG_USEC", "1000000"), ("WATCHDOG_PID", "1")],
    );
    assert_eq!(position(&got, "READY=1"), vec![0], "{got:?}");
    assert!(position(&got, "WATCHDOG=1").is_empty(), "{got:?}");
}
