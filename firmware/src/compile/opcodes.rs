//! MicroPython 1.9.4 bytecode opcodes (py/bc0.h) and operator numbers (py/runtime0.h).
//!
//! Operand encodings used below (py/emitbc.c, unix/esp8266 ports: `MICROPY_PERSISTENT_CODE=1`
//! because of `MICROPY_PERSISTENT_CODE_LOAD`, `MICROPY_OPT_CACHE_MAP_LOOKUP_IN_BYTECODE=1`):
//! * **uint**: variable-length unsigned, 7 bits per byte, most significant group first, bit 7 set on
//!   every byte but the last.
//! * **sint**: like uint but signed: the top data bit (0x40) of the first byte is the sign.
//! * **qstr**: the qstr id as 2 bytes, little-endian.
//! * **cache**: one extra byte (initially 0) used by the VM as a map-lookup cache slot.
//! * **ptr**: a uint index into the code block's const table (arg names, then objects, then raw codes).
//! * **slabel**: 16-bit little-endian offset relative to the end of the instruction, stored in excess
//!   0x8000 (signed). **ulabel**: the same without excess (unsigned, forward only).
//!
//! Stack effects are written as `(before -- after)`.

/// `( -- False)`.
pub const LOAD_CONST_FALSE: u8 = 0x10;
/// `( -- None)`.
pub const LOAD_CONST_NONE: u8 = 0x11;
/// `( -- True)`.
pub const LOAD_CONST_TRUE: u8 = 0x12;
/// sint operand: `( -- int)` for small ints outside -16..=47.
pub const LOAD_CONST_SMALL_INT: u8 = 0x14;
/// qstr operand: `( -- str)` (an interned string).
pub const LOAD_CONST_STRING: u8 = 0x16;
/// ptr operand: `( -- obj)` (long str, bytes, big int, float, Ellipsis).
pub const LOAD_CONST_OBJ: u8 = 0x17;
/// `( -- NULL)`: the null marker (used by `del x.a` / `del x[i]`).
pub const LOAD_NULL: u8 = 0x18;
/// uint local number: `( -- value)`, for locals >= 16.
pub const LOAD_FAST_N: u8 = 0x19;
/// uint local number of a cell: `( -- cell contents)`.
pub const LOAD_DEREF: u8 = 0x1a;
/// qstr + cache: `( -- value)` from locals dict, then globals, then builtins.
pub const LOAD_NAME: u8 = 0x1b;
/// qstr + cache: `( -- value)` from globals, then builtins.
pub const LOAD_GLOBAL: u8 = 0x1c;
/// qstr + cache: `(obj -- obj.attr)`.
pub const LOAD_ATTR: u8 = 0x1d;
/// qstr (no cache): `(obj -- method self_or_NULL)`.
pub const LOAD_METHOD: u8 = 0x1e;
/// qstr: `(method self -- method self)` for `super().m` (pops 2, pushes... net -1: `(a b c -- m s)`).
pub const LOAD_SUPER_METHOD: u8 = 0x1f;
/// `( -- __build_class__)`.
pub const LOAD_BUILD_CLASS: u8 = 0x20;
/// `(obj index -- obj[index])`.
pub const LOAD_SUBSCR: u8 = 0x21;
/// uint local number: `(value -- )`, for locals >= 16.
pub const STORE_FAST_N: u8 = 0x22;
/// uint local number of a cell: `(value -- )`.
pub const STORE_DEREF: u8 = 0x23;
/// qstr: `(value -- )` into the locals dict.
pub const STORE_NAME: u8 = 0x24;
/// qstr: `(value -- )` into globals.
pub const STORE_GLOBAL: u8 = 0x25;
/// qstr + cache: `(value obj -- )`: `obj.attr = value` (value NULL means delete).
pub const STORE_ATTR: u8 = 0x26;
/// `(value obj index -- )`: `obj[index] = value` (value NULL means delete).
pub const STORE_SUBSCR: u8 = 0x27;
/// uint local number: `( -- )`.
pub const DELETE_FAST: u8 = 0x28;
/// uint local number of a cell: `( -- )`.
pub const DELETE_DEREF: u8 = 0x29;
/// qstr: `( -- )`.
pub const DELETE_NAME: u8 = 0x2a;
/// qstr: `( -- )`.
pub const DELETE_GLOBAL: u8 = 0x2b;
/// `(a -- a a)`.
pub const DUP_TOP: u8 = 0x30;
/// `(a b -- a b a b)`.
pub const DUP_TOP_TWO: u8 = 0x31;
/// `(a -- )`.
pub const POP_TOP: u8 = 0x32;
/// `(a b -- b a)`.
pub const ROT_TWO: u8 = 0x33;
/// `(a b c -- c a b)`.
pub const ROT_THREE: u8 = 0x34;
/// slabel: `( -- )`.
pub const JUMP: u8 = 0x35;
/// slabel: `(cond -- )`.
pub const POP_JUMP_IF_TRUE: u8 = 0x36;
/// slabel: `(cond -- )`.
pub const POP_JUMP_IF_FALSE: u8 = 0x37;
/// slabel: `(cond -- cond)` if jumping, else `(cond -- )`.
pub const JUMP_IF_TRUE_OR_POP: u8 = 0x38;
/// slabel: `(cond -- cond)` if jumping, else `(cond -- )`.
pub const JUMP_IF_FALSE_OR_POP: u8 = 0x39;
/// ulabel (handler): `(ctx -- __exit__ ctx as_value)`; pushes an exception-stack entry.
pub const SETUP_WITH: u8 = 0x3d;
/// `(__exit__ ctx [exc state] -- )`: calls `__exit__`, see py/vm.c.
pub const WITH_CLEANUP: u8 = 0x3e;
/// ulabel (handler): `( -- )`; pushes an exception-stack entry.
pub const SETUP_EXCEPT: u8 = 0x3f;
/// ulabel (handler): `( -- )`; pushes an exception-stack entry.
pub const SETUP_FINALLY: u8 = 0x40;
/// `(None | exc | unwind state -- )`: re-raises or resumes an unwind.
pub const END_FINALLY: u8 = 0x41;
/// `(obj -- iter)`.
pub const GET_ITER: u8 = 0x42;
/// ulabel (loop exit): `(iter_slots -- iter_slots next)`, or on exhaustion pops the 4 iterator slots and jumps.
pub const FOR_ITER: u8 = 0x43;
/// `( -- )`: pops an exception-stack entry.
pub const POP_BLOCK: u8 = 0x44;
/// `( -- )`: pops an exception-stack entry after a handled exception.
pub const POP_EXCEPT: u8 = 0x45;
/// slabel then 1 byte (`0x80` if breaking out of a for loop, low bits: exception depth to unwind).
pub const UNWIND_JUMP: u8 = 0x46;
/// `(obj -- iter_buf[4 slots])`: iterator kept on the value stack (MP_OBJ_ITER_BUF_NSLOTS = 4).
pub const GET_ITER_STACK: u8 = 0x47;
/// uint n: `(x1..xn -- tuple)`.
pub const BUILD_TUPLE: u8 = 0x50;
/// uint n: `(x1..xn -- list)`.
pub const BUILD_LIST: u8 = 0x51;
/// uint n (size hint): `( -- dict)`.
pub const BUILD_MAP: u8 = 0x53;
/// `(dict value key -- dict)`.
pub const STORE_MAP: u8 = 0x54;
/// uint n: `(x1..xn -- set)`.
pub const BUILD_SET: u8 = 0x56;
/// uint `(stack_index << 2) | kind` (kind 0 list append, 1 dict store, 2 set add):
/// `(item -- )` or `(value key -- )` for dicts; the collection sits `stack_index` below.
pub const STORE_COMP: u8 = 0x57;
/// uint n (2 or 3): `(start stop [step] -- slice)`.
pub const BUILD_SLICE: u8 = 0x58;
/// uint n: `(seq -- xn..x1)` (x1 on top).
pub const UNPACK_SEQUENCE: u8 = 0x59;
/// uint `n_left | (n_right << 8)`: `(seq -- right.. list left..)`.
pub const UNPACK_EX: u8 = 0x5a;
/// `(value -- )`: returns.
pub const RETURN_VALUE: u8 = 0x5b;
/// 1 byte n (0..=2): `(exc [cause] -- )`; n=0 re-raises the current exception.
pub const RAISE_VARARGS: u8 = 0x5c;
/// `(value -- sent)`.
pub const YIELD_VALUE: u8 = 0x5d;
/// `(iter value -- result)`.
pub const YIELD_FROM: u8 = 0x5e;
/// ptr to raw code: `( -- fun)`.
pub const MAKE_FUNCTION: u8 = 0x60;
/// ptr to raw code: `(def_tuple def_dict -- fun)`.
pub const MAKE_FUNCTION_DEFARGS: u8 = 0x61;
/// ptr to raw code then 1 byte n_closed: `(cell1..celln -- fun)`.
pub const MAKE_CLOSURE: u8 = 0x62;
/// ptr to raw code then 1 byte n_closed: `(def_tuple def_dict cell1..celln -- fun)`.
pub const MAKE_CLOSURE_DEFARGS: u8 = 0x63;
/// uint `n_pos | (n_kw << 8)`: `(fun pos.. kname kval.. -- result)`.
pub const CALL_FUNCTION: u8 = 0x64;
/// uint `n_pos | (n_kw << 8)`: like CALL_FUNCTION plus `*seq **dict` (either may be NULL/None) on top.
pub const CALL_FUNCTION_VAR_KW: u8 = 0x65;
/// uint `n_pos | (n_kw << 8)`: `(method self pos.. kname kval.. -- result)`.
pub const CALL_METHOD: u8 = 0x66;
/// uint `n_pos | (n_kw << 8)`: like CALL_METHOD plus `*seq **dict` on top.
pub const CALL_METHOD_VAR_KW: u8 = 0x67;
/// qstr: `(fromlist level -- module)`.
pub const IMPORT_NAME: u8 = 0x68;
/// qstr: `(module -- module attr)`.
pub const IMPORT_FROM: u8 = 0x69;
/// `(module -- )`: binds all public names into the current locals.
pub const IMPORT_STAR: u8 = 0x6a;
/// `0x70 + 16 + n` for n in -16..=47: `( -- n)`.
pub const LOAD_CONST_SMALL_INT_MULTI: u8 = 0x70;
/// `0xb0 + n` for local n in 0..=15: `( -- value)`.
pub const LOAD_FAST_MULTI: u8 = 0xb0;
/// `0xc0 + n` for local n in 0..=15: `(value -- )`.
pub const STORE_FAST_MULTI: u8 = 0xc0;
/// `0xd0 + op` for a unary op (< UNARY_OP_NUM_BYTECODE): `(a -- op(a))`.
pub const UNARY_OP_MULTI: u8 = 0xd0;
/// `0xd7 + op` for a binary op (< BINARY_OP_NUM_BYTECODE): `(a b -- a op b)`.
pub const BINARY_OP_MULTI: u8 = 0xd7;

/// Unary operators (py/runtime0.h `mp_unary_op_t`) that appear in bytecode.
pub mod unary {
    /// `+x`.
    pub const POSITIVE: u8 = 0;
    /// `-x`.
    pub const NEGATIVE: u8 = 1;
    /// `~x`.
    pub const INVERT: u8 = 2;
    /// `not x`.
    pub const NOT: u8 = 3;
    /// Number of unary ops that may appear in bytecode.
    pub const NUM_BYTECODE: u8 = 4;
}

/// Binary operators (py/runtime0.h `mp_binary_op_t`) that appear in bytecode.
pub mod binary {
    /// `<`.
    pub const LESS: u8 = 0;
    /// `>`.
    pub const MORE: u8 = 1;
    /// `==`.
    pub const EQUAL: u8 = 2;
    /// `<=`.
    pub const LESS_EQUAL: u8 = 3;
    /// `>=`.
    pub const MORE_EQUAL: u8 = 4;
    /// `!=`.
    pub const NOT_EQUAL: u8 = 5;
    /// `in` (`not in` is IN followed by UNARY_OP NOT).
    pub const IN: u8 = 6;
    /// `is` (`is not` is IS followed by UNARY_OP NOT).
    pub const IS: u8 = 7;
    /// exception match in `except E:`.
    pub const EXCEPTION_MATCH: u8 = 8;
    /// `|=`.
    pub const INPLACE_OR: u8 = 9;
    /// `^=`.
    pub const INPLACE_XOR: u8 = 10;
    /// `&=`.
    pub const INPLACE_AND: u8 = 11;
    /// `<<=`.
    pub const INPLACE_LSHIFT: u8 = 12;
    /// `>>=`.
    pub const INPLACE_RSHIFT: u8 = 13;
    /// `+=`.
    pub const INPLACE_ADD: u8 = 14;
    /// `-=`.
    pub const INPLACE_SUBTRACT: u8 = 15;
    /// `*=`.
    pub const INPLACE_MULTIPLY: u8 = 16;
    /// `//=`.
    pub const INPLACE_FLOOR_DIVIDE: u8 = 17;
    /// `/=`.
    pub const INPLACE_TRUE_DIVIDE: u8 = 18;
    /// `%=`.
    pub const INPLACE_MODULO: u8 = 19;
    /// `**=`.
    pub const INPLACE_POWER: u8 = 20;
    /// `|`.
    pub const OR: u8 = 21;
    /// `^`.
    pub const XOR: u8 = 22;
    /// `&`.
    pub const AND: u8 = 23;
    /// `<<`.
    pub const LSHIFT: u8 = 24;
    /// `>>`.
    pub const RSHIFT: u8 = 25;
    /// `+`.
    pub const ADD: u8 = 26;
    /// `-`.
    pub const SUBTRACT: u8 = 27;
    /// `*`.
    pub const MULTIPLY: u8 = 28;
    /// `//`.
    pub const FLOOR_DIVIDE: u8 = 29;
    /// `/`.
    pub const TRUE_DIVIDE: u8 = 30;
    /// `%`.
    pub const MODULO: u8 = 31;
    /// `**`.
    pub const POWER: u8 = 32;
    /// Number of binary ops that may appear in bytecode.
    pub const NUM_BYTECODE: u8 = 33;
}

/// Scope flags (py/runtime0.h), stored in the bytecode prelude.
pub mod scope_flags {
    /// The function takes `*args`.
    pub const VARARGS: u8 = 0x01;
    /// The function takes `**kwargs`.
    pub const VARKEYWORDS: u8 = 0x02;
    /// The function is a generator.
    pub const GENERATOR: u8 = 0x04;
    /// The function has keyword-only arguments with defaults.
    pub const DEFKWARGS: u8 = 0x08;
}

/// Number of value-stack slots an on-stack iterator takes (`MP_OBJ_ITER_BUF_NSLOTS`).
pub const ITER_BUF_NSLOTS: usize = 4;
