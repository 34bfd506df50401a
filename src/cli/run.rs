use super::ScenarioArgs;
use crate::engine;
use crate::error::{Error, Result};
use crate::output::focus::FocusStat;
use crate::runner::{self, Settings};
use crate::scenario;

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub scenario: ScenarioArgs,
    #[command(flatten)]
    pub sim: super::SimArgs,
    /// Also write paths.csv: every per-path metric for every path
    #[arg(long)]
    pub paths_csv: bool,
    /// Also write focus.csv: spend per period, provider and charge as FOCUS 1.2 rows
    #[arg(long)]
    pub focus: bool,
    /// Statistic of spend that focus.csv reports
    #[arg(long, value_enum, default_value = "mean", requires = "focus")]
    pub focus_stat: FocusStat,
    /// Also simulate the other allocation policy on the same paths and report
    /// policy_regret = priority's economic cost minus optimal's
    #[arg(long)]
    pub regret: bool,
    /// Also draw charts/ (SVG: spend and demand per period, providers,
    /// totals; with --shard, into the merged result)
    #[arg(long)]
    pub charts: bool,
    /// No progress bar and no summary table
    #[arg(long, short)]
    pub quiet: bool,
    /// Simulate only part I of N of the paths (e.g. 3/8, one per job of a
    /// batch scheduler) into <out>/<name>.shard-I-of-N/; `capsim merge`
    /// joins the N parts into the result one run would write
    #[arg(long, value_name = "I/N", allow_hyphen_values = true)]
    pub shard: Option<crate::shard::Shard>,
    /// Paths per block (a multiple of 1024); results do not depend on it
    #[arg(long, default_value_t = engine::DEFAULT_BLOCK, hide = true)]
    pub block: usize,
}

/// `--paths` and `--seed` become overrides, so they are validated like the file.
pub fn sets_with(sets: &[String], paths: Option<u64>, seed: Option<u64>) -> Vec<String> {
    let mut sets = sets.to_vec();
    if let Some(p) = paths {
        sets.push(format!("simulation.paths={p}"));
    }
    if let Some(s) = seed {
        sets.push(format!("simulation.seed={s}"));
    }
    sets
}

pub fn check_block(block: usize) -> Result<()> {
    if block == 0 || block % crate::stats::CHUNK != 0 {
        return Err(Error::flag(
            "--block",
            format!("found {block}, expected a positive multiple of 1024"),
        ));
    }
    Ok(())
}

pub fn run(a: RunArgs) -> Result<()> {
    check_block(a.block)?;
    let sets = sets_with(&a.scenario.set.sets, a.sim.paths, a.sim.seed);
    let loaded = scenario::load_file(&a.scenario.scenario, &sets)?;
    super::warn([&loaded], false);
    let settings = Settings {
        out: a.sim.out,
        threads: a.sim.threads,
        block: a.block,
        paths_csv: a.paths_csv,
        focus: a.focus.then_some(a.focus_stat),
        regret: a.regret,
        progress: !a.quiet,
        charts: a.charts,
    };
    if let Some(part) = a.shard {
        let o = runner::run_shard(&loaded, &settings, part)?;
        if !a.quiet {
            let s = &loaded.scenario;
            say!(
                "{}: {part}: paths {}..{} ({} of {}) x {}, seed {}, {}, {:.2} s",
                s.name,
                o.span.start,
                o.span.end,
                o.span.end - o.span.start,
                s.simulation.paths,
                crate::output::count(s.periods as u64, "period"),
                s.simulation.seed,
                crate::output::count(o.threads as u64, "thread"),
                o.wall_seconds
            );
            say!("{}", crate::shard::how_to_merge(&o.dir, part));
        }
        return Ok(());
    }
    let outcome = runner::run_scenario(&loaded, &settings)?;
    if !a.quiet {
        runner::print_report(&mut std::io::stdout().lock(), &loaded, &outcome)
            .map_err(|e| Error::io("writing to stdout", e))?;
    }
    Ok(())
}
