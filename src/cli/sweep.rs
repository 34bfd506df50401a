use super::run::sets_with;
use crate::compare::{self, MetricDiff};
use crate::engine::{self, RunStats};
use crate::error::{Error, Origin, Result};
use crate::model::Model;
use crate::output::{self, ResultDir};
use crate::scenario::{self, FieldValue, Loaded};
use crate::shard::{self, Shard};
use indicatif::ProgressBar;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::ops::Range;
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub struct SweepArgs {
    /// Scenario file
    pub scenario: PathBuf,
    /// A swept parameter `key=lo:hi:steps` (numbers, or YYYY-MM dates on a
    /// date field), or a fixed override `key=value`; repeatable
    #[arg(long = "set", value_name = "KEY=LO:HI:STEPS", required = true)]
    pub sets: Vec<String>,
    #[command(flatten)]
    pub sim: super::SimArgs,
    #[arg(long, short)]
    pub quiet: bool,
    /// Simulate only part I of N of every grid point's paths (e.g. 3/8, one
    /// per job of a batch scheduler) into <out>/sweep/NAME.shard-I-of-N/;
    /// `capsim merge` joins the N parts into the sweep one process writes
    #[arg(long, value_name = "I/N", allow_hyphen_values = true)]
    pub shard: Option<Shard>,
    /// Also draw sweep.svg (SVG) from sweep.csv: the mean npv and its 5-95%
    /// band along the first axis, and each point's paired difference from
    /// the reference
    #[arg(long)]
    pub charts: bool,
    /// The grid point every point's paired difference is taken from,
    /// numbered as sweep.csv lists them (1: every axis at its first value),
    /// or `none`: no differences, each point simulated alone (less memory
    /// for a large model)
    #[arg(
        long,
        value_name = "POINT",
        default_value = "1",
        allow_negative_numbers = true,
        value_parser = reference_arg
    )]
    pub reference: RefPoint,
}

/// `--reference`: a grid point's number, from 1, or none.
#[derive(Debug, Clone, Copy)]
pub struct RefPoint(Option<usize>);

/// A swept parameter: its dotted path and grid values (numbers, or months
/// for a date field).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Axis {
    pub key: String,
    pub values: Vec<FieldValue>,
    /// The `--set` as written (`key=lo:hi:steps`), for messages.
    pub arg: String,
}

/// The most points a sweep's grid may have.
const MAX_POINTS: usize = 100_000;

/// `key=lo:hi:steps` -> an axis; anything else is not a sweep. The ends
/// are numbers, or `YYYY-MM` months when `key` is a date field (`start`,
/// `online`, `from`, `to`, `until`, `earliest`), whose steps must then be
/// whole months.
pub fn parse_axis(arg: &str) -> Option<Result<Axis>> {
    let (key, v) = arg.split_once('=')?;
    let parts: Vec<&str> = v.split(':').collect();
    let date = scenario::is_date_field(key);
    let bad = |m: String| Some(Err(Error::flag(&format!("--set {arg}"), m)));
    let ends: Vec<Option<FieldValue>> = parts
        .iter()
        .take(2)
        .map(|x| FieldValue::parse(x, date))
        .collect();
    if let [Some(lo), Some(hi)] = ends[..] {
        if parts.len() == 2 {
            // No field takes `a:b`: a range without its number of steps.
            return bad(format!(
                "found lo:hi without steps, expected lo:hi:steps, e.g. {v}:{}",
                suggested_steps(lo, hi)
            ));
        }
    }
    if parts.len() != 3 {
        return None;
    }
    let [Some(lo), Some(hi)] = ends[..] else {
        let hint = parts[..2]
            .iter()
            .find_map(|x| scenario::range_end_hint(key, x));
        let expected = if date {
            "expected dates (YYYY-MM) in lo:hi:steps"
        } else {
            "expected numbers in lo:hi:steps"
        };
        return Some(Err(
            Error::flag(&format!("--set {arg}"), expected).with_hint(hint)
        ));
    };
    let Ok(steps) = parts[2].trim().parse::<usize>() else {
        return bad(format!(
            "found steps \"{}\", expected a whole number >= 1",
            parts[2]
        ));
    };
    if !lo.is_finite() || !hi.is_finite() {
        return bad("expected finite lo and hi".into());
    }
    if steps == 0 {
        // (The message once said "steps >= 1", which 1 step from lo to
        // another hi is not: below.)
        return bad(if lo == hi {
            format!("found 0 steps, expected 1 (lo and hi are one value), e.g. {lo}:{hi}:1")
        } else {
            format!(
                "found 0 steps, expected 2 or more (both ends are included), e.g. {lo}:{hi}:{}",
                suggested_steps(lo, hi)
            )
        });
    }
    if steps > MAX_POINTS {
        // Refused before its values are made (1e9 steps took 8 GB and
        // minutes, without a word, before the grid's size was checked).
        return bad(format!(
            "found {steps} steps, expected at most {MAX_POINTS} (a sweep's whole grid has \
             at most {MAX_POINTS} points)"
        ));
    }
    if steps > 1 && lo == hi {
        // Every point the same run: the grid would repeat it.
        return bad(format!(
            "found {steps} steps from {lo} to {hi}, which repeat {lo} {steps} times, \
             expected 1 (lo and hi are one value), e.g. {lo}:{hi}:1"
        ));
    }
    if steps == 1 && lo != hi {
        // One step is lo alone: hi would be dropped without a word.
        return bad(format!(
            "found 1 step from {lo} to {hi}, which sweeps {lo} alone, expected 2 or more \
             (both ends are included), e.g. {lo}:{hi}:{}",
            suggested_steps(lo, hi)
        ));
    }
    let values = match (lo, hi) {
        (FieldValue::Month(lo), FieldValue::Month(hi)) => {
            let span = hi.months_since(lo);
            let gaps = steps.saturating_sub(1).max(1) as i64;
            if span % gaps != 0 {
                return bad(format!(
                    "found {steps} steps from {lo} to {hi}, which fall between months, \
                     expected steps that split its {} evenly: {}",
                    output::count(span.unsigned_abs(), "month"),
                    whole_month_steps(span.unsigned_abs())
                ));
            }
            (0..steps as i64)
                .map(|i| FieldValue::Month(lo.add_months(span / gaps * i)))
                .collect()
        }
        (FieldValue::Number(lo), FieldValue::Number(hi)) => (0..steps)
            .map(|i| {
                let v = if steps == 1 {
                    lo
                } else {
                    lo + (hi - lo) * i as f64 / (steps - 1) as f64
                };
                FieldValue::Number(clean(v, lo.abs().max(hi.abs())))
            })
            .collect(),
        _ => unreachable!("both ends parsed as dates or both as numbers"),
    };
    Some(Ok(Axis {
        key: key.trim().to_string(),
        values,
        arg: arg.to_string(),
    }))
}

/// A number of steps to suggest from `lo` to `hi`: 5, or for dates the
/// number nearest 5 that steps whole months.
fn suggested_steps(lo: FieldValue, hi: FieldValue) -> u64 {
    match (lo, hi) {
        (FieldValue::Month(lo), FieldValue::Month(hi)) => {
            month_steps(hi.months_since(lo).unsigned_abs())
                .into_iter()
                .min_by_key(|s| s.abs_diff(5))
                .unwrap_or(1)
        }
        _ => 5,
    }
}

/// The numbers of steps that split `span` months into whole months (each
/// divisor plus one; none for 0 months, which one step covers).
fn month_steps(span: u64) -> Vec<u64> {
    (1..=span)
        .filter(|d| span % d == 0)
        .map(|d| d + 1)
        .collect()
}

/// [`month_steps`] as a list for a message: "2, 3, 4, 5, 7 or 13".
fn whole_month_steps(span: u64) -> String {
    let steps: Vec<String> = month_steps(span).iter().map(u64::to_string).collect();
    crate::error::or_list(&steps)
}

/// A grid value without the binary noise of `lo + step * i`, so that
/// overrides and CSV cells read cleanly: 15 significant digits, and 0 for
/// anything below 1e-12 of the axis's larger end (where the steps cross
/// zero). It was `(v * 1e12).round() / 1e12`, which overflowed to infinity
/// past 1.8e296, added noise of its own past about 9e3 (8764121477007
/// became 8764121477007.001) and made every value below 5e-13 zero.
fn clean(v: f64, scale: f64) -> f64 {
    if v.abs() < 1e-12 * scale {
        return 0.0;
    }
    format!("{v:.14e}").parse().unwrap_or(v)
}

/// A sweep's grid: its axes, the fixed overrides (with `--paths` and
/// `--seed`) and every point's coordinates and scenario, in the order
/// `sweep.csv` lists them (the last axis varying fastest).
struct Grid {
    axes: Vec<Axis>,
    fixed: Vec<String>,
    points: Vec<(Vec<FieldValue>, Loaded)>,
}

impl Grid {
    /// The scenario's name (every point's).
    fn name(&self) -> &str {
        &self.points[0].1.scenario.name
    }

    /// Point `i`'s coordinates, `key=value` for each axis.
    fn at(&self, i: usize) -> String {
        let at: Vec<String> = self
            .axes
            .iter()
            .zip(&self.points[i].0)
            .map(|(ax, v)| format!("{}={v}", ax.key))
            .collect();
        at.join(" ")
    }
}

/// Splits `--set` arguments into axes and fixed overrides (`paths` and
/// `seed` appended to the latter).
fn axes_and_fixed(
    sets: &[String],
    paths: Option<u64>,
    seed: Option<u64>,
) -> Result<(Vec<Axis>, Vec<String>)> {
    let mut axes = Vec::new();
    let mut fixed = Vec::new();
    for s in sets {
        match parse_axis(s) {
            Some(ax) => axes.push(ax?),
            None => fixed.push(s.clone()),
        }
    }
    if axes.is_empty() {
        let found = if fixed.is_empty() {
            "found no swept parameter".to_string()
        } else {
            let sets: Vec<String> = fixed.iter().map(|s| format!("--set {s}")).collect();
            format!(
                "found no swept parameter (only fixed values: {})",
                sets.join(" ")
            )
        };
        return Err(Error::flag(
            "--set",
            format!("{found}, expected at least one --set key=lo:hi:steps"),
        )
        .with_hint(fixed.iter().find_map(|s| range_written_otherwise(s))));
    }
    Ok((axes, sets_with(&fixed, paths, seed)))
}

/// A hint for `key=lo-hi` (`..`, ` to `, `/` or `;` between the ends for
/// `-`): a range written another way than `lo:hi:steps`.
fn range_written_otherwise(set: &str) -> Option<String> {
    let (key, v) = set.split_once('=')?;
    let (lo, hi, a, b) = super::ends_written_otherwise(v, scenario::is_date_field(key))?;
    Some(format!(
        "a range is written lo:hi:steps (both ends included): --set {key}={lo}:{hi}:{}",
        suggested_steps(a, b)
    ))
}

/// Every grid point, loaded by `load` from its overrides (the fixed ones,
/// then one per axis) on `threads` threads; all are validated before any
/// is simulated, and the first point's fields checked before the others
/// load.
fn grid(
    axes: Vec<Axis>,
    fixed: Vec<String>,
    threads: usize,
    load: impl Fn(&[String]) -> Result<Loaded> + Sync,
) -> Result<Grid> {
    let sizes: Vec<usize> = axes.iter().map(|x| x.values.len()).collect();
    let product = sizes.iter().try_fold(1usize, |a, &b| a.checked_mul(b));
    let Some(points) = product.filter(|&p| p <= MAX_POINTS) else {
        let sizes: Vec<String> = sizes.iter().map(usize::to_string).collect();
        let total = product.map(|p| format!(" = {p}")).unwrap_or_default();
        return Err(Error::flag(
            "--set",
            format!(
                "found a grid of {}{total} points, expected at most {MAX_POINTS}",
                sizes.join(" x ")
            ),
        ));
    };
    let mut coords = Vec::with_capacity(points);
    let mut sets = Vec::with_capacity(points);
    for i in 0..points {
        let mut rem = i;
        let mut at = vec![FieldValue::Number(0.0); axes.len()];
        for (j, ax) in axes.iter().enumerate().rev() {
            at[j] = ax.values[rem % ax.values.len()];
            rem /= ax.values.len();
        }
        let mut s = fixed.clone();
        for (ax, v) in axes.iter().zip(&at) {
            s.push(format!("{}={v}", ax.key));
        }
        coords.push(at);
        sets.push(s);
    }
    // An error in the `key=value` a point's axis became is the axis's, as
    // the user wrote it (`--set k=lo:hi:steps`, not `--set k=value`).
    let blame = |at: &[FieldValue], e: Error| {
        axes.iter().zip(at).fold(e, |e, (ax, v)| {
            let written = Origin::Override {
                arg: ax.arg.clone(),
            };
            e.as_written(&format!("{}={v}", ax.key), &written)
        })
    };
    let first = load(&sets[0]).map_err(|e| blame(&coords[0], e))?;
    one_value_per_field(&axes, &fixed, &first)?;
    let mut loaded = vec![Ok(first)];
    loaded.extend(crate::runner::load_each(&sets[1..], threads, load));
    let grid = coords
        .into_iter()
        .zip(loaded)
        .map(|(c, l)| match l {
            Ok(l) => Ok((c, l)),
            Err(e) => Err(blame(&c, e)),
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Grid {
        axes,
        fixed,
        points: grid,
    })
}

/// Refuses two axes on one field, or an axis on a field a fixed override
/// (`--paths` and `--seed` included) sets: the later override would win
/// silently, and the grid would not be the one asked for. Fields are
/// compared as resolved (`workload.0.growth` is `workload.api.growth`).
fn one_value_per_field(axes: &[Axis], fixed: &[String], first: &Loaded) -> Result<()> {
    let paths = &first.override_paths;
    let show = |ax: &Axis| {
        let (lo, hi) = (ax.values[0], ax.values[ax.values.len() - 1]);
        format!("--set {}={lo}:{hi}:{}", ax.key, ax.values.len())
    };
    for (j, ax) in axes.iter().enumerate() {
        let at = &paths[fixed.len() + j];
        if let Some(k) = (0..j).find(|&k| &paths[fixed.len() + k] == at) {
            return Err(Error::flag(
                &show(ax),
                format!(
                    "found a second axis on this field (the first: {}), expected each \
                     field swept once",
                    show(&axes[k])
                ),
            ));
        }
        if let Some(k) = (0..fixed.len()).find(|&k| &paths[k] == at) {
            return Err(Error::flag(
                &show(ax),
                format!(
                    "found this field also set to one value (--set {}; --paths and --seed \
                     set simulation.paths and simulation.seed), expected it swept or fixed, \
                     not both",
                    fixed[k]
                ),
            ));
        }
    }
    Ok(())
}

pub fn sweep(a: SweepArgs) -> Result<()> {
    let started = std::time::SystemTime::now();
    let (axes, fixed) = axes_and_fixed(&a.sets, a.sim.paths, a.sim.seed)?;
    let source = scenario::Source::read(&a.scenario)?;
    // The axes' values are checked against the fixed overrides by `grid`.
    let n = fixed.len();
    let grid = grid(axes, fixed, a.sim.threads, |sets| {
        Ok(source.load_varied(sets, n)?)
    })?;
    // Every point's (a rate swept as percentages warns at its points).
    super::warn(grid.points.iter().map(|(_, l)| l), false);
    let reference = reference_point(a.reference, &grid)?;
    if let Some(part) = a.shard {
        return run_shard(&a, &grid, reference, part);
    }
    output::check_target(&a.sim.out.join("sweep"), grid.name())?;
    let name = grid.name().to_string();
    let points = grid.points.len();
    let mut table = Table::new(&grid, reference.unwrap_or(0), a.quiet)?;
    // One bar over every point's paths (a point may set its own).
    let total: u64 = grid
        .points
        .iter()
        .map(|(_, l)| l.scenario.simulation.paths)
        .sum();
    let bar = crate::runner::progress_bar(total, &name, !a.quiet);
    let runs: Vec<&Loaded> = grid.points.iter().map(|(_, l)| l).collect();
    let groups = Groups::of(&runs, reference, a.sim.threads);
    let what = groups.label(points);
    crate::runner::simulate_groups(
        &runs,
        &groups.ranges,
        |_| groups.reference(),
        a.sim.threads,
        &bar,
        crate::runner::RunLabels {
            name: &name,
            unit: "groups of points",
            what: &what,
        },
        |i, m, st, named| {
            let (coords, l) = &grid.points[i];
            let diffs = groups.diffs(i, named, &st.paired, st.paths);
            table.point(coords, l, m, &st, diffs, &bar)
        },
    )?;
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    table.finish(&a.sim.out, &grid, &groups, started, &[], a.charts)
}

/// `--reference`: a grid point's number, from 1, or `none`.
fn reference_arg(s: &str) -> std::result::Result<RefPoint, String> {
    if s == "none" {
        return Ok(RefPoint(None));
    }
    super::whole_in(
        s,
        1,
        MAX_POINTS as u64,
        " (a grid point, as sweep.csv lists them), or none",
    )
    .map(|n| RefPoint(Some(n as usize)))
}

/// The reference point `--reference` names (numbered from 1), as an
/// index into the grid's points; `None` for `none`.
fn reference_point(point: RefPoint, grid: &Grid) -> Result<Option<usize>> {
    let Some(point) = point.0 else {
        return Ok(None);
    };
    let n = grid.points.len();
    if point == 0 || point > n {
        let expected = match n {
            1 => "expected 1, the grid's one point".to_string(),
            _ => format!("expected a grid point from 1 to {n} (as sweep.csv lists them)"),
        };
        return Err(Error::flag(
            "--reference",
            format!("found {point}, {expected}"),
        ));
    }
    Ok(Some(point - 1))
}

/// The most grid points simulated in one pass over the paths.
const MAX_GROUP: usize = 16;

/// How a sweep's points are simulated: in groups of consecutive points,
/// each group in one pass over the paths ([`crate::runner::GroupJob`]), every path
/// simulated for each point of the group and, where the group does not
/// hold it, for the reference point (`--reference`, the first by
/// default), so that each point's
/// path metrics are paired with the reference's path by path (common
/// random numbers: the same draws on the same path). A point's own
/// statistics are those of its run alone, bit for bit, whatever its
/// group. Points are paired only when a reference is asked for (not
/// `--reference none`) and every one has the reference's seed and paths
/// (a sweep over either has nothing to pair); otherwise each point is a
/// group of its own.
struct Groups {
    ranges: Vec<Range<usize>>,
    paired: bool,
    /// The reference point's index (0 without one).
    reference: usize,
    /// Whether a reference was asked for (not `--reference none`).
    asked: bool,
}

impl Groups {
    /// The groups of the points `runs`, paired with point `reference` if
    /// given, on `threads` threads (0: all cores).
    fn of(runs: &[&Loaded], reference: Option<usize>, threads: usize) -> Groups {
        let sim = |l: &Loaded| (l.scenario.simulation.seed, l.scenario.simulation.paths);
        let n = runs.len();
        let (asked, reference) = (reference.is_some(), reference.unwrap_or(0));
        let paired = asked && n > 1 && runs.iter().all(|l| sim(l) == sim(runs[reference]));
        let g = if paired {
            let paths = runs[0].scenario.simulation.paths;
            group_count(n, paths, engine::all_cores(threads))
        } else {
            n
        };
        Groups {
            ranges: split(n, g),
            paired,
            reference,
            asked,
        }
    }

    /// The point every point is paired with, if any.
    fn reference(&self) -> Option<usize> {
        self.paired.then_some(self.reference)
    }

    /// The progress bar's label of group `g` of a grid of `points`
    /// ("points 1-13 of 100"), in one process and in a shard alike.
    fn label(&self, points: usize) -> impl Fn(usize) -> String + Sync + '_ {
        move |g| {
            let r = &self.ranges[g];
            if r.len() == 1 {
                format!("point {} of {points}", r.start + 1)
            } else {
                format!("points {}-{} of {points}", r.start + 1, r.end)
            }
        }
    }

    /// Point `i`'s differences from the reference: from the moments
    /// `paired` of its values paired with the reference's (`named`, as
    /// [`compare::metric_diffs`] takes them) over `paths` paths.
    fn diffs(
        &self,
        i: usize,
        named: &[(String, usize, usize)],
        paired: &[crate::stats::Moments],
        paths: u64,
    ) -> Diffs {
        match (self.paired, i == self.reference) {
            (false, _) => Diffs::Unpaired,
            (true, true) => Diffs::Reference,
            (true, false) => Diffs::Paired(compare::metric_diffs(named, paired, paths)),
        }
    }
}

/// `n` items in `g` runs of consecutive ones, the longer first, their
/// lengths at most one apart.
fn split(n: usize, g: usize) -> Vec<Range<usize>> {
    let g = g.clamp(1, n.max(1));
    let (q, r) = (n / g, n % g);
    let mut at = 0;
    (0..g)
        .map(|i| {
            let len = q + usize::from(i < r);
            at += len;
            at - len..at
        })
        .collect()
}

/// How many groups `n` paired points of `paths` paths each are simulated
/// in on `threads` threads: each group but the reference's simulates the
/// reference point once more (counted here as if the first held it), so
/// fewer groups do less work; but a group
/// of few blocks of paths keeps one thread busy, so more groups may
/// finish sooner side by side. Of the counts from the fewest (groups of
/// at most [`MAX_GROUP`] points) to `2 x threads` more, the one whose
/// busiest thread has the fewest point-blocks to simulate, as
/// [`crate::runner::each_run`] would run them (the fewer groups on a tie).
fn group_count(n: usize, paths: u64, threads: usize) -> usize {
    use std::cmp::Reverse;
    let threads = threads.max(1);
    let blocks = paths.div_ceil(engine::DEFAULT_BLOCK as u64).max(1);
    let fewest = n.div_ceil(MAX_GROUP).max(1);
    let time = |g: usize| -> u64 {
        let work: Vec<u64> = split(n, g)
            .iter()
            .enumerate()
            .map(|(i, r)| (r.len() + usize::from(i > 0)) as u64)
            .collect();
        if crate::runner::side_by_side(&vec![paths; g], threads) {
            let mut free: std::collections::BinaryHeap<Reverse<u64>> =
                (0..threads.min(g)).map(|_| Reverse(0)).collect();
            for w in work {
                let Reverse(t) = free.pop().expect("a thread");
                free.push(Reverse(t + w * blocks));
            }
            free.into_iter().map(|Reverse(t)| t).max().unwrap_or(0)
        } else {
            work.iter()
                .map(|w| w * blocks.div_ceil(threads as u64))
                .sum()
        }
    };
    (fewest..=n.min(fewest + 2 * threads))
        .min_by_key(|&g| (time(g), g))
        .unwrap_or(1)
}

/// A point's differences from the sweep's reference point.
enum Diffs {
    /// Its seed or paths differ from the reference's: nothing to pair.
    Unpaired,
    /// It is the reference.
    Reference,
    Paired(Vec<MetricDiff>),
}

/// `sweep.csv` as its points come, and their lines on the terminal.
struct Table<'g> {
    axes: &'g [Axis],
    w: csv::Writer<Vec<u8>>,
    quiet: bool,
    /// The reference point's number (from 1), for the terminal.
    reference: usize,
    /// Points whose line the terminal has had.
    shown: usize,
}

/// The most points whose line a sweep prints (the file has every one).
const SHOWN_POINTS: usize = 50;

impl<'g> Table<'g> {
    /// The table of `grid`'s points, paired with its point `reference`
    /// (an index).
    fn new(grid: &'g Grid, reference: usize, quiet: bool) -> Result<Table<'g>> {
        let mut w = crate::output::writer();
        let mut header: Vec<String> = grid.axes.iter().map(|x| x.key.clone()).collect();
        header.extend(
            [
                "metric",
                "mean",
                "stderr",
                "p5",
                "p50",
                "p95",
                "diff_vs_reference",
                "diff_stderr",
                "diff_ci_low",
                "diff_ci_high",
                "p_lower_than_reference",
            ]
            .map(String::from),
        );
        w.write_record(&header)?;
        Ok(Table {
            axes: &grid.axes,
            w,
            quiet,
            reference: reference + 1,
            shown: 0,
        })
    }

    /// A point's rows, and its line above the progress bar `bar`.
    fn point(
        &mut self,
        coords: &[FieldValue],
        l: &Loaded,
        m: &Model,
        st: &RunStats,
        diffs: Diffs,
        bar: &Option<ProgressBar>,
    ) -> Result<()> {
        let diff_of = |metric: &str| match &diffs {
            Diffs::Unpaired => None,
            Diffs::Reference => Some([0.0; 5]),
            Diffs::Paired(d) => d.iter().find(|d| d.metric == metric).map(|d| {
                [
                    d.diff_mean,
                    d.diff_stderr,
                    d.diff_ci_low,
                    d.diff_ci_high,
                    d.p_alt_lower,
                ]
            }),
        };
        for (k, metric) in m.layout.path_names.iter().enumerate() {
            let x = &st.path[k];
            let mut row: Vec<String> = coords.iter().map(|v| v.to_string()).collect();
            row.push(metric.clone());
            for v in [x.mean, x.stderr, x.q(0.05), x.q(0.5), x.q(0.95)] {
                row.push(v.to_string());
            }
            match diff_of(metric) {
                Some(d) => row.extend(d.map(|v| v.to_string())),
                None => row.extend(std::iter::repeat_n(String::new(), 5)),
            }
            self.w.write_record(&row)?;
        }
        if !self.quiet && self.shown < SHOWN_POINTS {
            self.shown += 1;
            let npv = st.path_metric(m, "npv").expect("npv");
            let pt: Vec<String> = self
                .axes
                .iter()
                .zip(coords)
                .map(|(ax, v)| format!("{}={v}", ax.key))
                .collect();
            let cur = &l.scenario.currency;
            let mut line = format!(
                "{:<50} npv {} +- {}",
                pt.join(" "),
                crate::output::human(npv.mean, true, cur),
                crate::output::human(npv.stderr, true, cur)
            );
            if let Diffs::Reference = diffs {
                line.push_str("  (reference)");
            }
            if let (Diffs::Paired(_), Some(d)) = (&diffs, diff_of("npv")) {
                let sign = if d[0] < 0.0 { "-" } else { "+" };
                line.push_str(&format!(
                    "  vs point {} {sign}{} +- {}",
                    self.reference,
                    crate::output::human(d[0].abs(), true, cur),
                    crate::output::human(d[1], true, cur)
                ));
            }
            // Above the bar, which is redrawn below it.
            crate::runner::above(bar, || {
                let _ = writeln!(std::io::stdout().lock(), "{line}");
            });
        }
        Ok(())
    }

    /// Writes `<out>/sweep/<name>/`; `shards`, the shards it was merged
    /// from, go into the manifest.
    fn finish(
        self,
        out: &Path,
        grid: &Grid,
        groups: &Groups,
        started: std::time::SystemTime,
        shards: &[shard::RunsRecord],
        charts: bool,
    ) -> Result<()> {
        let points = grid.points.len();
        let dir = ResultDir::create(&out.join("sweep"), grid.name())?;
        dir.write("sweep.csv", &crate::output::finish(self.w)?)?;
        let first = &grid.points[0].1;
        let currency = &first.scenario.currency;
        if charts {
            crate::output::charts::write_sweep_chart(&dir.path("sweep.csv"), currency)?;
        }
        let sim = &first.scenario.simulation;
        let mut prov = crate::output::Provenance::new("sweep", sim.seed, sim.paths, started);
        prov.scenarios.push(crate::output::ScenarioRef::of(first));
        prov.details = serde_json::json!({
            "axes": grid.axes.iter().map(|x| serde_json::json!({"key": x.key, "values": x.values})).collect::<Vec<_>>(),
            "fixed_overrides": grid.fixed,
            "grid_points": points,
            // For `capsim chart`, which draws the npv in it.
            "currency": currency,
            "charts": if charts { vec![crate::output::charts::SWEEP_CHART] } else { vec![] },
            // The point every other's differences are taken from.
            "reference": groups.paired.then(|| serde_json::json!({
                "point": groups.reference + 1,
                "at": grid.at(groups.reference),
            })),
        });
        if !shards.is_empty() {
            prov.details["shards"] = serde_json::json!(shards);
        }
        dir.write("manifest.json", &prov.to_json()?)?;
        let target = dir.commit()?;
        if !self.quiet {
            if points > self.shown {
                say!(
                    "... {} more in sweep.csv ({points} in all)",
                    points - self.shown
                );
            }
            say!(
                "wrote {}/sweep.csv ({points} grid points){}",
                target.display(),
                if charts { " and sweep.svg" } else { "" }
            );
            // The +- above are each point's own standard error; the points
            // share their draws, so their differences are far tighter.
            if groups.paired {
                say!(
                    "note: the points share their random numbers (common random numbers), so a \
                     difference between two is more precise than their +- suggest; each \
                     point's difference from point {} ({}) is paired path by path: \
                     diff_vs_reference and diff_stderr in sweep.csv",
                    groups.reference + 1,
                    grid.at(groups.reference)
                );
            } else if !groups.asked {
                say!(
                    "note: the points share their random numbers (common random numbers), so a \
                     difference between two is more precise than their +- suggest \
                     (--reference POINT pairs them in sweep.csv)"
                );
            } else if points > 1 {
                say!(
                    "note: the points differ in seed or paths, so they share no random \
                     numbers: sweep.csv has no paired differences"
                );
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// Shards (`capsim sweep ... --shard I/N`, then `capsim merge`): every grid
// point's paths are cut as a run's (`Shard::span` of that point's paths),
// each point's chunk moments go one point after the other into
// `moments.bin`, its sketches and extremes into the description; the merge
// folds them point by point, as the run of each point merges its chunks,
// and writes the `sweep.csv` one `sweep` writes, byte for byte.

/// A sweep shard's description.
pub(crate) const SWEEP_HEADER: &str = "sweep_shard.json";

/// `sweep_shard.json`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SweepHeader {
    format: u32,
    capsim_version: String,
    scenario: String,
    /// The scenario file as it was read: the merge loads every point from
    /// it, with the point's overrides, and checks its resolved sha256.
    scenario_file: String,
    scenario_sha256: String,
    scenario_text: String,
    axes: Vec<Axis>,
    fixed: Vec<String>,
    /// The reference point's index (`--reference` less one; none for
    /// `--reference none`).
    reference: Option<usize>,
    shard: u64,
    of: u64,
    record: shard::RunsRecord,
    points: Vec<shard::RunPart>,
    #[serde(default)]
    files: shard::FileHashes,
}

/// Simulates part `part` of every point's paths into
/// `<out>/sweep/<name>.shard-I-of-N/`.
fn run_shard(a: &SweepArgs, grid: &Grid, reference: Option<usize>, part: Shard) -> Result<()> {
    let started = std::time::SystemTime::now();
    let clock = std::time::Instant::now();
    let first = &grid.points[0].1;
    let text = shard::scenario_text(&a.scenario, first)?;
    // Every point's span first: a point with fewer chunks than N fails
    // before anything is simulated.
    let runs: Vec<&Loaded> = grid.points.iter().map(|(_, l)| l).collect();
    let spans = shard::spans(part, &runs, |i| {
        (runs.len() > 1).then(|| format!("grid point {}", grid.at(i)))
    })?;
    let folder = part.folder(grid.name());
    let dir = ResultDir::create(&a.sim.out.join("sweep"), &folder)?;
    let mut writer = shard::MomentsWriter::create(&dir.path(shard::MOMENTS))?;
    let total: u64 = spans.iter().map(|s| s.end - s.start).sum();
    let bar = crate::runner::progress_bar(total, &folder, !a.quiet);
    let groups = Groups::of(&runs, reference, a.sim.threads);
    let what = groups.label(runs.len());
    let labels = crate::runner::RunLabels {
        name: &folder,
        unit: "groups of points",
        what: &what,
    };
    let (parts, threads) = shard::run_group_spans(
        &runs,
        &groups.ranges,
        |_| groups.reference(),
        &spans,
        a.sim.threads,
        &bar,
        labels,
        &mut writer,
    )?;
    writer.finish()?;
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let h = SweepHeader {
        format: shard::FORMAT,
        capsim_version: env!("CARGO_PKG_VERSION").to_string(),
        scenario: grid.name().to_string(),
        scenario_file: first.file.display().to_string(),
        scenario_sha256: first.file_sha256.clone(),
        scenario_text: text,
        axes: grid.axes.clone(),
        fixed: grid.fixed.clone(),
        reference,
        shard: part.index,
        of: part.count,
        record: shard::RunsRecord::new(part, first, total, threads, started, clock),
        points: parts,
        files: shard::hash_files(&dir, &[shard::MOMENTS])?,
    };
    shard::write_description(&dir, SWEEP_HEADER, &h)?;
    let done = dir.commit()?;
    if !a.quiet {
        say!(
            "{part}: {} over {}, {}, {:.2} s",
            crate::output::count(total, "path"),
            crate::output::count(grid.points.len() as u64, "grid point"),
            crate::output::count(threads as u64, "thread"),
            h.record.wall_seconds
        );
        say!("{}", shard::how_to_merge(&done, part));
    }
    Ok(())
}

fn read_header(dir: &Path) -> Result<SweepHeader> {
    shard::read_description(
        dir,
        SWEEP_HEADER,
        "expected a sweep's shard folder written by `capsim sweep SCENARIO --set ... --shard I/N`",
        "a capsim sweep shard description",
        |h: &SweepHeader| (h.format, h.capsim_version.as_str()),
    )
}

/// Merges the shards in `dirs` (all of one `sweep --shard`, in any order)
/// into the `<out>/sweep/<name>/` one `sweep` writes: `sweep.csv` byte for
/// byte, the manifest listing the shards.
pub fn merge_shards(
    dirs: &[PathBuf],
    out: &Path,
    threads: usize,
    charts: bool,
    quiet: bool,
) -> Result<()> {
    let started = std::time::SystemTime::now();
    let mut shards = shard::read_all(dirs, read_header, |h| &h.capsim_version)?;
    let keys = |h: &SweepHeader| -> Vec<String> {
        h.axes
            .iter()
            .map(|x| format!("{} ({} values)", x.key, x.values.len()))
            .collect()
    };
    shard::check_one_job(
        &mut shards,
        "sweep",
        "the scenario, --set, --paths, --seed and N",
        |h| (h.shard, h.of),
        |h0, h| {
            if h.axes != h0.axes {
                return Some(format!(
                    "its axes are {:?}, expected {:?}",
                    keys(h),
                    keys(h0)
                ));
            }
            if h.reference != h0.reference {
                let show = |r: Option<usize>| r.map_or("none".to_string(), |r| (r + 1).to_string());
                return Some(format!(
                    "its --reference is {}, expected {}",
                    show(h.reference),
                    show(h0.reference)
                ));
            }
            if h.points.len() != h0.points.len() {
                return Some(format!(
                    "it has {} grid points, expected {}",
                    h.points.len(),
                    h0.points.len()
                ));
            }
            let i = (0..h0.points.len())
                .find(|&i| h.points[i].resolved_sha256 != h0.points[i].resolved_sha256)?;
            Some(format!(
                "its scenario at grid point {} resolves differently",
                i + 1
            ))
        },
    )?;

    let (d0, h0) = &shards[0];
    let header0 = d0.join(SWEEP_HEADER);
    let file = PathBuf::from(&h0.scenario_file);
    let source = scenario::Source::new(&file, h0.scenario_text.clone());
    let n = h0.fixed.len();
    let grid = grid(h0.axes.clone(), h0.fixed.clone(), threads, |sets| {
        source
            .load_varied(sets, n)
            .map_err(|e| shard::bad(&header0, format!("its scenario does not load: {e}")))
    })?;
    if grid.points.len() != h0.points.len() {
        return Err(shard::bad(
            &header0,
            "its axes and grid points do not agree: the file was edited",
        ));
    }
    for (i, ((_, l), p)) in grid.points.iter().zip(&h0.points).enumerate() {
        if l.resolved_sha256 != p.resolved_sha256 {
            return Err(shard::bad(
                &header0,
                format!(
                    "its scenario at grid point {} does not resolve to its sha256 (the file \
                     was edited)",
                    i + 1
                ),
            ));
        }
    }
    // Every shard's moments file holds its points' chunks one point after
    // the other; each is opened once and read on as the points are merged.
    for (d, h) in &shards {
        shard::check_files(d, &h.files, &[shard::MOMENTS])?;
    }
    let mut readers = Vec::with_capacity(shards.len());
    for (d, h) in &shards {
        readers.push(shard::PartsReader::open(
            d,
            SWEEP_HEADER,
            h.shard,
            h.of,
            &h.points,
        )?);
    }
    let threads = crate::engine::all_cores(threads);
    let most = shards
        .iter()
        .map(|(_, h)| h.record.threads)
        .max()
        .unwrap_or(1);
    let r = h0.reference;
    if let Some(r) = r.filter(|&r| r >= grid.points.len()) {
        return Err(shard::bad(
            &header0,
            format!(
                "its reference is grid point {}, of {}: the file was edited",
                r + 1,
                grid.points.len()
            ),
        ));
    }
    let mut table = Table::new(&grid, r.unwrap_or(0), quiet)?;
    let runs: Vec<&Loaded> = grid.points.iter().map(|(_, l)| l).collect();
    let groups = Groups::of(&runs, r, threads);
    let reference = Model::compile(&runs[groups.reference].scenario);
    for (i, (coords, l)) in grid.points.iter().enumerate() {
        let m = Model::compile(&l.scenario);
        let against = Some(&reference).filter(|_| groups.paired && i != groups.reference);
        let parts: Vec<&shard::RunPart> = shards.iter().map(|(_, h)| &h.points[i]).collect();
        let what = format!("grid point {}", grid.at(i));
        let (mut st, named, paired) =
            shard::merge_path_metric_run(l, &m, against, &parts, &mut readers, threads, &what)?;
        st.threads = most;
        let diffs = groups.diffs(i, &named, &paired, st.paths);
        table.point(coords, l, &m, &st, diffs, &None)?;
    }
    let records: Vec<shard::RunsRecord> = shards.iter().map(|(_, h)| h.record.clone()).collect();
    table.finish(out, &grid, &groups, started, &records, charts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn axis(arg: &str) -> Vec<FieldValue> {
        parse_axis(arg).expect("an axis").expect("valid").values
    }

    fn values(arg: &str) -> Vec<f64> {
        let number = |v: FieldValue| match v {
            FieldValue::Number(x) => x,
            FieldValue::Month(m) => panic!("{arg}: month {m}"),
        };
        axis(arg).into_iter().map(number).collect()
    }

    fn months(arg: &str) -> Vec<String> {
        let month = |v: FieldValue| match v {
            FieldValue::Month(m) => m.to_string(),
            FieldValue::Number(x) => panic!("{arg}: number {x}"),
        };
        axis(arg).into_iter().map(month).collect()
    }

    fn refused(arg: &str) -> String {
        parse_axis(arg)
            .expect("an axis")
            .expect_err(arg)
            .to_string()
    }

    /// A date field's axis is months, whole months apart; anything else
    /// numbers.
    #[test]
    fn date_fields_sweep_whole_months() {
        assert_eq!(
            months("provider.stargate.tranche.0.online=2026-06:2027-06:3"),
            ["2026-06", "2026-12", "2027-06"]
        );
        assert_eq!(
            months("rule.0.until=2030-01:2028-01:3"),
            ["2030-01", "2029-01", "2028-01"]
        );
        assert_eq!(
            months("start=2026-01:2026-04:4"),
            ["2026-01", "2026-02", "2026-03", "2026-04"]
        );
        // One step is lo alone: refused where hi differs (it was dropped
        // without a word), with a number of steps that fits.
        assert_eq!(
            refused("agi.earliest=2027-01:2031-01:1"),
            "--set agi.earliest=2027-01:2031-01:1: found 1 step from 2027-01 to 2031-01, \
             which sweeps 2027-01 alone, expected 2 or more (both ends are included), e.g. \
             2027-01:2031-01:5"
        );
        assert_eq!(months("agi.earliest=2027-01:2027-01:1"), ["2027-01"]);
        assert_eq!(values("workload.api.growth=0.1:0.3:3"), [0.1, 0.2, 0.3]);
        assert_eq!(
            refused("start=2026-01:2027-01:6"),
            "--set start=2026-01:2027-01:6: found 6 steps from 2026-01 to 2027-01, which \
             fall between months, expected steps that split its 12 months evenly: 2, 3, 4, \
             5, 7 or 13"
        );
        assert_eq!(
            refused("start=2026-01:2027-01"),
            "--set start=2026-01:2027-01: found lo:hi without steps, expected lo:hi:steps, \
             e.g. 2026-01:2027-01:5"
        );
        assert_eq!(
            refused("start=2026-01:2026-02:5"),
            "--set start=2026-01:2026-02:5: found 5 steps from 2026-01 to 2026-02, which \
             fall between months, expected steps that split its 1 month evenly: 2"
        );
        assert!(refused("start=2026-01:2026-04").ends_with("e.g. 2026-01:2026-04:4"));
        assert!(refused("start=2026-01:2026-01").ends_with("e.g. 2026-01:2026-01:1"));
        assert!(refused("start=0:12:3").contains("expected dates (YYYY-MM) in lo:hi:steps"));
        assert!(refused("workload.api.growth=2026-01:2027-01:3")
            .contains("expected numbers in lo:hi:steps"));
    }

    /// Groups of consecutive points, their sizes at most one apart; as
    /// few as fit in [`MAX_GROUP`] on one thread, or on many paths; more,
    /// to keep two threads busy, where a group has few blocks of paths.
    #[test]
    fn groups_weigh_the_reference_again_against_idle_threads() {
        assert_eq!(split(10, 3), vec![0..4, 4..7, 7..10]);
        assert_eq!(split(5, 1), vec![0..5]);
        assert_eq!(split(2, 5), vec![0..1, 1..2]);
        assert_eq!(group_count(100, 1000, 1), 7);
        assert_eq!(group_count(16, 1000, 1), 1);
        assert_eq!(group_count(17, 1000, 1), 2);
        // Two points of one block: one group (one thread works either
        // way, and the reference runs once).
        assert_eq!(group_count(2, 1000, 2), 1);
        // Three: two groups side by side, two simulations each.
        assert_eq!(group_count(3, 1000, 2), 2);
        // A hundred: eight groups of 12 or 13, four a thread.
        assert_eq!(group_count(100, 1000, 2), 8);
        // Many blocks: the fewest groups.
        assert_eq!(group_count(20, 1_000_000, 2), 2);
        assert_eq!(group_count(5, 1_000_000, 2), 1);
    }

    /// Grid values read as typed, at every magnitude: the ends exact, the
    /// steps between without binary noise, nothing overflowed.
    #[test]
    fn grid_values_are_clean_at_any_magnitude() {
        assert_eq!(values("k=-0.3:0:4"), [-0.3, -0.2, -0.1, 0.0]);
        assert_eq!(
            values("k=0:1:4"),
            [0.0, 0.333333333333333, 0.666666666666667, 1.0]
        );
        assert_eq!(values("k=0.1:0.7:3"), [0.1, 0.4, 0.7]);
        assert_eq!(
            values("k=-0.3:0.3:7"),
            [-0.3, -0.2, -0.1, 0.0, 0.1, 0.2, 0.3]
        );
        assert_eq!(values("k=0:1e-13:3"), [0.0, 5e-14, 1e-13]);
        assert_eq!(
            values("k=8764121477007:8764121477008:2"),
            [8764121477007.0, 8764121477008.0]
        );
        assert_eq!(
            values("k=1e11:2e11:5"),
            [1e11, 1.25e11, 1.5e11, 1.75e11, 2e11]
        );
        assert_eq!(values("k=0:1e300:3"), [0.0, 5e299, 1e300]);
        assert_eq!(values("k=1e-9:3e-9:3"), [1e-9, 2e-9, 3e-9]);
        assert_eq!(values("k=5:5:1"), [5.0]);
        assert_eq!(
            refused("k=0.1:0.2:1"),
            "--set k=0.1:0.2:1: found 1 step from 0.1 to 0.2, which sweeps 0.1 alone, \
             expected 2 or more (both ends are included), e.g. 0.1:0.2:5"
        );
        // No steps: what would do, not "steps >= 1" (1 is refused above).
        assert_eq!(
            refused("k=0.1:0.2:0"),
            "--set k=0.1:0.2:0: found 0 steps, expected 2 or more (both ends are \
             included), e.g. 0.1:0.2:5"
        );
        assert_eq!(
            refused("k=5:5:0"),
            "--set k=5:5:0: found 0 steps, expected 1 (lo and hi are one value), e.g. 5:5:1"
        );
    }
}
