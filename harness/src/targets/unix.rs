//! The `unix` and `unix32` targets: MicroPython 1.9.4's unix port built from source
//! ([`crate::reference`]), one subprocess per scenario.
//!
//! Each run gets a fresh folder ([`scratch_dir`]: `/dev/shm/mpdiff-XXXX/` or
//! `/tmp/mpdiff-XXXXXXXX/`, always 20 bytes long) holding `tree/` (the scenario's
//! files, the process's current folder, so `sys.path[0] = ''` imports from it and
//! modules get relative `__file__` paths) and, outside the tree, `driver.py` (the
//! observation protocol, [`crate::driver`]). The folder is removed whatever happens.

use std::collections::BTreeMap;
use std::path::{Component, Path};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::{Execution, RunOptions, Target, TargetError};
use crate::driver::{self, MICROPYTHON_PRELUDE, Report};
use crate::reference::process::{End, Finished, scratch_dir, signal_name};
use crate::reference::{Reference, prepare};
use crate::scenario::{Scenario, Step};

pub use crate::reference::Word;

/// Runs after the prelude: import from the current folder (the tree), by relative path.
const SETUP: &str = "sys.path[0] = ''\n";

/// Where the driver is written, relative to the tree folder (the process's current
/// folder). A relative path keeps `sys.argv[0]` the same on every run.
const DRIVER: &str = "../driver.py";

/// MicroPython 1.9.4's unix port, 64-bit (`unix`) or 32-bit (`unix32`).
#[derive(Debug)]
pub struct UnixTarget {
    word: Word,
    ready: Mutex<Option<Arc<Reference>>>,
}

impl UnixTarget {
    /// A target for one word size. Nothing is built until [`Target::prepare`] or the
    /// first [`Target::execute`].
    pub fn new(word: Word) -> Self {
        UnixTarget {
            word,
            ready: Mutex::new(None),
        }
    }

    /// The word size.
    pub fn word(&self) -> Word {
        self.word
    }

    /// The built, probed reference, building it on first use.
    pub fn reference(&self) -> Result<Arc<Reference>, TargetError> {
        // Held while building so threads sharing this target build once; other
        // processes are kept apart by the build's lock file.
        let mut ready = self.ready.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(found) = ready.as_ref() {
            return Ok(Arc::clone(found));
        }
        let reference = Arc::new(prepare(self.word).map_err(|e| TargetError::Unavailable {
            target: self.name(),
            message: e.to_string(),
        })?);
        *ready = Some(Arc::clone(&reference));
        Ok(reference)
    }

    fn version(&self) -> Option<String> {
        let ready = self.ready.lock().unwrap_or_else(|p| p.into_inner());
        ready.as_ref().map(|r| r.version.clone())
    }
}

impl Target for UnixTarget {
    fn name(&self) -> String {
        self.word.target_name().to_string()
    }

    fn prepare(&self) -> Result<(), TargetError> {
        self.reference().map(|_| ())
    }

    /// `MicroPython 1.9.4 unix port, x86 32-bit, heap 36864 bytes`; the version is the
    /// binary's own answer, so it is left out until the target is prepared.
    fn info(&self, heap: u64) -> String {
        let version = self.version().map(|v| format!(" {v}")).unwrap_or_default();
        format!(
            "MicroPython{version} unix port, x86 {}-bit, heap {heap} bytes",
            self.word.bits()
        )
    }

    fn execute(&self, scenario: &Scenario, options: &RunOptions) -> Execution {
        let reference = self.reference();
        let mut execution = Execution {
            target_info: self.info(scenario.heap),
            ..Execution::default()
        };
        match reference {
            Ok(reference) => {
                let timeout = scenario.timeout.unwrap_or(options.timeout);
                run(&reference, scenario, timeout, &mut execution);
            }
            Err(e) => execution.failure = Some(e.to_string()),
        }
        execution
    }

    fn is_reference(&self) -> bool {
        true
    }
}

/// Runs one scenario and fills `execution`; every problem ends up in `failure`.
fn run(reference: &Reference, scenario: &Scenario, timeout: Duration, execution: &mut Execution) {
    let dir = match scratch_dir() {
        Ok(dir) => dir,
        Err(e) => {
            execution.failure = Some(format!("failed to create a temporary folder: {e}"));
            return;
        }
    };
    let tree = dir.path().join("tree");
    if let Err(e) = write_tree(&tree, &scenario.tree) {
        execution.failure = Some(format!("failed to write the scenario tree: {e}"));
        return;
    }
    let script = driver::script(scenario, MICROPYTHON_PRELUDE, SETUP);
    let driver_path = dir.path().join("driver.py");
    if let Err(e) = std::fs::write(&driver_path, script) {
        execution.failure = Some(format!("failed to write {}: {e}", driver_path.display()));
        return;
    }
    let finished = match reference
        .launcher
        .run(scenario.heap, Path::new(DRIVER), &tree, timeout)
    {
        Ok(finished) => finished,
        Err(e) => {
            execution.failure = Some(format!(
                "failed to start {}: {e}",
                reference.launcher.binary.display()
            ));
            return;
        }
    };
    let report = match driver::parse(scenario, &finished.records) {
        Ok(report) => report,
        Err(e) => {
            let ended = failure(&scenario.steps, &finished, &Report::default(), timeout)
                .map(|f| format!("; {f}"))
                .unwrap_or_default();
            execution.failure = Some(format!("unreadable driver output: {e}{ended}"));
            return;
        }
    };
    execution.failure = failure(&scenario.steps, &finished, &report, timeout);
    execution.baseline_modules = report.baseline_modules;
    execution.observations = report.observations;
    execution.exceptions = report.exceptions;
    // `dir` drops here and removes the folder, on every path above too.
}

/// Writes the scenario's files under `root`, refusing any path that would leave it
/// (the loader checked them already; a target does not rely on that).
fn write_tree(root: &Path, files: &BTreeMap<String, String>) -> std::io::Result<()> {
    std::fs::create_dir_all(root)?;
    for (path, content) in files {
        let rel = Path::new(path);
        let safe = !path.is_empty()
            && !path.contains('\\')
            && !path.contains('\0')
            && rel.components().all(|c| matches!(c, Component::Normal(_)));
        if !safe {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("tree path {path:?} is not a plain relative path"),
            ));
        }
        let full = root.join(rel);
        if let Some(parent) = full.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&full, content)?;
    }
    Ok(())
}

/// Why the run did not reach its end, if it did not.
fn failure(
    steps: &[Step],
    finished: &Finished,
    report: &Report,
    timeout: Duration,
) -> Option<String> {
    let place = where_(steps, report);
    match finished.end {
        End::TimedOut => Some(format!("timed out after {} {place}", secs(timeout))),
        End::OutputExceeded(limit) => Some(format!("output exceeded {limit} bytes {place}")),
        End::Signal(sig) => Some(format!(
            "micropython crashed with {} {place}{}",
            signal_name(sig),
            stderr_note(&finished.stderr_tail)
        )),
        End::Exited(0) if report.finished => None,
        End::Exited(code) if report.finished => Some(format!(
            "micropython exited with code {code} after the driver's end{}",
            stderr_note(&finished.stderr_tail)
        )),
        End::Exited(code) => Some(format!(
            "micropython exited with code {code} before the driver's end, {place}{}",
            stderr_note(&finished.stderr_tail)
        )),
    }
}

/// `in step K (<first line of the step>)`, from the last step the driver reported.
fn where_(steps: &[Step], report: &Report) -> String {
    // Run steps announce themselves; observations are known from their records.
    let last_observed = report.observations.last().and_then(|o| {
        steps
            .iter()
            .position(|s| matches!(s, Step::Observe { label, .. } if *label == o.label))
    });
    let step = match (report.last_step, last_observed) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    };
    let Some(step) = step else {
        return if report.baseline_modules.is_empty() {
            "before the first step".into()
        } else {
            "before the first step (after the baseline)".into()
        };
    };
    let what = match steps.get(step) {
        Some(Step::Run { source, .. }) => source.lines().next().unwrap_or("").trim().to_string(),
        Some(Step::Observe { label, .. }) => format!("observe: {label}"),
        None => "?".into(),
    };
    format!("in step {step} ({what})")
}

fn stderr_note(tail: &str) -> String {
    let lines: Vec<&str> = tail.lines().filter(|l| !l.trim().is_empty()).collect();
    if lines.is_empty() {
        return String::new();
    }
    format!(
        "; stderr: {}",
        lines[lines.len().saturating_sub(6)..].join("\n")
    )
}

fn secs(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(list: &[(&str, &str)]) -> BTreeMap<String, String> {
        list.iter()
            .map(|(p, c)| (p.to_string(), c.to_string()))
            .collect()
    }

    fn run_step(src: &str) -> Step {
        Step::Run {
            source: src.into(),
            raises: None,
            line: 1,
        }
    }

    #[test]
    fn refuses_paths_leaving_the_tree() {
        let dir = tempfile::tempdir().unwrap();
        for bad in [
            "../x.py",
            "/etc/x.py",
            "a/../../x.py",
            "",
            "a\\b.py",
            "./x.py",
        ] {
            assert!(
                write_tree(&dir.path().join("t"), &files(&[(bad, "")])).is_err(),
                "{bad}"
            );
        }
        write_tree(&dir.path().join("t"), &files(&[("a/b/c.py", "x = 1\n")])).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join("t/a/b/c.py")).unwrap(),
            "x = 1\n"
        );
    }

    #[test]
    fn failure_names_the_step() {
        let steps = vec![run_step("import a\nx = 1"), run_step("while True:\n  pass")];
        let report = Report {
            last_step: Some(1),
            ..Report::default()
        };
        let finished = Finished {
            records: String::new(),
            stdout_bytes: 0,
            stderr_tail: String::new(),
            end: End::TimedOut,
        };
        assert_eq!(
            failure(&steps, &finished, &report, Duration::from_secs(2)).unwrap(),
            "timed out after 2s in step 1 (while True:)"
        );
        let crashed = Finished {
            end: End::Signal(11),
            stderr_tail: "boom\n".into(),
            ..finished.clone()
        };
        let text = failure(&steps, &crashed, &report, Duration::from_secs(2)).unwrap();
        assert!(
            text.contains("SIGSEGV") && text.contains("step 1") && text.contains("boom"),
            "{text}"
        );
        let ended = Report {
            finished: true,
            ..report.clone()
        };
        let exited = Finished {
            end: End::Exited(0),
            ..finished.clone()
        };
        assert_eq!(
            failure(&steps, &exited, &ended, Duration::from_secs(2)),
            None
        );
        let err = Finished {
            end: End::Exited(1),
            stderr_tail: "MemoryError: memory allocation failed\n".into(),
            ..finished
        };
        let text = failure(&steps, &err, &report, Duration::from_millis(1500)).unwrap();
        assert!(
            text.contains("code 1") && text.contains("MemoryError"),
            "{text}"
        );
        assert!(
            failure(&steps, &err, &Report::default(), Duration::ZERO)
                .unwrap()
                .contains("before the first step")
        );
    }
}
