//! `%` formatting and `str.format` as in MicroPython 1.9.4 (py/objstr.c `str_modulo_format`,
//! `mp_obj_str_format_helper`; py/mpprint.c `mp_print_strn`, `mp_print_mp_int`,
//! `mp_print_float`), with 1.9.4's error messages.

use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use crate::heap::Word;
use crate::mpz::Mpz;
use crate::obj::{self, R, rom};
use crate::runtime::{Args, PR, Rt, VstrSim};

/// `PF_FLAG_LEFT_ADJUST`
pub const LEFT: u32 = 0x001;
/// `PF_FLAG_SHOW_SIGN`
pub const SHOW_SIGN: u32 = 0x002;
/// `PF_FLAG_SPACE_SIGN`
pub const SPACE_SIGN: u32 = 0x004;
/// `PF_FLAG_SHOW_PREFIX`
pub const SHOW_PREFIX: u32 = 0x010;
/// `PF_FLAG_SHOW_COMMA`
pub const SHOW_COMMA: u32 = 0x020;
/// `PF_FLAG_PAD_AFTER_SIGN`
pub const PAD_AFTER_SIGN: u32 = 0x040;
/// `PF_FLAG_CENTER_ADJUST`
pub const CENTER: u32 = 0x080;
/// `PF_FLAG_ADD_PERCENT`
pub const ADD_PERCENT: u32 = 0x100;
/// `PF_FLAG_SHOW_OCTAL_LETTER`
pub const OCTAL_LETTER: u32 = 0x200;

/// `mp_print_strn`: `s` padded to `width` with `fill` (a 0 fill is a space).
pub fn print_strn(out: &mut Vec<u8>, s: &[u8], flags: u32, fill: u8, width: i32) {
    let fill = if fill == 0 { b' ' } else { fill };
    let pad = width - s.len() as i32;
    let (mut left, mut right) = (0, 0);
    if flags & CENTER != 0 {
        left = pad / 2;
        right = pad - left;
    } else if flags & LEFT != 0 {
        right = pad;
    } else {
        left = pad;
    }
    for _ in 0..left.max(0) {
        out.push(fill);
    }
    out.extend_from_slice(s);
    for _ in 0..right.max(0) {
        out.push(fill);
    }
}

/// `mp_obj_int_formatted`: sign, prefix, digits (with a comma every 3 digits if asked).
fn int_formatted(z: &Mpz, base: u32, prefix: &str, base_char: u8, comma: bool) -> Vec<u8> {
    let digits = z.to_str_radix(base, base_char == b'A', "");
    let (neg, digits) = match digits.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, digits.as_str()),
    };
    let mut d: Vec<u8> = digits.bytes().collect();
    if comma {
        let mut with = Vec::new();
        for (i, c) in d.iter().enumerate() {
            if i > 0 && (d.len() - i).is_multiple_of(3) {
                with.push(b',');
            }
            with.push(*c);
        }
        d = with;
    }
    let mut out = Vec::new();
    if neg {
        out.push(b'-');
    }
    out.extend_from_slice(prefix.as_bytes());
    out.extend(d);
    out
}

/// `mp_print_mp_int`.
#[allow(clippy::too_many_arguments)]
pub fn print_int(
    out: &mut Vec<u8>,
    z: &Mpz,
    base: u32,
    base_char: u8,
    mut flags: u32,
    mut fill: u8,
    mut width: i32,
    mut prec: i32,
) {
    if flags & (LEFT | CENTER) == 0 && fill == b'0' {
        if prec > width {
            width = prec;
        }
        prec = 0;
    }
    let mut prefix = String::new();
    let nonneg = z.is_zero() || !z.neg;
    if nonneg {
        if flags & SHOW_SIGN != 0 {
            prefix.push('+');
        } else if flags & SPACE_SIGN != 0 {
            prefix.push(' ');
        }
    }
    if flags & SHOW_PREFIX != 0 {
        let up = base_char == b'A';
        match base {
            2 => prefix.push_str(if up { "0B" } else { "0b" }),
            8 => {
                prefix.push('0');
                if flags & OCTAL_LETTER != 0 {
                    prefix.push(if up { 'O' } else { 'o' });
                }
            }
            16 => prefix.push_str(if up { "0X" } else { "0x" }),
            _ => {}
        }
    }
    let comma = flags & SHOW_COMMA != 0;
    if prec > 1 {
        flags |= PAD_AFTER_SIGN;
    }
    let mut sign = 0u8;
    let mut s = if flags & PAD_AFTER_SIGN != 0 {
        int_formatted(z, base, "", base_char, comma)
    } else {
        int_formatted(z, base, &prefix, base_char, comma)
    };
    if flags & PAD_AFTER_SIGN != 0 && s.first() == Some(&b'-') {
        sign = b'-';
        s.remove(0);
    }
    let (mut before, mut after) = (0, 0);
    if prec > 1 {
        let mut pw = (s.len() as i32).max(prec);
        if flags & PAD_AFTER_SIGN != 0 {
            if sign != 0 {
                pw += 1;
            }
            pw += prefix.len() as i32;
        }
        if pw < width {
            if flags & LEFT != 0 {
                after = width - pw;
            } else {
                before = width - pw;
            }
        }
        fill = b'0';
        flags &= !LEFT;
    }
    print_strn(out, b"", 0, b' ', before);
    if flags & PAD_AFTER_SIGN != 0 {
        if sign != 0 {
            out.push(sign);
            width -= 1;
        }
        if !prefix.is_empty() {
            out.extend_from_slice(prefix.as_bytes());
            width -= prefix.len() as i32;
        }
    }
    if prec > 1 {
        width = prec;
    }
    print_strn(out, &s, flags, fill, width);
    print_strn(out, b"", 0, b' ', after);
}

/// `mp_format_float` (py/formatfloat.c, double precision) into a buffer of `buf_size` bytes:
/// 1.9.4's own digit loop (repeated multiplication by powers of ten, then a half-up rounding
/// of the last digit), not a correctly rounded conversion, so the digits match 1.9.4's.
pub fn mp_format_float(mut f: f64, buf_size: usize, fmt: u8, mut prec: i32, sign: u8) -> Vec<u8> {
    const POS: [f64; 9] = [1e256, 1e128, 1e64, 1e32, 1e16, 1e8, 1e4, 1e2, 1e1];
    const NEG: [f64; 9] = [1e-256, 1e-128, 1e-64, 1e-32, 1e-16, 1e-8, 1e-4, 1e-2, 1e-1];
    const ROUND_TO_ONE: f64 = 0.999999999995;
    const MIN_BUF: i32 = 7;
    let mut s: Vec<u8> = Vec::new();
    if f.is_sign_negative() && !f.is_nan() {
        s.push(b'-');
        f = -f;
    } else if sign != 0 {
        s.push(sign);
    }
    let buf_remaining = buf_size as i32 - 1 - s.len() as i32;
    let uc = fmt & 0x20;
    if f.is_infinite() {
        s.extend_from_slice(&[b'I' ^ uc, b'N' ^ uc, b'F' ^ uc]);
        return s;
    }
    if f.is_nan() {
        s.extend_from_slice(&[b'N' ^ uc, b'A' ^ uc, b'N' ^ uc]);
        return s;
    }
    if prec < 0 {
        prec = 6;
    }
    let e_char = b'E' | (fmt & 0x20);
    let mut fmt = fmt | 0x20;
    let org_fmt = fmt;
    if fmt == b'g' && prec == 0 {
        prec = 1;
    }
    let mut e: i32 = 0;
    let mut dec: i32 = 0;
    let mut e_sign: u8 = 0;
    let mut num_digits: i32 = 0;
    if f == 0.0 {
        if fmt == b'f' {
            if prec + 2 > buf_remaining {
                prec = buf_remaining - 2;
            }
            num_digits = prec + 1;
        } else {
            if prec + 6 > buf_remaining {
                prec = buf_remaining - 6;
            }
            if fmt == b'e' {
                e_sign = b'+';
            }
        }
    } else if f < 1.0 {
        let first_dig = if f >= ROUND_TO_ONE { b'1' } else { b'0' };
        let mut e1 = 256;
        for k in 0..9 {
            if NEG[k] > f {
                e += e1;
                f *= POS[k];
            }
            e1 >>= 1;
        }
        let mut e_sign_char = b'-';
        if (ROUND_TO_ONE..1.0).contains(&f) {
            f = 1.0;
            if e == 0 {
                e_sign_char = b'+';
            }
        } else if f < 1.0 {
            e += 1;
            f *= 10.0;
        }
        if fmt == b'f' || (fmt == b'g' && e <= 4) {
            fmt = b'f';
            dec = -1;
            s.push(first_dig);
            if org_fmt == b'g' {
                prec += e - 1;
            }
            if prec + 2 > buf_remaining {
                prec = buf_remaining - 2;
            }
            num_digits = prec;
            if num_digits != 0 {
                s.push(b'.');
                loop {
                    e -= 1;
                    if e == 0 || num_digits == 0 {
                        break;
                    }
                    s.push(b'0');
                    num_digits -= 1;
                }
            }
        } else {
            e_sign = e_sign_char;
            dec = 0;
            if prec > buf_remaining - MIN_BUF {
                prec = buf_remaining - MIN_BUF;
                if fmt == b'g' {
                    prec += 1;
                }
            }
        }
    } else {
        let mut e1 = 256;
        for k in 0..9 {
            if POS[k] <= f {
                e += e1;
                f *= NEG[k];
            }
            e1 >>= 1;
        }
        if (f as i32) >= 10 {
            e += 1;
            f *= 0.1;
        }
        if fmt == b'f' {
            if e >= buf_remaining {
                fmt = b'e';
            } else if e + prec + 2 > buf_remaining {
                prec = buf_remaining - e - 2;
                if prec < 0 {
                    prec += 1;
                }
            }
        }
        if fmt == b'e' && prec > buf_remaining - MIN_BUF {
            prec = buf_remaining - MIN_BUF;
        }
        if fmt == b'g' && prec + (MIN_BUF - 1) > buf_remaining {
            prec = buf_remaining - (MIN_BUF - 1);
        }
        if fmt == b'g' && e < prec {
            fmt = b'f';
            prec -= e + 1;
        }
        if fmt == b'f' {
            dec = e;
            num_digits = prec + e + 1;
        } else {
            e_sign = b'+';
        }
    }
    if prec < 0 {
        prec = 0;
    }
    if fmt == b'e' {
        num_digits = prec + 1;
    } else if fmt == b'g' {
        if prec == 0 {
            prec = 1;
        }
        num_digits = prec;
    }
    for _ in 0..num_digits.max(0) {
        let d = f as i32;
        s.push(if d < 0 {
            b'0'
        } else {
            b'0'.wrapping_add(d as u8)
        });
        if dec == 0 && prec > 0 {
            s.push(b'.');
        }
        f -= f64::from(d);
        f *= 10.0;
        dec -= 1;
    }
    if (org_fmt != b'f' || e <= num_digits) && f >= 5.0 && !s.is_empty() {
        let mut rs = s.len() - 1;
        loop {
            if s[rs] == b'.' {
                if rs == 0 {
                    break;
                }
                rs -= 1;
                continue;
            }
            if !s[rs].is_ascii_digit() {
                rs += 1;
                break;
            }
            if s[rs] < b'9' {
                s[rs] += 1;
                break;
            }
            s[rs] = b'0';
            if rs == 0 {
                break;
            }
            rs -= 1;
        }
        if rs < s.len() && s[rs] == b'0' {
            if s.get(rs + 1) == Some(&b'.') && fmt != b'f' {
                s[rs] = b'.';
                s[rs + 1] = b'0';
                if e_sign == b'-' {
                    e -= 1;
                    if e == 0 {
                        e_sign = b'+';
                    }
                } else {
                    e += 1;
                }
                s.insert(rs, b'1');
                s.pop();
            } else {
                s.insert(rs, b'1');
            }
        }
    }
    if org_fmt == b'g' && prec > 0 {
        while s.last() == Some(&b'0') {
            s.pop();
        }
        if s.last() == Some(&b'.') {
            s.pop();
        }
    }
    if e_sign != 0 {
        s.push(e_char);
        s.push(e_sign);
        if e >= 100 {
            s.push(b'0' + (e / 100) as u8);
        }
        s.push(b'0' + ((e / 10) % 10) as u8);
        s.push(b'0' + (e % 10) as u8);
    }
    s
}

/// `mp_format_float` for the `e`/`f`/`g` families (`prec` < 0 means 6) with a 32-byte buffer,
/// `sign` (`+`, ` ` or 0) in front of non-negative values.
pub fn format_float(v: f64, fmt: u8, prec: i32, sign: u8) -> String {
    String::from_utf8(mp_format_float(v, 32, fmt, prec, sign)).unwrap_or_default()
}

/// `float_print`: `%.16g` by 1.9.4's algorithm, with `.0` added when there is no `.`, `e` or
/// `n` (inf/nan).
pub fn float_repr(v: f64) -> String {
    let mut s = format_float(v, b'g', 16, 0);
    if !s.contains(['.', 'e', 'n']) {
        s.push_str(".0");
    }
    s
}

/// `mp_print_float`.
pub fn print_float(
    out: &mut Vec<u8>,
    v: f64,
    fmt: u8,
    flags: u32,
    fill: u8,
    mut width: i32,
    prec: i32,
) {
    let sign = if flags & SHOW_SIGN != 0 {
        b'+'
    } else if flags & SPACE_SIGN != 0 {
        b' '
    } else {
        0
    };
    let mut s = format_float(v, fmt, prec, sign).into_bytes();
    if flags & ADD_PERCENT != 0 {
        s.push(b'%');
    }
    let mut body = &s[..];
    if flags & PAD_AFTER_SIGN != 0 && s.first().is_some_and(|c| *c < b'0') {
        out.push(s[0]);
        body = &s[1..];
        width -= 1;
    }
    print_strn(out, body, flags, fill, width);
}

fn str_to_int(s: &[u8], i: &mut usize) -> i32 {
    let mut v = 0i32;
    while *i < s.len() && s[*i].is_ascii_digit() {
        v = v.saturating_mul(10).saturating_add(i32::from(s[*i] - b'0'));
        *i += 1;
    }
    v
}

impl Rt<'_> {
    fn unknown_code(&mut self, ty: u8, type_name: &str) -> Word {
        let ch = String::from(ty as char);
        self.exc_varg(
            R::EValueError,
            "unknown format code '%c' for object of type '%s'",
            &[&ch, type_name],
        )
    }

    fn looks_integer(&self, w: Word) -> bool {
        self.is_int(w)
    }

    fn looks_numeric(&self, w: Word) -> bool {
        self.is_int(w) || self.type_of(w) == rom(R::TFloat)
    }

    /// `mp_obj_get_int` for a format argument.
    fn fmt_get_int(&mut self, w: Word) -> PR<i64> {
        if let Some(z) = self.mpz_of(w) {
            return match z.as_int_checked() {
                Some(v) => Ok(i64::from(v)),
                None => Err(self.exc_msg(
                    R::EOverflowError,
                    "overflow converting long int to machine word",
                )),
            };
        }
        let n = self.type_name(w);
        Err(self.exc_varg(R::ETypeError, "can't convert %s to int", &[&n]))
    }

    /// The int `mp_print_mp_int` makes of an argument: ints as they are, bools and the
    /// rest through `mp_obj_get_int` (a float is a TypeError).
    fn fmt_int_strict(&mut self, w: Word) -> PR<Mpz> {
        if let Some(z) = self.mpz_of(w) {
            return Ok(z);
        }
        let v = self.fmt_get_int(w)?;
        Ok(Mpz::fixed_from_int(v))
    }

    /// The int an argument stands for in `%d` (`arg_as_int`: floats are truncated).
    fn fmt_int_arg(&mut self, w: Word) -> PR<Mpz> {
        if let Some(z) = self.mpz_of(w) {
            return Ok(z);
        }
        if self.type_of(w) == rom(R::TFloat) {
            let f = self.float_value(w);
            let i = self.new_int_from_f64(f)?;
            return Ok(self.mpz_of(i).unwrap_or_else(Mpz::zero));
        }
        let v = self.fmt_get_int(w)?;
        Ok(Mpz::fixed_from_int(v))
    }

    /// The text `print(w)` / `repr(w)` writes, as bytes.
    fn fmt_text(&mut self, w: Word, repr: bool, raw_bytes: bool) -> Vec<u8> {
        if raw_bytes && let Some(b) = self.str_bytes(w) {
            return b;
        }
        if !repr && self.is_str(w) {
            return self.str_bytes(w).unwrap_or_default();
        }
        let s = if repr { self.repr(w) } else { self.to_str(w) };
        s.into_bytes()
    }

    /// `str_modulo_format`: `pattern % args` for a str or bytes pattern.
    pub fn percent_format(&mut self, pattern: Word, rhs: Word) -> PR<Word> {
        self.take_print_err(|rt| rt.percent_format_checked(pattern, rhs))
    }

    fn percent_format_checked(&mut self, pattern: Word, rhs: Word) -> PR<Word> {
        let is_bytes = self.type_of(pattern) == rom(R::TBytes);
        let pat = self.str_bytes(pattern).unwrap_or_default();
        let t = self.type_of(rhs);
        let (args, dict) = if t == rom(R::TTuple) || rhs == rom(R::EmptyTuple) {
            (self.seq_items(rhs), None)
        } else if t == rom(R::TDict) {
            (alloc::vec![rhs], Some(rhs))
        } else {
            (alloc::vec![rhs], None)
        };
        let base = self.vlen();
        for w in &args {
            self.vpush(*w);
        }
        // str_modulo_format prints into a 16-byte vstr: byte by byte for the literal text,
        // one write per directive here
        let r = self.vstr_new(16).and_then(|mut v| {
            let out = self.percent_format_inner(&pat, &args, dict, is_bytes, &mut v)?;
            let ty = if is_bytes { R::TBytes } else { R::TStr };
            self.vstr_finish(v, ty, &out)
        });
        self.vtrunc(base);
        r
    }

    fn percent_format_inner(
        &mut self,
        s: &[u8],
        args: &[Word],
        dict: Option<Word>,
        is_bytes: bool,
        v: &mut VstrSim,
    ) -> PR<Vec<u8>> {
        let mut out = Vec::new();
        // bytes of `out` already written into `v`
        let mut written = 0usize;
        // the 16-byte vstr a %s/%r argument was printed into, until its text is written
        let mut arg_tmp: Option<VstrSim> = None;
        let mut ai = 0usize;
        let top = s.len();
        let mut i = 0;
        let incomplete = |rt: &mut Self| rt.value_error("incomplete format");
        let not_enough = |rt: &mut Self| rt.type_error("not enough arguments for format string");
        while i < top {
            if s[i] != b'%' {
                out.push(s[i]);
                self.vstr_write(v, 1)?;
                written += 1;
                i += 1;
                continue;
            }
            i += 1;
            if i >= top {
                return Err(incomplete(self));
            }
            if s[i] == b'%' {
                out.push(b'%');
                self.vstr_write(v, 1)?;
                written += 1;
                i += 1;
                continue;
            }
            let mut arg = None;
            if s[i] == b'(' {
                let Some(d) = dict else {
                    return Err(self.type_error("format requires a dict"));
                };
                ai = 1;
                i += 1;
                let k0 = i;
                while i < top && s[i] != b')' {
                    i += 1;
                }
                if i >= top {
                    return Err(self.value_error("incomplete format key"));
                }
                let q = self.intern(&s[k0..i])?;
                let key = obj::qstr_obj(q);
                match self.dict_get(d, key) {
                    Some(v) => arg = Some(v),
                    None => return Err(self.new_exc(rom(R::EKeyError), &[key])),
                }
                i += 1;
            }
            let mut flags = 0u32;
            let mut fill = b' ';
            let mut alt = 0u32;
            while i < top {
                match s[i] {
                    b'-' => flags |= LEFT,
                    b'+' => flags |= SHOW_SIGN,
                    b' ' => flags |= SPACE_SIGN,
                    b'#' => alt = SHOW_PREFIX,
                    b'0' => {
                        flags |= PAD_AFTER_SIGN;
                        fill = b'0';
                    }
                    _ => break,
                }
                i += 1;
            }
            let mut width = 0;
            if i < top {
                if s[i] == b'*' {
                    if ai >= args.len() {
                        return Err(not_enough(self));
                    }
                    width = self.fmt_get_int(args[ai])? as i32;
                    ai += 1;
                    i += 1;
                } else {
                    width = str_to_int(s, &mut i);
                }
            }
            let mut prec = -1;
            if i < top && s[i] == b'.' {
                i += 1;
                if i < top {
                    if s[i] == b'*' {
                        if ai >= args.len() {
                            return Err(not_enough(self));
                        }
                        prec = self.fmt_get_int(args[ai])? as i32;
                        ai += 1;
                        i += 1;
                    } else {
                        prec = str_to_int(s, &mut i);
                    }
                }
            }
            if i >= top {
                return Err(incomplete(self));
            }
            let arg = match arg {
                Some(a) => a,
                None => {
                    if ai >= args.len() {
                        return Err(not_enough(self));
                    }
                    ai += 1;
                    args[ai - 1]
                }
            };
            let c = s[i];
            match c {
                b'c' => {
                    if self.is_str(arg) {
                        let b = self.str_bytes(arg).unwrap_or_default();
                        if b.len() != 1 {
                            return Err(self.type_error("%c requires int or char"));
                        }
                        print_strn(&mut out, &b, flags, b' ', width);
                    } else if self.looks_integer(arg) {
                        let ch = self.fmt_get_int(arg)? as u8;
                        print_strn(&mut out, &[ch], flags, b' ', width);
                    } else {
                        return Err(self.type_error("integer required"));
                    }
                }
                b'd' | b'i' | b'u' => {
                    let z = self.fmt_int_arg(arg)?;
                    self.int_fmt_temps(arg, &z, 10, flags, fill, prec)?;
                    print_int(&mut out, &z, 10, b'a', flags, fill, width, prec);
                }
                b'e' | b'E' | b'f' | b'F' | b'g' | b'G' => {
                    let f = self.get_float(arg)?;
                    print_float(&mut out, f, c, flags, fill, width, prec);
                }
                b'o' => {
                    if alt != 0 {
                        flags |= SHOW_PREFIX | OCTAL_LETTER;
                    }
                    // mp_print_mp_int takes the argument as it is (no arg_as_int)
                    let z = self.fmt_int_strict(arg)?;
                    self.int_fmt_temps(arg, &z, 8, flags, fill, prec)?;
                    print_int(&mut out, &z, 8, b'a', flags, fill, width, prec);
                }
                b'r' | b's' => {
                    let raw = c == b's' && is_bytes && self.type_of(arg) == rom(R::TBytes);
                    // the argument is printed into a 16-byte vstr of its own, cleared after
                    let mut tmp = self.vstr_new(16)?;
                    let t = self.fmt_text(arg, c == b'r', raw);
                    let pieces = if raw {
                        vec![t.len()]
                    } else {
                        self.printed_pieces(arg, t.len(), c == b'r')
                    };
                    for p in pieces {
                        self.vstr_write(&mut tmp, p)?;
                    }
                    // cleared once its text is in the result (after the directive's write)
                    arg_tmp = Some(tmp);
                    let mut n = t.len();
                    if prec >= 0 && (prec as usize) < n {
                        n = prec as usize;
                    }
                    print_strn(&mut out, &t[..n], flags, b' ', width);
                }
                b'x' | b'X' => {
                    let z = self.fmt_int_strict(arg)?;
                    let bc = if c == b'X' { b'A' } else { b'a' };
                    self.int_fmt_temps(arg, &z, 16, flags | alt, fill, prec)?;
                    print_int(&mut out, &z, 16, bc, flags | alt, fill, width, prec);
                }
                _ => {
                    let (ch, hex, idx) =
                        (String::from(c as char), format!("{c:x}"), format!("{i}"));
                    return Err(self.exc_varg(
                        R::EValueError,
                        "unsupported format character '%c' (0x%x) at index %d",
                        &[&ch, &hex, &idx],
                    ));
                }
            }
            // the directive's output, as one write
            let n = out.len() - written;
            let r = self.vstr_write(v, n);
            self.int_fmt_done();
            if let Some(tmp) = arg_tmp.take() {
                self.vstr_free(tmp);
            }
            r?;
            written = out.len();
            i += 1;
        }
        if ai != args.len() {
            return Err(self.type_error("not all arguments converted during string formatting"));
        }
        Ok(out)
    }

    /// `mp_print_mp_int`'s heap: when its 16-byte stack buffer is too small for
    /// `mp_int_format_size` (32 bits for a small int, 16 bits per digit for a long int), a
    /// buffer of that size, kept in `int_fmt_buf` (rooted on the value stack) until the
    /// caller has written the output ([`Rt::int_fmt_done`]); for a long int with digits,
    /// `mpz_as_str_inpl`'s copy of them, made and freed at once.
    #[allow(clippy::too_many_arguments)]
    fn int_fmt_temps(
        &mut self,
        arg: Word,
        z: &Mpz,
        base: u32,
        mut flags: u32,
        fill: u8,
        mut prec: i32,
    ) -> PR<()> {
        if flags & (LEFT | CENTER) == 0 && fill == b'0' {
            prec = 0;
        }
        if prec > 1 {
            flags |= PAD_AFTER_SIGN;
        }
        let prefix_len = if flags & PAD_AFTER_SIGN != 0 {
            0
        } else {
            let mut n = 0;
            if (z.is_zero() || !z.neg) && flags & (SHOW_SIGN | SPACE_SIGN) != 0 {
                n += 1;
            }
            if flags & SHOW_PREFIX != 0 {
                n += match base {
                    2 | 16 => 2,
                    8 if flags & OCTAL_LETTER != 0 => 2,
                    8 => 1,
                    _ => 0,
                };
            }
            n
        };
        // the int being printed is a long int object (a float argument of %d becomes one
        // only when it does not fit a small int)
        let long = if self.is_big(arg) {
            true
        } else if self.is_int(arg) {
            false
        } else {
            let mag = z
                .dig
                .iter()
                .rev()
                .fold(0u64, |m, d| m.saturating_mul(1 << 16) | u64::from(*d));
            z.dig.len() > 2 || mag >= 1 << 30
        };
        let bits = if long { z.dig.len() * 16 } else { 32 };
        let log2 = match base {
            2 => 1,
            16 => 4,
            _ => 3,
        };
        let digits = bits / log2 + 1;
        let commas = if flags & SHOW_COMMA != 0 {
            digits / 3
        } else {
            0
        };
        let needed = digits + commas + prefix_len + 2;
        if needed > 16 {
            let b = self.alloc(needed)?;
            self.vpush(b);
            self.st.int_fmt_buf = b;
        }
        if long && !z.dig.is_empty() {
            let d = self.alloc(z.dig.len() * 2)?;
            self.st.heap.free(d);
        }
        Ok(())
    }

    /// The end of `mp_print_mp_int`: its heap buffer, if it needed one, is freed.
    fn int_fmt_done(&mut self) {
        let b = core::mem::replace(&mut self.st.int_fmt_buf, 0);
        if b != 0 {
            self.st.heap.free(b);
        }
    }

    /// `str.format(*args, **kwargs)` (`mp_obj_str_format`); `a.w[0]` is the format string.
    pub fn str_format(&mut self, a: Args<'_>) -> PR<Word> {
        self.take_print_err(|rt| rt.str_format_checked(a))
    }

    fn str_format_checked(&mut self, a: Args<'_>) -> PR<Word> {
        let pat = self.str_bytes(a.w[0]).unwrap_or_default();
        let mut arg_i: i32 = 0;
        // mp_obj_str_format prints into a 16-byte vstr made first (the writes are taken as
        // one here)
        let base = self.vlen();
        let r = self.vstr_new(16).and_then(|mut v| {
            let out = self.format_helper(&pat, &mut arg_i, a, &mut v)?;
            self.vstr_finish(v, R::TStr, &out)
        });
        self.vtrunc(base);
        r
    }

    /// `mp_obj_str_format_helper`: the text, written into `v` as 1.9.4 writes it (literal
    /// text byte by byte, each field's output as one write).
    fn format_helper(
        &mut self,
        s: &[u8],
        arg_i: &mut i32,
        a: Args<'_>,
        v: &mut VstrSim,
    ) -> PR<Vec<u8>> {
        let n_args = a.n;
        let mut out = Vec::new();
        let top = s.len();
        let mut i = 0;
        while i < top {
            if s[i] == b'}' {
                i += 1;
                if i < top && s[i] == b'}' {
                    out.push(b'}');
                    self.vstr_write(v, 1)?;
                    i += 1;
                    continue;
                }
                return Err(self.value_error("single '}' encountered in format string"));
            }
            if s[i] != b'{' {
                out.push(s[i]);
                self.vstr_write(v, 1)?;
                i += 1;
                continue;
            }
            i += 1;
            if i < top && s[i] == b'{' {
                out.push(b'{');
                self.vstr_write(v, 1)?;
                i += 1;
                continue;
            }
            let mut field: Option<(usize, usize)> = None;
            if i < top && !matches!(s[i], b'}' | b'!' | b':') {
                let f0 = i;
                while i < top && !matches!(s[i], b'}' | b'!' | b':') {
                    i += 1;
                }
                field = Some((f0, i));
            }
            let mut conversion = 0u8;
            if i < top && s[i] == b'!' {
                i += 1;
                if i < top && (s[i] == b'r' || s[i] == b's') {
                    conversion = s[i];
                    i += 1;
                } else if i >= top {
                    return Err(
                        self.value_error("end of format while looking for conversion specifier")
                    );
                } else {
                    let ch = String::from(s[i] as char);
                    return Err(self.exc_varg(
                        R::EValueError,
                        "unknown conversion specifier %c",
                        &[&ch],
                    ));
                }
            }
            let mut spec: Option<(usize, usize)> = None;
            if i < top && s[i] == b':' {
                i += 1;
                if i < top && s[i] != b'}' {
                    let s0 = i;
                    let mut nest = 1;
                    while i < top {
                        if s[i] == b'{' {
                            nest += 1;
                        } else if s[i] == b'}' {
                            nest -= 1;
                            if nest == 0 {
                                break;
                            }
                        }
                        i += 1;
                    }
                    spec = Some((s0, i));
                }
            }
            if i >= top {
                return Err(self.value_error("unmatched '{' in format"));
            }
            if s[i] != b'}' {
                return Err(self.value_error("expected ':' after format specifier"));
            }
            let mut arg;
            if let Some((f0, f1)) = field {
                if s[f0].is_ascii_digit() {
                    if *arg_i > 0 {
                        return Err(self.value_error(
                            "can't switch from automatic field numbering to manual field specification",
                        ));
                    }
                    let mut j = f0;
                    let idx = str_to_int(s, &mut j);
                    if idx as usize >= n_args.saturating_sub(1) {
                        return Err(self.exc_msg(R::EIndexError, "tuple index out of range"));
                    }
                    arg = a.w[idx as usize + 1];
                    *arg_i = -1;
                    if j < f1 {
                        return Err(self.not_impl("attributes not supported yet"));
                    }
                } else {
                    let mut j = f0;
                    while j < f1 && s[j] != b'.' && s[j] != b'[' {
                        j += 1;
                    }
                    let name = String::from_utf8_lossy(&s[f0..j]).into_owned();
                    match self.kwarg(a, &name) {
                        Some(v) => arg = v,
                        None => {
                            let k = self.new_str(name.as_bytes())?;
                            return Err(self.new_exc(rom(R::EKeyError), &[k]));
                        }
                    }
                    if j < f1 {
                        return Err(self.not_impl("attributes not supported yet"));
                    }
                }
            } else {
                if *arg_i < 0 {
                    return Err(self.value_error(
                        "can't switch from manual field specification to automatic field numbering",
                    ));
                }
                if *arg_i as usize >= n_args.saturating_sub(1) {
                    return Err(self.exc_msg(R::EIndexError, "tuple index out of range"));
                }
                arg = a.w[*arg_i as usize + 1];
                *arg_i += 1;
            }
            i += 1; // the closing '}'
            if spec.is_none() && conversion == 0 {
                conversion = b's';
            }
            let base = self.vlen();
            if conversion != 0 {
                let t = self.fmt_text(arg, conversion == b'r', false);
                // str_format prints the argument into a 16-byte vstr of its own
                let pieces = self.printed_pieces(arg, t.len(), conversion == b'r');
                arg = self.new_str_printed(&t, &pieces)?;
                self.vpush(arg);
            }
            let before = out.len();
            let r = self.format_one(s, spec, arg, arg_i, a, &mut out);
            let r = r.and_then(|()| self.vstr_write(v, out.len() - before));
            self.int_fmt_done();
            self.vtrunc(base);
            r?;
        }
        Ok(out)
    }

    fn format_one(
        &mut self,
        s: &[u8],
        spec: Option<(usize, usize)>,
        arg: Word,
        arg_i: &mut i32,
        a: Args<'_>,
        out: &mut Vec<u8>,
    ) -> PR<()> {
        let mut fill = 0u8;
        let mut align = 0u8;
        let mut width = -1;
        let mut precision = -1;
        let mut ty = 0u8;
        let mut flags = 0u32;
        let is_align = |c: u8| matches!(c, b'<' | b'>' | b'=' | b'^');
        if let Some((s0, s1)) = spec {
            // the spec is formatted into a 16-byte vstr of its own, cleared once parsed
            let vbase = self.vlen();
            let mut sv = self.vstr_new(16)?;
            let sp = self.format_helper(&s[s0..s1], arg_i, a, &mut sv);
            let sp = match sp {
                Ok(sp) => sp,
                Err(e) => {
                    self.vtrunc(vbase);
                    return Err(e);
                }
            };
            if sv.len == sv.alloc {
                // vstr_null_terminated_str adds a byte when full
                self.vstr_write(&mut sv, 1)?;
            }
            self.vstr_free(sv);
            self.vtrunc(vbase);
            let at = |k: usize| sp.get(k).copied().unwrap_or(0);
            let mut k = 0;
            if is_align(at(0)) {
                align = at(0);
                k = 1;
            } else if at(0) != 0 && is_align(at(1)) {
                fill = at(0);
                align = at(1);
                k = 2;
            }
            if matches!(at(k), b'+' | b'-' | b' ') {
                if at(k) == b'+' {
                    flags |= SHOW_SIGN;
                } else if at(k) == b' ' {
                    flags |= SPACE_SIGN;
                }
                k += 1;
            }
            if at(k) == b'#' {
                flags |= SHOW_PREFIX;
                k += 1;
            }
            if at(k) == b'0' {
                if align == 0 {
                    align = b'=';
                }
                if fill == 0 {
                    fill = b'0';
                }
            }
            let w0 = k;
            let wv = str_to_int(&sp, &mut k);
            if k > w0 {
                width = wv;
            }
            if at(k) == b',' {
                flags |= SHOW_COMMA;
                k += 1;
            }
            if at(k) == b'.' {
                k += 1;
                let p0 = k;
                let pv = str_to_int(&sp, &mut k);
                if k > p0 {
                    precision = pv;
                }
            }
            if b"bcdeEfFgGnosxX%".contains(&at(k)) && at(k) != 0 {
                ty = at(k);
                k += 1;
            }
            if k < sp.len() {
                return Err(self.value_error("invalid format specifier"));
            }
        }
        if align == 0 {
            align = if self.looks_numeric(arg) { b'>' } else { b'<' };
        }
        if fill == 0 {
            fill = b' ';
        }
        if flags & (SHOW_SIGN | SPACE_SIGN) != 0 {
            if ty == b's' {
                return Err(self.value_error("sign not allowed in string format specifier"));
            }
            if ty == b'c' {
                return Err(self.value_error("sign not allowed with integer format specifier 'c'"));
            }
        }
        match align {
            b'<' => flags |= LEFT,
            b'=' => flags |= PAD_AFTER_SIGN,
            b'^' => flags |= CENTER,
            _ => {}
        }
        if self.looks_integer(arg) {
            let z = self.mpz_of(arg).unwrap_or_else(Mpz::zero);
            match ty {
                b'b' => {
                    self.int_fmt_temps(arg, &z, 2, flags, fill, 0)?;
                    print_int(out, &z, 2, b'a', flags, fill, width, 0);
                    return Ok(());
                }
                b'c' => {
                    let ch = self.fmt_get_int(arg)? as u8;
                    print_strn(out, &[ch], flags, fill, width);
                    return Ok(());
                }
                0 | b'n' | b'd' => {
                    self.int_fmt_temps(arg, &z, 10, flags, fill, 0)?;
                    print_int(out, &z, 10, b'a', flags, fill, width, 0);
                    return Ok(());
                }
                b'o' => {
                    if flags & SHOW_PREFIX != 0 {
                        flags |= OCTAL_LETTER;
                    }
                    {
                        self.int_fmt_temps(arg, &z, 8, flags, fill, 0)?;
                        print_int(out, &z, 8, b'a', flags, fill, width, 0);
                        return Ok(());
                    }
                }
                b'x' | b'X' => {
                    let bc = if ty == b'X' { b'A' } else { b'a' };
                    {
                        self.int_fmt_temps(arg, &z, 16, flags, fill, 0)?;
                        print_int(out, &z, 16, bc, flags, fill, width, 0);
                        return Ok(());
                    }
                }
                b'e' | b'E' | b'f' | b'F' | b'g' | b'G' | b'%' => {}
                _ => {
                    let n = self.type_name(arg);
                    return Err(self.unknown_code(ty, &n));
                }
            }
        }
        if self.looks_numeric(arg) {
            if ty == 0 || ty == b'n' {
                ty = b'g';
            }
            let f = self.get_float(arg)?;
            match ty {
                b'e' | b'E' | b'f' | b'F' | b'g' | b'G' => {
                    print_float(out, f, ty, flags, fill, width, precision)
                }
                b'%' => print_float(
                    out,
                    f * 100.0,
                    b'f',
                    flags | ADD_PERCENT,
                    fill,
                    width,
                    precision,
                ),
                _ => {
                    return Err(self.unknown_code(ty, "float"));
                }
            }
            return Ok(());
        }
        if align == b'=' {
            return Err(self.value_error("'=' alignment not allowed in string format specifier"));
        }
        match ty {
            0 | b's' => {
                let Some(b) = self.str_bytes(arg).filter(|_| self.is_str(arg)) else {
                    return Err(self.bad_implicit_conversion(arg));
                };
                let mut n = b.len();
                if precision >= 0 && (precision as usize) < n {
                    n = precision as usize;
                }
                print_strn(out, &b[..n], flags, fill, width);
                Ok(())
            }
            _ => Err(self.unknown_code(ty, "str")),
        }
    }
}
