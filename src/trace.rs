//! The full story of one path (`capsim trace`): what was drawn, which rules
//! were active, who took what from which pool in which pass, and the cash.
//! It runs the same kernel as `run`, observing it, so its numbers are that
//! path's numbers in a run with the same seed.

use crate::kernel::allocate::TakeObserver;
use crate::kernel::{simulate_path, Observer, PeriodView, Scratch};
use crate::model::{Model, RuleKindM};

/// One take of the allocation.
#[derive(Debug, Clone, PartialEq)]
pub struct Take {
    pub workload: usize,
    pub provider: usize,
    pub reserved: bool,
    pub pass: u8,
    pub gpus: f64,
}

/// One period of a path.
#[derive(Debug, Clone, Default)]
pub struct PeriodTrace {
    pub demand: Vec<f64>,
    pub backlog_in: Vec<f64>,
    pub unmet: Vec<f64>,
    pub reserved_cap: Vec<f64>,
    pub market_cap: Vec<f64>,
    pub price: Vec<f64>,
    pub served: Vec<f64>,
    pub rule_active: Vec<bool>,
    pub rule_taken: Vec<bool>,
    pub agi_declared_here: bool,
    pub agi_declared_by_now: bool,
    pub takes: Vec<Take>,
    pub market_cash: Vec<f64>,
    pub reserved_cash: Vec<f64>,
    pub capex: f64,
    pub true_up: f64,
    pub cash: f64,
    pub shortfall_cost: f64,
}

#[derive(Debug, Clone)]
pub struct PathTrace {
    pub path: u64,
    /// Online month of each tranche (offset from start; infinite if failed).
    pub tranche_online: Vec<f64>,
    /// Period of the AGI declaration: `None` if none, `Some(-1)` before start.
    pub agi_period: Option<i64>,
    pub periods: Vec<PeriodTrace>,
    /// The path's metrics, as `run` computes them (layout order).
    pub totals: Vec<f64>,
}

struct Recorder {
    current: PeriodTrace,
    periods: Vec<PeriodTrace>,
    tau: Vec<f64>,
    agi: i64,
}

impl TakeObserver for Recorder {
    fn take(&mut self, w: usize, p: usize, reserved: bool, pass: u8, gpus: f64) {
        self.current.takes.push(Take {
            workload: w,
            provider: p,
            reserved,
            pass,
            gpus,
        });
    }
}

impl Observer for Recorder {
    fn path_start(&mut self, s: &Scratch) {
        self.tau = s.tau.clone();
        self.agi = s.agi_period;
    }
    fn period_end(&mut self, t: usize, v: &PeriodView<'_>) {
        let mut p = std::mem::take(&mut self.current);
        p.demand = v.demand.to_vec();
        p.backlog_in = v.demand.iter().zip(v.level).map(|(d, l)| d - l).collect();
        p.unmet = v.unmet.to_vec();
        p.reserved_cap = v.reserved_cap.to_vec();
        p.market_cap = v.market_cap.to_vec();
        p.price = v.price.to_vec();
        p.served = v.served.to_vec();
        p.rule_active = v.rule_active.to_vec();
        p.rule_taken = v.rule_taken.to_vec();
        p.agi_declared_here = v.agi_period == t as i64;
        p.agi_declared_by_now = v.agi_period <= t as i64;
        p.market_cash = v.market_cash.to_vec();
        p.reserved_cash = v.reserved_cash.to_vec();
        p.capex = v.capex;
        p.true_up = v.true_up;
        p.cash = v.cash;
        p.shortfall_cost = v.shortfall;
        self.periods.push(p);
    }
}

/// Simulates path `path` of `m` and records everything.
pub fn trace(m: &Model, path: u64) -> PathTrace {
    let mut s = Scratch::new(m);
    let mut out = vec![0.0; m.layout.n_path()];
    let mut per = vec![0.0; m.periods * m.layout.n_period()];
    let mut rec = Recorder {
        current: PeriodTrace::default(),
        periods: Vec::with_capacity(m.periods),
        tau: Vec::new(),
        agi: crate::model::NEVER,
    };
    simulate_path(m, path, &mut s, &mut out, &mut per, &mut rec);
    PathTrace {
        path,
        tranche_online: rec.tau,
        agi_period: (rec.agi != crate::model::NEVER).then_some(rec.agi),
        periods: rec.periods,
        totals: out,
    }
}

/// The first path among the first `limit` of `m`'s whose metrics are not
/// all finite (the run's overflow comes from it), for the hint to trace
/// it. `None` where every one of them is finite: then only a statistic
/// overflowed, or a later path.
pub fn overflowing_path(m: &Model, limit: u64) -> Option<u64> {
    let mut s = Scratch::new(m);
    let mut out = vec![0.0; m.layout.n_path()];
    let mut per = vec![0.0; m.periods * m.layout.n_period()];
    (0..m.paths.min(limit)).find(|&path| {
        simulate_path(
            m,
            path,
            &mut s,
            &mut out,
            &mut per,
            &mut crate::kernel::NoObserver,
        );
        !(out.iter().chain(&per).all(|x| x.is_finite()))
    })
}

/// Where the path first overflows: the first period with a quantity
/// that is infinite or not a number, and the first such quantity of it
/// (demand before capacity and prices, before cash), as `demand of
/// research is infinite`.
pub fn first_overflow(m: &Model, tr: &PathTrace) -> Option<(usize, String)> {
    let bad = |x: f64| {
        if x.is_nan() {
            Some("not a number")
        } else if x.is_infinite() {
            Some("infinite")
        } else {
            None
        }
    };
    for (t, p) in tr.periods.iter().enumerate() {
        let mut items: Vec<(String, f64)> = Vec::new();
        for (i, w) in m.workload_names.iter().enumerate() {
            items.push((format!("demand of {w}"), p.demand[i]));
        }
        for (q, name) in m.provider_names.iter().enumerate() {
            items.push((format!("price of {name}"), p.price[q]));
            items.push((
                format!("capacity of {name}"),
                p.market_cap[q] + p.reserved_cap[q],
            ));
        }
        for (i, w) in m.workload_names.iter().enumerate() {
            items.push((format!("unmet demand of {w}"), p.unmet[i]));
        }
        items.push(("shortfall cost".to_string(), p.shortfall_cost));
        items.push(("cash".to_string(), p.cash));
        if let Some((what, how)) = items.iter().find_map(|(n, x)| bad(*x).map(|h| (n, h))) {
            return Some((t, format!("{what} is {how}")));
        }
    }
    None
}

/// A rule's short label, e.g. `exclusive#0` or `first_refusal#2`.
pub fn rule_label(m: &Model, r: usize) -> String {
    let k = match m.rules[r].kind {
        RuleKindM::Exclusive => "exclusive",
        RuleKindM::FirstRefusal => "first_refusal",
        RuleKindM::MinShare => "min_share",
        RuleKindM::MaxShare => "max_share",
    };
    format!("{k}#{r}")
}
