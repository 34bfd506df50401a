//! The engine: paths in fixed-size blocks, blocks in parallel over rayon.
//!
//! Each worker thread owns its scratch and sketches, reused for every block
//! it runs, so nothing is allocated per path. Threads take the next block
//! from a shared counter; each block hands back its chunk moments (and
//! per-path rows, if requested), which the calling thread merges and writes
//! in path order as they arrive. Workers stay at most 16 blocks per thread
//! ahead of that merge, so memory does not grow with the number of paths
//! (see [`crate::stats`]). Sketch counts and extremes are order-independent:
//! each worker keeps them with 16-bit counts ([`HotTails`], half the cache
//! footprint) and empties them into the run's sketches every 65,535 paths
//! and at the end.

use crate::error::{Error, Result};
use crate::kernel::{simulate_path, NoObserver, PeriodView, Scratch};
use crate::model::Model;
use crate::stats::{Accumulated, ChunkSums, HotTails, Moments, Summary, Tails, CHUNK};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Condvar, Mutex};

/// Paths simulated before their statistics are ingested (divides CHUNK).
const SUB: usize = 64;

/// Blocks per thread a worker may run ahead of the ordered merge.
const LOOKAHEAD_PER_THREAD: usize = 16;

/// Default paths per block.
pub const DEFAULT_BLOCK: usize = 1024;

/// Receives per-path metrics in path order (for `paths.csv`).
pub type PathSink<'a> = dyn FnMut(u64, &[f64]) -> Result<()> + 'a;

/// Receives each chunk's moments, one per value, in path order (for a
/// shard: [`crate::shard`]).
pub type ChunkSink<'a> = dyn FnMut(&[Moments]) -> Result<()> + 'a;

pub struct Options<'a> {
    /// Worker threads (0 = all cores).
    pub threads: usize,
    /// Paths per block; a multiple of [`CHUNK`].
    pub block: usize,
    pub sink: Option<&'a mut PathSink<'a>>,
    /// Called as blocks are merged, with the number of paths done.
    pub progress: Option<&'a (dyn Fn(u64) + Sync)>,
    /// Only these paths (a shard of the run): the start a multiple of
    /// [`CHUNK`], the end one too or the run's last path. Default: all.
    pub span: Option<std::ops::Range<u64>>,
    /// Also hands every chunk's moments over as they are merged.
    pub chunks: Option<&'a mut ChunkSink<'a>>,
}

impl Default for Options<'_> {
    fn default() -> Self {
        Options {
            threads: 0,
            block: DEFAULT_BLOCK,
            sink: None,
            progress: None,
            span: None,
            chunks: None,
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
    /// With charges: per period, provider and charge, `[(t * P + p) * 5 + c]`
    /// (means and standard errors only).
    pub charges: Vec<Summary>,
    /// In a [`run_batch`], for a model other than the benchmark: per path
    /// metric it shares with the benchmark, the moments of the
    /// benchmark's value, this model's, the difference and whether this
    /// model's is lower.
    pub paired: Vec<crate::stats::Moments>,
    pub accumulated: Accumulated,
}

/// What the engine runs for each path: fills `width()` values. Anything
/// that simulates paths (a run, a paired comparison, a sensitivity study)
/// is a job, so all share one deterministic parallel reduction.
pub trait Job: Sync {
    /// Per-thread working state.
    type State: Send;
    /// Values per path.
    fn width(&self) -> usize;
    /// The leading values that get quantile sketches; the rest get moments only.
    fn sketched(&self) -> usize {
        self.width()
    }
    /// The leading values handed to the path sink.
    fn row_width(&self) -> usize;
    fn state(&self) -> Self::State;
    fn path(&self, state: &mut Self::State, path: u64, out: &mut [f64]);
    /// Value `i`'s name, for error messages.
    fn name(&self, i: usize) -> String {
        format!("value {i}")
    }
    /// Whether value `i` is finite on every path of a sound run (the run
    /// fails if it is not); a job whose values may be infinite by design
    /// says no for those.
    fn finite(&self, _i: usize) -> bool {
        true
    }
}

/// Values recorded per period and provider with charges: cash by charge
/// type, then market GPU-hours used.
pub const CHARGES: [&str; 5] = ["usage", "reserved", "capex", "true_up", "usage_gpu_hours"];

/// One model's path metrics, its per-period metrics (unless
/// `per_period` is off) and, with `charges`, each period's cash per
/// provider and charge ([`CHARGES`]; moments only).
pub struct ModelJob<'a> {
    pub model: &'a Model,
    /// Whether the per-period metrics are accumulated; without them a run
    /// gives the same path metrics, bit for bit, for a fraction of the
    /// statistics' work (commands that report path metrics only).
    pub per_period: bool,
    pub charges: bool,
    /// The same scenario under the other policy, for `policy_regret`.
    pub other_policy: Option<&'a Model>,
}

/// Per-thread state of a [`ModelJob`].
pub struct ModelState {
    scratch: Scratch,
    /// Where the kernel writes per-period values that are not accumulated.
    per: Vec<f64>,
    other: Option<(Scratch, Vec<f64>, Vec<f64>)>,
}

struct ChargeRecorder<'o> {
    out: &'o mut [f64],
    hours: f64,
    providers: usize,
    periods: usize,
}

impl crate::kernel::allocate::TakeObserver for ChargeRecorder<'_> {}
impl crate::kernel::Observer for ChargeRecorder<'_> {
    fn period_end(&mut self, t: usize, v: &PeriodView<'_>) {
        let np = self.providers;
        for p in 0..np {
            let o = (t * np + p) * CHARGES.len();
            self.out[o] = v.market_cash[p];
            self.out[o + 1] = v.reserved_cash[p];
            self.out[o + 2] = v.capex_tp[p * self.periods + t];
            self.out[o + 3] = v.true_up_p[p];
            self.out[o + 4] = (v.market_cap[p] - v.market_left[p]) * self.hours;
        }
    }
}

impl ModelJob<'_> {
    fn charges_width(&self) -> usize {
        if self.charges {
            self.model.periods * self.model.providers.len() * CHARGES.len()
        } else {
            0
        }
    }

    /// The path metrics, then (with `per_period`) the per-period ones.
    fn standard(&self) -> usize {
        let per = if self.per_period {
            self.model.periods * self.model.layout.n_period()
        } else {
            0
        };
        self.model.layout.n_path() + per
    }
}

impl Job for ModelJob<'_> {
    type State = ModelState;
    fn width(&self) -> usize {
        self.standard() + self.charges_width()
    }
    fn sketched(&self) -> usize {
        self.standard()
    }
    fn row_width(&self) -> usize {
        self.model.layout.n_path()
    }
    fn name(&self, i: usize) -> String {
        let lay = &self.model.layout;
        let (np, nq) = (lay.n_path(), lay.n_period());
        if i < np {
            format!("metric `{}`", lay.path_names[i])
        } else if i < self.standard() {
            let (t, k) = ((i - np) / nq, (i - np) % nq);
            format!("metric `{}` of period {t}", lay.period_names[k])
        } else {
            "cash by provider and charge".to_string()
        }
    }
    fn state(&self) -> ModelState {
        let m = self.model;
        ModelState {
            scratch: Scratch::new(m),
            per: if self.per_period {
                Vec::new()
            } else {
                vec![0.0; m.periods * m.layout.n_period()]
            },
            other: self.other_policy.map(buffers),
        }
    }
    fn path(&self, st: &mut ModelState, path: u64, out: &mut [f64]) {
        let m = self.model;
        let s = &mut st.scratch;
        let (std, extra) = out.split_at_mut(self.standard());
        let (a, b) = std.split_at_mut(m.layout.n_path());
        let b = if self.per_period { b } else { &mut st.per[..] };
        if self.charges {
            let mut rec = ChargeRecorder {
                out: extra,
                hours: m.hours,
                providers: m.providers.len(),
                periods: m.periods,
            };
            simulate_path(m, path, s, a, b, &mut rec);
        } else {
            simulate_path(m, path, s, a, b, &mut NoObserver);
        }
        if let (Some(o), Some((os, oa, ob)), Some(k)) = (
            self.other_policy,
            st.other.as_mut(),
            m.layout.policy_regret(),
        ) {
            simulate_path(o, path, os, oa, ob, &mut NoObserver);
            let (mine, other) = (
                a[crate::model::pm::ECONOMIC],
                oa[crate::model::pm::ECONOMIC],
            );
            // priority's economic cost minus optimal's.
            a[k] = if m.optimal {
                other - mine
            } else {
                mine - other
            };
        }
    }
}

/// Scratch, path-metric and per-period buffers for simulating `m`.
pub(crate) fn buffers(m: &Model) -> (Scratch, Vec<f64>, Vec<f64>) {
    (
        Scratch::new(m),
        vec![0.0; m.layout.n_path()],
        vec![0.0; m.periods * m.layout.n_period()],
    )
}

/// A job's accumulated statistics.
#[derive(Debug, Clone)]
pub struct JobStats {
    pub paths: u64,
    pub threads: usize,
    pub acc: Accumulated,
}

/// One worker thread's reusable state. Aligned to 128 bytes so that two
/// workers' states, each written every period by its own thread, never share
/// a cache line or an adjacent-line prefetch pair.
#[repr(align(128))]
struct Worker<S> {
    state: S,
    buf: Vec<f64>,
    /// Sketches with 16-bit counts, emptied into the run's shared [`Tails`]
    /// before they could overflow and at the end.
    tails: HotTails,
}

/// What a block hands back for the ordered merge.
struct BlockOut {
    first: u64,
    n: usize,
    chunks: Vec<ChunkSums>,
    rows: Vec<f64>,
}

impl<S> Worker<S> {
    fn run<J: Job<State = S>>(
        &mut self,
        job: &J,
        first: u64,
        n: usize,
        keep_rows: bool,
        shared: &Mutex<Tails>,
    ) -> BlockOut {
        let k = job.width();
        let ks = job.sketched();
        let nr = job.row_width();
        let mut chunks: Vec<ChunkSums> =
            (0..n.div_ceil(CHUNK)).map(|_| ChunkSums::new(k)).collect();
        let mut rows = if keep_rows {
            vec![0.0; n * nr]
        } else {
            Vec::new()
        };
        // Simulate SUB paths into a row-major buffer, then feed the
        // statistics in one go: running sums and extremes row by row
        // (vectorised over metrics), each sketch its SUB values at once (it
        // stays hot in cache instead of being touched once per path).
        let mut i0 = 0;
        while i0 < n {
            let sub = SUB.min(n - i0);
            for j in 0..sub {
                let row = &mut self.buf[j * k..(j + 1) * k];
                job.path(&mut self.state, first + (i0 + j) as u64, row);
                if keep_rows {
                    rows[(i0 + j) * nr..(i0 + j + 1) * nr].copy_from_slice(&row[..nr]);
                }
            }
            // SUB divides CHUNK, so a sub-batch never straddles two chunks.
            chunks[i0 / CHUNK].add_rows(&self.buf[..sub * k], k);
            if (self.tails.room() as usize) < sub {
                self.tails
                    .flush_into(&mut shared.lock().unwrap_or_else(|e| e.into_inner()));
            }
            self.tails.add_rows(&self.buf[..sub * k], k, ks);
            i0 += sub;
        }
        BlockOut {
            first,
            n,
            chunks,
            rows,
        }
    }
}

/// Runs `m.paths` paths of the model.
pub fn run(m: &Model, opts: Options<'_>) -> Result<RunStats> {
    run_model(m, false, opts)
}

/// Runs `m.paths` paths of the model, optionally recording cash by
/// provider and charge for every period.
pub fn run_model(m: &Model, charges: bool, opts: Options<'_>) -> Result<RunStats> {
    run_model_with(m, charges, None, opts)
}

/// As [`run_model`]; with `other_policy` (the same scenario compiled under
/// the other policy, and `m.layout.add_regret()` called) it also reports
/// `policy_regret` per path, on common random numbers.
pub fn run_model_with(
    m: &Model,
    charges: bool,
    other_policy: Option<&Model>,
    opts: Options<'_>,
) -> Result<RunStats> {
    run_job_of(full_job(m, charges, other_policy), opts)
}

/// The job [`run_model_with`] runs.
fn full_job<'a>(m: &'a Model, charges: bool, other_policy: Option<&'a Model>) -> ModelJob<'a> {
    ModelJob {
        model: m,
        per_period: true,
        charges,
        other_policy,
    }
}

/// The path metrics of `m.paths` paths, bit for bit as [`run`] gives them,
/// without the per-period metrics (`period` and `charges` are empty).
pub fn run_path_metrics(m: &Model, opts: Options<'_>) -> Result<RunStats> {
    run_job_of(path_metrics_job(m), opts)
}

/// The job [`run_path_metrics`] runs (a sweep's shards run its spans).
pub fn path_metrics_job(m: &Model) -> ModelJob<'_> {
    ModelJob {
        model: m,
        per_period: false,
        charges: false,
        other_policy: None,
    }
}

/// The [`RunStats`] of [`path_metrics_job`]'s statistics accumulated
/// elsewhere (a sweep's merged shards): bit for bit what
/// [`run_path_metrics`] gives when `acc` holds the same chunks' moments,
/// merged in path order, and the same sketches and extremes.
pub fn path_metrics_from(m: &Model, acc: Accumulated, threads: usize) -> Result<RunStats> {
    let paths = acc.moments.first().map_or(0, |m| m.n);
    stats_of(
        &path_metrics_job(m),
        JobStats {
            paths,
            threads,
            acc,
        },
    )
}

fn run_job_of(job: ModelJob<'_>, opts: Options<'_>) -> Result<RunStats> {
    let out = run_job(&job, job.model.paths, opts)?;
    stats_of(&job, out)
}

/// The width (values per path) and sketched values of the job
/// [`run_model_with`] runs for these arguments: what a shard's
/// accumulated statistics must hold.
pub fn model_job_shape(m: &Model, charges: bool, other_policy: Option<&Model>) -> (usize, usize) {
    let job = full_job(m, charges, other_policy);
    (job.width(), job.sketched())
}

/// The [`RunStats`] of statistics accumulated elsewhere (the merged
/// shards of a run, [`crate::shard`]) for the job [`run_model_with`]
/// runs with these arguments: bit for bit what that run gives when `acc`
/// holds the same chunks' moments, merged in path order, and the same
/// sketches and extremes.
pub fn stats_from(
    m: &Model,
    charges: bool,
    other_policy: Option<&Model>,
    acc: Accumulated,
    threads: usize,
) -> Result<RunStats> {
    let job = full_job(m, charges, other_policy);
    let paths = acc.moments.first().map_or(0, |m| m.n);
    stats_of(
        &job,
        JobStats {
            paths,
            threads,
            acc,
        },
    )
}

fn stats_of(job: &ModelJob<'_>, out: JobStats) -> Result<RunStats> {
    let m = job.model;
    let np = m.layout.n_path();
    let ks = job.standard();
    let mut path = checked_summaries(job, &out.acc, 0, out.threads)?;
    let charges = path.split_off(ks);
    let period = path.split_off(np);
    Ok(RunStats {
        paths: out.paths,
        threads: out.threads,
        path,
        period,
        charges,
        paired: Vec::new(),
        accumulated: out.acc,
    })
}

/// The summaries of `job`'s values, which are `acc`'s from `at` on; an
/// overflow error naming the first whose moments are not finite (`run_job`
/// checks them, but not in a [`run_batch`]) or whose statistics are not (a
/// statistic computed from the sketches can overflow where the values are
/// near `f64::MAX`).
fn checked_summaries(
    job: &ModelJob<'_>,
    acc: &Accumulated,
    at: usize,
    threads: usize,
) -> Result<Vec<Summary>> {
    let n = job.width();
    let overflow = |i: usize| Error::NotFinite {
        what: job.name(i),
        scenario: None,
        trace: None,
    };
    let moments = &acc.moments[at..at + n];
    if let Some(i) = moments
        .iter()
        .position(|m| !(m.mean.is_finite() && m.m2.is_finite()))
    {
        return Err(overflow(i));
    }
    let path = summaries(acc, at..at + n, threads);
    let sketched = job.sketched();
    match path
        .iter()
        .enumerate()
        .position(|(i, s)| !s.is_finite(i < sketched))
    {
        Some(i) => Err(overflow(i)),
        None => Ok(path),
    }
}

/// Several models on the same paths in one pass (`batch`): each model's
/// path and per-period metrics as a [`ModelJob`] gives them, then, for
/// every model but the benchmark, the paired values of the path metrics it
/// shares with the benchmark ([`crate::compare::pair_values`]). Every
/// model is simulated once per path, the benchmark included.
pub struct BatchJob<'a> {
    jobs: Vec<ModelJob<'a>>,
    bench: usize,
    /// Per model, `(benchmark's index, its index)` of the shared path
    /// metrics (empty for the benchmark).
    pairs: &'a [Vec<(usize, usize)>],
    /// Where each model's values start, and its pairs' values.
    offsets: Vec<usize>,
    pair_offsets: Vec<usize>,
    width: usize,
    /// What the paired model is called in errors.
    bench_name: &'static str,
}

impl Job for BatchJob<'_> {
    type State = Vec<ModelState>;
    fn width(&self) -> usize {
        self.width
    }
    fn sketched(&self) -> usize {
        self.pair_offsets[0]
    }
    fn row_width(&self) -> usize {
        0
    }
    fn name(&self, i: usize) -> String {
        format!("value {i}")
    }
    /// Checked model by model once the pass is done ([`run_batch`]), so
    /// that one model's overflow does not fail the others.
    fn finite(&self, _i: usize) -> bool {
        false
    }
    fn state(&self) -> Vec<ModelState> {
        self.jobs.iter().map(|j| j.state()).collect()
    }
    fn path(&self, st: &mut Vec<ModelState>, path: u64, out: &mut [f64]) {
        let (values, pair_out) = out.split_at_mut(self.pair_offsets[0]);
        for ((job, s), &o) in self.jobs.iter().zip(st.iter_mut()).zip(&self.offsets) {
            job.path(s, path, &mut values[o..o + job.standard()]);
        }
        let bench = &values[self.offsets[self.bench]..];
        for (k, pairs) in self.pairs.iter().enumerate() {
            let (own, po) = (
                &values[self.offsets[k]..],
                self.pair_offsets[k] - self.pair_offsets[0],
            );
            for (o4, &(i, j)) in pair_out[po..].chunks_exact_mut(4).zip(pairs) {
                o4.copy_from_slice(&crate::compare::pair_values(bench[i], own[j]));
            }
        }
    }
}

/// Runs `models` on the same paths in one pass, each model's paired values
/// against `models[bench]` for the path metrics `pairs[k]` names
/// (`(benchmark's index, its index)`; empty for the benchmark): per
/// model, the [`RunStats`] [`run`] gives for it, bit for bit, with
/// [`RunStats::paired`] the moments [`crate::compare::compare`] accumulates
/// for those metrics, or the model's own overflow error. The models share
/// seed and paths.
pub fn run_batch(
    models: &[&Model],
    bench: usize,
    pairs: &[Vec<(usize, usize)>],
    opts: Options<'_>,
) -> Result<Vec<Result<RunStats>>> {
    let job = BatchJob::new(models, bench, pairs, true);
    let out = run_job(&job, models[bench].paths, opts)?;
    Ok(job.results(&out.acc, out.paths, out.threads))
}

impl<'a> BatchJob<'a> {
    /// The one-pass job of [`run_batch`] (`per_period`); without
    /// `per_period`, each model's path metrics only, as
    /// [`run_path_metrics`] gives them (a sweep's points paired with its
    /// reference).
    pub fn new(
        models: &[&'a Model],
        bench: usize,
        pairs: &'a [Vec<(usize, usize)>],
        per_period: bool,
    ) -> BatchJob<'a> {
        assert_eq!(pairs.len(), models.len(), "one list of pairs per model");
        let jobs: Vec<ModelJob> = models
            .iter()
            .map(|&model| ModelJob {
                model,
                per_period,
                charges: false,
                other_policy: None,
            })
            .collect();
        let mut offsets = Vec::with_capacity(jobs.len());
        let mut at = 0;
        for j in &jobs {
            offsets.push(at);
            at += j.standard();
        }
        let mut pair_offsets = Vec::with_capacity(jobs.len());
        for p in pairs {
            pair_offsets.push(at);
            at += 4 * p.len();
        }
        BatchJob {
            jobs,
            bench,
            pairs,
            offsets,
            pair_offsets,
            width: at,
            bench_name: "the benchmark",
        }
    }

    /// The job, its paired model called `name` in errors ("the
    /// benchmark" unless said).
    pub fn bench_named(self, name: &'static str) -> Self {
        BatchJob {
            bench_name: name,
            ..self
        }
    }

    /// Where model `k`'s own values are in a path's values, and where its
    /// paired values (four per pair).
    pub fn parts(&self, k: usize) -> (std::ops::Range<usize>, std::ops::Range<usize>) {
        let (o, po) = (self.offsets[k], self.pair_offsets[k]);
        (
            o..o + self.jobs[k].standard(),
            po..po + 4 * self.pairs[k].len(),
        )
    }

    /// Each model's [`RunStats`] (or its overflow error) from the job's
    /// accumulated values over `paths` paths (a run's, or its shards'
    /// merged in path order).
    pub fn results(&self, acc: &Accumulated, paths: u64, threads: usize) -> Vec<Result<RunStats>> {
        self.jobs
            .iter()
            .enumerate()
            .map(|(k, mj)| {
                let (o, n) = (self.offsets[k], mj.standard());
                let (po, pn) = (self.pair_offsets[k], 4 * self.pairs[k].len());
                let mut path = checked_summaries(mj, acc, o, threads)?;
                let paired = &acc.moments[po..po + pn];
                if let Some(i) = paired
                    .iter()
                    .position(|m| !(m.mean.is_finite() && m.m2.is_finite()))
                {
                    let name = &mj.model.layout.path_names[self.pairs[k][i / 4].1];
                    return Err(Error::NotFinite {
                        what: format!("metric `{name}` (paired with {})", self.bench_name),
                        scenario: None,
                        trace: None,
                    });
                }
                let period = path.split_off(mj.model.layout.n_path());
                let tails = &acc.tails;
                Ok(RunStats {
                    paths,
                    threads,
                    path,
                    period,
                    charges: Vec::new(),
                    paired: paired.to_vec(),
                    accumulated: Accumulated {
                        moments: acc.moments[o..o + n].to_vec(),
                        tails: tails.slice(o..o + n),
                    },
                })
            })
            .collect()
    }
}

/// The summaries of metrics `ks`, on up to `threads` threads (each a run of
/// consecutive metrics; a summary depends on its metric alone).
fn summaries(acc: &Accumulated, ks: std::ops::Range<usize>, threads: usize) -> Vec<Summary> {
    let ks: Vec<usize> = ks.collect();
    // Below this many metrics a thread costs more than it saves.
    const MIN_PER_THREAD: usize = 64;
    let threads = threads.min(ks.len() / MIN_PER_THREAD).max(1);
    if threads == 1 {
        return ks.iter().map(|&k| acc.summary(k)).collect();
    }
    std::thread::scope(|scope| {
        let parts: Vec<_> = ks
            .chunks(ks.len().div_ceil(threads))
            .map(|part| {
                scope.spawn(move || part.iter().map(|&k| acc.summary(k)).collect::<Vec<_>>())
            })
            .collect();
        parts
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

/// `threads`, or all cores for 0: the threads a run or a merge reports and
/// may use (each pool is built no larger than its work needs).
pub fn all_cores(threads: usize) -> usize {
    match threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        t => t,
    }
}

/// The threads to start for `items` independent pieces of work on
/// `threads` threads (0: all cores): no more than there are pieces, since
/// an idle worker spins in a rayon pool, taking the machine from the
/// others (1,024 threads for the 10 blocks of 10^4 paths took 4.7 s on two
/// cores instead of 0.06 s).
pub fn threads_for(threads: usize, items: usize) -> usize {
    all_cores(threads).min(items).max(1)
}

/// Runs `paths` paths of a job and accumulates its values.
pub fn run_job<J: Job>(job: &J, paths: u64, opts: Options<'_>) -> Result<JobStats> {
    if opts.block == 0 || opts.block % CHUNK != 0 {
        return Err(Error::Other(format!(
            "block size {} is not a positive multiple of {CHUNK}",
            opts.block
        )));
    }
    let k = job.width();
    let ks = job.sketched();
    let block = opts.block;
    let span = opts.span.clone().unwrap_or(0..paths);
    let aligned = |p: u64| p % CHUNK as u64 == 0;
    if span.start >= span.end
        || span.end > paths
        || !aligned(span.start)
        || !(aligned(span.end) || span.end == paths)
    {
        return Err(Error::Other(format!(
            "paths {span:?} are not a span of whole {CHUNK}-path chunks of 0..{paths}"
        )));
    }
    let (start, paths) = (span.start, span.end - span.start);
    let n_blocks = paths.div_ceil(block as u64);
    // The run's threads (0: all cores), as the run reports them; a worker
    // per block at most.
    let threads = all_cores(opts.threads);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads_for(
            threads,
            usize::try_from(n_blocks).unwrap_or(usize::MAX),
        ))
        .build()
        .map_err(|e| Error::Other(format!("cannot start worker threads: {e}")))?;
    let keep_rows = opts.sink.is_some();
    let workers: Vec<Mutex<Worker<J::State>>> = (0..pool.current_num_threads())
        .map(|_| {
            Mutex::new(Worker {
                state: job.state(),
                buf: vec![0.0; SUB * k],
                tails: HotTails::new(ks),
            })
        })
        .collect();
    let mut acc = Accumulated::new(k, ks);
    let mut sink = opts.sink;
    let mut chunk_sink = opts.chunks;
    let mut chunk_moments = vec![Moments::default(); if chunk_sink.is_some() { k } else { 0 }];
    // Each pool thread runs one worker: it takes the next block number from
    // a shared counter (so threads share the work dynamically, with no
    // barrier between groups of blocks) and sends the block's output here.
    // This thread merges the outputs in block order as they arrive. A
    // worker does not start a block more than `lookahead` blocks past the
    // merged ones, so the outputs waiting for their turn stay bounded.
    let lookahead = (LOOKAHEAD_PER_THREAD * workers.len()) as u64;
    let next = AtomicU64::new(0);
    let merged = (Mutex::new(0u64), Condvar::new());
    let (tx, rx) = mpsc::channel::<(u64, BlockOut)>();
    let mut failed: Result<()> = Ok(());
    let shared = Mutex::new(Tails::new(ks));
    pool.in_place_scope(|scope| {
        for worker in &workers {
            let (tx, next, merged, shared) = (tx.clone(), &next, &merged, &shared);
            scope.spawn(move |_| {
                let mut w = worker.lock().unwrap_or_else(|e| e.into_inner());
                loop {
                    let b = next.fetch_add(1, Ordering::Relaxed);
                    if b >= n_blocks {
                        // This worker's sketches into the shared ones now,
                        // while the others may still be simulating.
                        w.tails
                            .flush_into(&mut shared.lock().unwrap_or_else(|e| e.into_inner()));
                        return;
                    }
                    {
                        let mut done = merged.0.lock().unwrap_or_else(|e| e.into_inner());
                        while b >= *done + lookahead {
                            done = merged.1.wait(done).unwrap_or_else(|e| e.into_inner());
                        }
                    }
                    let first = b * block as u64;
                    let n = (paths - first).min(block as u64) as usize;
                    let first = start + first;
                    if tx
                        .send((b, w.run(job, first, n, keep_rows, shared)))
                        .is_err()
                    {
                        return;
                    }
                }
            });
        }
        drop(tx);
        let mut pending = BTreeMap::new();
        let mut want = 0u64;
        for (b, out) in rx {
            pending.insert(b, out);
            while let Some(o) = pending.remove(&want) {
                for c in &o.chunks {
                    acc.merge_chunk(c);
                    if let (Some(cs), true) = (chunk_sink.as_mut(), failed.is_ok()) {
                        for (i, m) in chunk_moments.iter_mut().enumerate() {
                            *m = c.moments(i);
                        }
                        failed = cs(&chunk_moments);
                    }
                }
                if let (Some(sink), true) = (sink.as_mut(), failed.is_ok()) {
                    let nr = job.row_width();
                    for i in 0..o.n {
                        if let Err(e) = sink(o.first + i as u64, &o.rows[i * nr..(i + 1) * nr]) {
                            failed = Err(e);
                            break;
                        }
                    }
                }
                want += 1;
                if failed.is_ok() {
                    failed = crate::interrupt::check();
                }
                if failed.is_err() {
                    // Stop handing out blocks; wake any worker waiting.
                    next.store(n_blocks, Ordering::Relaxed);
                    want = u64::MAX / 2;
                }
                *merged.0.lock().unwrap_or_else(|e| e.into_inner()) = want;
                merged.1.notify_all();
                if let (Some(p), true) = (opts.progress, failed.is_ok()) {
                    p((want * block as u64).min(paths));
                }
            }
            if failed.is_err() {
                break;
            }
        }
    });
    failed?;
    // Every worker flushed its sketches into `shared` when it ran out of
    // blocks (the only way out on success: a worker whose send failed
    // found the merge stopped by an error, returned above).
    debug_assert!(workers.iter().all(|w| {
        let w = w.lock().unwrap_or_else(|e| e.into_inner());
        w.tails.room() == HotTails::CAPACITY
    }));
    acc.tails = shared.into_inner().unwrap_or_else(|e| e.into_inner());
    // An infinite or NaN value makes every sum it enters infinite or NaN:
    // no summary of such a run means anything, so none is given.
    if let Some(i) = acc
        .moments
        .iter()
        .enumerate()
        .position(|(i, m)| job.finite(i) && !(m.mean.is_finite() && m.m2.is_finite()))
    {
        return Err(Error::NotFinite {
            what: job.name(i),
            scenario: None,
            trace: None,
        });
    }
    Ok(JobStats {
        paths,
        threads,
        acc,
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
