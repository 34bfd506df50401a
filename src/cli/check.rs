use super::SetArgs;
use crate::error::{Error, Result};
use crate::scenario;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Scenario file(s) (TOML; see docs/scenario-format.md), or a folder of
    /// them: one is printed resolved, several are listed as valid or not
    #[arg(required = true)]
    pub scenarios: Vec<PathBuf>,
    #[command(flatten)]
    pub set: SetArgs,
    /// Number of paths (overrides simulation.paths, as in run)
    #[arg(long, allow_negative_numbers = true, value_parser = super::paths_arg)]
    pub paths: Option<u64>,
    /// Random seed (overrides simulation.seed, as in run)
    #[arg(long, allow_negative_numbers = true, value_parser = super::seed_arg)]
    pub seed: Option<u64>,
}

pub fn check(a: CheckArgs) -> Result<()> {
    // (`--paths` and `--seed` as `run` takes them: a run's command line
    // with `check` for `run` checks what that run would simulate.)
    let sets = super::run::sets_with(&a.set.sets, a.paths, a.seed);
    if let [file] = &a.scenarios[..] {
        if !file.is_dir() {
            return check_one(file, &sets);
        }
    }
    // Several files, or a folder's: each listed as valid (with its
    // warnings) or not (its error), and exit 2 if any is not.
    let mut files = Vec::new();
    for f in &a.scenarios {
        if f.is_dir() {
            files.extend(super::batch::scenario_files(f)?);
        } else {
            files.push(f.clone());
        }
    }
    let mut out = std::io::stdout().lock();
    let mut bad = Vec::new();
    for f in &files {
        match scenario::load_file(f, &sets) {
            Ok(l) => {
                header(&mut out, f, &l, "valid").map_err(|e| Error::io("writing to stdout", e))?
            }
            Err(e) => {
                out.flush().map_err(|e| Error::io("writing to stdout", e))?;
                say_err!("error: {}", e.in_file(f));
                bad.push(f.display().to_string());
            }
        }
    }
    if bad.is_empty() {
        return Ok(());
    }
    Err(Error::file(
        &a.scenarios[0],
        format!(
            "{} of {} scenario files are not valid (above): {}",
            bad.len(),
            files.len(),
            bad.join(", ")
        ),
    ))
}

/// A scenario's first line, `# FILE with k=v, ...: SAID, sha256 ...`, and
/// its `# warning:` lines.
fn header(
    out: &mut impl Write,
    file: &Path,
    l: &scenario::Loaded,
    said: &str,
) -> std::io::Result<()> {
    let with = if l.overrides.is_empty() {
        String::new()
    } else {
        format!(" with {}", l.overrides.join(", "))
    };
    writeln!(
        out,
        "# {}{with}: {said}, sha256 {}",
        file.display(),
        l.resolved_sha256
    )?;
    for w in scenario::warnings_of(l) {
        writeln!(out, "# warning: {w}")?;
    }
    Ok(())
}

/// One file: its resolved form, after its warnings.
fn check_one(file: &Path, sets: &[String]) -> Result<()> {
    let loaded = scenario::load_file(file, sets)?;
    let mut out = std::io::stdout().lock();
    header(
        &mut out,
        file,
        &loaded,
        "valid. Resolved scenario (every default filled in)",
    )
    .and_then(|_| out.write_all(loaded.resolved_toml.as_bytes()))
    .map_err(|e| Error::io("writing to stdout", e))
}
