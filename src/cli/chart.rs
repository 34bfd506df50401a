use crate::error::{Error, Result};
use crate::output::charts;
use crate::scenario;
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub struct ChartArgs {
    /// Result folders (written by run, merge or batch), a batch's OUT
    /// folder (each of its scenarios' folders and its index chart), a
    /// comparison's folder (its comparison chart), a sweep's (its sweep
    /// chart) or a sensitivity analysis's (its tornado chart)
    #[arg(required = true, value_name = "RESULT")]
    pub results: Vec<PathBuf>,
}

/// Draws `charts/` in each result folder from its CSV files; the scenario's
/// name and currency come from its manifest. A batch's folder (its
/// `index_manifest.json`) stands for its scenarios' result folders and its
/// index chart.
pub fn chart(a: ChartArgs) -> Result<()> {
    for dir in &a.results {
        if !dir.join("manifest.json").exists() && dir.join(BATCH_MANIFEST).exists() {
            chart_batch(dir)?;
            continue;
        }
        if let Some((command, currency)) = many_runs_of(dir) {
            let out = match command {
                ManyRuns::Sweep => charts::write_sweep_chart(&dir.join("sweep.csv"), &currency)?,
                ManyRuns::Sensitivity => {
                    charts::write_tornado_chart(&dir.join("tornado.csv"), &currency)?
                }
                ManyRuns::Compare { base, alt } => {
                    let file = dir.join("comparison.csv");
                    charts::write_compare_chart(&file, &base, &alt, &currency)?
                }
            };
            say!("wrote {}", out.display());
            continue;
        }
        chart_one(dir)?;
    }
    Ok(())
}

/// A command of several runs whose folder `chart` draws.
enum ManyRuns {
    Sweep,
    Sensitivity,
    Compare { base: String, alt: String },
}

/// The command (a sweep, a sensitivity analysis or a comparison, as its
/// manifest says) whose folder `dir` is, and its currency; `None` for
/// any other folder.
fn many_runs_of(dir: &Path) -> Option<(ManyRuns, String)> {
    let bytes = std::fs::read(dir.join("manifest.json")).ok()?;
    let m: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    if let (Some(base), Some(alt)) = (m["base"].as_str(), m["alt"].as_str()) {
        let currency = m["currency"].as_str().unwrap_or("USD").to_string();
        let (base, alt) = (base.to_string(), alt.to_string());
        return Some((ManyRuns::Compare { base, alt }, currency));
    }
    let command = match m["command"].as_str()? {
        "sweep" => ManyRuns::Sweep,
        "sensitivity" => ManyRuns::Sensitivity,
        _ => return None,
    };
    let currency = m["details"]["currency"].as_str().unwrap_or("USD");
    Some((command, currency.to_string()))
}

/// The manifest `batch` writes beside `index.csv`.
const BATCH_MANIFEST: &str = "index_manifest.json";

fn chart_one(dir: &Path) -> Result<String> {
    let (name, currency) = scenario_of(dir)?;
    let out = charts::write_charts(dir, &name, &currency)?;
    say!("wrote {}/ ({})", out.display(), charts::CHARTS.join(", "));
    Ok(currency)
}

/// Every result folder a batch wrote (the scenarios its manifest lists),
/// then its index chart in the benchmark's currency.
fn chart_batch(dir: &Path) -> Result<()> {
    let file = dir.join(BATCH_MANIFEST);
    let bad = |message: String| Error::file(&file, message);
    let bytes = std::fs::read(&file).map_err(|e| bad(format!("cannot read it ({e})")))?;
    let m: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| bad(format!("not a capsim manifest: {e}")))?;
    let benchmark = m["details"]["benchmark"].as_str();
    let names: Option<Vec<&str>> = m["scenarios"]
        .as_array()
        .and_then(|v| v.iter().map(|s| s["name"].as_str()).collect());
    let (Some(benchmark), Some(names)) = (benchmark, names) else {
        return Err(bad(
            "expected a batch's manifest: its scenarios' names and its benchmark".to_string(),
        ));
    };
    let mut currency = None;
    for name in names {
        let c = chart_one(&dir.join(name))?;
        if name == benchmark {
            currency = Some(c);
        }
    }
    let currency = currency.ok_or_else(|| {
        bad(format!(
            "found no result folder of the benchmark \"{benchmark}\" among its scenarios"
        ))
    })?;
    let out = charts::write_index_chart(&dir.join("index.csv"), benchmark, &currency)?;
    say!("wrote {}", out.display());
    Ok(())
}

fn scenario_of(dir: &Path) -> Result<(String, String)> {
    let file = dir.join("manifest.json");
    let bad = |message: String| Error::file(&file, message);
    let bytes = std::fs::read(&file).map_err(|e| {
        // A folder of result folders (`results/`, `--out` of run): name them.
        let mut inside: Vec<String> = std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|d| d.path().join("manifest.json").is_file())
            .map(|d| crate::error::quoted(&d.path().display().to_string()))
            .collect();
        inside.sort();
        // A file of a result folder (`chart results/baseline/summary.csv`):
        // name the folder.
        let holder = dir
            .parent()
            .filter(|p| dir.is_file() && p.join("manifest.json").is_file());
        let hint = if let Some(p) = holder {
            format!(
                "; it is a file of the result folder {}: capsim chart {}",
                p.display(),
                crate::error::quoted(&p.display().to_string())
            )
        } else if inside.is_empty() {
            String::new()
        } else {
            format!(
                "; it holds result folders: capsim chart {}",
                inside.join(" ")
            )
        };
        bad(format!(
            "cannot read it ({e}); expected a result folder written by capsim run, merge or \
             batch{hint}"
        ))
    })?;
    let m: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| bad(format!("not a capsim manifest: {e}")))?;
    let resolved = m["resolved_scenario"].as_str().ok_or_else(|| {
        // What the folder is instead: its manifest's command.
        let what = match &m["command"] {
            serde_json::Value::String(c) => format!("a {c}'s"),
            _ => "not a run's".to_string(),
        };
        bad(format!(
            "no `resolved_scenario`: {what} manifest, expected a run's (charts are drawn for \
             the results of run, merge, batch, compare, sweep and sensitivity)"
        ))
    })?;
    let loaded = scenario::load_str(&file, resolved, &[])
        .map_err(|e| bad(format!("its resolved scenario does not load: {e}")))?;
    Ok((loaded.scenario.name, loaded.scenario.currency))
}
