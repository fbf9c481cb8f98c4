//! Slow work the editor asks for (exports, test connection, saving settings files) runs on a
//! short-lived thread, never on the GUI thread; the editor polls the result each frame and is
//! woken when it is ready.

use crate::worker::Repaint;
use parking_lot::Mutex;
use std::sync::Arc;

/// A piece of work running off the GUI thread.
pub struct Chore<T> {
    result: Arc<Mutex<Option<T>>>,
}

impl<R: Send + 'static> Chore<Result<R, String>> {
    /// Starts `work` on its own thread; `repaint` is called when it is done. If no thread can
    /// be started the chore is finished at once with that error (nothing waits forever).
    pub fn spawn(
        name: &str,
        repaint: Repaint,
        work: impl FnOnce() -> Result<R, String> + Send + 'static,
    ) -> Self {
        let result = Arc::new(Mutex::new(None));
        let slot = result.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("liner-notes-{name}"))
            .spawn(move || {
                let out = work();
                *slot.lock() = Some(out);
                repaint();
            });
        if let Err(e) = spawned {
            *result.lock() = Some(Err(format!("could not start {name}: {e}")));
        }
        Chore { result }
    }
}

impl<T> Chore<T> {
    /// The result, once (None while running).
    pub fn take(&self) -> Option<T> {
        self.result.lock().take()
    }
}

/// Where exports go: `$LINER_NOTES_EXPORT_DIR`, else `Documents/Liner Notes`, else the home
/// folder's `Liner Notes`.
pub fn export_dir() -> std::path::PathBuf {
    std::env::var_os("LINER_NOTES_EXPORT_DIR")
        .filter(|d| !d.is_empty())
        .map(std::path::PathBuf::from)
        .or_else(|| dirs::document_dir().map(|d| d.join("Liner Notes")))
        .or_else(|| dirs::home_dir().map(|d| d.join("Liner Notes")))
        .unwrap_or_else(|| std::env::temp_dir().join("Liner Notes"))
}
