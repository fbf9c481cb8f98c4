//! Printing a version to disk as the audio comes ([`VersionWriter`]): FLAC frames written one
//! by one (memory stays a few blocks, however long the song), the EBU R128 meter and the
//! waveform summary fed from the same samples. The header is written first with blank totals
//! and rewritten in place when the print ends (STREAMINFO has a fixed size), then the file is
//! hashed and named by its hash.

use crate::clips::{ClipFormat, CLIP_BITS};
use crate::versions::{hash_file, Loudness, Peaks, Version, VersionStore, PEAKS};
use flacenc::component::{BitRepr, Stream, StreamInfo};
use flacenc::error::Verify;
use flacenc::source::{Context, Fill, FrameBuf};
use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Frames per FLAC frame (the reference encoder's default).
const BLOCK: usize = 4096;
/// Frames per stretch of the fine waveform summary at first; doubled (and the summary halved)
/// whenever it grows past [`MAX_FINE`], so a four-hour print keeps a few megabytes at most.
const FIRST_STRETCH: u64 = 256;
const MAX_FINE: usize = 1 << 17;

/// Why a print could not be written.
#[derive(Debug, thiserror::Error)]
pub enum PrintError {
    #[error("writing the version file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("encoding the version: {0}")]
    Encode(String),
    #[error("measuring the version's loudness: {0}")]
    Loudness(String),
    #[error("nothing was printed (the transport stopped before any audio came)")]
    Empty,
}

/// A version being printed.
pub struct VersionWriter {
    path: PathBuf,
    file: BufWriter<File>,
    rate: u32,
    channels: usize,
    info: StreamInfo,
    lpc: flacenc::error::Verified<flacenc::config::Encoder>,
    verbatim: flacenc::error::Verified<flacenc::config::Encoder>,
    buf: (FrameBuf, Context),
    /// Interleaved 24-bit samples not yet a whole FLAC frame.
    pending: Vec<i32>,
    frames: u64,
    meter: ebur128::EbuR128,
    fine: Vec<(f32, f32)>,
    stretch: u64,
    current: (f32, f32),
    in_stretch: u64,
    /// The highest absolute sample since [`VersionWriter::take_level`] was last called.
    level: f32,
    planar: Vec<Vec<f32>>,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> PrintError + '_ {
    move |source| PrintError::Io {
        path: path.to_owned(),
        source,
    }
}

fn encoder(lpc: bool) -> Result<flacenc::error::Verified<flacenc::config::Encoder>, PrintError> {
    // As for clips (see `clips::encode_flac`): no fixed predictors, verbatim as the fallback.
    let mut config = flacenc::config::Encoder::default();
    config.subframe_coding.use_fixed = false;
    config.subframe_coding.use_lpc = lpc;
    config.block_size = BLOCK;
    config
        .into_verified()
        .map_err(|e| PrintError::Encode(format!("the encoder's settings: {e:?}")))
}

impl VersionWriter {
    /// Starts a print into `path` (made with its directory; private to this user).
    ///
    /// # Errors
    /// The file cannot be made, or the rate or channels are none FLAC takes.
    pub fn create(path: &Path, rate: u32, channels: usize) -> Result<VersionWriter, PrintError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io(dir))?;
        }
        let file = crate::journal::open_private(path, false).map_err(io(path))?;
        let info = StreamInfo::new(rate as usize, channels, CLIP_BITS as usize)
            .map_err(|e| PrintError::Encode(format!("{e:?}")))?;
        let meter = ebur128::EbuR128::new(
            channels as u32,
            rate,
            ebur128::Mode::I | ebur128::Mode::LRA | ebur128::Mode::TRUE_PEAK,
        )
        .map_err(|e| PrintError::Loudness(e.to_string()))?;
        let mut w = VersionWriter {
            path: path.to_owned(),
            file: BufWriter::with_capacity(256 * 1024, file),
            rate,
            channels,
            info,
            lpc: encoder(true)?,
            verbatim: encoder(false)?,
            buf: (
                FrameBuf::with_size(channels, BLOCK)
                    .map_err(|e| PrintError::Encode(format!("{e:?}")))?,
                Context::new(CLIP_BITS as usize, channels),
            ),
            pending: Vec::with_capacity(BLOCK * channels),
            frames: 0,
            meter,
            fine: Vec::new(),
            stretch: FIRST_STRETCH,
            current: (f32::INFINITY, f32::NEG_INFINITY),
            in_stretch: 0,
            level: 0.0,
            planar: vec![Vec::new(); channels],
        };
        let header = w.header()?;
        w.file.write_all(&header).map_err(io(path))?;
        Ok(w)
    }

    fn header(&self) -> Result<Vec<u8>, PrintError> {
        let stream = Stream::with_stream_info(self.info.clone());
        let mut sink = flacenc::bitsink::ByteSink::new();
        stream
            .write(&mut sink)
            .map_err(|e| PrintError::Encode(format!("{e:?}")))?;
        Ok(sink.as_slice().to_vec())
    }

    pub fn frames(&self) -> u64 {
        self.frames
    }

    pub fn sample_rate(&self) -> u32 {
        self.rate
    }

    pub fn channels(&self) -> usize {
        self.channels
    }

    /// The highest absolute sample since the last call (for a level meter), then starts anew.
    pub fn take_level(&mut self) -> f32 {
        std::mem::take(&mut self.level)
    }

    /// Appends `frames` frames of planar audio (the first channel's `frames` samples, then
    /// the next channel's), as the tap hands them over.
    ///
    /// # Errors
    /// The disk refused a write, or the encoder the samples.
    pub fn push(&mut self, planar: &[f32], frames: usize) -> Result<(), PrintError> {
        if frames == 0 || planar.len() < frames * self.channels {
            return Ok(());
        }
        let full = ((1i64 << (CLIP_BITS - 1)) - 1) as f32;
        for i in 0..frames {
            let (mut lo, mut hi) = (f32::INFINITY, f32::NEG_INFINITY);
            for c in 0..self.channels {
                let x = planar[c * frames + i];
                let x = if x.is_nan() { 0.0 } else { x.clamp(-1.0, 1.0) };
                lo = lo.min(x);
                hi = hi.max(x);
                self.pending.push((x * full).round() as i32);
            }
            self.level = self.level.max(hi.abs()).max(lo.abs());
            self.current = (self.current.0.min(lo), self.current.1.max(hi));
            self.in_stretch += 1;
            if self.in_stretch == self.stretch {
                self.end_stretch();
            }
            if self.pending.len() == BLOCK * self.channels {
                self.write_frame()?;
            }
        }
        self.measure(planar, frames)?;
        self.frames += frames as u64;
        Ok(())
    }

    /// Appends silence (audio lost at real time stands in as silence, and says so).
    ///
    /// # Errors
    /// As [`VersionWriter::push`].
    pub fn push_silence(&mut self, mut frames: u64) -> Result<(), PrintError> {
        let zeros = vec![0.0f32; BLOCK * self.channels];
        while frames > 0 {
            let n = frames.min(BLOCK as u64) as usize;
            self.push(&zeros[..n * self.channels], n)?;
            frames -= n as u64;
        }
        Ok(())
    }

    fn measure(&mut self, planar: &[f32], frames: usize) -> Result<(), PrintError> {
        for (c, ch) in self.planar.iter_mut().enumerate() {
            ch.clear();
            ch.extend(planar[c * frames..(c + 1) * frames].iter().map(|&x| {
                if x.is_finite() {
                    x
                } else {
                    0.0
                }
            }));
        }
        let slices: Vec<&[f32]> = self.planar.iter().map(Vec::as_slice).collect();
        self.meter
            .add_frames_planar_f32(&slices)
            .map_err(|e| PrintError::Loudness(e.to_string()))
    }

    fn end_stretch(&mut self) {
        self.fine.push(self.current);
        self.current = (f32::INFINITY, f32::NEG_INFINITY);
        self.in_stretch = 0;
        if self.fine.len() >= MAX_FINE {
            let halved = self
                .fine
                .chunks(2)
                .map(|p| {
                    p.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |a, b| {
                        (a.0.min(b.0), a.1.max(b.1))
                    })
                })
                .collect();
            self.fine = halved;
            self.stretch *= 2;
        }
    }

    fn write_frame(&mut self) -> Result<(), PrintError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        self.buf
            .fill_interleaved(&self.pending)
            .map_err(|e| PrintError::Encode(format!("{e:?}")))?;
        let number = self.buf.1.current_frame_number().unwrap_or(0);
        let encode = |config| {
            flacenc::encode_fixed_size_frame(config, &self.buf.0, number, &self.info)
                .map_err(|e| PrintError::Encode(format!("{e:?}")))
        };
        let mut frame = encode(&self.lpc)?;
        let raw = self.pending.len() * CLIP_BITS as usize / 8;
        if frame.count_bits() / 8 > raw + 64 {
            frame = encode(&self.verbatim)?;
        }
        let mut sink = flacenc::bitsink::ByteSink::new();
        frame
            .write(&mut sink)
            .map_err(|e| PrintError::Encode(format!("{e:?}")))?;
        self.file
            .write_all(sink.as_slice())
            .map_err(io(&self.path))?;
        self.info.update_frame_info(&frame);
        self.pending.clear();
        Ok(())
    }

    /// Ends the print: the last frame, the header's totals, the loudness and the summary; the
    /// file is synced, hashed and moved to `store` under its hash.
    ///
    /// # Errors
    /// Nothing was printed, or the disk refused.
    pub fn finish(mut self, store: &VersionStore) -> Result<Version, PrintError> {
        if self.frames == 0 {
            let _ = std::fs::remove_file(&self.path);
            return Err(PrintError::Empty);
        }
        self.write_frame()?;
        if self.in_stretch > 0 {
            self.end_stretch();
        }
        self.info.set_md5_digest(&self.buf.1.md5_digest());
        self.info.set_total_samples(self.frames as usize);
        let header = self.header()?;
        let path = self.path.clone();
        let mut file = self.file.into_inner().map_err(|e| PrintError::Io {
            path: path.clone(),
            source: e.into_error(),
        })?;
        file.seek(SeekFrom::Start(0)).map_err(io(&path))?;
        file.write_all(&header).map_err(io(&path))?;
        file.sync_all().map_err(io(&path))?;
        drop(file);
        let loudness = loudness_of(&self.meter, self.channels);
        let peaks = Peaks::summarize(&self.fine, PEAKS);
        let (hash, bytes) = hash_file(&path).map_err(io(&path))?;
        let version = Version {
            hash,
            format: ClipFormat::Flac,
            sample_rate: self.rate,
            channels: self.channels as u8,
            frames: self.frames,
            bytes,
            loudness,
            peaks,
        };
        let target = store.path(&version);
        std::fs::rename(&path, &target).map_err(io(&target))?;
        crate::journal::sync_dir(store.dir()).map_err(io(store.dir()))?;
        Ok(version)
    }

    /// Gives up on the print: the partial file is removed.
    pub fn abandon(self) {
        let path = self.path.clone();
        drop(self);
        let _ = std::fs::remove_file(path);
    }
}

fn finite(v: Result<f64, ebur128::Error>) -> Option<f64> {
    v.ok().filter(|v| v.is_finite())
}

fn loudness_of(meter: &ebur128::EbuR128, channels: usize) -> Loudness {
    let peak = (0..channels as u32)
        .filter_map(|c| meter.true_peak(c).ok())
        .fold(0.0f64, f64::max);
    Loudness {
        integrated: finite(meter.loudness_global()).filter(|v| *v >= -200.0),
        range: finite(meter.loudness_range()),
        true_peak: (peak > 0.0)
            .then(|| 20.0 * peak.log10())
            .filter(|v| *v >= -200.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(path: &Path) -> (claxon::metadata::StreamInfo, Vec<i32>) {
        let mut r = claxon::FlacReader::open(path).unwrap();
        let info = r.streaminfo();
        let samples = r.samples().map(Result::unwrap).collect();
        (info, samples)
    }

    #[test]
    fn a_print_streams_to_a_file_that_decodes_to_its_samples() {
        let dir = tempfile::tempdir().unwrap();
        let store = VersionStore::of_journal(dir.path());
        let mut w = VersionWriter::create(&store.part_path(uuid::Uuid::nil()), 48_000, 2).unwrap();
        // 24-bit steps, so the decoded samples equal the input exactly; odd block sizes.
        let step = 1.0 / (1 << 23) as f32;
        let mut expect = Vec::new();
        let mut n = 0i32;
        for block in [1usize, 64, 4095, 4097, 10_000, 333] {
            let mut planar = vec![0.0f32; block * 2];
            for i in 0..block {
                let v = ((n * 7919) % 4_000_000) - 2_000_000;
                planar[i] = v as f32 * step;
                planar[block + i] = -v as f32 * step;
                expect.extend([v, -v]);
                n += 1;
            }
            w.push(&planar, block).unwrap();
        }
        w.push_silence(5000).unwrap();
        expect.extend(std::iter::repeat_n(0, 10_000));
        let v = w.finish(&store).unwrap();
        assert_eq!(v.frames, expect.len() as u64 / 2);
        let path = store.path(&v);
        assert_eq!(hash_file(&path).unwrap(), (v.hash.clone(), v.bytes));
        let (info, samples) = decode(&path);
        assert_eq!(info.samples, Some(v.frames));
        assert_eq!(info.bits_per_sample, 24);
        assert_eq!(samples, expect);
        assert!(v.peaks.pairs().len() <= PEAKS && !v.peaks.pairs().is_empty());
        assert!(!store.part_path(uuid::Uuid::nil()).exists());
    }

    #[test]
    fn a_sine_at_minus_20_dbfs_measures_as_ebu_says() {
        let dir = tempfile::tempdir().unwrap();
        let store = VersionStore::of_journal(dir.path());
        let mut w = VersionWriter::create(&store.part_path(uuid::Uuid::nil()), 48_000, 2).unwrap();
        let amp = 10f32.powf(-20.0 / 20.0);
        let block = 4800;
        for b in 0..200 {
            let mut planar = vec![0.0f32; block * 2];
            for i in 0..block {
                let t = (b * block + i) as f32 / 48_000.0;
                let x = amp * (2.0 * std::f32::consts::PI * 1000.0 * t).sin();
                planar[i] = x;
                planar[block + i] = x;
            }
            w.push(&planar, block).unwrap();
        }
        let v = w.finish(&store).unwrap();
        // A 1 kHz stereo sine at -20 dBFS is -20 LUFS (EBU Tech 3341's calibration case, less
        // the 3 dB of a single channel: two channels sum to -20).
        let i = v.loudness.integrated.unwrap();
        assert!((i - -20.0).abs() < 0.2, "integrated {i}");
        let tp = v.loudness.true_peak.unwrap();
        assert!((tp - -20.0).abs() < 0.3, "true peak {tp}");
        assert!(v.loudness.range.unwrap() < 0.5);
        assert!(v
            .peaks
            .pairs()
            .iter()
            .all(|&(lo, hi)| lo <= -12 && hi >= 12));
    }

    #[test]
    fn an_empty_print_is_refused_and_leaves_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = VersionStore::of_journal(dir.path());
        let part = store.part_path(uuid::Uuid::nil());
        let w = VersionWriter::create(&part, 44_100, 1).unwrap();
        assert!(matches!(w.finish(&store), Err(PrintError::Empty)));
        assert!(!part.exists());
    }
}
