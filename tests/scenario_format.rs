//! The file format of MODEL.md section 2-6: the spec's own examples load
//! unchanged; `check` prints a resolved scenario that loads back to the same
//! thing; `--set` reaches every kind of field.

use crate::util::*;
use capsim::scenario::{self, ContractKind, RuleKind};
use std::process::Command;

/// Every example block of MODEL.md, assembled into one file.
const SPEC_EXAMPLES: &str = r#"
name = "spec-examples"
start = "2025-01"
periods = 32
[simulation]
paths = 500

[[workload]]
name = "api"
demand = 200000        # GPUs in period 0
growth = 0.55          # expected continuous annual growth rate g
volatility = 0.30      # annual volatility of log demand, sigma
jump_rate = 0.0        # Poisson jumps per year, lambda
jump_mean = 0.0        # mean of log jump size
jump_stdev = 0.0       # stdev of log jump size
shortfall_price = 20.0 # optional, overrides the top-level one
deferrable = false     # unmet demand is carried to the next period

[[workload]]
name = "research"
demand = 1000
[[workload]]
name = "product"
demand = 1000

[[provider]]
name = "azure"
kind = "cloud"          # "cloud" (default) or "owned"
price = 2.40            # $/GPU-hour in period 0 (owned: operating cost per used GPU-hour)
price_drift = -0.15     # expected continuous annual change of log price, mu
price_volatility = 0.10 # s
availability = 0.97     # usable fraction of tranche capacity, default 1
capex_per_gpu = 0       # owned only: cash paid when a tranche comes online
life_years = 5          # owned only: straight-line depreciation life

  [[provider.tranche]]
  gpus = 500000
  online = "2025-06"                            # planned month
  delay_months = { median = 3.0, sigma = 0.6 }  # optional lognormal delay
  failure = 0.05                                # P(tranche never delivers), default 0

[[provider]]
name = "oracle"
price = 3
[[provider]]
name = "coreweave"
price = 3

[[contract]]
name = "oracle-reserved"  # optional; default "<kind>-<provider>-<index>"
kind = "reserved"         # capacity paid whether used or not
provider = "oracle"
gpus = 400000
price = 2.20              # fixed $/GPU-hour
from = "2027-01"
to = "2031-12"

[[contract]]
kind = "commitment"       # take-or-pay minimum spend
provider = "azure"
amount = 250e9
from = "2026-01"
to = "2032-12"

[[rule]]
kind = "exclusive"            # these workloads may use only these providers
workloads = ["api"]
providers = ["azure"]
until = "agi"                 # optional; also `from`

[[rule]]
kind = "first_refusal"        # offer flexible demand to this provider first
provider = "azure"
workloads = ["research", "product"]  # default: all workloads
accept = 0.7                  # P(provider takes the offer), drawn per period

[[rule]]
kind = "min_share"            # provider serves at least share of total demand
provider = "azure"
share = 0.4

[[rule]]
kind = "max_share"            # provider serves at most share of total demand
provider = "coreweave"
share = 0.15

[agi]
hazard = 0.08                 # declarations per year (exponential waiting time)
earliest = "2027-01"          # no declaration before this month

[[correlation]]
between = ["demand/api", "demand/product"]   # or "price/<p>"
rho = 0.6
"#;

#[test]
fn spec_examples_load_unchanged() {
    let l = load(SPEC_EXAMPLES);
    let s = &l.scenario;
    assert_eq!(s.contracts[1].name, "commitment-azure-1");
    assert!(
        matches!(s.contracts[0].kind, ContractKind::Reserved { gpus, price } if gpus == 400000.0 && price == 2.20)
    );
    assert!(matches!(s.rules[1].kind, RuleKind::FirstRefusal { accept, .. } if accept == 0.7));
    assert_eq!(s.providers[0].tranches[0].online, 5);
    assert_eq!(s.agi.as_ref().unwrap().earliest, 24);
    let (m, st) = run(SPEC_EXAMPLES);
    assert!(st.path_metric(&m, "cash").unwrap().mean > 0.0);
    assert!(m
        .layout
        .path_names
        .contains(&"true_up.commitment-azure-1".to_string()));
    assert!(m
        .layout
        .path_names
        .contains(&"unsettled.commitment-azure-1".to_string()));
}

#[test]
fn defaults_are_filled_in() {
    let l = load("name = \"d\"\nstart = \"2026-01\"\nperiods = 2\n[[workload]]\nname = \"w\"\ndemand = 1\n[[provider]]\nname = \"p\"\nprice = 1\n[agi]\n");
    let s = &l.scenario;
    assert_eq!(s.period.months(), 3);
    assert_eq!(s.simulation.paths, 10_000);
    assert_eq!(s.simulation.seed, 0);
    assert_eq!(s.currency, "USD");
    assert_eq!(s.providers[0].availability, 1.0);
    assert_eq!(s.providers[0].life_years, 5.0);
    assert_eq!(s.agi.as_ref().unwrap().earliest, 0);
    assert_eq!(s.agi.as_ref().unwrap().hazard, 0.0);
}

#[test]
fn resolved_scenario_round_trips() {
    for text in [
        SPEC_EXAMPLES,
        include_str!("data/golden.toml"),
        include_str!("../scenarios/baseline.toml"),
    ] {
        let l = load(text);
        let again = load(&l.resolved_toml);
        assert_eq!(l.scenario, again.scenario);
        assert_eq!(l.resolved_sha256, again.resolved_sha256);
    }
}

#[test]
fn overrides_reach_every_kind_of_field() {
    let l = load_with(
        SPEC_EXAMPLES,
        &[
            "provider.azure.price_drift=-0.3",
            "workload.api.growth=0.4",
            "simulation.paths=200000",
            "provider.azure.tranche.0.gpus=7",
            "provider.azure.tranche.0.delay_months.median=1.5",
            "contract.commitment-azure-1.amount=1e9",
            "contract.oracle-reserved.to=2030-12",
            "rule.3.share=0.2",
            "rule.0.until=2028-01",
            "agi.hazard=0.5",
            "correlation.0.rho=-0.2",
            "period=month",
            "workload.research.deferrable=true",
        ],
    );
    let s = &l.scenario;
    assert_eq!(s.providers[0].price_drift, -0.3);
    assert_eq!(s.workloads[0].growth, 0.4);
    assert_eq!(s.simulation.paths, 200_000);
    assert_eq!(s.providers[0].tranches[0].gpus, 7.0);
    assert_eq!(
        s.providers[0].tranches[0].delay.as_ref().unwrap().median,
        1.5
    );
    assert!(matches!(s.contracts[1].kind, ContractKind::Commitment { amount } if amount == 1e9));
    assert_eq!(s.contracts[0].to, Some(71));
    assert!(matches!(s.rules[3].kind, RuleKind::MaxShare { share, .. } if share == 0.2));
    assert_eq!(s.agi.as_ref().unwrap().hazard, 0.5);
    assert_eq!(s.correlations[0].rho, -0.2);
    assert_eq!(s.period.months(), 1);
    assert!(s.workloads[1].deferrable);
    assert_eq!(l.overrides.len(), 13);
}

#[test]
fn set_creates_missing_tables() {
    let l = load_with(
        "name = \"d\"\nstart = \"2026-01\"\nperiods = 2\n",
        &["simulation.seed=9", "agi.hazard=0.2"],
    );
    assert_eq!(l.scenario.simulation.seed, 9);
    assert_eq!(l.scenario.agi.unwrap().hazard, 0.2);
}

/// An integer beyond TOML's 64-bit range is a number (`sensitivity` prints
/// large floats that way), not a string with a type error.
#[test]
fn set_takes_integers_beyond_i64_as_numbers() {
    let base =
        "name = \"d\"\nstart = \"2026-01\"\nperiods = 2\n[[workload]]\nname = \"w\"\ndemand = 1\n";
    let l = load_with(base, &["workload.w.demand=100000000000000000000"]);
    assert_eq!(l.scenario.workloads[0].demand, 1e20);
    let l = load_with(base, &["workload.w.growth=-100000000000000000000"]);
    assert_eq!(l.scenario.workloads[0].growth, -1e20);
}

#[test]
fn check_prints_a_loadable_resolved_scenario() {
    let o = Command::new(bin())
        .args([
            "check",
            concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/baseline.toml"),
        ])
        .output()
        .unwrap();
    assert!(o.status.success());
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.contains("availability = 1.0"), "defaults filled in");
    let back = scenario::load_str(std::path::Path::new("check.toml"), &text, &[]).unwrap();
    assert_eq!(back.scenario.name, "baseline");
}

/// `check` takes `run`'s `--paths` and `--seed` (a run's command line with
/// `check` for `run` was refused, with clap's tip to write `-- --paths`):
/// its header names every override, and its sha256 is the one the run's
/// manifest records for the same flags.
#[test]
fn check_takes_a_runs_paths_and_seed() {
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/golden.toml");
    let flags = ["--set", "agi.hazard=0.2", "--paths", "1500", "--seed", "7"];
    let o = Command::new(bin())
        .args(["check", file])
        .args(flags)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8(o.stdout).unwrap();
    let header = text.lines().next().unwrap();
    assert!(
        header.starts_with(&format!(
            "# {file} with agi.hazard=0.2, simulation.paths=1500, simulation.seed=7: valid."
        )),
        "{header}"
    );
    let back = scenario::load_str(std::path::Path::new("check.toml"), &text, &[]).unwrap();
    assert_eq!(
        (
            back.scenario.simulation.paths,
            back.scenario.simulation.seed
        ),
        (1500, 7)
    );
    let dir = tempfile::tempdir().unwrap();
    let mut args = flags.to_vec();
    args.push("--quiet");
    assert!(run_golden(&args, dir.path()).status.success());
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("golden/manifest.json")).unwrap(),
    )
    .unwrap();
    let sha = manifest["resolved_sha256"].as_str().unwrap();
    assert!(
        header.ends_with(&format!("sha256 {sha}")),
        "{header} vs {sha}"
    );
}

/// `capsim run tests/data/golden.toml ARGS --out DIR`.
fn run_golden(args: &[&str], dir: &std::path::Path) -> std::process::Output {
    Command::new(bin())
        .arg("run")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/golden.toml"
        ))
        .args(args)
        .arg("--out")
        .arg(dir)
        .output()
        .unwrap()
}

#[test]
fn run_writes_the_documented_files_and_columns() {
    let dir = tempfile::tempdir().unwrap();
    let o = run_golden(&["--paths", "2000", "--paths-csv", "--quiet"], dir.path());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let d = dir.path().join("golden");
    let first = |f: &str| {
        std::fs::read_to_string(d.join(f))
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .to_string()
    };
    assert_eq!(
        first("summary.csv"),
        "metric,mean,std,stderr,min,p1,p5,p10,p25,p50,p75,p90,p95,p99,max,cvar95,cvar99"
    );
    assert_eq!(
        first("periods.csv"),
        "period,date,metric,mean,p5,p25,p50,p75,p95"
    );
    assert_eq!(first("providers.csv"), "provider,metric,mean,p5,p50,p95");
    assert!(first("paths.csv").starts_with("path,cash,npv,economic,"));
    let paths = NumericCsv::read(&d.join("paths.csv"));
    assert_eq!(paths.rows.len(), 2000);
    // Every number as Rust's `{}` writes it (the shortest digits that read
    // back as the same f64, no exponent), every line ended by CRLF.
    for f in ["summary.csv", "periods.csv", "providers.csv", "paths.csv"] {
        let text = std::fs::read_to_string(d.join(f)).unwrap();
        assert!(text.ends_with("\r\n"), "{f}");
        let mut numbers = 0;
        for line in text.split_terminator("\r\n").skip(1) {
            assert!(!line.contains('\n'), "{f}: {line}");
            for field in line.split(',') {
                if let Ok(x) = field.parse::<f64>() {
                    assert_eq!(format!("{x}"), field, "{f}: {line}");
                    numbers += 1;
                }
            }
        }
        assert!(numbers > 20, "{f}: {numbers} numbers");
    }
    let man: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(man["paths"], 2000);
    assert_eq!(man["seed"], 42);
    assert_eq!(man["scenario_sha256"].as_str().unwrap().len(), 64);
    assert!(man["capsim_version"].is_string());
    // The mean cash in summary.csv is the mean of paths.csv's cash column.
    let c = paths.col("cash");
    let mean = paths.rows.iter().map(|r| r[c]).sum::<f64>() / paths.rows.len() as f64;
    let summary = std::fs::read_to_string(d.join("summary.csv")).unwrap();
    let got: f64 = summary
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    assert!((got - mean).abs() <= 1e-9 * mean);
    // No temporary folders are left behind.
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "{leftovers:?}");
}

#[test]
fn every_library_scenario_loads_and_runs() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios");
    let mut n = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "toml") {
            let l = scenario::load_file(&p, &["simulation.paths=300".to_string()])
                .unwrap_or_else(|e| panic!("{e}"));
            assert!(
                !l.scenario.description.is_empty(),
                "{} has no description",
                p.display()
            );
            assert!(
                l.scenario.description.contains("Question"),
                "{}",
                p.display()
            );
            let m = capsim::model::Model::compile(&l.scenario);
            let st = run_model(&m, 2, 1024);
            assert!(st.path_metric(&m, "cash").unwrap().mean > 0.0);
            n += 1;
        }
    }
    assert!(n >= 7, "the library has {n} scenarios");
}

/// A file read once and loaded with many sets of overrides (a sweep's
/// points, a tornado's runs: `scenario::Source`) gives, load after load and
/// in any order, what loading the text afresh gives: the same resolved
/// scenario and fields set, the same errors (a bad override, a file
/// error, a field of the file an override made wrong).
#[test]
fn a_source_loads_as_the_text_does_every_time() {
    const GOLDEN: &str = include_str!("data/golden.toml");
    let path = std::path::Path::new("s.toml");
    let sets: Vec<Vec<String>> = [
        &[][..],
        &["workload.api.growth=0.4"],
        &["workload.0.growth=0.1", "agi.hazard=0.3"],
        &["workload.api.growth=-1e400"],
        &["workload.api.volatility=-1"],
        &["provider.nope.price=1"],
        &["rule.0.kind=min_share"],
        &["simulation.paths=12"],
        &["workload.api.growth=0.4"],
    ]
    .iter()
    .map(|s| s.iter().map(|x| x.to_string()).collect())
    .collect();
    let key = |r: Result<scenario::Loaded, capsim::error::InputError>| {
        r.map(|l| {
            (
                l.resolved_toml,
                l.resolved_sha256,
                l.file_sha256,
                l.override_paths,
                l.overrides,
            )
        })
    };
    for text in [
        GOLDEN.to_string(),
        GOLDEN.replace("periods = ", "periods = 0 #"),
        GOLDEN.replace("[simulation]", "[simulation\n"),
    ] {
        let source = scenario::Source::new(path, text.clone());
        for order in [false, true] {
            let mut all: Vec<&Vec<String>> = sets.iter().collect();
            if order {
                all.reverse();
            }
            for s in all {
                let fresh = key(scenario::load_str(path, &text, s));
                assert_eq!(key(source.load(s)), fresh, "{s:?}");
            }
        }
    }
    // The cases do what they say: a load, a bad override, a file error.
    let source = scenario::Source::new(path, GOLDEN.to_string());
    assert!(source.load(&sets[2]).is_ok());
    assert!(source.load(&sets[5]).is_err());
    assert!(
        scenario::Source::new(path, GOLDEN.replace("periods = ", "periods = 0 #"))
            .load(&[])
            .is_err()
    );
}

#[test]
fn run_header_counts_in_the_singular_for_one() {
    let dir = tempfile::tempdir().unwrap();
    let o = run_golden(&["--paths", "1", "--threads", "1"], dir.path());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8(o.stdout).unwrap();
    let first = text.lines().next().unwrap();
    assert!(
        first.starts_with("golden: 1 path x 10 periods (") && first.contains(", 1 thread, "),
        "{first}"
    );
}
