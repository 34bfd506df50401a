//! Random streams, one per (seed, path, factor name) (MODEL.md section 9).
//!
//! A factor's stream depends on nothing else, so results never depend on the
//! thread count, the block size or the other factors in the scenario (common
//! random numbers). The generator is xoshiro256++ (Blackman & Vigna 2018),
//! seeded by SplitMix64 (Steele, Lea & Flood 2014) from a hash of the three
//! keys; normals and exponentials are drawn as rand_distr's Ziggurat
//! `StandardNormal` and `Exp1` draw them, Poisson counts as its `Poisson`,
//! uniforms are the top 53 bits of one output. Every function these draws
//! need beyond arithmetic and square roots (a logarithm, an exponential, a
//! power) is libm's or the kernel's own `exp`, never the platform's, whose
//! last bits differ between machines: the same seed gives the same bits
//! everywhere (MODEL.md section 9).

use rand::Rng;
use rand_xoshiro::rand_core::SeedableRng;
pub use rand_xoshiro::Xoshiro256PlusPlus as Stream;

/// SplitMix64's multipliers (in [`mix64`]) and its increment, the golden
/// ratio's fraction (in [`state_words_at`]); the kernel's seeding in
/// vector lanes uses them too.
pub(crate) const MIX_MUL: [u64; 2] = [0xbf58_476d_1ce4_e5b9, 0x94d0_49bb_1331_11eb];
pub(crate) const GOLDEN: u64 = 0x9e37_79b9_7f4a_7c15;

/// SplitMix64's output function (a strong 64-bit mixer).
#[inline]
pub fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(MIX_MUL[0]);
    z = (z ^ (z >> 27)).wrapping_mul(MIX_MUL[1]);
    z ^ (z >> 31)
}

/// A factor name's key: FNV-1a over its bytes, then mixed. Computed once
/// when the model is compiled, never in the kernel.
pub fn factor_key(name: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    mix64(h)
}

/// The stream of factor `key` on path `path` for seed `seed`.
#[inline]
pub fn stream(seed: u64, path: u64, key: u64) -> Stream {
    stream_at(stream_base(seed, key), path)
}

/// The part of a stream's seeding that depends on the seed and the factor
/// only: computed once per model (`Model::compile`), not per path.
#[inline]
pub fn stream_base(seed: u64, key: u64) -> u64 {
    mix64(mix64(seed ^ 0x6a09_e667_f3bc_c909) ^ key)
}

/// The stream of path `path` from its factor's [`stream_base`]: the same
/// stream as [`stream`] of the seed and key the base was made from.
#[inline]
pub fn stream_at(base: u64, path: u64) -> Stream {
    let mut bytes = [0u8; 32];
    for (chunk, w) in bytes.chunks_exact_mut(8).zip(state_words_at(base, path)) {
        chunk.copy_from_slice(&w.to_le_bytes());
    }
    Stream::from_seed(bytes)
}

/// The xoshiro256++ state words that [`stream_at`] starts from (its seed
/// bytes, read as little-endian words, as `from_seed` reads them; never all
/// zero: they are four outputs of a bijective mixer at distinct inputs).
#[inline]
pub fn state_words_at(base: u64, path: u64) -> [u64; 4] {
    let mut x = mix64(base ^ path.wrapping_mul(GOLDEN));
    let mut s = [0u64; 4];
    for w in &mut s {
        x = x.wrapping_add(GOLDEN);
        *w = mix64(x);
    }
    s
}

/// Uniform on [0, 1) with 53 random bits.
#[inline]
pub fn uniform<R: Rng + ?Sized>(r: &mut R) -> f64 {
    (r.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// A standard normal ([`crate::kernel::normals::normal`]).
#[inline]
pub fn normal<R: Rng + ?Sized>(r: &mut R) -> f64 {
    crate::kernel::normals::normal(r)
}

/// A standard exponential ([`crate::kernel::normals::exp1`]).
#[inline]
pub fn exp1<R: Rng + ?Sized>(r: &mut R) -> f64 {
    crate::kernel::normals::exp1(r)
}

/// Poisson counts, drawn as rand_distr's `Poisson` draws them. Below a mean
/// of 12 that is Knuth's method (multiply uniforms until the product is at
/// most `e^-mean`), written out here: the same draws from the stream, without
/// the generic distribution's overhead, and with `e^-mean` from the kernel's
/// own `exp` (the same on every machine). From 12 up, rand_distr's rejection
/// method ([`Rejection`]), also written out.
#[derive(Debug, Clone)]
pub enum Counts {
    Knuth { exp_neg_mean: f64 },
    Rejection(Rejection),
}

impl Counts {
    /// `mean` must be finite and positive; validated scenarios give that, and
    /// at most 1,000 jumps a year keeps it far inside rand_distr's range.
    pub fn new(mean: f64) -> Counts {
        if mean < 12.0 {
            Counts::Knuth {
                exp_neg_mean: crate::kernel::exp::exp(-mean),
            }
        } else {
            Counts::Rejection(Rejection::new(mean))
        }
    }

    /// Inlined where it is drawn (the kernel's jumps, every period), the
    /// rejection method out of line.
    #[inline(always)]
    pub fn sample<R: Rng + ?Sized>(&self, r: &mut R) -> u64 {
        match self {
            Counts::Knuth { exp_neg_mean } => {
                let mut k = 0;
                let mut p = uniform(r);
                while p > *exp_neg_mean {
                    p *= uniform(r);
                    k += 1;
                }
                k
            }
            Counts::Rejection(d) => rejection(d, r),
        }
    }
}

#[inline(never)]
fn rejection<R: Rng + ?Sized>(d: &Rejection, r: &mut R) -> u64 {
    d.sample(r) as u64
}

/// rand_distr 0.6's Poisson rejection method for means of 12 and more
/// (Ahrens & Dieter 1982, "Computer generation of Poisson deviates from
/// modified normal distributions"), written out for `f64` step by step as
/// rand_distr computes it (rand_distr's `poisson.rs`; MIT or Apache-2.0,
/// as this crate), the same draws from the stream, with libm's `pow`,
/// `exp` and `log` and [`normal`] and [`exp1`] in place of the platform's
/// functions. `counts_match_rand_distr` checks it count for count.
#[derive(Debug, Clone)]
pub struct Rejection {
    lambda: f64,
    s: f64,
    d: f64,
    l: f64,
    c: f64,
    c0: f64,
    c1: f64,
    c2: f64,
    c3: f64,
    omega: f64,
}

impl Rejection {
    /// `lambda` finite and at least 12.
    fn new(lambda: f64) -> Rejection {
        let b1 = (1.0 / 24.0) / lambda;
        let b2 = 0.3 * b1 * b1;
        let c3 = (1.0 / 7.0) * b1 * b2;
        let c2 = b2 - 15.0 * c3;
        let c1 = b1 - 6.0 * b2 + 45.0 * c3;
        let c0 = 1.0 - b1 + 3.0 * b2 - 15.0 * c3;
        Rejection {
            lambda,
            s: lambda.sqrt(),
            d: 6.0 * (lambda * lambda),
            l: (lambda - 1.1484).floor(),
            c: 0.1069 / lambda,
            c0,
            c1,
            c2,
            c3,
            omega: 1.0 / (2.0 * std::f64::consts::PI).sqrt() / lambda.sqrt(),
        }
    }

    /// Step F: `(px, py, fx, fy)` at `k`.
    fn f(&self, k: f64) -> (f64, f64, f64, f64) {
        // Factorials of 0 to 9, and the coefficients of Table 1.
        const FACT: [f64; 10] = [
            1.0, 1.0, 2.0, 6.0, 24.0, 120.0, 720.0, 5040.0, 40320.0, 362880.0,
        ];
        const A: [f64; 10] = [
            -0.5000000002,
            0.3333333343,
            -0.2499998565,
            0.1999997049,
            -0.1666848753,
            0.1428833286,
            -0.1241963125,
            0.1101687109,
            -0.1142650302,
            0.1055093006,
        ];
        let lambda = self.lambda;
        let (px, py) = if k < 10.0 {
            (-lambda, libm::pow(lambda, k) / FACT[k as usize])
        } else {
            let delta = (12.0 * k).recip();
            let delta = delta - 4.8 * (delta * delta * delta);
            let v = (lambda - k) / k;
            let px = if v.abs() <= 0.25 {
                k * (v * v) * A.iter().rev().fold(0.0, |acc, &a| acc * v + a) - delta
            } else {
                k * libm::log(1.0 + v) - (lambda - k) - delta
            };
            (px, 1.0 / (2.0 * std::f64::consts::PI).sqrt() / k.sqrt())
        };
        let x = (k - lambda + 0.5) / self.s;
        let fx = -0.5 * x * x;
        let fy = self.omega * (((self.c3 * x * x + self.c2) * x * x + self.c1) * x * x + self.c0);
        (px, py, fx, fy)
    }

    fn sample<R: Rng + ?Sized>(&self, r: &mut R) -> f64 {
        // Step N.
        let g = self.lambda + self.s * normal(r);
        if g >= 0.0 {
            let k1 = g.floor();
            // Step I.
            if k1 >= self.l {
                return k1;
            }
            // Step S.
            let u = uniform(r);
            let gap = self.lambda - k1;
            if self.d * u >= gap * gap * gap {
                return k1;
            }
            let (px, py, fx, fy) = self.f(k1);
            if fy * (1.0 - u) <= py * libm::exp(px - fx) {
                return k1;
            }
        }
        loop {
            // Step E.
            let e = exp1(r);
            let u = uniform(r) * 2.0 - 1.0;
            let t = 1.8 + e * u.signum();
            if t > -0.6744 {
                let k2 = (self.lambda + self.s * t).floor();
                let (px, py, fx, fy) = self.f(k2);
                // Step H.
                if self.c * u.abs() <= py * libm::exp(px + e) - fy * libm::exp(fx + e) {
                    return k2;
                }
            }
        }
    }
}

#[cfg(test)]
// The tests compare with, or make data by, the platform's functions.
#[allow(clippy::disallowed_methods)]
mod tests {
    use super::*;
    use rand_distr::{Distribution, Poisson};

    #[test]
    fn streams_are_keyed_and_pinned() {
        let k = factor_key("demand/api");
        let a = uniform(&mut stream(7, 3, k));
        assert_eq!(a, uniform(&mut stream(7, 3, k)));
        assert_ne!(a, uniform(&mut stream(7, 4, k)));
        assert_ne!(a, uniform(&mut stream(8, 3, k)));
        assert_ne!(a, uniform(&mut stream(7, 3, factor_key("demand/apj"))));
    }

    /// The written-out Knuth and rejection methods draw what rand_distr's
    /// `Poisson` draws, count for count and leaving the stream in the same
    /// place (from a mean of 12, the rejection method: its normals,
    /// exponentials and `pow`, `exp` and `log` ours, not the platform's).
    #[test]
    fn counts_match_rand_distr() {
        for mean in [
            1e-3, 0.125, 0.5, 2.0, 7.5, 11.9, 12.0, 13.7, 40.0, 250.0, 1e4,
        ] {
            let ours = Counts::new(mean);
            let theirs = Poisson::new(mean).unwrap();
            let (mut a, mut b) = (stream(1, 2, 3), stream(1, 2, 3));
            for _ in 0..20_000 {
                assert_eq!(
                    ours.sample(&mut a),
                    theirs.sample(&mut b) as u64,
                    "mean {mean}"
                );
            }
            assert_eq!(a.next_u64(), b.next_u64());
        }
    }
}
