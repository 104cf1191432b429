//! The router: which endpoint needs which token, the page, the snapshot and
//! the commands, with their errors as JSON.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use percent_encoding::percent_decode_str;
use serde_json::json;

use super::{Admin, AdminConfig, auth, events, probes};
use crate::error::CommandError;
use crate::runtime::SupervisorHandle;

const PAGE: &str = include_str!("page.html");

/// The page runs only its own inline script and talks only to its origin.
const PAGE_POLICY: &str = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; \
     connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

pub(super) fn build(root: SupervisorHandle, config: AdminConfig) -> Router {
    let admin = Admin {
        tree: root,
        // More permits than a semaphore holds would be no limit anyway.
        streams: Arc::new(tokio::sync::Semaphore::new(
            config.max_event_streams.min(tokio::sync::Semaphore::MAX_PERMITS),
        )),
        config: Arc::new(config),
    };
    let read = Router::new()
        .route("/tree", get(tree))
        .route("/events", get(events::events))
        .route_layer(middleware::from_fn_with_state(admin.clone(), auth::require_read));
    let commands = Router::new()
        .route("/children/{*path}", post(command).delete(command))
        .route_layer(middleware::from_fn_with_state(admin.clone(), auth::require_full));
    Router::new()
        .route("/", get(page))
        .route("/livez", get(probes::livez))
        .route("/readyz", get(probes::readyz))
        .merge(read)
        .merge(commands)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(admin.clone(), limit_body))
        .with_state(admin)
}

/// A JSON response.
pub(crate) fn json_response(status: StatusCode, body: serde_json::Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// An error as the endpoint words them all: `{"error": message, "code": code}`.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError { status, code, message: message.into() }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        json_response(self.status, json!({"error": self.message, "code": self.code}))
    }
}

impl From<&CommandError> for ApiError {
    fn from(error: &CommandError) -> Self {
        let (status, code) = command_status(error);
        ApiError::new(status, code, shown(&error.to_string(), SHOWN_MESSAGE))
    }
}

async fn not_found(uri: Uri) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("no endpoint at `{}`", shown(uri.path(), SHOWN_ID)))
}

async fn method_not_allowed(method: Method) -> ApiError {
    let method = shown(method.as_str(), SHOWN_ID);
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", format!("`{method}` is not allowed here"))
}

/// Reads at most the configured number of body bytes, so that no request
/// makes the endpoint hold more; no handler needs a body.
async fn limit_body(State(admin): State<Admin>, request: Request, next: Next) -> Response {
    let limit = admin.config.max_body_bytes;
    let too_large = || {
        let message = format!("request bodies are limited to {limit} bytes");
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", message).into_response()
    };
    let declared = request.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return too_large();
    }
    let (parts, body) = request.into_parts();
    match axum::body::to_bytes(body, limit).await {
        Ok(bytes) => next.run(Request::from_parts(parts, Body::from(bytes))).await,
        Err(_) => too_large(),
    }
}

async fn page() -> Response {
    let mut response = axum::response::Html(PAGE).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(PAGE_POLICY));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

async fn tree(State(admin): State<Admin>) -> Result<Response, ApiError> {
    let snapshot = admin.tree.snapshot().await.map_err(|e| ApiError::from(&e))?;
    let body = serde_json::to_value(&snapshot)
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))?;
    Ok(json_response(StatusCode::OK, body))
}

/// A command of the handle, by its name in the URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Command {
    Restart,
    Terminate,
    Delete,
}

impl Command {
    fn name(self) -> &'static str {
        match self {
            Command::Restart => "restart",
            Command::Terminate => "terminate",
            Command::Delete => "delete",
        }
    }
}

/// Why a command's URL names nothing to command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PathError {
    /// Not `POST .../restart`, `POST .../terminate` or `DELETE ...`.
    NoCommand,
    /// An empty segment (`a//b`, a trailing `/`).
    EmptyId,
    /// A segment that is not UTF-8 once percent-decoded.
    NotUtf8,
}

/// The command and the child's path (ids, root first, percent-decoded)
/// named by a method and the part of the URL after `/children/`, as it came.
pub(crate) fn parse_command(method: &Method, raw: &str) -> Result<(Command, Vec<String>), PathError> {
    let mut segments: Vec<&str> = raw.split('/').collect();
    let command = if method == Method::DELETE {
        Command::Delete
    } else if method == Method::POST {
        match segments.pop() {
            Some("restart") => Command::Restart,
            Some("terminate") => Command::Terminate,
            _ => return Err(PathError::NoCommand),
        }
    } else {
        return Err(PathError::NoCommand);
    };
    if segments.is_empty() {
        return Err(PathError::NoCommand);
    }
    let ids = segments
        .into_iter()
        .map(|s| match percent_decode_str(s).decode_utf8() {
            Ok(id) if id.is_empty() => Err(PathError::EmptyId),
            Ok(id) => Ok(id.into_owned()),
            Err(_) => Err(PathError::NotUtf8),
        })
        .collect::<Result<_, _>>()?;
    Ok((command, ids))
}

/// The status and code of a refused command: 404 where the path names no
/// child, 409 where the command does not apply.
pub(crate) fn command_status(error: &CommandError) -> (StatusCode, &'static str) {
    match error {
        CommandError::UnknownChild { .. } => (StatusCode::NOT_FOUND, "unknown_child"),
        CommandError::NotASupervisor { .. } => (StatusCode::NOT_FOUND, "not_a_supervisor"),
        CommandError::Running { .. } => (StatusCode::CONFLICT, "running"),
        CommandError::NotRunning { .. } => (StatusCode::CONFLICT, "not_running"),
        CommandError::StartFailed { .. } => (StatusCode::CONFLICT, "start_failed"),
        _ => (StatusCode::CONFLICT, "conflict"),
    }
}

/// How many characters of an id, or of a message holding one, an answer
/// shows: ids come from the URL, which may be long.
const SHOWN_ID: usize = 100;
const SHOWN_MESSAGE: usize = 400;

fn shown(text: &str, at_most: usize) -> String {
    let mut out: String = text.chars().take(at_most).collect();
    if out.len() < text.len() {
        out.push_str("...");
    }
    out
}

async fn command(State(admin): State<Admin>, method: Method, uri: Uri) -> Result<Response, ApiError> {
    let raw = uri.path().strip_prefix("/children/").unwrap_or_default();
    let (command, ids) = parse_command(&method, raw).map_err(|e| match e {
        PathError::NoCommand => ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "commands are `POST /children/{path}/restart`, `POST /children/{path}/terminate` and `DELETE /children/{path}`",
        ),
        PathError::EmptyId => ApiError::new(StatusCode::NOT_FOUND, "unknown_child", "a child's path holds no empty id"),
        PathError::NotUtf8 => ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_path",
            "a segment of the path is not UTF-8 once percent-decoded",
        ),
    })?;
    let (parent, id) = resolve(&admin.tree, &ids).await?;
    let result = match command {
        Command::Restart => parent.restart_child(id).await,
        Command::Terminate => parent.terminate_child(id).await,
        Command::Delete => parent.delete_child(id).await,
    };
    result.map_err(|e| ApiError::from(&e))?;
    let path = format!("{}/{id}", parent.path());
    Ok(json_response(StatusCode::OK, json!({"ok": true, "command": command.name(), "path": path})))
}

/// The handle of the supervisor that holds the child at `ids`, and the
/// child's id.
async fn resolve<'a>(root: &SupervisorHandle, ids: &'a [String]) -> Result<(SupervisorHandle, &'a str), ApiError> {
    let (first, rest) = ids.split_first().ok_or_else(|| unknown_root(root, ""))?;
    if first != root.path() {
        return Err(unknown_root(root, first));
    }
    let Some((id, between)) = rest.split_last() else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "root",
            format!("`{}` is the root supervisor: commands apply to its children", root.path()),
        ));
    };
    let mut parent = root.clone();
    for nested in between {
        parent = parent.nested(nested).await.map_err(|e| ApiError::from(&e))?;
    }
    Ok((parent, id.as_str()))
}

fn unknown_root(root: &SupervisorHandle, first: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "unknown_child",
        format!("paths start at the root `{}`, not at `{}`", root.path(), shown(first, SHOWN_ID)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn post_names_the_command_last() {
        assert_eq!(parse_command(&Method::POST, "app/db/restart"), Ok((Command::Restart, ids(&["app", "db"]))));
        assert_eq!(
            parse_command(&Method::POST, "app/http/router/terminate"),
            Ok((Command::Terminate, ids(&["app", "http", "router"])))
        );
    }

    #[test]
    fn delete_takes_the_whole_path() {
        assert_eq!(parse_command(&Method::DELETE, "app/db"), Ok((Command::Delete, ids(&["app", "db"]))));
    }

    #[test]
    fn unknown_commands_and_methods_name_nothing() {
        assert_eq!(parse_command(&Method::POST, "app/db/explode"), Err(PathError::NoCommand));
        assert_eq!(parse_command(&Method::POST, "restart"), Err(PathError::NoCommand));
        assert_eq!(parse_command(&Method::GET, "app/db/restart"), Err(PathError::NoCommand));
        assert_eq!(parse_command(&Method::PUT, "app/db"), Err(PathError::NoCommand));
    }

    #[test]
    fn segments_are_percent_decoded_one_by_one() {
        // An encoded slash stays inside its id, which no real id can hold.
        assert_eq!(parse_command(&Method::DELETE, "app/a%2Fb"), Ok((Command::Delete, ids(&["app", "a/b"]))));
        assert_eq!(parse_command(&Method::DELETE, "app/caf%C3%A9"), Ok((Command::Delete, ids(&["app", "café"]))));
        assert_eq!(parse_command(&Method::DELETE, "app/.."), Ok((Command::Delete, ids(&["app", ".."]))));
    }

    #[test]
    fn empty_and_invalid_segments_are_refused() {
        assert_eq!(parse_command(&Method::DELETE, "app//db"), Err(PathError::EmptyId));
        assert_eq!(parse_command(&Method::DELETE, "app/db/"), Err(PathError::EmptyId));
        assert_eq!(parse_command(&Method::POST, "app/%FF/restart"), Err(PathError::NotUtf8));
    }

    #[test]
    fn unknown_paths_are_404_and_inapplicable_commands_409() {
        let unknown = CommandError::UnknownChild { supervisor: "app".into(), id: "x".into() };
        assert_eq!(command_status(&unknown).0, StatusCode::NOT_FOUND);
        assert_eq!(command_status(&CommandError::NotASupervisor { child: "app/db".into() }).0, StatusCode::NOT_FOUND);
        assert_eq!(command_status(&CommandError::Running { child: "app/db".into() }).0, StatusCode::CONFLICT);
        assert_eq!(command_status(&CommandError::NotRunning { supervisor: "app".into() }).0, StatusCode::CONFLICT);
    }

    #[test]
    fn long_ids_are_cut_in_messages() {
        let long = "x".repeat(10_000);
        assert_eq!(shown(&long, SHOWN_ID).len(), SHOWN_ID + 3);
        assert_eq!(shown("db", SHOWN_ID), "db");
    }
}
