use crate::error::{Error, Result};
use crate::output::charts;
use crate::scenario;
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub struct ChartArgs {
    /// Result folders (written by run, merge or batch)
    #[arg(required = true, value_name = "RESULT")]
    pub results: Vec<PathBuf>,
}

/// Draws `charts/` in each result folder from its CSV files; the scenario's
/// name and currency come from its manifest.
pub fn chart(a: ChartArgs) -> Result<()> {
    for dir in &a.results {
        let (name, currency) = scenario_of(dir)?;
        let out = charts::write_charts(dir, &name, &currency)?;
        say!("wrote {}/ ({})", out.display(), charts::CHARTS.join(", "));
    }
    Ok(())
}

fn scenario_of(dir: &Path) -> Result<(String, String)> {
    let file = dir.join("manifest.json");
    let bad = |message: String| Error::file(&file, message);
    let bytes = std::fs::read(&file).map_err(|e| {
        bad(format!(
            "cannot read it ({e}); expected a result folder written by capsim run, merge or batch"
        ))
    })?;
    let m: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| bad(format!("not a capsim manifest: {e}")))?;
    let resolved = m["resolved_scenario"].as_str().ok_or_else(|| {
        // What the folder is instead: a comparison's manifest names its
        // base and alternative, the others their command.
        let what = match (&m["base"], &m["command"]) {
            (serde_json::Value::String(_), _) => "a comparison's".to_string(),
            (_, serde_json::Value::String(c)) => format!("a {c}'s"),
            _ => "not a run's".to_string(),
        };
        bad(format!(
            "no `resolved_scenario`: {what} manifest, expected a run's (charts are drawn for \
             the results of run, merge and batch)"
        ))
    })?;
    let loaded = scenario::load_str(&file, resolved, &[])
        .map_err(|e| bad(format!("its resolved scenario does not load: {e}")))?;
    Ok((loaded.scenario.name, loaded.scenario.currency))
}
