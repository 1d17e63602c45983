//! Real MicroPython 1.9.4, built from source: where the source comes from ([`source`]),
//! how the unix port is built and cached ([`build`]), how it is started so its heap
//! figures are reproducible ([`process`]), and the ready-to-run [`Reference`].

pub mod build;
mod error;
mod prepare;
pub mod process;
pub mod source;

pub use build::{Build, Word, build, build_root, variant_dir};
pub use error::ReferenceError;
pub use prepare::{Reference, prepare};
pub use source::{Origin, Source, source_dir};
