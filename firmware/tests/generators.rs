//! Generators (send/throw/close, `yield from`, a return value raising StopIteration out of
//! `list()`), the heap size of a generator instance, and an exception escaping `exec` kept
//! alive by the catching frame until that frame catches the next one. The expected text is
//! what MicroPython 1.9.4's 32-bit unix port prints for the same script.

mod support;

use support::{exec, machine};

const SCRIPT: &str = r#"import gc
def count(n):
    i = 0
    while i < n:
        yield i
        i += 1
    return 'done'
def echo():
    r = []
    while True:
        x = yield len(r)
        if x is None:
            break
        r.append(x)
    return r
def deleg():
    v = yield from count(3)
    yield v
def guarded():
    try:
        yield 1
        yield 2
    except ValueError as e:
        yield 'caught ' + str(e)
def plain(n):
    for i in range(n):
        yield i
try:
    list(count(4))
except StopIteration as s:
    print('return value raises', s.args)
print(list(plain(4)), sum(x * x for x in range(5)), [v for v in deleg()])
e = echo()
print(next(e), e.send('a'), e.send('b'))
try:
    e.send(None)
except StopIteration as s:
    print('stop', s.args)
h = guarded()
print(next(h), h.throw(ValueError('v')))
h.close()
print(list(h))
k = count(2)
try:
    k.send(5)
except TypeError as x:
    print(x)
print(type(count(1)).__name__, [n for n in (i for i in range(3)) if n])
c = None
gc.collect()
a = gc.mem_free()
c = count(3)
gc.collect()
print('gen bytes', a - gc.mem_free())
class Big(Exception):
    pass
def fail():
    raise Big(bytearray(2000))
ns = {'fail': fail}
z = None
gc.collect()
a = gc.mem_free()
try:
    exec('fail()', ns)
except Big:
    pass
gc.collect()
print('kept after catch', a - gc.mem_free() >= 2000)
try:
    exec('z = {}["nope"]', ns)
except KeyError:
    pass
gc.collect()
print('freed by the next catch', a - gc.mem_free() < 2000)
"#;

const UNIX32: &str = "return value raises ('done',)\n\
[0, 1, 2, 3] 30 [0, 1, 2, 'done']\n\
0 1 2\n\
stop (['a', 'b'],)\n\
1 caught v\n\
[]\n\
can't send non-None value to a just-started generator\n\
generator [1, 2]\n\
gen bytes 96\n\
kept after catch True\n\
freed by the next catch True\n\
";

#[test]
fn generators_and_caught_exceptions_behave_like_unix32() {
    let (out, err) = exec(&mut machine(&[]), SCRIPT, "gen_test.py");
    if let Some(e) = err {
        panic!("{out}{e}");
    }
    assert_eq!(out, UNIX32);
}
