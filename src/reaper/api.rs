//! REAPER's host API as its public SDK declares it (`reaper_plugin.h`,
//! `reaper_plugin_functions.h`): the struct a CLAP host hands out as `cockos.reaper_extension`,
//! and the functions this plugin looks up by name.
//!
//! REAPER's API is dynamic: "callers should never assume a function exists". Every function
//! is an `Option`, looked up once per instance; a feature whose functions are missing does not
//! show. Every call here must be made on REAPER's main thread (the SDK marks almost none of
//! them thread-safe); [`super`] makes them only from the timer REAPER runs there.

use std::ffi::{c_char, c_int, c_void, CStr};

/// `reaper_plugin_info_t`: what REAPER hands a native extension, and a CLAP plugin through
/// `clap_host::get_extension(host, "cockos.reaper_extension")`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct PluginInfo {
    /// `REAPER_PLUGIN_VERSION` of the host.
    pub caller_version: c_int,
    /// The main window (a SWELL window on Linux and macOS).
    pub hwnd_main: *mut c_void,
    /// `Register(name, infostruct)`: 1 on success.
    pub register: Option<unsafe extern "C" fn(*const c_char, *mut c_void) -> c_int>,
    /// `GetFunc(name)`: the API function `name`, or null.
    pub get_func: Option<unsafe extern "C" fn(*const c_char) -> *mut c_void>,
}

/// The CLAP extension id REAPER answers with a [`PluginInfo`].
pub const CLAP_EXTENSION: &CStr = c"cockos.reaper_extension";

/// `ReaProject*`: opaque, only passed back.
pub type Project = *mut c_void;
/// `MediaTrack*`: opaque, only passed back.
pub type Track = *mut c_void;

/// A timer callback for `plugin_register("timer", f)`: REAPER runs it on its main thread.
pub type TimerFn = extern "C" fn();

macro_rules! api_functions {
    ($($field:ident = $name:literal: fn($($arg:ty),*) $(-> $ret:ty)?;)*) => {
        /// The API functions this plugin uses, each as the SDK declares it, `None` when the
        /// host does not have it.
        #[allow(non_snake_case, clippy::type_complexity)]
        #[derive(Clone, Copy)]
        pub struct Functions {
            $(pub $field: Option<unsafe extern "C" fn($($arg),*) $(-> $ret)?>,)*
        }

        impl Functions {
            /// Looks every function up by its name with `get` (`GetFunc`, or the VST3
            /// interface's `getReaperApi`).
            pub fn resolve(get: impl Fn(&CStr) -> *mut c_void) -> Self {
                Functions {
                    $($field: {
                        let p = get($name);
                        // SAFETY: REAPER's GetFunc returns the function of that name, whose
                        // signature is the one the SDK declares (and this table repeats).
                        (!p.is_null()).then(|| unsafe {
                            std::mem::transmute::<
                                *mut c_void,
                                unsafe extern "C" fn($($arg),*) $(-> $ret)?,
                            >(p)
                        })
                    },)*
                }
            }
        }
    };
}

api_functions! {
    plugin_register = c"plugin_register": fn(*const c_char, *mut c_void) -> c_int;
    clap_get_reaper_context = c"clap_get_reaper_context": fn(*const c_void, c_int) -> *mut c_void;
    set_edit_cur_pos2 = c"SetEditCurPos2": fn(Project, f64, bool, bool);
    get_set_loop_time_range2 = c"GetSet_LoopTimeRange2":
        fn(Project, bool, bool, *mut f64, *mut f64, bool);
    time_map2_qn_to_time = c"TimeMap2_QNToTime": fn(Project, f64) -> f64;
    time_map_get_measure_info = c"TimeMap_GetMeasureInfo":
        fn(Project, c_int, *mut f64, *mut f64, *mut c_int, *mut c_int, *mut f64) -> f64;
    add_project_marker2 = c"AddProjectMarker2":
        fn(Project, bool, f64, f64, *const c_char, c_int, c_int) -> c_int;
    set_project_marker4 = c"SetProjectMarker4":
        fn(Project, c_int, bool, f64, f64, *const c_char, c_int, c_int) -> bool;
    delete_project_marker = c"DeleteProjectMarker": fn(Project, c_int, bool) -> bool;
    enum_project_markers3 = c"EnumProjectMarkers3": fn(
        Project, c_int, *mut bool, *mut f64, *mut f64, *mut *const c_char, *mut c_int, *mut c_int
    ) -> c_int;
    enum_proj_ext_state = c"EnumProjExtState":
        fn(Project, *const c_char, c_int, *mut c_char, c_int, *mut c_char, c_int) -> bool;
    set_proj_ext_state = c"SetProjExtState":
        fn(Project, *const c_char, *const c_char, *const c_char) -> c_int;
    get_project_state_change_count = c"GetProjectStateChangeCount": fn(Project) -> c_int;
    update_timeline = c"UpdateTimeline": fn();
    color_to_native = c"ColorToNative": fn(c_int, c_int, c_int) -> c_int;
    color_from_native = c"ColorFromNative": fn(c_int, *mut c_int, *mut c_int, *mut c_int);
    get_set_media_track_info_string = c"GetSetMediaTrackInfo_String":
        fn(Track, *const c_char, *mut c_char, bool) -> bool;
    get_track_color = c"GetTrackColor": fn(Track) -> c_int;
}

/// The flag REAPER's colours carry when they are set (0 means "the default colour").
pub const CUSTOM_COLOR: c_int = 0x0100_0000;

impl Functions {
    /// Whether markers can be kept: every marker and ownership call is there.
    pub fn has_markers(&self) -> bool {
        self.add_project_marker2.is_some()
            && self.set_project_marker4.is_some()
            && self.delete_project_marker.is_some()
            && self.enum_project_markers3.is_some()
            && self.enum_proj_ext_state.is_some()
            && self.set_proj_ext_state.is_some()
            && self.color_to_native.is_some()
    }

    /// Whether the edit cursor can be moved.
    pub fn has_go_there(&self) -> bool {
        self.set_edit_cur_pos2.is_some()
    }
}
