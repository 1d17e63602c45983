//! How closely a target follows a reference over many scenarios: the share of agreeing
//! items per compared field, how many memory deltas land within a tolerance of the
//! reference's, and the median relative error of those deltas.

use std::fmt;

use crate::compare::{classify, memory_deltas, memory_threshold};
use crate::normalise::same_repr;
use crate::outcome::{Observation, Outcome, Status};
use crate::scenario::{Scenario, Step};

/// Deltas within this many bytes of the reference's always count as close.
pub const BYTES_ABSOLUTE: i64 = 32;
/// Otherwise, deltas within this fraction of the reference's count as close.
pub const BYTES_RELATIVE: f64 = 0.10;
/// Relative errors are taken only over reference deltas at least this large: smaller
/// ones sit inside the flat class and would make the ratio meaningless.
pub const RELATIVE_FLOOR: i64 = 64;

/// Agreeing items out of compared items.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Items that agree.
    pub agree: usize,
    /// Items compared.
    pub total: usize,
}

impl Tally {
    fn count(&mut self, agree: bool) {
        self.total += 1;
        if agree {
            self.agree += 1;
        }
    }

    /// `agree / total`, or `None` when nothing was compared.
    pub fn share(&self) -> Option<f64> {
        (self.total > 0).then(|| self.agree as f64 / self.total as f64)
    }
}

impl fmt::Display for Tally {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.share() {
            Some(s) => write!(f, "{}/{} ({:.1}%)", self.agree, self.total, 100.0 * s),
            None => write!(f, "-"),
        }
    }
}

/// Agreement of one target with a reference, accumulated over scenarios.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Fidelity {
    /// Scenarios added.
    pub scenarios: usize,
    /// Scenarios skipped because one side could not run (status `error`).
    pub skipped: usize,
    /// `sys.modules` equal, per reference observation.
    pub modules: Tally,
    /// Namespace names equal as sets, per reference observation.
    pub names: Tally,
    /// Namespace names in the same order, per reference observation.
    pub names_order: Tally,
    /// Eval reprs equal, per expression of each reference observation.
    pub evals: Tally,
    /// Same exception type (or none on both), per run step.
    pub errors: Tally,
    /// Same memory class, per consecutive pair of reference observations.
    pub memory_class: Tally,
    /// Delta within max(32 B, 10%) of the reference delta, per consecutive pair.
    pub bytes_close: Tally,
    /// `|other - reference| / |reference|` for each pair whose reference delta is at
    /// least [`RELATIVE_FLOOR`] bytes.
    pub relative_errors: Vec<f64>,
}

impl Fidelity {
    /// Adds one scenario's pair of outcomes. An outcome with status `error` is counted
    /// as skipped, since it says nothing about the fields.
    pub fn add(&mut self, scenario: &Scenario, reference: &Outcome, other: &Outcome) {
        self.scenarios += 1;
        if reference.status == Status::Error || other.status == Status::Error {
            self.skipped += 1;
            return;
        }
        let find = |label: &str| other.observations.iter().find(|o| o.label == label);
        for r in &reference.observations {
            let o = find(&r.label);
            self.modules
                .count(o.is_some_and(|o| o.modules == r.modules));
            self.names
                .count(o.is_some_and(|o| same_set(&o.names, &r.names)));
            self.names_order
                .count(o.is_some_and(|o| o.names == r.names));
            for (expr, repr) in &r.eval {
                self.evals.count(
                    o.and_then(|o| o.eval.get(expr))
                        .is_some_and(|v| same_repr(v, repr)),
                );
            }
        }
        for (i, step) in scenario.steps.iter().enumerate() {
            if let Step::Run { .. } = step {
                let kind = |out: &Outcome| {
                    out.errors
                        .iter()
                        .find(|e| e.step == i)
                        .map(|e| e.kind.clone())
                };
                self.errors.count(kind(reference) == kind(other));
            }
        }
        self.memory(reference, other);
    }

    fn memory(&mut self, reference: &Outcome, other: &Outcome) {
        let (rt, ot) = (memory_threshold(reference), memory_threshold(other));
        let other_delta = |a: &Observation, b: &Observation| -> Option<i64> {
            let find = |label: &str| other.observations.iter().find(|o| o.label == label);
            Some(find(&b.label)?.free - find(&a.label)?.free)
        };
        for (w, rd) in reference
            .observations
            .windows(2)
            .zip(memory_deltas(reference))
        {
            let od = other_delta(&w[0], &w[1]);
            self.memory_class
                .count(od.is_some_and(|od| classify(od, ot) == classify(rd, rt)));
            self.bytes_close.count(od.is_some_and(|od| close(rd, od)));
            if let Some(od) = od
                && rd.abs() >= RELATIVE_FLOOR
            {
                self.relative_errors
                    .push((od - rd).abs() as f64 / rd.abs() as f64);
            }
        }
    }

    /// The median of [`Fidelity::relative_errors`], or `None` when there is none.
    pub fn median_relative_error(&self) -> Option<f64> {
        median(&self.relative_errors)
    }

    /// `(field name, tally)` for each field, in report order.
    pub fn tallies(&self) -> [(&'static str, Tally); 7] {
        [
            ("modules", self.modules),
            ("names", self.names),
            ("names order", self.names_order),
            ("evals", self.evals),
            ("errors", self.errors),
            ("memory class", self.memory_class),
            ("bytes close", self.bytes_close),
        ]
    }
}

/// Whether `other` is within max(32 B, 10% of |reference|) of `reference`.
pub fn close(reference: i64, other: i64) -> bool {
    let diff = (other - reference).unsigned_abs() as f64;
    diff <= f64::max(
        BYTES_ABSOLUTE as f64,
        BYTES_RELATIVE * reference.unsigned_abs() as f64,
    )
}

fn same_set(a: &[String], b: &[String]) -> bool {
    let mut a: Vec<&String> = a.iter().collect();
    let mut b: Vec<&String> = b.iter().collect();
    a.sort();
    b.sort();
    a == b
}

fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

impl fmt::Display for Fidelity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "scenarios     {} ({} skipped: a side could not run)",
            self.scenarios, self.skipped
        )?;
        for (name, tally) in self.tallies() {
            writeln!(f, "{name:<13} {tally}")?;
        }
        match self.median_relative_error() {
            Some(m) => writeln!(
                f,
                "median relative error of byte deltas {:.1}% (over {} deltas >= {RELATIVE_FLOOR} B)",
                100.0 * m,
                self.relative_errors.len()
            ),
            None => writeln!(f, "median relative error of byte deltas -"),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use indexmap::IndexMap;

    use super::*;
    use crate::outcome::StepError;
    use crate::scenario::load_str;

    fn scenario() -> Scenario {
        load_str(
            "about: x\ntree: {}\nsteps:\n  - observe: a\n  - run: import m\n  - observe: b\n  - run: del m\n  - observe: c\n",
            Path::new("t.yaml"),
            "t",
        )
        .unwrap()
    }

    fn outcome(frees: [i64; 3]) -> Outcome {
        let obs = |label: &str, free| Observation {
            label: label.into(),
            free,
            alloc: 0,
            modules: vec!["m".into()],
            names: vec!["__name__".into(), "m".into()],
            eval: IndexMap::from([("1".to_string(), "1".to_string())]),
        };
        Outcome {
            scenario: "t".into(),
            target: "x".into(),
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

    #[test]
    fn bytes_are_close_within_32_bytes_or_ten_percent() {
        assert!(close(0, 32) && close(0, -32) && !close(0, 33));
        assert!(close(-1000, -1100) && close(-1000, -900) && !close(-1000, -1101));
        assert!(close(100, 132) && !close(100, 133));
        assert!(close(4000, 4400) && !close(4000, 4401));
    }

    #[test]
    fn identical_outcomes_score_everything() {
        let mut f = Fidelity::default();
        let r = outcome([30_000, 26_000, 30_000]);
        f.add(&scenario(), &r, &r);
        for (name, t) in f.tallies() {
            assert_eq!(t.share(), Some(1.0), "{name}");
        }
        assert_eq!(f.modules.total, 3);
        assert_eq!(f.evals.total, 3);
        assert_eq!(f.errors.total, 2);
        assert_eq!(f.memory_class.total, 2);
        assert_eq!(f.median_relative_error(), Some(0.0));
    }

    #[test]
    fn each_field_is_counted_on_its_own() {
        let s = scenario();
        let r = outcome([30_000, 26_000, 30_000]);
        // Deltas -3500 (within 10%? no: 500 > 400) and +3980 (20 off: close).
        let mut o = outcome([30_000, 26_500, 30_480]);
        o.observations[1].modules.clear();
        o.observations[2].names.reverse();
        o.observations[0].eval["1"] = "2".into();
        o.errors.push(StepError {
            step: 3,
            kind: "KeyError".into(),
            message: String::new(),
        });
        let mut f = Fidelity::default();
        f.add(&s, &r, &o);
        assert_eq!(f.modules, Tally { agree: 2, total: 3 });
        assert_eq!(f.names, Tally { agree: 3, total: 3 });
        assert_eq!(f.names_order, Tally { agree: 2, total: 3 });
        assert_eq!(f.evals, Tally { agree: 2, total: 3 });
        assert_eq!(f.errors, Tally { agree: 1, total: 2 });
        assert_eq!(f.memory_class, Tally { agree: 2, total: 2 });
        assert_eq!(f.bytes_close, Tally { agree: 1, total: 2 });
        // Relative errors 500/4000 and 20/4000: median of two is their mean.
        let m = f.median_relative_error().unwrap();
        assert!((m - (0.125 + 0.005) / 2.0).abs() < 1e-12, "{m}");
    }

    #[test]
    fn tallies_accumulate_over_scenarios_and_skip_errors() {
        let s = scenario();
        let r = outcome([30_000, 26_000, 30_000]);
        let mut f = Fidelity::default();
        f.add(&s, &r, &r);
        let mut broken = r.clone();
        broken.status = Status::Error;
        f.add(&s, &r, &broken);
        // A missing observation counts against every field.
        let mut short = r.clone();
        short.observations.truncate(2);
        f.add(&s, &r, &short);
        assert_eq!((f.scenarios, f.skipped), (3, 1));
        assert_eq!(f.modules, Tally { agree: 5, total: 6 });
        assert_eq!(f.memory_class, Tally { agree: 3, total: 4 });
        assert_eq!(f.relative_errors.len(), 3);
        // Small reference deltas are left out of the relative error.
        let mut g = Fidelity::default();
        g.add(&s, &outcome([100, 90, 100]), &outcome([100, 50, 100]));
        assert!(g.relative_errors.is_empty());
        assert_eq!(g.median_relative_error(), None);
        assert_eq!(g.bytes_close, Tally { agree: 0, total: 2 });
        assert_eq!(g.memory_class, Tally { agree: 2, total: 2 });
    }

    #[test]
    fn display_lists_every_field() {
        let mut f = Fidelity::default();
        assert!(f.to_string().contains("modules       -"));
        let r = outcome([30_000, 26_000, 30_000]);
        f.add(&scenario(), &r, &r);
        let text = f.to_string();
        for line in [
            "modules       3/3 (100.0%)",
            "memory class  2/2 (100.0%)",
            "bytes close   2/2 (100.0%)",
            "median relative error of byte deltas 0.0% (over 2 deltas >= 64 B)",
        ] {
            assert!(text.contains(line), "{text}");
        }
    }

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&[]), None);
    }
}
