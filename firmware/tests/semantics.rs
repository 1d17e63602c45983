//! MicroPython 1.9.4 semantics the runtime must reproduce (semantics.md §1, §3, §5), checked on
//! whole programs run by a [`Machine`].

mod support;

use mpfw::{InputKind, Io, Machine, PyException};
use support::machine_with_heap;

struct Cap {
    out: Vec<u8>,
    polls_left: Option<usize>,
}

impl Io for Cap {
    fn write(&mut self, d: &[u8]) {
        self.out.extend_from_slice(d);
    }
    fn interrupted(&mut self) -> bool {
        match &mut self.polls_left {
            Some(0) => true,
            Some(n) => {
                *n -= 1;
                false
            }
            None => false,
        }
    }
}

const SEED_TREE: &[(&str, &str)] = &[
    ("rootpackage/__init__.py", ""),
    ("rootpackage/package/__init__.py", ""),
    ("rootpackage/package/subpackage/__init__.py", ""),
    (
        "rootpackage/package/subpackage/module.py",
        "L = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95, 96, 97, 98, 99]\ndef f(): return 1\n",
    ),
];

fn exec(m: &mut Machine, src: &str) -> (String, Result<(), PyException>) {
    let mut io = Cap {
        out: Vec::new(),
        polls_left: None,
    };
    let r = m.exec(src, "<stdin>", InputKind::File, &mut io);
    (String::from_utf8_lossy(&io.out).into_owned(), r)
}

fn run(files: &[(&str, &str)], src: &str) -> String {
    let mut m = machine_with_heap(files, 36 * 1024);
    let (out, r) = exec(&mut m, src);
    if let Err(e) = r {
        panic!("{}{}", out, m.format_exception(&e));
    }
    out
}

fn error_of(files: &[(&str, &str)], src: &str) -> PyException {
    let mut m = machine_with_heap(files, 36 * 1024);
    exec(&mut m, src).1.expect_err("the program should raise")
}

/// Reads `gc.mem_free()` after a collection, through Python like the driver does.
fn free_after(m: &mut Machine, src: &str) -> i64 {
    let (out, r) = exec(m, &format!("{src}\ngc.collect()\nprint(gc.mem_free())\n"));
    r.unwrap_or_else(|e| panic!("{out}{}", m.format_exception(&e)));
    out.trim().lines().last().unwrap().parse().unwrap()
}

#[test]
fn seed_parent_attribute_keeps_the_module_alive() {
    let mut m = machine_with_heap(SEED_TREE, 36 * 1024);
    let (_, r) = exec(&mut m, "import gc, sys\nmodule = rootpackage = 0\n");
    r.unwrap();
    let f0 = free_after(&mut m, "from rootpackage.package.subpackage import module");
    let f1 = free_after(
        &mut m,
        "del module\ndel sys.modules['rootpackage.package.subpackage.module']",
    );
    assert_eq!(f1 - f0, 0, "deleting the name and the entry frees nothing");
    let f2 = free_after(&mut m, "import rootpackage");
    assert_eq!(f2 - f1, 0);
    let f3 = free_after(&mut m, "del rootpackage.package.subpackage.module");
    assert_eq!(
        f3 - f2,
        528,
        "module 1 + dict 1 + table 2 + list 1+25 + fun 1 + bytecode 2 blocks"
    );
    let out = run(
        SEED_TREE,
        "import sys\nfrom rootpackage.package.subpackage import module\nprint(list(sys.modules))\n",
    );
    assert_eq!(
        out,
        "['rootpackage.package.subpackage.module', 'rootpackage', 'rootpackage.package', 'rootpackage.package.subpackage']\n"
    );
}

#[test]
fn reimport_cycles_cost_the_same() {
    let mut m = machine_with_heap(SEED_TREE, 36 * 1024);
    exec(&mut m, "import gc, sys\nrootpackage = 0\n").1.unwrap();
    let mut last = free_after(&mut m, "");
    let mut costs = Vec::new();
    for _ in 0..3 {
        let a = free_after(&mut m, "import rootpackage.package.subpackage.module");
        let b = free_after(
            &mut m,
            "del rootpackage.package.subpackage.module\ndel sys.modules['rootpackage.package.subpackage.module']",
        );
        costs.push((last - a, b - a));
        last = b;
    }
    // every cycle after the first costs and frees the same: the module's 32-33 blocks
    assert_eq!(costs[1].0, costs[1].1, "{costs:?}");
    assert_eq!(costs[1], costs[2], "{costs:?}");
    assert!((512..=528).contains(&costs[2].1), "{costs:?}");
}

#[test]
fn dir_lists_slots_in_hash_order() {
    let out = run(
        SEED_TREE,
        "import sys\nimport rootpackage.package.subpackage.module\nprint(dir())\n",
    );
    assert_eq!(out, "['sys', 'rootpackage', '__name__', '__file__']\n");
    let files = [("m.py", "C = 1\n_hidden = 2\nzeta = 3\nalpha = 4\n")];
    let out = run(&files, "import m\nprint(dir(m))\n");
    assert_eq!(
        out,
        "['__class__', '__file__', '__name__', 'C', '_hidden', 'zeta', 'alpha']\n"
    );
    let out = run(&[], "def g():\n    a = 1\n    return dir()\nprint(g())\n");
    assert_eq!(out, "['g', '__name__', '__file__']\n");
    let out = run(&[], "class K:\n    z = 1\n    print(dir())\n");
    assert_eq!(out, "['__module__', 'z', '__qualname__']\n");
}

#[test]
fn star_import_skips_private_names() {
    let files = [("m.py", "a = 1\n_b = 2\nc = 3\n")];
    let out = run(&files, "from m import *\nprint(sorted(dir()))\n");
    assert_eq!(out, "['__file__', '__name__', 'a', 'c']\n");
}

#[test]
fn error_messages_are_micropythons() {
    type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str, &'a str);
    let cases: &[Case] = &[
        (&[], "x", "NameError", "name 'x' is not defined"),
        (
            &[],
            "import nothere",
            "ImportError",
            "no module named 'nothere'",
        ),
        (
            &[("m.py", "")],
            "from m import q",
            "ImportError",
            "cannot import name q",
        ),
        (
            &[("m.py", "")],
            "import m\nm.q",
            "AttributeError",
            "'module' object has no attribute 'q'",
        ),
        (
            &[("p/__init__.py", "")],
            "import p.nosub",
            "ImportError",
            "no module named 'p.nosub'",
        ),
        (&[], "from . import x", "KeyError", "__main__"),
        (&[], "import sys\ndel sys.modules['zz']", "KeyError", "zz"),
        (&[], "del undefined_name", "KeyError", "undefined_name"),
        (&[], "1/0", "ZeroDivisionError", "division by zero"),
        (&[], "[][1]", "IndexError", "list index out of range"),
        (&[], "{}['k']", "KeyError", "k"),
        (
            &[],
            "len(1)",
            "TypeError",
            "object of type 'int' has no len()",
        ),
        (
            &[],
            "None()",
            "TypeError",
            "'NoneType' object is not callable",
        ),
        (
            &[("b.py", "x = (\n")],
            "import b",
            "SyntaxError",
            "invalid syntax",
        ),
    ];
    for (files, src, kind, msg) in cases {
        let e = error_of(files, src);
        assert_eq!(
            (e.kind.as_str(), e.message.as_str()),
            (*kind, *msg),
            "for {src:?}"
        );
    }
}

#[test]
fn failed_import_leaves_a_partial_module() {
    let files = [(
        "bad.py",
        "before = 1\nraise ValueError('boom')\nafter = 2\n",
    )];
    let out = run(
        &files,
        "import sys\ntry:\n    import bad\nexcept ValueError as e:\n    print(repr(e))\nprint(sys.modules['bad'].before, hasattr(sys.modules['bad'], 'after'))\nimport bad\nprint(bad.before)\n",
    );
    assert_eq!(out, "ValueError('boom',)\n1 False\n1\n");
}

#[test]
fn tracebacks_name_files_and_lines() {
    let files = [("t.py", "def f():\n    return 1 / 0\n")];
    let mut m = machine_with_heap(&files, 36 * 1024);
    let e = exec(&mut m, "import t\nt.f()\n").1.unwrap_err();
    assert_eq!(
        m.format_exception(&e),
        "Traceback (most recent call last):\n  File \"<stdin>\", line 2, in <module>\n  File \"t.py\", line 2, in f\nZeroDivisionError: division by zero\n"
    );
}

#[test]
fn memory_error_on_a_tiny_heap() {
    let mut m = machine_with_heap(&[], 16 * 1024);
    let e = exec(&mut m, "x = bytearray(40000)\n").1.unwrap_err();
    assert_eq!(e.kind, "MemoryError");
    // the machine is still usable afterwards
    let (out, r) = exec(&mut m, "print(len(bytearray(100)))\n");
    r.unwrap();
    assert_eq!(out, "100\n");
}

#[test]
fn an_infinite_loop_is_interrupted() {
    let mut m = machine_with_heap(&[], 36 * 1024);
    let mut io = Cap {
        out: Vec::new(),
        polls_left: Some(100_000),
    };
    let e = m
        .exec(
            "while True:\n    pass\n",
            "<stdin>",
            InputKind::File,
            &mut io,
        )
        .unwrap_err();
    assert_eq!(e.kind, "KeyboardInterrupt");
}

#[test]
fn deep_recursion_raises_runtime_error() {
    let e = error_of(&[], "def f(n):\n    return f(n + 1)\nf(0)\n");
    assert_eq!(
        (e.kind.as_str(), e.message.as_str()),
        ("RuntimeError", "maximum recursion depth exceeded")
    );
}

/// A module body runs several C frames deeper than its importer (`mp_builtin___import__` keeps
/// a `PATH_MAX` path buffer on the C stack), so a chain of imports meets the recursion limit
/// long before a chain of calls does: on unix32 the eighth nested module body is refused,
/// after the module was created.
#[test]
fn nested_imports_meet_the_recursion_limit_at_the_eighth_body() {
    let names: Vec<String> = (0..12).map(|i| format!("c{i}.py")).collect();
    let bodies: Vec<String> = (0..12).map(|i| format!("import c{}\n", i + 1)).collect();
    let files: Vec<(&str, &str)> = names
        .iter()
        .zip(&bodies)
        .map(|(n, b)| (n.as_str(), b.as_str()))
        .collect();
    let out = run(
        &files,
        "import sys\ntry:\n    import c0\nexcept RuntimeError as e:\n    print(e)\nprint(sorted(sys.modules))\nprint(sorted(dir(sys.modules['c7'])))\n",
    );
    assert_eq!(
        out,
        "maximum recursion depth exceeded\n['c0', 'c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'c7']\n['__class__', '__file__', '__name__']\n"
    );
}

/// `find_file` reads each `sys.path` entry with `mp_obj_str_get_data`: bytes serve as a
/// folder, anything else raises `TypeError` once the search reaches it (entries before a match
/// are the only ones read).
#[test]
fn sys_path_entries_must_be_str_or_bytes() {
    let files = [("lib/one.py", "ONE = 1\n"), ("two.py", "TWO = 2\n")];
    let out = run(
        &files,
        "import sys\nsys.path.insert(0, b'lib')\nimport one\nprint(one.__file__)\n\
         sys.path.append(7)\nimport two\nprint(two.TWO)\nsys.path.insert(0, None)\n\
         try:\n    import three\nexcept TypeError as e:\n    print(e)\n",
    );
    assert_eq!(
        out,
        "lib/one.py\n2\ncan't convert 'NoneType' object to str implicitly\n"
    );
}

/// With `a.b.c` still in `sys.modules` but `a` removed, the fast path of `import a.b.c`
/// returns 1.9.4's NULL: the name is bound (it shows in `dir()`), a module attribute bound that
/// way reads as missing, and reading the name raises where 1.9.4 would crash.
#[test]
fn fast_path_without_the_top_package_binds_no_object() {
    let files = [
        ("a/__init__.py", ""),
        ("a/b/__init__.py", ""),
        ("a/b/c.py", "C = 1\n"),
        ("m.py", "import a.b.c\n"),
    ];
    let out = run(
        &files,
        "import sys\nimport a.b.c\ndel a\ndel sys.modules['a']\nimport a.b.c\n\
         print('a' in dir())\nimport m\nprint(hasattr(m, 'a'), 'a' in dir(m))\n\
         try:\n    a\nexcept RuntimeError as e:\n    print(e)\n",
    );
    assert_eq!(out, "True\nFalse False\nname 'a' is bound to no object\n");
}

#[test]
fn language_basics() {
    let src = "\
class A:
    def __init__(self, v):
        self.v = v
    def get(self):
        return self.v
class B(A):
    pass
def mk(k):
    def inner(x=2, *a, **kw):
        return k + x + len(a) + len(kw)
    return inner
try:
    raise KeyError('k')
except (ValueError, KeyError) as e:
    r = repr(e)
finally:
    r += '!'
t = 0
for i in range(10):
    if i == 7:
        break
    t += i
print(B(3).get(), mk(1)(), mk(1)(5, 6, z=1), r, t, [x * x for x in (1, 2, 3)], {'a': 1}, sorted([3, 1, 2]))
";
    assert_eq!(
        run(&[], src),
        "3 3 8 KeyError('k',)! 21 [1, 4, 9] {'a': 1} [1, 2, 3]\n"
    );
}

#[test]
fn bad_programs_never_panic() {
    let corpus = [
        "",
        "(",
        ")",
        "def",
        "1 +",
        "import",
        "from import x",
        "x = [",
        "'abc",
        "\"\"\"",
        "@",
        "lambda: (yield)",
        "def f():\n  yield 1\nlist(f())",
        "class C(1): pass",
        "a, b = 1",
        "a, b = [1, 2, 3]",
        "x = 1 << 100",
        "2 ** 100",
        "int('zz')",
        "[].pop()",
        "{}.popitem()",
        "super()",
        "with 1: pass",
        "raise 1",
        "raise",
        "import sys\nsys.modules['x'] = 5\nimport x\nprint(x)",
        "del sys",
        "__import__('')",
        "__import__('.')",
        "from .. import x",
        "import a.b.c.d.e.f",
        "exec(1)",
        "eval('1+')",
        "getattr(1, 2)",
        "setattr(None, 'a', 1)",
        "x = 1\nx.y = 2",
        "'%d' % 'a'",
        "'{}'.format()",
        "b'a' + 'a'",
        "None + 1",
        "-'a'",
        "~[]",
        "[1][None]",
        "for x in 1: pass",
        "iter(1)",
        "next(iter([]))",
        "1 if else 2",
        "global x\nx = 1",
        "nonlocal x",
        "def f(a, a): pass",
        "f(**1)",
        "print(*1)",
        "type('X', (1,), {})",
        "isinstance(1, 2)",
        "range(1, 2, 0)",
        "chr(-1)",
        "ord('ab')",
        "dict([1])",
        "bytearray(-1)",
        "while True:\n break\nelse:\n pass",
        "import uos\nuos.listdir('/nonexistent')",
        "open('/nope')",
        "open('/x.txt', 'w').write('hi')",
        "\x00\x01\x02",
        "ÿ = 1",
        "x = '\\xff'",
        "1.5 // 0",
        "divmod(1, 0)",
        "[0] * -1",
        "'a' * 3",
        "a = []\na.append(a)\nprint(a)",
        "d = {}\nd[[]] = 1",
        "hash([])",
        "{1, [2]}",
    ];
    for src in corpus {
        let mut m = machine_with_heap(&[], 16 * 1024);
        let _ = exec(&mut m, src);
        let (_, r) = exec(&mut m, "print(1)");
        assert!(r.is_ok(), "machine unusable after {src:?}");
    }
}

#[test]
fn soft_reset_keeps_files_and_forgets_modules() {
    let mut m = machine_with_heap(&[("m.py", "x = 1\n")], 36 * 1024);
    exec(&mut m, "import m\nopen('new.py', 'w').write('y = 2')\n")
        .1
        .unwrap();
    m.soft_reset();
    let (out, r) = exec(
        &mut m,
        "import sys\nprint(list(sys.modules))\nimport new\nprint(new.y)\n",
    );
    r.unwrap();
    assert_eq!(out, "[]\n2\n");
}
