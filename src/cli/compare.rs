use super::run::sets_with;
use crate::compare::{self, Comparison};
use crate::error::{Error, Result};
use crate::model::Model;
use crate::output::{self, ResultDir};
use crate::scenario::{self, Loaded};
use crate::shard::{self, ShardRecord};
use serde::Serialize;
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct CompareArgs {
    /// The base (benchmark) scenario
    pub base: PathBuf,
    /// One or more alternative scenarios
    #[arg(required = true)]
    pub alts: Vec<PathBuf>,
    #[command(flatten)]
    pub sim: super::SimArgs,
    #[command(flatten)]
    pub set: super::SetArgs,
    /// No summary on the terminal
    #[arg(long, short)]
    pub quiet: bool,
    /// Simulate only part I of N of the paired paths (e.g. 3/8, one per job
    /// of a batch scheduler) into <out>/compare/BASE-vs-ALT.shard-I-of-N/;
    /// `capsim merge` joins the N parts into the folders one compare writes
    #[arg(long, value_name = "I/N", allow_hyphen_values = true)]
    pub shard: Option<crate::shard::Shard>,
    /// Also draw comparison.svg (SVG) from the comparison's files: each
    /// horizon total's paired difference and the cash difference per period
    #[arg(long)]
    pub charts: bool,
}

/// Metrics the terminal summary shows.
pub const KEY_METRICS: [&str; 8] = [
    "npv",
    "cash",
    "economic",
    "true_up",
    "shortfall_cost",
    "unmet_gpu_hours",
    "capex",
    "depreciation",
];

#[derive(Serialize)]
struct VarianceReduction<'a> {
    metric: &'a str,
    paired_stderr: f64,
    independent_stderr: f64,
    variance_ratio: f64,
}

#[derive(Serialize)]
struct CompareManifest<'a> {
    capsim_version: &'a str,
    base: &'a str,
    alt: &'a str,
    base_sha256: &'a str,
    alt_sha256: &'a str,
    seed: u64,
    paths: u64,
    threads: usize,
    confidence: f64,
    /// The alternative's currency (`capsim chart` draws money in it).
    currency: &'a str,
    /// The charts drawn (`--charts`).
    charts: Vec<&'a str>,
    variance_reduction: Vec<VarianceReduction<'a>>,
    /// Merged from shards (`capsim merge`): each shard's run; `threads`
    /// above is then the largest of theirs.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    shards: &'a [ShardRecord],
}

/// Loads an alternative with the base's seed and paths (common random numbers).
pub fn load_paired(path: &std::path::Path, sets: &[String], base: &Loaded) -> Result<Loaded> {
    let sim = &base.scenario.simulation;
    scenario::load_file(path, &sets_with(sets, Some(sim.paths), Some(sim.seed)))
        .map_err(|e| e.in_file(path))
}

/// The note for an alternative whose own file sets another seed or number
/// of paths than the base it runs on here (`own`: it loaded on its own,
/// with the command's `--set`s, `--paths` and `--seed`): its numbers here
/// are not those of a `run` of it.
pub fn paired_note(own: &Loaded, paired: &Loaded, base: &Loaded) -> Option<String> {
    let (o, b) = (&own.scenario.simulation, &paired.scenario.simulation);
    let mut differ = Vec::new();
    if o.seed != b.seed {
        differ.push(format!("seed {} (its file's: {})", b.seed, o.seed));
    }
    if o.paths != b.paths {
        differ.push(format!("{} paths (its file's: {})", b.paths, o.paths));
    }
    (!differ.is_empty()).then(|| {
        format!(
            "note: {} runs on {}'s {} here, for common random numbers; a run of it alone \
             uses its own (--seed and --paths set both)",
            own.scenario.name,
            base.scenario.name,
            differ.join(" and ")
        )
    })
}

pub fn compare(a: CompareArgs) -> Result<()> {
    let base = scenario::load_file(&a.base, &sets_with(&a.set.sets, a.sim.paths, a.sim.seed))
        .map_err(|e| e.in_file(&a.base))?;
    let alts: Vec<Loaded> = a
        .alts
        .iter()
        .map(|p| load_paired(p, &a.set.sets, &base))
        .collect::<Result<_>>()?;
    super::warn(std::iter::once(&base).chain(&alts), true);
    for (p, paired) in a.alts.iter().zip(&alts) {
        let own = scenario::load_file(p, &sets_with(&a.set.sets, a.sim.paths, a.sim.seed));
        if let Some(note) = own.ok().and_then(|o| paired_note(&o, paired, &base)) {
            say_err!("{note}");
        }
    }
    // Each comparison goes to `BASE-vs-ALT`: two alternatives with one
    // name would write over each other.
    for (i, l) in alts.iter().enumerate() {
        if let Some(first) = alts[..i]
            .iter()
            .find(|f| f.scenario.name == l.scenario.name)
        {
            return Err(scenario::same_name(l, first).into());
        }
        if l.scenario.currency != base.scenario.currency {
            return Err(scenario::other_currency(l, &base).into());
        }
    }
    if let Some(part) = a.shard {
        let o = shard::run_compare_shard(&base, &alts, &a.sim.out, a.sim.threads, part, !a.quiet)?;
        if !a.quiet {
            let sim = &base.scenario.simulation;
            say!(
                "{part}: paired paths {}..{} ({} of {}), seed {}, {}, {:.2} s",
                o.span.start,
                o.span.end,
                o.span.end - o.span.start,
                sim.paths,
                sim.seed,
                output::count(o.threads as u64, "thread"),
                o.wall_seconds
            );
            say!("{}", shard::how_to_merge(&o.dir, part));
        }
        return Ok(());
    }
    for l in &alts {
        let label = format!("{}-vs-{}", base.scenario.name, l.scenario.name);
        output::check_target(&a.sim.out.join("compare"), &label)?;
    }
    let base_model = Model::compile(&base.scenario);
    let alt_models: Vec<Model> = alts.iter().map(|l| Model::compile(&l.scenario)).collect();
    // One pass for every alternative: the base is simulated once per path.
    let label = match &alt_models[..] {
        [one] => format!("{} vs {}", one.name, base_model.name),
        many => format!("{} alternatives vs {}", many.len(), base_model.name),
    };
    let alt_refs: Vec<&Model> = alt_models.iter().collect();
    let comparisons =
        crate::runner::with_progress(base_model.paths, &label, !a.quiet, a.sim.threads, |opts| {
            compare::compare_all(&base_model, &alt_refs, opts)
        })?;
    let sides = Sides {
        base: &base,
        base_model: &base_model,
        alts: &alts,
        alt_models: &alt_models,
    };
    write_comparisons(&sides, &comparisons, &[], &a.sim.out, a.quiet, a.charts)
}

/// The scenarios of a comparison, loaded and compiled.
pub struct Sides<'a> {
    pub base: &'a Loaded,
    pub base_model: &'a Model,
    pub alts: &'a [Loaded],
    pub alt_models: &'a [Model],
}

/// Writes each alternative's `<out>/compare/BASE-vs-ALT/` (with `charts`,
/// its [`output::charts::COMPARE_CHART`]) and, unless `quiet`, its
/// summary; `shards` are the shards it was merged from.
pub fn write_comparisons(
    s: &Sides<'_>,
    comparisons: &[Comparison],
    shards: &[ShardRecord],
    out: &std::path::Path,
    quiet: bool,
    charts: bool,
) -> Result<()> {
    let (base, base_model) = (s.base, s.base_model);
    let mut stdout = std::io::stdout().lock();
    for ((alt, alt_model), c) in s.alts.iter().zip(s.alt_models).zip(comparisons) {
        if c.periods.is_empty() && !quiet {
            say_err!(
                "note: {} and {} have different periods; comparison_periods.csv has no rows",
                base_model.name,
                alt_model.name
            );
        }
        let label = format!("{}-vs-{}", base_model.name, alt_model.name);
        let dir = ResultDir::create(&out.join("compare"), &label)?;
        dir.write("comparison.csv", &output::comparison_csv(c)?)?;
        dir.write(
            "comparison_periods.csv",
            &output::comparison_periods_csv(c)?,
        )?;
        let currency = &alt.scenario.currency;
        if charts {
            output::charts::write_compare_chart(
                &dir.path("comparison.csv"),
                &base_model.name,
                &alt_model.name,
                currency,
            )?;
        }
        let man = CompareManifest {
            capsim_version: env!("CARGO_PKG_VERSION"),
            base: &base_model.name,
            alt: &alt_model.name,
            base_sha256: &base.resolved_sha256,
            alt_sha256: &alt.resolved_sha256,
            seed: base_model.seed,
            paths: c.paths,
            threads: c.threads,
            confidence: 0.95,
            currency,
            charts: if charts {
                vec![output::charts::COMPARE_CHART]
            } else {
                Vec::new()
            },
            variance_reduction: c
                .metrics
                .iter()
                .map(|m| VarianceReduction {
                    metric: &m.metric,
                    paired_stderr: m.diff_stderr,
                    independent_stderr: m.independent_stderr,
                    variance_ratio: variance_ratio(m),
                })
                .collect(),
            shards,
        };
        let mut json = serde_json::to_vec_pretty(&man).map_err(|e| Error::Other(e.to_string()))?;
        json.push(b'\n');
        dir.write("manifest.json", &json)?;
        let target = dir.commit()?;
        if !quiet {
            print_summary(
                &mut stdout,
                &base_model.name,
                &alt_model.name,
                &alt.scenario.currency,
                c,
            )
            .map_err(|e| Error::io("writing to stdout", e))?;
            let drawn = if charts { " (and comparison.svg)" } else { "" };
            writeln!(stdout, "wrote {}/{drawn}", target.display())
                .map_err(|e| Error::io("writing to stdout", e))?;
        }
    }
    Ok(())
}

/// Infracost-style lines: `npv  +$X.XB ($old -> $new)  +N%  (95% CI ...)`.
pub fn print_summary(
    out: &mut impl Write,
    base: &str,
    alt: &str,
    currency: &str,
    c: &Comparison,
) -> std::io::Result<()> {
    writeln!(
        out,
        "{alt} vs {base}: {} (common random numbers), differences alt - base",
        output::count(c.paths, "paired path")
    )?;
    for name in KEY_METRICS {
        let Some(m) = c.metric(name) else { continue };
        let money = !name.ends_with("gpu_hours");
        // Within round-off of zero (the same sums added in another order),
        // shown as zero, as `p_alt_lower` counts it; comparison.csv keeps
        // the values as computed.
        let round_off = crate::compare::ROUND_OFF * m.base_mean.abs().max(1.0);
        let shown = |v: f64| if v.abs() <= round_off { 0.0 } else { v };
        let diff = shown(m.diff_mean);
        let pct = if m.base_mean != 0.0 {
            format!("{:+.1}%", 100.0 * diff / m.base_mean.abs())
        } else {
            "n/a".to_string()
        };
        // One path has no standard error (`std` divides by n - 1), so no
        // interval either: said so, not printed as "NaN .. NaN".
        let interval = if m.diff_stderr.is_nan() {
            "no interval from one path".to_string()
        } else {
            format!(
                "95% CI {} .. {}",
                output::signed(shown(m.diff_ci_low), money, currency),
                output::signed(shown(m.diff_ci_high), money, currency)
            )
        };
        let vr = if m.diff_stderr.is_nan() {
            String::new()
        } else if m.diff_stderr > round_off {
            format!("; {}", pairing_gain(variance_ratio(m)))
        } else {
            "; no variance".to_string()
        };
        writeln!(
            out,
            "  {:<16} {} ({} -> {})  {}  ({}; alt lower on {} of paths{})",
            name,
            output::signed(diff, money, currency),
            output::human(m.base_mean, money, currency),
            output::human(m.alt_mean, money, currency),
            pct,
            interval,
            share_of_paths(m.p_alt_lower),
            vr
        )?;
    }
    Ok(())
}

/// How much less variance pairing gives than two independent runs:
/// `(independent_stderr / diff_stderr)^2`.
fn variance_ratio(m: &compare::MetricDiff) -> f64 {
    let r = m.independent_stderr / m.diff_stderr;
    r * r
}

/// A share of paths as a percentage that reads 0% or 100% only when it
/// is: 28 of 10,000 paths printed as "0%", now "0.3%"; 1 of 10,000 as
/// "under 0.1%".
fn share_of_paths(p: f64) -> String {
    let pct = 100.0 * p;
    if p == 0.0 || p == 1.0 || pct.is_nan() {
        return format!("{pct:.0}%");
    }
    for digits in [0, 1] {
        let shown = format!("{pct:.digits$}");
        let x: f64 = shown.parse().unwrap_or(pct);
        if x > 0.0 && x < 100.0 {
            return format!("{shown}%");
        }
    }
    if pct < 50.0 {
        "under 0.1%".to_string()
    } else {
        "over 99.9%".to_string()
    }
}

/// What pairing did to the variance, in words: `145x less variance than
/// unpaired`, `2.3x less ...`, or, where the two scenarios' values move
/// against each other, `1.8x more ...`; about the same within 5%.
fn pairing_gain(ratio: f64) -> String {
    match ratio {
        r if r >= 10.0 => format!("{r:.0}x less variance than unpaired"),
        r if r >= 1.05 => format!("{r:.1}x less variance than unpaired"),
        r if r > 1.0 / 1.05 => "about the variance of unpaired runs".to_string(),
        r => format!("{:.1}x more variance than unpaired", 1.0 / r),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::MetricDiff;

    #[test]
    fn shares_of_paths_read_0_or_100_only_when_they_are() {
        assert_eq!(share_of_paths(0.0), "0%");
        assert_eq!(share_of_paths(1.0), "100%");
        assert_eq!(share_of_paths(0.3945), "39%");
        assert_eq!(share_of_paths(0.0028), "0.3%");
        assert_eq!(share_of_paths(0.9972), "99.7%");
        assert_eq!(share_of_paths(0.0001), "under 0.1%");
        assert_eq!(share_of_paths(0.9999), "over 99.9%");
        assert_eq!(share_of_paths(0.005), "0.5%");
    }

    #[test]
    fn pairing_gain_says_less_or_more() {
        assert_eq!(pairing_gain(145.3), "145x less variance than unpaired");
        assert_eq!(pairing_gain(2.34), "2.3x less variance than unpaired");
        assert_eq!(pairing_gain(1.01), "about the variance of unpaired runs");
        assert_eq!(pairing_gain(0.99), "about the variance of unpaired runs");
        assert_eq!(pairing_gain(0.5), "2.0x more variance than unpaired");
    }

    fn diff(metric: &str, base: f64, d: f64, se: f64) -> MetricDiff {
        MetricDiff {
            metric: metric.to_string(),
            base_mean: base,
            alt_mean: base + d,
            diff_mean: d,
            diff_stderr: se,
            diff_ci_low: d - 2.0 * se,
            diff_ci_high: d + 2.0 * se,
            p_alt_lower: 0.0,
            independent_stderr: 1e9,
        }
    }

    /// A difference within round-off of zero (price-war against the
    /// baseline: the same shortfall, summed in another order, -3e-7 of
    /// 3e11) reads as zero, not "-$0.00 ... -0.0%"; one above round-off
    /// (1e-12 of the value, here 0.35) keeps its sign.
    #[test]
    fn round_off_differences_print_as_zero() {
        let c = Comparison {
            paths: 2000,
            threads: 1,
            metrics: vec![
                diff("shortfall_cost", 3.038e11, -2.98e-7, 4.0e-7),
                diff("capex", 3.5e11, -5.0, 1.0),
            ],
            periods: vec![],
        };
        let mut out = Vec::new();
        print_summary(&mut out, "baseline", "price-war", "USD", &c).unwrap();
        let out = String::from_utf8(out).unwrap();
        let line = |name: &str| {
            out.lines()
                .find(|l| l.trim_start().starts_with(name))
                .unwrap_or_else(|| panic!("{name} in {out}"))
                .to_string()
        };
        let shortfall = line("shortfall_cost");
        assert!(
            shortfall.contains("+$0.00 (")
                && shortfall.contains("+0.0%")
                && shortfall.contains("CI +$0.00 .. +$0.00")
                && shortfall.contains("no variance")
                && !shortfall.contains("-$")
                && !shortfall.contains("-0"),
            "{shortfall}"
        );
        let capex = line("capex");
        assert!(
            capex.contains("  -$5.00 (") && capex.contains("CI -$7.00 .. -$3.00"),
            "{capex}"
        );
    }

    /// One path: no standard error, so no interval and no variance ratio,
    /// said in words rather than printed as NaN.
    #[test]
    fn one_path_prints_no_interval() {
        let c = Comparison {
            paths: 1,
            threads: 1,
            metrics: vec![diff("npv", 7.9e11, -4.4e9, f64::NAN)],
            periods: vec![],
        };
        let mut out = Vec::new();
        print_summary(&mut out, "baseline", "price-war", "USD", &c).unwrap();
        let out = String::from_utf8(out).unwrap();
        let npv = out.lines().find(|l| l.contains("npv")).unwrap();
        assert!(
            npv.contains("-$4.40B (")
                && npv.contains("(no interval from one path; alt lower on 0% of paths)")
                && !npv.contains("NaN"),
            "{npv}"
        );
    }
}
