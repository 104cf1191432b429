//! Mailboxes against the bare tokio channels they are made of, in one
//! process and interleaved: messages per second through `Address ->
//! Mailbox` against `tokio::sync::mpsc`, and a `call` round trip against
//! mpsc + oneshot. Target: at most 1.2x each.
//!
//! `cargo run -p supervisor-benches --release -- mailbox [--reps N]`
//!
//! Prints the tables and writes them to `benches/MAILBOX.md`, with the date,
//! the machine and the command: the figures the guide quotes come from it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use supervisor::mailbox::Reply;
use supervisor::{ChildSpec, Context, SupervisorHandle, SupervisorSpec};
use tokio::sync::{Notify, mpsc, oneshot};

/// Messages per throughput round.
const MESSAGES: u64 = 1_000_000;
/// Calls per round-trip round.
const CALLS: u64 = 100_000;
/// Capacity of every queue.
const CAPACITY: usize = 1024;
/// The most ratio the targets allow.
const TARGET: f64 = 1.2;

pub(crate) fn main(args: &[String]) {
    let reps = crate::report::reps_arg(args, 9, "mailbox");
    // One thread: the cost of the mailbox alone. Two workers: the same
    // cases where tasks may meet on one thread or on two, as tokio places
    // them (noisier; placement, not the mailbox, moves these figures).
    let flavors: [(&str, MakeRuntime); 2] = [
        ("current_thread runtime", || tokio::runtime::Builder::new_current_thread().enable_all().build()),
        ("multi_thread runtime, 2 workers", || {
            tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()
        }),
    ];
    let mut md = crate::report::header_of(
        "Mailbox benchmark",
        &format!("cargo run -p supervisor-benches --release -- mailbox --reps {reps}"),
        &format!("each case timed alone, cases interleaved in one process; medians of {reps} repetitions"),
    );
    for (name, build) in flavors {
        let rt = match build() {
            Ok(rt) => rt,
            Err(e) => {
                eprintln!("no runtime: {e}");
                std::process::exit(1);
            }
        };
        match rt.block_on(measure(reps)) {
            Ok(table) => md += &format!("## {name}\n\n{table}\n"),
            Err(e) => return crate::report::finish_report("MAILBOX.md", md, Err(e)),
        }
    }
    crate::report::finish_report("MAILBOX.md", md, Ok(String::new()));
}

/// Builds a runtime to measure on.
type MakeRuntime = fn() -> std::io::Result<tokio::runtime::Runtime>;

/// Renders a median.
type Show = dyn Fn(Duration) -> String;

/// The cases, each timed alone; a row of the table compares two of them.
const CASES: usize = 6;

async fn run_case(case: usize) -> Result<Duration, String> {
    match case {
        0 => Ok(bare_throughput().await),
        1 => mailbox_throughput().await,
        2 => Ok(bare_calls(None).await),
        3 => mailbox_calls(Duration::MAX).await,
        4 => Ok(bare_calls(Some(CALL_TIMEOUT)).await),
        _ => mailbox_calls(CALL_TIMEOUT).await,
    }
}

/// The timeout of the timed calls.
const CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// Medians of every case over `reps` interleaved repetitions, as a table.
async fn measure(reps: usize) -> Result<String, String> {
    let mut times: [Vec<Duration>; CASES] = Default::default();
    for rep in 0..reps {
        eprint!("\rrep {}/{reps}", rep + 1);
        // The order rotates so that no case always runs on a warm cache.
        for k in 0..CASES {
            let case = (k + rep) % CASES;
            // In a task of its own, as the other side is: both on the
            // runtime's workers.
            let t = tokio::spawn(run_case(case)).await.map_err(|e| e.to_string())??;
            times[case].push(t);
        }
    }
    eprintln!();
    let t = times.map(median);
    let per_s = |d: Duration| format!("{:.0} /s", MESSAGES as f64 / d.as_secs_f64());
    let per_call = |d: Duration| format!("{:.2} µs", d.as_secs_f64() * 1e6 / CALLS as f64);
    let rows: [(String, usize, usize, &Show); 4] = [
        (format!("{MESSAGES} messages, capacity {CAPACITY}: messages per second"), 0, 1, &per_s),
        (format!("{CALLS} calls in a row, no timer (`Duration::MAX`) vs mpsc + oneshot"), 2, 3, &per_call),
        (
            format!("{CALLS} calls, {CALL_TIMEOUT:?} timeout vs mpsc + oneshot + `tokio::time::timeout`"),
            4,
            5,
            &per_call,
        ),
        (format!("{CALLS} calls, {CALL_TIMEOUT:?} timeout vs mpsc + oneshot (no timer)"), 2, 5, &per_call),
    ];
    let mut table = format!(
        "| mailbox case | bare tokio | supervisor::mailbox | ratio (target <= {TARGET}x) |\n|---|---|---|---|\n"
    );
    for (label, bare, mailbox, show) in rows {
        let ratio = t[mailbox].as_secs_f64() / t[bare].as_secs_f64();
        let verdict = if ratio <= TARGET { "met" } else { "missed" };
        table += &format!("| {label} | {} | {} | {ratio:.3}x ({verdict}) |\n", show(t[bare]), show(t[mailbox]));
    }
    table += &format!(
        "\nmedian of {reps} interleaved repetitions; a ratio is time with the mailbox over time with bare tokio"
    );
    Ok(table)
}

pub(crate) fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs.get(xs.len() / 2).copied().unwrap_or_default()
}

/// A tree with one worker made of `run`.
async fn tree_of<F, Fut>(run: F) -> Result<SupervisorHandle, String>
where
    F: Fn(Context) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    SupervisorSpec::new("bench").child(ChildSpec::from_fn("worker", run)).start().await.map_err(|e| e.to_string())
}

async fn bare_throughput() -> Duration {
    let (tx, mut rx) = mpsc::channel::<u64>(CAPACITY);
    let (done_tx, done_rx) = oneshot::channel();
    let consumer = tokio::spawn(async move {
        let mut count = 0;
        while let Some(m) = rx.recv().await {
            std::hint::black_box(m);
            count += 1;
            if count == MESSAGES {
                let _ = done_tx.send(());
                break;
            }
        }
    });
    let start = Instant::now();
    for i in 0..MESSAGES {
        let _ = tx.send(i).await;
    }
    let _ = done_rx.await;
    let elapsed = start.elapsed();
    let _ = consumer.await;
    elapsed
}

async fn mailbox_throughput() -> Result<Duration, String> {
    let (address, inbox) = supervisor::mailbox::<u64>(CAPACITY);
    let done = Arc::new(Notify::new());
    let tree = tree_of({
        let done = done.clone();
        move |ctx: Context| {
            let (inbox, done) = (inbox.clone(), done.clone());
            async move {
                let Ok(mut rx) = inbox.receiver(&ctx) else { return };
                let mut count = 0;
                while let Some(m) = rx.recv().await {
                    std::hint::black_box(m);
                    count += 1;
                    if count == MESSAGES {
                        done.notify_one();
                    }
                }
            }
        }
    })
    .await?;
    let start = Instant::now();
    for i in 0..MESSAGES {
        address.send(i).await.map_err(|e| e.to_string())?;
    }
    done.notified().await;
    let elapsed = start.elapsed();
    tree.shutdown().await.map_err(|e| e.to_string())?;
    Ok(elapsed)
}

/// Calls over mpsc + oneshot; with a timeout, each answer is awaited under
/// `tokio::time::timeout`, the guarantee a timed `call` gives.
async fn bare_calls(timeout: Option<Duration>) -> Duration {
    let (tx, mut rx) = mpsc::channel::<(u64, oneshot::Sender<u64>)>(CAPACITY);
    let server = tokio::spawn(async move {
        while let Some((n, reply)) = rx.recv().await {
            let _ = reply.send(n + 1);
        }
    });
    let start = Instant::now();
    for i in 0..CALLS {
        let (reply, answer) = oneshot::channel();
        let _ = tx.send((i, reply)).await;
        if let Some(timeout) = timeout {
            let _ = std::hint::black_box(tokio::time::timeout(timeout, answer).await);
        } else {
            let _ = std::hint::black_box(answer.await);
        }
    }
    let elapsed = start.elapsed();
    drop(tx);
    let _ = server.await;
    elapsed
}

async fn mailbox_calls(timeout: Duration) -> Result<Duration, String> {
    let (address, inbox) = supervisor::mailbox::<(u64, Reply<u64>)>(CAPACITY);
    let tree = tree_of(move |ctx: Context| {
        let inbox = inbox.clone();
        async move {
            let Ok(mut rx) = inbox.receiver(&ctx) else { return };
            while let Some((n, reply)) = rx.recv().await {
                let _ = reply.send(n + 1);
            }
        }
    })
    .await?;
    let start = Instant::now();
    for i in 0..CALLS {
        let answer = address.call(|reply| (i, reply), timeout).await.map_err(|e| e.to_string())?;
        std::hint::black_box(answer);
    }
    let elapsed = start.elapsed();
    tree.shutdown().await.map_err(|e| e.to_string())?;
    Ok(elapsed)
}
