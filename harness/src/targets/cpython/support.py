# Helpers the cpython target runs around each scenario, executed once into a private
# dict. They keep CPython's process-wide state (sys.modules, the import system's
# caches, sys.path, cwd, standard streams) as it was before a scenario, so scenarios
# cannot see each other.
import _thread
import gc
import importlib
import importlib.machinery
import importlib.util
import io
import linecache
import os
import re
import sys
import tracemalloc


def thread_id():
    return _thread.get_ident()


def save():
    # Both the objects and their contents: a scenario may rebind sys.path or mutate it.
    return {
        'modules': (sys.modules, dict(sys.modules)),
        'path': (sys.path, list(sys.path)),
        'meta_path': (sys.meta_path, list(sys.meta_path)),
        'path_hooks': (sys.path_hooks, list(sys.path_hooks)),
        'path_importer_cache': (sys.path_importer_cache, dict(sys.path_importer_cache)),
        'cwd': os.getcwd(),
        'streams': (sys.stdin, sys.stdout, sys.stderr),
        'dont_write_bytecode': sys.dont_write_bytecode,
    }


def enter(tree, out_path):
    # Line buffering, so no printed text waits in a traced buffer across an observation.
    out = open(out_path, 'w', encoding='utf-8', errors='backslashreplace', buffering=1)
    sys.stdout = out
    sys.stderr = out
    sys.stdin = io.StringIO('')
    # Sources are compiled by exec/import; cached .pyc files would change the tree.
    sys.dont_write_bytecode = True
    sys.path.insert(0, tree)
    importlib.invalidate_caches()
    return out


def run(script):
    code = compile(script, '<mpdiff driver>', 'exec')
    exec(code, {'__name__': '__mpdiff_driver__'})


# Lists and dicts are refilled from empty rather than patched: a container's spare
# capacity depends on its history, and a table grown during a scenario is traced as that
# scenario's memory. Refilled from empty, every scenario starts from the same state, so
# running one twice measures the same bytes.
def _refill_list(obj, items):
    obj.clear()
    obj.extend(items)


def _refill_dict(obj, items):
    items = list(items.items())
    obj.clear()
    for k, v in items:
        obj[k] = v


def _restore(name, saved):
    obj, items = saved
    setattr(sys, name, obj)
    if isinstance(obj, list):
        _refill_list(obj, items)
    else:
        # Drop what the scenario added first, while the dict is still whole: freeing a
        # module may run the scenario's __del__ code, which may import.
        for k in list(obj):
            if k not in items:
                del obj[k]
        _refill_dict(obj, items)


# Process-wide dicts the import system fills and empties on every import.
_IMPORT_STATE = ('_module_locks', '_blocking_on')


def leave(saved, out):
    try:
        _leave(saved)
    finally:
        # Streams last: anything the scenario's objects print while they are freed goes
        # to the scenario's output, not to the terminal.
        sys.stdin, sys.stdout, sys.stderr = saved['streams']
        if out is not None:
            out.close()


def _leave(saved):
    if tracemalloc.is_tracing():
        tracemalloc.stop()
    for name in ('modules', 'path', 'meta_path', 'path_hooks', 'path_importer_cache'):
        _restore(name, saved[name])
    bootstrap = sys.modules['_frozen_importlib']
    for name in _IMPORT_STATE:
        d = getattr(bootstrap, name, None)
        if isinstance(d, dict):
            _refill_dict(d, dict(d))
    sys.dont_write_bytecode = saved['dont_write_bytecode']
    try:
        os.chdir(saved['cwd'])
    except OSError:
        pass
    importlib.invalidate_caches()
    # The type attribute cache holds the attribute names looked up last; left in place,
    # a scenario's names would outlive it and not count as allocated when it runs again.
    sys._clear_type_cache()
    # Caches keyed by what a scenario did (compiled patterns, source lines) would make
    # its next run cheaper than its first.
    re.purge()
    linecache.clearcache()
    gc.collect()


def _grow(make, target, limit):
    # Creates objects one at a time, all kept alive, until traced memory jumps by far
    # more than one object costs (the table that registers them was resized) with at
    # least `target` of them alive; then frees them. The table keeps its size, so it
    # has room for about `target` more entries before it is resized again.
    keep = [None] * limit
    tracemalloc.start()
    try:
        prev = tracemalloc.get_traced_memory()[0]
        i = 0
        while i < limit:
            keep[i] = make(i)
            i += 1
            cur = tracemalloc.get_traced_memory()[0]
            if cur - prev > 8192 and i >= target:
                break
            prev = cur
    finally:
        tracemalloc.stop()
    del keep
    gc.collect()
    return i


def grow_tables():
    # Process-wide tables that only ever grow by resizing, at a moment set by everything
    # the process did before: the registry of object's (and Exception's) subclasses and
    # the interned strings. A resize inside a scenario would be traced as that scenario's
    # memory (20 KB and more), so they are made roomy once, before any scenario.
    return (
        _grow(lambda i: type('_mpdiff_grow_%d' % i, (), {}), 4000, 20000),
        _grow(lambda i: type('_mpdiff_grow_%d' % i, (Exception,), {}), 2000, 20000),
        _grow(lambda i: sys.intern('_mpdiff_grow_%d' % i), 40000, 400000),
    )


def modules():
    return sorted(sys.modules)
