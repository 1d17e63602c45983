//! The `unix` and `unix32` references: MicroPython 1.9.4 built from source here, run on
//! small inline scenarios whose behaviour is known from the C source (semantics notes).
//!
//! If the build is impossible on this machine (no gcc, make or gcc-multilib) the tests
//! print why and return; set `MPDIFF_REQUIRE_REFERENCE=1` to make that a failure.

use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use mpdiff::outcome::Observation;
use mpdiff::reference::{self, ReferenceError, Word};
use mpdiff::scenario::{Scenario, load_str};
use mpdiff::targets::unix::UnixTarget;
use mpdiff::targets::{Execution, RunOptions, Target};

/// One prepared target per word size for the whole test binary, or why there is none.
fn target(word: Word) -> Option<Arc<UnixTarget>> {
    static T64: OnceLock<Result<Arc<UnixTarget>, String>> = OnceLock::new();
    static T32: OnceLock<Result<Arc<UnixTarget>, String>> = OnceLock::new();
    let cell = match word {
        Word::W64 => &T64,
        Word::W32 => &T32,
    };
    let ready = cell.get_or_init(|| {
        // Ask the build directly first, to tell "cannot build here" from a real failure.
        match reference::prepare(word) {
            Ok(_) => {}
            Err(e @ (ReferenceError::NoMultilib { .. } | ReferenceError::MissingTool { .. })) => {
                return Err(e.to_string());
            }
            Err(e) => panic!("{} reference failed: {e}", word.target_name()),
        }
        let t = Arc::new(UnixTarget::new(word));
        t.prepare().expect("prepare after a successful build");
        Ok(t)
    });
    match ready {
        Ok(t) => Some(Arc::clone(t)),
        Err(why) => {
            if std::env::var_os("MPDIFF_REQUIRE_REFERENCE").is_some_and(|v| v == "1") {
                panic!("{} cannot be built here: {why}", word.target_name());
            }
            eprintln!(
                "skipped: {} cannot be built here: {why}",
                word.target_name()
            );
            None
        }
    }
}

fn scenario(yaml: &str) -> Scenario {
    load_str(yaml, Path::new("inline.yaml"), "inline").expect("valid scenario")
}

fn run(word: Word, yaml: &str, timeout: Duration) -> Option<Execution> {
    let t = target(word)?;
    Some(t.execute(&scenario(yaml), &RunOptions { timeout }))
}

fn obs<'a>(e: &'a Execution, label: &str) -> &'a Observation {
    e.observations
        .iter()
        .find(|o| o.label == label)
        .unwrap_or_else(|| panic!("no observation {label} in {e:#?}"))
}

/// A comment unique to this test run, to find a scenario's temporary folder later.
fn marker(test: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("# {test} {} {nanos}", std::process::id())
}

/// Whether a temporary run folder holding `marker` in its driver is still there.
fn left_behind(marker: &str) -> bool {
    let parents = [std::env::temp_dir(), "/tmp".into(), "/dev/shm".into()];
    parents.iter().any(|parent| {
        std::fs::read_dir(parent)
            .into_iter()
            .flatten()
            .flatten()
            .any(|e| {
                e.file_name().to_string_lossy().starts_with("mpdiff-")
                    && std::fs::read_to_string(e.path().join("driver.py"))
                        .is_ok_and(|d| d.contains(marker))
            })
    })
}

/// Semantics §5, seed_a: names pre-bound so the namespace table never grows.
const SEED: &str = r#"
about: from-import, delete name and entry (nothing back), then the parent attribute (all back)
tree:
  rootpackage/__init__.py: ""
  rootpackage/package/__init__.py: ""
  rootpackage/package/subpackage/__init__.py: ""
  rootpackage/package/subpackage/module.py: |
    L = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95, 96, 97, 98, 99]
    def f(): return 1
steps:
  - run: |
      import sys
      module = rootpackage = 0
  - observe: before
  - run: from rootpackage.package.subpackage import module
  - observe: imported
  - run: |
      del module
      del sys.modules["rootpackage.package.subpackage.module"]
  - observe: deleted
  - run: import rootpackage
  - observe: parent
  - run: del rootpackage.package.subpackage.module
  - observe: attribute-deleted
    eval: ["sorted(sys.modules)", "dir(rootpackage.package.subpackage)"]
"#;

fn check_seed(word: Word, freed: i64) {
    let Some(e) = run(word, SEED, Duration::from_secs(30)) else {
        return;
    };
    assert_eq!(e.failure, None, "{e:#?}");
    assert!(e.exceptions.is_empty(), "{:?}", e.exceptions);
    assert!(
        e.target_info.contains("MicroPython 1.9.4 unix port"),
        "{}",
        e.target_info
    );
    assert!(e.target_info.contains(&format!("{}-bit", word.bits())));
    let free = |l| obs(&e, l).free;
    assert!(
        free("before") - free("imported") > 0,
        "the import costs memory"
    );
    assert_eq!(
        free("deleted") - free("imported"),
        0,
        "name and entry gone: nothing back"
    );
    assert_eq!(free("parent") - free("deleted"), 0);
    // Semantics §5: module 1 + dict 1 + table 2 + list 1 + items 25 + function 1 +
    // bytecode 2 (B32) or 1 (B64) blocks, 33 x 16 = 528 and 32 x 32 = 1024 bytes.
    assert_eq!(free("attribute-deleted") - free("parent"), freed);
    let last = obs(&e, "attribute-deleted");
    assert_eq!(
        last.eval["sorted(sys.modules)"],
        "['rootpackage', 'rootpackage.package', 'rootpackage.package.subpackage']"
    );
    assert_eq!(
        last.eval["dir(rootpackage.package.subpackage)"],
        "['__class__', '__file__', '__name__', '__path__']"
    );
    let mut names = last.names.clone();
    names.sort();
    assert_eq!(names, ["__name__", "rootpackage", "sys"]);
}

#[test]
fn seed_frees_nothing_then_the_module_on_unix32() {
    check_seed(Word::W32, 528);
}

#[test]
fn seed_frees_nothing_then_the_module_on_unix() {
    check_seed(Word::W64, 1024);
}

#[test]
fn left_behind_sees_a_run_folder() {
    let mark = marker("self-check");
    let dir = reference::process::scratch_dir().unwrap();
    std::fs::write(dir.path().join("driver.py"), format!("{mark}\n")).unwrap();
    assert!(left_behind(&mark));
    drop(dir);
    assert!(!left_behind(&mark));
}

#[test]
fn an_endless_module_times_out_naming_the_step() {
    let yaml = r#"
about: a module that never finishes importing
timeout: 1
tree:
  spin.py: |
    while True:
        pass
steps:
  - observe: before
  - run: import spin
  - observe: never
"#;
    for word in [Word::W32, Word::W64] {
        let mark = marker("timeout");
        let yaml = yaml.replace(
            "  - observe: never",
            &format!("  - run: \"{mark}\"\n  - observe: never"),
        );
        let Some(e) = run(word, &yaml, Duration::from_secs(60)) else {
            continue;
        };
        assert_eq!(
            e.failure.as_deref(),
            Some("timed out after 1s in step 1 (import spin)"),
            "{e:#?}"
        );
        assert_eq!(e.observations.len(), 1, "the first observation was reached");
        assert!(
            !left_behind(&mark),
            "the run's temporary folder was not removed"
        );
    }
}

#[test]
fn memory_error_in_a_step_is_recorded_and_the_run_goes_on() {
    let yaml = r#"
about: a step asks for more than the heap holds
heap: 16K
tree: {}
steps:
  - run: x = bytearray(100000)
  - observe: after
"#;
    for word in [Word::W32, Word::W64] {
        let Some(e) = run(word, yaml, Duration::from_secs(30)) else {
            continue;
        };
        assert_eq!(e.failure, None, "{e:#?}");
        assert_eq!(e.exceptions.len(), 1);
        assert_eq!(e.exceptions[0].step, 0);
        assert_eq!(e.exceptions[0].kind, "MemoryError");
        assert!(
            e.target_info.ends_with("heap 16384 bytes"),
            "{}",
            e.target_info
        );
        assert!(obs(&e, "after").free < 16384);
    }
}

#[test]
fn a_heap_filled_for_good_stops_the_driver_itself() {
    // The step keeps everything it allocates, so the driver has no memory left to
    // report the MemoryError: the run ends early and says so with the stderr tail.
    let yaml = r#"
about: fill the heap and keep it full
heap: 16K
tree: {}
steps:
  - run: |
      keep = []
      while True:
          keep.append(bytearray(16))
  - observe: after
"#;
    for word in [Word::W32, Word::W64] {
        let Some(e) = run(word, yaml, Duration::from_secs(30)) else {
            continue;
        };
        let failure = e.failure.clone().unwrap_or_default();
        assert!(
            failure.contains("before the driver's end, in step 0 (keep = [])"),
            "{e:#?}"
        );
        assert!(failure.contains("MemoryError"), "{failure}");
    }
}

#[test]
fn a_dotted_import_without_its_top_package_crashes_1_9_4() {
    // Semantics §1.2: the fast path returns sys.modules['a'] for `import a.b`; when that
    // entry is gone while 'a.b' is still there, C gets NULL and binds it to `a`. The
    // name then crashes the interpreter when it is used.
    let yaml = r#"
about: import a.b again after deleting sys.modules['a'] only, then use a
tree:
  a/__init__.py: ""
  a/b.py: "x = 1\n"
steps:
  - run: |
      import sys
      import a.b
  - run: del sys.modules['a']
  - run: import a.b
  - observe: bound
  - run: print(a)
  - observe: never
"#;
    for word in [Word::W32, Word::W64] {
        let mark = marker("crash");
        let yaml = yaml.replace(
            "  - observe: never",
            &format!("  - run: \"{mark}\"\n  - observe: never"),
        );
        let Some(e) = run(word, &yaml, Duration::from_secs(30)) else {
            continue;
        };
        assert!(
            !left_behind(&mark),
            "the run's temporary folder was not removed"
        );
        let failure = e.failure.clone().unwrap_or_default();
        assert!(
            failure
                .starts_with("micropython crashed with SIGSEGV (signal 11) in step 4 (print(a))"),
            "{}: {e:#?}",
            word.target_name()
        );
        assert_eq!(e.observations.len(), 1);
        assert_eq!(e.observations[0].modules, ["a.b"]);
    }
}

#[test]
fn scenario_output_on_stdout_and_stderr_does_not_disturb_records() {
    let yaml = r#"
about: modules and steps that print, with and without newlines
tree:
  noisy.py: |
    import sys
    sys.stderr.write('to stderr\n')
    for i in range(50):
        print('module output', i)
    print('no newline', end='')
steps:
  - run: |
      print('x', end='')
  - observe: first
    eval: ["1 + 1"]
  - run: import noisy
  - observe: second
    eval: ["noisy.__name__"]
"#;
    for word in [Word::W32, Word::W64] {
        let Some(e) = run(word, yaml, Duration::from_secs(30)) else {
            continue;
        };
        assert_eq!(e.failure, None, "{e:#?}");
        assert_eq!(obs(&e, "first").eval["1 + 1"], "2");
        assert_eq!(obs(&e, "second").eval["noisy.__name__"], "'noisy'");
        assert_eq!(obs(&e, "second").modules, ["noisy"]);
    }
}

#[test]
fn a_scenario_printing_a_lot_still_reports() {
    let yaml = r#"
about: several megabytes of output
tree: {}
steps:
  - run: |
      for i in range(60000):
          print('line', i, 'x' * 64)
  - observe: after
"#;
    for word in [Word::W32, Word::W64] {
        let Some(e) = run(word, yaml, Duration::from_secs(60)) else {
            continue;
        };
        assert_eq!(e.failure, None, "{e:#?}");
        assert_eq!(e.observations.len(), 1);
    }
}

#[test]
fn the_same_scenario_gives_the_same_execution_twice() {
    for word in [Word::W32, Word::W64] {
        let (Some(a), Some(b)) = (
            run(word, SEED, Duration::from_secs(30)),
            run(word, SEED, Duration::from_secs(30)),
        ) else {
            continue;
        };
        assert_eq!(a.failure, None);
        assert_eq!(a, b, "{}", word.target_name());
    }
}

#[test]
fn a_second_prepare_builds_nothing() {
    for word in [Word::W32, Word::W64] {
        if target(word).is_none() {
            continue;
        }
        let dir = reference::variant_dir(word);
        let mtime = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).unwrap();
        let stamp = dir.join(reference::build::STAMP);
        let binary = reference::build::binary_path(&dir);
        let before = (mtime(&stamp), mtime(&binary));
        let again = reference::build(word).unwrap();
        assert!(!again.built, "a current build was rebuilt");
        assert_eq!(again.binary, binary);
        assert_eq!((mtime(&stamp), mtime(&binary)), before);
        // A fresh target prepares from the cache too.
        let t = UnixTarget::new(word);
        t.prepare().unwrap();
        assert_eq!((mtime(&stamp), mtime(&binary)), before);
        assert!(t.info(36864).starts_with("MicroPython 1.9.4 unix port"));
    }
}

/// Every scenario of the library, run twice on each word size, gives the same execution:
/// heap figures included, so golden snapshots can be compared byte for byte.
#[test]
fn every_library_scenario_repeats_exactly() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    let found = mpdiff::scenario::discover(&[root]).expect("scenario folder");
    for word in [Word::W32, Word::W64] {
        let Some(t) = target(word) else {
            continue;
        };
        let options = RunOptions::default();
        let mut ran = 0;
        for f in &found {
            // A scenario that does not load is the scenario tests' concern, not this one's.
            let Ok(s) = mpdiff::scenario::load_file(&f.file, &f.name) else {
                eprintln!("not loaded, left out: {}", f.name);
                continue;
            };
            let a = t.execute(&s, &options);
            let b = t.execute(&s, &options);
            assert_eq!(a, b, "{} on {}", f.name, word.target_name());
            ran += 1;
        }
        assert!(ran > 0, "no scenario ran");
    }
}
