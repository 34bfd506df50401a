use super::run::sets_with;
use crate::engine::{self, Options};
use crate::error::{Error, Result};
use crate::model::Model;
use crate::output::ResultDir;
use crate::scenario;
use crate::sensitivity::{self, DriverJob, Param};
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct SensitivityArgs {
    /// Scenario file
    pub scenario: PathBuf,
    /// A parameter and its range, `key=lo:hi` (replaces the default set); repeatable
    #[arg(long = "param", value_name = "KEY=LO:HI")]
    pub params: Vec<String>,
    #[command(flatten)]
    pub set: super::SetArgs,
    #[command(flatten)]
    pub sim: super::SimArgs,
    #[arg(long, short)]
    pub quiet: bool,
}

fn parse_param(arg: &str) -> Result<Param> {
    let bad = || {
        Error::flag(
            &format!("--param {arg}"),
            "expected key=lo:hi with numbers lo and hi",
        )
    };
    let (key, v) = arg.split_once('=').ok_or_else(bad)?;
    let (lo, hi) = v.split_once(':').ok_or_else(bad)?;
    let (Ok(low), Ok(high)) = (lo.trim().parse::<f64>(), hi.trim().parse::<f64>()) else {
        return Err(bad());
    };
    Ok(Param {
        key: key.trim().to_string(),
        low,
        high,
    })
}

pub fn sensitivity(a: SensitivityArgs) -> Result<()> {
    let started = std::time::SystemTime::now();
    let sets = sets_with(&a.set.sets, a.sim.paths, a.sim.seed);
    let base = scenario::load_file(&a.scenario, &sets)?;
    let params: Vec<Param> = if a.params.is_empty() {
        sensitivity::default_params(&base.scenario)
    } else {
        a.params
            .iter()
            .map(|p| parse_param(p))
            .collect::<Result<_>>()?
    };
    // One bar over every run's paths: two per parameter, then the drivers'
    // run, each counted as the base's paths (a parameter that changes
    // `simulation.paths` makes the bar approximate, never past a run's end).
    let runs = 2 * params.len() as u64 + 1;
    let paths = base.scenario.simulation.paths;
    let bar = crate::runner::progress_bar(runs * paths, &base.scenario.name, !a.quiet);
    let shown = bar.as_ref();
    let at_run = |r: u64, what: &str| {
        if let Some(b) = shown {
            b.set_message(format!(
                "{}, run {} of {runs}: {what}",
                base.scenario.name,
                r + 1
            ));
            b.set_position(r * paths);
        }
        move |done: u64| {
            if let Some(b) = shown {
                b.set_position(r * paths + done.min(paths));
            }
        }
    };
    let mean_of = |r: u64, key: &str, v: f64| -> Result<(f64, f64)> {
        let mut s = sets.clone();
        s.push(format!("{key}={v}"));
        let l = scenario::load_file(&a.scenario, &s)?;
        let m = Model::compile(&l.scenario);
        let progress = at_run(r, key);
        let st =
            crate::runner::simulate(&m, a.sim.threads, &progress).map_err(|e| e.in_scenario(&l))?;
        Ok((
            st.path_metric(&m, "npv").expect("npv").mean,
            st.path_metric(&m, "economic").expect("economic").mean,
        ))
    };
    // Validate every low/high value before simulating.
    for p in &params {
        for v in [p.low, p.high] {
            let mut s = sets.clone();
            s.push(format!("{}={v}", p.key));
            scenario::load_file(&a.scenario, &s)?;
        }
    }
    let mut rows = Vec::new();
    for (i, p) in params.iter().enumerate() {
        let r = 2 * i as u64;
        let (lo_npv, _) = mean_of(r, &p.key, p.low)?;
        let (hi_npv, _) = mean_of(r + 1, &p.key, p.high)?;
        rows.push((p.clone(), lo_npv, hi_npv, (hi_npv - lo_npv).abs()));
    }
    rows.sort_by(|x, y| y.3.total_cmp(&x.3).then_with(|| x.0.key.cmp(&y.0.key)));
    let mut tw = crate::output::writer();
    tw.write_record([
        "parameter",
        "low_value",
        "high_value",
        "npv_at_low",
        "npv_at_high",
        "swing",
    ])?;
    for (p, lo, hi, sw) in &rows {
        tw.write_record([
            p.key.clone(),
            p.low.to_string(),
            p.high.to_string(),
            lo.to_string(),
            hi.to_string(),
            sw.to_string(),
        ])?;
    }

    // Drivers: one run, every path's drivers kept.
    let m = Model::compile(&base.scenario);
    let names = sensitivity::driver_names(&m, &base.scenario);
    let job = DriverJob {
        model: &m,
        drivers: names.len(),
    };
    let width = 2 + names.len();
    let mut cols: Vec<Vec<f64>> = vec![Vec::with_capacity(m.paths as usize); width];
    let mut sink = |_path: u64, row: &[f64]| -> Result<()> {
        for (c, v) in cols.iter_mut().zip(row) {
            c.push(*v);
        }
        Ok(())
    };
    let progress = at_run(runs - 1, "drivers");
    engine::run_job(
        &job,
        m.paths,
        Options {
            threads: a.sim.threads,
            sink: Some(&mut sink),
            progress: Some(&progress),
            ..Default::default()
        },
    )
    .map_err(|e| e.in_scenario(&base))?;
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let cols: Vec<&[f64]> = cols.iter().map(|c| &c[..]).collect();
    let rho = sensitivity::spearman_table(&cols[2..], &cols[..2], a.sim.threads);
    let mut drivers: Vec<(String, f64, f64)> = names
        .iter()
        .zip(rho)
        .map(|(n, r)| (n.clone(), r[0], r[1]))
        .filter(|(_, a, b)| !(a.is_nan() && b.is_nan()))
        .collect();
    drivers.sort_by(|x, y| y.1.abs().total_cmp(&x.1.abs()).then_with(|| x.0.cmp(&y.0)));
    let mut dw = crate::output::writer();
    dw.write_record(["driver", "rho_npv", "rho_economic"])?;
    for (n, a, b) in &drivers {
        dw.write_record([n.clone(), a.to_string(), b.to_string()])?;
    }

    let dir = ResultDir::create(&a.sim.out.join("sensitivity"), &m.name)?;
    dir.write("tornado.csv", &crate::output::finish(tw)?)?;
    dir.write("drivers.csv", &crate::output::finish(dw)?)?;
    let sim = &base.scenario.simulation;
    let mut prov = crate::output::Provenance::new("sensitivity", sim.seed, sim.paths, started);
    prov.scenarios.push(crate::output::ScenarioRef::of(&base));
    prov.details = serde_json::json!({
        "tornado_parameters": params.iter().map(|p| serde_json::json!({"key": p.key, "low": p.low, "high": p.high})).collect::<Vec<_>>(),
        "drivers": names,
    });
    dir.write("manifest.json", &prov.to_json()?)?;
    let target = dir.commit()?;
    if !a.quiet {
        let mut out = std::io::stdout().lock();
        let cur = &base.scenario.currency;
        let _ = writeln!(
            out,
            "tornado (mean npv at low / high; {} paths each)",
            m.paths
        );
        for (p, lo, hi, sw) in rows.iter().take(12) {
            let _ = writeln!(
                out,
                "  {:<48} {:>12} {:>12}  swing {}",
                p.key,
                crate::output::human(*lo, true, cur),
                crate::output::human(*hi, true, cur),
                crate::output::human(*sw, true, cur)
            );
        }
        let _ = writeln!(
            out,
            "drivers (Spearman rank correlation with npv, economic)"
        );
        for (n, a, b) in drivers.iter().take(12) {
            let _ = writeln!(out, "  {n:<48} {a:>7.3} {b:>7.3}");
        }
        let _ = writeln!(
            out,
            "wrote {}/ (tornado.csv, drivers.csv)",
            target.display()
        );
    }
    Ok(())
}
