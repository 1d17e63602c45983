//! Built-in functions, type constructors, methods of the built-in types and the functions of
//! the built-in modules `sys`, `gc`, `uos` and `micropython` (py/modbuiltins.c, py/obj*.c,
//! py/modsys.c, py/modgc.c, extmod/vfs.c-like `uos` over the [`FileSystem`](crate::fs)).

#[cfg(not(feature = "std"))]
use crate::runtime::FloatExt;
use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use crate::compile::InputKind;
use crate::fs::{FileKind, FsError};
use crate::heap::{BLOCK, Word};
use crate::obj::{self, FALSE, NONE, NULL, R, TRUE, layout, py_bool, rom};
use crate::ops::{int_of, it};
use crate::runtime::{Args, OpenFile, PR, Rt, q};

fn errno_of(e: FsError) -> i32 {
    match e {
        FsError::NotFound => 2,
        FsError::Exists => 17,
        FsError::NotDir => 20,
        FsError::IsDir => 21,
        FsError::NotEmpty => 13,
        FsError::Invalid => 22,
    }
}

impl Rt<'_> {
    pub(crate) fn arg_count(&mut self, a: Args<'_>, min: usize, max: usize) -> PR<()> {
        // mp_arg_check_num (the numbers are formatted only for a message)
        if min == max {
            if a.n != min {
                let (mn, n) = (format!("{min}"), format!("{}", a.n));
                return Err(self.exc_varg(
                    R::ETypeError,
                    "function takes %d positional arguments but %d were given",
                    &[&mn, &n],
                ));
            }
        } else if a.n < min {
            let missing = format!("{}", min - a.n);
            return Err(self.exc_varg(
                R::ETypeError,
                "function missing %d required positional arguments",
                &[&missing],
            ));
        } else if a.n > max {
            let (mx, n) = (format!("{max}"), format!("{}", a.n));
            return Err(self.exc_varg(
                R::ETypeError,
                "function expected at most %d arguments, got %d",
                &[&mx, &n],
            ));
        }
        Ok(())
    }

    /// `mp_arg_check_num` with `takes_kw` false: keyword arguments are refused first.
    pub(crate) fn arg_count_no_kw(&mut self, a: Args<'_>, min: usize, max: usize) -> PR<()> {
        if a.n_kw() > 0 {
            return Err(self.type_error("function does not take keyword arguments"));
        }
        self.arg_count(a, min, max)
    }

    pub(crate) fn kwarg(&mut self, a: Args<'_>, name: &str) -> Option<Word> {
        for k in 0..a.n_kw() {
            let key = a.w[a.n + 2 * k];
            if self.str_bytes(key).as_deref() == Some(name.as_bytes()) {
                return Some(a.w[a.n + 2 * k + 1]);
            }
        }
        None
    }

    fn get_int(&mut self, w: Word) -> PR<i64> {
        match int_of(w) {
            Some(i) => Ok(i64::from(i)),
            None if self.is_big(w) => match self.mpz_of(w).and_then(|z| z.as_int_checked()) {
                Some(v) => Ok(i64::from(v)),
                None => Err(self.exc_msg(
                    R::EOverflowError,
                    "overflow converting long int to machine word",
                )),
            },
            None => {
                let n = self.type_name(w);
                Err(self.exc_varg(R::ETypeError, "can't convert %s to int", &[&n]))
            }
        }
    }

    fn get_str(&mut self, w: Word) -> PR<Vec<u8>> {
        match self.str_bytes(w) {
            Some(b) => Ok(b),
            None => Err(self.bad_implicit_conversion(w)),
        }
    }

    fn os_error(&mut self, e: FsError) -> Word {
        self.new_exc(rom(R::EOSError), &[obj::small(errno_of(e))])
    }

    /// Calls a ROM built-in function or method.
    pub fn call_builtin(&mut self, r: R, a: Args<'_>) -> PR<Word> {
        let p = |i: usize| a.w[i];
        match r {
            R::FBuildClass => self.build_class(a),
            R::FImport => {
                // a VAR_BETWEEN built-in: keyword arguments are refused
                if a.n_kw() > 0 {
                    return Err(self.type_error("function does not take keyword arguments"));
                }
                self.arg_count(a, 1, 5)?;
                let fromlist = if a.n >= 4 { p(3) } else { NONE };
                // MP_OBJ_SMALL_INT_VALUE without a check: any other object's word is read
                // as if it were a small int (heap and ROM addresses come out positive)
                let level = if a.n >= 5 { obj::small_value(p(4)) } else { 0 };
                self.builtin_import(p(0), fromlist, level)
            }
            R::FAbs => {
                self.arg_count(a, 1, 1)?;
                if let Some(i) = int_of(p(0)) {
                    return self.new_int(i64::from(i).abs());
                }
                if self.is_big(p(0)) {
                    return self.big_unary(p(0), 2);
                }
                if self.type_of(p(0)) == rom(R::TFloat) {
                    let f = self.float_value(p(0));
                    // float_unary_op hands back the same object when it is not negative
                    return if f < 0.0 {
                        self.new_float(-f)
                    } else {
                        Ok(p(0))
                    };
                }
                let t = self.type_of(p(0));
                if self.is_user_type(t) {
                    let aq = q!(self, "__abs__");
                    if let Some(m) = self.class_lookup(t, aq) {
                        return self.call_method_with_self(m, p(0), &[]);
                    }
                }
                let n = self.type_name(p(0));
                Err(self.exc_varg(
                    R::ETypeError,
                    "unsupported type for %q: '%s'",
                    &["__abs__", &n],
                ))
            }
            R::FAll | R::FAny => {
                self.arg_count(a, 1, 1)?;
                let want = r == R::FAny;
                for w in self.collect_iter(p(0))? {
                    if self.is_true(w)? == want {
                        return Ok(py_bool(want));
                    }
                }
                Ok(py_bool(!want))
            }
            R::FCallable => {
                self.arg_count(a, 1, 1)?;
                let t = self.type_of(p(0));
                let ok = [
                    R::TFunction,
                    R::TClosure,
                    R::TBoundMeth,
                    R::TBuiltin,
                    R::TType,
                    R::TGenerator,
                    R::TCheckedFun,
                ]
                .iter()
                .any(|r| rom(*r) == t)
                    || (self.is_user_type(t) && {
                        let cq = q!(self, "__call__");
                        self.class_lookup(t, cq).is_some()
                    });
                Ok(py_bool(ok))
            }
            R::FChr => {
                self.arg_count(a, 1, 1)?;
                let c = self.get_int(p(0))?;
                match char::from_u32(c as u32) {
                    Some(ch) => {
                        let mut b = [0u8; 4];
                        let s = ch.encode_utf8(&mut b);
                        self.new_str(s.as_bytes())
                    }
                    None => Err(self.value_error("chr() arg not in range(0x110000)")),
                }
            }
            R::FDir => self.builtin_dir(a),
            R::FDivmod => {
                self.arg_count(a, 2, 2)?;
                if self.is_int(p(0)) && self.is_int(p(1)) {
                    return self.int_divmod(p(0), p(1));
                }
                // MP_BINARY_OP_DIVMOD: only the float one remains (mp_obj_float_binary_op)
                let fl = rom(R::TFloat);
                let either_float = self.type_of(p(0)) == fl || self.type_of(p(1)) == fl;
                match (self.num_f64(p(0)), self.num_f64(p(1))) {
                    (Some(x), Some(y)) if either_float => {
                        if y == 0.0 {
                            return Err(self.exc_msg(R::EZeroDivisionError, "division by zero"));
                        }
                        let (d, m) = crate::ops::float_divmod(x, y);
                        let d = self.new_float(d)?;
                        let h = self.hold(d);
                        let m = self.new_float(m);
                        self.release(h);
                        let m = m?;
                        self.new_tuple(&[d, m])
                    }
                    _ => {
                        let (na, nb) = (self.type_name(p(0)), self.type_name(p(1)));
                        Err(self.exc_varg(
                            R::ETypeError,
                            "unsupported types for %q: '%s', '%s'",
                            &["__divmod__", &na, &nb],
                        ))
                    }
                }
            }
            R::FEval | R::FExec => self.eval_exec(a, r == R::FEval),
            R::FGetattr => {
                self.arg_count(a, 2, 3)?;
                let q = self.str_to_qstr(p(1))?;
                match self.load_method_maybe(p(0), q)? {
                    Some((v, s)) if s == NULL => Ok(v),
                    Some((v, s)) => self.new_bound(v, s),
                    None if a.n == 3 => Ok(p(2)),
                    None => Err(self.attr_error(p(0), q)),
                }
            }
            R::FSetattr => {
                self.arg_count(a, 3, 3)?;
                let q = self.str_to_qstr(p(1))?;
                self.store_attr(p(0), q, p(2))?;
                Ok(NONE)
            }
            R::FDelattr => {
                self.arg_count(a, 2, 2)?;
                let q = self.str_to_qstr(p(1))?;
                self.store_attr(p(0), q, NULL)?;
                Ok(NONE)
            }
            R::FGlobals => Ok(self.globals()),
            R::FLocals => Ok(self.locals()),
            R::FHasattr => {
                self.arg_count(a, 2, 2)?;
                let q = self.str_to_qstr(p(1))?;
                match self.load_method_maybe(p(0), q) {
                    Ok(Some(_)) => Ok(TRUE),
                    Ok(None) => Ok(FALSE),
                    Err(e) if self.is_instance(e, rom(R::EAttributeError)) => Ok(FALSE),
                    Err(e) => Err(e),
                }
            }
            R::FHash => {
                self.arg_count(a, 1, 1)?;
                self.hash(p(0))
            }
            R::FId => {
                self.arg_count(a, 1, 1)?;
                let w = p(0);
                self.new_int(i64::from(w & 0x3fff_ffff))
            }
            R::FIsinstance | R::FIssubclass => {
                self.arg_count(a, 2, 2)?;
                let t = if r == R::FIsinstance {
                    self.type_of(p(0))
                } else {
                    if !self.is_type(p(0)) {
                        return Err(self.type_error("issubclass() arg 1 must be a class"));
                    }
                    p(0)
                };
                let cands = if self.is_type(p(1)) {
                    vec![p(1)]
                } else if self.type_of(p(1)) == rom(R::TTuple) || p(1) == rom(R::EmptyTuple) {
                    self.seq_items(p(1))
                } else {
                    return Err(
                        self.type_error("issubclass() arg 2 must be a class or a tuple of classes")
                    );
                };
                for c in cands {
                    // like mp_obj_is_subclass_fast: an item that is not a class (a nested
                    // tuple, an instance) never matches and is not an error
                    if self.is_type(c) && self.is_subclass(t, c) {
                        return Ok(TRUE);
                    }
                }
                Ok(FALSE)
            }
            R::FReversed => {
                self.arg_count(a, 1, 1)?;
                let rq = q!(self, "__reversed__");
                if self.is_user_type(self.type_of(p(0)))
                    && let Some((m, s)) = self.load_method_maybe(p(0), rq)?
                {
                    return self.call_method_with_self(m, s, &[]);
                }
                // mp_obj_reversed_t: base, seq, cur_index (counting down from mp_obj_len,
                // taken once the object is made)
                let r = self.alloc_obj(rom(R::TReversed), 3)?;
                let h = self.hold(r);
                let n = self.call_builtin(R::FLen, Args { w: &a.w[..1], n: 1 });
                self.release(h);
                let n = n?;
                let n = self.get_int(n)?;
                self.wf(r, 1, p(0));
                self.wf(r, 2, obj::small(n as i32));
                Ok(r)
            }
            R::FMpConst => {
                self.arg_count(a, 1, 1)?;
                Ok(p(0))
            }
            R::FIter => {
                self.arg_count(a, 1, 1)?;
                self.get_iter(p(0))
            }
            R::FNext => {
                // 1.9.4's next() takes no default
                self.arg_count(a, 1, 1)?;
                // fun_builtin_1_call and mp_builtin_next sit between the caller and the
                // iterator's own frames
                self.st.depth += crate::runtime::NEXT_CALL_COST;
                let r = self.obj_next(p(0));
                self.st.depth -= crate::runtime::NEXT_CALL_COST;
                match r? {
                    Some(w) => Ok(w),
                    None if a.n == 2 => Ok(p(1)),
                    None => Err(self.new_exc(rom(R::EStopIteration), &[])),
                }
            }
            R::FLen => {
                self.arg_count(a, 1, 1)?;
                if let Some(n) = self.len_of(p(0)) {
                    return self.new_int(n as i64);
                }
                let t = self.type_of(p(0));
                if self.is_user_type(t) {
                    let lq = q!(self, "__len__");
                    if let Some(m) = self.class_lookup(t, lq) {
                        return self.call_method_with_self(m, p(0), &[]);
                    }
                    if let Some(sub) = self.native_sub(p(0)) {
                        return self.call_builtin(R::FLen, Args { w: &[sub], n: 1 });
                    }
                }
                let n = self.type_name(p(0));
                Err(self.exc_varg(R::ETypeError, "object of type '%s' has no len()", &[&n]))
            }
            R::FMax | R::FMin => {
                self.arg_count(a, 1, usize::MAX)?;
                let items = if a.n == 1 {
                    self.collect_iter(p(0))?
                } else {
                    a.w[..a.n].to_vec()
                };
                let key = self.kwarg(a, "key");
                if items.is_empty() {
                    if let Some(d) = self.kwarg(a, "default") {
                        return Ok(d);
                    }
                    return Err(self.value_error("arg is an empty sequence"));
                }
                let base = self.vlen();
                for w in &items {
                    self.vpush(*w);
                }
                let mut best = items[0];
                let mut best_k = match key {
                    Some(k) => self.call_n(k, &[best])?,
                    None => best,
                };
                for w in &items[1..] {
                    let k = match key {
                        Some(kf) => self.call_n(kf, &[*w])?,
                        None => *w,
                    };
                    let op = if r == R::FMax {
                        crate::compile::opcodes::binary::MORE
                    } else {
                        crate::compile::opcodes::binary::LESS
                    };
                    let c = self.binary_op(op, k, best_k)?;
                    if c == TRUE {
                        best = *w;
                        best_k = k;
                    }
                }
                self.vtrunc(base);
                Ok(best)
            }
            R::FOrd => {
                self.arg_count(a, 1, 1)?;
                let b = self.get_str(p(0))?;
                let s = String::from_utf8_lossy(&b);
                let mut cs = s.chars();
                match (cs.next(), cs.next()) {
                    (Some(c), None) => self.new_int(i64::from(c as u32)),
                    _ => Err(self.type_error(&format!(
                        "ord() expected a character, but string of length {} found",
                        s.chars().count()
                    ))),
                }
            }
            // a user __str__ that raises while an argument is printed makes print raise
            R::FPrint => self.take_print_err(|rt| rt.builtin_print(a)),
            R::FRepr => {
                self.arg_count(a, 1, 1)?;
                self.printed_str_of(p(0), true)
            }
            R::FSorted => {
                self.arg_count(a, 1, 1)?;
                // mp_builtin_sorted: list(iterable), which appends item by item, then sort
                let l = self.make_new_rom(R::TList, Args { w: &a.w[..1], n: 1 })?;
                let base = self.vlen();
                self.vpush(l);
                let key = self.kwarg(a, "key");
                let rev = self.kwarg(a, "reverse");
                let r = self.list_sort(l, key.unwrap_or(NONE), rev.unwrap_or(FALSE));
                self.vtrunc(base);
                r.map(|_| l)
            }
            R::FSum => {
                self.arg_count(a, 1, 2)?;
                let mut acc = if a.n == 2 { p(1) } else { obj::small(0) };
                for w in self.collect_iter(p(0))? {
                    acc = self.binary_op(crate::compile::opcodes::binary::ADD, acc, w)?;
                }
                Ok(acc)
            }
            R::FRound => {
                self.arg_count(a, 1, 2)?;
                if self.is_int(p(0)) {
                    return Ok(p(0));
                }
                let f = self.get_float(p(0))?;
                if a.n == 2 {
                    let d = self.get_int(p(1))?;
                    let m = libm_pow10(d as i32);
                    return self.new_float(round_half_even(f * m) / m);
                }
                self.new_int_from_f64(round_half_even(f))
            }
            R::FHex | R::FBin | R::FOct => {
                self.arg_count(a, 1, 1)?;
                if !self.is_int(p(0)) {
                    let n = self.type_name(p(0));
                    return Err(self.exc_varg(R::ETypeError, "can't convert %s to int", &[&n]));
                }
                // hex/oct are '%#x' % x and '%#o' % x, bin is '{:#b}'.format(x) (static qstrs)
                match r {
                    R::FHex => {
                        let f = obj::qstr_obj(q!(self, "%#x"));
                        self.percent_format(f, p(0))
                    }
                    R::FOct => {
                        let f = obj::qstr_obj(q!(self, "%#o"));
                        self.percent_format(f, p(0))
                    }
                    _ => {
                        let f = obj::qstr_obj(q!(self, "{:#b}"));
                        self.str_format(Args {
                            w: &[f, p(0)],
                            n: 2,
                        })
                    }
                }
            }
            R::FPow => {
                self.arg_count(a, 2, 3)?;
                if a.n == 3 {
                    return self.int_pow3(p(0), p(1), p(2));
                }
                self.binary_op(crate::compile::opcodes::binary::POWER, p(0), p(1))
            }
            R::FInput => Err(self.new_exc(rom(R::EEOFError), &[])),
            R::FOpen => self.builtin_open(a),
            // ---------------------------------------------------------------- sys
            R::FSysExit => {
                let args: Vec<Word> = a.w[..a.n].to_vec();
                Err(self.new_exc(rom(R::ESystemExit), &args))
            }
            R::FSysPrintException => {
                self.arg_count(a, 1, 2)?;
                let s = self.format_exc(p(0));
                if a.n == 2 && std_stream_fd(p(1)) != Some(1) {
                    // mp_stream_write_adaptor on the given stream: line by line here
                    for line in s.split_inclusive('\n') {
                        self.stream_write_bytes(p(1), line.as_bytes())?;
                    }
                    return Ok(NONE);
                }
                self.io.write(s.as_bytes());
                Ok(NONE)
            }
            R::FCompile => {
                self.arg_count(a, 3, 6)?;
                let src = self.get_str(p(0))?;
                let src = crate::runtime::lossy(&src).into_owned();
                let file = self.str_to_qstr(p(1))?;
                let mode = self.str_to_qstr(p(2))?;
                let kind = match self.qstr_string(mode).as_str() {
                    "single" => InputKind::Single,
                    "exec" => InputKind::File,
                    "eval" => InputKind::Eval,
                    _ => return Err(self.value_error("bad compile mode")),
                };
                let code = self.alloc_obj(rom(R::TCode), 2)?;
                let h = self.hold(code);
                let fun = self.compile_to_fun(&src, file, kind);
                self.release(h);
                self.wf(code, 1, fun?);
                Ok(code)
            }
            R::FJsonLoads => {
                self.arg_count(a, 1, 1)?;
                let Some(text) = self.str_bytes(p(0)) else {
                    let n = self.type_name(p(0));
                    return Err(self.exc_varg(
                        R::ETypeError,
                        "object with buffer protocol required",
                        &[&n],
                    ));
                };
                self.json_loads(&text)
            }
            R::FJsonDumps => {
                self.arg_count(a, 1, 1)?;
                let mut out = String::new();
                self.json_dump(p(0), &mut out, 0)?;
                // mod_ujson_dumps prints into an 8-byte vstr (its writes taken as one here)
                self.new_printed_init(R::TStr, 8, out.as_bytes(), &[out.len()])
            }
            // ---------------------------------------------------------------- gc
            R::FGcCollect => {
                let n = self.st.heap.collect(&[]);
                self.new_int(n as i64)
            }
            R::FGcMemFree => self.new_int(self.st.heap.mem_free() as i64),
            R::FGcMemAlloc => self.new_int(self.st.heap.mem_alloc() as i64),
            R::FGcEnable => {
                self.st.heap.set_auto_collect(true);
                Ok(NONE)
            }
            R::FGcDisable => {
                self.st.heap.set_auto_collect(false);
                Ok(NONE)
            }
            R::FGcIsenabled => Ok(py_bool(self.st.heap.auto_collect())),
            R::FGcThreshold => {
                if a.n == 0 {
                    return match self.st.heap.threshold() {
                        Some(b) => self.new_int(b as i64),
                        None => Ok(obj::small(-1)),
                    };
                }
                let v = self.get_int(p(0))?;
                self.st
                    .heap
                    .set_threshold(if v < 0 { None } else { Some(v as usize) });
                Ok(NONE)
            }
            // ---------------------------------------------------------------- micropython
            R::FMpMemInfo => {
                let s = format!(
                    "mem: total={}, current={}, peak={}\nGC: total: {}, used: {}, free: {}\n",
                    self.st.heap.pool_bytes(),
                    self.st.heap.mem_alloc(),
                    self.st.heap.mem_alloc(),
                    self.st.heap.pool_bytes(),
                    self.st.heap.mem_alloc(),
                    self.st.heap.mem_free()
                );
                self.io.write(s.as_bytes());
                if a.n >= 1 {
                    // gc_dump_alloc_table, heads marked by type like gc.c
                    let heap = &self.st.heap;
                    let head = |p: Word| -> char {
                        match R::from_addr(heap.read_word(p)) {
                            Some(R::TTuple) => 'T',
                            Some(R::TList) => 'L',
                            Some(R::TDict) => 'D',
                            Some(R::TStr) | Some(R::TBytes) => 'S',
                            Some(R::TBytearray) => 'A',
                            Some(R::TFloat) => 'F',
                            Some(R::TFunction) => 'B',
                            Some(R::TModule) => 'M',
                            _ => 'h',
                        }
                    };
                    let t = heap.dump_alloc_table(&head);
                    self.io.write(t.as_bytes());
                }
                Ok(NONE)
            }
            R::FMpQstrInfo => {
                let s = format!("qstr pool: n_total={}\n", self.st.qstrs.len());
                self.io.write(s.as_bytes());
                if a.n >= 1 {
                    // qstr_dump_data: the dynamic qstrs (here oldest first)
                    for q in 571..self.st.qstrs.len() {
                        let line = format!("Q({})\n", self.qstr_string(q as u16));
                        self.io.write(line.as_bytes());
                    }
                }
                Ok(NONE)
            }
            R::FMpHeapLock => {
                self.st.heap.lock();
                Ok(NONE)
            }
            R::FMpHeapUnlock => {
                self.st.heap.unlock();
                Ok(NONE)
            }
            // ---------------------------------------------------------------- uos
            R::FOsListdir => {
                let path = if a.n >= 1 {
                    String::from_utf8_lossy(&self.get_str(p(0))?).into_owned()
                } else {
                    ".".into()
                };
                let names = self.st.fs.list(&path).map_err(|e| self.os_error(e))?;
                let l = self.new_list(&[])?;
                let base = self.vlen();
                self.vpush(l);
                for n in names {
                    let s = self.new_str(n.as_bytes())?;
                    self.list_append(l, s)?;
                }
                self.vtrunc(base);
                Ok(l)
            }
            R::FOsMkdir | R::FOsRmdir | R::FOsRemove | R::FOsChdir => {
                self.arg_count(a, 1, 1)?;
                let path = String::from_utf8_lossy(&self.get_str(p(0))?).into_owned();
                let r = match r {
                    R::FOsMkdir => self.st.fs.mkdir(&path),
                    R::FOsRmdir => self.st.fs.rmdir(&path),
                    R::FOsRemove => self.st.fs.remove(&path),
                    _ => self.st.fs.chdir(&path),
                };
                r.map_err(|e| self.os_error(e))?;
                Ok(NONE)
            }
            R::FOsRename => {
                self.arg_count(a, 2, 2)?;
                let from = String::from_utf8_lossy(&self.get_str(p(0))?).into_owned();
                let to = String::from_utf8_lossy(&self.get_str(p(1))?).into_owned();
                self.st
                    .fs
                    .rename(&from, &to)
                    .map_err(|e| self.os_error(e))?;
                Ok(NONE)
            }
            R::FOsGetcwd => {
                let c = self.st.fs.getcwd();
                self.new_str(c.as_bytes())
            }
            R::FOsStat => {
                self.arg_count(a, 1, 1)?;
                let path = String::from_utf8_lossy(&self.get_str(p(0))?).into_owned();
                let (mode, size) = match self.st.fs.stat(&path) {
                    Some(FileKind::Dir) => (0x4000, 0),
                    Some(FileKind::File) => (0x8000, self.st.fs.read(&path).map_or(0, |d| d.len())),
                    None => return Err(self.os_error(FsError::NotFound)),
                };
                let z = obj::small(0);
                self.new_tuple(&[
                    obj::small(mode),
                    z,
                    z,
                    z,
                    z,
                    z,
                    obj::small(size as i32),
                    z,
                    z,
                    z,
                ])
            }
            _ => self.call_method_builtin(r, a),
        }
    }

    /// `ujson.dumps` (extmod/modujson.c prints with the JSON printer: `", "` and `": "`).
    pub(crate) fn json_dump(&mut self, w: Word, out: &mut String, depth: usize) -> PR<()> {
        if depth > 32 {
            return Err(self.exc_msg(R::ERuntimeError, "maximum recursion depth exceeded"));
        }
        let t = self.type_of(w);
        if w == NONE {
            out.push_str("null");
        } else if w == TRUE {
            out.push_str("true");
        } else if w == FALSE {
            out.push_str("false");
        } else if t == rom(R::TStr) || t == rom(R::TBytes) {
            // str_print/uni_print with PRINT_JSON: mp_str_print_json over the raw bytes (bytes
            // print as a JSON string too)
            let b = self.str_bytes(w).unwrap_or_default();
            let text = if t == rom(R::TStr) {
                String::from_utf8_lossy(&b).into_owned()
            } else {
                b.iter().map(|&c| char::from(c)).collect()
            };
            out.push('"');
            for c in text.chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    '\t' => out.push_str("\\t"),
                    c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
                    c => out.push(c),
                }
            }
            out.push('"');
        } else if t == rom(R::TList) || t == rom(R::TTuple) || w == rom(R::EmptyTuple) {
            self.json_items(&self.seq_items(w), out, depth)?;
        } else if t == rom(R::TDict) || t == rom(R::TOrderedDict) {
            // dict_print: a subtype (OrderedDict) is wrapped in its name even in JSON
            let ordered = t == rom(R::TOrderedDict);
            if ordered {
                out.push_str("OrderedDict(");
            }
            out.push('{');
            for (i, (k, v)) in self.dict_items(w).into_iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                self.json_dump(k, out, depth + 1)?;
                out.push_str(": ");
                self.json_dump(v, out, depth + 1)?;
            }
            out.push('}');
            if ordered {
                out.push(')');
            }
        } else if R::from_addr(t).is_some_and(obj::is_exc_type) {
            // mp_obj_exception_print with PRINT_JSON: no type name, the args as a JSON list
            let args = self.exc_args(w);
            self.json_items(&args, out, depth)?;
        } else if self.is_user_type(t) {
            // instance_print: a __repr__ of the class's own, else the native sub-object printed
            // with the same kind (an exception base after the class name), else the default
            let rq = crate::runtime::q!(self, "__repr__");
            let user_repr = self
                .class_lookup(t, rq)
                .is_some_and(|m| R::from_addr(m).is_none());
            if !user_repr && let Some(sub) = self.native_sub(w) {
                self.json_dump(sub, out, depth + 1)?;
            } else if !user_repr && self.is_exception(w) {
                // the kind carries PRINT_EXC_SUBCLASS, so the args tuple prints as a repr
                self.repr_exc(w, out, depth + 1);
            } else {
                out.push_str(&self.repr(w));
            }
        } else {
            // every other type prints as its repr (ints, floats, sets, arrays, functions...)
            out.push_str(&self.repr(w));
        }
        Ok(())
    }

    /// `print(*args, sep=' ', end='\n', file=...)`.
    fn builtin_print(&mut self, a: Args<'_>) -> PR<Word> {
        let p = |i: usize| a.w[i];
        let sep = self.kwarg(a, "sep").filter(|w| *w != NONE);
        let end = self.kwarg(a, "end").filter(|w| *w != NONE);
        // mp_obj_str_get_data on sep and end before anything is printed
        for w in [sep, end].into_iter().flatten() {
            if self.str_bytes(w).is_none() {
                return Err(self.bad_implicit_conversion(w));
            }
        }
        // the defaults borrowed, and room for a usual line at once: print is the
        // driver's only output, called for every record
        let sep: alloc::borrow::Cow<'_, str> = match sep {
            Some(w) => self.to_str(w).into(),
            None => " ".into(),
        };
        let end: alloc::borrow::Cow<'_, str> = match end {
            Some(w) => self.to_str(w).into(),
            None => "\n".into(),
        };
        let mut out = String::with_capacity(256);
        for i in 0..a.n {
            if i > 0 {
                out.push_str(&sep);
            }
            // a str's text is read in place (what to_str gives for it)
            match crate::runtime::str_data(&self.st.qstrs, &self.st.heap, p(i)) {
                Some((t, d)) if t == rom(R::TStr) => {
                    out.push_str(&crate::runtime::lossy(d));
                }
                _ => {
                    // mp_obj_print_helper's MP_STACK_CHECK, as in repr() and str()
                    if self.print_too_deep(p(i)) {
                        return Err(
                            self.exc_msg(R::ERuntimeError, "maximum recursion depth exceeded")
                        );
                    }
                    let s = self.to_str(p(i));
                    out.push_str(&s);
                }
            }
        }
        out.push_str(&end);
        if let Some(f) = self.kwarg(a, "file")
            && crate::stringio::is_stringio_type(self.type_of(f))
        {
            // the stream's write is called for each piece, as mp_print_t does
            for i in 0..a.n {
                if i > 0 {
                    self.stringio_write(f, sep.as_bytes())?;
                }
                let s = self.to_str(p(i));
                self.stringio_write(f, s.as_bytes())?;
            }
            self.stringio_write(f, end.as_bytes())?;
            return Ok(NONE);
        }
        if let Some(f) = self.kwarg(a, "file")
            && f != NONE
        {
            let s = self.new_str_vstr(out.as_bytes())?;
            let wq = q!(self, "write");
            let (m, slf) = self.load_method(f, wq)?;
            if slf == NULL {
                self.call_n(m, &[s])?;
            } else {
                self.call_method_with_self(m, slf, &[s])?;
            }
            return Ok(NONE);
        }
        self.io.write(out.as_bytes());
        Ok(NONE)
    }

    /// A tuple or list printed with PRINT_JSON: `[a, b]`, items in JSON too.
    fn json_items(&mut self, items: &[Word], out: &mut String, depth: usize) -> PR<()> {
        out.push('[');
        for (i, x) in items.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            self.json_dump(*x, out, depth + 1)?;
        }
        out.push(']');
        Ok(())
    }

    fn build_class(&mut self, a: Args<'_>) -> PR<Word> {
        if a.n < 2 {
            return Err(self.type_error("function missing 2 required positional arguments"));
        }
        let (body, name) = (a.w[0], a.w[1]);
        let old = self.locals();
        let d = self.new_dict(0)?;
        let base = self.vlen();
        self.vpush(d);
        self.set_locals(d);
        // the class body runs below __build_class__'s C frames
        self.st.depth += crate::runtime::BUILD_CLASS_COST;
        let r = self.call_n(body, &[]);
        self.st.depth -= crate::runtime::BUILD_CLASS_COST;
        self.set_locals(old);
        let r = (|| {
            let cell = r?;
            self.vpush(cell);
            let bases = self.new_tuple(&a.w[2..a.n])?;
            self.vpush(bases);
            let meta = if a.n == 2 {
                rom(R::TType)
            } else {
                self.type_of(a.w[2])
            };
            let cls = self.call_n(meta, &[name, bases, d])?;
            if cell != NONE && self.type_of(cell) == rom(R::TCell) {
                self.wf(cell, 1, cls);
            }
            Ok(cls)
        })();
        self.vtrunc(base);
        r
    }

    /// `mp_obj_new_type`: a 15-word type object whose locals are `dict`.
    pub fn new_type(&mut self, name: Word, bases: Word, dict: Word) -> PR<Word> {
        let nq = self.str_to_qstr(name)?;
        let items = self.seq_items(bases);
        for b in &items {
            if !self.is_type(*b) {
                return Err(self.type_error("type is not an acceptable base type"));
            }
        }
        let t = self.alloc_obj(rom(R::TType), layout::TYPE_WORDS)?;
        self.wf(t, layout::TYPE_NAME, u32::from(nq));
        let parent = match items.len() {
            0 => NULL,
            1 => items[0],
            _ => bases,
        };
        self.wf(t, layout::TYPE_PARENT, parent);
        self.wf(t, layout::TYPE_LOCALS, dict);
        Ok(t)
    }

    fn builtin_dir(&mut self, a: Args<'_>) -> PR<Word> {
        let l = self.new_list(&[])?;
        let base = self.vlen();
        self.vpush(l);
        let r = (|| {
            if a.n == 0 {
                let d = self.locals();
                for (k, _) in self.dict_items(d) {
                    self.list_append(l, k)?;
                }
            } else {
                let o = a.w[0];
                let n = self.st.qstrs.len();
                if let Some(found) = self.module_dir_qstrs(o, n) {
                    for q in found {
                        self.list_append(l, obj::qstr_obj(q))?;
                    }
                    return Ok(l);
                }
                // an instance of a user type: its class's __getattr__ is looked up once for
                // the loop, and again only after bytecode has run (a property, __get__ or
                // __getattr__ itself may change classes)
                let t = self.type_of(o);
                let user = self.is_user_type(t);
                let ga = q!(self, "__getattr__");
                for i in 2..n {
                    let q = i as u16;
                    if user
                        && self
                            .st
                            .dir_getattr
                            .is_none_or(|(_, ops, _)| ops != self.op_count())
                    {
                        let m = self.class_lookup(t, ga);
                        self.st.dir_getattr = Some((t, self.op_count(), m));
                    }
                    let found = match self.load_method_maybe(o, q) {
                        Ok(x) => x.is_some(),
                        Err(e) if self.is_instance(e, rom(R::EAttributeError)) => false,
                        Err(e) => return Err(e),
                    };
                    if found {
                        self.list_append(l, obj::qstr_obj(q))?;
                    }
                }
            }
            Ok(l)
        })();
        self.st.dir_getattr = None;
        self.vtrunc(base);
        r
    }

    /// What the per-qstr lookups of `dir(o)` find for a module whose globals dict has only
    /// qstr keys, read off the dict: its keys (a qstr lookup in such a map matches only the
    /// identical key) and `__class__` (found on every object), in qstr order. `None` for
    /// anything else.
    fn module_dir_qstrs(&mut self, o: Word, n: usize) -> Option<Vec<u16>> {
        if self.type_of(o) != rom(R::TModule) {
            return None;
        }
        let g = self.module_dict(o)?;
        let h = crate::map::MapHeader::load(&self.st.heap, g + 4);
        if !h.all_keys_are_qstrs {
            return None;
        }
        let mut found: Vec<u16> = h
            .items(&self.st.heap)
            .into_iter()
            // a key bound to NULL reads as missing (module_attr), so it is not listed
            .filter(|(k, v)| obj::is_qstr(*k) && *v != NULL)
            .map(|(k, _)| obj::qstr_value(k))
            .collect();
        found.push(q!(self, "__class__"));
        found.retain(|q| (2..n).contains(&usize::from(*q)));
        found.sort_unstable();
        found.dedup();
        Some(found)
    }

    fn eval_exec(&mut self, a: Args<'_>, is_eval: bool) -> PR<Word> {
        self.arg_count(a, 1, 3)?;
        let mut globals = self.globals();
        let mut locals = self.locals();
        for i in 1..a.n.min(3) {
            let w = a.w[i];
            if w != NONE {
                if !self.is_dict(w) {
                    return Err(self.new_exc(rom(R::ETypeError), &[]));
                }
                locals = w;
                if i == 1 {
                    globals = w;
                }
            }
        }
        if self.type_of(a.w[0]) == rom(R::TCode) {
            // code_execute: the module function runs with the given globals
            let fun = self.f(a.w[0], 1);
            if self.type_of(fun) == rom(R::TFunction) {
                self.wf(fun, 1, globals);
            }
            let (og, ol) = (self.globals(), self.locals());
            self.set_globals(globals);
            self.set_locals(locals);
            let r = self.call_n(fun, &[]);
            self.set_globals(og);
            self.set_locals(ol);
            return r;
        }
        let src = self.get_str(a.w[0])?;
        let src = crate::runtime::lossy(&src).into_owned();
        let file = q!(self, "<string>");
        let kind = if is_eval {
            InputKind::Eval
        } else {
            InputKind::File
        };
        self.exec_in(&src, file, kind, globals, locals)
    }

    /// `list.sort(key=None, reverse=False)` (a stable insertion sort over the item array).
    pub fn list_sort(&mut self, l: Word, key: Word, reverse: Word) -> PR<()> {
        let len = self.f(l, 2) as usize;
        if len > 1 {
            let blr = if self.is_true(reverse)? { FALSE } else { TRUE };
            let key = if key == NONE { NULL } else { key };
            if key == NULL && self.sort_pure(l, len, blr == TRUE) {
                return Ok(());
            }
            self.quicksort(l, 0, len as isize - 1, key, blr)?;
        }
        Ok(())
    }

    /// [`Rt::quicksort`] without a key over a list of small ints only, or of strs only (or
    /// bytes only): such comparisons run no Python code, allocate nothing and cannot fail, so
    /// the same algorithm run on a copy of the items, compared in place, leaves them in the
    /// same order. `false` (nothing done) for any other list.
    fn sort_pure(&mut self, l: Word, len: usize, blr: bool) -> bool {
        let it = self.f(l, 3);
        let items: Vec<Word> = (0..len).map(|i| self.f(it, i)).collect();
        let last = len as isize - 1;
        let sorted: Vec<Word> = if items.iter().all(|w| obj::is_small(*w)) {
            let mut v: Vec<(Word, i32)> =
                items.iter().map(|w| (*w, obj::small_value(*w))).collect();
            quicksort_pure(&mut v, 0, last, &|a, b| a.1 < b.1, blr);
            v.into_iter().map(|(w, _)| w).collect()
        } else {
            let (qstrs, heap) = (&self.st.qstrs, &self.st.heap);
            let Some(mut v) = items
                .iter()
                .map(|w| crate::runtime::str_data(qstrs, heap, *w).map(|(t, d)| (*w, t, d)))
                .collect::<Option<Vec<_>>>()
            else {
                return false;
            };
            if v.iter().any(|x| x.1 != v[0].1) {
                return false;
            }
            quicksort_pure(&mut v, 0, last, &|a, b| a.2 < b.2, blr);
            v.into_iter().map(|(w, _, _)| w).collect()
        };
        for (i, w) in sorted.into_iter().enumerate() {
            self.wf(it, i, w);
        }
        true
    }

    /// Item `i` of list `l` through the sort key (called again at every comparison, like
    /// 1.9.4).
    fn sort_key(&mut self, l: Word, i: isize, key: Word) -> PR<Word> {
        let w = self.f(self.f(l, 3), i as usize);
        if key == NULL {
            Ok(w)
        } else {
            self.call_n(key, &[w])
        }
    }

    /// 1.9.4's `mp_quicksort` over items `head..=tail` (not stable: equal keys move), with
    /// `blr` the `<` result that keeps an item before the pivot (True, or False to reverse).
    fn quicksort(
        &mut self,
        l: Word,
        mut head: isize,
        mut tail: isize,
        key: Word,
        blr: Word,
    ) -> PR<()> {
        let lt = crate::compile::opcodes::binary::LESS;
        while head < tail {
            let mut h = head - 1;
            let mut t = tail;
            let v = self.sort_key(l, tail, key)?;
            let base = self.vlen();
            self.vpush(v);
            let r = (|| {
                loop {
                    loop {
                        h += 1;
                        if h >= t {
                            break;
                        }
                        let k = self.sort_key(l, h, key)?;
                        if self.binary_op(lt, k, v)? != blr {
                            break;
                        }
                    }
                    loop {
                        t -= 1;
                        if h >= t {
                            break;
                        }
                        let k = self.sort_key(l, t, key)?;
                        if self.binary_op(lt, v, k)? != blr {
                            break;
                        }
                    }
                    if h >= t {
                        break;
                    }
                    let it = self.f(l, 3);
                    let (x, y) = (self.f(it, h as usize), self.f(it, t as usize));
                    self.wf(it, h as usize, y);
                    self.wf(it, t as usize, x);
                }
                Ok::<(), Word>(())
            })();
            self.vtrunc(base);
            r?;
            let it = self.f(l, 3);
            let (x, y) = (self.f(it, h as usize), self.f(it, tail as usize));
            self.wf(it, h as usize, y);
            self.wf(it, tail as usize, x);
            // the smaller part recursively, the other in this loop
            if t - head < tail - h - 1 {
                self.quicksort(l, head, t, key, blr)?;
                head = h + 1;
            } else {
                self.quicksort(l, h + 1, tail, key, blr)?;
                tail = t;
            }
        }
        Ok(())
    }

    /// `ujson.loads` (modujson.c's stream parser): a scratch vstr of 8 bytes that grows like
    /// `vstr_ensure_extra`, and a list used as the stack of open containers.
    pub(crate) fn json_loads(&mut self, s: &[u8]) -> PR<Word> {
        let base = self.vlen();
        let mut vstr_alloc = 8;
        let vstr = self.alloc(vstr_alloc)?;
        let vslot = self.vpush(vstr);
        let r = self.json_parse(s, vslot, &mut vstr_alloc);
        if r.is_ok() {
            let v = self.vget(vslot);
            self.st.heap.free(v);
        }
        self.vtrunc(base);
        r
    }

    fn json_parse(&mut self, s: &[u8], vslot: usize, vstr_alloc: &mut usize) -> PR<Word> {
        let fail = |rt: &mut Self| rt.value_error("syntax error in JSON");
        // the stack of open containers (a list struct on the C stack: only its item array,
        // 4 slots at first, is on the heap), then the current one and a pending dict key
        let stack = self.vpush(NULL);
        let mut stack_alloc = 0usize;
        let top_slot = self.vpush(NULL);
        let key_slot = self.vpush(NULL);
        let mut depth = 0usize;
        let mut buf: Vec<u8> = Vec::new();
        let mut i = 0usize;
        let cur = |i: usize| s.get(i).copied().unwrap_or(0);
        // grows the scratch buffer like vstr_ensure_extra (len + 16, rounded up to 8)
        let grow = |rt: &mut Self, len: usize, alloc: &mut usize| -> PR<()> {
            if len + 1 > *alloc {
                let new_alloc = layout::vstr_grown(len + 1);
                let v = rt.vget(vslot);
                match rt.st.heap.realloc(v, new_alloc, true) {
                    Some(p) => {
                        rt.vset(vslot, p);
                        *alloc = new_alloc;
                    }
                    None => {
                        rt.st.alloc_fail = new_alloc;
                        return Err(rom(R::MemoryErrorObj));
                    }
                }
            }
            Ok(())
        };
        loop {
            if i >= s.len() {
                break;
            }
            let c = s[i];
            i += 1;
            let mut enter = false;
            let next: Word = match c {
                b',' | b':' | b' ' | b'\t' | b'\n' | b'\r' => continue,
                b'n' | b'f' | b't' => {
                    let (word, v): (&[u8], Word) = match c {
                        b'n' => (b"ull", NONE),
                        b'f' => (b"alse", FALSE),
                        _ => (b"rue", TRUE),
                    };
                    if s.get(i..i + word.len()) == Some(word) {
                        i += word.len();
                        v
                    } else {
                        NULL
                    }
                }
                b'"' => {
                    buf.clear();
                    while i < s.len() && s[i] != b'"' {
                        let mut ch = s[i];
                        if ch == b'\\' {
                            i += 1;
                            ch = cur(i);
                            match ch {
                                b'b' => ch = 0x08,
                                b'f' => ch = 0x0c,
                                b'n' => ch = 0x0a,
                                b'r' => ch = 0x0d,
                                b't' => ch = 0x09,
                                b'u' => {
                                    let mut num: u32 = 0;
                                    for _ in 0..4 {
                                        i += 1;
                                        let mut d = (cur(i) | 0x20).wrapping_sub(b'0');
                                        if d > 9 {
                                            d = d.wrapping_sub(b'a' - (b'9' + 1));
                                        }
                                        num = (num << 4) | u32::from(d);
                                    }
                                    let mut tmp = [0u8; 4];
                                    let enc = char::from_u32(num)
                                        .unwrap_or('\u{fffd}')
                                        .encode_utf8(&mut tmp);
                                    grow(self, buf.len() + enc.len() - 1, vstr_alloc)?;
                                    buf.extend_from_slice(enc.as_bytes());
                                    i += 1;
                                    continue;
                                }
                                _ => {}
                            }
                        }
                        grow(self, buf.len(), vstr_alloc)?;
                        buf.push(ch);
                        i += 1;
                    }
                    if i >= s.len() {
                        return Err(fail(self));
                    }
                    i += 1;
                    self.new_str(&buf)?
                }
                b'-' | b'0'..=b'9' => {
                    buf.clear();
                    let mut flt = false;
                    let mut ch = c;
                    loop {
                        grow(self, buf.len(), vstr_alloc)?;
                        buf.push(ch);
                        ch = cur(i);
                        if ch == b'.' || ch == b'E' || ch == b'e' {
                            flt = true;
                        } else if !(ch == b'-' || ch.is_ascii_digit()) {
                            break;
                        }
                        i += 1;
                    }
                    if flt {
                        let t = String::from_utf8_lossy(&buf);
                        match t.parse::<f64>() {
                            Ok(f) => self.new_float(f)?,
                            Err(_) => return Err(self.value_error("invalid syntax for number")),
                        }
                    } else {
                        self.parse_int(&buf, 10)?
                    }
                }
                b'[' => {
                    enter = true;
                    self.new_list(&[])?
                }
                b'{' => {
                    enter = true;
                    self.new_dict(0)?
                }
                b'}' | b']' => {
                    if self.vget(top_slot) == NULL {
                        return Err(fail(self));
                    }
                    if depth == 0 {
                        break;
                    }
                    depth -= 1;
                    let items = self.vget(stack);
                    let t = self.f(items, depth);
                    self.vset(top_slot, t);
                    continue;
                }
                _ => return Err(fail(self)),
            };
            if next == NULL {
                return Err(fail(self));
            }
            let top = self.vget(top_slot);
            if top == NULL {
                self.vset(top_slot, next);
                if !enter {
                    break;
                }
                continue;
            }
            let h = self.hold(next);
            let r = (|| {
                if self.type_of(top) == rom(R::TList) {
                    self.list_append(top, next)?;
                } else {
                    let k = self.vget(key_slot);
                    if k == NULL {
                        self.vset(key_slot, next);
                        if enter {
                            return Err(fail(self));
                        }
                    } else {
                        self.dict_set(top, k, next)?;
                        self.vset(key_slot, NULL);
                    }
                }
                if enter {
                    let items = self.vget(stack);
                    if items == NULL {
                        // mp_obj_list_init(&stack, 1)
                        let p = self.alloc(4 * crate::heap::WORD_BYTES)?;
                        self.vset(stack, p);
                        stack_alloc = 4;
                    } else if depth >= stack_alloc {
                        // mp_obj_list_append doubles the array
                        let new_alloc = stack_alloc * 2;
                        match self
                            .st
                            .heap
                            .realloc(items, new_alloc * crate::heap::WORD_BYTES, true)
                        {
                            Some(p) => {
                                self.vset(stack, p);
                                stack_alloc = new_alloc;
                            }
                            None => {
                                self.st.alloc_fail = new_alloc * crate::heap::WORD_BYTES;
                                return Err(rom(R::MemoryErrorObj));
                            }
                        }
                    }
                    let items = self.vget(stack);
                    self.wf(items, depth, top);
                    depth += 1;
                    self.vset(top_slot, next);
                }
                Ok::<(), Word>(())
            })();
            self.release(h);
            r?;
        }
        while i < s.len() && s[i].is_ascii_whitespace() {
            i += 1;
        }
        let top = self.vget(top_slot);
        if i < s.len() || top == NULL || depth != 0 {
            return Err(fail(self));
        }
        Ok(top)
    }

    /// Constructs an instance of a built-in type (`make_new`).
    pub fn make_new_rom(&mut self, r: R, a: Args<'_>) -> PR<Word> {
        let p = |i: usize| a.w[i];
        if obj::is_exc_type(r) {
            return Ok(self.new_exc(rom(r), &a.w[..a.n]));
        }
        match r {
            R::TType => {
                self.arg_count_no_kw(a, 1, 3)?;
                if a.n == 1 {
                    return Ok(self.type_of(p(0)));
                }
                if a.n == 3 {
                    return self.new_type(p(0), p(1), p(2));
                }
                Err(self.type_error("type takes 1 or 3 arguments"))
            }
            R::TObject => {
                self.arg_count_no_kw(a, 0, 0)?;
                self.alloc_obj(rom(R::TObject), 1)
            }
            R::TNoneType => Ok(NONE),
            R::TBool => {
                self.arg_count_no_kw(a, 0, 1)?;
                if a.n == 0 {
                    return Ok(FALSE);
                }
                Ok(py_bool(self.is_true(p(0))?))
            }
            R::TInt => {
                self.arg_count_no_kw(a, 0, 2)?;
                if a.n == 0 {
                    return Ok(obj::small(0));
                }
                let x = p(0);
                if let Some(i) = int_of(x) {
                    return Ok(obj::small(i));
                }
                if self.is_big(x) {
                    return Ok(x);
                }
                if let Some(f) = self.num_f64(x) {
                    return self.new_int_from_f64(f);
                }
                if let Some(b) = self.str_bytes(x) {
                    let radix = if a.n >= 2 { self.get_int(p(1))? } else { 10 };
                    return self.parse_int(&b, radix);
                }
                let n = self.type_name(x);
                Err(self.exc_varg(R::ETypeError, "can't convert %s to int", &[&n]))
            }
            R::TFloat => {
                self.arg_count_no_kw(a, 0, 1)?;
                if a.n == 0 {
                    return self.new_float(0.0);
                }
                if self.type_of(p(0)) == rom(R::TFloat) {
                    return Ok(p(0));
                }
                if let Some(b) = self.str_bytes(p(0)) {
                    return match parse_float_text(&b) {
                        Some(f) => self.new_float(f),
                        None => Err(self.value_error("invalid syntax for number")),
                    };
                }
                // mp_obj_get_float
                let f = self.get_float(p(0))?;
                self.new_float(f)
            }
            R::TStr => self.make_str(a),
            R::TBytes => self.make_bytes(a),
            R::TBytearray => self.make_bytearray(a),
            R::TArray => self.array_make_new(a),
            R::TMemoryview => self.memoryview_make_new(a),
            R::TList => {
                self.arg_count_no_kw(a, 0, 1)?;
                if a.n == 0 {
                    return self.new_list(&[]);
                }
                self.list_from_iter(p(0))
            }
            R::TTuple => {
                self.arg_count_no_kw(a, 0, 1)?;
                if a.n == 0 {
                    return Ok(rom(R::EmptyTuple));
                }
                if self.type_of(p(0)) == rom(R::TTuple) {
                    return Ok(p(0));
                }
                self.tuple_from_iter(p(0))
            }
            R::TDict | R::TOrderedDict => {
                let d = self.new_dict(0)?;
                if r == R::TOrderedDict {
                    // dict_make_new: the type word, then map.is_ordered
                    self.wf(d, 0, rom(r));
                    let mut h = crate::map::MapHeader::load(&self.st.heap, d + 4);
                    h.is_ordered = true;
                    h.store(&mut self.st.heap, d + 4);
                }
                let base = self.vlen();
                self.vpush(d);
                let r = (|| {
                    if a.n >= 1 {
                        self.dict_update_from(d, p(0))?;
                    }
                    for k in 0..a.n_kw() {
                        self.dict_set(d, a.w[a.n + 2 * k], a.w[a.n + 2 * k + 1])?;
                    }
                    Ok(d)
                })();
                self.vtrunc(base);
                r
            }
            R::TSet | R::TFrozenset => {
                // set_make_new: an empty set, then each item from a heap iterator stored in
                // turn, then the type set
                self.arg_count_no_kw(a, 0, 1)?;
                let s = self.new_set(&[])?;
                if a.n == 0 {
                    self.wf(s, 0, rom(r));
                    return Ok(s);
                }
                let base = self.vlen();
                self.vpush(s);
                let res = self.iter_each(p(0), true, |rt, w| rt.set_add(s, w).map(|()| true));
                self.vtrunc(base);
                res?;
                self.wf(s, 0, rom(r));
                Ok(s)
            }
            R::TMap => {
                // mp_obj_map_t: base, n_iters, fun, iterators
                if a.n < 2 {
                    return Err(self.type_error("function takes at least 2 positional arguments"));
                }
                let n = a.n - 1;
                let o = self.alloc_obj(rom(R::TMap), 3 + n)?;
                let h = self.hold(o);
                self.wf(o, 1, n as Word);
                self.wf(o, 2, p(0));
                let r = (|| {
                    for i in 0..n {
                        let it = self.get_iter(p(i + 1))?;
                        self.wf(o, 3 + i, it);
                    }
                    Ok(o)
                })();
                self.release(h);
                r
            }
            R::TFilter => {
                // mp_obj_filter_t: base, fun, iterator
                self.arg_count(a, 2, 2)?;
                let o = self.alloc_obj(rom(R::TFilter), 3)?;
                let h = self.hold(o);
                self.wf(o, 1, p(0));
                let it = self.get_iter(p(1));
                self.release(h);
                self.wf(o, 2, it?);
                Ok(o)
            }
            R::TRange => {
                self.arg_count_no_kw(a, 1, 3)?;
                let mut v = [0i64, 0, 1];
                match a.n {
                    1 => v[1] = self.get_int(p(0))?,
                    2 | 3 => {
                        v[0] = self.get_int(p(0))?;
                        v[1] = self.get_int(p(1))?;
                        if a.n == 3 {
                            v[2] = self.get_int(p(2))?;
                            if v[2] == 0 {
                                return Err(self.value_error("zero step"));
                            }
                        }
                    }
                    _ => return Err(self.type_error("range expected at least 1 argument")),
                }
                let o = self.alloc_obj(rom(R::TRange), 4)?;
                for (i, x) in v.iter().enumerate() {
                    self.wf(o, 1 + i, obj::small(*x as i32));
                }
                Ok(o)
            }
            R::TEnumerate => {
                self.arg_count(a, 1, 2)?;
                let start = if a.n == 2 {
                    p(1)
                } else {
                    self.kwarg(a, "start").unwrap_or(obj::small(0))
                };
                // the object first, then mp_getiter(iterable, NULL)
                let o = self.alloc_obj(rom(R::TEnumerate), 3)?;
                self.wf(o, 2, start);
                let h = self.hold(o);
                let i = self.get_iter(p(0));
                self.release(h);
                self.wf(o, 1, i?);
                Ok(o)
            }
            R::TZip => {
                // mp_obj_zip_t (base, n_iters, iters...) first, then mp_getiter(arg, NULL)
                // for each argument
                let o = self.alloc_obj(rom(R::TZip), 2 + a.n)?;
                self.wf(o, 1, a.n as Word);
                let h = self.hold(o);
                let r = (|| {
                    for i in 0..a.n {
                        let x = self.get_iter(p(i))?;
                        self.wf(o, 2 + i, x);
                    }
                    Ok(o)
                })();
                self.release(h);
                r
            }
            R::TSuper => {
                self.arg_count(a, 2, 2)?;
                let o = self.alloc_obj(rom(R::TSuper), 3)?;
                self.wf(o, 1, p(0));
                self.wf(o, 2, p(1));
                Ok(o)
            }
            R::TProperty => {
                // mp_obj_property_t: base, then fget, fset, fdel (None when not given)
                self.arg_count(a, 0, 4)?;
                let o = self.alloc_obj(rom(r), 4)?;
                for i in 0..3 {
                    let v = if i < a.n { p(i) } else { NONE };
                    self.wf(o, 1 + i, v);
                }
                Ok(o)
            }
            R::TStringIO | R::TBytesIO => self.stringio_new(r, a),
            R::TDeque => self.deque_new(a),
            R::TSha256 => self.sha256_new(a),
            R::TStaticMethod | R::TClassMethod => {
                self.arg_count(a, 1, 4)?;
                let o = self.alloc_obj(rom(r), 2)?;
                self.wf(o, 1, p(0));
                Ok(o)
            }
            _ => {
                let n = obj::rom_type_info(r).map_or("?", |i| i.0);
                Err(self.exc_varg(R::ETypeError, "cannot create '%q' instances", &[n]))
            }
        }
    }

    fn builtin_open(&mut self, a: Args<'_>) -> PR<Word> {
        self.arg_count(a, 1, 2)?;
        let path = String::from_utf8_lossy(&self.get_str(a.w[0])?).into_owned();
        let mode = if a.n == 2 {
            String::from_utf8_lossy(&self.get_str(a.w[1])?).into_owned()
        } else {
            match self.kwarg(a, "mode") {
                Some(m) => self.to_str(m),
                None => "r".into(),
            }
        };
        let write = mode.contains('w') || mode.contains('a');
        let binary = mode.contains('b');
        let data = if mode.contains('w') {
            self.st.fs.write(&path, b"").map_err(|e| self.os_error(e))?;
            Vec::new()
        } else {
            match self.st.fs.read(&path) {
                Ok(d) => d,
                Err(FsError::NotFound) if mode.contains('a') => Vec::new(),
                Err(e) => return Err(self.os_error(e)),
            }
        };
        let pos = if mode.contains('a') { data.len() } else { 0 };
        let h = self.st.files.len();
        self.st.files.push(Some(OpenFile {
            path,
            write,
            binary,
            data,
            pos,
        }));
        let o = self.alloc_obj(rom(R::TFile), 2)?;
        self.wf(o, 1, obj::small(h as i32));
        Ok(o)
    }

    fn file_of(&mut self, o: Word) -> PR<usize> {
        let h = obj::small_value(self.f(o, 1)) as usize;
        match self.st.files.get(h) {
            Some(Some(_)) => Ok(h),
            _ => Err(self.value_error("I/O operation on closed file")),
        }
    }

    /// `file.readline()`.
    pub fn file_readline(&mut self, o: Word) -> PR<Word> {
        let h = self.file_of(o)?;
        let (line, binary) = {
            let Some(Some(f)) = self.st.files.get_mut(h) else {
                return Ok(NONE);
            };
            let rest = &f.data[f.pos.min(f.data.len())..];
            let n = rest
                .iter()
                .position(|c| *c == b'\n')
                .map_or(rest.len(), |i| i + 1);
            let line = rest[..n].to_vec();
            f.pos += n;
            (line, f.binary)
        };
        if binary {
            self.new_str_heap(R::TBytes, &line)
        } else {
            self.new_str_vstr(&line)
        }
    }

    fn call_method_builtin(&mut self, r: R, a: Args<'_>) -> PR<Word> {
        if a.n == 0 {
            return Err(self.type_error("function takes at least 1 argument"));
        }
        // mp_obj_class_lookup binds a native base's methods to the instance's native
        // sub-object (subobj[0]), so they act on the list/dict/... inside
        let t0 = self.type_of(a.w[0]);
        if !matches!(r, R::MNativeInit | R::MObjectInit | R::MObjectNew)
            && self.is_user_type(t0)
            && self.native_base(t0) != rom(R::TObject)
            && !self.is_exception(a.w[0])
        {
            let sub = self.f(a.w[0], 4);
            if sub == NULL {
                return Err(self.type_error("native base not initialised"));
            }
            let mut w = a.w.to_vec();
            w[0] = sub;
            return self.call_method_builtin(r, Args { w: &w, n: a.n });
        }
        let s = a.w[0];
        let p = |i: usize| a.w[i];
        match r {
            R::MObjectInit => Ok(NONE),
            R::MObjectNew => {
                // object___new__: a blank instance of a user class
                self.arg_count(a, 1, 1)?;
                if self.type_of(s) != rom(R::TType) || !self.is_user_type(s) {
                    return Err(self.type_error("__new__ arg must be a user-type"));
                }
                self.new_instance(s)
            }
            R::MDictFromkeys => {
                // dict.fromkeys(iterable[, value]), reached through the type (no self)
                let start = usize::from(a.n >= 1 && self.is_dict(a.w[0]));
                if a.n < start + 1 || a.n > start + 2 {
                    return Err(self.type_error("function takes 2 or 3 positional arguments"));
                }
                let src = a.w[start];
                let value = if a.n == start + 2 {
                    a.w[start + 1]
                } else {
                    NONE
                };
                // dict_fromkeys: the heap iterator first, then the dict sized by len()
                let base = self.vlen();
                self.vpush(src);
                let r = (|| {
                    let b = self.heap_iter_buf(src)?;
                    self.vpush(b);
                    let n = self.len_of(src).unwrap_or(0);
                    let d = self.new_dict(n)?;
                    self.vpush(d);
                    self.iter_each(src, false, |rt, k| {
                        rt.dict_key_hash(d, k, true)?;
                        rt.dict_set(d, k, value).map(|()| true)
                    })?;
                    Ok(d)
                })();
                self.vtrunc(base);
                r
            }
            R::MPropGetter | R::MPropSetter | R::MPropDeleter => {
                // a copy of the property with one function replaced
                self.arg_count(a, 2, 2)?;
                let o = self.alloc_obj(rom(R::TProperty), 4)?;
                for i in 1..4 {
                    let w = self.f(s, i);
                    self.wf(o, i, w);
                }
                let i = match r {
                    R::MPropGetter => 1,
                    R::MPropSetter => 2,
                    _ => 3,
                };
                self.wf(o, i, p(1));
                Ok(o)
            }
            R::MNativeInit => {
                let t = self.type_of(s);
                let native = self.native_base(t);
                if self.is_user_type(t)
                    && let Some(nr) = R::from_addr(native).filter(|r| *r != R::TObject)
                {
                    let sub = self.make_new_rom(
                        nr,
                        Args {
                            w: &a.w[1..],
                            n: a.n - 1,
                        },
                    )?;
                    self.wf(s, 4, sub);
                }
                Ok(NONE)
            }
            R::MGenClose | R::MGenSend | R::MGenThrow => self.gen_method(r, a),
            R::MBytearrayExtend => {
                self.arg_count(a, 2, 2)?;
                self.array_extend(s, p(1))?;
                Ok(NONE)
            }
            R::MListAppend => {
                self.arg_count(a, 2, 2)?;
                if crate::array::is_arr_type(self.type_of(s)) {
                    self.array_append(s, p(1))?;
                    return Ok(NONE);
                }
                self.list_append(s, p(1))?;
                Ok(NONE)
            }
            R::MListExtend => {
                self.arg_count(a, 2, 2)?;
                self.list_extend(s, p(1))?;
                Ok(NONE)
            }
            R::MListPop => {
                let len = self.f(s, 2) as usize;
                if len == 0 {
                    return Err(self.exc_msg(R::EIndexError, "pop from empty list"));
                }
                let idx = if a.n >= 2 { p(1) } else { obj::small(-1) };
                let i = self.index(idx, len, "list")? as i64;
                let it = self.f(s, 3);
                let v = self.f(it, i as usize);
                for j in i as usize..len - 1 {
                    let w = self.f(it, j + 1);
                    self.wf(it, j, w);
                }
                self.wf(it, len - 1, 0);
                self.wf(s, 2, (len - 1) as Word);
                self.list_shrink(s);
                Ok(v)
            }
            R::MListInsert => {
                self.arg_count(a, 3, 3)?;
                let len = self.f(s, 2) as i64;
                let mut i = self.get_int(p(1))?;
                if i < 0 {
                    i = (i + len).max(0);
                }
                let i = i.min(len) as usize;
                self.list_append(s, NONE)?;
                let it = self.f(s, 3);
                for j in (i..len as usize).rev() {
                    let w = self.f(it, j);
                    self.wf(it, j + 1, w);
                }
                self.wf(it, i, p(2));
                Ok(NONE)
            }
            R::MListRemove | R::MListIndex | R::MListCount | R::MTupleIndex | R::MTupleCount => {
                let is_index = matches!(r, R::MListIndex | R::MTupleIndex);
                self.arg_count(a, 2, if is_index { 4 } else { 2 })?;
                let items = self.seq_items(s);
                // mp_seq_index_obj: start and stop bound like slice indexes
                let what = if r == R::MTupleIndex { "tuple" } else { "list" };
                let bound = |rt: &mut Self, i: usize, def: usize| -> PR<usize> {
                    if i >= a.n {
                        return Ok(def);
                    }
                    let v = match int_of(a.w[i]) {
                        Some(v) => i64::from(v),
                        None => {
                            let n = rt.type_name(a.w[i]);
                            return Err(rt.exc_varg(
                                R::ETypeError,
                                "%q indices must be integers, not %s",
                                &[what, &n],
                            ));
                        }
                    };
                    let v = if v < 0 { v + items.len() as i64 } else { v };
                    Ok(v.clamp(0, items.len() as i64) as usize)
                };
                let start = bound(self, 2, 0)?;
                let stop = bound(self, 3, items.len())?;
                let mut count = 0;
                for (i, w) in items.iter().enumerate() {
                    if is_index && (i < start || i >= stop) {
                        continue;
                    }
                    if self.equal(*w, p(1))? {
                        match r {
                            R::MListRemove => {
                                return self
                                    .call_builtin(
                                        R::MListPop,
                                        Args {
                                            w: &[s, obj::small(i as i32)],
                                            n: 2,
                                        },
                                    )
                                    .map(|_| NONE);
                            }
                            R::MListIndex | R::MTupleIndex => return Ok(obj::small(i as i32)),
                            _ => count += 1,
                        }
                    }
                }
                match r {
                    R::MListCount | R::MTupleCount => Ok(obj::small(count)),
                    R::MListRemove => Err(self.value_error("object not in sequence")),
                    _ => Err(self.value_error("object not in sequence")),
                }
            }
            R::MListSort => {
                let key = self.kwarg(a, "key").unwrap_or(NONE);
                let rev = self.kwarg(a, "reverse").unwrap_or(FALSE);
                self.list_sort(s, key, rev)?;
                Ok(NONE)
            }
            R::MListReverse => {
                let mut items = self.seq_items(s);
                items.reverse();
                let it = self.f(s, 3);
                for (i, w) in items.iter().enumerate() {
                    self.wf(it, i, *w);
                }
                Ok(NONE)
            }
            R::MListClear => {
                // list_clear: the array goes back to LIST_MIN_ALLOC (4) zeroed slots
                let it = self.f(s, 3);
                let it = match self.st.heap.realloc(it, 4 * crate::heap::WORD_BYTES, true) {
                    Some(p) => p,
                    None => {
                        self.st.alloc_fail = 4 * crate::heap::WORD_BYTES;
                        return Err(rom(R::MemoryErrorObj));
                    }
                };
                self.wf(s, 3, it);
                self.wf(s, 1, 4);
                self.wf(s, 2, 0);
                for i in 0..4 {
                    self.wf(it, i, 0);
                }
                Ok(NONE)
            }
            R::MListCopy => {
                let items = self.seq_items(s);
                self.new_list_alloc(&items, items.len())
            }
            R::MDictKeys | R::MDictValues | R::MDictItems => {
                let k = match r {
                    R::MDictKeys => it::DKEYS,
                    R::MDictValues => it::DVALUES,
                    _ => it::DITEMS,
                };
                let v = self.alloc_obj(rom(R::TDictView), 3)?;
                self.wf(v, 1, s);
                self.wf(v, 2, obj::small(k));
                Ok(v)
            }
            R::MDictGet => {
                self.arg_count(a, 2, 3)?;
                self.dict_key_hash(s, p(1), false)?;
                Ok(self
                    .dict_get(s, p(1))
                    .unwrap_or(if a.n == 3 { p(2) } else { NONE }))
            }
            R::MDictPop => {
                self.arg_count(a, 2, 3)?;
                self.dict_key_hash(s, p(1), false)?;
                match self.dict_del(s, p(1)) {
                    Some(v) => Ok(v),
                    None if a.n == 3 => Ok(p(2)),
                    None => Err(self.new_exc(rom(R::EKeyError), &[p(1)])),
                }
            }
            R::MDictPopitem => {
                let items = self.dict_items(s);
                match items.first() {
                    Some((k, v)) => {
                        let (k, v) = (*k, *v);
                        self.dict_del(s, k);
                        self.new_tuple(&[k, v])
                    }
                    None => Err(self.exc_msg(R::EKeyError, "popitem(): dictionary is empty")),
                }
            }
            R::MDictSetdefault => {
                self.arg_count(a, 2, 3)?;
                self.dict_key_hash(s, p(1), true)?;
                if let Some(v) = self.dict_get(s, p(1)) {
                    return Ok(v);
                }
                let v = if a.n == 3 { p(2) } else { NONE };
                self.dict_set(s, p(1), v)?;
                Ok(v)
            }
            R::MDictUpdate => {
                if a.n >= 2 {
                    self.dict_update_from(s, p(1))?;
                }
                for k in 0..a.n_kw() {
                    self.dict_set(s, a.w[a.n + 2 * k], a.w[a.n + 2 * k + 1])?;
                }
                Ok(NONE)
            }
            R::MDictClear => {
                crate::map::map_clear(&mut self.st.heap, s + 4);
                Ok(NONE)
            }
            R::MDictCopy => {
                let src = crate::map::MapHeader::load(&self.st.heap, s + 4);
                let d = self.new_dict(src.alloc)?;
                // dict_copy keeps the type and the map's order flag
                let ty = self.type_of(s);
                self.wf(d, 0, ty);
                if src.is_ordered {
                    let mut hd = crate::map::MapHeader::load(&self.st.heap, d + 4);
                    hd.is_ordered = true;
                    hd.store(&mut self.st.heap, d + 4);
                }
                let h = self.hold(d);
                for (k, v) in self.dict_items(s) {
                    if let Err(e) = self.dict_set(d, k, v) {
                        self.release(h);
                        return Err(e);
                    }
                }
                self.release(h);
                Ok(d)
            }
            R::MSetAdd => {
                self.arg_count(a, 2, 2)?;
                self.set_add(s, p(1))?;
                Ok(NONE)
            }
            R::MSetContains => {
                self.arg_count(a, 2, 2)?;
                Ok(py_bool(self.contains(s, p(1))?))
            }
            R::MDictGetitem => {
                self.arg_count(a, 2, 2)?;
                self.subscr(s, p(1))
            }
            R::MDictSetitem => {
                self.arg_count(a, 3, 3)?;
                self.store_subscr(s, p(1), p(2))?;
                Ok(NONE)
            }
            R::MDictDelitem => {
                self.arg_count(a, 2, 2)?;
                self.store_subscr(s, p(1), NULL)?;
                Ok(NONE)
            }
            R::MSetClear => {
                self.arg_count(a, 1, 1)?;
                self.set_clear(s);
                Ok(NONE)
            }
            R::MSetCopy => {
                self.arg_count(a, 1, 1)?;
                self.set_copy(s)
            }
            R::MSetPop => {
                self.arg_count(a, 1, 1)?;
                let mut hd = crate::map::SetHeader::load(&self.st.heap, s + 4);
                let v = hd.remove_first(&mut self.st.heap);
                hd.store(&mut self.st.heap, s + 4);
                match v {
                    Some(v) => Ok(v),
                    None => Err(self.exc_msg(R::EKeyError, "pop from an empty set")),
                }
            }
            R::MSetDifference | R::MSetDifferenceUpdate => {
                self.arg_count(a, 1, usize::MAX)?;
                let out = self.set_diff_int(&a.w[..a.n], r == R::MSetDifferenceUpdate)?;
                Ok(if r == R::MSetDifference { out } else { NONE })
            }
            R::MSetUpdate => {
                self.arg_count(a, 1, usize::MAX)?;
                for i in 1..a.n {
                    self.set_update_int(s, p(i))?;
                }
                Ok(NONE)
            }
            R::MSetUnion => {
                self.arg_count(a, 2, 2)?;
                self.set_copy_then(s, p(1), Self::set_update_int)
            }
            R::MSetIntersection | R::MSetIntersectionUpdate => {
                self.arg_count(a, 2, 2)?;
                self.set_intersect_int(s, p(1), r == R::MSetIntersectionUpdate)
            }
            R::MSetSymmetricDifference => {
                self.arg_count(a, 2, 2)?;
                self.set_copy_then(s, p(1), Self::set_symmetric_difference_update)
            }
            R::MSetSymmetricDifferenceUpdate => {
                self.arg_count(a, 2, 2)?;
                self.set_symmetric_difference_update(s, p(1))?;
                Ok(NONE)
            }
            R::MSetIsdisjoint => {
                self.arg_count(a, 2, 2)?;
                let mut disjoint = true;
                self.iter_each(p(1), false, |rt, w| {
                    if rt.contains(s, w)? {
                        disjoint = false;
                        return Ok(false);
                    }
                    Ok(true)
                })?;
                Ok(py_bool(disjoint))
            }
            R::MSetIssubset => {
                self.arg_count(a, 2, 2)?;
                self.set_issubset(s, p(1), false)
            }
            R::MSetIssuperset => {
                self.arg_count(a, 2, 2)?;
                self.set_issubset(p(1), s, false)
            }
            R::MSetDiscard | R::MSetRemove => {
                self.arg_count(a, 2, 2)?;
                let found = self.set_remove(s, p(1))?;
                if !found && r == R::MSetRemove {
                    return Err(self.new_exc(rom(R::EKeyError), &[p(1)]));
                }
                Ok(NONE)
            }
            R::MFileRead
            | R::MFileReadline
            | R::MFileWrite
            | R::MFileClose
            | R::MFileEnter
            | R::MFileExit
            | R::MIoGetvalue
            | R::MIoSeek
            | R::MIoFlush
            | R::MIoReadinto
                if crate::stringio::is_stringio_type(self.type_of(s)) =>
            {
                self.stringio_method(r, a)
            }
            R::MDequeAppend | R::MDequePopleft => self.deque_method(r, a),
            R::MHashUpdate | R::MHashDigest => self.sha256_method(r, a),
            R::MReMatch | R::MReSearch | R::MReSplit | R::MMatchGroup => self.re_method(r, a),
            R::MFileRead
            | R::MFileReadline
            | R::MFileReadlines
            | R::MFileWrite
            | R::MFileClose
            | R::MFileEnter
            | R::MFileExit => self.file_method(r, a),
            _ => self.str_method(r, a),
        }
    }

    /// The methods of `sys.stdin/stdout/stderr` (the unix port's `mp_sys_std*_obj`, file
    /// descriptors 0 to 2): what goes to standard output is printed like `print` prints;
    /// standard error is not part of what a run records, and standard input is at its end.
    fn std_stream_method(&mut self, r: R, fd: u8, a: Args<'_>) -> PR<Word> {
        match r {
            R::MFileWrite => {
                self.arg_count(a, 2, 2)?;
                let d = self.buffer_or_raise(a.w[1])?;
                if fd == 1 {
                    self.io.write(&d);
                }
                self.new_int(d.len() as i64)
            }
            R::MFileRead | R::MFileReadline => {
                // at the end of standard input: an empty str
                Ok(obj::qstr_obj(1))
            }
            R::MFileReadlines => self.new_list(&[]),
            R::MFileEnter => Ok(a.w[0]),
            _ => Ok(NONE),
        }
    }

    fn file_method(&mut self, r: R, a: Args<'_>) -> PR<Word> {
        let s = a.w[0];
        if let Some(fd) = std_stream_fd(s) {
            return self.std_stream_method(r, fd, a);
        }
        match r {
            R::MFileEnter => Ok(s),
            R::MFileClose | R::MFileExit => {
                let h = obj::small_value(self.f(s, 1)) as usize;
                if let Some(slot) = self.st.files.get_mut(h)
                    && let Some(f) = slot.take()
                    && f.write
                {
                    let (p, d) = (f.path.clone(), f.data.clone());
                    self.st.fs.write(&p, &d).map_err(|e| self.os_error(e))?;
                }
                Ok(NONE)
            }
            R::MFileReadline => self.file_readline(s),
            R::MFileReadlines => {
                // stream_unbuffered_readlines: readline until an empty line
                let lines = self.new_list(&[])?;
                let h = self.hold(lines);
                let r = (|| {
                    loop {
                        let line = self.file_readline(s)?;
                        if self.len_of(line) == Some(0) {
                            return Ok(lines);
                        }
                        self.list_append(lines, line)?;
                    }
                })();
                self.release(h);
                r
            }
            R::MFileRead => {
                let h = self.file_of(s)?;
                let n = if a.n >= 2 {
                    int_of(a.w[1]).unwrap_or(-1)
                } else {
                    -1
                };
                let (d, binary) = {
                    let Some(Some(f)) = self.st.files.get_mut(h) else {
                        return Ok(NONE);
                    };
                    let start = f.pos.min(f.data.len());
                    let end = if n < 0 {
                        f.data.len()
                    } else {
                        (start + n as usize).min(f.data.len())
                    };
                    f.pos = end;
                    (f.data[start..end].to_vec(), f.binary)
                };
                let ty = if binary { R::TBytes } else { R::TStr };
                let sizes = if n < 0 {
                    // stream_readall: a 256-byte vstr, extended by 256 after each read that
                    // filled what was asked
                    let mut sizes = vec![256];
                    let mut full = d.len() / 256;
                    while full > 0 {
                        sizes.push(sizes[sizes.len() - 1] + 256);
                        full -= 1;
                    }
                    sizes
                } else {
                    // stream_read: vstr_init_len(n) allocates n + 1 bytes
                    vec![n as usize + 1]
                };
                self.new_str_from_vstr_sizes(ty, &sizes, &d)
            }
            _ => {
                let h = self.file_of(s)?;
                let data = match a.w.get(1) {
                    Some(w) if crate::array::is_arr_type(self.type_of(*w)) => self.arr_bytes(*w),
                    Some(w) => self.get_str(*w)?,
                    None => vec![],
                };
                let n = data.len();
                let mut flush = None;
                if let Some(Some(f)) = self.st.files.get_mut(h) {
                    if !f.write {
                        return Err(self.os_error(FsError::Invalid));
                    }
                    let end = f.pos + n;
                    if f.data.len() < end {
                        f.data.resize(end, 0);
                    }
                    f.data[f.pos..end].copy_from_slice(&data);
                    f.pos = end;
                    flush = Some((f.path.clone(), f.data.clone()));
                }
                // written through at once, like a POSIX write(): an unclosed file is complete
                if let Some((p, d)) = flush {
                    self.st.fs.write(&p, &d).map_err(|e| self.os_error(e))?;
                }
                self.new_int(n as i64)
            }
        }
    }

    /// The attributes of ROM modules.
    pub fn rom_module_attr(&mut self, m: R, name: &str) -> PR<Option<Word>> {
        if name == "__name__" {
            let n = obj::BUILTIN_MODULES
                .iter()
                .find(|(_, r)| *r == m)
                .map_or("?", |x| x.0);
            let q = self.intern(n.as_bytes())?;
            return Ok(Some(obj::qstr_obj(q)));
        }
        if let Some((_, f)) = obj::module_functions(m).iter().find(|(n, _)| *n == name) {
            // ports/unix/modos.c has no listdir, chdir, getcwd, remove, rename or rmdir
            let vfs_only = matches!(
                f,
                R::FOsListdir
                    | R::FOsChdir
                    | R::FOsGetcwd
                    | R::FOsRemove
                    | R::FOsRename
                    | R::FOsRmdir
            );
            if !(vfs_only && m == R::MUos && !self.st.board_vfs) {
                return Ok(Some(rom(*f)));
            }
        }
        if let Some(v) = crate::romext::attr(m, name) {
            return Ok(Some(v));
        }
        let v = match (m, name) {
            (R::MSys, "modules") => self.modules(),
            (R::MSys, "path") => self.sys_path(),
            (R::MSys, "argv") => self.sys_argv(),
            (R::MSys, "version") => rom(R::StrSysVersion),
            (R::MSys, "byteorder") => self.new_str(b"little")?,
            (R::MSys, "platform") => self.new_str(b"linux")?,
            // mp_maxsize_obj: a ROM long int holding the largest mp_int_t
            (R::MSys, "maxsize") => rom(R::IntMaxsize),
            (R::MSys, "implementation") => {
                let s = self.st.sys_impl;
                let v = self.slot_get(s);
                if v != NULL {
                    v
                } else {
                    let nm = self.new_str(b"micropython")?;
                    let ver = self.new_tuple(&[obj::small(1), obj::small(9), obj::small(4)])?;
                    let h = self.hold(ver);
                    let t = self.new_tuple(&[nm, ver]);
                    self.release(h);
                    let t = t?;
                    self.slot_set(s, t);
                    t
                }
            }
            (R::MSys, "version_info") => {
                let s = self.st.sys_version_info;
                let v = self.slot_get(s);
                if v != NULL {
                    v
                } else {
                    let t = self.new_tuple(&[obj::small(3), obj::small(4), obj::small(0)])?;
                    self.slot_set(s, t);
                    t
                }
            }
            (R::MSys, "stdin") => rom(R::StdinObj),
            (R::MSys, "stdout") => rom(R::StdoutObj),
            (R::MSys, "stderr") => rom(R::StderrObj),
            (R::MBuiltins, n) => {
                let Some((_, r)) = obj::BUILTINS.iter().find(|(x, _)| *x == n) else {
                    return Ok(None);
                };
                rom(*r)
            }
            (R::MMain, _) => return Ok(None),
            _ => return Ok(None),
        };
        Ok(Some(v))
    }
}

fn libm_pow10(d: i32) -> f64 {
    let mut m = 1.0;
    for _ in 0..d.unsigned_abs() {
        m *= 10.0;
    }
    if d < 0 { 1.0 / m } else { m }
}

fn round_half_even(x: f64) -> f64 {
    let r = x.round();
    if (x - x.trunc()).abs() == 0.5 {
        let t = x.trunc();
        if (t as i64) % 2 == 0 { t } else { r }
    } else {
        r
    }
}

#[allow(dead_code)]
const _B: usize = BLOCK;

/// The file descriptor of `sys.stdin`, `sys.stdout` or `sys.stderr`.
pub(crate) fn std_stream_fd(w: Word) -> Option<u8> {
    match R::from_addr(w)? {
        R::StdinObj => Some(0),
        R::StdoutObj => Some(1),
        R::StderrObj => Some(2),
        _ => None,
    }
}

/// [`Rt::quicksort`]'s algorithm (1.9.4's `mp_quicksort`) over a slice, with a comparison
/// that cannot fail: `less(a, b)` is `a < b`, and `blr` the result that keeps an item
/// before the pivot.
fn quicksort_pure<T: Copy>(
    v: &mut [T],
    mut head: isize,
    mut tail: isize,
    less: &impl Fn(T, T) -> bool,
    blr: bool,
) {
    while head < tail {
        let mut h = head - 1;
        let mut t = tail;
        let pivot = v[tail as usize];
        loop {
            loop {
                h += 1;
                if h >= t || less(v[h as usize], pivot) != blr {
                    break;
                }
            }
            loop {
                t -= 1;
                if h >= t || less(pivot, v[t as usize]) != blr {
                    break;
                }
            }
            if h >= t {
                break;
            }
            v.swap(h as usize, t as usize);
        }
        v.swap(h as usize, tail as usize);
        // the smaller part recursively, the other in this loop
        if t - head < tail - h - 1 {
            quicksort_pure(v, head, t, less, blr);
            head = h + 1;
        } else {
            quicksort_pure(v, h + 1, tail, less, blr);
            tail = t;
        }
    }
}

/// `float(str)`: 1.9.4's `mp_parse_num_decimal` without imaginary numbers. Spaces around, an
/// optional sign, then `inf`/`infinity`/`nan` (any case) or a decimal number read like a
/// literal, where an empty integer part is allowed (`float('.')` and `float('e5')` are 0.0).
fn parse_float_text(b: &[u8]) -> Option<f64> {
    // unichar_isspace: space, \t, \n, \v, \f, \r
    let is_space = |c: &u8| *c == b' ' || (9..=13).contains(c);
    let start = b.iter().position(|c| !is_space(c)).unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| !is_space(c))
        .map_or(start, |i| i + 1);
    let mut t = &b[start..end.max(start)];
    let mut neg = false;
    if let Some((&c, rest)) = t.split_first()
        && (c == b'+' || c == b'-')
    {
        neg = c == b'-';
        t = rest;
    }
    let lower: Vec<u8> = t.iter().map(|c| c | 0x20).collect();
    let v = if lower.first() == Some(&b'i') {
        match lower.as_slice() {
            b"inf" | b"infinity" => f64::INFINITY,
            _ => return None,
        }
    } else if lower.first() == Some(&b'n') {
        if lower.as_slice() != b"nan" {
            return None;
        }
        f64::NAN
    } else {
        // a `j` ends the number like any unknown character: not the end, so an error
        crate::compile::parse_real_decimal(t)?
    };
    Some(if neg { -v } else { v })
}
