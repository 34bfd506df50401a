//! Shards: one run's paths split between processes or machines (a batch
//! scheduler's array job), then merged into the result one process would
//! have written, bit for bit.
//!
//! `capsim run SCENARIO --shard I/N` simulates the I-th of N consecutive
//! parts of the paths, cut at [`CHUNK`] boundaries, and writes
//! `<out>/<name>.shard-I-of-N/`: `shard.json` (the resolved scenario, its
//! hashes, the run's options, the sketches and extremes) and
//! [`MOMENTS`] (every chunk's moments). A run's means and variances are
//! its chunks' moments merged one after another in path order
//! ([`crate::stats`]); that sequence cannot be cut into totals per shard
//! without changing its rounding, so each shard hands over its chunks'
//! moments (16 bytes per value per 1,024 paths: about 10 MB per 10^6
//! baseline paths) and `capsim merge` folds them in path order, exactly as
//! the engine does. Sketch counts and extremes are order-independent and
//! simply added. `paths.csv` parts are joined in path order.
//!
//! A paired comparison is split the same way (`capsim compare BASE ALT...
//! --shard I/N`, [`run_compare_shard`], [`merge_compare`]): it accumulates
//! moments only, so its shards hand over their chunks' moments and a
//! description of the scenarios compared. A `batch`'s shards
//! (`crate::cli::batch`) use the same pieces for each of its passes, a
//! `sweep`'s (`crate::cli::sweep`) for each of its grid points.

use crate::compare::{Comparison, PairJob};
use crate::engine::{self, Job};
use crate::error::{Error, InputError, Origin, Result};
use crate::model::Model;
use crate::output::focus::FocusStat;
use crate::output::{self, ResultDir};
use crate::runner::{self, Outcome, Settings, ShardOutcome};
use crate::scenario::{self, Loaded};
use crate::stats::{Accumulated, Moments, Tails, CHUNK};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime};

/// The shard's description and statistics.
pub const HEADER: &str = "shard.json";
/// Every chunk's moments, in path order: per chunk its path count (u64),
/// then per value its mean and sum of squared deviations (f64), all
/// little-endian.
pub const MOMENTS: &str = "moments.bin";
/// A run's per-path rows (`--paths-csv`): in a shard folder, the shard's
/// own rows, which `merge` joins in path order.
pub const PATHS_CSV: &str = "paths.csv";
/// The sha256 of each of a shard folder's data files (moments, rows), by
/// file name, as its description lists them: `merge` checks them before it
/// reads any, so that a file damaged on its way between machines is
/// refused rather than merged.
pub type FileHashes = BTreeMap<String, FileSum>;

/// A data file's size and sha256.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FileSum {
    pub bytes: u64,
    pub sha256: String,
}

/// The sha256 of the files `names` in shard folder `dir` (being written).
pub(crate) fn hash_files(dir: &ResultDir, names: &[&str]) -> Result<FileHashes> {
    names
        .iter()
        .map(|n| {
            let file = dir.path(n);
            let bytes = std::fs::metadata(&file)
                .map_err(|e| Error::io(format!("cannot read {}", file.display()), e))?
                .len();
            let sha256 = file_sha256(&file)?;
            Ok((n.to_string(), FileSum { bytes, sha256 }))
        })
        .collect()
}

fn file_sha256(file: &Path) -> Result<String> {
    use sha2::{Digest, Sha256};
    let f = std::fs::File::open(file).map_err(|e| bad(file, format!("cannot read it: {e}")))?;
    let mut rd = BufReader::with_capacity(1 << 20, f);
    let mut h = Sha256::new();
    loop {
        let buf = rd
            .fill_buf()
            .map_err(|e| Error::io(format!("cannot read {}", file.display()), e))?;
        if buf.is_empty() {
            break;
        }
        h.update(buf);
        let n = buf.len();
        rd.consume(n);
    }
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// Checks the data files of shard folder `dir` against the sha256s its
/// description lists; `reads` are the files the merge will read, each of
/// which must be listed (a description without them, written by a capsim
/// from before descriptions listed their files, or edited, would let a
/// damaged file through unchecked).
pub(crate) fn check_files(dir: &Path, hashes: &FileHashes, reads: &[&str]) -> Result<()> {
    if let Some(name) = reads.iter().find(|n| !hashes.contains_key(**n)) {
        return Err(bad(
            &dir.join(name),
            "its shard's description lists no size and sha256 for it, so it cannot be \
             checked (a description written by an older capsim, before shards listed \
             their files, or edited); run that shard again",
        ));
    }
    for (name, want) in hashes {
        let file = dir.join(name);
        let len = std::fs::metadata(&file)
            .map_err(|e| {
                bad(
                    &file,
                    format!("cannot read it ({e}); its shard's description lists it"),
                )
            })?
            .len();
        if len != want.bytes {
            return Err(bad(
                &file,
                format!(
                    "found {len} bytes, expected {} (what its shard's description lists): the \
                     file is truncated or damaged",
                    want.bytes
                ),
            ));
        }
        if file_sha256(&file)? != want.sha256 {
            return Err(bad(
                &file,
                "its sha256 is not the one its shard's description lists: the file is \
                 damaged (or was edited); copy or run that shard again",
            ));
        }
    }
    Ok(())
}

/// Version of the two files' layout.
pub(crate) const FORMAT: u32 = 1;

/// Part `index` (1-based) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "shard {} of {}", self.index, self.count)
    }
}

impl std::str::FromStr for Shard {
    type Err = String;
    /// `I/N` with 1 <= I <= N.
    fn from_str(s: &str) -> std::result::Result<Shard, String> {
        let bad = || format!("found `{s}`, expected I/N with 1 <= I <= N, e.g. 2/8");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count): (u64, u64) = (
            i.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if index == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl Shard {
    /// Its paths: the `index`-th of `count` near-equal runs of whole
    /// [`CHUNK`]s (the last chunk may be short), so that merging shards
    /// repeats the engine's chunks exactly. Every shard gets at least one
    /// chunk, so `count` may not exceed the chunks.
    pub fn span(self, paths: u64) -> Result<Range<u64>> {
        let chunks = paths.div_ceil(CHUNK as u64);
        if self.count > chunks {
            return Err(Error::flag(
                "--shard",
                format!(
                    "found {}/{}, but {} {} {} of {CHUNK}: expected at most {}",
                    self.index,
                    self.count,
                    output::count(paths, "path"),
                    if paths == 1 { "is" } else { "are" },
                    output::count(chunks, "chunk"),
                    output::count(chunks, "shard"),
                ),
            ));
        }
        let cut = |i: u64| (i as u128 * chunks as u128 / self.count as u128) as u64;
        let (a, b) = (cut(self.index - 1), cut(self.index));
        Ok(a * CHUNK as u64..(b * CHUNK as u64).min(paths))
    }

    /// Its result folder's name.
    pub fn folder(self, name: &str) -> String {
        format!("{name}.shard-{}-of-{}", self.index, self.count)
    }
}

/// One shard's run, as a merged result's manifest lists it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ShardRecord {
    pub shard: u64,
    /// The scenario file it was run from, and that file's sha256: shards
    /// of one run may come from different copies of the file (another
    /// machine's path, other comments), as long as they resolve alike.
    /// (Empty for a shard of a `batch`, whose files its scenarios list.)
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub scenario_file: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub scenario_sha256: String,
    pub first_path: u64,
    pub paths: u64,
    pub threads: usize,
    pub block_paths: usize,
    pub started_utc: String,
    pub wall_seconds: f64,
}

/// `shard.json`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    format: u32,
    capsim_version: String,
    scenario: String,
    scenario_file: String,
    scenario_sha256: String,
    resolved_sha256: String,
    overrides: Vec<String>,
    shard: u64,
    of: u64,
    /// The whole run's paths.
    paths: u64,
    record: ShardRecord,
    /// Chunks in [`MOMENTS`], values per path and how many are sketched.
    chunks: u64,
    width: usize,
    sketched: usize,
    paths_csv: bool,
    focus: Option<FocusStat>,
    regret: bool,
    /// `--charts`: the merge draws them.
    charts: bool,
    resolved_scenario: String,
    tails: Tails,
    #[serde(default)]
    files: FileHashes,
}

/// Writes [`MOMENTS`] chunk by chunk as the engine merges them.
pub struct MomentsWriter {
    out: BufWriter<std::fs::File>,
    path: PathBuf,
    bytes: Vec<u8>,
}

impl MomentsWriter {
    pub fn create(path: &Path) -> Result<MomentsWriter> {
        let f = std::fs::File::create(path)
            .map_err(|e| Error::io(format!("cannot create {}", path.display()), e))?;
        Ok(MomentsWriter {
            out: BufWriter::with_capacity(1 << 20, f),
            path: path.to_path_buf(),
            bytes: Vec::new(),
        })
    }

    /// One chunk: the moments of each value.
    pub fn chunk(&mut self, ms: &[Moments]) -> Result<()> {
        self.bytes.clear();
        self.bytes
            .extend_from_slice(&ms.first().map_or(0, |m| m.n).to_le_bytes());
        for m in ms {
            self.bytes.extend_from_slice(&m.mean.to_le_bytes());
            self.bytes.extend_from_slice(&m.m2.to_le_bytes());
        }
        self.out
            .write_all(&self.bytes)
            .map_err(|e| Error::io(format!("cannot write {}", self.path.display()), e))
    }

    pub fn finish(mut self) -> Result<()> {
        self.out
            .flush()
            .map_err(|e| Error::io(format!("cannot write {}", self.path.display()), e))
    }
}

/// Writes `shard.json` of a simulated shard into its (uncommitted) folder.
pub(crate) fn write_header(
    dir: &ResultDir,
    loaded: &Loaded,
    settings: &Settings,
    part: Shard,
    span: Range<u64>,
    stats: &engine::RunStats,
    timing: &runner::Timing<'_>,
) -> Result<()> {
    let acc = &stats.accumulated;
    let h = Header {
        format: FORMAT,
        capsim_version: env!("CARGO_PKG_VERSION").to_string(),
        scenario: loaded.scenario.name.clone(),
        scenario_file: loaded.file.display().to_string(),
        scenario_sha256: loaded.file_sha256.clone(),
        resolved_sha256: loaded.resolved_sha256.clone(),
        overrides: loaded.overrides.clone(),
        shard: part.index,
        of: part.count,
        paths: loaded.scenario.simulation.paths,
        record: ShardRecord {
            shard: part.index,
            scenario_file: loaded.file.display().to_string(),
            scenario_sha256: loaded.file_sha256.clone(),
            first_path: span.start,
            paths: span.end - span.start,
            threads: stats.threads,
            block_paths: settings.block,
            started_utc: output::utc_timestamp(timing.started),
            wall_seconds: timing.wall_seconds,
        },
        chunks: (span.end - span.start).div_ceil(CHUNK as u64),
        width: acc.moments.len(),
        sketched: acc.tails.sketches.len(),
        paths_csv: settings.paths_csv,
        focus: settings.focus,
        regret: settings.regret,
        charts: settings.charts,
        resolved_scenario: loaded.resolved_toml.clone(),
        tails: acc.tails.clone(),
        files: hash_files(
            dir,
            if settings.paths_csv {
                &[MOMENTS, PATHS_CSV]
            } else {
                &[MOMENTS]
            },
        )?,
    };
    write_description(dir, HEADER, &h)
}

/// The field that ends every shard description: the sha256 of the
/// description's bytes before it ([`seal`]).
const SEAL: &str = "description_sha256";

/// Description `body` (one JSON object, as serialized) with the sha256 of
/// its bytes added as its last field, then a newline: a description holds
/// data too (a run's sketches, its chunks' records, the scenario text), so
/// `merge` checks it as it checks the data files the description lists.
pub fn seal(mut body: Vec<u8>) -> Vec<u8> {
    let hash = scenario::sha256_hex(&body);
    debug_assert!(
        body.ends_with(b"}") && body.len() > 2,
        "a JSON object with fields"
    );
    body.pop();
    body.extend_from_slice(format!(",\"{SEAL}\":\"{hash}\"}}\n").as_bytes());
    body
}

/// Writes description `h` into shard folder `dir` as file `name`, sealed.
pub(crate) fn write_description<H: serde::Serialize>(
    dir: &ResultDir,
    name: &str,
    h: &H,
) -> Result<()> {
    let body = serde_json::to_vec(h).map_err(|e| Error::Other(e.to_string()))?;
    dir.write(name, &seal(body))
}

/// The bytes [`seal`] sealed, if description `bytes` ends with their
/// sha256 and it matches: `Ok(None)` if it ends without one.
fn unseal(file: &Path, bytes: &[u8]) -> Result<Option<Vec<u8>>> {
    let text = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    let tag = format!(",\"{SEAL}\":\"");
    let n = tag.len() + 64 + 2;
    if text.len() <= n
        || !text[text.len() - n..].starts_with(tag.as_bytes())
        || !text.ends_with(b"\"}")
    {
        return Ok(None);
    }
    let cut = text.len() - n;
    let mut body = text[..cut].to_vec();
    body.push(b'}');
    if scenario::sha256_hex(&body).as_bytes() != &text[cut + tag.len()..text.len() - 2] {
        return Err(bad(
            file,
            "its sha256 is not that of its contents: the description is damaged (or was \
             edited); copy or run that shard again",
        ));
    }
    Ok(Some(body))
}

/// A problem with a shard folder given to `merge` (exit code 2).
pub(crate) fn bad(file: &Path, message: impl Into<String>) -> Error {
    Error::file(file, message)
}

/// A run's shard folder's header.
fn read_header(dir: &Path) -> Result<Header> {
    read_description(
        dir,
        HEADER,
        "expected a shard folder written by `capsim run SCENARIO --shard I/N`",
        "a capsim shard description",
        |h: &Header| (h.format, h.capsim_version.as_str()),
    )
}

/// Shard folder `dir`'s description, file `name`: `what` says what the
/// folder should be, `kind` what the file should be, `format` reads the
/// file's format number and the capsim version that wrote it.
pub(crate) fn read_description<H: serde::de::DeserializeOwned>(
    dir: &Path,
    name: &str,
    what: &str,
    kind: &str,
    format: impl Fn(&H) -> (u32, &str),
) -> Result<H> {
    let file = dir.join(name);
    if !dir.is_dir() {
        return Err(bad(dir, what));
    }
    let bytes =
        std::fs::read(&file).map_err(|e| bad(&file, format!("cannot read it ({e}); {what}")))?;
    let body = unseal(&file, &bytes)?;
    let h: H = serde_json::from_slice(body.as_deref().unwrap_or(&bytes)).map_err(|e| {
        Error::from(InputError {
            origin: Origin::File {
                file: file.clone(),
                line: e.line(),
                column: e.column(),
            },
            field: String::new(),
            message: format!("not {kind}: {e}"),
            hint: None,
        })
    })?;
    let (found, version) = format(&h);
    if found != FORMAT {
        return Err(bad(
            &file,
            format!("shard format {found}, expected {FORMAT} (written by capsim {version})"),
        ));
    }
    if body.is_none() {
        return Err(bad(
            &file,
            format!(
                "it ends without its sha256 (`{SEAL}`), so its contents cannot be checked (a \
                 description written by an older capsim, before descriptions carried one, or \
                 edited); run that shard again"
            ),
        ));
    }
    Ok(h)
}

/// Where resolved scenario `b` first differs from `a`, for a message.
fn first_difference(a: &str, b: &str) -> String {
    let (mut la, mut lb) = (a.lines(), b.lines());
    for line in 1.. {
        match (la.next(), lb.next()) {
            (Some(x), Some(y)) if x == y => continue,
            (None, None) => break,
            (x, y) => {
                return format!(
                    "line {line}: `{}` where the first has `{}`",
                    y.unwrap_or("(end)").trim(),
                    x.unwrap_or("(end)").trim()
                )
            }
        }
    }
    "equal text, different hashes".to_string()
}

/// What a shard prints once written (`dir`, its folder): where it is, and
/// the `merge` command that joins it with the others (if every job used the
/// same `--out`).
pub fn how_to_merge(dir: &Path, part: Shard) -> String {
    let name = dir.file_name().unwrap_or_default().to_string_lossy();
    let all = name.replace(&format!(".shard-{}-of-", part.index), ".shard-*-of-");
    // The folder quoted for the shell where it needs it, the pattern not.
    let folder = match dir.parent().map(|p| p.display().to_string()) {
        Some(p) if !p.is_empty() => format!("{}/", crate::error::quoted(&p)),
        _ => String::new(),
    };
    format!(
        "wrote {}/; once all {} shards are done (moved into one folder if they ran on \
         several machines): capsim merge {folder}{all} [--out DIR]",
        dir.display(),
        part.count,
    )
}

/// The first scenario of two shards' (paired in order) whose resolved forms
/// differ, as a message; `None` if none does.
pub(crate) fn resolved_differs<'s>(
    pairs: impl IntoIterator<Item = (&'s Side, &'s Side)>,
) -> Option<String> {
    pairs
        .into_iter()
        .find(|(a, b)| a.resolved_sha256 != b.resolved_sha256)
        .map(|(a, b)| {
            format!(
                "its resolved scenario `{}` differs ({})",
                b.scenario,
                first_difference(&a.resolved_scenario, &b.resolved_scenario)
            )
        })
}

/// Every shard folder's description, read by `read`, each checked to be
/// written by this capsim (`version` gives the version that wrote it); at
/// least one.
pub(crate) fn read_all<H>(
    dirs: &[PathBuf],
    read: impl Fn(&Path) -> Result<H>,
    version: impl Fn(&H) -> &str,
) -> Result<Vec<(PathBuf, H)>> {
    let mut shards = Vec::with_capacity(dirs.len());
    for d in dirs {
        let h = read(d)?;
        made_by_this(d, version(&h))?;
        shards.push((d.clone(), h));
    }
    if shards.is_empty() {
        return Err(Error::flag("merge", "expected at least one shard folder"));
    }
    Ok(shards)
}

/// Checks that shard folder `dir` was written by this capsim `version`.
pub(crate) fn made_by_this(dir: &Path, version: &str) -> Result<()> {
    let this = env!("CARGO_PKG_VERSION");
    if version != this {
        return Err(bad(
            dir,
            format!(
                "written by capsim {version}, this is capsim {this}: merge shards with the \
                 version that simulated them (its random draws may differ)"
            ),
        ));
    }
    Ok(())
}

/// Checks that `shards` are every shard of one run made by this capsim,
/// each once, and sorts them by shard number.
fn check_one_run(shards: &mut [(PathBuf, Header)]) -> Result<()> {
    let (d0, h0) = &shards[0];
    made_by_this(d0, &h0.capsim_version)?;
    for (d, h) in &shards[1..] {
        let differs = |what: &str, a: &dyn fmt::Debug, b: &dyn fmt::Debug| {
            bad(
                d,
                format!(
                    "not a shard of the same run as {}: its {what} is {b:?}, expected {a:?}",
                    d0.display()
                ),
            )
        };
        if h.capsim_version != h0.capsim_version {
            return Err(differs(
                "capsim version",
                &h0.capsim_version,
                &h.capsim_version,
            ));
        }
        if h.resolved_sha256 != h0.resolved_sha256 {
            return Err(bad(
                d,
                format!(
                    "not a shard of the same run as {}: its resolved scenario differs \
                     ({}); scenario, --set, --paths and --seed must be the same for \
                     every shard",
                    d0.display(),
                    first_difference(&h0.resolved_scenario, &h.resolved_scenario),
                ),
            ));
        }
        if h.of != h0.of {
            return Err(differs("shard count (N of --shard I/N)", &h0.of, &h.of));
        }
        if (h.paths_csv, h.focus, h.regret) != (h0.paths_csv, h0.focus, h0.regret) {
            return Err(differs(
                "options (--paths-csv, --focus, --regret)",
                &(h0.paths_csv, h0.focus, h0.regret),
                &(h.paths_csv, h.focus, h.regret),
            ));
        }
    }
    let of = h0.of;
    check_complete(shards, |h| h.shard, of)
}

/// Checks that `shards` (as [`read_all`] gives them) are every shard of
/// one `what` (a comparison, a batch...), each once, and sorts them by
/// shard number: each shard the same as the first by `differs(first, it)`
/// (how it differs, `None` if it does not) and in its shard count
/// (`number`: its shard and count); `same` says what must be the same for
/// every shard.
pub(crate) fn check_one_job<H>(
    shards: &mut [(PathBuf, H)],
    what: &str,
    same: &str,
    number: impl Fn(&H) -> (u64, u64),
    differs: impl Fn(&H, &H) -> Option<String>,
) -> Result<()> {
    let (d0, h0) = &shards[0];
    let of = number(h0).1;
    for (d, h) in &shards[1..] {
        let diff = differs(h0, h).or_else(|| {
            let n = number(h).1;
            (n != of).then(|| format!("it is one of {n} shards, expected {of}"))
        });
        if let Some(diff) = diff {
            return Err(bad(
                d,
                format!(
                    "not a shard of the same {what} as {}: {diff}; {same} must be the same \
                     for every shard",
                    d0.display()
                ),
            ));
        }
    }
    check_complete(shards, |h| number(h).0, of)
}

/// Checks that `shards` (each numbered by `number`) are shards 1 to `of`,
/// each once, and sorts them by number.
pub(crate) fn check_complete<H>(
    shards: &mut [(PathBuf, H)],
    number: impl Fn(&H) -> u64,
    of: u64,
) -> Result<()> {
    shards.sort_by_key(|(_, h)| number(h));
    for w in shards.windows(2) {
        if number(&w[0].1) == number(&w[1].1) {
            return Err(bad(
                &w[1].0,
                format!(
                    "shard {} of {} given twice (also {})",
                    number(&w[1].1),
                    of,
                    w[0].0.display()
                ),
            ));
        }
    }
    let given: Vec<u64> = shards.iter().map(|(_, h)| number(h)).collect();
    let missing: Vec<String> = (1..=of)
        .filter(|i| given.binary_search(i).is_err())
        .map(|i| i.to_string())
        .collect();
    if !missing.is_empty() {
        let shown = if missing.len() > 10 {
            format!(
                "{}, ... ({} in all)",
                missing[..10].join(", "),
                missing.len()
            )
        } else {
            missing.join(", ")
        };
        return Err(Error::flag(
            "merge",
            format!(
                "{} of {} shards given; missing shard {} (expected every I of --shard I/{} once)",
                given.len(),
                of,
                shown,
                of
            ),
        ));
    }

    Ok(())
}

/// Merges the shards in `dirs` (all of one run, in any order) into the
/// result folder `<out>/<name>/` one `capsim run` of the whole run writes:
/// the same CSV files, byte for byte; the manifest lists the shards.
/// Summaries are computed on `threads` threads (0: all cores); with
/// `charts`, or if a shard was run with `--charts`, `charts/` is drawn too.
pub fn merge(
    dirs: &[PathBuf],
    out: &Path,
    threads: usize,
    charts: bool,
) -> Result<(Loaded, Outcome)> {
    let started = SystemTime::now();
    let clock = Instant::now();
    let threads = crate::engine::all_cores(threads);
    let mut shards: Vec<(PathBuf, Header)> = Vec::with_capacity(dirs.len());
    for d in dirs {
        shards.push((d.clone(), read_header(d)?));
    }
    if shards.is_empty() {
        return Err(Error::flag("merge", "expected at least one shard folder"));
    }
    check_one_run(&mut shards)?;
    let (_, h0) = &shards[0];
    let header_file = shards[0].0.join(HEADER);
    let mut loaded = scenario::load_str(Path::new(&h0.scenario_file), &h0.resolved_scenario, &[])
        .map_err(|e| {
        bad(
            &header_file,
            format!("its resolved scenario does not load: {e}"),
        )
    })?;
    if loaded.resolved_sha256 != h0.resolved_sha256 {
        return Err(bad(
            &header_file,
            "its resolved scenario does not match its sha256 (the file was edited)",
        ));
    }
    loaded.file_sha256 = h0.scenario_sha256.clone();
    loaded.overrides = h0.overrides.clone();
    let (model, other) = runner::compile(&loaded.scenario, h0.regret);
    let charges = h0.focus.is_some();
    let (width, sketched) = engine::model_job_shape(&model, charges, other.as_ref());

    for (d, h) in &shards {
        let reads: &[&str] = if h.paths_csv {
            &[MOMENTS, PATHS_CSV]
        } else {
            &[MOMENTS]
        };
        check_files(d, &h.files, reads)?;
    }
    let mut acc = Accumulated::new(width, sketched);
    let mut records = Vec::with_capacity(shards.len());
    for (d, h) in &shards {
        let file = d.join(HEADER);
        let (part, span) = shard_span(&file, h.shard, h.of, model.paths, "run")?;
        let r = &h.record;
        if (r.first_path, r.paths) != (span.start, span.end - span.start)
            || h.chunks != r.paths.div_ceil(CHUNK as u64)
            || (h.width, h.sketched) != (width, sketched)
            || !h.tails.holds(sketched, r.paths)
        {
            return Err(bad(
                &file,
                format!(
                    "its paths, chunks or statistics do not match {part} of the run \
                     (paths {}..{}, {width} values); the file was edited or damaged",
                    span.start, span.end
                ),
            ));
        }
        fold_moments(&d.join(MOMENTS), h.width, h.chunks, r.paths, &mut acc)?;
        acc.tails.merge(&h.tails);
        records.push(r.clone());
    }
    let mut stats = engine::stats_from(&model, charges, other.as_ref(), acc, threads)
        .map_err(|e| e.in_scenario(&loaded))?;
    stats.threads = records.iter().map(|r| r.threads).max().unwrap_or(1);

    let dir = ResultDir::create(out, &model.name)?;
    if h0.paths_csv {
        join_paths_csv(&shards, &dir)?;
    }
    let settings = Settings {
        out: out.to_path_buf(),
        threads,
        block: records.iter().map(|r| r.block_paths).max().unwrap_or(CHUNK),
        paths_csv: h0.paths_csv,
        focus: h0.focus,
        regret: h0.regret,
        progress: false,
        charts: charts || shards.iter().any(|(_, h)| h.charts),
    };
    let timing = runner::Timing {
        started,
        wall_seconds: clock.elapsed().as_secs_f64(),
        shards: &records,
    };
    let o = runner::write_result(&loaded, &settings, dir, model, stats, &timing)?;
    Ok((loaded, o))
}

/// Shard `index` of `count` and its span of the `paths` paths of a `what`
/// (`file`, its description, named in the error if it does not fit).
pub(crate) fn shard_span(
    file: &Path,
    index: u64,
    count: u64,
    paths: u64,
    what: &str,
) -> Result<(Shard, Range<u64>)> {
    let part = Shard { index, count };
    let span = part.span(paths).map_err(|_| {
        bad(
            file,
            format!("{part} does not fit the {what}'s {paths} paths"),
        )
    })?;
    Ok((part, span))
}

/// Merges the chunk moments in `mfile` (a shard's: `chunks` chunks of
/// `width` values over `paths` paths) into `acc`, in path order, as the
/// engine merges them.
pub(crate) fn fold_moments(
    mfile: &Path,
    width: usize,
    chunks: u64,
    paths: u64,
    acc: &mut Accumulated,
) -> Result<()> {
    let mut rd = open_exact(mfile, moments_bytes(width, chunks))?;
    fold_moments_from(&mut rd, mfile, width, chunks, paths, acc)
}

/// The size of `chunks` chunks' moments of `width` values ([`MOMENTS`]).
pub(crate) fn moments_bytes(width: usize, chunks: u64) -> u64 {
    chunks * (8 + 16 * width as u64)
}

/// Opens a shard's file `mfile` (moments, rows), which must hold `expect`
/// bytes.
pub(crate) fn open_exact(mfile: &Path, expect: u64) -> Result<BufReader<std::fs::File>> {
    let len = std::fs::metadata(mfile)
        .map_err(|e| bad(mfile, format!("cannot read it: {e}")))?
        .len();
    if len != expect {
        return Err(bad(
            mfile,
            format!(
                "found {len} bytes, expected {expect} (what its shard's description \
                 lists): the file is truncated or damaged"
            ),
        ));
    }
    Ok(BufReader::with_capacity(
        1 << 20,
        std::fs::File::open(mfile).map_err(|e| bad(mfile, format!("cannot read it: {e}")))?,
    ))
}

/// [`fold_moments`] from `rd`, at the start of the chunks (of file
/// `mfile`, named in errors).
pub(crate) fn fold_moments_from(
    rd: &mut impl Read,
    mfile: &Path,
    width: usize,
    chunks: u64,
    paths: u64,
    acc: &mut Accumulated,
) -> Result<()> {
    let mut chunk = vec![Moments::default(); width];
    let mut bytes = vec![0u8; 8 + 16 * width];
    let mut n_paths = 0u64;
    for c in 0..chunks {
        rd.read_exact(&mut bytes)
            .map_err(|e| Error::io(format!("cannot read {}", mfile.display()), e))?;
        let word = |i: usize| <[u8; 8]>::try_from(&bytes[8 * i..8 * i + 8]).expect("8 bytes");
        let n = u64::from_le_bytes(word(0));
        let whole = (c + 1) * CHUNK as u64 <= paths;
        if n == 0 || n > CHUNK as u64 || (whole && n != CHUNK as u64) {
            return Err(bad(
                mfile,
                format!("chunk {c} holds {n} paths: the file is damaged"),
            ));
        }
        n_paths += n;
        for (k, m) in chunk.iter_mut().enumerate() {
            *m = Moments {
                n,
                mean: f64::from_le_bytes(word(1 + 2 * k)),
                m2: f64::from_le_bytes(word(2 + 2 * k)),
            };
        }
        acc.merge_moments(&chunk);
    }
    if n_paths != paths {
        return Err(bad(
            mfile,
            format!("holds {n_paths} paths, expected {paths}: the file is damaged"),
        ));
    }
    Ok(())
}

/// Joins the shards' `paths.csv` (in path order, one header) into `dir`.
fn join_paths_csv(shards: &[(PathBuf, Header)], dir: &ResultDir) -> Result<()> {
    let target = dir.path(PATHS_CSV);
    let f = std::fs::File::create(&target)
        .map_err(|e| Error::io(format!("cannot create {}", target.display()), e))?;
    let mut w = BufWriter::with_capacity(1 << 20, f);
    let mut head0: Option<String> = None;
    for (d, h) in shards {
        let p = d.join(PATHS_CSV);
        let f = std::fs::File::open(&p).map_err(|e| {
            bad(
                &p,
                format!("cannot read it ({e}); the shard was run with --paths-csv"),
            )
        })?;
        let mut rd = BufReader::with_capacity(1 << 20, f);
        let mut head = String::new();
        rd.read_line(&mut head)
            .map_err(|e| Error::io(format!("cannot read {}", p.display()), e))?;
        match &head0 {
            None => {
                w.write_all(head.as_bytes())
                    .map_err(|e| Error::io(format!("cannot write {}", target.display()), e))?;
                head0 = Some(head);
            }
            Some(h0) if *h0 != head => {
                return Err(bad(&p, "its header differs from the first shard's"));
            }
            Some(_) => {}
        }
        // Copied as it is, its rows counted: a shard's file cut short
        // would leave paths out of a result that looks complete.
        let mut rows = 0u64;
        loop {
            let buf = rd
                .fill_buf()
                .map_err(|e| Error::io(format!("cannot read {}", p.display()), e))?;
            if buf.is_empty() {
                break;
            }
            rows += buf.iter().filter(|&&b| b == b'\n').count() as u64;
            w.write_all(buf)
                .map_err(|e| Error::io(format!("cannot write {}", target.display()), e))?;
            let n = buf.len();
            rd.consume(n);
        }
        if rows != h.record.paths {
            return Err(bad(
                &p,
                format!(
                    "found {rows} rows, expected {}: the file is truncated or damaged",
                    h.record.paths
                ),
            ));
        }
    }
    w.flush()
        .map_err(|e| Error::io(format!("cannot write {}", target.display()), e))
}

// ---------------------------------------------------------------------------
// Shards of a paired comparison (`capsim compare BASE ALT... --shard I/N`).
//
// A comparison accumulates moments only (paired differences and both
// sides' values, per path metric and per period), so a shard hands over
// its chunks' moments ([`MOMENTS`]) and a description,
// [`COMPARE_HEADER`]; `capsim merge` folds the moments in path order and
// writes each alternative's folder as one `compare` would, byte for byte.

/// A comparison shard's description.
pub const COMPARE_HEADER: &str = "compare_shard.json";

/// One scenario of a compared set, as its shard records it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Side {
    pub(crate) scenario: String,
    scenario_file: String,
    scenario_sha256: String,
    /// The `--set` arguments it was loaded with (its resolved form has
    /// them applied; its manifest lists them).
    #[serde(default)]
    overrides: Vec<String>,
    pub(crate) resolved_sha256: String,
    pub(crate) resolved_scenario: String,
}

impl Side {
    pub(crate) fn of(l: &Loaded) -> Side {
        Side {
            scenario: l.scenario.name.clone(),
            scenario_file: l.file.display().to_string(),
            scenario_sha256: l.file_sha256.clone(),
            overrides: l.overrides.clone(),
            resolved_sha256: l.resolved_sha256.clone(),
            resolved_scenario: l.resolved_toml.clone(),
        }
    }

    /// The scenario again, from its resolved text (`header` names the file
    /// for errors).
    pub(crate) fn load(&self, header: &Path) -> Result<Loaded> {
        let mut l =
            scenario::load_str(Path::new(&self.scenario_file), &self.resolved_scenario, &[])
                .map_err(|e| {
                    bad(
                        header,
                        format!(
                            "the resolved scenario of `{}` does not load: {e}",
                            self.scenario
                        ),
                    )
                })?;
        if l.resolved_sha256 != self.resolved_sha256 {
            return Err(bad(
                header,
                format!(
                    "the resolved scenario of `{}` does not match its sha256 (the file was edited)",
                    self.scenario
                ),
            ));
        }
        l.file_sha256 = self.scenario_sha256.clone();
        l.overrides = self.overrides.clone();
        Ok(l)
    }
}

/// `compare_shard.json`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CompareHeader {
    format: u32,
    capsim_version: String,
    base: Side,
    alts: Vec<Side>,
    shard: u64,
    of: u64,
    /// The whole comparison's paths.
    paths: u64,
    record: ShardRecord,
    /// Chunks in [`MOMENTS`] and values per path.
    chunks: u64,
    width: usize,
    #[serde(default)]
    files: FileHashes,
}

/// A comparison shard's folder name: `BASE-vs-ALT[+ALT...].shard-I-of-N`;
/// with alternatives' names longer than 96 bytes together,
/// `BASE-vs-K-alternatives-HASH.shard-I-of-N` (`HASH`: 12 hex digits of
/// their names' sha256), as file names are at most 255 bytes.
pub fn compare_folder(base: &str, alts: &[&str], part: Shard) -> String {
    let mut joined = alts.join("+");
    if joined.len() > 96 {
        let hash = scenario::sha256_hex(joined.as_bytes());
        joined = format!("{}-alternatives-{}", alts.len(), &hash[..12]);
    }
    format!("{base}-vs-{joined}.shard-{}-of-{}", part.index, part.count)
}

/// Simulates shard `part` of the paired comparisons of `alts` against
/// `base` (loaded as `compare` loads them) on `threads` threads and writes
/// `<out>/compare/BASE-vs-ALT[+ALT...].shard-I-of-N/`.
pub fn run_compare_shard(
    base: &Loaded,
    alts: &[Loaded],
    out: &Path,
    threads: usize,
    part: Shard,
    progress: bool,
) -> Result<ShardOutcome> {
    let started = SystemTime::now();
    let clock = Instant::now();
    let base_model = Model::compile(&base.scenario);
    let alt_models: Vec<Model> = alts.iter().map(|l| Model::compile(&l.scenario)).collect();
    let refs: Vec<&Model> = alt_models.iter().collect();
    let job = PairJob::new(&base_model, &refs)?;
    let span = part.span(base_model.paths)?;
    let names: Vec<&str> = alt_models.iter().map(|m| m.name.as_str()).collect();
    let folder = compare_folder(&base_model.name, &names, part);
    let dir = ResultDir::create(&out.join("compare"), &folder)?;
    let stats = run_span(
        &job,
        base_model.paths,
        span.clone(),
        threads,
        (&folder, progress),
        &dir.path(MOMENTS),
    )?;
    let wall_seconds = clock.elapsed().as_secs_f64();
    let paths = span.end - span.start;
    let h = CompareHeader {
        format: FORMAT,
        capsim_version: env!("CARGO_PKG_VERSION").to_string(),
        base: Side::of(base),
        alts: alts.iter().map(Side::of).collect(),
        shard: part.index,
        of: part.count,
        paths: base_model.paths,
        record: ShardRecord {
            shard: part.index,
            scenario_file: base.file.display().to_string(),
            scenario_sha256: base.file_sha256.clone(),
            first_path: span.start,
            paths,
            threads: stats.threads,
            block_paths: engine::DEFAULT_BLOCK,
            started_utc: output::utc_timestamp(started),
            wall_seconds,
        },
        chunks: paths.div_ceil(CHUNK as u64),
        width: stats.acc.moments.len(),
        files: hash_files(&dir, &[MOMENTS])?,
    };
    write_description(&dir, COMPARE_HEADER, &h)?;
    Ok(ShardOutcome {
        dir: dir.commit()?,
        span,
        threads: stats.threads,
        wall_seconds,
    })
}

/// Runs `job`'s paths `span` (of `paths`) on `threads` threads, writing
/// each chunk's moments to `moments` ([`MOMENTS`]' layout), with a progress
/// bar labelled `bar.0` if `bar.1`.
pub(crate) fn run_span<J: Job>(
    job: &J,
    paths: u64,
    span: Range<u64>,
    threads: usize,
    bar: (&str, bool),
    moments: &Path,
) -> Result<engine::JobStats> {
    let mut writer = MomentsWriter::create(moments)?;
    let mut chunk_sink = |ms: &[Moments]| writer.chunk(ms);
    let bar = runner::progress_bar(span.end - span.start, bar.0, bar.1);
    let report = |done: u64| {
        if let Some(b) = &bar {
            b.set_position(done);
        }
    };
    let out = engine::run_job(
        job,
        paths,
        engine::Options {
            threads,
            progress: Some(&report),
            span: Some(span),
            chunks: Some(&mut chunk_sink),
            ..Default::default()
        },
    )?;
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    writer.finish()?;
    Ok(out)
}

fn read_compare_header(dir: &Path) -> Result<CompareHeader> {
    read_description(
        dir,
        COMPARE_HEADER,
        "expected a comparison's shard folder written by \
         `capsim compare BASE ALT... --shard I/N`",
        "a capsim comparison shard description",
        |h: &CompareHeader| (h.format, h.capsim_version.as_str()),
    )
}

/// The comparisons merged from their shards.
pub struct MergedComparison {
    pub base: Loaded,
    pub base_model: Model,
    pub alts: Vec<Loaded>,
    pub alt_models: Vec<Model>,
    pub comparisons: Vec<Comparison>,
    pub shards: Vec<ShardRecord>,
}

/// Merges the shards in `dirs` (all of one `compare --shard`, in any
/// order) into the comparisons one `compare` of all the paths gives, bit
/// for bit.
pub fn merge_compare(dirs: &[PathBuf]) -> Result<MergedComparison> {
    let mut shards = read_all(dirs, read_compare_header, |h| &h.capsim_version)?;
    let names = |h: &CompareHeader| -> Vec<String> {
        std::iter::once(&h.base)
            .chain(&h.alts)
            .map(|s| s.scenario.clone())
            .collect()
    };
    check_one_job(
        &mut shards,
        "comparison",
        "the scenarios, --set, --paths, --seed and N",
        |h| (h.shard, h.of),
        |h0, h| {
            if names(h) != names(h0) {
                return Some(format!(
                    "it compares {:?}, expected {:?} (base first)",
                    names(h),
                    names(h0)
                ));
            }
            let pairs = std::iter::once((&h0.base, &h.base)).chain(h0.alts.iter().zip(&h.alts));
            resolved_differs(pairs)
        },
    )?;

    let (d0, h0) = &shards[0];
    let header0 = d0.join(COMPARE_HEADER);
    let base = h0.base.load(&header0)?;
    let alts: Vec<Loaded> = h0
        .alts
        .iter()
        .map(|s| s.load(&header0))
        .collect::<Result<_>>()?;
    let base_model = Model::compile(&base.scenario);
    let alt_models: Vec<Model> = alts.iter().map(|l| Model::compile(&l.scenario)).collect();
    let refs: Vec<&Model> = alt_models.iter().collect();
    let job = PairJob::new(&base_model, &refs)?;
    let width = job.width();
    for (d, h) in &shards {
        check_files(d, &h.files, &[MOMENTS])?;
    }
    let mut acc = Accumulated::new(width, 0);
    let mut records = Vec::with_capacity(shards.len());
    for (d, h) in &shards {
        let file = d.join(COMPARE_HEADER);
        let (part, span) = shard_span(&file, h.shard, h.of, base_model.paths, "comparison")?;
        let r = &h.record;
        if (r.first_path, r.paths) != (span.start, span.end - span.start)
            || h.paths != base_model.paths
            || h.chunks != r.paths.div_ceil(CHUNK as u64)
            || h.width != width
        {
            return Err(bad(
                &file,
                format!(
                    "its paths, chunks or values do not match {part} of the comparison \
                     (paths {}..{}, {width} values); the file was edited or damaged",
                    span.start, span.end
                ),
            ));
        }
        fold_moments(&d.join(MOMENTS), width, h.chunks, r.paths, &mut acc)?;
        records.push(r.clone());
    }
    let threads = records.iter().map(|r| r.threads).max().unwrap_or(1);
    let comparisons = job.comparisons(&acc.moments, base_model.paths, threads);
    drop(job);
    Ok(MergedComparison {
        base,
        base_model,
        alts,
        alt_models,
        comparisons,
        shards: records,
    })
}

// ---------------------------------------------------------------------------
// Shards of commands that make several path-metrics runs (a sweep's grid
// points, a sensitivity's tornado runs): every run's paths are cut as a
// run's ([`Shard::span`] of that run's own paths), each run's chunk
// moments go one run after the other into one [`MOMENTS`] file, its
// sketches and extremes into the command's description ([`RunPart`]).

/// One shard of a command of several path-metrics runs (a sweep, a
/// sensitivity analysis), as the merged result's manifest lists it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RunsRecord {
    pub shard: u64,
    pub scenario_file: String,
    pub scenario_sha256: String,
    /// Paths it simulated, over every run (each run's shard I of N of its
    /// paths).
    pub paths: u64,
    pub threads: usize,
    pub block_paths: usize,
    pub started_utc: String,
    pub wall_seconds: f64,
}

impl RunsRecord {
    /// Shard `part` of runs of scenario `l`, which simulated `paths` paths
    /// on at most `threads` threads from `started` (the clock `clock`).
    pub(crate) fn new(
        part: Shard,
        l: &Loaded,
        paths: u64,
        threads: usize,
        started: SystemTime,
        clock: Instant,
    ) -> RunsRecord {
        RunsRecord {
            shard: part.index,
            scenario_file: l.file.display().to_string(),
            scenario_sha256: l.file_sha256.clone(),
            paths,
            threads,
            block_paths: engine::DEFAULT_BLOCK,
            started_utc: output::utc_timestamp(started),
            wall_seconds: clock.elapsed().as_secs_f64(),
        }
    }
}

/// The text of scenario file `file`, which `l` was loaded from (a shard of
/// several runs keeps it, and its merge loads every run from it).
pub(crate) fn scenario_text(file: &Path, l: &Loaded) -> Result<String> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| Error::io(format!("cannot read {}", file.display()), e))?;
    if scenario::sha256_hex(text.as_bytes()) != l.file_sha256 {
        return Err(Error::Other(format!(
            "{} changed while it was read; run the shard again",
            file.display()
        )));
    }
    Ok(text)
}

/// One path-metrics run's part of a shard.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RunPart {
    /// The run's resolved scenario's sha256.
    pub(crate) resolved_sha256: String,
    /// The run's paths (all shards').
    paths: u64,
    /// This shard's span of them.
    first_path: u64,
    pub(crate) span_paths: u64,
    /// Chunks in the moments file for it, values per path, sketched values.
    chunks: u64,
    width: usize,
    sketched: usize,
    tails: Tails,
}

impl RunPart {
    /// Run `l`'s part over `span` of its `paths`: `width` values per
    /// path, the leading ones sketched in `tails`.
    pub(crate) fn new(
        l: &Loaded,
        paths: u64,
        span: &Range<u64>,
        width: usize,
        tails: Tails,
    ) -> RunPart {
        let n = span.end - span.start;
        RunPart {
            resolved_sha256: l.resolved_sha256.clone(),
            paths,
            first_path: span.start,
            span_paths: n,
            chunks: n.div_ceil(CHUNK as u64),
            width,
            sketched: tails.sketches.len(),
            tails,
        }
    }
}

/// Each run's span of shard `part`, checked before anything runs: a run
/// with fewer chunks than N is refused, named by `name(i)` if given.
pub(crate) fn spans(
    part: Shard,
    runs: &[&Loaded],
    name: impl Fn(usize) -> Option<String>,
) -> Result<Vec<Range<u64>>> {
    let mut spans = Vec::with_capacity(runs.len());
    for (i, l) in runs.iter().enumerate() {
        spans.push(
            part.span(l.scenario.simulation.paths)
                .map_err(|e| match (e, name(i)) {
                    (Error::Input(mut e), Some(n)) => {
                        e.message = format!("{} ({n})", e.message);
                        Error::Input(e)
                    }
                    (e, _) => e,
                })?,
        );
    }
    Ok(spans)
}

/// Runs each group of `groups` (consecutive runs of `runs`, in order,
/// paired with run `reference(g)` if given: [`runner::GroupJob`]) over
/// its runs' span (`spans`, a run's; a group's runs share theirs) on
/// `threads` threads ([`runner::each_run`]), each run's chunk moments
/// (its path metrics, then its paired values) into `w` in run order, the
/// progress bar `bar` (over all spans' paths) moved on. Returns the runs'
/// parts and the most threads one group used (or groups ran side by
/// side). A run's part is the same whatever group it ran in.
#[allow(clippy::too_many_arguments)]
pub(crate) fn run_group_spans(
    runs: &[&Loaded],
    groups: &[Range<usize>],
    reference: impl Fn(usize) -> Option<usize> + Sync,
    spans: &[Range<u64>],
    threads: usize,
    bar: &Option<indicatif::ProgressBar>,
    labels: runner::RunLabels<'_>,
    w: &mut MomentsWriter,
) -> Result<(Vec<RunPart>, usize)> {
    let mut parts = Vec::with_capacity(runs.len());
    let mut most = 1;
    let sizes: Vec<u64> = groups
        .iter()
        .map(|r| spans[r.start].end - spans[r.start].start)
        .collect();
    let side_by_side = runner::each_run(
        &sizes,
        threads,
        bar,
        labels,
        |g, threads, progress| {
            let r = groups[g].clone();
            let span = spans[r.start].clone();
            let reference = reference(g);
            let group = runner::GroupJob::new(runs, r.clone(), reference);
            let job = group.job();
            let shown = r.len() as u64;
            let report = |done: u64| progress(done * shown);
            // The chunks' moments wait here until the group's turn to write.
            let mut chunks: Vec<Moments> = Vec::new();
            let mut sink = |ms: &[Moments]| {
                chunks.extend_from_slice(ms);
                Ok(())
            };
            let out = engine::run_job(
                &job,
                group.models[0].paths,
                engine::Options {
                    threads,
                    progress: Some(&report),
                    span: Some(span.clone()),
                    chunks: Some(&mut sink),
                    ..Default::default()
                },
            )?;
            // A run that overflows fails its shard, as it would alone.
            let results = job.results(&out.acc, out.paths, out.threads);
            let results = group.shown(results, &r, runs, reference)?;
            for (i, st) in r.clone().zip(results) {
                st.map_err(|e| e.in_scenario(runs[i]))?;
            }
            let width = job.width();
            let mine: Vec<(RunPart, Vec<Moments>)> = r
                .enumerate()
                .map(|(k, i)| {
                    let (own, paired) = job.parts(k);
                    let mut ms = Vec::new();
                    for row in chunks.chunks(width) {
                        ms.extend_from_slice(&row[own.clone()]);
                        ms.extend_from_slice(&row[paired.clone()]);
                    }
                    let n = own.len() + paired.len();
                    let tails = out.acc.tails.slice(own);
                    let m = &group.models[k];
                    (RunPart::new(runs[i], m.paths, &span, n, tails), ms)
                })
                .collect();
            Ok((mine, out.threads))
        },
        |_, (mine, threads)| {
            for (part, ms) in mine {
                for row in ms.chunks(part.width) {
                    w.chunk(row)?;
                }
                parts.push(part);
            }
            most = most.max(threads);
            Ok(())
        },
    )?;
    Ok((parts, most.max(side_by_side)))
}

/// The bytes of the moments of `parts` (one shard's runs).
fn parts_bytes(parts: &[RunPart]) -> u64 {
    parts.iter().map(|p| moments_bytes(p.width, p.chunks)).sum()
}

/// One shard of a merge of path-metrics runs: its description file (for
/// errors), its number, its moments file, open at the next run's chunks.
pub(crate) struct PartsReader {
    header: PathBuf,
    part: Shard,
    mfile: PathBuf,
    rd: BufReader<std::fs::File>,
}

impl PartsReader {
    /// Shard folder `dir` (description `header`), shard `index` of
    /// `count`, its runs `parts`: its [`MOMENTS`] opened, its size checked.
    pub(crate) fn open(
        dir: &Path,
        header: &str,
        index: u64,
        count: u64,
        parts: &[RunPart],
    ) -> Result<PartsReader> {
        let mfile = dir.join(MOMENTS);
        Ok(PartsReader {
            header: dir.join(header),
            part: Shard { index, count },
            rd: open_exact(&mfile, parts_bytes(parts))?,
            mfile,
        })
    }
}

/// Merges run `l` (compiled as `m`) from every shard's part of it
/// (`parts[j]`, shard `shards[j]`'s), reading on in each shard's moments
/// file: its [`RunStats`](engine::RunStats), bit for bit what the run of all
/// its paths gives; and, if it ran paired `against` a reference run
/// ([`runner::GroupJob`]: a sweep's point, a tornado's high end), the path
/// metrics it shares with the reference (as [`crate::compare::common`]
/// names them) and the moments of their paired values, which each path
/// had after its path metrics. `what` names the run in errors.
#[allow(clippy::type_complexity)]
pub(crate) fn merge_path_metric_run(
    l: &Loaded,
    m: &Model,
    against: Option<&Model>,
    parts: &[&RunPart],
    shards: &mut [PartsReader],
    threads: usize,
    what: &str,
) -> Result<(engine::RunStats, Vec<(String, usize, usize)>, Vec<Moments>)> {
    let named = against.map_or_else(Vec::new, |b| {
        crate::compare::common(&b.layout.path_names, &m.layout.path_names)
    });
    let job = engine::path_metrics_job(m);
    let (width, sketched) = (job.width() + 4 * named.len(), job.sketched());
    let mut acc = Accumulated::new(width, sketched);
    for (p, s) in parts.iter().zip(shards.iter_mut()) {
        let span = s.part.span(m.paths).ok();
        let fits = p.tails.holds(sketched, p.span_paths);
        if p.resolved_sha256 != l.resolved_sha256
            || span != Some(p.first_path..p.first_path + p.span_paths)
            || p.paths != m.paths
            || p.chunks != p.span_paths.div_ceil(CHUNK as u64)
            || (p.width, p.sketched) != (width, sketched)
            || !fits
        {
            return Err(bad(
                &s.header,
                format!(
                    "its paths or statistics of {what} do not match {} of its {} paths; \
                     the file was edited or damaged",
                    s.part, m.paths
                ),
            ));
        }
        fold_moments_from(&mut s.rd, &s.mfile, width, p.chunks, p.span_paths, &mut acc)?;
        acc.tails.merge(&p.tails);
    }
    let pairs = acc.moments.split_off(job.width());
    let st = engine::path_metrics_from(m, acc, threads).map_err(|e| e.in_scenario(l))?;
    Ok((st, named, pairs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_cut_the_paths_into_whole_chunks_once_each() {
        let c = CHUNK as u64;
        for paths in [1, c - 1, c, c + 1, 5 * c + 380, 1_000_007, 4_000_000_000] {
            let chunks = paths.div_ceil(c);
            for count in (1..=chunks.min(9)).chain([chunks]) {
                let mut next = 0;
                for index in 1..=count {
                    let r = Shard { index, count }.span(paths).unwrap();
                    assert_eq!(r.start, next, "{paths} paths, {index}/{count}");
                    assert!(r.end > r.start && r.start % c == 0);
                    assert!(r.end % c == 0 || r.end == paths);
                    // Near-equal: whole chunks differ by at most one.
                    let n = (r.end - r.start).div_ceil(c);
                    assert!(n == chunks / count || n == chunks / count + 1);
                    next = r.end;
                }
                assert_eq!(next, paths, "{paths} paths in {count} shards");
            }
            let over = Shard {
                index: 1,
                count: chunks + 1,
            };
            assert!(over.span(paths).is_err());
        }
    }

    #[test]
    fn comparison_shard_folders_stay_short() {
        let part = Shard { index: 2, count: 8 };
        assert_eq!(
            compare_folder("baseline", &["price-war", "early-agi"], part),
            "baseline-vs-price-war+early-agi.shard-2-of-8"
        );
        let many: Vec<String> = (0..30).map(|i| format!("alternative-{i}")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        let f = compare_folder("baseline", &many, part);
        assert!(f.starts_with("baseline-vs-30-alternatives-"), "{f}");
        assert!(f.ends_with(".shard-2-of-8") && f.len() < 100, "{f}");
        // Other alternatives, another folder.
        let mut other = many.clone();
        other[29] = "another";
        assert_ne!(f, compare_folder("baseline", &other, part));
    }

    #[test]
    fn shard_flags_parse() {
        assert_eq!("2/8".parse(), Ok(Shard { index: 2, count: 8 }));
        assert_eq!(" 1 / 1 ".parse(), Ok(Shard { index: 1, count: 1 }));
        for bad in ["0/8", "9/8", "8", "/8", "2/", "a/b", "-1/8", "2/8/9", ""] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }
}
