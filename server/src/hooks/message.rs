//! What a webhook delivery sends: the JSON body, its signature and its delivery id.
//!
//! The body is `{"text": ..., "project": ..., "hook": ..., "delivery": ..., "event": ...}`:
//! `text` is what Slack and Mattermost incoming webhooks post as they are (the event in
//! words, [`liner_record::notice::words`], with a link to the review page when the server
//! knows its public address), the rest is for programs: `event` is the stored canonical event
//! as a JSON object, byte for byte as the record holds it.
//!
//! The signature is `sha256=` and the hex HMAC-SHA256 of the exact body bytes with the hook's
//! secret (as GitHub's `X-Hub-Signature-256`); a receiver computes the same over the bytes it
//! received and compares in constant time.

use hmac::{KeyInit, Mac};
use serde::Serialize;
use serde_json::value::RawValue;

/// The id of the delivery of event `event` to hook `hook`: the same for every attempt, on
/// every server, so a receiver that got it twice can tell (delivery is at least once).
pub fn delivery_id(hook: i64, event: &str) -> String {
    // A namespace of our own for these name-based ids.
    const NAMESPACE: uuid::Uuid = uuid::Uuid::from_u128(0x6c69_6e65_722d_686f_6f6b_2d64_656c_6976);
    uuid::Uuid::new_v5(&NAMESPACE, format!("{hook}:{event}").as_bytes()).to_string()
}

/// `sha256=<hex HMAC-SHA256 of body with secret>` (see the module docs).
///
/// # Panics
/// Never: HMAC takes a key of any length.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac = hmac::Hmac::<sha2_hmac::Sha256>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

/// `words` made safe for chat (Slack reads `<...>` as links and mentions, `&` as an entity:
/// a note saying `<!channel>` must not ping everyone), then the review page's link to the
/// event's song when the server knows its public address.
pub fn text(words: &str, song: &str, public_url: Option<&str>) -> String {
    let mut text = words
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    if let Some(base) = public_url {
        let base = base.trim_end_matches('/');
        if song.trim().is_empty() {
            text.push_str(&format!("\n{base}/"));
        } else {
            let song = liner_record::names::percent_encoded(song);
            text.push_str(&format!("\n{base}/song?name={song}"));
        }
    }
    text
}

#[derive(Serialize)]
struct Body<'a> {
    text: &'a str,
    project: &'a str,
    hook: i64,
    delivery: &'a str,
    event: &'a RawValue,
}

/// The body's bytes (see the module docs). `event` is the stored line.
///
/// # Errors
/// The stored line is not JSON (every stored line is: the server stores canonical events).
pub fn body(
    text: &str,
    project: &str,
    hook: i64,
    delivery: &str,
    event: &str,
) -> serde_json::Result<Vec<u8>> {
    let event: &RawValue = serde_json::from_str(event)?;
    serde_json::to_vec(&Body {
        text,
        project,
        hook,
        delivery,
        event,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hmac_sha256_of_the_body() {
        // RFC 4231, test case 2.
        let sig = signature("Jefe", b"what do ya want for nothing?");
        assert_eq!(
            sig,
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_ne!(signature("Jefe!", b"what do ya want for nothing?"), sig);
    }

    #[test]
    fn a_delivery_keeps_its_id_and_ids_differ_by_hook_and_event() {
        assert_eq!(delivery_id(1, "e"), delivery_id(1, "e"));
        assert_ne!(delivery_id(1, "e"), delivery_id(2, "e"));
        assert_ne!(delivery_id(1, "e"), delivery_id(1, "f"));
    }

    #[test]
    fn chat_markup_in_typed_text_is_defused_and_the_link_names_the_song() {
        let t = text(
            "Sam: <!channel> & <http://x|y>",
            "Night Drive",
            Some("https://r.example/"),
        );
        assert_eq!(
            t,
            "Sam: &lt;!channel&gt; &amp; &lt;http://x|y&gt;\nhttps://r.example/song?name=Night%20Drive"
        );
        assert_eq!(text("x", "S", None), "x");
    }

    #[test]
    fn the_event_is_embedded_as_stored() {
        let line = r#"{"v":1,"kind":"mark","body":{"n":1.50}}"#;
        let b = body("t", "P", 3, "d", line).unwrap();
        let s = String::from_utf8(b).unwrap();
        assert!(s.ends_with(&format!(r#""event":{line}}}"#)), "{s}");
    }
}
