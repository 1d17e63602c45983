//! Built-in (ROM) modules seen through the import machinery: the unix port's whole module
//! table, stores to their attributes, and the `builtins` override dict. The expected texts are
//! what MicroPython 1.9.4 (32-bit unix port) prints for the same scripts.

mod support;

use support::{exec, machine};

/// Runs `src` as `/mpdiff/t.py` beside the files of `tree`; returns what it printed, or the
/// formatted exception.
fn run(tree: &[(&str, &str)], src: &str) -> String {
    let mut m = machine(tree);
    let (out, err) = exec(&mut m, src, "t.py");
    err.unwrap_or(out)
}

#[test]
fn built_in_names_beat_files_and_stay_out_of_sys_modules() {
    let out = run(
        &[
            ("math.py", "v = 1\n"),
            ("utime.py", "v = 1\n"),
            ("time.py", "v = 1\n"),
        ],
        "import sys, math, utime, time\n\
         print(math, utime, hasattr(math, 'v'), hasattr(time, 'v'))\n\
         print(sorted(sys.modules))\n",
    );
    assert_eq!(
        out,
        "<module 'math'> <module 'utime'> False True\n['time']\n"
    );
}

#[test]
fn math_functions_check_their_domain() {
    let out = run(
        &[],
        "import math\n\
         print(math.sqrt(16), math.floor(-2.5), math.pi, math.frexp(8.0), math.log(8, 2))\n\
         for f, a in ((math.sqrt, -1), (math.log, 0), (math.exp, 1000)):\n\
         \x20   try:\n\
         \x20       f(a)\n\
         \x20   except ValueError as e:\n\
         \x20       print(repr(e))\n",
    );
    assert_eq!(
        out,
        "4.0 -3 3.141592653589793 (0.5, 4) 3.0\n\
         ValueError('math domain error',)\n\
         ValueError('math domain error',)\n\
         ValueError('math domain error',)\n"
    );
}

#[test]
fn stores_to_rom_modules_raise_but_builtins_take_overrides() {
    let out = run(
        &[],
        "import sys, builtins\n\
         try:\n\
         \x20   sys.path = []\n\
         except AttributeError as e:\n\
         \x20   print(e)\n\
         try:\n\
         \x20   del sys.modules\n\
         except AttributeError as e:\n\
         \x20   print(e)\n\
         builtins.answer = 42\n\
         print(answer, hasattr(builtins, 'answer'))\n\
         del builtins.answer\n\
         try:\n\
         \x20   answer\n\
         except NameError as e:\n\
         \x20   print(e)\n",
    );
    assert_eq!(
        out,
        "'module' object has no attribute 'path'\n\
         'module' object has no attribute 'modules'\n\
         42 False\n\
         name 'answer' is not defined\n"
    );
}

#[test]
fn ustruct_and_ubinascii_pack_like_the_32_bit_build() {
    // native alignment is i386's: 8-byte values align to 4 (calcsize('@bq') is 12)
    let out = run(
        &[],
        "import ustruct, ubinascii\n\
         print(ustruct.pack('<hI', -2, 4000000000), ustruct.unpack('>iq', ustruct.pack('>iq', -5, -7)), ustruct.calcsize('@bq'), ustruct.calcsize('bd'))\n\
         print(ubinascii.hexlify(b'\\x01\\xab', ':'), ubinascii.unhexlify('01aBff'), ustruct.unpack('<Q', b'\\xff' * 8))\n\
         for f in (lambda: ustruct.pack('=h', 1), lambda: ubinascii.unhexlify('abc'), lambda: ustruct.unpack('<i', b'ab')):\n\
         \x20   try:\n\
         \x20       f()\n\
         \x20   except ValueError as e:\n\
         \x20       print(repr(e))\n",
    );
    assert_eq!(
        out,
        "b'\\xfe\\xff\\x00(k\\xee' (-5, -7) 12 12\n\
         b'01:ab' b'\\x01\\xab\\xff' (18446744073709551615,)\n\
         ValueError('bad typecode',)\n\
         ValueError('odd-length string',)\n\
         ValueError('buffer too small',)\n"
    );
}

#[test]
fn modules_are_unhashable_and_floats_hash_by_their_int_part() {
    // 1.9.4 hashes only types whose unary_op answers MP_UNARY_OP_HASH (not modules or
    // lists), and the unix build hashes a float as `(mp_int_t)val`: 0.5 and 3.0 and 2.5 land
    // in slots 0, 3 and 2 of a 4-slot table, and 1.0 is the same key as 1
    let out = run(
        &[],
        "import sys\n\
         for o in (sys, [], len, 2.5, 1e20):\n\
         \x20   try:\n\
         \x20       print(hash(o) if o is not len else 'fn')\n\
         \x20   except TypeError as e:\n\
         \x20       print(e)\n\
         print({1.0: 1, 1: 2}, {2.5: 'a', 0.5: 'b', 3.0: 'c'})\n\
         try:\n\
         \x20   {sys: 1}\n\
         except TypeError as e:\n\
         \x20   print(e)\n",
    );
    assert_eq!(
        out,
        "unsupported type for __hash__: 'module'\n\
         unsupported type for __hash__: 'list'\n\
         fn\n\
         2\n\
         0\n\
         {1.0: 2} {0.5: 'b', 3.0: 'c', 2.5: 'a'}\n\
         unsupported type for __hash__: 'module'\n"
    );
}

#[test]
fn sys_values_are_the_32_bit_builds() {
    // sys.maxsize is the largest mp_int_t (a long int), sys.version a str, and
    // sys.implementation a namedtuple with name and version fields
    let out = run(
        &[],
        "import sys\n\
         print(sys.maxsize, sys.maxsize + 1, sys.version.split('.'), sys.version.encode())\n\
         print(sys.implementation, sys.implementation.name, sys.implementation.version[1])\n",
    );
    assert_eq!(
        out,
        "2147483647 2147483648 ['3', '4', '0'] b'3.4.0'\n\
         (name='micropython', version=(1, 9, 4)) micropython 9\n"
    );
}

#[test]
fn sys_exc_info_follows_the_handler_being_run() {
    // 1.9.4 sets cur_exception when a frame's handler code starts and clears it when any
    // try block is popped, so the outer except sees Nones after a nested try
    let out = run(
        &[],
        "import sys\n\
         print(sys.exc_info())\n\
         try:\n\
         \x20   1/0\n\
         except ZeroDivisionError:\n\
         \x20   print(sys.exc_info()[0], sys.exc_info()[1])\n\
         \x20   try:\n\
         \x20       [][1]\n\
         \x20   except IndexError:\n\
         \x20       print(sys.exc_info()[0])\n\
         \x20   print(sys.exc_info())\n",
    );
    assert_eq!(
        out,
        "(None, None, None)\n\
         <class 'ZeroDivisionError'> division by zero\n\
         <class 'IndexError'>\n\
         (None, None, None)\n"
    );
}
