//! Methods of `str` and `bytes` and the growth of `bytearray`, as in MicroPython 1.9.4
//! (py/objstr.c, py/objstrunicode.c, py/objarray.c): results made with
//! `mp_obj_new_str_of_type` (object, then a copy of the data) or from a vstr, the 1.9.4
//! error messages, and char indexes for `str` (the unicode build).

use alloc::vec;
use alloc::vec::Vec;

use crate::heap::Word;
use crate::obj::{self, FALSE, NONE, R, layout, py_bool, rom};
use crate::runtime::{Args, PR, Rt, str_data};

fn is_space(c: u8) -> bool {
    c == b' ' || (b'\t'..=b'\r').contains(&c)
}

/// Byte offset of char index `i` in UTF-8 `d` (`str_index_to_ptr` for a slice bound: negative
/// counts from the end, out of range clamps).
fn char_offset(d: &[u8], is_str: bool, i: i64) -> usize {
    let n = if is_str { char_count(d) } else { d.len() };
    let mut i = if i < 0 { i + n as i64 } else { i };
    i = i.clamp(0, n as i64);
    if !is_str {
        return i as usize;
    }
    let mut seen = 0;
    for (pos, c) in d.iter().enumerate() {
        if c & 0xc0 != 0x80 {
            if seen == i {
                return pos;
            }
            seen += 1;
        }
    }
    d.len()
}

fn char_count(d: &[u8]) -> usize {
    d.iter().filter(|c| *c & 0xc0 != 0x80).count()
}

fn find_sub(h: &[u8], n: &[u8], forward: bool) -> Option<usize> {
    if n.len() > h.len() {
        return None;
    }
    let range = 0..=h.len() - n.len();
    if forward {
        range.into_iter().find(|i| &h[*i..*i + n.len()] == n)
    } else {
        range.rev().find(|i| &h[*i..*i + n.len()] == n)
    }
}

impl Rt<'_> {
    /// `mp_obj_new_str_copy`: a str/bytes object, then a copy of `data` (len + 1 bytes).
    pub fn new_str_copy(&mut self, ty: R, data: &[u8]) -> PR<Word> {
        let o = self.alloc_obj(rom(ty), layout::STR_WORDS)?;
        let h = self.hold(o);
        let d = self.alloc(data.len() + 1);
        self.release(h);
        let d = d?;
        let _ = self.st.heap.write_bytes(d, data);
        self.wf(o, 1, u32::from(crate::qstr::qstr_hash(data)));
        self.wf(o, 2, data.len() as Word);
        self.wf(o, 3, d);
        Ok(o)
    }

    /// `mp_obj_new_str_of_type`: a str is the existing qstr if interned, else a copy.
    pub fn new_str_of_type(&mut self, ty: Word, data: &[u8]) -> PR<Word> {
        if ty == rom(R::TStr) {
            if let Some(q) = self.st.qstrs.find(data) {
                return Ok(obj::qstr_obj(q));
            }
            return self.new_str_copy(R::TStr, data);
        }
        self.new_str_copy(R::TBytes, data)
    }

    /// A str/bytes made from a vstr (`mp_obj_new_str_from_vstr`).
    fn new_from_vstr(&mut self, ty: Word, data: &[u8]) -> PR<Word> {
        if ty == rom(R::TStr) {
            self.new_str_vstr(data)
        } else {
            self.new_str_heap(R::TBytes, data)
        }
    }

    /// A str/bytes object sharing the data of `src` (`str(b, enc)` / `bytes(s, enc)`): only the
    /// 4-word object is new when `src` is on the heap.
    pub fn new_str_sharing(&mut self, ty: R, src: Word) -> PR<Word> {
        if obj::is_qstr(src) {
            let q = obj::qstr_value(src);
            let d = self.str_bytes(src).unwrap_or_default();
            let Some(addr) = self.st.qstrs.data_addr(q) else {
                // a ROM qstr's text is not in the arena: copied here
                return self.new_str_copy(ty, &d);
            };
            // only a header, pointing at the qstr's bytes in its chunk
            let o = self.alloc_obj(rom(ty), layout::STR_WORDS)?;
            self.wf(o, 1, u32::from(self.st.qstrs.hash(q)));
            self.wf(o, 2, d.len() as Word);
            self.wf(o, 3, addr);
            return Ok(o);
        }
        // a ROM str (sys.version, ...): its text has no heap address to share
        if !self.st.heap.contains(src) {
            let d = self.str_bytes(src).unwrap_or_default();
            return self.new_str_copy(ty, &d);
        }
        let h = self.hold(src);
        let o = self.alloc_obj(rom(ty), layout::STR_WORDS);
        self.release(h);
        let o = o?;
        for i in 1..4 {
            let v = self.f(src, i);
            self.wf(o, i, v);
        }
        Ok(o)
    }

    /// The data of a str/bytes argument that must have the type `ty` (else
    /// `bad_implicit_conversion`).
    fn same_type_arg(&mut self, ty: Word, w: Word) -> PR<Vec<u8>> {
        if self.type_of(w) != ty {
            return Err(self.bad_implicit_conversion(w));
        }
        Ok(self.str_bytes(w).unwrap_or_default())
    }

    fn opt_index(&mut self, a: Args<'_>, i: usize) -> PR<Option<i64>> {
        if i < a.n && a.w[i] != NONE {
            let w = a.w[i];
            match crate::ops::int_of(w) {
                Some(v) => Ok(Some(i64::from(v))),
                None => {
                    let n = self.type_name(w);
                    Err(self.exc_varg(
                        R::ETypeError,
                        "string indices must be integers, not %s",
                        &[&n],
                    ))
                }
            }
        } else {
            Ok(None)
        }
    }

    fn list_of(&mut self, items: Vec<Vec<u8>>, ty: Word) -> PR<Word> {
        self.list_of_alloc(items, ty, 4)
    }

    /// A list of new strs of type `ty` made from `items`, its item array first made for
    /// `alloc` items (at least 4, as any new list).
    fn list_of_alloc(&mut self, items: Vec<Vec<u8>>, ty: Word, alloc: usize) -> PR<Word> {
        let l = self.new_list_alloc(&[], alloc)?;
        let base = self.vlen();
        self.vpush(l);
        let r = (|| {
            for p in items {
                let w = self.new_str_of_type(ty, &p)?;
                self.vpush(w);
                self.list_append(l, w)?;
            }
            Ok(l)
        })();
        self.vtrunc(base);
        r
    }

    /// The methods of `str` and `bytes` (`a.w[0]` is self).
    pub(crate) fn str_method(&mut self, r: R, a: Args<'_>) -> PR<Word> {
        if matches!(r, R::MIntToBytes | R::MIntFromBytes) {
            return self.int_method(r, a);
        }
        let s = a.w[0];
        let Some((ty, d)) =
            str_data(&self.st.qstrs, &self.st.heap, s).map(|(t, d)| (t, d.to_vec()))
        else {
            return Err(self.type_error("bad argument"));
        };
        let is_str = ty == rom(R::TStr);
        let p = |i: usize| a.w[i];
        match r {
            R::MStrJoin => {
                self.arg_count(a, 2, 2)?;
                // str_join turns anything but a list or tuple into a list first
                let seq = p(1);
                let ts = self.type_of(seq);
                let base = self.vlen();
                let seq = if ts == rom(R::TList) || ts == rom(R::TTuple) {
                    seq
                } else {
                    self.list_from_iter(seq)?
                };
                self.vpush(seq);
                let items = self.seq_items(seq);
                for w in &items {
                    self.vpush(*w);
                }
                let mut out = Vec::new();
                for (i, w) in items.iter().enumerate() {
                    if self.type_of(*w) != ty {
                        self.vtrunc(base);
                        return Err(self.type_error(
                            "join expects a list of str/bytes objects consistent with self object",
                        ));
                    }
                    if i > 0 {
                        out.extend_from_slice(&d);
                    }
                    out.extend(self.str_bytes(*w).unwrap_or_default());
                }
                let res = self.new_from_vstr(ty, &out);
                self.vtrunc(base);
                res
            }
            R::MStrSplit | R::MStrRsplit => {
                self.arg_count(a, 1, 3)?;
                let sep = if a.n > 1 { p(1) } else { NONE };
                let splits = if a.n > 2 { self.get_int_arg(p(2))? } else { -1 };
                if r == R::MStrRsplit && a.n > 2 && splits >= 0 {
                    return self.rsplit(ty, &d, sep, splits);
                }
                let mut parts = Vec::new();
                let mut splits = splits;
                if sep == NONE {
                    let mut i = 0;
                    let top = d.len();
                    while i < top && is_space(d[i]) {
                        i += 1;
                    }
                    while i < top && splits != 0 {
                        let st = i;
                        while i < top && !is_space(d[i]) {
                            i += 1;
                        }
                        parts.push(d[st..i].to_vec());
                        if i >= top {
                            break;
                        }
                        while i < top && is_space(d[i]) {
                            i += 1;
                        }
                        if splits > 0 {
                            splits -= 1;
                        }
                    }
                    if i < top {
                        parts.push(d[i..].to_vec());
                    }
                } else {
                    let sp = self.same_type_arg(ty, sep)?;
                    if sp.is_empty() {
                        return Err(self.value_error("empty separator"));
                    }
                    let mut i = 0;
                    loop {
                        let st = i;
                        loop {
                            if splits == 0 || i + sp.len() > d.len() {
                                i = d.len();
                                break;
                            } else if d[i..i + sp.len()] == sp[..] {
                                break;
                            }
                            i += 1;
                        }
                        parts.push(d[st..i].to_vec());
                        if i >= d.len() {
                            break;
                        }
                        i += sp.len();
                        if splits > 0 {
                            splits -= 1;
                        }
                    }
                }
                self.list_of(parts, ty)
            }
            R::MStrSplitlines => {
                self.arg_count(a, 1, 2)?;
                let keep = match self.kwarg(a, "keepends") {
                    Some(w) => self.is_true(w)?,
                    None if a.n > 1 => self.is_true(p(1))?,
                    None => false,
                };
                let mut parts = Vec::new();
                let mut i = 0;
                while i < d.len() {
                    let st = i;
                    let mut m = 0;
                    while i < d.len() {
                        if d[i] == b'\n' {
                            m = 1;
                            break;
                        } else if d[i] == b'\r' {
                            m = if d.get(i + 1) == Some(&b'\n') { 2 } else { 1 };
                            break;
                        }
                        i += 1;
                    }
                    let end = if keep { i + m } else { i };
                    parts.push(d[st..end].to_vec());
                    i += m;
                }
                self.list_of(parts, ty)
            }
            R::MStrStartswith | R::MStrEndswith => {
                self.arg_count(a, 2, 3)?;
                // mp_obj_str_get_data: any str or bytes, whatever the receiver's type
                let xt = self.type_of(p(1));
                let x = if xt == rom(R::TStr) || xt == rom(R::TBytes) {
                    self.str_bytes(p(1)).unwrap_or_default()
                } else {
                    return Err(self.bad_implicit_conversion(p(1)));
                };
                if r == R::MStrEndswith && a.n > 2 {
                    // str_endswith takes no indices in 1.9.4
                    return Err(self.not_impl("start/end indices"));
                }
                let start = match self.opt_index(a, 2)? {
                    Some(i) => char_offset(&d, is_str, i),
                    None => 0,
                };
                let hay = &d[start..];
                Ok(py_bool(if r == R::MStrStartswith {
                    hay.starts_with(&x)
                } else {
                    hay.ends_with(&x)
                }))
            }
            R::MStrStrip | R::MStrLstrip | R::MStrRstrip => {
                self.arg_count(a, 1, 2)?;
                let chars = if a.n > 1 {
                    Some(self.same_type_arg(ty, p(1))?)
                } else {
                    None
                };
                let strip = |c: u8| match &chars {
                    Some(cs) => cs.contains(&c),
                    None => is_space(c),
                };
                let (mut st, mut en) = (0, d.len());
                if r != R::MStrRstrip {
                    while st < en && strip(d[st]) {
                        st += 1;
                    }
                }
                if r != R::MStrLstrip {
                    while en > st && strip(d[en - 1]) {
                        en -= 1;
                    }
                }
                if st == 0 && en == d.len() {
                    return Ok(s);
                }
                self.new_str_of_type(ty, &d[st..en])
            }
            R::MStrReplace => {
                self.arg_count(a, 3, 4)?;
                let max = if a.n > 3 { self.get_int_arg(p(3))? } else { -1 };
                let old = self.same_type_arg(ty, p(1))?;
                let new = self.same_type_arg(ty, p(2))?;
                if max == 0 {
                    return Ok(s);
                }
                let mut out = Vec::new();
                let mut n = 0;
                let mut i = 0;
                let mut replaced = false;
                if old.is_empty() {
                    // an empty old string matches before every char and at the end
                    while i <= d.len() && (max < 0 || n < max) {
                        out.extend_from_slice(&new);
                        n += 1;
                        replaced = true;
                        if i < d.len() {
                            out.push(d[i]);
                        }
                        i += 1;
                    }
                    if i <= d.len() {
                        out.extend_from_slice(&d[i.min(d.len())..]);
                    }
                } else {
                    while i < d.len() {
                        if (max < 0 || n < max) && d[i..].starts_with(&old) {
                            out.extend_from_slice(&new);
                            i += old.len();
                            n += 1;
                            replaced = true;
                        } else {
                            out.push(d[i]);
                            i += 1;
                        }
                    }
                }
                if !replaced {
                    return Ok(s);
                }
                self.new_from_vstr(ty, &out)
            }
            R::MStrFind | R::MStrRfind | R::MStrIndex | R::MStrRindex => {
                self.arg_count(a, 2, 4)?;
                let x = self.same_type_arg(ty, p(1))?;
                let start = match self.opt_index(a, 2)? {
                    Some(i) => char_offset(&d, is_str, i),
                    None => 0,
                };
                let end = match self.opt_index(a, 3)? {
                    Some(i) => char_offset(&d, is_str, i),
                    None => d.len(),
                };
                let forward = matches!(r, R::MStrFind | R::MStrIndex);
                let found = if end < start {
                    None
                } else {
                    find_sub(&d[start..end], &x, forward).map(|k| k + start)
                };
                match found {
                    Some(k) => {
                        let idx = if is_str { char_count(&d[..k]) } else { k };
                        Ok(obj::small(idx as i32))
                    }
                    None if matches!(r, R::MStrIndex | R::MStrRindex) => {
                        Err(self.value_error("substring not found"))
                    }
                    None => Ok(obj::small(-1)),
                }
            }
            R::MStrCount => {
                self.arg_count(a, 2, 4)?;
                let x = self.same_type_arg(ty, p(1))?;
                let start = match self.opt_index(a, 2)? {
                    Some(i) => char_offset(&d, is_str, i),
                    None => 0,
                };
                let end = match self.opt_index(a, 3)? {
                    Some(i) => char_offset(&d, is_str, i),
                    None => d.len(),
                };
                if end < start {
                    return Ok(obj::small(0));
                }
                let h = &d[start..end];
                if x.is_empty() {
                    let n = if is_str { char_count(h) } else { h.len() };
                    return Ok(obj::small(n as i32 + 1));
                }
                let mut n = 0;
                let mut i = 0;
                while i + x.len() <= h.len() {
                    if h[i..i + x.len()] == x[..] {
                        n += 1;
                        i += x.len();
                    } else {
                        i += 1;
                    }
                }
                Ok(obj::small(n))
            }
            R::MStrUpper | R::MStrLower => {
                self.arg_count(a, 1, 1)?;
                let out = if r == R::MStrUpper {
                    d.to_ascii_uppercase()
                } else {
                    d.to_ascii_lowercase()
                };
                self.new_from_vstr(ty, &out)
            }
            R::MStrIsdigit | R::MStrIsalpha | R::MStrIsspace | R::MStrIsupper | R::MStrIslower => {
                self.arg_count(a, 1, 1)?;
                if d.is_empty() {
                    return Ok(FALSE);
                }
                let ok = match r {
                    R::MStrIsdigit => d.iter().all(u8::is_ascii_digit),
                    R::MStrIsalpha => d.iter().all(u8::is_ascii_alphabetic),
                    R::MStrIsspace => d.iter().all(|c| is_space(*c)),
                    _ => {
                        let mut cased = false;
                        for c in &d {
                            if c.is_ascii_alphabetic() {
                                cased = true;
                                let good = if r == R::MStrIsupper {
                                    c.is_ascii_uppercase()
                                } else {
                                    c.is_ascii_lowercase()
                                };
                                if !good {
                                    return Ok(FALSE);
                                }
                            }
                        }
                        cased
                    }
                };
                Ok(py_bool(ok))
            }
            R::MStrCenter => {
                self.arg_count(a, 2, 2)?;
                let width = self.get_int_arg(p(1))?;
                if d.len() as i64 >= width {
                    return Ok(s);
                }
                let width = width as usize;
                let mut out = vec![b' '; width];
                let left = (width - d.len()) / 2;
                out[left..left + d.len()].copy_from_slice(&d);
                self.new_from_vstr(ty, &out)
            }
            R::MStrEncode => {
                self.arg_count(a, 1, 3)?;
                self.new_str_sharing(R::TBytes, s)
            }
            R::MBytesDecode => {
                self.arg_count(a, 1, 3)?;
                // bytes_decode is str(self, 'utf-8')
                let enc = obj::qstr_obj(1);
                self.make_str(Args { w: &[s, enc], n: 2 })
            }
            R::MStrPartition | R::MStrRpartition => {
                self.arg_count(a, 2, 2)?;
                let sep = self.same_type_arg(ty, p(1))?;
                if sep.is_empty() {
                    return Err(self.value_error("empty separator"));
                }
                let found = find_sub(&d, &sep, r == R::MStrPartition);
                let Some(i) = found else {
                    let empty = if is_str {
                        obj::qstr_obj(1)
                    } else {
                        rom(R::EmptyBytes)
                    };
                    // not found: self and two empty strs, no copies
                    let items = if r == R::MStrPartition {
                        [s, empty, empty]
                    } else {
                        [empty, empty, s]
                    };
                    return self.new_tuple(&items);
                };
                let base = self.vlen();
                let res = (|| {
                    let x = self.new_str_of_type(ty, &d[..i])?;
                    self.vpush(x);
                    let z = self.new_str_of_type(ty, &d[i + sep.len()..])?;
                    self.vpush(z);
                    // the separator argument itself is the middle item
                    self.new_tuple(&[x, p(1), z])
                })();
                self.vtrunc(base);
                res
            }
            R::MStrFormat => self.str_format(a),
            _ => Err(self.not_impl("str method")),
        }
    }

    /// A small int argument (`mp_obj_get_int` without long ints).
    pub(crate) fn get_int_arg(&mut self, w: Word) -> PR<i64> {
        match crate::ops::int_of(w) {
            Some(v) => Ok(i64::from(v)),
            None => {
                let n = self.type_name(w);
                Err(self.exc_varg(R::ETypeError, "can't convert %s to int", &[&n]))
            }
        }
    }

    fn rsplit(&mut self, ty: Word, d: &[u8], sep: Word, splits: i64) -> PR<Word> {
        if sep == NONE {
            return Err(self.not_impl("rsplit(None,n)"));
        }
        let sp = self.str_bytes(sep).unwrap_or_default();
        if sp.is_empty() {
            return Err(self.value_error("empty separator"));
        }
        let mut parts: Vec<Vec<u8>> = Vec::new();
        let mut last = d.len();
        let mut left = splits;
        loop {
            let mut found = None;
            if left > 0 && last >= sp.len() {
                let mut k = last - sp.len();
                loop {
                    if d[k..k + sp.len()] == sp[..] {
                        found = Some(k);
                        break;
                    }
                    if k == 0 {
                        break;
                    }
                    k -= 1;
                }
            }
            match found {
                Some(k) => {
                    parts.push(d[k + sp.len()..last].to_vec());
                    last = k;
                    left -= 1;
                }
                None => {
                    parts.push(d[..last].to_vec());
                    break;
                }
            }
        }
        // 1.9.4 makes the list with splits + 1 items up front, fills it from the end as the
        // parts are found (last part first), then moves the parts down to the start
        let total = (splits + 1) as usize;
        let l = self.new_list_alloc(&[], total)?;
        let base = self.vlen();
        self.vpush(l);
        let r = (|| {
            for (k, p) in parts.iter().enumerate() {
                let w = self.new_str_of_type(ty, p)?;
                let items = self.f(l, 3);
                self.wf(items, total - 1 - k, w);
            }
            let n = parts.len();
            let items = self.f(l, 3);
            for j in 0..n {
                let w = self.f(items, total - n + j);
                self.wf(items, j, w);
            }
            for j in n..total {
                self.wf(items, j, obj::NULL);
            }
            self.wf(l, 2, n as Word);
            Ok(l)
        })();
        self.vtrunc(base);
        r
    }

    /// `str(...)` (`mp_obj_str_make_new`).
    pub(crate) fn make_str(&mut self, a: Args<'_>) -> PR<Word> {
        // mp_obj_str_make_new (MICROPY_CPYTHON_COMPAT): keywords are refused before anything
        if a.n_kw() > 0 {
            return Err(self.not_impl(UNIMPL_KW));
        }
        if a.n > 3 {
            return Err(self.exc_varg(
                R::ETypeError,
                "function expected at most %d arguments, got %d",
                &["3", &alloc::format!("{}", a.n)],
            ));
        }
        match a.n {
            0 => Ok(obj::qstr_obj(1)),
            1 => {
                // mp_obj_str_make_new prints the object into a 16-byte vstr
                self.printed_str_of(a.w[0], false)
            }
            _ => {
                let src = a.w[0];
                let st = self.type_of(src);
                let data = if st == rom(R::TBytes) {
                    self.str_bytes(src).unwrap_or_default()
                } else if crate::array::is_arr_type(st) {
                    self.arr_bytes(src)
                } else if let Some(b) = self.str_bytes(src) {
                    b
                } else {
                    return Err(self.type_error("object with buffer protocol required"));
                };
                if core::str::from_utf8(&data).is_err() {
                    return Err(self.new_exc(rom(R::EUnicodeError), &[]));
                }
                if let Some(q) = self.st.qstrs.find(&data) {
                    return Ok(obj::qstr_obj(q));
                }
                if st == rom(R::TBytes) {
                    // the new str shares the bytes' data
                    self.new_str_sharing(R::TStr, src)
                } else {
                    self.new_str_copy(R::TStr, &data)
                }
            }
        }
    }

    /// `bytes(...)` (`bytes_make_new`).
    pub(crate) fn make_bytes(&mut self, a: Args<'_>) -> PR<Word> {
        // bytes_make_new (MICROPY_CPYTHON_COMPAT): keywords are refused before anything
        if a.n_kw() > 0 {
            return Err(self.not_impl(UNIMPL_KW));
        }
        let wrong = |rt: &mut Self| rt.type_error("wrong number of arguments");
        if a.n == 0 {
            return Ok(rom(R::EmptyBytes));
        }
        let x = a.w[0];
        if self.is_str(x) {
            if a.n < 2 || a.n > 3 {
                return Err(wrong(self));
            }
            return self.new_str_sharing(R::TBytes, x);
        }
        if a.n > 1 {
            return Err(wrong(self));
        }
        if obj::is_small(x) {
            let n = obj::small_value(x);
            if n < 0 {
                return Err(self.value_error(""));
            }
            return self.new_str_heap(R::TBytes, &vec![0u8; n as usize]);
        }
        let tx = self.type_of(x);
        if tx == rom(R::TBytes) {
            let d = self.str_bytes(x).unwrap_or_default();
            return self.new_str_copy(R::TBytes, &d);
        }
        if crate::array::is_arr_type(tx) {
            let d = self.arr_bytes(x);
            return self.new_str_copy(R::TBytes, &d);
        }
        // a vstr of the iterable's length when it has one (else 16 bytes), filled byte by
        // byte from a C-stack iterator, then made into bytes (header, buffer renewed to len+1)
        let init = self.len_of(x).unwrap_or(16);
        let base = self.vlen();
        self.vpush(x);
        let r = (|| {
            let mut vs = self.vstr_new(init)?;
            let (a, k, mut i) = self.iter_start(x)?;
            self.vpush(a);
            let mut v = Vec::new();
            loop {
                self.poll()?;
                let Some((w, ni)) = self.iter_step(a, k, i)? else {
                    break;
                };
                i = ni;
                let n = match crate::ops::int_of(w) {
                    Some(n) => n,
                    None => {
                        let tn = self.type_name(w);
                        return Err(self.exc_varg(
                            R::ETypeError,
                            "can't convert %s to int",
                            &[&tn],
                        ));
                    }
                };
                if !(0..=255).contains(&n) {
                    return Err(self.value_error("bytes value out of range"));
                }
                self.vstr_write(&mut vs, 1)?;
                v.push(n as u8);
            }
            self.vstr_finish(vs, R::TBytes, &v)
        })();
        self.vtrunc(base);
        r
    }

    /// `bytearray(...)` (`bytearray_make_new`, `array_construct`).
    pub(crate) fn make_bytearray(&mut self, a: Args<'_>) -> PR<Word> {
        // mp_arg_check_num(n_args, n_kw, 0, 1, false)
        if a.n_kw() > 0 {
            return Err(self.type_error("function does not take keyword arguments"));
        }
        self.arg_count_max(a, 1)?;
        if a.n == 0 {
            return self.new_bytearray(&[]);
        }
        let x = a.w[0];
        if self.is_int(x) {
            if self.is_big(x) && self.mpz_of(x).and_then(|z| z.as_int_checked()).is_none() {
                // mp_obj_get_int
                return Err(self.exc_msg(
                    R::EOverflowError,
                    "overflow converting long int to machine word",
                ));
            }
            let n = crate::ops::int_of(x).unwrap_or(0).max(0) as usize;
            return self.new_bytearray(&vec![0u8; n]);
        }
        let tx = self.type_of(x);
        let data = if crate::array::is_arr_type(tx) {
            self.arr_bytes(x)
        } else if let Some(b) = self.str_bytes(x) {
            b
        } else {
            let mut v = Vec::new();
            for w in self.collect_iter(x)? {
                v.push(crate::ops::int_of(w).unwrap_or(0) as u8);
            }
            // array_construct makes the array (sized by len()) and then takes a heap
            // iterator; items of a sized iterable are stored without allocating
            let o = self.new_bytearray(&v)?;
            let h = self.hold(o);
            let b = self.heap_iter_buf(x);
            self.release(h);
            b?;
            return Ok(o);
        };
        self.new_bytearray(&data)
    }

    fn arg_count_max(&mut self, a: Args<'_>, max: usize) -> PR<()> {
        if a.n > max {
            let (m, n) = (alloc::format!("{max}"), alloc::format!("{}", a.n));
            return Err(self.exc_varg(
                R::ETypeError,
                "function expected at most %d arguments, got %d",
                &[&m, &n],
            ));
        }
        Ok(())
    }
}

/// `mp_arg_error_unimpl_kw`'s message.
const UNIMPL_KW: &str = "keyword argument(s) not yet implemented - use normal args instead";
