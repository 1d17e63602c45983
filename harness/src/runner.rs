//! Runs scenarios on targets: every target is prepared once up front, then every
//! (scenario, target) pair runs, host targets in parallel on a rayon pool, boards one
//! scenario at a time each. Several boards form one pool that shares a single queue, so
//! adding a board shortens the run instead of repeating it.
//!
//! The runner prints nothing: it reports [`Event`]s to a consumer (the reports, a progress
//! bar, a test), like nextest's `TestEvent`.

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::expect;
use crate::outcome::Outcome;
use crate::scenario::Scenario;
use crate::targets::{Execution, RunOptions, Target, TargetError};

/// The name of the column that a pool of several boards reports under.
pub const BOARD_POOL: &str = "board";

/// How to run.
#[derive(Debug, Clone)]
pub struct RunnerOptions {
    /// Host jobs at once; 0 means one per CPU.
    pub jobs: usize,
    /// Time allowed for one scenario on one target when the scenario does not say (a
    /// scenario's own `timeout` wins, as every target applies it).
    pub timeout: Duration,
    /// How long past its time-out a target may take to return before the runner gives
    /// up on it (targets stop themselves at the time-out; this is the safety net).
    pub grace: Duration,
    /// Whether several boards form one pool sharing a queue (each scenario runs on one
    /// of them), or each board runs every scenario (to compare boards).
    pub pool_boards: bool,
}

impl Default for RunnerOptions {
    fn default() -> Self {
        RunnerOptions {
            jobs: 0,
            timeout: RunOptions::default().timeout,
            grace: Duration::from_secs(10),
            pool_boards: true,
        }
    }
}

/// Something that happened during a run, in the order it happened (events from parallel
/// jobs interleave).
#[derive(Debug)]
pub enum Event<'a> {
    /// A target is being made ready (this may build an interpreter).
    Preparing {
        /// The target name.
        target: &'a str,
    },
    /// A target is ready, or could not be made ready.
    Prepared {
        /// The target name.
        target: &'a str,
        /// Why it is not ready, if it is not.
        error: Option<&'a TargetError>,
        /// How long preparing took.
        elapsed: Duration,
    },
    /// Every target is prepared; `total` pairs are about to run.
    Started {
        /// Number of (scenario, target) pairs.
        total: usize,
    },
    /// A pair began on a target.
    Running {
        /// The scenario name.
        scenario: &'a str,
        /// The target name.
        target: &'a str,
    },
    /// A pair finished.
    Finished {
        /// Its result.
        result: &'a RunResult,
        /// Pairs finished so far, this one included.
        done: usize,
        /// Pairs in the run.
        total: usize,
    },
}

/// The result of one (scenario, target) pair.
#[derive(Debug, Clone)]
pub struct RunResult {
    /// Index of the scenario in the list given to [`run`].
    pub scenario_index: usize,
    /// The column this result belongs to: the target name, or [`BOARD_POOL`] for a pool
    /// of boards.
    pub lane: String,
    /// The outcome.
    pub outcome: Outcome,
    /// Wall time of the execution (zero when the target was not ready).
    pub wall: Duration,
    /// Whether the target ran the scenario (false when it could not be prepared).
    pub ran: bool,
}

/// Everything a run produced.
#[derive(Debug, Default)]
pub struct RunReport {
    /// One result per pair, ordered by scenario, then by lane in the order targets were
    /// given.
    pub results: Vec<RunResult>,
    /// The lanes (columns), in the order targets were given.
    pub lanes: Vec<String>,
    /// Targets that could not be prepared, with why. Their pairs carry `error` outcomes.
    pub unavailable: Vec<(String, String)>,
}

/// Prepares every target (in parallel: building two interpreters at once saves time) and
/// returns, per target, why it is not ready.
pub fn prepare_all(
    targets: &[Arc<dyn Target>],
    on_event: &(dyn Fn(Event<'_>) + Sync),
) -> Vec<Option<TargetError>> {
    targets
        .par_iter()
        .map(|t| {
            let name = t.name();
            on_event(Event::Preparing { target: &name });
            let start = Instant::now();
            let result = catch_unwind(AssertUnwindSafe(|| t.prepare())).unwrap_or_else(|p| {
                Err(TargetError::Unavailable {
                    target: name.clone(),
                    message: format!("preparing panicked: {}", panic_text(&*p)),
                })
            });
            let error = result.err();
            on_event(Event::Prepared {
                target: &name,
                error: error.as_ref(),
                elapsed: start.elapsed(),
            });
            error
        })
        .collect()
}

/// Whether a target runs one scenario at a time on a lane (thread) of its own: a board talks
/// to one physical device, and CPython runs one scenario at a time under its own lock, so
/// giving it rayon threads would only park them on that lock while other targets wait.
pub fn is_exclusive(target: &dyn Target) -> bool {
    is_board(target) || target.name() == "cpython"
}

/// Whether a target is a board; several boards may share one queue of scenarios.
fn is_board(target: &dyn Target) -> bool {
    target.name().starts_with("board:")
}

/// Runs every scenario on every target.
pub fn run(
    scenarios: &[Arc<Scenario>],
    targets: &[Arc<dyn Target>],
    options: &RunnerOptions,
    on_event: &(dyn Fn(Event<'_>) + Sync),
) -> RunReport {
    let prepared = prepare_all(targets, on_event);
    let mut report = RunReport::default();

    let exclusive: Vec<usize> = (0..targets.len())
        .filter(|&i| is_exclusive(targets[i].as_ref()) && prepared[i].is_none())
        .collect();
    let boards: Vec<usize> = exclusive
        .iter()
        .copied()
        .filter(|&i| is_board(targets[i].as_ref()))
        .collect();
    let pooled = options.pool_boards && boards.len() > 1;
    let lane_of = |i: usize| -> String {
        if pooled && boards.contains(&i) {
            BOARD_POOL.to_string()
        } else {
            targets[i].name()
        }
    };
    for i in 0..targets.len() {
        let lane = lane_of(i);
        if !report.lanes.contains(&lane) {
            report.lanes.push(lane);
        }
    }

    // Pairs for host targets, plus pairs that need no execution (target not ready).
    let mut host_pairs = Vec::new();
    let mut skipped = Vec::new();
    for (si, _) in scenarios.iter().enumerate() {
        for (ti, target) in targets.iter().enumerate() {
            if let Some(err) = &prepared[ti] {
                skipped.push((si, ti, err.to_string()));
            } else if !is_exclusive(target.as_ref()) {
                host_pairs.push((si, ti));
            }
        }
    }
    for (ti, err) in prepared.iter().enumerate() {
        if let Some(err) = err {
            report
                .unavailable
                .push((targets[ti].name(), err.to_string()));
        }
    }
    let lanes_alone = exclusive.len() - if pooled { boards.len() } else { 0 };
    let board_total = scenarios.len() * (lanes_alone + usize::from(pooled));
    let total = host_pairs.len() + skipped.len() + board_total;
    on_event(Event::Started { total });

    let done = AtomicUsize::new(0);
    let results = Mutex::new(Vec::with_capacity(total));
    let finish = |result: RunResult| {
        let n = done.fetch_add(1, Ordering::SeqCst) + 1;
        on_event(Event::Finished {
            result: &result,
            done: n,
            total,
        });
        results
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(result);
    };

    for (si, ti, why) in skipped {
        let scenario = &scenarios[si];
        let name = targets[ti].name();
        let execution = Execution {
            target_info: targets[ti].info(scenario.heap),
            failure: Some(format!("target unavailable: {why}")),
            ..Execution::default()
        };
        finish(RunResult {
            scenario_index: si,
            lane: lane_of(ti),
            outcome: expect::finish(scenario, &name, execution),
            wall: Duration::ZERO,
            ran: false,
        });
    }

    // One queue per exclusive lane: pooled boards share one queue, any other exclusive
    // target has its own.
    let mut queues: Vec<(Vec<usize>, Mutex<VecDeque<usize>>)> = Vec::new();
    if pooled {
        queues.push((boards.clone(), Mutex::new((0..scenarios.len()).collect())));
    }
    for &ti in &exclusive {
        if !(pooled && boards.contains(&ti)) {
            queues.push((vec![ti], Mutex::new((0..scenarios.len()).collect())));
        }
    }

    std::thread::scope(|scope| {
        for (members, queue) in &queues {
            for &ti in members {
                let finish = &finish;
                let lane = lane_of(ti);
                scope.spawn(move || {
                    loop {
                        let next = queue.lock().unwrap_or_else(|e| e.into_inner()).pop_front();
                        let Some(si) = next else { break };
                        finish(one(
                            si,
                            &scenarios[si],
                            &targets[ti],
                            &lane,
                            options,
                            on_event,
                        ));
                    }
                });
            }
        }
        let jobs = if options.jobs == 0 {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        } else {
            options.jobs
        };
        let host = || {
            host_pairs.par_iter().for_each(|&(si, ti)| {
                finish(one(
                    si,
                    &scenarios[si],
                    &targets[ti],
                    &lane_of(ti),
                    options,
                    on_event,
                ));
            });
        };
        match rayon::ThreadPoolBuilder::new().num_threads(jobs).build() {
            Ok(pool) => pool.install(host),
            // Falling back to the global pool only loses the job limit.
            Err(_) => host(),
        }
    });

    let mut results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    let lane_rank = |lane: &str| report.lanes.iter().position(|l| l == lane);
    results.sort_by(|a, b| {
        (a.scenario_index, lane_rank(&a.lane), &a.outcome.target).cmp(&(
            b.scenario_index,
            lane_rank(&b.lane),
            &b.outcome.target,
        ))
    });
    report.results = results;
    report
}

/// Runs one pair. A panicking target gives an `error` outcome, not a dead run; so does
/// one that has not returned `grace` after its time-out (it is left behind, so one stuck
/// target cannot hang the whole run).
fn one(
    index: usize,
    scenario: &Arc<Scenario>,
    target: &Arc<dyn Target>,
    lane: &str,
    options: &RunnerOptions,
    on_event: &(dyn Fn(Event<'_>) + Sync),
) -> RunResult {
    let name = target.name();
    on_event(Event::Running {
        scenario: &scenario.name,
        target: &name,
    });
    let run_options = RunOptions {
        timeout: scenario.timeout.unwrap_or(options.timeout),
    };
    let limit = run_options.timeout + options.grace;
    let start = Instant::now();
    let (tx, rx) = mpsc::channel();
    let spawned = {
        let (target, scenario, run_options) = (
            Arc::clone(target),
            Arc::clone(scenario),
            run_options.clone(),
        );
        std::thread::Builder::new()
            .name(format!("mpdiff {name}"))
            .spawn(move || {
                let result =
                    catch_unwind(AssertUnwindSafe(|| target.execute(&scenario, &run_options)));
                let _ = tx.send(result.map_err(|p| panic_text(&*p)));
            })
    };
    let failed = |why: String| Execution {
        target_info: target.info(scenario.heap),
        failure: Some(why),
        ..Execution::default()
    };
    let execution = match spawned {
        Err(e) => failed(format!("could not start a thread for the target: {e}")),
        Ok(_) => match rx.recv_timeout(limit) {
            Ok(Ok(execution)) => execution,
            Ok(Err(panic)) => failed(format!("target panicked: {panic}")),
            Err(_) => failed(format!(
                "the target did not return within {:.1} s (time-out {:.1} s): abandoned",
                limit.as_secs_f64(),
                run_options.timeout.as_secs_f64()
            )),
        },
    };
    let wall = start.elapsed();
    RunResult {
        scenario_index: index,
        lane: lane.to_string(),
        outcome: expect::finish(scenario, &name, execution),
        wall,
        ran: true,
    }
}

fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(no message)".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Status;
    use crate::scenario::load_str;
    use crate::targets::fake::{Behaviour, FakeTarget};
    use std::path::Path;

    fn scenario(name: &str) -> Arc<Scenario> {
        let text = "about: t\ntree: {}\nsteps:\n  - observe: a\n  - run: x = 1\n  - observe: b\n";
        Arc::new(load_str(text, Path::new("t.yaml"), name).unwrap())
    }

    fn plain(name: &str) -> FakeTarget {
        FakeTarget::new(
            name,
            Behaviour::Plain {
                free: 1000,
                step: -100,
            },
        )
    }

    #[test]
    fn every_pair_runs_once_and_results_are_ordered() {
        let scenarios: Vec<_> = ["s1", "s2", "s3"].iter().map(|n| scenario(n)).collect();
        let a = Arc::new(plain("a"));
        let b = Arc::new(plain("b"));
        let targets: Vec<Arc<dyn Target>> = vec![a.clone(), b.clone()];
        let events = AtomicUsize::new(0);
        let report = run(&scenarios, &targets, &RunnerOptions::default(), &|e| {
            if matches!(e, Event::Finished { .. }) {
                events.fetch_add(1, Ordering::SeqCst);
            }
        });
        assert_eq!(report.results.len(), 6);
        assert_eq!(events.load(Ordering::SeqCst), 6);
        assert_eq!((a.executions(), b.executions()), (3, 3));
        assert_eq!((a.prepares(), b.prepares()), (1, 1));
        let order: Vec<_> = report
            .results
            .iter()
            .map(|r| format!("{}@{}", r.outcome.scenario, r.outcome.target))
            .collect();
        assert_eq!(order, ["s1@a", "s1@b", "s2@a", "s2@b", "s3@a", "s3@b"]);
        assert!(
            report
                .results
                .iter()
                .all(|r| r.outcome.status == Status::Ok)
        );
    }

    #[test]
    fn a_scenarios_own_time_out_beats_the_default() {
        let own = "about: t\ntree: {}\ntimeout: 7\nsteps:\n  - observe: a\n";
        let own = Arc::new(load_str(own, Path::new("t.yaml"), "t").unwrap());
        let fake = Arc::new(plain("a"));
        let targets: Vec<Arc<dyn Target>> = vec![fake.clone()];
        let options = RunnerOptions {
            timeout: Duration::from_secs(2),
            ..RunnerOptions::default()
        };
        run(std::slice::from_ref(&own), &targets, &options, &|_| {});
        assert_eq!(fake.last_timeout(), Some(Duration::from_secs(7)));
        run(&[scenario("u")], &targets, &options, &|_| {});
        assert_eq!(fake.last_timeout(), Some(Duration::from_secs(2)));
    }

    #[test]
    fn a_target_that_ignores_its_time_out_is_abandoned() {
        let stuck = plain("stuck").delayed(Duration::from_secs(5));
        let targets: Vec<Arc<dyn Target>> = vec![Arc::new(stuck), Arc::new(plain("quick"))];
        let options = RunnerOptions {
            timeout: Duration::from_millis(50),
            grace: Duration::from_millis(50),
            ..RunnerOptions::default()
        };
        let report = run(&[scenario("s")], &targets, &options, &|_| {});
        let stuck = &report.results[0].outcome;
        assert_eq!(stuck.target, "stuck");
        assert_eq!(stuck.status, Status::Error);
        assert!(
            stuck
                .detail
                .as_deref()
                .unwrap_or("")
                .contains("did not return")
        );
        assert_eq!(report.results[1].outcome.status, Status::Ok);
    }

    #[test]
    fn an_unavailable_target_gives_error_outcomes_without_running() {
        let scenarios = vec![scenario("s1")];
        let off = Arc::new(plain("off").unavailable("switched off"));
        let targets: Vec<Arc<dyn Target>> = vec![off.clone()];
        let report = run(&scenarios, &targets, &RunnerOptions::default(), &|_| {});
        assert_eq!(off.executions(), 0);
        assert!(!report.results[0].ran);
        assert_eq!(report.unavailable.len(), 1);
        let outcome = &report.results[0].outcome;
        assert_eq!(outcome.status, Status::Error);
        assert!(
            outcome
                .detail
                .as_deref()
                .unwrap_or("")
                .contains("switched off")
        );
    }

    #[test]
    fn a_panicking_target_gives_an_error_outcome() {
        let scenarios = vec![scenario("s1"), scenario("s2")];
        let targets: Vec<Arc<dyn Target>> = vec![Arc::new(FakeTarget::new(
            "p",
            Behaviour::Panic("boom".into()),
        ))];
        let report = run(&scenarios, &targets, &RunnerOptions::default(), &|_| {});
        assert_eq!(report.results.len(), 2);
        for r in &report.results {
            assert_eq!(r.outcome.status, Status::Error);
            assert!(r.outcome.detail.as_deref().unwrap_or("").contains("boom"));
        }
    }

    /// A fake board that records how many of its executions overlap.
    struct Board {
        inner: FakeTarget,
        busy: AtomicUsize,
        overlap: AtomicUsize,
        shared: Arc<AtomicUsize>,
    }

    impl Target for Board {
        fn name(&self) -> String {
            self.inner.name()
        }
        fn prepare(&self) -> Result<(), TargetError> {
            self.inner.prepare()
        }
        fn info(&self, heap: u64) -> String {
            self.inner.info(heap)
        }
        fn execute(&self, s: &Scenario, o: &RunOptions) -> Execution {
            if self.busy.fetch_add(1, Ordering::SeqCst) > 0 {
                self.overlap.fetch_add(1, Ordering::SeqCst);
            }
            self.shared.fetch_add(1, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(5));
            let e = self.inner.execute(s, o);
            self.busy.fetch_sub(1, Ordering::SeqCst);
            e
        }
    }

    #[test]
    fn boards_run_one_scenario_at_a_time_and_share_the_queue() {
        let scenarios: Vec<_> = (0..8).map(|i| scenario(&format!("s{i}"))).collect();
        let count = Arc::new(AtomicUsize::new(0));
        let board = |port: &str| {
            Arc::new(Board {
                inner: plain(&format!("board:{port}")),
                busy: AtomicUsize::new(0),
                overlap: AtomicUsize::new(0),
                shared: count.clone(),
            })
        };
        let (b1, b2) = (board("/dev/a"), board("/dev/b"));
        let targets: Vec<Arc<dyn Target>> = vec![b1.clone(), b2.clone(), Arc::new(plain("rust"))];
        let options = RunnerOptions {
            jobs: 4,
            ..RunnerOptions::default()
        };
        let report = run(&scenarios, &targets, &options, &|_| {});
        // The pool runs each scenario once, on one of the boards.
        assert_eq!(count.load(Ordering::SeqCst), 8);
        assert_eq!(b1.overlap.load(Ordering::SeqCst), 0);
        assert_eq!(b2.overlap.load(Ordering::SeqCst), 0);
        assert_eq!(report.lanes, [BOARD_POOL, "rust"]);
        assert_eq!(report.results.len(), 16);
        let pooled = report
            .results
            .iter()
            .filter(|r| r.lane == BOARD_POOL)
            .count();
        assert_eq!(pooled, 8);

        // Unpooled, each board runs every scenario, still one at a time.
        count.store(0, Ordering::SeqCst);
        let options = RunnerOptions {
            pool_boards: false,
            ..options
        };
        let report = run(&scenarios, &targets, &options, &|_| {});
        assert_eq!(count.load(Ordering::SeqCst), 16);
        assert_eq!(b1.overlap.load(Ordering::SeqCst), 0);
        assert_eq!(report.lanes, ["board:/dev/a", "board:/dev/b", "rust"]);
    }
}
