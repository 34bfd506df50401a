#!/usr/bin/env python3
"""A vectorised NumPy implementation of MODEL.md, for timing capsim against
in the same run (issue "Performance: the kernel at its floor", first target)
and as an independent check of its means.

It covers what scenarios/baseline.toml uses: workloads with growth,
volatility, Poisson jumps, shortfall prices and backlog; cloud and owned
providers with price processes, availability and tranches (delays,
failures, pro-rata first period, capex, depreciation); reserved and
commitment contracts; `exclusive` rules (with `until = "agi"`); the AGI
hazard; correlations; the priority allocation. Per-path totals and every
per-period metric are summarised over paths with exact quantiles. Other
rule kinds are refused. Its random numbers are NumPy's, not capsim's:
compare means within their standard errors, not bits.

    pip install numpy
    python3 benches/numpy_reference.py scenarios/baseline.toml 100000

prints the time (process CPU, one thread) and path-periods per second, and
writes the per-path means to stdout as `metric,mean,stderr`.
"""

import math
import os
import sys
import time
import tomllib

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import numpy as np  # noqa: E402

QUANTILES = [0.01, 0.05, 0.10, 0.25, 0.50, 0.75, 0.90, 0.95, 0.99]
MONTHS = {"month": 1, "quarter": 3, "year": 12}


def month(ym, start):
    y, m = (int(x) for x in ym.split("-"))
    y0, m0 = (int(x) for x in start.split("-"))
    return (y - y0) * 12 + (m - m0)


def summarise(x):
    """Mean, stderr, quantiles and CVaR95 over axis 0 (paths)."""
    n = x.shape[0]
    mean = x.mean(axis=0)
    std = x.std(axis=0, ddof=1)
    q = np.quantile(x, QUANTILES, axis=0)
    k = max(1, math.ceil(0.05 * n))
    top = np.partition(x, n - k, axis=0)[n - k:]
    return mean, std / math.sqrt(n), q, top.mean(axis=0)


def simulate(sc, paths, rng):
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
    for r in sc.get("rule", []):
        if r["kind"] != "exclusive" or r.get("from"):
            raise SystemExit(f"numpy_reference: rule kind {r['kind']} not implemented")
    n = paths

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

    # Tranches: capacity per provider and period, capex, depreciation.
    tranche = np.zeros((T, np_, n))
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
            first = np.where(tau <= 0, 0, np.floor(tau / m)).astype(np.int64)
            frac = np.clip(((first + 1) * m - tau) / m, 0.0, 1.0)
            for t in range(T):
                share = np.where(first == t, frac, np.where(first < t, 1.0, 0.0))
                tranche[t, p] += np.where(ok, tr["gpus"] * share, 0.0)
            capex = tr["gpus"] * prov.get("capex_per_gpu", 0.0) if owned else 0.0
            if capex > 0:
                paid = ok & (tau >= 0)
                for t in range(T):
                    capex_t[t] += np.where(paid & (first == t), capex, 0.0)
                capex_p[p] += np.where(paid, capex, 0.0)
                depreciation += np.where(paid, capex / life * (np.minimum(tau + life, horizon) - tau), 0.0)
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
    all_mask = np.ones(np_, dtype=bool)

    level = np.array([np.full(n, float(w["demand"])) for w in W])
    price = np.array([np.full(n, float(p["price"])) for p in P])
    backlog = np.zeros((nw, n))
    cash_p = np.zeros((np_, n))
    hours_p = np.zeros((np_, n))
    paid_c = np.zeros((len(commits), n))
    true_up_c = np.zeros((len(commits), n))
    tot = {k: np.zeros(n) for k in ["cash", "npv", "short", "served", "unmet", "true_up"]}
    per = np.zeros((n, T, 4 + 3 * np_))
    ar = np.arange(n)

    for t in range(T):
        if t >= 1:
            z = L @ rng.standard_normal((nw + np_, n))
            for w, wl in enumerate(W):
                jump = np.zeros(n)
                if wl.get("jump_rate", 0) > 0:
                    k = rng.poisson(wl["jump_rate"] * dt, n)
                    hit = k > 0
                    jump[hit] = wl.get("jump_mean", 0) * k[hit] + wl.get("jump_stdev", 0) * np.sqrt(k[hit]) * rng.standard_normal(hit.sum())
                level[w] *= np.exp(dem_drift[w] + dem_vol[w] * z[w] + jump)
            price *= np.exp(pr_drift[:, None] + pr_vol[:, None] * z[nw:])
        demand = level + backlog
        total = demand.sum(axis=0)

        # Allowed providers per workload (n x P booleans).
        allowed = np.broadcast_to(all_mask, (nw, n, np_)).copy()
        for r in sc.get("rule", []):
            active = np.ones(n, dtype=bool)
            if r.get("until") == "agi":
                active = t <= agi_period
            provs = np.zeros(np_, dtype=bool)
            provs[[pidx[x] for x in r["providers"]]] = True
            for name in r["workloads"]:
                allowed[widx[name]] &= np.where(active[:, None], provs[None, :], True)
        count = allowed.sum(axis=2)
        order_w = np.argsort(count * nw + np.arange(nw)[:, None], axis=0, kind="stable")

        reserved_left = np.repeat(res_gpus[t][:, None], n, axis=1)
        market_cap = avail[:, None] * tranche[t]
        market_left = market_cap.copy()
        order_p = np.argsort(price, axis=0, kind="stable")
        served = np.zeros((np_, n))
        unmet = np.zeros((nw, n))
        for i in range(nw):
            w = order_w[i]
            rem = demand[w, ar]
            ok = allowed[w, ar]  # paths x providers
            for p in range(np_):
                take = np.where(ok[:, p], np.minimum(rem, reserved_left[p]), 0.0)
                take = np.maximum(take, 0.0)
                reserved_left[p] -= take
                served[p] += take
                rem = rem - take
            for r in range(np_):
                q = order_p[r]
                left = market_left[q, ar]
                take = np.maximum(np.where(ok[ar, q], np.minimum(rem, left), 0.0), 0.0)
                market_left[q, ar] = left - take
                served[q, ar] += take
                rem = rem - take
            unmet[w, ar] = np.maximum(rem, 0.0)

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
        per[:, t, 0], per[:, t, 1], per[:, t, 2], per[:, t, 3] = cash, total, srv, um
        per[:, t, 4:4 + np_] = (market_cap + res_gpus[t][:, None]).T
        per[:, t, 4 + np_:4 + 2 * np_] = served.T
        per[:, t, 4 + 2 * np_:] = price.T
        tot["cash"] += cash
        tot["npv"] += cash * discount[t]
        tot["short"] += short
        tot["served"] += srv * H
        tot["unmet"] += um * H
        tot["true_up"] += true_up

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
    names = [c.get("name") for c in sc.get("contract", []) if c["kind"] == "commitment"]
    for c, (p, amount, _, _, open_at_end) in enumerate(commits):
        out[f"true_up.{names[c]}"] = true_up_c[c]
        out[f"unsettled.{names[c]}"] = np.maximum(amount - paid_c[c], 0.0) if open_at_end else np.zeros(n)
    return out, per


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: numpy_reference.py SCENARIO.toml PATHS")
    with open(sys.argv[1], "rb") as f:
        sc = tomllib.load(f)
    paths = int(sys.argv[2])
    rng = np.random.default_rng(sc.get("simulation", {}).get("seed", 1))
    t0 = time.process_time()
    out, per = simulate(sc, paths, rng)
    totals = np.column_stack(list(out.values()))
    summaries = [summarise(totals), summarise(per.reshape(paths, -1))]
    elapsed = time.process_time() - t0
    pp = paths * sc["periods"]
    print(f"# numpy {np.__version__}: {paths} paths x {sc['periods']} periods in {elapsed:.2f} s CPU = {pp / elapsed / 1e6:.2f} M path-periods/s", file=sys.stderr)
    mean, stderr = summaries[0][0], summaries[0][1]
    print("metric,mean,stderr")
    for i, k in enumerate(out):
        print(f"{k},{float(mean[i])!r},{float(stderr[i])!r}")


if __name__ == "__main__":
    main()
