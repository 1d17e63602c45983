//! The driver: one Python script per scenario that implements the observation protocol of
//! SCENARIOS.md on any MicroPython-compatible interpreter, and the parser of what it prints.
//!
//! Every target that runs Python source (the unix ports, a board over its raw REPL, the Rust
//! firmware, CPython) runs the same script, so the protocol lives in exactly one place:
//!
//! - the scenario namespace is a fresh dict `{'__name__': '__main__'}` held by the driver,
//!   separate from the driver's own globals, so none of the driver's names is ever visible in it;
//! - each `run` step is `exec(source, ns)`, compiled on its own;
//! - an `observe` step scrubs the stack, calls `gc.collect()`, then reads `gc.mem_free()` and
//!   `gc.mem_alloc()` into pre-bound globals (no heap allocation in between), then prints the
//!   modules, the names and the evals.
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

/// Runs once before the steps: pre-binds every name the driver uses at top level (so its
/// own globals table never grows between `gc.collect()` and `gc.mem_free()`), defines the
/// stack scrubber and takes the baseline.
///
/// The loop runs at the top level of the script, not inside a function, and calls
/// `_mpdiff_scrub()` right before `gc.collect()`: MicroPython scans the C stack
/// conservatively, and stale words left there by the previous step (a module's globals
/// dict, its bytecode) would otherwise keep objects alive that nothing reachable holds
/// (semantics.md 4.7). The scrubber's frame overwrites that stretch of stack with small
/// ints, so the reading reflects what is reachable, as a fresh REPL line would.
const HEAD: &str = r#"_b = _n = _i = _s = _k = _e = _j = _x = _f = _a = None
def _mpdiff_scrub():
    _z0 = _z1 = _z2 = _z3 = _z4 = _z5 = _z6 = _z7 = _z8 = _z9 = _za = _zb = _zc = _zd = _ze = _zf = 0
_b = list(sys.modules)
for _k in sorted(_b):
    print('#~B', repr(_k))
_n = {'__name__': '__main__'}
_i = 0
"#;

/// The step loop; `_mpdiff_steps` is the tuple of `(0, source)` and `(1, evals)` items.
const LOOP: &str = r#"for _s in _mpdiff_steps:
    if _s[0]:
        _mpdiff_scrub()
        gc.collect()
        _f = gc.mem_free()
        _a = gc.mem_alloc()
        print('#~O', _i, _f, _a)
        for _k in sorted(sys.modules):
            if _k not in _b:
                print('#~M', repr(_k))
        for _k in _n:
            print('#~N', repr(_k))
        _j = 0
        for _e in _s[1]:
            try:
                print('#~V', _i, _j, repr(repr(eval(_e, _n))))
            except Exception as _x:
                print('#~X', _i, _j, type(_x).__name__, repr(str(_x)))
            _j += 1
    else:
        print('#~S', _i)
        try:
            exec(_s[1], _n)
        except Exception as _x:
            print('#~E', _i, type(_x).__name__, repr(str(_x)))
    _i += 1
print('#~END')
"#;

/// Builds the driver script for a scenario. `setup` runs after the prelude and before
/// the baseline is taken (e.g. `sys.path[0] = ''` to import from the current folder).
pub fn script(scenario: &Scenario, prelude: &str, setup: &str) -> String {
    let mut out = String::with_capacity(HEAD.len() + LOOP.len() + 256);
    out.push_str(prelude);
    out.push_str(setup);
    if !setup.is_empty() && !setup.ends_with('\n') {
        out.push('\n');
    }
    out.push_str("_mpdiff_steps = (\n");
    for step in &scenario.steps {
        match step {
            Step::Run { source, .. } => {
                out.push_str(" (0, ");
                push_py_str(&mut out, source);
                out.push_str("),\n");
            }
            Step::Observe { eval, .. } => {
                out.push_str(" (1, (");
                for e in eval {
                    push_py_str(&mut out, e);
                    out.push_str(", ");
                }
                out.push_str(")),\n");
            }
        }
    }
    out.push_str(")\n");
    out.push_str(HEAD);
    out.push_str(LOOP);
    out
}

/// A Python string literal for `s`, valid on MicroPython 1.9.4 and CPython.
pub fn py_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    push_py_str(&mut out, s);
    out
}

/// Appends [`py_str`]`(s)` to `out`. Every character that needs an escape is ASCII, so the
/// text between them is copied as whole slices.
fn push_py_str(out: &mut String, s: &str) {
    out.push('\'');
    let mut plain = 0;
    for (i, b) in s.bytes().enumerate() {
        let escape = match b {
            b'\\' => "\\\\",
            b'\'' => "\\'",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0..0x20 | 0x7f => "",
            _ => continue,
        };
        out.push_str(&s[plain..i]);
        plain = i + 1;
        if escape.is_empty() {
            out.push_str(&format!("\\x{b:02x}"));
        } else {
            out.push_str(escape);
        }
    }
    out.push_str(&s[plain..]);
    out.push('\'');
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
        // records start their line unless a step printed without a newline
        let pos = if line.starts_with(MARK) {
            0
        } else {
            let Some(pos) = line.find(MARK) else { continue };
            pos
        };
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
    if !inner.contains('\\') {
        return Ok(inner.to_string());
    }
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
                let v =
                    u32::from_str_radix(&hex, 16).map_err(|_| format!("bad escape \\{e}{hex}"))?;
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
    fn str_literals_escape_exactly_these_characters() {
        assert_eq!(
            py_str("a'b\\c\nd\re\tf\x01g\x7fh\u{e9}\u{2713}\"i"),
            "'a\\'b\\\\c\\nd\\re\\tf\\x01g\\x7fh\u{e9}\u{2713}\"i'"
        );
        assert_eq!(py_str(""), "''");
        assert_eq!(py_str("\x1f"), "'\\x1f'");
    }

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
