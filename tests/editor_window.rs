//! The real editor window, opened by a CLAP host the way a DAW opens it: embedded in the
//! host's X11 window on a private Xvfb display (Mesa renders the OpenGL), with the plugin
//! processing audio at the same time. Needs `Xvfb` (CI installs xvfb and Mesa).

mod common;

use clack_extensions::gui::{GuiApiType, GuiConfiguration, PluginGui, Window};
use common::host::{state_json, Instance, Timeline};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use x11rb::connection::Connection;
use x11rb::protocol::xproto::{ConnectionExt, CreateWindowAux, WindowClass};

/// A private X server for this test process, stopped when dropped.
struct Xvfb(Child);

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_xvfb() -> (Xvfb, String) {
    for n in 0..50 {
        let display = 140 + (std::process::id() as usize + n) % 200;
        if std::path::Path::new(&format!("/tmp/.X{display}-lock")).exists() {
            continue;
        }
        let child = Command::new("Xvfb")
            .args([
                &format!(":{display}"),
                "-screen",
                "0",
                "1024x768x24",
                "-nolisten",
                "tcp",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect(
                "Xvfb is needed for this test: apt-get install xvfb libgl1-mesa-dri libglx-mesa0",
            );
        let socket = format!("/tmp/.X11-unix/X{display}");
        let deadline = Instant::now() + Duration::from_secs(10);
        while !std::path::Path::new(&socket).exists() {
            assert!(
                Instant::now() < deadline,
                "Xvfb did not start on :{display}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        return (Xvfb(child), format!(":{display}"));
    }
    panic!("no free X display number");
}

fn wait_for(what: &str, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn the_editor_opens_in_the_hosts_window_while_audio_runs_and_closes_cleanly() {
    let (_xvfb, display) = start_xvfb();
    // This binary has one test, so nothing else reads the environment concurrently.
    std::env::set_var("DISPLAY", &display);

    // The host's window that the editor embeds into.
    let (conn, screen_num) = x11rb::connect(Some(&display)).expect("connecting to Xvfb");
    let screen = &conn.setup().roots[screen_num];
    let parent = conn.generate_id().unwrap();
    conn.create_window(
        screen.root_depth,
        parent,
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
    conn.map_window(parent).unwrap();
    conn.flush().unwrap();
    let children = |conn: &x11rb::rust_connection::RustConnection| {
        conn.query_tree(parent)
            .unwrap()
            .reply()
            .unwrap()
            .children
            .len()
    };

    let mut plugin = Instance::new();
    let mut processor = plugin.activate(48_000.0, 256, 2);
    let timeline = Timeline::new(48_000.0, 120.0, (4, 4));

    let h = plugin.instance.plugin_handle();
    let gui: PluginGui = h.get_extension().expect("the plugin has an editor");
    let embedded = GuiConfiguration {
        api_type: GuiApiType::X11,
        is_floating: false,
    };
    assert!(gui.is_api_supported(&h, embedded));
    gui.create(&h, embedded).expect("creating the editor");
    let _ = gui.set_scale(&h, 1.0);
    let size = gui.get_size(&h).expect("a size");
    assert_eq!((size.width, size.height), (820, 560), "the default size");
    assert!(gui.can_resize(&h), "the window is resizable");
    // SAFETY: `parent` is a live X11 window on the display the plugin connects to.
    unsafe { gui.set_parent(&h, Window::from_x11_handle(parent as _)) }.expect("embedding");
    gui.show(&h).expect("showing");
    wait_for("the editor's window inside the host's", || {
        children(&conn) > 0
    });

    // Audio keeps flowing while the editor is open (it now publishes the playhead).
    let mut pos = 0i64;
    for _ in 0..200 {
        let t = timeline.at(pos);
        processor.process(256, Some(&t));
        pos += 256;
        std::thread::sleep(Duration::from_millis(1));
    }

    // A resize from the host is taken and remembered with the project.
    let h = plugin.instance.plugin_handle();
    let wanted = clack_extensions::gui::GuiSize {
        width: 900,
        height: 620,
    };
    gui.set_size(&h, wanted).expect("resizing");
    wait_for("the new size in the saved state", || {
        let state = state_json(&plugin.save_state());
        state["fields"]["editor-size"].as_str() == Some("[900,620]")
    });
    let h = plugin.instance.plugin_handle();
    gui.hide(&h).expect("hiding");
    gui.destroy(&h);
    wait_for("the editor's window to go", || children(&conn) == 0);
    plugin.deactivate(processor);
    // A fresh instance loading that project opens at the remembered size.
    let blob = plugin.save_state();
    let mut again = Instance::new();
    again.load_state(&blob);
    let h = again.instance.plugin_handle();
    let gui: PluginGui = h.get_extension().expect("the plugin has an editor");
    gui.create(&h, embedded).expect("creating the editor again");
    let size = gui.get_size(&h).expect("a size");
    assert_eq!((size.width, size.height), (900, 620));
    gui.destroy(&h);
}
