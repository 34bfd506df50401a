//! The shock pass's normal draws (MODEL.md section 9): for each factor `f`,
//! one normal per period from the factor's own stream on the path (its
//! [`rng::stream_base`] `bases[f]`), written into column `f` of a row-major
//! table. The numbers are rand_distr's `StandardNormal` (Ziggurat, ZIGNOR
//! variant) drawn from [`rng::stream`], bit for bit, whichever way they
//! are computed, but that the tail's logarithm and the wedges' density
//! are libm's `log` and the kernel's [`exp::exp`] ([`normal`]), not the
//! platform's, so that they are the same on every machine:
//!
//! - [`fill_columns_scalar`]: one factor after the other, through
//!   [`normal`];
//! - on x86-64 CPUs with AVX2 (checked at run time), four factors' streams
//!   at once in vector lanes: their seeding (SplitMix64, the 64-bit
//!   multiplies made of 32-bit ones), xoshiro256++ and the Ziggurat's fast
//!   path (one table lookup and one comparison, taken by about 98.5% of
//!   draws) for all four, and the rare rest (the wedges and the tail) per
//!   lane, in scalar code that repeats rand_distr's steps with its tables
//!   (`kernel/ziggurat_tables.rs`).
//!
//! The tranches' draws (a uniform, then a normal, from each tranche's
//! stream: [`uniform_lognormal`]) go the same two ways.
//!
//! The tests check both against rand_distr draw for draw, over enough
//! draws to go through every branch of the slow path many times.

use super::exp;
use crate::rng;
use rand::distr::Open01;
use rand::{Rng, RngExt};

/// Fills `rows` (row-major, `bases.len()` columns) with the normals of each
/// column's stream on path `path`, in row order.
#[inline]
pub fn fill_columns(bases: &[u64], path: u64, rows: &mut [f64]) {
    #[cfg(target_arch = "x86_64")]
    {
        if crate::simd::avx2() {
            // SAFETY: the CPU has AVX2 (`simd::avx2` checks).
            unsafe { avx2::fill_columns(bases, path, rows) };
            return;
        }
    }
    fill_columns_scalar(bases, path, rows)
}

/// [`fill_columns`] one stream at a time, through [`normal`].
pub fn fill_columns_scalar(bases: &[u64], path: u64, rows: &mut [f64]) {
    let nf = bases.len();
    if nf == 0 {
        return;
    }
    for (f, &base) in bases.iter().enumerate() {
        let mut r = rng::stream_at(base, path);
        for row in rows.chunks_exact_mut(nf) {
            row[f] = rng::normal(&mut r);
        }
    }
}

/// For each stream `bases[i]` on path `path`: `u[i]`, a uniform
/// ([`rng::uniform`]) from the stream's first output, and `z[i]`, the
/// normal ([`rng::normal`]) drawn next. Four streams at once where the
/// CPU has AVX2; otherwise one stream at a time. (The draws of
/// [`uniform_lognormal`], without its `exp`: the benches' RNG floor.)
pub fn uniform_normal(bases: &[u64], path: u64, u: &mut [f64], z: &mut [f64]) {
    let n = bases.len();
    let (u, z) = (&mut u[..n], &mut z[..n]);
    #[cfg(target_arch = "x86_64")]
    {
        if crate::simd::avx2() {
            // SAFETY: the CPU has AVX2 (`simd::avx2` checks).
            unsafe { avx2::uniform_normal(bases, path, u, z) };
            return;
        }
    }
    for ((&base, u), z) in bases.iter().zip(u).zip(z) {
        let mut w = Words::at(base, path);
        *u = rng::uniform(&mut w);
        *z = w.normal();
    }
}

/// For each stream `bases[i]` on path `path`: `u[i]`, a uniform
/// ([`rng::uniform`]) from the stream's first output, and `f[i] =
/// exp(sigma[i] z)` of the normal `z` ([`rng::normal`]) drawn next: the
/// tranches' failure draw and delay factor (MODEL.md section 4). Four
/// streams at once where the CPU has AVX2 (`exp` of all of them after the
/// draws, [`exp::exp_in_place`]); otherwise one stream at a time.
#[inline(always)]
pub fn uniform_lognormal(bases: &[u64], sigma: &[f64], path: u64, u: &mut [f64], f: &mut [f64]) {
    let n = bases.len();
    let (sigma, u, f) = (&sigma[..n], &mut u[..n], &mut f[..n]);
    #[cfg(target_arch = "x86_64")]
    {
        if crate::simd::avx2() {
            // SAFETY: the CPU has AVX2 (`simd::avx2` checks).
            unsafe { avx2::uniform_normal(bases, path, u, f) };
            for (x, s) in f.iter_mut().zip(sigma) {
                *x *= s;
            }
            exp::exp_in_place(f);
            return;
        }
    }
    uniform_lognormal_scalar(bases, sigma, path, u, f)
}

/// [`uniform_lognormal`] one stream at a time.
#[inline]
pub fn uniform_lognormal_scalar(
    bases: &[u64],
    sigma: &[f64],
    path: u64,
    u: &mut [f64],
    f: &mut [f64],
) {
    for (((&base, &sigma), u), f) in bases.iter().zip(sigma).zip(u).zip(f) {
        let mut w = Words::at(base, path);
        *u = rng::uniform(&mut w);
        *f = exp::exp(sigma * w.normal());
    }
}

/// xoshiro256++ on plain state words (the same generator as
/// [`rng::Stream`], whose state is private), so that a lane's state can go
/// to scalar code and back; with the parts of rand_distr's normal sampler
/// that the vector lanes leave to scalar code. An [`Rng`](rand::Rng), so
/// its uniforms are rand's own. The kernel's other streams (jumps, first
/// refusal, AGI; the tranches' without AVX2) are `Words` too: the same
/// draws as [`rng::Stream`] without its seeding from bytes or rand_distr's
/// generic sampler.
#[derive(Clone)]
pub(crate) struct Words(pub(crate) [u64; 4]);

impl rand::TryRng for Words {
    type Error = std::convert::Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        // As rand_xoshiro: the upper bits.
        Ok((self.next_word() >> 32) as u32)
    }

    #[inline]
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        Ok(self.next_word())
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        rand::rand_core::utils::fill_bytes_via_next_word(dst, || self.try_next_u64())
    }
}

impl Words {
    /// The stream [`rng::stream_at`] makes, as plain state words.
    #[inline]
    pub(crate) fn at(base: u64, path: u64) -> Words {
        Words(rng::state_words_at(base, path))
    }

    /// [`normal`]'s draw from these words.
    #[inline]
    pub(crate) fn normal(&mut self) -> f64 {
        normal(self)
    }

    #[inline]
    fn next_word(&mut self) -> u64 {
        let s = &mut self.0;
        let out = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        out
    }

    /// The Ziggurat's layer index, `u` in [-1, 1) and `x = u X[i]` of one
    /// 64-bit output (rand_distr's `ziggurat`, symmetric case).
    #[inline]
    fn layer(bits: u64) -> (usize, f64, f64) {
        use super::ziggurat_tables::ZIG_NORM_X as X;
        let i = (bits & 0xff) as usize;
        let u = f64::from_bits((bits >> 12) | (1024u64 << 52)) - 3.0;
        (i, u, u * X[i])
    }
}

/// A standard normal from `r`, drawn as rand_distr's `StandardNormal`
/// draws it: its Ziggurat (ZIGNOR) with its tables, the same outputs of
/// `r` taken the same way, the same numbers but for the functions below.
/// The tail's logarithm is libm's `log` and the wedges' density the
/// kernel's own [`exp::exp`], not the platform's `ln` and `exp` (which
/// differ between machines, in glibc between CPUs with and without fused
/// multiply-adds), so that the draws are the same bits on every machine.
#[inline]
pub fn normal<G: Rng + ?Sized>(r: &mut G) -> f64 {
    use super::ziggurat_tables::ZIG_NORM_X as X;
    let (i, u, x) = Words::layer(r.next_u64());
    if x.abs() < X[i + 1] {
        x
    } else {
        finish_normal(r, i, u, x)
    }
}

/// Finishes a normal draw whose first output `(i, u, x)` missed the fast
/// path, then draws again as rand_distr does until one is accepted.
#[inline(never)]
fn finish_normal<G: Rng + ?Sized>(r: &mut G, mut i: usize, mut u: f64, mut x: f64) -> f64 {
    use super::ziggurat_tables::{ZIG_NORM_F as F, ZIG_NORM_R as R, ZIG_NORM_X as X};
    loop {
        if i == 0 {
            // The tail beyond R (rand_distr's `zero_case`).
            let (mut tx, mut ty) = (1.0f64, 0.0f64);
            while -2.0 * ty < tx * tx {
                let a: f64 = r.sample(Open01);
                let b: f64 = r.sample(Open01);
                tx = libm::log(a) / R;
                ty = libm::log(b);
            }
            return if u < 0.0 { tx - R } else { R - tx };
        }
        // The wedge: accept under the density.
        if F[i + 1] + (F[i] - F[i + 1]) * r.random::<f64>() < exp::exp(-x * x / 2.0) {
            return x;
        }
        (i, u, x) = Words::layer(r.next_u64());
        if x.abs() < X[i + 1] {
            return x;
        }
    }
}

/// A standard exponential from `r`, drawn as rand_distr's `Exp1` draws it
/// (its Ziggurat with its tables, the same outputs of `r`), with the
/// tail's logarithm from libm and the wedges' density from the kernel's
/// [`exp::exp`], as [`normal`]: the same bits on every machine.
pub fn exp1<G: Rng + ?Sized>(r: &mut G) -> f64 {
    use super::ziggurat_tables::{ZIG_EXP_F as F, ZIG_EXP_R, ZIG_EXP_X as X};
    loop {
        let bits = r.next_u64();
        let i = (bits & 0xff) as usize;
        // A value in [1, 2) less (1 - EPSILON / 2): in (0, 1).
        let u = f64::from_bits((bits >> 12) | (1023u64 << 52)) - (1.0 - f64::EPSILON / 2.0);
        let x = u * X[i];
        if x < X[i + 1] {
            return x;
        }
        if i == 0 {
            return ZIG_EXP_R - libm::log(r.random::<f64>());
        }
        if F[i + 1] + (F[i] - F[i + 1]) * r.random::<f64>() < exp::exp(-x) {
            return x;
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::super::ziggurat_tables::ZIG_NORM_X as X;
    use super::Words;
    use crate::rng;
    use std::arch::x86_64::*;

    /// `x` rotated left by `K` bits in each lane (`L` = 64 - `K`).
    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn rotl<const K: i32, const L: i32>(x: __m256i) -> __m256i {
        _mm256_or_si256(_mm256_slli_epi64::<K>(x), _mm256_srli_epi64::<L>(x))
    }

    /// `a * c` (wrapping) in each lane: AVX2 multiplies 32-bit halves only,
    /// so the low halves' full product plus the cross products shifted up.
    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn mul_const(a: __m256i, c: u64) -> __m256i {
        let lo = _mm256_set1_epi64x((c & 0xffff_ffff) as i64);
        let hi = _mm256_set1_epi64x((c >> 32) as i64);
        let cross = _mm256_add_epi64(
            _mm256_mul_epu32(_mm256_srli_epi64::<32>(a), lo),
            _mm256_mul_epu32(a, hi),
        );
        _mm256_add_epi64(_mm256_mul_epu32(a, lo), _mm256_slli_epi64::<32>(cross))
    }

    /// [`rng::mix64`] in each lane.
    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn mix64(z: __m256i) -> __m256i {
        let z = _mm256_xor_si256(z, _mm256_srli_epi64::<30>(z));
        let z = mul_const(z, rng::MIX_MUL[0]);
        let z = _mm256_xor_si256(z, _mm256_srli_epi64::<27>(z));
        let z = mul_const(z, rng::MIX_MUL[1]);
        _mm256_xor_si256(z, _mm256_srli_epi64::<31>(z))
    }

    /// [`rng::state_words_at`] of four bases (lane `l` the stream of
    /// `bases[l]`), computed in lanes: `s[w]` holds word `w` of each lane.
    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn seed(bases: &[u64; 4], path: u64) -> [__m256i; 4] {
        use rng::GOLDEN;
        let b = _mm256_loadu_si256(bases.as_ptr() as *const __m256i);
        let x = mix64(_mm256_xor_si256(
            b,
            _mm256_set1_epi64x(path.wrapping_mul(GOLDEN) as i64),
        ));
        let mut s = [_mm256_setzero_si256(); 4];
        for (w, v) in s.iter_mut().enumerate() {
            let step = GOLDEN.wrapping_mul(w as u64 + 1);
            *v = mix64(_mm256_add_epi64(x, _mm256_set1_epi64x(step as i64)));
        }
        s
    }

    /// The bases of lane group `g` (`bases[g..]`, at most four; the lanes
    /// past the end repeat the last, and their draws are dropped) and how
    /// many lanes are used.
    #[inline]
    fn group(bases: &[u64], g: usize) -> ([u64; 4], usize) {
        let lanes = (bases.len() - g).min(4);
        (std::array::from_fn(|l| bases[g + l.min(lanes - 1)]), lanes)
    }

    /// xoshiro256++'s next output in each lane, stepping the states.
    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn next(s: &mut [__m256i; 4]) -> __m256i {
        let [s0, s1, s2, s3] = s;
        let bits = _mm256_add_epi64(rotl::<23, 41>(_mm256_add_epi64(*s0, *s3)), *s0);
        let t = _mm256_slli_epi64::<17>(*s1);
        *s2 = _mm256_xor_si256(*s2, *s0);
        *s3 = _mm256_xor_si256(*s3, *s1);
        *s1 = _mm256_xor_si256(*s1, *s2);
        *s0 = _mm256_xor_si256(*s0, *s3);
        *s2 = _mm256_xor_si256(*s2, t);
        *s3 = rotl::<45, 19>(*s3);
        bits
    }

    /// The Ziggurat's fast path on one output per lane: layer i, u in
    /// [-1, 1), `x = u X[i]`, and the lanes where it is accepted (`|x| <
    /// X[i + 1]`) as a movemask.
    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn fast_normal(bits: __m256i) -> (__m256d, u32) {
        let i = _mm256_and_si256(bits, _mm256_set1_epi64x(0xff));
        let u = _mm256_sub_pd(
            _mm256_castsi256_pd(_mm256_or_si256(
                _mm256_srli_epi64::<12>(bits),
                _mm256_set1_epi64x(0x4000_0000_0000_0000),
            )),
            _mm256_set1_pd(3.0),
        );
        let x = _mm256_mul_pd(u, _mm256_i64gather_pd::<8>(X.as_ptr(), i));
        let edge = _mm256_i64gather_pd::<8>(X.as_ptr().add(1), i);
        let magnitude = _mm256_castsi256_pd(_mm256_set1_epi64x(0x7fff_ffff_ffff_ffff));
        let inside = _mm256_cmp_pd::<_CMP_LT_OQ>(_mm256_and_pd(x, magnitude), edge);
        (x, _mm256_movemask_pd(inside) as u32)
    }

    /// Finishes the normals of the lanes in `miss` whose fast path
    /// missed on output `bits`, in scalar code from and back into their
    /// states; each lane's normal goes to `put(lane, value)`.
    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn finish(
        s: &mut [__m256i; 4],
        bits: __m256i,
        mut miss: u32,
        mut put: impl FnMut(usize, f64),
    ) {
        let mut lane_bits = [0u64; 4];
        _mm256_storeu_si256(lane_bits.as_mut_ptr() as *mut __m256i, bits);
        let mut words = store(s);
        while miss != 0 {
            let l = miss.trailing_zeros() as usize;
            miss &= miss - 1;
            let (li, lu, lx) = Words::layer(lane_bits[l]);
            let mut w = Words(words[l]);
            put(l, super::finish_normal(&mut w, li, lu, lx));
            words[l] = w.0;
        }
        *s = load(&words);
    }

    /// Four lanes of state words: `s[w]` holds word `w` of each lane.
    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn load(words: &[[u64; 4]; 4]) -> [__m256i; 4] {
        let mut s = [_mm256_setzero_si256(); 4];
        for (w, v) in s.iter_mut().enumerate() {
            let lane = [words[0][w], words[1][w], words[2][w], words[3][w]];
            *v = _mm256_loadu_si256(lane.as_ptr() as *const __m256i);
        }
        s
    }

    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn store(s: &[__m256i; 4]) -> [[u64; 4]; 4] {
        let mut words = [[0u64; 4]; 4];
        for (w, v) in s.iter().enumerate() {
            let mut lane = [0u64; 4];
            _mm256_storeu_si256(lane.as_mut_ptr() as *mut __m256i, *v);
            for l in 0..4 {
                words[l][w] = lane[l];
            }
        }
        words
    }

    /// [`super::fill_columns`] with four streams per pass. Caller: the CPU
    /// has AVX2.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn fill_columns(bases: &[u64], path: u64, rows: &mut [f64]) {
        let nf = bases.len();
        for g in (0..nf).step_by(4) {
            let (b, lanes) = group(bases, g);
            let mut s = seed(&b, path);
            let used = (1u32 << lanes) - 1;
            // Stores write the used lanes only.
            let store_mask = _mm256_setr_epi64x(0, 1, 2, 3);
            let store_mask = _mm256_cmpgt_epi64(_mm256_set1_epi64x(lanes as i64), store_mask);
            for row in rows.chunks_exact_mut(nf) {
                let bits = next(&mut s);
                let (x, inside) = fast_normal(bits);
                _mm256_maskstore_pd(row.as_mut_ptr().add(g), store_mask, x);
                let miss = !inside & used;
                if miss != 0 {
                    finish(&mut s, bits, miss, |l, v| row[g + l] = v);
                }
            }
        }
    }

    /// [`super::uniform_normal`] with four streams per pass. Caller: the
    /// CPU has AVX2.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn uniform_normal(bases: &[u64], path: u64, u: &mut [f64], z: &mut [f64]) {
        // 2^52 as a float's bits: OR-ed with an integer below 2^52, they
        // are the float 2^52 + that integer (exactly), and subtracting 2^52
        // leaves the integer as a float (AVX2 cannot convert 64-bit
        // integers to floats).
        let two52 = _mm256_set1_epi64x(0x4330_0000_0000_0000);
        for g in (0..bases.len()).step_by(4) {
            let (b, lanes) = group(bases, g);
            let mut s = seed(&b, path);
            // rng::uniform: the top 53 bits of one output times 2^-53.
            // Split as (top 52 bits) * 2 + the next bit, both exact.
            let bits = _mm256_srli_epi64::<11>(next(&mut s));
            let half = _mm256_srli_epi64::<1>(bits);
            let f = _mm256_sub_pd(
                _mm256_castsi256_pd(_mm256_or_si256(half, two52)),
                _mm256_castsi256_pd(two52),
            );
            let low = _mm256_and_si256(bits, _mm256_set1_epi64x(1));
            let f = _mm256_add_pd(
                _mm256_add_pd(f, f),
                _mm256_sub_pd(
                    _mm256_castsi256_pd(_mm256_or_si256(low, two52)),
                    _mm256_castsi256_pd(two52),
                ),
            );
            let f = _mm256_mul_pd(f, _mm256_set1_pd(1.0 / (1u64 << 53) as f64));
            let mut lane = [0.0; 4];
            _mm256_storeu_pd(lane.as_mut_ptr(), f);
            u[g..g + lanes].copy_from_slice(&lane[..lanes]);
            // Then a normal, as Words::normal.
            let bits = next(&mut s);
            let (x, inside) = fast_normal(bits);
            _mm256_storeu_pd(lane.as_mut_ptr(), x);
            let miss = !inside & ((1u32 << lanes) - 1);
            if miss != 0 {
                finish(&mut s, bits, miss, |l, v| lane[l] = v);
            }
            z[g..g + lanes].copy_from_slice(&lane[..lanes]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_distr::{Distribution, Exp1, StandardNormal};

    /// `got` is rand_distr's `want` bit for bit or, for a draw from the
    /// tail (beyond `r`, the Ziggurat's R), within one unit in the last
    /// place: there the draw is a logarithm, libm's here and the
    /// platform's in rand_distr, which differ in the last bit for a few
    /// arguments ([`normals_and_exponentials_match_rand_distr`]).
    fn as_rand_distr(got: f64, want: f64, r: f64) -> bool {
        let ulps = (got.to_bits() as i64 - want.to_bits() as i64).abs();
        ulps == 0 || (want.abs() > r && ulps == 1)
    }

    /// [`normal`] and [`exp1`] on a [`rng::Stream`] are rand_distr's
    /// ([`as_rand_distr`]), over enough draws that hundreds of each go
    /// through the Ziggurat's tail and thousands through its wedges, and
    /// leave the stream in the same place. In the tail a few differ in
    /// the last bit (libm's `log` against the platform's: 9 of some 1,400
    /// here); in the wedges the density, the kernel's `exp` here, only
    /// decides whether a draw is accepted, and a last-bit difference there
    /// would matter once in about 2^52 draws.
    #[test]
    fn normals_and_exponentials_match_rand_distr() {
        use super::super::ziggurat_tables::{ZIG_EXP_R as EXP_R, ZIG_NORM_R as R};
        let (mut ours, mut theirs) = (rng::stream(3, 1, 4), rng::stream(3, 1, 4));
        let (mut tails, mut off) = ([0; 2], [0; 2]);
        for _ in 0..2_000_000 {
            let got = [normal(&mut ours), exp1(&mut ours)];
            let want: [f64; 2] = [StandardNormal.sample(&mut theirs), Exp1.sample(&mut theirs)];
            for (k, r) in [R, EXP_R].into_iter().enumerate() {
                assert!(
                    as_rand_distr(got[k], want[k], r),
                    "{} vs {}",
                    got[k],
                    want[k]
                );
                tails[k] += (want[k].abs() > r) as usize;
                off[k] += (got[k].to_bits() != want[k].to_bits()) as usize;
            }
        }
        assert_eq!(ours.next_u64(), theirs.next_u64());
        assert!(tails[0] > 300 && tails[1] > 500, "tails {tails:?}");
        assert!(
            off[0] + off[1] <= 10,
            "{off:?} of the tails {tails:?} differ"
        );
    }

    /// The vectorised draws are the scalar code's, bit for bit, and
    /// rand_distr's ([`as_rand_distr`]): 1,000 paths of 3
    /// to 11 factors (full and partly used lane groups) over 60 periods,
    /// about 420,000 draws: some 6,000 go through the slow path, about 100
    /// of them through the tail.
    #[test]
    fn lanes_draw_what_rand_distr_draws() {
        use super::super::ziggurat_tables::{ZIG_NORM_R as R, ZIG_NORM_X as X};
        let nt = 60;
        let (mut slow, mut tail) = (0, 0);
        for path in 0..1_000u64 {
            let (seed, nf) = (42 + path % 3, 3 + (path % 9) as usize);
            let keys: Vec<u64> = (0..nf)
                .map(|f| rng::factor_key(&format!("factor/{f}/{}", path % 7)))
                .collect();
            let bases: Vec<u64> = keys.iter().map(|&k| rng::stream_base(seed, k)).collect();
            let mut fast = vec![0.0; nt * nf];
            let mut plain = vec![0.0; nt * nf];
            fill_columns(&bases, path, &mut fast);
            fill_columns_scalar(&bases, path, &mut plain);
            for (f, &key) in keys.iter().enumerate() {
                // rand_distr on the stream as `rng::stream` makes it.
                let mut r = rng::stream(seed, path, key);
                // And the draws replayed to count those off the fast path.
                let mut w = Words(rng::state_words_at(bases[f], path));
                for t in 0..nt {
                    let want: f64 = StandardNormal.sample(&mut r);
                    let (a, b) = (fast[t * nf + f], plain[t * nf + f]);
                    // The lanes' and the scalar code's: the same bits.
                    assert_eq!(a.to_bits(), b.to_bits(), "path {path}, factor {f}");
                    assert!(as_rand_distr(a, want, R), "path {path}, factor {f}");
                    let (i, u, x) = Words::layer(w.next_word());
                    if x.abs() >= X[i + 1] {
                        slow += 1;
                        tail += (i == 0) as usize;
                        finish_normal(&mut w, i, u, x);
                    }
                }
            }
        }
        assert!(slow > 4_000 && tail > 40, "slow {slow}, tail {tail}");
    }

    /// The tranches' draws, in lanes and one stream at a time, are a
    /// uniform and then a normal from each stream as [`rng`] and rand_distr
    /// draw them (and as `exp(sigma z)`, `exp` the kernel's): 1 to
    /// 11 streams (full and partly used lane groups) on 20,000 paths, some
    /// 3,000 of whose normals leave the fast path.
    #[test]
    fn uniform_then_normal_as_rand_distr_draws() {
        use super::super::ziggurat_tables::{ZIG_NORM_R as R, ZIG_NORM_X as X};
        let mut slow = 0;
        for path in 0..20_000u64 {
            let n = 1 + (path % 11) as usize;
            let keys: Vec<u64> = (0..n)
                .map(|i| rng::factor_key(&format!("tranche/p/{i}")))
                .collect();
            let bases: Vec<u64> = keys.iter().map(|&k| rng::stream_base(5, k)).collect();
            let sigma: Vec<f64> = (0..n).map(|i| 0.1 * i as f64).collect();
            let (mut u, mut f) = (vec![0.0; n], vec![0.0; n]);
            let (mut u1, mut f1) = (vec![0.0; n], vec![0.0; n]);
            uniform_lognormal(&bases, &sigma, path, &mut u, &mut f);
            uniform_lognormal_scalar(&bases, &sigma, path, &mut u1, &mut f1);
            let (mut u2, mut z2) = (vec![0.0; n], vec![0.0; n]);
            uniform_normal(&bases, path, &mut u2, &mut z2);
            for (i, &key) in keys.iter().enumerate() {
                let mut r = rng::stream(5, path, key);
                let want_u = rng::uniform(&mut r).to_bits();
                let want_z: f64 = StandardNormal.sample(&mut r);
                let want_f = exp::exp(sigma[i] * z2[i]).to_bits();
                assert_eq!(u2[i].to_bits(), want_u, "path {path}, stream {i}");
                assert!(as_rand_distr(z2[i], want_z, R), "path {path}, stream {i}");
                assert_eq!(u[i].to_bits(), want_u, "path {path}, stream {i}");
                assert_eq!(u1[i].to_bits(), want_u, "path {path}, stream {i}");
                assert_eq!(f[i].to_bits(), want_f, "path {path}, stream {i}");
                assert_eq!(f1[i].to_bits(), want_f, "path {path}, stream {i}");
                let mut w = Words(rng::state_words_at(bases[i], path));
                w.next_word();
                let (l, _, x) = Words::layer(w.next_word());
                slow += (x.abs() >= X[l + 1]) as usize;
            }
        }
        assert!(slow > 1_000, "slow {slow}");
    }

    /// The scalar draws the kernel's one-off streams use ([`Words::normal`],
    /// and [`rng::uniform`] and rand_distr's `Exp1` on [`Words`]) against
    /// rand_distr and [`rng`] on [`rng::Stream`], over draws many of which
    /// start in the tail layer or in a wedge.
    #[test]
    fn scalar_draws_match_rand_distr() {
        use super::super::ziggurat_tables::{ZIG_EXP_R as EXP_R, ZIG_NORM_R as R, ZIG_NORM_X as X};
        let (mut tails, mut wedges) = (0, 0);
        for path in 0..20_000u64 {
            let mut r = rng::stream(7, path, 11);
            let mut w = Words::at(rng::stream_base(7, 11), path);
            for k in 0..40 {
                let (i, _, x) = Words::layer(w.clone().next_word());
                if x.abs() >= X[i + 1] {
                    if i == 0 {
                        tails += 1;
                    } else {
                        wedges += 1;
                    }
                }
                let want: f64 = StandardNormal.sample(&mut r);
                assert!(as_rand_distr(w.normal(), want, R));
                if k % 8 == 0 {
                    let u = rng::uniform(&mut w);
                    assert_eq!(u.to_bits(), rng::uniform(&mut r).to_bits());
                    let want: f64 = Exp1.sample(&mut r);
                    assert!(as_rand_distr(rng::exp1(&mut w), want, EXP_R));
                }
            }
            assert_eq!(w.next_word(), rand::Rng::next_u64(&mut r));
        }
        assert!(
            tails > 50 && wedges > 5_000,
            "tails {tails}, wedges {wedges}"
        );
    }
}
