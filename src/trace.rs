//! The full story of one path (`capsim trace`): what was drawn, which rules
//! were active, who took what from which pool in which pass, and the cash.
//! It runs the same kernel as `run`, observing it, so its numbers are that
//! path's numbers in a run with the same seed.

use crate::kernel::allocate::TakeObserver;
use crate::kernel::{simulate_path, Observer, Scratch};
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
    fn period_end(&mut self, t: usize, s: &Scratch) {
        let mut p = std::mem::take(&mut self.current);
        p.demand = s.demand.clone();
        p.backlog_in = s
            .demand
            .iter()
            .zip(s.level(t))
            .map(|(d, l)| d - l)
            .collect();
        p.unmet = s.unmet.clone();
        p.reserved_cap = s.reserved_cap.clone();
        p.market_cap = s.market_cap.clone();
        p.price = s.price(t).to_vec();
        p.served = s.served_p.clone();
        p.rule_active = s.rule_active.clone();
        p.rule_taken = s.rule_taken.clone();
        p.agi_declared_here = s.agi_period == t as i64;
        p.agi_declared_by_now = s.agi_period <= t as i64;
        p.market_cash = s.market_cash.clone();
        p.reserved_cash = s.reserved_cash.clone();
        p.capex = s.period_capex;
        p.true_up = s.period_true_up;
        p.cash = s.period_cash;
        p.shortfall_cost = s.period_shortfall;
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
