//! Throughput benches, each in path-periods per second (criterion's
//! "elements"): the whole engine on one and on two threads, the kernel
//! alone, its RNG floor (the same number of random draws and nothing else),
//! that floor plus one `exp` per normal, the allocation step alone and the
//! statistics step alone. Run: `cargo bench --bench kernel`.

mod parts;

use capsim::engine::{self, Options};
use capsim::kernel::allocate::{allocate, NoTakes, Period};
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

fn allocation(c: &mut Criterion) {
    let m = parts::load("scenarios/baseline.toml", PATHS);
    let mut g = c.benchmark_group("allocation");
    g.throughput(Throughput::Elements(1));
    // One period's allocation for the baseline's workloads and providers,
    // with every provider allowed except the API's exclusivity.
    let nw = m.workloads.len();
    let np = m.providers.len();
    let demand: Vec<f64> = (0..nw).map(|w| 4.0e5 * (w + 1) as f64).collect();
    let all = (1u64 << np) - 1;
    let allowed: Vec<u64> = (0..nw).map(|w| if w == 0 { 1 } else { all }).collect();
    let pass2 = vec![0u64; nw];
    let order_w: Vec<usize> = (0..nw).collect();
    let order_p: Vec<usize> = (0..np).collect();
    let target = vec![-1.0; np];
    let cap = vec![f64::INFINITY; np];
    let res0: Vec<f64> = (0..np).map(|p| m.reserved_gpus[8 * np + p]).collect();
    let mkt0 = vec![5.0e5; np];
    g.bench_function("priority_one_period", |b| {
        let mut res = res0.clone();
        let mut mkt = mkt0.clone();
        let mut served = vec![0.0; np];
        let mut unmet = vec![0.0; nw];
        b.iter(|| {
            res.copy_from_slice(&res0);
            mkt.copy_from_slice(&mkt0);
            let mut p = Period {
                demand: &demand,
                allowed: &allowed,
                pass2: &pass2,
                order_w: &order_w,
                order_p: &order_p,
                target: &target,
                cap: &cap,
                reserved_left: &mut res,
                market_left: &mut mkt,
                served_p: &mut served,
                unmet: &mut unmet,
            };
            allocate(&mut p, &mut NoTakes);
            black_box(unmet[0])
        })
    });
    g.finish();
}

fn benches(c: &mut Criterion) {
    bench_scenario(c, "baseline", "scenarios/baseline.toml");
    bench_scenario(c, "all_rules", "tests/data/golden.toml");
    allocation(c);
}

criterion_group!(kernel, benches);
criterion_main!(kernel);
