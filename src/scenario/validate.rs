//! Raw scenario -> validated [`Scenario`]: required fields, ranges (MODEL.md
//! section 11), names, references, dates, and the correlation matrix.

use super::date::YearMonth;
use super::locate::{key, Seg};
use super::raw::*;
use super::types::*;
use crate::model::{MAX_PROVIDERS, MAX_WORKLOADS};
use std::collections::HashMap;

/// A validation failure at a field path.
#[derive(Debug, Clone)]
pub struct VErr {
    pub path: Vec<Seg>,
    pub message: String,
    pub hint: Option<String>,
}

type R<T> = Result<T, VErr>;

fn err<T>(path: Vec<Seg>, message: impl Into<String>) -> R<T> {
    Err(VErr {
        path,
        message: message.into(),
        hint: None,
    })
}

/// `found` is none of `choices`: the message lists them, the hint names the
/// closest.
fn one_of<T>(path: Vec<Seg>, found: &str, choices: &[&str]) -> R<T> {
    let quoted: Vec<String> = choices.iter().map(|c| format!("\"{c}\"")).collect();
    let list = crate::error::or_list(&quoted);
    Err(VErr {
        path,
        message: format!("found \"{found}\", expected {list}"),
        hint: super::did_you_mean(found, choices.iter().copied()),
    })
}

/// A date written another way (`"2026-1"`, `"2026/01"`, `"01/2026"`,
/// `"2026-01-15"`, `"Jan 2026"`, `"15 January 2026"`; `"Q3 2026"` for the
/// quarter's first month): the same month as `"YYYY-MM"`. Not for
/// `"01/02/2026"`, which may be either month.
pub(crate) fn date_hint(s: &str) -> Option<String> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let parts: Vec<&str> = s
        .split(['-', '/', '.', ' ', ','])
        .filter(|p| !p.is_empty())
        .collect();
    let year = |p: &str| {
        (p.len() == 4)
            .then(|| p.parse::<u32>().ok())
            .flatten()
            .filter(|y| (1000..=9999).contains(y))
    };
    let month = |p: &str| {
        p.parse::<u32>()
            .ok()
            .filter(|m| (1..=12).contains(m))
            .or_else(|| {
                let l = p.to_ascii_lowercase();
                // A quarter: its first month.
                if let Some(q) = l.strip_prefix('q').and_then(|q| q.parse::<u32>().ok()) {
                    return (1..=4).contains(&q).then_some(3 * q - 2);
                }
                (l.len() >= 3)
                    .then(|| MONTHS.iter().position(|m| l.starts_with(m)))
                    .flatten()
                    .map(|i| i as u32 + 1)
            })
    };
    let (y, m) = match parts.as_slice() {
        // 2026-1, 2026/01, 2026-01-15, 2026 Jan
        [a, b, ..] if year(a).is_some() => (year(a)?, month(b)?),
        // 01/2026, Jan 2026, January 2026
        [a, b] if year(b).is_some() => (year(b)?, month(a)?),
        // 15 Jan 2026 (not 01/02/2026: day first or month first?)
        [_, b, c] if year(c).is_some() && b.parse::<u32>().is_err() => (year(c)?, month(b)?),
        _ => return None,
    };
    let d = format!("{y}-{m:02}");
    (d != s).then(|| format!("did you mean \"{d}\"?"))
}

fn at(base: &[Seg], k: &str) -> Vec<Seg> {
    let mut p = base.to_vec();
    p.push(key(k));
    p
}

fn at_i(base: &[Seg], k: &str, i: usize) -> Vec<Seg> {
    let mut p = at(base, k);
    p.push(Seg::Index(i));
    p
}

fn required<T: Clone>(v: &Option<T>, path: Vec<Seg>, expected: &str) -> R<T> {
    match v {
        Some(x) => Ok(x.clone()),
        None => err(path, format!("missing required field, expected {expected}")),
    }
}

fn finite(v: Option<f64>, path: Vec<Seg>, default: f64) -> R<f64> {
    let x = v.unwrap_or(default);
    if !x.is_finite() {
        return err(path, format!("found {x}, expected a finite number"));
    }
    Ok(x)
}

fn nonneg(v: Option<f64>, path: Vec<Seg>, default: f64) -> R<f64> {
    let x = finite(v, path.clone(), default)?;
    if x < 0.0 {
        return err(path, format!("found {x}, expected a number >= 0"));
    }
    Ok(x)
}

/// Most jumps a year a workload may have. Every jump is drawn, so the
/// kernel's work grows with the rate (a typo such as 1e9 would run for
/// days, and beyond about 1e16 per period the Poisson draw is undefined);
/// jumps that frequent are a diffusion anyway: growth and volatility.
pub const MAX_JUMP_RATE: f64 = 1000.0;

fn jump_rate(v: Option<f64>, path: Vec<Seg>) -> R<f64> {
    let x = nonneg(v, path.clone(), 0.0)?;
    if x > MAX_JUMP_RATE {
        return err(
            path,
            format!(
                "found {x}, expected at most {MAX_JUMP_RATE} jumps a year (more frequent moves \
                 belong in growth and volatility)"
            ),
        );
    }
    Ok(x)
}

fn unit(v: Option<f64>, path: Vec<Seg>, default: f64) -> R<f64> {
    let x = finite(v, path.clone(), default)?;
    if !(0.0..=1.0).contains(&x) {
        // `share = 30` for 30%.
        return Err(VErr {
            path,
            message: format!("found {x}, expected a number in [0, 1]"),
            hint: (1.0 < x && x <= 100.0).then(|| {
                format!(
                    "a percentage is written as a fraction: {} for {x}%",
                    super::percent_as_fraction(x)
                )
            }),
        });
    }
    Ok(x)
}

fn date(s: &str, path: Vec<Seg>, start: YearMonth) -> R<i64> {
    match YearMonth::parse(s) {
        Some(d) => Ok(d.months_since(start)),
        None => Err(VErr {
            path,
            message: format!("found \"{s}\", expected a date \"YYYY-MM\" (e.g. \"2027-01\")"),
            hint: date_hint(s),
        }),
    }
}

fn bound(s: &Option<String>, path: Vec<Seg>, start: YearMonth) -> R<Bound> {
    match s.as_deref() {
        None => Ok(Bound::Open),
        Some("agi") => Ok(Bound::Agi),
        Some(x) => match YearMonth::parse(x) {
            Some(d) => Ok(Bound::Month(d.months_since(start))),
            None => Err(VErr {
                path,
                message: format!("found \"{x}\", expected a date \"YYYY-MM\" or \"agi\""),
                hint: date_hint(x).or_else(|| {
                    x.eq_ignore_ascii_case("agi")
                        .then(|| "did you mean \"agi\"?".to_string())
                }),
            }),
        },
    }
}

/// Names appear in metric names (`cash.<p>`), CSV cells and `--set` paths.
fn object_name(v: &Option<String>, path: Vec<Seg>, what: &str) -> R<String> {
    let n = required(v, path.clone(), &format!("a {what} name such as \"azure\""))?;
    if n.is_empty()
        || n.chars().any(|c| {
            c == '.' || c == ',' || c == '"' || c == '/' || c.is_whitespace() || c.is_control()
        })
    {
        return err(
            path,
            format!("found \"{n}\", expected a non-empty {what} name without spaces, '.', ',', '/' or '\"'"),
        );
    }
    Ok(n)
}

fn unique(names: &[(String, Vec<Seg>)], what: &str) -> R<()> {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, (n, p)) in names.iter().enumerate() {
        if let Some(first) = seen.insert(n.as_str(), i) {
            return err(
                p.clone(),
                format!("found {what} name \"{n}\" again (first used by element {first}), expected unique {what} names"),
            );
        }
    }
    Ok(())
}

fn resolve(name: &str, names: &[String], path: Vec<Seg>, what: &str) -> R<usize> {
    if let Some(i) = names.iter().position(|n| n == name) {
        return Ok(i);
    }
    Err(VErr {
        path,
        message: format!(
            "found \"{name}\", expected the name of a {what} (known: {})",
            if names.is_empty() {
                "none".to_string()
            } else {
                names.join(", ")
            }
        ),
        hint: super::did_you_mean(name, names.iter().map(String::as_str)),
    })
}

/// Fields a rule or contract kind does not accept are errors, like unknown fields.
fn only_fields(base: &[Seg], kind: &str, present: &[(&str, bool)], allowed: &[&str]) -> R<()> {
    for (name, is_set) in present {
        if *is_set && !allowed.contains(name) {
            return Err(VErr {
                path: at(base, name),
                message: format!(
                    "unknown field `{name}` for kind \"{kind}\", expected one of {}",
                    allowed
                        .iter()
                        .map(|a| format!("`{a}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                hint: None,
            });
        }
    }
    Ok(())
}

/// The longest scenario `name`: it names result folders, which a file
/// system keeps to 255 bytes, and the longest of them holds two names
/// (`compare`'s shard `BASE-vs-ALT.shard-I-of-N`) and the temporary one a
/// third of that again.
pub const MAX_NAME: usize = 64;

pub fn validate(raw: &RawScenario) -> R<Scenario> {
    let root: Vec<Seg> = Vec::new();
    let name = required(
        &raw.name,
        at(&root, "name"),
        "a scenario name matching [a-z0-9_-]+",
    )?;
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
    {
        // `My Baseline` -> `my-baseline`.
        let slug: String = name
            .trim()
            .chars()
            .map(|c| {
                if c.is_whitespace() {
                    '-'
                } else {
                    c.to_ascii_lowercase()
                }
            })
            .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_' || *c == '-')
            .collect();
        return Err(VErr {
            path: at(&root, "name"),
            message: format!("found \"{name}\", expected a name matching [a-z0-9_-]+"),
            hint: (!slug.is_empty()).then(|| format!("did you mean \"{slug}\"?")),
        });
    }
    if name.len() > MAX_NAME {
        return Err(VErr {
            path: at(&root, "name"),
            message: format!(
                "found a name of {} characters, expected at most {MAX_NAME} (it names \
                 the result's folder, and a comparison's holds two names)",
                name.len()
            ),
            hint: None,
        });
    }
    let start_s = required(&raw.start, at(&root, "start"), "a date \"YYYY-MM\"")?;
    let start = match YearMonth::parse(&start_s) {
        Some(d) => d,
        None => {
            return Err(VErr {
                path: at(&root, "start"),
                message: format!(
                    "found \"{start_s}\", expected a date \"YYYY-MM\" (e.g. \"2026-01\")"
                ),
                hint: date_hint(&start_s),
            })
        }
    };
    let periods = required(
        &raw.periods,
        at(&root, "periods"),
        "a whole number from 1 to 1200",
    )?;
    if !(1..=1200).contains(&periods) {
        return err(
            at(&root, "periods"),
            format!("found {periods}, expected a whole number from 1 to 1200"),
        );
    }
    let period = match raw.period.as_deref().unwrap_or("quarter") {
        "month" => PeriodKind::Month,
        "quarter" => PeriodKind::Quarter,
        "year" => PeriodKind::Year,
        other => return one_of(at(&root, "period"), other, &["month", "quarter", "year"]),
    };
    // Every period's date is written `YYYY-MM`: the horizon ends by 9999-12.
    let room = YearMonth::parse("9999-12")
        .expect("a date")
        .months_since(start)
        + 1;
    if periods * period.months() > room {
        let fit = room / period.months();
        return err(
            at(&root, "periods"),
            format!(
                "found {periods} {}s from {start}, which end in {}; expected a \
                 horizon that ends by 9999-12 (dates are YYYY-MM): at most {fit} {}{}",
                period.as_str(),
                start.add_months(periods * period.months() - 1),
                period.as_str(),
                if fit == 1 { "" } else { "s" }
            ),
        );
    }
    let currency = raw.currency.clone().unwrap_or_else(|| "USD".to_string());
    if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_uppercase()) {
        let upper = currency.trim().to_ascii_uppercase();
        return Err(VErr {
            path: at(&root, "currency"),
            message: format!(
                "found \"{currency}\", expected a three-letter ISO 4217 code such as \"USD\""
            ),
            hint: (upper.len() == 3 && upper.chars().all(|c| c.is_ascii_uppercase()))
                .then(|| format!("did you mean \"{upper}\"?")),
        });
    }
    let discount_rate = nonneg(raw.discount_rate, at(&root, "discount_rate"), 0.0)?;
    let shortfall_price = nonneg(raw.shortfall_price, at(&root, "shortfall_price"), 0.0)?;

    let simulation = {
        let s = raw.simulation.clone().unwrap_or_default();
        let base = at(&root, "simulation");
        let paths = s.paths.unwrap_or(10_000);
        if !(1..=MAX_PATHS as i64).contains(&paths) {
            return err(
                at(&base, "paths"),
                format!("found {paths}, expected a whole number from 1 to {MAX_PATHS}"),
            );
        }
        let sampling = match s.sampling.as_deref().unwrap_or("mc") {
            "mc" => Sampling::MonteCarlo,
            other @ ("antithetic" | "lhs" | "sobol") => {
                return err(
                    at(&base, "sampling"),
                    format!("sampling \"{other}\" is not implemented in this version of capsim, expected \"mc\""),
                )
            }
            other => return one_of(at(&base, "sampling"), other, &["mc"]),
        };
        let policy = match s.policy.as_deref().unwrap_or("priority") {
            "priority" => Policy::Priority,
            "optimal" => Policy::Optimal,
            other => return one_of(at(&base, "policy"), other, &["priority", "optimal"]),
        };
        Simulation {
            paths: paths as u64,
            seed: s.seed.unwrap_or(0),
            sampling,
            policy,
        }
    };

    // Workloads.
    if raw.workload.len() > MAX_WORKLOADS {
        return err(
            at(&root, "workload"),
            format!(
                "found {} workloads, expected at most {MAX_WORKLOADS}",
                raw.workload.len()
            ),
        );
    }
    let mut workloads = Vec::new();
    let mut wnames = Vec::new();
    for (i, w) in raw.workload.iter().enumerate() {
        let b = at_i(&root, "workload", i);
        let n = object_name(&w.name, at(&b, "name"), "workload")?;
        wnames.push((n.clone(), at(&b, "name")));
        let demand = required(&w.demand, at(&b, "demand"), "a number of GPUs >= 0")?;
        workloads.push(Workload {
            name: n,
            demand: nonneg(Some(demand), at(&b, "demand"), 0.0)?,
            growth: finite(w.growth, at(&b, "growth"), 0.0)?,
            volatility: nonneg(w.volatility, at(&b, "volatility"), 0.0)?,
            jump_rate: jump_rate(w.jump_rate, at(&b, "jump_rate"))?,
            jump_mean: finite(w.jump_mean, at(&b, "jump_mean"), 0.0)?,
            jump_stdev: nonneg(w.jump_stdev, at(&b, "jump_stdev"), 0.0)?,
            shortfall_price: nonneg(
                w.shortfall_price,
                at(&b, "shortfall_price"),
                shortfall_price,
            )?,
            deferrable: w.deferrable.unwrap_or(false),
        });
    }
    unique(&wnames, "workload")?;
    let wnames: Vec<String> = wnames.into_iter().map(|(n, _)| n).collect();

    // Providers and tranches.
    if raw.provider.len() > MAX_PROVIDERS {
        return err(
            at(&root, "provider"),
            format!(
                "found {} providers, expected at most {MAX_PROVIDERS}",
                raw.provider.len()
            ),
        );
    }
    let mut providers = Vec::new();
    let mut pnames = Vec::new();
    for (i, p) in raw.provider.iter().enumerate() {
        let b = at_i(&root, "provider", i);
        let n = object_name(&p.name, at(&b, "name"), "provider")?;
        pnames.push((n.clone(), at(&b, "name")));
        let kind = match p.kind.as_deref().unwrap_or("cloud") {
            "cloud" => ProviderKind::Cloud,
            "owned" => ProviderKind::Owned,
            other => return one_of(at(&b, "kind"), other, &["cloud", "owned"]),
        };
        let price = required(&p.price, at(&b, "price"), "a price per GPU-hour >= 0")?;
        let life_years = finite(p.life_years, at(&b, "life_years"), 5.0)?;
        if life_years <= 0.0 {
            return err(
                at(&b, "life_years"),
                format!("found {life_years}, expected a number of years > 0"),
            );
        }
        let mut tranches = Vec::new();
        for (j, t) in p.tranche.iter().enumerate() {
            let tb = at_i(&b, "tranche", j);
            let gpus = required(&t.gpus, at(&tb, "gpus"), "a number of GPUs >= 0")?;
            let online = required(&t.online, at(&tb, "online"), "a date \"YYYY-MM\"")?;
            let delay = match &t.delay_months {
                None => None,
                Some(d) => {
                    let db = at(&tb, "delay_months");
                    let median = required(&d.median, at(&db, "median"), "a number of months >= 0")?;
                    Some(Delay {
                        median: nonneg(Some(median), at(&db, "median"), 0.0)?,
                        sigma: nonneg(d.sigma, at(&db, "sigma"), 0.0)?,
                    })
                }
            };
            tranches.push(Tranche {
                gpus: nonneg(Some(gpus), at(&tb, "gpus"), 0.0)?,
                online: date(&online, at(&tb, "online"), start)?,
                delay,
                failure: unit(t.failure, at(&tb, "failure"), 0.0)?,
            });
        }
        providers.push(Provider {
            name: n,
            kind,
            price: nonneg(Some(price), at(&b, "price"), 0.0)?,
            price_drift: finite(p.price_drift, at(&b, "price_drift"), 0.0)?,
            price_volatility: nonneg(p.price_volatility, at(&b, "price_volatility"), 0.0)?,
            availability: unit(p.availability, at(&b, "availability"), 1.0)?,
            capex_per_gpu: nonneg(p.capex_per_gpu, at(&b, "capex_per_gpu"), 0.0)?,
            life_years,
            tranches,
        });
    }
    unique(&pnames, "provider")?;
    let pnames: Vec<String> = pnames.into_iter().map(|(n, _)| n).collect();

    // Contracts.
    let mut contracts = Vec::new();
    let mut cnames = Vec::new();
    for (i, c) in raw.contract.iter().enumerate() {
        let b = at_i(&root, "contract", i);
        let kind_s = required(&c.kind, at(&b, "kind"), "\"reserved\" or \"commitment\"")?;
        let pname = required(&c.provider, at(&b, "provider"), "a provider name")?;
        let provider = resolve(&pname, &pnames, at(&b, "provider"), "provider")?;
        let present = [
            ("gpus", c.gpus.is_some()),
            ("price", c.price.is_some()),
            ("amount", c.amount.is_some()),
        ];
        let kind = match kind_s.as_str() {
            "reserved" => {
                only_fields(&b, "reserved", &present, &["gpus", "price"])?;
                ContractKind::Reserved {
                    gpus: nonneg(c.gpus, at(&b, "gpus"), 0.0)?,
                    price: nonneg(c.price, at(&b, "price"), 0.0)?,
                }
            }
            "commitment" => {
                only_fields(&b, "commitment", &present, &["amount"])?;
                ContractKind::Commitment {
                    amount: nonneg(c.amount, at(&b, "amount"), 0.0)?,
                }
            }
            other => return one_of(at(&b, "kind"), other, &["reserved", "commitment"]),
        };
        let from = c
            .from
            .as_ref()
            .map(|s| date(s, at(&b, "from"), start))
            .transpose()?;
        let to =
            c.to.as_ref()
                .map(|s| date(s, at(&b, "to"), start))
                .transpose()?;
        if let (Some(f), Some(t)) = (from, to) {
            if f > t {
                return err(
                    at(&b, "to"),
                    format!(
                        "found to = \"{}\" before from = \"{}\", expected from <= to",
                        c.to.as_deref().unwrap_or_default(),
                        c.from.as_deref().unwrap_or_default()
                    ),
                );
            }
        }
        let name = match &c.name {
            Some(_) => object_name(&c.name, at(&b, "name"), "contract")?,
            None => format!("{kind_s}-{pname}-{i}"),
        };
        cnames.push((name.clone(), at(&b, "name")));
        contracts.push(Contract {
            name,
            provider,
            kind,
            from,
            to,
        });
    }
    unique(&cnames, "contract")?;

    // Rules.
    let mut rules = Vec::new();
    for (i, r) in raw.rule.iter().enumerate() {
        let b = at_i(&root, "rule", i);
        let kind_s = required(
            &r.kind,
            at(&b, "kind"),
            "\"exclusive\", \"first_refusal\", \"min_share\" or \"max_share\"",
        )?;
        let present = [
            ("provider", r.provider.is_some()),
            ("workloads", r.workloads.is_some()),
            ("providers", r.providers.is_some()),
            ("accept", r.accept.is_some()),
            ("share", r.share.is_some()),
        ];
        let names_list =
            |list: &Vec<String>, field: &str, names: &[String], what: &str| -> R<Vec<usize>> {
                let mut out = Vec::new();
                for (j, n) in list.iter().enumerate() {
                    let idx = resolve(n, names, at_i(&b, field, j), what)?;
                    if !out.contains(&idx) {
                        out.push(idx);
                    }
                }
                Ok(out)
            };
        let provider_of = || -> R<usize> {
            let n = required(&r.provider, at(&b, "provider"), "a provider name")?;
            resolve(&n, &pnames, at(&b, "provider"), "provider")
        };
        let kind = match kind_s.as_str() {
            "exclusive" => {
                only_fields(&b, "exclusive", &present, &["workloads", "providers"])?;
                let wl = required(
                    &r.workloads,
                    at(&b, "workloads"),
                    "a list of workload names",
                )?;
                let pl = required(
                    &r.providers,
                    at(&b, "providers"),
                    "a list of provider names",
                )?;
                RuleKind::Exclusive {
                    workloads: names_list(&wl, "workloads", &wnames, "workload")?,
                    providers: names_list(&pl, "providers", &pnames, "provider")?,
                }
            }
            "first_refusal" => {
                only_fields(
                    &b,
                    "first_refusal",
                    &present,
                    &["provider", "workloads", "accept"],
                )?;
                let provider = provider_of()?;
                let workloads = match &r.workloads {
                    Some(wl) => names_list(wl, "workloads", &wnames, "workload")?,
                    None => (0..wnames.len()).collect(),
                };
                let accept = required(&r.accept, at(&b, "accept"), "a probability in [0, 1]")?;
                RuleKind::FirstRefusal {
                    provider,
                    workloads,
                    accept: unit(Some(accept), at(&b, "accept"), 0.0)?,
                }
            }
            "min_share" | "max_share" => {
                only_fields(&b, &kind_s, &present, &["provider", "share"])?;
                let provider = provider_of()?;
                let share = unit(r.share, at(&b, "share"), 0.0)?;
                if kind_s == "min_share" {
                    RuleKind::MinShare { provider, share }
                } else {
                    RuleKind::MaxShare { provider, share }
                }
            }
            other => {
                return one_of(
                    at(&b, "kind"),
                    other,
                    &["exclusive", "first_refusal", "min_share", "max_share"],
                )
            }
        };
        let from = bound(&r.from, at(&b, "from"), start)?;
        let until = bound(&r.until, at(&b, "until"), start)?;
        if let (Bound::Month(f), Bound::Month(u)) = (from, until) {
            if f > u {
                return err(
                    at(&b, "until"),
                    "found until before from, expected from <= until",
                );
            }
        }
        rules.push(Rule { kind, from, until });
    }

    // AGI.
    let agi = match &raw.agi {
        None => None,
        Some(a) => {
            let b = at(&root, "agi");
            Some(Agi {
                hazard: nonneg(a.hazard, at(&b, "hazard"), 0.0)?,
                earliest: match &a.earliest {
                    Some(s) => date(s, at(&b, "earliest"), start)?,
                    None => 0,
                },
            })
        }
    };

    // Correlations.
    let mut correlations: Vec<Correlation> = Vec::new();
    for (i, c) in raw.correlation.iter().enumerate() {
        let b = at_i(&root, "correlation", i);
        let between = required(
            &c.between,
            at(&b, "between"),
            "two factor names, e.g. [\"demand/api\", \"price/azure\"]",
        )?;
        if between.len() != 2 {
            return err(
                at(&b, "between"),
                format!(
                    "found {} names, expected exactly two factors",
                    between.len()
                ),
            );
        }
        let mut fs = [Factor::Demand(0); 2];
        // The factor a name stands for (`api`, `workload/api`, a workload
        // under `price/`): demand of a workload, price of a provider.
        let factor_of = |name: &str| {
            if wnames.iter().any(|w| w == name) {
                Some(format!("demand/{name}"))
            } else if pnames.iter().any(|q| q == name) {
                Some(format!("price/{name}"))
            } else {
                None
            }
        };
        for (j, f) in between.iter().enumerate() {
            let p = at_i(&b, "between", j);
            let named = f.rsplit('/').next().unwrap_or(f);
            let meant = factor_of(named);
            // (A name that is neither kind's: the known names, and the
            // closest, of the kind written.)
            let result = match f.split_once('/') {
                Some(("demand", w)) if wnames.iter().any(|x| x == w) || meant.is_none() => {
                    resolve(w, &wnames, p, "workload").map(Factor::Demand)
                }
                Some(("price", pn)) if pnames.iter().any(|x| x == pn) || meant.is_none() => {
                    resolve(pn, &pnames, p, "provider").map(Factor::Price)
                }
                _ => Err(VErr {
                    path: p,
                    message: format!(
                        "found \"{f}\", expected \"demand/<workload>\" or \"price/<provider>\""
                    ),
                    hint: meant.map(|m| {
                        let what = if m.starts_with("demand/") {
                            "a workload: its factor is its demand"
                        } else {
                            "a provider: its factor is its price"
                        };
                        format!("{named} is {what}, \"{m}\"")
                    }),
                }),
            };
            fs[j] = result?;
        }
        if fs[0] == fs[1] {
            return err(
                at(&b, "between"),
                "found the same factor twice, expected two different factors",
            );
        }
        let rho = required(&c.rho, at(&b, "rho"), "a correlation in [-1, 1]")?;
        if !rho.is_finite() || rho.abs() > 1.0 {
            return err(
                at(&b, "rho"),
                format!("found {rho}, expected a correlation in [-1, 1]"),
            );
        }
        let key = |f: Factor| match f {
            Factor::Demand(w) => (0, w),
            Factor::Price(p) => (1, p),
        };
        let (a0, a1) = (key(fs[0]).min(key(fs[1])), key(fs[0]).max(key(fs[1])));
        if let Some(j) = correlations.iter().position(|o| {
            let (b0, b1) = (
                key(o.between[0]).min(key(o.between[1])),
                key(o.between[0]).max(key(o.between[1])),
            );
            (a0, a1) == (b0, b1)
        }) {
            return err(
                at(&b, "between"),
                format!("found the pair given again (first in correlation {j}), expected each pair at most once"),
            );
        }
        correlations.push(Correlation { between: fs, rho });
    }

    let scenario = Scenario {
        name,
        description: raw.description.clone().unwrap_or_default(),
        start,
        periods: periods as usize,
        period,
        currency,
        discount_rate,
        shortfall_price,
        simulation,
        workloads,
        providers,
        contracts,
        rules,
        agi,
        correlations,
    };
    if !scenario.correlations.is_empty() {
        if let Err(msg) = crate::model::correlation_cholesky(&scenario) {
            // rho = 1 is a natural way to say "the same shock", and no
            // Cholesky factor holds it.
            let hint = scenario
                .correlations
                .iter()
                .find(|c| c.rho.abs() == 1.0)
                .map(|c| {
                    format!(
                        "rho = {} between {} and {} makes them one shock, which the \
                         matrix cannot hold: {} ties them all but exactly",
                        c.rho,
                        scenario.factor_name(c.between[0]),
                        scenario.factor_name(c.between[1]),
                        c.rho * 0.999
                    )
                });
            return Err(VErr {
                path: vec![key("correlation")],
                message: msg,
                hint,
            });
        }
    }
    Ok(scenario)
}

#[cfg(test)]
mod tests {
    use super::date_hint;

    #[test]
    fn a_date_written_another_way_is_hinted_as_yyyy_mm() {
        for (written, hinted) in [
            ("2026-1", "2026-01"),
            ("2026/01", "2026-01"),
            ("2026.12", "2026-12"),
            ("2026-01-15", "2026-01"),
            ("01/2026", "2026-01"),
            ("1-2026", "2026-01"),
            ("Jan 2026", "2026-01"),
            ("September 2027", "2027-09"),
            ("sept. 2027", "2027-09"),
            ("2026 Mar", "2026-03"),
            ("15 Jan 2026", "2026-01"),
            ("15-jan-2026", "2026-01"),
            ("Q3 2026", "2026-07"),
            ("2026-Q4", "2026-10"),
            ("2026 q1", "2026-01"),
        ] {
            assert_eq!(
                date_hint(written),
                Some(format!("did you mean \"{hinted}\"?")),
                "{written}"
            );
        }
        // Nothing to suggest: not a month, no year, or ambiguous (day or
        // month first?).
        for written in [
            "2026-13",
            "2026-00",
            "soon",
            "Q5 2026",
            "2026",
            "26-01",
            "01/02/2026",
            "Janvier",
            "",
            "2026-01",
        ] {
            assert_eq!(date_hint(written), None, "{written}");
        }
    }
}
