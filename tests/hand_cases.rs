//! Zero-volatility cases computed by hand for every mechanism of MODEL.md
//! sections 4-8 and every allocation rule of section 7.

use crate::util::*;

const Q: f64 = 2190.0; // hours in a quarter

fn head(periods: usize, period: &str) -> String {
    format!("name = \"hand\"\nstart = \"2026-01\"\nperiods = {periods}\nperiod = \"{period}\"\n")
}

#[test]
fn pro_rata_tranches_and_availability() {
    let text = head(3, "quarter")
        + r#"
[[workload]]
name = "w"
demand = 0
[[provider]]
name = "p"
price = 1
availability = 0.5
  [[provider.tranche]]
  gpus = 1200
  online = "2026-02"
  [[provider.tranche]]
  gpus = 600
  online = "2026-06"
"#;
    // tau = 1: period 0 holds (3 - 1) / 3 of it; tau = 5: period 1 holds 1/3.
    let r = OnePath::new(&text);
    assert_series(&r.series("capacity.p"), &[400.0, 700.0, 900.0]);
}

#[test]
fn each_period_length() {
    for (period, hours, months) in [
        ("month", 730.0, 1.0),
        ("quarter", 2190.0, 3.0),
        ("year", 8760.0, 12.0),
    ] {
        let text = head(3, period)
            + r#"
[[workload]]
name = "w"
demand = 10
[[provider]]
name = "p"
price = 2
  [[provider.tranche]]
  gpus = 100
  online = "2020-01"
  [[provider.tranche]]
  gpus = 30
  online = "2026-02"
"#;
        let r = OnePath::new(&text);
        assert_close(r.at(0, "cash"), 10.0 * 2.0 * hours);
        // The second tranche (tau = 1 month) in period 0: (m - 1) / m of it.
        assert_close(
            r.at(0, "capacity.p"),
            100.0 + 30.0 * (months - 1.0) / months,
        );
        assert_close(r.total("served_gpu_hours"), 3.0 * 10.0 * hours);
        assert_eq!(
            r.model.period_labels[1],
            if period == "month" {
                "2026-02"
            } else if period == "quarter" {
                "2026-04"
            } else {
                "2027-01"
            }
        );
    }
}

#[test]
fn reserved_pools_used_and_unused() {
    let text = head(4, "quarter")
        + r#"
[[workload]]
name = "w"
demand = 80
[[provider]]
name = "p"
price = 3
  [[provider.tranche]]
  gpus = 1000
  online = "2020-01"
[[contract]]
kind = "reserved"
provider = "p"
gpus = 100
price = 2
from = "2026-02"
to = "2026-07"
[[contract]]
kind = "reserved"
provider = "p"
gpus = 10
price = 1
from = "2026-10"
"#;
    let r = OnePath::new(&text);
    let res0 = 100.0 * 2.0 / 3.0; // months 1-2 of period 0
    let res2 = 100.0 / 3.0; // "2026-07" is month 6, the first of period 2
    let want_cash = [
        res0 * Q * 2.0 + (80.0 - res0) * Q * 3.0,
        100.0 * Q * 2.0, // pool of 100 used for 80, paid for 100
        res2 * Q * 2.0 + (80.0 - res2) * Q * 3.0, // month 6 of period 2
        10.0 * Q * 1.0 + 70.0 * Q * 3.0, // the second contract from 2026-10
    ];
    assert_series(&r.series("cash"), &want_cash);
    assert_series(
        &r.series("capacity.p"),
        &[1000.0 + res0, 1100.0, 1000.0 + res2, 1010.0],
    );
    assert_close(r.total("cash"), want_cash.iter().sum());
    assert_close(r.total("cash.p"), want_cash.iter().sum());
}

/// A provider drained by several takes served exactly its capacity: served
/// is the pools' capacity less what is left. As the sum of the takes
/// (0.1 reserved, then 1.6 and 2.1 of the market pool) it read
/// 3.8000000000000007 against a capacity of 3.8000000000000003, so the
/// quantiles of `served.p` could not be those of `capacity.p` where the
/// provider is full.
#[test]
fn a_drained_provider_served_exactly_its_capacity() {
    let text = head(2, "quarter")
        + r#"
[[workload]]
name = "a"
demand = 1.7
[[workload]]
name = "b"
demand = 1e6
[[provider]]
name = "p"
price = 1
  [[provider.tranche]]
  gpus = 3.7
  online = "2020-01"
[[contract]]
kind = "reserved"
provider = "p"
gpus = 0.1
price = 1
"#;
    let r = OnePath::new(&text);
    for t in 0..2 {
        assert_eq!(r.at(t, "served.p"), r.at(t, "capacity.p"), "period {t}");
        assert_eq!(r.at(t, "served"), r.at(t, "capacity.p"), "period {t}");
    }
    assert_eq!(r.at(0, "capacity.p"), 3.7 + 0.1);
    assert_close(r.at(0, "unmet"), 1e6 + 1.7 - 3.8);
}

#[test]
fn reserved_before_cheaper_market_and_file_order_ties() {
    let text = head(1, "quarter")
        + r#"
[[workload]]
name = "w"
demand = 100
[[provider]]
name = "cheap"
price = 0.5
  [[provider.tranche]]
  gpus = 1000
  online = "2020-01"
[[provider]]
name = "twin"
price = 0.5
  [[provider.tranche]]
  gpus = 1000
  online = "2020-01"
[[provider]]
name = "res"
price = 9
[[contract]]
kind = "reserved"
provider = "res"
gpus = 30
price = 5
"#;
    let r = OnePath::new(&text);
    // Reserved (cost 0) first, then the cheapest market pool; equal prices
    // go by file order, so "twin" gets nothing.
    assert_close(r.at(0, "served.res"), 30.0);
    assert_close(r.at(0, "served.cheap"), 70.0);
    assert_close(r.at(0, "served.twin"), 0.0);
    assert_close(r.at(0, "cash"), 30.0 * Q * 5.0 + 70.0 * Q * 0.5);
}

#[test]
fn owned_capex_opex_depreciation() {
    let text = head(8, "quarter")
        + r#"
[[workload]]
name = "w"
demand = 40
[[provider]]
name = "own"
kind = "owned"
price = 0.5
capex_per_gpu = 1000
life_years = 1
  [[provider.tranche]]   # sunk: online before start
  gpus = 50
  online = "2025-01"
  [[provider.tranche]]   # tau = 3: capex in period 1
  gpus = 100
  online = "2026-04"
  [[provider.tranche]]   # tau = 21: capex in period 7, 3 months depreciated
  gpus = 10
  online = "2027-10"
  [[provider.tranche]]   # tau = 24 = horizon: nothing
  gpus = 7
  online = "2028-01"
  [[provider.tranche]]   # never delivers: no capex
  gpus = 1000
  online = "2026-01"
  failure = 1.0
"#;
    let r = OnePath::new(&text);
    let opex = 40.0 * Q * 0.5;
    let mut want = vec![opex; 8];
    want[1] += 100.0 * 1000.0;
    want[7] += 10.0 * 1000.0;
    assert_series(&r.series("cash"), &want);
    assert_close(r.total("capex"), 110_000.0);
    assert_close(
        r.total("depreciation"),
        100_000.0 + 10.0 * 1000.0 / 12.0 * 3.0,
    );
    assert_close(r.total("cash.own"), 8.0 * opex + 110_000.0);
    assert_series(&r.series("capacity.own")[..2], &[50.0, 150.0]);
}

#[test]
fn depreciation_is_cut_at_the_horizon_with_long_lives() {
    let text = head(8, "quarter")
        + r#"
[[workload]]
name = "w"
demand = 0
[[provider]]
name = "own"
kind = "owned"
price = 0
capex_per_gpu = 1200
life_years = 10
  [[provider.tranche]]
  gpus = 100
  online = "2026-04"
"#;
    let r = OnePath::new(&text);
    // 120000 over 120 months = 1000 a month, for months 3..24.
    assert_close(r.total("depreciation"), 21.0 * 1000.0);
}

/// A life that ends inside the horizon depreciates the capex exactly,
/// however short (MODEL.md: "so it sums to the capex"). It was the
/// monthly amount times the months: the capex plus round-off, 0 for a
/// life below the last digit of the month it starts (1e-200 years), and
/// not a number below that (1e-300: the run refused as overflowed).
#[test]
fn depreciation_sums_to_the_capex_exactly() {
    for life in ["1", "0.3", "0.05", "1e-10", "1e-200", "1e-300"] {
        let text = head(8, "quarter")
            + &format!(
                r#"
[[workload]]
name = "w"
demand = 0
[[provider]]
name = "own"
kind = "owned"
price = 0
capex_per_gpu = 41400
life_years = {life}
  [[provider.tranche]]
  gpus = 7
  online = "2026-04"
  [[provider.tranche]]
  gpus = 3
  online = "2026-11"
"#
            );
        let r = OnePath::new(&text);
        assert_eq!(r.total("capex"), 414_000.0, "{life}");
        assert_eq!(r.total("depreciation"), 414_000.0, "{life}");
    }
}

#[test]
fn commitment_true_up_and_unsettled() {
    let text = head(8, "quarter")
        + r#"
[[workload]]
name = "w"
demand = 100
[[provider]]
name = "p"
price = 1
  [[provider.tranche]]
  gpus = 1000
  online = "2020-01"
[[contract]]
kind = "commitment"
provider = "p"
amount = 1e6
from = "2026-01"
to = "2026-12"
[[contract]]
name = "covered"
kind = "commitment"
provider = "p"
amount = 1e6
from = "2026-04"
to = "2030-12"
[[contract]]
name = "open"
kind = "commitment"
provider = "p"
amount = 5e6
[[contract]]
name = "expired"
kind = "commitment"
provider = "p"
amount = 5e6
from = "2024-01"
to = "2025-06"
"#;
    let r = OnePath::new(&text);
    let spend = 100.0 * Q;
    let tu = 1e6 - 4.0 * spend; // periods 0..3 fall in [2026-01, 2026-12]
    assert_close(r.at(3, "cash"), spend + tu);
    assert_close(r.total("true_up.commitment-p-0"), tu);
    assert_close(r.total("true_up"), tu);
    assert_close(r.total("unsettled.commitment-p-0"), 0.0);
    assert_close(r.total("unsettled.covered"), 0.0);
    assert_close(r.total("unsettled.open"), 5e6 - 8.0 * spend);
    assert_close(r.total("true_up.open"), 0.0);
    assert_close(r.total("true_up.expired"), 0.0);
    assert_close(r.total("unsettled.expired"), 0.0);
    assert_close(r.total("cash"), 8.0 * spend + tu);
    assert_close(r.total("cash.p"), 8.0 * spend + tu);
}

#[test]
fn backlog_is_carried_and_charged_each_period() {
    let text = head(3, "quarter")
        + r#"
[[workload]]
name = "w"
demand = 100
shortfall_price = 2
deferrable = true
[[provider]]
name = "p"
price = 1
  [[provider.tranche]]
  gpus = 80
  online = "2020-01"
"#;
    let r = OnePath::new(&text);
    assert_series(&r.series("demand"), &[100.0, 120.0, 140.0]);
    assert_series(&r.series("served"), &[80.0, 80.0, 80.0]);
    assert_series(&r.series("unmet"), &[20.0, 40.0, 60.0]);
    assert_close(r.total("unmet_gpu_hours"), 120.0 * Q);
    assert_close(r.total("shortfall_cost"), 120.0 * Q * 2.0);
    assert_close(r.total("economic"), r.total("cash") + 120.0 * Q * 2.0);
    // Not deferrable: nothing carried.
    let r = OnePath::new(&text.replace("deferrable = true", "deferrable = false"));
    assert_series(&r.series("unmet"), &[20.0, 20.0, 20.0]);
}

#[test]
fn npv_discounts_each_period() {
    let text = head(3, "year")
        + r#"
discount_rate = 0.1
[[workload]]
name = "w"
demand = 10
[[provider]]
name = "p"
price = 1
  [[provider.tranche]]
  gpus = 100
  online = "2020-01"
"#;
    let r = OnePath::new(&text);
    let c = 10.0 * 8760.0;
    assert_close(
        r.total("npv"),
        c / 1.1 + c / 1.1f64.powi(2) + c / 1.1f64.powi(3),
    );
    let q = OnePath::new(&text.replace(
        "periods = 3\nperiod = \"year\"",
        "periods = 2\nperiod = \"quarter\"",
    ));
    let c = 10.0 * Q;
    assert_close(
        q.total("npv"),
        c * 1.1f64.powf(-0.25) + c * 1.1f64.powf(-0.5),
    );
}

fn two_providers(rules: &str, demand_x: f64, demand_api: f64) -> String {
    head(4, "quarter")
        + &format!(
            r#"
[[workload]]
name = "x"
demand = {demand_x}
[[workload]]
name = "api"
demand = {demand_api}
[[provider]]
name = "a"
price = 3
  [[provider.tranche]]
  gpus = 150
  online = "2020-01"
[[provider]]
name = "b"
price = 1
  [[provider.tranche]]
  gpus = 50
  online = "2020-01"
[[provider]]
name = "c"
price = 5
  [[provider.tranche]]
  gpus = 1000
  online = "2020-01"
{rules}
"#
        )
}

#[test]
fn exclusive_serves_fewest_allowed_first() {
    let rules = r#"
[[rule]]
kind = "exclusive"
workloads = ["api"]
providers = ["a"]
"#;
    // x comes first in the file, but api (1 allowed provider) goes first and
    // takes a's 150; x then walks b (cheapest) and c.
    let r = OnePath::new(&two_providers(rules, 100.0, 150.0));
    assert_close(r.at(0, "served.a"), 150.0);
    assert_close(r.at(0, "served.b"), 50.0);
    assert_close(r.at(0, "served.c"), 50.0);
    assert_close(r.at(0, "unmet"), 0.0);
    // Without the rule, x (file order) takes b then a; api takes a's rest then c.
    let r = OnePath::new(&two_providers("", 100.0, 150.0));
    assert_close(r.at(0, "served.b"), 50.0);
    assert_close(r.at(0, "served.a"), 150.0);
    assert_close(r.at(0, "served.c"), 50.0);
}

#[test]
fn exclusive_rules_intersect_and_empty_means_unmet() {
    let rules = r#"
[[rule]]
kind = "exclusive"
workloads = ["api"]
providers = ["a", "b"]
[[rule]]
kind = "exclusive"
workloads = ["api", "x"]
providers = ["b", "c"]
"#;
    // api: {a,b} & {b,c} = {b}; x: {b,c}; api goes first.
    let r = OnePath::new(&two_providers(rules, 100.0, 80.0));
    assert_close(r.at(0, "served.b"), 50.0);
    assert_close(r.at(0, "served.a"), 0.0);
    assert_close(r.at(0, "served.c"), 100.0);
    assert_close(r.at(0, "unmet"), 30.0);
    let rules = r#"
[[rule]]
kind = "exclusive"
workloads = ["api"]
providers = ["a"]
[[rule]]
kind = "exclusive"
workloads = ["api"]
providers = ["b"]
"#;
    let r = OnePath::new(&two_providers(rules, 0.0, 80.0));
    assert_close(r.at(0, "unmet"), 80.0);
    assert_close(r.at(0, "served"), 0.0);
}

#[test]
fn first_refusal_taken_and_declined() {
    let rule = |accept: f64, workloads: &str| {
        format!(
            "[[rule]]\nkind = \"first_refusal\"\nprovider = \"c\"\n{workloads}accept = {accept}\n"
        )
    };
    // Taken (accept = 1): x goes to c first, ahead of cheaper b and a.
    let r = OnePath::new(&two_providers(
        &rule(1.0, "workloads = [\"x\"]\n"),
        100.0,
        0.0,
    ));
    assert_series(&r.series("served.c"), &[100.0; 4]);
    // Declined (accept = 0): price order.
    let r = OnePath::new(&two_providers(
        &rule(0.0, "workloads = [\"x\"]\n"),
        100.0,
        0.0,
    ));
    assert_series(&r.series("served.b"), &[50.0; 4]);
    assert_series(&r.series("served.a"), &[50.0; 4]);
    // Only for the workloads it names: api is not offered.
    let r = OnePath::new(&two_providers(
        &rule(1.0, "workloads = [\"x\"]\n"),
        0.0,
        100.0,
    ));
    assert_series(&r.series("served.c"), &[0.0; 4]);
    // Default: every workload.
    let r = OnePath::new(&two_providers(&rule(1.0, ""), 0.0, 100.0));
    assert_series(&r.series("served.c"), &[100.0; 4]);
}

#[test]
fn first_refusal_accept_frequency() {
    // accept = 0.3: the offer is taken in ~30% of periods (one draw per period).
    let text = two_providers(
        "[[rule]]\nkind = \"first_refusal\"\nprovider = \"c\"\naccept = 0.3\n",
        10.0,
        0.0,
    )
    .replace("periods = 4", "periods = 400");
    let r = OnePath::new(&text);
    let taken = r.series("served.c").iter().filter(|&&x| x > 0.0).count() as f64;
    let se = (0.3 * 0.7 / 400.0f64).sqrt();
    assert!((taken / 400.0 - 0.3).abs() < 4.0 * se, "{taken}");
}

#[test]
fn min_share_target_on_total_demand() {
    let rules = "[[rule]]\nkind = \"min_share\"\nprovider = \"c\"\nshare = 0.4\n";
    // total = 100 + 50 = 150 (both workloads): c must reach 60 before price order.
    let r = OnePath::new(&two_providers(rules, 100.0, 50.0));
    assert_close(r.at(0, "served.c"), 60.0);
    assert_close(r.at(0, "served.b"), 50.0);
    assert_close(r.at(0, "served.a"), 40.0);
}

#[test]
fn max_share_caps_everything_a_provider_serves() {
    let rules = "[[rule]]\nkind = \"max_share\"\nprovider = \"b\"\nshare = 0.1\n";
    let r = OnePath::new(&two_providers(rules, 100.0, 100.0));
    assert_close(r.at(0, "served.b"), 20.0);
    assert_close(r.at(0, "served.a"), 150.0);
    assert_close(r.at(0, "served.c"), 30.0);
}

#[test]
fn min_and_max_share_together_the_cap_wins_and_largest_min_counts() {
    let rules = r#"
[[rule]]
kind = "min_share"
provider = "c"
share = 0.2
[[rule]]
kind = "min_share"
provider = "c"
share = 0.5
[[rule]]
kind = "max_share"
provider = "c"
share = 0.6
[[rule]]
kind = "max_share"
provider = "c"
share = 0.3
"#;
    let r = OnePath::new(&two_providers(rules, 100.0, 0.0));
    // target 50 (largest min), cap 30 (smallest max): c serves 30.
    assert_close(r.at(0, "served.c"), 30.0);
    assert_close(r.at(0, "served.b"), 50.0);
    assert_close(r.at(0, "served.a"), 20.0);
}

#[test]
fn pass_order_min_share_then_first_refusal_then_price() {
    let rules = r#"
[[rule]]
kind = "min_share"
provider = "a"
share = 0.2
[[rule]]
kind = "first_refusal"
provider = "c"
accept = 1.0
"#;
    // Pass 1: a to 20; pass 2: c takes the rest.
    let r = OnePath::new(&two_providers(rules, 100.0, 0.0));
    assert_close(r.at(0, "served.a"), 20.0);
    assert_close(r.at(0, "served.c"), 80.0);
    assert_close(r.at(0, "served.b"), 0.0);
    // A min_share provider the workload may not use is skipped in pass 1.
    let rules2 = format!("{rules}\n[[rule]]\nkind = \"exclusive\"\nworkloads = [\"x\"]\nproviders = [\"b\", \"c\"]\n");
    let r = OnePath::new(&two_providers(&rules2, 100.0, 0.0));
    assert_close(r.at(0, "served.a"), 0.0);
    assert_close(r.at(0, "served.c"), 100.0);
}

#[test]
fn rules_switch_with_dates() {
    let rules = r#"
[[rule]]
kind = "exclusive"
workloads = ["x"]
providers = ["c"]
from = "2026-04"
until = "2026-09"
"#;
    let r = OnePath::new(&two_providers(rules, 10.0, 0.0));
    assert_series(&r.series("served.c"), &[0.0, 10.0, 10.0, 0.0]);
}

#[test]
fn rules_switch_at_agi() {
    // A huge hazard declares AGI at `earliest` (month 6: period 2).
    let rules = r#"
[agi]
hazard = 1e12
earliest = "2026-07"
[[rule]]
kind = "exclusive"
workloads = ["x"]
providers = ["c"]
until = "agi"
[[rule]]
kind = "max_share"
provider = "b"
share = 0.0
from = "agi"
"#;
    let r = OnePath::new(&two_providers(rules, 10.0, 0.0));
    // Exclusive through the declaration's period; afterwards x is free, but
    // the max_share of 0 on b (from the next period) sends it to a.
    assert_series(&r.series("served.c"), &[10.0, 10.0, 10.0, 0.0]);
    assert_series(&r.series("served.a"), &[0.0, 0.0, 0.0, 10.0]);
    assert_close(r.total("agi_declared"), 1.0);

    // Declared before start: `until = "agi"` never active, `from = "agi"` from 0.
    let r = OnePath::new(&two_providers(
        &rules.replace("2026-07", "2025-01"),
        10.0,
        0.0,
    ));
    assert_series(&r.series("served.a"), &[10.0; 4]);
    assert_close(r.total("agi_declared"), 1.0);

    // No declaration (hazard 0): `until` stays active, `from` never starts.
    let r = OnePath::new(&two_providers(&rules.replace("1e12", "0"), 10.0, 0.0));
    assert_series(&r.series("served.c"), &[10.0; 4]);
    assert_close(r.total("agi_declared"), 0.0);
}

#[test]
fn shares_and_provider_cash_add_up() {
    let rules = "[[rule]]\nkind = \"min_share\"\nprovider = \"c\"\nshare = 0.4\n";
    let r = OnePath::new(&two_providers(rules, 100.0, 50.0));
    let shares: f64 = ["a", "b", "c"]
        .iter()
        .map(|p| r.total(&format!("share.{p}")))
        .sum();
    assert_close(shares, 1.0);
    let cash: f64 = ["a", "b", "c"]
        .iter()
        .map(|p| r.total(&format!("cash.{p}")))
        .sum();
    assert_close(cash, r.total("cash"));
    let served: Vec<f64> = r.series("served");
    let unmet = r.series("unmet");
    let demand = r.series("demand");
    for t in 0..4 {
        assert_close(served[t] + unmet[t], demand[t]);
    }
}

/// A scenario without workloads (capacity bought, nothing to serve) runs:
/// reserved contracts are still paid, demand and served are zero; so does
/// one with neither workloads nor providers (every metric zero).
#[test]
fn no_workloads_or_nothing_at_all() {
    let text = head(3, "quarter")
        + r#"
[[provider]]
name = "p"
price = 3
price_volatility = 0.2
[[contract]]
kind = "reserved"
provider = "p"
gpus = 10
price = 2
"#;
    let (m, stats) = run(&text);
    assert_close(
        stats.path_metric(&m, "cash").unwrap().mean,
        3.0 * 10.0 * Q * 2.0,
    );
    let r = OnePath::new(&text);
    assert_series(&r.series("demand"), &[0.0, 0.0, 0.0]);
    assert_series(&r.series("served"), &[0.0, 0.0, 0.0]);
    assert_series(&r.series("capacity.p"), &[10.0, 10.0, 10.0]);

    let (m, stats) = run(&head(3, "quarter"));
    assert_eq!(stats.path_metric(&m, "cash").unwrap().mean, 0.0);
}

/// Rules switch on and off between periods (the kernel rebuilds the allowed
/// sets only when an exclusivity rule or a taken first refusal changes): an
/// exclusivity rule active in the second and third quarters, alone and
/// behind 70 rules that change nothing (the kernel tracks 64 rules' states;
/// past that it rebuilds every period).
#[test]
fn dated_exclusive_rule_switches_on_and_off() {
    let rule = "[[rule]]\nkind = \"exclusive\"\nworkloads = [\"api\"]\nproviders = [\"c\"]\n\
                from = \"2026-04\"\nuntil = \"2026-09\"\n";
    // While the rule holds, api (150, one provider allowed) goes first and
    // takes c's 150; x (100) walks b (50) and a (50). Otherwise x (file
    // order) takes b's 50 and a's 50, api a's 100 and c's 50.
    let r = OnePath::new(&two_providers(rule, 100.0, 150.0));
    assert_series(&r.series("served.a"), &[150.0, 50.0, 50.0, 150.0]);
    assert_series(&r.series("served.b"), &[50.0, 50.0, 50.0, 50.0]);
    assert_series(&r.series("served.c"), &[50.0, 150.0, 150.0, 50.0]);
    let noop = "[[rule]]\nkind = \"exclusive\"\nworkloads = [\"api\", \"x\"]\n\
                providers = [\"a\", \"b\", \"c\"]\n"
        .repeat(70);
    let many = OnePath::new(&two_providers(&(noop + rule), 100.0, 150.0));
    assert_eq!(many.model.rules.len(), 71);
    for name in ["served.a", "served.b", "served.c", "unmet", "cash"] {
        assert_eq!(r.series(name), many.series(name), "{name}");
    }
}
