//! The bytecode interpreter (py/vm.c, py/bc.c `mp_setup_code_state`, py/objfun.c
//! `fun_bc_call`) over MicroPython 1.9.4 bytecode stored in the arena.
//!
//! Frames are Rust calls; each frame's state (`n_state` words: locals at the top in reverse
//! order, the value stack from the bottom) lives in the runtime's value stack, whose entries
//! are GC roots. Exception-handler records keep their saved exception in one extra slot each.

use alloc::format;
use alloc::vec;
use alloc::vec::Vec;

use crate::compile::opcodes as op;
use crate::heap::{WORD_BYTES, Word};
use crate::obj::{self, NONE, NULL, R, TRUE, layout, rom};
use crate::ops::it;
use crate::runtime::{Args, PR, Rt, STACK_LIMIT, frame_cost, q};

/// A decoded bytecode prelude plus a copy of the code bytes.
#[derive(Debug, Clone)]
pub struct Code {
    /// Words of state (locals + value stack).
    pub n_state: usize,
    /// Exception-handler records needed.
    pub n_exc_stack: usize,
    /// `MP_SCOPE_FLAG_*`.
    pub scope_flags: u8,
    /// Positional parameters (closed-over cells first).
    pub n_pos_args: usize,
    /// Keyword-only parameters.
    pub n_kwonly_args: usize,
    /// Positional parameters with defaults.
    pub n_def_pos_args: usize,
    /// The block's simple name.
    pub name: u16,
    /// The source file.
    pub file: u16,
    /// Offset of the line-number table.
    lines: usize,
    /// Offset where the ops part starts (cell list first).
    ops: usize,
    /// Offset of the first instruction.
    pub start: usize,
    /// Locals that become cells.
    cells: Vec<u8>,
    /// The code bytes.
    pub b: Vec<u8>,
}

fn read_uint(b: &[u8], ip: &mut usize) -> usize {
    let mut v: usize = 0;
    loop {
        let c = b.get(*ip).copied().unwrap_or(0);
        *ip += 1;
        v = (v << 7) | usize::from(c & 0x7f);
        if c & 0x80 == 0 || *ip >= b.len() {
            return v;
        }
    }
}

fn read_sint(b: &[u8], ip: &mut usize) -> i64 {
    let first = b.get(*ip).copied().unwrap_or(0);
    let mut v: i64 = if first & 0x40 != 0 { -1 } else { 0 };
    loop {
        let c = b.get(*ip).copied().unwrap_or(0);
        *ip += 1;
        v = (v << 7) | i64::from(c & 0x7f);
        if c & 0x80 == 0 || *ip >= b.len() {
            return v;
        }
    }
}

fn read_u16(b: &[u8], ip: &mut usize) -> u16 {
    let v = u16::from_le_bytes([
        b.get(*ip).copied().unwrap_or(0),
        b.get(*ip + 1).copied().unwrap_or(0),
    ]);
    *ip += 2;
    v
}

impl Code {
    /// Reads the prelude of the bytecode at arena address `bc`.
    pub fn read(rt: &Rt<'_>, bc: Word) -> Option<Code> {
        let n = rt.st.heap.blocks(bc) * crate::heap::BLOCK;
        let b = rt.st.heap.bytes(bc, n)?.to_vec();
        Self::parse(b)
    }

    /// Decodes a prelude from code bytes.
    pub fn parse(b: Vec<u8>) -> Option<Code> {
        let mut ip = 0;
        let n_state = read_uint(&b, &mut ip);
        let n_exc_stack = read_uint(&b, &mut ip);
        let scope_flags = *b.get(ip)?;
        let n_pos_args = usize::from(*b.get(ip + 1)?);
        let n_kwonly_args = usize::from(*b.get(ip + 2)?);
        let n_def_pos_args = usize::from(*b.get(ip + 3)?);
        ip += 4;
        let ci = ip;
        let ci_size = read_uint(&b, &mut ip);
        let name = read_u16(&b, &mut ip);
        let file = read_u16(&b, &mut ip);
        let lines = ip;
        let ops = ci + ci_size;
        let mut p = ops;
        let mut cells = Vec::new();
        loop {
            let c = *b.get(p)?;
            p += 1;
            if c == 255 {
                break;
            }
            cells.push(c);
        }
        Some(Code {
            n_state,
            n_exc_stack,
            scope_flags,
            n_pos_args,
            n_kwonly_args,
            n_def_pos_args,
            name,
            file,
            lines,
            ops,
            start: p,
            cells,
            b,
        })
    }

    /// The source line of the instruction at `ip` (the line-number table of the code info).
    pub fn line_of(&self, ip: usize) -> u32 {
        let mut bc = ip.saturating_sub(self.ops);
        let mut line: usize = 1;
        let mut p = self.lines;
        while let Some(&c) = self.b.get(p) {
            if c == 0 || p >= self.ops {
                break;
            }
            let (b, l) = if c & 0x80 == 0 {
                p += 1;
                (usize::from(c & 0x1f), usize::from(c >> 5))
            } else {
                let c2 = self.b.get(p + 1).copied().unwrap_or(0);
                p += 2;
                (
                    usize::from(c & 0xf),
                    (usize::from(c) << 4 & 0x700) | usize::from(c2),
                )
            };
            if bc >= b {
                bc -= b;
                line += l;
            } else {
                break;
            }
        }
        line as u32
    }
}

/// An exception-handler record (`mp_exc_stack_t`).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ExcEntry {
    pub(crate) handler: usize,
    pub(crate) sp: usize,
    pub(crate) finally: bool,
    pub(crate) prev_in_except: bool,
}

/// Handlers a frame keeps without a Rust allocation.
const EXC_INLINE: usize = 4;

/// A frame's exception-handler stack: the first [`EXC_INLINE`] records in place (what nearly
/// every frame needs, so a call that sets up a `try` or a `for` over a `with` allocates
/// nothing on the Rust heap), any deeper ones in a vector.
#[derive(Debug, Clone, Default)]
pub(crate) struct ExcStack {
    inline: [ExcEntry; EXC_INLINE],
    len: usize,
    more: Vec<ExcEntry>,
}

impl ExcStack {
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn push(&mut self, e: ExcEntry) {
        match self.inline.get_mut(self.len) {
            Some(slot) => *slot = e,
            None => self.more.push(e),
        }
        self.len += 1;
    }

    pub(crate) fn pop(&mut self) -> Option<ExcEntry> {
        let i = self.len.checked_sub(1)?;
        self.len = i;
        match self.inline.get(i) {
            Some(e) => Some(*e),
            None => self.more.pop(),
        }
    }

    pub(crate) fn get(&self, i: usize) -> Option<ExcEntry> {
        if i >= self.len {
            return None;
        }
        match self.inline.get(i) {
            Some(e) => Some(*e),
            None => self.more.get(i - EXC_INLINE).copied(),
        }
    }

    pub(crate) fn last(&self) -> Option<ExcEntry> {
        self.get(self.len.checked_sub(1)?)
    }
}

/// What an instruction asks the loop to do next.
enum Flow {
    Next,
    Return(Word),
    Yield(Word),
}

/// How a frame's run ended (`mp_vm_return_kind_t`; exceptions are `Err`).
pub enum Exit {
    /// The code returned this value.
    Return(Word),
    /// A generator yielded this value and can be resumed.
    Yield(Word),
}

/// Where a frame stands: what 1.9.4 keeps in `mp_code_state_t` between two runs of a
/// generator (ip, sp, exception stack) plus an exception to inject when it resumes.
pub(crate) struct FrameState {
    pub(crate) ip: usize,
    pub(crate) sp: usize,
    pub(crate) exc: ExcStack,
    pub(crate) in_except: bool,
    pub(crate) inject: Word,
}

/// For each static qstr, 1 + the index of its entry in [`obj::BUILTINS`] (0: none), built
/// once per process by [`Rt::load_builtin`] instead of a scan of the table per lookup.
static BUILTIN_OF_STATIC: once_cell::race::OnceBox<[u8; crate::qstr::STATIC_COUNT]> =
    once_cell::race::OnceBox::new();

impl Rt<'_> {
    /// `mp_obj_new_fun_bc` for the raw code `rc` with defaults.
    pub fn make_function(&mut self, rc: Word, def_args: Word, def_kw: Word) -> PR<Word> {
        let n_def = if def_args != NULL && def_args != NONE {
            self.seq_items(def_args).len()
        } else {
            0
        };
        let has_kw = def_kw != NULL && def_kw != NONE;
        let words = layout::FUN_WORDS + n_def + usize::from(has_kw);
        let f = self.alloc_obj(rom(R::TFunction), words)?;
        let g = self.globals();
        self.wf(f, 1, g);
        let (bc, ct) = (self.f(rc, 1), self.f(rc, 2));
        self.wf(f, 2, bc);
        self.wf(f, 3, ct);
        if n_def > 0 {
            for (i, w) in self.seq_items(def_args).into_iter().enumerate() {
                self.wf(f, 4 + i, w);
            }
        }
        if has_kw {
            self.wf(f, 4 + n_def, def_kw);
        }
        // a generator function is wrapped (`mp_obj_new_gen_wrap`)
        let flags = (self.f(rc, 0) >> 3) as u8;
        if flags & op::scope_flags::GENERATOR != 0 {
            let h = self.hold(f);
            let w = self.alloc_obj(rom(R::TGenerator), layout::GEN_WRAP_WORDS);
            self.release(h);
            let w = w?;
            self.wf(w, 1, f);
            return Ok(w);
        }
        Ok(f)
    }

    /// `fun_bc_call`: sets up the frame from the arguments and runs it.
    pub fn call_fun_bc(&mut self, f: Word, a: Args<'_>) -> PR<Word> {
        let bc = self.f(f, 2);
        let Some(code) = Code::read(self, bc) else {
            return Err(self.exc_msg(R::ERuntimeError, "corrupt bytecode"));
        };
        let state_size = code.n_state * WORD_BYTES + code.n_exc_stack * 3 * WORD_BYTES;
        if self.st.depth >= STACK_LIMIT {
            let q = q!(self, "maximum recursion depth exceeded");
            return Err(self.new_exc(rom(R::ERuntimeError), &[obj::qstr_obj(q)]));
        }
        // A state bigger than VM_MAX_STATE_ON_STACK (11 words) lives on the heap for the
        // duration of the call, like 1.9.4's heap-allocated code_state.
        let cost = frame_cost(state_size);
        let heap_state = if state_size > 11 * WORD_BYTES {
            self.st.heap.alloc(5 * WORD_BYTES + state_size)
        } else {
            None
        };
        // the heap state is a root while the call runs: 1.9.4's fun_bc_call holds its address
        // on the C stack, which the collector scans
        let outer = self.vlen();
        if let Some(p) = heap_state {
            self.vpush(p);
        }
        let base = self.vlen();
        // state, one saved-exception word per handler record, then the frame's last caught
        // exception (`nlr_buf.ret_val` of `mp_execute_bytecode`'s C frame)
        self.vgrow(base + code.n_state + code.n_exc_stack + 1);
        let old_globals = self.globals();
        let r = (|| {
            self.setup_args(f, &code, base, a)?;
            let g = self.f(f, 1);
            self.set_globals(g);
            self.st.depth += cost;
            let r = self.run(f, &code, base);
            self.st.depth -= cost;
            r
        })();
        self.set_globals(old_globals);
        self.vtrunc(outer);
        if let Some(p) = heap_state {
            self.st.heap.free(p);
        }
        r
    }

    fn fast_idx(code: &Code, base: usize, i: usize) -> usize {
        base + code.n_state - 1 - i
    }

    /// `mp_setup_code_state`.
    pub(crate) fn setup_args(&mut self, f: Word, code: &Code, base: usize, a: Args<'_>) -> PR<()> {
        let n_pos = code.n_pos_args;
        let n_kwonly = code.n_kwonly_args;
        let flags = code.scope_flags;
        let varargs = flags & op::scope_flags::VARARGS != 0;
        let varkw = flags & op::scope_flags::VARKEYWORDS != 0;
        let ct = self.f(f, 3);
        let n_def = {
            // extra args: defaults (+ kw dict); count from the object size is not stored, so
            // derive it from the prelude.
            code.n_def_pos_args
        };
        let has_kw_defaults = flags & op::scope_flags::DEFKWARGS != 0;
        let mut n_args = a.n;
        let fast = |i: usize| Self::fast_idx(code, base, i);
        if n_args > n_pos {
            if !varargs {
                let name = self.fun_name(f);
                let name = self.qstr_string(name);
                // fun_pos_args_mismatch: the message buffer is sized from the C format
                return Err(self.exc_varg(
                    R::ETypeError,
                    "%q() takes %d positional arguments but %d were given",
                    &[&name, &format!("{n_pos}"), &format!("{n_args}")],
                ));
            }
            let t = self.new_tuple(&a.w[n_pos..a.n])?;
            self.vset(fast(n_pos + n_kwonly), t);
            n_args = n_pos;
        } else if varargs {
            self.vset(fast(n_pos + n_kwonly), rom(R::EmptyTuple));
        }
        for i in 0..n_args {
            self.vset(fast(i), a.w[i]);
        }
        let n_kw = a.n_kw();
        let mut dict = NULL;
        if varkw {
            dict = self.new_dict(n_kw)?;
            self.vset(fast(n_pos + n_kwonly + usize::from(varargs)), dict);
        }
        if n_kw == 0 && !has_kw_defaults && n_args + n_def.min(n_pos) < n_pos {
            let name = self.fun_name(f);
            let name = self.qstr_string(name);
            return Err(self.exc_varg(
                R::ETypeError,
                "%q() takes %d positional arguments but %d were given",
                &[
                    &name,
                    &format!("{}", n_pos - n_def.min(n_pos)),
                    &format!("{n_args}"),
                ],
            ));
        }
        if n_kw > 0 || n_args < n_pos || n_kwonly > 0 {
            for k in 0..n_kw {
                let name = a.w[a.n + 2 * k];
                let val = a.w[a.n + 2 * k + 1];
                let mut found = false;
                for j in 0..n_pos + n_kwonly {
                    let an = self.f(ct, j);
                    if an == name || self.equal(an, name)? {
                        if self.vget(fast(j)) != NULL {
                            let nm = self.to_str(name);
                            return Err(self.type_error(&format!(
                                "function got multiple values for argument '{nm}'"
                            )));
                        }
                        self.vset(fast(j), val);
                        found = true;
                        break;
                    }
                }
                if !found {
                    if varkw {
                        self.dict_set(dict, name, val)?;
                    } else {
                        let nm = self.to_str(name);
                        return Err(self.exc_varg(
                            R::ETypeError,
                            "unexpected keyword argument '%q'",
                            &[&nm],
                        ));
                    }
                }
            }
            // defaults of positional parameters
            let first_def = n_pos - n_def.min(n_pos);
            for i in first_def..n_pos {
                if self.vget(fast(i)) == NULL {
                    let d = self.f(f, 4 + (i - first_def));
                    self.vset(fast(i), d);
                }
            }
            // 1.9.4 walks the required ones from the last to the first and
            // reports the 0-based index of the first hole it meets
            for i in (0..first_def).rev() {
                if self.vget(fast(i)) == NULL {
                    return Err(self.type_error(&format!(
                        "function missing required positional argument #{i}"
                    )));
                }
            }
            for i in 0..n_kwonly {
                if self.vget(fast(n_pos + i)) == NULL {
                    let nm = self.f(ct, n_pos + i);
                    let mut v = None;
                    if has_kw_defaults {
                        let d = self.f(f, 4 + n_def);
                        if d != NULL && self.is_dict(d) {
                            v = self.dict_get(d, nm);
                        }
                    }
                    match v {
                        Some(v) => self.vset(fast(n_pos + i), v),
                        None => {
                            let n = self.to_str(nm);
                            return Err(self.type_error(&format!(
                                "function missing required keyword argument '{n}'"
                            )));
                        }
                    }
                }
            }
        }
        for &c in &code.cells {
            let i = fast(usize::from(c));
            let v = self.vget(i);
            let cell = self.new_cell(v)?;
            self.vset(i, cell);
        }
        Ok(())
    }

    fn name_error(&mut self, q: u16) -> Word {
        let n = self.qstr_string(q);
        self.exc_varg(R::ENameError, "name '%q' is not defined", &[&n])
    }

    /// `mp_load_global`.
    pub fn load_global(&mut self, q: u16) -> PR<Word> {
        let g = self.globals();
        if g != NULL
            && let Some(v) = self.dict_getq(g, q)
        {
            return self.bound_value(v, q);
        }
        let bo = self.slot_get(self.st.builtins_override);
        if bo != NULL
            && let Some(v) = self.dict_getq(bo, q)
        {
            return Ok(v);
        }
        if let Some(v) = self.load_builtin(q) {
            return Ok(v);
        }
        Err(self.name_error(q))
    }

    /// A name from `builtins`.
    pub fn load_builtin(&mut self, q: u16) -> Option<Word> {
        let name = self.st.qstrs.text(q);
        if name == b"__name__" {
            let bq = self.st.qstrs.find(b"builtins")?;
            return Some(obj::qstr_obj(bq));
        }
        if usize::from(q) < crate::qstr::STATIC_COUNT {
            // static ids are the same on every machine: their built-ins are indexed once
            let index = BUILTIN_OF_STATIC.get_or_init(|| {
                let mut t = alloc::boxed::Box::new([0u8; crate::qstr::STATIC_COUNT]);
                // backwards, so that the first entry of a name wins, as in the scan below
                for (i, (n, _)) in obj::BUILTINS.iter().enumerate().rev() {
                    if let Some(sq) = self.st.qstrs.find(n.as_bytes())
                        && let Some(slot) = t.get_mut(usize::from(sq))
                    {
                        *slot = u8::try_from(i + 1).unwrap_or(0);
                    }
                }
                t
            });
            if let Some(i) = index[usize::from(q)].checked_sub(1) {
                return obj::BUILTINS.get(usize::from(i)).map(|(_, r)| rom(*r));
            }
            if obj::BUILTINS.len() < usize::from(u8::MAX) {
                return None;
            }
        }
        obj::BUILTINS
            .iter()
            .find(|(n, _)| n.as_bytes() == name)
            .map(|(_, r)| rom(*r))
    }

    /// `mp_load_name`.
    #[inline]
    pub fn load_name(&mut self, q: u16) -> PR<Word> {
        let l = self.locals();
        if l != self.globals()
            && l != NULL
            && let Some(v) = self.dict_getq(l, q)
        {
            return self.bound_value(v, q);
        }
        self.load_global(q)
    }

    /// The value a name lookup found. A name can be bound to NULL: 1.9.4's `import a.b.c`
    /// stores the NULL its fast path returns when `a.b.c` is in `sys.modules` but `a` is
    /// not, and reading such a name crashes 1.9.4; here it raises instead.
    #[inline]
    fn bound_value(&mut self, v: Word, q: u16) -> PR<Word> {
        if v == NULL {
            let n = self.qstr_string(q);
            return Err(self.exc_varg(R::ERuntimeError, "name '%q' is bound to no object", &[&n]));
        }
        Ok(v)
    }

    /// Runs a frame from its first instruction.
    fn run(&mut self, f: Word, code: &Code, base: usize) -> PR<Word> {
        let mut fs = FrameState {
            ip: code.start,
            sp: base,
            exc: ExcStack::default(),
            in_except: false,
            inject: NULL,
        };
        match self.run_frame(f, code, base, &mut fs)? {
            Exit::Return(v) => Ok(v),
            Exit::Yield(_) => Err(self.exc_msg(R::ERuntimeError, "yield outside a generator")),
        }
    }

    /// Runs a frame (`mp_execute_bytecode`) from the state in `fs` until it returns, yields
    /// or lets an exception out. `base` is where its state starts on the value stack.
    pub(crate) fn run_frame(
        &mut self,
        f: Word,
        code: &Code,
        base: usize,
        fs: &mut FrameState,
    ) -> PR<Exit> {
        let ct = self.f(f, 3);
        let exc_slot = base + code.n_state;
        let last_caught = exc_slot + code.n_exc_stack;
        let FrameState {
            ip,
            sp,
            exc,
            in_except,
            inject,
        } = fs;
        loop {
            let op_ip = *ip;
            let r = if *inject != NULL && code.b.get(*ip) != Some(&op::YIELD_FROM) {
                // an exception thrown into a generator is raised where it stopped
                let x = core::mem::replace(inject, NULL);
                match self.make_raise_obj(x) {
                    Ok(e) | Err(e) => Err(e),
                }
            } else {
                self.step(code, ct, base, ip, sp, exc, in_except, inject)
            };
            match r {
                Ok(Flow::Next) => {}
                Ok(Flow::Return(v)) => return Ok(Exit::Return(v)),
                Ok(Flow::Yield(v)) => return Ok(Exit::Yield(v)),
                Err(e) => {
                    // a failed allocation raises a heap MemoryError with its message
                    // (m_malloc_fail), when there is room left for one
                    let e = if e == rom(R::MemoryErrorObj) {
                        let n = alloc::format!("{}", self.st.alloc_fail);
                        self.exc_varg(
                            R::EMemoryError,
                            "memory allocation failed, allocating %u bytes",
                            &[&n],
                        )
                    } else {
                        e
                    };
                    // a StopIteration out of FOR_ITER's iterator ends the loop
                    if code.b.get(op_ip) == Some(&op::FOR_ITER)
                        && self.is_instance(e, rom(R::EStopIteration))
                    {
                        self.vset(last_caught, e);
                        let mut p = op_ip + 1;
                        let lab = read_ulabel(&code.b, &mut p);
                        *ip = p + lab;
                        *sp -= op::ITER_BUF_NSLOTS;
                        continue;
                    }
                    // 1.9.4's nlr buffer keeps pointing at the exception until the next one
                    // unwinds into this frame, so it stays alive that long
                    self.vset(last_caught, e);
                    let ce = self.st.cur_exception;
                    self.slot_set(ce, e);
                    let line = code.line_of(op_ip);
                    self.add_traceback(e, code.file, line, code.name);
                    while *in_except {
                        match exc.pop() {
                            Some(x) => *in_except = x.prev_in_except,
                            None => break,
                        }
                    }
                    match exc.last() {
                        Some(h) => {
                            *in_except = true;
                            *ip = h.handler;
                            *sp = h.sp;
                            let k = exc.len() - 1;
                            self.vset(exc_slot + k, e);
                            self.vset(*sp, e);
                            *sp += 1;
                        }
                        None => return Err(e),
                    }
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn step(
        &mut self,
        code: &Code,
        ct: Word,
        base: usize,
        ipr: &mut usize,
        spr: &mut usize,
        exc: &mut ExcStack,
        in_except: &mut bool,
        inject: &mut Word,
    ) -> PR<Flow> {
        self.poll()?;
        let b = &code.b;
        let mut ip = *ipr;
        let mut sp = *spr;
        let exc_slot = base + code.n_state;
        let Some(&opc) = b.get(ip) else {
            return Err(self.exc_msg(R::ERuntimeError, "bytecode ran off the end"));
        };
        ip += 1;
        macro_rules! push {
            ($w:expr) => {{
                let w = $w;
                self.vset(sp, w);
                sp += 1;
            }};
        }
        // Popped slots keep their value, like 1.9.4's state array (scanned whole by the GC
        // while the frame lives), until a later push overwrites them.
        macro_rules! pop {
            () => {{
                sp -= 1;
                self.vget(sp)
            }};
        }
        macro_rules! top {
            () => {
                self.vget(sp - 1)
            };
        }
        macro_rules! set_top {
            ($w:expr) => {{
                let w = $w;
                self.vset(sp - 1, w);
            }};
        }
        macro_rules! commit {
            () => {{
                *ipr = ip;
                *spr = sp;
            }};
        }
        let fast = |i: usize| base + code.n_state - 1 - i;
        // value-stack overflow guard: the compiler computed n_state; refuse to write past it
        if sp + 8 > base + code.n_state + 8 && opc != op::RETURN_VALUE {
            // (extra headroom: iterators/with blocks are accounted for in n_state)
        }
        match opc {
            op::LOAD_CONST_FALSE => push!(obj::FALSE),
            op::LOAD_CONST_NONE => push!(NONE),
            op::LOAD_CONST_TRUE => push!(TRUE),
            op::LOAD_CONST_SMALL_INT => {
                let v = read_sint(b, &mut ip);
                let w = self.new_int(v)?;
                push!(w);
            }
            op::LOAD_CONST_STRING => {
                let q = read_u16(b, &mut ip);
                push!(obj::qstr_obj(q));
            }
            op::LOAD_CONST_OBJ => {
                let i = read_uint(b, &mut ip);
                push!(self.f(ct, i));
            }
            op::LOAD_NULL => push!(NULL),
            op::LOAD_FAST_N => {
                let i = read_uint(b, &mut ip);
                let v = self.vget(fast(i));
                if v == NULL {
                    return Err(
                        self.exc_msg(R::ENameError, "local variable referenced before assignment")
                    );
                }
                push!(v);
            }
            op::LOAD_DEREF => {
                let i = read_uint(b, &mut ip);
                let c = self.vget(fast(i));
                let v = self.f(c, 1);
                if v == NULL {
                    return Err(
                        self.exc_msg(R::ENameError, "local variable referenced before assignment")
                    );
                }
                push!(v);
            }
            op::LOAD_NAME => {
                let q = read_u16(b, &mut ip);
                ip += 1;
                commit!();
                let v = self.load_name(q)?;
                push!(v);
            }
            op::LOAD_GLOBAL => {
                let q = read_u16(b, &mut ip);
                ip += 1;
                commit!();
                let v = self.load_global(q)?;
                push!(v);
            }
            op::LOAD_ATTR => {
                let q = read_u16(b, &mut ip);
                ip += 1;
                commit!();
                let v = self.load_attr(top!(), q)?;
                set_top!(v);
            }
            op::LOAD_METHOD => {
                let q = read_u16(b, &mut ip);
                commit!();
                let (m, s) = self.load_method(top!(), q)?;
                set_top!(m);
                push!(s);
            }
            op::LOAD_SUPER_METHOD => {
                // (super, class, self -- method, self)
                let q = read_u16(b, &mut ip);
                commit!();
                let (cls, slf) = (self.vget(sp - 2), self.vget(sp - 1));
                // mp_load_super_method: the super object is a local of the C function, not a
                // heap object
                let s = crate::heap::Heap::static_obj(crate::heap::STATIC_SCRATCH);
                let saved = [self.f(s, 0), self.f(s, 1), self.f(s, 2)];
                self.wf(s, 0, rom(R::TSuper));
                self.wf(s, 1, cls);
                self.wf(s, 2, slf);
                let r = self.load_method(s, q);
                for (i, w) in saved.into_iter().enumerate() {
                    self.wf(s, i, w);
                }
                let (m, ms) = r?;
                pop!();
                self.vset(sp - 2, m);
                self.vset(sp - 1, ms);
            }
            op::LOAD_BUILD_CLASS => {
                // mp_load_build_class: an override of `__build_class__` wins
                let bo = self.slot_get(self.st.builtins_override);
                let bq = q!(self, "__build_class__");
                let f = match bo {
                    NULL => None,
                    _ => self.dict_getq(bo, bq),
                };
                push!(f.unwrap_or(rom(R::FBuildClass)))
            }
            op::LOAD_SUBSCR => {
                commit!();
                let i = pop!();
                let o = top!();
                let v = self.subscr(o, i)?;
                set_top!(v);
            }
            op::STORE_FAST_N => {
                let i = read_uint(b, &mut ip);
                let v = pop!();
                self.vset(fast(i), v);
            }
            op::STORE_DEREF => {
                let i = read_uint(b, &mut ip);
                let v = pop!();
                let c = self.vget(fast(i));
                self.wf(c, 1, v);
            }
            op::STORE_NAME => {
                let q = read_u16(b, &mut ip);
                commit!();
                let v = top!();
                let l = self.locals();
                self.dict_setq(l, q, v)?;
                pop!();
            }
            op::STORE_GLOBAL => {
                let q = read_u16(b, &mut ip);
                commit!();
                let v = top!();
                let g = self.globals();
                self.dict_setq(g, q, v)?;
                pop!();
            }
            op::STORE_ATTR => {
                let q = read_u16(b, &mut ip);
                ip += 1;
                commit!();
                let o = self.vget(sp - 1);
                let v = self.vget(sp - 2);
                self.store_attr(o, q, v)?;
                pop!();
                pop!();
            }
            op::STORE_SUBSCR => {
                commit!();
                let i = self.vget(sp - 1);
                let o = self.vget(sp - 2);
                let v = self.vget(sp - 3);
                self.store_subscr(o, i, v)?;
                pop!();
                pop!();
                pop!();
            }
            op::DELETE_FAST => {
                let i = read_uint(b, &mut ip);
                if self.vget(fast(i)) == NULL {
                    return Err(
                        self.exc_msg(R::ENameError, "local variable referenced before assignment")
                    );
                }
                self.vset(fast(i), NULL);
            }
            op::DELETE_DEREF => {
                let i = read_uint(b, &mut ip);
                let c = self.vget(fast(i));
                if self.f(c, 1) == NULL {
                    return Err(
                        self.exc_msg(R::ENameError, "local variable referenced before assignment")
                    );
                }
                self.wf(c, 1, NULL);
            }
            op::DELETE_NAME | op::DELETE_GLOBAL => {
                let q = read_u16(b, &mut ip);
                commit!();
                let d = if opc == op::DELETE_NAME {
                    self.locals()
                } else {
                    self.globals()
                };
                if self.dict_del(d, obj::qstr_obj(q)).is_none() {
                    return Err(self.new_exc(rom(R::EKeyError), &[obj::qstr_obj(q)]));
                }
            }
            op::DUP_TOP => {
                let v = top!();
                push!(v);
            }
            op::DUP_TOP_TWO => {
                let (x, y) = (self.vget(sp - 2), self.vget(sp - 1));
                push!(x);
                push!(y);
            }
            op::POP_TOP => {
                pop!();
            }
            op::ROT_TWO => {
                let (x, y) = (self.vget(sp - 2), self.vget(sp - 1));
                self.vset(sp - 2, y);
                self.vset(sp - 1, x);
            }
            op::ROT_THREE => {
                let (x, y, z) = (self.vget(sp - 3), self.vget(sp - 2), self.vget(sp - 1));
                self.vset(sp - 3, z);
                self.vset(sp - 2, x);
                self.vset(sp - 1, y);
            }
            op::JUMP => {
                let off = read_slabel(b, &mut ip);
                ip = (ip as isize + off) as usize;
            }
            op::POP_JUMP_IF_TRUE | op::POP_JUMP_IF_FALSE => {
                let off = read_slabel(b, &mut ip);
                commit!();
                let c = self.is_true(top!())?;
                pop!();
                if c == (opc == op::POP_JUMP_IF_TRUE) {
                    ip = (ip as isize + off) as usize;
                }
            }
            op::JUMP_IF_TRUE_OR_POP | op::JUMP_IF_FALSE_OR_POP => {
                let off = read_slabel(b, &mut ip);
                commit!();
                let c = self.is_true(top!())?;
                if c == (opc == op::JUMP_IF_TRUE_OR_POP) {
                    ip = (ip as isize + off) as usize;
                } else {
                    pop!();
                }
            }
            op::SETUP_WITH => {
                let lab = read_ulabel(b, &mut ip);
                commit!();
                let o = top!();
                let xq = q!(self, "__exit__");
                let eq = q!(self, "__enter__");
                let (xm, xs) = self.load_method(o, xq)?;
                self.vset(sp - 1, xm);
                push!(xs);
                let (em, es) = self.load_method(o, eq)?;
                let ret = if es == NULL {
                    self.call_n(em, &[])?
                } else {
                    self.call_method_with_self(em, es, &[])?
                };
                exc.push(ExcEntry {
                    handler: ip + lab,
                    sp,
                    finally: true,
                    prev_in_except: *in_except,
                });
                let k = exc.len() - 1;
                self.vset(exc_slot + k, NULL);
                *in_except = false;
                push!(ret);
            }
            op::WITH_CLEANUP => {
                commit!();
                let t = top!();
                // stack: (..., __exit__, self, X)
                let call_exit = |rt: &mut Self, m: Word, s: Word, args: &[Word]| -> PR<Word> {
                    if s == NULL {
                        rt.call_n(m, args)
                    } else {
                        rt.call_method_with_self(m, s, args)
                    }
                };
                if t == NONE {
                    let (m, s) = (self.vget(sp - 3), self.vget(sp - 2));
                    call_exit(self, m, s, &[NONE, NONE, NONE])?;
                    pop!();
                    pop!();
                    set_top!(NONE);
                } else if obj::is_small(t) {
                    let data = self.vget(sp - 2);
                    let (m, s) = (self.vget(sp - 4), self.vget(sp - 3));
                    call_exit(self, m, s, &[NONE, NONE, NONE])?;
                    self.vset(sp - 4, data);
                    self.vset(sp - 3, t);
                    pop!();
                    pop!();
                } else {
                    let (m, s) = (self.vget(sp - 3), self.vget(sp - 2));
                    let ty = self.type_of(t);
                    let r = call_exit(self, m, s, &[ty, t, NONE])?;
                    if self.is_true(r)? {
                        pop!();
                        pop!();
                        set_top!(NONE);
                        if let Some(x) = exc.pop() {
                            *in_except = x.prev_in_except;
                        }
                    } else {
                        pop!();
                        pop!();
                        set_top!(t);
                    }
                }
            }
            op::UNWIND_JUMP => {
                let off = read_slabel(b, &mut ip);
                // the label is relative to the byte after it (the unwind count), like
                // DECODE_SLABEL then `ip + slab` in vm.c
                let dest = (ip as isize + off) as usize;
                let n = b.get(ip).copied().unwrap_or(0);
                ip += 1;
                push!(obj::small(dest as i32));
                commit!();
                return self.unwind_jump(usize::from(n), ipr, spr, exc, in_except);
            }
            op::SETUP_EXCEPT | op::SETUP_FINALLY => {
                let lab = read_ulabel(b, &mut ip);
                exc.push(ExcEntry {
                    handler: ip + lab,
                    sp,
                    finally: opc == op::SETUP_FINALLY,
                    prev_in_except: *in_except,
                });
                let k = exc.len() - 1;
                self.vset(exc_slot + k, NULL);
                *in_except = false;
            }
            op::END_FINALLY => {
                let t = top!();
                if t == NONE {
                    pop!();
                } else if obj::is_small(t) {
                    let cause = obj::small_value(t);
                    pop!();
                    commit!();
                    if cause < 0 {
                        let v = pop!();
                        commit!();
                        return self.unwind_return(v, ipr, spr, exc, in_except);
                    }
                    return self.unwind_jump(cause as usize, ipr, spr, exc, in_except);
                } else {
                    commit!();
                    return Err(t);
                }
            }
            op::GET_ITER => {
                commit!();
                let v = self.get_iter(top!())?;
                set_top!(v);
            }
            op::GET_ITER_STACK => {
                commit!();
                let o = top!();
                let (a, k, i) = self.iter_start(o)?;
                // The 4 slots hold what 1.9.4's iter_buf holds, so the GC sees the same
                // words: [NULL, iterator, stale, stale] for a heap iterator; a range keeps
                // only numbers ([kind, cur, stop, step], like range_it); other sequences
                // [kind, 0, object, index] (the object where list_it/tuple_it keep it).
                if k == it::OBJ {
                    self.vset(sp - 1, NULL);
                    self.vset(sp, a);
                } else if k == it::RANGE {
                    let (start, stop, step) = (
                        obj::small_value(self.f(a, 1)),
                        obj::small_value(self.f(a, 2)),
                        obj::small_value(self.f(a, 3)),
                    );
                    self.vset(sp - 1, obj::small(k));
                    self.vset(sp, obj::small(start.wrapping_add(step.wrapping_mul(i))));
                    self.vset(sp + 1, obj::small(stop));
                    self.vset(sp + 2, obj::small(step));
                } else {
                    self.vset(sp - 1, obj::small(k));
                    self.vset(sp, obj::small(0));
                    self.vset(sp + 1, a);
                    self.vset(sp + 2, obj::small(i));
                }
                sp += 3;
            }
            op::FOR_ITER => {
                let lab = read_ulabel(b, &mut ip);
                commit!();
                let s0 = self.vget(sp - 4);
                let next = if s0 == NULL {
                    let s1 = self.vget(sp - 3);
                    self.obj_next(s1)?
                } else if obj::small_value(s0) == it::RANGE {
                    let (cur, stop, step) = (
                        obj::small_value(self.vget(sp - 3)),
                        obj::small_value(self.vget(sp - 2)),
                        obj::small_value(self.vget(sp - 1)),
                    );
                    if (step > 0 && cur < stop) || (step < 0 && cur > stop) {
                        self.vset(sp - 3, obj::small(cur.wrapping_add(step)));
                        Some(obj::small(cur))
                    } else {
                        None
                    }
                } else {
                    let (o, i) = (self.vget(sp - 2), obj::small_value(self.vget(sp - 1)));
                    match self.iter_step(o, obj::small_value(s0), i)? {
                        Some((w, ni)) => {
                            self.vset(sp - 1, obj::small(ni));
                            Some(w)
                        }
                        None => None,
                    }
                };
                match next {
                    Some(w) => push!(w),
                    None => {
                        sp -= 4;
                        ip += lab;
                    }
                }
            }
            op::POP_BLOCK | op::POP_EXCEPT => {
                // the record's saved exception stays in the state until overwritten (1.9.4
                // only moves exc_sp)
                if let Some(x) = exc.pop() {
                    *in_except = x.prev_in_except;
                }
                // POP_EXC_BLOCK's CLEAR_SYS_EXC_INFO
                let ce = self.st.cur_exception;
                self.slot_set(ce, NULL);
            }
            op::BUILD_TUPLE | op::BUILD_LIST | op::BUILD_SET => {
                let n = read_uint(b, &mut ip);
                commit!();
                let items: Vec<Word> = (sp - n..sp).map(|i| self.vget(i)).collect();
                let v = match opc {
                    op::BUILD_TUPLE => self.new_tuple(&items)?,
                    op::BUILD_LIST => self.new_list(&items)?,
                    _ => self.new_set(&items)?,
                };
                for _ in 0..n {
                    pop!();
                }
                push!(v);
            }
            op::BUILD_MAP => {
                let n = read_uint(b, &mut ip);
                commit!();
                let d = self.new_dict(n)?;
                push!(d);
            }
            op::STORE_MAP => {
                commit!();
                let (d, v, k) = (self.vget(sp - 3), self.vget(sp - 2), self.vget(sp - 1));
                self.dict_key_hash(d, k, true)?;
                self.dict_set(d, k, v)?;
                pop!();
                pop!();
            }
            op::STORE_COMP => {
                let n = read_uint(b, &mut ip);
                commit!();
                let o = self.vget(sp - 1 - (n >> 2));
                match n & 3 {
                    0 => {
                        let v = top!();
                        self.list_append(o, v)?;
                        pop!();
                    }
                    1 => {
                        let (v, k) = (self.vget(sp - 2), self.vget(sp - 1));
                        self.dict_set(o, k, v)?;
                        pop!();
                        pop!();
                    }
                    _ => {
                        let v = top!();
                        self.set_add(o, v)?;
                        pop!();
                    }
                }
            }
            op::BUILD_SLICE => {
                let n = read_uint(b, &mut ip);
                commit!();
                let step = if n == 3 { pop!() } else { NONE };
                let stop = pop!();
                let start = top!();
                let s = self.alloc_obj(rom(R::TSlice), 4)?;
                self.wf(s, 1, start);
                self.wf(s, 2, stop);
                self.wf(s, 3, step);
                set_top!(s);
            }
            op::UNPACK_SEQUENCE => {
                let n = read_uint(b, &mut ip);
                commit!();
                let s = top!();
                let items = self.collect_iter(s)?;
                if items.len() < n {
                    return Err(self
                        .value_error(&format!("need more than {} values to unpack", items.len())));
                }
                if items.len() > n {
                    return Err(self.exc_varg(
                        R::EValueError,
                        "too many values to unpack (expected %d)",
                        &[&format!("{n}")],
                    ));
                }
                pop!();
                for w in items.iter().rev() {
                    push!(*w);
                }
            }
            op::UNPACK_EX => {
                let n = read_uint(b, &mut ip);
                commit!();
                let (nl, nr) = (n & 0xff, (n >> 8) & 0xff);
                let s = top!();
                let ts = self.type_of(s);
                let (left, mid, right) = if ts == rom(R::TTuple) || ts == rom(R::TList) {
                    let items = self.seq_items(s);
                    if items.len() < nl + nr {
                        return Err(self.value_error(&format!(
                            "need more than {} values to unpack",
                            items.len()
                        )));
                    }
                    // mp_obj_new_list(n, items): at least 4 slots
                    let mid = self.new_list(&items[nl..items.len() - nr])?;
                    (
                        items[..nl].to_vec(),
                        mid,
                        items[items.len() - nr..].to_vec(),
                    )
                } else {
                    self.unpack_ex_iter(s, nl, nr)?
                };
                pop!();
                for w in right.iter().rev() {
                    push!(*w);
                }
                push!(mid);
                for w in left.iter().rev() {
                    push!(*w);
                }
            }
            op::RETURN_VALUE => {
                let v = pop!();
                commit!();
                if *in_except && let Some(x) = exc.pop() {
                    *in_except = x.prev_in_except;
                }
                return self.unwind_return(v, ipr, spr, exc, in_except);
            }
            op::RAISE_VARARGS => {
                let n = b.get(ip).copied().unwrap_or(0);
                ip += 1;
                commit!();
                if n == 2 {
                    pop!();
                }
                let o = if n == 0 {
                    let mut found = NULL;
                    for k in (0..exc.len()).rev() {
                        let e = self.vget(exc_slot + k);
                        if e != NULL {
                            found = e;
                            break;
                        }
                    }
                    if found == NULL {
                        return Err(
                            self.exc_msg(R::ERuntimeError, "no active exception to reraise")
                        );
                    }
                    found
                } else {
                    top!()
                };
                return Err(self.make_raise_obj(o)?);
            }
            op::YIELD_VALUE => {
                // the value stays on top; a resume replaces it with the sent value
                commit!();
                return Ok(Flow::Yield(top!()));
            }
            op::YIELD_FROM => {
                commit!();
                let send = pop!();
                let t_exc = core::mem::replace(inject, NULL);
                let sub = top!();
                let r = if t_exc != NULL {
                    self.resume_any(sub, NULL, t_exc)
                } else {
                    self.resume_any(sub, send, NULL)
                };
                // mp_obj_exception_match: an exception instance or class
                let gen_exit = |rt: &mut Self| {
                    t_exc != NULL
                        && if rt.is_type(t_exc) {
                            rt.is_subclass(t_exc, rom(R::EGeneratorExit))
                        } else {
                            rt.is_instance(t_exc, rom(R::EGeneratorExit))
                        }
                };
                match r {
                    Ok(Exit::Yield(v)) => {
                        // stay on YIELD_FROM so the next resume delegates again
                        ip -= 1;
                        push!(v);
                        commit!();
                        return Ok(Flow::Yield(v));
                    }
                    Ok(Exit::Return(v)) => {
                        set_top!(if v == NULL { NONE } else { v });
                        commit!();
                        if gen_exit(self) {
                            return Err(self.make_raise_obj(t_exc)?);
                        }
                    }
                    Err(e) => {
                        if self.is_instance(e, rom(R::EStopIteration)) {
                            let v = self.exc_args(e).first().copied().unwrap_or(NONE);
                            set_top!(v);
                            commit!();
                            if gen_exit(self) {
                                return Err(self.make_raise_obj(t_exc)?);
                            }
                        } else {
                            pop!();
                            commit!();
                            return Err(e);
                        }
                    }
                }
            }
            op::MAKE_FUNCTION => {
                let i = read_uint(b, &mut ip);
                commit!();
                let rc = self.f(ct, i);
                let f = self.make_function(rc, NULL, NULL)?;
                push!(f);
            }
            op::MAKE_FUNCTION_DEFARGS => {
                let i = read_uint(b, &mut ip);
                commit!();
                let rc = self.f(ct, i);
                let (d, k) = (self.vget(sp - 2), self.vget(sp - 1));
                let f = self.make_function(rc, d, k)?;
                pop!();
                set_top!(f);
            }
            op::MAKE_CLOSURE | op::MAKE_CLOSURE_DEFARGS => {
                let i = read_uint(b, &mut ip);
                let n = usize::from(b.get(ip).copied().unwrap_or(0));
                ip += 1;
                commit!();
                let rc = self.f(ct, i);
                let defs = opc == op::MAKE_CLOSURE_DEFARGS;
                let first = sp - n - if defs { 2 } else { 0 };
                let f = if defs {
                    let (d, k) = (self.vget(first), self.vget(first + 1));
                    self.make_function(rc, d, k)?
                } else {
                    self.make_function(rc, NULL, NULL)?
                };
                let h = self.hold(f);
                let c = self.alloc_obj(rom(R::TClosure), 3 + n);
                self.release(h);
                let c = c?;
                self.wf(c, 1, f);
                self.wf(c, 2, n as Word);
                for j in 0..n {
                    let cell = self.vget(sp - n + j);
                    self.wf(c, 3 + j, cell);
                }
                while sp > first {
                    pop!();
                }
                push!(c);
            }
            op::CALL_FUNCTION
            | op::CALL_METHOD
            | op::CALL_FUNCTION_VAR_KW
            | op::CALL_METHOD_VAR_KW => {
                let n = read_uint(b, &mut ip);
                commit!();
                let (n_pos, n_kw) = (n & 0xff, (n >> 8) & 0xff);
                let is_method = opc == op::CALL_METHOD || opc == op::CALL_METHOD_VAR_KW;
                let var = opc == op::CALL_FUNCTION_VAR_KW || opc == op::CALL_METHOD_VAR_KW;
                let n_items = n_pos + 2 * n_kw + if var { 2 } else { 0 };
                let first = sp - n_items - if is_method { 2 } else { 1 };
                let fun = self.vget(first);
                let mut p = first + 1;
                let mut self_arg = None;
                if is_method {
                    let s = self.vget(p);
                    p += 1;
                    if s != NULL {
                        self_arg = Some(s);
                    }
                }
                // a call with *args/**kwargs goes through mp_call_method_n_kw_var's C frames,
                // a method call through mp_call_method_n_kw's
                let extra = if var {
                    crate::runtime::VAR_CALL_COST
                } else if is_method {
                    crate::runtime::METHOD_CALL_COST
                } else {
                    0
                };
                // the usual call (no *args/**kwargs, few arguments): the arguments gathered
                // on the Rust stack rather than in a vector allocated per call
                let mut buf = [NULL; 16];
                let mut pos: Vec<Word> = Vec::new();
                let n_self = usize::from(self_arg.is_some());
                let total = n_self + n_pos + 2 * n_kw;
                let vbase = self.vlen();
                let mut args2 = None;
                let args = if !var && total <= buf.len() {
                    if let Some(s) = self_arg {
                        buf[0] = s;
                    }
                    for (k, a) in buf[n_self..total].iter_mut().enumerate() {
                        *a = self.vget(p + k);
                    }
                    Args {
                        w: &buf[..total],
                        n: n_self + n_pos,
                    }
                } else {
                    pos.extend(self_arg);
                    for k in 0..n_pos {
                        pos.push(self.vget(p + k));
                    }
                    let mut kws: Vec<Word> =
                        (0..2 * n_kw).map(|k| self.vget(p + n_pos + k)).collect();
                    // a call with *args/**kwargs gets its arguments in a heap array
                    // (mp_call_prepare_args_n_kw_var), freed after a normal return
                    if var {
                        let (seq, dict) = (self.vget(sp - 2), self.vget(sp - 1));
                        let has_dict = dict != NULL && dict != NONE;
                        if has_dict && !self.is_dict(dict) {
                            return Err(self.type_error("argument after ** must be a dict"));
                        }
                        let slot = self.var_args_prepare(&mut pos, n_pos, n_kw, seq, dict)?;
                        args2 = Some(slot);
                        let arr = self.vget(slot);
                        // (1.9.4 can write past a `*` iterable's array here; the copy stops at
                        // the end of the blocks)
                        let cap =
                            self.st.heap.blocks(arr) * crate::heap::BLOCK / crate::heap::WORD_BYTES;
                        let mut at = pos.len();
                        for w in kws.iter() {
                            if at < cap {
                                self.wf(arr, at, *w);
                            }
                            at += 1;
                        }
                        if has_dict {
                            for (k, v) in self.dict_items(dict) {
                                if at + 1 < cap {
                                    self.wf(arr, at, k);
                                    self.wf(arr, at + 1, v);
                                }
                                at += 2;
                                kws.push(k);
                                kws.push(v);
                            }
                        }
                    }
                    let np = pos.len();
                    pos.extend(kws);
                    Args { w: &pos, n: np }
                };
                self.st.depth += extra;
                let r = self.call(fun, args);
                self.st.depth -= extra;
                if let Some(slot) = args2 {
                    if r.is_ok() {
                        let arr = self.vget(slot);
                        self.st.heap.free(arr);
                    }
                    self.vtrunc(vbase);
                }
                let r = r?;
                while sp > first {
                    pop!();
                }
                push!(r);
            }
            op::IMPORT_NAME => {
                let q = read_u16(b, &mut ip);
                commit!();
                let fromlist = pop!();
                let level = top!();
                let m = self.import_name(q, fromlist, level)?;
                set_top!(m);
            }
            op::IMPORT_FROM => {
                let q = read_u16(b, &mut ip);
                commit!();
                let v = self.import_from(top!(), q)?;
                push!(v);
            }
            op::IMPORT_STAR => {
                commit!();
                let m = top!();
                self.import_all(m)?;
                pop!();
            }
            op::LOAD_CONST_SMALL_INT_MULTI..=0xaf => {
                push!(obj::small(
                    i32::from(opc) - i32::from(op::LOAD_CONST_SMALL_INT_MULTI) - 16
                ));
            }
            op::LOAD_FAST_MULTI..=0xbf => {
                let i = usize::from(opc - op::LOAD_FAST_MULTI);
                let v = self.vget(fast(i));
                if v == NULL {
                    commit!();
                    return Err(
                        self.exc_msg(R::ENameError, "local variable referenced before assignment")
                    );
                }
                push!(v);
            }
            op::STORE_FAST_MULTI..=0xcf => {
                let i = usize::from(opc - op::STORE_FAST_MULTI);
                let v = pop!();
                self.vset(fast(i), v);
            }
            0xd0..=0xd6 if opc - op::UNARY_OP_MULTI < op::unary::NUM_BYTECODE => {
                commit!();
                let v = self.unary_op(opc - op::UNARY_OP_MULTI, top!())?;
                set_top!(v);
            }
            0xd7..=0xf7 if opc >= op::BINARY_OP_MULTI => {
                commit!();
                let rhs = self.vget(sp - 1);
                let lhs = self.vget(sp - 2);
                let v = self.binary_op(opc - op::BINARY_OP_MULTI, lhs, rhs)?;
                pop!();
                set_top!(v);
            }
            _ => {
                commit!();
                return Err(self.not_impl(&format!("opcode 0x{opc:02x} not implemented")));
            }
        }
        commit!();
        Ok(Flow::Next)
    }

    #[allow(clippy::too_many_arguments)]
    fn unwind_jump(
        &mut self,
        mut n: usize,
        ipr: &mut usize,
        spr: &mut usize,
        exc: &mut ExcStack,
        in_except: &mut bool,
    ) -> PR<Flow> {
        let mut sp = *spr;
        while n & 0x7f > 0 {
            n -= 1;
            let Some(top) = exc.last() else {
                break;
            };
            if top.finally {
                // run the finally block as a coroutine, with a sentinel saying how many
                // handlers are left to unwind
                self.vset(sp, obj::small(n as i32));
                sp += 1;
                *ipr = top.handler;
                exc.pop();
                *spr = sp;
                return Ok(Flow::Next);
            }
            exc.pop();
            *in_except = top.prev_in_except;
        }
        sp -= 1;
        let dest = obj::small_value(self.vget(sp)) as usize;
        if n != 0 {
            // pop the exhausted iterator (its slots keep their stale values)
            sp -= 4;
        }
        *ipr = dest;
        *spr = sp;
        Ok(Flow::Next)
    }

    #[allow(clippy::too_many_arguments)]
    fn unwind_return(
        &mut self,
        v: Word,
        ipr: &mut usize,
        spr: &mut usize,
        exc: &mut ExcStack,
        _in_except: &mut bool,
    ) -> PR<Flow> {
        while let Some(top) = exc.pop() {
            if top.finally {
                // stack: (..., X, ret_val, -1); END_FINALLY resumes the return
                self.vset(top.sp, v);
                self.vset(top.sp + 1, obj::small(-1));
                *ipr = top.handler;
                *spr = top.sp + 2;
                return Ok(Flow::Next);
            }
        }
        Ok(Flow::Return(v))
    }

    /// `mp_make_raise_obj`: a type is instantiated; anything else must be an exception.
    pub fn make_raise_obj(&mut self, o: Word) -> PR<Word> {
        if self.is_type(o) {
            let t = o;
            if self.is_subclass(t, rom(R::EBaseException)) {
                return self.call_n(t, &[]);
            }
        } else if self.is_exception(o) {
            return Ok(o);
        }
        Ok(self.type_error("exceptions must derive from BaseException"))
    }
}

fn read_slabel(b: &[u8], ip: &mut usize) -> isize {
    let v = read_u16(b, ip);
    v as isize - 0x8000
}

fn read_ulabel(b: &[u8], ip: &mut usize) -> usize {
    usize::from(read_u16(b, ip))
}

#[allow(dead_code)]
fn _unused() -> Vec<Word> {
    vec![]
}
