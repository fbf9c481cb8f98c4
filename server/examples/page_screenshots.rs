//! Screenshots of the review page for the README: the overview, the decision queue and a song
//! view of the demo project (`review_demo`), at laptop width, and the queue at phone width,
//! taken by headless Chromium over WebDriver (Debian's `chromium` and `chromium-driver`).
//!
//! `cargo xtask page-screenshots` (or `cargo run -p liner-server --example page_screenshots --
//! docs`) writes `docs/page-overview.png`, `docs/page-queue.png`, `docs/page-song.png`,
//! `docs/page-versions.png` (a song's two versions in the player, A/B), `docs/page-album.png`
//! (the album on the tracklist page), `docs/page-recheck.png` (the queue's re-checks),
//! `docs/page-queue-phone.png`, `docs/page-links.png` (the executive's listening links, a
//! guest's comment waiting) and `docs/page-guest.png` (what a guest of a song's link sees,
//! signed in nowhere).

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
    // Night Drive's two versions, newest first: the player compares them.
    let versions: Vec<uuid::Uuid> = {
        use liner_server::store::Store;
        let copy = liner_server::store::SqliteStore::open(data.path())?;
        let project = copy
            .project(review_demo::PROJECT)?
            .expect("the demo project");
        let views = liner_record::fold(&copy.events(&project)?);
        views.versions_of("Night Drive").map(|v| v.id).collect()
    };
    let guest = guest_links(data.path(), versions[0])?;
    let compare = format!(
        "/song?name=Night%20Drive&v={}&b={}",
        versions[0], versions[1]
    );
    let shots = [
        ((1280, 1000), "/", "page-overview.png", None),
        ((1280, 1000), "/queue", "page-queue.png", None),
        // The way back: a done waiting for a re-check, with its thread.
        (
            (1280, 760),
            "/queue?state=recheck",
            "page-recheck.png",
            None,
        ),
        (
            (1280, 1000),
            "/song?name=Night%20Drive",
            "page-song.png",
            Some("h1"),
        ),
        (
            (1280, 1000),
            compare.as_str(),
            "page-versions.png",
            Some("#versions-h"),
        ),
        (
            (1280, 1000),
            "/tracklist",
            "page-album.png",
            Some("#album-h"),
        ),
        ((390, 844), "/queue", "page-queue-phone.png", None),
        ((1280, 1000), "/links", "page-links.png", None),
        ((1280, 900), guest.as_str(), "page-guest.png", None),
    ];
    for ((w, h), path, file, top) in shots {
        let b = browser::Browser::start(w, h).await;
        if !path.starts_with("/listen/") {
            b.sign_in(&url, &token).await;
        }
        b.client.goto(&format!("{url}{path}")).await?;
        if let Some(css) = top {
            // Below the sticky header.
            let script = format!(
                "document.querySelector('{css}').scrollIntoView(); window.scrollBy(0, -90);"
            );
            b.client.execute(&script, vec![]).await?;
        }
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let png = b.client.screenshot().await?;
        std::fs::write(out.join(file), png)?;
        println!("{}", out.join(file).display());
        b.close().await;
    }
    Ok(())
}

/// Two listening links (the album with a passphrase, Night Drive without) and a guest's
/// comment waiting on the song's; returns the song link's address.
fn guest_links(data: &std::path::Path, version: uuid::Uuid) -> anyhow::Result<String> {
    use liner_server::store::guests::{NewComment, NewLink};
    use liner_server::store::Store;
    let store = liner_server::store::SqliteStore::open(data)?;
    let project = store
        .project(review_demo::PROJECT)?
        .expect("the demo project");
    let token = store
        .tokens()?
        .into_iter()
        .find(|t| t.role == liner_record::Role::Executive)
        .expect("the executive's token");
    let week = liner_record::event::now_ms() + 7 * 86_400_000;
    let link = |song: Option<&str>, label: &str, passphrase: Option<String>| NewLink {
        project: project.clone(),
        token: token.id,
        song: song.map(str::to_owned),
        label: label.into(),
        passphrase,
        expires_ms: week,
    };
    store.create_link(&link(
        None,
        "for the label's A&R",
        Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo".into()),
    ))?;
    let (made, secret) =
        store.create_link(&link(Some("Night Drive"), "for Mara (artist)", None))?;
    store.link_used(made.id)?;
    store.hold_comment(&NewComment {
        link: made.id,
        name: "Mara".into(),
        text: "The second chorus lifts so much more now. Can the vocal come up a touch there?"
            .into(),
        version,
        at: Some(41.5),
        until: None,
    })?;
    Ok(format!("/listen/{secret}"))
}
