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
        assert_eq!(component.initialize(std::ptr::null_mut()), kResultOk);
        component
    }
}
