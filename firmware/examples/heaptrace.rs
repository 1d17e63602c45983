//! Runs a script on the firmware set up like the harness's `rust` target and prints every GC
//! heap operation in the format of an instrumented 1.9.4 `py/gc.c` (one per line: `A bytes
//! block|FAIL`, `F block`, `R block bytes move`, `r block|FAIL`, `C`), so the two traces can be
//! diffed to find where allocation order or sizes part.
//!
//! ```text
//! cargo run --release -p mpfw --example heaptrace -- TREE SCRIPT HEAP_BYTES
//! ```
//!
//! `TREE` is copied into the RAM filesystem at `/mpdiff` (the current folder), `SCRIPT` runs as
//! `../driver.py` with `sys.path` and `sys.argv` as on the unix port. The script's output goes
//! to stderr, the trace to stdout.

use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;

use mpfw::fs::{FileSystem, RamFs};
use mpfw::{Config, InputKind, Io, Machine};

/// The tree's place in the RAM filesystem (as in the harness's rust target).
const ROOT: &str = "/mpdiff";
/// Where the unix target's driver script lives.
const SCRIPT_DIR: &str = "/tmp/mpdiff-xxxxxxxx";
/// How the unix target names the driver.
const DRIVER: &str = "../driver.py";

struct Stderr;

impl Io for Stderr {
    fn write(&mut self, data: &[u8]) {
        let _ = std::io::stderr().write_all(data);
    }
}

fn add_tree(fs: &mut RamFs, dir: &Path, at: &str) -> Result<(), String> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(Result::ok)
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name().to_string_lossy().into_owned();
        let path = format!("{at}/{name}");
        if e.path().is_dir() {
            fs.mkdir(&path).map_err(|e| format!("{path}: {e:?}"))?;
            add_tree(fs, &e.path(), &path)?;
        } else {
            let data = std::fs::read(e.path()).map_err(|e| format!("{path}: {e}"))?;
            fs.write_all(&path, &data)
                .map_err(|e| format!("{path}: {e:?}"))?;
        }
    }
    Ok(())
}

fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [tree, script, heap] = args.as_slice() else {
        return Err("usage: heaptrace TREE SCRIPT HEAP_BYTES".into());
    };
    let heap: usize = heap.parse().map_err(|_| format!("bad heap size {heap}"))?;
    let source = std::fs::read_to_string(script).map_err(|e| format!("{script}: {e}"))?;
    let mut fs = RamFs::new();
    fs.mkdir(ROOT).map_err(|e| format!("{e:?}"))?;
    add_tree(&mut fs, Path::new(tree), ROOT)?;
    fs.chdir(ROOT).map_err(|e| format!("{e:?}"))?;
    mpfw::heap::trace_new_heaps(true);
    // `S blk` lines for the heads each sweep frees, like a gc.c that also logs its sweep
    mpfw::heap::trace_sweeps(std::env::var_os("MPTRACE_SWEEP").is_some());
    let mut machine = Machine::new(Config::unix_port(heap, Box::new(fs), SCRIPT_DIR, DRIVER));
    let result = machine.exec(&source, DRIVER, InputKind::File, &mut Stderr);
    let mut out = std::io::stdout().lock();
    for e in machine.heap_mut().take_trace() {
        let _ = writeln!(out, "{e}");
    }
    if let Err(e) = result {
        eprint!("{}", machine.format_exception(&e));
    }
    Ok(())
}

fn main() -> ExitCode {
    // The firmware recurses on the Rust stack like 1.9.4 on the C stack: give it room.
    let worker = std::thread::Builder::new()
        .stack_size(256 * 1024 * 1024)
        .spawn(run);
    match worker.map(|w| w.join()) {
        Ok(Ok(Ok(()))) => ExitCode::SUCCESS,
        Ok(Ok(Err(e))) => {
            eprintln!("heaptrace: {e}");
            ExitCode::from(2)
        }
        _ => {
            eprintln!("heaptrace: the firmware thread failed");
            ExitCode::from(2)
        }
    }
}
