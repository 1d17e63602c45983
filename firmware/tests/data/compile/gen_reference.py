#!/usr/bin/env python3
"""Regenerates reference.txt: the bytecode MicroPython 1.9.4 (32-bit unix build) produces for
every snippet of corpus.txt, captured from `micropython -v -v snippet.py` (MICROPY_DEBUG_PRINTERS).

Usage: python3 gen_reference.py [path/to/micropython [output-file]]
       (defaults: /tmp/mpb/src/ports/unix/micropython, reference.txt beside this script)

It also writes reference_single.txt: the friendly REPL's bytecode (InputKind::Single) for each line
of single.txt, typed one after the other into one `micropython -v -v` session on a pseudo-terminal.

And reference_eval.txt: for each line of eval.txt, the blocks of a small script that reads the
line from a file and passes it to eval()/exec(), followed by the blocks compiled from <string>.

And reference_floats.txt: the bits of each float literal of floats.txt (via ustruct.pack).

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


def single():
    import pty
    import select
    import time
    lines = [l.rstrip("\n") for l in open(os.path.join(HERE, "single.txt"))]
    pid, fd = pty.fork()
    if pid == 0:
        os.chdir("/")
        os.execve(BIN, [BIN, "-v", "-v"], {"PATH": "/usr/bin:/bin", "HOME": "/nonexistent"})
    buf = b""

    def read_until_prompt(timeout=10.0):
        nonlocal buf
        end = time.time() + timeout
        while time.time() < end:
            i = buf.find(b"\n>>> ")
            if i >= 0:
                chunk, buf = buf[:i], buf[i + 5:]
                return chunk.decode("utf-8", "replace").replace("\r", "")
            r, _, _ = select.select([fd], [], [], 0.05)
            if r:
                try:
                    buf += os.read(fd, 65536)
                except OSError:
                    break
        chunk, buf = buf, b""
        return chunk.decode("utf-8", "replace").replace("\r", "")

    read_until_prompt()
    out = ["startup /usr/lib/micropython"]
    for line in lines:
        os.write(fd, line.encode() + b"\r")
        if line.rstrip().endswith(":") is False and line.split(":")[0].strip().split(" ")[0] in (
                "if", "for", "while", "def", "class", "try", "with", "async"):
            # a compound statement on one line: an empty line ends it
            os.write(fd, b"\r")
        text = read_until_prompt()
        out.append("==== " + line)
        lns = text.split("\n")
        i = 0
        nblocks = 0
        err = None
        while i < len(lns):
            m = BLOCK.match(lns[i])
            if m:
                nblocks += 1
                hexs = []
                i += 2
                while i < len(lns) and re.match(r"^( [0-9a-f]{2})+$", lns[i]):
                    hexs.append(lns[i].replace(" ", ""))
                    i += 1
                out.append("block %s %s" % (m.group(2), m.group(3)))
                out.append("hex " + "".join(hexs))
                continue
            em = ERROR.match(lns[i])
            if em and nblocks == 0 and err is None:
                err = "error %s|%s" % (em.group(1), em.group(2))
            i += 1
        if nblocks == 0 and err:
            out.append(err)
    os.write(fd, b"\x04")
    os.close(fd)
    os.waitpid(pid, 0)
    target = OUT.replace("reference.txt", "reference_single.txt") if OUT.endswith("reference.txt") else OUT + ".single"
    with open(target, "w") as f:
        f.write("\n".join(out) + "\n")


EVAL_SCRIPT = "f = open('expr.txt')\ns = f.read()\nf.close()\nr = %s(s)\n"


def evals():
    """reference_eval.txt: the script's blocks then the blocks eval()/exec() compile from <string>."""
    out = []
    for n, line in enumerate(open(os.path.join(HERE, "eval.txt"))):
        mode, src = line.rstrip("\n").split(" ", 1)
        src = src.replace("\\n", "\n")
        name = "eval%02d" % n
        d = os.path.join(WORK, name)
        os.makedirs(d)
        with open(os.path.join(d, "expr.txt"), "w") as f:
            f.write(src)
        with open(os.path.join(d, name + ".py"), "w") as f:
            f.write(EVAL_SCRIPT % mode)
        p = subprocess.run([BIN, "-v", "-v", name + ".py"], cwd=d, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=20,
                           env={"PATH": "/usr/bin:/bin", "HOME": "/nonexistent"})
        lines = p.stdout.decode("utf-8", "replace").split("\n")
        out.append("==== " + line.rstrip("\n"))
        out.append("startup /usr/lib/micropython|" + os.path.realpath(d) + "|" + name + ".py")
        i = 0
        while i < len(lines):
            m = BLOCK.match(lines[i])
            if m:
                hexs = []
                i += 2
                while i < len(lines) and re.match(r"^( [0-9a-f]{2})+$", lines[i]):
                    hexs.append(lines[i].replace(" ", ""))
                    i += 1
                out.append("block %s %s %s" % (m.group(1), m.group(2), m.group(3)))
                out.append("hex " + "".join(hexs))
                continue
            i += 1
    target = OUT.replace("reference.txt", "reference_eval.txt") if OUT.endswith("reference.txt") else OUT + ".eval"
    with open(target, "w") as f:
        f.write("\n".join(out) + "\n")


def floats():
    """reference_floats.txt: the IEEE-754 bits MicroPython gives each float literal of floats.txt."""
    lits = [l.strip() for l in open(os.path.join(HERE, "floats.txt")) if l.strip()]
    d = os.path.join(WORK, "floats")
    os.makedirs(d)
    with open(os.path.join(d, "floats.py"), "w") as f:
        f.write("import ustruct\n")
        for lit in lits:
            f.write("print(''.join('%%02x' %% b for b in ustruct.pack('<d', %s)))\n" % lit)
    p = subprocess.run([BIN, "floats.py"], cwd=d, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=20)
    bits = p.stdout.decode().split()
    target = OUT.replace("reference.txt", "reference_floats.txt") if OUT.endswith("reference.txt") else OUT + ".floats"
    with open(target, "w") as f:
        for lit, b in zip(lits, bits):
            f.write("%s %s\n" % (lit, b))


if __name__ == "__main__":
    main()
    single()
    evals()
    floats()
