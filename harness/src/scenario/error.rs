//! Errors met while finding, reading or checking scenario files.

use std::io;
use std::path::{Path, PathBuf};

/// A scenario file could not be found, read, parsed or checked. The message starts with
/// `file:line:column:` whenever a position is known, so editors can jump to it.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The file could not be read.
    #[error("{}: failed to read: {source}", file.display())]
    Read {
        /// The file.
        file: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// A path given on the command line does not exist.
    #[error("{}: no such file or folder", file.display())]
    Missing {
        /// The path given.
        file: PathBuf,
    },
    /// A folder given on the command line holds no `*.yaml` file.
    #[error("{}: no scenario (*.yaml) in this folder", file.display())]
    Empty {
        /// The folder given.
        file: PathBuf,
    },
    /// The file is not valid YAML, does not match the format, or breaks a rule of it.
    #[error("{}:{line}:{column}: {message}", file.display())]
    Invalid {
        /// The file.
        file: PathBuf,
        /// 1-based line (0 when unknown).
        line: usize,
        /// 1-based column (0 when unknown).
        column: usize,
        /// What is wrong, in lower case, with a hint where the fix is known.
        message: String,
    },
}

impl ScenarioError {
    /// The file (or path given) the error is about.
    pub fn file(&self) -> &Path {
        match self {
            ScenarioError::Read { file, .. }
            | ScenarioError::Missing { file }
            | ScenarioError::Empty { file }
            | ScenarioError::Invalid { file, .. } => file,
        }
    }

    /// The 1-based line the error points at, when it points at one.
    pub fn line(&self) -> Option<usize> {
        match self {
            ScenarioError::Invalid { line, .. } if *line > 0 => Some(*line),
            _ => None,
        }
    }

    /// The message without the position prefix.
    pub fn message(&self) -> String {
        match self {
            ScenarioError::Invalid { message, .. } => message.clone(),
            ScenarioError::Read { source, .. } => format!("failed to read: {source}"),
            ScenarioError::Missing { .. } => "no such file or folder".to_string(),
            ScenarioError::Empty { .. } => "no scenario (*.yaml) in this folder".to_string(),
        }
    }
}
