//! The restart-storm bound: how many times a child can run in a burst of
//! failures before the budgets on its path are spent, since intensities
//! multiply down a tree (OTP's design principles warn of it).

use std::fmt;
use std::time::Duration;

use super::words;
use crate::policy::{Policy, Restart, Strategy};
use crate::runtime::decide::{self, Scope, ScopeKey};
use crate::spec::{Body, SupervisorSpec, join_path};

/// The most runs one child can go through within one window before the
/// root gives up: an entry of [`SupervisorSpec::restart_bound`].
///
/// ```
/// use supervisor::{ChildSpec, Context, SupervisorSpec};
/// let leaf = ChildSpec::from_fn("leaf", |ctx: Context| async move { ctx.cancelled().await });
/// let spec = SupervisorSpec::new("app").child(leaf);
/// let bound = &spec.restart_bound()[0];
/// assert_eq!(bound.path, "app/leaf");
/// assert_eq!(bound.runs, 4);
/// assert_eq!(bound.restarts(), 3);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestartBound {
    /// The child's path (`app/http/router`).
    pub path: String,
    /// The most runs the child can start, its first start included, while
    /// every restart falls within `within`; saturates at `u64::MAX`.
    pub runs: u64,
    /// The shortest window among the budgets counted: the bound holds for
    /// restarts that all fall within it. `None` when nothing restarts the
    /// child (it is temporary, and so are its ancestors up to the root).
    pub within: Option<Duration>,
    /// The scopes whose budgets the bound adds up and multiplies, from the
    /// root down, named as the runtime's messages name them
    /// ("supervisor `app`", "group `g` of supervisor `app`", "the override
    /// of `db` in supervisor `app`"): lowering their `max_restarts` lowers
    /// the bound.
    pub budgets: Vec<String>,
}

impl RestartBound {
    /// The most restarts: one less than the runs.
    pub fn restarts(&self) -> u64 {
        self.runs.saturating_sub(1)
    }
}

/// Children whose restart-storm bound is above a limit, from
/// [`SupervisorSpec::check_restart_bound`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct RestartBoundExceeded {
    /// The limit on restarts that was checked.
    pub limit: u64,
    /// Every child above it, in the order of the tree.
    pub children: Vec<RestartBound>,
}

impl RestartBoundExceeded {
    fn write_one(f: &mut fmt::Formatter<'_>, bound: &RestartBound) -> fmt::Result {
        write!(f, "child `{}` may restart {} times", bound.path, bound.restarts())?;
        if let Some(within) = bound.within {
            write!(f, " within {}", words::duration(within))?;
        }
        Ok(())
    }

    fn write_fix(f: &mut fmt::Formatter<'_>, bound: &RestartBound) -> fmt::Result {
        let scopes = match bound.budgets.as_slice() {
            [] => String::new(),
            [one] => one.clone(),
            [init @ .., last] => format!("{} or {last}", init.join(", ")),
        };
        write!(f, "lower `max_restarts` of {scopes}")
    }
}

impl fmt::Display for RestartBoundExceeded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.children.as_slice() {
            [one] => {
                Self::write_one(f, one)?;
                write!(f, " before the root gives up, above the limit of {}: ", self.limit)?;
                Self::write_fix(f, one)?;
                f.write_str(", or raise the limit")
            }
            all => {
                write!(
                    f,
                    "{} children may restart more than the limit of {} times before the root gives up; \
                     lower their budgets or raise the limit:",
                    all.len(),
                    self.limit
                )?;
                for bound in all {
                    f.write_str("\n  - ")?;
                    Self::write_one(f, bound)?;
                    f.write_str(": ")?;
                    Self::write_fix(f, bound)?;
                }
                Ok(())
            }
        }
    }
}

/// The window, within one supervisor, that a restart counts against: a
/// child's scope as the runtime resolves it (`ScopeKey::Child` names the
/// child by its index here).
type Window = ScopeKey;

fn group_of(spec: &SupervisorSpec, child: usize) -> Option<usize> {
    let g = spec.children[child].group.as_ref()?;
    spec.groups.iter().position(|gs| gs.id == *g)
}

fn override_of(spec: &SupervisorSpec, child: usize) -> Option<Policy> {
    let id = &spec.children[child].id;
    spec.overrides.iter().find(|(o, _)| o == id).map(|(_, p)| *p)
}

/// The restart scope of `child`, by the runtime's own rule.
fn scope(spec: &SupervisorSpec, child: usize) -> Scope {
    let group = group_of(spec, child).and_then(|g| Some((u32::try_from(g).ok()?, spec.groups[g].policy)));
    decide::scope_of(child as u64, override_of(spec, child), group, spec.policy)
}

/// A window's `max_restarts` and `within`, with the layers below filled
/// in, by the runtime's own rule.
fn limits(spec: &SupervisorSpec, window: Window) -> (u32, Duration) {
    let (over, group) = match window {
        ScopeKey::Supervisor => (None, None),
        ScopeKey::Group(g) => (None, spec.groups.get(g as usize).map(|g| g.policy)),
        ScopeKey::Child(child) => {
            let child = child as usize;
            (override_of(spec, child), group_of(spec, child).map(|g| spec.groups[g].policy))
        }
    };
    let policy = decide::budget_policy(window, over, group, spec.policy);
    (policy.max_restarts.unwrap_or(Policy::DEFAULT_MAX_RESTARTS), policy.within.unwrap_or(Policy::DEFAULT_WITHIN))
}

fn window_name(spec: &SupervisorSpec, path: &str, window: Window) -> String {
    match window {
        ScopeKey::Supervisor => words::scope_of_supervisor(path),
        ScopeKey::Group(g) => words::scope_of_group(path, &spec.groups[g as usize].id),
        ScopeKey::Child(child) => words::scope_of_override(path, &spec.children[child as usize].id),
    }
}

/// The windows whose restarts start `child` again: the budget of its own
/// restarts, and that of every sibling whose one_for_all or rest_for_one
/// restart reaches it (a scope is its group, or the whole supervisor for a
/// child in none). A temporary child is started again by none of them, and
/// a temporary sibling restarts nobody.
fn windows_restarting(spec: &SupervisorSpec, child: usize) -> Vec<Window> {
    if spec.children[child].options().restart == Restart::Temporary {
        return Vec::new();
    }
    let mut windows = vec![scope(spec, child).budget];
    for (other, sibling) in spec.children.iter().enumerate() {
        if other == child || sibling.options().restart == Restart::Temporary {
            continue;
        }
        let same_scope = match group_of(spec, other) {
            Some(g) => group_of(spec, child) == Some(g),
            None => true,
        };
        let theirs = scope(spec, other);
        let reaches = match theirs.strategy {
            Strategy::OneForOne => false,
            Strategy::OneForAll => same_scope,
            Strategy::RestForOne => same_scope && other < child,
        };
        if reaches && !windows.contains(&theirs.budget) {
            windows.push(theirs.budget);
        }
    }
    windows
}

/// What holds for every run of a supervisor: how many times it can run,
/// within which window, counting which budgets.
struct Above {
    runs: u64,
    within: Option<Duration>,
    budgets: Vec<String>,
}

fn bounds_below(spec: &SupervisorSpec, path: &str, above: &Above, out: &mut Vec<RestartBound>) {
    for (i, child) in spec.children.iter().enumerate() {
        let mut runs_per_run = 1u64;
        let mut within = above.within;
        let mut budgets = above.budgets.clone();
        for window in windows_restarting(spec, i) {
            let (max, w) = limits(spec, window);
            runs_per_run = runs_per_run.saturating_add(u64::from(max));
            within = Some(within.map_or(w, |d| d.min(w)));
            let name = window_name(spec, path, window);
            if !budgets.contains(&name) {
                budgets.push(name);
            }
        }
        let bound = Above { runs: above.runs.saturating_mul(runs_per_run), within, budgets };
        let child_path = join_path(path, &child.id);
        out.push(RestartBound {
            path: child_path.clone(),
            runs: bound.runs,
            within: bound.within,
            budgets: bound.budgets.clone(),
        });
        if let Body::Supervisor(nested) = &child.kind {
            bounds_below(nested, &child_path, &bound, out);
        }
    }
}

impl SupervisorSpec {
    /// The restart-storm bound of every child, in the order of the tree: the
    /// most times each can run within one window before the budgets on its
    /// path are spent and the root gives up.
    ///
    /// Intensities multiply down a tree: each run of a supervisor starts its
    /// children with fresh windows, so a leaf under three supervisors of 3
    /// restarts in 5 s may run 4 × 4 × 4 = 64 times (63 restarts) before the
    /// root escalates.
    ///
    /// What it counts, exactly: within one run of its supervisor, a child
    /// can start at most once plus the `max_restarts` of every budget whose
    /// restarts reach it: its own scope's, and that of each sibling whose
    /// one_for_all or rest_for_one restart covers it, counted once each (a
    /// group without a budget of its own counts against its supervisor's).
    /// Its supervisor runs as often as its own bound says, and the root
    /// once; the bound is the product down the path. The assumptions:
    ///
    /// - Windows aligned: every restart falls within the shortest window of
    ///   the budgets counted ([`RestartBound::within`]). Restarts spread
    ///   over more time find budgets refilled, and then nothing bounds them.
    /// - Only the declared children, and no commands: `restart_child`,
    ///   `terminate_child` and `start_child` start children outside any
    ///   budget.
    /// - Backoff is ignored: it only spreads restarts out.
    /// - It is an upper bound, reached when only this child fails, at once,
    ///   and every budget on its path is spent in turn; siblings failing
    ///   spend the same budgets sooner. `escalate`, `shutdown_tree` and
    ///   `quarantine` all end what a spent budget covers, so the escalation
    ///   does not change it.
    ///
    /// ```
    /// use std::time::Duration;
    /// use supervisor::{ChildSpec, Context, GroupSpec, SupervisorSpec};
    ///
    /// let idle = |ctx: Context| async move { ctx.cancelled().await };
    /// let spec = SupervisorSpec::new("app").supervisor(
    ///     SupervisorSpec::new("a").supervisor(
    ///         SupervisorSpec::new("b")
    ///             .child(ChildSpec::from_fn("leaf", idle))
    ///             .child(ChildSpec::from_fn("fast", idle).group("g"))
    ///             .group(GroupSpec::new("g").max_restarts(10).within(Duration::from_secs(1))),
    ///     ),
    /// );
    /// let bounds = spec.restart_bound();
    /// let leaf = bounds.iter().find(|b| b.path == "app/a/b/leaf").unwrap();
    /// assert_eq!(leaf.runs, 4 * 4 * 4);
    /// assert_eq!(leaf.within, Some(Duration::from_secs(5)));
    /// // The group's budget of its own: 11 runs of `fast` in each run of `b`.
    /// let fast = bounds.iter().find(|b| b.path == "app/a/b/fast").unwrap();
    /// assert_eq!(fast.runs, 4 * 4 * 11);
    /// assert_eq!(fast.within, Some(Duration::from_secs(1)));
    /// ```
    pub fn restart_bound(&self) -> Vec<RestartBound> {
        let mut out = Vec::new();
        let root = Above { runs: 1, within: None, budgets: Vec::new() };
        bounds_below(self, &self.id, &root, &mut out);
        out
    }

    /// Checks that no child can restart more than `limit` times in a
    /// burst before the root gives up (see
    /// [`restart_bound`](Self::restart_bound)), and names every child that
    /// can, with the budgets to lower. An opt-in lint for deep trees: call
    /// it in a test, or next to `validate()` at start.
    ///
    /// ```
    /// use supervisor::{ChildSpec, Context, SupervisorSpec};
    /// let idle = |ctx: Context| async move { ctx.cancelled().await };
    /// let spec = SupervisorSpec::new("app")
    ///     .supervisor(SupervisorSpec::new("a").supervisor(SupervisorSpec::new("b").child(ChildSpec::from_fn("leaf", idle))));
    /// assert!(spec.check_restart_bound(63).is_ok());
    /// let err = spec.check_restart_bound(50).unwrap_err();
    /// assert_eq!(
    ///     err.to_string(),
    ///     "child `app/a/b/leaf` may restart 63 times within 5s before the root gives up, above the limit of 50: \
    ///      lower `max_restarts` of supervisor `app`, supervisor `app/a` or supervisor `app/a/b`, or raise the limit"
    /// );
    /// ```
    pub fn check_restart_bound(&self, limit: u64) -> Result<(), RestartBoundExceeded> {
        let children: Vec<RestartBound> = self.restart_bound().into_iter().filter(|b| b.restarts() > limit).collect();
        if children.is_empty() { Ok(()) } else { Err(RestartBoundExceeded { limit, children }) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Escalation;
    use crate::spec::{ChildSpec, GroupSpec};
    use crate::worker::Context;

    fn idle(id: &str) -> ChildSpec {
        ChildSpec::from_fn(id, |ctx: Context| async move { ctx.cancelled().await })
    }

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    fn bound_of(spec: &SupervisorSpec, path: &str) -> RestartBound {
        let all = spec.restart_bound();
        all.iter().find(|b| b.path == path).cloned().unwrap_or_else(|| panic!("no bound for `{path}` in {all:#?}"))
    }

    #[test]
    fn intensities_multiply_down_the_path() {
        let spec = SupervisorSpec::new("app")
            .supervisor(SupervisorSpec::new("a").supervisor(SupervisorSpec::new("b").child(idle("leaf"))));
        let paths: Vec<(String, u64)> = spec.restart_bound().into_iter().map(|b| (b.path, b.runs)).collect();
        let expected = [("app/a", 4), ("app/a/b", 16), ("app/a/b/leaf", 64)];
        assert_eq!(paths, expected.map(|(p, n)| (p.to_string(), n)));
        let leaf = bound_of(&spec, "app/a/b/leaf");
        assert_eq!(leaf.restarts(), 63);
        assert_eq!(leaf.within, Some(secs(5)));
        assert_eq!(leaf.budgets, ["supervisor `app`", "supervisor `app/a`", "supervisor `app/a/b`"]);
    }

    #[test]
    fn budgets_of_each_level_multiply_and_the_shortest_window_holds() {
        // 3 in 10s, then 1 in 2s, then 5 in 30s: (3+1) x (1+1) x (5+1).
        let spec = SupervisorSpec::new("app").max_restarts(3).within(secs(10)).supervisor(
            SupervisorSpec::new("mid")
                .max_restarts(1)
                .within(secs(2))
                .supervisor(SupervisorSpec::new("low").max_restarts(5).within(secs(30)).child(idle("leaf"))),
        );
        let leaf = bound_of(&spec, "app/mid/low/leaf");
        assert_eq!(leaf.runs, 48);
        assert_eq!(leaf.within, Some(secs(2)));
    }

    #[test]
    fn zero_restarts_leave_one_run_per_level() {
        let spec = SupervisorSpec::new("app")
            .max_restarts(0)
            .supervisor(SupervisorSpec::new("a").max_restarts(0).child(idle("x")));
        assert_eq!(bound_of(&spec, "app/a/x").runs, 1);
        assert_eq!(bound_of(&spec, "app/a/x").within, Some(secs(5)));
    }

    #[test]
    fn a_group_with_its_own_budget_counts_instead_of_the_supervisors() {
        let spec = SupervisorSpec::new("app")
            .child(idle("db"))
            .child(idle("ingest").group("pipeline"))
            .child(idle("parse").group("pipeline"))
            .group(GroupSpec::new("pipeline").strategy(Strategy::RestForOne).max_restarts(10).within(secs(1)));
        assert_eq!(bound_of(&spec, "app/db").runs, 4);
        // ingest's restarts and parse's own both count against the group.
        let parse = bound_of(&spec, "app/parse");
        assert_eq!(parse.runs, 11);
        assert_eq!(parse.within, Some(secs(1)));
        assert_eq!(parse.budgets, ["group `pipeline` of supervisor `app`"]);
    }

    #[test]
    fn a_group_without_a_budget_shares_the_supervisors_once() {
        let spec = SupervisorSpec::new("app")
            .child(idle("a").group("g"))
            .child(idle("b").group("g"))
            .group(GroupSpec::new("g").strategy(Strategy::OneForAll));
        assert_eq!(bound_of(&spec, "app/a").runs, 4);
        assert_eq!(bound_of(&spec, "app/b").budgets, ["supervisor `app`"]);
    }

    #[test]
    fn an_override_with_a_budget_adds_its_own_to_the_children_it_restarts() {
        // db's one_for_all restarts every child against db's own 5 in 1s;
        // the others' own restarts count against the supervisor's 3 in 5s.
        let spec = SupervisorSpec::new("app")
            .child(idle("db"))
            .child(idle("cache"))
            .override_child("db", Policy::new().strategy(Strategy::OneForAll).max_restarts(5).within(secs(1)));
        let db = bound_of(&spec, "app/db");
        assert_eq!(db.runs, 6);
        assert_eq!(db.budgets, ["the override of `db` in supervisor `app`"]);
        let cache = bound_of(&spec, "app/cache");
        assert_eq!(cache.runs, 1 + 3 + 5);
        assert_eq!(cache.within, Some(secs(1)));
        assert_eq!(cache.budgets, ["supervisor `app`", "the override of `db` in supervisor `app`"]);
    }

    #[test]
    fn an_override_without_a_budget_counts_against_the_scope_below() {
        let spec = SupervisorSpec::new("app")
            .child(idle("a").group("g"))
            .child(idle("b"))
            .child(idle("c").group("g"))
            .group(GroupSpec::new("g").max_restarts(7))
            .override_child("a", Policy::new().strategy(Strategy::OneForAll));
        // a's one_for_all reaches the members of its group only: b is not.
        assert_eq!(bound_of(&spec, "app/a").runs, 8);
        assert_eq!(bound_of(&spec, "app/b").runs, 4);
        // a's restarts of c count against the group's budget, which c's own
        // restarts spend too: counted once.
        assert_eq!(bound_of(&spec, "app/c").runs, 8);
        assert_eq!(bound_of(&spec, "app/c").budgets, ["group `g` of supervisor `app`"]);
    }

    #[test]
    fn rest_for_one_reaches_only_the_children_declared_after() {
        let spec = SupervisorSpec::new("app")
            .strategy(Strategy::RestForOne)
            .child(idle("first"))
            .child(idle("second"))
            .override_child("second", Policy::new().max_restarts(2));
        // second's restarts have their own budget (2 in 5s) and reach
        // neither first nor anyone after it; first's reach second.
        assert_eq!(bound_of(&spec, "app/first").runs, 4);
        assert_eq!(bound_of(&spec, "app/second").runs, 1 + 2 + 3);
    }

    #[test]
    fn temporary_children_run_once_per_run_of_their_supervisor() {
        let spec = SupervisorSpec::new("app")
            .strategy(Strategy::OneForAll)
            .child(idle("job").restart(Restart::Temporary))
            .child(idle("keep"))
            .supervisor(SupervisorSpec::new("sub").child(idle("inner")));
        let job = bound_of(&spec, "app/job");
        assert_eq!((job.runs, job.within), (1, None));
        // A temporary sibling's exit restarts nobody: keep counts only the
        // supervisor's budget, once.
        assert_eq!(bound_of(&spec, "app/keep").runs, 4);
        let spec = SupervisorSpec::new("app")
            .child(ChildSpec::supervisor(SupervisorSpec::new("once").child(idle("x"))).restart(Restart::Temporary));
        assert_eq!(bound_of(&spec, "app/once/x").runs, 4);
    }

    #[test]
    fn escalation_does_not_change_the_bound() {
        let with = |e: Escalation| {
            SupervisorSpec::new("app")
                .supervisor(SupervisorSpec::new("a").escalation(e).child(idle("x")))
                .restart_bound()
        };
        assert_eq!(with(Escalation::Quarantine), with(Escalation::Escalate));
        assert_eq!(with(Escalation::ShutdownTree), with(Escalation::Escalate));
    }

    #[test]
    fn huge_budgets_saturate() {
        let mut spec = SupervisorSpec::new("leaf-parent").max_restarts(u32::MAX).child(idle("x"));
        for i in 0..3 {
            spec = SupervisorSpec::new(format!("s{i}")).max_restarts(u32::MAX).supervisor(spec);
        }
        assert_eq!(bound_of(&spec, "s2/s1/s0/leaf-parent/x").runs, u64::MAX);
    }

    #[test]
    fn check_passes_at_the_limit_and_names_every_child_above_it() {
        let spec = SupervisorSpec::new("app").child(idle("a")).supervisor(SupervisorSpec::new("b").child(idle("c")));
        assert_eq!(spec.check_restart_bound(15), Ok(()));
        let err = spec.check_restart_bound(3).unwrap_err();
        assert_eq!(err.children.iter().map(|b| b.path.as_str()).collect::<Vec<_>>(), ["app/b/c"]);
        let err = spec.check_restart_bound(2).unwrap_err();
        assert_eq!(
            err.to_string(),
            "3 children may restart more than the limit of 2 times before the root gives up; \
             lower their budgets or raise the limit:\n  \
             - child `app/a` may restart 3 times within 5s: lower `max_restarts` of supervisor `app`\n  \
             - child `app/b` may restart 3 times within 5s: lower `max_restarts` of supervisor `app`\n  \
             - child `app/b/c` may restart 15 times within 5s: lower `max_restarts` of supervisor `app` or supervisor `app/b`"
        );
    }
}
