//! Audio clips: a few seconds of the audio around a note, a decision or a mark, recorded by
//! the plugin (opt-in per instance) and attached to the event by a `clip_attached` event.
//!
//! A clip is a FLAC file (24-bit, the instance's sample rate and channels) named by the
//! SHA-256 of its bytes: the same bytes are the same clip everywhere, a server can check what
//! it is sent, and storing one twice is harmless. The journal keeps its clips in
//! `clips/<hash>.flac` beside `events.log`.
//!
//! What a clip may be is checked when its description is read ([`Clip`] cannot hold an
//! invalid one): 64 lowercase hex digits, a format this version plays, a sample rate and a
//! channel count the plugin records, at most [`MAX_CLIP_SECONDS`] long, the moment inside it,
//! at most [`MAX_CLIP_BYTES`].

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;
use std::path::{Path, PathBuf};

/// Longest clip: a range note's whole range is capped here.
pub const MAX_CLIP_SECONDS: u64 = 30;
/// Largest clip file: 30 s of 24-bit stereo at 192 kHz, uncompressed, plus FLAC's framing.
pub const MAX_CLIP_BYTES: u64 = 36 * 1024 * 1024;
/// Sample rates a clip may have.
pub const CLIP_SAMPLE_RATES: std::ops::RangeInclusive<u32> = 8_000..=192_000;
/// Bits per sample of every clip the plugin makes.
pub const CLIP_BITS: u32 = 24;

/// The SHA-256 of a clip's bytes as 64 lowercase hex digits.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ClipHash(String);

impl ClipHash {
    /// The hash of `bytes`.
    pub fn of(bytes: &[u8]) -> ClipHash {
        let digest = Sha256::digest(bytes);
        ClipHash(digest.iter().map(|b| format!("{b:02x}")).collect())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ClipHash {
    type Error = String;
    fn try_from(s: String) -> Result<ClipHash, String> {
        if s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            Ok(ClipHash(s))
        } else {
            Err("a clip hash is 64 lowercase hex digits (SHA-256)".into())
        }
    }
}

impl std::str::FromStr for ClipHash {
    type Err = String;
    fn from_str(s: &str) -> Result<ClipHash, String> {
        ClipHash::try_from(s.to_owned())
    }
}

impl From<ClipHash> for String {
    fn from(h: ClipHash) -> String {
        h.0
    }
}

impl fmt::Display for ClipHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How a clip's bytes are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClipFormat {
    /// Lossless, and played by every current browser's `<audio>`.
    Flac,
}

impl ClipFormat {
    pub fn extension(self) -> &'static str {
        match self {
            ClipFormat::Flac => "flac",
        }
    }

    pub fn mime(self) -> &'static str {
        match self {
            ClipFormat::Flac => "audio/flac",
        }
    }
}

/// What a `clip_attached` event says of its clip.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "ClipWire")]
pub struct Clip {
    pub hash: ClipHash,
    pub format: ClipFormat,
    pub sample_rate: u32,
    /// 1 or 2.
    pub channels: u8,
    /// Length in frames.
    pub frames: u64,
    /// The event's moment, in frames from the clip's start.
    pub moment: u64,
    /// Size of the file.
    pub bytes: u64,
}

impl Clip {
    pub fn seconds(&self) -> f64 {
        self.frames as f64 / self.sample_rate as f64
    }

    /// The moment in seconds from the clip's start.
    pub fn moment_seconds(&self) -> f64 {
        self.moment as f64 / self.sample_rate as f64
    }

    /// The file name under `clips/`.
    pub fn file_name(&self) -> String {
        format!("{}.{}", self.hash, self.format.extension())
    }

    fn check(&self) -> Result<(), String> {
        if !CLIP_SAMPLE_RATES.contains(&self.sample_rate) {
            return Err(format!(
                "a clip's sample rate is {}..={} Hz, not {}",
                CLIP_SAMPLE_RATES.start(),
                CLIP_SAMPLE_RATES.end(),
                self.sample_rate
            ));
        }
        if !(1..=2).contains(&self.channels) {
            return Err(format!("a clip has 1 or 2 channels, not {}", self.channels));
        }
        if self.frames == 0 || self.frames > MAX_CLIP_SECONDS * self.sample_rate as u64 {
            return Err(format!(
                "a clip is 1 frame to {MAX_CLIP_SECONDS} s long, not {} frames",
                self.frames
            ));
        }
        if self.moment > self.frames {
            return Err("a clip's moment is inside it".into());
        }
        if self.bytes == 0 || self.bytes > MAX_CLIP_BYTES {
            return Err(format!(
                "a clip file is at most {MAX_CLIP_BYTES} bytes, not {}",
                self.bytes
            ));
        }
        Ok(())
    }
}

#[derive(Deserialize)]
struct ClipWire {
    hash: ClipHash,
    format: ClipFormat,
    sample_rate: u32,
    channels: u8,
    frames: u64,
    moment: u64,
    bytes: u64,
}

impl TryFrom<ClipWire> for Clip {
    type Error = String;
    fn try_from(w: ClipWire) -> Result<Clip, String> {
        let clip = Clip {
            hash: w.hash,
            format: w.format,
            sample_rate: w.sample_rate,
            channels: w.channels,
            frames: w.frames,
            moment: w.moment,
            bytes: w.bytes,
        };
        clip.check()?;
        Ok(clip)
    }
}

/// A journal's clips: `clips/<hash>.<format>` beside its events, private to their owner.
#[derive(Debug, Clone)]
pub struct ClipStore {
    dir: PathBuf,
}

impl ClipStore {
    /// The clips of the journal in `journal_dir` (the folder is made on the first put).
    pub fn of_journal(journal_dir: &Path) -> ClipStore {
        ClipStore {
            dir: journal_dir.join("clips"),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Stores `bytes` under their hash (atomically, durably; storing what is there already
    /// changes nothing) and returns the hash.
    pub fn put(&self, bytes: &[u8], format: ClipFormat) -> std::io::Result<ClipHash> {
        let hash = ClipHash::of(bytes);
        let name = format!("{hash}.{}", format.extension());
        if !self.dir.join(&name).exists() {
            if !self.dir.exists() {
                crate::journal::create_private_dir(&self.dir)?;
            }
            crate::journal::write_atomically(&self.dir, &name, bytes)?;
        }
        Ok(hash)
    }

    pub fn path(&self, clip: &Clip) -> PathBuf {
        self.dir.join(clip.file_name())
    }

    /// The clip's bytes, if this journal has them and they are what the hash says.
    pub fn get(&self, clip: &Clip) -> std::io::Result<Option<Vec<u8>>> {
        match std::fs::read(self.path(clip)) {
            Ok(bytes) if ClipHash::of(&bytes) == clip.hash => Ok(Some(bytes)),
            Ok(_) => Ok(None),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clip_json(edit: impl FnOnce(&mut serde_json::Value)) -> serde_json::Value {
        let mut v = serde_json::json!({
            "hash": ClipHash::of(b"x").to_string(),
            "format": "flac",
            "sample_rate": 48000,
            "channels": 2,
            "frames": 576000,
            "moment": 384000,
            "bytes": 1000,
        });
        edit(&mut v);
        v
    }

    #[test]
    fn a_clip_description_is_checked_when_read() {
        let ok: Clip = serde_json::from_value(clip_json(|_| {})).unwrap();
        assert_eq!(ok.seconds(), 12.0);
        assert_eq!(ok.moment_seconds(), 8.0);
        let bad: [(&str, serde_json::Value); 8] = [
            ("hash", "ABC".into()),
            ("hash", ClipHash::of(b"x").to_string().to_uppercase().into()),
            ("format", "mp3".into()),
            ("sample_rate", 1_000_000.into()),
            ("channels", 3.into()),
            ("frames", (31 * 48_000).into()),
            ("moment", 576_001.into()),
            ("bytes", (MAX_CLIP_BYTES + 1).into()),
        ];
        for (field, value) in bad {
            let v = clip_json(|v| v[field] = value.clone());
            assert!(
                serde_json::from_value::<Clip>(v).is_err(),
                "{field} = {value} was taken"
            );
        }
    }

    #[test]
    fn the_store_names_clips_by_their_hash_and_checks_them_on_reading() {
        let dir = tempfile::tempdir().unwrap();
        let store = ClipStore::of_journal(dir.path());
        let hash = store.put(b"fLaC and more", ClipFormat::Flac).unwrap();
        assert_eq!(hash, ClipHash::of(b"fLaC and more"));
        assert_eq!(store.put(b"fLaC and more", ClipFormat::Flac).unwrap(), hash);
        let clip: Clip = serde_json::from_value(clip_json(|v| {
            v["hash"] = hash.to_string().into();
        }))
        .unwrap();
        assert_eq!(store.get(&clip).unwrap().unwrap(), b"fLaC and more");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(store.path(&clip))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // A file whose bytes changed on disk is not the clip.
        std::fs::write(store.path(&clip), b"something else").unwrap();
        assert_eq!(store.get(&clip).unwrap(), None);
    }
}
