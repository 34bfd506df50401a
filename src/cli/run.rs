use super::ScenarioArgs;
use crate::engine::{self, Options};
use crate::error::{Error, Result};
use crate::model::Model;
use crate::output::{self, Manifest, ResultDir};
use crate::scenario;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::{Instant, SystemTime};

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub scenario: ScenarioArgs,
    /// Number of paths (overrides simulation.paths)
    #[arg(long)]
    pub paths: Option<u64>,
    /// Random seed (overrides simulation.seed)
    #[arg(long)]
    pub seed: Option<u64>,
    /// Worker threads (default: all cores); results do not depend on it
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Output folder; results go to OUT/<scenario name>/
    #[arg(long, default_value = "results")]
    pub out: PathBuf,
    /// Also write paths.csv: every per-path metric for every path
    #[arg(long)]
    pub paths_csv: bool,
    /// No progress bar and no summary table
    #[arg(long, short)]
    pub quiet: bool,
    /// Paths per block (a multiple of 1024); results do not depend on it
    #[arg(long, default_value_t = engine::DEFAULT_BLOCK, hide = true)]
    pub block: usize,
}

pub fn run(a: RunArgs) -> Result<()> {
    let mut sets = a.scenario.sets.clone();
    if let Some(p) = a.paths {
        sets.push(format!("simulation.paths={p}"));
    }
    if let Some(s) = a.seed {
        sets.push(format!("simulation.seed={s}"));
    }
    if a.block == 0 || a.block % crate::stats::CHUNK != 0 {
        return Err(Error::flag(
            "--block",
            format!("found {}, expected a positive multiple of 1024", a.block),
        ));
    }
    let loaded = scenario::load_file(&a.scenario.scenario, &sets)?;
    let model = Model::compile(&loaded.scenario);
    let started = SystemTime::now();
    let clock = Instant::now();

    let dir = ResultDir::create(&a.out, &model.name)?;
    let bar = if !a.quiet && std::io::stderr().is_terminal() {
        let b = ProgressBar::with_draw_target(Some(model.paths), ProgressDrawTarget::stderr());
        b.set_style(
            ProgressStyle::with_template(
                "{spinner} {msg} [{bar:30}] {pos}/{len} paths, {per_sec}, eta {eta}",
            )
            .expect("static template")
            .progress_chars("=> "),
        );
        b.set_message(model.name.clone());
        Some(b)
    } else {
        None
    };
    let progress = |done: u64| {
        if let Some(b) = &bar {
            b.set_position(done);
        }
    };

    let mut csv_out = if a.paths_csv {
        let f = std::fs::File::create(dir.path("paths.csv"))
            .map_err(|e| Error::io("cannot create paths.csv", e))?;
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(std::io::BufWriter::with_capacity(1 << 20, f));
        w.write_record(output::paths_header(&model))?;
        Some(w)
    } else {
        None
    };
    let mut record: Vec<String> = Vec::new();
    let mut sink = |path: u64, row: &[f64]| -> Result<()> {
        if let Some(w) = csv_out.as_mut() {
            record.clear();
            record.push(path.to_string());
            record.extend(row.iter().map(|x| x.to_string()));
            w.write_record(&record)?;
        }
        Ok(())
    };
    let stats = engine::run(
        &model,
        Options {
            threads: a.threads,
            block: a.block,
            sink: if a.paths_csv { Some(&mut sink) } else { None },
            progress: Some(&progress),
        },
    )?;
    if let Some(w) = csv_out.as_mut() {
        w.flush()
            .map_err(|e| Error::io("cannot write paths.csv", e))?;
    }
    drop(csv_out);
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let wall = clock.elapsed().as_secs_f64();

    let mut files = vec![
        "summary.csv",
        "periods.csv",
        "providers.csv",
        "manifest.json",
    ];
    if a.paths_csv {
        files.push("paths.csv");
    }
    let s = &loaded.scenario;
    let file = loaded.file.display().to_string();
    let manifest = Manifest {
        capsim_version: env!("CARGO_PKG_VERSION"),
        scenario: &s.name,
        scenario_file: file,
        scenario_sha256: &loaded.file_sha256,
        resolved_sha256: &loaded.resolved_sha256,
        overrides: &loaded.overrides,
        seed: s.simulation.seed,
        paths: s.simulation.paths,
        sampling: s.simulation.sampling.as_str(),
        policy: s.simulation.policy.as_str(),
        periods: s.periods,
        threads: stats.threads,
        block_paths: a.block,
        quantile_method: output::QUANTILE_METHOD,
        started_utc: output::utc_timestamp(started),
        wall_seconds: wall,
        files: files.clone(),
        resolved_scenario: &loaded.resolved_toml,
    };
    output::write_run_files(&dir, &model, &stats, &manifest)?;
    let target = dir.commit()?;

    if !a.quiet {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(
            out,
            "{}: {} paths x {} periods ({} from {}), seed {}, {} threads, {:.2} s",
            s.name,
            s.simulation.paths,
            s.periods,
            s.period.as_str(),
            s.start,
            s.simulation.seed,
            stats.threads,
            wall
        );
        let _ = write!(
            out,
            "{}",
            output::headline_table(&model, &stats, &s.currency)
        );
        let _ = writeln!(out, "wrote {}/ ({})", target.display(), files.join(", "));
    }
    Ok(())
}
