//! Webhooks: each project may have any number (`liner webhook add --project P --url URL
//! --events ...`), each told of the project's new events of the kinds it asked for, as a
//! signed JSON body that Slack and Mattermost incoming webhooks post as it is.
//!
//! - [`message`]: the body, its signature and the delivery's id.
//! - [`address`]: which addresses a webhook may reach (never private ones unless the studio
//!   allows them), checked when connecting.
//! - [`deliver`]: the delivery task of `liner serve`: off the request path, per hook in event
//!   order, with retries and backoff, a log of every attempt, and the work claimed in the
//!   database so several servers on one database deliver each event once.
//!
//! Guarantees: a push never waits for a webhook (it only wakes the delivery task); one
//! failing or hanging hook holds back no other; private notes, and anything about them, are
//! never sent; a hook is told only of its own project's events.

pub mod address;
pub mod deliver;
pub mod message;

use liner_record::notice;
use std::time::Duration;

/// What a webhook is refused with when added, in words a user can act on.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HookError {
    #[error("the URL {0:?} does not parse: {1}")]
    BadUrl(String, String),
    #[error("the URL must start with https:// (or http://), not {0}://")]
    Scheme(String),
    #[error("the URL names no host")]
    NoHost,
    #[error(
        "the URL carries a user name or password; webhooks are authenticated by their \
         signature (X-Liner-Signature-256): put any key the receiver needs in its path"
    )]
    Credentials,
    #[error("unknown event kind {0:?}: use `all` or any of {kinds}", kinds = notice::KINDS.join(", "))]
    UnknownKind(String),
    #[error("no event kinds named: use `all` or any of {kinds}", kinds = notice::KINDS.join(", "))]
    NoKinds,
}

/// Checks a webhook's URL: http or https, a host, no credentials. Returns it as it will be
/// stored.
///
/// # Errors
/// Which rule it breaks ([`HookError`]).
pub fn check_url(url: &str) -> Result<reqwest::Url, HookError> {
    let parsed = reqwest::Url::parse(url.trim())
        .map_err(|e| HookError::BadUrl(url.to_owned(), e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(HookError::Scheme(parsed.scheme().to_owned()));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(HookError::NoHost);
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(HookError::Credentials);
    }
    Ok(parsed)
}

/// Reads `--events`: `all`, or kinds separated by commas ([`notice::KINDS`]); none given:
/// [`notice::DEFAULT_KINDS`]. Returns the list as stored (`all`, or the kinds joined by
/// commas, each once, in the order given).
///
/// # Errors
/// A kind is unknown ([`HookError::UnknownKind`]), or none is named ([`HookError::NoKinds`]).
pub fn parse_events(spec: Option<&str>) -> Result<String, HookError> {
    let Some(spec) = spec else {
        return Ok(notice::DEFAULT_KINDS.join(","));
    };
    let mut kinds: Vec<&str> = Vec::new();
    for kind in spec.split(',').map(str::trim).filter(|k| !k.is_empty()) {
        if kind == "all" {
            return Ok("all".into());
        }
        if !notice::is_kind(kind) {
            return Err(HookError::UnknownKind(kind.to_owned()));
        }
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    if kinds.is_empty() {
        return Err(HookError::NoKinds);
    }
    Ok(kinds.join(","))
}

/// How `liner serve` delivers webhooks.
#[derive(Debug, Clone)]
pub struct Config {
    /// Deliver to loopback, private and link-local addresses too (see [`address`]).
    pub allow_private: bool,
    /// The first retry's wait; each next one doubles, up to `retry_cap`.
    pub retry_base: Duration,
    pub retry_cap: Duration,
    /// Attempts at one event before the hook gives up on it and goes on.
    pub attempts: u32,
    /// How long one attempt may take, connecting to the last byte of the answer's head.
    pub timeout: Duration,
    /// The review page's address as people reach it (`--public-url`), for links.
    pub public_url: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            allow_private: false,
            retry_base: Duration::from_secs(10),
            retry_cap: Duration::from_secs(3600),
            attempts: 8,
            timeout: Duration::from_secs(10),
            public_url: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_must_be_http_with_a_host_and_no_credentials() {
        assert!(check_url("https://hooks.slack.com/services/T/B/x").is_ok());
        assert!(check_url("http://10.0.0.5:8065/hooks/abc").is_ok());
        assert_eq!(
            check_url("ftp://example.com/x").unwrap_err(),
            HookError::Scheme("ftp".into())
        );
        assert_eq!(
            check_url("file:///etc/passwd").unwrap_err(),
            HookError::Scheme("file".into())
        );
        assert_eq!(
            check_url("https://user:pw@example.com/").unwrap_err(),
            HookError::Credentials
        );
        assert!(matches!(
            check_url("example.com/hook"),
            Err(HookError::BadUrl(..))
        ));
    }

    #[test]
    fn events_are_all_or_known_kinds() {
        assert_eq!(parse_events(Some("all")).unwrap(), "all");
        assert_eq!(
            parse_events(Some("verdict, note_added,verdict")).unwrap(),
            "verdict,note_added"
        );
        assert_eq!(parse_events(Some("reply_added")).unwrap(), "reply_added");
        assert_eq!(
            parse_events(Some("verdicts")).unwrap_err(),
            HookError::UnknownKind("verdicts".into())
        );
        assert_eq!(parse_events(Some(" , ")).unwrap_err(), HookError::NoKinds);
        assert!(parse_events(None).unwrap().contains("verdict"));
    }
}
