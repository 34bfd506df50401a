use crate::error::{Error, Result};
use crate::{runner, shard};
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// The shard folders of one run, comparison, batch, sweep or
    /// sensitivity analysis (`capsim run`, `compare`, `batch`, `sweep` or
    /// `sensitivity ... --shard I/N` wrote them), all N, in any order
    #[arg(required = true, value_name = "SHARD")]
    pub shards: Vec<PathBuf>,
    /// Output folder
    #[arg(long, default_value = "results")]
    pub out: PathBuf,
    /// Threads for the summaries and a sensitivity's ranks (default: all cores)
    #[arg(
        long,
        default_value_t = 0,
        allow_negative_numbers = true,
        value_parser = super::threads_arg
    )]
    pub threads: usize,
    /// Also draw charts/ (SVG: spend and demand per period, providers, totals;
    /// a run's or a batch's shards), comparison.svg (a comparison's),
    /// sweep.svg (a sweep's) or tornado.svg (a sensitivity analysis's)
    #[arg(long)]
    pub charts: bool,
    /// No summary table
    #[arg(long, short)]
    pub quiet: bool,
}

/// The five kinds of shard folder `merge` joins, each known by the
/// description file its shards hold.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Run,
    Compare,
    Batch,
    Sweep,
    Sensitivity,
}

impl Kind {
    const ALL: [Kind; 5] = [
        Kind::Run,
        Kind::Compare,
        Kind::Batch,
        Kind::Sweep,
        Kind::Sensitivity,
    ];

    /// The description file a shard folder of this kind holds.
    fn file(self) -> &'static str {
        match self {
            Kind::Run => shard::HEADER,
            Kind::Compare => shard::COMPARE_HEADER,
            Kind::Batch => super::batch::BATCH_HEADER,
            Kind::Sweep => super::sweep::SWEEP_HEADER,
            Kind::Sensitivity => super::sensitivity::SENSITIVITY_HEADER,
        }
    }

    /// The kind of shard folder `dir` is, if it is one.
    fn of(dir: &Path) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| dir.join(k.file()).is_file())
    }

    /// "a run's", for a message.
    fn whose(self) -> &'static str {
        match self {
            Kind::Run => "a run's",
            Kind::Compare => "a comparison's",
            Kind::Batch => "a batch's",
            Kind::Sweep => "a sweep's",
            Kind::Sensitivity => "a sensitivity analysis's",
        }
    }
}

/// What every shard folder should be, for a message.
const EXPECTED: &str = "expected a shard folder written by `capsim run`, `compare`, \
                        `batch`, `sweep` or `sensitivity` with `--shard I/N`";

/// The shard folders in `dir` and in its folders (a shard's `--out`
/// folder holds a run's or a batch's shard folder, and a comparison's, a
/// sweep's or a sensitivity analysis's one level down), sorted.
fn shards_inside(dir: &Path) -> Vec<PathBuf> {
    let folders = |d: &Path| -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(d)
            .map(|r| {
                r.filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.is_dir())
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    };
    let mut found = Vec::new();
    for d in folders(dir) {
        if Kind::of(&d).is_some() {
            found.push(d);
        } else {
            found.extend(folders(&d).into_iter().filter(|e| Kind::of(e).is_some()));
        }
    }
    found
}

/// The kind of the shard folders given, all one: a folder that is no
/// shard folder, or one of another kind than the first, is refused here,
/// naming it (a shard's `--out` folder given instead of the shard folder
/// in it, or shards of two commands, are easy to give by mistake).
fn kind(dirs: &[PathBuf]) -> Result<Kind> {
    let mut first: Option<(&PathBuf, Kind)> = None;
    for d in dirs {
        let Some(k) = Kind::of(d) else {
            if !d.exists() {
                return Err(Error::file(d, format!("no such folder; {EXPECTED}")));
            }
            if !d.is_dir() {
                return Err(Error::file(d, format!("a file, not a folder; {EXPECTED}")));
            }
            let inside = shards_inside(d);
            let names = |v: &[PathBuf]| {
                let shown: Vec<String> =
                    v.iter().take(4).map(|p| p.display().to_string()).collect();
                let more = v.len().saturating_sub(4);
                if more > 0 {
                    format!("{} and {more} more", shown.join(", "))
                } else {
                    shown.join(", ")
                }
            };
            let files: Vec<&str> = Kind::ALL.iter().map(|k| k.file()).collect();
            let files = crate::error::or_list(&files);
            let held = match inside.len() {
                0 => String::new(),
                1 => format!("; it holds one: {} (give that)", names(&inside)),
                n => format!("; it holds {n}: {} (give those)", names(&inside)),
            };
            return Err(Error::file(
                d,
                format!("not a shard folder (no {files} in it){held}; {EXPECTED}"),
            ));
        };
        match first {
            None => first = Some((d, k)),
            Some((f, fk)) if fk != k => {
                return Err(Error::file(
                    d,
                    format!(
                        "{} shard folder, but {} is {}; merge joins the shards of one \
                         run, comparison, batch, sweep or sensitivity analysis",
                        k.whose(),
                        f.display(),
                        fk.whose()
                    ),
                ))
            }
            Some(_) => {}
        }
    }
    first
        .map(|(_, k)| k)
        .ok_or_else(|| Error::flag("merge", "no shard folders given"))
}

pub fn merge(a: MergeArgs) -> Result<()> {
    let kind = kind(&a.shards)?;
    match kind {
        // A sweep's shards: <out>/sweep/<name>/, as `sweep` writes it.
        Kind::Sweep => super::sweep::merge_shards(&a.shards, &a.out, a.threads, a.charts, a.quiet),
        // A sensitivity analysis's shards: <out>/sensitivity/<name>/.
        Kind::Sensitivity => {
            let say = super::sensitivity::Say {
                quiet: a.quiet,
                charts: a.charts,
            };
            super::sensitivity::merge_shards(&a.shards, &a.out, a.threads, say)
        }
        // A batch's shards: every scenario's folder and the index in
        // <out>, as `batch` writes them.
        Kind::Batch => super::batch::merge_shards(&a.shards, &a.out, a.threads, a.charts, a.quiet),
        // A comparison's shards: its folders under <out>/compare/, as
        // `compare` writes them.
        Kind::Compare => {
            let m = shard::merge_compare(&a.shards)?;
            let sides = super::compare::Sides {
                base: &m.base,
                base_model: &m.base_model,
                alts: &m.alts,
                alt_models: &m.alt_models,
            };
            let (shards, out) = (&m.shards, &a.out);
            super::compare::write_comparisons(
                &sides,
                &m.comparisons,
                shards,
                out,
                a.quiet,
                a.charts,
            )
        }
        Kind::Run => {
            let (loaded, outcome) = shard::merge(&a.shards, &a.out, a.threads, a.charts)?;
            if !a.quiet {
                let mut out = std::io::stdout().lock();
                runner::print_report(&mut out, &loaded, &outcome)
                    .map_err(|e| Error::io("writing to stdout", e))?;
            }
            Ok(())
        }
    }
}
