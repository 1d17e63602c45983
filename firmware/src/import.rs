//! The import machinery of py/builtinimport.c and py/runtime.c (`mp_import_name`,
//! `mp_import_from`, `mp_import_all`), plus loading compiled code into the arena and running
//! it in a context (`mp_parse_compile_execute`).

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::compile::{self, CompileError, Const, InputKind, Interner, RawCode};
use crate::fs::FileKind;
use crate::heap::{Heap, WORD_BYTES, Word};
use crate::obj::{self, NONE, NULL, R, layout, rom};
use crate::qstr::Qstrs;
use crate::runtime::{PR, Rt, q};

/// The front end's view of the qstr table.
struct Interning<'a> {
    heap: &'a mut Heap,
    qstrs: &'a mut Qstrs,
}

impl Interner for Interning<'_> {
    fn intern(&mut self, s: &str) -> Result<u16, CompileError> {
        if let Some(q) = self.qstrs.find(s.as_bytes()) {
            return Ok(q);
        }
        self.qstrs
            .intern(self.heap, s.as_bytes())
            .ok_or_else(|| CompileError {
                kind: "MemoryError",
                message: String::new(),
                file: String::new(),
                line: 0,
                column: 0,
            })
    }
    fn lookup(&self, s: &str) -> Option<u16> {
        self.qstrs.find(s.as_bytes())
    }
    fn resolve(&self, q: u16) -> &str {
        self.qstrs.str(q)
    }
    fn resolve_bytes(&self, q: u16) -> &[u8] {
        self.qstrs.text(q)
    }
    fn intern_bytes(&mut self, b: &[u8]) -> Result<u16, CompileError> {
        // the qstr table is byte-clean: a bytes literal that is not UTF-8 is interned as is
        if let Some(q) = self.qstrs.find(b) {
            return Ok(q);
        }
        self.qstrs.intern(self.heap, b).ok_or_else(|| CompileError {
            kind: "MemoryError",
            message: String::new(),
            file: String::new(),
            line: 0,
            column: 0,
        })
    }
}

/// Stat of an import candidate (`mp_import_stat_t`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stat {
    NoExist,
    Dir,
    File,
}

impl Rt<'_> {
    // ------------------------------------------------------------------ compiling and running

    /// Parses and compiles `source`, loads the code into the arena and returns the module-level
    /// function (`mp_compile`), made with the current globals.
    pub fn compile_to_fun(&mut self, source: &str, file: u16, kind: InputKind) -> PR<Word> {
        let file_name = self.qstr_string(file);
        // 1.9.4's lexer and parser work on the GC heap: their blocks are live while the names
        // are interned and are freed (explicitly) before the code is emitted, which decides
        // where the qstr chunks and the code land. Their fixed-size parts are replayed here:
        // the reader (a 36-byte POSIX file reader, or 16 bytes over a str), the lexer (84 B),
        // its indent stack (20 B) and token vstr (32 B), the parser's rule stack (64 x 8 B)
        // and result stack (32 x 4 B), and a first parse-node chunk (128 B) that lives
        // until the code is loaded.
        let from_file = file_name.ends_with(".py");
        let mut temps: Vec<Word> = Vec::new();
        for n in [if from_file { 36 } else { 16 }, 84, 20, 32, 512, 128, 128] {
            match self.st.heap.alloc(n) {
                Some(p) => {
                    self.st.heap.push_root(p);
                    temps.push(p);
                }
                None => break,
            }
        }
        let depth0 = self.st.heap.root_depth() - temps.len();
        let rc = {
            let mut i = Interning {
                heap: &mut self.st.heap,
                qstrs: &mut self.st.qstrs,
            };
            compile::compile(source, &file_name, kind, &mut i)
        };
        // mp_parse frees its stacks, then mp_lexer_free: reader, vstr, indent stack, lexer
        // (after the parse-time constants, which load_raw_code makes first)
        let lexer: Vec<Word> = [4, 5, 0, 3, 2, 1]
            .iter()
            .filter_map(|i| temps.get(*i).copied())
            .collect();
        let chunk = temps.get(6).copied();
        self.st.heap.truncate_roots(depth0);
        let rc = match rc {
            Ok(rc) => rc,
            Err(e) => {
                for p in lexer.iter().chain(chunk.iter()) {
                    self.st.heap.free(*p);
                }
                return Err(self.compile_error(&e, file));
            }
        };
        let depth = self.st.heap.root_depth();
        for p in lexer.iter().chain(chunk.iter()) {
            self.st.heap.push_root(*p);
        }
        let r = (|| {
            let code = self.load_raw_code(&rc, &lexer)?;
            self.make_function(code, NULL, NULL)
        })();
        self.release(depth);
        if let Some(p) = chunk {
            self.st.heap.free(p);
        }
        r
    }

    fn compile_error(&mut self, e: &CompileError, file: u16) -> Word {
        let r = match e.kind {
            "SyntaxError" => R::ESyntaxError,
            "IndentationError" => R::EIndentationError,
            "MemoryError" => return rom(R::MemoryErrorObj),
            _ => R::ENotImplementedError,
        };
        let ex = self.exc_msg(r, &e.message);
        self.add_traceback(ex, file, e.line, 0);
        ex
    }

    /// Copies a compiled module into the arena in 1.9.4's order: parse-time constant objects,
    /// the raw-code headers of every scope, then per scope its bytecode and const table.
    /// Everything allocated stays on the temporary root stack until the caller releases it.
    /// `lexer` are the lexer/parser scratch blocks, freed once the constants are made.
    fn load_raw_code(&mut self, rc: &RawCode, lexer: &[Word]) -> PR<Word> {
        let mut scopes: Vec<&RawCode> = Vec::new();
        fn walk<'a>(rc: &'a RawCode, out: &mut Vec<&'a RawCode>) {
            out.push(rc);
            for c in &rc.children {
                walk(c, out);
            }
        }
        walk(rc, &mut scopes);
        let mut order: Vec<usize> = (0..scopes.len()).collect();
        order.sort_by_key(|i| scopes[*i].scope_index);
        // constant objects
        let mut objs: Vec<Vec<Word>> = alloc::vec![Vec::new(); scopes.len()];
        for &i in &order {
            for c in &scopes[i].objects {
                let w = match c {
                    Const::Str(s) => self.new_str_heap(R::TStr, s.as_bytes())?,
                    Const::Bytes(b) => self.new_str_heap(R::TBytes, b)?,
                    Const::Int(v) => self.new_int(*v)?,
                    Const::BigInt(z) => self.new_big_const(z)?,
                    Const::Float(f) => self.new_float(*f)?,
                    Const::Ellipsis => rom(R::Ellipsis),
                };
                self.hold(w);
                objs[i].push(w);
            }
        }
        // the parser is done: its stacks and the lexer go
        for p in lexer {
            self.st.heap.free(*p);
        }
        // raw-code headers
        let mut heads: Vec<Word> = alloc::vec![0; scopes.len()];
        for &i in &order {
            let h = self.alloc(layout::RAW_CODE_WORDS * WORD_BYTES)?;
            self.hold(h);
            let s = scopes[i];
            let w0 = (u32::from(s.scope_flags) << 3) | (u32::from(s.n_pos_args) << 10);
            self.wf(h, 0, w0);
            heads[i] = h;
        }
        // bytecode and const tables
        for &i in &order {
            let s = scopes[i];
            let bc = self.alloc(s.bytecode.len())?;
            let _ = self.st.heap.write_bytes(bc, &s.bytecode);
            self.wf(heads[i], 1, bc);
            let n = s.arg_names.len() + s.objects.len() + s.children.len();
            if n > 0 {
                let ct = self.alloc(n * WORD_BYTES)?;
                self.wf(heads[i], 2, ct);
            }
        }
        // fill const tables (children are found by identity of their position in `scopes`)
        for &i in &order {
            let s = scopes[i];
            let ct = self.f(heads[i], 2);
            if ct == NULL {
                continue;
            }
            let mut k = 0;
            for q in &s.arg_names {
                self.wf(ct, k, obj::qstr_obj(*q));
                k += 1;
            }
            for w in &objs[i] {
                self.wf(ct, k, *w);
                k += 1;
            }
            for c in &s.children {
                let j = scopes
                    .iter()
                    .position(|x| core::ptr::eq(*x, c))
                    .unwrap_or(0);
                self.wf(ct, k, heads[j]);
                k += 1;
            }
        }
        Ok(heads[0])
    }

    /// `mp_parse_compile_execute`: compiles `source` and runs it with the given globals and
    /// locals, restoring the previous context afterwards (also on error).
    pub fn exec_in(
        &mut self,
        source: &str,
        file: u16,
        kind: InputKind,
        globals: Word,
        locals: Word,
    ) -> PR<Word> {
        let (og, ol) = (self.globals(), self.locals());
        self.set_globals(globals);
        self.set_locals(locals);
        self.st.depth += crate::runtime::EXEC_COST;
        let r = (|| {
            let f = self.compile_to_fun(source, file, kind)?;
            let base = self.vlen();
            self.vpush(f);
            let r = self.call_n(f, &[]);
            self.vtrunc(base);
            r
        })();
        self.st.depth -= crate::runtime::EXEC_COST;
        self.set_globals(og);
        self.set_locals(ol);
        r
    }

    // ------------------------------------------------------------------ module lookup

    /// `mp_module_get`: `sys.modules`, then the ROM table of built-in modules.
    pub fn module_get(&mut self, q: u16) -> Option<Word> {
        let m = self.modules();
        if let Some(v) = self.dict_getq(m, q) {
            return Some(v);
        }
        let name = self.st.qstrs.text(q);
        obj::BUILTIN_MODULES
            .iter()
            .find(|(n, _)| n.as_bytes() == name)
            .map(|(_, r)| rom(*r))
    }

    fn stat(&self, path: &str) -> Option<FileKind> {
        self.st.fs.stat(path)
    }

    /// `stat_dir_or_file`: a directory, else `path.py`, else `path.mpy` (path gets the suffix).
    fn stat_dir_or_file(&self, path: &mut String) -> Stat {
        if self.stat(path) == Some(FileKind::Dir) {
            return Stat::Dir;
        }
        path.push_str(".py");
        if self.stat(path) == Some(FileKind::File) {
            return Stat::File;
        }
        path.truncate(path.len() - 3);
        path.push_str(".mpy");
        if self.stat(path) == Some(FileKind::File) {
            return Stat::File;
        }
        Stat::NoExist
    }

    /// `find_file`: tries each `sys.path` entry.
    fn find_file(&mut self, name: &str, path: &mut String) -> Stat {
        let sp = self.sys_path();
        let entries = if sp == NULL {
            Vec::new()
        } else {
            self.seq_items(sp)
        };
        if entries.is_empty() {
            path.clear();
            path.push_str(name);
            return self.stat_dir_or_file(path);
        }
        for e in entries {
            path.clear();
            let p = self.str_string(e).unwrap_or_default();
            if !p.is_empty() {
                path.push_str(&p);
                path.push('/');
            }
            path.push_str(name);
            let s = self.stat_dir_or_file(path);
            if s != Stat::NoExist {
                return s;
            }
        }
        Stat::NoExist
    }

    // ------------------------------------------------------------------ __import__

    /// `IMPORT_NAME` (`mp_import_name`): `__import__(name, None, None, fromlist, level)`.
    pub fn import_name(&mut self, name: u16, fromlist: Word, level: Word) -> PR<Word> {
        let lv = if obj::is_small(level) {
            obj::small_value(level)
        } else {
            0
        };
        self.builtin_import(obj::qstr_obj(name), fromlist, lv)
    }

    /// `mp_builtin___import__`.
    ///
    /// Where 1.9.4 crashes (the fast path for a dotted name whose top-level package was
    /// removed from `sys.modules` returns NULL into the VM and segfaults), this raises
    /// `ImportError("no module named '<top>'")` instead.
    pub fn builtin_import(&mut self, module_name: Word, fromlist: Word, level: i32) -> PR<Word> {
        if level < 0 {
            return Err(self.new_exc(rom(R::EValueError), &[]));
        }
        let Some(mut mod_bytes) = self.str_bytes(module_name) else {
            let n = self.type_name(module_name);
            return Err(self.type_error(&format!("can't convert '{n}' object to str implicitly")));
        };
        let mut module_name = module_name;
        if level != 0 {
            let mut level = level - 1;
            let g = self.globals();
            let nq = q!(self, "__name__");
            let mut this = match self.dict_getq(g, nq) {
                Some(v) => v,
                None => return Err(self.new_exc(rom(R::EKeyError), &[obj::qstr_obj(nq)])),
            };
            let mq = q!(self, "__main__");
            if this == obj::qstr_obj(mq) {
                this = match self.dict_getq(g, mq) {
                    Some(v) => v,
                    None => return Err(self.new_exc(rom(R::EKeyError), &[obj::qstr_obj(mq)])),
                };
            }
            let pq = q!(self, "__path__");
            let is_pkg = self.dict_getq(g, pq).is_some();
            let this_name = self.str_bytes(this).unwrap_or_default();
            let mut p = this_name.len();
            let chop = |p: &mut usize| {
                while *p > 0 {
                    *p -= 1;
                    if this_name[*p] == b'.' {
                        return;
                    }
                }
            };
            if !is_pkg {
                chop(&mut p);
            }
            while level > 0 {
                chop(&mut p);
                level -= 1;
            }
            if p == 0 {
                return Err(self.value_error("cannot perform relative import"));
            }
            let mut new_name = this_name[..p].to_vec();
            if !mod_bytes.is_empty() {
                new_name.push(b'.');
                new_name.extend_from_slice(&mod_bytes);
            }
            let q = self.intern(&new_name)?;
            module_name = obj::qstr_obj(q);
            mod_bytes = new_name;
        }
        // fast path
        let mq = self.str_to_qstr(module_name)?;
        if let Some(m) = self.module_get(mq) {
            let Some(dot) = mod_bytes.iter().position(|c| *c == b'.') else {
                return Ok(m);
            };
            if fromlist != NONE {
                return Ok(m);
            }
            let pq = self.intern(&mod_bytes[..dot])?;
            return match self.module_get(pq) {
                Some(top) => Ok(top),
                None => {
                    let n = self.qstr_string(pq);
                    Err(self.exc_varg(R::EImportError, "no module named '%q'", &[&n]))
                }
            };
        }
        // slow path
        let mod_str = String::from_utf8_lossy(&mod_bytes).into_owned();
        let mut path = String::new();
        let mut module = NULL;
        let mut top = NULL;
        let mut outer = NULL;
        let mut last = 0;
        let base = self.vlen();
        self.vpush(module_name);
        let r = (|| {
            let bytes = mod_str.as_bytes();
            for i in 1..=bytes.len() {
                if i != bytes.len() && bytes[i] != b'.' {
                    continue;
                }
                let mod_name = self.intern(&bytes[..i])?;
                let stat = if path.is_empty() {
                    self.find_file(&mod_str[..i], &mut path)
                } else {
                    path.push('/');
                    path.push_str(&mod_str[last..i]);
                    self.stat_dir_or_file(&mut path)
                };
                if stat == Stat::NoExist {
                    let n = self.qstr_string(mod_name);
                    return Err(self.exc_varg(R::EImportError, "no module named '%q'", &[&n]));
                }
                module = self.module_get(mod_name).unwrap_or(NULL);
                if module == NULL {
                    module = self.new_module(mod_name)?;
                    self.vpush(module);
                    if i == bytes.len() && fromlist == obj::FALSE && stat != Stat::Dir {
                        let g = self.f(module, 1);
                        let nq = q!(self, "__name__");
                        let mq = q!(self, "__main__");
                        self.dict_setq(g, nq, obj::qstr_obj(mq))?;
                        let mods = self.modules();
                        self.dict_setq(mods, mq, module)?;
                        self.dict_setq(g, mq, obj::qstr_obj(mod_name))?;
                    }
                    if stat == Stat::Dir {
                        let ps = self.new_str(path.as_bytes())?;
                        let pq = q!(self, "__path__");
                        self.store_attr(module, pq, ps)?;
                        let orig = path.len();
                        path.push_str("/__init__.py");
                        let mut init = path.clone();
                        let found = if self.stat(&init) == Some(FileKind::File) {
                            true
                        } else {
                            init.truncate(init.len() - 3);
                            init.push_str(".mpy");
                            self.stat(&init) == Some(FileKind::File)
                        };
                        if found {
                            self.do_load(module, &init)?;
                        }
                        path.truncate(orig);
                    } else {
                        let p = path.clone();
                        self.do_load(module, &p)?;
                    }
                }
                if outer != NULL {
                    let s = self.intern(&bytes[last..i])?;
                    self.store_attr(outer, s, module)?;
                }
                outer = module;
                self.vpush(outer);
                if top == NULL {
                    top = module;
                }
                last = i + 1;
            }
            Ok(if fromlist != NONE { module } else { top })
        })();
        self.vtrunc(base);
        r
    }

    /// `do_load`: reads the file, sets `__file__`, then compiles and runs it in the module.
    fn do_load(&mut self, module: Word, path: &str) -> PR<()> {
        if path.ends_with(".mpy") {
            return Err(self.exc_msg(R::EImportError, "incompatible .mpy file"));
        }
        let data = match self.st.fs.read(path) {
            Ok(d) => d,
            Err(_) => return Err(self.new_exc(rom(R::EOSError), &[obj::small(2)])),
        };
        // mp_lexer_new_from_file interns the file name
        let fq = self.intern(path.as_bytes())?;
        let fileq = q!(self, "__file__");
        self.store_attr(module, fileq, obj::qstr_obj(fq))?;
        let g = self.f(module, 1);
        let src = String::from_utf8_lossy(&data).into_owned();
        self.exec_in(&src, fq, InputKind::File, g, g)?;
        Ok(())
    }

    // ------------------------------------------------------------------ from-import

    /// `mp_import_from`: the attribute, else (for a package) the submodule
    /// `X.__name__ + '.' + name` imported with a non-None fromlist.
    pub fn import_from(&mut self, m: Word, name: u16) -> PR<Word> {
        match self.load_method_maybe(m, name)? {
            Some((v, s)) if s == NULL => return Ok(v),
            Some(_) => {
                let n = self.qstr_string(name);
                return Err(self.exc_msg(R::EImportError, &format!("cannot import name {n}")));
            }
            None => {}
        }
        let pq = q!(self, "__path__");
        let is_pkg = self.load_method_maybe(m, pq)?.is_some();
        if !is_pkg {
            let n = self.qstr_string(name);
            return Err(self.exc_msg(R::EImportError, &format!("cannot import name {n}")));
        }
        let nq = q!(self, "__name__");
        let (pkg, _) = self.load_method(m, nq)?;
        let mut full = self.str_bytes(pkg).unwrap_or_default();
        full.push(b'.');
        full.extend_from_slice(self.st.qstrs.text(name));
        let fq = self.intern(&full)?;
        self.builtin_import(obj::qstr_obj(fq), obj::TRUE, 0)
    }

    /// `mp_import_all`: every global of `m` not starting with `_`, in slot order, stored into
    /// the current locals.
    pub fn import_all(&mut self, m: Word) -> PR<()> {
        let Some(g) = self.module_dict(m) else {
            return Ok(());
        };
        let items = self.dict_items(g);
        let l = self.locals();
        for (k, v) in items {
            let name = self.str_bytes(k).unwrap_or_default();
            if name.first() != Some(&b'_') {
                self.dict_set(l, k, v)?;
            }
        }
        Ok(())
    }
}

#[allow(dead_code)]
fn _unused(_: &Heap) {}
