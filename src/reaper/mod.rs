//! REAPER, when the plugin runs in it: *Go there* from any note, the song's notes as
//! REAPER's own markers and regions (coloured by verdict), and the track's name and colour.
//!
//! Threads: every REAPER call is made from one timer this module registers with REAPER
//! (`plugin_register("timer", ..)`), which REAPER runs on its main thread in both formats,
//! editor open or not. Every other thread only leaves requests: the editor's *Go there*
//! waits in [`Handle`], and the record's changes set a flag. The audio thread never sees any
//! of it. Hosts without REAPER's API get no [`Bridge`] and nothing changes.
//!
//! The instances of one plugin library share the timer: the first [`Bridge`] registers it,
//! the last one dropped (on the main thread, when the host destroys the instance) takes it
//! off, so REAPER never calls into a library it has unloaded.

pub mod api;
pub mod host;
pub mod markers;
mod project;
mod timeline;

use crate::worker::{Link, RecordWatch};
use api::{Functions, Project, CUSTOM_COLOR};
use host::Context;
use liner_record::event::{Anchor, DawPos};

use parking_lot::Mutex;
use std::ffi::{c_char, c_int, c_void, CStr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Markers are brought up to date at most this often.
const MARKERS_EVERY: Duration = Duration::from_millis(250);
/// The track's name and colour are read this often.
const TRACK_EVERY: Duration = Duration::from_secs(1);

/// Where on the timeline a row sits: a point, or a range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Span {
    pub start: DawPos,
    pub end: Option<DawPos>,
}

impl Span {
    /// A note's place: its anchor (a point or a range).
    pub fn of_anchor(anchor: &Anchor) -> Span {
        match *anchor {
            Anchor::Point { at } => Span {
                start: at,
                end: None,
            },
            Anchor::Range { from, to } => Span {
                start: from,
                end: Some(to),
            },
        }
    }

    pub fn at(pos: DawPos) -> Span {
        Span {
            start: pos,
            end: None,
        }
    }
}

/// The track as REAPER names and colours it.
pub type HostTrack = (String, Option<(u8, u8, u8)>);

/// What the editor and the timer share: requests one way, what REAPER said the other.
struct Shared {
    go_there: Mutex<Option<Span>>,
    track: Mutex<Option<HostTrack>>,
    can_go_there: bool,
    can_mark: bool,
}

/// The editor's side of an instance's bridge: it leaves requests and reads what REAPER said;
/// it never calls REAPER (it runs on the GUI thread).
#[derive(Clone)]
pub struct Handle(Arc<Shared>);

impl Handle {
    /// Whether *Go there* can work in this host.
    pub fn can_go_there(&self) -> bool {
        self.0.can_go_there
    }

    /// Whether markers can be shown in this host.
    pub fn can_show_markers(&self) -> bool {
        self.0.can_mark
    }

    /// Asks REAPER to move its edit cursor to `span` (and the time selection over it, for a
    /// range) on its next timer tick; a newer request replaces one not yet carried out.
    pub fn go_there(&self, span: Span) {
        *self.0.go_there.lock() = Some(span);
    }

    /// The track's name and colour, as REAPER last gave them.
    pub fn track(&self) -> Option<HostTrack> {
        self.0.track.lock().clone()
    }
}

/// Ties one plugin instance to REAPER while it lives. Owned by the instance only; dropping it
/// (on the main thread) stops every call made for it.
pub struct Bridge {
    id: u64,
    handle: Handle,
}

impl Bridge {
    /// The bridge of a CLAP instance in REAPER, or `None` in any other host.
    pub fn clap(host: &nice_plug::wrapper::clap::ClapHost, link: Link) -> Option<Bridge> {
        // SAFETY: nice-plug hands the hook the instance's live host, on the main thread.
        let (functions, context) = unsafe { host::from_clap(host) }?;
        Bridge::new(functions, context, link)
    }

    /// The bridge of a VST3 instance in REAPER, or `None` in any other host.
    pub fn vst3(
        context: nice_plug::wrapper::vst3::vst3::ComRef<
            '_,
            nice_plug::wrapper::vst3::vst3::Steinberg::FUnknown,
        >,
        link: Link,
    ) -> Option<Bridge> {
        let (functions, context) = host::from_vst3(context)?;
        Bridge::new(functions, context, link)
    }

    /// A bridge over REAPER's `functions`, found through `context`, for the instance `link`
    /// belongs to. `None` when REAPER cannot run a timer for it (no `plugin_register`).
    /// Call it on REAPER's main thread.
    pub fn new(functions: Functions, context: Context, link: Link) -> Option<Bridge> {
        let register = functions.plugin_register?;
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let id = NEXT.fetch_add(1, Ordering::Relaxed);
        let shared = Arc::new(Shared {
            go_there: Mutex::new(None),
            track: Mutex::new(None),
            can_go_there: functions.has_go_there(),
            can_mark: functions.has_markers(),
        });
        let mut registry = REGISTRY.lock();
        if registry.timer.is_none() {
            // SAFETY: REAPER's registration call with the name and callback its SDK
            // documents; `on_timer` lives as long as this library (it is taken off below
            // before the last instance goes).
            let ok = unsafe { register(c"timer".as_ptr(), on_timer as *mut c_void) };
            if ok == 0 {
                return None;
            }
            registry.timer = Some(register);
        }
        registry.instances.push(Instance {
            id,
            functions,
            context,
            shared: shared.clone(),
            link,
            watch: None,
            dirty: Arc::new(AtomicBool::new(false)),
            shown: None,
            cleared: true,
            markers_at: None,
            track_at: None,
        });
        Some(Bridge {
            id,
            handle: Handle(shared),
        })
    }

    pub fn handle(&self) -> Handle {
        self.handle.clone()
    }
}

impl Drop for Bridge {
    fn drop(&mut self) {
        let gone = {
            let mut registry = REGISTRY.lock();
            let gone = registry.remove(self.id);
            registry.stop_timer_if_idle();
            gone
        };
        // Dropped without the lock: it releases REAPER's interface and the record watch.
        drop(gone);
    }
}

/// Every live instance of this library in REAPER, and the registration call the timer was
/// registered with. No REAPER call is made while it is locked: the timer takes the instances
/// out, ticks them, and puts them back, so a REAPER call that comes back into the plugin (an
/// instance made or destroyed) cannot deadlock on it.
struct Registry {
    instances: Vec<Instance>,
    /// Whether the timer has the instances out.
    ticking: bool,
    /// Instances whose bridge was dropped while the timer had them out.
    gone: Vec<u64>,
    timer: Option<unsafe extern "C" fn(*const c_char, *mut c_void) -> c_int>,
}

impl Registry {
    fn remove(&mut self, id: u64) -> Option<Instance> {
        match self.instances.iter().position(|i| i.id == id) {
            Some(at) => Some(self.instances.remove(at)),
            None => {
                if self.ticking {
                    self.gone.push(id);
                }
                None
            }
        }
    }

    /// Takes the timer off when no instance is left (on the main thread, where the last one
    /// goes), so REAPER never calls into a library it may unload.
    fn stop_timer_if_idle(&mut self) {
        if self.instances.is_empty() && !self.ticking {
            if let Some(register) = self.timer.take() {
                // SAFETY: as in `Bridge::new`; "-timer" takes the callback off.
                unsafe { register(c"-timer".as_ptr(), on_timer as *mut c_void) };
            }
        }
    }
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    instances: Vec::new(),
    ticking: false,
    gone: Vec::new(),
    timer: None,
});

/// REAPER's timer: on its main thread, a few dozen times a second.
extern "C" fn on_timer() {
    let mut instances = {
        let mut registry = REGISTRY.lock();
        if registry.ticking {
            return;
        }
        registry.ticking = true;
        std::mem::take(&mut registry.instances)
    };
    // A panic must not unwind into REAPER.
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        for instance in &mut instances {
            instance.tick();
        }
    }));
    let gone: Vec<Instance> = {
        let mut registry = REGISTRY.lock();
        registry.ticking = false;
        let gone_ids = std::mem::take(&mut registry.gone);
        let (gone, mut live): (Vec<Instance>, Vec<Instance>) = instances
            .into_iter()
            .partition(|i| gone_ids.contains(&i.id));
        live.append(&mut registry.instances);
        registry.instances = live;
        registry.stop_timer_if_idle();
        gone
    };
    drop(gone);
}

/// What the last marker update was made from, to skip the ones with nothing new.
#[derive(Debug, Clone, PartialEq)]
struct Shown {
    record: u64,
    song: String,
    project_changes: c_int,
}

/// One instance, as the timer sees it.
struct Instance {
    id: u64,
    functions: Functions,
    context: Context,
    shared: Arc<Shared>,
    link: Link,
    /// Held while markers are on: the worker follows the record and sets `dirty`.
    watch: Option<RecordWatch>,
    dirty: Arc<AtomicBool>,
    /// What the markers were last brought up to date from; `None` when they were not.
    shown: Option<Shown>,
    /// Whether this instance's own markers were taken away since its switch was last on.
    cleared: bool,
    markers_at: Option<Instant>,
    track_at: Option<Instant>,
}

impl Instance {
    fn tick(&mut self) {
        let project = self.context.project();
        if project.is_null() {
            return;
        }
        if let Some(span) = self.shared.go_there.lock().take() {
            self.go_there(project, span);
        }
        let now = Instant::now();
        if self.track_at.is_none_or(|t| now - t >= TRACK_EVERY) {
            self.track_at = Some(now);
            self.read_track();
        }
        if self.shared.can_mark && self.markers_at.is_none_or(|t| now - t >= MARKERS_EVERY) {
            self.markers_at = Some(now);
            self.update_markers(project);
        }
    }

    fn go_there(&self, project: Project, span: Span) {
        let Some(set_cursor) = self.functions.set_edit_cur_pos2 else {
            return;
        };
        let Some(start) = timeline::seconds(&self.functions, project, &span.start) else {
            return;
        };
        // SAFETY: REAPER's functions with the SDK's arguments, on the main thread. Playback,
        // if it runs, goes on: only a stopped playhead follows the edit cursor.
        unsafe { set_cursor(project, start, true, false) };
        let end = span
            .end
            .and_then(|end| timeline::seconds(&self.functions, project, &end))
            .filter(|&end| end > start);
        if let (Some(mut end), Some(set_range)) = (end, self.functions.get_set_loop_time_range2) {
            let mut start = start;
            // SAFETY: as above; `isSet`, not the loop: the time selection.
            unsafe { set_range(project, true, false, &mut start, &mut end, false) };
        }
    }

    fn read_track(&self) {
        let track = self.context.track();
        let Some(get_string) = self.functions.get_set_media_track_info_string else {
            return;
        };
        if track.is_null() {
            return;
        }
        let mut buf = vec![0u8; 4096];
        // SAFETY: REAPER fills at most a big buffer ("NeedBig") with a C string.
        let ok = unsafe { get_string(track, c"P_NAME".as_ptr(), buf.as_mut_ptr().cast(), false) };
        if !ok {
            return;
        }
        *buf.last_mut().expect("not empty") = 0;
        let name = CStr::from_bytes_until_nul(&buf)
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let color = match (
            self.functions.get_track_color,
            self.functions.color_from_native,
        ) {
            (Some(get), Some(from_native)) => {
                // SAFETY: as above.
                let native = unsafe { get(track) };
                (native & CUSTOM_COLOR != 0).then(|| {
                    let (mut r, mut g, mut b) = (0, 0, 0);
                    // SAFETY: as above; REAPER writes the three ints.
                    unsafe { from_native(native & 0xFF_FFFF, &mut r, &mut g, &mut b) };
                    (r as u8, g as u8, b as u8)
                })
            }
            _ => None,
        };
        *self.shared.track.lock() = Some((name, color));
    }

    fn update_markers(&mut self, project: Project) {
        let (on, song, me) = {
            let st = self.link.state().read();
            (st.reaper_markers, st.settings.song.clone(), st.instance)
        };
        if !on {
            self.watch = None;
            self.shown = None;
            if !std::mem::replace(&mut self.cleared, true) {
                let manages = markers::Manages { me, song: &song };
                project::reconcile(&self.functions, project, &manages, &[]);
            }
            return;
        }
        self.cleared = false;
        if self.watch.is_none() {
            let dirty = self.dirty.clone();
            self.watch = Some(self.link.watch(Arc::new(move || {
                dirty.store(true, Ordering::Release);
            })));
        }
        // Not before the worker has read the record: an empty one would take every marker off.
        let Some(record) = self.link.record() else {
            return;
        };
        let changes = match self.functions.get_project_state_change_count {
            // SAFETY: REAPER's function on the main thread.
            Some(count) => unsafe { count(project) },
            None => 0,
        };
        let now = Shown {
            record: record.version,
            song: song.clone(),
            project_changes: changes,
        };
        let dirty = self.dirty.swap(false, Ordering::AcqRel);
        if !dirty && self.shown.as_ref() == Some(&now) {
            return;
        }
        let wanted = timeline::wanted(&self.functions, project, &record.views, &song);
        let manages = markers::Manages { me, song: &song };
        project::reconcile(&self.functions, project, &manages, &wanted);
        // What the update itself changed counts as seen.
        let project_changes = match self.functions.get_project_state_change_count {
            // SAFETY: as above.
            Some(count) => unsafe { count(project) },
            None => 0,
        };
        self.shown = Some(Shown {
            project_changes,
            ..now
        });
    }
}
