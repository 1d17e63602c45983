//! Reading one scenario file: YAML into the raw model, then every rule of the format
//! checked once, giving a [`Scenario`] or an error that names `file:line:column`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::time::Duration;

use serde_saphyr::{Location, Spanned};

use super::error::ScenarioError;
use super::model::{
    DEFAULT_HEAP, Divergence, Expectation, Field, Membership, Reclaims, Scenario, Share, Step,
};
use super::raw::{RawClaims, RawField, RawMembership, RawScenario, RawShare, RawStep};

/// Reads, parses and checks one scenario file. `name` is the scenario's name (see
/// [`discover`](super::discover)).
pub fn load_file(path: &Path, name: &str) -> Result<Scenario, ScenarioError> {
    let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
        file: path.to_path_buf(),
        source,
    })?;
    load_str(&text, path, name)
}

/// Parses and checks scenario text; `path` is used in messages and kept in the result.
pub fn load_str(text: &str, path: &Path, name: &str) -> Result<Scenario, ScenarioError> {
    let raw: RawScenario = serde_saphyr::from_str_with_options(text, yaml_options())
        .map_err(|e| yaml_error(path, &e))?;
    Checker { file: path }.check(raw, name)
}

/// YAML 1.2 booleans only (`true`/`false` in any case): `yes`, `no`, `y` and `n` stay
/// text, as they do for editors that check files against the JSON Schema, so a module
/// named `y` in a `has:` list means the same thing everywhere.
pub fn yaml_options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        strict_booleans: true,
    }
}

/// Turns a serde-saphyr error into ours, keeping the parser's own position.
fn yaml_error(path: &Path, e: &serde_saphyr::Error) -> ScenarioError {
    let (line, column) = e
        .location()
        .map(|l| (l.line() as usize, l.column() as usize))
        .unwrap_or((0, 0));
    ScenarioError::Invalid {
        file: path.to_path_buf(),
        line,
        column,
        message: plain_message(e),
    }
}

/// The parser's message without its own location suffix or snippet, lower-cased at the
/// start so all our messages read alike.
fn plain_message(e: &serde_saphyr::Error) -> String {
    let opts = serde_saphyr::render_options! {
        snippets: serde_saphyr::SnippetMode::Off,
    };
    let text = e.without_snippet().render_with_options(opts);
    let text = reword(&strip_location_suffix(text.trim()));
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => "invalid yaml".to_string(),
    }
}

/// Rewords the few parser messages whose wording speaks to programmers rather than to
/// people writing scenarios.
fn reword(text: &str) -> String {
    if let Some(rest) = text.strip_prefix("duplicate mapping key: ") {
        let key = rest
            .split(", set DuplicateKeyPolicy")
            .next()
            .unwrap_or(rest);
        return format!("key `{key}` is given twice in this mapping");
    }
    if text.starts_with("cannot deserialize null into string") {
        return "a value is missing here (write \"\" for an empty string)".to_string();
    }
    if text.starts_with("multiple YAML documents detected") {
        return "a scenario file holds one YAML document: remove the `---` line".to_string();
    }
    match text {
        "expected mapping start" => "expected a mapping (`key: value` lines) here".to_string(),
        "expected sequence start" => {
            "expected a list (`[a, b]` or `- item` lines) here".to_string()
        }
        "expected string scalar" => "expected a string here".to_string(),
        "invalid u64" => "expected a whole number here".to_string(),
        "unexpected end of input" => {
            "unexpected end of input: a scenario needs `about`, `tree` and `steps`".to_string()
        }
        _ => text.to_string(),
    }
}

/// serde-saphyr appends " at line L, column C" to plain messages; we print the position
/// first instead, so drop it.
fn strip_location_suffix(text: &str) -> String {
    let is_number = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if let Some(pos) = text.rfind(" at line ")
        && let Some((line, column)) = text[pos + " at line ".len()..].split_once(", column ")
        && is_number(line)
        && is_number(column)
    {
        return text[..pos].to_string();
    }
    text.to_string()
}

/// Validation state: the file, for messages.
struct Checker<'a> {
    file: &'a Path,
}

/// Where a node starts: 1-based line and column (0 when unknown).
fn pos(loc: Location) -> (usize, usize) {
    (loc.line() as usize, loc.column() as usize)
}

impl Checker<'_> {
    fn err(&self, at: Location, message: impl Into<String>) -> ScenarioError {
        let (line, column) = pos(at);
        ScenarioError::Invalid {
            file: self.file.to_path_buf(),
            line,
            column,
            message: message.into(),
        }
    }

    fn check(&self, raw: RawScenario, name: &str) -> Result<Scenario, ScenarioError> {
        if raw.about.value.trim().is_empty() {
            return Err(self.err(
                raw.about.referenced,
                "`about` is empty: say in a sentence or two what the scenario shows",
            ));
        }
        let heap = match &raw.heap {
            None => DEFAULT_HEAP,
            Some(h) => parse_heap(&h.value.0).map_err(|m| self.err(h.referenced, m))?,
        };
        let tree = self.tree(&raw)?;
        let (mut steps, observed) = self.steps(&raw)?;
        let expect = self.expect(&raw, &observed, &mut steps)?;
        let divergences = self.divergences(&raw, &observed, &steps)?;
        let timeout = match &raw.timeout {
            None => None,
            Some(t) if t.value == 0 => {
                return Err(self.err(t.referenced, "`timeout` must be at least 1 second"));
            }
            Some(t) => Some(Duration::from_secs(t.value)),
        };
        Ok(Scenario {
            name: name.to_string(),
            file: self.file.to_path_buf(),
            about: raw.about.value.trim_end().to_string(),
            heap,
            tree,
            steps,
            expect,
            strict_order: raw.strict_order.unwrap_or(false),
            divergences,
            cpython_expect: raw.cpython_expect.unwrap_or(false),
            timeout,
        })
    }

    fn tree(&self, raw: &RawScenario) -> Result<BTreeMap<String, String>, ScenarioError> {
        let mut tree = BTreeMap::new();
        let mut folders: BTreeSet<String> = BTreeSet::new();
        for (path, content) in &raw.tree.value.0 {
            let at = path.referenced;
            let p = path.value.as_str();
            check_tree_path(p).map_err(|m| self.err(at, m))?;
            if tree.contains_key(p) {
                return Err(self.err(at, format!("tree path `{p}` is given twice")));
            }
            if folders.contains(p) {
                return Err(self.err(
                    at,
                    format!("tree path `{p}` is a folder of another file and cannot be a file too"),
                ));
            }
            let mut prefix = String::new();
            for segment in p.split('/').take(p.split('/').count() - 1) {
                if !prefix.is_empty() {
                    prefix.push('/');
                }
                prefix.push_str(segment);
                if tree.contains_key(&prefix) {
                    return Err(self.err(
                        at,
                        format!("tree path `{p}` puts a file inside `{prefix}`, which is a file"),
                    ));
                }
                folders.insert(prefix.clone());
            }
            tree.insert(p.to_string(), content.value.clone());
        }
        Ok(tree)
    }

    /// Checks the steps; returns them with a map label -> step index.
    fn steps(
        &self,
        raw: &RawScenario,
    ) -> Result<(Vec<Step>, HashMap<String, usize>), ScenarioError> {
        let mut steps = Vec::with_capacity(raw.steps.value.len());
        let mut labels: HashMap<String, usize> = HashMap::new();
        for (i, spanned) in raw.steps.value.iter().enumerate() {
            let at = spanned.referenced;
            let line = at.line() as usize;
            let RawStep {
                run,
                raises,
                observe,
                eval,
            } = &spanned.value;
            let step = match (run, observe) {
                (Some(_), Some(_)) => {
                    return Err(self.err(
                        at,
                        format!("step {i} has both `run` and `observe`: split it into two steps"),
                    ));
                }
                (None, None) => {
                    return Err(self.err(
                        at,
                        format!("step {i} has neither `run` nor `observe` (or its value is empty): each step is exactly one of them"),
                    ));
                }
                (Some(source), None) => {
                    if let Some(e) = eval {
                        return Err(self.err(
                            e.referenced,
                            format!(
                                "step {i}: `eval` belongs on an `observe` step, not on a `run` step"
                            ),
                        ));
                    }
                    let raises = match raises {
                        None => None,
                        Some(r) => {
                            let t = r.value.trim();
                            if !is_type_name(t) {
                                return Err(self.err(
                                    r.referenced,
                                    format!("step {i}: `raises: {t}` is not an exception type name such as ImportError"),
                                ));
                            }
                            Some(t.to_string())
                        }
                    };
                    Step::Run {
                        source: source.value.clone(),
                        raises,
                        line,
                    }
                }
                (None, Some(label)) => {
                    if let Some(r) = raises {
                        return Err(self.err(
                            r.referenced,
                            format!("step {i}: `raises` belongs on a `run` step, not on an `observe` step"),
                        ));
                    }
                    self.label(label)?;
                    if labels.insert(label.value.clone(), i).is_some() {
                        return Err(self.err(
                            label.referenced,
                            format!(
                                "observation label `{}` is used twice: labels are unique in a file",
                                label.value
                            ),
                        ));
                    }
                    let mut exprs: Vec<String> = Vec::new();
                    for e in eval.iter().flat_map(|e| e.value.iter()) {
                        if e.value.trim().is_empty() {
                            return Err(self
                                .err(e.referenced, format!("step {i}: empty `eval` expression")));
                        }
                        if exprs.contains(&e.value) {
                            return Err(self.err(
                                e.referenced,
                                format!("step {i}: `eval` expression {:?} is given twice", e.value),
                            ));
                        }
                        exprs.push(e.value.clone());
                    }
                    Step::Observe {
                        label: label.value.clone(),
                        eval: exprs,
                        line,
                    }
                }
            };
            steps.push(step);
        }
        Ok((steps, labels))
    }

    fn label(&self, label: &Spanned<String>) -> Result<(), ScenarioError> {
        if is_label(&label.value) {
            Ok(())
        } else {
            Err(self.err(
                label.referenced,
                format!(
                    "bad label `{}`: use lower-case letters, digits, `_` and `-` only",
                    label.value
                ),
            ))
        }
    }

    /// A label used in `expect` or `reclaims` must name an observation.
    fn known(
        &self,
        label: &Spanned<String>,
        observed: &HashMap<String, usize>,
        what: &str,
    ) -> Result<usize, ScenarioError> {
        observed.get(&label.value).copied().ok_or_else(|| {
            let mut known: Vec<(&String, &usize)> = observed.iter().collect();
            known.sort_by_key(|(_, i)| **i);
            let list: Vec<&str> = known.iter().map(|(l, _)| l.as_str()).collect();
            self.err(
                label.referenced,
                format!(
                    "{what} `{}` is not an observation label (labels: {})",
                    label.value,
                    if list.is_empty() {
                        "none".to_string()
                    } else {
                        list.join(", ")
                    }
                ),
            )
        })
    }

    fn expect(
        &self,
        raw: &RawScenario,
        observed: &HashMap<String, usize>,
        steps: &mut [Step],
    ) -> Result<Vec<Expectation>, ScenarioError> {
        let Some(pairs) = &raw.expect else {
            return Ok(Vec::new());
        };
        let mut out: Vec<Expectation> = Vec::new();
        for (label, claims) in &pairs.0 {
            let index = self.known(label, observed, "expect label")?;
            if out.iter().any(|e| e.at == label.value) {
                return Err(self.err(
                    label.referenced,
                    format!(
                        "`expect` has label `{}` twice: merge the claims",
                        label.value
                    ),
                ));
            }
            let RawClaims {
                modules,
                names,
                eval,
                reclaims,
            } = &claims.value;
            let mut exp = Expectation {
                at: label.value.clone(),
                modules: self.membership(modules.as_ref(), "modules")?,
                names: self.membership(names.as_ref(), "names")?,
                eval: Vec::new(),
                reclaims: None,
            };
            for (expr, repr) in eval.iter().flat_map(|p| p.0.iter()) {
                if expr.value.trim().is_empty() {
                    return Err(self.err(expr.referenced, "empty `eval` expression in `expect`"));
                }
                exp.eval.push((expr.value.clone(), repr.value.clone()));
                // The driver evaluates an observation's own `eval` list; a claimed
                // expression is added to it so every target records its repr.
                if let Some(Step::Observe { eval, .. }) = steps.get_mut(index)
                    && !eval.contains(&expr.value)
                {
                    eval.push(expr.value.clone());
                }
            }
            if let Some(r) = reclaims {
                let load = &r.value.load;
                if load.value.len() != 2 {
                    return Err(self.err(
                        load.referenced,
                        format!(
                            "`reclaims.load` needs exactly two labels [before, after], found {}",
                            load.value.len()
                        ),
                    ));
                }
                let (a, b) = (&load.value[0], &load.value[1]);
                let ia = self.known(a, observed, "reclaims label")?;
                let ib = self.known(b, observed, "reclaims label")?;
                if ia >= ib {
                    return Err(self.err(
                        load.referenced,
                        format!(
                            "`reclaims.load: [{}, {}]`: `{}` must be observed before `{}`",
                            a.value, b.value, a.value, b.value
                        ),
                    ));
                }
                if index < ib {
                    return Err(self.err(
                        label.referenced,
                        format!(
                            "`{}` claims what came back of a load that ends later, at `{}`: check it at or after the load's end",
                            label.value, b.value
                        ),
                    ));
                }
                exp.reclaims = Some(Reclaims {
                    before: a.value.clone(),
                    after: b.value.clone(),
                    is: match r.value.is {
                        RawShare::None => Share::None,
                        RawShare::Partial => Share::Partial,
                        RawShare::Most => Share::Most,
                    },
                });
            }
            out.push(exp);
        }
        Ok(out)
    }

    /// `has` and `lacks` may not both name an item: the claim could never hold.
    fn membership(
        &self,
        m: Option<&Spanned<RawMembership>>,
        what: &str,
    ) -> Result<Option<Membership>, ScenarioError> {
        let Some(m) = m else { return Ok(None) };
        if let Some(both) = m.value.has.iter().find(|x| m.value.lacks.contains(x)) {
            return Err(self.err(
                m.referenced,
                format!("`{what}` lists `{both}` under both `has` and `lacks`"),
            ));
        }
        Ok(Some(Membership {
            has: m.value.has.clone(),
            lacks: m.value.lacks.clone(),
        }))
    }

    fn divergences(
        &self,
        raw: &RawScenario,
        observed: &HashMap<String, usize>,
        steps: &[Step],
    ) -> Result<Vec<Divergence>, ScenarioError> {
        let mut out = Vec::new();
        for d in raw.divergences.iter().flatten() {
            let v = &d.value;
            let target = v.target.value.trim();
            if target.is_empty() {
                return Err(self.err(v.target.referenced, "divergence `target` is empty"));
            }
            if v.reason.value.trim().is_empty() {
                return Err(self.err(
                    v.reason.referenced,
                    "divergence `reason` is empty: say why the difference is kept",
                ));
            }
            let field = match v.field {
                RawField::Modules => Field::Modules,
                RawField::Names => Field::Names,
                RawField::NamesOrder => Field::NamesOrder,
                RawField::Eval => Field::Eval,
                RawField::Errors => Field::Errors,
                RawField::Memory => Field::Memory,
            };
            if let Some(at) = &v.at {
                let ok = match field {
                    Field::Errors => step_index(&at.value)
                        .is_some_and(|i| matches!(steps.get(i), Some(Step::Run { .. }))),
                    _ => observed.contains_key(&at.value),
                };
                if !ok {
                    let want = if field == Field::Errors {
                        "`step N` naming a run step"
                    } else {
                        "an observation label"
                    };
                    return Err(self.err(
                        at.referenced,
                        format!("divergence `at: {}` is not {want}", at.value),
                    ));
                }
            }
            out.push(Divergence {
                target: target.to_string(),
                field,
                at: v.at.as_ref().map(|a| a.value.clone()),
                reason: v.reason.value.trim().to_string(),
            });
        }
        Ok(out)
    }
}

/// `step N` -> N.
pub(crate) fn step_index(s: &str) -> Option<usize> {
    s.strip_prefix("step ")?.parse().ok()
}

/// `[a-z0-9_-]+`.
fn is_label(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// A Python exception type name, possibly dotted (`OSError`, `mod.Error`).
fn is_type_name(s: &str) -> bool {
    !s.is_empty()
        && s.split('.').all(|part| {
            let mut b = part.bytes();
            matches!(b.next(), Some(c) if c.is_ascii_alphabetic() || c == b'_')
                && b.all(|c| c.is_ascii_alphanumeric() || c == b'_')
        })
}

/// Tree paths: relative, `/`-separated, no `..`, `.` or empty segment, no backslash.
fn check_tree_path(p: &str) -> Result<(), String> {
    if p.is_empty() {
        return Err("empty tree path".to_string());
    }
    if p.starts_with('/') {
        return Err(format!(
            "tree path `{p}` is absolute: paths are relative to the import folder"
        ));
    }
    if p.contains('\\') {
        return Err(format!(
            "tree path `{p}` contains a backslash: separate folders with `/`"
        ));
    }
    for segment in p.split('/') {
        match segment {
            "" => {
                return Err(format!(
                    "tree path `{p}` has an empty segment (`//` or a trailing `/`)"
                ));
            }
            ".." => {
                return Err(format!(
                    "tree path `{p}` contains `..`: paths stay inside the tree"
                ));
            }
            "." => {
                return Err(format!(
                    "tree path `{p}` contains `.`: write the path without it"
                ));
            }
            _ => {}
        }
    }
    if p.chars().any(|c| c.is_control()) {
        return Err(format!("tree path {p:?} contains a control character"));
    }
    Ok(())
}

/// Parses a heap size: `36K`, `64K`, `2M` (powers of 1024) or a plain byte count.
pub fn parse_heap(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let bad = || format!("bad heap `{s}`: use a byte count or a size such as 36K, 64K, 2M");
    let (digits, unit) = match t.char_indices().last() {
        Some((i, 'K' | 'k')) => (&t[..i], 1024u64),
        Some((i, 'M' | 'm')) => (&t[..i], 1024 * 1024),
        Some(_) => (t, 1),
        None => return Err(bad()),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let n: u64 = digits.parse().map_err(|_| bad())?;
    let bytes = n.checked_mul(unit).ok_or_else(bad)?;
    if bytes == 0 {
        return Err(format!("bad heap `{s}`: the heap cannot be empty"));
    }
    Ok(bytes)
}
