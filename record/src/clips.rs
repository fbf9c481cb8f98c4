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
        ClipHash::of_digest(Sha256::new_with_prefix(bytes))
    }

    /// The hash a SHA-256 hasher fed with the bytes (in pieces, as a large file is read)
    /// gives.
    pub fn of_digest(hasher: Sha256) -> ClipHash {
        ClipHash(
            hasher
                .finalize()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect(),
        )
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
    ///
    /// # Errors
    /// The store's folder or file cannot be made or written.
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
    ///
    /// # Errors
    /// The file exists but cannot be read (a missing file, or one whose bytes no longer
    /// match its name, is `Ok(None)`).
    pub fn get(&self, clip: &Clip) -> std::io::Result<Option<Vec<u8>>> {
        match std::fs::read(self.path(clip)) {
            Ok(bytes) if ClipHash::of(&bytes) == clip.hash => Ok(Some(bytes)),
            Ok(_) => Ok(None),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// A clip that could not be encoded (the encoder's words; it never happens with the audio the
/// plugin cuts).
#[cfg(feature = "encode")]
#[derive(Debug, thiserror::Error)]
#[error("encoding a clip: {0}")]
pub struct EncodeError(String);

/// Planar float audio as a 24-bit FLAC file (values past full scale clipped, NaN silent).
///
/// flacenc 0.5's fixed predictors misjudge loud, noise-like 24-bit audio (a second of it came
/// out at 130 MB: their bit count overflows, so a huge residual looks cheap), so they are not
/// used: its LPC and verbatim coding cover every signal. And should an encoding still come
/// out larger than the raw samples, it is made again verbatim.
///
/// # Errors
/// The encoder refuses the audio (no channel, or more than it takes).
#[cfg(feature = "encode")]
pub fn encode_flac(audio: &[Vec<f32>], rate: u32) -> Result<Vec<u8>, EncodeError> {
    let channels = audio.len();
    let frames = audio.first().map_or(0, Vec::len);
    let full = ((1i64 << (CLIP_BITS - 1)) - 1) as f32;
    let mut interleaved = Vec::with_capacity(frames * channels);
    for i in 0..frames {
        for ch in audio {
            let x = ch[i];
            let x = if x.is_nan() { 0.0 } else { x.clamp(-1.0, 1.0) };
            interleaved.push((x * full).round() as i32);
        }
    }
    let raw = frames * channels * (CLIP_BITS as usize / 8);
    let bytes = encode_samples(&interleaved, channels, rate, true)?;
    if bytes.len() <= raw + 4096 {
        return Ok(bytes);
    }
    encode_samples(&interleaved, channels, rate, false)
}

/// Interleaved 24-bit samples as FLAC: with linear prediction, or verbatim.
#[cfg(feature = "encode")]
fn encode_samples(
    interleaved: &[i32],
    channels: usize,
    rate: u32,
    predict: bool,
) -> Result<Vec<u8>, EncodeError> {
    use flacenc::component::BitRepr;
    use flacenc::error::Verify;
    let mut config = flacenc::config::Encoder::default();
    config.subframe_coding.use_fixed = false;
    config.subframe_coding.use_lpc = predict;
    let config = config
        .into_verified()
        .map_err(|e| EncodeError(format!("the encoder's settings: {e:?}")))?;
    let source = flacenc::source::MemSource::from_samples(
        interleaved,
        channels,
        CLIP_BITS as usize,
        rate as usize,
    );
    let stream = flacenc::encode_with_fixed_block_size(&config, source, config.block_size)
        .map_err(|e| EncodeError(format!("{e:?}")))?;
    let mut sink = flacenc::bitsink::ByteSink::new();
    stream
        .write(&mut sink)
        .map_err(|e| EncodeError(format!("writing it: {e:?}")))?;
    Ok(sink.as_slice().to_vec())
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

    /// Loud white noise, the worst case for a predictor: at most the raw samples' size, and
    /// still exact.
    #[cfg(feature = "encode")]
    #[test]
    fn loud_noise_encodes_no_larger_than_its_samples_and_round_trips() {
        let mut x = 0x2545_F491_u32;
        let mut noise = || {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x as f32 / u32::MAX as f32 - 0.5) * 1.9
        };
        let audio: Vec<Vec<f32>> = vec![(0..48_000).map(|_| noise()).collect(); 2];
        let bytes = encode_flac(&audio, 48_000).unwrap();
        assert!(
            bytes.len() <= 48_000 * 2 * 3 + 4096,
            "{} bytes",
            bytes.len()
        );
        let mut reader = claxon::FlacReader::new(std::io::Cursor::new(bytes)).unwrap();
        let decoded: Vec<i32> = reader.samples().map(|s| s.unwrap()).collect();
        let step = 1.0 / ((1 << 23) - 1) as f32;
        for (i, s) in decoded.iter().enumerate() {
            let want = audio[i % 2][i / 2].clamp(-1.0, 1.0);
            assert!((*s as f32 * step - want).abs() <= step, "sample {i}");
        }
    }

    #[cfg(feature = "encode")]
    #[test]
    fn flac_round_trips_within_one_24_bit_step() {
        let audio: Vec<Vec<f32>> = (0..2)
            .map(|c| {
                (0..4_800)
                    .map(|i| ((i * (c + 1)) as f32 * 0.01).sin() * 0.9)
                    .collect()
            })
            .collect();
        let bytes = encode_flac(&audio, 48_000).unwrap();
        let mut reader = claxon::FlacReader::new(std::io::Cursor::new(bytes)).unwrap();
        assert_eq!(reader.streaminfo().bits_per_sample, 24);
        let decoded: Vec<i32> = reader.samples().map(|s| s.unwrap()).collect();
        assert_eq!(decoded.len(), 9_600);
        let step = 1.0 / ((1 << 23) - 1) as f32;
        for (i, s) in decoded.iter().enumerate() {
            let want = audio[i % 2][i / 2];
            assert!((*s as f32 * step - want).abs() <= step, "sample {i}");
        }
    }
}
