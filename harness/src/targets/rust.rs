//! The `rust` target: the firmware crate (`mpfw`) running in-process.
//!
//! Each scenario gets a fresh [`Machine`] with the scenario's heap size and a [`RamFs`] holding
//! the tree under `/mpdiff`, with `/mpdiff` as the current folder (so `__file__` values are
//! relative, as on the unix targets). The driver script runs as `File` input with its output
//! captured; a deadline from [`RunOptions::timeout`] interrupts it through [`Io::interrupted`].

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use mpfw::fs::{FileSystem, RamFs};
use mpfw::{Config, InputKind, Io, Machine};

use crate::driver::{self, MICROPYTHON_PRELUDE};
use crate::scenario::{Scenario, Step};
use crate::targets::{Execution, RunOptions, Target, TargetError};

/// Where the scenario tree lives in the firmware's filesystem (also the board target's folder).
pub const ROOT: &str = "/mpdiff";

/// `sys.path` of the unix port started with an empty environment (`HOME` unset, so
/// `~/.micropython/lib` stays a qstr). Interning the same start-up strings as the reference
/// puts the qstr pools and chunks in the same state, so later qstr growth costs the same.
pub const UNIX_PATH: [&str; 3] = Config::UNIX_PORT_PATH;

/// A folder name as long as the unix target's scratch folders (`/tmp/mpdiff-` + 8 chars),
/// which the unix port interns as `sys.path[0]`.
pub const SCRIPT_DIR: &str = "/tmp/mpdiff-xxxxxxxx";

/// The driver's name as the unix target passes it (`sys.argv[0]` and `__file__`).
pub const DRIVER: &str = "../driver.py";

/// Stack for the thread that runs the interpreter: its frames are Rust calls.
const STACK_BYTES: usize = 256 * 1024 * 1024;

/// Bytes of the inaccessible guard region below each stack: running off the end faults
/// instead of writing over other memory.
const GUARD_BYTES: usize = 64 * 1024;

/// A [`STACK_BYTES`] stack mapped once and reused by one run at a time. Each scenario runs on
/// such a stack on the caller's own thread ([`psm::on_stack`]): handing every scenario to a
/// big-stack worker thread cost two thread wake-ups and two context switches per scenario,
/// and starting a thread per scenario cost a fresh stack that had to be page-faulted in again.
/// Pages touched by one run stay mapped for the next.
struct BigStack {
    /// Start of the mapping (the guard region, then the stack).
    map: *mut u8,
}

// SAFETY: the mapping is owned by this value alone and used by one thread at a time (it is
// taken out of the pool for a run and put back afterwards).
unsafe impl Send for BigStack {}

impl BigStack {
    fn map() -> std::io::Result<BigStack> {
        let len = GUARD_BYTES + STACK_BYTES;
        // SAFETY: a fresh private anonymous mapping; no existing memory is affected.
        let map = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE | libc::MAP_STACK,
                -1,
                0,
            )
        };
        if map == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error());
        }
        let stack = BigStack { map: map.cast() };
        // SAFETY: the guard region is the start of the mapping made just above.
        if unsafe { libc::mprotect(map, GUARD_BYTES, libc::PROT_NONE) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(stack)
    }

    /// Runs `f` on this stack, on the calling thread.
    fn run<T>(&mut self, f: impl FnOnce() -> T) -> T {
        // SAFETY: the stack lies above the guard region in a mapping this value owns; its
        // base is page-aligned and its size a multiple of the page size, which satisfies the
        // target's stack alignment; callers pass an `f` that catches its panics, so nothing
        // unwinds out of it.
        unsafe { psm::on_stack(self.map.add(GUARD_BYTES), STACK_BYTES, f) }
    }
}

impl Drop for BigStack {
    fn drop(&mut self) {
        // SAFETY: the whole mapping made in `BigStack::map`, no longer in use.
        unsafe {
            libc::munmap(self.map.cast(), GUARD_BYTES + STACK_BYTES);
        }
    }
}

/// Idle stacks. A caller takes one (or maps one when none is idle), runs its job and puts it
/// back, so there are never more stacks than callers running at once (the runner's jobs).
struct Pool {
    idle: Mutex<Vec<BigStack>>,
}

/// The stacks of this process.
static POOL: Pool = Pool::new();

impl Pool {
    const fn new() -> Pool {
        Pool {
            idle: Mutex::new(Vec::new()),
        }
    }

    fn take(&self) -> Option<BigStack> {
        self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop()
    }

    fn put(&self, stack: BigStack) {
        self.idle
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(stack);
    }

    /// Runs `job` on an idle stack, mapping one if there is none. A panic in `job` ends the
    /// job only: it is reported as the execution's failure and the stack is reused.
    fn run(&self, job: impl FnOnce() -> Execution) -> Execution {
        let mut stack = match self.take() {
            Some(s) => s,
            None => match BigStack::map() {
                Ok(s) => s,
                Err(e) => return failed(format!("could not map the firmware's stack: {e}")),
            },
        };
        // The panic is caught on the big stack: nothing may unwind across the switch.
        let result = stack.run(|| catch_unwind(AssertUnwindSafe(job)).map_err(|p| panic_text(&p)));
        self.put(stack);
        match result {
            Ok(execution) => execution,
            Err(panic) => failed(format!("the firmware panicked: {panic}")),
        }
    }
}

/// Runs `job` on one of the process's big stacks.
fn on_big_stack(job: impl FnOnce() -> Execution) -> Execution {
    POOL.run(job)
}

fn failed(why: String) -> Execution {
    Execution {
        failure: Some(why),
        ..Execution::default()
    }
}

/// The in-process firmware target.
#[derive(Debug, Default, Clone, Copy)]
pub struct RustTarget;

impl RustTarget {
    /// The target.
    pub fn new() -> RustTarget {
        RustTarget
    }
}

/// Captures output and reports an interruption once the deadline has passed.
struct Capture {
    out: Vec<u8>,
    deadline: Instant,
    timed_out: bool,
}

impl Io for Capture {
    fn write(&mut self, data: &[u8]) {
        self.out.extend_from_slice(data);
    }

    fn interrupted(&mut self) -> bool {
        if Instant::now() >= self.deadline {
            self.timed_out = true;
        }
        self.timed_out
    }
}

impl Target for RustTarget {
    fn name(&self) -> String {
        "rust".to_string()
    }

    fn prepare(&self) -> Result<(), TargetError> {
        Ok(())
    }

    fn info(&self, heap: u64) -> String {
        format!(
            "mpfw {}, MicroPython 1.9.4-compatible, 32-bit words, heap {heap} bytes",
            env!("CARGO_PKG_VERSION")
        )
    }

    fn execute(&self, scenario: &Scenario, options: &RunOptions) -> Execution {
        let timeout = scenario.timeout.unwrap_or(options.timeout);
        let info = self.info(scenario.heap);
        let mut execution = on_big_stack(|| run(scenario, timeout));
        execution.target_info = info;
        execution
    }
}

fn panic_text(p: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_string()
    }
}

fn run(scenario: &Scenario, timeout: Duration) -> Execution {
    let mut execution = Execution::default();
    let mut fs = RamFs::new();
    let tree_ok = (|| {
        fs.mkdir(ROOT)?;
        for (path, content) in &scenario.tree {
            fs.write_all(&format!("{ROOT}/{path}"), content.as_bytes())?;
        }
        fs.chdir(ROOT)
    })();
    if let Err(e) = tree_ok {
        execution.failure = Some(format!("could not build the scenario tree: {e:?}"));
        return execution;
    }
    let heap = usize::try_from(scenario.heap).unwrap_or(usize::MAX);
    let mut machine = Machine::new(Config::unix_port(heap, Box::new(fs), SCRIPT_DIR, DRIVER));
    let script = driver::script(scenario, MICROPYTHON_PRELUDE, "sys.path[0] = ''\n");
    let mut io = Capture {
        // room for a usual run's records, so that the buffer is rarely grown and copied
        out: Vec::with_capacity(8 * 1024),
        deadline: Instant::now() + timeout,
        timed_out: false,
    };
    let result = machine.exec(&script, DRIVER, InputKind::File, &mut io);
    // the output is nearly always valid UTF-8: checked in place and kept without a copy
    let output = String::from_utf8(io.out)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
    let report = match driver::parse(scenario, &output) {
        Ok(r) => r,
        Err(e) => {
            execution.failure = Some(format!("unreadable driver output: {e}"));
            return execution;
        }
    };
    let place = match report.last_step {
        Some(i) => format!("in step {} ({})", i, step_kind(scenario, i)),
        None => "before the first step".to_string(),
    };
    execution.failure = match &result {
        Err(_) if io.timed_out => Some(format!("timed out after {}s {place}", timeout.as_secs())),
        Err(e) => Some(format!(
            "the driver stopped {place}:\n{}",
            machine.format_exception(e)
        )),
        Ok(()) if !report.finished => Some(format!("the driver did not finish {place}")),
        Ok(()) => None,
    };
    execution.baseline_modules = report.baseline_modules;
    execution.observations = report.observations;
    execution.exceptions = report.exceptions;
    execution
}

fn step_kind(scenario: &Scenario, i: usize) -> &'static str {
    match scenario.steps.get(i) {
        Some(Step::Run { .. }) => "run",
        Some(Step::Observe { .. }) => "observe",
        None => "?",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    #[test]
    fn a_panicking_job_is_reported_and_the_stack_is_reused() {
        let boom = on_big_stack(|| panic!("boom in the firmware"));
        assert_eq!(
            boom.failure.as_deref(),
            Some("the firmware panicked: boom in the firmware")
        );
        let fine = on_big_stack(|| Execution {
            target_info: "ran".into(),
            ..Execution::default()
        });
        assert_eq!(fine.failure, None);
        assert_eq!(fine.target_info, "ran");
    }

    /// Recursion that needs far more than a thread's usual 8 MB of stack.
    fn deep(n: u64) -> u64 {
        let pad = std::hint::black_box([n; 512]);
        if n == 0 {
            0
        } else {
            pad[n as usize % 512] % 2 + deep(n - 1)
        }
    }

    #[test]
    fn jobs_get_the_big_stack() {
        // 10 000 frames of over 4 KB each: over 40 MB
        let r = on_big_stack(|| Execution {
            target_info: deep(10_000).to_string(),
            ..Execution::default()
        });
        assert_eq!(r.failure, None);
        assert_eq!(r.target_info, (10_000 / 2).to_string());
    }

    #[test]
    fn idle_stacks_are_reused_and_busy_ones_are_not_shared() {
        let pool = Pool::new();
        // where the job's stack frame is: inside the stack it runs on
        let here = || {
            let marker = 0u8;
            Execution {
                target_info: format!("{}", std::ptr::addr_of!(marker) as usize >> 28),
                ..Execution::default()
            }
        };
        let first = pool.run(here).target_info;
        let second = pool.run(here).target_info;
        assert_eq!(first, second, "the idle stack is reused");
        assert_eq!(pool.idle.lock().unwrap().len(), 1);
        // Two callers at once need two stacks: hold one busy until the other has run.
        let (started_tx, started_rx) = mpsc::channel::<()>();
        let (go_tx, go_rx) = mpsc::channel::<()>();
        std::thread::scope(|s| {
            let busy = s.spawn(|| {
                pool.run(move || {
                    let _ = started_tx.send(());
                    let _ = go_rx.recv();
                    Execution::default()
                })
            });
            started_rx.recv().unwrap();
            assert!(
                pool.idle.lock().unwrap().is_empty(),
                "the busy stack is taken"
            );
            let other = pool.run(here).target_info;
            go_tx.send(()).unwrap();
            busy.join().unwrap();
            assert_ne!(other, "", "the second caller ran");
        });
        assert_eq!(pool.idle.lock().unwrap().len(), 2);
    }
}
