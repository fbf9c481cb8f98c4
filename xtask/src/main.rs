//! `cargo xtask`: bundling (nice-plug-xtask) plus the project's own commands:
//! - `install`: bundle in release mode, copy the bundles into the user's plugin folders, then
//!   start the record server (`liner serve`; on its first run it creates a project and prints
//!   the tokens, and sets up the plugin on this computer); `--no-serve` stops after installing;
//! - `test`: `fn-length`, then bundle, then run every test (the VST3 test loads the bundle's
//!   library), then the server's suites a second time with every store on PostgreSQL
//!   (`LINER_TEST_STORE=postgres`; needs Debian's `postgresql`), then `dist` and the test of
//!   the archive as a studio installs it (`tests/dist.rs`; needs `cargo-about`);
//! - `fn-length`: fails, naming each one (`path:line fn name: N lines`), when a function
//!   outside tests is over 100 lines (`src/`, `record/src/`, `server/src/`, `test-support/src/`,
//!   `xtask/src/`; see `xtask/src/fn_length.rs`);
//! - `bench`: build the release reference plugins, then run the process() benchmark;
//! - `benchmarks`: every benchmark of the project, one after another, written to
//!   `BENCHMARKS.md` with the machine they ran on;
//! - `screenshot`: the real editor of the standalone build (dummy audio backend) under Xvfb,
//!   on a demo project, saved as `docs/editor.png` (needs `xvfb imagemagick pkg-config
//!   libasound2-dev libjack-jackd2-dev` and Mesa);
//! - `fuzz [SECONDS]`: every coverage-guided target (`fuzz/`, cargo-fuzz on nightly) for
//!   SECONDS each (60 by default), from what it kept in `fuzz/regressions`; stops at a crash;
//! - `editor-stress [CYCLES]`: the editor opened and closed by CLAP and VST3 hosts in every order
//!   DAWs use (`tests/editor_stress.rs`), 1,200 cycles in three CLAP host processes and a VST3
//!   one by default (the test suite runs 200 in two); needs Xvfb and Mesa;
//! - `golden`: rewrites the export golden files (`record/tests/golden/`, by the
//!   `liner-record` example `golden`) and shows `git diff --stat` of them, for review; the
//!   tests only compare (and fail when `UPDATE_GOLDEN` is set);
//! - `dist`: the release archive (`target/dist/liner-notes-<version>-linux-x86_64.tar.gz`:
//!   the bundles, `liner`, `install.sh`, the licence texts by `cargo about`, a README with
//!   the glibc it needs; see `xtask/src/dist.rs`);
//! - `page-screenshots`: the review page (overview, decision queue, a song, the queue at
//!   phone width) on a demo project in headless Chromium, saved as `docs/page-*.png` (needs
//!   `chromium chromium-driver`).

mod dist;
mod fn_length;

use std::path::{Path, PathBuf};

const PLUGIN_PACKAGE: &str = "liner-notes";
const BUNDLE_NAME: &str = "Liner Notes";

fn main() -> nice_plug_xtask::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("install") => {
            install()?;
            if args.iter().any(|a| a == "--no-serve") {
                Ok(())
            } else {
                serve()
            }
        }
        Some("bench") => bench(),
        Some("benchmarks") => benchmarks(),
        Some("test") => test(&args[1..]),
        Some("fn-length") => fn_length::run(),
        Some("screenshot") => screenshot(),
        Some("editor-stress") => editor_stress(args.get(1).map(String::as_str).unwrap_or("1200")),
        Some("golden") => golden(),
        Some("dist") => dist::dist().map(|_| ()),
        Some("fuzz") => fuzz(args.get(1).map(String::as_str).unwrap_or("60")),
        Some("page-screenshots") => cargo(&[
            "run",
            "-p",
            "liner-server",
            "--example",
            "page_screenshots",
            "--",
            "docs",
        ]),
        _ => nice_plug_xtask::main(),
    }
}

/// Where CLAP and VST3 hosts look for per-user plugins on this platform.
fn plugin_dirs() -> nice_plug_xtask::Result<(PathBuf, PathBuf)> {
    let home =
        PathBuf::from(std::env::var_os("HOME").ok_or_else(|| anyhow::anyhow!("HOME is not set"))?);
    if cfg!(target_os = "macos") {
        let lib = home.join("Library/Audio/Plug-Ins");
        Ok((lib.join("CLAP"), lib.join("VST3")))
    } else if cfg!(target_os = "windows") {
        let local = PathBuf::from(
            std::env::var_os("LOCALAPPDATA")
                .ok_or_else(|| anyhow::anyhow!("LOCALAPPDATA is not set"))?,
        );
        Ok((
            local.join("Programs/Common/CLAP"),
            local.join("Programs/Common/VST3"),
        ))
    } else {
        Ok((home.join(".clap"), home.join(".vst3")))
    }
}

/// Where cargo puts what it builds: `CARGO_TARGET_DIR` when it is set, else `target/` (the
/// tasks run from the workspace root). Every path to a build output goes through here.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| PathBuf::from("target"), PathBuf::from)
}

/// From the workspace root, bundles the plugin in release mode into `<target>/bundled/`.
fn bundle_release() -> nice_plug_xtask::Result<()> {
    nice_plug_xtask::chdir_workspace_root()?;
    nice_plug_xtask::main_with_args(
        "cargo xtask",
        ["bundle", PLUGIN_PACKAGE, "--release"].map(String::from),
    )
}

fn install() -> nice_plug_xtask::Result<()> {
    bundle_release()?;
    let bundled = target_dir().join("bundled");
    let (clap_dir, vst3_dir) = plugin_dirs()?;
    for (ext, dir) in [("clap", &clap_dir), ("vst3", &vst3_dir)] {
        let src = bundled.join(format!("{BUNDLE_NAME}.{ext}"));
        let dst = dir.join(format!("{BUNDLE_NAME}.{ext}"));
        std::fs::create_dir_all(dir)?;
        copy_replacing(&src, &dst)?;
        println!("installed {}", dst.display());
    }
    Ok(())
}

/// The data, config and export folders `.cargo/config.toml` gives every process cargo runs
/// (tests must never touch the user's real ones). `cargo xtask` is such a process, but what it
/// installs is for real use: the server must keep its record, and set up the plugin, in the
/// user's folders, as the DAW's plugin will look there. A value the user set in their own
/// environment is kept (cargo does not override it, and it does not end in `target/test-…`).
const TEST_FOLDERS: [(&str, &str); 3] = [
    ("LINER_NOTES_DATA_DIR", "target/test-data"),
    ("LINER_NOTES_CONFIG_DIR", "target/test-config"),
    ("LINER_NOTES_EXPORT_DIR", "target/test-exports"),
];

fn without_test_folders(command: &mut std::process::Command) {
    for (var, test_dir) in TEST_FOLDERS {
        if std::env::var_os(var).is_some_and(|v| Path::new(&v).ends_with(test_dir)) {
            command.env_remove(var);
        }
    }
}

/// Builds and runs the record server in the foreground (Ctrl-C stops it gracefully).
fn serve() -> nice_plug_xtask::Result<()> {
    cargo(&["build", "--release", "-p", "liner-server", "--bin", "liner"])?;
    let liner = target_dir().join("release/liner");
    println!(
        "Starting the record server (Ctrl-C stops it): {}",
        liner.display()
    );
    let mut command = std::process::Command::new(liner);
    command.args(["serve", "--configure-local-plugin"]);
    without_test_folders(&mut command);
    let status = command.status()?;
    anyhow::ensure!(status.success(), "the record server stopped with {status}");
    Ok(())
}

/// Checks function lengths (`fn-length`), bundles the plugin, then runs the whole test suite
/// with the bundle's location in the environment, so the VST3 test loads the library a DAW
/// would load. Extra arguments go to `cargo test`.
fn test(extra: &[String]) -> nice_plug_xtask::Result<()> {
    fn_length::run()?;
    bundle_release()?;
    // Journals and settings written by earlier test runs (see .cargo/config.toml).
    for (_, dir) in TEST_FOLDERS {
        if Path::new(dir).exists() {
            std::fs::remove_dir_all(dir)?;
        }
    }
    let bundled = std::env::current_dir()?.join(target_dir()).join("bundled");
    std::env::set_var("LINER_NOTES_BUNDLE_DIR", &bundled);
    let mut args = vec!["test", "--workspace"];
    args.extend(extra.iter().map(String::as_str));
    cargo(&args)?;
    // The server's suites again, every store on PostgreSQL: each test process starts a
    // throwaway cluster (Debian's `postgresql`), each test gets a database of its own.
    std::env::set_var("LINER_TEST_STORE", "postgres");
    let mut args = vec!["test", "-p", "liner-server", "--tests"];
    args.extend(extra.iter().map(String::as_str));
    cargo(&args)?;
    std::env::remove_var("LINER_TEST_STORE");
    // The release archive as a studio installs it (tests/dist.rs, which needs the archive).
    dist::dist()?;
    cargo(&[
        "test",
        "-p",
        PLUGIN_PACKAGE,
        "--test",
        "dist",
        "--",
        "--ignored",
    ])
}

/// The long form of the editor's open/close stress test (CI runs the short one).
fn editor_stress(cycles: &str) -> nice_plug_xtask::Result<()> {
    nice_plug_xtask::chdir_workspace_root()?;
    std::env::set_var("LINER_EDITOR_STRESS_CYCLES", cycles);
    std::env::set_var("LINER_EDITOR_STRESS_PROCESSES", "3");
    cargo(&["test", "-p", PLUGIN_PACKAGE, "--test", "editor_stress"])
}

/// The release plugin library and the reference plugins the benches compare against.
fn build_release_plugins() -> nice_plug_xtask::Result<()> {
    nice_plug_xtask::chdir_workspace_root()?;
    cargo(&[
        "build",
        "--release",
        "-p",
        PLUGIN_PACKAGE,
        "--lib",
        "--example",
        "reference_plugins",
    ])
}

/// Builds the release reference plugins the benchmark compares against, then runs it.
fn bench() -> nice_plug_xtask::Result<()> {
    build_release_plugins()?;
    cargo(&["bench", "-p", PLUGIN_PACKAGE, "--bench", "process"])
}

/// Every benchmark: (package, bench, what it measures against which baseline).
const BENCHMARKS: [(&str, &str, &str); 15] = [
    (
        PLUGIN_PACKAGE,
        "process",
        "`process()` per 64-frame stereo block, release builds hosted through the CLAP \
         harness, transport playing and recording, record passes and marks; against two null \
         nice-plug plugins in the same run (rounds interleaved), and with clips on. Targets \
         <= 1.10x the null, <= 1.5x with clips on.",
    ),
    (
        PLUGIN_PACKAGE,
        "clips",
        "Clip audio with notes at real time (48 kHz stereo, 64-frame blocks paced to their \
         deadlines, a mark every 5 s): the audio thread's CPU per block and every other \
         thread's CPU, clips on against clips off in alternating phases. Targets: the audio \
         thread <= 1.5x, the extra off it < 2% of one core.",
    ),
    (
        PLUGIN_PACKAGE,
        "print",
        "The worker's cost of printing a version: 5 minutes of 48 kHz stereo streamed through \
         the print writer (FLAC to disk, EBU R128 with true peak, waveform summary) in 64-frame \
         blocks, against encoding the same audio in memory as clips are. Target: < 5% of one \
         core at real time.",
    ),
    (
        PLUGIN_PACKAGE,
        "print_realtime",
        "Printing at real time: a song (2 minutes; the issue's 10 with \
         `LINER_BENCH_SECONDS=600`) printed by the release plugin, 48 kHz stereo, 64-frame \
         blocks paced to their deadlines, in phases alternating with an instance not \
         printing: samples lost (target 0, the version decoded equal to the input), the audio \
         thread's CPU per block (target <= 1.5x not printing) and every other thread's CPU \
         (target: the print's extra under 5% of one core).",
    ),
    (
        PLUGIN_PACKAGE,
        "bounce",
        "An offline bounce (CLAP render mode offline) of a 5-minute 48 kHz stereo song, \
         512-frame blocks as fast as the harness drives them, with Print armed against the same \
         bounce with Print off: its speed as a multiple of real time; the version decoded \
         against the input (targets: 0 samples lost, every sample equal).",
    ),
    (
        PLUGIN_PACKAGE,
        "footprint",
        "Resident memory and threads of a process hosting 1, 10 and 50 release instances \
         (editor closed, each processing a second of audio), against the same process with \
         the library loaded and no instance.",
    ),
    (
        PLUGIN_PACKAGE,
        "soak",
        "10,000,000 `process()` calls with the transport stopping and starting, record passes \
         and marks, then 1,000,000 quiet calls: events captured against those the script \
         made, events dropped, resident memory through the churn and through the quiet calls.",
    ),
    (
        PLUGIN_PACKAGE,
        "editor",
        "CPU time of one editor frame (820x560, layout and tessellation) with 10,000 notes, \
         against the same editor on an empty song. Target < 2 ms.",
    ),
    (
        "liner-record",
        "journal",
        "Group commit (1,000 appends from 250 writers against one after another) and opening \
         a 1,000,000-event journal (against reading its bytes). On the disk under `$TMPDIR`.",
    ),
    (
        "liner-record",
        "export",
        "Every export format on 100,000 events, against folding them; and 10,000 marks whose \
         meter flips at each, against the same marks in one meter.",
    ),
    (
        "liner-server",
        "server",
        "Ingest over HTTP against raw SQLite inserts (32 clients, batches of 100; target >= \
         0.5x); single-event pushes from 32 clients against raw single-row transactions \
         (target p99 < 5 ms); long-poll delivery to 8 and to 500 waiting clients (500 against \
         8 as the ratio); resident memory holding 1,000,000 events.",
    ),
    (
        "liner-server",
        "label",
        "A simulated label: 50 projects, 200 producers pushing with the sync client, 20 \
         executives long-polling; 2 `liner serve` processes on one PostgreSQL (a throwaway \
         cluster, durable) against 1 on SQLite: events/s, p99 push and note-to-reader \
         latency, memory. Targets on PostgreSQL: >= 20,000 events/s, p99 note-to-reader \
         < 200 ms.",
    ),
    (
        "liner-server",
        "page",
        "The review page with 10,000 notes waiting: overview and queue renders against the \
         health round trip; a verdict from click to visible.",
    ),
    (
        "liner-server",
        "listen",
        "First audio on the page for a 60 MB version on loopback: the time to the first 64 KiB \
         of the byte-range answers a browser's `<audio>` asks for at play (`bytes=0-`) and at \
         a mid-file seek, as a signed-in session, against the health round trip; the upload \
         in chunks over HTTP too. Target < 500 ms.",
    ),
    (
        PLUGIN_PACKAGE,
        "sync",
        "The plugin's real worker and a real server on loopback: a mark to a long-polling \
         reader (against a direct push), a verdict back into the journal, one sync round on a \
         1,000,000-event journal (against a one-event journal), idle CPU.",
    ),
];

/// Runs every benchmark (release builds) one after another and writes `BENCHMARKS.md`: the
/// machine, the command, and each report as printed, medians, spread and ratios included.
fn benchmarks() -> nice_plug_xtask::Result<()> {
    use std::fmt::Write as _;
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    build_release_plugins()?;
    let started = std::time::Instant::now();
    let mut reports = String::new();
    for (package, bench, what) in BENCHMARKS {
        eprintln!("== {package} / {bench}");
        let t = std::time::Instant::now();
        let mut child = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args(["bench", "-q", "-p", package, "--bench", bench])
            .stdout(Stdio::piped())
            .spawn()?;
        let mut out = String::new();
        for line in BufReader::new(child.stdout.take().expect("piped")).lines() {
            let line = line?;
            println!("{line}");
            out.push_str(&line);
            out.push('\n');
        }
        anyhow::ensure!(child.wait()?.success(), "the {bench} benchmark failed");
        write!(
            reports,
            "## {bench}\n\n{what}\n\n`cargo bench -p {package} --bench {bench}` ({:.0} s):\n\n\
             ```text\n{}```\n\n",
            t.elapsed().as_secs_f64(),
            out
        )?;
    }
    let doc = format!(
        "# Benchmarks\n\n\
         Every benchmark of the project, each against a baseline measured in the same run, as \
         the last `cargo xtask benchmarks` printed them (it rewrites this file; {:.0} minutes \
         in all). Medians with their spread (p10–p90 over many samples, the range over a \
         few); ratios are to the baseline of the same run, so they travel between machines \
         better than the times do. Targets are stated in each report.\n\n\
         ## The machine\n\n{}\n{}",
        started.elapsed().as_secs_f64() / 60.0,
        machine(),
        reports
    );
    std::fs::write("BENCHMARKS.md", doc)?;
    eprintln!("wrote BENCHMARKS.md");
    Ok(())
}

/// What the benchmarks ran on, as a Markdown list.
fn machine() -> String {
    let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
    let cpuinfo = read("/proc/cpuinfo");
    let cpu = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map_or("unknown".into(), |s| s.trim().to_string());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let memory = read("/proc/meminfo")
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or("unknown".into(), |kb| {
            format!("{:.1} GiB", kb / 1024.0 / 1024.0)
        });
    let command = |c: &str, args: &[&str]| {
        std::process::Command::new(c)
            .args(args)
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default()
    };
    let date = command("date", &["-u", "+%Y-%m-%d %H:%M UTC"]);
    let commit = command("git", &["rev-parse", "--short", "HEAD"]);
    format!(
        "- CPU: {cpu}, {cores} cores available\n- memory: {memory}\n- kernel: {}\n- {}\n- run: {date}, commit {commit}\n",
        command("uname", &["-sr"]),
        command("rustc", &["--version"]),
    )
}

/// Seeds a demo project into a throwaway data folder, opens the standalone editor on it under
/// a private Xvfb display and saves a screenshot of the screen (the window fills it).
fn screenshot() -> nice_plug_xtask::Result<()> {
    use std::process::{Command, Stdio};
    use std::time::Duration;
    nice_plug_xtask::chdir_workspace_root()?;
    cargo(&[
        "build",
        "--release",
        "--features",
        "standalone",
        "--bin",
        "liner-notes-standalone",
    ])?;
    let demo = std::env::current_dir()?.join("target/screenshot");
    if demo.exists() {
        std::fs::remove_dir_all(&demo)?;
    }
    let data = demo.join("data");
    let config = demo.join("config");
    let with_dirs = |c: &mut Command| {
        c.env("LINER_NOTES_DATA_DIR", &data)
            .env("LINER_NOTES_CONFIG_DIR", &config);
    };
    let mut seed = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    seed.args(["run", "--release", "--example", "demo_record"]);
    with_dirs(&mut seed);
    anyhow::ensure!(seed.status()?.success(), "seeding the demo project failed");

    let display = ":87";
    let mut xvfb = Command::new("Xvfb")
        .args([display, "-screen", "0", "820x560x24", "-nolisten", "tcp"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| anyhow::anyhow!("cannot start Xvfb (apt-get install xvfb): {e}"))?;
    std::thread::sleep(Duration::from_secs(1));
    let mut app = Command::new(target_dir().join("release/liner-notes-standalone"));
    app.args(["--backend", "dummy"]).env("DISPLAY", display);
    with_dirs(&mut app);
    let mut app = app.stdout(Stdio::null()).stderr(Stdio::null()).spawn()?;
    std::thread::sleep(Duration::from_secs(5));
    std::fs::create_dir_all("docs")?;
    let shot = Command::new("import")
        .args(["-window", "root", "docs/editor.png"])
        .env("DISPLAY", display)
        .status();
    let _ = app.kill();
    let _ = app.wait();
    let _ = xvfb.kill();
    let _ = xvfb.wait();
    let shot =
        shot.map_err(|e| anyhow::anyhow!("cannot run import (apt-get install imagemagick): {e}"))?;
    anyhow::ensure!(shot.success(), "import failed");
    println!("saved docs/editor.png");
    Ok(())
}

/// Rewrites the export golden files from the export tests' fixed record, then shows what
/// changed (and which files are new) for review before they are committed.
fn golden() -> nice_plug_xtask::Result<()> {
    nice_plug_xtask::chdir_workspace_root()?;
    cargo(&["run", "-q", "-p", "liner-record", "--example", "golden"])?;
    let dir = "record/tests/golden";
    let git = |args: &[&str]| -> nice_plug_xtask::Result<()> {
        let status = std::process::Command::new("git").args(args).status()?;
        anyhow::ensure!(status.success(), "git {} failed", args.join(" "));
        Ok(())
    };
    println!("changed golden files (review, then commit them):");
    git(&["diff", "--stat", "--", dir])?;
    git(&["status", "--short", "--untracked-files=all", "--", dir])
}

/// The fuzz targets, each run for `seconds` from a scratch corpus seeded by
/// `fuzz/regressions/TARGET` (which keeps seeds and every input that ever crashed).
fn fuzz(seconds: &str) -> nice_plug_xtask::Result<()> {
    for target in ["event", "push_body", "saved_state", "journal"] {
        let corpus = format!("fuzz/corpus/{target}");
        std::fs::create_dir_all(&corpus)?;
        let status = std::process::Command::new("cargo")
            .current_dir("fuzz")
            .args(["+nightly", "fuzz", "run", "-s", "none", target])
            .args([
                &format!("corpus/{target}"),
                &format!("regressions/{target}"),
            ])
            .args([
                "--",
                &format!("-max_total_time={seconds}"),
                "-rss_limit_mb=2048",
            ])
            .status()?;
        anyhow::ensure!(
            status.success(),
            "fuzz target {target} failed: keep its input from fuzz/artifacts/{target}/ in \
             fuzz/regressions/{target}/ and fix it"
        );
    }
    Ok(())
}

fn cargo(args: &[&str]) -> nice_plug_xtask::Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = std::process::Command::new(cargo).args(args).status()?;
    anyhow::ensure!(status.success(), "cargo {} failed", args.join(" "));
    Ok(())
}

/// Copies a file or a bundle directory, replacing what was there.
fn copy_replacing(src: &Path, dst: &Path) -> std::io::Result<()> {
    if dst.is_dir() {
        std::fs::remove_dir_all(dst)?;
    } else if dst.exists() {
        std::fs::remove_file(dst)?;
    }
    if src.is_dir() {
        std::fs::create_dir_all(dst)?;
        for entry in std::fs::read_dir(src)? {
            let entry = entry?;
            copy_replacing(&entry.path(), &dst.join(entry.file_name()))?;
        }
        Ok(())
    } else {
        std::fs::copy(src, dst).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Cargo gives tests the same `[env]` as `cargo xtask`, so this sees the real situation:
    /// the test folders are set, and the server `install` starts must not inherit them.
    #[test]
    fn the_server_started_by_install_uses_the_users_folders_not_the_test_ones() {
        for (var, test_dir) in TEST_FOLDERS {
            let set =
                std::env::var_os(var).expect("cargo sets the test folders (.cargo/config.toml)");
            assert!(Path::new(&set).ends_with(test_dir), "{var}={set:?}");
        }
        let mut command = std::process::Command::new("liner");
        without_test_folders(&mut command);
        let removed: std::collections::BTreeSet<_> = command
            .get_envs()
            .filter(|(_, value)| value.is_none())
            .map(|(var, _)| var.to_string_lossy().into_owned())
            .collect();
        let expected = TEST_FOLDERS
            .map(|(var, _)| var.to_owned())
            .into_iter()
            .collect();
        assert_eq!(removed, expected);
    }
}
