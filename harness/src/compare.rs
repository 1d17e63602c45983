//! Comparing two outcomes of the same scenario (SCENARIOS.md, "Comparing two targets"):
//! observation by observation, modules equal, names equal as sets, evals equal, the same
//! errors, and the same memory class for every consecutive pair of observations. Byte
//! counts are reported side by side, never required to be equal.

use std::collections::BTreeSet;
use std::fmt;

use crate::normalise::same_repr;
use crate::outcome::{Observation, Outcome, Status};
pub use crate::scenario::Field;
use crate::scenario::{Divergence, Scenario};

/// How free memory moved between two consecutive observations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemoryClass {
    /// Free memory went down by more than the threshold (`d < -t`).
    Grew,
    /// Within the threshold (`|d| <= t`).
    Flat,
    /// Free memory went up by more than the threshold (`d > t`).
    Shrank,
}

impl MemoryClass {
    /// The word used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            MemoryClass::Grew => "grew",
            MemoryClass::Flat => "flat",
            MemoryClass::Shrank => "shrank",
        }
    }
}

impl fmt::Display for MemoryClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `free(next) - free(prev)` for each consecutive pair of observations.
pub fn memory_deltas(outcome: &Outcome) -> Vec<i64> {
    outcome
        .observations
        .windows(2)
        .map(|w| w[1].free - w[0].free)
        .collect()
}

/// The outcome's threshold: `t = max(64, 0.1 * largest |d|)`.
pub fn memory_threshold(outcome: &Outcome) -> f64 {
    threshold(&memory_deltas(outcome))
}

fn threshold(deltas: &[i64]) -> f64 {
    let largest = deltas.iter().map(|d| d.unsigned_abs()).max().unwrap_or(0);
    f64::max(64.0, 0.1 * largest as f64)
}

/// The memory class of each consecutive pair of observations.
pub fn memory_classes(outcome: &Outcome) -> Vec<MemoryClass> {
    let deltas = memory_deltas(outcome);
    let t = threshold(&deltas);
    deltas.iter().map(|&d| classify(d, t)).collect()
}

/// The class of one delta under threshold `t`.
pub fn classify(d: i64, t: f64) -> MemoryClass {
    let d = d as f64;
    if d < -t {
        MemoryClass::Grew
    } else if d > t {
        MemoryClass::Shrank
    } else {
        MemoryClass::Flat
    }
}

/// One way two outcomes differ.
#[derive(Debug, Clone, PartialEq)]
pub struct Difference {
    /// Where: an observation label, `step N` for errors, `a..b` for the memory between two
    /// observations, `status` or `observations` for the whole run.
    pub at: String,
    /// What differs.
    pub field: Field,
    /// What the reference shows.
    pub reference: String,
    /// What the other target shows.
    pub other: String,
    /// The reason, when the scenario declares this difference as kept on purpose.
    pub declared: Option<String>,
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}: {} vs {}",
            self.at, self.field, self.reference, self.other
        )?;
        if let Some(reason) = &self.declared {
            write!(f, " (declared: {reason})")?;
        }
        Ok(())
    }
}

/// The memory between two consecutive observations on both targets, for reports.
#[derive(Debug, Clone, PartialEq)]
pub struct MemoryRow {
    /// Label of the earlier observation.
    pub from: String,
    /// Label of the later observation.
    pub to: String,
    /// The reference's delta `free(to) - free(from)`, in bytes.
    pub reference_delta: i64,
    /// The other target's delta.
    pub other_delta: i64,
    /// The reference's class.
    pub reference_class: MemoryClass,
    /// The other target's class.
    pub other_class: MemoryClass,
}

/// The result of comparing two outcomes of one scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// The scenario name.
    pub scenario: String,
    /// The reference target's name.
    pub reference: String,
    /// The other target's name.
    pub other: String,
    /// Whether they agree: every difference, if any, is declared.
    pub agree: bool,
    /// Every difference, declared or not. Undeclared ones make `agree` false.
    pub differences: Vec<Difference>,
    /// Differences reported but never failing (a namespace order without `strict_order`).
    pub notes: Vec<Difference>,
    /// Memory deltas side by side, one row per consecutive pair both targets reached.
    pub memory: Vec<MemoryRow>,
}

impl Comparison {
    /// Differences that make the comparison fail (not declared).
    pub fn undeclared(&self) -> impl Iterator<Item = &Difference> {
        self.differences.iter().filter(|d| d.declared.is_none())
    }
}

/// Compares `other` against `reference`, both outcomes of `scenario`.
pub fn compare(scenario: &Scenario, reference: &Outcome, other: &Outcome) -> Comparison {
    let mut c = Collector {
        differences: Vec::new(),
        notes: Vec::new(),
    };

    status(reference, other, &mut c);
    heaps(reference, other, &mut c);

    let pairs = reference.observations.len().min(other.observations.len());
    let mut aligned = true;
    for (r, o) in reference.observations.iter().zip(&other.observations) {
        if r.label != o.label {
            c.difference(
                "observations",
                Field::Status,
                format!("observation `{}`", r.label),
                format!("observation `{}`", o.label),
            );
            aligned = false;
            break;
        }
        observation(scenario, r, o, &mut c);
    }

    errors(scenario, reference, other, &mut c);

    let memory = if aligned {
        memory(reference, other, pairs, &mut c)
    } else {
        Vec::new()
    };

    let mut differences = c.differences;
    let mut notes = c.notes;
    for d in differences.iter_mut().chain(notes.iter_mut()) {
        d.declared = declared(&scenario.divergences, &reference.target, &other.target, d)
            .map(|v| v.reason.clone());
    }
    let agree = differences.iter().all(|d| d.declared.is_some());
    Comparison {
        scenario: scenario.name.clone(),
        reference: reference.target.clone(),
        other: other.target.clone(),
        agree,
        differences,
        notes,
        memory,
    }
}

struct Collector {
    differences: Vec<Difference>,
    notes: Vec<Difference>,
}

impl Collector {
    fn difference(&mut self, at: &str, field: Field, reference: String, other: String) {
        self.differences.push(Difference {
            at: at.to_string(),
            field,
            reference,
            other,
            declared: None,
        });
    }

    fn note(&mut self, at: &str, field: Field, reference: String, other: String) {
        self.notes.push(Difference {
            at: at.to_string(),
            field,
            reference,
            other,
            declared: None,
        });
    }
}

fn status_text(o: &Outcome) -> String {
    match (o.status, &o.detail) {
        (Status::Error, Some(d)) => format!("error: {d}"),
        (Status::Error, None) => "error".to_string(),
        (Status::Ok, _) => "ok".to_string(),
        (Status::Failed, _) => "failed".to_string(),
    }
}

/// The heap size a target reports in its version line (`..., heap 36864 bytes`).
pub fn heap_bytes(target_info: &str) -> Option<u64> {
    let (_, rest) = target_info.rsplit_once("heap ")?;
    rest.strip_suffix(" bytes")?.parse().ok()
}

/// Targets whose heaps differ by more than a tenth (a board has a fixed heap whatever the
/// scenario asks for) are still compared, but the report says why memory and errors may
/// differ. The ESP8266's 35968 bytes against the unix ports' 36864 is the usual pairing
/// and passes without a note.
fn heaps(reference: &Outcome, other: &Outcome, c: &mut Collector) {
    let (Some(r), Some(o)) = (
        heap_bytes(&reference.target_info),
        heap_bytes(&other.target_info),
    ) else {
        return;
    };
    if r.abs_diff(o) * 10 > r.max(o) {
        c.note(
            "heap",
            Field::Status,
            format!("heap {r} bytes"),
            format!("heap {o} bytes"),
        );
    }
}

/// A side that could not run is a difference; so is a different number of observations
/// when both ran (with an error, the missing ones are explained by the status).
fn status(reference: &Outcome, other: &Outcome, c: &mut Collector) {
    if reference.status == Status::Error || other.status == Status::Error {
        c.difference(
            "status",
            Field::Status,
            status_text(reference),
            status_text(other),
        );
    } else if reference.observations.len() != other.observations.len() {
        c.difference(
            "observations",
            Field::Status,
            format!("{} observations", reference.observations.len()),
            format!("{} observations", other.observations.len()),
        );
    }
}

fn list(items: &[String]) -> String {
    format!("[{}]", items.join(", "))
}

/// Modules, names and evals at one observation.
fn observation(scenario: &Scenario, r: &Observation, o: &Observation, c: &mut Collector) {
    let at = r.label.as_str();
    if r.modules != o.modules {
        c.difference(at, Field::Modules, list(&r.modules), list(&o.modules));
    }
    let rs: BTreeSet<&String> = r.names.iter().collect();
    let os: BTreeSet<&String> = o.names.iter().collect();
    if rs != os || r.names.len() != o.names.len() {
        c.difference(at, Field::Names, list(&r.names), list(&o.names));
    } else if r.names != o.names {
        if scenario.strict_order {
            c.difference(at, Field::NamesOrder, list(&r.names), list(&o.names));
        } else {
            c.note(at, Field::NamesOrder, list(&r.names), list(&o.names));
        }
    }
    let mut exprs: Vec<&String> = r.eval.keys().collect();
    exprs.extend(o.eval.keys().filter(|k| !r.eval.contains_key(*k)));
    for expr in exprs {
        let (rv, ov) = (r.eval.get(expr), o.eval.get(expr));
        let same = match (rv, ov) {
            (Some(a), Some(b)) => same_repr(a, b),
            _ => rv == ov,
        };
        if !same {
            let show = |v: Option<&String>| match v {
                Some(v) => format!("{expr} = {v}"),
                None => format!("{expr} not evaluated"),
            };
            c.difference(at, Field::Eval, show(rv), show(ov));
        }
    }
}

/// Recorded errors must have the same step and type; messages may differ. When a side
/// stopped early (status `error`), steps past the last one it is known to have reached
/// are not compared: the status difference already says why.
fn errors(scenario: &Scenario, reference: &Outcome, other: &Outcome, c: &mut Collector) {
    let limit = [reference, other]
        .into_iter()
        .filter(|o| o.status == Status::Error)
        .map(|o| last_reached(scenario, o))
        .min();
    let steps: BTreeSet<usize> = reference
        .errors
        .iter()
        .chain(&other.errors)
        .map(|e| e.step)
        .filter(|&step| limit.is_none_or(|l| l.is_some_and(|l| step <= l)))
        .collect();
    for step in steps {
        let r = reference.errors.iter().find(|e| e.step == step);
        let o = other.errors.iter().find(|e| e.step == step);
        if r.map(|e| &e.kind) != o.map(|e| &e.kind) {
            let show = |e: Option<&crate::outcome::StepError>| match e {
                Some(e) if e.message.is_empty() => e.kind.clone(),
                Some(e) => format!("{}: {}", e.kind, e.message),
                None => "no error".to_string(),
            };
            c.difference(&format!("step {step}"), Field::Errors, show(r), show(o));
        }
    }
}

/// The last step an outcome shows it reached: its last observation or its last error.
fn last_reached(scenario: &Scenario, o: &Outcome) -> Option<usize> {
    let observed = o.observations.last().and_then(|last| {
        scenario.steps.iter().position(
            |s| matches!(s, crate::scenario::Step::Observe { label, .. } if *label == last.label),
        )
    });
    let raised = o.errors.iter().map(|e| e.step).max();
    observed.max(raised)
}

/// Memory classes per consecutive pair, each side with its own threshold.
fn memory(reference: &Outcome, other: &Outcome, pairs: usize, c: &mut Collector) -> Vec<MemoryRow> {
    let (rd, od) = (memory_deltas(reference), memory_deltas(other));
    let (rt, ot) = (threshold(&rd), threshold(&od));
    let mut rows = Vec::new();
    for i in 0..pairs.saturating_sub(1) {
        let from = &reference.observations[i].label;
        let to = &reference.observations[i + 1].label;
        let row = MemoryRow {
            from: from.clone(),
            to: to.clone(),
            reference_delta: rd[i],
            other_delta: od[i],
            reference_class: classify(rd[i], rt),
            other_class: classify(od[i], ot),
        };
        if row.reference_class != row.other_class {
            let show = |class: MemoryClass, d: i64, t: f64, a: &Observation, b: &Observation| {
                format!(
                    "{class} ({d:+} B, free {} -> {}, threshold {t:.0} B)",
                    a.free, b.free
                )
            };
            c.difference(
                &format!("{from}..{to}"),
                Field::Memory,
                show(
                    row.reference_class,
                    rd[i],
                    rt,
                    &reference.observations[i],
                    &reference.observations[i + 1],
                ),
                show(
                    row.other_class,
                    od[i],
                    ot,
                    &other.observations[i],
                    &other.observations[i + 1],
                ),
            );
        }
        rows.push(row);
    }
    rows
}

/// Whether a target name is the one a divergence names: exactly, or a board given as
/// `board` matching any `board:PORT`.
fn names_target(declared: &str, target: &str) -> bool {
    declared == target
        || target
            .strip_prefix(declared)
            .is_some_and(|rest| rest.starts_with(':'))
}

/// Whether a divergence is about one of the two targets compared.
fn covers_pair(v: &Divergence, reference: &str, other: &str) -> bool {
    names_target(&v.target, other) || names_target(&v.target, reference)
}

/// Whether a divergence covers one difference found between `reference` and `other`. A
/// memory divergence's `at` names the later observation of the pair (or the pair `a..b`).
fn covers(v: &Divergence, reference: &str, other: &str, d: &Difference) -> bool {
    covers_pair(v, reference, other)
        && v.field == d.field
        && match &v.at {
            None => true,
            Some(at) => {
                *at == d.at
                    || (d.field == Field::Memory
                        && d.at.rsplit_once("..").is_some_and(|(_, to)| to == at))
            }
        }
}

/// The first divergence that covers this difference, if any.
fn declared<'a>(
    divergences: &'a [Divergence],
    reference: &str,
    other: &str,
    d: &Difference,
) -> Option<&'a Divergence> {
    divergences.iter().find(|v| covers(v, reference, other, d))
}

/// Divergences the scenario declares for one of the two compared targets that cover no
/// difference or note of `comparison`: the targets may have converged, and the
/// declaration can go.
pub fn unused_divergences<'a>(
    scenario: &'a Scenario,
    comparison: &Comparison,
) -> Vec<&'a Divergence> {
    let (r, o) = (comparison.reference.as_str(), comparison.other.as_str());
    scenario
        .divergences
        .iter()
        .filter(|v| covers_pair(v, r, o))
        .filter(|v| {
            !comparison
                .differences
                .iter()
                .chain(&comparison.notes)
                .any(|d| covers(v, r, o, d))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use indexmap::IndexMap;

    use super::*;
    use crate::outcome::StepError;
    use crate::scenario::load_str;

    const STEPS: &str = "about: x\ntree: {}\nsteps:\n  - observe: a\n  - run: import m\n  - observe: b\n  - run: del m\n  - observe: c\n";

    fn scenario(extra: &str) -> Scenario {
        load_str(&format!("{STEPS}{extra}"), Path::new("t.yaml"), "t").unwrap()
    }

    fn obs(label: &str, free: i64) -> Observation {
        Observation {
            label: label.into(),
            free,
            alloc: 0,
            modules: vec![],
            names: vec!["__name__".into()],
            eval: IndexMap::new(),
        }
    }

    fn outcome(target: &str, frees: [i64; 3]) -> Outcome {
        Outcome {
            scenario: "t".into(),
            target: target.into(),
            target_info: String::new(),
            baseline_modules: vec![],
            observations: vec![obs("a", frees[0]), obs("b", frees[1]), obs("c", frees[2])],
            errors: vec![],
            expectations: vec![],
            status: Status::Ok,
            detail: None,
            transfer: None,
        }
    }

    fn fields(c: &Comparison) -> Vec<(&str, Field, bool)> {
        c.differences
            .iter()
            .map(|d| (d.at.as_str(), d.field, d.declared.is_some()))
            .collect()
    }

    #[test]
    fn equal_outcomes_agree_and_report_bytes_side_by_side() {
        let s = scenario("");
        let r = outcome("unix32", [30_000, 26_000, 26_050]);
        let o = outcome("rust", [31_000, 27_500, 27_480]);
        let c = compare(&s, &r, &o);
        assert!(c.agree, "{:?}", c.differences);
        assert!(c.differences.is_empty() && c.notes.is_empty());
        assert_eq!((c.reference.as_str(), c.other.as_str()), ("unix32", "rust"));
        assert_eq!(
            c.memory,
            [
                MemoryRow {
                    from: "a".into(),
                    to: "b".into(),
                    reference_delta: -4000,
                    other_delta: -3500,
                    reference_class: MemoryClass::Grew,
                    other_class: MemoryClass::Grew,
                },
                MemoryRow {
                    from: "b".into(),
                    to: "c".into(),
                    reference_delta: 50,
                    other_delta: -20,
                    reference_class: MemoryClass::Flat,
                    other_class: MemoryClass::Flat,
                },
            ]
        );
    }

    #[test]
    fn heaps_of_different_sizes_are_noted_without_failing() {
        let s = scenario("");
        let mut r = outcome("unix32", [0, 0, 0]);
        let mut o = outcome("board:/dev/ttyUSB0", [0, 0, 0]);
        r.target_info = "MicroPython 1.9.4 unix port, x86 32-bit, heap 131072 bytes".into();
        o.target_info =
            "MicroPython v1.9.4 on 2018-05-11; ESP module with ESP8266, heap 35968 bytes".into();
        let c = compare(&s, &r, &o);
        assert!(c.agree && c.differences.is_empty());
        let noted: Vec<_> = c.notes.iter().map(|d| (d.at.as_str(), d.field)).collect();
        assert_eq!(noted, [("heap", Field::Status)]);
        assert_eq!(c.notes[0].reference, "heap 131072 bytes");
        assert_eq!(c.notes[0].other, "heap 35968 bytes");
        // the ESP8266's heap against a 36K unix heap: close enough, nothing to say
        r.target_info = "MicroPython 1.9.4 unix port, x86 32-bit, heap 36864 bytes".into();
        assert!(compare(&s, &r, &o).notes.is_empty());
        assert_eq!(heap_bytes("no heap here"), None);
    }

    #[test]
    fn memory_class_thresholds() {
        // Largest |d| is 4000, so t = 400 on this outcome.
        let classes = |frees: [i64; 3]| memory_classes(&outcome("x", frees));
        use MemoryClass::*;
        assert_eq!(classes([10_000, 6_000, 6_400]), [Grew, Flat]);
        assert_eq!(classes([10_000, 6_000, 6_401]), [Grew, Shrank]);
        assert_eq!(classes([10_000, 14_000, 13_600]), [Shrank, Flat]);
        assert_eq!(classes([10_000, 14_000, 13_599]), [Shrank, Grew]);
        // Small deltas: the floor of 64 B applies.
        assert_eq!(classes([10_000, 9_936, 10_000]), [Flat, Flat]);
        assert_eq!(classes([10_000, 9_935, 10_000]), [Grew, Shrank]);
        assert_eq!(memory_threshold(&outcome("x", [0, 0, 0])), 64.0);
        assert_eq!(memory_threshold(&outcome("x", [0, 1000, 0])), 100.0);
        assert_eq!(memory_deltas(&outcome("x", [5, 7, 4])), [2, -3]);
    }

    #[test]
    fn a_different_memory_class_is_a_difference_with_bytes() {
        let s = scenario("");
        let r = outcome("unix32", [30_000, 26_000, 30_000]);
        let o = outcome("rust", [30_000, 26_000, 26_100]);
        let c = compare(&s, &r, &o);
        assert!(!c.agree);
        assert_eq!(fields(&c), [("b..c", Field::Memory, false)]);
        assert_eq!(
            c.differences[0].reference,
            "shrank (+4000 B, free 26000 -> 30000, threshold 400 B)"
        );
        assert_eq!(
            c.differences[0].other,
            "flat (+100 B, free 26000 -> 26100, threshold 400 B)"
        );
    }

    #[test]
    fn modules_names_and_evals_are_compared_per_observation() {
        let s = scenario("");
        let r = outcome("unix32", [0, 0, 0]);
        let mut o = r.clone();
        o.target = "rust".into();
        o.observations[1].modules = vec!["m".into()];
        o.observations[1].names.push("m".into());
        o.observations[2].eval.insert("1+1".into(), "2".into());
        let c = compare(&s, &r, &o);
        assert_eq!(
            fields(&c),
            [
                ("b", Field::Modules, false),
                ("b", Field::Names, false),
                ("c", Field::Eval, false)
            ]
        );
        assert_eq!(c.differences[0].reference, "[]");
        assert_eq!(c.differences[0].other, "[m]");
        assert_eq!(c.differences[1].other, "[__name__, m]");
        assert_eq!(c.differences[2].reference, "1+1 not evaluated");
        assert_eq!(c.differences[2].other, "1+1 = 2");
        // A different repr of the same expression.
        let mut r2 = r.clone();
        r2.observations[2].eval.insert("1+1".into(), "3".into());
        let c = compare(&s, &r2, &o);
        let eval: Vec<&Difference> = c
            .differences
            .iter()
            .filter(|d| d.field == Field::Eval)
            .collect();
        assert_eq!(eval.len(), 1);
        assert_eq!(
            (eval[0].reference.as_str(), eval[0].other.as_str()),
            ("1+1 = 3", "1+1 = 2")
        );
    }

    #[test]
    fn names_order_is_a_note_unless_strict() {
        let mut r = outcome("unix32", [0, 0, 0]);
        r.observations[0].names = vec!["__name__".into(), "a".into(), "b".into()];
        let mut o = r.clone();
        o.observations[0].names = vec!["b".into(), "__name__".into(), "a".into()];
        let c = compare(&scenario(""), &r, &o);
        assert!(c.agree);
        assert!(c.differences.is_empty());
        assert_eq!(c.notes.len(), 1);
        assert_eq!(c.notes[0].field, Field::NamesOrder);
        let c = compare(&scenario("strict_order: true\n"), &r, &o);
        assert!(!c.agree);
        assert_eq!(fields(&c), [("a", Field::NamesOrder, false)]);
        assert!(c.notes.is_empty());
        // A duplicated name is not the same namespace.
        o.observations[0].names = vec!["a".into(), "b".into(), "__name__".into(), "a".into()];
        let c = compare(&scenario(""), &r, &o);
        assert_eq!(fields(&c), [("a", Field::Names, false)]);
    }

    #[test]
    fn errors_compare_step_and_type_not_message() {
        let s = scenario("");
        let err = |step, kind: &str, message: &str| StepError {
            step,
            kind: kind.into(),
            message: message.into(),
        };
        let mut r = outcome("unix32", [0, 0, 0]);
        r.errors = vec![err(1, "ImportError", "no module named 'm'")];
        let mut o = r.clone();
        o.errors = vec![err(1, "ImportError", "module not found")];
        assert!(compare(&s, &r, &o).agree);
        o.errors = vec![err(1, "KeyError", "m")];
        let c = compare(&s, &r, &o);
        assert_eq!(fields(&c), [("step 1", Field::Errors, false)]);
        assert_eq!(
            c.differences[0].reference,
            "ImportError: no module named 'm'"
        );
        assert_eq!(c.differences[0].other, "KeyError: m");
        o.errors = vec![err(3, "ImportError", "")];
        let c = compare(&s, &r, &o);
        assert_eq!(
            fields(&c),
            [
                ("step 1", Field::Errors, false),
                ("step 3", Field::Errors, false)
            ]
        );
        assert_eq!(c.differences[1].reference, "no error");
        assert_eq!(c.differences[1].other, "ImportError");
    }

    #[test]
    fn an_error_status_or_missing_observations_is_a_difference() {
        let s = scenario("");
        let r = outcome("unix32", [0, 0, 0]);
        let mut o = r.clone();
        o.observations.truncate(2);
        let c = compare(&s, &r, &o);
        assert_eq!(fields(&c), [("observations", Field::Status, false)]);
        assert_eq!(c.differences[0].reference, "3 observations");
        assert_eq!(c.memory.len(), 1);
        o.status = Status::Error;
        o.detail = Some("unsupported syntax: lambda at t.py:1".into());
        let c = compare(&s, &r, &o);
        assert!(!c.agree);
        assert_eq!(fields(&c), [("status", Field::Status, false)]);
        assert_eq!(c.differences[0].reference, "ok");
        assert_eq!(
            c.differences[0].other,
            "error: unsupported syntax: lambda at t.py:1"
        );
        // Errors past the point the failing side reached are not compared.
        let mut r3 = outcome("unix32", [0, 0, 0]);
        r3.errors = vec![StepError {
            step: 3,
            kind: "KeyError".into(),
            message: String::new(),
        }];
        let mut o3 = outcome("rust", [0, 0, 0]);
        o3.observations.truncate(1);
        o3.status = Status::Error;
        assert_eq!(
            fields(&compare(&s, &r3, &o3)),
            [("status", Field::Status, false)]
        );
        o3.observations = r3.observations.clone();
        o3.observations.truncate(2);
        assert_eq!(
            fields(&compare(&s, &r3, &o3)),
            [("status", Field::Status, false)]
        );
        o3.observations = r3.observations.clone();
        assert_eq!(
            fields(&compare(&s, &r3, &o3)),
            [
                ("status", Field::Status, false),
                ("step 3", Field::Errors, false)
            ]
        );
        // Both failing to run is no agreement either.
        let mut r = r;
        r.status = Status::Error;
        assert!(!compare(&s, &r, &o).agree);
        // A failed expectation is not a comparison matter.
        let mut f = outcome("unix32", [0, 0, 0]);
        f.status = Status::Failed;
        assert!(compare(&s, &outcome("unix32", [0, 0, 0]), &f).agree);
    }

    #[test]
    fn declared_divergences_are_shown_but_do_not_fail() {
        let r = outcome("unix32", [30_000, 26_000, 30_000]);
        let mut o = outcome("rust", [30_000, 26_000, 26_100]);
        o.observations[1].modules = vec!["m".into()];
        let kept = |d: &str| scenario(&format!("divergences:\n{d}"));

        let s = kept(
            "  - {target: rust, field: memory, at: c, reason: slack in the heap}\n  - {target: rust, field: modules, reason: cached}\n",
        );
        let c = compare(&s, &r, &o);
        assert!(c.agree);
        assert_eq!(
            fields(&c),
            [("b", Field::Modules, true), ("b..c", Field::Memory, true)]
        );
        assert_eq!(
            c.differences[1].declared.as_deref(),
            Some("slack in the heap")
        );
        assert_eq!(c.undeclared().count(), 0);
        assert!(unused_divergences(&s, &c).is_empty());
        // A declaration that matches nothing is reported as unused, for these targets only.
        let s = kept(
            "  - {target: rust, field: memory, reason: r}\n  - {target: rust, field: modules, reason: r}\n  - {target: rust, field: eval, reason: stale}\n  - {target: cpython, field: eval, reason: other target}\n",
        );
        let c = compare(&s, &r, &o);
        assert!(c.agree);
        let unused: Vec<&str> = unused_divergences(&s, &c)
            .iter()
            .map(|v| v.reason.as_str())
            .collect();
        assert_eq!(unused, ["stale"]);

        // Wrong label, wrong field or another target: not declared.
        for d in [
            "  - {target: rust, field: memory, at: b, reason: r}\n  - {target: rust, field: modules, reason: r}\n",
            "  - {target: rust, field: names, reason: r}\n  - {target: rust, field: modules, reason: r}\n",
            "  - {target: cpython, field: memory, reason: r}\n  - {target: rust, field: modules, reason: r}\n",
        ] {
            let c = compare(&kept(d), &r, &o);
            assert!(!c.agree, "{d}");
            assert_eq!(c.undeclared().count(), 1, "{d}");
            assert_eq!(c.undeclared().next().unwrap().field, Field::Memory);
        }

        // `board` covers every board port; notes can be declared too.
        let mut b = o.clone();
        b.target = "board:/dev/ttyUSB0".into();
        let c = compare(
            &kept(
                "  - {target: board, field: memory, reason: r}\n  - {target: board, field: modules, at: b, reason: r}\n",
            ),
            &r,
            &b,
        );
        assert!(c.agree);
        b.target = "boards".into();
        let c = compare(
            &kept(
                "  - {target: board, field: memory, reason: r}\n  - {target: board, field: modules, at: b, reason: r}\n",
            ),
            &r,
            &b,
        );
        assert!(!c.agree);
        let mut p = outcome("cpython", [30_000, 26_000, 30_000]);
        p.observations[0].names = vec!["x".into(), "__name__".into()];
        let mut r2 = r.clone();
        r2.observations[0].names = vec!["__name__".into(), "x".into()];
        let c = compare(
            &kept("  - {target: cpython, field: names_order, at: a, reason: dict order}\n"),
            &r2,
            &p,
        );
        assert!(c.agree);
        assert_eq!(c.notes[0].declared.as_deref(), Some("dict order"));
    }
}
