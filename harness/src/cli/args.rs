//! The command line, as clap types.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const EXAMPLES: &str = "\
Examples:
  mpdiff run scenarios/                      every scenario on every available target, as a matrix
  mpdiff run -t rust -t unix32 scenarios/seed/from-import-del-keeps-ram.yaml
  mpdiff run --format json scenarios/ | jq .status
  mpdiff diff unix32 rust scenarios/         what differs between two targets, field by field
  mpdiff record --target unix32 scenarios/   re-record golden snapshots from real MicroPython
  mpdiff fidelity --against unix32 scenarios/
  mpdiff targets                             which targets can run here, and their versions
  mpdiff check scenarios/                    validate scenario files only

Exit codes:
  0  everything held
  1  an expectation failed, or a target disagrees with the reference
  2  bad usage or a bad scenario file (the other scenarios still run)
  3  a target could not run (unavailable, crashed, timed out)
  When several apply, the highest wins.";

/// Runs import/unload scenarios on a Rust firmware and on real MicroPython 1.9.4, and
/// compares what they observe.
#[derive(Debug, Parser)]
#[command(name = "mpdiff", version, after_help = EXAMPLES)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run scenarios on targets and print a matrix of statuses and agreement with the
    /// reference (unix32).
    #[command(visible_alias = "matrix", after_help = EXAMPLES)]
    Run(RunArgs),
    /// Compare two targets scenario by scenario (SCENARIOS.md, "Comparing two targets").
    Diff(DiffArgs),
    /// Run scenarios on a reference target and (re)write their golden snapshots.
    Record(RecordArgs),
    /// List the targets, whether each is ready here (and why not), and its version line.
    Targets(TargetsArgs),
    /// Validate scenario files without running them.
    Check(PathsArg),
    /// Measure how closely a target follows a reference: per-field agreement shares, the
    /// share of memory deltas within tolerance, and the median relative error.
    Fidelity(FidelityArgs),
    /// List serial ports that can be given as `--target board:PORT`.
    Boards,
}

/// Scenario files or folders.
#[derive(Debug, Args)]
pub struct PathsArg {
    /// Scenario files or folders (every *.yaml below a folder).
    #[arg(value_name = "PATHS", default_value = "scenarios")]
    pub paths: Vec<PathBuf>,
}

/// Options shared by the commands that run scenarios.
#[derive(Debug, Args)]
pub struct RunTuning {
    /// Host jobs at once (default: one per CPU). Each board always runs one scenario at
    /// a time.
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
    /// Seconds allowed for one scenario on one target, for scenarios that do not set
    /// their own `timeout` (default 30).
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<f64>,
    /// Serial line rate for board:PORT targets.
    #[arg(long, value_name = "B", default_value_t = 115_200)]
    pub baud: u32,
}

/// `mpdiff run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// A target to run on, repeatable: rust, unix32, unix, cpython, board:PORT. Default:
    /// every one of rust, unix32, unix, cpython that can run here.
    #[arg(long = "target", short = 't', value_name = "T")]
    pub targets: Vec<String>,
    /// Output: a matrix for people, or one JSON object per line per (scenario, target).
    #[arg(long, value_enum, default_value_t = FormatArg::Human)]
    pub format: FormatArg,
    #[command(flatten)]
    pub tuning: RunTuning,
    #[command(flatten)]
    pub paths: PathsArg,
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// Lines and a matrix for people.
    Human,
    /// One JSON object per line per (scenario, target), nothing else on stdout.
    Json,
}

/// `mpdiff diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The reference target (e.g. unix32).
    #[arg(value_name = "A")]
    pub reference: String,
    /// The target compared with it (e.g. rust).
    #[arg(value_name = "B")]
    pub other: String,
    /// Show the free-byte deltas of every scenario, not only of those that differ.
    #[arg(long)]
    pub all: bool,
    #[command(flatten)]
    pub tuning: RunTuning,
    #[command(flatten)]
    pub paths: PathsArg,
}

/// `mpdiff record`.
#[derive(Debug, Args)]
pub struct RecordArgs {
    /// The reference target to record (unix32, unix, or a board running MicroPython).
    #[arg(long, short = 't', value_name = "T")]
    pub target: String,
    /// Folder of golden snapshots (default: `golden/` next to the `scenarios/` folder).
    #[arg(long, value_name = "DIR")]
    pub golden: Option<PathBuf>,
    /// Record under this name instead of the target's (e.g. `esp8266` for
    /// `board:/dev/ttyUSB0`): it names the files and the snapshot's `target`.
    #[arg(long, value_name = "NAME", value_parser = label)]
    pub label: Option<String>,
    #[command(flatten)]
    pub tuning: RunTuning,
    #[command(flatten)]
    pub paths: PathsArg,
}

/// A label is a plain word, so it can name a file.
fn label(s: &str) -> Result<String, String> {
    let ok = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.');
    if ok {
        Ok(s.to_string())
    } else {
        Err("use letters, digits, `-`, `_` and `.` only".to_string())
    }
}

/// `mpdiff targets`.
#[derive(Debug, Args)]
pub struct TargetsArgs {
    /// Serial line rate used to probe board:PORT targets given with --target.
    #[arg(long, value_name = "B", default_value_t = 115_200)]
    pub baud: u32,
    /// Extra targets to probe (e.g. board:/dev/ttyUSB0).
    #[arg(long = "target", short = 't', value_name = "T")]
    pub targets: Vec<String>,
}

/// `mpdiff fidelity`.
#[derive(Debug, Args)]
pub struct FidelityArgs {
    /// The reference.
    #[arg(long, value_name = "T", default_value = "unix32")]
    pub against: String,
    /// The target measured.
    #[arg(long, short = 't', value_name = "T", default_value = "rust")]
    pub target: String,
    #[command(flatten)]
    pub tuning: RunTuning,
    #[command(flatten)]
    pub paths: PathsArg,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }
}
