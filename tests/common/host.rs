//! A small real CLAP host (clack-host) that loads the built plugin library in-process.
//!
//! Everything `Processor::process` needs is allocated up front, so a loop of process calls
//! makes no allocation and no syscall on the host side either (the seccomp test relies on it).

#![allow(dead_code)]

use clack_extensions::audio_ports::{AudioPortInfoBuffer, PluginAudioPorts};
use clack_extensions::audio_ports_config::PluginAudioPortsConfig;
use clack_extensions::gui::{GuiSize, HostGui, HostGuiImpl};
use clack_extensions::latency::PluginLatency;
use clack_extensions::params::{ParamInfoBuffer, PluginParams};
use clack_extensions::state::PluginState;
use clack_host::events::event_types::{ParamValueEvent, TransportEvent, TransportFlags};
use clack_host::events::EventFlags;
use clack_host::prelude::*;
use clack_host::utils::{BeatTime, SecondsTime};
use std::collections::BTreeMap;
use std::ffi::CStr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

pub const CLAP_ID: &CStr = c"org.linernotes.liner-notes";

/// The plugin library `cargo test` built next to the test binary (`target/<profile>/deps/`).
pub fn plugin_library(stem: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let deps = exe.parent().expect("deps folder");
    let name = format!(
        "{}{stem}{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    );
    for dir in [
        deps.to_path_buf(),
        deps.join(".."),
        deps.join("../examples"),
    ] {
        let p = dir.join(&name);
        if p.exists() {
            return p;
        }
    }
    panic!(
        "{name} not found next to {}; run through `cargo test`",
        exe.display()
    );
}

pub fn liner_notes_library() -> PathBuf {
    plugin_library("liner_notes")
}

/// The reference plugins (`examples/reference_plugins.rs`): a null plugin and an allocation
/// probe, built by `cargo test` like every example.
pub fn reference_library() -> PathBuf {
    plugin_library("reference_plugins")
}

pub const NULL_ID: &CStr = c"org.linernotes.test.null";
pub const NULL_SAMPLE_ACCURATE_ID: &CStr = c"org.linernotes.test.null-sample-accurate";
pub const ALLOC_PROBE_ID: &CStr = c"org.linernotes.test.alloc-probe";

/// Set when a plugin asks for a main-thread callback; a test that runs long enough for the
/// plugin's main-thread task queue to matter answers it like a DAW does, with
/// [`Instance::run_main_thread_callback`].
pub static CALLBACK_REQUESTED: AtomicBool = AtomicBool::new(false);

pub struct TestHostShared;

impl SharedHandler<'_> for TestHostShared {
    fn request_restart(&self) {}
    fn request_process(&self) {}
    fn request_callback(&self) {
        CALLBACK_REQUESTED.store(true, Ordering::Release);
    }
}

/// Every DAW offers the GUI extension (nice-plug requires it to open an editor). This host's
/// window is the test's: it accepts what the plugin asks and changes nothing.
impl HostGuiImpl for TestHostShared {
    fn resize_hints_changed(&self) {}
    fn request_resize(&self, _new_size: GuiSize) -> Result<(), HostError> {
        Ok(())
    }
    fn request_show(&self) -> Result<(), HostError> {
        Ok(())
    }
    fn request_hide(&self) -> Result<(), HostError> {
        Ok(())
    }
    fn closed(&self, _was_destroyed: bool) {}
}

pub struct TestHost;

impl HostHandlers for TestHost {
    type Shared<'a> = TestHostShared;
    type MainThread<'a> = ();
    type AudioProcessor<'a> = ();

    fn declare_extensions(builder: &mut HostExtensions<Self>, _shared: &Self::Shared<'_>) {
        builder.register::<HostGui>();
        if OFFER_REAPER.load(Ordering::Acquire) {
            builder.register::<ReaperExtension>();
        }
    }
}

/// Whether this host answers `cockos.reaper_extension` with the stand-in REAPER
/// ([`super::reaper`]), as REAPER does; off, it is any other host.
pub static OFFER_REAPER: AtomicBool = AtomicBool::new(false);

/// REAPER's CLAP extension: a `reaper_plugin_info_t`.
#[derive(Copy, Clone)]
pub struct ReaperExtension(
    clack_host::extensions::RawExtension<
        clack_host::extensions::HostExtensionSide,
        super::reaper::ReaperPluginInfo,
    >,
);

// SAFETY: the identifier REAPER's SDK names for this struct.
unsafe impl clack_host::extensions::Extension for ReaperExtension {
    const IDENTIFIERS: &[&CStr] = &[c"cockos.reaper_extension"];
    type ExtensionSide = clack_host::extensions::HostExtensionSide;

    unsafe fn from_raw(raw: clack_host::extensions::RawExtension<Self::ExtensionSide>) -> Self {
        // SAFETY: the caller's guarantee that the pointer is this extension's.
        Self(unsafe { raw.cast() })
    }
}

// SAFETY: `INFO` is the `#[repr(C)]` struct the SDK declares.
unsafe impl<H: HostHandlers> clack_host::extensions::ExtensionImplementation<H>
    for ReaperExtension
{
    const IMPLEMENTATION: clack_host::extensions::RawExtensionImplementation =
        clack_host::extensions::RawExtensionImplementation::new(&super::reaper::INFO);
}

/// A loaded entry and one instance of a plugin in it.
pub struct Instance {
    pub instance: PluginInstance<TestHost>,
    // Dropped after the instance.
    _entry: PluginEntry,
}

/// Loads a plugin library once per test process and keeps it loaded, as DAWs do. Unloading
/// while test threads that called into it are still alive would be a test artefact.
pub fn load_entry(path: &Path) -> PluginEntry {
    static ENTRIES: Mutex<BTreeMap<PathBuf, PluginEntry>> = Mutex::new(BTreeMap::new());
    let mut entries = ENTRIES.lock().unwrap_or_else(|e| e.into_inner());
    entries
        .entry(path.to_owned())
        // SAFETY: the library is one of this workspace's plugins, built by cargo for this test.
        .or_insert_with(|| unsafe { PluginEntry::load(path) }.expect("loading the CLAP entry"))
        .clone()
}

impl Instance {
    pub fn new() -> Self {
        Self::from_library(&liner_notes_library(), CLAP_ID)
    }

    pub fn from_library(path: &Path, id: &CStr) -> Self {
        let entry = load_entry(path);
        let host_info = HostInfo::new("liner-notes tests", "liner-notes", "", "0.1").unwrap();
        let instance =
            PluginInstance::<TestHost>::new(|_| TestHostShared, |_| (), &entry, id, &host_info)
                .expect("instantiating the plugin");
        Instance {
            instance,
            _entry: entry,
        }
    }

    /// Runs the plugin's main-thread callback if one was requested, as a DAW's event loop does.
    pub fn run_main_thread_callback(&mut self) {
        if CALLBACK_REQUESTED.swap(false, Ordering::AcqRel) {
            self.instance.call_on_main_thread_callback();
        }
    }

    /// Selects the stereo (2) or mono (1) layout through the audio-ports-config extension.
    pub fn select_channels(&mut self, channels: u32) {
        let h = self.instance.plugin_handle();
        let ext: PluginAudioPortsConfig = h.get_extension().expect("audio-ports-config");
        let mut buf = clack_extensions::audio_ports_config::AudioPortsConfigBuffer::new();
        let count = ext.count(&h);
        let id = (0..count)
            .find_map(|i| {
                let c = ext.get(&h, i, &mut buf)?;
                let main = c.main_input.as_ref()?;
                (main.channel_count == channels).then_some(c.id)
            })
            .unwrap_or_else(|| panic!("no {channels}-channel layout"));
        ext.select(&h, id).expect("selecting the layout");
    }

    /// Channel counts of the main input and output port as the plugin reports them.
    pub fn main_port_channels(&mut self) -> (u32, u32) {
        let h = self.instance.plugin_handle();
        let ext: PluginAudioPorts = h.get_extension().expect("audio-ports");
        let mut buf = AudioPortInfoBuffer::new();
        let mut get = |is_input| {
            assert_eq!(ext.count(&h, is_input), 1, "one main port each way");
            ext.get(&h, 0, is_input, &mut buf).unwrap().channel_count
        };
        (get(true), get(false))
    }

    pub fn latency(&mut self) -> u32 {
        let h = self.instance.plugin_handle();
        let ext: PluginLatency = h.get_extension().expect("latency extension");
        ext.get(&h)
    }

    pub fn param_id(&mut self, name: &str) -> ClapId {
        let h = self.instance.plugin_handle();
        let ext: PluginParams = h.get_extension().expect("params extension");
        let mut buf = ParamInfoBuffer::new();
        (0..ext.count(&h))
            .find_map(|i| {
                let info = ext.get_info(&h, i, &mut buf)?;
                (info.name == name.as_bytes()).then_some(info.id)
            })
            .unwrap_or_else(|| panic!("no parameter named {name}"))
    }

    pub fn save_state(&mut self) -> Vec<u8> {
        let h = self.instance.plugin_handle();
        let ext: PluginState = h.get_extension().expect("state extension");
        let mut out = Vec::new();
        ext.save(&h, &mut out).expect("saving state");
        out
    }

    pub fn load_state(&mut self, bytes: &[u8]) {
        let h = self.instance.plugin_handle();
        let ext: PluginState = h.get_extension().expect("state extension");
        ext.load(&h, &mut &bytes[..]).expect("loading state");
    }

    /// Activates for `channels` channels and blocks of up to `max_frames`.
    pub fn activate(&mut self, sample_rate: f64, max_frames: u32, channels: usize) -> Processor {
        self.activate_with_events(sample_rate, max_frames, channels, 8192)
    }

    /// [`Self::activate`] with room for `events` queued input events before a block allocates.
    /// clack reserves 1,664 bytes per event (a transport event's size, counted in 16-byte
    /// units), so the default of 8,192 is 13.6 MB per processor: measurements of the plugin's
    /// own memory want 0.
    pub fn activate_with_events(
        &mut self,
        sample_rate: f64,
        max_frames: u32,
        channels: usize,
        events: usize,
    ) -> Processor {
        let config = PluginAudioConfiguration {
            sample_rate,
            min_frames_count: 1,
            max_frames_count: max_frames,
        };
        let stopped = self
            .instance
            .activate(|_, _| (), config)
            .expect("activating the plugin");
        Processor::new(stopped, max_frames as usize, channels, events)
    }

    /// Changes the instance's settings as a project saved with them would (a state round trip).
    pub fn edit_settings(&mut self, edit: impl FnOnce(&mut serde_json::Value)) {
        let blob = edit_instance_state(&self.save_state(), |inner| edit(&mut inner["settings"]));
        self.load_state(&blob);
    }

    pub fn deactivate(&mut self, processor: Processor) {
        let stopped = processor.processor.stop_processing();
        self.instance.deactivate(stopped);
    }
}

/// The saved state, parsed: the CLAP blob is an 8-byte little-endian length then JSON.
pub fn state_json(blob: &[u8]) -> serde_json::Value {
    assert!(blob.len() >= 8, "state blob too short");
    let len = u64::from_le_bytes(blob[..8].try_into().unwrap()) as usize;
    assert_eq!(len, blob.len() - 8, "length prefix matches the JSON");
    serde_json::from_slice(&blob[8..]).expect("state is JSON")
}

/// A CLAP state blob for `state`: the inverse of [`state_json`].
pub fn state_blob(state: &serde_json::Value) -> Vec<u8> {
    let json = serde_json::to_vec(state).unwrap();
    let mut blob = (json.len() as u64).to_le_bytes().to_vec();
    blob.extend_from_slice(&json);
    blob
}

/// `blob` with its instance state (identity, settings, events) changed by `edit`.
pub fn edit_instance_state(blob: &[u8], edit: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
    let mut state = state_json(blob);
    let mut inner = capture_log(blob);
    edit(&mut inner);
    state["fields"]["instance"] = serde_json::Value::String(inner.to_string());
    state_blob(&state)
}

/// The instance's persisted state (identity, settings, events) out of a saved plugin state.
pub fn capture_log(blob: &[u8]) -> serde_json::Value {
    let state = state_json(blob);
    let field = state["fields"]["instance"]
        .as_str()
        .expect("instance field in state");
    serde_json::from_str(field).expect("instance field is JSON")
}

/// The take or mark number of a record event in JSON.
pub fn event_number(e: &serde_json::Value) -> Option<u64> {
    e["body"]["take"]["number"]
        .as_u64()
        .or(e["body"]["number"].as_u64())
}

/// A started audio processor plus preallocated buffers and event lists.
pub struct Processor {
    pub processor: StartedPluginAudioProcessor<TestHost>,
    input_ports: AudioPorts,
    output_ports: AudioPorts,
    pub inputs: Vec<Vec<f32>>,
    pub outputs: Vec<Vec<f32>>,
    pub events: EventBuffer,
    out_events: EventBuffer,
    steady: u64,
}

impl Processor {
    fn new(
        stopped: StoppedPluginAudioProcessor<TestHost>,
        max: usize,
        channels: usize,
        events: usize,
    ) -> Self {
        Processor {
            processor: stopped.start_processing().expect("start processing"),
            input_ports: AudioPorts::with_capacity(channels, 1),
            output_ports: AudioPorts::with_capacity(channels, 1),
            inputs: vec![vec![0.0; max]; channels],
            outputs: vec![vec![0.0; max]; channels],
            events: EventBuffer::with_capacity(events),
            out_events: EventBuffer::with_capacity(events.min(256)),
            steady: 0,
        }
    }

    /// Queues a transport change `offset` samples into the next block (hosts may send these
    /// mid-block; the wrapper splits the block there).
    pub fn set_transport(&mut self, offset: u32, mut t: TransportEvent) {
        t.header = EventHeader::new_core(offset, EventFlags::empty());
        self.events.push(&t);
    }

    /// Queues a parameter value change at `offset` samples into the next block.
    pub fn set_param(&mut self, offset: u32, id: ClapId, value: f64) {
        self.events
            .push(&ParamValueEvent::new(offset, id, Pckn::match_all(), value));
    }

    /// Processes `frames` frames of `self.inputs` into `self.outputs`, with the queued events.
    /// Allocation- and syscall-free as long as the event buffer stays within its capacity.
    pub fn process(&mut self, frames: usize, transport: Option<&TransportEvent>) -> ProcessStatus {
        let input = self.input_ports.with_input_buffers([AudioPortBuffer {
            latency: 0,
            channels: AudioPortBufferType::f32_input_only(
                self.inputs
                    .iter_mut()
                    .map(|b| InputChannel::variable(&mut b[..frames])),
            ),
        }]);
        let mut output = self.output_ports.with_output_buffers([AudioPortBuffer {
            latency: 0,
            channels: AudioPortBufferType::f32_output_only(
                self.outputs.iter_mut().map(|b| &mut b[..frames]),
            ),
        }]);
        let in_events = InputEvents::from_buffer(&self.events);
        let mut out_events = OutputEvents::from_buffer(&mut self.out_events);
        let status = self
            .processor
            .process(
                &input,
                &mut output,
                &in_events,
                &mut out_events,
                Some(self.steady),
                transport,
            )
            .expect("process");
        self.steady += frames as u64;
        self.events.clear();
        self.out_events.clear();
        status
    }
}

/// A scripted host transport: a timeline at a fixed tempo and time signature.
#[derive(Clone, Copy, Debug)]
pub struct Timeline {
    pub sample_rate: f64,
    pub tempo: f64,
    pub sig: (u16, u16),
    pub playing: bool,
    pub recording: bool,
    pub loop_range_seconds: Option<(f64, f64)>,
}

impl Timeline {
    pub fn new(sample_rate: f64, tempo: f64, sig: (u16, u16)) -> Self {
        Timeline {
            sample_rate,
            tempo,
            sig,
            playing: false,
            recording: false,
            loop_range_seconds: None,
        }
    }

    /// The transport event a DAW sends for a block starting at sample `pos`.
    pub fn at(&self, pos: i64) -> TransportEvent {
        let seconds = pos as f64 / self.sample_rate;
        let beats = seconds * self.tempo / 60.0;
        let bar_len = self.sig.0 as f64 * 4.0 / self.sig.1 as f64;
        let bar_number = (beats / bar_len).floor();
        let mut flags = TransportFlags::HAS_TEMPO
            | TransportFlags::HAS_BEATS_TIMELINE
            | TransportFlags::HAS_SECONDS_TIMELINE
            | TransportFlags::HAS_TIME_SIGNATURE;
        if self.playing {
            flags |= TransportFlags::IS_PLAYING;
        }
        if self.recording {
            flags |= TransportFlags::IS_RECORDING;
        }
        let (ls, le) = self.loop_range_seconds.unwrap_or((0.0, 0.0));
        if self.loop_range_seconds.is_some() {
            flags |= TransportFlags::IS_LOOP_ACTIVE;
        }
        let to_beats = |s: f64| s * self.tempo / 60.0;
        TransportEvent {
            header: EventHeader::new_core(0, EventFlags::empty()),
            flags,
            song_pos_beats: BeatTime::from_float(beats),
            song_pos_seconds: SecondsTime::from_float(seconds),
            tempo: self.tempo,
            tempo_inc: 0.0,
            loop_start_beats: BeatTime::from_float(to_beats(ls)),
            loop_end_beats: BeatTime::from_float(to_beats(le)),
            loop_start_seconds: SecondsTime::from_float(ls),
            loop_end_seconds: SecondsTime::from_float(le),
            bar_start: BeatTime::from_float(bar_number * bar_len),
            bar_number: bar_number as i32,
            time_signature_numerator: self.sig.0,
            time_signature_denominator: self.sig.1,
        }
    }
}

/// An instance set up to sync `project` to the server at `url` as the producer Pat.
pub fn instance_for(project: &str, url: &str) -> Instance {
    let mut plugin = Instance::new();
    plugin.edit_settings(|settings| {
        settings["project"] = serde_json::Value::String(project.into());
        settings["server_url"] = serde_json::Value::String(url.into());
        settings["author"] = serde_json::Value::String("Pat".into());
        settings["role"] = serde_json::Value::String("producer".into());
    });
    plugin
}
