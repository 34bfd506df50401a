//! Scenario files: TOML text -> raw serde types -> validated [`Scenario`].
//!
//! Every failure is an [`InputError`] naming the file, line and column, the
//! field path, what was found and what was expected.

pub mod date;
pub mod locate;
pub mod overrides;
pub mod raw;
pub mod types;
pub mod validate;
pub mod warnings;

pub use date::{FieldValue, YearMonth};
pub use types::*;
pub use warnings::{moves_horizon, set_warnings, warnings, warnings_of};

use crate::error::{Error, InputError, Origin};
use locate::Seg;
use raw::*;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// A folder given for a scenario file: one of its scenarios (the first
/// by name, `baseline.toml` if it has one) for the file, and `batch` for
/// all of them.
fn folder_hint(dir: &Path) -> String {
    if let Some(scenario) = manifest_scenario(&dir.join("manifest.json")) {
        return format!(
            "{} is a result folder capsim wrote; its scenario was {scenario} (its manifest.json \
             holds the resolved scenario)",
            dir.display()
        );
    }
    let files = toml_files(dir).unwrap_or_default();
    let one = files
        .iter()
        .find(|p| p.file_name().is_some_and(|n| n == "baseline.toml"))
        .or(files.first());
    match one {
        Some(f) => format!(
            "name a scenario file, e.g. {}; capsim batch {} runs every scenario in the folder",
            f.display(),
            crate::error::quoted(&dir.display().to_string())
        ),
        None => "name a scenario file (.toml), not a folder".to_string(),
    }
}

/// The scenario file a capsim manifest (a result's `manifest.json`, a
/// shard's description) names, if `file` is one.
fn manifest_scenario(file: &Path) -> Option<String> {
    let bytes = std::fs::read(file).ok()?;
    let m: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    m.get("capsim_version")?;
    Some(m.get("scenario_file")?.as_str()?.to_string())
}

/// The `*.toml` files in folder `dir` (the extension in any case: a file
/// saved on Windows as `Plan.TOML` too), by name: a scenario library.
pub fn toml_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension()
                .is_some_and(|x| x.eq_ignore_ascii_case("toml"))
        })
        .collect();
    files.sort();
    Ok(files)
}

/// A scenario as loaded, with what is needed to reproduce it.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub scenario: Scenario,
    pub file: PathBuf,
    /// sha256 of the file's bytes.
    pub file_sha256: String,
    /// The `--set` arguments applied, in order.
    pub overrides: Vec<String>,
    /// The field each of `overrides` set, resolved (an array element by
    /// its index, however the argument named it): equal paths, same field.
    pub override_paths: Vec<Vec<locate::Seg>>,
    /// The resolved scenario (defaults filled, overrides applied) as TOML.
    pub resolved_toml: String,
    /// sha256 of `resolved_toml`: equal hashes mean equal scenarios.
    pub resolved_sha256: String,
}

/// Reads and loads a scenario file, applying `--set` overrides.
pub fn load_file(path: &Path, sets: &[String]) -> Result<Loaded, Error> {
    Ok(Source::read(path)?.load(sets)?)
}

/// A scenario file read and parsed once, to be loaded with several sets
/// of overrides (a sweep's grid points, a tornado's runs): each
/// [`Source::load`] gives what [`load_str`] gives, errors included, without
/// reading, parsing and hashing the file again.
pub struct Source {
    file: PathBuf,
    text: String,
    file_sha256: String,
    /// The file alone, deserialised (phase A of [`Source::load`]), or the
    /// error that phase gives.
    parsed: Result<RawScenario, InputError>,
    /// The parsed document for overrides to edit, kept from the second
    /// load with overrides on (a single load parses its own: cloning the
    /// kept one costs about half a parse).
    editable: std::sync::OnceLock<toml_edit::DocumentMut>,
    edits: std::sync::atomic::AtomicUsize,
}

impl Source {
    /// Reads `path` (which must be UTF-8 text).
    pub fn read(path: &Path) -> Result<Source, Error> {
        let bytes = std::fs::read(path).map_err(|e| {
            let hint = if path.is_dir() {
                Some(folder_hint(path))
            } else if path == Path::new("-") {
                Some(
                    "capsim reads a scenario from a file, not from standard input: save it \
                     to a file first (or, in bash, give <(command))"
                        .to_string(),
                )
            } else {
                (e.kind() == std::io::ErrorKind::NotFound)
                    .then(|| missing_file_hint(path))
                    .flatten()
            };
            Error::file(path, format!("cannot read scenario file: {e}")).with_hint(hint)
        })?;
        // A file saved in another encoding (Windows-1252 from a spreadsheet,
        // say): point at its first byte that is not UTF-8.
        let text = String::from_utf8(bytes).map_err(|e| {
            let bytes = e.as_bytes();
            let good = e.utf8_error().valid_up_to();
            let before = String::from_utf8_lossy(&bytes[..good]);
            let (line, column) = locate::line_col(&before, before.len());
            Error::from(InputError {
                origin: Origin::File {
                    file: path.to_path_buf(),
                    line,
                    column,
                },
                field: String::new(),
                message: format!(
                    "found byte 0x{:02x}, which is not UTF-8 text, expected a file saved as UTF-8",
                    bytes[good]
                ),
                hint: None,
            })
        })?;
        Ok(Source::new(path, text))
    }
}

/// For a scenario file that does not exist: the file meant, if one is
/// there: the name with `.toml`, the same name in `scenarios/`, or the
/// closest `*.toml` name in its folder or in `scenarios/`.
fn missing_file_hint(path: &Path) -> Option<String> {
    let with_toml = |p: &Path| -> PathBuf {
        let mut s = p.as_os_str().to_os_string();
        s.push(".toml");
        PathBuf::from(s)
    };
    let library = Path::new("scenarios");
    let mut tries = Vec::new();
    if path.extension().is_none() {
        tries.push(with_toml(path));
    }
    if path.is_relative() && !path.starts_with(library) {
        tries.push(library.join(path));
        if path.extension().is_none() {
            tries.push(with_toml(&library.join(path)));
        }
    }
    let found = tries.into_iter().find(|p| p.is_file()).or_else(|| {
        // A typo: the closest `*.toml` file name beside it or in the
        // library.
        let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
        [parent.unwrap_or(Path::new(".")), library]
            .iter()
            .find_map(|dir| near_name(dir, path, ".toml", |p| p.is_file()))
    })?;
    Some(format!("did you mean {}?", found.display()))
}

/// The entry of folder `dir` (files or folders, as `keep` says) whose name
/// is closest to `path`'s, without `suffix`, within a quarter of its
/// letters and at least one (none for a name of one or two letters, whose
/// every neighbour is unrelated), case aside; as a path to give on the
/// command line.
pub(crate) fn near_name(
    dir: &Path,
    path: &Path,
    suffix: &str,
    keep: impl Fn(&Path) -> bool,
) -> Option<PathBuf> {
    let name = path.file_name()?.to_str()?;
    let stem = name.strip_suffix(suffix).unwrap_or(name).to_lowercase();
    // One letter off in a name of three or more (a name of one or two has
    // no neighbours: `-` is not `d.toml`).
    let limit = match stem.chars().count() {
        0..=2 => 0,
        n => (n / 4).max(1),
    };
    let best = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok())
        .filter(|e| keep(&e.path()))
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.ends_with(suffix))
        .map(|n| {
            let other = n.strip_suffix(suffix).unwrap_or(&n).to_lowercase();
            (strsim::damerau_levenshtein(&stem, &other), n)
        })
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)?
        .1;
    Some(if dir == Path::new(".") {
        PathBuf::from(best)
    } else {
        dir.join(best)
    })
}

/// Loads a scenario from text; `file` is only used in messages.
pub fn load_str(file: &Path, text: &str, sets: &[String]) -> Result<Loaded, InputError> {
    Source::new(file, text.to_string()).load(sets)
}

impl Source {
    /// The scenario in `text` (`file` is only used in messages), parsed
    /// and deserialised alone (phase A).
    pub fn new(file: &Path, text: String) -> Source {
        let file_sha256 = sha256_hex(text.as_bytes());
        let src = Source {
            file: file.to_path_buf(),
            text,
            file_sha256,
            parsed: Ok(RawScenario::default()),
            editable: std::sync::OnceLock::new(),
            edits: std::sync::atomic::AtomicUsize::new(0),
        };
        // Phase A fills `parsed`; its messages need the rest.
        let parsed = src.phase_a();
        Source { parsed, ..src }
    }

    fn at_offset(&self, offset: usize) -> Origin {
        let (line, column) = locate::line_col(&self.text, offset);
        Origin::File {
            file: self.file.clone(),
            line,
            column,
        }
    }

    /// The parsed document, for the spans of an error.
    fn doc(&self) -> toml_edit::Document<String> {
        toml_edit::Document::parse(self.text.clone()).expect("parsed before")
    }

    /// Phase A: the file alone, so errors point into it precisely.
    fn phase_a(&self) -> Result<RawScenario, InputError> {
        let parsed = toml_edit::Document::parse(self.text.clone()).map_err(|e| {
            let at = e.span().map(|s| s.start).unwrap_or(0);
            InputError {
                origin: self.at_offset(at),
                field: String::new(),
                message: match e.message().trim() {
                    "duplicate key" => duplicate_key(&self.text, at),
                    m => format!("invalid TOML: {m}"),
                },
                hint: value_at(&self.text, at)
                    .and_then(|(k, v)| value_hint(k, v, Written::File))
                    .or_else(|| single_bracket_hint(&self.text, at))
                    .or_else(|| {
                        // (Not a `[workload]` after a `[[workload]]`: that
                        // has its own hint, above.)
                        (e.message().trim() == "duplicate key").then(|| {
                            "a field is set once in its table, and a table \
                             ([simulation], [agi]) is written once: keep one of the two"
                                .to_string()
                        })
                    })
                    .or_else(|| {
                        // A result's manifest (or a shard's description)
                        // given for its scenario.
                        manifest_scenario(&self.file).map(|f| {
                            format!(
                                "this is a file capsim wrote (JSON), not a scenario (TOML); \
                                 its scenario was {f}"
                            )
                        })
                    }),
            }
        })?;
        serde_path_to_error::deserialize(toml_edit::de::Deserializer::from(parsed)).map_err(|e| {
            let doc = self.doc();
            let path = locate::from_serde_path(e.path());
            let span = e
                .inner()
                .span()
                .or_else(|| locate::span_of(doc.as_table(), &path));
            let at = span.map(|s| s.start).unwrap_or(0);
            let mut err = serde_error(
                e.inner().message(),
                locate::display_path(doc.as_table(), &path),
                self.at_offset(at),
            );
            if err.hint.is_none() {
                err.hint =
                    value_at(&self.text, at).and_then(|(k, v)| value_hint(k, v, Written::File));
            }
            err
        })
    }

    /// The scenario with `sets` applied, validated: what [`load_str`]
    /// gives for the same text and `sets`, errors included. Two of `sets`
    /// that set one field to different values are refused
    /// ([`overrides::repeated`]).
    pub fn load(&self, sets: &[String]) -> Result<Loaded, InputError> {
        self.load_varied(sets, sets.len())
    }

    /// As [`Source::load`], where only the first `fixed` of `sets` must not
    /// undo each other: the rest are a command's variations on them (a
    /// sweep's grid point, a sensitivity run's parameter), which the
    /// command checks itself.
    pub fn load_varied(&self, sets: &[String], fixed: usize) -> Result<Loaded, InputError> {
        let mut raw = self.parsed.as_ref().map_err(Clone::clone)?.clone();

        // Phase B: overrides edit the document, which is deserialised again
        // (and edited again only to place an error, as in phase A).
        let mut applied: Vec<overrides::Override> = Vec::new();
        if !sets.is_empty() {
            let parse = || self.text.parse().expect("parsed before");
            let first = self
                .edits
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
                == 0;
            let edit = || -> Result<_, InputError> {
                let mut doc_mut: toml_edit::DocumentMut = if first {
                    parse()
                } else {
                    self.editable.get_or_init(parse).clone()
                };
                let mut applied = Vec::with_capacity(sets.len());
                for arg in sets {
                    let o = overrides::apply(&mut doc_mut, arg).map_err(|message| InputError {
                        origin: Origin::Override { arg: arg.clone() },
                        field: arg.split('=').next().unwrap_or_default().trim().to_string(),
                        message,
                        hint: None,
                    })?;
                    applied.push(o);
                }
                if let Some((i, j)) = overrides::repeated(&applied[..fixed.min(applied.len())]) {
                    return Err(set_twice(&doc_mut, &applied[i], &applied[j]));
                }
                Ok((doc_mut, applied))
            };
            let doc_mut;
            (doc_mut, applied) = edit()?;
            raw = serde_path_to_error::deserialize(toml_edit::de::Deserializer::from(doc_mut))
                .map_err(|e| {
                    let (doc_mut, _) = edit().expect("edited above");
                    let path = locate::from_serde_path(e.path());
                    let origin = override_origin(&applied, &path);
                    let mut err = serde_error(
                        e.inner().message(),
                        locate::display_path(doc_mut.as_table(), &path),
                        origin.clone(),
                    );
                    if let (None, Origin::Override { arg }) = (&err.hint, &origin) {
                        err.hint = arg
                            .split_once('=')
                            .and_then(|(k, v)| value_hint(k, v, Written::Set));
                    }
                    err
                })?;
        }

        // Phase C: validation; blame an override if it set the field, or
        // one inside it where the error is a whole table's (a correlation
        // matrix made not positive definite by `--set correlation.0.rho=1`).
        let scenario = validate::validate(&raw).map_err(|v| {
            let doc = self.doc();
            let origin =
                if !v.path.is_empty() && applied.iter().any(|o| o.path.starts_with(&v.path)) {
                    override_origin(&applied, &v.path)
                } else {
                    self.at_offset(
                        locate::span_of(doc.as_table(), &v.path)
                            .map(|s| s.start)
                            .unwrap_or(0),
                    )
                };
            // A field of the file at odds with an override of its table (a
            // rule's `kind` set to one the file's other fields do not fit).
            let parent = &v.path[..v.path.len().saturating_sub(1)];
            let hint = v.hint.or_else(|| {
                let o = applied.iter().rev().find(|o| {
                    o.path.len() == v.path.len() && o.path.starts_with(parent) && o.path != v.path
                })?;
                Some(format!(
                    "this field is the file's; --set {} changed its table",
                    o.arg
                ))
            });
            InputError {
                origin,
                field: locate::display_path(doc.as_table(), &v.path),
                message: v.message,
                hint,
            }
        })?;

        let resolved_toml = to_toml(&scenario);
        Ok(Loaded {
            file: self.file.clone(),
            file_sha256: self.file_sha256.clone(),
            overrides: sets.to_vec(),
            override_paths: applied.into_iter().map(|o| o.path).collect(),
            resolved_sha256: sha256_hex(resolved_toml.as_bytes()),
            resolved_toml,
            scenario,
        })
    }
}

/// Where top-level field `key` of `l` was given: the last `--set` that
/// gave it, else its key in `l`'s file (the file's start where the file
/// leaves it to its default).
fn key_origin(l: &Loaded, key: &str) -> Origin {
    let set = l
        .overrides
        .iter()
        .rev()
        .find(|a| a.split('=').next().map(str::trim) == Some(key));
    match set {
        Some(arg) => Origin::Override { arg: arg.clone() },
        None => {
            let text = std::fs::read_to_string(&l.file).unwrap_or_default();
            let offset = toml_edit::Document::parse(text.clone())
                .ok()
                .and_then(|d| locate::span_of(d.as_table(), &[locate::key(key)]))
                .map_or(0, |s| s.start);
            let (line, column) = locate::line_col(&text, offset);
            Origin::File {
                file: l.file.clone(),
                line,
                column,
            }
        }
    }
}

/// The error for scenario `l`, whose name `first` (loaded before it in the
/// same command) has too: results go to folders named after scenarios, so
/// one would write over the other. Points at the `--set` that gave the
/// name, else at the `name` key in `l`'s file.
pub fn same_name(l: &Loaded, first: &Loaded) -> InputError {
    InputError {
        origin: key_origin(l, "name"),
        field: "name".to_string(),
        message: format!(
            "found \"{}\", the name of {} too, expected a name of its own (results \
             are written to a folder named after the scenario)",
            l.scenario.name,
            first.file.display()
        ),
        hint: None,
    }
}

/// The error for scenario `l`, compared with `base` (`compare`'s base,
/// `batch`'s benchmark) in another currency: a comparison subtracts money,
/// and capsim converts none, so the differences would mean nothing.
pub fn other_currency(l: &Loaded, base: &Loaded) -> InputError {
    InputError {
        origin: key_origin(l, "currency"),
        field: "currency".to_string(),
        message: format!(
            "found {}, but {} (\"{}\") is in {}, expected the same currency: a \
             comparison subtracts money, and capsim converts none",
            l.scenario.currency,
            base.file.display(),
            base.scenario.name,
            base.scenario.currency
        ),
        hint: None,
    }
}

/// The error for override `later`, which undoes `earlier`
/// ([`overrides::repeated`]); `doc` names the field.
fn set_twice(
    doc: &toml_edit::DocumentMut,
    earlier: &overrides::Override,
    later: &overrides::Override,
) -> InputError {
    let field = locate::display_path(doc.as_table(), &later.path);
    let flags = if matches!(field.as_str(), "simulation.paths" | "simulation.seed") {
        "; --paths and --seed set simulation.paths and simulation.seed"
    } else {
        ""
    };
    InputError {
        origin: Origin::Override {
            arg: later.arg.clone(),
        },
        field,
        message: format!(
            "found this field set a second time (first by --set {}{flags}), expected each \
             field set once",
            earlier.arg
        ),
        hint: Some("the later value would win silently: drop one of the two".into()),
    }
}

fn override_origin(applied: &[overrides::Override], path: &[Seg]) -> Origin {
    // The override whose path shares the longest prefix with the error's.
    let best = applied
        .iter()
        .max_by_key(|o| o.path.iter().zip(path).take_while(|(a, b)| a == b).count())
        .map(|o| o.arg.clone())
        .unwrap_or_default();
    Origin::Override { arg: best }
}

fn serde_error(message: &str, field: String, origin: Origin) -> InputError {
    let message = short_numbers(message.trim());
    let mut hint = None;
    if let Some(rest) = message.strip_prefix("unknown field `") {
        if let Some((bad, expected)) = rest.split_once('`') {
            let candidates: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
            hint = closest(bad, candidates.into_iter()).map(|c| format!("did you mean `{c}`?"));
            if hint.is_none() && !field.contains('.') {
                hint = nested_home(bad);
            }
        }
    }
    // `paths = 1e6` or `1000000.0`: TOML reads both as floats. So does
    // `--set` a whole number too large for TOML (`seed=18446744073709551616`).
    if let Some(rest) = message.strip_prefix("invalid type: floating point `") {
        if let Some((v, expected)) = rest.split_once('`') {
            let whole = v.parse::<f64>().ok().filter(|x| x.fract() == 0.0);
            if let (Some(x), true) = (
                whole,
                expected.contains("expected i64") || expected.contains("expected u64"),
            ) {
                // (2^63 is exact in f64.)
                let fits = (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&x);
                hint = Some(if fits {
                    format!(
                        "a whole number is written without a decimal point or exponent: {x:.0} \
                         (TOML reads 1e6 and 1000000.0 as floating point)"
                    )
                } else {
                    TOO_LARGE_WHOLE.to_string()
                });
            }
        }
    }
    // A list written as one name (`workloads = "api"`), or in `--set`
    // without the quotes the shell took (`--set rule.0.workloads=[api]`).
    if let Some(v) = message
        .strip_prefix("invalid type: string \"")
        .and_then(|r| r.strip_suffix("\", expected a sequence"))
    {
        let inner = v.trim().trim_start_matches('[').trim_end_matches(']');
        let names: Vec<String> = inner
            .split(',')
            .map(|n| n.trim().trim_matches(|c| c == '"' || c == '\''))
            .filter(|n| !n.is_empty())
            .map(|n| format!("\"{n}\""))
            .collect();
        let list = format!("[{}]", names.join(", "));
        hint = Some(match &origin {
            Origin::Override { arg } => format!(
                "a list is written in brackets, each name in double quotes, and the whole \
                 --set in single quotes so that the shell keeps them: --set '{}={list}'",
                arg.split('=').next().unwrap_or_default()
            ),
            _ => format!(
                "a list is written in brackets, each name in double quotes: {} = {list}",
                field.rsplit('.').next().unwrap_or_default()
            ),
        });
    }
    // A negative seed (the one unsigned field): serde says only "expected
    // u64".
    if message.starts_with("invalid value: integer `-") && message.ends_with("expected u64") {
        hint = Some(
            "a seed is a whole number from 0 to 9223372036854775807 (TOML's largest)".to_string(),
        );
    }
    // A table written as an array (`[[simulation]]`, `delay_months = [3,
    // 0.6]`), or one `[workload]` where each is a `[[workload]]`.
    let key = field.rsplit('.').next().unwrap_or_default();
    if message.starts_with("invalid type: sequence, expected a table") {
        hint = Some(match key {
            "simulation" | "agi" => format!(
                "[{key}] is one table: one pair of brackets, [{key}], its fields by name below it"
            ),
            "delay_months" => {
                "write its fields by name: delay_months = { median = 3.0, sigma = 0.6 }".to_string()
            }
            _ => format!("write its fields by name: {key} = {{ field = value, ... }}"),
        });
    }
    if message.starts_with("invalid type: map, expected an array of tables") {
        hint = array_of_tables(key).map(|(header, one)| {
            format!("each {one} is its own [[{header}]] table, with two pairs of brackets")
        });
    }
    // A date field's type is a string to serde: say which.
    let message = match message.strip_suffix(", expected a string") {
        Some(m) if is_date_field(&field) => {
            // (A rule's `from` and `until` take "agi" too. A TOML
            // date-time, `2026-01-15` unquoted, is a table to serde.)
            let agi = if field.starts_with("rule.") {
                " or \"agi\""
            } else {
                ""
            };
            let m = m.replace("invalid type: map", "invalid type: date-time");
            format!("{m}, expected a date \"YYYY-MM\"{agi}")
        }
        _ => message,
    };
    // A text field's type is a string to serde: say which text.
    let message = match (
        message.strip_suffix(", expected a string"),
        expected_text(&field),
    ) {
        (Some(m), Some(what)) => format!("{m}, expected {what}"),
        _ => message,
    };
    // serde's Rust type names, in words ("expected f64"), and its data
    // model's, in the file's ("sequence" is a list, "map" a table).
    let message = message
        .replace("invalid type: sequence,", "invalid type: list,")
        .replace("invalid type: map,", "invalid type: table,")
        .replace(", expected a sequence", ", expected a list")
        .replace(", expected f64", ", expected a number")
        .replace(", expected i64", ", expected a whole number")
        .replace(", expected u64", ", expected a whole number, 0 or more");
    InputError {
        origin,
        field,
        message,
        hint,
    }
}

/// `text` with every number longer than 21 characters written in
/// exponent form: serde and Rust's `{}` write every digit of a large or
/// tiny float (1e300 is 301 of them), in messages and warnings.
pub(crate) fn short_numbers(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(|c: char| c.is_ascii_digit()) {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let mut end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        // (A sentence's full stop is not the number's.)
        if rest[..end].ends_with('.') {
            end -= 1;
        }
        let run = &rest[..end];
        match run.parse::<f64>() {
            Ok(x) if run.len() > 21 => out.push_str(&format!("{x:e}")),
            _ => out.push_str(run),
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// What text field `field` (a display path, `provider.azure.kind`) takes,
/// for a type error where serde says only "expected a string". `None` for
/// a date field (said apart) or a path that is not a text field.
fn expected_text(field: &str) -> Option<String> {
    let segs: Vec<&str> = field.split('.').collect();
    let last = *segs.last()?;
    Some(match (&segs[..], last) {
        ([_], "period") => "\"month\", \"quarter\" or \"year\"".to_string(),
        ([_], "currency") => "a three-letter ISO 4217 code such as \"USD\"".to_string(),
        (["simulation", _], "sampling") => "\"mc\"".to_string(),
        (["simulation", _], "policy") => "\"priority\" or \"optimal\"".to_string(),
        (["provider", _, _], "kind") => "\"cloud\" or \"owned\"".to_string(),
        (["contract", _, _], "kind") => "\"reserved\" or \"commitment\"".to_string(),
        (["rule", _, _], "kind") => {
            "\"exclusive\", \"first_refusal\", \"min_share\" or \"max_share\"".to_string()
        }
        ([_, _, _], "provider") => "a provider's name".to_string(),
        (["rule", _, "workloads", _], _) => "a workload's name".to_string(),
        (["rule", _, "providers", _], _) => "a provider's name".to_string(),
        (["correlation", _, "between", _], _) => {
            "a factor, \"demand/<workload>\" or \"price/<provider>\"".to_string()
        }
        (_, "name" | "description") => "text".to_string(),
        _ => return None,
    })
}

/// For an array-of-tables key, its table header and what one element is.
fn array_of_tables(key: &str) -> Option<(&'static str, &'static str)> {
    Some(match key {
        "workload" => ("workload", "workload"),
        "provider" => ("provider", "provider"),
        "tranche" => ("provider.tranche", "tranche"),
        "contract" => ("contract", "contract"),
        "rule" => ("rule", "rule"),
        "correlation" => ("correlation", "correlation"),
        _ => return None,
    })
}

/// TOML's "duplicate key" at byte `at` of `text` (its second definition),
/// with the key named and the line of its first definition where it is
/// found: the same `[table]` header earlier in the file, or the same key
/// earlier in the same table (toml_edit says only "duplicate key", at the
/// second).
fn duplicate_key(text: &str, at: usize) -> String {
    let uncommented = |l: &str| l.split('#').next().unwrap_or_default().trim().to_string();
    let Some(start) = text.get(..at).map(|b| b.rfind('\n').map_or(0, |i| i + 1)) else {
        return "invalid TOML: duplicate key".to_string();
    };
    let here = text[..start].matches('\n').count(); // 0-based line
    let line = uncommented(text[start..].lines().next().unwrap_or_default());
    let lines: Vec<&str> = text.lines().collect();
    let key_of = |l: &str| -> Option<String> {
        let (k, _) = l.split_once('=')?;
        let k = k.trim().trim_matches('"').trim_matches('\'');
        (!k.is_empty() && !k.starts_with('[')).then(|| k.to_string())
    };
    // The key where the error points (in an inline table, its entry's).
    let key: String = text[at..]
        .trim_start_matches(['"', '\''])
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        .collect();
    if key.is_empty() {
        return "invalid TOML: duplicate key".to_string();
    }
    let (what, first) = if line.starts_with('[') {
        // A table header: the same header earlier.
        let first = lines[..here].iter().rposition(|l| uncommented(l) == line);
        (format!("table {line}"), first)
    } else if text[start..at].contains('{') {
        // Within one inline table.
        (format!("key `{key}`"), None)
    } else {
        // The same key earlier in the same table: back to its header.
        let mut first = None;
        for (i, l) in lines[..here].iter().enumerate().rev() {
            let l = uncommented(l);
            if l.starts_with('[') {
                break;
            }
            if key_of(&l).as_deref() == Some(key.as_str()) {
                first = Some(i);
                break;
            }
        }
        (format!("key `{key}`"), first)
    };
    match first {
        Some(i) => format!("invalid TOML: duplicate {what} (first on line {})", i + 1),
        None => format!("invalid TOML: duplicate {what}"),
    }
}

/// The hint for TOML's "duplicate key" at a `[workload]` header (one pair
/// of brackets) after a `[[workload]]`: offset `at` in `text`.
fn single_bracket_hint(text: &str, at: usize) -> Option<String> {
    let start = text.get(..at)?.rfind('\n').map_or(0, |i| i + 1);
    let line = text[start..].lines().next()?;
    let line = line.split('#').next()?.trim();
    let name = line.strip_prefix('[')?.strip_suffix(']')?.trim();
    if name.starts_with('[') {
        return None;
    }
    let (header, one) = array_of_tables(name.rsplit('.').next()?)?;
    (header == name).then(|| {
        format!("each {one} is its own [[{header}]] table, with two pairs of brackets: [{name}] is one table")
    })
}

/// The key and value of the `key = value` line that holds byte `offset`
/// of `text` (comment and blanks cut), for the hint on an error there.
/// In an inline table (`delay_months = { median = 6, sigma = 50% }`), the
/// key and value of its entry that holds `offset`.
fn value_at(text: &str, offset: usize) -> Option<(&str, &str)> {
    let start = text.get(..offset)?.rfind('\n').map_or(0, |i| i + 1);
    let end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
    let line = &text[start..end];
    let at = offset - start;
    let line = &line[..line.find('#').filter(|&h| h >= at).unwrap_or(line.len())];
    let eq = match line[..at].rfind('=') {
        Some(eq) => eq,
        // The error at the key: the line's first `=`.
        None => line.find('=')?,
    };
    let (key, value) = (&line[..eq], &line[eq + 1..]);
    // Inside an inline table: the entry's key and value, cut at the next
    // `,` or `}`.
    let key = key.rsplit(['{', ',']).next().unwrap_or(key);
    let value = if line[..eq].contains('{') {
        value.split([',', '}']).next().unwrap_or(value)
    } else {
        value
    };
    Some((key.trim(), value.trim()))
}

/// `x`% as a fraction, as one would write it: `0.3` for 30, `0.011` for
/// 1.1 (not `0.011000000000000001`, the nearest double's shortest form).
pub(crate) fn percent_as_fraction(x: f64) -> String {
    let s = format!("{:.15}", x / 100.0);
    let s = s.trim_end_matches('0');
    s.strip_suffix('.').unwrap_or(s).to_string()
}

/// `p` without a leading sign.
fn unsigned(p: &str) -> &str {
    p.strip_prefix(['-', '+']).unwrap_or(p)
}

/// The scenario's fields that hold a date (`"YYYY-MM"`), and those that
/// hold a whole number, for [`value_hint`].
const DATE_FIELDS: [&str; 6] = ["start", "online", "from", "to", "until", "earliest"];
const WHOLE_FIELDS: [&str; 3] = ["periods", "paths", "seed"];
/// The scenario's yes/no fields, and its text fields other than dates.
const BOOL_FIELDS: [&str; 1] = ["deferrable"];
const TEXT_FIELDS: [&str; 8] = [
    "name",
    "description",
    "period",
    "currency",
    "sampling",
    "policy",
    "kind",
    "provider",
];

/// The hint for a number given on the command line (a range of `sweep`'s
/// `--set` or `sensitivity`'s `--param`) for field `key`, written as a
/// spreadsheet shows it (`10%`, `1,5`, `$2.5`, `10k`): the hint a value
/// written so in a scenario file gets.
pub fn flag_number_hint(key: &str, value: &str) -> Option<String> {
    value_hint(key, value, Written::Set)
}

/// The field's own name: the last part of a dotted path (`growth` of
/// `workload.api.growth`).
fn field_name(key: &str) -> &str {
    key.trim().rsplit('.').next().unwrap_or_default()
}

/// Whether field `key` (a dotted path) holds a date (`"YYYY-MM"`).
pub fn is_date_field(key: &str) -> bool {
    DATE_FIELDS.contains(&field_name(key))
}

/// How to write `end`, one end of a range of field `key` (a sweep's
/// `lo:hi:steps`, a sensitivity parameter's `lo:hi`) that did not read as
/// a value of the field: a date written another way for a date field, a
/// number written as a spreadsheet shows it for any other.
pub fn range_end_hint(key: &str, end: &str) -> Option<String> {
    if is_date_field(key) {
        validate::date_hint(end.trim())
    } else {
        flag_number_hint(key, end)
    }
}

/// Where a value was written, for [`value_hint`].
#[derive(Clone, Copy)]
enum Written {
    File,
    Set,
}

/// How to write a value that a user may have written the way a spreadsheet
/// or a report shows it, which TOML (and `--set`) do not read: a number in
/// quotes (`"28"`), a percentage
/// (`30%`), a decimal comma or thousands separators (`1,5`, `1,000`), a
/// currency sign or a K/M/B/T suffix (`$250B`), and, for a date field
/// (`key`, a dotted path or a bare key: `start`, `online`, `from`, `to`,
/// `until`, `earliest`), a date without quotes (`start = 2026-01`, which
/// TOML rejects, or `2026-01-01`, which it reads as a date-time). `raw` is
/// the value as written (with its quotes, in a file).
/// The hint for a whole number TOML cannot hold (it has 64-bit signed
/// integers).
const TOO_LARGE_WHOLE: &str =
    "beyond TOML's whole numbers, -9223372036854775808 to 9223372036854775807";

fn value_hint(key: &str, raw: &str, written: Written) -> Option<String> {
    let v = raw.trim();
    let quoted = v.len() >= 2
        && ((v.starts_with('"') && v.ends_with('"')) || (v.starts_with('\'') && v.ends_with('\'')));
    let v = if quoted { v[1..v.len() - 1].trim() } else { v };
    let digits = |p: &str| {
        !p.is_empty()
            && p.bytes().any(|b| b.is_ascii_digit())
            && p.bytes()
                .all(|b| b.is_ascii_digit() || b == b'.' || b == b'_')
    };
    // `--set demand=1e400`: not TOML (it overflows), so taken as a string.
    if !quoted
        && v.parse::<f64>().is_ok_and(f64::is_infinite)
        && !v.to_ascii_lowercase().contains("inf")
    {
        return Some(format!(
            "{v} is beyond the largest number a field holds (about 1.8e308)"
        ));
    }
    // `seed = 18446744073709551616`: a whole number beyond TOML's.
    let plain = unsigned(v).replace('_', "");
    if !quoted
        && !plain.is_empty()
        && plain.bytes().all(|b| b.is_ascii_digit())
        && v.replace('_', "").parse::<i64>().is_err()
    {
        return Some(TOO_LARGE_WHOLE.to_string());
    }
    // `periods = "28"`: a number in quotes is a string.
    if quoted && v.parse::<f64>().is_ok_and(f64::is_finite) {
        return Some(format!("a number is written without quotes: {v}"));
    }
    if let Some(n) = v.strip_suffix('%') {
        let x = n.trim().parse::<f64>().ok().filter(|x| x.is_finite())?;
        return Some(format!(
            "a percentage is written as a fraction: {} for {v}",
            percent_as_fraction(x)
        ));
    }
    if v.contains(',') && v.split(',').all(|p| digits(unsigned(p))) {
        return Some(
            "a number is written with a decimal point and no thousands separators: 1.5 or \
             1000 (or 1_000), not 1,5 or 1,000"
                .to_string(),
        );
    }
    // `$250B`, `250bn`, `1.5 T`, `$2.50`.
    let (symbol, rest) = match unsigned(v).strip_prefix(['$', '€', '£']) {
        Some(rest) => (true, rest.trim_start()),
        None => (false, unsigned(v)),
    };
    let split = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '_'))
        .unwrap_or(rest.len());
    let (number, suffix) = rest.split_at(split);
    // (`m` alone only after a currency sign: `6m` may be six months.)
    let exponent = match suffix.trim() {
        "" => 0,
        "k" | "K" => 3,
        "M" | "mn" | "MN" => 6,
        "m" if symbol => 6,
        "b" | "B" | "bn" | "BN" => 9,
        "t" | "T" | "tn" | "TN" => 12,
        _ => -1,
    };
    let minus = if v.starts_with('-') { "-" } else { "" };
    if symbol && rest.parse::<f64>().is_ok_and(f64::is_finite) {
        return Some(format!(
            "a number is written without a currency sign or a K/M/B/T suffix: {minus}{rest} for {v}"
        ));
    }
    if digits(number) && exponent >= 0 && (symbol || exponent > 0) {
        // A whole-number field (`periods`, `paths`, `seed`) takes no
        // exponent: the number written out.
        let written_out = number
            .replace('_', "")
            .parse::<f64>()
            .ok()
            .and_then(|x| format!("{x}e{exponent}").parse::<f64>().ok())
            .filter(|x| x.fract() == 0.0 && *x < 1e18);
        let plain = if let (true, Some(x)) = (WHOLE_FIELDS.contains(&field_name(key)), written_out)
        {
            format!("{minus}{x:.0}")
        } else if exponent > 0 {
            format!("{minus}{number}e{exponent}")
        } else {
            format!("{minus}{number}")
        };
        return Some(format!(
            "a number is written without a currency sign or a K/M/B/T suffix: {plain} for {v}"
        ));
    }
    // `2026-01`, `2026-01-01`: a date is a string.
    let b = v.as_bytes();
    let dated = b.len() >= 7
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[5..7].iter().all(u8::is_ascii_digit)
        && (b.len() == 7 || b[7] == b'-');
    if is_date_field(key) && !quoted && dated {
        let month = &v[..7];
        return Some(match written {
            Written::File => format!("a date is written in quotes, as \"YYYY-MM\": \"{month}\""),
            Written::Set => format!("a date is written as YYYY-MM: {month}"),
        });
    }
    // `online = 2027` or `2027.06`: a number where a date goes (a year,
    // or a year and a month after the point).
    if is_date_field(key) && !quoted {
        let (year, month) = v.split_once('.').unwrap_or((v, ""));
        let month = match month {
            "" => Some(1),
            m if m.len() <= 2 && m.bytes().all(|b| b.is_ascii_digit()) => {
                m.parse::<u32>().ok().filter(|m| (1..=12).contains(m))
            }
            _ => None,
        };
        if let (true, Some(m)) = (
            year.len() == 4 && year.bytes().all(|b| b.is_ascii_digit()),
            month,
        ) {
            let date = format!("{year}-{m:02}");
            return Some(match written {
                Written::File => format!("a date is written in quotes, as \"YYYY-MM\": \"{date}\""),
                Written::Set => format!("a date is written as YYYY-MM: {date}"),
            });
        }
    }
    let name = field_name(key);
    // `deferrable = "true"`, `yes`, `True`: true or false, unquoted.
    if BOOL_FIELDS.contains(&name) {
        let meant = match v.to_ascii_lowercase().as_str() {
            "true" | "yes" | "y" | "on" | "1" => Some("true"),
            "false" | "no" | "n" | "off" | "0" => Some("false"),
            _ => None,
        };
        if let Some(b) = meant {
            return Some(match written {
                Written::File => {
                    format!("a yes/no field is written true or false, without quotes: {name} = {b}")
                }
                Written::Set => format!("a yes/no field is written true or false: {key}={b}"),
            });
        }
    }
    // `.10`: a digit before the point.
    if let Some(frac) = unsigned(v).strip_prefix('.') {
        if !quoted && digits(frac) {
            return Some(format!(
                "a number is written with a digit before its point: {minus}0.{frac}"
            ));
        }
    }
    // `250 000 000 000`: no spaces between the digits.
    if !quoted && v.contains(' ') && v.split_whitespace().all(|p| digits(unsigned(p))) {
        let joined: String = v.split_whitespace().collect();
        return Some(format!(
            "a number is written without spaces: {joined} (or with _ between groups: {})",
            v.split_whitespace().collect::<Vec<_>>().join("_")
        ));
    }
    // `period = quarter`: text in a file is written in double quotes
    // (TOML said "string values must be quoted", which read as the field's
    // own fault).
    let word = !v.is_empty()
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if matches!(written, Written::File) && !quoted && word && TEXT_FIELDS.contains(&name) {
        return Some(format!(
            "a text value is written in double quotes: {name} = \"{v}\""
        ));
    }
    None
}

/// For a top-level key that is a field of a nested table (`paths`, `seed`,
/// `policy`, `hazard`...): where it belongs.
fn nested_home(bad: &str) -> Option<String> {
    let tables = [
        ("simulation", struct_fields::<RawSimulation>()),
        ("agi", struct_fields::<RawAgi>()),
    ];
    tables.iter().find_map(|(table, fields)| {
        let field = fields
            .contains(&bad)
            .then(|| bad.to_string())
            .or_else(|| closest(bad, fields.iter().copied()))?;
        Some(format!(
            "`{field}` belongs in the [{table}] table (in --set: `{table}.{field}=...`)"
        ))
    })
}

/// The field names a serde struct accepts, as its derived `Deserialize`
/// declares them (read with a deserializer that only records them).
fn struct_fields<'de, T: serde::Deserialize<'de>>() -> &'static [&'static str] {
    use serde::de::{self, Visitor};
    struct Fields<'a>(&'a mut &'static [&'static str]);
    impl<'de> de::Deserializer<'de> for Fields<'_> {
        type Error = de::value::Error;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
            Err(de::Error::custom("not a struct"))
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _name: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Self::Error> {
            *self.0 = fields;
            Err(de::Error::custom("fields recorded"))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
            bytes byte_buf option unit unit_struct newtype_struct seq tuple
            tuple_struct map enum identifier ignored_any
        }
    }
    let mut fields: &'static [&'static str] = &[];
    let _ = T::deserialize(Fields(&mut fields));
    fields
}

/// The closest known name to a misspelt one, if any is close enough to be a
/// plausible typo (Damerau-Levenshtein distance at most a third of its length,
/// and at least 2).
pub fn closest<'a>(bad: &str, known: impl Iterator<Item = &'a str>) -> Option<String> {
    let limit = (bad.chars().count() / 3).max(2);
    // The same name in other case (`API` for `api`) first, then by edit
    // distance in lower case.
    let lower = bad.to_lowercase();
    known
        .map(|k| {
            let d = if k.eq_ignore_ascii_case(bad) {
                0
            } else {
                1 + strsim::damerau_levenshtein(&lower, &k.to_lowercase())
            };
            (d, k)
        })
        .filter(|(d, _)| *d <= limit + 1)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k.to_string())
}

/// The hint `did you mean "X"?` for the [`closest`] known value, if any.
pub fn did_you_mean<'a>(bad: &str, known: impl Iterator<Item = &'a str>) -> Option<String> {
    closest(bad, known).map(|c| format!("did you mean \"{c}\"?"))
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The scenario with every default filled in, in the file format.
pub fn to_raw(s: &Scenario) -> RawScenario {
    let label = |m: i64| s.month_label(m);
    let bound = |b: Bound| match b {
        Bound::Open => None,
        Bound::Month(m) => Some(label(m)),
        Bound::Agi => Some("agi".to_string()),
    };
    let wn = |ids: &[usize]| -> Vec<String> {
        ids.iter().map(|&w| s.workloads[w].name.clone()).collect()
    };
    let pn = |ids: &[usize]| -> Vec<String> {
        ids.iter().map(|&p| s.providers[p].name.clone()).collect()
    };
    RawScenario {
        name: Some(s.name.clone()),
        description: Some(s.description.clone()),
        start: Some(s.start.to_string()),
        periods: Some(s.periods as i64),
        period: Some(s.period.as_str().to_string()),
        currency: Some(s.currency.clone()),
        discount_rate: Some(s.discount_rate),
        shortfall_price: Some(s.shortfall_price),
        simulation: Some(RawSimulation {
            paths: Some(s.simulation.paths as i64),
            seed: Some(s.simulation.seed),
            sampling: Some(s.simulation.sampling.as_str().to_string()),
            policy: Some(s.simulation.policy.as_str().to_string()),
        }),
        agi: s.agi.as_ref().map(|a| RawAgi {
            hazard: Some(a.hazard),
            earliest: Some(label(a.earliest)),
        }),
        workload: s
            .workloads
            .iter()
            .map(|w| RawWorkload {
                name: Some(w.name.clone()),
                demand: Some(w.demand),
                growth: Some(w.growth),
                volatility: Some(w.volatility),
                jump_rate: Some(w.jump_rate),
                jump_mean: Some(w.jump_mean),
                jump_stdev: Some(w.jump_stdev),
                shortfall_price: Some(w.shortfall_price),
                deferrable: Some(w.deferrable),
            })
            .collect(),
        provider: s
            .providers
            .iter()
            .map(|p| RawProvider {
                name: Some(p.name.clone()),
                kind: Some(
                    match p.kind {
                        ProviderKind::Cloud => "cloud",
                        ProviderKind::Owned => "owned",
                    }
                    .to_string(),
                ),
                price: Some(p.price),
                price_drift: Some(p.price_drift),
                price_volatility: Some(p.price_volatility),
                availability: Some(p.availability),
                capex_per_gpu: Some(p.capex_per_gpu),
                life_years: Some(p.life_years),
                tranche: p
                    .tranches
                    .iter()
                    .map(|t| RawTranche {
                        gpus: Some(t.gpus),
                        online: Some(label(t.online)),
                        failure: Some(t.failure),
                        delay_months: t.delay.as_ref().map(|d| RawDelay {
                            median: Some(d.median),
                            sigma: Some(d.sigma),
                        }),
                    })
                    .collect(),
            })
            .collect(),
        contract: s
            .contracts
            .iter()
            .map(|c| {
                let (kind, gpus, price, amount) = match c.kind {
                    ContractKind::Reserved { gpus, price } => {
                        ("reserved", Some(gpus), Some(price), None)
                    }
                    ContractKind::Commitment { amount } => ("commitment", None, None, Some(amount)),
                };
                RawContract {
                    name: Some(c.name.clone()),
                    kind: Some(kind.to_string()),
                    provider: Some(s.providers[c.provider].name.clone()),
                    gpus,
                    price,
                    amount,
                    from: c.from.map(label),
                    to: c.to.map(label),
                }
            })
            .collect(),
        rule: s
            .rules
            .iter()
            .map(|r| {
                let mut raw = RawRule {
                    kind: Some(r.kind.name().to_string()),
                    from: bound(r.from),
                    until: bound(r.until),
                    ..Default::default()
                };
                match &r.kind {
                    RuleKind::Exclusive {
                        workloads,
                        providers,
                    } => {
                        raw.workloads = Some(wn(workloads));
                        raw.providers = Some(pn(providers));
                    }
                    RuleKind::FirstRefusal {
                        provider,
                        workloads,
                        accept,
                    } => {
                        raw.provider = Some(s.providers[*provider].name.clone());
                        raw.workloads = Some(wn(workloads));
                        raw.accept = Some(*accept);
                    }
                    RuleKind::MinShare { provider, share }
                    | RuleKind::MaxShare { provider, share } => {
                        raw.provider = Some(s.providers[*provider].name.clone());
                        raw.share = Some(*share);
                    }
                }
                raw
            })
            .collect(),
        correlation: s
            .correlations
            .iter()
            .map(|c| RawCorrelation {
                between: Some(c.between.iter().map(|f| s.factor_name(*f)).collect()),
                rho: Some(c.rho),
            })
            .collect(),
    }
}

/// The resolved scenario as TOML text (what `capsim check` prints).
pub fn to_toml(s: &Scenario) -> String {
    toml_edit::ser::to_string_pretty(&to_raw(s)).expect("a resolved scenario always serialises")
}

#[cfg(test)]
mod tests {
    use super::short_numbers;

    #[test]
    fn short_numbers_writes_only_long_numbers_in_exponent_form() {
        let long = format!("{}", 1e300);
        assert_eq!(long.len(), 301);
        assert_eq!(
            short_numbers(&format!("floating point `{long}`, expected a string")),
            "floating point `1e300`, expected a string"
        );
        assert_eq!(
            short_numbers("`0.00000000000000000001` and 2.5e-7 ends 1000000000000000000000000."),
            "`1e-20` and 2.5e-7 ends 1e24."
        );
        // Dates, versions, seeds and money as they are.
        for s in [
            "2026-01 v0.1.0 9223372036854775807 $250B 1.5.",
            "sha256 24feac1b172cb440f56b5645",
        ] {
            assert_eq!(short_numbers(s), s);
        }
    }
}
