//! Why a reference build could not be located, built or run.

use std::path::PathBuf;

/// A reference MicroPython could not be made ready. Every message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum ReferenceError {
    /// The checkout named by `MPDIFF_MICROPYTHON_DIR` is not usable.
    #[error("MPDIFF_MICROPYTHON_DIR={}: {reason}", path.display())]
    BadOverride {
        /// The folder named.
        path: PathBuf,
        /// What is wrong and what to do.
        reason: String,
    },
    /// The vendored crate could not be fetched or found.
    #[error("vendored MicroPython source: {0}")]
    Vendor(String),
    /// A tool the build needs is not installed.
    #[error("`{tool}` not found in PATH; it is needed to build MicroPython ({hint})")]
    MissingTool {
        /// The program.
        tool: String,
        /// How to install it.
        hint: String,
    },
    /// The compiler cannot produce 32-bit programs.
    #[error(
        "cannot build 32-bit programs for unix32: install gcc-multilib (Debian/Ubuntu: `apt-get install gcc-multilib`); {detail}"
    )]
    NoMultilib {
        /// What the compiler said.
        detail: String,
    },
    /// `make` failed.
    #[error("building MicroPython {variant} failed ({status}); build log: {}\n{tail}", log.display())]
    Make {
        /// `unix` or `unix32`.
        variant: String,
        /// How make ended.
        status: String,
        /// The full build log.
        log: PathBuf,
        /// The last lines of the log, with a hint when the cause is known.
        tail: String,
    },
    /// The built binary did not answer as MicroPython 1.9.4 of the right word size.
    #[error("{} is not a usable MicroPython {variant} binary: {detail}", binary.display())]
    BadBinary {
        /// `unix` or `unix32`.
        variant: String,
        /// The binary.
        binary: PathBuf,
        /// What it did.
        detail: String,
    },
    /// A file system operation failed.
    #[error("{action} {}: {source}", path.display())]
    Io {
        /// What was being done, e.g. `failed to copy`.
        action: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}
