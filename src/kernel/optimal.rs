//! Policy `optimal` (MODEL.md section 7): per period, the linear programme
//! that minimises market cash plus shortfall cost under the same pools,
//! capacities, allowed sets and share rules as `priority`. First refusal is
//! a preference, not a constraint, and is ignored.
//!
//! Variables: `r[w,p]`, `x[w,p]` (GPUs workload w takes from p's reserved and
//! market pools, for allowed p), `u[w]` (unmet), `s[p]` (min-share slack).
//! Minimise `sum x[w,p] P_p + sum u[w] shortfall_w + M sum s[p]` (per GPU of a
//! period; the common factor H is dropped) subject to
//! `sum_p (r + x)[w,p] + u[w] = d_w`, `sum_w r[w,p] <= R_p`,
//! `sum_w x[w,p] <= C_p`, `sum_w (r + x)[w,p] <= cap_p` (max_share) and
//! `sum_w (r + x)[w,p] + s[p] >= target_p` (min_share). The slack keeps the
//! programme feasible when a target cannot be met, as `priority` serves a
//! min_share provider "as far as it can"; its penalty `M` is 1000 times the
//! largest cost coefficient, so targets come before cost. Solved by microlp
//! (pure Rust simplex) through good_lp. If the solver fails, the period
//! falls back to the `priority` allocation.

// Building the programme indexes several parallel arrays by workload and
// provider; index loops read clearer than zipped iterators here.
#![allow(clippy::needless_range_loop)]

use super::allocate::{allocate, Period, TakeObserver};
use good_lp::{
    constraint, microlp, variable, variables, Expression, Solution, SolverModel, Variable,
};

/// Allocates one period optimally; `price` per provider, `shortfall` per
/// workload (per GPU-hour). Takes are reported with pass 0.
pub fn allocate_optimal<O: TakeObserver>(
    p: &mut Period<'_>,
    price: &[f64],
    shortfall: &[f64],
    obs: &mut O,
) {
    let nw = p.demand.len();
    let np = p.served_p.len();
    let mut vars = variables!();
    let mut take: Vec<(usize, usize, bool, Variable)> = Vec::new();
    let mut objective = Expression::from(0.0);
    let big = 1000.0
        * price
            .iter()
            .chain(shortfall.iter())
            .fold(1.0f64, |a, b| a.max(*b));
    let mut unmet = Vec::with_capacity(nw);
    for w in 0..nw {
        let u = vars.add(variable().min(0.0));
        objective += shortfall[w] * u;
        unmet.push(u);
        if p.demand[w] <= 0.0 {
            continue;
        }
        for q in 0..np {
            if p.allowed[w] & (1u64 << q) == 0 {
                continue;
            }
            if p.reserved_left[q] > 0.0 {
                let r = vars.add(variable().min(0.0).max(p.reserved_left[q]));
                take.push((w, q, true, r));
            }
            if p.market_left[q] > 0.0 {
                let x = vars.add(variable().min(0.0).max(p.market_left[q]));
                objective += price[q] * x;
                take.push((w, q, false, x));
            }
        }
    }
    let mut slack = Vec::new();
    for q in 0..np {
        if p.target[q] > 0.0 {
            let s = vars.add(variable().min(0.0));
            objective += big * s;
            slack.push((q, s));
        }
    }
    let mut lp = vars.minimise(objective).using(microlp);
    for w in 0..nw {
        let mut e = Expression::from(unmet[w]);
        for (tw, _, _, v) in &take {
            if *tw == w {
                e += *v;
            }
        }
        lp = lp.with(constraint!(e == p.demand[w].max(0.0)));
    }
    for q in 0..np {
        let mut res = Expression::from(0.0);
        let mut mkt = Expression::from(0.0);
        let mut all = Expression::from(0.0);
        let mut any = false;
        for (_, tq, reserved, v) in &take {
            if *tq == q {
                any = true;
                if *reserved {
                    res += *v;
                } else {
                    mkt += *v;
                }
                all += *v;
            }
        }
        if !any {
            continue;
        }
        lp = lp.with(constraint!(res <= p.reserved_left[q]));
        lp = lp.with(constraint!(mkt <= p.market_left[q]));
        if p.cap[q].is_finite() {
            lp = lp.with(constraint!(all.clone() <= p.cap[q]));
        }
        if let Some((_, s)) = slack.iter().find(|(sq, _)| *sq == q) {
            lp = lp.with(constraint!(all + *s >= p.target[q]));
        }
    }
    let Ok(sol) = lp.solve() else {
        allocate(p, obs);
        return;
    };
    p.served_p.iter_mut().for_each(|x| *x = 0.0);
    let mut served_w = vec![0.0; nw];
    for (w, q, reserved, v) in &take {
        // Clamp the solver's round-off to the pool and the demand left.
        let left = if *reserved {
            p.reserved_left[*q]
        } else {
            p.market_left[*q]
        };
        let g = sol
            .value(*v)
            .max(0.0)
            .min(left)
            .min((p.demand[*w] - served_w[*w]).max(0.0));
        if g <= 0.0 {
            continue;
        }
        if *reserved {
            p.reserved_left[*q] -= g;
        } else {
            p.market_left[*q] -= g;
        }
        p.served_p[*q] += g;
        served_w[*w] += g;
        obs.take(*w, *q, *reserved, 0, g);
    }
    for w in 0..nw {
        p.unmet[w] = (p.demand[w] - served_w[w]).max(0.0);
    }
}
