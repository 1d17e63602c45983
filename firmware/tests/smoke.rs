//! Quick end-to-end runs of small programs.

mod support;

use support::{exec, machine};

fn run(files: &[(&str, &str)], src: &str) -> (String, Option<String>) {
    exec(&mut machine(files), src, "<stdin>")
}

#[test]
fn prints() {
    let (out, err) = run(
        &[],
        "print('hello', 1 + 2)\nx = [1, 2]\nx.append(3)\nprint(x, len(x))\n",
    );
    assert_eq!(err, None);
    assert_eq!(out, "hello 3\n[1, 2, 3] 3\n");
}

#[test]
fn dotted_import_binds_parents() {
    let files = [
        ("a/__init__.py", ""),
        ("a/b/__init__.py", ""),
        ("a/b/c.py", "x = 1\n"),
    ];
    let (out, err) = run(&files, "import a.b.c\nprint(dir(a), a.b.c.x)\n");
    assert_eq!(err, None, "{out}");
    assert_eq!(
        out,
        "['__class__', '__file__', '__name__', '__path__', 'b'] 1\n"
    );
}

#[test]
fn super_calls_reach_the_base() {
    let src = "class A:\n    def __init__(self, v):\n        self.v = v\n    def get(self):\n        return self.v\nclass B(A):\n    def __init__(self):\n        super().__init__(5)\n    def get(self):\n        return super().get() + 1\nprint(B().get(), 'a.b.c'.rpartition('.'))\n";
    let (out, err) = run(&[], src);
    assert_eq!(err, None, "{out}");
    assert_eq!(out, "6 ('a.b', '.', 'c')\n");
}
