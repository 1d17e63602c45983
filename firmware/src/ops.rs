//! Attribute lookup, calls, operators, iteration and printing (py/runtime.c, py/objtype.c,
//! py/obj.c and the print functions of the object files).

#[cfg(not(feature = "std"))]
use crate::runtime::FloatExt;
use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use crate::compile::opcodes::{binary as bop, unary as uop};
use crate::heap::Word;
use crate::obj::{self, FALSE, NONE, NULL, R, TRUE, layout, py_bool, rom};
use crate::runtime::{Args, PR, Rt, STACK_LIMIT, q, range_len, str_data};

/// `sizeof(mp_obj_iter_buf_t)` on the 32-bit build: a base and 3 words, one GC block.
pub const ITER_BUF_BYTES: usize = 16;

/// Iteration kinds kept in iterator state (heap iterators and for-loop stack slots).
pub mod it {
    /// list or tuple
    pub const SEQ: i32 = 0;
    /// str (by character)
    pub const STR: i32 = 1;
    /// bytes / bytearray (ints)
    pub const BYTES: i32 = 2;
    /// dict keys
    pub const DKEYS: i32 = 3;
    /// range
    pub const RANGE: i32 = 4;
    /// set
    pub const SET: i32 = 5;
    /// dict values
    pub const DVALUES: i32 = 6;
    /// dict items
    pub const DITEMS: i32 = 7;
    /// an object with `__next__` (user iterator) or enumerate/zip
    pub const OBJ: i32 = 8;
    /// an object with only `__getitem__`: indexes 0, 1, ... until IndexError
    pub const GETITEM: i32 = 10;
}

/// The method `name` of built-in type `r` or of its built-in bases; like
/// `mp_obj_class_lookup`, the search never goes on into object (not a "real" base): only a
/// lookup that starts at object sees object's methods.
fn rom_method(r: R, attr: u16, qstrs: &crate::qstr::Qstrs) -> Option<Word> {
    let ids = METHOD_QSTRS.get_or_init(|| {
        alloc::boxed::Box::new(
            obj::METHODS
                .iter()
                .map(|(_, n, _)| {
                    qstrs
                        .find(n.as_bytes())
                        .filter(|q| usize::from(*q) < crate::qstr::STATIC_COUNT)
                        .unwrap_or(0)
                })
                .collect(),
        )
    });
    // a name with a static id matches by id (no other qstr has its text); the others by text
    let name = qstrs.text(attr);
    let matches = |i: u16| match ids.get(usize::from(i)) {
        Some(&q) if q != 0 => q == attr,
        _ => obj::METHODS
            .get(usize::from(i))
            .is_some_and(|(_, n, _)| n.as_bytes() == name),
    };
    let mut t = Some(r);
    while let Some(tt) = t {
        if tt == R::TObject && r != R::TObject {
            return None;
        }
        if let Some(&i) = obj::method_indices_of(tt).iter().find(|&&i| matches(i)) {
            return obj::METHODS.get(usize::from(i)).map(|(_, _, m)| rom(*m));
        }
        t = obj::rom_type_info(tt).and_then(|i| i.1);
    }
    None
}

/// For each entry of [`obj::METHODS`], the static qstr id of its name (0 when the name is
/// not a static qstr), worked out once per process: static ids are the same on every
/// machine.
static METHOD_QSTRS: once_cell::race::OnceBox<Vec<u16>> = once_cell::race::OnceBox::new();

impl Rt<'_> {
    // ------------------------------------------------------------------ attributes

    /// Looks `attr` up in a class and its bases (`mp_obj_class_lookup`, depth first).
    pub fn class_lookup(&mut self, t: Word, attr: u16) -> Option<Word> {
        // Depth first, bases left to right; `todo` only allocates for a class with bases.
        let mut todo: Vec<Word> = Vec::new();
        let mut x = t;
        let mut n = 0;
        loop {
            n += 1;
            if n > 1000 {
                return None;
            }
            if self.is_user_type(x) {
                let d = self.f(x, layout::TYPE_LOCALS);
                if d != NULL
                    && let Some(v) = self.dict_getq(d, attr)
                {
                    return Some(v);
                }
                // a single base is next without a trip through `todo`
                let p = self.f(x, layout::TYPE_PARENT);
                if p != NULL && self.type_of(p) != rom(R::TTuple) {
                    x = p;
                    continue;
                }
                let b = self.type_bases(x);
                todo.extend(b.into_iter().rev());
            } else if let Some(r) = R::from_addr(x)
                && (r != R::TObject || x == t)
                && let Some(m) = rom_method(r, attr, &self.st.qstrs)
            {
                return Some(m);
            }
            x = todo.pop()?;
        }
    }

    /// `mp_convert_member_lookup`: binds functions found in a class to `slf`.
    fn convert_member(&mut self, slf: Word, t: Word, m: Word) -> (Word, Word) {
        // object.__new__ is a staticmethod in object's locals
        if R::from_addr(m) == Some(R::MObjectNew) {
            return (m, NULL);
        }
        let mt = self.type_of(m);
        if mt == rom(R::TStaticMethod) {
            return (self.f(m, 1), NULL);
        }
        if mt == rom(R::TClassMethod) {
            return (self.f(m, 1), t);
        }
        if mt == rom(R::TFunction)
            || mt == rom(R::TClosure)
            || mt == rom(R::TBuiltin)
            || mt == rom(R::TGenerator)
        {
            return (m, slf);
        }
        (m, NULL)
    }

    /// `mp_load_method_maybe`: `Some((fun, self_or_NULL))` if the attribute exists.
    pub fn load_method_maybe(&mut self, o: Word, attr: u16) -> PR<Option<(Word, Word)>> {
        let t = self.type_of(o);
        // The few names looked at here, compared in place: `dir()` calls this once per qstr.
        let name = self.st.qstrs.text(attr);
        let is = |n: &str| name == n.as_bytes();
        let (is_class, is_name, is_args, is_dict, is_getattr) = (
            is("__class__"),
            is("__name__"),
            is("args"),
            is("__dict__"),
            is("__getattr__"),
        );
        if is_class {
            return Ok(Some((t, NULL)));
        }
        // modules
        if t == rom(R::TModule) {
            if let Some(g) = self.module_dict(o) {
                // a key bound to NULL (see builtin_import's fast path) reads as missing, as
                // module_attr leaves dest[0] NULL
                return Ok(self
                    .dict_getq(g, attr)
                    .filter(|v| *v != NULL)
                    .map(|v| (v, NULL)));
            }
            if let Some(r) = R::from_addr(o) {
                // the name copied to the stack (dir() asks for every qstr)
                let text = self.st.qstrs.text(attr);
                let mut buf = [0u8; 64];
                let copied = buf.get_mut(..text.len()).map(|b| {
                    b.copy_from_slice(text);
                    &*b
                });
                let v = match copied.map(core::str::from_utf8) {
                    Some(Ok(name)) => self.rom_module_attr(r, name)?,
                    _ => {
                        let name = self.qstr_string(attr);
                        self.rom_module_attr(r, &name)?
                    }
                };
                return Ok(v.map(|v| (v, NULL)));
            }
            return Ok(None);
        }
        // type objects
        if t == rom(R::TType) {
            if is_name {
                let n = self.type_name_of_type(o);
                let q = self.intern(n.as_bytes())?;
                return Ok(Some((obj::qstr_obj(q), NULL)));
            }
            if let Some(m) = self.class_lookup(o, attr) {
                // mp_obj_class_lookup stops before object: only object itself has its __init__
                if R::from_addr(m) == Some(R::MObjectInit) && o != rom(R::TObject) {
                    return Ok(None);
                }
                // MICROPY_BUILTIN_METHOD_CHECK_SELF_ARG: a built-in method read from a type
                // comes wrapped in a checked function bound to that type (the class methods
                // dict.fromkeys and int.from_bytes excepted)
                if let Some(r) = R::from_addr(m)
                    && obj::METHODS.iter().any(|(_, _, mm)| *mm == r)
                    && !matches!(r, R::MDictFromkeys | R::MIntFromBytes | R::MObjectNew)
                {
                    let c = self.alloc_obj(rom(R::TCheckedFun), 3)?;
                    self.wf(c, 1, o);
                    self.wf(c, 2, m);
                    return Ok(Some((c, NULL)));
                }
                let mt = self.type_of(m);
                if mt == rom(R::TStaticMethod) {
                    return Ok(Some((self.f(m, 1), NULL)));
                }
                if mt == rom(R::TClassMethod) {
                    return Ok(Some((self.f(m, 1), o)));
                }
                return Ok(Some((m, NULL)));
            }
            return Ok(None);
        }
        // sys.implementation's fields (a namedtuple in 1.9.4)
        if t == rom(R::TTuple) && o == self.slot_get(self.st.sys_impl) && o != NULL {
            let i = match self.st.qstrs.text(attr) {
                b"name" => 0,
                b"version" => 1,
                _ => return Ok(None),
            };
            return Ok(Some((self.f(o, 2 + i), NULL)));
        }
        // super(type, obj): look in the bases of type, bind to obj
        if t == rom(R::TSuper) {
            let (cls, obj_) = (self.f(o, 1), self.f(o, 2));
            let ot = self.type_of(obj_);
            for b in self.type_bases(cls) {
                if let Some(m) = self.class_lookup(b, attr) {
                    return Ok(Some(self.convert_member(obj_, ot, m)));
                }
            }
            // super_attr: __init__ reaching a native base re-makes the native object
            // (native_base_init_wrapper); anything else is looked up in object last
            let is_init = self.st.qstrs.text(attr) == b"__init__";
            if is_init && self.native_base(cls) != rom(R::TObject) {
                return Ok(Some((rom(R::MNativeInit), obj_)));
            }
            if let Some(m) = self.class_lookup(rom(R::TObject), attr) {
                return Ok(Some(self.convert_member(obj_, ot, m)));
            }
            return Ok(None);
        }
        // exceptions
        if name == b"value"
            && let Some(n) = self.exc_native(o)
            && n == o
            && self.st.heap.contains(n)
            && self.type_of(n) == rom(R::EStopIteration)
        {
            // mp_obj_exception_get_value: the first argument, or None
            let a = self.f(n, 3);
            let v = if a == NULL || a == rom(R::EmptyTuple) {
                NONE
            } else {
                self.seq_items(a).first().copied().unwrap_or(NONE)
            };
            return Ok(Some((v, NULL)));
        }
        if is_args && let Some(n) = self.exc_native(o) {
            if self.st.heap.contains(n) {
                let a = self.f(n, 3);
                return Ok(Some((if a == NULL { rom(R::EmptyTuple) } else { a }, NULL)));
            }
            return Ok(Some((rom(R::EmptyTuple), NULL)));
        }
        // slice_attr (MICROPY_PY_BUILTINS_SLICE_ATTRS) and range_attr: both keep start,
        // stop and step in words 1 to 3
        if t == rom(R::TSlice) || t == rom(R::TRange) {
            let i = match name {
                b"start" => 1,
                b"stop" => 2,
                b"step" => 3,
                _ => return Ok(None),
            };
            return Ok(Some((self.f(o, i), NULL)));
        }
        // namedtuple_attr: a field, else nothing (no method lookup)
        if self.is_namedtuple_type(t) {
            return Ok(self.namedtuple_field(o, attr).map(|v| (v, NULL)));
        }
        // instances of user classes
        if self.is_user_type(t) {
            let members = self.f(o, 1);
            let _ = members;
            // members map lives inside the instance at word 1
            let keys = crate::runtime::Keys(&self.st.qstrs);
            if let Some(v) =
                crate::map::map_get(&mut self.st.heap, o + 4, obj::qstr_obj(attr), &keys)
            {
                return Ok(Some((v, NULL)));
            }
            if is_dict {
                // a new dict with a copy of the members (read-only view, like 1.9.4's)
                let h = crate::map::MapHeader::load(&self.st.heap, o + 4);
                let mut items = Vec::new();
                let mut pos = 0;
                while let Some(kv) = h.next_filled(&self.st.heap, &mut pos) {
                    items.push(kv);
                }
                let d = self.new_dict(items.len())?;
                let hd = self.hold(d);
                for (k, v) in items {
                    if let Err(e) = self.dict_set(d, k, v) {
                        self.release(hd);
                        return Err(e);
                    }
                }
                self.release(hd);
                return Ok(Some((d, NULL)));
            }
            if let Some(m) = self.class_lookup(t, attr) {
                let mt = self.type_of(m);
                if mt == rom(R::TProperty) {
                    let getter = self.f(m, 1);
                    if getter == NONE {
                        return Err(self.exc_msg(R::EAttributeError, "unreadable attribute"));
                    }
                    let v = self.call(getter, Args { w: &[o], n: 1 })?;
                    return Ok(Some((v, NULL)));
                }
                let (v, s) = self.convert_member(o, t, m);
                // MICROPY_PY_DESCRIPTORS: a class attribute with __get__ answers for itself
                if s == NULL && self.is_user_type(self.type_of(v)) {
                    let gq = q!(self, "__get__");
                    let vt = self.type_of(v);
                    if let Some(gm) = self.class_lookup(vt, gq) {
                        let r = self.call_method_with_self(gm, v, &[o, t])?;
                        return Ok(Some((r, NULL)));
                    }
                }
                return Ok(Some((v, s)));
            }
            if !is_getattr {
                let ga = q!(self, "__getattr__");
                let found = match self.st.dir_getattr {
                    Some((dt, ops, m)) if dt == t && ops == self.op_count() => m,
                    _ => self.class_lookup(t, ga),
                };
                if let Some(m) = found {
                    let v = self.call_method_with_self(m, o, &[obj::qstr_obj(attr)])?;
                    return Ok(Some((v, NULL)));
                }
            }
            return Ok(None);
        }
        // functions
        // (1.9.4's closure type has no attr slot: a closure has no __name__)
        if t == rom(R::TFunction) && is_name {
            let q = self.fun_name(o);
            return Ok(Some((obj::qstr_obj(q), NULL)));
        }
        // bound_meth_attr: __name__ is the function's
        if t == rom(R::TBoundMeth) && is_name && self.type_of(self.f(o, 1)) == rom(R::TFunction) {
            let q = self.fun_name(self.f(o, 1));
            return Ok(Some((obj::qstr_obj(q), NULL)));
        }
        // mp_load_method_maybe: any type with an iternext slot answers __next__ with next()
        if name == b"__next__" && self.is_own_iter(o) {
            return Ok(Some((rom(R::FNext), o)));
        }
        // methods of built-in types (their lookup does not reach object's __init__)
        if let Some(m) = self.class_lookup(t, attr) {
            if R::from_addr(m) == Some(R::MObjectInit) && t != rom(R::TObject) {
                return Ok(None);
            }
            return Ok(Some((m, o)));
        }
        Ok(None)
    }

    /// `mp_load_method`: AttributeError when missing.
    pub fn load_method(&mut self, o: Word, attr: u16) -> PR<(Word, Word)> {
        match self.load_method_maybe(o, attr)? {
            Some(x) => Ok(x),
            None => Err(self.attr_error(o, attr)),
        }
    }

    /// The AttributeError for a missing attribute.
    pub fn attr_error(&mut self, o: Word, attr: u16) -> Word {
        let a = self.qstr_string(attr);
        if self.type_of(o) == rom(R::TType) {
            let n = self.type_name_of_type(o);
            self.exc_varg(
                R::EAttributeError,
                "type object '%q' has no attribute '%q'",
                &[&n, &a],
            )
        } else {
            let n = self.type_name(o);
            self.exc_varg(
                R::EAttributeError,
                "'%s' object has no attribute '%q'",
                &[&n, &a],
            )
        }
    }

    /// `mp_load_attr`: binds methods into a bound-method object.
    pub fn load_attr(&mut self, o: Word, attr: u16) -> PR<Word> {
        let (f, s) = self.load_method(o, attr)?;
        if s == NULL {
            Ok(f)
        } else {
            self.new_bound(f, s)
        }
    }

    /// `mp_store_attr` (`value == NULL` deletes).
    pub fn store_attr(&mut self, o: Word, attr: u16, value: Word) -> PR<()> {
        let t = self.type_of(o);
        if self.is_namedtuple_type(t) {
            return Err(self.exc_msg(R::EAttributeError, "can't set attribute"));
        }
        if t == rom(R::TModule) {
            if let Some(g) = self.module_dict(o) {
                if value == NULL {
                    if self.dict_del(g, obj::qstr_obj(attr)).is_none() {
                        return Err(self.new_exc(rom(R::EKeyError), &[obj::qstr_obj(attr)]));
                    }
                    return Ok(());
                }
                return self.dict_setq(g, attr, value);
            }
            // ROM module: its globals are a fixed map. `builtins` sends the store or delete
            // to the override dict (made on first use); any other refuses it, so
            // `mp_store_attr` raises.
            if o != rom(R::MBuiltins) {
                return Err(self.attr_error(o, attr));
            }
            let slot = self.st.builtins_override;
            let mut d = self.slot_get(slot);
            if d == NULL {
                let h = self.hold(value);
                let r = self.new_dict(1);
                self.release(h);
                d = r?;
                self.slot_set(slot, d);
            }
            if value == NULL {
                if self.dict_del(d, obj::qstr_obj(attr)).is_none() {
                    return Err(self.new_exc(rom(R::EKeyError), &[obj::qstr_obj(attr)]));
                }
                return Ok(());
            }
            return self.dict_setq(d, attr, value);
        }
        if self.is_user_type(t) {
            // a property in the class takes the store or delete
            let member = self.class_lookup(t, attr);
            if let Some(m) = member
                && self.type_of(m) == rom(R::TProperty)
            {
                let f = self.f(m, if value == NULL { 3 } else { 2 });
                if f == NONE || f == NULL {
                    return Err(self.attr_error(o, attr));
                }
                return self.call_store(f, &[o], value);
            }
            // MICROPY_PY_DESCRIPTORS: a class attribute with __set__/__delete__ takes it
            if let Some(m) = member
                && self.is_user_type(self.type_of(m))
            {
                let dq = q!(
                    self,
                    if value == NULL {
                        "__delete__"
                    } else {
                        "__set__"
                    }
                );
                let mt = self.type_of(m);
                if let Some(dm) = self.class_lookup(mt, dq) {
                    return self.call_store(dm, &[m, o], value);
                }
            }
            if value == NULL {
                let keys = crate::runtime::Keys(&self.st.qstrs);
                if crate::map::map_delete(&mut self.st.heap, o + 4, obj::qstr_obj(attr), &keys)
                    .is_none()
                {
                    return Err(self.attr_error(o, attr));
                }
                return Ok(());
            }
            let h = self.hold(value);
            let keys = crate::runtime::Keys(&self.st.qstrs);
            let r =
                crate::map::map_set(&mut self.st.heap, o + 4, obj::qstr_obj(attr), value, &keys);
            self.release(h);
            return r.map_err(|e| self.out_of_memory(e));
        }
        if self.is_user_type(o) {
            let d = self.f(o, layout::TYPE_LOCALS);
            if value == NULL {
                if self.dict_del(d, obj::qstr_obj(attr)).is_none() {
                    return Err(self.attr_error(o, attr));
                }
                return Ok(());
            }
            return self.dict_setq(d, attr, value);
        }
        Err(self.attr_error(o, attr))
    }

    /// The simple name of a `fun_bc` (from its bytecode prelude).
    pub fn fun_name(&self, f: Word) -> u16 {
        let bc = self.f(f, 2);
        let code = crate::vm::Code::read(self, bc);
        code.map_or(0, |c| c.name)
    }

    // ------------------------------------------------------------------ calls

    /// `mp_call_function_n_kw`.
    pub fn call(&mut self, f: Word, a: Args<'_>) -> PR<Word> {
        let t = self.type_of(f);
        if t == rom(R::TFunction) {
            return self.call_fun_bc(f, a);
        }
        if t == rom(R::TGenerator) {
            return self.gen_new(f, a);
        }
        if t == rom(R::TCheckedFun) {
            // checked_fun_call: the first argument must be exactly of the type
            let (ty, fun) = (self.f(f, 1), self.f(f, 2));
            if a.n > 0 && self.type_of(a.w[0]) != ty {
                let want = self.type_name_of_type(ty);
                let got = self.type_name(a.w[0]);
                return Err(self.exc_varg(
                    R::ETypeError,
                    "argument should be a '%q' not a '%q'",
                    &[&want, &got],
                ));
            }
            return self.call(fun, a);
        }
        if t == rom(R::TBoundMeth) {
            let (m, s) = (self.f(f, 1), self.f(f, 2));
            let mut w = Vec::with_capacity(a.w.len() + 1);
            w.push(s);
            w.extend_from_slice(a.w);
            return self.call(m, Args { w: &w, n: a.n + 1 });
        }
        if t == rom(R::TClosure) {
            let fun = self.f(f, 1);
            let n = self.f(f, 2) as usize;
            let mut w = Vec::with_capacity(a.w.len() + n);
            for i in 0..n {
                w.push(self.f(f, 3 + i));
            }
            w.extend_from_slice(a.w);
            return self.call(fun, Args { w: &w, n: a.n + n });
        }
        if let Some(e) = crate::romext::fun_entry(f) {
            return self.call_romext(e, a);
        }
        if let Some(r) = R::from_addr(f) {
            if obj::rom_type_info(r).is_some() {
                return self.make_new_rom(r, a);
            }
            if obj::is_rom_fun(r) {
                // only the MP_DEFINE_CONST_FUN_OBJ_KW functions take keyword arguments
                if a.n_kw() > 0
                    && !matches!(
                        r,
                        R::FMax
                            | R::FMin
                            | R::FPrint
                            | R::FSorted
                            | R::FOpen
                            | R::MDictUpdate
                            | R::MListSort
                            | R::MStrSplitlines
                            | R::MStrFormat
                            | R::MNativeInit
                    )
                {
                    return Err(self.type_error("function does not take keyword arguments"));
                }
                return self.call_builtin(r, a);
            }
        }
        if t == rom(R::TType) && self.is_user_type(f) {
            return self.make_instance(f, a);
        }
        if t == rom(R::TType) && self.is_namedtuple_type(f) {
            return self.namedtuple_make_new(f, a);
        }
        if self.is_user_type(t) {
            let cq = q!(self, "__call__");
            if let Some(m) = self.class_lookup(t, cq) {
                let mut w = Vec::with_capacity(a.w.len() + 1);
                w.push(f);
                w.extend_from_slice(a.w);
                return self.call(m, Args { w: &w, n: a.n + 1 });
            }
        }
        let n = self.type_name(f);
        Err(self.exc_varg(R::ETypeError, "'%s' object is not callable", &[&n]))
    }

    /// Calls `m` with `slf` prepended to positional `args`.
    pub fn call_method_with_self(&mut self, m: Word, slf: Word, args: &[Word]) -> PR<Word> {
        let mut w = Vec::with_capacity(args.len() + 1);
        w.push(slf);
        w.extend_from_slice(args);
        let n = w.len();
        self.call(m, Args { w: &w, n })
    }

    /// Calls `f` with `args`, then `value` unless it is NULL: the store-or-delete calling
    /// convention of `__setitem__`/`__delitem__`, `__set__`/`__delete__` and a property's
    /// setter/deleter. The result is dropped.
    fn call_store(&mut self, f: Word, args: &[Word], value: Word) -> PR<()> {
        let mut w = Vec::with_capacity(args.len() + 1);
        w.extend_from_slice(args);
        if value != NULL {
            w.push(value);
        }
        let n = w.len();
        self.call(f, Args { w: &w, n }).map(|_| ())
    }

    /// Calls `f` with positional args only.
    pub fn call_n(&mut self, f: Word, args: &[Word]) -> PR<Word> {
        self.call(
            f,
            Args {
                w: args,
                n: args.len(),
            },
        )
    }

    /// Instantiates a user class (`mp_obj_instance_make_new`).
    /// `mp_obj_new_instance`: a blank instance of user class `t` (members map of alloc 0,
    /// room for the native sub-object when `t` derives from a built-in type).
    pub fn new_instance(&mut self, t: Word) -> PR<Word> {
        let native = self.native_base(t);
        let has_native = native != rom(R::TObject);
        let words = layout::INSTANCE_WORDS + usize::from(has_native);
        let o = self.alloc_obj(t, words)?;
        crate::map::map_init(&mut self.st.heap, o + 4, 0).map_err(|e| self.out_of_memory(e))?;
        Ok(o)
    }

    /// A user `__new__` (found in the user classes), called with the class first; a heap
    /// copy of the arguments is made and freed around the call when there are any.
    fn call_user_new(&mut self, t: Word, m: Word, a: Args<'_>) -> PR<Word> {
        let f = if self.type_of(m) == rom(R::TStaticMethod) {
            self.f(m, 1)
        } else {
            m
        };
        let mut w = Vec::with_capacity(a.w.len() + 1);
        w.push(t);
        w.extend_from_slice(a.w);
        if a.w.is_empty() {
            return self.call(f, Args { w: &w, n: 1 });
        }
        let p = self.alloc(w.len() * crate::heap::WORD_BYTES)?;
        for (i, x) in w.iter().enumerate() {
            self.wf(p, i, *x);
        }
        let base = self.vlen();
        self.vpush(p);
        let r = self.call(f, Args { w: &w, n: a.n + 1 });
        self.vtrunc(base);
        if r.is_ok() {
            self.st.heap.free(p);
        }
        r
    }

    fn make_instance(&mut self, t: Word, a: Args<'_>) -> PR<Word> {
        let native = self.native_base(t);
        let has_native = native != rom(R::TObject);
        // a __new__ of the user classes makes the object; when it is not an instance of
        // exactly this class, __init__ is not called
        let nq = q!(self, "__new__");
        let user_new = self
            .class_lookup(t, nq)
            .filter(|m| R::from_addr(*m).is_none());
        let o = match user_new {
            Some(m) => {
                let o = self.call_user_new(t, m, a)?;
                if self.type_of(o) != t {
                    return Ok(o);
                }
                o
            }
            None => self.new_instance(t)?,
        };
        let base = self.vlen();
        self.vpush(o);
        let r = (|| {
            // the native base object is made after __init__ unless __init__ made it through
            // super().__init__() (1.9.4's native_base_init_wrapper)
            let iq = q!(self, "__init__");
            if let Some(init) = self.class_lookup(t, iq)
                && R::from_addr(init) != Some(R::MObjectInit)
            {
                let mut w = Vec::with_capacity(a.w.len() + 1);
                w.push(o);
                w.extend_from_slice(a.w);
                // with arguments, 1.9.4 copies (method, self, args...) into a heap array
                // for the call and frees it after a normal return
                let args2 = if a.w.is_empty() {
                    None
                } else {
                    let p = self.alloc((2 + a.w.len()) * crate::heap::WORD_BYTES)?;
                    self.wf(p, 0, init);
                    for (i, x) in w.iter().enumerate() {
                        self.wf(p, 1 + i, *x);
                    }
                    Some((p, self.vpush(p)))
                };
                let r = self.call(init, Args { w: &w, n: a.n + 1 })?;
                if let Some((p, slot)) = args2 {
                    self.st.heap.free(p);
                    self.vset(slot, NULL);
                }
                if r != NONE {
                    let n = self.type_name(r);
                    return Err(self.exc_varg(
                        R::ETypeError,
                        "__init__() should return None, not '%s'",
                        &[&n],
                    ));
                }
            }
            // without an __init__ 1.9.4 ignores the arguments (no check at all)
            if has_native && self.f(o, 4) == NULL {
                let nr = R::from_addr(native).unwrap_or(R::TObject);
                let sub = self.make_new_rom(nr, a)?;
                self.wf(o, 4, sub);
            }
            Ok(o)
        })();
        self.vtrunc(base);
        r
    }

    // ------------------------------------------------------------------ iteration

    /// Whether `o`'s type is its own iterator (1.9.4's `getiter == mp_identity_getiter`:
    /// generators, map, filter, zip, enumerate, reversed, the sequence/range iterators,
    /// files), for which `mp_getiter` returns `o` and needs no buffer.
    pub fn is_own_iter(&self, o: Word) -> bool {
        matches!(
            R::from_addr(self.type_of(o)),
            Some(
                R::TMap
                    | R::TFilter
                    | R::TRangeIter
                    | R::TReversed
                    | R::TIterator
                    | R::TEnumerate
                    | R::TZip
                    | R::TFile
                    | R::TGenInstance
                    | R::TStringIO
                    | R::TBytesIO
                    | R::TListdirIter
            )
        )
    }

    /// `mp_getiter(o, NULL)`'s `m_new_obj(mp_obj_iter_buf_t)`: C callers without a buffer of
    /// their own (`list(x)`, `tuple(x)`, `dict(x)`, `set(x)`, `list.extend`, `a, *b = x`, ...)
    /// get one from the heap whenever `o` is not its own iterator, before `o`'s `getiter`
    /// runs (so even when `o` turns out not to be iterable). The 16 bytes become the
    /// iterator or stay unused, and are garbage once the caller is done either way.
    /// `NULL` when no buffer is needed.
    pub fn heap_iter_buf(&mut self, o: Word) -> PR<Word> {
        if self.is_own_iter(o) {
            return Ok(NULL);
        }
        let h = self.hold(o);
        let b = self.alloc(ITER_BUF_BYTES);
        self.release(h);
        b
    }

    /// `mp_getiter(o, NULL)` into a heap iterator object (`GET_ITER`, `iter()`, `map`, `zip`,
    /// `enumerate`, `filter`): `o` itself when it is its own iterator, else the iterator
    /// built in a fresh heap buffer (or whatever a user `__iter__` returns, the buffer then
    /// being garbage).
    pub fn get_iter(&mut self, o: Word) -> PR<Word> {
        if self.is_own_iter(o) {
            return Ok(o);
        }
        let buf = self.heap_iter_buf(o)?;
        // the buffer is in a C local while getiter runs (a user __iter__ may collect)
        let h = self.hold(buf);
        let r = self.iter_start(o);
        self.release(h);
        let (a, k, i) = r?;
        if k == it::OBJ {
            return Ok(a);
        }
        if k == it::RANGE {
            // range_it: base, cur, stop, step (it does not refer to the range)
            self.wf(buf, 0, rom(R::TRangeIter));
            for j in 1..4 {
                let w = self.f(a, j);
                self.wf(buf, j, w);
            }
            return Ok(buf);
        }
        self.wf(buf, 0, rom(R::TIterator));
        self.wf(buf, 1, a);
        self.wf(buf, 2, obj::small(i));
        self.wf(buf, 3, obj::small(k));
        Ok(buf)
    }

    /// Runs `f` on each item of `o` until it returns `false`, the way 1.9.4's C loops over
    /// `mp_iternext` do: each item is produced just before `f` sees it. With `heap_buf` the
    /// iterator comes from `mp_getiter(o, NULL)` (see [`Rt::heap_iter_buf`]), otherwise from
    /// a buffer on the C stack. `o` and the current item stay rooted meanwhile.
    pub fn iter_each(
        &mut self,
        o: Word,
        heap_buf: bool,
        mut f: impl FnMut(&mut Self, Word) -> PR<bool>,
    ) -> PR<()> {
        let base = self.vlen();
        self.vpush(o);
        let r = (|| {
            if heap_buf {
                let b = self.heap_iter_buf(o)?;
                self.vpush(b);
            }
            let (a, k, mut i) = self.iter_start(o)?;
            self.vpush(a);
            let top = self.vlen();
            loop {
                self.poll()?;
                match self.iter_step(a, k, i)? {
                    Some((w, ni)) => {
                        i = ni;
                        self.vpush(w);
                        let go = f(self, w);
                        self.vtrunc(top);
                        if !go? {
                            break;
                        }
                    }
                    None => break,
                }
            }
            Ok(())
        })();
        self.vtrunc(base);
        r
    }

    /// `list(o)`: `mp_obj_new_list(0, NULL)` then `list_extend_from_iter`, one append per item
    /// from a heap iterator.
    pub fn list_from_iter(&mut self, o: Word) -> PR<Word> {
        let l = self.new_list(&[])?;
        let base = self.vlen();
        self.vpush(l);
        let r = self.iter_each(o, true, |rt, w| rt.list_append(l, w).map(|()| true));
        self.vtrunc(base);
        r.map(|()| l)
    }

    /// `tuple(o)` for a non-tuple (`mp_obj_tuple_make_new`): a 4-slot scratch array, then a
    /// heap iterator, the array doubled by `m_renew` as items come, the tuple built from it
    /// and the array freed.
    pub fn tuple_from_iter(&mut self, o: Word) -> PR<Word> {
        let mut alloc = 4;
        let mut items = self.alloc(alloc * crate::heap::WORD_BYTES)?;
        let base = self.vlen();
        self.vpush(o);
        let slot = self.vpush(items);
        let r = (|| {
            let mut len = 0;
            self.iter_each(o, true, |rt, w| {
                if len >= alloc {
                    let bytes = alloc * 2 * crate::heap::WORD_BYTES;
                    match rt.st.heap.realloc(items, bytes, true) {
                        Some(p) => {
                            items = p;
                            rt.vset(slot, p);
                            alloc *= 2;
                        }
                        None => {
                            rt.st.alloc_fail = bytes;
                            return Err(rom(R::MemoryErrorObj));
                        }
                    }
                }
                rt.wf(items, len, w);
                len += 1;
                Ok(true)
            })?;
            let ws: Vec<Word> = (0..len).map(|i| self.f(items, i)).collect();
            let t = self.new_tuple(&ws)?;
            self.st.heap.free(items);
            Ok(t)
        })();
        self.vtrunc(base);
        r
    }

    /// `dict_update`'s positional argument: another dict is copied entry by entry (nothing
    /// when it is `d` itself); anything else is iterated from a heap iterator, each item
    /// through a heap iterator of its own that must give exactly two values.
    pub fn dict_update_from(&mut self, d: Word, src: Word) -> PR<()> {
        if self.is_dict(src) {
            if src != d {
                for (k, v) in self.dict_items(src) {
                    self.dict_set(d, k, v)?;
                }
            }
            return Ok(());
        }
        self.iter_each(src, true, |rt, kv| {
            let base = rt.vlen();
            let r = (|| {
                let b = rt.heap_iter_buf(kv)?;
                rt.vpush(b);
                let (a, k, mut i) = rt.iter_start(kv)?;
                rt.vpush(a);
                // key, value, then the end
                let mut got = [NULL; 2];
                let mut n = 0;
                while n < 3 {
                    match rt.iter_step(a, k, i)? {
                        Some((w, ni)) => {
                            i = ni;
                            if let Some(g) = got.get_mut(n) {
                                *g = w;
                                rt.vpush(w);
                            }
                            n += 1;
                        }
                        None => break,
                    }
                }
                if n != 2 {
                    return Err(rt.value_error("dict update sequence has wrong length"));
                }
                rt.dict_key_hash(d, got[0], true)?;
                rt.dict_set(d, got[0], got[1])
            })();
            rt.vtrunc(base);
            r.map(|()| true)
        })
    }

    /// `mp_unpack_ex` of an iterable that is not a tuple or list: a heap iterator, the
    /// `nl` left items, then every other item appended to a fresh list whose last `nr`
    /// items are the right side (they stay in its array, as `mp_obj_list_set_len` only
    /// shortens the length). Returns (left, starred list, right).
    pub fn unpack_ex_iter(
        &mut self,
        s: Word,
        nl: usize,
        nr: usize,
    ) -> PR<(Vec<Word>, Word, Vec<Word>)> {
        let base = self.vlen();
        self.vpush(s);
        let r = (|| {
            let b = self.heap_iter_buf(s)?;
            self.vpush(b);
            let (a, k, mut i) = self.iter_start(s)?;
            self.vpush(a);
            let mut left = Vec::with_capacity(nl);
            while left.len() < nl {
                match self.iter_step(a, k, i)? {
                    Some((w, ni)) => {
                        i = ni;
                        self.vpush(w);
                        left.push(w);
                    }
                    None => {
                        return Err(self.value_error(&format!(
                            "need more than {} values to unpack",
                            left.len()
                        )));
                    }
                }
            }
            let rest = self.new_list(&[])?;
            self.vpush(rest);
            loop {
                self.poll()?;
                match self.iter_step(a, k, i)? {
                    Some((w, ni)) => {
                        i = ni;
                        self.list_append(rest, w)?;
                    }
                    None => break,
                }
            }
            let len = self.f(rest, 2) as usize;
            if len < nr {
                // seq_len is left at the count of left items
                return Err(self.exc_varg(
                    R::EValueError,
                    "need more than %d values to unpack",
                    &[&format!("{nl}")],
                ));
            }
            let items = self.f(rest, 3);
            let right = (len - nr..len).map(|j| self.f(items, j)).collect();
            self.wf(rest, 2, (len - nr) as Word);
            Ok((left, rest, right))
        })();
        self.vtrunc(base);
        r
    }

    /// What to iterate over: (object, kind, start index). Objects with their own iterator
    /// protocol come back as (iterator, OBJ, 0).
    pub fn iter_start(&mut self, o: Word) -> PR<(Word, i32, i32)> {
        if o == rom(R::EmptyTuple) {
            return Ok((o, it::SEQ, 0));
        }
        if obj::is_qstr(o) {
            return Ok((o, it::STR, 0));
        }
        let t = self.seq_type_of(o);
        if let Some(r) = R::from_addr(t) {
            match r {
                R::TList | R::TTuple => return Ok((o, it::SEQ, 0)),
                R::TStr => return Ok((o, it::STR, 0)),
                R::TBytes | R::TBytearray => return Ok((o, it::BYTES, 0)),
                R::TArray | R::TMemoryview => return Ok((o, it::BYTES, 0)),
                R::TDict => return Ok((o, it::DKEYS, 0)),
                R::TRange => return Ok((o, it::RANGE, 0)),
                R::TSet | R::TFrozenset => return Ok((o, it::SET, 0)),
                R::TMap | R::TFilter | R::TRangeIter | R::TReversed => {
                    return Ok((o, it::OBJ, 0));
                }
                R::TDictView => {
                    let k = obj::small_value(self.f(o, 2));
                    return Ok((self.f(o, 1), k, 0));
                }
                R::TIterator
                | R::TEnumerate
                | R::TZip
                | R::TFile
                | R::TGenInstance
                | R::TStringIO
                | R::TBytesIO
                | R::TListdirIter => {
                    return Ok((o, it::OBJ, 0));
                }
                _ => {}
            }
        }
        if self.is_user_type(t) {
            let iq = q!(self, "__iter__");
            if let Some(m) = self.class_lookup(t, iq) {
                let r = self.call_method_with_self(m, o, &[])?;
                return Ok((r, it::OBJ, 0));
            }
            if let Some(sub) = self.native_sub(o) {
                return self.iter_start(sub);
            }
            // instance_getiter knows only __iter__: a class with just __next__ is not
            // iterable
            let gq = q!(self, "__getitem__");
            if self.class_lookup(t, gq).is_some() {
                return Ok((o, it::GETITEM, 0));
            }
        }
        let n = self.type_name(o);
        Err(self.exc_varg(R::ETypeError, "'%s' object is not iterable", &[&n]))
    }

    /// One step of iteration: the next value and the next index, or `None` when exhausted.
    pub fn iter_step(&mut self, o: Word, kind: i32, i: i32) -> PR<Option<(Word, i32)>> {
        let iu = i as usize;
        match kind {
            it::SEQ => Ok(self.seq_item(o, iu).map(|w| (w, i + 1))),
            it::STR => {
                // only the one character is copied out of the string
                let ch: Option<Vec<u8>> =
                    crate::runtime::str_data(&self.st.qstrs, &self.st.heap, o).and_then(
                        |(_, b)| {
                            let start = b.get(iu..)?;
                            let n = 1 + start
                                .iter()
                                .skip(1)
                                .take_while(|c| (**c & 0xC0) == 0x80)
                                .count();
                            start.get(..n).map(|c| c.to_vec())
                        },
                    );
                let Some(ch) = ch else {
                    return Ok(None);
                };
                // str_it_iternext interns each character (mp_obj_new_str_via_qstr)
                let q = self.intern(&ch)?;
                Ok(Some((obj::qstr_obj(q), (iu + ch.len()) as i32)))
            }
            it::BYTES
                if matches!(
                    R::from_addr(self.type_of(o)),
                    Some(R::TArray | R::TMemoryview)
                ) =>
            {
                let v = self.arr_get(o, iu)?;
                Ok((v != NULL).then_some((v, i + 1)))
            }
            it::BYTES => {
                // only the one byte is read
                let c = if self.type_of(o) == rom(R::TBytearray) {
                    let len = self.f(o, 2) as usize;
                    let items = self.f(o, 3);
                    self.st
                        .heap
                        .bytes(items, len)
                        .and_then(|b| b.get(iu).copied())
                } else {
                    crate::runtime::str_data(&self.st.qstrs, &self.st.heap, o)
                        .and_then(|(_, b)| b.get(iu).copied())
                };
                Ok(c.map(|c| (obj::small(i32::from(c)), i + 1)))
            }
            it::DKEYS | it::DVALUES | it::DITEMS => {
                let h = crate::map::MapHeader::load(&self.st.heap, o + 4);
                let mut pos = iu;
                match h.next_filled(&self.st.heap, &mut pos) {
                    Some((k, v)) => {
                        let w = match kind {
                            it::DKEYS => k,
                            it::DVALUES => v,
                            _ => self.new_tuple(&[k, v])?,
                        };
                        Ok(Some((w, pos as i32)))
                    }
                    None => Ok(None),
                }
            }
            it::RANGE => {
                let (a, b, s) = (
                    obj::small_value(self.f(o, 1)) as i64,
                    obj::small_value(self.f(o, 2)) as i64,
                    obj::small_value(self.f(o, 3)) as i64,
                );
                if (i as usize) < range_len(a, b, s) {
                    Ok(Some((obj::small((a + s * i as i64) as i32), i + 1)))
                } else {
                    Ok(None)
                }
            }
            it::SET => {
                // the i-th filled slot, found in place (no copy of the items)
                let alloc = self.f(o, 1) as usize;
                let table = self.f(o, 3);
                let mut seen = 0;
                for slot in 0..alloc {
                    let k = self.f(table, slot);
                    if k != NULL && k != obj::SENTINEL {
                        if seen == iu {
                            return Ok(Some((k, i + 1)));
                        }
                        seen += 1;
                    }
                }
                Ok(None)
            }
            it::GETITEM => {
                let gq = q!(self, "__getitem__");
                let (m, s) = self.load_method(o, gq)?;
                let r = if s == NULL {
                    self.call_n(m, &[obj::small(i)])
                } else {
                    self.call_method_with_self(m, s, &[obj::small(i)])
                };
                match r {
                    Ok(w) => Ok(Some((w, i + 1))),
                    Err(e)
                        if self.is_instance(e, rom(R::EIndexError))
                            || self.is_instance(e, rom(R::EStopIteration)) =>
                    {
                        Ok(None)
                    }
                    Err(e) => Err(e),
                }
            }
            _ => Ok(self.obj_next(o)?.map(|w| (w, 0))),
        }
    }

    /// `mp_iternext` for iterator objects.
    pub fn obj_next(&mut self, o: Word) -> PR<Option<Word>> {
        let t = self.type_of(o);
        if t == rom(R::TGenInstance) {
            return self.gen_next(o, NONE, NULL);
        }
        if t == rom(R::TReversed) {
            let cur = obj::small_value(self.f(o, 2));
            if cur <= 0 {
                return Ok(None);
            }
            self.wf(o, 2, obj::small(cur - 1));
            let seq = self.f(o, 1);
            return self.subscr(seq, obj::small(cur - 1)).map(Some);
        }
        if t == rom(R::TListdirIter) {
            // listdir_next: readdir until the end, then closedir
            let Some(entry) = self.st.dir_iters.get_mut(&o).and_then(|d| d.pop_front()) else {
                self.st.dir_iters.remove(&o);
                return Ok(None);
            };
            let ino = obj::small(1 + self.f(o, 2) as i32);
            self.wf(o, 2, self.f(o, 2) + 1);
            let t = self.new_tuple(&[NONE, obj::small(i32::from(entry.1)), ino])?;
            let h = self.hold(t);
            let name = self.new_str(entry.0.as_bytes());
            self.release(h);
            self.wf(t, 2, name?);
            return Ok(Some(t));
        }
        if t == rom(R::TRangeIter) {
            let (cur, stop, step) = (
                obj::small_value(self.f(o, 1)),
                obj::small_value(self.f(o, 2)),
                obj::small_value(self.f(o, 3)),
            );
            if (step > 0 && cur < stop) || (step < 0 && cur > stop) {
                self.wf(o, 1, obj::small(cur.wrapping_add(step)));
                return Ok(Some(obj::small(cur)));
            }
            return Ok(None);
        }
        if t == rom(R::TMap) {
            // map_iternext: the arguments go in a fresh array each time (never freed)
            let n = self.f(o, 1) as usize;
            let args = self.alloc(n * crate::heap::WORD_BYTES)?;
            let base = self.vlen();
            self.vpush(args);
            let r = (|| {
                let mut vals = Vec::with_capacity(n);
                for i in 0..n {
                    let it = self.f(o, 3 + i);
                    match self.obj_next(it)? {
                        Some(w) => {
                            self.wf(args, i, w);
                            vals.push(w);
                        }
                        None => {
                            self.st.heap.free(args);
                            return Ok(None);
                        }
                    }
                }
                let f = self.f(o, 2);
                self.call_n(f, &vals).map(Some)
            })();
            self.vtrunc(base);
            return r;
        }
        if t == rom(R::TFilter) {
            let (f, it) = (self.f(o, 1), self.f(o, 2));
            loop {
                let Some(w) = self.obj_next(it)? else {
                    return Ok(None);
                };
                let base = self.vlen();
                self.vpush(w);
                let keep = if f == NONE {
                    self.is_true(w)
                } else {
                    self.call_n(f, &[w]).and_then(|v| self.is_true(v))
                };
                self.vtrunc(base);
                if keep? {
                    return Ok(Some(w));
                }
            }
        }
        if t == rom(R::TIterator) {
            let (a, i, k) = (
                self.f(o, 1),
                obj::small_value(self.f(o, 2)),
                obj::small_value(self.f(o, 3)),
            );
            return match self.iter_step(a, k, i)? {
                Some((w, ni)) => {
                    self.wf(o, 2, obj::small(ni));
                    Ok(Some(w))
                }
                None => Ok(None),
            };
        }
        if t == rom(R::TEnumerate) {
            let inner = self.f(o, 1);
            let n = self.f(o, 2);
            return match self.obj_next(inner)? {
                Some(w) => {
                    self.wf(o, 2, obj::small(obj::small_value(n) + 1));
                    Ok(Some(self.new_tuple(&[n, w])?))
                }
                None => Ok(None),
            };
        }
        if t == rom(R::TZip) {
            // zip_iternext: the result tuple is made first and filled item by item; when an
            // iterator is exhausted the tuple is freed again (mp_obj_tuple_del)
            let n = self.f(o, 1) as usize;
            if n == 0 {
                return Ok(None);
            }
            let tup = self.alloc_obj(rom(R::TTuple), 2 + n)?;
            self.wf(tup, 1, n as Word);
            let h = self.hold(tup);
            let r = (|| {
                for i in 0..n {
                    let x = self.f(o, 2 + i);
                    match self.obj_next(x)? {
                        Some(w) => self.wf(tup, 2 + i, w),
                        None => {
                            self.st.heap.free(tup);
                            return Ok(None);
                        }
                    }
                }
                Ok(Some(tup))
            })();
            self.release(h);
            return r;
        }
        if crate::stringio::is_stringio_type(t) {
            let line = self.stringio_readline(o, -1)?;
            if self.len_of(line) == Some(0) {
                return Ok(None);
            }
            return Ok(Some(line));
        }
        if t == rom(R::TFile) {
            let line = self.file_readline(o)?;
            if self.len_of(line) == Some(0) {
                return Ok(None);
            }
            return Ok(Some(line));
        }
        if self.is_user_type(t) {
            let nq = q!(self, "__next__");
            if let Some(m) = self.class_lookup(t, nq) {
                return match self.call_method_with_self(m, o, &[]) {
                    Ok(w) => Ok(Some(w)),
                    Err(e) if self.is_instance(e, rom(R::EStopIteration)) => Ok(None),
                    Err(e) => Err(e),
                };
            }
        }
        let n = self.type_name(o);
        Err(self.exc_varg(R::ETypeError, "'%s' object is not an iterator", &[&n]))
    }

    /// Collects every item of an iterable (values kept on the value stack while iterating).
    pub fn collect_iter(&mut self, o: Word) -> PR<Vec<Word>> {
        let base = self.vlen();
        self.vpush(o);
        let r = (|| {
            let (a, k, mut i) = self.iter_start(o)?;
            self.vpush(a);
            let mut out = Vec::new();
            if k == it::SET {
                // the same items and polls as the steps below, in one pass over the table
                for w in self.set_items(a) {
                    self.poll()?;
                    self.vpush(w);
                    out.push(w);
                }
                self.poll()?;
                return Ok(out);
            }
            loop {
                self.poll()?;
                match self.iter_step(a, k, i)? {
                    Some((w, ni)) => {
                        self.vpush(w);
                        out.push(w);
                        i = ni;
                    }
                    None => break,
                }
            }
            Ok(out)
        })();
        self.vtrunc(base);
        r
    }

    /// `mp_call_prepare_args_n_kw_var`'s heap array for a call with `*`/`**`: room for self,
    /// the `n_pos` positional arguments, the items of `seq` and the keyword pairs (a `**`
    /// dict's counted in advance), allocated before `seq` is walked. A `seq` that is neither
    /// a tuple nor a list gets 3 spare slots, doubled (`m_renew`) whenever they run out while
    /// its items come in. `pos` (self and the positional arguments) gets the `*` items
    /// appended and the array holds `pos` on return, rooted at the returned value-stack slot
    /// (the caller truncates the value stack and frees the array after the call).
    pub fn var_args_prepare(
        &mut self,
        pos: &mut Vec<Word>,
        n_pos: usize,
        n_kw: usize,
        seq: Word,
        dict: Word,
    ) -> PR<usize> {
        const W: usize = crate::heap::WORD_BYTES;
        let kw_len = if dict != NULL && self.is_dict(dict) {
            self.dict_len(dict)
        } else {
            0
        };
        let fixed = 1 + n_pos + 2 * (n_kw + kw_len);
        let has_seq = seq != NULL && seq != NONE;
        let array_like = has_seq
            && (seq == rom(R::EmptyTuple)
                || self.seq_type_of(seq) == rom(R::TTuple)
                || self.type_of(seq) == rom(R::TList));
        let items = if array_like {
            self.seq_items(seq)
        } else {
            Vec::new()
        };
        let mut alloc = if array_like {
            fixed + items.len()
        } else if has_seq {
            fixed + 3
        } else {
            fixed
        };
        let arr = self.alloc(alloc * W)?;
        let slot = self.vpush(arr);
        for (i, w) in pos.iter().enumerate() {
            self.wf(arr, i, *w);
        }
        if array_like {
            for w in items {
                self.wf(arr, pos.len(), w);
                pos.push(w);
            }
            return Ok(slot);
        }
        if has_seq {
            let (a, k, mut i) = self.iter_start(seq)?;
            self.vpush(a);
            loop {
                self.poll()?;
                let Some((w, ni)) = self.iter_step(a, k, i)? else {
                    break;
                };
                i = ni;
                if pos.len() >= alloc {
                    let h = self.hold(w);
                    let old = self.vget(slot);
                    let r = self.st.heap.realloc(old, alloc * 2 * W, true);
                    self.release(h);
                    match r {
                        Some(p) => {
                            self.vset(slot, p);
                            alloc *= 2;
                        }
                        None => {
                            self.st.alloc_fail = alloc * 2 * W;
                            return Err(rom(R::MemoryErrorObj));
                        }
                    }
                }
                let arr = self.vget(slot);
                self.wf(arr, pos.len(), w);
                pos.push(w);
            }
        }
        Ok(slot)
    }

    // ------------------------------------------------------------------ operators

    /// `mp_unary_op` for the bytecode ops.
    pub fn unary_op(&mut self, op: u8, a: Word) -> PR<Word> {
        if op == uop::NOT {
            return Ok(py_bool(!self.is_true(a)?));
        }
        if let Some(i) = int_of(a) {
            let v = i64::from(i);
            return match op {
                uop::POSITIVE => self.new_int(v),
                uop::NEGATIVE => self.new_int_any(-v),
                uop::INVERT => self.new_int(!v),
                _ => Err(self.not_impl("unary op")),
            };
        }
        if self.is_big(a) {
            return match op {
                uop::POSITIVE => Ok(a),
                uop::NEGATIVE => self.big_unary(a, 0),
                uop::INVERT => self.big_unary(a, 1),
                _ => Err(self.not_impl("unary op")),
            };
        }
        if self.type_of(a) == rom(R::TFloat) {
            let v = self.float_value(a);
            return match op {
                uop::POSITIVE => Ok(a),
                uop::NEGATIVE => self.new_float(-v),
                _ => Err(self.unary_type_error(op, a)),
            };
        }
        let t = self.type_of(a);
        if self.is_user_type(t) {
            let name = match op {
                uop::POSITIVE => "__pos__",
                uop::NEGATIVE => "__neg__",
                _ => "__invert__",
            };
            let mq = q!(self, name);
            if let Some(m) = self.class_lookup(t, mq) {
                return self.call_method_with_self(m, a, &[]);
            }
            if let Some(sub) = self.native_sub(a) {
                return self.unary_op(op, sub);
            }
        }
        Err(self.unary_type_error(op, a))
    }

    fn unary_type_error(&mut self, op: u8, a: Word) -> Word {
        let name = match op {
            uop::POSITIVE => "__pos__",
            uop::NEGATIVE => "__neg__",
            _ => "__invert__",
        };
        let n = self.type_name(a);
        self.exc_varg(R::ETypeError, "unsupported type for %q: '%s'", &[name, &n])
    }

    fn is_set_like(&self, w: Word) -> bool {
        let t = self.type_of(w);
        t == rom(R::TSet) || t == rom(R::TFrozenset)
    }

    /// `set_binary_op`: the operators between a set or frozenset and another one, through
    /// the same routines as the methods (`union`, `symmetric_difference`, ...); the in-place
    /// forms update a set and make a new frozenset.
    fn set_binary_op(&mut self, op: u8, a: Word, b: Word) -> PR<Option<Word>> {
        if !self.is_set_like(a) || !self.is_set_like(b) {
            return Ok(None);
        }
        let update = self.type_of(a) == rom(R::TSet);
        let r = match op {
            bop::OR => self.set_copy_then(a, b, Self::set_update_int)?,
            bop::XOR => self.set_copy_then(a, b, Self::set_symmetric_difference_update)?,
            bop::AND => self.set_intersect_int(a, b, false)?,
            bop::SUBTRACT => self.set_diff_int(&[a, b], false)?,
            bop::INPLACE_OR if update => {
                self.set_update_int(a, b)?;
                a
            }
            bop::INPLACE_OR => self.set_copy_then(a, b, Self::set_update_int)?,
            bop::INPLACE_XOR if update => {
                self.set_symmetric_difference_update(a, b)?;
                a
            }
            bop::INPLACE_XOR => self.set_copy_then(a, b, Self::set_symmetric_difference_update)?,
            bop::INPLACE_AND => {
                let r = self.set_intersect_int(a, b, update)?;
                if update { a } else { r }
            }
            bop::INPLACE_SUBTRACT => self.set_diff_int(&[a, b], update)?,
            bop::LESS => self.set_issubset(a, b, true)?,
            bop::MORE => self.set_issubset(b, a, true)?,
            bop::LESS_EQUAL => self.set_issubset(a, b, false)?,
            bop::MORE_EQUAL => self.set_issubset(b, a, false)?,
            _ => return Ok(None),
        };
        Ok(Some(r))
    }

    /// `mp_binary_op`.
    pub fn binary_op(&mut self, op: u8, a: Word, b: Word) -> PR<Word> {
        // small int against small int ordering, as int_op below answers it (loops and sorts)
        if obj::is_small(a) && obj::is_small(b) {
            let (x, y) = (obj::small_value(a), obj::small_value(b));
            match op {
                bop::LESS => return Ok(py_bool(x < y)),
                bop::MORE => return Ok(py_bool(x > y)),
                bop::LESS_EQUAL => return Ok(py_bool(x <= y)),
                bop::MORE_EQUAL => return Ok(py_bool(x >= y)),
                _ => {}
            }
        }
        // str against str (or bytes against bytes) ordering, as str_binary_op answers it
        // (sorted() of names), compared in place
        if matches!(
            op,
            bop::LESS | bop::MORE | bop::LESS_EQUAL | bop::MORE_EQUAL
        ) && let (Some((sa, da)), Some((sb, db))) = (
            str_data(&self.st.qstrs, &self.st.heap, a),
            str_data(&self.st.qstrs, &self.st.heap, b),
        ) && sa == sb
        {
            let o = da.cmp(db);
            return Ok(py_bool(match op {
                bop::LESS => o.is_lt(),
                bop::MORE => o.is_gt(),
                bop::LESS_EQUAL => o.is_le(),
                _ => o.is_ge(),
            }));
        }
        if let Some(v) = self.set_binary_op(op, a, b)? {
            return Ok(v);
        }
        match op {
            bop::IS => return Ok(py_bool(a == b)),
            bop::EQUAL => return Ok(py_bool(self.equal(a, b)?)),
            bop::NOT_EQUAL => return Ok(py_bool(!self.equal(a, b)?)),
            bop::IN => return Ok(py_bool(self.contains(b, a)?)),
            bop::EXCEPTION_MATCH => {
                let t = if self.is_type(a) { a } else { self.type_of(a) };
                if self.type_of(b) == rom(R::TTuple) || b == rom(R::EmptyTuple) {
                    for x in self.seq_items(b) {
                        if self.is_subclass(t, x) {
                            return Ok(TRUE);
                        }
                    }
                    return Ok(FALSE);
                }
                return Ok(py_bool(self.is_subclass(t, b)));
            }
            _ => {}
        }
        // in-place ops behave like the plain ones for the built-in types
        let base_op = if (bop::INPLACE_OR..=bop::INPLACE_POWER).contains(&op) {
            op - bop::INPLACE_OR + bop::OR
        } else {
            op
        };
        if let (Some(x), Some(y)) = (int_of(a), int_of(b)) {
            return self.int_op(base_op, op, i64::from(x), i64::from(y), a, b);
        }
        if self.is_int(a) && self.is_int(b) {
            return self.long_int_op(base_op, op, a, b);
        }
        let (ta, tb) = (self.seq_type_of(a), self.seq_type_of(b));
        let fl = rom(R::TFloat);
        if (ta == fl || tb == fl)
            && let (Some(x), Some(y)) = (self.num_f64(a), self.num_f64(b))
        {
            return self.float_op(base_op, op, x, y, a, b);
        }
        if let Some(r) = self.str_binary_op(base_op, a, b)? {
            return Ok(r);
        }
        if crate::array::is_arr_type(ta)
            && let Some(r) = self.arr_binary(base_op == bop::ADD, op == bop::INPLACE_ADD, a, b)?
        {
            return Ok(r);
        }
        if (ta == rom(R::TStr) || ta == rom(R::TBytes)) && base_op == bop::MODULO {
            return self.str_format_percent(a, b);
        }
        if base_op == bop::MULTIPLY {
            // a sequence times an int that does not fit a machine word: mp_obj_get_int_maybe
            // raises
            let is_seq = self.is_str(a)
                || ta == rom(R::TBytes)
                || ta == rom(R::TList)
                || ta == rom(R::TTuple);
            if is_seq && self.is_big(b) && self.mpz_of(b).and_then(|z| z.as_int_checked()).is_none()
            {
                return Err(self.exc_msg(
                    R::EOverflowError,
                    "overflow converting long int to machine word",
                ));
            }
            if let Some(n) = int_of(b)
                && let Some(r) = self.seq_repeat(a, n)?
            {
                return Ok(r);
            }
            if let Some(n) = int_of(a)
                && let Some(r) = self.seq_repeat(b, n)?
            {
                return Ok(r);
            }
        }
        let seqs = [rom(R::TList), rom(R::TTuple)];
        if seqs.contains(&ta) {
            if base_op == bop::ADD && ta == tb {
                let mut v = self.seq_items(a);
                v.extend(self.seq_items(b));
                return if ta == rom(R::TList) {
                    if op == bop::INPLACE_ADD {
                        self.list_extend(a, b)?;
                        return Ok(a);
                    }
                    self.new_list_alloc(&v, v.len())
                } else {
                    self.new_tuple(&v)
                };
            }
            if op == bop::INPLACE_ADD && ta == rom(R::TList) {
                self.list_extend(a, b)?;
                return Ok(a);
            }
            if ta == tb && (bop::LESS..=bop::MORE_EQUAL).contains(&base_op) && base_op != bop::EQUAL
            {
                return self.seq_compare(base_op, a, b);
            }
        }
        if self.is_user_type(ta) {
            // instance_binary_op: the method named for the operator (of the in-place ones
            // only __iadd__ and __isub__ have a name on the unix port), else the native
            // base's slot, else an in-place operator retries as the plain one
            let mut cur = op;
            loop {
                let name = match cur {
                    bop::INPLACE_ADD => Some("__iadd__"),
                    bop::INPLACE_SUBTRACT => Some("__isub__"),
                    c if (bop::INPLACE_OR..=bop::INPLACE_POWER).contains(&c) => None,
                    c => binop_method(c),
                };
                if let Some(nm) = name {
                    let mq = q!(self, nm);
                    if let Some(m) = self.class_lookup(ta, mq) {
                        // instance_binary_op: NotImplemented means not supported (the
                        // reflected method and the TypeError come next)
                        let r = self.call_method_with_self(m, a, &[b])?;
                        if r == rom(R::NotImplementedObj) {
                            break;
                        }
                        return Ok(r);
                    }
                }
                if let Some(sub) = self.native_sub(a) {
                    return self.binary_op(cur, sub, b);
                }
                if (bop::INPLACE_OR..=bop::INPLACE_POWER).contains(&cur) {
                    cur = cur - bop::INPLACE_OR + bop::OR;
                    continue;
                }
                break;
            }
        }
        // MICROPY_PY_REVERSE_SPECIAL_METHODS: the right operand's __rop__
        if (bop::OR..=bop::POWER).contains(&op) && self.is_user_type(self.type_of(b)) {
            let rname = reverse_binop_name(op);
            let mq = q!(self, rname);
            let tb = self.type_of(b);
            if let Some(m) = self.class_lookup(tb, mq) {
                return self.call_method_with_self(m, b, &[a]);
            }
        }
        if (bop::OR..=bop::POWER).contains(&base_op)
            && self.type_of(b) == rom(R::TStr)
            && ta != rom(R::TStr)
        {
            // 1.9.4 retries with the str on the left (a reflected op), which then refuses the
            // other operand
            return Err(self.bad_implicit_conversion(a));
        }
        Err(self.unsupported_types(op, a, b))
    }

    /// The TypeError of an operator `op` has no meaning for: "unsupported types for %q".
    fn unsupported_types(&mut self, op: u8, a: Word, b: Word) -> Word {
        let name = binop_name(op);
        let (na, nb) = (self.type_name(a), self.type_name(b));
        self.exc_varg(
            R::ETypeError,
            "unsupported types for %q: '%s', '%s'",
            &[name, &na, &nb],
        )
    }

    /// `bad_implicit_conversion` of py/objstr.c.
    pub fn bad_implicit_conversion(&mut self, w: Word) -> Word {
        let n = self.type_name(w);
        let to = if n == "str" { "bytes" } else { "str" };
        self.exc_varg(
            R::ETypeError,
            "can't convert '%q' object to %q implicitly",
            &[&n, to],
        )
    }

    /// `mp_obj_str_binary_op` for `+` and the comparisons (str with str, bytes with anything
    /// that has the buffer protocol); `None` when the operation is not a str/bytes one.
    fn str_binary_op(&mut self, op: u8, a: Word, b: Word) -> PR<Option<Word>> {
        let cmp = (bop::LESS..=bop::MORE_EQUAL).contains(&op);
        if (!cmp && !(bop::OR..=bop::POWER).contains(&op))
            || op == bop::MODULO
            || op == bop::MULTIPLY
        {
            return Ok(None);
        }
        let Some((sa, da)) =
            str_data(&self.st.qstrs, &self.st.heap, a).map(|(t, d)| (t, d.to_vec()))
        else {
            return Ok(None);
        };
        let tb = self.type_of(b);
        let db = if tb == sa {
            self.str_bytes(b).unwrap_or_default()
        } else if sa == rom(R::TBytes) {
            if let Some(d) = self.str_bytes(b) {
                d
            } else if tb == rom(R::TBytearray) {
                self.bytearray_data(b)
            } else {
                return Ok(None);
            }
        } else {
            return Err(self.bad_implicit_conversion(b));
        };
        Ok(Some(match op {
            bop::ADD => {
                if da.is_empty() && tb == sa {
                    return Ok(Some(b));
                }
                if db.is_empty() {
                    return Ok(Some(a));
                }
                let mut v = da;
                v.extend_from_slice(&db);
                if sa == rom(R::TStr) {
                    self.new_str_vstr(&v)?
                } else {
                    self.new_str_heap(R::TBytes, &v)?
                }
            }
            bop::LESS => py_bool(da < db),
            bop::MORE => py_bool(da > db),
            bop::LESS_EQUAL => py_bool(da <= db),
            bop::MORE_EQUAL => py_bool(da >= db),
            _ => return Ok(None),
        }))
    }

    fn seq_repeat(&mut self, a: Word, n: i32) -> PR<Option<Word>> {
        let n = n.max(0) as usize;
        if let Some((t, d)) =
            str_data(&self.st.qstrs, &self.st.heap, a).map(|(t, d)| (t, d.to_vec()))
        {
            if n == 0 {
                // str_binary_op: n <= 0 gives the empty str qstr / mp_const_empty_bytes
                return Ok(Some(if t == rom(R::TStr) {
                    obj::qstr_obj(1)
                } else {
                    rom(R::EmptyBytes)
                }));
            }
            let v = d.repeat(n);
            return Ok(Some(if t == rom(R::TStr) {
                self.new_str_vstr(&v)?
            } else {
                self.new_str_heap(R::TBytes, &v)?
            }));
        }
        let t = self.seq_type_of(a);
        if t == rom(R::TList) || t == rom(R::TTuple) {
            let items = self.seq_items(a);
            let mut v = Vec::with_capacity(items.len() * n);
            for _ in 0..n {
                v.extend_from_slice(&items);
            }
            return Ok(Some(if t == rom(R::TList) {
                self.new_list_alloc(&v, v.len())?
            } else {
                self.new_tuple(&v)?
            }));
        }
        Ok(None)
    }

    /// `mp_seq_cmp_objs`: `<` and `<=` are turned into `>` and `>=` with the sides swapped,
    /// so the first differing items are compared in that order (which decides the error an
    /// unorderable pair raises), and only an exact True result counts.
    fn seq_compare(&mut self, op: u8, a: Word, b: Word) -> PR<Word> {
        let (op, a, b) = match op {
            bop::LESS => (bop::MORE, b, a),
            bop::LESS_EQUAL => (bop::MORE_EQUAL, b, a),
            _ => (op, a, b),
        };
        let (ia, ib) = (self.seq_items(a), self.seq_items(b));
        for (x, y) in ia.iter().zip(ib.iter()) {
            if !self.equal(*x, *y)? {
                let r = self.binary_op(op, *x, *y)?;
                return Ok(py_bool(r == TRUE));
            }
        }
        let (la, lb) = (ia.len(), ib.len());
        Ok(py_bool(match op {
            bop::MORE => la > lb,
            _ => la >= lb,
        }))
    }

    fn int_op(&mut self, op: u8, orig: u8, x: i64, y: i64, a: Word, b: Word) -> PR<Word> {
        match op {
            bop::LESS => return Ok(py_bool(x < y)),
            bop::MORE => return Ok(py_bool(x > y)),
            bop::LESS_EQUAL => return Ok(py_bool(x <= y)),
            bop::MORE_EQUAL => return Ok(py_bool(x >= y)),
            bop::TRUE_DIVIDE => {
                if y == 0 {
                    return Err(self.exc_msg(R::EZeroDivisionError, "division by zero"));
                }
                return self.new_float(x as f64 / y as f64);
            }
            _ => {}
        }
        match mpz_op(op) {
            Some(m) => self.int_binary(m, a, b),
            None => Err(self.unsupported_types(orig, a, b)),
        }
    }

    /// An int operation where one side is a long int (`mp_obj_int_binary_op`).
    fn long_int_op(&mut self, op: u8, orig: u8, a: Word, b: Word) -> PR<Word> {
        use core::cmp::Ordering;
        let c = || self.int_cmp(a, b).unwrap_or(Ordering::Equal);
        match op {
            bop::LESS => return Ok(py_bool(c() == Ordering::Less)),
            bop::MORE => return Ok(py_bool(c() == Ordering::Greater)),
            bop::LESS_EQUAL => return Ok(py_bool(c() != Ordering::Greater)),
            bop::MORE_EQUAL => return Ok(py_bool(c() != Ordering::Less)),
            bop::TRUE_DIVIDE => {
                let (x, y) = (
                    self.mpz_of(a).map_or(0.0, |z| z.to_f64()),
                    self.mpz_of(b).map_or(0.0, |z| z.to_f64()),
                );
                if self.mpz_of(b).is_some_and(|z| z.is_zero()) {
                    return Err(self.exc_msg(R::EZeroDivisionError, "division by zero"));
                }
                return self.new_float(x / y);
            }
            _ => {}
        }
        match mpz_op(op) {
            Some(m) => self.int_binary(m, a, b),
            None => Err(self.unsupported_types(orig, a, b)),
        }
    }

    fn float_op(&mut self, op: u8, orig: u8, x: f64, y: f64, a: Word, b: Word) -> PR<Word> {
        let r = match op {
            bop::LESS => return Ok(py_bool(x < y)),
            bop::MORE => return Ok(py_bool(x > y)),
            bop::LESS_EQUAL => return Ok(py_bool(x <= y)),
            bop::MORE_EQUAL => return Ok(py_bool(x >= y)),
            bop::ADD => x + y,
            bop::SUBTRACT => x - y,
            bop::MULTIPLY => x * y,
            bop::TRUE_DIVIDE | bop::FLOOR_DIVIDE | bop::MODULO => {
                if y == 0.0 {
                    return Err(self.exc_msg(R::EZeroDivisionError, "division by zero"));
                }
                match op {
                    bop::TRUE_DIVIDE => x / y,
                    bop::FLOOR_DIVIDE => float_divmod(x, y).0,
                    _ => {
                        // fmod, then the sign of the right operand
                        let m = libm::fmod(x, y);
                        if m == 0.0 {
                            libm::copysign(0.0, y)
                        } else if (m < 0.0) != (y < 0.0) {
                            m + y
                        } else {
                            m
                        }
                    }
                }
            }
            bop::POWER => {
                if x == 0.0 && y < 0.0 && !y.is_infinite() {
                    return Err(self.exc_msg(R::EZeroDivisionError, "division by zero"));
                }
                x.powf(y)
            }
            _ => return Err(self.unsupported_types(orig, a, b)),
        };
        self.new_float(r)
    }

    /// `x in container`.
    pub fn contains(&mut self, c: Word, x: Word) -> PR<bool> {
        if let Some((t, d)) =
            str_data(&self.st.qstrs, &self.st.heap, c).map(|(t, d)| (t, d.to_vec()))
        {
            if let Some((t2, n)) =
                str_data(&self.st.qstrs, &self.st.heap, x).map(|(t, d)| (t, d.to_vec()))
            {
                if t2 != t && t == rom(R::TStr) {
                    return Err(self.bad_implicit_conversion(x));
                }
                return Ok(n.is_empty() || d.windows(n.len()).any(|w| w == n.as_slice()));
            }
            if t == rom(R::TBytes)
                && let Some(i) = int_of(x)
            {
                return Ok(d.contains(&(i as u8)));
            }
            return Err(self.bad_implicit_conversion(x));
        }
        let t = self.seq_type_of(c);
        if t == rom(R::TDict) {
            self.dict_key_hash(c, x, false)?;
            return Ok(self.dict_get(c, x).is_some());
        }
        if t == rom(R::TArray) || t == rom(R::TMemoryview) {
            return self.arr_contains(x);
        }
        if t == rom(R::TBytearray) {
            // array_binary_op's CONTAINS: a buffer is searched for as bytes; a number
            // is not implemented; anything else is not there
            let needle = if self.type_of(x) == rom(R::TBytearray) {
                Some(self.bytearray_data(x))
            } else {
                self.str_bytes(x)
            };
            if let Some(n) = needle {
                let d = self.bytearray_data(c);
                return Ok(n.is_empty() || d.windows(n.len()).any(|w| w == n.as_slice()));
            }
            if self.is_int(x) || self.type_of(x) == rom(R::TFloat) {
                return Err(self.new_exc(rom(R::ENotImplementedError), &[]));
            }
            return Ok(false);
        }
        // dict_view_binary_op answers `in` for keys views only (a dict lookup); values and
        // items views are walked like any iterable below
        if t == rom(R::TDictView) && self.f(c, 2) == obj::small(it::DKEYS) {
            let d = self.f(c, 1);
            self.dict_key_hash(d, x, false)?;
            return Ok(self.dict_get(d, x).is_some());
        }
        if self.is_set_like(c) {
            // set_binary_op's CONTAINS is a mp_set_lookup: the item is hashed (unless the
            // table is empty)
            self.set_key_hash(c, x)?;
        }
        if self.is_user_type(t) {
            let cq = q!(self, "__contains__");
            if let Some(m) = self.class_lookup(t, cq) {
                let r = self.call_method_with_self(m, c, &[x])?;
                return self.is_true(r);
            }
            if let Some(sub) = self.native_sub(c) {
                return self.contains(sub, x);
            }
        }
        for w in self.collect_iter(c)? {
            if self.equal(w, x)? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    // ------------------------------------------------------------------ subscripts

    /// `obj[index]`.
    pub fn subscr(&mut self, o: Word, idx: Word) -> PR<Word> {
        let t = self.seq_type_of(o);
        if t == rom(R::TDict) {
            // mp_map_lookup hashes the key first (when it needs to): an unhashable one is a
            // TypeError
            self.dict_key_hash(o, idx, false)?;
            return match self.dict_get(o, idx) {
                Some(v) => Ok(v),
                None => Err(self.new_exc(rom(R::EKeyError), &[idx])),
            };
        }
        if self.is_user_type(t) {
            // instance_subscr: a slice goes to __getitem__ like any index
            let gq = q!(self, "__getitem__");
            if let Some(m) = self.class_lookup(t, gq) {
                return self.call_method_with_self(m, o, &[idx]);
            }
            if let Some(sub) = self.native_sub(o) {
                return self.subscr(sub, idx);
            }
        }
        if crate::array::is_arr_type(t)
            && let Some(r) = self.arr_subscr(o, idx, None)?
        {
            return Ok(r);
        }
        if self.type_of(idx) == rom(R::TSlice) {
            return self.slice(o, idx);
        }
        if t == rom(R::TList) || t == rom(R::TTuple) || o == rom(R::EmptyTuple) {
            // the usual case, an int index in range, read in place (what `index` and
            // `seq_items` below give for it) without copying the items or naming the type
            if o != rom(R::EmptyTuple)
                && let Some(i) = int_of(idx)
            {
                let (len, items) = if t == rom(R::TList) {
                    (self.f(o, 2) as usize, self.f(o, 3))
                } else {
                    (self.f(o, 1) as usize, o.wrapping_add(8))
                };
                let j = if i < 0 {
                    i64::from(i) + len as i64
                } else {
                    i64::from(i)
                };
                if (0..len as i64).contains(&j) {
                    return Ok(self.f(items, j as usize));
                }
            }
            let items = self.seq_items(o);
            // mp_get_index names the object's own type (a namedtuple's name)
            let tn = if t == rom(R::TList) {
                "list".into()
            } else {
                self.type_name(o)
            };
            let i = self.index(idx, items.len(), &tn)?;
            return Ok(items[i]);
        }
        if let Some((st, d)) =
            str_data(&self.st.qstrs, &self.st.heap, o).map(|(t, d)| (t, d.to_vec()))
        {
            if st == rom(R::TStr) {
                let chars: Vec<char> = String::from_utf8_lossy(&d).chars().collect();
                let i = self.index(idx, chars.len(), "string")?;
                let mut buf = [0u8; 4];
                let s = chars[i].encode_utf8(&mut buf);
                // mp_obj_new_str_via_qstr: a one-character string is interned
                let q = self.intern(s.as_bytes())?;
                return Ok(obj::qstr_obj(q));
            }
            let i = self.index(idx, d.len(), "bytes")?;
            return Ok(obj::small(i32::from(d[i])));
        }
        if t == rom(R::TBytearray) {
            let d = self.bytearray_data(o);
            let i = self.index(idx, d.len(), "bytearray")?;
            return Ok(obj::small(i32::from(d[i])));
        }
        if t == rom(R::TRange) {
            let (a, b, s) = (
                obj::small_value(self.f(o, 1)) as i64,
                obj::small_value(self.f(o, 2)) as i64,
                obj::small_value(self.f(o, 3)) as i64,
            );
            let i = self.index(idx, range_len(a, b, s), "range")?;
            return Ok(obj::small((a + s * i as i64) as i32));
        }
        let n = self.type_name(o);
        Err(self.exc_varg(R::ETypeError, "'%s' object is not subscriptable", &[&n]))
    }

    /// `mp_get_index` (not a slice): `idx` as a position in `len` items.
    pub(crate) fn index(&mut self, idx: Word, len: usize, what: &str) -> PR<usize> {
        let i = match int_of(idx) {
            Some(i) => i64::from(i),
            None if self.is_big(idx) => match self.mpz_of(idx).and_then(|z| z.as_int_checked()) {
                Some(v) => i64::from(v),
                None => {
                    return Err(self.exc_msg(
                        R::EOverflowError,
                        "overflow converting long int to machine word",
                    ));
                }
            },
            None => {
                let n = self.type_name(idx);
                return Err(self.exc_varg(
                    R::ETypeError,
                    "%q indices must be integers, not %s",
                    &[what, &n],
                ));
            }
        };
        let j = if i < 0 { i + len as i64 } else { i };
        if j < 0 || j >= len as i64 {
            return Err(self.exc_varg(R::EIndexError, "%q index out of range", &[what]));
        }
        Ok(j as usize)
    }

    /// `mp_obj_get_array` for a tuple or list: its items, else TypeError.
    pub(crate) fn tuple_or_list_items(&mut self, w: Word) -> PR<Vec<Word>> {
        let t = self.type_of(w);
        if t != rom(R::TList) && t != rom(R::TTuple) && w != rom(R::EmptyTuple) {
            let n = self.type_name(w);
            return Err(self.exc_varg(R::ETypeError, "object '%s' is not a tuple or list", &[&n]));
        }
        Ok(self.seq_items(w))
    }

    /// A slice's start, stop or step as `mp_obj_get_int` reads it (`None` for None); a
    /// non-int raises "can't convert ... to int".
    pub(crate) fn slice_int(&mut self, w: Word) -> PR<Option<i64>> {
        if w == NONE {
            return Ok(None);
        }
        match int_of(w) {
            Some(i) => Ok(Some(i64::from(i))),
            None => {
                let n = self.type_name(w);
                Err(self.exc_varg(R::ETypeError, "can't convert %s to int", &[&n]))
            }
        }
    }

    /// `range_subscr` with a slice: a new range over the selected items.
    fn range_slice(&mut self, o: Word, sl: Word) -> PR<Word> {
        let (a, b, s) = (
            i64::from(obj::small_value(self.f(o, 1))),
            i64::from(obj::small_value(self.f(o, 2))),
            i64::from(obj::small_value(self.f(o, 3))),
        );
        let len = range_len(a, b, s) as i64;
        let (ostart, ostop, ostep) = (self.f(sl, 1), self.f(sl, 2), self.f(sl, 3));
        let step = self.slice_int(ostep)?.unwrap_or(1);
        if step == 0 {
            return Err(self.value_error("slice step cannot be zero"));
        }
        let start = self.slice_int(ostart)?;
        let stop = self.slice_int(ostop)?;
        let (start, stop) = fast_slice_indexes(len, start, stop, step);
        let r = self.alloc_obj(rom(R::TRange), 4)?;
        let mut nstop = a + stop * s;
        if step < 0 {
            nstop -= s;
        }
        self.wf(r, 1, obj::small((a + start * s) as i32));
        self.wf(r, 2, obj::small(nstop as i32));
        self.wf(r, 3, obj::small((step * s) as i32));
        Ok(r)
    }

    fn slice(&mut self, o: Word, sl: Word) -> PR<Word> {
        let (a, b, s) = (self.f(sl, 1), self.f(sl, 2), self.f(sl, 3));
        let step = if s == NONE {
            1
        } else {
            i64::from(int_of(s).unwrap_or(1))
        };
        if step == 0 {
            return Err(self.value_error("slice step cannot be zero"));
        }
        let t = self.type_of(o);
        if t == rom(R::TRange) {
            return self.range_slice(o, sl);
        }
        if step != 1 && t != rom(R::TList) {
            // 1.9.4 only has fast slices (step 1) for everything but lists
            return Err(self.not_impl("only slices with step=1 (aka None) are supported"));
        }
        if self.is_str(o) {
            let d = self.str_bytes(o).unwrap_or_default();
            if !d.is_ascii() {
                // char indexes in the unicode build
                let starts: Vec<usize> = (0..d.len()).filter(|i| d[*i] & 0xc0 != 0x80).collect();
                let n = starts.len() as i64;
                let bound = |v: Word, def: i64| -> i64 {
                    match int_of(v) {
                        Some(x) => {
                            let x = i64::from(x);
                            (if x < 0 { x + n } else { x }).clamp(0, n)
                        }
                        None => def,
                    }
                };
                let (c0, c1) = (bound(a, 0), bound(b, n));
                let off = |c: i64| starts.get(c as usize).copied().unwrap_or(d.len());
                let (b0, b1) = (off(c0), off(c1.max(c0)));
                return self.new_str_of_type(rom(R::TStr), &d[b0..b1]);
            }
        }
        let (kind, items_w, bytes): (u8, Vec<Word>, Vec<u8>) = if let Some((st, d)) =
            str_data(&self.st.qstrs, &self.st.heap, o).map(|(t, d)| (t, d.to_vec()))
        {
            (if st == rom(R::TStr) { 0 } else { 1 }, vec![], d)
        } else if t == rom(R::TBytearray) {
            (2, vec![], self.bytearray_data(o))
        } else {
            (3, self.seq_items(o), vec![])
        };
        let len = if kind == 3 {
            items_w.len()
        } else {
            bytes.len()
        } as i64;
        let norm = |v: Word, def: i64| -> i64 {
            match int_of(v) {
                Some(x) => {
                    let x = i64::from(x);
                    let x = if x < 0 { x + len } else { x };
                    if step > 0 {
                        x.clamp(0, len)
                    } else {
                        x.clamp(-1, len - 1)
                    }
                }
                None => def,
            }
        };
        let (start, stop) = if step > 0 {
            (norm(a, 0), norm(b, len))
        } else {
            (norm(a, len - 1), norm(b, -1))
        };
        let mut idx = Vec::new();
        let mut i = start;
        while (step > 0 && i < stop) || (step < 0 && i > stop) {
            idx.push(i as usize);
            i += step;
        }
        match kind {
            3 => {
                let v: Vec<Word> = idx.iter().map(|i| items_w[*i]).collect();
                if t == rom(R::TList) && step != 1 {
                    // mp_seq_extract_slice: an empty list appended to item by item
                    let l = self.new_list_alloc(&[], 0)?;
                    let h = self.hold(l);
                    let r = (|| {
                        for w in v {
                            self.list_append(l, w)?;
                        }
                        Ok(l)
                    })();
                    self.release(h);
                    r
                } else if t == rom(R::TList) {
                    self.new_list_alloc(&v, v.len())
                } else {
                    self.new_tuple(&v)
                }
            }
            _ => {
                let v: Vec<u8> = idx.iter().map(|i| bytes[*i]).collect();
                match kind {
                    0 => self.new_str_of_type(rom(R::TStr), &v),
                    1 => self.new_str_of_type(rom(R::TBytes), &v),
                    _ => self.new_bytearray(&v),
                }
            }
        }
    }

    /// `obj[index] = value` (`value == NULL` deletes).
    /// After an item left a list: halve the items array when less than half of it is used
    /// (`list_pop`'s policy, never below 4 slots).
    pub fn list_shrink(&mut self, l: Word) {
        let (alloc, len) = (self.f(l, 1) as usize, self.f(l, 2) as usize);
        if alloc > 4 && alloc > 2 * len {
            let it = self.f(l, 3);
            if let Some(p) = self
                .st
                .heap
                .realloc(it, alloc / 2 * crate::heap::WORD_BYTES, true)
            {
                self.wf(l, 3, p);
                self.wf(l, 1, (alloc / 2) as Word);
            }
        }
    }

    /// `list[a:b] = seq` and `del list[a:b]` (list_subscr with a slice: step 1 only; the items
    /// array grows to exactly the new length and never shrinks here).
    fn list_store_slice(&mut self, l: Word, sl: Word, v: Word) -> PR<()> {
        let (a, b, s) = (self.f(sl, 1), self.f(sl, 2), self.f(sl, 3));
        if s != NONE && int_of(s) != Some(1) {
            return Err(self.not_impl(""));
        }
        let len = self.f(l, 2) as i64;
        let norm = |w: Word, def: i64| -> i64 {
            match int_of(w) {
                Some(x) => {
                    let x = i64::from(x);
                    (if x < 0 { x + len } else { x }).clamp(0, len)
                }
                None => def,
            }
        };
        let start = norm(a, 0) as usize;
        let stop = (norm(b, len) as usize).max(start);
        let new: Vec<Word> = if v == NULL {
            Vec::new()
        } else {
            self.tuple_or_list_items(v)?
        };
        let mut items = self.seq_items(l);
        let old_len = items.len();
        items.splice(start..stop, new);
        let alloc = self.f(l, 1) as usize;
        if items.len() > alloc {
            let it = self.f(l, 3);
            match self
                .st
                .heap
                .realloc(it, items.len() * crate::heap::WORD_BYTES, true)
            {
                Some(p) => {
                    self.wf(l, 3, p);
                    self.wf(l, 1, items.len() as Word);
                }
                None => {
                    self.st.alloc_fail = items.len() * crate::heap::WORD_BYTES;
                    return Err(rom(R::MemoryErrorObj));
                }
            }
        }
        let it = self.f(l, 3);
        for (i, w) in items.iter().enumerate() {
            self.wf(it, i, *w);
        }
        for i in items.len()..old_len {
            self.wf(it, i, NULL);
        }
        self.wf(l, 2, items.len() as Word);
        Ok(())
    }

    pub fn store_subscr(&mut self, o: Word, idx: Word, v: Word) -> PR<()> {
        let t = self.seq_type_of(o);
        if t == rom(R::TDict) {
            if v == NULL {
                self.dict_key_hash(o, idx, false)?;
                if self.dict_del(o, idx).is_none() {
                    return Err(self.new_exc(rom(R::EKeyError), &[idx]));
                }
                return Ok(());
            }
            self.dict_key_hash(o, idx, true)?;
            return self.dict_set(o, idx, v);
        }
        if t == rom(R::TList) {
            if self.type_of(idx) == rom(R::TSlice) {
                return self.list_store_slice(o, idx, v);
            }
            let len = self.f(o, 2) as usize;
            let i = self.index(idx, len, "list")?;
            let it = self.f(o, 3);
            if v == NULL {
                for j in i..len - 1 {
                    let w = self.f(it, j + 1);
                    self.wf(it, j, w);
                }
                self.wf(it, len - 1, 0);
                self.wf(o, 2, (len - 1) as Word);
                self.list_shrink(o);
                return Ok(());
            }
            self.wf(it, i, v);
            return Ok(());
        }
        if crate::array::is_arr_type(t) && v != NULL && self.arr_subscr(o, idx, Some(v))?.is_some()
        {
            return Ok(());
        }
        if self.is_user_type(t) {
            let name = if v == NULL {
                "__delitem__"
            } else {
                "__setitem__"
            };
            let mq = q!(self, name);
            if let Some(m) = self.class_lookup(t, mq) {
                return self.call_store(m, &[o, idx], v);
            }
            if let Some(sub) = self.native_sub(o) {
                return self.store_subscr(sub, idx, v);
            }
        }
        let n = self.type_name(o);
        if v == NULL {
            Err(self.exc_varg(
                R::ETypeError,
                "'%s' object does not support item deletion",
                &[&n],
            ))
        } else {
            Err(self.exc_varg(
                R::ETypeError,
                "'%s' object does not support item assignment",
                &[&n],
            ))
        }
    }

    // ------------------------------------------------------------------ printing

    /// What `module_print` shows of a heap module: its `__name__` and, if it has one, its
    /// `__file__`.
    fn module_name_file(&mut self, w: Word) -> (String, Option<String>) {
        let g = self.f(w, 1);
        let nq = q!(self, "__name__");
        let fq = q!(self, "__file__");
        let name = self
            .dict_getq(g, nq)
            .map(|n| self.to_str(n))
            .unwrap_or_default();
        let file = self.dict_getq(g, fq).map(|f| self.to_str(f));
        (name, file)
    }

    /// Keeps the first exception raised by Python code run while printing (rooted until the
    /// printing builtin's [`Rt::take_print_err`]).
    pub(crate) fn note_print_err(&mut self, e: Word) {
        if self.st.print_err.is_none() {
            self.hold(e);
            self.st.print_err = Some(e);
        }
    }

    /// Runs a printer and raises what a user `__repr__`/`__str__` raised during it (1.9.4's
    /// printers let the exception through at once; here the printing finishes first).
    pub(crate) fn take_print_err<T>(&mut self, f: impl FnOnce(&mut Self) -> PR<T>) -> PR<T> {
        let outer = self.st.print_err.take();
        let mark = self.hold(NONE);
        let r = f(self);
        let err = self.st.print_err.take();
        self.release(mark);
        self.st.print_err = outer;
        match err {
            Some(e) => Err(e),
            None => r,
        }
    }

    /// `str(w)` as text.
    pub fn to_str(&mut self, w: Word) -> String {
        let t = self.type_of(w);
        if t == rom(R::TStr) {
            return self.str_string(w).unwrap_or_default();
        }
        // instance_print: a user __str__ first (then __repr__ through repr)
        if self.is_user_type(t) {
            let sq = q!(self, "__str__");
            if let Some(m) = self.class_lookup(t, sq)
                && R::from_addr(m).is_none()
            {
                match self.call_method_with_self(m, w, &[]) {
                    Ok(r) => return self.to_str(r),
                    Err(e) => self.note_print_err(e),
                }
            }
        }
        if self.is_exception(w) {
            return self.exc_str(w);
        }
        self.repr(w)
    }

    /// `repr(w)` as text.
    /// The repr of `w` together with the lengths of the writes 1.9.4's print functions make
    /// to produce it (`mp_obj_print_helper` with `PRINT_REPR`): strs and bytes character by
    /// character, containers piece by piece, anything else as one write.
    pub fn repr_with_pieces(&mut self, w: Word) -> (String, Vec<usize>) {
        let text = self.repr(w);
        let pieces = self.printed_pieces(w, text.len(), true);
        (text, pieces)
    }

    /// Whether printing `w` would nest deeper than 1.9.4's C stack allows: every container
    /// level is a `mp_obj_print_helper` call with its `MP_STACK_CHECK`, so a structure nested
    /// a few hundred levels deep (or one that contains itself) raises RuntimeError.
    pub(crate) fn print_too_deep(&self, w: Word) -> bool {
        let budget = STACK_LIMIT.saturating_sub(self.st.depth + PRINT_ENTRY_COST) * 20;
        let mut visited = 0;
        self.print_walk(w, 0, budget, &mut visited)
    }

    fn print_walk(&self, w: Word, used: usize, budget: usize, visited: &mut usize) -> bool {
        *visited += 1;
        if *visited > 1_000_000 || obj::is_small(w) || obj::is_qstr(w) || !self.st.heap.contains(w)
        {
            return false;
        }
        let t = self.type_of(w);
        let (cost, items) = match R::from_addr(t) {
            Some(R::TList | R::TTuple) => (PRINT_SEQ_COST20, self.seq_items(w)),
            Some(R::TSet | R::TFrozenset) => (PRINT_SEQ_COST20, self.set_items(w)),
            Some(R::TDict | R::TOrderedDict) => (
                PRINT_DICT_COST20,
                self.dict_items(w)
                    .into_iter()
                    .flat_map(|(k, v)| [k, v])
                    .collect(),
            ),
            _ => return false,
        };
        let used = used + cost;
        used > budget
            || items
                .into_iter()
                .any(|x| self.print_walk(x, used, budget, visited))
    }

    /// `repr(w)` (`repr`) or `str(w)` as a new str the way `mp_builtin_repr` and
    /// `mp_obj_str_make_new` make it: a 16-byte vstr first, then the printing (which may
    /// run a user `__repr__`/`__str__` that allocates in turn), then the str from the vstr.
    /// When printing runs Python code its output is taken as one write.
    pub fn printed_str_of(&mut self, w: Word, repr: bool) -> PR<Word> {
        self.take_print_err(|rt| rt.printed_str_of_inner(w, repr))
    }

    fn printed_str_of_inner(&mut self, w: Word, repr: bool) -> PR<Word> {
        if let Some((t, d)) = str_data(&self.st.qstrs, &self.st.heap, w) {
            // a str or bytes (the driver's records print many): its text and the vstr sizes
            // its writes go through in one pass, without a list of pieces
            let is_bytes = t != rom(R::TStr);
            let mut sizes = crate::runtime::VstrSizes::new(16);
            let text = if repr || is_bytes {
                let mut text = String::with_capacity(d.len() + 3);
                if is_bytes {
                    text.push('b');
                    sizes.write(1);
                    repr_bytes(d, &mut text);
                } else {
                    repr_str(&crate::runtime::lossy(d), &mut text);
                }
                quoted_pieces(d, is_bytes, &mut sizes);
                text.into_bytes()
            } else {
                if !d.is_empty() {
                    sizes.write(d.len());
                }
                d.to_vec()
            };
            if sizes.len() != text.len() {
                // as printed_pieces: a shape the piece model does not know is one write
                return self.new_str_printed(&text, &[text.len()]);
            }
            return self.new_str_from_vstr_sizes(R::TStr, sizes.sizes(), &text);
        }
        if self.print_too_deep(w) {
            return Err(self.exc_msg(R::ERuntimeError, "maximum recursion depth exceeded"));
        }
        if self.pure_print(w, 0) {
            // repr_with_pieces / str_with_pieces without asking pure_print again
            let mut pieces = Vec::new();
            let t = if repr {
                let t = self.repr(w).into_bytes();
                self.repr_pieces(w, &mut pieces, 0);
                t
            } else {
                let t = if self.is_str(w) {
                    self.str_bytes(w).unwrap_or_default()
                } else {
                    self.to_str(w).into_bytes()
                };
                self.str_pieces(w, &mut pieces, 0);
                t
            };
            if pieces.iter().sum::<usize>() != t.len() {
                // a shape the piece model does not know: one write
                pieces = vec![t.len()];
            }
            return self.new_str_printed(&t, &pieces);
        }
        let base = self.vlen();
        self.vpush(w);
        let r = self.vstr_new(16).and_then(|mut v| {
            let t = if repr {
                self.repr(w).into_bytes()
            } else {
                self.str_with_pieces(w).0
            };
            self.vstr_write(&mut v, t.len())?;
            self.vstr_finish(v, R::TStr, &t)
        });
        self.vtrunc(base);
        r
    }

    /// Whether printing `w` runs no Python code (no user `__repr__`/`__str__` anywhere in
    /// it), so that its print pieces can be worked out without calling anything twice.
    fn pure_print(&self, w: Word, depth: usize) -> bool {
        if depth > PRINT_MAX_NEST {
            return false;
        }
        if obj::is_small(w) || obj::is_qstr(w) || R::from_addr(w).is_some() {
            return true;
        }
        let t = self.seq_type_of(w);
        if self.is_user_type(t) {
            return false;
        }
        match R::from_addr(t) {
            Some(R::TList | R::TTuple) => {
                let n = self.seq_items(w);
                n.iter().all(|x| self.pure_print(*x, depth + 1))
            }
            Some(R::TDict) => self
                .dict_items(w)
                .iter()
                .all(|(k, v)| self.pure_print(*k, depth + 1) && self.pure_print(*v, depth + 1)),
            Some(R::TSet | R::TFrozenset) => self
                .set_items(w)
                .iter()
                .all(|x| self.pure_print(*x, depth + 1)),
            _ if self.is_exception(w) => self
                .exc_args(w)
                .iter()
                .all(|x| self.pure_print(*x, depth + 1)),
            _ => true,
        }
    }

    /// The write lengths for printing `w` (`repr`: `PRINT_REPR`, else `PRINT_STR`) whose text
    /// is `len` bytes; one write when the model does not know the shape or printing would
    /// run Python code.
    pub fn printed_pieces(&mut self, w: Word, len: usize, repr: bool) -> Vec<usize> {
        if !self.pure_print(w, 0) {
            return vec![len];
        }
        let mut pieces = Vec::new();
        if repr {
            self.repr_pieces(w, &mut pieces, 0);
        } else {
            self.str_pieces(w, &mut pieces, 0);
        }
        if pieces.iter().sum::<usize>() != len {
            // a shape the piece model does not know: one write
            // a shape the piece model does not know: one write
            pieces = vec![len];
        }
        pieces
    }

    /// `str(w)`'s text together with the lengths of the writes 1.9.4's print functions make
    /// with `PRINT_STR`: a str in one write, an exception as its only argument (or its
    /// argument tuple), anything else as its repr (containers print their items as reprs).
    pub fn str_with_pieces(&mut self, w: Word) -> (Vec<u8>, Vec<usize>) {
        let text = if self.is_str(w) {
            self.str_bytes(w).unwrap_or_default()
        } else {
            self.to_str(w).into_bytes()
        };
        let pieces = self.printed_pieces(w, text.len(), false);
        (text, pieces)
    }

    fn str_pieces(&mut self, w: Word, out: &mut Vec<usize>, depth: usize) {
        if self.is_str(w) {
            let n = self.str_bytes(w).map_or(0, |b| b.len());
            if n > 0 {
                out.push(n);
            }
        } else if self.is_exception(w) && !self.is_user_type(self.type_of(w)) {
            let args = self.exc_args(w);
            match args.len() {
                0 => {}
                1 if depth < 20 => self.str_pieces(args[0], out, depth + 1),
                _ => self.seq_pieces(&args, true, out, depth + 1),
            }
        } else if self.is_int(w) {
            out.push(self.to_str(w).len());
        } else {
            self.repr_pieces(w, out, depth);
        }
    }

    /// `list_print` / `mp_obj_tuple_print`'s writes for `items`.
    fn seq_pieces(&mut self, items: &[Word], tuple: bool, out: &mut Vec<usize>, depth: usize) {
        out.push(1);
        for (i, x) in items.iter().enumerate() {
            if i > 0 {
                out.push(2);
            }
            self.repr_pieces(*x, out, depth + 1);
        }
        if tuple && items.len() == 1 {
            out.push(1);
        }
        out.push(1);
    }

    pub(crate) fn repr_pieces(&mut self, w: Word, out: &mut Vec<usize>, depth: usize) {
        if depth > PRINT_MAX_NEST {
            out.push(self.repr(w).len());
            return;
        }
        if let Some((t, d)) = str_data(&self.st.qstrs, &self.st.heap, w) {
            let is_bytes = t != rom(R::TStr);
            if is_bytes {
                out.push(1);
            }
            quoted_pieces(d, is_bytes, out);
            return;
        }
        let t = self.type_of(w);
        if self.is_namedtuple_type(t) {
            let mut scratch = String::new();
            self.namedtuple_repr(w, &mut scratch, Some(out), depth);
            return;
        }
        match R::from_addr(t) {
            Some(tr @ (R::TList | R::TTuple)) if w != rom(R::EmptyTuple) => {
                let items = self.seq_items(w);
                self.seq_pieces(&items, tr == R::TTuple, out, depth);
            }
            Some(tr @ (R::TDict | R::TOrderedDict)) => {
                // dict_print: "%q(" for a dict of another type, then ")" after the "}"
                let other = tr != R::TDict;
                if other {
                    out.push(11);
                    out.push(1);
                }
                out.push(1);
                for (i, (k, v)) in self.dict_items(w).into_iter().enumerate() {
                    if i > 0 {
                        out.push(2);
                    }
                    self.repr_pieces(k, out, depth + 1);
                    out.push(2);
                    self.repr_pieces(v, out, depth + 1);
                }
                out.push(1);
                if other {
                    out.push(1);
                }
            }
            Some(R::TSet | R::TFrozenset) => {
                let frozen = t == rom(R::TFrozenset);
                let items = self.set_items(w);
                if items.is_empty() {
                    if frozen {
                        out.push(6);
                    }
                    out.push(5);
                    return;
                }
                if frozen {
                    out.push(10);
                }
                out.push(1);
                for (i, x) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(2);
                    }
                    self.repr_pieces(*x, out, depth + 1);
                }
                out.push(1);
                if frozen {
                    out.push(1);
                }
            }
            Some(R::TModule) if self.st.heap.contains(w) => {
                // module_print: mp_printf("<module '%s' from '%s'>") or "<module '%s'>"
                let (name, file) = self.module_name_file(w);
                out.extend([9, name.len()]);
                if let Some(f) = file {
                    out.extend([8, f.len()]);
                }
                out.push(2);
            }
            _ if self.st.heap.contains(w) && self.is_exception(w) && !self.is_user_type(t) => {
                // mp_obj_exception_print: the type's name, then its args as a tuple
                let name = self.type_name(w);
                out.push(name.len());
                let args = self.exc_args(w);
                if args.is_empty() {
                    out.extend([1, 1]);
                } else {
                    self.seq_pieces(&args, true, out, depth);
                }
            }
            Some(R::TArray | R::TBytearray) => self.array_repr_pieces(w, out, depth),
            _ => out.push(self.repr(w).len()),
        }
    }

    pub fn repr(&mut self, w: Word) -> String {
        let mut out = String::new();
        self.repr_into(w, &mut out, 0);
        out
    }

    pub(crate) fn repr_into(&mut self, w: Word, out: &mut String, depth: usize) {
        if depth > PRINT_MAX_NEST {
            out.push_str("...");
            return;
        }
        if let Some(i) = int_of(w).filter(|_| obj::is_small(w)) {
            push_decimal(i64::from(i), out);
            return;
        }
        if self.is_big(w) {
            out.push_str(&self.int_text(w, 10, false, "").unwrap_or_default());
            return;
        }
        if crate::romext::fun_entry(w).is_some() {
            out.push_str("<function>");
            return;
        }
        if let Some(r) = R::from_addr(w) {
            match r {
                R::NoneObj => out.push_str("None"),
                R::FloatE | R::FloatPi => out.push_str(&format_float(self.float_value(w))),
                R::True => out.push_str("True"),
                R::False => out.push_str("False"),
                R::Ellipsis => out.push_str("Ellipsis"),
                R::NotImplementedObj => out.push_str("NotImplemented"),
                R::EmptyTuple => out.push_str("()"),
                R::EmptyBytes => out.push_str("b''"),
                R::StrSysVersion => out.push_str("'3.4.0'"),
                R::IntMaxsize => out.push_str("2147483647"),
                // the unix port's static streams print their file descriptor
                R::StdinObj => out.push_str("<io.TextIOWrapper 0>"),
                R::StdoutObj => out.push_str("<io.TextIOWrapper 1>"),
                R::StderrObj => out.push_str("<io.TextIOWrapper 2>"),
                R::MemoryErrorObj => out.push_str("MemoryError()"),
                R::KeyboardInterruptObj => out.push_str("KeyboardInterrupt()"),
                r if obj::rom_type_info(r).is_some() => out.push_str(&format!(
                    "<class '{}'>",
                    obj::rom_type_info(r).map_or("?", |i| i.0)
                )),
                r if self.type_of(w) == rom(R::TModule) => {
                    let name = obj::BUILTIN_MODULES
                        .iter()
                        .find(|(_, m)| *m == r)
                        .map_or("?", |(n, _)| n);
                    // module_print: `__main__`'s globals are a real dict that may hold
                    // `__file__`
                    let fq = q!(self, "__file__");
                    let file = self.module_dict(w).and_then(|g| self.dict_getq(g, fq));
                    match file.and_then(|f| self.str_string(f)) {
                        Some(f) => out.push_str(&format!("<module '{name}' from '{f}'>")),
                        None => out.push_str(&format!("<module '{name}'>")),
                    }
                }
                _ => out.push_str("<function>"),
            }
            return;
        }
        if let Some((t, d)) = str_data(&self.st.qstrs, &self.st.heap, w) {
            if t == rom(R::TStr) {
                repr_str(&crate::runtime::lossy(d), out);
            } else {
                out.push('b');
                repr_bytes(d, out);
            }
            return;
        }
        let t = self.type_of(w);
        if self.is_namedtuple_type(t) {
            self.namedtuple_repr(w, out, None, depth);
            return;
        }
        if let Some(tr) = R::from_addr(t) {
            match tr {
                R::TList | R::TTuple => {
                    let items = self.seq_items(w);
                    let (o, c) = if tr == R::TList {
                        ('[', ']')
                    } else {
                        ('(', ')')
                    };
                    out.push(o);
                    // sys.implementation is a namedtuple in 1.9.4: its fields are named
                    let names: &[&str] = if w == self.slot_get(self.st.sys_impl) {
                        &["name=", "version="]
                    } else {
                        &[]
                    };
                    for (i, x) in items.iter().enumerate() {
                        if i > 0 {
                            out.push_str(", ");
                        }
                        out.push_str(names.get(i).copied().unwrap_or(""));
                        self.repr_into(*x, out, depth + 1);
                    }
                    if tr == R::TTuple && items.len() == 1 {
                        out.push(',');
                    }
                    out.push(c);
                }
                R::TDict | R::TOrderedDict => {
                    if tr != R::TDict {
                        out.push_str("OrderedDict(");
                    }
                    out.push('{');
                    for (i, (k, v)) in self.dict_items(w).into_iter().enumerate() {
                        if i > 0 {
                            out.push_str(", ");
                        }
                        self.repr_into(k, out, depth + 1);
                        out.push_str(": ");
                        self.repr_into(v, out, depth + 1);
                    }
                    out.push('}');
                    if tr != R::TDict {
                        out.push(')');
                    }
                }
                R::TSet | R::TFrozenset => {
                    let frozen = t == rom(R::TFrozenset);
                    let items = self.set_items(w);
                    if items.is_empty() {
                        out.push_str(if frozen { "frozenset()" } else { "set()" });
                        return;
                    }
                    if frozen {
                        out.push_str("frozenset(");
                    }
                    out.push('{');
                    for (i, x) in items.iter().enumerate() {
                        if i > 0 {
                            out.push_str(", ");
                        }
                        self.repr_into(*x, out, depth + 1);
                    }
                    out.push('}');
                    if frozen {
                        out.push(')');
                    }
                }
                R::TFloat => out.push_str(&format_float(self.float_value(w))),
                R::TModule => match self.module_name_file(w) {
                    (name, Some(f)) => out.push_str(&format!("<module '{name}' from '{f}'>")),
                    (name, None) => out.push_str(&format!("<module '{name}'>")),
                },
                R::TFunction => {
                    let n = self.fun_name(w);
                    out.push_str(&format!("<function {} at 0x{:x}>", self.qstr_string(n), w));
                }
                // closure_print (MICROPY_ERROR_REPORTING_DETAILED): the function, then
                // every closed-over cell
                R::TClosure => {
                    // closure_print: the function, the address, then each closed-over cell
                    let f = self.f(w, 1);
                    let n = self.f(w, 2) as usize;
                    out.push_str("<closure ");
                    self.repr_into(f, out, depth + 1);
                    out.push_str(&format!(" at {:x}, n_closed={} ", w, n));
                    for i in 0..n {
                        let c = self.f(w, 3 + i);
                        if c == NULL {
                            out.push_str("(nil)");
                        } else {
                            self.repr_into(c, out, depth + 1);
                        }
                        out.push(' ');
                    }
                    out.push('>');
                }
                R::TBoundMeth => {
                    // bound_meth_print: the address, then self's and the method's reprs
                    let (m, s) = (self.f(w, 1), self.f(w, 2));
                    out.push_str(&format!("<bound_method {:x} ", w));
                    self.repr_into(s, out, depth + 1);
                    out.push('.');
                    self.repr_into(m, out, depth + 1);
                    out.push('>');
                }
                R::TGenInstance => {
                    let n = self.fun_name(self.f(w, 2));
                    let n = self.qstr_string(n);
                    out.push_str(&format!("<generator object '{n}' at {w:x}>"));
                }
                R::TCell => {
                    // cell_print shows the address of the object inside
                    let v = self.f(w, 1);
                    out.push_str(&format!("<cell {:x} ", v));
                    if v == NULL {
                        out.push_str("(nil)");
                    } else {
                        self.repr_into(v, out, depth + 1);
                    }
                    out.push('>');
                }
                R::TSuper => {
                    // super_print: the type and the object, printed with str()
                    let (ty, ob) = (self.f(w, 1), self.f(w, 2));
                    out.push_str("<super: ");
                    let a = self.to_str(ty);
                    out.push_str(&a);
                    out.push_str(", ");
                    let b = self.to_str(ob);
                    out.push_str(&b);
                    out.push('>');
                }
                R::TSlice => {
                    out.push_str("slice(");
                    for i in 1..4 {
                        if i > 1 {
                            out.push_str(", ");
                        }
                        let v = self.f(w, i);
                        self.repr_into(v, out, depth + 1);
                    }
                    out.push(')');
                }
                R::TRange => {
                    let (a, b, s) = (
                        obj::small_value(self.f(w, 1)),
                        obj::small_value(self.f(w, 2)),
                        obj::small_value(self.f(w, 3)),
                    );
                    if s == 1 {
                        out.push_str(&format!("range({a}, {b})"));
                    } else {
                        out.push_str(&format!("range({a}, {b}, {s})"));
                    }
                }
                R::TArray => self.array_repr(w, out),
                R::TBytearray => {
                    out.push_str("bytearray(b");
                    let d = self.bytearray_data(w);
                    repr_bytes(&d, out);
                    out.push(')');
                }
                R::TDictView => {
                    let k = obj::small_value(self.f(w, 2));
                    out.push_str(match k {
                        it::DKEYS => "dict_keys(",
                        it::DVALUES => "dict_values(",
                        _ => "dict_items(",
                    });
                    let items = self.collect_iter(w).unwrap_or_default();
                    out.push('[');
                    for (i, x) in items.iter().enumerate() {
                        if i > 0 {
                            out.push_str(", ");
                        }
                        self.repr_into(*x, out, depth + 1);
                    }
                    out.push_str("])");
                }
                R::TFile => out.push_str(&format!("<io.TextIOWrapper {:x}>", w)),
                R::TStringIO => out.push_str(&format!("<io.StringIO 0x{:x}>", w)),
                R::TBytesIO => out.push_str(&format!("<io.BytesIO 0x{:x}>", w)),
                R::TRe | R::TMatch => out.push_str(&self.re_repr(w)),
                R::TType => out.push_str(&format!("<class '{}'>", self.type_name_of_type(w))),
                r if obj::is_exc_type(r) => self.repr_exc(w, out, depth),
                // mp_obj_print_helper for types without a print slot
                _ => out.push_str(&format!("<{}>", self.type_name(w))),
            }
            return;
        }
        if self.is_user_type(t) {
            if self.is_exception(w) {
                self.repr_exc(w, out, depth);
                return;
            }
            // instance_print with PRINT_REPR looks up __repr__ only (__str__ is for PRINT_STR)
            let rq = q!(self, "__repr__");
            if let Some(m) = self.class_lookup(t, rq) {
                match self.call_method_with_self(m, w, &[]) {
                    Ok(r) => {
                        out.push_str(&self.to_str(r));
                        return;
                    }
                    Err(e) => self.note_print_err(e),
                }
            }
            if let Some(sub) = self.native_sub(w) {
                self.repr_into(sub, out, depth);
                return;
            }
            out.push_str(&format!("<{} object at {:x}>", self.type_name(w), w));
            return;
        }
        if t == rom(R::TType) {
            out.push_str(&format!("<class '{}'>", self.type_name_of_type(w)));
            return;
        }
        out.push_str(&format!("<object {:x}>", w));
    }

    /// An exception's repr: its type name, then its args as a tuple.
    pub(crate) fn repr_exc(&mut self, w: Word, out: &mut String, depth: usize) {
        out.push_str(&self.type_name(w));
        let args = self.exc_args(w);
        out.push('(');
        for (i, a) in args.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            self.repr_into(*a, out, depth + 1);
        }
        // the args tuple's repr: a comma only after a single item
        if args.len() == 1 {
            out.push(',');
        }
        out.push(')');
    }

    /// `str % args`.
    fn str_format_percent(&mut self, fmt: Word, args: Word) -> PR<Word> {
        self.percent_format(fmt, args)
    }
}

/// `mp_seq_get_fast_slice_indexes`: the bound (start, stop) of a slice over `len` items.
pub fn fast_slice_indexes(
    len: i64,
    start: Option<i64>,
    stop: Option<i64>,
    step: i64,
) -> (i64, i64) {
    let mut start = start.unwrap_or(if step > 0 { 0 } else { len - 1 });
    let mut stop = match stop {
        None => {
            if step > 0 {
                len
            } else {
                0
            }
        }
        Some(v) if v >= 0 && step < 0 => v + 1,
        Some(v) => v,
    };
    if start < 0 {
        start += len;
        if start < 0 {
            start = if step < 0 { -1 } else { 0 };
        }
    } else if step > 0 && start > len {
        start = len;
    } else if step < 0 && start >= len {
        start = len - 1;
    }
    if stop < 0 {
        stop += len;
        if stop < 0 {
            stop = -1;
        }
        if step < 0 {
            stop += 1;
        }
    } else if stop > len {
        stop = len;
    }
    if step > 0 && start > stop {
        stop = start;
    } else if step < 0 && start < stop {
        stop = start + 1;
    }
    (start, stop)
}

/// `mp_obj_float_divmod`: (floor division, modulo) of two floats, `y != 0`.
pub fn float_divmod(x: f64, y: f64) -> (f64, f64) {
    let mut m = libm::fmod(x, y);
    let mut div = (x - m) / y;
    if m == 0.0 {
        m = libm::copysign(0.0, y);
    } else if (m < 0.0) != (y < 0.0) {
        m += y;
        div -= 1.0;
    }
    let fd = if div == 0.0 {
        libm::copysign(0.0, x / y)
    } else {
        let f = libm::floor(div);
        if div - f > 0.5 { f + 1.0 } else { f }
    };
    (fd, m)
}

/// The mpz operation of a bytecode binary operator.
fn mpz_op(op: u8) -> Option<crate::mpz::Op> {
    use crate::mpz::Op;
    Some(match op {
        bop::OR => Op::Or,
        bop::XOR => Op::Xor,
        bop::AND => Op::And,
        bop::LSHIFT => Op::Lshift,
        bop::RSHIFT => Op::Rshift,
        bop::ADD => Op::Add,
        bop::SUBTRACT => Op::Sub,
        bop::MULTIPLY => Op::Mul,
        bop::FLOOR_DIVIDE => Op::FloorDiv,
        bop::MODULO => Op::Mod,
        bop::POWER => Op::Pow,
        _ => return None,
    })
}

/// The int value of a small int or bool.
pub fn int_of(w: Word) -> Option<i32> {
    if obj::is_small(w) {
        Some(obj::small_value(w))
    } else if w == TRUE {
        Some(1)
    } else if w == FALSE {
        Some(0)
    } else {
        None
    }
}

fn binop_name(op: u8) -> &'static str {
    const NAMES: [&str; 33] = [
        "__lt__",
        "__gt__",
        "__eq__",
        "__le__",
        "__ge__",
        "__ne__",
        "__contains__",
        "__is__",
        "__exception_match__",
        "__ior__",
        "__ixor__",
        "__iand__",
        "__ilshift__",
        "__irshift__",
        "__iadd__",
        "__isub__",
        "__imul__",
        "__ifloordiv__",
        "__itruediv__",
        "__imod__",
        "__ipow__",
        "__or__",
        "__xor__",
        "__and__",
        "__lshift__",
        "__rshift__",
        "__add__",
        "__sub__",
        "__mul__",
        "__floordiv__",
        "__truediv__",
        "__mod__",
        "__pow__",
    ];
    NAMES.get(op as usize).copied().unwrap_or("?")
}

/// The reflected method of a plain binary operator (`__radd__` for `+`, ...).
fn reverse_binop_name(op: u8) -> &'static str {
    match op {
        bop::OR => "__ror__",
        bop::XOR => "__rxor__",
        bop::AND => "__rand__",
        bop::LSHIFT => "__rlshift__",
        bop::RSHIFT => "__rrshift__",
        bop::ADD => "__radd__",
        bop::SUBTRACT => "__rsub__",
        bop::MULTIPLY => "__rmul__",
        bop::FLOOR_DIVIDE => "__rfloordiv__",
        bop::TRUE_DIVIDE => "__rtruediv__",
        bop::MODULO => "__rmod__",
        _ => "__rpow__",
    }
}

fn binop_method(op: u8) -> Option<&'static str> {
    let n = binop_name(op);
    (n != "?").then_some(n)
}

/// MicroPython's str repr: `'` unless the text has `'` and no `"`.
/// The writes `mp_printf`'s `%0Nx` makes for `v`: the zero padding (when shorter than
/// `width`), then the digits.
fn hex_pieces<P: Pieces + ?Sized>(v: u32, width: usize, out: &mut P) {
    // the number of hex digits of v (at least one)
    let n = (32 - v.leading_zeros() as usize).div_ceil(4).max(1);
    if n < width {
        out.piece(width - n);
    }
    out.piece(n);
}

/// Where the lengths of a printer's successive writes go: a list of them, or straight into
/// the buffer sizes of the vstr being printed into ([`crate::runtime::VstrSizes`]).
pub trait Pieces {
    /// One write of `n` bytes.
    fn piece(&mut self, n: usize);
}

impl Pieces for Vec<usize> {
    fn piece(&mut self, n: usize) {
        self.push(n);
    }
}

/// The lengths of the successive writes 1.9.4's `uni_print_quoted` (a str) or
/// `mp_str_print_quoted` (bytes, `is_bytes`) makes into its printer: one per character, two
/// for an escaped quote, and the escape sequences in their parts. A vstr being printed into
/// grows at write boundaries, so the sizes its buffer takes depend on them.
pub fn quoted_pieces<P: Pieces + ?Sized>(d: &[u8], is_bytes: bool, out: &mut P) {
    let q = if d.contains(&b'\'') && !d.contains(&b'"') {
        b'"'
    } else {
        b'\''
    };
    out.piece(1);
    let emit = |ch: u32, out: &mut P| match ch {
        c if c == u32::from(q) => {
            out.piece(1);
            out.piece(1);
        }
        0x5c | 0x0a | 0x0d | 0x09 => out.piece(2),
        32..=126 => out.piece(1),
        c if is_bytes && c != 0x7f && (0x80..0x100).contains(&c) => out.piece(1),
        c if c < 0x100 => {
            out.piece(2);
            hex_pieces(c, 2, out);
        }
        c if c < 0x10000 => {
            out.piece(2);
            hex_pieces(c, 4, out);
        }
        c => {
            out.piece(2);
            hex_pieces(c, 8, out);
        }
    };
    if is_bytes {
        for b in d {
            emit(u32::from(*b), out);
        }
    } else {
        for c in crate::runtime::lossy(d).chars() {
            emit(c as u32, out);
        }
    }
    out.piece(1);
}

/// `n` in decimal, as `format!("{n}")` writes it, without a temporary string.
pub fn push_decimal(n: i64, out: &mut String) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut m = n.unsigned_abs();
    loop {
        i -= 1;
        buf[i] = b'0' + (m % 10) as u8;
        m /= 10;
        if m == 0 {
            break;
        }
    }
    if n < 0 {
        out.push('-');
    }
    out.extend(buf[i..].iter().map(|&b| char::from(b)));
}

pub fn repr_str(s: &str, out: &mut String) {
    let q = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    out.push(q);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == q => {
                out.push('\\');
                out.push(c);
            }
            c if (' '..='~').contains(&c) => out.push(c),
            // uni_print_quoted escapes everything outside printable ASCII
            c if (c as u32) < 0x100 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push(q);
}

/// MicroPython's bytes repr (without the `b`).
pub fn repr_bytes(d: &[u8], out: &mut String) {
    let q = if d.contains(&b'\'') && !d.contains(&b'"') {
        b'"'
    } else {
        b'\''
    };
    out.push(q as char);
    for &c in d {
        match c {
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            c if c == q => {
                out.push('\\');
                out.push(c as char);
            }
            c if !(0x20..0x7f).contains(&c) => out.push_str(&format!("\\x{c:02x}")),
            c => out.push(c as char),
        }
    }
    out.push(q as char);
}

/// A float as MicroPython prints it (`float_print`: 1.9.4's `%.16g`, with `.0` added to
/// integral values).
pub fn format_float(v: f64) -> String {
    crate::strfmt::float_repr(v)
}

#[allow(dead_code)]
fn unused(_: Word) -> Word {
    NONE
}

/// Modelled C stack of one level of printing a list, tuple or set (its print function and
/// `mp_obj_print_helper`), in twentieths of a byte; calibrated on unix32 nesting depths.
const PRINT_SEQ_COST20: usize = 1255;
/// The same for a dict level (`dict_print` has a larger frame).
const PRINT_DICT_COST20: usize = 1567;
/// Modelled C stack between a `repr()`/`str()` call and its first print level.
const PRINT_ENTRY_COST: usize = 256;
/// Nesting beyond which the printers stop descending (beyond any depth the stack model lets
/// through, so only an object printed by a path without the check is cut short).
const PRINT_MAX_NEST: usize = 1000;
