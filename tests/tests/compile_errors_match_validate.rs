//! A rule of the tree says the same words at compile time and at start:
//! every invalid ui case whose errors are rules (not syntax, not typing) is
//! built here again with the builder, and `SupervisorSpec::validate()`'s
//! messages are compared with the compile errors pinned in the case's
//! `.stderr`. A new ui case must be listed here, as a rule or not.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use supervisor::{AutoShutdown, ChildSpec, Context, GroupSpec, Policy, Restart, Strategy, SupervisorSpec};

fn worker(id: &str) -> ChildSpec {
    ChildSpec::from_fn(id, |ctx: Context| async move { ctx.cancelled().await })
}

fn group(id: &str) -> GroupSpec {
    GroupSpec::new(id)
}

fn strategy(s: Strategy) -> Policy {
    Policy::new().strategy(s)
}

/// The ui cases that break rules `validate()` checks, each as the builder
/// writes its tree, with the compile errors of the case that are not rules
/// (by their start), if any.
fn rule_cases() -> Vec<(&'static str, &'static [&'static str], SupervisorSpec)> {
    let ms = Duration::from_millis;
    vec![
        (
            "auto_shutdown_without_significant",
            &[],
            SupervisorSpec::new("app").auto_shutdown(AutoShutdown::AllSignificant).child(worker("a")),
        ),
        ("backoff_min_above_max", &[], SupervisorSpec::new("app").child(worker("a").backoff(ms(1500)..ms(10)))),
        (
            "duplicate_child_id",
            &[],
            SupervisorSpec::new("app").child(worker("db")).child(worker("cache")).child(worker("db")),
        ),
        (
            "duplicate_group",
            &[],
            SupervisorSpec::new("app")
                .child(worker("a").group("pipeline"))
                .group(group("pipeline").strategy(Strategy::OneForAll))
                .group(group("pipeline").strategy(Strategy::RestForOne)),
        ),
        (
            "duplicate_override",
            &[],
            SupervisorSpec::new("app")
                .child(worker("db"))
                .override_child("db", strategy(Strategy::OneForAll))
                .override_child("db", Policy::new().max_restarts(1)),
        ),
        (
            "duplicate_supervisor_id",
            &[],
            SupervisorSpec::new("app")
                .supervisor(SupervisorSpec::new("io").child(worker("a")))
                .supervisor(SupervisorSpec::new("io").child(worker("b"))),
        ),
        (
            "empty_group",
            &[],
            SupervisorSpec::new("app").child(worker("a")).group(group("pipeline").strategy(Strategy::OneForAll)),
        ),
        (
            "group_typo_did_you_mean",
            &[],
            SupervisorSpec::new("app")
                .child(worker("a").group("ingest"))
                .child(worker("b").group("injest"))
                .group(group("ingest").strategy(Strategy::RestForOne)),
        ),
        (
            "max_children_below_declared",
            &[],
            SupervisorSpec::new("app").max_children(2).child(worker("a")).child(worker("b")).child(worker("c")),
        ),
        ("max_children_zero", &[], SupervisorSpec::new("app").max_children(0)),
        (
            "override_typo_did_you_mean",
            &[],
            SupervisorSpec::new("app").child(worker("cache")).override_child("cahce", strategy(Strategy::OneForAll)),
        ),
        (
            "significant_permanent",
            &[],
            SupervisorSpec::new("app")
                .auto_shutdown(AutoShutdown::AnySignificant)
                .child(worker("a").restart(Restart::Permanent).significant(true)),
        ),
        (
            "significant_permanent_supervisor",
            &[],
            SupervisorSpec::new("app")
                .auto_shutdown(AutoShutdown::AnySignificant)
                .child(ChildSpec::supervisor(SupervisorSpec::new("jobs").child(worker("a"))).significant(true)),
        ),
        (
            "significant_under_never",
            &[],
            SupervisorSpec::new("app").child(worker("a").restart(Restart::Transient).significant(true)),
        ),
        ("unknown_group", &[], SupervisorSpec::new("app").child(worker("a").group("pipeline"))),
        (
            "unknown_override",
            &[],
            SupervisorSpec::new("app").child(worker("db")).override_child("queue", strategy(Strategy::OneForAll)),
        ),
        (
            "within_zero",
            &[],
            SupervisorSpec::new("app")
                .child(worker("a").group("g"))
                .group(group("g").max_restarts(5).within(Duration::ZERO)),
        ),
        ("zero_backoff_min", &[], SupervisorSpec::new("app").child(worker("a").backoff(ms(0)..ms(1000)))),
        ("zero_heartbeat", &[], SupervisorSpec::new("app").child(worker("a").heartbeat(Duration::ZERO))),
        ("zero_shutdown", &[], SupervisorSpec::new("app").child(worker("a").shutdown(Duration::ZERO))),
        ("zero_start_timeout", &[], SupervisorSpec::new("app").child(worker("a").start_timeout(Duration::ZERO))),
        (
            "rules_after_syntax_error",
            &["expected the value of worker `a`"],
            SupervisorSpec::new("app")
                .supervisor(
                    SupervisorSpec::new("io").child(worker("a")).child(worker("b").group("g")).group(group("g")),
                )
                .supervisor(
                    SupervisorSpec::new("http").max_children(1).child(worker("listener")).child(worker("router")),
                )
                .override_child("htp", strategy(Strategy::OneForAll)),
        ),
        (
            "several_errors_at_once",
            &["unknown option `stratgy`", "duration `5` has no unit"],
            SupervisorSpec::new("app")
                .within(Duration::ZERO)
                .child(worker("a").group("pipelin"))
                .child(worker("a"))
                .group(group("pipeline").strategy(Strategy::OneForAll))
                .override_child("b", strategy(Strategy::RestForOne)),
        ),
    ]
}

/// The ui cases that no spec built at run time can break: syntax, option
/// typing, type errors and `#[worker]`, which the builder's types rule out.
const NOT_RULES: &[&str] = &[
    "backoff_not_a_range",
    "crate_path_unresolved",
    "duplicate_option_key",
    "duration_bad_unit",
    "duration_missing_unit",
    "duration_number_and_unit_apart",
    "duration_unit_alias",
    "duration_unit_nanoseconds",
    "empty_override",
    "hyphenated_id",
    "max_restarts_not_a_number",
    "misplaced_option_key",
    "misplaced_restart_on_root",
    "negative_count",
    "negative_duration",
    "not_a_worker",
    "option_needs_value",
    "runtime_value_wrong_type",
    "rust_call_for_a_duration",
    "rust_path_for_a_word",
    "syntax_missing_equals",
    "syntax_missing_semicolon",
    "syntax_no_root",
    "syntax_option_without_equals",
    "syntax_root_not_supervisor",
    "syntax_supervisor_without_braces",
    "syntax_two_roots",
    "syntax_unknown_item",
    "syntax_unknown_items_each_reported",
    "tree_in_const",
    "tree_in_static",
    "unknown_auto_shutdown",
    "unknown_escalation",
    "unknown_option_key",
    "unknown_restart",
    "unknown_shutdown_word",
    "unknown_strategy",
    "worker_bad_option",
    "worker_bad_values",
    "worker_misplaced_option",
    "worker_missing_clone",
    "worker_missing_run",
    "worker_missing_run_trait_in_scope",
    "worker_not_send",
    "worker_on_enum",
    "worker_on_fn",
    "worker_run_borrows_self",
    "worker_run_impl_with_more_bounds",
    "worker_run_not_async",
    "worker_run_returns_wrong_type",
    "worker_run_without_context",
    "worker_runtime_value",
];

fn ui_fail_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../ui-tests/ui/fail")
}

/// The first line of every `error: ` of a pinned `.stderr` (the notes that
/// follow on the next lines are the macro's alone).
fn compile_errors(case: &str) -> Vec<String> {
    let path = ui_fail_dir().join(format!("{case}.stderr"));
    let stderr = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    stderr.lines().filter_map(|l| l.strip_prefix("error: ")).map(str::to_string).collect()
}

#[test]
fn every_rule_case_says_at_start_what_it_says_at_compile_time() {
    for (case, not_rules, spec) in rule_cases() {
        let compiled: BTreeSet<String> = compile_errors(case)
            .into_iter()
            .filter(|e| !not_rules.iter().any(|prefix| e.starts_with(prefix)))
            .collect();
        let errors = spec.validate().expect_err(case);
        let at_start: BTreeSet<String> = errors.iter().map(ToString::to_string).collect();
        assert!(!compiled.is_empty(), "{case}: no compile error to compare");
        assert_eq!(at_start, compiled, "{case}: validate() (left) and the compile errors (right) differ");
    }
}

#[test]
fn every_ui_case_is_a_rule_case_or_said_not_to_be() {
    let rules: BTreeSet<&str> = rule_cases().into_iter().map(|(case, _, _)| case).collect();
    let mut unlisted = Vec::new();
    let entries = std::fs::read_dir(ui_fail_dir()).expect("the ui cases");
    for entry in entries {
        let path = entry.expect("an entry").path();
        if path.extension().is_some_and(|e| e == "rs") {
            let case = path.file_stem().and_then(|s| s.to_str()).expect("a name").to_string();
            let listed = rules.contains(case.as_str()) as u8 + NOT_RULES.contains(&case.as_str()) as u8;
            if listed != 1 {
                unlisted.push(case);
            }
        }
    }
    assert!(unlisted.is_empty(), "list each of these once, in rule_cases() or NOT_RULES: {unlisted:?}");
}
