//! [`Machine`]: a whole MicroPython 1.9.4-like interpreter (heap, qstrs, `sys.modules`,
//! `__main__`, filesystem) with the start-up of the unix port where it affects memory.

use alloc::boxed::Box;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;

use crate::compile::InputKind;
use crate::fs::{FileSystem, RamFs};
use crate::heap::{Heap, Word};
use crate::obj::{self, NONE, NULL, R, rom};
use crate::runtime::{Io, PR, Rt, State, q};

/// How to build a [`Machine`].
pub struct Config {
    /// Bytes of the GC heap (like `-X heapsize=`); 36 KiB gives 2248 blocks.
    pub heap_bytes: usize,
    /// The filesystem imports and `uos` work on.
    pub fs: Box<dyn FileSystem + Send>,
    /// `sys.path` at start-up (each entry interned, in order, like the unix port does).
    pub path: Vec<String>,
    /// Folder of the script being run, as the unix port's `realpath` gives it: interned
    /// after the path entries and stored as `sys.path[0]` (None: keep `path` as it is).
    pub script_dir: Option<String>,
    /// `sys.argv`, interned after the script folder.
    pub argv: Vec<String>,
}

impl Config {
    /// `sys.path` of 1.9.4's unix port started with an empty environment (`HOME` unset, so
    /// `~/.micropython/lib` stays as it is).
    pub const UNIX_PORT_PATH: [&'static str; 3] =
        ["", "~/.micropython/lib", "/usr/lib/micropython"];

    /// The start-up of 1.9.4's unix port running `script` from the folder `script_dir` with
    /// an empty environment: [`Config::UNIX_PORT_PATH`], then the folder, then `script` as
    /// `sys.argv[0]`, interned in that order as the port does.
    pub fn unix_port(
        heap_bytes: usize,
        fs: Box<dyn FileSystem + Send>,
        script_dir: &str,
        script: &str,
    ) -> Config {
        Config {
            heap_bytes,
            fs,
            path: Self::UNIX_PORT_PATH
                .iter()
                .map(|s| String::from(*s))
                .collect(),
            script_dir: Some(String::from(script_dir)),
            argv: vec![String::from(script)],
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            heap_bytes: 36 * 1024,
            fs: Box::new(RamFs::new()),
            path: vec![String::new(), "/lib".to_string()],
            script_dir: None,
            argv: Vec::new(),
        }
    }
}

/// A Python exception that escaped to the caller of [`Machine::exec`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PyException {
    /// The exception type's name, e.g. `ImportError`.
    pub kind: String,
    /// `str(exception)`.
    pub message: String,
    /// (file, line, block) from the outermost call to where it was raised.
    pub traceback: Vec<(String, u32, String)>,
}

impl core::fmt::Display for PyException {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        if self.message.is_empty() {
            write!(f, "{}", self.kind)
        } else {
            write!(f, "{}: {}", self.kind, self.message)
        }
    }
}

/// Output that goes nowhere.
pub struct NullIo;

impl Io for NullIo {
    fn write(&mut self, _data: &[u8]) {}
}

/// The interpreter.
pub struct Machine {
    st: State,
    path: Vec<String>,
    script_dir: Option<String>,
    argv: Vec<String>,
    heap_bytes: usize,
    board_vfs: bool,
}

impl Machine {
    /// A machine freshly started like `micropython -X heapsize=N` with `sys.path` from the config.
    pub fn new(config: Config) -> Machine {
        let st = State::new(config.heap_bytes, config.fs);
        let mut m = Machine {
            st,
            path: config.path,
            script_dir: config.script_dir,
            argv: config.argv,
            heap_bytes: config.heap_bytes,
            board_vfs: false,
        };
        m.start();
        m
    }

    /// `mp_init` plus the unix main's set-up of `sys.path` and `sys.argv`.
    fn start(&mut self) {
        let path = self.path.clone();
        let script_dir = self.script_dir.clone();
        let argv_items = self.argv.clone();
        let mut io = NullIo;
        let mut rt = Rt {
            st: &mut self.st,
            io: &mut io,
        };
        let _ = (|| -> PR<()> {
            // mp_state_vm's mp_loaded_modules_dict, dict_main, mp_sys_path_obj and
            // mp_sys_argv_obj: static headers, heap tables/items
            let modules = Heap::static_obj(0);
            rt.init_static_dict(modules, 3)?;
            rt.set_modules(modules);
            let main = Heap::static_obj(1);
            rt.init_static_dict(main, 1)?;
            rt.set_main(main);
            let nq = q!(rt, "__name__");
            let mq = q!(rt, "__main__");
            rt.dict_setq(main, nq, obj::qstr_obj(mq))?;
            rt.set_globals(main);
            rt.set_locals(main);
            let l = Heap::static_obj(2);
            rt.init_static_list(l)?;
            rt.set_path(l);
            for p in &path {
                let q = rt.intern(p.as_bytes())?;
                rt.list_append(l, obj::qstr_obj(q))?;
            }
            if let Some(d) = &script_dir {
                let q = rt.intern(d.as_bytes())?;
                let it = rt.f(l, 3);
                if rt.f(l, 2) > 0 {
                    rt.wf(it, 0, obj::qstr_obj(q));
                } else {
                    rt.list_append(l, obj::qstr_obj(q))?;
                }
            }
            let argv = Heap::static_obj(3);
            rt.init_static_list(argv)?;
            rt.set_argv(argv);
            for a in &argv_items {
                let q = rt.intern(a.as_bytes())?;
                rt.list_append(argv, obj::qstr_obj(q))?;
            }
            Ok(())
        })();
    }

    /// Runs `source` in `__main__` (`File`: statements; `Single`: REPL line printing
    /// expression values; `Eval`: an expression whose value is printed like the REPL does).
    /// For `File` input `__file__` is stored in `__main__` first, like the unix port does.
    pub fn exec(
        &mut self,
        source: &str,
        source_file: &str,
        kind: InputKind,
        io: &mut dyn Io,
    ) -> Result<(), PyException> {
        let mut rt = Rt {
            st: &mut self.st,
            io,
        };
        let r = (|| -> PR<()> {
            let main = rt.main_dict();
            rt.set_globals(main);
            rt.set_locals(main);
            // `__file__` is stored once the lexer exists, as the unix main does
            let file_dict = (kind == InputKind::File).then_some(main);
            let v = rt.exec_script(source, source_file, kind, main, file_dict)?;
            if kind == InputKind::Eval && v != NONE {
                let s = rt.repr(v);
                rt.io.write(s.as_bytes());
                rt.io.write(b"\n");
            }
            Ok(())
        })();
        r.map_err(|e| rt.to_py_exception(e))
    }

    /// A fresh heap, `sys.modules` and `__main__` (files are kept), like a soft reset.
    pub fn soft_reset(&mut self) {
        let fs = core::mem::replace(&mut self.st.fs, Box::new(RamFs::new()));
        self.st = State::new(self.heap_bytes, fs);
        self.st.board_vfs = self.board_vfs;
        self.start();
    }

    /// Gives `uos` a board port's VFS functions (`listdir`, `chdir`, `getcwd`, `remove`,
    /// `rename`, `rmdir`, as the ESP8266's has them), kept across soft resets; without this
    /// `uos` is the unix port's, which has none of them.
    pub fn set_board_vfs(&mut self, on: bool) {
        self.board_vfs = on;
        self.st.board_vfs = on;
    }

    /// The filesystem.
    pub fn fs(&mut self) -> &mut dyn FileSystem {
        &mut *self.st.fs
    }

    /// `gc.mem_free()`.
    pub fn mem_free(&self) -> usize {
        self.st.heap.mem_free()
    }

    /// `gc.mem_alloc()`.
    pub fn mem_alloc(&self) -> usize {
        self.st.heap.mem_alloc()
    }

    /// The GC heap, for diagnostics such as [`crate::heap::Heap::take_trace`].
    pub fn heap_mut(&mut self) -> &mut crate::heap::Heap {
        &mut self.st.heap
    }

    /// Runs a full collection (`gc.collect()`).
    pub fn collect(&mut self) -> usize {
        self.st.heap.collect(&[])
    }

    /// The traceback text 1.9.4 prints for an uncaught exception.
    pub fn format_exception(&self, e: &PyException) -> String {
        let mut s = String::from("Traceback (most recent call last):\n");
        for (file, line, block) in &e.traceback {
            if block.is_empty() {
                s.push_str(&format!("  File \"{file}\", line {line}\n"));
            } else {
                s.push_str(&format!("  File \"{file}\", line {line}, in {block}\n"));
            }
        }
        s.push_str(&e.to_string());
        s.push('\n');
        s
    }
}

impl Rt<'_> {
    /// Converts an exception object into a [`PyException`].
    pub fn to_py_exception(&mut self, e: Word) -> PyException {
        let kind = self.type_name(e);
        let message = self.exc_str(e);
        let traceback = self
            .traceback(e)
            .into_iter()
            .map(|(f, l, b)| {
                let block = if b == 0 {
                    String::new()
                } else {
                    self.qstr_string(b)
                };
                (self.qstr_string(f), l, block)
            })
            .collect();
        PyException {
            kind,
            message,
            traceback,
        }
    }

    /// The traceback text of an exception object (`sys.print_exception`).
    pub fn format_exc(&mut self, e: Word) -> String {
        let p = self.to_py_exception(e);
        let mut s = String::from("Traceback (most recent call last):\n");
        for (file, line, block) in &p.traceback {
            if block.is_empty() {
                s.push_str(&format!("  File \"{file}\", line {line}\n"));
            } else {
                s.push_str(&format!("  File \"{file}\", line {line}, in {block}\n"));
            }
        }
        s.push_str(&p.to_string());
        s.push('\n');
        s
    }
}

#[allow(dead_code)]
fn _unused() -> Word {
    let _ = (NULL, rom(R::NoneObj));
    0
}
