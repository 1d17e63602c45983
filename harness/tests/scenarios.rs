//! One test per scenario file under `scenarios/`, named after the scenario, so
//! `cargo test seed/from-import` and `cargo nextest run --partition hash:1/2` select
//! scenarios. Each test:
//!
//! 1. runs the scenario live on every reference that can run here (unix32, unix) and
//!    checks the live outcome equals its golden snapshot, so a golden file can never
//!    drift from what MicroPython 1.9.4 really does; a reference that cannot be built
//!    here is skipped with a printed reason;
//! 2. runs it on the Rust firmware and checks it agrees with the golden unix32 outcome
//!    (SCENARIOS.md, "Comparing two targets"; declared divergences allowed);
//! 3. checks every outcome's status is `ok` (the `expect` block held), on CPython only
//!    for scenarios that claim it (`cpython_expect`);
//! 4. with the `board` feature, runs it on the firmware served on a pseudo-terminal
//!    through the board target and checks it agrees with the in-process firmware.
//!
//! With `MPDIFF_BOARD=PORT` (a board running MicroPython 1.9.4, e.g. an ESP8266), each
//! scenario also has a `hardware/<scenario>` test: the board's outcome must equal its
//! golden snapshot (`<scenario>@esp8266.snap`, or `MPDIFF_BOARD_LABEL`), hold its
//! expectations and agree with the golden unix32 outcome. Without the variable these
//! tests are ignored; nextest runs them only in the `ci-hardware` profile, one at a time.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use libtest_mimic::{Arguments, Failed, Trial};

use mpdiff::compare::compare;
use mpdiff::expect;
use mpdiff::golden::{self, Check};
use mpdiff::outcome::{Outcome, Status};
use mpdiff::reference::{self, ReferenceError, Word};
use mpdiff::report;
use mpdiff::scenario::{Found, Scenario, discover, load_file};
use mpdiff::targets::select::{self, SelectOptions};
use mpdiff::targets::unix::UnixTarget;
use mpdiff::targets::{RunOptions, Target};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the harness lives in the workspace")
        .to_path_buf()
}

fn main() {
    let args = Arguments::from_args();
    let trials = match discover(&[root().join("scenarios")]) {
        Ok(found) => {
            let mut trials: Vec<Trial> = found.iter().cloned().map(trial).collect();
            trials.extend(found.into_iter().map(hardware::trial));
            trials
        }
        Err(e) => vec![Trial::test("scenarios", move || {
            Err(Failed::from(e.to_string()))
        })],
    };
    libtest_mimic::run(&args, trials).exit();
}

fn trial(found: Found) -> Trial {
    let name = found.name.clone();
    Trial::test(name, move || check(&found))
}

/// A reference that is ready, or why it cannot run here.
enum Ready {
    /// Built and probed.
    Target(Arc<UnixTarget>),
    /// This machine cannot build it (no compiler, no gcc-multilib): skipped, said why.
    Skip,
    /// It should build here and did not: every test fails with this.
    Broken(String),
}

/// Each reference is built (or found built) once per test process.
fn reference_target(word: Word) -> &'static Ready {
    static W32: OnceLock<Ready> = OnceLock::new();
    static W64: OnceLock<Ready> = OnceLock::new();
    let cell = match word {
        Word::W32 => &W32,
        Word::W64 => &W64,
    };
    cell.get_or_init(|| {
        let name = word.target_name();
        match reference::prepare(word) {
            Ok(_) => {}
            Err(e @ (ReferenceError::NoMultilib { .. } | ReferenceError::MissingTool { .. })) => {
                eprintln!("note: {name} cannot run here, its live checks are skipped: {e}");
                return Ready::Skip;
            }
            Err(e) => return Ready::Broken(format!("building {name} failed: {e}")),
        }
        let t = Arc::new(UnixTarget::new(word));
        match t.prepare() {
            Ok(()) => Ready::Target(t),
            Err(e) => Ready::Broken(e.to_string()),
        }
    })
}

fn rust_target() -> &'static Result<Box<dyn Target>, String> {
    static RUST: OnceLock<Result<Box<dyn Target>, String>> = OnceLock::new();
    RUST.get_or_init(|| {
        let t = select::by_name("rust", &SelectOptions::default()).map_err(|e| e.to_string())?;
        t.prepare().map_err(|e| e.to_string())?;
        Ok(t)
    })
}

fn run_on(target: &dyn Target, scenario: &Scenario) -> Outcome {
    let options = RunOptions {
        timeout: scenario.timeout.unwrap_or(RunOptions::default().timeout),
    };
    let execution = target.execute(scenario, &options);
    expect::finish(scenario, &target.name(), execution)
}

fn status_problem(outcome: &Outcome) -> Option<String> {
    if outcome.status == Status::Ok {
        return None;
    }
    let mut text = format!(
        "{} on {}: status {:?}\n",
        outcome.scenario, outcome.target, outcome.status
    );
    let mut details = Vec::new();
    let _ = report::outcome_details(&mut details, outcome);
    text.push_str(&String::from_utf8_lossy(&details));
    Some(text)
}

fn check(found: &Found) -> Result<(), Failed> {
    let scenario = load_file(&found.file, &found.name).map_err(|e| Failed::from(e.to_string()))?;
    let golden_dir = root().join("golden");
    let mut problems: Vec<String> = Vec::new();

    // 1. Live references against their golden files, and 3. their status.
    for word in [Word::W32, Word::W64] {
        let target = match reference_target(word) {
            Ready::Target(t) => t,
            Ready::Skip => continue,
            Ready::Broken(why) => {
                problems.push(format!("{}: {why}", word.target_name()));
                continue;
            }
        };
        let live = run_on(target.as_ref(), &scenario);
        problems.extend(status_problem(&live));
        match golden::check(&golden_dir, &scenario, &live) {
            Ok(Check::Same) => {}
            Ok(Check::Differs {
                path,
                diff,
                pending,
            }) => {
                let mut text = format!(
                    "{}: the live {} outcome differs from the golden file\n{diff}",
                    path.display(),
                    live.target
                );
                match pending {
                    Some(p) => text.push_str(&format!(
                        "the live outcome is in {}; if the change is intended, re-record with \
                         `cargo run -p mpdiff -- record --target {} {}`\n",
                        p.display(),
                        live.target,
                        scenario.file.display()
                    )),
                    None => text.push_str("(nothing written: CI)\n"),
                }
                problems.push(text);
            }
            Err(e) => problems.push(e.to_string()),
        }
    }

    // 2. The firmware against the golden unix32 outcome, and 3. its status.
    let rust = match rust_target() {
        Ok(t) => {
            let outcome = run_on(t.as_ref(), &scenario);
            problems.extend(status_problem(&outcome));
            match golden::load(&golden_dir, &scenario, "unix32") {
                Ok(reference) => {
                    let c = compare(&scenario, &reference, &outcome);
                    if !c.agree {
                        let mut text = Vec::new();
                        let _ = report::comparison_details(&mut text, &c);
                        problems.push(format!(
                            "rust disagrees with the golden unix32 outcome\n{}",
                            String::from_utf8_lossy(&text)
                        ));
                    }
                }
                Err(e) => problems.push(e.to_string()),
            }
            Some(outcome)
        }
        Err(why) => {
            problems.push(format!("the rust target cannot run: {why}"));
            None
        }
    };

    // 3. CPython, where the scenario claims its expectations hold there too.
    #[cfg(feature = "cpython")]
    if scenario.cpython_expect {
        match select::by_name("cpython", &SelectOptions::default()) {
            Ok(t) => match t.prepare() {
                Ok(()) => problems.extend(status_problem(&run_on(t.as_ref(), &scenario))),
                Err(e) => problems.push(format!("cpython cannot run: {e}")),
            },
            Err(e) => problems.push(format!("cpython cannot run: {e}")),
        }
    }

    // 4. The firmware behind a serial line (a pseudo-terminal) agrees with it in-process.
    board::check(&scenario, rust.as_ref(), &mut problems);

    if problems.is_empty() {
        Ok(())
    } else {
        Err(Failed::from(problems.join("\n")))
    }
}

#[cfg(feature = "board")]
mod board {
    use super::*;
    use mpdiff::targets::board::{BoardTarget, spawn_pty_board};

    /// Serves the firmware on a new pseudo-terminal, runs the scenario through the board
    /// target (raw REPL, files uploaded over the line) and compares it with the
    /// in-process run.
    pub fn check(scenario: &Scenario, rust: Option<&Outcome>, problems: &mut Vec<String>) {
        let Some(rust) = rust else { return };
        let pty = match spawn_pty_board(scenario.heap) {
            Ok(pty) => pty,
            Err(e) => {
                problems.push(format!(
                    "could not serve the firmware on a pseudo-terminal: {e}"
                ));
                return;
            }
        };
        let target = BoardTarget::open(&pty.path, 115_200);
        let outcome = match target.prepare() {
            Ok(()) => run_on(&target, scenario),
            Err(e) => {
                problems.push(format!("the pseudo-terminal board did not answer: {e}"));
                return;
            }
        };
        drop(target);
        if let Err(e) = pty.stop() {
            problems.push(format!(
                "the pseudo-terminal board stopped with an error: {e}"
            ));
        }
        if rust.status == Status::Error {
            return;
        }
        let c = compare(scenario, rust, &outcome);
        if !c.agree {
            let mut text = Vec::new();
            let _ = report::comparison_details(&mut text, &c);
            problems.push(format!(
                "the firmware behind a serial line disagrees with it in-process\n{}",
                String::from_utf8_lossy(&text)
            ));
        }
    }
}

#[cfg(not(feature = "board"))]
mod board {
    use super::*;

    /// Without the `board` feature there is no board target to run through.
    pub fn check(_scenario: &Scenario, _rust: Option<&Outcome>, _problems: &mut Vec<String>) {}
}

/// Tests on a physical board named by `MPDIFF_BOARD`.
mod hardware {
    use super::*;

    /// The board's port, when one is given.
    fn port() -> Option<String> {
        std::env::var("MPDIFF_BOARD").ok().filter(|p| !p.is_empty())
    }

    /// The name the board's golden files and divergences use.
    #[cfg(feature = "board")]
    fn label() -> String {
        std::env::var("MPDIFF_BOARD_LABEL").unwrap_or_else(|_| "esp8266".to_string())
    }

    /// `hardware/<scenario>`, ignored without a board.
    pub fn trial(found: Found) -> Trial {
        let name = format!("hardware/{}", found.name);
        let ignored = port().is_none() || !cfg!(feature = "board");
        Trial::test(name, move || check(&found)).with_ignored_flag(ignored)
    }

    #[cfg(feature = "board")]
    fn check(found: &Found) -> Result<(), Failed> {
        use mpdiff::targets::board::BoardTarget;
        use std::sync::Mutex;

        let port = port().ok_or("MPDIFF_BOARD is not set")?;
        // One board: tests in this process take turns (nextest's group does the same
        // across processes).
        static BOARD: OnceLock<Mutex<BoardTarget>> = OnceLock::new();
        let board = BOARD.get_or_init(|| Mutex::new(BoardTarget::open(&port, 115_200)));
        let board = board.lock().unwrap_or_else(|e| e.into_inner());

        let scenario =
            load_file(&found.file, &found.name).map_err(|e| Failed::from(e.to_string()))?;
        board
            .prepare()
            .map_err(|e| Failed::from(format!("the board did not answer: {e}")))?;
        let mut live = run_on(&*board, &scenario);
        live.target = label();

        let golden_dir = root().join("golden");
        let mut problems: Vec<String> = Vec::new();
        problems.extend(status_problem(&live));
        match golden::check(&golden_dir, &scenario, &live) {
            Ok(Check::Same) => {}
            Ok(Check::Differs { path, diff, .. }) => problems.push(format!(
                "{}: the board's outcome differs from the golden file\n{diff}",
                path.display()
            )),
            Err(golden::GoldenError::Missing { path, .. }) => problems.push(format!(
                "{}: no golden snapshot; record it with `cargo run -p mpdiff -- record \
                 --target board:{port} --label {} {}`",
                path.display(),
                label(),
                scenario.file.display()
            )),
            Err(e) => problems.push(e.to_string()),
        }
        match golden::load(&golden_dir, &scenario, "unix32") {
            Ok(reference) => {
                let c = compare(&scenario, &reference, &live);
                if !c.agree {
                    let mut text = Vec::new();
                    let _ = report::comparison_details(&mut text, &c);
                    problems.push(format!(
                        "the board disagrees with the golden unix32 outcome\n{}",
                        String::from_utf8_lossy(&text)
                    ));
                }
            }
            Err(e) => problems.push(e.to_string()),
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Failed::from(problems.join("\n")))
        }
    }

    #[cfg(not(feature = "board"))]
    fn check(_found: &Found) -> Result<(), Failed> {
        Err("mpdiff was built without the `board` feature".into())
    }
}
