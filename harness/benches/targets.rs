//! How fast the whole scenario library runs on `rust` and on `unix32`, one scenario at a
//! time, through the [`Target`] trait (what `mpdiff run --jobs 1` does, without reporting).
//!
//! ```text
//! cargo bench -p mpdiff --bench targets [-- PATHS...]
//! ```
//!
//! Each target runs the library `MPDIFF_BENCH_ROUNDS` times (default: 5 for unix32, 20 for
//! rust) after one warm-up round; the median round gives scenarios per second, and the
//! ratio of the two medians is printed. Outcomes are checked to match the warm-up round,
//! so a target that stops doing the work cannot look fast. `MPDIFF_BENCH_SLOWEST=N` also
//! lists each target's N costliest scenarios (fastest run of each). `MPDIFF_BENCH_ONLY=rust`
//! runs the rust target alone (for profiling it). `--bench` and other flags cargo passes are
//! ignored.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use mpdiff::reference::Word;
use mpdiff::scenario::{Scenario, discover, load_file};
use mpdiff::targets::rust::RustTarget;
use mpdiff::targets::unix::UnixTarget;
use mpdiff::targets::{Execution, RunOptions, Target};

/// The allocator the `mpdiff` command uses, so the bench times what the command does.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let mut paths: Vec<PathBuf> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .map(PathBuf::from)
        .collect();
    if paths.is_empty() {
        // Benches run in the package folder; the library is next to it.
        paths.push(PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../scenarios"
        )));
    }
    let found = match discover(&paths) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("targets bench: {e}");
            return ExitCode::from(2);
        }
    };
    let scenarios: Vec<Scenario> = found
        .iter()
        .filter_map(|f| match load_file(&f.file, &f.name) {
            Ok(s) => Some(s),
            Err(e) => {
                eprintln!("targets bench: skipped {}: {e}", f.name);
                None
            }
        })
        .collect();
    let rounds = |default: usize| {
        std::env::var("MPDIFF_BENCH_ROUNDS")
            .ok()
            .and_then(|r| r.parse().ok())
            .filter(|&r| r > 0)
            .unwrap_or(default)
    };

    let rust = RustTarget::new();
    if std::env::var("MPDIFF_BENCH_ONLY").as_deref() == Ok("rust") {
        println!("{} scenarios", scenarios.len());
        return match measure(&rust, &scenarios, rounds(20)) {
            Some(_) => ExitCode::SUCCESS,
            None => ExitCode::FAILURE,
        };
    }
    let unix32 = UnixTarget::new(Word::W32);
    if let Err(e) = unix32.prepare() {
        eprintln!("targets bench: {e}");
        return ExitCode::from(3);
    }
    println!("{} scenarios", scenarios.len());
    let Some(r) = measure(&rust, &scenarios, rounds(20)) else {
        return ExitCode::FAILURE;
    };
    let Some(u) = measure(&unix32, &scenarios, rounds(5)) else {
        return ExitCode::FAILURE;
    };
    println!(
        "rust is {:.1} times as fast as unix32 (median library time {:.1} ms vs {:.1} ms)",
        u.as_secs_f64() / r.as_secs_f64(),
        r.as_secs_f64() * 1e3,
        u.as_secs_f64() * 1e3
    );
    ExitCode::SUCCESS
}

/// Runs the library `rounds` times after a warm-up and returns the median round time, or
/// `None` if a round's executions differ from the warm-up's.
fn measure(target: &dyn Target, scenarios: &[Scenario], rounds: usize) -> Option<Duration> {
    let options = RunOptions::default();
    // Per scenario, the fastest of its runs: what it costs when nothing else interferes.
    let mut fastest = vec![Duration::MAX; scenarios.len()];
    let mut once = || -> Vec<Execution> {
        scenarios
            .iter()
            .zip(fastest.iter_mut())
            .map(|(s, best)| {
                let start = Instant::now();
                let e = target.execute(s, &options);
                *best = (*best).min(start.elapsed());
                e
            })
            .collect()
    };
    let first = once();
    let failed = first.iter().filter(|e| e.failure.is_some()).count();
    let mut times = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let start = Instant::now();
        let again = once();
        times.push(start.elapsed());
        if again != first {
            eprintln!(
                "targets bench: {} gave different executions on a repeat run",
                target.name()
            );
            return None;
        }
    }
    times.sort();
    let median = times[times.len() / 2];
    let slowest: usize = std::env::var("MPDIFF_BENCH_SLOWEST")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let mut by_cost: Vec<(Duration, &str)> = fastest
        .iter()
        .zip(scenarios)
        .map(|(d, s)| (*d, s.name.as_str()))
        .collect();
    by_cost.sort_by(|a, b| b.cmp(a));
    for (d, name) in by_cost.iter().take(slowest) {
        println!("  {:>8.3} ms  {name}", d.as_secs_f64() * 1e3);
    }
    println!(
        "{:<7} {:>8.1} scenarios/s  median {:>8.1} ms  min {:>8.1} ms  max {:>8.1} ms  ({} rounds, {} scenarios not run to their end)",
        target.name(),
        scenarios.len() as f64 / median.as_secs_f64(),
        median.as_secs_f64() * 1e3,
        times[0].as_secs_f64() * 1e3,
        times[times.len() - 1].as_secs_f64() * 1e3,
        rounds,
        failed
    );
    Some(median)
}
