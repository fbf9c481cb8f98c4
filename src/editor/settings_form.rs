//! The settings form: who is working on what, and which record server to sync with.
//!
//! The token is never kept in the DAW project: it goes to the user's config folder, filed
//! under the server's exact origin, and only ever goes to that origin. Once the server has
//! said who the token speaks for, the name and role come from it, not from what was typed.
//! Saving writes files and "test connection" talks to the network, so both run as chores.

use super::chores::Chore;
use crate::settings::{
    config_dir, looks_like_token, origin, store_token_in, token_for, Settings, TOKEN_PREFIX,
};
use crate::worker::Repaint;
use liner_record::names::checked_name;
use liner_record::outbox::Identity;
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

#[derive(Debug, Clone, PartialEq)]
pub struct SettingsForm {
    pub project: String,
    pub song: String,
    pub author: String,
    pub role: Role,
    pub server_url: String,
    /// A newly pasted token; empty keeps the one already stored for the server.
    pub token: String,
}

/// One problem with the form, for the field it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub field: &'static str,
    pub message: String,
}

/// The record's one rule for names ([`checked_name`]), said for this field.
fn name_problem(field: &'static str, label: &str, value: &str) -> Option<Problem> {
    let e = checked_name(value).err()?;
    Some(Problem {
        field,
        message: format!("{label} {e}"),
    })
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
        if !token.is_empty() && !looks_like_token(token) {
            out.push(Problem {
                field: "token",
                message: format!(
                    "That is not a Liner Notes token: tokens start with {TOKEN_PREFIX} and have \
                     no spaces. Paste the whole token your executive producer sent."
                ),
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
    /// With `me` (who the server says the token speaks for), the name and role are the
    /// token's. A token belongs to one server: it is looked up by the address's origin, so a
    /// new address never reuses another server's token.
    pub fn to_settings(&self, current: &Settings, me: Option<&Identity>) -> Settings {
        let url = liner_record::settings::server_address(&self.server_url).to_owned();
        let same_server = origin(&url).is_some() && origin(&url) == origin(&current.server_url);
        let (author, role) = match me {
            Some(me) if same_server && self.token.trim().is_empty() => (me.person.clone(), me.role),
            _ => (self.author.trim().to_owned(), self.role),
        };
        Settings {
            project: self.project.trim().to_owned(),
            song: self.song.trim().to_owned(),
            author,
            role,
            server_url: url,
            track: current.track.clone(),
        }
    }

    /// Stores a newly pasted token (for the server's origin) and remembers the settings for
    /// new instances; off the GUI thread. The result says what could not be written.
    pub fn save_files(&self, settings: Settings, repaint: Repaint) -> Chore<Result<(), String>> {
        let token = self.token.trim().to_owned();
        Chore::spawn("save-settings", repaint, move || {
            if !token.is_empty() {
                let dir = config_dir().ok_or("no config folder on this computer")?;
                store_token_in(&dir, &settings.server_url, &token)
                    .map_err(|e| format!("the token could not be stored in {dir:?}: {e}"))?;
            }
            settings
                .remember()
                .map_err(|e| format!("the settings could not be remembered: {e}"))
        })
    }

    /// Checks the server and the token (the pasted one, else the one stored for the
    /// server's origin) and says who it speaks for; off the GUI thread.
    pub fn test_connection(
        &self,
        current: &Settings,
        repaint: Repaint,
    ) -> Chore<Result<String, String>> {
        let settings = self.to_settings(current, None);
        let pasted = self.token.trim().to_owned();
        Chore::spawn("test-connection", repaint, move || {
            if settings.server_url.is_empty() {
                return Err("No server address: notes stay on this computer".into());
            }
            let token = if pasted.is_empty() {
                token_for(&settings.server_url).ok_or_else(|| {
                    format!(
                        "No token stored for {}: paste the token your executive producer sent",
                        origin(&settings.server_url).unwrap_or_default()
                    )
                })?
            } else {
                pasted
            };
            let client = SyncClient::new(&settings.server_url, &token, Duration::from_secs(5))
                .map_err(|e| e.to_string())?;
            let me = client.me().map_err(|e| e.to_string())?;
            if me.project != settings.project {
                return Err(format!(
                    "The token works, but it is for the project {:?}, not {:?}: set the \
                     project to {:?} to sync with it",
                    me.project, settings.project, me.project
                ));
            }
            Ok(format!(
                "Connected to {} as {} ({}) in {:?}",
                settings.server_url, me.person, me.role, me.project
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
        })
    }

    #[test]
    fn a_valid_form_has_no_problems_and_keeps_the_track() {
        let mut f = form();
        f.server_url = "http://studio-pc:7878/".into();
        f.token = format!("{TOKEN_PREFIX}{}", "ab".repeat(32));
        assert_eq!(f.problems(), vec![]);
        let s = f.to_settings(
            &Settings {
                track: "Lead vox".into(),
                ..Settings::default()
            },
            None,
        );
        assert_eq!(s.track, "Lead vox");
        assert_eq!(s.server_url, "http://studio-pc:7878");
    }

    #[test]
    fn the_name_and_role_are_the_tokens_once_the_server_said_so() {
        let current = Settings {
            server_url: "http://studio-pc:7878".into(),
            author: "typed".into(),
            ..Settings::default()
        };
        let me = Identity {
            person: "Sam".into(),
            role: Role::Engineer,
            project: "Album".into(),
        };
        let mut f = SettingsForm::from_settings(&current);
        f.author = "someone else".into();
        let s = f.to_settings(&current, Some(&me));
        assert_eq!((s.author.as_str(), s.role), ("Sam", Role::Engineer));
        // Another server (or a new token): the server has not said yet.
        f.server_url = "http://other:7878".into();
        assert_eq!(f.to_settings(&current, Some(&me)).author, "someone else");
    }
}
