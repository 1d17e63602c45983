//! A fake target for the harness's own tests: no interpreter, canned answers. It lets the
//! runner, the command line and the reports be tested on their own, including the cases
//! real targets make hard to provoke (a target that cannot be prepared, one that panics,
//! one that is slow).

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use indexmap::IndexMap;

use crate::outcome::{Observation, StepError};
use crate::scenario::{Scenario, Step};
use crate::targets::{Execution, RunOptions, Target, TargetError};

/// How a [`FakeTarget`] answers.
#[derive(Debug, Clone)]
pub enum Behaviour {
    /// Walks the steps: every declared `raises` happens, every observation sees only
    /// `__name__` in the namespace, no module, and `repr(True)` for every eval. Free memory
    /// starts at `free` and changes by `step` bytes at each observation (negative: the
    /// heap fills up).
    Plain {
        /// Free bytes at the first observation.
        free: i64,
        /// Change of free bytes from one observation to the next.
        step: i64,
    },
    /// Returns this execution as it is, whatever the scenario.
    Canned(Execution),
    /// The target cannot run the scenario: the execution carries this failure.
    Fail(String),
    /// `execute` panics with this message (the runner must survive it).
    Panic(String),
}

/// A configurable target that runs no Python.
#[derive(Debug)]
pub struct FakeTarget {
    name: String,
    behaviour: Behaviour,
    unavailable: Option<String>,
    delay: Duration,
    reference: bool,
    executions: AtomicUsize,
    prepares: AtomicUsize,
    last_timeout: Mutex<Option<Duration>>,
}

impl FakeTarget {
    /// A fake named `name` answering with `behaviour`, ready, not a reference.
    pub fn new(name: &str, behaviour: Behaviour) -> FakeTarget {
        FakeTarget {
            name: name.to_string(),
            behaviour,
            unavailable: None,
            delay: Duration::ZERO,
            reference: false,
            executions: AtomicUsize::new(0),
            prepares: AtomicUsize::new(0),
            last_timeout: Mutex::new(None),
        }
    }

    /// Makes `prepare` fail with this reason.
    pub fn unavailable(mut self, why: &str) -> FakeTarget {
        self.unavailable = Some(why.to_string());
        self
    }

    /// Makes every `execute` sleep this long first.
    pub fn delayed(mut self, delay: Duration) -> FakeTarget {
        self.delay = delay;
        self
    }

    /// Makes the fake claim to be a reference (golden snapshots are recorded for it).
    pub fn reference(mut self) -> FakeTarget {
        self.reference = true;
        self
    }

    /// How many times `execute` was called.
    pub fn executions(&self) -> usize {
        self.executions.load(Ordering::SeqCst)
    }

    /// The time-out given to the last `execute`.
    pub fn last_timeout(&self) -> Option<Duration> {
        *self.last_timeout.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How many times `prepare` was called.
    pub fn prepares(&self) -> usize {
        self.prepares.load(Ordering::SeqCst)
    }

    /// The fakes reachable by name from the command line (`fake`, `fake:<kind>`), for the
    /// command-line tests. `None` when the name is not one of them.
    pub fn by_name(name: &str) -> Option<FakeTarget> {
        let plain = Behaviour::Plain {
            free: 30_000,
            step: -1_000,
        };
        let fake = match name {
            "fake" => FakeTarget::new(name, plain),
            "fake:reference" => FakeTarget::new(name, plain).reference(),
            // Same names as `fake`, opposite memory movement: the two disagree.
            "fake:shrink" => FakeTarget::new(
                name,
                Behaviour::Plain {
                    free: 20_000,
                    step: 1_000,
                },
            ),
            "fake:error" => FakeTarget::new(name, Behaviour::Fail("the fake gave up".into())),
            "fake:panic" => FakeTarget::new(name, Behaviour::Panic("the fake panicked".into())),
            "fake:unavailable" => {
                FakeTarget::new(name, plain).unavailable("the fake is switched off")
            }
            "fake:slow" => FakeTarget::new(name, plain).delayed(Duration::from_millis(300)),
            _ => return None,
        };
        Some(fake)
    }
}

impl Target for FakeTarget {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn prepare(&self) -> Result<(), TargetError> {
        self.prepares.fetch_add(1, Ordering::SeqCst);
        match &self.unavailable {
            Some(why) => Err(TargetError::Unavailable {
                target: self.name.clone(),
                message: why.clone(),
            }),
            None => Ok(()),
        }
    }

    fn info(&self, heap: u64) -> String {
        format!("fake target {}, heap {heap} bytes", self.name)
    }

    fn execute(&self, scenario: &Scenario, options: &RunOptions) -> Execution {
        self.executions.fetch_add(1, Ordering::SeqCst);
        *self.last_timeout.lock().unwrap_or_else(|e| e.into_inner()) = Some(options.timeout);
        if !self.delay.is_zero() {
            std::thread::sleep(self.delay);
        }
        let info = self.info(scenario.heap);
        match &self.behaviour {
            Behaviour::Plain { free, step } => plain(scenario, info, *free, *step),
            Behaviour::Canned(execution) => execution.clone(),
            Behaviour::Fail(why) => Execution {
                target_info: info,
                failure: Some(why.clone()),
                ..Execution::default()
            },
            Behaviour::Panic(message) => panic!("{message}"),
        }
    }

    fn is_reference(&self) -> bool {
        self.reference
    }
}

fn plain(scenario: &Scenario, target_info: String, free: i64, step: i64) -> Execution {
    let total = i64::try_from(scenario.heap).unwrap_or(i64::MAX);
    let mut execution = Execution {
        target_info,
        ..Execution::default()
    };
    let mut seen = 0i64;
    for (i, s) in scenario.steps.iter().enumerate() {
        match s {
            Step::Run {
                raises: Some(kind), ..
            } => execution.exceptions.push(StepError {
                step: i,
                kind: kind.clone(),
                message: "raised by the fake".to_string(),
            }),
            Step::Run { raises: None, .. } => {}
            Step::Observe { label, eval, .. } => {
                let f = free + step * seen;
                seen += 1;
                execution.observations.push(Observation {
                    label: label.clone(),
                    free: f,
                    alloc: total - f,
                    modules: Vec::new(),
                    names: vec!["__name__".to_string()],
                    eval: eval
                        .iter()
                        .map(|e| (e.clone(), "True".to_string()))
                        .collect::<IndexMap<_, _>>(),
                });
            }
        }
    }
    execution
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::load_str;
    use std::path::Path;

    const SCENARIO: &str = "about: fake\ntree: {}\nsteps:\n  - observe: a\n  - run: import nothere\n    raises: ImportError\n  - observe: b\n    eval: [\"1\"]\n";

    #[test]
    fn plain_walks_the_steps() {
        let s = load_str(SCENARIO, Path::new("x.yaml"), "x").unwrap();
        let fake = FakeTarget::new(
            "fake",
            Behaviour::Plain {
                free: 100,
                step: -10,
            },
        );
        let e = fake.execute(&s, &RunOptions::default());
        let labels: Vec<_> = e.observations.iter().map(|o| o.label.as_str()).collect();
        assert_eq!(labels, ["a", "b"]);
        assert_eq!(e.observations[1].free, 90);
        assert_eq!(e.exceptions[0].step, 1);
        assert_eq!(e.observations[1].eval["1"], "True");
        assert_eq!(fake.executions(), 1);
    }

    #[test]
    fn unavailable_fails_prepare() {
        let fake = FakeTarget::by_name("fake:unavailable").unwrap();
        assert!(fake.prepare().is_err());
        assert!(FakeTarget::by_name("fake").unwrap().prepare().is_ok());
        assert!(FakeTarget::by_name("nope").is_none());
    }
}
