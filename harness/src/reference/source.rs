//! Where the MicroPython 1.9.4 source comes from (DESIGN.md, "MicroPython 1.9.4 source:
//! where it comes from"): a checkout named by [`OVERRIDE_ENV`], or the crates.io package
//! `drone-micropython-raw` 0.1.1 pinned by `vendor/micropython/Cargo.lock`, fetched with
//! cargo and never compiled.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::error::ReferenceError;

/// Environment variable naming a MicroPython v1.9.4 checkout to build instead of the
/// vendored crate.
pub const OVERRIDE_ENV: &str = "MPDIFF_MICROPYTHON_DIR";

/// The crates.io package that carries the unmodified MicroPython 1.9.4 tree.
pub const VENDOR_PACKAGE: &str = "drone-micropython-raw";

/// Its pinned version.
pub const VENDOR_VERSION: &str = "0.1.1";

/// The MicroPython version this project is about.
pub const MICROPYTHON_VERSION: &str = "1.9.4";

/// Where a source tree came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// The vendored crates.io package (checksum from `vendor/micropython/Cargo.lock`).
    Vendored,
    /// A checkout named by [`OVERRIDE_ENV`].
    Override,
}

/// A located MicroPython source tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// The tree's root (the folder holding `py/`, `ports/`, ...).
    pub root: PathBuf,
    /// Where it came from.
    pub origin: Origin,
    /// A text that changes whenever the tree may have changed; part of the build stamp.
    pub identity: String,
}

/// The workspace root (the folder holding `vendor/` and `harness/`).
pub fn workspace_root() -> PathBuf {
    let harness = Path::new(env!("CARGO_MANIFEST_DIR"));
    harness.parent().unwrap_or(harness).to_path_buf()
}

/// The fetch-only manifest that pins the vendored source.
pub fn vendor_manifest() -> PathBuf {
    workspace_root().join("vendor/micropython/Cargo.toml")
}

/// The root of the MicroPython 1.9.4 tree to build: the override checkout if
/// [`OVERRIDE_ENV`] is set, else the vendored crate's `micropython/` folder (fetched with
/// `cargo fetch --locked` when missing).
pub fn source_dir() -> Result<PathBuf, ReferenceError> {
    locate().map(|s| s.root)
}

/// Locates the source tree and says where it came from.
pub fn locate() -> Result<Source, ReferenceError> {
    match override_dir() {
        Some(dir) => {
            check_override(&dir)?;
            let identity = format!("checkout {} {}", dir.display(), fingerprint(&dir)?);
            Ok(Source {
                root: dir,
                origin: Origin::Override,
                identity,
            })
        }
        None => {
            let identity = vendored_identity()?;
            let root = fetch_vendored()?;
            Ok(Source {
                root,
                origin: Origin::Vendored,
                identity,
            })
        }
    }
}

/// The identity of the source that [`locate`] would return, computed without running
/// cargo: for the vendored crate it is the pinned checksum, so a cached build can be
/// recognised without touching the network or the registry.
pub fn identity() -> Result<String, ReferenceError> {
    match override_dir() {
        Some(dir) => {
            check_override(&dir)?;
            Ok(format!("checkout {} {}", dir.display(), fingerprint(&dir)?))
        }
        None => vendored_identity(),
    }
}

fn override_dir() -> Option<PathBuf> {
    let value = std::env::var_os(OVERRIDE_ENV)?;
    if value.is_empty() {
        return None;
    }
    let path = PathBuf::from(value);
    // An absolute path keeps the identity stable whatever the current folder is.
    Some(std::fs::canonicalize(&path).unwrap_or(path))
}

/// Checks that a checkout looks like MicroPython v1.9.4.
fn check_override(dir: &Path) -> Result<(), ReferenceError> {
    let bad = |reason: String| ReferenceError::BadOverride {
        path: dir.to_path_buf(),
        reason,
    };
    if !dir.is_dir() {
        return Err(bad(format!(
            "no such folder; point {OVERRIDE_ENV} at the root of a MicroPython v{MICROPYTHON_VERSION} checkout, or unset it to use the vendored source"
        )));
    }
    for needed in ["py/mpconfig.h", "ports/unix/Makefile", "docs/conf.py"] {
        if !dir.join(needed).is_file() {
            return Err(bad(format!(
                "{needed} is missing; point {OVERRIDE_ENV} at the root of a MicroPython checkout"
            )));
        }
    }
    let conf = std::fs::read_to_string(dir.join("docs/conf.py"))
        .map_err(|e| bad(format!("cannot read docs/conf.py: {e}")))?;
    let version = docs_version(&conf)
        .ok_or_else(|| bad("docs/conf.py has no `version = release = '...'` line".into()))?;
    if version != MICROPYTHON_VERSION {
        return Err(bad(format!(
            "docs/conf.py says version {version}, not {MICROPYTHON_VERSION}; check out tag v{MICROPYTHON_VERSION} or unset {OVERRIDE_ENV}"
        )));
    }
    Ok(())
}

/// The version in a MicroPython `docs/conf.py` (the line py/makeversionhdr.py reads too).
pub fn docs_version(conf: &str) -> Option<&str> {
    conf.lines()
        .find_map(|l| l.strip_prefix("version = release = '"))
        .and_then(|rest| rest.split('\'').next())
}

/// The pinned package's checksum from the vendor lock file.
fn vendored_identity() -> Result<String, ReferenceError> {
    let lock = workspace_root().join("vendor/micropython/Cargo.lock");
    let text = std::fs::read_to_string(&lock).map_err(|source| ReferenceError::Io {
        action: "failed to read",
        path: lock.clone(),
        source,
    })?;
    let checksum = lock_checksum(&text, VENDOR_PACKAGE, VENDOR_VERSION).ok_or_else(|| {
        ReferenceError::Vendor(format!(
            "{} pins no checksum for {VENDOR_PACKAGE} {VENDOR_VERSION}",
            lock.display()
        ))
    })?;
    Ok(format!(
        "crates.io {VENDOR_PACKAGE} {VENDOR_VERSION} {checksum}"
    ))
}

/// Finds `checksum = "..."` of one package in a Cargo.lock, without a TOML parser: the
/// lock file format puts `name`, `version`, `source`, `checksum` on their own lines.
fn lock_checksum(lock: &str, name: &str, version: &str) -> Option<String> {
    for block in lock.split("[[package]]") {
        let field = |key: &str| {
            block.lines().find_map(|l| {
                let (k, v) = l.split_once(" = ")?;
                (k.trim() == key).then(|| v.trim().trim_matches('"').to_string())
            })
        };
        if field("name").as_deref() == Some(name) && field("version").as_deref() == Some(version) {
            return field("checksum");
        }
    }
    None
}

/// Runs `cargo fetch --locked` and `cargo metadata --locked` on the vendor manifest and
/// returns the package's `micropython/` folder. The manifest is never built.
fn fetch_vendored() -> Result<PathBuf, ReferenceError> {
    let manifest = vendor_manifest();
    if !manifest.is_file() {
        return Err(ReferenceError::Vendor(format!(
            "{} is missing; set {OVERRIDE_ENV} to a MicroPython v{MICROPYTHON_VERSION} checkout instead",
            manifest.display()
        )));
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let run = |args: &[&str]| -> Result<Vec<u8>, ReferenceError> {
        let shown = format!(
            "cargo {} --manifest-path {}",
            args.join(" "),
            manifest.display()
        );
        let out = Command::new(&cargo)
            .args(args)
            .arg("--manifest-path")
            .arg(&manifest)
            .output()
            .map_err(|e| ReferenceError::Vendor(format!("failed to run `{shown}`: {e}")))?;
        if !out.status.success() {
            return Err(ReferenceError::Vendor(format!(
                "`{shown}` failed ({}): {}\nhint: it needs crates.io (or a cargo registry cache holding {VENDOR_PACKAGE} {VENDOR_VERSION}); or set {OVERRIDE_ENV} to a MicroPython v{MICROPYTHON_VERSION} checkout",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        Ok(out.stdout)
    };
    let json = match run(&["fetch", "--locked"]) {
        Ok(_) => run(&["metadata", "--locked", "--format-version", "1"])?,
        // Without a network the package may still be in cargo's cache from an earlier
        // fetch: ask for it offline before giving up with the fetch's own error.
        Err(fetch_error) => run(&["metadata", "--locked", "--offline", "--format-version", "1"])
            .map_err(|_| fetch_error)?,
    };
    let root = package_dir(&json)?;
    let tree = root.join("micropython");
    if !tree.join("py/mpconfig.h").is_file() || !tree.join("ports/unix/Makefile").is_file() {
        return Err(ReferenceError::Vendor(format!(
            "{} does not hold a MicroPython tree (py/mpconfig.h, ports/unix/Makefile); remove that folder so cargo fetches it again",
            tree.display()
        )));
    }
    Ok(tree)
}

/// The folder of the pinned package in `cargo metadata` output.
fn package_dir(json: &[u8]) -> Result<PathBuf, ReferenceError> {
    let meta: serde_json::Value = serde_json::from_slice(json)
        .map_err(|e| ReferenceError::Vendor(format!("cargo metadata printed bad JSON: {e}")))?;
    let packages = meta["packages"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let found = packages.iter().find(|p| {
        p["name"].as_str() == Some(VENDOR_PACKAGE) && p["version"].as_str() == Some(VENDOR_VERSION)
    });
    let manifest = found
        .and_then(|p| p["manifest_path"].as_str())
        .ok_or_else(|| {
            ReferenceError::Vendor(format!(
                "cargo metadata lists no {VENDOR_PACKAGE} {VENDOR_VERSION} package"
            ))
        })?;
    Path::new(manifest)
        .parent()
        .map(Path::to_path_buf)
        .ok_or_else(|| ReferenceError::Vendor(format!("odd manifest path {manifest}")))
}

/// The folders of a MicroPython tree that the unix port's build reads, relative to the
/// root. `docs/conf.py` gives the version when there is no git tag.
pub const BUILD_INPUTS: &[&str] = &[
    "py",
    "extmod",
    "lib",
    "drivers",
    "tools",
    "mpy-cross",
    "ports/unix",
    "docs/conf.py",
];

/// Whether a folder met while copying or fingerprinting is build output or VCS data
/// rather than source.
pub fn is_skipped_dir(name: &str) -> bool {
    name == ".git" || name == "build" || name.starts_with("build-")
}

/// A cheap fingerprint of a checkout: FNV-1a over the relative path, size and mtime of
/// every build input, so editing the checkout triggers a rebuild.
fn fingerprint(root: &Path) -> Result<String, ReferenceError> {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |bytes: &[u8]| {
        for b in bytes {
            hash ^= u64::from(*b);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    };
    let mut stack: Vec<PathBuf> = BUILD_INPUTS.iter().map(|p| root.join(p)).collect();
    let mut files = 0u64;
    while let Some(path) = stack.pop() {
        let meta = match std::fs::symlink_metadata(&path) {
            Ok(m) => m,
            Err(_) => continue,
        };
        if meta.is_dir() {
            let entries = std::fs::read_dir(&path).map_err(|source| ReferenceError::Io {
                action: "failed to list",
                path: path.clone(),
                source,
            })?;
            let mut names: Vec<PathBuf> = entries
                .filter_map(Result::ok)
                .filter(|e| !is_skipped_dir(&e.file_name().to_string_lossy()))
                .map(|e| e.path())
                .collect();
            names.sort();
            stack.extend(names.into_iter().rev());
        } else {
            let rel = path.strip_prefix(root).unwrap_or(&path);
            feed(rel.to_string_lossy().as_bytes());
            feed(&meta.len().to_le_bytes());
            let mtime = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map(|d| d.as_nanos())
                .unwrap_or(0);
            feed(&mtime.to_le_bytes());
            files += 1;
        }
    }
    Ok(format!("{files} files {hash:016x}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_docs_version_line() {
        let conf = "# x\nversion = release = '1.9.4'\n";
        assert_eq!(docs_version(conf), Some("1.9.4"));
        assert_eq!(docs_version("version = '1'"), None);
    }

    #[test]
    fn finds_the_pinned_checksum_in_the_vendor_lock() {
        let lock = std::fs::read_to_string(workspace_root().join("vendor/micropython/Cargo.lock"))
            .unwrap();
        let sum = lock_checksum(&lock, VENDOR_PACKAGE, VENDOR_VERSION).unwrap();
        assert_eq!(sum.len(), 64);
        assert!(lock_checksum(&lock, VENDOR_PACKAGE, "9.9.9").is_none());
    }

    #[test]
    fn finds_the_package_in_metadata() {
        let json = br#"{"packages":[{"name":"other","version":"0.1.1","manifest_path":"/x/Cargo.toml"},
            {"name":"drone-micropython-raw","version":"0.1.1","manifest_path":"/r/drone-micropython-raw-0.1.1/Cargo.toml"}]}"#;
        assert_eq!(
            package_dir(json).unwrap(),
            PathBuf::from("/r/drone-micropython-raw-0.1.1")
        );
        assert!(package_dir(br#"{"packages":[]}"#).is_err());
        assert!(package_dir(b"not json").is_err());
    }

    #[test]
    fn rejects_a_checkout_of_another_version() {
        let dir = tempfile::tempdir().unwrap();
        for f in ["py/mpconfig.h", "ports/unix/Makefile", "docs/conf.py"] {
            let p = dir.path().join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, "").unwrap();
        }
        std::fs::write(
            dir.path().join("docs/conf.py"),
            "version = release = '1.12'\n",
        )
        .unwrap();
        let err = check_override(dir.path()).unwrap_err().to_string();
        assert!(err.contains("1.12"), "{err}");
        std::fs::write(
            dir.path().join("docs/conf.py"),
            "version = release = '1.9.4'\n",
        )
        .unwrap();
        check_override(dir.path()).unwrap();
        let a = fingerprint(dir.path()).unwrap();
        std::fs::write(dir.path().join("py/mpconfig.h"), "changed").unwrap();
        assert_ne!(a, fingerprint(dir.path()).unwrap());
    }
}
