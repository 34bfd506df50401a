//! The engine: paths in fixed-size blocks, blocks in parallel over rayon.
//!
//! Blocks run in waves of a fixed number of slots; each slot owns its scratch
//! and accumulators, reused from wave to wave, so nothing is allocated per
//! path and memory does not grow with the number of paths. After each wave
//! the blocks' chunk moments are merged in path order (see [`crate::stats`]),
//! and their per-path rows, if requested, are written in path order. Sketch
//! counts and extremes are order-independent and merged once at the end.

use crate::error::{Error, Result};
use crate::kernel::{simulate_path, NoObserver, Scratch};
use crate::model::Model;
use crate::stats::{Accumulated, ChunkSums, Summary, Tails, CHUNK};
use rayon::prelude::*;

/// Paths simulated before their statistics are ingested (divides CHUNK).
const SUB: usize = 64;

/// Default paths per block.
pub const DEFAULT_BLOCK: usize = 1024;

/// Receives per-path metrics in path order (for `paths.csv`).
pub type PathSink<'a> = dyn FnMut(u64, &[f64]) -> Result<()> + 'a;

pub struct Options<'a> {
    /// Worker threads (0 = all cores).
    pub threads: usize,
    /// Paths per block; a multiple of [`CHUNK`].
    pub block: usize,
    pub sink: Option<&'a mut PathSink<'a>>,
    /// Called after each wave with the number of paths done.
    pub progress: Option<&'a (dyn Fn(u64) + Sync)>,
}

impl Default for Options<'_> {
    fn default() -> Self {
        Options {
            threads: 0,
            block: DEFAULT_BLOCK,
            sink: None,
            progress: None,
        }
    }
}

/// The result of a run: summaries per metric, and the mergeable state.
#[derive(Debug, Clone)]
pub struct RunStats {
    pub paths: u64,
    pub threads: usize,
    /// Per-path metrics, in `model.layout.path_names` order.
    pub path: Vec<Summary>,
    /// Per-period metrics, `[t * n_period + k]`.
    pub period: Vec<Summary>,
    pub accumulated: Accumulated,
}

struct Slot {
    scratch: Scratch,
    buf: Vec<f64>,
    chunks: Vec<ChunkSums>,
    tails: Tails,
    rows: Vec<f64>,
    first_path: u64,
    n_paths: usize,
}

impl Slot {
    fn run(&mut self, m: &Model, first: u64, n: usize, keep_rows: bool) {
        let np = m.layout.n_path();
        self.first_path = first;
        self.n_paths = n;
        self.chunks.iter_mut().for_each(ChunkSums::clear);
        if keep_rows {
            self.rows.resize(n * np, 0.0);
        }
        let k = self.tails.min.len();
        // Simulate SUB paths into a row-major buffer, then feed the
        // statistics metric by metric: each sketch and running sum stays hot
        // in cache for SUB values instead of being touched once per path.
        let mut i0 = 0;
        while i0 < n {
            let sub = SUB.min(n - i0);
            for j in 0..sub {
                let row = &mut self.buf[j * k..(j + 1) * k];
                let (out, per) = row.split_at_mut(np);
                let path = first + (i0 + j) as u64;
                simulate_path(m, path, &mut self.scratch, out, per, &mut NoObserver);
                if keep_rows {
                    self.rows[(i0 + j) * np..(i0 + j + 1) * np].copy_from_slice(out);
                }
            }
            // SUB divides CHUNK, so a sub-batch never straddles two chunks.
            self.chunks[i0 / CHUNK].add_rows(&self.buf[..sub * k], k);
            self.tails.add_rows(&self.buf[..sub * k], k);
            i0 += sub;
        }
    }
}

/// Runs `m.paths` paths of the model.
pub fn run(m: &Model, opts: Options<'_>) -> Result<RunStats> {
    if opts.block == 0 || opts.block % CHUNK != 0 {
        return Err(Error::Other(format!(
            "block size {} is not a positive multiple of {CHUNK}",
            opts.block
        )));
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.threads)
        .build()
        .map_err(|e| Error::Other(format!("cannot start worker threads: {e}")))?;
    let threads = pool.current_num_threads();
    let k = m.layout.n_path() + m.periods * m.layout.n_period();
    let block = opts.block;
    let paths = m.paths;
    let n_blocks = paths.div_ceil(block as u64);
    let n_slots = (2 * threads).min(n_blocks.max(1) as usize);
    let keep_rows = opts.sink.is_some();
    let mut slots: Vec<Slot> = (0..n_slots)
        .map(|_| Slot {
            scratch: Scratch::new(m),
            buf: vec![0.0; SUB * k],
            chunks: (0..block / CHUNK).map(|_| ChunkSums::new(k)).collect(),
            tails: Tails::new(k),
            rows: Vec::new(),
            first_path: 0,
            n_paths: 0,
        })
        .collect();
    let mut acc = Accumulated::new(k);
    let mut sink = opts.sink;
    let mut b0 = 0u64;
    while b0 < n_blocks {
        let wave = (n_blocks - b0).min(n_slots as u64) as usize;
        pool.install(|| {
            slots[..wave]
                .par_iter_mut()
                .enumerate()
                .for_each(|(i, slot)| {
                    let first = (b0 + i as u64) * block as u64;
                    let n = (paths - first).min(block as u64) as usize;
                    slot.run(m, first, n, keep_rows);
                })
        });
        for slot in &slots[..wave] {
            for c in &slot.chunks {
                if c.n > 0 {
                    acc.merge_chunk(c);
                }
            }
            if let Some(sink) = sink.as_mut() {
                let np = m.layout.n_path();
                for i in 0..slot.n_paths {
                    sink(slot.first_path + i as u64, &slot.rows[i * np..(i + 1) * np])?;
                }
            }
        }
        b0 += wave as u64;
        if let Some(p) = opts.progress {
            p((b0 * block as u64).min(paths));
        }
    }
    for slot in &slots {
        acc.tails.merge(&slot.tails);
    }
    let np = m.layout.n_path();
    Ok(RunStats {
        paths,
        threads,
        path: (0..np).map(|i| acc.summary(i)).collect(),
        period: (np..k).map(|i| acc.summary(i)).collect(),
        accumulated: acc,
    })
}

impl RunStats {
    /// Summary of a per-path metric by name.
    pub fn path_metric(&self, m: &Model, name: &str) -> Option<&Summary> {
        m.layout
            .path_names
            .iter()
            .position(|n| n == name)
            .map(|i| &self.path[i])
    }

    /// Summary of a per-period metric by name at period `t`.
    pub fn period_metric(&self, m: &Model, t: usize, name: &str) -> Option<&Summary> {
        let nq = m.layout.n_period();
        m.layout
            .period_names
            .iter()
            .position(|n| n == name)
            .map(|i| &self.period[t * nq + i])
    }
}
