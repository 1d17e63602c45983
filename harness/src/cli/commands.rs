//! What each subcommand does. Printing goes through `mpdiff::report`; this module loads
//! scenarios, picks targets, runs them and decides the exit code.

use std::collections::BTreeSet;
use std::io::{self, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::Parser;
use rayon::prelude::*;

use mpdiff::compare::{Comparison, compare};
use mpdiff::fidelity::Fidelity;
use mpdiff::golden;
use mpdiff::outcome::{Outcome, Status};
use mpdiff::report::{self, Format, Matrix, MatrixRow, Progress, TargetLine};
use mpdiff::runner::{self, Event, RunReport, RunResult, RunnerOptions};
use mpdiff::scenario::{DEFAULT_HEAP, Scenario, discover, load_file};
use mpdiff::targets::Target;
use mpdiff::targets::select::{self, SelectError, SelectOptions};

use super::args::{
    Cli, Command, DiffArgs, FidelityArgs, FormatArg, PathsArg, RecordArgs, RunArgs, RunTuning,
    TargetsArgs,
};

/// The exit codes, ordered so that the highest applicable one wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Exit {
    /// Everything held.
    Ok = 0,
    /// An expectation failed or targets disagree.
    Failed = 1,
    /// Bad usage or a bad scenario file.
    Usage = 2,
    /// A target could not run.
    Unavailable = 3,
}

impl Exit {
    fn raise(&mut self, other: Exit) {
        *self = (*self).max(other);
    }
}

/// Parses the command line and runs the command.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Run(args) => run(&args),
        Command::Diff(args) => diff(&args),
        Command::Record(args) => record(&args),
        Command::Targets(args) => targets(&args),
        Command::Check(args) => check(&args),
        Command::Fidelity(args) => fidelity(&args),
        Command::Boards => boards(),
    };
    ExitCode::from(code)
}

/// Writes to stderr; a closed stderr is no reason to stop.
fn err(f: impl FnOnce(&mut dyn Write) -> io::Result<()>) {
    let _ = f(&mut io::stderr().lock());
}

/// Writes to stdout; a closed pipe (`| head`) is no reason to panic.
fn out(f: impl FnOnce(&mut dyn Write) -> io::Result<()>) {
    let _ = f(&mut io::stdout().lock());
}

/// Finds and loads scenarios. Bad files are reported and raise the exit code; the good
/// ones are returned so they still run.
fn load(paths: &PathsArg, exit: &mut Exit) -> Vec<Arc<Scenario>> {
    let found = match discover(&paths.paths) {
        Ok(found) => found,
        Err(e) => {
            err(|w| report::scenario_error(w, &e));
            exit.raise(Exit::Usage);
            return Vec::new();
        }
    };
    let mut names = BTreeSet::new();
    let mut wanted = Vec::new();
    for f in found {
        let name = contract_name(&f.file).unwrap_or(f.name);
        if names.insert(name.clone()) {
            wanted.push((f.file, name));
        }
    }
    // Parsing the YAML is most of the harness's own work: spread it over the CPUs, then
    // report in the order the files were found.
    let loaded: Vec<_> = wanted
        .par_iter()
        .map(|(file, name)| load_file(file, name))
        .collect();
    let mut scenarios = Vec::new();
    for result in loaded {
        match result {
            Ok(s) => scenarios.push(Arc::new(s)),
            Err(e) => {
                err(|w| report::scenario_error(w, &e));
                exit.raise(Exit::Usage);
            }
        }
    }
    scenarios
}

/// The name SCENARIOS.md gives a file: its path under the nearest folder called
/// `scenarios`, without `.yaml`, whichever sub-folder was named on the command line, so
/// `mpdiff run scenarios/seed` reports (and finds golden files for) `seed/...`.
fn contract_name(file: &Path) -> Option<String> {
    let abs = std::path::absolute(file).ok()?;
    let dir = abs
        .ancestors()
        .skip(1)
        .find(|d| d.file_name().is_some_and(|n| n == "scenarios"))?;
    let rel = abs.strip_prefix(dir).ok()?;
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let joined = parts.join("/");
    Some(joined.strip_suffix(".yaml").unwrap_or(&joined).to_string())
}

fn select_options(baud: u32) -> SelectOptions {
    SelectOptions { baud }
}

/// Targets named on the command line, each once.
fn explicit_targets(names: &[String], baud: u32, exit: &mut Exit) -> Vec<Arc<dyn Target>> {
    let mut seen = BTreeSet::new();
    let mut targets: Vec<Arc<dyn Target>> = Vec::new();
    for name in names {
        if !seen.insert(name.clone()) {
            continue;
        }
        match select::by_name(name, &select_options(baud)) {
            Ok(t) => targets.push(Arc::from(t)),
            Err(e) => {
                err(|w| report::note(w, &format!("error: {e}")));
                exit.raise(match e {
                    SelectError::Open { .. } => Exit::Unavailable,
                    _ => Exit::Usage,
                });
            }
        }
    }
    targets
}

/// The default targets that can run here; the others are named on stderr and left out.
fn default_targets(baud: u32, progress: &Progress) -> Vec<Arc<dyn Target>> {
    let mut candidates: Vec<Arc<dyn Target>> = Vec::new();
    for name in select::default_names() {
        match select::by_name(name, &select_options(baud)) {
            Ok(t) => candidates.push(Arc::from(t)),
            Err(e) => err(|w| report::note(w, &format!("skipping {name}: {e}"))),
        }
    }
    let problems = runner::prepare_all(&candidates, &|e| progress.on_event(&e));
    candidates
        .into_iter()
        .zip(problems)
        .filter_map(|(t, problem)| match problem {
            None => Some(t),
            Some(e) => {
                progress.print(|| err(|w| report::note(w, &format!("skipping {}: {e}", t.name()))));
                None
            }
        })
        .collect()
}

fn runner_options(tuning: &RunTuning, exit: &mut Exit) -> RunnerOptions {
    let mut options = RunnerOptions {
        jobs: tuning.jobs.unwrap_or(0),
        ..RunnerOptions::default()
    };
    if let Some(secs) = tuning.timeout {
        if secs.is_finite() && secs > 0.0 {
            options.timeout = Duration::from_secs_f64(secs);
        } else {
            err(|w| {
                report::note(
                    w,
                    &format!("error: --timeout must be a positive number of seconds, not {secs}"),
                )
            });
            exit.raise(Exit::Usage);
        }
    }
    options
}

/// Raises the exit code for the statuses of a run.
fn statuses(report: &RunReport, exit: &mut Exit) {
    for r in &report.results {
        match r.outcome.status {
            Status::Ok => {}
            Status::Failed => exit.raise(Exit::Failed),
            Status::Error => exit.raise(Exit::Unavailable),
        }
    }
}

/// The result of `scenario` in `lane`, if it ran there.
fn cell<'a>(report: &'a RunReport, scenario: usize, lane: &str) -> Option<&'a RunResult> {
    report
        .results
        .iter()
        .find(|r| r.scenario_index == scenario && r.lane == lane)
}

/// Whether a lane's disagreement with the reference fails the run. CPython is an
/// information column, and the references are not judged against each other.
fn judged(lane: &str) -> bool {
    lane != "cpython" && !select::REFERENCES.contains(&lane)
}

fn run(args: &RunArgs) -> u8 {
    let mut exit = Exit::Ok;
    let format = match args.format {
        FormatArg::Human => Format::Human,
        FormatArg::Json => Format::Json,
    };
    let options = runner_options(&args.tuning, &mut exit);
    let scenarios = load(&args.paths, &mut exit);
    let progress = Progress::new(format == Format::Human);
    let targets = if args.targets.is_empty() {
        default_targets(args.tuning.baud, &progress)
    } else {
        explicit_targets(&args.targets, args.tuning.baud, &mut exit)
    };
    if targets.is_empty() {
        progress.finish();
        // Named targets that could not be selected were reported with their own code.
        if args.targets.is_empty() {
            err(|w| report::note(w, "error: none of the default targets can run here"));
            exit.raise(Exit::Unavailable);
        }
        return exit as u8;
    }
    if scenarios.is_empty() {
        progress.finish();
        return exit as u8;
    }

    let stdout = Mutex::new(());
    let on_event = |e: Event<'_>| {
        progress.on_event(&e);
        match e {
            // Said once here rather than once per scenario.
            Event::Prepared {
                error: Some(why), ..
            } => progress.print(|| err(|w| report::note(w, &format!("error: {why}")))),
            Event::Finished { result, .. } => {
                let _guard = stdout.lock();
                match format {
                    Format::Json => out(|w| report::json_line(w, result)),
                    Format::Human if result.ran => {
                        progress.print(|| out(|w| report::outcome_problem(w, result)))
                    }
                    Format::Human => {}
                }
            }
            _ => {}
        }
    };
    let report = runner::run(&scenarios, &targets, &options, &on_event);
    progress.finish();
    statuses(&report, &mut exit);

    // The reference is the first of unix32, unix that ran; when none ran (no
    // gcc-multilib here, or not asked for), the golden unix32 snapshots stand in.
    let live = select::REFERENCES
        .iter()
        .find(|r| report.lanes.iter().any(|l| l == *r))
        .map(|r| r.to_string());
    let golden_reference = select::REFERENCES[0];
    let goldens: Vec<Option<Outcome>> = scenarios
        .iter()
        .map(|s| {
            if live.is_some() {
                return None;
            }
            golden::load(&golden::default_dir(s), s, golden_reference).ok()
        })
        .collect();
    let reference = match &live {
        Some(r) => Some(r.clone()),
        None if goldens.iter().any(Option::is_some) => {
            Some(format!("{golden_reference} (golden snapshots)"))
        }
        None => None,
    };
    let comparisons: Vec<Vec<Option<Comparison>>> = scenarios
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let base = match &live {
                Some(lane) => cell(&report, i, lane).map(|r| &r.outcome),
                None => goldens[i].as_ref(),
            };
            agreement_row(s, i, &report, base, live.as_deref())
        })
        .collect();
    for (row, _) in comparisons.iter().zip(&scenarios) {
        for (lane, c) in report.lanes.iter().zip(row) {
            if let Some(c) = c
                && !c.agree
                && judged(lane)
            {
                exit.raise(Exit::Failed);
            }
        }
    }

    if format == Format::Human {
        let rows = scenarios
            .iter()
            .enumerate()
            .map(|(i, s)| MatrixRow {
                scenario: &s.name,
                cells: report.lanes.iter().map(|l| cell(&report, i, l)).collect(),
                agreement: comparisons[i].iter().map(Option::as_ref).collect(),
            })
            .collect();
        let matrix = Matrix {
            lanes: report.lanes.clone(),
            reference,
            rows,
        };
        out(|w| {
            writeln!(w)?;
            report::matrix(w, &matrix)
        });
    }
    exit as u8
}

/// Each lane's comparison with the reference outcome `base` for one scenario (none for
/// the reference lane itself, or when the reference could not run it).
fn agreement_row(
    scenario: &Scenario,
    index: usize,
    report: &RunReport,
    base: Option<&Outcome>,
    reference_lane: Option<&str>,
) -> Vec<Option<Comparison>> {
    let base = base.filter(|o| o.status != Status::Error);
    report
        .lanes
        .iter()
        .map(|lane| {
            let base = base?;
            if Some(lane.as_str()) == reference_lane {
                return None;
            }
            let other = cell(report, index, lane)?;
            Some(compare(scenario, base, &other.outcome))
        })
        .collect()
}

/// Two targets run side by side, for `diff` and `fidelity`.
struct Pair {
    /// The run.
    report: RunReport,
    /// The reference's outcome per scenario: live, or its golden snapshot when the
    /// reference cannot run here.
    reference: Vec<Option<Outcome>>,
    /// The other target's lane.
    other: String,
}

/// Runs two named targets quietly (progress bar only). When the reference cannot run
/// here but has golden snapshots, they stand in for it.
fn run_pair(
    names: [&str; 2],
    tuning: &RunTuning,
    scenarios: &[Arc<Scenario>],
    exit: &mut Exit,
) -> Option<Pair> {
    if names[0] == names[1] {
        err(|w| report::note(w, "error: compare two different targets"));
        exit.raise(Exit::Usage);
        return None;
    }
    // Two boards compared with each other each run every scenario.
    let options = RunnerOptions {
        pool_boards: false,
        ..runner_options(tuning, exit)
    };
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let targets = explicit_targets(&names, tuning.baud, exit);
    if targets.len() != 2 || scenarios.is_empty() {
        return None;
    }
    let progress = Progress::new(true);
    let report = runner::run(scenarios, &targets, &options, &|e| progress.on_event(&e));
    progress.finish();
    let [a, b] = [0, 1].map(|i| report.lanes.get(i).cloned().unwrap_or_default());
    let a_ran = !report.unavailable.iter().any(|(n, _)| *n == a);
    let reference: Vec<Option<Outcome>> = scenarios
        .iter()
        .enumerate()
        .map(|(i, s)| {
            if a_ran {
                cell(&report, i, &a).map(|r| r.outcome.clone())
            } else {
                golden::load(&golden::default_dir(s), s, &a).ok()
            }
        })
        .collect();
    let golden_stands_in = !a_ran && reference.iter().any(Option::is_some);
    for (name, why) in &report.unavailable {
        if *name == a && golden_stands_in {
            err(|w| {
                report::note(
                    w,
                    &format!(
                        "note: {name} cannot run here ({why}); comparing with its golden snapshots"
                    ),
                )
            });
        } else {
            err(|w| report::note(w, &format!("error: {name} cannot run here: {why}")));
            exit.raise(Exit::Unavailable);
        }
    }
    Some(Pair {
        report,
        reference,
        other: b,
    })
}

fn diff(args: &DiffArgs) -> u8 {
    let mut exit = Exit::Ok;
    let scenarios = load(&args.paths, &mut exit);
    let names = [args.reference.as_str(), args.other.as_str()];
    let Some(pair) = run_pair(names, &args.tuning, &scenarios, &mut exit) else {
        return exit as u8;
    };
    let mut comparisons = Vec::new();
    for (i, s) in scenarios.iter().enumerate() {
        let (Some(base), Some(rb)) = (&pair.reference[i], cell(&pair.report, i, &pair.other))
        else {
            continue;
        };
        if rb.outcome.status == Status::Error && rb.ran {
            out(|w| report::outcome_problem(w, rb));
        }
        if base.status == Status::Error || rb.outcome.status == Status::Error {
            exit.raise(Exit::Unavailable);
        }
        if base.status == Status::Error {
            out(|w| {
                report::note(
                    w,
                    &format!(
                        "ERROR  {} on {}: {}",
                        s.name,
                        base.target,
                        base.detail.as_deref().unwrap_or("")
                    ),
                )
            });
            continue;
        }
        let c = compare(s, base, &rb.outcome);
        if !c.agree {
            exit.raise(Exit::Failed);
        }
        comparisons.push(c);
    }
    out(|w| report::diff(w, &comparisons, args.all));
    exit as u8
}

fn fidelity(args: &FidelityArgs) -> u8 {
    let mut exit = Exit::Ok;
    let scenarios = load(&args.paths, &mut exit);
    let names = [args.against.as_str(), args.target.as_str()];
    let Some(pair) = run_pair(names, &args.tuning, &scenarios, &mut exit) else {
        return exit as u8;
    };
    let mut f = Fidelity::default();
    for (i, s) in scenarios.iter().enumerate() {
        if let (Some(base), Some(rb)) = (&pair.reference[i], cell(&pair.report, i, &pair.other)) {
            f.add(s, base, &rb.outcome);
        }
    }
    out(|w| report::fidelity(w, &pair.other, &args.against, &f));
    exit as u8
}

fn record(args: &RecordArgs) -> u8 {
    let mut exit = Exit::Ok;
    if let Some(why) = golden::writing_refused() {
        err(|w| {
            report::note(
                w,
                &format!("error: refusing to write golden snapshots: {why}"),
            )
        });
        return Exit::Usage as u8;
    }
    let options = runner_options(&args.tuning, &mut exit);
    let scenarios = load(&args.paths, &mut exit);
    let targets = explicit_targets(
        std::slice::from_ref(&args.target),
        args.tuning.baud,
        &mut exit,
    );
    let Some(target) = targets.first() else {
        return exit as u8;
    };
    if !target.is_reference() {
        err(|w| {
            report::note(
                w,
                &format!(
                    "error: {} is not a reference target; golden snapshots are recorded only from real MicroPython (unix32, unix, or a board running it)",
                    target.name()
                ),
            )
        });
        exit.raise(Exit::Usage);
        return exit as u8;
    }
    if scenarios.is_empty() {
        return exit as u8;
    }
    let progress = Progress::new(true);
    let report = runner::run(&scenarios, &targets, &options, &|e| progress.on_event(&e));
    progress.finish();
    for r in &report.results {
        let scenario = &scenarios[r.scenario_index];
        match r.outcome.status {
            Status::Error => {
                exit.raise(Exit::Unavailable);
                out(|w| report::outcome_problem(w, r));
                continue;
            }
            Status::Failed => {
                exit.raise(Exit::Failed);
                out(|w| report::outcome_problem(w, r));
            }
            Status::Ok => {}
        }
        let dir = args
            .golden
            .clone()
            .unwrap_or_else(|| golden::default_dir(scenario));
        // A board is recorded under a stable label (`esp8266`), not under its port.
        let mut outcome = r.outcome.clone();
        if let Some(label) = &args.label {
            outcome.target = label.clone();
        }
        let path = golden::path(&dir, &scenario.name, &outcome.target);
        let unchanged = golden::read(&path).is_ok_and(|g| g == golden::normalise(&outcome));
        if unchanged {
            out(|w| report::note(w, &format!("unchanged {}", path.display())));
            continue;
        }
        match golden::record(&dir, scenario, &outcome) {
            Ok(path) => out(|w| report::note(w, &format!("wrote     {}", path.display()))),
            Err(e) => {
                err(|w| report::note(w, &format!("error: {e}")));
                exit.raise(Exit::Unavailable);
            }
        }
    }
    exit as u8
}

fn targets(args: &TargetsArgs) -> u8 {
    let mut exit = Exit::Ok;
    let mut names: Vec<String> = select::valid_names()
        .into_iter()
        .filter(|n| !n.contains(':'))
        .map(str::to_string)
        .collect();
    for t in &args.targets {
        if !names.contains(t) {
            names.push(t.clone());
        }
    }
    let progress = Progress::new(true);
    let mut lines = Vec::new();
    let mut ready: Vec<Arc<dyn Target>> = Vec::new();
    for name in &names {
        match select::by_name(name, &select_options(args.baud)) {
            Ok(t) => ready.push(Arc::from(t)),
            Err(e) => {
                if args.targets.contains(name) {
                    exit.raise(Exit::Unavailable);
                }
                lines.push(TargetLine {
                    name: name.clone(),
                    problem: Some(e.to_string()),
                    info: String::new(),
                    reference: false,
                })
            }
        }
    }
    let problems = runner::prepare_all(&ready, &|e| progress.on_event(&e));
    progress.finish();
    for (t, problem) in ready.iter().zip(problems) {
        if problem.is_some() && args.targets.contains(&t.name()) {
            exit.raise(Exit::Unavailable);
        }
        lines.push(TargetLine {
            name: t.name(),
            info: if problem.is_none() {
                t.info(DEFAULT_HEAP)
            } else {
                String::new()
            },
            problem: problem.map(|e| e.to_string()),
            reference: t.is_reference(),
        });
    }
    lines.sort_by_key(|l| names.iter().position(|n| *n == l.name));
    out(|w| report::targets(w, &lines));
    exit as u8
}

fn check(args: &PathsArg) -> u8 {
    let mut exit = Exit::Ok;
    let found = match discover(&args.paths) {
        Ok(found) => found,
        Err(e) => {
            err(|w| report::scenario_error(w, &e));
            return Exit::Usage as u8;
        }
    };
    let mut good = Vec::new();
    let mut bad = 0;
    for f in found {
        let name = contract_name(&f.file).unwrap_or(f.name);
        match load_file(&f.file, &name) {
            Ok(s) => good.push(s.name),
            Err(e) => {
                bad += 1;
                err(|w| report::scenario_error(w, &e));
                exit.raise(Exit::Usage);
            }
        }
    }
    out(|w| report::check(w, &good, bad));
    exit as u8
}

#[cfg(feature = "board")]
fn boards() -> u8 {
    match mpdiff::targets::board::list_ports() {
        Ok(ports) => {
            let ports: Vec<(String, String)> = ports
                .into_iter()
                .map(|p| {
                    let mut about = p.about;
                    if p.likely_esp8266 {
                        about.push_str(" (likely an ESP8266 board)");
                    }
                    (p.name, about)
                })
                .collect();
            out(|w| report::ports(w, &ports));
            Exit::Ok as u8
        }
        Err(e) => {
            err(|w| report::note(w, &format!("error: {e}")));
            Exit::Unavailable as u8
        }
    }
}

#[cfg(not(feature = "board"))]
fn boards() -> u8 {
    err(|w| report::note(w, "error: mpdiff was built without the `board` feature"));
    Exit::Usage as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_highest_exit_code_wins() {
        let mut e = Exit::Ok;
        e.raise(Exit::Unavailable);
        e.raise(Exit::Failed);
        assert_eq!(e, Exit::Unavailable);
    }

    #[test]
    fn names_follow_the_scenarios_folder() {
        let name = contract_name(Path::new("/w/scenarios/seed/a.yaml"));
        assert_eq!(name.as_deref(), Some("seed/a"));
        assert_eq!(contract_name(Path::new("/w/elsewhere/a.yaml")), None);
    }
}
