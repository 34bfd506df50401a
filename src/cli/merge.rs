use crate::error::{Error, Result};
use crate::{runner, shard};
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// The shard folders of one run (`capsim run --shard I/N` wrote them), all N, in any order
    #[arg(required = true, value_name = "SHARD")]
    pub shards: Vec<PathBuf>,
    /// Output folder
    #[arg(long, default_value = "results")]
    pub out: PathBuf,
    /// Threads for the summaries (default: all cores)
    #[arg(long, default_value_t = 0, value_parser = super::threads_arg)]
    pub threads: usize,
    /// Also draw charts/ (SVG: spend and demand per period, providers, totals)
    #[arg(long)]
    pub charts: bool,
    /// No summary table
    #[arg(long, short)]
    pub quiet: bool,
}

pub fn merge(a: MergeArgs) -> Result<()> {
    let (loaded, outcome) = shard::merge(&a.shards, &a.out, a.threads, a.charts)?;
    if !a.quiet {
        let mut out = std::io::stdout().lock();
        runner::print_report(&mut out, &loaded, &outcome)
            .map_err(|e| Error::io("writing to stdout", e))?;
    }
    Ok(())
}
