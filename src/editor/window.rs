//! The plugin window: nice-plug-egui's editor, opened at the size saved with the project.
//!
//! nice-plug asks the plugin for its editor once, when the instance is created, before the
//! host loads the project; nice-plug-egui then keeps the size it was given. So the window
//! would always open at the default size. [`LinerEditor`] rebuilds the egui editor (sharing
//! the same [`EditorApp`], so drafts survive) whenever the saved size differs from the one it
//! was built with and no window is open.

use super::{EditorApp, MIN_SIZE};
use nice_plug::context::gui::GuiContext;
use nice_plug::editor::dpi::{LogicalSize, NativeSize};
use nice_plug::editor::{
    Editor, EditorHandle, HostMethods, Modifiers, ParentWindowHandle, ResizeHint, SpawnedEditor,
    VirtualKeyCode,
};
use nice_plug::prelude::TrackInfo;
use nice_plug_egui::{
    EguiEditor, EguiEditorHandle, EguiEditorState, EguiNiceSettings, RepaintNotifier,
};
use parking_lot::{Mutex, RwLock};
use std::error::Error;
use std::sync::Arc;

/// Largest window size accepted from a saved project (a corrupt or hostile project must not
/// make the window impossible to create).
pub const MAX_SIZE: (u32, u32) = (8192, 8192);

/// A saved size made usable.
pub fn clamp_size((w, h): (u32, u32)) -> (u32, u32) {
    (
        w.clamp(MIN_SIZE.0 as u32, MAX_SIZE.0),
        h.clamp(MIN_SIZE.1 as u32, MAX_SIZE.1),
    )
}

struct Built {
    size: (u32, u32),
    state: Arc<EguiEditorState>,
    editor: EguiEditor<PluginEditor>,
}

pub struct LinerEditor {
    app: Arc<Mutex<EditorApp>>,
    size: Arc<RwLock<(u32, u32)>>,
    notifier: RepaintNotifier,
    built: Mutex<Built>,
}

fn resize_hint() -> ResizeHint {
    ResizeHint::resizable().with_min_logical_size(LogicalSize::new(MIN_SIZE.0, MIN_SIZE.1))
}

fn build(app: &Arc<Mutex<EditorApp>>, notifier: &RepaintNotifier, size: (u32, u32)) -> Built {
    let state = EguiEditorState::from_size(LogicalSize::new(size.0 as f32, size.1 as f32), 1.0);
    let settings = EguiNiceSettings::new()
        .with_tile("Liner Notes")
        .with_resize_hint(resize_hint());
    let editor = nice_plug_egui::create_egui_editor(
        state.clone(),
        notifier.clone(),
        settings,
        PluginEditor { app: app.clone() },
    )
    .expect("nice-plug-egui always builds an editor");
    Built {
        size,
        state,
        editor,
    }
}

impl LinerEditor {
    /// `size` is the persisted window size (logical points), which the window also updates
    /// when it is resized.
    pub fn new(app: EditorApp, size: Arc<RwLock<(u32, u32)>>, notifier: RepaintNotifier) -> Self {
        let app = Arc::new(Mutex::new(app));
        let current = clamp_size(*size.read());
        let built = build(&app, &notifier, current);
        LinerEditor {
            app,
            size,
            notifier,
            built: Mutex::new(built),
        }
    }

    /// The egui editor for the saved size (rebuilt if the project brought another one).
    fn current(&self) -> parking_lot::MutexGuard<'_, Built> {
        let mut built = self.built.lock();
        let wanted = clamp_size(*self.size.read());
        if built.size != wanted && !built.state.is_open() {
            *built = build(&self.app, &self.notifier, wanted);
        }
        built
    }
}

impl Editor for LinerEditor {
    type Handle = LinerEditorHandle;

    fn spawn(
        &self,
        parent: Option<ParentWindowHandle>,
        wait_for_parent: bool,
        fallback_scale_factor: Option<f64>,
        gui_context: GuiContext,
        host: Option<HostMethods>,
    ) -> Result<SpawnedEditor<Self::Handle>, Box<dyn Error>> {
        let spawned = self.current().editor.spawn(
            parent,
            wait_for_parent,
            fallback_scale_factor,
            gui_context,
            host,
        )?;
        Ok(SpawnedEditor {
            handle: LinerEditorHandle {
                inner: spawned.handle,
                app: self.app.clone(),
            },
            window: spawned.window,
        })
    }

    fn size(&self) -> NativeSize<u32> {
        self.current().editor.size()
    }

    fn resize_hint(&self) -> ResizeHint {
        resize_hint()
    }

    fn track_info_updated(&self, info: TrackInfo) {
        self.current().editor.track_info_updated(info);
    }

    unsafe fn assume_standalone_in_process(&self) {
        // SAFETY: the caller upholds `Editor::assume_standalone_in_process`'s contract.
        unsafe { self.current().editor.assume_standalone_in_process() }
    }
}

/// The open window. nice-plug-egui 0.6 never tells the app that its window closed, so this
/// handle does when the host drops it: the playhead subscription and the record watch end
/// with the window (a closed editor costs nothing).
pub struct LinerEditorHandle {
    inner: EguiEditorHandle,
    app: Arc<Mutex<EditorApp>>,
}

impl Drop for LinerEditorHandle {
    fn drop(&mut self) {
        self.app.lock().close();
    }
}

impl EditorHandle for LinerEditorHandle {
    type Window = <EguiEditorHandle as EditorHandle>::Window;
    type Error = <EguiEditorHandle as EditorHandle>::Error;

    fn run_until_closed(window: Self::Window) -> Result<(), Self::Error> {
        EguiEditorHandle::run_until_closed(window)
    }

    fn set_parent(
        &self,
        parent: ParentWindowHandle,
        window: &Self::Window,
    ) -> Result<(), Self::Error> {
        self.inner.set_parent(parent, window)
    }

    fn show(&self, window: &Self::Window) -> Result<(), Self::Error> {
        self.inner.show(window)
    }

    fn hide(&self, window: &Self::Window) -> Result<(), Self::Error> {
        self.inner.hide(window)
    }

    fn set_size(
        &self,
        new_size: NativeSize<u32>,
        window: &Self::Window,
    ) -> Result<(), Self::Error> {
        self.inner.set_size(new_size, window)
    }

    fn host_main_thread_callback(&self, window: &Self::Window) {
        self.inner.host_main_thread_callback(window)
    }

    fn adjust_size(
        &self,
        new_size: NativeSize<u32>,
        window: &Self::Window,
    ) -> Option<NativeSize<u32>> {
        self.inner.adjust_size(new_size, window)
    }

    fn set_fallback_scale_factor(
        &self,
        scale_factor: f64,
        window: &Self::Window,
    ) -> Result<(), Self::Error> {
        self.inner.set_fallback_scale_factor(scale_factor, window)
    }

    fn on_virtual_key_from_host(
        &self,
        key_code: VirtualKeyCode,
        is_down: bool,
        modifiers: Modifiers,
    ) -> bool {
        self.inner
            .on_virtual_key_from_host(key_code, is_down, modifiers)
    }

    fn state_changed(&self) {
        self.inner.state_changed()
    }

    fn param_value_changed(&self, id: &str, normalized_value: f32) {
        self.inner.param_value_changed(id, normalized_value)
    }

    fn param_modulation_changed(&self, id: &str, modulation_offset: f32) {
        self.inner.param_modulation_changed(id, modulation_offset)
    }
}

/// The nice-plug-egui side: the window opens and closes, the host reports the track. The app
/// is shared so that the window can be rebuilt (see [`window`]) without losing the draft.
pub struct PluginEditor {
    pub app: Arc<parking_lot::Mutex<EditorApp>>,
}

impl nice_plug_egui::NiceEguiApp for PluginEditor {
    fn build(
        &mut self,
        egui_ctx: egui::Context,
        _gui: nice_plug::context::gui::GuiContext,
        _frame: &mut nice_plug_egui::Frame,
    ) -> Result<(), nice_plug_egui::baseview::HandlerError> {
        // The first frame opens the app's subscriptions (`EditorApp::show`).
        super::ui::style(&egui_ctx);
        Ok(())
    }

    fn ui(&mut self, ui: &mut egui::Ui, frame: &mut nice_plug_egui::Frame) {
        self.app.lock().show(ui);
        // Keys go to the host unless a text field is being typed in: the DAW's own
        // shortcuts (space for play) keep working while the window has focus.
        let capture = if ui.ctx().egui_wants_keyboard_input() {
            nice_plug_egui::KeyCapture::CaptureAll
        } else {
            nice_plug_egui::KeyCapture::IgnoreAll
        };
        frame.set_key_capture(capture);
    }

    fn resized(&mut self, new_size: nice_plug_egui::baseview::WindowSize) {
        let l = new_size.logical;
        *self.app.lock().size.write() = (l.width.round() as u32, l.height.round() as u32);
    }

    fn editor_closed(&mut self) {
        self.app.lock().close();
    }

    fn track_info_changed(&mut self, info: TrackInfo) {
        let color = info.color().map(|c| {
            let (r, g, b, _) = c.rgba();
            (r, g, b)
        });
        self.app.lock().set_track_info(info.name(), color);
    }
}
