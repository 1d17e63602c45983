//! Long ints, str/bytes methods and formatting run end to end through the firmware. The
//! expected texts are what MicroPython 1.9.4 (32-bit unix port) prints for the same lines.

mod support;

use support::{exec, machine};

/// Runs `src` and returns what it printed, or the formatted exception.
fn run(src: &str) -> String {
    let (out, err) = exec(&mut machine(&[]), src, "<stdin>");
    err.unwrap_or(out)
}

/// `repr(eval(expr))` for each expression, one per line (exceptions as `Type: message`).
fn reprs(exprs: &[&str]) -> Vec<String> {
    let mut src = String::from(
        "def _t(s):\n    try:\n        print(repr(eval(s)))\n    except Exception as e:\n        print(type(e).__name__ + ': ' + str(e))\n",
    );
    for e in exprs {
        src.push_str(&format!("_t({e:?})\n"));
    }
    let out = run(&src);
    out.lines().map(String::from).collect()
}

fn check(cases: &[(&str, &str)]) {
    let exprs: Vec<&str> = cases.iter().map(|c| c.0).collect();
    let got = reprs(&exprs);
    assert_eq!(got.len(), cases.len(), "{got:?}");
    for ((e, want), g) in cases.iter().zip(got.iter()) {
        assert_eq!(g, want, "{e}");
    }
}

#[test]
fn long_int_arithmetic() {
    check(&[
        ("2 ** 100", "1267650600228229401496703205376"),
        ("2 ** 30", "1073741824"),
        ("-(10 ** 20) + 1", "-99999999999999999999"),
        ("(2 ** 100) % 1000007", "698635"),
        ("divmod(-(2 ** 70), 7)", "(-168655945816773043347, 5)"),
        ("-(2 ** 70) // 7", "-168655945816773043347"),
        ("(2 ** 70) % -7", "-5"),
        ("(1 << 70) >> 68", "4"),
        ("-(2 ** 70) >> 69", "-2"),
        ("~(2 ** 40)", "-1099511627777"),
        ("-(2 ** 40) & 0xffff0000", "0"),
        ("(2 ** 40) | 5", "1099511627781"),
        ("-(2 ** 40) ^ 77", "-1099511627699"),
        ("hex(2 ** 100)", "'0x10000000000000000000000000'"),
        ("bin(-(2 ** 33))", "'-0b1000000000000000000000000000000000'"),
        (
            "int('123456789012345678901234567890') + 1",
            "123456789012345678901234567891",
        ),
        ("int('-ffffffffffffffffff', 16)", "-4722366482869645213695"),
        ("abs(-(2 ** 64))", "18446744073709551616"),
        ("2 ** 64 == 18446744073709551616", "True"),
        ("2 ** 64 > 2 ** 63", "True"),
        ("-(2 ** 64) < 1", "True"),
        ("type(2 ** 100 - 2 ** 100).__name__", "'int'"),
        ("{2 ** 40: 'a'}[1 << 40]", "'a'"),
        ("hash(2 ** 40) == hash(1 << 40)", "True"),
        ("(2 ** 40) / 2", "549755813888.0001"),
        ("1 << -1", "ValueError: negative shift count"),
        ("(2 ** 40) // 0", "ZeroDivisionError: division by zero"),
        (
            "[1, 2][2 ** 40]",
            "OverflowError: overflow converting long int to machine word",
        ),
        (
            "int('12', 1)",
            "ValueError: int() arg 2 must be >= 2 and <= 36",
        ),
        (
            "int('12x')",
            "ValueError: invalid syntax for integer with base 10: '12x'",
        ),
    ]);
}

#[test]
fn long_int_literals_and_folding() {
    // literals beyond small ints and folded constant expressions become long-int constants
    let out = run(
        "a = 123456789012345678901234567890\nb = 1 << 40\nc = -1073741824 - 1\nprint(a, b, c, a // b)\n",
    );
    assert_eq!(
        out,
        "123456789012345678901234567890 1099511627776 -1073741825 112283295504626656\n"
    );
}

#[test]
fn long_int_loop_promotes() {
    let out = run("z = 1\nfor i in range(40):\n    z *= 3\nprint(z)\n");
    assert_eq!(out, "12157665459056928801\n");
}

#[test]
fn percent_formatting() {
    check(&[
        ("'%o' % 8", "'10'"),
        ("'%X' % 255", "'FF'"),
        ("'%e' % 1.5", "'1.500000e+00'"),
        ("'%#o %#x' % (8, 255)", "'0o10 0xff'"),
        ("'%05d' % 42", "'00042'"),
        ("'%.2f' % 3.14159", "'3.14'"),
        ("'%c' % 65", "'A'"),
        ("'%-5s|' % 'ab'", "'ab   |'"),
        ("'%+d %+d' % (5, -5)", "'+5 -5'"),
        ("'%5.1f|' % 2.25", "'  2.3|'"),
        ("'%x' % 2 ** 70", "'400000000000000000'"),
        ("'%(a)s-%(b)d' % {'a': 1, 'b': 2}", "'1-2'"),
        (
            "'%d %d' % (1,)",
            "TypeError: not enough arguments for format string",
        ),
        (
            "'%d' % (1, 2)",
            "TypeError: not all arguments converted during string formatting",
        ),
        (
            "'%z' % 1",
            "ValueError: unsupported format character 'z' (0x7a) at index 1",
        ),
    ]);
}

#[test]
fn str_format_specs() {
    check(&[
        (
            "'{:>6}|{:<6}|{:^6}'.format('r', 'l', 'c')",
            "'     r|l     |  c   '",
        ),
        (
            "'{:x} {:X} {:08.3f}'.format(255, 255, 3.14159)",
            "'ff FF 0003.142'",
        ),
        ("'{:o} {:b}'.format(8, 5)", "'10 101'"),
        ("'{!r:>5}'.format('a')", "\"  'a'\""),
        ("'{}-{:03d}-{!r}'.format('id', 7, 'x')", "\"id-007-'x'\""),
        ("'{:,}'.format(1234567)", "'1,234,567'"),
        ("'{:*^9}'.format('mid')", "'***mid***'"),
        ("'{:=+8d}'.format(42)", "'+     42'"),
        (
            "'{:d}'.format('a')",
            "ValueError: unknown format code 'd' for object of type 'str'",
        ),
        (
            "'{0} {}'.format(1, 2)",
            "ValueError: can't switch from manual field specification to automatic field numbering",
        ),
        ("'{} {}'.format(1)", "IndexError: tuple index out of range"),
    ]);
}

#[test]
fn str_and_bytes_methods() {
    check(&[
        ("'a b  c'.split(None, 1)", "['a', 'b  c']"),
        ("'a,b,c'.rsplit(',', 1)", "['a,b', 'c']"),
        ("'a\\nb\\r\\nc\\n'.splitlines()", "['a', 'b', 'c']"),
        ("'abc'.center(7)", "'  abc  '"),
        (
            "'abc'.center(7, '*')",
            "TypeError: function takes 2 positional arguments but 3 were given",
        ),
        (
            "'AB1'.isupper(), 'ab1'.islower(), ''.isupper()",
            "(True, True, False)",
        ),
        ("'abcab'.rindex('b')", "4"),
        ("'abcb'.count('b', 2)", "1"),
        ("'aaa'.replace('a', 'b', 2)", "'bba'"),
        (
            "'abc'.endswith(('x', 'c'))",
            "TypeError: can't convert 'tuple' object to str implicitly",
        ),
        (
            "'x'.join(['a', 1])",
            "TypeError: join expects a list of str/bytes objects consistent with self object",
        ),
        ("b'a,b'.split(b',')", "[b'a', b'b']"),
        ("b'abc'.upper()", "b'ABC'"),
        ("'h\\u00e9llo'.encode()", "b'h\\xc3\\xa9llo'"),
        ("len(b'h\\xc3\\xa9llo'.decode())", "5"),
        ("'a\\u00e9b'.find('b')", "2"),
        (
            "repr('\\u03bb'), repr('\\xe9')",
            "(\"'\\\\u03bb'\", \"'\\\\xe9'\")",
        ),
    ]);
}

#[test]
fn str_bytes_mixing_and_slices() {
    check(&[
        ("b'ab' + 'cd'", "b'abcd'"),
        ("bytearray(b'x') + b'y'", "bytearray(b'xy')"),
        (
            "'abc' + b'def'",
            "TypeError: can't convert 'bytes' object to str implicitly",
        ),
        (
            "1 + 'a'",
            "TypeError: can't convert 'int' object to str implicitly",
        ),
        (
            "'a' - 'b'",
            "TypeError: unsupported types for __sub__: 'str', 'str'",
        ),
        (
            "'abc'[::-1]",
            "NotImplementedError: only slices with step=1 (aka None) are supported",
        ),
        ("[1, 2, 3][::-1]", "[3, 2, 1]"),
        ("'a\\u00e9bc'[1:3]", "'\\xe9b'"),
        ("b'\\x00\\x01abc\\xff'", "b'\\x00\\x01abc\\xff'"),
    ]);
    let out = run(
        "b = bytearray(b'hello')\nb[0] = ord('j')\nb.extend(b' world')\nb[1:3] = b'EL'\nb.append(33)\nprint(b)\n",
    );
    assert_eq!(out, "bytearray(b'jELlo world!')\n");
}

#[test]
fn float_text_follows_formatfloat() {
    // 1.9.4's own digit loop: at most 16 significant digits, not the shortest round trip
    check(&[
        ("0.1 + 0.2", "0.3"),
        ("2.5e-5", "2.5e-05"),
        ("1e100", "1e+100"),
        ("float(2 ** 100)", "1.267650600228229e+30"),
        ("2.0 ** 39", "549755813888.0001"),
        ("100.0", "100.0"),
        ("-0.0", "-0.0"),
        ("'%g %g' % (1e-5, 123456789.0)", "'1e-05 1.23457e+08'"),
        ("'%.3g' % 0.0001234", "'0.000123'"),
        ("'{:10.4e}'.format(-12345.6789)", "'-1.2346e+04'"),
    ]);
}

#[test]
fn three_argument_pow() {
    check(&[
        ("pow(3, 200, 10 ** 9)", "699044001"),
        ("pow(-3, 5, 7)", "2"),
        ("pow(3, 5, -7)", "-2"),
        ("pow(5, 3, 1)", "0"),
        (
            "pow(2.0, 3, 5)",
            "TypeError: pow() with 3 arguments requires integers",
        ),
    ]);
}

#[test]
fn iteration_over_strs_tuples_and_lists_yields_each_item_once() {
    check(&[
        // as the 1.9.4 unix binary prints it
        ("[c for c in 'aé€x']", r"['a', '\xe9', '\u20ac', 'x']"),
        ("[c for c in '']", "[]"),
        ("[x for x in (1, 'b', None)]", "[1, 'b', None]"),
        ("[x for x in ()]", "[]"),
        ("[x * 2 for x in [3, 4]]", "[6, 8]"),
        ("list(iter('ab'))", "['a', 'b']"),
    ]);
}
