//! The release archive as a studio uses it, without a Rust toolchain: unpacked into a
//! throwaway home, installed with its `install.sh`, the server started by the command its
//! systemd unit runs, the installed CLAP loaded by the test host and a mark synced to that
//! server, then uninstalled: nothing is left behind but the record (journals, the server's
//! database, settings and tokens). Needs the archive: `cargo xtask dist` (which `cargo xtask
//! test` runs before this test).

mod common;

use common::host::{Instance, Timeline, CLAP_ID};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

fn archive() -> PathBuf {
    let dist = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/dist");
    std::fs::read_dir(&dist)
        .ok()
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with("-linux-x86_64.tar.gz"))
        .max_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok())
        .unwrap_or_else(|| panic!("no archive in {}: run `cargo xtask dist`", dist.display()))
}

/// A command with only the throwaway home's environment (and PATH).
fn at_home(program: impl AsRef<std::ffi::OsStr>, home: &Path) -> Command {
    let mut c = Command::new(program);
    c.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("XDG_DATA_HOME", home.join(".local/share"))
        .env("XDG_CONFIG_HOME", home.join(".config"));
    c
}

fn every_file(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(every_file(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
#[ignore = "needs the release archive: `cargo xtask dist` (cargo xtask test runs it first)"]
fn the_archive_installs_serves_syncs_and_uninstalls_leaving_only_the_record() {
    let home = tempfile::tempdir().unwrap();
    let unpacked = tempfile::tempdir().unwrap();
    let home = home.path();
    let ok = Command::new("tar")
        .arg("-xzf")
        .arg(archive())
        .arg("-C")
        .arg(unpacked.path())
        .status()
        .unwrap()
        .success();
    assert!(ok, "the archive unpacks");
    let root = std::fs::read_dir(unpacked.path())
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    for shipped in [
        "install.sh",
        "bin/liner",
        "LICENSE",
        "THIRD-PARTY-LICENSES.html",
        "README.txt",
    ] {
        assert!(root.join(shipped).exists(), "{shipped} is in the archive");
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let install = |args: &[&str]| {
        let out = at_home("sh", home)
            .arg(root.join("install.sh"))
            .args(args)
            .env("LINER_LISTEN", format!("127.0.0.1:{port}"))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "install.sh {args:?}: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        text
    };
    install(&[]);
    let clap = home.join(".clap/Liner Notes.clap");
    let installed = [
        clap.clone(),
        home.join(".vst3/Liner Notes.vst3"),
        home.join(".local/bin/liner"),
    ];
    for path in &installed {
        assert!(path.exists(), "{} installed", path.display());
    }
    install(&["--service"]);
    let unit = home.join(".config/systemd/user/liner-notes.service");
    let exec = std::fs::read_to_string(&unit)
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart=").map(str::to_owned))
        .expect("the unit runs a command");

    // The service's command, as systemd would run it.
    let mut words = exec.split_whitespace();
    let mut server = at_home(words.next().unwrap(), home)
        .args(words)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut executive = String::new();
    for line in BufReader::new(server.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        if let Some(t) = line.strip_prefix("Executive producer token (for the review page): ") {
            executive = t.trim().to_owned();
        }
        if line.starts_with("Serving the record on") {
            break;
        }
    }
    assert!(!executive.is_empty(), "the first run showed the tokens");

    // The installed plugin, in a DAW on this machine: the first run set it up for the server.
    std::env::set_var("LINER_NOTES_CONFIG_DIR", home.join(".config/liner-notes"));
    std::env::set_var(
        "LINER_NOTES_DATA_DIR",
        home.join(".local/share/liner-notes"),
    );
    let mut plugin = Instance::from_library(&clap, CLAP_ID);
    let mark = plugin.param_id("Mark");
    let mut p = plugin.activate(48_000.0, 256, 2);
    let mut t = Timeline::new(48_000.0, 120.0, (4, 4));
    t.playing = true;
    for block in 0..8 {
        p.set_param(0, mark, if block == 3 { 1.0 } else { 0.0 });
        p.process(256, Some(&t.at(block * 256)));
    }
    let reader = liner_record::sync::SyncClient::new(
        &format!("http://127.0.0.1:{port}"),
        &executive,
        Duration::from_secs(5),
    )
    .unwrap();
    liner_test_support::wait_until(
        "the mark on the installed server",
        Duration::from_secs(30),
        || {
            reader.pull(0, Duration::ZERO).is_ok_and(|(events, _, _)| {
                events.iter().any(|e| e.raw.contains("\"kind\":\"mark\""))
            })
        },
    );
    plugin.deactivate(p);
    drop(plugin);
    let _ = server.kill();
    let _ = server.wait();

    let said = install(&["--uninstall"]);
    assert!(said.contains("uninstalled"), "{said}");
    for path in installed.iter().chain([&unit]) {
        assert!(!path.exists(), "{} is still there", path.display());
    }
    // Only the record stays: journals and the server's database, settings and tokens.
    let left = every_file(home);
    assert!(
        left.iter().any(|p| p.ends_with("server/liner.db")),
        "the record was kept: {left:#?}"
    );
    for path in &left {
        let kept = path.starts_with(home.join(".local/share/liner-notes"))
            || path.starts_with(home.join(".config/liner-notes"));
        assert!(kept, "{} was left behind", path.display());
    }
}
