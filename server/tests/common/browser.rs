//! A real Chromium, headless, driven over WebDriver (Debian's `chromium` and
//! `chromium-driver`; `.ci/run` installs them). Each [`Browser`] runs its own chromedriver
//! on a free port with a fresh profile, and stops it when dropped.
#![allow(dead_code)]

use fantoccini::actions::{
    InputSource, KeyAction, KeyActions, MouseActions, PointerAction, MOUSE_BUTTON_LEFT,
};
use fantoccini::{Client, ClientBuilder, Locator};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Browser {
    /// Starts chromedriver and a headless Chromium window of `width`×`height`.
    pub async fn start(width: u32, height: u32) -> Browser {
        let driver_path = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
        let port = free_port();
        // Its own process group: dropping the browser ends chromedriver and Chromium both.
        let driver = Command::new(&driver_path)
            .arg(format!("--port={port}"))
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start {driver_path} ({e}): install Debian's chromium and \
                     chromium-driver (`apt-get install chromium chromium-driver`, as .ci/run does)"
                )
            });
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver never listened");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let profile = tempfile::tempdir().unwrap();
        let binary = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let caps = serde_json::json!({
            "goog:chromeOptions": {
                "binary": binary,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--hide-scrollbars",
                    "--force-color-profile=srgb",
                    format!("--window-size={width},{height}"),
                    format!("--user-data-dir={}", profile.path().display()),
                ]
            }
        });
        let caps = match caps {
            serde_json::Value::Object(map) => map,
            _ => unreachable!(),
        };
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("a Chromium session through chromedriver");
        Browser {
            client,
            driver,
            _profile: profile,
        }
    }

    /// Waits until `check` holds, calling it every 50 ms; panics after `limit` naming `what`.
    pub async fn until<F, Fut>(&self, what: &str, limit: Duration, mut check: F)
    where
        F: FnMut(Client) -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let deadline = Instant::now() + limit;
        while !check(self.client.clone()).await {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Signs in at `url` with `token` (the sign-in form, as a person would).
    pub async fn sign_in(&self, url: &str, token: &str) {
        use fantoccini::Locator;
        self.client.goto(url).await.unwrap();
        let field = self.client.find(Locator::Id("token")).await.unwrap();
        field.send_keys(token).await.unwrap();
        self.client
            .find(Locator::Css("form[action='/sign-in'] button"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        self.until(
            "the overview after signing in",
            Duration::from_secs(10),
            |c| async move { c.find(Locator::Css("header.top")).await.is_ok() },
        )
        .await;
    }

    /// Waits until the text of the element `css` satisfies `check`.
    pub async fn until_text(&self, css: &str, check: impl Fn(&str) -> bool) {
        use fantoccini::Locator;
        let check = &check;
        self.until(css, Duration::from_secs(10), |c| async move {
            match c.find(Locator::Css(css)).await {
                Ok(e) => check(&e.text().await.unwrap_or_default()),
                Err(_) => false,
            }
        })
        .await;
    }

    /// The text of the page's `<main>`.
    pub async fn main_text(&self) -> String {
        use fantoccini::Locator;
        match self.client.find(Locator::Id("main")).await {
            Ok(m) => m.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    pub async fn close(self) {
        let _ = self.client.clone().close().await;
        drop(self);
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // SAFETY: kill(2) on our child's process group; no memory is involved.
        unsafe {
            libc::kill(-(self.driver.id() as i32), libc::SIGKILL);
        }
        let _ = self.driver.wait();
    }
}

/// axe-core, from the npm registry (`.ci/run` installs it under `target/npm`, or name its
/// `axe.min.js` in `AXE_CORE_JS`).
pub fn axe_source() -> String {
    let path = std::env::var_os("AXE_CORE_JS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../target/npm/node_modules/axe-core/axe.min.js")
        });
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "axe-core is missing at {} ({e}): `npm install --prefix target/npm axe-core@4` \
             (as .ci/run does)",
            path.display()
        )
    })
}

/// Serious and critical accessibility violations axe finds on the current page.
pub async fn axe(client: &Client, source: &str) -> Vec<String> {
    client.execute(source, vec![]).await.unwrap();
    let out = client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, { resultTypes: ['violations'] })
                .then(r => done(JSON.stringify(r.violations)))
                .catch(e => done(JSON.stringify([{ id: 'axe-error', impact: 'critical', help: String(e), nodes: [] }])));",
            vec![],
        )
        .await
        .unwrap();
    let violations: Vec<serde_json::Value> = serde_json::from_str(out.as_str().unwrap()).unwrap();
    violations
        .into_iter()
        .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
        .map(|v| {
            let targets: Vec<String> = v["nodes"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|n| n["target"].to_string())
                .collect();
            format!(
                "{} ({}): {} at {}",
                v["id"],
                v["impact"],
                v["help"],
                targets.join(", ")
            )
        })
        .collect()
}

/// Presses and releases one key, as a person at the keyboard would.
pub async fn press(client: &Client, key: char) {
    let keys = KeyActions::new("keyboard".into())
        .then(KeyAction::Down { value: key })
        .then(KeyAction::Up { value: key });
    client.perform_actions(keys).await.unwrap();
}

/// Runs `script` in the page and gives its answer.
pub async fn js(c: &Client, script: &str) -> serde_json::Value {
    c.execute(script, vec![]).await.unwrap()
}

/// Clicks the waveform at `fraction` of its width.
pub async fn click_wave(c: &Client, fraction: f64) {
    let wave = c.find(Locator::Id("wave")).await.unwrap();
    let (_, _, w, _) = wave.rectangle().await.unwrap();
    let x = ((fraction - 0.5) * w).round();
    let actions = MouseActions::new("mouse".into())
        .then(PointerAction::MoveToElement {
            element: wave,
            duration: None,
            x,
            y: 0.0,
        })
        .then(PointerAction::Down {
            button: MOUSE_BUTTON_LEFT,
        })
        .then(PointerAction::Up {
            button: MOUSE_BUTTON_LEFT,
        });
    c.perform_actions(actions).await.unwrap();
}
