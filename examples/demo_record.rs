//! Writes a small, realistic project record (notes, EQ/FX decisions, marks, rated takes and the
//! executive's verdicts) into the journal under `$LINER_NOTES_DATA_DIR`, and makes it the
//! last-used project in `$LINER_NOTES_CONFIG_DIR`, so a new plugin instance opens on it.
//! Used by `cargo xtask screenshot`.

use liner_record::event::{
    Anchor, Body, Category, Context, DawPos, Decision, NoteAdded, Rating, Setting, TakeRef, Verdict,
};
use liner_record::settings::{config_dir, Settings};
use liner_record::{Event, Journal, Role};
use uuid::Uuid;

const PROJECT: &str = "Night Drive EP";
const SONG: &str = "Night Drive";

fn at(seconds: f64) -> DawPos {
    // 96 bpm in 4/4: 1.6 beats a second.
    let beats = seconds * 1.6;
    DawPos {
        samples: Some((seconds * 48_000.0) as i64),
        seconds: Some(seconds),
        beats: Some(beats),
        bar: Some((beats / 4.0).floor() as i32 + 1),
        beat: Some(beats % 4.0 + 1.0),
        tempo: Some(96.0),
        time_sig: Some((4, 4)),
        playing: true,
        recording: false,
    }
}

fn main() -> anyhow::Result<()> {
    let session = Uuid::now_v7();
    let ctx = |author: &str, role: Role, track: &str| Context {
        project: PROJECT.into(),
        song: SONG.into(),
        track: track.into(),
        session,
        author: author.into(),
        role,
    };
    let sam = ctx("Sam", Role::Producer, "Lead vox");
    let alex = ctx("Alex", Role::Engineer, "Drum bus");
    let jo = ctx("Jo", Role::Executive, "");
    let mut t = liner_record::event::now_ms() - 3_600_000;
    let mut events = Vec::new();
    let mut push = |mut e: Event| {
        t += 61_000;
        e.at = t;
        events.push(e.clone());
        e
    };
    let note = |c: &Context, text: &str, category: Category, pos: DawPos, take: Option<TakeRef>| {
        Event::new(
            c,
            Some(pos),
            Body::NoteAdded(NoteAdded {
                text: text.into(),
                category,
                anchor: Some(Anchor::Point { at: pos }),
                take,
                private: false,
                version: None,
                guest: None,
            }),
        )
    };
    let vox = Uuid::now_v7();
    let mut starts = Vec::new();
    for n in 1..=3u32 {
        let take = TakeRef {
            instance: vox,
            number: n,
        };
        starts.push(push(Event::new(&sam, Some(at(20.0)), Body::TakeStarted { take })).id);
        push(Event::new(&sam, Some(at(95.0)), Body::TakeEnded { take }));
    }
    let rate = |take: u32, rating, stars, note: &str| {
        Event::new(
            &sam,
            None,
            Body::TakeRated {
                take: TakeRef {
                    instance: vox,
                    number: take,
                },
                rating,
                stars: Some(stars),
                note: Some(note.into()),
            },
        )
    };
    push(rate(1, Rating::Scratch, 2, "pitchy in the pre-chorus"));
    push(rate(2, Rating::Maybe, 3, "good energy, late on the bridge"));
    push(rate(3, Rating::Keeper, 5, "the one: ad-libs at the end"));
    let intro = push(note(
        &sam,
        "Kick drags behind the beat in the intro",
        Category::Arrangement,
        at(4.2),
        None,
    ));
    let pitch = push(note(
        &sam,
        "Lift the chorus vocal a touch, it sits under the guitars",
        Category::Vocal,
        at(41.5),
        Some(TakeRef {
            instance: vox,
            number: 3,
        }),
    ));
    push(note(
        &alex,
        "Tape hiss on the piano DI from 1:10",
        Category::Technical,
        at(70.0),
        None,
    ));
    let eq = push(Event::new(
        &alex,
        Some(at(52.0)),
        Body::EqDecision(Decision {
            processor: "Pro-Q 3".into(),
            settings: vec![
                Setting {
                    name: "band 2 bell 280 Hz".into(),
                    value: Some(-3.5),
                    text: None,
                    unit: Some("dB".into()),
                },
                Setting {
                    name: "high shelf 10 kHz".into(),
                    value: Some(1.5),
                    text: None,
                    unit: Some("dB".into()),
                },
            ],
            reason: "boxy low mids on the drum bus".into(),
        }),
    ));
    push(Event::new(
        &alex,
        Some(at(60.0)),
        Body::FxDecision(Decision {
            processor: "1176".into(),
            settings: vec![
                Setting {
                    name: "ratio".into(),
                    value: Some(4.0),
                    text: None,
                    unit: Some(":1".into()),
                },
                Setting {
                    name: "attack".into(),
                    value: None,
                    text: Some("slowest".into()),
                    unit: None,
                },
            ],
            reason: "keep the snare crack, tame the room".into(),
        }),
    ));
    push(Event::new(
        &sam,
        Some(at(33.4)),
        Body::Mark {
            instance: vox,
            number: 1,
            label: None,
        },
    ));
    push(Event::new(
        &sam,
        Some(at(88.0)),
        Body::Mark {
            instance: vox,
            number: 2,
            label: Some("count-in too long".into()),
        },
    ));
    let verdict = |target: Uuid, verdict, comment: &str| {
        Event::new(
            &jo,
            None,
            Body::Verdict {
                target,
                verdict,
                comment: comment.into(),
            },
        )
    };
    push(verdict(starts[2], Verdict::Approved, "Take 3 it is."));
    push(verdict(
        pitch.id,
        Verdict::ChangesRequested,
        "Half a dB, not more",
    ));
    push(verdict(eq.id, Verdict::Approved, "Much clearer"));
    push(verdict(
        intro.id,
        Verdict::Rejected,
        "That drag is the feel, keep it",
    ));
    push(note(
        &sam,
        "Try the bridge without the pad",
        Category::Arrangement,
        at(112.0),
        None,
    ));

    let journal = Journal::open_project(PROJECT)?;
    journal.append(&events)?;
    let dir = config_dir().ok_or_else(|| anyhow::anyhow!("no config folder"))?;
    Settings {
        project: PROJECT.into(),
        song: SONG.into(),
        track: "Lead vox".into(),
        author: "Sam".into(),
        role: Role::Producer,
        server_url: String::new(),
    }
    .remember_in(&dir)?;
    println!(
        "wrote {} events to {}",
        events.len(),
        journal.dir().display()
    );
    Ok(())
}
