//! Each person's digest by mail, where the studio names an SMTP relay (`liner serve
//! --smtp-url smtp://[user:pass@]host:port --mail-from "Liner Notes <notes@studio>"`), and
//! each person asks for it (`liner mail set --project P --person NAME --to ADDR --every
//! daily|session|off`).
//!
//! - [`message`]: the digest as a mail (plain text and simple HTML), in the words of
//!   [`liner_record::digest`], the same as the page and the feed.
//! - [`send`]: the task of `liner serve` that sends it: `daily` once a day at the mail hour
//!   (UTC), `session` once the project has been quiet a while after news (the end of a
//!   listening session); only when there is news since the person's last mail.
//!
//! Guarantees: a push never waits for mail (the task runs beside the server and only reads);
//! a failed send is logged with words and tried again next round; mail goes through lettre
//! over rustls: `smtps://` is TLS from the first byte, `smtp://` upgrades with STARTTLS
//! whenever the relay offers it. Several servers on one database send each mail once (the
//! mark of the last mail moves by compare-and-set before sending).

pub mod message;
pub mod send;

use lettre::message::Mailbox;
use std::time::Duration;

/// What a mail setting or relay is refused with, in words a user can act on.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MailError {
    #[error("{0:?} is no mail address (say name@example.com, or \"Name <name@example.com>\")")]
    Mailbox(String),
    #[error("the SMTP URL does not parse: {0}")]
    BadUrl(String),
    #[error("the SMTP URL must start with smtp:// or smtps://, not {0}://")]
    Scheme(String),
    #[error("the SMTP URL names no host")]
    NoHost,
}

/// A mail address as lettre takes it (`name@host` or `Name <name@host>`).
///
/// # Errors
/// It is none ([`MailError::Mailbox`]).
pub fn mailbox(text: &str) -> Result<Mailbox, MailError> {
    text.trim()
        .parse::<Mailbox>()
        .map_err(|_| MailError::Mailbox(text.to_owned()))
}

/// The studio's SMTP relay, as `--smtp-url` names it.
#[derive(Clone)]
pub struct Relay {
    pub host: String,
    pub port: u16,
    /// TLS from the first byte (`smtps://`), else STARTTLS when offered.
    pub implicit_tls: bool,
    /// User name and password, percent-decoded.
    pub credentials: Option<(String, String)>,
}

impl std::fmt::Debug for Relay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.described())
    }
}

impl Relay {
    /// Reads `smtp://[user:pass@]host[:port]` (port 25 by default; STARTTLS when offered)
    /// or `smtps://...` (port 465 by default; TLS throughout).
    ///
    /// # Errors
    /// Which rule it breaks ([`MailError`]).
    pub fn parse(url: &str) -> Result<Relay, MailError> {
        let parsed = url::Url::parse(url.trim()).map_err(|e| MailError::BadUrl(e.to_string()))?;
        let implicit_tls = match parsed.scheme() {
            "smtp" => false,
            "smtps" => true,
            other => return Err(MailError::Scheme(other.to_owned())),
        };
        let host = parsed
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or(MailError::NoHost)?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let decode = |s: &str| {
            url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        };
        let credentials = (!parsed.username().is_empty()).then(|| {
            (
                decode(parsed.username()),
                decode(parsed.password().unwrap_or("")),
            )
        });
        Ok(Relay {
            port: parsed.port().unwrap_or(if implicit_tls { 465 } else { 25 }),
            host,
            implicit_tls,
            credentials,
        })
    }

    /// `smtp://host:port` (never the password), for logs.
    pub fn described(&self) -> String {
        let scheme = if self.implicit_tls { "smtps" } else { "smtp" };
        format!("{scheme}://{}:{}", self.host, self.port)
    }
}

/// How `liner serve` mails digests.
#[derive(Debug, Clone)]
pub struct Config {
    pub relay: Relay,
    /// Who the mail comes from (`--mail-from`).
    pub from: Mailbox,
    /// The hour (UTC, 0-23) daily digests go out.
    pub daily_hour: u32,
    /// How long a project must be quiet after news before `session` digests go.
    pub quiet: Duration,
    /// How often the task looks (it is also woken by every push).
    pub round: Duration,
    /// How long one send may take.
    pub timeout: Duration,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relays_are_smtp_or_smtps_with_a_host() {
        let r = Relay::parse("smtp://notes%40studio:p%2Fss@mail.studio:2525").unwrap();
        assert_eq!(
            (r.host.as_str(), r.port, r.implicit_tls),
            ("mail.studio", 2525, false)
        );
        assert_eq!(r.credentials, Some(("notes@studio".into(), "p/ss".into())));
        assert_eq!(r.described(), "smtp://mail.studio:2525");
        let r = Relay::parse("smtps://mail.studio").unwrap();
        assert_eq!((r.port, r.implicit_tls, r.credentials), (465, true, None));
        assert_eq!(Relay::parse("smtp://127.0.0.1").unwrap().port, 25);
        assert_eq!(
            Relay::parse("http://mail.studio").unwrap_err(),
            MailError::Scheme("http".into())
        );
        assert!(matches!(
            Relay::parse("mail.studio:25"),
            Err(MailError::Scheme(_) | MailError::BadUrl(_))
        ));
    }

    #[test]
    fn mailboxes_are_addresses() {
        assert_eq!(
            mailbox(" sam@studio.example ").unwrap().email.to_string(),
            "sam@studio.example"
        );
        assert_eq!(
            mailbox("Liner Notes <notes@studio.example>")
                .unwrap()
                .name
                .as_deref(),
            Some("Liner Notes")
        );
        assert!(mailbox("sam").is_err());
        assert!(mailbox("sam@studio.example\r\nBcc: x@y.z").is_err());
    }
}
