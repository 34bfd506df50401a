//! Errors. Bad input (a scenario file, a `--set`, a flag) is an [`InputError`]
//! that names where the problem is and what was expected; the binary maps it
//! to exit code 2. Everything else (I/O, a failed thread pool) is exit code 1.

use std::fmt;
use std::path::{Path, PathBuf};

/// Where a bad value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A position in a scenario file (1-based line and column).
    File {
        file: PathBuf,
        line: usize,
        column: usize,
    },
    /// A file without a known position (e.g. it could not be read).
    FileOnly { file: PathBuf },
    /// A `--set key=value` argument on the command line.
    Override { arg: String },
    /// A command-line flag.
    Flag { flag: String },
}

/// A problem with what the user gave us. Displayed as
/// `file:line:column: field: message` plus an optional hint line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    pub origin: Origin,
    /// Dotted field path, in the syntax `--set` accepts (e.g. `provider.azure.tranche.0.gpus`).
    pub field: String,
    /// What was found and what was expected.
    pub message: String,
    /// A suggestion (e.g. the closest known field name).
    pub hint: Option<String>,
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.origin {
            Origin::File { file, line, column } => {
                write!(f, "{}:{}:{}: ", file.display(), line, column)?
            }
            Origin::FileOnly { file } => write!(f, "{}: ", file.display())?,
            Origin::Override { arg } => write!(f, "--set {arg}: ")?,
            Origin::Flag { flag } => write!(f, "{flag}: ")?,
        }
        if !self.field.is_empty() {
            write!(f, "field `{}`: ", self.field)?;
        }
        write!(f, "{}", self.message)?;
        if let Some(h) = &self.hint {
            write!(f, "\n  hint: {h}")?;
        }
        Ok(())
    }
}

impl std::error::Error for InputError {}

/// `items` as a message lists alternatives: `a`, `a or b`, `a, b or c`.
pub(crate) fn or_list<S: AsRef<str>>(items: &[S]) -> String {
    match items.split_last() {
        Some((last, [])) => last.as_ref().to_string(),
        Some((last, rest)) => {
            let rest: Vec<&str> = rest.iter().map(AsRef::as_ref).collect();
            format!("{} or {}", rest.join(", "), last.as_ref())
        }
        None => String::new(),
    }
}

/// Every error the library returns.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Input(Box<InputError>),
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    /// A metric, or a statistic of one, came out infinite or NaN: the
    /// scenario's numbers overflow `f64` over its horizon. Bad input, but
    /// of no single field.
    #[error(
        "{}the simulation overflowed: {what} is infinite or not a number on \
         some path or in its statistics; growth, volatility, jump sizes, \
         prices, demand or GPUs are too large for the horizon (no result \
         written){}",
        .scenario.as_deref().map(|s| format!("{s}: ")).unwrap_or_default(),
        .trace.as_deref().map(|t| format!("\n  hint: {t}")).unwrap_or_default()
    )]
    NotFinite {
        what: String,
        /// The scenario file (and `--set`s), when the caller knows it.
        scenario: Option<String>,
        /// The `capsim trace` of a path that overflows, when one is found.
        trace: Option<String>,
    },
    /// Ctrl-C or SIGTERM stopped the command ([`crate::interrupt`]).
    #[error(
        "interrupted: the run in progress was stopped and its partial result \
         removed"
    )]
    Interrupted,
    /// An error of one of several scenarios that does not name its file
    /// (a `--set` applied to each of them): [`Error::in_file`].
    #[error("{}: {source}", .file.display())]
    InScenario { file: PathBuf, source: Box<Error> },
    #[error("{0}")]
    Other(String),
}

impl Error {
    /// The process exit code DESIGN.md assigns to this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Input(_) | Error::NotFinite { .. } => 2,
            Error::InScenario { source, .. } => source.exit_code(),
            // What a shell reports for a process ended by SIGINT (the
            // binary ends by the signal itself: `interrupt::die`).
            Error::Interrupted => 130,
            _ => 1,
        }
    }

    /// This error, naming the scenario `file` it came from where it comes
    /// from a flag or `--set` applied to several scenarios (`compare`'s
    /// BASE and ALTs, a library's files), which does not say which.
    pub fn in_file(self, file: &Path) -> Self {
        match &self {
            Error::Input(e)
                if matches!(e.origin, Origin::Override { .. } | Origin::Flag { .. }) =>
            {
                Error::InScenario {
                    file: file.to_path_buf(),
                    source: Box::new(self),
                }
            }
            _ => self,
        }
    }

    /// Names the scenario (file and `--set`s) in an overflow error.
    pub fn in_scenario(self, loaded: &crate::scenario::Loaded) -> Self {
        match self {
            Error::NotFinite { what, .. } => {
                // As a command line would give it: `--paths` and `--seed`
                // as such, and of one field set twice (a sensitivity run's
                // parameter over its base's `--set`) the value it ran with.
                let file = loaded.file.display().to_string();
                let (mut s, mut traced) = (file.clone(), quoted(&file));
                let key = |o: &str| o.split('=').next().unwrap_or_default().to_string();
                for (i, o) in loaded.overrides.iter().enumerate() {
                    if loaded.overrides[i + 1..].iter().any(|l| key(l) == key(o)) {
                        continue;
                    }
                    if let Some(n) = o.strip_prefix("simulation.paths=") {
                        s.push_str(&format!(" --paths {n}"));
                        continue;
                    }
                    let arg = match o.strip_prefix("simulation.seed=") {
                        Some(n) => format!(" --seed {n}"),
                        None => format!(" --set {}", quoted(o)),
                    };
                    s.push_str(&arg);
                    traced.push_str(&arg);
                }
                // A path that overflows, to trace: among the first 10,000
                // (a few milliseconds each thousand on the baseline), fewer
                // for a larger model (each path's periods x factors), down
                // to 100.
                let m = crate::model::Model::compile(&loaded.scenario);
                let size = (m.periods * (m.workloads.len() + m.providers.len())).max(1) as u64;
                let limit = (3_000_000 / size).clamp(100, 10_000);
                let trace = crate::trace::overflowing_path(&m, limit).map(|k| {
                    format!(
                        "path {k} overflows; `capsim trace {traced} --path {k}` tells its \
                         story and the period where it does"
                    )
                });
                Error::NotFinite {
                    what,
                    scenario: Some(s),
                    trace,
                }
            }
            e => e,
        }
    }

    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    /// Bad input about a whole file or folder, with no line to point at.
    pub fn file(file: &std::path::Path, message: impl Into<String>) -> Self {
        Error::Input(Box::new(InputError {
            origin: Origin::FileOnly {
                file: file.to_path_buf(),
            },
            field: String::new(),
            message: message.into(),
            hint: None,
        }))
    }

    /// This error, pointed at `written` where it points at the `--set`
    /// `derived` (an override a command made from what the user wrote: a
    /// sweep point's `key=value` from `--set key=lo:hi:steps`, a tornado
    /// end's from `--param key=lo:hi`), which the user never typed.
    pub fn as_written(self, derived: &str, written: &Origin) -> Self {
        match self {
            Error::Input(mut e) if matches!(&e.origin, Origin::Override { arg } if arg == derived) =>
            {
                e.origin = written.clone();
                Error::Input(e)
            }
            e => e,
        }
    }

    pub fn flag(flag: &str, message: impl Into<String>) -> Self {
        Error::Input(Box::new(InputError {
            origin: Origin::Flag {
                flag: flag.to_string(),
            },
            field: String::new(),
            message: message.into(),
            hint: None,
        }))
    }

    /// This error with `hint` (bad input only; a hint of `None` changes
    /// nothing).
    pub fn with_hint(mut self, hint: Option<String>) -> Self {
        if let (Error::Input(e), Some(h)) = (&mut self, hint) {
            e.hint = Some(h);
        }
        self
    }
}

impl From<InputError> for Error {
    fn from(e: InputError) -> Self {
        Error::Input(Box::new(e))
    }
}

impl From<csv::Error> for Error {
    fn from(e: csv::Error) -> Self {
        Error::Other(format!("writing CSV: {e}"))
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A `--set` or a file name as a shell takes it: in single quotes where
/// it holds anything but plain characters (a list's `["a", "b"]`, a
/// space), a single quote in it written `'\''`.
pub(crate) fn quoted(arg: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "._-=:+/@,".contains(c);
    if !arg.is_empty() && arg.chars().all(plain) {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::quoted;

    #[test]
    fn quoted_for_the_shell_where_needed() {
        assert_eq!(quoted("results/baseline"), "results/baseline");
        assert_eq!(quoted("workload.api.growth=0.3"), "workload.api.growth=0.3");
        assert_eq!(quoted("my results/é"), "'my results/é'");
        assert_eq!(
            quoted(r#"rule.0.providers=["azure"]"#),
            r#"'rule.0.providers=["azure"]'"#
        );
        assert_eq!(quoted("it's"), r"'it'\''s'");
        assert_eq!(quoted(""), "''");
    }
}
