use super::compare::{load_paired, KEY_METRICS};
use super::run::sets_with;
use crate::compare::{self, Comparison};
use crate::engine::{self, RunStats};
use crate::error::{Error, InputError, Origin, Result};
use crate::model::Model;
use crate::output::ResultDir;
use crate::runner::{self, Settings};
use crate::scenario::{self, Loaded};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub struct BatchArgs {
    /// Folder of scenario files (*.toml)
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

fn scenario_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let rd = std::fs::read_dir(dir).map_err(|e| {
        Error::from(InputError {
            origin: Origin::FileOnly {
                file: dir.to_path_buf(),
            },
            field: String::new(),
            message: format!("cannot read scenario folder: {e}"),
            hint: None,
        })
    })?;
    let mut files: Vec<PathBuf> = rd
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    Ok(files)
}

pub fn batch(a: BatchArgs) -> Result<()> {
    let started = std::time::SystemTime::now();
    let files = scenario_files(&a.dir)?;
    let mut failed = Vec::new();
    let mut loaded: Vec<Loaded> = Vec::new();
    for f in &files {
        match scenario::load_file(f, &sets_with(&a.set.sets, a.sim.paths, a.sim.seed)) {
            Ok(l) => loaded.push(l),
            Err(e) => {
                eprintln!("skipped: {e}");
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
                eprintln!("skipped: {}", scenario::same_name(&l, first));
                failed.push(l.file.display().to_string());
            }
            None => distinct.push(l),
        }
    }
    let loaded = distinct;
    let Some(bi) = loaded.iter().position(|l| l.scenario.name == a.benchmark) else {
        return Err(Error::flag(
            "--benchmark",
            format!(
                "found no scenario named \"{}\" in {}, expected one of: {}",
                a.benchmark,
                a.dir.display(),
                loaded
                    .iter()
                    .map(|l| l.scenario.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
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
        match load_paired(&l.file, &a.set.sets, &bench) {
            Ok(l) => runs.push(l),
            Err(e) => {
                eprintln!("skipped: {e}");
                failed.push(l.file.display().to_string());
            }
        }
    }
    let settings = Settings {
        out: a.sim.out.clone(),
        threads: a.sim.threads,
        progress: !a.quiet,
        charts: a.charts,
        ..Default::default()
    };
    // Every scenario in one pass over the paths, each simulated once per
    // path, with the path metrics it shares with the benchmark paired
    // (the comparison `compare` would give, bit for bit).
    let models: Vec<Model> = runs.iter().map(|l| Model::compile(&l.scenario)).collect();
    let rb = runs
        .iter()
        .position(|l| l.scenario.name == a.benchmark)
        .expect("the benchmark is among the runs");
    let shared: Vec<Vec<(String, usize, usize)>> = models
        .iter()
        .enumerate()
        .map(|(k, m)| match k == rb {
            true => Vec::new(),
            false => compare::common(&models[rb].layout.path_names, &m.layout.path_names),
        })
        .collect();
    let pairs: Vec<Vec<(usize, usize)>> = shared
        .iter()
        .map(|v| v.iter().map(|&(_, i, j)| (i, j)).collect())
        .collect();
    let sim_started = std::time::SystemTime::now();
    let clock = std::time::Instant::now();
    // A pass keeps every scenario's sketches in every thread (a few MB
    // each): a large library runs in passes of the benchmark and up to
    // `PER_PASS` others (the shipped ten in one).
    let others: Vec<usize> = (0..models.len()).filter(|&k| k != rb).collect();
    let groups: Vec<&[usize]> = match others.len() {
        0 => vec![&[]],
        _ => others.chunks(PER_PASS).collect(),
    };
    let mut results: Vec<Option<Result<RunStats>>> = models.iter().map(|_| None).collect();
    for (g, group) in groups.iter().enumerate() {
        let idx: Vec<usize> = std::iter::once(rb).chain(group.iter().copied()).collect();
        let pass_models: Vec<&Model> = idx.iter().map(|&k| &models[k]).collect();
        let pass_pairs: Vec<Vec<(usize, usize)>> = idx.iter().map(|&k| pairs[k].clone()).collect();
        let label = match groups.len() {
            1 => format!("{} scenarios", models.len()),
            n => format!("{} scenarios, pass {} of {n}", models.len(), g + 1),
        };
        let pass = runner::with_progress(
            models[rb].paths,
            &label,
            settings.progress,
            a.sim.threads,
            |opts| engine::run_batch(&pass_models, 0, &pass_pairs, opts),
        )?;
        for (&k, r) in idx.iter().zip(pass) {
            // The benchmark's statistics are the same in every pass.
            if results[k].is_none() {
                results[k] = Some(r);
            }
        }
    }
    let wall_seconds = clock.elapsed().as_secs_f64();
    let mut results: Vec<Result<RunStats>> = results
        .into_iter()
        .map(|r| r.expect("every scenario ran in a pass"))
        .collect();
    // The benchmark cannot be skipped: nothing is written without it.
    if results[rb].is_err() {
        if let Err(e) = results.swap_remove(rb) {
            return Err(e.in_scenario(&runs[rb]));
        }
    }
    let mut w = crate::output::writer();
    w.write_record(INDEX_HEADER)?;
    let mut stdout = std::io::stdout().lock();
    let say = |out: &mut std::io::StdoutLock, line: String| {
        if !a.quiet {
            let _ = writeln!(out, "{line}");
        }
    };
    say(
        &mut stdout,
        format!(
            "{:<24} {:>12} {:>12} {:>14} {:>10}  (npv, vs benchmark \"{}\")",
            "scenario", "mean", "p95", "diff", "stderr", a.benchmark
        ),
    );
    let mut ran: Vec<&Loaded> = Vec::new();
    for (((l, model), result), shared) in runs.iter().zip(models).zip(results).zip(&shared) {
        let is_bench = l.scenario.name == a.benchmark;
        // A scenario whose numbers overflow is skipped like one that does
        // not load.
        let stats = match result {
            Ok(s) => s,
            Err(e @ Error::NotFinite { .. }) if !is_bench => {
                eprintln!("skipped: {}", e.in_scenario(l));
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
        let o = runner::write_result(
            l,
            &settings,
            dir,
            model,
            stats,
            &runner::Timing {
                started: sim_started,
                wall_seconds,
                shards: &[],
            },
        )?;
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
                        "{:<24} {:>12} {:>12} {:>14} {:>10}",
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
        "benchmark": a.benchmark,
        "folder": a.dir.display().to_string(),
        "skipped": failed,
    });
    let man = a.sim.out.join("index_manifest.json");
    std::fs::write(&man, prov.to_json()?)
        .map_err(|e| Error::io(format!("cannot write {}", man.display()), e))?;
    let index = a.sim.out.join("index.csv");
    let tmp = a.sim.out.join(".index.csv.partial");
    std::fs::write(&tmp, bytes)
        .map_err(|e| Error::io(format!("cannot write {}", tmp.display()), e))?;
    std::fs::rename(&tmp, &index)
        .map_err(|e| Error::io(format!("cannot write {}", index.display()), e))?;
    say(&mut stdout, format!("wrote {}", index.display()));
    if a.charts {
        let chart = crate::output::charts::write_index_chart(
            &index,
            &a.benchmark,
            &bench.scenario.currency,
        )?;
        say(&mut stdout, format!("wrote {}", chart.display()));
    }
    if !failed.is_empty() {
        return Err(Error::from(InputError {
            origin: Origin::FileOnly {
                file: a.dir.clone(),
            },
            field: String::new(),
            message: format!(
                "{} scenario(s) failed (bad input or overflow) and were skipped: {}",
                failed.len(),
                failed.join(", ")
            ),
            hint: None,
        }));
    }
    Ok(())
}
