//! Writes the driver scripts and trees that `mpdiff run -t unix32` would run, so the same
//! work can be timed with bare `micropython` processes (`ci/bench-floor.sh`).
//!
//! ```text
//! cargo run --release -p mpdiff --example dump_drivers -- OUT [--word 32|64] [PATHS...]
//! ```
//!
//! For scenario number `N` (in run order) it writes `OUT/N/tree/` (the scenario's files, the
//! folder `micropython` runs in) and `OUT/N/driver.py` (the driver, run as `../driver.py`),
//! exactly as the unix targets lay them out in their scratch folders. `OUT/manifest.tsv` has
//! one line per scenario: `N`, the heap in bytes, and the scenario's name. `OUT/launcher`
//! holds the command prefix the unix target starts (`setarch -R` where that works here, then
//! the `micropython` binary), one word per line; building the reference first if needed.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Component, Path, PathBuf};
use std::process::ExitCode;

use mpdiff::driver::{self, MICROPYTHON_PRELUDE};
use mpdiff::reference::{Word, prepare};
use mpdiff::scenario::{discover, load_file};

/// What the unix targets run after the prelude (see `targets/unix.rs`).
const SETUP: &str = "sys.path[0] = ''\n";

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("dump_drivers: {e}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<(), String> {
    const USAGE: &str = "usage: dump_drivers OUT [--word 32|64] [PATHS...]";
    let mut args = std::env::args_os().skip(1);
    let out = PathBuf::from(args.next().ok_or(USAGE)?);
    // An option where the output folder belongs is a mistake, not a folder to fill.
    if out.to_str().is_some_and(|o| o.starts_with('-')) {
        return Err(format!(
            "{USAGE}\n(OUT must be a folder, not {})",
            out.display()
        ));
    }
    let mut word = Word::W32;
    let mut paths = Vec::new();
    while let Some(a) = args.next() {
        if a == "--word" {
            word = match args.next().and_then(|w| w.into_string().ok()).as_deref() {
                Some("32") => Word::W32,
                Some("64") => Word::W64,
                other => return Err(format!("--word takes 32 or 64, not {other:?}")),
            };
        } else {
            paths.push(PathBuf::from(a));
        }
    }
    if paths.is_empty() {
        paths.push(PathBuf::from("scenarios"));
    }

    let reference = prepare(word).map_err(|e| e.to_string())?;
    let found = discover(&paths).map_err(|e| e.to_string())?;
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;

    let mut manifest = String::new();
    let mut skipped = 0usize;
    for (n, f) in found.iter().enumerate() {
        // A file that does not load is not run by `mpdiff run` either.
        let scenario = match load_file(&f.file, &f.name) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("dump_drivers: skipped {}: {e}", f.name);
                skipped += 1;
                continue;
            }
        };
        let dir = out.join(n.to_string());
        write_tree(&dir.join("tree"), &scenario.tree)?;
        let script = driver::script(&scenario, MICROPYTHON_PRELUDE, SETUP);
        write(&dir.join("driver.py"), script.as_bytes())?;
        let _ = writeln!(manifest, "{n}\t{}\t{}", scenario.heap, scenario.name);
    }
    write(&out.join("manifest.tsv"), manifest.as_bytes())?;

    let mut launcher = String::new();
    if let Some(setarch) = &reference.launcher.setarch {
        let _ = writeln!(launcher, "{}\n-R", setarch.display());
    }
    let _ = writeln!(launcher, "{}", reference.launcher.binary.display());
    write(&out.join("launcher"), launcher.as_bytes())?;
    eprintln!(
        "dump_drivers: {} scenarios in {} ({skipped} skipped)",
        found.len() - skipped,
        out.display()
    );
    Ok(())
}

fn write(path: &Path, data: &[u8]) -> Result<(), String> {
    std::fs::write(path, data).map_err(|e| format!("{}: {e}", path.display()))
}

/// The scenario's files under `root`; paths were checked by the loader, and are checked
/// again here so nothing is written outside `root`.
fn write_tree(root: &Path, files: &BTreeMap<String, String>) -> Result<(), String> {
    std::fs::create_dir_all(root).map_err(|e| format!("{}: {e}", root.display()))?;
    for (path, content) in files {
        let rel = Path::new(path);
        if !rel.components().all(|c| matches!(c, Component::Normal(_))) {
            return Err(format!("tree path {path:?} is not a plain relative path"));
        }
        let full = root.join(rel);
        if let Some(parent) = full.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        write(&full, content.as_bytes())?;
    }
    Ok(())
}
