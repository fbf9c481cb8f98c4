//! A stand-in REAPER: the published plugin API exactly as the REAPER SDK declares it
//! (`reaper_plugin.h`: `reaper_plugin_info_t`, `Register`, `GetFunc`;
//! `reaper_plugin_functions.h`: each function below with the header's signature;
//! `reaper_vst3_interfaces.h`: `IReaperHostApplication`), written here from the header, not
//! from the plugin's own declarations, so a wrong layout or signature on either side shows.
//!
//! One project with a tempo and metre change (4/4 at 120 bpm for the first 8 bars = 16 s, then
//! 6/8 at 90 quarter notes a minute),
//! its markers and regions numbered as REAPER numbers them, its extension state, the edit
//! cursor and the time selection, one track. Every call is recorded with its thread, and the
//! functions check they were given this project (REAPER's NULL means "the active tab", which
//! may be another project: the plugin must never pass it). Timers run only when a test calls
//! [`run_timers`], on the test's thread: that thread is REAPER's main thread here.

#![allow(dead_code, non_snake_case)]
// Every unsafe block below reads or writes through a pointer the plugin passed to a function
// of REAPER's, which the SDK's contract makes valid for the call (C strings, out-parameters of
// the declared sizes); one comment here instead of one per block.
#![allow(clippy::undocumented_unsafe_blocks)]

use std::collections::BTreeMap;
use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::sync::Mutex;
use std::thread::ThreadId;

/// `reaper_plugin_info_t`, as `reaper_plugin.h` declares it.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct ReaperPluginInfo {
    pub caller_version: c_int,
    pub hwnd_main: *mut c_void,
    pub Register: Option<unsafe extern "C" fn(*const c_char, *mut c_void) -> c_int>,
    pub GetFunc: Option<unsafe extern "C" fn(*const c_char) -> *mut c_void>,
}

/// What REAPER answers for `get_extension(host, "cockos.reaper_extension")`.
pub const INFO: ReaperPluginInfo = ReaperPluginInfo {
    caller_version: 0x20E,
    hwnd_main: std::ptr::null_mut(),
    Register: Some(Register),
    GetFunc: Some(GetFunc),
};

/// The one project's and track's handles (opaque to the plugin).
pub const PROJECT: *mut c_void = 0x5EA9_0001 as *mut c_void;
pub const TRACK: *mut c_void = 0x5EA9_0002 as *mut c_void;

#[derive(Debug, Clone, PartialEq)]
pub struct Marker {
    pub region: bool,
    pub number: i32,
    pub start: f64,
    pub end: f64,
    pub name: String,
    pub color: i32,
}

/// What a saved `.RPP` keeps of what the plugin touches.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Saved {
    pub markers: Vec<Marker>,
    pub ext: BTreeMap<(String, String), String>,
}

struct Stand {
    markers: Vec<(Marker, CString)>,
    ext: BTreeMap<(String, String), String>,
    changes: c_int,
    cursor: f64,
    selection: Option<(f64, f64)>,
    track_name: String,
    track_color: c_int,
    timers: Vec<extern "C" fn()>,
    calls: Vec<(&'static str, ThreadId)>,
    wrong_project: usize,
    /// Functions `GetFunc` does not find (an older REAPER).
    hidden: Vec<String>,
}

static STAND: Mutex<Stand> = Mutex::new(Stand {
    markers: Vec::new(),
    ext: BTreeMap::new(),
    changes: 0,
    cursor: 0.0,
    selection: None,
    track_name: String::new(),
    track_color: 0,
    timers: Vec::new(),
    calls: Vec::new(),
    wrong_project: 0,
    hidden: Vec::new(),
});

fn stand() -> std::sync::MutexGuard<'static, Stand> {
    STAND.lock().unwrap_or_else(|e| e.into_inner())
}

/// Records the call and checks the project it was given.
fn call(name: &'static str, project: *mut c_void) -> std::sync::MutexGuard<'static, Stand> {
    let mut s = stand();
    s.calls.push((name, std::thread::current().id()));
    if project != PROJECT {
        s.wrong_project += 1;
    }
    s
}

/// A fresh project (no markers, no state, nothing called) with a named, coloured track.
/// Registered timers stay: they belong to loaded plugin libraries.
pub fn reset(track_name: &str, track_rgb: Option<(u8, u8, u8)>) {
    let mut s = stand();
    s.markers.clear();
    s.ext.clear();
    s.changes = 0;
    s.cursor = 0.0;
    s.selection = None;
    s.track_name = track_name.into();
    s.track_color = track_rgb.map_or(0, |(r, g, b)| {
        ColorToNative(r.into(), g.into(), b.into()) | 0x0100_0000
    });
    s.calls.clear();
    s.wrong_project = 0;
    s.hidden.clear();
}

/// Makes `GetFunc` answer null for these functions, as a REAPER without them would.
pub fn hide(names: &[&str]) {
    stand().hidden = names.iter().map(|n| n.to_string()).collect();
}

/// Runs every registered timer once, on this thread (REAPER's main thread here).
pub fn run_timers() {
    let timers = stand().timers.clone();
    for t in timers {
        t();
    }
}

pub fn timers() -> usize {
    stand().timers.len()
}

pub fn markers() -> Vec<Marker> {
    stand().markers.iter().map(|(m, _)| m.clone()).collect()
}

pub fn ext_state() -> BTreeMap<(String, String), String> {
    stand().ext.clone()
}

pub fn cursor() -> f64 {
    stand().cursor
}

pub fn selection() -> Option<(f64, f64)> {
    stand().selection
}

pub fn calls() -> Vec<(&'static str, ThreadId)> {
    stand().calls.clone()
}

/// Calls given a project other than this one (NULL included).
pub fn wrong_project() -> usize {
    stand().wrong_project
}

/// Saves the project, as REAPER writes an `.RPP`.
pub fn save() -> Saved {
    let s = stand();
    Saved {
        markers: s.markers.iter().map(|(m, _)| m.clone()).collect(),
        ext: s.ext.clone(),
    }
}

/// Opens a saved project in place of this one.
pub fn reload(saved: &Saved) {
    let mut s = stand();
    s.markers = saved
        .markers
        .iter()
        .map(|m| (m.clone(), CString::new(m.name.clone()).unwrap()))
        .collect();
    s.ext = saved.ext.clone();
    s.changes += 1;
}

/// A marker the user adds by hand.
pub fn add_user_marker(start: f64, name: &str) -> i32 {
    let name = CString::new(name).unwrap();
    AddProjectMarker2(PROJECT, false, start, 0.0, name.as_ptr(), -1, 0)
}

/// The user renames a marker.
pub fn rename(region: bool, number: i32, name: &str) {
    let mut s = stand();
    let (m, c) = s
        .markers
        .iter_mut()
        .find(|(m, _)| m.region == region && m.number == number)
        .expect("that marker");
    m.name = name.into();
    *c = CString::new(name).unwrap();
    s.changes += 1;
}

/// The user deletes a marker.
pub fn delete_by_hand(region: bool, number: i32) {
    DeleteProjectMarker(PROJECT, number, region);
}

/// The tempo map: quarter notes from the project start to seconds.
pub fn qn_to_seconds(qn: f64) -> f64 {
    if qn <= 32.0 {
        qn * 0.5
    } else {
        16.0 + (qn - 32.0) * 60.0 / 90.0
    }
}

// ---- reaper_plugin.h ----

unsafe extern "C" fn Register(name: *const c_char, info: *mut c_void) -> c_int {
    unsafe { plugin_register(name, info) }
}

unsafe extern "C" fn GetFunc(name: *const c_char) -> *mut c_void {
    let name = unsafe { CStr::from_ptr(name) }.to_str().unwrap_or("");
    if stand().hidden.iter().any(|h| h == name) {
        return std::ptr::null_mut();
    }
    match name {
        "plugin_register" => plugin_register as *mut c_void,
        "clap_get_reaper_context" => clap_get_reaper_context as *mut c_void,
        "SetEditCurPos2" => SetEditCurPos2 as *mut c_void,
        "GetSet_LoopTimeRange2" => GetSet_LoopTimeRange2 as *mut c_void,
        "TimeMap2_QNToTime" => TimeMap2_QNToTime as *mut c_void,
        "TimeMap_GetMeasureInfo" => TimeMap_GetMeasureInfo as *mut c_void,
        "AddProjectMarker2" => AddProjectMarker2 as *mut c_void,
        "SetProjectMarker4" => SetProjectMarker4 as *mut c_void,
        "DeleteProjectMarker" => DeleteProjectMarker as *mut c_void,
        "EnumProjectMarkers3" => EnumProjectMarkers3 as *mut c_void,
        "EnumProjExtState" => EnumProjExtState as *mut c_void,
        "SetProjExtState" => SetProjExtState as *mut c_void,
        "GetProjectStateChangeCount" => GetProjectStateChangeCount as *mut c_void,
        "UpdateTimeline" => UpdateTimeline as *mut c_void,
        "ColorToNative" => ColorToNative as *mut c_void,
        "ColorFromNative" => ColorFromNative as *mut c_void,
        "GetSetMediaTrackInfo_String" => GetSetMediaTrackInfo_String as *mut c_void,
        "GetTrackColor" => GetTrackColor as *mut c_void,
        _ => std::ptr::null_mut(),
    }
}

/// `int plugin_register(const char* name, void* infostruct)`: "timer" / "-timer".
unsafe extern "C" fn plugin_register(name: *const c_char, info: *mut c_void) -> c_int {
    let name = unsafe { CStr::from_ptr(name) }.to_str().unwrap_or("");
    let mut s = call("plugin_register", PROJECT);
    match name {
        "timer" => {
            // SAFETY: REAPER's contract: a "timer" infostruct is a `void (*)()`.
            let f: extern "C" fn() = unsafe { std::mem::transmute(info) };
            s.timers.push(f);
            1
        }
        "-timer" => {
            let before = s.timers.len();
            s.timers.retain(|t| *t as *mut c_void != info);
            (s.timers.len() < before) as c_int
        }
        _ => 0,
    }
}

// ---- reaper_plugin_functions.h ----

/// `void* clap_get_reaper_context(const clap_host* host, int sel)`: 1 track, 3 project.
unsafe extern "C" fn clap_get_reaper_context(_host: *const c_void, sel: c_int) -> *mut c_void {
    let _s = call("clap_get_reaper_context", PROJECT);
    match sel {
        1 => TRACK,
        3 => PROJECT,
        _ => std::ptr::null_mut(),
    }
}

/// `void SetEditCurPos2(ReaProject* proj, double time, bool moveview, bool seekplay)`
extern "C" fn SetEditCurPos2(proj: *mut c_void, time: f64, _moveview: bool, _seekplay: bool) {
    call("SetEditCurPos2", proj).cursor = time;
}

/// `void GetSet_LoopTimeRange2(ReaProject* proj, bool isSet, bool isLoop, double* startOut,
/// double* endOut, bool allowautoseek)`
unsafe extern "C" fn GetSet_LoopTimeRange2(
    proj: *mut c_void,
    is_set: bool,
    is_loop: bool,
    start: *mut f64,
    end: *mut f64,
    _allowautoseek: bool,
) {
    let mut s = call("GetSet_LoopTimeRange2", proj);
    if is_set && !is_loop {
        s.selection = Some(unsafe { (*start, *end) });
    }
}

/// `double TimeMap2_QNToTime(ReaProject* proj, double qn)`
extern "C" fn TimeMap2_QNToTime(proj: *mut c_void, qn: f64) -> f64 {
    let _s = call("TimeMap2_QNToTime", proj);
    qn_to_seconds(qn)
}

/// `double TimeMap_GetMeasureInfo(ReaProject* proj, int measure, double* qn_startOut,
/// double* qn_endOut, int* timesig_numOut, int* timesig_denomOut, double* tempoOut)`: the
/// measure's start in seconds.
unsafe extern "C" fn TimeMap_GetMeasureInfo(
    proj: *mut c_void,
    measure: c_int,
    qn_start: *mut f64,
    qn_end: *mut f64,
    num: *mut c_int,
    denom: *mut c_int,
    tempo: *mut f64,
) -> f64 {
    let _s = call("TimeMap_GetMeasureInfo", proj);
    let m = f64::from(measure.max(0));
    let (start, length, sig, bpm) = if measure < 8 {
        (m * 4.0, 4.0, (4, 4), 120.0)
    } else {
        (32.0 + (m - 8.0) * 3.0, 3.0, (6, 8), 90.0)
    };
    unsafe {
        for (out, value) in [(qn_start, start), (qn_end, start + length), (tempo, bpm)] {
            if !out.is_null() {
                *out = value;
            }
        }
        for (out, value) in [(num, sig.0), (denom, sig.1)] {
            if !out.is_null() {
                *out = value;
            }
        }
    }
    qn_to_seconds(start)
}

/// `int AddProjectMarker2(ReaProject* proj, bool isrgn, double pos, double rgnend,
/// const char* name, int wantidx, int color)`: the new marker's number, or -1.
extern "C" fn AddProjectMarker2(
    proj: *mut c_void,
    isrgn: bool,
    pos: f64,
    rgnend: f64,
    name: *const c_char,
    wantidx: c_int,
    color: c_int,
) -> c_int {
    let mut s = call("AddProjectMarker2", proj);
    let taken = |n: i32| {
        s.markers
            .iter()
            .any(|(m, _)| m.region == isrgn && m.number == n)
    };
    let number = if wantidx > 0 && !taken(wantidx) {
        wantidx
    } else {
        (1..).find(|n| !taken(*n)).unwrap()
    };
    let name = if name.is_null() {
        CString::default()
    } else {
        unsafe { CStr::from_ptr(name) }.to_owned()
    };
    let m = Marker {
        region: isrgn,
        number,
        start: pos,
        end: if isrgn { rgnend } else { pos },
        name: name.to_string_lossy().into_owned(),
        color,
    };
    s.markers.push((m, name));
    s.markers
        .sort_by(|(a, _), (b, _)| a.start.total_cmp(&b.start).then(a.region.cmp(&b.region)));
    s.changes += 1;
    number
}

/// `bool SetProjectMarker4(ReaProject* proj, int markrgnindexnumber, bool isrgn, double pos,
/// double rgnend, const char* name, int color, int flags)`: color 0 leaves the colour;
/// an empty name leaves the name unless flags&1.
extern "C" fn SetProjectMarker4(
    proj: *mut c_void,
    number: c_int,
    isrgn: bool,
    pos: f64,
    rgnend: f64,
    name: *const c_char,
    color: c_int,
    flags: c_int,
) -> bool {
    let mut s = call("SetProjectMarker4", proj);
    let Some((m, c)) = s
        .markers
        .iter_mut()
        .find(|(m, _)| m.region == isrgn && m.number == number)
    else {
        return false;
    };
    m.start = pos;
    m.end = if isrgn { rgnend } else { pos };
    let name = if name.is_null() {
        CString::default()
    } else {
        unsafe { CStr::from_ptr(name) }.to_owned()
    };
    if !name.as_bytes().is_empty() || flags & 1 != 0 {
        m.name = name.to_string_lossy().into_owned();
        *c = name;
    }
    if color != 0 {
        m.color = color;
    }
    s.markers
        .sort_by(|(a, _), (b, _)| a.start.total_cmp(&b.start).then(a.region.cmp(&b.region)));
    s.changes += 1;
    true
}

/// `bool DeleteProjectMarker(ReaProject* proj, int markrgnindexnumber, bool isrgn)`
extern "C" fn DeleteProjectMarker(proj: *mut c_void, number: c_int, isrgn: bool) -> bool {
    let mut s = call("DeleteProjectMarker", proj);
    let before = s.markers.len();
    s.markers
        .retain(|(m, _)| !(m.region == isrgn && m.number == number));
    s.changes += 1;
    s.markers.len() < before
}

/// `int EnumProjectMarkers3(ReaProject* proj, int idx, bool* isrgnOut, double* posOut,
/// double* rgnendOut, const char** nameOut, int* markrgnindexnumberOut, int* colorOut)`:
/// the next index, 0 past the end. The name points into REAPER's memory.
unsafe extern "C" fn EnumProjectMarkers3(
    proj: *mut c_void,
    idx: c_int,
    isrgn: *mut bool,
    pos: *mut f64,
    rgnend: *mut f64,
    name: *mut *const c_char,
    number: *mut c_int,
    color: *mut c_int,
) -> c_int {
    let s = call("EnumProjectMarkers3", proj);
    let Some((m, c)) = usize::try_from(idx).ok().and_then(|i| s.markers.get(i)) else {
        return 0;
    };
    unsafe {
        if !isrgn.is_null() {
            *isrgn = m.region;
        }
        if !pos.is_null() {
            *pos = m.start;
        }
        if !rgnend.is_null() {
            *rgnend = m.end;
        }
        if !name.is_null() {
            *name = c.as_ptr();
        }
        if !number.is_null() {
            *number = m.number;
        }
        if !color.is_null() {
            *color = m.color;
        }
    }
    idx + 1
}

/// Copies `text` into a C buffer of `size` bytes, cut to fit.
unsafe fn copy_out(text: &str, out: *mut c_char, size: c_int) {
    if out.is_null() || size <= 0 {
        return;
    }
    let n = text.len().min(size as usize - 1);
    unsafe {
        std::ptr::copy_nonoverlapping(text.as_ptr(), out.cast(), n);
        *out.add(n) = 0;
    }
}

/// `bool EnumProjExtState(ReaProject* proj, const char* extname, int idx, char* keyOutOptional,
/// int keyOutOptional_sz, char* valOutOptional, int valOutOptional_sz)`
unsafe extern "C" fn EnumProjExtState(
    proj: *mut c_void,
    extname: *const c_char,
    idx: c_int,
    key: *mut c_char,
    key_size: c_int,
    value: *mut c_char,
    value_size: c_int,
) -> bool {
    let s = call("EnumProjExtState", proj);
    let section = unsafe { CStr::from_ptr(extname) }
        .to_string_lossy()
        .into_owned();
    let Some(((_, k), v)) = s
        .ext
        .iter()
        .filter(|((sec, _), _)| sec.eq_ignore_ascii_case(&section))
        .nth(idx.max(0) as usize)
    else {
        return false;
    };
    unsafe {
        copy_out(k, key, key_size);
        copy_out(v, value, value_size);
    }
    true
}

/// `int SetProjExtState(ReaProject* proj, const char* extname, const char* key,
/// const char* value)`: an empty key clears the section, an empty value the key.
unsafe extern "C" fn SetProjExtState(
    proj: *mut c_void,
    extname: *const c_char,
    key: *const c_char,
    value: *const c_char,
) -> c_int {
    let mut s = call("SetProjExtState", proj);
    let text = |p: *const c_char| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned();
    let (section, key, value) = (text(extname), text(key), text(value));
    if key.is_empty() {
        s.ext.retain(|(sec, _), _| *sec != section);
    } else if value.is_empty() {
        s.ext.remove(&(section, key));
    } else {
        s.ext.insert((section, key), value);
    }
    1
}

/// `int GetProjectStateChangeCount(ReaProject* proj)`
extern "C" fn GetProjectStateChangeCount(proj: *mut c_void) -> c_int {
    call("GetProjectStateChangeCount", proj).changes
}

/// `void UpdateTimeline()`
extern "C" fn UpdateTimeline() {
    let _s = call("UpdateTimeline", PROJECT);
}

/// `int ColorToNative(int r, int g, int b)` (this stand-in's native order: 0xBBGGRR).
pub extern "C" fn ColorToNative(r: c_int, g: c_int, b: c_int) -> c_int {
    (r & 0xFF) | (g & 0xFF) << 8 | (b & 0xFF) << 16
}

/// `void ColorFromNative(int col, int* rOut, int* gOut, int* bOut)`
unsafe extern "C" fn ColorFromNative(col: c_int, r: *mut c_int, g: *mut c_int, b: *mut c_int) {
    unsafe {
        *r = col & 0xFF;
        *g = (col >> 8) & 0xFF;
        *b = (col >> 16) & 0xFF;
    }
}

/// `bool GetSetMediaTrackInfo_String(MediaTrack* tr, const char* parmname,
/// char* stringNeedBig, bool setNewValue)`
unsafe extern "C" fn GetSetMediaTrackInfo_String(
    track: *mut c_void,
    parm: *const c_char,
    string: *mut c_char,
    set: bool,
) -> bool {
    let s = call("GetSetMediaTrackInfo_String", PROJECT);
    let parm = unsafe { CStr::from_ptr(parm) };
    if track != TRACK || parm != c"P_NAME" || set {
        return false;
    }
    // "NeedBig": REAPER assumes a large buffer; the plugin gives 4096 bytes.
    unsafe { copy_out(&s.track_name, string, 4096) };
    true
}

/// `int GetTrackColor(MediaTrack* track)`: 0 when the track has no colour of its own.
extern "C" fn GetTrackColor(track: *mut c_void) -> c_int {
    let s = call("GetTrackColor", PROJECT);
    if track == TRACK {
        s.track_color
    } else {
        0
    }
}

// ---- reaper_vst3_interfaces.h ----

/// `IReaperHostApplication`'s IID, as the header declares it.
pub const REAPER_HOST_APPLICATION_IID: [c_char; 16] =
    vst3::uid(0x79655E36, 0x77EE4267, 0xA573FEF7, 0x4912C27C);

/// A VST3 host context answering `FUnknown` and `IReaperHostApplication` (REAPER's own host
/// context also answers `IHostApplication`, which the plugin does not ask for).
#[repr(C)]
pub struct HostContext {
    vtbl: *const HostContextVtbl,
}

unsafe impl Sync for HostContext {}

#[repr(C)]
struct HostContextVtbl {
    query_interface: unsafe extern "system" fn(
        *mut HostContext,
        *const [c_char; 16],
        *mut *mut c_void,
    ) -> vst3::Steinberg::tresult,
    add_ref: unsafe extern "system" fn(*mut HostContext) -> u32,
    release: unsafe extern "system" fn(*mut HostContext) -> u32,
    // virtual void* PLUGIN_API getReaperApi(CStringA funcname) = 0;
    get_reaper_api: unsafe extern "system" fn(*mut HostContext, *const c_char) -> *mut c_void,
    // virtual void* PLUGIN_API getReaperParent(uint32 w) = 0;
    get_reaper_parent: unsafe extern "system" fn(*mut HostContext, u32) -> *mut c_void,
    // virtual void* PLUGIN_API reaperExtended(uint32 call, void *parm1, void *parm2, void *parm3)
    reaper_extended: unsafe extern "system" fn(
        *mut HostContext,
        u32,
        *mut c_void,
        *mut c_void,
        *mut c_void,
    ) -> *mut c_void,
}

static HOST_CONTEXT_VTBL: HostContextVtbl = HostContextVtbl {
    query_interface: host_query_interface,
    add_ref: host_add_ref,
    release: host_release,
    get_reaper_api,
    get_reaper_parent,
    reaper_extended,
};

/// The context handed to `IPluginBase::initialize` (static: it lives as long as the test).
pub static HOST_CONTEXT: HostContext = HostContext {
    vtbl: &HOST_CONTEXT_VTBL,
};

/// References the plugin holds on the context.
pub static HOST_CONTEXT_REFS: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(0);

unsafe extern "system" fn host_query_interface(
    this: *mut HostContext,
    iid: *const [c_char; 16],
    obj: *mut *mut c_void,
) -> vst3::Steinberg::tresult {
    use vst3::Interface;
    let iid = unsafe { *iid };
    let funknown = vst3::Steinberg::FUnknown::IID.map(|b| b as c_char);
    if iid == REAPER_HOST_APPLICATION_IID || iid == funknown {
        unsafe { *obj = this.cast() };
        HOST_CONTEXT_REFS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        vst3::Steinberg::kResultOk
    } else {
        unsafe { *obj = std::ptr::null_mut() };
        vst3::Steinberg::kNoInterface
    }
}

unsafe extern "system" fn host_add_ref(_this: *mut HostContext) -> u32 {
    (HOST_CONTEXT_REFS.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 2) as u32
}

unsafe extern "system" fn host_release(_this: *mut HostContext) -> u32 {
    (HOST_CONTEXT_REFS.fetch_sub(1, std::sync::atomic::Ordering::SeqCst)).max(1) as u32
}

unsafe extern "system" fn get_reaper_api(
    _this: *mut HostContext,
    name: *const c_char,
) -> *mut c_void {
    unsafe { GetFunc(name) }
}

unsafe extern "system" fn get_reaper_parent(_this: *mut HostContext, w: u32) -> *mut c_void {
    let _s = call("getReaperParent", PROJECT);
    match w {
        1 => TRACK,
        3 => PROJECT,
        _ => std::ptr::null_mut(),
    }
}

unsafe extern "system" fn reaper_extended(
    _this: *mut HostContext,
    _call: u32,
    _a: *mut c_void,
    _b: *mut c_void,
    _c: *mut c_void,
) -> *mut c_void {
    std::ptr::null_mut()
}
