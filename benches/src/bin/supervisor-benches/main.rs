//! Benchmark runner: supervisor vs bare tokio vs ash-flare vs
//! rust-tokio-supervisor.
//!
//! `cargo run -p supervisor-benches --release [-- --reps N] [--only SCENARIO]`
//!
//! Every (scenario, library) pair runs in a fresh process (this binary
//! re-executes itself with `__scenario SCENARIO LIB`) on a tokio runtime
//! with 2 worker threads; libraries are interleaved within each repetition
//! (their order rotates), and each figure is the median over repetitions.
//! The table is printed and saved to `benches/RESULTS.md`.

mod mailbox;
mod probe;
mod report;
mod scenarios;

use std::process::Command;
use std::time::Duration;

use scenarios::{LIBS, Lib, Value};

/// The scenarios, in the order of the table.
pub(crate) const SCENARIOS: [&str; 5] = ["start_1000", "start_10000", "restart", "shutdown_10000", "one_for_all_100"];

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("__scenario") {
        child(&args[2..]);
        return;
    }
    if args.get(1).map(String::as_str) == Some("mailbox") {
        mailbox::main(&args[2..]);
        return;
    }
    let mut reps = 9usize;
    let mut only: Vec<String> = Vec::new();
    let mut save = true;
    let mut it = args[1..].iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--reps" => reps = it.next().and_then(|s| s.parse().ok()).unwrap_or(reps),
            "--only" => {
                only.extend(it.next().map(|s| s.split(',').map(str::to_string).collect::<Vec<_>>()).unwrap_or_default())
            }
            "--no-save" => save = false,
            "-h" | "--help" => {
                println!("usage: supervisor-benches [--reps N] [--only SCENARIO[,SCENARIO]] [--no-save]");
                println!("scenarios: {}", SCENARIOS.join(", "));
                println!("mailboxes against bare tokio channels: supervisor-benches mailbox [--reps N]");
                return;
            }
            other => {
                eprintln!("unknown argument `{other}` (try --help)");
                std::process::exit(2);
            }
        }
    }
    let scenarios: Vec<&str> =
        SCENARIOS.iter().copied().filter(|s| only.is_empty() || only.iter().any(|o| o == s)).collect();
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => {
            eprintln!("cannot find my own executable: {e}");
            std::process::exit(1);
        }
    };
    let mut results = report::Results::default();
    for rep in 0..reps {
        for scenario in &scenarios {
            for k in 0..LIBS.len() {
                let lib = LIBS[(k + rep) % LIBS.len()];
                if !lib.runs(scenario) {
                    continue;
                }
                eprint!("\rrep {}/{reps} {scenario:<16} {:<22}", rep + 1, lib.key());
                let out = run_child(&exe, scenario, lib);
                results.add(scenario, lib, out);
            }
        }
    }
    eprintln!();
    let md = report::render(&results, &scenarios, reps);
    println!("{md}");
    if save {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("RESULTS.md");
        match std::fs::write(&path, &md) {
            Ok(()) => eprintln!("saved {}", path.display()),
            Err(e) => eprintln!("could not save {}: {e}", path.display()),
        }
    }
}

/// Runs one scenario in a fresh process and parses its figures.
fn run_child(exe: &std::path::Path, scenario: &str, lib: Lib) -> report::Outcome {
    let mut child = Command::new(exe)
        .args(["__scenario", scenario, lib.key()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if std::time::Instant::now() > deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err("timed out after 90 s".into());
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => return Err(e.to_string()),
        }
    }
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let Some(line) = stdout.lines().find_map(|l| l.strip_prefix("RESULT\t")) else {
        let err = String::from_utf8_lossy(&out.stderr);
        let last = err.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("no output");
        return Err(format!("failed ({}): {last}", out.status));
    };
    if let Some(err) = line.strip_prefix("ERROR\t") {
        return Err(err.to_string());
    }
    Ok(line
        .split('\t')
        .filter_map(|kv| {
            let (k, v) = kv.split_once('=')?;
            let v = match v.strip_prefix("note:") {
                Some(note) => Value::Note(note.to_string()),
                None => v.parse().map(Value::Num).unwrap_or_else(|_| Value::Note(v.to_string())),
            };
            Some((k.to_string(), v))
        })
        .collect())
}

/// The child process: one scenario, one library, figures on stdout.
fn child(args: &[String]) {
    let (Some(scenario), Some(lib)) = (args.first(), args.get(1).and_then(|k| Lib::from_key(k))) else {
        println!("RESULT\tERROR\tbad arguments {args:?}");
        std::process::exit(2);
    };
    let rt = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            println!("RESULT\tERROR\tno runtime: {e}");
            std::process::exit(1);
        }
    };
    let figures = rt.block_on(scenarios::run(scenario, lib));
    let line = match figures {
        Ok(figures) => figures
            .into_iter()
            .map(|(k, v)| match v {
                Value::Num(x) => format!("{k}={x}"),
                Value::Note(n) => format!("{k}=note:{}", n.replace(['\t', '\n'], " ")),
            })
            .collect::<Vec<_>>()
            .join("\t"),
        Err(e) => format!("ERROR\t{}", e.replace(['\t', '\n'], " ")),
    };
    println!("RESULT\t{line}");
    // Leaked tasks of a library must not keep this process alive.
    std::process::exit(0);
}
