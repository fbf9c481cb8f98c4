//! Signing in to the review page with a token, and what every signed-in request checks.
//!
//! `POST /sign-in` (form field `token`) starts a session: a random secret in a cookie
//! (HttpOnly, SameSite=Strict, Path=/, Secure when the request came over https, directly or
//! through a proxy that says so with `X-Forwarded-Proto`), stored hashed on the server with
//! the token it stands for. The token itself never goes in a URL or a cookie. A revoked
//! token ends its sessions. `POST /sign-out` ends one, and its live streams with it.
//!
//! State changes need the session's CSRF secret in the form (or the `X-CSRF-Token` header),
//! compared in constant time, and, when the browser sends an `Origin`, the page's own origin.

use super::layout;
use crate::api::blocking;
use crate::fair::connections::Peer;
use crate::state::{AppState, ProjectRecord};
use crate::store::TokenInfo;
use crate::tls::OverTls;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use liner_record::Role;
use serde::Deserialize;
use std::sync::Arc;
use subtle::ConstantTimeEq;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "liner_session";

/// A signed-in visitor: their token, and their session's secrets.
pub struct Signed {
    pub token: TokenInfo,
    pub csrf: String,
    secret: String,
}

impl Signed {
    pub fn is_executive(&self) -> bool {
        self.token.role == Role::Executive
    }

    /// The session's cookie secret (what its live streams are held by).
    pub fn secret(&self) -> &str {
        &self.secret
    }
}

/// The session cookie's value, if the request carries one.
fn cookie(headers: &HeaderMap) -> Option<String> {
    cookie_named(headers, SESSION_COOKIE)
}

/// The value of the cookie `wanted` (the first that could be a secret: not empty, under 200
/// bytes), if the request carries one.
pub(super) fn cookie_named(headers: &HeaderMap, wanted: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(name, _)| *name == wanted)
        .map(|(_, value)| value.to_owned())
        .find(|v| !v.is_empty() && v.len() < 200)
}

/// The signed-in visitor, if any.
pub async fn signed(state: &Arc<AppState>, headers: &HeaderMap) -> Option<Signed> {
    let secret = cookie(headers)?;
    let store = state.store.clone();
    let lookup = secret.clone();
    let (token, csrf) = blocking(move || store.session(&lookup)).await.ok()??;
    Some(Signed {
        token,
        csrf,
        secret,
    })
}

/// Why a request is not served: no session (to the sign-in form), a refusal in words, or the
/// store failing.
pub enum Denied {
    SignIn,
    Refused(StatusCode, &'static str),
    Failed(crate::api::ApiError),
}

impl IntoResponse for Denied {
    fn into_response(self) -> Response {
        match self {
            Denied::SignIn => Redirect::to("/").into_response(),
            Denied::Refused(status, message) => layout::problem(status, message),
            Denied::Failed(e) => e.into_response(),
        }
    }
}

/// The project's record as of now, for a signed-in visitor.
pub async fn record_of(
    state: &Arc<AppState>,
    signed: &Signed,
) -> Result<Arc<ProjectRecord>, Denied> {
    let project = signed.token.project.clone();
    let state = state.clone();
    blocking(move || state.record(&project))
        .await
        .map_err(Denied::Failed)
}

/// The signed-in visitor and their project's record: what every page starts with.
pub async fn signed_record(
    state: &Arc<AppState>,
    headers: &HeaderMap,
) -> Result<(Signed, Arc<ProjectRecord>), Denied> {
    let signed = require(state, headers).await?;
    let record = record_of(state, &signed).await?;
    Ok((signed, record))
}

/// The signed-in visitor, or the answer that sends them to the sign-in form.
pub async fn require(state: &Arc<AppState>, headers: &HeaderMap) -> Result<Signed, Denied> {
    signed(state, headers).await.ok_or(Denied::SignIn)
}

/// This site's address as people outside reach it, for addresses shown to be copied (a
/// feed, a listening link): `liner serve --public-url` when set, else the request's scheme
/// (TLS here, `over_tls`, or at a proxy) and host.
pub fn site_address(state: &AppState, headers: &HeaderMap, over_tls: bool) -> String {
    if let Some(url) = state.public_url.get() {
        return url.trim_end_matches('/').to_owned();
    }
    let host = headers
        .get("x-forwarded-host")
        .or_else(|| headers.get(axum::http::header::HOST))
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost");
    let scheme = if over_tls || https(headers) {
        "https"
    } else {
        "http"
    };
    format!("{scheme}://{host}")
}

/// Whether the request came over https (to the server, or to the proxy in front of it).
pub fn https(headers: &HeaderMap) -> bool {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_ascii_lowercase)
    };
    header("x-forwarded-proto").is_some_and(|p| p.split(',').next().map(str::trim) == Some("https"))
        || header("forwarded").is_some_and(|f| f.contains("proto=https"))
}

/// The session cookie: `Secure` when the request came over https (this server's own TLS,
/// `over_tls`, or a proxy's).
fn set_cookie(headers: &HeaderMap, over_tls: bool, value: &str, max_age: i64) -> HeaderValue {
    let secure = if over_tls || https(headers) {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={value}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age}{secure}"
    ))
    .expect("cookie values are hex")
}

/// Whether a state-changing request comes from this site: an `Origin` (when the browser sends
/// one) naming the host the request was sent to.
pub(super) fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = headers
        .get("x-forwarded-host")
        .or_else(|| headers.get(header::HOST))
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let bare = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
        .unwrap_or("");
    !host.is_empty() && bare == host
}

/// Refuses a state change without the session's CSRF secret or from another site.
pub fn check_csrf(signed: &Signed, sent: &str, headers: &HeaderMap) -> Result<(), Denied> {
    let sent = headers
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
        .unwrap_or(sent);
    let ok: bool = sent.as_bytes().ct_eq(signed.csrf.as_bytes()).into();
    if ok && same_origin(headers) {
        Ok(())
    } else {
        Err(Denied::Refused(
            StatusCode::FORBIDDEN,
            "This form is out of date or came from another site: reload the page and try again.",
        ))
    }
}

/// Refuses a decision from anyone but the executive producer.
pub fn check_executive(signed: &Signed) -> Result<(), Denied> {
    if signed.is_executive() {
        Ok(())
    } else {
        Err(Denied::Refused(
            StatusCode::FORBIDDEN,
            "Only the executive producer gives verdicts and decides the tracklist; this page is \
             read-only for you.",
        ))
    }
}

#[derive(Deserialize)]
pub struct SignIn {
    #[serde(default)]
    token: String,
}

/// `POST /sign-in`. An address that sent wrong tokens waits its turn first, and a wrong one
/// counts against it ([`crate::fair::guesses`]).
pub async fn sign_in(
    State(state): State<Arc<AppState>>,
    peer: Peer,
    tls: Option<axum::Extension<OverTls>>,
    headers: HeaderMap,
    Form(form): Form<SignIn>,
) -> Response {
    if !same_origin(&headers) {
        return layout::problem(StatusCode::FORBIDDEN, "Sign in from this page itself.");
    }
    let token = form.token.trim().to_owned();
    if token.is_empty() || token.len() > 200 {
        return layout::sign_in_page(StatusCode::UNAUTHORIZED, Some("Paste your token."));
    }
    if let Err(wait) = state.guesses.turn(peer.0).await {
        let mut r = layout::sign_in_page(
            StatusCode::TOO_MANY_REQUESTS,
            Some("Too many wrong tokens came from here. Wait a little, then try again."),
        );
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(wait.as_secs() + 1));
        return r;
    }
    let store = state.store.clone();
    let session = blocking(move || {
        Ok(match store.authenticate(&token)? {
            Some(info) => Some(store.create_session(info.id)?),
            None => None,
        })
    })
    .await;
    match session {
        Ok(Some((secret, _))) => {
            let mut r = Redirect::to("/").into_response();
            r.headers_mut().insert(
                header::SET_COOKIE,
                set_cookie(
                    &headers,
                    tls.is_some(),
                    &secret,
                    crate::store::SESSION_MS / 1000,
                ),
            );
            r
        }
        Ok(None) => {
            state.guesses.missed(peer.0);
            layout::sign_in_page(
                StatusCode::UNAUTHORIZED,
                Some("That token is not valid (wrong, or revoked). Ask for a new one."),
            )
        }
        Err(e) => e.into_response(),
    }
}

#[derive(Deserialize)]
pub struct SignOut {
    #[serde(default)]
    csrf: String,
}

pub async fn sign_out(
    State(state): State<Arc<AppState>>,
    tls: Option<axum::Extension<OverTls>>,
    headers: HeaderMap,
    Form(form): Form<SignOut>,
) -> Response {
    let signed = match require(&state, &headers).await {
        Ok(s) => s,
        Err(d) => return d.into_response(),
    };
    if let Err(d) = check_csrf(&signed, &form.csrf, &headers) {
        return d.into_response();
    }
    let store = state.store.clone();
    let secret = signed.secret.clone();
    if let Err(e) = blocking(move || store.end_session(&secret)).await {
        return e.into_response();
    }
    // Its live streams end now, not at the next sweep.
    state.holds.end_session(&signed.secret);
    let mut r = Redirect::to("/").into_response();
    r.headers_mut().insert(
        header::SET_COOKIE,
        set_cookie(&headers, tls.is_some(), "", 0),
    );
    r
}
