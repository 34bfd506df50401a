//! Things that are valid but probably not what the user meant: reported by
//! `check` and `run`, never an error.

use super::types::*;

/// Human-readable warnings about a validated scenario.
pub fn warnings(s: &Scenario) -> Vec<String> {
    let mut out = Vec::new();
    let horizon = s.periods as i64 * s.period.months();
    let end = s.month_label(horizon - 1);
    // Annual rates written as percentages (`growth = 30` for 30%): valid,
    // but e^30 a year.
    let mut rate = |field: String, x: f64, limit: f64| {
        if x.abs() > limit {
            out.push(format!(
                "{field} = {x} is {:.0}% a year; a rate is a fraction: {} for {x}%",
                x * 100.0,
                super::percent_as_fraction(x)
            ));
        }
    };
    rate("discount_rate".to_string(), s.discount_rate, 0.999);
    for w in &s.workloads {
        rate(format!("workload.{}.growth", w.name), w.growth, 1.0);
        rate(format!("workload.{}.volatility", w.name), w.volatility, 1.0);
    }
    for p in &s.providers {
        rate(
            format!("provider.{}.price_drift", p.name),
            p.price_drift,
            1.0,
        );
        rate(
            format!("provider.{}.price_volatility", p.name),
            p.price_volatility,
            1.0,
        );
    }
    if s.workloads.is_empty() {
        out.push("no [[workload]]: there is no demand, only contracted spend".to_string());
    }
    if s.providers.is_empty() {
        out.push("no [[provider]]: all demand goes unmet".to_string());
    }
    // Without a shortfall price, unmet demand costs nothing: `economic`
    // is `cash` on every path, and a scenario that serves less looks
    // cheaper. (One workload at 0 among others priced may be meant.)
    if !s.workloads.is_empty() && s.workloads.iter().all(|w| w.shortfall_price == 0.0) {
        out.push(
            "shortfall_price is 0 for every workload: unmet demand costs nothing, so \
             economic cost equals cash; set the cost of one unserved GPU-hour at the top \
             level or per workload"
                .to_string(),
        );
    }
    for (pi, p) in s.providers.iter().enumerate() {
        if p.kind == ProviderKind::Cloud && p.capex_per_gpu > 0.0 {
            out.push(format!(
                "provider.{}.capex_per_gpu = {} has no effect: capex applies to kind = \"owned\" only",
                p.name, p.capex_per_gpu
            ));
        }
        let reserved = s.contracts.iter().any(|c| {
            s.providers[c.provider].name == p.name
                && matches!(c.kind, ContractKind::Reserved { gpus, .. } if gpus > 0.0)
        });
        // (Not for a provider no workload may ever use: its capacity
        // would go unused, as `azure-only` keeps the baseline's providers
        // and gives them none.)
        let check_capacity = !reserved && usable(s, pi);
        if check_capacity && p.tranches.iter().all(|t| t.gpus == 0.0 || t.failure >= 1.0) {
            out.push(format!(
                "provider.{} has no capacity: no tranche that can deliver and no reserved contract",
                p.name
            ));
        } else if check_capacity && p.availability == 0.0 {
            out.push(format!(
                "provider.{} has no capacity: availability = 0 leaves none of its tranches' \
                 GPUs usable, and it has no reserved contract",
                p.name
            ));
        }
        for (i, t) in p.tranches.iter().enumerate() {
            if t.online >= horizon {
                out.push(format!(
                    "provider.{}.tranche.{i}.online = {} is after the horizon ({end}): it never counts",
                    p.name,
                    s.month_label(t.online)
                ));
            }
        }
    }
    for (i, r) in s.rules.iter().enumerate() {
        let kind = r.kind.name();
        match &r.kind {
            RuleKind::Exclusive { workloads, .. } | RuleKind::FirstRefusal { workloads, .. }
                if workloads.is_empty() =>
            {
                out.push(format!(
                    "rule.{i} ({kind}) has workloads = []: it applies to no workload{}",
                    if kind == "first_refusal" {
                        " (without `workloads` it applies to all)"
                    } else {
                        ""
                    }
                ));
            }
            RuleKind::Exclusive {
                workloads,
                providers,
            } if providers.is_empty() => {
                let names: Vec<&str> = workloads
                    .iter()
                    .map(|&w| s.workloads[w].name.as_str())
                    .collect();
                out.push(format!(
                    "rule.{i} (exclusive) has providers = []: while it is active, no provider \
                     may serve {}: all {} demand goes unmet",
                    names.join(", "),
                    if names.len() == 1 { "its" } else { "their" }
                ));
            }
            _ => {}
        }
        if let Bound::Month(u) = r.until {
            if u < 0 {
                out.push(format!(
                    "rule.{i} ({}) ends before start: it is never active",
                    r.kind.name()
                ));
            }
        }
        if let Bound::Month(f) = r.from {
            if f >= horizon {
                out.push(format!(
                    "rule.{i} ({}) starts after the horizon: it is never active",
                    r.kind.name()
                ));
            }
        }
        // Policy `optimal` solves each period's programme without offers
        // (docs/MODEL.md): the rule's draws are made, its offers never.
        if matches!(r.kind, RuleKind::FirstRefusal { .. }) && s.simulation.policy == Policy::Optimal
        {
            out.push(format!(
                "rule.{i} (first_refusal) has no effect under policy = \"optimal\", which \
                 allocates each period at least cost and makes no offers; policy = \"priority\" \
                 applies it"
            ));
        }
        if (r.from == Bound::Agi || r.until == Bound::Agi) && s.agi.is_none() {
            out.push(format!(
                "rule.{i} ({}) switches at AGI but there is no [agi] table: AGI is never declared",
                r.kind.name()
            ));
        }
    }
    if let Some(a) = &s.agi {
        if a.hazard > 0.0 && a.earliest >= horizon {
            out.push(format!(
                "agi.earliest = {} is after the horizon ({end}): AGI is never declared, so \
                 until = \"agi\" rules stay active and from = \"agi\" rules never start",
                s.month_label(a.earliest)
            ));
        }
    }
    prices(s, &mut out);
    for c in &s.contracts {
        if let Some(to) = c.to {
            if to < 0 {
                out.push(format!(
                    "contract.{} ends before start: it has no effect",
                    c.name
                ));
            }
        }
        // (A commitment starting after the horizon still reports its
        // amount as unsettled.)
        if let (Some(from), ContractKind::Reserved { .. }) = (c.from, &c.kind) {
            if from >= horizon {
                out.push(format!(
                    "contract.{} starts after the horizon ({end}): its reserved GPUs never count",
                    c.name
                ));
            }
        }
    }
    // (1e300 written out is 301 digits.)
    out.iter().map(|w| super::short_numbers(w)).collect()
}

/// Whether some workload may use provider `p` in some period: not if
/// every workload has an exclusive rule without `p` that is active over
/// the whole horizon (from its start, until past its end or an AGI that
/// cannot come).
fn usable(s: &Scenario, p: usize) -> bool {
    let horizon = s.periods as i64 * s.period.months();
    let no_agi = match &s.agi {
        None => true,
        Some(a) => a.hazard == 0.0 || a.earliest >= horizon,
    };
    let always = |r: &Rule| {
        let from = match r.from {
            Bound::Open => true,
            Bound::Month(f) => f <= 0,
            Bound::Agi => false,
        };
        let until = match r.until {
            Bound::Open => true,
            Bound::Month(u) => u >= horizon,
            Bound::Agi => no_agi,
        };
        from && until
    };
    s.workloads.is_empty()
        || (0..s.workloads.len()).any(|w| {
            !s.rules.iter().any(|r| match &r.kind {
                RuleKind::Exclusive {
                    workloads,
                    providers,
                } => always(r) && workloads.contains(&w) && !providers.contains(&p),
                _ => false,
            })
        })
}

/// The warnings of a loaded scenario: [`warnings`], and those of its
/// `--set`s ([`set_warnings`], reading its file once more where needed).
pub fn warnings_of(l: &super::Loaded) -> Vec<String> {
    let mut out = warnings(&l.scenario);
    if moves_horizon(l) {
        if let Ok(file) = super::load_file(&l.file, &[]) {
            out.extend(set_warnings(l, &file.scenario));
        }
    }
    out
}

/// Whether `l`'s `--set`s may move its horizon: they set `period` and not
/// `periods` (28 quarters become 28 months). Only then do
/// [`set_warnings`] need the file's own scenario.
pub fn moves_horizon(l: &super::Loaded) -> bool {
    let sets = |field: &str| {
        l.override_paths
            .iter()
            .any(|p| matches!(&p[..], [super::locate::Seg::Key(k)] if k == field))
    };
    sets("period") && !sets("periods")
}

/// The warnings of `l`'s `--set`s against `file`, its file's own scenario
/// (loaded without them): a `period` without `periods` that moves the
/// horizon, with the `periods` that keeps it.
pub fn set_warnings(l: &super::Loaded, file: &Scenario) -> Option<String> {
    if !moves_horizon(l) {
        return None;
    }
    horizon_moved(file, &l.scenario)
}

/// `s` with another `period` than `file` and the same `periods`: the
/// horizon it covers, and the `periods` that covers the file's.
fn horizon_moved(file: &Scenario, s: &Scenario) -> Option<String> {
    let months = |x: &Scenario| x.periods as i64 * x.period.months();
    let (had, has) = (months(file), months(s));
    if had == has {
        return None;
    }
    let per = s.period.months();
    let keep = (had + per - 1) / per;
    let how = if keep * per == had {
        format!("--set periods={keep} keeps it")
    } else {
        format!(
            "no whole number of {}s covers it exactly; --set periods={keep} runs to {}",
            s.period.as_str(),
            s.month_label(keep * per - 1)
        )
    };
    Some(format!(
        "--set period={} keeps periods = {}: the horizon is {} {}s, {} to {}, where the \
         file's {} {}s run to {}; {how}",
        s.period.as_str(),
        s.periods,
        s.periods,
        s.period.as_str(),
        s.month_label(0),
        s.month_label(has - 1),
        file.periods,
        file.period.as_str(),
        file.month_label(had - 1),
    ))
}

/// Currencies within a few times the US dollar, where a GPU-hour costs a
/// few units and a data-centre GPU tens of thousands: in these, a price
/// above [`MOST_PER_GPU_HOUR`] is likely a price per month or year, and
/// capex below [`LEAST_CAPEX_PER_GPU`] one in thousands. Other currencies
/// get no such warning.
const DOLLAR_LIKE: [&str; 8] = ["USD", "EUR", "GBP", "CHF", "CAD", "AUD", "NZD", "SGD"];
const MOST_PER_GPU_HOUR: f64 = 100.0;
const LEAST_CAPEX_PER_GPU: f64 = 1000.0;

/// Prices and capex in the wrong unit (a monthly price for an hourly one,
/// capex in thousands), in the currencies where the sizes are known.
fn prices(s: &Scenario, out: &mut Vec<String>) {
    let cur = s.currency.as_str();
    if !DOLLAR_LIKE.contains(&cur) {
        return;
    }
    let month = crate::model::HOURS_PER_YEAR / 12.0;
    let hourly = |field: String, x: f64| {
        (x > MOST_PER_GPU_HOUR).then(|| {
            format!(
                "{field} = {x} {cur} per GPU-hour is above {MOST_PER_GPU_HOUR}, beyond any \
                 GPU's hourly price; prices are per GPU-hour: {x} a month is {:.2} an hour",
                x / month
            )
        })
    };
    for p in &s.providers {
        out.extend(hourly(format!("provider.{}.price", p.name), p.price));
        let capex = p.capex_per_gpu;
        if p.kind == ProviderKind::Owned && capex > 0.0 && capex < LEAST_CAPEX_PER_GPU {
            out.push(format!(
                "provider.{}.capex_per_gpu = {capex} {cur} is below {LEAST_CAPEX_PER_GPU} a \
                 GPU, where a data-centre GPU costs tens of thousands: {} for {capex}K?",
                p.name,
                capex * 1000.0
            ));
        }
    }
    for c in &s.contracts {
        if let ContractKind::Reserved { price, .. } = c.kind {
            out.extend(hourly(format!("contract.{}.price", c.name), price));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};

    fn shipped() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")
    }

    /// The warnings of the shipped baseline with `sets`.
    fn baseline_with(sets: &[&str]) -> Vec<String> {
        let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        let file = shipped().join("baseline.toml");
        warnings(&crate::scenario::load_file(&file, &sets).unwrap().scenario)
    }

    /// Each shipped scenario with its warnings.
    fn shipped_warnings() -> Vec<(PathBuf, Vec<String>)> {
        let mut out = Vec::new();
        for f in crate::scenario::toml_files(&shipped()).unwrap() {
            let l = crate::scenario::load_file(&f, &[]).unwrap();
            out.push((f, warnings(&l.scenario)));
        }
        assert!(out.len() >= 10, "{out:?}");
        out
    }

    #[test]
    fn flags_ineffective_settings() {
        let text = r#"
name = "w"
start = "2026-01"
periods = 4
[[workload]]
name = "api"
demand = 1
[[provider]]
name = "cloud"
price = 1
capex_per_gpu = 5
  [[provider.tranche]]
  gpus = 10
  online = "2030-01"
[[rule]]
kind = "exclusive"
workloads = ["api"]
providers = ["cloud"]
until = "agi"
"#;
        let l = crate::scenario::load_str(Path::new("w.toml"), text, &[]).unwrap();
        let w = warnings(&l.scenario);
        assert!(w.iter().any(|x| x.contains("capex_per_gpu")), "{w:?}");
        assert!(w.iter().any(|x| x.contains("after the horizon")), "{w:?}");
        assert!(w.iter().any(|x| x.contains("no [agi] table")), "{w:?}");
        assert!(!w.iter().any(|x| x.starts_with("no [[")), "{w:?}");
        let empty = "name = \"e\"\nstart = \"2026-01\"\nperiods = 4\n";
        let l = crate::scenario::load_str(Path::new("e.toml"), empty, &[]).unwrap();
        let w = warnings(&l.scenario);
        assert!(w.iter().any(|x| x.starts_with("no [[workload]]")), "{w:?}");
        assert!(w.iter().any(|x| x.starts_with("no [[provider]]")), "{w:?}");
        let w = baseline_with(&[]);
        assert!(w.is_empty(), "{w:?}");
        // No usable GPUs: availability 0 and no reserved contract (Google
        // has none in the baseline; Oracle's reserved pool ignores it).
        let w = baseline_with(&["provider.google.availability=0"]);
        assert_eq!(
            w,
            [
                "provider.google has no capacity: availability = 0 leaves none of its \
              tranches' GPUs usable, and it has no reserved contract"
            ]
        );
        assert!(baseline_with(&["provider.oracle.availability=0"]).is_empty());
        // Not for a provider no workload may ever use: azure-only's rule
        // keeps every workload on Azure over the whole horizon, and its
        // other providers have none. Where the rule can end (at an AGI that
        // may come), or leaves a workload free, they do.
        let azure_only = |sets: &[&str]| {
            let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
            let file = shipped().join("azure-only.toml");
            warnings(&crate::scenario::load_file(&file, &sets).unwrap().scenario)
        };
        assert!(azure_only(&[]).is_empty(), "{:?}", azure_only(&[]));
        let none = |w: &[String]| {
            let names: Vec<&str> = w
                .iter()
                .filter(|x| x.contains("has no capacity"))
                .map(|x| x.split(' ').next().unwrap())
                .collect();
            names.join(" ")
        };
        let all = "provider.oracle provider.aws provider.stargate";
        assert_eq!(none(&azure_only(&["rule.0.until=agi"])), all);
        assert_eq!(none(&azure_only(&["rule.0.until=2032-06"])), all);
        assert_eq!(none(&azure_only(&["rule.0.from=2026-04"])), all);
        assert_eq!(
            none(&azure_only(&[r#"rule.0.workloads=["api", "product"]"#])),
            all
        );
        // Its other warnings stay: a tranche online after the horizon.
        assert_eq!(
            azure_only(&["provider.aws.tranche.0.online=2033-01"]),
            [
                "provider.aws.tranche.0.online = 2033-01 is after the horizon (2032-12): it never \
              counts"
            ]
        );
        // Active to the horizon's end, or until an AGI that cannot come.
        assert_eq!(none(&azure_only(&["rule.0.until=2033-01"])), "");
        assert_eq!(none(&azure_only(&["rule.0.until=agi", "agi.hazard=0"])), "");
        // An AGI that cannot be declared within the horizon (2026-01 to
        // 2032-12); none for one that can, in its last month.
        assert_eq!(
            baseline_with(&["agi.earliest=2033-01"]),
            [
                "agi.earliest = 2033-01 is after the horizon (2032-12): AGI is never declared, \
              so until = \"agi\" rules stay active and from = \"agi\" rules never start"
            ]
        );
        assert!(baseline_with(&["agi.earliest=2032-12"]).is_empty());
        // A reserved contract that starts after the horizon; not a
        // commitment, whose amount is then unsettled.
        assert_eq!(
            baseline_with(&[
                "contract.oracle-oci.from=2033-01",
                "contract.oracle-oci.to=2034-12"
            ]),
            [
                "contract.oracle-oci starts after the horizon (2032-12): its reserved GPUs never \
              count"
            ]
        );
        assert!(baseline_with(&[
            "contract.oracle-oci.from=2032-12",
            "contract.oracle-oci.to=2034-12"
        ])
        .is_empty());
        assert!(baseline_with(&[
            "contract.azure-250b.from=2033-01",
            "contract.azure-250b.to=2034-01"
        ])
        .is_empty());
    }

    /// No shortfall price on any workload: economic cost is cash. A
    /// warning then, none while one workload is priced, none on any
    /// shipped scenario.
    #[test]
    fn flags_unpriced_shortfall() {
        let unpriced = "shortfall_price is 0 for every workload: unmet demand costs nothing, so \
                        economic cost equals cash; set the cost of one unserved GPU-hour at the \
                        top level or per workload";
        let all = [
            "shortfall_price=0",
            "workload.api.shortfall_price=0",
            "workload.product.shortfall_price=0",
            "workload.research.shortfall_price=0",
        ];
        assert_eq!(baseline_with(&all), [unpriced]);
        // The workloads' own prices override the top level's.
        assert!(baseline_with(&all[..1]).is_empty());
        assert!(baseline_with(&all[..3]).is_empty());
        // A workload without its own price takes the top level's.
        let text = "name = \"s\"\nstart = \"2026-01\"\nperiods = 4\n\
                    [[workload]]\nname = \"api\"\ndemand = 1\n\
                    [[provider]]\nname = \"cloud\"\nprice = 1\n\
                    [[provider.tranche]]\ngpus = 1\nonline = \"2026-01\"\n";
        let l = crate::scenario::load_str(Path::new("s.toml"), text, &[]).unwrap();
        assert_eq!(warnings(&l.scenario), [unpriced]);
        let set = ["shortfall_price=5".to_string()];
        let l = crate::scenario::load_str(Path::new("s.toml"), text, &set).unwrap();
        assert!(warnings(&l.scenario).is_empty());
        for (f, w) in shipped_warnings() {
            assert!(!w.iter().any(|x| x == unpriced), "{}: {w:?}", f.display());
        }
    }

    /// A rule with an empty list: an exclusive or first-refusal rule for
    /// no workload does nothing, and an exclusive one with no provider
    /// leaves its workloads' demand unmet. Not on any shipped scenario.
    #[test]
    fn flags_rules_with_empty_lists() {
        let w = baseline_with(&["rule.0.providers=[]"]);
        assert_eq!(
            w,
            [
                "rule.0 (exclusive) has providers = []: while it is active, no provider may \
              serve api: all its demand goes unmet"
            ]
        );
        let w = baseline_with(&["rule.0.workloads=[]"]);
        assert_eq!(
            w,
            ["rule.0 (exclusive) has workloads = []: it applies to no workload"]
        );
        let w = baseline_with(&[
            "rule.0.workloads=[\"api\", \"product\"]",
            "rule.0.providers=[]",
        ]);
        assert!(w[0].ends_with("no provider may serve api, product: all their demand goes unmet"));
        let text = std::fs::read_to_string(shipped().join("announcement.toml")).unwrap();
        let l = crate::scenario::load_str(Path::new("a.toml"), &text, &[]).unwrap();
        let i = l
            .scenario
            .rules
            .iter()
            .position(|r| r.kind.name() == "first_refusal")
            .expect("the announcement has a right of first refusal");
        let set = [format!("rule.{i}.workloads=[]")];
        let l = crate::scenario::load_str(Path::new("a.toml"), &text, &set).unwrap();
        assert!(
            warnings(&l.scenario).contains(&format!(
                "rule.{i} (first_refusal) has workloads = []: it applies to no workload \
                 (without `workloads` it applies to all)"
            )),
            "{:?}",
            warnings(&l.scenario)
        );
        for (f, w) in shipped_warnings() {
            assert!(
                !w.iter().any(|x| x.contains("= []")),
                "{}: {w:?}",
                f.display()
            );
        }
    }

    /// A monthly price for an hourly one, capex in thousands: a warning
    /// for each in a dollar-like currency, none at the limits, none in a
    /// currency of other sizes, none on any shipped scenario.
    #[test]
    fn flags_prices_in_the_wrong_unit() {
        let wrong = [
            "provider.azure.price=1500",
            "contract.oracle-oci.price=2000",
            "provider.stargate.capex_per_gpu=35",
        ];
        let w = baseline_with(&wrong);
        for expected in [
            "provider.azure.price = 1500 USD per GPU-hour is above 100, beyond any GPU's hourly \
             price; prices are per GPU-hour: 1500 a month is 2.05 an hour",
            "contract.oracle-oci.price = 2000 USD per GPU-hour is above 100",
            "provider.stargate.capex_per_gpu = 35 USD is below 1000 a GPU, where a data-centre \
             GPU costs tens of thousands: 35000 for 35K?",
        ] {
            assert!(
                w.iter().any(|x| x.starts_with(expected)),
                "{expected}: {w:?}"
            );
        }
        assert_eq!(w.len(), 3, "{w:?}");
        let w = baseline_with(&[
            "provider.azure.price=100",
            "contract.oracle-oci.price=100",
            "provider.stargate.capex_per_gpu=1000",
        ]);
        assert!(w.is_empty(), "{w:?}");
        let yen: Vec<&str> = wrong.iter().copied().chain(["currency=JPY"]).collect();
        assert!(baseline_with(&yen).is_empty());
        let unit = |x: &String| x.contains("per GPU-hour is above") || x.contains("a GPU, where");
        for (f, w) in shipped_warnings() {
            assert!(!w.iter().any(unit), "{}: {w:?}", f.display());
        }
    }

    /// `--set period=...` without `periods`: the horizon it moves to, and
    /// the `periods` that keeps the file's.
    #[test]
    fn flags_a_period_set_without_periods() {
        let with = |sets: &[&str]| {
            let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
            let file = shipped().join("baseline.toml");
            warnings_of(&crate::scenario::load_file(&file, &sets).unwrap())
        };
        assert!(with(&["period=month"]).contains(
            &"--set period=month keeps periods = 28: the horizon is 28 months, 2026-01 to \
              2028-04, where the file's 28 quarters run to 2032-12; --set periods=84 keeps it"
                .to_string()
        ));
        for quiet in [
            &["period=month", "periods=84"][..],
            &["period=quarter"],
            &[],
        ] {
            let w = with(quiet);
            assert!(
                !w.iter().any(|w| w.contains("--set period=")),
                "{quiet:?}: {w:?}"
            );
        }
        // A horizon no whole number of the new periods covers.
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("ten.toml");
        let text = std::fs::read_to_string(shipped().join("baseline.toml"))
            .unwrap()
            .replace("periods = 28", "periods = 10");
        std::fs::write(&file, text).unwrap();
        let l = crate::scenario::load_file(&file, &["period=year".to_string()]).unwrap();
        assert!(warnings_of(&l).contains(
            &"--set period=year keeps periods = 10: the horizon is 10 years, 2026-01 to 2035-12, \
              where the file's 10 quarters run to 2028-06; no whole number of years covers it \
              exactly; --set periods=3 runs to 2028-12"
                .to_string()
        ));
    }

    /// A first-refusal rule under policy `optimal`, which makes no
    /// offers: a warning for each; none under `priority`.
    #[test]
    fn flags_first_refusal_under_optimal() {
        let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/golden.toml");
        let load = |sets: &[&str]| {
            let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
            let l = crate::scenario::load_file(&file, &sets).unwrap();
            let refusals: Vec<usize> = (l.scenario.rules.iter().enumerate())
                .filter(|(_, r)| matches!(r.kind, RuleKind::FirstRefusal { .. }))
                .map(|(i, _)| i)
                .collect();
            (warnings(&l.scenario), refusals)
        };
        let (under_priority, refusals) = load(&["simulation.policy=priority"]);
        assert!(!refusals.is_empty());
        assert!(!under_priority.iter().any(|w| w.contains("first_refusal")));
        let (under_optimal, _) = load(&["simulation.policy=optimal"]);
        for i in refusals {
            let w = format!(
                "rule.{i} (first_refusal) has no effect under policy = \"optimal\", which \
                 allocates each period at least cost and makes no offers; policy = \"priority\" \
                 applies it"
            );
            assert!(under_optimal.contains(&w), "{under_optimal:?}");
        }
    }

    /// Annual rates written as percentages: a warning for each, with the
    /// fraction meant; none for rates of plausible size, or on any
    /// shipped scenario.
    #[test]
    fn flags_rates_written_as_percentages() {
        let w = baseline_with(&[
            "discount_rate=8",
            "workload.api.growth=30",
            "workload.product.volatility=1.1",
            "provider.azure.price_drift=-25",
            "provider.aws.price_volatility=45",
        ]);
        for expected in [
            "discount_rate = 8 is 800% a year; a rate is a fraction: 0.08 for 8%",
            "workload.api.growth = 30 is 3000% a year; a rate is a fraction: 0.3 for 30%",
            "workload.product.volatility = 1.1 is 110% a year; a rate is a fraction: 0.011 for 1.1%",
            "provider.azure.price_drift = -25 is -2500% a year; a rate is a fraction: -0.25 for -25%",
            "provider.aws.price_volatility = 45 is 4500% a year; a rate is a fraction: 0.45 for 45%",
        ] {
            assert!(w.iter().any(|x| x == expected), "{expected}: {w:?}");
        }
        assert_eq!(w.len(), 5, "{w:?}");
        // At the limits: no warning.
        let w = baseline_with(&[
            "discount_rate=0.99",
            "workload.api.growth=1",
            "provider.azure.price_drift=-1",
        ]);
        assert!(w.is_empty(), "{w:?}");
        // A huge one in exponent form, not its 301 digits.
        let w = baseline_with(&["workload.api.growth=1e300"]);
        assert!(
            w.len() == 1
                && w[0].starts_with("workload.api.growth = 1e300 is 1e302% a year")
                && w[0].ends_with("e298 for 1e300%")
                && w[0].len() < 120,
            "{w:?}"
        );
        for (f, w) in shipped_warnings() {
            let rate = |x: &String| x.contains("a rate is a fraction");
            assert!(!w.iter().any(rate), "{}: {w:?}", f.display());
        }
    }
}
