//! The parts of a run that `benches/kernel.rs` times and
//! `examples/parts.rs` runs under callgrind (instruction counts, which this
//! project's noisy machine cannot disturb): the kernel alone, its RNG floor
//! (the same random draws and nothing else), that floor plus one `exp` per
//! normal, and the statistics step alone.

use capsim::kernel::{simulate_path, NoObserver, Scratch};
use capsim::model::Model;
use capsim::rng;
use capsim::stats::{ChunkSums, HotTails};
use std::path::Path;

pub fn load(file: &str, paths: u64) -> Model {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    let l = capsim::scenario::load_file(&path, &[format!("simulation.paths={paths}")]).unwrap();
    Model::compile(&l.scenario)
}

/// Random draws one path makes: one normal per diffusion factor per period
/// after the first, a uniform and a normal per tranche, a uniform per
/// first-refusal rule per period, an exponential for AGI (jumps excluded:
/// their count is random and they are rare); and the streams it seeds.
fn draws_per_path(m: &Model) -> (usize, usize, usize) {
    let normals = (m.periods - 1) * m.factors() + m.tranches.len();
    let rofr = m
        .rules
        .iter()
        .filter(|r| r.kind == capsim::model::RuleKindM::FirstRefusal)
        .count();
    let uniforms = m.tranches.len() + rofr * m.periods + 1;
    let streams = m.factors() + m.tranches.len() + 1;
    (normals, uniforms, streams)
}

/// The kernel on paths `0..paths`.
pub fn kernel(m: &Model, paths: u64, s: &mut Scratch, out: &mut [f64], per: &mut [f64]) -> f64 {
    for path in 0..paths {
        simulate_path(m, path, s, out, per, &mut NoObserver);
    }
    out[0]
}

/// The kernel's draws for paths `0..paths` and nothing else; with `exp`,
/// also the kernel's `exp` of each normal (geometric demand and prices,
/// lognormal delays; MODEL.md sections 3-4).
pub fn rng_floor(m: &Model, paths: u64, exp: bool) -> f64 {
    let (normals, uniforms, streams) = draws_per_path(m);
    let mut acc = 0.0;
    let mut zs = vec![0.0; normals];
    for path in 0..paths {
        // One stream per factor, as the kernel seeds them.
        let mut r = rng::stream(m.seed, path, 1);
        for k in 1..streams {
            r = rng::stream(m.seed, path, k as u64);
        }
        // The path's normals, then (as the kernel does) `exp` of each in
        // one pass over them.
        for z in zs.iter_mut() {
            *z = rng::normal(&mut r);
        }
        if exp {
            for z in zs.iter_mut() {
                *z = 0.01 + 0.2 * *z;
            }
            capsim::kernel::exp::exp_in_place(&mut zs);
        }
        for &z in &zs {
            acc += z;
        }
        for _ in 0..uniforms {
            acc += rng::uniform(&mut r);
        }
    }
    acc
}

/// 64 simulated paths in a row-major buffer, as the engine holds them.
pub fn stats_rows(m: &Model) -> (Vec<f64>, usize) {
    let k = m.layout.n_path() + m.periods * m.layout.n_period();
    let mut s = Scratch::new(m);
    let mut buf = vec![0.0; 64 * k];
    for (path, row) in buf.chunks_exact_mut(k).enumerate() {
        let (out, per) = row.split_at_mut(m.layout.n_path());
        simulate_path(m, path as u64, &mut s, out, per, &mut NoObserver);
    }
    (buf, k)
}

/// The statistics step for `paths` paths (a multiple of 64), as the engine
/// does it: the 64-path buffer fed to the chunk sums and the workers'
/// 16-bit sketches in one go, again and again.
pub fn stats(buf: &[f64], k: usize, paths: u64, chunk: &mut ChunkSums, tails: &mut HotTails) {
    for sub in 0..paths as usize / 64 {
        if sub % (1024 / 64) == 0 {
            chunk.clear();
        }
        chunk.add_rows(buf, k);
        tails.add_rows(buf, k, k);
    }
}
