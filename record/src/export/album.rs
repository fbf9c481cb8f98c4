//! The album as files: the selected version of each song on the record, in the executive's
//! order, named `01 Night Drive (v3).flac`, with a playlist (`album.m3u8`) and the sequence
//! sheet (`sequence.md`: each song's version, content hash, length, start in the album,
//! loudness, true peak, who approved it and when; the running time; songs far from the
//! median loudness flagged). The review page's album player plays the same tracks.

use crate::position::format_time;
use crate::views::{VersionView, Views};
use std::fmt::Write as _;

/// How far from the album's median integrated loudness a song may sit before it is flagged.
pub const LOUDNESS_SPREAD_LU: f64 = 2.0;
/// Longest song name in a file name.
const NAME_CHARS: usize = 80;

/// One song of the album.
#[derive(Debug, Clone)]
pub struct AlbumTrack<'a> {
    /// 1-based place on the album.
    pub number: usize,
    pub song: String,
    /// Its selected (newest approved) version.
    pub selected: Option<&'a VersionView>,
    /// Its newest print, approved or not.
    pub newest: Option<&'a VersionView>,
}

impl<'a> AlbumTrack<'a> {
    /// What plays for the song on the page: the selected version, else the newest print.
    pub fn playing(&self) -> Option<&'a VersionView> {
        self.selected.or(self.newest)
    }

    /// The file the selected version gets: `01 Night Drive (v3).flac`. Only letters, digits,
    /// spaces and `-(),'&`, so no name can leave the folder or need quoting in a playlist.
    pub fn file_name(&self, width: usize) -> Option<String> {
        let v = self.selected?;
        let keep = [' ', '-', '(', ')', ',', '\'', '&'];
        Some(format!(
            "{:0width$} {} ({}).{}",
            self.number,
            crate::names::safe_name(&self.song, &keep, NAME_CHARS),
            crate::names::safe_name(&v.label, &keep, NAME_CHARS),
            v.printed.version.format.extension()
        ))
    }
}

/// The album's songs in order ([`Views::album_songs`]).
pub fn album(views: &Views) -> Vec<AlbumTrack<'_>> {
    views
        .album_songs()
        .into_iter()
        .enumerate()
        .map(|(i, song)| AlbumTrack {
            number: i + 1,
            selected: views.selected_version(&song),
            newest: views.versions_of(&song).next(),
            song,
        })
        .collect()
}

/// Digits of the track numbers (at least two).
pub fn number_width(tracks: &[AlbumTrack<'_>]) -> usize {
    tracks.len().to_string().len().max(2)
}

/// The median integrated loudness of the given versions, where they have one.
pub fn median_lufs<'a>(versions: impl IntoIterator<Item = &'a VersionView>) -> Option<f64> {
    let mut l: Vec<f64> = versions
        .into_iter()
        .filter_map(|v| v.printed.version.loudness.integrated)
        .collect();
    if l.is_empty() {
        return None;
    }
    l.sort_by(f64::total_cmp);
    let n = l.len();
    Some(if n % 2 == 1 {
        l[n / 2]
    } else {
        (l[n / 2 - 1] + l[n / 2]) / 2.0
    })
}

/// How far a version sits from the median, when that is more than [`LOUDNESS_SPREAD_LU`].
pub fn loudness_flag(v: &VersionView, median: Option<f64>) -> Option<f64> {
    let d = v.printed.version.loudness.integrated? - median?;
    (d.abs() > LOUDNESS_SPREAD_LU).then_some(d)
}

/// An extended M3U playlist of the selected versions, in order (UTF-8).
pub fn playlist(tracks: &[AlbumTrack<'_>]) -> String {
    let width = number_width(tracks);
    let mut o = String::from("#EXTM3U\n");
    for t in tracks {
        let (Some(v), Some(name)) = (t.selected, t.file_name(width)) else {
            continue;
        };
        let title = format!("{} ({})", t.song, v.label).replace(['\n', '\r'], " ");
        let _ = writeln!(
            o,
            "#EXTINF:{:.0},{title}\n{name}",
            v.printed.version.seconds()
        );
    }
    o
}

/// The sequence sheet, in Markdown: one row per song, the running time, the flags.
pub fn sequence_sheet(project: &str, tracks: &[AlbumTrack<'_>]) -> String {
    let md = super::text::md;
    let median = median_lufs(tracks.iter().filter_map(|t| t.selected));
    let mut o = format!("# {} — sequence\n\n", md(project));
    o.push_str(
        "| # | song | version | starts | length | loudness | true peak | approved by | content hash (SHA-256) |\n\
         |---|---|---|---|---|---|---|---|---|\n",
    );
    let mut at = 0.0;
    let mut missing = Vec::new();
    for t in tracks {
        let Some(v) = t.selected else {
            missing.push(t.song.as_str());
            let _ = writeln!(
                o,
                "| {} | {} | none approved | | | | | | |",
                t.number,
                md(&t.song)
            );
            continue;
        };
        let a = &v.printed.version;
        let flag = loudness_flag(v, median)
            .map_or(String::new(), |d| format!(" ({d:+.1} LU from the median)"));
        let approved = v.verdict.as_ref().map_or(String::new(), |d| {
            format!("{}, {}", md(&d.author), super::date_time(d.at))
        });
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} | {}{} | {} | {} | `{}` |",
            t.number,
            md(&t.song),
            md(&v.label),
            format_time(at),
            format_time(a.seconds()),
            a.loudness.lufs_words(),
            flag,
            a.loudness.true_peak_words(),
            approved,
            a.hash
        );
        at += a.seconds();
    }
    let _ = write!(o, "\nRunning time {}", format_time(at));
    if let Some(m) = median {
        let _ = write!(
            o,
            "; median loudness {}",
            crate::versions::lufs_words(Some(m))
        );
    }
    o.push_str(".\n");
    if !missing.is_empty() {
        let _ = writeln!(
            o,
            "\nNo approved version yet (not in this album): {}.",
            missing.iter().map(|s| md(s)).collect::<Vec<_>>().join(", ")
        );
    }
    o
}
