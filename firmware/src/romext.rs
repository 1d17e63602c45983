//! The other built-in modules of 1.9.4's unix port (`math`, `utime`, `ucollections`, ...):
//! their names sit in the ROM module table, so `import math` binds a ROM module, never a
//! file of the same name, and nothing enters `sys.modules`; `dir()` lists their attributes.
//!
//! Attributes are described by [`ENTRIES`]. Functions live at ROM addresses from
//! [`FUN_BASE`] (one 8-byte slot per entry, like the ROM objects of [`crate::obj`]); those this
//! firmware implements run here, the others raise `NotImplementedError` naming themselves.
//! Integer constants are small ints and `math.e`/`math.pi` are ROM floats, as in 1.9.4
//! (so reading them allocates nothing).

#[cfg(not(feature = "std"))]
use crate::runtime::FloatExt;
use alloc::format;
use alloc::vec::Vec;

use crate::heap::Word;
use crate::obj::{self, NONE, NULL, R, ROM_BASE, py_bool, rom};
use crate::runtime::{Args, PR, Rt};

/// First address of the functions of [`ENTRIES`] (entry `i` is at `FUN_BASE + 8 * i`), far
/// above the last ROM object of [`crate::obj::ALL`].
pub const FUN_BASE: Word = ROM_BASE + 0x0001_0000;

/// What a function does.
#[derive(Debug, Clone, Copy)]
pub enum Imp {
    /// `math_generic_1`: a float function with the domain check.
    F1(fn(f64) -> f64),
    /// `math_generic_2`.
    F2(fn(f64, f64) -> f64),
    /// `MATH_FUN_1_TO_INT`: a float function whose result becomes an int.
    ToInt(fn(f64) -> f64),
    /// `MATH_FUN_1_TO_BOOL`.
    ToBool(fn(f64) -> bool),
    /// `math.log(x[, base])`.
    Log,
    /// `math.frexp`.
    Frexp,
    /// `math.modf`.
    Modf,
    /// `math.ldexp(x, exp)`.
    Ldexp,
    /// `math.radians` / `math.degrees` (a multiplication).
    Scale(f64),
    /// `utime.sleep*`: waits (nothing to wait for here) and returns None.
    Sleep,
    /// `utime.ticks_ms/us/cpu`: a monotonic counter wrapped like `MICROPY_PY_UTIME_TICKS_PERIOD`.
    Ticks(u32),
    /// `utime.ticks_diff(a, b)`.
    TicksDiff,
    /// `utime.ticks_add(t, delta)`.
    TicksAdd,
    /// `utime.time()`: seconds as a float.
    Time,
    /// `micropython.kbd_intr(chr)`: the interrupt character is the host's business here.
    KbdIntr,
    /// `uos.getenv(name)`: the environment is empty (the unix target starts with none).
    Getenv,
    /// `ustruct.calcsize(fmt)`.
    StructCalcsize,
    /// `ustruct.pack(fmt, *values)`.
    StructPack,
    /// `ustruct.pack_into(fmt, buffer, offset, *values)`.
    StructPackInto,
    /// `ustruct.unpack(fmt, buf)` / `unpack_from(fmt, buf, offset=0)`.
    StructUnpack,
    /// `ubinascii.hexlify(data[, sep])`.
    Hexlify,
    /// `ubinascii.unhexlify(data)`.
    Unhexlify,
    /// `urandom.getrandbits(n)`.
    Getrandbits,
    /// `urandom.seed(n)`.
    Seed,
    /// `sys.exc_info()`: (type, value, None) of the exception being handled, else Nones.
    ExcInfo,
    /// `ucollections.namedtuple(name, fields)`.
    Namedtuple,
    /// `micropython.opt_level([level])`.
    OptLevel,
    /// `uheapq.heappush(heap, item)`.
    Heappush,
    /// `uheapq.heappop(heap)`.
    Heappop,
    /// `uheapq.heapify(list)`.
    Heapify,
    /// `ubinascii.a2b_base64(data)`.
    A2bBase64,
    /// `ubinascii.b2a_base64(data)`.
    B2aBase64,
    /// `ubinascii.crc32(data[, crc])`.
    Crc32,
    /// `ujson.dump(obj, stream)`.
    JsonDump,
    /// `ujson.load(stream)`.
    JsonLoad,
    /// `utime.localtime([secs])`: the broken-down time, in UTC (the unix target runs with
    /// no time zone set).
    Localtime,
    /// `uos.ilistdir([path])` (ports/unix/modos.c).
    Ilistdir,
    /// `ure.compile(regex[, flags])`.
    ReCompile,
    /// `ure.match(regex, string)`.
    ReMatch,
    /// `ure.search(regex, string)`.
    ReSearch,
    /// Not implemented by this firmware: raises `NotImplementedError`.
    Unsupported,
}

/// An attribute of a ROM module.
#[derive(Debug, Clone, Copy)]
pub enum Attr {
    /// A function (or a type this firmware has no class for), at its ROM address.
    Fun(Imp),
    /// A small-int constant.
    Int(i32),
    /// A ROM object (the floats `e` and `pi`).
    Rom(R),
}

/// One attribute: (module, name, value).
pub type Entry = (R, &'static str, Attr);

use Attr::{Fun, Int, Rom};
use Imp::*;

/// A one-argument float function: the C library's through `std` where `std` calls it (so
/// results agree with 1.9.4's libm to the last bit), else the `libm` crate's.
macro_rules! c_fun1 {
    ($($name:ident: $std:ident / $libm:ident),* $(,)?) => {$(
        fn $name(x: f64) -> f64 {
            #[cfg(feature = "std")]
            {
                x.$std()
            }
            #[cfg(not(feature = "std"))]
            {
                libm::$libm(x)
            }
        }
    )*};
}

c_fun1! {
    m_sqrt: sqrt / sqrt, m_exp: exp / exp, m_expm1: exp_m1 / expm1, m_log2: log2 / log2,
    m_log10: log10 / log10, m_cosh: cosh / cosh, m_sinh: sinh / sinh, m_tanh: tanh / tanh,
    m_cos: cos / cos, m_sin: sin / sin, m_tan: tan / tan, m_acos: acos / acos,
    m_asin: asin / asin, m_atan: atan / atan,
}

fn m_ln(x: f64) -> f64 {
    #[cfg(feature = "std")]
    {
        x.ln()
    }
    #[cfg(not(feature = "std"))]
    {
        libm::log(x)
    }
}

fn m_pow(x: f64, y: f64) -> f64 {
    #[cfg(feature = "std")]
    {
        x.powf(y)
    }
    #[cfg(not(feature = "std"))]
    {
        libm::pow(x, y)
    }
}

fn m_atan2(y: f64, x: f64) -> f64 {
    #[cfg(feature = "std")]
    {
        y.atan2(x)
    }
    #[cfg(not(feature = "std"))]
    {
        libm::atan2(y, x)
    }
}
fn m_fabs(x: f64) -> f64 {
    x.abs()
}
fn m_copysign(x: f64, y: f64) -> f64 {
    libm::copysign(x, y)
}
fn m_isfinite(x: f64) -> bool {
    x.is_finite()
}
fn m_isinf(x: f64) -> bool {
    x.is_infinite()
}
fn m_isnan(x: f64) -> bool {
    x.is_nan()
}

const PI: f64 = core::f64::consts::PI;

/// Every attribute of the modules added here, per module in the order of 1.9.4's tables.
pub const ENTRIES: &[Entry] = &[
    (R::MMath, "e", Rom(R::FloatE)),
    (R::MMath, "pi", Rom(R::FloatPi)),
    (R::MMath, "sqrt", Fun(F1(m_sqrt))),
    (R::MMath, "pow", Fun(F2(m_pow))),
    (R::MMath, "exp", Fun(F1(m_exp))),
    (R::MMath, "expm1", Fun(F1(m_expm1))),
    (R::MMath, "log", Fun(Log)),
    (R::MMath, "log2", Fun(F1(m_log2))),
    (R::MMath, "log10", Fun(F1(m_log10))),
    (R::MMath, "cosh", Fun(F1(m_cosh))),
    (R::MMath, "sinh", Fun(F1(m_sinh))),
    (R::MMath, "tanh", Fun(F1(m_tanh))),
    (R::MMath, "acosh", Fun(F1(libm::acosh))),
    (R::MMath, "asinh", Fun(F1(libm::asinh))),
    (R::MMath, "atanh", Fun(F1(libm::atanh))),
    (R::MMath, "cos", Fun(F1(m_cos))),
    (R::MMath, "sin", Fun(F1(m_sin))),
    (R::MMath, "tan", Fun(F1(m_tan))),
    (R::MMath, "acos", Fun(F1(m_acos))),
    (R::MMath, "asin", Fun(F1(m_asin))),
    (R::MMath, "atan", Fun(F1(m_atan))),
    (R::MMath, "atan2", Fun(F2(m_atan2))),
    (R::MMath, "ceil", Fun(ToInt(libm::ceil))),
    (R::MMath, "copysign", Fun(F2(m_copysign))),
    (R::MMath, "fabs", Fun(F1(m_fabs))),
    (R::MMath, "floor", Fun(ToInt(libm::floor))),
    (R::MMath, "fmod", Fun(F2(libm::fmod))),
    (R::MMath, "frexp", Fun(Frexp)),
    (R::MMath, "ldexp", Fun(Ldexp)),
    (R::MMath, "modf", Fun(Modf)),
    (R::MMath, "isfinite", Fun(ToBool(m_isfinite))),
    (R::MMath, "isinf", Fun(ToBool(m_isinf))),
    (R::MMath, "isnan", Fun(ToBool(m_isnan))),
    (R::MMath, "trunc", Fun(ToInt(libm::trunc))),
    (R::MMath, "radians", Fun(Scale(PI / 180.0))),
    (R::MMath, "degrees", Fun(Scale(180.0 / PI))),
    (R::MMath, "erf", Fun(F1(libm::erf))),
    (R::MMath, "erfc", Fun(F1(libm::erfc))),
    (R::MMath, "gamma", Fun(F1(libm::tgamma))),
    (R::MMath, "lgamma", Fun(F1(libm::lgamma))),
    (R::MCmath, "e", Rom(R::FloatE)),
    (R::MCmath, "pi", Rom(R::FloatPi)),
    (R::MCmath, "cos", Fun(Unsupported)),
    (R::MCmath, "exp", Fun(Unsupported)),
    (R::MCmath, "log", Fun(Unsupported)),
    (R::MCmath, "log10", Fun(Unsupported)),
    (R::MCmath, "phase", Fun(Unsupported)),
    (R::MCmath, "polar", Fun(Unsupported)),
    (R::MCmath, "rect", Fun(Unsupported)),
    (R::MCmath, "sin", Fun(Unsupported)),
    (R::MCmath, "sqrt", Fun(Unsupported)),
    (R::MUcollections, "OrderedDict", Rom(R::TOrderedDict)),
    (R::MUcollections, "deque", Rom(R::TDeque)),
    (R::MUcollections, "namedtuple", Fun(Namedtuple)),
    (R::MUstruct, "calcsize", Fun(StructCalcsize)),
    (R::MUstruct, "pack", Fun(StructPack)),
    (R::MUstruct, "pack_into", Fun(StructPackInto)),
    (R::MUstruct, "unpack", Fun(StructUnpack)),
    (R::MUstruct, "unpack_from", Fun(StructUnpack)),
    (R::MThread, "LockType", Fun(Unsupported)),
    (R::MThread, "allocate_lock", Fun(Unsupported)),
    (R::MThread, "exit", Fun(Unsupported)),
    (R::MThread, "get_ident", Fun(Unsupported)),
    (R::MThread, "stack_size", Fun(Unsupported)),
    (R::MThread, "start_new_thread", Fun(Unsupported)),
    (R::MUctypes, "ARRAY", Int(-1_073_741_824)),
    (R::MUctypes, "BFINT16", Int(-671_088_640)),
    (R::MUctypes, "BFINT32", Int(-402_653_184)),
    (R::MUctypes, "BFINT8", Int(-939_524_096)),
    (R::MUctypes, "BFUINT16", Int(-805_306_368)),
    (R::MUctypes, "BFUINT32", Int(-536_870_912)),
    (R::MUctypes, "BFUINT8", Int(-1_073_741_824)),
    (R::MUctypes, "BF_LEN", Int(22)),
    (R::MUctypes, "BF_POS", Int(17)),
    (R::MUctypes, "BIG_ENDIAN", Int(1)),
    (R::MUctypes, "FLOAT32", Int(-268_435_456)),
    (R::MUctypes, "FLOAT64", Int(-134_217_728)),
    (R::MUctypes, "INT16", Int(402_653_184)),
    (R::MUctypes, "INT32", Int(671_088_640)),
    (R::MUctypes, "INT64", Int(939_524_096)),
    (R::MUctypes, "INT8", Int(134_217_728)),
    (R::MUctypes, "LITTLE_ENDIAN", Int(0)),
    (R::MUctypes, "NATIVE", Int(2)),
    (R::MUctypes, "PTR", Int(536_870_912)),
    (R::MUctypes, "UINT16", Int(268_435_456)),
    (R::MUctypes, "UINT32", Int(536_870_912)),
    (R::MUctypes, "UINT64", Int(805_306_368)),
    (R::MUctypes, "UINT8", Int(0)),
    (R::MUctypes, "VOID", Int(0)),
    (R::MUctypes, "addressof", Fun(Unsupported)),
    (R::MUctypes, "bytearray_at", Fun(Unsupported)),
    (R::MUctypes, "bytes_at", Fun(Unsupported)),
    (R::MUctypes, "sizeof", Fun(Unsupported)),
    (R::MUctypes, "struct", Fun(Unsupported)),
    (R::MUzlib, "DecompIO", Fun(Unsupported)),
    (R::MUzlib, "decompress", Fun(Unsupported)),
    (R::MUre, "DEBUG", Int(4096)),
    (R::MUre, "compile", Fun(ReCompile)),
    (R::MUre, "match", Fun(ReMatch)),
    (R::MUre, "search", Fun(ReSearch)),
    (R::MUheapq, "heapify", Fun(Heapify)),
    (R::MUheapq, "heappop", Fun(Heappop)),
    (R::MUheapq, "heappush", Fun(Heappush)),
    (R::MUtimeq, "utimeq", Fun(Unsupported)),
    (R::MUhashlib, "sha256", Rom(R::TSha256)),
    (R::MUbinascii, "a2b_base64", Fun(A2bBase64)),
    (R::MUbinascii, "b2a_base64", Fun(B2aBase64)),
    (R::MUbinascii, "crc32", Fun(Crc32)),
    (R::MUbinascii, "hexlify", Fun(Hexlify)),
    (R::MUbinascii, "unhexlify", Fun(Unhexlify)),
    (R::MUrandom, "getrandbits", Fun(Getrandbits)),
    (R::MUrandom, "seed", Fun(Seed)),
    (R::MUselect, "POLLERR", Int(8)),
    (R::MUselect, "POLLHUP", Int(16)),
    (R::MUselect, "POLLIN", Int(1)),
    (R::MUselect, "POLLOUT", Int(4)),
    (R::MUselect, "poll", Fun(Unsupported)),
    (R::MWebsocket, "websocket", Fun(Unsupported)),
    (R::MUtime, "clock", Fun(Unsupported)),
    (R::MUtime, "localtime", Fun(Localtime)),
    (R::MUtime, "sleep", Fun(Sleep)),
    (R::MUtime, "sleep_ms", Fun(Sleep)),
    (R::MUtime, "sleep_us", Fun(Sleep)),
    (R::MUtime, "ticks_add", Fun(TicksAdd)),
    (R::MUtime, "ticks_cpu", Fun(Ticks(1_000_000))),
    (R::MUtime, "ticks_diff", Fun(TicksDiff)),
    (R::MUtime, "ticks_ms", Fun(Ticks(1_000))),
    (R::MUtime, "ticks_us", Fun(Ticks(1_000_000))),
    (R::MUtime, "time", Fun(Time)),
    (R::MUsocket, "AF_INET", Int(2)),
    (R::MUsocket, "AF_INET6", Int(10)),
    (R::MUsocket, "AF_UNIX", Int(1)),
    (R::MUsocket, "MSG_DONTROUTE", Int(4)),
    (R::MUsocket, "MSG_DONTWAIT", Int(64)),
    (R::MUsocket, "SOCK_DGRAM", Int(2)),
    (R::MUsocket, "SOCK_RAW", Int(3)),
    (R::MUsocket, "SOCK_STREAM", Int(1)),
    (R::MUsocket, "SOL_SOCKET", Int(1)),
    (R::MUsocket, "SO_BROADCAST", Int(6)),
    (R::MUsocket, "SO_ERROR", Int(4)),
    (R::MUsocket, "SO_KEEPALIVE", Int(9)),
    (R::MUsocket, "SO_LINGER", Int(13)),
    (R::MUsocket, "SO_REUSEADDR", Int(2)),
    (R::MUsocket, "getaddrinfo", Fun(Unsupported)),
    (R::MUsocket, "inet_ntop", Fun(Unsupported)),
    (R::MUsocket, "inet_pton", Fun(Unsupported)),
    (R::MUsocket, "sockaddr", Fun(Unsupported)),
    (R::MUsocket, "socket", Fun(Unsupported)),
    (R::MUmachine, "PinBase", Fun(Unsupported)),
    (R::MUmachine, "Signal", Fun(Unsupported)),
    (R::MUmachine, "mem16", Fun(Unsupported)),
    (R::MUmachine, "mem32", Fun(Unsupported)),
    (R::MUmachine, "mem8", Fun(Unsupported)),
    (R::MUmachine, "time_pulse_us", Fun(Unsupported)),
    (R::MTermios, "B115200", Int(4098)),
    (R::MTermios, "B57600", Int(4097)),
    (R::MTermios, "B9600", Int(13)),
    (R::MTermios, "TCSANOW", Int(0)),
    (R::MTermios, "setraw", Fun(Unsupported)),
    (R::MTermios, "tcgetattr", Fun(Unsupported)),
    (R::MTermios, "tcsetattr", Fun(Unsupported)),
    (R::MUerrno, "EACCES", Int(13)),
    (R::MUerrno, "EADDRINUSE", Int(98)),
    (R::MUerrno, "EAGAIN", Int(11)),
    (R::MUerrno, "EALREADY", Int(114)),
    (R::MUerrno, "EBADF", Int(9)),
    (R::MUerrno, "ECONNABORTED", Int(103)),
    (R::MUerrno, "ECONNREFUSED", Int(111)),
    (R::MUerrno, "ECONNRESET", Int(104)),
    (R::MUerrno, "EEXIST", Int(17)),
    (R::MUerrno, "EHOSTUNREACH", Int(113)),
    (R::MUerrno, "EINPROGRESS", Int(115)),
    (R::MUerrno, "EINVAL", Int(22)),
    (R::MUerrno, "EIO", Int(5)),
    (R::MUerrno, "EISDIR", Int(21)),
    (R::MUerrno, "ENOBUFS", Int(105)),
    (R::MUerrno, "ENODEV", Int(19)),
    (R::MUerrno, "ENOENT", Int(2)),
    (R::MUerrno, "ENOMEM", Int(12)),
    (R::MUerrno, "ENOTCONN", Int(107)),
    (R::MUerrno, "EOPNOTSUPP", Int(95)),
    (R::MUerrno, "EPERM", Int(1)),
    (R::MUerrno, "ETIMEDOUT", Int(110)),
    (R::MMicropython, "opt_level", Fun(OptLevel)),
    (R::MMicropython, "mem_total", Fun(Unsupported)),
    (R::MMicropython, "mem_current", Fun(Unsupported)),
    (R::MMicropython, "mem_peak", Fun(Unsupported)),
    (R::MMicropython, "stack_use", Fun(Unsupported)),
    (R::MMicropython, "kbd_intr", Fun(KbdIntr)),
    (R::MSys, "exc_info", Fun(ExcInfo)),
    (R::MUio, "FileIO", Fun(Unsupported)),
    (R::MUio, "TextIOWrapper", Fun(Unsupported)),
    (R::MUio, "StringIO", Rom(R::TStringIO)),
    (R::MUio, "BytesIO", Rom(R::TBytesIO)),
    (R::MArray, "array", Rom(R::TArray)),
    (R::MUjson, "dump", Fun(JsonDump)),
    (R::MUjson, "load", Fun(JsonLoad)),
    (R::MUos, "errno", Fun(Unsupported)),
    (R::MUos, "statvfs", Fun(Unsupported)),
    (R::MUos, "system", Fun(Unsupported)),
    (R::MUos, "unlink", Rom(R::FOsRemove)),
    (R::MUos, "getenv", Fun(Getenv)),
    (R::MUos, "ilistdir", Fun(Ilistdir)),
    // a ROM dict in 1.9.4; listed so `dir()` agrees, but not built here
    (R::MUerrno, "errorcode", Fun(Unsupported)),
];

/// [`ENTRIES`] by module.
static ENTRIES_BY_MODULE: obj::ByOwner<{ ENTRIES.len() }> = obj::by_owner!(ENTRIES);

/// The value of `name` in ROM module `m`, if [`ENTRIES`] has it.
pub fn attr(m: R, name: &str) -> Option<Word> {
    // only the module's own entries are looked at (the first with the name wins, as before)
    let i = ENTRIES_BY_MODULE
        .of(m)
        .iter()
        .map(|i| usize::from(*i))
        .find(|i| ENTRIES[*i].1 == name)?;
    Some(match ENTRIES[i].2 {
        Fun(_) => FUN_BASE + 8 * i as Word,
        Int(v) => obj::small(v),
        Rom(r) => rom(r),
    })
}

/// The entry of a function address, if `w` is one.
pub fn fun_entry(w: Word) -> Option<&'static Entry> {
    if w < FUN_BASE || !(w - FUN_BASE).is_multiple_of(8) {
        return None;
    }
    let e = ENTRIES.get(((w - FUN_BASE) / 8) as usize)?;
    matches!(e.2, Fun(_)).then_some(e)
}

/// The value of a ROM float.
pub fn rom_float(r: R) -> Option<f64> {
    match r {
        R::FloatE => Some(core::f64::consts::E),
        R::FloatPi => Some(PI),
        _ => None,
    }
}

/// The keys of ROM module `m`'s globals table in 1.9.4's order for the unix port (after
/// `__name__`, which always comes first): `from m import *` walks the table in this order.
/// Names this firmware does not provide are skipped by the caller.
pub fn rom_module_order(m: R) -> &'static [&'static str] {
    match m {
        R::MGc => &[
            "collect",
            "disable",
            "enable",
            "isenabled",
            "mem_free",
            "mem_alloc",
            "threshold",
        ],
        R::MSys => &[
            "path",
            "argv",
            "version",
            "version_info",
            "implementation",
            "platform",
            "byteorder",
            "maxsize",
            "exit",
            "stdin",
            "stdout",
            "stderr",
            "modules",
            "exc_info",
            "print_exception",
        ],
        R::MMicropython => &[
            "const",
            "opt_level",
            "mem_total",
            "mem_current",
            "mem_peak",
            "mem_info",
            "qstr_info",
            "stack_use",
            "heap_lock",
            "heap_unlock",
            "kbd_intr",
        ],
        R::MUos => &[
            "errno", "stat", "statvfs", "system", "unlink", "getenv", "mkdir", "ilistdir",
        ],
        R::MUjson => &["dump", "dumps", "load", "loads"],
        R::MUio => &["open", "FileIO", "TextIOWrapper", "StringIO", "BytesIO"],
        R::MArray => &["array"],
        R::MUerrno => &[
            "errorcode",
            "EPERM",
            "ENOENT",
            "EIO",
            "EBADF",
            "EAGAIN",
            "ENOMEM",
            "EACCES",
            "EEXIST",
            "ENODEV",
            "EISDIR",
            "EINVAL",
            "EOPNOTSUPP",
            "EADDRINUSE",
            "ECONNABORTED",
            "ECONNRESET",
            "ENOBUFS",
            "ENOTCONN",
            "ETIMEDOUT",
            "ECONNREFUSED",
            "EHOSTUNREACH",
            "EALREADY",
            "EINPROGRESS",
        ],
        R::MMath => &[
            "e", "pi", "sqrt", "pow", "exp", "expm1", "log", "log2", "log10", "cosh", "sinh",
            "tanh", "acosh", "asinh", "atanh", "cos", "sin", "tan", "acos", "asin", "atan",
            "atan2", "ceil", "copysign", "fabs", "floor", "fmod", "frexp", "ldexp", "modf",
            "isfinite", "isinf", "isnan", "trunc", "radians", "degrees", "erf", "erfc", "gamma",
            "lgamma",
        ],
        R::MCmath => &[
            "e", "pi", "phase", "polar", "rect", "exp", "log", "log10", "sqrt", "cos", "sin",
        ],
        R::MUcollections => &["deque", "namedtuple", "OrderedDict"],
        R::MUstruct => &["calcsize", "pack", "pack_into", "unpack", "unpack_from"],
        R::MThread => &[
            "LockType",
            "get_ident",
            "stack_size",
            "start_new_thread",
            "exit",
            "allocate_lock",
        ],
        R::MUctypes => &[
            "struct",
            "sizeof",
            "addressof",
            "bytes_at",
            "bytearray_at",
            "NATIVE",
            "LITTLE_ENDIAN",
            "BIG_ENDIAN",
            "VOID",
            "UINT8",
            "INT8",
            "UINT16",
            "INT16",
            "UINT32",
            "INT32",
            "UINT64",
            "INT64",
            "BFUINT8",
            "BFINT8",
            "BFUINT16",
            "BFINT16",
            "BFUINT32",
            "BFINT32",
            "BF_POS",
            "BF_LEN",
            "FLOAT32",
            "FLOAT64",
            "PTR",
            "ARRAY",
        ],
        R::MUzlib => &["decompress", "DecompIO"],
        R::MUre => &["compile", "match", "search", "DEBUG"],
        R::MUheapq => &["heappush", "heappop", "heapify"],
        R::MUtimeq => &["utimeq"],
        R::MUhashlib => &["sha256"],
        R::MUbinascii => &["hexlify", "unhexlify", "a2b_base64", "b2a_base64", "crc32"],
        R::MUrandom => &["getrandbits", "seed"],
        R::MUselect => &["poll", "POLLIN", "POLLOUT", "POLLERR", "POLLHUP"],
        R::MWebsocket => &["websocket"],
        R::MUtime => &[
            "clock",
            "sleep",
            "sleep_ms",
            "sleep_us",
            "time",
            "ticks_ms",
            "ticks_us",
            "ticks_cpu",
            "ticks_add",
            "ticks_diff",
            "localtime",
        ],
        R::MUsocket => &[
            "socket",
            "getaddrinfo",
            "inet_pton",
            "inet_ntop",
            "sockaddr",
            "AF_UNIX",
            "AF_INET",
            "AF_INET6",
            "SOCK_STREAM",
            "SOCK_DGRAM",
            "SOCK_RAW",
            "MSG_DONTROUTE",
            "MSG_DONTWAIT",
            "SOL_SOCKET",
            "SO_BROADCAST",
            "SO_ERROR",
            "SO_KEEPALIVE",
            "SO_LINGER",
            "SO_REUSEADDR",
        ],
        R::MUmachine => &[
            "mem8",
            "mem16",
            "mem32",
            "PinBase",
            "Signal",
            "time_pulse_us",
        ],
        R::MTermios => &[
            "tcgetattr",
            "tcsetattr",
            "setraw",
            "TCSANOW",
            "B9600",
            "B57600",
            "B115200",
        ],
        R::MBuiltins => &[
            "__build_class__",
            "__import__",
            "__repl_print__",
            "bool",
            "bytes",
            "bytearray",
            "complex",
            "dict",
            "enumerate",
            "filter",
            "float",
            "frozenset",
            "int",
            "list",
            "map",
            "memoryview",
            "object",
            "property",
            "range",
            "reversed",
            "set",
            "slice",
            "str",
            "super",
            "tuple",
            "type",
            "zip",
            "classmethod",
            "staticmethod",
            "Ellipsis",
            "NotImplemented",
            "abs",
            "all",
            "any",
            "bin",
            "callable",
            "compile",
            "chr",
            "delattr",
            "dir",
            "divmod",
            "eval",
            "exec",
            "getattr",
            "setattr",
            "globals",
            "hasattr",
            "hash",
            "hex",
            "id",
            "input",
            "isinstance",
            "issubclass",
            "iter",
            "len",
            "locals",
            "max",
            "min",
            "next",
            "oct",
            "ord",
            "pow",
            "print",
            "repr",
            "round",
            "sorted",
            "sum",
            "BaseException",
            "ArithmeticError",
            "AssertionError",
            "AttributeError",
            "EOFError",
            "Exception",
            "GeneratorExit",
            "ImportError",
            "IndentationError",
            "IndexError",
            "KeyboardInterrupt",
            "KeyError",
            "LookupError",
            "MemoryError",
            "NameError",
            "NotImplementedError",
            "OSError",
            "OverflowError",
            "RuntimeError",
            "StopAsyncIteration",
            "StopIteration",
            "SyntaxError",
            "SystemExit",
            "TypeError",
            "UnicodeError",
            "ValueError",
            "ZeroDivisionError",
        ],
        _ => &[],
    }
}

/// Yasmarang's state at start-up in 1.9.4's modurandom.c: (pad, n, d, dat).
pub const YASMARANG_START: (u32, u32, u32, u8) = (0xeda4_baba, 69, 233, 0);

/// One step of Yasmarang (Ilya Levin's public-domain generator, as modurandom.c has it).
fn yasmarang(st: &mut (u32, u32, u32, u8)) -> u32 {
    let (pad, n, d, dat) = st;
    *pad = pad.wrapping_add(u32::from(*dat).wrapping_add(d.wrapping_mul(*n)));
    *pad = (*pad << 3).wrapping_add(*pad >> 29);
    *n = *pad | 2;
    *d ^= (*pad << 31).wrapping_add(*pad >> 1);
    *dat ^= (*pad as u8) ^ ((*d >> 8) as u8) ^ 1;
    *pad ^ (*d << 5) ^ (*pad >> 18) ^ (u32::from(*dat) << 1)
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn hex_value(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// `get_fmt_type`: the byte-order prefix (`!` is `>`; `=` stays and has no sizes, as in
/// 1.9.4) and where the items start.
fn fmt_kind(fmt: &[u8]) -> (u8, usize) {
    match fmt.first() {
        Some(b'!') => (b'>', 1),
        Some(&c @ (b'@' | b'=' | b'<' | b'>')) => (c, 1),
        _ => (b'@', 0),
    }
}

/// `get_fmt_num`: a repeat count before a type letter (1 if none); `i` moves to the letter.
fn fmt_count(fmt: &[u8], i: &mut usize) -> usize {
    let start = *i;
    while *i < fmt.len() && fmt[*i].is_ascii_digit() {
        *i += 1;
    }
    if *i == start {
        return 1;
    }
    core::str::from_utf8(&fmt[start..*i])
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(0)
}

/// `mp_binary_get_size` on the 32-bit unix build: (size, alignment) of a type letter, or
/// None for a bad typecode. Native (`@`) alignment is i386's: 8-byte values align to 4.
fn type_size(kind: u8, c: u8) -> Option<(usize, usize)> {
    let size = match c {
        b'b' | b'B' => 1,
        b'h' | b'H' => 2,
        b'i' | b'I' | b'l' | b'L' | b'P' | b'f' => 4,
        b'q' | b'Q' | b'd' => 8,
        _ => return None,
    };
    match kind {
        b'<' | b'>' => Some((size, 1)),
        b'@' => Some((size, size.min(4))),
        _ => None,
    }
}

/// `MICROPY_PY_UTIME_TICKS_PERIOD` on a 32-bit build: the small-int positive range.
const TICKS_PERIOD: i64 = 1 << 30;

impl Rt<'_> {
    fn math_error(&mut self) -> Word {
        self.value_error("math domain error")
    }

    fn new_float_pair(&mut self, a: f64, b: Word) -> PR<Word> {
        let h = self.hold(b);
        let fa = self.new_float(a);
        let r = match fa {
            Ok(fa) => {
                let h2 = self.hold(fa);
                let t = self.new_tuple(&[fa, b]);
                self.release(h2);
                t
            }
            Err(e) => Err(e),
        };
        self.release(h);
        r
    }

    /// Calls a function of [`ENTRIES`].
    pub fn call_romext(&mut self, e: &Entry, a: Args<'_>) -> PR<Word> {
        let (m, name, Fun(imp)) = *e else {
            return Err(self.type_error("object is not callable"));
        };
        let exact = |rt: &mut Self, n: usize| rt.arg_count(a, n, n);
        match imp {
            F1(f) => {
                exact(self, 1)?;
                let x = self.get_float(a.w[0])?;
                let r = f(x);
                if (r.is_nan() && !x.is_nan()) || (r.is_infinite() && !x.is_infinite()) {
                    return Err(self.math_error());
                }
                self.new_float(r)
            }
            F2(f) => {
                exact(self, 2)?;
                let x = self.get_float(a.w[0])?;
                let y = self.get_float(a.w[1])?;
                let r = f(x, y);
                if (r.is_nan() && !x.is_nan() && !y.is_nan())
                    || (r.is_infinite() && !x.is_infinite())
                {
                    return Err(self.math_error());
                }
                self.new_float(r)
            }
            ToInt(f) => {
                exact(self, 1)?;
                let x = self.get_float(a.w[0])?;
                self.new_int_from_f64(f(x))
            }
            ToBool(f) => {
                exact(self, 1)?;
                let x = self.get_float(a.w[0])?;
                Ok(py_bool(f(x)))
            }
            Log => {
                self.arg_count(a, 1, 2)?;
                let x = self.get_float(a.w[0])?;
                if x <= 0.0 {
                    return Err(self.math_error());
                }
                let l = m_ln(x);
                if a.n == 1 {
                    return self.new_float(l);
                }
                let base = self.get_float(a.w[1])?;
                if base <= 0.0 {
                    return Err(self.math_error());
                }
                if base == 1.0 {
                    return Err(self.exc_msg(R::EZeroDivisionError, "division by zero"));
                }
                self.new_float(l / m_ln(base))
            }
            Frexp => {
                exact(self, 1)?;
                let x = self.get_float(a.w[0])?;
                let (s, e) = libm::frexp(x);
                self.new_float_pair(s, obj::small(e))
            }
            Modf => {
                exact(self, 1)?;
                let x = self.get_float(a.w[0])?;
                let (frac, int) = libm::modf(x);
                let i = self.new_float(int)?;
                self.new_float_pair(frac, i)
            }
            Ldexp => {
                exact(self, 2)?;
                let x = self.get_float(a.w[0])?;
                let e = match crate::ops::int_of(a.w[1]) {
                    Some(e) => e,
                    None => {
                        let n = self.type_name(a.w[1]);
                        return Err(self.exc_varg(R::ETypeError, "can't convert %s to int", &[&n]));
                    }
                };
                self.new_float(libm::ldexp(x, e))
            }
            Scale(k) => {
                exact(self, 1)?;
                let x = self.get_float(a.w[0])?;
                self.new_float(x * k)
            }
            Sleep => {
                exact(self, 1)?;
                self.get_float(a.w[0])?;
                Ok(NONE)
            }
            Ticks(per_sec) => {
                exact(self, 0)?;
                // no clock here: the count of executed opcodes stands for elapsed time
                let t = i64::from(self.op_count()) * i64::from(per_sec) / 1_000_000;
                Ok(obj::small((t & (TICKS_PERIOD - 1)) as i32))
            }
            TicksDiff => {
                exact(self, 2)?;
                let (x, y) = (self.get_int_arg(a.w[0])?, self.get_int_arg(a.w[1])?);
                let d = ((x - y + TICKS_PERIOD / 2) & (TICKS_PERIOD - 1)) - TICKS_PERIOD / 2;
                Ok(obj::small(d as i32))
            }
            TicksAdd => {
                exact(self, 2)?;
                let (x, y) = (self.get_int_arg(a.w[0])?, self.get_int_arg(a.w[1])?);
                Ok(obj::small(((x + y) & (TICKS_PERIOD - 1)) as i32))
            }
            Time => {
                exact(self, 0)?;
                let s = f64::from(self.op_count()) / 1_000_000.0;
                self.new_float(s.floor())
            }
            KbdIntr => {
                exact(self, 1)?;
                self.get_int_arg(a.w[0])?;
                Ok(NONE)
            }
            Getenv => {
                exact(self, 1)?;
                if self.str_bytes(a.w[0]).is_none() {
                    return Err(self.bad_implicit_conversion(a.w[0]));
                }
                Ok(NONE)
            }
            StructCalcsize => {
                exact(self, 1)?;
                let fmt = self.fmt_arg(a.w[0])?;
                let (_, size) = self.struct_sizes(&fmt)?;
                Ok(obj::small(size as i32))
            }
            StructPack => {
                self.arg_count(a, 1, usize::MAX)?;
                let fmt = self.fmt_arg(a.w[0])?;
                self.struct_pack(&fmt, &a.w[1..a.n])
            }
            StructPackInto => {
                self.arg_count(a, 3, usize::MAX)?;
                // struct_pack_into: a buffer that takes writes, an offset from its end when
                // negative, and room for the whole format
                let Some((buf, len)) = self.writable_buffer(a.w[1]) else {
                    return Err(self.type_error("object with buffer protocol required"));
                };
                let mut offset = self.get_int_arg(a.w[2])?;
                if offset < 0 {
                    offset += len as i64;
                    if offset < 0 {
                        return Err(self.value_error("buffer too small"));
                    }
                }
                let fmt = self.fmt_arg(a.w[0])?;
                let (_, size) = self.struct_sizes(&fmt)?;
                if offset as usize + size > len {
                    return Err(self.value_error("buffer too small"));
                }
                let at = buf + offset as Word;
                // only the bytes the values are packed into change
                let mut bytes = self
                    .st
                    .heap
                    .bytes(at, size)
                    .map(<[u8]>::to_vec)
                    .unwrap_or_default();
                self.struct_pack_into(&fmt, &a.w[3..a.n], &mut bytes)?;
                let _ = self.st.heap.write_bytes(at, &bytes);
                Ok(NONE)
            }
            StructUnpack => {
                self.arg_count(a, 2, 3)?;
                let fmt = self.fmt_arg(a.w[0])?;
                let offset = match a.n {
                    3 => Some(self.get_int_arg(a.w[2])?),
                    _ => None,
                };
                self.struct_unpack(&fmt, a.w[1], offset)
            }
            Hexlify => {
                self.arg_count(a, 1, 2)?;
                let data = self.buffer_or_raise(a.w[0])?;
                if data.is_empty() {
                    return Ok(rom(R::EmptyBytes));
                }
                let sep = match a.n {
                    2 => Some(self.fmt_arg(a.w[1])?.first().copied().unwrap_or(0)),
                    _ => None,
                };
                let mut out = Vec::new();
                for (i, b) in data.iter().enumerate() {
                    if i > 0
                        && let Some(c) = sep
                    {
                        out.push(c);
                    }
                    out.push(HEX[usize::from(b >> 4)]);
                    out.push(HEX[usize::from(b & 15)]);
                }
                self.new_str_from_vstr_sizes(R::TBytes, &[out.len() + 1], &out)
            }
            Unhexlify => {
                exact(self, 1)?;
                let data = self.buffer_or_raise(a.w[0])?;
                if data.len() % 2 != 0 {
                    return Err(self.value_error("odd-length string"));
                }
                let mut out = Vec::with_capacity(data.len() / 2);
                for pair in data.chunks(2) {
                    let (Some(h), Some(l)) = (hex_value(pair[0]), hex_value(pair[1])) else {
                        return Err(self.value_error("non-hex digit found"));
                    };
                    out.push((h << 4) | l);
                }
                // vstr_init_len: the buffer is made before the digits are checked
                self.new_str_from_vstr_sizes(R::TBytes, &[out.len() + 1], &out)
            }
            Getrandbits => {
                exact(self, 1)?;
                let n = self.get_int_arg(a.w[0])?;
                if n > 32 || n == 0 {
                    return Err(self.new_exc(rom(R::EValueError), &[]));
                }
                // i386 shifts by the count modulo 32, as the C expression does
                let mask = u32::MAX >> ((32 - n) & 31) as u32;
                let r = yasmarang(&mut self.st.yasmarang) & mask;
                self.new_int(i64::from(r))
            }
            Seed => {
                exact(self, 1)?;
                let seed = self.int_bits(a.w[0])? as u32;
                self.st.yasmarang = (seed, YASMARANG_START.1, YASMARANG_START.2, 0);
                Ok(NONE)
            }
            ExcInfo => {
                exact(self, 0)?;
                // the 3-tuple first, then filled in
                let t = self.new_tuple(&[NONE, NONE, NONE])?;
                let e = self.slot_get(self.st.cur_exception);
                if e != NULL {
                    let ty = self.type_of(e);
                    self.wf(t, 2, ty);
                    self.wf(t, 3, e);
                }
                Ok(t)
            }
            Heappush | Heappop | Heapify => {
                exact(self, if matches!(imp, Heappush) { 2 } else { 1 })?;
                let l = a.w[0];
                if self.type_of(l) != rom(R::TList) {
                    return Err(self.type_error("heap must be a list"));
                }
                match imp {
                    Heappush => {
                        self.list_append(l, a.w[1])?;
                        let n = self.f(l, 2) as usize;
                        self.heap_siftdown(l, 0, n - 1)?;
                        Ok(NONE)
                    }
                    Heappop => {
                        let n = self.f(l, 2) as usize;
                        if n == 0 {
                            return Err(self.exc_msg(R::EIndexError, "empty heap"));
                        }
                        let items = self.f(l, 3);
                        let item = self.f(items, 0);
                        self.wf(l, 2, (n - 1) as Word);
                        let last = self.f(items, n - 1);
                        self.wf(items, 0, last);
                        // so the list does not keep the item alive
                        self.wf(items, n - 1, NULL);
                        if n > 1 {
                            self.heap_siftup(l, 0)?;
                        }
                        Ok(item)
                    }
                    _ => {
                        let mut i = self.f(l, 2) as usize / 2;
                        while i > 0 {
                            i -= 1;
                            self.heap_siftup(l, i)?;
                        }
                        Ok(NONE)
                    }
                }
            }
            B2aBase64 => {
                exact(self, 1)?;
                let data = self.buffer_or_raise(a.w[0])?;
                const B64: &[u8; 64] =
                    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
                let mut out = Vec::new();
                for c in data.chunks(3) {
                    let b = [c[0], *c.get(1).unwrap_or(&0), *c.get(2).unwrap_or(&0)];
                    out.push(B64[usize::from(b[0] >> 2)]);
                    out.push(B64[usize::from((b[0] & 3) << 4 | b[1] >> 4)]);
                    out.push(if c.len() > 1 {
                        B64[usize::from((b[1] & 15) << 2 | b[2] >> 6)]
                    } else {
                        b'='
                    });
                    out.push(if c.len() > 2 {
                        B64[usize::from(b[2] & 63)]
                    } else {
                        b'='
                    });
                }
                out.push(b'\n');
                // vstr_init_len(4 * ceil(len / 3) + 1)
                self.new_str_from_vstr_sizes(R::TBytes, &[out.len() + 1], &out)
            }
            A2bBase64 => {
                exact(self, 1)?;
                let data = self.buffer_or_raise(a.w[0])?;
                let sextet = |c: u8| match c {
                    b'A'..=b'Z' => Some(c - b'A'),
                    b'a'..=b'z' => Some(c - b'a' + 26),
                    b'0'..=b'9' => Some(c - b'0' + 52),
                    b'+' => Some(62),
                    b'/' => Some(63),
                    _ => None,
                };
                let (mut shift, mut nbits, mut hadpad) = (0u32, 0u32, false);
                let mut out = Vec::new();
                for &c in &data {
                    if c == b'=' {
                        if nbits == 2 || (nbits == 4 && hadpad) {
                            nbits = 0;
                            break;
                        }
                        hadpad = true;
                    }
                    let Some(s) = sextet(c) else { continue };
                    hadpad = false;
                    shift = (shift << 6) | u32::from(s);
                    nbits += 6;
                    if nbits >= 8 {
                        nbits -= 8;
                        out.push((shift >> nbits) as u8);
                    }
                }
                if nbits != 0 {
                    return Err(self.value_error("incorrect padding"));
                }
                // vstr_init(len / 4 * 3 + 1): the buffer is made before the data is read
                self.new_str_from_vstr_sizes(R::TBytes, &[data.len() / 4 * 3 + 1], &out)
            }
            Crc32 => {
                self.arg_count(a, 1, 2)?;
                let data = self.buffer_or_raise(a.w[0])?;
                let mut crc = if a.n > 1 {
                    self.int_bits(a.w[1])? as u32
                } else {
                    0
                } ^ 0xffff_ffff;
                for b in data {
                    crc ^= u32::from(b);
                    for _ in 0..8 {
                        crc = if crc & 1 != 0 {
                            (crc >> 1) ^ 0xedb8_8320
                        } else {
                            crc >> 1
                        };
                    }
                }
                self.new_int(i64::from(crc ^ 0xffff_ffff))
            }
            Localtime => {
                self.arg_count(a, 0, 1)?;
                let t = if a.n == 0 {
                    i64::from(self.op_count()) / 1_000_000
                } else {
                    // (time_t)trunc(x) with a 32-bit time_t: out of range gives INT_MIN on
                    // i386
                    let f = self.get_float(a.w[0])?.trunc();
                    if (-2_147_483_648.0..2_147_483_648.0).contains(&f) {
                        f as i64
                    } else {
                        i64::from(i32::MIN)
                    }
                };
                let (days, secs) = (t.div_euclid(86_400), t.rem_euclid(86_400));
                // days since 1970-01-01 to a civil date (proleptic Gregorian)
                let z = days + 719_468;
                let era = z.div_euclid(146_097);
                let doe = z - era * 146_097;
                let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
                let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
                let mp = (5 * doy + 2) / 153;
                let d = doy - (153 * mp + 2) / 5 + 1;
                let m = if mp < 10 { mp + 3 } else { mp - 9 };
                let y = yoe + era * 400 + i64::from(m <= 2);
                let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
                const BEFORE: [i64; 12] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
                let yday = BEFORE[(m - 1) as usize] + d + i64::from(leap && m > 2);
                // tm_wday counts from Sunday; 1.9.4 makes Monday 0
                let wday = (days + 3).rem_euclid(7);
                let vals = [
                    y,
                    m,
                    d,
                    secs / 3600,
                    secs / 60 % 60,
                    secs % 60,
                    wday,
                    yday,
                    0,
                ];
                let items: Vec<Word> = vals.iter().map(|v| obj::small(*v as i32)).collect();
                self.new_tuple(&items)
            }
            JsonDump => {
                exact(self, 2)?;
                if !obj::is_ptr(a.w[1]) {
                    return Err(self.type_error(""));
                }
                let mut out = alloc::string::String::new();
                self.json_dump(a.w[0], &mut out, 0)?;
                // the printer's writes go to the stream (taken as one write here)
                self.stream_write_bytes(a.w[1], out.as_bytes())?;
                Ok(NONE)
            }
            JsonLoad => {
                exact(self, 1)?;
                let text = self.stream_read_rest(a.w[0])?;
                self.json_loads(&text)
            }
            OptLevel => {
                if a.n > 1 {
                    return Err(self.type_error("function expected at most 1 arguments"));
                }
                if a.n == 0 {
                    return Ok(obj::small(0));
                }
                // the compiler here always compiles at level 0 (asserts kept, __debug__ True)
                match self.get_int_arg(a.w[0])? {
                    0 => Ok(NONE),
                    _ => Err(self.exc_msg(
                        R::ENotImplementedError,
                        "micropython.opt_level above 0 is not supported by this firmware",
                    )),
                }
            }
            ReCompile => self.re_compile(a),
            Ilistdir => {
                self.arg_count_no_kw(a, 0, 1)?;
                let path = match a.n {
                    1 => self.fmt_arg(a.w[0])?,
                    _ => b".".to_vec(),
                };
                let path = alloc::string::String::from_utf8_lossy(&path).into_owned();
                // m_new_obj(mp_obj_listdir_t): base, iternext, the DIR (outside the heap)
                let o = self.alloc_obj(rom(R::TListdirIter), 3)?;
                // opendir: "." and "..", then the entries in reverse name order (tmpfs, where
                // the reference runs, gives newest first, and the unix targets write a tree
                // in name order; files made later by a scenario are placed by name here);
                // a folder that cannot be opened gives nothing
                let mut entries = alloc::collections::VecDeque::new();
                if let Ok(mut names) = self.st.fs.list(&path) {
                    entries.push_back((alloc::string::String::from("."), 4));
                    entries.push_back((alloc::string::String::from(".."), 4));
                    names.sort();
                    for n in names.into_iter().rev() {
                        let full = alloc::format!("{}/{}", path.trim_end_matches('/'), n);
                        let dir = matches!(self.st.fs.stat(&full), Some(crate::fs::FileKind::Dir));
                        entries.push_back((n, if dir { 4 } else { 8 }));
                    }
                }
                self.st.dir_iters.insert(o, entries);
                Ok(o)
            }
            ReMatch => self.re_module_exec(a, true),
            ReSearch => self.re_module_exec(a, false),
            Namedtuple => {
                exact(self, 2)?;
                self.namedtuple_new_type(a.w[0], a.w[1])
            }
            Unsupported => {
                let mn = obj::BUILTIN_MODULES
                    .iter()
                    .find(|(_, r)| *r == m)
                    .map_or("?", |x| x.0);
                Err(self.exc_msg(
                    R::ENotImplementedError,
                    &format!("{mn}.{name} is not supported by this firmware"),
                ))
            }
        }
    }

    /// `mp_obj_str_get_str`.
    fn fmt_arg(&mut self, w: Word) -> PR<Vec<u8>> {
        match self.str_bytes(w) {
            Some(b) => Ok(b),
            None => Err(self.bad_implicit_conversion(w)),
        }
    }

    /// `calc_size_items`: the number of values and the packed size of `fmt`.
    fn struct_sizes(&mut self, fmt: &[u8]) -> PR<(usize, usize)> {
        let (kind, mut i) = fmt_kind(fmt);
        let (mut items, mut size) = (0usize, 0usize);
        while i < fmt.len() {
            let cnt = fmt_count(fmt, &mut i);
            let Some(&c) = fmt.get(i) else { break };
            if c == b's' {
                items += 1;
                size += cnt;
            } else {
                items += cnt;
                let Some((sz, align)) = type_size(kind, c) else {
                    return Err(self.value_error("bad typecode"));
                };
                for _ in 0..cnt {
                    size = size.next_multiple_of(align) + sz;
                }
            }
            i += 1;
        }
        Ok((items, size))
    }

    /// `struct_pack`: a zeroed buffer of the format's size, values written in order (missing
    /// ones leave zeros, extra ones are ignored), made into bytes.
    fn struct_pack(&mut self, fmt: &[u8], vals: &[Word]) -> PR<Word> {
        let (_, size) = self.struct_sizes(fmt)?;
        let mut buf = alloc::vec![0u8; size];
        self.struct_pack_into(fmt, vals, &mut buf)?;
        self.new_str_from_vstr_sizes(R::TBytes, &[size + 1], &buf)
    }

    /// `struct_pack_into_internal`: packs `vals` by `fmt` into `buf` (sized by calcsize).
    fn struct_pack_into(&mut self, fmt: &[u8], vals: &[Word], buf: &mut [u8]) -> PR<()> {
        let (kind, mut i) = fmt_kind(fmt);
        let (mut p, mut v) = (0usize, 0usize);
        while v < vals.len() && i < fmt.len() {
            let mut cnt = fmt_count(fmt, &mut i);
            let Some(&c) = fmt.get(i) else { break };
            if c == b's' {
                let data = self.buffer_or_raise(vals[v])?;
                v += 1;
                let n = data.len().min(cnt);
                buf[p..p + n].copy_from_slice(&data[..n]);
                buf[p + n..p + cnt].fill(0);
                p += cnt;
            } else {
                while cnt > 0 && v < vals.len() {
                    cnt -= 1;
                    let Some((sz, align)) = type_size(kind, c) else {
                        return Err(self.value_error("bad typecode"));
                    };
                    p = p.next_multiple_of(align);
                    let bits: u64 = match c {
                        b'f' => u64::from((self.get_float(vals[v])? as f32).to_bits()),
                        b'd' => self.get_float(vals[v])?.to_bits(),
                        _ => self.int_bits(vals[v])?,
                    };
                    v += 1;
                    let bytes = bits.to_le_bytes();
                    for (k, b) in bytes.iter().take(sz).enumerate() {
                        let at = if kind == b'>' { p + sz - 1 - k } else { p + k };
                        buf[at] = *b;
                    }
                    p += sz;
                }
            }
            i += 1;
        }
        Ok(())
    }

    /// The low 64 bits of an int's two's complement (`mp_obj_get_int`, or a long int's
    /// bytes); a float is a TypeError.
    pub(crate) fn int_bits(&mut self, w: Word) -> PR<u64> {
        if let Some(v) = crate::ops::int_of(w) {
            return Ok(i64::from(v) as u64);
        }
        if let Some(z) = self.mpz_of(w) {
            if let Some(v) = z.to_i64() {
                return Ok(v as u64);
            }
            // beyond 64 bits: the low bits of the decimal value
            let t = z.to_str_radix(16, false, "");
            let (neg, digits) = match t.strip_prefix('-') {
                Some(d) => (true, d),
                None => (false, t.as_str()),
            };
            let low = &digits[digits.len().saturating_sub(16)..];
            let m = u64::from_str_radix(low, 16).unwrap_or(0);
            return Ok(if neg { m.wrapping_neg() } else { m });
        }
        let n = self.type_name(w);
        Err(self.exc_varg(R::ETypeError, "can't convert %s to int", &[&n]))
    }

    /// `struct_unpack_from`: the result tuple first, then its items in order.
    fn struct_unpack(&mut self, fmt: &[u8], buf: Word, offset: Option<i64>) -> PR<Word> {
        let (items, size) = self.struct_sizes(fmt)?;
        let t = self.new_tuple(&alloc::vec![NONE; items])?;
        let h = self.hold(t);
        let r = (|| {
            let data = self.buffer_or_raise(buf)?;
            let mut p = 0usize;
            if let Some(off) = offset {
                let off = if off < 0 {
                    data.len() as i64 + off
                } else {
                    off
                };
                if off < 0 {
                    return Err(self.value_error("buffer too small"));
                }
                p = off as usize;
            }
            if p + size > data.len() {
                return Err(self.value_error("buffer too small"));
            }
            let (kind, mut i) = fmt_kind(fmt);
            let mut n = 0usize;
            while n < items && i < fmt.len() {
                let mut cnt = fmt_count(fmt, &mut i);
                let Some(&c) = fmt.get(i) else { break };
                if c == b's' {
                    let item = self.new_str_copy(R::TBytes, &data[p..p + cnt])?;
                    self.wf(t, 2 + n, item);
                    n += 1;
                    p += cnt;
                } else {
                    while cnt > 0 {
                        cnt -= 1;
                        let Some((sz, align)) = type_size(kind, c) else {
                            return Err(self.value_error("bad typecode"));
                        };
                        p = p.next_multiple_of(align);
                        let mut raw = [0u8; 8];
                        for (k, r) in raw.iter_mut().take(sz).enumerate() {
                            *r = if kind == b'>' {
                                data[p + sz - 1 - k]
                            } else {
                                data[p + k]
                            };
                        }
                        p += sz;
                        let bits = u64::from_le_bytes(raw);
                        let item = match c {
                            b'f' => self.new_float(f64::from(f32::from_bits(bits as u32)))?,
                            b'd' => self.new_float(f64::from_bits(bits))?,
                            _ if c.is_ascii_lowercase() => {
                                let shift = 64 - 8 * sz as u32;
                                self.new_int(((bits << shift) as i64) >> shift)?
                            }
                            _ => match i64::try_from(bits) {
                                Ok(v) => self.new_int(v)?,
                                // mp_obj_new_int_from_ull: the object, then 4 digits
                                Err(_) => self.new_big_const(&crate::mpz::Mpz {
                                    neg: false,
                                    dig: crate::mpz::mag_from_u64(bits),
                                    alloc: crate::mpz::NUM_DIG_FOR_LL,
                                    has: true,
                                    fixed: false,
                                    addr: 0,
                                })?,
                            },
                        };
                        self.wf(t, 2 + n, item);
                        n += 1;
                    }
                }
                i += 1;
            }
            Ok(t)
        })();
        self.release(h);
        r
    }
}

impl Rt<'_> {
    /// The less-than of two heap items (`mp_binary_op(LESS)` is True).
    fn heap_less(&mut self, x: Word, y: Word) -> PR<bool> {
        let r = self.binary_op(crate::compile::opcodes::binary::LESS, x, y)?;
        Ok(r == obj::TRUE)
    }

    /// moduheapq.c's `heap_siftdown` on the items of list `l`.
    fn heap_siftdown(&mut self, l: Word, start: usize, mut pos: usize) -> PR<()> {
        let items = self.f(l, 3);
        let item = self.f(items, pos);
        while pos > start {
            let parent_pos = (pos - 1) >> 1;
            let parent = self.f(items, parent_pos);
            if self.heap_less(item, parent)? {
                self.wf(items, pos, parent);
                pos = parent_pos;
            } else {
                break;
            }
        }
        self.wf(items, pos, item);
        Ok(())
    }

    /// moduheapq.c's `heap_siftup`.
    fn heap_siftup(&mut self, l: Word, mut pos: usize) -> PR<()> {
        let items = self.f(l, 3);
        let (start, end) = (pos, self.f(l, 2) as usize);
        let item = self.f(items, pos);
        let mut child = 2 * pos + 1;
        while child < end {
            if child + 1 < end {
                let r = self.binary_op(
                    crate::compile::opcodes::binary::LESS,
                    self.f(items, child),
                    self.f(items, child + 1),
                )?;
                if r == obj::FALSE {
                    child += 1;
                }
            }
            let c = self.f(items, child);
            self.wf(items, pos, c);
            pos = child;
            child = 2 * pos + 1;
        }
        self.wf(items, pos, item);
        self.heap_siftdown(l, start, pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_of_one_is_e_to_the_last_bit() {
        assert_eq!(m_exp(core::hint::black_box(1.0)), core::f64::consts::E);
    }
}
