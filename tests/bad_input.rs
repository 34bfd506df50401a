//! Bad input: exit code 2, a message naming file, line, column and field,
//! and no result folder written.

use crate::util::bin;
use std::process::Command;

const GOOD: &str = r#"name = "bad"
start = "2026-01"
periods = 4

[[workload]]
name = "api"
demand = 100

[[provider]]
name = "azure"
price = 2.0
  [[provider.tranche]]
  gpus = 500
  online = "2025-06"

[[rule]]
kind = "exclusive"
workloads = ["api"]
providers = ["azure"]
"#;

struct Outcome {
    code: i32,
    stderr: String,
    wrote: bool,
    /// The output folder given to `run`, in a temporary folder that lives
    /// as long as the outcome.
    out: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

fn run_with(text: &str, extra: &[&str]) -> Outcome {
    run_bytes(text.as_bytes(), extra)
}

/// `capsim run` on a scenario file holding `bytes` (`scenario.toml`),
/// 100 paths, into a fresh output folder.
fn run_bytes(bytes: &[u8], extra: &[&str]) -> Outcome {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("scenario.toml");
    std::fs::write(&file, bytes).unwrap();
    let out = dir.path().join("out");
    let o = Command::new(bin())
        .arg("run")
        .arg(&file)
        .arg("--out")
        .arg(&out)
        .arg("--paths")
        .arg("100")
        .args(extra)
        .output()
        .unwrap();
    Outcome {
        code: o.status.code().unwrap_or(-1),
        stderr: String::from_utf8_lossy(&o.stderr).to_string(),
        wrote: out.join("bad").exists(),
        out,
        _dir: dir,
    }
}

#[track_caller]
/// `err` holds the hint `hint`, or none if that is `None` (`what` names
/// the case in a failure).
fn assert_hint(err: &str, hint: Option<String>, what: &str) {
    match hint {
        Some(h) => assert!(err.contains(&format!("hint: {h}")), "{what}: {err}"),
        None => assert!(!err.contains("hint"), "{what}: {err}"),
    }
}

fn bad(text: &str, extra: &[&str], expect: &[&str]) {
    let o = run_with(text, extra);
    assert_eq!(o.code, 2, "exit code; stderr:\n{}", o.stderr);
    assert!(!o.wrote, "a result was written");
    assert!(!o.stderr.contains("panicked"), "{}", o.stderr);
    for e in expect {
        assert!(o.stderr.contains(e), "expected {e:?} in:\n{}", o.stderr);
    }
}

/// A key or table written twice: TOML's own message says only "duplicate
/// key"; capsim's names it and the line of its first definition.
#[test]
fn a_duplicate_key_is_named_with_its_first_line() {
    let hint = "hint: a field is set once in its table, and a table ([simulation], [agi]) \
                is written once: keep one of the two";
    for (text, expect) in [
        (
            GOOD.replace("periods = 4\n", "periods = 4\nperiods = 8 # more\n"),
            "scenario.toml:4:1: invalid TOML: duplicate key `periods` (first on line 3)",
        ),
        (
            // In a tranche: the first is in the same table, after its header.
            GOOD.replace(
                "  online = \"2025-06\"\n",
                "  online = \"2025-06\"\n  gpus = 600\n",
            ),
            "scenario.toml:15:3: invalid TOML: duplicate key `gpus` (first on line 13)",
        ),
        (
            format!("{GOOD}\n[simulation]\npaths = 5\n[agi]\n[simulation]\nseed = 1\n"),
            "scenario.toml:24:2: invalid TOML: duplicate table [simulation] (first on line 21)",
        ),
        (
            GOOD.replace(
                "  online = \"2025-06\"\n",
                "  online = \"2025-06\"\n  delay_months = { median = 2, median = 3 }\n",
            ),
            "scenario.toml:15:32: invalid TOML: duplicate key `median`\n",
        ),
    ] {
        bad(&text, &[], &[expect, hint]);
    }
}

/// A number where text or a date goes is quoted in exponent form where
/// its decimal form is long (serde wrote all 301 digits of 1e300).
#[test]
fn a_long_number_in_a_message_is_written_short() {
    bad(
        GOOD,
        &["--set", "name=1e300"],
        &["field `name`: invalid type: floating point `1e300`, expected text"],
    );
    bad(
        &GOOD.replace("start = \"2026-01\"", "start = 1e-20"),
        &[],
        &["field `start`: invalid type: floating point `1e-20`, expected a date \"YYYY-MM\""],
    );
    // Short ones as they were; the whole-number hints as before.
    bad(
        GOOD,
        &["--set", "name=2026.5"],
        &["floating point `2026.5`, expected text"],
    );
    bad(
        GOOD,
        &["--set", "periods=1e30"],
        &[
            "floating point `1e30`, expected a whole number",
            "hint: beyond TOML's whole numbers",
        ],
    );
}

/// A value of the wrong type in a text field says what the field takes,
/// not serde's "expected a string".
#[test]
fn a_type_error_says_what_the_text_field_takes() {
    for (set, expect) in [
        ("period=3", "field `period`: invalid type: integer `3`, expected \"month\", \"quarter\" or \"year\""),
        ("currency=840", "expected a three-letter ISO 4217 code such as \"USD\""),
        ("simulation.policy=0", "expected \"priority\" or \"optimal\""),
        ("provider.azure.kind=1", "field `provider.azure.kind`: invalid type: integer `1`, expected \"cloud\" or \"owned\""),
        ("rule.0.kind=2", "expected \"exclusive\", \"first_refusal\", \"min_share\" or \"max_share\""),
        ("rule.0.workloads=[1]", "field `rule.0.workloads.0`: invalid type: integer `1`, expected a workload's name"),
        ("rule.0.providers=[true]", "expected a provider's name"),
        ("name=5", "field `name`: invalid type: integer `5`, expected text"),
    ] {
        bad(GOOD, &["--set", set], &[expect]);
    }
}

#[test]
fn the_good_scenario_runs() {
    let o = run_with(GOOD, &["--quiet"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.wrote);
}

#[test]
fn unknown_field_suggests_the_closest_name() {
    let text = GOOD.replace("  gpus = 500", "  gpu = 500");
    bad(
        &text,
        &[],
        &[
            "scenario.toml:13:3:",
            "provider.azure.tranche.0.gpu",
            "unknown field `gpu`",
            "did you mean `gpus`?",
        ],
    );
}

/// A field of `[simulation]` or `[agi]` written at the top level (in the
/// file or in `--set`) is pointed to its table; a misspelt top-level field
/// still gets the closest top-level name first.
#[test]
fn a_nested_field_at_the_top_level_names_its_table() {
    bad(
        &format!("paths = 1000\n{GOOD}"),
        &[],
        &[
            "scenario.toml:1:1:",
            "unknown field `paths`",
            "`paths` belongs in the [simulation] table (in --set: `simulation.paths=...`)",
        ],
    );
    bad(
        GOOD,
        &["--set", "policy=optimal"],
        &[
            "--set policy=optimal",
            "`policy` belongs in the [simulation] table",
        ],
    );
    bad(
        GOOD,
        &["--set", "hazzard=0.2"],
        &["`hazard` belongs in the [agi] table (in --set: `agi.hazard=...`)"],
    );
    bad(
        GOOD,
        &["--set", "period=week"],
        &["--set period=week", "found \"week\""],
    );
    bad(GOOD, &["--set", "perids=4"], &["did you mean `periods`?"]);
}

#[test]
fn negative_gpus() {
    let text = GOOD.replace("gpus = 500", "gpus = -5");
    bad(
        &text,
        &[],
        &[
            "scenario.toml:13:3:",
            "provider.azure.tranche.0.gpus",
            "found -5",
            "expected a number >= 0",
        ],
    );
}

/// A jump rate far beyond jumps (a typo) is refused: it ran for days, and
/// past about 1e16 per period it panicked in the Poisson draw.
#[test]
fn absurd_jump_rate() {
    for rate in ["1e9", "1e20"] {
        let text = GOOD.replace("demand = 100", &format!("demand = 100\njump_rate = {rate}"));
        bad(
            &text,
            &[],
            &[
                "scenario.toml:8:1:",
                "workload.api.jump_rate",
                "expected at most 1000 jumps a year",
            ],
        );
    }
    let ok = GOOD.replace("demand = 100", "demand = 100\njump_rate = 1000");
    assert_eq!(run_with(&ok, &["--quiet"]).code, 0);
}

/// Numbers that overflow f64 over the horizon (each field valid alone)
/// give an error naming a metric, exit 2 and no result; this panicked in
/// the quantiles before.
#[test]
fn overflowing_growth() {
    let text = GOOD.replace("demand = 100", "demand = 100\ngrowth = 1e300");
    bad(
        &text,
        &[],
        &[
            "scenario.toml --paths 100: the simulation overflowed",
            "metric `",
            "is infinite or not a number",
        ],
    );
}

/// Under policy `optimal` too: demand that overflows (the baseline's
/// deferrable research workload with huge jumps) made the minimum-cost
/// flow index an unset arc, a panic, exit 101.
#[test]
fn overflowing_demand_under_optimal() {
    let dir = tempfile::tempdir().unwrap();
    let baseline = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/baseline.toml");
    let o = Command::new(bin())
        .arg("run")
        .arg(&baseline)
        .args(["--paths", "40", "--set", "simulation.policy=optimal"])
        .args(["--set", "workload.research.jump_stdev=1200"])
        .arg("--out")
        .arg(dir.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        err.contains(
            "baseline.toml --set simulation.policy=optimal --set \
             workload.research.jump_stdev=1200 --paths 40: the simulation overflowed"
        ),
        "{err}"
    );
    assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none());
}

/// A sweep whose reference point overflows: the error is the reference's
/// own, named as its point (it blamed the first point, fine on its own,
/// for its "metric `economic` (paired with the benchmark)"), in one
/// process and in a shard; nothing written.
#[test]
fn overflow_of_a_sweeps_reference_names_the_reference() {
    let dir = tempfile::tempdir().unwrap();
    let baseline = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/baseline.toml");
    for shard in [None, Some("1/1")] {
        let out = dir.path().join("out");
        let mut c = Command::new(bin());
        c.arg("sweep")
            .arg(&baseline)
            .args(["--paths", "200", "--set", "workload.research.jump_rate=2"])
            .args([
                "--set",
                "workload.research.jump_stdev=0:1200:3",
                "--reference",
                "3",
            ])
            .arg("--out")
            .arg(&out);
        if let Some(s) = shard {
            c.args(["--shard", s]);
        }
        let o = c.output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{shard:?}: {err}");
        assert!(
            err.contains("--set workload.research.jump_stdev=1200: the simulation overflowed"),
            "{shard:?}: {err}"
        );
        assert!(!err.contains("paired with"), "{shard:?}: {err}");
        // (A shard leaves the empty `sweep/` it was to write into.)
        let written = out.join("sweep");
        assert!(
            !written.exists() || std::fs::read_dir(&written).unwrap().next().is_none(),
            "{shard:?}"
        );
    }
}

/// A sensitivity run's overflow names the run as a command line would:
/// `--paths` as such, and its parameter's value, not also the base's.
#[test]
fn overflow_in_a_sensitivity_run_names_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("scenario.toml");
    std::fs::write(
        &file,
        GOOD.replace("demand = 100", "demand = 100\ngrowth = 0.3"),
    )
    .unwrap();
    let o = Command::new(bin())
        .arg("sensitivity")
        .arg(&file)
        .args(["--set", "workload.api.growth=1e300", "--paths", "40"])
        .arg("--out")
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains(
            "scenario.toml --paths 40 --set workload.api.growth=8e299: the simulation overflowed"
        ) || err.contains(
            "scenario.toml --paths 40 --set workload.api.growth=1.2e300: the simulation overflowed"
        ),
        "{err}"
    );
    assert!(!err.contains("=1e300 "), "{err}");
}

/// A file saved in another encoding (here Windows-1252, as a spreadsheet
/// may save it): exit 2, the line and column of the first byte that is
/// not UTF-8, and what to do.
#[test]
fn not_utf8() {
    // "café" with the é as Windows-1252 writes it: one byte, 0xe9.
    let text = GOOD.replace("name = \"api\"", "name = \"api\" # caf");
    let at = text.find("# caf").unwrap() + "# caf".len();
    let line = text[..at].lines().count();
    let mut bytes = text.into_bytes();
    bytes.insert(at, 0xe9);
    let o = run_bytes(&bytes, &[]);
    let err = &o.stderr;
    assert_eq!(o.code, 2, "{err}");
    let column = "name = \"api\" # caf".len() + 1;
    assert!(
        err.contains(&format!(
            "scenario.toml:{line}:{column}: found byte 0xe9, which is not UTF-8"
        )),
        "{err}"
    );
    assert!(err.contains("expected a file saved as UTF-8"), "{err}");
    assert!(!o.out.exists());
}

/// Values that stay finite on every path but near `f64::MAX` (a tranche
/// of 1e308 GPUs): the means are finite, a statistic of the capacity is
/// not (its CVaR sums four such values). An error naming the metric, exit
/// 2, no result; this wrote NaN quantiles before, in a result that looked
/// complete.
#[test]
fn values_near_the_largest_number() {
    let text = GOOD.replace("gpus = 500", "gpus = 1e308");
    bad(
        &text,
        &[],
        &[
            "the simulation overflowed: metric `capacity.azure` of period 0",
            "or in its statistics",
        ],
    );
    // Large but summarisable: a result, every number in it finite.
    let o = run_with(&GOOD.replace("gpus = 500", "gpus = 1e200"), &["--quiet"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    for f in ["summary.csv", "periods.csv", "providers.csv"] {
        let text = std::fs::read_to_string(o.out.join("bad").join(f)).unwrap();
        for field in text.lines().skip(1).flat_map(|l| l.split(',')) {
            assert!(
                !["NaN", "inf", "-inf"].contains(&field),
                "{f}: {field} in\n{text}"
            );
        }
    }
}

/// The same overflow under `compare`: exit 2, no result, and the message
/// names the metric and the side it overflowed on.
#[test]
fn overflowing_growth_in_compare() {
    let dir = tempfile::tempdir().unwrap();
    let (base, alt) = (dir.path().join("base.toml"), dir.path().join("alt.toml"));
    std::fs::write(&base, GOOD).unwrap();
    let text = GOOD
        .replace("name = \"bad\"", "name = \"hot\"")
        .replace("demand = 100", "demand = 100\ngrowth = 1e300");
    std::fs::write(&alt, text).unwrap();
    let out = dir.path().join("out");
    let o = Command::new(bin())
        .arg("compare")
        .args([&base, &alt])
        .arg("--out")
        .arg(&out)
        .args(["--paths", "100"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("the simulation overflowed: metric `"), "{err}");
    assert!(
        err.contains("(hot)") || err.contains("(difference)"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    assert!(!out.exists() || std::fs::read_dir(&out).unwrap().next().is_none());
}

#[test]
fn share_outside_unit_interval() {
    let text =
        format!("{GOOD}\n[[rule]]\nkind = \"max_share\"\nprovider = \"azure\"\nshare = 1.5\n");
    bad(
        &text,
        &[],
        &["scenario.toml:24:1:", "rule.1.share", "found 1.5", "[0, 1]"],
    );
}

#[test]
fn rule_naming_a_missing_provider() {
    let text = GOOD.replace("providers = [\"azure\"]", "providers = [\"azur\"]");
    bad(
        &text,
        &[],
        &[
            "scenario.toml:19:",
            "rule.0.providers.0",
            "found \"azur\"",
            "did you mean \"azure\"?",
        ],
    );
}

/// A factor written without its kind (`api`), with another word
/// (`workload/api`) or the other kind (`price/<workload>`): the factor the
/// name has. A typo in a factor's name: the closest of its kind.
#[test]
fn correlation_factors_name_the_factor_meant() {
    let text = format!(
        "{GOOD}\n[[workload]]\nname = \"b\"\ndemand = 1\n\
         [[correlation]]\nbetween = [\"demand/api\", \"demand/b\"]\nrho = 0.5\n"
    );
    assert_eq!(run_with(&text, &[]).code, 0);
    let found = "expected \"demand/<workload>\" or \"price/<provider>\"";
    for (between, says) in [
        (
            r#"["api", "demand/b"]"#,
            format!(
                "found \"api\", {found}\n  hint: api is a workload: its factor is its demand, \
                 \"demand/api\""
            ),
        ),
        (
            r#"["workload/api", "demand/b"]"#,
            "hint: api is a workload: its factor is its demand, \"demand/api\"".to_string(),
        ),
        (
            r#"["demand/api", "price/b"]"#,
            format!(
                "found \"price/b\", {found}\n  hint: b is a workload: its factor is its \
                     demand, \"demand/b\""
            ),
        ),
        (
            r#"["demand/azure", "demand/b"]"#,
            "hint: azure is a provider: its factor is its price, \"price/azure\"".to_string(),
        ),
        (
            r#"["demand/ap", "demand/b"]"#,
            "found \"ap\", expected the name of a workload (known: api, b)\n  hint: did you \
             mean \"api\"?"
                .to_string(),
        ),
    ] {
        let set = format!("correlation.0.between={between}");
        bad(&text, &["--set", &set], &["correlation.0.between.", &says]);
    }
}

#[test]
fn correlation_not_positive_definite() {
    let text = format!(
        "{GOOD}\n[[workload]]\nname = \"b\"\ndemand = 1\n[[workload]]\nname = \"c\"\ndemand = 1\n\
         [[correlation]]\nbetween = [\"demand/api\", \"demand/b\"]\nrho = 0.9\n\
         [[correlation]]\nbetween = [\"demand/api\", \"demand/c\"]\nrho = 0.9\n\
         [[correlation]]\nbetween = [\"demand/b\", \"demand/c\"]\nrho = -0.9\n"
    );
    bad(
        &text,
        &[],
        &["scenario.toml:", "correlation", "not positive definite"],
    );
    assert!(!run_with(&text, &[]).stderr.contains("hint"));
    // rho = -1 (or 1), "the same shock": a hint to tie them all but exactly.
    let one = format!(
        "{GOOD}\n[[workload]]\nname = \"b\"\ndemand = 1\n\
         [[correlation]]\nbetween = [\"demand/api\", \"demand/b\"]\nrho = -1\n"
    );
    bad(
        &one,
        &[],
        &[
            "not positive definite",
            "hint: rho = -1 between demand/api and demand/b makes them one shock, which \
             the matrix cannot hold: -0.999 ties them all but exactly",
        ],
    );
    // The override that made the matrix so is named, not the file (whose
    // matrix holds), and a sweep's as written.
    let fine = one.replace("rho = -1", "rho = 0.5");
    let said = "field `correlation`: the correlation matrix (identity plus demand/api ~ \
                demand/b = 1) is not positive definite";
    bad(
        &fine,
        &["--set", "correlation.0.rho=1"],
        &[&format!("error: --set correlation.0.rho=1: {said}")],
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.toml");
    std::fs::write(&file, &fine).unwrap();
    let o = Command::new(bin())
        .arg("sweep")
        .arg(&file)
        .args([
            "--set",
            "correlation.0.rho=0:1:2",
            "--paths",
            "10",
            "-q",
            "--out",
        ])
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!("error: --set correlation.0.rho=0:1:2: {said}")),
        "{err}"
    );
}

#[test]
fn zero_periods() {
    let text = GOOD.replace("periods = 4", "periods = 0");
    bad(
        &text,
        &[],
        &[
            "scenario.toml:3:1:",
            "field `periods`",
            "found 0",
            "expected a whole number from 1 to 1200",
        ],
    );
}

/// Dates are written `YYYY-MM`: a horizon past 9999-12 is bad input (its
/// periods were labelled `11198-01`), and one that ends in 9999-12 runs.
#[test]
fn a_horizon_past_the_year_9999() {
    let far = GOOD.replace("start = \"2026-01\"", "start = \"9999-04\"");
    bad(
        &far,
        &[],
        &[
            "scenario.toml:3:1: field `periods`: found 4 quarters from 9999-04, \
             which end in 10000-03; expected a horizon that ends by 9999-12 (dates are \
             YYYY-MM): at most 3 quarters",
        ],
    );
    bad(GOOD, &["--set", "start=9999-06"], &["at most 2 quarters"]);
    let o = run_with(&far, &["--set", "period=month", "--set", "periods=9", "-q"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let periods = std::fs::read_to_string(o.out.join("bad/periods.csv")).unwrap();
    assert!(periods.contains("\r\n8,9999-12,cash,"), "{periods}");
}

#[test]
fn malformed_date() {
    let text = GOOD.replace("online = \"2025-06\"", "online = \"2025-6\"");
    bad(
        &text,
        &[],
        &[
            "scenario.toml:14:3:",
            "provider.azure.tranche.0.online",
            "\"2025-6\"",
            "YYYY-MM",
        ],
    );
}

#[test]
fn invalid_toml_syntax() {
    let text = GOOD.replace("demand = 100", "demand = = 100");
    bad(&text, &[], &["scenario.toml:7:", "invalid TOML"]);
}

#[test]
fn missing_required_field() {
    let text = GOOD.replace("demand = 100\n", "");
    bad(
        &text,
        &[],
        &[
            "scenario.toml:5:1:",
            "workload.api.demand",
            "missing required field",
        ],
    );
}

#[test]
fn wrong_type() {
    let text = GOOD.replace("price = 2.0", "price = \"cheap\"");
    bad(
        &text,
        &[],
        &["scenario.toml:11:", "provider.azure.price", "invalid type"],
    );
}

/// A whole number written as TOML floats read it (`1e6`, `4.0`): the
/// message says how to write it.
#[test]
fn whole_number_written_as_a_float() {
    bad(
        &GOOD.replace("periods = 4", "periods = 4.0"),
        &[],
        &[
            "scenario.toml:3:11: field `periods`: invalid type: floating point `4.0`, expected a whole number",
            "hint: a whole number is written without a decimal point or exponent: 4 (TOML",
        ],
    );
    bad(
        GOOD,
        &["--set", "simulation.seed=1e6"],
        &[
            "--set simulation.seed=1e6",
            "hint: a whole number is written without a decimal point or exponent: 1000000 (",
        ],
    );
    // Not for a fraction, which no spelling makes whole.
    let o = run_with(GOOD, &["--set", "simulation.seed=1.5"]);
    assert_eq!(o.code, 2);
    assert!(
        o.stderr.contains("floating point `1.5`") && !o.stderr.contains("hint"),
        "{}",
        o.stderr
    );
}

/// A value written as a spreadsheet or a report shows it: a percentage, a
/// decimal comma or thousands separators, a currency sign or a K/M/B/T
/// suffix, a date without quotes. In the file (a TOML syntax error, or a
/// value of the wrong type) and in `--set` (read as a string), the hint
/// says how to write it.
#[test]
fn value_written_as_a_spreadsheet_shows_it() {
    let percent = "hint: a percentage is written as a fraction: ";
    let separators = "hint: a number is written with a decimal point and no thousands \
                      separators: 1.5 or 1000 (or 1_000), not 1,5 or 1,000";
    let plain = "hint: a number is written without a currency sign or a K/M/B/T suffix: ";
    let with = |line: &str| GOOD.replace("demand = 100", &format!("demand = 100\n{line}"));
    let cases: Vec<(String, Vec<&str>, Vec<String>)> =
        vec![
        (
            with("growth = 30%"),
            vec![],
            vec![
                "scenario.toml:8:10: invalid TOML:".into(),
                format!("{percent}0.3 for 30%"),
            ],
        ),
        (
            with("growth = 12.5 %  # a comment"),
            vec![],
            vec![
                "scenario.toml:8:10:".into(),
                format!("{percent}0.125 for 12.5 %"),
            ],
        ),
        (
            with("growth = \"7%\""),
            vec![],
            vec![
                "scenario.toml:8:10: field `workload.api.growth`: invalid type: string \"7%\", \
                 expected a number"
                    .into(),
                format!("{percent}0.07 for 7%"),
            ],
        ),
        (
            GOOD.replace("periods = 4", "periods = \"4\""),
            vec![],
            vec![
                "scenario.toml:3:11: field `periods`: invalid type: string \"4\", expected a whole number"
                    .into(),
                "hint: a number is written without quotes: 4".into(),
            ],
        ),
        (
            GOOD.replace("price = 2.0", "price = '2.5'"),
            vec![],
            vec!["hint: a number is written without quotes: 2.5".into()],
        ),
        (
            GOOD.replace("demand = 100", "demand = 1,000"),
            vec![],
            vec![
                "scenario.toml:7:11: invalid TOML:".into(),
                separators.into(),
            ],
        ),
        (
            GOOD.replace("price = 2.0", "price = 2,5"),
            vec![],
            vec![
                "scenario.toml:11:10: invalid TOML:".into(),
                separators.into(),
            ],
        ),
        (
            GOOD.replace("price = 2.0", "price = $2.5"),
            vec![],
            vec![
                "scenario.toml:11:9: invalid TOML:".into(),
                format!("{plain}2.5 for $2.5"),
            ],
        ),
        (
            GOOD.replace("demand = 100", "demand = 1.5M"),
            vec![],
            vec!["scenario.toml:7:".into(), format!("{plain}1.5e6 for 1.5M")],
        ),
        (
            GOOD.replace("demand = 100", "demand = \"$250 bn\""),
            vec![],
            vec![
                "scenario.toml:7:10: field `workload.api.demand`".into(),
                format!("{plain}250e9 for $250 bn"),
            ],
        ),
        (
            GOOD.replace(
                "online = \"2025-06\"",
                "online = \"2025-06\"\n  delay_months = { median = 3, sigma = 50% }",
            ),
            vec![],
            vec![
                "scenario.toml:15:40:".into(),
                format!("{percent}0.5 for 50%"),
            ],
        ),
        (
            GOOD.replace("start = \"2026-01\"", "start = 2026-01"),
            vec![],
            vec![
                "scenario.toml:2:9: invalid TOML:".into(),
                "hint: a date is written in quotes, as \"YYYY-MM\": \"2026-01\"".into(),
            ],
        ),
        (
            GOOD.replace("online = \"2025-06\"", "online = 2025-06-15"),
            vec![],
            vec![
                "field `provider.azure.tranche.0.online`: invalid type: date-time, expected a \
                 date \"YYYY-MM\""
                    .into(),
                "hint: a date is written in quotes, as \"YYYY-MM\": \"2025-06\"".into(),
            ],
        ),
        // A number where a date goes: a year, or a year and a month.
        (
            GOOD.replace("online = \"2025-06\"", "online = 2025"),
            vec![],
            vec![
                "scenario.toml:14:12: field `provider.azure.tranche.0.online`: invalid type: \
                 integer `2025`, expected a date \"YYYY-MM\"\n  hint: a date is written in \
                 quotes, as \"YYYY-MM\": \"2025-01\""
                    .into(),
            ],
        ),
        (
            GOOD.into(),
            vec!["--set", "rule.0.until=2028.06"],
            vec![
                "field `rule.0.until`: invalid type: floating point `2028.06`, expected a date \
                 \"YYYY-MM\" or \"agi\"\n  hint: a date is written as YYYY-MM: 2028-06"
                    .into(),
            ],
        ),
        (
            GOOD.into(),
            vec!["--set", "start=true"],
            vec!["field `start`: invalid type: boolean `true`, expected a date \"YYYY-MM\"".into()],
        ),
        (
            GOOD.into(),
            vec!["--set", "workload.api.growth=10%"],
            vec![
                "--set workload.api.growth=10%: field `workload.api.growth`".into(),
                format!("{percent}0.1 for 10%"),
            ],
        ),
        // A yes/no field in quotes, or as yes/True: true or false. Text
        // unquoted in a file: in double quotes (TOML's "string values must
        // be quoted" read as the field's fault). A number with no digit
        // before its point, or with spaces between its digits.
        (
            GOOD.replace("demand = 100", "demand = 100\ndeferrable = \"true\""),
            vec![],
            vec![
                "expected a boolean".into(),
                "hint: a yes/no field is written true or false, without quotes: deferrable = true"
                    .into(),
            ],
        ),
        (
            GOOD.replace("demand = 100", "demand = 100\ndeferrable = yes"),
            vec![],
            vec!["hint: a yes/no field is written true or false, without quotes: deferrable = true"
                .into()],
        ),
        (
            GOOD.into(),
            vec!["--set", "workload.api.deferrable=No"],
            vec!["hint: a yes/no field is written true or false: workload.api.deferrable=false"
                .into()],
        ),
        (
            GOOD.replace("periods = 4", "periods = 4\nperiod = quarter"),
            vec![],
            vec![
                "scenario.toml:4:10: invalid TOML".into(),
                "hint: a text value is written in double quotes: period = \"quarter\"".into(),
            ],
        ),
        (
            GOOD.replace("name = \"bad\"", "name = bad"),
            vec![],
            vec!["hint: a text value is written in double quotes: name = \"bad\"".into()],
        ),
        (
            GOOD.replace("price = 2.0", "price = .5"),
            vec![],
            vec!["hint: a number is written with a digit before its point: 0.5".into()],
        ),
        (
            GOOD.into(),
            vec!["--set", "workload.api.demand=-1 000"],
            vec!["hint: a number is written without spaces: -1000 (or with _ between groups: \
                  -1_000)"
                .into()],
        ),
        // A list written as one name, or in --set with the double quotes
        // the shell took: serde's "expected a sequence" (now "a list") alone,
        // until a hint.
        (
            GOOD.replace("workloads = [\"api\"]", "workloads = \"api\""),
            vec![],
            vec![
                "field `rule.0.workloads`: invalid type: string \"api\", expected a list"
                    .into(),
                "hint: a list is written in brackets, each name in double quotes: workloads = \
                 [\"api\"]"
                    .into(),
            ],
        ),
        (
            GOOD.into(),
            vec!["--set", "rule.0.providers=[azure,azure]"],
            vec![
                "hint: a list is written in brackets, each name in double quotes, and the \
                 whole --set in single quotes so that the shell keeps them: --set \
                 'rule.0.providers=[\"azure\", \"azure\"]'"
                    .into(),
            ],
        ),
        // A negative seed: serde's "expected u64" (now in words) alone,
        // until a hint.
        (
            GOOD.into(),
            vec!["--set", "simulation.seed=-5"],
            vec![
                "--set simulation.seed=-5: field `simulation.seed`: invalid value: integer `-5`, \
                 expected a whole number, 0 or more"
                    .into(),
                "hint: a seed is a whole number from 0 to 9223372036854775807 (TOML's largest)"
                    .into(),
            ],
        ),
        (
            GOOD.replace("periods = 4\n", "periods = 4\n[simulation]\nseed = -1\n"),
            vec![],
            vec![
                "field `simulation.seed`: invalid value: integer `-1`, expected a whole number, 0 or more".into(),
                "hint: a seed is a whole number from 0 to 9223372036854775807".into(),
            ],
        ),
        (
            GOOD.into(),
            vec!["--set", "simulation.seed=1,000"],
            vec![
                "--set simulation.seed=1,000".into(),
                "expected a whole number, 0 or more".into(),
                separators.into(),
            ],
        ),
        (
            GOOD.into(),
            vec!["--set", "simulation.seed=10k"],
            vec![format!("{plain}10000 for 10k")],
        ),
        (
            GOOD.into(),
            vec!["--set", "provider.azure.price=-1.5 T"],
            vec![format!("{plain}-1.5e12 for -1.5 T")],
        ),
        (
            GOOD.into(),
            vec!["--set", "start=2026-03-01"],
            vec![
                "--set start=2026-03-01: field `start`".into(),
                "hint: a date is written as YYYY-MM: 2026-03".into(),
            ],
        ),
    ];
    for (text, extra, expect) in &cases {
        let expect: Vec<&str> = expect.iter().map(String::as_str).collect();
        bad(text, extra, &expect);
    }
    // No hint where the value is not such a value, or a date is not
    // expected.
    for (text, extra) in [
        (GOOD.replace("price = 2.0", "price = \"cheap\""), vec![]),
        (with("growth = x%"), vec![]),
        (with("growth = 2026-01"), vec![]),
        (GOOD.replace("price = 2.0", "price = \"$\""), vec![]),
        (GOOD.replace("price = 2.0", "price = \"2x\""), vec![]),
        // `6m` may be six months, not six million.
        (
            GOOD.replace(
                "online = \"2025-06\"",
                "online = \"2025-06\"\n  delay_months = { median = 6m, sigma = 0.5 }",
            ),
            vec![],
        ),
        (GOOD.to_string(), vec!["--set", "workload.api.growth=a,b"]),
        (GOOD.to_string(), vec!["--set", "workload.api.growth=%"]),
        (
            GOOD.to_string(),
            vec!["--set", "workload.api.growth=2026-01-01"],
        ),
    ] {
        let o = run_with(&text, &extra);
        assert_eq!(o.code, 2, "{}", o.stderr);
        assert!(!o.stderr.contains("hint"), "{}", o.stderr);
    }
}

/// A value that is almost right (other case, a longer word, another date
/// format, spaces in the scenario name): the hint names what was meant.
#[test]
fn hints_name_what_was_meant() {
    for (from, to, expect) in [
        (
            "name = \"bad\"",
            "name = \"My Scenario 2\"",
            "hint: did you mean \"my-scenario-2\"?",
        ),
        (
            "periods = 4",
            "periods = 4\nperiod = \"quarterly\"",
            "hint: did you mean \"quarter\"?",
        ),
        (
            "periods = 4",
            "periods = 4\ncurrency = \"eur\"",
            "hint: did you mean \"EUR\"?",
        ),
        (
            "workloads = [\"api\"]",
            "workloads = [\"API\"]",
            "hint: did you mean \"api\"?",
        ),
        (
            "providers = [\"azure\"]",
            "providers = [\"Azure\"]",
            "hint: did you mean \"azure\"?",
        ),
        (
            "price = 2.0",
            "price = 2.0\nkind = \"Owned\"",
            "hint: did you mean \"owned\"?",
        ),
        (
            "providers = [\"azure\"]",
            "providers = [\"azure\"]\n[[rule]]\nkind = \"min_share\"\nprovider = \"azure\"\nshare = 30",
            "hint: a percentage is written as a fraction: 0.3 for 30%",
        ),
        (
            "kind = \"exclusive\"",
            "kind = \"exclusivity\"",
            "hint: did you mean \"exclusive\"?",
        ),
        (
            "start = \"2026-01\"",
            "start = \"Jan 2026\"",
            "hint: did you mean \"2026-01\"?",
        ),
        (
            "online = \"2025-06\"",
            "online = \"2025/6\"",
            "hint: did you mean \"2025-06\"?",
        ),
        (
            "providers = [\"azure\"]",
            "providers = [\"azure\"]\nuntil = \"Q3 2027\"",
            "hint: did you mean \"2027-07\"?",
        ),
        (
            "providers = [\"azure\"]",
            "providers = [\"azure\"]\nuntil = \"AGI\"",
            "hint: did you mean \"agi\"?",
        ),
    ] {
        assert!(GOOD.contains(from), "{from}");
        bad(&GOOD.replacen(from, to, 1), &[], &[expect]);
    }
    // No guess between day-first and month-first dates.
    let o = run_with(
        &GOOD.replace("start = \"2026-01\"", "start = \"01/02/2026\""),
        &[],
    );
    assert_eq!(o.code, 2);
    assert!(
        o.stderr.contains("expected a date \"YYYY-MM\"") && !o.stderr.contains("hint"),
        "{}",
        o.stderr
    );
}

#[test]
fn field_of_another_rule_kind() {
    let text = GOOD.replace(
        "providers = [\"azure\"]",
        "providers = [\"azure\"]\nshare = 0.5",
    );
    bad(
        &text,
        &[],
        &[
            "scenario.toml:20:1:",
            "rule.0.share",
            "unknown field `share` for kind \"exclusive\"",
        ],
    );
    // The kind changed by --set: the file's field is blamed, and the hint
    // names the override that made it wrong (it named the file alone).
    bad(
        GOOD,
        &["--set", "rule.0.kind=min_share"],
        &[
            "field `rule.0.workloads`: unknown field `workloads` for kind \"min_share\"",
            "hint: this field is the file's; --set rule.0.kind=min_share changed its table",
        ],
    );
}

#[test]
fn duplicate_provider_name() {
    let text = format!("{GOOD}\n[[provider]]\nname = \"azure\"\nprice = 1\n");
    bad(
        &text,
        &[],
        &["scenario.toml:22:1:", "provider.azure.name", "again"],
    );
}

#[test]
fn contract_from_after_to() {
    let text = format!("{GOOD}\n[[contract]]\nkind = \"commitment\"\nprovider = \"azure\"\namount = 1e9\nfrom = \"2027-01\"\nto = \"2026-01\"\n");
    bad(
        &text,
        &[],
        &["contract.commitment-azure-0.to", "expected from <= to"],
    );
}

#[test]
fn unknown_sampling_or_policy() {
    bad(
        &format!("{GOOD}\n[simulation]\nsampling = \"quasi\"\n"),
        &[],
        &["simulation.sampling", "found \"quasi\""],
    );
    bad(
        &format!("{GOOD}\n[simulation]\npolicy = \"cheapest\"\n"),
        &[],
        &["simulation.policy", "found \"cheapest\"", "\"optimal\""],
    );
    bad(
        &format!("{GOOD}\n[simulation]\nsampling = \"sobol\"\n"),
        &[],
        &["simulation.sampling", "not implemented"],
    );
}

#[test]
fn bad_overrides_name_the_set_argument() {
    bad(
        GOOD,
        &["--set", "provider.azur.price=1"],
        &[
            "--set provider.azur.price=1",
            "no element `azur`",
            "did you mean `azure`?",
        ],
    );
    // An index past the end: the indexes there are, and no "closest"
    // (it said "did you mean `0`?" for `rule.2`).
    for (set, expect) in [
        (
            "rule.2.share=0.3",
            "no element `2` in `rule`, expected an index 0 to 0",
        ),
        (
            "workload.5.growth=0.1",
            "no element `5` in `workload`, expected an index 0 to 0 or a name: api",
        ),
        (
            "contract.0.amount=1",
            "no element `0` in `contract`, which has none",
        ),
    ] {
        let o = run_with(GOOD, &["--set", set]);
        assert_eq!(o.code, 2, "{set}");
        assert!(o.stderr.contains(expect), "{set}: {}", o.stderr);
        assert!(!o.stderr.contains("did you mean"), "{set}: {}", o.stderr);
    }
    bad(
        GOOD,
        &["--set", "provider.azure.price=-1"],
        &["--set provider.azure.price=-1", "found -1"],
    );
    bad(
        GOOD,
        &["--set", "provider.azure.pricee=1"],
        &[
            "--set provider.azure.pricee=1",
            "unknown field `pricee`",
            "did you mean `price`?",
        ],
    );
    bad(
        GOOD,
        &["--set", "periods"],
        &["--set periods", "expected key=value"],
    );
    bad(
        GOOD,
        &["--set", "workload.api.demand=lots"],
        &["--set workload.api.demand=lots", "invalid type"],
    );
    // A number past f64's range is no TOML number, so it was a string,
    // and the message said only "invalid type: string".
    bad(
        GOOD,
        &["--set", "workload.api.demand=1e400"],
        &[
            "--set workload.api.demand=1e400",
            "hint: 1e400 is beyond the largest number a field holds (about 1.8e308)",
        ],
    );
    // A whole number past TOML's (64-bit signed) was read as a float, and
    // the message said only "invalid type: floating point ..., expected
    // u64"; in a file, "integer number overflowed".
    bad(
        GOOD,
        &["--set", "simulation.seed=18446744073709551616"],
        &[
            "--set simulation.seed=18446744073709551616",
            "hint: beyond TOML's whole numbers, -9223372036854775808 to 9223372036854775807",
        ],
    );
    bad(
        &GOOD.replace(
            "periods = 4",
            "periods = 4\n[simulation]\nseed = 99999999999999999999",
        ),
        &[],
        &[
            "integer number overflowed",
            "hint: beyond TOML's whole numbers",
        ],
    );
    // One within TOML's range written as a float keeps its hint.
    bad(
        GOOD,
        &["--set", "simulation.seed=5e18"],
        &["hint: a whole number is written without a decimal point or exponent: 5000000000000000000"],
    );
}

#[test]
fn missing_file_and_bad_flags() {
    let o = Command::new(bin())
        .args(["run", "/nonexistent/x.toml"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot read scenario file"));
    let o = Command::new(bin())
        .args(["run", "x.toml", "--paths", "ten"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    // Out of range: named as the flag written, not as the
    // `simulation.paths` override it becomes (which the message named).
    for paths in ["0", "4000000001"] {
        let o = Command::new(bin())
            .args(["run", "x.toml", "--paths", paths])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains(&format!(
                "'--paths <PATHS>': found {paths}, expected a whole number from 1 to 4000000000"
            )) && !err.contains("simulation.paths"),
            "{err}"
        );
    }
    // A typo in --threads crashed the run when the system refused the stacks.
    let o = Command::new(bin())
        .args(["run", "x.toml", "--threads", "100000"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("--threads")
            && err.contains("found 100000, expected a whole number, 0 (all cores) to 1024"),
        "{err}"
    );
    // A whole number written as a report or TOML writes it: the message
    // writes it out.
    for (args, expect) in [
        (
            &["run", "x.toml", "--paths", "1e6"][..],
            "expected a whole number written out: 1000000",
        ),
        (
            &["run", "x.toml", "--paths", "1,000,000"],
            "written out: 1000000",
        ),
        (&["run", "x.toml", "--paths", "2.5k"], "written out: 2500"),
        (
            &["run", "x.toml", "--paths", "10000.0"],
            "written out: 10000",
        ),
        (&["sweep", "x.toml", "--seed", "1_000"], "written out: 1000"),
        // A seed goes into the scenario (TOML, 64-bit signed): past that it
        // was refused as a `--set simulation.seed=...` never typed.
        (
            &["run", "x.toml", "--seed", "18446744073709551615"],
            "found 18446744073709551615, expected a whole number from 0 to 9223372036854775807",
        ),
        (
            &[
                "trace",
                "x.toml",
                "--path",
                "1",
                "--seed",
                "9223372036854775808",
            ],
            "expected a whole number from 0 to 9223372036854775807",
        ),
        (&["trace", "x.toml", "--path", "1e3"], "written out: 1000"),
        // Anything else: what was found and the flag's own range (they
        // gave the range of any 64-bit number, and a negative number was
        // taken for a flag, with a tip to write `-- -5`).
        (
            &["run", "x.toml", "--paths", "1.5"],
            "found 1.5, expected a whole number from 1 to 4000000000",
        ),
        (
            &["run", "x.toml", "--paths", "ten"],
            "found ten, expected a whole number from 1 to 4000000000",
        ),
        (
            &["compare", "x.toml", "x.toml", "--paths", "-5"],
            "found -5, expected a whole number from 1 to 4000000000",
        ),
        // Written out, but out of range: the range, not the number.
        (
            &["run", "x.toml", "--paths", "1e10"],
            "found 1e10, expected a whole number from 1 to 4000000000",
        ),
        (
            &["sweep", "x.toml", "--seed", "-1"],
            "found -1, expected a whole number from 0 to 9223372036854775807",
        ),
        (
            &["run", "x.toml", "--seed", "-0"],
            "found -0, expected a whole number from 0 to 9223372036854775807",
        ),
        (
            &["trace", "x.toml", "--path", "-1"],
            "found -1, expected a whole number from 0 to 18446744073709551615",
        ),
        (
            &["run", "x.toml", "--threads", "2.0"],
            "found 2.0, expected a whole number, 0 (all cores) to 1024",
        ),
        (
            &["merge", "x", "--threads", "-1"],
            "found -1, expected a whole number, 0 (all cores) to 1024",
        ),
        // A shard with a minus sign was taken for a flag, and clap's tip
        // was to write `-- -1/4`.
        (
            &["run", "x.toml", "--shard", "-1/4"],
            "found `-1/4`, expected I/N with 1 <= I <= N, e.g. 2/8",
        ),
        (
            &["sensitivity", "x.toml", "--shard", "-2/-4"],
            "found `-2/-4`, expected I/N with 1 <= I <= N, e.g. 2/8",
        ),
    ] {
        let o = Command::new(bin()).args(args).output().unwrap();
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(expect), "{args:?}: {err}");
    }
}

/// A scenario file that is not there: the hint names the one meant, if
/// one is near (the name with `.toml`, in `scenarios/`, a typo of a file
/// name there or beside it), and nothing for a name like no file's.
#[test]
fn a_missing_scenario_file_names_the_one_meant() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("scenarios")).unwrap();
    std::fs::write(dir.path().join("scenarios/base-case.toml"), GOOD).unwrap();
    std::fs::write(dir.path().join("other.toml"), GOOD).unwrap();
    std::fs::write(dir.path().join("o.toml"), GOOD).unwrap();
    std::fs::write(dir.path().join("xz.toml"), GOOD).unwrap();
    // And a library folder (`batch`).
    for (command, arg, hint) in [
        ("check", "base-case", Some("scenarios/base-case.toml")),
        ("check", "base-case.toml", Some("scenarios/base-case.toml")),
        (
            "check",
            "scenarios/base-case",
            Some("scenarios/base-case.toml"),
        ),
        (
            "check",
            "scenarios/base_cse.toml",
            Some("scenarios/base-case.toml"),
        ),
        ("check", "Base_Case", Some("scenarios/base-case.toml")),
        ("check", "other", Some("other.toml")),
        ("check", "othr.toml", Some("other.toml")),
        ("check", "zzz.toml", None),
        ("check", "ot.toml", None),
        // One or two letters have no neighbours (`x` was `o.toml`'s).
        ("check", "x", None),
        ("check", "xy.toml", None),
        ("batch", "scenario", Some("scenarios")),
        ("batch", "Scenarios", Some("scenarios")),
        ("batch", "xyz", None),
    ] {
        let o = Command::new(bin())
            .current_dir(dir.path())
            .args([command, arg])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{arg}");
        let err = String::from_utf8_lossy(&o.stderr);
        let what = if command == "batch" { "folder" } else { "file" };
        assert!(
            err.contains(&format!("cannot read scenario {what}")),
            "{arg}: {err}"
        );
        assert_hint(&err, hint.map(|h| format!("did you mean {h}?")), arg);
    }
    // Standard input is not read: `-` is no file's name.
    let o = Command::new(bin())
        .current_dir(dir.path())
        .args(["run", "-"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert_hint(
        &String::from_utf8_lossy(&o.stderr),
        Some(
            "capsim reads a scenario from a file, not from standard input: save it to a file \
             first (or, in bash, give <(command))"
                .to_string(),
        ),
        "-",
    );
    // A folder for a file, and a file for a folder: the command meant.
    std::fs::create_dir(dir.path().join("empty")).unwrap();
    let o = Command::new(bin())
        .current_dir(dir.path())
        .args([
            "run",
            "scenarios/base-case.toml",
            "--paths",
            "10",
            "--out",
            "out",
        ])
        .args(["--quiet"])
        .output()
        .unwrap();
    assert!(o.status.success());
    for (args, hint) in [
        // A result folder, or its manifest, for its scenario: the
        // scenario it came from (it said only "Is a directory", or "invalid
        // TOML" at 1:1).
        (
            &["run", "out/bad"][..],
            "out/bad is a result folder capsim wrote; its scenario was \
             scenarios/base-case.toml (its manifest.json holds the resolved scenario)",
        ),
        (
            &["compare", "out/bad/manifest.json", "other.toml"],
            "this is a file capsim wrote (JSON), not a scenario (TOML); its scenario was \
             scenarios/base-case.toml",
        ),
        (
            &["run", "scenarios"][..],
            "name a scenario file, e.g. scenarios/base-case.toml; capsim batch scenarios runs \
             every scenario in the folder",
        ),
        (
            &["sweep", "scenarios", "--set", "agi.hazard=0:1:2"],
            "name a scenario file, e.g. scenarios/base-case.toml;",
        ),
        (
            &["run", "empty"],
            "name a scenario file (.toml), not a folder",
        ),
        (
            &["batch", "scenarios/base-case.toml"],
            "capsim run scenarios/base-case.toml runs one scenario; capsim batch scenarios \
             runs every scenario in its folder",
        ),
        (
            &["batch", "other.toml"],
            "capsim run other.toml runs one scenario; capsim batch . runs",
        ),
    ] {
        let o = Command::new(bin())
            .current_dir(dir.path())
            .args(args)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(&format!("hint: {hint}")), "{args:?}: {err}");
    }
}

/// `check` of several files or of a folder: each listed as valid (with
/// its warnings) or not (its error), nothing resolved printed, and exit 2
/// naming the invalid ones; an empty folder is refused. One file prints
/// its resolved form, as before.
#[test]
fn check_lists_several_files_or_a_folder() {
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("lib");
    std::fs::create_dir(&lib).unwrap();
    let good = GOOD.replace("periods = 4\n", "periods = 4\nshortfall_price = 5\n");
    std::fs::write(lib.join("a.toml"), &good).unwrap();
    let warned = good
        .replace("name = \"bad\"", "name = \"warned\"")
        .replace("demand = 100", "demand = 100\ngrowth = 30");
    std::fs::write(lib.join("b.toml"), &warned).unwrap();
    let check = |args: &[&std::path::PathBuf], extra: &[&str]| {
        Command::new(bin())
            .arg("check")
            .args(args)
            .args(extra)
            .output()
            .unwrap()
    };
    let (a, b) = (lib.join("a.toml"), lib.join("b.toml"));
    for args in [&[&lib][..], &[&a, &b]] {
        let o = check(args, &[]);
        let out = String::from_utf8_lossy(&o.stdout);
        assert_eq!(o.status.code(), Some(0), "{out}");
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 3, "{out}");
        assert!(lines[0].starts_with(&format!("# {}: valid, sha256 ", a.display())));
        assert!(lines[1].starts_with(&format!("# {}: valid, sha256 ", b.display())));
        assert!(lines[2].starts_with("# warning: workload.api.growth = 30 is 3000% a year"));
    }
    // One of them invalid: the others still listed; exit 2, naming it.
    let c = lib.join("c.toml");
    std::fs::write(&c, good.replace("periods = 4", "periods = \"4\"")).unwrap();
    let o = check(&[&lib], &["--set", "discount_rate=0.05"]);
    let (out, err) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert_eq!(out.matches(": valid, sha256 ").count(), 2, "{out}");
    assert!(out.contains(&format!("# {} with discount_rate=0.05: valid", a.display())));
    assert!(
        err.contains(&format!("error: {}:3:11: field `periods`", c.display())),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "1 of 3 scenario files are not valid (above): {}",
            c.display()
        )),
        "{err}"
    );
    // One file: its resolved form.
    let o = check(&[&a], &[]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("Resolved scenario") && out.contains("name = \"bad\""),
        "{out}"
    );
    // An empty folder.
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let o = check(&[&empty], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("found no scenario files (*.toml)"));
}

/// `--set KEY = VALUE`: the shell splits it; clap said "unexpected
/// argument '='" (or took VALUE for a scenario). Now the message gives the
/// argument as it should be written.
#[test]
fn an_override_split_at_its_spaces() {
    let expected = "expected KEY=VALUE as one argument: --set workload.api.growth=0.3";
    for (set, found) in [
        (
            &["workload.api.growth", "=", "0.3"][..],
            "`workload.api.growth = 0.3`",
        ),
        (
            &["workload.api.growth", "=0.3"],
            "`workload.api.growth =0.3`",
        ),
        (
            &["workload.api.growth=", "0.3"],
            "`workload.api.growth= 0.3`",
        ),
    ] {
        let mut extra = vec!["--set"];
        extra.extend(set);
        bad(
            GOOD,
            &extra,
            &["--set: found ", found, "(the shell split it", expected],
        );
    }
    let o = Command::new(bin())
        .args([
            "sensitivity",
            "x.toml",
            "--param",
            "workload.api.growth",
            "=",
            "0.1:0.3",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr)
            .contains("argument: --param workload.api.growth=0.1:0.3"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // Not when what follows `KEY=` is a scenario file: an empty value, then
    // an alternative.
    let dir = tempfile::tempdir().unwrap();
    let (base, alt) = (dir.path().join("base.toml"), dir.path().join("alt.toml"));
    std::fs::write(&base, GOOD).unwrap();
    std::fs::write(&alt, GOOD.replace("name = \"bad\"", "name = \"alt\"")).unwrap();
    let out = dir.path().join("out");
    let o = crate::util::quietly(
        &out,
        &[
            "compare",
            base.to_str().unwrap(),
            "--set",
            "description=",
            alt.to_str().unwrap(),
            "--paths",
            "10",
        ],
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// `batch --benchmark` naming no scenario of the library: exit 2, the
/// names listed, the closest as a hint, nothing written.
#[test]
fn a_benchmark_the_library_does_not_hold() {
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("lib");
    std::fs::create_dir(&lib).unwrap();
    std::fs::write(lib.join("a.toml"), GOOD).unwrap();
    std::fs::write(
        lib.join("b.toml"),
        GOOD.replace("name = \"bad\"", "name = \"base-case\""),
    )
    .unwrap();
    let out = dir.path().join("out");
    for (benchmark, hint) in [("Base_Case", Some("base-case")), ("zzz", None)] {
        let o = crate::util::quietly(
            &out,
            &[
                "batch",
                lib.to_str().unwrap(),
                "--benchmark",
                benchmark,
                "--paths",
                "10",
            ],
        );
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(
            err.contains(&format!(
                "--benchmark: found no scenario named \"{benchmark}\" in {}, expected one of: bad, base-case",
                lib.display()
            )),
            "{err}"
        );
        assert_hint(
            &err,
            hint.map(|h| format!("did you mean \"{h}\"?")),
            benchmark,
        );
        assert!(!out.exists());
    }
}

#[test]
fn check_reports_the_same_errors() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.toml");
    std::fs::write(&file, GOOD.replace("gpus = 500", "gpus = -5")).unwrap();
    let o = Command::new(bin())
        .arg("check")
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("s.toml:13:3:"));
}

/// `--out` naming a file, or a folder inside one: exit 2 before anything
/// is simulated, naming the flag and the file, and the file untouched (it
/// was exit 1, "cannot create output folder ... File exists", and `sweep`,
/// `compare` and `sensitivity` said so only after their runs).
#[test]
fn out_is_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("scenario.toml");
    std::fs::write(&scenario, GOOD).unwrap();
    let file = dir.path().join("results");
    std::fs::write(&file, "not a folder").unwrap();
    let s = scenario.to_str().unwrap();
    let sweep = ["sweep", s, "--set", "workload.api.demand=100:200:2"];
    for (args, out, says) in [
        (&["run", s][..], file.clone(), "which is a file"),
        (&["run", s][..], file.join("sub"), "inside "),
        (&sweep[..], file.clone(), "which is a file"),
        (&["sensitivity", s][..], file.clone(), "which is a file"),
        (&["compare", s, s][..], file.clone(), "which is a file"),
    ] {
        let o = Command::new(bin())
            .args(args)
            .arg("--out")
            .arg(&out)
            .args(["--paths", "100", "-q"])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?} {out:?}: {err}");
        assert!(
            err.contains(&format!("--out: found {}, ", out.display())),
            "{err}"
        );
        assert!(
            err.contains(says) && err.contains("expected a folder"),
            "{err}"
        );
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "not a folder");
        let mut names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        assert_eq!(names, ["results", "scenario.toml"], "{args:?}");
    }
}

/// `capsim COMMAND GOOD --paths 10 ...` with each case's arguments: exit
/// 2, each expected text in the message, nothing written; then with
/// `fine`: exit 0.
fn command_refuses(command: &str, cases: &[(&[&str], &[&str])], fine: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.toml");
    std::fs::write(&file, GOOD).unwrap();
    let out = dir.path().join("out");
    let run = |extra: &[&str]| {
        let mut args = vec![command, file.to_str().unwrap(), "--paths", "10"];
        args.extend(extra);
        crate::util::quietly(&out, &args)
    };
    for (extra, expect) in cases {
        let o = run(extra);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{extra:?}: {err}");
        for e in *expect {
            assert!(err.contains(e), "{extra:?}: `{e}` not in {err}");
        }
        assert!(!out.exists(), "{extra:?}");
    }
    let o = run(fine);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{fine:?}: {err}");
}

/// A sweep whose axes would be overridden by a later `--set`: two axes on
/// one field (however each names it) or an axis on a field a fixed
/// override, `--paths` or `--seed` sets. The later override won silently
/// (a 3x3 grid of three distinct points, and `sweep.csv` with two columns
/// of one name); now exit 2 naming both arguments, nothing written.
/// Different fields, or a fixed override of another field, still sweep.
#[test]
fn a_sweep_sets_each_field_once() {
    command_refuses(
        "sweep",
        &[
            (
                &[
                    "--set",
                    "workload.api.growth=0:1:3",
                    "--set",
                    "workload.api.growth=0:1:2",
                ],
                &[
                    "--set workload.api.growth=0:1:2",
                    "a second axis",
                    "the first: --set workload.api.growth=0:1:3",
                ],
            ),
            (
                &[
                    "--set",
                    "workload.api.growth=0:1:3",
                    "--set",
                    "workload.0.growth=0:0.5:2",
                ],
                &["--set workload.0.growth=0:0.5:2", "a second axis"],
            ),
            (
                &[
                    "--set",
                    "workload.api.growth=0.3",
                    "--set",
                    "workload.api.growth=0:1:3",
                ],
                &[
                    "--set workload.api.growth=0:1:3",
                    "also set to one value (--set workload.api.growth=0.3",
                ],
            ),
            // Points loaded side by side: the first bad one in grid order,
            // named as the `--set` written (not as its point's
            // `workload.api.volatility=-0.5`, which the user never typed).
            (
                &["--set", "workload.api.volatility=1:-1:5", "--threads", "4"],
                &[
                    "--set workload.api.volatility=1:-1:5: field `workload.api.volatility`: \
                     found -0.5",
                ],
            ),
            (
                &["--set", "simulation.paths=10:30:3"],
                &[
                    "--set simulation.paths=10:30:3",
                    "(--set simulation.paths=10",
                ],
            ),
            // A range without steps was taken for a fixed override (and
            // the sweep refused for having no axis); a range as a
            // spreadsheet writes it gets the hint a --set gets.
            (
                &["--set", "workload.api.growth=0.1:0.3"],
                &[
                    "--set workload.api.growth=0.1:0.3: found lo:hi without steps, expected \
                     lo:hi:steps, e.g. 0.1:0.3:5",
                ],
            ),
            // One step from one end to another swept lo alone.
            (
                &["--set", "workload.api.growth=0.1:0.3:1"],
                &["found 1 step from 0.1 to 0.3, which sweeps 0.1 alone"],
            ),
            // The same value at every point (it ran them all).
            (
                &["--set", "workload.api.growth=0.1:0.1:3"],
                &["--set workload.api.growth=0.1:0.1:3: found 3 steps from 0.1 to 0.1, which \
                   repeat 0.1 3 times, expected 1 (lo and hi are one value), e.g. 0.1:0.1:1"],
            ),
            (
                &["--set", "agi.earliest=2027-01:2027-01:2"],
                &["found 2 steps from 2027-01 to 2027-01, which repeat 2027-01 2 times"],
            ),
            // An axis beyond the grid's limit is refused before its values
            // are made (1e9 steps took 8 GB and minutes without a word;
            // 2^64 - 1 panicked, "capacity overflow").
            (
                &["--set", "agi.hazard=0:1:1000000000"],
                &["--set agi.hazard=0:1:1000000000: found 1000000000 steps, expected at most \
                   100000 (a sweep's whole grid has at most 100000 points)"],
            ),
            (
                &["--set", "agi.hazard=0:1:18446744073709551615"],
                &["found 18446744073709551615 steps, expected at most 100000"],
            ),
            // A grid too large, its axes within the limit; one whose size
            // overflows a 64-bit count as well.
            (
                &[
                    "--set",
                    "agi.hazard=0:1:1000",
                    "--set",
                    "workload.api.growth=0:1:101",
                ],
                &["--set: found a grid of 1000 x 101 = 101000 points, expected at most 100000"],
            ),
            (
                &[
                    "--set",
                    "agi.hazard=0:1:100000",
                    "--set",
                    "workload.api.growth=0:1:100000",
                    "--set",
                    "workload.product.growth=0:1:100000",
                    "--set",
                    "workload.research.growth=0:1:100000",
                ],
                &["--set: found a grid of 100000 x 100000 x 100000 x 100000 points, expected at \
                   most 100000"],
            ),
            (
                &["--set", "workload.api.growth=10%:30%:3"],
                &[
                    "expected numbers in lo:hi:steps",
                    "hint: a percentage is written as a fraction: 0.1 for 10%",
                ],
            ),
            // (Not for a date field, where `a:b` is a mistyped date.)
            (
                &["--set", "rule.0.until=2029:01"],
                &["--set: found no swept parameter (only fixed values: --set rule.0.until=2029:01), expected at least one --set key=lo:hi:steps"],
            ),
            // A range written another way is a fixed value: the hint
            // writes it as a range (it said only "found no swept
            // parameter").
            // A reference point off the grid (numbered from 1), also in a
            // shard.
            (
                &["--set", "workload.api.growth=0:1:3", "--reference", "4"],
                &["--reference: found 4, expected a grid point from 1 to 3 (as sweep.csv lists them)"],
            ),
            (
                &["--set", "workload.api.growth=0:1:3", "--reference", "4", "--shard", "1/1"],
                &["--reference: found 4, expected a grid point from 1 to 3"],
            ),
            (
                &["--set", "workload.api.growth=0:1:3", "--reference", "0"],
                &["'--reference <POINT>': found 0, expected a whole number from 1 to 100000 (a \
                   grid point, as sweep.csv lists them), or none"],
            ),
            (
                &["--set", "workload.api.growth=0:1:3", "--reference", "-1"],
                &["'--reference <POINT>': found -1, expected a whole number from 1"],
            ),
            (
                &["--set", "workload.api.growth=0:1:3", "--reference", "off"],
                &["'--reference <POINT>': found off, expected a whole number from 1 to 100000 \
                   (a grid point, as sweep.csv lists them), or none"],
            ),
            (
                &["--set", "workload.api.growth=0.1-0.3"],
                &[
                    "found no swept parameter (only fixed values: --set workload.api.growth=0.1-0.3)",
                    "hint: a range is written lo:hi:steps (both ends included): --set workload.api.growth=0.1:0.3:5",
                ],
            ),
            (
                &["--set", "provider.azure.price_drift=-0.3..-0.1"],
                &["hint: a range is written lo:hi:steps (both ends included): --set provider.azure.price_drift=-0.3:-0.1:5"],
            ),
            (
                &["--set", "agi.earliest=2027-01 to 2029-01"],
                &["hint: a range is written lo:hi:steps (both ends included): --set agi.earliest=2027-01:2029-01:5"],
            ),
            // A date field sweeps months: whole months apart, dates as
            // YYYY-MM (it said "expected numbers", with the hint to write
            // the date as it was written).
            (
                &["--set", "agi.earliest=2026-01:2027-01:6"],
                &[
                    "--set agi.earliest=2026-01:2027-01:6: found 6 steps from 2026-01 to \
                     2027-01, which fall between months, expected steps that split its 12 \
                     months evenly: 2, 3, 4, 5, 7 or 13",
                ],
            ),
            (
                &["--set", "agi.earliest=2026-01:2027-01"],
                &["found lo:hi without steps, expected lo:hi:steps, e.g. 2026-01:2027-01:5"],
            ),
            (
                &["--set", "agi.earliest=Jan 2026:2027-01:3"],
                &[
                    "expected dates (YYYY-MM) in lo:hi:steps",
                    "hint: did you mean \"2026-01\"?",
                ],
            ),
            (
                &["--set", "agi.earliest=0:12:3"],
                &["expected dates (YYYY-MM) in lo:hi:steps"],
            ),
            (
                &[
                    "--set",
                    "agi.earliest=2026-06",
                    "--set",
                    "agi.earliest=2026-01:2027-01:3",
                ],
                &["also set to one value (--set agi.earliest=2026-06"],
            ),
            (
                &["--set", "workload.api.demand=1:2M:3"],
                &["hint: a number is written without a currency sign or a K/M/B/T suffix: 2e6 for 2M"],
            ),
        ],
        &[
            "--set",
            "workload.api.growth=0:1:2",
            "--set",
            "workload.api.volatility=0:0.2:2",
            "--set",
            "workload.api.demand=50",
        ],
    );
}

/// Two `--set`s of one field (however each names it) to different values,
/// `--paths` against a `--set simulation.paths`, or a list replaced after a
/// `--set` of one of its elements: the later won silently. Now exit 2 in
/// every command that loads a scenario, naming both, nothing written. The
/// same value twice still runs, and so does a sensitivity parameter on a
/// field a `--set` fixes for the base run.
#[test]
fn a_field_set_twice_to_different_values() {
    let twice: &[(&[&str], &[&str])] = &[
        (
            &[
                "--set",
                "workload.api.growth=0.3",
                "--set",
                "workload.0.growth=0.5",
            ],
            &[
                "--set workload.0.growth=0.5: field `workload.api.growth`: found this field \
                 set a second time (first by --set workload.api.growth=0.3), expected each \
                 field set once",
                "hint: the later value would win silently: drop one of the two",
            ],
        ),
        (
            &["--set", "simulation.paths=20"],
            &[
                "--set simulation.paths=10: field `simulation.paths`: found this field set a \
                 second time (first by --set simulation.paths=20; --paths and --seed set \
                 simulation.paths and simulation.seed)",
            ],
        ),
        (
            &[
                "--set",
                "rule.0.providers.0=azure",
                "--set",
                "rule.0.providers=[\"azure\"]",
            ],
            &["--set rule.0.providers=[\"azure\"]: field `rule.0.providers`: found this field set a second time (first by --set rule.0.providers.0=azure)"],
        ),
    ];
    let same = [
        "--set",
        "workload.api.growth=0.3",
        "--set",
        "workload.0.growth=0.30",
        "--set",
        "simulation.paths=1_0",
    ];
    command_refuses("run", twice, &same);
    // sweep: the same with an axis on another field.
    let axis = ["--set", "workload.api.volatility=0:0.2:2"];
    let swept: Vec<Vec<&str>> = twice
        .iter()
        .map(|(extra, _)| [*extra, &axis].concat())
        .collect();
    let cases: Vec<(&[&str], &[&str])> = swept
        .iter()
        .zip(twice)
        .map(|(args, (_, expect))| (args.as_slice(), *expect))
        .collect();
    command_refuses("sweep", &cases, &[&same[..], &axis].concat());
    command_refuses(
        "sensitivity",
        &twice[..1],
        &[
            "--set",
            "workload.api.growth=0.3",
            "--param",
            "workload.api.growth=0.1:0.5",
        ],
    );

    // compare: the alternative gets the base's paths and seed after the
    // user's overrides, the same values a --set of them gave.
    let dir = tempfile::tempdir().unwrap();
    let (base, alt) = (dir.path().join("base.toml"), dir.path().join("alt.toml"));
    std::fs::write(&base, GOOD).unwrap();
    std::fs::write(&alt, GOOD.replace("name = \"bad\"", "name = \"alt\"")).unwrap();
    let out = dir.path().join("out");
    let files = [base.to_str().unwrap(), alt.to_str().unwrap()];
    let compare = |extra: &[&str]| {
        let mut args = vec!["compare", files[0], files[1]];
        args.extend(extra);
        crate::util::quietly(&out, &args)
    };
    let o = compare(&["--set", "agi.hazard=0.1", "--set", "agi.hazard=0.2"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("--set agi.hazard=0.2: field `agi.hazard`: found this field set a second time (first by --set agi.hazard=0.1)"), "{err}");
    assert!(!out.exists());
    let o = compare(&["--set", "simulation.paths=10", "--set", "simulation.seed=7"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );

    // check, and batch: every file skipped for it, then one error that
    // says so (it was "no scenario named \"baseline\", expected one of: ").
    let o = Command::new(bin())
        .args([
            "check",
            files[0],
            "--set",
            "agi.hazard=0.1",
            "--set",
            "agi.hazard=0.2",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("found this field set a second time"), "{err}");
    let out = dir.path().join("out-batch");
    let lib = dir.path().join("lib");
    std::fs::create_dir(&lib).unwrap();
    std::fs::copy(&base, lib.join("a.toml")).unwrap();
    std::fs::copy(&alt, lib.join("b.toml")).unwrap();
    let o = crate::util::quietly(
        &out,
        &[
            "batch",
            lib.to_str().unwrap(),
            "--benchmark",
            "bad",
            "--set",
            "agi.hazard=0.1",
            "--set",
            "agi.hazard=0.2",
        ],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert_eq!(
        err.matches("found this field set a second time").count(),
        2,
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "{}: found no scenario that loads (all 2 skipped, above)",
            lib.display()
        )),
        "{err}"
    );
    assert!(!out.exists());
}

/// `sensitivity --param`: a field given twice (however each names it) drew
/// two bars of it; a `[simulation]` setting drew a bar of sampling noise
/// (`simulation.paths=10:20`); a NaN bound was blamed on a `--set` the user
/// never typed. Each is now exit 2 naming the `--param`, nothing written.
#[test]
fn sensitivity_params_are_model_fields_once_each() {
    command_refuses(
        "sensitivity",
        &[
            (
                &[
                    "--param",
                    "workload.api.demand=80:120",
                    "--param",
                    "workload.0.demand=50:150",
                ],
                &[
                    "--param workload.0.demand=50:150",
                    "a second time (the first: --param workload.api.demand=80:120)",
                ],
            ),
            // Runs loaded side by side: the first bad one in run order.
            (
                &[
                    "--param",
                    "workload.api.volatility=0.1:-1",
                    "--param",
                    "workload.api.demand=-5:10",
                    "--threads",
                    "4",
                ],
                // (Named as the `--param` written, not as the `--set`
                // its high end became, which the user never typed.)
                &[
                    "--param workload.api.volatility=0.1:-1: field `workload.api.volatility`: \
                     found -1",
                ],
            ),
            (
                &["--param", "simulation.paths=10:20"],
                &["--param simulation.paths=10:20", "[simulation] setting"],
            ),
            (
                &["--param", "workload.api.demand=nan:120"],
                &["--param workload.api.demand=nan:120", "expected key=lo:hi"],
            ),
            (
                &["--param", "workload.api.growth=10%:0.3"],
                &[
                    "--param workload.api.growth=10%:0.3: expected key=lo:hi",
                    "hint: a percentage is written as a fraction: 0.1 for 10%",
                ],
            ),
            // A date field's range is two dates.
            (
                &["--param", "agi.earliest=2026-01:Q3 2027"],
                &[
                    "--param agi.earliest=2026-01:Q3 2027: expected key=lo:hi with dates \
                     (YYYY-MM) lo and hi",
                    "hint: did you mean \"2027-07\"?",
                ],
            ),
            (
                &["--param", "agi.earliest=1:2"],
                &["expected key=lo:hi with dates (YYYY-MM) lo and hi"],
            ),
            // A range written another way, or as a sweep's with steps
            // (both said only "expected key=lo:hi").
            (
                &["--param", "workload.api.growth=0.1-0.3"],
                &[
                    "--param workload.api.growth=0.1-0.3: expected key=lo:hi with numbers",
                    "hint: a range is written lo:hi: --param workload.api.growth=0.1:0.3",
                ],
            ),
            (
                &["--param", "agi.earliest=2027-01 to 2029-01"],
                &["hint: a range is written lo:hi: --param agi.earliest=2027-01:2029-01"],
            ),
            (
                &["--param", "workload.api.growth=0.1:0.3:5"],
                &[
                    "--param workload.api.growth=0.1:0.3:5: found steps (5), expected \
                     key=lo:hi: a tornado runs each parameter at its two ends only: --param \
                     workload.api.growth=0.1:0.3",
                ],
            ),
        ],
        &[
            "--param",
            "workload.api.demand=80:120",
            "--param",
            "provider.azure.price=1.5:2.5",
        ],
    );
}

/// A result replaces only a folder capsim wrote (a result or a shard, by
/// its manifest or header), or an empty one: a folder of the user's where
/// a result goes is bad input, refused before anything runs, and left as
/// it was. (Every command replaced whatever was there: a scenario named
/// `compare` run into the `--out` of comparisons deleted all of them.)
#[test]
fn a_result_replaces_only_what_capsim_wrote() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("scenario.toml");
    std::fs::write(&scenario, GOOD).unwrap();
    let s = scenario.to_str().unwrap();
    let capsim = |args: &[&str], out: &std::path::Path| {
        Command::new(bin())
            .args(args)
            .arg("--out")
            .arg(out)
            .args(["--paths", "100", "-q"])
            .output()
            .unwrap()
    };
    let names = |p: &std::path::Path| {
        let mut n: Vec<String> = std::fs::read_dir(p)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        n.sort();
        n
    };
    let sweep = ["sweep", s, "--set", "workload.api.demand=100:200:2"];
    let lib = dir.path().join("lib");
    std::fs::create_dir(&lib).unwrap();
    std::fs::copy(&scenario, lib.join("bad.toml")).unwrap();
    let l = lib.to_str().unwrap();
    // Each command, and the folder of the user's where its result goes.
    for (args, folder) in [
        (&["run", s][..], "bad"),
        (&sweep[..], "sweep/bad"),
        (&["sensitivity", s][..], "sensitivity/bad"),
        (&["compare", s, s][..], "compare/bad-vs-bad"),
        (&["batch", l, "--benchmark", "bad"][..], "bad"),
    ] {
        let out = dir.path().join("out");
        let mine = out.join(folder);
        std::fs::create_dir_all(mine.join("sub")).unwrap();
        std::fs::write(mine.join("notes.txt"), "mine").unwrap();
        for holds in ["a folder holding sub/", "a folder with no manifest"] {
            let o = capsim(args, &out);
            let err = String::from_utf8_lossy(&o.stderr);
            assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
            assert!(
                err.contains(&format!(
                    "--out: found {}, where this result goes: {holds}",
                    mine.display()
                )) && err.contains("expected nothing there, or a result capsim wrote"),
                "{args:?}: {err}"
            );
            assert_eq!(
                std::fs::read_to_string(mine.join("notes.txt")).unwrap(),
                "mine"
            );
            assert_eq!(names(&mine), ["notes.txt", "sub"][..names(&mine).len()]);
            std::fs::remove_dir(mine.join("sub")).ok();
        }
        // Nothing else written, no partial result left.
        assert_eq!(names(&out), [folder.split('/').next().unwrap()], "{args:?}");
        std::fs::remove_dir_all(&out).unwrap();
    }

    // A batch's index files that are not a batch's: refused, and kept; a
    // batch's own are replaced.
    let out = dir.path().join("lib_out");
    let batch = ["batch", l, "--benchmark", "bad"];
    assert!(capsim(&batch, &out).status.success());
    assert!(capsim(&batch, &out).status.success());
    for (file, text, why) in [
        (
            "index.csv",
            "mine,1\n",
            "a file that does not begin with a batch index's header",
        ),
        (
            "index_manifest.json",
            "{\"mine\": 1}",
            "a file that is not a batch's manifest",
        ),
    ] {
        let kept = std::fs::read(out.join(file)).unwrap();
        std::fs::write(out.join(file), text).unwrap();
        let o = capsim(&batch, &out);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(
            err.contains(&format!(
                "--out: found {}, where this result goes: {why}",
                out.join(file).display()
            )) && err.contains(&format!(
                "hint: move {} away, or give another --out\n",
                out.join(file).display()
            )),
            "{err}"
        );
        assert_eq!(std::fs::read_to_string(out.join(file)).unwrap(), text);
        std::fs::write(out.join(file), kept).unwrap();
    }

    // A file where the result goes.
    let out = dir.path().join("file");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("bad"), "mine").unwrap();
    let o = capsim(&["run", s], &out);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("where this result goes: a file;"));
    assert_eq!(std::fs::read_to_string(out.join("bad")).unwrap(), "mine");

    // An empty folder, and capsim's own result (with its charts), are
    // replaced.
    let out = dir.path().join("ok");
    std::fs::create_dir_all(out.join("bad")).unwrap();
    for extra in [&["--charts"][..], &[], &[]] {
        let o = capsim(&[&["run", s][..], extra].concat(), &out);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    assert!(out.join("bad/summary.csv").exists() && !out.join("bad/charts").exists());

    // A scenario named `compare` next to comparisons, and a merge into a
    // folder of the user's.
    let out = dir.path().join("cmp");
    assert!(capsim(&["compare", s, s], &out).status.success());
    let compare = dir.path().join("compare.toml");
    std::fs::write(
        &compare,
        GOOD.replace("name = \"bad\"", "name = \"compare\""),
    )
    .unwrap();
    let o = capsim(&["run", compare.to_str().unwrap()], &out);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("a folder holding bad-vs-bad/"));
    assert!(out.join("compare/bad-vs-bad/comparison.csv").exists());
    let shards = dir.path().join("shards");
    let o = Command::new(bin())
        .args(["run", s, "--paths", "100", "-q", "--shard", "1/1", "--out"])
        .arg(&shards)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = dir.path().join("merged");
    std::fs::create_dir_all(out.join("bad")).unwrap();
    std::fs::write(out.join("bad/notes.txt"), "mine").unwrap();
    let o = Command::new(bin())
        .arg("merge")
        .arg(shards.join("bad.shard-1-of-1"))
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("a folder with no manifest"));
    assert_eq!(names(&out.join("bad")), ["notes.txt"]);
}

/// A scenario name makes folder names (a comparison's shard holds two), so
/// it is at most 64 characters: a longer one is bad input, in the file or
/// in `--set`. A name of 220 characters failed with exit 1 ("File name too
/// long", its temporary folder's name being longer than its own). A batch
/// shard's folder takes the library folder's name cut to 100 bytes.
#[test]
fn a_scenario_name_fits_in_a_folder_name() {
    let ok = "n".repeat(64);
    let o = run_with(
        &GOOD.replace("name = \"bad\"", &format!("name = \"{ok}\"")),
        &["-q"],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.out.join(&ok).join("summary.csv").exists());
    let long = "n".repeat(65);
    let said = "field `name`: found a name of 65 characters, expected at most 64";
    bad(
        &GOOD.replace("name = \"bad\"", &format!("name = \"{long}\"")),
        &[],
        &["scenario.toml:1:1: ", said],
    );
    bad(GOOD, &["--set", &format!("name={long}")], &[said]);

    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("é".repeat(120));
    std::fs::create_dir(&lib).unwrap();
    std::fs::write(lib.join("s.toml"), GOOD).unwrap();
    let out = dir.path().join("out");
    let o = Command::new(bin())
        .arg("batch")
        .arg(&lib)
        .args([
            "--benchmark",
            "bad",
            "--paths",
            "100",
            "-q",
            "--shard",
            "1/1",
        ])
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, [format!("{}.batch.shard-1-of-1", "é".repeat(50))]);
}

/// A table is written with its fields by name, and each element of an
/// array of tables with two pairs of brackets. serde took a table written
/// as an array by position (`delay_months = [3.0, 0.6]` ran as median 3,
/// sigma 0.6; `simulation = [1000, 7]` as 1,000 paths, seed 7), and a
/// single-bracket `[workload]` got "invalid type: map, expected a
/// sequence" with no word on the brackets.
#[test]
fn tables_and_arrays_of_tables_as_written() {
    let tranche = "  online = \"2025-06\"\n";
    for (text, expect) in [
        (
            GOOD.replace(tranche, &format!("{tranche}  delay_months = [3.0, 0.6]\n")),
            "scenario.toml:15:18: field `provider.azure.tranche.0.delay_months`: invalid type: \
             list, expected a table (its fields by name)\n  hint: write its fields by name: \
             delay_months = { median = 3.0, sigma = 0.6 }",
        ),
        (
            GOOD.replace("periods = 4\n", "periods = 4\nsimulation = [1000, 7]\n"),
            "scenario.toml:4:14: field `simulation`: invalid type: list, expected a table \
             (its fields by name)\n  hint: [simulation] is one table: one pair of brackets, \
             [simulation], its fields by name below it",
        ),
        (
            format!("{GOOD}[[agi]]\nhazard = 0.1\n"),
            "field `agi`: invalid type: list, expected a table",
        ),
        (
            GOOD.replace("[[workload]]", "[workload]"),
            "scenario.toml:5:1: field `workload`: invalid type: table, expected an array of \
             tables\n  hint: each workload is its own [[workload]] table, with two pairs of \
             brackets",
        ),
        (
            GOOD.replace("[[provider.tranche]]", "[provider.tranche]"),
            "hint: each tranche is its own [[provider.tranche]] table, with two pairs of brackets",
        ),
        (
            format!("{GOOD}[rule]\nkind = \"max_share\"\n"),
            "scenario.toml:20:2: invalid TOML: duplicate table [rule]\n  hint: each rule is its own \
             [[rule]] table, with two pairs of brackets: [rule] is one table",
        ),
    ] {
        bad(&text, &[], &[expect]);
    }
    // The same fields by name load.
    let o = run_with(
        &GOOD.replace(
            tranche,
            &format!("{tranche}  delay_months = {{ median = 3.0, sigma = 0.6 }}\n"),
        ),
        &["-q"],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
}

/// A flag the command does not take: where it is another command's, the
/// message names those (clap took `compare --charts` for a typo of
/// `--paths`, and `trace --paths` for `--path`); where it is no command's
/// and near none of this one's, the command's flags (clap's tip was to
/// pass it as a value, `-- --foo`). A typo of one of the command's own
/// flags keeps clap's suggestion. Exit 2, nothing run.
#[test]
fn a_flag_of_another_command_names_it() {
    for (args, says) in [
        (
            &["compare", "a.toml", "b.toml", "--regret"][..],
            "error: capsim compare has no flag --regret: it is a flag of run; capsim compare's \
             flags: --paths, --seed, --threads, --out, --set, --quiet, --shard, --charts",
        ),
        (
            &["trace", "a.toml", "--path", "1", "--paths", "5"],
            "error: capsim trace has no flag --paths: it is a flag of run, check, compare, \
             batch, sweep or sensitivity; capsim trace's flags: --set, --path, --seed, --csv",
        ),
        (
            &["sweep", "a.toml", "--param=agi.hazard=0:1"],
            "error: capsim sweep has no flag --param: it is a flag of sensitivity;",
        ),
        (
            &["run", "a.toml", "--foo"],
            "error: capsim run has no flag --foo; capsim run's flags: --set, --paths, --seed, \
             --threads, --out, --paths-csv, --focus, --focus-stat, --regret, --charts, \
             --quiet, --shard\n\nFor more information, try 'capsim run --help'.",
        ),
        (
            &["run", "a.toml", "--thread", "2"],
            "tip: a similar argument exists: '--threads'",
        ),
    ] {
        let o = Command::new(bin()).args(args).output().unwrap();
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(!err.contains("'-- --"), "{args:?}: {err}");
    }
}
