//! Turns what a target observed ([`Execution`]) into an [`Outcome`]: checks every claim of
//! the scenario (each step's `raises` and the `expect` block), sorts exceptions into
//! declared ones and errors, and sets the status (SCENARIOS.md, "What a run produces").

use crate::normalise::mask_addresses;
use crate::outcome::{ExpectationResult, Observation, Outcome, Status, StepError};
use crate::scenario::{Expectation, Field, Membership, Reclaims, Scenario, Share, Step};
use crate::targets::Execution;

/// The target name whose claims are opt-in (`cpython_expect: true`): the `expect` block and
/// each step's `raises` describe MicroPython, which CPython is not expected to match. Without
/// the opt-in, CPython's differences show in the comparison with the reference instead.
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
    let claimed = target != CPYTHON || scenario.cpython_expect;
    raises(scenario, &exceptions, &mut expectations, &mut errors);
    if !claimed {
        expectations.clear();
    }
    if claimed {
        for exp in &scenario.expect {
            claims(exp, &observations, &mut expectations);
        }
    }

    for e in expectations.iter_mut().filter(|e| !e.ok) {
        e.declared = declared_reason(scenario, target, e);
    }

    let (status, detail) = match failure {
        Some(why) => (Status::Error, Some(why)),
        None if expectations.iter().any(|e| !e.ok && e.declared.is_none()) => {
            (Status::Failed, None)
        }
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

/// The reason of a divergence the scenario declares for `target` that covers a failed
/// claim: the same field (`reclaims` is memory, `raises` is errors) at the same place (an
/// observation label, a memory pair ending there, `step N`), or anywhere.
fn declared_reason(scenario: &Scenario, target: &str, e: &ExpectationResult) -> Option<String> {
    let field = match e.check.as_str() {
        "modules" => Field::Modules,
        "names" => Field::Names,
        "eval" => Field::Eval,
        "reclaims" => Field::Memory,
        "raises" => Field::Errors,
        _ => return None,
    };
    scenario
        .divergences
        .iter()
        .find(|d| {
            d.target == target
                && d.field == field
                && d.at.as_deref().is_none_or(|at| {
                    at == e.at || at.rsplit_once("..").is_some_and(|(_, end)| end == e.at)
                })
        })
        .map(|d| d.reason.clone())
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
            declared: None,
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
            declared: None,
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
            Some(Some(got)) if got == want || mask_addresses(got) == *want => {
                (true, format!("{expr} == {got}"))
            }
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
        let detail = match missing.as_slice() {
            [one] => format!("observation `{one}` was not reached"),
            many => format!("observations `{}` were not reached", many.join("`, `")),
        };
        return (false, detail);
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

#[cfg(test)]
mod tests {
    use std::path::Path;

    use indexmap::IndexMap;

    use super::*;
    use crate::scenario::load_str;
    use crate::scenario::tests::EXAMPLE;

    fn scenario(text: &str) -> Scenario {
        load_str(text, Path::new("t.yaml"), "t").unwrap()
    }

    fn obs(label: &str, free: i64, modules: &[&str], names: &[&str]) -> Observation {
        Observation {
            label: label.into(),
            free,
            alloc: 36864 - free,
            modules: modules.iter().map(|s| s.to_string()).collect(),
            names: names.iter().map(|s| s.to_string()).collect(),
            eval: IndexMap::new(),
        }
    }

    fn raised(step: usize, kind: &str) -> StepError {
        StepError {
            step,
            kind: kind.into(),
            message: format!("{kind} message"),
        }
    }

    /// What MicroPython 1.9.4 does on the example: nothing comes back.
    fn example_execution() -> Execution {
        let mut deleted = obs(
            "deleted",
            30_100,
            &[
                "rootpackage",
                "rootpackage.package",
                "rootpackage.package.subpackage",
            ],
            &["__name__", "sys", "rootpackage"],
        );
        deleted.eval.insert(
            "'module' in dir(rootpackage.package.subpackage)".into(),
            "True".into(),
        );
        let mut imported = obs("imported", 30_000, &[], &["__name__", "sys", "module"]);
        imported
            .eval
            .insert("hasattr(module, 'payload')".into(), "True".into());
        Execution {
            target_info: "MicroPython 1.9.4 unix port, x86 32-bit, heap 36864 bytes".into(),
            baseline_modules: vec![],
            observations: vec![obs("before", 34_464, &[], &["__name__"]), imported, deleted],
            exceptions: vec![raised(6, "ImportError")],
            failure: None,
            transfer: None,
        }
    }

    fn checks(o: &Outcome) -> Vec<(&str, &str, bool)> {
        o.expectations
            .iter()
            .map(|e| (e.at.as_str(), e.check.as_str(), e.ok))
            .collect()
    }

    #[test]
    fn the_example_holds_on_a_faithful_execution() {
        let s = scenario(EXAMPLE);
        let o = finish(&s, "unix32", example_execution());
        assert_eq!(o.scenario, "t");
        assert_eq!(o.target, "unix32");
        assert_eq!(
            o.target_info,
            "MicroPython 1.9.4 unix port, x86 32-bit, heap 36864 bytes"
        );
        assert_eq!(o.status, Status::Ok, "{:?}", o.expectations);
        assert_eq!(o.detail, None);
        // The declared ImportError is not an error.
        assert!(o.errors.is_empty());
        assert_eq!(
            checks(&o),
            [
                ("step 6", "raises", true),
                ("deleted", "modules", true),
                ("deleted", "names", true),
                ("deleted", "eval", true),
                ("deleted", "reclaims", true),
            ]
        );
        // back = 30100 - 30000 = 100 of cost 4464.
        assert_eq!(o.expectations[4].detail, "share 0.02 (none)");
        assert_eq!(o.expectations[0].detail, "raised ImportError");
        assert_eq!(
            o.expectations[1].detail,
            "has rootpackage.package.subpackage; lacks rootpackage.package.subpackage.module"
        );
        assert_eq!(o.observations.len(), 3);
    }

    #[test]
    fn a_different_exception_type_is_an_error_and_a_failed_claim() {
        let s = scenario(EXAMPLE);
        let mut ex = example_execution();
        ex.exceptions = vec![raised(6, "KeyError")];
        let o = finish(&s, "rust", ex);
        assert_eq!(o.status, Status::Failed);
        assert_eq!(o.errors, [raised(6, "KeyError")]);
        assert!(!o.expectations[0].ok);
        assert_eq!(
            o.expectations[0].detail,
            "expected ImportError, raised KeyError: KeyError message"
        );
    }

    #[test]
    fn a_declared_raise_that_does_not_happen_fails() {
        let s = scenario(EXAMPLE);
        let mut ex = example_execution();
        ex.exceptions.clear();
        let o = finish(&s, "rust", ex);
        assert_eq!(o.status, Status::Failed);
        assert!(o.errors.is_empty());
        assert_eq!(
            o.expectations[0].detail,
            "expected ImportError, nothing was raised"
        );
    }

    #[test]
    fn undeclared_exceptions_are_recorded_as_errors_without_failing() {
        let s = scenario(EXAMPLE);
        let mut ex = example_execution();
        ex.exceptions.insert(0, raised(1, "NameError"));
        let o = finish(&s, "rust", ex);
        assert_eq!(o.errors, [raised(1, "NameError")]);
        assert_eq!(o.status, Status::Ok);
    }

    #[test]
    fn membership_and_eval_failures_say_what_was_found() {
        let s = scenario(EXAMPLE);
        let mut ex = example_execution();
        let deleted = &mut ex.observations[2];
        deleted.modules = vec!["rootpackage.package.subpackage.module".into()];
        deleted.names.push("module".into());
        deleted.eval[0] = "False".into();
        let o = finish(&s, "rust", ex);
        assert_eq!(o.status, Status::Failed);
        let detail = |check: &str| {
            o.expectations
                .iter()
                .find(|e| e.check == check)
                .map(|e| (e.ok, e.detail.as_str()))
                .unwrap()
        };
        assert_eq!(
            detail("modules"),
            (
                false,
                "module missing: rootpackage.package.subpackage; module present: rootpackage.package.subpackage.module"
            )
        );
        assert_eq!(detail("names"), (false, "name present: module"));
        assert_eq!(
            detail("eval"),
            (
                false,
                "'module' in dir(rootpackage.package.subpackage): expected True, got False"
            )
        );
    }

    #[test]
    fn an_expected_repr_may_mask_the_address() {
        let s = scenario(
            "about: t\ntree: {}\nsteps:\n  - observe: a\n    eval: [f, g]\nexpect:\n  a:\n    eval:\n      f: <function f at 0x[ADDR]>\n      g: <function f at 0x[ADDR]>\n",
        );
        let mut a = obs("a", 30_000, &[], &["__name__"]);
        a.eval
            .insert("f".into(), "<function f at 0x3ffe0300>".into());
        a.eval
            .insert("g".into(), "<function g at 0x3ffe0300>".into());
        let ex = Execution {
            observations: vec![a],
            ..Execution::default()
        };
        let o = finish(&s, "rust", ex);
        let evals: Vec<bool> = o
            .expectations
            .iter()
            .filter(|e| e.check == "eval")
            .map(|e| e.ok)
            .collect();
        assert_eq!(evals, [true, false]);
    }

    #[test]
    fn an_eval_that_was_not_recorded_fails() {
        let s = scenario(EXAMPLE);
        let mut ex = example_execution();
        ex.observations[2].eval.clear();
        let o = finish(&s, "rust", ex);
        let e = o.expectations.iter().find(|e| e.check == "eval").unwrap();
        assert!(!e.ok);
        assert!(e.detail.ends_with("not evaluated"), "{}", e.detail);
    }

    /// A scenario claiming `is` at `c` for the load [a, b], run with the given frees.
    fn reclaim(is: &str, free: [i64; 3]) -> ExpectationResult {
        let s = scenario(&format!(
            "about: x\ntree: {{}}\nsteps:\n  - observe: a\n  - observe: b\n  - observe: c\n\
             expect:\n  c:\n    reclaims:\n      load: [a, b]\n      is: {is}\n"
        ));
        let ex = Execution {
            observations: vec![
                obs("a", free[0], &[], &[]),
                obs("b", free[1], &[], &[]),
                obs("c", free[2], &[], &[]),
            ],
            ..Execution::default()
        };
        let o = finish(&s, "unix", ex);
        assert_eq!(o.expectations.len(), 1);
        assert_eq!(o.status == Status::Ok, o.expectations[0].ok);
        o.expectations[0].clone()
    }

    #[test]
    fn reclaims_classes_have_their_boundaries_at_0_10_and_0_60() {
        // cost 1000 everywhere: a = 11000, b = 10000.
        let at = |back: i64, is: &str| reclaim(is, [11_000, 10_000, 10_000 + back]);
        assert!(at(99, "none").ok);
        assert!(!at(99, "partial").ok);
        assert!(at(100, "partial").ok);
        assert!(!at(100, "none").ok);
        assert_eq!(at(100, "partial").detail, "share 0.10 (partial)");
        assert!(at(599, "partial").ok);
        assert!(!at(599, "most").ok);
        assert!(at(600, "most").ok);
        assert!(!at(600, "partial").ok);
        assert!(at(1500, "most").ok);
        assert!(at(-300, "none").ok);
        assert_eq!(at(0, "none").detail, "share 0.00 (none)");
        assert_eq!(
            at(700, "none").detail,
            "share 0.70 (most), expected none (load 1000 B, back 700 B)"
        );
    }

    #[test]
    fn a_load_that_costs_nothing_is_a_scenario_error() {
        let r = reclaim("none", [10_000, 10_000, 10_000]);
        assert!(!r.ok);
        assert_eq!(r.detail, "load cost 0 <= 0: scenario error");
        let r = reclaim("most", [10_000, 10_200, 10_200]);
        assert!(!r.ok);
        assert_eq!(r.detail, "load cost -200 <= 0: scenario error");
    }

    #[test]
    fn claims_at_an_observation_never_reached_fail() {
        let s = scenario(EXAMPLE);
        let mut ex = example_execution();
        ex.observations.truncate(1);
        ex.exceptions.clear();
        ex.failure = Some("time-out after 30 s at step 2".into());
        let o = finish(&s, "board:/dev/ttyUSB0", ex);
        assert_eq!(o.status, Status::Error);
        assert_eq!(o.detail.as_deref(), Some("time-out after 30 s at step 2"));
        let claims: Vec<&ExpectationResult> = o
            .expectations
            .iter()
            .filter(|e| e.at == "deleted")
            .collect();
        assert_eq!(claims.len(), 4);
        for c in claims {
            assert!(!c.ok);
            assert!(
                c.detail.contains("`deleted`") && c.detail.contains("not reached"),
                "{}",
                c.detail
            );
        }
        // reclaims names every missing label.
        let s = scenario(EXAMPLE);
        let mut ex = example_execution();
        ex.observations.truncate(1);
        let o = finish(&s, "unix", ex);
        let r = o
            .expectations
            .iter()
            .find(|e| e.check == "reclaims")
            .unwrap();
        assert_eq!(
            r.detail,
            "observations `imported`, `deleted` were not reached"
        );
    }

    #[test]
    fn cpython_checks_expect_only_when_asked() {
        let mut ex = example_execution();
        ex.observations[2].names.push("module".into());
        let s = scenario(EXAMPLE);
        let o = finish(&s, CPYTHON, ex.clone());
        // No claim is checked, and the declared exception is still not an error.
        assert!(o.expectations.is_empty());
        assert!(o.errors.is_empty());
        assert_eq!(o.status, Status::Ok);
        let s = scenario(&format!("cpython_expect: true\n{EXAMPLE}"));
        let o = finish(&s, CPYTHON, ex.clone());
        assert_eq!(o.expectations.len(), 5);
        assert_eq!(o.status, Status::Failed);
        // Other targets always check it.
        let s = scenario(EXAMPLE);
        assert_eq!(finish(&s, "rust", ex).status, Status::Failed);
    }

    #[test]
    fn a_declared_divergence_covers_a_failed_claim_on_its_target_only() {
        let mut ex = example_execution();
        ex.observations[2].names.push("module".into());
        let text = format!(
            "{EXAMPLE}divergences:\n  - target: rust\n    field: names\n    at: deleted\n    reason: kept on purpose\n"
        );
        let s = scenario(&text);
        let o = finish(&s, "rust", ex.clone());
        let names = o.expectations.iter().find(|e| e.check == "names").unwrap();
        assert!(!names.ok);
        assert_eq!(names.declared.as_deref(), Some("kept on purpose"));
        assert_eq!(o.status, Status::Ok);
        let o = finish(&s, "unix32", ex);
        assert_eq!(o.status, Status::Failed);
        assert!(o.expectations.iter().all(|e| e.declared.is_none()));
    }
}
