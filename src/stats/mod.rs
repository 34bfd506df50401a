//! Streaming, mergeable statistics over paths (MODEL.md section 8).
//!
//! Means and variances: each fixed chunk of [`CHUNK`] consecutive paths sums
//! deviations from its first path's value (a shifted-data algorithm, Chan,
//! Golub & LeVeque 1983), and chunks are merged into the total in path order
//! with Chan et al.'s pairwise update. Chunks are defined by path index, not
//! by thread or block, so results are bitwise identical for any thread count
//! and any block size that is a multiple of [`CHUNK`].
//!
//! Quantiles and CVaR: the [`sketch::Sketch`] (0.39% relative error bound),
//! clamped to the exact min and max; while a run goes, each worker counts
//! in 16 bits ([`HotTails`]) and empties its counts into the run's sketches
//! before they could overflow. Memory is independent of the number of paths.

pub mod sketch;

use serde::{Deserialize, Serialize};
use sketch::{Extremes, Sketch, Ties};

/// Paths per moment chunk (a fixed part of the reduction order).
pub const CHUNK: usize = 1024;

/// Levels reported in summary.csv.
pub const QUANTILES: [f64; 9] = [0.01, 0.05, 0.10, 0.25, 0.50, 0.75, 0.90, 0.95, 0.99];

/// Count, mean and sum of squared deviations of one metric.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq)]
pub struct Moments {
    pub n: u64,
    pub mean: f64,
    pub m2: f64,
}

impl Moments {
    /// Chan, Golub & LeVeque's update for merging two sets.
    pub fn merge(&mut self, o: &Moments) {
        if o.n == 0 {
            return;
        }
        if self.n == 0 {
            *self = *o;
            return;
        }
        let n = self.n + o.n;
        let delta = o.mean - self.mean;
        self.mean += delta * (o.n as f64 / n as f64);
        self.m2 += o.m2 + delta * delta * (self.n as f64 * o.n as f64 / n as f64);
        self.n = n;
    }
}

/// One chunk's shifted sums for every metric.
#[derive(Debug, Clone)]
pub struct ChunkSums {
    pub n: u64,
    pub shift: Vec<f64>,
    pub s1: Vec<f64>,
    pub s2: Vec<f64>,
}

impl ChunkSums {
    pub fn new(k: usize) -> ChunkSums {
        ChunkSums {
            n: 0,
            shift: vec![0.0; k],
            s1: vec![0.0; k],
            s2: vec![0.0; k],
        }
    }

    pub fn clear(&mut self) {
        self.n = 0;
        self.s1.iter_mut().for_each(|x| *x = 0.0);
        self.s2.iter_mut().for_each(|x| *x = 0.0);
    }

    #[inline]
    pub fn add(&mut self, x: &[f64]) {
        if self.n == 0 {
            self.shift.copy_from_slice(x);
        }
        self.n += 1;
        for (((v, sh), s1), s2) in x
            .iter()
            .zip(&self.shift)
            .zip(&mut self.s1)
            .zip(&mut self.s2)
        {
            let d = v - sh;
            *s1 += d;
            *s2 += d * d;
        }
    }

    /// Adds `rows.len() / k` paths stored row-major (`k` values each), in
    /// path order; the same sums as calling [`ChunkSums::add`] per row.
    /// Four rows at a time, so the inner loop runs over contiguous metrics
    /// (it vectorises and has no long dependency chain); each metric still
    /// sums its paths in path order.
    pub fn add_rows(&mut self, rows: &[f64], k: usize) {
        #[cfg(target_arch = "x86_64")]
        {
            if crate::simd::avx2() {
                // SAFETY: the CPU has AVX2 (`simd::avx2` checks).
                unsafe { self.add_rows_avx2(rows, k) };
                return;
            }
        }
        self.add_rows_plain(rows, k)
    }

    /// [`ChunkSums::add_rows`] compiled for AVX2 (the same operations, so
    /// the same sums). Caller: the CPU has AVX2.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn add_rows_avx2(&mut self, rows: &[f64], k: usize) {
        self.add_rows_plain(rows, k)
    }

    #[inline(always)]
    fn add_rows_plain(&mut self, rows: &[f64], k: usize) {
        if rows.is_empty() {
            return;
        }
        if self.n == 0 {
            self.shift.copy_from_slice(&rows[..k]);
        }
        self.n += (rows.len() / k) as u64;
        let (shift, s1, s2) = (&self.shift[..k], &mut self.s1[..k], &mut self.s2[..k]);
        // Four rows at a time: each sum loaded and stored once for four
        // additions, made in path order (`a + b + c` is `(a + b) + c`).
        let mut quads = rows.chunks_exact(4 * k);
        for q in &mut quads {
            let [r0, r1, r2, r3] = four_rows(q, k, k);
            for m in 0..k {
                let sh = shift[m];
                let (d0, d1, d2, d3) = (r0[m] - sh, r1[m] - sh, r2[m] - sh, r3[m] - sh);
                s1[m] = s1[m] + d0 + d1 + d2 + d3;
                s2[m] = s2[m] + d0 * d0 + d1 * d1 + d2 * d2 + d3 * d3;
            }
        }
        for row in quads.remainder().chunks_exact(k) {
            for m in 0..k {
                let d = row[m] - shift[m];
                s1[m] += d;
                s2[m] += d * d;
            }
        }
    }

    /// The chunk's moments for metric `k`.
    pub fn moments(&self, k: usize) -> Moments {
        if self.n == 0 {
            return Moments::default();
        }
        let n = self.n as f64;
        let d = self.s1[k] / n;
        Moments {
            n: self.n,
            mean: self.shift[k] + d,
            m2: (self.s2[k] - self.s1[k] * d).max(0.0),
        }
    }
}

/// Order-independent parts: sketches, exact extremes and how many values
/// equal each (so that quantiles at those ranks are exact).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Tails {
    pub sketches: Vec<Sketch>,
    pub min: Vec<f64>,
    pub max: Vec<f64>,
    pub at_min: Vec<u64>,
    pub at_max: Vec<u64>,
}

/// Counts the values at an extreme as extremes merge: `x`, held by `n`
/// values, merging into `e`, held by `c`; `beyond`: `x` replaces `e` (is
/// lower, for a minimum). Equal values (`-0.0` and `0.0` too) add up.
#[inline(always)]
fn count_at(c: &mut u64, e: f64, x: f64, n: u64, beyond: bool) {
    if beyond {
        *c = n;
    } else if x == e {
        *c += n;
    }
}

impl Tails {
    /// Whether these tails (read from a shard's file) can be those of
    /// `paths` paths of `sketched` metrics: one sketch and extremes per
    /// metric, every sketch holding `paths` values in bucket ranges that
    /// adding values can give.
    pub fn holds(&self, sketched: usize, paths: u64) -> bool {
        self.sketches.len() == sketched
            && self.min.len() == sketched
            && self.max.len() == sketched
            && self.at_min.len() == sketched
            && self.at_max.len() == sketched
            && self
                .at_min
                .iter()
                .chain(&self.at_max)
                .all(|&c| (1..=paths).contains(&c) || (c == 0 && paths == 0))
            && self
                .sketches
                .iter()
                .all(|k| k.in_range() && k.count() == paths)
    }

    pub fn new(k: usize) -> Tails {
        Tails {
            sketches: vec![Sketch::default(); k],
            min: vec![f64::INFINITY; k],
            max: vec![f64::NEG_INFINITY; k],
            at_min: vec![0; k],
            at_max: vec![0; k],
        }
    }

    /// Adds one path's values (the plain form of [`HotTails::add_rows`]).
    #[inline]
    pub fn add(&mut self, x: &[f64]) {
        for (k, &v) in x.iter().enumerate() {
            self.sketches[k].add(v);
            self.merge_extremes(k, (v, 1), (v, 1));
        }
    }

    /// Merges extremes `lo` and `hi` of metric `k`, each with the number of
    /// values that equal it.
    #[inline]
    fn merge_extremes(&mut self, k: usize, (lo, at_lo): (f64, u64), (hi, at_hi): (f64, u64)) {
        count_at(
            &mut self.at_min[k],
            self.min[k],
            lo,
            at_lo,
            lo < self.min[k],
        );
        count_at(
            &mut self.at_max[k],
            self.max[k],
            hi,
            at_hi,
            hi > self.max[k],
        );
        self.min[k] = self.min[k].min(lo);
        self.max[k] = self.max[k].max(hi);
    }

    pub fn merge(&mut self, o: &Tails) {
        for k in 0..self.sketches.len() {
            self.sketches[k].merge(&o.sketches[k]);
            self.merge_extremes(k, (o.min[k], o.at_min[k]), (o.max[k], o.at_max[k]));
        }
    }

    /// Metric `k`'s extremes and their counts.
    pub fn extremes(&self, k: usize) -> Extremes {
        Extremes {
            min: self.min[k],
            max: self.max[k],
            at_min: self.at_min[k],
            at_max: self.at_max[k],
        }
    }

    /// Metrics `r` alone.
    pub fn slice(&self, r: std::ops::Range<usize>) -> Tails {
        Tails {
            sketches: self.sketches[r.clone()].to_vec(),
            min: self.min[r.clone()].to_vec(),
            max: self.max[r.clone()].to_vec(),
            at_min: self.at_min[r.clone()].to_vec(),
            at_max: self.at_max[r].to_vec(),
        }
    }
}

/// A worker's sketches and extremes while it runs, with 16-bit bucket counts:
/// half the cache footprint of [`Tails`] in the hottest loop of the engine.
/// Each sketch gets one value per path, so no count can overflow before
/// [`HotTails::CAPACITY`] paths; [`HotTails::flush_into`] adds everything
/// to a [`Tails`] (exact integer sums, so results do not depend on when
/// flushes happen) and starts again.
#[derive(Debug, Clone)]
pub struct HotTails {
    sketches: Vec<Sketch<u16>>,
    min: Vec<f64>,
    max: Vec<f64>,
    /// How many values equal `min` and `max`.
    at_min: Vec<u64>,
    at_max: Vec<u64>,
    /// Extremes of the rows of one [`HotTails::add_rows`] call.
    block_min: Vec<f64>,
    block_max: Vec<f64>,
    paths: u32,
}

impl HotTails {
    /// Paths that may be added between two flushes.
    pub const CAPACITY: u32 = u16::MAX as u32;

    pub fn new(k: usize) -> HotTails {
        HotTails {
            sketches: vec![Sketch::default(); k],
            min: vec![f64::INFINITY; k],
            max: vec![f64::NEG_INFINITY; k],
            at_min: vec![0; k],
            at_max: vec![0; k],
            block_min: vec![f64::INFINITY; k],
            block_max: vec![f64::NEG_INFINITY; k],
            paths: 0,
        }
    }

    /// Paths that can still be added before a flush.
    pub fn room(&self) -> u32 {
        Self::CAPACITY - self.paths
    }

    /// Adds paths stored row-major, `k` values each (at most
    /// [`HotTails::room`]); only the first `sketched` metrics of each row are
    /// kept. Extremes four rows at a time (the inner loop over contiguous
    /// metrics vectorises), sketches metric by metric (one sketch stays in
    /// cache for all the rows). A metric whose rows all hold the same value (capacity
    /// under fixed contracts, period 0's prices: about a fifth of the
    /// baseline's) is added once with the rows' count: the same counts.
    pub fn add_rows(&mut self, rows: &[f64], k: usize, sketched: usize) {
        #[cfg(target_arch = "x86_64")]
        {
            if crate::simd::avx2() {
                // SAFETY: the CPU has AVX2 (`simd::avx2` checks).
                unsafe { self.add_rows_avx2(rows, k, sketched) };
                return;
            }
        }
        self.add_rows_plain(rows, k, sketched)
    }

    /// [`HotTails::add_rows`] compiled for AVX2, the sketches' columns
    /// counted four rows at a time ([`Sketch::add_column_avx2`]): the same
    /// comparisons and counts. Caller: the CPU has AVX2.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn add_rows_avx2(&mut self, rows: &[f64], k: usize, sketched: usize) {
        self.add_rows_with::<true>(rows, k, sketched)
    }

    fn add_rows_plain(&mut self, rows: &[f64], k: usize, sketched: usize) {
        self.add_rows_with::<false>(rows, k, sketched)
    }

    /// `AVX2`: the sketches' columns go through
    /// [`Sketch::add_column_avx2`] (only from `add_rows_avx2`).
    #[inline(always)]
    fn add_rows_with<const AVX2: bool>(&mut self, rows: &[f64], k: usize, sketched: usize) {
        let n = (rows.len() / k) as u32;
        assert!(n <= self.room(), "HotTails: flush before adding more rows");
        if n == 0 {
            return;
        }
        self.paths += n;
        let (lo, hi) = (
            &mut self.block_min[..sketched],
            &mut self.block_max[..sketched],
        );
        for (l, h) in lo.iter_mut().zip(hi.iter_mut()) {
            *l = f64::INFINITY;
            *h = f64::NEG_INFINITY;
        }
        add_extremes(lo, hi, rows, k, sketched);
        for (m, s) in self.sketches[..sketched].iter_mut().enumerate() {
            // The sketch, and how many of the rows equal their extremes.
            let ties = if lo[m] == hi[m] {
                s.add_n(lo[m], n as u64);
                Ties {
                    lo: n as u64,
                    hi: n as u64,
                }
            } else if AVX2 {
                #[cfg(target_arch = "x86_64")]
                // SAFETY: `AVX2` only from `add_rows_avx2`, whose caller
                // checked that the CPU has AVX2.
                unsafe {
                    s.add_column_avx2(rows, k, m, lo[m], hi[m])
                }
                #[cfg(not(target_arch = "x86_64"))]
                unreachable!("AVX2 on x86-64 only")
            } else {
                s.add_column(rows, k, m, lo[m], hi[m])
            };
            // Into the running extremes with the same comparisons (among
            // equal values, the first one seen stays, as before).
            let (min, max) = (&mut self.min[m], &mut self.max[m]);
            count_at(&mut self.at_min[m], *min, lo[m], ties.lo, lo[m] < *min);
            count_at(&mut self.at_max[m], *max, hi[m], ties.hi, hi[m] > *max);
            *min = if lo[m] < *min { lo[m] } else { *min };
            *max = if hi[m] > *max { hi[m] } else { *max };
        }
    }

    /// Adds everything to `t` and empties these sketches (their bucket
    /// ranges stay allocated).
    pub fn flush_into(&mut self, t: &mut Tails) {
        if self.paths == 0 {
            return;
        }
        for (k, s) in self.sketches.iter_mut().enumerate() {
            t.sketches[k].merge(s);
            s.clear();
            t.merge_extremes(
                k,
                (self.min[k], self.at_min[k]),
                (self.max[k], self.at_max[k]),
            );
        }
        self.min.iter_mut().for_each(|x| *x = f64::INFINITY);
        self.max.iter_mut().for_each(|x| *x = f64::NEG_INFINITY);
        self.at_min.iter_mut().for_each(|c| *c = 0);
        self.at_max.iter_mut().for_each(|c| *c = 0);
        self.paths = 0;
    }
}

/// The first `n` values of each of four rows of `k` values stored one after
/// the other (`quad.len() == 4 * k`), as slices of exactly `n`: the loops
/// over them need no bounds checks.
#[inline(always)]
fn four_rows(quad: &[f64], k: usize, n: usize) -> [&[f64]; 4] {
    let (r0, q) = quad.split_at(k);
    let (r1, q) = q.split_at(k);
    let (r2, r3) = q.split_at(k);
    [&r0[..n], &r1[..n], &r2[..n], &r3[..n]]
}

/// Extremes of the first `sketched` metrics of rows stored row-major, four
/// rows at a time ([`four_rows`]; the inner loop over contiguous metrics
/// vectorises).
#[inline(always)]
fn add_extremes(lo: &mut [f64], hi: &mut [f64], rows: &[f64], k: usize, sketched: usize) {
    let (lo, hi) = (&mut lo[..sketched], &mut hi[..sketched]);
    // Four rows at a time (each extreme loaded and stored once for four
    // comparisons), the same comparisons in row order.
    let mut quads = rows.chunks_exact(4 * k);
    for q in &mut quads {
        let [r0, r1, r2, r3] = four_rows(q, k, sketched);
        for m in 0..sketched {
            let (mut l, mut h) = (lo[m], hi[m]);
            for v in [r0[m], r1[m], r2[m], r3[m]] {
                l = if v < l { v } else { l };
                h = if v > h { v } else { h };
            }
            lo[m] = l;
            hi[m] = h;
        }
    }
    for row in quads.remainder().chunks_exact(k) {
        let row = &row[..sketched];
        for m in 0..sketched {
            // Plain comparisons: metrics are never NaN, and f64::min/max
            // spend most of their instructions on NaN handling.
            let v = row[m];
            lo[m] = if v < lo[m] { v } else { lo[m] };
            hi[m] = if v > hi[m] { v } else { hi[m] };
        }
    }
}

/// Everything needed to summarise (and to merge with another shard of the
/// same scenario): a plain serialisable value.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Accumulated {
    pub moments: Vec<Moments>,
    pub tails: Tails,
}

impl Accumulated {
    /// `k` metrics, the first `sketched` of which get quantiles.
    pub fn new(k: usize, sketched: usize) -> Accumulated {
        Accumulated {
            moments: vec![Moments::default(); k],
            tails: Tails::new(sketched),
        }
    }

    pub fn merge_chunk(&mut self, c: &ChunkSums) {
        for (k, m) in self.moments.iter_mut().enumerate() {
            m.merge(&c.moments(k));
        }
    }

    /// Merges a chunk given by its moments ([`ChunkSums::moments`] of each
    /// value): the same sums as [`Accumulated::merge_chunk`] of the chunk.
    pub fn merge_moments(&mut self, c: &[Moments]) {
        for (m, c) in self.moments.iter_mut().zip(c) {
            m.merge(c);
        }
    }

    pub fn summary(&self, k: usize) -> Summary {
        let m = self.moments[k];
        let n = m.n as f64;
        let std = if m.n >= 2 {
            (m.m2 / (n - 1.0)).sqrt()
        } else {
            f64::NAN
        };
        let mut out = Summary {
            n: m.n,
            mean: m.mean,
            std,
            stderr: std / n.sqrt(),
            min: f64::NAN,
            max: f64::NAN,
            quantiles: [f64::NAN; 9],
            cvar95: f64::NAN,
            cvar99: f64::NAN,
        };
        if k < self.tails.sketches.len() {
            let e = self.tails.extremes(k);
            // Every value one of two whole numbers (a 0/1 metric such as
            // `agi_declared`, capex with every site built or none): their
            // sum is exact, so the mean is that sum divided once, the
            // nearest number to the true mean. The chunks' shifted sums,
            // merged, gave 0.9516999999999999 for 19,034 paths of 20,000.
            if e.min < e.max && e.at_min + e.at_max == m.n {
                let (lo, hi) = (e.min * e.at_min as f64, e.max * e.at_max as f64);
                // Whole numbers below 2^53, where each is a float: the
                // products and their sum are exact.
                let whole = |x: f64| x.fract() == 0.0 && x.abs() < 9_007_199_254_740_992.0;
                if [e.min, e.max, lo, hi, lo + hi].into_iter().all(whole) {
                    out.mean = (lo + hi) / n;
                }
            }
            let s = &self.tails.sketches[k];
            let (qs, cvars) = s.tails(&QUANTILES, &[0.95, 0.99], &e);
            out.quantiles.copy_from_slice(&qs);
            out.min = e.min;
            out.max = e.max;
            out.cvar95 = cvars[0];
            out.cvar99 = cvars[1];
        }
        out
    }
}

/// The statistics MODEL.md section 8 lists, for one metric.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Summary {
    pub n: u64,
    pub mean: f64,
    pub std: f64,
    pub stderr: f64,
    pub min: f64,
    pub max: f64,
    /// At [`QUANTILES`].
    pub quantiles: [f64; 9],
    pub cvar95: f64,
    pub cvar99: f64,
}

impl Summary {
    /// Whether every statistic it holds is a finite number: the mean, the
    /// standard deviation and its standard error (from two values on) and,
    /// for a `sketched` metric, the extremes, quantiles and CVaRs. Values
    /// near `f64::MAX` can leave the mean finite and still overflow a CVaR's
    /// sum.
    pub fn is_finite(&self, sketched: bool) -> bool {
        let spread = self.n < 2 || (self.std.is_finite() && self.stderr.is_finite());
        let tails = [self.min, self.max, self.cvar95, self.cvar99];
        let tails = !sketched || tails.iter().chain(&self.quantiles).all(|x| x.is_finite());
        self.mean.is_finite() && spread && tails
    }

    /// The quantile at level `q` (one of [`QUANTILES`]).
    pub fn q(&self, q: f64) -> f64 {
        let i = QUANTILES
            .iter()
            .position(|x| (x - q).abs() < 1e-12)
            .expect("a reported quantile level");
        self.quantiles[i]
    }
}

#[cfg(test)]
// The tests compare with, or make data by, the platform's functions.
#[allow(clippy::disallowed_methods)]
mod tests {
    use super::*;

    #[test]
    fn chunked_moments_match_two_pass() {
        let xs: Vec<f64> = (0..3000)
            .map(|i| 1e9 + (i as f64 * 0.37).sin() * 1e6)
            .collect();
        let mut acc = Accumulated::new(1, 1);
        for chunk in xs.chunks(CHUNK) {
            let mut c = ChunkSums::new(1);
            chunk.iter().for_each(|x| c.add(&[*x]));
            acc.merge_chunk(&c);
        }
        let n = xs.len() as f64;
        let mean = xs.iter().sum::<f64>() / n;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
        let s = {
            acc.tails.add(&[0.0]);
            acc.summary(0)
        };
        assert!((s.mean - mean).abs() / mean < 1e-14);
        assert!((s.std - var.sqrt()).abs() / var.sqrt() < 1e-9);
    }

    /// The chunk sums of rows added in batches (four rows at a time, then
    /// the rest) are bit for bit those of one row at a time, for batches of
    /// every length modulo four.
    #[test]
    fn chunk_sums_by_rows_equal_row_by_row() {
        let mut r = crate::rng::stream(4, 4, 4);
        let (k, n) = (5, 200);
        let rows: Vec<f64> = (0..n * k)
            .map(|i| (crate::rng::normal(&mut r) * 2.0).exp() * (1 + i % 3) as f64)
            .collect();
        let mut want = ChunkSums::new(k);
        rows.chunks_exact(k).for_each(|row| want.add(row));
        let mut got = ChunkSums::new(k);
        let mut start = 0;
        for len in [1, 2, 3, 4, 5, 6, 7, 0, 8, 9, 10, 11, 12, 13, 109] {
            got.add_rows(&rows[start * k..(start + len) * k], k);
            start += len;
        }
        assert_eq!(start, n);
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(got.n, want.n);
        assert_eq!(bits(&got.s1), bits(&want.s1));
        assert_eq!(bits(&got.s2), bits(&want.s2));
    }

    #[test]
    fn hot_tails_flushed_at_any_point_equal_tails() {
        // Rows of 10 metrics (the last not sketched): mixed values with zeros
        // and negatives, constant ones (positive, negative, zeros of both
        // signs; these take the one-add path for a whole batch), one
        // constant for the first 72 rows only, and point masses at the
        // top, the bottom and a negative bottom that share their bucket
        // with other values; added in uneven batches with flushes in
        // between.
        let mut r = crate::rng::stream(3, 2, 1);
        let (k, ks, n) = (10, 9, 1000);
        let mut rows = Vec::with_capacity(n * k);
        for j in 0..n {
            let mut mixed = |i: usize| match i % 5 {
                0 => 0.0,
                1 => -crate::rng::uniform(&mut r),
                _ => (crate::rng::normal(&mut r) * 2.0).exp(),
            };
            rows.push(mixed(j * 2));
            rows.push(mixed(j * 2 + 1));
            rows.push(2.5);
            rows.push(-1.25);
            rows.push(if j % 3 == 0 { -0.0 } else { 0.0 });
            rows.push(if j < 72 { 7.0 } else { mixed(j) });
            let last = mixed(j);
            let u = (j as f64 * 0.618_033_988_75).fract();
            rows.push(match j % 5 {
                0 | 1 => 100.5,
                2 => 100.2,
                _ => 50.0 * (1.0 + u),
            });
            rows.push(match j % 10 {
                0..=2 => 3.0,
                3 => 3.01,
                _ => 3.5 + u,
            });
            rows.push(match j % 4 {
                0 => -5.01,
                1 => -5.005,
                _ => -u,
            });
            rows.push(last);
        }
        // The reference: one value at a time.
        let mut want = Tails::new(ks);
        rows.chunks_exact(k).for_each(|row| want.add(&row[..ks]));
        let mut got = Tails::new(ks);
        let mut hot = HotTails::new(ks);
        let mut start = 0;
        for (i, len) in [1, 64, 7, 300, 0, 628].into_iter().enumerate() {
            hot.add_rows(&rows[start * k..(start + len) * k], k, ks);
            start += len;
            if i % 2 == 1 {
                hot.flush_into(&mut got);
            }
        }
        hot.flush_into(&mut got);
        assert_eq!(start, n);
        assert_eq!(
            (got.min.clone(), got.max.clone()),
            (want.min.clone(), want.max.clone())
        );
        // The values at each extreme, counted across batches and flushes:
        // all of them for the constants (zeros of both signs count alike).
        assert_eq!(
            (got.at_min.clone(), got.at_max.clone()),
            (want.at_min.clone(), want.at_max.clone())
        );
        for m in [2, 3, 4] {
            assert_eq!((got.at_min[m], got.at_max[m]), (n as u64, n as u64));
        }
        assert_eq!((got.max[6], got.at_max[6]), (100.5, 400));
        assert_eq!((got.min[7], got.at_min[7]), (3.0, 300));
        assert_eq!((got.min[8], got.at_min[8]), (-5.01, 250));
        for m in 0..ks {
            assert_eq!(got.sketches[m].count(), n as u64);
            let q = |t: &Tails| t.sketches[m].quantiles(&QUANTILES, t.min[m], t.max[m]);
            assert_eq!(q(&got), q(&want));
            assert_eq!(
                got.sketches[m].cvar(0.95, got.min[m], got.max[m]),
                want.sketches[m].cvar(0.95, want.min[m], want.max[m])
            );
        }
        assert_eq!(hot.room(), HotTails::CAPACITY);
    }

    /// The ingest's AVX2 build (taken on CPUs with AVX2) and its plain build
    /// give the same sums, extremes and counts, bit for bit.
    #[test]
    fn ingest_builds_agree() {
        let mut r = crate::rng::stream(5, 6, 7);
        let (k, ks, n) = (37, 30, 640);
        let rows: Vec<f64> = (0..n * k)
            .map(|i| match (i % k) % 6 {
                0 => 0.0,
                1 => 3.5,
                2 => -crate::rng::uniform(&mut r) * 1e3,
                _ => (crate::rng::normal(&mut r) * 3.0).exp() * 1e6,
            })
            .collect();
        let (mut a, mut b) = (ChunkSums::new(k), ChunkSums::new(k));
        for part in rows.chunks(64 * k) {
            a.add_rows(part, k);
            b.add_rows_plain(part, k);
        }
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(a.n, b.n);
        assert_eq!(bits(&a.s1), bits(&b.s1));
        assert_eq!(bits(&a.s2), bits(&b.s2));
        let (mut ha, mut hb) = (HotTails::new(ks), HotTails::new(ks));
        for part in rows.chunks(64 * k) {
            ha.add_rows(part, k, ks);
            hb.add_rows_plain(part, k, ks);
        }
        let (mut ta, mut tb) = (Tails::new(ks), Tails::new(ks));
        ha.flush_into(&mut ta);
        hb.flush_into(&mut tb);
        assert_eq!(ta, tb);
        assert_eq!(ta.sketches[1].count(), n as u64);
    }

    #[test]
    #[should_panic(expected = "flush before adding more rows")]
    fn hot_tails_refuse_to_overflow() {
        let mut hot = HotTails::new(1);
        let rows = vec![1.0; HotTails::CAPACITY as usize + 1];
        hot.add_rows(&rows, 1, 1);
    }
}
