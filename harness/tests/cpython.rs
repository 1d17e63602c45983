//! The `cpython` target on real CPython: the seed case, time-outs, isolation between
//! scenarios, repeatability, and every scenario under `scenarios/` running without a
//! harness error.

use std::path::{Path, PathBuf};
use std::time::Duration;

use mpdiff::compare::memory_classes;
use mpdiff::expect::finish;
use mpdiff::scenario::{Scenario, discover, load_file, load_str};
use mpdiff::targets::cpython::CpythonTarget;
use mpdiff::targets::{Execution, RunOptions, Target};

fn scenario(name: &str, yaml: &str) -> Scenario {
    load_str(yaml, Path::new(name), name).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn run(s: &Scenario) -> Execution {
    let target = CpythonTarget::new();
    target.prepare().expect("cpython prepares");
    target.execute(s, &RunOptions::default())
}

fn obs<'a>(ex: &'a Execution, label: &str) -> &'a mpdiff::outcome::Observation {
    ex.observations
        .iter()
        .find(|o| o.label == label)
        .unwrap_or_else(|| panic!("no observation {label} in {ex:#?}"))
}

const SEED: &str = r#"
about: from-import a deep submodule, delete the name and the entry; then the parent attribute.
tree:
  rootpackage/__init__.py: ""
  rootpackage/package/__init__.py: ""
  rootpackage/package/subpackage/__init__.py: ""
  rootpackage/package/subpackage/module.py: |
    payload = bytearray(30000)
steps:
  - observe: before
  - run: import sys
  - run: from rootpackage.package.subpackage import module
  - observe: imported
    eval: ["hasattr(module, 'payload')", "module"]
  - run: |
      del module
      del sys.modules["rootpackage.package.subpackage.module"]
  - observe: deleted
    eval: ["'module' in dir(sys.modules['rootpackage.package.subpackage'])"]
  - run: |
      import rootpackage
      del rootpackage.package.subpackage.module
  - observe: attribute-deleted
  - run: import nothere
"#;

#[test]
fn seed_case_modules_names_and_memory() {
    let s = scenario("seed", SEED);
    let ex = run(&s);
    assert_eq!(ex.failure, None, "{ex:#?}");
    assert!(
        ex.target_info.starts_with("CPython 3."),
        "{}",
        ex.target_info
    );

    let before = obs(&ex, "before");
    assert!(before.modules.is_empty(), "{before:?}");
    assert_eq!(before.names, ["__name__"]);

    let imported = obs(&ex, "imported");
    assert_eq!(
        imported.modules,
        [
            "rootpackage",
            "rootpackage.package",
            "rootpackage.package.subpackage",
            "rootpackage.package.subpackage.module"
        ]
    );
    // `__builtins__`, which exec() adds, is normalised away.
    assert_eq!(imported.names, ["__name__", "sys", "module"]);
    assert_eq!(imported.eval["hasattr(module, 'payload')"], "True");
    // The tree's temporary folder is normalised to a relative path.
    assert_eq!(
        imported.eval["module"],
        "<module 'rootpackage.package.subpackage.module' from \
         'rootpackage/package/subpackage/module.py'>"
    );

    let deleted = obs(&ex, "deleted");
    assert_eq!(
        deleted.modules,
        [
            "rootpackage",
            "rootpackage.package",
            "rootpackage.package.subpackage"
        ]
    );
    assert_eq!(deleted.names, ["__name__", "sys"]);
    assert_eq!(
        deleted.eval["'module' in dir(sys.modules['rootpackage.package.subpackage'])"],
        "True"
    );

    // Memory: the payload is a load; the parent attribute keeps it, deleting that
    // attribute gives it back. free + alloc is the nominal heap.
    let attr = obs(&ex, "attribute-deleted");
    let load = before.free - imported.free;
    assert!(load >= 30000, "load {load}");
    assert!(
        (deleted.free - imported.free).abs() < load / 10,
        "{deleted:?}"
    );
    assert!(attr.free - imported.free > load * 6 / 10, "{attr:?}");
    assert!((before.free + before.alloc - s.heap as i64).abs() < 256);

    // ModuleNotFoundError is recorded as ImportError, like MicroPython's.
    assert_eq!(ex.exceptions.len(), 1, "{:?}", ex.exceptions);
    assert_eq!(ex.exceptions[0].step, 8);
    assert_eq!(ex.exceptions[0].kind, "ImportError");
}

#[test]
fn a_module_that_loops_forever_times_out_and_the_next_scenario_runs() {
    let s = scenario(
        "loop",
        r#"
about: a module whose body never ends, even when interrupted once.
tree:
  spin.py: |
    for i in range(2):
        try:
            while True:
                pass
        except KeyboardInterrupt:
            pass
    while True:
        pass
steps:
  - observe: before
  - run: import spin
  - observe: never
"#,
    );
    let target = CpythonTarget::new();
    target.prepare().unwrap();
    let options = RunOptions {
        timeout: Duration::from_millis(500),
    };
    let ex = target.execute(&s, &options);
    let failure = ex.failure.as_deref().unwrap_or("");
    assert!(failure.contains("timed out"), "{ex:#?}");
    assert_eq!(ex.observations.len(), 1, "{ex:#?}");
    assert_eq!(ex.observations[0].label, "before");

    let after = scenario(
        "after-loop",
        r#"
about: runs after a timed-out scenario.
tree: {}
steps:
  - run: import sys
  - observe: end
    eval: ["'spin' in sys.modules"]
"#,
    );
    let ex = target.execute(&after, &RunOptions::default());
    assert_eq!(ex.failure, None, "{ex:#?}");
    assert!(ex.observations[0].modules.is_empty(), "{ex:#?}");
    assert_eq!(ex.observations[0].eval["'spin' in sys.modules"], "False");
}

/// What must not change between two runs of any scenario: everything but the byte
/// counts, and the memory classes comparisons are made of.
fn stable_part(s: &Scenario, ex: &Execution) -> impl PartialEq + std::fmt::Debug {
    let outcome = finish(s, "cpython", ex.clone());
    let classes = memory_classes(&outcome);
    let mut without_bytes = outcome;
    for o in &mut without_bytes.observations {
        o.free = 0;
        o.alloc = 0;
    }
    (without_bytes, classes)
}

/// Whether every module the scenario loaded comes from its own tree (no standard
/// library module, whose C parts keep process-wide state).
fn only_own_modules(s: &Scenario, ex: &Execution) -> bool {
    let own: Vec<String> = s
        .tree
        .keys()
        .filter_map(|p| p.strip_suffix(".py"))
        .map(|p| p.trim_end_matches("/__init__").replace('/', "."))
        .collect();
    ex.observations
        .iter()
        .flat_map(|o| &o.modules)
        .all(|m| own.contains(m))
}

#[test]
fn running_twice_gives_identical_outcomes() {
    let seed = scenario("seed", SEED);
    let mut all = vec![seed];
    for f in discover(&[scenarios_dir()]).expect("scenarios/ has scenarios") {
        all.push(load_file(&f.file, &f.name).unwrap_or_else(|e| panic!("{}: {e}", f.name)));
    }
    let target = CpythonTarget::new();
    target.prepare().unwrap();
    let first: Vec<Execution> = all
        .iter()
        .map(|s| target.execute(s, &RunOptions::default()))
        .collect();
    let mut differ = Vec::new();
    let mut exact = 0;
    for (s, one) in all.iter().zip(&first) {
        let two = target.execute(s, &RunOptions::default());
        // Byte counts are compared where the scenario loads only its own modules, but
        // CPython keeps some process-wide state its first run fills (the subclass registry
        // of a built-in type, cached exception messages), so those may differ in bytes as
        // long as everything else agrees; most scenarios must still agree to the byte.
        let same_bytes = only_own_modules(s, one) && *one == two;
        if same_bytes {
            exact += 1;
        }
        let same = same_bytes || stable_part(s, one) == stable_part(s, &two);
        if !same {
            differ.push(format!("{}:\n{one:#?}\n{two:#?}", s.name));
        }
    }
    assert!(differ.is_empty(), "{}", differ.join("\n"));
    assert!(
        exact * 2 > all.len(),
        "only {exact} scenarios compared byte for byte"
    );
}

#[test]
fn nothing_leaks_into_the_next_scenario() {
    let leaky = scenario(
        "leaky",
        r#"
about: leaves modules, a sys.modules entry, a path entry and a rebound sys.path behind.
tree:
  leaky.py: |
    import json
    data = bytearray(1000)
steps:
  - run: |
      import sys, os
      import leaky
      sys.modules['phantom'] = leaky
      sys.path.append('/nowhere')
      sys.path = list(sys.path)
      sys.meta_path.append(object())
  - observe: end
    eval: ["sorted(os.listdir(sys.path[0]))"]
"#,
    );
    let ex = run(&leaky);
    assert_eq!(ex.failure, None, "{ex:#?}");
    let end = obs(&ex, "end");
    for m in ["leaky", "phantom", "json"] {
        assert!(end.modules.iter().any(|x| x == m), "{m} in {end:?}");
    }
    // No bytecode cache was written next to the tree.
    assert_eq!(end.eval["sorted(os.listdir(sys.path[0]))"], "['leaky.py']");

    let next = scenario(
        "next",
        r#"
about: sees none of what the previous scenario left.
tree: {}
steps:
  - run: import sys
  - run: import leaky
  - observe: start
    eval:
      - "'/nowhere' in sys.path"
      - "len([p for p in sys.path_importer_cache if 'mpdiff-cpython-' in p])"
      - "sum(1 for f in sys.meta_path if type(f) is object)"
"#,
    );
    let ex = run(&next);
    assert_eq!(ex.failure, None, "{ex:#?}");
    let start = obs(&ex, "start");
    assert!(start.modules.is_empty(), "{start:?}");
    let eval: Vec<&str> = start.eval.values().map(String::as_str).collect();
    // Only this scenario's own tree folder is in the importer cache.
    assert_eq!(eval, ["False", "1", "0"]);
    assert_eq!(ex.exceptions.len(), 1, "{:?}", ex.exceptions);
    assert_eq!(ex.exceptions[0].kind, "ImportError");
    assert!(
        !ex.baseline_modules
            .iter()
            .any(|m| m == "leaky" || m == "phantom")
    );
}

#[test]
fn python_level_failures_are_failures_not_panics() {
    let s = scenario(
        "exits",
        r#"
about: SystemExit is not caught by the driver.
tree: {}
steps:
  - observe: before
  - run: raise SystemExit(3)
  - observe: never
"#,
    );
    let ex = run(&s);
    let failure = ex.failure.as_deref().unwrap_or("");
    assert!(failure.contains("SystemExit"), "{ex:#?}");
    assert_eq!(ex.observations.len(), 1);
}

fn scenarios_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios")
}

#[test]
fn every_scenario_file_runs_without_a_harness_error() {
    let found = discover(&[scenarios_dir()]).expect("scenarios/ has scenarios");
    let target = CpythonTarget::new();
    target.prepare().unwrap();
    let mut broken = Vec::new();
    for f in &found {
        let s = match load_file(&f.file, &f.name) {
            Ok(s) => s,
            Err(e) => panic!("{}: {e}", f.name),
        };
        let ex = target.execute(&s, &RunOptions::default());
        if let Some(why) = ex.failure {
            broken.push(format!("{}: {why}", f.name));
        }
    }
    assert!(broken.is_empty(), "{broken:#?}");
}
