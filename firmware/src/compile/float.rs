//! `mp_parse_num_decimal` as the 32-bit x86 build of MicroPython 1.9.4 computes it: the C code
//! works in `double`, but i386 code keeps intermediates in x87 registers with a 64-bit mantissa,
//! so digits accumulate and the final scaling happen in extended precision and the result is
//! rounded twice (to 64 bits, then to 53). The values come out bit-identical to that build.

/// An extended-precision value `m * 2^e` (`m` normalized with bit 63 set, or 0).
#[derive(Clone, Copy, Debug)]
struct Ext {
    m: u64,
    e: i32,
}

/// Rounds `v * 2^e` (plus a sticky remainder below `v`) to 64 significant bits, ties to even.
fn round64(v: u128, e: i32, sticky: bool) -> Ext {
    if v == 0 {
        return Ext { m: 0, e: 0 };
    }
    let bits = 128 - v.leading_zeros() as i32;
    if bits <= 64 {
        return Ext {
            m: (v << (64 - bits)) as u64,
            e: e - (64 - bits),
        };
    }
    let drop = bits - 64;
    let mut m = (v >> drop) as u64;
    let rem = v & ((1u128 << drop) - 1);
    let half = 1u128 << (drop - 1);
    let mut e2 = e + drop;
    if rem > half || (rem == half && (sticky || m & 1 == 1)) {
        let (nm, carry) = m.overflowing_add(1);
        m = nm;
        if carry {
            m = 1 << 63;
            e2 += 1;
        }
    }
    Ext { m, e: e2 }
}

fn from_f64(x: f64) -> Ext {
    if x == 0.0 {
        return Ext { m: 0, e: 0 };
    }
    let bits = x.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i32;
    let frac = bits & ((1 << 52) - 1);
    let (mant, e) = if exp == 0 {
        (frac, -1074)
    } else {
        (frac | (1 << 52), exp - 1075)
    };
    round64(u128::from(mant), e, false)
}

fn mul(a: Ext, b: Ext) -> Ext {
    round64(u128::from(a.m) * u128::from(b.m), a.e + b.e, false)
}

/// `a * 10 + d` in extended precision.
fn mul10_add(a: Ext, d: u32) -> Ext {
    if a.m == 0 {
        return round64(u128::from(d), 0, false);
    }
    let m10 = u128::from(a.m) * 10;
    if a.e >= 0 {
        let shift = a.e.min(40);
        let v = (m10 << shift) + if shift == a.e { u128::from(d) } else { 0 };
        let sticky = shift != a.e && d != 0;
        round64(v, a.e - shift, sticky)
    } else {
        // a = m * 2^e with e < 0: scale d to the same exponent (exact as long as it fits)
        let s = (-a.e) as u32;
        if s < 100 {
            round64(m10 + (u128::from(d) << s), a.e, false)
        } else {
            round64(m10, a.e, d != 0)
        }
    }
}

fn less(a: Ext, b: Ext) -> bool {
    match (a.m == 0, b.m == 0) {
        (true, true) => false,
        (true, false) => true,
        (false, true) => false,
        _ => (a.e, a.m) < (b.e, b.m),
    }
}

/// Rounds to the nearest double (ties to even), with subnormals and overflow to infinity.
fn to_f64(a: Ext) -> f64 {
    if a.m == 0 {
        return 0.0;
    }
    let top = 63 + a.e; // value in [2^top, 2^(top+1))
    if top > 1023 {
        return f64::INFINITY;
    }
    // lowest kept bit position: 2^(top-52) for normals, 2^-1074 for subnormals
    let low = (top - 52).max(-1074);
    let drop = low - a.e;
    if drop >= 66 {
        return 0.0;
    }
    let v = u128::from(a.m);
    let (mut q, rem, half) = if drop <= 0 {
        (v << (-drop), 0u128, 1u128)
    } else {
        (v >> drop, v & ((1u128 << drop) - 1), 1u128 << (drop - 1))
    };
    if drop > 0 && (rem > half || (rem == half && q & 1 == 1)) {
        q += 1;
    }
    // q * 2^low
    let mut low = low;
    if q >= (1u128 << 53) {
        q >>= 1;
        low += 1;
    }
    if q == 0 {
        return 0.0;
    }
    let e_top = 127 - q.leading_zeros() as i32 + low;
    if e_top > 1023 {
        return f64::INFINITY;
    }
    if q < (1u128 << 52) {
        // subnormal (low == -1074)
        return f64::from_bits(q as u64);
    }
    let biased = (low + 1075) as u64;
    f64::from_bits((biased << 52) | (q as u64 & ((1u64 << 52) - 1)))
}

/// `pow(10, e)` correctly rounded to a double, as the C library computes it here.
fn pow10(e: i64) -> f64 {
    if e > 400 {
        return f64::INFINITY;
    }
    if e < -400 {
        return 0.0;
    }
    alloc::format!("1e{e}").parse::<f64>().unwrap_or(f64::NAN)
}

/// What the literal means: `Ok(Some(value))`, `Ok(None)` for an imaginary literal (`j`),
/// `Err(())` for invalid syntax.
pub fn parse_decimal(text: &[u8]) -> Result<Option<f64>, ()> {
    let max = from_f64(1e200);
    let mut dec = Ext { m: 0, e: 0 };
    let mut i = 0;
    let (mut in_frac, mut in_exp, mut exp_neg, mut imag) = (false, false, false, false);
    let mut exp_val: i64 = 0;
    let mut exp_extra: i64 = 0;
    while i < text.len() {
        let dig = text[i];
        i += 1;
        if dig.is_ascii_digit() {
            let d = u32::from(dig - b'0');
            if in_exp {
                exp_val = exp_val.saturating_mul(10).saturating_add(i64::from(d));
            } else if less(dec, max) {
                dec = mul10_add(dec, d);
                if in_frac {
                    exp_extra -= 1;
                }
            } else if !in_frac {
                exp_extra += 1;
            }
        } else if !in_frac && !in_exp && dig == b'.' {
            in_frac = true;
        } else if !in_exp && (dig | 0x20) == b'e' {
            in_exp = true;
            if i < text.len() {
                if text[i] == b'+' {
                    i += 1;
                } else if text[i] == b'-' {
                    i += 1;
                    exp_neg = true;
                }
            }
            if i == text.len() {
                return Err(());
            }
        } else if (dig | 0x20) == b'j' {
            imag = true;
            break;
        } else {
            i -= 1;
            break;
        }
    }
    if i == 0 || i != text.len() {
        return Err(());
    }
    if exp_neg {
        exp_val = -exp_val;
    }
    exp_val += exp_extra;
    if exp_val < -307 {
        exp_val += 307;
        dec = mul(dec, from_f64(1e-307));
    }
    let p = pow10(exp_val);
    let value = if p.is_infinite() {
        if dec.m == 0 { f64::NAN } else { f64::INFINITY }
    } else {
        to_f64(mul(dec, from_f64(p)))
    };
    if imag { Ok(None) } else { Ok(Some(value)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_round_trip() {
        for x in [
            1.0,
            0.1,
            3.5e-310,
            5e-324,
            1.7976931348623157e308,
            123.456,
            2.2250738585072014e-308,
        ] {
            assert_eq!(to_f64(from_f64(x)).to_bits(), f64::to_bits(x), "{x:e}");
        }
    }

    #[test]
    fn short_literals_agree_with_plain_double_arithmetic() {
        assert_eq!(parse_decimal(b"1.5"), Ok(Some(1.5)));
        assert_eq!(
            parse_decimal(b"0.3").map(|v| v.map(f64::to_bits)),
            Ok(Some(0x3fd3_3333_3333_3334))
        );
        assert_eq!(parse_decimal(b"1e"), Err(()));
        assert_eq!(parse_decimal(b"1.2.3"), Err(()));
        assert_eq!(parse_decimal(b"2j"), Ok(None));
    }
}
