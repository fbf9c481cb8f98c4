//! The project's markers and the plugin's entries about them, read and written through
//! REAPER's functions: what [`super::markers::plan`] needs, and its changes made. Main thread
//! only.

use super::api::{Functions, Project};
use super::markers;
use std::ffi::{c_char, c_int, CStr, CString};

/// Reads the project's markers and the plugin's entries, and makes the planned changes.
pub(super) fn reconcile(
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
    let writer = Writer {
        project,
        manages,
        add,
        set,
        delete,
        set_state,
    };
    for op in &ops {
        match op {
            markers::Op::Add(w) => writer.add(w),
            markers::Op::Change { number, wanted } => writer.change(*number, wanted),
            markers::Op::Delete { id, region, number } => writer.delete(*id, *region, *number),
            markers::Op::Forget(id) => writer.forget(*id),
        }
    }
    if !ops.is_empty() {
        if let Some(update) = f.update_timeline {
            // SAFETY: REAPER's function, on the main thread (as every call here).
            unsafe { update() };
        }
    }
}

/// Makes one instance's planned changes: markers, and the entries that remember them.
struct Writer<'a> {
    project: Project,
    manages: &'a markers::Manages<'a>,
    add: unsafe extern "C" fn(Project, bool, f64, f64, *const c_char, c_int, c_int) -> c_int,
    set: unsafe extern "C" fn(Project, c_int, bool, f64, f64, *const c_char, c_int, c_int) -> bool,
    delete: unsafe extern "C" fn(Project, c_int, bool) -> bool,
    set_state: unsafe extern "C" fn(Project, *const c_char, *const c_char, *const c_char) -> c_int,
}

impl Writer<'_> {
    fn add(&self, w: &markers::Wanted) {
        let Ok(name) = CString::new(w.name.as_str()) else {
            return;
        };
        let region = w.end.is_some();
        let end = w.end.unwrap_or(w.start);
        // SAFETY: REAPER's function with a C string, on the main thread; -1: REAPER numbers it.
        let number = unsafe {
            (self.add)(
                self.project,
                region,
                w.start,
                end,
                name.as_ptr(),
                -1,
                w.color,
            )
        };
        if number >= 0 {
            self.remember(w, region, number);
        }
    }

    fn change(&self, number: c_int, w: &markers::Wanted) {
        let Ok(name) = CString::new(w.name.as_str()) else {
            return;
        };
        let region = w.end.is_some();
        let end = w.end.unwrap_or(w.start);
        // SAFETY: as above. Names are never empty, so no flag is needed to set one.
        let changed = unsafe {
            (self.set)(
                self.project,
                number,
                region,
                w.start,
                end,
                name.as_ptr(),
                w.color,
                0,
            )
        };
        if changed {
            self.remember(w, region, number);
        }
    }

    fn delete(&self, id: uuid::Uuid, region: bool, number: c_int) {
        // SAFETY: as above.
        unsafe { (self.delete)(self.project, number, region) };
        self.forget(id);
    }

    fn remember(&self, w: &markers::Wanted, region: bool, number: c_int) {
        let entry = markers::Owned {
            id: w.id,
            song: self.manages.song.to_owned(),
            instance: self.manages.me,
            region,
            number,
            name: w.name.clone(),
        };
        self.set_entry(entry.id, &entry.value());
    }

    /// An empty value deletes the key.
    fn forget(&self, id: uuid::Uuid) {
        self.set_entry(id, "");
    }

    fn set_entry(&self, id: uuid::Uuid, value: &str) {
        let (Ok(key), Ok(value)) = (CString::new(id.to_string()), CString::new(value)) else {
            return;
        };
        // SAFETY: REAPER's function with C strings, on the main thread.
        unsafe {
            (self.set_state)(
                self.project,
                markers::EXT_SECTION.as_ptr(),
                key.as_ptr(),
                value.as_ptr(),
            )
        };
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
