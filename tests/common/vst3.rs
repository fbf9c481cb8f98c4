//! Loading the plugin as a VST3 host does: `ModuleEntry`, `GetPluginFactory`, a component.

#![allow(dead_code)]

use std::ffi::{c_void, CStr};
use std::path::PathBuf;
use std::sync::OnceLock;
use vst3::Steinberg::Vst::IComponent;
use vst3::Steinberg::{kResultOk, IPluginBaseTrait, IPluginFactory, IPluginFactoryTrait};
use vst3::{ComPtr, Interface};

pub const CLASS_ID: [u8; 16] = *b"LinerNotesPlugin";

pub fn library_path() -> PathBuf {
    if let Some(dir) = std::env::var_os("LINER_NOTES_BUNDLE_DIR") {
        let arch = format!("{}-linux", std::env::consts::ARCH);
        let p = PathBuf::from(dir).join(format!("Liner Notes.vst3/Contents/{arch}/Liner Notes.so"));
        assert!(p.exists(), "bundle missing: {}", p.display());
        return p;
    }
    super::host::liner_notes_library()
}

pub fn c_str(bytes: &[std::ffi::c_char]) -> String {
    // SAFETY: VST3 strings are NUL-terminated within their fixed-size arrays.
    unsafe { CStr::from_ptr(bytes.as_ptr()) }
        .to_string_lossy()
        .into_owned()
}

/// The library, loaded once per test process and kept loaded, as hosts do; `ModuleEntry` is
/// called once after loading.
pub struct Module {
    pub lib: &'static libloading::Library,
}

impl Module {
    pub fn load() -> Self {
        static LIB: OnceLock<libloading::Library> = OnceLock::new();
        let lib = LIB.get_or_init(|| {
            // SAFETY: loading this workspace's own plugin library; the signature is the VST3
            // Linux module entry point.
            unsafe {
                let lib = libloading::Library::new(library_path()).expect("dlopen");
                let entry: libloading::Symbol<extern "C" fn(*mut c_void) -> bool> =
                    lib.get(b"ModuleEntry").expect("ModuleEntry exported");
                assert!(entry(std::ptr::null_mut()));
                lib
            }
        });
        Module { lib }
    }

    pub fn factory(&self) -> ComPtr<IPluginFactory> {
        // SAFETY: GetPluginFactory returns an owned reference to the factory.
        unsafe {
            let get: libloading::Symbol<extern "system" fn() -> *mut c_void> = self
                .lib
                .get(b"GetPluginFactory")
                .expect("GetPluginFactory exported");
            ComPtr::from_raw(get() as *mut IPluginFactory).expect("non-null factory")
        }
    }
}

pub fn create_component(factory: &ComPtr<IPluginFactory>) -> ComPtr<IComponent> {
    create_component_in(factory, std::ptr::null_mut())
}

/// [`create_component`], initialized with the host's `context` (its `IHostApplication`).
pub fn create_component_in(
    factory: &ComPtr<IPluginFactory>,
    context: *mut vst3::Steinberg::FUnknown,
) -> ComPtr<IComponent> {
    let cid = CLASS_ID.map(|b| b as std::ffi::c_char);
    let iid = IComponent::IID.map(|b| b as std::ffi::c_char);
    let mut obj: *mut c_void = std::ptr::null_mut();
    // SAFETY: createInstance writes an owned IComponent pointer on success.
    unsafe {
        assert_eq!(
            factory.createInstance(cid.as_ptr(), iid.as_ptr(), &mut obj),
            kResultOk
        );
        let component = ComPtr::from_raw(obj as *mut IComponent).expect("component");
        assert_eq!(component.initialize(context), kResultOk);
        component
    }
}

/// An `IBStream` over memory, for `IComponent::getState` and `setState`.
#[derive(Default)]
pub struct MemoryStream {
    data: std::cell::RefCell<Vec<u8>>,
    pos: std::cell::Cell<usize>,
}

impl vst3::Class for MemoryStream {
    type Interfaces = (vst3::Steinberg::IBStream,);
}

impl MemoryStream {
    pub fn with(bytes: Vec<u8>) -> vst3::ComWrapper<Self> {
        vst3::ComWrapper::new(MemoryStream {
            data: std::cell::RefCell::new(bytes),
            pos: std::cell::Cell::new(0),
        })
    }

    pub fn bytes(&self) -> Vec<u8> {
        self.data.borrow().clone()
    }
}

impl vst3::Steinberg::IBStreamTrait for MemoryStream {
    unsafe fn read(&self, buffer: *mut c_void, n: i32, read: *mut i32) -> vst3::Steinberg::tresult {
        let data = self.data.borrow();
        let from = self.pos.get().min(data.len());
        let count = (n.max(0) as usize).min(data.len() - from);
        // SAFETY: the caller's buffer holds `n` bytes.
        unsafe { std::ptr::copy_nonoverlapping(data[from..].as_ptr(), buffer.cast(), count) };
        self.pos.set(from + count);
        if !read.is_null() {
            // SAFETY: a non-null out-parameter from the caller.
            unsafe { *read = count as i32 };
        }
        kResultOk
    }

    unsafe fn write(
        &self,
        buffer: *mut c_void,
        n: i32,
        written: *mut i32,
    ) -> vst3::Steinberg::tresult {
        let mut data = self.data.borrow_mut();
        let at = self.pos.get();
        // SAFETY: the caller's buffer holds `n` bytes.
        let bytes = unsafe { std::slice::from_raw_parts(buffer as *const u8, n.max(0) as usize) };
        if data.len() < at + bytes.len() {
            data.resize(at + bytes.len(), 0);
        }
        data[at..at + bytes.len()].copy_from_slice(bytes);
        self.pos.set(at + bytes.len());
        if !written.is_null() {
            // SAFETY: as above.
            unsafe { *written = n };
        }
        kResultOk
    }

    unsafe fn seek(&self, pos: i64, mode: i32, result: *mut i64) -> vst3::Steinberg::tresult {
        let len = self.data.borrow().len() as i64;
        let base = match mode {
            0 => 0,
            1 => self.pos.get() as i64,
            _ => len,
        };
        let to = (base + pos).clamp(0, len);
        self.pos.set(to as usize);
        if !result.is_null() {
            // SAFETY: as above.
            unsafe { *result = to };
        }
        kResultOk
    }

    unsafe fn tell(&self, pos: *mut i64) -> vst3::Steinberg::tresult {
        if !pos.is_null() {
            // SAFETY: as above.
            unsafe { *pos = self.pos.get() as i64 };
        }
        kResultOk
    }
}
