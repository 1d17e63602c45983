//! The `mpdiff` command. Everything it does lives in the library; this file only picks
//! the subcommand (`cli`).

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
