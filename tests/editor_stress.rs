//! The editor never takes the host down: a CLAP host opens and closes the real editor window
//! over and over, in every order DAWs use, in several processes sharing one Xvfb display, while
//! audio runs on its own thread and marks sync to a real record server.
//!
//! The orders (each cycle takes the next one):
//! - **resize, hide, close**: the host resizes the window, hides it, then destroys the editor;
//! - **host window first**: the host destroys its own window (and so ours inside it) and only
//!   then asks the plugin to close (Bitwig's order);
//! - **instance with the editor open**: the host removes the plugin without closing its editor;
//! - **reopen quickly**: close and open again at once, and open and close without ever showing;
//! - **close mid-sync**: close right after a mark, while the sync threads push it.
//!
//! A run fails on any close that takes over a second, a panic in any thread (the plugin's
//! own panic hook prints to stderr, which the parent reads), an X error that reaches Xlib's
//! default handler (it prints "X Error of failed request" and exits the process), an editor
//! window thread still alive after its close returned, an X error of ours that reaches the
//! host's own error handler (half the processes install one, as DAWs do) or an error of the
//! host's that no longer does, and a mark that never reaches the server.
//!
//! One more process is a VST3 host (the same library through `ModuleEntry`, `IPlugView`
//! attached to an X11 window and removed) going through the orders that apply to VST3: removed,
//! its window destroyed first, the component released with the view attached, reopened at once.
//!
//! `LINER_EDITOR_STRESS_CYCLES` sets the total number of cycles (200 by default, which CI
//! runs; `cargo xtask editor-stress` runs 1,200) and `LINER_EDITOR_STRESS_PROCESSES` the
//! number of CLAP host processes (2; the full run takes 3); the VST3 host does a quarter as many cycles as one of
//! them.

mod common;

use clack_extensions::gui::{GuiApiType, GuiConfiguration, GuiSize, PluginGui, Window};
use common::host::{instance_for, Instance, Processor, Timeline};
use common::xvfb::{self, HostWindow};
use liner_record::event::Body;
use liner_record::Role;
use liner_server::store::{SqliteStore, Store};
use rand::Rng;
use std::os::raw::c_int;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const CHILD_ENV: &str = "LINER_EDITOR_STRESS_CHILD";
const PASSED: &str = "EDITOR-STRESS-CHILD-PASSED";
/// baseview's window thread, by the name the patched copy gives it.
const WINDOW_THREAD: &str = "baseview-window";
/// The longest a host may wait for the editor to close.
const CLOSE_LIMIT: Duration = Duration::from_secs(1);

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    if let Ok(index) = std::env::var(CHILD_ENV) {
        let index: usize = index.parse().expect("child index");
        let cycles = env_usize("LINER_EDITOR_STRESS_CHILD_CYCLES", 10);
        let report = if std::env::var("LINER_EDITOR_STRESS_VST3").is_ok_and(|v| v == "1") {
            vst3_child(cycles)
        } else {
            child(index, cycles)
        };
        println!("{PASSED} {report}");
        use std::io::Write;
        let _ = std::io::stdout().flush();
        // SAFETY: ends the process without exit-time destructors: Mesa unloads its driver from
        // them and sometimes crashes there, after everything a host would see has passed.
        unsafe { libc::_exit(0) };
    }
    parent();
}

/// Starts Xvfb and the host processes, then reads what each said.
fn parent() {
    let total = env_usize("LINER_EDITOR_STRESS_CYCLES", 200);
    let processes = env_usize("LINER_EDITOR_STRESS_PROCESSES", 2).max(1);
    let x = xvfb::start();
    let exe = std::env::current_exe().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let children: Vec<_> = (0..=processes)
        .map(|i| {
            let cycles = if i == processes {
                (total / processes / 4).max(5)
            } else {
                total / processes + usize::from(i < total % processes)
            };
            let home = dir.path().join(format!("host-{i}"));
            std::fs::create_dir_all(&home).unwrap();
            let out = std::fs::File::create(home.join("stdout")).unwrap();
            let err = std::fs::File::create(home.join("stderr")).unwrap();
            let child = Command::new(&exe)
                .env(CHILD_ENV, i.to_string())
                .env(
                    "LINER_EDITOR_STRESS_VST3",
                    if i == processes { "1" } else { "" },
                )
                .env("LINER_EDITOR_STRESS_CHILD_CYCLES", cycles.to_string())
                .env("DISPLAY", &x.display)
                .env("LINER_NOTES_CONFIG_DIR", home.join("config"))
                .env("LINER_NOTES_DATA_DIR", home.join("data"))
                .stdin(Stdio::null())
                .stdout(out)
                .stderr(err)
                .spawn()
                .expect("starting a host process");
            (i, home, child)
        })
        .collect();
    // Generous: a cycle takes well under a second even on a loaded machine.
    let deadline = started + Duration::from_secs(60 + 3 * total as u64);
    let mut failures = Vec::new();
    for (i, home, mut child) in children {
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
        let out = std::fs::read_to_string(home.join("stdout")).unwrap_or_default();
        let err = std::fs::read_to_string(home.join("stderr")).unwrap_or_default();
        // The sync client's connection-pool chatter says nothing about the editor.
        let err: String = err
            .lines()
            .filter(|l| !l.contains(" DEBUG "))
            .flat_map(|l| [l, "\n"])
            .collect();
        let mut problems = Vec::new();
        match status {
            None => problems.push("did not finish in time (a hang)".to_string()),
            Some(s) if !s.success() => problems.push(format!("exited with {s}")),
            Some(_) => {}
        }
        if !out.contains(PASSED) {
            problems.push("did not finish its cycles".into());
        }
        if err.contains("panicked at") {
            problems.push("a thread panicked".into());
        }
        if err.contains("left to finish on its own") {
            problems.push("a window thread did not stop in time and was left behind".into());
        }
        if err.contains("X Error of failed request") || err.contains("XIO:") {
            problems.push("an X error reached Xlib's default handler".into());
        }
        if problems.is_empty() {
            let line = out.lines().find(|l| l.contains(PASSED)).unwrap_or_default();
            let kind = if i == processes { "VST3" } else { "CLAP" };
            println!(
                "{kind} host process {i}: {}",
                line.trim_start_matches(PASSED).trim()
            );
        } else {
            failures.push(format!(
                "host process {i}: {}\n--- stdout\n{}\n--- stderr (last 6000 bytes)\n{}",
                problems.join(", "),
                out,
                &err[err.len().saturating_sub(6000)..]
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "the editor misbehaved under a closing host:\n{}",
        failures.join("\n\n")
    );
    println!(
        "{total} open/close cycles in {processes} CLAP host processes and a VST3 host in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    println!("test the_editor_survives_every_way_a_host_closes_it ... ok");
    println!("\ntest result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out");
}

#[derive(Clone, Copy, Debug)]
enum Order {
    ResizeHideClose,
    HostWindowFirst,
    InstanceWithEditorOpen,
    ReopenQuickly,
    CloseMidSync,
}

const ORDERS: [Order; 5] = [
    Order::ResizeHideClose,
    Order::HostWindowFirst,
    Order::InstanceWithEditorOpen,
    Order::ReopenQuickly,
    Order::CloseMidSync,
];

/// Errors that reached the host's own Xlib error handler.
static HOST_ERRORS: AtomicUsize = AtomicUsize::new(0);

unsafe extern "C" fn host_error_handler(
    _display: *mut x11_dl::xlib::Display,
    _event: *mut x11_dl::xlib::XErrorEvent,
) -> c_int {
    HOST_ERRORS.fetch_add(1, Ordering::SeqCst);
    0
}

/// The host's own Xlib connection, with an error handler of its own, as a DAW built on Xlib
/// has. Errors it causes on purpose must reach that handler; the editor's must not.
struct HostXlib {
    xlib: x11_dl::xlib::Xlib,
    display: *mut x11_dl::xlib::Display,
    provoked: usize,
}

impl HostXlib {
    fn open() -> HostXlib {
        let xlib = x11_dl::xlib::Xlib::open().expect("libX11");
        // SAFETY: plain Xlib calls on a display this struct owns; XInitThreads comes first, as
        // a threaded host does.
        unsafe {
            (xlib.XInitThreads)();
            let display = (xlib.XOpenDisplay)(std::ptr::null());
            assert!(!display.is_null(), "opening the host's display");
            (xlib.XSetErrorHandler)(Some(host_error_handler));
            HostXlib {
                xlib,
                display,
                provoked: 0,
            }
        }
    }

    /// Maps a window that does not exist (BadWindow) and waits for the error.
    fn provoke_error(&mut self) {
        // SAFETY: the display is open; a bad window id is an X error, not undefined behaviour.
        unsafe {
            (self.xlib.XMapWindow)(self.display, 0x3fff_fff0);
            (self.xlib.XSync)(self.display, 0);
        }
        self.provoked += 1;
    }

    fn check(&self, when: &str) {
        assert_eq!(
            HOST_ERRORS.load(Ordering::SeqCst),
            self.provoked,
            "the host's own X error handler saw {} errors, the host caused {} ({when})",
            HOST_ERRORS.load(Ordering::SeqCst),
            self.provoked
        );
    }
}

/// Audio on a thread of its own, as a DAW's audio thread: the transport plays and the `Mark`
/// parameter drops a mark now and then.
struct Audio {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<(Processor, usize)>,
}

impl Audio {
    fn start(mut processor: Processor, mark: clack_host::prelude::ClapId) -> Audio {
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let thread = std::thread::Builder::new()
            .name("host-audio".into())
            .spawn(move || {
                let mut timeline = Timeline::new(48_000.0, 120.0, (4, 4));
                timeline.playing = true;
                let (mut pos, mut block, mut marks) = (0i64, 0u64, 0usize);
                while !stopping.load(Ordering::Acquire) {
                    match block % 40 {
                        0 => {
                            processor.set_param(0, mark, 1.0);
                            marks += 1;
                        }
                        1 => processor.set_param(0, mark, 0.0),
                        _ => {}
                    }
                    processor.process(256, Some(&timeline.at(pos)));
                    pos += 256;
                    block += 1;
                    std::thread::sleep(Duration::from_millis(2));
                }
                // Lift the footswitch before the host stops (no half-pressed mark).
                processor.set_param(0, mark, 0.0);
                processor.process(256, Some(&timeline.at(pos)));
                (processor, marks)
            })
            .unwrap();
        Audio { stop, thread }
    }

    fn stop(self) -> (Processor, usize) {
        self.stop.store(true, Ordering::Release);
        self.thread.join().expect("the audio thread")
    }
}

/// Runs `f` as a host's main thread would and fails if it took longer than a host may wait.
fn timed<T>(what: &str, slowest: &mut Duration, f: impl FnOnce() -> T) -> T {
    let started = Instant::now();
    let out = f();
    let took = started.elapsed();
    *slowest = (*slowest).max(took);
    assert!(
        took <= CLOSE_LIMIT,
        "{what} took {} ms (the host's thread waited on the editor)",
        took.as_millis()
    );
    out
}

/// The window thread itself is joined before the close returns (a thread left behind says so
/// on stderr, which the parent checks); threads it started inherit its name, and the
/// clipboard's ends by itself a moment after the close.
fn assert_window_threads_gone(what: &str) {
    let deadline = Instant::now() + Duration::from_millis(250);
    let mut alive = xvfb::threads_named(WINDOW_THREAD);
    while alive > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
        alive = xvfb::threads_named(WINDOW_THREAD);
    }
    assert_eq!(alive, 0, "{alive} editor window thread(s) outlived {what}");
}

const EMBEDDED: GuiConfiguration = GuiConfiguration {
    api_type: GuiApiType::X11,
    is_floating: false,
};

/// Creates the editor inside `parent` and shows it.
fn open(plugin: &mut Instance, parent: &HostWindow, show: bool) {
    let h = plugin.instance.plugin_handle();
    let gui: PluginGui = h.get_extension().expect("the plugin has an editor");
    gui.create(&h, EMBEDDED).expect("creating the editor");
    let _ = gui.set_scale(&h, 1.0);
    // SAFETY: `parent` is a live X11 window on the display the plugin connects to.
    unsafe { gui.set_parent(&h, Window::from_x11_handle(parent.id as _)) }.expect("embedding");
    if show {
        gui.show(&h).expect("showing");
    }
}

fn close(plugin: &mut Instance, slowest: &mut Duration, what: &str) {
    let h = plugin.instance.plugin_handle();
    let gui: PluginGui = h.get_extension().expect("the plugin has an editor");
    timed(what, slowest, || gui.destroy(&h));
    assert_window_threads_gone(what);
}

/// Waits until the editor's window is inside the host's and has drawn for a moment.
fn let_it_draw(plugin: &mut Instance, parent: &HostWindow, rng: &mut impl Rng) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while parent.children() == 0 {
        assert!(
            Instant::now() < deadline,
            "the editor's window never appeared in the host's"
        );
        plugin.run_main_thread_callback();
        std::thread::sleep(Duration::from_millis(5));
    }
    let until = Instant::now() + Duration::from_millis(rng.random_range(0..80));
    while Instant::now() < until {
        plugin.run_main_thread_callback();
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// One host process: `cycles` open/close cycles; returns a line for the parent to print.
fn child(index: usize, cycles: usize) -> String {
    let mut rng = rand::rng();
    // Half the hosts keep Xlib's default error handler (an X error of ours that reached it
    // would end the process); the other half install their own and count what reaches it.
    let mut host_xlib = (index % 2 == 1).then(HostXlib::open);

    // A record server in this process, and a project the plugin syncs to.
    let server_dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(server_dir.path()).unwrap());
    let project = format!("Stress {index} {}", uuid::Uuid::now_v7());
    store.create_project(&project).unwrap();
    let token = store.add_token(&project, "Pat", Role::Producer).unwrap().1;
    let server = liner_server::Background::start(store.clone(), "127.0.0.1:0").unwrap();
    let url = format!("http://{}", server.addr);
    let config = std::path::PathBuf::from(std::env::var("LINER_NOTES_CONFIG_DIR").unwrap());
    liner_notes::settings::store_token_in(&config, &url, &token).unwrap();

    let (conn, screen) = x11rb::connect(None).expect("connecting to Xvfb");
    // An instance that stays for the whole run, as other tracks' plugins do: removing a cycle's
    // instance is then never the last one (which would wait for a final push).
    let _anchor = instance_for(&project, &url);
    let mut slowest = Duration::ZERO;
    let mut marks = 0;
    for cycle in 0..cycles {
        let order = ORDERS[(cycle + index) % ORDERS.len()];
        let parent = HostWindow::new(&conn, screen);
        let mut plugin = instance_for(&project, &url);
        let mark = plugin.param_id("Mark");
        let mut audio = Some(Audio::start(plugin.activate(48_000.0, 256, 2), mark));
        open(&mut plugin, &parent, true);
        let_it_draw(&mut plugin, &parent, &mut rng);
        let what = format!("cycle {cycle} ({order:?})");
        let mut plugin = Some(plugin);
        let p = plugin.as_mut().unwrap();
        match order {
            Order::ResizeHideClose => {
                let h = p.instance.plugin_handle();
                let gui: PluginGui = h.get_extension().unwrap();
                let size = GuiSize {
                    width: rng.random_range(700..1200),
                    height: rng.random_range(500..900),
                };
                timed(&what, &mut slowest, || gui.set_size(&h, size)).expect("resizing");
                std::thread::sleep(Duration::from_millis(rng.random_range(0..30)));
                timed(&what, &mut slowest, || gui.hide(&h)).expect("hiding");
                close(p, &mut slowest, &what);
            }
            Order::HostWindowFirst => {
                parent.destroy();
                std::thread::sleep(Duration::from_millis(rng.random_range(0..40)));
                close(p, &mut slowest, &what);
            }
            Order::InstanceWithEditorOpen => {
                let (processor, n) = audio.take().unwrap().stop();
                marks += n;
                let mut p = plugin.take().unwrap();
                p.deactivate(processor);
                timed(&what, &mut slowest, || drop(p));
                assert_window_threads_gone(&what);
            }
            Order::ReopenQuickly => {
                close(p, &mut slowest, &what);
                open(p, &parent, true);
                close(p, &mut slowest, &what);
                open(p, &parent, false);
                close(p, &mut slowest, &what);
                open(p, &parent, true);
                let_it_draw(p, &parent, &mut rng);
                close(p, &mut slowest, &what);
            }
            Order::CloseMidSync => {
                // Soon after the footswitch: the mark is on its way to the server.
                std::thread::sleep(Duration::from_millis(rng.random_range(0..100)));
                close(p, &mut slowest, &what);
            }
        }
        if let Some(mut p) = plugin {
            let (processor, n) = audio.take().unwrap().stop();
            marks += n;
            p.deactivate(processor);
            p.run_main_thread_callback();
        }
        if !matches!(order, Order::HostWindowFirst) {
            parent.destroy();
        }
        if let Some(host) = host_xlib.as_mut() {
            host.check(&what);
            host.provoke_error();
            host.check(&what);
        }
    }

    // Every mark made while editors came and went reaches the server.
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut stored = marks_on(&store, &project);
    while stored < marks && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
        stored = marks_on(&store, &project);
    }
    assert_eq!(stored, marks, "marks made against marks on the server");
    format!(
        "{cycles} cycles, slowest close {} ms, {marks} marks all on the server{}",
        slowest.as_millis(),
        if host_xlib.is_some() {
            ", the host's own X error handler saw exactly its own errors"
        } else {
            ", Xlib's default error handler never called"
        }
    )
}

fn marks_on(store: &SqliteStore, project: &str) -> usize {
    let p = store.project(project).unwrap().unwrap();
    store
        .pull(&p, 0, 1_000_000)
        .unwrap()
        .iter()
        .filter_map(|(_, json)| serde_json::from_str::<liner_record::Event>(json).ok())
        .filter(|e| matches!(e.body, Body::Mark { .. }))
        .count()
}

/// A VST3 host process: `cycles` open/close cycles of the editor through `IPlugView`.
fn vst3_child(cycles: usize) -> String {
    use common::vst3::{create_component, Module};
    use vst3::ComPtr;
    use vst3::Steinberg::Vst::{IEditController, IEditControllerTrait, ViewType};
    use vst3::Steinberg::{
        kPlatformTypeX11EmbedWindowID, kResultOk, IPlugView, IPlugViewTrait, IPluginBaseTrait,
    };

    let mut rng = rand::rng();
    let module = Module::load();
    let factory = module.factory();
    let (conn, screen) = x11rb::connect(None).expect("connecting to Xvfb");
    let mut slowest = Duration::ZERO;
    let create_view = |controller: &ComPtr<IEditController>| -> ComPtr<IPlugView> {
        // SAFETY: createView returns an owned view or null.
        unsafe { ComPtr::from_raw(controller.createView(ViewType::kEditor)) }
            .expect("the plugin has an editor view")
    };
    let attach = |view: &ComPtr<IPlugView>, parent: &HostWindow| {
        // SAFETY: the parent is a live X11 window on the display the plugin connects to.
        let result =
            unsafe { view.attached(parent.id as usize as *mut _, kPlatformTypeX11EmbedWindowID) };
        assert_eq!(result, kResultOk, "attaching the editor");
    };
    for cycle in 0..cycles {
        let order = ORDERS[cycle % ORDERS.len()];
        let what = format!("VST3 cycle {cycle} ({order:?})");
        let parent = HostWindow::new(&conn, screen);
        let component = create_component(&factory);
        let controller = component
            .cast::<IEditController>()
            .expect("the component is its own edit controller");
        let view = create_view(&controller);
        attach(&view, &parent);
        let deadline = Instant::now() + Duration::from_secs(10);
        while parent.children() == 0 {
            assert!(
                Instant::now() < deadline,
                "the editor never appeared ({what})"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(rng.random_range(0..80)));
        let remove = |view: &ComPtr<IPlugView>, slowest: &mut Duration| {
            // SAFETY: a live view, attached, on this one thread.
            let result = timed(&what, slowest, || unsafe { view.removed() });
            assert_eq!(result, kResultOk, "removing the editor ({what})");
            assert_window_threads_gone(&what);
        };
        match order {
            Order::HostWindowFirst => {
                parent.destroy();
                std::thread::sleep(Duration::from_millis(rng.random_range(0..40)));
                remove(&view, &mut slowest);
            }
            Order::InstanceWithEditorOpen => {
                // The host lets go of the plugin with its editor still attached.
                timed(&what, &mut slowest, || {
                    // SAFETY: a live component, terminated once, then every reference dropped.
                    unsafe { component.terminate() };
                    drop(view);
                    drop(controller);
                    drop(component);
                });
                assert_window_threads_gone(&what);
                parent.destroy();
                continue;
            }
            Order::ReopenQuickly => {
                remove(&view, &mut slowest);
                attach(&view, &parent);
                remove(&view, &mut slowest);
                let again = create_view(&controller);
                attach(&again, &parent);
                remove(&again, &mut slowest);
            }
            Order::ResizeHideClose | Order::CloseMidSync => remove(&view, &mut slowest),
        }
        drop(view);
        // SAFETY: a live component, terminated once.
        unsafe { component.terminate() };
        if !matches!(order, Order::HostWindowFirst) {
            parent.destroy();
        }
    }
    format!("{cycles} cycles, slowest close {} ms", slowest.as_millis())
}
