//! The command line (clap). One file per command; `main.rs` only calls
//! [`main`] and maps its error to an exit code.

mod batch;
mod chart;
mod check;
mod compare;
mod merge;
mod run;
mod sensitivity;
mod sweep;
mod trace;

use crate::error::{Error, Result};
use crate::scenario::{FieldValue, MAX_PATHS};
use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "capsim",
    version,
    about = "Monte Carlo simulator of AI compute-capacity cost under multi-cloud sourcing agreements",
    long_about = None
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// Options shared by commands that load a scenario.
#[derive(Debug, clap::Args)]
pub struct ScenarioArgs {
    /// Scenario file (TOML; see docs/scenario-format.md)
    pub scenario: PathBuf,
    #[command(flatten)]
    pub set: SetArgs,
}

/// `--set`, for every command that loads scenarios (`sweep` has its own:
/// ranges, not values).
#[derive(Debug, clap::Args)]
pub struct SetArgs {
    /// Override a scenario field by dotted path, e.g. provider.azure.price_drift=-0.3
    /// (arrays of tables are addressed by name or index; applied to every
    /// scenario and run the command makes); repeatable, each field once
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
}

/// Flags shared by every command that simulates.
#[derive(Debug, clap::Args)]
pub struct SimArgs {
    /// Number of paths (overrides simulation.paths; compare and batch: every
    /// scenario gets the base's unless this is given)
    #[arg(long, allow_negative_numbers = true, value_parser = paths_arg)]
    pub paths: Option<u64>,
    /// Random seed (overrides simulation.seed; compare, batch, sweep and
    /// sensitivity use one seed for every run: common random numbers)
    #[arg(long, allow_negative_numbers = true, value_parser = seed_arg)]
    pub seed: Option<u64>,
    /// Worker threads (default: all cores; at most 1024); results do not
    /// depend on it
    #[arg(
        long,
        default_value_t = 0,
        allow_negative_numbers = true,
        value_parser = threads_arg
    )]
    pub threads: usize,
    /// Output folder
    #[arg(long, default_value = "results")]
    pub out: PathBuf,
}

/// Most worker threads `--threads` accepts. Each holds its own scratch and
/// sketches (about a megabyte); a typo such as 100000 made the system refuse
/// the threads' stacks and the run crash.
pub const MAX_THREADS: usize = 1024;

fn threads_arg(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if n <= MAX_THREADS => Ok(n),
        _ => Err(format!(
            "found {s}, expected a whole number, 0 (all cores) to {MAX_THREADS}"
        )),
    }
}

/// `--seed`: a whole number from 0 to `i64::MAX`, the largest a scenario
/// file (TOML) holds, into which it goes as `simulation.seed` (refused
/// here, not as that override, which the user did not write).
pub(crate) fn seed_arg(s: &str) -> Result<u64, String> {
    whole_in(
        s,
        0,
        i64::MAX as u64,
        " (the largest a scenario file holds)",
    )
}

/// `--paths`: a whole number from 1 to [`MAX_PATHS`] (refused here, not
/// as the `simulation.paths` override it becomes, which the user did not
/// write).
pub(crate) fn paths_arg(s: &str) -> Result<u64, String> {
    whole_in(s, 1, MAX_PATHS, "")
}

/// The message for a flag the command does not take, where clap's would
/// mislead (`e` is clap's error for `args`): a flag of other commands
/// (`compare --charts`, which clap took for a typo of `--paths`; `trace
/// --paths`, for `--path`) names them; a flag of none, with no similar
/// flag of this command, lists this command's (clap's tip was to pass it
/// as a value, `-- --foo`). `None`: clap's own message (a typo of one of
/// the command's flags, or not an unknown flag).
pub fn unknown_flag(args: &[String], e: &clap::Error) -> Option<String> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    use clap::CommandFactory;
    if e.kind() != ErrorKind::UnknownArgument {
        return None;
    }
    let Some(ContextValue::String(arg)) = e.get(ContextKind::InvalidArg) else {
        return None;
    };
    let flag = arg.split('=').next().unwrap_or(arg);
    let long = flag.strip_prefix("--")?;
    let cli = Cli::command();
    let sub = args.iter().skip(1).find_map(|a| cli.find_subcommand(a))?;
    let has = |c: &clap::Command| c.get_arguments().any(|a| a.get_long() == Some(long));
    let others: Vec<String> = cli
        .get_subcommands()
        .filter(|c| c.get_name() != sub.get_name() && has(c))
        .map(|c| c.get_name().to_string())
        .collect();
    if others.is_empty() && e.get(ContextKind::SuggestedArg).is_some() {
        return None;
    }
    let flags: Vec<String> = sub
        .get_arguments()
        .filter(|a| !a.is_hide_set())
        .filter_map(|a| a.get_long())
        .filter(|l| *l != "help")
        .map(|l| format!("--{l}"))
        .collect();
    let name = sub.get_name();
    let of = if others.is_empty() {
        String::new()
    } else {
        format!(": it is a flag of {}", crate::error::or_list(&others))
    };
    Some(format!(
        "capsim {name} has no flag {flag}{of}; capsim {name}'s flags: {}\n\nFor more \
         information, try 'capsim {name} --help'.",
        flags.join(", ")
    ))
}

/// `--set KEY = VALUE` (or `KEY= VALUE`, `KEY =VALUE`): the shell splits
/// it into several arguments, which clap then reports as an unexpected
/// `=` or takes the value for a scenario file. Checked before clap parses
/// the command line: bad input, with the argument as it should be.
pub fn spaced_override(args: &[String]) -> Option<Error> {
    for (i, flag) in args.iter().enumerate() {
        if flag != "--set" && flag != "--param" {
            continue;
        }
        let (Some(a), b) = (args.get(i + 1), args.get(i + 2)) else {
            continue;
        };
        // What was meant, and how many arguments it was split into.
        let (joined, n) = match (a.contains('='), b) {
            // KEY = VALUE, KEY =VALUE
            (false, Some(b)) if b.starts_with('=') => match args.get(i + 3) {
                Some(c) if b == "=" && !c.starts_with('-') => (format!("{a}={c}"), 3),
                _ => (format!("{a}{b}"), 2),
            },
            // KEY= VALUE, unless VALUE is a file (`--set description=
            // alt.toml`: an empty description, then a scenario).
            (true, Some(b))
                if a.ends_with('=')
                    && !b.starts_with('-')
                    && !b.contains('=')
                    && !b.ends_with(".toml")
                    && !std::path::Path::new(b).exists() =>
            {
                (format!("{a}{b}"), 2)
            }
            _ => continue,
        };
        return Some(Error::flag(
            flag,
            format!(
                "found `{}` (the shell split it at its spaces), expected KEY=VALUE as one \
                 argument: {flag} {joined}",
                args[i + 1..=i + n].join(" ")
            ),
        ));
    }
    None
}

/// The two ends of a range `v` (`sweep`'s `--set`, `sensitivity`'s
/// `--param`) written with `..`, ` to `, `-`, `/` or `;`
/// between them (numbers, or months if `date`), as written and parsed.
fn ends_written_otherwise(v: &str, date: bool) -> Option<(String, String, FieldValue, FieldValue)> {
    // Past the first character, which may be a sign.
    let at = v.char_indices().nth(1)?.0;
    ["..", " to ", "-", "/", ";"].iter().find_map(|sep| {
        let (lo, hi) = v[at..].split_once(sep)?;
        let lo = format!("{}{lo}", &v[..at]).trim().to_string();
        let hi = hi.trim().to_string();
        let (a, b) = (FieldValue::parse(&lo, date)?, FieldValue::parse(&hi, date)?);
        Some((lo, hi, a, b))
    })
}

/// A whole number (`trace --path`): [`whole_in`] over every `u64`.
pub(crate) fn whole_arg(s: &str) -> Result<u64, String> {
    whole_in(s, 0, u64::MAX, "")
}

/// The most distinct warnings a command prints; the rest are counted.
const MOST_WARNINGS: usize = 20;

/// Prints on stderr each distinct warning of `scenarios` once
/// ([`crate::scenario::warnings`], and [`crate::scenario::set_warnings`]
/// of their `--set`s, each file read once for those), in order, after
/// `FILE: ` where `with_file` (a command of several files); at most
/// [`MOST_WARNINGS`], then how many more. `--quiet` does not silence them: a scheduler's log keeps them.
fn warn<'a>(scenarios: impl IntoIterator<Item = &'a crate::scenario::Loaded>, with_file: bool) {
    let mut seen = std::collections::HashSet::new();
    let mut lines = Vec::new();
    // Each file's own scenario, read once (a sweep's points share one).
    let mut files: std::collections::HashMap<&std::path::Path, Option<crate::scenario::Scenario>> =
        std::collections::HashMap::new();
    for l in scenarios {
        let mut ws = crate::scenario::warnings(&l.scenario);
        if crate::scenario::moves_horizon(l) {
            let file = files.entry(&l.file).or_insert_with(|| {
                crate::scenario::load_file(&l.file, &[])
                    .ok()
                    .map(|f| f.scenario)
            });
            ws.extend(
                file.as_ref()
                    .and_then(|f| crate::scenario::set_warnings(l, f)),
            );
        }
        for w in ws {
            let line = if with_file {
                format!("{}: {w}", l.file.display())
            } else {
                w
            };
            if seen.insert(line.clone()) {
                lines.push(line);
            }
        }
    }
    for line in lines.iter().take(MOST_WARNINGS) {
        say_err!("warning: {line}");
    }
    if lines.len() > MOST_WARNINGS {
        say_err!(
            "warning: ... and {} more (`capsim check` with the same --set lists a scenario's)",
            lines.len() - MOST_WARNINGS
        );
    }
}

/// A whole number from `lo` to `hi` (`--paths`, `--seed`, `trace --path`).
/// Anything else is refused with what was found and the range (`note`
/// after it), but a number in range written as a report or TOML would
/// write it (`1e6`, `1,000,000`, `1_000_000`, `10k`, `1000000.0`), which is
/// refused with the number written out, as the scenario file's whole
/// numbers are.
pub(crate) fn whole_in(s: &str, lo: u64, hi: u64, note: &str) -> Result<u64, String> {
    let range = || format!("found {s}, expected a whole number from {lo} to {hi}{note}");
    if let Ok(n) = s.parse::<u64>() {
        return if (lo..=hi).contains(&n) {
            Ok(n)
        } else {
            Err(range())
        };
    }
    let t = s.trim().replace(['_', ','], "");
    let (digits, scale) = match t.char_indices().last() {
        Some((i, c)) if "kKmMbB".contains(c) && i > 0 => (
            &t[..i],
            match c.to_ascii_lowercase() {
                'k' => 1e3,
                'm' => 1e6,
                _ => 1e9,
            },
        ),
        _ => (t.as_str(), 1.0),
    };
    match digits.parse::<f64>().map(|x| x * scale) {
        // (Below 1.8e19: every such f64 is a u64, and `hi` as f64 rounds up.)
        Ok(x)
            if x.fract() == 0.0
                && x.is_sign_positive()
                && x >= lo as f64
                && x <= hi as f64
                && x < 1.8e19 =>
        {
            Err(format!("expected a whole number written out: {x:.0}"))
        }
        _ => Err(range()),
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Simulate a scenario and write summary.csv, periods.csv, providers.csv and manifest.json
    Run(run::RunArgs),
    /// Validate a scenario and print it with every default filled in
    Check(check::CheckArgs),
    /// Compare scenarios against a base on paired paths (common random numbers)
    Compare(compare::CompareArgs),
    /// Run every scenario in a folder and index them against a benchmark scenario
    Batch(batch::BatchArgs),
    /// Run a grid over one or more parameters (--set key=lo:hi:steps)
    Sweep(sweep::SweepArgs),
    /// One-at-a-time tornado and Spearman drivers of NPV and economic cost
    Sensitivity(sensitivity::SensitivityArgs),
    /// Tell the full story of one path, period by period
    Trace(trace::TraceArgs),
    /// Join the shards of one run, comparison, batch, sweep or sensitivity analysis (`--shard I/N`) into its result
    Merge(merge::MergeArgs),
    /// Draw charts/ (SVG) in result folders from their CSV files
    Chart(chart::ChartArgs),
}

pub fn main(cli: Cli) -> Result<()> {
    // A bad `--out` fails before the simulation, not after it.
    if let Command::Run(run::RunArgs { sim, .. })
    | Command::Compare(compare::CompareArgs { sim, .. })
    | Command::Batch(batch::BatchArgs { sim, .. })
    | Command::Sweep(sweep::SweepArgs { sim, .. })
    | Command::Sensitivity(sensitivity::SensitivityArgs { sim, .. }) = &cli.command
    {
        crate::output::check_out(&sim.out)?;
    }
    if let Command::Merge(merge::MergeArgs { out, .. }) = &cli.command {
        crate::output::check_out(out)?;
    }
    match cli.command {
        Command::Run(a) => run::run(a),
        Command::Check(a) => check::check(a),
        Command::Compare(a) => compare::compare(a),
        Command::Batch(a) => batch::batch(a),
        Command::Sweep(a) => sweep::sweep(a),
        Command::Sensitivity(a) => sensitivity::sensitivity(a),
        Command::Trace(a) => trace::trace(a),
        Command::Merge(a) => merge::merge(a),
        Command::Chart(a) => chart::chart(a),
    }
}
