//! Runs a unix-port `micropython` on a script file, the same way for every run, so the
//! heap figures it prints depend on the script only.
//!
//! What the unix port reads from its surroundings, and how it is pinned here:
//!
//! - the environment: `HOME` is expanded into a heap string in `sys.path`, and
//!   `MICROPYPATH` replaces `sys.path`; the child gets an empty environment;
//! - the script's folder: `main.c` interns `realpath(script)`'s folder as `sys.path[0]`,
//!   so its length moves qstr chunk boundaries; scripts live in folders of one fixed
//!   length ([`scratch_dir`]);
//! - address-space layout: the collector scans the C stack conservatively, so a stale
//!   word that happens to look like a heap pointer keeps a block alive; `setarch -R`
//!   (no randomisation) makes the addresses the same on every run where it is allowed.
//!
//! The unix port's standard output is unbuffered: every record line is one `write`.
//! Through a pipe each would be one wake-up and one `read` here, so the child writes its
//! standard output and error to unnamed files in the scratch parent instead (memory on
//! `/dev/shm`), read once after it ends. A file-size limit in the child
//! ([`OUTPUT_LIMIT`]) keeps a script that prints forever from filling that memory.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

use wait_timeout::ChildExt;

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// Exited with this code.
    Exited(i32),
    /// Killed by this signal (not by us).
    Signal(i32),
    /// Still running at the time limit; killed.
    TimedOut,
    /// Stopped by the system for writing more than this many bytes to standard output
    /// or error ([`OUTPUT_LIMIT`]).
    OutputExceeded(u64),
}

/// What a run printed and how it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finished {
    /// The complete lines of standard output that hold a driver record (`#~`); other
    /// output is counted, not kept, so a scenario printing a lot cannot fill memory.
    pub records: String,
    /// Bytes of standard output in all.
    pub stdout_bytes: u64,
    /// The last [`STDERR_KEEP`] bytes of standard error.
    pub stderr_tail: String,
    /// How it ended.
    pub end: End,
}

/// How much of standard error is kept.
pub const STDERR_KEEP: usize = 8 * 1024;

/// The most a run may write to standard output, and to standard error: past it the
/// system stops the child (`SIGXFSZ`; its writes fail instead where that signal is
/// ignored) and the run ends with [`End::OutputExceeded`].
pub const OUTPUT_LIMIT: u64 = 64 * 1024 * 1024;

/// How `micropython` is started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Launcher {
    /// The `micropython` binary.
    pub binary: PathBuf,
    /// `setarch` to run it without address randomisation, when that works here.
    pub setarch: Option<PathBuf>,
}

impl Launcher {
    /// The command for `micropython -X heapsize=<heap> <script>` in `cwd`.
    pub fn command(&self, heap: u64, script: &Path, cwd: &Path) -> Command {
        let mut cmd = match &self.setarch {
            Some(setarch) => {
                let mut c = Command::new(setarch);
                c.arg("-R").arg(&self.binary);
                c
            }
            None => Command::new(&self.binary),
        };
        cmd.arg("-X")
            .arg(format!("heapsize={heap}"))
            .arg(script)
            .current_dir(cwd)
            .env_clear()
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }

    /// Runs the script, killing it after `timeout`. Its output goes to unnamed files
    /// (gone when closed), capped at [`OUTPUT_LIMIT`] bytes each.
    pub fn run(
        &self,
        heap: u64,
        script: &Path,
        cwd: &Path,
        timeout: Duration,
    ) -> std::io::Result<Finished> {
        let mut out = output_file()?;
        let mut err = output_file()?;
        let mut cmd = self.command(heap, script, cwd);
        cmd.stdout(out.try_clone()?).stderr(err.try_clone()?);
        let mut child = cmd.spawn()?;
        // The parent's copies of the files stay here; the child's went with `cmd`.
        drop(cmd);
        if let Err(e) = limit_output(&child) {
            let _ = child.kill();
            let _ = child.wait();
            return Err(e);
        }
        let status = wait(child, timeout)?;
        out.seek(SeekFrom::Start(0))?;
        let (records, stdout_bytes) = read_records(&out);
        // Reaching the limit counts even if the child went on after EFBIG somehow.
        let full = stdout_bytes >= OUTPUT_LIMIT || err.metadata()?.len() >= OUTPUT_LIMIT;
        // Only the tail is kept: start reading near it.
        let err_len = err.metadata()?.len();
        err.seek(SeekFrom::Start(err_len.saturating_sub(STDERR_KEEP as u64)))?;
        let stderr_tail = read_tail(&err, STDERR_KEEP);
        let end = match status {
            None => End::TimedOut,
            Some(status) => match end_of(status) {
                End::Signal(libc::SIGXFSZ) => End::OutputExceeded(OUTPUT_LIMIT),
                _ if full => End::OutputExceeded(OUTPUT_LIMIT),
                end => end,
            },
        };
        Ok(Finished {
            records,
            stdout_bytes,
            stderr_tail,
            end,
        })
    }
}

/// An unnamed file for a child's output, in memory where that is possible.
fn output_file() -> std::io::Result<File> {
    for parent in SCRATCH_PARENTS {
        let fixed = Path::new(parent);
        if std::fs::symlink_metadata(fixed).is_ok_and(|m| m.is_dir())
            && let Ok(file) = tempfile::tempfile_in(fixed)
        {
            return Ok(file);
        }
    }
    tempfile::tempfile()
}

/// Lowers the child's file-size limit to [`OUTPUT_LIMIT`], so writing past it stops the
/// child instead of filling the output file's memory.
///
/// It is set from here just after the start rather than in the child before `exec`:
/// a pre-exec hook makes the standard library `fork` the whole harness instead of
/// spawning (several times dearer per scenario). The child cannot have written anything
/// by then: it is still starting `setarch` and then `micropython`, which reads and
/// compiles the script before running it. A child that went past the limit all the
/// same is still reported, from the size of its output.
fn limit_output(child: &Child) -> std::io::Result<()> {
    let pid = libc::pid_t::try_from(child.id())
        .map_err(|_| std::io::Error::other("process id out of range"))?;
    let limit = libc::rlim_t::try_from(OUTPUT_LIMIT).unwrap_or(libc::RLIM_INFINITY);
    let mut current = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: plain system calls on stack values; `pid` is our own child, not reaped yet.
    unsafe {
        if libc::prlimit(pid, libc::RLIMIT_FSIZE, std::ptr::null(), &mut current) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        let wanted = libc::rlimit {
            rlim_cur: current.rlim_cur.min(limit),
            rlim_max: current.rlim_max,
        };
        if libc::prlimit(pid, libc::RLIMIT_FSIZE, &wanted, std::ptr::null_mut()) != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Waits for the child until `timeout`, then kills it; `None` when it timed out.
fn wait(mut child: Child, timeout: Duration) -> std::io::Result<Option<ExitStatus>> {
    match child.wait_timeout(timeout) {
        Ok(Some(status)) => Ok(Some(status)),
        Ok(None) => {
            let _ = child.kill();
            let _ = child.wait();
            Ok(None)
        }
        Err(e) => {
            let _ = child.kill();
            let _ = child.wait();
            Err(e)
        }
    }
}

fn end_of(status: ExitStatus) -> End {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => End::Exited(code),
        (None, Some(sig)) => End::Signal(sig),
        (None, None) => End::Exited(-1),
    }
}

/// Keeps the lines holding a driver record.
fn read_records(out: impl Read) -> (String, u64) {
    let mut reader = BufReader::new(out);
    let mut kept = String::new();
    let mut total = 0u64;
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                total += n as u64;
                // Every record ends with a newline; a last line without one was cut
                // short (the process was killed or crashed while printing it).
                let complete = line.ends_with(b"\n");
                if complete && line.windows(2).any(|w| w == crate::driver::MARK.as_bytes()) {
                    kept.push_str(&String::from_utf8_lossy(&line));
                }
            }
        }
    }
    (kept, total)
}

/// Keeps the last `keep` bytes.
fn read_tail(err: impl Read, keep: usize) -> String {
    let mut reader = BufReader::new(err);
    let mut tail: Vec<u8> = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match reader.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                tail.extend_from_slice(&buf[..n]);
                if tail.len() > 2 * keep {
                    tail.drain(..tail.len() - keep);
                }
            }
        }
    }
    if tail.len() > keep {
        tail.drain(..tail.len() - keep);
    }
    String::from_utf8_lossy(&tail).into_owned()
}

/// Length of every [`scratch_dir`] path, e.g. `/tmp/mpdiff-AbCdEfGh`. Golden snapshots
/// were recorded with it: changing it changes the heap figures.
pub const SCRATCH_LEN: usize = 20;

/// Where run folders go, best first: memory-backed `/dev/shm` (creating and removing a
/// run folder there is several times faster than on a journalled disk), then `/tmp`.
const SCRATCH_PARENTS: [&str; 2] = ["/dev/shm", "/tmp"];

/// The run folders' name prefix.
const SCRATCH_PREFIX: &str = "mpdiff-";

/// A fresh folder for one run, whose absolute path is [`SCRATCH_LEN`] bytes long on every
/// run and every machine: the unix port interns the script's folder as a qstr, so another
/// length would move qstr chunk boundaries and change the heap figures (its characters
/// do not matter). The random part is as long as the parent leaves room for. Falls back
/// to the system temporary folder, where figures may differ, if neither parent is usable.
pub fn scratch_dir() -> std::io::Result<tempfile::TempDir> {
    for parent in SCRATCH_PARENTS {
        let fixed = Path::new(parent);
        // A symbolic link would make realpath() longer than the name we pick.
        if !std::fs::symlink_metadata(fixed).is_ok_and(|m| m.is_dir()) {
            continue;
        }
        let random = SCRATCH_LEN - parent.len() - 1 - SCRATCH_PREFIX.len();
        let made = tempfile::Builder::new()
            .prefix(SCRATCH_PREFIX)
            .rand_bytes(random)
            .tempdir_in(fixed);
        if let Ok(dir) = made {
            return Ok(dir);
        }
    }
    tempfile::Builder::new().prefix(SCRATCH_PREFIX).tempdir()
}

/// A signal's name, e.g. `SIGSEGV`.
pub fn signal_name(sig: i32) -> String {
    let name = match sig {
        1 => "SIGHUP",
        2 => "SIGINT",
        3 => "SIGQUIT",
        4 => "SIGILL",
        5 => "SIGTRAP",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        13 => "SIGPIPE",
        14 => "SIGALRM",
        15 => "SIGTERM",
        24 => "SIGXCPU",
        25 => "SIGXFSZ",
        31 => "SIGSYS",
        _ => return format!("signal {sig}"),
    };
    format!("{name} (signal {sig})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_only_record_lines() {
        let text = "hello\nnoise #~S 1\n#~END\n#~O 3 12";
        let (kept, total) = read_records(text.as_bytes());
        assert_eq!(kept, "noise #~S 1\n#~END\n");
        assert_eq!(total, text.len() as u64);
    }

    #[test]
    fn keeps_the_tail_of_stderr() {
        let text = "x".repeat(10_000) + "the end";
        let tail = read_tail(text.as_bytes(), 100);
        assert_eq!(tail.len(), 100);
        assert!(tail.ends_with("the end"));
    }

    fn launcher(binary: &str) -> Option<Launcher> {
        let binary = PathBuf::from(binary);
        binary.exists().then_some(Launcher {
            binary,
            setarch: None,
        })
    }

    #[test]
    fn reads_what_the_child_wrote() {
        // `echo` prints its arguments: the very command line the launcher builds.
        let Some(echo) = launcher("/bin/echo") else {
            return;
        };
        let done = echo
            .run(
                7,
                Path::new("x.py"),
                Path::new("/"),
                Duration::from_secs(30),
            )
            .unwrap();
        assert_eq!(done.end, End::Exited(0));
        assert_eq!(done.stdout_bytes, "-X heapsize=7 x.py\n".len() as u64);
        assert_eq!(done.records, "");
        assert_eq!(done.stderr_tail, "");
    }

    #[test]
    fn endless_output_is_stopped_at_the_limit() {
        use std::os::unix::fs::PermissionsExt;
        // A stand-in for micropython that prints its arguments forever.
        if !Path::new("/usr/bin/yes").exists() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let binary = dir.path().join("forever");
        std::fs::write(&binary, "#!/bin/sh\nexec /usr/bin/yes -- \"$@\"\n").unwrap();
        std::fs::set_permissions(&binary, std::fs::Permissions::from_mode(0o755)).unwrap();
        let forever = Launcher {
            binary,
            setarch: None,
        };
        let done = forever
            .run(7, Path::new("x.py"), dir.path(), Duration::from_secs(60))
            .unwrap();
        assert_eq!(done.end, End::OutputExceeded(OUTPUT_LIMIT), "{done:?}");
        assert!(done.stdout_bytes <= OUTPUT_LIMIT, "{}", done.stdout_bytes);
        assert!(
            done.stdout_bytes > OUTPUT_LIMIT / 2,
            "{}",
            done.stdout_bytes
        );
    }

    #[test]
    fn scratch_dirs_have_one_length() {
        let a = scratch_dir().unwrap();
        let b = scratch_dir().unwrap();
        assert_ne!(a.path(), b.path());
        assert_eq!(a.path().as_os_str().len(), SCRATCH_LEN);
        assert_eq!(b.path().as_os_str().len(), SCRATCH_LEN);
    }

    #[test]
    fn names_signals() {
        assert_eq!(signal_name(11), "SIGSEGV (signal 11)");
        assert_eq!(signal_name(99), "signal 99");
    }
}
