//! Every export format on a fixed record that covers every event kind, two songs, two
//! sessions, a tempo and a time-signature change, a note without a DAW position and text
//! built to break formats. Golden files pin the exact output (`UPDATE_GOLDEN=1` rewrites
//! them); independent parsers read each machine format back.

use liner_record::event::{
    Anchor, Body, Category, DawPos, Decision, Event, NoteAdded, NoteEdited, Rating, Role, Setting,
    TakeRef, Verdict,
};
use liner_record::export::{export, import_json, Format, Scope};
use std::path::PathBuf;
use uuid::Uuid;

const HOSTILE: &str = "comma, \"quote\", new\nline, tab\there, emoji 🎤🔥, עברית שלום, <script>alert(1)</script> *bold* | pipe";

struct Maker {
    n: u128,
}

impl Maker {
    fn id(&mut self) -> Uuid {
        self.n += 1;
        Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0000 + self.n)
    }

    #[allow(clippy::too_many_arguments)]
    fn event(
        &mut self,
        song: &str,
        session: u128,
        track: &str,
        author: &str,
        role: Role,
        at: i64,
        pos: Option<DawPos>,
        body: Body,
    ) -> Event {
        Event {
            id: self.id(),
            project: "Album".into(),
            song: song.into(),
            track: track.into(),
            session: Uuid::from_u128(session),
            author: author.into(),
            role,
            at,
            pos,
            body,
        }
    }
}

/// 120 bpm 4/4 until bar 9 (16 s), then 90 bpm 3/4.
fn pos(seconds: f64) -> DawPos {
    let (beats, tempo, sig, bar, beat) = if seconds < 16.0 {
        let beats = seconds * 2.0;
        (
            beats,
            120.0,
            (4, 4),
            (beats / 4.0).floor() as i32 + 1,
            beats % 4.0 + 1.0,
        )
    } else {
        let beats = 32.0 + (seconds - 16.0) * 1.5;
        let into = beats - 32.0;
        (
            beats,
            90.0,
            (3, 4),
            9 + (into / 3.0).floor() as i32,
            into % 3.0 + 1.0,
        )
    };
    DawPos {
        samples: Some((seconds * 48_000.0) as i64),
        seconds: Some(seconds),
        beats: Some(beats),
        bar: Some(bar),
        beat: Some(beat),
        tempo: Some(tempo),
        time_sig: Some(sig),
        playing: true,
        recording: false,
    }
}

const DAY1: i64 = 1_764_000_000_000; // 2025-11-24 16:00 UTC
const DAY2: i64 = DAY1 + 86_400_000;

fn record() -> Vec<Event> {
    let mut m = Maker { n: 0 };
    let inst = Uuid::from_u128(7);
    let take = |n| TakeRef {
        instance: inst,
        number: n,
    };
    let note = |text: &str, category, anchor, take, private| {
        Body::NoteAdded(NoteAdded {
            text: text.into(),
            category,
            anchor,
            take,
            private,
        })
    };
    let mut ev = Vec::new();
    // Song A, session 1 (day 1): a take, notes, an EQ decision, a mark.
    ev.push(m.event(
        "Song A",
        1,
        "Lead Vox",
        "Sam",
        Role::Producer,
        DAY1,
        None,
        Body::SessionOpened,
    ));
    let t1 = m.event(
        "Song A",
        1,
        "Lead Vox",
        "Sam",
        Role::Producer,
        DAY1 + 60_000,
        Some(pos(4.0)),
        Body::TakeStarted { take: take(1) },
    );
    ev.push(t1.clone());
    ev.push(m.event(
        "Song A",
        1,
        "Lead Vox",
        "Sam",
        Role::Producer,
        DAY1 + 90_000,
        Some(pos(14.0)),
        Body::TakeEnded { take: take(1) },
    ));
    ev.push(m.event(
        "Song A",
        1,
        "Lead Vox",
        "Sam",
        Role::Producer,
        DAY1 + 100_000,
        None,
        Body::TakeRated {
            take: take(1),
            rating: Rating::Keeper,
            stars: Some(4),
            note: Some("best chorus".into()),
        },
    ));
    let breath = m.event(
        "Song A",
        1,
        "Lead Vox",
        "Sam",
        Role::Producer,
        DAY1 + 120_000,
        Some(pos(6.5)),
        note(
            "breath before the chorus",
            Category::Vocal,
            None,
            Some(take(1)),
            false,
        ),
    );
    ev.push(breath.clone());
    let hostile = m.event(
        "Song A",
        1,
        "Lead Vox",
        "Ana",
        Role::Engineer,
        DAY1 + 130_000,
        Some(pos(22.0)),
        note(HOSTILE, Category::General, None, None, false),
    );
    ev.push(hostile.clone());
    let range = m.event(
        "Song A",
        1,
        "Band",
        "Sam",
        Role::Producer,
        DAY1 + 140_000,
        None,
        note(
            "bridge drags",
            Category::Arrangement,
            Some(Anchor::Range {
                from: pos(8.0),
                to: pos(16.0),
            }),
            None,
            false,
        ),
    );
    ev.push(range.clone());
    ev.push(m.event(
        "Song A",
        1,
        "Lead Vox",
        "Sam",
        Role::Producer,
        DAY1 + 150_000,
        None,
        note(
            "no position: phone call with the label",
            Category::General,
            None,
            None,
            false,
        ),
    ));
    ev.push(m.event(
        "Song A",
        1,
        "Lead Vox",
        "Sam",
        Role::Producer,
        DAY1 + 160_000,
        Some(pos(3.0)),
        note(
            "private: the singer was late",
            Category::General,
            None,
            None,
            true,
        ),
    ));
    let eq = m.event(
        "Song A",
        1,
        "Lead Vox",
        "Ana",
        Role::Engineer,
        DAY1 + 170_000,
        Some(pos(10.0)),
        Body::EqDecision(Decision {
            processor: "Pro-Q 3".into(),
            settings: vec![
                Setting {
                    name: "band".into(),
                    value: None,
                    text: Some("low shelf".into()),
                    unit: None,
                },
                Setting {
                    name: "frequency".into(),
                    value: Some(120.0),
                    text: None,
                    unit: Some("Hz".into()),
                },
                Setting {
                    name: "gain".into(),
                    value: Some(-3.0),
                    text: None,
                    unit: Some("dB".into()),
                },
                Setting {
                    name: "q".into(),
                    value: Some(0.7),
                    text: None,
                    unit: None,
                },
            ],
            reason: "mud under the vocal".into(),
        }),
    );
    ev.push(eq.clone());
    ev.push(m.event(
        "Song A",
        1,
        "Lead Vox",
        "Sam",
        Role::Producer,
        DAY1 + 180_000,
        Some(pos(12.25)),
        Body::Mark {
            instance: inst,
            number: 1,
            label: None,
        },
    ));
    ev.push(m.event(
        "Song A",
        1,
        "Lead Vox",
        "Sam",
        Role::Producer,
        DAY1 + 185_000,
        None,
        Body::NoteEdited(NoteEdited {
            note: breath.id,
            text: Some("breath before the chorus, keep it".into()),
            category: None,
            anchor: None,
        }),
    ));
    ev.push(m.event(
        "Song A",
        1,
        "Lead Vox",
        "Sam",
        Role::Producer,
        DAY1 + 3_600_000,
        None,
        Body::SessionClosed,
    ));
    // Song B, session 2 (day 2): an FX decision, a deleted note, verdicts.
    ev.push(m.event(
        "Song B",
        2,
        "Drums",
        "Kim",
        Role::Artist,
        DAY2,
        Some(pos(30.0)),
        Body::FxDecision(Decision {
            processor: "1176".into(),
            settings: vec![Setting {
                name: "ratio".into(),
                value: None,
                text: Some("4:1".into()),
                unit: None,
            }],
            reason: "glue".into(),
        }),
    ));
    let gone = m.event(
        "Song B",
        2,
        "Drums",
        "Kim",
        Role::Artist,
        DAY2 + 1_000,
        Some(pos(31.0)),
        note("delete me", Category::Mix, None, None, false),
    );
    ev.push(gone.clone());
    ev.push(m.event(
        "Song B",
        2,
        "Drums",
        "Kim",
        Role::Artist,
        DAY2 + 2_000,
        None,
        Body::NoteDeleted { note: gone.id },
    ));
    ev.push(m.event(
        "Song B",
        2,
        "Drums",
        "Kim",
        Role::Artist,
        DAY2 + 3_000,
        Some(pos(33.0)),
        note("snare too loud", Category::Mix, None, None, false),
    ));
    // Verdicts: the executive's count, a producer's does not.
    let verdict = |target, v, c: &str| Body::Verdict {
        target,
        verdict: v,
        comment: c.into(),
    };
    ev.push(m.event(
        "Song A",
        2,
        "",
        "Eve",
        Role::Executive,
        DAY2 + 10_000,
        None,
        verdict(eq.id, Verdict::Approved, "yes"),
    ));
    ev.push(m.event(
        "Song A",
        2,
        "",
        "Eve",
        Role::Executive,
        DAY2 + 11_000,
        None,
        verdict(range.id, Verdict::ChangesRequested, "tighten, \"8 bars\""),
    ));
    ev.push(m.event(
        "Song A",
        2,
        "",
        "Eve",
        Role::Executive,
        DAY2 + 12_000,
        None,
        verdict(t1.id, Verdict::Approved, ""),
    ));
    ev.push(m.event(
        "Song A",
        2,
        "",
        "Eve",
        Role::Executive,
        DAY2 + 13_000,
        None,
        verdict(hostile.id, Verdict::Rejected, "no <b>"),
    ));
    ev.push(m.event(
        "Song A",
        2,
        "",
        "Sam",
        Role::Producer,
        DAY2 + 14_000,
        None,
        verdict(breath.id, Verdict::Approved, "self-approval does not count"),
    ));
    ev.push(m.event(
        "",
        2,
        "",
        "Eve",
        Role::Executive,
        DAY2 + 15_000,
        None,
        Body::TracklistOrder {
            songs: vec!["Song B".into(), "Song A".into()],
        },
    ));
    ev.push(m.event(
        "",
        2,
        "",
        "Eve",
        Role::Executive,
        DAY2 + 16_000,
        None,
        Body::SongSelection {
            song: "Song A".into(),
            selected: true,
        },
    ));
    ev
}

fn golden(name: &str, bytes: &[u8]) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes).unwrap();
        return;
    }
    let want = std::fs::read(&path)
        .unwrap_or_else(|_| panic!("{} missing: run with UPDATE_GOLDEN=1", path.display()));
    assert!(
        want == bytes,
        "{name} differs from its golden file (UPDATE_GOLDEN=1 rewrites it after review):\n{}",
        String::from_utf8_lossy(bytes)
    );
}

#[test]
fn every_format_matches_its_golden_file() {
    let events = record();
    for f in Format::ALL {
        let out = export(&events, &Scope::default(), f);
        golden(&format!("project.{}", f.extension()), &out.bytes);
    }
    let song_b = Scope {
        song: Some("Song B".into()),
        ..Scope::default()
    };
    golden(
        "song-b.md",
        &export(&events, &song_b, Format::Markdown).bytes,
    );
}

#[test]
fn csv_reads_back_with_every_character_intact() {
    let out = export(&record(), &Scope::default(), Format::Csv);
    let mut r = csv::Reader::from_reader(&out.bytes[..]);
    let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    for col in [
        "song",
        "session_date",
        "track",
        "take",
        "bar_beat",
        "time_seconds",
        "author",
        "role",
        "category",
        "text",
        "verdict",
        "verdict_comment",
        "id",
    ] {
        assert!(header.contains(&col.to_owned()), "missing column {col}");
    }
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let hostile = rows
        .iter()
        .find(|r| r[col("text")] == *HOSTILE)
        .expect("hostile text intact");
    assert_eq!(&hostile[col("verdict")], "rejected");
    assert_eq!(&hostile[col("verdict_comment")], "no <b>");
    // 22 s: 6 s into the 90 bpm 3/4 part = 9 quarters after bar 9 = bar 12, beat 1.
    assert_eq!(&hostile[col("bar_beat")], "12.1.00");
    // Private and deleted notes are not exported; the positionless note is, with its date.
    assert!(!rows.iter().any(|r| r[col("text")].contains("private")));
    assert!(!rows.iter().any(|r| r[col("text")].contains("delete me")));
    let phone = rows
        .iter()
        .find(|r| r[col("text")].contains("phone call"))
        .unwrap();
    assert_eq!(&phone[col("time_seconds")], "");
    assert_eq!(&phone[col("session_date")], "2025-11-24");
    // The producer's self-approval does not count.
    let breath = rows
        .iter()
        .find(|r| r[col("text")].starts_with("breath"))
        .unwrap();
    assert_eq!(&breath[col("text")], "breath before the chorus, keep it");
    assert_eq!(&breath[col("verdict")], "");
}

#[test]
fn the_reaper_file_has_the_documented_shape() {
    let out = export(&record(), &Scope::default(), Format::ReaperCsv);
    assert!(!out.bytes.starts_with(&[0xEF, 0xBB, 0xBF]), "no BOM");
    let mut r = csv::Reader::from_reader(&out.bytes[..]);
    assert_eq!(
        r.headers().unwrap().iter().collect::<Vec<_>>(),
        ["#", "Name", "Start", "End", "Length", "Color"]
    );
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    let mut markers = 0;
    let mut regions = 0;
    for row in &rows {
        let start = liner_record::position::parse_time(&row[2]).expect("H:MM:SS.mmm start");
        if row[0].starts_with('M') {
            markers += 1;
            assert_eq!(&row[0][1..], markers.to_string());
            assert!(row[3].is_empty() && row[4].is_empty());
        } else {
            regions += 1;
            assert_eq!(row[0], format!("R{regions}"));
            let end = liner_record::position::parse_time(&row[3]).unwrap();
            let len = liner_record::position::parse_time(&row[4]).unwrap();
            assert!((end - start - len).abs() < 0.002);
        }
        assert!(["", "00C000", "FF0000", "FF8000"].contains(&&row[5]));
    }
    // The range note and the take are regions; the approved take is green, the range orange.
    assert_eq!(regions, 2);
    let range = rows.iter().find(|r| r[1].contains("bridge drags")).unwrap();
    assert_eq!(
        (&range[0][..1], &range[2], &range[3], &range[5]),
        ("R", "0:00:08.000", "0:00:16.000", "FF8000")
    );
    // The positionless note is left out and counted.
    assert_eq!(out.left_out, 1);
    assert!(!rows.iter().any(|r| r[1].contains("phone call")));
    assert!(rows.iter().all(|r| !r[1].contains('\n')));
}

#[test]
fn audacity_labels_are_three_tab_separated_fields() {
    let out = export(&record(), &Scope::default(), Format::AudacityLabels);
    let text = String::from_utf8(out.bytes).unwrap();
    let mut lines = 0;
    for line in text.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        assert_eq!(f.len(), 3, "{line:?}");
        for t in &f[..2] {
            assert_eq!(t.split('.').nth(1).map(str::len), Some(6), "{t}");
        }
        let (s, e): (f64, f64) = (f[0].parse().unwrap(), f[1].parse().unwrap());
        assert!(e >= s);
        lines += 1;
    }
    assert_eq!(out.left_out, 1);
    let mark = text.lines().find(|l| l.contains("unnamed mark 1")).unwrap();
    assert!(mark.starts_with("12.250000\t12.250000\t"), "{mark}");
    assert_eq!(lines, 8);
}

#[test]
fn midi_markers_sit_at_the_right_ticks_over_the_tempo_map() {
    use midly::{MetaMessage, Smf, Timing, TrackEventKind};
    let out = export(&record(), &Scope::default(), Format::Midi);
    let smf = Smf::parse(&out.bytes).expect("a valid SMF");
    assert_eq!(smf.header.format, midly::Format::Parallel);
    assert_eq!(smf.header.timing, Timing::Metrical(960.into()));
    assert_eq!(smf.tracks.len(), 2);
    fn abs<'a>(track: &[midly::TrackEvent<'a>]) -> Vec<(u32, TrackEventKind<'a>)> {
        let mut t = 0u32;
        track
            .iter()
            .map(|e| {
                t += u32::from(e.delta);
                (t, e.kind)
            })
            .collect()
    }
    let tempo: Vec<(u32, u32)> = abs(&smf.tracks[0])
        .into_iter()
        .filter_map(|(t, k)| match k {
            TrackEventKind::Meta(MetaMessage::Tempo(us)) => Some((t, u32::from(us))),
            _ => None,
        })
        .collect();
    // 120 bpm from the start, 90 bpm at quarter 32 (bar 9).
    assert_eq!(tempo, vec![(0, 500_000), (32 * 960, 666_667)]);
    let sigs: Vec<(u32, u8, u8)> = abs(&smf.tracks[0])
        .into_iter()
        .filter_map(|(t, k)| match k {
            TrackEventKind::Meta(MetaMessage::TimeSignature(n, d, _, _)) => Some((t, n, d)),
            _ => None,
        })
        .collect();
    assert_eq!(sigs, vec![(0, 4, 2), (32 * 960, 3, 2)]);
    let markers: Vec<(u32, String)> = abs(&smf.tracks[1])
        .into_iter()
        .filter_map(|(t, k)| match k {
            TrackEventKind::Meta(MetaMessage::Marker(text)) => {
                Some((t, String::from_utf8(text.to_vec()).unwrap()))
            }
            _ => None,
        })
        .collect();
    // The mark at 12.25 s = quarter 24.5; the hostile note at 22 s = 32 + 6 * 1.5 = quarter 41.
    assert!(
        markers.contains(&(24 * 960 + 480, "Sam: unnamed mark 1".into())),
        "{markers:?}"
    );
    let hostile = markers.iter().find(|(_, t)| t.contains("emoji")).unwrap();
    assert_eq!(hostile.0, 41 * 960);
    assert_eq!(out.left_out, 1);
}

#[test]
fn json_export_import_export_is_identical() {
    let events = record();
    let first = export(&events, &Scope::default(), Format::Json).bytes;
    let v: serde_json::Value = serde_json::from_slice(&first).unwrap();
    assert_eq!(v["format"], "liner-notes-export");
    assert!(v["views"]["notes"].is_array());
    let back = import_json(&first).unwrap();
    let second = export(&back, &Scope::default(), Format::Json).bytes;
    assert_eq!(first, second);
    // Private notes stay out unless asked for.
    assert!(!back
        .iter()
        .any(|e| matches!(&e.body, Body::NoteAdded(n) if n.private)));
    let all = export(
        &events,
        &Scope {
            include_private: true,
            ..Scope::default()
        },
        Format::Json,
    );
    assert_eq!(import_json(&all.bytes).unwrap().len(), events.len());
    assert!(import_json(b"{\"format\":\"other\",\"version\":1,\"events\":[]}").is_err());
}

#[test]
fn text_formats_escape_what_people_typed() {
    let events = record();
    let md = String::from_utf8(export(&events, &Scope::default(), Format::Markdown).bytes).unwrap();
    let html = String::from_utf8(export(&events, &Scope::default(), Format::Html).bytes).unwrap();
    for doc in [&md, &html] {
        assert!(!doc.contains("<script>"), "unescaped script");
        assert!(doc.contains("emoji 🎤🔥") && doc.contains("עברית שלום"));
        assert!(!doc.contains("private: the singer"));
    }
    assert!(html.contains("&lt;script&gt;alert\\(1\\)") || html.contains("&lt;script&gt;alert(1)"));
    assert!(md.contains("\\*bold\\*") && md.contains("\\| pipe"));
    // The summary: open notes and decisions (the producer's self-approval does not count),
    // and the executive's verdicts.
    assert!(md.contains("| 4 | 2 | 1 | 1 |"), "{md}");
    // Recall sheet: the approved EQ decision for the vocal.
    assert!(md.contains("Recall sheet — Song A"));
    assert!(md.contains("| Lead Vox | eq | Pro-Q 3 | band low shelf, frequency 120 Hz, gain -3 dB, q 0.7 | mud under the vocal | approved |"), "{md}");
    // The positionless note still appears, with its wall-clock time.
    assert!(
        md.contains("no DAW position · 2025-11-24 16:02 UTC"),
        "{md}"
    );
    assert!(html.contains("@media print"));
}

#[test]
fn scopes_select_a_song_a_session_an_author_and_a_date_range() {
    let events = record();
    let rows = |scope: Scope| {
        let out = export(&events, &scope, Format::Csv);
        csv::Reader::from_reader(&out.bytes[..]).records().count()
    };
    let all = rows(Scope::default());
    let a = rows(Scope {
        song: Some("Song A".into()),
        ..Scope::default()
    });
    let b = rows(Scope {
        song: Some("Song B".into()),
        ..Scope::default()
    });
    assert_eq!(a + b, all);
    assert_eq!(b, 2);
    assert_eq!(
        rows(Scope {
            session: Some(Uuid::from_u128(2)),
            ..Scope::default()
        }),
        b
    );
    assert_eq!(
        rows(Scope {
            author: Some("Kim".into()),
            ..Scope::default()
        }),
        2
    );
    assert_eq!(
        rows(Scope {
            since_ms: Some(DAY2),
            ..Scope::default()
        }),
        2
    );
    assert_eq!(
        rows(Scope {
            until_ms: Some(DAY2),
            ..Scope::default()
        }),
        a
    );
}

/// Finding 4 of the hardening issue: cells starting with `=`, `+`, `-` or `@` went out as
/// they were (a spreadsheet runs them), and an author with a newline and a tab forged an
/// Audacity label. Now such cells carry a leading `'` and every line-based field is one line.
#[test]
fn exports_carry_no_formula_and_no_forged_row() {
    let mut m = Maker { n: 1_000 };
    let mut events = Vec::new();
    for (author, text) in [
        ("=HYPERLINK(\"http://evil\",\"x\")", "-2+3"),
        ("@SUM(A1)", "=cmd|'/C calc'!A0"),
        ("Eve\n0.0\t9.9\tforged", "+1 tab\tin text"),
    ] {
        events.push(m.event(
            "Song A",
            1,
            "Vox",
            author,
            Role::Producer,
            1_764_000_000_000,
            Some(pos(4.0)),
            Body::NoteAdded(NoteAdded {
                text: text.into(),
                category: Category::Mix,
                anchor: None,
                take: None,
                private: false,
            }),
        ));
    }
    let csv_out = export(&events, &Scope::default(), Format::Csv);
    let mut r = csv::Reader::from_reader(&csv_out.bytes[..]);
    let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    for row in r.records().map(Result::unwrap) {
        for name in ["author", "text"] {
            let cell = &row[col(name)];
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{name}: {cell:?}"
            );
        }
    }
    let reaper =
        String::from_utf8(export(&events, &Scope::default(), Format::ReaperCsv).bytes).unwrap();
    let mut r = csv::Reader::from_reader(reaper.as_bytes());
    for row in r.records().map(Result::unwrap) {
        assert!(!row[1].starts_with(['=', '+', '-', '@']), "{:?}", &row[1]);
    }
    let labels =
        String::from_utf8(export(&events, &Scope::default(), Format::AudacityLabels).bytes)
            .unwrap();
    assert_eq!(labels.lines().count(), 3, "{labels}");
    for line in labels.lines() {
        assert_eq!(line.split('\t').count(), 3, "{line:?}");
    }
}

/// Finding 3: 10,000 marks whose time signature flips at every event took 8.9 s as CSV and
/// 18.6 s as MIDI (finding where each meter change happened walked back over every bar in
/// between, up to 100,000 of them: 1.75 s in a release build here for this record, far
/// more in a test build). Locating a change is now one computation; this guards the
/// complexity with a wide margin (the figures are in the export bench, not here).
#[test]
fn a_meter_flipping_at_every_event_exports_at_once() {
    let mut m = Maker { n: 2_000 };
    let events: Vec<Event> = (0..10_000)
        .map(|i| {
            // Far apart (a hostile client picks the positions): 250,000 bars between two.
            let seconds = i as f64 * 500_000.0;
            let sig = if i % 2 == 0 { (4, 4) } else { (7, 8) };
            let at = DawPos {
                samples: None,
                seconds: Some(seconds),
                beats: Some(seconds * 2.0),
                bar: None,
                beat: None,
                tempo: Some(120.0),
                time_sig: Some(sig),
                playing: true,
                recording: false,
            };
            m.event(
                "Song A",
                1,
                "Vox",
                "Sam",
                Role::Producer,
                1_764_000_000_000 + i,
                Some(at),
                Body::Mark {
                    instance: Uuid::from_u128(77),
                    number: i as u32,
                    label: None,
                },
            )
        })
        .collect();
    let started = std::time::Instant::now();
    for format in [Format::Csv, Format::Midi] {
        let out = export(&events, &Scope::default(), format);
        assert!(!out.bytes.is_empty());
    }
    let took = started.elapsed();
    assert!(took < std::time::Duration::from_secs(5), "{took:?}");
}
