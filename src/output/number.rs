//! Numbers as the output files write them: exactly what Rust's `{}` gives
//! for an `f64` (the shortest digits that read back as the same number,
//! never an exponent: `414000000000`, `0.0000001`, `-0`, `NaN`, `inf`), in
//! a third of the instructions (~350 against ~1,060 for `write!` of `{}`
//! and ~1,500 for `format!`'s string, on the output files' values). The
//! shortest digits come from the `zmij` crate (Schubfach; `serde_json`
//! already depends on it); only their layout is done here. `paths.csv`
//! writes one of these for every metric of every path.

/// Appends `x` to `out` as `format!("{x}")` would write it.
pub fn push(out: &mut Vec<u8>, x: f64) {
    if !x.is_finite() {
        out.extend_from_slice(match x {
            f64::INFINITY => b"inf",
            f64::NEG_INFINITY => b"-inf",
            _ => b"NaN",
        });
        return;
    }
    if may_differ(x) {
        // zmij breaks a tie between two equally short and equally close
        // decimals towards an even last digit, `{}` upwards; rare enough
        // to hand to `{}` itself.
        out.extend_from_slice(format!("{x}").as_bytes());
        return;
    }
    let mut buf = zmij::Buffer::new();
    let s = buf.format_finite(x).as_bytes();
    // An exponent, if any, is among the last five bytes (`e-324` to `e+16`).
    let tail = s.len().saturating_sub(5);
    let Some(e) = s[tail..].iter().position(|&c| c == b'e') else {
        // zmij's plain forms: `12.34`, `0.001234`, or a whole number with
        // `.0` (which `{}` leaves off).
        out.extend_from_slice(s.strip_suffix(b".0").unwrap_or(s));
        return;
    };
    // `[-]d[.ddd]e(+|-)x`: the digits, then the decimal exponent of the first.
    let (mantissa, exp) = (&s[..tail + e], &s[tail + e + 1..]);
    let (negative, mantissa) = match mantissa.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, mantissa),
    };
    let (exp_negative, exp) = match exp.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, exp),
    };
    let magnitude = exp
        .iter()
        .fold(0usize, |acc, &c| acc * 10 + usize::from(c - b'0'));
    if negative {
        out.push(b'-');
    }
    let digits = mantissa.iter().copied().filter(|&c| c != b'.');
    if exp_negative {
        // 1.5e-7 -> 0.00000015: `magnitude - 1` zeros after the point.
        out.extend_from_slice(b"0.");
        out.resize(out.len() + magnitude - 1, b'0');
        out.extend(digits);
    } else {
        // 1.5e20 -> 150000000000000000000: the digits, then zeros up to
        // `magnitude + 1` digits in all. zmij writes an exponent only from
        // 10^16 up, where an f64 has no fraction left.
        let n = mantissa.len() - usize::from(mantissa.len() > 1);
        out.extend(digits);
        out.resize(out.len() + magnitude + 1 - n, b'0');
    }
}

/// Digits in zmij's output from the first nonzero one to the last nonzero
/// one (`1234` for `12340000000.0`, `0.001234` and `1.234e+33`).
fn significant_digits(s: &[u8]) -> u32 {
    let mantissa = s.split(|&c| c == b'e').next().unwrap_or(s);
    let (mut first, mut last) = (None, 0);
    for (i, &c) in mantissa.iter().filter(|c| c.is_ascii_digit()).enumerate() {
        if c != b'0' {
            first = first.or(Some(i));
            last = i;
        }
    }
    first.map_or(0, |f| (last - f + 1) as u32)
}

/// Whether the finite `x` may be a tie for its shortest digits: its exact
/// decimal value ends in a 5 one digit beyond the digits zmij gives. Also
/// true (so `{}` writes it) for integers of 2^64 and more, which this does
/// not examine. `x = m 2^e` exactly with `m` odd; for `e < 0` its exact
/// digits are those of `m 5^-e`, for `e >= 0` those of `m 2^e` without its
/// trailing zeros. Most values have more than 18 exact digits and are
/// ruled out before zmij runs.
fn may_differ(x: f64) -> bool {
    let bits = x.to_bits();
    let (frac, exp) = (bits & ((1 << 52) - 1), ((bits >> 52) & 0x7ff) as i32);
    let (m, e) = if exp == 0 {
        (frac, -1074)
    } else {
        (frac | (1 << 52), exp - 1075)
    };
    if m == 0 {
        return false;
    }
    let (m, e) = (m >> m.trailing_zeros(), e + m.trailing_zeros() as i32);
    // A tie has at most 18 exact digits (zmij's at most 17, plus the 5).
    const MAX: u64 = 1_000_000_000_000_000_000;
    let exact = if e < 0 {
        // m 5^-e: no trailing zeros (m is odd); beyond 5^25, 19 digits or more.
        if e < -25 {
            return false;
        }
        const POW5: [u64; 26] = {
            let mut t = [1u64; 26];
            let mut i = 1;
            while i < 26 {
                t[i] = t[i - 1] * 5;
                i += 1;
            }
            t
        };
        match m.checked_mul(POW5[(-e) as usize]) {
            Some(v) if v < MAX => v,
            _ => return false,
        }
    } else {
        match m.checked_mul(1 << e.min(63)) {
            Some(v) if e < 64 => {
                let mut v = v;
                while v % 10 == 0 {
                    v /= 10;
                }
                v
            }
            // At least 2^64, rare: left to `{}`.
            _ => return true,
        }
    };
    if exact >= MAX || exact % 10 != 5 {
        return false;
    }
    let shortest = significant_digits(zmij::Buffer::new().format_finite(x).as_bytes());
    exact.ilog10() == shortest
}

/// `x` as `format!("{x}")` would write it.
pub fn to_string(x: f64) -> String {
    let mut v = Vec::with_capacity(24);
    push(&mut v, x);
    // Only ASCII digits, signs, points and the words NaN and inf.
    String::from_utf8(v).expect("ASCII")
}

#[cfg(test)]
// The tests compare with, or make data by, the platform's functions.
#[allow(clippy::disallowed_methods)]
mod tests {
    use super::*;
    use rand::{Rng, RngExt};

    fn check(x: f64) {
        assert_eq!(to_string(x), format!("{x}"), "bits {:#x}", x.to_bits());
    }

    /// Every kind of value the layout distinguishes, and its neighbours.
    #[test]
    fn matches_display_at_the_edges() {
        let mut xs = vec![
            0.0,
            -0.0,
            f64::NAN,
            -f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::MAX,
            f64::MIN,
            f64::MIN_POSITIVE,
            f64::EPSILON,
            5e-324,
            -5e-324,
            1.0,
            0.1,
            1.5e-7,
            1e-5,
            1e-4,
            0.001234,
            12.34,
            414000000000.0,
            1036115483353.807,
            9007199254740993.0,
            1e15,
            1e16,
            1.5e16,
            1.2345678901234567e17,
            1e21,
            1e22,
            1e23,
            1e300,
            123456789e-300,
        ];
        for p in -325..=308 {
            let x: f64 = format!("1e{p}").parse().unwrap();
            xs.extend([x, 1.5 * x, 9.999999999999999 * x, 2.0f64.powi(p)]);
        }
        for x in xs.clone() {
            for y in [
                x,
                -x,
                f64::from_bits(x.to_bits() + 1),
                f64::from_bits(x.to_bits().wrapping_sub(1)),
            ] {
                check(y);
            }
        }
    }

    /// Values with short exact expansions (odd integers times small powers
    /// of two), among which the ties are; two known ones must be seen as
    /// ties, and many others met.
    #[test]
    fn matches_display_on_ties() {
        for x in [2f64.powi(-25), f64::from_bits(0x430a_dad6_d8ef_d152)] {
            assert!(may_differ(x), "{x}");
            check(x);
        }
        let mut r = crate::rng::stream(8, 0, 0);
        let mut ties = 0;
        for _ in 0..5_000 {
            let m = (r.next_u64() >> r.random_range(11..63)) | 1;
            for e in -70..80 {
                let x = m as f64 * 2f64.powi(e);
                ties += usize::from(x < 1e19 && may_differ(x));
                check(x);
            }
        }
        assert!(ties > 1000, "{ties} ties");
    }

    /// Random bit patterns (every exponent equally likely) and random
    /// values of the sizes the output files hold.
    #[test]
    fn matches_display_on_random_values() {
        let mut r = crate::rng::stream(7, 0, 0);
        for _ in 0..100_000 {
            check(f64::from_bits(r.next_u64()));
            let x: f64 = r.random::<f64>() * 10f64.powi(r.random_range(-12..16));
            check(x);
            check((x * 1000.0).round());
        }
    }
}
