use std::fmt::{Debug, Display, Formatter};
use x11_dl::xlib;

use super::xlib_connection::XlibConnection;
use std::cell::Cell;
use std::error::Error;
use std::os::raw::{c_int, c_uchar, c_ulong};
use std::ptr;
use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

// Patched (liner-notes): Xlib has one error handler per process, and 0.4.2 swapped it in and
// out around every checked call. With two threads doing that (two editors, or an editor and a
// host that sets its own handler), one can "restore" Xlib's default handler while the other is
// mid-call, and the next error then ends the whole host process. Now the first baseview
// connection installs one handler for the process that chains: errors on baseview's own
// displays are kept for the checked call running on that thread, or logged and dropped; errors
// on any other display go to the handler that was there before (the host's own, or Xlib's
// default), exactly as if baseview were not loaded. It is never taken off again (taking it off
// would race with every other user of XSetErrorHandler the same way, and a handler installed
// later may chain to it), so the library that holds it is pinned in memory.

thread_local! {
    /// Used as part of [`XErrorHandler::handle()`]. When an X11 error occurs during this function,
    /// the error gets copied to this Cell after which the program is allowed to resume. The
    /// error can then be converted to a regular Rust Result value afterward.
    static CURRENT_X11_ERROR: Cell<Option<CaughtXLibError>> = const { Cell::new(None) };
    /// Whether this thread is inside [`XErrorHandler::handle()`].
    static IN_CHECKED_CALL: Cell<bool> = const { Cell::new(false) };
    /// Whether this thread is inside the chained handler (a handler that chains back to ours
    /// must not make the two call each other forever).
    static IN_HANDLER: Cell<bool> = const { Cell::new(false) };
}

type ErrorHandlerFn = unsafe extern "C" fn(*mut xlib::Display, *mut xlib::XErrorEvent) -> c_int;

/// Displays opened by baseview. Read without a lock from inside Xlib's error callback.
const DISPLAY_SLOTS: usize = 64;
static OUR_DISPLAYS: [AtomicPtr<xlib::Display>; DISPLAY_SLOTS] =
    [const { AtomicPtr::new(ptr::null_mut()) }; DISPLAY_SLOTS];
/// The handler that was installed before ours, as an address (0: none).
static PREVIOUS_HANDLER: AtomicUsize = AtomicUsize::new(0);

/// Whether the chained handler is installed (it stays for the rest of the process).
static INSTALLED: Mutex<bool> = Mutex::new(false);

fn is_ours(display: *mut xlib::Display) -> bool {
    !display.is_null() && OUR_DISPLAYS.iter().any(|d| d.load(Ordering::Acquire) == display)
}

/// The process's Xlib error handler while baseview has a display open.
unsafe extern "C" fn chained_error_handler(
    display: *mut xlib::Display, event: *mut xlib::XErrorEvent,
) -> c_int {
    if !is_ours(display) {
        let previous = PREVIOUS_HANDLER.load(Ordering::Acquire);
        // Zero only in the instant between installing ours and recording the previous one,
        // or if a handler chains back to ours: the error is then dropped.
        let reentered = IN_HANDLER.try_with(|h| h.replace(true)).unwrap_or(true);
        if previous == 0 || reentered {
            return 0;
        }
        struct Leave;
        impl Drop for Leave {
            fn drop(&mut self) {
                let _ = IN_HANDLER.try_with(|h| h.set(false));
            }
        }
        let _leave = Leave;
        // SAFETY: the address was returned by XSetErrorHandler as the previous handler, a
        // function of this signature that stays loaded (Xlib's default, or the host's own).
        let previous: ErrorHandlerFn = unsafe { std::mem::transmute(previous) };
        // SAFETY: same arguments as Xlib gave us.
        return unsafe { previous(display, event) };
    }
    // SAFETY: the error pointer should always be valid for reads
    let caught = CaughtXLibError::from_event(unsafe { event.read() });
    let in_checked_call = IN_CHECKED_CALL.try_with(Cell::get).unwrap_or(false);
    if in_checked_call {
        // If multiple errors occur, keep the first one since that's likely going to be the
        // cause of the other errors
        let _ = CURRENT_X11_ERROR.try_with(|error| {
            if error.get().is_none() {
                error.set(Some(caught));
            }
        });
    } else {
        crate::warn!(
            "X11 error on baseview's connection outside a checked call, ignored: error code {}, \
             request {}.{}, resource {:#x}",
            caught.error_code,
            caught.request_code,
            caught.minor_code,
            caught.resourceid
        );
    }
    0
}

fn as_address(handler: Option<ErrorHandlerFn>) -> usize {
    handler.map_or(0, |h| h as *const () as usize)
}

fn our_address() -> usize {
    as_address(Some(chained_error_handler))
}

/// Called once a display is open: from now on its errors are baseview's to handle.
pub(crate) fn register_display(conn: &XlibConnection) {
    let display = conn.as_raw();
    let registered = OUR_DISPLAYS.iter().any(|d| {
        d.compare_exchange(ptr::null_mut(), display, Ordering::AcqRel, Ordering::Acquire).is_ok()
    });
    if !registered {
        crate::warn!(
            "Over {DISPLAY_SLOTS} baseview displays: this one's errors go to the previous handler"
        );
    }
    let mut installed = INSTALLED.lock().unwrap_or_else(PoisonError::into_inner);
    if !*installed {
        crate::wrappers::pin::pin_this_library("it holds the process's X11 error handler");
        let previous = conn.set_error_handler(Some(chained_error_handler));
        if as_address(previous) != our_address() {
            PREVIOUS_HANDLER.store(as_address(previous), Ordering::Release);
        }
        *installed = true;
    }
}

/// Called once a display is closed (its last errors have been handled by then).
pub(crate) fn unregister_display(display: *mut xlib::Display) {
    for d in &OUR_DISPLAYS {
        if d.compare_exchange(display, ptr::null_mut(), Ordering::AcqRel, Ordering::Acquire).is_ok()
        {
            return;
        }
    }
}

/// A helper struct for safe X11 error handling.
pub struct XErrorHandler<'a> {
    conn: &'a XlibConnection,
    error: &'a Cell<Option<CaughtXLibError>>,
}

impl<'a> XErrorHandler<'a> {
    /// Syncs and checks if any previous X11 calls from the given display returned an error.
    pub fn check(&self) -> Result<(), XLibError> {
        // Flush all possible previous errors
        self.conn.sync();

        let error = self.error.take();

        match error {
            None => Ok(()),
            Some(inner) => Err(XLibError::from_inner(inner, self.conn)),
        }
    }

    /// Catches the X11 errors of the given closure's calls on this display (the process's
    /// handler is baseview's chained one for as long as the display is open), and allows that
    /// closure to check on the latest X11 error at any time.
    pub fn handle<T, F: FnOnce(&mut XErrorHandler) -> T>(conn: &XlibConnection, handler: F) -> T {
        struct Scope(bool);
        impl Drop for Scope {
            fn drop(&mut self) {
                IN_CHECKED_CALL.with(|c| c.set(self.0));
            }
        }

        // Flush all possible previous errors
        conn.sync();

        CURRENT_X11_ERROR.with(|error| {
            // Make sure to clear any errors from the last call to this function
            error.set(None);
            let _scope = Scope(IN_CHECKED_CALL.with(|c| c.replace(true)));
            let mut h = XErrorHandler { conn, error };
            handler(&mut h)
        })
    }
}

#[derive(Copy, Clone)]
struct CaughtXLibError {
    type_: c_int,
    resourceid: xlib::XID,
    serial: c_ulong,
    error_code: c_uchar,
    request_code: c_uchar,
    minor_code: c_uchar,
}

impl CaughtXLibError {
    fn from_event(error: xlib::XErrorEvent) -> CaughtXLibError {
        Self {
            type_: error.type_,
            resourceid: error.resourceid,
            serial: error.serial,

            error_code: error.error_code,
            request_code: error.request_code,
            minor_code: error.minor_code,
        }
    }
}

pub struct XLibError {
    inner: CaughtXLibError,
    display_name: Box<str>,
}

impl XLibError {
    fn from_inner(inner: CaughtXLibError, conn: &XlibConnection) -> Self {
        let mut buf = [0; 255];
        let cstr = conn.get_error_text(&mut buf, inner.error_code);

        Self { display_name: cstr.to_string_lossy().into(), inner }
    }
}

impl Debug for XLibError {
    fn fmt(&self, f: &mut Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("XLibError")
            .field("error_code", &self.inner.error_code)
            .field("error_message", &self.display_name)
            .field("minor_code", &self.inner.minor_code)
            .field("request_code", &self.inner.request_code)
            .field("type", &self.inner.type_)
            .field("resource_id", &self.inner.resourceid)
            .field("serial", &self.inner.serial)
            .finish()
    }
}

impl Display for XLibError {
    fn fmt(&self, f: &mut Formatter<'_>) -> std::fmt::Result {
        write!(f, "XLib error: {} (error code {})", self.display_name, self.inner.error_code)
    }
}

impl Error for XLibError {}
