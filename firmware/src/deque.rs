//! `ucollections.deque` (py/objdeque.c): a fixed ring of `maxlen + 1` slots. The object is
//! 1.9.4's `mp_obj_deque_t` (type, alloc, i_get, i_put, items, flags: 6 words) and the ring
//! is a zeroed array of `alloc` words; only `append`, `popleft`, `len()` and truth exist.

use crate::heap::Word;
use crate::obj::{NONE, NULL, R, rom};
use crate::runtime::{Args, PR, Rt};

impl Rt<'_> {
    /// `deque_make_new(iterable, maxlen[, flags])`: the iterable must be the empty tuple.
    pub(crate) fn deque_new(&mut self, a: Args<'_>) -> PR<Word> {
        self.arg_count_no_kw(a, 2, 3)?;
        if a.w[0] != rom(R::EmptyTuple) {
            return Err(self.new_exc(rom(R::EValueError), &[]));
        }
        let maxlen = self.get_int_arg(a.w[1])?;
        if maxlen < 0 {
            return Err(self.new_exc(rom(R::EValueError), &[]));
        }
        let alloc = maxlen as usize + 1;
        let o = self.alloc_obj(rom(R::TDeque), 6)?;
        let h = self.hold(o);
        let items = self.alloc(alloc * 4);
        self.release(h);
        let items = items?;
        self.wf(o, 1, alloc as Word);
        self.wf(o, 4, items);
        if a.n > 2 {
            let flags = self.get_int_arg(a.w[2])?;
            self.wf(o, 5, flags as Word);
        }
        Ok(o)
    }

    /// The number of items in a deque.
    pub fn deque_len(&self, o: Word) -> usize {
        let (alloc, get, put) = (self.f(o, 1), self.f(o, 2), self.f(o, 3));
        ((put + alloc - get) % alloc.max(1)) as usize
    }

    /// `deque.append` and `deque.popleft`.
    pub(crate) fn deque_method(&mut self, r: R, a: Args<'_>) -> PR<Word> {
        let s = a.w[0];
        let (alloc, get, put) = (self.f(s, 1), self.f(s, 2), self.f(s, 3));
        let items = self.f(s, 4);
        if r == R::MDequeAppend {
            self.arg_count(a, 2, 2)?;
            let mut new_put = put + 1;
            if new_put == alloc {
                new_put = 0;
            }
            if self.f(s, 5) & 1 != 0 && new_put == get {
                return Err(self.exc_msg(R::EIndexError, "full"));
            }
            self.wf(items, put as usize, a.w[1]);
            self.wf(s, 3, new_put);
            if get == new_put {
                let g = if get + 1 == alloc { 0 } else { get + 1 };
                self.wf(s, 2, g);
            }
            return Ok(NONE);
        }
        self.arg_count(a, 1, 1)?;
        if get == put {
            return Err(self.exc_msg(R::EIndexError, "empty"));
        }
        let v = self.f(items, get as usize);
        self.wf(items, get as usize, NULL);
        let g = if get + 1 == alloc { 0 } else { get + 1 };
        self.wf(s, 2, g);
        Ok(v)
    }
}
