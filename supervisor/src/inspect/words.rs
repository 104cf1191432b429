//! The words a spec is read back in, the DSL's own: `one_for_all`,
//! `10ms..1s`, `brutal_kill`. Shared by the diagrams and the bound's
//! messages, so that both say a thing the same way.

use std::time::Duration;

use crate::policy::{AutoShutdown, Backoff, Escalation, Policy, Shutdown};
use crate::spec::{ChildSpec, SupervisorSpec};

/// A duration as the DSL writes it: the largest unit that keeps it whole
/// (`5s`, `10ms`, `2m`), seconds with decimals for `1.5s`; one the DSL
/// cannot write (a delay with jitter) as `Duration`'s `Debug` does.
pub(crate) fn duration(d: Duration) -> String {
    let nanos = d.as_nanos();
    const SEC: u128 = 1_000_000_000;
    if nanos == 0 {
        return "0s".to_string();
    }
    if nanos.is_multiple_of(3600 * SEC) {
        return format!("{}h", nanos / (3600 * SEC));
    }
    if nanos.is_multiple_of(60 * SEC) {
        return format!("{}m", nanos / (60 * SEC));
    }
    if nanos.is_multiple_of(SEC) {
        return format!("{}s", nanos / SEC);
    }
    if nanos > SEC && nanos.is_multiple_of(1_000_000) {
        let millis = format!("{:03}", (nanos % SEC) / 1_000_000);
        return format!("{}.{}s", nanos / SEC, millis.trim_end_matches('0'));
    }
    if nanos.is_multiple_of(1_000_000) {
        return format!("{}ms", nanos / 1_000_000);
    }
    if nanos.is_multiple_of(1_000) {
        return format!("{}us", nanos / 1_000);
    }
    format!("{d:?}")
}

pub(crate) fn shutdown(s: Shutdown) -> String {
    match s {
        Shutdown::BrutalKill => "brutal_kill".to_string(),
        Shutdown::Timeout(d) => format!("shutdown {}", duration(d)),
        Shutdown::Infinity => "shutdown infinity".to_string(),
    }
}

/// `1 restart`, `3 restarts`: restarts counted, in the singular for one.
pub(crate) fn restarts(n: impl Into<u64>) -> String {
    match n.into() {
        1 => "1 restart".to_string(),
        n => format!("{n} restarts"),
    }
}

/// `3 restarts in 5s`, with the defaults filled in.
pub(crate) fn budget(policy: Policy) -> String {
    let max = policy.max_restarts.unwrap_or(Policy::DEFAULT_MAX_RESTARTS);
    let within = policy.within.unwrap_or(Policy::DEFAULT_WITHIN);
    format!("{} in {}", restarts(max), duration(within))
}

/// A supervisor's own policy, resolved: `one_for_one, 3 restarts in 5s`,
/// then whatever it sets beyond strategy and budget.
pub(crate) fn supervisor_policy(spec: &SupervisorSpec) -> String {
    let mut parts = vec![spec.policy.strategy.unwrap_or_default().to_string(), budget(spec.policy)];
    if let Some(e) = spec.policy.escalation.filter(|e| *e != Escalation::Escalate) {
        parts.push(format!("escalation {e}"));
    }
    if spec.auto_shutdown != AutoShutdown::Never {
        parts.push(format!("auto_shutdown {}", spec.auto_shutdown));
    }
    if let Some(max) = spec.max_children {
        parts.push(format!("max_children {max}"));
    }
    parts.join(", ")
}

/// A child's options in force: `permanent, shutdown 10s, backoff 10ms..1s`.
pub(crate) fn child_options(child: &ChildSpec) -> String {
    let mut parts = vec![child.options().restart.to_string(), shutdown(child.options().shutdown)];
    if let Backoff::Exponential { min, max } = child.options().backoff {
        parts.push(format!("backoff {}..{}", duration(min), duration(max)));
    }
    if let Some(d) = child.options().heartbeat {
        parts.push(format!("heartbeat {}", duration(d)));
    }
    if let Some(d) = child.options().start_timeout {
        parts.push(format!("start_timeout {}", duration(d)));
    }
    if child.significant {
        parts.push("significant".to_string());
    }
    parts.join(", ")
}

/// What a group or an override sets over its supervisor, resolved where it
/// matters: the strategy in force, its own budget if it has one, else whose
/// budget its restarts count against (`supervisor app`, `group g`).
pub(crate) fn layer(layer: Policy, below: Policy, shared_budget: &str) -> String {
    let resolved = layer.or(below);
    let mut parts = vec![resolved.strategy.unwrap_or_default().to_string()];
    if layer.has_budget() {
        parts.push(budget(resolved));
    } else {
        parts.push(format!("budget of {shared_budget}"));
    }
    if let Some(e) = layer.escalation {
        parts.push(format!("escalation {e}"));
    }
    parts.join(", ")
}

/// How the runtime names a scope in its messages and events.
pub(crate) fn scope_of_supervisor(path: &str) -> String {
    format!("supervisor `{path}`")
}

pub(crate) fn scope_of_group(path: &str, group: &str) -> String {
    format!("group `{group}` of supervisor `{path}`")
}

pub(crate) fn scope_of_override(path: &str, child: &str) -> String {
    format!("the override of `{child}` in supervisor `{path}`")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Strategy;

    #[test]
    fn one_restart_is_singular() {
        assert_eq!(restarts(0u32), "0 restarts");
        assert_eq!(restarts(1u32), "1 restart");
        assert_eq!(restarts(2u64), "2 restarts");
    }

    #[test]
    fn durations_read_as_the_dsl_writes_them() {
        let cases = [
            (Duration::ZERO, "0s"),
            (Duration::from_secs(5), "5s"),
            (Duration::from_secs(90), "90s"),
            (Duration::from_secs(120), "2m"),
            (Duration::from_secs(7200), "2h"),
            (Duration::from_millis(1500), "1.5s"),
            (Duration::from_millis(1250), "1.25s"),
            (Duration::from_millis(10), "10ms"),
            (Duration::from_millis(999), "999ms"),
            (Duration::from_micros(250), "250us"),
            (Duration::from_nanos(7), "7ns"),
            (Duration::from_nanos(17_746_130), "17.74613ms"),
        ];
        for (d, text) in cases {
            assert_eq!(duration(d), text, "{d:?}");
        }
    }

    #[test]
    fn budgets_fill_in_the_defaults() {
        assert_eq!(budget(Policy::new()), "3 restarts in 5s");
        assert_eq!(budget(Policy::new().max_restarts(1).within(Duration::from_millis(100))), "1 restart in 100ms");
    }

    #[test]
    fn a_layer_without_budget_says_whose_it_shares() {
        let below = Policy::new().strategy(Strategy::OneForAll);
        assert_eq!(layer(Policy::new(), below, "supervisor app"), "one_for_all, budget of supervisor app");
        let own = Policy::new().strategy(Strategy::RestForOne).max_restarts(10).escalation(Escalation::Quarantine);
        assert_eq!(layer(own, below, "-"), "rest_for_one, 10 restarts in 5s, escalation quarantine");
    }
}
