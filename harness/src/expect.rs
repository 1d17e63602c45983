//! Turns what a target observed ([`Execution`]) into an [`Outcome`]: checks every claim of
//! the scenario (each step's `raises` and the `expect` block), sorts exceptions into
//! declared ones and errors, and sets the status (SCENARIOS.md, "What a run produces").

use crate::outcome::{ExpectationResult, Observation, Outcome, Status, StepError};
use crate::scenario::{Expectation, Membership, Reclaims, Scenario, Share, Step};
use crate::targets::Execution;

/// The target name whose `expect` checks are opt-in (`cpython_expect: true`): the claims
/// describe MicroPython, which CPython is not expected to match.
pub const CPYTHON: &str = "cpython";

/// Builds the outcome of `scenario` on `target` from what the target observed.
pub fn finish(scenario: &Scenario, target: &str, execution: Execution) -> Outcome {
    let Execution {
        target_info,
        baseline_modules,
        observations,
        exceptions,
        failure,
        transfer,
    } = execution;

    let mut expectations = Vec::new();
    let mut errors = Vec::new();
    raises(scenario, &exceptions, &mut expectations, &mut errors);
    if target != CPYTHON || scenario.cpython_expect {
        for exp in &scenario.expect {
            claims(exp, &observations, &mut expectations);
        }
    }

    let (status, detail) = match failure {
        Some(why) => (Status::Error, Some(why)),
        None if expectations.iter().any(|e| !e.ok) => (Status::Failed, None),
        None => (Status::Ok, None),
    };
    Outcome {
        scenario: scenario.name.clone(),
        target: target.to_string(),
        target_info,
        baseline_modules,
        observations,
        errors,
        expectations,
        status,
        detail,
        transfer,
    }
}

/// One `raises` result per run step that declares one; every exception that its step did
/// not declare (or declared with another type) goes to `errors`.
fn raises(
    scenario: &Scenario,
    exceptions: &[StepError],
    expectations: &mut Vec<ExpectationResult>,
    errors: &mut Vec<StepError>,
) {
    for (i, step) in scenario.steps.iter().enumerate() {
        let Step::Run {
            raises: Some(want), ..
        } = step
        else {
            continue;
        };
        let raised = exceptions.iter().find(|e| e.step == i);
        let (ok, detail) = match raised {
            Some(e) if &e.kind == want => (true, format!("raised {want}")),
            Some(e) => (
                false,
                format!("expected {want}, raised {}: {}", e.kind, e.message),
            ),
            None => (false, format!("expected {want}, nothing was raised")),
        };
        expectations.push(ExpectationResult {
            at: format!("step {i}"),
            check: "raises".to_string(),
            ok,
            detail,
        });
    }
    for e in exceptions {
        let declared = matches!(
            scenario.steps.get(e.step),
            Some(Step::Run { raises: Some(want), .. }) if *want == e.kind
        );
        if !declared {
            errors.push(e.clone());
        }
    }
}

/// The results of the claims made at one label.
fn claims(exp: &Expectation, observations: &[Observation], out: &mut Vec<ExpectationResult>) {
    let at = exp.at.as_str();
    let obs = find(observations, at);
    let mut push = |check: &str, ok: bool, detail: String| {
        out.push(ExpectationResult {
            at: at.to_string(),
            check: check.to_string(),
            ok,
            detail,
        });
    };
    let unreached = |label: &str| format!("observation `{label}` was not reached");

    if let Some(m) = &exp.modules {
        match obs {
            Some(o) => {
                let (ok, detail) = membership(m, &o.modules, "module");
                push("modules", ok, detail);
            }
            None => push("modules", false, unreached(at)),
        }
    }
    if let Some(m) = &exp.names {
        match obs {
            Some(o) => {
                let (ok, detail) = membership(m, &o.names, "name");
                push("names", ok, detail);
            }
            None => push("names", false, unreached(at)),
        }
    }
    for (expr, want) in &exp.eval {
        let (ok, detail) = match obs.map(|o| o.eval.get(expr)) {
            None => (false, unreached(at)),
            Some(None) => (false, format!("{expr}: not evaluated")),
            Some(Some(got)) if got == want => (true, format!("{expr} == {got}")),
            Some(Some(got)) => (false, format!("{expr}: expected {want}, got {got}")),
        };
        push("eval", ok, detail);
    }
    if let Some(r) = &exp.reclaims {
        let (ok, detail) = reclaims(r, at, observations);
        push("reclaims", ok, detail);
    }
}

fn find<'a>(observations: &'a [Observation], label: &str) -> Option<&'a Observation> {
    observations.iter().find(|o| o.label == label)
}

/// Checks `has`/`lacks` against what was seen; the detail lists what is wrong, or what
/// held when nothing is.
fn membership(m: &Membership, seen: &[String], what: &str) -> (bool, String) {
    let missing: Vec<&str> = m
        .has
        .iter()
        .filter(|x| !seen.contains(x))
        .map(String::as_str)
        .collect();
    let present: Vec<&str> = m
        .lacks
        .iter()
        .filter(|x| seen.contains(x))
        .map(String::as_str)
        .collect();
    if missing.is_empty() && present.is_empty() {
        let mut parts = Vec::new();
        if !m.has.is_empty() {
            parts.push(format!("has {}", m.has.join(", ")));
        }
        if !m.lacks.is_empty() {
            parts.push(format!("lacks {}", m.lacks.join(", ")));
        }
        if parts.is_empty() {
            parts.push("nothing claimed".to_string());
        }
        return (true, parts.join("; "));
    }
    let mut parts = Vec::new();
    if !missing.is_empty() {
        parts.push(format!("{what} missing: {}", missing.join(", ")));
    }
    if !present.is_empty() {
        parts.push(format!("{what} present: {}", present.join(", ")));
    }
    (false, parts.join("; "))
}

/// `cost = free(a) - free(b)`, `back = free(this) - free(b)`, share = back / cost.
fn reclaims(r: &Reclaims, at: &str, observations: &[Observation]) -> (bool, String) {
    let (Some(a), Some(b), Some(this)) = (
        find(observations, &r.before),
        find(observations, &r.after),
        find(observations, at),
    ) else {
        let missing: Vec<&str> = [r.before.as_str(), r.after.as_str(), at]
            .into_iter()
            .filter(|l| find(observations, l).is_none())
            .collect();
        return (
            false,
            format!("observation `{}` was not reached", missing.join("`, `")),
        );
    };
    let cost = a.free - b.free;
    if cost <= 0 {
        return (false, format!("load cost {cost} <= 0: scenario error"));
    }
    let back = this.free - b.free;
    let share = back as f64 / cost as f64;
    let class = Share::of(share);
    let mut detail = format!("share {share:.2} ({})", class.as_str());
    let ok = class == r.is;
    if !ok {
        detail.push_str(&format!(
            ", expected {} (load {cost} B, back {back} B)",
            r.is.as_str()
        ));
    }
    (ok, detail)
}
