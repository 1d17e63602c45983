//! The `cpython` target: CPython embedded through pyo3, an extra column that shows where
//! CPython agrees with MicroPython 1.9.4 and where it does not.
//!
//! It runs the same driver script as every other target ([`crate::driver::script`]) with a
//! prelude of its own ([`PRELUDE`]) that binds `gc` to a look-alike built on
//! `tracemalloc`. CPython is one interpreter per process, so:
//!
//! - scenarios run one at a time (a process-wide lock), each on a short-lived thread of
//!   its own that holds the GIL only while Python runs; the caller (a rayon thread) only
//!   waits on a channel, never on the GIL;
//! - the state a scenario can change (`sys.modules`, `sys.path`, the import caches, the
//!   current folder, the standard streams) is saved before and restored after it
//!   (`cpython/support.py`), and the import system is warmed up once so its own caches do
//!   not count as the first scenario's memory;
//! - a scenario that runs past its time-out gets `KeyboardInterrupt` raised in its thread
//!   (`PyThreadState_SetAsyncExc`, repeated until it stops); one that cannot be
//!   interrupted (stuck in C code) leaves the target unusable for the rest of the process,
//!   and every later scenario reports that as its failure.
//!
//! What CPython adds on its own (`__builtins__` in the namespace, ...) is removed by
//! [`normalise::CPYTHON`](crate::normalise::CPYTHON). See docs/cpython.md.

use std::ffi::CString;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::Duration;

use pyo3::exceptions::PyKeyboardInterrupt;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::driver;
use crate::normalise::{self, Context};
use crate::scenario::{Scenario, Step};
use crate::targets::{Execution, RunOptions, Target, TargetError};

/// The driver prelude on CPython: `sys` is the real one, `gc` a look-alike whose
/// `mem_alloc()` is the memory `tracemalloc` traces and whose `mem_free()` is the
/// scenario's nominal heap minus that.
pub const PRELUDE: &str = include_str!("cpython/prelude.py");

/// Helpers that save and restore the interpreter's state around a scenario.
const SUPPORT: &str = include_str!("cpython/support.py");

/// How long an interrupted scenario gets to stop before the interpreter is given up.
const GRACE: Duration = Duration::from_secs(5);

/// How often a time-out interrupt is raised again (a scenario may swallow one).
const INTERRUPT_EVERY: Duration = Duration::from_millis(100);

/// Process-wide state: CPython is one interpreter per process, shared by every
/// [`CpythonTarget`].
struct Shared {
    /// The support helpers, once the interpreter is warmed up. In an `Arc` so a
    /// scenario's thread gets its own handle without taking the GIL.
    support: Option<Arc<Py<PyDict>>>,
    /// Set when a scenario could not be stopped: the interpreter is still busy with it.
    stuck: Option<String>,
}

static SHARED: Mutex<Shared> = Mutex::new(Shared {
    support: None,
    stuck: None,
});

/// CPython embedded through pyo3.
#[derive(Debug, Default)]
pub struct CpythonTarget;

impl CpythonTarget {
    /// The target. Python itself starts on first use.
    pub fn new() -> Self {
        CpythonTarget
    }
}

impl Target for CpythonTarget {
    fn name(&self) -> String {
        "cpython".to_string()
    }

    fn prepare(&self) -> Result<(), TargetError> {
        let mut shared = lock();
        if let Some(why) = &shared.stuck {
            return Err(unavailable(why.clone()));
        }
        if shared.support.is_none() {
            let support = run_on_python_thread(warm_up).map_err(unavailable)?;
            shared.support = Some(Arc::new(support));
        }
        Ok(())
    }

    fn info(&self, heap: u64) -> String {
        format!(
            "CPython {} via pyo3, tracemalloc memory, nominal heap {heap} bytes",
            version()
        )
    }

    fn execute(&self, scenario: &Scenario, options: &RunOptions) -> Execution {
        let info = self.info(scenario.heap);
        let timeout = scenario.timeout.unwrap_or(options.timeout);
        let mut execution = match execute(scenario, timeout) {
            Ok(execution) => execution,
            Err(failure) => Execution {
                failure: Some(failure),
                ..Execution::default()
            },
        };
        execution.target_info = info;
        execution
    }
}

/// `3.11.2` from `sys.version`. `Py_GetVersion` may be called before Python starts and
/// without the GIL, so asking never waits for a running scenario.
fn version() -> &'static str {
    static VERSION: OnceLock<String> = OnceLock::new();
    VERSION.get_or_init(|| {
        Python::version_str()
            .split_whitespace()
            .next()
            .unwrap_or("?")
            .to_string()
    })
}

fn unavailable(message: String) -> TargetError {
    TargetError::Unavailable {
        target: "cpython".to_string(),
        message,
    }
}

/// The shared state, even if a thread panicked while holding it (nothing in it can be
/// left half-written).
fn lock() -> std::sync::MutexGuard<'static, Shared> {
    SHARED.lock().unwrap_or_else(|p| p.into_inner())
}

/// Runs `f` attached to Python on a thread of its own and waits for it.
fn run_on_python_thread<T: Send + 'static>(
    f: impl FnOnce(Python<'_>) -> Result<T, String> + Send + 'static,
) -> Result<T, String> {
    thread::Builder::new()
        .name("mpdiff-cpython".into())
        .spawn(move || Python::attach(f))
        .map_err(|e| format!("cannot start a thread for python: {e}"))?
        .join()
        .map_err(|_| "the python thread panicked".to_string())?
}

/// Text of a Python exception, `Type: message`.
fn describe(py: Python<'_>, err: &PyErr) -> String {
    let kind = err
        .get_type(py)
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "BaseException".to_string());
    let message = err
        .value(py)
        .str()
        .map(|s| s.to_string())
        .unwrap_or_default();
    if message.is_empty() {
        kind
    } else {
        format!("{kind}: {message}")
    }
}

/// Loads the support helpers, imports what the import system imports lazily, makes the
/// process-wide tables that scenarios grow roomy, and runs a throwaway scenario through
/// the same path as real ones, so that caches filled on first use are filled before any
/// scenario is measured.
fn warm_up(py: Python<'_>) -> Result<Py<PyDict>, String> {
    let support = PyDict::new(py);
    let code = CString::new(SUPPORT).map_err(|e| e.to_string())?;
    py.run(&code, Some(&support), None)
        .map_err(|e| format!("loading the support code: {}", describe(py, &e)))?;
    let grow = support
        .get_item("grow_tables")
        .ok()
        .flatten()
        .ok_or("support code lacks grow_tables")?;
    grow.call0()
        .map_err(|e| format!("growing tables: {}", describe(py, &e)))?;
    let support = support.unbind();
    let warm = warm_up_scenario();
    // Twice: the first run fills caches, the second finds what the first one's restore
    // step left to grow.
    for _ in 0..5 {
        let dir = tempfile::tempdir().map_err(|e| format!("cannot create a temp folder: {e}"))?;
        let run = run_in(py, &support, &warm, dir.path(), None)?;
        if !run.report.finished || run.error.is_some() {
            return Err(format!(
                "the warm-up scenario did not finish: {}",
                run.error.unwrap_or_else(|| "no end record".to_string())
            ));
        }
    }
    Ok(support)
}

/// A scenario that goes through what real ones do (every import form, relative and star
/// imports, a cycle, failing imports, classes, closures, deletion, evals), so that what
/// CPython creates on first use of a construct and keeps (identifier strings, caches) is
/// created here and not during a measured scenario.
fn warm_up_scenario() -> Scenario {
    let run = |source: &str| Step::Run {
        source: source.to_string(),
        raises: None,
        line: 0,
    };
    let observe = |label: &str, eval: &[&str]| Step::Observe {
        label: label.to_string(),
        eval: eval.iter().map(|e| e.to_string()).collect(),
        line: 0,
    };
    let tree = [
        ("warm/__init__.py", "x = 1\n"),
        ("warm/sib.py", "S = 1\n"),
        ("warm/sub/__init__.py", "from . import leaf\n"),
        (
            "warm/sub/leaf.py",
            "from .. import sib\nfrom ..sib import S\n_hidden = 2\n",
        ),
        (
            "warm/sub/mod.py",
            "__all__ = ['f', 'K']\npayload = bytearray(100)\n\
             def f(n=payload):\n    return lambda: n\n\
             class K:\n    def __init__(self):\n        self.v = [1]\n",
        ),
        ("warm_a.py", "import warm_b\nA = 1\n"),
        ("warm_b.py", "import warm_a\nB = 2\n"),
        ("warm_bad.py", "first = 1\nraise ValueError('no')\n"),
        ("warm_syntax.py", "def (:\n"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    Scenario {
        name: "warm-up".to_string(),
        file: "warm-up".into(),
        about: "fills the interpreter's first-use caches".to_string(),
        heap: crate::scenario::DEFAULT_HEAP,
        tree,
        steps: vec![
            observe("before", &[]),
            run("import sys"),
            run("import warm.sub.mod"),
            run(
                "import warm.sub.mod as m\nfrom warm.sub import mod, leaf\nfrom warm.sub.mod import *",
            ),
            run(
                "t = __import__('warm.sub.leaf')\nu = __import__('warm.sub.leaf', None, None, ['S'])",
            ),
            run("__import__('warm', None, None, None, -1)"),
            run("import warm_a, warm_b"),
            run("import warm_missing"),
            run("from warm import missing"),
            run("import warm_bad"),
            run("import warm_syntax"),
            run("from . import nothing"),
            run("k = K()\ng = f()\ndel nothere"),
            observe(
                "imported",
                &[
                    "mod.f()() is mod.payload",
                    "warm_missing",
                    "m",
                    "dir(warm.sub)",
                    "hasattr(k, 'v')",
                ],
            ),
            run("del mod, m, k, g\ndel warm.sub.mod\ndel sys.modules['warm.sub.mod']"),
            run("del sys.modules['warm_bad'], sys.modules['warm_a']"),
            observe("deleted", &["sorted(sys.modules['warm'].__dict__)"]),
        ],
        expect: Vec::new(),
        strict_order: false,
        divergences: Vec::new(),
        cpython_expect: false,
        timeout: None,
    }
}

/// What one run of the driver produced.
struct Run {
    report: driver::Report,
    /// A Python exception that escaped the driver (a time-out's `KeyboardInterrupt`,
    /// `SystemExit`, ...), or a failure of the support code.
    error: Option<String>,
    tree_root: String,
}

/// Thread id and running flag of the scenario in progress, for the time-out watchdog.
#[derive(Default)]
struct Job {
    thread_id: AtomicI64,
    /// True while the driver runs; changed only with the GIL held, so an interrupt is
    /// never raised into the restoring code.
    running: AtomicBool,
    done: AtomicBool,
}

/// Runs the driver for `scenario` with its tree in `dir`, then restores the
/// interpreter's state. With `job`, publishes the thread id and the running flag.
fn run_in<'py>(
    py: Python<'py>,
    support: &Py<PyDict>,
    scenario: &Scenario,
    dir: &Path,
    job: Option<&Job>,
) -> Result<Run, String> {
    let support = support.bind(py);
    let call = |name: &str, args: Vec<Bound<'py, PyAny>>| -> Result<Bound<'py, PyAny>, String> {
        let f = support
            .get_item(name)
            .map_err(|e| describe(py, &e))?
            .ok_or_else(|| format!("support code lacks {name}"))?;
        let args = pyo3::types::PyTuple::new(py, args).map_err(|e| describe(py, &e))?;
        f.call1(args)
            .map_err(|e| format!("support.{name}: {}", describe(py, &e)))
    };
    let str_arg = |s: &str| pyo3::types::PyString::new(py, s).into_any();

    let tree = dir.join("tree");
    write_tree(&tree, scenario)?;
    let tree_root = tree.to_string_lossy().into_owned();
    let out_path = dir.join("out.txt");
    let script = driver::script(scenario, PRELUDE, &setup(scenario));

    let saved = call("save", vec![])?;
    let out = match call(
        "enter",
        vec![str_arg(&tree_root), str_arg(&out_path.to_string_lossy())],
    ) {
        Ok(out) => out,
        Err(e) => {
            let _ = call("leave", vec![saved, py.None().into_bound(py)]);
            return Err(e);
        }
    };
    if let Some(job) = job {
        let id = call("thread_id", vec![])
            .and_then(|v| v.extract::<i64>().map_err(|e| describe(py, &e)));
        if let Ok(id) = id {
            job.thread_id.store(id, Ordering::SeqCst);
        }
        job.running.store(true, Ordering::SeqCst);
    }
    let result = call("run", vec![str_arg(&script)]);
    if let Some(job) = job {
        job.running.store(false, Ordering::SeqCst);
        clear_interrupt(py, job.thread_id.load(Ordering::SeqCst));
    }
    let left = call("leave", vec![saved, out]);

    let output = std::fs::read(&out_path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .map_err(|e| format!("cannot read the driver's output: {e}"))?;
    let report = driver::parse(scenario, &output)?;
    let error = match (result, left) {
        (Err(e), _) => Some(e),
        (Ok(_), Err(e)) => Some(format!("restoring the interpreter: {e}")),
        (Ok(_), Ok(_)) => None,
    };
    Ok(Run {
        report,
        error,
        tree_root,
    })
}

/// The driver's setup: the nominal heap, then tracemalloc, last, so that only the
/// scenario's own allocations are traced.
fn setup(scenario: &Scenario) -> String {
    format!("gc.heap = {}\ntracemalloc.start()\n", scenario.heap)
}

/// Writes the scenario's tree under `root` (paths were checked when the scenario was
/// loaded: relative, no `..`).
fn write_tree(root: &Path, scenario: &Scenario) -> Result<(), String> {
    std::fs::create_dir_all(root).map_err(|e| format!("cannot create {}: {e}", root.display()))?;
    for (rel, content) in &scenario.tree {
        let path = root.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        std::fs::write(&path, content)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(())
}

/// Raises `KeyboardInterrupt` in the thread running the scenario, if it still runs.
fn interrupt(py: Python<'_>, job: &Job) {
    if !job.running.load(Ordering::SeqCst) {
        return;
    }
    let id = job.thread_id.load(Ordering::SeqCst);
    let exc = py.get_type::<PyKeyboardInterrupt>();
    // SAFETY: the GIL is held (we have `py`); `exc` is a live type object kept alive by
    // the bound reference for the duration of the call, which only stores a new
    // reference to it in the target thread's state.
    unsafe {
        pyo3::ffi::PyThreadState_SetAsyncExc(id as std::ffi::c_long, exc.as_ptr());
    }
}

/// Drops an interrupt that was raised but not yet delivered.
fn clear_interrupt(_py: Python<'_>, id: i64) {
    if id == 0 {
        return;
    }
    // SAFETY: the GIL is held; a null exception clears the pending one of that thread.
    unsafe {
        pyo3::ffi::PyThreadState_SetAsyncExc(id as std::ffi::c_long, std::ptr::null_mut());
    }
}

/// Runs one scenario: lock, fresh temp folder, a Python thread, a watchdog.
fn execute(scenario: &Scenario, timeout: Duration) -> Result<Execution, String> {
    let mut shared = lock();
    if let Some(why) = &shared.stuck {
        return Err(why.clone());
    }
    if shared.support.is_none() {
        shared.support = Some(Arc::new(run_on_python_thread(warm_up)?));
    }
    let support = shared.support.clone().ok_or("no support code")?;
    let dir = tempfile::Builder::new()
        .prefix("mpdiff-cpython-")
        .tempdir()
        .map_err(|e| format!("cannot create a temp folder: {e}"))?;

    let job = Arc::new(Job::default());
    let (tx, rx) = mpsc::channel();
    {
        let job = Arc::clone(&job);
        let scenario = scenario.clone();
        let path = dir.path().to_path_buf();
        thread::Builder::new()
            .name("mpdiff-cpython".into())
            .spawn(move || {
                let run = Python::attach(|py| run_in(py, &support, &scenario, &path, Some(&job)));
                job.done.store(true, Ordering::SeqCst);
                let _ = tx.send(run);
            })
            .map_err(|e| format!("cannot start a thread for python: {e}"))?;
    }

    let (run, timed_out) = match rx.recv_timeout(timeout) {
        Ok(run) => (run, false),
        Err(RecvTimeoutError::Disconnected) => return Err("the python thread panicked".into()),
        Err(RecvTimeoutError::Timeout) => {
            start_watchdog(Arc::clone(&job));
            match rx.recv_timeout(GRACE) {
                Ok(run) => (run, true),
                Err(_) => {
                    let why = format!(
                        "scenario {} timed out after {timeout:?} and could not be interrupted; \
                         the embedded interpreter is still busy with it",
                        scenario.name
                    );
                    shared.stuck = Some(why.clone());
                    // The temp folder stays: the stuck thread may still read it.
                    std::mem::forget(dir);
                    return Err(why);
                }
            }
        }
    };
    drop(shared);

    let run = run?;
    let mut failure = run.error;
    if timed_out {
        failure = Some(format!("timed out after {timeout:?}"));
    } else if failure.is_none() && !run.report.finished {
        failure = Some(match run.report.last_step {
            Some(step) => format!("the driver stopped during step {step}"),
            None => "the driver stopped before the first step".to_string(),
        });
    }
    let mut execution = Execution {
        target_info: String::new(),
        baseline_modules: run.report.baseline_modules,
        observations: run.report.observations,
        exceptions: run.report.exceptions,
        failure,
        transfer: None,
    };
    let context = Context {
        tree_root: Some(run.tree_root),
    };
    normalise::apply(normalise::CPYTHON, &context, &mut execution);
    Ok(execution)
}

/// Raises `KeyboardInterrupt` in the scenario's thread until it stops. Runs on a thread
/// of its own because taking the GIL may wait for as long as the scenario holds it.
fn start_watchdog(job: Arc<Job>) {
    let _ = thread::Builder::new()
        .name("mpdiff-cpython-watchdog".into())
        .spawn(move || {
            while !job.done.load(Ordering::SeqCst) {
                Python::attach(|py| interrupt(py, &job));
                thread::sleep(INTERRUPT_EVERY);
            }
        });
}
