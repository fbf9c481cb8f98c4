//! Who is working, on what: an instance's settings, saved in the DAW project, with the last
//! ones used on this machine as the default for new instances.
//!
//! The server token itself is never here (a shared project file must not leak it or choose
//! it): the token lives in the user's config folder (`tokens.json`), filed under the exact
//! origin (scheme, host and port) of the server it was issued by, and is looked up by the
//! origin a request is about to go to. A project naming a server this computer holds no
//! token for sends nothing. Shared by the plugin (which reads both files) and the server's
//! first run (which sets up the plugin on the same computer).

use crate::Role;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Environment variable that moves the config folder (tests, portable setups).
pub const CONFIG_DIR_ENV: &str = "LINER_NOTES_CONFIG_DIR";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub project: String,
    pub song: String,
    /// Empty until the host reports the track name or someone types it.
    pub track: String,
    pub author: String,
    pub role: Role,
    /// The record server, e.g. `http://127.0.0.1:7878`; empty when working offline. Its
    /// token is the one stored for its origin (never named here).
    pub server_url: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            project: "Untitled project".into(),
            song: "Untitled song".into(),
            track: String::new(),
            author: std::env::var("USER")
                .or_else(|_| std::env::var("USERNAME"))
                .unwrap_or_else(|_| "Producer".into()),
            role: Role::Producer,
            server_url: String::new(),
        }
    }
}

/// `$LINER_NOTES_CONFIG_DIR`, else the platform's config folder + `liner-notes`.
pub fn config_dir() -> Option<PathBuf> {
    std::env::var_os(CONFIG_DIR_ENV)
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| dirs::config_dir().map(|d| d.join("liner-notes")))
}

const LAST_USED_FILE: &str = "last-settings.json";
const TOKENS_FILE: &str = "tokens.json";

/// How every token secret begins (the server makes them; the editor and `liner` check that a
/// pasted token is one).
pub const TOKEN_PREFIX: &str = "ln_";

/// Whether `text` can be a token secret: [`TOKEN_PREFIX`], at least 20 characters, no white
/// space. (Only the server knows whether it is a valid one.)
pub fn looks_like_token(text: &str) -> bool {
    text.starts_with(TOKEN_PREFIX) && text.len() >= 20 && !text.contains(char::is_whitespace)
}

/// A server address as the record keeps it (journal sync targets, the client's base, the
/// settings): trimmed, without trailing slashes; any path stays (a server may sit behind a
/// proxy under one). Tokens go by the address's [`origin`] instead.
pub fn server_address(url: &str) -> &str {
    url.trim().trim_end_matches('/')
}

/// The origin of a server address, `scheme://host[:port]` (the port only when it is not the
/// scheme's default), for http and https addresses; None for anything else.
pub fn origin(url: &str) -> Option<String> {
    let u = url::Url::parse(url.trim()).ok()?;
    if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none_or(str::is_empty) {
        return None;
    }
    Some(u.origin().ascii_serialization())
}

/// The secret of the token stored for the server at `url` (by its exact origin). Tokens live
/// in the user's config folder, never in the DAW project.
pub fn token_for(url: &str) -> Option<String> {
    token_in(&config_dir()?, url)
}

/// [`token_for`] in a given config folder.
pub fn token_in(dir: &Path, url: &str) -> Option<String> {
    let origin = origin(url)?;
    let data = std::fs::read(dir.join(TOKENS_FILE)).ok()?;
    let map: std::collections::BTreeMap<String, String> = serde_json::from_slice(&data).ok()?;
    map.get(&origin).cloned()
}

/// Stores a token secret for the server at `url` (under its origin; atomically, and on Unix
/// readable by its owner only from the first byte). Writers in several threads or processes
/// take turns (an exclusive lock on `tokens.json.lock`), so none loses another's token.
/// Entries of older versions, filed under other names, stay in the file and are never used.
///
/// # Errors
/// The tokens file cannot be read, locked or written.
pub fn store_token_in(dir: &Path, url: &str, secret: &str) -> std::io::Result<()> {
    let origin = origin(url).ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{url:?} is not an http(s) server address"),
        )
    })?;
    crate::journal::create_private_dir(dir)?;
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join(format!("{TOKENS_FILE}.lock")))?;
    lock.lock()?;
    let path = dir.join(TOKENS_FILE);
    let mut map: std::collections::BTreeMap<String, String> = std::fs::read(&path)
        .ok()
        .and_then(|d| serde_json::from_slice(&d).ok())
        .unwrap_or_default();
    map.insert(origin, secret.to_owned());
    let tmp = dir.join(format!(
        "{TOKENS_FILE}.{}.tmp",
        crate::journal::unique_suffix()
    ));
    let written = (|| {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&tmp)?;
        std::io::Write::write_all(&mut file, &serde_json::to_vec_pretty(&map)?)?;
        file.sync_all()?;
        std::fs::rename(&tmp, &path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

impl Settings {
    /// The settings last used on this machine, else the defaults. Never fails: an unreadable
    /// file means defaults.
    pub fn last_used() -> Settings {
        config_dir().map_or_else(Settings::default, |d| Settings::last_used_in(&d))
    }

    /// [`Settings::last_used`] from a given config folder.
    pub fn last_used_in(dir: &Path) -> Settings {
        std::fs::read(dir.join(LAST_USED_FILE))
            .ok()
            .and_then(|data| serde_json::from_slice(&data).ok())
            .unwrap_or_default()
    }

    /// Remembers these settings as the default for new instances.
    ///
    /// # Errors
    /// No config folder, or the settings file cannot be written.
    pub fn remember(&self) -> std::io::Result<()> {
        match config_dir() {
            Some(d) => self.remember_in(&d),
            None => Ok(()),
        }
    }

    /// [`Settings::remember`] in a given config folder, written atomically (a temporary file
    /// renamed over the old one), so a crash never leaves half a file.
    ///
    /// # Errors
    /// The settings file cannot be written.
    pub fn remember_in(&self, dir: &Path) -> std::io::Result<()> {
        crate::journal::create_private_dir(dir)?;
        let tmp = dir.join(format!(
            "{LAST_USED_FILE}.{}.tmp",
            crate::journal::unique_suffix()
        ));
        let written = (|| {
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            std::io::Write::write_all(&mut options.open(&tmp)?, &serde_json::to_vec_pretty(self)?)?;
            std::fs::rename(&tmp, dir.join(LAST_USED_FILE))
        })();
        if written.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        written
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_instances_default_to_the_last_settings_used_here() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Settings::last_used_in(dir.path()), Settings::default());
        let mine = Settings {
            project: "Album".into(),
            song: "Opener".into(),
            author: "Kim".into(),
            role: Role::Engineer,
            server_url: "http://127.0.0.1:7878".into(),
            ..Settings::default()
        };
        mine.remember_in(dir.path()).unwrap();
        assert_eq!(Settings::last_used_in(dir.path()), mine);
    }

    #[test]
    fn an_unreadable_settings_file_means_defaults() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(LAST_USED_FILE), b"{broken").unwrap();
        assert_eq!(Settings::last_used_in(dir.path()), Settings::default());
    }

    #[test]
    fn tokens_are_found_by_exact_origin_only() {
        let dir = tempfile::tempdir().unwrap();
        let studio = "http://studio-pc:7878";
        assert_eq!(token_in(dir.path(), studio), None);
        store_token_in(dir.path(), "http://studio-pc:7878/", "ln_secret").unwrap();
        store_token_in(dir.path(), "https://home.example", "ln_other").unwrap();
        assert_eq!(token_in(dir.path(), studio).as_deref(), Some("ln_secret"));
        assert_eq!(
            token_in(dir.path(), "https://home.example:443/liner").as_deref(),
            Some("ln_other")
        );
        for elsewhere in [
            "https://studio-pc:7878",
            "http://studio-pc:7879",
            "http://studio-pc.evil.example:7878",
            "http://home.example",
            "ftp://studio-pc:7878",
            "studio-pc:7878",
        ] {
            assert_eq!(token_in(dir.path(), elsewhere), None, "{elsewhere}");
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(TOKENS_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn tokens_filed_under_names_by_older_versions_are_never_used() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(TOKENS_FILE),
            r#"{"local":"ln_old","studio-pc:7878":"ln_older"}"#,
        )
        .unwrap();
        assert_eq!(token_in(dir.path(), "http://studio-pc:7878"), None);
        assert_eq!(token_in(dir.path(), "http://local"), None);
    }

    #[test]
    fn settings_never_hold_a_token() {
        let json = serde_json::to_string(&Settings::default()).unwrap();
        assert!(!json.contains("\"token\""), "{json}");
    }
}
