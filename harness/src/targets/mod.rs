//! Targets: one trait, one file per target. A target turns a scenario into an
//! [`Execution`]; `expect` turns that into an [`Outcome`](crate::outcome::Outcome).

use std::time::Duration;

use crate::outcome::{Observation, StepError, Transfer};
use crate::scenario::Scenario;

/// Options that apply to every run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Time allowed for one scenario on one target.
    pub timeout: Duration,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            timeout: Duration::from_secs(30),
        }
    }
}

/// What a target observed while running a scenario, before any claim is checked.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Execution {
    /// The target's version line for this run (implementation, word size, heap).
    pub target_info: String,
    /// Sorted keys of `sys.modules` before the first step.
    pub baseline_modules: Vec<String>,
    /// Observations reached, in order.
    pub observations: Vec<Observation>,
    /// Every exception raised by a `run` step, declared or not.
    pub exceptions: Vec<StepError>,
    /// Set when the target could not run the scenario to its end (crash, time-out,
    /// unsupported construct, board not answering): what happened.
    pub failure: Option<String>,
    /// Serial traffic, for targets behind a line.
    pub transfer: Option<Transfer>,
}

/// A target could not be made ready.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// Building or locating a reference failed.
    #[error("{target}: {message}")]
    Unavailable {
        /// The target name.
        target: String,
        /// What is missing, with a hint where the fix is known.
        message: String,
    },
}

/// Something that runs scenarios.
pub trait Target: Send + Sync {
    /// The target's name as given on the command line, e.g. `unix32`.
    fn name(&self) -> String;

    /// Makes the target ready (builds a reference, opens a port). Idempotent and cheap
    /// when already done.
    fn prepare(&self) -> Result<(), TargetError>;

    /// The version line, e.g. `MicroPython 1.9.4 unix port, x86 32-bit, heap 36864 bytes`.
    fn info(&self, heap: u64) -> String;

    /// Runs one scenario. Never panics on bad input: failures go into
    /// [`Execution::failure`].
    fn execute(&self, scenario: &Scenario, options: &RunOptions) -> Execution;

    /// Whether golden snapshots are recorded for this target (real MicroPython).
    fn is_reference(&self) -> bool {
        false
    }
}

#[cfg(feature = "board")]
pub mod board;
#[cfg(feature = "cpython")]
pub mod cpython;
pub mod fake;
pub mod rust;
pub mod select;
pub mod unix;
