//! The plugin window: nice-plug-egui's editor, opened at the size saved with the project.
//!
//! nice-plug asks the plugin for its editor once, when the instance is created, before the
//! host loads the project; nice-plug-egui then keeps the size it was given. So the window
//! would always open at the default size. [`LinerEditor`] rebuilds the egui editor (sharing
//! the same [`EditorApp`], so drafts survive) whenever the saved size differs from the one it
//! was built with and no window is open.

use super::{EditorApp, PluginEditor, MIN_SIZE};
use nice_plug::context::gui::GuiContext;
use nice_plug::editor::dpi::{LogicalSize, NativeSize};
use nice_plug::editor::{Editor, HostMethods, ParentWindowHandle, ResizeHint, SpawnedEditor};
use nice_plug::prelude::TrackInfo;
use nice_plug_egui::{
    EguiEditor, EguiEditorHandle, EguiEditorState, EguiNiceSettings, RepaintNotifier,
};
use parking_lot::{Mutex, RwLock};
use std::error::Error;
use std::sync::Arc;

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
        let current = *size.read();
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
        let wanted = *self.size.read();
        if built.size != wanted && !built.state.is_open() {
            *built = build(&self.app, &self.notifier, wanted);
        }
        built
    }
}

impl Editor for LinerEditor {
    type Handle = EguiEditorHandle;

    fn spawn(
        &self,
        parent: Option<ParentWindowHandle>,
        wait_for_parent: bool,
        fallback_scale_factor: Option<f64>,
        gui_context: GuiContext,
        host: Option<HostMethods>,
    ) -> Result<SpawnedEditor<Self::Handle>, Box<dyn Error>> {
        self.current().editor.spawn(
            parent,
            wait_for_parent,
            fallback_scale_factor,
            gui_context,
            host,
        )
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
