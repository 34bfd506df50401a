//! Running a loaded scenario end to end: simulate, then write its result
//! folder atomically. Shared by `run`, `batch` and `merge`.

use crate::engine::{self, Options, RunStats};
use crate::error::{Error, Result};
use crate::model::Model;
use crate::output::charts;
use crate::output::focus::{self, FocusStat};
use crate::output::{self, Manifest, ResultDir};
use crate::scenario::Loaded;
use crate::shard::{self, Shard};
use crate::stats::Moments;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::ops::Range;
use std::path::PathBuf;
use std::time::{Instant, SystemTime};

#[derive(Debug, Clone)]
pub struct Settings {
    pub out: PathBuf,
    pub threads: usize,
    pub block: usize,
    pub paths_csv: bool,
    pub focus: Option<FocusStat>,
    /// Also run the other policy and report `policy_regret`.
    pub regret: bool,
    /// Show a progress bar (only drawn when stderr is a terminal).
    pub progress: bool,
    /// Also draw `charts/` ([`crate::output::charts`]).
    pub charts: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            out: PathBuf::from("results"),
            threads: 0,
            block: engine::DEFAULT_BLOCK,
            paths_csv: false,
            focus: None,
            regret: false,
            progress: false,
            charts: false,
        }
    }
}

pub struct Outcome {
    pub model: Model,
    pub stats: RunStats,
    pub dir: PathBuf,
    pub wall_seconds: f64,
    pub files: Vec<&'static str>,
}

/// A progress bar on stderr, or nothing when stderr is not a terminal.
pub fn progress_bar(len: u64, label: &str, show: bool) -> Option<ProgressBar> {
    if !show || !std::io::stderr().is_terminal() {
        return None;
    }
    let b = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    b.set_style(
        ProgressStyle::with_template(
            "{spinner} {msg} [{bar:30}] {human_pos}/{human_len} paths, eta {eta}",
        )
        .expect("static template")
        .progress_chars("=> "),
    );
    b.set_message(label.to_string());
    Some(b)
}

/// Runs `f` with a progress bar over `len` paths (drawn as
/// [`progress_bar`] says), handing it engine options for `threads` that
/// report to the bar; the bar is cleared when `f` returns.
pub fn with_progress<R>(
    len: u64,
    label: &str,
    show: bool,
    threads: usize,
    f: impl FnOnce(Options<'_>) -> R,
) -> R {
    let bar = progress_bar(len, label, show);
    let progress = |done: u64| {
        if let Some(b) = &bar {
            b.set_position(done);
        }
    };
    let r = f(Options {
        threads,
        progress: Some(&progress),
        ..Default::default()
    });
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    r
}

/// Runs `f` (which prints to the terminal) with the bar, if any, cleared,
/// then draws the bar again below what it printed.
pub fn above<R>(bar: &Option<ProgressBar>, f: impl FnOnce() -> R) -> R {
    match bar {
        Some(b) => b.suspend(f),
        None => f(),
    }
}

/// `load(sets)` for each of `sets_list` (the scenarios of a sweep's grid
/// or a tornado's runs), on `threads` threads (0: all cores), in order:
/// results, errors included, are `sets_list`'s order whatever thread
/// loaded them, so the caller reports the first error a loop would.
pub fn load_each(
    sets_list: &[Vec<String>],
    threads: usize,
    load: impl Fn(&[String]) -> Result<Loaded> + Sync,
) -> Vec<Result<Loaded>> {
    use rayon::prelude::*;
    let all = || sets_list.par_iter().map(|s| load(s)).collect();
    let threads = crate::engine::threads_for(threads, sets_list.len());
    match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
        Ok(pool) => pool.install(all),
        Err(_) => sets_list.iter().map(|s| load(s)).collect(),
    }
}

/// How many runs a thread may finish ahead of the first run not yet
/// handed over in [`each_run`] (their results wait in memory).
const RUNS_AHEAD_PER_THREAD: usize = 16;

/// How [`each_run`] labels its progress bar: the command's `name`, the
/// runs' `unit` ("points", "tornado runs") and run `i`'s label `what(i)`.
pub struct RunLabels<'a> {
    pub name: &'a str,
    pub unit: &'a str,
    pub what: &'a (dyn Fn(usize) -> String + Sync),
}

/// Runs independent runs (a sweep's grid points, a tornado's runs) of
/// `paths[i]` paths each, `run(i, threads, progress)` each, on `threads`
/// threads (0: all cores), and hands each result to `each` in run order;
/// the first error in run order is returned, and no later result is
/// handed over. Where [`side_by_side`] says that finishes sooner, the
/// threads take whole runs, one each at a time (`run` is given one
/// thread: a run of one block of paths would keep the other threads idle,
/// and every run's set-up and summaries are done side by side); otherwise
/// the runs go one after the other, each given `threads`. A run's
/// statistics do not depend on its threads, so either way they are the
/// ones it has alone, bit for bit. `progress` reports the paths of its run
/// done; `bar` moves over all runs' paths. Returns how many threads ran
/// side by side (1 when the runs went one after the other).
pub fn each_run<T: Send>(
    paths: &[u64],
    threads: usize,
    bar: &Option<ProgressBar>,
    labels: RunLabels<'_>,
    run: impl Fn(usize, usize, &(dyn Fn(u64) + Sync)) -> Result<T> + Sync,
    mut each: impl FnMut(usize, T) -> Result<()>,
) -> Result<usize> {
    use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
    use std::sync::{mpsc, Condvar, Mutex};
    let RunLabels { name, unit, what } = labels;
    let pool_threads = crate::engine::all_cores(threads);
    let set = |msg: String| {
        if let Some(b) = bar {
            b.set_message(msg);
        }
    };
    let paths_done = AtomicU64::new(0);
    // A run's progress, as the paths of all runs done.
    let progress_of = |last: &AtomicU64, done: u64| {
        let step = done.saturating_sub(last.fetch_max(done, Ordering::Relaxed));
        let all = paths_done.fetch_add(step, Ordering::Relaxed) + step;
        if let Some(b) = bar {
            b.set_position(all);
        }
    };
    let n = paths.len();
    if !side_by_side(paths, pool_threads) {
        for i in 0..n {
            set(format!("{name}, {}", what(i)));
            let last = AtomicU64::new(0);
            let r = run(i, threads, &|done| progress_of(&last, done))?;
            each(i, r)?;
        }
        return Ok(1);
    }
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    // The first run not yet handed over: no thread starts a run more than
    // `ahead` past it.
    let handed = (Mutex::new(0usize), Condvar::new());
    let ahead = RUNS_AHEAD_PER_THREAD * pool_threads;
    set(format!("{name}, 0 of {n} {unit} done"));
    let (tx, rx) = mpsc::channel::<(usize, Result<T>)>();
    std::thread::scope(|scope| {
        for _ in 0..crate::engine::threads_for(pool_threads, n) {
            let tx = tx.clone();
            let (next, stop, handed, run, progress_of) =
                (&next, &stop, &handed, &run, &progress_of);
            scope.spawn(move || loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n || stop.load(Ordering::Relaxed) {
                    return;
                }
                {
                    let mut h = handed.0.lock().unwrap_or_else(|e| e.into_inner());
                    while i >= *h + ahead && !stop.load(Ordering::Relaxed) {
                        h = handed.1.wait(h).unwrap_or_else(|e| e.into_inner());
                    }
                }
                if stop.load(Ordering::Relaxed) {
                    return;
                }
                let last = AtomicU64::new(0);
                let r = run(i, 1, &|done| progress_of(&last, done));
                if r.is_err() {
                    // No later run is needed; the earlier ones still are.
                    next.fetch_max(n, Ordering::Relaxed);
                }
                if tx.send((i, r)).is_err() {
                    return;
                }
            });
        }
        drop(tx);
        let mut pending = std::collections::BTreeMap::new();
        let mut want = 0;
        let mut failed = Ok(());
        for (i, r) in rx {
            pending.insert(i, r);
            while let Some(r) = pending.remove(&want) {
                failed = r.and_then(|r| each(want, r));
                want += 1;
                if failed.is_err() {
                    break;
                }
                set(format!("{name}, {want} of {n} {unit} done"));
                *handed.0.lock().unwrap_or_else(|e| e.into_inner()) = want;
                handed.1.notify_all();
            }
            if failed.is_err() {
                break;
            }
        }
        if failed.is_err() {
            // Wake and stop the threads; runs under way finish first.
            stop.store(true, Ordering::Relaxed);
            let _guard = handed.0.lock().unwrap_or_else(|e| e.into_inner());
            handed.1.notify_all();
        }
        failed
    })?;
    Ok(pool_threads)
}

/// Whether runs of `paths` paths finish sooner side by side on `threads`
/// threads (each run on one thread, the next run to the first thread
/// free) than one after the other on all of them, counting a run's work
/// in blocks of [`engine::DEFAULT_BLOCK`] paths, the unit the engine
/// shares among threads: side by side, the busiest thread's blocks; one
/// after the other, `ceil(blocks / threads)` per run. Ties go side by side
/// (the runs' set-up and summaries then overlap too). So a hundred runs of
/// one block go side by side, five runs of a hundred blocks on two
/// threads one after the other (three rounds of a whole run against five
/// half runs).
pub fn side_by_side(paths: &[u64], threads: usize) -> bool {
    use std::cmp::Reverse;
    if threads < 2 || paths.len() < 2 {
        return false;
    }
    let blocks = |p: u64| p.div_ceil(engine::DEFAULT_BLOCK as u64).max(1);
    let one_after: u64 = paths
        .iter()
        .map(|&p| blocks(p).div_ceil(threads as u64))
        .sum();
    // When each thread is next free.
    let mut free: std::collections::BinaryHeap<Reverse<u64>> =
        (0..threads.min(paths.len())).map(|_| Reverse(0)).collect();
    for &p in paths {
        let Reverse(t) = free.pop().expect("a thread");
        free.push(Reverse(t + blocks(p)));
    }
    let busiest = free.into_iter().map(|Reverse(t)| t).max().unwrap_or(0);
    busiest <= one_after
}

/// Consecutive runs simulated in one pass over the paths (a sweep's
/// points, a tornado parameter's two ends): each run's path metrics, bit
/// for bit those of its run alone ([`engine::BatchJob`] without per-period
/// values), and, given a reference run, each one's path metrics paired
/// with the reference's on every path ([`crate::compare::pair_values`];
/// common random numbers: the same draws on the same path). Where the
/// group does not hold the reference, it is simulated once more, after
/// the group's runs.
pub(crate) struct GroupJob {
    pub(crate) models: Vec<Model>,
    /// The reference's index among them (0 without one).
    pub(crate) bench: usize,
    /// Per model, the path metrics it shares with the reference: (name,
    /// reference's index, its index); none for the reference, and none
    /// without one.
    pub(crate) named: Vec<Vec<(String, usize, usize)>>,
    pairs: Vec<Vec<(usize, usize)>>,
}

impl GroupJob {
    /// Runs `r` of `runs`, paired with run `reference` if given.
    pub(crate) fn new(runs: &[&Loaded], r: Range<usize>, reference: Option<usize>) -> GroupJob {
        let mut models: Vec<Model> = runs[r.clone()]
            .iter()
            .map(|l| Model::compile(&l.scenario))
            .collect();
        let bench = match reference {
            None => 0,
            Some(k) if r.contains(&k) => k - r.start,
            Some(k) => {
                models.push(Model::compile(&runs[k].scenario));
                models.len() - 1
            }
        };
        let named: Vec<Vec<(String, usize, usize)>> = (0..models.len())
            .map(|k| match reference.is_some() && k != bench {
                true => crate::compare::common(
                    &models[bench].layout.path_names,
                    &models[k].layout.path_names,
                ),
                false => Vec::new(),
            })
            .collect();
        let pairs = named
            .iter()
            .map(|v| v.iter().map(|&(_, i, j)| (i, j)).collect())
            .collect();
        GroupJob {
            models,
            bench,
            named,
            pairs,
        }
    }

    /// Its one pass: every model's path metrics, then each one's paired
    /// values.
    pub(crate) fn job(&self) -> engine::BatchJob<'_> {
        let models: Vec<&Model> = self.models.iter().collect();
        engine::BatchJob::new(&models, self.bench, &self.pairs, false).bench_named("the reference")
    }

    /// The results of its pass (`results`, each model's) less the
    /// reference's where the group does not hold it; or, when the reference
    /// run itself failed, its error, named as its scenario's (`runs[k]`,
    /// the reference): every run paired with it fails with it, and the
    /// failure is the reference's.
    pub(crate) fn shown(
        &self,
        mut results: Vec<Result<RunStats>>,
        r: &Range<usize>,
        runs: &[&Loaded],
        reference: Option<usize>,
    ) -> Result<Vec<Result<RunStats>>> {
        if let Some(k) = reference {
            if results[self.bench].is_err() {
                if let Err(e) = results.swap_remove(self.bench) {
                    return Err(e.in_scenario(runs[k]));
                }
            }
        }
        results.truncate(r.len());
        Ok(results)
    }
}

/// [`each_run`] of groups of consecutive runs of `runs` (`groups`, which
/// cover them in order; a group's runs share seed and paths), each
/// group's runs paired with run `reference(g)` if given ([`GroupJob`]):
/// hands `each` every run's index, model, statistics (with
/// [`RunStats::paired`] the moments of its paired values) and the path
/// metrics those pair, in run order; the first run's error in that order
/// is returned, named as its scenario's.
pub(crate) fn simulate_groups(
    runs: &[&Loaded],
    groups: &[Range<usize>],
    reference: impl Fn(usize) -> Option<usize> + Sync,
    threads: usize,
    bar: &Option<ProgressBar>,
    labels: RunLabels<'_>,
    mut each: impl FnMut(usize, &Model, RunStats, &[(String, usize, usize)]) -> Result<()>,
) -> Result<()> {
    let sizes: Vec<u64> = groups
        .iter()
        .map(|r| runs[r.start].scenario.simulation.paths)
        .collect();
    each_run(
        &sizes,
        threads,
        bar,
        labels,
        |g, threads, progress| {
            let r = groups[g].clone();
            let reference = reference(g);
            let group = GroupJob::new(runs, r.clone(), reference);
            let job = group.job();
            let shown = r.len() as u64;
            let report = |done: u64| progress(done * shown);
            let out = engine::run_job(
                &job,
                group.models[0].paths,
                Options {
                    threads,
                    progress: Some(&report),
                    ..Default::default()
                },
            )?;
            let results = job.results(&out.acc, out.paths, out.threads);
            let results = group.shown(results, &r, runs, reference)?;
            Ok((group, results))
        },
        |g, (group, results)| {
            let parts = group.models.iter().zip(&group.named);
            for ((i, st), (m, named)) in groups[g].clone().zip(results).zip(parts) {
                let st = st.map_err(|e| e.in_scenario(runs[i]))?;
                each(i, m, st, named)?;
            }
            Ok(())
        },
    )?;
    Ok(())
}

/// Simulates `loaded` and writes `<out>/<name>/`.
pub fn run_scenario(loaded: &Loaded, settings: &Settings) -> Result<Outcome> {
    let sim = simulate_scenario(loaded, settings, None)?;
    let timing = Timing {
        started: sim.started,
        wall_seconds: sim.wall_seconds,
        shards: &[],
    };
    write_result(loaded, settings, sim.dir, sim.model, sim.stats, &timing)
}

/// When a result was simulated, how long it took and, for a result merged
/// from shards, their runs.
pub struct Timing<'a> {
    pub started: SystemTime,
    pub wall_seconds: f64,
    pub shards: &'a [shard::ShardRecord],
}

/// Simulates one shard of `loaded` (its share of the paths) and writes
/// `<out>/<name>.shard-I-of-N/`, for [`shard::merge`].
pub fn run_shard(loaded: &Loaded, settings: &Settings, part: Shard) -> Result<ShardOutcome> {
    let sim = simulate_scenario(loaded, settings, Some(part))?;
    let span = part.span(sim.model.paths)?;
    let timing = Timing {
        started: sim.started,
        wall_seconds: sim.wall_seconds,
        shards: &[],
    };
    shard::write_header(
        &sim.dir,
        loaded,
        settings,
        part,
        span.clone(),
        &sim.stats,
        &timing,
    )?;
    let dir = sim.dir.commit()?;
    Ok(ShardOutcome {
        dir,
        span,
        threads: sim.stats.threads,
        wall_seconds: sim.wall_seconds,
    })
}

/// What [`run_shard`] did.
pub struct ShardOutcome {
    pub dir: PathBuf,
    pub span: std::ops::Range<u64>,
    pub threads: usize,
    pub wall_seconds: f64,
}

/// The scenario's model and, with `regret`, the same scenario under the
/// other policy (the model's layout then has `policy_regret`).
pub fn compile(s: &crate::scenario::Scenario, regret: bool) -> (Model, Option<Model>) {
    let mut model = Model::compile(s);
    let other = regret.then(|| {
        let mut o = s.clone();
        o.simulation.policy = match s.simulation.policy {
            crate::scenario::Policy::Priority => crate::scenario::Policy::Optimal,
            crate::scenario::Policy::Optimal => crate::scenario::Policy::Priority,
        };
        model.layout.add_regret();
        Model::compile(&o)
    });
    (model, other)
}

/// A simulated scenario (or shard) whose folder is not yet committed.
struct Simulated {
    model: Model,
    stats: RunStats,
    dir: ResultDir,
    started: SystemTime,
    wall_seconds: f64,
}

/// Simulates `loaded` (all its paths, or `part`'s) into a new result
/// folder: `paths.csv` if asked for, and a shard's chunk moments.
fn simulate_scenario(
    loaded: &Loaded,
    settings: &Settings,
    part: Option<Shard>,
) -> Result<Simulated> {
    let (model, other) = compile(&loaded.scenario, settings.regret);
    let span = part.map(|p| p.span(model.paths)).transpose()?;
    let started = SystemTime::now();
    let clock = Instant::now();
    let (folder, label) = match part {
        Some(p) => (p.folder(&model.name), format!("{} {p}", model.name)),
        None => (model.name.clone(), model.name.clone()),
    };
    let dir = ResultDir::create(&settings.out, &folder)?;
    let len = span.as_ref().map_or(model.paths, |r| r.end - r.start);
    let bar = progress_bar(len, &label, settings.progress);
    let progress = |done: u64| {
        if let Some(b) = &bar {
            b.set_position(done);
        }
    };

    let mut csv_out = if settings.paths_csv {
        let f = std::fs::File::create(dir.path(shard::PATHS_CSV))
            .map_err(|e| Error::io("cannot create paths.csv", e))?;
        let mut w = std::io::BufWriter::with_capacity(1 << 20, f);
        let mut head = output::writer();
        head.write_record(output::paths_header(&model))?;
        w.write_all(&output::finish(head)?)
            .map_err(|e| Error::io("cannot write paths.csv", e))?;
        Some(w)
    } else {
        None
    };
    let mut line: Vec<u8> = Vec::new();
    let mut sink = |path: u64, row: &[f64]| -> Result<()> {
        if let Some(w) = csv_out.as_mut() {
            line.clear();
            output::paths_row(&mut line, path, row);
            w.write_all(&line)
                .map_err(|e| Error::io("cannot write paths.csv", e))?;
        }
        Ok(())
    };
    let mut moments_out = match part {
        Some(_) => Some(shard::MomentsWriter::create(&dir.path(shard::MOMENTS))?),
        None => None,
    };
    let mut chunk_sink = |ms: &[Moments]| -> Result<()> {
        match moments_out.as_mut() {
            Some(w) => w.chunk(ms),
            None => Ok(()),
        }
    };
    let stats = engine::run_model_with(
        &model,
        settings.focus.is_some(),
        other.as_ref(),
        Options {
            threads: settings.threads,
            block: settings.block,
            sink: if settings.paths_csv {
                Some(&mut sink)
            } else {
                None
            },
            progress: Some(&progress),
            span,
            chunks: if part.is_some() {
                Some(&mut chunk_sink)
            } else {
                None
            },
        },
    )
    .map_err(|e| e.in_scenario(loaded))?;
    if let Some(w) = csv_out.as_mut() {
        w.flush()
            .map_err(|e| Error::io("cannot write paths.csv", e))?;
    }
    drop(csv_out);
    if let Some(w) = moments_out {
        w.finish()?;
    }
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    Ok(Simulated {
        model,
        stats,
        dir,
        started,
        wall_seconds: clock.elapsed().as_secs_f64(),
    })
}

/// Writes a simulated scenario's folder: its files (and `paths.csv` if
/// `settings` asked for it and the run wrote it into `dir`) and manifest.
pub fn write_result(
    loaded: &Loaded,
    settings: &Settings,
    dir: ResultDir,
    model: Model,
    stats: RunStats,
    timing: &Timing<'_>,
) -> Result<Outcome> {
    let s = &loaded.scenario;
    let mut files = vec![
        "summary.csv",
        "periods.csv",
        "providers.csv",
        "manifest.json",
    ];
    if settings.paths_csv {
        files.push(shard::PATHS_CSV);
    }
    if let Some(stat) = settings.focus {
        dir.write("focus.csv", &focus::focus_csv(s, &model, &stats, stat)?)?;
        files.push("focus.csv");
    }
    if settings.charts {
        files.extend(charts::FILES);
    }
    let manifest = Manifest {
        capsim_version: env!("CARGO_PKG_VERSION"),
        scenario: &s.name,
        scenario_file: loaded.file.display().to_string(),
        scenario_sha256: &loaded.file_sha256,
        resolved_sha256: &loaded.resolved_sha256,
        overrides: &loaded.overrides,
        seed: s.simulation.seed,
        paths: s.simulation.paths,
        sampling: s.simulation.sampling.as_str(),
        policy: s.simulation.policy.as_str(),
        periods: s.periods,
        threads: stats.threads,
        block_paths: settings.block,
        quantile_method: output::QUANTILE_METHOD,
        started_utc: output::utc_timestamp(timing.started),
        wall_seconds: timing.wall_seconds,
        files: files.clone(),
        shards: timing.shards,
        resolved_scenario: &loaded.resolved_toml,
    };
    output::write_run_files(&dir, &model, &stats, &manifest)?;
    if settings.charts {
        charts::write_charts(dir.root(), &s.name, &s.currency)?;
    }
    let dir = dir.commit()?;
    Ok(Outcome {
        model,
        stats,
        dir,
        wall_seconds: timing.wall_seconds,
        files,
    })
}

/// The short report `run` prints.
pub fn print_report(out: &mut impl Write, loaded: &Loaded, o: &Outcome) -> std::io::Result<()> {
    let s = &loaded.scenario;
    writeln!(
        out,
        "{}: {} x {} ({} from {}), seed {}, {}, {:.2} s",
        s.name,
        output::count(s.simulation.paths, "path"),
        output::count(s.periods as u64, "period"),
        s.period.as_str(),
        s.start,
        s.simulation.seed,
        output::count(o.stats.threads as u64, "thread"),
        o.wall_seconds
    )?;
    write!(
        out,
        "{}",
        output::headline_table(&o.model, &o.stats, &s.currency)
    )?;
    writeln!(out, "wrote {}/ ({})", o.dir.display(), o.files.join(", "))
}

#[cfg(test)]
mod tests {
    use super::side_by_side;

    /// Side by side where one after the other would leave threads idle,
    /// not where it would leave a thread alone with the last runs.
    #[test]
    fn runs_go_side_by_side_when_that_finishes_sooner() {
        // 100 runs of one block: 50 blocks per thread against 100.
        assert!(side_by_side(&[1000; 100], 2));
        // 5 runs of 98 blocks (10^5 paths) on 2 threads: 3 x 98 against
        // 5 x 49.
        assert!(!side_by_side(&[100_000; 5], 2));
        // 20 runs of 10 blocks: 100 against 100, a tie.
        assert!(side_by_side(&[10_000; 20], 2));
        // 3 runs of 4 blocks on 2 threads: 8 against 6; on 3: 4 against 6.
        assert!(!side_by_side(&[4096; 3], 2));
        assert!(side_by_side(&[4096; 3], 3));
        // Runs of different sizes: the big one dominates either way.
        assert!(!side_by_side(&[1_000_000, 1000, 1000], 2));
        assert!(side_by_side(&[1000, 1000, 1000], 2));
        // One thread, or one run: never.
        assert!(!side_by_side(&[1000; 100], 1));
        assert!(!side_by_side(&[1000], 4));
    }
}
