#!/usr/bin/env python3
"""A vectorised NumPy implementation of MODEL.md, for timing capsim against
in the same run (issue "Performance: the kernel at its floor", first target)
and as an independent check of its means.

It covers the model as the shipped scenarios and tests/data/golden.toml use
it: workloads with growth, volatility, Poisson jumps, shortfall prices and
backlog; cloud and owned providers with price processes, availability and
tranches (delays, failures, pro-rata first period, capex, depreciation);
reserved and commitment contracts; every rule kind (`exclusive`,
`first_refusal`, `min_share`, `max_share`; `from`/`until` as months or
"agi"); the AGI hazard; correlations; the priority allocation. Per-path
totals and every per-period metric are summarised over paths with exact
quantiles. The `optimal` policy is refused. Its random numbers are NumPy's,
not capsim's: compare means within their standard errors, not bits.

Written for speed as NumPy code is: paths on the contiguous axis, in blocks
of BLOCK paths that stay in cache; every period's shocks drawn and turned
into demand and price levels at once; without share or first-refusal rules
(the baseline, which is what it is timed on), market pools walked in
price-rank space (one sort and two gathers per period instead of a gather
per take); quantiles from one in-place sort per metric. With share or
first-refusal rules it takes the general, slower walk (`allocate_general`).

    pip install numpy
    python3 benches/numpy_reference.py scenarios/baseline.toml 100000 [SUMMARY.csv]

prints the time (process CPU, one thread) and path-periods per second, and
writes the per-path means to stdout as `metric,mean,stderr`. Given a
capsim summary.csv of the same scenario, it also prints, per metric, the
difference of the two means in combined standard errors.
"""

import math
import os
import sys
import time
import tomllib

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import numpy as np  # noqa: E402

BLOCK = 8192
QUANTILES = [0.01, 0.05, 0.10, 0.25, 0.50, 0.75, 0.90, 0.95, 0.99]
MONTHS = {"month": 1, "quarter": 3, "year": 12}


def month(ym, start):
    y, m = (int(x) for x in ym.split("-"))
    y0, m0 = (int(x) for x in start.split("-"))
    return (y - y0) * 12 + (m - m0)


def summarise(x):
    """Mean, stderr, type-7 quantiles and CVaR95 of each row of `x` (one
    row per metric, paths along the row, C-contiguous), sorting the rows
    in place (NumPy's vectorised sort is faster here than a partition at
    the 19 ranks needed)."""
    n = x.shape[1]
    mean, std = np.empty(x.shape[0]), np.empty(x.shape[0])
    for i in range(0, x.shape[0], 16):  # a few rows at a time: small temporaries
        mean[i:i + 16] = x[i:i + 16].mean(axis=1)
        std[i:i + 16] = x[i:i + 16].std(axis=1, ddof=1)
    x.sort(axis=1)
    h = (n - 1) * np.array(QUANTILES)
    lo = np.floor(h).astype(np.int64)
    hi = np.minimum(lo + 1, n - 1)
    q = x[:, lo] + (h - lo) * (x[:, hi] - x[:, lo])
    k = max(1, math.ceil(0.05 * n))
    return mean, std / math.sqrt(n), q, x[:, n - k:].mean(axis=1)


def allocate_ranked(demand, allowed, order_w, order_p, has_reserved, reserved_left,
                    market_cap, served, unmet):
    """The priority allocation without share or first-refusal rules (every
    walk is pass 3), for one period, with the market pools in price-rank
    space: row r holds each path's r-th cheapest pool, so a take is a few
    contiguous operations instead of gathers. Returns the market pools left."""
    nw, n = demand.shape
    np_ = served.shape[0]
    same_order = bool((order_w == order_w[:, :1]).all())
    left_s = np.take_along_axis(market_cap, order_p, axis=0)
    for i in range(nw):
        for w in [int(order_w[i, 0])] if same_order else range(nw):
            rem = demand[w].copy()
            ok = allowed[w]
            if not same_order:
                rem *= order_w[i] == w
            for p in range(np_):
                if has_reserved[p]:
                    take = np.minimum(rem, reserved_left[p])
                    if ok is not None:
                        take *= ok[p]
                    reserved_left[p] -= take
                    served[p] += take
                    rem -= take
            ok_s = None if ok is None else np.take_along_axis(ok, order_p, axis=0)
            for r in range(np_):
                take = np.minimum(rem, left_s[r])
                if ok_s is not None:
                    take *= ok_s[r]
                left_s[r] -= take
                rem -= take
            unmet[w] += rem
    market_left = np.empty_like(left_s)
    np.put_along_axis(market_left, order_p, left_s, axis=0)
    served += market_cap - market_left
    return market_left


def allocate_general(demand, allowed, pass2, order_w, order_p, target, cap,
                     reserved_left, market_left, served, unmet):
    """The priority allocation with every rule kind (section 7), for one
    period: each workload in its order walks three passes (providers below
    an active min_share target, up to it; first-refusal providers that took
    the offer; everyone), each over the reserved pools in provider order,
    then the market pools by price, taking min(remaining demand, pool left,
    provider limit). Gathers per market take: slower than
    `allocate_ranked`, which covers scenarios without share or first-refusal
    rules."""
    nw, n = demand.shape
    np_ = served.shape[0]
    ar = np.arange(n)
    below = target >= 0
    for i in range(nw):
        for w in range(nw):
            sel = order_w[i] == w
            if not sel.any():
                continue
            rem = np.where(sel, demand[w], 0.0)
            ok = np.ones((np_, n), dtype=bool) if allowed[w] is None else allowed[w]
            for pass_ in (1, 2, 3):
                if pass_ == 1:
                    mask = ok & below
                elif pass_ == 2:
                    if pass2[w] is None:
                        continue
                    mask = ok & pass2[w]
                else:
                    mask = ok

                def take_from(left, sv, lim_cap, lim_target, m):
                    lim = lim_cap - sv
                    if pass_ == 1:
                        lim = np.minimum(lim, lim_target - sv)
                    return np.maximum(np.minimum(np.minimum(rem, left), lim), 0.0) * m

                for q in range(np_):
                    take = take_from(reserved_left[q], served[q], cap[q], target[q], mask[q])
                    reserved_left[q] -= take
                    served[q] += take
                    rem -= take
                for r in range(np_):
                    q = order_p[r]
                    take = take_from(market_left[q, ar], served[q, ar], cap[q, ar], target[q, ar], mask[q, ar])
                    market_left[q, ar] -= take
                    served[q, ar] += take
                    rem -= take
            unmet[w] += np.maximum(rem, 0.0)


def simulate(sc, paths, rng, per):
    """Simulates `paths` paths; writes the per-period metrics into `per`
    (period, metric, path) and returns the per-path ones. Every array is
    (entity, path): the paths are the contiguous axis."""
    start = sc["start"]
    m = MONTHS[sc.get("period", "quarter")]
    T = sc["periods"]
    dt = m / 12.0
    H = 8760.0 * dt
    horizon = T * m
    W, P = sc["workload"], sc["provider"]
    nw, np_ = len(W), len(P)
    pidx = {p["name"]: i for i, p in enumerate(P)}
    widx = {w["name"]: i for i, w in enumerate(W)}
    rules = sc.get("rule", [])
    if sc.get("simulation", {}).get("policy", "priority") != "priority":
        raise SystemExit("numpy_reference: only the priority policy is implemented")
    n = paths
    ar = np.arange(n)

    # Correlation: Z = L e over (demand factors, price factors).
    names = [f"demand/{w['name']}" for w in W] + [f"price/{p['name']}" for p in P]
    corr = np.eye(nw + np_)
    for c in sc.get("correlation", []):
        a, b = (names.index(x) for x in c["between"])
        corr[a, b] = corr[b, a] = c["rho"]
    L = np.linalg.cholesky(corr)

    # AGI.
    agi = sc.get("agi")
    agi_period = np.full(n, np.inf)  # period of the declaration (inf: none)
    declared = np.zeros(n)
    if agi and agi["hazard"] > 0:
        when = month(agi["earliest"], start) + 12.0 * rng.exponential(size=n) / agi["hazard"]
        hit = when < horizon
        agi_period = np.where(hit, np.where(when < 0, -1.0, np.floor(when / m)), np.inf)
        declared = hit.astype(float)

    # Tranches: capacity per period and provider as steps (pro rata in the
    # first period, the rest in the next), summed up over periods; capex,
    # depreciation.
    steps = np.zeros((T + 1, np_, n))
    capex_t = np.zeros((T, n))
    capex_p = np.zeros((np_, n))
    depreciation = np.zeros(n)
    for p, prov in enumerate(P):
        owned = prov.get("kind", "cloud") == "owned"
        life = 12.0 * prov.get("life_years", 5)
        for tr in prov.get("tranche", []):
            tau = np.full(n, float(month(tr["online"], start)))
            if "delay_months" in tr:
                d = tr["delay_months"]
                tau = tau + d["median"] * np.exp(d["sigma"] * rng.standard_normal(n))
            ok = (rng.random(n) >= tr.get("failure", 0.0)) & (tau < horizon)
            first = np.clip(np.floor(tau / m), 0, T - 1).astype(np.int64)
            frac = np.clip(((first + 1) * m - tau) / m, 0.0, 1.0)
            g = np.where(ok, tr["gpus"], 0.0)
            steps[first, p, ar] += g * frac
            steps[first + 1, p, ar] += g * (1.0 - frac)
            capex = tr["gpus"] * prov.get("capex_per_gpu", 0.0) if owned else 0.0
            if capex > 0:
                paid = ok & (tau >= 0)
                capex_t[first, ar] += np.where(paid, capex, 0.0)
                capex_p[p] += np.where(paid, capex, 0.0)
                depreciation += np.where(paid, capex / life * (np.minimum(tau + life, horizon) - tau), 0.0)
    tranche = np.cumsum(steps[:T], axis=0)
    avail = np.array([p.get("availability", 1.0) for p in P])

    # Contracts.
    def coverage(t, c):
        lo = max(t * m, month(c["from"], start)) if "from" in c else t * m
        hi = min(t * m + m - 1, month(c["to"], start)) if "to" in c else t * m + m - 1
        return max(hi - lo + 1, 0) / m

    res_gpus = np.zeros((T, np_))
    res_cash = np.zeros((T, np_))
    commits = []
    for c in sc.get("contract", []):
        p = pidx[c["provider"]]
        if c["kind"] == "reserved":
            for t in range(T):
                g = c["gpus"] * coverage(t, c)
                res_gpus[t, p] += g
                res_cash[t, p] += g * H * c["price"]
        else:
            fr = month(c["from"], start) if "from" in c else None
            to = month(c["to"], start) if "to" in c else None
            window = [(fr is None or t * m >= fr) and (to is None or t * m <= to) for t in range(T)]
            settle = to // m if to is not None and 0 <= to < horizon else None
            commits.append((p, c["amount"], window, settle, to is None or to >= horizon))

    shortfall = np.array([w.get("shortfall_price", sc["shortfall_price"]) * H for w in W])
    deferrable = [w.get("deferrable", False) for w in W]
    dem_drift = np.array([(w.get("growth", 0) - w.get("volatility", 0) ** 2 / 2) * dt for w in W])
    dem_vol = np.array([w.get("volatility", 0) * math.sqrt(dt) for w in W])
    pr_drift = np.array([(p.get("price_drift", 0) - p.get("price_volatility", 0) ** 2 / 2) * dt for p in P])
    pr_vol = np.array([p.get("price_volatility", 0) * math.sqrt(dt) for p in P])
    discount = [(1 + sc.get("discount_rate", 0.0)) ** -((t + 1) * dt) for t in range(T)]
    # Rules (sections 6, 7): months of `from` and `until` ("agi" kept as is).
    def bound(b):
        return b if b is None or b == "agi" else month(b, start)

    bounds = [(bound(r.get("from")), bound(r.get("until"))) for r in rules]

    def active(ri, t):
        """Whether rule `ri` is active in period `t`, per path."""
        fr, un = bounds[ri]
        if (fr not in (None, "agi") and t * m < fr) or (un not in (None, "agi") and t * m > un):
            return np.zeros(n, dtype=bool)
        a = np.ones(n, dtype=bool)
        if un == "agi":
            a &= t <= agi_period
        if fr == "agi":
            a &= t > agi_period
        return a

    # Share and first-refusal rules need the general allocation.
    general = any(r["kind"] != "exclusive" for r in rules)

    backlog = np.zeros((nw, n))
    cash_p = np.zeros((np_, n))
    hours_p = np.zeros((np_, n))
    paid_c = np.zeros((len(commits), n))
    true_up_c = np.zeros((len(commits), n))
    tot = {k: np.zeros(n) for k in ["cash", "npv", "short", "served", "unmet", "true_up"]}

    # Demand and prices for every period at once: correlated normals, jumps
    # (a sum of k normal jump sizes is one normal with k times the
    # variance), growth factors, running products.
    z = (L @ rng.standard_normal((nw + np_, (T - 1) * n))).reshape(nw + np_, T - 1, n).transpose(1, 0, 2)
    jump = np.zeros((T - 1, nw, n))
    for w, wl in enumerate(W):
        if wl.get("jump_rate", 0) > 0:
            k = rng.poisson(wl["jump_rate"] * dt, (T - 1, n))
            hit = k > 0
            jump[:, w][hit] = wl.get("jump_mean", 0) * k[hit] + wl.get("jump_stdev", 0) * np.sqrt(k[hit]) * rng.standard_normal(hit.sum())
    levels = np.empty((T, nw, n))
    levels[0] = np.array([float(w["demand"]) for w in W])[:, None]
    levels[1:] = np.exp(dem_drift[:, None] + dem_vol[:, None] * z[:, :nw] + jump)
    np.cumprod(levels, axis=0, out=levels)
    prices = np.empty((T, np_, n))
    prices[0] = np.array([float(p["price"]) for p in P])[:, None]
    prices[1:] = np.exp(pr_drift[:, None] + pr_vol[:, None] * z[:, nw:])
    np.cumprod(prices, axis=0, out=prices)

    for t in range(T):
        level, price = levels[t], prices[t]
        demand = level + backlog
        total = demand.sum(axis=0)

        # Rules: allowed providers and first-refusal offers taken per
        # workload ((providers, paths) booleans; None: every provider, no
        # offer), share targets and caps per provider.
        allowed = [None] * nw
        pass2 = [None] * nw
        target_share = np.full((np_, n), -1.0)
        cap_share = np.full((np_, n), np.inf)
        for ri, r in enumerate(rules):
            u = rng.random(n) if r["kind"] == "first_refusal" else None  # drawn every period
            a = active(ri, t)
            if r["kind"] == "exclusive":
                provs = np.zeros(np_, dtype=bool)
                provs[[pidx[x] for x in r["providers"]]] = True
                ok = provs[:, None] | ~a[None, :]
                for name in r["workloads"]:
                    w = widx[name]
                    allowed[w] = ok if allowed[w] is None else allowed[w] & ok
            elif r["kind"] == "first_refusal":
                taken = a & (u < r["accept"])
                for name in r["workloads"]:
                    w = widx[name]
                    if pass2[w] is None:
                        pass2[w] = np.zeros((np_, n), dtype=bool)
                    pass2[w][pidx[r["provider"]]] |= taken
            elif r["kind"] == "min_share":
                q = pidx[r["provider"]]
                target_share[q] = np.where(a, np.maximum(target_share[q], r["share"]), target_share[q])
            elif r["kind"] == "max_share":
                q = pidx[r["provider"]]
                cap_share[q] = np.where(a, np.minimum(cap_share[q], r["share"]), cap_share[q])
            else:
                raise SystemExit(f"numpy_reference: rule kind {r['kind']} not implemented")
        count = np.array([np.full(n, np_) if a is None else a.sum(axis=0) for a in allowed])
        order_w = np.argsort(count, axis=0, kind="stable")  # fewest first, then file order

        # Reserved pools in provider order; market pools by price (ties by
        # provider order).
        reserved_left = np.repeat(res_gpus[t][:, None], n, axis=1)
        market_cap = avail[:, None] * tranche[t]
        order_p = np.argsort(price.T, axis=1, kind="stable").T
        served = np.zeros((np_, n))
        unmet = np.zeros((nw, n))
        if general:
            target = np.where(target_share >= 0, total * target_share, -1.0)
            cap = np.where(np.isfinite(cap_share), total * cap_share, np.inf)
            market_left = market_cap.copy()
            allocate_general(demand, allowed, pass2, order_w, order_p, target, cap,
                             reserved_left, market_left, served, unmet)
        else:
            market_left = allocate_ranked(demand, allowed, order_w, order_p, res_gpus[t] > 0,
                                          reserved_left, market_cap, served, unmet)

        market_cash = (market_cap - market_left) * H * price
        paid = market_cash + res_cash[t][:, None]
        cash_p += paid
        hours_p += served * H
        cash = capex_t[t] + paid.sum(axis=0)
        true_up = np.zeros(n)
        for c, (p, amount, window, settle, _) in enumerate(commits):
            if window[t]:
                paid_c[c] += paid[p]
            if settle == t:
                tu = np.maximum(amount - paid_c[c], 0.0)
                true_up_c[c] = tu
                cash_p[p] += tu
                true_up += tu
        cash += true_up
        short = (unmet * shortfall[:, None]).sum(axis=0)
        for w in range(nw):
            backlog[w] = unmet[w] if deferrable[w] else 0.0
        srv = served.sum(axis=0)
        um = unmet.sum(axis=0)
        per[t, 0], per[t, 1], per[t, 2], per[t, 3] = cash, total, srv, um
        per[t, 4 + np_:4 + 2 * np_] = served
        tot["cash"] += cash
        tot["npv"] += cash * discount[t]
        tot["short"] += short
        tot["served"] += srv * H
        tot["unmet"] += um * H
        tot["true_up"] += true_up

    per[:, 4:4 + np_] = avail[:, None] * tranche + res_gpus[:, :, None]
    per[:, 4 + 2 * np_:] = prices
    capex = capex_p.sum(axis=0)
    out = {
        "cash": tot["cash"],
        "npv": tot["npv"],
        "economic": tot["cash"] + tot["short"],
        "shortfall_cost": tot["short"],
        "served_gpu_hours": tot["served"],
        "unmet_gpu_hours": tot["unmet"],
        "capex": capex,
        "depreciation": depreciation,
        "true_up": tot["true_up"],
        "agi_declared": declared,
    }
    for p, prov in enumerate(P):
        out[f"cash.{prov['name']}"] = cash_p[p] + capex_p[p]
        out[f"gpu_hours.{prov['name']}"] = hours_p[p]
        out[f"share.{prov['name']}"] = np.where(tot["served"] > 0, hours_p[p] / np.where(tot["served"] > 0, tot["served"], 1), 0.0)
    names = [c.get("name", f"{c['kind']}-{c['provider']}-{i}")
             for i, c in enumerate(sc.get("contract", [])) if c["kind"] == "commitment"]
    for c, (p, amount, _, _, open_at_end) in enumerate(commits):
        out[f"true_up.{names[c]}"] = true_up_c[c]
        out[f"unsettled.{names[c]}"] = np.maximum(amount - paid_c[c], 0.0) if open_at_end else np.zeros(n)
    return out


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit("usage: numpy_reference.py SCENARIO.toml PATHS [CAPSIM_SUMMARY.csv]")
    with open(sys.argv[1], "rb") as f:
        sc = tomllib.load(f)
    paths = int(sys.argv[2])
    rng = np.random.default_rng(sc.get("simulation", {}).get("seed", 1))
    t0 = time.process_time()
    # Paths in blocks, so that each block's arrays stay in cache; every
    # path's values are kept for the exact quantiles.
    per = np.empty((sc["periods"], 4 + 3 * len(sc["provider"]), paths))
    totals = None
    for a in range(0, paths, BLOCK):
        b = min(a + BLOCK, paths)
        out = simulate(sc, b - a, rng, per[:, :, a:b])
        if totals is None:
            totals = np.empty((len(out), paths))
        totals[:, a:b] = list(out.values())
    summaries = [summarise(totals), summarise(per.reshape(-1, paths))]
    elapsed = time.process_time() - t0
    pp = paths * sc["periods"]
    print(f"# numpy {np.__version__}: {paths} paths x {sc['periods']} periods in {elapsed:.2f} s CPU = {pp / elapsed / 1e6:.2f} M path-periods/s", file=sys.stderr)
    mean, stderr = summaries[0][0], summaries[0][1]
    print("metric,mean,stderr")
    for i, k in enumerate(out):
        print(f"{k},{float(mean[i])!r},{float(stderr[i])!r}")
    if len(sys.argv) == 4:
        import csv

        with open(sys.argv[3], newline="") as f:
            theirs = {r["metric"]: r for r in csv.DictReader(f)}
        worst = (0.0, "")
        for i, k in enumerate(out):
            a, sa = float(theirs[k]["mean"]), float(theirs[k]["stderr"])
            se = math.hypot(sa, float(stderr[i]))
            z = (a - float(mean[i])) / se if se > 0 else (0.0 if a == mean[i] else math.inf)
            print(f"# {k}: capsim {a:.6g}, numpy {float(mean[i]):.6g}, {z:+.2f} standard errors", file=sys.stderr)
            worst = max(worst, (abs(z), k))
        print(f"# largest difference: {worst[0]:.2f} standard errors ({worst[1]})", file=sys.stderr)


if __name__ == "__main__":
    main()
