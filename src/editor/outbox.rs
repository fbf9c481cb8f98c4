//! The user's answers to what waits to be sent (the "Not sent" page): send it as me, fix a
//! refused note, drop. Each writes the project's journal, so each runs as a chore; the sync
//! thread is then asked for a round, which sends what became ready and lists what still waits.

use super::chores::Chore;
use crate::worker::Repaint;
use liner_record::event::Body;
use liner_record::outbox::{self, Identity};
use liner_record::{Event, Journal};
use uuid::Uuid;

/// One line about an event for the list: its text, or what it is.
pub fn summary(e: &Event) -> String {
    let text = match &e.body {
        Body::NoteAdded(n) => n.text.clone(),
        Body::NoteEdited(n) => format!("edit: {}", n.text.as_deref().unwrap_or("")),
        Body::EqDecision(d) | Body::FxDecision(d) => format!("{}: {}", d.processor, d.reason),
        Body::TakeRated { take, rating, .. } => format!("take {} {rating:?}", take.number),
        Body::Mark { number, label, .. } => {
            format!("mark {number} {}", label.as_deref().unwrap_or(""))
        }
        Body::TakeStarted { take } | Body::TakeEnded { take } => format!("take {}", take.number),
        _ => String::new(),
    };
    let mut short: String = text.chars().take(120).collect();
    if short.len() < text.len() {
        short.push('…');
    }
    short
}

fn journal(project: &str) -> Result<Journal, String> {
    Journal::open_project(project).map_err(|e| e.to_string())
}

/// Sends every event that waits for agreement as `me` ([`outbox::send_as`]) to the server at
/// `url`.
pub fn send_as(
    project: String,
    url: String,
    me: Identity,
    repaint: Repaint,
) -> Chore<Result<String, String>> {
    Chore::spawn("send-as", repaint, move || {
        let j = journal(&project)?;
        let unacked = j.unacked_by(&url).map_err(|e| e.to_string())?;
        let aside = j.aside().map_err(|e| e.to_string())?;
        let n = outbox::send_as(&j, &me, &outbox::outbox(unacked, &aside, &me))
            .map_err(|e| e.to_string())?;
        Ok(format!("{n} events will be sent as {}", me.person))
    })
}

/// Drops one waiting event for good.
pub fn drop_event(project: String, id: Uuid, repaint: Repaint) -> Chore<Result<String, String>> {
    Chore::spawn("drop", repaint, move || {
        outbox::drop_events(&journal(&project)?, &[id]).map_err(|e| e.to_string())?;
        Ok("Dropped".into())
    })
}

/// Replaces a refused note with a corrected copy.
pub fn fix_note(
    project: String,
    original: Event,
    text: String,
    repaint: Repaint,
) -> Chore<Result<String, String>> {
    Chore::spawn("fix", repaint, move || {
        match outbox::fix_note(&journal(&project)?, &original, &text) {
            Ok(Some(_)) => Ok("Fixed: the corrected note will be sent".into()),
            Ok(None) => Err("only notes can be fixed here; drop it instead".into()),
            Err(e) => Err(e.to_string()),
        }
    })
}
