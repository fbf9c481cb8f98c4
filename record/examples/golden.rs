//! Rewrites the export golden files (`record/tests/golden/`) from the fixed record the export
//! tests read (`tests/fixture/mod.rs`), and removes any that no export makes any more. The
//! tests only compare; run this through `cargo xtask golden`, which then shows what changed
//! for review before it is committed.

#[path = "../tests/fixture/mod.rs"]
mod fixture;

fn main() -> std::io::Result<()> {
    let dir = fixture::golden_dir();
    std::fs::create_dir_all(&dir)?;
    let files = fixture::golden_files();
    for entry in std::fs::read_dir(&dir)? {
        let path = entry?.path();
        let made = files
            .iter()
            .any(|(name, _)| path.file_name().is_some_and(|f| f == name.as_str()));
        if !made {
            std::fs::remove_file(&path)?;
            println!("removed {}", path.display());
        }
    }
    for (name, bytes) in files {
        let path = dir.join(name);
        std::fs::write(&path, bytes)?;
        println!("wrote {}", path.display());
    }
    Ok(())
}
