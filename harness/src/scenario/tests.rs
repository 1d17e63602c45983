//! Tests of loading, checking and finding scenario files.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::*;

/// The example of SCENARIOS.md, verbatim.
pub(crate) const EXAMPLE: &str = r#"about: >                       # required: one or two sentences, what the scenario shows
  From-import a deep submodule, then delete the name and its sys.modules entry:
  the parent package still holds the module, so no RAM comes back.
heap: 36K                      # optional: GC heap size where a target lets us set it (default 36K)
tree:                          # required, may be {}: file path -> file content
  rootpackage/__init__.py: ""
  rootpackage/package/__init__.py: ""
  rootpackage/package/subpackage/__init__.py: ""
  rootpackage/package/subpackage/module.py: |
    payload = bytearray(3000)
steps:                         # required, in order; each item is exactly one of the two forms
  - observe: before            # a label, unique in the file, [a-z0-9_-]+
  - run: import sys
  - run: from rootpackage.package.subpackage import module
  - observe: imported
    eval: ["hasattr(module, 'payload')"]   # optional: expressions, repr() of each is recorded
  - run: |
      del module
      del sys.modules["rootpackage.package.subpackage.module"]
  - observe: deleted
  - run: import nothere
    raises: ImportError        # optional: this step must raise exactly this exception type
expect:                        # optional: claims that must hold on EVERY target
  deleted:                     # an observation label
    modules:                   # keys of sys.modules (after the target's own start-up modules are removed)
      has: [rootpackage.package.subpackage]
      lacks: [rootpackage.package.subpackage.module]
    names:                     # names in the scenario namespace
      lacks: [module]
    eval:                      # expression -> expected repr, evaluated at this observation
      "'module' in dir(rootpackage.package.subpackage)": "True"
    reclaims:                  # how much of a load came back by this observation
      load: [before, imported] # the load = free(before) - free(imported), in bytes
      is: none                 # none | partial | most
"#;

fn load(text: &str) -> Result<Scenario, ScenarioError> {
    load_str(text, Path::new("scenarios/t.yaml"), "t")
}

/// Loads text that must fail; returns (line, message).
fn fails(text: &str) -> (usize, String) {
    match load(text) {
        Ok(s) => panic!("expected an error, loaded {s:?}"),
        Err(ScenarioError::Invalid {
            line,
            message,
            file,
            ..
        }) => {
            assert_eq!(file, Path::new("scenarios/t.yaml"));
            (line, message)
        }
        Err(e) => panic!("expected a position, got {e}"),
    }
}

/// A minimal valid head, for cases that vary the rest.
const HEAD: &str = "about: a test\ntree: {}\n";

#[test]
fn the_example_of_the_format_loads() {
    let s = load(EXAMPLE).unwrap();
    assert_eq!(s.name, "t");
    assert!(s.about.starts_with("From-import a deep submodule"));
    assert_eq!(s.heap, 36 * 1024);
    assert_eq!(s.tree.len(), 4);
    assert_eq!(
        s.tree["rootpackage/package/subpackage/module.py"],
        "payload = bytearray(3000)\n"
    );
    assert_eq!(s.steps.len(), 7);
    let lines: Vec<usize> = s
        .steps
        .iter()
        .map(|s| match s {
            Step::Run { line, .. } | Step::Observe { line, .. } => *line,
        })
        .collect();
    assert_eq!(lines, [12, 13, 14, 15, 17, 20, 21]);
    assert_eq!(
        s.steps[6],
        Step::Run {
            source: "import nothere".into(),
            raises: Some("ImportError".into()),
            line: 21
        }
    );
    assert_eq!(
        s.steps[4],
        Step::Run {
            source: "del module\ndel sys.modules[\"rootpackage.package.subpackage.module\"]\n"
                .into(),
            raises: None,
            line: 17
        }
    );
    assert_eq!(
        s.labels().collect::<Vec<_>>(),
        ["before", "imported", "deleted"]
    );
    assert_eq!(s.expect.len(), 1);
    let e = &s.expect[0];
    assert_eq!(e.at, "deleted");
    assert_eq!(
        e.modules,
        Some(Membership {
            has: vec!["rootpackage.package.subpackage".into()],
            lacks: vec!["rootpackage.package.subpackage.module".into()],
        })
    );
    assert_eq!(
        e.names,
        Some(Membership {
            has: vec![],
            lacks: vec!["module".into()]
        })
    );
    assert_eq!(
        e.eval,
        [(
            "'module' in dir(rootpackage.package.subpackage)".to_string(),
            "True".to_string()
        )]
    );
    assert_eq!(
        e.reclaims,
        Some(Reclaims {
            before: "before".into(),
            after: "imported".into(),
            is: Share::None
        })
    );
    // Defaults of the extensions.
    assert!(!s.strict_order);
    assert!(!s.cpython_expect);
    assert!(s.divergences.is_empty());
    assert_eq!(s.timeout, None);
}

#[test]
fn claimed_eval_expressions_are_added_to_their_observation() {
    let s = load(EXAMPLE).unwrap();
    let Step::Observe { eval, label, .. } = &s.steps[5] else {
        panic!("step 5 is an observation")
    };
    assert_eq!(label, "deleted");
    assert_eq!(eval, &["'module' in dir(rootpackage.package.subpackage)"]);
    // An expression already listed is not added twice.
    let text = format!(
        "{HEAD}steps:\n  - observe: a\n    eval: [\"1+1\"]\nexpect:\n  a:\n    eval:\n      \"1+1\": \"2\"\n"
    );
    let s = load(&text).unwrap();
    assert!(matches!(&s.steps[0], Step::Observe { eval, .. } if eval == &["1+1"]));
}

#[test]
fn a_minimal_scenario_loads_with_defaults() {
    let s = load(&format!("{HEAD}steps: []\n")).unwrap();
    assert_eq!(s.heap, DEFAULT_HEAP);
    assert!(s.tree.is_empty() && s.steps.is_empty() && s.expect.is_empty());
    // `tree:` left empty reads as no files.
    let s = load("about: x\ntree:\nsteps: []\n").unwrap();
    assert!(s.tree.is_empty());
}

#[test]
fn extensions_load() {
    let text = format!(
        "{HEAD}strict_order: true\ncpython_expect: true\ntimeout: 90\nsteps:\n  - observe: a\n  - run: import x\n\
         divergences:\n  - target: cpython\n    field: names_order\n    at: a\n    reason: dicts keep insertion order\n\
         \x20 - target: rust\n    field: errors\n    at: step 1\n    reason: message differs\n\
         \x20 - target: board\n    field: memory\n    reason: fragmentation\n"
    );
    let s = load(&text).unwrap();
    assert!(s.strict_order && s.cpython_expect);
    assert_eq!(s.timeout, Some(Duration::from_secs(90)));
    assert_eq!(
        s.divergences,
        [
            Divergence {
                target: "cpython".into(),
                field: Field::NamesOrder,
                at: Some("a".into()),
                reason: "dicts keep insertion order".into()
            },
            Divergence {
                target: "rust".into(),
                field: Field::Errors,
                at: Some("step 1".into()),
                reason: "message differs".into()
            },
            Divergence {
                target: "board".into(),
                field: Field::Memory,
                at: None,
                reason: "fragmentation".into()
            },
        ]
    );
}

#[test]
fn a_typo_in_a_field_name_is_reported_at_its_line() {
    let (line, msg) = fails(&format!("{HEAD}steps:\n  - observe: a\n  - oserve: b\n"));
    assert_eq!(line, 5);
    assert!(msg.contains("unknown field `oserve`"), "{msg}");
    let (line, msg) = fails(&format!(
        "{HEAD}steps:\n  - observe: a\nexpect:\n  a:\n    module:\n      has: [x]\n"
    ));
    assert_eq!(line, 7);
    assert!(msg.contains("unknown field `module`"), "{msg}");
    let (line, msg) = fails(&format!("{HEAD}step: []\n"));
    assert_eq!(line, 3);
    assert!(msg.contains("unknown field `step`"), "{msg}");
    let (line, msg) = fails(&format!(
        "{HEAD}steps:\n  - observe: a\nexpect:\n  a:\n    names:\n      hass: [x]\n"
    ));
    assert_eq!(line, 8);
    assert!(msg.contains("unknown field `hass`"), "{msg}");
}

#[test]
fn yaml_syntax_errors_keep_the_parsers_position() {
    let err = load(&format!("{HEAD}steps: [\n")).unwrap_err();
    let text = err.to_string();
    assert!(text.starts_with("scenarios/t.yaml:3:"), "{text}");
    assert_eq!(err.line(), Some(3));
    assert_eq!(err.file(), Path::new("scenarios/t.yaml"));
    let (_, msg) = fails("");
    assert!(msg.contains("`about`"), "{msg}");
    let (line, msg) = fails("- 1\n");
    assert_eq!(line, 1);
    assert!(msg.starts_with("expected a mapping"), "{msg}");
    let (line, msg) = fails(&format!("{HEAD}steps:\n  - observe: a\n    eval: x\n"));
    assert_eq!(line, 5);
    assert!(msg.starts_with("expected a list"), "{msg}");
    let (line, msg) = fails("about: [x]\ntree: {}\nsteps: []\n");
    assert_eq!(line, 1);
    assert!(msg.starts_with("expected a string"), "{msg}");
    let (_, msg) = fails("about: x\nsteps: []\n");
    assert!(msg.contains("tree"), "{msg}");
}

#[test]
fn messages_read_as_file_line_column_message_in_lower_case() {
    let err = load(&format!("{HEAD}steps:\n  - observe: Before\n")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "scenarios/t.yaml:4:14: bad label `Before`: use lower-case letters, digits, `_` and `-` only"
    );
    let (_, msg) = fails(&format!("{HEAD}steps:\n  - oserve: b\n"));
    assert!(msg.chars().next().unwrap().is_lowercase(), "{msg}");
}

#[test]
fn labels_are_checked() {
    let (line, msg) = fails(&format!(
        "{HEAD}steps:\n  - observe: a\n  - run: x = 1\n  - observe: a\n"
    ));
    assert_eq!(line, 6);
    assert!(msg.contains("`a` is used twice"), "{msg}");
    for bad in ["Upper", "with space", "dot.ted", "\"\""] {
        let (line, msg) = fails(&format!("{HEAD}steps:\n  - observe: {bad}\n"));
        assert_eq!(line, 4, "{bad}");
        assert!(msg.starts_with("bad label"), "{msg}");
    }
    for good in ["a", "z-9_x", "0"] {
        load(&format!("{HEAD}steps:\n  - observe: {good}\n")).unwrap();
    }
}

#[test]
fn an_expect_label_must_be_an_observation() {
    let (line, msg) = fails(&format!(
        "{HEAD}steps:\n  - observe: before\n  - observe: after\nexpect:\n  afterr:\n    names:\n      has: [x]\n"
    ));
    assert_eq!(line, 7);
    assert!(
        msg.contains("expect label `afterr` is not an observation label (labels: before, after)"),
        "{msg}"
    );
}

#[test]
fn reclaims_labels_are_checked() {
    let with = |load: &str, at: &str| {
        format!(
            "{HEAD}steps:\n  - observe: a\n  - observe: b\n  - observe: c\nexpect:\n  {at}:\n    reclaims:\n      load: {load}\n      is: most\n"
        )
    };
    assert!(load(&with("[a, b]", "c")).is_ok());
    assert!(load(&with("[a, b]", "b")).is_ok());
    let (line, msg) = fails(&with("[a, x]", "c"));
    assert_eq!(line, 10);
    assert!(msg.contains("reclaims label `x`"), "{msg}");
    let (line, msg) = fails(&with("[b, a]", "c"));
    assert_eq!(line, 10);
    assert!(msg.contains("`b` must be observed before `a`"), "{msg}");
    let (_, msg) = fails(&with("[a, a]", "c"));
    assert!(msg.contains("must be observed before"), "{msg}");
    let (line, msg) = fails(&with("[b, c]", "a"));
    assert_eq!(line, 8);
    assert!(msg.contains("at or after the load's end"), "{msg}");
    let (_, msg) = fails(&with("[a, b, c]", "c"));
    assert!(msg.contains("exactly two labels"), "{msg}");
    let (line, msg) = fails(&with("[a, b]\n      is: nonee", "c").replace("\n      is: most", ""));
    assert_eq!(line, 11);
    assert!(msg.contains("unknown variant `nonee`"), "{msg}");
}

#[test]
fn only_yaml_1_2_booleans_are_booleans() {
    let text = format!(
        "{HEAD}steps:\n  - observe: a\nexpect:\n  a:\n    names:\n      has: [y, n, yes, off]\n"
    );
    let s = load(&text).unwrap();
    assert_eq!(
        s.expect[0].names.as_ref().unwrap().has,
        ["y", "n", "yes", "off"]
    );
    assert!(
        load(&format!("{HEAD}steps: []\nstrict_order: True\n"))
            .unwrap()
            .strict_order
    );
    let (line, msg) = fails(&format!("{HEAD}steps: []\nstrict_order: yes\n"));
    assert_eq!(line, 4);
    assert!(msg.contains("true"), "{msg}");
}

#[test]
fn has_and_lacks_may_not_name_the_same_item() {
    let (line, msg) = fails(&format!(
        "{HEAD}steps:\n  - observe: a\nexpect:\n  a:\n    modules:\n      has: [m, n]\n      lacks: [n]\n"
    ));
    assert_eq!(line, 8);
    assert_eq!(msg, "`modules` lists `n` under both `has` and `lacks`");
}

#[test]
fn expect_may_not_repeat_a_label() {
    let (line, msg) = fails(&format!(
        "{HEAD}steps:\n  - observe: a\nexpect:\n  a:\n    names:\n      has: [x]\n  a:\n    names:\n      has: [y]\n"
    ));
    assert_eq!(line, 9);
    assert!(msg.contains("`a` is given twice"), "{msg}");
}

#[test]
fn tree_paths_are_checked() {
    let tree = |paths: &[&str]| {
        let mut t = String::from("about: x\ntree:\n");
        for p in paths {
            t.push_str(&format!("  {p:?}: \"\"\n"));
        }
        t.push_str("steps: []\n");
        t
    };
    assert!(load(&tree(&["a/__init__.py", "a/b.py", "c.py"])).is_ok());
    let cases: &[(&[&str], usize, &str)] = &[
        (&["/abs.py"], 3, "is absolute"),
        (&["a/../b.py"], 3, "contains `..`"),
        (&["..", "x"], 3, "contains `..`"),
        (&["a//b.py"], 3, "empty segment"),
        (&["a/"], 3, "empty segment"),
        (&["a\\b.py"], 3, "backslash"),
        (&["./a.py"], 3, "contains `.`"),
        (&[""], 3, "empty tree path"),
        (&["a/b.py", "a"], 4, "is a folder of another file"),
        (&["a", "a/b.py"], 4, "puts a file inside `a`"),
        (&["a/b", "a/b/c/d.py"], 4, "puts a file inside `a/b`"),
        (&["x.py", "x.py"], 4, "given twice"),
    ];
    for (paths, line, want) in cases {
        let (got_line, msg) = fails(&tree(paths));
        assert_eq!(got_line, *line, "{paths:?}: {msg}");
        assert!(msg.contains(want), "{paths:?}: {msg}");
    }
}

#[test]
fn step_forms_are_checked() {
    let (line, msg) = fails(&format!("{HEAD}steps:\n  - run: x = 1\n    observe: a\n"));
    assert_eq!(line, 4);
    assert!(msg.contains("step 0 has both `run` and `observe`"), "{msg}");
    let (line, msg) = fails(&format!("{HEAD}steps:\n  - observe: a\n  - {{}}\n"));
    assert_eq!(line, 5);
    assert!(msg.contains("step 1 has neither"), "{msg}");
    let (line, msg) = fails(&format!("{HEAD}steps:\n  - run: x = 1\n    eval: [x]\n"));
    assert_eq!(line, 5);
    assert!(msg.contains("`eval` belongs on an `observe` step"), "{msg}");
    let (line, msg) = fails(&format!(
        "{HEAD}steps:\n  - observe: a\n    raises: ImportError\n"
    ));
    assert_eq!(line, 5);
    assert!(msg.contains("`raises` belongs on a `run` step"), "{msg}");
    let (line, msg) = fails(&format!(
        "{HEAD}steps:\n  - run: import x\n    raises: Import Error\n"
    ));
    assert_eq!(line, 5);
    assert!(msg.contains("not an exception type name"), "{msg}");
    let (line, msg) = fails(&format!("{HEAD}steps:\n  - observe: a\n    eval: [x, x]\n"));
    assert_eq!(line, 5);
    assert!(msg.contains("given twice"), "{msg}");
}

#[test]
fn heap_is_checked() {
    let with = |h: &str| load(&format!("about: x\nheap: {h}\ntree: {{}}\nsteps: []\n"));
    assert_eq!(with("64K").unwrap().heap, 65536);
    assert_eq!(with("2M").unwrap().heap, 2 * 1024 * 1024);
    assert_eq!(with("40000").unwrap().heap, 40000);
    assert_eq!(with("\"40000\"").unwrap().heap, 40000);
    for bad in [
        "36KB",
        "-1",
        "0",
        "1.5K",
        "K",
        "lots",
        "99999999999999999999M",
    ] {
        match with(bad) {
            Err(e @ ScenarioError::Invalid { .. }) => {
                assert_eq!(e.line(), Some(2), "{bad}: {e}");
                assert!(e.to_string().contains("heap"), "{bad}: {e}");
            }
            other => panic!("{bad}: {other:?}"),
        }
    }
}

#[test]
fn parse_heap_reads_sizes() {
    assert_eq!(parse_heap("36K"), Ok(36864));
    assert_eq!(parse_heap("64k"), Ok(65536));
    assert_eq!(parse_heap("2M"), Ok(2097152));
    assert_eq!(parse_heap("40000"), Ok(40000));
    assert_eq!(parse_heap(" 36K "), Ok(36864));
    for bad in [
        "",
        "K",
        "0",
        "0K",
        "1.5K",
        "36 K",
        "-36K",
        "18446744073709551615K",
        "36KB",
    ] {
        assert!(parse_heap(bad).is_err(), "{bad}");
    }
}

#[test]
fn extension_values_are_checked() {
    let (line, msg) = fails(&format!("{HEAD}timeout: 0\nsteps: []\n"));
    assert_eq!(line, 3);
    assert!(msg.contains("timeout"), "{msg}");
    let div = |body: &str| {
        format!("{HEAD}steps:\n  - observe: a\n  - run: x\ndivergences:\n  - {body}\n")
    };
    let (line, msg) = fails(&div("{target: rust, field: status, reason: r}"));
    assert_eq!(line, 7);
    assert!(msg.contains("unknown variant `status`"), "{msg}");
    let (line, msg) = fails(&div("{target: rust, field: names, at: b, reason: r}"));
    assert_eq!(line, 7);
    assert!(msg.contains("`at: b` is not an observation label"), "{msg}");
    let (_, msg) = fails(&div("{target: rust, field: errors, at: step 0, reason: r}"));
    assert!(msg.contains("naming a run step"), "{msg}");
    assert!(load(&div("{target: rust, field: errors, at: step 1, reason: r}")).is_ok());
    let (_, msg) = fails(&div("{target: rust, field: names, reason: \"\"}"));
    assert!(msg.contains("reason"), "{msg}");
    let (_, msg) = fails(&div("{target: rust, field: names}"));
    assert!(msg.contains("reason"), "{msg}");
    let (_, msg) = fails("about: \" \"\ntree: {}\nsteps: []\n");
    assert!(msg.contains("`about` is empty"), "{msg}");
}

/// Mangled versions of a valid file: every prefix, every line dropped, and byte-level
/// damage. Loading must return (ok or an error), never panic, and an error must carry the
/// file name.
#[test]
fn mangled_input_never_panics() {
    let path = Path::new("m.yaml");
    let check = |text: &str| {
        if let Err(e) = load_str(text, path, "m") {
            assert_eq!(e.file(), path);
            assert!(e.to_string().starts_with("m.yaml:"), "{e}");
        }
    };
    for (i, _) in EXAMPLE.char_indices() {
        check(&EXAMPLE[..i]);
    }
    let lines: Vec<&str> = EXAMPLE.lines().collect();
    for skip in 0..lines.len() {
        let text: Vec<&str> = lines
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != skip)
            .map(|(_, l)| *l)
            .collect();
        check(&text.join("\n"));
    }
    // A small deterministic generator: replace, insert or delete characters.
    let junk = [
        ":", "-", " ", "\n", "\t", "[", "]", "{", "}", "\"", "'", "&a", "*a", "!!", "#", "|", ">",
        "\u{0}", "é", "~", "?",
    ];
    let mut state: u64 = 0x9e3779b97f4a7c15;
    let mut next = |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    };
    for _ in 0..2000 {
        let mut text: Vec<char> = EXAMPLE.chars().collect();
        for _ in 0..1 + next(4) {
            let at = next(text.len());
            match next(3) {
                0 => {
                    text.remove(at);
                }
                1 => text
                    .splice(at..at, junk[next(junk.len())].chars())
                    .for_each(drop),
                _ => {
                    let j: Vec<char> = junk[next(junk.len())].chars().collect();
                    text[at] = j[0];
                }
            }
        }
        check(&text.into_iter().collect::<String>());
    }
}

fn write(root: &Path, rel: &str, text: &str) -> PathBuf {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn discover_walks_folders_sorted_and_names_files() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("scenarios");
    write(&root, "seed/b.yaml", EXAMPLE);
    write(&root, "seed/a.yaml", EXAMPLE);
    write(&root, "top.yaml", EXAMPLE);
    write(&root, "seed/notes.md", "not a scenario");
    write(&root, "seed/deep/er/c.yaml", EXAMPLE);
    let found = discover(std::slice::from_ref(&root)).unwrap();
    let names: Vec<&str> = found.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["seed/a", "seed/b", "seed/deep/er/c", "top"]);
    assert_eq!(found[0].file, root.join("seed/a.yaml"));
    // A sub-folder is named relative to itself.
    let found = discover(&[root.join("seed")]).unwrap();
    let names: Vec<&str> = found.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["a", "b", "deep/er/c"]);
    // A file given directly is named under the nearest `scenarios` folder.
    let found = discover(&[root.join("seed/deep/er/c.yaml")]).unwrap();
    assert_eq!(found[0].name, "seed/deep/er/c");
    // Elsewhere, by its stem.
    let lone = write(tmp.path(), "elsewhere/lone.yaml", EXAMPLE);
    assert_eq!(discover(&[lone]).unwrap()[0].name, "lone");
    // Hidden files are skipped; a file given twice runs once; links to folders are not
    // followed (a cycle cannot hang the walk).
    write(&root, "seed/.#a.yaml", "junk");
    #[cfg(unix)]
    std::os::unix::fs::symlink(&root, root.join("seed/loop")).unwrap();
    let found = discover(&[root.join("seed"), root.join("seed/a.yaml")]).unwrap();
    let names: Vec<&str> = found.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["a", "b", "deep/er/c"]);
    // Every discovered file loads under its name.
    for f in discover(std::slice::from_ref(&root)).unwrap() {
        assert_eq!(load_file(&f.file, &f.name).unwrap().name, f.name);
    }
}

#[test]
fn discover_rejects_missing_paths_and_empty_folders() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("nope");
    let err = discover(std::slice::from_ref(&missing)).unwrap_err();
    assert!(matches!(err, ScenarioError::Missing { .. }));
    assert_eq!(err.file(), missing);
    assert!(err.to_string().ends_with("no such file or folder"));
    write(tmp.path(), "empty/readme.md", "");
    let err = discover(&[tmp.path().join("empty")]).unwrap_err();
    assert!(matches!(err, ScenarioError::Empty { .. }), "{err}");
}

#[test]
fn load_file_reports_unreadable_files() {
    let err = load_file(Path::new("/nonexistent/x.yaml"), "x").unwrap_err();
    assert!(matches!(err, ScenarioError::Read { .. }));
    assert!(
        err.to_string()
            .starts_with("/nonexistent/x.yaml: failed to read")
    );
}

#[test]
fn parser_messages_are_reworded_for_scenario_authors() {
    let cases = [
        (
            "about: x\ntree:\n  a.py:\nsteps: []\n",
            3,
            "a value is missing here",
        ),
        (
            "about: x\ntree: {}\nsteps: []\n---\nabout: y\n",
            5,
            "one YAML document",
        ),
        (
            "about: x\ntree: {}\nsteps: []\ntimeout: 1.5\n",
            4,
            "expected a whole number",
        ),
        (
            "about: x\nabout: y\ntree: {}\nsteps: []\n",
            2,
            "key `about` is given twice",
        ),
        ("about: x\ntree: {}\nsteps: 3\n", 3, "expected a list"),
    ];
    for (text, line, want) in cases {
        let (got, msg) = fails(text);
        assert_eq!(got, line, "{text}: {msg}");
        assert!(msg.starts_with(want) || msg.contains(want), "{text}: {msg}");
        assert!(
            !msg.contains("Option<") && !msg.contains("from_str"),
            "{msg}"
        );
    }
}

#[test]
fn deeply_nested_input_is_an_error_not_a_crash() {
    for depth in [1_000, 100_000] {
        let text = format!(
            "about: x\ntree: {{}}\nsteps: {}{}\n",
            "[".repeat(depth),
            "]".repeat(depth)
        );
        assert!(load(&text).is_err());
        let text = format!("about: x\ntree: {{}}\nsteps:\n{}\n", {
            let mut t = String::new();
            for i in 0..depth.min(5_000) {
                t.push_str(&" ".repeat(2 * i + 2));
                t.push_str("- \n");
            }
            t
        });
        assert!(load(&text).is_err());
    }
}

#[test]
fn the_parsers_own_position_suffix_is_dropped_once() {
    let (line, msg) = fails("about: [\n");
    assert_eq!(line, 1);
    assert!(!msg.contains(" at line "), "{msg}");
}
