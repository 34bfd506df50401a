//! Output files. Formatting ([`summary_csv`] and the other `*_csv`
//! functions, [`manifest_json`]) is separate from writing ([`ResultDir`]): a
//! result folder is built under a temporary name and renamed into place only
//! when complete, so a crash or an error never leaves a folder that looks
//! finished.

use crate::engine::RunStats;
use crate::error::{Error, Result};
use crate::model::Model;
use serde::Serialize;
use std::fs;
use std::path::{Path, PathBuf};

pub mod charts;
pub mod focus;
pub mod leftover;
pub mod number;

pub const SUMMARY_HEADER: [&str; 17] = [
    "metric", "mean", "std", "stderr", "min", "p1", "p5", "p10", "p25", "p50", "p75", "p90", "p95",
    "p99", "max", "cvar95", "cvar99",
];
pub const PERIODS_HEADER: [&str; 9] = [
    "period", "date", "metric", "mean", "p5", "p25", "p50", "p75", "p95",
];
pub const PROVIDERS_HEADER: [&str; 6] = ["provider", "metric", "mean", "p5", "p50", "p95"];

/// One CSV record's fields, numbers formatted into one reused buffer
/// instead of a string each.
#[derive(Debug, Default)]
pub(crate) struct Record {
    buf: Vec<u8>,
    ends: Vec<usize>,
}

impl Record {
    /// Empties the record for the next row.
    fn clear(&mut self) -> &mut Self {
        self.buf.clear();
        self.ends.clear();
        self
    }

    fn text(&mut self, s: impl AsRef<[u8]>) -> &mut Self {
        self.buf.extend_from_slice(s.as_ref());
        self.ends.push(self.buf.len());
        self
    }

    /// `x` as `{}` writes it ([`number::push`]).
    fn num(&mut self, x: f64) -> &mut Self {
        number::push(&mut self.buf, x);
        self.ends.push(self.buf.len());
        self
    }

    fn int(&mut self, i: u64) -> &mut Self {
        self.text(itoa::Buffer::new().format(i))
    }

    fn fields(&self) -> impl Iterator<Item = &[u8]> {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts.zip(&self.ends).map(|(a, &b)| &self.buf[a..b])
    }
}

/// Appends one row of `paths.csv` (the path's number, then its metrics),
/// as the CSV writer would write it: numbers never need quoting.
pub(crate) fn paths_row(line: &mut Vec<u8>, path: u64, row: &[f64]) {
    line.extend_from_slice(itoa::Buffer::new().format(path).as_bytes());
    for &x in row {
        line.push(b',');
        number::push(line, x);
    }
    line.extend_from_slice(b"\r\n");
}

/// A CSV writer with the project's conventions (RFC 4180, CRLF line ends).
pub fn csv_to<W: std::io::Write>(out: W) -> csv::Writer<W> {
    csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(out)
}

/// An in-memory CSV writer; [`finish`] returns its bytes.
pub fn writer() -> csv::Writer<Vec<u8>> {
    csv_to(Vec::new())
}

pub fn finish(w: csv::Writer<Vec<u8>>) -> Result<Vec<u8>> {
    w.into_inner()
        .map_err(|e| Error::Other(format!("formatting CSV: {e}")))
}

/// `summary.csv`: one row per per-path metric.
pub fn summary_csv(m: &Model, s: &RunStats) -> Result<Vec<u8>> {
    let mut w = writer();
    w.write_record(SUMMARY_HEADER)?;
    let mut r = Record::default();
    for (name, x) in m.layout.path_names.iter().zip(&s.path) {
        r.clear().text(name).num(x.mean).num(x.std).num(x.stderr);
        r.num(x.min);
        for &q in &x.quantiles {
            r.num(q);
        }
        r.num(x.max).num(x.cvar95).num(x.cvar99);
        w.write_record(r.fields())?;
    }
    finish(w)
}

/// `periods.csv`: one row per period and per-period metric.
pub fn periods_csv(m: &Model, s: &RunStats) -> Result<Vec<u8>> {
    let mut w = writer();
    w.write_record(PERIODS_HEADER)?;
    let nq = m.layout.n_period();
    let mut r = Record::default();
    for t in 0..m.periods {
        for (k, name) in m.layout.period_names.iter().enumerate() {
            let x = &s.period[t * nq + k];
            r.clear().int(t as u64).text(&m.period_labels[t]).text(name);
            r.num(x.mean);
            for q in [0.05, 0.25, 0.50, 0.75, 0.95] {
                r.num(x.q(q));
            }
            w.write_record(r.fields())?;
        }
    }
    finish(w)
}

/// `providers.csv`: each provider's spend, GPU-hours and share.
pub fn providers_csv(m: &Model, s: &RunStats) -> Result<Vec<u8>> {
    let mut w = writer();
    w.write_record(PROVIDERS_HEADER)?;
    let mut r = Record::default();
    for (p, name) in m.provider_names.iter().enumerate() {
        for (metric, idx) in [
            ("cash", m.layout.cash_p(p)),
            ("gpu_hours", m.layout.gpu_hours_p(p)),
            ("share", m.layout.share_p(p)),
        ] {
            let x = &s.path[idx];
            r.clear().text(name).text(metric).num(x.mean);
            for q in [0.05, 0.50, 0.95] {
                r.num(x.q(q));
            }
            w.write_record(r.fields())?;
        }
    }
    finish(w)
}

/// Header of `paths.csv`.
pub fn paths_header(m: &Model) -> Vec<String> {
    std::iter::once("path".to_string())
        .chain(m.layout.path_names.iter().cloned())
        .collect()
}

#[derive(Debug, Serialize)]
pub struct Manifest<'a> {
    pub capsim_version: &'a str,
    pub scenario: &'a str,
    pub scenario_file: String,
    pub scenario_sha256: &'a str,
    pub resolved_sha256: &'a str,
    pub overrides: &'a [String],
    pub seed: u64,
    pub paths: u64,
    pub sampling: &'a str,
    pub policy: &'a str,
    pub periods: usize,
    pub threads: usize,
    pub block_paths: usize,
    pub quantile_method: &'a str,
    pub started_utc: String,
    pub wall_seconds: f64,
    pub files: Vec<&'a str>,
    /// A result merged from shards (`capsim merge`): each shard's run;
    /// `scenario_file` and `scenario_sha256` above are then shard 1's
    /// (each shard's own are listed), `threads` and `block_paths`
    /// the largest of theirs, `started_utc` and `wall_seconds` the
    /// merge's own.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub shards: &'a [crate::shard::ShardRecord],
    pub resolved_scenario: &'a str,
}

pub const QUANTILE_METHOD: &str = "log-bucket sketch (7 mantissa bits), relative error <= 0.39%, type-7 interpolation, clamped to exact min/max, exact at the ranks holding the min or the max";

pub fn manifest_json(man: &Manifest<'_>) -> Result<Vec<u8>> {
    let mut v = serde_json::to_vec_pretty(man).map_err(|e| Error::Other(e.to_string()))?;
    v.push(b'\n');
    Ok(v)
}

/// `YYYY-MM-DDTHH:MM:SSZ` for a time since the Unix epoch (UTC), by Howard
/// Hinnant's days-to-civil algorithm.
pub fn utc_timestamp(t: std::time::SystemTime) -> String {
    let secs = t
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let mo = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(mo <= 2);
    format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// Checks that `--out` can be a folder: the nearest part of it that exists
/// is one (a file there is bad input, not a failure to write).
pub fn check_out(out: &Path) -> Result<()> {
    let existing = out.ancestors().find(|a| a.exists());
    match existing {
        Some(a) if !a.as_os_str().is_empty() && !a.is_dir() => Err(Error::flag(
            "--out",
            format!(
                "found {}, {}, expected a folder (created if missing)",
                out.display(),
                if a == out {
                    "which is a file".to_string()
                } else {
                    format!("inside {}, which is a file", a.display())
                }
            ),
        )),
        _ => Ok(()),
    }
}

/// Checks, before any work, that a result named `name` may be written into
/// `out`: `out` can be a folder ([`check_out`]) and `out/name` is free or
/// a result capsim may replace ([`not_replaceable`]).
pub fn check_target(out: &Path, name: &str) -> Result<()> {
    check_out(out)?;
    let target = out.join(name);
    match not_replaceable(&target) {
        Some(why) => Err(in_the_way(&target, &why)),
        None => Ok(()),
    }
}

/// Why the folder `target`, where a new result goes, may not be replaced
/// by it; `None` if it may: it does not exist, or it is an empty folder,
/// or a folder capsim wrote (a result or a shard: a `.json` file there
/// names `capsim_version` in its first bytes, as every manifest and shard
/// header does) with no folder inside but `charts/`. capsim deletes nothing it
/// did not write: without this, a scenario named `compare` run into the
/// `--out` of comparisons replaced all of them, and one named like a
/// folder of the user's (`--out .`, name `src`) deleted that folder.
pub fn not_replaceable(target: &Path) -> Option<String> {
    let meta = match fs::metadata(target) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => return Some(format!("unreadable ({e})")),
    };
    if !meta.is_dir() {
        return Some("a file".to_string());
    }
    let entries = match fs::read_dir(target) {
        Ok(e) => e,
        Err(e) => return Some(format!("unreadable ({e})")),
    };
    let (mut empty, mut ours) = (true, false);
    for entry in entries {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => return Some(format!("unreadable ({e})")),
        };
        empty = false;
        let name = entry.file_name();
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            if name != "charts" {
                return Some(format!(
                    "a folder holding {}/, which no capsim result has",
                    name.to_string_lossy()
                ));
            }
        } else if !ours && name.to_string_lossy().ends_with(".json") {
            ours = written_by_capsim(&entry.path());
        }
    }
    if empty || ours {
        None
    } else {
        Some("a folder with no manifest or shard header that capsim wrote".to_string())
    }
}

/// Whether the JSON file at `path` is a manifest or shard header capsim
/// wrote: an object whose first key, or second after a shard header's
/// `format`, is `capsim_version`.
pub fn written_by_capsim(path: &Path) -> bool {
    use std::io::Read;
    let mut head = Vec::new();
    let _ = fs::File::open(path).and_then(|f| f.take(64).read_to_end(&mut head));
    let text: String = String::from_utf8_lossy(&head)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    text.starts_with("{\"capsim_version\":")
        || (text.starts_with("{\"format\":") && text.contains(",\"capsim_version\":"))
}

/// A name as it begins a result folder's temporary names (and a batch
/// shard's folder name, from the library folder's): its first 100 bytes,
/// whole characters, so that with a tag and a suffix they stay within a
/// file system's 255 bytes.
pub fn short(name: &str) -> &str {
    let end = name
        .char_indices()
        .map(|(i, c)| i + c.len_utf8())
        .take_while(|&end| end <= 100)
        .last()
        .unwrap_or(0);
    &name[..end]
}

/// The error for a result folder that would replace `target`, which is
/// not capsim's to replace (`why`, from [`not_replaceable`]).
pub fn in_the_way(target: &Path, why: &str) -> Error {
    in_the_way_of(target, why, true)
}

/// [`in_the_way`], for a result folder (`folder`: another scenario name
/// would do too) or one of `batch`'s index files.
pub fn in_the_way_of(target: &Path, why: &str, folder: bool) -> Error {
    Error::flag(
        "--out",
        format!(
            "found {}, where this result goes: {why}; expected nothing there, \
             or a result capsim wrote (capsim replaces nothing else)",
            target.display()
        ),
    )
    .with_hint(Some(format!(
        "move {} away, or give another --out{}",
        target.display(),
        if folder {
            " (or the scenario another name)"
        } else {
            ""
        }
    )))
}

/// A result folder being built under a temporary name next to its final
/// place (`.NAME.partial-TAG-XXXXXX`, `TAG` its owner: [`leftover`]).
pub struct ResultDir {
    tmp: tempfile::TempDir,
    target: PathBuf,
}

impl ResultDir {
    pub fn create(out: &Path, name: &str) -> Result<ResultDir> {
        check_target(out, name)?;
        fs::create_dir_all(out)
            .map_err(|e| Error::io(format!("cannot create output folder {}", out.display()), e))?;
        leftover::remove_stale(out);
        let tmp = tempfile::Builder::new()
            .prefix(&format!(
                ".{}.partial-{}-",
                short(name),
                leftover::owner_tag()
            ))
            .tempdir_in(out)
            .map_err(|e| Error::io(format!("cannot create a folder in {}", out.display()), e))?;
        Ok(ResultDir {
            tmp,
            target: out.join(name),
        })
    }

    /// The folder being built.
    pub fn root(&self) -> &Path {
        self.tmp.path()
    }

    pub fn path(&self, file: &str) -> PathBuf {
        self.tmp.path().join(file)
    }

    pub fn write(&self, file: &str, bytes: &[u8]) -> Result<()> {
        let p = self.path(file);
        fs::write(&p, bytes).map_err(|e| Error::io(format!("cannot write {}", p.display()), e))
    }

    /// Moves the finished folder into place, replacing an older result.
    pub fn commit(self) -> Result<PathBuf> {
        // Checked again: the folder may have changed while this ran (its
        // temporary folder is removed on the way out).
        if let Some(why) = not_replaceable(&self.target) {
            return Err(in_the_way(&self.target, &why));
        }
        let tmp = self.tmp.keep();
        let target = self.target;
        if target.exists() {
            let old = target.with_file_name(format!(
                ".{}.old-{}",
                short(&target.file_name().unwrap_or_default().to_string_lossy()),
                leftover::owner_tag()
            ));
            fs::rename(&target, &old)
                .map_err(|e| Error::io(format!("cannot replace {}", target.display()), e))?;
            let _ = fs::remove_dir_all(&old);
        }
        fs::rename(&tmp, &target)
            .map_err(|e| Error::io(format!("cannot move result into {}", target.display()), e))?;
        Ok(target)
    }
}

/// Writes the standard files of a run into `dir`.
pub fn write_run_files(
    dir: &ResultDir,
    m: &Model,
    stats: &RunStats,
    manifest: &Manifest<'_>,
) -> Result<()> {
    dir.write("summary.csv", &summary_csv(m, stats)?)?;
    dir.write("periods.csv", &periods_csv(m, stats)?)?;
    dir.write("providers.csv", &providers_csv(m, stats)?)?;
    dir.write("manifest.json", &manifest_json(manifest)?)?;
    Ok(())
}

/// A compact table of the headline metrics for the terminal.
pub fn headline_table(m: &Model, s: &RunStats, currency: &str) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "{:<22} {:>14} {:>14} {:>14} {:>14} {:>12}\n",
        "metric", "mean", "p5", "p50", "p95", "stderr"
    ));
    let rows = [
        "cash",
        "npv",
        "economic",
        "true_up",
        "shortfall_cost",
        "unmet_gpu_hours",
        "served_gpu_hours",
    ];
    for name in rows {
        if let Some(x) = s.path_metric(m, name) {
            let money = !name.ends_with("gpu_hours");
            let f = |v: f64| human(v, money, currency);
            out.push_str(&format!(
                "{:<22} {:>14} {:>14} {:>14} {:>14} {:>12}\n",
                name,
                f(x.mean),
                f(x.q(0.05)),
                f(x.q(0.50)),
                f(x.q(0.95)),
                f(x.stderr)
            ));
        }
    }
    for (p, name) in m.provider_names.iter().enumerate() {
        let x = &s.path[m.layout.cash_p(p)];
        let sh = &s.path[m.layout.share_p(p)];
        out.push_str(&format!(
            "{:<22} {:>14} {:>14} {:>14} {:>14} {:>12}\n",
            format!("cash.{name}"),
            human(x.mean, true, currency),
            human(x.q(0.05), true, currency),
            human(x.q(0.50), true, currency),
            human(x.q(0.95), true, currency),
            format!("share {:.1}%", sh.mean * 100.0)
        ));
    }
    out
}

/// `n` and its noun, singular for one: "1 path", "10000 paths".
pub fn count(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// `$1.23B` for an amount of money in USD, `1.23B EUR` in another
/// currency (the scenario's code, so that money never reads as a bare
/// number beside GPU-hours), `1.23B` for anything else.
pub fn human(v: f64, money: bool, currency: &str) -> String {
    // (Not `$infT`: a path that overflowed, in `trace`.)
    if !v.is_finite() {
        return v.to_string();
    }
    let (scale, suffix) = scale(v);
    match (money, currency) {
        (true, "USD") => format!("${:.2}{suffix}", v / scale),
        (true, _) => format!("{:.2}{suffix} {currency}", v / scale),
        _ => format!("{:.2}{suffix}", v / scale),
    }
}

/// The scale `v` is shown in (thousands to trillions) and its suffix.
pub fn scale(v: f64) -> (f64, &'static str) {
    match v.abs() {
        a if a >= 1e12 => (1e12, "T"),
        a if a >= 1e9 => (1e9, "B"),
        a if a >= 1e6 => (1e6, "M"),
        a if a >= 1e3 => (1e3, "k"),
        _ => (1.0, ""),
    }
}

/// `+$1.23B` / `-$4.50M`: a signed amount for differences.
pub fn signed(v: f64, money: bool, currency: &str) -> String {
    let sign = if v < 0.0 { "-" } else { "+" };
    format!("{sign}{}", human(v.abs(), money, currency))
}

/// `comparison.csv`.
pub fn comparison_csv(c: &crate::compare::Comparison) -> Result<Vec<u8>> {
    let mut w = writer();
    w.write_record([
        "metric",
        "base_mean",
        "alt_mean",
        "diff_mean",
        "diff_stderr",
        "diff_ci_low",
        "diff_ci_high",
        "p_alt_lower",
    ])?;
    let mut r = Record::default();
    for m in &c.metrics {
        r.clear().text(&m.metric).num(m.base_mean).num(m.alt_mean);
        r.num(m.diff_mean).num(m.diff_stderr);
        r.num(m.diff_ci_low).num(m.diff_ci_high).num(m.p_alt_lower);
        w.write_record(r.fields())?;
    }
    finish(w)
}

/// `comparison_periods.csv`.
pub fn comparison_periods_csv(c: &crate::compare::Comparison) -> Result<Vec<u8>> {
    let mut w = writer();
    w.write_record([
        "period",
        "date",
        "metric",
        "base_mean",
        "alt_mean",
        "diff_mean",
        "diff_stderr",
    ])?;
    let mut r = Record::default();
    for p in &c.periods {
        r.clear().int(p.period as u64).text(&p.date).text(&p.metric);
        r.num(p.base_mean)
            .num(p.alt_mean)
            .num(p.diff_mean)
            .num(p.diff_stderr);
        w.write_record(r.fields())?;
    }
    finish(w)
}

/// A scenario as recorded in a manifest.
#[derive(Debug, Serialize)]
pub struct ScenarioRef {
    pub name: String,
    pub file: String,
    pub scenario_sha256: String,
    pub resolved_sha256: String,
    pub overrides: Vec<String>,
}

impl ScenarioRef {
    pub fn of(l: &crate::scenario::Loaded) -> ScenarioRef {
        ScenarioRef {
            name: l.scenario.name.clone(),
            file: l.file.display().to_string(),
            scenario_sha256: l.file_sha256.clone(),
            resolved_sha256: l.resolved_sha256.clone(),
            overrides: l.overrides.clone(),
        }
    }
}

/// Provenance of a multi-run command (batch, sweep, sensitivity).
#[derive(Debug, Serialize)]
pub struct Provenance {
    pub capsim_version: &'static str,
    pub command: &'static str,
    pub started_utc: String,
    pub seed: u64,
    pub paths: u64,
    pub scenarios: Vec<ScenarioRef>,
    pub details: serde_json::Value,
}

impl Provenance {
    pub fn new(
        command: &'static str,
        seed: u64,
        paths: u64,
        started: std::time::SystemTime,
    ) -> Provenance {
        Provenance {
            capsim_version: env!("CARGO_PKG_VERSION"),
            command,
            started_utc: utc_timestamp(started),
            seed,
            paths,
            scenarios: Vec::new(),
            details: serde_json::Value::Null,
        }
    }

    pub fn to_json(&self) -> Result<Vec<u8>> {
        let mut v = serde_json::to_vec_pretty(self).map_err(|e| Error::Other(e.to_string()))?;
        v.push(b'\n');
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_names_its_currency() {
        assert_eq!(human(1.234e9, true, "USD"), "$1.23B");
        assert_eq!(human(1.234e9, true, "EUR"), "1.23B EUR");
        assert_eq!(human(1.234e9, false, "EUR"), "1.23B");
        assert_eq!(signed(-4.5e6, true, "USD"), "-$4.50M");
        assert_eq!(signed(4.5e6, true, "GBP"), "+4.50M GBP");
        assert_eq!(human(0.0, true, "EUR"), "0.00 EUR");
        // An overflowed path's, in `trace`: not `$infT`.
        assert_eq!(human(f64::INFINITY, true, "USD"), "inf");
        assert_eq!(human(f64::NAN, false, "USD"), "NaN");
    }

    #[test]
    fn short_names_cut_at_100_bytes_of_whole_characters() {
        assert_eq!(short("baseline"), "baseline");
        let a = "a".repeat(150);
        assert_eq!(short(&a), &a[..100]);
        // Two-byte characters: 50 fit, and none is cut in half.
        assert_eq!(
            short(&format!("x{}", "é".repeat(80))),
            format!("x{}", "é".repeat(49))
        );
        assert_eq!(short(&"é".repeat(80)), "é".repeat(50));
    }
}
