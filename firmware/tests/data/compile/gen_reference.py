#!/usr/bin/env python3
"""Regenerates reference.txt: the bytecode MicroPython 1.9.4 (32-bit unix build) produces for
every snippet of corpus.txt, captured from `micropython -v -v snippet.py` (MICROPY_DEBUG_PRINTERS).

Usage: python3 gen_reference.py [path/to/micropython [output-file]]
       (defaults: /tmp/mpb/src/ports/unix/micropython, reference.txt beside this script)

Each snippet runs in its own directory under /tmp/mpfw-compile-ref/<name>/ so that the strings the
unix port interns at startup (sys.path entry, script directory, argv) are known; they are written
to the `startup` line so that the test can reproduce the qstr ids. Never edit reference.txt by hand.
"""
import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
BIN = sys.argv[1] if len(sys.argv) > 1 else "/tmp/mpb/src/ports/unix/micropython"
OUT = sys.argv[2] if len(sys.argv) > 2 else os.path.join(HERE, "reference.txt")
WORK = "/tmp/mpfw-compile-ref"


def snippets():
    name, lines = None, []
    with open(os.path.join(HERE, "corpus.txt")) as f:
        for line in f:
            if line.startswith("#### "):
                if name is not None:
                    yield name, "".join(lines)
                name, lines = line[5:].strip(), []
            else:
                lines.append(line)
    if name is not None:
        yield name, "".join(lines)


BLOCK = re.compile(r"^File (.*), code block '(.*)' \(descriptor: \w+, bytecode @\w+ (\d+) bytes\)$")
ERROR = re.compile(r"^(SyntaxError|IndentationError|NotImplementedError|RuntimeError|MemoryError): (.*)$")
LINE = re.compile(r'^  File "(.*)", line (\d+)')


def main():
    out = []
    shutil.rmtree(WORK, ignore_errors=True)
    for name, src in snippets():
        d = os.path.join(WORK, name)
        os.makedirs(d)
        fn = name + ".py"
        with open(os.path.join(d, fn), "w") as f:
            f.write(src)
        env = {"PATH": "/usr/bin:/bin", "HOME": "/nonexistent"}
        try:
            p = subprocess.run([BIN, "-v", "-v", fn], cwd=d, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=20, env=env)
            text = p.stdout.decode("utf-8", "replace")
        except subprocess.TimeoutExpired as e:
            text = (e.stdout or b"").decode("utf-8", "replace")
        out.append("==== " + name)
        out.append("startup /usr/lib/micropython|" + os.path.realpath(d) + "|" + fn)
        lines = text.split("\n")
        i = 0
        nblocks = 0
        last_line = None
        err = None
        while i < len(lines):
            m = BLOCK.match(lines[i])
            if m:
                nblocks += 1
                hexs = []
                i += 2  # skip "Raw bytecode (...)"
                while i < len(lines) and re.match(r"^( [0-9a-f]{2})+$", lines[i]):
                    hexs.append(lines[i].replace(" ", ""))
                    i += 1
                out.append("block %s %s" % (m.group(2), m.group(3)))
                out.append("hex " + "".join(hexs))
                if i < len(lines) and lines[i].startswith("arg names:"):
                    out.append("args" + lines[i][len("arg names:"):].rstrip())
                continue
            lm = LINE.match(lines[i])
            if lm:
                last_line = lm.group(2)
            em = ERROR.match(lines[i])
            if em and nblocks == 0 and err is None:
                err = "error %s|%s|%s" % (em.group(1), em.group(2), last_line)
            i += 1
        if nblocks == 0 and err:
            out.append(err)
    with open(OUT, "w") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
