//! `capsim trace` tells a path's story with that path's numbers.

use crate::util::*;
use std::process::Command;

#[test]
fn trace_cash_sums_to_the_paths_csv_cash() {
    let dir = tempfile::tempdir().unwrap();
    let scen = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/golden.toml");
    let o = Command::new(bin())
        .args([
            "run",
            scen,
            "--paths",
            "1500",
            "--seed",
            "9",
            "--paths-csv",
            "--quiet",
            "--out",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(o.status.success());
    let paths = NumericCsv::read(&dir.path().join("golden/paths.csv"));
    let cash_col = paths.col("cash");
    for k in [0usize, 7, 1234] {
        let row = &paths.rows[k];
        assert_eq!(row[0] as usize, k);
        let o = Command::new(bin())
            .args([
                "trace",
                scen,
                "--path",
                &k.to_string(),
                "--seed",
                "9",
                "--csv",
            ])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let text = String::from_utf8(o.stdout).unwrap();
        let mut r = csv::Reader::from_reader(text.as_bytes());
        let h = r.headers().unwrap().clone();
        assert_eq!(
            &h.iter().take(3).collect::<Vec<_>>(),
            &["period", "date", "cash"]
        );
        let cash: f64 = r
            .records()
            .map(|rec| rec.unwrap()[2].parse::<f64>().unwrap())
            .sum();
        assert!(
            close(cash, row[cash_col], 1e-12),
            "path {k}: {cash} vs {}",
            row[cash_col]
        );
    }
}

#[test]
fn trace_records_rules_takes_and_totals() {
    let m = model(include_str!("data/golden.toml"));
    let tr = capsim::trace::trace(&m, 3);
    assert_eq!(tr.periods.len(), m.periods);
    // The path's totals are exactly what the engine computes for path 3.
    let one = {
        let mut s = capsim::kernel::Scratch::new(&m);
        let mut out = vec![0.0; m.layout.n_path()];
        let mut per = vec![0.0; m.periods * m.layout.n_period()];
        capsim::kernel::simulate_path(
            &m,
            3,
            &mut s,
            &mut out,
            &mut per,
            &mut capsim::kernel::NoObserver,
        );
        out
    };
    assert_eq!(tr.totals, one);
    for p in &tr.periods {
        // Takes add up to what each provider served; demand = served + unmet.
        let taken: f64 = p.takes.iter().map(|t| t.gpus).sum();
        let served: f64 = p.served.iter().sum();
        assert!(close(taken, served, 1e-12));
        let demand: f64 = p.demand.iter().sum();
        let unmet: f64 = p.unmet.iter().sum();
        assert!(close(demand, served + unmet, 1e-12));
        // The API (exclusive to Azure until AGI) only ever takes from Azure before AGI.
        if p.rule_active[0] {
            assert!(p
                .takes
                .iter()
                .filter(|t| t.workload == 0)
                .all(|t| t.provider == 0));
        }
        assert!(p.takes.iter().all(|t| (1..=3).contains(&t.pass)));
    }
    let cash: f64 = tr.periods.iter().map(|p| p.cash).sum();
    assert!(close(cash, tr.totals[0], 1e-12));
}

#[test]
fn trace_story_is_readable() {
    let scen = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/golden.toml");
    let o = Command::new(bin())
        .args(["trace", scen, "--path", "3"])
        .output()
        .unwrap();
    assert!(o.status.success());
    let text = String::from_utf8(o.stdout).unwrap();
    for needle in [
        "AGI:",
        "period 0 (2026-01)",
        "demand",
        "pools",
        "rules",
        "take",
        "(pass 3)",
        "cash",
        "first_refusal#1",
    ] {
        assert!(text.contains(needle), "missing {needle}:\n{text}");
    }
    assert!(!text.contains("not among"), "{text}");
    // A path past the scenario's paths is traced, and says it is not one
    // of a run's (it read like one).
    let o = Command::new(bin())
        .args([
            "trace",
            scen,
            "--path",
            "5000",
            "--set",
            "simulation.paths=1000",
        ])
        .output()
        .unwrap();
    assert!(o.status.success());
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(
        text.contains(
            "path 5000 of golden (seed 42)\n(not among a run's 1000 paths, 0 to 999: a run with \
             --paths 5001 or more includes it)\n"
        ),
        "{text}"
    );
    // Past any run's paths: said so (the suggested --paths once overflowed:
    // "--paths 0 or more", or a panic in a debug build).
    let o = Command::new(bin())
        .args(["trace", scen, "--path", "18446744073709551615"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(
        text.contains(
            "(not among any run's paths: a run has at most 4000000000, 0 to 3999999999)\n"
        ),
        "{text}"
    );
}

#[test]
fn the_worked_example_in_docs_agreement_md_holds() {
    let text = include_str!("../docs/agreement-example.toml");
    let m = model(text);
    let tr = capsim::trace::trace(&m, 4);
    assert_eq!(tr.agi_period, Some(2));
    let name = |n: &str| m.layout.path_names.iter().position(|x| x == n).unwrap();
    assert_eq!(tr.totals[name("true_up")], 2_452_200.0);
    assert_eq!(tr.totals[name("cash.azure")], 6_000_000.0);
    assert_eq!(tr.totals[name("cash")], 8_638_950.0);
    assert!(tr.periods[0].rule_taken[1] && !tr.periods[1].rule_taken[1]);
    assert!(tr.periods[2].rule_active[0] && !tr.periods[3].rule_active[0]);
    let doc = include_str!("../docs/agreement.md");
    assert!(doc.contains("total cash = 8638950") || doc.contains("8638950"));
}

/// A scenario that overflows: `run` refuses it and names a path that
/// overflows, with the `trace` command for it; that trace tells the story
/// whole (the overflow is what it shows) and ends with a warning naming
/// the quantity and the first period where it overflows.
#[test]
fn an_overflowing_path_is_named_by_run_and_traced_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let scen = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/baseline.toml");
    let set = "workload.research.jump_stdev=1200";
    let o = Command::new(bin())
        .args(["run", scen, "--set", set, "--paths", "500", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    let hint = err
        .lines()
        .find_map(|l| l.strip_prefix("  hint: path "))
        .unwrap_or_else(|| panic!("no path named: {err}"));
    let k = hint.split(' ').next().unwrap();
    assert!(
        hint.contains(&format!("`capsim trace {scen} --set {set} --path {k}`")),
        "{err}"
    );
    for csv in [false, true] {
        let mut c = Command::new(bin());
        c.args(["trace", scen, "--set", set, "--path", k]);
        if csv {
            c.arg("--csv");
        }
        let o = c.output().unwrap();
        let (out, err) = (
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr),
        );
        assert_eq!(o.status.code(), Some(0), "{err}");
        assert!(out.lines().count() > 28, "{out}");
        assert!(!out.contains("infT") && !out.contains("NaNT"), "{out}");
        let warning = err
            .lines()
            .find(|l| l.starts_with(&format!("warning: path {k} overflows: ")))
            .unwrap_or_else(|| panic!("{err}"));
        assert!(
            warning.contains("demand of research is ") && warning.contains(" in period "),
            "{warning}"
        );
    }
    // A path that does not overflow: no such warning.
    let o = Command::new(bin())
        .args(["trace", scen, "--path", "0"])
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&o.stderr).contains("overflows"));
}

/// The `trace` command an overflow names runs as written in a shell, from
/// a scenario whose file name has spaces, a quote and an accent.
#[test]
fn the_named_trace_command_runs_in_a_shell() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("my plans");
    std::fs::create_dir(&folder).unwrap();
    let file = folder.join("it's é.toml");
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/baseline.toml"),
        &file,
    )
    .unwrap();
    let o = Command::new(bin())
        .arg("run")
        .arg(&file)
        .args([
            "--set",
            "workload.research.jump_stdev=1200",
            "--paths",
            "200",
        ])
        .args(["--set", r#"rule.0.providers=["azure"]"#, "--out"])
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    let command = err
        .split("`capsim ")
        .nth(1)
        .and_then(|r| r.split('`').next())
        .unwrap_or_else(|| panic!("{err}"));
    let o = Command::new("sh")
        .arg("-c")
        .arg(format!("'{}' {command}", bin()))
        .output()
        .unwrap();
    let (out, err) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    assert_eq!(o.status.code(), Some(0), "{command}: {err}");
    assert!(out.starts_with("path "), "{out}");
    assert!(err.contains(" overflows: demand of research is "), "{err}");
}
