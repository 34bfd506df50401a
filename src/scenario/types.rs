//! The validated scenario: every default filled in, every name resolved to an
//! index, every date turned into a month offset from `start`. Only
//! [`super::load_str`] builds one, so the model compiler never sees an unchecked
//! value.

use super::date::YearMonth;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeriodKind {
    Month,
    Quarter,
    Year,
}

impl PeriodKind {
    /// `m`: months per period.
    pub fn months(self) -> i64 {
        match self {
            PeriodKind::Month => 1,
            PeriodKind::Quarter => 3,
            PeriodKind::Year => 12,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            PeriodKind::Month => "month",
            PeriodKind::Quarter => "quarter",
            PeriodKind::Year => "year",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sampling {
    MonteCarlo,
}

impl Sampling {
    pub fn as_str(self) -> &'static str {
        match self {
            Sampling::MonteCarlo => "mc",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    Priority,
    Optimal,
}

impl Policy {
    pub fn as_str(self) -> &'static str {
        match self {
            Policy::Priority => "priority",
            Policy::Optimal => "optimal",
        }
    }
}

/// The most paths a run may have (`simulation.paths`, `--paths`): the
/// sketches count a run's values in 32 bits (at most 4,294,967,295).
pub const MAX_PATHS: u64 = 4_000_000_000;

#[derive(Debug, Clone, PartialEq)]
pub struct Simulation {
    pub paths: u64,
    pub seed: u64,
    pub sampling: Sampling,
    pub policy: Policy,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Workload {
    pub name: String,
    pub demand: f64,
    pub growth: f64,
    pub volatility: f64,
    pub jump_rate: f64,
    pub jump_mean: f64,
    pub jump_stdev: f64,
    /// Already resolved: the workload's own value or the top-level default.
    pub shortfall_price: f64,
    pub deferrable: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderKind {
    Cloud,
    Owned,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Delay {
    pub median: f64,
    pub sigma: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Tranche {
    pub gpus: f64,
    /// Planned month, offset from `start`.
    pub online: i64,
    pub delay: Option<Delay>,
    pub failure: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Provider {
    pub name: String,
    pub kind: ProviderKind,
    pub price: f64,
    pub price_drift: f64,
    pub price_volatility: f64,
    pub availability: f64,
    pub capex_per_gpu: f64,
    pub life_years: f64,
    pub tranches: Vec<Tranche>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ContractKind {
    Reserved { gpus: f64, price: f64 },
    Commitment { amount: f64 },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Contract {
    pub name: String,
    pub provider: usize,
    pub kind: ContractKind,
    /// Month offsets; `None` = unbounded.
    pub from: Option<i64>,
    pub to: Option<i64>,
}

/// A rule's `from` / `until` bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    Open,
    Month(i64),
    Agi,
}

#[derive(Debug, Clone, PartialEq)]
pub enum RuleKind {
    Exclusive {
        workloads: Vec<usize>,
        providers: Vec<usize>,
    },
    FirstRefusal {
        provider: usize,
        workloads: Vec<usize>,
        accept: f64,
    },
    MinShare {
        provider: usize,
        share: f64,
    },
    MaxShare {
        provider: usize,
        share: f64,
    },
}

impl RuleKind {
    pub fn name(&self) -> &'static str {
        match self {
            RuleKind::Exclusive { .. } => "exclusive",
            RuleKind::FirstRefusal { .. } => "first_refusal",
            RuleKind::MinShare { .. } => "min_share",
            RuleKind::MaxShare { .. } => "max_share",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub kind: RuleKind,
    pub from: Bound,
    pub until: Bound,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Agi {
    pub hazard: f64,
    /// Month offset from `start`.
    pub earliest: i64,
}

/// A correlated pair of diffusion factors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Factor {
    Demand(usize),
    Price(usize),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Correlation {
    pub between: [Factor; 2],
    pub rho: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    pub start: YearMonth,
    pub periods: usize,
    pub period: PeriodKind,
    pub currency: String,
    pub discount_rate: f64,
    pub shortfall_price: f64,
    pub simulation: Simulation,
    pub workloads: Vec<Workload>,
    pub providers: Vec<Provider>,
    pub contracts: Vec<Contract>,
    pub rules: Vec<Rule>,
    pub agi: Option<Agi>,
    pub correlations: Vec<Correlation>,
}

impl Scenario {
    /// Label (`YYYY-MM`) of a month offset from `start`.
    pub fn month_label(&self, offset: i64) -> String {
        self.start.add_months(offset).to_string()
    }

    /// Label of period `t`: the date of its first month.
    pub fn period_label(&self, t: usize) -> String {
        self.month_label(t as i64 * self.period.months())
    }

    pub fn factor_name(&self, f: Factor) -> String {
        match f {
            Factor::Demand(w) => format!("demand/{}", self.workloads[w].name),
            Factor::Price(p) => format!("price/{}", self.providers[p].name),
        }
    }
}
