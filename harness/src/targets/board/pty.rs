//! A board on a pseudo-terminal, served in-process: the firmware's REPL on one end of a
//! pty pair, the other end's path for [`BoardTarget`](super::BoardTarget). Used by tests
//! and by the local run of the hardware-in-the-loop job.

use std::io;
use std::thread::JoinHandle;
use std::time::Duration;

use mpfw::repl::machine::{EngineConfig, MachineEngine};
use mpfw::repl::serve::{ServeOptions, StopFlag, open_pty, serve};
use mpfw::repl::{BoardInfo, Engine, Repl};

use crate::targets::rust;

/// A board served on a pseudo-terminal. Dropping it stops the server thread and closes
/// the terminal; nothing is left behind.
pub struct PtyBoard {
    /// The path to open, e.g. `/dev/pts/7`.
    pub path: String,
    stop: StopFlag,
    thread: Option<JoinHandle<io::Result<()>>>,
}

impl std::fmt::Debug for PtyBoard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PtyBoard")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl PtyBoard {
    /// Stops the server and waits for it; returns how serving ended.
    pub fn stop(mut self) -> io::Result<()> {
        self.stop.stop();
        match self.thread.take().map(|t| t.join()) {
            Some(Ok(r)) => r,
            Some(Err(_)) => Err(io::Error::other("the board thread panicked")),
            None => Ok(()),
        }
    }
}

impl Drop for PtyBoard {
    fn drop(&mut self) {
        self.stop.stop();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The firmware started the way the in-process `rust` target starts it (the unix port's
/// `sys.path`, script folder and `sys.argv`, the driver's file name for REPL input), so a
/// scenario run through the board meets the same heap and qstr state and observes the
/// same byte deltas.
pub fn rust_target_engine(heap_bytes: usize) -> MachineEngine {
    MachineEngine::with_config(EngineConfig {
        heap_bytes,
        path: rust::UNIX_PATH.iter().map(|s| s.to_string()).collect(),
        script_dir: Some(rust::SCRIPT_DIR.to_string()),
        argv: vec![rust::DRIVER.to_string()],
        source_file: rust::DRIVER.to_string(),
    })
}

/// The Rust firmware with `heap` bytes of GC heap served as a board on a new
/// pseudo-terminal, started like the `rust` target (see [`rust_target_engine`]).
pub fn spawn_pty_board(heap: u64) -> io::Result<PtyBoard> {
    let heap = usize::try_from(heap).map_err(io::Error::other)?;
    spawn_pty_board_with(
        rust_target_engine(heap),
        BoardInfo::default(),
        ServeOptions::default(),
    )
}

/// Serves `engine` behind a REPL on a new pseudo-terminal.
pub fn spawn_pty_board_with<E>(
    engine: E,
    info: BoardInfo,
    options: ServeOptions,
) -> io::Result<PtyBoard>
where
    E: Engine + Send + 'static,
{
    // A short read time-out lets the reader notice the stop flag.
    let pty = open_pty(Duration::from_millis(50))?;
    let (path, reader, mut master, slave) = (pty.path, pty.reader, pty.writer, pty.slave);
    let stop = StopFlag::new();
    let thread_stop = stop.clone();
    let thread = std::thread::Builder::new()
        .name(format!("pty-board {path}"))
        .spawn(move || {
            // The server keeps its own handle on the terminal side, so a client that
            // closes and reopens the path does not end the session.
            let _slave = slave;
            let mut repl = Repl::new(engine, info);
            serve(&mut repl, reader, &mut master, &options, &thread_stop)
        })?;
    Ok(PtyBoard {
        path,
        stop,
        thread: Some(thread),
    })
}
