//! `array.array` and `memoryview` (py/objarray.c, py/binary.c, py/modarray.c of 1.9.4), and
//! the parts of `bytearray` they share.
//!
//! All three are `mp_obj_array_t` (4 words): type, `typecode | free << 8`, len, items.
//! `len` counts elements; `items` holds `(len + free) * itemsize` bytes. For a memoryview,
//! `free` is the offset (in elements) of its first element within `items`, which points at
//! the start of the viewed object's buffer, and bit 7 of the typecode marks a writable view.
//! A memoryview of a str held as a qstr keeps the qstr word itself as `items` (the GC never
//! takes it for a heap address) and reads the text through the qstr table.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::heap::Word;
use crate::obj::{self, NONE, NULL, R, rom};
use crate::runtime::{Args, PR, Rt};

/// `BYTEARRAY_TYPECODE` of py/binary.h, as a memoryview of a bytearray records it.
const BYTEARRAY_TC: u8 = 1;
/// The typecode a bytearray object stores in its own header.
const BYTEARRAY_OWN_TC: u8 = b'B';

/// Whether `t` is one of the `mp_obj_array_t` types (their `subscr` is `array_subscr`).
pub fn is_arr_type(t: Word) -> bool {
    t == rom(R::TBytearray) || t == rom(R::TArray) || t == rom(R::TMemoryview)
}

/// `mp_binary_get_size('@', tc)` on 32-bit unix (None: "bad typecode").
pub fn item_size(tc: u8) -> Option<usize> {
    Some(match tc {
        BYTEARRAY_TC | b'b' | b'B' => 1,
        b'h' | b'H' => 2,
        b'i' | b'I' | b'l' | b'L' | b'P' | b'O' | b'S' | b'f' => 4,
        b'q' | b'Q' | b'd' => 8,
        _ => return None,
    })
}

/// An element's value as `mp_binary_get_val_array` reads it.
enum Elem {
    Int(i64),
    /// `'Q'`: may not fit an i64.
    UInt(u64),
    Float(f64),
    /// `'O'`: the object itself.
    Obj(Word),
}

/// The element of typecode `tc` held in the little-endian bytes `e` (`None`: typecode `'S'`
/// or unknown).
fn decode(tc: u8, e: &[u8]) -> Option<Elem> {
    let mut a8 = [0u8; 8];
    a8[..e.len()].copy_from_slice(e);
    let u = u64::from_le_bytes(a8);
    Some(match tc {
        b'b' => Elem::Int(i64::from(u as u8 as i8)),
        BYTEARRAY_TC | b'B' => Elem::Int(i64::from(u as u8)),
        b'h' => Elem::Int(i64::from(u as u16 as i16)),
        b'H' => Elem::Int(i64::from(u as u16)),
        b'i' | b'l' | b'P' => Elem::Int(i64::from(u as u32 as i32)),
        b'I' | b'L' => Elem::Int(i64::from(u as u32)),
        b'q' => Elem::Int(u as i64),
        b'Q' => Elem::UInt(u),
        b'f' => Elem::Float(f64::from(f32::from_bits(u as u32))),
        b'd' => Elem::Float(f64::from_bits(u)),
        b'O' => Elem::Obj(u as u32),
        _ => return None,
    })
}

impl Rt<'_> {
    /// The element typecode (without the memoryview's writable bit).
    fn arr_tc(&self, o: Word) -> u8 {
        let tc = (self.f(o, 1) & 0x7f) as u8;
        if self.type_of(o) == rom(R::TBytearray) {
            BYTEARRAY_TC
        } else {
            tc
        }
    }

    fn arr_isz(&self, o: Word) -> usize {
        item_size(self.arr_tc(o)).unwrap_or(1)
    }

    fn arr_is_mv(&self, o: Word) -> bool {
        self.type_of(o) == rom(R::TMemoryview)
    }

    /// Byte offset of element 0 within `items` (non-zero only for a memoryview).
    fn arr_off(&self, o: Word) -> usize {
        if self.arr_is_mv(o) {
            (self.f(o, 1) >> 8) as usize * self.arr_isz(o)
        } else {
            0
        }
    }

    /// `array_get_buffer`: the bytes of the (viewed) elements.
    pub fn arr_bytes(&self, o: Word) -> Vec<u8> {
        let n = self.f(o, 2) as usize * self.arr_isz(o);
        self.arr_elem_bytes(o, 0, n)
    }

    /// `n` bytes of the (viewed) elements from byte `pos` on.
    fn arr_elem_bytes(&self, o: Word, pos: usize, n: usize) -> Vec<u8> {
        let off = self.arr_off(o) + pos;
        let items = self.f(o, 3);
        if n == 0 {
            return Vec::new();
        }
        if obj::is_qstr(items) {
            let t = self.st.qstrs.text(obj::qstr_value(items));
            return t.get(off..off + n).map(<[u8]>::to_vec).unwrap_or_default();
        }
        self.st
            .heap
            .bytes(items + off as Word, n)
            .map(<[u8]>::to_vec)
            .unwrap_or_default()
    }

    /// The buffer-protocol bytes of any object that has them (`mp_get_buffer`, READ).
    pub fn buffer_bytes(&self, w: Word) -> Option<Vec<u8>> {
        if is_arr_type(self.type_of(w)) {
            return Some(self.arr_bytes(w));
        }
        self.str_bytes(w)
    }

    /// `mp_get_buffer_raise` for reading: the bytes of any buffer object, else TypeError.
    pub(crate) fn buffer_or_raise(&mut self, w: Word) -> PR<Vec<u8>> {
        match self.buffer_bytes(w) {
            Some(b) => Ok(b),
            None => Err(self.type_error("object with buffer protocol required")),
        }
    }

    /// `mp_get_buffer(w, MP_BUFFER_WRITE)`: the arena address and byte length of a writable
    /// buffer (a bytearray, an array, a memoryview made writable); `None` for anything else
    /// (str and bytes refuse writing, a read-only memoryview too).
    pub(crate) fn writable_buffer(&self, w: Word) -> Option<(Word, usize)> {
        if !is_arr_type(self.type_of(w)) || (self.arr_is_mv(w) && self.f(w, 1) & 0x80 == 0) {
            return None;
        }
        let items = self.f(w, 3);
        if obj::is_qstr(items) {
            return None;
        }
        let n = self.f(w, 2) as usize * self.arr_isz(w);
        Some((items + self.arr_off(w) as Word, n))
    }

    /// `bufinfo.typecode` of a buffer object.
    fn buffer_tc(&self, w: Word) -> u8 {
        if is_arr_type(self.type_of(w)) {
            self.arr_tc(w)
        } else {
            b'B'
        }
    }

    /// `m_renew(byte, items, _, n)` (moving allowed).
    fn arr_renew(&mut self, o: Word, items: Word, n: usize) -> PR<Word> {
        if n == 0 {
            return Ok(items);
        }
        let h = self.hold(o);
        let r = if items == NULL {
            self.st.heap.alloc(n)
        } else {
            self.st.heap.realloc(items, n, true)
        };
        self.release(h);
        match r {
            Some(p) => Ok(p),
            None => {
                self.st.alloc_fail = n;
                Err(rom(R::MemoryErrorObj))
            }
        }
    }

    /// `array_new(tc, n)`: the object, then `n * itemsize` bytes of (zeroed) items.
    pub fn array_new(&mut self, tc: u8, n: usize) -> PR<Word> {
        let Some(sz) = item_size(tc) else {
            return Err(self.value_error("bad typecode"));
        };
        let (ty, own) = if tc == BYTEARRAY_TC {
            (R::TBytearray, BYTEARRAY_OWN_TC)
        } else {
            (R::TArray, tc)
        };
        let o = self.alloc_obj(rom(ty), 4)?;
        self.wf(o, 1, Word::from(own));
        self.wf(o, 2, n as Word);
        let items = self.arr_renew(o, NULL, sz * n)?;
        self.wf(o, 3, items);
        Ok(o)
    }

    /// The value of `tc` held in `b` (`mp_binary_get_val_array`).
    fn arr_decode(&mut self, tc: u8, b: &[u8]) -> PR<Word> {
        match decode(tc, b) {
            Some(Elem::Int(i)) => self.new_int_any(i),
            Some(Elem::UInt(u)) => match i64::try_from(u) {
                Ok(i) => self.new_int_any(i),
                Err(_) => self.parse_int(format!("{u}").as_bytes(), 10),
            },
            Some(Elem::Float(f)) => self.new_float(f),
            // an extension to CPython: an array of objects
            Some(Elem::Obj(o)) => Ok(o),
            None => Err(self.not_impl("array typecode 'S'")),
        }
    }

    /// The bytes `v` is stored as in a `tc` array (`mp_binary_set_val_array`).
    fn arr_encode(&mut self, tc: u8, v: Word) -> PR<Vec<u8>> {
        let sz = item_size(tc).unwrap_or(1);
        match tc {
            b'f' => {
                let f = self.get_float(v)?;
                return Ok((f as f32).to_bits().to_le_bytes().to_vec());
            }
            b'd' => {
                let f = self.get_float(v)?;
                return Ok(f.to_bits().to_le_bytes().to_vec());
            }
            b'O' => return Ok(v.to_le_bytes().to_vec()),
            b'S' => return Err(self.not_impl("array typecode 'S'")),
            _ => {}
        }
        if self.is_big(v)
            && let Some(z) = self.mpz_of(v)
        {
            return Ok(z.twos_complement_le(sz));
        }
        let i = match crate::ops::int_of(v) {
            Some(i) => i64::from(i),
            None => {
                let n = self.type_name(v);
                return Err(self.exc_varg(R::ETypeError, "can't convert %s to int", &[&n]));
            }
        };
        Ok(i.to_le_bytes()[..sz].to_vec())
    }

    /// Writes `data` at byte `pos` of the object's element area.
    fn arr_write(&mut self, o: Word, pos: usize, data: &[u8]) {
        let items = self.f(o, 3);
        if items == NULL || obj::is_qstr(items) {
            return;
        }
        let off = self.arr_off(o);
        let _ = self.st.heap.write_bytes(items + (off + pos) as Word, data);
    }

    /// Element `i` of the object.
    pub fn arr_get(&mut self, o: Word, i: usize) -> PR<Word> {
        let sz = self.arr_isz(o);
        let tc = self.arr_tc(o);
        let n = self.f(o, 2) as usize;
        if i >= n {
            return Ok(NULL);
        }
        let e = self.arr_elem_bytes(o, i * sz, sz);
        self.arr_decode(tc, &e)
    }

    /// `array(typecode[, iterable])` (array_make_new / array_construct).
    pub(crate) fn array_make_new(&mut self, a: Args<'_>) -> PR<Word> {
        self.arg_count_no_kw(a, 1, 2)?;
        // mp_obj_str_get_str: a str or bytes
        let Some(ts) = self.str_bytes(a.w[0]) else {
            return Err(self.bad_implicit_conversion(a.w[0]));
        };
        let tc = ts.first().copied().unwrap_or(0);
        if tc == b'S' {
            return Err(self.not_impl("array typecode 'S'"));
        }
        if a.n == 1 {
            return self.array_new(tc, 0);
        }
        self.array_construct(tc, a.w[1])
    }

    /// `array_construct`.
    fn array_construct(&mut self, tc: u8, init: Word) -> PR<Word> {
        let ti = self.type_of(init);
        if ti == rom(R::TBytes) || ti == rom(R::TBytearray) {
            let Some(sz) = item_size(tc) else {
                return Err(self.value_error("bad typecode"));
            };
            let d = self.buffer_bytes(init).unwrap_or_default();
            let n = d.len() / sz;
            let h = self.hold(init);
            let o = self.array_new(tc, n);
            self.release(h);
            let o = o?;
            self.arr_write(o, 0, &d[..n * sz]);
            return Ok(o);
        }
        let len = self.len_of(init).unwrap_or(0);
        let items = self.collect_iter(init)?;
        let h = self.st.heap.root_depth();
        for w in &items {
            self.hold(*w);
        }
        let r = (|| {
            let o = self.array_new(tc, len)?;
            let ho = self.hold(o);
            // mp_getiter without a C-stack buffer: the iterator is a heap object
            let r = self.heap_iter_buf(init).and_then(|_| {
                let sz = self.arr_isz(o);
                for (i, w) in items.iter().enumerate() {
                    if len == 0 {
                        self.array_append(o, *w)?;
                    } else if i < len {
                        let b = self.arr_encode(tc, *w)?;
                        self.arr_write(o, i * sz, &b);
                    }
                }
                Ok(())
            });
            self.release(ho);
            r.map(|_| o)
        })();
        self.release(h);
        r
    }

    /// `memoryview(obj)` (memoryview_make_new).
    pub(crate) fn memoryview_make_new(&mut self, a: Args<'_>) -> PR<Word> {
        self.arg_count_no_kw(a, 1, 1)?;
        let x = a.w[0];
        let tx = self.type_of(x);
        let (tc, len, items, off, rw) = if is_arr_type(tx) {
            let tc = self.arr_tc(x);
            let sz = self.arr_isz(x);
            let rw = !self.arr_is_mv(x) || self.f(x, 1) & 0x80 != 0;
            let items = self.f(x, 3);
            let off = (self.f(x, 1) >> 8) as usize;
            if self.arr_is_mv(x) {
                if obj::is_qstr(items) {
                    (tc, self.f(x, 2), items, off, rw)
                } else {
                    (tc, self.f(x, 2), items + (off * sz) as Word, 0, rw)
                }
            } else {
                (tc, self.f(x, 2), items, 0, rw)
            }
        } else if obj::is_qstr(x) {
            let n = self.st.qstrs.text(obj::qstr_value(x)).len();
            (b'B', n as Word, x, 0, false)
        } else if let Some(d) = self.str_bytes(x) {
            let items = if x == rom(R::EmptyBytes) || x == rom(R::StrSysVersion) {
                NULL
            } else {
                self.f(x, 3)
            };
            (b'B', d.len() as Word, items, 0, false)
        } else {
            return Err(self.type_error("object with buffer protocol required"));
        };
        let h = self.hold(x);
        let o = self.alloc_obj(rom(R::TMemoryview), 4);
        self.release(h);
        let o = o?;
        let tcw = Word::from(tc) | if rw { 0x80 } else { 0 };
        self.wf(o, 1, tcw | ((off as Word) << 8));
        self.wf(o, 2, len);
        self.wf(o, 3, items);
        Ok(o)
    }

    /// `array.append(v)` / `bytearray.append(v)`: 8 free slots when there are none.
    pub(crate) fn array_append(&mut self, o: Word, v: Word) -> PR<()> {
        let w1 = self.f(o, 1);
        let sz = self.arr_isz(o);
        let tc = self.arr_tc(o);
        let mut free = (w1 >> 8) as usize;
        let len = self.f(o, 2) as usize;
        if free == 0 {
            free = 8;
            let items = self.f(o, 3);
            let items = self.arr_renew(o, items, sz * (len + free))?;
            self.wf(o, 3, items);
            self.wf(o, 1, (w1 & 0xff) | ((free as Word) << 8));
            let z = alloc::vec![0u8; sz * (free - 1)];
            self.arr_write(o, (len + 1) * sz, &z);
        }
        let b = self.arr_encode(tc, v)?;
        self.arr_write(o, len * sz, &b);
        self.wf(o, 2, (len + 1) as Word);
        self.wf(o, 1, (w1 & 0xff) | (((free - 1) as Word) << 8));
        Ok(())
    }

    /// `array.extend(buf)` / `bytearray.extend(buf)`: grows exactly when `free` is short.
    pub(crate) fn array_extend(&mut self, o: Word, arg: Word) -> PR<()> {
        let d = self.buffer_or_raise(arg)?;
        let w1 = self.f(o, 1);
        let sz = self.arr_isz(o);
        let n = d.len() / sz;
        let len = self.f(o, 2) as usize;
        let free = (w1 >> 8) as usize;
        let nfree = if free < n {
            let items = self.f(o, 3);
            let items = self.arr_renew(o, items, (len + n) * sz)?;
            self.wf(o, 3, items);
            0
        } else {
            free - n
        };
        self.arr_write(o, len * sz, &d[..n * sz]);
        self.wf(o, 2, (len + n) as Word);
        self.wf(o, 1, (w1 & 0xff) | ((nfree as Word) << 8));
        Ok(())
    }

    /// The bound `(start, stop)` of a step-1 slice over `len` (mp_seq_get_fast_slice_indexes).
    fn arr_slice(&mut self, sl: Word, len: usize) -> PR<(usize, usize)> {
        let (a, b, st) = (self.f(sl, 1), self.f(sl, 2), self.f(sl, 3));
        let step = self.slice_int(st)?.unwrap_or(1);
        if step == 0 {
            return Err(self.value_error("slice step cannot be zero"));
        }
        let (a, b) = (self.slice_int(a)?, self.slice_int(b)?);
        if step != 1 {
            return Err(self.not_impl("only slices with step=1 (aka None) are supported"));
        }
        let (s, e) = crate::ops::fast_slice_indexes(len as i64, a, b, 1);
        Ok((s.max(0) as usize, e.max(s).max(0) as usize))
    }

    /// `array_subscr` for load (`v == None`) and store of bytearray, array and memoryview.
    /// `Ok(None)` means the operation is not supported (the caller raises its TypeError).
    pub(crate) fn arr_subscr(&mut self, o: Word, idx: Word, v: Option<Word>) -> PR<Option<Word>> {
        let len = self.f(o, 2) as usize;
        let sz = self.arr_isz(o);
        let is_mv = self.arr_is_mv(o);
        let writable = !is_mv || self.f(o, 1) & 0x80 != 0;
        if self.type_of(idx) == rom(R::TSlice) {
            let (s, e) = self.arr_slice(idx, len)?;
            let Some(v) = v else {
                if is_mv {
                    let res = self.alloc_obj(rom(R::TMemoryview), 4)?;
                    let w1 = self.f(o, 1);
                    let off = (w1 >> 8) as usize + s;
                    self.wf(res, 1, (w1 & 0xff) | ((off as Word) << 8));
                    self.wf(res, 2, (e - s) as Word);
                    let items = self.f(o, 3);
                    self.wf(res, 3, items);
                    return Ok(Some(res));
                }
                let d = self.arr_bytes(o);
                let tc = self.arr_tc(o);
                let res = self.array_new(tc, e - s)?;
                self.arr_write(res, 0, &d[s * sz..e * sz]);
                return Ok(Some(res));
            };
            // slice assignment (MICROPY_PY_ARRAY_SLICE_ASSIGN)
            let tv = self.type_of(v);
            let src = if is_arr_type(tv) {
                if item_size(self.arr_tc(v)) != Some(sz) {
                    return Err(self.value_error("lhs and rhs should be compatible"));
                }
                self.arr_bytes(v)
            } else if tv == rom(R::TBytes) {
                if sz != 1 {
                    return Err(self.value_error("lhs and rhs should be compatible"));
                }
                self.str_bytes(v).unwrap_or_default()
            } else {
                return Err(self.not_impl("array/bytes required on right side"));
            };
            let src_len = src.len() / sz;
            let adj = src_len as i64 - (e - s) as i64;
            if is_mv {
                if !writable {
                    return Ok(None);
                }
                if adj != 0 {
                    return Err(self.value_error("lhs and rhs should be compatible"));
                }
            }
            let mut data = self.arr_bytes(o);
            let w1 = self.f(o, 1);
            let free = (w1 >> 8) as i64;
            if adj > 0 && adj > free && !is_mv {
                let items = self.f(o, 3);
                let items = self.arr_renew(o, items, (len as i64 + adj) as usize * sz)?;
                self.wf(o, 3, items);
                // "conservative" policy: exactly the new length, no free slots left
                self.wf(o, 1, w1 & 0xff);
            }
            data.splice(s * sz..e * sz, src[..src_len * sz].iter().copied());
            self.arr_write(o, 0, &data);
            if adj < 0 {
                let z = alloc::vec![0u8; (-adj) as usize * sz];
                self.arr_write(o, data.len(), &z);
            }
            self.wf(o, 2, (len as i64 + adj) as Word);
            return Ok(Some(NONE));
        }
        let what = self.type_name(o);
        let i = self.index(idx, len, &what)?;
        match v {
            None => self.arr_get(o, i).map(Some),
            Some(_) if !writable => Ok(None),
            Some(v) => {
                let tc = self.arr_tc(o);
                let b = self.arr_encode(tc, v)?;
                self.arr_write(o, i * sz, &b);
                Ok(Some(NONE))
            }
        }
    }

    /// `array_binary_op` for `+`, `+=` and `in` with an array or memoryview on the left
    /// (`Ok(None)`: not supported). bytearray keeps its own paths for these.
    pub(crate) fn arr_binary(
        &mut self,
        add: bool,
        inplace: bool,
        a: Word,
        b: Word,
    ) -> PR<Option<Word>> {
        if !add {
            return Ok(None);
        }
        if inplace {
            if self.arr_is_mv(a) {
                return Ok(None);
            }
            self.array_extend(a, b)?;
            return Ok(Some(a));
        }
        let l = self.arr_bytes(a);
        let r = self.buffer_or_raise(b)?;
        let tc = self.buffer_tc(a);
        let sz = item_size(tc).unwrap_or(1);
        let rn = r.len() / sz;
        let res = self.array_new(tc, l.len() / sz + rn)?;
        self.arr_write(res, 0, &l);
        self.arr_write(res, l.len(), &r[..rn * sz]);
        Ok(Some(res))
    }

    /// `x in array`: a buffer is never found in an array or memoryview; a number raises.
    pub(crate) fn arr_contains(&mut self, x: Word) -> PR<bool> {
        if self.buffer_bytes(x).is_some() {
            return Ok(false);
        }
        if self.num_f64(x).is_some() && self.type_of(x) != rom(R::TBool) {
            return Err(self.new_exc(rom(R::ENotImplementedError), &[]));
        }
        Ok(false)
    }

    /// The writes `array_print` makes: `mp_printf("array('%c'")` in three, then `", ["`,
    /// each item as `mp_obj_print_helper` writes it (`int_print`/`float_print`, or an `'O'`
    /// item's own print) with `", "` between, `"]"`, `")"`; a bytearray as `"bytearray(b"`,
    /// the quoted bytes, `")"`.
    pub(crate) fn array_repr_pieces(&mut self, w: Word, out: &mut Vec<usize>, depth: usize) {
        if self.type_of(w) == rom(R::TBytearray) {
            out.push(11);
            let d = self.arr_bytes(w);
            crate::ops::quoted_pieces(&d, true, out);
            out.push(1);
            return;
        }
        out.extend([7, 1, 1]);
        let n = self.f(w, 2) as usize;
        if n > 0 {
            out.push(3);
            let tc = self.arr_tc(w);
            let d = self.arr_bytes(w);
            let sz = self.arr_isz(w);
            for i in 0..n {
                if i > 0 {
                    out.push(2);
                }
                match decode(tc, &d[i * sz..(i + 1) * sz]) {
                    Some(Elem::Int(v)) => out.push(format!("{v}").len()),
                    Some(Elem::UInt(u)) => out.push(format!("{u}").len()),
                    Some(Elem::Float(f)) => {
                        // float_print: the number, then ".0" in a write of its own when
                        // the text has no '.', 'e' or 'n'
                        let t = crate::ops::format_float(f);
                        match t.strip_suffix(".0") {
                            Some(head) if !head.contains(['.', 'e', 'n']) => {
                                out.extend([head.len(), 2]);
                            }
                            _ => out.push(t.len()),
                        }
                    }
                    Some(Elem::Obj(o)) => self.repr_pieces(o, out, depth + 1),
                    None => {}
                }
            }
            out.push(1);
        }
        out.push(1);
    }

    /// The repr of an array (`array('i', [1, 2])`).
    pub(crate) fn array_repr(&mut self, w: Word, out: &mut String) {
        let tc = self.arr_tc(w);
        out.push_str(&format!("array('{}'", tc as char));
        let n = self.f(w, 2) as usize;
        if n > 0 {
            out.push_str(", [");
            let d = self.arr_bytes(w);
            let sz = self.arr_isz(w);
            for i in 0..n {
                if i > 0 {
                    out.push_str(", ");
                }
                let s = match decode(tc, &d[i * sz..(i + 1) * sz]) {
                    Some(Elem::Int(v)) => format!("{v}"),
                    Some(Elem::UInt(u)) => format!("{u}"),
                    Some(Elem::Float(f)) => crate::ops::format_float(f),
                    Some(Elem::Obj(o)) => self.repr(o),
                    None => String::new(),
                };
                out.push_str(&s);
            }
            out.push(']');
        }
        out.push(')');
    }
}
