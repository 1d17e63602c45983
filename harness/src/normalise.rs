//! Normalisation: an ordered list of small filters that remove from what a target observed
//! the things its interpreter adds on its own and MicroPython 1.9.4 has no notion of, so
//! the comparison never needs a special case for a target.
//!
//! Only CPython needs it today ([`CPYTHON`]). Each rule is one [`Filter`] with the reason
//! it exists; rules run in order and new ones are appended. They act on an
//! [`Execution`] before its claims are checked, so `expect` and every comparison see the
//! normalised names.

use crate::targets::Execution;

/// What a filter may need to know about the run it normalises.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    /// The absolute folder the scenario's tree was placed in, if the target put it in a
    /// folder of its own.
    pub tree_root: Option<String>,
}

/// One normalisation step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filter {
    /// Removes a name from the namespace names of every observation.
    DropName(&'static str),
    /// Records an exception type under another name: in [`Execution::exceptions`] and in
    /// eval values of the form `<raised Type...>`.
    RenameError {
        /// The type name the target reports.
        from: &'static str,
        /// The type name recorded instead.
        to: &'static str,
    },
    /// Removes the tree's folder from eval values and exception messages: `ROOT/a.py`
    /// becomes `a.py` and a bare `ROOT` becomes the empty string (the current folder),
    /// which is how a target importing from its current folder spells the same paths.
    StripTreeRoot,
    /// Replaces the hex digits of object addresses in eval values and exception messages
    /// by `[ADDR]` ([`mask_addresses`]).
    MaskAddresses,
    /// Replaces the run's own temporary folder (the one holding the tree) by `[TMP]` in
    /// eval values and exception messages: files the target keeps there, such as the
    /// capture of standard output, show in reprs.
    MaskScratch,
}

/// A filter and why it exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// What the rule does.
    pub filter: Filter,
    /// Why, in one sentence (shown in docs/cpython.md).
    pub why: &'static str,
}

/// The normalisation applied to every CPython execution, in order.
pub const CPYTHON: &[Rule] = &[
    Rule {
        filter: Filter::DropName("__builtins__"),
        why: "exec() inserts the builtins module into any globals dict that lacks it; \
              MicroPython never adds a name to the namespace",
    },
    Rule {
        filter: Filter::DropName("__doc__"),
        why: "CPython stores a leading string literal of a run step as __doc__; MicroPython \
              1.9.4 is built without MICROPY_ENABLE_DOC_STRING and does not",
    },
    Rule {
        filter: Filter::DropName("__annotations__"),
        why: "CPython creates __annotations__ for an annotated assignment at top level; \
              MicroPython 1.9.4 rejects the syntax (the step's error still differs)",
    },
    Rule {
        filter: Filter::RenameError {
            from: "ModuleNotFoundError",
            to: "ImportError",
        },
        why: "CPython 3.6+ raises the ImportError subclass ModuleNotFoundError for a missing \
              module, where MicroPython raises ImportError itself",
    },
    Rule {
        filter: Filter::RenameError {
            from: "RecursionError",
            to: "RuntimeError",
        },
        why: "CPython 3.5+ raises the RuntimeError subclass RecursionError when the recursion \
              limit is hit, where MicroPython raises RuntimeError itself",
    },
    Rule {
        filter: Filter::RenameError {
            from: "UnboundLocalError",
            to: "NameError",
        },
        why: "CPython raises the NameError subclass UnboundLocalError for a local read before \
              assignment, where MicroPython 1.9.4 raises NameError itself",
    },
    Rule {
        filter: Filter::StripTreeRoot,
        why: "CPython imports the tree from a fresh temporary folder whose absolute path \
              shows in __file__ and module reprs and changes on every run",
    },
    Rule {
        filter: Filter::MaskAddresses,
        why: "a default CPython repr shows the object's address, which changes on every run",
    },
    Rule {
        filter: Filter::MaskScratch,
        why: "sys.stdout and sys.stderr are the run's capture file in a fresh temporary \
              folder, whose path shows in their repr",
    },
];

impl Filter {
    /// Applies this filter to `execution`.
    pub fn apply(&self, context: &Context, execution: &mut Execution) {
        match *self {
            Filter::DropName(name) => {
                for obs in &mut execution.observations {
                    obs.names.retain(|n| n != name);
                }
            }
            Filter::RenameError { from, to } => {
                for e in &mut execution.exceptions {
                    if e.kind == from {
                        e.kind = to.to_string();
                    }
                }
                let raised = format!("<raised {from}");
                for obs in &mut execution.observations {
                    for value in obs.eval.values_mut() {
                        if let Some(rest) = value.strip_prefix(&raised)
                            && (rest.starts_with('>') || rest.starts_with(':'))
                        {
                            *value = format!("<raised {to}{rest}");
                        }
                    }
                }
            }
            Filter::StripTreeRoot => {
                let Some(root) = context.tree_root.as_deref().filter(|r| !r.is_empty()) else {
                    return;
                };
                let root = root.trim_end_matches('/');
                let strip = |s: &mut String| {
                    if s.contains(root) {
                        *s = s.replace(&format!("{root}/"), "").replace(root, "");
                    }
                };
                each_text(execution, strip);
            }
            Filter::MaskScratch => {
                let Some(scratch) = context
                    .tree_root
                    .as_deref()
                    .map(|r| r.trim_end_matches('/'))
                    .and_then(|r| r.rsplit_once('/'))
                    .map(|(parent, _)| parent)
                    .filter(|p| !p.is_empty())
                else {
                    return;
                };
                let mask = |s: &mut String| {
                    if s.contains(scratch) {
                        *s = s.replace(scratch, "[TMP]");
                    }
                };
                each_text(execution, mask);
            }
            Filter::MaskAddresses => {
                each_text(execution, |s| *s = mask_addresses(s));
            }
        }
    }
}

/// Applies `f` to every text of `execution` a repr or a message can show: eval values and
/// exception messages.
fn each_text(execution: &mut Execution, mut f: impl FnMut(&mut String)) {
    for obs in &mut execution.observations {
        obs.eval.values_mut().for_each(&mut f);
    }
    for e in &mut execution.exceptions {
        f(&mut e.message);
    }
}

/// Where an object's address shows in a default repr, as the text just before the hex
/// digits and what may follow them. MicroPython 1.9.4 prints addresses with `%p`
/// (`py/objfun.c`, `objtype.c`, `objboundmeth.c`, `objgenerator.c`, `objclosure.c`,
/// `objcell.c`), CPython after ` at 0x`.
const ADDRESS_SHAPES: &[(&str, &[char])] = &[
    // <function f at 0x...>, CPython's <object object at 0x...>
    (" at 0x", &['>', ' ', ',']),
    // <C object at ...>, <generator object 'g' at ...>, <closure ... at ..., n_closed=1 ...>
    (" at ", &['>', ',']),
    // <bound_method ... <self>.<function>>
    ("<bound_method ", &[' ']),
    // <cell ... value>
    ("<cell ", &[' ']),
];

/// The fewest hex digits taken for an address: shorter runs are ordinary text.
const MIN_ADDRESS_DIGITS: usize = 6;

/// `text` with the hex digits of every object address in it replaced by `[ADDR]`.
///
/// An address is where a target's allocator put an object: it differs between targets,
/// word sizes and runs, so comparisons and golden files leave it out. Only the shapes
/// of [`ADDRESS_SHAPES`] count, with at least [`MIN_ADDRESS_DIGITS`] hex digits followed
/// by one of the shape's closing characters, so ordinary text such as `'look at face'`
/// is kept.
pub fn mask_addresses(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    'scan: while !rest.is_empty() {
        for (i, _) in rest.char_indices() {
            for &(before, after) in ADDRESS_SHAPES {
                let Some(tail) = rest[i..].strip_prefix(before) else {
                    continue;
                };
                let digits = tail.len()
                    - tail
                        .trim_start_matches(|c: char| c.is_ascii_hexdigit())
                        .len();
                let closes = tail[digits..].starts_with(after);
                if (MIN_ADDRESS_DIGITS..=16).contains(&digits) && closes {
                    out.push_str(&rest[..i + before.len()]);
                    out.push_str("[ADDR]");
                    rest = &tail[digits..];
                    continue 'scan;
                }
            }
        }
        out.push_str(rest);
        break;
    }
    out
}

/// Whether two reprs are the same once object addresses are masked
/// ([`mask_addresses`]): how evals are compared between targets and with golden files.
pub fn same_repr(a: &str, b: &str) -> bool {
    a == b || mask_addresses(a) == mask_addresses(b)
}

/// Applies `rules` in order.
pub fn apply(rules: &[Rule], context: &Context, execution: &mut Execution) {
    for rule in rules {
        rule.filter.apply(context, execution);
    }
}

#[cfg(test)]
mod tests {
    use indexmap::IndexMap;

    use super::*;
    use crate::outcome::{Observation, StepError};

    fn obs(names: &[&str], eval: &[(&str, &str)]) -> Observation {
        Observation {
            label: "x".into(),
            free: 0,
            alloc: 0,
            modules: Vec::new(),
            names: names.iter().map(|s| s.to_string()).collect(),
            eval: eval
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<IndexMap<_, _>>(),
        }
    }

    fn err(kind: &str, message: &str) -> StepError {
        StepError {
            step: 1,
            kind: kind.into(),
            message: message.into(),
        }
    }

    #[test]
    fn drop_name_removes_only_that_name_and_keeps_order() {
        let mut ex = Execution {
            observations: vec![obs(&["__name__", "__builtins__", "b", "a"], &[])],
            ..Execution::default()
        };
        Filter::DropName("__builtins__").apply(&Context::default(), &mut ex);
        assert_eq!(ex.observations[0].names, ["__name__", "b", "a"]);
    }

    #[test]
    fn rename_error_changes_exceptions_and_raised_evals_only() {
        let mut ex = Execution {
            observations: vec![obs(
                &[],
                &[
                    ("a", "<raised ModuleNotFoundError: No module named 'x'>"),
                    ("b", "<raised ModuleNotFoundError>"),
                    ("c", "<raised ModuleNotFoundErrorX>"),
                    ("d", "'ModuleNotFoundError'"),
                ],
            )],
            exceptions: vec![
                err("ModuleNotFoundError", "No module named 'x'"),
                err("KeyError", "k"),
            ],
            ..Execution::default()
        };
        let f = Filter::RenameError {
            from: "ModuleNotFoundError",
            to: "ImportError",
        };
        f.apply(&Context::default(), &mut ex);
        assert_eq!(ex.exceptions[0].kind, "ImportError");
        assert_eq!(ex.exceptions[0].message, "No module named 'x'");
        assert_eq!(ex.exceptions[1].kind, "KeyError");
        let e = &ex.observations[0].eval;
        assert_eq!(e["a"], "<raised ImportError: No module named 'x'>");
        assert_eq!(e["b"], "<raised ImportError>");
        assert_eq!(e["c"], "<raised ModuleNotFoundErrorX>");
        assert_eq!(e["d"], "'ModuleNotFoundError'");
    }

    #[test]
    fn mask_addresses_hides_only_the_hex_digits_of_an_address() {
        let mut ex = Execution {
            observations: vec![obs(
                &[],
                &[
                    ("o", "'<object object at 0x7f97435a0570>'"),
                    ("t", "'at 0x at 0xZ'"),
                ],
            )],
            ..Execution::default()
        };
        Filter::MaskAddresses.apply(&Context::default(), &mut ex);
        let eval = &ex.observations[0].eval;
        assert_eq!(eval["o"], "'<object object at 0x[ADDR]>'");
        assert_eq!(eval["t"], "'at 0x at 0xZ'");
    }

    #[test]
    fn mask_addresses_knows_micropython_repr_shapes() {
        let cases = [
            ("<function f at 0x565a5840>", "<function f at 0x[ADDR]>"),
            ("<C object at 565a5cb0>", "<C object at [ADDR]>"),
            (
                "<bound_method 565a62a0 <C object at 565a5cb0>.<function meth at 0x565a5cc0>>",
                "<bound_method [ADDR] <C object at [ADDR]>.<function meth at 0x[ADDR]>>",
            ),
            (
                "<bound_method 3ffe1f10 [].<function>>",
                "<bound_method [ADDR] [].<function>>",
            ),
            (
                "<generator object '<genexpr>' at 565a6060>",
                "<generator object '<genexpr>' at [ADDR]>",
            ),
            (
                "<closure <function g at 0x3ffe0a10> at 3ffe0a40, n_closed=1 >",
                "<closure <function g at 0x[ADDR]> at [ADDR], n_closed=1 >",
            ),
            ("<cell 3ffe0a20 1>", "<cell [ADDR] 1>"),
            // ordinary text stays
            ("'look at face'", "'look at face'"),
            ("'at cafe>'", "'at cafe>'"),
            ("'x at 123456789'", "'x at 123456789'"),
        ];
        for (text, masked) in cases {
            assert_eq!(mask_addresses(text), masked, "{text}");
        }
    }

    #[test]
    fn same_repr_ignores_addresses_only() {
        assert!(same_repr(
            "<function f at 0x565a5840>",
            "<function f at 0x3ffe0300>"
        ));
        assert!(!same_repr(
            "<function f at 0x565a5840>",
            "<function g at 0x565a5840>"
        ));
        assert!(!same_repr(
            "<bound_method 565a62a0 <C object at 565a5cb0>.<function meth at 0x565a5cc0>>",
            "<bound_method 3ffe0d60>"
        ));
        assert!(same_repr("2", "2"));
    }

    #[test]
    fn strip_tree_root_makes_paths_relative() {
        let mut ex = Execution {
            observations: vec![obs(
                &[],
                &[
                    ("m", "<module 'a' from '/tmp/.tmpQ/a/__init__.py'>"),
                    ("p", "'/tmp/.tmpQ'"),
                    ("o", "'/tmp/other/a.py'"),
                ],
            )],
            exceptions: vec![err("OSError", "/tmp/.tmpQ/x.txt")],
            ..Execution::default()
        };
        let ctx = Context {
            tree_root: Some("/tmp/.tmpQ".into()),
        };
        Filter::StripTreeRoot.apply(&ctx, &mut ex);
        let e = &ex.observations[0].eval;
        assert_eq!(e["m"], "<module 'a' from 'a/__init__.py'>");
        assert_eq!(e["p"], "''");
        assert_eq!(e["o"], "'/tmp/other/a.py'");
        assert_eq!(ex.exceptions[0].message, "x.txt");
    }

    #[test]
    fn mask_scratch_hides_the_folder_around_the_tree() {
        let mut ex = Execution {
            observations: vec![obs(
                &[],
                &[
                    (
                        "out",
                        "<_io.TextIOWrapper name='/tmp/mpdiff-cpython-Q1/out.txt'>",
                    ),
                    ("other", "'/tmp/mpdiff-cpython-Q2/out.txt'"),
                ],
            )],
            ..Execution::default()
        };
        let ctx = Context {
            tree_root: Some("/tmp/mpdiff-cpython-Q1/tree".into()),
        };
        Filter::MaskScratch.apply(&ctx, &mut ex);
        let e = &ex.observations[0].eval;
        assert_eq!(e["out"], "<_io.TextIOWrapper name='[TMP]/out.txt'>");
        assert_eq!(e["other"], "'/tmp/mpdiff-cpython-Q2/out.txt'");
    }

    #[test]
    fn strip_tree_root_without_a_root_changes_nothing() {
        let mut ex = Execution {
            observations: vec![obs(&[], &[("p", "'/tmp/.tmpQ'")])],
            ..Execution::default()
        };
        let before = ex.clone();
        Filter::StripTreeRoot.apply(&Context::default(), &mut ex);
        assert_eq!(ex, before);
    }

    #[test]
    fn cpython_rules_run_in_order() {
        let mut ex = Execution {
            observations: vec![obs(
                &[
                    "__name__",
                    "__builtins__",
                    "__doc__",
                    "__annotations__",
                    "x",
                ],
                &[],
            )],
            exceptions: vec![
                err("ModuleNotFoundError", "No module named 'q'"),
                err("RecursionError", "maximum recursion depth exceeded"),
                err("UnboundLocalError", "cannot access local variable 'n'"),
                err("LookupError", "kept"),
            ],
            ..Execution::default()
        };
        apply(CPYTHON, &Context::default(), &mut ex);
        assert_eq!(ex.observations[0].names, ["__name__", "x"]);
        let kinds: Vec<&str> = ex.exceptions.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(
            kinds,
            ["ImportError", "RuntimeError", "NameError", "LookupError"]
        );
    }
}
