//! The settings form: who is working on what, and which record server to sync with.
//!
//! The token is never kept in the DAW project: it goes to the user's config folder under a
//! name (`token_ref`) that the project keeps, so sharing a project file never leaks it.
//! Saving writes files and "test connection" talks to the network, so both run as chores.

use super::chores::Chore;
use crate::settings::{config_dir, store_token_in, token_for, Settings};
use crate::worker::Repaint;
use liner_record::sync::SyncClient;
use liner_record::Role;
use std::time::Duration;

/// The roles a person can pick for themselves, in menu order.
pub const ROLES: [Role; 5] = [
    Role::Producer,
    Role::Engineer,
    Role::Artist,
    Role::Executive,
    Role::Viewer,
];

/// Longest accepted name (project, song, author, track).
pub const MAX_NAME: usize = 120;

#[derive(Debug, Clone, PartialEq)]
pub struct SettingsForm {
    pub project: String,
    pub song: String,
    pub author: String,
    pub role: Role,
    pub server_url: String,
    /// A newly pasted token; empty keeps the one already stored.
    pub token: String,
    token_ref: String,
}

/// One problem with the form, for the field it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub field: &'static str,
    pub message: String,
}

fn name_problem(field: &'static str, label: &str, value: &str) -> Option<Problem> {
    let v = value.trim();
    let message = if v.is_empty() {
        format!("{label} cannot be empty")
    } else if v.chars().count() > MAX_NAME {
        format!("{label} is too long (at most {MAX_NAME} characters)")
    } else if v.chars().any(char::is_control) {
        format!("{label} cannot contain line breaks or control characters")
    } else {
        return None;
    };
    Some(Problem { field, message })
}

/// The name a server's token is stored under: the server's host and port.
fn token_ref_for(url: &str) -> String {
    url::Url::parse(url.trim())
        .ok()
        .and_then(|u| {
            u.host_str()
                .map(|h| format!("{h}:{}", u.port_or_known_default().unwrap_or(0)))
        })
        .unwrap_or_default()
}

impl SettingsForm {
    pub fn from_settings(s: &Settings) -> Self {
        SettingsForm {
            project: s.project.clone(),
            song: s.song.clone(),
            author: s.author.clone(),
            role: s.role,
            server_url: s.server_url.clone(),
            token: String::new(),
            token_ref: s.token_ref.clone(),
        }
    }

    /// Everything wrong with the form, in field order; empty when it can be saved.
    pub fn problems(&self) -> Vec<Problem> {
        let mut out: Vec<Problem> = [
            name_problem("project", "The project name", &self.project),
            name_problem("song", "The song name", &self.song),
            name_problem("author", "Your name", &self.author),
        ]
        .into_iter()
        .flatten()
        .collect();
        let url = self.server_url.trim();
        if !url.is_empty() {
            match url::Url::parse(url) {
                Ok(u) if !matches!(u.scheme(), "http" | "https") => out.push(Problem {
                    field: "server_url",
                    message: "The server address must start with http:// or https://".into(),
                }),
                Ok(u) if u.host_str().is_none_or(str::is_empty) => out.push(Problem {
                    field: "server_url",
                    message: "The server address needs a host, e.g. http://studio-pc:7878".into(),
                }),
                Ok(_) => {}
                Err(e) => out.push(Problem {
                    field: "server_url",
                    message: format!(
                        "The server address is not a web address ({e}); \
                         e.g. http://studio-pc:7878"
                    ),
                }),
            }
        }
        let token = self.token.trim();
        if !token.is_empty()
            && (!token.starts_with("ln_")
                || token.len() < 20
                || token.contains(char::is_whitespace))
        {
            out.push(Problem {
                field: "token",
                message: "That is not a Liner Notes token: tokens start with ln_ and have no \
                          spaces. Paste the whole token your executive producer sent."
                    .into(),
            });
        }
        if !token.is_empty() && url.is_empty() {
            out.push(Problem {
                field: "server_url",
                message: "A token needs the server address it belongs to".into(),
            });
        }
        out
    }

    /// The settings this form describes, on top of `current` (the track stays as it is).
    pub fn to_settings(&self, current: &Settings) -> Settings {
        let url = self.server_url.trim().trim_end_matches('/').to_owned();
        // A token belongs to one server: a new address never reuses another server's token.
        let token_ref = if url.is_empty() {
            current.token_ref.clone()
        } else if self.token_ref.is_empty()
            || !self.token.trim().is_empty()
            || token_ref_for(&url) != token_ref_for(&current.server_url)
        {
            token_ref_for(&url)
        } else {
            self.token_ref.clone()
        };
        Settings {
            project: self.project.trim().to_owned(),
            song: self.song.trim().to_owned(),
            author: self.author.trim().to_owned(),
            role: self.role,
            server_url: url,
            token_ref,
            track: current.track.clone(),
        }
    }

    /// Stores a newly pasted token and remembers the settings for new instances; off the GUI
    /// thread. The result says what could not be written.
    pub fn save_files(&self, settings: Settings, repaint: Repaint) -> Chore<Result<(), String>> {
        let token = self.token.trim().to_owned();
        Chore::spawn("save-settings", repaint, move || {
            if !token.is_empty() {
                let dir = config_dir().ok_or("no config folder on this computer")?;
                store_token_in(&dir, &settings.token_ref, &token)
                    .map_err(|e| format!("the token could not be stored in {dir:?}: {e}"))?;
            }
            settings
                .remember()
                .map_err(|e| format!("the settings could not be remembered: {e}"))
        })
    }

    /// Checks the server and the token (the pasted one, else the stored one); off the GUI
    /// thread.
    pub fn test_connection(
        &self,
        current: &Settings,
        repaint: Repaint,
    ) -> Chore<Result<String, String>> {
        let settings = self.to_settings(current);
        let pasted = self.token.trim().to_owned();
        Chore::spawn("test-connection", repaint, move || {
            if settings.server_url.is_empty() {
                return Err("No server address: notes stay on this computer".into());
            }
            let token = if pasted.is_empty() {
                token_for(&settings.token_ref).ok_or_else(|| {
                    "No token stored for this server: paste the token your executive \
                     producer sent"
                        .to_owned()
                })?
            } else {
                pasted
            };
            let client = SyncClient::new(&settings.server_url, &token, Duration::from_secs(5))
                .map_err(|e| e.to_string())?;
            client.probe().map_err(|e| e.to_string())?;
            Ok(format!(
                "Connected to {}: the token works",
                settings.server_url
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> SettingsForm {
        SettingsForm::from_settings(&Settings {
            project: "Album".into(),
            song: "Song".into(),
            track: "Vox".into(),
            author: "Sam".into(),
            role: Role::Producer,
            server_url: String::new(),
            token_ref: String::new(),
        })
    }

    #[test]
    fn a_valid_form_has_no_problems_and_keeps_the_track() {
        let mut f = form();
        f.server_url = "http://studio-pc:7878/".into();
        f.token = format!("ln_{}", "ab".repeat(32));
        assert_eq!(f.problems(), vec![]);
        let s = f.to_settings(&Settings {
            track: "Lead vox".into(),
            ..Settings::default()
        });
        assert_eq!(s.track, "Lead vox");
        assert_eq!(s.server_url, "http://studio-pc:7878");
        assert_eq!(s.token_ref, "studio-pc:7878");
    }

    #[test]
    fn a_new_server_address_never_reuses_the_old_servers_token() {
        let current = Settings {
            server_url: "http://old-box:7878".into(),
            token_ref: "local".into(),
            ..Settings::default()
        };
        let mut f = SettingsForm::from_settings(&current);
        assert_eq!(
            f.to_settings(&current).token_ref,
            "local",
            "same server: same token"
        );
        f.server_url = "http://new-box:7878".into();
        assert_eq!(f.to_settings(&current).token_ref, "new-box:7878");
    }
}
