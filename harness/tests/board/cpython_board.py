# A stand-in board for tests: CPython runs what the raw REPL receives, with `uos` and
# `open` confined to a folder that plays the board's filesystem root. Requests come on
# stdin as "<mode> <length>\n<source>"; the answer is "<length>\n<output><length>\n<error>".
# "R\n" soft-resets: the namespace and every module imported since start-up go away.
import builtins
import os
import sys
import traceback
import types

ROOT = os.path.realpath(sys.argv[1])
os.chdir(ROOT)
real_open = builtins.open


def host(p):
    return ROOT + p if p.startswith('/') else p


uos = types.ModuleType('uos')
uos.listdir = lambda p='.': sorted(os.listdir(host(p)))
uos.stat = lambda p: tuple(os.stat(host(p)))
uos.mkdir = lambda p: os.mkdir(host(p))
uos.remove = lambda p: os.remove(host(p))
uos.rmdir = lambda p: os.rmdir(host(p))
uos.chdir = lambda p: os.chdir(host(p))


def getcwd():
    rel = os.path.relpath(os.getcwd(), ROOT)
    return '/' if rel == '.' else '/' + rel


uos.getcwd = getcwd
uos.uname = lambda: ('cpython', 'cpython', '3', '3', 'CPython test board')
gc = types.ModuleType('gc')
gc.collect = lambda: None
gc.mem_free = lambda: 30000 - 16 * len(sys.modules)
gc.mem_alloc = lambda: 6000 + 16 * len(sys.modules)
sys.modules['uos'] = uos
sys.modules['gc'] = gc
builtins.open = lambda p, m='r': real_open(host(p), m)
sys.dont_write_bytecode = True
base = set(sys.modules)
ns = {'__name__': '__main__'}
stdin = sys.stdin.buffer
stdout = sys.stdout.buffer


class Capture:
    def __init__(self):
        self.data = []

    def write(self, s):
        self.data.append(s)
        return len(s)

    def flush(self):
        pass


while True:
    head = stdin.readline()
    if not head:
        break
    if head == b'R\n':
        ns = {'__name__': '__main__'}
        for k in list(sys.modules):
            if k not in base:
                del sys.modules[k]
        continue
    mode, n = head.split()
    src = stdin.read(int(n)).decode()
    cap = Capture()
    err = ''
    sys.stdout = cap
    try:
        exec(compile(src, '<stdin>', 'exec' if mode == b'F' else 'single'), ns)
    except SystemExit:
        pass
    except BaseException as e:
        tb = traceback.extract_tb(e.__traceback__)[-1:]
        err = 'Traceback (most recent call last):\n'
        for f in tb:
            err += '  File "%s", line %d, in %s\n' % (f.filename, f.lineno, f.name)
        err += '%s: %s\n' % (type(e).__name__, e)
    finally:
        sys.stdout = sys.__stdout__
    out = ''.join(cap.data).encode()
    e = err.encode()
    stdout.write(b'%d\n' % len(out) + out + b'%d\n' % len(e) + e)
    stdout.flush()
