//! What one run of one scenario on one target produced (SCENARIOS.md, "What a run produces").
//! Everything that compares, reports or snapshots works on these types only.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

/// The outcome of one (scenario, target) pair, serialised as one JSON line by `--format json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    /// The scenario name: its path under the scenarios folder without `.yaml`.
    pub scenario: String,
    /// The target name (`rust`, `unix`, `unix32`, `board:/dev/ttyUSB0`, `cpython`).
    pub target: String,
    /// The target's version line: implementation, word size, heap.
    pub target_info: String,
    /// Keys of `sys.modules` present before the first step, sorted.
    pub baseline_modules: Vec<String>,
    /// One entry per `observe` step that was reached, in step order.
    pub observations: Vec<Observation>,
    /// Exceptions raised by `run` steps that did not declare them.
    pub errors: Vec<StepError>,
    /// The result of every claim: `raises` of each step and the `expect` block.
    pub expectations: Vec<ExpectationResult>,
    /// `ok`, `failed` or `error`.
    pub status: Status,
    /// Why the status is `error` (or other notes); absent when there is nothing to say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Serial traffic and timing, for targets that talk over a line (extension).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transfer: Option<Transfer>,
}

/// What the target recorded at one `observe` step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observation {
    /// The observation's label.
    pub label: String,
    /// `gc.mem_free()` right after `gc.collect()`.
    pub free: i64,
    /// `gc.mem_alloc()` right after that.
    pub alloc: i64,
    /// Sorted keys of `sys.modules` minus the baseline.
    pub modules: Vec<String>,
    /// Namespace keys in the namespace's own order.
    pub names: Vec<String>,
    /// Expression -> `repr()` of its value, in the scenario's order.
    pub eval: IndexMap<String, String>,
}

/// An exception raised by a `run` step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepError {
    /// Index of the step in the scenario's `steps` list, from 0.
    pub step: usize,
    /// The exception's type name, e.g. `ImportError`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `str()` of the exception.
    pub message: String,
}

/// The result of one claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpectationResult {
    /// The observation label, or `step N` for a `raises` claim.
    pub at: String,
    /// What was checked: `raises`, `modules`, `names`, `eval`, `reclaims`.
    pub check: String,
    /// Whether it held.
    pub ok: bool,
    /// A human-readable account of what was found.
    pub detail: String,
    /// When the claim failed on a target that the scenario declares a divergence for (same
    /// target, field and observation): the declared reason. Such a failure is shown, never
    /// dropped, but does not make the status `failed` (extension).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub declared: Option<String>,
}

/// The overall status of an outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Every expectation held.
    Ok,
    /// Some expectation did not hold.
    Failed,
    /// The target could not run the scenario.
    Error,
}

/// Bytes exchanged with a target over a line, and how long it took.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transfer {
    /// Bytes written to the target.
    pub bytes_sent: u64,
    /// Bytes read from the target.
    pub bytes_received: u64,
    /// Wall time for the scenario, in milliseconds.
    pub wall_ms: u64,
    /// Line rate in bits per second.
    pub baud: u32,
}
