//! Screenshots of the review page for the README: the overview, the decision queue and a song
//! view of the demo project (`review_demo`), at laptop width, and the queue at phone width,
//! taken by headless Chromium over WebDriver (Debian's `chromium` and `chromium-driver`).
//!
//! `cargo xtask page-screenshots` (or `cargo run -p liner-server --example page_screenshots --
//! docs`) writes `docs/page-overview.png`, `docs/page-queue.png`, `docs/page-song.png` and
//! `docs/page-queue-phone.png`.

#[path = "../tests/common/browser.rs"]
mod browser;
#[path = "review_demo.rs"]
mod review_demo;

use std::path::PathBuf;
use std::sync::Arc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let out = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "docs".into()));
    std::fs::create_dir_all(&out)?;
    let data = tempfile::tempdir()?;
    let token = review_demo::seed(data.path())?;
    let store = Arc::new(liner_server::store::SqliteStore::open(data.path())?);
    let server = liner_server::Background::start(store, "127.0.0.1:0")?;
    let url = server.url();
    let shots = [
        ((1280, 1000), "/", "page-overview.png"),
        ((1280, 1000), "/queue", "page-queue.png"),
        ((1280, 1000), "/song?name=Night%20Drive", "page-song.png"),
        ((390, 844), "/queue", "page-queue-phone.png"),
    ];
    for ((w, h), path, file) in shots {
        let b = browser::Browser::start(w, h).await;
        b.sign_in(&url, &token).await;
        b.client.goto(&format!("{url}{path}")).await?;
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let png = b.client.screenshot().await?;
        std::fs::write(out.join(file), png)?;
        println!("{}", out.join(file).display());
        b.close().await;
    }
    Ok(())
}
