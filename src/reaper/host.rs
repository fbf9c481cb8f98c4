//! How an instance finds REAPER, and its own project and track in it: through the CLAP
//! extension `cockos.reaper_extension`, or the VST3 interface `IReaperHostApplication`
//! (`reaper_vst3_interfaces.h`) of the context `IPluginBase::initialize` is given.

use super::api::{Functions, PluginInfo, Project, Track, CLAP_EXTENSION};
use nice_plug::wrapper::vst3::vst3;
use std::ffi::{c_char, c_int, c_void};
use vst3::Steinberg::FUnknown;

/// `clap_get_reaper_context`'s and `getReaperParent`'s selectors.
const PARENT_TRACK: c_int = 1;
const PARENT_PROJECT: c_int = 3;

/// Where an instance asks REAPER for its project and track. Both answers can change (an FX
/// moved to another track), so they are asked on every use, never kept.
pub enum Context {
    Clap {
        /// The instance's own `clap_host`, which REAPER maps to its track and project.
        host: *const c_void,
        get: unsafe extern "C" fn(*const c_void, c_int) -> *mut c_void,
    },
    Vst3(ReaperHostApplication),
}

// SAFETY: the context is only used on REAPER's main thread (the registry in `super` holds it
// behind a lock and calls it from the timer REAPER runs there); the pointers are handles.
unsafe impl Send for Context {}

impl Context {
    pub fn project(&self) -> Project {
        self.parent(PARENT_PROJECT)
    }

    pub fn track(&self) -> Track {
        self.parent(PARENT_TRACK)
    }

    fn parent(&self, what: c_int) -> *mut c_void {
        match self {
            // SAFETY: REAPER's own function, given the host pointer REAPER gave the instance.
            Context::Clap { host, get } => unsafe { get(*host, what) },
            Context::Vst3(app) => app.parent(what as u32),
        }
    }
}

/// REAPER's functions and the instance's context, found through the CLAP host (REAPER 6.80
/// and later have `clap_get_reaper_context`); `None` in every other host.
///
/// # Safety
/// `host` is the instance's live `clap_host`, and this runs on the main thread.
pub unsafe fn from_clap(host: &nice_plug::wrapper::clap::ClapHost) -> Option<(Functions, Context)> {
    // SAFETY: the caller's guarantees; the extension is a `reaper_plugin_info_t`.
    let info = unsafe { host.get_extension(CLAP_EXTENSION) } as *const PluginInfo;
    if info.is_null() {
        return None;
    }
    // SAFETY: REAPER's struct, valid for the process's life.
    let get_func = unsafe { (*info).get_func }?;
    // SAFETY: REAPER's GetFunc with a C string, on the main thread.
    let functions = Functions::resolve(|name| unsafe { get_func(name.as_ptr()) });
    let get = functions.clap_get_reaper_context?;
    Some((
        functions,
        Context::Clap {
            host: host.as_ptr() as *const c_void,
            get,
        },
    ))
}

/// REAPER's functions and the instance's context, found through the VST3 host context;
/// `None` when the host is not REAPER (5.02 or later).
pub fn from_vst3(context: vst3::ComRef<'_, FUnknown>) -> Option<(Functions, Context)> {
    let app = ReaperHostApplication::query(context)?;
    let functions = Functions::resolve(|name| app.api(name.as_ptr()));
    Some((functions, Context::Vst3(app)))
}

/// `IReaperHostApplication`'s methods after `FUnknown`'s, in the header's order.
#[repr(C)]
struct ReaperHostApplicationVtbl {
    base: vst3::Steinberg::FUnknownVtbl,
    get_reaper_api: unsafe extern "system" fn(*mut c_void, *const c_char) -> *mut c_void,
    get_reaper_parent: unsafe extern "system" fn(*mut c_void, u32) -> *mut c_void,
    reaper_extended: unsafe extern "system" fn(
        *mut c_void,
        u32,
        *mut c_void,
        *mut c_void,
        *mut c_void,
    ) -> *mut c_void,
}

/// `DECLARE_CLASS_IID(IReaperHostApplication, 0x79655E36, 0x77EE4267, 0xA573FEF7, 0x4912C27C)`.
pub const REAPER_HOST_APPLICATION_IID: vst3::Steinberg::TUID =
    vst3::uid(0x79655E36, 0x77EE4267, 0xA573FEF7, 0x4912C27C);

/// An owned reference to the host's `IReaperHostApplication` (released when dropped).
pub struct ReaperHostApplication(std::ptr::NonNull<*const ReaperHostApplicationVtbl>);

impl ReaperHostApplication {
    fn query(context: vst3::ComRef<'_, FUnknown>) -> Option<Self> {
        let raw = context.as_ptr();
        let mut obj: *mut c_void = std::ptr::null_mut();
        // SAFETY: a live FUnknown (the host's context); queryInterface writes an owned
        // reference on success.
        let result =
            unsafe { ((*(*raw).vtbl).queryInterface)(raw, &REAPER_HOST_APPLICATION_IID, &mut obj) };
        if result != vst3::Steinberg::kResultOk {
            return None;
        }
        std::ptr::NonNull::new(obj as *mut *const ReaperHostApplicationVtbl).map(Self)
    }

    fn vtbl(&self) -> &ReaperHostApplicationVtbl {
        // SAFETY: a COM object's first field is its vtable; we hold a reference.
        unsafe { &**self.0.as_ptr() }
    }

    fn api(&self, name: *const c_char) -> *mut c_void {
        // SAFETY: the interface's own method on the object we hold.
        unsafe { (self.vtbl().get_reaper_api)(self.0.as_ptr() as *mut c_void, name) }
    }

    fn parent(&self, what: u32) -> *mut c_void {
        // SAFETY: as above.
        unsafe { (self.vtbl().get_reaper_parent)(self.0.as_ptr() as *mut c_void, what) }
    }
}

impl Drop for ReaperHostApplication {
    fn drop(&mut self) {
        // SAFETY: we hold one reference from queryInterface.
        unsafe {
            (self.vtbl().base.release)(self.0.as_ptr() as *mut FUnknown);
        }
    }
}
