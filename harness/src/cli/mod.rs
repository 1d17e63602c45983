//! The `mpdiff` command line: argument types and the subcommands.

mod args;
mod commands;

pub use commands::main;
