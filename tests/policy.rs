//! Policy `optimal` against `priority` (MODEL.md section 7), on random
//! single-period instances.

use capsim::kernel::allocate::{allocate, Period, TakeObserver};
use capsim::kernel::optimal::{allocate_optimal, Flow};
use proptest::prelude::*;

/// One period's allocation problem (also built by `tests/reference.rs`
/// from a whole scenario's periods).
#[derive(Debug, Clone)]
pub(crate) struct Instance {
    pub(crate) demand: Vec<f64>,
    pub(crate) allowed: Vec<u64>,
    pub(crate) reserved: Vec<f64>,
    pub(crate) market: Vec<f64>,
    pub(crate) price: Vec<f64>,
    pub(crate) shortfall: Vec<f64>,
    /// `-1` without a min_share target.
    pub(crate) target: Vec<f64>,
    /// Infinite without a max_share cap.
    pub(crate) cap: Vec<f64>,
    pub(crate) pass2: Vec<u64>,
}

pub(crate) struct Outcome {
    /// Market cash plus shortfall cost, per GPU-hour.
    pub(crate) cost: f64,
    pub(crate) served: Vec<f64>,
    pub(crate) unmet: Vec<f64>,
    pub(crate) takes: Vec<(usize, usize, bool, f64)>,
    /// Periods the flow solver handed to `priority` (0 expected).
    pub(crate) fallbacks: u64,
}

/// Records every take.
#[derive(Default)]
struct Takes(Vec<(usize, usize, bool, f64)>);
impl TakeObserver for Takes {
    fn take(&mut self, w: usize, p: usize, reserved: bool, _pass: u8, gpus: f64) {
        self.0.push((w, p, reserved, gpus));
    }
}

fn solve(inst: &Instance, optimal: bool) -> Outcome {
    solve_with(inst, optimal, &mut Flow::new())
}

/// [`solve`] with a given flow network (the kernel reuses one per thread
/// from period to period).
fn solve_with(inst: &Instance, optimal: bool, flow: &mut Flow) -> Outcome {
    let (nw, np) = (inst.demand.len(), inst.price.len());
    let mut order_w: Vec<usize> = (0..nw).collect();
    order_w.sort_by_key(|&w| (inst.allowed[w].count_ones(), w));
    let mut order_p: Vec<usize> = (0..np).collect();
    order_p.sort_by(|&a, &b| inst.price[a].total_cmp(&inst.price[b]).then(a.cmp(&b)));
    let mut res = inst.reserved.clone();
    let mut mkt = inst.market.clone();
    let mut served = vec![0.0; np];
    let mut unmet = vec![0.0; nw];
    let mut p = Period {
        demand: &inst.demand,
        allowed: &inst.allowed,
        pass2: &inst.pass2,
        order_w: &order_w,
        order_p: &order_p,
        target: &inst.target,
        cap: &inst.cap,
        reserved_left: &mut res,
        market_left: &mut mkt,
        served_p: &mut served,
        unmet: &mut unmet,
    };
    let mut takes = Takes::default();
    let fallbacks = flow.fallbacks();
    if optimal {
        allocate_optimal(&mut p, &inst.price, &inst.shortfall, flow, &mut takes);
    } else {
        allocate(&mut p, &mut takes);
    }
    let market_cost: f64 = (0..np)
        .map(|q| (inst.market[q] - mkt[q]) * inst.price[q])
        .sum();
    let short: f64 = (0..nw).map(|w| unmet[w] * inst.shortfall[w]).sum();
    Outcome {
        cost: market_cost + short,
        served,
        unmet,
        takes: takes.0,
        fallbacks: flow.fallbacks() - fallbacks,
    }
}

/// The programme's objective (`src/kernel/optimal.rs`) at an allocation:
/// market cash plus shortfall cost plus `M` times each min_share target's
/// shortfall, for providers some workload can take from.
pub(crate) fn objective(inst: &Instance, o: &Outcome) -> f64 {
    let big = big_m(inst);
    let slack: f64 = (0..inst.price.len())
        .filter(|&q| inst.target[q] > 0.0 && reachable(inst, q))
        .map(|q| (inst.target[q] - o.served[q]).max(0.0))
        .sum();
    o.cost + big * slack
}

fn big_m(inst: &Instance) -> f64 {
    1000.0
        * inst
            .price
            .iter()
            .chain(&inst.shortfall)
            .fold(1.0f64, |a, b| a.max(*b))
}

fn reachable(inst: &Instance, q: usize) -> bool {
    (inst.reserved[q] > 0.0 || inst.market[q] > 0.0)
        && (0..inst.demand.len())
            .any(|w| inst.demand[w] > 0.0 && inst.allowed[w] & (1u64 << q) != 0)
}

/// The same programme solved by a general LP solver (microlp through
/// good_lp, which the kernel used before the flow solver): its optimum.
pub(crate) fn lp_optimum(inst: &Instance) -> f64 {
    use good_lp::{constraint, microlp, variable, variables, Expression, Solution, SolverModel};
    let (nw, np) = (inst.demand.len(), inst.price.len());
    let big = big_m(inst);
    let mut vars = variables!();
    let mut objective = Expression::from(0.0);
    let mut takes = Vec::new();
    let mut unmet = Vec::new();
    for w in 0..nw {
        let u = vars.add(variable().min(0.0));
        objective += inst.shortfall[w] * u;
        unmet.push(u);
        for q in 0..np {
            if inst.demand[w] <= 0.0 || inst.allowed[w] & (1u64 << q) == 0 {
                continue;
            }
            if inst.reserved[q] > 0.0 {
                takes.push((w, q, true, vars.add(variable().min(0.0))));
            }
            if inst.market[q] > 0.0 {
                let x = vars.add(variable().min(0.0));
                objective += inst.price[q] * x;
                takes.push((w, q, false, x));
            }
        }
    }
    let mut slack = Vec::new();
    for q in 0..np {
        if inst.target[q] > 0.0 && reachable(inst, q) {
            let s = vars.add(variable().min(0.0));
            objective += big * s;
            slack.push((q, s));
        }
    }
    let mut lp = vars.minimise(objective.clone()).using(microlp);
    for (w, &u) in unmet.iter().enumerate() {
        let mut e = Expression::from(u);
        for (tw, _, _, v) in &takes {
            if *tw == w {
                e += *v;
            }
        }
        lp = lp.with(constraint!(e == inst.demand[w].max(0.0)));
    }
    for q in 0..np {
        let sum = |pick: &dyn Fn(bool) -> bool| {
            let mut e = Expression::from(0.0);
            for (_, tq, r, v) in &takes {
                if *tq == q && pick(*r) {
                    e += *v;
                }
            }
            e
        };
        lp = lp.with(constraint!(sum(&|r| r) <= inst.reserved[q]));
        lp = lp.with(constraint!(sum(&|r| !r) <= inst.market[q]));
        if inst.cap[q].is_finite() {
            lp = lp.with(constraint!(sum(&|_| true) <= inst.cap[q]));
        }
        if let Some((_, s)) = slack.iter().find(|(sq, _)| *sq == q) {
            lp = lp.with(constraint!(sum(&|_| true) + *s >= inst.target[q]));
        }
    }
    let sol = lp.solve().expect("the programme is always feasible");
    sol.eval(&objective)
}

/// An instance without share or first-refusal rules.
fn plain(
    demand: &[f64],
    allowed: &[u64],
    reserved: &[f64],
    market: &[f64],
    price: &[f64],
    shortfall: &[f64],
) -> Instance {
    let (nw, np) = (demand.len(), price.len());
    Instance {
        demand: demand.to_vec(),
        allowed: allowed.to_vec(),
        reserved: reserved.to_vec(),
        market: market.to_vec(),
        price: price.to_vec(),
        shortfall: shortfall.to_vec(),
        target: vec![-1.0; np],
        cap: vec![f64::INFINITY; np],
        pass2: vec![0; nw],
    }
}

fn gpus() -> impl Strategy<Value = f64> {
    prop_oneof![Just(0.0), 1.0..1000.0f64]
}

/// Section 7's conditions: nested allowed sets (a chain), no share or
/// first-refusal rules, and shortfall prices at least every market price.
/// The shortfall price is the same for every workload: with different
/// prices `priority` can leave the wrong workload unmet (see
/// `differing_shortfall_prices_break_the_equivalence`).
fn nested_instance() -> impl Strategy<Value = Instance> {
    (1usize..=4, 1usize..=4).prop_flat_map(|(nw, np)| {
        (
            prop::collection::vec(gpus(), nw),
            prop::collection::vec(1usize..=np, nw),
            prop::collection::vec(gpus(), np),
            prop::collection::vec(gpus(), np),
            prop::collection::vec(0.1..10.0f64, np),
            0.0..5.0f64,
            Just(np),
        )
            .prop_map(|(demand, sizes, reserved, market, price, extra, np)| {
                // Workload w may use the first sizes[w] providers: a chain.
                let allowed = sizes.iter().map(|&k| (1u64 << k) - 1).collect();
                let top = price.iter().cloned().fold(0.0, f64::max);
                let nw = demand.len();
                Instance {
                    allowed,
                    reserved,
                    market,
                    shortfall: vec![top + extra; nw],
                    price,
                    target: vec![-1.0; np],
                    cap: vec![f64::INFINITY; np],
                    pass2: vec![0; nw],
                    demand,
                }
            })
    })
}

fn any_instance() -> impl Strategy<Value = Instance> {
    (1usize..=4, 1usize..=4).prop_flat_map(|(nw, np)| {
        (
            prop::collection::vec(gpus(), nw),
            prop::collection::vec(1u64..16, nw),
            prop::collection::vec(gpus(), np),
            prop::collection::vec(gpus(), np),
            prop::collection::vec(0.0..10.0f64, np),
            prop::collection::vec(0.0..20.0f64, nw),
            prop::collection::vec(prop_oneof![Just(-1.0), 0.0..0.6f64], np),
            prop::collection::vec(prop_oneof![Just(f64::INFINITY), 0.2..1.0f64], np),
            prop::collection::vec(0u64..16, nw),
        )
            .prop_map(
                move |(
                    demand,
                    allowed,
                    reserved,
                    market,
                    price,
                    shortfall,
                    tshare,
                    cshare,
                    pass2,
                )| {
                    let mask = (1u64 << np) - 1;
                    let total: f64 = demand.iter().sum();
                    Instance {
                        allowed: allowed.iter().map(|a| a & mask).collect(),
                        target: tshare
                            .iter()
                            .map(|s| if *s < 0.0 { -1.0 } else { s * total })
                            .collect(),
                        cap: cshare
                            .iter()
                            .map(|s| if s.is_finite() { s * total } else { *s })
                            .collect(),
                        pass2: pass2.iter().map(|a| a & mask).collect(),
                        demand,
                        reserved,
                        market,
                        price,
                        shortfall,
                    }
                },
            )
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn priority_is_optimal_under_section_7_conditions(inst in nested_instance()) {
        let p = solve(&inst, false);
        let o = solve(&inst, true);
        let scale = p.cost.abs().max(o.cost.abs()).max(1.0);
        prop_assert!((p.cost - o.cost).abs() <= 1e-9 * scale, "priority {} optimal {}", p.cost, o.cost);
    }

    #[test]
    fn optimal_never_costs_more(inst in any_instance()) {
        let p = solve(&inst, false);
        // Compare only where priority meets every min_share target: then its
        // allocation is feasible for the programme, whose optimum is no worse.
        let meets = inst.target.iter().zip(&p.served).all(|(t, s)| *t < 0.0 || *s >= t - 1e-9);
        prop_assume!(meets);
        let o = solve(&inst, true);
        let scale = p.cost.abs().max(1.0);
        prop_assert!(o.cost <= p.cost + 1e-7 * scale, "optimal {} > priority {}", o.cost, p.cost);
    }
}

/// The next period of a run that starts at `inst`: change `kind` applied
/// at index `i`, so that the network keeps its shape (0: every price,
/// shortfall price, positive demand and pool times `k`) or changes one
/// thing (1, 2: one market or reserved pool emptied or refilled; 3: one
/// workload's demand to 0 or back; 4: one allowed provider added or
/// removed; 5: one provider's `min_share` target on or off; 6: its
/// `max_share` cap on or off).
fn next_period(inst: &Instance, kind: usize, i: usize, k: f64) -> Instance {
    let mut n = inst.clone();
    let (nw, np) = (n.demand.len(), n.price.len());
    let (w, q) = (i % nw, i % np);
    let toggle = |x: &mut f64, on: f64| *x = if *x > 0.0 { 0.0 } else { on };
    match kind {
        0 => {
            for v in [&mut n.demand, &mut n.reserved, &mut n.market] {
                v.iter_mut().filter(|x| **x > 0.0).for_each(|x| *x *= k);
            }
            n.price.iter_mut().for_each(|x| *x *= k);
            n.shortfall.iter_mut().for_each(|x| *x *= k);
        }
        1 => toggle(&mut n.market[q], 50.0 * k),
        2 => toggle(&mut n.reserved[q], 50.0 * k),
        3 => toggle(&mut n.demand[w], 80.0 * k),
        4 => n.allowed[w] ^= 1 << q,
        5 => n.target[q] = if n.target[q] > 0.0 { -1.0 } else { 30.0 * k },
        _ => {
            n.cap[q] = if n.cap[q].is_finite() {
                f64::INFINITY
            } else {
                60.0 * k
            }
        }
    }
    n
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// One network reused over runs of periods, each period either with
    /// the shape of the one before (its index kept) or with one thing
    /// changed, allocates every period exactly as a network built for that
    /// period alone.
    #[test]
    fn a_reused_network_allocates_as_a_fresh_one(
        runs in prop::collection::vec(
            (any_instance(), prop::collection::vec((0usize..7, 0usize..16, 0.5f64..2.0), 0..6)),
            1..4,
        )
    ) {
        let mut flow = Flow::new();
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        let takes = |o: &Outcome| {
            o.takes.iter().map(|&(w, q, r, g)| (w, q, r, g.to_bits())).collect::<Vec<_>>()
        };
        for (first, changes) in runs {
            let mut period = first;
            for step in 0..=changes.len() {
                if step > 0 {
                    let (kind, i, k) = changes[step - 1];
                    period = next_period(&period, kind, i, k);
                }
                let reused = solve_with(&period, true, &mut flow);
                let fresh = solve(&period, true);
                prop_assert_eq!(bits(&reused.served), bits(&fresh.served));
                prop_assert_eq!(bits(&reused.unmet), bits(&fresh.unmet));
                prop_assert_eq!(takes(&reused), takes(&fresh));
                prop_assert_eq!(reused.fallbacks, fresh.fallbacks);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 600, ..ProptestConfig::default() })]

    /// The flow solver's allocation is feasible (allowed pools only, within
    /// pools, caps and demand) and reaches the optimum a general LP solver
    /// finds for the same programme.
    #[test]
    fn optimal_matches_the_linear_programme(inst in any_instance()) {
        let o = solve(&inst, true);
        prop_assert_eq!(o.fallbacks, 0);
        let (nw, np) = (inst.demand.len(), inst.price.len());
        let tol = 1e-9 * inst.demand.iter().chain(&inst.reserved).chain(&inst.market).fold(1.0f64, |a, b| a.max(b.abs()));
        let mut pools = vec![[0.0f64; 2]; np];
        let mut by_w = vec![0.0; nw];
        for &(w, q, reserved, g) in &o.takes {
            prop_assert!(inst.allowed[w] & (1u64 << q) != 0, "take from a provider not allowed");
            prop_assert!(g > 0.0);
            pools[q][reserved as usize] += g;
            by_w[w] += g;
        }
        for (q, [market, reserved]) in pools.iter().enumerate() {
            prop_assert!(*reserved <= inst.reserved[q] + tol && *market <= inst.market[q] + tol);
            prop_assert!(o.served[q] <= inst.cap[q] + tol, "cap {} served {}", inst.cap[q], o.served[q]);
        }
        for ((took, unmet), demand) in by_w.iter().zip(&o.unmet).zip(&inst.demand) {
            prop_assert!((took + unmet - demand.max(0.0)).abs() <= tol);
        }
        let (flow, lp) = (objective(&inst, &o), lp_optimum(&inst));
        let scale = flow.abs().max(lp.abs()).max(1.0);
        prop_assert!((flow - lp).abs() <= 1e-7 * scale, "flow {} LP {}", flow, lp);
    }
}

#[test]
fn differing_shortfall_prices_break_the_equivalence() {
    // api may use only A; product may use A or B (nested), B has no
    // capacity. priority serves api first; the programme serves the
    // workload whose shortfall is dearer.
    let inst = plain(
        &[10.0, 10.0],
        &[0b01, 0b11],
        &[0.0, 0.0],
        &[10.0, 0.0],
        &[1.0, 1.0],
        &[5.0, 100.0],
    );
    let p = solve(&inst, false);
    let o = solve(&inst, true);
    assert_eq!(p.cost, 10.0 + 10.0 * 100.0);
    assert!((o.cost - (10.0 + 10.0 * 5.0)).abs() < 1e-9);
}

#[test]
fn equally_cheap_allocations_go_to_the_workload_priority_serves_first() {
    // Two workloads, same shortfall price, one pool for one of them: either
    // allocation costs the same; the one first in priority's order (fewest
    // allowed providers, then file order) keeps the pool.
    let mut inst = plain(
        &[10.0, 10.0],
        &[0b01, 0b01],
        &[0.0, 0.0],
        &[10.0, 0.0],
        &[1.0, 1.0],
        &[5.0, 5.0],
    );
    let o = solve(&inst, true);
    assert_eq!((o.unmet[0], o.unmet[1]), (0.0, 10.0));
    // Workload 1 now has fewer allowed providers (B has nothing to give),
    // so priority serves it first, and so does the tie-break.
    inst.allowed = vec![0b11, 0b01];
    let o = solve(&inst, true);
    assert_eq!((o.unmet[0], o.unmet[1]), (10.0, 0.0));
    assert_eq!(o.cost, 10.0 + 10.0 * 5.0);
}

#[test]
fn free_or_equally_priced_capacity_is_used_not_left_idle() {
    // No shortfall price: leaving demand unmet costs nothing, and neither
    // does the reserved pool (paid anyway); the market pool costs more
    // than unmet demand. The reserved pool is used, the market pool not.
    let mut inst = plain(&[10.0], &[0b1], &[4.0], &[10.0], &[1.0], &[0.0]);
    let o = solve(&inst, true);
    assert_eq!((o.served[0], o.unmet[0], o.cost), (4.0, 6.0, 0.0));
    // The market price equal to the shortfall price: serving costs the
    // same as not serving, and the pool is used.
    inst.shortfall = vec![1.0];
    let o = solve(&inst, true);
    assert_eq!((o.served[0], o.unmet[0], o.cost), (10.0, 0.0, 6.0));
    assert_eq!(o.fallbacks, 0);
}

#[test]
fn optimal_policy_runs_end_to_end_with_regret() {
    let text = include_str!("data/golden.toml").replace("paths = 3000", "paths = 400");
    let l = crate::util::load_with(&text, &["simulation.policy=optimal"]);
    let m = capsim::model::Model::compile(&l.scenario);
    assert!(m.optimal);
    let st = crate::util::run_model(&m, 2, 1024);
    let pr = crate::util::model(&text);
    let sp = crate::util::run_model(&pr, 2, 1024);
    // Same draws, so the same demand; the optimal policy is never more
    // expensive in expectation on this scenario (no backlog effects dominate).
    assert_eq!(
        st.period_metric(&m, 0, "demand").unwrap().mean,
        sp.period_metric(&pr, 0, "demand").unwrap().mean
    );
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("g.toml");
    std::fs::write(&f, &text).unwrap();
    let o = std::process::Command::new(crate::util::bin())
        .args([
            "run",
            f.to_str().unwrap(),
            "--regret",
            "--paths-csv",
            "--quiet",
            "--out",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let paths = crate::util::NumericCsv::read(&dir.path().join("golden/paths.csv"));
    let k = paths.col("policy_regret");
    let e = paths.col("economic");
    // Per path: regret = priority economic (this run) - optimal economic.
    let mut s_opt = capsim::kernel::Scratch::new(&m);
    let mut out = vec![0.0; m.layout.n_path()];
    let mut per = vec![0.0; m.periods * m.layout.n_period()];
    for row in paths.rows.iter().take(20) {
        capsim::kernel::simulate_path(
            &m,
            row[0] as u64,
            &mut s_opt,
            &mut out,
            &mut per,
            &mut capsim::kernel::NoObserver,
        );
        assert_eq!(s_opt.flow.fallbacks(), 0);
        let want = row[e] - out[capsim::model::pm::ECONOMIC];
        assert!(
            (row[k] - want).abs() <= 1e-9 * row[e].abs().max(1.0),
            "{} vs {want}",
            row[k]
        );
    }
}
