//! Comparing two outcomes of the same scenario (SCENARIOS.md, "Comparing two targets"):
//! observation by observation, modules equal, names equal as sets, evals equal, the same
//! errors, and the same memory class for every consecutive pair of observations. Byte
//! counts are reported side by side, never required to be equal.

use std::collections::BTreeSet;
use std::fmt;

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

    errors(reference, other, &mut c);

    let memory = if aligned {
        memory(reference, other, pairs, &mut c)
    } else {
        Vec::new()
    };

    let mut differences = c.differences;
    let mut notes = c.notes;
    for d in differences.iter_mut().chain(notes.iter_mut()) {
        d.declared = declared(&scenario.divergences, &reference.target, &other.target, d);
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
        if rv != ov {
            let show = |v: Option<&String>| match v {
                Some(v) => format!("{expr} = {v}"),
                None => format!("{expr} not evaluated"),
            };
            c.difference(at, Field::Eval, show(rv), show(ov));
        }
    }
}

/// Recorded errors must have the same step and type; messages may differ.
fn errors(reference: &Outcome, other: &Outcome, c: &mut Collector) {
    let steps: BTreeSet<usize> = reference
        .errors
        .iter()
        .chain(&other.errors)
        .map(|e| e.step)
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

/// The reason of the first divergence that covers this difference, if any. A memory
/// divergence's `at` names the later observation of the pair (or the pair `a..b`).
fn declared(
    divergences: &[Divergence],
    reference: &str,
    other: &str,
    d: &Difference,
) -> Option<String> {
    divergences
        .iter()
        .find(|v| {
            (names_target(&v.target, other) || names_target(&v.target, reference))
                && v.field == d.field
                && match &v.at {
                    None => true,
                    Some(at) => {
                        *at == d.at
                            || (d.field == Field::Memory
                                && d.at.rsplit_once("..").is_some_and(|(_, to)| to == at))
                    }
                }
        })
        .map(|v| v.reason.clone())
}
