use super::run::sets_with;
use crate::error::{Error, Result};
use crate::model::Model;
use crate::output::ResultDir;
use crate::scenario;
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct SweepArgs {
    /// Scenario file
    pub scenario: PathBuf,
    /// A swept parameter `key=lo:hi:steps`, or a fixed override `key=value`; repeatable
    #[arg(long = "set", value_name = "KEY=LO:HI:STEPS", required = true)]
    pub sets: Vec<String>,
    #[command(flatten)]
    pub sim: super::SimArgs,
    #[arg(long, short)]
    pub quiet: bool,
}

/// A swept parameter: its dotted path and grid values.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    pub key: String,
    pub values: Vec<f64>,
}

/// `key=lo:hi:steps` -> an axis; anything else is not a sweep.
pub fn parse_axis(arg: &str) -> Option<Result<Axis>> {
    let (key, v) = arg.split_once('=')?;
    let parts: Vec<&str> = v.split(':').collect();
    if parts.len() != 3 {
        return None;
    }
    let bad = |m: String| Some(Err(Error::flag(&format!("--set {arg}"), m)));
    let (Ok(lo), Ok(hi)) = (
        parts[0].trim().parse::<f64>(),
        parts[1].trim().parse::<f64>(),
    ) else {
        return bad("expected numbers in lo:hi:steps".into());
    };
    let Ok(steps) = parts[2].trim().parse::<usize>() else {
        return bad(format!(
            "found steps \"{}\", expected a whole number >= 1",
            parts[2]
        ));
    };
    if steps == 0 || !lo.is_finite() || !hi.is_finite() {
        return bad("expected finite lo and hi and steps >= 1".into());
    }
    let values = (0..steps)
        .map(|i| {
            let v = if steps == 1 {
                lo
            } else {
                lo + (hi - lo) * i as f64 / (steps - 1) as f64
            };
            // Trim binary noise so overrides and CSV cells read cleanly.
            (v * 1e12).round() / 1e12
        })
        .collect();
    Some(Ok(Axis {
        key: key.trim().to_string(),
        values,
    }))
}

pub fn sweep(a: SweepArgs) -> Result<()> {
    let started = std::time::SystemTime::now();
    let mut axes = Vec::new();
    let mut fixed = Vec::new();
    for s in &a.sets {
        match parse_axis(s) {
            Some(ax) => axes.push(ax?),
            None => fixed.push(s.clone()),
        }
    }
    if axes.is_empty() {
        return Err(Error::flag(
            "--set",
            "found no swept parameter, expected at least one --set key=lo:hi:steps",
        ));
    }
    let fixed = sets_with(&fixed, a.sim.paths, a.sim.seed);
    let points: usize = axes.iter().map(|x| x.values.len()).product();
    if points > 100_000 {
        return Err(Error::flag(
            "--set",
            format!("found a grid of {points} points, expected at most 100000"),
        ));
    }
    // Validate every grid point before simulating any.
    let mut grid = Vec::with_capacity(points);
    for i in 0..points {
        let mut rem = i;
        let mut coords = vec![0.0; axes.len()];
        for (j, ax) in axes.iter().enumerate().rev() {
            coords[j] = ax.values[rem % ax.values.len()];
            rem /= ax.values.len();
        }
        let mut sets = fixed.clone();
        for (ax, v) in axes.iter().zip(&coords) {
            sets.push(format!("{}={v}", ax.key));
        }
        grid.push((coords, scenario::load_file(&a.scenario, &sets)?));
    }
    let name = grid[0].1.scenario.name.clone();
    let mut w = crate::output::writer();
    let mut header: Vec<String> = axes.iter().map(|x| x.key.clone()).collect();
    header.extend(["metric", "mean", "stderr", "p5", "p50", "p95"].map(String::from));
    w.write_record(&header)?;
    let mut stdout = std::io::stdout().lock();
    // One bar over every point's paths (a point may set its own).
    let total: u64 = grid.iter().map(|(_, l)| l.scenario.simulation.paths).sum();
    let bar = crate::runner::progress_bar(total, &name, !a.quiet);
    let mut offset = 0;
    for (i, (coords, l)) in grid.iter().enumerate() {
        let m = Model::compile(&l.scenario);
        if let Some(b) = &bar {
            b.set_message(format!("{name}, point {} of {points}", i + 1));
        }
        let progress = |done: u64| {
            if let Some(b) = &bar {
                b.set_position(offset + done);
            }
        };
        let st =
            crate::runner::simulate(&m, a.sim.threads, &progress).map_err(|e| e.in_scenario(l))?;
        offset += m.paths;
        for (k, metric) in m.layout.path_names.iter().enumerate() {
            let x = &st.path[k];
            let mut row: Vec<String> = coords.iter().map(|v| v.to_string()).collect();
            row.push(metric.clone());
            for v in [x.mean, x.stderr, x.q(0.05), x.q(0.5), x.q(0.95)] {
                row.push(v.to_string());
            }
            w.write_record(&row)?;
        }
        if !a.quiet {
            let npv = st.path_metric(&m, "npv").expect("npv");
            let pt: Vec<String> = axes
                .iter()
                .zip(coords)
                .map(|(ax, v)| format!("{}={v}", ax.key))
                .collect();
            let cur = &l.scenario.currency;
            let line = format!(
                "{:<50} npv {} +- {}",
                pt.join(" "),
                crate::output::human(npv.mean, true, cur),
                crate::output::human(npv.stderr, true, cur)
            );
            // Above the bar, which is redrawn below it.
            crate::runner::above(&bar, || {
                let _ = writeln!(stdout, "{line}");
            });
        }
    }
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let dir = ResultDir::create(&a.sim.out.join("sweep"), &name)?;
    dir.write("sweep.csv", &crate::output::finish(w)?)?;
    let sim = &grid[0].1.scenario.simulation;
    let mut prov = crate::output::Provenance::new("sweep", sim.seed, sim.paths, started);
    prov.scenarios
        .push(crate::output::ScenarioRef::of(&grid[0].1));
    prov.details = serde_json::json!({
        "axes": axes.iter().map(|x| serde_json::json!({"key": x.key, "values": x.values})).collect::<Vec<_>>(),
        "fixed_overrides": fixed,
        "grid_points": points,
    });
    dir.write("manifest.json", &prov.to_json()?)?;
    let target = dir.commit()?;
    if !a.quiet {
        let _ = writeln!(
            stdout,
            "wrote {}/sweep.csv ({points} grid points)",
            target.display()
        );
    }
    Ok(())
}
