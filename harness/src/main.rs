//! The `mpdiff` command. Everything it does lives in the library; this file only picks
//! the subcommand (`cli`).

mod cli;

/// The `rust` target runs the firmware in this process, and its front end allocates a small
/// Rust object per parse node; mimalloc serves those faster than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    cli::main()
}
