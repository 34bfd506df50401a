use super::ScenarioArgs;
use crate::error::{Error, Result};
use crate::scenario;
use std::io::Write;

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub scenario: ScenarioArgs,
}

pub fn check(a: CheckArgs) -> Result<()> {
    let loaded = scenario::load_file(&a.scenario.scenario, &a.scenario.set.sets)?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "# {}: valid. Resolved scenario (every default filled in), sha256 {}",
        a.scenario.scenario.display(),
        loaded.resolved_sha256
    )
    .and_then(|_| {
        for w in scenario::warnings(&loaded.scenario) {
            writeln!(out, "# warning: {w}")?;
        }
        Ok(())
    })
    .and_then(|_| out.write_all(loaded.resolved_toml.as_bytes()))
    .map_err(|e| Error::io("writing to stdout", e))
}
