//! The `rust` target: the firmware crate (`mpfw`) running in-process.
//!
//! Each scenario gets a fresh [`Machine`] with the scenario's heap size and a [`RamFs`] holding
//! the tree under `/mpdiff`, with `/mpdiff` as the current folder (so `__file__` values are
//! relative, as on the unix targets). The driver script runs as `File` input with its output
//! captured; a deadline from [`RunOptions::timeout`] interrupts it through [`Io::interrupted`].

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Mutex, mpsc};
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

/// A scenario run handed to a [`Worker`].
type Job = Box<dyn FnOnce() -> Execution + Send>;

/// A long-lived thread with a [`STACK_BYTES`] stack that runs jobs one at a time. Starting
/// such a thread for every scenario cost about as much as running a small scenario (a fresh
/// stack is page-faulted in again), so idle workers wait in a [`Pool`] for the next job.
struct Worker {
    jobs: mpsc::Sender<Job>,
    /// The job's execution, or the text of its panic.
    results: mpsc::Receiver<Result<Execution, String>>,
}

impl Worker {
    fn spawn() -> std::io::Result<Worker> {
        let (jobs, job_rx) = mpsc::channel::<Job>();
        let (result_tx, results) = mpsc::channel();
        std::thread::Builder::new()
            .name("mpfw".into())
            .stack_size(STACK_BYTES)
            .spawn(move || {
                for job in job_rx {
                    // A panic ends the job, not the worker: the machine it ran on is gone
                    // with the job's stack frames, and the next job starts a fresh one.
                    let result = catch_unwind(AssertUnwindSafe(job)).map_err(|p| panic_text(&p));
                    if result_tx.send(result).is_err() {
                        break;
                    }
                }
            })?;
        Ok(Worker { jobs, results })
    }
}

/// Idle workers. A caller takes one (or starts one when none is idle), runs its job and puts
/// it back, so there are never more workers than callers running at once (the runner's jobs).
struct Pool {
    idle: Mutex<Vec<Worker>>,
}

/// The workers of this process.
static POOL: Pool = Pool::new();

impl Pool {
    const fn new() -> Pool {
        Pool {
            idle: Mutex::new(Vec::new()),
        }
    }

    fn take(&self) -> Option<Worker> {
        self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop()
    }

    fn put(&self, worker: Worker) {
        self.idle
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(worker);
    }

    /// Runs `job` on an idle worker, starting one if there is none.
    fn run(&self, job: Job) -> Execution {
        let mut job = job;
        // A second try only when an idle worker was gone before it took the job.
        for _ in 0..2 {
            let worker = match self.take() {
                Some(w) => w,
                None => match Worker::spawn() {
                    Ok(w) => w,
                    Err(e) => return failed(format!("could not start the firmware thread: {e}")),
                },
            };
            if let Err(mpsc::SendError(back)) = worker.jobs.send(job) {
                job = back;
                continue;
            }
            return match worker.results.recv() {
                Ok(Ok(execution)) => {
                    self.put(worker);
                    execution
                }
                Ok(Err(panic)) => {
                    self.put(worker);
                    failed(format!("the firmware panicked: {panic}"))
                }
                Err(_) => failed("the firmware thread ended during the run".to_string()),
            };
        }
        failed("could not hand the scenario to the firmware thread".to_string())
    }
}

/// Runs `job` on one of the process's workers.
fn on_worker(job: Job) -> Execution {
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
        let scenario_owned = scenario.clone();
        let info = self.info(scenario.heap);
        let mut execution = on_worker(Box::new(move || run(&scenario_owned, timeout)));
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
        out: Vec::new(),
        deadline: Instant::now() + timeout,
        timed_out: false,
    };
    let result = machine.exec(&script, DRIVER, InputKind::File, &mut io);
    let output = String::from_utf8_lossy(&io.out).into_owned();
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

    #[test]
    fn a_panicking_job_is_reported_and_the_worker_goes_on() {
        let boom = on_worker(Box::new(|| panic!("boom in the firmware")));
        assert_eq!(
            boom.failure.as_deref(),
            Some("the firmware panicked: boom in the firmware")
        );
        let fine = on_worker(Box::new(|| Execution {
            target_info: "ran".into(),
            ..Execution::default()
        }));
        assert_eq!(fine.failure, None);
        assert_eq!(fine.target_info, "ran");
    }

    #[test]
    fn idle_workers_are_reused_and_busy_ones_are_not_shared() {
        let pool = Pool::new();
        let name = || Execution {
            target_info: format!("{:?}", std::thread::current().id()),
            ..Execution::default()
        };
        let first = pool.run(Box::new(name)).target_info;
        let second = pool.run(Box::new(name)).target_info;
        assert_eq!(first, second, "the idle worker is reused");
        let caller = format!("{:?}", std::thread::current().id());
        assert_ne!(first, caller, "jobs do not run on the calling thread");
        // Two callers at once need two workers: hold one busy until the other has run.
        let (started_tx, started_rx) = mpsc::channel::<()>();
        let (go_tx, go_rx) = mpsc::channel::<()>();
        let go_rx = Mutex::new(go_rx);
        std::thread::scope(|s| {
            let busy = s.spawn(|| {
                pool.run(Box::new(move || {
                    let _ = started_tx.send(());
                    let _ = go_rx.lock().unwrap().recv();
                    name()
                }))
                .target_info
            });
            started_rx.recv().unwrap();
            let other = pool.run(Box::new(name)).target_info;
            go_tx.send(()).unwrap();
            let busy = busy.join().unwrap();
            assert_ne!(busy, other, "a busy worker does not take a second job");
        });
        assert_eq!(pool.idle.lock().unwrap().len(), 2);
    }
}
