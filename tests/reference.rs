//! A second reading of MODEL.md sections 3 to 9, written from the text and
//! not from the kernel: plain loops, no masks, no sorted-order caches, no
//! vector lanes. It draws each path again from the factors' streams, as
//! section 9 and docs/MODEL.md's draw order say, with rand_distr's
//! distributions (demand levels with their jumps and correlated shocks,
//! prices, tranche dates, the AGI period, the first-refusal offers), and
//! the kernel's draws must match those to round-off. Given the path's
//! draws, it computes capacity, rule
//! activity, the three-pass allocation, cash, capex, depreciation,
//! commitments, backlog and every metric of section 8, and the kernel must
//! agree with it on every metric of every path of a few hundred random
//! scenarios: every rule kind, dated and AGI-bound rules, owned and cloud
//! providers, reserved contracts and commitments with windows inside,
//! across and outside the horizon, each period length, up to 9 providers
//! (the kernel's copies for 1 to 8 and its general one), under both
//! policies: under `optimal` the allocation is the kernel's, and each
//! period's must be feasible and a linear programme solver's optimum.
//!
//! And the statistics against the paths they summarise: every summary of
//! every path and per-period metric of whole runs against the exact
//! statistics of the same paths, each simulated alone; comparisons
//! against the paired values of their paths; and sensitivity's drivers
//! against Spearman's correlation of theirs. And a few random scenarios
//! through the command line: one thread, two on the plain code path,
//! merged shards and the resolved scenario must write the same files.

// Indexed loops, like the formulas they transcribe.
#![allow(clippy::needless_range_loop)]

use crate::policy::{lp_optimum, objective, Instance, Outcome};
use capsim::kernel::allocate::TakeObserver;
use capsim::kernel::{simulate_path, NoObserver, Observer, PeriodView, Scratch};
use capsim::model::Model;
use capsim::scenario::{self, Bound, ContractKind, Policy, ProviderKind, RuleKind, Scenario};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

// ---------------------------------------------------------------------------
// The draws, as the kernel made them.

#[derive(Default)]
struct Draws {
    /// `D_t` per period and workload.
    level: Vec<Vec<f64>>,
    /// `P_t` per period and provider.
    price: Vec<Vec<f64>>,
    /// Whether each rule's offer was taken, per period (first refusal only).
    taken: Vec<Vec<bool>>,
    /// Online month of each tranche, providers in file order, then their
    /// tranches (infinite if it failed).
    tau: Vec<f64>,
    /// Period of the AGI declaration: -1 before start, `None` if none.
    agi: Option<i64>,
    /// The kernel's allocation, per period: unmet demand per workload,
    /// GPUs served and market GPUs left per provider (the reference takes
    /// it from the kernel under policy `optimal`, whose optimum it checks
    /// against a linear programme solver's).
    unmet: Vec<Vec<f64>>,
    served: Vec<Vec<f64>>,
    market_left: Vec<Vec<f64>>,
}

impl TakeObserver for Draws {}

impl Observer for Draws {
    fn path_start(&mut self, s: &Scratch) {
        self.tau = s.tau.clone();
        self.agi = (s.agi_period != capsim::model::NEVER).then_some(s.agi_period);
    }
    fn period_end(&mut self, _t: usize, v: &PeriodView<'_>) {
        self.level.push(v.level.to_vec());
        self.price.push(v.price.to_vec());
        self.taken.push(v.rule_taken.to_vec());
        self.unmet.push(v.unmet.to_vec());
        self.served.push(v.served.to_vec());
        self.market_left.push(v.market_left.to_vec());
    }
}

// ---------------------------------------------------------------------------
// The reference: MODEL.md, line by line.

/// Every metric of section 8 by name: per path, and per period.
struct Reference {
    path: BTreeMap<String, f64>,
    period: Vec<BTreeMap<String, f64>>,
    /// Each period's allocation problem.
    problems: Vec<Instance>,
}

/// Months of period `t` inside `[from, to]`, over `m` (section 1).
fn coverage(t: usize, m: i64, from: Option<i64>, to: Option<i64>) -> f64 {
    let first = t as i64 * m;
    (first..first + m)
        .filter(|&k| from.is_none_or(|f| k >= f) && to.is_none_or(|u| k <= u))
        .count() as f64
        / m as f64
}

fn active(from: Bound, until: Bound, t: usize, m: i64, agi: Option<i64>) -> bool {
    let first = t as i64 * m;
    let t = t as i64;
    let after_from = match from {
        Bound::Open => true,
        Bound::Month(f) => first >= f,
        // Active from the period after the declaration's on.
        Bound::Agi => agi.is_some_and(|a| t > a),
    };
    let before_until = match until {
        Bound::Open => true,
        Bound::Month(u) => first <= u,
        // Active up to and including the declaration's period.
        Bound::Agi => agi.is_none_or(|a| t <= a),
    };
    after_from && before_until
}

/// The reference's numbers for a path with draws `d`. Under policy
/// `optimal` the allocation is the kernel's (checked against a linear
/// programme solver's optimum by the caller), and everything that follows
/// from it the reference's.
fn reference(s: &Scenario, d: &Draws) -> Reference {
    let kernel_allocates = s.simulation.policy == Policy::Optimal;
    let m = s.period.months();
    let mf = m as f64;
    let dt = mf / 12.0;
    let h = 8760.0 * dt;
    let nt = s.periods;
    let nw = s.workloads.len();
    let np = s.providers.len();
    let horizon = nt as f64 * mf;

    // Tranches: (provider, tranche, tau).
    let mut tranches = Vec::new();
    for (p, pr) in s.providers.iter().enumerate() {
        for tr in &pr.tranches {
            tranches.push((p, tr, d.tau[tranches.len()]));
        }
    }

    let mut backlog = vec![0.0; nw];
    let mut cash_p = vec![0.0; np];
    let mut gpu_hours_p = vec![0.0; np];
    let (mut cash, mut npv, mut shortfall_cost, mut served_h, mut unmet_h) =
        (0.0, 0.0, 0.0, 0.0, 0.0);
    let (mut capex_total, mut depreciation, mut true_up_total) = (0.0, 0.0, 0.0);
    // Per commitment (in contract order): what counts towards it so far,
    // and its true-up.
    let commitments: Vec<usize> = (0..s.contracts.len())
        .filter(|&c| matches!(s.contracts[c].kind, ContractKind::Commitment { .. }))
        .collect();
    let mut counted = vec![0.0; commitments.len()];
    let mut trued = vec![0.0; commitments.len()];
    let mut periods = Vec::new();
    let mut problems = Vec::new();

    for t in 0..nt {
        let first = t as i64 * m;
        // Capacity (section 4) and reserved pools (section 5).
        let mut market_cap = vec![0.0; np];
        for &(p, tr, tau) in &tranches {
            let frac = ((((t + 1) as f64) * mf - tau) / mf).clamp(0.0, 1.0);
            market_cap[p] += tr.gpus * frac;
        }
        for (p, c) in market_cap.iter_mut().enumerate() {
            *c *= s.providers[p].availability;
        }
        let mut reserved_cap = vec![0.0; np];
        let mut reserved_cash = vec![0.0; np];
        for c in &s.contracts {
            if let ContractKind::Reserved { gpus, price } = c.kind {
                let g = gpus * coverage(t, m, c.from, c.to);
                reserved_cap[c.provider] += g;
                reserved_cash[c.provider] += g * h * price;
            }
        }
        let price = &d.price[t];

        // Demand to serve (section 3).
        let demand: Vec<f64> = (0..nw).map(|w| d.level[t][w] + backlog[w]).collect();
        let total: f64 = demand.iter().sum();

        // Rules (section 6, 7).
        let on: Vec<bool> = s
            .rules
            .iter()
            .map(|r| active(r.from, r.until, t, m, d.agi))
            .collect();
        let mut allowed = vec![vec![true; np]; nw];
        let mut target: Vec<Option<f64>> = vec![None; np];
        let mut cap: Vec<Option<f64>> = vec![None; np];
        for (r, rule) in s.rules.iter().enumerate() {
            if !on[r] {
                continue;
            }
            match &rule.kind {
                RuleKind::Exclusive {
                    workloads,
                    providers,
                } => {
                    for &w in workloads {
                        for (p, a) in allowed[w].iter_mut().enumerate() {
                            *a &= providers.contains(&p);
                        }
                    }
                }
                RuleKind::MinShare { provider, share } => {
                    let v = total * share;
                    target[*provider] = Some(target[*provider].map_or(v, |x: f64| x.max(v)));
                }
                RuleKind::MaxShare { provider, share } => {
                    let v = total * share;
                    cap[*provider] = Some(cap[*provider].map_or(v, |x: f64| x.min(v)));
                }
                RuleKind::FirstRefusal { .. } => {}
            }
        }
        // Provider p is in pass 2 for w if an active first-refusal rule of
        // p naming w took the offer.
        let offered = |w: usize, p: usize| {
            s.rules
                .iter()
                .enumerate()
                .any(|(r, rule)| match &rule.kind {
                    RuleKind::FirstRefusal {
                        provider,
                        workloads,
                        ..
                    } => on[r] && *provider == p && workloads.contains(&w) && d.taken[t][r],
                    _ => false,
                })
        };

        // Pools: (cost, market?, provider), in that order.
        let mut pools: Vec<(f64, bool, usize)> = Vec::new();
        for p in 0..np {
            pools.push((0.0, false, p));
            pools.push((price[p], true, p));
        }
        pools.sort_by(|a, b| {
            a.0.partial_cmp(&b.0)
                .unwrap()
                .then(a.1.cmp(&b.1))
                .then(a.2.cmp(&b.2))
        });
        problems.push(Instance {
            demand: demand.clone(),
            allowed: allowed
                .iter()
                .map(|a| (0..np).filter(|&p| a[p]).map(|p| 1u64 << p).sum())
                .collect(),
            reserved: reserved_cap.clone(),
            market: market_cap.clone(),
            price: price.clone(),
            shortfall: s.workloads.iter().map(|w| w.shortfall_price).collect(),
            target: target.iter().map(|x| x.unwrap_or(-1.0)).collect(),
            cap: cap.iter().map(|x| x.unwrap_or(f64::INFINITY)).collect(),
            pass2: vec![0; nw],
        });
        let mut left_reserved = reserved_cap.clone();
        let mut left_market = market_cap.clone();
        let mut served_p = vec![0.0; np];
        let mut market_used = vec![0.0; np];

        // Fewest allowed providers first, ties in file order (stable sort).
        let mut order: Vec<usize> = (0..nw).collect();
        order.sort_by_key(|&w| allowed[w].iter().filter(|&&a| a).count());
        let mut unmet = vec![0.0; nw];
        if kernel_allocates {
            served_p.clone_from(&d.served[t]);
            unmet.clone_from(&d.unmet[t]);
            for p in 0..np {
                market_used[p] = market_cap[p] - d.market_left[t][p];
            }
            order.clear();
        }
        for &w in &order {
            let mut rem = demand[w];
            for pass in 1..=3 {
                for &(_, market, p) in &pools {
                    if !allowed[w][p] || rem <= 0.0 {
                        continue;
                    }
                    let mut most = rem;
                    match pass {
                        1 => match target[p] {
                            Some(x) if served_p[p] < x => most = most.min(x - served_p[p]),
                            _ => continue,
                        },
                        2 if !offered(w, p) => continue,
                        _ => {}
                    }
                    if let Some(c) = cap[p] {
                        most = most.min((c - served_p[p]).max(0.0));
                    }
                    let pool = if market {
                        &mut left_market[p]
                    } else {
                        &mut left_reserved[p]
                    };
                    let x = most.min(*pool).max(0.0);
                    *pool -= x;
                    rem -= x;
                    served_p[p] += x;
                    if market {
                        market_used[p] += x;
                    }
                }
            }
            unmet[w] = rem;
        }

        // Cash (sections 4, 5, 8).
        let mut paid = vec![0.0; np];
        for p in 0..np {
            paid[p] = market_used[p] * h * price[p] + reserved_cash[p];
        }
        let mut capex_t = 0.0;
        let mut capex_p = vec![0.0; np];
        for &(p, tr, tau) in &tranches {
            let pr = &s.providers[p];
            if pr.kind != ProviderKind::Owned || !tau.is_finite() || tau < 0.0 {
                continue;
            }
            let amount = tr.gpus * pr.capex_per_gpu;
            // The period containing tau; a tau on a boundary belongs to
            // the later period, and one at or past the horizon pays nothing.
            if tau < horizon && (tau / mf).floor() as usize == t {
                capex_t += amount;
                capex_p[p] += amount;
            }
            if tau < horizon {
                let life = 12.0 * pr.life_years;
                let lo = (t as f64 * mf).max(tau);
                let hi = ((t + 1) as f64 * mf).min(tau + life);
                depreciation += (hi - lo).max(0.0) * amount / life;
            }
        }
        let mut true_up_t = 0.0;
        let mut true_up_p = vec![0.0; np];
        for (k, &c) in commitments.iter().enumerate() {
            let con = &s.contracts[c];
            let ContractKind::Commitment { amount } = con.kind else {
                unreachable!()
            };
            if con.from.is_none_or(|f| first >= f) && con.to.is_none_or(|u| first <= u) {
                counted[k] += paid[con.provider];
            }
            if let Some(u) = con.to {
                if u >= first && u < first + m {
                    let x = (amount - counted[k]).max(0.0);
                    trued[k] = x;
                    true_up_t += x;
                    true_up_p[con.provider] += x;
                }
            }
        }

        let mut cash_t = capex_t + true_up_t;
        for p in 0..np {
            cash_t += paid[p];
            cash_p[p] += paid[p] + capex_p[p] + true_up_p[p];
            gpu_hours_p[p] += served_p[p] * h;
        }
        let short_t: f64 = (0..nw)
            .map(|w| unmet[w] * h * s.workloads[w].shortfall_price)
            .sum();
        cash += cash_t;
        npv += cash_t * (1.0 + s.discount_rate).powf(-((t + 1) as f64) * dt);
        shortfall_cost += short_t;
        let served_t: f64 = (0..nw).map(|w| demand[w] - unmet[w]).sum();
        let unmet_t: f64 = unmet.iter().sum();
        served_h += served_t * h;
        unmet_h += unmet_t * h;
        capex_total += capex_t;
        true_up_total += true_up_t;
        for w in 0..nw {
            backlog[w] = if s.workloads[w].deferrable {
                unmet[w]
            } else {
                0.0
            };
        }

        let mut q = BTreeMap::new();
        q.insert("cash".to_string(), cash_t);
        q.insert("demand".to_string(), total);
        q.insert("served".to_string(), served_t);
        q.insert("unmet".to_string(), unmet_t);
        for (p, pr) in s.providers.iter().enumerate() {
            q.insert(
                format!("capacity.{}", pr.name),
                market_cap[p] + reserved_cap[p],
            );
            q.insert(format!("served.{}", pr.name), served_p[p]);
            q.insert(format!("price.{}", pr.name), price[p]);
        }
        periods.push(q);
    }

    let mut path = BTreeMap::new();
    path.insert("cash".to_string(), cash);
    path.insert("npv".to_string(), npv);
    path.insert("economic".to_string(), cash + shortfall_cost);
    path.insert("shortfall_cost".to_string(), shortfall_cost);
    path.insert("served_gpu_hours".to_string(), served_h);
    path.insert("unmet_gpu_hours".to_string(), unmet_h);
    path.insert("capex".to_string(), capex_total);
    path.insert("depreciation".to_string(), depreciation);
    path.insert("true_up".to_string(), true_up_total);
    for (p, pr) in s.providers.iter().enumerate() {
        path.insert(format!("cash.{}", pr.name), cash_p[p]);
        path.insert(format!("gpu_hours.{}", pr.name), gpu_hours_p[p]);
        let share = if served_h > 0.0 {
            gpu_hours_p[p] / served_h
        } else {
            0.0
        };
        path.insert(format!("share.{}", pr.name), share);
    }
    for (k, &c) in commitments.iter().enumerate() {
        let con = &s.contracts[c];
        let ContractKind::Commitment { amount } = con.kind else {
            unreachable!()
        };
        path.insert(format!("true_up.{}", con.name), trued[k]);
        // Open at the end: a `to` past the horizon (or none).
        let open = con.to.is_none_or(|u| u >= nt as i64 * m);
        let unsettled = if open {
            (amount - counted[k]).max(0.0)
        } else {
            0.0
        };
        path.insert(format!("unsettled.{}", con.name), unsettled);
    }
    path.insert(
        "agi_declared".to_string(),
        if d.agi.is_some() { 1.0 } else { 0.0 },
    );
    Reference {
        path,
        period: periods,
        problems,
    }
}

// ---------------------------------------------------------------------------
// The draws, from the text: MODEL.md sections 3, 4, 6 and 9, and the draw
// order docs/MODEL.md fixes ("Random numbers"), with rand_distr's
// distributions on each factor's stream.

/// Lower-triangular Cholesky factor of `a` (`n` x `n`, row-major).
fn cholesky(a: &[f64], n: usize) -> Vec<f64> {
    let mut l = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            let sum: f64 = (0..j).map(|k| l[i * n + k] * l[j * n + k]).sum();
            l[i * n + j] = if i == j {
                (a[i * n + i] - sum).sqrt()
            } else {
                (a[i * n + j] - sum) / l[j * n + j]
            };
        }
    }
    l
}

fn draws_from_the_text(s: &Scenario, path: u64) -> Draws {
    use capsim::rng::{factor_key, stream};
    use capsim::scenario::Factor;
    use rand::Rng as _;
    use rand_distr::{Distribution, Exp1, Poisson, StandardNormal};
    let seed = s.simulation.seed;
    let named = |name: String| stream(seed, path, factor_key(&name));
    let uniform = |r: &mut capsim::rng::Stream| (r.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    let m = s.period.months() as f64;
    let dt = m / 12.0;
    let (nt, nw, np) = (s.periods, s.workloads.len(), s.providers.len());

    // Section 9: each factor's normals, one per period from t = 1, in the
    // order demand (workloads) then price (providers), correlated by the
    // Cholesky factor of the identity plus the pairs.
    let nf = nw + np;
    let mut e: Vec<capsim::rng::Stream> = s
        .workloads
        .iter()
        .map(|w| named(format!("demand/{}", w.name)))
        .chain(
            s.providers
                .iter()
                .map(|p| named(format!("price/{}", p.name))),
        )
        .collect();
    let mut corr = vec![0.0; nf * nf];
    for i in 0..nf {
        corr[i * nf + i] = 1.0;
    }
    let index = |f: Factor| match f {
        Factor::Demand(w) => w,
        Factor::Price(p) => nw + p,
    };
    for c in &s.correlations {
        let (i, j) = (index(c.between[0]), index(c.between[1]));
        corr[i * nf + j] = c.rho;
        corr[j * nf + i] = c.rho;
    }
    let l = cholesky(&corr, nf);
    let mut jumps: Vec<_> = s
        .workloads
        .iter()
        .map(|w| named(format!("jumps/{}", w.name)))
        .collect();

    let mut d = Draws::default();
    let mut level: Vec<f64> = s.workloads.iter().map(|w| w.demand).collect();
    let mut price: Vec<f64> = s.providers.iter().map(|p| p.price).collect();
    for t in 0..nt {
        if t >= 1 {
            let x: Vec<f64> = e.iter_mut().map(|r| StandardNormal.sample(r)).collect();
            let z: Vec<f64> = (0..nf)
                .map(|i| (0..=i).map(|k| l[i * nf + k] * x[k]).sum())
                .collect();
            for (w, wl) in s.workloads.iter().enumerate() {
                // J_t: K ~ Poisson(lambda dt) jumps, each Normal(mean, stdev^2).
                let mut jump = 0.0;
                if wl.jump_rate > 0.0 {
                    let r = &mut jumps[w];
                    let k: f64 = Poisson::new(wl.jump_rate * dt).unwrap().sample(r);
                    for _ in 0..k as u64 {
                        let n: f64 = StandardNormal.sample(r);
                        jump += wl.jump_mean + wl.jump_stdev * n;
                    }
                }
                let (g, sig) = (wl.growth, wl.volatility);
                level[w] *= ((g - sig * sig / 2.0) * dt + sig * dt.sqrt() * z[w] + jump).exp();
            }
            for (p, pr) in s.providers.iter().enumerate() {
                let (mu, sp) = (pr.price_drift, pr.price_volatility);
                price[p] *= ((mu - sp * sp / 2.0) * dt + sp * dt.sqrt() * z[nw + p]).exp();
            }
        }
        d.level.push(level.clone());
        d.price.push(price.clone());
    }

    // Section 4: a tranche's stream gives a uniform (failure), then a
    // normal (delay).
    for pr in &s.providers {
        for (i, tr) in pr.tranches.iter().enumerate() {
            let mut r = named(format!("tranche/{}/{i}", pr.name));
            let u = uniform(&mut r);
            let z: f64 = StandardNormal.sample(&mut r);
            d.tau.push(if u < tr.failure {
                f64::INFINITY
            } else {
                tr.online as f64
                    + tr.delay
                        .as_ref()
                        .map_or(0.0, |dl| dl.median * (dl.sigma * z).exp())
            });
        }
    }

    // Section 6: T_agi = earliest + 12 E / hazard months, declared in the
    // period that holds it; before start, period -1.
    d.agi = s.agi.as_ref().and_then(|a| {
        let e: f64 = Exp1.sample(&mut named("agi".to_string()));
        let month = a.earliest as f64 + 12.0 * e / a.hazard;
        (a.hazard > 0.0 && month < nt as f64 * m).then(|| {
            if month < 0.0 {
                -1
            } else {
                (month / m).floor() as i64
            }
        })
    });

    // Section 7: one uniform per first-refusal rule and period, active or
    // not; the offer is taken iff it is below `accept`.
    let mut offers: Vec<Option<(capsim::rng::Stream, f64)>> = s
        .rules
        .iter()
        .enumerate()
        .map(|(r, rule)| match rule.kind {
            RuleKind::FirstRefusal { accept, .. } => Some((named(format!("rofr/{r}")), accept)),
            _ => None,
        })
        .collect();
    for _ in 0..nt {
        d.taken.push(
            offers
                .iter_mut()
                .map(|o| o.as_mut().is_some_and(|(r, accept)| uniform(r) < *accept))
                .collect(),
        );
    }
    d
}

/// The kernel's draws against the text's: levels and prices to
/// round-off (the kernel multiplies its own `exp` of each step), tranche
/// dates to round-off, the AGI period, and each offer taken where the
/// kernel's rule was active.
fn check_draws(text: &str, s: &Scenario, kernel: &Draws, path: u64) {
    let want = draws_from_the_text(s, path);
    let fail = |what: String| -> ! { panic!("{what} (path {path})\n--- scenario ---\n{text}") };
    let near = |a: f64, b: f64| a == b || (a - b).abs() <= 1e-11 * a.abs().max(b.abs());
    let workloads: Vec<&str> = s.workloads.iter().map(|w| w.name.as_str()).collect();
    let providers: Vec<&str> = s.providers.iter().map(|p| p.name.as_str()).collect();
    for t in 0..s.periods {
        for (what, names, got, text) in [
            ("demand", &workloads, &kernel.level[t], &want.level[t]),
            ("price", &providers, &kernel.price[t], &want.price[t]),
        ] {
            for ((name, a), b) in names.iter().zip(got).zip(text) {
                if !near(*a, *b) {
                    fail(format!(
                        "period {t}, {what} of {name}: kernel {a}, text {b}"
                    ));
                }
            }
        }
        for (r, rule) in s.rules.iter().enumerate() {
            // The kernel reports an offer taken only where its rule is
            // active; the text's draw is the same either way.
            let on = active(rule.from, rule.until, t, s.period.months(), want.agi);
            if matches!(rule.kind, RuleKind::FirstRefusal { .. })
                && kernel.taken[t][r] != (on && want.taken[t][r])
            {
                fail(format!(
                    "period {t}, rule {r}: kernel's offer taken {}, text's {}",
                    kernel.taken[t][r],
                    on && want.taken[t][r]
                ));
            }
        }
    }
    for (i, (a, b)) in kernel.tau.iter().zip(&want.tau).enumerate() {
        if !(near(*a, *b) || a.is_infinite() && b.is_infinite()) {
            fail(format!("tranche {i} online: kernel {a}, text {b}"));
        }
    }
    if kernel.agi != want.agi {
        fail(format!(
            "AGI period: kernel {:?}, text {:?}",
            kernel.agi, want.agi
        ));
    }
}

// ---------------------------------------------------------------------------
// Random scenarios.

/// splitmix64 (its output function is the crate's `rng::mix64`): the
/// scenarios' own generator, its state apart from every path's streams.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        capsim::rng::mix64(self.0)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }
    /// An integer in `lo..=hi`.
    fn int(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo + 1) as u64) as i64
    }
    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.int(0, xs.len() as i64 - 1) as usize]
    }
    /// A subset of `0..n`, each member with probability `p`.
    fn subset(&mut self, n: usize, p: f64) -> Vec<usize> {
        (0..n).filter(|_| self.chance(p)).collect()
    }
}

const START: (i64, i64) = (2026, 1);

fn date(offset: i64) -> String {
    let k = START.0 * 12 + START.1 - 1 + offset;
    format!("\"{:04}-{:02}\"", k.div_euclid(12), k.rem_euclid(12) + 1)
}

fn names(prefix: &str, xs: &[usize]) -> String {
    let v: Vec<String> = xs.iter().map(|i| format!("\"{prefix}{i}\"")).collect();
    format!("[{}]", v.join(", "))
}

/// A random valid scenario touching every mechanism of sections 3 to 8.
fn random_scenario(g: &mut Gen) -> String {
    let mut s = String::new();
    let (period, m) = *g.pick(&[("month", 1), ("quarter", 3), ("year", 12)]);
    let nt = g.int(1, if m == 12 { 5 } else { 10 });
    let months = nt * m;
    let some_month = |g: &mut Gen| g.int(-m - 6, months + m);
    writeln!(s, "name = \"random\"\nstart = {}", date(0)).unwrap();
    writeln!(s, "period = \"{period}\"\nperiods = {nt}").unwrap();
    if g.chance(0.5) {
        writeln!(s, "discount_rate = {}", g.range(0.0, 0.2)).unwrap();
    }
    if g.chance(0.7) {
        writeln!(s, "shortfall_price = {}", g.range(0.0, 30.0)).unwrap();
    }
    writeln!(s, "[simulation]\nseed = {}", g.next() >> 1).unwrap();
    if g.chance(0.25) {
        writeln!(s, "policy = \"optimal\"").unwrap();
    }

    let nw = g.int(1, 4) as usize;
    for w in 0..nw {
        writeln!(s, "[[workload]]\nname = \"w{w}\"").unwrap();
        let demand = if g.chance(0.1) {
            0.0
        } else {
            g.range(0.0, 2000.0)
        };
        writeln!(s, "demand = {demand}").unwrap();
        writeln!(s, "growth = {}", g.range(-0.3, 0.8)).unwrap();
        writeln!(s, "volatility = {}", g.range(0.0, 0.5)).unwrap();
        if g.chance(0.3) {
            // Now and then many small jumps: a mean count of 12 or more a
            // period takes the Poisson draw's other method.
            let (rate, size) = if g.chance(0.25) {
                (g.range(12.0, 40.0) / (m as f64 / 12.0), 0.02)
            } else {
                (g.range(0.0, 2.0), 0.3)
            };
            writeln!(
                s,
                "jump_rate = {rate}\njump_mean = {}\njump_stdev = {}",
                g.range(-size, size),
                g.range(0.0, size)
            )
            .unwrap();
        }
        if g.chance(0.5) {
            writeln!(s, "shortfall_price = {}", g.range(0.0, 40.0)).unwrap();
        }
        if g.chance(0.35) {
            writeln!(s, "deferrable = true").unwrap();
        }
    }

    // Up to 9 providers: the kernel has a copy per count up to 8 and a
    // general one beyond.
    let np = if g.chance(0.1) { 9 } else { g.int(1, 6) } as usize;
    // A few shared prices with no drift or volatility make equal costs
    // (0, as a reserved pool costs).
    let shared = [0.0, 1.0, 2.0, 2.5];
    for p in 0..np {
        let owned = g.chance(0.3);
        writeln!(s, "[[provider]]\nname = \"p{p}\"").unwrap();
        if owned {
            writeln!(s, "kind = \"owned\"").unwrap();
            writeln!(s, "capex_per_gpu = {}", g.range(0.0, 60000.0)).unwrap();
            writeln!(s, "life_years = {}", g.pick(&[0.25, 1.0, 2.5, 5.0])).unwrap();
        }
        if g.chance(0.4) {
            writeln!(s, "price = {}", g.pick(&shared)).unwrap();
        } else {
            writeln!(s, "price = {}", g.range(0.2, 4.0)).unwrap();
            writeln!(s, "price_drift = {}", g.range(-0.3, 0.1)).unwrap();
            writeln!(s, "price_volatility = {}", g.range(0.0, 0.3)).unwrap();
        }
        if g.chance(0.4) {
            writeln!(s, "availability = {}", g.range(0.0, 1.0)).unwrap();
        }
        for _ in 0..g.int(0, 3) {
            writeln!(s, "  [[provider.tranche]]").unwrap();
            let gpus = if g.chance(0.1) {
                0.0
            } else {
                g.range(0.0, 1500.0)
            };
            writeln!(s, "  gpus = {gpus}\n  online = {}", date(some_month(g))).unwrap();
            if g.chance(0.4) {
                writeln!(
                    s,
                    "  delay_months = {{ median = {}, sigma = {} }}",
                    g.range(0.1, 8.0),
                    g.range(0.0, 1.2)
                )
                .unwrap();
            }
            if g.chance(0.3) {
                writeln!(s, "  failure = {}", g.range(0.0, 0.6)).unwrap();
            }
        }
    }

    for _ in 0..g.int(0, 3) {
        writeln!(s, "[[contract]]").unwrap();
        writeln!(s, "provider = \"p{}\"", g.int(0, np as i64 - 1)).unwrap();
        if g.chance(0.5) {
            writeln!(s, "kind = \"reserved\"").unwrap();
            writeln!(s, "gpus = {}", g.range(0.0, 1500.0)).unwrap();
            writeln!(s, "price = {}", g.range(0.0, 3.0)).unwrap();
        } else {
            writeln!(s, "kind = \"commitment\"").unwrap();
            writeln!(s, "amount = {}", g.range(0.0, 4e6 * nt as f64)).unwrap();
        }
        let mut a = some_month(g);
        let mut b = some_month(g);
        if a > b {
            std::mem::swap(&mut a, &mut b);
        }
        if g.chance(0.75) {
            writeln!(s, "from = {}", date(a)).unwrap();
        }
        if g.chance(0.75) {
            writeln!(s, "to = {}", date(b)).unwrap();
        }
    }

    // Correlated shocks (the draws change; what follows them must not),
    // at most 0.7 each so that the two together hold (0.49 + 0.49 < 1).
    if nw >= 2 && g.chance(0.3) {
        let rho = g.range(-0.7, 0.7);
        writeln!(
            s,
            "[[correlation]]\nbetween = [\"demand/w0\", \"demand/w1\"]\nrho = {rho}"
        )
        .unwrap();
    }
    if g.chance(0.3) {
        let rho = g.range(-0.7, 0.7);
        writeln!(
            s,
            "[[correlation]]\nbetween = [\"demand/w0\", \"price/p0\"]\nrho = {rho}"
        )
        .unwrap();
    }
    let agi = g.chance(0.6);
    if agi {
        writeln!(
            s,
            "[agi]\nhazard = {}\nearliest = {}",
            g.range(0.0, 3.0),
            date(g.int(-12, months))
        )
        .unwrap();
    }

    // Now and then more than 64 rules, past what the kernel keeps as bits.
    let rules = if g.chance(0.03) {
        g.int(65, 70)
    } else {
        g.int(0, 5)
    };
    for _ in 0..rules {
        writeln!(s, "[[rule]]").unwrap();
        match g.int(0, 3) {
            0 => {
                let mut ws = g.subset(nw, 0.5);
                if ws.is_empty() {
                    ws.push(g.int(0, nw as i64 - 1) as usize);
                }
                let p = if g.chance(0.1) { 0.0 } else { 0.5 };
                let ps = g.subset(np, p);
                writeln!(s, "kind = \"exclusive\"").unwrap();
                writeln!(s, "workloads = {}", names("w", &ws)).unwrap();
                writeln!(s, "providers = {}", names("p", &ps)).unwrap();
            }
            1 => {
                writeln!(s, "kind = \"first_refusal\"").unwrap();
                writeln!(s, "provider = \"p{}\"", g.int(0, np as i64 - 1)).unwrap();
                if g.chance(0.6) {
                    writeln!(s, "workloads = {}", names("w", &g.subset(nw, 0.6))).unwrap();
                }
                let u = g.unit();
                let accept = *g.pick(&[0.0, 1.0, u, u]);
                writeln!(s, "accept = {accept}").unwrap();
            }
            k => {
                let kind = if k == 2 { "min_share" } else { "max_share" };
                writeln!(s, "kind = \"{kind}\"").unwrap();
                writeln!(s, "provider = \"p{}\"", g.int(0, np as i64 - 1)).unwrap();
                writeln!(s, "share = {}", g.range(0.0, 0.8)).unwrap();
            }
        }
        let mut a = some_month(g);
        let mut b = some_month(g);
        if a > b {
            std::mem::swap(&mut a, &mut b);
        }
        // Each bound: none, a month, or "agi" (now and then without an
        // `[agi]` table: never declared).
        for (bound, month) in [("from", a), ("until", b)] {
            let top = if agi || g.chance(0.15) { 2 } else { 1 };
            match g.int(0, top) {
                0 => {}
                1 => writeln!(s, "{bound} = {}", date(month)).unwrap(),
                _ => writeln!(s, "{bound} = \"agi\"").unwrap(),
            }
        }
    }
    s
}

// ---------------------------------------------------------------------------
// The check.

fn same(a: f64, b: f64, scale: f64) -> bool {
    a == b || (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(scale)
}

fn check_path(text: &str, s: &Scenario, m: &Model, path: u64) {
    let mut draws = Draws::default();
    let mut scratch = Scratch::new(m);
    let np = m.layout.n_path();
    let nq = m.layout.n_period();
    let mut out = vec![0.0; np];
    let mut per = vec![0.0; m.periods * nq];
    simulate_path(m, path, &mut scratch, &mut out, &mut per, &mut draws);
    // The engine's copy (no observer) writes the same numbers.
    let mut out2 = vec![0.0; np];
    let mut per2 = vec![0.0; m.periods * nq];
    simulate_path(m, path, &mut scratch, &mut out2, &mut per2, &mut NoObserver);
    assert!(
        out.iter()
            .zip(&out2)
            .all(|(a, b)| a.to_bits() == b.to_bits())
            && per
                .iter()
                .zip(&per2)
                .all(|(a, b)| a.to_bits() == b.to_bits()),
        "observed and unobserved kernels differ\n{text}"
    );

    check_draws(text, s, &draws, path);
    let r = reference(s, &draws);
    if s.simulation.policy == Policy::Optimal {
        check_optimal(text, &r, &draws, path);
    }
    let fail = |what: String| -> ! {
        panic!(
            "{what} (path {path})\n--- scenario ---\n{text}--- tau {:?}, agi {:?}",
            draws.tau, draws.agi
        )
    };
    // Every name the kernel reports is one the reference computes, and
    // the other way round.
    let names: Vec<&String> = r.path.keys().collect();
    let mut layout: Vec<&String> = m.layout.path_names.iter().collect();
    layout.sort();
    if names != layout {
        fail(format!("path metrics {layout:?}, reference {names:?}"));
    }
    // Magnitudes the round-off of a metric is measured against: GPU
    // counts against the period's demand and capacity, money against the
    // path's largest money.
    let money = [
        "cash",
        "npv",
        "economic",
        "shortfall_cost",
        "capex",
        "true_up",
    ]
    .iter()
    .map(|k| r.path[*k].abs())
    .chain(
        r.path
            .iter()
            .filter(|(k, _)| k.starts_with("unsettled."))
            .map(|(_, v)| v.abs()),
    )
    .fold(0.0, f64::max);
    // At least what all the capacity would cost at its prices: under
    // policy `optimal` the reference takes the kernel's market GPUs left
    // from its own capacity, which may differ in the last digit, and a
    // path whose money is all 0 (no demand) then has a round-off's worth
    // (a kernel's 0 against 5e-10, the generator's seed 0x2222).
    let h = 8760.0 * s.period.months() as f64 / 12.0;
    let capacity_money: f64 = r
        .period
        .iter()
        .map(|q| {
            s.providers
                .iter()
                .map(|p| q[&format!("price.{}", p.name)] * q[&format!("capacity.{}", p.name)] * h)
                .sum::<f64>()
        })
        .sum();
    let money = money.max(capacity_money);
    let hours = r.path["served_gpu_hours"] + r.path["unmet_gpu_hours"];
    for (i, name) in m.layout.path_names.iter().enumerate() {
        let want = r.path[name];
        let scale = if name.starts_with("share.") || name == "agi_declared" {
            1.0
        } else if name.contains("gpu_hours") {
            hours
        } else {
            money
        };
        if !same(out[i], want, scale) {
            fail(format!("{name}: kernel {}, reference {want}", out[i]));
        }
    }
    for t in 0..m.periods {
        let q = &r.period[t];
        let gpus = q["demand"]
            + q.iter()
                .filter(|(k, _)| k.starts_with("capacity."))
                .map(|(_, v)| v)
                .sum::<f64>();
        for (i, name) in m.layout.period_names.iter().enumerate() {
            let Some(&want) = q.get(name) else {
                fail(format!("period metric {name}: not in the reference"));
            };
            let got = per[t * nq + i];
            let scale = if name == "cash" {
                money
            } else if name.starts_with("price.") {
                want.abs()
            } else {
                gpus
            };
            if !same(got, want, scale) {
                fail(format!(
                    "period {t}, {name}: kernel {got}, reference {want}"
                ));
            }
        }
    }
}

/// Policy `optimal`: each period's allocation is feasible (demand served
/// or unmet, pools and caps held) and its objective (market cash,
/// shortfall cost and the min-share slack's penalty, `src/kernel/optimal.rs`)
/// is a linear programme solver's optimum.
fn check_optimal(text: &str, r: &Reference, d: &Draws, path: u64) {
    for (t, inst) in r.problems.iter().enumerate() {
        let fail = |what: String| -> ! {
            panic!("period {t}: {what} (path {path})\n{inst:?}\n--- scenario ---\n{text}")
        };
        let (np, nw) = (inst.price.len(), inst.demand.len());
        let scale = inst
            .demand
            .iter()
            .chain(&inst.reserved)
            .chain(&inst.market)
            .sum::<f64>()
            .max(1.0);
        let tol = 1e-9 * scale;
        let used: Vec<f64> = (0..np)
            .map(|p| inst.market[p] - d.market_left[t][p])
            .collect();
        for p in 0..np {
            let served = d.served[t][p];
            if served > inst.reserved[p] + inst.market[p] + tol
                || used[p] < -tol
                || served < used[p] - tol
            {
                fail(format!(
                    "provider {p} served {served}, {} of its market pool",
                    used[p]
                ));
            }
            if served > inst.cap[p] + tol {
                fail(format!(
                    "provider {p} served {served} over its cap {}",
                    inst.cap[p]
                ));
            }
        }
        for w in 0..nw {
            let u = d.unmet[t][w];
            if u < -tol || u > inst.demand[w] + tol {
                fail(format!("workload {w} unmet {u} of {}", inst.demand[w]));
            }
        }
        let served: f64 = d.served[t].iter().sum();
        let met: f64 = (0..nw).map(|w| inst.demand[w] - d.unmet[t][w]).sum();
        if (served - met).abs() > tol {
            fail(format!("providers served {served}, workloads got {met}"));
        }
        let cost = (0..np).map(|p| used[p] * inst.price[p]).sum::<f64>()
            + (0..nw)
                .map(|w| d.unmet[t][w] * inst.shortfall[w])
                .sum::<f64>();
        let got = objective(
            inst,
            &Outcome {
                cost,
                served: d.served[t].clone(),
                unmet: d.unmet[t].clone(),
                takes: Vec::new(),
                fallbacks: 0,
            },
        );
        let want = lp_optimum(inst);
        if (got - want).abs() > 1e-7 * want.abs().max(scale) {
            fail(format!("objective {got}, the programme's optimum {want}"));
        }
    }
}

#[test]
fn the_kernel_agrees_with_a_literal_reading_of_the_model() {
    let mut g = Gen(0x5eed_c0de);
    let (mut rules, mut many, mut paths, mut optimal) = (0, 0, 0, 0);
    for case in 0..400 {
        let text = random_scenario(&mut g);
        let loaded = scenario::load_str(Path::new("random.toml"), &text, &[]).unwrap_or_else(|e| {
            panic!("case {case}: the generator wrote a bad scenario: {e}\n{text}")
        });
        let s = loaded.scenario;
        let m = Model::compile(&s);
        rules += s.rules.len();
        many += usize::from(s.rules.len() > 64);
        optimal += usize::from(s.simulation.policy == Policy::Optimal);
        for path in 0..4 {
            check_path(&text, &s, &m, path * 7919 + case);
            paths += 1;
        }
    }
    // The generator does what it says.
    assert!(
        rules > 600 && many > 3 && optimal > 60 && paths == 1600,
        "{rules} rules, {many} scenarios of more than 64, {optimal} under policy optimal, {paths} paths"
    );
}

// ---------------------------------------------------------------------------
// The statistics against the paths they summarise.

/// Type-7 quantile of sorted `xs` at `q`, and the bound MODEL.md's sketch
/// promises for it: 1/257 of the interpolation of the two order
/// statistics' magnitudes (0.39% of the quantile where they share a sign).
fn type7(xs: &[f64], q: f64) -> (f64, f64) {
    let h = (xs.len() - 1) as f64 * q;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(xs.len() - 1);
    let f = h - lo as f64;
    let v = xs[lo] + f * (xs[hi] - xs[lo]);
    let bound = ((1.0 - f) * xs[lo].abs() + f * xs[hi].abs()) / 257.0;
    (v, bound)
}

/// Mean of the highest `ceil(percent% n)` of sorted `xs` (counted in
/// whole numbers), and the sketch's bound for it.
fn cvar(xs: &[f64], percent: usize) -> (f64, f64) {
    let k = (percent * xs.len()).div_ceil(100);
    let top = &xs[xs.len() - k..];
    let mean = top.iter().sum::<f64>() / k as f64;
    let bound = top.iter().map(|x| x.abs()).sum::<f64>() / k as f64 / 257.0;
    (mean, bound)
}

#[track_caller]
fn check_summary(what: &str, xs: &mut [f64], got: &capsim::stats::Summary, sketched: bool) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1.0);
    let big = xs.iter().fold(0.0f64, |a, x| a.max(x.abs()));
    let near = |a: f64, b: f64, tol: f64| (a - b).abs() <= tol;
    assert_eq!(got.n, xs.len() as u64, "{what}: n");
    assert!(
        near(got.mean, mean, 1e-12 * big),
        "{what}: mean {} vs {mean}",
        got.mean
    );
    // A standard deviation from sums of squares loses digits to the
    // mean's size; 1e-6 of the largest value is far below any sampling
    // error that matters and far above that round-off.
    let std = var.sqrt();
    assert!(
        near(got.std, std, 1e-9 * std + 1e-6 * big),
        "{what}: std {} vs {std}",
        got.std
    );
    assert!(
        near(got.stderr, got.std / n.sqrt(), 1e-15 * got.std),
        "{what}: stderr"
    );
    if !sketched {
        return;
    }
    xs.sort_by(f64::total_cmp);
    // Two whole numbers (a 0/1 metric): the exact sum divided once.
    let (lo, hi) = (xs[0], xs[xs.len() - 1]);
    if xs.iter().all(|&x| x == lo || x == hi)
        && [lo, hi].iter().all(|x| x.fract() == 0.0 && x.abs() < 1e6)
    {
        assert_eq!(
            got.mean,
            xs.iter().sum::<f64>() / n,
            "{what}: mean of two whole numbers"
        );
    }
    assert_eq!(
        (got.min, got.max),
        (xs[0], xs[xs.len() - 1]),
        "{what}: extremes"
    );
    for (i, q) in capsim::stats::QUANTILES.iter().enumerate() {
        let (want, bound) = type7(xs, *q);
        assert!(
            near(got.quantiles[i], want, bound * (1.0 + 1e-9)),
            "{what}: p{} {} vs exact {want} (bound {bound})",
            q * 100.0,
            got.quantiles[i]
        );
    }
    for (percent, value) in [(5, got.cvar95), (1, got.cvar99)] {
        let (want, bound) = cvar(xs, percent);
        assert!(
            near(value, want, bound * (1.0 + 1e-9) + 1e-12 * big),
            "{what}: cvar{} {value} vs exact {want} (bound {bound})",
            100 - percent
        );
    }
}

/// Paths `0..paths` of `m`, each simulated alone, as columns: each path
/// metric's values, and each per-period metric's (`[t * n_period + k]`).
fn columns(m: &Model, paths: u64) -> (Vec<Vec<f64>>, Vec<Vec<f64>>) {
    let (np, nq) = (m.layout.n_path(), m.layout.n_period());
    let mut values = vec![Vec::new(); np];
    let mut period_values = vec![Vec::new(); m.periods * nq];
    let mut scratch = Scratch::new(m);
    let mut out = vec![0.0; np];
    let mut per = vec![0.0; m.periods * nq];
    for path in 0..paths {
        simulate_path(m, path, &mut scratch, &mut out, &mut per, &mut NoObserver);
        for (v, x) in values.iter_mut().zip(&out) {
            v.push(*x);
        }
        for (v, x) in period_values.iter_mut().zip(&per) {
            v.push(*x);
        }
    }
    (values, period_values)
}

/// Runs `text` on 2 threads and checks every summary of every path and
/// per-period metric against the exact statistics of its paths, each
/// simulated alone.
fn check_statistics(text: &str, paths: u64) {
    let loaded = scenario::load_str(
        Path::new("stats.toml"),
        text,
        &[format!("simulation.paths={paths}")],
    )
    .unwrap_or_else(|e| panic!("{e}\n{text}"));
    let m = Model::compile(&loaded.scenario);
    let stats = capsim::engine::run(
        &m,
        capsim::engine::Options {
            threads: 2,
            ..Default::default()
        },
    )
    .unwrap();
    let nq = m.layout.n_period();
    let (mut values, mut period_values) = columns(&m, paths);
    for (i, name) in m.layout.path_names.iter().enumerate() {
        check_summary(name, &mut values[i], &stats.path[i], true);
    }
    for t in 0..m.periods {
        for (k, name) in m.layout.period_names.iter().enumerate() {
            let i = t * nq + k;
            check_summary(
                &format!("period {t} {name}"),
                &mut period_values[i],
                &stats.period[i],
                true,
            );
        }
    }
}

#[test]
fn summaries_match_the_exact_statistics_of_their_paths() {
    // Three chunks of 1,024 paths and a part of one, on two threads.
    check_statistics(include_str!("data/golden.toml"), 3_333);
    check_statistics(include_str!("../scenarios/baseline.toml"), 2_100);
    let mut g = Gen(0x57a7_5eed);
    for _ in 0..8 {
        check_statistics(&random_scenario(&mut g), 1_500);
    }
}

/// A comparison's numbers against the paired values of its paths, each
/// simulated alone: the means and the difference's standard error to
/// round-off, and the share of paths where the alternative is lower as
/// the exact fraction of a count.
#[test]
fn comparisons_match_the_paired_values_of_their_paths() {
    let golden = include_str!("data/golden.toml");
    let cheaper = ["provider.azure.price=2.2", "workload.api.growth=0.52"];
    check_comparison((golden, &[]), (golden, &cheaper), 2000);
    // Where 1,985 of 2,000 paths' NPV is lower, which the moments of the
    // 0/1 values gave as 0.9924999999999999.
    let baseline = include_str!("../scenarios/baseline.toml");
    let price_war = include_str!("../scenarios/price-war.toml");
    check_comparison((baseline, &[]), (price_war, &[]), 2000);
}

fn check_comparison(base: (&str, &[&str]), alt: (&str, &[&str]), paths: u64) {
    let load = |(text, extra): (&str, &[&str])| {
        let mut sets = vec![format!("simulation.paths={paths}")];
        sets.extend(extra.iter().map(|s| s.to_string()));
        let l = scenario::load_str(Path::new("c.toml"), text, &sets).unwrap();
        Model::compile(&l.scenario)
    };
    let (base, alt) = (load(base), load(alt));
    let c = capsim::compare::compare(&base, &alt, Default::default()).unwrap();
    let (vb, va) = (columns(&base, paths).0, columns(&alt, paths).0);
    let n = paths as usize;
    let mut fractions = 0;
    let at = |m: &Model, metric: &str| m.layout.path_names.iter().position(|n| n == metric);
    for d in &c.metrics {
        let (i, j) = (at(&base, &d.metric).unwrap(), at(&alt, &d.metric).unwrap());
        let pairs: Vec<[f64; 4]> = (0..n)
            .map(|k| capsim::compare::pair_values(vb[i][k], va[j][k]))
            .collect();
        let mean = |c: usize| pairs.iter().map(|p| p[c]).sum::<f64>() / n as f64;
        let big = pairs
            .iter()
            .fold(0.0f64, |a, p| a.max(p[0].abs()).max(p[1].abs()));
        let what = &d.metric;
        assert!(
            (d.base_mean - mean(0)).abs() <= 1e-12 * big,
            "{what}: base mean"
        );
        assert!(
            (d.alt_mean - mean(1)).abs() <= 1e-12 * big,
            "{what}: alt mean"
        );
        assert!(
            (d.diff_mean - mean(2)).abs() <= 1e-12 * big,
            "{what}: diff mean"
        );
        let dm = mean(2);
        let var = pairs.iter().map(|p| (p[2] - dm).powi(2)).sum::<f64>() / (n - 1) as f64;
        let se = (var / n as f64).sqrt();
        assert!(
            (d.diff_stderr - se).abs() <= 1e-9 * se + 1e-9 * big,
            "{what}: diff stderr {} vs {se}",
            d.diff_stderr
        );
        let lower = pairs.iter().filter(|p| p[3] == 1.0).count();
        assert_eq!(
            d.p_alt_lower,
            lower as f64 / n as f64,
            "{what}: {lower} of {n} paths lower"
        );
        fractions += usize::from(lower % n != 0);
    }
    assert!(
        fractions >= 3,
        "{fractions} metrics lower on some paths only"
    );
}

/// `sensitivity`'s drivers.csv against the drivers of its paths, each
/// simulated alone (MODEL.md, docs "Sensitivity": each workload's final
/// demand, each provider's average price, each tranche's delay, infinite
/// if it failed, the AGI period, `T` if none) and Spearman's correlation
/// computed here: ranks with ties averaged, then Pearson's. Every driver
/// that varies, none that does not, sorted by |rho_npv|.
#[test]
fn drivers_are_spearman_correlations_of_their_paths() {
    let dir = tempfile::tempdir().unwrap();
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/golden.toml");
    let paths = 1500u64;
    let o = crate::util::quietly(
        dir.path(),
        &[
            "sensitivity",
            file,
            "--param",
            "workload.api.growth=0.4:0.6",
            "--paths",
            &paths.to_string(),
            "--seed",
            "9",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(dir.path().join("sensitivity/golden/drivers.csv")).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("driver,rho_npv,rho_economic"));
    let got: Vec<(String, f64, f64)> = lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (
                f[0].to_string(),
                f[1].parse().unwrap(),
                f[2].parse().unwrap(),
            )
        })
        .collect();

    let l = scenario::load_str(
        Path::new(file),
        include_str!("data/golden.toml"),
        &["simulation.seed=9".to_string()],
    )
    .unwrap();
    let (s, m) = (&l.scenario, Model::compile(&l.scenario));
    let nt = s.periods;
    let mut columns: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let (mut npv, mut economic) = (Vec::new(), Vec::new());
    let mut scratch = Scratch::new(&m);
    let mut out = vec![0.0; m.layout.n_path()];
    let mut per = vec![0.0; m.periods * m.layout.n_period()];
    for path in 0..paths {
        let mut d = Draws::default();
        simulate_path(&m, path, &mut scratch, &mut out, &mut per, &mut d);
        let name = |n: &str| m.layout.path_names.iter().position(|x| x == n).unwrap();
        npv.push(out[name("npv")]);
        economic.push(out[name("economic")]);
        let mut add = |k: String, v: f64| columns.entry(k).or_default().push(v);
        for (w, wl) in s.workloads.iter().enumerate() {
            add(format!("final_demand.{}", wl.name), d.level[nt - 1][w]);
        }
        for (p, pr) in s.providers.iter().enumerate() {
            let sum: f64 = (0..nt).map(|t| d.price[t][p]).sum();
            add(format!("avg_price.{}", pr.name), sum / nt as f64);
        }
        let mut i = 0;
        for pr in &s.providers {
            for (k, tr) in pr.tranches.iter().enumerate() {
                add(
                    format!("delay.{}.{k}", pr.name),
                    d.tau[i] - tr.online as f64,
                );
                i += 1;
            }
        }
        add(
            "agi_period".to_string(),
            d.agi.map_or(nt as f64, |a| a as f64),
        );
    }
    // Ranks 1..=n, ties (infinite delays among them) averaged.
    let ranks = |x: &[f64]| {
        let mut idx: Vec<usize> = (0..x.len()).collect();
        idx.sort_by(|&a, &b| x[a].partial_cmp(&x[b]).unwrap());
        let mut r = vec![0.0; x.len()];
        let mut i = 0;
        while i < idx.len() {
            let j = (i..idx.len())
                .take_while(|&j| x[idx[j]] == x[idx[i]])
                .last()
                .unwrap();
            for &k in &idx[i..=j] {
                r[k] = (i + j) as f64 / 2.0 + 1.0;
            }
            i = j + 1;
        }
        r
    };
    let pearson = |a: &[f64], b: &[f64]| {
        let n = a.len() as f64;
        let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
        let cov: f64 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum();
        let va: f64 = a.iter().map(|x| (x - ma) * (x - ma)).sum();
        let vb: f64 = b.iter().map(|y| (y - mb) * (y - mb)).sum();
        cov / (va * vb).sqrt()
    };
    let (rn, re) = (ranks(&npv), ranks(&economic));
    let mut want: Vec<(String, f64, f64)> = columns
        .iter()
        .filter(|(_, v)| v.iter().any(|x| *x != v[0]))
        .map(|(k, v)| {
            let r = ranks(v);
            (k.clone(), pearson(&r, &rn), pearson(&r, &re))
        })
        .collect();
    assert!(columns.len() > want.len(), "some driver is constant");
    want.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()));
    assert_eq!(
        got.iter().map(|g| &g.0).collect::<Vec<_>>(),
        want.iter().map(|w| &w.0).collect::<Vec<_>>(),
        "drivers and their order"
    );
    for (g, w) in got.iter().zip(&want) {
        assert!(
            (g.1 - w.1).abs() < 1e-12 && (g.2 - w.2).abs() < 1e-12,
            "{}: {g:?} vs {w:?}",
            g.0
        );
    }
}

// ---------------------------------------------------------------------------
// Random scenarios through the command line.

/// The files a run writes, by name, read whole.
fn result_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    ["summary.csv", "periods.csv", "providers.csv", "paths.csv"]
        .iter()
        .map(|f| (f.to_string(), std::fs::read(dir.join(f)).unwrap()))
        .collect()
}

/// Random scenarios, each run four ways that must write the same bytes
/// (MODEL.md section 9; README, "Shards"): on one thread; on two threads
/// through the plain code path (`CAPSIM_PLAIN`); as three shards, merged;
/// and from the resolved scenario `check` prints (every default filled
/// in). `determinism.rs` and `shards.rs` check the same on fixed
/// scenarios; these six add the generator's (with this seed: monthly,
/// quarterly and yearly periods, 1 to 9 providers, both policies, rules in
/// two of them).
#[test]
fn random_scenarios_write_the_same_files_every_way() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut g = Gen(0xc11_5eed);
    for case in 0..6 {
        let file = d.join(format!("s{case}.toml"));
        std::fs::write(&file, random_scenario(&mut g)).unwrap();
        let file = file.to_str().unwrap();
        // Three chunks of 1,024 paths, the last one partial.
        let paths = g.int(2049, 3072).to_string();
        let run = |out: &str, args: &[&str], plain: bool| {
            let mut c = std::process::Command::new(crate::util::bin());
            c.args(args)
                .args(["--paths", &paths, "--paths-csv", "--quiet", "--out"])
                .arg(d.join(out));
            if plain {
                c.env("CAPSIM_PLAIN", "1");
            }
            let o = c.output().unwrap();
            assert!(
                o.status.success(),
                "case {case}, {out}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            o
        };
        run(
            &format!("one{case}"),
            &["run", file, "--threads", "1"],
            false,
        );
        run(
            &format!("plain{case}"),
            &["run", file, "--threads", "2"],
            true,
        );
        let mut shards = Vec::new();
        for i in 1..=3 {
            let shard = format!("{i}/3");
            run(
                &format!("shards{case}"),
                &["run", file, "--shard", &shard],
                false,
            );
            shards.push(d.join(format!("shards{case}/random.shard-{i}-of-3")));
        }
        let o = crate::util::quietly(
            &d.join(format!("merged{case}")),
            &[
                &["merge"][..],
                &shards
                    .iter()
                    .map(|s| s.to_str().unwrap())
                    .collect::<Vec<_>>(),
            ]
            .concat(),
        );
        assert!(
            o.status.success(),
            "case {case}: merge: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let o = std::process::Command::new(crate::util::bin())
            .args(["check", file])
            .output()
            .unwrap();
        assert!(o.status.success(), "case {case}: check");
        let resolved = d.join(format!("resolved{case}.toml"));
        std::fs::write(&resolved, o.stdout).unwrap();
        run(
            &format!("resolved{case}"),
            &["run", resolved.to_str().unwrap(), "--threads", "2"],
            false,
        );

        let want = result_files(&d.join(format!("one{case}/random")));
        for way in ["plain", "merged", "resolved"] {
            let got = result_files(&d.join(format!("{way}{case}/random")));
            for ((name, w), (_, g)) in want.iter().zip(&got) {
                assert!(
                    w == g,
                    "case {case}: {way}'s {name} differs from one thread's"
                );
            }
        }
    }
}
