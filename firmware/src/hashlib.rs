//! `uhashlib.sha256` (extmod/moduhashlib.c over crypto-algorithms' sha256.c): the object is
//! `mp_obj_hash_t` with the `CRYAL_SHA256_CTX` inline (data[64], datalen, a 64-bit bitlen
//! 4-aligned as on i386, state[8]: 112 bytes in all), kept on the heap and updated in place.
//! `digest()` finalises that context itself, as 1.9.4 does, so asking twice differs.

use alloc::vec::Vec;

use crate::heap::Word;
use crate::obj::{NONE, R, rom};
use crate::runtime::{Args, PR, Rt};

const DATA: Word = 4;
const DATALEN: usize = 17;
const BITLEN: usize = 18;
const STATE: usize = 20;

const K: [u32; 64] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

const H0: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

/// `sha256_transform` of one 64-byte block into `state`.
fn transform(state: &mut [u32; 8], data: &[u8]) {
    let mut m = [0u32; 64];
    for i in 0..16 {
        m[i] = u32::from_be_bytes([
            data[4 * i],
            data[4 * i + 1],
            data[4 * i + 2],
            data[4 * i + 3],
        ]);
    }
    for i in 16..64 {
        let s0 = m[i - 15].rotate_right(7) ^ m[i - 15].rotate_right(18) ^ (m[i - 15] >> 3);
        let s1 = m[i - 2].rotate_right(17) ^ m[i - 2].rotate_right(19) ^ (m[i - 2] >> 10);
        m[i] = s1
            .wrapping_add(m[i - 7])
            .wrapping_add(s0)
            .wrapping_add(m[i - 16]);
    }
    let mut v = *state;
    for i in 0..64 {
        let (a, b, c, d, e, f, g, h) = (v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]);
        let ep1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
        let ch = (e & f) ^ (!e & g);
        let t1 = h
            .wrapping_add(ep1)
            .wrapping_add(ch)
            .wrapping_add(K[i])
            .wrapping_add(m[i]);
        let ep0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
        let maj = (a & b) ^ (a & c) ^ (b & c);
        let t2 = ep0.wrapping_add(maj);
        v = [t1.wrapping_add(t2), a, b, c, d.wrapping_add(t1), e, f, g];
    }
    for i in 0..8 {
        state[i] = state[i].wrapping_add(v[i]);
    }
}

/// The context as Rust values: data, datalen, bitlen, state.
struct Ctx {
    data: [u8; 64],
    datalen: u32,
    bitlen: u64,
    state: [u32; 8],
}

impl Rt<'_> {
    fn sha_load(&self, o: Word) -> Ctx {
        let mut data = [0u8; 64];
        if let Some(b) = self.st.heap.bytes(o + DATA, 64) {
            data.copy_from_slice(b);
        }
        let mut state = [0u32; 8];
        for (i, s) in state.iter_mut().enumerate() {
            *s = self.f(o, STATE + i);
        }
        Ctx {
            data,
            datalen: self.f(o, DATALEN),
            bitlen: u64::from(self.f(o, BITLEN)) | (u64::from(self.f(o, BITLEN + 1)) << 32),
            state,
        }
    }

    fn sha_store(&mut self, o: Word, c: &Ctx) {
        let _ = self.st.heap.write_bytes(o + DATA, &c.data);
        self.wf(o, DATALEN, c.datalen);
        self.wf(o, BITLEN, c.bitlen as u32);
        self.wf(o, BITLEN + 1, (c.bitlen >> 32) as u32);
        for i in 0..8 {
            self.wf(o, STATE + i, c.state[i]);
        }
    }

    fn sha_update(&mut self, o: Word, d: &[u8]) {
        let mut c = self.sha_load(o);
        for &b in d {
            c.data[c.datalen as usize % 64] = b;
            c.datalen += 1;
            if c.datalen == 64 {
                let block = c.data;
                transform(&mut c.state, &block);
                c.bitlen = c.bitlen.wrapping_add(512);
                c.datalen = 0;
            }
        }
        self.sha_store(o, &c);
    }

    /// `uhashlib.sha256([data])`.
    pub(crate) fn sha256_new(&mut self, a: Args<'_>) -> PR<Word> {
        self.arg_count_no_kw(a, 0, 1)?;
        let o = self.alloc_obj(rom(R::TSha256), 28)?;
        let c = Ctx {
            data: [0; 64],
            datalen: 0,
            bitlen: 0,
            state: H0,
        };
        self.sha_store(o, &c);
        if a.n == 1 {
            let d = self.buffer_or_raise(a.w[0])?;
            self.sha_update(o, &d);
        }
        Ok(o)
    }

    /// `update(data)` and `digest()`.
    pub(crate) fn sha256_method(&mut self, r: R, a: Args<'_>) -> PR<Word> {
        let o = a.w[0];
        if r == R::MHashUpdate {
            self.arg_count(a, 2, 2)?;
            let d = self.buffer_or_raise(a.w[1])?;
            self.sha_update(o, &d);
            return Ok(NONE);
        }
        self.arg_count(a, 1, 1)?;
        // sha256_final on the object's own context (datalen is not reset)
        let mut c = self.sha_load(o);
        let mut i = c.datalen as usize % 64;
        c.data[i] = 0x80;
        i += 1;
        if c.datalen < 56 {
            c.data[i..56].fill(0);
        } else {
            c.data[i..].fill(0);
            let block = c.data;
            transform(&mut c.state, &block);
            c.data[..56].fill(0);
        }
        c.bitlen = c.bitlen.wrapping_add(u64::from(c.datalen) * 8);
        c.data[56..64].copy_from_slice(&c.bitlen.to_be_bytes());
        let block = c.data;
        transform(&mut c.state, &block);
        self.sha_store(o, &c);
        let out: Vec<u8> = c.state.iter().flat_map(|s| s.to_be_bytes()).collect();
        // vstr_init_len(32)
        self.new_str_from_vstr_sizes(R::TBytes, &[33], &out)
    }
}
