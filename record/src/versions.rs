//! Versions: a song's mix as printed from the DAW, reviewed on the page and approved by its
//! exact audio.
//!
//! An instance (usually on the mix bus) prints the audio passing through it from a transport
//! start to its stop; the worker streams it into a FLAC file (24-bit, the instance's rate
//! and channels, never the whole song in memory), measures its loudness (EBU R128:
//! integrated, range, true peak) and a waveform summary ([`Peaks`]), and records a
//! `version_printed` event ([`VersionPrinted`]): the audio ([`Version`], named by the SHA-256
//! of the file like a clip), where it starts on the DAW's timeline with the tempo map it
//! covers, and any audio the audio thread could not hand over ([`Gap`]; a version with gaps
//! is never offered as clean). The journal keeps version files in `versions/<hash>.flac`.
//!
//! An approval is an ordinary verdict whose target is the `version_printed` event: it is
//! pinned to that event's hash, so a newer print does not inherit it. A song's *selected*
//! version is its newest approved one ([`crate::views`]).
//!
//! Everything here is checked when read ([`Version`] cannot hold an invalid description).

use crate::clips::{ClipFormat, ClipHash, CLIP_SAMPLE_RATES};
use crate::event::DawPos;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use uuid::Uuid;

/// Longest version: a long live set or a side of a record, with room.
pub const MAX_VERSION_SECONDS: u64 = 4 * 60 * 60;
/// Largest version file: four hours of 24-bit stereo at 96 kHz, uncompressed, plus framing
/// (FLAC never stores more than the raw samples: frames that would are written verbatim).
pub const MAX_VERSION_BYTES: u64 = 8 * 1024 * 1024 * 1024;
/// Upload pieces: a version is sent, stored and resumed in chunks of this size (the last one
/// shorter), so an interrupted upload goes on from the last whole chunk.
pub const CHUNK_BYTES: u64 = 1024 * 1024;
/// Most pairs in a waveform summary: about one per pixel of a wide screen.
pub const MAX_PEAKS: usize = 4096;
/// Pairs the plugin makes (fewer for a version shorter than this many blocks of audio).
pub const PEAKS: usize = 2000;
/// Most tempo points one version carries.
pub const MAX_TEMPO_POINTS: usize = 1000;
/// Most gaps one version lists (more are summed into the last).
pub const MAX_GAPS: usize = 100;
/// Longest label ("v3", "v3 vocal up", ...).
pub const MAX_LABEL_CHARS: usize = 100;

/// Loudness as EBU R128 measures it. `None` where the audio is too short or silent to have
/// a value (integrated loudness of silence is minus infinity).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Loudness {
    /// Integrated loudness, LUFS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integrated: Option<f64>,
    /// Loudness range, LU.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range: Option<f64>,
    /// True peak over all channels, dBTP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub true_peak: Option<f64>,
}

impl Loudness {
    /// Integrated loudness in words: `-14.2 LUFS`, or `–` where there is none.
    pub fn lufs_words(&self) -> String {
        lufs_words(self.integrated)
    }

    /// True peak in words: `-0.9 dBTP`, or `–`.
    pub fn true_peak_words(&self) -> String {
        self.true_peak
            .map_or("–".into(), |v| format!("{v:.1} dBTP"))
    }

    fn check(&self) -> Result<(), String> {
        let ok = |v: Option<f64>, lo: f64, hi: f64| {
            v.is_none_or(|v| v.is_finite() && (lo..=hi).contains(&v))
        };
        if !ok(self.integrated, -200.0, 30.0)
            || !ok(self.range, 0.0, 200.0)
            || !ok(self.true_peak, -200.0, 60.0)
        {
            return Err("a version's loudness is out of range".into());
        }
        Ok(())
    }
}

/// A loudness in LUFS in words (`-14.2 LUFS`, `–` for none): one wording for the page, the
/// editor and the logs.
pub fn lufs_words(lufs: Option<f64>) -> String {
    lufs.map_or("–".into(), |v| format!("{v:.1} LUFS"))
}

/// A waveform summary: for each of `len` equal stretches of the version, the lowest and the
/// highest sample over all channels, scaled to -127..=127 (full scale). Serialized as a flat
/// list `[min0, max0, min1, max1, ...]`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(try_from = "Vec<i8>", into = "Vec<i8>")]
pub struct Peaks(Vec<(i8, i8)>);

impl Peaks {
    pub fn pairs(&self) -> &[(i8, i8)] {
        &self.0
    }

    /// Sums fine peaks (per stretch, full-scale floats) into at most `most` pairs.
    pub fn summarize(fine: &[(f32, f32)], most: usize) -> Peaks {
        let most = most.clamp(1, MAX_PEAKS);
        let n = fine.len().min(most);
        if n == 0 {
            return Peaks(Vec::new());
        }
        let scale = |x: f32| (x.clamp(-1.0, 1.0) * 127.0).round() as i8;
        let pairs = (0..n)
            .map(|i| {
                let (a, b) = (
                    i * fine.len() / n,
                    ((i + 1) * fine.len() / n).max(i * fine.len() / n + 1),
                );
                let (lo, hi) = fine[a..b]
                    .iter()
                    .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &(l, h)| {
                        (lo.min(l), hi.max(h))
                    });
                (scale(lo), scale(hi))
            })
            .collect();
        Peaks(pairs)
    }
}

impl TryFrom<Vec<i8>> for Peaks {
    type Error = String;
    fn try_from(flat: Vec<i8>) -> Result<Peaks, String> {
        if !flat.len().is_multiple_of(2) || flat.len() / 2 > MAX_PEAKS {
            return Err(format!(
                "a waveform summary is at most {MAX_PEAKS} (min, max) pairs, as a flat list"
            ));
        }
        let pairs: Vec<(i8, i8)> = flat.chunks(2).map(|p| (p[0], p[1])).collect();
        if pairs.iter().any(|&(lo, hi)| lo > hi || lo < -127) {
            return Err("a waveform summary's pairs are (min, max) in -127..=127".into());
        }
        Ok(Peaks(pairs))
    }
}

impl From<Peaks> for Vec<i8> {
    fn from(p: Peaks) -> Vec<i8> {
        p.0.into_iter().flat_map(|(a, b)| [a, b]).collect()
    }
}

/// Audio the audio thread could not hand over while printing (the worker fell behind at real
/// time): `frames` frames of silence stand in for it from `frame` (frames from the version's
/// start).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gap {
    pub frame: u64,
    pub frames: u64,
}

/// Audio lost while printing in words: `"12 ms lost at 0:00:41.200 (and 2 more places)"`;
/// `None` for a clean version. One wording for the page, the editor and the logs.
pub fn loss_words(gaps: &[Gap], sample_rate: u32) -> Option<String> {
    let first = gaps.first()?;
    let rate = sample_rate.max(1) as f64;
    let lost: u64 = gaps.iter().map(|g| g.frames).sum();
    let more = match gaps.len() {
        1 => String::new(),
        n => format!(" (and {} more places)", n - 1),
    };
    Some(format!(
        "{:.0} ms lost at {}{more}",
        lost as f64 * 1000.0 / rate,
        crate::position::format_time(first.frame as f64 / rate)
    ))
}

/// The audio of a version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "VersionWire")]
pub struct Version {
    pub hash: ClipHash,
    pub format: ClipFormat,
    pub sample_rate: u32,
    /// 1 or 2.
    pub channels: u8,
    /// Length in frames.
    pub frames: u64,
    /// Size of the file.
    pub bytes: u64,
    pub loudness: Loudness,
    pub peaks: Peaks,
}

#[derive(Deserialize)]
struct VersionWire {
    hash: ClipHash,
    format: ClipFormat,
    sample_rate: u32,
    channels: u8,
    frames: u64,
    bytes: u64,
    #[serde(default)]
    loudness: Loudness,
    #[serde(default)]
    peaks: Peaks,
}

impl TryFrom<VersionWire> for Version {
    type Error = String;
    fn try_from(w: VersionWire) -> Result<Version, String> {
        let v = Version {
            hash: w.hash,
            format: w.format,
            sample_rate: w.sample_rate,
            channels: w.channels,
            frames: w.frames,
            bytes: w.bytes,
            loudness: w.loudness,
            peaks: w.peaks,
        };
        v.check()?;
        Ok(v)
    }
}

impl Version {
    pub fn seconds(&self) -> f64 {
        self.frames as f64 / self.sample_rate as f64
    }

    /// The file name under `versions/`.
    pub fn file_name(&self) -> String {
        format!("{}.{}", self.hash, self.format.extension())
    }

    /// How many upload chunks the file is.
    pub fn chunks(&self) -> u64 {
        chunks_of(self.bytes)
    }

    fn check(&self) -> Result<(), String> {
        if !CLIP_SAMPLE_RATES.contains(&self.sample_rate) {
            return Err(format!(
                "a version's sample rate is {}..={} Hz, not {}",
                CLIP_SAMPLE_RATES.start(),
                CLIP_SAMPLE_RATES.end(),
                self.sample_rate
            ));
        }
        if !(1..=2).contains(&self.channels) {
            return Err(format!(
                "a version has 1 or 2 channels, not {}",
                self.channels
            ));
        }
        if self.frames == 0 || self.frames > MAX_VERSION_SECONDS * self.sample_rate as u64 {
            return Err(format!(
                "a version is longer than nothing and at most {} hours long",
                MAX_VERSION_SECONDS / 3600
            ));
        }
        if self.bytes == 0 || self.bytes > MAX_VERSION_BYTES {
            return Err(format!(
                "a version file is 1..={MAX_VERSION_BYTES} bytes, not {}",
                self.bytes
            ));
        }
        self.loudness.check()
    }
}

/// How many upload chunks a file of `bytes` bytes is.
pub fn chunks_of(bytes: u64) -> u64 {
    bytes.div_ceil(CHUNK_BYTES)
}

/// Where chunk `index` of a file of `bytes` bytes lies: its first byte and its length
/// ([`CHUNK_BYTES`], the last one shorter); `None` past the last chunk. The one rule the
/// uploader and the server both size chunks by.
pub fn chunk_span(bytes: u64, index: u64) -> Option<(u64, u64)> {
    let start = index.checked_mul(CHUNK_BYTES)?;
    (start < bytes).then(|| (start, CHUNK_BYTES.min(bytes - start)))
}

/// The body of a `version_printed` event (the song is the event's).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "PrintedWire")]
pub struct VersionPrinted {
    /// "v1", "v2", ...: numbered per song by the printing instance, editable.
    pub label: String,
    pub version: Version,
    /// Where the version's first sample sits on the DAW's timeline.
    pub start: DawPos,
    /// The timeline positions (seconds, beats, tempo, time signature, bar and beat where the
    /// host gave them) at the start and at each tempo or meter change while printing: with
    /// [`crate::position::TempoMap::from_positions`] any time in the version maps to
    /// bars.beats.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tempo: Vec<DawPos>,
    /// Audio lost at real time. Empty for a clean version.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gaps: Vec<Gap>,
    /// Printed by an offline (faster than real time) render.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub offline: bool,
}

#[derive(Deserialize)]
struct PrintedWire {
    label: String,
    version: Version,
    start: DawPos,
    #[serde(default)]
    tempo: Vec<DawPos>,
    #[serde(default)]
    gaps: Vec<Gap>,
    #[serde(default)]
    offline: bool,
}

impl TryFrom<PrintedWire> for VersionPrinted {
    type Error = String;
    fn try_from(w: PrintedWire) -> Result<VersionPrinted, String> {
        if w.label.trim().is_empty() || w.label.chars().count() > MAX_LABEL_CHARS {
            return Err(format!(
                "a version's label is 1..={MAX_LABEL_CHARS} characters"
            ));
        }
        if w.tempo.len() > MAX_TEMPO_POINTS {
            return Err(format!(
                "a version carries at most {MAX_TEMPO_POINTS} tempo points"
            ));
        }
        if w.gaps.len() > MAX_GAPS
            || w.gaps
                .iter()
                .any(|g| g.frames == 0 || g.frame.saturating_add(g.frames) > w.version.frames)
        {
            return Err(format!(
                "a version lists at most {MAX_GAPS} gaps, each inside it"
            ));
        }
        Ok(VersionPrinted {
            label: w.label,
            version: w.version,
            start: w.start,
            tempo: w.tempo,
            gaps: w.gaps,
            offline: w.offline,
        })
    }
}

impl VersionPrinted {
    /// Whether the version holds every sample that passed through while it printed.
    pub fn clean(&self) -> bool {
        self.gaps.is_empty()
    }

    /// Frames lost in all.
    pub fn lost_frames(&self) -> u64 {
        self.gaps.iter().map(|g| g.frames).sum()
    }

    /// What was lost, in words ([`loss_words`]); `None` for a clean version.
    pub fn loss_words(&self) -> Option<String> {
        loss_words(&self.gaps, self.version.sample_rate)
    }

    /// The DAW time (seconds on the timeline) `at` seconds into the version, where the host
    /// gave seconds.
    pub fn daw_seconds(&self, at: f64) -> Option<f64> {
        self.start.seconds.map(|s| s + at)
    }

    /// Seconds into the version of a DAW position, if it falls inside it.
    pub fn offset_of(&self, pos: &DawPos) -> Option<f64> {
        let at = pos.seconds? - self.start.seconds?;
        (0.0..=self.version.seconds()).contains(&at).then_some(at)
    }
}

/// The body of a `version_labeled` event: a new label for a version (by the author of its
/// `version_printed` event, as edits are).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionLabeled {
    /// The id of the `version_printed` event.
    pub target: Uuid,
    pub label: String,
}

/// A journal's version files: `versions/<hash>.flac` beside `events.log`; a print in progress
/// is `versions/<id>.part` until it is finished and named by its hash.
#[derive(Debug, Clone)]
pub struct VersionStore {
    dir: PathBuf,
}

impl VersionStore {
    pub fn of_journal(journal_dir: &Path) -> VersionStore {
        VersionStore {
            dir: journal_dir.join("versions"),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn path(&self, version: &Version) -> PathBuf {
        self.dir.join(version.file_name())
    }

    /// Where a print in progress is written.
    pub fn part_path(&self, id: Uuid) -> PathBuf {
        self.dir.join(format!("{id}.part"))
    }
}

/// SHA-256 of a file, read in pieces (a version may be gigabytes).
///
/// # Errors
/// The file cannot be read.
///
/// # Panics
/// Never: a SHA-256 in lowercase hex is always a valid [`ClipHash`].
pub fn hash_file(path: &Path) -> std::io::Result<(ClipHash, u64)> {
    use sha2::{Digest, Sha256};
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut len = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        len += n as u64;
        hasher.update(&buf[..n]);
    }
    Ok((ClipHash::of_digest(hasher), len))
}

#[cfg(feature = "encode")]
pub use crate::versions_encode::{PrintError, VersionWriter};

#[cfg(test)]
mod tests {
    use super::*;

    fn printed_json() -> serde_json::Value {
        serde_json::json!({
            "label": "v1",
            "version": {
                "hash": "a".repeat(64), "format": "flac", "sample_rate": 48000,
                "channels": 2, "frames": 480000, "bytes": 1000000,
                "loudness": {"integrated": -14.2, "range": 6.5, "true_peak": -0.9},
                "peaks": [-10, 10, -127, 127]
            },
            "start": {"seconds": 12.0, "beats": 24.0, "tempo": 120.0, "time_sig": [4, 4]},
            "gaps": [{"frame": 100, "frames": 64}]
        })
    }

    #[test]
    fn a_version_description_is_checked_when_read() {
        let ok: VersionPrinted = serde_json::from_value(printed_json()).unwrap();
        assert_eq!(ok.version.peaks.pairs(), &[(-10, 10), (-127, 127)]);
        assert!(!ok.clean());
        assert_eq!(ok.lost_frames(), 64);
        let bad = |edit: &dyn Fn(&mut serde_json::Value)| {
            let mut j = printed_json();
            edit(&mut j);
            serde_json::from_value::<VersionPrinted>(j).is_err()
        };
        assert!(bad(&|j| j["version"]["channels"] = 3.into()));
        assert!(bad(&|j| j["version"]["frames"] = 0.into()));
        assert!(bad(&|j| j["version"]["peaks"] = serde_json::json!([5, -5])));
        assert!(bad(&|j| j["version"]["peaks"] = serde_json::json!([1])));
        assert!(bad(&|j| j["version"]["loudness"]["integrated"] = 1e9.into()));
        assert!(bad(&|j| j["label"] = "  ".into()));
        assert!(bad(
            &|j| j["gaps"] = serde_json::json!([{"frame": 479990, "frames": 64}])
        ));
        assert!(bad(&|j| j["version"]["hash"] = "A".repeat(64).into()));
    }

    #[test]
    fn a_position_maps_into_the_version_only_inside_it() {
        let v: VersionPrinted = serde_json::from_value(printed_json()).unwrap();
        let at = |s: f64| {
            v.offset_of(&DawPos {
                seconds: Some(s),
                ..DawPos::default()
            })
        };
        assert_eq!(at(12.0), Some(0.0));
        assert_eq!(at(17.5), Some(5.5));
        assert_eq!(at(11.9), None);
        assert_eq!(at(22.5), None, "the version is 10 s long");
    }

    #[test]
    fn chunks_cover_the_file_exactly_once() {
        assert_eq!(chunk_span(10, 0), Some((0, 10)));
        assert_eq!(chunk_span(10, 1), None);
        assert_eq!(chunk_span(CHUNK_BYTES, 0), Some((0, CHUNK_BYTES)));
        assert_eq!(chunk_span(CHUNK_BYTES, 1), None);
        assert_eq!(chunk_span(CHUNK_BYTES + 1, 1), Some((CHUNK_BYTES, 1)));
        assert_eq!(chunk_span(0, 0), None);
        assert_eq!(chunk_span(u64::MAX, u64::MAX), None);
        let bytes = 5 * CHUNK_BYTES + 77;
        let total: u64 = (0..chunks_of(bytes))
            .map(|i| chunk_span(bytes, i).unwrap().1)
            .sum();
        assert_eq!(total, bytes);
    }

    #[test]
    fn peaks_are_summed_not_sampled() {
        let mut fine = vec![(0.0f32, 0.0f32); 10_000];
        fine[4321] = (-1.0, 0.5);
        let p = Peaks::summarize(&fine, 100);
        assert_eq!(p.pairs().len(), 100);
        assert_eq!(p.pairs()[43], (-127, 64));
        assert_eq!(p.pairs().iter().filter(|&&x| x != (0, 0)).count(), 1);
        assert_eq!(Peaks::summarize(&fine[..10], 100).pairs().len(), 10);
    }
}
