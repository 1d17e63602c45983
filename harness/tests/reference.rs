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
