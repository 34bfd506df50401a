//! Random streams, one per (seed, path, factor name) (MODEL.md section 9).
//!
//! A factor's stream depends on nothing else, so results never depend on the
//! thread count, the block size or the other factors in the scenario (common
//! random numbers). The generator is xoshiro256++ (Blackman & Vigna 2018),
//! seeded by SplitMix64 (Steele, Lea & Flood 2014) from a hash of the three
//! keys; normals are rand_distr's Ziggurat `StandardNormal`, exponentials its
//! Ziggurat `Exp1`, uniforms the top 53 bits of one output.

use rand::Rng;
use rand_distr::{Distribution, Exp1, Poisson, StandardNormal};
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

#[inline]
pub fn normal(r: &mut Stream) -> f64 {
    StandardNormal.sample(r)
}

#[inline]
pub fn exp1<R: Rng + ?Sized>(r: &mut R) -> f64 {
    Exp1.sample(r)
}

/// Poisson counts, drawn as rand_distr's `Poisson` draws them. Below a mean
/// of 12 that is Knuth's method (multiply uniforms until the product is at
/// most `e^-mean`), written out here: the same draws from the stream, without
/// the generic distribution's overhead, and with `e^-mean` from the kernel's
/// own `exp` (the same on every machine). From 12 up, rand_distr's rejection
/// method.
#[derive(Debug, Clone)]
pub enum Counts {
    Knuth { exp_neg_mean: f64 },
    Rejection(Poisson<f64>),
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
            Counts::Rejection(Poisson::new(mean).expect("validated: 0 < rate <= 1000 a year"))
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
fn rejection<R: Rng + ?Sized>(d: &Poisson<f64>, r: &mut R) -> u64 {
    d.sample(r) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_keyed_and_pinned() {
        let k = factor_key("demand/api");
        let a = uniform(&mut stream(7, 3, k));
        assert_eq!(a, uniform(&mut stream(7, 3, k)));
        assert_ne!(a, uniform(&mut stream(7, 4, k)));
        assert_ne!(a, uniform(&mut stream(8, 3, k)));
        assert_ne!(a, uniform(&mut stream(7, 3, factor_key("demand/apj"))));
    }

    /// The written-out Knuth method draws what rand_distr's `Poisson` draws,
    /// count for count and leaving the stream in the same place.
    #[test]
    fn counts_match_rand_distr() {
        for mean in [1e-3, 0.125, 0.5, 2.0, 7.5, 11.9, 12.0, 40.0] {
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
