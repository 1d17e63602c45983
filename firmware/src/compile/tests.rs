//! Tests of the front end: reference bytecode from MicroPython 1.9.4, interning order, robustness.

extern crate std;

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use std::collections::HashMap;

use super::{CompileError, InputKind, Interner, RawCode, compile};

/// A qstr table holding 1.9.4's static B32 qstrs, then dynamic ones in interning order.
pub(crate) struct TestInterner {
    strs: Vec<String>,
    map: HashMap<String, u16>,
    /// Every string newly interned, in order.
    pub log: Vec<String>,
}

fn unescape(s: &str) -> String {
    let mut out = String::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 3 < b.len() + 0 && b[i + 1] == b'x' {
            let v = u8::from_str_radix(&s[i + 2..i + 4], 16).unwrap_or(b'?');
            out.push(char::from(v));
            i += 4;
        } else {
            out.push(char::from(b[i]));
            i += 1;
        }
    }
    out
}

impl TestInterner {
    pub(crate) fn new() -> TestInterner {
        let mut t = TestInterner {
            strs: Vec::new(),
            map: HashMap::new(),
            log: Vec::new(),
        };
        for line in include_str!("../../data/unix32-static-qstrs.tsv").lines() {
            if line.starts_with('#') {
                continue;
            }
            let cols: Vec<&str> = line.split('\t').collect();
            let s = unescape(cols.get(4).copied().unwrap_or(""));
            let id = t.strs.len() as u16;
            if id > 1 || (id == 1 && s.is_empty()) {
                t.map.entry(s.clone()).or_insert(id);
            }
            t.strs.push(s);
        }
        t
    }
}

impl Interner for TestInterner {
    fn intern(&mut self, s: &str) -> Result<u16, CompileError> {
        if let Some(&q) = self.map.get(s) {
            return Ok(q);
        }
        let id = self.strs.len() as u16;
        self.strs.push(s.to_string());
        self.map.insert(s.to_string(), id);
        self.log.push(s.to_string());
        Ok(id)
    }
    fn lookup(&self, s: &str) -> Option<u16> {
        self.map.get(s).copied()
    }
    fn resolve(&self, q: u16) -> &str {
        self.strs
            .get(usize::from(q))
            .map(String::as_str)
            .unwrap_or("")
    }
}

/// All code blocks of `rc` in MicroPython's scope-list order.
fn flatten(rc: &RawCode) -> Vec<&RawCode> {
    let mut v = Vec::new();
    fn walk<'a>(rc: &'a RawCode, v: &mut Vec<&'a RawCode>) {
        v.push(rc);
        for c in &rc.children {
            walk(c, v);
        }
    }
    walk(rc, &mut v);
    v.sort_by_key(|r| r.scope_index);
    v
}

#[test]
fn smoke_t1() {
    let mut it = TestInterner::new();
    for s in ["/usr/lib/micropython", "/tmp/front", "t1.py"] {
        it.intern(s).unwrap();
    }
    let src = "import a.b\nx = 1\ndef f(y):\n    return y + x\nprint(f(2))\n";
    let rc = compile(src, "t1.py", InputKind::File, &mut it).unwrap();
    let blocks = flatten(&rc);
    for b in &blocks {
        std::println!("{:02x?}", b.bytecode);
    }
    std::println!("{}", super::disassemble(&rc));
    assert_eq!(blocks[0].bytecode.len(), 50);
}
