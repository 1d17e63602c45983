//! Target names as given on the command line, and the constructors behind them.

use crate::targets::Target;
use crate::targets::fake::FakeTarget;
use crate::targets::unix::{UnixTarget, Word};

/// Options that some targets need when they are constructed.
#[derive(Debug, Clone)]
pub struct SelectOptions {
    /// Serial line rate for `board:PORT` targets, in bits per second.
    pub baud: u32,
}

impl Default for SelectOptions {
    fn default() -> Self {
        SelectOptions { baud: 115_200 }
    }
}

/// A target name could not be turned into a target.
#[derive(Debug, thiserror::Error)]
pub enum SelectError {
    /// The name is not one of the known targets.
    #[error("unknown target `{name}`; valid targets: {valid}")]
    Unknown {
        /// The name given.
        name: String,
        /// The valid names, comma separated.
        valid: String,
    },
    /// The target exists but this build of mpdiff leaves it out.
    #[error("target `{name}` needs mpdiff built with the `{feature}` feature")]
    Disabled {
        /// The name given.
        name: String,
        /// The cargo feature that brings it in.
        feature: &'static str,
    },
    /// The target could not be opened (e.g. a serial port).
    #[error("target `{name}`: {message}")]
    Open {
        /// The name given.
        name: String,
        /// What went wrong.
        message: String,
    },
}

/// The targets `mpdiff run` uses when none is given, in column order. Each is used when
/// it can be prepared here.
pub fn default_names() -> Vec<&'static str> {
    let mut names = vec!["rust", "unix32", "unix"];
    if cfg!(feature = "cpython") {
        names.push("cpython");
    }
    names
}

/// The references, most trusted first: outcomes of other targets are compared with the
/// first one that ran.
pub const REFERENCES: [&str; 2] = ["unix32", "unix"];

/// Every name `by_name` accepts, for messages and `mpdiff targets`.
pub fn valid_names() -> Vec<&'static str> {
    vec!["rust", "unix32", "unix", "cpython", "board:PORT"]
}

/// Turns a target name into a target. Nothing is built or opened here: interpreters are
/// built and ports opened by `prepare`.
pub fn by_name(name: &str, opts: &SelectOptions) -> Result<Box<dyn Target>, SelectError> {
    if let Some(fake) = FakeTarget::by_name(name) {
        return Ok(Box::new(fake));
    }
    match name {
        "unix32" => Ok(Box::new(UnixTarget::new(Word::W32))),
        "unix" => Ok(Box::new(UnixTarget::new(Word::W64))),
        "rust" => Ok(Box::new(crate::targets::rust::RustTarget::new())),
        "cpython" => cpython(name),
        _ => match name.strip_prefix("board:") {
            Some(port) if !port.is_empty() => board(name, port, opts),
            _ => Err(SelectError::Unknown {
                name: name.to_string(),
                valid: valid_names().join(", "),
            }),
        },
    }
}

#[cfg(feature = "cpython")]
fn cpython(_name: &str) -> Result<Box<dyn Target>, SelectError> {
    Ok(Box::new(crate::targets::cpython::CpythonTarget::new()))
}

#[cfg(not(feature = "cpython"))]
fn cpython(name: &str) -> Result<Box<dyn Target>, SelectError> {
    Err(SelectError::Disabled {
        name: name.to_string(),
        feature: "cpython",
    })
}

#[cfg(feature = "board")]
fn board(name: &str, port: &str, opts: &SelectOptions) -> Result<Box<dyn Target>, SelectError> {
    // The port is opened by `prepare`, so a wrong port fails there, with a hint.
    let _ = name;
    Ok(Box::new(crate::targets::board::BoardTarget::open(
        port, opts.baud,
    )))
}

#[cfg(not(feature = "board"))]
fn board(name: &str, _port: &str, _opts: &SelectOptions) -> Result<Box<dyn Target>, SelectError> {
    Err(SelectError::Disabled {
        name: name.to_string(),
        feature: "board",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_names_list_the_valid_ones() {
        let err = by_name("unix16", &SelectOptions::default())
            .err()
            .expect("unix16 is not a target");
        let text = err.to_string();
        assert!(text.contains("unix16"), "{text}");
        assert!(
            text.contains("unix32") && text.contains("board:PORT"),
            "{text}"
        );
        assert!(by_name("board:", &SelectOptions::default()).is_err());
    }

    #[test]
    fn fakes_are_reachable_by_name() {
        let t = by_name("fake:reference", &SelectOptions::default()).unwrap();
        assert_eq!(t.name(), "fake:reference");
        assert!(t.is_reference());
    }
}
