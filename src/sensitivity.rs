//! What drives the result.
//!
//! **Tornado** (one at a time): each uncertain parameter is set to a low and
//! a high value with everything else at its base value, on common random
//! numbers; the swing is `|mean npv at high - mean npv at low|`. Default
//! parameters and ranges: every non-zero workload `growth` and
//! `volatility`, provider `price_drift`, `price_volatility` and
//! `availability` (below 1), tranche `delay_months.median` and `failure`,
//! and the AGI `hazard`, each at 0.8x and 1.2x its base value (probabilities
//! clamped to [0, 1]). Zero-valued parameters have no relative range and
//! are left out; name them with `--param key=lo:hi` to include them.
//!
//! **Drivers** (global, from one run): Spearman's rank correlation between
//! per-path drivers and the per-path NPV and economic cost. Ranks average
//! over ties (so failed tranches, whose delay is infinite, tie at the top);
//! drivers that do not vary are left out. This keeps every path's drivers
//! in memory (a few values per path); each column is ranked once.

use crate::engine::Job;
use crate::kernel::allocate::TakeObserver;
use crate::kernel::{simulate_path, Observer, PeriodView, Scratch};
use crate::model::{pm, Model};
use crate::scenario::{Bound, FieldValue, Scenario};

/// A parameter to vary, by its `--set` path.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Param {
    pub key: String,
    pub low: FieldValue,
    pub high: FieldValue,
}

fn rel(key: String, v: f64, unit: bool) -> Option<Param> {
    if v == 0.0 {
        return None;
    }
    // To 12 significant digits: 0.8 x 0.2 is 0.16000000000000003 in
    // binary, and tornado.csv shows the value the runs used.
    let tidy = |x: f64| format!("{x:.11e}").parse().unwrap_or(x);
    let (mut lo, mut hi) = (tidy(0.8 * v), tidy(1.2 * v));
    if unit {
        lo = lo.clamp(0.0, 1.0);
        hi = hi.clamp(0.0, 1.0);
    }
    (lo != hi).then_some(Param {
        key,
        low: FieldValue::Number(lo),
        high: FieldValue::Number(hi),
    })
}

/// The default tornado parameters of a scenario.
pub fn default_params(s: &Scenario) -> Vec<Param> {
    let mut out = Vec::new();
    for w in &s.workloads {
        out.extend(rel(format!("workload.{}.growth", w.name), w.growth, false));
        out.extend(rel(
            format!("workload.{}.volatility", w.name),
            w.volatility,
            false,
        ));
    }
    for p in &s.providers {
        out.extend(rel(
            format!("provider.{}.price_drift", p.name),
            p.price_drift,
            false,
        ));
        out.extend(rel(
            format!("provider.{}.price_volatility", p.name),
            p.price_volatility,
            false,
        ));
        if p.availability < 1.0 {
            out.extend(rel(
                format!("provider.{}.availability", p.name),
                p.availability,
                true,
            ));
        }
        for (i, t) in p.tranches.iter().enumerate() {
            if let Some(d) = &t.delay {
                out.extend(rel(
                    format!("provider.{}.tranche.{i}.delay_months.median", p.name),
                    d.median,
                    false,
                ));
            }
            out.extend(rel(
                format!("provider.{}.tranche.{i}.failure", p.name),
                t.failure,
                true,
            ));
        }
    }
    if let Some(a) = &s.agi {
        out.extend(rel("agi.hazard".to_string(), a.hazard, false));
    }
    out
}

/// Names of the per-path drivers, in [`DriverJob`] order.
pub fn driver_names(m: &Model, s: &Scenario) -> Vec<String> {
    let mut names: Vec<String> = s
        .workloads
        .iter()
        .map(|w| format!("final_demand.{}", w.name))
        .collect();
    names.extend(s.providers.iter().map(|p| format!("avg_price.{}", p.name)));
    for p in &s.providers {
        for i in 0..p.tranches.len() {
            names.push(format!("delay.{}.{i}", p.name));
        }
    }
    let uses_agi = s
        .rules
        .iter()
        .any(|r| r.from == Bound::Agi || r.until == Bound::Agi);
    if m.agi.is_some() || uses_agi {
        names.push("agi_period".to_string());
    }
    names
}

/// Per path: npv, economic, then the drivers of [`driver_names`].
pub struct DriverJob<'a> {
    pub model: &'a Model,
    pub drivers: usize,
}

pub struct DriverState {
    scratch: Scratch,
    out: Vec<f64>,
    per: Vec<f64>,
    price_sum: Vec<f64>,
}

struct PriceSum<'a>(&'a mut [f64]);
impl TakeObserver for PriceSum<'_> {}
impl Observer for PriceSum<'_> {
    fn period_end(&mut self, _t: usize, v: &PeriodView<'_>) {
        for (a, p) in self.0.iter_mut().zip(v.price) {
            *a += p;
        }
    }
}

impl Job for DriverJob<'_> {
    type State = DriverState;
    fn width(&self) -> usize {
        2 + self.drivers
    }
    fn sketched(&self) -> usize {
        0
    }
    fn row_width(&self) -> usize {
        self.width()
    }
    fn name(&self, i: usize) -> String {
        ["metric `npv`", "metric `economic`"]
            .get(i)
            .map_or_else(|| format!("driver {}", i - 2), |s| s.to_string())
    }
    /// A failed tranche's delay is infinite by design; the costs must not be.
    fn finite(&self, i: usize) -> bool {
        i < 2
    }
    fn state(&self) -> DriverState {
        let m = self.model;
        DriverState {
            scratch: Scratch::new(m),
            out: vec![0.0; m.layout.n_path()],
            per: vec![0.0; m.periods * m.layout.n_period()],
            price_sum: vec![0.0; m.providers.len()],
        }
    }
    fn path(&self, st: &mut DriverState, path: u64, out: &mut [f64]) {
        let m = self.model;
        st.price_sum.iter_mut().for_each(|x| *x = 0.0);
        simulate_path(
            m,
            path,
            &mut st.scratch,
            &mut st.out,
            &mut st.per,
            &mut PriceSum(&mut st.price_sum),
        );
        out[0] = st.out[pm::NPV];
        out[1] = st.out[pm::ECONOMIC];
        let mut o = 2;
        for &level in st.scratch.level(m.periods - 1) {
            out[o] = level;
            o += 1;
        }
        for p in 0..m.providers.len() {
            out[o] = st.price_sum[p] / m.periods as f64;
            o += 1;
        }
        for (i, tr) in m.tranches.iter().enumerate() {
            out[o] = st.scratch.tau[i] - tr.online;
            o += 1;
        }
        if o < out.len() {
            out[o] = if st.scratch.agi_period == crate::model::NEVER {
                m.periods as f64
            } else {
                st.scratch.agi_period as f64
            };
        }
    }
}

/// Ranks 1..=n, ties averaged.
pub fn ranks(x: &[f64]) -> Vec<f64> {
    // The values in `f64::total_cmp`'s order as integers, with their
    // indices: sorting the pairs gives the order a stable sort of the
    // indices by `total_cmp` gives, without reading `x` through the
    // indices at every comparison.
    let mut keyed: Vec<(i64, usize)> = x
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let b = v.to_bits() as i64;
            (b ^ (((b >> 63) as u64) >> 1) as i64, i)
        })
        .collect();
    keyed.sort_unstable();
    let mut r = vec![0.0; x.len()];
    let mut i = 0;
    while i < keyed.len() {
        let mut j = i;
        while j + 1 < keyed.len() && x[keyed[j + 1].1] == x[keyed[i].1] {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        for &(_, k) in &keyed[i..=j] {
            r[k] = avg;
        }
        i = j + 1;
    }
    r
}

/// Spearman's rank correlation of each of `xs` with each of `ys`,
/// `[x][y]`: the numbers [`spearman`] gives pair by pair, with every
/// column ranked once, on up to `threads` threads (0: all cores).
pub fn spearman_table(xs: &[&[f64]], ys: &[&[f64]], threads: usize) -> Vec<Vec<f64>> {
    use rayon::prelude::*;
    let table = || {
        let ry: Vec<Vec<f64>> = ys.par_iter().map(|y| ranks(y)).collect();
        xs.par_iter()
            .map(|x| {
                let rx = ranks(x);
                ry.iter().map(|r| pearson(&rx, r)).collect()
            })
            .collect()
    };
    let threads = crate::engine::threads_for(threads, xs.len().max(ys.len()));
    match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
        Ok(pool) => pool.install(table),
        Err(_) => table(),
    }
}

/// Pearson correlation (NaN if either side is constant).
pub fn pearson(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len() as f64;
    let mx = x.iter().sum::<f64>() / n;
    let my = y.iter().sum::<f64>() / n;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    if sxx == 0.0 || syy == 0.0 {
        return f64::NAN;
    }
    sxy / (sxx * syy).sqrt()
}

/// Spearman's rank correlation.
pub fn spearman(x: &[f64], y: &[f64]) -> f64 {
    pearson(&ranks(x), &ranks(y))
}

/// Bytes the drivers' run holds at its peak for `paths` paths of `width`
/// values each (the drivers, NPV and economic cost), ranked on `threads`
/// threads: the columns, the two ranked outcome columns, and per thread
/// a column's sort keys (16 bytes a path) and its ranks (8). Measured:
/// the baseline's 24 values at 10^6 paths, 233 MB on one thread and
/// 257 MB on two, of which about 12 MB is the process's own.
pub fn drivers_peak_bytes(paths: u64, width: usize, threads: usize) -> u128 {
    paths as u128 * (8 * width as u128 + 16 + 24 * threads as u128)
}

/// Refuses a drivers' run whose values would not fit in `available`
/// bytes (`None`: unknown, no check), before anything is simulated: the
/// ranks need every path's values at once, and a run that fails for
/// memory fails at its end, after every tornado run.
pub fn check_drivers_memory(
    paths: u64,
    width: usize,
    threads: usize,
    available: Option<u64>,
) -> crate::error::Result<()> {
    let Some(available) = available else {
        return Ok(());
    };
    let need = drivers_peak_bytes(paths, width, threads);
    if need <= available as u128 {
        return Ok(());
    }
    let per_path = drivers_peak_bytes(1, width, threads);
    let fit = available as u128 / per_path;
    // The most paths that fit, to one significant digit (at least 1).
    let mut most = fit.max(1);
    let mut scale = 1u128;
    while most >= 10 {
        most /= 10;
        scale *= 10;
    }
    Err(crate::error::Error::Other(format!(
        "sensitivity of {paths} paths needs about {} of memory for its drivers' ranks \
         ({width} values a path, all held at once, ranked on {}), and this machine \
         has {} available; use --paths {} or fewer (rank correlations settle long before: \
         their standard error is about 1/sqrt(paths), 0.001 at 10^6 paths); nothing was run",
        size(need),
        crate::output::count(threads as u64, "thread"),
        size(available as u128),
        most * scale
    )))
}

/// A number of bytes as MB, GB or TB (decimal), for messages.
fn size(bytes: u128) -> String {
    let b = bytes as f64;
    if b >= 1e12 {
        format!("{:.1} TB", b / 1e12)
    } else if b >= 1e9 {
        format!("{:.1} GB", b / 1e9)
    } else {
        format!("{:.0} MB", b / 1e6)
    }
}

/// Memory this process may still take, in bytes: the system's available
/// memory (Linux `/proc/meminfo`), less under a cgroup's limit if one is
/// set. `None` where neither can be read.
pub fn available_memory() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok();
    let system = meminfo.as_deref().and_then(|text| {
        let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
        let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        kb.checked_mul(1024)
    });
    let read = |f: &str| -> Option<u64> {
        std::fs::read_to_string(format!("/sys/fs/cgroup/{f}"))
            .ok()?
            .trim()
            .parse()
            .ok()
    };
    // cgroup v2, then v1; v2's "max" (no limit) does not parse, v1's
    // no limit is a number near 2^63.
    let limit =
        |max: &str, used: &str| read(max).map(|m| m.saturating_sub(read(used).unwrap_or(0)));
    let group = limit("memory.max", "memory.current").or_else(|| {
        limit(
            "memory/memory.limit_in_bytes",
            "memory/memory.usage_in_bytes",
        )
    });
    match (system, group) {
        (Some(s), Some(g)) => Some(s.min(g)),
        (s, g) => s.or(g),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_ranges_are_written_as_decimals() {
        let num = |f: &FieldValue| match f {
            FieldValue::Number(x) => *x,
            other => panic!("{other:?}"),
        };
        for (v, unit, lo, hi) in [
            (0.2, true, 0.16, 0.24),
            (0.3, false, 0.24, 0.36),
            (0.07, false, 0.056, 0.084),
            (-0.15, false, -0.12, -0.18),
            (0.9, true, 0.72, 1.0),
            (3.0, false, 2.4, 3.6),
        ] {
            let p = rel("k".into(), v, unit).unwrap();
            assert_eq!((num(&p.low), num(&p.high)), (lo, hi), "{v}");
            assert_eq!(format!("{}", num(&p.low)), format!("{lo}"));
        }
        assert!(rel("k".into(), 0.0, false).is_none());
    }

    /// The drivers' memory: refused above what is available, with the
    /// most paths that fit to one significant digit; no check where the
    /// available memory is unknown.
    #[test]
    fn drivers_memory_is_checked_before_the_run() {
        // 24 values on 2 threads: 8 * 24 + 16 + 48 = 256 bytes a path.
        assert_eq!(drivers_peak_bytes(1_000_000, 24, 2), 256_000_000);
        assert_eq!(drivers_peak_bytes(1, 24, 1), 232);
        assert!(check_drivers_memory(1_000_000, 24, 2, Some(256_000_000)).is_ok());
        assert!(check_drivers_memory(u32::MAX as u64, 24, 2, None).is_ok());
        let e = check_drivers_memory(1_000_001, 24, 2, Some(256_000_000)).unwrap_err();
        assert_eq!(e.exit_code(), 1);
        assert_eq!(
            e.to_string(),
            "sensitivity of 1000001 paths needs about 256 MB of memory for its drivers' ranks \
             (24 values a path, all held at once, ranked on 2 threads), and this machine has \
             256 MB available; use --paths 1000000 or fewer (rank correlations settle long \
             before: their standard error is about 1/sqrt(paths), 0.001 at 10^6 paths); \
             nothing was run"
        );
        let e = check_drivers_memory(4_000_000_000, 24, 1, Some(1 << 34)).unwrap_err();
        assert!(e.to_string().contains("about 928.0 GB of memory"), "{e}");
        assert!(
            e.to_string().contains("this machine has 17.2 GB available"),
            "{e}"
        );
        assert!(e.to_string().contains("on 1 thread)"), "{e}");
        assert!(
            e.to_string().contains("use --paths 70000000 or fewer"),
            "{e}"
        );
        // Not even one path fits: offer 1.
        let e = check_drivers_memory(u32::MAX as u64, 600, 64, Some(100)).unwrap_err();
        assert!(e.to_string().contains("about 27.3 TB of memory"), "{e}");
        assert!(e.to_string().contains("use --paths 1 or fewer"), "{e}");
    }

    #[test]
    fn spearman_of_monotone_and_ties() {
        let x = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(spearman(&x, &[10.0, 20.0, 30.0, 1000.0]), 1.0);
        assert_eq!(spearman(&x, &[4.0, 3.0, 2.0, 1.0]), -1.0);
        assert_eq!(
            ranks(&[5.0, 1.0, 5.0, f64::INFINITY]),
            vec![2.5, 1.0, 2.5, 4.0]
        );
        assert!(spearman(&x, &[1.0; 4]).is_nan());
    }

    /// The ranks equal those of a stable sort of the indices by
    /// `total_cmp` with `==` ties averaged (how they were computed), on
    /// values with many ties, both zeros, infinities and NaN; and the
    /// table equals `spearman` pair by pair, bit for bit, on any threads.
    #[test]
    fn ranks_and_table_match_the_plain_definition() {
        fn plain(x: &[f64]) -> Vec<f64> {
            let mut idx: Vec<usize> = (0..x.len()).collect();
            idx.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
            let mut r = vec![0.0; x.len()];
            let mut i = 0;
            while i < idx.len() {
                let mut j = i;
                while j + 1 < idx.len() && x[idx[j + 1]] == x[idx[i]] {
                    j += 1;
                }
                for k in i..=j {
                    r[idx[k]] = (i + j) as f64 / 2.0 + 1.0;
                }
                i = j + 1;
            }
            r
        }
        let mut state = 12345u64;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            state >> 33
        };
        let special = [
            0.0,
            -0.0,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            -1.5,
            2.0,
        ];
        let cols: Vec<Vec<f64>> = (0..4)
            .map(|c| {
                (0..2000)
                    .map(|_| {
                        let u = next();
                        match (c, u % 10) {
                            (0, _) => (u % 7) as f64,
                            (_, 0) => special[(u % 7) as usize],
                            _ => (u as f64 / 1e3).sin() * 1e3,
                        }
                    })
                    .collect()
            })
            .collect();
        for c in &cols {
            let (a, b) = (ranks(c), plain(c));
            assert!(a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()));
        }
        let xs: Vec<&[f64]> = cols.iter().map(|c| &c[..]).collect();
        for threads in [1, 2, 3] {
            let t = spearman_table(&xs[1..], &xs[..2], threads);
            for (i, x) in xs[1..].iter().enumerate() {
                for (j, y) in xs[..2].iter().enumerate() {
                    let want = pearson(&plain(x), &plain(y));
                    assert_eq!(t[i][j].to_bits(), want.to_bits());
                }
            }
        }
    }
}
