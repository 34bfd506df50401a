//! Paired comparisons with common random numbers.
//!
//! Both scenarios run on the same seed and path indices, so every factor
//! they share draws the same numbers on each path; the difference of a
//! metric is taken per path and summarised. Its standard error is the
//! paired one, `std(alt - base) / sqrt(n)`, usually far smaller than the
//! independent `sqrt(var_base / n + var_alt / n)` that two unrelated runs
//! would give (both are reported).

use crate::engine::{self, Job, Options};
use crate::error::{Error, Result};
use crate::kernel::{simulate_path, NoObserver, Scratch};
use crate::model::Model;
use crate::stats::Moments;
use serde::Serialize;

/// The pairing of a base with one or more alternatives: which metrics
/// each alternative shares with the base. The base is simulated once per
/// path for all of them.
pub struct PairJob<'a> {
    pub base: &'a Model,
    pub alts: Vec<Alt<'a>>,
}

/// One alternative of a [`PairJob`].
pub struct Alt<'a> {
    pub model: &'a Model,
    /// Per-path metrics both have: (name, base index, alt index).
    pub metrics: Vec<(String, usize, usize)>,
    /// Per-period metrics both have (empty when their periods differ).
    pub period_metrics: Vec<(String, usize, usize)>,
    /// Where its values start in a path's output.
    offset: usize,
}

impl Alt<'_> {
    /// Per path metric: base, alt, diff, alt lower (0 or 1, [`pair_values`]); then per
    /// period and per-period metric: base, alt, diff.
    fn width(&self) -> usize {
        4 * self.metrics.len() + 3 * self.model.periods * self.period_metrics.len()
    }
}

pub struct PairState {
    base: (Scratch, Vec<f64>, Vec<f64>),
    alts: Vec<(Scratch, Vec<f64>, Vec<f64>)>,
}

/// The names `a` and `b` both have: (name, index in `a`, index in `b`).
pub fn common(a: &[String], b: &[String]) -> Vec<(String, usize, usize)> {
    a.iter()
        .enumerate()
        .filter_map(|(i, n)| b.iter().position(|m| m == n).map(|j| (n.clone(), i, j)))
        .collect()
}

/// Differences this small relative to the larger of the two values are
/// round-off, not a difference: the same sums added in another order (the
/// baseline and its Azure-first variant serve the same GPUs through
/// different passes) differ by up to about 6e-15 of the value.
pub const ROUND_OFF: f64 = 1e-12;

/// What a paired comparison accumulates per path metric: the base's value,
/// the alternative's, the difference and whether the alternative's is
/// lower (0 or 1) by more than round-off ([`ROUND_OFF`]: a path whose two
/// values differ in the last digits only counted as "alt lower", 5% of
/// the paths for a shortfall the two scenarios share).
#[inline]
pub fn pair_values(base: f64, alt: f64) -> [f64; 4] {
    let lower = base - alt > ROUND_OFF * base.abs().max(alt.abs());
    [base, alt, alt - base, if lower { 1.0 } else { 0.0 }]
}

impl<'a> PairJob<'a> {
    pub fn new(base: &'a Model, alts: &[&'a Model]) -> Result<PairJob<'a>> {
        let mut offset = 0;
        let mut parts = Vec::with_capacity(alts.len());
        for &alt in alts {
            if base.seed != alt.seed || base.paths != alt.paths {
                return Err(Error::Other(
                    "a paired comparison needs the same seed and number of paths".into(),
                ));
            }
            let metrics = common(&base.layout.path_names, &alt.layout.path_names);
            let period_metrics = if base.period_labels == alt.period_labels {
                common(&base.layout.period_names, &alt.layout.period_names)
            } else {
                Vec::new()
            };
            let part = Alt {
                model: alt,
                metrics,
                period_metrics,
                offset,
            };
            offset += part.width();
            parts.push(part);
        }
        Ok(PairJob { base, alts: parts })
    }
}

impl Job for PairJob<'_> {
    type State = PairState;

    fn width(&self) -> usize {
        self.alts.iter().map(Alt::width).sum()
    }
    fn sketched(&self) -> usize {
        0
    }
    fn row_width(&self) -> usize {
        0
    }
    fn name(&self, i: usize) -> String {
        let Some(alt) = self.alts.iter().rev().find(|a| a.offset <= i) else {
            return format!("value {i}");
        };
        let (base, i) = (self.base.name.as_str(), i - alt.offset);
        let name = alt.model.name.as_str();
        let k = 4 * alt.metrics.len();
        if i < k {
            let side = [base, name, "difference", "alt lower"][i % 4];
            format!("metric `{}` ({side})", alt.metrics[i / 4].0)
        } else {
            let per_period = 3 * alt.period_metrics.len();
            let (t, j) = ((i - k) / per_period, (i - k) % per_period);
            let side = [base, name, "difference"][j % 3];
            let metric = &alt.period_metrics[j / 3].0;
            format!("metric `{metric}` of period {t} ({side})")
        }
    }
    fn state(&self) -> PairState {
        PairState {
            base: engine::buffers(self.base),
            alts: self.alts.iter().map(|a| engine::buffers(a.model)).collect(),
        }
    }
    fn path(&self, s: &mut PairState, path: u64, out: &mut [f64]) {
        let (bs, base_out, base_per) = &mut s.base;
        simulate_path(self.base, path, bs, base_out, base_per, &mut NoObserver);
        let nb = self.base.layout.n_period();
        for (alt, (st, alt_out, alt_per)) in self.alts.iter().zip(&mut s.alts) {
            simulate_path(alt.model, path, st, alt_out, alt_per, &mut NoObserver);
            let out = &mut out[alt.offset..alt.offset + alt.width()];
            let (path_out, per_out) = out.split_at_mut(4 * alt.metrics.len());
            for ((_, i, j), o4) in alt.metrics.iter().zip(path_out.chunks_exact_mut(4)) {
                o4.copy_from_slice(&pair_values(base_out[*i], alt_out[*j]));
            }
            let per_period = 3 * alt.period_metrics.len();
            if per_period == 0 {
                continue;
            }
            // Period by period: the two models' rows and this period's
            // outputs as slices, so the inner loop reads and writes without
            // a multiplication or a check per value.
            let na = alt.model.layout.n_period();
            let rows = base_per.chunks_exact(nb).zip(alt_per.chunks_exact(na));
            for ((bp, ap), op) in rows.zip(per_out.chunks_exact_mut(per_period)) {
                for ((_, i, j), o3) in alt.period_metrics.iter().zip(op.chunks_exact_mut(3)) {
                    let (b, a) = (bp[*i], ap[*j]);
                    o3.copy_from_slice(&[b, a, a - b]);
                }
            }
        }
    }
}

/// One metric's paired comparison.
#[derive(Debug, Clone, Serialize)]
pub struct MetricDiff {
    pub metric: String,
    pub base_mean: f64,
    pub alt_mean: f64,
    pub diff_mean: f64,
    pub diff_stderr: f64,
    pub diff_ci_low: f64,
    pub diff_ci_high: f64,
    /// Share of paths where alt is lower than base by more than round-off
    /// ([`pair_values`]).
    pub p_alt_lower: f64,
    /// What two independent runs would give: `sqrt(var_b / n + var_a / n)`.
    pub independent_stderr: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct PeriodDiff {
    pub period: usize,
    pub date: String,
    pub metric: String,
    pub base_mean: f64,
    pub alt_mean: f64,
    pub diff_mean: f64,
    pub diff_stderr: f64,
}

#[derive(Debug, Clone)]
pub struct Comparison {
    pub paths: u64,
    pub threads: usize,
    pub metrics: Vec<MetricDiff>,
    pub periods: Vec<PeriodDiff>,
}

fn stderr(m: &Moments) -> f64 {
    if m.n < 2 {
        return f64::NAN;
    }
    (m.m2 / (m.n as f64 - 1.0) / m.n as f64).sqrt()
}

/// Half-width multiplier of a two-sided 95% interval: the 0.975 quantile
/// of Student's t with `n - 1` degrees of freedom, the same bits on every
/// machine (plain arithmetic and libm's `atan`; statrs, which the tests
/// check it against, takes the platform's math library, whose last bits
/// differ between machines, and which is off by 3.4e-6 at 10^5 degrees of
/// freedom). Below 1,000 degrees of freedom, bisection on the exact
/// distribution function (Abramowitz & Stegun 26.7.3-4, finite sums for
/// whole degrees of freedom); from 1,000 on, the Cornish-Fisher expansion
/// in `1 / nu` (26.7.5), whose first omitted term is below 4e-16 there.
/// Within 1e-14 of the exact quantile everywhere.
pub fn t95(n: u64) -> f64 {
    /// The standard normal's 0.975 quantile.
    const Z: f64 = 1.959_963_984_540_054;
    if n < 2 {
        return f64::NAN;
    }
    let nu = n - 1;
    if nu >= 1000 {
        let v = nu as f64;
        let z2 = Z * Z;
        let g1 = (z2 + 1.0) * Z / 4.0;
        let g2 = ((5.0 * z2 + 16.0) * z2 + 3.0) * Z / 96.0;
        let g3 = (((3.0 * z2 + 19.0) * z2 + 17.0) * z2 - 15.0) * Z / 384.0;
        let g4 = ((((79.0 * z2 + 776.0) * z2 + 1482.0) * z2 - 1920.0) * z2 - 945.0) * Z / 92160.0;
        return Z + (g1 + (g2 + (g3 + g4 / v) / v) / v) / v;
    }
    // P(|T| <= t) rises with t from the normal's quantile (which every t
    // quantile exceeds) to 13 (past one degree of freedom's 12.7).
    let (mut lo, mut hi) = (Z, 13.0);
    loop {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            return mid;
        }
        if t_central(mid, nu) < 0.95 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
}

/// `P(|T| <= t)` for Student's t with `nu >= 1` degrees of freedom
/// (Abramowitz & Stegun 26.7.3 and 26.7.4), with `theta = atan(t / sqrt(nu))`:
/// for even `nu`, `sin theta (1 + 1/2 cos^2 + 1*3/(2*4) cos^4 + ...)` to
/// the power `nu - 2`; for odd, `2/pi (theta + sin theta (cos + 2/3 cos^3 +
/// ...))` to the power `nu - 2`.
fn t_central(t: f64, nu: u64) -> f64 {
    let v = nu as f64;
    let r = (v + t * t).sqrt();
    let (sin, cos) = (t / r, v.sqrt() / r);
    let c2 = v / (v + t * t);
    // The terms, each the one before times a ratio and cos^2.
    let series = |first: f64, terms: u64, ratio: &dyn Fn(u64) -> f64| {
        let (mut term, mut sum) = (first, first);
        for k in 1..terms {
            term *= ratio(k) * c2;
            sum += term;
        }
        sum
    };
    if nu % 2 == 0 {
        sin * series(1.0, nu / 2, &|k| (2 * k - 1) as f64 / (2 * k) as f64)
    } else {
        let theta = libm::atan(t / v.sqrt());
        let sum = if nu > 1 {
            series(cos, (nu - 1) / 2, &|k| (2 * k) as f64 / (2 * k + 1) as f64)
        } else {
            0.0
        };
        2.0 / std::f64::consts::PI * (theta + sin * sum)
    }
}

/// The path metrics' paired differences from the moments of, per metric
/// of `metrics`, the base's value, the alternative's, the difference and
/// whether the alternative's is lower (as [`PairJob`] and
/// [`engine::run_batch`] accumulate them).
pub fn metric_diffs(
    metrics: &[(String, usize, usize)],
    m: &[Moments],
    paths: u64,
) -> Vec<MetricDiff> {
    let t = t95(paths);
    metrics
        .iter()
        .enumerate()
        .map(|(k, (name, _, _))| {
            let (b, a, d, l) = (m[4 * k], m[4 * k + 1], m[4 * k + 2], m[4 * k + 3]);
            let se = stderr(&d);
            MetricDiff {
                metric: name.clone(),
                base_mean: b.mean,
                alt_mean: a.mean,
                diff_mean: d.mean,
                diff_stderr: se,
                diff_ci_low: d.mean - t * se,
                diff_ci_high: d.mean + t * se,
                p_alt_lower: proportion(&l),
                independent_stderr: {
                    let (sb, sa) = (stderr(&b), stderr(&a));
                    (sb * sb + sa * sa).sqrt()
                },
            }
        })
        .collect()
}

/// The share of paths where a 0/1 value is 1, from its moments: a count
/// over `n`. The shifted sums give the mean only to round-off (1,985 of
/// 2,000 paths came out as 0.9924999999999999); the count is whole, so it
/// is rounded to one and divided again (0.9925).
fn proportion(l: &Moments) -> f64 {
    let n = l.n as f64;
    (l.mean * n).round() / n
}

/// Runs the paired comparison of `alt` against `base`.
pub fn compare(base: &Model, alt: &Model, opts: Options<'_>) -> Result<Comparison> {
    let mut all = compare_all(base, &[alt], opts)?;
    Ok(all.remove(0))
}

/// Runs the paired comparisons of each of `alts` against `base` in one
/// pass, the base simulated once per path: the comparisons [`compare`]
/// gives one by one, bit for bit.
pub fn compare_all(base: &Model, alts: &[&Model], opts: Options<'_>) -> Result<Vec<Comparison>> {
    let job = PairJob::new(base, alts)?;
    let out = engine::run_job(&job, base.paths, opts)?;
    Ok(job.comparisons(&out.acc.moments, out.paths, out.threads))
}

impl PairJob<'_> {
    /// Each alternative's comparison from the moments of the job's values
    /// over `paths` paths (a run's, or its shards' merged in path order).
    pub fn comparisons(&self, moments: &[Moments], paths: u64, threads: usize) -> Vec<Comparison> {
        let base = self.base;
        self.alts
            .iter()
            .map(|alt| {
                let m = &moments[alt.offset..alt.offset + alt.width()];
                let metrics = metric_diffs(&alt.metrics, m, paths);
                let base_k = 4 * alt.metrics.len();
                let np = alt.period_metrics.len();
                let mut periods = Vec::new();
                for tt in 0..base.periods {
                    for (j, (name, _, _)) in alt.period_metrics.iter().enumerate() {
                        let o = base_k + 3 * (tt * np + j);
                        periods.push(PeriodDiff {
                            period: tt,
                            date: base.period_labels[tt].clone(),
                            metric: name.clone(),
                            base_mean: m[o].mean,
                            alt_mean: m[o + 1].mean,
                            diff_mean: m[o + 2].mean,
                            diff_stderr: stderr(&m[o + 2]),
                        });
                    }
                }
                Comparison {
                    paths,
                    threads,
                    metrics,
                    periods,
                }
            })
            .collect()
    }
}

impl Comparison {
    pub fn metric(&self, name: &str) -> Option<&MetricDiff> {
        self.metrics.iter().find(|m| m.metric == name)
    }
}

#[cfg(test)]
// statrs, the reference, and the closed forms take the platform's functions.
#[allow(clippy::disallowed_methods)]
mod tests {
    use super::{pair_values, t95};

    /// Closed forms for one and two degrees of freedom, statrs's quantile
    /// (an independent implementation) from 1 to 10^9 degrees of freedom
    /// across the switch to the expansion at 1,000, and a quantile that
    /// falls as the degrees of freedom rise.
    #[test]
    // The reference quantiles are written with the 20 digits computed.
    #[allow(clippy::excessive_precision)]
    fn t95_is_students_quantile() {
        use statrs::distribution::{ContinuousCDF, StudentsT};
        let rel = |a: f64, b: f64| ((a - b) / b).abs();
        // nu = 1: tan(pi (p - 1/2)); nu = 2: (2p - 1) / sqrt(2 p (1 - p)).
        let one = (std::f64::consts::PI * 0.475).tan();
        assert!(rel(t95(2), one) < 1e-14, "{} vs {one}", t95(2));
        let two = 0.95 / (2.0f64 * 0.975 * 0.025).sqrt();
        assert!(rel(t95(3), two) < 1e-14, "{} vs {two}", t95(3));
        let mut ns: Vec<u64> = (2..=300).collect();
        ns.extend([
            500, 999, 1000, 1001, 1002, 1500, 1999, 2000, 2001, 2500, 5000,
        ]);
        ns.push(10_000);
        let mut before = f64::INFINITY;
        for n in ns {
            let want = StudentsT::new(0.0, 1.0, (n - 1) as f64)
                .unwrap()
                .inverse_cdf(0.975);
            let got = t95(n);
            assert!(rel(got, want) < 1e-11, "n {n}: {got} vs statrs {want}");
            assert!(got < before, "n {n}: {got} not below {before}");
            before = got;
        }
        assert!(t95(1).is_nan() && t95(0).is_nan());
        assert!(t95(4_000_000_000) < t95(1_000_000_000));
        // Quantiles to 20 digits (the incomplete beta function's root in
        // 40-digit arithmetic, mpmath), by degrees of freedom: within a
        // few tens of units in the last place at most (6e-15 at 500; the
        // distribution function, to round-off, gives the bisection no
        // more). statrs, beyond 10^4 degrees of
        // freedom, is not: off by 1.4e-12 (relative) at 9,999, 3.4e-6 at
        // 99,999.
        for (nu, want) in [
            (3, 3.1824463052837095927),
            (5, 2.5705818356363155147),
            (9, 2.2621571627982055426),
            (20, 2.0859634472658648427),
            (50, 2.0085591121007611055),
            (200, 1.9718962236339093822),
            (500, 1.9647198374673677934),
            (1000, 1.962339080826408485),
            (1500, 1.9615467538950187008),
            (1997, 1.9611526100987641699),
            (99, 1.9842169515864174951),
            (1998, 1.961152014836705888),
            (1999, 1.961151420170561976),
            (2000, 1.9611508260994380305),
            (9999, 1.9602012636213576804),
            (99999, 1.9599877077718447791),
            (999999, 1.9599663568164793145),
        ] {
            let got = t95(nu + 1);
            assert!(rel(got, want) < 1e-14, "nu {nu}: {got} vs {want}");
        }
    }

    /// Lower by more than round-off only: the last digits of a sum added
    /// in another order (a pair `compare` met: shortfalls of 721,859,667.67
    /// and 4.05e-6 less) are equal; any difference a user reads is lower.
    #[test]
    fn alt_lower_beyond_round_off_only() {
        let lower = |base: f64, alt: f64| pair_values(base, alt)[3];
        let base = 721_859_667.674_961_4;
        assert_eq!(lower(base, base - 4.053_115_844_726_562_5e-6), 0.0);
        assert_eq!(lower(base, base), 0.0);
        assert_eq!(lower(base, base - 0.01), 1.0);
        assert_eq!(lower(base, base + 0.01), 0.0);
        assert_eq!(lower(0.0, 0.0), 0.0);
        assert_eq!(lower(1e-300, 0.0), 1.0);
        assert_eq!(lower(1.0, 0.0), 1.0);
        assert_eq!(lower(-5.0, -5.000_001), 1.0);
        assert_eq!(lower(1.0, f64::NAN), 0.0);
        // The difference itself is kept as computed.
        assert_eq!(pair_values(base, base - 0.5)[2], -0.5);
    }
}
