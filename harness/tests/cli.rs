//! The `mpdiff` command as a user meets it: exit codes, error positions, JSON lines.
//! Runs use the fake targets (`fake`, `fake:shrink`, `fake:error`, ...) so they need no
//! interpreter.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const PLAIN: &str = "\
about: nothing is claimed, so any target that runs it is ok
tree:
  pkg/__init__.py: \"\"
steps:
  - observe: before
  - run: import pkg
  - observe: after
";

const CLAIMS_A_NAME: &str = "\
about: claims a name that the fake never shows
tree: {}
steps:
  - run: x = 1
  - observe: after
expect:
  after:
    names:
      has: [x]
";

/// `about` spelled wrong on line 1.
const TYPO: &str = "\
abuot: a typo
tree: {}
steps:
  - observe: a
";

struct Dir {
    tmp: tempfile::TempDir,
}

impl Dir {
    fn new(files: &[(&str, &str)]) -> Dir {
        let tmp = tempfile::tempdir().expect("temp dir");
        for (name, text) in files {
            let path = tmp.path().join("scenarios").join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        Dir { tmp }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.tmp.path().join(rel)
    }
}

fn mpdiff(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mpdiff"))
        .args(args)
        .current_dir(cwd)
        .env_remove("CI")
        .env_remove("INSTA_UPDATE")
        .output()
        .expect("mpdiff runs")
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("mpdiff exits with a code")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn run(dir: &Dir, extra: &[&str]) -> Output {
    let mut args = vec!["run"];
    args.extend_from_slice(extra);
    args.push("scenarios");
    mpdiff(&args, dir.tmp.path())
}

#[test]
fn exit_0_when_everything_holds() {
    let d = Dir::new(&[("a/plain.yaml", PLAIN)]);
    let o = run(&d, &["-t", "fake", "-t", "fake:shrink"]);
    assert_eq!(code(&o), 0, "{}{}", text(&o.stdout), text(&o.stderr));
    let out = text(&o.stdout);
    assert!(out.contains("a/plain"), "{out}");
    assert!(out.contains("2 ok, 0 failed, 0 error"), "{out}");
}

#[test]
fn exit_1_when_an_expectation_fails() {
    let d = Dir::new(&[("plain.yaml", PLAIN), ("claims.yaml", CLAIMS_A_NAME)]);
    let o = run(&d, &["-t", "fake"]);
    assert_eq!(code(&o), 1, "{}{}", text(&o.stdout), text(&o.stderr));
    let out = text(&o.stdout);
    assert!(out.contains("FAILED claims on fake"), "{out}");
    assert!(out.contains("name missing: x"), "{out}");
}

#[test]
fn exit_1_when_targets_disagree() {
    let d = Dir::new(&[("plain.yaml", PLAIN)]);
    let o = mpdiff(&["diff", "fake", "fake:shrink", "scenarios"], d.tmp.path());
    assert_eq!(code(&o), 1, "{}{}", text(&o.stdout), text(&o.stderr));
    let out = text(&o.stdout);
    assert!(out.contains("memory"), "{out}");
    // Byte counts side by side: the fake loses 1000 bytes, the other gains 1000.
    assert!(out.contains("-1000") && out.contains("+1000"), "{out}");

    let o = mpdiff(
        &["diff", "fake", "fake:reference", "scenarios"],
        d.tmp.path(),
    );
    assert_eq!(code(&o), 0, "{}{}", text(&o.stdout), text(&o.stderr));
}

#[test]
fn exit_2_for_a_typo_with_its_line_and_the_others_still_run() {
    let d = Dir::new(&[("good.yaml", PLAIN), ("typo.yaml", TYPO)]);
    let o = run(&d, &["-t", "fake", "--format", "json"]);
    assert_eq!(code(&o), 2, "{}{}", text(&o.stdout), text(&o.stderr));
    let err = text(&o.stderr);
    assert!(err.contains("typo.yaml:1:"), "{err}");
    assert!(err.contains("abuot"), "{err}");
    let lines: Vec<String> = text(&o.stdout).lines().map(str::to_string).collect();
    assert_eq!(lines.len(), 1, "the good scenario still runs: {lines:?}");
    assert!(lines[0].contains("\"scenario\":\"good\""), "{}", lines[0]);

    let o = mpdiff(&["check", "scenarios"], d.tmp.path());
    assert_eq!(code(&o), 2);
    assert!(text(&o.stderr).contains("typo.yaml:1:"));
}

#[test]
fn exit_2_for_bad_usage() {
    let d = Dir::new(&[("plain.yaml", PLAIN)]);
    let o = run(&d, &["-t", "unix16"]);
    assert_eq!(code(&o), 2);
    let err = text(&o.stderr);
    assert!(
        err.contains("unknown target `unix16`") && err.contains("unix32"),
        "{err}"
    );

    let o = mpdiff(&["run", "-t", "fake", "no/such/folder"], d.tmp.path());
    assert_eq!(code(&o), 2);
    assert!(text(&o.stderr).contains("no/such/folder"));

    let o = mpdiff(&["run", "--jobs", "many", "scenarios"], d.tmp.path());
    assert_eq!(code(&o), 2);

    let o = mpdiff(&["check", "scenarios"], d.tmp.path());
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
}

#[test]
fn exit_3_when_a_target_cannot_run() {
    let d = Dir::new(&[("plain.yaml", PLAIN)]);
    for fake in ["fake:error", "fake:unavailable", "fake:panic"] {
        let o = run(&d, &["-t", "fake", "-t", fake]);
        assert_eq!(
            code(&o),
            3,
            "{fake}: {}{}",
            text(&o.stdout),
            text(&o.stderr)
        );
        assert!(text(&o.stdout).contains("ERROR"), "{fake}");
    }
}

#[test]
fn the_highest_code_wins() {
    let d = Dir::new(&[("claims.yaml", CLAIMS_A_NAME), ("typo.yaml", TYPO)]);
    // failed (1) and bad scenario (2) and a target that cannot run (3): 3.
    let o = run(&d, &["-t", "fake", "-t", "fake:error"]);
    assert_eq!(code(&o), 3);
    // failed (1) and bad scenario (2): 2.
    let o = run(&d, &["-t", "fake"]);
    assert_eq!(code(&o), 2);
}

#[test]
fn json_lines_are_one_outcome_each_and_nothing_else() {
    let d = Dir::new(&[("plain.yaml", PLAIN), ("claims.yaml", CLAIMS_A_NAME)]);
    let o = run(&d, &["-t", "fake", "-t", "fake:shrink", "--format", "json"]);
    assert_eq!(code(&o), 1);
    let stdout = text(&o.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 4, "2 scenarios x 2 targets: {stdout}");
    let mut pairs = Vec::new();
    for line in lines {
        let v: serde_json::Value = serde_json::from_str(line).expect("each line is JSON");
        let obj = v.as_object().expect("each line is an object");
        for key in [
            "scenario",
            "target",
            "target_info",
            "baseline_modules",
            "observations",
            "errors",
            "expectations",
            "status",
        ] {
            assert!(obj.contains_key(key), "{key} missing in {line}");
        }
        let status = obj["status"].as_str().unwrap();
        assert!(["ok", "failed", "error"].contains(&status), "{line}");
        let obs = obj["observations"].as_array().unwrap();
        assert!(
            obs.iter()
                .all(|o| o["free"].is_i64() && o["names"].is_array())
        );
        pairs.push(format!("{}@{}", obj["scenario"], obj["target"]));
    }
    pairs.sort();
    pairs.dedup();
    assert_eq!(pairs.len(), 4, "{pairs:?}");
}

#[test]
fn record_writes_golden_files_for_references_only() {
    let d = Dir::new(&[("seed/plain.yaml", PLAIN)]);
    let o = mpdiff(&["record", "-t", "fake", "scenarios"], d.tmp.path());
    assert_eq!(code(&o), 2);
    assert!(text(&o.stderr).contains("not a reference target"));

    let o = mpdiff(
        &["record", "-t", "fake:reference", "scenarios"],
        d.tmp.path(),
    );
    assert_eq!(code(&o), 0, "{}{}", text(&o.stdout), text(&o.stderr));
    let snap = d.path("golden/seed/plain@fake_reference.snap");
    let body = std::fs::read_to_string(&snap).expect("golden file written");
    assert!(body.starts_with("---\n"), "{body}");
    assert!(
        body.contains("target_info: fake target fake:reference, heap 36864 bytes"),
        "{body}"
    );
    assert!(!body.contains("wall"), "no timings in a snapshot: {body}");

    let o = mpdiff(
        &["record", "-t", "fake:reference", "scenarios"],
        d.tmp.path(),
    );
    assert!(text(&o.stdout).contains("unchanged"), "{}", text(&o.stdout));

    let o = mpdiff(
        &[
            "record",
            "-t",
            "fake:reference",
            "--label",
            "esp8266",
            "scenarios",
        ],
        d.tmp.path(),
    );
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    let body = std::fs::read_to_string(d.path("golden/seed/plain@esp8266.snap")).unwrap();
    assert!(body.contains("\ntarget: esp8266\n"), "{body}");
    let o = mpdiff(
        &[
            "record",
            "-t",
            "fake:reference",
            "--label",
            "../x",
            "scenarios",
        ],
        d.tmp.path(),
    );
    assert_eq!(code(&o), 2);

    let o = Command::new(env!("CARGO_BIN_EXE_mpdiff"))
        .args(["record", "-t", "fake:reference", "scenarios"])
        .current_dir(d.tmp.path())
        .env("CI", "true")
        .output()
        .unwrap();
    assert_eq!(code(&o), 2);
    assert!(text(&o.stderr).contains("CI"), "{}", text(&o.stderr));
}

#[test]
fn help_shows_examples() {
    let o = mpdiff(&["--help"], Path::new("."));
    assert_eq!(code(&o), 0);
    let out = text(&o.stdout);
    assert!(out.contains("mpdiff run scenarios/"), "{out}");
    assert!(out.contains("Exit codes"), "{out}");
}

/// Records `seed/plain` with the `fake:reference` target and renames its snapshot to the one
/// of target `as_target` (file name spelling), so that target has a golden file.
fn record_fake_reference_as(d: &Dir, as_target: &str) {
    let o = mpdiff(
        &["record", "-t", "fake:reference", "scenarios"],
        d.tmp.path(),
    );
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    std::fs::rename(
        d.path("golden/seed/plain@fake_reference.snap"),
        d.path(&format!("golden/seed/plain@{as_target}.snap")),
    )
    .unwrap();
}

#[test]
fn without_a_live_reference_the_golden_unix32_files_stand_in() {
    let d = Dir::new(&[("seed/plain.yaml", PLAIN)]);
    // Pose the fake reference's snapshot as the unix32 one.
    record_fake_reference_as(&d, "unix32");

    let o = run(&d, &["-t", "fake"]);
    assert_eq!(code(&o), 0, "{}{}", text(&o.stdout), text(&o.stderr));
    let out = text(&o.stdout);
    assert!(out.contains("ok ✓"), "{out}");
    assert!(
        out.contains("fake agrees with unix32 (golden snapshots) on 1/1"),
        "{out}"
    );

    // The same names, but free memory moves the other way: the memory class differs.
    let o = run(&d, &["-t", "fake:shrink"]);
    assert_eq!(code(&o), 1, "{}{}", text(&o.stdout), text(&o.stderr));
    assert!(
        text(&o.stdout).contains("ok ✗ memory"),
        "{}",
        text(&o.stdout)
    );
}

#[test]
fn diff_compares_with_golden_files_when_the_reference_cannot_run() {
    let d = Dir::new(&[("seed/plain.yaml", PLAIN)]);
    let o = mpdiff(
        &["diff", "fake:unavailable", "fake", "scenarios"],
        d.tmp.path(),
    );
    assert_eq!(code(&o), 3, "no golden file: {}", text(&o.stderr));

    record_fake_reference_as(&d, "fake_unavailable");
    let o = mpdiff(
        &["diff", "fake:unavailable", "fake", "scenarios"],
        d.tmp.path(),
    );
    assert_eq!(code(&o), 0, "{}{}", text(&o.stdout), text(&o.stderr));
    assert!(text(&o.stderr).contains("comparing with its golden snapshots"));
    assert!(text(&o.stdout).contains("fake agrees with fake:reference on 1/1"));
    let o = mpdiff(
        &["diff", "fake:unavailable", "fake:shrink", "scenarios"],
        d.tmp.path(),
    );
    assert_eq!(code(&o), 1, "{}{}", text(&o.stdout), text(&o.stderr));
}
