//! Patched (liner-notes): keeping baseview's own code loaded.
//!
//! A plugin is a shared library its host may unload once the last instance is gone. Two
//! things of baseview's can outlive that on X11: the process's Xlib error handler (installed
//! once, never taken off), and a window thread abandoned because it would not stop in time.
//! Either would then jump into unmapped code. Pinning marks the library that holds this code as never to be
//! unloaded (the memory stays mapped until the process ends), which is the safe way out.

use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, Ordering};

static PINNED: AtomicBool = AtomicBool::new(false);

/// Keeps the shared object that contains baseview loaded for the rest of the process.
pub fn pin_this_library(why: &str) {
    if PINNED.swap(true, Ordering::AcqRel) {
        return;
    }
    let anchor = pin_this_library as *const c_void;
    // SAFETY: dladdr only reads the loader's tables; `info` is written on success.
    let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    if unsafe { libc::dladdr(anchor, &mut info) } == 0 || info.dli_fname.is_null() {
        crate::warn!("Could not find baseview's library to keep it loaded ({why})");
        return;
    }
    // SAFETY: RTLD_NOLOAD only finds the already loaded object (it takes a reference that is
    // never released, which is the point) and RTLD_NODELETE keeps it through any dlclose.
    let handle = unsafe {
        libc::dlopen(info.dli_fname, libc::RTLD_NOW | libc::RTLD_NOLOAD | libc::RTLD_NODELETE)
    };
    if handle.is_null() {
        crate::warn!("Could not keep baseview's library loaded ({why})");
    } else {
        crate::debug!("baseview's library stays loaded until the process ends: {why}");
    }
}
