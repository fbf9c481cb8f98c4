//! The real editor window, opened by a CLAP host the way a DAW opens it: embedded in the
//! host's X11 window on a private Xvfb display (Mesa renders the OpenGL), with the plugin
//! processing audio at the same time. Needs `Xvfb` (CI installs xvfb and Mesa).

mod common;

use clack_extensions::gui::{GuiApiType, GuiConfiguration, PluginGui, Window};
use common::host::{state_json, Instance, Timeline};
use common::xvfb::{self, threads, HostWindow};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn wait_for(what: &str, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !ok() {
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what} ({} threads)",
            threads()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Set in the child process that runs the scenario.
const CHILD_ENV: &str = "LINER_EDITOR_WINDOW_CHILD";
const PASSED: &str = "EDITOR-WINDOW-SCENARIO-PASSED";

/// The scenario runs in a child process, which leaves with `_exit` once every assertion held:
/// the GL stack (Mesa) unloads its driver from thread-exit and process-exit destructors, which
/// sometimes crash while the process winds down (not in anything a host sees while the plugin
/// is loaded). A scenario that does not finish in 90 s fails the test: closing the editor has
/// a bounded wait (see tests/editor_stress.rs for the thousand-close version).
fn main() {
    if std::env::var_os(CHILD_ENV).is_some() {
        open_use_and_close_the_editor();
        println!("{PASSED}");
        use std::io::Write;
        let _ = std::io::stdout().flush();
        // SAFETY: ends the process without running exit-time destructors (see above).
        unsafe { libc::_exit(0) };
    }
    let exe = std::env::current_exe().unwrap();
    let mut child = Command::new(&exe)
        .env(CHILD_ENV, "1")
        .stdout(Stdio::piped())
        .spawn()
        .expect("running the scenario");
    let deadline = Instant::now() + Duration::from_secs(90);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut out = String::new();
    use std::io::Read;
    let _ = child.stdout.take().unwrap().read_to_string(&mut out);
    match status {
        Some(s) if s.success() && out.contains(PASSED) => {
            println!(
                "test the_editor_opens_in_the_hosts_window_while_audio_runs_and_closes_cleanly ... ok"
            );
            println!(
                "\ntest result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out"
            );
        }
        Some(s) => panic!("the editor window scenario failed ({s}):\n{out}"),
        None => panic!("the editor window scenario did not finish in 90 s (a hang):\n{out}"),
    }
}

fn open_use_and_close_the_editor() {
    let x = xvfb::start();
    let display = x.display.clone();
    // This binary has one test, so nothing else reads the environment concurrently. A config
    // folder of its own: no last-used server, so no sync threads come and go during the test.
    std::env::set_var("DISPLAY", &display);
    let config = tempfile::tempdir().unwrap();
    std::env::set_var("LINER_NOTES_CONFIG_DIR", config.path());

    // The host's window that the editor embeds into.
    let (conn, screen_num) = x11rb::connect(Some(&display)).expect("connecting to Xvfb");
    let parent = HostWindow::new(&conn, screen_num);

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
    let threads_before = threads();
    gui.create(&h, embedded).expect("creating the editor");
    let _ = gui.set_scale(&h, 1.0);
    let size = gui.get_size(&h).expect("a size");
    assert_eq!((size.width, size.height), (820, 560), "the default size");
    assert!(gui.can_resize(&h), "the window is resizable");
    // SAFETY: `parent` is a live X11 window on the display the plugin connects to.
    unsafe { gui.set_parent(&h, Window::from_x11_handle(parent.id as _)) }.expect("embedding");
    gui.show(&h).expect("showing");
    wait_for("the editor's window inside the host's", || {
        parent.children() > 0
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
    wait_for("the editor's window to go", || parent.children() == 0);
    wait_for("the editor's window thread to end", || {
        threads() <= threads_before
    });
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
    drop(again);
    drop(plugin);
}
