//! A private X server (Xvfb, rendered by Mesa) for the tests that open the real editor window.

#![allow(dead_code)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use x11rb::connection::Connection;
use x11rb::protocol::xproto::{ConnectionExt, CreateWindowAux, WindowClass};
use x11rb::rust_connection::RustConnection;

/// A private X server for this test process. It outlives the process by a moment: a small
/// shell watcher stops it once the process is gone. (Stopping it earlier would pull the display
/// from under connections the GL stack keeps open until exit, and Xlib ends the process with an
/// error when its display goes away.)
pub struct Xvfb {
    _watcher: Child,
    /// The display name, `:N`.
    pub display: String,
}

/// Starts Xvfb on a free display number; panics with the packages to install when it is
/// missing.
pub fn start() -> Xvfb {
    assert!(
        Command::new("Xvfb")
            .arg("-help")
            .stderr(Stdio::null())
            .status()
            .is_ok(),
        "Xvfb is needed for this test: apt-get install xvfb libgl1-mesa-dri libglx-mesa0"
    );
    for n in 0..50 {
        let display = 140 + (std::process::id() as usize + n) % 200;
        if std::path::Path::new(&format!("/tmp/.X{display}-lock")).exists() {
            continue;
        }
        // The watcher ends Xvfb once this process is gone (or Xvfb itself ended).
        let script = format!(
            "Xvfb :{display} -screen 0 1280x1024x24 -nolisten tcp & x=$!; \
             while kill -0 {pid} 2>/dev/null && kill -0 $x 2>/dev/null; do sleep 0.2; done; \
             kill $x 2>/dev/null",
            pid = std::process::id()
        );
        let child = Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting sh");
        let socket = format!("/tmp/.X11-unix/X{display}");
        let deadline = Instant::now() + Duration::from_secs(10);
        while !std::path::Path::new(&socket).exists() {
            assert!(
                Instant::now() < deadline,
                "Xvfb did not start on :{display}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        return Xvfb {
            _watcher: child,
            display: format!(":{display}"),
        };
    }
    panic!("no free X display number");
}

/// Threads of this process right now.
pub fn threads() -> usize {
    std::fs::read_dir("/proc/self/task").map_or(0, |d| d.count())
}

/// Threads of this process with this name (Linux keeps the first 15 bytes).
pub fn threads_named(name: &str) -> usize {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    tasks
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .filter(|comm| comm.trim_end() == name)
        .count()
}

/// A host's window that the editor embeds into, mapped on creation.
pub struct HostWindow<'a> {
    conn: &'a RustConnection,
    pub id: u32,
}

impl<'a> HostWindow<'a> {
    pub fn new(conn: &'a RustConnection, screen: usize) -> Self {
        let screen = &conn.setup().roots[screen];
        let id = conn.generate_id().unwrap();
        conn.create_window(
            screen.root_depth,
            id,
            screen.root,
            0,
            0,
            1000,
            700,
            0,
            WindowClass::INPUT_OUTPUT,
            screen.root_visual,
            &CreateWindowAux::new().background_pixel(screen.black_pixel),
        )
        .unwrap();
        conn.map_window(id).unwrap();
        conn.flush().unwrap();
        HostWindow { conn, id }
    }

    /// Windows inside it (the editor's, once embedded).
    pub fn children(&self) -> usize {
        self.conn
            .query_tree(self.id)
            .ok()
            .and_then(|c| c.reply().ok())
            .map_or(0, |r| r.children.len())
    }

    pub fn destroy(&self) {
        self.conn.destroy_window(self.id).unwrap();
        self.conn.flush().unwrap();
    }
}
