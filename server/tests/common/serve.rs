//! A `liner serve` process of the test's own, for suites that need the binary as a studio
//! runs it (flags, first-run tokens, a graceful stop).

use super::{free_port, liner};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// `liner serve` on the store of `data` (SQLite, or this run's PostgreSQL database for it),
/// with `args`; SIGKILLed when dropped.
pub struct Serve {
    child: Child,
    pub url: String,
    pub port: u16,
    /// The first run's executive and producer tokens (None after the first run).
    tokens: Option<(String, String)>,
}

impl Serve {
    pub fn start(data: &Path, args: &[&str]) -> Serve {
        Self::start_with(liner(data), free_port(), args)
    }

    pub fn start_with(mut command: Command, port: u16, args: &[&str]) -> Serve {
        let mut child = command
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let (mut exec, mut producer) = (None, None);
        loop {
            let mut line = String::new();
            assert!(out.read_line(&mut line).unwrap() > 0, "liner serve exited");
            if let Some(t) = line.strip_prefix("Executive producer token (for the review page): ") {
                exec = Some(t.trim().to_owned());
            }
            if let Some(t) = line.strip_prefix("Producer token, for the plugin's settings: ") {
                producer = Some(t.trim().to_owned());
            }
            if line.starts_with("Serving the record on") {
                break;
            }
        }
        std::thread::spawn(move || for _ in out.lines() {});
        Serve {
            child,
            url: format!("http://127.0.0.1:{port}"),
            port,
            tokens: exec.zip(producer),
        }
    }

    /// SIGTERM, and waits for it to stop.
    pub fn stop(mut self) {
        // SAFETY: signalling our own child.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        self.child.wait().unwrap();
    }

    pub fn exec(&self) -> String {
        self.tokens.clone().expect("a first run").0
    }

    pub fn producer(&self) -> String {
        self.tokens.clone().expect("a first run").1
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
