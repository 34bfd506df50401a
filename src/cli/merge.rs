use crate::error::{Error, Result};
use crate::{runner, shard};
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// The shard folders of one run, comparison, batch, sweep or
    /// sensitivity analysis (`capsim run`, `compare`, `batch`, `sweep` or
    /// `sensitivity ... --shard I/N` wrote them), all N, in any order
    #[arg(required = true, value_name = "SHARD")]
    pub shards: Vec<PathBuf>,
    /// Output folder
    #[arg(long, default_value = "results")]
    pub out: PathBuf,
    /// Threads for the summaries and a sensitivity's ranks (default: all cores)
    #[arg(long, default_value_t = 0, value_parser = super::threads_arg)]
    pub threads: usize,
    /// Also draw charts/ (SVG: spend and demand per period, providers, totals;
    /// a run's or a batch's shards)
    #[arg(long)]
    pub charts: bool,
    /// No summary table
    #[arg(long, short)]
    pub quiet: bool,
}

pub fn merge(a: MergeArgs) -> Result<()> {
    if a.shards
        .first()
        .is_some_and(|d| super::sweep::is_sweep_shard(d))
    {
        // A sweep's shards: <out>/sweep/<name>/, as `sweep` writes it.
        if a.charts {
            return Err(Error::flag(
                "--charts",
                "found a sweep's shards, expected a run's or a batch's: charts are drawn for a run's result",
            ));
        }
        return super::sweep::merge_shards(&a.shards, &a.out, a.threads, a.quiet);
    }
    if a.shards
        .first()
        .is_some_and(|d| super::sensitivity::is_sensitivity_shard(d))
    {
        // A sensitivity analysis's shards: <out>/sensitivity/<name>/.
        if a.charts {
            return Err(Error::flag(
                "--charts",
                "found a sensitivity analysis's shards, expected a run's or a batch's: charts are drawn for a run's result",
            ));
        }
        return super::sensitivity::merge_shards(&a.shards, &a.out, a.threads, a.quiet);
    }
    if a.shards
        .first()
        .is_some_and(|d| super::batch::is_batch_shard(d))
    {
        // A batch's shards: every scenario's folder and the index in
        // <out>, as `batch` writes them.
        return super::batch::merge_shards(&a.shards, &a.out, a.threads, a.charts, a.quiet);
    }
    if a.shards.first().is_some_and(|d| shard::is_compare_shard(d)) {
        // A comparison's shards: its folders under <out>/compare/, as
        // `compare` writes them.
        if a.charts {
            return Err(Error::flag(
                "--charts",
                "found a comparison's shards, expected a run's or a batch's: charts are drawn for a run's result",
            ));
        }
        let m = shard::merge_compare(&a.shards)?;
        let sides = super::compare::Sides {
            base: &m.base,
            base_model: &m.base_model,
            alts: &m.alts,
            alt_models: &m.alt_models,
        };
        return super::compare::write_comparisons(
            &sides,
            &m.comparisons,
            &m.shards,
            &a.out,
            a.quiet,
        );
    }
    let (loaded, outcome) = shard::merge(&a.shards, &a.out, a.threads, a.charts)?;
    if !a.quiet {
        let mut out = std::io::stdout().lock();
        runner::print_report(&mut out, &loaded, &outcome)
            .map_err(|e| Error::io("writing to stdout", e))?;
    }
    Ok(())
}
