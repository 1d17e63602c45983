//! Everything mpdiff prints lives here: outcome lines, JSON lines, the matrix, comparison
//! details, the fidelity table, target and port lists, scenario errors, and the progress
//! bar. The runner and the comparisons compute; this module only shows.

use std::io::{self, IsTerminal, Write};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use crate::compare::{Comparison, Field};
use crate::fidelity::Fidelity;
use crate::outcome::{Outcome, Status};
use crate::runner::{Event, RunResult};
use crate::scenario::ScenarioError;

/// Output format of `mpdiff run`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Lines and a matrix for people.
    Human,
    /// One JSON object per line per (scenario, target), nothing else.
    Json,
}

/// The fields a comparison looks at, in matrix column order.
pub const FIELDS: [Field; 6] = [
    Field::Status,
    Field::Modules,
    Field::Names,
    Field::Eval,
    Field::Errors,
    Field::Memory,
];

/// A progress bar on stderr, shown only when stderr is a terminal, so a pipe or a log
/// file gets nothing but results.
pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    /// A progress bar if stderr is a terminal and `wanted`, else nothing.
    pub fn new(wanted: bool) -> Progress {
        let bar = (wanted && io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::new(0);
            let style = ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {wide_msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Progress { bar }
    }

    /// Follows the runner's events.
    pub fn on_event(&self, event: &Event<'_>) {
        let Some(bar) = &self.bar else { return };
        match event {
            Event::Preparing { target } => bar.set_message(format!("preparing {target}")),
            Event::Prepared { .. } => {}
            Event::Started { total } => {
                bar.set_length(*total as u64);
                bar.set_message("");
            }
            Event::Running { scenario, target } => {
                bar.set_message(format!("{scenario} on {target}"))
            }
            Event::Finished { done, .. } => bar.set_position(*done as u64),
        }
    }

    /// Prints through `f` without tearing the bar.
    pub fn print(&self, f: impl FnOnce()) {
        match &self.bar {
            Some(bar) => bar.suspend(f),
            None => f(),
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// Prints one outcome as a JSON line: the outcome of SCENARIOS.md plus `wall_ms`, the
/// wall time of the run (an extension).
pub fn json_line(w: &mut dyn Write, result: &RunResult) -> io::Result<()> {
    let mut value = serde_json::to_value(&result.outcome).map_err(io::Error::other)?;
    if let Some(map) = value.as_object_mut() {
        map.insert(
            "wall_ms".to_string(),
            serde_json::Value::from(result.wall.as_millis() as u64),
        );
    }
    let line = serde_json::to_string(&value).map_err(io::Error::other)?;
    writeln!(w, "{line}")
}

/// The word for a status.
pub fn status_word(status: Status) -> &'static str {
    match status {
        Status::Ok => "ok",
        Status::Failed => "FAILED",
        Status::Error => "ERROR",
    }
}

/// Prints an outcome that is not `ok`: the claims that failed, or why it could not run.
pub fn outcome_problem(w: &mut dyn Write, result: &RunResult) -> io::Result<()> {
    let o = &result.outcome;
    if o.status == Status::Ok {
        return Ok(());
    }
    writeln!(
        w,
        "{:<6} {} on {} ({})",
        status_word(o.status),
        o.scenario,
        o.target,
        millis(result.wall)
    )?;
    outcome_details(w, o)
}

/// The failed claims, unexpected errors and detail of an outcome, indented. For an
/// outcome that could not run, claims about observations it never reached are counted,
/// not listed: the detail says why.
pub fn outcome_details(w: &mut dyn Write, o: &Outcome) -> io::Result<()> {
    if let Some(detail) = &o.detail {
        for line in detail.lines() {
            writeln!(w, "       {line}")?;
        }
    }
    let mut unreached = 0;
    for e in o.expectations.iter().filter(|e| !e.ok) {
        if o.status == Status::Error && e.detail.contains("not reached") {
            unreached += 1;
            continue;
        }
        writeln!(w, "       ✗ {} {}: {}", e.at, e.check, e.detail)?;
    }
    if unreached > 0 {
        writeln!(
            w,
            "       ({unreached} claims about observations never reached)"
        )?;
    }
    for e in &o.errors {
        writeln!(
            w,
            "       ! step {} raised {}: {}",
            e.step, e.kind, e.message
        )?;
    }
    Ok(())
}

fn millis(d: Duration) -> String {
    format!("{} ms", d.as_millis())
}

/// How one target's outcome compares with the reference, in a matrix cell.
pub fn agreement_mark(c: &Comparison) -> String {
    let fields = undeclared_fields(c);
    if !fields.is_empty() {
        return format!("✗ {}", fields.join(","));
    }
    let mut mark = "✓".to_string();
    if c.differences.iter().any(|d| d.declared.is_some()) {
        mark.push_str(" declared");
    }
    if c.notes.iter().any(|d| d.field == Field::NamesOrder) {
        mark.push_str(" order");
    }
    if c.notes.iter().any(|d| d.field == Field::Status) {
        mark.push_str(" heap");
    }
    mark
}

fn undeclared_fields(c: &Comparison) -> Vec<&'static str> {
    let mut fields: Vec<&'static str> = Vec::new();
    for d in c.undeclared() {
        let name = d.field.as_str();
        if !fields.contains(&name) {
            fields.push(name);
        }
    }
    fields
}

/// One row of the run matrix.
#[derive(Debug)]
pub struct MatrixRow<'a> {
    /// The scenario name.
    pub scenario: &'a str,
    /// Per lane: the outcome there, if the scenario ran there.
    pub cells: Vec<Option<&'a RunResult>>,
    /// Per lane: the comparison with the reference, when one was made.
    pub agreement: Vec<Option<&'a Comparison>>,
}

/// The run matrix: scenarios by targets, with each target's agreement with the reference.
#[derive(Debug)]
pub struct Matrix<'a> {
    /// Column names.
    pub lanes: Vec<String>,
    /// The reference lane, if one ran.
    pub reference: Option<String>,
    /// Rows, in scenario order.
    pub rows: Vec<MatrixRow<'a>>,
}

/// Prints the matrix, a legend and a summary.
pub fn matrix(w: &mut dyn Write, m: &Matrix<'_>) -> io::Result<()> {
    let mut table: Vec<Vec<String>> = Vec::new();
    let mut header = vec!["scenario".to_string()];
    header.extend(m.lanes.iter().cloned());
    table.push(header);
    for row in &m.rows {
        let mut line = vec![row.scenario.to_string()];
        for (i, cell) in row.cells.iter().enumerate() {
            let mut text = match cell {
                Some(r) => status_word(r.outcome.status).to_string(),
                None => "-".to_string(),
            };
            if let Some(Some(c)) = row.agreement.get(i) {
                text.push(' ');
                text.push_str(&agreement_mark(c));
            }
            line.push(text);
        }
        table.push(line);
    }
    let mut time = vec!["wall time".to_string()];
    for i in 0..m.lanes.len() {
        let total: Duration = m
            .rows
            .iter()
            .filter_map(|r| r.cells.get(i).copied().flatten())
            .map(|r| r.wall)
            .sum();
        time.push(millis(total));
    }
    table.push(time);
    write_table(w, &table, Some(m.rows.len()))?;

    writeln!(w)?;
    if let Some(reference) = &m.reference {
        writeln!(
            w,
            "✓/✗: agrees with {reference} (modules, names, evals, errors, memory class)"
        )?;
        writeln!(
            w,
            "\"order\": same names in another order; \"declared\": a divergence the scenario declares; \"heap\": heaps of different sizes"
        )?;
    }
    summary(w, m)
}

fn summary(w: &mut dyn Write, m: &Matrix<'_>) -> io::Result<()> {
    let mut counts = [0usize; 3];
    for r in m.rows.iter().flat_map(|r| r.cells.iter().flatten()) {
        counts[match r.outcome.status {
            Status::Ok => 0,
            Status::Failed => 1,
            Status::Error => 2,
        }] += 1;
    }
    writeln!(
        w,
        "{} scenarios on {} targets: {} ok, {} failed, {} error",
        m.rows.len(),
        m.lanes.len(),
        counts[0],
        counts[1],
        counts[2]
    )?;
    if let Some(reference) = &m.reference {
        for (i, lane) in m.lanes.iter().enumerate() {
            let compared: Vec<&Comparison> = m
                .rows
                .iter()
                .filter_map(|r| r.agreement.get(i).copied().flatten())
                .collect();
            if compared.is_empty() {
                continue;
            }
            let agree = compared.iter().filter(|c| c.agree).count();
            writeln!(
                w,
                "{lane} agrees with {reference} on {agree}/{} scenarios",
                compared.len()
            )?;
        }
    }
    Ok(())
}

/// Prints rows of cells as aligned columns; a rule goes under the header and above the
/// line at index `footer + 1` when given.
fn write_table(w: &mut dyn Write, table: &[Vec<String>], footer: Option<usize>) -> io::Result<()> {
    let cols = table.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0usize; cols];
    for row in table {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let rule: String = widths
        .iter()
        .map(|w| "─".repeat(*w))
        .collect::<Vec<_>>()
        .join("  ");
    for (n, row) in table.iter().enumerate() {
        if footer.is_some_and(|f| n == f + 1) {
            writeln!(w, "{rule}")?;
        }
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            line.push_str(cell);
            let pad = widths[i] - cell.chars().count();
            line.extend(std::iter::repeat_n(' ', pad));
        }
        writeln!(w, "{}", line.trim_end())?;
        if n == 0 {
            writeln!(w, "{rule}")?;
        }
    }
    Ok(())
}

/// Prints `mpdiff diff`: a matrix of fields per scenario, then what differs in each
/// scenario with the byte counts side by side (for every scenario when `all`, else for
/// those with a difference or a note).
pub fn diff(w: &mut dyn Write, comparisons: &[Comparison], all: bool) -> io::Result<()> {
    let Some(first) = comparisons.first() else {
        return writeln!(w, "nothing to compare");
    };
    writeln!(
        w,
        "{} compared with {} (reference)",
        first.other, first.reference
    )?;
    writeln!(w)?;
    let mut table = Vec::new();
    let mut header = vec!["scenario".to_string()];
    header.extend(FIELDS.iter().map(|f| f.as_str().to_string()));
    header.push("agree".to_string());
    table.push(header);
    for c in comparisons {
        let mut row = vec![c.scenario.clone()];
        for field in FIELDS {
            row.push(field_mark(c, field));
        }
        row.push(if c.agree { "yes" } else { "NO" }.to_string());
        table.push(row);
    }
    write_table(w, &table, None)?;

    for c in comparisons {
        let quiet = c.differences.is_empty() && c.notes.is_empty();
        if quiet && (!all || c.memory.is_empty()) {
            continue;
        }
        writeln!(w)?;
        comparison_details(w, c)?;
    }
    writeln!(w)?;
    let agree = comparisons.iter().filter(|c| c.agree).count();
    writeln!(
        w,
        "{} agrees with {} on {agree}/{} scenarios",
        first.other,
        first.reference,
        comparisons.len()
    )
}

/// A matrix cell for one field: ✓, ✗, `✓ declared`, `✓ order` or `✓ heap`.
fn field_mark(c: &Comparison, field: Field) -> String {
    let of_field = |d: &&crate::compare::Difference| {
        d.field == field || (field == Field::Names && d.field == Field::NamesOrder)
    };
    if c.undeclared().any(|d| of_field(&d)) {
        return "✗".to_string();
    }
    let mut mark = "✓".to_string();
    if c.differences
        .iter()
        .filter(of_field)
        .any(|d| d.declared.is_some())
    {
        mark.push_str(" declared");
    }
    if c.notes.iter().any(|d| of_field(&d)) {
        // notes are the names' order, and under status, heaps of different sizes
        mark.push_str(if field == Field::Status {
            " heap"
        } else {
            " order"
        });
    }
    mark
}

/// What differs in one comparison, with memory deltas side by side.
pub fn comparison_details(w: &mut dyn Write, c: &Comparison) -> io::Result<()> {
    writeln!(w, "{}:", c.scenario)?;
    for d in &c.differences {
        let mark = if d.declared.is_some() { "~" } else { "✗" };
        writeln!(w, "  {mark} {} at {}", d.field, d.at)?;
        writeln!(w, "      {:<8} {}", c.reference, d.reference)?;
        writeln!(w, "      {:<8} {}", c.other, d.other)?;
        if let Some(reason) = &d.declared {
            writeln!(w, "      declared divergence: {reason}")?;
        }
    }
    for d in &c.notes {
        writeln!(w, "  · {} at {} (reported, not failed)", d.field, d.at)?;
        writeln!(w, "      {:<8} {}", c.reference, d.reference)?;
        writeln!(w, "      {:<8} {}", c.other, d.other)?;
    }
    if !c.memory.is_empty() {
        let mut table = vec![vec![
            "  between".to_string(),
            format!("{} Δfree", c.reference),
            "class".to_string(),
            format!("{} Δfree", c.other),
            "class".to_string(),
            "same".to_string(),
        ]];
        for m in &c.memory {
            table.push(vec![
                format!("  {}..{}", m.from, m.to),
                format!("{:+}", m.reference_delta),
                m.reference_class.to_string(),
                format!("{:+}", m.other_delta),
                m.other_class.to_string(),
                if m.reference_class == m.other_class {
                    "✓".to_string()
                } else {
                    "✗".to_string()
                },
            ]);
        }
        write_table(w, &table, None)?;
    }
    Ok(())
}

/// Prints the fidelity of one target against a reference.
pub fn fidelity(w: &mut dyn Write, target: &str, reference: &str, f: &Fidelity) -> io::Result<()> {
    writeln!(
        w,
        "{target} against {reference}: {} scenarios compared, {} skipped (a side could not run)",
        f.scenarios, f.skipped
    )?;
    let mut table = vec![vec!["field".to_string(), "agreement".to_string()]];
    for (name, tally) in f.tallies() {
        table.push(vec![name.to_string(), tally.to_string()]);
    }
    let median = match f.median_relative_error() {
        Some(m) => format!("{:.1}%", 100.0 * m),
        None => "-".to_string(),
    };
    table.push(vec!["median relative error".to_string(), median]);
    write_table(w, &table, Some(f.tallies().len()))?;
    writeln!(
        w,
        "bytes close: a memory delta within max({} B, {:.0}%) of the reference's; relative error over deltas of {} B or more",
        crate::fidelity::BYTES_ABSOLUTE,
        100.0 * crate::fidelity::BYTES_RELATIVE,
        crate::fidelity::RELATIVE_FLOOR
    )
}

/// One line of `mpdiff targets`.
#[derive(Debug)]
pub struct TargetLine {
    /// The name.
    pub name: String,
    /// `None` when ready, else why not.
    pub problem: Option<String>,
    /// The version line.
    pub info: String,
    /// Whether golden snapshots are recorded for it.
    pub reference: bool,
}

/// Prints `mpdiff targets`.
pub fn targets(w: &mut dyn Write, lines: &[TargetLine]) -> io::Result<()> {
    let mut table = vec![vec![
        "target".to_string(),
        "ready".to_string(),
        "reference".to_string(),
        "version".to_string(),
    ]];
    for l in lines {
        table.push(vec![
            l.name.clone(),
            if l.problem.is_none() { "yes" } else { "no" }.to_string(),
            if l.reference { "yes" } else { "" }.to_string(),
            l.info.clone(),
        ]);
    }
    write_table(w, &table, None)?;
    for l in lines {
        match &l.problem {
            // Target errors already start with the target's name.
            Some(why) if why.starts_with(&l.name) => writeln!(w, "{why}")?,
            Some(why) => writeln!(w, "{}: {why}", l.name)?,
            None => {}
        }
    }
    Ok(())
}

/// Prints serial ports for `mpdiff boards`.
pub fn ports(w: &mut dyn Write, ports: &[(String, String)]) -> io::Result<()> {
    if ports.is_empty() {
        return writeln!(w, "no serial port found");
    }
    for (name, about) in ports {
        writeln!(w, "board:{name}  {about}")?;
    }
    Ok(())
}

/// Prints a scenario that could not be loaded, with its file:line.
pub fn scenario_error(w: &mut dyn Write, e: &ScenarioError) -> io::Result<()> {
    writeln!(w, "error: {e}")
}

/// Prints the result of `mpdiff check`.
pub fn check(w: &mut dyn Write, good: &[String], bad: usize) -> io::Result<()> {
    for name in good {
        writeln!(w, "ok     {name}")?;
    }
    writeln!(w, "{} valid, {bad} invalid", good.len())
}

/// Prints a plain message line (notes about skipped targets, written files).
pub fn note(w: &mut dyn Write, text: &str) -> io::Result<()> {
    writeln!(w, "{text}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::{Difference, MemoryClass, MemoryRow};

    fn comparison(declared: Option<&str>) -> Comparison {
        Comparison {
            scenario: "seed/x".into(),
            reference: "unix32".into(),
            other: "rust".into(),
            agree: declared.is_some(),
            differences: vec![Difference {
                at: "a..b".into(),
                field: Field::Memory,
                reference: "shrank".into(),
                other: "flat".into(),
                declared: declared.map(str::to_string),
            }],
            notes: vec![],
            memory: vec![MemoryRow {
                from: "a".into(),
                to: "b".into(),
                reference_delta: 3216,
                other_delta: 20,
                reference_class: MemoryClass::Shrank,
                other_class: MemoryClass::Flat,
            }],
        }
    }

    #[test]
    fn marks_name_the_failing_fields() {
        assert_eq!(agreement_mark(&comparison(None)), "✗ memory");
        assert_eq!(agreement_mark(&comparison(Some("why"))), "✓ declared");
        assert_eq!(field_mark(&comparison(None), Field::Memory), "✗");
        assert_eq!(field_mark(&comparison(None), Field::Names), "✓");
    }

    #[test]
    fn diff_shows_byte_counts_side_by_side() {
        let mut out = Vec::new();
        diff(&mut out, &[comparison(Some("kept on purpose"))], false).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("+3216"), "{text}");
        assert!(text.contains("+20"), "{text}");
        assert!(
            text.contains("declared divergence: kept on purpose"),
            "{text}"
        );
        assert!(text.contains("agrees with unix32 on 1/1"), "{text}");
    }

    #[test]
    fn tables_align_columns() {
        let mut out = Vec::new();
        let t = vec![
            vec!["a".to_string(), "bb".to_string()],
            vec!["ccc".to_string(), "d".to_string()],
        ];
        write_table(&mut out, &t, None).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "a    bb");
        assert_eq!(lines[2], "ccc  d");
    }
}
