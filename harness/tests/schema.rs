//! The committed JSON Schema (`harness/scenario.schema.json`) and the loader agree: every
//! scenario in the repository and every example in `docs/scenario-format.md` passes both;
//! a document using every field passes both; broken documents fail both; and every
//! property the schema names is one the loader reads.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use mpdiff::scenario::{discover, load_file, load_str, yaml_options};
use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the harness sits in the workspace")
        .to_path_buf()
}

fn schema() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenario.schema.json");
    let text = std::fs::read_to_string(&path).expect("schema file");
    serde_json::from_str(&text).expect("schema is JSON")
}

fn validator() -> jsonschema::Validator {
    jsonschema::validator_for(&schema()).expect("schema compiles")
}

/// YAML text as the JSON value the schema is about, read with the loader's options
/// (YAML 1.2 booleans, like editors that use the schema).
fn as_json(text: &str) -> Value {
    serde_saphyr::from_str_with_options(text, yaml_options()).expect("valid YAML")
}

/// Schema errors as `path: message` lines, empty when valid.
fn schema_errors(v: &jsonschema::Validator, text: &str) -> Vec<String> {
    let doc = as_json(text);
    v.iter_errors(&doc)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

/// A document using every field of the format and every extension.
const EVERYTHING: &str = r#"about: Every field of the format, once.
heap: 64K
strict_order: true
cpython_expect: true
timeout: 45
tree:
  pkg/__init__.py: ""
  pkg/mod.py: |
    payload = bytearray(1000)
steps:
  - observe: before
  - run: import pkg.mod
  - observe: loaded
    eval: ["len(pkg.mod.payload)"]
  - run: import nothere
    raises: ImportError
  - run: del pkg.mod
  - observe: unloaded
expect:
  loaded:
    modules:
      has: [pkg, pkg.mod]
      lacks: [nothere]
    names:
      has: [pkg]
      lacks: [mod]
    eval:
      "len(pkg.mod.payload)": "1000"
  unloaded:
    reclaims:
      load: [before, loaded]
      is: partial
divergences:
  - target: cpython
    field: memory
    at: unloaded
    reason: CPython's allocator keeps freed arenas.
  - target: rust
    field: errors
    at: step 3
    reason: a different message
  - target: board
    field: names_order
    reason: none yet, an example
"#;

#[test]
fn the_schema_is_a_valid_json_schema() {
    jsonschema::meta::validate(&schema()).expect("schema passes its meta-schema");
}

#[test]
fn every_scenario_in_the_repository_passes_the_schema_and_loads() {
    let v = validator();
    let found = discover(&[root().join("scenarios")]).expect("scenarios folder");
    assert!(!found.is_empty());
    let mut problems = Vec::new();
    for f in &found {
        let text = std::fs::read_to_string(&f.file).expect("readable");
        for e in schema_errors(&v, &text) {
            problems.push(format!("{}: schema: {e}", f.file.display()));
        }
        if let Err(e) = load_file(&f.file, &f.name) {
            problems.push(format!("loader: {e}"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The ```yaml blocks of the format document.
fn doc_examples() -> Vec<(usize, String)> {
    let text = std::fs::read_to_string(root().join("docs/scenario-format.md")).expect("docs");
    let mut out = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (i, line) in text.lines().enumerate() {
        match &mut current {
            None if line.trim_start() == "```yaml" => current = Some((i + 2, String::new())),
            Some(_) if line.trim_start() == "```" => out.extend(current.take()),
            Some((_, block)) => {
                block.push_str(line);
                block.push('\n');
            }
            None => {}
        }
    }
    out
}

#[test]
fn every_whole_example_in_the_format_document_passes_both() {
    let v = validator();
    let mut checked = 0;
    for (line, block) in doc_examples() {
        // Fragments (a single field shown on its own) are not whole scenarios.
        if !block.contains("about:") {
            continue;
        }
        checked += 1;
        let errors = schema_errors(&v, &block);
        assert!(errors.is_empty(), "docs line {line}: {errors:?}");
        if let Err(e) = load_str(&block, Path::new("docs/scenario-format.md"), "doc") {
            panic!("docs line {line}: {e}");
        }
    }
    assert!(checked >= 2, "the format document shows whole examples");
}

#[test]
fn a_document_using_every_field_passes_both() {
    let v = validator();
    assert_eq!(schema_errors(&v, EVERYTHING), Vec::<String>::new());
    let s = load_str(EVERYTHING, Path::new("everything.yaml"), "everything").unwrap();
    assert!(s.strict_order && s.cpython_expect);
    assert_eq!(s.divergences.len(), 3);
}

/// Every property name in the schema, at any depth.
fn schema_properties(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(map) => {
            if let Some(Value::Object(props)) = map.get("properties") {
                out.extend(props.keys().cloned());
            }
            map.values().for_each(|x| schema_properties(x, out));
        }
        Value::Array(items) => items.iter().for_each(|x| schema_properties(x, out)),
        _ => {}
    }
}

/// Every mapping key in a document that is not free-form (tree paths, expect labels,
/// eval expressions).
fn document_keys(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(map) => {
            for (k, x) in map {
                out.insert(k.clone());
                match k.as_str() {
                    "tree" => {}
                    "expect" => {
                        for claims in x.as_object().into_iter().flat_map(|m| m.values()) {
                            for (ck, cv) in claims.as_object().into_iter().flatten() {
                                out.insert(ck.clone());
                                if ck != "eval" {
                                    document_keys(cv, out);
                                }
                            }
                        }
                    }
                    _ => document_keys(x, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|x| document_keys(x, out)),
        _ => {}
    }
}

#[test]
fn the_schema_names_exactly_the_fields_the_loader_reads() {
    let mut in_schema = BTreeSet::new();
    schema_properties(&schema(), &mut in_schema);
    let mut in_doc = BTreeSet::new();
    document_keys(&as_json(EVERYTHING), &mut in_doc);
    // The loader accepts EVERYTHING (tested above) and rejects unknown keys, so every key
    // of it is a loader field; the schema must name the same set.
    assert_eq!(in_schema, in_doc);
}

#[test]
fn broken_documents_fail_both() {
    let v = validator();
    let head = "about: x\ntree: {}\n";
    let steps = "steps:\n  - observe: a\n  - run: import m\n  - observe: b\n";
    let cases = [
        format!("{head}{steps}colour: blue\n"),
        format!("{head}steps:\n  - observe: a\n    evaluate: [x]\n"),
        format!("{head}steps:\n  - run: x\n    observe: a\n"),
        format!("{head}steps:\n  - raises: KeyError\n"),
        format!("{head}steps:\n  - observe: A\n"),
        format!("{head}steps:\n  - run: x\n    eval: [x]\n"),
        format!("{head}steps:\n  - observe: a\n    raises: KeyError\n"),
        format!("{head}steps:\n  - run: x\n    raises: Key Error\n"),
        "about: x\ntree:\n  /abs.py: ''\nsteps: []\n".to_string(),
        "about: x\ntree:\n  a/../b.py: ''\nsteps: []\n".to_string(),
        "about: x\ntree:\n  a//b.py: ''\nsteps: []\n".to_string(),
        "about: x\ntree:\n  'a\\b.py': ''\nsteps: []\n".to_string(),
        "about: x\ntree:\n  ./a.py: ''\nsteps: []\n".to_string(),
        "about: x\nheap: 36KB\ntree: {}\nsteps: []\n".to_string(),
        "about: x\nheap: 0\ntree: {}\nsteps: []\n".to_string(),
        "about: ' '\ntree: {}\nsteps: []\n".to_string(),
        "tree: {}\nsteps: []\n".to_string(),
        "about: x\nsteps: []\n".to_string(),
        format!("{head}{steps}expect:\n  b:\n    reclaims:\n      load: [a]\n      is: none\n"),
        format!("{head}{steps}expect:\n  b:\n    reclaims:\n      load: [a, b]\n      is: all\n"),
        format!("{head}{steps}expect:\n  b:\n    module:\n      has: [m]\n"),
        format!("{head}{steps}expect:\n  b:\n    names:\n      has: [m]\n      hass: [n]\n"),
        format!("{head}{steps}timeout: 0\n"),
        format!("{head}{steps}strict_order: sometimes\n"),
        format!("{head}{steps}divergences:\n  - {{target: rust, field: status, reason: r}}\n"),
        format!("{head}{steps}divergences:\n  - {{target: rust, field: memory}}\n"),
        format!(
            "{head}{steps}divergences:\n  - {{target: rust, field: memory, reason: r, why: x}}\n"
        ),
    ];
    for text in &cases {
        assert!(
            !schema_errors(&v, text).is_empty(),
            "the schema accepts:\n{text}"
        );
        assert!(
            load_str(text, Path::new("bad.yaml"), "bad").is_err(),
            "the loader accepts:\n{text}"
        );
    }
}
