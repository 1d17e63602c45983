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

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
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

    /// Runs the script, killing it after `timeout`.
    pub fn run(
        &self,
        heap: u64,
        script: &Path,
        cwd: &Path,
        timeout: Duration,
    ) -> std::io::Result<Finished> {
        let child = self.command(heap, script, cwd).spawn()?;
        collect(child, timeout)
    }
}

/// Waits for a child while two threads drain its pipes (so a full pipe cannot block it).
fn collect(mut child: Child, timeout: Duration) -> std::io::Result<Finished> {
    let (out_tx, out_rx) = mpsc::channel();
    let (err_tx, err_rx) = mpsc::channel();
    if let Some(out) = child.stdout.take() {
        std::thread::spawn(move || {
            let _ = out_tx.send(read_records(out));
        });
    }
    if let Some(err) = child.stderr.take() {
        std::thread::spawn(move || {
            let _ = err_tx.send(read_tail(err, STDERR_KEEP));
        });
    }
    let status = match child.wait_timeout(timeout) {
        Ok(Some(status)) => Some(status),
        Ok(None) => {
            let _ = child.kill();
            let _ = child.wait();
            None
        }
        Err(e) => {
            let _ = child.kill();
            let _ = child.wait();
            return Err(e);
        }
    };
    // A process the script started could keep the pipes open after the child is gone:
    // wait a little for the readers, then go on with what they have not sent (nothing).
    let grace = Duration::from_secs(2);
    let (records, stdout_bytes) = out_rx.recv_timeout(grace).unwrap_or_default();
    let stderr_tail = err_rx.recv_timeout(grace).unwrap_or_default();
    Ok(Finished {
        records,
        stdout_bytes,
        stderr_tail,
        end: status.map_or(End::TimedOut, end_of),
    })
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
