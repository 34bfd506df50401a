//! MODEL.md section 10: statistics against closed forms, each with a
//! tolerance of 4 standard errors computed from the run itself.

use crate::util::*;
use capsim::kernel::{simulate_path, NoObserver, Scratch};
use statrs::distribution::{ContinuousCDF, Normal};

const Z: f64 = 4.0;

#[test]
fn cash_mean_with_correlated_demand_and_price() {
    let (demand, price, g, sigma, mu, s, rho) = (1000.0, 2.5, 0.30, 0.25, -0.20, 0.20, 0.5);
    let text = format!(
        r#"
name = "cf-cash"
start = "2026-01"
periods = 12
[simulation]
paths = 40000
seed = 11
[[workload]]
name = "w"
demand = {demand}
growth = {g}
volatility = {sigma}
[[provider]]
name = "p"
price = {price}
price_drift = {mu}
price_volatility = {s}
  [[provider.tranche]]
  gpus = 1e12
  online = "2020-01"
[[correlation]]
between = ["demand/w", "price/p"]
rho = {rho}
"#
    );
    let (m, st) = run(&text);
    let dt = 0.25;
    let h = 8760.0 * dt;
    for t in 0..m.periods {
        let x = st.period_metric(&m, t, "cash").unwrap();
        let want = demand * price * h * ((g + mu + rho * sigma * s) * t as f64 * dt).exp();
        let tol = if t == 0 { 1e-9 * want } else { Z * x.stderr };
        assert!(
            (x.mean - want).abs() <= tol,
            "period {t}: mean {} vs closed form {want} (tol {tol})",
            x.mean
        );
    }
}

#[test]
fn tranche_failure_mean_capacity() {
    let (f, gpus, avail) = (0.3, 1000.0, 0.9);
    let text = format!(
        r#"
name = "cf-fail"
start = "2026-01"
periods = 4
[simulation]
paths = 20000
[[workload]]
name = "w"
demand = 1
[[provider]]
name = "p"
price = 1
availability = {avail}
  [[provider.tranche]]
  gpus = {gpus}
  online = "2025-06"
  failure = {f}
"#
    );
    let (m, st) = run(&text);
    let want = (1.0 - f) * gpus * avail;
    for t in 0..m.periods {
        let x = st.period_metric(&m, t, "capacity.p").unwrap();
        assert!(x.stderr > 0.0);
        assert!(
            (x.mean - want).abs() <= Z * x.stderr,
            "period {t}: {} vs {want} +- {}",
            x.mean,
            Z * x.stderr
        );
    }
}

#[test]
fn lognormal_delay_online_probability() {
    let (median, sigma): (f64, f64) = (4.0, 0.6);
    let text = format!(
        r#"
name = "cf-delay"
start = "2026-01"
periods = 24
period = "month"
[[workload]]
name = "w"
demand = 1
[[provider]]
name = "p"
price = 1
  [[provider.tranche]]
  gpus = 10
  online = "2026-03"
  delay_months = {{ median = {median}, sigma = {sigma} }}
"#
    );
    let m = model(&text);
    let n = 20000;
    let mut s = Scratch::new(&m);
    let mut out = vec![0.0; m.layout.n_path()];
    let mut per = vec![0.0; m.periods * m.layout.n_period()];
    let mut taus = Vec::with_capacity(n);
    for path in 0..n as u64 {
        simulate_path(&m, path, &mut s, &mut out, &mut per, &mut NoObserver);
        taus.push(s.tau[0]);
    }
    let phi = Normal::standard();
    for x in [1.0f64, 2.0, 4.0, 6.0, 10.0] {
        let want = phi.cdf((x.ln() - median.ln()) / sigma);
        let got = taus.iter().filter(|&&tau| tau <= 2.0 + x).count() as f64 / n as f64;
        let se = (want * (1.0 - want) / n as f64).sqrt();
        assert!((got - want).abs() <= Z * se, "x={x}: {got} vs {want}");
    }
    // And the capacity the engine reports follows the same law: a monthly
    // period t has the full tranche iff it came online by month t.
    let (m, st) = run(&text);
    for t in [3usize, 5, 8, 12] {
        let x = st.period_metric(&m, t, "capacity.p").unwrap();
        // E[capacity_t] = gpus * E[clamp(t + 1 - tau, 0, 1)] lies between
        // gpus * P(tau <= t) and gpus * P(tau <= t + 1).
        let p_lo = phi.cdf(((t as f64 - 2.0).ln() - median.ln()) / sigma);
        let p_hi = phi.cdf(((t as f64 - 1.0).ln() - median.ln()) / sigma);
        assert!(x.mean >= 10.0 * p_lo - Z * x.stderr && x.mean <= 10.0 * p_hi + Z * x.stderr);
    }
}

#[test]
fn agi_declaration_probability() {
    let hazard = 0.3;
    for (periods, earliest) in [
        (12, "2026-07"),
        (24, "2026-07"),
        (36, "2026-07"),
        (6, "2025-01"),
    ] {
        let text = format!(
            r#"
name = "cf-agi"
start = "2026-01"
periods = {periods}
period = "month"
[simulation]
paths = 20000
[[workload]]
name = "w"
demand = 1
[agi]
hazard = {hazard}
earliest = "{earliest}"
"#
        );
        let (m, st) = run(&text);
        let e = capsim::scenario::YearMonth::parse(earliest)
            .unwrap()
            .months_since(capsim::scenario::YearMonth::parse("2026-01").unwrap());
        let x = periods as f64; // horizon, months after start
        let want = 1.0 - (-hazard * (x - e as f64) / 12.0).exp();
        let got = st.path_metric(&m, "agi_declared").unwrap();
        assert!(
            (got.mean - want).abs() <= Z * got.stderr,
            "horizon {x}: {} vs {want}",
            got.mean
        );
    }
}

#[test]
fn demand_with_jumps_mean() {
    let (demand, g, sigma, lambda, jm, js) = (500.0, 0.2, 0.15, 2.0, -0.05, 0.2);
    let text = format!(
        r#"
name = "cf-jumps"
start = "2026-01"
periods = 16
[simulation]
paths = 40000
seed = 5
[[workload]]
name = "w"
demand = {demand}
growth = {g}
volatility = {sigma}
jump_rate = {lambda}
jump_mean = {jm}
jump_stdev = {js}
"#
    );
    let (m, st) = run(&text);
    let dt = 0.25;
    for t in 1..m.periods {
        let td = t as f64 * dt;
        let want = demand * (g * td + lambda * td * ((jm + js * js / 2.0_f64).exp() - 1.0)).exp();
        let x = st.period_metric(&m, t, "demand").unwrap();
        assert!(
            (x.mean - want).abs() <= Z * x.stderr,
            "period {t}: {} vs {want} +- {}",
            x.mean,
            Z * x.stderr
        );
    }
}
