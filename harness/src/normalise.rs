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
    /// Replaces the hex digits of ` at 0x...` in eval values and exception messages by
    /// `[ADDR]`: the address in a default object repr.
    MaskAddresses,
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
                for obs in &mut execution.observations {
                    obs.eval.values_mut().for_each(strip);
                }
                for e in &mut execution.exceptions {
                    strip(&mut e.message);
                }
            }
            Filter::MaskAddresses => {
                for obs in &mut execution.observations {
                    for value in obs.eval.values_mut() {
                        *value = mask_addresses(value);
                    }
                }
                for e in &mut execution.exceptions {
                    e.message = mask_addresses(&e.message);
                }
            }
        }
    }
}

/// `text` with the hex digits after every ` at 0x` replaced by `[ADDR]`.
fn mask_addresses(text: &str) -> String {
    const AT: &str = " at 0x";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(AT) {
        out.push_str(&rest[..i + AT.len()]);
        rest = &rest[i + AT.len()..];
        let digits = rest.len()
            - rest
                .trim_start_matches(|c: char| c.is_ascii_hexdigit())
                .len();
        if digits > 0 {
            out.push_str("[ADDR]");
            rest = &rest[digits..];
        }
    }
    out.push_str(rest);
    out
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
