//! The compiled model: a validated [`Scenario`] turned into flat arrays
//! indexed by workload, provider, tranche, rule and period, with every
//! per-scenario constant (drifts, hours, reserved pools, discount factors,
//! the random streams' seed-and-factor parts) computed once. The kernel
//! reads only this.

use crate::rng::{factor_key, stream_base, Counts};
use crate::scenario::{Bound, ContractKind, ProviderKind, RuleKind, Scenario};

/// A period index meaning "never" for the AGI declaration.
pub const NEVER: i64 = i64::MAX;

/// The most workloads and providers a scenario may have: the kernel keeps
/// sets of them as bits of a `u64`.
pub const MAX_WORKLOADS: usize = 64;
pub const MAX_PROVIDERS: usize = 64;
/// Hours in a year: a period of `dt` years has `H = HOURS_PER_YEAR * dt`.
pub const HOURS_PER_YEAR: f64 = 8760.0;

#[derive(Debug, Clone)]
pub struct WorkloadM {
    pub demand0: f64,
    /// `(g - sigma^2/2) dt`
    pub drift: f64,
    /// `sigma sqrt(dt)`
    pub vol: f64,
    /// Poisson(lambda dt) jump count, and the jump size's mean and stdev.
    pub jumps: Option<(Counts, f64, f64)>,
    /// Stream bases ([`crate::rng::stream_base`]: the seed and the factor name
    /// mixed once here, not per path) of the demand and jump streams.
    pub demand_stream: u64,
    pub jump_stream: u64,
}

#[derive(Debug, Clone)]
pub struct ProviderM {
    pub price0: f64,
    /// `(mu - s^2/2) dt`
    pub drift: f64,
    /// `s sqrt(dt)`
    pub vol: f64,
    /// Stream base of the price stream ([`crate::rng::stream_base`]).
    pub price_stream: u64,
}

#[derive(Debug, Clone)]
pub struct TrancheM {
    pub provider: usize,
    pub gpus: f64,
    /// Planned online month (offset from start).
    pub online: f64,
    pub delay: Option<(f64, f64)>,
    pub failure: f64,
    /// Cash paid when it comes online (owned providers; 0 otherwise).
    pub capex: f64,
    /// `12 * life_years`: capex is depreciated straight line over it.
    pub life_months: f64,
}

#[derive(Debug, Clone)]
pub struct CommitmentM {
    pub provider: usize,
    pub amount: f64,
    /// The periods whose first month lies in `[from, to]` (consecutive
    /// periods; empty if none).
    pub window: std::ops::Range<usize>,
    /// The period containing `to`, if inside the horizon.
    pub settle: Option<usize>,
    /// `to` is past the horizon: report `unsettled`.
    pub open_at_end: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleKindM {
    Exclusive,
    FirstRefusal,
    MinShare,
    MaxShare,
}

#[derive(Debug, Clone)]
pub struct RuleM {
    pub kind: RuleKindM,
    pub provider: usize,
    /// Workloads the rule names (bit w).
    pub workloads: u64,
    /// Exclusive: allowed providers (bit p). Others: the provider's bit.
    pub providers: u64,
    pub share: f64,
    pub accept: f64,
    pub until_agi: bool,
    pub from_agi: bool,
    /// Stream base ([`crate::rng::stream_base`]) of `rofr/<rule index>`;
    /// first-refusal rules only.
    pub stream: u64,
}

/// Which kinds of rules a model has, so the kernel can skip the per-period
/// bookkeeping of kinds that are absent.
#[derive(Debug, Clone, Copy, Default)]
pub struct RuleKinds {
    /// Exclusive or first-refusal rules (allowed sets, pass 2).
    pub allocation: bool,
    /// min_share or max_share rules (targets, caps).
    pub shares: bool,
}

/// Where each metric sits in a path's output arrays.
#[derive(Debug, Clone)]
pub struct Layout {
    pub path_names: Vec<String>,
    pub period_names: Vec<String>,
    pub providers: usize,
    pub commitments: usize,
    /// `policy_regret` is reported (after `agi_declared`).
    pub regret: bool,
}

/// Fixed per-path metric positions (MODEL.md section 8).
pub mod pm {
    pub const CASH: usize = 0;
    pub const NPV: usize = 1;
    pub const ECONOMIC: usize = 2;
    pub const SHORTFALL_COST: usize = 3;
    pub const SERVED_GPU_HOURS: usize = 4;
    pub const UNMET_GPU_HOURS: usize = 5;
    pub const CAPEX: usize = 6;
    pub const DEPRECIATION: usize = 7;
    pub const TRUE_UP: usize = 8;
    /// First provider-indexed metric.
    pub const PROVIDERS: usize = 9;
}

/// Fixed per-period metric positions.
pub mod qm {
    pub const CASH: usize = 0;
    pub const DEMAND: usize = 1;
    pub const SERVED: usize = 2;
    pub const UNMET: usize = 3;
    pub const PROVIDERS: usize = 4;
}

impl Layout {
    fn new(s: &Scenario) -> Layout {
        let mut path_names: Vec<String> = [
            "cash",
            "npv",
            "economic",
            "shortfall_cost",
            "served_gpu_hours",
            "unmet_gpu_hours",
            "capex",
            "depreciation",
            "true_up",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for prefix in ["cash", "gpu_hours", "share"] {
            for p in &s.providers {
                path_names.push(format!("{prefix}.{}", p.name));
            }
        }
        let commitments: Vec<&str> = s
            .contracts
            .iter()
            .filter(|c| matches!(c.kind, ContractKind::Commitment { .. }))
            .map(|c| c.name.as_str())
            .collect();
        for prefix in ["true_up", "unsettled"] {
            for c in &commitments {
                path_names.push(format!("{prefix}.{c}"));
            }
        }
        path_names.push("agi_declared".to_string());
        let mut period_names: Vec<String> = ["cash", "demand", "served", "unmet"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        for prefix in ["capacity", "served", "price"] {
            for p in &s.providers {
                period_names.push(format!("{prefix}.{}", p.name));
            }
        }
        Layout {
            path_names,
            period_names,
            providers: s.providers.len(),
            commitments: commitments.len(),
            regret: false,
        }
    }
    pub fn n_path(&self) -> usize {
        self.path_names.len()
    }
    pub fn n_period(&self) -> usize {
        self.period_names.len()
    }
    pub fn cash_p(&self, p: usize) -> usize {
        pm::PROVIDERS + p
    }
    pub fn gpu_hours_p(&self, p: usize) -> usize {
        pm::PROVIDERS + self.providers + p
    }
    pub fn share_p(&self, p: usize) -> usize {
        pm::PROVIDERS + 2 * self.providers + p
    }
    pub fn true_up_c(&self, c: usize) -> usize {
        pm::PROVIDERS + 3 * self.providers + c
    }
    pub fn unsettled_c(&self, c: usize) -> usize {
        pm::PROVIDERS + 3 * self.providers + self.commitments + c
    }
    pub fn agi_declared(&self) -> usize {
        pm::PROVIDERS + 3 * self.providers + 2 * self.commitments
    }
    /// Position of `policy_regret`, when reported.
    pub fn policy_regret(&self) -> Option<usize> {
        self.regret.then(|| self.agi_declared() + 1)
    }
    /// Adds the `policy_regret` metric.
    pub fn add_regret(&mut self) {
        if !self.regret {
            self.regret = true;
            self.path_names.push("policy_regret".to_string());
        }
    }
    pub fn capacity_p(&self, p: usize) -> usize {
        qm::PROVIDERS + p
    }
    pub fn served_p(&self, p: usize) -> usize {
        qm::PROVIDERS + self.providers + p
    }
    pub fn price_p(&self, p: usize) -> usize {
        qm::PROVIDERS + 2 * self.providers + p
    }
}

/// The non-identity rows of the Cholesky factor `L`, flattened: `rows`
/// holds `(row, start, end)` from the last row to the first, and
/// `entries[start..end]` that row's non-zero `(column, value)` in column
/// order. Applied in place in that order, `e[i] = sum_k L[i][k] e[k]` reads
/// only entries not yet rewritten.
#[derive(Debug, Clone, Default)]
pub struct CholRows {
    pub rows: Vec<(usize, usize, usize)>,
    pub entries: Vec<(usize, f64)>,
}

#[derive(Debug, Clone)]
pub struct Model {
    pub name: String,
    pub seed: u64,
    pub paths: u64,
    /// Number of periods `T`.
    pub periods: usize,
    /// Months per period `m`.
    pub months: f64,
    /// Hours per period `H = 8760 dt`.
    pub hours: f64,
    pub dt: f64,
    /// `T * m`: the first month past the horizon.
    pub horizon: f64,
    pub period_labels: Vec<String>,
    pub workloads: Vec<WorkloadM>,
    pub providers: Vec<ProviderM>,
    pub tranches: Vec<TrancheM>,
    /// Each tranche's stream base ([`crate::rng::stream_base`] of
    /// `tranche/<p>/<i>`) and its delay's `sigma` (0 without a delay), as
    /// slices for the kernel's draws.
    pub tranche_streams: Vec<u64>,
    pub tranche_sigma: Vec<f64>,
    /// Reserved pool GPUs, period-major (`[t * P + p]`: a period's row is
    /// contiguous for the kernel).
    pub reserved_gpus: Vec<f64>,
    /// Providers with reserved GPUs, per period (bit p of `[t]`).
    pub reserved_open: Vec<u64>,
    /// Reserved cash, period-major (`[t * P + p]`).
    pub reserved_cash: Vec<f64>,
    /// `availability` per provider, as one slice for the kernel.
    pub availability: Vec<f64>,
    pub commitments: Vec<CommitmentM>,
    pub rules: Vec<RuleM>,
    /// Date part of each rule's activity, `[r * T + t]`.
    pub rule_dates: Vec<bool>,
    pub rule_kinds: RuleKinds,
    /// `(earliest month, hazard per year)`.
    pub agi: Option<(f64, f64)>,
    /// Stream base ([`crate::rng::stream_base`]) of `agi`.
    pub agi_stream: u64,
    /// The diffusion factors' stream bases, in shock-column order: each
    /// workload's `demand_stream`, then each provider's `price_stream`.
    pub factor_streams: Vec<u64>,
    /// Each factor's drift and volatility per period step, in shock-column
    /// order, repeated for every period after the first (`[(t - 1) * F +
    /// f]`): the growth factors' exponents come out of one elementwise pass.
    pub step_drift: Vec<f64>,
    pub step_vol: Vec<f64>,
    /// Each factor's level in period 0, in shock-column order: the
    /// workloads' demand, then the providers' prices.
    pub start: Vec<f64>,
    /// Whether any workload has demand jumps.
    pub has_jumps: bool,
    /// Lower Cholesky factor of the shock correlation matrix (demand factors
    /// then price factors), if any correlation is given: its rows other than
    /// the identity's (`z_i = sum L_ik e_k`; an uncorrelated factor's row is
    /// the single entry (i, 1) and leaves `e_i` as it is).
    pub chol: Option<CholRows>,
    /// `(1 + r)^-((t+1) dt)`
    pub discount: Vec<f64>,
    pub layout: Layout,
    /// Policy `optimal` (else `priority`).
    pub optimal: bool,
    /// Shortfall price per workload (per GPU-hour), for `optimal`.
    pub shortfall_price: Vec<f64>,
    /// Shortfall cost of one unmet GPU over a period per workload:
    /// `shortfall_price * H`. (Flat per-workload arrays, as the period loop
    /// reads them.)
    pub shortfall_per_gpu: Vec<f64>,
    /// Whether each workload's unmet demand carries over (`deferrable`), as
    /// a mask of a 64-bit float's bits: all ones (keep the value) or zero
    /// (+0.0), so the period loop selects without a branch.
    pub deferrable: Vec<u64>,
    pub workload_names: Vec<String>,
    pub provider_names: Vec<String>,
    pub commitment_names: Vec<String>,
}

/// Months of period `t` inside `[from, to]`, over `m` (MODEL.md section 1).
pub fn coverage(t: usize, m: i64, from: Option<i64>, to: Option<i64>) -> f64 {
    let first = t as i64 * m;
    let last = first + m - 1;
    let lo = from.map_or(first, |f| f.max(first));
    let hi = to.map_or(last, |u| u.min(last));
    ((hi - lo + 1).max(0)) as f64 / m as f64
}

impl Model {
    pub fn compile(s: &Scenario) -> Model {
        let seed = s.simulation.seed;
        let t_count = s.periods;
        let m = s.period.months();
        let dt = m as f64 / 12.0;
        let hours = HOURS_PER_YEAR * dt;
        let np = s.providers.len();
        let workloads: Vec<WorkloadM> = s
            .workloads
            .iter()
            .map(|w| WorkloadM {
                demand0: w.demand,
                drift: (w.growth - 0.5 * w.volatility * w.volatility) * dt,
                vol: w.volatility * dt.sqrt(),
                jumps: (w.jump_rate > 0.0)
                    .then(|| (Counts::new(w.jump_rate * dt), w.jump_mean, w.jump_stdev)),
                demand_stream: stream_base(seed, factor_key(&format!("demand/{}", w.name))),
                jump_stream: stream_base(seed, factor_key(&format!("jumps/{}", w.name))),
            })
            .collect();
        let providers: Vec<ProviderM> = s
            .providers
            .iter()
            .map(|p| ProviderM {
                price0: p.price,
                drift: (p.price_drift - 0.5 * p.price_volatility * p.price_volatility) * dt,
                vol: p.price_volatility * dt.sqrt(),
                price_stream: stream_base(seed, factor_key(&format!("price/{}", p.name))),
            })
            .collect();
        let mut tranches = Vec::new();
        let mut tranche_streams = Vec::new();
        for (pi, p) in s.providers.iter().enumerate() {
            for (i, t) in p.tranches.iter().enumerate() {
                let capex = if p.kind == ProviderKind::Owned {
                    t.gpus * p.capex_per_gpu
                } else {
                    0.0
                };
                let life_months = 12.0 * p.life_years;
                tranches.push(TrancheM {
                    provider: pi,
                    gpus: t.gpus,
                    online: t.online as f64,
                    delay: t.delay.as_ref().map(|d| (d.median, d.sigma)),
                    failure: t.failure,
                    capex,
                    life_months,
                });
                tranche_streams.push(stream_base(
                    seed,
                    factor_key(&format!("tranche/{}/{}", p.name, i)),
                ));
            }
        }
        let availability: Vec<f64> = s.providers.iter().map(|p| p.availability).collect();
        let mut reserved_gpus = vec![0.0; np * t_count];
        let mut reserved_cash = vec![0.0; np * t_count];
        let mut commitments = Vec::new();
        let mut commitment_names = Vec::new();
        for c in &s.contracts {
            match c.kind {
                ContractKind::Reserved { gpus, price } => {
                    for t in 0..t_count {
                        let g = gpus * coverage(t, m, c.from, c.to);
                        reserved_gpus[t * np + c.provider] += g;
                        reserved_cash[t * np + c.provider] += g * hours * price;
                    }
                }
                ContractKind::Commitment { amount } => {
                    let inside = |t: usize| {
                        let first = t as i64 * m;
                        c.from.is_none_or(|f| first >= f) && c.to.is_none_or(|u| first <= u)
                    };
                    // First months rise with t, so the periods inside are
                    // consecutive.
                    let start = (0..t_count).find(|&t| inside(t)).unwrap_or(t_count);
                    let end = (start..t_count).find(|&t| !inside(t)).unwrap_or(t_count);
                    let window = start..end;
                    let horizon = t_count as i64 * m;
                    let (settle, open_at_end) = match c.to {
                        None => (None, true),
                        Some(u) if u < 0 => (None, false),
                        Some(u) if u >= horizon => (None, true),
                        Some(u) => (Some((u / m) as usize), false),
                    };
                    commitments.push(CommitmentM {
                        provider: c.provider,
                        amount,
                        window,
                        settle,
                        open_at_end,
                    });
                    commitment_names.push(c.name.clone());
                }
            }
        }
        let bits = |ids: &[usize]| ids.iter().fold(0u64, |acc, &i| acc | (1u64 << i));
        let mut rules = Vec::new();
        let mut rule_dates = Vec::new();
        for (ri, r) in s.rules.iter().enumerate() {
            let (kind, provider, workloads, providers, share, accept) = match &r.kind {
                RuleKind::Exclusive {
                    workloads,
                    providers,
                } => (
                    RuleKindM::Exclusive,
                    0,
                    bits(workloads),
                    bits(providers),
                    0.0,
                    0.0,
                ),
                RuleKind::FirstRefusal {
                    provider,
                    workloads,
                    accept,
                } => (
                    RuleKindM::FirstRefusal,
                    *provider,
                    bits(workloads),
                    1u64 << provider,
                    0.0,
                    *accept,
                ),
                RuleKind::MinShare { provider, share } => (
                    RuleKindM::MinShare,
                    *provider,
                    0,
                    1u64 << provider,
                    *share,
                    0.0,
                ),
                RuleKind::MaxShare { provider, share } => (
                    RuleKindM::MaxShare,
                    *provider,
                    0,
                    1u64 << provider,
                    *share,
                    0.0,
                ),
            };
            rules.push(RuleM {
                kind,
                provider,
                workloads,
                providers,
                share,
                accept,
                until_agi: r.until == Bound::Agi,
                from_agi: r.from == Bound::Agi,
                stream: stream_base(seed, factor_key(&format!("rofr/{ri}"))),
            });
            for t in 0..t_count {
                let first = t as i64 * m;
                let after_from = match r.from {
                    Bound::Month(f) => first >= f,
                    _ => true,
                };
                let before_until = match r.until {
                    Bound::Month(u) => first <= u,
                    _ => true,
                };
                rule_dates.push(after_from && before_until);
            }
        }
        let discount = (0..t_count)
            // libm's `pow`, not the platform's: the same bits on every
            // machine (MODEL.md section 9).
            .map(|t| libm::pow(1.0 + s.discount_rate, -((t + 1) as f64 * dt)))
            .collect();
        let (step_drift, step_vol): (Vec<f64>, Vec<f64>) = (1..s.periods.max(1))
            .flat_map(|_| {
                let w = workloads.iter().map(|w| (w.drift, w.vol));
                w.chain(providers.iter().map(|p| (p.drift, p.vol)))
            })
            .unzip();
        let start = workloads
            .iter()
            .map(|w| w.demand0)
            .chain(providers.iter().map(|p| p.price0))
            .collect();
        let has_jumps = workloads.iter().any(|w| w.jumps.is_some());
        let factor_streams = workloads
            .iter()
            .map(|w| w.demand_stream)
            .chain(providers.iter().map(|p| p.price_stream))
            .collect();
        Model {
            name: s.name.clone(),
            seed,
            paths: s.simulation.paths,
            periods: t_count,
            months: m as f64,
            hours,
            dt,
            horizon: (t_count as i64 * m) as f64,
            period_labels: (0..t_count).map(|t| s.period_label(t)).collect(),
            workloads,
            providers,
            tranche_streams,
            tranche_sigma: tranches
                .iter()
                .map(|t| t.delay.map_or(0.0, |(_, sigma)| sigma))
                .collect(),
            tranches,
            availability,
            reserved_open: (0..t_count)
                .map(|t| crate::kernel::allocate::mask(&reserved_gpus[t * np..][..np], |g| g > 0.0))
                .collect(),
            reserved_gpus,
            reserved_cash,
            commitments,
            rule_kinds: RuleKinds {
                allocation: rules
                    .iter()
                    .any(|r| matches!(r.kind, RuleKindM::Exclusive | RuleKindM::FirstRefusal)),
                shares: rules
                    .iter()
                    .any(|r| matches!(r.kind, RuleKindM::MinShare | RuleKindM::MaxShare)),
            },
            rules,
            rule_dates,
            agi: s.agi.as_ref().map(|a| (a.earliest as f64, a.hazard)),
            agi_stream: stream_base(seed, factor_key("agi")),
            factor_streams,
            step_drift,
            step_vol,
            start,
            has_jumps,
            chol: if s.correlations.is_empty() {
                None
            } else {
                let l = correlation_cholesky(s).expect("validated positive definite");
                let n = s.workloads.len() + s.providers.len();
                // Rows other than the identity's, last row first (the
                // kernel applies them in place).
                let rows: Vec<(usize, Vec<(usize, f64)>)> = (0..n)
                    .rev()
                    .map(|i| {
                        let row: Vec<(usize, f64)> = (0..=i)
                            .filter(|&k| l[i * n + k] != 0.0)
                            .map(|k| (k, l[i * n + k]))
                            .collect();
                        (i, row)
                    })
                    .filter(|(i, row)| row.as_slice() != [(*i, 1.0)])
                    .collect();
                let mut flat = CholRows::default();
                for (i, row) in rows {
                    flat.rows
                        .push((i, flat.entries.len(), flat.entries.len() + row.len()));
                    flat.entries.extend(row);
                }
                Some(flat)
            },
            discount,
            layout: Layout::new(s),
            optimal: s.simulation.policy == crate::scenario::Policy::Optimal,
            shortfall_price: s.workloads.iter().map(|w| w.shortfall_price).collect(),
            shortfall_per_gpu: s
                .workloads
                .iter()
                .map(|w| w.shortfall_price * hours)
                .collect(),
            deferrable: s
                .workloads
                .iter()
                .map(|w| if w.deferrable { u64::MAX } else { 0 })
                .collect(),
            workload_names: s.workloads.iter().map(|w| w.name.clone()).collect(),
            provider_names: s.providers.iter().map(|p| p.name.clone()).collect(),
            commitment_names,
        }
    }

    /// Bit mask of every provider.
    pub fn all_providers(&self) -> u64 {
        match self.providers.len() {
            64 => u64::MAX,
            n => (1u64 << n) - 1,
        }
    }

    /// Number of factors in the correlated shock vector.
    pub fn factors(&self) -> usize {
        self.workloads.len() + self.providers.len()
    }
}

/// Cholesky factor `L` (row-major, lower) of the correlation matrix of the
/// diffusion shocks: identity plus the given pairs, demand factors in
/// workload order then price factors in provider order (MODEL.md section 9).
/// Errors name the matrix when it is not positive definite.
pub fn correlation_cholesky(s: &Scenario) -> Result<Vec<f64>, String> {
    use crate::scenario::Factor;
    let nw = s.workloads.len();
    let n = nw + s.providers.len();
    let idx = |f: Factor| match f {
        Factor::Demand(w) => w,
        Factor::Price(p) => nw + p,
    };
    let mut a = vec![0.0; n * n];
    for i in 0..n {
        a[i * n + i] = 1.0;
    }
    for c in &s.correlations {
        let (i, j) = (idx(c.between[0]), idx(c.between[1]));
        a[i * n + j] = c.rho;
        a[j * n + i] = c.rho;
    }
    let mut l = vec![0.0; n * n];
    for j in 0..n {
        let mut d = a[j * n + j];
        for k in 0..j {
            d -= l[j * n + k] * l[j * n + k];
        }
        if d <= 1e-12 {
            let pairs: Vec<String> = s
                .correlations
                .iter()
                .map(|c| {
                    format!(
                        "{} ~ {} = {}",
                        s.factor_name(c.between[0]),
                        s.factor_name(c.between[1]),
                        c.rho
                    )
                })
                .collect();
            let name = if j < nw {
                s.factor_name(Factor::Demand(j))
            } else {
                s.factor_name(Factor::Price(j - nw))
            };
            return Err(format!(
                "the correlation matrix (identity plus {}) is not positive definite \
                 (it fails at factor {name}), expected correlations that can hold together",
                pairs.join(", ")
            ));
        }
        let djj = d.sqrt();
        l[j * n + j] = djj;
        for i in j + 1..n {
            let mut v = a[i * n + j];
            for k in 0..j {
                v -= l[i * n + k] * l[j * n + k];
            }
            l[i * n + j] = v / djj;
        }
    }
    Ok(l)
}
