use super::compare::{load_paired, KEY_METRICS};
use super::run::sets_with;
use crate::compare::{self, Comparison};
use crate::engine::{self, RunStats};
use crate::error::{Error, Result};
use crate::model::Model;
use crate::output::{self, ResultDir};
use crate::runner::{self, Settings};
use crate::scenario::{self, Loaded};
use crate::shard::{self, Shard, ShardRecord, Side};
use crate::stats::{Accumulated, Tails, CHUNK};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub struct BatchArgs {
    /// Folder of scenario files (*.toml, any case)
    pub dir: PathBuf,
    /// Name of the benchmark scenario every other is compared with
    #[arg(long, default_value = "baseline")]
    pub benchmark: String,
    #[command(flatten)]
    pub sim: super::SimArgs,
    #[command(flatten)]
    pub set: super::SetArgs,
    /// Also draw charts/ in every scenario's folder (SVG: spend and demand
    /// per period, providers, totals)
    #[arg(long)]
    pub charts: bool,
    /// No table on the terminal
    #[arg(long, short)]
    pub quiet: bool,
    /// Simulate only part I of N of the paths (e.g. 3/8, one per job of a
    /// batch scheduler) into <out>/<folder>.batch.shard-I-of-N/; `capsim
    /// merge` joins the N parts into what one batch writes
    #[arg(long, value_name = "I/N", allow_hyphen_values = true)]
    pub shard: Option<Shard>,
}

pub const INDEX_HEADER: [&str; 9] = [
    "scenario",
    "metric",
    "mean",
    "p5",
    "p50",
    "p95",
    "diff_vs_benchmark",
    "diff_stderr",
    "p_lower_than_benchmark",
];

/// Scenarios simulated beside the benchmark in one pass of `batch`.
const PER_PASS: usize = 11;

pub(super) fn scenario_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let files = crate::scenario::toml_files(dir).map_err(|e| {
        Error::file(dir, format!("cannot read scenario folder: {e}"))
            .with_hint(library_hint(dir, &e))
    })?;
    if files.is_empty() {
        return Err(Error::file(
            dir,
            "found no scenario files (*.toml), expected a folder of scenarios",
        ));
    }
    Ok(files)
}

/// For a scenario folder that cannot be read: the folder meant, if one is
/// near (`scenario` for `scenarios`), or for a scenario file given instead
/// of its folder, `run` for it and `batch` for its folder.
fn library_hint(dir: &Path, e: &std::io::Error) -> Option<String> {
    let parent = dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if e.kind() == std::io::ErrorKind::NotFound {
        return crate::scenario::near_name(parent, dir, "", |p| p.is_dir())
            .map(|p| format!("did you mean {}?", p.display()));
    }
    dir.is_file().then(|| {
        format!(
            "capsim run {} runs one scenario; capsim batch {} runs every scenario in its folder",
            crate::error::quoted(&dir.display().to_string()),
            crate::error::quoted(&parent.display().to_string())
        )
    })
}

pub fn batch(a: BatchArgs) -> Result<()> {
    let started = std::time::SystemTime::now();
    let Library { runs, failed } = load_library(&a)?;
    let plan = Plan::new(&runs, &a.benchmark);
    let out = Outputs {
        benchmark: &a.benchmark,
        folder: &a.dir,
        out: &a.sim.out,
        charts: a.charts,
        quiet: a.quiet,
    };
    if let Some(part) = a.shard {
        return run_shard(&out, &runs, &failed, &plan, a.sim.threads, part);
    }
    check_library_out(&a.sim.out, &runs)?;
    let sim_started = std::time::SystemTime::now();
    let clock = std::time::Instant::now();
    let mut results: Vec<Option<Result<RunStats>>> = plan.models.iter().map(|_| None).collect();
    for g in 0..plan.groups.len() {
        let p = plan.pass(g);
        let label = match plan.groups.len() {
            1 => output::count(plan.models.len() as u64, "scenario"),
            n => format!(
                "{}, pass {} of {n}",
                output::count(plan.models.len() as u64, "scenario"),
                g + 1
            ),
        };
        let pass = runner::with_progress(
            plan.models[plan.rb].paths,
            &label,
            !a.quiet,
            a.sim.threads,
            |opts| engine::run_batch(&p.models, 0, &p.pairs, opts),
        )?;
        plan.keep(&p.idx, pass, &mut results);
    }
    let results = results
        .into_iter()
        .map(|r| r.expect("every scenario ran in a pass"))
        .collect();
    let timing = runner::Timing {
        started: sim_started,
        wall_seconds: clock.elapsed().as_secs_f64(),
        shards: &[],
    };
    write_library(&out, &runs, plan, results, failed, started, &timing)
}

/// The scenarios of a library `batch` runs (each on the benchmark's seed
/// and paths), and the files it skipped.
pub struct Library {
    pub runs: Vec<Loaded>,
    pub failed: Vec<String>,
}

fn load_library(a: &BatchArgs) -> Result<Library> {
    let files = scenario_files(&a.dir)?;
    let mut failed = Vec::new();
    let mut loaded: Vec<Loaded> = Vec::new();
    for f in &files {
        match scenario::load_file(f, &sets_with(&a.set.sets, a.sim.paths, a.sim.seed)) {
            Ok(l) => loaded.push(l),
            Err(e) => {
                say_err!("skipped: {}", e.in_file(f));
                failed.push(f.display().to_string());
            }
        }
    }
    // Results go to a folder per scenario name, and the index names rows
    // by it: of two files with one name, the later (in file order) is
    // skipped.
    let mut distinct: Vec<Loaded> = Vec::new();
    for l in loaded {
        match distinct.iter().find(|d| d.scenario.name == l.scenario.name) {
            Some(first) => {
                say_err!("skipped: {}", scenario::same_name(&l, first));
                failed.push(l.file.display().to_string());
            }
            None => distinct.push(l),
        }
    }
    let loaded = distinct;
    super::warn(&loaded, true);
    if loaded.is_empty() {
        return Err(Error::file(
            &a.dir,
            format!(
                "found no scenario that loads (all {} skipped, above), expected at least \
                 the benchmark's",
                failed.len()
            ),
        ));
    }
    let Some(bi) = loaded.iter().position(|l| l.scenario.name == a.benchmark) else {
        let names = || loaded.iter().map(|l| l.scenario.name.as_str());
        return Err(Error::flag(
            "--benchmark",
            format!(
                "found no scenario named \"{}\" in {}, expected one of: {}",
                a.benchmark,
                a.dir.display(),
                names().collect::<Vec<_>>().join(", ")
            ),
        )
        .with_hint(crate::scenario::did_you_mean(&a.benchmark, names())));
    };
    let bench = loaded[bi].clone();
    // Every other scenario runs on the benchmark's seed and paths, so that
    // the index's differences are paired (common random numbers).
    let mut runs: Vec<Loaded> = Vec::new();
    for (i, l) in loaded.iter().enumerate() {
        if i == bi {
            runs.push(bench.clone());
            continue;
        }
        // (Its index row subtracts the benchmark's money.)
        if l.scenario.currency != bench.scenario.currency {
            say_err!("skipped: {}", scenario::other_currency(l, &bench));
            failed.push(l.file.display().to_string());
            continue;
        }
        match load_paired(&l.file, &a.set.sets, &bench) {
            Ok(paired) => {
                if let Some(note) = super::compare::paired_note(l, &paired, &bench) {
                    say_err!("{note}");
                }
                runs.push(paired)
            }
            Err(e) => {
                say_err!("skipped: {e}");
                failed.push(l.file.display().to_string());
            }
        }
    }
    Ok(Library { runs, failed })
}

/// What the passes over the paths simulate: every scenario's model, the
/// benchmark's index, the path metrics each shares with the benchmark, and
/// the passes (the benchmark and up to `PER_PASS` others each).
pub struct Plan {
    pub models: Vec<Model>,
    pub rb: usize,
    shared: Vec<Vec<(String, usize, usize)>>,
    pairs: Vec<Vec<(usize, usize)>>,
    pub groups: Vec<Vec<usize>>,
}

impl Plan {
    pub fn new(runs: &[Loaded], benchmark: &str) -> Plan {
        // Every scenario in one pass over the paths, each simulated once
        // per path, with the path metrics it shares with the benchmark
        // paired (the comparison `compare` would give, bit for bit).
        let models: Vec<Model> = runs.iter().map(|l| Model::compile(&l.scenario)).collect();
        let rb = runs
            .iter()
            .position(|l| l.scenario.name == benchmark)
            .expect("the benchmark is among the runs");
        let shared: Vec<Vec<(String, usize, usize)>> = models
            .iter()
            .enumerate()
            .map(|(k, m)| match k == rb {
                true => Vec::new(),
                false => compare::common(&models[rb].layout.path_names, &m.layout.path_names),
            })
            .collect();
        let pairs = shared
            .iter()
            .map(|v| v.iter().map(|&(_, i, j)| (i, j)).collect())
            .collect();
        // A pass keeps every scenario's sketches in every thread (a few MB
        // each): a large library runs in passes of the benchmark and up to
        // `PER_PASS` others (the shipped ten in one).
        let others: Vec<usize> = (0..models.len()).filter(|&k| k != rb).collect();
        let groups = match others.len() {
            0 => vec![vec![rb]],
            _ => others
                .chunks(PER_PASS)
                .map(|g| std::iter::once(rb).chain(g.iter().copied()).collect())
                .collect(),
        };
        Plan {
            models,
            rb,
            shared,
            pairs,
            groups,
        }
    }

    /// Pass `g`.
    pub fn pass(&self, g: usize) -> Pass<'_> {
        let idx = self.groups[g].clone();
        let models = idx.iter().map(|&k| &self.models[k]).collect();
        let pairs = idx.iter().map(|&k| self.pairs[k].clone()).collect();
        Pass { idx, models, pairs }
    }

    /// Keeps a pass's results (scenarios `idx`) in `results`; the
    /// benchmark's statistics are the same in every pass.
    pub fn keep(
        &self,
        idx: &[usize],
        pass: Vec<Result<RunStats>>,
        results: &mut [Option<Result<RunStats>>],
    ) {
        for (&k, r) in idx.iter().zip(pass) {
            if results[k].is_none() {
                results[k] = Some(r);
            }
        }
    }
}

/// One pass of a [`Plan`]: its scenarios' indices (the benchmark first),
/// models and pairs (as [`engine::run_batch`] takes them).
pub struct Pass<'a> {
    pub idx: Vec<usize>,
    pub models: Vec<&'a Model>,
    pub pairs: Vec<Vec<(usize, usize)>>,
}

/// Where and how `batch` (or `merge` of its shards) writes.
pub struct Outputs<'a> {
    pub benchmark: &'a str,
    /// The scenario folder, for the index's manifest.
    pub folder: &'a Path,
    pub out: &'a Path,
    pub charts: bool,
    pub quiet: bool,
}

/// Checks, before anything runs or is written, that a library's results
/// may go into `out`: each scenario's folder ([`output::check_target`]),
/// and `index.csv` and `index_manifest.json`, which must be absent or a
/// batch's (capsim replaces nothing else).
fn check_library_out(out: &Path, runs: &[Loaded]) -> Result<()> {
    for l in runs {
        output::check_target(out, &l.scenario.name)?;
    }
    let index = out.join("index.csv");
    if index.exists() {
        let text = std::fs::read(&index).unwrap_or_default();
        let first = text.split(|&b| b == b'\n').next().unwrap_or_default();
        if first.trim_ascii_end() != INDEX_HEADER.join(",").as_bytes() {
            return Err(output::in_the_way_of(
                &index,
                "a file that does not begin with a batch index's header",
                false,
            ));
        }
    }
    let man = out.join("index_manifest.json");
    if man.exists() && !output::written_by_capsim(&man) {
        return Err(output::in_the_way_of(
            &man,
            "a file that is not a batch's manifest",
            false,
        ));
    }
    Ok(())
}

/// Writes every scenario's folder, `index.csv`, `index_manifest.json` and
/// (with charts) `index.svg` from the passes' `results`; the library's
/// skipped files are `failed`, `timing` the simulation's (and its shards').
pub fn write_library(
    to: &Outputs<'_>,
    runs: &[Loaded],
    plan: Plan,
    results: Vec<Result<RunStats>>,
    mut failed: Vec<String>,
    started: std::time::SystemTime,
    timing: &runner::Timing<'_>,
) -> Result<()> {
    let settings = Settings {
        out: to.out.to_path_buf(),
        progress: !to.quiet,
        charts: to.charts,
        ..Default::default()
    };
    check_library_out(to.out, runs)?;
    let Plan {
        models, rb, shared, ..
    } = plan;
    let mut results = results;
    // The benchmark cannot be skipped: nothing is written without it.
    if results[rb].is_err() {
        if let Err(e) = results.swap_remove(rb) {
            return Err(e.in_scenario(&runs[rb]));
        }
    }
    let bench = &runs[rb];
    let mut w = crate::output::writer();
    w.write_record(INDEX_HEADER)?;
    let mut stdout = std::io::stdout().lock();
    let say = |out: &mut std::io::StdoutLock, line: String| {
        if !to.quiet {
            let _ = writeln!(out, "{line}");
        }
    };
    say(
        &mut stdout,
        format!(
            "{:<24} {:>12} {:>12} {:>14} {:>12}  (npv, vs benchmark \"{}\")",
            "scenario", "mean", "p95", "diff", "stderr", to.benchmark
        ),
    );
    let mut ran: Vec<&Loaded> = Vec::new();
    for (((l, model), result), shared) in runs.iter().zip(models).zip(results).zip(&shared) {
        let is_bench = l.scenario.name == to.benchmark;
        // A scenario whose numbers overflow is skipped like one that does
        // not load.
        let stats = match result {
            Ok(s) => s,
            Err(e @ Error::NotFinite { .. }) if !is_bench => {
                say_err!("skipped: {}", e.in_scenario(l));
                failed.push(l.file.display().to_string());
                continue;
            }
            Err(e) => return Err(e.in_scenario(l)),
        };
        let diff = (!is_bench).then(|| Comparison {
            paths: stats.paths,
            threads: stats.threads,
            metrics: compare::metric_diffs(shared, &stats.paired, stats.paths),
            periods: Vec::new(),
        });
        let dir = ResultDir::create(&settings.out, &model.name)?;
        let o = runner::write_result(l, &settings, dir, model, stats, timing)?;
        ran.push(l);
        for name in KEY_METRICS {
            let Some(x) = o.stats.path_metric(&o.model, name) else {
                continue;
            };
            let (d, se, pl) = match &diff {
                None => (0.0, 0.0, 0.0),
                Some(c) => c
                    .metric(name)
                    .map(|m| (m.diff_mean, m.diff_stderr, m.p_alt_lower))
                    .unwrap_or((f64::NAN, f64::NAN, f64::NAN)),
            };
            w.write_record([
                l.scenario.name.clone(),
                name.to_string(),
                x.mean.to_string(),
                x.q(0.05).to_string(),
                x.q(0.50).to_string(),
                x.q(0.95).to_string(),
                d.to_string(),
                se.to_string(),
                pl.to_string(),
            ])?;
            if name == "npv" {
                let cur = &l.scenario.currency;
                say(
                    &mut stdout,
                    format!(
                        "{:<24} {:>12} {:>12} {:>14} {:>12}",
                        l.scenario.name,
                        crate::output::human(x.mean, true, cur),
                        crate::output::human(x.q(0.95), true, cur),
                        crate::output::signed(d, true, cur),
                        crate::output::human(se, true, cur)
                    ),
                );
            }
        }
    }
    let bytes = crate::output::finish(w)?;
    let sim = &bench.scenario.simulation;
    let mut prov = crate::output::Provenance::new("batch", sim.seed, sim.paths, started);
    prov.scenarios = ran
        .into_iter()
        .map(crate::output::ScenarioRef::of)
        .collect();
    prov.details = serde_json::json!({
        "benchmark": to.benchmark,
        "folder": to.folder.display().to_string(),
        "skipped": failed,
    });
    if !timing.shards.is_empty() {
        prov.details["shards"] = serde_json::json!(timing.shards);
    }
    let man = to.out.join("index_manifest.json");
    std::fs::write(&man, prov.to_json()?)
        .map_err(|e| Error::io(format!("cannot write {}", man.display()), e))?;
    let index = to.out.join("index.csv");
    let tmp = to.out.join(".index.csv.partial");
    std::fs::write(&tmp, bytes)
        .map_err(|e| Error::io(format!("cannot write {}", tmp.display()), e))?;
    std::fs::rename(&tmp, &index)
        .map_err(|e| Error::io(format!("cannot write {}", index.display()), e))?;
    say(&mut stdout, format!("wrote {}", index.display()));
    if to.charts {
        let chart = crate::output::charts::write_index_chart(
            &index,
            to.benchmark,
            &bench.scenario.currency,
        )?;
        say(&mut stdout, format!("wrote {}", chart.display()));
    }
    skipped(to.folder, &failed)
}

/// Exit 2 after the rest is written when scenarios were skipped.
fn skipped(folder: &Path, failed: &[String]) -> Result<()> {
    if failed.is_empty() {
        return Ok(());
    }
    Err(Error::file(
        folder,
        format!(
            "{} scenario(s) failed (bad input or overflow) and were skipped: {}",
            failed.len(),
            failed.join(", ")
        ),
    ))
}

// ---------------------------------------------------------------------------
// Shards of a batch (`capsim batch DIR --shard I/N`): each pass's chunk
// moments (`pass-G.bin`) and sketches, so that `capsim merge` writes what
// one `batch` writes (`crate::shard` has the same for a run).

/// A batch shard's description.
pub const BATCH_HEADER: &str = "batch_shard.json";

/// One pass of a batch shard: its values per path, how many are sketched,
/// and the sketches and extremes.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PassPart {
    width: usize,
    sketched: usize,
    tails: Tails,
}

/// `batch_shard.json`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct BatchHeader {
    format: u32,
    capsim_version: String,
    benchmark: String,
    folder: String,
    charts: bool,
    /// The scenarios run, in the batch's order, and the files it skipped.
    runs: Vec<Side>,
    failed: Vec<String>,
    shard: u64,
    of: u64,
    /// The whole batch's paths.
    paths: u64,
    record: ShardRecord,
    chunks: u64,
    passes: Vec<PassPart>,
    #[serde(default)]
    files: shard::FileHashes,
}

/// The shard folder's name: `<folder>.batch.shard-I-of-N`, the library
/// folder's name cut to its first 100 bytes (the whole name must fit a
/// file system's 255 bytes).
fn shard_folder(folder: &Path, part: Shard) -> String {
    let name = folder
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().to_string()))
        .unwrap_or_else(|| "library".to_string());
    format!(
        "{}.batch.shard-{}-of-{}",
        output::short(&name),
        part.index,
        part.count
    )
}

/// Simulates part `part` of the paths of every pass and writes its shard
/// folder.
fn run_shard(
    to: &Outputs<'_>,
    runs: &[Loaded],
    failed: &[String],
    plan: &Plan,
    threads: usize,
    part: Shard,
) -> Result<()> {
    let started = std::time::SystemTime::now();
    let clock = std::time::Instant::now();
    let paths = plan.models[plan.rb].paths;
    let span = part.span(paths)?;
    let folder = shard_folder(to.folder, part);
    let dir = ResultDir::create(to.out, &folder)?;
    let mut passes = Vec::with_capacity(plan.groups.len());
    let mut used = 1;
    for g in 0..plan.groups.len() {
        let p = plan.pass(g);
        let job = engine::BatchJob::new(&p.models, 0, &p.pairs, true);
        let label = format!("{folder}, pass {} of {}", g + 1, plan.groups.len());
        let out = shard::run_span(
            &job,
            paths,
            span.clone(),
            threads,
            (&label, !to.quiet),
            &dir.path(&pass_file(g)),
        )?;
        used = out.threads;
        passes.push(PassPart {
            width: out.acc.moments.len(),
            sketched: out.acc.tails.sketches.len(),
            tails: out.acc.tails,
        });
    }
    let n = span.end - span.start;
    let pass_names: Vec<String> = (0..plan.groups.len()).map(pass_file).collect();
    let h = BatchHeader {
        format: shard::FORMAT,
        capsim_version: env!("CARGO_PKG_VERSION").to_string(),
        benchmark: to.benchmark.to_string(),
        folder: to.folder.display().to_string(),
        charts: to.charts,
        runs: runs.iter().map(Side::of).collect(),
        failed: failed.to_vec(),
        shard: part.index,
        of: part.count,
        paths,
        record: ShardRecord {
            shard: part.index,
            scenario_file: String::new(),
            scenario_sha256: String::new(),
            first_path: span.start,
            paths: n,
            threads: used,
            block_paths: engine::DEFAULT_BLOCK,
            started_utc: crate::output::utc_timestamp(started),
            wall_seconds: clock.elapsed().as_secs_f64(),
        },
        chunks: n.div_ceil(CHUNK as u64),
        passes,
        files: shard::hash_files(
            &dir,
            &pass_names.iter().map(String::as_str).collect::<Vec<_>>(),
        )?,
    };
    shard::write_description(&dir, BATCH_HEADER, &h)?;
    let done = dir.commit()?;
    if !to.quiet {
        say!(
            "{part}: paths {}..{} ({n} of {paths}) of {}, {}, {:.2} s",
            span.start,
            span.end,
            crate::output::count(runs.len() as u64, "scenario"),
            crate::output::count(used as u64, "thread"),
            h.record.wall_seconds
        );
        say!("{}", shard::how_to_merge(&done, part));
    }
    // As `batch` does once it has written everything (the merge says it
    // again).
    skipped(to.folder, failed)
}

fn pass_file(g: usize) -> String {
    format!("pass-{}.bin", g + 1)
}

fn read_header(dir: &Path) -> Result<BatchHeader> {
    shard::read_description(
        dir,
        BATCH_HEADER,
        "expected a batch's shard folder written by `capsim batch DIR --shard I/N`",
        "a capsim batch shard description",
        |h: &BatchHeader| (h.format, h.capsim_version.as_str()),
    )
}

/// Merges the shards in `dirs` (all of one `batch --shard`, in any order)
/// into what one `batch` writes into `out`, byte for byte but for the
/// manifests' times (which list the shards); `charts` as `batch --charts`.
pub fn merge_shards(
    dirs: &[PathBuf],
    out: &Path,
    threads: usize,
    charts: bool,
    quiet: bool,
) -> Result<()> {
    let started = std::time::SystemTime::now();
    let clock = std::time::Instant::now();
    let mut shards = shard::read_all(dirs, read_header, |h| &h.capsim_version)?;
    let names =
        |h: &BatchHeader| -> Vec<String> { h.runs.iter().map(|s| s.scenario.clone()).collect() };
    shard::check_one_job(
        &mut shards,
        "batch",
        "the scenario folder, --benchmark, --set, --paths, --seed and N",
        |h| (h.shard, h.of),
        |h0, h| {
            if (names(h), &h.benchmark, &h.failed) != (names(h0), &h0.benchmark, &h0.failed) {
                return Some(format!(
                    "it runs {:?} against {:?} (skipped {:?}), expected {:?} against {:?} \
                     (skipped {:?})",
                    names(h),
                    h.benchmark,
                    h.failed,
                    names(h0),
                    h0.benchmark,
                    h0.failed
                ));
            }
            shard::resolved_differs(h0.runs.iter().zip(&h.runs))
        },
    )?;

    let (d0, h0) = &shards[0];
    let header0 = d0.join(BATCH_HEADER);
    let runs: Vec<Loaded> = h0
        .runs
        .iter()
        .map(|s| s.load(&header0))
        .collect::<Result<_>>()?;
    if !runs.iter().any(|l| l.scenario.name == h0.benchmark) {
        return Err(shard::bad(
            &header0,
            "its benchmark is not among its scenarios: the file was edited",
        ));
    }
    let plan = Plan::new(&runs, &h0.benchmark);
    let paths = plan.models[plan.rb].paths;
    let pass_names: Vec<String> = (0..plan.groups.len()).map(pass_file).collect();
    let reads: Vec<&str> = pass_names.iter().map(String::as_str).collect();
    for (d, h) in &shards {
        shard::check_files(d, &h.files, &reads)?;
    }
    let threads = crate::engine::all_cores(threads);
    // The threads the shards ran on (the largest), as a merged run's
    // manifest says.
    let most = shards
        .iter()
        .map(|(_, h)| h.record.threads)
        .max()
        .unwrap_or(1);
    let mut results: Vec<Option<Result<RunStats>>> = plan.models.iter().map(|_| None).collect();
    for g in 0..plan.groups.len() {
        let p = plan.pass(g);
        let job = engine::BatchJob::new(&p.models, 0, &p.pairs, true);
        let (width, sketched) = (engine::Job::width(&job), engine::Job::sketched(&job));
        let mut acc = Accumulated::new(width, sketched);
        for (d, h) in &shards {
            let file = d.join(BATCH_HEADER);
            let (part, span) = shard::shard_span(&file, h.shard, h.of, paths, "batch")?;
            let r = &h.record;
            let pass = h.passes.get(g);
            let fits = pass.is_some_and(|p| {
                (p.width, p.sketched) == (width, sketched) && p.tails.holds(sketched, r.paths)
            });
            if (r.first_path, r.paths) != (span.start, span.end - span.start)
                || h.paths != paths
                || h.chunks != r.paths.div_ceil(CHUNK as u64)
                || h.passes.len() != plan.groups.len()
                || !fits
            {
                return Err(shard::bad(
                    &file,
                    format!(
                        "its paths, passes or statistics do not match {part} of the batch \
                         (paths {}..{}); the file was edited or damaged",
                        span.start, span.end
                    ),
                ));
            }
            shard::fold_moments(&d.join(pass_file(g)), width, h.chunks, r.paths, &mut acc)?;
            acc.tails.merge(&h.passes[g].tails);
        }
        let mut pass = job.results(&acc, paths, threads);
        for s in pass.iter_mut().flatten() {
            s.threads = most;
        }
        plan.keep(&p.idx, pass, &mut results);
    }
    let records: Vec<ShardRecord> = shards.iter().map(|(_, h)| h.record.clone()).collect();
    let results = results
        .into_iter()
        .map(|r| r.expect("every scenario ran in a pass"))
        .collect();
    let folder = PathBuf::from(&h0.folder);
    let to = Outputs {
        benchmark: &h0.benchmark,
        folder: &folder,
        out,
        charts: charts || h0.charts,
        quiet,
    };
    let timing = runner::Timing {
        started,
        wall_seconds: clock.elapsed().as_secs_f64(),
        shards: &records,
    };
    let failed = h0.failed.clone();
    write_library(&to, &runs, plan, results, failed, started, &timing)
}
