//! The scenarios: each times one library's children (see `contenders`)
//! the same way for every library, in a fresh process, and returns its
//! figures as `(metric, value)` pairs; a value is a number, or a note
//! saying why there is no number.

use std::time::{Duration, Instant};

use crate::contenders::{self, Running, Scope};
use crate::libs::Lib;
use crate::probe::{Probe, rss_bytes};

/// One figure: a number, or the reason there is none.
pub(crate) enum Value {
    Num(f64),
    Note(String),
}

pub(crate) type Figures = Vec<(&'static str, Value)>;

/// The scenarios, in the order of the table.
pub(crate) const SCENARIOS: [&str; 6] =
    ["start_10000", "restart_one_for_one", "restart_one_for_all", "shutdown_10000", "one_for_all_100", "dynamic_10000"];

/// Children started, stopped, or added at run time in the big scenarios.
pub(crate) const CHILDREN: usize = 10_000;
/// Restarts recorded by a restart scenario (fewer if its time runs out).
pub(crate) const RESTARTS: usize = 20_000;
/// How long a restart scenario may take to record them.
pub(crate) const RESTART_LIMIT: Duration = Duration::from_secs(3);
/// Intervals below which a restart figure means nothing.
const MIN_INTERVALS: usize = 100;
/// Rounds of the one_for_all scenario per process.
pub(crate) const OFA_ROUNDS: usize = 15;
/// Children of the one_for_all scenario.
pub(crate) const OFA_CHILDREN: usize = 100;
/// Tasks that add dynamic children at once.
pub(crate) const DYNAMIC_TASKS: usize = 4;
/// How long children may take to end after a shutdown returned before
/// they count as leaked.
const LEAK_LIMIT: Duration = Duration::from_secs(2);
/// How long children may take to start.
const START_LIMIT: Duration = Duration::from_secs(30);

pub(crate) async fn run(scenario: &str, lib: Lib) -> Result<Figures, String> {
    match scenario {
        "start_10000" => start(lib, CHILDREN).await,
        "restart_one_for_one" => restart(lib, Scope::OneForOne).await,
        "restart_one_for_all" => restart(lib, Scope::OneForAll).await,
        "shutdown_10000" => shutdown(lib, CHILDREN).await,
        "one_for_all_100" => one_for_all(lib, OFA_CHILDREN).await,
        "dynamic_10000" => dynamic(lib, CHILDREN).await,
        other => Err(format!("unknown scenario `{other}`")),
    }
}

fn ms(d: Duration) -> Value {
    Value::Num(d.as_secs_f64() * 1e3)
}

async fn wait_started(probe: &Probe, n: usize) -> Result<(), String> {
    tokio::time::timeout(START_LIMIT, probe.wait_started(n))
        .await
        .map_err(|_| format!("only {} of {n} children started within {START_LIMIT:?}", probe.started()))
}

/// From before the spec is built until every child has begun its first
/// poll; resident memory grown over the same span, per child.
async fn start(lib: Lib, n: usize) -> Result<Figures, String> {
    let probe = Probe::new(0);
    let rss0 = rss_bytes();
    let t0 = Instant::now();
    let running = contenders::idle(lib, &probe, n).await?;
    wait_started(&probe, n).await?;
    let elapsed = t0.elapsed();
    let rss1 = rss_bytes();
    // The process ends next; stopping the children is not what this measures.
    std::mem::forget(running);
    Ok(vec![("time_ms", ms(elapsed)), ("bytes_per_child", Value::Num(rss1.saturating_sub(rss0) as f64 / n as f64))])
}

/// One child that fails at once: the interval between consecutive run
/// starts.
async fn restart(lib: Lib, scope: Scope) -> Result<Figures, String> {
    let probe = Probe::new(RESTARTS);
    let running = contenders::crashing(lib, &probe, scope).await?;
    let finished = tokio::time::timeout(RESTART_LIMIT, probe.wait_recorded()).await.is_ok();
    std::mem::forget(running);
    let times = probe.start_times();
    if times.len() <= MIN_INTERVALS {
        return Ok(vec![(
            "median_us",
            Value::Note(format!("only {} runs in {RESTART_LIMIT:?}: restarts stopped or are too slow", times.len())),
        )]);
    }
    let mut gaps: Vec<u64> = times.windows(2).map(|w| w[1] - w[0]).collect();
    gaps.sort_unstable();
    let total = (times[times.len() - 1] - times[0]) as f64 / 1e9;
    let mut figures: Figures = vec![
        ("median_us", Value::Num(percentile(&gaps, 0.5) / 1e3)),
        ("p99_us", Value::Num(percentile(&gaps, 0.99) / 1e3)),
        ("restarts_per_s", Value::Num((times.len() - 1) as f64 / total)),
    ];
    if !finished {
        figures.push(("note", Value::Note(format!("{} restarts within the {RESTART_LIMIT:?} limit", times.len() - 1))));
    }
    Ok(figures)
}

pub(crate) fn percentile(sorted: &[u64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[i] as f64
}

/// How a shutdown ended: when it returned, and when the last child ended.
struct Stopped {
    /// Until the shutdown returned and every child had ended, whichever
    /// came last: the same end point for every library.
    until_all_gone: Option<Duration>,
    /// Children alive when the shutdown returned.
    alive_after: isize,
    /// What the table must say about it, if anything.
    note: Option<String>,
}

async fn stop(running: Running, probe: &Probe) -> Result<Stopped, String> {
    let t0 = Instant::now();
    running.shutdown().await?;
    let returned = t0.elapsed();
    let alive_after = probe.alive();
    if alive_after == 0 {
        let gone = probe.all_gone_after(t0).unwrap_or(returned);
        return Ok(Stopped { until_all_gone: Some(returned.max(gone)), alive_after, note: None });
    }
    if probe.wait_none_alive(LEAK_LIMIT).await {
        let gone = probe.all_gone_after(t0).unwrap_or(returned);
        let note = format!(
            "returned after {:.2} ms with {alive_after} children still alive; the last ended {:.2} ms after the call",
            returned.as_secs_f64() * 1e3,
            gone.as_secs_f64() * 1e3
        );
        return Ok(Stopped { until_all_gone: Some(gone), alive_after, note: Some(note) });
    }
    let note = format!(
        "returned after {:.2} ms with {alive_after} children alive; {} still alive {LEAK_LIMIT:?} later",
        returned.as_secs_f64() * 1e3,
        probe.alive()
    );
    Ok(Stopped { until_all_gone: None, alive_after, note: Some(note) })
}

impl Stopped {
    /// The children left, and what the table must say (the times are the
    /// caller's).
    fn push_outcome(self, figures: &mut Figures) {
        figures.push(("alive_after", Value::Num(self.alive_after as f64)));
        match (self.until_all_gone, self.note) {
            (None, note) => figures.push(("leak", Value::Note(note.unwrap_or_default()))),
            (Some(_), Some(note)) => figures.push(("early", Value::Note(note))),
            (Some(_), None) => {}
        }
    }
}

/// From the call until it has returned and every child has ended; the
/// children alive when it returned must be 0.
async fn shutdown(lib: Lib, n: usize) -> Result<Figures, String> {
    let probe = Probe::new(0);
    let running = contenders::idle(lib, &probe, n).await?;
    wait_started(&probe, n).await?;
    let stopped = stop(running, &probe).await?;
    let mut figures: Figures = stopped.until_all_gone.map(|d| ("time_ms", ms(d))).into_iter().collect();
    stopped.push_outcome(&mut figures);
    Ok(figures)
}

/// One child of `n` fails: the time until all `n` have started again;
/// runs of the old generation still alive then must be 0.
async fn one_for_all(lib: Lib, n: usize) -> Result<Figures, String> {
    let probe = Probe::new(0);
    let running = contenders::one_for_all(lib, &probe, n).await?;
    wait_started(&probe, n).await?;
    let mut rounds = Vec::with_capacity(OFA_ROUNDS);
    let mut extra_alive = 0isize;
    for round in 1..=OFA_ROUNDS {
        // Let the restarted children reach their await points.
        tokio::time::sleep(Duration::from_millis(2)).await;
        let t0 = Instant::now();
        probe.trigger.notify_one();
        let waited = tokio::time::timeout(Duration::from_secs(10), probe.wait_started(n * (round + 1))).await;
        if waited.is_err() {
            return Ok(vec![("time_us", Value::Note(format!("children did not all run again (round {round})")))]);
        }
        rounds.push(u64::try_from(t0.elapsed().as_nanos()).unwrap_or(u64::MAX));
        tokio::time::sleep(Duration::from_millis(1)).await;
        extra_alive = extra_alive.max(probe.alive() - n as isize);
    }
    std::mem::forget(running);
    rounds.sort_unstable();
    let mut figures: Figures =
        vec![("time_us", Value::Num(percentile(&rounds, 0.5) / 1e3)), ("extra_alive", Value::Num(extra_alive as f64))];
    if extra_alive > 0 {
        figures.push(("leak", Value::Note(format!("old runs not stopped: {extra_alive} extra children alive"))));
    }
    Ok(figures)
}

/// `n` children added from several tasks to a running supervisor, then
/// the shutdown: from the first call until every child has ended.
async fn dynamic(lib: Lib, n: usize) -> Result<Figures, String> {
    let probe = Probe::new(0);
    let t0 = Instant::now();
    let running = contenders::dynamic(lib, &probe, n, DYNAMIC_TASKS).await?;
    wait_started(&probe, n).await?;
    let added = t0.elapsed();
    let mut figures: Figures = vec![("start_ms", ms(added))];
    let stopped = stop(running, &probe).await?;
    if let Some(d) = stopped.until_all_gone {
        figures.push(("time_ms", ms(added + d)));
        figures.push(("stop_ms", ms(d)));
    }
    stopped.push_outcome(&mut figures);
    Ok(figures)
}
