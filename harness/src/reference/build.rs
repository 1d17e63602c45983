//! Builds the MicroPython 1.9.4 unix port from source, once per variant, under the
//! workspace's target folder (DESIGN.md, "MicroPython 1.9.4 source: where it comes from").
//!
//! Layout under `<target>/mpdiff/micropython-1.9.4/`:
//!
//! - `<variant>/`: a copy of the source tree, built; the binary is
//!   `<variant>/ports/unix/micropython`, next to it `build.log` and the stamp;
//! - `<variant>.partial/`: a build in progress, or a failed one kept for its log;
//! - `<variant>.lock`: held while building, so parallel test processes build once.
//!
//! A build is only ever moved into place complete, with its stamp (source identity and
//! make flags) written last, so a reader that sees a matching stamp can use the binary
//! without taking the lock.

use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use super::error::ReferenceError;
use super::source::{self, BUILD_INPUTS, MICROPYTHON_VERSION};

/// Word size of a unix-port build.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Word {
    /// x86-64: 8-byte words, 32-byte GC blocks (target `unix`).
    W64,
    /// x86 32-bit: 4-byte words, 16-byte GC blocks like the ESP8266 (target `unix32`).
    W32,
}

impl Word {
    /// The target name: `unix` or `unix32`.
    pub fn target_name(self) -> &'static str {
        match self {
            Word::W64 => "unix",
            Word::W32 => "unix32",
        }
    }

    /// Bits per machine word.
    pub fn bits(self) -> u32 {
        match self {
            Word::W64 => 64,
            Word::W32 => 32,
        }
    }

    /// The `make` variables for this variant (DESIGN.md): no btree, ssl or ffi (their
    /// sources are git submodules absent from the crate), no frozen modules (the folder
    /// is a symlink absent from the crate), and the default warnings without `-Werror`
    /// (gcc 12 warns on lib/utils/printf.c). The 32-bit build needs the setjmp NLR: the
    /// x86 assembly one crashes at start-up with gcc 12.
    pub fn make_vars(self) -> Vec<String> {
        let mut vars: Vec<String> = [
            "MICROPY_PY_BTREE=0",
            "MICROPY_PY_USSL=0",
            "MICROPY_PY_FFI=0",
            "FROZEN_MPY_DIR=",
            "CWARN=-Wall -Wpointer-arith -Wuninitialized",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        if self == Word::W32 {
            vars.push("MICROPY_FORCE_32BIT=1".into());
            vars.push("CFLAGS_EXTRA=-DMICROPY_NLR_SETJMP=1 -DMICROPY_EMIT_X86=0".into());
        }
        vars
    }
}

/// A built unix-port binary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Build {
    /// The variant.
    pub word: Word,
    /// The build folder (source copy, log, stamp).
    pub dir: PathBuf,
    /// The `micropython` executable.
    pub binary: PathBuf,
    /// Whether this call compiled it (false: the cached build was current).
    pub built: bool,
}

/// File name of the stamp inside a build folder.
pub const STAMP: &str = "mpdiff-build.stamp";

/// File name of the build log inside a build folder.
pub const LOG: &str = "build.log";

/// The target folder: `$CARGO_TARGET_DIR` if set, else `<workspace>/target`.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => {
            let dir = PathBuf::from(dir);
            if dir.is_absolute() {
                dir
            } else {
                source::workspace_root().join(dir)
            }
        }
        _ => source::workspace_root().join("target"),
    }
}

/// Where the reference builds live: `<target>/mpdiff/micropython-1.9.4`.
pub fn build_root() -> PathBuf {
    target_dir()
        .join("mpdiff")
        .join(format!("micropython-{MICROPYTHON_VERSION}"))
}

/// The build folder of one variant.
pub fn variant_dir(word: Word) -> PathBuf {
    build_root().join(word.target_name())
}

/// The binary of one variant inside its build folder.
pub fn binary_path(dir: &Path) -> PathBuf {
    dir.join("ports/unix/micropython")
}

/// The stamp a current build of `word` from the source `identity` carries.
pub fn stamp_text(identity: &str, word: Word) -> String {
    let mut text = format!(
        "mpdiff reference build, format 1\nmicropython: {MICROPYTHON_VERSION}\nsource: {identity}\nvariant: {}\n",
        word.target_name()
    );
    for var in word.make_vars() {
        text.push_str("make: ");
        text.push_str(&var);
        text.push('\n');
    }
    text
}

/// Returns the current build of `word`, building it first if the cached one is missing
/// or was built from another source or with other flags. Safe to call from parallel
/// threads and processes: one builds, the others wait for it.
pub fn build(word: Word) -> Result<Build, ReferenceError> {
    let identity = source::identity()?;
    let expected = stamp_text(&identity, word);
    let dir = variant_dir(word);
    if let Some(found) = current(&dir, word, &expected) {
        return Ok(found);
    }

    let root = build_root();
    fs::create_dir_all(&root).map_err(|e| io("failed to create", &root, e))?;
    let lock_path = root.join(format!("{}.lock", word.target_name()));
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| io("failed to open", &lock_path, e))?;
    if lock.try_lock().is_err() {
        progress(&format!(
            "waiting for another process building {} ({})",
            word.target_name(),
            lock_path.display()
        ));
        lock.lock()
            .map_err(|e| io("failed to lock", &lock_path, e))?;
    }
    // Someone may have finished the build while we waited.
    if let Some(found) = current(&dir, word, &expected) {
        return Ok(found);
    }
    let result = build_locked(word, &dir, &expected);
    drop(lock);
    result
}

/// The cached build, if its stamp matches and its binary exists.
fn current(dir: &Path, word: Word, expected: &str) -> Option<Build> {
    let stamp = fs::read_to_string(dir.join(STAMP)).ok()?;
    let binary = binary_path(dir);
    (stamp == expected && binary.is_file()).then(|| Build {
        word,
        dir: dir.to_path_buf(),
        binary,
        built: false,
    })
}

fn build_locked(word: Word, dir: &Path, stamp: &str) -> Result<Build, ReferenceError> {
    let started = Instant::now();
    let name = word.target_name();
    let make = find_tool("make", "Debian/Ubuntu: apt-get install make")?;
    find_tool("gcc", "Debian/Ubuntu: apt-get install gcc")?;
    let python = find_program("python3")
        .or_else(|| find_program("python"))
        .ok_or_else(|| ReferenceError::MissingTool {
            tool: "python3".into(),
            hint: "the build generates headers with Python scripts; Debian/Ubuntu: apt-get install python3".into(),
        })?;

    if word == Word::W32 {
        check_multilib()?;
    }
    let src = source::locate()?;
    let staging = dir.with_file_name(format!("{name}.partial"));
    remove_dir(&staging)?;
    fs::create_dir_all(&staging).map_err(|e| io("failed to create", &staging, e))?;
    progress(&format!(
        "building MicroPython {MICROPYTHON_VERSION} {name} from {} in {}",
        src.root.display(),
        staging.display()
    ));
    for input in BUILD_INPUTS {
        let from = src.root.join(input);
        if from.exists() {
            copy_tree(&from, &staging.join(input))?;
        }
    }

    let log_path = staging.join(LOG);
    let mut log = File::create(&log_path).map_err(|e| io("failed to create", &log_path, e))?;
    let jobs = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut cmd = Command::new(&make);
    cmd.arg("-C")
        .arg(staging.join("ports/unix"))
        .arg(format!("-j{jobs}"))
        .arg(format!("PYTHON={}", python.display()))
        .args(word.make_vars())
        // py/makeversionhdr.py asks git first; the copy has no .git, and pointing git at
        // a missing folder keeps it from finding an enclosing repository (this project's,
        // when the target folder is inside it), so the version comes from docs/conf.py.
        .env("GIT_DIR", staging.join(".no-git"))
        .env_remove("MAKEFLAGS")
        .env_remove("MFLAGS")
        .env_remove("MAKELEVEL")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(
            log.try_clone()
                .map_err(|e| io("failed to open", &log_path, e))?,
        );
    // Exact heap figures can depend on the compiler (conservative stack scanning sees
    // its stack frames), so the log says which one built this.
    let compiler = Command::new("gcc")
        .arg("--version")
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .unwrap_or("")
                .to_string()
        })
        .unwrap_or_default();
    let _ = writeln!(
        log,
        "source: {} ({:?})\ncompiler: {compiler}",
        src.root.display(),
        src.origin
    );
    let _ = writeln!(log, "$ {cmd:?}");
    let mut child = cmd
        .spawn()
        .map_err(|e| io("failed to run", Path::new("make"), e))?;
    if let Some(out) = child.stdout.take() {
        let mut compiled = 0usize;
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = writeln!(log, "{line}");
            if line.starts_with("CC ") {
                compiled += 1;
                if compiled.is_multiple_of(50) {
                    progress(&format!("{name}: {compiled} files compiled"));
                }
            }
        }
    }
    let status = child
        .wait()
        .map_err(|e| io("failed to wait for", Path::new("make"), e))?;
    drop(log);
    let binary = binary_path(&staging);
    if !status.success() || !binary.is_file() {
        let text = fs::read_to_string(&log_path).unwrap_or_default();
        return Err(ReferenceError::Make {
            variant: name.into(),
            status: status.to_string(),
            log: log_path,
            tail: failure_tail(&text),
        });
    }
    let stamp_path = staging.join(STAMP);
    fs::write(&stamp_path, stamp).map_err(|e| io("failed to write", &stamp_path, e))?;
    remove_dir(dir)?;
    fs::rename(&staging, dir).map_err(|e| io("failed to move the build to", dir, e))?;
    progress(&format!(
        "built {name} in {:.1} s: {}",
        started.elapsed().as_secs_f64(),
        binary_path(dir).display()
    ));
    Ok(Build {
        word,
        dir: dir.to_path_buf(),
        binary: binary_path(dir),
        built: true,
    })
}

/// The last lines of a failed build's log, with a hint when the cause is known.
fn failure_tail(log: &str) -> String {
    let lines: Vec<&str> = log.lines().collect();
    let mut tail = lines[lines.len().saturating_sub(15)..].join("\n");
    let multilib_signs = ["stubs-32.h", "cannot find -lgcc", "skipping incompatible"];
    if multilib_signs.iter().any(|s| log.contains(s)) && log.contains("error") {
        tail.push_str(
            "\nhint: the 32-bit build needs gcc-multilib (Debian/Ubuntu: apt-get install gcc-multilib)",
        );
    }
    tail
}

/// Compiles a tiny program with `gcc -m32` to tell a missing multilib apart from a
/// MicroPython build error before spending time on the build.
fn check_multilib() -> Result<(), ReferenceError> {
    let dir = tempfile::tempdir().map_err(|e| io("failed to create", &std::env::temp_dir(), e))?;
    let scratch = dir.path();
    let c = scratch.join("m32-probe.c");
    fs::write(
        &c,
        "#include <stdio.h>\nint main(void) { return puts(\"\") < 0; }\n",
    )
    .map_err(|e| io("failed to write", &c, e))?;
    let out = Command::new("gcc")
        .arg("-m32")
        .arg(&c)
        .arg("-o")
        .arg(scratch.join("m32-probe"))
        .stdin(Stdio::null())
        .output()
        .map_err(|e| io("failed to run", Path::new("gcc"), e))?;
    if out.status.success() {
        return Ok(());
    }
    let said = String::from_utf8_lossy(&out.stderr);
    Err(ReferenceError::NoMultilib {
        detail: format!(
            "`gcc -m32` says: {}",
            said.lines()
                .find(|l| l.contains("error"))
                .or_else(|| said.lines().next())
                .unwrap_or("nothing")
                .trim()
        ),
    })
}

/// Copies a file or folder, keeping symbolic links as links and leaving out VCS data
/// and earlier build output.
fn copy_tree(from: &Path, to: &Path) -> Result<(), ReferenceError> {
    let meta = fs::symlink_metadata(from).map_err(|e| io("failed to read", from, e))?;
    if meta.file_type().is_symlink() {
        let target = fs::read_link(from).map_err(|e| io("failed to read", from, e))?;
        std::os::unix::fs::symlink(&target, to).map_err(|e| io("failed to link", to, e))?;
    } else if meta.is_dir() {
        fs::create_dir_all(to).map_err(|e| io("failed to create", to, e))?;
        for entry in fs::read_dir(from).map_err(|e| io("failed to list", from, e))? {
            let entry = entry.map_err(|e| io("failed to list", from, e))?;
            let name = entry.file_name();
            if source::is_skipped_dir(&name.to_string_lossy())
                && entry.file_type().is_ok_and(|t| t.is_dir())
            {
                continue;
            }
            copy_tree(&entry.path(), &to.join(&name))?;
        }
    } else {
        if let Some(parent) = to.parent() {
            fs::create_dir_all(parent).map_err(|e| io("failed to create", parent, e))?;
        }
        fs::copy(from, to).map_err(|e| io("failed to copy", from, e))?;
    }
    Ok(())
}

fn remove_dir(dir: &Path) -> Result<(), ReferenceError> {
    match fs::remove_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io("failed to remove", dir, e)),
    }
}

fn find_tool(name: &str, hint: &str) -> Result<PathBuf, ReferenceError> {
    find_program(name).ok_or_else(|| ReferenceError::MissingTool {
        tool: name.into(),
        hint: hint.into(),
    })
}

/// The first executable called `name` in `PATH`.
pub fn find_program(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0))
}

fn progress(message: &str) {
    eprintln!("mpdiff: {message}");
}

fn io(action: &'static str, path: &Path, source: std::io::Error) -> ReferenceError {
    ReferenceError::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamp_changes_with_source_and_flags() {
        let a = stamp_text("crates.io x 1", Word::W32);
        assert_ne!(a, stamp_text("crates.io x 2", Word::W32));
        assert_ne!(a, stamp_text("crates.io x 1", Word::W64));
        assert!(a.contains("MICROPY_FORCE_32BIT=1"));
        assert!(!stamp_text("s", Word::W64).contains("FORCE_32BIT"));
    }

    #[test]
    fn failure_tail_hints_at_multilib() {
        let log = "CC ../../py/mpstate.c\n/usr/include/features.h:1: fatal error: gnu/stubs-32.h: No such file\n";
        assert!(failure_tail(log).contains("gcc-multilib"));
        assert!(!failure_tail("CC a.c\nerror: something else\n").contains("gcc-multilib"));
    }

    #[test]
    fn copy_keeps_links_and_skips_build_output() {
        let from = tempfile::tempdir().unwrap();
        let to = tempfile::tempdir().unwrap();
        fs::create_dir_all(from.path().join("a/build")).unwrap();
        fs::write(from.path().join("a/build/x.o"), "o").unwrap();
        fs::write(from.path().join("a/f.c"), "c").unwrap();
        std::os::unix::fs::symlink("f.c", from.path().join("a/l.c")).unwrap();
        copy_tree(&from.path().join("a"), &to.path().join("a")).unwrap();
        assert_eq!(fs::read_to_string(to.path().join("a/f.c")).unwrap(), "c");
        assert_eq!(
            fs::read_link(to.path().join("a/l.c")).unwrap(),
            PathBuf::from("f.c")
        );
        assert!(!to.path().join("a/build").exists());
    }
}
