//! Checked scenario types (SCENARIOS.md, version 1, plus documented extensions).

use std::collections::BTreeMap;
use std::path::PathBuf;

/// The default GC heap: 36 KiB, like the ESP8266 port.
pub const DEFAULT_HEAP: u64 = 36 * 1024;

/// A validated scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// Its path relative to the folder it was found in, without `.yaml`.
    pub name: String,
    /// The file it came from.
    pub file: PathBuf,
    /// What the scenario shows, in plain words.
    pub about: String,
    /// GC heap size in bytes.
    pub heap: u64,
    /// Relative `/`-separated file path -> content, checked (no `..`, not absolute).
    pub tree: BTreeMap<String, String>,
    /// The steps, in order.
    pub steps: Vec<Step>,
    /// Claims per observation label, in file order.
    pub expect: Vec<Expectation>,
    /// Whether namespace order differences fail a comparison (default: reported only).
    pub strict_order: bool,
    /// Disagreements between targets that were examined and kept on purpose (extension).
    pub divergences: Vec<Divergence>,
    /// Whether the `expect` block is also claimed on CPython (extension; default false,
    /// because the claims describe MicroPython).
    pub cpython_expect: bool,
    /// Time allowed for this scenario on one target, overriding the default (extension).
    pub timeout: Option<std::time::Duration>,
}

/// What a comparison looks at. Used by `compare` and by declared divergences.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    /// The outcome's status (`ok`/`failed` vs `error`) or its number of observations.
    Status,
    /// Keys of `sys.modules` at an observation.
    Modules,
    /// Namespace names at an observation, as a set.
    Names,
    /// The order of namespace names at an observation.
    NamesOrder,
    /// `repr()` of the eval expressions at an observation.
    Eval,
    /// Exceptions raised by run steps (step and type).
    Errors,
    /// The memory class between two consecutive observations.
    Memory,
}

impl Field {
    /// The word used in scenario files and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Status => "status",
            Field::Modules => "modules",
            Field::Names => "names",
            Field::NamesOrder => "names_order",
            Field::Eval => "eval",
            Field::Errors => "errors",
            Field::Memory => "memory",
        }
    }
}

impl std::fmt::Display for Field {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A disagreement between a target and the reference that the project keeps on purpose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Divergence {
    /// The target that diverges, e.g. `rust` or `cpython`.
    pub target: String,
    /// What differs.
    pub field: Field,
    /// The observation label (or `step N` for errors) it applies to; `None` means anywhere.
    pub at: Option<String>,
    /// Why it is kept.
    pub reason: String,
}

/// One step of a scenario.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Python source run like a REPL entry in the scenario namespace.
    Run {
        /// The source.
        source: String,
        /// The exception type this step must raise, if any.
        raises: Option<String>,
        /// 1-based line of the step in the YAML file.
        line: usize,
    },
    /// An observation point.
    Observe {
        /// Unique label, `[a-z0-9_-]+`.
        label: String,
        /// Expressions whose `repr()` is recorded.
        eval: Vec<String>,
        /// 1-based line of the step in the YAML file.
        line: usize,
    },
}

/// Claims that must hold at one observation on every target.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Expectation {
    /// The observation label the claims are about.
    pub at: String,
    /// Claims on the keys of `sys.modules`.
    pub modules: Option<Membership>,
    /// Claims on namespace names.
    pub names: Option<Membership>,
    /// Expression -> expected repr.
    pub eval: Vec<(String, String)>,
    /// How much of a load came back.
    pub reclaims: Option<Reclaims>,
}

/// `has` / `lacks` lists.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Membership {
    /// Items that must be present.
    pub has: Vec<String>,
    /// Items that must be absent.
    pub lacks: Vec<String>,
}

/// `reclaims: {load: [a, b], is: ...}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Reclaims {
    /// The observation before the load.
    pub before: String,
    /// The observation after the load.
    pub after: String,
    /// The claimed share class.
    pub is: Share,
}

/// Share of a load that came back: none < 0.10 <= partial < 0.60 <= most.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Share {
    /// share < 0.10
    None,
    /// 0.10 <= share < 0.60
    Partial,
    /// share >= 0.60
    Most,
}

impl Share {
    /// The class of a share.
    pub fn of(share: f64) -> Share {
        if share < 0.10 {
            Share::None
        } else if share < 0.60 {
            Share::Partial
        } else {
            Share::Most
        }
    }

    /// The word used in scenario files.
    pub fn as_str(self) -> &'static str {
        match self {
            Share::None => "none",
            Share::Partial => "partial",
            Share::Most => "most",
        }
    }
}

impl Scenario {
    /// Labels of the observe steps, in order.
    pub fn labels(&self) -> impl Iterator<Item = &str> {
        self.steps.iter().filter_map(|s| match s {
            Step::Observe { label, .. } => Some(label.as_str()),
            Step::Run { .. } => None,
        })
    }
}
