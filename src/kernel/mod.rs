//! The simulation kernel: one path through every period (MODEL.md sections
//! 3-8). Per path: AGI date, tranches, then every period's shocks at once
//! (each factor's normals from its stream, correlation, growth factors).
//! Per period: demand and prices -> rules -> capacity -> allocate -> cash.
//! No allocation, string or hash lookup happens here: the path's arrays live
//! in a reused [`Scratch`], the period loop's per-workload and per-provider
//! arrays on the stack.

pub mod allocate;
pub mod exp;
pub mod normals;
pub mod optimal;
mod ziggurat_tables;

use crate::model::{pm, qm, CholRows, Model, RuleKindM, MAX_PROVIDERS, MAX_WORKLOADS, NEVER};
use crate::rng;
use allocate::{allocate_with, Period, TakeObserver};
use normals::Words;

/// Hooks for `capsim trace` and tests; the engine passes [`NoObserver`],
/// which compiles to nothing.
pub trait Observer: TakeObserver {
    /// After the path's one-off draws (tranche dates, AGI).
    #[inline(always)]
    fn path_start(&mut self, _s: &Scratch) {}
    /// At the end of period `t`, with that period's state in `v`.
    #[inline(always)]
    fn period_end(&mut self, _t: usize, _v: &PeriodView<'_>) {}
}

/// A period's state as observers see it, at the end of the period
/// (borrowed from the kernel's arrays; provider arrays in file order).
pub struct PeriodView<'a> {
    /// New demand `D_t` per workload.
    pub level: &'a [f64],
    /// Demand to serve `d_t` per workload (new demand plus backlog).
    pub demand: &'a [f64],
    /// Demand left unserved per workload.
    pub unmet: &'a [f64],
    /// Price per GPU-hour per provider.
    pub price: &'a [f64],
    /// Which rules are active, and which first-refusal offers were taken.
    pub rule_active: &'a [bool],
    pub rule_taken: &'a [bool],
    /// Period of the AGI declaration (as [`Scratch::agi_period`]).
    pub agi_period: i64,
    /// Reserved and market GPUs per provider.
    pub reserved_cap: &'a [f64],
    pub market_cap: &'a [f64],
    /// Market GPUs left unused per provider.
    pub market_left: &'a [f64],
    /// GPUs served per provider.
    pub served: &'a [f64],
    /// Market and reserved cash per provider.
    pub market_cash: &'a [f64],
    pub reserved_cash: &'a [f64],
    /// True-ups charged to each provider this period.
    pub true_up_p: &'a [f64],
    /// Capex cash per provider and period, `[p * T + t]`, every period.
    pub capex_tp: &'a [f64],
    /// The period's capex, true-ups, cash and shortfall cost.
    pub capex: f64,
    pub true_up: f64,
    pub cash: f64,
    pub shortfall: f64,
}

pub struct NoObserver;
impl TakeObserver for NoObserver {}
impl Observer for NoObserver {}

/// Per-thread working memory, sized once for a model. Fields are public so
/// observers can read the path's draws ([`Observer::path_start`]) and
/// callers the path's last levels ([`Scratch::level`]). (The period loop's
/// per-workload and per-provider arrays are the kernel's own, on the
/// stack.)
pub struct Scratch {
    // Path-level draws.
    /// Online month of each tranche (`f64::INFINITY` if it failed).
    pub tau: Vec<f64>,
    /// Each tranche's uniform draw and its delay's factor `exp(sigma z)`.
    tranche_u: Vec<f64>,
    tranche_f: Vec<f64>,
    /// Sum of pro-rata tranche GPUs, `[t * P + p]` (before availability).
    /// Built as per-period steps to whole GPUs, summed up over periods,
    /// plus each tranche's share in its first period (so periods without
    /// a tranche part-way in hold exact sums of whole GPUs).
    pub tranche_gpus: Vec<f64>,
    /// The path's tranches online part-way through their first period:
    /// (index into `tranche_gpus`, their GPUs' share of that period).
    first_shares: Vec<(usize, f64)>,
    /// Capex cash per period.
    pub capex_t: Vec<f64>,
    /// Capex cash per provider and period, `[p * T + t]`.
    pub capex_tp: Vec<f64>,
    /// Period of the AGI declaration (-1 before start, `NEVER` if none).
    pub agi_period: i64,
    pub agi_declared: bool,
    // Processes.
    pub(crate) rule_rng: Vec<Words>,
    /// Per period (row `t`, `W + P` columns: workloads, then providers):
    /// the shocks, independent when drawn, then correlated in place, then
    /// replaced by the period's growth factors, then by the period's levels
    /// (row 0: the starting ones): new demand `D_t` per workload and price
    /// per provider ([`Scratch::level`]; observers get both in [`PeriodView`]).
    pub shocks: Vec<f64>,
    // Rules this period.
    pub rule_active: Vec<bool>,
    pub rule_taken: Vec<bool>,
    /// Policy `optimal`'s flow network.
    pub flow: optimal::Flow,
    // Cash.
    pub commit_paid: Vec<f64>,
    pub true_up_c: Vec<f64>,
    pub capex_p: Vec<f64>,
    pub depreciation: f64,
    /// Numbers of workloads and providers.
    nw: usize,
    np: usize,
}

impl Scratch {
    pub fn new(m: &Model) -> Scratch {
        let (nw, np, nt) = (m.workloads.len(), m.providers.len(), m.periods);
        Scratch {
            tau: vec![0.0; m.tranches.len()],
            tranche_u: vec![0.0; m.tranches.len()],
            first_shares: Vec::with_capacity(m.tranches.len()),
            tranche_f: vec![0.0; m.tranches.len()],
            tranche_gpus: vec![0.0; np * nt],
            capex_t: vec![0.0; nt],
            capex_tp: vec![0.0; np * nt],
            agi_period: NEVER,
            agi_declared: false,
            rule_rng: vec![Words([1, 0, 0, 0]); m.rules.len()],
            shocks: vec![0.0; nt * (nw + np)],
            rule_active: vec![false; m.rules.len()],
            rule_taken: vec![false; m.rules.len()],
            flow: optimal::Flow::new(),
            commit_paid: vec![0.0; m.commitments.len()],
            true_up_c: vec![0.0; m.commitments.len()],
            capex_p: vec![0.0; np],
            depreciation: 0.0,
            nw,
            np,
        }
    }

    /// New demand `D_t` per workload in period `t` (of the path simulated
    /// last, or being simulated).
    pub fn level(&self, t: usize) -> &[f64] {
        let (nw, nf) = (self.nw, self.nw + self.np);
        &self.shocks[t * nf..][..nw]
    }
}

/// The indices of the set bits of `mask`, lowest first.
#[inline(always)]
fn bits(mut mask: u64) -> impl Iterator<Item = usize> {
    std::iter::from_fn(move || {
        (mask != 0).then(|| {
            let i = mask.trailing_zeros() as usize;
            mask &= mask - 1;
            i
        })
    })
}

/// Rule `r`'s bit in a period's rule signature (rules past the 64th share
/// no bits: with that many rules the arrays are rebuilt every period).
#[inline(always)]
fn rule_bit(r: usize) -> u64 {
    if r < 64 {
        1 << r
    } else {
        0
    }
}

/// The period's pools (MODEL.md sections 4, 5) from the availability, the
/// online tranche GPUs and the reserved GPUs; returns the open market pools
/// as bits. (A function of its own, the slices it writes parameters of
/// their own: so LLVM knows they are distinct, and the copies become a few
/// vector moves.)
#[inline(always)]
fn pools(
    avail: &[f64],
    tg: &[f64],
    rg: &[f64],
    market_cap: &mut [f64],
    reserved_cap: &mut [f64],
    market_left: &mut [f64],
    reserved_left: &mut [f64],
) -> u64 {
    for ((c, a), g) in market_cap.iter_mut().zip(avail).zip(tg) {
        *c = a * g;
    }
    reserved_cap.copy_from_slice(rg);
    reserved_left.copy_from_slice(rg);
    market_left.copy_from_slice(market_cap);
    let mut open = 0u64;
    for (p, &x) in market_cap.iter().enumerate() {
        open |= ((x > 0.0) as u64) << p;
    }
    open
}

/// The period a tranche online at month `tau` (before the horizon's end)
/// comes online in: 0 for any month up to the start.
#[inline(always)]
fn first_period(tau: f64, months: f64) -> usize {
    if tau <= 0.0 {
        0
    } else {
        (tau / months).floor() as usize
    }
}

/// The share of period `first` a tranche online at month `tau` (in
/// period `first`) is online for: pro rata in its first period (1 when
/// it comes online at the period's start or before the horizon's).
#[inline(always)]
fn first_share(first: usize, tau: f64, months: f64) -> f64 {
    (((first + 1) as f64 * months - tau) / months).clamp(0.0, 1.0)
}

/// The period's payments per provider (MODEL.md sections 5, 8), from
/// `[price, market_cap, market_left, reserved_cash, reserved_cap,
/// reserved_left]`: market cash for the market GPUs used, reserved cash as
/// contracted, both added to the provider's cash; the GPUs served, as the
/// pools' capacity less what is left (so a provider whose pools are drained
/// served exactly its capacity, where the sum of the takes would differ
/// from it in the last bits), and their GPU-hours added up; true-ups zeroed
/// (the commitments add theirs after). Elementwise (a function of its own,
/// the slices it writes parameters of their own: so LLVM knows they are
/// distinct, and vectorises).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn pay(
    hours: f64,
    inp: [&[f64]; 6],
    served: &mut [f64],
    market_cash: &mut [f64],
    reserved_cash: &mut [f64],
    cash_p: &mut [f64],
    gpu_hours: &mut [f64],
    true_up_p: &mut [f64],
) {
    let [price, market_cap, market_left, rc, reserved_cap, reserved_left] = inp;
    let np = price.len();
    let (market_cap, market_left, rc, reserved_cap, reserved_left) = (
        &market_cap[..np],
        &market_left[..np],
        &rc[..np],
        &reserved_cap[..np],
        &reserved_left[..np],
    );
    let (served, market_cash, cash_p, gpu_hours) = (
        &mut served[..np],
        &mut market_cash[..np],
        &mut cash_p[..np],
        &mut gpu_hours[..np],
    );
    for p in 0..np {
        let market_used = market_cap[p] - market_left[p];
        served[p] = (reserved_cap[p] - reserved_left[p]) + market_used;
        market_cash[p] = market_used * hours * price[p];
        cash_p[p] += market_cash[p] + rc[p];
        gpu_hours[p] += served[p] * hours;
    }
    reserved_cash.copy_from_slice(rc);
    true_up_p.iter_mut().for_each(|x| *x = 0.0);
}

/// Whether market pool `y` goes after `x`: a higher price, or the same
/// price and a later provider. Written to decide the usual case, a lower
/// price, with one comparison (prices are never NaN).
#[inline(always)]
fn after_by_price(price: &[f64], y: usize, x: usize) -> bool {
    price[y] >= price[x] && (price[y] > price[x] || y > x)
}

/// Sorts a short index list in place, stably: `after(y, x)` says `y` goes
/// after `x`. Insertion sort: the kernel's orders are a few entries long
/// and usually already sorted from the period before.
#[inline(always)]
fn insertion_sort(order: &mut [usize], after: impl Fn(usize, usize) -> bool) {
    for i in 1..order.len() {
        let x = order[i];
        if !after(order[i - 1], x) {
            continue;
        }
        let mut j = i;
        while j > 0 && after(order[j - 1], x) {
            order[j] = order[j - 1];
            j -= 1;
        }
        order[j] = x;
    }
}

/// Runs `op` down rows of `nf` values in place: each value becomes
/// `op(itself, the value a row before)` (`x[i] = op(x[i], x[i - nf])`, row
/// 0 as it is, rows in order): `*` turns growth factors into levels, `+`
/// steps into totals. Row by row, four values at a time, then the rest one
/// by one: each group of four reads the four the row before stored at the
/// same place (so the CPU forwards them from its store buffer; groups
/// straddling rows would read across two stores and wait for them).
#[inline(always)]
fn running(x: &mut [f64], nf: usize, op: impl Fn(f64, f64) -> f64) {
    if nf == 0 {
        return;
    }
    let mut rows = x.chunks_exact_mut(nf);
    let Some(mut prev) = rows.next() else {
        return;
    };
    for cur in rows {
        let mut j = 0;
        while j + 4 <= nf {
            let p: [f64; 4] = prev[j..j + 4].try_into().unwrap();
            let c: &mut [f64; 4] = (&mut cur[j..j + 4]).try_into().unwrap();
            for (y, p) in c.iter_mut().zip(p) {
                *y = op(*y, p);
            }
            j += 4;
        }
        while j < nf {
            cur[j] = op(cur[j], prev[j]);
            j += 1;
        }
        prev = cur;
    }
}

/// Correlates the shocks in place (MODEL.md section 9): `rows` holds one
/// row of `nf` independent normals per period; each becomes `z_i = sum_k
/// L_ik e_k` over the non-zero entries of the Cholesky factor's rows other
/// than the identity's, summed in column order. One Cholesky row at a time
/// over every period (the same sums in the same order as period by period:
/// the rows come last first, and a row reads only columns at or before its
/// own, which the rows after it do not rewrite); rows of up to three
/// entries with their entries held in registers.
#[inline(always)]
fn correlate(c: &CholRows, rows: &mut [f64], nf: usize) {
    for &(i, a, b) in &c.rows {
        match c.entries[a..b] {
            [] => {}
            [(k0, l0)] => {
                for z in rows.chunks_exact_mut(nf) {
                    z[i] = l0 * z[k0];
                }
            }
            [(k0, l0), (k1, l1)] => {
                for z in rows.chunks_exact_mut(nf) {
                    z[i] = l0 * z[k0] + l1 * z[k1];
                }
            }
            [(k0, l0), (k1, l1), (k2, l2)] => {
                for z in rows.chunks_exact_mut(nf) {
                    z[i] = l0 * z[k0] + l1 * z[k1] + l2 * z[k2];
                }
            }
            ref entries => {
                for z in rows.chunks_exact_mut(nf) {
                    let mut acc = 0.0;
                    for (j, &(k, l)) in entries.iter().enumerate() {
                        acc = if j == 0 { l * z[k] } else { acc + l * z[k] };
                    }
                    z[i] = acc;
                }
            }
        }
    }
}

/// Simulates path `path` of `m`. Writes the per-path metrics into `out`
/// (`m.layout.n_path()` values) and the per-period metrics into `per`
/// (`T * m.layout.n_period()` values, period-major).
///
/// Models of up to [`MAX_FIXED_PROVIDERS`] providers run a copy of the
/// kernel compiled for their number of providers (the per-provider loops
/// unrolled, their bounds checks gone: about a tenth fewer instructions on
/// the baseline); larger ones the general copy. On x86-64 CPUs with AVX2
/// and BMI (`simd::v3`), each copy is compiled for those too
/// (`simulate_v3`). All copies do the same arithmetic in the same order, so
/// they give the same bits.
pub fn simulate_path<O: Observer>(
    m: &Model,
    path: u64,
    s: &mut Scratch,
    out: &mut [f64],
    per: &mut [f64],
    obs: &mut O,
) {
    let v3 = v3();
    match m.providers.len() {
        1 => copy::<O, 1>(v3, m, path, s, out, per, obs),
        2 => copy::<O, 2>(v3, m, path, s, out, per, obs),
        3 => copy::<O, 3>(v3, m, path, s, out, per, obs),
        4 => copy::<O, 4>(v3, m, path, s, out, per, obs),
        5 => copy::<O, 5>(v3, m, path, s, out, per, obs),
        6 => copy::<O, 6>(v3, m, path, s, out, per, obs),
        7 => copy::<O, 7>(v3, m, path, s, out, per, obs),
        8 => copy::<O, 8>(v3, m, path, s, out, per, obs),
        _ => copy::<O, 0>(v3, m, path, s, out, per, obs),
    }
}

/// Whether the copies built for `simd::v3` run.
#[inline]
fn v3() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        crate::simd::v3()
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// The kernel copy for `NP` providers: [`simulate_v3`] where `v3`, else
/// [`simulate`].
#[inline(always)]
fn copy<O: Observer, const NP: usize>(
    v3: bool,
    m: &Model,
    path: u64,
    s: &mut Scratch,
    out: &mut [f64],
    per: &mut [f64],
    obs: &mut O,
) {
    #[cfg(target_arch = "x86_64")]
    {
        if v3 {
            // SAFETY: `v3` is `simd::v3()`: the CPU has the features
            // `simulate_v3` is compiled for.
            unsafe { simulate_v3::<O, NP>(m, path, s, out, per, obs) };
            return;
        }
    }
    let _ = v3;
    simulate::<O, NP>(m, path, s, out, per, obs)
}

/// [`simulate`] compiled for AVX2 and the bit-manipulation instructions of
/// its generation (`simd::v3`): the same operations, so the same bits (no
/// fused multiply-adds: Rust never contracts `a * b + c`), in fewer
/// instructions (wider vectors where LLVM vectorises the loops over
/// providers, `popcnt` and `tzcnt` for the rules' bit sets). Caller: the
/// CPU has those features.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,bmi1,bmi2,lzcnt,popcnt")]
unsafe fn simulate_v3<O: Observer, const NP: usize>(
    m: &Model,
    path: u64,
    s: &mut Scratch,
    out: &mut [f64],
    per: &mut [f64],
    obs: &mut O,
) {
    kernel::<O, NP>(m, path, s, out, per, obs)
}

/// The largest number of providers with a kernel copy of its own.
pub const MAX_FIXED_PROVIDERS: usize = 8;

/// [`simulate_path`] for models of `NP` providers (`NP` = 0: any number).
/// Public for the test that compares the copies with the general one.
#[doc(hidden)]
pub fn simulate<O: Observer, const NP: usize>(
    m: &Model,
    path: u64,
    s: &mut Scratch,
    out: &mut [f64],
    per: &mut [f64],
    obs: &mut O,
) {
    kernel::<O, NP>(m, path, s, out, per, obs)
}

/// The kernel itself, inlined into [`simulate`] and `simulate_v3`: the
/// copy for `NP` providers with arrays of `NP` (`NP` = 0: of
/// [`MAX_PROVIDERS`], for any number).
#[inline(always)]
fn kernel<O: Observer, const NP: usize>(
    m: &Model,
    path: u64,
    s: &mut Scratch,
    out: &mut [f64],
    per: &mut [f64],
    obs: &mut O,
) {
    if NP == 0 {
        path_kernel::<O, 0, MAX_PROVIDERS>(m, path, s, out, per, obs)
    } else {
        path_kernel::<O, NP, NP>(m, path, s, out, per, obs)
    }
}

/// One path (the module's introduction): `NP` providers (0: any number),
/// the period loop's per-provider arrays `CP` long (`NP`, or
/// [`MAX_PROVIDERS`] for any number).
#[inline(always)]
fn path_kernel<O: Observer, const NP: usize, const CP: usize>(
    m: &Model,
    path: u64,
    s: &mut Scratch,
    out: &mut [f64],
    per: &mut [f64],
    obs: &mut O,
) {
    let (nw, nt) = (m.workloads.len(), m.periods);
    let np = if NP == 0 { m.providers.len() } else { NP };
    assert_eq!(np, m.providers.len(), "kernel copy for another model");
    let lay = &m.layout;
    let nq = lay.n_period();
    let all_providers = m.all_providers();

    // AGI (section 6).
    s.agi_period = NEVER;
    s.agi_declared = false;
    if let Some((earliest, hazard)) = m.agi {
        let e = rng::exp1(&mut Words::at(m.agi_stream, path));
        if hazard > 0.0 {
            let month = earliest + 12.0 * e / hazard;
            if month < m.horizon {
                s.agi_declared = true;
                s.agi_period = if month < 0.0 {
                    -1
                } else {
                    (month / m.months).floor() as i64
                };
            }
        }
    }

    // Tranches (section 4): online month, capacity timeline, capex, depreciation.
    s.tranche_gpus.iter_mut().for_each(|x| *x = 0.0);
    s.first_shares.clear();
    s.capex_t.iter_mut().for_each(|x| *x = 0.0);
    s.capex_tp.iter_mut().for_each(|x| *x = 0.0);
    s.capex_p.iter_mut().for_each(|x| *x = 0.0);
    s.depreciation = 0.0;
    // Each tranche's stream gives a uniform (failure), then a normal z
    // (delay): drawn for all tranches at once, as the uniform and the
    // delay's factor `exp(sigma z)`.
    let nr = m.tranches.len();
    let (tr_u, tr_f) = (&mut s.tranche_u[..nr], &mut s.tranche_f[..nr]);
    normals::uniform_lognormal(&m.tranche_streams, &m.tranche_sigma, path, tr_u, tr_f);
    for (i, tr) in m.tranches.iter().enumerate() {
        if tr_u[i] < tr.failure {
            s.tau[i] = f64::INFINITY;
            continue;
        }
        let tau = match tr.delay {
            Some((median, _)) => tr.online + median * tr_f[i],
            None => tr.online,
        };
        s.tau[i] = tau;
        if tau >= m.horizon {
            continue;
        }
        let first = first_period(tau, m.months);
        // Pro rata in its first period, whole afterwards: record the step
        // to whole GPUs here and sum the steps up per provider below, then
        // add the first period's share (so that a period with no tranche
        // part-way in holds whole GPUs summed exactly: the same capacity
        // on every path that has the same tranches online).
        let share = first_share(first, tau, m.months);
        let mut whole = first;
        if share < 1.0 {
            // (At most one entry per tranche: within the capacity
            // `Scratch::new` gave it, no allocation.)
            s.first_shares
                .push((first * np + tr.provider, tr.gpus * share));
            whole += 1;
        }
        if whole < nt {
            s.tranche_gpus[whole * np + tr.provider] += tr.gpus;
        }
        if tr.capex > 0.0 && tau >= 0.0 {
            s.capex_t[first] += tr.capex;
            s.capex_tp[tr.provider * nt + first] += tr.capex;
            s.capex_p[tr.provider] += tr.capex;
            // Straight line over `life_months` from tau, cut at the
            // horizon: the capex itself when the life ends inside it, so
            // that it sums to the capex exactly (it was the monthly
            // amount times the months, capex plus round-off, and 0 or
            // NaN for a life below the month's last digit).
            s.depreciation += tr.capex * ((m.horizon - tau) / tr.life_months).min(1.0);
        }
    }

    running(&mut s.tranche_gpus[..nt * np], np, |x, prev| x + prev);
    for &(at, gpus) in &s.first_shares {
        s.tranche_gpus[at] += gpus;
    }

    // Demand and prices (sections 3, 4, 9) for the whole path, before the
    // periods: each factor's normals from its own stream in period order
    // (the sequence drawing period by period gives), then per period the
    // correlation, the growth factors, and the levels: period 0's are the
    // starting ones, period t's those of t - 1 times t's growth factors.
    let nf = nw + np;
    s.shocks[..nf].copy_from_slice(&m.start);
    if nt > 1 && nf > 0 {
        let rows = &mut s.shocks[nf..nt * nf];
        normals::fill_columns(&m.factor_streams, path, rows);
        // Correlate in place (section 9; `correlate`).
        if let Some(c) = &m.chol {
            correlate(c, rows, nf);
        }
        // Growth factors: `exp(drift + vol z + jumps)` for demand,
        // `exp(drift + vol z)` for prices.
        // One elementwise pass for every period, then the jumps, drawn
        // from each workload's own stream in period order and added where
        // they belong.
        for ((x, d), v) in rows.iter_mut().zip(&m.step_drift).zip(&m.step_vol) {
            *x = d + v * *x;
        }
        if m.has_jumps {
            for (w, wm) in m.workloads.iter().enumerate() {
                if let Some((counts, mean, sd)) = &wm.jumps {
                    let mut r = Words::at(wm.jump_stream, path);
                    for z in rows.chunks_exact_mut(nf) {
                        let k = counts.sample(&mut r);
                        let mut jump = 0.0;
                        for _ in 0..k {
                            jump += mean + sd * r.normal();
                        }
                        z[w] += jump;
                    }
                }
            }
        }
        exp::exp_in_place(rows);
        running(&mut s.shocks[..nt * nf], nf, |x, prev| x * prev);
    }

    // Process state.
    for (r, rm) in m.rules.iter().enumerate() {
        if rm.kind == RuleKindM::FirstRefusal {
            s.rule_rng[r] = Words::at(rm.stream, path);
        }
    }
    s.commit_paid.iter_mut().for_each(|x| *x = 0.0);
    s.true_up_c.iter_mut().for_each(|x| *x = 0.0);
    obs.path_start(s);

    let mut tot_cash = 0.0;
    let mut tot_npv = 0.0;
    let mut tot_short = 0.0;
    let mut tot_served = 0.0;
    let mut tot_unmet = 0.0;
    let mut tot_true_up = 0.0;
    let gpu_hours_base = lay.gpu_hours_p(0);
    for x in &mut out[gpu_hours_base..gpu_hours_base + np] {
        *x = 0.0;
    }

    let hours = m.hours;
    let (per_gpu, deferrable) = (&m.shortfall_per_gpu[..nw], &m.deferrable[..nw]);
    let gpu_hours = &mut out[gpu_hours_base..gpu_hours_base + np];
    // The period loop borrows the scratch arrays it uses once, as slices of
    // their exact lengths: no vector headers reloaded and few bounds checks
    // in the loop; its own arrays follow. Observers see the period through
    // a `PeriodView` of both.
    let Scratch {
        rule_rng,
        shocks,
        rule_active,
        rule_taken,
        flow,
        commit_paid,
        true_up_c,
        tranche_gpus,
        capex_t,
        capex_tp,
        agi_period,
        ..
    } = s;
    let agi_period = *agi_period;
    let shocks = &shocks[..nt * nf];
    let tranche_gpus = &tranche_gpus[..nt * np];
    let capex_t = &capex_t[..nt];
    let (rule_rng, rule_active, rule_taken) = (
        &mut rule_rng[..m.rules.len()],
        &mut rule_active[..m.rules.len()],
        &mut rule_taken[..m.rules.len()],
    );
    let (commit_paid, true_up_c) = (
        &mut commit_paid[..m.commitments.len()],
        &mut true_up_c[..m.commitments.len()],
    );
    // The period loop's own arrays live on the stack, so their addresses
    // are offsets from the stack pointer (nothing to reload). Per workload
    // they are `MAX_WORKLOADS` long: every workload may use every provider
    // until the rules say otherwise, served in file order.
    let (mut backlog, mut demand, mut unmet_w) = (
        [0.0; MAX_WORKLOADS],
        [0.0; MAX_WORKLOADS],
        [0.0; MAX_WORKLOADS],
    );
    let (mut allowed, mut pass2) = ([all_providers; MAX_WORKLOADS], [0u64; MAX_WORKLOADS]);
    let mut order_w: [usize; MAX_WORKLOADS] = std::array::from_fn(|w| w);
    let mut order_w_for = [all_providers; MAX_WORKLOADS];
    // The rule bits (`rule_bit`) `allowed` and `pass2` were built for.
    let mut rule_sig = 0u64;
    let (backlog, demand, unmet_w) = (&mut backlog[..nw], &mut demand[..nw], &mut unmet_w[..nw]);
    let (allowed, pass2) = (&mut allowed[..nw], &mut pass2[..nw]);
    let (order_w, order_w_for) = (&mut order_w[..nw], &mut order_w_for[..nw]);
    // Per provider they are `CP` long: `NP` in the copies for a fixed
    // number of providers (so every index is known in bounds), 64 (the
    // most providers a model has) in the general copy, which uses the
    // first `np`. Share targets and caps start neutral; the market pools'
    // price order starts in provider order (the order the sort gives does
    // not depend on where it starts).
    let mut order_p: [usize; CP] = std::array::from_fn(|p| p);
    let (mut target_share, mut cap_share) = ([-1.0f64; CP], [f64::INFINITY; CP]);
    let (mut target, mut cap) = ([-1.0f64; CP], [f64::INFINITY; CP]);
    let (mut reserved_cap, mut market_cap) = ([0.0; CP], [0.0; CP]);
    let (mut reserved_left, mut market_left) = ([0.0; CP], [0.0; CP]);
    let (mut served_p, mut market_cash, mut reserved_cash) = ([0.0; CP], [0.0; CP], [0.0; CP]);
    let (mut cash_p, mut true_up_p) = ([0.0; CP], [0.0; CP]);
    let order_p = &mut order_p[..np];
    let (target_share, cap_share, target, cap) = (
        &mut target_share[..np],
        &mut cap_share[..np],
        &mut target[..np],
        &mut cap[..np],
    );
    let (reserved_cap, market_cap, reserved_left, market_left) = (
        &mut reserved_cap[..np],
        &mut market_cap[..np],
        &mut reserved_left[..np],
        &mut market_left[..np],
    );
    let (served_p, market_cash, reserved_cash, cash_p, true_up_p) = (
        &mut served_p[..np],
        &mut market_cash[..np],
        &mut reserved_cash[..np],
        &mut cash_p[..np],
        &mut true_up_p[..np],
    );
    for t in 0..nt {
        let ti = t as i64;

        // Demand and prices (sections 3, 4), computed above.
        let (level, price) = shocks[t * nf..][..nf].split_at(nw);
        let mut total = 0.0;
        for ((d, l), b) in demand.iter_mut().zip(level).zip(backlog.iter()) {
            *d = l + b;
            total += *d;
        }

        // Rules (sections 6, 7). Without rules of a kind, its arrays keep
        // the neutral values they start the path with (above).
        // (Paired loops rather than `fill`: a call to memset costs more
        // than these few stores.)
        if m.rule_kinds.shares {
            for (a, b) in target_share.iter_mut().zip(cap_share.iter_mut()) {
                *a = -1.0;
                *b = f64::INFINITY;
            }
        }
        // Which exclusivity rules are active and which first-refusal
        // offers were taken, as bits (`rule_bit`): `allowed` and `pass2`
        // follow from these alone, so they are rebuilt only when these
        // change (rules switch on and off rarely).
        let mut sig = 0u64;
        for (r, rm) in m.rules.iter().enumerate() {
            let active = m.rule_dates[r * nt + t]
                && (!rm.until_agi || ti <= agi_period)
                && (!rm.from_agi || ti > agi_period);
            rule_active[r] = active;
            match rm.kind {
                RuleKindM::FirstRefusal => {
                    let u = rng::uniform(&mut rule_rng[r]);
                    let taken = active && u < rm.accept;
                    rule_taken[r] = taken;
                    if taken {
                        sig |= rule_bit(r);
                    }
                }
                _ if !active => {}
                RuleKindM::Exclusive => sig |= rule_bit(r),
                RuleKindM::MinShare => {
                    target_share[rm.provider] = target_share[rm.provider].max(rm.share)
                }
                RuleKindM::MaxShare => {
                    cap_share[rm.provider] = cap_share[rm.provider].min(rm.share)
                }
            }
        }
        let rebuild = m.rule_kinds.allocation && (t == 0 || sig != rule_sig || m.rules.len() > 64);
        if rebuild {
            rule_sig = sig;
            for (a, b) in allowed.iter_mut().zip(pass2.iter_mut()) {
                *a = all_providers;
                *b = 0;
            }
            for (r, rm) in m.rules.iter().enumerate() {
                match rm.kind {
                    RuleKindM::Exclusive if rule_active[r] => {
                        for w in bits(rm.workloads) {
                            allowed[w] &= rm.providers;
                        }
                    }
                    RuleKindM::FirstRefusal if rule_taken[r] => {
                        for w in bits(rm.workloads) {
                            pass2[w] |= rm.providers;
                        }
                    }
                    _ => {}
                }
            }
        }

        // Capacity (sections 4, 5) and share targets.
        // The allocation's masks (`allocate::Masks`), from what is known
        // here: without share rules, no targets and no caps.
        let (mut min_mask, mut capped) = (0u64, false);
        if m.rule_kinds.shares {
            for p in 0..np {
                target[p] = if target_share[p] >= 0.0 {
                    total * target_share[p]
                } else {
                    -1.0
                };
                cap[p] = if cap_share[p].is_finite() {
                    total * cap_share[p]
                } else {
                    f64::INFINITY
                };
            }
            (min_mask, capped) = allocate::share_masks(target, cap);
        }
        let rg = &m.reserved_gpus[t * np..][..np];
        let tg = &tranche_gpus[t * np..][..np];
        let avail = &m.availability[..np];
        let market_open = pools(
            avail,
            tg,
            rg,
            market_cap,
            reserved_cap,
            market_left,
            reserved_left,
        );
        // Market pools by price, then provider order (the order rarely
        // changes from one period to the next).
        insertion_sort(order_p, |y, x| after_by_price(price, y, x));
        if rebuild {
            // Without exclusivity or first-refusal rules every workload may
            // use every provider: the order stays the file order. By number
            // of allowed providers, then file order; only re-sorted when an
            // allowed set changed. (Compared element by element: a slice
            // comparison calls memcmp, which costs more than these few
            // words.)
            if allowed.iter().zip(order_w_for.iter()).any(|(a, b)| a != b) {
                order_w_for.copy_from_slice(allowed);
                let allowed = &*allowed;
                insertion_sort(order_w, |y, x| {
                    (allowed[y].count_ones(), y) > (allowed[x].count_ones(), x)
                });
            }
        }

        // Allocation (section 7).
        let mut period = Period {
            demand,
            allowed,
            pass2,
            order_w,
            order_p,
            target,
            cap,
            reserved_left,
            market_left,
            served_p,
            unmet: unmet_w,
        };
        if m.optimal {
            // (Moved: only this copy goes to a function not inlined, so the
            // priority policy's stays in registers.)
            let mut moved = period;
            optimal::allocate_optimal(&mut moved, price, &m.shortfall_price, flow, obs);
        } else {
            let masks = allocate::Masks {
                min: min_mask,
                capped,
                reserved: m.reserved_open[t],
                market: market_open,
            };
            allocate_with(&mut period, masks, obs);
        }

        // Cash (sections 5, 8).
        let rc = &m.reserved_cash[t * np..][..np];
        pay(
            hours,
            [
                price,
                market_cap,
                market_left,
                rc,
                reserved_cap,
                reserved_left,
            ],
            served_p,
            market_cash,
            reserved_cash,
            cash_p,
            gpu_hours,
            true_up_p,
        );
        let mut cash = capex_t[t];
        let mut served = 0.0;
        for p in 0..np {
            cash += market_cash[p] + rc[p];
            served += served_p[p];
        }
        let mut true_up = 0.0;
        if !m.commitments.is_empty() {
            for (c, cm) in m.commitments.iter().enumerate() {
                if cm.window.contains(&t) {
                    commit_paid[c] += market_cash[cm.provider] + reserved_cash[cm.provider];
                }
                if cm.settle == Some(t) {
                    let tu = (cm.amount - commit_paid[c]).max(0.0);
                    true_up_c[c] = tu;
                    cash_p[cm.provider] += tu;
                    true_up_p[cm.provider] += tu;
                    true_up += tu;
                }
            }
        }
        cash += true_up;
        let mut unmet = 0.0;
        let mut shortfall = 0.0;
        for w in 0..nw {
            let u = unmet_w[w];
            unmet += u;
            shortfall += u * per_gpu[w];
            backlog[w] = f64::from_bits(u.to_bits() & deferrable[w]);
        }

        let row = &mut per[t * nq..][..nq];
        row[qm::CASH] = cash;
        row[qm::DEMAND] = total;
        row[qm::SERVED] = served;
        row[qm::UNMET] = unmet;
        let (capr, rest) = row[qm::PROVIDERS..].split_at_mut(np);
        let (servr, rest) = rest.split_at_mut(np);
        let pricer = &mut rest[..np];
        for p in 0..np {
            capr[p] = market_cap[p] + reserved_cap[p];
            servr[p] = served_p[p];
            pricer[p] = price[p];
        }

        tot_cash += cash;
        tot_npv += cash * m.discount[t];
        tot_short += shortfall;
        tot_served += served * hours;
        tot_unmet += unmet * hours;
        tot_true_up += true_up;
        obs.period_end(
            t,
            &PeriodView {
                level,
                price,
                demand,
                unmet: unmet_w,
                rule_active,
                rule_taken,
                agi_period,
                reserved_cap,
                market_cap,
                market_left,
                served: served_p,
                market_cash,
                reserved_cash,
                capex: capex_t[t],
                capex_tp,
                true_up_p,
                true_up,
                cash,
                shortfall,
            },
        );
    }
    // Summed from +0 (`Sum` for f64 starts at -0, which a model without
    // providers would report as capex).
    let capex = s.capex_p.iter().fold(0.0, |a, x| a + x);
    out[pm::CASH] = tot_cash;
    out[pm::NPV] = tot_npv;
    out[pm::ECONOMIC] = tot_cash + tot_short;
    out[pm::SHORTFALL_COST] = tot_short;
    out[pm::SERVED_GPU_HOURS] = tot_served;
    out[pm::UNMET_GPU_HOURS] = tot_unmet;
    out[pm::CAPEX] = capex;
    out[pm::DEPRECIATION] = s.depreciation;
    out[pm::TRUE_UP] = tot_true_up;
    for p in 0..np {
        out[lay.cash_p(p)] = cash_p[p] + s.capex_p[p];
        out[lay.share_p(p)] = if tot_served > 0.0 {
            out[gpu_hours_base + p] / tot_served
        } else {
            0.0
        };
    }
    for (c, cm) in m.commitments.iter().enumerate() {
        out[lay.true_up_c(c)] = s.true_up_c[c];
        out[lay.unsettled_c(c)] = if cm.open_at_end {
            (cm.amount - s.commit_paid[c]).max(0.0)
        } else {
            0.0
        };
    }
    out[lay.agi_declared()] = if s.agi_declared { 1.0 } else { 0.0 };
}

#[cfg(test)]
// The tests compare with, or make data by, the platform's functions.
#[allow(clippy::disallowed_methods)]
mod tests {
    use super::*;

    /// The insertion sort gives the order a stable sort gives, from any
    /// starting order, with ties (in the key) broken by index as the kernel
    /// breaks them, and without the tie-break (stable: ties keep their order).
    #[test]
    fn insertion_sort_matches_a_stable_sort() {
        let mut r = crate::rng::stream(3, 1, 4);
        for n in 0..10 {
            for _ in 0..200 {
                let key: Vec<u64> = (0..n)
                    .map(|_| (crate::rng::uniform(&mut r) * 4.0) as u64)
                    .collect();
                let mut order: Vec<usize> = (0..n).collect();
                for i in (1..n).rev() {
                    let j = (crate::rng::uniform(&mut r) * (i + 1) as f64) as usize;
                    order.swap(i, j);
                }
                let mut want = order.clone();
                want.sort_by_key(|&q| key[q]);
                let mut got = order.clone();
                insertion_sort(&mut got, |y, x| key[y] > key[x]);
                assert_eq!(got, want, "keys {key:?}, from {order:?}");
                want.sort_by_key(|&q| (key[q], q));
                insertion_sort(&mut got, |y, x| (key[y], y) > (key[x], x));
                assert_eq!(got, want, "keys {key:?}, from {order:?}");
            }
        }
    }

    /// The price order's comparison is "a higher price, or the same price
    /// and a later provider", with ties, and the insertion sort with it
    /// gives the stable sort by (price, provider).
    #[test]
    fn price_order_breaks_ties_by_provider() {
        let mut r = crate::rng::stream(5, 2, 8);
        for n in 1..9 {
            for _ in 0..300 {
                // Few distinct prices: many ties.
                let price: Vec<f64> = (0..n)
                    .map(|_| (crate::rng::uniform(&mut r) * 3.0).floor() * 0.5)
                    .collect();
                for y in 0..n {
                    for x in 0..n {
                        let want = price[y] > price[x] || (price[y] == price[x] && y > x);
                        assert_eq!(after_by_price(&price, y, x), want, "{price:?} {y} {x}");
                    }
                }
                let mut order: Vec<usize> = (0..n).collect();
                for i in (1..n).rev() {
                    let j = (crate::rng::uniform(&mut r) * (i + 1) as f64) as usize;
                    order.swap(i, j);
                }
                insertion_sort(&mut order, |y, x| after_by_price(&price, y, x));
                let mut want: Vec<usize> = (0..n).collect();
                want.sort_by(|&a, &b| price[a].total_cmp(&price[b]).then(a.cmp(&b)));
                assert_eq!(order, want, "{price:?}");
            }
        }
    }

    /// The running products and sums, four at a time within rows, are bit
    /// for bit those of one value at a time in order, for every row width
    /// (groups of four and a rest) and number of rows.
    #[test]
    fn running_four_at_a_time_matches_one_by_one() {
        let mut r = crate::rng::stream(7, 3, 1);
        for nf in 1..=13 {
            for rows in 1..=9 {
                let x: Vec<f64> = (0..nf * rows)
                    .map(|_| (0.3 * crate::rng::normal(&mut r)).exp())
                    .collect();
                let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                let mut want = x.clone();
                for i in nf..want.len() {
                    want[i] *= want[i - nf];
                }
                let mut got = x.clone();
                running(&mut got, nf, |x, prev| x * prev);
                assert_eq!(bits(&got), bits(&want), "products: nf {nf}, rows {rows}");
                let mut want = x.clone();
                for i in nf..want.len() {
                    want[i] += want[i - nf];
                }
                let mut got = x;
                running(&mut got, nf, |x, prev| x + prev);
                assert_eq!(bits(&got), bits(&want), "sums: nf {nf}, rows {rows}");
            }
        }
    }

    /// The Cholesky rows applied one at a time over every period give, bit
    /// for bit, what applying them period by period gives (the order they
    /// had before), for lower-triangular factors of up to 7 factors with
    /// rows of every length, including the general branch's (4 or more).
    #[test]
    fn correlation_by_rows_matches_period_by_period() {
        let mut r = crate::rng::stream(9, 9, 9);
        for nf in 1..=7 {
            for _ in 0..50 {
                // A random sparse lower-triangular factor; rows other than
                // the identity's, last row first, entries in column order.
                let mut c = CholRows {
                    rows: vec![],
                    entries: vec![],
                };
                for i in (0..nf).rev() {
                    let a = c.entries.len();
                    for k in 0..=i {
                        if k == i || crate::rng::uniform(&mut r) < 0.6 {
                            c.entries.push((k, crate::rng::normal(&mut r)));
                        }
                    }
                    let b = c.entries.len();
                    if b - a == 1 && crate::rng::uniform(&mut r) < 0.5 {
                        c.entries.truncate(a);
                    } else {
                        c.rows.push((i, a, b));
                    }
                }
                let nt = 9;
                let e: Vec<f64> = (0..nt * nf).map(|_| crate::rng::normal(&mut r)).collect();
                let mut want = e.clone();
                for z in want.chunks_exact_mut(nf) {
                    for &(i, a, b) in &c.rows {
                        let mut entries = c.entries[a..b].iter();
                        if let Some(&(k, l)) = entries.next() {
                            let mut acc = l * z[k];
                            for &(k, l) in entries {
                                acc += l * z[k];
                            }
                            z[i] = acc;
                        }
                    }
                }
                let mut got = e;
                correlate(&c, &mut got, nf);
                let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&got), bits(&want), "nf {nf}");
            }
        }
    }
}
