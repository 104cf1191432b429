//! The macro's build time against the builder's, measured by
//! `benches/compile-time.sh` in the same invocation as the scenarios.

use std::path::Path;
use std::process::{Command, Stdio};

/// What the script measured.
pub(crate) struct Compile {
    /// Its Markdown section, as it wrote it.
    pub(crate) section: String,
    /// Macro build time over the builder's, by number of workers.
    pub(crate) ratios: Vec<(usize, f64)>,
}

/// Runs the script with `reps` builds of each tree; its progress goes to
/// this process's stderr.
pub(crate) fn measure(reps: usize) -> Result<Compile, String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("compile-time.sh");
    let out = std::env::temp_dir().join(format!("supervisor-compile-time-{}.md", std::process::id()));
    let status = Command::new("bash")
        .arg(&script)
        .arg(reps.to_string())
        .arg("dev")
        .env("OUT", &out)
        .stdout(Stdio::null())
        .status()
        .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
    if !status.success() {
        return Err(format!("{} failed ({status})", script.display()));
    }
    let section = std::fs::read_to_string(&out).map_err(|e| format!("no output from the script: {e}"))?;
    let _ = std::fs::remove_file(&out);
    let ratios = section.lines().filter_map(ratio_line).collect::<Vec<_>>();
    if ratios.is_empty() {
        return Err("the script printed no ratio".to_string());
    }
    Ok(Compile { section, ratios })
}

/// `ratio at 200 workers: 1.083` as (200, 1.083).
fn ratio_line(line: &str) -> Option<(usize, f64)> {
    let rest = line.strip_prefix("ratio at ")?;
    let (n, r) = rest.split_once(" workers: ")?;
    Some((n.parse().ok()?, r.trim().parse().ok()?))
}
