//! An axum server as a supervised worker: it shuts down gracefully when its
//! run is stopped, and its handlers reach a job consumer through an
//! `Address`. The example serves a few requests to itself and stops.
//! Run it with `cargo run --example axum`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use supervisor::mailbox::{Address, Mailbox, Reply};
use supervisor::{Context, supervision_tree, worker};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

enum Job {
    Submit(String),
    Done(Reply<u64>),
}

/// Does the jobs the handlers submit. Declared before the server: it stops
/// after it, and takes whatever the server accepted before stopping.
#[worker(shutdown = 5s)]
#[derive(Clone)]
struct Jobs {
    inbox: Mailbox<Job>,
}

impl Jobs {
    async fn run(self, ctx: Context) -> anyhow::Result<()> {
        let mut inbox = self.inbox.receiver(&ctx)?;
        let mut done = 0;
        while let Some(job) = inbox.recv().await {
            match job {
                Job::Submit(name) => {
                    done += 1;
                    println!("  job {done}: {name}");
                }
                Job::Done(reply) => {
                    let _ = reply.send(done);
                }
            }
        }
        Ok(())
    }
}

/// Serves HTTP on a listener bound once, before the tree starts: a restart
/// serves on the same port.
#[worker(shutdown = 5s)]
#[derive(Clone)]
struct Http {
    listener: Arc<std::net::TcpListener>,
    jobs: Address<Job>,
}

impl Http {
    async fn run(self, ctx: Context) -> anyhow::Result<()> {
        let listener = tokio::net::TcpListener::from_std(self.listener.try_clone()?)?;
        let app = Router::new().route("/jobs", post(submit)).route("/jobs/done", get(done)).with_state(self.jobs);
        // `with_graceful_shutdown` takes a `'static` future: the run's token
        // gives one that owns what it waits on.
        axum::serve(listener, app).with_graceful_shutdown(ctx.cancelled_owned()).await?;
        Ok(())
    }
}

/// `POST /jobs`: queues the body as a job; 503 if the consumer cannot take
/// it within a second (it may be restarting, or stopped).
async fn submit(State(jobs): State<Address<Job>>, body: String) -> (StatusCode, String) {
    match jobs.send_timeout(Job::Submit(body), Duration::from_secs(1)).await {
        Ok(()) => (StatusCode::ACCEPTED, "queued\n".into()),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, format!("{e}\n")),
    }
}

/// `GET /jobs/done`: asks the consumer how many jobs it has done.
async fn done(State(jobs): State<Address<Job>>) -> (StatusCode, String) {
    match jobs.call(Job::Done, Duration::from_secs(1)).await {
        Ok(n) => (StatusCode::OK, format!("{n}\n")),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, format!("{e}\n")),
    }
}

/// One HTTP/1.1 request; returns the status code and the body.
async fn request(addr: SocketAddr, method: &str, path: &str, body: &str) -> anyhow::Result<(u16, String)> {
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await?;
    let status = response.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = response.split_once("\r\n\r\n").map(|(_, b)| b.trim().to_string()).unwrap_or_default();
    Ok((status, body))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let (jobs, inbox) = supervisor::mailbox::<Job>(256);

    // Declare first what others depend on: the consumer, then the server.
    let tree = supervision_tree! {
        supervisor app {
            worker jobs = Jobs { inbox };
            worker http = Http { listener: Arc::new(listener), jobs: jobs.clone() };
        }
    }
    .start()
    .await?;
    println!("serving on http://{addr}");

    for name in ["resize photo", "send invoice", "rebuild index"] {
        let (status, body) = request(addr, "POST", "/jobs", name).await?;
        println!("POST /jobs {name:?} -> {status} {body}");
        anyhow::ensure!(status == 202, "the job was not accepted");
    }
    let (status, body) = request(addr, "GET", "/jobs/done", "").await?;
    println!("GET /jobs/done -> {status} {body}");
    anyhow::ensure!(status == 200 && body == "3", "the consumer has not done the three jobs");

    tree.shutdown().await?;
    println!("stopped: server first, then the consumer");
    Ok(())
}
