//! Arbitrary-precision ints like MicroPython 1.9.4's `MICROPY_LONGINT_IMPL_MPZ` on a 32-bit
//! build (py/mpz.c, py/objint_mpz.c): 16-bit digits, an `mp_obj_int_t` of 4 words on the heap
//! (`base`, `neg|fixed_dig|alloc`, `len`, `dig`) and a separate digits array whose size follows
//! mpz.c's `mpz_need_dig` (it only grows, to exactly the length an operation asks for, at least
//! 2 digits). Results of long-int operations stay long ints even when their value would fit a
//! small int, as in 1.9.4.
//!
//! The values are computed with plain magnitude arithmetic; the allocations (result digits,
//! the clones `mpz_mul_inpl`/`mpz_pow_inpl` make and free, the `-1` that `mpz_divmod_inpl`
//! leaks) follow mpz.c's order through an [`MpzHeap`], so the front end can fold constants
//! without a heap and the runtime reproduces the heap traffic.

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::cmp::Ordering;

use crate::heap::Word;

/// Bits per digit (`MPZ_DIG_SIZE`).
pub const DIG_SIZE: usize = 16;
/// `MPZ_NUM_DIG_FOR_INT` on a 32-bit build.
pub const NUM_DIG_FOR_INT: usize = 2;
/// `MPZ_NUM_DIG_FOR_LL`.
pub const NUM_DIG_FOR_LL: usize = 4;
/// `MIN_ALLOC` of mpz.c.
const MIN_ALLOC: usize = 2;

/// The allocator an operation uses for digits arrays and cloned `mpz_t` structs.
pub trait MpzHeap {
    /// `m_renew`: `p == 0` allocates; `None` when out of memory.
    fn renew(&mut self, p: Word, n_bytes: usize) -> Option<Word>;
    /// `m_del`.
    fn free(&mut self, p: Word);
    /// `m_new_obj(mpz_t)`: 12 bytes.
    fn new_struct(&mut self) -> Option<Word>;
}

/// An allocator that allocates nothing (constant folding in the front end).
pub struct NoHeap;

impl MpzHeap for NoHeap {
    fn renew(&mut self, _p: Word, _n: usize) -> Option<Word> {
        Some(0)
    }
    fn free(&mut self, _p: Word) {}
    fn new_struct(&mut self) -> Option<Word> {
        Some(0)
    }
}

/// Out of memory while growing a digits array.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Oom;

/// An `mpz_t`: sign, digits (little-endian, no leading zero digits; `dig.len()` is `len`),
/// the allocated digit count and where the digits live.
#[derive(Debug, Clone, PartialEq)]
pub struct Mpz {
    /// The sign bit (may be set on a zero, as mpz.c leaves it).
    pub neg: bool,
    /// The digits.
    pub dig: Vec<u16>,
    /// Allocated digits (`alloc`).
    pub alloc: usize,
    /// Whether a digits array exists (`dig != NULL`).
    pub has: bool,
    /// A digits array on the stack (`fixed_dig`).
    pub fixed: bool,
    /// Heap address of the digits (0 when none or not on the heap).
    pub addr: Word,
}

impl Mpz {
    /// Two's complement little-endian bytes, truncated (or zero-padded) to `n`
    /// (`mpz_as_bytes` into a buffer cleared first, as `int.to_bytes` and array stores do).
    pub fn twos_complement_le(&self, n: usize) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(self.dig.len() * 2);
        for d in &self.dig {
            bytes.push(*d as u8);
            bytes.push((*d >> 8) as u8);
        }
        if self.neg {
            let mut carry = 1u16;
            for b in bytes.iter_mut() {
                let t = u16::from(!*b) + carry;
                *b = t as u8;
                carry = t >> 8;
            }
        }
        bytes.resize(n, 0);
        bytes
    }

    /// `mpz_init_zero`.
    pub fn zero() -> Mpz {
        Mpz {
            neg: false,
            dig: Vec::new(),
            alloc: 0,
            has: false,
            fixed: false,
            addr: 0,
        }
    }

    /// `mpz_init_fixed_from_int`: a small int as a stack mpz of `NUM_DIG_FOR_INT` digits.
    pub fn fixed_from_int(v: i64) -> Mpz {
        Mpz {
            neg: v < 0,
            dig: mag_from_u64(v.unsigned_abs()),
            alloc: NUM_DIG_FOR_INT,
            has: true,
            fixed: true,
            addr: 0,
        }
    }

    /// Whether the value is 0.
    pub fn is_zero(&self) -> bool {
        self.dig.is_empty()
    }

    /// The value as an i64 if it fits.
    pub fn to_i64(&self) -> Option<i64> {
        if self.dig.len() > 4 {
            return None;
        }
        let mut v: u64 = 0;
        for d in self.dig.iter().rev() {
            v = (v << 16) | u64::from(*d);
        }
        if self.neg {
            if v <= 1 << 63 {
                Some((v as i64).wrapping_neg())
            } else {
                None
            }
        } else {
            i64::try_from(v).ok()
        }
    }

    /// `mpz_hash`: the low word of the value, negated when negative (wrapping like C).
    pub fn hash(&self) -> i32 {
        let mut v: u32 = 0;
        for d in self.dig.iter().rev() {
            v = (v << 16) | u32::from(*d);
        }
        if self.neg {
            v = v.wrapping_neg();
        }
        v as i32
    }

    /// `mpz_as_int_checked`.
    pub fn as_int_checked(&self) -> Option<i32> {
        let mut v: u32 = 0;
        for d in self.dig.iter().rev() {
            if v > (!0x8000_0000u32 >> DIG_SIZE) {
                return None;
            }
            v = (v << 16) | u32::from(*d);
        }
        if self.neg {
            v = v.wrapping_neg();
        }
        Some(v as i32)
    }

    /// `mpz_as_float`.
    pub fn to_f64(&self) -> f64 {
        let mut v = 0.0;
        for d in self.dig.iter().rev() {
            v = v * 65536.0 + f64::from(*d);
        }
        if self.neg { -v } else { v }
    }

    /// `mpz_cmp`.
    pub fn compare(&self, o: &Mpz) -> Ordering {
        if self.dig.is_empty() && o.dig.is_empty() {
            return Ordering::Equal;
        }
        match (self.neg, o.neg) {
            (false, true) => return Ordering::Greater,
            (true, false) => return Ordering::Less,
            _ => {}
        }
        let c = cmp_mag(&self.dig, &o.dig);
        if self.neg { c.reverse() } else { c }
    }

    /// `mpz_as_str_inpl` (digits for `base` 2..=36, lower or upper case letters, a prefix).
    pub fn to_str_radix(&self, base: u32, upper: bool, prefix: &str) -> String {
        let mut s = String::new();
        if self.neg && !self.dig.is_empty() {
            s.push('-');
        } else if self.neg {
            // mpz.c prints a negative zero as "0" without a sign
        }
        s.push_str(prefix);
        s.push_str(&mag_to_str(&self.dig, base, upper));
        s
    }
}

// ---------------------------------------------------------------------- magnitudes

fn norm(mut v: Vec<u16>) -> Vec<u16> {
    while v.last() == Some(&0) {
        v.pop();
    }
    v
}

/// Digits of an unsigned value.
pub fn mag_from_u64(mut v: u64) -> Vec<u16> {
    let mut d = Vec::new();
    while v > 0 {
        d.push(v as u16);
        v >>= 16;
    }
    d
}

/// Compares magnitudes (`mpn_cmp`).
pub fn cmp_mag(a: &[u16], b: &[u16]) -> Ordering {
    if a.len() != b.len() {
        return a.len().cmp(&b.len());
    }
    for i in (0..a.len()).rev() {
        if a[i] != b[i] {
            return a[i].cmp(&b[i]);
        }
    }
    Ordering::Equal
}

fn add_mag(a: &[u16], b: &[u16]) -> Vec<u16> {
    let n = a.len().max(b.len());
    let mut out = Vec::with_capacity(n + 1);
    let mut carry = 0u32;
    for i in 0..n {
        let s = u32::from(*a.get(i).unwrap_or(&0)) + u32::from(*b.get(i).unwrap_or(&0)) + carry;
        out.push(s as u16);
        carry = s >> 16;
    }
    if carry > 0 {
        out.push(carry as u16);
    }
    norm(out)
}

/// `a - b` for `a >= b`.
fn sub_mag(a: &[u16], b: &[u16]) -> Vec<u16> {
    let mut out = Vec::with_capacity(a.len());
    let mut borrow = 0i32;
    for (i, &x) in a.iter().enumerate() {
        let mut s = i32::from(x) - i32::from(*b.get(i).unwrap_or(&0)) - borrow;
        borrow = 0;
        if s < 0 {
            s += 0x1_0000;
            borrow = 1;
        }
        out.push(s as u16);
    }
    norm(out)
}

fn mul_mag(a: &[u16], b: &[u16]) -> Vec<u16> {
    if a.is_empty() || b.is_empty() {
        return Vec::new();
    }
    let mut out = vec![0u32; a.len() + b.len()];
    for (i, &x) in a.iter().enumerate() {
        let mut carry = 0u64;
        for (j, &y) in b.iter().enumerate() {
            let t = u64::from(out[i + j]) + u64::from(x) * u64::from(y) + carry;
            out[i + j] = (t & 0xffff) as u32;
            carry = t >> 16;
        }
        let mut k = i + b.len();
        while carry > 0 {
            let t = u64::from(out[k]) + carry;
            out[k] = (t & 0xffff) as u32;
            carry = t >> 16;
            k += 1;
        }
    }
    norm(out.into_iter().map(|x| x as u16).collect())
}

fn shl_mag(a: &[u16], n: usize) -> Vec<u16> {
    if a.is_empty() {
        return Vec::new();
    }
    let (whole, part) = (n / 16, n % 16);
    let mut out = vec![0u16; whole];
    let mut carry = 0u32;
    for &d in a {
        let t = (u32::from(d) << part) | carry;
        out.push(t as u16);
        carry = t >> 16;
    }
    if carry > 0 {
        out.push(carry as u16);
    }
    norm(out)
}

fn shr_mag(a: &[u16], n: usize) -> Vec<u16> {
    let (whole, part) = (n / 16, n % 16);
    if whole >= a.len() {
        return Vec::new();
    }
    let src = &a[whole..];
    let mut out = Vec::with_capacity(src.len());
    for i in 0..src.len() {
        let lo = u32::from(src[i]) >> part;
        let hi = if part > 0 {
            (u32::from(*src.get(i + 1).unwrap_or(&0)) << (16 - part)) & 0xffff
        } else {
            0
        };
        out.push((lo | hi) as u16);
    }
    norm(out)
}

fn bit_len(a: &[u16]) -> usize {
    match a.last() {
        None => 0,
        Some(&top) => (a.len() - 1) * 16 + (16 - top.leading_zeros() as usize),
    }
}

/// Truncated division of magnitudes: (quotient, remainder).
fn divmod_mag(a: &[u16], b: &[u16]) -> (Vec<u16>, Vec<u16>) {
    if cmp_mag(a, b) == Ordering::Less {
        return (Vec::new(), a.to_vec());
    }
    if b.len() == 1 {
        let (q, r) = divmod_small(a, u32::from(b[0]));
        return (q, mag_from_u64(u64::from(r)));
    }
    let nbits = bit_len(a);
    let mut q = vec![0u16; a.len()];
    let mut r: Vec<u16> = Vec::new();
    for i in (0..nbits).rev() {
        r = shl_mag(&r, 1);
        if (a[i / 16] >> (i % 16)) & 1 == 1 {
            if r.is_empty() {
                r.push(1);
            } else {
                r[0] |= 1;
            }
        }
        if cmp_mag(&r, b) != Ordering::Less {
            r = sub_mag(&r, b);
            q[i / 16] |= 1 << (i % 16);
        }
    }
    (norm(q), r)
}

fn divmod_small(a: &[u16], d: u32) -> (Vec<u16>, u32) {
    let mut q = vec![0u16; a.len()];
    let mut r = 0u32;
    for i in (0..a.len()).rev() {
        let cur = (r << 16) | u32::from(a[i]);
        q[i] = (cur / d) as u16;
        r = cur % d;
    }
    (norm(q), r)
}

fn mag_to_str(a: &[u16], base: u32, upper: bool) -> String {
    if a.is_empty() {
        return String::from("0");
    }
    let mut digits = Vec::new();
    let mut cur = a.to_vec();
    while !cur.is_empty() {
        let (q, r) = divmod_small(&cur, base);
        let c = if r < 10 {
            b'0' + r as u8
        } else if upper {
            b'A' + (r - 10) as u8
        } else {
            b'a' + (r - 10) as u8
        };
        digits.push(c);
        cur = q;
    }
    digits.reverse();
    String::from_utf8(digits).unwrap_or_default()
}

/// Two's complement of a signed magnitude over `n` digits.
fn to_twos(neg: bool, a: &[u16], n: usize) -> Vec<u16> {
    let mut v: Vec<u16> = (0..n).map(|i| *a.get(i).unwrap_or(&0)).collect();
    if neg {
        let mut carry = 1u32;
        for d in v.iter_mut() {
            let t = u32::from(!*d) + carry;
            *d = t as u16;
            carry = t >> 16;
        }
    }
    v
}

fn from_twos(v: Vec<u16>) -> (bool, Vec<u16>) {
    let neg = v.last().is_some_and(|d| d & 0x8000 != 0);
    if !neg {
        return (false, norm(v));
    }
    let mut w = v;
    let mut carry = 1u32;
    for d in w.iter_mut() {
        let t = u32::from(!*d) + carry;
        *d = t as u16;
        carry = t >> 16;
    }
    (true, norm(w))
}

// ---------------------------------------------------------------------- operations

/// A bitwise operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bit {
    /// `&`
    And,
    /// `|`
    Or,
    /// `^`
    Xor,
}

fn need_dig<H: MpzHeap>(h: &mut H, z: &mut Mpz, need: usize) -> Result<(), Oom> {
    let need = need.max(MIN_ALLOC);
    if !z.has || z.alloc < need {
        let old = if z.has { z.addr } else { 0 };
        z.addr = h.renew(old, need * 2).ok_or(Oom)?;
        z.alloc = need;
        z.has = true;
    }
    Ok(())
}

/// A clone made by `mpz_clone` (struct address, digits).
struct Clone {
    obj: Word,
    z: Mpz,
}

fn clone<H: MpzHeap>(h: &mut H, src: &Mpz) -> Result<Clone, Oom> {
    let obj = h.new_struct().ok_or(Oom)?;
    let addr = h.renew(0, src.alloc * 2).ok_or(Oom)?;
    Ok(Clone {
        obj,
        z: Mpz {
            neg: src.neg,
            dig: src.dig.clone(),
            alloc: src.alloc,
            has: true,
            fixed: false,
            addr,
        },
    })
}

fn free_clone<H: MpzHeap>(h: &mut H, c: Clone) {
    h.free(c.z.addr);
    h.free(c.obj);
}

/// `mpz_deinit` of a stack mpz.
pub fn deinit<H: MpzHeap>(h: &mut H, z: &Mpz) {
    if z.has && !z.fixed {
        h.free(z.addr);
    }
}

/// `mpz_set(dest, src)`.
pub fn set<H: MpzHeap>(h: &mut H, dest: &mut Mpz, src: &Mpz) -> Result<(), Oom> {
    need_dig(h, dest, src.dig.len())?;
    dest.neg = src.neg;
    dest.dig = src.dig.clone();
    Ok(())
}

/// `mpz_set_from_int`.
pub fn set_from_int<H: MpzHeap>(h: &mut H, z: &mut Mpz, v: i64) -> Result<(), Oom> {
    if v == 0 {
        z.dig.clear();
        return Ok(());
    }
    need_dig(h, z, NUM_DIG_FOR_INT)?;
    z.neg = v < 0;
    z.dig = mag_from_u64(v.unsigned_abs());
    Ok(())
}

/// `mpz_set_from_ll` (signed).
pub fn set_from_ll<H: MpzHeap>(h: &mut H, z: &mut Mpz, v: i64) -> Result<(), Oom> {
    need_dig(h, z, NUM_DIG_FOR_LL)?;
    z.neg = v < 0;
    z.dig = mag_from_u64(v.unsigned_abs());
    Ok(())
}

/// `mpz_set_from_float` for a finite value (truncates toward zero).
pub fn set_from_f64<H: MpzHeap>(h: &mut H, z: &mut Mpz, v: f64) -> Result<(), Oom> {
    let neg = v < 0.0;
    let a = if neg { -v } else { v };
    if a < 1.0 {
        z.dig.clear();
        z.neg = false;
        return Ok(());
    }
    let bits = a.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i64 - 1075;
    let mant = (bits & ((1u64 << 52) - 1)) | (1u64 << 52);
    let mag = if exp >= 0 {
        shl_mag(&mag_from_u64(mant), exp as usize)
    } else {
        mag_from_u64(mant >> (-exp) as u32)
    };
    // mpz.c sizes the array from the exponent: (exp - 52 + DIG_SIZE - 1) / DIG_SIZE + ceil(53 / DIG_SIZE) roughly;
    // the exact count is the number of digits the value needs plus one spare at most
    need_dig(h, z, mag.len())?;
    z.neg = neg;
    z.dig = mag;
    Ok(())
}

/// `mpz_set_from_str` on the digits `s` (already without sign and base prefix); returns how
/// many bytes were digits of `base`.
pub fn set_from_str<H: MpzHeap>(
    h: &mut H,
    z: &mut Mpz,
    s: &[u8],
    neg: bool,
    base: u32,
) -> Result<usize, Oom> {
    need_dig(h, z, s.len() * 8 / DIG_SIZE + 1)?;
    z.neg = neg;
    let mut mag: Vec<u16> = Vec::new();
    let mut n = 0;
    for &c in s {
        let v = match c {
            b'0'..=b'9' => u32::from(c - b'0'),
            b'A'..=b'Z' => u32::from(c - b'A') + 10,
            b'a'..=b'z' => u32::from(c - b'a') + 10,
            _ => break,
        };
        if v >= base {
            break;
        }
        mag = add_mag(
            &mul_mag(&mag, &mag_from_u64(u64::from(base))),
            &mag_from_u64(u64::from(v)),
        );
        n += 1;
    }
    z.dig = mag;
    Ok(n)
}

/// `mpz_add_inpl` / `mpz_sub_inpl` into a fresh `dest`.
pub fn add_sub<H: MpzHeap>(
    h: &mut H,
    dest: &mut Mpz,
    l: &Mpz,
    r: &Mpz,
    sub: bool,
) -> Result<(), Oom> {
    let (mut l, mut r) = (l, r);
    let mut swapped = false;
    if cmp_mag(&l.dig, &r.dig) == Ordering::Less {
        core::mem::swap(&mut l, &mut r);
        swapped = true;
    }
    let same = (l.neg == r.neg) != sub;
    let (ln, ld, rd) = (l.neg, l.dig.clone(), r.dig.clone());
    if same {
        need_dig(h, dest, ld.len() + 1)?;
        dest.dig = add_mag(&ld, &rd);
    } else {
        need_dig(h, dest, ld.len())?;
        dest.dig = sub_mag(&ld, &rd);
    }
    dest.neg = if sub && swapped { !ln } else { ln };
    Ok(())
}

/// `mpz_mul_inpl` where `dest` is neither operand.
pub fn mul<H: MpzHeap>(h: &mut H, dest: &mut Mpz, l: &Mpz, r: &Mpz) -> Result<(), Oom> {
    if l.dig.is_empty() || r.dig.is_empty() {
        return set_from_int(h, dest, 0);
    }
    need_dig(h, dest, l.dig.len() + r.dig.len())?;
    dest.dig = mul_mag(&l.dig, &r.dig);
    dest.neg = l.neg != r.neg;
    Ok(())
}

/// `mpz_mul_inpl(dest, dest, x)` (or `x` is `dest` too): clones `dest` first.
fn mul_self<H: MpzHeap>(h: &mut H, dest: &mut Mpz, x: Option<&Mpz>) -> Result<(), Oom> {
    let temp = clone(h, dest)?;
    let rhs = x.unwrap_or(&temp.z).clone();
    let r = (|| {
        need_dig(h, dest, temp.z.dig.len() + rhs.dig.len())?;
        dest.dig = mul_mag(&temp.z.dig, &rhs.dig);
        dest.neg = temp.z.neg != rhs.neg;
        Ok(())
    })();
    free_clone(h, temp);
    r
}

/// `mpz_pow_inpl` into a fresh `dest`.
pub fn pow<H: MpzHeap>(h: &mut H, dest: &mut Mpz, l: &Mpz, r: &Mpz) -> Result<(), Oom> {
    if l.dig.is_empty() || r.neg {
        return set_from_int(h, dest, 0);
    }
    if r.dig.is_empty() {
        return set_from_int(h, dest, 1);
    }
    let mut x = clone(h, l)?;
    let mut n = clone(h, r)?;
    let res = (|| {
        set_from_int(h, dest, 1)?;
        while !n.z.dig.is_empty() {
            if n.z.dig[0] & 1 != 0 {
                mul_self(h, dest, Some(&x.z))?;
            }
            n.z.dig = shr_mag(&n.z.dig, 1);
            if n.z.dig.is_empty() {
                break;
            }
            mul_self(h, &mut x.z, None)?;
        }
        Ok(())
    })();
    free_clone(h, x);
    free_clone(h, n);
    res
}

/// `mpz_divmod_inpl` (floor semantics); `r` is not zero. Returns the heap address of the `-1`
/// mpz.c allocates and never frees when it adjusts a negative quotient (0 if none).
pub fn divmod<H: MpzHeap>(
    h: &mut H,
    quo: &mut Mpz,
    rem: &mut Mpz,
    l: &Mpz,
    r: &Mpz,
) -> Result<(), Oom> {
    need_dig(h, quo, l.dig.len() + 1)?;
    quo.dig.clear();
    need_dig(h, rem, l.dig.len() + 1)?;
    set(h, rem, l)?;
    let (q, m) = divmod_mag(&l.dig, &r.dig);
    quo.dig = q;
    rem.dig = m;
    if l.neg != r.neg {
        quo.neg = true;
        if !rem.dig.is_empty() {
            let mut one = Mpz::zero();
            set_from_int(h, &mut one, -1)?;
            let q0 = quo.clone();
            add_sub(h, quo, &q0, &one, false)?;
            let r0 = rem.clone();
            add_sub(h, rem, &r0, r, false)?;
        }
    }
    Ok(())
}

/// `mpz_shl_inpl` into a fresh `dest`.
pub fn shl<H: MpzHeap>(h: &mut H, dest: &mut Mpz, l: &Mpz, n: usize) -> Result<(), Oom> {
    if l.dig.is_empty() || n == 0 {
        return set(h, dest, l);
    }
    need_dig(h, dest, l.dig.len() + n.div_ceil(DIG_SIZE))?;
    dest.dig = shl_mag(&l.dig, n);
    dest.neg = l.neg;
    Ok(())
}

/// `mpz_shr_inpl` into a fresh `dest` (rounds toward negative infinity).
pub fn shr<H: MpzHeap>(h: &mut H, dest: &mut Mpz, l: &Mpz, n: usize) -> Result<(), Oom> {
    if l.dig.is_empty() || n == 0 {
        return set(h, dest, l);
    }
    need_dig(h, dest, l.dig.len())?;
    let mut d = shr_mag(&l.dig, n);
    if l.neg {
        let lost = shl_mag(&d, n) != l.dig;
        if lost {
            d = add_mag(&d, &[1]);
        }
    }
    dest.dig = d;
    dest.neg = l.neg;
    Ok(())
}

/// `mpz_and_inpl` / `mpz_or_inpl` / `mpz_xor_inpl` (the portable versions: the unix port does
/// not set `MICROPY_OPT_MPZ_BITWISE`).
pub fn bitwise<H: MpzHeap>(
    h: &mut H,
    dest: &mut Mpz,
    l: &Mpz,
    r: &Mpz,
    op: Bit,
) -> Result<(), Oom> {
    let (l, r) = if l.dig.len() < r.dig.len() {
        (r, l)
    } else {
        (l, r)
    };
    need_dig(h, dest, l.dig.len() + usize::from(l.neg || r.neg))?;
    let n = l.dig.len().max(r.dig.len()) + 1;
    let (a, b) = (to_twos(l.neg, &l.dig, n), to_twos(r.neg, &r.dig, n));
    let v: Vec<u16> = a
        .iter()
        .zip(b.iter())
        .map(|(x, y)| match op {
            Bit::And => x & y,
            Bit::Or => x | y,
            Bit::Xor => x ^ y,
        })
        .collect();
    let (neg, mag) = from_twos(v);
    dest.neg = neg;
    dest.dig = mag;
    Ok(())
}

/// `mpz_neg_inpl` / `mpz_abs_inpl` into a fresh `dest`.
pub fn neg_abs<H: MpzHeap>(h: &mut H, dest: &mut Mpz, z: &Mpz, abs: bool) -> Result<(), Oom> {
    set(h, dest, z)?;
    dest.neg = if abs { false } else { !z.neg };
    Ok(())
}

/// `mpz_not_inpl` into a fresh `dest`.
pub fn not<H: MpzHeap>(h: &mut H, dest: &mut Mpz, z: &Mpz) -> Result<(), Oom> {
    set(h, dest, z)?;
    if dest.dig.is_empty() {
        need_dig(h, dest, 1)?;
        dest.dig = vec![1];
        dest.neg = true;
    } else if dest.neg {
        dest.neg = false;
        dest.dig = sub_mag(&dest.dig, &[1]);
    } else {
        need_dig(h, dest, dest.dig.len() + 1)?;
        dest.dig = add_mag(&dest.dig, &[1]);
        dest.neg = true;
    }
    Ok(())
}

/// `mpz_pow3_inpl`: `dest = (l ** r) % m` (`m` not zero).
pub fn pow3<H: MpzHeap>(h: &mut H, dest: &mut Mpz, l: &Mpz, r: &Mpz, m: &Mpz) -> Result<(), Oom> {
    if l.dig.is_empty() || r.neg || (m.dig.len() == 1 && m.dig[0] == 1) {
        return set_from_int(h, dest, 0);
    }
    set_from_int(h, dest, 1)?;
    if r.dig.is_empty() {
        return Ok(());
    }
    let mut x = clone(h, l)?;
    let mut n = clone(h, r)?;
    let mut quo = Mpz::zero();
    let res = (|| {
        while !n.z.dig.is_empty() {
            if n.z.dig[0] & 1 != 0 {
                mul_self(h, dest, Some(&x.z))?;
                let cur = dest.clone();
                divmod(h, &mut quo, dest, &cur, m)?;
            }
            n.z.dig = shr_mag(&n.z.dig, 1);
            if n.z.dig.is_empty() {
                break;
            }
            mul_self(h, &mut x.z, None)?;
            let cur = x.z.clone();
            divmod(h, &mut quo, &mut x.z, &cur, m)?;
        }
        Ok(())
    })();
    deinit(h, &quo);
    free_clone(h, x);
    free_clone(h, n);
    res
}

/// The result of a folded or run-time int operation.
#[derive(Debug, Clone, PartialEq)]
pub enum IntVal {
    /// A small int.
    Small(i64),
    /// A long int (stays long even when small enough).
    Big(Mpz),
}

/// Whether `v` fits a 31-bit small int.
pub fn fits_small(v: i64) -> bool {
    (-(1 << 30)..(1 << 30)).contains(&v)
}

/// A long int made from an i64 (`mp_obj_new_int_from_ll`).
pub fn from_ll(v: i64) -> Mpz {
    let mut z = Mpz::zero();
    let _ = set_from_ll(&mut NoHeap, &mut z, v);
    z
}

/// `mp_obj_new_int(v)` for an i64 result of small-int arithmetic.
pub fn new_int(v: i64) -> IntVal {
    if fits_small(v) {
        IntVal::Small(v)
    } else {
        IntVal::Big(from_ll(v))
    }
}

/// Binary operator codes (subset of py/runtime0.h) used by [`binary`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `|`
    Or,
    /// `^`
    Xor,
    /// `&`
    And,
    /// `<<`
    Lshift,
    /// `>>`
    Rshift,
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `//`
    FloorDiv,
    /// `%`
    Mod,
    /// `**`
    Pow,
}

/// Why an operation could not give an int.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntErr {
    /// ZeroDivisionError
    ZeroDivision,
    /// ValueError: negative shift count
    NegativeShift,
    /// OverflowError converting a long shift count
    Overflow,
    /// a negative power: the result is a float
    NegPower,
    /// MemoryError
    Oom,
}

impl From<Oom> for IntErr {
    fn from(_: Oom) -> IntErr {
        IntErr::Oom
    }
}

/// `mp_obj_int_binary_op` on two long-int operands (small ints given as fixed mpz): the new
/// result's mpz (a fresh `mp_obj_int_t` the caller allocated before calling).
pub fn long_binary<H: MpzHeap>(h: &mut H, op: Op, l: &Mpz, r: &Mpz) -> Result<Mpz, IntErr> {
    let mut res = Mpz::zero();
    match op {
        Op::Add => add_sub(h, &mut res, l, r, false)?,
        Op::Sub => add_sub(h, &mut res, l, r, true)?,
        Op::Mul => mul(h, &mut res, l, r)?,
        Op::FloorDiv | Op::Mod => {
            if r.is_zero() {
                return Err(IntErr::ZeroDivision);
            }
            let mut other = Mpz::zero();
            let out = if op == Op::FloorDiv {
                divmod(h, &mut res, &mut other, l, r)
            } else {
                divmod(h, &mut other, &mut res, l, r)
            };
            deinit(h, &other);
            out?;
        }
        Op::And => bitwise(h, &mut res, l, r, Bit::And)?,
        Op::Or => bitwise(h, &mut res, l, r, Bit::Or)?,
        Op::Xor => bitwise(h, &mut res, l, r, Bit::Xor)?,
        Op::Lshift | Op::Rshift => {
            let n = r.as_int_checked().ok_or(IntErr::Overflow)?;
            if n < 0 {
                return Err(IntErr::NegativeShift);
            }
            if op == Op::Lshift {
                shl(h, &mut res, l, n as usize)?;
            } else {
                shr(h, &mut res, l, n as usize)?;
            }
        }
        Op::Pow => {
            if r.neg && !r.is_zero() {
                return Err(IntErr::NegPower);
            }
            pow(h, &mut res, l, r)?;
        }
    }
    Ok(res)
}

/// Small-int arithmetic as `mp_binary_op` does it: `Ok(Small)` when it fits, `Ok(Big)` for
/// `+ - // %` and bit results that overflow (made with `mp_obj_new_int`), and `Err(None)` when
/// 1.9.4 promotes the left operand to a long int and retries (`*`, `<<`, `**` overflow).
pub fn small_binary(op: Op, x: i64, y: i64) -> Result<IntVal, Option<IntErr>> {
    let v = match op {
        Op::Or => x | y,
        Op::Xor => x ^ y,
        Op::And => x & y,
        Op::Lshift => {
            if y < 0 {
                return Err(Some(IntErr::NegativeShift));
            }
            if y >= 32 || x > ((1 << 30) - 1) >> y || x < (-(1i64 << 30)) >> y {
                return Err(None);
            }
            x << y
        }
        Op::Rshift => {
            if y < 0 {
                return Err(Some(IntErr::NegativeShift));
            }
            x >> y.min(31)
        }
        Op::Add => x + y,
        Op::Sub => x - y,
        Op::Mul => {
            let p = x * y;
            if !fits_small(p) {
                return Err(None);
            }
            p
        }
        Op::FloorDiv | Op::Mod => {
            if y == 0 {
                return Err(Some(IntErr::ZeroDivision));
            }
            let fl = if (x % y != 0) && ((x < 0) != (y < 0)) {
                x / y - 1
            } else {
                x / y
            };
            if op == Op::FloorDiv { fl } else { x - fl * y }
        }
        Op::Pow => {
            if y < 0 {
                return Err(Some(IntErr::NegPower));
            }
            let mut ans: i64 = 1;
            let (mut b, mut e) = (x, y);
            while e > 0 {
                if e & 1 != 0 {
                    ans *= b;
                    if !fits_small(ans) {
                        return Err(None);
                    }
                }
                if e == 1 {
                    break;
                }
                e /= 2;
                b *= b;
                if !fits_small(b) {
                    return Err(None);
                }
            }
            ans
        }
    };
    Ok(new_int(v))
}

/// An int operation as `mp_binary_op` does it, without a heap (the front end's folding).
pub fn fold_binary(op: Op, a: &IntVal, b: &IntVal) -> Result<IntVal, IntErr> {
    let l = match a {
        IntVal::Small(x) => {
            if let IntVal::Small(y) = b {
                match small_binary(op, *x, *y) {
                    Ok(v) => return Ok(v),
                    Err(Some(e)) => return Err(e),
                    Err(None) => from_ll(*x),
                }
            } else {
                Mpz::fixed_from_int(*x)
            }
        }
        IntVal::Big(z) => z.clone(),
    };
    let r = match b {
        IntVal::Small(y) => Mpz::fixed_from_int(*y),
        IntVal::Big(z) => z.clone(),
    };
    long_binary(&mut NoHeap, op, &l, &r).map(IntVal::Big)
}

/// A unary operation (`-` when `invert` is false, `~` when true) without a heap.
pub fn fold_unary(a: &IntVal, invert: bool) -> IntVal {
    match a {
        IntVal::Small(x) => new_int(if invert { !*x } else { -*x }),
        IntVal::Big(z) => {
            let mut d = Mpz::zero();
            if invert {
                let _ = not(&mut NoHeap, &mut d, z);
            } else {
                let _ = neg_abs(&mut NoHeap, &mut d, z, false);
            }
            IntVal::Big(d)
        }
    }
}

/// Parses an int literal's digits like `mp_parse_num_integer` (base already resolved): a small
/// int, or a long int when the value overflows (sized from the remaining text as 1.9.4 does).
pub fn parse_digits(digits: &[u8], neg: bool, base: u32) -> Option<IntVal> {
    let mut v: i64 = 0;
    for &c in digits {
        let d = match c {
            b'0'..=b'9' => u32::from(c - b'0'),
            _ if (c | 0x20).is_ascii_lowercase() => u32::from((c | 0x20) - b'a') + 10,
            _ => return None,
        };
        if d >= base {
            return None;
        }
        v = v * i64::from(base) + i64::from(d);
        if !fits_small(v) {
            let mut z = Mpz::zero();
            let n = set_from_str(&mut NoHeap, &mut z, digits, neg, base).ok()?;
            if n != digits.len() {
                return None;
            }
            return Some(IntVal::Big(z));
        }
    }
    Some(IntVal::Small(if neg { -v } else { v }))
}

// ---------------------------------------------------------------------- the runtime's long ints

use crate::obj::{self as o, R, rom};
#[cfg(not(feature = "std"))]
use crate::runtime::FloatExt;
use crate::runtime::{PR, Rt};

/// [`MpzHeap`] on the GC arena: every block it makes stays a root until the operation ends.
struct Arena<'a, 'b> {
    rt: &'a mut Rt<'b>,
}

impl MpzHeap for Arena<'_, '_> {
    fn renew(&mut self, p: Word, n: usize) -> Option<Word> {
        let r = if p == 0 {
            self.rt.st.heap.alloc(n)
        } else {
            self.rt.st.heap.realloc(p, n, true)
        }?;
        self.rt.hold(r);
        Some(r)
    }
    fn free(&mut self, p: Word) {
        if p != 0 {
            self.rt.st.heap.free(p);
        }
    }
    fn new_struct(&mut self) -> Option<Word> {
        let r = self.rt.st.heap.alloc(12)?;
        self.rt.hold(r);
        Some(r)
    }
}

impl Rt<'_> {
    /// Whether `w` is a long int object (`mp_obj_int_t` on the heap).
    pub fn is_big(&self, w: Word) -> bool {
        (o::is_ptr(w) && self.st.heap.contains(w) && self.st.heap.read_word(w) == rom(R::TInt))
            || w == rom(R::IntMaxsize)
    }

    /// Whether `w` is an int (small, long or bool).
    pub fn is_int(&self, w: Word) -> bool {
        o::is_small(w) || w == o::TRUE || w == o::FALSE || self.is_big(w)
    }

    /// The mpz of an int value: a long int's fields, or a small int/bool as a fixed mpz.
    pub fn mpz_of(&self, w: Word) -> Option<Mpz> {
        if let Some(i) = crate::ops::int_of(w) {
            return Some(Mpz::fixed_from_int(i64::from(i)));
        }
        read_big(&self.st.heap, w)
    }

    /// Writes an mpz into a long int object (fields and digits).
    fn mpz_store(&mut self, obj: Word, z: &Mpz) {
        self.wf(obj, 1, Word::from(z.neg) | ((z.alloc as Word) << 2));
        self.wf(obj, 2, z.dig.len() as Word);
        self.wf(obj, 3, if z.has { z.addr } else { 0 });
        for (i, d) in z.dig.iter().enumerate() {
            let _ = self.st.heap.write_u16(z.addr + 2 * i as Word, *d);
        }
    }

    /// `mp_obj_int_new_mpz` followed by `f` filling its mpz through the arena.
    fn big_with<F>(&mut self, f: F) -> PR<Word>
    where
        F: FnOnce(&mut Arena<'_, '_>) -> Result<Mpz, IntErr>,
    {
        let depth = self.st.heap.root_depth();
        let r = (|| {
            let obj = self.alloc_obj(rom(R::TInt), 4)?;
            self.hold(obj);
            let z = {
                let mut a = Arena { rt: self };
                f(&mut a)
            };
            match z {
                Ok(z) => {
                    self.mpz_store(obj, &z);
                    Ok(obj)
                }
                Err(e) => Err(self.int_err(e)),
            }
        })();
        self.release(depth);
        r
    }

    fn int_err(&mut self, e: IntErr) -> Word {
        match e {
            IntErr::ZeroDivision => self.exc_msg(R::EZeroDivisionError, "division by zero"),
            IntErr::NegativeShift => self.value_error("negative shift count"),
            IntErr::Overflow => self.exc_msg(
                R::EOverflowError,
                "overflow converting long int to machine word",
            ),
            IntErr::NegPower => self.value_error("negative power"),
            IntErr::Oom => rom(R::MemoryErrorObj),
        }
    }

    /// A long int holding `v` (`mp_obj_new_int_from_ll`).
    pub fn new_big_ll(&mut self, v: i64) -> PR<Word> {
        self.big_with(|h| {
            let mut z = Mpz::zero();
            set_from_ll(h, &mut z, v)?;
            Ok(z)
        })
    }

    /// A long int object copied from a constant (`Const::BigInt`): object then digits.
    pub fn new_big_const(&mut self, c: &Mpz) -> PR<Word> {
        let c = c.clone();
        self.big_with(move |h| {
            let mut z = c;
            if z.has {
                z.addr = h.renew(0, z.alloc * 2).ok_or(IntErr::Oom)?;
            }
            Ok(z)
        })
    }

    /// `mp_obj_new_int(v)`: a small int when it fits, else a long int.
    pub fn new_int_any(&mut self, v: i64) -> PR<Word> {
        if fits_small(v) {
            Ok(o::small(v as i32))
        } else {
            self.new_big_ll(v)
        }
    }

    /// A long int from a float (`mp_obj_new_int_from_float`), for values outside small ints.
    pub fn new_int_from_f64(&mut self, v: f64) -> PR<Word> {
        if v.is_nan() {
            return Err(self.value_error("can't convert NaN to int"));
        }
        if v.is_infinite() {
            return Err(self.exc_msg(R::EOverflowError, "can't convert inf to int"));
        }
        let t = if v < 0.0 {
            -((-v) as i64 as f64)
        } else {
            v as i64 as f64
        };
        if t.abs() < 1e18 && fits_small(t as i64) {
            return Ok(o::small(t as i32));
        }
        self.big_with(|h| {
            let mut z = Mpz::zero();
            set_from_f64(h, &mut z, v)?;
            Ok(z)
        })
    }

    /// `mp_binary_op` for two ints (small, bool or long) and an arithmetic/bitwise `op`.
    pub fn int_binary(&mut self, op: Op, a: Word, b: Word) -> PR<Word> {
        let (sa, sb) = (crate::ops::int_of(a), crate::ops::int_of(b));
        let mut lhs = a;
        if let (Some(x), Some(y)) = (sa, sb) {
            match small_binary(op, i64::from(x), i64::from(y)) {
                Ok(IntVal::Small(v)) => return Ok(o::small(v as i32)),
                Ok(IntVal::Big(_)) => {
                    return self.new_big_ll(match small_binary(op, i64::from(x), i64::from(y)) {
                        Ok(IntVal::Big(z)) => z.to_i64().unwrap_or(0),
                        _ => 0,
                    });
                }
                Err(Some(IntErr::NegPower)) => {
                    let fl = self.new_float(f64::from(x))?;
                    return self.binary_op(crate::compile::opcodes::binary::POWER, fl, o::small(y));
                }
                Err(Some(e)) => return Err(self.int_err(e)),
                Err(None) => {
                    // 1.9.4 turns the left operand into a long int and retries
                    lhs = self.new_big_ll(i64::from(x))?;
                }
            }
        }
        let h = self.hold(lhs);
        let r = (|| {
            let (Some(l), Some(r)) = (self.mpz_of(lhs), self.mpz_of(b)) else {
                return Err(self.type_error("unsupported types"));
            };
            if op == Op::Pow && r.neg && !r.is_zero() {
                let (fl, fr) = (l.to_f64(), r.to_f64());
                if fl == 0.0 {
                    return Err(self.exc_msg(R::EZeroDivisionError, "division by zero"));
                }
                return self.new_float(fl.powf(fr));
            }
            if matches!(op, Op::FloorDiv | Op::Mod) && r.is_zero() {
                return Err(self.int_err(IntErr::ZeroDivision));
            }
            if matches!(op, Op::Lshift | Op::Rshift) {
                match r.as_int_checked() {
                    None => return Err(self.int_err(IntErr::Overflow)),
                    Some(n) if n < 0 => return Err(self.int_err(IntErr::NegativeShift)),
                    _ => {}
                }
            }
            self.big_with(|h| long_binary(h, op, &l, &r))
        })();
        self.release(h);
        r
    }

    /// `divmod(a, b)` for ints: a tuple; long operands make two long ints like 1.9.4.
    pub fn int_divmod(&mut self, a: Word, b: Word) -> PR<Word> {
        if let (Some(x), Some(y)) = (crate::ops::int_of(a), crate::ops::int_of(b)) {
            if y == 0 {
                return Err(self.int_err(IntErr::ZeroDivision));
            }
            let t = self.new_tuple(&[o::small(0), o::small(0)])?;
            let (q, r) = (
                small_binary(Op::FloorDiv, i64::from(x), i64::from(y)),
                small_binary(Op::Mod, i64::from(x), i64::from(y)),
            );
            if let (Ok(IntVal::Small(q)), Ok(IntVal::Small(r))) = (q, r) {
                self.wf(t, 2, o::small(q as i32));
                self.wf(t, 3, o::small(r as i32));
                return Ok(t);
            }
            // -2**30 // -1 overflows
            let hq = self.hold(t);
            let qv = self.int_binary(Op::FloorDiv, a, b);
            self.release(hq);
            let qv = qv?;
            self.wf(t, 2, qv);
            let hq = self.hold(t);
            let rv = self.int_binary(Op::Mod, a, b);
            self.release(hq);
            self.wf(t, 3, rv?);
            return Ok(t);
        }
        let (Some(l), Some(r)) = (self.mpz_of(a), self.mpz_of(b)) else {
            return Err(self.type_error("unsupported types"));
        };
        if r.is_zero() {
            return Err(self.int_err(IntErr::ZeroDivision));
        }
        let depth = self.st.heap.root_depth();
        let res = (|| {
            let robj = self.alloc_obj(rom(R::TInt), 4)?;
            self.hold(robj);
            let qobj = self.alloc_obj(rom(R::TInt), 4)?;
            self.hold(qobj);
            let (mut q, mut m) = (Mpz::zero(), Mpz::zero());
            let out = {
                let mut ar = Arena { rt: self };
                divmod(&mut ar, &mut q, &mut m, &l, &r)
            };
            if out.is_err() {
                return Err(rom(R::MemoryErrorObj));
            }
            self.mpz_store(qobj, &q);
            self.mpz_store(robj, &m);
            self.new_tuple(&[qobj, robj])
        })();
        self.release(depth);
        res
    }

    /// `pow(a, b, m)` for ints (`mp_obj_int_pow3`): always a long int.
    pub fn int_pow3(&mut self, a: Word, b: Word, m: Word) -> PR<Word> {
        let ok = |rt: &Self, w: Word| o::is_small(w) || rt.is_big(w);
        if !(ok(self, a) && ok(self, b) && ok(self, m)) {
            return Err(self.type_error("pow() with 3 arguments requires integers"));
        }
        let (Some(l), Some(r), Some(md)) = (self.mpz_of(a), self.mpz_of(b), self.mpz_of(m)) else {
            return Err(self.type_error("pow() with 3 arguments requires integers"));
        };
        if md.is_zero() {
            return Err(self.int_err(IntErr::ZeroDivision));
        }
        self.big_with(|h| {
            let mut dest = Mpz::zero();
            set_from_ll(h, &mut dest, 0)?;
            // small arguments become heap mpz temporaries (mpz_init_from_int), freed after
            let mut temps = Vec::new();
            let mut heapify = |h: &mut Arena<'_, '_>, z: &Mpz| -> Result<Mpz, IntErr> {
                if !z.fixed {
                    return Ok(z.clone());
                }
                let mut t = Mpz::zero();
                set_from_int(h, &mut t, z.to_i64().unwrap_or(0))?;
                temps.push(t.clone());
                Ok(t)
            };
            let l = heapify(h, &l)?;
            let r = heapify(h, &r)?;
            let md = heapify(h, &md)?;
            let out = pow3(h, &mut dest, &l, &r, &md);
            for t in &temps {
                deinit(h, t);
            }
            out?;
            Ok(dest)
        })
    }

    /// Comparison of two ints (any kind): `Ordering`.
    pub fn int_cmp(&self, a: Word, b: Word) -> Option<Ordering> {
        Some(self.mpz_of(a)?.compare(&self.mpz_of(b)?))
    }

    /// Unary `-`, `~` and `abs` of a long int.
    pub fn big_unary(&mut self, a: Word, kind: u8) -> PR<Word> {
        let Some(z) = self.mpz_of(a) else {
            return Err(self.type_error("bad operand"));
        };
        if kind == 2 && !z.neg {
            return Ok(a);
        }
        let h = self.hold(a);
        let r = self.big_with(|h| {
            let mut d = Mpz::zero();
            match kind {
                0 => neg_abs(h, &mut d, &z, false)?,
                1 => not(h, &mut d, &z)?,
                _ => neg_abs(h, &mut d, &z, true)?,
            }
            Ok(d)
        });
        self.release(h);
        r
    }

    /// The text of an int in `base` with a prefix (`0x`...), like `mp_obj_int_formatted`.
    pub fn int_text(&self, w: Word, base: u32, upper: bool, prefix: &str) -> Option<String> {
        Some(self.mpz_of(w)?.to_str_radix(base, upper, prefix))
    }

    /// `mp_parse_num_integer`: `int(text, base)`.
    pub fn parse_int(&mut self, text: &[u8], base: i64) -> PR<Word> {
        if (base != 0 && base < 2) || base > 36 {
            return Err(self.value_error("int() arg 2 must be >= 2 and <= 36"));
        }
        let mut base = base as u32;
        let top = text.len();
        let mut i = 0;
        while i < top && is_space(text[i]) {
            i += 1;
        }
        let mut neg = false;
        if i < top && (text[i] == b'+' || text[i] == b'-') {
            neg = text[i] == b'-';
            i += 1;
        }
        i += parse_base(&text[i..], &mut base);
        let start = i;
        let mut v: i64 = 0;
        let mut big = None;
        while i < top {
            let c = text[i];
            let d = match c {
                b'0'..=b'9' => u32::from(c - b'0'),
                _ if (c | 0x20).is_ascii_lowercase() => u32::from((c | 0x20) - b'a') + 10,
                _ => break,
            };
            if d >= base {
                break;
            }
            v = v * i64::from(base) + i64::from(d);
            if !fits_small(v) {
                // reparse the rest as a long int
                let rest = text[start..].to_vec();
                let b2 = base;
                let mut used = 0;
                let w = self.big_with(|h| {
                    let mut z = Mpz::zero();
                    used = set_from_str(h, &mut z, &rest, neg, b2)?;
                    Ok(z)
                })?;
                i = start + used;
                big = Some(w);
                break;
            }
            i += 1;
        }
        let ok = i != start && {
            let mut j = i;
            while j < top && is_space(text[j]) {
                j += 1;
            }
            j == top
        };
        if !ok {
            let mut rs = String::new();
            crate::ops::repr_str(&String::from_utf8_lossy(&text[start.min(top)..]), &mut rs);
            let msg = alloc::format!("invalid syntax for integer with base {base}: {rs}");
            return Err(self.value_error(&msg));
        }
        match big {
            Some(w) => Ok(w),
            None => Ok(o::small((if neg { -v } else { v }) as i32)),
        }
    }
}

impl Rt<'_> {
    /// `int.to_bytes(len, byteorder)` and the classmethod `int.from_bytes(buf, byteorder)`
    /// (py/objint.c: unsigned; `signed` is ignored like 1.9.4).
    pub(crate) fn int_method(&mut self, r: R, a: crate::runtime::Args<'_>) -> PR<Word> {
        let little = |rt: &Self, w: Word| rt.str_bytes(w).is_some_and(|b| b == b"little");
        if r == R::MIntFromBytes {
            // reached through the type (no self) or an instance (self is an int)
            let skip = usize::from(a.n > 0 && (a.w[0] == rom(R::TInt) || self.is_int(a.w[0])));
            let args = &a.w[skip..a.n];
            if args.len() < 2 || args.len() > 3 {
                return Err(self.type_error("function expected at most 4 arguments"));
            }
            let buf = self.buffer_or_raise(args[0])?;
            let le = little(self, args[1]);
            let mut value: u32 = 0;
            let ordered: Vec<u8> = if le {
                buf.iter().rev().copied().collect()
            } else {
                buf.clone()
            };
            for &b in &ordered {
                if value > (((1u32 << 30) - 1) >> 8) {
                    return self.big_with(|h| {
                        let mut z = Mpz::zero();
                        need_dig(h, &mut z, (buf.len() * 8).div_ceil(DIG_SIZE))?;
                        let mut mag = Vec::new();
                        for chunk in ordered.rchunks(2) {
                            let d = if chunk.len() == 2 {
                                (u16::from(chunk[0]) << 8) | u16::from(chunk[1])
                            } else {
                                u16::from(chunk[0])
                            };
                            mag.push(d);
                        }
                        z.dig = norm(mag);
                        Ok(z)
                    });
                }
                value = (value << 8) | u32::from(b);
            }
            return self.new_int_any(i64::from(value));
        }
        self.arg_count(a, 3, 4)?;
        let n = match crate::ops::int_of(a.w[1]) {
            Some(v) => v,
            None => return Err(self.type_error("can't convert to int")),
        };
        if n < 0 {
            return Err(self.value_error(""));
        }
        let le = little(self, a.w[2]);
        let len = n as usize;
        let Some(z) = self.mpz_of(a.w[0]) else {
            return Err(self.type_error("bad argument"));
        };
        let mut data = alloc::vec![0u8; len];
        if crate::ops::int_of(a.w[0]).is_some() {
            // mp_binary_set_int: the 32-bit two's complement value in min(len, 4) bytes
            let v = z.to_i64().unwrap_or(0) as u32;
            let l = len.min(4);
            for i in 0..l {
                let byte = (v >> (8 * i)) as u8;
                if le {
                    data[i] = byte;
                } else {
                    data[len - 1 - i] = byte;
                }
            }
        } else {
            // mpz_as_bytes: two's complement of the magnitude, at most len bytes
            let bytes = z.twos_complement_le(len);
            for (i, b) in bytes.iter().enumerate() {
                if le {
                    data[i] = *b;
                } else {
                    data[len - 1 - i] = *b;
                }
            }
        }
        self.new_str_heap(R::TBytes, &data)
    }
}

/// The mpz of a long int object on `heap` (`None` for anything else).
pub fn read_big(heap: &crate::heap::Heap, w: Word) -> Option<Mpz> {
    if w == rom(R::IntMaxsize) {
        return Some(Mpz::fixed_from_int(i64::from(i32::MAX)));
    }
    if !(o::is_ptr(w) && heap.contains(w) && heap.read_word(w) == rom(R::TInt)) {
        return None;
    }
    let f1 = heap.field(w, 1);
    let len = heap.field(w, 2) as usize;
    let addr = heap.field(w, 3);
    let mut dig = Vec::with_capacity(len);
    for i in 0..len {
        dig.push(heap.read_u16(addr + 2 * i as Word));
    }
    Some(Mpz {
        neg: f1 & 1 != 0,
        dig,
        alloc: (f1 >> 2) as usize,
        has: addr != 0,
        fixed: f1 & 2 != 0,
        addr,
    })
}

/// The mpz of any int on `heap` (small ints and bools as fixed mpz).
pub fn read_int(heap: &crate::heap::Heap, w: Word) -> Option<Mpz> {
    if let Some(i) = crate::ops::int_of(w) {
        return Some(Mpz::fixed_from_int(i64::from(i)));
    }
    read_big(heap, w)
}

fn is_space(c: u8) -> bool {
    c == b' ' || (b'\t'..=b'\r').contains(&c)
}

/// `mp_parse_num_base`: skips a base prefix (`0x`, and `0o`/`0b` when the base allows it).
fn parse_base(s: &[u8], base: &mut u32) -> usize {
    let at = |i: usize| s.get(i).copied().unwrap_or(0);
    if s.len() > 1 && at(0) == b'0' {
        let c = at(1) | 32;
        if *base == 0 || *base == 16 {
            if c == b'x' {
                *base = 16;
                return 2;
            }
            if *base == 0 && c == b'o' {
                *base = 8;
                return 2;
            }
            if *base == 0 && c == b'b' {
                *base = 2;
                return 2;
            }
        } else if (*base == 8 && c == b'o') || (*base == 2 && c == b'b') {
            return 2;
        }
    }
    if *base == 0 {
        *base = 10;
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn big(v: i128) -> Mpz {
        let mut m = Vec::new();
        let mut u = v.unsigned_abs();
        while u > 0 {
            m.push(u as u16);
            u >>= 16;
        }
        Mpz {
            neg: v < 0,
            dig: m,
            alloc: 8,
            has: true,
            fixed: false,
            addr: 0,
        }
    }

    fn val(z: &Mpz) -> i128 {
        let mut v: i128 = 0;
        for d in z.dig.iter().rev() {
            v = (v << 16) | i128::from(*d);
        }
        if z.neg { -v } else { v }
    }

    const VALUES: [i128; 10] = [
        0,
        1,
        -1,
        7,
        -7,
        65535,
        -65536,
        1 << 40,
        -(1 << 45) + 12345,
        123_456_789_012_345_678,
    ];

    #[test]
    fn operations_match_i128() {
        for &a in &VALUES {
            for &b in &VALUES {
                let (x, y) = (big(a), big(b));
                let r = |op| val(&long_binary(&mut NoHeap, op, &x, &y).unwrap());
                assert_eq!(r(Op::Add), a + b, "{a} + {b}");
                assert_eq!(r(Op::Sub), a - b, "{a} - {b}");
                assert_eq!(r(Op::Mul), a * b, "{a} * {b}");
                assert_eq!(r(Op::And), a & b, "{a} & {b}");
                assert_eq!(r(Op::Or), a | b, "{a} | {b}");
                assert_eq!(r(Op::Xor), a ^ b, "{a} ^ {b}");
                if b != 0 {
                    let q = if a % b != 0 && ((a < 0) != (b < 0)) {
                        a / b - 1
                    } else {
                        a / b
                    };
                    assert_eq!(r(Op::FloorDiv), q, "{a} // {b}");
                    assert_eq!(r(Op::Mod), a - b * q, "{a} % {b}");
                } else {
                    assert_eq!(
                        long_binary(&mut NoHeap, Op::Mod, &x, &y),
                        Err(IntErr::ZeroDivision)
                    );
                }
                assert_eq!(x.compare(&y), a.cmp(&b), "cmp {a} {b}");
            }
            for n in [0usize, 1, 15, 16, 17, 40] {
                let x = big(a);
                let s = big(n as i128);
                assert_eq!(
                    val(&long_binary(&mut NoHeap, Op::Lshift, &x, &s).unwrap()),
                    a << n
                );
                assert_eq!(
                    val(&long_binary(&mut NoHeap, Op::Rshift, &x, &s).unwrap()),
                    a >> n
                );
            }
        }
    }

    #[test]
    fn text_and_parse_round_trip() {
        for &a in &VALUES {
            let z = big(a);
            assert_eq!(z.to_str_radix(10, false, ""), alloc::format!("{a}"));
            let hex = z.to_str_radix(16, false, "");
            let digits = hex.trim_start_matches('-');
            let mut p = Mpz::zero();
            set_from_str(&mut NoHeap, &mut p, digits.as_bytes(), a < 0, 16).unwrap();
            assert_eq!(val(&p), a);
        }
    }

    #[test]
    fn allocation_sizes_follow_mpz_need_dig() {
        // add of two 3-digit numbers of the same sign asks for len + 1 digits
        let x = big(1 << 40);
        let r = long_binary(&mut NoHeap, Op::Add, &x, &x).unwrap();
        assert_eq!(r.alloc, 4);
        // multiplication asks for the sum of the lengths
        let r = long_binary(&mut NoHeap, Op::Mul, &x, &x).unwrap();
        assert_eq!(r.alloc, 6);
        // a promoted small int is made with MPZ_NUM_DIG_FOR_LL digits
        assert_eq!(from_ll(1 << 40).alloc, NUM_DIG_FOR_LL);
        // a shift asks for len + ceil(n / 16)
        let one = Mpz::fixed_from_int(1);
        let r = long_binary(&mut NoHeap, Op::Lshift, &one, &Mpz::fixed_from_int(40)).unwrap();
        assert_eq!(r.alloc, 1 + 3);
        // parsing sizes the array from the text length
        let mut p = Mpz::zero();
        set_from_str(&mut NoHeap, &mut p, b"12345678901234567890", false, 10).unwrap();
        assert_eq!(p.alloc, 20 * 8 / 16 + 1);
    }
}
