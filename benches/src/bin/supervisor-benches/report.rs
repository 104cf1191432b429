//! Collects the figures of every run and renders the markdown report.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::process::Command;

use crate::scenarios::{LIBS, Lib, OFA_CHILDREN, OFA_ROUNDS, RESTARTS, Value};

/// One run's figures, or why it failed.
pub(crate) type Outcome = Result<Vec<(String, Value)>, String>;

/// Every run's outcome, by scenario and library.
#[derive(Default)]
pub(crate) struct Results {
    runs: BTreeMap<(String, &'static str), Vec<Outcome>>,
}

impl Results {
    pub(crate) fn add(&mut self, scenario: &str, lib: Lib, out: Outcome) {
        self.runs.entry((scenario.to_string(), lib.key())).or_default().push(out);
    }

    /// Median of a numeric metric over the successful runs.
    fn median(&self, scenario: &str, lib: Lib, metric: &str) -> Option<f64> {
        let runs = self.runs.get(&(scenario.to_string(), lib.key()))?;
        let mut xs: Vec<f64> = runs
            .iter()
            .filter_map(|r| r.as_ref().ok())
            .filter_map(|fs| fs.iter().find(|(k, _)| k == metric))
            .filter_map(|(_, v)| match v {
                Value::Num(x) => Some(*x),
                Value::Note(_) => None,
            })
            .collect();
        if xs.is_empty() {
            return None;
        }
        xs.sort_by(f64::total_cmp);
        let m = xs.len() / 2;
        Some(if xs.len() % 2 == 1 { xs[m] } else { (xs[m - 1] + xs[m]) / 2.0 })
    }

    /// Notes (leaks, missing abilities, errors) of a library in a scenario.
    fn notes(&self, scenario: &str, lib: Lib) -> Vec<String> {
        let mut notes: Vec<String> = Vec::new();
        let Some(runs) = self.runs.get(&(scenario.to_string(), lib.key())) else { return notes };
        for r in runs {
            let new = match r {
                Err(e) => vec![format!("error: {e}")],
                Ok(fs) => fs
                    .iter()
                    .filter_map(|(k, v)| match v {
                        Value::Note(n) => {
                            Some(if k == "note" || k == "leak" { n.clone() } else { format!("{k}: {n}") })
                        }
                        Value::Num(_) => None,
                    })
                    .collect(),
            };
            for n in new {
                // Leak notes differ in their numbers from run to run: keep the first.
                let stem = |s: &str| s.chars().filter(|c| !c.is_ascii_digit() && *c != '.').collect::<String>();
                if !notes.iter().any(|m| stem(m) == stem(&n)) {
                    notes.push(n);
                }
            }
        }
        notes
    }

    fn leaked(&self, scenario: &str, lib: Lib) -> bool {
        let Some(runs) = self.runs.get(&(scenario.to_string(), lib.key())) else { return false };
        runs.iter().filter_map(|r| r.as_ref().ok()).any(|fs| fs.iter().any(|(k, _)| k == "leak"))
    }
}

struct Row {
    scenario: &'static str,
    metric: &'static str,
    label: &'static str,
    unit: &'static str,
    /// Whether a ratio to the floor is meaningful.
    ratio: bool,
    /// Whether a leak makes this figure meaningless (a shutdown that returns
    /// before the children end is not a shutdown time).
    leak_voids: bool,
}

const ROWS: &[Row] = &[
    Row {
        scenario: "start_1000",
        metric: "time_ms",
        label: "start 1,000: time to all running",
        unit: "ms",
        ratio: true,
        leak_voids: false,
    },
    Row {
        scenario: "start_1000",
        metric: "bytes_per_child",
        label: "start 1,000: RSS per child",
        unit: "B",
        ratio: true,
        leak_voids: false,
    },
    Row {
        scenario: "start_10000",
        metric: "time_ms",
        label: "start 10,000: time to all running",
        unit: "ms",
        ratio: true,
        leak_voids: false,
    },
    Row {
        scenario: "start_10000",
        metric: "bytes_per_child",
        label: "start 10,000: RSS per child",
        unit: "B",
        ratio: true,
        leak_voids: false,
    },
    Row {
        scenario: "restart",
        metric: "median_us",
        label: "restart: median interval between runs",
        unit: "µs",
        ratio: true,
        leak_voids: false,
    },
    Row {
        scenario: "restart",
        metric: "p99_us",
        label: "restart: p99 interval",
        unit: "µs",
        ratio: true,
        leak_voids: false,
    },
    Row {
        scenario: "restart",
        metric: "restarts_per_s",
        label: "restart: restarts per second (higher is better)",
        unit: "/s",
        ratio: true,
        leak_voids: false,
    },
    Row {
        scenario: "shutdown_10000",
        metric: "time_ms",
        label: "shutdown 10,000: time until shutdown returns",
        unit: "ms",
        ratio: true,
        leak_voids: true,
    },
    Row {
        scenario: "shutdown_10000",
        metric: "alive_after",
        label: "shutdown 10,000: children alive after it",
        unit: "",
        ratio: false,
        leak_voids: false,
    },
    Row {
        scenario: "one_for_all_100",
        metric: "time_us",
        label: "one_for_all 100: one fails → all 100 run again",
        unit: "µs",
        ratio: true,
        leak_voids: true,
    },
    Row {
        scenario: "one_for_all_100",
        metric: "extra_alive",
        label: "one_for_all 100: old runs left alive",
        unit: "",
        ratio: false,
        leak_voids: false,
    },
];

fn fmt_num(x: f64, unit: &str) -> String {
    let s = if x.abs() >= 1000.0 {
        let mut digits = format!("{:.0}", x);
        let mut out = String::new();
        while digits.len() > 3 {
            let tail = digits.split_off(digits.len() - 3);
            out = format!(",{tail}{out}");
        }
        format!("{digits}{out}")
    } else if x.abs() >= 100.0 {
        format!("{x:.0}")
    } else if x.abs() >= 10.0 {
        format!("{x:.1}")
    } else if x == x.trunc() {
        format!("{x:.0}")
    } else {
        format!("{x:.2}")
    };
    if unit.is_empty() { s } else { format!("{s} {unit}") }
}

fn sh(cmd: &str, args: &[&str]) -> String {
    Command::new(cmd)
        .args(args)
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| s.lines().next().and_then(|l| l.split_whitespace().nth(1)).and_then(|kb| kb.parse::<u64>().ok()))
        .map(|kb| format!("{:.1} GiB RAM", kb as f64 / 1048576.0))
        .unwrap_or_default();
    format!("{cpu}, {cores} cores, {mem}, Linux {}, {}", sh("uname", &["-r"]), sh("rustc", &["--version"]))
}

pub(crate) fn render(results: &Results, scenarios: &[&str], reps: usize) -> String {
    let floor = Lib::TokioToken;
    let mut md = String::new();
    let _ = writeln!(md, "# Benchmark results\n");
    let _ = writeln!(md, "- machine: {}", machine());
    let _ = writeln!(md, "- date: {}", sh("date", &["-u", "+%Y-%m-%d %H:%M UTC"]));
    let _ = writeln!(
        md,
        "- command: `cargo run -p supervisor-benches --release -- --reps {reps}` (compile time: `benches/compile-time.sh`)"
    );
    let _ = writeln!(
        md,
        "- method: each (scenario, library) in a fresh process on a 2-worker tokio runtime; libraries interleaved, order rotating per repetition; median of {reps} repetitions (restart: {RESTARTS} runs per process; one_for_all: median of {OFA_ROUNDS} rounds per process, {OFA_CHILDREN} children)"
    );
    let _ = writeln!(
        md,
        "- caveat: absolute numbers on a 2-core machine vary from run to run by up to a factor of two; ratios taken in the same run are the figure to read\n"
    );
    let _ = write!(md, "| scenario | ");
    for lib in LIBS {
        let _ = write!(md, "{} | ", lib.title());
    }
    let _ = writeln!(md);
    let _ = write!(md, "|---|");
    for _ in LIBS {
        let _ = write!(md, "---|");
    }
    let _ = writeln!(md);
    let mut footnotes: Vec<String> = Vec::new();
    for row in ROWS.iter().filter(|r| scenarios.contains(&r.scenario)) {
        let _ = write!(md, "| {} | ", row.label);
        let base = results.median(row.scenario, floor, row.metric);
        for lib in LIBS {
            let value = results.median(row.scenario, lib, row.metric);
            let notes = results.notes(row.scenario, lib);
            let mut marks = String::new();
            if row.metric == ROWS.iter().find(|r| r.scenario == row.scenario).map_or("", |r| r.metric) {
                for n in &notes {
                    let key = format!("{} / {}: {n}", lib.title().trim_matches('*'), row.scenario);
                    let idx = match footnotes.iter().position(|f| *f == key) {
                        Some(i) => i,
                        None => {
                            footnotes.push(key);
                            footnotes.len() - 1
                        }
                    };
                    let _ = write!(marks, " [{}]", idx + 1);
                }
            }
            let cell = match value {
                _ if row.leak_voids && results.leaked(row.scenario, lib) => {
                    let what =
                        if row.scenario.starts_with("shutdown") { "returned after" } else { "all restarted after" };
                    let v = value.map(|x| format!(" ({what} {})", fmt_num(x, row.unit))).unwrap_or_default();
                    format!("**leaks**{v}")
                }
                None if !lib.runs(row.scenario) => "–".to_string(),
                None => "n/a".to_string(),
                Some(x) => match base {
                    Some(b) if row.ratio && b > 0.0 => format!("{} ({:.2}×)", fmt_num(x, row.unit), x / b),
                    _ => fmt_num(x, row.unit),
                },
            };
            let _ = write!(md, "{cell}{marks} | ");
        }
        let _ = writeln!(md);
    }
    if !footnotes.is_empty() {
        let _ = writeln!(md);
        for (i, f) in footnotes.iter().enumerate() {
            let _ = writeln!(md, "{}. {f}", i + 1);
        }
    }

    // Targets.
    let _ = writeln!(md, "\n## Targets (supervisor, ratio to the tokio + CancellationToken floor of the same run)\n");
    let _ = writeln!(md, "| target | measured | met |\n|---|---|---|");
    let ratio = |s: &str, m: &str| -> Option<f64> {
        Some(results.median(s, Lib::Supervisor, m)? / results.median(s, floor, m)?)
    };
    let mut target = |name: &str, measured: Option<f64>, limit: f64, unit: &str| {
        let (m, ok) = match measured {
            Some(x) => (format!("{x:.2}{unit}"), if x <= limit { "yes" } else { "**no**" }),
            None => ("not measured".into(), "–"),
        };
        let _ = writeln!(md, "| {name} | {m} | {ok} |");
    };
    if scenarios.contains(&"restart") {
        target("restart median ≤ 1.15×", ratio("restart", "median_us"), 1.15, "×");
    }
    if scenarios.contains(&"start_10000") {
        target("start of 10,000 ≤ 1.5×", ratio("start_10000", "time_ms"), 1.5, "×");
        target(
            "≤ 700 bytes per child (10,000)",
            results.median("start_10000", Lib::Supervisor, "bytes_per_child"),
            700.0,
            " B",
        );
    }
    if scenarios.contains(&"shutdown_10000") {
        target("cooperative shutdown of 10,000 ≤ 1.4×", ratio("shutdown_10000", "time_ms"), 1.4, "×");
        target(
            "0 children alive after shutdown",
            results.median("shutdown_10000", Lib::Supervisor, "alive_after"),
            0.0,
            "",
        );
    }
    if scenarios.contains(&"one_for_all_100") {
        target("one_for_all of 100 ≤ 1.25×", ratio("one_for_all_100", "time_us"), 1.25, "×");
    }
    let compile = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("COMPILE-TIME.md");
    let compile_text = std::fs::read_to_string(&compile).ok();
    match &compile_text {
        Some(text) => {
            let r = text.lines().find_map(|l| l.strip_prefix("ratio: ")).and_then(|s| s.trim().parse::<f64>().ok());
            target("macro tree build ≤ 1.10× hand-written (from COMPILE-TIME.md)", r, 1.10, "×");
        }
        None => {
            let _ = writeln!(md, "| macro tree build ≤ 1.10× hand-written | run `benches/compile-time.sh` | – |");
        }
    }
    // Not targets: the same two figures against bare tokio stopping in the
    // order this supervisor promises.
    let ordered = |s: &str, m: &str| -> Option<f64> {
        Some(results.median(s, Lib::Supervisor, m)? / results.median(s, Lib::TokioOrdered, m)?)
    };
    let mut against_ordered = |name: &str, r: Option<f64>| {
        if let Some(r) = r {
            let _ = writeln!(md, "| ({name}, against the ordered floor: for reference) | {r:.2}× | – |");
        }
    };
    if scenarios.contains(&"shutdown_10000") {
        against_ordered("shutdown of 10,000", ordered("shutdown_10000", "time_ms"));
    }
    if scenarios.contains(&"one_for_all_100") {
        against_ordered("one_for_all of 100", ordered("one_for_all_100", "time_us"));
    }
    if let Some(text) = compile_text {
        let _ = writeln!(md, "\n{}", text.trim_end());
    }
    let profile = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("PROFILE.md");
    if let Ok(text) = std::fs::read_to_string(&profile) {
        let _ = writeln!(md, "\n{}", text.trim_end());
    }
    let _ = writeln!(md, "\n## How to read this\n");
    let _ = writeln!(
        md,
        "Each cell is the median over repetitions, and in parentheses its ratio to the \"tokio + CancellationToken\" column of the same run: hand-written tokio code where every task has its own token and a loop respawns or cancels them — the least any library with cooperative shutdown can cost. Below 1.00× means faster than that floor (possible where the floor does work a library skips, or by noise). \"tokio JoinSet\" is the same without tokens (abort instead of cancel). \"Ordered floor\" is hand-written tokio that stops children the way OTP and this supervisor do, one at a time, last first, each awaited before the next is cancelled; it runs only the scenarios that stop children, and shows how much of a shutdown's or a one_for_all's cost is that order rather than the library. \"Start\" counts from the call that starts the tree until every child has begun its first poll; RSS per child is the growth of resident memory from before the spec is built to that point, divided by the number of children (spec, runtime state and task included). \"Restart\" is one permanent child that fails at once, restarted with zero backoff and an unlimited budget: the interval between consecutive run starts. \"Shutdown\" counts from the call until it returns, and children still alive then (drop guards) must be 0; a library whose shutdown returns before its children end is marked **leaks** instead of a time. \"one_for_all\" is 100 children of which one fails: time until all 100 have started again; \"old runs left alive\" counts runs of the previous generation still alive afterwards (must be 0). Numbers in brackets point at the notes under the table. On 2 cores, treat differences under ~10% as noise."
    );
    md
}
