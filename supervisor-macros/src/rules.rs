//! The rules of a supervision tree that both `supervision_tree!` (as compile
//! errors) and `SupervisorSpec::validate()` (at start) check: what each rule
//! decides and how it is worded, in one place.
//!
//! This file is compiled into both crates. It lives in `supervisor-macros`,
//! and `supervisor/src/rules.rs` is a symlink to it that `error.rs` includes
//! with `#[path]` (cargo packages the file itself), as `serde_derive` shares
//! its internals with `serde_derive_internals`. So it uses nothing but `std`,
//! and takes the facts of a rule as plain strings, numbers and durations.
//!
//! A message is a value that displays itself: the runtime writes it in
//! `SpecError`'s `Display`, the macro turns it into the text of a compile
//! error, and both read the same words.

use std::fmt;
use std::time::Duration;

/// A message, written when it is displayed.
struct Message<F>(F);

impl<F: Fn(&mut fmt::Formatter<'_>) -> fmt::Result> fmt::Display for Message<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (self.0)(f)
    }
}

fn message(write: impl Fn(&mut fmt::Formatter<'_>) -> fmt::Result) -> impl fmt::Display {
    Message(write)
}

/// `did you mean `x`? ` with its trailing space, or nothing.
fn did_you_mean(suggestion: Option<&str>) -> impl fmt::Display {
    message(move |f| match suggestion {
        Some(s) => write!(f, "did you mean `{s}`? "),
        None => Ok(()),
    })
}

/// Rule: sibling ids are unique (workers and nested supervisors alike).
pub(crate) fn duplicate_child(supervisor: &str, id: &str) -> impl fmt::Display {
    message(move |f| {
        write!(
            f,
            "duplicate child id `{id}` in supervisor `{supervisor}`: sibling ids must be unique; rename one of them"
        )
    })
}

/// Rule: a child's `group = g` names a group its supervisor declares.
pub(crate) fn unknown_group(supervisor: &str, child: &str, group: &str, suggestion: Option<&str>) -> impl fmt::Display {
    message(move |f| {
        write!(
            f,
            "child `{child}` names group `{group}`, which supervisor `{supervisor}` does not declare: {}declare `group {group}(...)` or fix the name",
            did_you_mean(suggestion)
        )
    })
}

/// Rule: a declared group has members. Checked only when every group a
/// child names is declared: a misspelt name would leave its group empty, and
/// the one mistake would be reported twice.
pub(crate) fn empty_group(supervisor: &str, group: &str) -> impl fmt::Display {
    message(move |f| {
        write!(
            f,
            "group `{group}` of supervisor `{supervisor}` has no members: add `group = {group}` to a child or remove the group"
        )
    })
}

/// Rule: each group is declared once.
pub(crate) fn duplicate_group(supervisor: &str, group: &str) -> impl fmt::Display {
    message(move |f| write!(f, "duplicate group `{group}` in supervisor `{supervisor}`: declare each group once"))
}

/// Rule: an override names a child of its supervisor.
pub(crate) fn unknown_override(supervisor: &str, id: &str, suggestion: Option<&str>) -> impl fmt::Display {
    message(move |f| {
        write!(f, "override of unknown child `{id}`: supervisor `{supervisor}` has no such child")?;
        match suggestion {
            Some(s) => write!(f, "; did you mean `{s}`?"),
            None => Ok(()),
        }
    })
}

/// Rule: one override per child.
pub(crate) fn duplicate_override(supervisor: &str, id: &str) -> impl fmt::Display {
    message(move |f| {
        write!(
            f,
            "duplicate override of child `{id}` in supervisor `{supervisor}`: merge the options into one override"
        )
    })
}

/// The restart scope of a supervisor, for [`zero_within`].
pub(crate) fn supervisor_scope(supervisor: &str) -> String {
    format!("supervisor `{supervisor}`")
}

/// The restart scope of a group, for [`zero_within`].
pub(crate) fn group_scope(group: &str, supervisor: &str) -> String {
    format!("group `{group}` of supervisor `{supervisor}`")
}

/// The restart scope of an override, for [`zero_within`].
pub(crate) fn override_scope(child: &str, supervisor: &str) -> String {
    format!("the override of `{child}` in supervisor `{supervisor}`")
}

/// Rule: an intensity window (`within`) is longer than zero.
pub(crate) fn zero_within(scope: &str) -> impl fmt::Display {
    message(move |f| write!(f, "`within` of {scope} is zero: the intensity window must be longer than zero"))
}

/// Rule: a child's durations are not zero where zero means nothing. Returns,
/// for an option set to zero, how to fix it; `None` where zero is allowed.
pub(crate) fn zero_duration_hint(option: &str) -> Option<&'static str> {
    match option {
        "heartbeat" => Some("give it an interval longer than zero"),
        "start_timeout" => Some("give it a timeout longer than zero"),
        "shutdown" => Some("write `shutdown = brutal_kill` to stop it at once, or give it time"),
        "backoff" => Some("the first delay must be longer than zero; write `backoff = none` for no delay"),
        _ => None,
    }
}

/// The message of [`zero_duration_hint`]'s rule.
pub(crate) fn zero_duration(child: &str, option: &str, hint: &str) -> impl fmt::Display {
    message(move |f| write!(f, "`{option}` of {child} is zero: {hint}"))
}

/// A child, as [`zero_duration`] and [`backoff_min_above_max`] name it.
pub(crate) fn child(path: &str) -> String {
    format!("child `{path}`")
}

/// Rule: a backoff's first delay is not above its longest.
pub(crate) fn backoff_in_order(min: Duration, max: Duration) -> bool {
    min <= max
}

/// The message of [`backoff_in_order`]'s rule.
pub(crate) fn backoff_min_above_max(child: &str, min: Duration, max: Duration) -> impl fmt::Display {
    message(move |f| write!(f, "backoff of {child} has min {min:?} above max {max:?}: write the smaller delay first"))
}

/// What is wrong with a supervisor's `max_children`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MaxChildren {
    Zero,
    BelowDeclared,
}

/// Rule: `max_children` allows at least one child, and at least the
/// children the spec declares.
pub(crate) fn max_children(max: u64, declared: u64) -> Option<MaxChildren> {
    if max == 0 {
        Some(MaxChildren::Zero)
    } else if max < declared {
        Some(MaxChildren::BelowDeclared)
    } else {
        None
    }
}

/// The message of [`MaxChildren::Zero`].
pub(crate) fn zero_max_children(supervisor: &str) -> impl fmt::Display {
    message(move |f| write!(f, "`max_children` of supervisor `{supervisor}` is 0: allow at least one child"))
}

/// The message of [`MaxChildren::BelowDeclared`].
pub(crate) fn max_children_below_declared(supervisor: &str, max: u64, declared: u64) -> impl fmt::Display {
    message(move |f| {
        write!(
            f,
            "`max_children` of supervisor `{supervisor}` is {max}, below its {declared} declared children: raise it to at least {declared}"
        )
    })
}

/// Rule: a significant child is not permanent (OTP rejects it: a permanent
/// child never ends by itself, so it can never end its supervisor).
pub(crate) fn significant_permanent(child: &str) -> impl fmt::Display {
    message(move |f| {
        write!(
            f,
            "child `{child}` is significant but permanent: a permanent child never ends by itself; make it transient or temporary"
        )
    })
}

/// Rule: `significant` only under `auto_shutdown` any_significant or
/// all_significant (the default is never).
pub(crate) fn significant_under_never(supervisor: &str, child: &str) -> impl fmt::Display {
    message(move |f| {
        write!(
            f,
            "child `{child}` is significant but supervisor `{supervisor}` has auto_shutdown = never: set auto_shutdown = any_significant or all_significant, or drop `significant`"
        )
    })
}

/// Rule: `auto_shutdown` other than never needs a significant child.
pub(crate) fn auto_shutdown_without_significant(supervisor: &str, auto: impl fmt::Display) -> impl fmt::Display {
    message(move |f| {
        write!(
            f,
            "supervisor `{supervisor}` has auto_shutdown = {auto} but no significant child: mark a child `significant` or remove auto_shutdown"
        )
    })
}

/// The candidate closest to `word`, for "did you mean": within a third of
/// its length (at least one edit), as rustc does for its own suggestions.
pub(crate) fn closest<'a, I>(word: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let len = word.chars().count();
    let limit = len.max(3) / 3;
    let lower = word.to_lowercase();
    candidates
        .into_iter()
        .filter(|c| *c != word)
        .map(|c| (distance(&lower, &c.to_lowercase()), c))
        // A name of one or two letters is "close" to any other: no guess.
        .filter(|(d, _)| *d <= limit && *d < len)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Optimal string alignment distance: Levenshtein plus swaps of two
/// neighbours, so that `cahce` is one edit from `cache`.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names() {
        assert_eq!(closest("stratgy", ["strategy", "within"]), Some("strategy"));
        assert_eq!(closest("cahce", ["cache", "db"]), Some("cache"));
        assert_eq!(closest("injest", ["ingest"]), Some("ingest"));
        assert_eq!(closest("one_for_al", ["one_for_one", "one_for_all", "rest_for_one"]), Some("one_for_all"));
    }

    #[test]
    fn does_not_suggest_far_names() {
        assert_eq!(closest("db", ["cache"]), None);
        assert_eq!(closest("b", ["a"]), None);
        assert_eq!(closest("zzzzzz", ["strategy"]), None);
    }

    #[test]
    fn max_children_allows_one_and_the_declared() {
        assert_eq!(max_children(0, 0), Some(MaxChildren::Zero));
        assert_eq!(max_children(2, 3), Some(MaxChildren::BelowDeclared));
        assert_eq!(max_children(3, 3), None);
        assert_eq!(max_children(1, 0), None);
    }

    #[test]
    fn zero_is_refused_only_where_it_means_nothing() {
        for option in ["heartbeat", "start_timeout", "shutdown", "backoff"] {
            assert!(zero_duration_hint(option).is_some(), "{option}");
        }
        assert_eq!(zero_duration_hint("max_restarts"), None);
    }

    #[test]
    fn suggestions_sit_where_the_fix_is_said() {
        assert_eq!(
            unknown_group("app", "app/b", "injest", Some("ingest")).to_string(),
            "child `app/b` names group `injest`, which supervisor `app` does not declare: did you mean `ingest`? declare `group injest(...)` or fix the name"
        );
        assert_eq!(
            unknown_override("app", "cahce", Some("cache")).to_string(),
            "override of unknown child `cahce`: supervisor `app` has no such child; did you mean `cache`?"
        );
        assert_eq!(
            backoff_min_above_max(&child("app/a"), Duration::from_millis(1500), Duration::from_millis(10)).to_string(),
            "backoff of child `app/a` has min 1.5s above max 10ms: write the smaller delay first"
        );
    }
}
