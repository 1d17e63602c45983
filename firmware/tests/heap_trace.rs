//! Whole-run heap traces compared with MicroPython 1.9.4's. The expected sequences were taken
//! from the instrumented 32-bit unix build (`MPTRACE=1`, every `gc_alloc`/`gc_free`/
//! `gc_realloc`/collection on stderr) running the same script, started the way the harness
//! starts it (`sys.path` from the unix port, the script as `../driver.py` in a 20-byte folder).

use mpfw::fs::{FileSystem, RamFs};
use mpfw::heap::TraceEvent;
use mpfw::{Config, InputKind, Io, Machine};

struct Sink;

impl Io for Sink {
    fn write(&mut self, _d: &[u8]) {}
}

/// A machine configured like the unix target (and `examples/heaptrace.rs`), tracing its heap
/// from the first allocation.
fn traced_machine(heap: usize) -> Machine {
    let mut fs = RamFs::new();
    fs.mkdir("/mpdiff").unwrap();
    fs.chdir("/mpdiff").unwrap();
    mpfw::heap::trace_new_heaps(true);
    Machine::new(Config::unix_port(
        heap,
        Box::new(fs),
        "/tmp/mpdiff-xxxxxxxx",
        "../driver.py",
    ))
}

fn lines(events: &[TraceEvent]) -> Vec<String> {
    events.iter().map(|e| e.to_string()).collect()
}

/// Runs `script` on a traced 36K machine and returns the trace of its run: what follows
/// marker 2 (compilation done).
fn run_trace(script: &str) -> Vec<String> {
    let mut m = traced_machine(36 * 1024);
    let r = m.exec(script, "../driver.py", InputKind::File, &mut Sink);
    assert!(r.is_ok(), "{r:?}");
    let all = m.heap_mut().take_trace();
    let run_from = all
        .iter()
        .rposition(|e| *e == TraceEvent::Mark(2))
        .expect("compile marker")
        + 1;
    lines(&all[run_from..])
}

/// Start-up puts nothing but tables and item arrays on the heap: `sys.modules`, `__main__`,
/// `sys.path` and `sys.argv` are static objects in 1.9.4 (`mp_state_vm`), so the first
/// allocations are the `sys.modules` table (24 B), the `__main__` table (8 B), the `sys.path`
/// items (16 B), the first qstr chunk and pool, and the `sys.argv` items.
#[test]
fn start_up_allocates_only_tables_and_items() {
    let mut m = traced_machine(36 * 1024);
    let start = lines(&m.heap_mut().take_trace());
    assert_eq!(
        start,
        ["A 24 0", "A 8 2", "A 16 3", "A 128 4", "A 96 12", "A 16 18"]
    );
    // the static headers are roots: a collection keeps their tables and items
    let before = m.mem_alloc();
    m.collect();
    assert_eq!(m.mem_alloc(), before);
    let (out, r) = {
        struct Cap(Vec<u8>);
        impl Io for Cap {
            fn write(&mut self, d: &[u8]) {
                self.0.extend_from_slice(d);
            }
        }
        let mut io = Cap(Vec::new());
        let r = m.exec(
            "import sys, gc\ngc.collect()\nprint(sys.path, sys.argv, __name__)\n",
            "<stdin>",
            InputKind::File,
            &mut io,
        );
        (String::from_utf8_lossy(&io.0).into_owned(), r)
    };
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(
        out,
        "['/tmp/mpdiff-xxxxxxxx', '~/.micropython/lib', '/usr/lib/micropython'] ['../driver.py'] __main__\n"
    );
}

/// C callers of `mp_getiter(x, NULL)` (`list()`, `tuple()`, `set()`, `dict()`, `a, *b = x`,
/// a user `__iter__`, and even a non-iterable before the TypeError) take a 16-byte iterator
/// buffer from the heap at the moment 1.9.4 does, and leave it as garbage.
#[test]
fn iterator_buffers_come_from_the_heap_like_in_1_9_4() {
    let script = "d = {1: 2, 3: 4}
x = list(d)
t = tuple(d)
s = set(d)
a, *b = d
e = dict(((5, 6),))
class C:
    def __iter__(self):
        return iter(x)
y = list(C())
try:
    list(5)
except TypeError:
    pass
";
    let expected = [
        "A 16 19",
        "A 16 20",
        "A 16 21",
        "A 32 24",
        "F 32",
        "A 16 26",
        "A 16 27",
        "A 16 28",
        "A 16 29",
        "A 16 30",
        "A 16 31",
        "F 29",
        "A 48 32",
        "F 24",
        "A 16 24",
        "A 16 25",
        "A 8 29",
        "A 16 35",
        "A 16 36",
        "A 16 37",
        "A 64 38",
        "F 32",
        "A 16 32",
        "A 12 33",
        "A 16 34",
        "A 16 50",
        "A 16 51",
        "A 16 52",
        "A 80 53",
        "F 38",
        "A 16 38",
        "A 16 39",
        "A 16 40",
        "A 16 41",
        "A 32 58",
        "F 40",
        "A 60 60",
        "A 16 40",
        "A 16 64",
        "A 16 65",
        "A 16 66",
        "A 16 67",
        "A 96 68",
        "F 53",
        "A 16 53",
        "A 16 54",
        "A 16 55",
        "A 16 56",
        "A 28 74",
        "R 74 68 1",
        "r 74",
        "A 16 57",
        "A 12 79",
        "A 12 80",
    ];
    assert_eq!(run_trace(script), expected);
}

/// `repr()` prints into a 16-byte vstr that grows by `m_renew` to `ROUND_ALLOC(len + n + 16)`
/// at the write that does not fit (one write per character of a str), then gets a str header
/// and is shrunk to the text; a text that is already a qstr gives the qstr and frees the vstr.
#[test]
fn repr_grows_a_vstr_like_1_9_4() {
    let script = "s = 'it' 's a string of more than forty characters, quoted'
r = repr(s)
q = repr('__name__')
l = repr([s, (1,), b'\\x00'])
";
    let expected = [
        "A 16 19",
        "A 32 20",
        "F 32",
        "A 16 25",
        "R 25 40 1",
        "r 25",
        "R 25 64 1",
        "r 25",
        "A 16 30",
        "R 25 53 1",
        "r 25",
        "A 16 31",
        "A 16 32",
        "R 31 11 1",
        "r 31",
        "A 48 33",
        "F 20",
        "A 12 20",
        "A 16 21",
        "A 16 36",
        "A 16 37",
        "R 37 40 1",
        "r 37",
        "R 37 64 1",
        "r 37",
        "R 37 88 1",
        "r 37",
        "A 16 43",
        "R 37 70 1",
        "r 37",
    ];
    assert_eq!(run_trace(script), expected);
}

/// A class with `__next__` but no `__iter__` is not iterable in 1.9.4 (`instance_getiter`
/// looks up `__iter__` only).
#[test]
fn next_without_iter_is_not_iterable() {
    let mut m = traced_machine(36 * 1024);
    let r = m.exec(
        "class N:\n    def __next__(self):\n        raise StopIteration\nfor x in N():\n    pass\n",
        "<stdin>",
        InputKind::File,
        &mut Sink,
    );
    let e = r.expect_err("TypeError");
    assert_eq!(e.kind, "TypeError");
    assert_eq!(e.message, "'N' object is not iterable");
}
