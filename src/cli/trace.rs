use super::run::sets_with;
use super::ScenarioArgs;
use crate::error::{Error, Result};
use crate::model::{Model, RuleKindM};
use crate::output::human;
use crate::scenario;
use crate::trace::{self, rule_label, PathTrace};
use std::io::Write;

#[derive(Debug, clap::Args)]
pub struct TraceArgs {
    #[command(flatten)]
    pub scenario: ScenarioArgs,
    /// Path index (0-based), as in paths.csv
    #[arg(long, allow_negative_numbers = true, value_parser = super::whole_arg)]
    pub path: u64,
    /// Random seed (overrides simulation.seed)
    #[arg(long, allow_negative_numbers = true, value_parser = super::seed_arg)]
    pub seed: Option<u64>,
    /// One CSV row per period on stdout instead of the readable story
    #[arg(long)]
    pub csv: bool,
}

pub fn trace(a: TraceArgs) -> Result<()> {
    let loaded = scenario::load_file(
        &a.scenario.scenario,
        &sets_with(&a.scenario.set.sets, None, a.seed),
    )?;
    super::warn([&loaded], false);
    let m = Model::compile(&loaded.scenario);
    let tr = trace::trace(&m, a.path);
    let mut out = std::io::stdout().lock();
    let r = if a.csv {
        // Formatted in memory, then written: a closed stdout (`| head`)
        // is then a plain broken pipe, which ends the command quietly
        // (the CSV writer would report it as an error of its own).
        out.write_all(&csv_bytes(&m, &tr)?)
    } else {
        write_story(&mut out, &m, &tr, &loaded.scenario.currency)
    };
    r.map_err(|e| Error::io("writing to stdout", e))?;
    // The story is the diagnostic of an overflow: told whole, then what
    // overflowed and what a run does with it.
    if let Some((t, what)) = trace::first_overflow(&m, &tr) {
        say_err!(
            "warning: path {} overflows: {what} in period {t} ({}); a run of this scenario \
             is refused as overflowed (growth, volatility, jump sizes, prices, demand or GPUs \
             too large for the horizon)",
            a.path,
            m.period_labels[t]
        );
    }
    Ok(())
}

fn pool(reserved: bool) -> &'static str {
    if reserved {
        "reserved"
    } else {
        "market"
    }
}

pub fn csv_header(m: &Model) -> Vec<String> {
    let mut h: Vec<String> = [
        "period",
        "date",
        "cash",
        "market",
        "reserved",
        "capex",
        "true_up",
        "shortfall_cost",
        "demand",
        "served",
        "unmet",
        "agi_declared",
    ]
    .map(String::from)
    .to_vec();
    for w in &m.workload_names {
        h.push(format!("demand.{w}"));
        h.push(format!("backlog.{w}"));
        h.push(format!("unmet.{w}"));
    }
    for p in &m.provider_names {
        for x in [
            "market_capacity",
            "reserved_capacity",
            "price",
            "served",
            "market_cash",
            "reserved_cash",
        ] {
            h.push(format!("{x}.{p}"));
        }
    }
    for r in 0..m.rules.len() {
        h.push(format!("active.{}", rule_label(m, r)));
        if m.rules[r].kind == RuleKindM::FirstRefusal {
            h.push(format!("taken.{}", rule_label(m, r)));
        }
    }
    for w in &m.workload_names {
        for p in &m.provider_names {
            h.push(format!("take.{w}.{p}"));
        }
    }
    h
}

/// The sum of `xs`, from +0: `Sum` for f64 starts at -0, which a model
/// without providers or workloads would print as `-0`.
fn total(xs: &[f64]) -> f64 {
    xs.iter().fold(0.0, |a, x| a + x)
}

/// The trace as CSV: one row per period.
fn csv_bytes(m: &Model, tr: &PathTrace) -> Result<Vec<u8>> {
    let mut w = crate::output::writer();
    w.write_record(csv_header(m))?;
    let (nw, np) = (m.workloads.len(), m.providers.len());
    for (t, p) in tr.periods.iter().enumerate() {
        let (market, reserved) = (total(&p.market_cash), total(&p.reserved_cash));
        let mut row: Vec<String> = vec![
            t.to_string(),
            m.period_labels[t].clone(),
            p.cash.to_string(),
            market.to_string(),
            reserved.to_string(),
            p.capex.to_string(),
            p.true_up.to_string(),
            p.shortfall_cost.to_string(),
            total(&p.demand).to_string(),
            total(&p.served).to_string(),
            total(&p.unmet).to_string(),
            u8::from(p.agi_declared_by_now).to_string(),
        ];
        for i in 0..nw {
            row.push((p.demand[i] - p.backlog_in[i]).to_string());
            row.push(p.backlog_in[i].to_string());
            row.push(p.unmet[i].to_string());
        }
        for q in 0..np {
            for v in [
                p.market_cap[q],
                p.reserved_cap[q],
                p.price[q],
                p.served[q],
                p.market_cash[q],
                p.reserved_cash[q],
            ] {
                row.push(v.to_string());
            }
        }
        for r in 0..m.rules.len() {
            row.push(u8::from(p.rule_active[r]).to_string());
            if m.rules[r].kind == RuleKindM::FirstRefusal {
                row.push(u8::from(p.rule_taken[r]).to_string());
            }
        }
        let mut took = vec![0.0; nw * np];
        for k in &p.takes {
            took[k.workload * np + k.provider] += k.gpus;
        }
        row.extend(took.iter().map(|x| x.to_string()));
        w.write_record(&row)?;
    }
    crate::output::finish(w)
}

fn write_story(out: &mut impl Write, m: &Model, tr: &PathTrace, cur: &str) -> std::io::Result<()> {
    let money = |v: f64| human(v, true, cur);
    let gpus = |v: f64| human(v, false, cur);
    writeln!(out, "path {} of {} (seed {})", tr.path, m.name, m.seed)?;
    if tr.path >= crate::scenario::MAX_PATHS {
        // (`tr.path + 1` below would overflow at u64::MAX.)
        writeln!(
            out,
            "(not among any run's paths: a run has at most {}, 0 to {})",
            crate::scenario::MAX_PATHS,
            crate::scenario::MAX_PATHS - 1
        )?;
    } else if tr.path >= m.paths {
        // Any path's streams are defined; a run's statistics hold its first
        // `paths` of them.
        writeln!(
            out,
            "(not among a run's {}, 0 to {}: a run with --paths {} or more includes it)",
            crate::output::count(m.paths, "path"),
            m.paths - 1,
            tr.path + 1
        )?;
    }
    match tr.agi_period {
        None => writeln!(out, "AGI: not declared within the horizon")?,
        Some(-1) => writeln!(out, "AGI: declared before the start")?,
        Some(k) => writeln!(
            out,
            "AGI: declared in period {k} ({})",
            m.period_labels[k as usize]
        )?,
    }
    let mut i = 0;
    for (p, name) in m.provider_names.iter().enumerate() {
        let mut items = Vec::new();
        for tr_m in m.tranches.iter().filter(|x| x.provider == p) {
            let tau = tr.tranche_online[i];
            i += 1;
            items.push(if tau.is_infinite() {
                format!("{} GPUs never delivered", gpus(tr_m.gpus))
            } else {
                format!(
                    "{} GPUs online at month {:+.1} (planned {:+})",
                    gpus(tr_m.gpus),
                    tau,
                    tr_m.online
                )
            });
        }
        if !items.is_empty() {
            writeln!(out, "tranches {name}: {}", items.join("; "))?;
        }
    }
    for (t, p) in tr.periods.iter().enumerate() {
        writeln!(out)?;
        let agi = if p.agi_declared_here {
            "  [AGI declared this period]"
        } else if p.agi_declared_by_now {
            "  [after AGI]"
        } else {
            ""
        };
        writeln!(out, "period {t} ({}){agi}", m.period_labels[t])?;
        let d: Vec<String> = m
            .workload_names
            .iter()
            .enumerate()
            .map(|(w, n)| {
                if p.backlog_in[w] > 0.0 {
                    format!(
                        "{n} {} (new {} + backlog {})",
                        gpus(p.demand[w]),
                        gpus(p.demand[w] - p.backlog_in[w]),
                        gpus(p.backlog_in[w])
                    )
                } else {
                    format!("{n} {}", gpus(p.demand[w]))
                }
            })
            .collect();
        writeln!(out, "  demand   {}", d.join(", "))?;
        let pools: Vec<String> = m
            .provider_names
            .iter()
            .enumerate()
            .map(|(q, n)| {
                let mut s = format!(
                    "{n} market {} @ {}/h",
                    gpus(p.market_cap[q]),
                    money(p.price[q])
                );
                if p.reserved_cap[q] > 0.0 {
                    s.push_str(&format!(" + reserved {}", gpus(p.reserved_cap[q])));
                }
                s
            })
            .collect();
        writeln!(out, "  pools    {}", pools.join("; "))?;
        if !m.rules.is_empty() {
            let rules: Vec<String> = (0..m.rules.len())
                .map(|r| {
                    let mut s = format!(
                        "{} {}",
                        rule_label(m, r),
                        if p.rule_active[r] {
                            "active"
                        } else {
                            "inactive"
                        }
                    );
                    if m.rules[r].kind == RuleKindM::FirstRefusal {
                        s.push_str(if p.rule_taken[r] {
                            ", offer taken"
                        } else {
                            ", offer declined"
                        });
                    }
                    s
                })
                .collect();
            writeln!(out, "  rules    {}", rules.join("; "))?;
        }
        for k in &p.takes {
            writeln!(
                out,
                "  take     {} <- {} {} {} (pass {})",
                m.workload_names[k.workload],
                m.provider_names[k.provider],
                pool(k.reserved),
                gpus(k.gpus),
                k.pass
            )?;
        }
        let unmet: Vec<String> = m
            .workload_names
            .iter()
            .enumerate()
            .filter(|(w, _)| p.unmet[*w] > 0.0)
            .map(|(w, n)| format!("{n} {}", gpus(p.unmet[w])))
            .collect();
        if !unmet.is_empty() {
            writeln!(
                out,
                "  unmet    {} (shortfall cost {})",
                unmet.join(", "),
                money(p.shortfall_cost)
            )?;
        }
        writeln!(
            out,
            "  cash     market {} + reserved {} + capex {} + true-up {} = {}",
            money(total(&p.market_cash)),
            money(total(&p.reserved_cash)),
            money(p.capex),
            money(p.true_up),
            money(p.cash)
        )?;
    }
    writeln!(out)?;
    for (k, name) in m.layout.path_names.iter().enumerate() {
        writeln!(out, "total {name} = {}", tr.totals[k])?;
    }
    Ok(())
}
