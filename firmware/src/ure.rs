//! `ure` (extmod/modure.c over re1.5's `compilecode.c`, `recursiveloop.c` and `charclass.c`):
//! a regex compiles to re1.5's byte program, kept in a heap object like 1.9.4's
//! `mp_obj_re_t` (type, then the `ByteProg` header `bytelen, len, sub`, then the code), and
//! runs on the backtracking matcher; a match is `mp_obj_match_t` (type, number of groups,
//! the subject, then two capture words per group).
//!
//! Capture words hold `offset + 1` into the subject (0 for "no capture"): 1.9.4 keeps
//! pointers into the subject's data there, which the collector never takes for the head of
//! another block, so small numbers are as inert to it.

use alloc::vec::Vec;

use crate::heap::WORD_BYTES;
use crate::heap::Word;
use crate::obj::{NONE, R, rom};
use crate::runtime::{Args, PR, Rt, STACK_LIMIT};

// re1.5's opcodes (re1.5.h)
const CHAR: u8 = 1;
const ANY: u8 = 2;
const CLASS: u8 = 3;
const CLASS_NOT: u8 = 4;
const NAMED_CLASS: u8 = 5;
const ASSERTS: u8 = 0x50;
const BOL: u8 = 0x50;
const EOL: u8 = 0x51;
const JMP: u8 = 0x60;
const SPLIT: u8 = 0x61;
const RSPLIT: u8 = 0x62;
const SAVE: u8 = 0x7e;
const MATCH: u8 = 0x7f;

/// The code `search` runs before the pattern (`match` starts after it).
const NON_ANCHORED_PREFIX: usize = 5;

/// Words before the code in the re object: type, bytelen, len, sub.
const RE_HEADER: usize = 4;

/// Modelled C stack of the path from a call of `match`/`search`/`split` down to the first
/// `recursiveloop` frame, and of each further `recursiveloop` frame (i386), measured on
/// unix32 under gdb: `ure.match('a*', s)` called from a function enters `recursiveloop` 912
/// bytes below the function's `fun_bc_call` entry (its frame, `CALL_METHOD` and 160 more),
/// each nested `recursiveloop` 64 bytes deeper, and like `fun_bc_call` it checks the stack
/// 80 bytes below its entry, which [`STACK_LIMIT`] already accounts for.
const MATCH_ENTRY_COST: usize = 160;
const LOOP_FRAME_COST: usize = 64;

/// The program being built (`ByteProg` while `_compilecode` runs).
struct Prog {
    code: Vec<u8>,
    len: i32,
    sub: i32,
}

impl Prog {
    /// `EMIT(at, byte)`: the code grows as far as needed (the C buffer is sized beforehand).
    fn emit(&mut self, at: usize, b: u8) {
        if self.code.len() <= at {
            self.code.resize(at + 1, 0);
        }
        self.code[at] = b;
    }

    /// `INSERT_CODE(at, num, pc)`: opens `num` bytes at `at`, moving what follows.
    fn insert(&mut self, at: usize, num: usize) {
        let pc = self.code.len();
        self.code.resize(pc + num, 0);
        self.code.copy_within(at..pc, at + num);
    }

    fn pc(&self) -> usize {
        self.code.len()
    }
}

/// `REL(at, to)` as the byte `EMIT` stores.
fn rel(at: usize, to: usize) -> u8 {
    (to as isize - at as isize - 2) as u8
}

/// `_compilecode`: compiles `re` from index `i` until its end or a `)`, returning where it
/// stopped (`None`: an error). Bytes past the end read as the C string's NUL.
fn compile_part(re: &[u8], mut i: usize, prog: &mut Prog) -> Option<usize> {
    let at = |k: usize| re.get(k).copied().unwrap_or(0);
    let start = prog.pc();
    let mut term = prog.pc();
    let mut alt_label = 0usize;
    while at(i) != 0 && at(i) != b')' {
        match at(i) {
            b'.' => {
                term = prog.pc();
                prog.code.push(ANY);
                prog.len += 1;
            }
            b'[' => {
                term = prog.pc();
                i += 1;
                if at(i) == b'^' {
                    prog.code.push(CLASS_NOT);
                    i += 1;
                } else {
                    prog.code.push(CLASS);
                }
                prog.code.push(0); // the number of pairs, written below
                prog.len += 1;
                let mut cnt = 0u8;
                while at(i) != b']' {
                    if i >= re.len() {
                        return None;
                    }
                    prog.code.push(at(i));
                    if at(i + 1) == b'-' && at(i + 2) != b']' {
                        i += 2;
                        if i >= re.len() {
                            // the C code would read past the string's end
                            return None;
                        }
                    }
                    prog.code.push(at(i));
                    i += 1;
                    cnt = cnt.wrapping_add(1);
                }
                prog.emit(term + 1, cnt);
            }
            b'(' => {
                term = prog.pc();
                let mut sub = 0;
                let capture = at(i + 1) != b'?' || at(i + 2) != b':';
                if capture {
                    prog.sub += 1;
                    sub = prog.sub;
                    prog.code.extend([SAVE, (2 * sub) as u8]);
                    prog.len += 1;
                } else {
                    i += 2;
                }
                i = compile_part(re, i + 1, prog)?;
                if at(i) != b')' {
                    return None;
                }
                if capture {
                    prog.code.extend([SAVE, (2 * sub + 1) as u8]);
                    prog.len += 1;
                }
            }
            c @ (b'?' | b'*') => {
                if prog.pc() == term {
                    return None;
                }
                prog.insert(term, 2);
                // `*` loops back to the split after its item; `?` only splits around it
                if c == b'*' {
                    let pc = prog.pc();
                    prog.code.extend([JMP, rel(pc, term)]);
                }
                let lazy = at(i + 1) == b'?';
                if lazy {
                    i += 1;
                }
                prog.emit(term, if lazy { RSPLIT } else { SPLIT });
                let r = rel(term, prog.pc());
                prog.emit(term + 1, r);
                prog.len += if c == b'*' { 2 } else { 1 };
                term = prog.pc();
            }
            b'+' => {
                if prog.pc() == term {
                    return None;
                }
                let pc = prog.pc();
                if at(i + 1) == b'?' {
                    prog.code.push(SPLIT);
                    i += 1;
                } else {
                    prog.code.push(RSPLIT);
                }
                prog.code.push(rel(pc, term));
                prog.len += 1;
                term = prog.pc();
            }
            b'|' => {
                if alt_label != 0 {
                    let r = rel(alt_label, prog.pc()).wrapping_add(1);
                    prog.emit(alt_label, r);
                }
                prog.insert(start, 2);
                prog.code.push(JMP);
                alt_label = prog.pc();
                prog.code.push(0);
                prog.emit(start, SPLIT);
                let r = rel(start, prog.pc());
                prog.emit(start + 1, r);
                prog.len += 2;
                term = prog.pc();
            }
            b'^' => {
                prog.code.push(BOL);
                prog.len += 1;
                term = prog.pc();
            }
            b'$' => {
                prog.code.push(EOL);
                prog.len += 1;
                term = prog.pc();
            }
            c => {
                // a `\` takes the next byte: a named class for d/s/w (any case), else a char
                let mut c = c;
                let mut named = false;
                if c == b'\\' {
                    i += 1;
                    c = at(i);
                    if c == 0 {
                        return None;
                    }
                    named = matches!(c | 0x20, b'd' | b's' | b'w');
                }
                term = prog.pc();
                prog.code
                    .extend([if named { NAMED_CLASS } else { CHAR }, c]);
                prog.len += 1;
            }
        }
        i += 1;
    }
    if alt_label != 0 {
        let r = rel(alt_label, prog.pc()).wrapping_add(1);
        prog.emit(alt_label, r);
    }
    Some(i)
}

/// `re1_5_sizecode` and `re1_5_compilecode` in one: `None` when sizing fails (nothing is
/// allocated then); otherwise the program and whether compiling it succeeded (a stray `)`
/// passes the sizing but fails the compile, after the object was allocated).
fn compile(re: &[u8]) -> Option<(Prog, bool)> {
    let mut prog = Prog {
        code: Vec::with_capacity(re.len() * 2 + 10),
        len: 3,
        sub: 0,
    };
    // the non-anchored prefix (RSplit 3; Any; Jmp -5), then Save 0
    prog.code
        .extend([RSPLIT, 3, ANY, JMP, (-5i8) as u8, SAVE, 0]);
    prog.len += 1;
    let stop = compile_part(re, 0, &mut prog)?;
    prog.code.extend([SAVE, 1, MATCH]);
    prog.len += 2;
    Some((prog, stop >= re.len()))
}

/// `_re1_5_classmatch` (chars compare as signed, as on i386).
fn class_match(code: &[u8], pc: usize, c: u8) -> bool {
    let positive = code[pc - 1] == CLASS;
    let cnt = code[pc] as usize;
    let c = c as i8;
    for k in 0..cnt {
        let (lo, hi) = (code[pc + 1 + 2 * k] as i8, code[pc + 2 + 2 * k] as i8);
        if c >= lo && c <= hi {
            return positive;
        }
    }
    !positive
}

/// `_re1_5_namedclassmatch`: `\d \s \w` (upper case negates).
fn named_class_match(name: u8, c: u8) -> bool {
    let mut off = (name >> 5) & 1;
    let hit = match name | 0x20 {
        b'd' => c.is_ascii_digit(),
        b's' => c == b' ' || (b'\t'..=b'\r').contains(&c),
        _ => c.is_ascii_alphanumeric() || c == b'_',
    };
    if !hit {
        off ^= 1;
    }
    off != 0
}

/// The subject and capture slots of one `recursiveloop` run.
struct Run<'s> {
    code: &'s [u8],
    subject: &'s [u8],
    begin: usize,
    caps: Vec<Option<usize>>,
    /// Frames still allowed before `MP_STACK_CHECK` fails.
    frames_left: usize,
}

/// The stack check failed (`maximum recursion depth exceeded`).
struct TooDeep;

impl Run<'_> {
    /// `recursiveloop`.
    fn run(&mut self, mut pc: usize, mut sp: usize) -> Result<bool, TooDeep> {
        if self.frames_left == 0 {
            return Err(TooDeep);
        }
        self.frames_left -= 1;
        let r = self.run_frame(&mut pc, &mut sp);
        self.frames_left += 1;
        r
    }

    fn run_frame(&mut self, pc: &mut usize, sp: &mut usize) -> Result<bool, TooDeep> {
        loop {
            let op = self.code.get(*pc).copied().unwrap_or(MATCH);
            if op < ASSERTS && *sp >= self.subject.len() {
                return Ok(false);
            }
            *pc += 1;
            match op {
                CHAR => {
                    let c = self.code[*pc];
                    *pc += 1;
                    if self.subject[*sp] != c {
                        return Ok(false);
                    }
                    *sp += 1;
                }
                ANY => *sp += 1,
                CLASS | CLASS_NOT => {
                    if !class_match(self.code, *pc, self.subject[*sp]) {
                        return Ok(false);
                    }
                    *pc += self.code[*pc] as usize * 2 + 1;
                    *sp += 1;
                }
                NAMED_CLASS => {
                    if !named_class_match(self.code[*pc], self.subject[*sp]) {
                        return Ok(false);
                    }
                    *pc += 1;
                    *sp += 1;
                }
                MATCH => return Ok(true),
                JMP => {
                    let off = self.code[*pc] as i8 as isize;
                    *pc = (*pc as isize + 1 + off) as usize;
                }
                SPLIT => {
                    let off = self.code[*pc] as i8 as isize;
                    *pc += 1;
                    if self.run(*pc, *sp)? {
                        return Ok(true);
                    }
                    *pc = (*pc as isize + off) as usize;
                }
                RSPLIT => {
                    let off = self.code[*pc] as i8 as isize;
                    *pc += 1;
                    if self.run((*pc as isize + off) as usize, *sp)? {
                        return Ok(true);
                    }
                }
                SAVE => {
                    let off = self.code[*pc] as usize;
                    *pc += 1;
                    if off >= self.caps.len() {
                        continue;
                    }
                    let old = self.caps[off];
                    self.caps[off] = Some(*sp);
                    if self.run(*pc, *sp)? {
                        return Ok(true);
                    }
                    self.caps[off] = old;
                    return Ok(false);
                }
                BOL => {
                    if *sp != self.begin {
                        return Ok(false);
                    }
                }
                EOL => {
                    if *sp != self.subject.len() {
                        return Ok(false);
                    }
                }
                // re1_5_fatal: an opcode the compiler never emits
                _ => return Ok(false),
            }
        }
    }
}

impl Rt<'_> {
    /// `ure.compile(regex[, flags])` (`mod_re_compile`).
    pub(crate) fn re_compile(&mut self, a: Args<'_>) -> PR<Word> {
        self.arg_count_no_kw(a, 1, 2)?;
        let Some(mut pattern) = self.str_bytes(a.w[0]) else {
            return Err(self.bad_implicit_conversion(a.w[0]));
        };
        // the C string ends at its first NUL
        if let Some(z) = pattern.iter().position(|&b| b == 0) {
            pattern.truncate(z);
        }
        let Some((prog, ok)) = compile(&pattern) else {
            return Err(self.value_error("Error in regex"));
        };
        // m_new_obj_var(mp_obj_re_t, char, size)
        let o = self.alloc(RE_HEADER * WORD_BYTES + prog.code.len())?;
        self.wf(o, 0, rom(R::TRe));
        if a.n > 1 {
            let h = self.hold(o);
            let r = self.get_int_arg(a.w[1]);
            self.release(h);
            r?;
        }
        if !ok {
            return Err(self.value_error("Error in regex"));
        }
        self.wf(o, 1, prog.code.len() as Word);
        self.wf(o, 2, prog.len as Word);
        self.wf(o, 3, prog.sub as Word);
        let _ = self
            .st
            .heap
            .write_bytes(o + (RE_HEADER * WORD_BYTES) as Word, &prog.code);
        Ok(o)
    }

    /// The code of a compiled regex and its number of groups.
    fn re_code(&self, re: Word) -> (Vec<u8>, usize) {
        let n = self.f(re, 1) as usize;
        let code = self
            .st
            .heap
            .bytes(re + (RE_HEADER * WORD_BYTES) as Word, n)
            .map(<[u8]>::to_vec)
            .unwrap_or_default();
        (code, self.f(re, 3) as usize)
    }

    /// The subject of a match (`mp_obj_str_get_data`: str or bytes).
    fn re_subject(&mut self, w: Word) -> PR<Vec<u8>> {
        match self.str_bytes(w) {
            Some(b) => Ok(b),
            None => Err(self.bad_implicit_conversion(w)),
        }
    }

    /// Runs `code` on `subject` from `begin`, with `n_caps` capture slots.
    fn re_run(
        &mut self,
        code: &[u8],
        subject: &[u8],
        begin: usize,
        n_caps: usize,
        anchored: bool,
    ) -> PR<Option<Vec<Option<usize>>>> {
        // recursiveloop call k (from 0) runs while its entry is below the limit
        let room = STACK_LIMIT.saturating_sub(self.st.depth + MATCH_ENTRY_COST);
        let mut run = Run {
            code,
            subject,
            begin,
            caps: alloc::vec![None; n_caps],
            frames_left: room.div_ceil(LOOP_FRAME_COST),
        };
        let pc = if anchored { NON_ANCHORED_PREFIX } else { 0 };
        match run.run(pc, begin) {
            Ok(true) => Ok(Some(run.caps)),
            Ok(false) => Ok(None),
            Err(TooDeep) => Err(self.exc_msg(R::ERuntimeError, "maximum recursion depth exceeded")),
        }
    }

    /// `ure_exec`: `match` (anchored) or `search` of compiled regex `re` on `s`.
    fn re_exec(&mut self, re: Word, s: Word, anchored: bool) -> PR<Word> {
        let subject = self.re_subject(s)?;
        let (code, sub) = self.re_code(re);
        let n_caps = (sub + 1) * 2;
        // m_new_obj_var(mp_obj_match_t, char*, caps_num), freed again when nothing matches
        let m = self.alloc((3 + n_caps) * WORD_BYTES)?;
        let h = self.hold(m);
        let r = self.re_run(&code, &subject, 0, n_caps, anchored);
        self.release(h);
        let Some(caps) = r? else {
            self.st.heap.free(m);
            return Ok(NONE);
        };
        self.wf(m, 0, rom(R::TMatch));
        self.wf(m, 1, (n_caps / 2) as Word);
        self.wf(m, 2, s);
        for (k, c) in caps.iter().enumerate() {
            self.wf(m, 3 + k, c.map_or(0, |x| x as Word + 1));
        }
        Ok(m)
    }

    /// `ure.match(regex, string)` / `ure.search(regex, string)` (`mod_re_exec`): compiles,
    /// then runs.
    pub(crate) fn re_module_exec(&mut self, a: Args<'_>, anchored: bool) -> PR<Word> {
        self.arg_count_no_kw(a, 2, 4)?;
        let re = self.re_compile(Args { w: &a.w[..1], n: 1 })?;
        let h = self.hold(re);
        let r = self.re_exec(re, a.w[1], anchored);
        self.release(h);
        r
    }

    /// The methods of compiled regexes and of matches.
    pub(crate) fn re_method(&mut self, r: R, a: Args<'_>) -> PR<Word> {
        match r {
            R::MReMatch | R::MReSearch => {
                self.arg_count_no_kw(a, 2, 4)?;
                self.re_exec(a.w[0], a.w[1], r == R::MReMatch)
            }
            R::MReSplit => self.re_split(a),
            _ => self.match_group(a),
        }
    }

    /// `match.group(n)`.
    fn match_group(&mut self, a: Args<'_>) -> PR<Word> {
        self.arg_count_no_kw(a, 2, 2)?;
        let m = a.w[0];
        let no = self.get_int_arg(a.w[1])?;
        let num = i64::from(self.f(m, 1));
        if no < 0 || no >= num {
            return Err(self.new_exc(rom(R::EIndexError), &[a.w[1]]));
        }
        let (start, end) = (
            self.f(m, 3 + 2 * no as usize),
            self.f(m, 4 + 2 * no as usize),
        );
        if start == 0 {
            return Ok(NONE);
        }
        let s = self.f(m, 2);
        let data = self.str_bytes(s).unwrap_or_default();
        let (b, e) = (start as usize - 1, (end as usize).saturating_sub(1));
        let piece = data.get(b..e.max(b)).unwrap_or_default().to_vec();
        let ty = self.type_of(s);
        self.new_str_of_type(ty, &piece)
    }

    /// `regex.split(string[, maxsplit])` (`re_split`).
    fn re_split(&mut self, a: Args<'_>) -> PR<Word> {
        self.arg_count_no_kw(a, 2, 3)?;
        let ty = self.type_of(a.w[1]);
        let subject = self.re_subject(a.w[1])?;
        let (code, sub) = self.re_code(a.w[0]);
        let n_caps = (sub + 1) * 2;
        let mut maxsplit = 0;
        if a.n > 2 {
            maxsplit = self.get_int_arg(a.w[2])?;
        }
        let list = self.new_list(&[])?;
        let h = self.hold(list);
        let r = self.re_split_into(list, ty, &code, &subject, sub, n_caps, maxsplit);
        self.release(h);
        r.map(|()| list)
    }

    #[allow(clippy::too_many_arguments)]
    fn re_split_into(
        &mut self,
        list: Word,
        ty: Word,
        code: &[u8],
        subject: &[u8],
        sub: usize,
        n_caps: usize,
        mut maxsplit: i64,
    ) -> PR<()> {
        let mut begin = 0;
        while let Some(caps) = self.re_run(code, subject, begin, n_caps, false)? {
            let (Some(s), Some(e)) = (caps[0], caps[1]) else {
                break;
            };
            if s == e {
                break;
            }
            let piece = self.new_str_of_type(ty, &subject[begin..s])?;
            self.list_append(list, piece)?;
            if sub > 0 {
                return Err(self.exc_msg(R::ENotImplementedError, "Splitting with sub-captures"));
            }
            begin = e;
            if maxsplit > 0 {
                maxsplit -= 1;
                if maxsplit == 0 {
                    break;
                }
            }
        }
        let piece = self.new_str_of_type(ty, &subject[begin..])?;
        self.list_append(list, piece)
    }

    /// `re_print` / `match_print`.
    pub(crate) fn re_repr(&self, w: Word) -> alloc::string::String {
        if self.type_of(w) == rom(R::TMatch) {
            alloc::format!("<match num={}>", self.f(w, 1))
        } else {
            alloc::format!("<re {:x}>", w)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(re: &str, s: &str, anchored: bool) -> Option<Vec<Option<usize>>> {
        let (prog, ok) = compile(re.as_bytes())?;
        assert!(ok);
        let n = (prog.sub as usize + 1) * 2;
        let mut r = Run {
            code: &prog.code,
            subject: s.as_bytes(),
            begin: 0,
            caps: alloc::vec![None; n],
            frames_left: 1000,
        };
        let pc = if anchored { NON_ANCHORED_PREFIX } else { 0 };
        r.run(pc, 0).ok()?.then_some(r.caps)
    }

    #[test]
    fn programs_match_re15_layout() {
        // 'a*': prefix, Save 0, Split +2, Char a, Jmp -6, Save 1, Match
        let (p, ok) = compile(b"a*").unwrap();
        assert!(ok);
        assert_eq!(
            p.code,
            [
                RSPLIT, 3, ANY, JMP, 0xfb, SAVE, 0, SPLIT, 4, CHAR, b'a', JMP, 0xfa, SAVE, 1, MATCH
            ]
        );
        assert!(compile(b"*").is_none());
        assert!(compile(b"(a").is_none());
        assert!(!compile(b"a)").unwrap().1);
    }

    #[test]
    fn matching_and_groups() {
        assert_eq!(
            run("([a-z]+)=([0-9]+)", "volt=33", true),
            Some(alloc::vec![
                Some(0),
                Some(7),
                Some(0),
                Some(4),
                Some(5),
                Some(7)
            ])
        );
        assert_eq!(run("b", "abc", true), None);
        assert_eq!(run("b", "abc", false).unwrap()[..2], [Some(1), Some(2)]);
        assert_eq!(run("a|bc|d", "bc", true).unwrap()[..2], [Some(0), Some(2)]);
        assert_eq!(
            run("\\d+\\s\\w", "12 x", true).unwrap()[..2],
            [Some(0), Some(4)]
        );
        assert_eq!(run("[^a]$", "ab", false).unwrap()[..2], [Some(1), Some(2)]);
        assert_eq!(run("a(b)?c", "ac", true).unwrap()[2..], [None, None]);
    }
}
