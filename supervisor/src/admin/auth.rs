//! Bearer tokens: who may read the tree and who may command it.

use std::fmt;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

use super::Admin;
use super::routes::ApiError;

/// What a token allows; `Full` includes `Read`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Access {
    /// `/tree` and `/events`.
    Read,
    /// Also the commands.
    Full,
}

impl Access {
    fn name(self) -> &'static str {
        match self {
            Access::Read => "read",
            Access::Full => "full",
        }
    }
}

/// The configured tokens. Never printed.
#[derive(Clone, Default)]
pub(crate) struct Tokens(Arc<Vec<(Access, Box<[u8]>)>>);

impl fmt::Debug for Tokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = |a| self.0.iter().filter(|(access, _)| *access == a).count();
        write!(f, "{} read, {} full (redacted)", count(Access::Read), count(Access::Full))
    }
}

impl Tokens {
    pub(crate) fn add(&mut self, access: Access, token: String) {
        if token.is_empty() {
            tracing::warn!("an empty admin token was ignored: it would let any request in");
            return;
        }
        Arc::make_mut(&mut self.0).push((access, token.into_bytes().into_boxed_slice()));
    }

    /// The widest access a presented token grants. Every configured token is
    /// compared, each in time independent of where the bytes differ, so the
    /// answer's timing tells nothing about any token's content (only, as
    /// with any comparison, whether the lengths are equal).
    fn access_of(&self, presented: &[u8]) -> Option<Access> {
        let mut granted = None;
        for (access, token) in self.0.iter() {
            let equal: bool = token.as_ref().ct_eq(presented).into();
            if equal {
                granted = granted.max(Some(*access));
            }
        }
        granted
    }
}

/// Why a request was turned away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Denied {
    /// No `Authorization: Bearer` header: 401.
    Missing,
    /// A token that matches none: 401.
    Invalid,
    /// A read-only token on a command: 403.
    Forbidden,
}

/// Decides whether the `Authorization` header grants `need`.
pub(crate) fn authorize(header: Option<&HeaderValue>, tokens: &Tokens, need: Access) -> Result<Access, Denied> {
    let value = header.ok_or(Denied::Missing)?.as_bytes();
    let (scheme, token) = match value.iter().position(|&b| b == b' ') {
        Some(at) => (&value[..at], value[at + 1..].trim_ascii()),
        None => return Err(Denied::Missing),
    };
    if !scheme.eq_ignore_ascii_case(b"bearer") {
        return Err(Denied::Missing);
    }
    if token.is_empty() {
        return Err(Denied::Invalid);
    }
    match tokens.access_of(token) {
        None => Err(Denied::Invalid),
        Some(granted) if granted < need => Err(Denied::Forbidden),
        Some(granted) => Ok(granted),
    }
}

impl IntoResponse for Denied {
    fn into_response(self) -> Response {
        let (status, code, message, challenge) = match self {
            Denied::Missing => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "this endpoint needs a token: send `Authorization: Bearer TOKEN`",
                r#"Bearer realm="supervisor""#,
            ),
            Denied::Invalid => (
                StatusCode::UNAUTHORIZED,
                "invalid_token",
                "the token matches none of the admin endpoint's tokens",
                r#"Bearer realm="supervisor", error="invalid_token""#,
            ),
            Denied::Forbidden => (
                StatusCode::FORBIDDEN,
                "forbidden",
                "this token may only read: commands need a full token",
                r#"Bearer realm="supervisor", error="insufficient_scope""#,
            ),
        };
        let mut response = ApiError::new(status, code, message).into_response();
        response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
        response
    }
}

/// Middleware of the read endpoints.
pub(crate) async fn require_read(state: State<Admin>, request: Request, next: Next) -> Response {
    require(state, request, next, Access::Read).await
}

/// Middleware of the commands.
pub(crate) async fn require_full(state: State<Admin>, request: Request, next: Next) -> Response {
    require(state, request, next, Access::Full).await
}

async fn require(State(admin): State<Admin>, request: Request, next: Next, need: Access) -> Response {
    match authorize(request.headers().get(header::AUTHORIZATION), &admin.config.tokens, need) {
        Err(denied) => denied.into_response(),
        Ok(granted) => {
            let mut response = next.run(request).await;
            response.headers_mut().insert("x-supervisor-access", HeaderValue::from_static(granted.name()));
            response
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens() -> Tokens {
        let mut t = Tokens::default();
        t.add(Access::Read, "reader-secret".into());
        t.add(Access::Full, "admin-secret".into());
        t
    }

    fn check(header: &str, need: Access) -> Result<Access, Denied> {
        authorize(Some(&HeaderValue::from_str(header).unwrap()), &tokens(), need)
    }

    #[test]
    fn no_header_is_missing() {
        assert_eq!(authorize(None, &tokens(), Access::Read), Err(Denied::Missing));
    }

    #[test]
    fn other_schemes_are_missing() {
        assert_eq!(check("Basic admin-secret", Access::Read), Err(Denied::Missing));
        assert_eq!(check("admin-secret", Access::Read), Err(Denied::Missing));
    }

    #[test]
    fn scheme_is_case_insensitive() {
        assert_eq!(check("bearer admin-secret", Access::Full), Ok(Access::Full));
        assert_eq!(check("BEARER  admin-secret ", Access::Full), Ok(Access::Full));
    }

    #[test]
    fn wrong_or_empty_token_is_invalid() {
        assert_eq!(check("Bearer admin-secre", Access::Read), Err(Denied::Invalid));
        assert_eq!(check("Bearer admin-secrets", Access::Read), Err(Denied::Invalid));
        assert_eq!(check("Bearer ", Access::Read), Err(Denied::Invalid));
    }

    #[test]
    fn read_token_reads_but_may_not_command() {
        assert_eq!(check("Bearer reader-secret", Access::Read), Ok(Access::Read));
        assert_eq!(check("Bearer reader-secret", Access::Full), Err(Denied::Forbidden));
    }

    #[test]
    fn full_token_does_both() {
        assert_eq!(check("Bearer admin-secret", Access::Read), Ok(Access::Full));
        assert_eq!(check("Bearer admin-secret", Access::Full), Ok(Access::Full));
    }

    #[test]
    fn empty_configured_token_matches_nothing() {
        let mut t = Tokens::default();
        t.add(Access::Full, String::new());
        assert_eq!(authorize(Some(&HeaderValue::from_static("Bearer ")), &t, Access::Read), Err(Denied::Invalid));
        assert_eq!(t.access_of(b""), None);
    }

    #[test]
    fn debug_never_shows_tokens() {
        let shown = format!("{:?}", tokens());
        assert!(!shown.contains("secret"), "{shown}");
        assert_eq!(shown, "1 read, 1 full (redacted)");
    }
}
