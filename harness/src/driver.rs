//! The driver: one Python script per scenario that implements the observation protocol of
//! SCENARIOS.md on any MicroPython-compatible interpreter, and the parser of what it prints.
//!
//! Every target that runs Python source (the unix ports, a board over its raw REPL, the Rust
//! firmware, CPython) runs the same script, so the protocol lives in exactly one place:
//!
//! - the scenario namespace is a fresh dict `{'__name__': '__main__'}` owned by the driver's
//!   main function, so none of the driver's names is ever visible in it;
//! - each `run` step is `exec(source, ns)`, compiled on its own;
//! - an `observe` step calls `gc.collect()`, then reads `gc.mem_free()` and `gc.mem_alloc()`
//!   into locals (no heap allocation in between), then prints the modules, the names and
//!   the evals.
//!
//! The script prints records, one per line, each starting with [`MARK`]. Anything else the
//! scenario prints is ignored, and a record may follow scenario output on the same line.

use indexmap::IndexMap;

use crate::outcome::{Observation, StepError};
use crate::scenario::{Scenario, Step};

/// The marker that starts every record the driver prints.
pub const MARK: &str = "#~";

/// The standard prelude: binds `gc` and `sys` in the driver's globals. Targets may pass
/// their own (CPython binds a `gc` look-alike built on tracemalloc).
pub const MICROPYTHON_PRELUDE: &str = "import gc\nimport sys\n";

/// The part of the driver that does not depend on the scenario.
const BODY: &str = r#"def _mpdiff_obs(i, ev, ns, base):
    gc.collect()
    f = gc.mem_free()
    a = gc.mem_alloc()
    print('#~O', i, f, a)
    for k in sorted(sys.modules):
        if k not in base:
            print('#~M', repr(k))
    for k in ns:
        print('#~N', repr(k))
    j = 0
    for e in ev:
        try:
            print('#~V', i, j, repr(repr(eval(e, ns))))
        except Exception as x:
            print('#~X', i, j, type(x).__name__, repr(str(x)))
        j += 1
def _mpdiff_run(i, src, ns):
    print('#~S', i)
    try:
        exec(src, ns)
    except Exception as x:
        print('#~E', i, type(x).__name__, repr(str(x)))
def _mpdiff_main(steps):
    base = list(sys.modules)
    for k in sorted(base):
        print('#~B', repr(k))
    ns = {'__name__': '__main__'}
    i = 0
    for s in steps:
        if s[0]:
            _mpdiff_obs(i, s[1], ns, base)
        else:
            _mpdiff_run(i, s[1], ns)
        i += 1
    print('#~END')
"#;

/// Builds the driver script for a scenario. `setup` runs after the prelude and before
/// the baseline is taken (e.g. `sys.path[0] = ''` to import from the current folder).
pub fn script(scenario: &Scenario, prelude: &str, setup: &str) -> String {
    let mut out = String::with_capacity(BODY.len() + 256);
    out.push_str(prelude);
    out.push_str(setup);
    if !setup.is_empty() && !setup.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(BODY);
    out.push_str("_mpdiff_main((\n");
    for step in &scenario.steps {
        match step {
            Step::Run { source, .. } => {
                out.push_str(" (0, ");
                out.push_str(&py_str(source));
                out.push_str("),\n");
            }
            Step::Observe { eval, .. } => {
                out.push_str(" (1, (");
                for e in eval {
                    out.push_str(&py_str(e));
                    out.push_str(", ");
                }
                out.push_str(")),\n");
            }
        }
    }
    out.push_str("))\n");
    out
}

/// A Python string literal for `s`, valid on MicroPython 1.9.4 and CPython.
pub fn py_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// What the driver reported, parsed from its output.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    /// Sorted baseline modules.
    pub baseline_modules: Vec<String>,
    /// Observations, labelled from the scenario.
    pub observations: Vec<Observation>,
    /// Every exception raised by a run step.
    pub exceptions: Vec<StepError>,
    /// Index of the last step that started, if any.
    pub last_step: Option<usize>,
    /// Whether the driver printed its end record.
    pub finished: bool,
}

/// Parses the driver's output. Lines without a record are scenario output and ignored;
/// a malformed record is an error naming the line.
pub fn parse(scenario: &Scenario, output: &str) -> Result<Report, String> {
    let mut report = Report::default();
    for (n, line) in output.lines().enumerate() {
        let Some(pos) = line.find(MARK) else { continue };
        let record = line[pos + MARK.len()..].trim_end_matches('\r');
        parse_record(scenario, record, &mut report)
            .map_err(|e| format!("driver output line {}: {e}: {line:?}", n + 1))?;
    }
    Ok(report)
}

fn parse_record(scenario: &Scenario, record: &str, report: &mut Report) -> Result<(), String> {
    let (tag, rest) = record.split_once(' ').unwrap_or((record, ""));
    match tag {
        "B" => report.baseline_modules.push(py_unrepr(rest)?),
        "S" => report.last_step = Some(int(rest)?),
        "O" => {
            let mut f = rest.split(' ');
            let step: usize = int(f.next().unwrap_or(""))?;
            let label = match scenario.steps.get(step) {
                Some(Step::Observe { label, .. }) => label.clone(),
                _ => return Err(format!("step {step} is not an observation")),
            };
            let free = int(f.next().unwrap_or(""))?;
            let alloc = int(f.next().unwrap_or(""))?;
            report.observations.push(Observation {
                label,
                free,
                alloc,
                modules: Vec::new(),
                names: Vec::new(),
                eval: IndexMap::new(),
            });
        }
        "M" => current(report)?.modules.push(py_unrepr(rest)?),
        "N" => current(report)?.names.push(py_unrepr(rest)?),
        "V" | "X" => {
            let mut f = rest.splitn(3, ' ');
            let step: usize = int(f.next().unwrap_or(""))?;
            let j: usize = int(f.next().unwrap_or(""))?;
            let tail = f.next().unwrap_or("");
            let expr = match scenario.steps.get(step) {
                Some(Step::Observe { eval, .. }) => eval
                    .get(j)
                    .cloned()
                    .ok_or_else(|| format!("no eval {j} at step {step}"))?,
                _ => return Err(format!("step {step} is not an observation")),
            };
            let value = if tag == "V" {
                py_unrepr(tail)?
            } else {
                let (kind, msg) = tail.split_once(' ').unwrap_or((tail, "''"));
                let msg = py_unrepr(msg)?;
                if msg.is_empty() {
                    format!("<raised {kind}>")
                } else {
                    format!("<raised {kind}: {msg}>")
                }
            };
            current(report)?.eval.insert(expr, value);
        }
        "E" => {
            let mut f = rest.splitn(3, ' ');
            let step: usize = int(f.next().unwrap_or(""))?;
            let kind = f.next().unwrap_or("").to_string();
            let message = py_unrepr(f.next().unwrap_or("''"))?;
            report.exceptions.push(StepError {
                step,
                kind,
                message,
            });
        }
        "END" => report.finished = true,
        other => return Err(format!("unknown record {other:?}")),
    }
    Ok(())
}

fn current(report: &mut Report) -> Result<&mut Observation, String> {
    report
        .observations
        .last_mut()
        .ok_or_else(|| "record before any observation".to_string())
}

fn int<T: std::str::FromStr>(s: &str) -> Result<T, String> {
    s.trim()
        .parse()
        .map_err(|_| format!("expected a number, found {s:?}"))
}

/// Reads back a Python `repr()` of a `str` (either quote, the escapes MicroPython and
/// CPython print). Text that is not a str repr is returned as it is.
pub fn py_unrepr(s: &str) -> Result<String, String> {
    let s = s.trim_end();
    let bytes = s.as_bytes();
    let quote = match bytes.first() {
        Some(q @ (b'\'' | b'"')) if s.len() >= 2 && bytes[s.len() - 1] == *q => *q as char,
        _ => return Ok(s.to_string()),
    };
    let inner = &s[1..s.len() - 1];
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let e = chars.next().ok_or("dangling backslash")?;
        match e {
            '\\' | '\'' | '"' => out.push(e),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'a' => out.push('\x07'),
            'b' => out.push('\x08'),
            'f' => out.push('\x0c'),
            'v' => out.push('\x0b'),
            '0' => out.push('\0'),
            'x' | 'u' | 'U' => {
                let n = match e {
                    'x' => 2,
                    'u' => 4,
                    _ => 8,
                };
                let hex: String = chars.by_ref().take(n).collect();
                let v = u32::from_str_radix(&hex, 16).map_err(|_| format!("bad escape \\{e}{hex}"))?;
                out.push(char::from_u32(v).ok_or_else(|| format!("bad code point {v:#x}"))?);
            }
            other => {
                out.push('\\');
                out.push(other);
            }
        }
    }
    let _ = quote;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn str_literals_round_trip() {
        for s in ["", "a'b\"c", "x\ny\r\tz\\", "\x01\x7f", "héllo ✓"] {
            assert_eq!(py_unrepr(&py_str(s)).unwrap(), s);
        }
    }

    #[test]
    fn unrepr_reads_both_quotes_and_escapes() {
        assert_eq!(py_unrepr(r#""it's""#).unwrap(), "it's");
        assert_eq!(py_unrepr(r"'\x41\u00e9'").unwrap(), "Aé");
        assert_eq!(py_unrepr("42").unwrap(), "42");
        assert!(py_unrepr(r"'\xZZ'").is_err());
    }
}
