//! `uio.StringIO` and `uio.BytesIO` (py/objstringio.c, with the stream methods of
//! py/stream.c): the object and its `vstr_t` live on the heap with 1.9.4's B32 layouts, so
//! what they allocate, grow and free is what 1.9.4 does.
//!
//! Object (4 words): type, vstr, pos, ref_obj. `vstr_t` (4 words): alloc, len, buf,
//! fixed_buf. A stream made from a str or bytes reads that object's data in place (a fixed
//! buffer; `ref_obj` keeps it alive) until the first write copies it.

use alloc::vec::Vec;

use crate::heap::Word;
use crate::obj::{self, NONE, NULL, R, layout, rom};
use crate::runtime::{Args, PR, Rt};

/// How many bytes the UTF-8 sequence starting with `b` has (stream_read_generic's count).
fn utf8_len(b: u8) -> usize {
    if b & 0x80 == 0 {
        1
    } else if b & 0xe0 == 0xc0 {
        2
    } else if b & 0xf0 == 0xe0 {
        3
    } else if b & 0xf8 == 0xf0 {
        4
    } else {
        5
    }
}

/// A vstr being filled by a stream method: the buffer sizes it goes through and its bytes.
struct Grow {
    sizes: Vec<usize>,
    alloc: usize,
    data: Vec<u8>,
}

impl Grow {
    /// `vstr_init(vstr, n)`.
    fn new(n: usize) -> Grow {
        let alloc = n.max(1);
        Grow {
            sizes: alloc::vec![alloc],
            alloc,
            data: Vec::new(),
        }
    }

    /// `vstr_ensure_extra` for `vstr_add_len(len)` with the vstr's length at `len_now`.
    fn ensure(&mut self, len_now: usize, extra: usize) {
        if len_now + extra > self.alloc {
            self.alloc = layout::vstr_grown(len_now + extra);
            self.sizes.push(self.alloc);
        }
    }
}

/// Whether `t` is the StringIO or BytesIO type.
pub fn is_stringio_type(t: Word) -> bool {
    t == rom(R::TStringIO) || t == rom(R::TBytesIO)
}

impl Rt<'_> {
    /// `stringio_make_new`: `StringIO()`, `StringIO(size)`, `StringIO(str)`, `BytesIO(bytes)`
    /// or `BytesIO(bytearray)`.
    pub(crate) fn stringio_new(&mut self, r: R, a: Args<'_>) -> PR<Word> {
        let o = self.alloc_obj(rom(r), 4)?;
        let h = self.hold(o);
        let res = self.stringio_init(o, a);
        self.release(h);
        res.map(|_| o)
    }

    fn stringio_init(&mut self, o: Word, a: Args<'_>) -> PR<()> {
        let mut sz = 16usize;
        let mut init = None;
        if a.n > 0 {
            let x = a.w[0];
            if obj::is_small(x) || self.is_big(x) {
                let n = self.get_int_arg(x)?;
                if n < 0 {
                    return Err(rom(R::MemoryErrorObj));
                }
                sz = n as usize;
            } else if let Some(d) = self.str_bytes(x) {
                // vstr_init_fixed_buf over the object's own data
                let v = self.alloc(16)?;
                let buf = if self.st.heap.contains(x) {
                    self.f(x, 3)
                } else {
                    NULL
                };
                self.wf(v, 0, d.len() as Word);
                self.wf(v, 1, d.len() as Word);
                self.wf(v, 2, buf);
                self.wf(v, 3, 1);
                self.wf(o, 1, v);
                self.wf(o, 3, x);
                return Ok(());
            } else {
                let d = self.buffer_or_raise(x)?;
                sz = d.len();
                init = Some(d);
            }
        }
        // vstr_new(sz): the vstr_t, then its buffer
        let v = self.alloc(16)?;
        let hv = self.hold(v);
        let alloc = sz.max(1);
        let buf = self.alloc(alloc);
        self.release(hv);
        let buf = buf?;
        self.wf(v, 0, alloc as Word);
        self.wf(v, 2, buf);
        self.wf(o, 1, v);
        if let Some(d) = init {
            self.stringio_write(o, &d)?;
            self.wf(o, 2, 0);
        }
        Ok(())
    }

    /// The vstr of an open stream, else `ValueError` like `check_stringio_is_open`.
    fn stringio_vstr(&mut self, o: Word) -> PR<Word> {
        let v = self.f(o, 1);
        if v == NULL {
            return Err(self.value_error("I/O operation on closed file"));
        }
        Ok(v)
    }

    /// The bytes the stream holds (`vstr->buf[0..len]`).
    fn stringio_contents(&self, o: Word) -> Vec<u8> {
        let v = self.f(o, 1);
        if v == NULL {
            return Vec::new();
        }
        let len = self.f(v, 1) as usize;
        if self.f(v, 3) != 0 {
            let mut d = self.str_bytes(self.f(o, 3)).unwrap_or_default();
            d.truncate(len);
            return d;
        }
        let buf = self.f(v, 2);
        if buf == NULL || len == 0 {
            return Vec::new();
        }
        self.st
            .heap
            .bytes(buf, len)
            .map(<[u8]>::to_vec)
            .unwrap_or_default()
    }

    /// `stringio_read`: up to `size` bytes from the position on.
    fn stringio_read(&mut self, o: Word, size: usize) -> PR<Vec<u8>> {
        let v = self.stringio_vstr(o)?;
        let len = self.f(v, 1) as usize;
        let pos = self.f(o, 2) as usize;
        if len <= pos {
            return Ok(Vec::new());
        }
        let n = size.min(len - pos);
        let d = self.stringio_contents(o);
        self.wf(o, 2, (pos + n) as Word);
        Ok(d[pos..pos + n].to_vec())
    }

    /// `stringio_write`: copies a fixed buffer first, grows the vstr to
    /// `ROUND_ALLOC(new_pos + 16)` when the write goes past its allocation, zero-fills a hole
    /// left by seeking past the end.
    pub(crate) fn stringio_write(&mut self, o: Word, data: &[u8]) -> PR<usize> {
        let v = self.stringio_vstr(o)?;
        if data.is_empty() {
            // mp_stream_rw never calls the write function for nothing
            return Ok(0);
        }
        if self.f(v, 3) != 0 {
            // stringio_copy_on_write: m_new(char, len) and the data copied
            let old = self.stringio_contents(o);
            let nb = if old.is_empty() {
                NULL
            } else {
                self.alloc(old.len())?
            };
            if nb != NULL {
                let _ = self.st.heap.write_bytes(nb, &old);
            }
            self.wf(v, 2, nb);
            self.wf(v, 3, 0);
            self.wf(o, 3, NULL);
        }
        let pos = self.f(o, 2) as usize;
        let new_pos = pos + data.len();
        let org_len = self.f(v, 1) as usize;
        let alloc = self.f(v, 0) as usize;
        if new_pos > alloc {
            let new_alloc = layout::vstr_grown(new_pos);
            let buf = self.f(v, 2);
            let nb = if buf == NULL {
                self.alloc(new_alloc)?
            } else {
                match self.st.heap.realloc(buf, new_alloc, true) {
                    Some(p) => p,
                    None => {
                        self.st.alloc_fail = new_alloc;
                        return Err(rom(R::MemoryErrorObj));
                    }
                }
            };
            self.wf(v, 0, new_alloc as Word);
            self.wf(v, 2, nb);
            self.wf(v, 1, new_pos as Word);
        }
        let buf = self.f(v, 2);
        if pos > org_len {
            let _ = self
                .st
                .heap
                .write_bytes(buf + org_len as Word, &alloc::vec![0u8; pos - org_len]);
        }
        let _ = self.st.heap.write_bytes(buf + pos as Word, data);
        self.wf(o, 2, new_pos as Word);
        if new_pos > self.f(v, 1) as usize {
            self.wf(v, 1, new_pos as Word);
        }
        Ok(data.len())
    }

    /// `stream_unbuffered_readline` on a StringIO/BytesIO.
    pub(crate) fn stringio_readline(&mut self, o: Word, max: i64) -> PR<Word> {
        self.stringio_vstr(o)?;
        let mut g = Grow::new(if max == -1 { 16 } else { max as usize });
        let mut left = max;
        while left == -1 || left != 0 {
            if left > 0 {
                left -= 1;
            }
            g.ensure(g.data.len(), 1);
            let b = self.stringio_read(o, 1)?;
            let Some(&c) = b.first() else { break };
            g.data.push(c);
            if c == b'\n' {
                break;
            }
        }
        let ty = self.stringio_content_type(o);
        self.new_str_from_vstr_sizes(ty, &g.sizes, &g.data)
    }

    /// str for StringIO, bytes for BytesIO (`STREAM_CONTENT_TYPE`).
    fn stringio_content_type(&self, o: Word) -> R {
        if self.type_of(o) == rom(R::TStringIO) {
            R::TStr
        } else {
            R::TBytes
        }
    }

    /// The methods of StringIO and BytesIO.
    pub(crate) fn stringio_method(&mut self, r: R, a: Args<'_>) -> PR<Word> {
        let s = a.w[0];
        match r {
            R::MFileEnter => {
                self.arg_count(a, 1, 1)?;
                Ok(s)
            }
            R::MIoFlush => {
                self.arg_count(a, 1, 1)?;
                self.stringio_vstr(s)?;
                Ok(NONE)
            }
            R::MFileClose | R::MFileExit => {
                if r == R::MFileExit {
                    self.arg_count(a, 4, 4)?;
                } else {
                    self.arg_count(a, 1, 1)?;
                }
                // vstr_free: the buffer (unless fixed), then the vstr_t
                let v = self.f(s, 1);
                if v != NULL {
                    let buf = self.f(v, 2);
                    if self.f(v, 3) == 0 && buf != NULL {
                        self.st.heap.free(buf);
                    }
                    self.st.heap.free(v);
                    self.wf(s, 1, NULL);
                }
                Ok(NONE)
            }
            R::MIoGetvalue => {
                self.arg_count(a, 1, 1)?;
                self.stringio_vstr(s)?;
                let d = self.stringio_contents(s);
                let ty = self.stringio_content_type(s);
                if ty == R::TStr {
                    self.new_str(&d)
                } else {
                    self.new_str_copy(R::TBytes, &d)
                }
            }
            R::MFileWrite => {
                self.arg_count(a, 2, 4)?;
                let mut d = self.buffer_or_raise(a.w[1])?;
                let (mut off, mut max) = (0usize, usize::MAX);
                if a.n == 3 {
                    max = self.int_bits(a.w[2])? as u32 as usize;
                } else if a.n == 4 {
                    off = (self.int_bits(a.w[2])? as u32 as usize).min(d.len());
                    max = self.int_bits(a.w[3])? as u32 as usize;
                }
                d.drain(..off);
                d.truncate(max);
                let n = self.stringio_write(s, &d)?;
                Ok(obj::small(n as i32))
            }
            R::MFileReadline => {
                self.arg_count(a, 1, 2)?;
                let max = if a.n > 1 {
                    i64::from(obj::small_value(a.w[1]))
                } else {
                    -1
                };
                self.stringio_readline(s, max)
            }
            R::MFileRead => {
                self.arg_count(a, 1, 2)?;
                let sz = if a.n == 1 {
                    -1
                } else {
                    self.get_int_arg(a.w[1])?
                };
                self.stringio_vstr(s)?;
                let ty = self.stringio_content_type(s);
                if sz == -1 {
                    // stream_readall: 256 bytes, extended by 256 whenever a read fills it
                    let mut g = Grow::new(256);
                    let mut cur = 256;
                    loop {
                        let d = self.stringio_read(s, cur)?;
                        if d.is_empty() {
                            break;
                        }
                        g.data.extend_from_slice(&d);
                        if d.len() < cur {
                            cur -= d.len();
                        } else {
                            g.alloc += 256;
                            g.sizes.push(g.alloc);
                            cur = 256;
                        }
                    }
                    return self.new_str_from_vstr_sizes(ty, &g.sizes, &g.data);
                }
                if sz < 0 {
                    // "negatives ... will cause a MemoryError"
                    return Err(rom(R::MemoryErrorObj));
                }
                let sz = sz as usize;
                if ty == R::TBytes {
                    // vstr_init_len(sz)
                    let d = self.stringio_read(s, sz)?;
                    return self.new_str_from_vstr_sizes(ty, &[sz + 1], &d);
                }
                // a text stream reads whole characters, never more bytes than needed
                let mut g = Grow::new(sz);
                let (mut more, mut want, mut last) = (sz, sz, 0usize);
                while more > 0 {
                    let len = g.data.len();
                    g.ensure(len, more);
                    let d = self.stringio_read(s, more)?;
                    g.data.extend_from_slice(&d);
                    if d.is_empty() {
                        break;
                    }
                    let mut off = last;
                    loop {
                        let n = utf8_len(g.data[off]);
                        if off + n <= g.data.len() {
                            off += n;
                            want -= 1;
                            last = off;
                            if off >= g.data.len() {
                                more = want;
                                break;
                            }
                        } else {
                            more = (off + n - g.data.len()) + (want - 1);
                            break;
                        }
                    }
                }
                self.new_str_from_vstr_sizes(ty, &g.sizes, &g.data)
            }
            R::MIoReadinto => {
                self.arg_count(a, 2, 3)?;
                // stream_readinto: any buffer that takes writes (MP_BUFFER_WRITE)
                let Some((items, blen)) = self.writable_buffer(a.w[1]) else {
                    return Err(self.type_error("object with buffer protocol required"));
                };
                let mut n = blen;
                if a.n > 2 {
                    n = (self.get_int_arg(a.w[2])? as usize).min(blen);
                }
                let d = self.stringio_read(s, n)?;
                if !d.is_empty() {
                    let _ = self.st.heap.write_bytes(items, &d);
                }
                Ok(obj::small(d.len() as i32))
            }
            R::MIoSeek => {
                self.arg_count(a, 2, 3)?;
                let off = self.get_int_arg(a.w[1])?;
                let whence = if a.n == 3 {
                    self.get_int_arg(a.w[2])?
                } else {
                    0
                };
                if whence == 0 && off < 0 {
                    return Err(self.new_exc(rom(R::EOSError), &[obj::small(22)]));
                }
                let v = self.stringio_vstr(s)?;
                let reference = match whence {
                    1 => self.f(s, 2),
                    2 => self.f(v, 1),
                    _ => 0,
                };
                let mut new_pos = reference.wrapping_add(off as u32);
                if whence != 0 && off < 0 {
                    if new_pos > reference {
                        new_pos = 0;
                    }
                } else if new_pos < reference {
                    return Err(self.new_exc(rom(R::EOSError), &[obj::small(22)]));
                }
                self.wf(s, 2, new_pos);
                self.new_int(i64::from(new_pos))
            }
            _ => Err(self.type_error("stream operation not supported")),
        }
    }

    /// `mp_stream_write` of `data` to any stream (a StringIO/BytesIO, an open file,
    /// `sys.stdout`/`sys.stderr`); `OSError` for an object that is not a stream.
    pub(crate) fn stream_write_bytes(&mut self, stream: Word, data: &[u8]) -> PR<()> {
        if is_stringio_type(self.type_of(stream)) {
            self.stringio_write(stream, data)?;
            return Ok(());
        }
        if self.type_of(stream) != rom(R::TFile) {
            return Err(self.exc_msg(R::EOSError, "stream operation not supported"));
        }
        if data.is_empty() {
            return Ok(());
        }
        let s = self.new_str(data)?;
        let h = self.hold(s);
        let r = self.call_builtin(
            R::MFileWrite,
            Args {
                w: &[stream, s],
                n: 2,
            },
        );
        self.release(h);
        r.map(|_| ())
    }

    /// What a stream has left to read, read to its end (`ujson.load`'s byte-by-byte reads,
    /// which allocate nothing); `OSError` for an object that is not a stream.
    pub(crate) fn stream_read_rest(&mut self, stream: Word) -> PR<Vec<u8>> {
        let t = self.type_of(stream);
        if is_stringio_type(t) {
            let v = self.stringio_vstr(stream)?;
            let (len, pos) = (self.f(v, 1) as usize, self.f(stream, 2) as usize);
            let d = self.stringio_contents(stream);
            self.wf(stream, 2, len.max(pos) as Word);
            return Ok(d.get(pos..).map(<[u8]>::to_vec).unwrap_or_default());
        }
        if t == rom(R::TFile) {
            if crate::builtins::std_stream_fd(stream).is_some() {
                return Ok(Vec::new());
            }
            let h = obj::small_value(self.f(stream, 1)) as usize;
            if let Some(Some(f)) = self.st.files.get_mut(h) {
                let rest = f.data.get(f.pos..).map(<[u8]>::to_vec).unwrap_or_default();
                f.pos = f.data.len().max(f.pos);
                return Ok(rest);
            }
            return Err(self.value_error("I/O operation on closed file"));
        }
        Err(self.exc_msg(R::EOSError, "stream operation not supported"))
    }
}
