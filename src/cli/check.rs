use super::ScenarioArgs;
use crate::error::{Error, Result};
use crate::scenario;
use std::io::Write;

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub scenario: ScenarioArgs,
    /// Number of paths (overrides simulation.paths, as in run)
    #[arg(long, allow_negative_numbers = true, value_parser = super::paths_arg)]
    pub paths: Option<u64>,
    /// Random seed (overrides simulation.seed, as in run)
    #[arg(long, allow_negative_numbers = true, value_parser = super::seed_arg)]
    pub seed: Option<u64>,
}

pub fn check(a: CheckArgs) -> Result<()> {
    // (`--paths` and `--seed` as `run` takes them: a run's command line
    // with `check` for `run` checks what that run would simulate.)
    let sets = super::run::sets_with(&a.scenario.set.sets, a.paths, a.seed);
    let loaded = scenario::load_file(&a.scenario.scenario, &sets)?;
    let with = if loaded.overrides.is_empty() {
        String::new()
    } else {
        format!(" with {}", loaded.overrides.join(", "))
    };
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "# {}{with}: valid. Resolved scenario (every default filled in), sha256 {}",
        a.scenario.scenario.display(),
        loaded.resolved_sha256
    )
    .and_then(|_| {
        for w in scenario::warnings_of(&loaded) {
            writeln!(out, "# warning: {w}")?;
        }
        Ok(())
    })
    .and_then(|_| out.write_all(loaded.resolved_toml.as_bytes()))
    .map_err(|e| Error::io("writing to stdout", e))
}
