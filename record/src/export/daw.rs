//! Files DAWs import: REAPER region/marker CSV, Audacity labels, Standard MIDI File markers.
//! Entries without a DAW position cannot be placed; they are counted in `left_out`.

use super::entries::Entry;
use super::Exported;
use crate::event::{Event, Verdict};
use crate::position::TempoMap;

/// A marker's colour by verdict, as the files write it (`RRGGBB`; open = the DAW's default).
pub fn verdict_color(v: Option<Verdict>) -> String {
    v.map(|v| {
        let [r, g, b] = verdict_rgb(v);
        format!("{r:02X}{g:02X}{b:02X}")
    })
    .unwrap_or_default()
}

/// Approved = green, rejected = red, changes requested = orange.
fn verdict_rgb(v: Verdict) -> [u8; 3] {
    match v {
        Verdict::Approved => [0x00, 0xC0, 0x00],
        Verdict::Rejected => [0xFF, 0x00, 0x00],
        Verdict::ChangesRequested => [0xFF, 0x80, 0x00],
    }
}

/// A marker's colour by where its item stands with the executive, for a DAW's timeline
/// (REAPER's live markers): the verdicts' colours of the files, blue for open, purple for
/// done (changes made, up for review again), grey for what nobody reviews (a mark). Never the
/// DAW's default colour, so every standing can be told apart and set back.
pub fn standing_rgb(standing: Option<crate::review::Standing>) -> [u8; 3] {
    use crate::review::Standing;
    match standing {
        None => [0x90, 0x90, 0x90],
        Some(Standing::Open) => [0x40, 0x80, 0xE0],
        Some(Standing::Recheck) => [0xA0, 0x50, 0xE0],
        Some(Standing::Decided(v)) => verdict_rgb(v),
    }
}

/// A one-line label: who and what, every control character (line breaks, tabs, the rest)
/// flattened to a space in every part of it, so no field can start a line or a column of its
/// own in a line-based format.
fn label(e: &Entry) -> String {
    let mut l = format!("{}: {}", e.author, e.text.as_str().trim());
    if let Some(v) = &e.verdict {
        l.push_str(&format!(" [{}]", v.verdict.as_str()));
    }
    l.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// REAPER's Region/Marker Manager CSV: `#,Name,Start,End,Length,Color`; markers `M1`... with
/// End and Length empty, regions `R1`... for ranges and takes; times `H:MM:SS.mmm`.
pub fn reaper(entries: &[Entry]) -> Exported {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    w.write_record(["#", "Name", "Start", "End", "Length", "Color"])
        .expect("writing to memory");
    let mut placed: Vec<&Entry> = entries.iter().filter(|e| e.start.is_some()).collect();
    placed.sort_by(|a, b| {
        a.start
            .unwrap()
            .seconds
            .total_cmp(&b.start.unwrap().seconds)
            .then((a.at, a.id).cmp(&(b.at, b.id)))
    });
    let (mut markers, mut regions) = (0, 0);
    for e in &placed {
        let start = e.start.unwrap();
        let color = verdict_color(e.verdict.as_ref().map(|v| v.verdict));
        match e.end.filter(|end| end.seconds > start.seconds) {
            Some(end) => {
                regions += 1;
                w.write_record([
                    format!("R{regions}"),
                    super::table::inert(&label(e)).into_owned(),
                    start.time(),
                    end.time(),
                    crate::position::format_time(end.seconds - start.seconds),
                    color,
                ])
            }
            None => {
                markers += 1;
                w.write_record([
                    format!("M{markers}"),
                    super::table::inert(&label(e)).into_owned(),
                    start.time(),
                    String::new(),
                    String::new(),
                    color,
                ])
            }
        }
        .expect("writing to memory");
    }
    Exported {
        bytes: w.into_inner().expect("writing to memory"),
        left_out: entries.len() - placed.len(),
    }
}

/// Audacity labels: `start<TAB>end<TAB>text`, seconds with six decimals; a point label has
/// start == end.
pub fn audacity(entries: &[Entry]) -> Exported {
    let mut out = String::new();
    let mut placed = 0;
    for e in entries {
        let Some(start) = e.start else { continue };
        placed += 1;
        let end = e
            .end
            .map_or(start.seconds, |t| t.seconds.max(start.seconds));
        out.push_str(&format!("{:.6}\t{:.6}\t{}\n", start.seconds, end, label(e)));
    }
    Exported {
        bytes: out.into_bytes(),
        left_out: entries.len() - placed,
    }
}

/// Ticks per quarter note in the exported MIDI file.
pub const PPQ: u16 = 960;

/// Standard MIDI File, format 1: track 1 is the tempo map (tempo and time signature from the
/// record's positions, 120 bpm 4/4 when none was reported), track 2 has a Marker meta event
/// (`FF 06`) at each entry's position.
pub fn midi(entries: &[Entry], events: &[Event]) -> Exported {
    use midly::{Format, Header, MetaMessage, Smf, Timing, TrackEvent, TrackEventKind};
    let map = TempoMap::from_positions(events.iter().filter_map(|e| e.pos.as_ref()))
        .unwrap_or_else(|| TempoMap::constant(120.0, (4, 4)));
    let tick = |beats: f64| (beats.max(0.0) * PPQ as f64).round() as u64;

    // Absolute ticks, then delta-encoded per track.
    let mut tempo_events: Vec<(u64, MetaMessage)> = Vec::new();
    for c in map.changes() {
        let micros = (60_000_000.0 / c.tempo).round().clamp(1.0, 16_777_215.0) as u32;
        let t = tick(c.beats);
        tempo_events.push((t, MetaMessage::Tempo(micros.into())));
        let den_pow = (c.sig.1.max(1) as f64).log2().round() as u8;
        tempo_events.push((
            t,
            MetaMessage::TimeSignature(c.sig.0.min(255) as u8, den_pow, 24, 8),
        ));
    }
    let labels: Vec<(u64, String)> = entries
        .iter()
        .filter_map(|e| {
            let start = e.start?;
            let beats = start.beats.unwrap_or_else(|| map.beats_at(start.seconds));
            Some((tick(beats), label(e)))
        })
        .collect();
    let left_out = entries.len() - labels.len();
    let mut marker_events: Vec<(u64, MetaMessage)> = labels
        .iter()
        .map(|(t, text)| (*t, MetaMessage::Marker(text.as_bytes())))
        .collect();
    marker_events.sort_by_key(|(t, _)| *t);

    fn to_track<'a>(mut abs: Vec<(u64, MetaMessage<'a>)>, name: &'a [u8]) -> Vec<TrackEvent<'a>> {
        abs.sort_by_key(|(t, _)| *t);
        let mut track = vec![TrackEvent {
            delta: 0.into(),
            kind: TrackEventKind::Meta(MetaMessage::TrackName(name)),
        }];
        let mut last = 0u64;
        for (t, m) in abs {
            let delta = (t - last).min(0x0FFF_FFFF) as u32;
            last = t;
            track.push(TrackEvent {
                delta: delta.into(),
                kind: TrackEventKind::Meta(m),
            });
        }
        track.push(TrackEvent {
            delta: 0.into(),
            kind: TrackEventKind::Meta(MetaMessage::EndOfTrack),
        });
        track
    }
    let smf = Smf {
        header: Header::new(Format::Parallel, Timing::Metrical(PPQ.into())),
        tracks: vec![
            to_track(tempo_events, b"Tempo map"),
            to_track(marker_events, b"Liner Notes"),
        ],
    };
    let mut bytes = Vec::new();
    smf.write_std(&mut bytes).expect("writing to memory");
    Exported { bytes, left_out }
}
