//! What the admin tests share: tokens, a tree served by the admin worker,
//! and a raw HTTP/1.1 client that reads a chunked SSE body as it comes.
#![allow(dead_code)]

use serde_json::Value;
use supervisor::admin::{AdminConfig, AdminServer};
use supervisor::{ChildSpec, Context, SupervisorHandle, SupervisorSpec};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub(crate) const FULL: &str = "full-token-0123456789";
pub(crate) const READ: &str = "read-token-0123456789";

pub(crate) async fn idle(ctx: Context) {
    ctx.cancelled().await
}

pub(crate) fn config() -> AdminConfig {
    AdminConfig::new().full_token(FULL).read_token(READ)
}

/// An SSE message as `(event name, data)`; `None` for a comment.
pub(crate) fn parse_message(raw: &str) -> Option<(String, Value)> {
    let mut event = "message".to_string();
    let mut data = None;
    for line in raw.lines() {
        if let Some(name) = line.strip_prefix("event: ") {
            event = name.to_string();
        } else if let Some(d) = line.strip_prefix("data: ") {
            data = Some(serde_json::from_str(d).unwrap());
        }
    }
    Some((event, data?))
}

/// An HTTP/1.1 client of one request, reading a chunked body as it comes.
pub(crate) struct RawClient {
    stream: TcpStream,
    buffer: Vec<u8>,
}

impl RawClient {
    pub(crate) async fn get(addr: std::net::SocketAddr, path: &str, token: &str, small_buffer: bool) -> RawClient {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        if small_buffer {
            socket.set_recv_buffer_size(4096).unwrap();
        }
        let mut stream = socket.connect(addr).await.unwrap();
        let head = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\r\n");
        stream.write_all(head.as_bytes()).await.unwrap();
        RawClient { stream, buffer: Vec::new() }
    }

    async fn fill(&mut self) -> bool {
        let mut chunk = [0u8; 8192];
        let n = self.stream.read(&mut chunk).await.unwrap_or(0);
        self.buffer.extend_from_slice(&chunk[..n]);
        n > 0
    }

    /// The status line and headers.
    pub(crate) async fn head(&mut self) -> String {
        loop {
            if let Some(at) = find(&self.buffer, b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&self.buffer[..at]).into_owned();
                self.buffer.drain(..at + 4);
                return head;
            }
            assert!(self.fill().await, "connection closed before the head");
        }
    }

    /// The next chunk of a chunked body; `None` at its end.
    async fn chunk(&mut self) -> Option<Vec<u8>> {
        loop {
            if let Some(at) = find(&self.buffer, b"\r\n") {
                let size = usize::from_str_radix(std::str::from_utf8(&self.buffer[..at]).unwrap().trim(), 16).unwrap();
                if self.buffer.len() >= at + 2 + size + 2 {
                    let data = self.buffer[at + 2..at + 2 + size].to_vec();
                    self.buffer.drain(..at + 2 + size + 2);
                    return (size > 0).then_some(data);
                }
            }
            if !self.fill().await {
                return None;
            }
        }
    }

    /// SSE messages as `(event, data)` until `stop` says so or the body
    /// ends; the first 16 of them are returned.
    pub(crate) async fn messages_until(&mut self, mut stop: impl FnMut(&str, &Value) -> bool) -> Vec<(String, Value)> {
        let mut text = String::new();
        let mut out = Vec::new();
        while let Some(chunk) = self.chunk().await {
            text.push_str(std::str::from_utf8(&chunk).unwrap());
            while let Some(at) = text.find("\n\n") {
                let raw: String = text.drain(..at + 2).collect();
                if let Some((name, data)) = parse_message(&raw) {
                    let done = stop(&name, &data);
                    // Kept small: the memory test counts this process.
                    if out.len() < 16 {
                        out.push((name, data));
                    }
                    if done {
                        return out;
                    }
                }
            }
        }
        out
    }
}

/// What a client of the churn test saw, without keeping the messages.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Tally {
    /// Events of `app/churn` received.
    pub(crate) churn: u64,
    /// Events reported missed.
    pub(crate) missed: u64,
    /// Whether those events alternated exited, started, ...
    pub(crate) in_order: bool,
    /// Whether the stream reached the exit of `app/marker`.
    pub(crate) reached_marker: bool,
}

impl RawClient {
    pub(crate) async fn tally(&mut self, marker: &str) -> Tally {
        let mut tally = Tally { churn: 0, missed: 0, in_order: true, reached_marker: false };
        self.messages_until(|name, data| {
            if name == "lagged" {
                tally.missed += data["missed"].as_u64().unwrap_or(0);
            } else if data["path"] == "app/churn" {
                // Each cycle is an exit then a start; a gap keeps the count.
                let want = if (tally.churn + tally.missed).is_multiple_of(2) { "exited" } else { "started" };
                tally.in_order &= data["kind"] == want;
                tally.churn += 1;
            } else if data["path"] == marker && data["kind"] == "exited" {
                tally.reached_marker = true;
                return true;
            }
            false
        })
        .await;
        tally
    }
}

pub(crate) fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

pub(crate) async fn http_get(addr: std::net::SocketAddr, path: &str) -> String {
    let mut client = RawClient::get(addr, path, READ, false).await;
    client.head().await
}

/// The tree with the admin server as a child.
pub(crate) async fn start_served(config: AdminConfig) -> (SupervisorHandle, AdminServer) {
    let server = AdminServer::new(config);
    let tree = SupervisorSpec::new("app")
        .child(ChildSpec::from_fn("churn", idle))
        .child(ChildSpec::from_fn("marker", idle))
        .child(ChildSpec::from_fn("marker2", idle))
        .child(ChildSpec::worker("admin", server.clone()))
        .start()
        .await
        .unwrap();
    (tree, server)
}
