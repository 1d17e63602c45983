//! `array.array` (py/objarray.c): 1.9.4's `mp_obj_array_t` (type, typecode | free << 8, len,
//! items: 4 words, the layout bytearray shares) with the items packed by typecode as
//! `mp_binary_get_val_array`/`mp_binary_set_val_array` do on B32 (`l` is 4 bytes).

use alloc::string::String;
use alloc::vec::Vec;

use crate::heap::Word;
use crate::obj::{self, NONE, NULL, R, rom};
use crate::runtime::{Args, PR, Rt};

/// `mp_binary_get_size('@', typecode)`.
fn item_size(tc: u8) -> Option<usize> {
    Some(match tc {
        b'b' | b'B' => 1,
        b'h' | b'H' => 2,
        b'i' | b'I' | b'l' | b'L' | b'f' => 4,
        b'q' | b'Q' | b'd' => 8,
        _ => return None,
    })
}

impl Rt<'_> {
    fn array_parts(&self, o: Word) -> (u8, usize, usize, Word) {
        let w1 = self.f(o, 1);
        (
            (w1 & 0xff) as u8,
            (w1 >> 8) as usize,
            self.f(o, 2) as usize,
            self.f(o, 3),
        )
    }

    /// The item size of an array's typecode.
    fn array_item_size(&self, o: Word) -> usize {
        item_size(self.array_parts(o).0).unwrap_or(1)
    }

    /// The raw bytes of an array's items (its buffer).
    pub fn array_bytes(&self, o: Word) -> Vec<u8> {
        let (_, _, len, items) = self.array_parts(o);
        let n = len * self.array_item_size(o);
        if items == NULL || n == 0 {
            return Vec::new();
        }
        self.st
            .heap
            .bytes(items, n)
            .map(<[u8]>::to_vec)
            .unwrap_or_default()
    }

    /// `array_new(typecode, n)`: the object, then `n` items (no block for none).
    fn array_alloc(&mut self, tc: u8, n: usize) -> PR<Word> {
        let Some(sz) = item_size(tc) else {
            return Err(self.value_error("bad typecode"));
        };
        let o = self.alloc_obj(rom(R::TArray), 4)?;
        self.wf(o, 1, u32::from(tc));
        self.wf(o, 2, n as Word);
        if n > 0 {
            let h = self.hold(o);
            let it = self.alloc(sz * n);
            self.release(h);
            self.wf(o, 3, it?);
        }
        Ok(o)
    }

    /// `mp_binary_get_val_array`: item `i` as an int or float object.
    pub fn array_get(&mut self, o: Word, i: usize) -> PR<Word> {
        let (tc, _, _, items) = self.array_parts(o);
        let sz = item_size(tc).unwrap_or(1);
        let b = self
            .st
            .heap
            .bytes(items + (i * sz) as Word, sz)
            .map(<[u8]>::to_vec)
            .unwrap_or_default();
        let mut raw = [0u8; 8];
        raw[..b.len()].copy_from_slice(&b);
        let u = u64::from_le_bytes(raw);
        match tc {
            b'b' => self.new_int(i64::from(u as u8 as i8)),
            b'B' => self.new_int(i64::from(u as u8)),
            b'h' => self.new_int(i64::from(u as u16 as i16)),
            b'H' => self.new_int(i64::from(u as u16)),
            b'i' | b'l' => self.new_int(i64::from(u as u32 as i32)),
            b'I' | b'L' => self.new_int(i64::from(u as u32)),
            b'q' => self.new_int(u as i64),
            b'Q' if u > i64::MAX as u64 => Err(self.not_impl("array item above 2**63")),
            b'Q' => self.new_int(u as i64),
            b'f' => self.new_float(f64::from(f32::from_bits(u as u32))),
            _ => self.new_float(f64::from_bits(u)),
        }
    }

    /// `mp_binary_set_val_array`: stores `v` (truncated to the item size) as item `i`.
    fn array_set(&mut self, o: Word, i: usize, v: Word) -> PR<()> {
        let (tc, _, _, items) = self.array_parts(o);
        let sz = item_size(tc).unwrap_or(1);
        let raw: [u8; 8] = match tc {
            b'f' => {
                let f = self.get_float(v)? as f32;
                u64::from(f.to_bits()).to_le_bytes()
            }
            b'd' => self.get_float(v)?.to_bits().to_le_bytes(),
            _ => self.int_bits(v)?.to_le_bytes(),
        };
        let _ = self
            .st
            .heap
            .write_bytes(items + (i * sz) as Word, &raw[..sz]);
        Ok(())
    }

    /// `array_make_new(typecode[, initializer])`.
    pub(crate) fn array_new(&mut self, a: Args<'_>) -> PR<Word> {
        self.arg_count_no_kw(a, 1, 2)?;
        let Some(tcs) = self.str_bytes(a.w[0]).filter(|_| self.is_str(a.w[0])) else {
            return Err(self.bad_implicit_conversion(a.w[0]));
        };
        let tc = tcs.first().copied().unwrap_or(0);
        if a.n == 1 {
            return self.array_alloc(tc, 0);
        }
        let init = a.w[1];
        let ti = self.type_of(init);
        if ti == rom(R::TBytes) || ti == rom(R::TBytearray) {
            // raw bytes, the length rounded down to whole items
            let data = if ti == rom(R::TBytes) {
                self.str_bytes(init).unwrap_or_default()
            } else {
                self.bytearray_data(init)
            };
            let Some(sz) = item_size(tc) else {
                return Err(self.value_error("bad typecode"));
            };
            let n = data.len() / sz;
            let o = self.array_alloc(tc, n)?;
            if n > 0 {
                let it = self.f(o, 3);
                let _ = self.st.heap.write_bytes(it, &data[..n * sz]);
            }
            return Ok(o);
        }
        let n = self.len_of(init).unwrap_or(0);
        let o = self.array_alloc(tc, n)?;
        let h = self.hold(o);
        let r = (|| {
            let items = self.collect_iter(init)?;
            for (i, x) in items.into_iter().enumerate() {
                if n == 0 {
                    self.array_append(o, x)?;
                } else {
                    self.array_set(o, i, x)?;
                }
            }
            Ok(o)
        })();
        self.release(h);
        r
    }

    /// `array_append`: 8 more item slots whenever none is free.
    pub(crate) fn array_append(&mut self, o: Word, v: Word) -> PR<()> {
        let (tc, free, len, items) = self.array_parts(o);
        let sz = item_size(tc).unwrap_or(1);
        let mut free = free;
        if free == 0 {
            free = 8;
            let n = sz * (len + 8);
            let p = if items == NULL {
                self.alloc(n)?
            } else {
                match self.st.heap.realloc(items, n, true) {
                    Some(p) => p,
                    None => {
                        self.st.alloc_fail = n;
                        return Err(rom(R::MemoryErrorObj));
                    }
                }
            };
            self.wf(o, 3, p);
            let zero = alloc::vec![0u8; sz * 8];
            let _ = self.st.heap.write_bytes(p + (len * sz) as Word, &zero);
        }
        self.wf(o, 1, u32::from(tc) | ((free as u32) << 8));
        self.array_set(o, len, v)?;
        self.wf(o, 2, (len + 1) as Word);
        self.wf(o, 1, u32::from(tc) | (((free - 1) as u32) << 8));
        Ok(())
    }

    /// `array_extend`: anything with the buffer protocol, by whole items.
    pub(crate) fn array_extend(&mut self, o: Word, arg: Word) -> PR<()> {
        let data = self.array_buffer(arg)?;
        let (tc, free, len, items) = self.array_parts(o);
        let sz = item_size(tc).unwrap_or(1);
        let n = data.len() / sz;
        let mut free = free;
        let mut items = items;
        if free < n {
            let size = (len + n) * sz;
            items = if items == NULL {
                self.alloc(size)?
            } else {
                match self.st.heap.realloc(items, size, true) {
                    Some(p) => p,
                    None => {
                        self.st.alloc_fail = size;
                        return Err(rom(R::MemoryErrorObj));
                    }
                }
            };
            self.wf(o, 3, items);
            free = 0;
        } else {
            free -= n;
        }
        if n > 0 {
            let _ = self
                .st
                .heap
                .write_bytes(items + (len * sz) as Word, &data[..n * sz]);
        }
        self.wf(o, 1, u32::from(tc) | ((free as u32) << 8));
        self.wf(o, 2, (len + n) as Word);
        Ok(())
    }

    /// `mp_get_buffer_raise` for reading: bytes, str, bytearray or array.
    pub(crate) fn array_buffer(&mut self, w: Word) -> PR<Vec<u8>> {
        let t = self.type_of(w);
        if t == rom(R::TArray) {
            return Ok(self.array_bytes(w));
        }
        if t == rom(R::TBytearray) {
            return Ok(self.bytearray_data(w));
        }
        match self.str_bytes(w) {
            Some(d) => Ok(d),
            None => Err(self.type_error("object with buffer protocol required")),
        }
    }

    /// `array_print`: `array('i', [1, 2])`, or `array('i')` when empty.
    pub(crate) fn array_repr(&mut self, o: Word, out: &mut String, depth: usize) {
        let (tc, _, len, _) = self.array_parts(o);
        out.push_str("array('");
        out.push(tc as char);
        out.push('\'');
        if len > 0 {
            out.push_str(", [");
            for i in 0..len {
                if i > 0 {
                    out.push_str(", ");
                }
                let v = self.array_get(o, i).unwrap_or(NONE);
                self.repr_into(v, out, depth + 1);
            }
            out.push(']');
        }
        out.push(')');
    }

    /// `array_subscr` loading: an item, or a new array for a slice of step 1.
    pub(crate) fn array_subscr(&mut self, o: Word, idx: Word) -> PR<Word> {
        let (tc, _, len, items) = self.array_parts(o);
        if self.type_of(idx) == rom(R::TSlice) {
            let Some((start, stop)) = self.slice_step1(idx, len)? else {
                return Err(self.not_impl("only slices with step=1 (aka None) are supported"));
            };
            let n = stop.saturating_sub(start);
            let sz = item_size(tc).unwrap_or(1);
            let h = self.hold(o);
            let r = self.array_alloc(tc, n);
            self.release(h);
            let r = r?;
            if n > 0 {
                let d = self
                    .st
                    .heap
                    .bytes(items + (start * sz) as Word, n * sz)
                    .map(<[u8]>::to_vec)
                    .unwrap_or_default();
                let it = self.f(r, 3);
                let _ = self.st.heap.write_bytes(it, &d);
            }
            return Ok(r);
        }
        let i = self.index(idx, len, "array")?;
        self.array_get(o, i)
    }

    /// `array_subscr` storing one item (slices are not handled here).
    pub(crate) fn array_store(&mut self, o: Word, idx: Word, v: Word) -> PR<()> {
        if self.type_of(idx) == rom(R::TSlice) {
            return Err(self.not_impl("array slice assignment"));
        }
        let len = self.array_parts(o).2;
        let i = self.index(idx, len, "array")?;
        self.array_set(o, i, v)
    }

    /// `array_binary_op`: `+` (a new array), `+=` (extend), `==` (the buffers' bytes) and
    /// `in` (NotImplementedError for a number); None when not supported.
    pub(crate) fn array_binary(&mut self, op: u8, a: Word, b: Word) -> PR<Option<Word>> {
        use crate::compile::opcodes::binary as bop;
        match op {
            bop::ADD => {
                let rhs = self.array_buffer(b)?;
                let (tc, _, len, _) = self.array_parts(a);
                let sz = item_size(tc).unwrap_or(1);
                let n = rhs.len() / sz;
                let lhs = self.array_bytes(a);
                let r = self.array_alloc(tc, len + n)?;
                if len + n > 0 {
                    let it = self.f(r, 3);
                    let _ = self.st.heap.write_bytes(it, &lhs);
                    let _ = self
                        .st
                        .heap
                        .write_bytes(it + lhs.len() as Word, &rhs[..n * sz]);
                }
                Ok(Some(r))
            }
            bop::INPLACE_ADD => {
                self.array_extend(a, b)?;
                Ok(Some(a))
            }
            bop::EQUAL => {
                let l = self.array_bytes(a);
                Ok(Some(obj::py_bool(
                    self.array_buffer(b).is_ok_and(|r| r == l),
                )))
            }
            _ => Ok(None),
        }
    }

    /// `array_binary_op` CONTAINS with the array on the right.
    pub(crate) fn array_contains(&mut self, o: Word, x: Word) -> PR<bool> {
        if self.array_buffer(x).is_ok() {
            return Ok(false);
        }
        if obj::is_small(x) || self.is_big(x) || self.type_of(x) == rom(R::TFloat) {
            return Err(self.new_exc(rom(R::ENotImplementedError), &[]));
        }
        let _ = o;
        Ok(false)
    }

    /// The bounds of a slice of step 1 over `n` items (None for another step).
    fn slice_step1(&mut self, sl: Word, n: usize) -> PR<Option<(usize, usize)>> {
        let (a, b, s) = (self.f(sl, 1), self.f(sl, 2), self.f(sl, 3));
        if s != NONE {
            match crate::ops::int_of(s) {
                Some(0) => return Err(self.value_error("slice step cannot be zero")),
                Some(1) => {}
                _ => return Ok(None),
            }
        }
        let n = n as i64;
        let bound = |v: Word, def: i64| -> i64 {
            match crate::ops::int_of(v) {
                Some(x) => {
                    let x = i64::from(x);
                    (if x < 0 { x + n } else { x }).clamp(0, n)
                }
                None => def,
            }
        };
        let (x, y) = (bound(a, 0), bound(b, n));
        Ok(Some((x as usize, y.max(x) as usize)))
    }
}
