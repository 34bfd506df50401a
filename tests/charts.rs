//! Charts: `run --charts` and `capsim chart` draw the folder's own numbers.

use crate::util::*;
use std::path::Path;

const GOLDEN: &str = include_str!("data/golden.toml");
const CHARTS: [&str; 4] = ["spend.svg", "demand.svg", "providers.svg", "totals.svg"];

fn ok(o: &std::process::Output) -> String {
    assert!(
        o.status.success(),
        "exit {:?}: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Runs the golden scenario with `extra` flags into `dir/out` (the file
/// in `dir`); its result folder.
fn golden(dir: &Path, extra: &[&str]) -> std::path::PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let file = dir.join("golden.toml");
    std::fs::write(&file, GOLDEN).unwrap();
    let out = dir.join("out");
    let mut args = vec!["run", file.to_str().unwrap()];
    args.extend_from_slice(extra);
    ok(&quietly(&out, &args));
    out.join("golden")
}

/// The bars of a chart of horizontal bars (their fill's opacity 0.7),
/// from the top: each one's width in pixels and its fill colour.
fn bars(svg: &str) -> Vec<(f64, String)> {
    svg.split("<rect ")
        .skip(1)
        .filter(|r| r.contains("opacity=\"0.7\""))
        .map(|r| {
            let attr = |a: &str| {
                let at = r.find(&format!(" {a}=\"")).unwrap() + a.len() + 3;
                r[at..at + r[at..].find('"').unwrap()].to_string()
            };
            (attr("width").parse().unwrap(), attr("fill"))
        })
        .collect()
}

/// The points of the first polyline whose attributes end with `key`
/// (`what` names it when there is none).
fn points_after(svg: &str, key: &str, what: &str) -> Vec<(f64, f64)> {
    let at = svg.find(key).expect(what) + key.len();
    svg[at..at + svg[at..].find('"').unwrap()]
        .split_whitespace()
        .map(|p| {
            let (x, y) = p.split_once(',').unwrap();
            (x.parse().unwrap(), y.parse().unwrap())
        })
        .collect()
}

/// The points of the first polyline drawn in `color` with width 2 (a
/// median line).
fn median_line(svg: &str, color: &str) -> Vec<(f64, f64)> {
    let key = format!("stroke=\"{color}\" stroke-width=\"2\" points=\"");
    points_after(svg, &key, "a median polyline")
}

/// `periods.csv`'s p50 of `metric`, period by period.
fn p50s(dir: &Path, metric: &str) -> Vec<f64> {
    let mut r = csv::Reader::from_path(dir.join("periods.csv")).unwrap();
    let h = r.headers().unwrap().clone();
    let (m, q) = (
        h.iter().position(|c| c == "metric").unwrap(),
        h.iter().position(|c| c == "p50").unwrap(),
    );
    r.records()
        .map(|x| x.unwrap())
        .filter(|x| &x[m] == metric)
        .map(|x| x[q].parse().unwrap())
        .collect()
}

/// The line's points are the values on a linear scale (SVG's y grows
/// downwards), to the pixel, one per period from left to right.
fn draws(line: &[(f64, f64)], values: &[f64]) {
    assert_eq!(line.len(), values.len(), "one point per period");
    assert!(line.windows(2).all(|w| w[1].0 > w[0].0), "left to right");
    let (lo, hi) = (0..values.len()).fold((0, 0), |(l, h), i| {
        (
            if values[i] < values[l] { i } else { l },
            if values[i] > values[h] { i } else { h },
        )
    });
    assert!(values[hi] > values[lo], "the test needs values that vary");
    let per = (line[lo].1 - line[hi].1) / (values[hi] - values[lo]);
    assert!(per > 0.0, "higher values are drawn higher");
    for (i, (&(_, y), v)) in line.iter().zip(values).enumerate() {
        let want = line[lo].1 - (v - values[lo]) * per;
        assert!(
            (y - want).abs() <= 1.5,
            "period {i}: y {y}, expected {want}"
        );
    }
}

#[test]
fn charts_draw_the_result_folders_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let res = golden(dir.path(), &["--charts"]);
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(res.join("manifest.json")).unwrap()).unwrap();
    let listed: Vec<&str> = manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for c in CHARTS {
        let svg = std::fs::read_to_string(res.join("charts").join(c)).unwrap();
        assert!(
            svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"),
            "{c}"
        );
        assert!(svg.contains("golden: "), "{c}: titled with the scenario");
        assert!(
            listed.contains(&format!("charts/{c}").as_str()),
            "{c} in manifest"
        );
    }
    let spend = std::fs::read_to_string(res.join("charts/spend.svg")).unwrap();
    assert!(spend.contains("2026-01"), "periods labelled by date");
    draws(&median_line(&spend, "#1F77B4"), &p50s(&res, "cash"));
    let demand = std::fs::read_to_string(res.join("charts/demand.svg")).unwrap();
    draws(&median_line(&demand, "#E67814"), &p50s(&res, "demand"));
    draws(&median_line(&demand, "#1F77B4"), &p50s(&res, "served"));
    let providers = std::fs::read_to_string(res.join("charts/providers.svg")).unwrap();
    for p in ["azure", "oracle", "own"] {
        assert!(GOLDEN.contains(&format!("name = \"{p}\"")), "{p}");
        assert!(providers.contains(&format!("\n{p}\n")), "{p} labelled");
    }

    // `capsim chart` on a folder without charts draws the same files.
    let plain = golden(&dir.path().join("plain"), &[]);
    assert!(!plain.join("charts").exists());
    let said = ok(&std::process::Command::new(bin())
        .arg("chart")
        .arg(&plain)
        .output()
        .unwrap());
    assert!(said.contains("charts/ (spend.svg"), "{said}");
    for c in CHARTS {
        let (a, b) = (
            std::fs::read(res.join("charts").join(c)).unwrap(),
            std::fs::read(plain.join("charts").join(c)).unwrap(),
        );
        assert!(a == b, "{c}: chart and run --charts differ");
    }
}

#[test]
fn chart_refuses_what_is_not_a_result_folder() {
    let dir = tempfile::tempdir().unwrap();
    let res = golden(dir.path(), &[]);
    let chart = |d: &Path| {
        std::process::Command::new(bin())
            .arg("chart")
            .arg(d)
            .output()
            .unwrap()
    };
    let refused = |d: &Path, says: &str| {
        let o = chart(d);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{says}: {err}");
        assert!(err.contains(says), "expected `{says}` in: {err}");
        assert!(!err.contains("panicked"), "{err}");
    };
    refused(&dir.path().join("nowhere"), "manifest.json: cannot read it");
    // A folder of result folders: it names them.
    refused(
        &dir.path().join("out"),
        &format!(
            "it holds result folders: capsim chart {}",
            dir.path().join("out").join("golden").display()
        ),
    );
    // A file of a result folder: it names the folder (it said only "Not
    // a directory").
    let summary = dir.path().join("out").join("golden").join("summary.csv");
    refused(
        &summary,
        &format!(
            "it is a file of the result folder {0}: capsim chart {0}",
            dir.path().join("out").join("golden").display()
        ),
    );
    // In a folder whose name has a space: the command quoted for the
    // shell, and it runs as written.
    let spaced = dir.path().join("my results");
    std::fs::rename(dir.path().join("out"), &spaced).unwrap();
    let o = chart(&spaced.join("golden").join("summary.csv"));
    let err = String::from_utf8_lossy(&o.stderr);
    let command = err
        .split("capsim chart ")
        .nth(1)
        .map(str::trim_end)
        .unwrap_or_else(|| panic!("{err}"));
    assert_eq!(
        command,
        format!("'{}'", spaced.join("golden").display()),
        "{err}"
    );
    ok(&std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("'{}' chart {command}", bin()))
        .output()
        .unwrap());
    assert!(spaced.join("golden/charts/spend.svg").exists());
    std::fs::rename(&spaced, dir.path().join("out")).unwrap();
    // A folder whose manifest is another command's: it says which, and
    // what chart draws.
    let file = dir.path().join("golden.toml");
    let f = file.to_str().unwrap();
    let out = dir.path().join("out");
    ok(&quietly(
        &out,
        &[
            "sweep",
            f,
            "--set",
            "agi.hazard=0.1:0.2:2",
            "--paths",
            "100",
        ],
    ));
    let other = dir.path().join("other");
    std::fs::create_dir(&other).unwrap();
    std::fs::write(other.join("manifest.json"), r#"{"command": "trace"}"#).unwrap();
    refused(
        &other,
        "manifest.json: no `resolved_scenario`: a trace's manifest, expected a run's (charts \
         are drawn for the results of run, merge, batch, compare, sweep and sensitivity)",
    );
    // A sweep's folder whose sweep.csv was mangled.
    let sweep = out.join("sweep/golden/sweep.csv");
    let text = std::fs::read_to_string(&sweep).unwrap();
    let mangled = text.replacen(",npv,", ",npv,1.234,56,", 1);
    std::fs::write(&sweep, &mangled).unwrap();
    refused(&out.join("sweep/golden"), "sweep.csv");
    // A number a spreadsheet mangled, on line 4 of periods.csv.
    let p = res.join("periods.csv");
    let text = std::fs::read_to_string(&p).unwrap();
    let mut lines: Vec<String> = text.split("\r\n").map(String::from).collect();
    let mut cells: Vec<String> = lines[3].split(',').map(String::from).collect();
    cells[3] = "1,5e9".replace(',', ";");
    lines[3] = cells.join(",");
    std::fs::write(&p, lines.join("\r\n")).unwrap();
    refused(
        &res,
        "periods.csv:4:1: column `mean`: found `1;5e9`, expected a number",
    );
    std::fs::write(&p, "period,date\r\n").unwrap();
    refused(&res, "periods.csv:1:1: no column `metric`");
}

#[test]
fn a_single_period_is_drawn_as_a_level() {
    let dir = tempfile::tempdir().unwrap();
    let res = golden(dir.path(), &["--set", "periods=1", "--charts"]);
    let spend = std::fs::read_to_string(res.join("charts/spend.svg")).unwrap();
    let line = median_line(&spend, "#1F77B4");
    assert_eq!(line.len(), 2, "{line:?}");
    assert!(line[0].0 < line[1].0 && line[0].1 == line[1].1, "{line:?}");
    assert!(spend.contains("2026-01"));
}

/// `args` with `--charts --out DIR/out` (writing `folder`): what it says,
/// its `chart` and its manifest.
fn with_charts(
    dir: &Path,
    args: &[&str],
    folder: &Path,
    chart: &str,
) -> (String, String, serde_json::Value) {
    let said = ok(&std::process::Command::new(bin())
        .args(args)
        .args(["--charts", "--out"])
        .arg(dir.join("out"))
        .output()
        .unwrap());
    let svg = std::fs::read_to_string(folder.join(chart)).unwrap();
    let man = std::fs::read_to_string(folder.join("manifest.json")).unwrap();
    (said, svg, serde_json::from_str(&man).unwrap())
}

/// `args` (a command without `--charts`, writing `folder` under its
/// `--out`) run in `dir`, then `capsim chart` on its folder, draws `chart`
/// as `svg`; and so does `merge --charts` of two shards of it.
fn drawn_later(dir: &Path, args: &[&str], folder: &str, chart: &str, svg: &str) {
    let plain = dir.join("plain");
    ok(&quietly(&plain, args));
    let drawn = plain.join(folder);
    assert!(!drawn.join(chart).exists());
    let said = ok(&std::process::Command::new(bin())
        .arg("chart")
        .arg(&drawn)
        .output()
        .unwrap());
    assert!(said.contains(chart), "{said}");
    assert_eq!(std::fs::read_to_string(drawn.join(chart)).unwrap(), svg);
    let parts = dir.join("parts");
    let shards: Vec<String> = (1..=2)
        .map(|i| {
            let part = format!("{i}/2");
            let mut a = args.to_vec();
            a.extend(["--shard", &part]);
            ok(&quietly(&parts, &a));
            let shard = parts.join(format!("{folder}.shard-{i}-of-2"));
            shard.display().to_string()
        })
        .collect();
    let merged = dir.join("merged");
    let mut m = vec!["merge", "--charts", "--out", merged.to_str().unwrap()];
    m.extend(shards.iter().map(String::as_str));
    ok(&std::process::Command::new(bin()).args(&m).output().unwrap());
    let merged = merged.join(folder).join(chart);
    assert_eq!(std::fs::read_to_string(merged).unwrap(), svg);
}

/// `compare --charts` draws `comparison.svg` beside `comparison.csv`: a
/// bar per horizon total from 0 to its paired difference (orange higher,
/// blue lower), and the cash difference per period, each period's point
/// where `comparison_periods.csv` puts it; the manifest lists it. `capsim
/// chart` on the folder draws the same file, and so does `merge --charts`
/// of its shards.
#[test]
fn compare_chart_draws_the_differences() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("golden.toml");
    std::fs::write(&base, GOLDEN).unwrap();
    let alt = dir.path().join("dear.toml");
    let dear = GOLDEN
        .replace("name = \"golden\"", "name = \"dear\"")
        .replace("price = 3.0", "price = 4.5");
    std::fs::write(&alt, dear).unwrap();
    let args = [
        "compare",
        base.to_str().unwrap(),
        alt.to_str().unwrap(),
        "--paths",
        "2048",
    ];
    let folder = dir.path().join("out/compare/golden-vs-dear");
    let (said, svg, man) = with_charts(dir.path(), &args, &folder, "comparison.svg");
    assert!(said.contains("(and comparison.svg)"), "{said}");
    assert_eq!(man["charts"][0], "comparison.svg");
    assert_eq!(man["currency"], "USD");
    let mut r = csv::Reader::from_path(folder.join("comparison.csv")).unwrap();
    let diffs: Vec<(String, f64)> = r
        .records()
        .map(|x| x.unwrap())
        .map(|x| (x[0].to_string(), x[3].parse().unwrap()))
        .collect();
    let shown = [
        "npv",
        "cash",
        "economic",
        "true_up",
        "shortfall_cost",
        "capex",
        "depreciation",
    ];
    let diffs: Vec<(String, f64)> = shown
        .iter()
        .filter_map(|m| diffs.iter().find(|d| d.0 == *m).cloned())
        .collect();
    assert!(diffs.len() >= 4, "{diffs:?}");
    let bars = bars(&svg);
    assert_eq!(bars.len(), diffs.len());
    let widest = diffs.iter().map(|d| d.1.abs()).fold(0.0, f64::max);
    let px = bars.iter().map(|b| b.0).fold(0.0, f64::max) / widest;
    for ((name, d), (w, fill)) in diffs.iter().zip(&bars) {
        assert!(
            (w - d.abs() * px).abs() <= 2.0,
            "{name}: width {w}, diff {d}"
        );
        if d.abs() * px > 2.0 {
            let want = if *d > 0.0 { "#E67814" } else { "#1F77B4" };
            assert_eq!(fill, want, "{name}: higher orange, lower blue");
        }
    }
    // The cash difference per period: one point each, where it is.
    let mut r = csv::Reader::from_path(folder.join("comparison_periods.csv")).unwrap();
    let cash: Vec<f64> = r
        .records()
        .map(|x| x.unwrap())
        .filter(|x| &x[2] == "cash")
        .map(|x| x[5].parse().unwrap())
        .collect();
    let key = "opacity=\"1\" stroke=\"#1F77B4\" stroke-width=\"2\" points=\"";
    let line = points_after(&svg, key, "the cash line");
    draws(&line, &cash);
    drawn_later(
        dir.path(),
        &args,
        "compare/golden-vs-dear",
        "comparison.svg",
        &svg,
    );
}

/// `sensitivity --charts` draws `tornado.svg` beside `tornado.csv`: a
/// bar per parameter in the file's order, from 0 to its npv at the high
/// end less at the low, orange where npv rises, blue where it falls, its
/// label the parameter and its two ends; the manifest lists it. `capsim
/// chart` on the folder draws the same file, and so does `merge --charts`
/// of its shards.
#[test]
fn sensitivity_tornado_chart_draws_the_swings() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("s.toml");
    std::fs::write(&f, GOLDEN).unwrap();
    let args = ["sensitivity", f.to_str().unwrap(), "--paths", "2048"];
    let folder = dir.path().join("out/sensitivity/golden");
    let (said, svg, man) = with_charts(dir.path(), &args, &folder, "tornado.svg");
    assert!(
        said.contains("tornado.csv, drivers.csv, tornado.svg)"),
        "{said}"
    );
    assert_eq!(man["details"]["charts"][0], "tornado.svg");
    let mut r = csv::Reader::from_path(folder.join("tornado.csv")).unwrap();
    let rows: Vec<(String, String, String, f64)> = r
        .records()
        .map(|x| x.unwrap())
        .map(|x| {
            let d = x[4].parse::<f64>().unwrap() - x[3].parse::<f64>().unwrap();
            (x[0].to_string(), x[1].to_string(), x[2].to_string(), d)
        })
        .collect();
    assert!(rows.len() > 3);
    assert!(rows.iter().any(|d| d.3 > 0.0) && rows.iter().any(|d| d.3 < 0.0));
    let bars = bars(&svg);
    assert_eq!(bars.len(), rows.len().min(20));
    let widest = rows.iter().map(|d| d.3.abs()).fold(0.0, f64::max);
    let px = bars.iter().map(|b| b.0).fold(0.0, f64::max) / widest;
    for ((name, lo, hi, d), (w, fill)) in rows.iter().zip(&bars) {
        let label = format!("{name} {lo} -&gt; {hi}");
        assert!(svg.contains(&label), "{label} labelled");
        assert!(
            (w - d.abs() * px).abs() <= 2.0,
            "{name}: width {w}, swing {d}"
        );
        let want = if *d > 0.0 { "#E67814" } else { "#1F77B4" };
        assert_eq!(fill, want, "{name}: higher orange, lower blue");
    }
    drawn_later(dir.path(), &args, "sensitivity/golden", "tornado.svg", &svg);
}

/// `sweep --charts` draws `sweep.svg` beside `sweep.csv`: the mean npv
/// along the first axis, a line per value of the other (each point where
/// `sweep.csv` puts it), and a second panel of the paired differences
/// from the reference; one panel where there is nothing to pair. `capsim
/// chart` on the folder draws the same file, and so does `merge --charts`
/// of its shards.
#[test]
fn sweep_chart_draws_the_sweep() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("s.toml");
    std::fs::write(&f, GOLDEN).unwrap();
    let args = [
        "sweep",
        f.to_str().unwrap(),
        "--set",
        "provider.azure.price=2.4:3.6:5",
        "--set",
        "agi.hazard=0.1:0.3:2",
        "--paths",
        "2048",
    ];
    let folder = dir.path().join("out/sweep/golden");
    let (said, svg, man) = with_charts(dir.path(), &args, &folder, "sweep.svg");
    assert!(said.contains("(10 grid points) and sweep.svg"), "{said}");
    assert_eq!(man["details"]["charts"][0], "sweep.svg");
    // Two panels of two lines of five points.
    assert_eq!(svg.matches("<circle").count(), 20);
    assert!(svg.contains("npv less the reference"), "paired panel");
    assert!(svg.contains("agi.hazard=0.1") && svg.contains("agi.hazard=0.3"));
    // The first line (agi.hazard 0.1): its means, left to right.
    let mut r = csv::Reader::from_path(folder.join("sweep.csv")).unwrap();
    let means: Vec<f64> = r
        .records()
        .map(|x| x.unwrap())
        .filter(|x| &x[1] == "0.1" && &x[2] == "npv")
        .map(|x| x[3].parse().unwrap())
        .collect();
    assert_eq!(means.len(), 5);
    let key = "opacity=\"1\" stroke=\"#1F77B4\" stroke-width=\"2\" points=\"";
    let line = points_after(&svg, key, "the first line");
    draws(&line, &means);
    drawn_later(dir.path(), &args, "sweep/golden", "sweep.svg", &svg);
    // Nothing to pair over seeds: one panel, one line.
    let seeds = dir.path().join("seeds");
    ok(&quietly(
        &seeds,
        &[
            "sweep",
            f.to_str().unwrap(),
            "--set",
            "simulation.seed=1:3:3",
            "--paths",
            "100",
            "--charts",
        ],
    ));
    let svg = std::fs::read_to_string(seeds.join("sweep/golden/sweep.svg")).unwrap();
    assert_eq!(svg.matches("<circle").count(), 3);
    assert!(!svg.contains("less the reference"));
}

#[test]
fn batch_index_chart_draws_the_differences() {
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("lib");
    std::fs::create_dir(&lib).unwrap();
    let named = |name: &str| GOLDEN.replace("name = \"golden\"", &format!("name = \"{name}\""));
    std::fs::write(lib.join("0.toml"), named("baseline")).unwrap();
    std::fs::write(
        lib.join("1.toml"),
        named("dear").replace("price = 3.0", "price = 4.5"),
    )
    .unwrap();
    std::fs::write(
        lib.join("2.toml"),
        named("cheap").replace("price = 3.0", "price = 2.0"),
    )
    .unwrap();
    std::fs::write(
        lib.join("3.toml"),
        named("boom").replace("growth = 0.5", "growth = 0.9"),
    )
    .unwrap();
    let out = dir.path().join("out");
    ok(&quietly(
        &out,
        &["batch", lib.to_str().unwrap(), "--charts"],
    ));
    let svg = std::fs::read_to_string(out.join("index.svg")).unwrap();
    // index.csv's economic-cost differences, in its order.
    let mut r = csv::Reader::from_path(out.join("index.csv")).unwrap();
    let diffs: Vec<(String, f64)> = r
        .records()
        .map(|x| x.unwrap())
        .filter(|x| &x[1] == "economic" && &x[0] != "baseline")
        .map(|x| (x[0].to_string(), x[6].parse().unwrap()))
        .collect();
    assert_eq!(diffs.len(), 3);
    assert!(diffs.iter().any(|d| d.1 > 0.0) && diffs.iter().any(|d| d.1 < 0.0));
    // The first panel's bars (opacity 0.7), one per scenario from the top.
    let bars: Vec<(f64, String)> = bars(&svg).into_iter().take(3).collect();
    let widest = diffs.iter().map(|d| d.1.abs()).fold(0.0, f64::max);
    let px = bars.iter().map(|b| b.0).fold(0.0, f64::max) / widest;
    for ((name, d), (w, fill)) in diffs.iter().zip(&bars) {
        assert!(svg.contains(&format!("\n{name}\n")), "{name} labelled");
        assert!(
            (w - d.abs() * px).abs() <= 2.0,
            "{name}: width {w}, diff {d}"
        );
        let want = if *d > 0.0 { "#E67814" } else { "#1F77B4" };
        assert_eq!(fill, want, "{name}: higher orange, lower blue");
    }

    // `capsim chart` on a batch's folder written without charts draws the
    // same files: each scenario's and the index chart (it was refused:
    // no manifest.json there).
    let plain = dir.path().join("plain");
    ok(&quietly(&plain, &["batch", lib.to_str().unwrap()]));
    assert!(!plain.join("index.svg").exists());
    let said = ok(&std::process::Command::new(bin())
        .arg("chart")
        .arg(&plain)
        .output()
        .unwrap());
    assert!(said.contains("index.svg"), "{said}");
    let mut files = vec![std::path::PathBuf::from("index.svg")];
    for name in ["baseline", "dear", "cheap", "boom"] {
        files.extend(CHARTS.map(|c| Path::new(name).join("charts").join(c)));
    }
    for f in files {
        let (a, b) = (
            std::fs::read(out.join(&f)).unwrap(),
            std::fs::read(plain.join(&f)).unwrap(),
        );
        assert!(a == b, "{}: chart and batch --charts differ", f.display());
    }
}
