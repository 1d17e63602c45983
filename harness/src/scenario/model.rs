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
