//! `/livez` and `/readyz`, for Kubernetes' probes: the root supervisor's
//! loop answers in time, and the tree is ready by the configured rule.

use std::fmt;
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;

use super::Admin;
use super::routes::json_response;
use crate::runtime::{ChildState, Snapshot};

/// When `/readyz` answers 200.
///
/// ```
/// use supervisor::admin::Readiness;
///
/// // Ready once the database worker runs, whatever the rest does.
/// let only_db = Readiness::Children(vec!["app/db".to_string()]);
/// // Ready when at most one child is not running.
/// let lenient = Readiness::custom(|snap| {
///     let down = snap.children.iter().filter(|c| c.state != supervisor::ChildState::Running).count();
///     if down <= 1 { Ok(()) } else { Err(format!("{down} children are down")) }
/// });
/// # let _ = (only_db, lenient);
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub enum Readiness {
    /// Every declared (not dynamic) child of every running supervisor runs
    /// (the default). A nested supervisor that does not run makes the tree
    /// unready by itself.
    AllDeclared,
    /// The children at these paths (`app/db`, `app/http/listener`) run.
    Children(Vec<String>),
    /// A rule of your own over the snapshot: `Err` says why the tree is not
    /// ready.
    Custom(Arc<ReadinessRule>),
}

/// A readiness rule of your own, for [`Readiness::Custom`].
pub type ReadinessRule = dyn Fn(&Snapshot) -> Result<(), String> + Send + Sync;

impl Readiness {
    /// A rule of your own; see [`Readiness::Custom`].
    pub fn custom(rule: impl Fn(&Snapshot) -> Result<(), String> + Send + Sync + 'static) -> Self {
        Readiness::Custom(Arc::new(rule))
    }
}

impl fmt::Debug for Readiness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Readiness::AllDeclared => f.write_str("AllDeclared"),
            Readiness::Children(paths) => f.debug_tuple("Children").field(paths).finish(),
            Readiness::Custom(_) => f.write_str("Custom(..)"),
        }
    }
}

fn state_word(state: ChildState) -> &'static str {
    match state {
        ChildState::Running => "running",
        ChildState::Restarting => "restarting",
        ChildState::Stopped => "stopped",
        ChildState::Quarantined => "quarantined",
    }
}

/// Why the tree is not ready by `rule`, or `Ok` when it is.
pub(crate) fn check_ready(snapshot: &Snapshot, rule: &Readiness) -> Result<(), String> {
    match rule {
        Readiness::AllDeclared => first_declared_not_running(snapshot),
        Readiness::Children(paths) => {
            for path in paths {
                match find_state(snapshot, path) {
                    Some(ChildState::Running) => {}
                    Some(state) => return Err(format!("`{path}` is {}", state_word(state))),
                    None => return Err(format!("`{path}` is not in the tree")),
                }
            }
            Ok(())
        }
        Readiness::Custom(rule) => rule(snapshot),
    }
}

fn first_declared_not_running(snapshot: &Snapshot) -> Result<(), String> {
    for child in snapshot.children.iter().filter(|c| !c.dynamic) {
        if child.state != ChildState::Running {
            return Err(format!("`{}/{}` is {}", snapshot.path, child.id, state_word(child.state)));
        }
        if let Some(nested) = &child.supervisor {
            first_declared_not_running(nested)?;
        }
    }
    Ok(())
}

/// The state of the child at `path` (root id first), if the snapshot has it.
fn find_state(snapshot: &Snapshot, path: &str) -> Option<ChildState> {
    let rest = path.strip_prefix(snapshot.path.as_str())?.strip_prefix('/')?;
    let (id, deeper) = match rest.split_once('/') {
        Some((id, deeper)) => (id, Some(deeper)),
        None => (rest, None),
    };
    let child = snapshot.children.iter().find(|c| c.id == id)?;
    match deeper {
        None => Some(child.state),
        Some(_) => find_state(child.supervisor.as_ref()?, path),
    }
}

pub(crate) async fn livez(State(admin): State<Admin>) -> Response {
    let deadline = admin.config.probe_deadline;
    // The loop answers pings while it starts or stops children too.
    match tokio::time::timeout(deadline, admin.tree.ping()).await {
        Ok(Ok(_)) => json_response(StatusCode::OK, json!({"live": true})),
        Ok(Err(e)) => not_live(e.to_string()),
        Err(_) => not_live(format!("the root supervisor did not answer within {deadline:?}")),
    }
}

fn not_live(reason: String) -> Response {
    json_response(StatusCode::SERVICE_UNAVAILABLE, json!({"live": false, "reason": reason}))
}

pub(crate) async fn readyz(State(admin): State<Admin>) -> Response {
    let deadline = admin.config.probe_deadline;
    match tokio::time::timeout(deadline, admin.tree.snapshot()).await {
        Ok(Ok(snapshot)) => match check_ready(&snapshot, &admin.config.readiness) {
            Ok(()) => json_response(StatusCode::OK, json!({"ready": true})),
            Err(reason) => not_ready(reason),
        },
        Ok(Err(e)) => not_ready(e.to_string()),
        Err(_) => not_ready(format!("the tree did not answer within {deadline:?}")),
    }
}

fn not_ready(reason: String) -> Response {
    json_response(StatusCode::SERVICE_UNAVAILABLE, json!({"ready": false, "reason": reason}))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::{ChildInfo, ChildKind};

    fn child(id: &str, state: ChildState) -> ChildInfo {
        ChildInfo {
            id: id.into(),
            kind: ChildKind::Worker,
            state,
            restarts: 0,
            attempt: 1,
            uptime: None,
            last_exit: None,
            dynamic: false,
            mailbox: None,
            supervisor: None,
        }
    }

    fn tree(db: ChildState, router: ChildState) -> Snapshot {
        let mut http = child("http", ChildState::Running);
        http.kind = ChildKind::Supervisor;
        http.supervisor = Some(Snapshot { path: "app/http".into(), children: vec![child("router", router)] });
        Snapshot { path: "app".into(), children: vec![child("db", db), http] }
    }

    #[test]
    fn all_declared_running_is_ready() {
        let snap = tree(ChildState::Running, ChildState::Running);
        assert_eq!(check_ready(&snap, &Readiness::AllDeclared), Ok(()));
    }

    #[test]
    fn all_declared_names_the_first_child_down_even_nested() {
        let snap = tree(ChildState::Running, ChildState::Restarting);
        assert_eq!(check_ready(&snap, &Readiness::AllDeclared), Err("`app/http/router` is restarting".into()));
        let snap = tree(ChildState::Quarantined, ChildState::Restarting);
        assert_eq!(check_ready(&snap, &Readiness::AllDeclared), Err("`app/db` is quarantined".into()));
    }

    #[test]
    fn all_declared_ignores_dynamic_children() {
        let mut snap = tree(ChildState::Running, ChildState::Running);
        let mut extra = child("job", ChildState::Stopped);
        extra.dynamic = true;
        snap.children.push(extra);
        assert_eq!(check_ready(&snap, &Readiness::AllDeclared), Ok(()));
    }

    #[test]
    fn children_rule_looks_only_at_its_paths() {
        let snap = tree(ChildState::Running, ChildState::Stopped);
        assert_eq!(check_ready(&snap, &Readiness::Children(vec!["app/db".into()])), Ok(()));
        assert_eq!(
            check_ready(&snap, &Readiness::Children(vec!["app/http/router".into()])),
            Err("`app/http/router` is stopped".into())
        );
        assert_eq!(
            check_ready(&snap, &Readiness::Children(vec!["app/nope".into()])),
            Err("`app/nope` is not in the tree".into())
        );
        assert_eq!(
            check_ready(&snap, &Readiness::Children(vec!["other/db".into()])),
            Err("`other/db` is not in the tree".into())
        );
    }

    #[test]
    fn custom_rule_decides() {
        let snap = tree(ChildState::Stopped, ChildState::Running);
        let rule = Readiness::custom(|s| if s.children.len() == 2 { Ok(()) } else { Err("no".into()) });
        assert_eq!(check_ready(&snap, &rule), Ok(()));
    }
}
