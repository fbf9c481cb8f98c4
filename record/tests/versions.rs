//! A song's selected version: the newest print the executive approved, pinned to that
//! print; a newer print does not inherit it; the logs name it with its hash and approver.

use liner_record::event::{Body, Context, Event, Role, Verdict};
use liner_record::export::{export, Format, Scope};
use liner_record::versions::{VersionLabeled, VersionPrinted};
use liner_record::{fold, DawPos};
use uuid::Uuid;

fn ctx(author: &str, role: Role) -> Context {
    Context {
        project: "P".into(),
        song: "Night Drive".into(),
        track: "Mix bus".into(),
        session: Uuid::nil(),
        author: author.into(),
        role,
    }
}

fn at(mut e: Event, ms: i64) -> Event {
    e.at = ms;
    e
}

fn print(label: &str, hash: char, ms: i64) -> Event {
    let body: VersionPrinted = serde_json::from_value(serde_json::json!({
        "label": label,
        "version": {"hash": hash.to_string().repeat(64), "format": "flac", "sample_rate": 48000,
                    "channels": 2, "frames": 48000 * 200, "bytes": 5_000_000,
                    "loudness": {"integrated": -9.5, "true_peak": -0.4}},
        "start": DawPos { seconds: Some(0.0), ..DawPos::default() },
    }))
    .unwrap();
    at(
        Event::new(
            &ctx("Sam", Role::Producer),
            None,
            Body::VersionPrinted(body),
        ),
        ms,
    )
}

fn verdict(target: Uuid, verdict: Verdict, ms: i64) -> Event {
    at(
        Event::new(
            &ctx("Alex", Role::Executive),
            None,
            Body::Verdict {
                target,
                verdict,
                comment: String::new(),
            },
        ),
        ms,
    )
}

#[test]
fn the_selected_version_is_the_newest_approved_print_and_a_new_print_inherits_nothing() {
    let v1 = print("v1", 'a', 1_000);
    let v2 = print("v2", 'b', 2_000);
    let mut events = vec![
        v1.clone(),
        verdict(v1.id, Verdict::Approved, 1_500),
        v2.clone(),
    ];
    let views = fold(&events);
    assert_eq!(views.selected_version("Night Drive").unwrap().id, v1.id);
    assert_eq!(views.playing_version("Night Drive").unwrap().id, v1.id);
    assert!(
        !views.versions_of("Night Drive").next().unwrap().approved(),
        "v2 is not approved"
    );
    assert_eq!(views.selected_versions.get("Night Drive"), Some(&v1.id));

    events.push(verdict(v2.id, Verdict::Approved, 3_000));
    let views = fold(&events);
    assert_eq!(views.selected_version("Night Drive").unwrap().id, v2.id);

    // Rejecting the newer one puts the older approval back in charge.
    events.push(verdict(v2.id, Verdict::Rejected, 4_000));
    assert_eq!(
        fold(&events).selected_version("Night Drive").unwrap().id,
        v1.id
    );
}

#[test]
fn only_the_printer_relabels_a_version_and_only_the_executive_approves_it() {
    let v1 = print("v1", 'a', 1_000);
    let relabel = |who: &str, label: &str, ms| {
        at(
            Event::new(
                &ctx(who, Role::Producer),
                None,
                Body::VersionLabeled(VersionLabeled {
                    target: v1.id,
                    label: label.into(),
                }),
            ),
            ms,
        )
    };
    let producer_verdict = at(
        Event::new(
            &ctx("Sam", Role::Producer),
            None,
            Body::Verdict {
                target: v1.id,
                verdict: Verdict::Approved,
                comment: String::new(),
            },
        ),
        1_100,
    );
    let events = vec![
        v1.clone(),
        relabel("Sam", "v1 vocal up", 1_200),
        relabel("Mallory", "stolen", 1_300),
        producer_verdict,
    ];
    let views = fold(&events);
    let v = views.versions_of("Night Drive").next().unwrap();
    assert_eq!(v.label, "v1 vocal up");
    assert!(views.selected_version("Night Drive").is_none());
}

#[test]
fn the_logs_name_each_songs_selected_version_with_its_hash_and_approver() {
    let v1 = print("v1", 'a', 1_000);
    let v2 = print("v2", 'b', 2_000);
    let events = vec![v1.clone(), v2, verdict(v1.id, Verdict::Approved, 3_000)];
    let md = String::from_utf8(export(&events, &Scope::default(), Format::Markdown).bytes).unwrap();
    assert!(md.contains("Selected versions"), "{md}");
    let row = md
        .lines()
        .find(|l| l.contains(&"a".repeat(64)))
        .expect("the approved print's hash");
    assert!(
        row.contains("v1") && row.contains("Alex") && row.contains("-9.5 LUFS"),
        "{row}"
    );
    assert!(
        !md.contains(&"b".repeat(64)),
        "the unapproved print is not the selected one"
    );
    let json = String::from_utf8(export(&events, &Scope::default(), Format::Json).bytes).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        doc["views"]["selected_versions"]["Night Drive"],
        serde_json::json!(v1.id)
    );
}

#[test]
fn the_album_is_the_songs_on_the_record_in_order_with_their_selected_versions() {
    use liner_record::export::album::{album, playlist, sequence_sheet};
    let mut other = print("v1", 'c', 1_100);
    other.song = "Low Tide".into();
    let mut left_off = print("v1", 'd', 1_200);
    left_off.song = "B-Side/../x".into();
    let v1 = print("v1", 'a', 1_000);
    let v2 = print("v2 vocal up", 'b', 2_000);
    let exec = |body| at(Event::new(&ctx("Alex", Role::Executive), None, body), 2_500);
    let events = vec![
        v1.clone(),
        v2.clone(),
        other.clone(),
        left_off,
        verdict(v2.id, Verdict::Approved, 3_000),
        exec(Body::TracklistOrder {
            songs: vec!["Low Tide".into(), "Night Drive".into()],
        }),
        exec(Body::SongSelection {
            song: "Night Drive".into(),
            selected: true,
        }),
        exec(Body::SongSelection {
            song: "Low Tide".into(),
            selected: true,
        }),
    ];
    let views = fold(&events);
    let tracks = album(&views);
    let names: Vec<(&str, Option<String>)> = tracks
        .iter()
        .map(|t| (t.song.as_str(), t.file_name(2)))
        .collect();
    assert_eq!(
        names,
        vec![
            ("Low Tide", None),
            ("Night Drive", Some("02 Night Drive (v2 vocal up).flac".into())),
        ],
        "in the executive's order, the song left undecided off the album, no approved version no file"
    );
    assert_eq!(
        tracks[0].playing().unwrap().id,
        other.id,
        "the page plays its newest print"
    );
    let m3u = playlist(&tracks);
    assert_eq!(
        m3u,
        "#EXTM3U\n#EXTINF:200,Night Drive (v2 vocal up)\n02 Night Drive (v2 vocal up).flac\n"
    );
    let sheet = sequence_sheet("P", &tracks);
    assert!(
        sheet.contains("| 1 | Low Tide | none approved |"),
        "{sheet}"
    );
    assert!(
        sheet.contains(&"b".repeat(64)) && sheet.contains("Alex"),
        "{sheet}"
    );
    assert!(sheet.contains("Running time 0:03:20.000"), "{sheet}");
    assert!(
        sheet.contains("No approved version yet (not in this album): Low Tide."),
        "{sheet}"
    );
}

#[test]
fn an_album_file_name_cannot_leave_its_folder() {
    use liner_record::export::album::album;
    let mut v = print("../../etc/passwd", 'a', 1_000);
    v.song = "..\\..\\boot\u{202e}".into();
    let events = vec![v.clone(), verdict(v.id, Verdict::Approved, 2_000)];
    let views = fold(&events);
    let name = album(&views)[0].file_name(2).unwrap();
    assert!(
        !name.contains('/') && !name.contains('\\') && !name.contains('\u{202e}'),
        "{name}"
    );
    assert!(!name.contains(".."), "{name}");
}

#[test]
fn a_print_waits_for_the_executive_until_judged_and_the_log_lists_it() {
    use liner_record::export::{entries, EntryKind};
    let v1 = print("v1", 'a', 1_000);
    let mut events = vec![v1.clone()];
    let open = |events: &[Event]| {
        let views = fold(events);
        entries(events, &views, &Scope::default())
            .into_iter()
            .filter(|e| e.kind == EntryKind::Version)
            .map(|e| (e.standing(), e.text.as_str().to_owned()))
            .collect::<Vec<_>>()
    };
    let listed = open(&events);
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].0, Some(liner_record::review::Standing::Open));
    assert!(
        listed[0]
            .1
            .starts_with("Version v1 · 0:03:20.000 · -9.5 LUFS"),
        "{}",
        listed[0].1
    );
    events.push(verdict(v1.id, Verdict::Approved, 2_000));
    assert_eq!(
        open(&events)[0].0,
        Some(liner_record::review::Standing::Decided(Verdict::Approved))
    );
    let md = String::from_utf8(export(&events, &Scope::default(), Format::Markdown).bytes).unwrap();
    assert!(md.contains("Version v1"), "{md}");
}
