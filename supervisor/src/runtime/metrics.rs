//! Counters and gauges through the `metrics` facade (feature `metrics`).
//!
//! Labels stay low-cardinality. A child's counters carry `supervisor` (its
//! supervisor's path) and `child` (its id), and exits their kind as
//! `reason`; the running-children gauge and the escalation counter are per
//! supervisor (`supervisor` alone), so that their series grow with the
//! supervisors, not the children.

use super::event::EventKind;

/// Splits a child's path into its supervisor's path and its id.
fn split(path: &str) -> (String, String) {
    match path.rsplit_once('/') {
        Some((sup, id)) => (sup.to_string(), id.to_string()),
        None => (path.to_string(), String::new()),
    }
}

pub(crate) fn record(path: &str, kind: &EventKind) {
    match kind {
        EventKind::Started => {
            let (supervisor, child) = split(path);
            metrics::counter!("supervisor_child_starts_total", "supervisor" => supervisor.clone(), "child" => child)
                .increment(1);
            metrics::gauge!("supervisor_children_running", "supervisor" => supervisor).increment(1.0);
        }
        EventKind::Exited { reason } => {
            let (supervisor, child) = split(path);
            metrics::counter!("supervisor_child_exits_total", "supervisor" => supervisor.clone(), "child" => child, "reason" => reason.kind()).increment(1);
            metrics::gauge!("supervisor_children_running", "supervisor" => supervisor).decrement(1.0);
        }
        EventKind::RestartScheduled { .. } => {
            let (supervisor, child) = split(path);
            metrics::counter!("supervisor_restarts_total", "supervisor" => supervisor, "child" => child).increment(1);
        }
        EventKind::DeadLetter { count, .. } => {
            let (supervisor, child) = split(path);
            metrics::counter!("supervisor_dead_letters_total", "supervisor" => supervisor, "child" => child)
                .increment(u64::try_from(*count).unwrap_or(u64::MAX));
        }
        EventKind::Redelivered { .. } => {
            let (supervisor, child) = split(path);
            metrics::counter!("supervisor_redeliveries_total", "supervisor" => supervisor, "child" => child)
                .increment(1);
        }
        EventKind::Escalated { .. } => {
            metrics::counter!("supervisor_escalations_total", "supervisor" => path.to_string()).increment(1);
        }
        _ => {}
    }
}
