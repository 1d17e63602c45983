//! The firmware's [`Machine`] as the REPL's engine.

use alloc::boxed::Box;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;

use super::{Engine, ExecOutcome, InputMode, Io};
use crate::compile::InputKind;
use crate::fs::RamFs;
use crate::machine::{Config, Machine};

/// How the machine behind the REPL starts.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// GC heap bytes.
    pub heap_bytes: usize,
    /// `sys.path` at start-up (and after each soft reset).
    pub path: Vec<String>,
    /// A script folder stored as `sys.path[0]` at start-up, like the unix port does.
    pub script_dir: Option<String>,
    /// `sys.argv`.
    pub argv: Vec<String>,
    /// The file name code typed at the REPL is compiled under (`<stdin>` on a board).
    pub source_file: String,
}

impl EngineConfig {
    /// A board's start-up: `sys.path` is `['', '/lib']` and REPL input is `<stdin>`.
    pub fn board(heap_bytes: usize) -> Self {
        EngineConfig {
            heap_bytes,
            path: vec![String::new(), "/lib".to_string()],
            script_dir: None,
            argv: Vec::new(),
            source_file: "<stdin>".to_string(),
        }
    }
}

/// The interpreter behind the REPL. A soft reset gives a fresh heap, `sys.modules` and
/// `__main__`; the filesystem, and with it the current folder, is kept (it plays the
/// board's flash).
pub struct MachineEngine {
    machine: Machine,
    source_file: String,
}

struct Through<'a>(&'a mut dyn Io);

impl crate::runtime::Io for Through<'_> {
    fn write(&mut self, data: &[u8]) {
        self.0.write(data);
    }
    fn interrupted(&mut self) -> bool {
        self.0.interrupted()
    }
}

impl MachineEngine {
    /// A board-like machine with `heap_bytes` of GC heap and an empty filesystem.
    pub fn new(heap_bytes: usize) -> Self {
        Self::with_config(EngineConfig::board(heap_bytes))
    }

    /// A machine started as `config` says, on an empty filesystem.
    pub fn with_config(config: EngineConfig) -> Self {
        let machine = Machine::new(Config {
            heap_bytes: config.heap_bytes,
            fs: Box::new(RamFs::new()),
            path: config.path,
            script_dir: config.script_dir,
            argv: config.argv,
        });
        MachineEngine {
            machine,
            source_file: config.source_file,
        }
    }

    /// The machine.
    pub fn machine(&mut self) -> &mut Machine {
        &mut self.machine
    }
}

impl Engine for MachineEngine {
    fn exec(&mut self, source: &str, mode: InputMode, io: &mut dyn Io) -> ExecOutcome {
        let kind = match mode {
            InputMode::Single => InputKind::Single,
            InputMode::File => InputKind::File,
        };
        match self
            .machine
            .exec(source, &self.source_file, kind, &mut Through(io))
        {
            Ok(()) => ExecOutcome::Done,
            Err(e) if e.kind == "SystemExit" => ExecOutcome::SystemExit,
            Err(e) => ExecOutcome::Exception(self.machine.format_exception(&e)),
        }
    }

    fn soft_reset(&mut self) {
        self.machine.soft_reset();
    }
}
