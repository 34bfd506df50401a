//! Finance workflows: compare, batch, sweep, sensitivity and the FOCUS export.

use crate::util::*;
use capsim::compare;
use capsim::engine::Options;
use capsim::model::Model;
use std::path::Path;
use std::process::Command;
use std::process::Output;

const GOLDEN: &str = include_str!("data/golden.toml");

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn capsim(args: &[&str]) -> std::process::Output {
    Command::new(bin()).args(args).output().unwrap()
}

/// The golden scenario named `name`.
fn named(name: &str) -> String {
    GOLDEN.replace("name = \"golden\"", &format!("name = \"{name}\""))
}

/// A `lib` folder in `dir` holding `a.toml`, the golden scenario as the
/// benchmark (`baseline`).
fn library(dir: &Path) -> std::path::PathBuf {
    let lib = dir.join("lib");
    std::fs::create_dir(&lib).unwrap();
    write(&lib, "a.toml", &named("baseline"));
    lib
}

fn csv_rows(p: &Path) -> Vec<Vec<String>> {
    let mut r = csv::Reader::from_path(p).unwrap();
    let mut out = vec![r.headers().unwrap().iter().map(String::from).collect()];
    for rec in r.records() {
        out.push(rec.unwrap().iter().map(String::from).collect());
    }
    out
}

#[test]
fn a_scenario_compared_with_itself_differs_by_exactly_zero() {
    let m = model(GOLDEN);
    let c = compare::compare(&m, &m, Options::default()).unwrap();
    assert!(!c.metrics.is_empty() && !c.periods.is_empty());
    for d in &c.metrics {
        assert_eq!(d.diff_mean, 0.0, "{}", d.metric);
        assert_eq!(d.diff_stderr, 0.0, "{}", d.metric);
        assert_eq!(d.p_alt_lower, 0.0);
        assert_eq!(d.base_mean, d.alt_mean);
    }
    for p in &c.periods {
        assert_eq!(p.diff_mean, 0.0);
    }
}

#[test]
fn paired_differences_match_separate_runs_and_beat_independent_error() {
    let base = model(GOLDEN);
    let alt = Model::compile(&load_with(GOLDEN, &["provider.azure.price=2.0"]).scenario);
    let c = compare::compare(&base, &alt, Options::default()).unwrap();
    let (_, sb) = run(GOLDEN);
    let sa = run_model(&alt, 2, 1024);
    for name in ["cash", "npv", "economic"] {
        let d = c.metric(name).unwrap();
        let (b, a) = (
            sb.path_metric(&base, name).unwrap(),
            sa.path_metric(&alt, name).unwrap(),
        );
        assert!(close(d.base_mean, b.mean, 1e-12) && close(d.alt_mean, a.mean, 1e-12));
        assert!(close(d.diff_mean, a.mean - b.mean, 1e-9));
        assert!(d.diff_ci_low < d.diff_mean && d.diff_mean < d.diff_ci_high);
        assert!(
            d.diff_stderr < d.independent_stderr / 3.0,
            "{name}: pairing must reduce variance"
        );
        let want_indep = (b.stderr.powi(2) + a.stderr.powi(2)).sqrt();
        assert!(close(d.independent_stderr, want_indep, 1e-9));
    }
    // A cheaper Azure lowers NPV on most paths.
    assert!(c.metric("npv").unwrap().p_alt_lower > 0.5);
    // `batch` runs every scenario in one pass with the benchmark
    // (`engine::run_batch`): each scenario's statistics those of a plain
    // run, and its paired values give `compare`'s numbers, bit for bit.
    let metrics = compare::common(&base.layout.path_names, &alt.layout.path_names);
    let pairs = vec![
        Vec::new(),
        metrics.iter().map(|&(_, i, j)| (i, j)).collect(),
    ];
    for threads in [1, 2] {
        let opts = Options {
            threads,
            ..Default::default()
        };
        let mut all = capsim::engine::run_batch(&[&base, &alt], 0, &pairs, opts).unwrap();
        let (sa2, sb2) = (all.pop().unwrap().unwrap(), all.pop().unwrap().unwrap());
        assert_eq!((&sb2.path, &sb2.period), (&sb.path, &sb.period));
        assert_eq!((&sa2.path, &sa2.period), (&sa.path, &sa.period));
        assert!(sb2.paired.is_empty());
        let p = compare::metric_diffs(&metrics, &sa2.paired, sa2.paths);
        assert_eq!(p.len(), c.metrics.len());
        for (x, y) in p.iter().zip(&c.metrics) {
            let bits = |d: &compare::MetricDiff| {
                [
                    d.base_mean,
                    d.alt_mean,
                    d.diff_mean,
                    d.diff_stderr,
                    d.diff_ci_low,
                    d.p_alt_lower,
                    d.independent_stderr,
                ]
                .map(f64::to_bits)
            };
            assert_eq!((&x.metric, bits(x)), (&y.metric, bits(y)));
        }
    }
}

/// `compare BASE A B` simulates the base once per path for both
/// (`compare::compare_all`): each comparison bit for bit what `compare`
/// gives alone, on 1 and 2 threads, one alternative with other periods.
#[test]
fn comparisons_in_one_pass_match_one_by_one() {
    let base = model(GOLDEN);
    let a = Model::compile(&load_with(GOLDEN, &["provider.azure.price=2.0"]).scenario);
    let b = Model::compile(&load_with(GOLDEN, &["periods=6"]).scenario);
    let bits = |c: &compare::Comparison| {
        let mut v: Vec<u64> = Vec::new();
        for d in &c.metrics {
            v.extend(
                [
                    d.base_mean,
                    d.alt_mean,
                    d.diff_mean,
                    d.diff_stderr,
                    d.p_alt_lower,
                ]
                .map(f64::to_bits),
            );
        }
        for p in &c.periods {
            v.extend([p.base_mean, p.alt_mean, p.diff_mean, p.diff_stderr].map(f64::to_bits));
        }
        (c.metrics.len(), c.periods.len(), v)
    };
    let alone: Vec<_> = [&a, &b]
        .iter()
        .map(|m| bits(&compare::compare(&base, m, Options::default()).unwrap()))
        .collect();
    assert!(
        alone[0].1 > 0 && alone[1].1 == 0,
        "periods compared for a, not b"
    );
    for threads in [1, 2] {
        let opts = Options {
            threads,
            ..Default::default()
        };
        let all = compare::compare_all(&base, &[&a, &b], opts).unwrap();
        let all: Vec<_> = all.iter().map(bits).collect();
        assert_eq!(all, alone, "{threads} threads");
    }
}

/// The baseline and its Azure-first reading serve the same GPUs on every
/// path through different passes: the same shortfall, added up in
/// another order, differing in its last digits. Such a path does not
/// count as "alt lower" (5% of paths did, in a shortfall both scenarios
/// share); a real difference does.
#[test]
fn alt_lower_does_not_count_round_off() {
    let dir = env!("CARGO_MANIFEST_DIR");
    let load = |f: &str| {
        let l = capsim::scenario::load_file(
            &Path::new(dir).join("scenarios").join(f),
            &["simulation.paths=2000".to_string()],
        )
        .unwrap();
        Model::compile(&l.scenario)
    };
    let (base, alt) = (load("baseline.toml"), load("announcement.toml"));
    let c = compare::compare(&base, &alt, Options::default()).unwrap();
    let m = |name: &str| c.metrics.iter().find(|d| d.metric == name).unwrap();
    for name in ["shortfall_cost", "unmet_gpu_hours"] {
        let d = m(name);
        assert!(d.diff_mean != 0.0, "{name}: round-off expected, none found");
        assert!(
            d.diff_mean.abs() < 1e-12 * d.base_mean,
            "{name}: {}",
            d.diff_mean
        );
        assert_eq!(d.p_alt_lower, 0.0, "{name}");
    }
    assert!(m("true_up").p_alt_lower > 0.5);
}

/// Quantiles and CVaR inside a point mass at either extreme are exact:
/// capex is 1e6 on the paths where the second site fails (30%) and 2.5e6
/// where it is built; every quantile from p50 on and both CVaRs were the
/// top bucket's representative (2,498,533.1, 0.06% low), p1 to p25 the
/// bottom one's (1,001,467.8). The same on 1 and 2 threads, any block
/// size.
#[test]
fn quantiles_inside_a_point_mass_at_an_extreme_are_exact() {
    let text = r#"name = "sites"
start = "2026-01"
periods = 8

[simulation]
paths = 4000

[[workload]]
name = "api"
demand = 500

[[provider]]
name = "site"
kind = "owned"
price = 0.3
capex_per_gpu = 1000
life_years = 6
  [[provider.tranche]]
  gpus = 1000
  online = "2026-01"
  [[provider.tranche]]
  gpus = 1500
  online = "2026-04"
  failure = 0.3
"#;
    let m = model(text);
    for (threads, block) in [(1, 1024), (2, 2048)] {
        let st = run_model(&m, threads, block);
        let capex = st.path_metric(&m, "capex").unwrap();
        assert_eq!((capex.min, capex.max), (1e6, 2.5e6));
        for q in [0.01, 0.05, 0.1, 0.25] {
            assert_eq!(capex.q(q), 1e6, "p{q}");
        }
        for q in [0.5, 0.75, 0.9, 0.95, 0.99] {
            assert_eq!(capex.q(q), 2.5e6, "p{q}");
        }
        assert_eq!((capex.cvar95, capex.cvar99), (2.5e6, 2.5e6));
        // Between the two masses, the mean as ever.
        assert!(capex.mean > 1e6 && capex.mean < 2.5e6);
    }
}

/// Capacity is exact once every tranche is whole: tranches delivered
/// part-way through a quarter (delays drawn per path) count pro rata in
/// that quarter, and whole after it. Summed as steps of a share and the
/// rest, the capacity of the last quarter differed from 3,500 in its last
/// bits from path to path (3499.999999999999 to 3500.0000000000005), so no
/// quantile could be exactly 3,500; now every path holds exactly 3,500.
#[test]
fn capacity_with_every_tranche_whole_is_exact() {
    let text = r#"name = "late"
start = "2026-01"
periods = 8

[simulation]
paths = 3000

[[workload]]
name = "api"
demand = 500

[[provider]]
name = "cloud"
price = 2.0
  [[provider.tranche]]
  gpus = 1000
  online = "2026-02"
  delay_months = { median = 1.3, sigma = 0.4 }
  [[provider.tranche]]
  gpus = 2500
  online = "2026-05"
  delay_months = { median = 2.7, sigma = 0.5 }
"#;
    let m = model(text);
    let st = run_model(&m, 2, 1024);
    let k = m
        .layout
        .period_names
        .iter()
        .position(|n| n == "capacity.cloud")
        .unwrap();
    let last = &st.period[(m.periods - 1) * m.layout.period_names.len() + k];
    assert_eq!((last.min, last.max), (3500.0, 3500.0));
    assert_eq!(last.q(0.5), 3500.0);
    assert_eq!(last.mean, 3500.0);
    // Part-way quarters still pro rata: the first quarter's capacity
    // varies with the drawn delay, below the first tranche's 1,000.
    let first = &st.period[k];
    assert!(first.min < first.max && first.max < 1000.0, "{first:?}");
}

#[test]
fn compare_command_writes_its_files() {
    let dir = tempfile::tempdir().unwrap();
    let base = write(dir.path(), "base.toml", GOLDEN);
    let alt = write(
        dir.path(),
        "alt.toml",
        &GOLDEN
            .replace("name = \"golden\"", "name = \"dear\"")
            .replace("price = 2.4", "price = 3.0"),
    );
    let out = dir.path().join("out");
    let o = capsim(&[
        "compare",
        base.to_str().unwrap(),
        alt.to_str().unwrap(),
        "--paths",
        "2000",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("npv") && stdout.contains(" -> ") && stdout.contains("95% CI"),
        "{stdout}"
    );
    let d = out.join("compare/golden-vs-dear");
    let rows = csv_rows(&d.join("comparison.csv"));
    assert_eq!(
        rows[0].join(","),
        "metric,base_mean,alt_mean,diff_mean,diff_stderr,diff_ci_low,diff_ci_high,p_alt_lower"
    );
    assert!(rows.iter().any(|r| r[0] == "npv"));
    let periods = csv_rows(&d.join("comparison_periods.csv"));
    assert_eq!(periods[0][..3].join(","), "period,date,metric");
    let man: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("manifest.json")).unwrap()).unwrap();
    assert!(man["variance_reduction"].as_array().unwrap().len() > 5);
}

/// A `--set` that fits one scenario of a library and not another: the
/// skipped one is named (its error points at the `--set`, not the file).
#[test]
fn a_batch_names_the_file_a_set_does_not_fit() {
    let dir = tempfile::tempdir().unwrap();
    let lib = library(dir.path());
    let other = write(
        &lib,
        "b.toml",
        &named("other")
            .replace("name = \"own\"", "name = \"mine\"")
            .replace("provider = \"own\"", "provider = \"mine\""),
    );
    let out = dir.path().join("out");
    let o = quietly(
        &out,
        &[
            "batch",
            lib.to_str().unwrap(),
            "--paths",
            "100",
            "--set",
            "provider.own.capex_per_gpu=20000",
        ],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!(
            "skipped: {}: --set provider.own.capex_per_gpu=20000: field \
             `provider.own.capex_per_gpu`: no element `own` in `provider`",
            other.display()
        )),
        "{err}"
    );
    assert!(out.join("baseline/summary.csv").exists());
    // compare, with the ALT (or the BASE) the --set does not fit.
    let base = lib.join("a.toml");
    for (files, named) in [([&base, &other], &other), ([&other, &base], &other)] {
        let o = quietly(
            &out,
            &[
                "compare",
                files[0].to_str().unwrap(),
                files[1].to_str().unwrap(),
                "--set",
                "provider.own.capex_per_gpu=20000",
            ],
        );
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(
            err.starts_with(&format!(
                "error: {}: --set provider.own.capex_per_gpu=20000: field",
                named.display()
            )),
            "{err}"
        );
    }
}

#[test]
fn batch_indexes_against_the_benchmark_and_reports_bad_files() {
    let dir = tempfile::tempdir().unwrap();
    let lib = library(dir.path());
    write(
        &lib,
        "b.toml",
        &GOLDEN
            .replace("name = \"golden\"", "name = \"cheap\"")
            .replace("price = 2.4", "price = 1.5")
            .replace("seed = 42", "seed = 7"),
    );
    write(
        &lib,
        "c.toml",
        "name = \"broken\"\nstart = \"2026-13\"\nperiods = 4\n",
    );
    // Loads, but its numbers overflow: skipped at run time the same way.
    write(
        &lib,
        "d.toml",
        &GOLDEN
            .replace("name = \"golden\"", "name = \"overflow\"")
            .replace("growth = 0.5", "growth = 1e300"),
    );
    let out = dir.path().join("out");
    let o = quietly(&out, &["batch", lib.to_str().unwrap(), "--paths", "1500"]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "a skipped file makes the batch fail at the end"
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("c.toml:2:1") && err.contains("skipped"),
        "{err}"
    );
    assert!(
        err.contains("d.toml") && err.contains("overflowed"),
        "{err}"
    );
    let rows = csv_rows(&out.join("index.csv"));
    assert_eq!(
        rows[0].join(","),
        "scenario,metric,mean,p5,p50,p95,diff_vs_benchmark,diff_stderr,p_lower_than_benchmark"
    );
    for metric in [
        "npv",
        "cash",
        "economic",
        "unmet_gpu_hours",
        "shortfall_cost",
        "true_up",
    ] {
        for s in ["baseline", "cheap"] {
            assert!(
                rows.iter().any(|r| r[0] == s && r[1] == metric),
                "{s} {metric}"
            );
        }
    }
    let cheap_npv = rows
        .iter()
        .find(|r| r[0] == "cheap" && r[1] == "npv")
        .unwrap();
    let base_npv = rows
        .iter()
        .find(|r| r[0] == "baseline" && r[1] == "npv")
        .unwrap();
    let diff: f64 = cheap_npv[6].parse().unwrap();
    let (m1, m0): (f64, f64) = (cheap_npv[2].parse().unwrap(), base_npv[2].parse().unwrap());
    // The benchmark's seed is used for every scenario, so the paired
    // difference equals the difference of the two folders' means.
    assert!(close(diff, m1 - m0, 1e-9), "{diff} vs {}", m1 - m0);
    assert!(out.join("cheap/summary.csv").exists() && out.join("baseline/periods.csv").exists());
    let man: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("index_manifest.json")).unwrap())
            .unwrap();
    assert_eq!(man["command"], "batch");
    assert_eq!(man["seed"], 42);
    assert_eq!(man["scenarios"].as_array().unwrap().len(), 2);
    assert_eq!(man["details"]["skipped"].as_array().unwrap().len(), 2);
    assert!(!rows.iter().any(|r| r[0] == "overflow"));
    assert!(!out.join("overflow").exists());

    // A folder with no scenario file (a typo of the library's folder one
    // level up, say) is named as such, not as a missing benchmark among
    // "expected one of: " nothing.
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    write(&empty, "notes.txt", "not a scenario");
    let o = quietly(&out, &["batch", empty.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("empty: found no scenario files (*.toml), expected a folder of scenarios"),
        "{err}"
    );
}

/// A library larger than one pass of `batch` (the benchmark and 11
/// others): every scenario's row and folder are what `compare` and `run`
/// give for it alone, in the first pass and in the second.
#[test]
fn batch_in_several_passes_matches_compare_and_run() {
    let dir = tempfile::tempdir().unwrap();
    let lib = library(dir.path());
    for k in 1..=13 {
        let text = named(&format!("s{k:02}"))
            .replace("price = 2.4", &format!("price = {}", 1.0 + 0.1 * k as f64));
        write(&lib, &format!("s{k:02}.toml"), &text);
    }
    let out = dir.path().join("out");
    let o = quietly(&out, &["batch", lib.to_str().unwrap(), "--paths", "700"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let rows = csv_rows(&out.join("index.csv"));
    let base = lib.join("a.toml");
    // s02 runs in the first pass, s13 in the second.
    for name in ["s02", "s13"] {
        let file = lib.join(format!("{name}.toml"));
        let alone = dir.path().join(format!("alone-{name}"));
        let (b, f) = (base.to_str().unwrap(), file.to_str().unwrap());
        let c = quietly(&alone, &["compare", b, f, "--paths", "700"]);
        assert!(c.status.success(), "{}", String::from_utf8_lossy(&c.stderr));
        let r = quietly(&alone, &["run", f, "--paths", "700"]);
        assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
        let cmp = csv_rows(&alone.join(format!("compare/baseline-vs-{name}/comparison.csv")));
        let npv = cmp.iter().find(|r| r[0] == "npv").unwrap();
        let row = rows.iter().find(|r| r[0] == name && r[1] == "npv").unwrap();
        // diff_vs_benchmark, diff_stderr, p_lower against diff_mean,
        // diff_stderr, p_alt_lower.
        assert_eq!(
            (&row[6], &row[7], &row[8]),
            (&npv[3], &npv[4], &npv[7]),
            "{name}"
        );
        for f in ["summary.csv", "periods.csv", "providers.csv"] {
            let got = std::fs::read(out.join(name).join(f)).unwrap();
            assert_eq!(
                got,
                std::fs::read(alone.join(name).join(f)).unwrap(),
                "{name} {f}"
            );
        }
    }
}

/// Two scenarios of one name would write one result folder (and, in a
/// batch, index rows that cannot be told apart): `batch` skips the later
/// file and says where its name is; `compare` refuses two alternatives of
/// one name before running anything. Both exit 2.
#[test]
fn batch_and_compare_refuse_two_scenarios_of_one_name() {
    let dir = tempfile::tempdir().unwrap();
    let lib = library(dir.path());
    let a = lib.join("a.toml");
    let b = write(
        &lib,
        "b.toml",
        &named("cheap").replace("price = 2.4", "price = 1.5"),
    );
    let e = write(
        &lib,
        "e.toml",
        &named("cheap").replace("price = 2.4", "price = 1.0"),
    );
    let name_line = GOLDEN
        .lines()
        .position(|l| l.starts_with("name = "))
        .unwrap()
        + 1;
    let out = dir.path().join("out");
    let o = quietly(&out, &["batch", lib.to_str().unwrap(), "--paths", "300"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    let want = format!(
        "skipped: {}:{name_line}:1: field `name`: found \"cheap\", the name of {} too",
        e.display(),
        b.display()
    );
    assert!(err.contains(&want), "{err}");
    let rows = csv_rows(&out.join("index.csv"));
    let cheap_npv: Vec<_> = rows
        .iter()
        .filter(|r| r[0] == "cheap" && r[1] == "npv")
        .collect();
    assert_eq!(cheap_npv.len(), 1, "{rows:?}");
    let man: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("index_manifest.json")).unwrap())
            .unwrap();
    assert_eq!(man["scenarios"].as_array().unwrap().len(), 2);
    assert_eq!(man["details"]["skipped"][0], e.display().to_string());

    let out = dir.path().join("cmp");
    let o = quietly(
        &out,
        &[
            "compare",
            a.to_str().unwrap(),
            b.to_str().unwrap(),
            e.to_str().unwrap(),
            "--paths",
            "300",
        ],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains(&want["skipped: ".len()..]), "{err}");
    assert!(!out.exists(), "compare wrote before refusing");
}

/// An alternative (or a library's scenario) whose file sets another seed
/// or number of paths runs on the base's, for common random numbers: a
/// note says so, since its numbers then differ from a run of it alone.
/// None where `--seed` and `--paths` set both.
#[test]
fn compare_and_batch_note_an_alternatives_own_seed_and_paths() {
    let dir = tempfile::tempdir().unwrap();
    let lib = library(dir.path());
    let base = lib.join("a.toml");
    let seed = GOLDEN
        .lines()
        .find_map(|l| l.strip_prefix("seed = "))
        .expect("golden sets a seed")
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    let own = named("own").replace(&format!("seed = {seed}"), "seed = 43");
    let alt = write(&lib, "own.toml", &own);
    let (b, o) = (base.to_str().unwrap(), alt.to_str().unwrap());
    let note = format!(
        "note: own runs on baseline's seed {seed} (its file's: 43) here, for common random \
         numbers; a run of it alone uses its own (--seed and --paths set both)"
    );
    let out = dir.path().join("out");
    for (args, noted) in [
        (vec!["compare", b, o, "--paths", "300"], true),
        (
            vec!["compare", b, o, "--paths", "300", "--seed", "7"],
            false,
        ),
        (vec!["batch", lib.to_str().unwrap(), "--paths", "300"], true),
        (
            vec![
                "batch",
                lib.to_str().unwrap(),
                "--paths",
                "300",
                "--seed",
                "7",
            ],
            false,
        ),
    ] {
        let r = quietly(&out, &args);
        let err = String::from_utf8_lossy(&r.stderr);
        assert_eq!(r.status.code(), Some(0), "{args:?}: {err}");
        assert_eq!(err.contains(&note), noted, "{args:?}: {err}");
        assert!(!err.contains("note: baseline runs on"), "{err}");
    }
}

#[test]
fn batch_and_compare_refuse_money_in_another_currency() {
    // capsim converts no money: a EUR scenario against a USD base was
    // compared number for number ("+0.00 ... no variance").
    let dir = tempfile::tempdir().unwrap();
    let lib = library(dir.path());
    let a = lib.join("a.toml");
    let euro_text = named("euro").replace("name = \"euro\"", "name = \"euro\"\ncurrency = \"EUR\"");
    let euro = write(&lib, "euro.toml", &euro_text);
    let line = euro_text
        .lines()
        .position(|l| l.starts_with("currency = "))
        .unwrap()
        + 1;
    let want = format!(
        "{}:{line}:1: field `currency`: found EUR, but {} (\"baseline\") is in USD, expected the \
         same currency",
        euro.display(),
        a.display()
    );
    let out = dir.path().join("cmp");
    let o = quietly(
        &out,
        &[
            "compare",
            a.to_str().unwrap(),
            euro.to_str().unwrap(),
            "--paths",
            "300",
        ],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains(&want), "{err}");
    assert!(!out.exists(), "compare wrote before refusing");
    // The batch runs the rest and skips it, as it does bad input.
    let out = dir.path().join("out");
    let o = quietly(&out, &["batch", lib.to_str().unwrap(), "--paths", "300"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains(&format!("skipped: {want}")), "{err}");
    let rows = csv_rows(&out.join("index.csv"));
    assert!(rows[1..].iter().all(|r| r[0] == "baseline"), "{rows:?}");
}

#[test]
fn sweep_grid_with_common_random_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "s.toml", GOLDEN);
    let out = dir.path().join("out");
    let o = quietly(
        &out,
        &[
            "sweep",
            f.to_str().unwrap(),
            "--set",
            "provider.azure.price_drift=-0.3:0:4",
            "--set",
            "agi.hazard=0.1:0.3:2",
            "--set",
            "simulation.paths=1500",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let rows = csv_rows(&out.join("sweep/golden/sweep.csv"));
    assert_eq!(
        rows[0].join(","),
        "provider.azure.price_drift,agi.hazard,metric,mean,stderr,p5,p50,p95,\
         diff_vs_reference,diff_stderr,diff_ci_low,diff_ci_high,p_lower_than_reference"
    );
    // The reference, the first point, differs from itself by nothing.
    for r in rows[1..].iter().filter(|r| r[0] == "-0.3" && r[1] == "0.1") {
        assert_eq!(r[8..], ["0", "0", "0", "0", "0"], "{r:?}");
    }
    // Its summary says what its +- are not: the points' differences are
    // paired.
    let o = capsim(&[
        "sweep",
        f.to_str().unwrap(),
        "--set",
        "agi.hazard=0.1:0.3:2",
        "--paths",
        "100",
        "--out",
        dir.path().join("said").to_str().unwrap(),
    ]);
    let said = String::from_utf8_lossy(&o.stdout);
    assert!(
        said.contains("note: the points share their random numbers (common random numbers)"),
        "{said}"
    );
    let m = model(GOLDEN);
    assert_eq!(rows.len() - 1, 8 * m.layout.n_path());
    let man: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("sweep/golden/manifest.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(man["details"]["grid_points"], 8);
    assert_eq!(
        man["scenarios"][0]["scenario_sha256"]
            .as_str()
            .unwrap()
            .len(),
        64
    );
    let drifts: std::collections::BTreeSet<String> =
        rows[1..].iter().map(|r| r[0].clone()).collect();
    assert_eq!(
        drifts.into_iter().collect::<Vec<_>>(),
        ["-0.1", "-0.2", "-0.3", "0"]
    );
    // The grid point equal to the scenario's own values reproduces a plain run.
    let loaded = load_with(
        GOLDEN,
        &[
            "provider.azure.price_drift=-0.1",
            "agi.hazard=0.3",
            "simulation.paths=1500",
        ],
    );
    let mm = Model::compile(&loaded.scenario);
    let st = run_model(&mm, 2, 1024);
    let row = rows
        .iter()
        .find(|r| r[0] == "-0.1" && r[1] == "0.3" && r[2] == "npv")
        .unwrap();
    assert_eq!(
        row[3].parse::<f64>().unwrap(),
        st.path_metric(&mm, "npv").unwrap().mean
    );
}

/// Each grid point's difference from the first, in `sweep.csv`, is the
/// paired comparison `compare` gives between the two scenarios, bit for
/// bit (its mean, standard error and 95% interval), whatever the threads
/// and so whatever groups the points ran in; its standard error far below
/// the points' own; against the first point or the one `--reference`
/// names. The terminal says it. A sweep over the seed has
/// nothing to pair: empty fields, and a note that says why.
#[test]
fn sweep_differences_are_paired_comparisons_with_the_first_point() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "s.toml", GOLDEN);
    // The price of Azure at 2.4, 2.55, 2.7, 2.85 and 3.0, with `extra`
    // flags, into `out`: what it says.
    let sweep = |extra: &[&str], out: &Path| {
        let mut args = vec![
            "sweep",
            f.to_str().unwrap(),
            "--set",
            "provider.azure.price=2.4:3.0:5",
            "--paths",
            "3000",
            "--out",
            out.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let o = capsim(&args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).to_string()
    };
    let said = sweep(&["--threads", "1"], &dir.path().join("one"));
    let csv = |d: &str| std::fs::read(dir.path().join(d).join("sweep/golden/sweep.csv")).unwrap();
    for threads in ["2", "3"] {
        sweep(&["--threads", threads], &dir.path().join(threads));
        assert!(
            csv(threads) == csv("one"),
            "{threads} threads: sweep.csv differs"
        );
    }
    assert!(
        said.contains("vs point 1 +$")
            && said.contains("difference from point 1 (provider.azure.price=2.4)"),
        "{said}"
    );
    let rows = csv_rows(&dir.path().join("one/sweep/golden/sweep.csv"));
    // `compare`'s rows of golden.toml with Azure's price at `base` (the
    // scenario named `name`) against it at 3.0.
    let out = dir.path().join("cmp");
    let compared = |name: &str, base: &str| {
        let at = |name: &str, price: &str| {
            let text = GOLDEN
                .replace("name = \"golden\"", &format!("name = \"{name}\""))
                .replace("price = 2.4", &format!("price = {price}"));
            write(dir.path(), &format!("{name}.toml"), &text)
        };
        let (b, a) = (at(name, base), at("dear", "3.0"));
        let (b, a) = (b.to_str().unwrap(), a.to_str().unwrap());
        let o = quietly(&out, &["compare", b, a, "--paths", "3000"]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        csv_rows(&out.join(format!("compare/{name}-vs-dear/comparison.csv")))
    };
    let cmp = compared("golden", "2.4");
    let mut checked = 0;
    for c in &cmp[1..] {
        let r = rows
            .iter()
            .find(|r| r[0] == "3" && r[1] == c[0])
            .unwrap_or_else(|| panic!("no row of {}", c[0]));
        // diff_mean, diff_stderr, diff_ci_low, diff_ci_high, p_alt_lower.
        assert_eq!(r[7..12], c[3..8], "{}", c[0]);
        checked += 1;
    }
    assert_eq!(checked, rows.len() / 5, "every metric compared");
    // Against the third point (price 2.7): the comparison of 2.7 with 3.0.
    let third = dir.path().join("third");
    let said = sweep(&["--reference", "3"], &third);
    assert!(
        said.contains("vs point 3 -$")
            && said.contains("from point 3 (provider.azure.price=2.7)")
            && said.contains("npv $")
            && said.lines().filter(|l| l.ends_with("(reference)")).count() == 1,
        "{said}"
    );
    let by3 = csv_rows(&third.join("sweep/golden/sweep.csv"));
    let cmp = compared("mid", "2.7");
    for c in &cmp[1..] {
        let r = by3.iter().find(|r| r[0] == "3" && r[1] == c[0]).unwrap();
        assert_eq!(r[7..12], c[3..8], "{}", c[0]);
        let r = by3.iter().find(|r| r[0] == "2.7" && r[1] == c[0]).unwrap();
        assert_eq!(r[7..12], ["0", "0", "0", "0", "0"], "{}", c[0]);
    }
    // Each point's own statistics whatever the reference.
    assert_eq!(
        by3.iter().map(|r| r[..7].to_vec()).collect::<Vec<_>>(),
        rows.iter().map(|r| r[..7].to_vec()).collect::<Vec<_>>()
    );
    let man: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(third.join("sweep/golden/manifest.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(man["details"]["reference"]["point"], 3);
    assert_eq!(
        man["details"]["reference"]["at"],
        "provider.azure.price=2.7"
    );
    let npv = rows.iter().find(|r| r[0] == "3" && r[1] == "npv").unwrap();
    let (own, paired): (f64, f64) = (npv[3].parse().unwrap(), npv[8].parse().unwrap());
    assert!(paired < own / 3.0, "paired {paired}, own {own}");
    // `--help` says what --reference and --charts take (their doc
    // comments had run together onto --charts).
    let help = String::from_utf8_lossy(&capsim(&["sweep", "--help"]).stdout).to_string();
    let line = |flag: &str| {
        help.lines()
            .find(|l| l.trim_start().starts_with(flag))
            .unwrap_or_default()
            .to_string()
    };
    assert!(
        line("--reference <POINT>").contains("The grid point"),
        "{help}"
    );
    assert!(
        line("--charts").contains("sweep.svg") && !line("--charts").contains("grid point every")
    );
    // `--reference none`: the points' own columns, no differences, and a
    // note that says how to get them.
    let none = dir.path().join("none");
    let said = sweep(&["--reference", "none"], &none);
    assert!(
        !said.contains("vs point") && !said.contains("(reference)"),
        "{said}"
    );
    assert!(
        said.contains("(--reference POINT pairs them in sweep.csv)"),
        "{said}"
    );
    let alone = csv_rows(&none.join("sweep/golden/sweep.csv"));
    assert_eq!(
        alone.iter().map(|r| r[..7].to_vec()).collect::<Vec<_>>(),
        rows.iter().map(|r| r[..7].to_vec()).collect::<Vec<_>>()
    );
    assert!(alone[1..]
        .iter()
        .all(|r| r[7..].iter().all(String::is_empty)));
    // Nothing to pair across seeds.
    let out = dir.path().join("seeds");
    let o = capsim(&[
        "sweep",
        f.to_str().unwrap(),
        "--set",
        "simulation.seed=1:3:3",
        "--paths",
        "500",
        "--out",
        out.to_str().unwrap(),
    ]);
    let said = String::from_utf8_lossy(&o.stdout);
    assert!(
        said.contains("sweep.csv has no paired differences"),
        "{said}"
    );
    assert!(!said.contains("vs point 1"), "{said}");
    let rows = csv_rows(&out.join("sweep/golden/sweep.csv"));
    assert!(
        rows[1..]
            .iter()
            .all(|r| r[7..].iter().all(String::is_empty)),
        "{rows:?}"
    );
}

/// A large grid prints its first 50 points' lines and says how many more
/// `sweep.csv` has (a 2,000-point sweep printed 2,000 lines).
#[test]
fn a_large_sweep_prints_its_first_points_only() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "s.toml", GOLDEN);
    let out = dir.path().join("out");
    let o = capsim(&[
        "sweep",
        f.to_str().unwrap(),
        "--set",
        "agi.hazard=0:0.5:12",
        "--set",
        "workload.api.growth=0:1:5",
        "--paths",
        "64",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let said = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        said.lines().filter(|l| l.contains(" npv ")).count(),
        50,
        "{said}"
    );
    assert!(
        said.contains("... 10 more in sweep.csv (60 in all)"),
        "{said}"
    );
    let rows = csv_rows(&out.join("sweep/golden/sweep.csv"));
    let points: std::collections::BTreeSet<(String, String)> = rows[1..]
        .iter()
        .map(|r| (r[0].clone(), r[1].clone()))
        .collect();
    assert_eq!(points.len(), 60);
}

/// A date field sweeps months (`agi.earliest=2026-06:2027-06:3`: three
/// points six months apart), written as `YYYY-MM` in `sweep.csv` and the
/// manifest; a point is the run with that date set. `sensitivity` takes a
/// date field's range the same way. (Both refused any date before.)
#[test]
fn sweep_and_sensitivity_over_dates() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "s.toml", GOLDEN);
    let out = dir.path().join("out");
    // `capsim COMMAND FILE --paths 1200 FLAGS`, which must succeed.
    let ok = |command: &str, flags: &[&str]| {
        let mut args = vec![command, f.to_str().unwrap(), "--paths", "1200"];
        args.extend(flags);
        let o = quietly(&out, &args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    ok("sweep", &["--set", "agi.earliest=2026-06:2027-06:3"]);
    let rows = csv_rows(&out.join("sweep/golden/sweep.csv"));
    assert_eq!(rows[0][0], "agi.earliest");
    let dates: std::collections::BTreeSet<&str> = rows[1..].iter().map(|r| r[0].as_str()).collect();
    assert_eq!(
        dates.into_iter().collect::<Vec<_>>(),
        ["2026-06", "2026-12", "2027-06"]
    );
    let man: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("sweep/golden/manifest.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        man["details"]["axes"][0]["values"],
        serde_json::json!(["2026-06", "2026-12", "2027-06"])
    );
    // A later AGI date must matter here (the API's exclusivity ends with
    // it), so each point is its own run, not the scenario's date.
    let npv_at = |date: &str| -> f64 {
        let l = load_with(
            GOLDEN,
            &[&format!("agi.earliest={date}"), "simulation.paths=1200"],
        );
        let m = Model::compile(&l.scenario);
        run_model(&m, 2, 1024).path_metric(&m, "npv").unwrap().mean
    };
    let swept = |date: &str| -> f64 {
        rows.iter().find(|r| r[0] == date && r[1] == "npv").unwrap()[2]
            .parse()
            .unwrap()
    };
    for date in ["2026-06", "2027-06"] {
        assert_eq!(swept(date), npv_at(date), "{date}");
    }
    assert_ne!(swept("2026-06"), swept("2027-06"));

    ok("sensitivity", &["--param", "agi.earliest=2026-06:2027-06"]);
    let t = csv_rows(&out.join("sensitivity/golden/tornado.csv"));
    assert_eq!(t[1][..3].join(","), "agi.earliest,2026-06,2027-06");
    assert_eq!(t[1][3].parse::<f64>().unwrap(), npv_at("2026-06"));
    assert_eq!(t[1][4].parse::<f64>().unwrap(), npv_at("2027-06"));
}

/// Where that finishes sooner (`runner::side_by_side`), `sweep` and
/// `sensitivity` give the threads whole runs side by side (a run of one
/// block kept the other threads idle); otherwise one run after the other
/// on every thread. Either way every byte is the same: 8 grid points of
/// 2-3 blocks on 1 thread and, side by side, on 2, 4 and 5; 3 points of 4
/// blocks on 1, on 2 (one after the other) and on 3 (side by side); a
/// tornado on 1, 2 and 3; and of a grid whose points from the second on
/// overflow, the second is the one reported, whichever thread finds which
/// first.
#[test]
fn runs_side_by_side_write_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "s.toml", GOLDEN);
    let f = f.to_str().unwrap();
    // `capsim ARGS --threads T` for each T, each into a folder of its own:
    // what `got` takes of each outcome is the same for every T.
    let same_on = |threads: &[&str], args: &[&str], got: &dyn Fn(&Path, &Output) -> Vec<u8>| {
        let mut first: Option<Vec<u8>> = None;
        for t in threads {
            let out = dir.path().join(format!("{}-{t}", args[0]));
            let mut a = args.to_vec();
            a.extend(["--threads", t]);
            let o = quietly(&out, &a);
            let g = got(&out, &o);
            match &first {
                None => first = Some(g),
                Some(f) => assert!(*f == g, "{args:?}: {t} threads differ"),
            }
            std::fs::remove_dir_all(&out).ok();
        }
    };
    let ok_then = |files: &'static [&'static str]| {
        move |out: &Path, o: &Output| -> Vec<u8> {
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            files
                .iter()
                .flat_map(|f| std::fs::read(out.join(f)).unwrap())
                .collect()
        }
    };
    let sweep = ok_then(&["sweep/golden/sweep.csv"]);
    same_on(
        &["1", "2", "4", "5"],
        &[
            "sweep",
            f,
            "--set",
            "provider.azure.price_drift=-0.3:0:4",
            "--set",
            "simulation.paths=1100:2100:2",
        ],
        &|out, o| {
            let csv = sweep(out, o);
            assert_eq!(
                String::from_utf8_lossy(&csv).lines().count(),
                1 + 8 * model(GOLDEN).layout.n_path()
            );
            csv
        },
    );
    assert!(!capsim::runner::side_by_side(&[4096; 3], 2));
    same_on(
        &["1", "2", "3"],
        &[
            "sweep",
            f,
            "--set",
            "provider.azure.price_drift=-0.3:0:3",
            "--paths",
            "4096",
        ],
        &|out, o| sweep(out, o),
    );
    let tornado = ok_then(&[
        "sensitivity/golden/tornado.csv",
        "sensitivity/golden/drivers.csv",
    ]);
    same_on(
        &["1", "2", "3"],
        &["sensitivity", f, "--paths", "1100"],
        &|out, o| {
            let files = tornado(out, o);
            assert!(String::from_utf8_lossy(&files).lines().count() > 20);
            files
        },
    );
    same_on(
        &["1", "2", "4"],
        &[
            "sweep",
            f,
            "--set",
            "workload.api.growth=0:1e300:8",
            "--paths",
            "200",
        ],
        &|out, o| {
            let err = String::from_utf8_lossy(&o.stderr).to_string();
            assert_eq!(o.status.code(), Some(2), "{err}");
            assert!(
                err.contains("--set workload.api.growth=1.42857142857143e299:")
                    && err.contains("overflowed"),
                "{err}"
            );
            assert!(!out.exists());
            err.into_bytes()
        },
    );
}

/// The tornado's terminal lines mark a swing whose 95% interval holds 0
/// (`swing <= t * swing_stderr`) as within sampling noise, and only such a
/// swing; at 100 paths the all-rules scenario has both kinds.
#[test]
fn sensitivity_marks_swings_within_noise() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "s.toml", GOLDEN);
    let out = dir.path().join("out");
    let o = capsim(&[
        "sensitivity",
        f.to_str().unwrap(),
        "--paths",
        "100",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let said = String::from_utf8_lossy(&o.stdout);
    let t = compare::t95(100);
    let rows = csv_rows(&out.join("sensitivity/golden/tornado.csv"));
    let (mut marked, mut plain) = (0, 0);
    for r in &rows[1..] {
        let Some(line) = said
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{} ", r[0])))
        else {
            continue;
        };
        let (swing, se): (f64, f64) = (r[5].parse().unwrap(), r[6].parse().unwrap());
        let noise = swing <= t * se;
        assert_eq!(
            line.ends_with("(within sampling noise)"),
            noise,
            "{line} {r:?}"
        );
        if noise {
            marked += 1;
        } else {
            plain += 1;
        }
    }
    assert!(marked > 0 && plain > 0, "{said}");
}

#[test]
fn sensitivity_writes_sorted_tornado_and_drivers() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "s.toml", GOLDEN);
    let out = dir.path().join("out");
    let o = quietly(
        &out,
        &["sensitivity", f.to_str().unwrap(), "--paths", "1500"],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let t = csv_rows(&out.join("sensitivity/golden/tornado.csv"));
    assert_eq!(
        t[0].join(","),
        "parameter,low_value,high_value,npv_at_low,npv_at_high,swing,swing_stderr"
    );
    let swings: Vec<f64> = t[1..].iter().map(|r| r[5].parse().unwrap()).collect();
    assert!(swings.windows(2).all(|w| w[0] >= w[1]));
    // Each swing's standard error is paired (the two ends on the same
    // paths): that of `compare` between the two ends' scenarios, bit for
    // bit, and far below the ends' own.
    let ends = dir.path().join("ends");
    let o = quietly(
        &ends,
        &[
            "sensitivity",
            f.to_str().unwrap(),
            "--param",
            "provider.azure.price=2.0:3.0",
            "--paths",
            "1500",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let row = csv_rows(&ends.join("sensitivity/golden/tornado.csv"))[1].clone();
    let end = |name: &str, price: &str| {
        let text = GOLDEN
            .replace("name = \"golden\"", &format!("name = \"{name}\""))
            .replace("price = 2.4", &format!("price = {price}"));
        write(dir.path(), &format!("{name}.toml"), &text)
    };
    let (lo, hi) = (end("low", "2.0"), end("high", "3.0"));
    let o = quietly(
        &ends,
        &[
            "compare",
            lo.to_str().unwrap(),
            hi.to_str().unwrap(),
            "--paths",
            "1500",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let cmp = csv_rows(&ends.join("compare/low-vs-high/comparison.csv"));
    let npv = cmp.iter().find(|r| r[0] == "npv").unwrap();
    assert_eq!(
        (&row[3], &row[4], &row[6]),
        (&npv[1], &npv[2], &npv[4]),
        "{row:?} {npv:?}"
    );
    let (swing, se): (f64, f64) = (row[5].parse().unwrap(), row[6].parse().unwrap());
    assert!(se > 0.0 && se < swing / 10.0, "{row:?}");
    assert!(t.iter().any(|r| r[0] == "workload.api.growth"));
    assert!(t.iter().any(|r| r[0] == "agi.hazard"));
    let man: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("sensitivity/golden/manifest.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(man["command"], "sensitivity");
    assert_eq!(man["paths"], 1500);
    let d = csv_rows(&out.join("sensitivity/golden/drivers.csv"));
    assert_eq!(d[0].join(","), "driver,rho_npv,rho_economic");
    let rhos: Vec<f64> = d[1..]
        .iter()
        .map(|r| r[1].parse::<f64>().unwrap().abs())
        .collect();
    assert!(rhos.windows(2).all(|w| w[0] >= w[1] || w[1].is_nan()));
    // Higher final API demand means more spend: a positive, strong driver.
    let api: f64 = d.iter().find(|r| r[0] == "final_demand.api").unwrap()[2]
        .parse()
        .unwrap();
    assert!(api > 0.3, "{api}");
    // The summary prints the first 12 rows of each table and says how
    // many more the file has (it stopped at 12 without a word).
    let o = Command::new(bin())
        .args([
            "sensitivity",
            f.to_str().unwrap(),
            "--paths",
            "1500",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success());
    let said = String::from_utf8_lossy(&o.stdout);
    let lines: Vec<&str> = said.lines().collect();
    let at = |head: &str| lines.iter().position(|l| l.starts_with(head)).unwrap();
    let (tornado, drivers) = (at("tornado ("), at("drivers ("));
    for (start, rows, file) in [
        (tornado, t.len() - 1, "tornado.csv"),
        (drivers, d.len() - 1, "drivers.csv"),
    ] {
        let table: Vec<&str> = lines[start + 1..]
            .iter()
            .take_while(|l| l.starts_with("  ") && !l.starts_with("  ("))
            .copied()
            .collect();
        if rows > 12 {
            assert_eq!(table.len(), 13, "{said}");
            assert_eq!(
                table[12],
                format!("  ... {} more in {file} ({rows} in all)", rows - 12)
            );
        } else {
            assert_eq!(table.len(), rows, "{said}");
        }
    }
    assert!(
        t.len() - 1 > 12 && d.len() - 1 <= 12,
        "both cases: {} and {}",
        t.len(),
        d.len()
    );
    // User-chosen parameters replace the defaults.
    let o = quietly(
        &out,
        &[
            "sensitivity",
            f.to_str().unwrap(),
            "--paths",
            "1000",
            "--param",
            "workload.api.demand=500:2000",
        ],
    );
    assert!(o.status.success());
    let t = csv_rows(&out.join("sensitivity/golden/tornado.csv"));
    assert_eq!(t.len(), 2);
    assert_eq!(t[1][..3].join(","), "workload.api.demand,500,2000");

    // One path: every driver is constant, so none has a rank correlation;
    // drivers.csv holds its header only and the summary says why (it said
    // nothing, the table under its heading empty).
    let o = std::process::Command::new(crate::util::bin())
        .args(["sensitivity", f.to_str().unwrap(), "--paths", "1"])
        .args(["--param", "workload.api.demand=500:2000", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success());
    let d = csv_rows(&out.join("sensitivity/golden/drivers.csv"));
    assert_eq!(d.len(), 1);
    let said = String::from_utf8_lossy(&o.stdout);
    let n = man["details"]["drivers"].as_array().unwrap().len();
    assert!(
        said.contains(&format!(
            "({n} of {n} drivers constant over the 1 path: no rank correlation, left out)"
        )) && said.contains("tornado (mean npv at low / high; 1 path each)"),
        "{said}"
    );
}

/// A sensitivity analysis whose drivers' ranks cannot fit in memory (4e9
/// paths, the most a run takes; 672 GB here) is refused before any run,
/// with what it needs, what the machine has and a number of paths that
/// fits; nothing is written. (It ran every tornado run first, for days on
/// end, to fail for memory at the end.)
#[test]
fn sensitivity_refuses_drivers_beyond_memory() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "s.toml", GOLDEN);
    let out = dir.path().join("out");
    let mut child = std::process::Command::new(crate::util::bin())
        .args(["sensitivity", f.to_str().unwrap(), "--paths", "4000000000"])
        .arg("--out")
        .arg(&out)
        .arg("--quiet")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // A watchdog, not a timing: the refusal takes milliseconds, the runs
    // it prevents days.
    let waited = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if waited.elapsed().as_secs() > 300 {
            child.kill().unwrap();
            panic!("sensitivity of 4e9 paths still running after 300 s: not refused");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let o = child.wait_with_output().unwrap();
    let said = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{said}");
    assert!(
        said.starts_with("error: sensitivity of 4000000000 paths needs about ")
            && said.contains(" of memory for its drivers' ranks (")
            && said.contains("available; use --paths ")
            && said.trim_end().ends_with("nothing was run"),
        "{said}"
    );
    // The number of paths offered fits, and is a round number.
    let offered: u64 = said
        .split("use --paths ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..4_000_000_000).contains(&offered), "{said}");
    assert!(offered
        .to_string()
        .trim_start_matches(|c| c != '0')
        .chars()
        .all(|c| c == '0'));
    assert!(!out.exists());
}

#[test]
fn focus_export_sums_to_period_cash() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "s.toml", GOLDEN);
    for stat in ["mean", "p50", "p95"] {
        let out = dir.path().join(stat);
        let o = quietly(
            &out,
            &[
                "run",
                f.to_str().unwrap(),
                "--paths",
                "2000",
                "--focus",
                "--focus-stat",
                stat,
            ],
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let rows = csv_rows(&out.join("golden/focus.csv"));
        let h = &rows[0];
        for col in [
            "BilledCost",
            "BillingAccountId",
            "BillingAccountName",
            "BillingCurrency",
            "BillingPeriodStart",
            "BillingPeriodEnd",
            "ChargeCategory",
            "ChargeClass",
            "ChargeDescription",
            "ChargePeriodStart",
            "ChargePeriodEnd",
            "ContractedCost",
            "EffectiveCost",
            "InvoiceIssuerName",
            "ListCost",
            "PricingQuantity",
            "PricingUnit",
            "ProviderName",
            "PublisherName",
            "ServiceCategory",
            "ServiceName",
            "PricingCategory",
            "x_Scenario",
            "x_Statistic",
            "x_Seed",
            "x_Paths",
        ] {
            assert!(h.iter().any(|c| c == col), "missing {col}");
        }
        let col = |name: &str| h.iter().position(|c| c == name).unwrap();
        let (bc, ps, pe, st) = (
            col("BilledCost"),
            col("BillingPeriodStart"),
            col("BillingPeriodEnd"),
            col("x_Statistic"),
        );
        let periods = csv_rows(&out.join("golden/periods.csv"));
        let stat_col = periods[0].iter().position(|c| c == stat).unwrap();
        for (t, label) in ["2026-01", "2026-04", "2026-07", "2027-10"]
            .iter()
            .enumerate()
            .map(|(i, l)| (if i == 3 { 7 } else { i }, l))
        {
            let start = format!("{label}-01T00:00:00Z");
            let sum: f64 = rows[1..]
                .iter()
                .filter(|r| r[ps] == start)
                .map(|r| r[bc].parse::<f64>().unwrap())
                .sum();
            let want: f64 = periods
                .iter()
                .find(|r| r[0] == t.to_string() && r[2] == "cash")
                .unwrap()[stat_col]
                .parse()
                .unwrap();
            assert!(close(sum, want, 1e-9), "{stat} period {t}: {sum} vs {want}");
        }
        for r in &rows[1..] {
            assert_eq!(r[st], stat);
            assert!(r[pe].ends_with("-01T00:00:00Z") && r[pe] > r[ps]);
            assert!(!r[bc].is_empty());
            assert!(
                ["Usage", "Purchase", "Adjustment"].contains(&r[col("ChargeCategory")].as_str())
            );
            // A reserved contract commits to a quantity of GPUs, a purchase
            // commitment to an amount (both were "Spend").
            let category = match r[col("x_ChargeType")].as_str() {
                "reserved" => "Usage",
                "true_up" => "Spend",
                _ => "",
            };
            assert_eq!(r[col("CommitmentDiscountCategory")], category);
        }
        for charge in ["usage", "reserved", "capex", "true_up"] {
            assert!(
                rows.iter().any(|r| r[col("x_ChargeType")] == charge),
                "{charge}"
            );
        }
    }
}

/// A child process killed (and waited for) when dropped, so that a failed
/// assertion does not leave a run of billions of paths behind.
#[cfg(unix)]
struct Running(Option<std::process::Child>);

#[cfg(unix)]
impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

#[cfg(unix)]
impl Running {
    fn send(&self, signal: &str) {
        let pid = self.0.as_ref().unwrap().id();
        // The shell's own `kill` (a `kill` program may not be installed).
        let kill = Command::new("sh")
            .arg("-c")
            .arg(format!("kill -{signal} {pid}"))
            .status()
            .unwrap();
        assert!(kill.success());
    }

    fn running(&mut self) -> bool {
        self.0.as_mut().unwrap().try_wait().unwrap().is_none()
    }

    /// Waits (at most a minute) for the process to end; its status and
    /// stderr.
    fn ended(mut self) -> (std::process::ExitStatus, String) {
        use std::time::{Duration, Instant};
        let stopping = Instant::now();
        while self.running() {
            assert!(
                stopping.elapsed() < Duration::from_secs(60),
                "the signal did not stop the run"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        let mut child = self.0.take().unwrap();
        let status = child.wait().unwrap();
        let mut err = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
        (status, err)
    }
}

/// A long `capsim run` (paths enough for hours, with `paths.csv`) into
/// `dir/out`, through `sh -c PREFIX exec capsim ...`, once it has started
/// (its partial folder exists: its handlers are installed).
#[cfg(unix)]
fn long_run(dir: &Path, prefix: &str) -> (Running, std::path::PathBuf) {
    let (run, out, _) = long_run_beside(dir, prefix, &[]);
    (run, out)
}

/// [`long_run`], also when `dir/out` holds other runs' partial folders
/// (named in `others`); with the name of its own.
#[cfg(unix)]
fn long_run_beside(
    dir: &Path,
    prefix: &str,
    others: &[&str],
) -> (Running, std::path::PathBuf, String) {
    use std::time::{Duration, Instant};
    let f = write(dir, "s.toml", GOLDEN);
    let out = dir.join("out");
    let mut child = Command::new("sh");
    child
        .arg("-c")
        .arg(format!(
            "{prefix} exec \"$0\" run \"$1\" --paths 4000000000 --paths-csv -q --out \"$2\""
        ))
        .args([bin(), f.to_str().unwrap(), out.to_str().unwrap()])
        .stderr(std::process::Stdio::piped());
    let run = Running(Some(child.spawn().unwrap()));
    let started = Instant::now();
    loop {
        let found = std::fs::read_dir(&out).ok().and_then(|d| {
            d.map(|e| e.unwrap().path()).find(|p| {
                let name = p.file_name().unwrap().to_string_lossy();
                p.join("paths.csv").exists() && !others.contains(&name.as_ref())
            })
        });
        if let Some(p) = found {
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            assert!(name.starts_with(".golden.partial-"), "{name}");
            return (run, out, name);
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no partial folder"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Ctrl-C (SIGINT) or SIGTERM during a run: the run stops, the folder it
/// was writing (`.NAME.partial-TAG-XXXXXX`, here with a `paths.csv` growing in
/// it) is removed, a message says so, and the process ends by the signal,
/// as it did before it cleaned up (a shell loop around capsim stops too).
/// Before, the hidden partial folder stayed behind.
#[cfg(unix)]
#[test]
fn a_signal_stops_a_run_and_removes_its_partial_result() {
    use std::os::unix::process::ExitStatusExt;
    for (name, number) in [("INT", 2), ("TERM", 15)] {
        let dir = tempfile::tempdir().unwrap();
        let (run, out) = long_run(dir.path(), "");
        run.send(name);
        let (status, err) = run.ended();
        assert_eq!(
            status.signal(),
            Some(number),
            "SIG{name}: {status:?}; {err}"
        );
        assert!(
            err.contains("interrupted: the run in progress was stopped"),
            "{err}"
        );
        let left: Vec<_> = std::fs::read_dir(&out).unwrap().collect();
        assert!(left.is_empty(), "SIG{name} left {left:?}");
    }
}

/// Started with SIGINT ignored (as a shell script starts `capsim ... &`,
/// so that Ctrl-C stops the script and not its background jobs), capsim
/// keeps it ignored; SIGTERM still stops it cleanly.
#[cfg(unix)]
#[test]
fn a_signal_ignored_at_start_stays_ignored() {
    use std::os::unix::process::ExitStatusExt;
    let dir = tempfile::tempdir().unwrap();
    let (mut run, out) = long_run(dir.path(), "trap '' INT;");
    run.send("INT");
    // Handled, SIGINT stops a run within a block (milliseconds).
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert!(run.running(), "SIGINT stopped the run");
    run.send("TERM");
    let (status, err) = run.ended();
    assert_eq!(status.signal(), Some(15), "{status:?}; {err}");
    assert!(std::fs::read_dir(&out).unwrap().next().is_none());
}

/// A run killed outright (SIGKILL: no handler runs) leaves its partial
/// folder; the next run into the same output folder removes it and says
/// so. What it cannot be sure is dead stays: a live run's folder, one of
/// another machine or another PID namespace (containers), one whose name
/// carries no owner.
#[cfg(target_os = "linux")]
#[test]
fn the_next_run_removes_what_a_killed_run_left() {
    use std::os::unix::process::ExitStatusExt;
    let dir = tempfile::tempdir().unwrap();
    let names = |out: &Path| -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(out)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .collect();
        v.sort();
        v
    };
    let (killed, out, dead) = long_run_beside(dir.path(), "", &[]);
    killed.send("KILL");
    let (status, _) = killed.ended();
    assert_eq!(status.signal(), Some(9));
    assert_eq!(
        names(&out),
        std::slice::from_ref(&dead),
        "SIGKILL cleaned up after all"
    );

    // `.golden.partial-HOST-BOOT-PIDNS-PID-XXXXXX`: the same dead owner
    // seen from another machine (another host name, or the same name and
    // another boot id) and from another PID namespace, and no owner at all.
    let tail = dead.strip_prefix(".golden.partial-").unwrap();
    let parts: Vec<&str> = tail.rsplitn(5, '-').collect();
    let (pid, ns, boot, host) = (parts[1], parts[2], parts[3], parts[4]);
    let ns: u64 = ns.parse().unwrap();
    let other_boot = if boot == "00000000" {
        "00000001"
    } else {
        "00000000"
    };
    let kept = [
        format!(".golden.partial-{host}x-{boot}-{ns}-{pid}-aB3xZ9"),
        format!(".golden.partial-{host}-{other_boot}-{ns}-{pid}-aB3xZ9"),
        format!(".golden.partial-{host}-{boot}-{}-{pid}-aB3xZ9", ns + 1),
        ".golden.partial-aB3xZ9".to_string(),
    ];
    for k in &kept {
        std::fs::create_dir(out.join(k)).unwrap();
    }

    // A live run starting there removes the dead run's folder only.
    let (live, _, alive) = long_run_beside(dir.path(), "", &[&dead]);
    let mut expect: Vec<String> = kept.to_vec();
    expect.push(alive.clone());
    expect.sort();
    assert_eq!(names(&out), expect);

    // A short run beside the live one leaves the live one's folder.
    let f = dir.path().join("s.toml");
    let (f, o) = (f.to_str().unwrap(), out.to_str().unwrap());
    let o = capsim(&["run", f, "--paths", "64", "-q", "--out", o]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(!String::from_utf8_lossy(&o.stderr).contains("removed"));
    expect.push("golden".to_string());
    expect.sort();
    assert_eq!(names(&out), expect);

    live.send("TERM");
    let (status, err) = live.ended();
    assert_eq!(status.signal(), Some(15), "{status:?}; {err}");
    let note = format!(
        "note: removed {}, left by a capsim run (process {pid} on this machine)",
        out.join(&dead).display()
    );
    assert!(err.contains(&note), "{err}");
}

/// Runs capsim with stdout and stderr on pipes whose reading ends are
/// already closed, as after `capsim ... 2>&1 | head -1` once `head` has
/// exited (the child starts after they close, so its first write fails).
fn status_with_closed_output(args: &[&str]) -> Option<i32> {
    use std::process::Stdio;
    let mut child = Command::new(bin())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    drop(child.stderr.take());
    child.wait().unwrap().code()
}

#[test]
fn a_closed_stdout_or_stderr_ends_no_command_in_a_panic() {
    // `println!` and `eprintln!` panic on a closed stream (exit 101), which
    // the sweep's closing line did, and a warning on stderr did before a
    // run had simulated anything; the CSV of `trace --csv` exited 1 with
    // an error. A closed stream now ends the output, not the command.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let sc = write(d, "g.toml", GOLDEN);
    let sc = sc.to_str().unwrap();
    let out = |name: &str| d.join(name).to_str().unwrap().to_string();
    let (runs, shards, sweep) = (out("runs"), out("shards"), out("sweep"));
    let (cmp, sens, merged) = (out("cmp"), out("sens"), out("merged"));
    let (lib, batch) = (library(d).to_str().unwrap().to_string(), out("batch"));
    let bad = write(d, "bad.toml", &GOLDEN.replace("periods = ", "periods = -"));
    let baseline = format!("{}/scenarios/baseline.toml", env!("CARGO_MANIFEST_DIR"));
    // Two warnings on stderr (annual growth rates above 100%).
    let warned = [
        "--set",
        "workload.api.growth=30",
        "--set",
        "workload.product.growth=30",
    ];
    let cases: Vec<(Vec<&str>, i32)> = vec![
        (vec!["check", sc], 0),
        (vec!["trace", sc, "--path", "3"], 0),
        // (The shipped baseline: its CSV outgrows the CSV writer's buffer,
        // which reported the broken pipe as an error of its own.)
        (vec!["trace", &baseline, "--path", "3", "--csv"], 0),
        (
            [
                &["run", sc, "--paths", "64", "--out", &runs][..],
                &warned[..],
            ]
            .concat(),
            0,
        ),
        (
            vec![
                "run", sc, "--paths", "2048", "--shard", "1/2", "--out", &shards,
            ],
            0,
        ),
        (
            vec![
                "run", sc, "--paths", "2048", "--shard", "2/2", "--out", &shards,
            ],
            0,
        ),
        (vec!["compare", sc, sc, "--paths", "64", "--out", &cmp], 0),
        (
            vec![
                "sweep",
                sc,
                "--set",
                "workload.api.growth=0.1:0.5:2",
                "--paths",
                "64",
                "--out",
                &sweep,
            ],
            0,
        ),
        (
            vec![
                "sensitivity",
                sc,
                "--param",
                "workload.api.growth=0.1:0.5",
                "--paths",
                "64",
                "--out",
                &sens,
            ],
            0,
        ),
        (vec!["batch", &lib, "--paths", "64", "--out", &batch], 0),
        (vec!["run", bad.to_str().unwrap()], 2),
    ];
    for (args, code) in &cases {
        assert_eq!(
            status_with_closed_output(args),
            Some(*code),
            "capsim {}",
            args.join(" ")
        );
    }
    let shard_dirs: Vec<String> = (1..=2)
        .map(|i| format!("{shards}/golden.shard-{i}-of-2"))
        .collect();
    let merge: Vec<&str> = ["merge"]
        .into_iter()
        .chain(shard_dirs.iter().map(String::as_str))
        .chain(["--out", &merged])
        .collect();
    assert_eq!(status_with_closed_output(&merge), Some(0));
    let run_dir = format!("{runs}/golden");
    assert_eq!(status_with_closed_output(&["chart", &run_dir]), Some(0));
    // Each finished and wrote its result.
    for f in [
        format!("{run_dir}/summary.csv"),
        format!("{run_dir}/charts/spend.svg"),
        format!("{merged}/golden/summary.csv"),
        format!("{sweep}/sweep/golden/sweep.csv"),
        format!("{sens}/sensitivity/golden/tornado.csv"),
        format!("{cmp}/compare/golden-vs-golden/comparison.csv"),
        format!("{batch}/index.csv"),
    ] {
        assert!(Path::new(&f).is_file(), "{f} missing");
    }
}

#[test]
fn batch_takes_toml_files_whatever_the_case_of_their_extension() {
    // A library copied from Windows: `Plan.TOML` was left out in silence.
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("lib");
    std::fs::create_dir(&lib).unwrap();
    write(&lib, "a.toml", &named("baseline"));
    write(&lib, "Plan.TOML", &named("plan"));
    write(&lib, "notes.txt", "not a scenario");
    let out = dir.path().join("out");
    let o = capsim(&[
        "batch",
        lib.to_str().unwrap(),
        "--paths",
        "64",
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let rows = csv_rows(&out.join("index.csv"));
    let names: std::collections::BTreeSet<&str> = rows[1..].iter().map(|r| r[0].as_str()).collect();
    assert_eq!(names.into_iter().collect::<Vec<_>>(), ["baseline", "plan"]);
}

/// A scenario with no workloads and no providers is valid (with two
/// warnings) and writes zeros: never `-0`, which Rust's `Sum` for f64 gives
/// for nothing summed and which a spreadsheet shows as a negative zero
/// (capex, and `trace`'s totals over workloads and providers, were `-0`).
/// `sensitivity` says it has nothing to vary and nothing to rank (it
/// printed empty tables).
#[test]
fn an_empty_scenario_writes_zeros_and_says_what_it_lacks() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "empty.toml",
        "name = \"empty\"\nstart = \"2026-01\"\nperiods = 2\n",
    );
    let file = file.to_str().unwrap();
    let out = dir.path().join("out");
    let o = Command::new(bin())
        .args([
            "run",
            file,
            "--paths",
            "3",
            "--paths-csv",
            "--focus",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("warning: no [[workload]]") && err.contains("warning: no [[provider]]"),
        "{err}"
    );
    let trace = capsim(&["trace", file, "--path", "1", "--csv"]);
    assert!(trace.status.success());
    let mut texts = vec![("trace --csv".to_string(), trace.stdout)];
    for f in ["summary.csv", "periods.csv", "paths.csv", "focus.csv"] {
        texts.push((
            f.to_string(),
            std::fs::read(out.join("empty").join(f)).unwrap(),
        ));
    }
    for (name, bytes) in texts {
        let text = String::from_utf8(bytes).unwrap();
        let mut lines = text.lines();
        let header = lines.next().unwrap();
        let mut fields = 0;
        for line in lines {
            for v in line.split(',') {
                assert_ne!(v, "-0", "{name}: {line}");
                fields += 1;
            }
        }
        assert!(
            fields > 0 || name == "focus.csv",
            "{name} has no rows: {header}"
        );
    }
    let summary = csv_rows(&out.join("empty/summary.csv"));
    let capex = summary.iter().find(|r| r[0] == "capex").unwrap();
    assert!(capex[1..].iter().all(|v| v == "0"), "{capex:?}");

    // Nothing to vary and nothing to rank: sensitivity says so, and its
    // files hold their headers.
    let o = Command::new(bin())
        .args(["sensitivity", file, "--paths", "10", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let said = String::from_utf8_lossy(&o.stdout);
    assert!(
        said.contains("(no parameter to vary: each one varied by default is 0 or absent here; name ranges with --param KEY=LO:HI)")
            && said.contains("(no drivers: the scenario has no workloads, no providers and no AGI date)"),
        "{said}"
    );
    for (f, header) in [
        (
            "tornado.csv",
            "parameter,low_value,high_value,npv_at_low,npv_at_high,swing,swing_stderr",
        ),
        ("drivers.csv", "driver,rho_npv,rho_economic"),
    ] {
        let text = std::fs::read_to_string(out.join("sensitivity/empty").join(f)).unwrap();
        assert_eq!(text, format!("{header}\r\n"), "{f}");
    }
}

/// With no provider, cash (so NPV) is 0 on every path, while the economic
/// cost follows demand: a driver's correlation with NPV is undefined.
/// drivers.csv leaves it empty (it wrote `NaN`, text to a spreadsheet, and
/// sorted such rows first), the summary says why.
#[test]
fn a_correlation_with_a_constant_npv_is_an_empty_field() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "unserved.toml",
        "name = \"unserved\"\nstart = \"2026-01\"\nperiods = 4\nshortfall_price = 5\n\
         [[workload]]\nname = \"a\"\ndemand = 100\nvolatility = 0.3\n\
         [[workload]]\nname = \"b\"\ndemand = 50\n",
    );
    let o = Command::new(bin())
        .args([
            "sensitivity",
            file.to_str().unwrap(),
            "--paths",
            "50",
            "--out",
        ])
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let said = String::from_utf8_lossy(&o.stdout);
    let line = said.lines().find(|l| l.contains("final_demand.a")).unwrap();
    assert!(
        line.split_whitespace().nth(1) == Some("n/a")
            && said.contains(
                "(n/a: the npv is the same on every path, so nothing correlates with it)"
            )
            && !said.contains("the economic cost is the same"),
        "{said}"
    );
    // Demand drives the economic cost: a correlation there.
    let rows = csv_rows(&dir.path().join("out/sensitivity/unserved/drivers.csv"));
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[1][..2], ["final_demand.a", ""], "{rows:?}");
    assert!(rows[1][2].parse::<f64>().unwrap() > 0.5, "{rows:?}");
}

/// Every command that loads a scenario prints its warnings on stderr,
/// `--quiet` or not (they were `run`'s alone, and `--quiet` silenced
/// them): after the file's name where the command takes several files,
/// each distinct warning once, at most 20 and then how many more. A
/// sweep warns at the points that warn (a rate swept as percentages);
/// a sensitivity analysis for its base only, not for its tornado's
/// ends.
#[test]
fn every_command_prints_the_scenarios_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("lib");
    std::fs::create_dir(&lib).unwrap();
    // A cloud provider with capex: valid, but it has no effect.
    let text = GOLDEN.replacen("[[provider]]\n", "[[provider]]\ncapex_per_gpu = 5\n", 1);
    assert_ne!(text, GOLDEN);
    let f = write(&lib, "a.toml", &text);
    let g = write(
        &lib,
        "b.toml",
        &text.replacen("name = \"golden\"", "name = \"other\"", 1),
    );
    let first = capsim(&["check", f.to_str().unwrap()]);
    let said = String::from_utf8_lossy(&first.stdout);
    let warning = said
        .lines()
        .find_map(|l| l.strip_prefix("# warning: "))
        .expect("the scenario warns")
        .to_string();
    assert!(
        warning.contains("capex_per_gpu = 5 has no effect"),
        "{warning}"
    );
    let (f, g) = (f.to_str().unwrap(), g.to_str().unwrap());
    let out = dir.path().join("out");
    let out = out.to_str().unwrap();
    let quiet = ["--paths", "100", "--out", out, "--quiet"];
    let runs: Vec<(Vec<&str>, Vec<String>)> = vec![
        (vec!["run", f], vec![format!("warning: {warning}")]),
        (
            vec!["compare", f, g],
            vec![
                format!("warning: {f}: {warning}"),
                format!("warning: {g}: {warning}"),
            ],
        ),
        (
            vec!["batch", lib.to_str().unwrap(), "--benchmark", "golden"],
            vec![
                format!("warning: {f}: {warning}"),
                format!("warning: {g}: {warning}"),
            ],
        ),
        (
            vec!["sweep", f, "--set", "agi.hazard=0.1:0.2:3"],
            vec![format!("warning: {warning}")],
        ),
        (
            vec!["sensitivity", f, "--param", "agi.hazard=0.1:0.2"],
            vec![format!("warning: {warning}")],
        ),
    ];
    for (args, want) in runs {
        let o = capsim(&[&args[..], &quiet[..]].concat());
        assert!(o.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        let got: Vec<&str> = err.lines().filter(|l| l.starts_with("warning")).collect();
        assert_eq!(got, want, "{args:?}");
    }
    let o = capsim(&["trace", f, "--path", "0", "--csv"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.trim_end(), format!("warning: {warning}"));

    // A sweep of a growth written as percentages warns at each point
    // above 100%, once each, at most 20 of them.
    let o = capsim(
        &[
            &["sweep", f, "--set", "workload.api.growth=0:30:31"][..],
            &quiet[..],
        ]
        .concat(),
    );
    assert!(o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("warning")).collect();
    assert_eq!(lines.len(), 21, "{err}");
    assert_eq!(lines[0], format!("warning: {warning}"));
    assert!(
        lines[1].starts_with("warning: workload.api.growth = 2 is 200% a year"),
        "{err}"
    );
    assert_eq!(
        lines[20],
        "warning: ... and 10 more (`capsim check` with the same --set lists a scenario's)"
    );
    // The tornado's own ends do not warn: 1.2x a volatility of 0.9.
    let o = capsim(
        &[
            &["sensitivity", f, "--set", "workload.api.volatility=0.9"][..],
            &quiet[..],
        ]
        .concat(),
    );
    assert!(o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.trim_end(), format!("warning: {warning}"));
    // A `--set period` that moves the horizon: once over a sweep's
    // points, for each file of a comparison.
    let moved = "--set period=month keeps periods = ";
    for (args, times) in [
        (vec!["sweep", f, "--set", "agi.hazard=0.1:0.2:3"], 1),
        (vec!["compare", f, g], 2),
        (vec!["run", f], 1),
    ] {
        let o = capsim(&[&args[..], &["--set", "period=month"], &quiet[..]].concat());
        assert!(o.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(err.matches(moved).count(), times, "{args:?}: {err}");
    }
}
