//! Liner Notes: a pass-through CLAP/VST3 plugin that captures production notes.
//!
//! Layout:
//! - [`audio`]: `process()`, the only code on the audio thread.
//! - [`playhead`]: the DAW position and the lock-free snapshot the audio thread publishes.
//! - [`capture`]: take, transport and mark detection (runs on the audio thread).
//! - [`tap`]: the wait-free ring that carries audio for clips and prints from `process()` to
//!   the worker.
//! - [`print`]: when a version prints (the audio thread's decision), and what the editor sees.
//! - [`worker`]: the process-wide background threads: drain the audio queues into the
//!   project's journal (`liner-record`) and the saved state, follow the journal, sync, clips.
//! - [`record_view`]: the project record as an open editor sees it (a folded snapshot).
//! - [`editor`]: the egui editor: the notes list, the forms, settings, the header.
//! - [`state`]: what an instance saves in the DAW project, and its migration.
//! - [`settings`]: project, song, track, author, role, server; last used ones as defaults.
//! - [`params`]: host-visible parameters and persisted fields.
//! - [`reaper`]: REAPER's own API when the host is REAPER: *Go there*, live markers, the
//!   track's name and colour (on REAPER's main thread only).
//!
//! Real-time guarantees of the audio path: no allocation, no lock, no syscall, no I/O, no
//! logging and no panic from data; the samples are never touched. The host tests prove the
//! first three under `assert_process_allocs` and a seccomp filter.

pub mod audio;
pub mod capture;
pub mod editor;
pub mod params;
pub mod playhead;
pub mod print;
pub mod reaper;
pub mod record_view;
pub mod settings;
pub mod state;
pub mod tap;
pub mod worker;

use capture::{CaptureEvent, Detector, NumberFloors};
use nice_plug::prelude::*;
use params::LinerParams;
use playhead::SharedPlayhead;
use std::num::NonZeroU32;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

/// Capacity of each instance's audio -> worker queue. At the worker's poll interval this allows
/// sustained bursts of ~200,000 events per second before anything is dropped.
pub const AUDIO_QUEUE_CAPACITY: usize = 1024;

/// The plugin instance. Fields touched by the audio thread say so.
pub struct LinerNotes {
    params: Arc<LinerParams>,
    /// Written by the audio thread every block; read by the editor.
    playhead: Arc<SharedPlayhead>,
    /// Audio thread only: edge detection state.
    detector: Detector,
    /// Take and mark numbers already used (raised by the worker; read by the detector).
    floors: Arc<NumberFloors>,
    /// Audio thread only: the producer end of the wait-free queue to the worker.
    producer: rtrb::Producer<CaptureEvent>,
    /// Incremented by the audio thread when the queue is full; folded into the saved log by the
    /// worker.
    dropped: Arc<AtomicU64>,
    /// Audio thread only: blocks processed since activation, published with the playhead.
    blocks: u64,
    /// Audio thread only: frames processed since the instance was made (never reset: the
    /// stream position clips are cut from).
    frame: u64,
    /// Audio thread only: where the input goes while clips are on or a version prints; made at
    /// activation.
    tap: Option<tap::TapWriter>,
    /// Audio thread only: whether a version prints.
    print: print::PrintState,
    /// Printing's switches and report, shared with the worker and the editor.
    print_shared: Arc<print::PrintShared>,
    /// Whether this instance clips audio with its notes (the instance setting, mirrored for
    /// the audio thread by the worker).
    clip_on: Arc<std::sync::atomic::AtomicBool>,
    sample_rate: f32,
    /// Between `activate()` and `deactivate()` (hosts also deactivate instances that were never
    /// activated; that closes no session).
    active: bool,
    /// Main thread only: REAPER's API, when the host is REAPER (never the audio thread's).
    reaper: Option<reaper::Bridge>,
    /// Keeps this instance registered with the shared worker; dropping it drains the queue.
    registration: worker::Registration,
}

impl Default for LinerNotes {
    fn default() -> Self {
        let params = Arc::new(LinerParams::default());
        let (producer, consumer) = rtrb::RingBuffer::new(AUDIO_QUEUE_CAPACITY);
        let dropped = Arc::new(AtomicU64::new(0));
        let floors = Arc::new(NumberFloors::default());
        let registration = worker::register(
            consumer,
            params.state.clone(),
            dropped.clone(),
            floors.clone(),
        );
        let clip_on = registration.link().clip_switch();
        let print_shared = registration.link().print();
        LinerNotes {
            params,
            playhead: Arc::new(SharedPlayhead::new()),
            detector: Detector::new(floors.clone()),
            floors,
            producer,
            dropped,
            blocks: 0,
            frame: 0,
            tap: None,
            print: print::PrintState::default(),
            print_shared,
            clip_on,
            sample_rate: 44_100.0,
            active: false,
            reaper: None,
            registration,
        }
    }
}

impl LinerNotes {
    /// The playhead snapshot this instance publishes (for the editor).
    pub fn playhead(&self) -> Arc<SharedPlayhead> {
        self.playhead.clone()
    }

    /// Records that this instance was activated or deactivated (main thread only: it
    /// allocates), with its song, track and author, for worked time.
    fn session_event(&self, body: liner_record::Body) {
        let ctx = self.params.state.read().context(worker::session_id());
        self.registration
            .link()
            .submit(liner_record::Event::new(&ctx, None, body));
    }
}

impl Plugin for LinerNotes {
    const NAME: &'static str = "Liner Notes";
    const VENDOR: &'static str = "Liner Notes";
    const URL: &'static str = "";
    const EMAIL: &'static str = "";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    const AUDIO_IO_LAYOUTS: &'static [AudioIOLayout] = &[
        AudioIOLayout {
            main_input_channels: NonZeroU32::new(2),
            main_output_channels: NonZeroU32::new(2),
            ..AudioIOLayout::const_default()
        },
        AudioIOLayout {
            main_input_channels: NonZeroU32::new(1),
            main_output_channels: NonZeroU32::new(1),
            ..AudioIOLayout::const_default()
        },
    ];

    /// The wrapper splits blocks at parameter changes, so a mark lands on its exact sample.
    const SAMPLE_ACCURATE_AUTOMATION: bool = true;

    type Editor = editor::window::LinerEditor;
    type SysExMessage = ();
    type BackgroundTask = ();

    fn params(&self) -> Arc<dyn Params> {
        self.params.clone()
    }

    fn editor(&mut self, _executor: AsyncExecutor<Self>) -> Option<Self::Editor> {
        let notifier = nice_plug_egui::RepaintNotifier::new();
        let wake = notifier.clone();
        let mut app = editor::EditorApp::new(
            self.registration.link(),
            self.playhead.clone(),
            self.params.editor_size.clone(),
            Arc::new(move || wake.request_repaint()),
        );
        if let Some(bridge) = &self.reaper {
            app.set_reaper(bridge.handle());
        }
        Some(editor::window::LinerEditor::new(
            app,
            self.params.editor_size.clone(),
            notifier,
        ))
    }

    fn filter_state(state: &mut PluginState) {
        let err = state::filter_saved_state(
            &mut state.fields,
            params::STATE_KEY,
            params::LEGACY_CAPTURE_KEY,
        );
        if let Some(err) = err {
            nice_warn!("Liner Notes: {err}");
        }
    }

    fn activate(
        &mut self,
        layout: &AudioIOLayout,
        buffer_config: &BufferConfig,
        _context: &mut impl ActivateContext<Self>,
    ) -> bool {
        self.sample_rate = buffer_config.sample_rate;
        // The tap for this sample rate and layout (its memory is only touched while clips
        // are on or a version prints; a short one when neither is set up now, as they may be
        // switched on while it plays); the worker gets the other end. An offline render
        // waits for room in it instead of dropping audio.
        let channels = layout.main_input_channels.map_or(0, |c| c.get() as usize);
        let print_armed = self.params.print.value() || self.print_shared.armed_in_editor();
        let seconds = if self.params.state.read().clip_audio || print_armed {
            tap::RING_SECONDS
        } else {
            tap::IDLE_RING_SECONDS
        };
        let (mut writer, mut reader) = tap::tap_holding(
            buffer_config.sample_rate,
            channels,
            seconds,
            buffer_config.max_buffer_size,
        );
        let offline = buffer_config.process_mode == ProcessMode::Offline;
        tap::set_offline(&mut writer, &mut reader, offline);
        self.tap = Some(writer);
        self.registration.link().set_tap(reader);
        // The instance starts working: one end of the stretch its person's worked time counts.
        if !self.active {
            self.session_event(liner_record::Body::SessionOpened);
            self.active = true;
        }
        // Continue take and mark numbering after what the saved state holds (the worker also
        // raises the floors from the journal, and after a load while processing).
        self.registration.flush();
        {
            let (take, mark) = self.params.state.read().next_numbers();
            self.floors.raise(take, mark);
        }
        self.detector = Detector::new(self.floors.clone()).with_mark(self.params.mark.value());
        true
    }

    fn deactivate(&mut self) {
        // A print in progress ends where the last block ended.
        self.print
            .close(self.frame, &self.print_shared, self.tap.as_mut());
        // End an open take and the transport where the last block ended, so a deactivation
        // mid-recording leaves nothing open; then make sure they are written.
        let producer = &mut self.producer;
        let dropped = &self.dropped;
        self.detector.close(|event| {
            if producer.push(event).is_err() {
                dropped.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        });
        if std::mem::take(&mut self.active) {
            // What the audio thread (and the close above) pushed goes first: the session's
            // close is its last event.
            self.registration.flush();
            self.session_event(liner_record::Body::SessionClosed);
        }
        self.registration.flush();
    }

    fn process(
        &mut self,
        buffer: &mut Buffer,
        _aux: &mut AuxiliaryBuffers,
        context: &mut impl ProcessContext<Self>,
    ) -> ProcessStatus {
        audio::process_block(
            context.transport(),
            buffer.samples() as u32,
            buffer.as_slice_immutable(),
            (self.params.mark.value(), self.params.print.value()),
            &mut audio::AudioState {
                playhead: &self.playhead,
                detector: &mut self.detector,
                producer: &mut self.producer,
                dropped: &self.dropped,
                blocks: &mut self.blocks,
                frame: &mut self.frame,
                tap: self.tap.as_mut(),
                clip_on: self.clip_on.load(std::sync::atomic::Ordering::Relaxed),
                print: &mut self.print,
                print_shared: &self.print_shared,
            },
        );
        // Keep being called while the input is silent: the transport still matters.
        ProcessStatus::KeepAlive
    }
}

impl ClapPlugin for LinerNotes {
    /// Never change: hosts identify saved instances by it.
    const CLAP_ID: &'static str = "org.linernotes.liner-notes";
    const CLAP_DESCRIPTION: Option<&'static str> =
        Some("Timestamped production notes from the DAW transport");
    const CLAP_MANUAL_URL: Option<&'static str> = None;
    const CLAP_SUPPORT_URL: Option<&'static str> = None;
    const CLAP_FEATURES: &'static [ClapFeature] = &[
        ClapFeature::AudioEffect,
        ClapFeature::Utility,
        ClapFeature::Analyzer,
        ClapFeature::Stereo,
        ClapFeature::Mono,
    ];

    /// In REAPER, the instance reaches REAPER's API through the host (on the main thread).
    fn clap_host_ready(&mut self, host: nice_plug::wrapper::clap::ClapHost) {
        if self.reaper.is_none() {
            self.reaper = reaper::Bridge::clap(&host, self.registration.link());
        }
    }
}

impl Vst3Plugin for LinerNotes {
    /// Never change: hosts identify saved instances by it.
    const VST3_CLASS_ID: [u8; 16] = *b"LinerNotesPlugin";
    const VST3_SUBCATEGORIES: &'static [Vst3SubCategory] = &[
        Vst3SubCategory::Fx,
        Vst3SubCategory::Tools,
        Vst3SubCategory::Analyzer,
    ];

    /// In REAPER, the instance reaches REAPER's API through the host's context (UI thread).
    fn vst3_host_context(
        &mut self,
        context: Option<
            nice_plug::wrapper::vst3::vst3::ComRef<
                '_,
                nice_plug::wrapper::vst3::vst3::Steinberg::FUnknown,
            >,
        >,
    ) {
        if let (None, Some(context)) = (&self.reaper, context) {
            self.reaper = reaper::Bridge::vst3(context, self.registration.link());
        }
    }
}

nice_export_clap!(LinerNotes);
nice_export_vst3!(LinerNotes);
