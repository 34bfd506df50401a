use super::ScenarioArgs;
use crate::error::Result;
use crate::scenario;

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub scenario: ScenarioArgs,
}

pub fn check(a: CheckArgs) -> Result<()> {
    let loaded = scenario::load_file(&a.scenario.scenario, &a.scenario.sets)?;
    println!(
        "# {}: valid. Resolved scenario (every default filled in), sha256 {}",
        a.scenario.scenario.display(),
        loaded.resolved_sha256
    );
    print!("{}", loaded.resolved_toml);
    Ok(())
}
