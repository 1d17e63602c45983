//! The `mpfw` command: the firmware on a host, behind MicroPython 1.9.4's REPL.
//!
//! `mpfw serve --pty` makes a pseudo-terminal pair, prints the path of the terminal end on
//! stdout and serves the REPL on it until killed, so anything that talks to a board over a
//! serial port (mpdiff's `board:PATH`, `pyboard.py`, a terminal program) can talk to it.
//! `mpfw serve --stdio` serves on standard input and output.

use std::io::{self, Write};
use std::process::ExitCode;

use mpfw::repl::machine::MachineEngine;
use mpfw::repl::serve::{ServeOptions, StopFlag, serve};
use mpfw::repl::{BoardInfo, Repl};

const HELP: &str = "\
mpfw: a MicroPython 1.9.4-compatible firmware on a host

USAGE:
    mpfw serve (--pty | --stdio) [--heap SIZE] [--line-rate BAUD] [--no-banner]
    mpfw --help | --version

COMMANDS:
    serve    Serve the REPL (friendly and raw, as on a board) until killed or until
             the input ends.

OPTIONS:
    --pty              Make a pseudo-terminal pair and serve on it; the path to open
                       (e.g. /dev/pts/7) is printed on stdout, alone on its line.
                       Use it as `mpdiff run --target board:/dev/pts/7`.
    --stdio            Serve on standard input and output.
    --heap SIZE        GC heap size: 36K (default, like the ESP8266), 64K, 2M or bytes.
    --line-rate BAUD   Pace the line like a UART at BAUD bits per second (10 bits per
                       byte, both ways), so timings look like a real board's.
    --no-banner        Do not print the boot banner when serving starts.

The REPL speaks MicroPython 1.9.4's protocol byte for byte: `>>> ` prompts, Ctrl-A raw
mode (`raw REPL; CTRL-B to exit`), Ctrl-B friendly mode, Ctrl-C interrupt, Ctrl-D run
or soft reset (fresh heap and sys.modules; files are kept), Ctrl-E paste mode.
";

struct Args {
    pty: bool,
    stdio: bool,
    heap: usize,
    line_rate: Option<u32>,
    banner: bool,
}

fn parse_size(s: &str) -> Result<usize, String> {
    let s = s.trim();
    let (num, mult) = match s.as_bytes().last() {
        Some(b'K' | b'k') => (&s[..s.len() - 1], 1024),
        Some(b'M' | b'm') => (&s[..s.len() - 1], 1024 * 1024),
        _ => (s, 1),
    };
    num.parse::<usize>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .filter(|n| *n >= 1024)
        .ok_or_else(|| {
            format!("bad heap size {s:?}: use 36K, 64K, 2M or a byte count of at least 1024")
        })
}

fn parse(args: &[String]) -> Result<Option<Args>, String> {
    let mut it = args.iter();
    match it.next().map(String::as_str) {
        None | Some("-h" | "--help" | "help") => return Ok(None),
        Some("-V" | "--version") => {
            println!(
                "mpfw {} (MicroPython v1.9.4 compatible)",
                env!("CARGO_PKG_VERSION")
            );
            std::process::exit(0);
        }
        Some("serve") => {}
        Some(other) => return Err(format!("unknown command {other:?}; try `mpfw --help`")),
    }
    let mut a = Args {
        pty: false,
        stdio: false,
        heap: 36 * 1024,
        line_rate: None,
        banner: true,
    };
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--pty" => a.pty = true,
            "--stdio" => a.stdio = true,
            "--no-banner" => a.banner = false,
            "--heap" => a.heap = parse_size(it.next().ok_or("--heap needs a size")?)?,
            "--line-rate" | "--baud" => {
                let v = it.next().ok_or("--line-rate needs a number")?;
                a.line_rate = Some(v.parse().map_err(|_| format!("bad line rate {v:?}"))?);
            }
            "-h" | "--help" => return Ok(None),
            other => return Err(format!("unknown option {other:?}; try `mpfw --help`")),
        }
    }
    if a.pty == a.stdio {
        return Err("give exactly one of --pty and --stdio".into());
    }
    Ok(Some(a))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let a = match parse(&args) {
        Ok(Some(a)) => a,
        Ok(None) => {
            print!("{HELP}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("mpfw: {e}");
            return ExitCode::from(2);
        }
    };
    let options = ServeOptions {
        line_rate: a.line_rate,
        boot_banner: a.banner,
    };
    let mut repl = Repl::new(MachineEngine::new(a.heap), BoardInfo::default());
    let stop = StopFlag::new();
    let result = if a.stdio {
        serve(&mut repl, io::stdin(), &mut io::stdout(), &options, &stop)
    } else {
        serve_pty(&mut repl, &options, &stop)
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mpfw: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(all(unix, feature = "serve"))]
fn serve_pty(
    repl: &mut Repl<MachineEngine>,
    options: &ServeOptions,
    stop: &StopFlag,
) -> io::Result<()> {
    let pty = mpfw::repl::serve::open_pty(std::time::Duration::from_millis(100))?;
    let (path, reader, mut master, slave) = (pty.path, pty.reader, pty.writer, pty.slave);
    let mut out = io::stdout();
    writeln!(out, "{path}")?;
    out.flush()?;
    // `slave` stays open for the whole session: a client that closes and reopens the
    // path must not end it.
    let r = serve(repl, reader, &mut master, options, stop);
    drop(slave);
    r
}

#[cfg(not(all(unix, feature = "serve")))]
fn serve_pty(_: &mut Repl<MachineEngine>, _: &ServeOptions, _: &StopFlag) -> io::Result<()> {
    Err(io::Error::other(
        "this mpfw was built without pseudo-terminal support (feature `serve`, Unix only)",
    ))
}
