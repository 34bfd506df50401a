//! Throughput benches, each in path-periods per second (criterion's
//! "elements"): the whole engine on one and on two threads, the kernel
//! alone, its RNG floor (the same number of random draws and nothing else),
//! that floor plus one `exp` per normal, the allocation step alone (policy
//! `priority` without and with every rule kind, policy `optimal`) and the
//! statistics step alone. Run: `cargo bench --bench kernel`.

mod parts;

use capsim::engine::{self, Options};
use capsim::kernel::allocate::{allocate_with, Masks, NoTakes, Period};
use capsim::kernel::optimal::{allocate_optimal, Flow};
use capsim::kernel::Scratch;
use capsim::stats::{ChunkSums, HotTails};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use std::hint::black_box;

const PATHS: u64 = 2048;
/// Paths per iteration of the whole-engine benches: 16 blocks, so that the
/// per-run fixed costs (thread pool, sketch set-up, summaries) weigh little
/// and two threads share the blocks as they do in a long run.
const ENGINE_PATHS: u64 = 16_384;

fn bench_scenario(c: &mut Criterion, label: &str, file: &str) {
    // The whole engine on one and on two threads (the speed-up, as a ratio
    // in one run).
    let m = parts::load(file, ENGINE_PATHS);
    let mut g = c.benchmark_group(format!("{label}_engine"));
    g.throughput(Throughput::Elements(ENGINE_PATHS * m.periods as u64));
    g.sample_size(10);
    for threads in [1, 2] {
        g.bench_function(format!("{threads}_thread"), |b| {
            b.iter(|| {
                engine::run(
                    &m,
                    Options {
                        threads,
                        ..Default::default()
                    },
                )
                .unwrap()
            })
        });
    }
    g.finish();

    let m = parts::load(file, PATHS);
    let elements = PATHS * m.periods as u64;
    let mut g = c.benchmark_group(label);
    g.throughput(Throughput::Elements(elements));
    g.sample_size(20);

    g.bench_function("kernel_only", |b| {
        let mut s = Scratch::new(&m);
        let mut out = vec![0.0; m.layout.n_path()];
        let mut per = vec![0.0; m.periods * m.layout.n_period()];
        b.iter(|| black_box(parts::kernel(&m, PATHS, &mut s, &mut out, &mut per)))
    });
    g.bench_function("rng_floor", |b| {
        b.iter(|| black_box(parts::rng_floor(&m, PATHS, false)))
    });
    // The part of the kernel that no bookkeeping change can remove.
    g.bench_function("rng_exp_floor", |b| {
        b.iter(|| black_box(parts::rng_floor(&m, PATHS, true)))
    });
    g.bench_function("stats_only", |b| {
        let (buf, k) = parts::stats_rows(&m);
        b.iter_batched_ref(
            || (ChunkSums::new(k), HotTails::new(k)),
            |(chunk, tails)| parts::stats(&buf, k, PATHS, chunk, tails),
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

/// One period's inputs for the allocation benches.
#[derive(Clone)]
struct OnePeriod {
    demand: Vec<f64>,
    allowed: Vec<u64>,
    pass2: Vec<u64>,
    order_w: Vec<usize>,
    order_p: Vec<usize>,
    target: Vec<f64>,
    cap: Vec<f64>,
    res0: Vec<f64>,
    mkt0: Vec<f64>,
    price: Vec<f64>,
    shortfall: Vec<f64>,
}

/// Times one period's allocation by `policy` (false: priority, true:
/// optimal), pools refilled before each. (The same period every time:
/// `optimal` builds its network's index of arcs once, where a baseline run
/// rebuilds it in about one period in five.)
fn bench_period(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    x: &OnePeriod,
    optimal: bool,
) {
    let (nw, np) = (x.demand.len(), x.res0.len());
    g.bench_function(name, |b| {
        let mut res = x.res0.clone();
        let mut mkt = x.mkt0.clone();
        let mut served = vec![0.0; np];
        let mut unmet = vec![0.0; nw];
        let mut flow = Flow::new();
        b.iter(|| {
            res.copy_from_slice(&x.res0);
            mkt.copy_from_slice(&x.mkt0);
            let mut p = Period {
                demand: &x.demand,
                allowed: &x.allowed,
                pass2: &x.pass2,
                order_w: &x.order_w,
                order_p: &x.order_p,
                target: &x.target,
                cap: &x.cap,
                reserved_left: &mut res,
                market_left: &mut mkt,
                served_p: &mut served,
                unmet: &mut unmet,
            };
            if optimal {
                allocate_optimal(&mut p, &x.price, &x.shortfall, &mut flow, &mut NoTakes);
            } else {
                // As the kernel calls it: the masks, then the passes
                // (`allocate` also copies the pools to give served GPUs).
                let masks = Masks::of(&p);
                allocate_with(&mut p, masks, &mut NoTakes);
            }
            black_box(unmet[0])
        })
    });
}

fn allocation(c: &mut Criterion) {
    let m = parts::load("scenarios/baseline.toml", PATHS);
    let mut g = c.benchmark_group("allocation");
    g.throughput(Throughput::Elements(1));
    // One period's allocation for the baseline's workloads and providers,
    // with every provider allowed except the API's exclusivity.
    let nw = m.workloads.len();
    let np = m.providers.len();
    let all = (1u64 << np) - 1;
    let baseline = OnePeriod {
        demand: (0..nw).map(|w| 4.0e5 * (w + 1) as f64).collect(),
        allowed: (0..nw).map(|w| if w == 0 { 1 } else { all }).collect(),
        pass2: vec![0u64; nw],
        order_w: (0..nw).collect(),
        order_p: (0..np).collect(),
        target: vec![-1.0; np],
        cap: vec![f64::INFINITY; np],
        res0: (0..np).map(|p| m.reserved_gpus[8 * np + p]).collect(),
        mkt0: vec![5.0e5; np],
        price: (0..np).map(|p| 2.0 + p as f64).collect(),
        shortfall: m.shortfall_price.clone(),
    };
    bench_period(&mut g, "priority_one_period", &baseline, false);
    // The same with every rule kind at work: a min_share target on the
    // last provider, a max_share cap on the second, and the second
    // workload's first-refusal offer taken by the third provider.
    let total: f64 = baseline.demand.iter().sum();
    let mut all_rules = baseline.clone();
    all_rules.target[np - 1] = 0.2 * total;
    all_rules.cap[1] = 0.1 * total;
    all_rules.pass2[1] = 1 << 2;
    bench_period(&mut g, "priority_all_rules_one_period", &all_rules, false);
    // Policy optimal (the per-period programme as a minimum-cost flow).
    bench_period(&mut g, "optimal_one_period", &baseline, true);
    g.finish();
}

fn benches(c: &mut Criterion) {
    bench_scenario(c, "baseline", "scenarios/baseline.toml");
    bench_scenario(c, "all_rules", "tests/data/golden.toml");
    allocation(c);
}

criterion_group!(kernel, benches);
criterion_main!(kernel);
