//! Results depend on the seed and the paths only (MODEL.md section 9): not on
//! threads or block size; and scenarios share the draws of common factors.

use crate::util::*;
use capsim::output;

const SCENARIO: &str = include_str!("data/golden.toml");

fn all_csv(m: &capsim::model::Model, s: &capsim::engine::RunStats) -> Vec<u8> {
    let mut v = output::summary_csv(m, s).unwrap();
    v.extend(output::periods_csv(m, s).unwrap());
    v.extend(output::providers_csv(m, s).unwrap());
    v
}

#[test]
fn bitwise_identical_across_threads_and_block_sizes() {
    // 5000 paths: several blocks, a partial last chunk.
    let text = SCENARIO.replace("paths = 3000", "paths = 5000");
    let m = model(&text);
    let base = all_csv(&m, &run_model(&m, 1, 1024));
    assert_eq!(base, all_csv(&m, &run_model(&m, 2, 1024)), "1 vs 2 threads");
    assert_eq!(
        base,
        all_csv(&m, &run_model(&m, 2, 2048)),
        "block 1024 vs 2048"
    );
    assert_eq!(
        base,
        all_csv(&m, &run_model(&m, 3, 4096)),
        "3 threads, block 4096"
    );
    // More threads than the 5 blocks: a worker per block, the threads
    // asked for reported.
    let many = run_model(&m, 64, 1024);
    assert_eq!(many.threads, 64);
    assert_eq!(base, all_csv(&m, &many), "64 threads, 5 blocks");
}

#[test]
fn seed_changes_results() {
    let m1 = model(SCENARIO);
    let m2 = model(&SCENARIO.replace("seed = 42", "seed = 43"));
    assert_ne!(
        all_csv(&m1, &run_model(&m1, 2, 1024)),
        all_csv(&m2, &run_model(&m2, 2, 1024))
    );
}

fn demand_rows(m: &capsim::model::Model, s: &capsim::engine::RunStats) -> Vec<String> {
    let csv = String::from_utf8(output::periods_csv(m, s).unwrap()).unwrap();
    csv.lines()
        .filter(|l| l.contains(",demand,"))
        .map(str::to_string)
        .collect()
}

fn metric_rows(
    m: &capsim::model::Model,
    s: &capsim::engine::RunStats,
    metric: &str,
) -> Vec<String> {
    let csv = String::from_utf8(output::periods_csv(m, s).unwrap()).unwrap();
    let needle = format!(",{metric},");
    csv.lines()
        .filter(|l| l.contains(&needle))
        .map(str::to_string)
        .collect()
}

#[test]
fn common_random_numbers_adding_a_provider() {
    // Non-deferrable demand does not depend on allocation, so its whole
    // distribution must be bitwise unchanged when a provider is added.
    let text = SCENARIO.replace("deferrable = true", "deferrable = false");
    let with_extra = text.replace(
        "[[contract]]\nkind = \"commitment\"\nprovider = \"azure\"\namount = 1e8",
        "[[provider]]\nname = \"coreweave\"\nprice = 1.5\nprice_volatility = 0.4\n  [[provider.tranche]]\n  gpus = 700\n  online = \"2026-03\"\n  failure = 0.5\n\n[[contract]]\nkind = \"commitment\"\nprovider = \"azure\"\namount = 1e8",
    );
    assert_ne!(text, with_extra);
    let (m1, s1) = run(&text);
    let (m2, s2) = run(&with_extra);
    assert_eq!(m2.providers.len(), m1.providers.len() + 1);
    assert_eq!(demand_rows(&m1, &s1), demand_rows(&m2, &s2));
    for p in ["azure", "oracle", "own"] {
        assert_eq!(
            metric_rows(&m1, &s1, &format!("price.{p}")),
            metric_rows(&m2, &s2, &format!("price.{p}"))
        );
        // Tranche draws are keyed by provider name and index: capacity too.
        assert_eq!(
            metric_rows(&m1, &s1, &format!("capacity.{p}")),
            metric_rows(&m2, &s2, &format!("capacity.{p}"))
        );
    }
    // The AGI draw is shared too.
    assert_eq!(
        s1.path_metric(&m1, "agi_declared").unwrap(),
        s2.path_metric(&m2, "agi_declared").unwrap()
    );
}

#[test]
fn common_random_numbers_changing_one_price() {
    let text = SCENARIO.replace("deferrable = true", "deferrable = false");
    let loaded = load_with(
        &text,
        &[
            "provider.own.price=0.9",
            "provider.own.price_volatility=0.3",
        ],
    );
    let m2 = capsim::model::Model::compile(&loaded.scenario);
    let s2 = run_model(&m2, 2, 1024);
    let (m1, s1) = run(&text);
    assert_eq!(demand_rows(&m1, &s1), demand_rows(&m2, &s2));
    for p in ["azure", "oracle"] {
        assert_eq!(
            metric_rows(&m1, &s1, &format!("price.{p}")),
            metric_rows(&m2, &s2, &format!("price.{p}"))
        );
    }
    assert_ne!(
        metric_rows(&m1, &s1, "price.own"),
        metric_rows(&m2, &s2, "price.own")
    );
}

#[test]
fn reordering_providers_keeps_each_factor() {
    // Uncorrelated providers in another order: every factor keeps its draws.
    let text = SCENARIO
        .replace("deferrable = true", "deferrable = false")
        .replace(
            "between = [\"price/azure\", \"price/oracle\"]\nrho = 0.4",
            "between = [\"price/azure\", \"price/oracle\"]\nrho = 0.0",
        );
    let azure_start = text.find("[[provider]]\nname = \"azure\"").unwrap();
    let oracle_start = text.find("[[provider]]\nname = \"oracle\"").unwrap();
    let own_start = text.find("[[provider]]\nname = \"own\"").unwrap();
    let azure = &text[azure_start..oracle_start];
    let oracle = &text[oracle_start..own_start];
    let reordered = format!(
        "{}{}{}{}",
        &text[..azure_start],
        oracle,
        azure,
        &text[own_start..]
    );
    let (m1, s1) = run(&text);
    let (m2, s2) = run(&reordered);
    assert_eq!(m2.provider_names[0], "oracle");
    for p in ["azure", "oracle", "own"] {
        assert_eq!(
            metric_rows(&m1, &s1, &format!("price.{p}")),
            metric_rows(&m2, &s2, &format!("price.{p}"))
        );
    }
    assert_eq!(demand_rows(&m1, &s1), demand_rows(&m2, &s2));
}

#[test]
fn sketch_flushes_do_not_change_results() {
    // Workers keep 16-bit sketch counts and empty them into the run's
    // sketches every 65,535 paths (stats::HotTails). With 140,000 paths one
    // thread flushes twice mid-run, two and three threads at other points:
    // the outputs must not move.
    let text = r#"
name = "flush"
start = "2026-01"
periods = 2
period = "quarter"
[simulation]
paths = 140000
seed = 5
[[workload]]
name = "w"
demand = 100
growth = 0.1
volatility = 0.3
[[provider]]
name = "p"
price = 2.0
price_volatility = 0.2
  [[provider.tranche]]
  gpus = 110
  online = "2025-01"
"#;
    let m = model(text);
    let one = run_model(&m, 1, 1024);
    let base = all_csv(&m, &one);
    assert_eq!(base, all_csv(&m, &run_model(&m, 2, 1024)), "1 vs 2 threads");
    assert_eq!(base, all_csv(&m, &run_model(&m, 3, 2048)), "3 threads");
    // Every path reached the sketches: the median of served GPU-hours sits
    // where the counts say (demand above and below capacity).
    let s = one.path_metric(&m, "unmet_gpu_hours").unwrap();
    assert_eq!(s.n, 140_000);
    assert!(s.quantiles[0] == 0.0 && s.max > 0.0);
}

#[test]
fn paths_arrive_in_order_and_a_failing_sink_stops_the_run() {
    // Workers finish blocks out of order; the sink must still see paths
    // 0, 1, 2, ... and, when it fails, the run must stop with its error
    // (not hang with workers waiting for a merge that never comes).
    let text = SCENARIO.replace("paths = 3000", "paths = 20000");
    let m = model(&text);
    for threads in [1, 2, 3] {
        let mut next = 0u64;
        let mut sink = |path: u64, _: &[f64]| -> capsim::error::Result<()> {
            assert_eq!(path, next, "paths out of order");
            next += 1;
            Ok(())
        };
        let opts = capsim::engine::Options {
            threads,
            block: 1024,
            sink: Some(&mut sink),
            ..Default::default()
        };
        capsim::engine::run(&m, opts).unwrap();
        assert_eq!(next, 20_000);

        let mut sink = |path: u64, _: &[f64]| -> capsim::error::Result<()> {
            if path == 5_000 {
                return Err(capsim::error::Error::Other("disk full".into()));
            }
            Ok(())
        };
        let opts = capsim::engine::Options {
            threads,
            block: 1024,
            sink: Some(&mut sink),
            ..Default::default()
        };
        let err = capsim::engine::run(&m, opts).unwrap_err();
        assert!(err.to_string().contains("disk full"), "{err}");
    }
}

/// The AVX2 code paths (normal draws in vector lanes, `exp`, statistics
/// ingest, the kernel's copies compiled for AVX2 and BMI; taken on CPUs
/// with those) and the plain ones (`CAPSIM_PLAIN` set)
/// write the same output files, byte for byte, on the baseline and the
/// all-rules scenario. (On a CPU without AVX2 both runs take the plain
/// paths and the test only checks that the switch changes nothing else.)
#[test]
fn vector_and_plain_code_paths_write_the_same_files() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for (scenario, name) in [
        ("scenarios/baseline.toml", "baseline"),
        ("tests/data/golden.toml", "golden"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let run = |out: &str, plain: bool| {
            let mut c = std::process::Command::new(bin());
            c.arg("run")
                .arg(root.join(scenario))
                .args(["--paths", "3000", "--threads", "2", "--quiet", "--out"])
                .arg(dir.path().join(out));
            if plain {
                c.env("CAPSIM_PLAIN", "1");
            } else {
                c.env_remove("CAPSIM_PLAIN");
            }
            let o = c.output().unwrap();
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        };
        run("vector", false);
        run("plain", true);
        for file in ["summary.csv", "periods.csv", "providers.csv"] {
            let read = |d: &str| std::fs::read(dir.path().join(d).join(name).join(file)).unwrap();
            assert!(
                read("vector") == read("plain"),
                "{scenario}: {file} differs"
            );
        }
    }
}

/// A scenario of `n` providers using every mechanism: market providers with
/// tranches (delays, failures), plain market ones and owned ones in turn, a
/// reserved contract and commitments, rules of every kind on providers
/// spread over the list, correlated prices.
fn scenario_with_providers(n: usize, policy: &str) -> String {
    let head = SCENARIO.split("[[provider]]").next().unwrap();
    let mut t = head.replace("seed = 42", &format!("seed = 42\npolicy = \"{policy}\""));
    for p in 0..n {
        t += &match p % 3 {
            0 => format!(
                "[[provider]]\nname = \"p{p}\"\nprice = {}\nprice_drift = -0.15\nprice_volatility = 0.1\n\
                 [[provider.tranche]]\ngpus = {}\nonline = \"2025-01\"\n\
                 [[provider.tranche]]\ngpus = 900\nonline = \"2026-06\"\n\
                 delay_months = {{ median = 3.0, sigma = 0.6 }}\nfailure = 0.1\n",
                2.0 + 0.1 * p as f64,
                300 * (p + 1)
            ),
            1 => format!(
                "[[provider]]\nname = \"p{p}\"\nprice = 2.4\nprice_drift = -0.2\nprice_volatility = 0.2\n\
                 [[provider.tranche]]\ngpus = 500\nonline = \"2026-01\"\n"
            ),
            _ => format!(
                "[[provider]]\nname = \"p{p}\"\nkind = \"owned\"\nprice = 0.3\ncapex_per_gpu = 50000\nlife_years = 5\n\
                 [[provider.tranche]]\ngpus = 700\nonline = \"2026-09\"\n\
                 delay_months = {{ median = 2.0, sigma = 0.5 }}\nfailure = 0.2\n"
            ),
        };
    }
    let q = |i: usize| format!("p{}", i % n);
    t += &format!(
        "[[contract]]\nkind = \"commitment\"\nprovider = \"{}\"\namount = 1e8\nfrom = \"2026-01\"\nto = \"2027-06\"\n\
         [[contract]]\nkind = \"reserved\"\nprovider = \"{}\"\ngpus = 800\nprice = 2.0\nfrom = \"2026-04\"\nto = \"2027-09\"\n\
         [[rule]]\nkind = \"exclusive\"\nworkloads = [\"api\"]\nproviders = [\"{}\", \"{}\"]\nuntil = \"agi\"\n\
         [[rule]]\nkind = \"first_refusal\"\nprovider = \"{}\"\nworkloads = [\"product\"]\naccept = 0.5\n\
         [[rule]]\nkind = \"min_share\"\nprovider = \"{}\"\nshare = 0.2\nfrom = \"2026-10\"\n\
         [[rule]]\nkind = \"max_share\"\nprovider = \"{}\"\nshare = 0.3\nfrom = \"agi\"\n",
        q(0),
        q(1),
        q(0),
        q(n / 2),
        q(1),
        q(2),
        q(n.saturating_sub(1)),
    );
    if n >= 2 {
        t += &format!(
            "[[correlation]]\nbetween = [\"price/p0\", \"price/p{}\"]\nrho = 0.4\n",
            n - 1
        );
    }
    t
}

/// `simulate_path` runs a copy of the kernel compiled for the model's number
/// of providers (up to `MAX_FIXED_PROVIDERS`; on CPUs with AVX2 and BMI, the
/// copies compiled for those); each gives, bit for bit, what the general
/// plain copy gives, path by path, under both policies.
#[test]
fn kernel_copies_per_provider_count_match_the_general_one() {
    use capsim::kernel::{simulate, simulate_path, NoObserver, Scratch, MAX_FIXED_PROVIDERS};
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    for n in 1..=MAX_FIXED_PROVIDERS + 2 {
        for policy in ["priority", "optimal"] {
            let m = model(&scenario_with_providers(n, policy));
            assert_eq!(m.providers.len(), n);
            let (mut s1, mut s2) = (Scratch::new(&m), Scratch::new(&m));
            let mut out = [vec![0.0; m.layout.n_path()], vec![0.0; m.layout.n_path()]];
            let np = m.periods * m.layout.n_period();
            let mut per = [vec![0.0; np], vec![0.0; np]];
            let mut shortfall = 0.0;
            for path in 0..300 {
                let [o1, o2] = &mut out;
                let [p1, p2] = &mut per;
                simulate_path(&m, path, &mut s1, o1, p1, &mut NoObserver);
                simulate::<_, 0>(&m, path, &mut s2, o2, p2, &mut NoObserver);
                assert_eq!(bits(o1), bits(o2), "{n} providers, {policy}, path {path}");
                assert_eq!(bits(p1), bits(p2), "{n} providers, {policy}, path {path}");
                shortfall += o1[capsim::model::pm::SHORTFALL_COST];
            }
            // The scenarios are tight enough that the rules and pools bind.
            assert!(shortfall > 0.0, "{n} providers: no shortfall");
        }
    }
}

/// The largest scenario validation accepts (64 workloads, 64 providers: the
/// general kernel copy, whose arrays are `MAX_PROVIDERS` and
/// `MAX_WORKLOADS` long, every slot in use), with rules on the last
/// workload and provider: under both policies every period serves what it
/// does not leave unmet, and under `priority` the run is the same on 1 and
/// 2 threads.
#[test]
fn largest_scenario_conserves_demand_and_is_thread_independent() {
    use capsim::kernel::{simulate_path, NoObserver, Scratch};
    use capsim::model::{qm, MAX_PROVIDERS, MAX_WORKLOADS};
    for policy in ["priority", "optimal"] {
        let mut t = format!(
            "name = \"largest\"\nstart = \"2026-01\"\nperiods = 6\nperiod = \"quarter\"\n\
             shortfall_price = 10.0\n[simulation]\npaths = 1100\nseed = 9\npolicy = \"{policy}\"\n"
        );
        for w in 0..MAX_WORKLOADS {
            t += &format!(
                "[[workload]]\nname = \"w{w}\"\ndemand = {}\ngrowth = 0.3\nvolatility = 0.3\ndeferrable = {}\n",
                40 + w,
                w % 2 == 1
            );
        }
        for p in 0..MAX_PROVIDERS {
            t += &format!(
                "[[provider]]\nname = \"p{p}\"\nprice = {}\nprice_volatility = 0.2\n\
                 [[provider.tranche]]\ngpus = {}\nonline = \"2026-02\"\n",
                1.0 + 0.01 * p as f64,
                20 + p
            );
        }
        t += "[[rule]]\nkind = \"exclusive\"\nworkloads = [\"w0\", \"w63\"]\nproviders = [\"p0\", \"p63\"]\n\
              [[rule]]\nkind = \"first_refusal\"\nprovider = \"p62\"\nworkloads = [\"w62\"]\naccept = 0.5\n\
              [[rule]]\nkind = \"min_share\"\nprovider = \"p63\"\nshare = 0.02\n\
              [[rule]]\nkind = \"max_share\"\nprovider = \"p1\"\nshare = 0.01\n";
        let m = model(&t);
        assert_eq!((m.workloads.len(), m.providers.len()), (64, 64));
        let mut s = Scratch::new(&m);
        let mut out = vec![0.0; m.layout.n_path()];
        let nq = m.layout.n_period();
        let mut per = vec![0.0; m.periods * nq];
        let mut unmet = 0.0;
        for path in 0..40 {
            simulate_path(&m, path, &mut s, &mut out, &mut per, &mut NoObserver);
            for row in per.chunks_exact(nq) {
                let (d, sv, u) = (row[qm::DEMAND], row[qm::SERVED], row[qm::UNMET]);
                assert!(sv > 0.0 && u >= 0.0, "{policy}, path {path}");
                assert!(
                    (d - sv - u).abs() <= 1e-9 * d,
                    "{policy}, path {path}: {d} != {sv} + {u}"
                );
                unmet += u;
            }
        }
        // Capacity is short of demand: the pools bind.
        assert!(unmet > 0.0, "{policy}: nothing unmet");
        if policy == "priority" {
            // Two blocks of paths (`optimal` at this size is slow in debug
            // builds; its threads are checked on smaller models above).
            assert_eq!(
                all_csv(&m, &run_model(&m, 1, 1024)),
                all_csv(&m, &run_model(&m, 2, 1024)),
                "{policy}: 1 vs 2 threads"
            );
        }
    }
}

/// `sweep` and `sensitivity` report path metrics only and accumulate
/// nothing else (`engine::run_path_metrics`): the same path statistics, bit
/// for bit, as a full run, on one or two threads, under both policies.
#[test]
fn path_metrics_alone_match_a_full_run() {
    use capsim::engine::{self, Options};
    for policy in ["priority", "optimal"] {
        let text = SCENARIO.replace("paths = 3000", "paths = 2500");
        let set = format!("simulation.policy={policy}");
        let m = capsim::model::Model::compile(&load_with(&text, &[&set]).scenario);
        let full = run_model(&m, 2, 1024);
        let np = m.layout.n_path();
        for threads in [1, 2] {
            let opts = Options {
                threads,
                ..Default::default()
            };
            let alone = engine::run_path_metrics(&m, opts).unwrap();
            assert_eq!(alone.path, full.path, "{policy}, {threads} threads");
            assert_eq!(
                output::summary_csv(&m, &alone).unwrap(),
                output::summary_csv(&m, &full).unwrap()
            );
            assert_eq!(alone.accumulated.moments, full.accumulated.moments[..np]);
            assert!(alone.period.is_empty() && alone.charges.is_empty());
        }
    }
}
