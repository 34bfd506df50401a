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
use statrs::distribution::{ContinuousCDF, StudentsT};

/// The pairing of two compiled models: which metrics they share.
pub struct PairJob<'a> {
    pub base: &'a Model,
    pub alt: &'a Model,
    /// Per-path metrics both have: (name, base index, alt index).
    pub metrics: Vec<(String, usize, usize)>,
    /// Per-period metrics both have (empty when their periods differ).
    pub period_metrics: Vec<(String, usize, usize)>,
}

pub struct PairState {
    base: Scratch,
    alt: Scratch,
    base_out: Vec<f64>,
    base_per: Vec<f64>,
    alt_out: Vec<f64>,
    alt_per: Vec<f64>,
}

/// The names `a` and `b` both have: (name, index in `a`, index in `b`).
pub fn common(a: &[String], b: &[String]) -> Vec<(String, usize, usize)> {
    a.iter()
        .enumerate()
        .filter_map(|(i, n)| b.iter().position(|m| m == n).map(|j| (n.clone(), i, j)))
        .collect()
}

impl<'a> PairJob<'a> {
    pub fn new(base: &'a Model, alt: &'a Model) -> Result<PairJob<'a>> {
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
        Ok(PairJob {
            base,
            alt,
            metrics,
            period_metrics,
        })
    }
}

impl Job for PairJob<'_> {
    type State = PairState;

    /// Per path metric: base, alt, diff, `alt < base` (0 or 1); then per
    /// period and per-period metric: base, alt, diff.
    fn width(&self) -> usize {
        4 * self.metrics.len() + 3 * self.base.periods * self.period_metrics.len()
    }
    fn sketched(&self) -> usize {
        0
    }
    fn row_width(&self) -> usize {
        0
    }
    fn name(&self, i: usize) -> String {
        let (base, alt) = (self.base.name.as_str(), self.alt.name.as_str());
        let k = 4 * self.metrics.len();
        if i < k {
            let side = [base, alt, "difference", "alt lower"][i % 4];
            format!("metric `{}` ({side})", self.metrics[i / 4].0)
        } else {
            let per_period = 3 * self.period_metrics.len();
            let (t, j) = ((i - k) / per_period, (i - k) % per_period);
            let side = [base, alt, "difference"][j % 3];
            let metric = &self.period_metrics[j / 3].0;
            format!("metric `{metric}` of period {t} ({side})")
        }
    }
    fn state(&self) -> PairState {
        let b = self.base;
        let a = self.alt;
        PairState {
            base: Scratch::new(b),
            alt: Scratch::new(a),
            base_out: vec![0.0; b.layout.n_path()],
            base_per: vec![0.0; b.periods * b.layout.n_period()],
            alt_out: vec![0.0; a.layout.n_path()],
            alt_per: vec![0.0; a.periods * a.layout.n_period()],
        }
    }
    fn path(&self, s: &mut PairState, path: u64, out: &mut [f64]) {
        simulate_path(
            self.base,
            path,
            &mut s.base,
            &mut s.base_out,
            &mut s.base_per,
            &mut NoObserver,
        );
        simulate_path(
            self.alt,
            path,
            &mut s.alt,
            &mut s.alt_out,
            &mut s.alt_per,
            &mut NoObserver,
        );
        let mut o = 0;
        for (_, i, j) in &self.metrics {
            let (b, a) = (s.base_out[*i], s.alt_out[*j]);
            out[o] = b;
            out[o + 1] = a;
            out[o + 2] = a - b;
            out[o + 3] = if a < b { 1.0 } else { 0.0 };
            o += 4;
        }
        let (nb, na) = (self.base.layout.n_period(), self.alt.layout.n_period());
        let per_period = 3 * self.period_metrics.len();
        if per_period == 0 {
            return;
        }
        // Period by period: the two models' rows and this period's outputs
        // as slices, so the inner loop reads and writes without a
        // multiplication or a check per value.
        let rows = s.base_per.chunks_exact(nb).zip(s.alt_per.chunks_exact(na));
        for ((bp, ap), op) in rows.zip(out[o..].chunks_exact_mut(per_period)) {
            for ((_, i, j), o3) in self.period_metrics.iter().zip(op.chunks_exact_mut(3)) {
                let (b, a) = (bp[*i], ap[*j]);
                o3.copy_from_slice(&[b, a, a - b]);
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
    /// Share of paths where alt < base.
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

/// Half-width multiplier of a two-sided 95% interval: Student's t with
/// n - 1 degrees of freedom.
pub fn t95(n: u64) -> f64 {
    if n < 2 {
        return f64::NAN;
    }
    StudentsT::new(0.0, 1.0, (n - 1) as f64)
        .map(|t| t.inverse_cdf(0.975))
        .unwrap_or(1.959_963_984_540_054)
}

/// The path metrics' paired differences from the moments of, per metric
/// of `metrics`, the base's value, the alternative's, the difference and
/// whether the alternative's is lower (as [`PairJob`] and
/// [`engine::run_model_paired`] accumulate them).
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
                p_alt_lower: l.mean,
                independent_stderr: (stderr(&b).powi(2) + stderr(&a).powi(2)).sqrt(),
            }
        })
        .collect()
}

/// Runs the paired comparison of `alt` against `base`.
pub fn compare(base: &Model, alt: &Model, opts: Options<'_>) -> Result<Comparison> {
    let job = PairJob::new(base, alt)?;
    let out = engine::run_job(&job, base.paths, opts)?;
    let m = &out.acc.moments;
    let metrics = metric_diffs(&job.metrics, m, out.paths);
    let base_k = 4 * job.metrics.len();
    let np = job.period_metrics.len();
    let mut periods = Vec::new();
    for tt in 0..base.periods {
        for (j, (name, _, _)) in job.period_metrics.iter().enumerate() {
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
    Ok(Comparison {
        paths: out.paths,
        threads: out.threads,
        metrics,
        periods,
    })
}

impl Comparison {
    pub fn metric(&self, name: &str) -> Option<&MetricDiff> {
        self.metrics.iter().find(|m| m.metric == name)
    }
}
