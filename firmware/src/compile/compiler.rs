//! The compiler, after py/compile.c, py/scope.c, py/emitcommon.c and py/emitbc.c of MicroPython
//! 1.9.4 (unix/esp8266 configuration: persistent-code layout, map caches, const folding, tuple
//! assignment shortcuts, `return a if b else c` shortcut). Four passes per scope, like the C code:
//! scope (names and nested scopes), stack size, code size, emit.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU16, Ordering};

use super::lexer::Tok;
use super::opcodes as op;
use super::parse::{Node, PNode, R, extract_list};
use super::{CodeKind, CompileError, Const, InputKind, Interner, MemOp, RawCode};

/// Deepest compile recursion accepted before reporting an error instead of overflowing the stack.
const MAX_COMPILE_DEPTH: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Pass {
    Scope = 1,
    /// 1.9.4's stack-size and code-size passes in one (see `run_passes`).
    CodeSize = 3,
    Emit = 4,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum ScopeKind {
    Module,
    Class,
    Lambda,
    ListComp,
    DictComp,
    SetComp,
    GenExpr,
    Function,
}

impl ScopeKind {
    fn is_func_like(self) -> bool {
        self >= ScopeKind::Lambda
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum IdKind {
    GlobalImplicit,
    GlobalExplicit,
    Local,
    Cell,
    Free,
}

const ID_FLAG_IS_PARAM: u8 = 0x01;
const ID_FLAG_IS_STAR_PARAM: u8 = 0x02;
const ID_FLAG_IS_DBL_STAR_PARAM: u8 = 0x04;

#[derive(Debug, Clone, Copy)]
struct IdInfo {
    kind: IdKind,
    flags: u8,
    local_num: usize,
    qst: u16,
}

struct Scope<'t> {
    kind: ScopeKind,
    pns: Option<&'t PNode<'t>>,
    parent: Option<usize>,
    simple_name: u16,
    scope_flags: u8,
    num_pos_args: usize,
    num_kwonly_args: usize,
    num_def_pos_args: usize,
    num_locals: usize,
    stack_size: usize,
    exc_stack_size: usize,
    id_info: Vec<IdInfo>,
    /// Entries of 1.9.4's id table (`id_info_alloc`): 4, then 6 more each time it is full.
    id_alloc: usize,
    bytecode: Vec<u8>,
    objects: Vec<Const>,
    /// [`Interner::make_const`] handles of `objects`.
    handles: Vec<u32>,
    children: Vec<usize>,
    arg_names: Vec<u16>,
}

impl Scope<'_> {
    fn find(&self, q: u16) -> Option<usize> {
        self.id_info.iter().position(|i| i.qst == q)
    }
    fn find_or_add(&mut self, q: u16) -> (usize, bool) {
        if let Some(i) = self.find(q) {
            return (i, false);
        }
        self.id_info.push(IdInfo {
            kind: IdKind::GlobalImplicit,
            flags: 0,
            local_num: 0,
            qst: q,
        });
        (self.id_info.len() - 1, true)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum AssignKind {
    Store,
    AugLoad,
    AugStore,
}

const INVALID_LABEL: usize = 0xffff;
const BREAK_FROM_FOR: usize = 0x8000;
const STAR_FLAG_SINGLE: usize = 1;
const STAR_FLAG_DOUBLE: usize = 2;

/// Static qstr ids of the 1.9.4 build used by the compiler (same on B32, B64 differs only after 570).
struct Q {
    empty: u16,
    star: u16,
    module: u16,
    lambda: u16,
    listcomp: u16,
    dictcomp: u16,
    setcomp: u16,
    genexpr: u16,
    class: u16,
    name: u16,
    modname: u16,
    qualname: u16,
    repl_print: u16,
    assertion_error: u16,
}

struct Compiler<'t, 'i> {
    interner: &'i mut dyn Interner,
    /// The objects of the tree's `const_object` nodes.
    konsts: &'t [Const],
    file: &'t str,
    source_file: u16,
    is_repl: bool,
    q: Q,
    scopes: Vec<Scope<'t>>,
    cur: usize,
    pass: Pass,
    next_label: usize,
    have_star: bool,
    num_dict_params: usize,
    num_default_params: usize,
    break_label: usize,
    continue_label: usize,
    cur_except_level: usize,
    break_continue_except_level: usize,
    depth: usize,
    err_line: u32,
    // emitter state (py/emitbc.c emit_t)
    stack_size: isize,
    last_emit_was_return_value: bool,
    last_source_line_offset: usize,
    last_source_line: u32,
    label_offsets: Vec<usize>,
    ci: Vec<u8>,
    bc: Vec<u8>,
    code_info_size: usize,
    /// The `n_state` written at the start of the current pass.
    n_state_written: usize,
    ct_cur_obj: usize,
    ct_num_obj: usize,
    ct_cur_raw_code: usize,
    /// The first failure of an [`Interner::mem`] call made where no error can be returned;
    /// reported at the end of the pass.
    mem_err: Option<CompileError>,
    /// Set while a code-size pass also collects what the emit pass would make (see
    /// [`Compiler::finish_walk`]).
    one_walk: bool,
    /// Jumps of that walk: offset of the opcode, label, signed offset or not.
    jump_patches: Vec<(usize, usize, bool)>,
    /// Raw-code indices of that walk: offset of the uint, index written, raw code number.
    rc_patches: Vec<(usize, usize, usize)>,
    /// What the emit pass does on the heap during that walk, in order, done after it.
    emit_later: Vec<EmitLater>,
    /// Length of the code info's header as that walk wrote it.
    ci_header: usize,
}

type CResult<T = ()> = Result<T, CompileError>;

/// A heap operation of the emit pass, kept by the code-size walk for after the code allocation.
enum EmitLater {
    /// The object of a bytes constant, its handle going to this slot of the scope's handles.
    Bytes(usize, Const),
    /// A dotted import name interned again (a new qstr each time when it is too long to be
    /// found, as in 1.9.4), written at this offset of the bytecode; the line for an error.
    Import(usize, String, u32),
}

#[inline]
fn write_uint(out: &mut Vec<u8>, val: usize) {
    if val < 0x80 {
        out.push(val as u8);
    } else {
        write_uint_long(out, val);
    }
}

#[inline(never)]
fn write_uint_long(out: &mut Vec<u8>, mut val: usize) {
    let mut buf = [0u8; 10];
    let mut p = buf.len();
    loop {
        p -= 1;
        buf[p] = (val & 0x7f) as u8;
        val >>= 7;
        if val == 0 {
            break;
        }
    }
    let n = buf.len();
    for (i, b) in buf[p..].iter().enumerate() {
        out.push(if p + i != n - 1 { b | 0x80 } else { *b });
    }
}

/// Bytes [`write_uint`] writes for `val`.
fn uint_len(mut val: usize) -> usize {
    let mut n = 1;
    while val >= 0x80 {
        val >>= 7;
        n += 1;
    }
    n
}

/// `n_state` of a code block: locals plus stack, at least 1.
fn n_state(s: &Scope<'_>) -> usize {
    if s.num_locals + s.stack_size == 0 {
        1
    } else {
        s.num_locals + s.stack_size
    }
}

impl<'t> Compiler<'t, '_> {
    // ---------------------------------------------------------------- errors

    fn syntax_error(&self, pn: Option<&Node>, msg: &str) -> CompileError {
        let line = match pn {
            Some(Node::Struct(p)) if p.line != 0 => p.line,
            _ => self.err_line,
        };
        CompileError {
            kind: "SyntaxError",
            message: String::from(msg),
            file: String::from(self.file),
            line,
            column: 1,
        }
    }

    fn not_impl(&self, what: &str) -> CompileError {
        CompileError {
            kind: "NotImplementedError",
            message: format!("{what} not supported by this firmware"),
            file: String::from(self.file),
            line: self.err_line,
            column: 1,
        }
    }

    fn qstr_is(&self, q: u16, s: &str) -> bool {
        self.interner.resolve(q) == s
    }

    // ---------------------------------------------------------------- emitter

    fn sc(&mut self) -> &mut Scope<'t> {
        &mut self.scopes[self.cur]
    }

    fn adjust_stack(&mut self, delta: isize) {
        if self.pass == Pass::Scope {
            return;
        }
        self.stack_size += delta;
        if self.stack_size > 0 && self.stack_size as usize > self.scopes[self.cur].stack_size {
            self.scopes[self.cur].stack_size = self.stack_size as usize;
        }
        self.last_emit_was_return_value = false;
    }

    fn byte(&mut self, b: u8) {
        self.bc.push(b);
    }

    fn op(&mut self, delta: isize, b: u8) {
        self.adjust_stack(delta);
        self.byte(b);
    }

    fn op_uint(&mut self, delta: isize, b: u8, v: usize) {
        self.adjust_stack(delta);
        if v < 0x80 {
            // the opcode and its one-byte argument in one step
            self.bc.extend_from_slice(&[b, v as u8]);
        } else {
            self.byte(b);
            write_uint_long(&mut self.bc, v);
        }
    }

    fn op_qstr(&mut self, delta: isize, b: u8, q: u16) {
        self.adjust_stack(delta);
        // one capacity test for the opcode and its qstr
        self.bc.extend_from_slice(&[b, q as u8, (q >> 8) as u8]);
    }

    fn op_qstr_cache(&mut self, delta: isize, b: u8, q: u16) {
        self.adjust_stack(delta);
        // the opcode, its qstr and the (zero) inline cache byte
        self.bc.extend_from_slice(&[b, q as u8, (q >> 8) as u8, 0]);
    }

    fn label_target(&self, label: usize) -> usize {
        if self.pass < Pass::Emit {
            0
        } else {
            self.label_offsets.get(label).copied().unwrap_or(0)
        }
    }

    fn signed_label(&mut self, b: u8, label: usize) {
        let off = if self.pass < Pass::Emit {
            if self.one_walk {
                self.jump_patches.push((self.bc.len(), label, true));
            }
            0
        } else {
            (self.label_target(label) as isize - self.bc.len() as isize - 3 + 0x8000) as usize
        };
        self.bc.extend_from_slice(&[b, off as u8, (off >> 8) as u8]);
    }

    fn unsigned_label(&mut self, b: u8, label: usize) {
        let off = if self.pass < Pass::Emit {
            if self.one_walk {
                self.jump_patches.push((self.bc.len(), label, false));
            }
            0
        } else {
            self.label_target(label).wrapping_sub(self.bc.len() + 3)
        };
        self.bc.extend_from_slice(&[b, off as u8, (off >> 8) as u8]);
    }

    fn label_assign(&mut self, l: usize) {
        self.adjust_stack(0);
        if self.pass == Pass::Scope {
            return;
        }
        if self.pass < Pass::Emit && l < self.label_offsets.len() {
            self.label_offsets[l] = self.bc.len();
        }
    }

    fn set_source_line(&mut self, line: u32) {
        if line != 0 {
            self.err_line = line;
        }
        if self.pass == Pass::Scope {
            return;
        }
        if line > self.last_source_line {
            let mut bytes = self.bc.len() - self.last_source_line_offset;
            let mut lines = (line - self.last_source_line) as usize;
            while bytes > 0 || lines > 0 {
                let (b, l);
                if lines <= 6 || bytes > 0xf {
                    b = bytes.min(0x1f);
                    l = if b < bytes { 0 } else { lines.min(3) };
                    self.ci.push((b | (l << 5)) as u8);
                } else {
                    b = bytes.min(0xf);
                    l = lines.min(0x7ff);
                    self.ci.push((0x80 | b | ((l >> 4) & 0x70)) as u8);
                    self.ci.push(l as u8);
                }
                bytes -= b;
                lines -= l;
            }
            self.last_source_line_offset = self.bc.len();
            self.last_source_line = line;
        }
    }

    fn start_pass(&mut self, pass: Pass) {
        self.pass = pass;
        self.stack_size = 0;
        self.last_emit_was_return_value = false;
        self.last_source_line_offset = 0;
        self.last_source_line = 1;
        self.ci.clear();
        self.bc.clear();
        let s = &self.scopes[self.cur];
        // in the code-size pass the stack size is still being found: the code info is sized
        // with the final value at the end of the pass (see `end_pass`)
        let n_state = n_state(s);
        self.n_state_written = n_state;
        let (exc, flags, npos, nkw, ndef) = (
            s.exc_stack_size,
            s.scope_flags,
            s.num_pos_args,
            s.num_kwonly_args,
            s.num_def_pos_args,
        );
        let name = s.simple_name;
        write_uint(&mut self.ci, n_state);
        write_uint(&mut self.ci, exc);
        self.ci
            .extend_from_slice(&[flags, npos as u8, nkw as u8, ndef as u8]);
        if pass == Pass::Emit {
            let rest = self.code_info_size - self.ci.len();
            write_uint(&mut self.ci, rest);
        } else {
            self.ci.extend_from_slice(&[0, 0]);
        }
        let sf = self.source_file;
        self.ci
            .extend_from_slice(&[name as u8, (name >> 8) as u8, sf as u8, (sf >> 8) as u8]);
        self.ci_header = self.ci.len();
        let s = &self.scopes[self.cur];
        for i in &s.id_info {
            if i.kind == IdKind::Cell {
                self.bc.push(i.local_num as u8);
            }
        }
        self.bc.push(255);
        self.ct_cur_obj = 0;
        self.ct_cur_raw_code = 0;
        if pass == Pass::Emit || self.one_walk {
            self.scopes[self.cur].objects.clear();
            self.scopes[self.cur].handles.clear();
            self.scopes[self.cur].children.clear();
            let s = &self.scopes[self.cur];
            let mut names = Vec::new();
            for i in 0..s.num_pos_args + s.num_kwonly_args {
                let q = s
                    .id_info
                    .iter()
                    .find(|id| id.flags & ID_FLAG_IS_PARAM != 0 && id.local_num == i)
                    .map(|id| id.qst)
                    .unwrap_or(self.q.star);
                names.push(q);
            }
            self.scopes[self.cur].arg_names = names;
        }
    }

    fn end_pass(&mut self) {
        if self.pass == Pass::Scope {
            return;
        }
        self.ci.push(0);
        self.ct_num_obj = self.ct_cur_obj;
        if self.pass == Pass::CodeSize {
            let final_n_state = n_state(&self.scopes[self.cur]);
            self.code_info_size =
                self.ci.len() + uint_len(final_n_state) - uint_len(self.n_state_written);
            let (bytes, words) = (
                self.code_info_size + self.bc.len(),
                self.const_base() + self.ct_cur_obj + self.ct_cur_raw_code,
            );
            self.mem(MemOp::Code {
                scope: self.cur,
                bytes,
                words,
            });
        } else if self.pass == Pass::Emit {
            while self.ci.len() < self.code_info_size {
                self.ci.push(0);
            }
            // one exact allocation; `ci` and `bc` keep their room for the next scope
            let mut code = Vec::with_capacity(self.ci.len() + self.bc.len());
            code.extend_from_slice(&self.ci);
            code.extend_from_slice(&self.bc);
            self.scopes[self.cur].bytecode = code;
        }
    }

    fn const_base(&self) -> usize {
        let s = &self.scopes[self.cur];
        s.num_pos_args + s.num_kwonly_args
    }

    fn load_const_obj(&mut self, c: Const, handle: u32) {
        let idx = self.const_base() + self.ct_cur_obj;
        self.ct_cur_obj += 1;
        if self.pass == Pass::Emit || self.one_walk {
            self.scopes[self.cur].objects.push(c);
            self.scopes[self.cur].handles.push(handle);
        }
        self.op_uint(1, op::LOAD_CONST_OBJ, idx);
    }

    fn raw_code_op(&mut self, delta: isize, b: u8, scope: usize) {
        let idx = self.const_base() + self.ct_num_obj + self.ct_cur_raw_code;
        self.ct_cur_raw_code += 1;
        if self.pass == Pass::Emit || self.one_walk {
            self.scopes[self.cur].children.push(scope);
        }
        if self.one_walk {
            self.rc_patches
                .push((self.bc.len() + 1, idx, self.ct_cur_raw_code - 1));
        }
        self.op_uint(delta, b, idx);
    }

    fn load_const_tok(&mut self, t: Tok) {
        match t {
            Tok::KwFalse => self.op(1, op::LOAD_CONST_FALSE),
            Tok::KwNone => self.op(1, op::LOAD_CONST_NONE),
            Tok::KwTrue => self.op(1, op::LOAD_CONST_TRUE),
            _ => self.load_const_obj(Const::Ellipsis, 0),
        }
    }

    fn load_const_small_int(&mut self, v: i64) {
        if (-16..=47).contains(&v) {
            self.op(
                1,
                (i64::from(op::LOAD_CONST_SMALL_INT_MULTI) + 16 + v) as u8,
            );
        } else {
            self.adjust_stack(1);
            self.byte(op::LOAD_CONST_SMALL_INT);
            let mut buf = [0u8; 10];
            let mut p = buf.len();
            let mut num = v;
            loop {
                p -= 1;
                buf[p] = (num & 0x7f) as u8;
                num >>= 7;
                if num == 0 || num == -1 {
                    break;
                }
            }
            if num == -1 && (buf[p] & 0x40) == 0 {
                p -= 1;
                buf[p] = 0x7f;
            } else if num == 0 && (buf[p] & 0x40) != 0 {
                p -= 1;
                buf[p] = 0;
            }
            let last = buf.len() - 1;
            for (i, b) in buf.iter().enumerate().skip(p) {
                self.bc.push(if i != last { b | 0x80 } else { *b });
            }
        }
    }

    fn load_const_str(&mut self, q: u16) {
        self.op_qstr(1, op::LOAD_CONST_STRING, q);
    }

    fn load_fast(&mut self, n: usize) {
        if n <= 15 {
            self.op(1, op::LOAD_FAST_MULTI + n as u8);
        } else {
            self.op_uint(1, op::LOAD_FAST_N, n);
        }
    }

    fn store_fast(&mut self, n: usize) {
        if n <= 15 {
            self.op(-1, op::STORE_FAST_MULTI + n as u8);
        } else {
            self.op_uint(-1, op::STORE_FAST_N, n);
        }
    }

    fn load_attr(&mut self, q: u16) {
        self.op_qstr_cache(0, op::LOAD_ATTR, q);
    }

    fn store_attr(&mut self, q: u16) {
        self.op_qstr_cache(-2, op::STORE_ATTR, q);
    }

    fn load_method(&mut self, q: u16, is_super: bool) {
        if is_super {
            self.op_qstr(-1, op::LOAD_SUPER_METHOD, q);
        } else {
            self.op_qstr(1, op::LOAD_METHOD, q);
        }
    }

    fn jump(&mut self, l: usize) {
        self.adjust_stack(0);
        self.signed_label(op::JUMP, l);
    }

    fn pop_jump_if(&mut self, cond: bool, l: usize) {
        self.adjust_stack(-1);
        self.signed_label(
            if cond {
                op::POP_JUMP_IF_TRUE
            } else {
                op::POP_JUMP_IF_FALSE
            },
            l,
        );
    }

    fn jump_if_or_pop(&mut self, cond: bool, l: usize) {
        self.adjust_stack(-1);
        self.signed_label(
            if cond {
                op::JUMP_IF_TRUE_OR_POP
            } else {
                op::JUMP_IF_FALSE_OR_POP
            },
            l,
        );
    }

    fn unwind_jump(&mut self, label: usize, except_depth: usize) {
        if except_depth == 0 {
            self.adjust_stack(0);
            if label & BREAK_FROM_FOR != 0 {
                for _ in 0..op::ITER_BUF_NSLOTS {
                    self.byte(op::POP_TOP);
                }
            }
            self.signed_label(op::JUMP, label & !BREAK_FROM_FOR);
        } else {
            self.signed_label(op::UNWIND_JUMP, label & !BREAK_FROM_FOR);
            self.byte((if label & BREAK_FROM_FOR != 0 { 0x80 } else { 0 }) | except_depth as u8);
        }
    }

    fn binary_op(&mut self, o: u8) {
        self.op(-1, op::BINARY_OP_MULTI + o);
    }

    fn binary_op_not(&mut self, o: u8) {
        self.binary_op(o);
        self.op(0, op::UNARY_OP_MULTI + op::unary::NOT);
    }

    fn unary_op(&mut self, o: u8) {
        self.op(0, op::UNARY_OP_MULTI + o);
    }

    fn build(&mut self, b: u8, n: usize) {
        self.op_uint(1 - n as isize, b, n);
    }

    fn build_map(&mut self, n: usize) {
        self.op_uint(1, op::BUILD_MAP, n);
    }

    fn call_function(&mut self, npos: usize, nkw: usize, star: usize) {
        self.call_helper(0, op::CALL_FUNCTION, npos, nkw, star);
    }

    fn call_method(&mut self, npos: usize, nkw: usize, star: usize) {
        self.call_helper(-1, op::CALL_METHOD, npos, nkw, star);
    }

    fn call_helper(&mut self, adj: isize, base: u8, npos: usize, nkw: usize, star: usize) {
        let arg = (nkw << 8) | npos;
        if star != 0 {
            self.op_uint(adj - npos as isize - 2 * nkw as isize - 2, base + 1, arg);
        } else {
            self.op_uint(adj - npos as isize - 2 * nkw as isize, base, arg);
        }
    }

    fn get_iter(&mut self, use_stack: bool) {
        if use_stack {
            self.op(op::ITER_BUF_NSLOTS as isize - 1, op::GET_ITER_STACK);
        } else {
            self.op(0, op::GET_ITER);
        }
    }

    fn for_iter(&mut self, l: usize) {
        self.adjust_stack(1);
        self.unsigned_label(op::FOR_ITER, l);
    }

    fn for_iter_end(&mut self) {
        self.adjust_stack(-(op::ITER_BUF_NSLOTS as isize));
    }

    fn setup(&mut self, b: u8, delta: isize, l: usize) {
        self.adjust_stack(delta);
        self.unsigned_label(b, l);
    }

    fn return_value(&mut self) {
        self.adjust_stack(-1);
        self.last_emit_was_return_value = true;
        self.byte(op::RETURN_VALUE);
    }

    fn raise_varargs(&mut self, n: usize) {
        self.adjust_stack(-(n as isize));
        self.byte(op::RAISE_VARARGS);
        self.byte(n as u8);
    }

    fn yield_value(&mut self) {
        self.adjust_stack(0);
        self.sc().scope_flags |= op::scope_flags::GENERATOR;
        self.byte(op::YIELD_VALUE);
    }

    fn yield_from(&mut self) {
        self.adjust_stack(-1);
        self.sc().scope_flags |= op::scope_flags::GENERATOR;
        self.byte(op::YIELD_FROM);
    }

    fn store_comp(&mut self, kind: ScopeKind, idx: usize) {
        let (n, t) = match kind {
            ScopeKind::ListComp => (0, 0),
            ScopeKind::DictComp => (1, 1),
            _ => (0, 2),
        };
        self.op_uint(-1 - n as isize, op::STORE_COMP, ((idx + n) << 2) | t);
    }

    fn unpack_sequence(&mut self, n: usize) {
        self.op_uint(-1 + n as isize, op::UNPACK_SEQUENCE, n);
    }

    fn unpack_ex(&mut self, left: usize, right: usize) {
        self.op_uint(
            -1 + left as isize + right as isize + 1,
            op::UNPACK_EX,
            left | (right << 8),
        );
    }

    fn make_function(&mut self, scope: usize, npd: usize, nkd: usize) {
        if npd == 0 && nkd == 0 {
            self.raw_code_op(1, op::MAKE_FUNCTION, scope);
        } else {
            self.raw_code_op(-1, op::MAKE_FUNCTION_DEFARGS, scope);
        }
    }

    fn make_closure(&mut self, scope: usize, nfree: usize, npd: usize, nkd: usize) {
        if npd == 0 && nkd == 0 {
            self.raw_code_op(-(nfree as isize) + 1, op::MAKE_CLOSURE, scope);
        } else {
            self.raw_code_op(-2 - nfree as isize + 1, op::MAKE_CLOSURE_DEFARGS, scope);
        }
        self.byte(nfree as u8);
    }

    // ---------------------------------------------------------------- ids

    fn find_local_and_close_over(&mut self, scope: usize, idx: usize, q: u16) {
        let mut s = self.scopes[scope].parent;
        while let Some(si) = s {
            if self.scopes[si].parent.is_none() {
                break;
            }
            if let Some(i2) = self.scopes[si].find(q) {
                let k = self.scopes[si].id_info[i2].kind;
                if matches!(k, IdKind::Local | IdKind::Cell | IdKind::Free) {
                    self.scopes[scope].id_info[idx].kind = IdKind::Free;
                    self.close_over_in_parents(scope, q);
                    return;
                }
                break;
            }
            s = self.scopes[si].parent;
        }
        self.scopes[scope].id_info[idx].kind = IdKind::GlobalImplicit;
    }

    fn close_over_in_parents(&mut self, scope: usize, q: u16) {
        let mut s = self.scopes[scope].parent;
        while let Some(si) = s {
            let (i, added) = self.find_or_add(si, q);
            if added {
                self.scopes[si].id_info[i].kind = IdKind::Free;
            } else {
                if self.scopes[si].id_info[i].kind == IdKind::Local {
                    self.scopes[si].id_info[i].kind = IdKind::Cell;
                }
                return;
            }
            s = self.scopes[si].parent;
        }
    }

    fn id_op(&mut self, q: u16, what: u8) -> CResult {
        // what: 0 load, 1 store, 2 delete
        let Some(i) = self.scopes[self.cur].find(q) else {
            return Err(self.not_impl("unresolved name"));
        };
        let id = self.scopes[self.cur].id_info[i];
        match (id.kind, what) {
            (IdKind::GlobalImplicit, 0) => self.op_qstr_cache(1, op::LOAD_NAME, q),
            (IdKind::GlobalImplicit, 1) => self.op_qstr(-1, op::STORE_NAME, q),
            (IdKind::GlobalImplicit, _) => self.op_qstr(0, op::DELETE_NAME, q),
            (IdKind::GlobalExplicit, 0) => self.op_qstr_cache(1, op::LOAD_GLOBAL, q),
            (IdKind::GlobalExplicit, 1) => self.op_qstr(-1, op::STORE_GLOBAL, q),
            (IdKind::GlobalExplicit, _) => self.op_qstr(0, op::DELETE_GLOBAL, q),
            (IdKind::Local, 0) => self.load_fast(id.local_num),
            (IdKind::Local, 1) => self.store_fast(id.local_num),
            (IdKind::Local, _) => {
                self.byte(op::DELETE_FAST);
                write_uint(&mut self.bc, id.local_num);
            }
            (_, 0) => self.op_uint(1, op::LOAD_DEREF, id.local_num),
            (_, 1) => self.op_uint(-1, op::STORE_DEREF, id.local_num),
            (_, _) => {
                self.byte(op::DELETE_DEREF);
                write_uint(&mut self.bc, id.local_num);
            }
        }
        Ok(())
    }

    fn load_id(&mut self, q: u16) -> CResult {
        if self.pass == Pass::Scope {
            let cur = self.cur;
            let (i, added) = self.find_or_add(cur, q);
            if added {
                self.find_local_and_close_over(cur, i, q);
            }
            Ok(())
        } else {
            self.id_op(q, 0)
        }
    }

    fn modify_id(&mut self, q: u16) {
        let cur = self.cur;
        let func_like = self.scopes[cur].kind.is_func_like();
        let (i, added) = self.find_or_add(cur, q);
        let id = &mut self.scopes[cur].id_info[i];
        if added {
            id.kind = if func_like {
                IdKind::Local
            } else {
                IdKind::GlobalImplicit
            };
        } else if func_like && id.kind == IdKind::GlobalImplicit {
            id.kind = IdKind::Local;
        }
    }

    fn store_id(&mut self, q: u16) -> CResult {
        if self.pass == Pass::Scope {
            self.modify_id(q);
            Ok(())
        } else {
            self.id_op(q, 1)
        }
    }

    fn delete_id(&mut self, q: u16) -> CResult {
        if self.pass == Pass::Scope {
            self.modify_id(q);
            Ok(())
        } else {
            self.id_op(q, 2)
        }
    }

    fn load_global(&mut self, q: u16) {
        self.op_qstr_cache(1, op::LOAD_GLOBAL, q);
    }

    // ---------------------------------------------------------------- scopes

    fn new_scope(&mut self, kind: ScopeKind, pns: Option<&'t PNode<'t>>) -> usize {
        let simple_name = match kind {
            ScopeKind::Function | ScopeKind::Class => match pns.map(|p| &p.nodes[0]) {
                Some(Node::Id(q)) => *q,
                _ => self.q.empty,
            },
            ScopeKind::Module => self.q.module,
            ScopeKind::Lambda => self.q.lambda,
            ScopeKind::ListComp => self.q.listcomp,
            ScopeKind::DictComp => self.q.dictcomp,
            ScopeKind::SetComp => self.q.setcomp,
            ScopeKind::GenExpr => self.q.genexpr,
        };
        let parent = if self.scopes.is_empty() {
            None
        } else {
            Some(self.cur)
        };
        self.mem(MemOp::ScopeNew);
        self.scopes.push(Scope {
            kind,
            pns,
            parent,
            simple_name,
            scope_flags: 0,
            num_pos_args: 0,
            num_kwonly_args: 0,
            num_def_pos_args: 0,
            num_locals: 0,
            stack_size: 0,
            exc_stack_size: 0,
            id_info: Vec::new(),
            id_alloc: 4,
            bytecode: Vec::new(),
            objects: Vec::new(),
            handles: Vec::new(),
            children: Vec::new(),
            arg_names: Vec::new(),
        });
        self.scopes.len() - 1
    }

    /// Reports a heap operation; a failure is kept for the end of the pass.
    fn mem(&mut self, op: MemOp) {
        if self.mem_err.is_none()
            && let Err(e) = self.interner.mem(op)
        {
            self.mem_err = Some(e);
        }
    }

    /// `scope_find_or_add_id`, growing the id table like 1.9.4 (by 6 entries when full).
    fn find_or_add(&mut self, si: usize, q: u16) -> (usize, bool) {
        let (i, added) = self.scopes[si].find_or_add(q);
        if added && self.scopes[si].id_info.len() > self.scopes[si].id_alloc {
            self.scopes[si].id_alloc += 6;
            let n = self.scopes[si].id_alloc;
            self.mem(MemOp::IdGrow(si, n));
        }
        (i, added)
    }

    fn next_label(&mut self) -> usize {
        let l = self.next_label;
        self.next_label += 1;
        l
    }

    fn increase_except_level(&mut self) {
        self.cur_except_level += 1;
        if self.cur_except_level > self.scopes[self.cur].exc_stack_size {
            self.scopes[self.cur].exc_stack_size = self.cur_except_level;
        }
    }

    fn decrease_except_level(&mut self) {
        self.cur_except_level = self.cur_except_level.saturating_sub(1);
    }

    // ---------------------------------------------------------------- nodes

    fn compile_node(&mut self, pn: &'t Node<'t>) -> CResult {
        self.depth += 1;
        if self.depth > MAX_COMPILE_DEPTH {
            return Err(self.too_deep());
        }
        let r = self.compile_node_inner(pn);
        self.depth -= 1;
        r
    }

    #[cold]
    #[inline(never)]
    fn too_deep(&self) -> CompileError {
        CompileError {
            kind: "RuntimeError",
            message: String::from("maximum recursion depth exceeded"),
            file: String::from(self.file),
            line: self.err_line,
            column: 1,
        }
    }

    /// A bytes literal leaf (rare: out of line, to keep [`Compiler::compile_node`] small).
    #[inline(never)]
    fn compile_bytes_leaf(&mut self, q: u16) -> CResult {
        let data = Vec::from(self.interner.resolve_bytes(q));
        // 1.9.4 makes the bytes object in the emit pass only
        let c = Const::Bytes(data);
        let h = if self.pass == Pass::Emit {
            self.interner.make_const(&c)?
        } else {
            0
        };
        if self.one_walk {
            let slot = self.scopes[self.cur].handles.len();
            self.emit_later.push(EmitLater::Bytes(slot, c.clone()));
        }
        self.load_const_obj(c, h);
        Ok(())
    }

    fn compile_node_inner(&mut self, pn: &'t Node<'t>) -> CResult {
        match pn {
            Node::Null => Ok(()),
            Node::Int(v) => {
                self.load_const_small_int(*v);
                Ok(())
            }
            Node::Id(q) => self.load_id(*q),
            Node::Str(q) => {
                self.load_const_str(*q);
                Ok(())
            }
            Node::Bytes(q) => self.compile_bytes_leaf(*q),
            Node::Tok(Tok::Newline) => Ok(()),
            Node::Tok(t) => {
                self.load_const_tok(*t);
                Ok(())
            }
            Node::Struct(p) => {
                self.set_source_line(p.line);
                self.compile_struct(p)
            }
        }
    }

    #[inline(never)]
    fn compile_struct(&mut self, p: &'t PNode<'t>) -> CResult {
        match p.rule {
            R::file_input
            | R::file_input_2
            | R::simple_stmt_2
            | R::suite_block_stmts
            | R::pass_stmt => self.generic_all_nodes(p),
            R::testlist_star_expr | R::testlist | R::subscriptlist => self.c_tuple(None, Some(p)),
            R::decorated => self.compile_decorated(p),
            R::funcdef => self.arm_funcdef(p),
            R::expr_stmt => self.compile_expr_stmt(p),
            R::del_stmt => self.arm_del_stmt(p),
            R::break_stmt => self.arm_break_stmt(p),
            R::continue_stmt => self.arm_continue_stmt(p),
            R::return_stmt => self.compile_return(p),
            R::yield_stmt => self.arm_yield_stmt(p),
            R::raise_stmt => self.arm_raise_stmt(p),
            R::import_name => self.arm_import_name(p),
            R::import_from => self.compile_import_from(p),
            R::global_stmt => self.arm_global_stmt(p),
            R::nonlocal_stmt => self.arm_nonlocal_stmt(p),
            R::assert_stmt => self.arm_assert_stmt(p),
            R::if_stmt => self.compile_if(p),
            R::while_stmt => self.compile_while(p),
            R::for_stmt => self.compile_for(p),
            R::try_stmt => self.compile_try(p),
            R::with_stmt => self.arm_with_stmt(p),
            R::async_stmt => self.compile_async_stmt(p),
            R::atom_expr_await => {
                let k = self.scopes[self.cur].kind;
                if k != ScopeKind::Function && k != ScopeKind::Lambda {
                    return Err(self.syntax_error(None, "'await' outside function"));
                }
                self.compile_atom_expr_normal(p)?;
                self.compile_yield_from();
                Ok(())
            }
            R::test_if_expr => self.arm_test_if_expr(p),
            R::lambdef | R::lambdef_nocond => self.arm_lambdef(p),
            R::or_test | R::and_test => self.arm_or_test(p),
            R::not_test_2 => self.arm_not_test_2(p),
            R::comparison => self.compile_comparison(p),
            R::star_expr => Err(self.syntax_error(None, "*x must be assignment target")),
            R::expr | R::xor_expr | R::and_expr => self.arm_expr(p),
            R::shift_expr | R::arith_expr | R::term => self.arm_shift_expr(p),
            R::factor_2 => self.arm_factor_2(p),
            R::power => self.arm_power(p),
            R::atom_expr_normal => self.compile_atom_expr_normal(p),
            R::atom_paren => self.compile_atom_paren(p),
            R::atom_bracket => self.compile_atom_bracket(p),
            R::atom_brace => self.compile_atom_brace(p),
            R::trailer_paren => self.trailer_paren_helper(&p.nodes[0], false, 0),
            R::trailer_bracket => self.arm_trailer_bracket(p),
            R::trailer_period => self.arm_trailer_period(p),
            R::subscript_2 => self.arm_subscript_2(p),
            R::subscript_3 => self.arm_subscript_3(p),
            R::dictorsetmaker_item => self.arm_dictorsetmaker_item(p),
            R::classdef => self.arm_classdef(p),
            R::yield_expr => self.compile_yield_expr(p),
            R::const_object => self.arm_const_object(p),
            _ => Err(self.syntax_error(None, "invalid syntax")),
        }
    }

    #[inline(never)]
    fn arm_funcdef(&mut self, p: &'t PNode<'t>) -> CResult {
        let name = self.funcdef_helper(p)?;
        self.store_id(name)
    }

    #[inline(never)]
    fn arm_del_stmt(&mut self, p: &'t PNode<'t>) -> CResult {
        for n in extract_list_or_single(&p.nodes[0], R::exprlist) {
            self.c_del_stmt(n)?;
        }
        Ok(())
    }

    #[inline(never)]
    fn arm_break_stmt(&mut self, _p: &'t PNode<'t>) -> CResult {
        if self.break_label == INVALID_LABEL {
            return Err(self.syntax_error(None, "'break' outside loop"));
        }
        let d = self.cur_except_level - self.break_continue_except_level;
        self.unwind_jump(self.break_label, d);
        Ok(())
    }

    #[inline(never)]
    fn arm_continue_stmt(&mut self, _p: &'t PNode<'t>) -> CResult {
        if self.continue_label == INVALID_LABEL {
            return Err(self.syntax_error(None, "'continue' outside loop"));
        }
        let d = self.cur_except_level - self.break_continue_except_level;
        self.unwind_jump(self.continue_label, d);
        Ok(())
    }

    #[inline(never)]
    fn arm_yield_stmt(&mut self, p: &'t PNode<'t>) -> CResult {
        self.compile_node(&p.nodes[0])?;
        self.op(-1, op::POP_TOP);
        Ok(())
    }

    #[inline(never)]
    fn arm_raise_stmt(&mut self, p: &'t PNode<'t>) -> CResult {
        if p.nodes[0].is_null() {
            self.raise_varargs(0);
        } else if let Some(a) = p.nodes[0].as_kind(R::raise_stmt_arg) {
            self.compile_node(&a.nodes[0])?;
            self.compile_node(&a.nodes[1])?;
            self.raise_varargs(2);
        } else {
            self.compile_node(&p.nodes[0])?;
            self.raise_varargs(1);
        }
        Ok(())
    }

    #[inline(never)]
    fn arm_import_name(&mut self, p: &'t PNode<'t>) -> CResult {
        for n in extract_list_or_single(&p.nodes[0], R::dotted_as_names) {
            self.load_const_small_int(0);
            self.load_const_tok(Tok::KwNone);
            let base = self.do_import_name(n)?;
            self.store_id(base)?;
        }
        Ok(())
    }

    #[inline(never)]
    fn arm_global_stmt(&mut self, p: &'t PNode<'t>) -> CResult {
        if self.pass == Pass::Scope {
            for n in extract_list(&p.nodes[0], R::name_list) {
                if let Node::Id(q) = n {
                    self.declare_global(*q)?;
                }
            }
        }
        Ok(())
    }

    #[inline(never)]
    fn arm_nonlocal_stmt(&mut self, p: &'t PNode<'t>) -> CResult {
        if self.pass == Pass::Scope {
            if self.scopes[self.cur].kind == ScopeKind::Module {
                return Err(self.syntax_error(None, "can't declare nonlocal in outer code"));
            }
            for n in extract_list(&p.nodes[0], R::name_list) {
                if let Node::Id(q) = n {
                    self.declare_nonlocal(*q)?;
                }
            }
        }
        Ok(())
    }

    #[inline(never)]
    fn arm_assert_stmt(&mut self, p: &'t PNode<'t>) -> CResult {
        let l_end = self.next_label();
        self.c_if_cond(&p.nodes[0], true, l_end)?;
        let q = self.q.assertion_error;
        self.load_global(q);
        if !p.nodes[1].is_null() {
            self.compile_node(&p.nodes[1])?;
            self.call_function(1, 0, 0);
        }
        self.raise_varargs(1);
        self.label_assign(l_end);
        Ok(())
    }

    #[inline(never)]
    fn arm_with_stmt(&mut self, p: &'t PNode<'t>) -> CResult {
        let nodes = extract_list_or_single(&p.nodes[0], R::with_stmt_list);
        self.with_helper(nodes, &p.nodes[1])
    }

    #[inline(never)]
    fn arm_test_if_expr(&mut self, p: &'t PNode<'t>) -> CResult {
        let Some(ie) = p.nodes[1].as_kind(R::test_if_else) else {
            return Err(self.syntax_error(None, "invalid syntax"));
        };
        let l_fail = self.next_label();
        let l_end = self.next_label();
        self.c_if_cond(&ie.nodes[0], false, l_fail)?;
        self.compile_node(&p.nodes[0])?;
        self.jump(l_end);
        self.label_assign(l_fail);
        self.adjust_stack(-1);
        self.compile_node(&ie.nodes[1])?;
        self.label_assign(l_end);
        Ok(())
    }

    #[inline(never)]
    fn arm_lambdef(&mut self, p: &'t PNode<'t>) -> CResult {
        if self.pass == Pass::Scope {
            let s = self.new_scope(ScopeKind::Lambda, Some(p));
            p.scope.set(s);
        }
        let s = p.scope.get();
        self.funcdef_lambdef(s, &p.nodes[0], R::varargslist)
    }

    #[inline(never)]
    fn arm_or_test(&mut self, p: &'t PNode<'t>) -> CResult {
        let cond = p.rule == R::or_test;
        let l_end = self.next_label();
        let n = p.nodes.len();
        for (i, c) in p.nodes.iter().enumerate() {
            self.compile_node(c)?;
            if i + 1 < n {
                self.jump_if_or_pop(cond, l_end);
            }
        }
        self.label_assign(l_end);
        Ok(())
    }

    #[inline(never)]
    fn arm_not_test_2(&mut self, p: &'t PNode<'t>) -> CResult {
        self.compile_node(&p.nodes[0])?;
        self.unary_op(op::unary::NOT);
        Ok(())
    }

    #[inline(never)]
    fn arm_expr(&mut self, p: &'t PNode<'t>) -> CResult {
        let o = match p.rule {
            R::expr => op::binary::OR,
            R::xor_expr => op::binary::XOR,
            _ => op::binary::AND,
        };
        self.compile_node(&p.nodes[0])?;
        for c in &p.nodes[1..] {
            self.compile_node(c)?;
            self.binary_op(o);
        }
        Ok(())
    }

    #[inline(never)]
    fn arm_shift_expr(&mut self, p: &'t PNode<'t>) -> CResult {
        self.compile_node(&p.nodes[0])?;
        let mut i = 1;
        while i + 1 < p.nodes.len() {
            self.compile_node(&p.nodes[i + 1])?;
            let o = match p.nodes[i] {
                Node::Tok(Tok::OpPlus) => op::binary::ADD,
                Node::Tok(Tok::OpMinus) => op::binary::SUBTRACT,
                Node::Tok(Tok::OpStar) => op::binary::MULTIPLY,
                Node::Tok(Tok::OpDblSlash) => op::binary::FLOOR_DIVIDE,
                Node::Tok(Tok::OpSlash) => op::binary::TRUE_DIVIDE,
                Node::Tok(Tok::OpPercent) => op::binary::MODULO,
                Node::Tok(Tok::OpDblLess) => op::binary::LSHIFT,
                _ => op::binary::RSHIFT,
            };
            self.binary_op(o);
            i += 2;
        }
        Ok(())
    }

    #[inline(never)]
    fn arm_factor_2(&mut self, p: &'t PNode<'t>) -> CResult {
        self.compile_node(&p.nodes[1])?;
        let o = match p.nodes[0] {
            Node::Tok(Tok::OpPlus) => op::unary::POSITIVE,
            Node::Tok(Tok::OpMinus) => op::unary::NEGATIVE,
            _ => op::unary::INVERT,
        };
        self.unary_op(o);
        Ok(())
    }

    #[inline(never)]
    fn arm_power(&mut self, p: &'t PNode<'t>) -> CResult {
        self.generic_all_nodes(p)?;
        self.binary_op(op::binary::POWER);
        Ok(())
    }

    #[inline(never)]
    fn arm_trailer_bracket(&mut self, p: &'t PNode<'t>) -> CResult {
        self.compile_node(&p.nodes[0])?;
        self.op(-1, op::LOAD_SUBSCR);
        Ok(())
    }

    #[inline(never)]
    fn arm_trailer_period(&mut self, p: &'t PNode<'t>) -> CResult {
        let Node::Id(q) = p.nodes[0] else {
            return Err(self.syntax_error(None, "invalid syntax"));
        };
        self.load_attr(q);
        Ok(())
    }

    #[inline(never)]
    fn arm_subscript_2(&mut self, p: &'t PNode<'t>) -> CResult {
        self.compile_node(&p.nodes[0])?;
        match p.nodes[1].as_kind(R::subscript_3) {
            Some(s3) => self.subscript_3_helper(s3),
            None => Err(self.syntax_error(None, "invalid syntax")),
        }
    }

    #[inline(never)]
    fn arm_subscript_3(&mut self, p: &'t PNode<'t>) -> CResult {
        self.load_const_tok(Tok::KwNone);
        self.subscript_3_helper(p)
    }

    #[inline(never)]
    fn arm_dictorsetmaker_item(&mut self, p: &'t PNode<'t>) -> CResult {
        self.compile_node(&p.nodes[1])?;
        self.compile_node(&p.nodes[0])
    }

    #[inline(never)]
    fn arm_classdef(&mut self, p: &'t PNode<'t>) -> CResult {
        let name = self.classdef_helper(p)?;
        self.store_id(name)
    }

    #[inline(never)]
    fn arm_const_object(&mut self, p: &'t PNode<'t>) -> CResult {
        let c = self
            .konsts
            .get(p.konst as usize)
            .cloned()
            .unwrap_or(Const::Ellipsis);
        self.load_const_obj(c, p.obj);
        Ok(())
    }

    fn generic_all_nodes(&mut self, p: &'t PNode<'t>) -> CResult {
        for n in p.nodes {
            self.compile_node(n)?;
        }
        Ok(())
    }

    fn c_tuple(&mut self, pn: Option<&'t Node<'t>>, list: Option<&'t PNode<'t>>) -> CResult {
        let mut total = 0;
        if let Some(n) = pn
            && !n.is_null()
        {
            self.compile_node(n)?;
            total += 1;
        }
        if let Some(l) = list {
            for n in l.nodes {
                self.compile_node(n)?;
            }
            total += l.nodes.len();
        }
        self.build(op::BUILD_TUPLE, total);
        Ok(())
    }

    fn c_if_cond(&mut self, pn: &'t Node<'t>, jump_if: bool, label: usize) -> CResult {
        if pn.is_const_false() {
            if !jump_if {
                self.jump(label);
            }
            return Ok(());
        } else if pn.is_const_true() {
            if jump_if {
                self.jump(label);
            }
            return Ok(());
        } else if let Node::Struct(p) = pn {
            let n = p.nodes.len();
            let logic1 = |me: &mut Self, jump_if: bool| -> CResult {
                let label2 = me.next_label();
                for c in &p.nodes[..n - 1] {
                    me.c_if_cond(c, !jump_if, label2)?;
                }
                me.c_if_cond(&p.nodes[n - 1], jump_if, label)?;
                me.label_assign(label2);
                Ok(())
            };
            let logic2 = |me: &mut Self, jump_if: bool| -> CResult {
                for c in p.nodes {
                    me.c_if_cond(c, jump_if, label)?;
                }
                Ok(())
            };
            match p.rule {
                R::or_test if n > 0 => {
                    return if !jump_if {
                        logic1(self, jump_if)
                    } else {
                        logic2(self, jump_if)
                    };
                }
                R::and_test if n > 0 => {
                    return if !jump_if {
                        logic2(self, jump_if)
                    } else {
                        logic1(self, jump_if)
                    };
                }
                R::not_test_2 => return self.c_if_cond(&p.nodes[0], !jump_if, label),
                R::atom_paren => {
                    if p.nodes[0].is_null() {
                        if !jump_if {
                            self.jump(label);
                        }
                    } else if jump_if {
                        self.jump(label);
                    }
                    return Ok(());
                }
                _ => {}
            }
        }
        self.compile_node(pn)?;
        self.pop_jump_if(jump_if, label);
        Ok(())
    }

    fn c_assign_atom_expr(&mut self, p: &'t PNode<'t>, kind: AssignKind) -> CResult {
        if kind != AssignKind::AugStore {
            self.compile_node(&p.nodes[0])?;
        }
        if let Node::Struct(p1) = &p.nodes[1] {
            let mut last: &'t PNode<'t> = p1;
            if p1.rule == R::atom_expr_trailers {
                let n = p1.nodes.len();
                if kind != AssignKind::AugStore {
                    for c in &p1.nodes[..n - 1] {
                        self.compile_node(c)?;
                    }
                }
                match &p1.nodes[n - 1] {
                    Node::Struct(l) => last = l,
                    _ => return Err(self.syntax_error(None, "can't assign to expression")),
                }
            }
            if last.rule == R::trailer_bracket {
                if kind == AssignKind::AugStore {
                    self.op(0, op::ROT_THREE);
                    self.op(-3, op::STORE_SUBSCR);
                } else {
                    self.compile_node(&last.nodes[0])?;
                    if kind == AssignKind::AugLoad {
                        self.op(2, op::DUP_TOP_TWO);
                        self.op(-1, op::LOAD_SUBSCR);
                    } else {
                        self.op(-3, op::STORE_SUBSCR);
                    }
                }
                return Ok(());
            } else if last.rule == R::trailer_period {
                let Node::Id(q) = last.nodes[0] else {
                    return Err(self.syntax_error(None, "invalid syntax"));
                };
                if kind == AssignKind::AugLoad {
                    self.op(1, op::DUP_TOP);
                    self.load_attr(q);
                } else {
                    if kind == AssignKind::AugStore {
                        self.op(0, op::ROT_TWO);
                    }
                    self.store_attr(q);
                }
                return Ok(());
            }
        }
        Err(self.syntax_error(Some(&p.nodes[0]), "can't assign to expression"))
    }

    fn c_assign_tuple(&mut self, head: Option<&'t Node<'t>>, tail: &'t [Node<'t>]) -> CResult {
        let num_head = usize::from(head.is_some());
        let mut have_star: Option<usize> = None;
        if let Some(h) = head
            && h.is_kind(R::star_expr)
        {
            self.unpack_ex(0, tail.len());
            have_star = Some(0);
        }
        for (i, t) in tail.iter().enumerate() {
            if t.is_kind(R::star_expr) {
                if have_star.is_none() {
                    self.unpack_ex(num_head + i, tail.len() - i - 1);
                    have_star = Some(num_head + i);
                } else {
                    return Err(self.syntax_error(Some(t), "multiple *x in assignment"));
                }
            }
        }
        if have_star.is_none() {
            self.unpack_sequence(num_head + tail.len());
        }
        if let Some(h) = head {
            if have_star == Some(0) {
                let inner = star_inner(h);
                self.c_assign(inner, AssignKind::Store)?;
            } else {
                self.c_assign(h, AssignKind::Store)?;
            }
        }
        for (i, t) in tail.iter().enumerate() {
            if Some(num_head + i) == have_star {
                self.c_assign(star_inner(t), AssignKind::Store)?;
            } else {
                self.c_assign(t, AssignKind::Store)?;
            }
        }
        Ok(())
    }

    fn c_assign(&mut self, pn: &'t Node<'t>, kind: AssignKind) -> CResult {
        let cannot = |me: &Self| Err(me.syntax_error(Some(pn), "can't assign to expression"));
        match pn {
            Node::Id(q) => match kind {
                AssignKind::Store | AssignKind::AugStore => self.store_id(*q),
                AssignKind::AugLoad => self.load_id(*q),
            },
            Node::Struct(p) => {
                let tl: &'t PNode<'t> = match p.rule {
                    R::atom_expr_normal => return self.c_assign_atom_expr(p, kind),
                    R::testlist_star_expr | R::exprlist => {
                        if kind != AssignKind::Store {
                            return cannot(self);
                        }
                        return self.c_assign_tuple(None, p.nodes);
                    }
                    R::atom_paren => {
                        if kind != AssignKind::Store {
                            return cannot(self);
                        }
                        match p.nodes[0].as_kind(R::testlist_comp) {
                            Some(t) => t,
                            None => return cannot(self),
                        }
                    }
                    R::atom_bracket => {
                        if kind != AssignKind::Store {
                            return cannot(self);
                        }
                        if p.nodes[0].is_null() {
                            return self.c_assign_tuple(None, &[]);
                        } else if let Some(t) = p.nodes[0].as_kind(R::testlist_comp) {
                            t
                        } else {
                            return self.c_assign_tuple(Some(&p.nodes[0]), &[]);
                        }
                    }
                    _ => return cannot(self),
                };
                // testlist_comp
                if let Node::Struct(p2) = &tl.nodes[1] {
                    match p2.rule {
                        R::testlist_comp_3b => return self.c_assign_tuple(Some(&tl.nodes[0]), &[]),
                        R::testlist_comp_3c => {
                            return self.c_assign_tuple(Some(&tl.nodes[0]), p2.nodes);
                        }
                        R::comp_for => return cannot(self),
                        _ => {}
                    }
                }
                self.c_assign_tuple(None, tl.nodes)
            }
            _ => cannot(self),
        }
    }

    fn close_over_variables_etc(&mut self, this_scope: usize, npd: usize, nkd: usize) {
        if nkd > 0 {
            self.scopes[this_scope].scope_flags |= op::scope_flags::DEFKWARGS;
        }
        self.scopes[this_scope].num_def_pos_args = npd;
        let mut nfree = 0;
        if self.scopes[self.cur].kind != ScopeKind::Module {
            let ids = self.scopes[self.cur].id_info.clone();
            for id in ids {
                if id.kind == IdKind::Cell || id.kind == IdKind::Free {
                    let matches = self.scopes[this_scope]
                        .id_info
                        .iter()
                        .filter(|id2| id2.kind == IdKind::Free && id2.qst == id.qst)
                        .count();
                    for _ in 0..matches {
                        self.load_fast(id.local_num);
                        nfree += 1;
                    }
                }
            }
        }
        if nfree == 0 {
            self.make_function(this_scope, npd, nkd);
        } else {
            self.make_closure(this_scope, nfree, npd, nkd);
        }
    }

    fn funcdef_lambdef_param(&mut self, pn: &'t Node<'t>) -> CResult {
        let kind = match pn {
            Node::Id(_) => None,
            Node::Struct(p) => Some(p.rule),
            _ => return Err(self.syntax_error(None, "invalid syntax")),
        };
        match kind {
            Some(R::typedargslist_star | R::varargslist_star) => {
                self.have_star = true;
            }
            Some(R::typedargslist_dbl_star | R::varargslist_dbl_star) => {}
            _ => {
                let (pn_id, pn_equal): (&'t Node<'t>, &'t Node<'t>) = match (kind, pn) {
                    (None, _) => (pn, &Node::Null),
                    (Some(R::typedargslist_name), Node::Struct(p)) => (&p.nodes[0], &p.nodes[2]),
                    (Some(R::varargslist_name), Node::Struct(p)) => (&p.nodes[0], &p.nodes[1]),
                    _ => return Err(self.syntax_error(None, "invalid syntax")),
                };
                if pn_equal.is_null() {
                    if !self.have_star && self.num_default_params != 0 {
                        return Err(self.syntax_error(
                            Some(pn),
                            "non-default argument follows default argument",
                        ));
                    }
                } else if self.have_star {
                    self.num_dict_params += 1;
                    if self.num_dict_params == 1 {
                        if self.num_default_params > 0 {
                            self.build(op::BUILD_TUPLE, self.num_default_params);
                        } else {
                            self.op(1, op::LOAD_NULL);
                        }
                        self.build_map(0);
                    }
                    self.compile_node(pn_equal)?;
                    let Node::Id(q) = pn_id else {
                        return Err(self.syntax_error(None, "invalid syntax"));
                    };
                    self.load_const_str(*q);
                    self.op(-2, op::STORE_MAP);
                } else {
                    self.num_default_params += 1;
                    self.compile_node(pn_equal)?;
                }
            }
        }
        Ok(())
    }

    fn funcdef_lambdef(&mut self, scope: usize, params: &'t Node<'t>, list_kind: R) -> CResult {
        let saved = (
            self.have_star,
            self.num_dict_params,
            self.num_default_params,
        );
        self.have_star = false;
        self.num_dict_params = 0;
        self.num_default_params = 0;
        for p in extract_list_or_single(params, list_kind) {
            self.funcdef_lambdef_param(p)?;
        }
        if self.num_default_params > 0 && self.num_dict_params == 0 {
            self.build(op::BUILD_TUPLE, self.num_default_params);
            self.op(1, op::LOAD_NULL);
        }
        let (npd, nkd) = (self.num_default_params, self.num_dict_params);
        self.close_over_variables_etc(scope, npd, nkd);
        (
            self.have_star,
            self.num_dict_params,
            self.num_default_params,
        ) = saved;
        Ok(())
    }

    fn funcdef_helper(&mut self, p: &'t PNode<'t>) -> CResult<u16> {
        if self.pass == Pass::Scope {
            let s = self.new_scope(ScopeKind::Function, Some(p));
            p.scope.set(s);
        }
        let s = p.scope.get();
        self.funcdef_lambdef(s, &p.nodes[1], R::typedargslist)?;
        Ok(self.scopes[s].simple_name)
    }

    fn classdef_helper(&mut self, p: &'t PNode<'t>) -> CResult<u16> {
        if self.pass == Pass::Scope {
            let s = self.new_scope(ScopeKind::Class, Some(p));
            p.scope.set(s);
        }
        self.op(1, op::LOAD_BUILD_CLASS);
        let s = p.scope.get();
        self.close_over_variables_etc(s, 0, 0);
        let name = self.scopes[s].simple_name;
        self.load_const_str(name);
        let parents: &'t Node<'t> = if p.nodes[1].is_kind(R::classdef_2) {
            &Node::Null
        } else {
            &p.nodes[1]
        };
        self.trailer_paren_helper(parents, false, 2)?;
        Ok(name)
    }

    fn compile_decorated(&mut self, p: &'t PNode<'t>) -> CResult {
        let decorators = extract_list_or_single(&p.nodes[0], R::decorators);
        let mut num_built_in = 0;
        for d in decorators {
            let Some(pd) = d.as_kind(R::decorator) else {
                return Err(self.syntax_error(None, "invalid syntax"));
            };
            let names = extract_list_or_single(&pd.nodes[0], R::dotted_name);
            let first = match names.first() {
                Some(Node::Id(q)) => *q,
                _ => return Err(self.syntax_error(None, "invalid syntax")),
            };
            if self.qstr_is(first, "micropython") {
                if names.len() != 2 {
                    return Err(self.syntax_error(Some(d), "invalid micropython decorator"));
                }
                let attr = match names[1] {
                    Node::Id(q) => q,
                    _ => return Err(self.syntax_error(None, "invalid syntax")),
                };
                if self.qstr_is(attr, "bytecode") {
                } else {
                    // the reference build has no native emitter, so native/viper/asm are invalid too
                    return Err(self.syntax_error(Some(d), "invalid micropython decorator"));
                }
                num_built_in += 1;
            } else {
                self.compile_node(&names[0])?;
                for n in &names[1..] {
                    if let Node::Id(q) = n {
                        self.load_attr(*q);
                    }
                }
                if !pd.nodes[1].is_null() {
                    self.compile_node(&pd.nodes[1])?;
                }
            }
        }
        let Some(body) = p.nodes[1].as_struct() else {
            return Err(self.syntax_error(None, "invalid syntax"));
        };
        let name = match body.rule {
            R::funcdef => self.funcdef_helper(body)?,
            R::classdef => self.classdef_helper(body)?,
            R::async_funcdef => {
                let Some(f) = body.nodes[0].as_kind(R::funcdef) else {
                    return Err(self.syntax_error(None, "invalid syntax"));
                };
                let name = self.funcdef_helper(f)?;
                let s = f.scope.get();
                self.scopes[s].scope_flags |= op::scope_flags::GENERATOR;
                name
            }
            _ => return Err(self.syntax_error(None, "invalid syntax")),
        };
        for _ in 0..decorators.len() - num_built_in {
            self.call_function(1, 0, 0);
        }
        self.store_id(name)
    }

    fn c_del_stmt(&mut self, pn: &'t Node<'t>) -> CResult {
        let cannot = |me: &Self| Err(me.syntax_error(Some(pn), "can't delete expression"));
        match pn {
            Node::Id(q) => self.delete_id(*q),
            Node::Struct(p) if p.rule == R::atom_expr_normal => {
                self.compile_node(&p.nodes[0])?;
                let Node::Struct(p1) = &p.nodes[1] else {
                    return cannot(self);
                };
                let mut last: &'t PNode<'t> = p1;
                if p1.rule == R::atom_expr_trailers {
                    let n = p1.nodes.len();
                    for c in &p1.nodes[..n - 1] {
                        self.compile_node(c)?;
                    }
                    match &p1.nodes[n - 1] {
                        Node::Struct(l) => last = l,
                        _ => return cannot(self),
                    }
                }
                if last.rule == R::trailer_bracket {
                    self.compile_node(&last.nodes[0])?;
                    self.op(1, op::LOAD_NULL);
                    self.op(0, op::ROT_THREE);
                    self.op(-3, op::STORE_SUBSCR);
                    Ok(())
                } else if last.rule == R::trailer_period {
                    let Node::Id(q) = last.nodes[0] else {
                        return cannot(self);
                    };
                    self.op(1, op::LOAD_NULL);
                    self.op(0, op::ROT_TWO);
                    self.store_attr(q);
                    Ok(())
                } else {
                    cannot(self)
                }
            }
            Node::Struct(p) if p.rule == R::atom_paren => {
                let Some(tl) = p.nodes[0].as_kind(R::testlist_comp) else {
                    return cannot(self);
                };
                if let Node::Struct(p1) = &tl.nodes[1] {
                    match p1.rule {
                        R::testlist_comp_3b => return self.c_del_stmt(&tl.nodes[0]),
                        R::testlist_comp_3c => {
                            self.c_del_stmt(&tl.nodes[0])?;
                            for c in p1.nodes {
                                self.c_del_stmt(c)?;
                            }
                            return Ok(());
                        }
                        R::comp_for => return cannot(self),
                        _ => {}
                    }
                }
                self.c_del_stmt(&tl.nodes[0])?;
                self.c_del_stmt(&tl.nodes[1])
            }
            _ => cannot(self),
        }
    }

    fn compile_return(&mut self, p: &'t PNode<'t>) -> CResult {
        if self.scopes[self.cur].kind != ScopeKind::Function {
            return Err(self.syntax_error(None, "'return' outside function"));
        }
        if p.nodes[0].is_null() {
            self.load_const_tok(Tok::KwNone);
        } else if let Some(ie) = p.nodes[0].as_kind(R::test_if_expr) {
            let Some(ee) = ie.nodes[1].as_kind(R::test_if_else) else {
                return Err(self.syntax_error(None, "invalid syntax"));
            };
            let l_fail = self.next_label();
            self.c_if_cond(&ee.nodes[0], false, l_fail)?;
            self.compile_node(&ie.nodes[0])?;
            self.return_value();
            self.label_assign(l_fail);
            self.compile_node(&ee.nodes[1])?;
        } else {
            self.compile_node(&p.nodes[0])?;
        }
        self.return_value();
        Ok(())
    }

    fn do_import_name(&mut self, pn: &'t Node<'t>) -> CResult<u16> {
        let mut pn = pn;
        let mut is_as = false;
        let mut q_base = self.q.empty;
        if let Some(p) = pn.as_kind(R::dotted_as_name) {
            if let Node::Id(q) = p.nodes[1] {
                q_base = q;
            }
            pn = &p.nodes[0];
            is_as = true;
        }
        match pn {
            Node::Null => {
                let e = self.q.empty;
                self.op_qstr(-1, op::IMPORT_NAME, e);
                Ok(e)
            }
            Node::Id(q) => {
                if !is_as {
                    q_base = *q;
                }
                self.op_qstr(-1, op::IMPORT_NAME, *q);
                Ok(q_base)
            }
            Node::Struct(p) if p.rule == R::dotted_name => {
                let mut ids = Vec::new();
                for n in p.nodes {
                    if let Node::Id(q) = n {
                        ids.push(*q);
                    }
                }
                if !is_as {
                    q_base = ids[0];
                }
                let mut full = String::new();
                for (i, q) in ids.iter().enumerate() {
                    if i > 0 {
                        full.push('.');
                    }
                    full.push_str(self.interner.resolve(*q));
                }
                let q_full = self.interner.intern(&full).map_err(|mut e| {
                    e.file = String::from(self.file);
                    e.line = self.err_line;
                    e
                })?;
                if self.one_walk {
                    let at = self.bc.len() + 1;
                    self.emit_later
                        .push(EmitLater::Import(at, full, self.err_line));
                }
                self.op_qstr(-1, op::IMPORT_NAME, q_full);
                if is_as {
                    for q in &ids[1..] {
                        self.load_attr(*q);
                    }
                }
                Ok(q_base)
            }
            _ => Err(self.syntax_error(None, "invalid syntax")),
        }
    }

    fn compile_import_from(&mut self, p: &'t PNode<'t>) -> CResult {
        let mut source: &'t Node<'t> = &p.nodes[0];
        let mut level = 0;
        let rel: Option<&'t Node<'t>> = if matches!(source, Node::Tok(_))
            || source.is_kind(R::one_or_more_period_or_ellipsis)
        {
            let r = source;
            source = &Node::Null;
            Some(r)
        } else if let Some(b) = source.as_kind(R::import_from_2b) {
            source = &b.nodes[1];
            Some(&b.nodes[0])
        } else {
            None
        };
        if let Some(r) = rel {
            for n in extract_list_or_single(r, R::one_or_more_period_or_ellipsis) {
                if matches!(n, Node::Tok(Tok::DelPeriod)) {
                    level += 1;
                } else {
                    level += 3;
                }
            }
        }
        if matches!(p.nodes[1], Node::Tok(Tok::OpStar)) {
            self.load_const_small_int(level);
            let star = self.q.star;
            self.load_const_str(star);
            self.build(op::BUILD_TUPLE, 1);
            self.do_import_name(source)?;
            self.op(-1, op::IMPORT_STAR);
        } else {
            self.load_const_small_int(level);
            let names = extract_list_or_single(&p.nodes[1], R::import_as_names);
            for n in names {
                let Some(p3) = n.as_kind(R::import_as_name) else {
                    return Err(self.syntax_error(None, "invalid syntax"));
                };
                let Node::Id(q) = p3.nodes[0] else {
                    return Err(self.syntax_error(None, "invalid syntax"));
                };
                self.load_const_str(q);
            }
            self.build(op::BUILD_TUPLE, names.len());
            self.do_import_name(source)?;
            for n in names {
                let Some(p3) = n.as_kind(R::import_as_name) else {
                    return Err(self.syntax_error(None, "invalid syntax"));
                };
                let Node::Id(q) = p3.nodes[0] else {
                    return Err(self.syntax_error(None, "invalid syntax"));
                };
                self.op_qstr(1, op::IMPORT_FROM, q);
                match p3.nodes[1] {
                    Node::Id(a) => self.store_id(a)?,
                    _ => self.store_id(q)?,
                }
            }
            self.op(-1, op::POP_TOP);
        }
        Ok(())
    }

    fn declare_global(&mut self, q: u16) -> CResult {
        let cur = self.cur;
        let (i, added) = self.find_or_add(cur, q);
        if !added && self.scopes[cur].id_info[i].kind != IdKind::GlobalExplicit {
            return Err(self.syntax_error(None, "identifier redefined as global"));
        }
        self.scopes[cur].id_info[i].kind = IdKind::GlobalExplicit;
        let mut top = cur;
        while let Some(p) = self.scopes[top].parent {
            top = p;
        }
        if let Some(j) = self.scopes[top].find(q) {
            self.scopes[top].id_info[j].kind = IdKind::GlobalExplicit;
        }
        Ok(())
    }

    fn declare_nonlocal(&mut self, q: u16) -> CResult {
        let cur = self.cur;
        let (i, added) = self.find_or_add(cur, q);
        if added {
            self.find_local_and_close_over(cur, i, q);
            if self.scopes[cur].id_info[i].kind == IdKind::GlobalImplicit {
                return Err(self.syntax_error(None, "no binding for nonlocal found"));
            }
        } else if self.scopes[cur].id_info[i].kind != IdKind::Free {
            return Err(self.syntax_error(None, "identifier redefined as nonlocal"));
        }
        Ok(())
    }

    fn compile_if(&mut self, p: &'t PNode<'t>) -> CResult {
        let l_end = self.next_label();
        if !p.nodes[0].is_const_false() {
            let l_fail = self.next_label();
            self.c_if_cond(&p.nodes[0], false, l_fail)?;
            self.compile_node(&p.nodes[1])?;
            if p.nodes[0].is_const_true() {
                self.label_assign(l_end);
                return Ok(());
            }
            if !(self.last_emit_was_return_value || p.nodes[2].is_null() && p.nodes[3].is_null()) {
                self.jump(l_end);
            }
            self.label_assign(l_fail);
        }
        for e in extract_list_or_single(&p.nodes[2], R::if_stmt_elif_list) {
            let Some(pe) = e.as_kind(R::if_stmt_elif) else {
                return Err(self.syntax_error(None, "invalid syntax"));
            };
            if !pe.nodes[0].is_const_false() {
                let l_fail = self.next_label();
                self.c_if_cond(&pe.nodes[0], false, l_fail)?;
                self.compile_node(&pe.nodes[1])?;
                if pe.nodes[0].is_const_true() {
                    self.label_assign(l_end);
                    return Ok(());
                }
                if !self.last_emit_was_return_value {
                    self.jump(l_end);
                }
                self.label_assign(l_fail);
            }
        }
        self.compile_node(&p.nodes[3])?;
        self.label_assign(l_end);
        Ok(())
    }

    fn start_loop(&mut self) -> (usize, usize, (usize, usize, usize)) {
        let old = (
            self.break_label,
            self.continue_label,
            self.break_continue_except_level,
        );
        let b = self.next_label();
        let c = self.next_label();
        self.break_label = b;
        self.continue_label = c;
        self.break_continue_except_level = self.cur_except_level;
        (b, c, old)
    }

    fn end_loop(&mut self, old: (usize, usize, usize)) {
        (
            self.break_label,
            self.continue_label,
            self.break_continue_except_level,
        ) = old;
    }

    fn compile_while(&mut self, p: &'t PNode<'t>) -> CResult {
        let (break_label, continue_label, old) = self.start_loop();
        if !p.nodes[0].is_const_false() {
            let top = self.next_label();
            if !p.nodes[0].is_const_true() {
                self.jump(continue_label);
            }
            self.label_assign(top);
            self.compile_node(&p.nodes[1])?;
            self.label_assign(continue_label);
            self.c_if_cond(&p.nodes[0], true, top)?;
        }
        self.end_loop(old);
        self.compile_node(&p.nodes[2])?;
        self.label_assign(break_label);
        Ok(())
    }

    fn compile_for(&mut self, p: &'t PNode<'t>) -> CResult {
        if let (Node::Id(_), Some(it)) = (&p.nodes[0], p.nodes[1].as_kind(R::atom_expr_normal))
            && let (Node::Id(fq), Some(tp)) = (&it.nodes[0], it.nodes[1].as_kind(R::trailer_paren))
            && self.qstr_is(*fq, "range")
        {
            let args = extract_list(&tp.nodes[0], R::arglist);
            let n = args.len();
            if (1..=3).contains(&n) {
                let (start, end, step): (&'t Node<'t>, &'t Node<'t>, &'t Node<'t>) = match n {
                    1 => (&Node::Int(0), &args[0], &Node::Int(1)),
                    2 => (&args[0], &args[1], &Node::Int(1)),
                    _ => (&args[0], &args[1], &args[2]),
                };
                let bad = |x: &Node| {
                    x.is_kind(R::arglist_star)
                        || x.is_kind(R::arglist_dbl_star)
                        || x.is_kind(R::argument)
                };
                let optimize =
                    (n != 3 || matches!(step, Node::Int(v) if *v != 0)) && !bad(start) && !bad(end);
                if optimize {
                    return self.for_range(&p.nodes[0], start, end, step, &p.nodes[2], &p.nodes[3]);
                }
            }
        }
        let (break_label, continue_label, old) = self.start_loop();
        self.break_label |= BREAK_FROM_FOR;
        let pop_label = self.next_label();
        self.compile_node(&p.nodes[1])?;
        self.get_iter(true);
        self.label_assign(continue_label);
        self.for_iter(pop_label);
        self.c_assign(&p.nodes[0], AssignKind::Store)?;
        self.compile_node(&p.nodes[2])?;
        if !self.last_emit_was_return_value {
            self.jump(continue_label);
        }
        self.label_assign(pop_label);
        self.for_iter_end();
        self.end_loop(old);
        self.compile_node(&p.nodes[3])?;
        self.label_assign(break_label);
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn for_range(
        &mut self,
        var: &'t Node<'t>,
        start: &'t Node<'t>,
        end: &'t Node<'t>,
        step: &'t Node<'t>,
        body: &'t Node<'t>,
        els: &'t Node<'t>,
    ) -> CResult {
        let (break_label, continue_label, old) = self.start_loop();
        let top = self.next_label();
        let entry = self.next_label();
        let end_on_stack = !matches!(end, Node::Int(_));
        if end_on_stack {
            self.compile_node(end)?;
        }
        self.compile_node(start)?;
        self.jump(entry);
        self.label_assign(top);
        self.op(1, op::DUP_TOP);
        self.c_assign(var, AssignKind::Store)?;
        self.compile_node(body)?;
        self.label_assign(continue_label);
        self.compile_node(step)?;
        self.binary_op(op::binary::INPLACE_ADD);
        self.label_assign(entry);
        if end_on_stack {
            self.op(2, op::DUP_TOP_TWO);
            self.op(0, op::ROT_TWO);
        } else {
            self.op(1, op::DUP_TOP);
            self.compile_node(end)?;
        }
        let Node::Int(sv) = step else {
            return Err(self.syntax_error(None, "invalid syntax"));
        };
        if *sv >= 0 {
            self.binary_op(op::binary::LESS);
        } else {
            self.binary_op(op::binary::MORE);
        }
        self.pop_jump_if(true, top);
        self.end_loop(old);
        let mut end_label = 0;
        if !els.is_null() {
            self.op(-1, op::POP_TOP);
            if end_on_stack {
                self.op(-1, op::POP_TOP);
            }
            self.compile_node(els)?;
            end_label = self.next_label();
            self.jump(end_label);
            self.adjust_stack(1 + isize::from(end_on_stack));
        }
        self.label_assign(break_label);
        self.op(-1, op::POP_TOP);
        if end_on_stack {
            self.op(-1, op::POP_TOP);
        }
        if !els.is_null() {
            self.label_assign(end_label);
        }
        Ok(())
    }

    fn try_except(
        &mut self,
        body: &'t Node<'t>,
        excepts: &'t [Node<'t>],
        els: &'t Node<'t>,
    ) -> CResult {
        let l1 = self.next_label();
        let success = self.next_label();
        self.setup(op::SETUP_EXCEPT, 0, l1);
        self.increase_except_level();
        self.compile_node(body)?;
        self.op(0, op::POP_BLOCK);
        self.jump(success);
        self.label_assign(l1);
        self.adjust_stack(4);
        let l2 = self.next_label();
        for (i, e) in excepts.iter().enumerate() {
            let Some(pe) = e.as_kind(R::try_stmt_except) else {
                return Err(self.syntax_error(None, "invalid syntax"));
            };
            let mut local: Option<u16> = None;
            let end_finally_label = self.next_label();
            if pe.nodes[0].is_null() {
                if i + 1 != excepts.len() {
                    return Err(self.syntax_error(Some(e), "default 'except' must be last"));
                }
            } else {
                let mut expr: &'t Node<'t> = &pe.nodes[0];
                if let Some(an) = expr.as_kind(R::try_stmt_as_name) {
                    expr = &an.nodes[0];
                    if let Node::Id(q) = an.nodes[1] {
                        local = Some(q);
                    }
                }
                self.op(1, op::DUP_TOP);
                self.compile_node(expr)?;
                self.binary_op(op::binary::EXCEPTION_MATCH);
                self.pop_jump_if(false, end_finally_label);
            }
            match local {
                None => self.op(-1, op::POP_TOP),
                Some(q) => self.store_id(q)?,
            }
            let mut l3 = 0;
            if local.is_some() {
                l3 = self.next_label();
                self.setup(op::SETUP_FINALLY, 0, l3);
                self.increase_except_level();
            }
            self.compile_node(&pe.nodes[1])?;
            if local.is_some() {
                self.op(0, op::POP_BLOCK);
            }
            self.op(0, op::POP_EXCEPT);
            if let Some(q) = local {
                self.load_const_tok(Tok::KwNone);
                self.label_assign(l3);
                self.load_const_tok(Tok::KwNone);
                self.store_id(q)?;
                self.delete_id(q)?;
                self.decrease_except_level();
                self.op(-1, op::END_FINALLY);
            }
            self.jump(l2);
            self.label_assign(end_finally_label);
            self.adjust_stack(1);
        }
        self.decrease_except_level();
        self.op(-1, op::END_FINALLY);
        self.adjust_stack(-3);
        self.label_assign(success);
        self.compile_node(els)?;
        self.label_assign(l2);
        Ok(())
    }

    fn try_finally(
        &mut self,
        body: &'t Node<'t>,
        excepts: &'t [Node<'t>],
        els: &'t Node<'t>,
        fin: &'t Node<'t>,
    ) -> CResult {
        let l_finally = self.next_label();
        self.setup(op::SETUP_FINALLY, 0, l_finally);
        self.increase_except_level();
        if excepts.is_empty() {
            self.adjust_stack(3);
            self.compile_node(body)?;
            self.adjust_stack(-3);
        } else {
            self.try_except(body, excepts, els)?;
        }
        self.op(0, op::POP_BLOCK);
        self.load_const_tok(Tok::KwNone);
        self.label_assign(l_finally);
        self.compile_node(fin)?;
        self.decrease_except_level();
        self.op(-1, op::END_FINALLY);
        Ok(())
    }

    fn compile_try(&mut self, p: &'t PNode<'t>) -> CResult {
        let Some(p2) = p.nodes[1].as_struct() else {
            return Err(self.syntax_error(None, "invalid syntax"));
        };
        if p2.rule == R::try_stmt_finally {
            self.try_finally(&p.nodes[0], &[], &Node::Null, &p2.nodes[0])
        } else if p2.rule == R::try_stmt_except_and_more {
            let excepts = extract_list_or_single(&p2.nodes[0], R::try_stmt_except_list);
            match p2.nodes[2].as_struct() {
                None => self.try_except(&p.nodes[0], excepts, &p2.nodes[1]),
                Some(f) => self.try_finally(&p.nodes[0], excepts, &p2.nodes[1], &f.nodes[0]),
            }
        } else {
            let excepts = extract_list_or_single(&p.nodes[1], R::try_stmt_except_list);
            self.try_except(&p.nodes[0], excepts, &Node::Null)
        }
    }

    fn with_helper(&mut self, nodes: &'t [Node<'t>], body: &'t Node<'t>) -> CResult {
        if nodes.is_empty() {
            return self.compile_node(body);
        }
        let l_end = self.next_label();
        // MICROPY_EMIT_NATIVE builds reserve a second label here; it does not change the bytes
        if let Some(wi) = nodes[0].as_kind(R::with_item) {
            self.compile_node(&wi.nodes[0])?;
            self.setup(op::SETUP_WITH, 2, l_end);
            self.c_assign(&wi.nodes[1], AssignKind::Store)?;
        } else {
            self.compile_node(&nodes[0])?;
            self.setup(op::SETUP_WITH, 2, l_end);
            self.op(-1, op::POP_TOP);
        }
        self.increase_except_level();
        self.with_helper(&nodes[1..], body)?;
        // with_cleanup
        self.op(0, op::POP_BLOCK);
        self.load_const_tok(Tok::KwNone);
        self.label_assign(l_end);
        self.adjust_stack(2);
        self.byte(op::WITH_CLEANUP);
        self.adjust_stack(-4);
        self.decrease_except_level();
        self.op(-1, op::END_FINALLY);
        Ok(())
    }

    fn compile_yield_from(&mut self) {
        self.get_iter(false);
        self.load_const_tok(Tok::KwNone);
        self.yield_from();
    }

    fn await_object_method(&mut self, method: &str) -> CResult {
        let q = self
            .interner
            .lookup(method)
            .ok_or_else(|| self.not_impl(method))?;
        self.load_method(q, false);
        self.call_method(0, 0, 0);
        self.compile_yield_from();
        Ok(())
    }

    fn compile_async_stmt(&mut self, p: &'t PNode<'t>) -> CResult {
        let Some(p0) = p.nodes[0].as_struct() else {
            return Err(self.syntax_error(None, "invalid syntax"));
        };
        match p0.rule {
            R::funcdef => {
                let name = self.funcdef_helper(p0)?;
                self.store_id(name)?;
                let s = p0.scope.get();
                self.scopes[s].scope_flags |= op::scope_flags::GENERATOR;
                Ok(())
            }
            R::for_stmt => self.compile_async_for(p0),
            R::with_stmt => {
                let nodes = extract_list(&p0.nodes[0], R::with_stmt_list);
                self.async_with_helper(nodes, &p0.nodes[1])
            }
            _ => Err(self.syntax_error(None, "invalid syntax")),
        }
    }

    /// The name 1.9.4 uses to hold the async iterator / context manager: it reads the node as an
    /// identifier, which is only meaningful when the expression is a plain name.
    fn async_context(&self, pn: &Node) -> CResult<u16> {
        match pn {
            Node::Id(q) => Ok(*q),
            _ => Err(self.not_impl("async for/with over an expression that is not a plain name")),
        }
    }

    fn compile_async_for(&mut self, p: &'t PNode<'t>) -> CResult {
        let context = self.async_context(&p.nodes[1])?;
        let while_else_label = self.next_label();
        let try_exception_label = self.next_label();
        let try_else_label = self.next_label();
        let try_finally_label = self.next_label();
        self.compile_node(&p.nodes[1])?;
        self.await_object_method("__aiter__")?;
        self.store_id(context)?;
        let (break_label, continue_label, old) = self.start_loop();
        self.label_assign(continue_label);
        self.setup(op::SETUP_EXCEPT, 0, try_exception_label);
        self.increase_except_level();
        self.load_id(context)?;
        self.await_object_method("__anext__")?;
        self.c_assign(&p.nodes[0], AssignKind::Store)?;
        self.op(0, op::POP_BLOCK);
        self.jump(try_else_label);
        self.label_assign(try_exception_label);
        self.adjust_stack(4);
        self.op(1, op::DUP_TOP);
        let stop = self
            .interner
            .lookup("StopAsyncIteration")
            .ok_or_else(|| self.not_impl("StopAsyncIteration"))?;
        self.load_global(stop);
        self.binary_op(op::binary::EXCEPTION_MATCH);
        self.pop_jump_if(false, try_finally_label);
        self.op(-1, op::POP_TOP);
        self.op(0, op::POP_EXCEPT);
        self.jump(while_else_label);
        self.label_assign(try_finally_label);
        self.adjust_stack(1);
        self.decrease_except_level();
        self.op(-1, op::END_FINALLY);
        self.adjust_stack(-3);
        self.label_assign(try_else_label);
        self.compile_node(&p.nodes[2])?;
        self.jump(continue_label);
        self.end_loop(old);
        self.label_assign(while_else_label);
        self.compile_node(&p.nodes[3])?;
        self.label_assign(break_label);
        Ok(())
    }

    fn async_with_helper(&mut self, nodes: &'t [Node<'t>], body: &'t Node<'t>) -> CResult {
        if nodes.is_empty() {
            return self.compile_node(body);
        }
        let try_exception_label = self.next_label();
        let no_reraise_label = self.next_label();
        let try_else_label = self.next_label();
        let end_label = self.next_label();
        let context;
        if let Some(wi) = nodes[0].as_kind(R::with_item) {
            context = self.async_context(&wi.nodes[0])?;
            self.compile_node(&wi.nodes[0])?;
            self.store_id(context)?;
            self.load_id(context)?;
            self.await_object_method("__aenter__")?;
            self.c_assign(&wi.nodes[1], AssignKind::Store)?;
        } else {
            context = self.async_context(&nodes[0])?;
            self.compile_node(&nodes[0])?;
            self.store_id(context)?;
            self.load_id(context)?;
            self.await_object_method("__aenter__")?;
            self.op(-1, op::POP_TOP);
        }
        self.load_id(context)?;
        let aexit = self
            .interner
            .lookup("__aexit__")
            .ok_or_else(|| self.not_impl("__aexit__"))?;
        self.load_method(aexit, false);
        self.setup(op::SETUP_EXCEPT, 0, try_exception_label);
        self.increase_except_level();
        self.async_with_helper(&nodes[1..], body)?;
        self.op(0, op::POP_BLOCK);
        self.jump(try_else_label);
        self.label_assign(try_exception_label);
        self.adjust_stack(4);
        self.op(1, op::DUP_TOP);
        let cls = self.q.class;
        self.load_attr(cls);
        self.op(0, op::ROT_TWO);
        self.load_const_tok(Tok::KwNone);
        self.call_method(3, 0, 0);
        self.compile_yield_from();
        self.pop_jump_if(true, no_reraise_label);
        self.raise_varargs(0);
        self.label_assign(no_reraise_label);
        self.op(0, op::POP_EXCEPT);
        self.jump(end_label);
        self.adjust_stack(3);
        self.decrease_except_level();
        self.op(-1, op::END_FINALLY);
        self.adjust_stack(-3);
        self.label_assign(try_else_label);
        self.load_const_tok(Tok::KwNone);
        self.op(1, op::DUP_TOP);
        self.op(1, op::DUP_TOP);
        self.call_method(3, 0, 0);
        self.compile_yield_from();
        self.op(-1, op::POP_TOP);
        self.label_assign(end_label);
        Ok(())
    }

    fn compile_expr_stmt(&mut self, p: &'t PNode<'t>) -> CResult {
        let n1 = &p.nodes[1];
        if n1.is_null() {
            if self.is_repl && self.scopes[self.cur].kind == ScopeKind::Module {
                let rp = self.q.repl_print;
                self.load_id(rp)?;
                self.compile_node(&p.nodes[0])?;
                self.call_function(1, 0, 0);
                self.op(-1, op::POP_TOP);
            } else {
                let n0 = &p.nodes[0];
                if (n0.is_leaf() && !matches!(n0, Node::Id(_))) || n0.is_kind(R::const_object) {
                } else {
                    self.compile_node(n0)?;
                    self.op(-1, op::POP_TOP);
                }
            }
            return Ok(());
        }
        if let Some(p1) = n1.as_kind(R::expr_stmt_augassign) {
            self.c_assign(&p.nodes[0], AssignKind::AugLoad)?;
            self.compile_node(&p1.nodes[1])?;
            let o = match p1.nodes[0] {
                Node::Tok(Tok::DelPipeEqual) => op::binary::INPLACE_OR,
                Node::Tok(Tok::DelCaretEqual) => op::binary::INPLACE_XOR,
                Node::Tok(Tok::DelAmpersandEqual) => op::binary::INPLACE_AND,
                Node::Tok(Tok::DelDblLessEqual) => op::binary::INPLACE_LSHIFT,
                Node::Tok(Tok::DelDblMoreEqual) => op::binary::INPLACE_RSHIFT,
                Node::Tok(Tok::DelPlusEqual) => op::binary::INPLACE_ADD,
                Node::Tok(Tok::DelMinusEqual) => op::binary::INPLACE_SUBTRACT,
                Node::Tok(Tok::DelStarEqual) => op::binary::INPLACE_MULTIPLY,
                Node::Tok(Tok::DelDblSlashEqual) => op::binary::INPLACE_FLOOR_DIVIDE,
                Node::Tok(Tok::DelSlashEqual) => op::binary::INPLACE_TRUE_DIVIDE,
                Node::Tok(Tok::DelPercentEqual) => op::binary::INPLACE_MODULO,
                _ => op::binary::INPLACE_POWER,
            };
            self.binary_op(o);
            return self.c_assign(&p.nodes[0], AssignKind::AugStore);
        }
        if let Some(p1) = n1.as_kind(R::expr_stmt_assign_list) {
            let rhs = p1.nodes.len() - 1;
            self.compile_node(&p1.nodes[rhs])?;
            if rhs > 0 {
                self.op(1, op::DUP_TOP);
            }
            self.c_assign(&p.nodes[0], AssignKind::Store)?;
            for i in 0..rhs {
                if i + 1 < rhs {
                    self.op(1, op::DUP_TOP);
                }
                self.c_assign(&p1.nodes[i], AssignKind::Store)?;
            }
            return Ok(());
        }
        // plain assignment
        if let (Some(p0), Some(p1)) = (
            p.nodes[0].as_kind(R::testlist_star_expr),
            n1.as_kind(R::testlist_star_expr),
        ) {
            let n = p0.nodes.len();
            if n == p1.nodes.len()
                && (n == 2 || n == 3)
                && !p0.nodes[0].is_kind(R::star_expr)
                && !p0.nodes[1].is_kind(R::star_expr)
                && (n == 2 || !p0.nodes[2].is_kind(R::star_expr))
            {
                self.compile_node(&p1.nodes[0])?;
                self.compile_node(&p1.nodes[1])?;
                if n == 3 {
                    self.compile_node(&p1.nodes[2])?;
                    self.op(0, op::ROT_THREE);
                }
                self.op(0, op::ROT_TWO);
                self.c_assign(&p0.nodes[0], AssignKind::Store)?;
                self.c_assign(&p0.nodes[1], AssignKind::Store)?;
                if n == 3 {
                    self.c_assign(&p0.nodes[2], AssignKind::Store)?;
                }
                return Ok(());
            }
        }
        self.compile_node(n1)?;
        self.c_assign(&p.nodes[0], AssignKind::Store)
    }

    fn compile_comparison(&mut self, p: &'t PNode<'t>) -> CResult {
        let n = p.nodes.len();
        self.compile_node(&p.nodes[0])?;
        let multi = n > 3;
        let l_fail = if multi { self.next_label() } else { 0 };
        let mut i = 1;
        while i + 1 < n {
            self.compile_node(&p.nodes[i + 1])?;
            if i + 2 < n {
                self.op(1, op::DUP_TOP);
                self.op(0, op::ROT_THREE);
            }
            match &p.nodes[i] {
                Node::Tok(t) => {
                    let o = match t {
                        Tok::OpLess => op::binary::LESS,
                        Tok::OpMore => op::binary::MORE,
                        Tok::OpDblEqual => op::binary::EQUAL,
                        Tok::OpLessEqual => op::binary::LESS_EQUAL,
                        Tok::OpMoreEqual => op::binary::MORE_EQUAL,
                        Tok::OpNotEqual => op::binary::NOT_EQUAL,
                        _ => op::binary::IN,
                    };
                    self.binary_op(o);
                }
                Node::Struct(p2) if p2.rule == R::comp_op_not_in => {
                    self.binary_op_not(op::binary::IN)
                }
                Node::Struct(p2) => {
                    if p2.nodes.first().is_none_or(|x| x.is_null()) {
                        self.binary_op(op::binary::IS);
                    } else {
                        self.binary_op_not(op::binary::IS);
                    }
                }
                _ => return Err(self.syntax_error(None, "invalid syntax")),
            }
            if i + 2 < n {
                self.jump_if_or_pop(false, l_fail);
            }
            i += 2;
        }
        if multi {
            let l_end = self.next_label();
            self.jump(l_end);
            self.label_assign(l_fail);
            self.adjust_stack(1);
            self.op(0, op::ROT_TWO);
            self.op(-1, op::POP_TOP);
            self.label_assign(l_end);
        }
        Ok(())
    }

    fn compile_atom_expr_normal(&mut self, p: &'t PNode<'t>) -> CResult {
        self.compile_node(&p.nodes[0])?;
        if p.nodes[1].is_null() {
            return Ok(());
        }
        let trail: &'t [Node<'t>] = match p.nodes[1].as_kind(R::atom_expr_trailers) {
            Some(t) => t.nodes,
            None => core::slice::from_ref(&p.nodes[1]),
        };
        let kind_of = |n: &Node| n.as_struct().map(|s| s.rule);
        let mut i = 0;
        if self.scopes[self.cur].kind == ScopeKind::Function
            && let Node::Id(q) = p.nodes[0]
            && self.qstr_is(q, "super")
            && kind_of(&trail[0]) == Some(R::trailer_paren)
            && trail[0].as_struct().is_some_and(|t| t.nodes[0].is_null())
        {
            let cls = self.q.class;
            self.load_id(cls)?;
            let first_param = self.scopes[self.cur]
                .id_info
                .iter()
                .find(|id| id.flags & ID_FLAG_IS_PARAM != 0)
                .map(|id| id.qst);
            match first_param {
                Some(pq) => self.load_id(pq)?,
                None => {
                    return Err(self.syntax_error(Some(&trail[0]), "super() can't find self"));
                }
            }
            if trail.len() >= 3
                && kind_of(&trail[1]) == Some(R::trailer_period)
                && kind_of(&trail[2]) == Some(R::trailer_paren)
            {
                let (Some(per), Some(par)) = (trail[1].as_struct(), trail[2].as_struct()) else {
                    return Err(self.syntax_error(None, "invalid syntax"));
                };
                let Node::Id(mq) = per.nodes[0] else {
                    return Err(self.syntax_error(None, "invalid syntax"));
                };
                self.load_method(mq, true);
                self.trailer_paren_helper(&par.nodes[0], true, 0)?;
                i = 3;
            } else {
                self.call_function(2, 0, 0);
                i = 1;
            }
        }
        while i < trail.len() {
            if i + 1 < trail.len()
                && kind_of(&trail[i]) == Some(R::trailer_period)
                && kind_of(&trail[i + 1]) == Some(R::trailer_paren)
            {
                let (Some(per), Some(par)) = (trail[i].as_struct(), trail[i + 1].as_struct())
                else {
                    return Err(self.syntax_error(None, "invalid syntax"));
                };
                let Node::Id(mq) = per.nodes[0] else {
                    return Err(self.syntax_error(None, "invalid syntax"));
                };
                self.load_method(mq, false);
                self.trailer_paren_helper(&par.nodes[0], true, 0)?;
                i += 2;
            } else {
                self.compile_node(&trail[i])?;
                i += 1;
            }
        }
        Ok(())
    }

    fn trailer_paren_helper(
        &mut self,
        arglist: &'t Node<'t>,
        is_method: bool,
        n_pos_extra: usize,
    ) -> CResult {
        let args = extract_list(arglist, R::arglist);
        let mut n_pos = n_pos_extra;
        let mut n_kw = 0;
        let mut star = 0;
        let mut star_node: Option<&'t PNode<'t>> = None;
        let mut dbl_node: Option<&'t PNode<'t>> = None;
        for a in args {
            let mut normal = true;
            if let Node::Struct(pa) = a {
                match pa.rule {
                    R::arglist_star => {
                        if star & STAR_FLAG_SINGLE != 0 {
                            return Err(self.syntax_error(Some(a), "can't have multiple *x"));
                        }
                        star |= STAR_FLAG_SINGLE;
                        star_node = Some(pa);
                        normal = false;
                    }
                    R::arglist_dbl_star => {
                        if star & STAR_FLAG_DOUBLE != 0 {
                            return Err(self.syntax_error(Some(a), "can't have multiple **x"));
                        }
                        star |= STAR_FLAG_DOUBLE;
                        dbl_node = Some(pa);
                        normal = false;
                    }
                    R::argument => {
                        normal = false;
                        if !pa.nodes[1].is_kind(R::comp_for) {
                            let Node::Id(q) = pa.nodes[0] else {
                                return Err(
                                    self.syntax_error(Some(a), "LHS of keyword arg must be an id")
                                );
                            };
                            self.load_const_str(q);
                            self.compile_node(&pa.nodes[1])?;
                            n_kw += 1;
                        } else {
                            self.compile_comprehension(pa, ScopeKind::GenExpr)?;
                            n_pos += 1;
                        }
                    }
                    _ => {}
                }
            }
            if normal {
                if star != 0 {
                    return Err(self.syntax_error(Some(a), "non-keyword arg after */**"));
                }
                if n_kw > 0 {
                    return Err(self.syntax_error(Some(a), "non-keyword arg after keyword arg"));
                }
                self.compile_node(a)?;
                n_pos += 1;
            }
        }
        if star != 0 {
            match star_node {
                None => self.op(1, op::LOAD_NULL),
                Some(s) => self.compile_node(&s.nodes[0])?,
            }
            match dbl_node {
                None => self.op(1, op::LOAD_NULL),
                Some(s) => self.compile_node(&s.nodes[0])?,
            }
        }
        if is_method {
            self.call_method(n_pos, n_kw, star);
        } else {
            self.call_function(n_pos, n_kw, star);
        }
        Ok(())
    }

    fn compile_comprehension(&mut self, p: &'t PNode<'t>, kind: ScopeKind) -> CResult {
        let Some(cf) = p.nodes.get(1).and_then(|n| n.as_kind(R::comp_for)) else {
            return Err(self.syntax_error(None, "invalid syntax"));
        };
        if self.pass == Pass::Scope {
            let s = self.new_scope(kind, Some(p));
            cf.scope.set(s);
        }
        let s = cf.scope.get();
        self.close_over_variables_etc(s, 0, 0);
        self.compile_node(&cf.nodes[1])?;
        if kind == ScopeKind::GenExpr {
            self.get_iter(false);
        }
        self.call_function(1, 0, 0);
        Ok(())
    }

    fn compile_atom_paren(&mut self, p: &'t PNode<'t>) -> CResult {
        if p.nodes[0].is_null() {
            return self.c_tuple(None, None);
        }
        let Some(tl) = p.nodes[0].as_kind(R::testlist_comp) else {
            return Err(self.syntax_error(None, "invalid syntax"));
        };
        if let Node::Struct(p2) = &tl.nodes[1] {
            match p2.rule {
                R::testlist_comp_3b => return self.c_tuple(Some(&tl.nodes[0]), None),
                R::testlist_comp_3c => return self.c_tuple(Some(&tl.nodes[0]), Some(p2)),
                R::comp_for => return self.compile_comprehension(tl, ScopeKind::GenExpr),
                _ => {}
            }
        }
        self.c_tuple(None, Some(tl))
    }

    fn compile_atom_bracket(&mut self, p: &'t PNode<'t>) -> CResult {
        if p.nodes[0].is_null() {
            self.build(op::BUILD_LIST, 0);
        } else if let Some(p2) = p.nodes[0].as_kind(R::testlist_comp) {
            if let Node::Struct(p3) = &p2.nodes[1] {
                match p3.rule {
                    R::testlist_comp_3b => {
                        self.compile_node(&p2.nodes[0])?;
                        self.build(op::BUILD_LIST, 1);
                        return Ok(());
                    }
                    R::testlist_comp_3c => {
                        self.compile_node(&p2.nodes[0])?;
                        self.generic_all_nodes(p3)?;
                        self.build(op::BUILD_LIST, 1 + p3.nodes.len());
                        return Ok(());
                    }
                    R::comp_for => return self.compile_comprehension(p2, ScopeKind::ListComp),
                    _ => {}
                }
            }
            self.compile_node(&p2.nodes[0])?;
            self.compile_node(&p2.nodes[1])?;
            self.build(op::BUILD_LIST, 2);
        } else {
            self.compile_node(&p.nodes[0])?;
            self.build(op::BUILD_LIST, 1);
        }
        Ok(())
    }

    fn compile_atom_brace(&mut self, p: &'t PNode<'t>) -> CResult {
        let pn = &p.nodes[0];
        match pn {
            Node::Null => self.build_map(0),
            Node::Struct(ps) if ps.rule == R::dictorsetmaker_item => {
                self.build_map(1);
                self.compile_node(pn)?;
                self.op(-2, op::STORE_MAP);
            }
            Node::Struct(ps) if ps.rule == R::dictorsetmaker => {
                let Some(p1) = ps.nodes[1].as_struct() else {
                    return Err(self.syntax_error(None, "invalid syntax"));
                };
                if p1.rule == R::dictorsetmaker_list {
                    let nodes = extract_list_or_single(&p1.nodes[0], R::dictorsetmaker_list2);
                    let is_dict = ps.nodes[0].is_kind(R::dictorsetmaker_item);
                    if is_dict {
                        self.build_map(1 + nodes.len());
                        self.compile_node(&ps.nodes[0])?;
                        self.op(-2, op::STORE_MAP);
                    } else {
                        self.compile_node(&ps.nodes[0])?;
                    }
                    for n in nodes {
                        let kv = n.is_kind(R::dictorsetmaker_item);
                        self.compile_node(n)?;
                        if is_dict {
                            if !kv {
                                return Err(
                                    self.syntax_error(Some(pn), "expecting key:value for dict")
                                );
                            }
                            self.op(-2, op::STORE_MAP);
                        } else if kv {
                            return Err(
                                self.syntax_error(Some(pn), "expecting just a value for set")
                            );
                        }
                    }
                    if !is_dict {
                        self.build(op::BUILD_SET, 1 + nodes.len());
                    }
                } else if ps.nodes[0].is_kind(R::dictorsetmaker_item) {
                    self.compile_comprehension(ps, ScopeKind::DictComp)?;
                } else {
                    self.compile_comprehension(ps, ScopeKind::SetComp)?;
                }
            }
            _ => {
                self.compile_node(pn)?;
                self.build(op::BUILD_SET, 1);
            }
        }
        Ok(())
    }

    fn subscript_3_helper(&mut self, p: &'t PNode<'t>) -> CResult {
        let pn = &p.nodes[0];
        match pn {
            Node::Null => {
                self.load_const_tok(Tok::KwNone);
                self.build(op::BUILD_SLICE, 2);
            }
            Node::Struct(ps) if ps.rule == R::subscript_3c => {
                self.load_const_tok(Tok::KwNone);
                if ps.nodes[0].is_null() {
                    self.build(op::BUILD_SLICE, 2);
                } else {
                    self.compile_node(&ps.nodes[0])?;
                    self.build(op::BUILD_SLICE, 3);
                }
            }
            Node::Struct(ps) if ps.rule == R::subscript_3d => {
                self.compile_node(&ps.nodes[0])?;
                let Some(so) = ps.nodes[1].as_kind(R::sliceop) else {
                    return Err(self.syntax_error(None, "invalid syntax"));
                };
                if so.nodes[0].is_null() {
                    self.build(op::BUILD_SLICE, 2);
                } else {
                    self.compile_node(&so.nodes[0])?;
                    self.build(op::BUILD_SLICE, 3);
                }
            }
            _ => {
                self.compile_node(pn)?;
                self.build(op::BUILD_SLICE, 2);
            }
        }
        Ok(())
    }

    fn compile_yield_expr(&mut self, p: &'t PNode<'t>) -> CResult {
        let k = self.scopes[self.cur].kind;
        if k != ScopeKind::Function && k != ScopeKind::Lambda {
            return Err(self.syntax_error(None, "'yield' outside function"));
        }
        if p.nodes[0].is_null() {
            self.load_const_tok(Tok::KwNone);
            self.yield_value();
        } else if let Some(yf) = p.nodes[0].as_kind(R::yield_arg_from) {
            self.compile_node(&yf.nodes[0])?;
            self.get_iter(false);
            self.load_const_tok(Tok::KwNone);
            self.yield_from();
        } else {
            self.compile_node(&p.nodes[0])?;
            self.yield_value();
        }
        Ok(())
    }

    fn scope_param(&mut self, pn: &'t Node<'t>, name_r: R, star_r: R, dbl_r: R) -> CResult {
        let cur = self.cur;
        if self.scopes[cur].scope_flags & op::scope_flags::VARKEYWORDS != 0 {
            return Err(self.syntax_error(Some(pn), "invalid syntax"));
        }
        let mut name: Option<u16> = None;
        let mut flag = ID_FLAG_IS_PARAM;
        match pn {
            Node::Id(q) => {
                name = Some(*q);
                if self.have_star {
                    self.scopes[cur].num_kwonly_args += 1;
                } else {
                    self.scopes[cur].num_pos_args += 1;
                }
            }
            Node::Struct(p) if p.rule == name_r => {
                if let Node::Id(q) = p.nodes[0] {
                    name = Some(q);
                }
                if self.have_star {
                    self.scopes[cur].num_kwonly_args += 1;
                } else {
                    self.scopes[cur].num_pos_args += 1;
                }
            }
            Node::Struct(p) if p.rule == star_r => {
                if self.have_star {
                    return Err(self.syntax_error(Some(pn), "invalid syntax"));
                }
                self.have_star = true;
                flag = ID_FLAG_IS_PARAM | ID_FLAG_IS_STAR_PARAM;
                match &p.nodes[0] {
                    Node::Null => {}
                    Node::Id(q) => {
                        self.scopes[cur].scope_flags |= op::scope_flags::VARARGS;
                        name = Some(*q);
                    }
                    Node::Struct(t) => {
                        self.scopes[cur].scope_flags |= op::scope_flags::VARARGS;
                        if let Node::Id(q) = t.nodes[0] {
                            name = Some(q);
                        }
                    }
                    _ => {}
                }
            }
            Node::Struct(p) if p.rule == dbl_r => {
                if let Node::Id(q) = p.nodes[0] {
                    name = Some(q);
                }
                flag = ID_FLAG_IS_PARAM | ID_FLAG_IS_DBL_STAR_PARAM;
                self.scopes[cur].scope_flags |= op::scope_flags::VARKEYWORDS;
            }
            _ => return Err(self.syntax_error(Some(pn), "invalid syntax")),
        }
        if let Some(q) = name {
            let (i, added) = self.find_or_add(cur, q);
            if !added {
                return Err(self.syntax_error(Some(pn), "name reused for argument"));
            }
            self.scopes[cur].id_info[i].kind = IdKind::Local;
            self.scopes[cur].id_info[i].flags = flag;
        }
        Ok(())
    }

    fn comp_iter(&mut self, comp_for: &'t PNode<'t>, inner: &'t Node<'t>, depth: usize) -> CResult {
        let l_top = self.next_label();
        let l_end = self.next_label();
        self.label_assign(l_top);
        self.for_iter(l_end);
        self.c_assign(&comp_for.nodes[0], AssignKind::Store)?;
        let mut it: &'t Node<'t> = &comp_for.nodes[2];
        loop {
            match it {
                Node::Null => {
                    self.compile_node(inner)?;
                    let k = self.scopes[self.cur].kind;
                    if k == ScopeKind::GenExpr {
                        self.yield_value();
                        self.op(-1, op::POP_TOP);
                    } else {
                        self.store_comp(k, 4 * depth + 5);
                    }
                    break;
                }
                Node::Struct(p) if p.rule == R::comp_if => {
                    self.c_if_cond(&p.nodes[0], false, l_top)?;
                    it = &p.nodes[1];
                }
                Node::Struct(p) if p.rule == R::comp_for => {
                    self.compile_node(&p.nodes[1])?;
                    self.get_iter(true);
                    self.comp_iter(p, inner, depth + 1)?;
                    break;
                }
                _ => return Err(self.syntax_error(None, "invalid syntax")),
            }
        }
        self.jump(l_top);
        self.label_assign(l_end);
        self.for_iter_end();
        Ok(())
    }

    fn compile_scope(&mut self, root: &'t Node<'t>, si: usize, pass: Pass, eval: bool) -> CResult {
        self.pass = pass;
        self.cur = si;
        self.next_label = 0;
        self.start_pass(pass);
        if pass == Pass::Scope {
            self.scopes[si].stack_size = 0;
            self.scopes[si].exc_stack_size = 0;
        }
        let kind = self.scopes[si].kind;
        let pns = self.scopes[si].pns;
        match (kind, pns) {
            (ScopeKind::Module, _) => {
                if eval {
                    if let Some(p) = root.as_kind(R::eval_input) {
                        self.compile_node(&p.nodes[0])?;
                    } else {
                        self.compile_node(root)?;
                    }
                    self.return_value();
                } else {
                    self.compile_node(root)?;
                    self.load_const_tok(Tok::KwNone);
                    self.return_value();
                }
            }
            (ScopeKind::Function, Some(p)) => {
                if pass == Pass::Scope {
                    self.have_star = false;
                    for a in extract_list_or_single(&p.nodes[1], R::typedargslist) {
                        self.scope_param(
                            a,
                            R::typedargslist_name,
                            R::typedargslist_star,
                            R::typedargslist_dbl_star,
                        )?;
                    }
                }
                self.compile_node(&p.nodes[3])?;
                if !self.last_emit_was_return_value {
                    self.load_const_tok(Tok::KwNone);
                    self.return_value();
                }
            }
            (ScopeKind::Lambda, Some(p)) => {
                if pass == Pass::Scope {
                    self.have_star = false;
                    for a in extract_list_or_single(&p.nodes[0], R::varargslist) {
                        self.scope_param(
                            a,
                            R::varargslist_name,
                            R::varargslist_star,
                            R::varargslist_dbl_star,
                        )?;
                    }
                }
                self.compile_node(&p.nodes[1])?;
                if self.scopes[si].scope_flags & op::scope_flags::GENERATOR != 0 {
                    self.op(-1, op::POP_TOP);
                    self.load_const_tok(Tok::KwNone);
                }
                self.return_value();
            }
            (
                ScopeKind::ListComp | ScopeKind::DictComp | ScopeKind::SetComp | ScopeKind::GenExpr,
                Some(p),
            ) => {
                let Some(cf) = p.nodes[1].as_kind(R::comp_for) else {
                    return Err(self.syntax_error(None, "invalid syntax"));
                };
                let arg = self.q.empty;
                if pass == Pass::Scope {
                    let (i, _) = self.find_or_add(si, arg);
                    self.scopes[si].id_info[i].kind = IdKind::Local;
                    self.scopes[si].num_pos_args = 1;
                }
                match kind {
                    ScopeKind::ListComp => self.build(op::BUILD_LIST, 0),
                    ScopeKind::DictComp => self.build_map(0),
                    ScopeKind::SetComp => self.build(op::BUILD_SET, 0),
                    _ => {}
                }
                if kind == ScopeKind::GenExpr {
                    self.op(1, op::LOAD_NULL);
                    self.load_id(arg)?;
                    self.op(1, op::LOAD_NULL);
                    self.op(1, op::LOAD_NULL);
                } else {
                    self.load_id(arg)?;
                    self.get_iter(true);
                }
                self.comp_iter(cf, &p.nodes[0], 0)?;
                if kind == ScopeKind::GenExpr {
                    self.load_const_tok(Tok::KwNone);
                }
                self.return_value();
            }
            (ScopeKind::Class, Some(p)) => {
                let cls = self.q.class;
                if pass == Pass::Scope {
                    let (i, _) = self.find_or_add(si, cls);
                    self.scopes[si].id_info[i].kind = IdKind::Local;
                }
                let (name, module, qualname) = (self.q.name, self.q.modname, self.q.qualname);
                self.load_id(name)?;
                self.store_id(module)?;
                let Node::Id(cname) = p.nodes[0] else {
                    return Err(self.syntax_error(None, "invalid syntax"));
                };
                self.load_const_str(cname);
                self.store_id(qualname)?;
                self.compile_node(&p.nodes[2])?;
                let id = self.scopes[si]
                    .find(cls)
                    .map(|i| self.scopes[si].id_info[i]);
                match id {
                    Some(id) if id.kind != IdKind::Local => self.load_fast(id.local_num),
                    _ => self.load_const_tok(Tok::KwNone),
                }
                self.return_value();
            }
            _ => return Err(self.syntax_error(None, "invalid syntax")),
        }
        self.end_pass();
        Ok(())
    }

    fn scope_compute_things(&mut self, si: usize) {
        let s = &mut self.scopes[si];
        if s.scope_flags & op::scope_flags::VARARGS != 0 {
            let mut id_param: Option<usize> = None;
            for i in (0..s.id_info.len()).rev() {
                let id = s.id_info[i];
                if id.flags & ID_FLAG_IS_STAR_PARAM != 0 {
                    if let Some(j) = id_param {
                        s.id_info.swap(i, j);
                    }
                    break;
                } else if id_param.is_none() && id.flags == ID_FLAG_IS_PARAM {
                    id_param = Some(i);
                }
            }
        }
        s.num_locals = 0;
        let (kind, class_q) = (s.kind, self.q.class);
        for id in s.id_info.iter_mut() {
            if kind == ScopeKind::Class && id.qst == class_q {
                continue;
            }
            if kind.is_func_like() && id.kind == IdKind::GlobalImplicit {
                id.kind = IdKind::GlobalExplicit;
            }
            if id.kind == IdKind::Local || (id.flags & ID_FLAG_IS_PARAM) != 0 {
                id.local_num = s.num_locals;
                s.num_locals += 1;
            }
        }
        for id in s.id_info.iter_mut() {
            if id.kind == IdKind::Cell && (id.flags & ID_FLAG_IS_PARAM) == 0 {
                id.local_num = s.num_locals;
                s.num_locals += 1;
            }
        }
        if let Some(parent) = self.scopes[si].parent {
            let pids = self.scopes[parent].id_info.clone();
            let mut num_free = 0;
            for id in pids {
                if id.kind == IdKind::Cell || id.kind == IdKind::Free {
                    for id2 in self.scopes[si].id_info.iter_mut() {
                        if id2.kind == IdKind::Free && id.qst == id2.qst {
                            id2.local_num = num_free;
                            num_free += 1;
                        }
                    }
                }
            }
            if num_free > 0 {
                let s = &mut self.scopes[si];
                for id in s.id_info.iter_mut() {
                    if id.kind != IdKind::Free || (id.flags & ID_FLAG_IS_PARAM) != 0 {
                        id.local_num += num_free;
                    }
                }
                s.num_pos_args += num_free;
                s.num_locals += num_free;
            }
        }
    }

    /// The scope pass over every scope (finding new ones), then per scope the stack-size,
    /// code-size and emit passes, as `mp_compile_to_raw_code`.
    fn run_passes(&mut self, root: &'t Node<'t>, eval: bool) -> CResult {
        self.check_mem()?;
        let mut max_labels = 0;
        let mut i = 0;
        while i < self.scopes.len() {
            let r = self.compile_scope(root, i, Pass::Scope, eval);
            self.check_mem()?;
            max_labels = max_labels.max(self.next_label);
            if let Err(e) = r {
                // 1.9.4 sizes the label table even when the scope pass failed
                if e.kind != "MemoryError" {
                    self.interner.mem(MemOp::Labels(max_labels))?;
                }
                return Err(e);
            }
            i += 1;
        }
        for si in 0..self.scopes.len() {
            self.scope_compute_things(si);
        }
        self.label_offsets = alloc::vec![0; max_labels];
        self.interner.mem(MemOp::Labels(max_labels))?;
        for si in 0..self.scopes.len() {
            // 1.9.4 runs a stack-size pass before the code-size pass; both walk the tree
            // alike, so one walk does both (the code info's n_state is sized at its end).
            // The emit pass walks it alike once more: the same walk collects what it needs.
            self.one_walk = true;
            self.jump_patches.clear();
            self.rc_patches.clear();
            self.emit_later.clear();
            let r = self.compile_scope(root, si, Pass::CodeSize, eval);
            self.one_walk = false;
            r?;
            self.check_mem()?;
            if !self.finish_walk()? {
                self.compile_scope(root, si, Pass::Emit, eval)?;
            } else if cfg!(test) && CHECK_ONE_WALK.load(Ordering::Relaxed) {
                self.check_one_walk(root, si, eval)?;
            }
        }
        Ok(())
    }

    /// Runs the emit pass after [`Compiler::finish_walk`] and panics unless it gives the same
    /// output (for tests).
    fn check_one_walk(&mut self, root: &'t Node<'t>, si: usize, eval: bool) -> CResult {
        let s = &self.scopes[si];
        let walk = (
            s.bytecode.clone(),
            s.objects.clone(),
            s.handles.clone(),
            s.children.clone(),
            s.arg_names.clone(),
        );
        self.compile_scope(root, si, Pass::Emit, eval)?;
        let s = &self.scopes[si];
        let emit = (
            s.bytecode.clone(),
            s.objects.clone(),
            s.handles.clone(),
            s.children.clone(),
            s.arg_names.clone(),
        );
        assert!(walk == emit, "scope {si}: {walk:?} != {emit:?}");
        Ok(())
    }

    /// Makes the emit pass's output from the code-size walk just done, when it is the same:
    /// the emit pass writes the same bytes except the jump offsets (fixed width, patched here),
    /// the raw-code indices (written with the final object count; patched when their width is
    /// unchanged, else `false` is returned and the emit pass is run) and the code info's header
    /// (final `n_state` and size, rebuilt here). Its heap operations (the objects of bytes
    /// constants, dotted import names interned again) come after the code allocation at the
    /// end of the code-size pass, in walk order, as here.
    fn finish_walk(&mut self) -> CResult<bool> {
        let base = self.const_base();
        let num_obj = self.ct_num_obj;
        if self
            .rc_patches
            .iter()
            .any(|&(_, written, k)| uint_len(written) != uint_len(base + num_obj + k))
        {
            return Ok(false);
        }
        let cur = self.cur;
        for later in core::mem::take(&mut self.emit_later) {
            match later {
                EmitLater::Bytes(slot, c) => {
                    let h = self.interner.make_const(&c)?;
                    self.scopes[cur].handles[slot] = h;
                }
                EmitLater::Import(pos, full, line) => {
                    let q = self.interner.intern(&full).map_err(|mut e| {
                        e.file = String::from(self.file);
                        e.line = line;
                        e
                    })?;
                    self.bc[pos] = q as u8;
                    self.bc[pos + 1] = (q >> 8) as u8;
                }
            }
        }
        for &(pos, label, signed) in &self.jump_patches {
            let target = self.label_offsets.get(label).copied().unwrap_or(0);
            let off = if signed {
                (target as isize - pos as isize - 3 + 0x8000) as usize
            } else {
                target.wrapping_sub(pos + 3)
            };
            self.bc[pos + 1] = off as u8;
            self.bc[pos + 2] = (off >> 8) as u8;
        }
        let mut buf = Vec::new();
        for &(pos, _, k) in &self.rc_patches {
            buf.clear();
            write_uint(&mut buf, base + num_obj + k);
            self.bc[pos..pos + buf.len()].copy_from_slice(&buf);
        }
        // the emit pass's code info: final n_state and size in the header, then the same
        // line table, padded to the size found
        let s = &self.scopes[cur];
        let mut code = Vec::with_capacity(self.code_info_size.max(self.ci.len()) + self.bc.len());
        write_uint(&mut code, n_state(s));
        write_uint(&mut code, s.exc_stack_size);
        code.extend_from_slice(&[
            s.scope_flags,
            s.num_pos_args as u8,
            s.num_kwonly_args as u8,
            s.num_def_pos_args as u8,
        ]);
        let rest = self.code_info_size - code.len();
        write_uint(&mut code, rest);
        let (name, sf) = (s.simple_name, self.source_file);
        code.extend_from_slice(&[name as u8, (name >> 8) as u8, sf as u8, (sf >> 8) as u8]);
        code.extend_from_slice(&self.ci[self.ci_header..]);
        while code.len() < self.code_info_size {
            code.push(0);
        }
        code.extend_from_slice(&self.bc);
        self.scopes[cur].bytecode = code;
        Ok(true)
    }

    fn check_mem(&mut self) -> CResult {
        match self.mem_err.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn build_raw_code(&mut self, si: usize) -> RawCode {
        let children_idx = core::mem::take(&mut self.scopes[si].children);
        let children = children_idx
            .iter()
            .map(|&c| self.build_raw_code(c))
            .collect();
        let s = &mut self.scopes[si];
        RawCode {
            kind: CodeKind::Bytecode,
            scope_flags: s.scope_flags,
            n_pos_args: s.num_pos_args as u8,
            n_kwonly_args: s.num_kwonly_args as u8,
            n_def_pos_args: s.num_def_pos_args as u8,
            bytecode: core::mem::take(&mut s.bytecode),
            arg_names: core::mem::take(&mut s.arg_names),
            objects: core::mem::take(&mut s.objects),
            object_handles: core::mem::take(&mut s.handles),
            children,
            fixups: Vec::new(),
            scope_index: si,
            parse_garbage: Vec::new(),
        }
    }
}

fn star_inner<'n, 'b>(n: &'n Node<'b>) -> &'n Node<'b> {
    match n {
        Node::Struct(p) if p.rule == R::star_expr => &p.nodes[0],
        other => other,
    }
}

/// `apply_to_single_or_list` / `mp_parse_node_extract_list` for lists that may be a single node.
fn extract_list_or_single<'n, 'b>(pn: &'n Node<'b>, kind: R) -> &'n [Node<'b>] {
    extract_list(pn, kind)
}

/// Tests set this to have every scope compiled both ways and compared (see
/// [`Compiler::check_one_walk`]).
#[cfg(test)]
pub(crate) static CHECK_ONE_WALK: core::sync::atomic::AtomicBool =
    core::sync::atomic::AtomicBool::new(false);
#[cfg(not(test))]
static CHECK_ONE_WALK: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);

/// The ids [`q_id`] found last (`u16::MAX`: none yet), shared by every compilation.
static Q_CACHE: [AtomicU16; 14] = [const { AtomicU16::new(u16::MAX) }; 14];

/// The qstr id of `name`, the `k`th name of [`Q`] (interned if unknown). The id found last time
/// is used when the interner still resolves it to the same text, which holds for static qstrs
/// (all of [`Q`]'s names are static qstrs of 1.9.4); otherwise the name is looked up as usual.
fn q_id(interner: &mut dyn Interner, k: usize, name: &str) -> Result<u16, CompileError> {
    let cached = Q_CACHE[k].load(Ordering::Relaxed);
    if cached != u16::MAX && interner.resolve_bytes(cached) == name.as_bytes() {
        return Ok(cached);
    }
    let id = match interner.lookup(name) {
        Some(q) => q,
        None => interner.intern(name)?,
    };
    Q_CACHE[k].store(id, Ordering::Relaxed);
    Ok(id)
}

/// Compiles a parse tree into raw code (`mp_compile_to_raw_code`).
pub fn compile_tree<'t>(
    root: &'t Node<'t>,
    konsts: &'t [Const],
    file: &str,
    source_file: u16,
    kind: InputKind,
    interner: &mut dyn Interner,
) -> Result<RawCode, CompileError> {
    // the fields are looked up in this order, one cache slot each
    let mut k = 0;
    let mut id = |interner: &mut dyn Interner, name: &str| {
        k += 1;
        q_id(interner, k - 1, name)
    };
    let q = Q {
        empty: id(interner, "")?,
        star: id(interner, "*")?,
        module: id(interner, "<module>")?,
        lambda: id(interner, "<lambda>")?,
        listcomp: id(interner, "<listcomp>")?,
        dictcomp: id(interner, "<dictcomp>")?,
        setcomp: id(interner, "<setcomp>")?,
        genexpr: id(interner, "<genexpr>")?,
        class: id(interner, "__class__")?,
        name: id(interner, "__name__")?,
        modname: id(interner, "__module__")?,
        qualname: id(interner, "__qualname__")?,
        repl_print: id(interner, "__repl_print__")?,
        assertion_error: id(interner, "AssertionError")?,
    };
    let mut c = Compiler {
        interner,
        konsts,
        file,
        source_file,
        is_repl: kind == InputKind::Single,
        q,
        scopes: Vec::new(),
        cur: 0,
        pass: Pass::Scope,
        next_label: 0,
        have_star: false,
        num_dict_params: 0,
        num_default_params: 0,
        break_label: INVALID_LABEL,
        continue_label: INVALID_LABEL,
        cur_except_level: 0,
        break_continue_except_level: 0,
        depth: 0,
        err_line: 1,
        stack_size: 0,
        last_emit_was_return_value: false,
        last_source_line_offset: 0,
        last_source_line: 1,
        label_offsets: Vec::new(),
        ci: Vec::new(),
        bc: Vec::new(),
        code_info_size: 0,
        n_state_written: 0,
        ct_cur_obj: 0,
        ct_num_obj: 0,
        ct_cur_raw_code: 0,
        mem_err: None,
        one_walk: false,
        jump_patches: Vec::new(),
        rc_patches: Vec::new(),
        emit_later: Vec::new(),
        ci_header: 0,
    };
    let eval = kind == InputKind::Eval;
    c.new_scope(ScopeKind::Module, None);
    c.mem(MemOp::EmitterNew);
    if let Err(e) = c.run_passes(root, eval) {
        // A failed allocation unwinds at once in 1.9.4 (nlr_raise from m_malloc); any other
        // compile error frees the emitter, the tree and the scopes first.
        if e.kind != "MemoryError" {
            c.interner.compile_failed(&e);
            c.interner.mem(MemOp::CompileEnd)?;
        }
        return Err(e);
    }
    c.interner.mem(MemOp::CompileEnd)?;
    Ok(c.build_raw_code(0))
}
