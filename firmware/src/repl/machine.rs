//! The firmware's [`Machine`] as the REPL's engine.

use alloc::boxed::Box;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;

use super::{Engine, ExecOutcome, InputMode, Io};
use crate::compile::InputKind;
use crate::fs::RamFs;
use crate::machine::{Config, Machine, PyException};

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
        let mut machine = Machine::new(Config {
            heap_bytes: config.heap_bytes,
            fs: Box::new(RamFs::new()),
            path: config.path,
            script_dir: config.script_dir,
            argv: config.argv,
        });
        // a board's uos: mpdiff's board target lays scenario trees out with these
        machine.set_board_vfs(true);
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
            Err(e) => ExecOutcome::Exception(traceback_text(&e)),
        }
    }

    fn soft_reset(&mut self) {
        self.machine.soft_reset();
    }
}

/// What 1.9.4's `mp_obj_print_exception` prints: the traceback header and lines only when
/// there are lines, then `Type: message` — the `: ` is printed even when the message is
/// empty (`KeyboardInterrupt: `).
pub fn traceback_text(e: &PyException) -> String {
    let mut s = String::new();
    if !e.traceback.is_empty() {
        s.push_str("Traceback (most recent call last):\n");
        for (file, line, block) in &e.traceback {
            s.push_str(&alloc::format!("  File \"{file}\", line {line}"));
            if block.is_empty() {
                s.push('\n');
            } else {
                s.push_str(&alloc::format!(", in {block}\n"));
            }
        }
    }
    s.push_str(&e.kind);
    s.push_str(": ");
    s.push_str(&e.message);
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracebacks_print_like_mp_obj_print_exception() {
        let e = PyException {
            kind: "ImportError".into(),
            message: "no module named 'x'".into(),
            traceback: vec![("<stdin>".into(), 1, "<module>".into())],
        };
        assert_eq!(
            traceback_text(&e),
            "Traceback (most recent call last):\n  File \"<stdin>\", line 1, in <module>\nImportError: no module named 'x'\n"
        );
        let k = PyException {
            kind: "KeyboardInterrupt".into(),
            message: String::new(),
            traceback: vec![],
        };
        assert_eq!(traceback_text(&k), "KeyboardInterrupt: \n");
    }

    #[test]
    fn the_raw_repl_runs_code_on_the_machine() {
        struct Out(Vec<u8>);
        impl Io for Out {
            fn write(&mut self, data: &[u8]) {
                self.0.extend_from_slice(data);
            }
        }
        let mut engine = MachineEngine::new(36 * 1024);
        let mut out = Out(Vec::new());
        assert_eq!(
            engine.exec("x = 6\nprint(x * 7)", InputMode::File, &mut out),
            ExecOutcome::Done
        );
        assert_eq!(out.0, b"42\n");
        match engine.exec("import nothere", InputMode::File, &mut out) {
            ExecOutcome::Exception(t) => assert!(
                t.ends_with("ImportError: no module named 'nothere'\n"),
                "{t}"
            ),
            other => panic!("{other:?}"),
        }
        // a soft reset forgets names
        engine.soft_reset();
        match engine.exec("x", InputMode::File, &mut out) {
            ExecOutcome::Exception(t) => assert!(t.contains("NameError"), "{t}"),
            other => panic!("{other:?}"),
        }
    }
}
