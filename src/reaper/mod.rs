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

use crate::worker::{Link, RecordWatch};
use api::{Functions, Project, CUSTOM_COLOR};
use host::Context;
use liner_record::event::{Anchor, DawPos};
use liner_record::review::{Item, Standing};
use parking_lot::Mutex;
use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;

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
        let Some(start) = seconds(&self.functions, project, &span.start) else {
            return;
        };
        // SAFETY: REAPER's functions with the SDK's arguments, on the main thread. Playback,
        // if it runs, goes on: only a stopped playhead follows the edit cursor.
        unsafe { set_cursor(project, start, true, false) };
        let end = span
            .end
            .and_then(|end| seconds(&self.functions, project, &end))
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
                reconcile(&self.functions, project, &manages, &[]);
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
        let wanted = wanted(&self.functions, project, &record.views, &song);
        let manages = markers::Manages { me, song: &song };
        reconcile(&self.functions, project, &manages, &wanted);
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

/// Positions past this many seconds (115 days) are taken as nonsense, not placed.
const LATEST: f64 = 1e7;

/// Seconds on the project's timeline for a position taken in the DAW. The musical position
/// wins: after a tempo change, the seconds a note was taken at are stale, its bar and beat
/// are not. `None` when the position says nothing usable.
fn seconds(f: &Functions, project: Project, pos: &DawPos) -> Option<f64> {
    let qn = match (pos.beats, pos.bar, pos.beat) {
        (Some(qn), _, _) if qn.is_finite() => Some(qn),
        (_, Some(bar), Some(beat)) if beat.is_finite() => bar_beat_to_qn(f, project, bar, beat),
        _ => None,
    };
    let musical = qn.zip(f.time_map2_qn_to_time).map(|(qn, to_time)| {
        // SAFETY: REAPER's tempo map, on the main thread, for the instance's project.
        unsafe { to_time(project, qn) }
    });
    musical
        .or(pos.seconds)
        .filter(|t| t.is_finite() && *t <= LATEST)
        .map(|t| t.max(0.0))
}

/// Quarter notes from the project's start at `bar` (1-based) and `beat` (1-based, in the
/// bar's time signature denominator), by REAPER's own bars: where that bar starts and what
/// its signature is there.
fn bar_beat_to_qn(f: &Functions, project: Project, bar: i32, beat: f64) -> Option<f64> {
    let measure_info = f.time_map_get_measure_info?;
    let (mut qn_start, mut qn_end, mut num, mut denom, mut tempo) = (0.0, 0.0, 0, 0, 0.0);
    // SAFETY: REAPER's function on the main thread; it writes the five out-parameters.
    unsafe {
        measure_info(
            project,
            bar.saturating_sub(1),
            &mut qn_start,
            &mut qn_end,
            &mut num,
            &mut denom,
            &mut tempo,
        )
    };
    (denom > 0).then(|| qn_start + (beat - 1.0) * 4.0 / f64::from(denom))
}

/// The markers a song's notes, decisions and marks want, earliest first, at most
/// [`markers::MOST`].
fn wanted(
    f: &Functions,
    project: Project,
    views: &liner_record::Views,
    song: &str,
) -> Vec<markers::Wanted> {
    let Some(to_native) = f.color_to_native else {
        return Vec::new();
    };
    let color = |standing: Option<Standing>| {
        let [r, g, b] = liner_record::export::standing_rgb(standing);
        // SAFETY: REAPER's own colour conversion (the native order differs by OS).
        unsafe { to_native(r.into(), g.into(), b.into()) | CUSTOM_COLOR }
    };
    let place = |span: Span| {
        let start = seconds(f, project, &span.start)?;
        let end = span
            .end
            .and_then(|end| seconds(f, project, &end))
            .filter(|&end| end > start);
        Some((start, end))
    };
    let mut out = Vec::new();
    for n in views.notes.iter().filter(|n| n.song == song) {
        if let Some((start, end)) = n.anchor.as_ref().map(Span::of_anchor).and_then(place) {
            out.push(markers::Wanted {
                id: n.id,
                start,
                end,
                name: markers::name(&n.text),
                color: color(Standing::of(Item::Note, n.verdict.as_ref())),
            });
        }
    }
    for d in views.decisions.iter().filter(|d| d.song == song) {
        if let Some((start, _)) = d.pos.map(Span::at).and_then(place) {
            out.push(markers::Wanted {
                id: d.id,
                start,
                end: None,
                name: markers::name(&crate::editor::list::decision_text(d)),
                color: color(Standing::of(Item::Decision, d.verdict.as_ref())),
            });
        }
    }
    for m in views.marks.iter().filter(|m| m.song == song) {
        if let Some((start, _)) = m.pos.map(Span::at).and_then(place) {
            out.push(markers::Wanted {
                id: m.id,
                start,
                end: None,
                name: markers::name(&crate::editor::list::mark_text(m)),
                color: color(Standing::of(Item::Mark, None)),
            });
        }
    }
    out.sort_by(|a, b| a.start.total_cmp(&b.start).then(a.id.cmp(&b.id)));
    out.truncate(markers::MOST);
    out
}

/// Reads the project's markers and the plugin's entries, and makes the planned changes.
fn reconcile(
    f: &Functions,
    project: Project,
    manages: &markers::Manages,
    wanted: &[markers::Wanted],
) {
    let (Some(add), Some(set), Some(delete), Some(enum_markers), Some(enum_state), Some(set_state)) = (
        f.add_project_marker2,
        f.set_project_marker4,
        f.delete_project_marker,
        f.enum_project_markers3,
        f.enum_proj_ext_state,
        f.set_proj_ext_state,
    ) else {
        return;
    };
    let present = read_markers(enum_markers, project);
    let owned = read_entries(enum_state, project);
    let ops = markers::plan(manages, wanted, &present, &owned);
    let me = manages.me;
    let song = manages.song.to_owned();
    let remember = |o: &markers::Owned| {
        let (Ok(key), Ok(value)) = (CString::new(o.id.to_string()), CString::new(o.value())) else {
            return;
        };
        // SAFETY: REAPER's function with C strings, on the main thread (as every call here).
        unsafe {
            set_state(
                project,
                markers::EXT_SECTION.as_ptr(),
                key.as_ptr(),
                value.as_ptr(),
            )
        };
    };
    let forget = |id: Uuid| {
        let key = CString::new(id.to_string()).expect("no NUL in an id");
        // An empty value deletes the key.
        // SAFETY: as above.
        unsafe {
            set_state(
                project,
                markers::EXT_SECTION.as_ptr(),
                key.as_ptr(),
                c"".as_ptr(),
            )
        };
    };
    for op in &ops {
        match op {
            markers::Op::Add(w) => {
                let Ok(name) = CString::new(w.name.as_str()) else {
                    continue;
                };
                let region = w.end.is_some();
                let end = w.end.unwrap_or(w.start);
                // SAFETY: REAPER's function with a C string, on the main thread.
                let number =
                    unsafe { add(project, region, w.start, end, name.as_ptr(), -1, w.color) };
                if number >= 0 {
                    remember(&markers::Owned {
                        id: w.id,
                        song: song.clone(),
                        instance: me,
                        region,
                        number,
                        name: w.name.clone(),
                    });
                }
            }
            markers::Op::Change { number, wanted: w } => {
                let Ok(name) = CString::new(w.name.as_str()) else {
                    continue;
                };
                let region = w.end.is_some();
                let end = w.end.unwrap_or(w.start);
                let flags = if w.name.is_empty() {
                    api::CLEAR_NAME
                } else {
                    0
                };
                // SAFETY: as above.
                let changed = unsafe {
                    set(
                        project,
                        *number,
                        region,
                        w.start,
                        end,
                        name.as_ptr(),
                        w.color,
                        flags,
                    )
                };
                if changed {
                    remember(&markers::Owned {
                        id: w.id,
                        song: song.clone(),
                        instance: me,
                        region,
                        number: *number,
                        name: w.name.clone(),
                    });
                }
            }
            markers::Op::Delete { id, region, number } => {
                // SAFETY: as above.
                unsafe { delete(project, *number, *region) };
                forget(*id);
            }
            markers::Op::Forget(id) => forget(*id),
        }
    }
    if !ops.is_empty() {
        if let Some(update) = f.update_timeline {
            // SAFETY: as above.
            unsafe { update() };
        }
    }
}

/// At most this many markers and entries are read (a hand-edited project with millions must
/// not stall REAPER's main thread; what is past it is left alone).
const MOST_READ: usize = 20 * markers::MOST;

type EnumMarkers = unsafe extern "C" fn(
    Project,
    c_int,
    *mut bool,
    *mut f64,
    *mut f64,
    *mut *const c_char,
    *mut c_int,
    *mut c_int,
) -> c_int;

type EnumState = unsafe extern "C" fn(
    Project,
    *const c_char,
    c_int,
    *mut c_char,
    c_int,
    *mut c_char,
    c_int,
) -> bool;

/// Every marker and region of the project (REAPER answers the next index, 0 past the end).
fn read_markers(enum_markers: EnumMarkers, project: Project) -> Vec<markers::Present> {
    let mut out = Vec::new();
    let mut index = 0;
    while out.len() < MOST_READ {
        let (mut region, mut start, mut end) = (false, 0.0, 0.0);
        let mut name: *const c_char = std::ptr::null();
        let (mut number, mut color) = (0, 0);
        // SAFETY: REAPER's function; the name points into REAPER's memory and is copied at once.
        let next = unsafe {
            enum_markers(
                project,
                index,
                &mut region,
                &mut start,
                &mut end,
                &mut name,
                &mut number,
                &mut color,
            )
        };
        if next <= index {
            break;
        }
        let name = if name.is_null() {
            String::new()
        } else {
            // SAFETY: a C string REAPER just gave (valid until the next call).
            unsafe { CStr::from_ptr(name) }
                .to_string_lossy()
                .into_owned()
        };
        out.push(markers::Present {
            region,
            number,
            start,
            end,
            name,
            color,
        });
        index = next;
    }
    out
}

/// The plugin's entries in the project's extension state (unreadable ones are left out).
fn read_entries(enum_state: EnumState, project: Project) -> Vec<markers::Owned> {
    let mut out = Vec::new();
    let (mut key, mut value) = (vec![0u8; 256], vec![0u8; 4096]);
    for index in 0..MOST_READ as c_int {
        key.fill(0);
        value.fill(0);
        // SAFETY: REAPER writes C strings of at most the sizes given.
        let there = unsafe {
            enum_state(
                project,
                markers::EXT_SECTION.as_ptr(),
                index,
                key.as_mut_ptr().cast(),
                key.len() as c_int - 1,
                value.as_mut_ptr().cast(),
                value.len() as c_int - 1,
            )
        };
        if !there {
            break;
        }
        let text = |b: &[u8]| {
            CStr::from_bytes_until_nul(b)
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default()
        };
        if let Some(o) = markers::Owned::parse(&text(&key), &text(&value)) {
            out.push(o);
        }
    }
    out
}
