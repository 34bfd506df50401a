//! The parts of a run that `benches/kernel.rs` times and
//! `examples/parts.rs` runs under callgrind (instruction counts, which this
//! project's noisy machine cannot disturb): the kernel alone, its RNG floor
//! (the same random draws and nothing else), that floor plus one `exp` per
//! normal, and the statistics step alone.

use capsim::kernel::{normals, simulate_path, NoObserver, Scratch};
use capsim::model::Model;
use capsim::rng;
use capsim::stats::{ChunkSums, HotTails, CHUNK};
use std::path::Path;

pub fn load(file: &str, paths: u64) -> Model {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    let l = capsim::scenario::load_file(&path, &[format!("simulation.paths={paths}")]).unwrap();
    Model::compile(&l.scenario)
}

/// The kernel on paths `0..paths`.
pub fn kernel(m: &Model, paths: u64, s: &mut Scratch, out: &mut [f64], per: &mut [f64]) -> f64 {
    for path in 0..paths {
        simulate_path(m, path, s, out, per, &mut NoObserver);
    }
    out[0]
}

/// The kernel's draws for paths `0..paths` and nothing else, drawn the way
/// the kernel draws them: each diffusion factor's normals for every period
/// after the first from its own stream (vector lanes where the CPU has
/// them, `normals::fill_columns`), a uniform and a normal per tranche (four
/// tranches at a time likewise, `normals::uniform_normal`), an
/// exponential for AGI and a uniform per first-refusal rule per period,
/// each from its own stream (jumps excluded: their count is random and
/// they are rare). With `exp`, also the kernel's `exp` of each normal
/// (geometric demand and prices, lognormal delays; MODEL.md sections 3-4),
/// as the kernel computes them (the factors' in one pass, the tranches' in
/// `normals::uniform_lognormal`).
pub fn rng_floor(m: &Model, paths: u64, exp: bool) -> f64 {
    let rofr = m
        .rules
        .iter()
        .filter(|r| r.kind == capsim::model::RuleKindM::FirstRefusal)
        .count() as u64;
    // Stream bases, as the model holds them (mixed once, not per path).
    let base = |key: u64| rng::stream_base(m.seed, key);
    let tranche_bases: Vec<u64> = (0..m.tranches.len() as u64)
        .map(|k| base(1_000 + k))
        .collect();
    let tranche_sigma = vec![0.2; tranche_bases.len()];
    let (mut tu, mut tz) = (
        vec![0.0; tranche_bases.len()],
        vec![0.0; tranche_bases.len()],
    );
    let agi_base = base(2_000);
    let rofr_bases: Vec<u64> = (0..rofr).map(|k| base(3_000 + k)).collect();
    let mut acc = 0.0;
    let mut zs = vec![0.0; m.periods.saturating_sub(1) * m.factors()];
    for path in 0..paths {
        normals::fill_columns(&m.factor_streams, path, &mut zs);
        if exp {
            for z in zs.iter_mut() {
                *z = 0.01 + 0.2 * *z;
            }
            capsim::kernel::exp::exp_in_place(&mut zs);
        }
        for &z in &zs {
            acc += z;
        }
        if exp {
            normals::uniform_lognormal(&tranche_bases, &tranche_sigma, path, &mut tu, &mut tz);
        } else {
            normals::uniform_normal(&tranche_bases, path, &mut tu, &mut tz);
        }
        for (&u, &z) in tu.iter().zip(&tz) {
            acc += u + z;
        }
        acc += rng::exp1(&mut rng::stream_at(agi_base, path));
        for &b in &rofr_bases {
            let mut r = rng::stream_at(b, path);
            for _ in 0..m.periods {
                acc += rng::uniform(&mut r);
            }
        }
    }
    acc
}

/// Paths the statistics step cycles through ([`stats_rows`]): one chunk's
/// worth, 16 sub-batches of 64.
pub const STATS_ROWS: usize = CHUNK;

/// The first [`STATS_ROWS`] simulated paths in a row-major buffer, 64 at a
/// time as the engine holds them.
pub fn stats_rows(m: &Model) -> (Vec<f64>, usize) {
    let k = m.layout.n_path() + m.periods * m.layout.n_period();
    let mut s = Scratch::new(m);
    let mut buf = vec![0.0; STATS_ROWS * k];
    for (path, row) in buf.chunks_exact_mut(k).enumerate() {
        let (out, per) = row.split_at_mut(m.layout.n_path());
        simulate_path(m, path as u64, &mut s, out, per, &mut NoObserver);
    }
    (buf, k)
}

/// The statistics step for `paths` paths (a multiple of 64), as the engine
/// does it: each 64-path sub-batch fed to the chunk sums and the workers'
/// 16-bit sketches in one go. The sub-batches are those of [`stats_rows`]
/// in turn, again and again: different paths' values every time, as in a
/// run. (Feeding the same 64 paths again and again, as this part did until
/// 2026-11-29, ran the same instructions in a third less time: 35 against
/// 53 ns per path-period in criterion runs minutes apart, where the
/// one-thread engine took 71 ns per path-period more than the kernel
/// alone: presumably the CPU's branch predictors and caches had learnt
/// those 64 paths' values.)
pub fn stats(buf: &[f64], k: usize, paths: u64, chunk: &mut ChunkSums, tails: &mut HotTails) {
    let sub_rows = 64 * k;
    let subs = buf.len() / sub_rows;
    for sub in 0..paths as usize / 64 {
        if sub % (CHUNK / 64) == 0 {
            chunk.clear();
        }
        let rows = &buf[(sub % subs) * sub_rows..][..sub_rows];
        chunk.add_rows(rows, k);
        tails.add_rows(rows, k, k);
    }
}
