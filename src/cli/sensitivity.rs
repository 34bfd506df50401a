use super::run::sets_with;
use crate::engine::{self, Options};
use crate::error::{Error, Origin, Result};
use crate::model::Model;
use crate::output::{self, ResultDir};
use crate::scenario::{self, FieldValue, Loaded};
use crate::sensitivity::{self, DriverJob, Param};
use crate::shard::{self, Shard};
use crate::stats::Moments;
use serde::{Deserialize, Serialize};
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub struct SensitivityArgs {
    /// Scenario file
    pub scenario: PathBuf,
    /// A parameter and its range, `key=lo:hi` (numbers, or YYYY-MM dates on a
    /// date field; replaces the default set); repeatable
    #[arg(long = "param", value_name = "KEY=LO:HI")]
    pub params: Vec<String>,
    #[command(flatten)]
    pub set: super::SetArgs,
    #[command(flatten)]
    pub sim: super::SimArgs,
    #[arg(long, short)]
    pub quiet: bool,
    /// Simulate only part I of N of every run's paths (e.g. 3/8, one per
    /// job of a batch scheduler) into <out>/sensitivity/NAME.shard-I-of-N/;
    /// `capsim merge` joins the N parts into the files one process writes
    #[arg(long, value_name = "I/N", allow_hyphen_values = true)]
    pub shard: Option<Shard>,
    /// Also draw tornado.svg (SVG) from tornado.csv: each parameter's
    /// swing, with its 95% interval
    #[arg(long)]
    pub charts: bool,
}

/// `key=lo:hi`: numbers, or `YYYY-MM` months when `key` is a date field
/// (`start`, `online`, `from`, `to`, `until`, `earliest`).
fn parse_param(arg: &str) -> Result<Param> {
    let split = arg.split_once('=');
    let date = split.is_some_and(|(key, _)| scenario::is_date_field(key));
    let bad = || {
        let expected = if date {
            "expected key=lo:hi with dates (YYYY-MM) lo and hi"
        } else {
            "expected key=lo:hi with numbers lo and hi"
        };
        Error::flag(&format!("--param {arg}"), expected)
    };
    let (key, v) = split.ok_or_else(bad)?;
    let Some((lo, hi)) = v.split_once(':') else {
        // One value, or a range written another way.
        let hint = super::ends_written_otherwise(v, date)
            .map(|(lo, hi, ..)| format!("a range is written lo:hi: --param {key}={lo}:{hi}"));
        return Err(bad().with_hint(hint));
    };
    if let Some((hi, steps)) = hi.split_once(':') {
        if FieldValue::parse(lo, date).is_some() && FieldValue::parse(hi, date).is_some() {
            return Err(Error::flag(
                &format!("--param {arg}"),
                format!(
                    "found steps ({steps}), expected key=lo:hi: a tornado runs each \
                     parameter at its two ends only: --param {key}={lo}:{hi}"
                ),
            ));
        }
    }
    let (Some(low), Some(high)) = (FieldValue::parse(lo, date), FieldValue::parse(hi, date)) else {
        let hint = [lo, hi]
            .iter()
            .find_map(|x| scenario::range_end_hint(key, x));
        return Err(bad().with_hint(hint));
    };
    if !low.is_finite() || !high.is_finite() {
        return Err(bad());
    }
    Ok(Param {
        key: key.trim().to_string(),
        low,
        high,
    })
}

/// What a sensitivity analysis runs: the base scenario (with `sets`:
/// `--set`, `--paths`, `--seed`), and two runs per tornado parameter, at
/// its low and high value, in parameter order.
struct Plan {
    base: Loaded,
    sets: Vec<String>,
    params: Vec<Param>,
    runs: Vec<Loaded>,
}

impl Plan {
    /// Loads every run by `load` (from its overrides, on `threads`
    /// threads) before any is simulated; errors as loading and checking
    /// them one after the other would give.
    fn new(
        sets: Vec<String>,
        params: Option<Vec<Param>>,
        threads: usize,
        load: impl Fn(&[String]) -> Result<Loaded> + Sync,
    ) -> Result<Plan> {
        let base = load(&sets)?;
        let params = params.unwrap_or_else(|| sensitivity::default_params(&base.scenario));
        let run_sets: Vec<Vec<String>> = params
            .iter()
            .flat_map(|p| [p.low, p.high].map(|v| (&p.key, v)))
            .map(|(key, v)| {
                let mut s = sets.clone();
                s.push(format!("{key}={v}"));
                s
            })
            .collect();
        let mut loaded = crate::runner::load_each(&run_sets, threads, load).into_iter();
        let mut runs: Vec<Loaded> = Vec::with_capacity(2 * params.len());
        let show = |p: &Param| format!("--param {}={}:{}", p.key, p.low, p.high);
        for (i, p) in params.iter().enumerate() {
            for v in [p.low, p.high] {
                let run = loaded.next().expect("two runs per parameter");
                // An error in the `--set` a parameter's end became is the
                // parameter's, as the user wrote it.
                let written = Origin::Flag { flag: show(p) };
                runs.push(run.map_err(|e| e.as_written(&format!("{}={v}", p.key), &written))?);
            }
            // The field the parameter's runs set, resolved: each once, and
            // a model parameter (a bar over `simulation.paths` or `seed`
            // would be sampling noise labelled as sensitivity).
            let field = |r: &Loaded| r.override_paths.last().cloned().unwrap_or_default();
            let at = field(&runs[2 * i]);
            if let Some(k) = (0..i).find(|&k| field(&runs[2 * k]) == at) {
                return Err(Error::flag(
                    &show(p),
                    format!(
                        "found this field a second time (the first: {}), expected each \
                         parameter once",
                        show(&params[k])
                    ),
                ));
            }
            if at.first() == Some(&scenario::locate::key("simulation")) {
                return Err(Error::flag(
                    &show(p),
                    "found a [simulation] setting, expected a model parameter (paths, seed \
                     and policy are set for every run with --set, --paths and --seed)",
                ));
            }
        }
        Ok(Plan {
            base,
            sets,
            params,
            runs,
        })
    }

    /// Each parameter's two runs (low, high), simulated in one pass over
    /// the paths so that the swing is paired path by path.
    fn pairs(&self) -> Vec<std::ops::Range<usize>> {
        (0..self.params.len()).map(|i| 2 * i..2 * i + 2).collect()
    }

    /// Parameter `i`'s two runs' description for the progress bar.
    fn what_pair(&self, i: usize) -> String {
        format!(
            "tornado runs {} and {} ({})",
            2 * i + 1,
            2 * i + 2,
            self.params[i].key
        )
    }

    /// Run `r`'s description for messages.
    fn what(&self, r: usize) -> String {
        let p = &self.params[r / 2];
        let v = if r % 2 == 0 { p.low } else { p.high };
        format!("tornado run {} ({}={v})", r + 1, p.key)
    }
}

/// Refuses, before anything runs, a drivers' run of `base` whose values
/// and ranks would not fit in this machine's memory (a shard's drivers go
/// to a file: only `sensitivity` and the merge hold them all).
fn check_memory(base: &Loaded, threads: usize) -> Result<()> {
    let m = Model::compile(&base.scenario);
    let width = 2 + sensitivity::driver_names(&m, &base.scenario).len();
    sensitivity::check_drivers_memory(
        m.paths,
        width,
        crate::engine::threads_for(threads, width - 2),
        sensitivity::available_memory(),
    )
}

/// The mean npv of a run's statistics.
fn npv(m: &Model, st: &engine::RunStats) -> f64 {
    st.path_metric(m, "npv").expect("npv").mean
}

/// The standard error of a parameter's swing: of its high run's npv less
/// its low run's, path by path, from the moments `paired` of the high
/// run's path metrics `named` paired with the low run's over `paths`.
fn swing_stderr(named: &[(String, usize, usize)], paired: &[Moments], paths: u64) -> f64 {
    crate::compare::metric_diffs(named, paired, paths)
        .iter()
        .find(|d| d.metric == "npv")
        .map_or(f64::NAN, |d| d.diff_stderr)
}

fn params_of(a: &SensitivityArgs) -> Result<Option<Vec<Param>>> {
    if a.params.is_empty() {
        return Ok(None);
    }
    a.params
        .iter()
        .map(|p| parse_param(p))
        .collect::<Result<_>>()
        .map(Some)
}

pub fn sensitivity(a: SensitivityArgs) -> Result<()> {
    let started = std::time::SystemTime::now();
    let sets = sets_with(&a.set.sets, a.sim.paths, a.sim.seed);
    let params = params_of(&a)?;
    let source = scenario::Source::read(&a.scenario)?;
    // A parameter's value may replace a `--set` of its field (the base run
    // keeps the `--set`): only the `--set`s must not undo each other.
    let fixed = sets.len();
    let plan = Plan::new(sets, params, a.sim.threads, |s| {
        Ok(source.load_varied(s, fixed)?)
    })?;
    // The base's: the tornado's own ends (a volatility of 0.9 at 1.2x)
    // would warn about what the user did not write.
    super::warn([&plan.base], false);
    if let Some(part) = a.shard {
        return run_shard(&a, &plan, part);
    }
    let base = &plan.base;
    check_memory(base, a.sim.threads)?;
    output::check_target(&a.sim.out.join("sensitivity"), &base.scenario.name)?;
    // One bar over every run's paths: two per parameter, then the drivers'
    // run, each of the base's paths (no parameter sets `simulation.paths`).
    let runs = plan.runs.len() as u64 + 1;
    let paths = base.scenario.simulation.paths;
    let bar = crate::runner::progress_bar(runs * paths, &base.scenario.name, !a.quiet);
    let mut means = Vec::with_capacity(plan.runs.len());
    let mut swing_se = Vec::with_capacity(plan.params.len());
    let tornado: Vec<&Loaded> = plan.runs.iter().collect();
    let what = |g: usize| plan.what_pair(g);
    crate::runner::simulate_groups(
        &tornado,
        &plan.pairs(),
        |g| Some(2 * g),
        a.sim.threads,
        &bar,
        crate::runner::RunLabels {
            name: &base.scenario.name,
            unit: "tornado parameters",
            what: &what,
        },
        |r, m, st, named| {
            means.push(npv(m, &st));
            if r % 2 == 1 {
                swing_se.push(swing_stderr(named, &st.paired, st.paths));
            }
            Ok(())
        },
    )?;

    // Drivers: one run, every path's drivers kept.
    let m = Model::compile(&base.scenario);
    let names = sensitivity::driver_names(&m, &base.scenario);
    let job = DriverJob {
        model: &m,
        drivers: names.len(),
    };
    let mut cols: Vec<Vec<f64>> =
        vec![Vec::with_capacity(m.paths as usize); engine::Job::width(&job)];
    let mut sink = |_path: u64, row: &[f64]| -> Result<()> {
        for (c, v) in cols.iter_mut().zip(row) {
            c.push(*v);
        }
        Ok(())
    };
    // The drivers' run: the bar's last `paths`.
    let before = (runs - 1) * paths;
    if let Some(b) = &bar {
        b.set_message(format!(
            "{}, run {runs} of {runs}: drivers",
            base.scenario.name
        ));
        b.set_position(before);
    }
    let progress = |done: u64| {
        if let Some(b) = &bar {
            b.set_position(before + done.min(paths));
        }
    };
    engine::run_job(
        &job,
        m.paths,
        Options {
            threads: a.sim.threads,
            sink: Some(&mut sink),
            progress: Some(&progress),
            ..Default::default()
        },
    )
    .map_err(|e| e.in_scenario(base))?;
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    write(
        &a.sim.out,
        &plan,
        &means,
        &swing_se,
        &names,
        &cols,
        a.sim.threads,
        started,
        &[],
        Say {
            quiet: a.quiet,
            charts: a.charts,
        },
    )
}

/// What [`write`] adds to the files: the terminal's summary (unless
/// `quiet`), the tornado chart (with `charts`).
pub(crate) struct Say {
    pub(crate) quiet: bool,
    pub(crate) charts: bool,
}

/// Writes `<out>/sensitivity/<name>/` from the tornado runs' mean npvs
/// (`means`, in the plan's order) and the drivers' run's columns (`cols`:
/// npv, economic, then each of `names`, every path in path order; ranked
/// on `threads` threads); `shards`, the shards it was merged from, go
/// into the manifest.
#[allow(clippy::too_many_arguments)]
fn write(
    out: &Path,
    plan: &Plan,
    means: &[f64],
    swing_se: &[f64],
    names: &[String],
    cols: &[Vec<f64>],
    threads: usize,
    started: std::time::SystemTime,
    shards: &[shard::RunsRecord],
    say: Say,
) -> Result<()> {
    let Say { quiet, charts } = say;
    let base = &plan.base;
    let mut rows = Vec::new();
    for (i, p) in plan.params.iter().enumerate() {
        let (lo_npv, hi_npv) = (means[2 * i], means[2 * i + 1]);
        rows.push((
            p.clone(),
            lo_npv,
            hi_npv,
            (hi_npv - lo_npv).abs(),
            swing_se[i],
        ));
    }
    rows.sort_by(|x, y| y.3.total_cmp(&x.3).then_with(|| x.0.key.cmp(&y.0.key)));
    let mut tw = crate::output::writer();
    tw.write_record([
        "parameter",
        "low_value",
        "high_value",
        "npv_at_low",
        "npv_at_high",
        "swing",
        "swing_stderr",
    ])?;
    for (p, lo, hi, sw, se) in &rows {
        tw.write_record([
            p.key.clone(),
            p.low.to_string(),
            p.high.to_string(),
            lo.to_string(),
            hi.to_string(),
            sw.to_string(),
            se.to_string(),
        ])?;
    }

    let cols: Vec<&[f64]> = cols.iter().map(|c| &c[..]).collect();
    let rho = sensitivity::spearman_table(&cols[2..], &cols[..2], threads);
    let mut drivers: Vec<(String, f64, f64)> = names
        .iter()
        .zip(rho)
        .map(|(n, r)| (n.clone(), r[0], r[1]))
        .filter(|(_, a, b)| !(a.is_nan() && b.is_nan()))
        .collect();
    // By |rho_npv|, then name; a correlation with a constant NPV (no
    // rank correlation: NaN) after every other.
    let key = |rho: f64| if rho.is_nan() { -1.0 } else { rho.abs() };
    drivers.sort_by(|x, y| key(y.1).total_cmp(&key(x.1)).then_with(|| x.0.cmp(&y.0)));
    let mut dw = crate::output::writer();
    dw.write_record(["driver", "rho_npv", "rho_economic"])?;
    // Undefined (one side constant over the paths): an empty field, which
    // a spreadsheet reads as no value, not the text "NaN".
    let field = |rho: f64| {
        if rho.is_nan() {
            String::new()
        } else {
            rho.to_string()
        }
    };
    for (n, a, b) in &drivers {
        dw.write_record([n.clone(), field(*a), field(*b)])?;
    }

    let dir = ResultDir::create(&out.join("sensitivity"), &base.scenario.name)?;
    dir.write("tornado.csv", &crate::output::finish(tw)?)?;
    dir.write("drivers.csv", &crate::output::finish(dw)?)?;
    let cur = &base.scenario.currency;
    if charts {
        crate::output::charts::write_tornado_chart(&dir.path("tornado.csv"), cur)?;
    }
    let sim = &base.scenario.simulation;
    let mut prov = crate::output::Provenance::new("sensitivity", sim.seed, sim.paths, started);
    prov.scenarios.push(crate::output::ScenarioRef::of(base));
    prov.details = serde_json::json!({
        "tornado_parameters": plan.params.iter().map(|p| serde_json::json!({"key": p.key, "low": p.low, "high": p.high})).collect::<Vec<_>>(),
        "drivers": names,
        // For `capsim chart`, which draws the tornado's money in it.
        "currency": cur,
        "charts": if charts { vec![crate::output::charts::TORNADO_CHART] } else { vec![] },
    });
    if !shards.is_empty() {
        prov.details["shards"] = serde_json::json!(shards);
    }
    dir.write("manifest.json", &prov.to_json()?)?;
    let target = dir.commit()?;
    if !quiet {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(
            out,
            "tornado (mean npv at low / high; {} each)",
            output::count(sim.paths, "path")
        );
        if rows.is_empty() {
            let _ = writeln!(
                out,
                "  (no parameter to vary: each one varied by default is 0 or absent here; \
                 name ranges with --param KEY=LO:HI)"
            );
        }
        // A swing whose 95% interval holds 0 is not told from sampling
        // noise by these paths.
        let t = crate::compare::t95(sim.paths);
        for (p, lo, hi, sw, se) in rows.iter().take(SHOWN) {
            let noise = if *sw <= t * se {
                "  (within sampling noise)"
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "  {:<48} {:>12} {:>12}  swing {} +- {}{noise}",
                p.key,
                crate::output::human(*lo, true, cur),
                crate::output::human(*hi, true, cur),
                crate::output::human(*sw, true, cur),
                crate::output::human(*se, true, cur)
            );
        }
        more(&mut out, rows.len(), "tornado.csv");
        let _ = writeln!(
            out,
            "drivers (Spearman rank correlation with npv, economic)"
        );
        if names.is_empty() {
            let _ = writeln!(
                out,
                "  (no drivers: the scenario has no workloads, no providers and no AGI date)"
            );
        }
        let shown = |rho: f64| {
            if rho.is_nan() {
                "n/a".to_string()
            } else {
                format!("{rho:.3}")
            }
        };
        for (n, a, b) in drivers.iter().take(SHOWN) {
            let _ = writeln!(out, "  {n:<48} {:>7} {:>7}", shown(*a), shown(*b));
        }
        more(&mut out, drivers.len(), "drivers.csv");
        let constant = [
            ("npv", drivers.iter().any(|d| d.1.is_nan())),
            ("economic cost", drivers.iter().any(|d| d.2.is_nan())),
        ];
        for (what, _) in constant.iter().filter(|c| c.1) {
            let _ = writeln!(
                out,
                "  (n/a: the {what} is the same on every path, so nothing correlates with it)"
            );
        }
        if drivers.len() < names.len() {
            let _ = writeln!(
                out,
                "  ({} of {} drivers constant over the {}: no rank correlation, left out)",
                names.len() - drivers.len(),
                names.len(),
                output::count(sim.paths, "path")
            );
        }
        let _ = writeln!(
            out,
            "wrote {}/ (tornado.csv, drivers.csv{})",
            target.display(),
            if charts { ", tornado.svg" } else { "" }
        );
    }
    Ok(())
}

/// Rows of each table the summary prints: the largest swings and
/// correlations; the files hold them all.
const SHOWN: usize = 12;

/// Says how many of `rows` a table of the summary left to `file`.
fn more(out: &mut impl std::io::Write, rows: usize, file: &str) {
    if rows > SHOWN {
        let _ = writeln!(out, "  ... {} more in {file} ({rows} in all)", rows - SHOWN);
    }
}

// ---------------------------------------------------------------------------
// Shards (`capsim sensitivity ... --shard I/N`, then `capsim merge`): every
// tornado run's paths are cut as a run's, its chunk moments one run after
// the other in `moments.bin` and its sketches in the description, as a
// sweep's grid points ([`shard::RunPart`]); the drivers' run, whose rank
// correlations need every path's values, hands over its span's rows in
// `drivers.bin`. The merge folds the tornado runs as each run merges its
// chunks, joins the drivers' rows in path order, and writes the
// `tornado.csv` and `drivers.csv` one `sensitivity` writes, byte for byte.

/// A sensitivity shard's description.
pub(crate) const SENSITIVITY_HEADER: &str = "sensitivity_shard.json";
/// The drivers' run's rows of the shard's span: per path, npv, economic
/// and each driver (f64, little-endian), in path order.
const DRIVERS: &str = "drivers.bin";

/// `sensitivity_shard.json`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SensitivityHeader {
    format: u32,
    capsim_version: String,
    scenario: String,
    /// The scenario file as it was read: the merge loads every run from
    /// it, with the run's overrides, and checks its resolved sha256.
    scenario_file: String,
    scenario_sha256: String,
    scenario_text: String,
    /// `--set`, `--paths` and `--seed` as overrides.
    sets: Vec<String>,
    params: Vec<Param>,
    shard: u64,
    of: u64,
    record: shard::RunsRecord,
    /// The tornado runs, in the plan's order.
    runs: Vec<shard::RunPart>,
    /// The drivers' run: the base's resolved sha256, the drivers' names,
    /// values per path and the span's first path and paths.
    base_sha256: String,
    drivers: Vec<String>,
    width: usize,
    first_path: u64,
    span_paths: u64,
    #[serde(default)]
    files: shard::FileHashes,
}

/// Simulates part `part` of every run's paths into
/// `<out>/sensitivity/<name>.shard-I-of-N/`.
fn run_shard(a: &SensitivityArgs, plan: &Plan, part: Shard) -> Result<()> {
    let started = std::time::SystemTime::now();
    let clock = std::time::Instant::now();
    let base = &plan.base;
    let text = shard::scenario_text(&a.scenario, base)?;
    // Every run's span first (the drivers' run last): a run with fewer
    // chunks than N fails before anything is simulated.
    let mut runs: Vec<&Loaded> = plan.runs.iter().collect();
    runs.push(base);
    let mut spans = shard::spans(part, &runs, |r| (r < plan.runs.len()).then(|| plan.what(r)))?;
    let span = spans.pop().expect("the drivers' run");
    runs.pop();
    let folder = part.folder(&base.scenario.name);
    let dir = ResultDir::create(&a.sim.out.join("sensitivity"), &folder)?;
    let mut writer = shard::MomentsWriter::create(&dir.path(shard::MOMENTS))?;
    let n = span.end - span.start;
    let total: u64 = spans.iter().map(|s| s.end - s.start).sum::<u64>() + n;
    let bar = crate::runner::progress_bar(total, &folder, !a.quiet);
    let what = |g: usize| plan.what_pair(g);
    let labels = crate::runner::RunLabels {
        name: &folder,
        unit: "tornado parameters",
        what: &what,
    };
    let (parts, most) = shard::run_group_spans(
        &runs,
        &plan.pairs(),
        |g| Some(2 * g),
        &spans,
        a.sim.threads,
        &bar,
        labels,
        &mut writer,
    )?;
    writer.finish()?;

    // The drivers' run over the span, its rows straight to the file.
    let m = Model::compile(&base.scenario);
    let names = sensitivity::driver_names(&m, &base.scenario);
    let job = DriverJob {
        model: &m,
        drivers: names.len(),
    };
    let file = dir.path(DRIVERS);
    let f = std::fs::File::create(&file)
        .map_err(|e| Error::io(format!("cannot create {}", file.display()), e))?;
    let mut w = BufWriter::with_capacity(1 << 20, f);
    let mut bytes = Vec::new();
    let mut sink = |_path: u64, row: &[f64]| -> Result<()> {
        bytes.clear();
        for v in row {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        w.write_all(&bytes)
            .map_err(|e| Error::io(format!("cannot write {}", file.display()), e))
    };
    let done = total - n;
    if let Some(b) = &bar {
        b.set_message(format!("{folder}, drivers"));
    }
    let progress = |k: u64| {
        if let Some(b) = &bar {
            b.set_position(done + k);
        }
    };
    let out = engine::run_job(
        &job,
        m.paths,
        Options {
            threads: a.sim.threads,
            sink: Some(&mut sink),
            progress: Some(&progress),
            span: Some(span.clone()),
            ..Default::default()
        },
    )
    .map_err(|e| e.in_scenario(base))?;
    w.flush()
        .map_err(|e| Error::io(format!("cannot write {}", file.display()), e))?;
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let threads = most.max(out.threads);
    let h = SensitivityHeader {
        format: shard::FORMAT,
        capsim_version: env!("CARGO_PKG_VERSION").to_string(),
        scenario: base.scenario.name.clone(),
        scenario_file: base.file.display().to_string(),
        scenario_sha256: base.file_sha256.clone(),
        scenario_text: text,
        sets: plan.sets.clone(),
        params: plan.params.clone(),
        shard: part.index,
        of: part.count,
        record: shard::RunsRecord::new(part, base, total, threads, started, clock),
        runs: parts,
        base_sha256: base.resolved_sha256.clone(),
        drivers: names,
        width: engine::Job::width(&job),
        first_path: span.start,
        span_paths: n,
        files: shard::hash_files(&dir, &[shard::MOMENTS, DRIVERS])?,
    };
    shard::write_description(&dir, SENSITIVITY_HEADER, &h)?;
    let done = dir.commit()?;
    if !a.quiet {
        say!(
            "{part}: {} over {}, {}, {:.2} s",
            crate::output::count(total, "path"),
            crate::output::count(plan.runs.len() as u64 + 1, "run"),
            crate::output::count(threads as u64, "thread"),
            h.record.wall_seconds
        );
        say!("{}", shard::how_to_merge(&done, part));
    }
    Ok(())
}

fn read_header(dir: &Path) -> Result<SensitivityHeader> {
    shard::read_description(
        dir,
        SENSITIVITY_HEADER,
        "expected a sensitivity analysis's shard folder written by \
         `capsim sensitivity SCENARIO ... --shard I/N`",
        "a capsim sensitivity shard description",
        |h: &SensitivityHeader| (h.format, h.capsim_version.as_str()),
    )
}

/// Merges the shards in `dirs` (all of one `sensitivity --shard`, in any
/// order) into the `<out>/sensitivity/<name>/` one `sensitivity` writes:
/// `tornado.csv` and `drivers.csv` byte for byte, the manifest listing the
/// shards. The drivers are ranked on `threads` threads (0: all cores).
pub fn merge_shards(dirs: &[PathBuf], out: &Path, threads: usize, say: Say) -> Result<()> {
    let started = std::time::SystemTime::now();
    let mut shards = shard::read_all(dirs, read_header, |h| &h.capsim_version)?;
    let keys =
        |h: &SensitivityHeader| -> Vec<String> { h.params.iter().map(|p| p.key.clone()).collect() };
    shard::check_one_job(
        &mut shards,
        "sensitivity analysis",
        "the scenario, --param, --set, --paths, --seed and N",
        |h| (h.shard, h.of),
        |h0, h| {
            if h.params != h0.params {
                return Some(format!(
                    "its tornado parameters are {:?}, expected {:?} (or other ranges)",
                    keys(h),
                    keys(h0)
                ));
            }
            if h.base_sha256 != h0.base_sha256 {
                return Some("its scenario resolves differently".into());
            }
            let r = (0..h0.runs.len()).find(|&r| {
                h.runs.get(r).map(|p| &p.resolved_sha256) != Some(&h0.runs[r].resolved_sha256)
            })?;
            Some(format!("its tornado run {} resolves differently", r + 1))
        },
    )?;

    let (d0, h0) = &shards[0];
    let header0 = d0.join(SENSITIVITY_HEADER);
    let file = PathBuf::from(&h0.scenario_file);
    let source = scenario::Source::new(&file, h0.scenario_text.clone());
    let fixed = h0.sets.len();
    let plan = Plan::new(h0.sets.clone(), Some(h0.params.clone()), threads, |sets| {
        source
            .load_varied(sets, fixed)
            .map_err(|e| shard::bad(&header0, format!("its scenario does not load: {e}")))
    })?;
    let mut loaded = std::iter::once(&plan.base).chain(&plan.runs);
    let hashes = std::iter::once(&h0.base_sha256).chain(h0.runs.iter().map(|p| &p.resolved_sha256));
    if h0.runs.len() != plan.runs.len()
        || loaded
            .by_ref()
            .zip(hashes)
            .any(|(l, h)| &l.resolved_sha256 != h)
    {
        return Err(shard::bad(
            &header0,
            "its scenario does not resolve to its sha256s (the file was edited)",
        ));
    }
    for (d, h) in &shards {
        shard::check_files(d, &h.files, &[shard::MOMENTS, DRIVERS])?;
    }
    check_memory(&plan.base, threads)?;
    let mut readers = Vec::with_capacity(shards.len());
    for (d, h) in &shards {
        readers.push(shard::PartsReader::open(
            d,
            SENSITIVITY_HEADER,
            h.shard,
            h.of,
            &h.runs,
        )?);
    }
    let threads = crate::engine::all_cores(threads);
    let mut means = Vec::with_capacity(plan.runs.len());
    let mut swing_se = Vec::with_capacity(plan.params.len());
    // Each parameter's high run carries its values paired with its low's.
    let mut low: Option<Model> = None;
    for (r, l) in plan.runs.iter().enumerate() {
        let m = Model::compile(&l.scenario);
        let against = low.as_ref().filter(|_| r % 2 == 1);
        let parts: Vec<&shard::RunPart> = shards.iter().map(|(_, h)| &h.runs[r]).collect();
        let what = plan.what(r);
        let (st, named, paired) =
            shard::merge_path_metric_run(l, &m, against, &parts, &mut readers, threads, &what)?;
        means.push(npv(&m, &st));
        if r % 2 == 1 {
            swing_se.push(swing_stderr(&named, &paired, st.paths));
        }
        low = Some(m);
    }

    // The drivers' rows, shard after shard: every path in path order.
    let m = Model::compile(&plan.base.scenario);
    let names = sensitivity::driver_names(&m, &plan.base.scenario);
    let width = 2 + names.len();
    let mut cols: Vec<Vec<f64>> = vec![Vec::with_capacity(m.paths as usize); width];
    for (d, h) in &shards {
        let header = d.join(SENSITIVITY_HEADER);
        let part = Shard {
            index: h.shard,
            count: h.of,
        };
        if part.span(m.paths).ok() != Some(h.first_path..h.first_path + h.span_paths)
            || h.drivers != names
            || h.width != width
        {
            return Err(shard::bad(
                &header,
                format!(
                    "its drivers' run does not match {part} of its {} paths; the file was \
                     edited or damaged",
                    m.paths
                ),
            ));
        }
        let dfile = d.join(DRIVERS);
        let expect = h.span_paths * 8 * width as u64;
        let mut rd = shard::open_exact(&dfile, expect)?;
        let mut row = vec![0u8; 8 * width];
        for _ in 0..h.span_paths {
            rd.read_exact(&mut row)
                .map_err(|e| Error::io(format!("cannot read {}", dfile.display()), e))?;
            for (c, v) in cols.iter_mut().zip(row.chunks_exact(8)) {
                c.push(f64::from_le_bytes(v.try_into().expect("8 bytes")));
            }
        }
    }
    let records: Vec<shard::RunsRecord> = shards.iter().map(|(_, h)| h.record.clone()).collect();
    write(
        out, &plan, &means, &swing_se, &names, &cols, threads, started, &records, say,
    )
}
