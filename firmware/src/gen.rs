//! Generators (py/objgen.c): a generator function is a `fun_bc` wrapped in a 2-word
//! `gen_wrap`; calling it allocates a generator instance holding a heap copy of the code
//! state (ip, sp, exception stack, the `n_state` words of locals and value stack), exactly
//! 1.9.4's `mp_obj_gen_instance_t`. Resuming copies that state onto the VM value stack,
//! runs the frame until it yields, returns or raises, and copies it back.

use crate::heap::Word;
use crate::obj::{self, NONE, NULL, R, layout, rom};
use crate::runtime::{Args, PR, Rt, STACK_LIMIT, q};
use crate::vm::{Code, ExcEntry, ExcStack, Exit, FrameState};

/// Word of the instance's globals.
const G_GLOBALS: usize = 1;
/// Word of the instance's function (`code_state.fun_bc`).
const G_FUN: usize = 2;
/// Word of the resume point (`code_state.ip`; 0 once the generator has finished).
const G_IP: usize = 3;
/// Word of the value-stack depth (`code_state.sp`; 0 before the first resume).
const G_SP: usize = 4;
/// Word of the exception stack: `n_records << 1 | currently_in_except_block`.
const G_EXC: usize = 5;

impl Rt<'_> {
    fn gen_code(&self, fun: Word) -> PR<Code> {
        let bc = self.f(fun, 2);
        match Code::read(self, bc) {
            Some(c) => Ok(c),
            None => Err(rom(R::MemoryErrorObj)),
        }
    }

    /// `gen_wrap_call`: a new generator instance with its arguments bound.
    pub fn gen_new(&mut self, wrap: Word, a: Args<'_>) -> PR<Word> {
        let fun = self.f(wrap, 1);
        let code = self.gen_code(fun)?;
        let words = layout::GEN_HEADER_WORDS + code.n_state + 3 * code.n_exc_stack;
        let g = self.alloc_obj(rom(R::TGenInstance), words)?;
        let h = self.hold(g);
        let globals = self.f(fun, 1);
        self.wf(g, G_GLOBALS, globals);
        self.wf(g, G_FUN, fun);
        let base = self.vlen();
        self.vgrow(base + code.n_state + code.n_exc_stack + 1);
        let r = self.setup_args(fun, &code, base, a);
        if r.is_ok() {
            for i in 0..code.n_state {
                let w = self.vget(base + i);
                self.wf(g, layout::GEN_HEADER_WORDS + i, w);
            }
            self.wf(g, G_IP, code.start as Word);
            self.wf(g, G_SP, 0);
            self.wf(g, G_EXC, 0);
        }
        self.vtrunc(base);
        self.release(h);
        r.map(|()| g)
    }

    /// `mp_obj_gen_resume`: runs the generator until it yields (`Exit::Yield`), returns
    /// (`Exit::Return`, with NULL when it had already finished) or raises (`Err`).
    pub fn gen_resume(&mut self, g: Word, send: Word, throw: Word) -> PR<Exit> {
        let ip = self.f(g, G_IP) as usize;
        if ip == 0 {
            return Ok(Exit::Return(NULL));
        }
        let depth = self.f(g, G_SP) as usize;
        if depth == 0 && send != NONE && send != NULL {
            return Err(self.type_error("can't send non-None value to a just-started generator"));
        }
        if self.st.depth >= STACK_LIMIT {
            let q = q!(self, "maximum recursion depth exceeded");
            return Err(self.new_exc(rom(R::ERuntimeError), &[obj::qstr_obj(q)]));
        }
        let fun = self.f(g, G_FUN);
        let code = self.gen_code(fun)?;
        let (n_state, n_exc) = (code.n_state, code.n_exc_stack);
        let state = layout::GEN_HEADER_WORDS;
        let base = self.vlen();
        self.vgrow(base + n_state + n_exc + 1);
        for i in 0..n_state {
            let w = self.f(g, state + i);
            self.vset(base + i, w);
        }
        let exc_word = self.f(g, G_EXC);
        let mut exc = ExcStack::default();
        for k in 0..n_exc {
            let rec = state + n_state + 3 * k;
            let prev = self.f(g, rec + 2);
            self.vset(base + n_state + k, prev);
            if k < (exc_word >> 1) as usize {
                let flags = self.f(g, rec + 1) as usize;
                exc.push(ExcEntry {
                    handler: self.f(g, rec) as usize,
                    sp: base + (flags >> 2),
                    finally: flags & 2 != 0,
                    prev_in_except: flags & 1 != 0,
                });
            }
        }
        let mut fs = FrameState {
            ip,
            sp: base + depth,
            exc,
            in_except: exc_word & 1 != 0,
            inject: throw,
        };
        if depth > 0 {
            self.vset(fs.sp - 1, send);
        }
        let old_globals = self.globals();
        let globals = self.f(g, G_GLOBALS);
        self.set_globals(globals);
        // the state is on the heap: the frame costs the C frames only
        let cost = crate::runtime::GEN_RESUME_COST;
        self.st.depth += cost;
        let r = self.run_frame(fun, &code, base, &mut fs);
        self.st.depth -= cost;
        self.set_globals(old_globals);
        // save the state back, like the heap code_state 1.9.4 runs in
        match &r {
            Ok(Exit::Yield(_)) => {
                self.wf(g, G_IP, fs.ip as Word);
                self.wf(g, G_SP, (fs.sp - base) as Word);
            }
            Ok(Exit::Return(_)) => self.wf(g, G_IP, 0),
            Err(e) => {
                // the VM leaves the exception in fastn[0]
                self.vset(base + n_state - 1, *e);
                self.wf(g, G_IP, 0);
            }
        }
        for i in 0..n_state {
            let w = self.vget(base + i);
            self.wf(g, state + i, w);
        }
        for k in 0..n_exc {
            let rec = state + n_state + 3 * k;
            if let Some(x) = fs.exc.get(k) {
                let flags = ((x.sp - base) << 2)
                    | (usize::from(x.finally) << 1)
                    | usize::from(x.prev_in_except);
                self.wf(g, rec, x.handler as Word);
                self.wf(g, rec + 1, flags as Word);
            }
            let prev = self.vget(base + n_state + k);
            self.wf(g, rec + 2, prev);
        }
        self.wf(
            g,
            G_EXC,
            ((fs.exc.len() as Word) << 1) | Word::from(fs.in_except),
        );
        self.vtrunc(base);
        r
    }

    /// `mp_resume` for `yield from`: generators directly, other iterators by `next()` or
    /// their `send`/`throw` methods.
    pub(crate) fn resume_any(&mut self, o: Word, send: Word, throw: Word) -> PR<Exit> {
        if self.type_of(o) == rom(R::TGenInstance) {
            return self.gen_resume(o, send, throw);
        }
        if throw != NULL {
            let tq = q!(self, "throw");
            if let Some((m, s)) = self.load_method_maybe(o, tq)? {
                let v = if s == NULL {
                    self.call_n(m, &[throw])?
                } else {
                    self.call_method_with_self(m, s, &[throw])?
                };
                return Ok(Exit::Yield(v));
            }
            return Err(self.make_raise_obj(throw)?);
        }
        if send == NONE || send == NULL {
            return Ok(match self.obj_next(o)? {
                Some(v) => Exit::Yield(v),
                None => Exit::Return(NULL),
            });
        }
        let sq = q!(self, "send");
        let (m, s) = self.load_method(o, sq)?;
        let v = if s == NULL {
            self.call_n(m, &[send])?
        } else {
            self.call_method_with_self(m, s, &[send])?
        };
        Ok(Exit::Yield(v))
    }

    /// `gen_resume_and_raise`: the next value, `None` for a plain end, StopIteration(value)
    /// raised for a `return value`.
    pub fn gen_next(&mut self, g: Word, send: Word, throw: Word) -> PR<Option<Word>> {
        match self.gen_resume(g, send, throw) {
            Ok(Exit::Yield(v)) => Ok(Some(v)),
            Ok(Exit::Return(v)) if v == NONE || v == NULL => Ok(None),
            Ok(Exit::Return(v)) => Err(self.new_exc(rom(R::EStopIteration), &[v])),
            Err(e) => {
                if self.is_instance(e, rom(R::EStopIteration))
                    && self.exc_args(e).first().copied().unwrap_or(NONE) == NONE
                {
                    Ok(None)
                } else {
                    Err(e)
                }
            }
        }
    }

    /// The methods of generator instances: `send`, `throw`, `close`.
    pub fn gen_method(&mut self, r: R, a: Args<'_>) -> PR<Word> {
        let g = a.w.first().copied().unwrap_or(NULL);
        if self.type_of(g) != rom(R::TGenInstance) {
            return Err(self.type_error("generator method on a non-generator"));
        }
        match r {
            R::MGenSend => {
                if a.n != 2 {
                    return Err(self.type_error("function takes 2 positional arguments"));
                }
                match self.gen_next(g, a.w[1], NULL)? {
                    Some(v) => Ok(v),
                    None => Err(self.new_exc(rom(R::EStopIteration), &[])),
                }
            }
            R::MGenThrow => {
                if !(2..=4).contains(&a.n) {
                    return Err(self.type_error("function takes 2 to 4 positional arguments"));
                }
                let exc = if a.n == 2 { a.w[1] } else { a.w[2] };
                match self.gen_next(g, NONE, exc)? {
                    Some(v) => Ok(v),
                    None => Err(self.new_exc(rom(R::EStopIteration), &[])),
                }
            }
            _ => {
                let ge = self.new_exc(rom(R::EGeneratorExit), &[]);
                match self.gen_resume(g, NONE, ge) {
                    Ok(Exit::Yield(_)) => {
                        Err(self.exc_msg(R::ERuntimeError, "generator ignored GeneratorExit"))
                    }
                    Ok(Exit::Return(_)) => Ok(NONE),
                    Err(e) => {
                        if self.is_instance(e, rom(R::EGeneratorExit))
                            || self.is_instance(e, rom(R::EStopIteration))
                        {
                            Ok(NONE)
                        } else {
                            Err(e)
                        }
                    }
                }
            }
        }
    }
}
