//! Benchmark runner: the supervisor against bare tokio and the supervision
//! libraries users pick today.
//!
//! ```text
//! cargo run -p supervisor-benches --release                 # the full run, about 5 minutes
//! cargo run -p supervisor-benches --release -- --quick      # one repetition, one build of each tree
//! cargo run -p supervisor-benches --release -- --reps N --only SCENARIO[,SCENARIO] --no-save --no-compile-time
//! cargo run -p supervisor-benches --release -- mailbox      # mailboxes against bare channels: benches/MAILBOX.md
//! cargo run -p supervisor-benches --release -- churn        # temporary dynamic children ending: benches/CHURN.md
//! ```
//!
//! Every (scenario, library) pair runs in a fresh process (this binary
//! re-executes itself with `__scenario SCENARIO LIB`) on a tokio runtime
//! with 2 worker threads; libraries are interleaved within each repetition
//! (their order rotates), and each figure is the median over repetitions.
//! Then `benches/compile-time.sh` times the macro against the builder. The
//! report is printed and saved to `benches/RESULTS.md`, and the section
//! README's "Cost" includes to `benches/COST.md`: every figure in them
//! comes from this one invocation.

mod churn;
mod compile_time;
mod contenders;
mod libs;
mod mailbox;
mod probe;
mod report;
mod scenarios;

use std::process::Command;
use std::time::Duration;

use libs::{LIBS, Lib, Runs};
use scenarios::{SCENARIOS, Value};

/// Repetitions of the full run: about 5 minutes on 2 cores with the
/// compile-time measurement.
const FULL_REPS: usize = 15;
/// Builds of each tree by the compile-time script in the full run.
const FULL_COMPILE_REPS: usize = 7;

struct Options {
    reps: usize,
    compile_reps: Option<usize>,
    only: Vec<String>,
    save: bool,
    quick: bool,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut o =
        Options { reps: FULL_REPS, compile_reps: Some(FULL_COMPILE_REPS), only: Vec::new(), save: true, quick: false };
    let mut it = args.iter();
    let number = |v: Option<&String>, flag: &str| -> Result<usize, String> {
        v.and_then(|s| s.parse().ok()).filter(|&n| n > 0).ok_or_else(|| format!("`{flag}` needs a positive number"))
    };
    while let Some(a) = it.next() {
        match a.as_str() {
            "--quick" => {
                o.quick = true;
                o.reps = 1;
                o.compile_reps = o.compile_reps.map(|_| 1);
            }
            "--reps" => o.reps = number(it.next(), "--reps")?,
            "--only" => {
                let list = it.next().ok_or("`--only` needs a list of scenarios")?;
                for s in list.split(',') {
                    if !SCENARIOS.contains(&s) {
                        return Err(format!("unknown scenario `{s}`: expected one of {}", SCENARIOS.join(", ")));
                    }
                    o.only.push(s.to_string());
                }
            }
            "--no-save" => o.save = false,
            "--no-compile-time" => o.compile_reps = None,
            other => return Err(format!("unknown argument `{other}` (try --help)")),
        }
    }
    Ok(o)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("__scenario") {
        child(&args[2..]);
        return;
    }
    if args.get(1).map(String::as_str) == Some("churn") {
        churn::main(&args[2..]);
        return;
    }
    if args.get(1).map(String::as_str) == Some("mailbox") {
        mailbox::main(&args[2..]);
        return;
    }
    if args[1..].iter().any(|a| a == "-h" || a == "--help") {
        println!(
            "usage: supervisor-benches [--quick] [--reps N] [--only SCENARIO[,SCENARIO]] [--no-save] [--no-compile-time]"
        );
        println!("scenarios: {}", SCENARIOS.join(", "));
        println!("also: supervisor-benches mailbox [--reps N], supervisor-benches churn [--reps N]");
        return;
    }
    let options = match parse(&args[1..]) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let command = if args.len() > 1 {
        format!("cargo run -p supervisor-benches --release -- {}", args[1..].join(" "))
    } else {
        "cargo run -p supervisor-benches --release".to_string()
    };
    let scenarios: Vec<&str> =
        SCENARIOS.iter().copied().filter(|s| options.only.is_empty() || options.only.iter().any(|o| o == s)).collect();
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => {
            eprintln!("cannot find my own executable: {e}");
            std::process::exit(1);
        }
    };
    let started = std::time::Instant::now();
    let mut results = report::Results::default();
    for rep in 0..options.reps {
        for scenario in &scenarios {
            for k in 0..LIBS.len() {
                let lib = LIBS[(k + rep) % LIBS.len()];
                if !matches!(lib.runs(scenario), Runs::Yes) {
                    continue;
                }
                eprint!("\rrep {}/{} {scenario:<20} {:<22}", rep + 1, options.reps, lib.key());
                let out = run_child(&exe, scenario, lib);
                results.add(scenario, lib, out);
            }
        }
    }
    eprintln!("\rbenchmarks done in {:.0} s{:40}", started.elapsed().as_secs_f64(), "");
    // After the benchmarks, never during them: the builds would take the cores.
    let compile = options.compile_reps.map(|reps| {
        eprintln!("timing the macro against the builder (benches/compile-time.sh {reps}) ...");
        compile_time::measure(reps)
    });
    let run =
        report::Run { command, reps: options.reps, quick: options.quick, scenarios: &scenarios, compile: &compile };
    let md = report::results(&results, &run);
    println!("{md}");
    if options.save {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        for (name, text) in [("RESULTS.md", md), ("COST.md", report::cost_section(&results, &run))] {
            let path = dir.join(name);
            match std::fs::write(&path, text) {
                Ok(()) => eprintln!("saved {}", path.display()),
                Err(e) => eprintln!("could not save {}: {e}", path.display()),
            }
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
    // Children a scenario left running, or a library leaked, must not keep
    // this process alive (nor cost time to stop).
    std::process::exit(0);
}
