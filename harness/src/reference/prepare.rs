//! A reference made ready to run: built (or found current), and asked what it is.

use std::path::PathBuf;
use std::time::Duration;

use super::build::{self, Build, Word};
use super::error::ReferenceError;
use super::process::{End, Launcher, scratch_dir};
use super::source::MICROPYTHON_VERSION;

/// A built unix-port binary that answered as MicroPython of the expected word size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// The build it comes from.
    pub build: Build,
    /// How to start it.
    pub launcher: Launcher,
    /// `sys.implementation.version` as `1.9.4`, read from the binary.
    pub version: String,
}

/// What the probe script prints: implementation name, version, whether words are wide.
const PROBE: &str = "import sys\nprint('#~P', sys.implementation.name, '.'.join([str(v) for v in sys.implementation.version]), 64 if sys.maxsize > 0x7fffffff else 32)\n";

/// Builds `word` if needed, then runs the binary once to read its version and word size
/// and to find out whether it can run without address randomisation here.
pub fn prepare(word: Word) -> Result<Reference, ReferenceError> {
    let build = build::build(word)?;
    let bad = |detail: String| ReferenceError::BadBinary {
        variant: word.target_name().into(),
        binary: build.binary.clone(),
        detail,
    };
    let mut launcher = Launcher {
        binary: build.binary.clone(),
        setarch: build::find_program("setarch"),
    };
    let answer = match probe(&launcher) {
        Ok(answer) => answer,
        // setarch may be refused (seccomp, containers): run the binary directly.
        Err(_) if launcher.setarch.is_some() => {
            launcher.setarch = None;
            probe(&launcher).map_err(bad)?
        }
        Err(e) => return Err(bad(e)),
    };
    let (name, version, bits) = answer;
    if name != "micropython" {
        return Err(bad(format!("sys.implementation.name is {name:?}")));
    }
    if version != MICROPYTHON_VERSION {
        return Err(bad(format!(
            "sys.implementation.version is {version}, expected {MICROPYTHON_VERSION}"
        )));
    }
    if bits != word.bits() {
        return Err(bad(format!(
            "it is a {bits}-bit build, expected {}-bit",
            word.bits()
        )));
    }
    Ok(Reference {
        build,
        launcher,
        version,
    })
}

fn probe(launcher: &Launcher) -> Result<(String, String, u32), String> {
    let dir = scratch_dir().map_err(|e| format!("failed to create a temporary folder: {e}"))?;
    let script = dir.path().join("probe.py");
    std::fs::write(&script, PROBE).map_err(|e| format!("failed to write the probe: {e}"))?;
    let done = launcher
        .run(
            36 * 1024,
            &PathBuf::from("probe.py"),
            dir.path(),
            Duration::from_secs(20),
        )
        .map_err(|e| format!("failed to start: {e}"))?;
    let line = done
        .records
        .lines()
        .find_map(|l| l.strip_prefix("#~P "))
        .ok_or_else(|| {
            format!(
                "the version probe printed nothing ({:?}); stderr: {}",
                done.end,
                done.stderr_tail.trim()
            )
        })?;
    if done.end != End::Exited(0) {
        return Err(format!("the version probe ended with {:?}", done.end));
    }
    let mut f = line.split_whitespace();
    let name = f.next().unwrap_or_default().to_string();
    let version = f.next().unwrap_or_default().to_string();
    let bits = f.next().and_then(|b| b.parse().ok()).unwrap_or(0);
    Ok((name, version, bits))
}
