//! The simulation kernel: one path through every period (MODEL.md sections
//! 3-8). Per period: draw shocks -> demand and prices -> rules -> capacity
//! -> allocate -> cash. No allocation, string or hash lookup happens here:
//! everything lives in a reused [`Scratch`].

pub mod allocate;
pub mod optimal;

use crate::model::{pm, qm, Model, RuleKindM, NEVER};
use crate::rng::{self, Stream};
use allocate::{allocate, sort_by_key, Period, TakeObserver};
use rand_distr::Distribution;

/// Hooks for `capsim trace` and tests; the engine passes [`NoObserver`],
/// which compiles to nothing.
pub trait Observer: TakeObserver {
    /// After the path's one-off draws (tranche dates, AGI).
    #[inline(always)]
    fn path_start(&mut self, _s: &Scratch) {}
    /// At the end of period `t`, with that period's state in `s`.
    #[inline(always)]
    fn period_end(&mut self, _t: usize, _s: &Scratch) {}
}

pub struct NoObserver;
impl TakeObserver for NoObserver {}
impl Observer for NoObserver {}

/// Per-thread working memory, sized once for a model. Fields are public so
/// observers can read a period's state.
pub struct Scratch {
    // Path-level draws.
    /// Online month of each tranche (`f64::INFINITY` if it failed).
    pub tau: Vec<f64>,
    /// Sum of pro-rata tranche GPUs, `[p * T + t]` (before availability).
    /// Built as per-period steps, then summed up over periods.
    pub tranche_gpus: Vec<f64>,
    /// Capex cash per period.
    pub capex_t: Vec<f64>,
    /// Capex cash per provider and period, `[p * T + t]`.
    pub capex_tp: Vec<f64>,
    /// True-ups charged to each provider this period.
    pub true_up_p: Vec<f64>,
    /// Period of the AGI declaration (-1 before start, `NEVER` if none).
    pub agi_period: i64,
    pub agi_declared: bool,
    // Processes.
    pub demand_rng: Vec<Stream>,
    pub jump_rng: Vec<Stream>,
    pub price_rng: Vec<Stream>,
    pub rule_rng: Vec<Stream>,
    /// Independent shocks, then correlated shocks (`W + P`).
    pub e: Vec<f64>,
    pub z: Vec<f64>,
    /// New demand `D_t` per workload.
    pub level: Vec<f64>,
    pub backlog: Vec<f64>,
    /// Demand to serve `d_t`.
    pub demand: Vec<f64>,
    pub price: Vec<f64>,
    // Rules this period.
    pub rule_active: Vec<bool>,
    pub rule_taken: Vec<bool>,
    pub allowed: Vec<u64>,
    pub pass2: Vec<u64>,
    pub target_share: Vec<f64>,
    pub cap_share: Vec<f64>,
    pub target: Vec<f64>,
    pub cap: Vec<f64>,
    // Allocation.
    pub order_w: Vec<usize>,
    pub order_p: Vec<usize>,
    pub reserved_cap: Vec<f64>,
    pub market_cap: Vec<f64>,
    pub reserved_left: Vec<f64>,
    pub market_left: Vec<f64>,
    pub served_p: Vec<f64>,
    pub unmet: Vec<f64>,
    // Cash.
    pub market_cash: Vec<f64>,
    pub reserved_cash: Vec<f64>,
    pub period_capex: f64,
    pub period_true_up: f64,
    pub period_cash: f64,
    pub period_shortfall: f64,
    pub commit_paid: Vec<f64>,
    pub true_up_c: Vec<f64>,
    pub cash_p: Vec<f64>,
    pub capex_p: Vec<f64>,
    pub depreciation: f64,
}

impl Scratch {
    pub fn new(m: &Model) -> Scratch {
        let (nw, np, nt) = (m.workloads.len(), m.providers.len(), m.periods);
        let dummy = rng::stream(0, 0, 0);
        Scratch {
            tau: vec![0.0; m.tranches.len()],
            tranche_gpus: vec![0.0; np * nt],
            capex_t: vec![0.0; nt],
            capex_tp: vec![0.0; np * nt],
            true_up_p: vec![0.0; np],
            agi_period: NEVER,
            agi_declared: false,
            demand_rng: vec![dummy.clone(); nw],
            jump_rng: vec![dummy.clone(); nw],
            price_rng: vec![dummy.clone(); np],
            rule_rng: vec![dummy; m.rules.len()],
            e: vec![0.0; nw + np],
            z: vec![0.0; nw + np],
            level: vec![0.0; nw],
            backlog: vec![0.0; nw],
            demand: vec![0.0; nw],
            price: vec![0.0; np],
            rule_active: vec![false; m.rules.len()],
            rule_taken: vec![false; m.rules.len()],
            allowed: vec![m.all_providers(); nw],
            pass2: vec![0; nw],
            target_share: vec![-1.0; np],
            cap_share: vec![f64::INFINITY; np],
            target: vec![-1.0; np],
            cap: vec![f64::INFINITY; np],
            order_w: (0..nw).collect(),
            order_p: (0..np).collect(),
            reserved_cap: vec![0.0; np],
            market_cap: vec![0.0; np],
            reserved_left: vec![0.0; np],
            market_left: vec![0.0; np],
            served_p: vec![0.0; np],
            unmet: vec![0.0; nw],
            market_cash: vec![0.0; np],
            reserved_cash: vec![0.0; np],
            period_capex: 0.0,
            period_true_up: 0.0,
            period_cash: 0.0,
            period_shortfall: 0.0,
            commit_paid: vec![0.0; m.commitments.len()],
            true_up_c: vec![0.0; m.commitments.len()],
            cash_p: vec![0.0; np],
            capex_p: vec![0.0; np],
            depreciation: 0.0,
        }
    }
}

/// Simulates path `path` of `m`. Writes the per-path metrics into `out`
/// (`m.layout.n_path()` values) and the per-period metrics into `per`
/// (`T * m.layout.n_period()` values, period-major).
pub fn simulate_path<O: Observer>(
    m: &Model,
    path: u64,
    s: &mut Scratch,
    out: &mut [f64],
    per: &mut [f64],
    obs: &mut O,
) {
    let (nw, np, nt) = (m.workloads.len(), m.providers.len(), m.periods);
    let lay = &m.layout;
    let nq = lay.n_period();
    let seed = m.seed;
    let all_providers = m.all_providers();

    // AGI (section 6).
    s.agi_period = NEVER;
    s.agi_declared = false;
    if let Some((earliest, hazard)) = m.agi {
        let e = rng::exp1(&mut rng::stream(seed, path, m.agi_key));
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
    s.capex_t.iter_mut().for_each(|x| *x = 0.0);
    s.capex_tp.iter_mut().for_each(|x| *x = 0.0);
    s.capex_p.iter_mut().for_each(|x| *x = 0.0);
    s.depreciation = 0.0;
    for (i, tr) in m.tranches.iter().enumerate() {
        let mut r = rng::stream(seed, path, tr.key);
        let u = rng::uniform(&mut r);
        let zd = rng::normal(&mut r);
        if u < tr.failure {
            s.tau[i] = f64::INFINITY;
            continue;
        }
        let tau = match tr.delay {
            Some((median, sigma)) => tr.online + median * (sigma * zd).exp(),
            None => tr.online,
        };
        s.tau[i] = tau;
        if tau >= m.horizon {
            continue;
        }
        let first = if tau <= 0.0 {
            0
        } else {
            (tau / m.months).floor() as usize
        };
        // Pro rata in its first period, whole afterwards: record the steps
        // and sum them up per provider below.
        let frac = (((first + 1) as f64 * m.months - tau) / m.months).clamp(0.0, 1.0);
        let row = &mut s.tranche_gpus[tr.provider * nt..(tr.provider + 1) * nt];
        row[first] += tr.gpus * frac;
        if first + 1 < nt {
            row[first + 1] += tr.gpus * (1.0 - frac);
        }
        if tr.capex > 0.0 && tau >= 0.0 {
            s.capex_t[first] += tr.capex;
            s.capex_tp[tr.provider * nt + first] += tr.capex;
            s.capex_p[tr.provider] += tr.capex;
            s.depreciation +=
                tr.depreciation_per_month * ((tau + tr.life_months).min(m.horizon) - tau);
        }
    }

    for row in s.tranche_gpus.chunks_exact_mut(nt) {
        let mut acc = 0.0;
        for x in row {
            acc += *x;
            *x = acc;
        }
    }

    // Process state.
    for (w, wm) in m.workloads.iter().enumerate() {
        s.level[w] = wm.demand0;
        s.backlog[w] = 0.0;
        s.demand_rng[w] = rng::stream(seed, path, wm.demand_key);
        if wm.jumps.is_some() {
            s.jump_rng[w] = rng::stream(seed, path, wm.jump_key);
        }
    }
    for (p, pmod) in m.providers.iter().enumerate() {
        s.price[p] = pmod.price0;
        s.price_rng[p] = rng::stream(seed, path, pmod.price_key);
        s.cash_p[p] = 0.0;
    }
    for (r, rm) in m.rules.iter().enumerate() {
        if rm.kind == RuleKindM::FirstRefusal {
            s.rule_rng[r] = rng::stream(seed, path, rm.key);
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

    for t in 0..nt {
        // Demand and prices (sections 3, 4, 9); period 0 is deterministic.
        if t >= 1 {
            for w in 0..nw {
                s.e[w] = rng::normal(&mut s.demand_rng[w]);
            }
            for p in 0..np {
                s.e[nw + p] = rng::normal(&mut s.price_rng[p]);
            }
            let z: &[f64] = match &m.chol {
                None => &s.e,
                Some(rows) => {
                    // Zero entries are skipped: adding them would not change
                    // the sum.
                    for (z, row) in s.z.iter_mut().zip(rows) {
                        *z = row.iter().map(|&(k, a)| a * s.e[k]).sum();
                    }
                    &s.z
                }
            };
            for (w, wm) in m.workloads.iter().enumerate() {
                let mut jump = 0.0;
                if let Some((pois, mean, sd)) = &wm.jumps {
                    let r = &mut s.jump_rng[w];
                    let k = pois.sample(r) as u64;
                    for _ in 0..k {
                        jump += mean + sd * rng::normal(r);
                    }
                }
                s.level[w] *= (wm.drift + wm.vol * z[w] + jump).exp();
            }
            for (p, pmod) in m.providers.iter().enumerate() {
                s.price[p] *= (pmod.drift + pmod.vol * z[nw + p]).exp();
            }
        }
        let mut total = 0.0;
        for w in 0..nw {
            s.demand[w] = s.level[w] + s.backlog[w];
            total += s.demand[w];
        }

        // Rules (sections 6, 7). Without rules of a kind, its arrays keep
        // the neutral values `Scratch::new` gave them.
        if m.rule_kinds.allocation {
            for w in 0..nw {
                s.allowed[w] = all_providers;
                s.pass2[w] = 0;
            }
        }
        if m.rule_kinds.shares {
            for p in 0..np {
                s.target_share[p] = -1.0;
                s.cap_share[p] = f64::INFINITY;
            }
        }
        let ti = t as i64;
        for (r, rm) in m.rules.iter().enumerate() {
            let active = m.rule_dates[r * nt + t]
                && (!rm.until_agi || ti <= s.agi_period)
                && (!rm.from_agi || ti > s.agi_period);
            s.rule_active[r] = active;
            match rm.kind {
                RuleKindM::FirstRefusal => {
                    let u = rng::uniform(&mut s.rule_rng[r]);
                    let taken = active && u < rm.accept;
                    s.rule_taken[r] = taken;
                    if taken {
                        let mut ws = rm.workloads;
                        while ws != 0 {
                            let w = ws.trailing_zeros() as usize;
                            s.pass2[w] |= rm.providers;
                            ws &= ws - 1;
                        }
                    }
                }
                _ if !active => {}
                RuleKindM::Exclusive => {
                    let mut ws = rm.workloads;
                    while ws != 0 {
                        let w = ws.trailing_zeros() as usize;
                        s.allowed[w] &= rm.providers;
                        ws &= ws - 1;
                    }
                }
                RuleKindM::MinShare => {
                    s.target_share[rm.provider] = s.target_share[rm.provider].max(rm.share)
                }
                RuleKindM::MaxShare => {
                    s.cap_share[rm.provider] = s.cap_share[rm.provider].min(rm.share)
                }
            }
        }
        for p in 0..np {
            if m.rule_kinds.shares {
                s.target[p] = if s.target_share[p] >= 0.0 {
                    total * s.target_share[p]
                } else {
                    -1.0
                };
                s.cap[p] = if s.cap_share[p].is_finite() {
                    total * s.cap_share[p]
                } else {
                    f64::INFINITY
                };
            }
            s.reserved_cap[p] = m.reserved_gpus[p * nt + t];
            s.market_cap[p] = m.providers[p].availability * s.tranche_gpus[p * nt + t];
            s.reserved_left[p] = s.reserved_cap[p];
            s.market_left[p] = s.market_cap[p];
        }
        {
            let price = &s.price;
            sort_by_key(&mut s.order_p, |p| (price[p], p));
            let allowed = &s.allowed;
            sort_by_key(&mut s.order_w, |w| (allowed[w].count_ones() as f64, w));
        }

        // Allocation (section 7).
        let mut period = Period {
            demand: &s.demand,
            allowed: &s.allowed,
            pass2: &s.pass2,
            order_w: &s.order_w,
            order_p: &s.order_p,
            target: &s.target,
            cap: &s.cap,
            reserved_left: &mut s.reserved_left,
            market_left: &mut s.market_left,
            served_p: &mut s.served_p,
            unmet: &mut s.unmet,
        };
        if m.optimal {
            optimal::allocate_optimal(&mut period, &s.price, &m.shortfall_price, obs);
        } else {
            allocate(&mut period, obs);
        }

        // Cash (sections 5, 8).
        let mut cash = s.capex_t[t];
        let mut served = 0.0;
        for p in 0..np {
            let used = s.market_cap[p] - s.market_left[p];
            s.market_cash[p] = used * m.hours * s.price[p];
            s.reserved_cash[p] = m.reserved_cash[p * nt + t];
            let paid = s.market_cash[p] + s.reserved_cash[p];
            s.cash_p[p] += paid;
            cash += paid;
            served += s.served_p[p];
            out[gpu_hours_base + p] += s.served_p[p] * m.hours;
        }
        let mut true_up = 0.0;
        s.true_up_p.iter_mut().for_each(|x| *x = 0.0);
        for (c, cm) in m.commitments.iter().enumerate() {
            if cm.window[t] {
                s.commit_paid[c] += s.market_cash[cm.provider] + s.reserved_cash[cm.provider];
            }
            if cm.settle == Some(t) {
                let tu = (cm.amount - s.commit_paid[c]).max(0.0);
                s.true_up_c[c] = tu;
                s.cash_p[cm.provider] += tu;
                s.true_up_p[cm.provider] += tu;
                true_up += tu;
            }
        }
        cash += true_up;
        let mut unmet = 0.0;
        let mut shortfall = 0.0;
        for (w, wm) in m.workloads.iter().enumerate() {
            unmet += s.unmet[w];
            shortfall += s.unmet[w] * wm.shortfall_per_gpu;
            s.backlog[w] = if wm.deferrable { s.unmet[w] } else { 0.0 };
        }
        s.period_capex = s.capex_t[t];
        s.period_true_up = true_up;
        s.period_cash = cash;
        s.period_shortfall = shortfall;

        let row = &mut per[t * nq..(t + 1) * nq];
        row[qm::CASH] = cash;
        row[qm::DEMAND] = total;
        row[qm::SERVED] = served;
        row[qm::UNMET] = unmet;
        for p in 0..np {
            row[lay.capacity_p(p)] = s.market_cap[p] + s.reserved_cap[p];
            row[lay.served_p(p)] = s.served_p[p];
            row[lay.price_p(p)] = s.price[p];
        }

        tot_cash += cash;
        tot_npv += cash * m.discount[t];
        tot_short += shortfall;
        tot_served += served * m.hours;
        tot_unmet += unmet * m.hours;
        tot_true_up += true_up;
        obs.period_end(t, s);
    }

    let capex: f64 = s.capex_p.iter().sum();
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
        out[lay.cash_p(p)] = s.cash_p[p] + s.capex_p[p];
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
