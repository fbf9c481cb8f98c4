//! Threads and the way back from *changes requested*, on every item of the page.
//!
//! - A thread: the replies under a note, decision, take, mark or version, oldest first, and
//!   a field to answer (`POST /reply`); one's own replies can be edited or deleted
//!   (`POST /reply/edit`, `/reply/delete`).
//! - *Done*: under an item whose latest verdict is changes requested, anyone who may say it
//!   (the record's rule, `liner_record::rules::may_mark_done`) answers that verdict, naming
//!   the version that carries the change if there is one (`POST /done`). The item is then
//!   back in the executive's queue as a re-check, with a link to that version at the item's
//!   place.
//!
//! Each is one event judged by the record's rules, like everything the page records.

use super::auth::{self, Signed};
use super::decide::{refused, store_decision, where_of};
use super::layout::typed;
use crate::state::{AppState, ProjectRecord};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use liner_record::event::{Body, MarkedDone, ReplyAdded};
use liner_record::export::{date_time, Entry};
use liner_record::names::percent_encoded;
use liner_record::review::Standing;
use liner_record::views::VerdictView;
use liner_record::{rules, DawPos, Views};
use maud::{html, Markup};
use serde::Deserialize;
use std::sync::Arc;
use uuid::Uuid;

/// The replies to `target` and, for those who may write, the field to answer.
pub fn thread(signed: &Signed, views: &Views, target: Uuid, back: &str) -> Markup {
    let replies = views.replies.get(&target).map_or(&[][..], Vec::as_slice);
    let writes = rules::may_record(signed.token.role, &reply_body(target, ""));
    html! {
        @if !replies.is_empty() {
            ul.thread aria-label="Replies" {
                @for r in replies {
                    li data-reply=(r.id) {
                        span.by { (typed(&r.author)) } " (" (r.role) ") "
                        span.when { (date_time(r.at)) @if r.edited_at.is_some() { ", edited" } }
                        ": " (typed(&r.text))
                        @if r.author == signed.token.person && writes {
                            (own_reply(signed, r.id, &r.text, back))
                        }
                    }
                }
            }
        }
        @if writes {
            // Folded until wanted: a queue of forty items is not forty reply fields.
            @let id = format!("reply-{target}");
            details.answer id={ "answer-" (target) } {
                summary { "Reply" }
                form.reply method="post" action="/reply" {
                    input type="hidden" name="csrf" value=(signed.csrf);
                    input type="hidden" name="target" value=(target);
                    input type="hidden" name="back" value=(back);
                    label.sr for=(id) { "Reply" }
                    input id=(id) type="text" name="text" maxlength="10000" required
                        placeholder="Your reply" autocomplete="off";
                    button type="submit" { "Send" }
                }
            }
        }
    }
}

/// Edit and delete, for one's own reply.
fn own_reply(signed: &Signed, reply: Uuid, text: &str, back: &str) -> Markup {
    let id = format!("edit-{reply}");
    html! {
        details id={ "editing-" (reply) } {
            summary { "Edit" }
            form.reply method="post" action="/reply/edit" {
                input type="hidden" name="csrf" value=(signed.csrf);
                input type="hidden" name="reply" value=(reply);
                input type="hidden" name="back" value=(back);
                label.sr for=(id) { "Your reply" }
                input id=(id) type="text" name="text" maxlength="10000" required value=(text);
                button type="submit" { "Save" }
            }
            form.reply method="post" action="/reply/delete" {
                input type="hidden" name="csrf" value=(signed.csrf);
                input type="hidden" name="reply" value=(reply);
                input type="hidden" name="back" value=(back);
                button.reject type="submit" { "Delete" }
            }
        }
    }
}

/// What the done says on an item back for a re-check: who, when, in which version, and a
/// link to that version at the item's place.
pub fn done_words(views: &Views, e: &Entry) -> Markup {
    let Some(d) = e.verdict.as_ref().and_then(|v| v.done.as_ref()) else {
        return html! {};
    };
    let version = d
        .version
        .and_then(|id| views.versions.iter().find(|v| v.id == id));
    html! {
        p.done {
            "Done by " strong { (typed(&d.author)) } " (" (d.role) "), " (date_time(d.at))
            @if let Some(v) = version { " in " (typed(&v.label)) }
            @if !d.comment.is_empty() { ": " (typed(&d.comment)) }
            @if let Some(v) = version {
                " · " a href=(listen_link(v, e)) { "Listen to " (typed(&v.label)) " here" }
            }
        }
    }
}

/// The version's player, starting at the entry's place in it when it falls inside.
fn listen_link(v: &liner_record::views::VersionView, e: &Entry) -> String {
    let t = e.start.as_ref().and_then(|s| {
        v.printed.offset_of(&DawPos {
            seconds: Some(s.seconds),
            ..DawPos::default()
        })
    });
    let mut href = format!("/song?name={}&v={}", percent_encoded(&v.song), v.id);
    if let Some(t) = t {
        href.push_str(&format!("&t={t:.3}"));
    }
    href + "#versions-h"
}

/// The done form, under an item whose changes were requested, for those who may say it.
pub fn done_form(signed: &Signed, views: &Views, e: &Entry, back: &str) -> Markup {
    if !e.standing().is_some_and(Standing::may_be_done) || !rules::may_mark_done(signed.token.role)
    {
        return html! {};
    }
    let (comment_id, version_id) = (format!("done-{}", e.id), format!("done-v-{}", e.id));
    let mut versions: Vec<_> = views.versions_of(&e.song).collect();
    versions.sort_by_key(|v| std::cmp::Reverse((v.at, v.id)));
    html! {
        form.done method="post" action="/done" {
            input type="hidden" name="csrf" value=(signed.csrf);
            input type="hidden" name="target" value=(e.id);
            input type="hidden" name="back" value=(back);
            label.sr for=(comment_id) { "What you changed" }
            input id=(comment_id) type="text" name="comment" maxlength="10000"
                placeholder="What you changed (optional)" autocomplete="off";
            @if !versions.is_empty() {
                label for=(version_id) { "In" }
                select id=(version_id) name="version" {
                    @for v in &versions { option value=(v.id) { (v.label.as_str()) } }
                    option value="" { "no version" }
                }
            }
            button type="submit" { "⟳ Done, please re-check" }
        }
    }
}

fn reply_body(target: Uuid, text: &str) -> Body {
    Body::ReplyAdded(ReplyAdded {
        target,
        text: text.to_owned(),
    })
}

/// Signed in with a valid CSRF secret, and allowed by the record's rules to record `body`.
async fn may(
    state: &Arc<AppState>,
    headers: &HeaderMap,
    csrf: &str,
    body: &Body,
) -> Result<Signed, Response> {
    let signed = auth::require(state, headers)
        .await
        .map_err(IntoResponse::into_response)?;
    auth::check_csrf(&signed, csrf, headers).map_err(IntoResponse::into_response)?;
    if !rules::may_record(signed.token.role, body) {
        let why = match signed.token.role {
            liner_record::Role::Viewer => "A viewer's token reads the record but writes nothing.",
            _ => {
                "The executive answers a done with the next verdict; done is said by the one \
                 who made the change."
            }
        };
        return Err(refused(headers, StatusCode::FORBIDDEN, why));
    }
    Ok(signed)
}

/// [`may`], and the project's record.
async fn may_with_record(
    state: &Arc<AppState>,
    headers: &HeaderMap,
    csrf: &str,
    body: &Body,
) -> Result<(Signed, Arc<ProjectRecord>), Response> {
    let signed = may(state, headers, csrf, body).await?;
    let record = auth::record_of(state, &signed)
        .await
        .map_err(IntoResponse::into_response)?;
    Ok((signed, record))
}

/// The refusal of a reply with no words.
fn blank(headers: &HeaderMap) -> Response {
    refused(
        headers,
        StatusCode::UNPROCESSABLE_ENTITY,
        "Write the reply first.",
    )
}

fn no_such(headers: &HeaderMap, what: &str) -> Response {
    refused(
        headers,
        StatusCode::NOT_FOUND,
        &format!("This project has no such {what}; reload the page."),
    )
}

#[derive(Deserialize)]
pub struct ReplyForm {
    #[serde(default)]
    csrf: String,
    target: Uuid,
    text: String,
    #[serde(default)]
    back: String,
}

pub async fn reply(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Form(f): Form<ReplyForm>,
) -> Response {
    let body = reply_body(f.target, &f.text);
    let (signed, record) = match may_with_record(&state, &headers, &f.csrf, &body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some((song, track)) = where_of(&record, f.target) else {
        return no_such(&headers, "item");
    };
    let text = f.text.trim();
    if text.is_empty() {
        return blank(&headers);
    }
    let body = reply_body(f.target, text);
    store_decision(&state, &headers, &signed, song, track, body, &f.back).await
}

#[derive(Deserialize)]
pub struct ChangeReplyForm {
    #[serde(default)]
    csrf: String,
    reply: Uuid,
    #[serde(default)]
    text: String,
    #[serde(default)]
    back: String,
}

/// `POST /reply/edit` and `/reply/delete`: only its author may (the record's rule refuses
/// anyone else's, with words).
async fn change_reply(
    state: Arc<AppState>,
    headers: HeaderMap,
    f: ChangeReplyForm,
    delete: bool,
) -> Response {
    let body = if delete {
        Body::ReplyDeleted { reply: f.reply }
    } else {
        Body::ReplyEdited {
            reply: f.reply,
            text: f.text.trim().to_owned(),
        }
    };
    let (signed, record) = match may_with_record(&state, &headers, &f.csrf, &body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    if !delete && f.text.trim().is_empty() {
        return blank(&headers);
    }
    let target = record
        .views
        .replies
        .values()
        .flatten()
        .find(|r| r.id == f.reply)
        .map(|r| r.target);
    let Some((song, track)) = target.and_then(|t| where_of(&record, t)) else {
        return no_such(&headers, "reply");
    };
    store_decision(&state, &headers, &signed, song, track, body, &f.back).await
}

pub async fn edit_reply(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Form(f): Form<ChangeReplyForm>,
) -> Response {
    change_reply(state, headers, f, false).await
}

pub async fn delete_reply(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Form(f): Form<ChangeReplyForm>,
) -> Response {
    change_reply(state, headers, f, true).await
}

#[derive(Deserialize)]
pub struct DoneForm {
    #[serde(default)]
    csrf: String,
    target: Uuid,
    /// The version that carries the change (empty: none).
    #[serde(default)]
    version: String,
    #[serde(default)]
    comment: String,
    #[serde(default)]
    back: String,
}

/// `POST /done`: answers the latest verdict on `target`, which must be changes requested.
pub async fn done(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Form(f): Form<DoneForm>,
) -> Response {
    let version = match f.version.trim() {
        "" => None,
        v => match v.parse::<Uuid>() {
            Ok(v) => Some(v),
            Err(_) => return no_such(&headers, "version"),
        },
    };
    let body = |answers: Uuid| {
        Body::MarkedDone(MarkedDone {
            target: f.target,
            answers,
            version,
            comment: f.comment.trim().to_owned(),
        })
    };
    let (signed, record) =
        match may_with_record(&state, &headers, &f.csrf, &body(Uuid::nil())).await {
            Ok(x) => x,
            Err(r) => return r,
        };
    let Some((song, track)) = where_of(&record, f.target) else {
        return no_such(&headers, "item");
    };
    let asked = record
        .views
        .verdicts
        .get(&f.target)
        .filter(|v| Standing::said(v).may_be_done());
    let Some(VerdictView { id: answers, .. }) = asked else {
        return refused(
            &headers,
            StatusCode::CONFLICT,
            "This is not waiting for changes (any more); reload the page.",
        );
    };
    let body = body(*answers);
    store_decision(&state, &headers, &signed, song, track, body, &f.back).await
}
