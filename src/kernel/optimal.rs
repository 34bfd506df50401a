//! Policy `optimal` (MODEL.md section 7): per period, the linear programme
//! that minimises market cash plus shortfall cost under the same pools,
//! capacities, allowed sets and share rules as `priority`. First refusal is
//! a preference, not a constraint, and is ignored.
//!
//! The programme: variables `r[w,p]`, `x[w,p]` (GPUs workload w takes from
//! p's reserved and market pools, for allowed p), `u[w]` (unmet), `s[p]`
//! (min-share slack). Minimise `sum x[w,p] P_p + sum u[w] shortfall_w +
//! M sum s[p]` (per GPU of a period; the common factor H is dropped) subject
//! to `sum_p (r + x)[w,p] + u[w] = d_w`, `sum_w r[w,p] <= R_p`,
//! `sum_w x[w,p] <= C_p`, `sum_w (r + x)[w,p] <= cap_p` (max_share) and
//! `sum_w (r + x)[w,p] + s[p] >= target_p` (min_share). The slack keeps the
//! programme feasible when a target cannot be met, as `priority` serves a
//! min_share provider "as far as it can"; its penalty `M` is 1000 times the
//! largest cost coefficient, so targets come before cost.
//!
//! It is a minimum-cost flow problem, and solved as one, exactly (up to
//! round-off): each workload `w` supplies `d_w`; arcs `w` -> sink at the
//! shortfall price (unmet), `w` -> each allowed pool at the pool's price
//! (0 for reserved), pool -> its provider (the pool's capacity), provider ->
//! sink: the first `min(target, cap)` GPUs at cost `-M` (`M s[p]` is `M
//! target_p` minus `M` per GPU served up to the target), the rest up to
//! `cap` at 0 (providers without share rules: pools straight to the sink).
//! Successive shortest paths route the workloads' supplies one workload at
//! a time, in `priority`'s order; each path is a cheapest one in the
//! residual graph (label-correcting search: the graph has negative arcs),
//! which keeps the flow optimal for what has been routed, and a path that
//! re-routes an earlier workload is taken only when it is strictly cheaper
//! than every path found before it. So among equally cheap allocations the
//! routing order decides; in the plain case, two workloads with the same
//! shortfall price competing for one pool, the one `priority` serves first
//! keeps it (tested). And where serving costs the same as leaving demand
//! unmet (a reserved pool, paid anyway, with a shortfall price of 0; a
//! market price equal to the shortfall price), the capacity is used
//! (tested); a general LP solver may leave it idle. No allocation per
//! period: the graph lives in a reused [`Flow`], whose index of arcs by
//! node is rebuilt only when the network's shape changes (about one period
//! in five on the baseline). If a search does not settle within its bounds
//! (round-off gone wrong; not seen), the period falls back to the
//! `priority` allocation.
//! This replaced a general LP solver (microlp), which the tests still check
//! it against: same optimum, about 15x fewer instructions.

// Building the network indexes several parallel arrays by workload and
// provider; index loops read clearer than zipped iterators here.
#![allow(clippy::needless_range_loop)]

use super::allocate::{allocate, Period, TakeObserver};

/// The sink node.
const SINK: usize = 0;

/// One arc of the residual network.
#[derive(Debug, Clone, Copy)]
struct Arc {
    from: usize,
    to: usize,
    /// Residual capacity.
    res: f64,
    cost: f64,
}

/// The flow network of one period, in buffers reused from period to period
/// (one per thread, in the kernel's scratch).
#[derive(Debug, Default, Clone)]
pub struct Flow {
    /// Arcs in pairs: `a` and its reverse `a ^ 1`.
    arcs: Vec<Arc>,
    /// Arcs out of each node: `out[first[v]..first[v + 1]]`.
    first: Vec<usize>,
    out: Vec<usize>,
    dist: Vec<f64>,
    /// The arc into each node on the current shortest path.
    prev: Vec<usize>,
    queue: Vec<usize>,
    queued: Vec<bool>,
    /// Workload nodes are `1..=workloads`: their arcs into the sink are
    /// unmet demand.
    workloads: usize,
    /// Workload -> pool arcs: `(w, provider, reserved, arc)`.
    takes: Vec<(usize, usize, bool, usize)>,
    served_w: Vec<f64>,
    /// What decides the network's shape ([`Flow::record_shape`]), now and
    /// when `first` and `out` were last built: the same shape gives the
    /// same arcs in the same order (only capacities and costs differ), so
    /// the index is kept.
    shape: Vec<u64>,
    indexed: Vec<u64>,
    /// Periods that fell back to `priority`.
    fallbacks: u64,
}

impl Flow {
    pub fn new() -> Flow {
        Flow::default()
    }

    /// How many periods this network fell back to the `priority`
    /// allocation because a search did not settle (none expected; tests
    /// check).
    pub fn fallbacks(&self) -> u64 {
        self.fallbacks
    }

    fn reset(&mut self, nodes: usize, workloads: usize) {
        self.workloads = workloads;
        self.arcs.clear();
        self.takes.clear();
        self.dist.clear();
        self.dist.resize(nodes, f64::INFINITY);
        self.prev.clear();
        self.prev.resize(nodes, usize::MAX);
        self.queued.clear();
        self.queued.resize(nodes, false);
    }

    /// Records in `shape` what decides which arcs [`allocate_optimal`]
    /// adds and in which order: the numbers of workloads and providers,
    /// the workloads with demand and their allowed sets, the pools with
    /// capacity, and the providers' share rules (with a share rule, with a
    /// target, with a cap above the target).
    fn record_shape(&mut self, p: &Period<'_>) {
        let (nw, np) = (p.demand.len(), p.served_p.len());
        let shape = &mut self.shape;
        shape.clear();
        let mut with_demand = 0u64;
        for w in 0..nw {
            let some = p.demand[w] > 0.0;
            with_demand |= (some as u64) << w;
            shape.push(if some { p.allowed[w] } else { 0 });
        }
        let mut masks = [0u64; 5];
        for q in 0..np {
            let (target, cap) = (p.target[q], p.cap[q]);
            let bits = [
                p.reserved_left[q] > 0.0,
                p.market_left[q] > 0.0,
                target > 0.0 || cap != f64::INFINITY,
                target > 0.0,
                cap > target.min(cap),
            ];
            for (m, b) in masks.iter_mut().zip(bits) {
                *m |= (b as u64) << q;
            }
        }
        shape.extend([nw as u64, np as u64, with_demand]);
        shape.extend(masks);
    }

    /// Adds arc `u -> v` (and its reverse) and returns its index.
    fn arc(&mut self, u: usize, v: usize, cap: f64, cost: f64) -> usize {
        let a = self.arcs.len();
        self.arcs.extend([
            Arc {
                from: u,
                to: v,
                res: cap,
                cost,
            },
            Arc {
                from: v,
                to: u,
                res: 0.0,
                cost: -cost,
            },
        ]);
        a
    }

    /// Indexes the arcs by the node they leave (in arc order).
    fn index(&mut self) {
        let n = self.dist.len();
        let Flow {
            arcs,
            first,
            out,
            prev,
            ..
        } = self;
        first.clear();
        first.resize(n + 1, 0);
        out.clear();
        out.resize(arcs.len(), 0);
        let (first, out, cursor) = (&mut first[..=n], &mut out[..], &mut prev[..n]);
        for a in arcs.iter() {
            first[a.from + 1] += 1;
        }
        for v in 0..n {
            first[v + 1] += first[v];
        }
        // Fill with a moving cursor per node (`prev` is free until the search).
        cursor.copy_from_slice(&first[..n]);
        for (i, a) in arcs.iter().enumerate() {
            out[cursor[a.from]] = i;
            cursor[a.from] += 1;
        }
    }

    /// Shortest distances from `source` over arcs with residual capacity
    /// (label-correcting search with a FIFO queue; a label improves only by
    /// more than `tol`, except that at the sink a path that serves demand
    /// replaces one that ends in unmet demand at the same cost, so that free
    /// or equally priced capacity is used rather than left idle). Returns
    /// whether the sink is reachable, or `None` if the search did not settle
    /// within its bound (round-off gone wrong).
    fn shortest_paths(&mut self, source: usize, tol: f64) -> Option<bool> {
        // The fields as local slices: their headers are read once, not
        // around every store through `self`.
        let Flow {
            arcs,
            first,
            out,
            dist,
            prev,
            queue,
            queued,
            workloads,
            ..
        } = self;
        let n = dist.len();
        let (arcs, first, out) = (&arcs[..], &first[..=n], &out[..]);
        let (dist, prev, queued) = (&mut dist[..n], &mut prev[..n], &mut queued[..n]);
        let workloads = *workloads;
        dist.iter_mut().for_each(|d| *d = f64::INFINITY);
        dist[source] = 0.0;
        queue.clear();
        queue.push(source);
        queued[source] = true;
        let mut head = 0;
        let mut budget = n * arcs.len() + n;
        while head < queue.len() {
            let u = queue[head];
            head += 1;
            queued[u] = false;
            if u == SINK {
                // Paths only end there (one through it would close a cycle).
                continue;
            }
            let du = dist[u];
            for &a in &out[first[u]..first[u + 1]] {
                let arc = arcs[a];
                if arc.res <= 0.0 {
                    continue;
                }
                let nd = du + arc.cost;
                let serves_instead = arc.to == SINK
                    && arc.from > workloads
                    && nd <= dist[SINK] + tol
                    && dist[SINK] < f64::INFINITY
                    && (1..=workloads).contains(&arcs[prev[SINK]].from);
                if nd < dist[arc.to] - tol || serves_instead {
                    dist[arc.to] = nd;
                    prev[arc.to] = a;
                    if !queued[arc.to] {
                        queued[arc.to] = true;
                        queue.push(arc.to);
                    }
                }
            }
            budget = budget.checked_sub(1)?;
        }
        Some(dist[SINK] < f64::INFINITY)
    }

    /// Routes `supply` from node `source` to the sink along cheapest paths.
    /// False if that did not finish in a bounded number of steps (round-off
    /// gone wrong; the caller falls back to `priority`).
    fn route(&mut self, source: usize, mut supply: f64, tol: f64) -> bool {
        let nodes = self.dist.len();
        let limit = 64 + 8 * self.arcs.len();
        for _ in 0..limit {
            if supply <= 0.0 {
                return true;
            }
            if self.shortest_paths(source, tol) != Some(true) {
                return false;
            }
            // The path's bottleneck, then the push.
            let mut delta = supply;
            let (mut v, mut steps) = (SINK, 0);
            while v != source {
                let a = self.prev[v];
                // (Never unset on a path found; a guard against round-off.)
                let Some(arc) = self.arcs.get(a) else {
                    return false;
                };
                delta = delta.min(arc.res);
                v = arc.from;
                steps += 1;
                if steps > nodes {
                    return false;
                }
            }
            let mut v = SINK;
            while v != source {
                let a = self.prev[v];
                self.arcs[a].res -= delta;
                self.arcs[a ^ 1].res += delta;
                v = self.arcs[a].from;
            }
            supply -= delta;
        }
        false
    }
}

/// Allocates one period optimally; `price` per provider, `shortfall` per
/// workload (per GPU-hour), `flow` the thread's reusable network. Takes are
/// reported with pass 0. (Not inlined into the kernel's AVX2 copies; a
/// copy of this compiled for AVX2 and BMI as well, as they are, saved 0.6%
/// of the `optimal` run's instructions and was not kept.)
pub fn allocate_optimal<O: TakeObserver>(
    p: &mut Period<'_>,
    price: &[f64],
    shortfall: &[f64],
    flow: &mut Flow,
    obs: &mut O,
) {
    let nw = p.demand.len();
    let np = p.served_p.len();
    // Demand, pools or prices overflowed (the run is then refused as
    // overflowed): infinities would turn the network's residuals into NaN.
    if !(p.demand.iter())
        .chain(p.reserved_left.iter())
        .chain(p.market_left.iter())
        .chain(price)
        .all(|x| x.is_finite())
    {
        allocate(p, obs);
        return;
    }
    let big = 1000.0
        * price
            .iter()
            .chain(shortfall.iter())
            .fold(1.0f64, |a, b| a.max(*b));
    // Nodes: sink, workloads, then per provider its reserved pool, its
    // market pool and itself.
    let work = |w: usize| 1 + w;
    let reserved = |q: usize| 1 + nw + 3 * q;
    let market = |q: usize| 2 + nw + 3 * q;
    let provider = |q: usize| 3 + nw + 3 * q;
    flow.reset(1 + nw + 3 * np, nw);
    // Pools some workload may take from (the others get no arcs).
    let (mut reach_reserved, mut reach_market) = (0u64, 0u64);
    for w in 0..nw {
        if p.demand[w] <= 0.0 {
            continue;
        }
        flow.arc(work(w), SINK, f64::INFINITY, shortfall[w]);
        for q in 0..np {
            if p.allowed[w] & (1u64 << q) == 0 {
                continue;
            }
            if p.reserved_left[q] > 0.0 {
                let a = flow.arc(work(w), reserved(q), f64::INFINITY, 0.0);
                flow.takes.push((w, q, true, a));
                reach_reserved |= 1u64 << q;
            }
            if p.market_left[q] > 0.0 {
                let a = flow.arc(work(w), market(q), f64::INFINITY, price[q]);
                flow.takes.push((w, q, false, a));
                reach_market |= 1u64 << q;
            }
        }
    }
    for q in 0..np {
        let bit = 1u64 << q;
        if (reach_reserved | reach_market) & bit == 0 {
            continue;
        }
        // Without a share rule on the provider, its pools drain straight
        // into the sink.
        let cap = p.cap[q];
        let shares = p.target[q] > 0.0 || cap != f64::INFINITY;
        let to = if shares { provider(q) } else { SINK };
        if reach_reserved & bit != 0 {
            flow.arc(reserved(q), to, p.reserved_left[q], 0.0);
        }
        if reach_market & bit != 0 {
            flow.arc(market(q), to, p.market_left[q], 0.0);
        }
        if p.target[q] > 0.0 {
            let t = p.target[q].min(cap);
            flow.arc(provider(q), SINK, t, -big);
            if cap > t {
                flow.arc(provider(q), SINK, cap - t, 0.0);
            }
        } else if shares {
            flow.arc(provider(q), SINK, cap, 0.0);
        }
    }
    // Improvements below this are round-off (path costs are sums of a few
    // coefficients of at most `big`).
    let tol = big * 1e-12;
    flow.record_shape(p);
    if flow.shape != flow.indexed {
        flow.index();
        std::mem::swap(&mut flow.shape, &mut flow.indexed);
    }
    for &w in p.order_w {
        if p.demand[w] > 0.0 && !flow.route(work(w), p.demand[w], tol) {
            flow.fallbacks += 1;
            allocate(p, obs);
            return;
        }
    }
    p.served_p.iter_mut().for_each(|x| *x = 0.0);
    flow.served_w.clear();
    flow.served_w.resize(nw, 0.0);
    for i in 0..flow.takes.len() {
        let (w, q, is_reserved, a) = flow.takes[i];
        // The flow on the arc is its reverse's residual; clamp round-off to
        // the pool and the demand left.
        let left = if is_reserved {
            p.reserved_left[q]
        } else {
            p.market_left[q]
        };
        let g = flow.arcs[a ^ 1]
            .res
            .max(0.0)
            .min(left)
            .min((p.demand[w] - flow.served_w[w]).max(0.0));
        if g <= 0.0 {
            continue;
        }
        if is_reserved {
            p.reserved_left[q] -= g;
        } else {
            p.market_left[q] -= g;
        }
        p.served_p[q] += g;
        flow.served_w[w] += g;
        obs.take(w, q, is_reserved, 0, g);
    }
    for w in 0..nw {
        p.unmet[w] = (p.demand[w] - flow.served_w[w]).max(0.0);
    }
}
