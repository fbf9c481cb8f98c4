//! Fills a server data folder with a small, realistic album project for the review page: three
//! songs, several people and tracks, notes, takes with ratings, marks, EQ/FX decisions, some
//! verdicts, a tracklist and song choices, and sessions with the transport rolling (worked
//! time). Prints the executive producer's token.
//!
//! `cargo run -p liner-server --example review_demo -- DATA_DIR`, then
//! `liner serve --data DATA_DIR` and sign in at the printed address. Used by
//! `cargo xtask page-screenshots`.

use liner_record::event::{
    Anchor, Body, Category, Context, DawPos, Decision, NoteAdded, Rating, Setting, TakeRef, Verdict,
};
use liner_record::{Event, Role};
use liner_server::store::{Incoming, SqliteStore, Store};
use uuid::Uuid;

/// Seconds of each demo version: long enough to look like a song on the waveform.
const VERSION_SECONDS: usize = 40;

/// A mix-like signal (a kick on the beat, a chord that swells, a little noise) at `level`,
/// printed as the plugin prints (FLAC, loudness, peaks): the body of its `version_printed`
/// event, placed from bar 1, and the file's bytes.
fn print_demo(
    label: &str,
    tempo: f64,
    level: f32,
) -> anyhow::Result<(liner_record::versions::VersionPrinted, Vec<u8>)> {
    use liner_record::versions::{VersionStore, VersionWriter};
    let dir = tempfile::tempdir()?;
    let files = VersionStore::of_journal(dir.path());
    let mut w = VersionWriter::create(&files.part_path(Uuid::now_v7()), 48_000, 2)?;
    let beat = (48_000.0 * 60.0 / tempo) as usize;
    let mut seed = 0x9e37_79b9_u32;
    let block = 4800;
    for b in 0..VERSION_SECONDS * 10 {
        let mut planar = vec![0.0f32; block * 2];
        for i in 0..block {
            let n = b * block + i;
            let t = n as f32 / 48_000.0;
            let since_beat = (n % beat) as f32 / 48_000.0;
            let kick =
                (-since_beat * 30.0).exp() * (since_beat * 60.0 * std::f32::consts::TAU).sin();
            // Intro, verse, chorus, breakdown, last chorus.
            let section = match t as usize {
                0..=5 => 0.35,
                6..=15 => 0.6,
                16..=23 => 1.0,
                24..=29 => 0.45,
                _ => 1.0,
            };
            let swell = section * (0.8 + 0.2 * (t * 0.5).sin());
            let chord: f32 = [220.0, 277.2, 329.6]
                .iter()
                .map(|f| (t * f * std::f32::consts::TAU).sin())
                .sum::<f32>()
                / 3.0;
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            let noise = seed as f32 / u32::MAX as f32 - 0.5;
            let x = (level * swell * (0.6 * kick + 0.35 * chord + 0.05 * noise)).clamp(-1.0, 1.0);
            planar[i] = x;
            planar[block + i] = x * 0.95;
        }
        w.push(&planar, block)?;
    }
    let version = w.finish(&files)?;
    let bytes = std::fs::read(files.path(&version))?;
    let printed = liner_record::versions::VersionPrinted {
        label: label.into(),
        version,
        start: pos(0.0, tempo),
        tempo: vec![],
        gaps: vec![],
        offline: true,
    };
    Ok((printed, bytes))
}

pub const PROJECT: &str = "Night Drive LP";

fn pos(seconds: f64, tempo: f64) -> DawPos {
    let beats = seconds * tempo / 60.0;
    DawPos {
        samples: Some((seconds * 48_000.0) as i64),
        seconds: Some(seconds),
        beats: Some(beats),
        bar: Some((beats / 4.0).floor() as i32 + 1),
        beat: Some(beats % 4.0 + 1.0),
        tempo: Some(tempo),
        time_sig: Some((4, 4)),
        playing: true,
        recording: false,
    }
}

#[allow(dead_code)] // also included by the page_screenshots example, which has its own main
fn main() -> anyhow::Result<()> {
    let dir = std::env::args()
        .nth(1)
        .ok_or_else(|| anyhow::anyhow!("usage: review_demo DATA_DIR"))?;
    println!("{}", seed(std::path::Path::new(&dir))?);
    Ok(())
}

/// Fills the data folder `dir` with the demo project; returns the executive's token.
///
/// # Errors
/// The database cannot be opened or written.
pub fn seed(dir: &std::path::Path) -> anyhow::Result<String> {
    let store = SqliteStore::open(dir)?;
    let project = store.create_project(PROJECT)?;
    let people = [
        ("Eve Marsh", Role::Executive),
        ("Sam Okafor", Role::Producer),
        ("Ana Ruiz", Role::Engineer),
        ("Kim Lee", Role::Artist),
    ];
    let mut tokens = std::collections::HashMap::new();
    let mut exec_secret = String::new();
    for (person, role) in people {
        let (info, secret) = store.add_token(PROJECT, person, role)?;
        if role == Role::Executive {
            exec_secret = secret;
        }
        tokens.insert(person, info.id);
    }

    let start = liner_record::event::now_ms() - 3 * 3_600_000;
    let mut clock = start;
    let mut push = |person: &str,
                    role: Role,
                    song: &str,
                    track: &str,
                    p: Option<DawPos>,
                    body: Body|
     -> anyhow::Result<Event> {
        clock += 45_000;
        let mut e = Event::new(
            &Context {
                project: PROJECT.into(),
                song: song.into(),
                track: track.into(),
                session: Uuid::new_v5(&Uuid::NAMESPACE_OID, format!("{person}{song}").as_bytes()),
                author: person.into(),
                role,
            },
            p,
            body,
        );
        e.at = clock;
        let outcome = store.push(
            &project,
            tokens.get(person).copied(),
            &[Incoming::from_event(e.clone())],
        )?;
        anyhow::ensure!(
            matches!(outcome[0], liner_server::store::PushOutcome::Stored(_)),
            "demo event refused: {:?}",
            outcome[0]
        );
        Ok(e)
    };
    let note = |text: &str, category: Category, at: DawPos, take: Option<TakeRef>| {
        Body::NoteAdded(NoteAdded {
            text: text.into(),
            category,
            anchor: Some(Anchor::Point { at }),
            take,
            private: false,
            version: None,
            guest: None,
        })
    };
    let sam = ("Sam Okafor", Role::Producer);
    let ana = ("Ana Ruiz", Role::Engineer);
    let kim = ("Kim Lee", Role::Artist);
    let eve = ("Eve Marsh", Role::Executive);
    let mut judged = Vec::new();

    for (song, tempo) in [
        ("Night Drive", 96.0),
        ("Paper Moons", 118.0),
        ("Low Tide", 84.0),
    ] {
        // Sam's vocal session with three takes, rated.
        let instance = Uuid::new_v5(&Uuid::NAMESPACE_OID, song.as_bytes());
        push(sam.0, sam.1, song, "Lead vox", None, Body::SessionOpened)?;
        push(
            sam.0,
            sam.1,
            song,
            "Lead vox",
            Some(pos(0.0, tempo)),
            Body::TransportStarted,
        )?;
        let mut takes = Vec::new();
        for n in 1..=3u32 {
            let take = TakeRef {
                instance,
                number: n,
            };
            push(
                sam.0,
                sam.1,
                song,
                "Lead vox",
                Some(pos(20.0, tempo)),
                Body::TakeStarted { take },
            )?;
            push(
                sam.0,
                sam.1,
                song,
                "Lead vox",
                Some(pos(95.0, tempo)),
                Body::TakeEnded { take },
            )?;
            takes.push(take);
        }
        for (take, rating, stars, text) in [
            (takes[0], Rating::Scratch, 2, "pitchy in the pre-chorus"),
            (
                takes[1],
                Rating::Maybe,
                3,
                "good energy, breath noise at bar 17",
            ),
            (takes[2], Rating::Keeper, 5, "the one: comp from here"),
        ] {
            let e = push(
                sam.0,
                sam.1,
                song,
                "Lead vox",
                None,
                Body::TakeRated {
                    take,
                    rating,
                    stars: Some(stars),
                    note: Some(text.into()),
                },
            )?;
            let _ = e;
        }
        judged.push(
            push(
                sam.0,
                sam.1,
                song,
                "Lead vox",
                Some(pos(41.5, tempo)),
                note(
                    "Double the last line of the chorus, the lift needs it",
                    Category::Vocal,
                    pos(41.5, tempo),
                    Some(takes[2]),
                ),
            )?
            .id,
        );
        push(
            sam.0,
            sam.1,
            song,
            "Lead vox",
            Some(pos(63.0, tempo)),
            Body::Mark {
                instance,
                number: 1,
                label: Some("ad-lib candidate".into()),
            },
        )?;
        push(
            sam.0,
            sam.1,
            song,
            "Lead vox",
            Some(pos(120.0, tempo)),
            Body::TransportStopped,
        )?;
        push(sam.0, sam.1, song, "Lead vox", None, Body::SessionClosed)?;

        // Ana's mix notes and decisions.
        push(
            ana.0,
            ana.1,
            song,
            "Drum bus",
            Some(pos(0.0, tempo)),
            Body::TransportStarted,
        )?;
        judged.push(
            push(
                ana.0,
                ana.1,
                song,
                "Drum bus",
                Some(pos(12.0, tempo)),
                Body::EqDecision(Decision {
                    processor: "Pro-Q 3".into(),
                    settings: vec![
                        Setting {
                            name: "low shelf".into(),
                            value: Some(80.0),
                            text: None,
                            unit: Some("Hz".into()),
                        },
                        Setting {
                            name: "gain".into(),
                            value: Some(-2.5),
                            text: None,
                            unit: Some("dB".into()),
                        },
                    ],
                    reason: "the kick and the bass were fighting below 100 Hz".into(),
                }),
            )?
            .id,
        );
        judged.push(
            push(
                ana.0,
                ana.1,
                song,
                "Drum bus",
                Some(pos(33.0, tempo)),
                Body::FxDecision(Decision {
                    processor: "1176".into(),
                    settings: vec![
                        Setting {
                            name: "ratio".into(),
                            value: None,
                            text: Some("4:1".into()),
                            unit: None,
                        },
                        Setting {
                            name: "attack".into(),
                            value: Some(3.0),
                            text: None,
                            unit: None,
                        },
                    ],
                    reason: "more snap on the snare without raising it".into(),
                }),
            )?
            .id,
        );
        push(
            ana.0,
            ana.1,
            song,
            "Drum bus",
            Some(pos(70.0, tempo)),
            note(
                "Room mics feel late against the close mics; nudge -4 ms?",
                Category::Mix,
                pos(70.0, tempo),
                None,
            ),
        )?;
        push(
            ana.0,
            ana.1,
            song,
            "Drum bus",
            Some(pos(150.0, tempo)),
            Body::TransportStopped,
        )?;

        // Kim's thoughts on the arrangement.
        push(
            kim.0,
            kim.1,
            song,
            "Keys",
            Some(pos(88.0, tempo)),
            note(
                "Bridge is too long: cut 8 bars, go straight to the last chorus",
                Category::Arrangement,
                pos(88.0, tempo),
                None,
            ),
        )?;
        push(
            kim.0,
            kim.1,
            song,
            "Keys",
            Some(pos(101.0, tempo)),
            note(
                "I want the Rhodes dry here, <no reverb> & no chorus",
                Category::Fx,
                pos(101.0, tempo),
                None,
            ),
        )?;
    }

    // Mixes printed from the mix bus: two of Night Drive (the second approved), one of Paper
    // Moons (approved), one of Low Tide; uploaded as the plugin would.
    let mut approve = Vec::new();
    for (song, label, tempo, level, take) in [
        ("Night Drive", "v1", 96.0, 0.7, false),
        ("Night Drive", "v2 vocal up", 96.0, 0.85, true),
        ("Paper Moons", "v1", 118.0, 0.6, true),
        ("Low Tide", "v1", 84.0, 0.5, false),
    ] {
        let (printed, bytes) = print_demo(label, tempo, level)?;
        let hash = printed.version.hash.clone();
        let e = push(
            sam.0,
            sam.1,
            song,
            "Mix bus",
            None,
            Body::VersionPrinted(printed),
        )?;
        // Uploaded as the plugin would: its chunks once the event is stored, then checked.
        for (i, chunk) in bytes
            .chunks(liner_record::versions::CHUNK_BYTES as usize)
            .enumerate()
        {
            store.put_version_chunk(&project, &hash, i as u64, chunk, u64::MAX)?;
        }
        anyhow::ensure!(
            store.finish_version(&project, None, &hash, bytes.len() as u64)?,
            "the demo version does not hash to its name"
        );
        if take {
            approve.push((song, e.id));
        }
    }
    for (song, id) in approve {
        push(
            eve.0,
            eve.1,
            song,
            "Mix bus",
            None,
            Body::Verdict {
                target: id,
                verdict: Verdict::Approved,
                comment: "This is the one.".into(),
            },
        )?;
    }

    // Some of the executive's verdicts, the tracklist and the songs on the record.
    let mut said = Vec::new();
    for (i, target) in judged.iter().enumerate().take(4) {
        let (verdict, comment) = match i {
            0 => (Verdict::Approved, "Yes. Do it on every chorus."),
            1 => (Verdict::Approved, ""),
            2 => (Verdict::ChangesRequested, "Try 2:1 first, it pumps"),
            _ => (Verdict::Rejected, "Keep the double off the verse"),
        };
        let e = push(
            eve.0,
            eve.1,
            "Night Drive",
            "",
            None,
            Body::Verdict {
                target: *target,
                verdict,
                comment: comment.into(),
            },
        )?;
        said.push(e.id);
    }
    // A thread, and the way back: Ana answers the changes request with done.
    let reply = |target: Uuid, text: &str| {
        Body::ReplyAdded(liner_record::event::ReplyAdded {
            target,
            text: text.into(),
        })
    };
    push(
        kim.0,
        kim.1,
        "Night Drive",
        "Lead vox",
        None,
        reply(
            judged[0],
            "Love the double, can we keep the breath before it?",
        ),
    )?;
    push(
        sam.0,
        sam.1,
        "Night Drive",
        "Lead vox",
        None,
        reply(judged[0], "Yes, it stays."),
    )?;
    push(
        ana.0,
        ana.1,
        "Night Drive",
        "Drum bus",
        None,
        reply(
            judged[2],
            "2:1 still pumps on the snare; trying 3:1 with a slower release.",
        ),
    )?;
    push(
        ana.0,
        ana.1,
        "Night Drive",
        "Drum bus",
        None,
        Body::MarkedDone(liner_record::event::MarkedDone {
            target: judged[2],
            answers: said[2],
            version: None,
            comment: "3:1, release 7, 2 dB less".into(),
        }),
    )?;
    push(
        eve.0,
        eve.1,
        "",
        "",
        None,
        Body::TracklistOrder {
            songs: vec![
                "Paper Moons".into(),
                "Night Drive".into(),
                "Low Tide".into(),
            ],
        },
    )?;
    for (song, selected) in [
        ("Paper Moons", true),
        ("Night Drive", true),
        ("Low Tide", false),
    ] {
        push(
            eve.0,
            eve.1,
            song,
            "",
            None,
            Body::SongSelection {
                song: song.into(),
                selected,
            },
        )?;
    }
    Ok(exec_secret)
}
