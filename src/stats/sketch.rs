//! A mergeable log-bucket quantile sketch with a 0.39% relative error bound.
//!
//! Method: the bucket of a positive `x` is its IEEE-754 bit pattern shifted
//! right by 45 bits, i.e. the 11 exponent bits plus the top 7 mantissa bits.
//! Positive doubles order like their bit patterns, so buckets are contiguous
//! and ordered, and each spans `[lo, hi)` with `hi <= lo * (1 + 2^-7)`. This is
//! the log-linear bucketing of HDR Histogram (Tene) and of DDSketch's
//! "linearly interpolated" mapping (Masson, Rim & Lee, VLDB 2019), computed
//! with one shift instead of a logarithm.
//!
//! Error bound: a bucket is represented by `2 lo hi / (lo + hi)` (computed
//! so that it neither overflows nor underflows at the ends of the range),
//! which is within `(hi - lo) / (hi + lo) <= 1 / 257 = 0.389%` of every
//! value in the bucket, for every normal number up to `f64::MAX`. So the
//! value this sketch returns for rank `r` is within 0.39% of
//! the true `r`-th order statistic (zero is exact; negative values are
//! handled symmetrically). Type-7 quantiles interpolate two such ranks and
//! inherit the bound; CVaR averages such values and inherits it too. Results
//! are also clamped to the exact min and max. Counts are integers, so merging
//! is exact and order-independent.

use serde::{Deserialize, Serialize};

const SHIFT: u32 = 45;

/// Bucket indices a magnitude can have (the sign bit is not in them).
const INDICES: usize = 1 << (63 - SHIFT);

/// Buckets a store keeps either side of a new value's (about 1.5
/// octaves): most metrics never grow again.
const SLACK: usize = 192;

#[inline(always)]
fn bucket(x: f64) -> usize {
    (x.to_bits() >> SHIFT) as usize
}

#[inline]
fn representative(idx: usize) -> f64 {
    let lo = f64::from_bits((idx as u64) << SHIFT);
    let hi = f64::from_bits(((idx + 1) as u64) << SHIFT);
    let num = 2.0 * lo * hi;
    if num.is_normal() {
        return num / (lo + hi);
    }
    // Buckets past about 1e154 in magnitude, where `lo * hi` overflows,
    // below about 1e-154, where it underflows, and zero's: the same value
    // written so that nothing overflows or underflows (only here, so every
    // other bucket keeps its bits). The top bucket's `hi` is 2^1024, one
    // past `f64::MAX`: its ratio is taken with halves.
    let ratio = if hi.is_finite() {
        lo / hi
    } else {
        0.5 * lo.abs() / f64::from_bits(0x7fe << 52)
    };
    lo * (2.0 / (1.0 + ratio))
}

/// A bucket count: `u32` in the sketches a run keeps (a sketch never sees
/// more values than a run has paths, which validation caps at 4e9), `u16`
/// in the workers' hot sketches ([`crate::stats::HotTails`]), which are
/// emptied into the former before any count could overflow.
pub trait Count:
    Copy + Default + PartialEq + std::ops::AddAssign + std::ops::BitOr<Output = Self> + Into<u64>
{
    const ONE: Self;
    /// `n` as a count; callers guarantee it fits.
    fn of(n: u64) -> Self;
}

impl Count for u16 {
    const ONE: u16 = 1;
    fn of(n: u64) -> u16 {
        debug_assert!(n <= u16::MAX as u64);
        n as u16
    }
}

impl Count for u32 {
    const ONE: u32 = 1;
    fn of(n: u64) -> u32 {
        debug_assert!(n <= u32::MAX as u64);
        n as u32
    }
}

/// How many values of a column equal its lowest and its highest
/// ([`Sketch::add_column`]).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Ties {
    pub lo: u64,
    pub hi: u64,
}

impl Ties {
    #[inline(always)]
    fn add(&mut self, x: f64, lo: f64, hi: f64) {
        self.lo += (x == lo) as u64;
        self.hi += (x == hi) as u64;
    }
}

/// Counts are scanned this many at a time: a group without any (most of a
/// store's range in a short run) is passed over with one vector OR.
const GROUP: usize = 16;

fn all_zero<C: Count>(group: &[C]) -> bool {
    group.iter().fold(C::default(), |a, &c| a | c) == C::default()
}

/// The index of the first nonzero count.
fn first_nonzero<C: Count>(counts: &[C]) -> Option<usize> {
    let zero = C::default();
    let (j, g) = counts
        .chunks(GROUP)
        .enumerate()
        .find(|(_, g)| !all_zero(g))?;
    g.iter().position(|&c| c != zero).map(|i| j * GROUP + i)
}

/// The index of the last nonzero count.
fn last_nonzero<C: Count>(counts: &[C]) -> Option<usize> {
    let zero = C::default();
    let (j, g) = counts
        .chunks(GROUP)
        .enumerate()
        .rfind(|(_, g)| !all_zero(g))?;
    g.iter().rposition(|&c| c != zero).map(|i| j * GROUP + i)
}

/// Dense counts over a growing range of bucket indices.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Store<C = u32> {
    offset: usize,
    counts: Vec<C>,
}

impl<C: Count> Store<C> {
    #[inline(always)]
    fn add(&mut self, idx: usize, n: C) {
        if idx < self.offset || idx >= self.offset + self.counts.len() {
            self.grow(idx);
        }
        self.counts[idx - self.offset] += n;
    }

    #[cold]
    fn grow(&mut self, idx: usize) {
        // Room for `SLACK` buckets either side.
        if self.counts.is_empty() {
            self.offset = idx.saturating_sub(SLACK);
            self.counts = vec![C::default(); idx - self.offset + SLACK];
            return;
        }
        let lo = self.offset.min(idx.saturating_sub(SLACK));
        let hi = (self.offset + self.counts.len()).max(idx + SLACK);
        let mut counts = vec![C::default(); hi - lo];
        counts[self.offset - lo..self.offset - lo + self.counts.len()]
            .copy_from_slice(&self.counts);
        self.offset = lo;
        self.counts = counts;
    }

    fn merge<D: Count>(&mut self, other: &Store<D>) {
        // The other store's occupied range, added slice to slice once this
        // store covers both its ends.
        let Some(first) = first_nonzero(&other.counts) else {
            return;
        };
        let last = last_nonzero(&other.counts).unwrap_or(first);
        let (lo, hi) = (other.offset + first, other.offset + last);
        if self.counts.is_empty() {
            // The occupied range only: a worker's store has room around
            // its values, which the merged one would otherwise allocate
            // and zero for every metric.
            self.offset = lo;
            self.counts = other.counts[first..=last]
                .iter()
                .map(|&c| C::of(c.into()))
                .collect();
            return;
        }
        for idx in [lo, hi] {
            if idx < self.offset || idx >= self.offset + self.counts.len() {
                self.grow(idx);
            }
        }
        let dst = &mut self.counts[lo - self.offset..=hi - self.offset];
        for (d, &c) in dst.iter_mut().zip(&other.counts[first..=last]) {
            *d += C::of(c.into());
        }
    }

    fn clear(&mut self) {
        self.counts.iter_mut().for_each(|c| *c = C::default());
    }

    /// Whether its range is one that adding values can give (a store read
    /// from a file may hold anything).
    fn in_range(&self) -> bool {
        self.offset
            .checked_add(self.counts.len())
            .is_some_and(|end| end <= INDICES + SLACK)
    }

    /// (bucket index, count) from the lowest bucket up.
    #[cfg(test)]
    fn ascending(&self) -> impl DoubleEndedIterator<Item = (usize, u64)> + '_ {
        let zero = C::default();
        self.counts
            .iter()
            .enumerate()
            .filter(move |(_, c)| **c != zero)
            .map(move |(i, c)| (self.offset + i, (*c).into()))
    }

    /// Calls `f(bucket index, count)` for each nonzero count, from the
    /// lowest bucket up or, with `descending`, from the highest down;
    /// groups of [`GROUP`] counts without any are passed over whole.
    #[inline]
    fn each_nonzero(&self, descending: bool, mut f: impl FnMut(usize, u64)) {
        let zero = C::default();
        let groups = self.counts.chunks(GROUP).enumerate();
        let mut visit = |(j, g): (usize, &[C])| {
            if all_zero(g) {
                return;
            }
            let start = self.offset + j * GROUP;
            if descending {
                for (i, &c) in g.iter().enumerate().rev() {
                    if c != zero {
                        f(start + i, c.into());
                    }
                }
            } else {
                for (i, &c) in g.iter().enumerate() {
                    if c != zero {
                        f(start + i, c.into());
                    }
                }
            }
        };
        if descending {
            groups.rev().for_each(&mut visit);
        } else {
            groups.for_each(&mut visit);
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Sketch<C = u32> {
    pos: Store<C>,
    /// Magnitudes of negative values.
    neg: Store<C>,
    zeros: u64,
}

impl<C: Count> Sketch<C> {
    #[inline(always)]
    pub fn add(&mut self, x: f64) {
        self.add_n(x, 1)
    }

    /// Adds `x` `n` times (`n` must fit the count type).
    #[inline(always)]
    pub fn add_n(&mut self, x: f64, n: u64) {
        if x > 0.0 {
            self.pos.add(bucket(x), C::of(n));
        } else if x < 0.0 {
            self.neg.add(bucket(-x), C::of(n));
        } else {
            self.zeros += n;
        }
    }

    /// Adds column `m` of rows stored row-major, `k` values each, and
    /// counts the values equal to `lo` and to `hi` (the column's extremes,
    /// whose quantiles are then exact: [`Ties`]). The positive store's
    /// offset and counts are held in locals (a count's store cannot then
    /// force a reload of the store's header); the rare values outside them
    /// take the general path.
    #[inline]
    pub fn add_column(&mut self, rows: &[f64], k: usize, m: usize, lo: f64, hi: f64) -> Ties {
        let mut ties = Ties::default();
        let mut rest = rows;
        while !rest.is_empty() {
            let off = self.pos.offset;
            let counts = &mut self.pos.counts[..];
            let mut zeros = 0u64;
            let mut stop = rest.len();
            for (j, row) in rest.chunks_exact(k).enumerate() {
                let x = row[m];
                ties.add(x, lo, hi);
                if x > 0.0 {
                    if let Some(c) = counts.get_mut(bucket(x).wrapping_sub(off)) {
                        *c += C::ONE;
                        continue;
                    }
                } else if x == 0.0 {
                    zeros += 1;
                    continue;
                }
                stop = j * k;
                break;
            }
            self.zeros += zeros;
            if stop == rest.len() {
                return ties;
            }
            // A negative value or a positive one outside the store (its
            // ties counted above).
            self.add(rest[stop + m]);
            rest = &rest[stop + k..];
        }
        ties
    }

    /// [`Sketch::add_column`] (the column and its [`Ties`]) four rows at a
    /// time in AVX2 lanes: the four values loaded one by one into a vector
    /// (a gather instruction was slower: the group waited for its result),
    /// their buckets computed and checked against the positive store's
    /// range together, and compared with `lo` and `hi`; a group with a
    /// negative value or a value outside the store goes through
    /// [`Sketch::add`] one by one, as do the last rows. The same counts
    /// (counting does not depend on the order).
    ///
    /// # Safety
    /// The CPU has AVX2 (`simd::avx2`).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    pub(crate) unsafe fn add_column_avx2(
        &mut self,
        rows: &[f64],
        k: usize,
        m: usize,
        lo: f64,
        hi: f64,
    ) -> Ties {
        use std::arch::x86_64::*;
        assert!(m < k, "column {m} of rows of {k}");
        let n = rows.len() / k;
        let zero = _mm256_setzero_pd();
        let minus_one = _mm256_set1_epi64x(-1);
        let (lo_v, hi_v) = (_mm256_set1_pd(lo), _mm256_set1_pd(hi));
        let groups = n / 4;
        // Lanes equal to `lo` and to `hi`, counted in lanes (each adds its
        // mask, -1); zeros one by one in groups that hold any (every lane
        // of a group here is counted in the store or zero).
        let mut zeros = 0u64;
        let (mut at_lo, mut at_hi) = (_mm256_setzero_si256(), _mm256_setzero_si256());
        let mut ties = Ties::default();
        let mut g = 0;
        while g < groups {
            // The store's range, read again after every slow group (which
            // may have grown it).
            let off = _mm256_set1_epi64x(self.pos.offset as i64);
            let len = _mm256_set1_epi64x(self.pos.counts.len() as i64);
            let counts = self.pos.counts.as_mut_ptr();
            while g < groups {
                // SAFETY: rows 4g..4g+4 exist (g < n / 4), so the four
                // elements `(4g + l) * k + m` (m < k) lie within `rows`.
                let x = unsafe {
                    let p = rows.as_ptr().add(4 * g * k + m);
                    _mm256_setr_pd(*p, *p.add(k), *p.add(2 * k), *p.add(3 * k))
                };
                let bucket = _mm256_srli_epi64::<{ SHIFT as i32 }>(_mm256_castpd_si256(x));
                let idx = _mm256_sub_epi64(bucket, off);
                let inside = _mm256_and_si256(
                    _mm256_cmpgt_epi64(len, idx),
                    _mm256_cmpgt_epi64(idx, minus_one),
                );
                let positive = _mm256_cmp_pd::<_CMP_GT_OQ>(x, zero);
                let counted =
                    _mm256_movemask_pd(_mm256_and_pd(positive, _mm256_castsi256_pd(inside)));
                let is_zero = _mm256_cmp_pd::<_CMP_EQ_OQ>(x, zero);
                if counted | _mm256_movemask_pd(is_zero) != 0b1111 {
                    break;
                }
                let eq_lo = _mm256_cmp_pd::<_CMP_EQ_OQ>(x, lo_v);
                let eq_hi = _mm256_cmp_pd::<_CMP_EQ_OQ>(x, hi_v);
                at_lo = _mm256_sub_epi64(at_lo, _mm256_castpd_si256(eq_lo));
                at_hi = _mm256_sub_epi64(at_hi, _mm256_castpd_si256(eq_hi));
                let mut at = [0i64; 4];
                // SAFETY: `at` holds four i64s.
                unsafe { _mm256_storeu_si256(at.as_mut_ptr().cast(), idx) };
                if counted == 0b1111 {
                    for i in at {
                        // SAFETY: every lane is `inside`: 0 <= i < the
                        // number of counts.
                        unsafe { *counts.add(i as usize) += C::ONE };
                    }
                } else {
                    for (l, &i) in at.iter().enumerate() {
                        if counted & (1 << l) != 0 {
                            // SAFETY: lane l is `inside`.
                            unsafe { *counts.add(i as usize) += C::ONE };
                        } else {
                            zeros += 1;
                        }
                    }
                }
                g += 1;
            }
            if g < groups {
                // A negative value or a positive one outside the store.
                for row in rows[4 * g * k..4 * (g + 1) * k].chunks_exact(k) {
                    ties.add(row[m], lo, hi);
                    self.add(row[m]);
                }
                g += 1;
            }
        }
        let lanes = |v: __m256i| {
            let mut l = [0u64; 4];
            // SAFETY: `l` holds four u64s.
            unsafe { _mm256_storeu_si256(l.as_mut_ptr().cast(), v) };
            l.iter().sum::<u64>()
        };
        self.zeros += zeros;
        ties.lo += lanes(at_lo);
        ties.hi += lanes(at_hi);
        let j = 4 * groups;
        for row in rows[j * k..n * k].chunks_exact(k) {
            ties.add(row[m], lo, hi);
            self.add(row[m]);
        }
        ties
    }

    /// Adds every value of `other` (whatever its count type).
    pub fn merge<D: Count>(&mut self, other: &Sketch<D>) {
        self.pos.merge(&other.pos);
        self.neg.merge(&other.neg);
        self.zeros += other.zeros;
    }

    pub fn clear(&mut self) {
        self.pos.clear();
        self.neg.clear();
        self.zeros = 0;
    }

    /// Whether its bucket ranges are ones that adding values can give (a
    /// sketch read from a file may hold anything; merging one with an
    /// absurd range would try to allocate it).
    pub fn in_range(&self) -> bool {
        self.pos.in_range() && self.neg.in_range()
    }

    pub fn count(&self) -> u64 {
        // Saturating: a sketch read from a file may hold anything.
        [&self.pos, &self.neg]
            .iter()
            .flat_map(|s| s.counts.iter())
            .fold(self.zeros, |n, &c| n.saturating_add(c.into()))
    }

    /// (value, count) in ascending order of value.
    #[cfg(test)]
    fn ascending(&self) -> impl Iterator<Item = (f64, u64)> + '_ {
        self.neg
            .ascending()
            .rev()
            .map(|(i, c)| (-representative(i), c))
            .chain((self.zeros > 0).then_some((0.0, self.zeros)))
            .chain(self.pos.ascending().map(|(i, c)| (representative(i), c)))
    }

    /// Non-empty buckets in ascending order: (representative, cumulative count).
    fn cumulative(&self) -> Vec<(f64, u64)> {
        let mut seen = 0;
        let mut cum = Vec::with_capacity(self.neg.counts.len() + 1 + self.pos.counts.len());
        self.neg.each_nonzero(true, |i, c| {
            seen += c;
            cum.push((-representative(i), seen));
        });
        if self.zeros > 0 {
            seen += self.zeros;
            cum.push((0.0, seen));
        }
        self.pos.each_nonzero(false, |i, c| {
            seen += c;
            cum.push((representative(i), seen));
        });
        cum
    }

    /// Approximate value of the `rank`-th smallest (0-based): exact at the
    /// ranks `e` knows hold its extremes, else its bucket's representative
    /// clamped to the exact range.
    fn at_rank(cum: &[(f64, u64)], rank: u64, e: &Extremes) -> f64 {
        let n = cum.last().map_or(0, |c| c.1);
        if rank < e.at_min {
            return e.min;
        }
        if rank >= n.saturating_sub(e.at_max) {
            return e.max;
        }
        let i = cum.partition_point(|(_, c)| *c <= rank);
        cum[i.min(cum.len() - 1)].0.clamp(e.min, e.max)
    }

    /// Type-7 quantile (Hyndman & Fan 1996): linear interpolation between the
    /// order statistics at `h = (n - 1) q`, clamped to the exact range.
    pub fn quantile(&self, q: f64, min: f64, max: f64) -> f64 {
        self.quantiles(&[q], min, max)[0]
    }

    /// Several quantiles with one pass over the buckets (no value known to
    /// equal `min` or `max`: [`Extremes::range`]).
    pub fn quantiles(&self, qs: &[f64], min: f64, max: f64) -> Vec<f64> {
        Self::quantiles_of(&self.cumulative(), qs, &Extremes::range(min, max))
    }

    /// Conditional value at risk: the mean of the highest `ceil((1-q) n)`
    /// values (at least one).
    pub fn cvar(&self, q: f64, min: f64, max: f64) -> f64 {
        Self::cvar_of(&self.cumulative(), q, &Extremes::range(min, max))
    }

    /// Quantiles at `qs` and CVaR at `cvars`, from one pass over the
    /// buckets, with the extremes `e` and how many values equal them: the
    /// order statistics at those ranks are exact (a capacity reached on
    /// most paths is reported as it is, not as its bucket's
    /// representative). The same values as [`Sketch::quantiles`] and
    /// [`Sketch::cvar`] when no value is known to equal an extreme.
    pub fn tails(&self, qs: &[f64], cvars: &[f64], e: &Extremes) -> (Vec<f64>, Vec<f64>) {
        let cum = self.cumulative();
        let cv = cvars.iter().map(|&q| Self::cvar_of(&cum, q, e));
        (Self::quantiles_of(&cum, qs, e), cv.collect())
    }

    fn quantiles_of(cum: &[(f64, u64)], qs: &[f64], e: &Extremes) -> Vec<f64> {
        let Some(&(_, n)) = cum.last() else {
            return vec![f64::NAN; qs.len()];
        };
        qs.iter()
            .map(|q| {
                let h = (n - 1) as f64 * q;
                let r0 = h.floor() as u64;
                let r1 = (r0 + 1).min(n - 1);
                let v0 = Self::at_rank(cum, r0, e);
                let v1 = Self::at_rank(cum, r1, e);
                v0 + (h - r0 as f64) * (v1 - v0)
            })
            .collect()
    }

    /// The highest values first, bucket by bucket from the top, each
    /// bucket's ranks at or above `n - at_max` as `max`, below `at_min` as
    /// `min`, the rest as its representative clamped to the range, summed in
    /// that order.
    fn cvar_of(cum: &[(f64, u64)], q: f64, e: &Extremes) -> f64 {
        let Some(&(_, n)) = cum.last() else {
            return f64::NAN;
        };
        let k = tail_count(q, n);
        let top = n - k;
        let (max_from, min_below) = (n.saturating_sub(e.at_max), e.at_min);
        let mut sum = 0.0;
        for (i, &(v, seen)) in cum.iter().enumerate().rev() {
            let first = if i > 0 { cum[i - 1].1 } else { 0 };
            // This bucket's ranks among the top k: [a, seen).
            // Of those, [x, seen) are the max's, [a, min(min_below, x)) the
            // min's (none twice: all values equal, every rank is the max's).
            let a = first.max(top);
            let x = a.max(max_from).min(seen);
            let at_max = seen - x;
            let at_min = min_below.clamp(a, x) - a;
            let rest = x - a - at_min;
            if at_max > 0 {
                sum += e.max * at_max as f64;
            }
            if rest > 0 {
                sum += v.clamp(e.min, e.max) * rest as f64;
            }
            if at_min > 0 {
                sum += e.min * at_min as f64;
            }
            if first <= top {
                break;
            }
        }
        sum / k as f64
    }
}

/// How many of `n` values CVaR at level `q` averages: `ceil((1 - q) n)`,
/// at least one. Levels are written in decimal and `1 - q` is not exact
/// in binary (`1.0 - 0.95` is `0.05000000000000004`), so a product within
/// round-off of a whole number is that number: 5% of 2,000 values is 100,
/// not 101.
pub fn tail_count(q: f64, n: u64) -> u64 {
    let x = (1.0 - q) * n as f64;
    let whole = x.round();
    let k = if (x - whole).abs() <= 1e-9 * whole.max(1.0) {
        whole
    } else {
        x.ceil()
    };
    (k as u64).clamp(1, n.max(1))
}

/// A metric's exact extremes and how many of its values equal each (0:
/// not known), for [`Sketch::tails`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Extremes {
    pub min: f64,
    pub max: f64,
    pub at_min: u64,
    pub at_max: u64,
}

impl Extremes {
    /// The range alone: no value known to equal either end.
    pub fn range(min: f64, max: f64) -> Extremes {
        Extremes {
            min,
            max,
            at_min: 0,
            at_max: 0,
        }
    }
}

#[cfg(test)]
// The tests compare with, or make data by, the platform's functions.
#[allow(clippy::disallowed_methods)]
mod tests {
    use super::*;

    fn exact_q7(sorted: &[f64], q: f64) -> f64 {
        let h = (sorted.len() - 1) as f64 * q;
        let lo = h.floor() as usize;
        let hi = (lo + 1).min(sorted.len() - 1);
        sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
    }

    /// `tails` (one pass for quantiles and CVaR, as summaries use it) gives
    /// what `quantiles` gives and, for CVaR, the mean of the top values
    /// taken one by one from the buckets; with negatives, zeros and levels
    /// whose tail is one value or everything.
    #[test]
    fn tails_match_quantiles_and_a_walk_from_the_top() {
        let mut r = crate::rng::stream(4, 5, 6);
        let xs: Vec<f64> = (0..5_000)
            .map(|i| match i % 10 {
                0 => 0.0,
                _ => crate::rng::normal(&mut r) * 1e3,
            })
            .collect();
        let mut s: Sketch = Sketch::default();
        xs.iter().for_each(|&x| s.add(x));
        let (min, max) = xs
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
                (a.min(x), b.max(x))
            });
        let levels = [0.95, 0.99, 0.0, 0.9999, 1.0];
        let qs = [0.0, 0.01, 0.5, 0.99, 1.0];
        let (got_q, got_cvar) = s.tails(&qs, &levels, &Extremes::range(min, max));
        assert_eq!(got_q, s.quantiles(&qs, min, max));
        let mut top: Vec<f64> = s
            .ascending()
            .flat_map(|(v, c)| std::iter::repeat_n(v.clamp(min, max), c as usize))
            .collect();
        top.reverse();
        for (q, got) in levels.iter().zip(&got_cvar) {
            let k = tail_count(*q, top.len() as u64) as usize;
            let want = top[..k].iter().sum::<f64>() / k as f64;
            assert!(
                (got - want).abs() <= 1e-9 * want.abs().max(1.0),
                "q {q}: {got} vs {want}"
            );
            assert_eq!(*got, s.cvar(*q, min, max));
        }
        let empty: Sketch = Sketch::default();
        let (q, c) = empty.tails(&[0.5], &[0.95], &Extremes::range(0.0, 0.0));
        assert!(q[0].is_nan() && c[0].is_nan());
    }

    /// With the number of values at each extreme known, the order
    /// statistics at those ranks are the extremes themselves: quantiles and
    /// CVaR inside a point mass at the top or the bottom are exact (a
    /// capacity most paths reach was its bucket's representative, 0.19%
    /// low), elsewhere as before; when every value is the same, it is.
    #[test]
    fn quantiles_at_a_point_mass_on_an_extreme_are_exact() {
        let mut r = crate::rng::stream(1, 2, 3);
        let (lo, hi) = (150_000.0, 5_335_000.0);
        for (n_lo, n_hi, n) in [(100, 3_000, 10_000), (0, 9_000, 10_000), (2_000, 0, 5_000)] {
            let mut xs: Vec<f64> = vec![lo; n_lo];
            xs.extend(std::iter::repeat_n(hi, n_hi));
            while xs.len() < n {
                let x = 1e6 * (0.5 * crate::rng::normal(&mut r)).exp();
                if x > lo && x < hi {
                    xs.push(x);
                }
            }
            if n_lo == 0 {
                xs.push(lo - 1.0);
            }
            if n_hi == 0 {
                xs.push(hi + 1.0);
            }
            let mut s: Sketch = Sketch::default();
            xs.iter().for_each(|&x| s.add(x));
            xs.sort_by(f64::total_cmp);
            let (min, max) = (xs[0], xs[xs.len() - 1]);
            let e = Extremes {
                min,
                max,
                at_min: xs.iter().filter(|&&x| x == min).count() as u64,
                at_max: xs.iter().filter(|&&x| x == max).count() as u64,
            };
            let qs = [0.0, 0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99, 1.0];
            let levels = [0.95, 0.99, 0.5, 0.0];
            let (got, cvars) = s.tails(&qs, &levels, &e);
            let (plain, _) = s.tails(&qs, &levels, &Extremes::range(min, max));
            let m = xs.len() as f64;
            for ((q, g), p) in qs.iter().zip(&got).zip(&plain) {
                let want = exact_q7(&xs, *q);
                let h = (m - 1.0) * q;
                let (r0, r1) = (h.floor() as u64, (h.floor() as u64 + 1).min(m as u64 - 1));
                let ranks_at_max = |r: u64| r >= m as u64 - e.at_max;
                let ranks_at_min = |r: u64| r < e.at_min;
                if (ranks_at_max(r0) && ranks_at_max(r1)) || (ranks_at_min(r0) && ranks_at_min(r1))
                {
                    assert_eq!(*g, want, "n_lo {n_lo} n_hi {n_hi} q {q}");
                } else if !(ranks_at_max(r0)
                    || ranks_at_max(r1)
                    || ranks_at_min(r0)
                    || ranks_at_min(r1))
                {
                    assert_eq!(g, p, "q {q}: away from the extremes, as before");
                }
                assert!(
                    (g - want).abs() <= 0.0039 * want.abs(),
                    "q {q}: {g} vs {want}"
                );
            }
            // CVaR: the top values one by one, each rank's exact-aware value.
            let at = |rank: usize| {
                if (rank as u64) < e.at_min {
                    min
                } else if rank as u64 >= m as u64 - e.at_max {
                    max
                } else {
                    let cum = s.cumulative();
                    Sketch::<u32>::at_rank(&cum, rank as u64, &e)
                }
            };
            for (q, got) in levels.iter().zip(&cvars) {
                let k = tail_count(*q, xs.len() as u64) as usize;
                let want = (xs.len() - k..xs.len()).map(at).sum::<f64>() / k as f64;
                assert!((got - want).abs() <= 1e-9 * want, "q {q}: {got} vs {want}");
                let exact = xs[xs.len() - k..].iter().sum::<f64>() / k as f64;
                assert!(
                    (got - exact).abs() <= 0.0039 * exact,
                    "q {q}: {got} vs {exact}"
                );
            }
            if n_hi >= 500 {
                assert_eq!(got[6], hi, "p95 inside the mass at the top");
                assert_eq!(cvars[0], hi, "cvar95 inside the mass at the top");
            }
            if n_lo >= 500 {
                assert_eq!(got[2], lo, "p5 inside the mass at the bottom");
            }
        }
        // Every value the same.
        let mut s: Sketch = Sketch::default();
        (0..100).for_each(|_| s.add(5_335_000.0));
        let e = Extremes {
            min: 5_335_000.0,
            max: 5_335_000.0,
            at_min: 100,
            at_max: 100,
        };
        let (q, c) = s.tails(&[0.0, 0.5, 1.0], &[0.95, 0.0], &e);
        assert_eq!(q, [5_335_000.0; 3]);
        assert_eq!(c, [5_335_000.0; 2]);
    }

    /// Every bucket's value is finite and within the documented bound of
    /// the values in it, over all normal numbers of either sign up to
    /// `f64::MAX` (past about 1e154 the plain formula overflowed and a
    /// quantile came out NaN; below about 1e-154 it underflowed to 0).
    #[test]
    fn representatives_finite_and_within_bound_over_the_whole_range() {
        let mut xs: Vec<f64> = (-307..=308)
            .flat_map(|e| [1.0, 1.234_567, 9.87].map(|m| m * 10f64.powi(e)))
            .filter(|x| x.is_finite())
            .collect();
        xs.extend([f64::MIN_POSITIVE, 1.7e308, f64::MAX]);
        for x in xs.iter().flat_map(|&x| [x, -x]) {
            let r = representative(bucket(x));
            assert!(r.is_finite(), "{x:e}: {r}");
            assert!(
                (r - x).abs() <= x.abs() / 257.0 * (1.0 + 1e-12),
                "{x:e}: {r:e}"
            );
            let mut s: Sketch = Sketch::default();
            s.add(x);
            s.add(x / 1.001);
            let (lo, hi) = (x.min(x / 1.001), x.max(x / 1.001));
            let q = s.quantile(0.5, lo, hi);
            assert!(q.is_finite() && q != 0.0, "{x:e}: median {q}");
        }
    }

    #[test]
    fn cvar_averages_the_top_ceil_share_of_the_values() {
        // (level, n, values averaged): 5% and 1% of n exactly where they
        // are whole numbers, rounded up where they are not.
        for (q, n, k) in [
            (0.95, 2_000, 100),
            (0.95, 10_000, 500),
            (0.95, 1_000_000, 50_000),
            (0.95, 10_001, 501),
            (0.95, 19, 1),
            (0.99, 2_100, 21),
            (0.99, 10_000, 100),
            (0.99, 4_000_000_000, 40_000_000),
            (0.99, 101, 2),
            (0.99, 1, 1),
            (0.0, 7, 7),
            (1.0, 7, 1),
        ] {
            assert_eq!(tail_count(q, n), k, "level {q}, {n} values");
        }
        // 2,000 values 1% apart, one per bucket: CVaR95 is the mean of the
        // top 100 buckets' representatives (the top one clamped to the max).
        let xs: Vec<f64> = (0..2000).map(|i| 1.01f64.powi(i)).collect();
        let mut s: Sketch = Sketch::default();
        xs.iter().for_each(|&x| s.add(x));
        let (min, max) = (xs[0], xs[1999]);
        let (_, c) = s.tails(&[], &[0.95], &Extremes::range(min, max));
        let mean_of_top = |k: usize| {
            let sum: f64 = xs[2000 - k..]
                .iter()
                .map(|&x| representative(bucket(x)).clamp(min, max))
                .sum();
            sum / k as f64
        };
        assert!((c[0] - mean_of_top(100)).abs() <= 1e-12 * c[0]);
        assert!((c[0] - mean_of_top(101)).abs() > 1e-3 * c[0]);
    }

    #[test]
    fn quantiles_within_documented_bound() {
        let mut r = crate::rng::stream(1, 2, 3);
        let mut xs: Vec<f64> = (0..20_000)
            .map(|_| (crate::rng::normal(&mut r) * 2.0).exp() * 1e9)
            .collect();
        let mut s: Sketch = Sketch::default();
        xs.iter().for_each(|&x| s.add(x));
        xs.sort_by(f64::total_cmp);
        let (min, max) = (xs[0], xs[xs.len() - 1]);
        for q in [0.0, 0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99, 1.0] {
            let e = exact_q7(&xs, q);
            let a = s.quantile(q, min, max);
            assert!(
                ((a - e) / e).abs() <= 1.0 / 257.0 + 1e-12,
                "q={q}: {a} vs {e}"
            );
        }
        let k = xs.len() / 20;
        let exact_cvar: f64 = xs[xs.len() - k..].iter().sum::<f64>() / k as f64;
        let a = s.cvar(0.95, min, max);
        assert!(((a - exact_cvar) / exact_cvar).abs() <= 1.0 / 257.0);
    }

    #[test]
    fn zeros_negatives_and_merge() {
        let mut a: Sketch = Sketch::default();
        let mut b: Sketch = Sketch::default();
        for x in [-3.0, -1.0, 0.0, 0.0, 2.0] {
            a.add(x);
        }
        for x in [5.0, 7.0] {
            b.add(x);
        }
        a.merge(&b);
        assert_eq!(a.count(), 7);
        assert_eq!(a.quantile(0.5, -3.0, 7.0), 0.0);
        let lo = a.quantile(0.0, -3.0, 7.0);
        assert!((lo + 3.0).abs() < 3.0 / 257.0);
        assert!((a.quantile(1.0, -3.0, 7.0) - 7.0).abs() < 7.0 / 257.0);
    }

    #[test]
    fn column_ingest_equals_one_by_one() {
        // Rows of 3 metrics; column 1 mixes zeros, negatives, and values
        // far outside the first store's range (so it grows mid-column).
        let mut r = crate::rng::stream(4, 5, 6);
        let k = 3;
        let mut rows = Vec::new();
        for i in 0..500 {
            let z = crate::rng::normal(&mut r);
            let x = match i % 7 {
                0 => 0.0,
                1 => -z.abs() * 10.0,
                2 => (z * 20.0).exp(),
                _ => z.exp(),
            };
            rows.extend_from_slice(&[1.0, x, -2.0]);
        }
        let mut one: Sketch = Sketch::default();
        rows.chunks_exact(k).for_each(|row| one.add(row[1]));
        let mut col: Sketch = Sketch::default();
        let (lo, hi) = (-1.0, 1.0);
        let a = col.add_column(&rows[..30 * k], k, 1, lo, hi);
        let b = col.add_column(&rows[30 * k..], k, 1, lo, hi);
        assert_eq!(col.count(), 500);
        assert_eq!(col, one);
        // Ties: the values equal to `lo` and to `hi`, counted across the
        // two calls (none here), and the zeros as `lo`.
        let count = |v: f64| rows.chunks_exact(k).filter(|r| r[1] == v).count() as u64;
        assert_eq!(a.lo + b.lo, count(lo));
        assert_eq!(a.hi + b.hi, count(hi));
        let mut col: Sketch = Sketch::default();
        let t = col.add_column(&rows, k, 1, 0.0, 1.0);
        assert_eq!((t.lo, t.hi), (count(0.0), count(1.0)));
        assert!(t.lo > 0);
    }

    /// The AVX2 column ingest counts what the one-by-one ingest counts:
    /// columns of every length from 0 to 40 rows (groups of four and the
    /// rows after them), starting at an empty store and at a filled one,
    /// with all-positive groups, zeros, -0.0, negatives and values far
    /// outside the store (it grows mid-column) in every lane.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn avx2_column_ingest_equals_one_by_one() {
        if !crate::simd::avx2() {
            return;
        }
        let mut r = crate::rng::stream(2, 7, 1);
        let k = 4;
        for kind in 0..6 {
            for n in 0..=40 {
                let mut rows = Vec::new();
                for i in 0..n {
                    let z = crate::rng::normal(&mut r);
                    let x = match (kind, i % 5) {
                        (0, _) => z.exp(),
                        (1, 0) => 0.0,
                        (1, 1) => -0.0,
                        (2, 2) => -z.abs(),
                        (3, _) => (z * 30.0).exp(),
                        (4, 3) => 1e300,
                        (5, _) if crate::rng::uniform(&mut r) < 0.3 => 0.0,
                        _ => z.exp(),
                    };
                    rows.extend_from_slice(&[f64::NAN, -1.0, x, 2.0]);
                }
                for filled in [false, true] {
                    let mut one: Sketch<u16> = Sketch::default();
                    let mut vec: Sketch<u16> = Sketch::default();
                    if filled {
                        for s in [&mut one, &mut vec] {
                            s.add(1.0);
                            s.add(-3.0);
                            s.add(0.0);
                        }
                    }
                    rows.chunks_exact(k).for_each(|row| one.add(row[2]));
                    // Ties at a value the column holds (zero, or its first
                    // value) and at one it does not.
                    let first = rows.get(2).copied().unwrap_or(0.0);
                    let (lo, hi) = if filled { (0.0, first) } else { (first, 7.5) };
                    // SAFETY: the CPU has AVX2 (checked above).
                    let t = unsafe { vec.add_column_avx2(&rows, k, 2, lo, hi) };
                    assert_eq!(vec, one, "kind {kind}, {n} rows, filled {filled}");
                    let count = |v: f64| rows.chunks_exact(k).filter(|r| r[2] == v).count() as u64;
                    assert_eq!(
                        (t.lo, t.hi),
                        (count(lo), count(hi)),
                        "kind {kind}, {n} rows"
                    );
                }
            }
        }
    }

    #[test]
    fn merge_equals_one_sketch_of_everything() {
        // Overlapping, disjoint and empty stores on either side.
        let mut r = crate::rng::stream(9, 8, 7);
        let mut draw = |scale: f64| (crate::rng::normal(&mut r) * 3.0).exp() * scale;
        let a_vals: Vec<f64> = (0..300)
            .map(|i| draw(if i % 2 == 0 { 1.0 } else { -1e-3 }))
            .collect();
        let b_vals: Vec<f64> = (0..300).map(|_| draw(1e12)).collect();
        let c_vals: Vec<f64> = (0..50).map(|_| draw(5.0)).collect();
        let mut all: Sketch = Sketch::default();
        let (mut a, mut b, mut c): (Sketch, Sketch, Sketch) = Default::default();
        for (s, vals) in [(&mut a, &a_vals), (&mut b, &b_vals), (&mut c, &c_vals)] {
            for &x in vals.iter() {
                s.add(x);
                all.add(x);
            }
        }
        let mut m: Sketch = Sketch::default();
        for s in [&b, &Sketch::default(), &a, &c] {
            m.merge(s);
        }
        assert_eq!(m.count(), 650);
        assert!(m.ascending().eq(all.ascending()));
    }

    /// A merge into an empty sketch keeps only the range of counts the
    /// other's values occupy, not the room around them that adding left
    /// (a run's merged sketches would otherwise allocate and zero it for
    /// every metric); the counts are the other's.
    #[test]
    fn merge_into_empty_takes_the_occupied_range() {
        let mut hot: Sketch<u16> = Sketch::default();
        for x in [100.0, 101.0, 103.0, 100.5] {
            hot.add(x);
        }
        assert!(hot.pos.counts.len() > 300, "adding leaves room either side");
        let mut merged: Sketch = Sketch::default();
        merged.merge(&hot);
        let counts = &merged.pos.counts;
        assert_eq!(merged.pos.offset, bucket(100.0));
        assert_eq!(counts.len(), bucket(103.0) - bucket(100.0) + 1);
        assert!(counts[0] != 0 && counts[counts.len() - 1] != 0);
        assert!(merged.ascending().eq(hot.ascending()));
    }
}
