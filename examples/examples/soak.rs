//! Soak test: restarts children as fast as they fail, for a long time, and
//! checks that memory stays flat and that event queues stay bounded.
//!
//! ```text
//! cargo run --release -p supervisor-examples --example soak                # 2 s
//! cargo run --release -p supervisor-examples --example soak -- --minutes 10
//! SOAK_SECONDS=120 cargo run --release -p supervisor-examples --example soak
//! ```
//!
//! Every sample prints restarts per second, events per second and the
//! resident set size (from /proc/self/status, Linux only). The run fails
//! (exit code 1) when, after the warm-up, RSS grows by more than the
//! threshold (`--max-growth-mib`, default 16 MiB), when a subscriber that
//! never reads holds more than the event capacity, or when a command takes
//! longer than a second.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use supervisor::{ChildSpec, Context, Escalation, GroupSpec, RecvError, Restart, Shutdown, Strategy, SupervisorSpec};

/// Events a subscriber may hold before it starts losing the oldest (the
/// runtime's capacity; a subscriber must never hold more).
const EVENT_CAPACITY: u64 = 1024;

struct Args {
    run: Duration,
    max_growth_mib: f64,
}

fn args() -> Result<Args, String> {
    let mut run = std::env::var("SOAK_SECONDS")
        .ok()
        .map(|s| s.parse::<f64>().map_err(|e| format!("SOAK_SECONDS: {e}")))
        .transpose()?
        .map_or(Duration::from_secs(2), Duration::from_secs_f64);
    let mut max_growth_mib = 16.0;
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| {
            it.next().ok_or(format!("{name} needs a value"))?.parse::<f64>().map_err(|e| format!("{name}: {e}"))
        };
        match arg.as_str() {
            "--minutes" => run = Duration::from_secs_f64(value("--minutes")? * 60.0),
            "--seconds" => run = Duration::from_secs_f64(value("--seconds")?),
            "--max-growth-mib" => max_growth_mib = value("--max-growth-mib")?,
            other => {
                return Err(format!("unknown argument `{other}` (use --minutes N, --seconds N, --max-growth-mib M)"));
            }
        }
    }
    Ok(Args { run, max_growth_mib })
}

/// Resident set size in MiB, from /proc/self/status (None off Linux).
fn rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// A worker that runs for a moment, then fails in one of several ways; it
/// counts its runs.
fn flaky(id: &str, runs: &Arc<AtomicU64>) -> ChildSpec {
    let runs = runs.clone();
    ChildSpec::from_fn(id, move |ctx: Context| {
        let runs = runs.clone();
        async move {
            let n = runs.fetch_add(1, Ordering::Relaxed);
            tokio::select! {
                _ = ctx.cancelled() => return Ok(()),
                _ = tokio::time::sleep(Duration::from_micros(200 + n % 800)) => {}
            }
            match n % 4 {
                0 => Err(format!("failure #{n}")),
                1 => panic!("soak panic #{n}"),
                2 => Ok(()),
                _ => Err(format!("another failure #{n}")),
            }
        }
    })
    .shutdown(Duration::from_millis(100))
}

fn idle(id: &str) -> ChildSpec {
    ChildSpec::from_fn(id, |ctx: Context| async move { ctx.cancelled().await })
}

fn spec(runs: &Arc<AtomicU64>) -> SupervisorSpec {
    // Budgets far above what the failures use: the tree restarts forever.
    let inner = SupervisorSpec::new("inner")
        .strategy(Strategy::OneForAll)
        .max_restarts(1_000_000)
        .within(Duration::from_secs(1))
        .child(idle("calm"))
        .child(flaky("a", runs))
        .child(flaky("b", runs).shutdown(Shutdown::BrutalKill));
    let mut root = SupervisorSpec::new("soak")
        .max_restarts(1_000_000)
        .within(Duration::from_secs(1))
        .escalation(Escalation::Escalate)
        .group(GroupSpec::new("chain").strategy(Strategy::RestForOne))
        .child(idle("steady"))
        .child(ChildSpec::supervisor(inner));
    for i in 0..6 {
        root = root.child(flaky(&format!("w{i}"), runs));
    }
    for i in 0..3 {
        root = root.child(flaky(&format!("chain{i}"), runs).group("chain"));
    }
    root.child(flaky("transient", runs).restart(Restart::Transient))
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("soak: {e}");
            return ExitCode::from(2);
        }
    };
    // The panics are on purpose; keep the output to the figures.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let msg = info.payload().downcast_ref::<String>().map(String::as_str).unwrap_or("");
        if !msg.starts_with("soak panic") {
            default_hook(info);
        }
    }));

    let runs = Arc::new(AtomicU64::new(0));
    let tree = match spec(&runs).start().await {
        Ok(t) => t,
        Err(e) => {
            eprintln!("soak: the tree did not start: {e}");
            return ExitCode::FAILURE;
        }
    };

    // One subscriber that keeps up, and one that never reads: the latter
    // must lose the oldest events, never hold more than the capacity.
    let events = Arc::new(AtomicU64::new(0));
    let lagged = Arc::new(AtomicU64::new(0));
    let reader = {
        let (events, lagged) = (events.clone(), lagged.clone());
        let mut sub = tree.subscribe();
        tokio::spawn(async move {
            loop {
                match sub.recv().await {
                    Ok(_) => {
                        events.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(RecvError::Lagged(n)) => {
                        lagged.fetch_add(n, Ordering::Relaxed);
                    }
                    Err(RecvError::Closed) => return,
                }
            }
        })
    };
    let mut sleeper = tree.subscribe();

    // Dynamic children come and go meanwhile.
    let churn = {
        let tree = tree.clone();
        let runs = runs.clone();
        tokio::spawn(async move {
            let mut n = 0u64;
            loop {
                let id = format!("dyn{}", n % 4);
                let _ = tree.start_child(flaky(&id, &runs).restart(Restart::Temporary)).await;
                let _ = tree.terminate_child(&id).await;
                let _ = tree.delete_child(&id).await;
                n += 1;
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        })
    };

    let started = Instant::now();
    let warmup = (args.run / 5).max(Duration::from_millis(500)).min(Duration::from_secs(30));
    let interval =
        if args.run <= Duration::from_secs(10) { Duration::from_millis(250) } else { Duration::from_secs(5) };
    let mut failures = Vec::new();
    let mut baseline: Option<f64> = None;
    let mut peak_after_warmup: f64 = 0.0;
    let (mut last_runs, mut last_events, mut last_at) = (0u64, 0u64, Instant::now());
    let mut slowest_command = Duration::ZERO;
    println!("soak: running {:?} (warm-up {warmup:?}), RSS threshold +{} MiB", args.run, args.max_growth_mib);
    println!("{:>8} {:>12} {:>12} {:>10} {:>10}", "t (s)", "restarts/s", "events/s", "RSS MiB", "cmd ms");
    while started.elapsed() < args.run {
        tokio::time::sleep(interval).await;
        let t = Instant::now();
        match tokio::time::timeout(Duration::from_secs(1), tree.which_children()).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => failures.push(format!("which_children failed: {e}")),
            Err(_) => failures.push("which_children took more than a second".to_string()),
        }
        let cmd = t.elapsed();
        slowest_command = slowest_command.max(cmd);
        let (r, e) = (runs.load(Ordering::Relaxed), events.load(Ordering::Relaxed));
        let dt = last_at.elapsed().as_secs_f64();
        let rss = rss_mib();
        println!(
            "{:>8.1} {:>12.0} {:>12.0} {:>10} {:>10.2}",
            started.elapsed().as_secs_f64(),
            (r - last_runs) as f64 / dt,
            (e - last_events) as f64 / dt,
            rss.map_or("n/a".to_string(), |m| format!("{m:.1}")),
            cmd.as_secs_f64() * 1000.0
        );
        (last_runs, last_events, last_at) = (r, e, Instant::now());
        if let Some(m) = rss
            && started.elapsed() >= warmup
        {
            match baseline {
                None => baseline = Some(m),
                Some(_) => peak_after_warmup = peak_after_warmup.max(m),
            }
        }
    }
    churn.abort();
    let _ = churn.await;

    let shutdown_started = Instant::now();
    let result = tree.shutdown().await;
    let shutdown_took = shutdown_started.elapsed();
    let _ = reader.await;
    if let Err(e) = result {
        failures.push(format!("the tree ended with an error: {e}"));
    }
    // The subscriber that never read holds at most the capacity. It is drained
    // once the tree has ended: draining a running tree would also count the
    // events sent meanwhile.
    let mut held = 0u64;
    let mut lost = 0u64;
    while let Some(r) = sleeper.try_recv() {
        match r {
            Ok(_) => held += 1,
            Err(RecvError::Lagged(n)) => lost += n,
            Err(RecvError::Closed) => break,
        }
    }
    if held > EVENT_CAPACITY {
        failures.push(format!("a subscriber that never read holds {held} events, above {EVENT_CAPACITY}"));
    }

    let total = runs.load(Ordering::Relaxed);
    let secs = started.elapsed().as_secs_f64();
    println!("soak: {total} runs in {secs:.1} s ({:.0} restarts/s on average)", total as f64 / secs);
    println!(
        "soak: {} events read ({} lost by the reader), the idle subscriber held {held} and lost {lost}",
        events.load(Ordering::Relaxed),
        lagged.load(Ordering::Relaxed)
    );
    println!(
        "soak: slowest which_children {:.2} ms, shutdown took {:?}",
        slowest_command.as_secs_f64() * 1000.0,
        shutdown_took
    );
    match baseline {
        Some(base) => {
            let growth = (peak_after_warmup - base).max(0.0);
            println!("soak: RSS after warm-up {base:.1} MiB, peak later {peak_after_warmup:.1} MiB (+{growth:.1} MiB)");
            if growth > args.max_growth_mib {
                failures.push(format!("RSS grew by {growth:.1} MiB after warm-up, above {} MiB", args.max_growth_mib));
            }
        }
        None => println!("soak: RSS not measured (no /proc/self/status, or the run ended within the warm-up)"),
    }
    if failures.is_empty() {
        println!("soak: ok");
        ExitCode::SUCCESS
    } else {
        for f in &failures {
            eprintln!("soak: FAILED: {f}");
        }
        ExitCode::FAILURE
    }
}
