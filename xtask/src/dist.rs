//! `cargo xtask dist`: the release archive a studio installs without a Rust toolchain,
//! `target/dist/liner-notes-<version>-linux-x86_64.tar.gz`, holding:
//!
//! - `Liner Notes.clap`, `Liner Notes.vst3/`: the plugin bundles (release);
//! - `bin/liner`: the record server and its commands;
//! - `install.sh` (from `dist/install.sh`): installs, sets up the server as a systemd user
//!   service, uninstalls exactly what it installed;
//! - `LICENSE` and `THIRD-PARTY-LICENSES.html` (the licence texts of everything it ships,
//!   generated from the dependency tree by `cargo about`, with `about.toml` and `about.hbs`);
//! - `README.txt`: what the target machine needs, with the glibc version read from the
//!   binaries themselves ([`MIN_GLIBC`] is what the README promises; a build that needs more
//!   fails here instead of on a studio's machine).

use std::path::{Path, PathBuf};
use std::process::Command;

/// The oldest glibc the archive promises to run on (Debian 12, Ubuntu 22.04 and newer).
pub const MIN_GLIBC: (u32, u32) = (2, 35);

fn run(command: &mut Command) -> anyhow::Result<String> {
    let out = command
        .output()
        .map_err(|e| anyhow::anyhow!("running {command:?}: {e}"))?;
    if !out.status.success() {
        anyhow::bail!(
            "{command:?} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The plugin's version, from its package.
fn version() -> anyhow::Result<String> {
    let id = run(Command::new("cargo").args(["pkgid", "-p", super::PLUGIN_PACKAGE]))?;
    id.trim()
        .rsplit(['@', '#'])
        .next()
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("no version in {id}"))
}

/// The newest `GLIBC_x.y` symbol version `file` needs.
fn glibc_needed(file: &Path) -> anyhow::Result<(u32, u32)> {
    let symbols = run(Command::new("objdump").arg("-T").arg(file))?;
    Ok(symbols
        .split(|c: char| c.is_whitespace() || c == '(' || c == ')')
        .filter_map(|word| word.strip_prefix("GLIBC_"))
        .filter_map(|v| {
            let mut parts = v.split('.');
            Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
        })
        .max()
        .unwrap_or((0, 0)))
}

/// The release archive (see the module docs); returns its path.
///
/// # Errors
/// A build fails, `cargo about` or `objdump` is missing, a binary needs a newer glibc than
/// [`MIN_GLIBC`], or the disk fails.
pub fn dist() -> anyhow::Result<PathBuf> {
    super::bundle_release().map_err(|e| anyhow::anyhow!("{e}"))?;
    super::cargo(&["build", "--release", "-p", "liner-server", "--bin", "liner"])
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let name = format!("liner-notes-{}-linux-x86_64", version()?);
    let target = super::target_dir();
    let out = target.join("dist");
    let stage = out.join(&name);
    if stage.exists() {
        std::fs::remove_dir_all(&stage)?;
    }
    std::fs::create_dir_all(stage.join("bin"))?;
    let bundled = target.join("bundled");
    for ext in ["clap", "vst3"] {
        let bundle = format!("{}.{ext}", super::BUNDLE_NAME);
        super::copy_replacing(&bundled.join(&bundle), &stage.join(&bundle))?;
    }
    super::copy_replacing(&target.join("release/liner"), &stage.join("bin/liner"))?;
    super::copy_replacing(Path::new("dist/install.sh"), &stage.join("install.sh"))?;
    super::copy_replacing(Path::new("dist/LICENSE"), &stage.join("LICENSE"))?;
    run(Command::new("cargo")
        .args(["about", "generate", "--workspace", "about.hbs", "-o"])
        .arg(stage.join("THIRD-PARTY-LICENSES.html")))
    .map_err(|e| {
        e.context(
            "licence texts (install the tool: cargo install cargo-about --locked --features cli)",
        )
    })?;
    let needed = [
        stage.join("bin/liner"),
        stage.join(format!("{}.clap", super::BUNDLE_NAME)),
    ]
    .iter()
    .map(|f| glibc_needed(f))
    .collect::<anyhow::Result<Vec<_>>>()?
    .into_iter()
    .max()
    .unwrap_or((0, 0));
    if needed > MIN_GLIBC {
        anyhow::bail!(
            "the binaries need glibc {}.{}, newer than the {}.{} the archive promises: build on an \
             older system, or raise MIN_GLIBC and the README together",
            needed.0,
            needed.1,
            MIN_GLIBC.0,
            MIN_GLIBC.1
        );
    }
    std::fs::write(stage.join("README.txt"), readme(&name, needed))?;
    let archive = out.join(format!("{name}.tar.gz"));
    run(Command::new("tar")
        .arg("-czf")
        .arg(&archive)
        .arg("-C")
        .arg(out)
        .arg(&name))?;
    println!("{}", archive.display());
    Ok(archive)
}

fn readme(name: &str, glibc: (u32, u32)) -> String {
    format!(
        "{name}\n\n\
         Liner Notes: a CLAP and VST3 plugin that keeps a record's notes, and the record server\n\
         the executive producer reviews them on.\n\n\
         Install:    sh install.sh             (plugins into ~/.clap and ~/.vst3, liner into ~/.local/bin)\n\
         Server:     sh install.sh --service   (a systemd user service; shows the review address and tokens once)\n\
         Uninstall:  sh install.sh --uninstall (removes what it installed; your record stays)\n\n\
         Needs: Linux on x86_64 with glibc {}.{} or newer (these binaries need {}.{}); for the\n\
         plugin's editor, X11 and OpenGL 3.3 (Mesa or a GPU driver); a CLAP or VST3 host.\n\
         The server needs nothing else (its database is built in).\n\n\
         Licences: LICENSE (Liner Notes, ISC) and THIRD-PARTY-LICENSES.html (what it ships).\n",
        MIN_GLIBC.0, MIN_GLIBC.1, glibc.0, glibc.1
    )
}
