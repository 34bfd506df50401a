//! FOCUS 1.2 (FinOps Open Cost and Usage Specification) export: a simulated
//! statistic of spend shaped as cost-and-usage rows that FinOps tools ingest.
//!
//! One row per period, provider and charge type with non-zero mean spend:
//! - `usage`: market (cloud on-demand) or operating (owned) GPU-hours;
//!   ChargeCategory `Usage`, PricingCategory `Standard` (cloud) / `Other` (owned);
//! - `reserved`: reserved-contract capacity, paid used or not;
//!   ChargeCategory `Purchase`, PricingCategory `Committed`,
//!   CommitmentDiscountCategory `Usage` (a quantity of GPUs);
//! - `capex`: owned tranches coming online; ChargeCategory `Purchase`;
//! - `true_up`: take-or-pay commitment shortfall; ChargeCategory `Adjustment`,
//!   CommitmentDiscountCategory `Spend` (an amount of money).
//!
//! Statistic: `mean` is additive, so the rows of a period sum to its mean
//! cash. Quantiles are not additive; for `p50`/`p95` each row is the
//! period's cash quantile allocated pro rata to the row's share of mean
//! spend, so the rows of a period sum to that period's cash quantile.
//!
//! CSV conventions: timestamps `YYYY-MM-DDTHH:mm:ssZ` in UTC with exclusive
//! period ends; a null is an empty field (never 0); custom columns start
//! with `x_`.

use crate::engine::{RunStats, CHARGES};
use crate::error::Result;
use crate::model::{qm, Model};
use crate::scenario::{ProviderKind, Scenario};

pub const COLUMNS: [&str; 34] = [
    "BilledCost",
    "BillingAccountId",
    "BillingAccountName",
    "BillingCurrency",
    "BillingPeriodStart",
    "BillingPeriodEnd",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "ChargePeriodStart",
    "ChargePeriodEnd",
    "ContractedCost",
    "EffectiveCost",
    "InvoiceIssuerName",
    "ListCost",
    "PricingQuantity",
    "PricingUnit",
    "ProviderName",
    "PublisherName",
    "ServiceCategory",
    "ServiceName",
    "PricingCategory",
    "ConsumedQuantity",
    "ConsumedUnit",
    "CommitmentDiscountCategory",
    "CommitmentDiscountId",
    "CommitmentDiscountName",
    "CommitmentDiscountType",
    "x_Scenario",
    "x_Statistic",
    "x_Seed",
    "x_Paths",
    "x_ChargeType",
    "x_Period",
];

/// Which statistic of spend to export.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum FocusStat {
    Mean,
    P50,
    P95,
}

impl FocusStat {
    pub fn as_str(self) -> &'static str {
        match self {
            FocusStat::Mean => "mean",
            FocusStat::P50 => "p50",
            FocusStat::P95 => "p95",
        }
    }
}

fn timestamp(s: &Scenario, month: i64) -> String {
    format!("{}-01T00:00:00Z", s.month_label(month))
}

/// Builds `focus.csv`. `stats` must come from a run with charges recorded.
pub fn focus_csv(s: &Scenario, m: &Model, stats: &RunStats, stat: FocusStat) -> Result<Vec<u8>> {
    let mut w = crate::output::writer();
    w.write_record(COLUMNS)?;
    let np = m.providers.len();
    let nq = m.layout.n_period();
    let nc = CHARGES.len();
    let months = s.period.months();
    for t in 0..m.periods {
        let cash = &stats.period[t * nq + qm::CASH];
        let target = match stat {
            FocusStat::Mean => cash.mean,
            FocusStat::P50 => cash.q(0.50),
            FocusStat::P95 => cash.q(0.95),
        };
        let scale = if stat == FocusStat::Mean || cash.mean == 0.0 {
            1.0
        } else {
            target / cash.mean
        };
        let (start, end) = (
            timestamp(s, t as i64 * months),
            timestamp(s, (t as i64 + 1) * months),
        );
        for p in 0..np {
            let prov = &s.providers[p];
            let owned = prov.kind == ProviderKind::Owned;
            for (c, charge) in CHARGES[..4].iter().enumerate() {
                let mean = stats.charges[(t * np + p) * nc + c].mean;
                if mean == 0.0 {
                    continue;
                }
                let cost = mean * scale;
                let cost_s = cost.to_string();
                let usage_hours = stats.charges[(t * np + p) * nc + 4].mean * scale;
                let reserved_hours = m.reserved_gpus[t * m.providers.len() + p] * m.hours;
                let (category, pricing, description, qty, unit, consumed) = match *charge {
                    "usage" => (
                        "Usage",
                        if owned { "Other" } else { "Standard" },
                        if owned {
                            "Owned GPU capacity, operating cost"
                        } else {
                            "GPU capacity, on demand"
                        },
                        usage_hours.to_string(),
                        "GPU-Hours",
                        usage_hours.to_string(),
                    ),
                    "reserved" => (
                        "Purchase",
                        "Committed",
                        "Reserved GPU capacity (contract), paid used or not",
                        reserved_hours.to_string(),
                        "GPU-Hours",
                        String::new(),
                    ),
                    "capex" => (
                        "Purchase",
                        "Other",
                        "Owned GPU capacity coming online (capital expenditure)",
                        if prov.capex_per_gpu > 0.0 {
                            (cost / prov.capex_per_gpu).to_string()
                        } else {
                            String::new()
                        },
                        "GPUs",
                        String::new(),
                    ),
                    _ => (
                        "Adjustment",
                        "Committed",
                        "Purchase commitment true-up (take-or-pay shortfall)",
                        "1".to_string(),
                        "Commitment",
                        String::new(),
                    ),
                };
                let commitment = matches!(*charge, "reserved" | "true_up");
                let cd_id = if commitment {
                    format!("{}/{}/{}", s.name, prov.name, charge)
                } else {
                    String::new()
                };
                w.write_record([
                    cost_s.as_str(),
                    s.name.as_str(),
                    s.name.as_str(),
                    s.currency.as_str(),
                    start.as_str(),
                    end.as_str(),
                    category,
                    "",
                    description,
                    start.as_str(),
                    end.as_str(),
                    cost_s.as_str(),
                    cost_s.as_str(),
                    prov.name.as_str(),
                    cost_s.as_str(),
                    qty.as_str(),
                    unit,
                    prov.name.as_str(),
                    prov.name.as_str(),
                    "Compute",
                    "GPU capacity",
                    pricing,
                    consumed.as_str(),
                    if consumed.is_empty() { "" } else { "GPU-Hours" },
                    // FOCUS: based on usage quantity (a reserved
                    // contract's GPUs) or on cost (a purchase commitment).
                    match *charge {
                        "reserved" => "Usage",
                        "true_up" => "Spend",
                        _ => "",
                    },
                    cd_id.as_str(),
                    if commitment { description } else { "" },
                    if commitment {
                        if *charge == "reserved" {
                            "Reserved capacity"
                        } else {
                            "Purchase commitment"
                        }
                    } else {
                        ""
                    },
                    s.name.as_str(),
                    stat.as_str(),
                    &s.simulation.seed.to_string(),
                    &stats.paths.to_string(),
                    charge,
                    &t.to_string(),
                ])?;
            }
        }
    }
    crate::output::finish(w)
}
