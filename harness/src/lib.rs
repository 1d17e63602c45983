//! `mpdiff`: runs declarative import/unload scenarios on several targets (the Rust
//! firmware, MicroPython 1.9.4's unix port, boards over a serial port, CPython) and
//! compares what they observe. The scenario format and the outcome JSON are specified in
//! `SCENARIOS.md`; this crate is its reference implementation.

pub mod compare;
pub mod driver;
pub mod expect;
pub mod fidelity;
pub mod golden;
pub mod normalise;
pub mod outcome;
pub mod reference;
pub mod report;
pub mod runner;
pub mod scenario;
pub mod targets;
