//! Golden snapshots: the normalised outcome of a scenario on a reference target, stored
//! as `golden/<scenario>@<target>.snap` in insta's file format (a YAML header naming the
//! scenario file and the target's version line, then a readable YAML body), so the files
//! review well and `cargo insta review` can accept pending ones.
//!
//! A snapshot holds what the reference did, never how long it took: no timings, no
//! transfer counts. Nothing is written when the environment says CI (or
//! `INSTA_UPDATE=no`); a live result that differs from its golden file is written next to
//! it as `<name>.snap.new`, which git ignores.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::normalise::mask_addresses;
use crate::outcome::{ExpectationResult, Observation, Outcome, Status, StepError};
use crate::scenario::Scenario;

/// What a snapshot body holds: an [`Outcome`] without anything that varies from run to
/// run. Field names are those of the outcome JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Normalised {
    /// The scenario name.
    pub scenario: String,
    /// The target name.
    pub target: String,
    /// The target's version line.
    pub target_info: String,
    /// Keys of `sys.modules` before the first step.
    pub baseline_modules: Vec<String>,
    /// Observations reached.
    pub observations: Vec<Observation>,
    /// Exceptions that no step declared.
    pub errors: Vec<StepError>,
    /// Every claim's result.
    pub expectations: Vec<ExpectationResult>,
    /// `ok`, `failed` or `error`.
    pub status: Status,
    /// Why the status is what it is, when there is something to say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// One small rewrite applied to every text of an outcome before it is snapshotted.
/// Filters run in order; new ones are appended.
pub type Filter = fn(&str) -> String;

/// The filters, in order.
pub const FILTERS: &[Filter] = &[temp_paths, mask_addresses];

/// Replaces temporary folders (which differ on every run) with `[TMP]`.
pub fn temp_paths(text: &str) -> String {
    let tmp = std::env::temp_dir();
    let tmp = tmp.to_string_lossy();
    let tmp = tmp.trim_end_matches('/');
    if tmp.is_empty() || !text.contains(tmp) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find(tmp) {
        out.push_str(&rest[..pos]);
        out.push_str("[TMP]");
        // The temporary folder's own name goes too: everything up to the next separator
        // after the first path component below the temporary root.
        let after = &rest[pos + tmp.len()..];
        let skip = after
            .strip_prefix('/')
            .map(|a| 1 + a.find(['/', ' ', '\'', '"', ':']).unwrap_or(a.len()))
            .unwrap_or(0);
        rest = &after[skip..];
    }
    out.push_str(rest);
    out
}

fn filtered(text: &str) -> String {
    FILTERS.iter().fold(text.to_string(), |t, f| f(&t))
}

/// The normalised form of an outcome.
pub fn normalise(outcome: &Outcome) -> Normalised {
    let errors = outcome
        .errors
        .iter()
        .map(|e| StepError {
            message: filtered(&e.message),
            ..e.clone()
        })
        .collect();
    let expectations = outcome
        .expectations
        .iter()
        .map(|e| ExpectationResult {
            detail: filtered(&e.detail),
            ..e.clone()
        })
        .collect();
    Normalised {
        scenario: outcome.scenario.clone(),
        target: outcome.target.clone(),
        target_info: outcome.target_info.clone(),
        baseline_modules: outcome.baseline_modules.clone(),
        // Object addresses change from run to run (and with the allocator), so reprs
        // are kept with their addresses masked.
        observations: outcome
            .observations
            .iter()
            .map(|o| Observation {
                eval: o
                    .eval
                    .iter()
                    .map(|(k, v)| (k.clone(), mask_addresses(v)))
                    .collect(),
                ..o.clone()
            })
            .collect(),
        errors,
        expectations,
        status: outcome.status,
        detail: outcome.detail.as_deref().map(filtered),
    }
}

/// A golden file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum GoldenError {
    /// No golden file for this scenario and target.
    #[error(
        "{}: no golden snapshot; record it with `cargo run -p mpdiff -- record --target {target} {scenario_file}`",
        path.display()
    )]
    Missing {
        /// Where it was looked for.
        path: PathBuf,
        /// The target.
        target: String,
        /// The scenario file.
        scenario_file: String,
    },
    /// Reading or writing failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a snapshot of an outcome.
    #[error("{}: not a valid snapshot: {message}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Golden files are never written in CI.
    #[error("refusing to write golden snapshots: {0}")]
    Refused(String),
}

/// The folder golden files live in for a scenario when none is given: `golden/` next to
/// the `scenarios/` folder the scenario came from.
pub fn default_dir(scenario: &Scenario) -> PathBuf {
    if let Ok(abs) = std::path::absolute(&scenario.file)
        && let Some(dir) = abs
            .ancestors()
            .skip(1)
            .find(|d| d.file_name().is_some_and(|n| n == "scenarios"))
        && let Some(parent) = dir.parent()
    {
        return parent.join("golden");
    }
    // Elsewhere, the scenario's name is its path below the scenarios folder: walk up that many
    // components from the file to find the folder.
    let depth = scenario.name.split('/').count();
    let mut root = scenario.file.clone();
    for _ in 0..depth {
        root.pop();
    }
    match root.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.join("golden"),
        _ => PathBuf::from("golden"),
    }
}

/// The target name as it appears in a file name (`board:/dev/ttyUSB0` -> `board_dev_ttyUSB0`).
pub fn file_label(target: &str) -> String {
    let mut out = String::new();
    for c in target.chars() {
        if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
            out.push(c);
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    out.trim_matches('_').to_string()
}

/// `<dir>/<scenario>@<target>.snap`.
pub fn path(dir: &Path, scenario: &str, target: &str) -> PathBuf {
    dir.join(format!("{scenario}@{}.snap", file_label(target)))
}

/// The text of a snapshot file for an outcome.
pub fn render(scenario: &Scenario, outcome: &Outcome) -> Result<String, GoldenError> {
    let body = body(&normalise(outcome)).map_err(|message| GoldenError::Invalid {
        path: scenario.file.clone(),
        message,
    })?;
    let file = header_path(&scenario.file);
    let header = Header {
        source: file.clone(),
        description: outcome.target_info.clone(),
        expression: "outcome".to_string(),
        info: Info {
            scenario: scenario.name.clone(),
            target: outcome.target.clone(),
            target_info: outcome.target_info.clone(),
            heap: scenario.heap,
        },
        input_file: file,
    };
    let header = serde_saphyr::to_string(&header).map_err(|e| GoldenError::Invalid {
        path: scenario.file.clone(),
        message: e.to_string(),
    })?;
    Ok(format!("---\n{}---\n{}", ensure_newline(&header), body))
}

/// The scenario file as the header names it: from the `scenarios/` folder on
/// (`scenarios/seed/x.yaml`), so a file records the same header whichever folder it was
/// written from; a file elsewhere keeps the path it was given.
fn header_path(file: &Path) -> String {
    let from_scenarios = std::path::absolute(file).ok().and_then(|abs| {
        let dir = abs
            .ancestors()
            .skip(1)
            .find(|d| d.file_name().is_some_and(|n| n == "scenarios"))?;
        let rel = abs.strip_prefix(dir.parent()?).ok()?;
        Some(rel.to_path_buf())
    });
    from_scenarios
        .as_deref()
        .unwrap_or(file)
        .to_string_lossy()
        .replace('\\', "/")
}

/// The YAML body for a normalised outcome.
pub fn body(normalised: &Normalised) -> Result<String, String> {
    serde_saphyr::to_string(normalised)
        .map(|s| ensure_newline(&s))
        .map_err(|e| e.to_string())
}

fn ensure_newline(s: &str) -> String {
    if s.ends_with('\n') {
        s.to_string()
    } else {
        format!("{s}\n")
    }
}

/// insta's header fields, in insta's order.
#[derive(Serialize)]
struct Header {
    source: String,
    description: String,
    expression: String,
    info: Info,
    input_file: String,
}

#[derive(Serialize)]
struct Info {
    scenario: String,
    target: String,
    target_info: String,
    heap: u64,
}

/// Reads a snapshot file: its header is checked to be insta's, its body read back into
/// a [`Normalised`] outcome.
pub fn read(path: &Path) -> Result<Normalised, GoldenError> {
    let text = std::fs::read_to_string(path).map_err(|source| GoldenError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse(&text).map_err(|message| GoldenError::Invalid {
        path: path.to_path_buf(),
        message,
    })
}

/// Parses the text of a snapshot file.
pub fn parse(text: &str) -> Result<Normalised, String> {
    let rest = text
        .strip_prefix("---\n")
        .ok_or("the file does not start with an insta header (`---`)")?;
    let end = rest
        .find("\n---\n")
        .ok_or("the header is not closed by a `---` line")?;
    let body = &rest[end + "\n---\n".len()..];
    serde_saphyr::from_str(body).map_err(|e| format!("body: {e}"))
}

/// Why writing is not allowed here, if it is not: CI, or `INSTA_UPDATE=no`.
pub fn writing_refused() -> Option<String> {
    if std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false" && v != "0") {
        return Some("the CI environment variable is set".to_string());
    }
    if std::env::var("INSTA_UPDATE").is_ok_and(|v| v == "no") {
        return Some("INSTA_UPDATE=no".to_string());
    }
    None
}

/// Writes the golden file of an outcome (`mpdiff record`). Refused in CI.
pub fn record(dir: &Path, scenario: &Scenario, outcome: &Outcome) -> Result<PathBuf, GoldenError> {
    if let Some(why) = writing_refused() {
        return Err(GoldenError::Refused(why));
    }
    let path = path(dir, &scenario.name, &outcome.target);
    write(&path, &render(scenario, outcome)?)?;
    Ok(path)
}

fn write(path: &Path, text: &str) -> Result<(), GoldenError> {
    let io = |source| GoldenError::Io {
        path: path.to_path_buf(),
        source,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    std::fs::write(path, text).map_err(io)
}

/// How a live outcome compares with its golden file.
#[derive(Debug)]
pub enum Check {
    /// They are equal.
    Same,
    /// They differ: a line diff of the two bodies (golden `-`, live `+`), and where the
    /// live result was written for review, if it was.
    Differs {
        /// The golden file.
        path: PathBuf,
        /// Unified diff, golden first.
        diff: String,
        /// The `.snap.new` file written, when writing is allowed.
        pending: Option<PathBuf>,
    },
}

/// Compares a live outcome with its golden file in `dir`.
pub fn check(dir: &Path, scenario: &Scenario, live: &Outcome) -> Result<Check, GoldenError> {
    let path = path(dir, &scenario.name, &live.target);
    if !path.exists() {
        return Err(GoldenError::Missing {
            path,
            target: live.target.clone(),
            scenario_file: scenario.file.to_string_lossy().into_owned(),
        });
    }
    let golden = read(&path)?;
    let live_n = normalise(live);
    if golden == live_n {
        return Ok(Check::Same);
    }
    let old = body(&golden).unwrap_or_default();
    let new = body(&live_n).unwrap_or_default();
    let diff = similar::TextDiff::from_lines(&old, &new)
        .unified_diff()
        .context_radius(3)
        .header("golden", "live")
        .to_string();
    let pending = if writing_refused().is_none() {
        let pending = path.with_extension("snap.new");
        write(&pending, &render(scenario, live)?)?;
        Some(pending)
    } else {
        None
    };
    Ok(Check::Differs {
        path,
        diff,
        pending,
    })
}

/// Reads the golden outcome of a scenario on a target, as an [`Outcome`] (for comparing
/// other targets with it).
pub fn load(dir: &Path, scenario: &Scenario, target: &str) -> Result<Outcome, GoldenError> {
    let path = path(dir, &scenario.name, target);
    if !path.exists() {
        return Err(GoldenError::Missing {
            path,
            target: target.to_string(),
            scenario_file: scenario.file.to_string_lossy().into_owned(),
        });
    }
    let n = read(&path)?;
    Ok(Outcome {
        scenario: n.scenario,
        target: n.target,
        target_info: n.target_info,
        baseline_modules: n.baseline_modules,
        observations: n.observations,
        errors: n.errors,
        expectations: n.expectations,
        status: n.status,
        detail: n.detail,
        transfer: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Transfer;
    use crate::scenario::load_str;
    use indexmap::IndexMap;

    fn scenario(dir: &Path) -> Scenario {
        let text = "about: t\ntree: {}\nsteps:\n  - observe: a\n";
        load_str(text, &dir.join("scenarios/seed/t.yaml"), "seed/t").unwrap()
    }

    fn outcome() -> Outcome {
        Outcome {
            scenario: "seed/t".into(),
            target: "unix32".into(),
            target_info: "MicroPython 1.9.4 unix port, x86 32-bit, heap 36864 bytes".into(),
            baseline_modules: vec![],
            observations: vec![Observation {
                label: "a".into(),
                free: 34464,
                alloc: 1504,
                modules: vec!["rootpackage".into()],
                names: vec!["__name__".into(), "it's: \"quoted\"".into()],
                eval: IndexMap::from([("1 + 1".to_string(), "2".to_string())]),
            }],
            errors: vec![StepError {
                step: 3,
                kind: "ImportError".into(),
                message: "no module named 'x'".into(),
            }],
            expectations: vec![],
            status: Status::Ok,
            detail: None,
            transfer: Some(Transfer {
                bytes_sent: 1,
                bytes_received: 2,
                wall_ms: 3,
                baud: 115200,
            }),
        }
    }

    #[test]
    fn render_then_parse_round_trips_without_transfer() {
        let dir = tempfile::tempdir().unwrap();
        let s = scenario(dir.path());
        let text = render(&s, &outcome()).unwrap();
        assert!(text.contains("description: MicroPython 1.9.4"), "{text}");
        // The header names the file from the scenarios folder on, wherever it lives.
        assert!(text.contains("source: scenarios/seed/t.yaml\n"), "{text}");
        assert!(!text.contains("wall_ms"), "{text}");
        assert_eq!(parse(&text).unwrap(), normalise(&outcome()));
    }

    #[test]
    fn insta_reads_our_files() {
        let dir = tempfile::tempdir().unwrap();
        let s = scenario(dir.path());
        let p = path(dir.path(), "seed/t", "unix32");
        write(&p, &render(&s, &outcome()).unwrap()).unwrap();
        let snap = insta::Snapshot::from_file(&p).unwrap();
        assert_eq!(
            snap.metadata().description(),
            Some("MicroPython 1.9.4 unix port, x86 32-bit, heap 36864 bytes")
        );
        let body = snap.contents().as_text().unwrap().to_string();
        assert_eq!(
            parse(&format!("---\nx: 1\n---\n{body}\n")).unwrap(),
            normalise(&outcome())
        );
    }

    #[test]
    fn a_hand_edit_is_a_difference() {
        let dir = tempfile::tempdir().unwrap();
        let s = scenario(dir.path());
        let gdir = dir.path().join("golden");
        let p = path(&gdir, "seed/t", "unix32");
        write(&p, &render(&s, &outcome()).unwrap()).unwrap();
        assert!(matches!(check(&gdir, &s, &outcome()).unwrap(), Check::Same));
        let edited = std::fs::read_to_string(&p)
            .unwrap()
            .replace("34464", "34465");
        std::fs::write(&p, edited).unwrap();
        match check(&gdir, &s, &outcome()).unwrap() {
            Check::Differs { diff, .. } => {
                assert!(
                    diff.contains("-  free: 34465") || diff.contains("34465"),
                    "{diff}"
                )
            }
            Check::Same => panic!("an edited golden file must differ"),
        }
    }

    #[test]
    fn a_missing_golden_says_how_to_record_it() {
        let dir = tempfile::tempdir().unwrap();
        let s = scenario(dir.path());
        let err = check(&dir.path().join("golden"), &s, &outcome()).unwrap_err();
        assert!(err.to_string().contains("record --target unix32"), "{err}");
    }

    #[test]
    fn default_dir_is_next_to_the_scenarios_folder() {
        let s = scenario(Path::new("/w"));
        assert_eq!(default_dir(&s), PathBuf::from("/w/golden"));
        assert_eq!(file_label("board:/dev/ttyUSB0"), "board_dev_ttyUSB0");
    }

    #[test]
    fn addresses_in_reprs_are_masked_in_snapshots() {
        let mut o = outcome();
        o.observations[0]
            .eval
            .insert("m.f".into(), "<function f at 0x565a5840>".into());
        o.errors[0].message = "<C object at 565a5cb0> is bad".into();
        let n = normalise(&o);
        assert_eq!(n.observations[0].eval["m.f"], "<function f at 0x[ADDR]>");
        assert_eq!(n.observations[0].eval["1 + 1"], "2");
        assert_eq!(n.errors[0].message, "<C object at [ADDR]> is bad");
    }

    #[test]
    fn temp_paths_are_replaced() {
        let tmp = std::env::temp_dir().join(".tmpAbC12/x.py");
        let text = format!("in {}: bad", tmp.display());
        assert_eq!(temp_paths(&text), "in [TMP]/x.py: bad");
        assert_eq!(temp_paths("nothing here"), "nothing here");
    }
}
