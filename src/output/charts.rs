//! Charts of a result folder (SVG, drawn with plotters from the folder's
//! own CSV files, so a chart shows exactly the numbers beside it):
//!
//! - `spend.svg`: cash per period, median with its 25-75% and 5-95% bands
//!   and the mean;
//! - `demand.svg`: demand and served GPUs per period, medians and 5-95%
//!   bands (the gap is the shortfall);
//! - `providers.svg`: each provider's cash over the horizon, mean with its
//!   5-95% range;
//! - `totals.svg`: the horizon totals (cash, NPV, economic cost, true-ups,
//!   shortfall cost) as boxes: 5, 25, 50, 75 and 95% and the mean.

use crate::error::{Error, InputError, Origin, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The files written into `<result>/charts/`.
pub const CHARTS: [&str; 4] = ["spend.svg", "demand.svg", "providers.svg", "totals.svg"];
/// The same, as a manifest lists them.
pub const FILES: [&str; 4] = [
    "charts/spend.svg",
    "charts/demand.svg",
    "charts/providers.svg",
    "charts/totals.svg",
];

const SIZE: (u32, u32) = (900, 520);
const BLUE: RGBColor = RGBColor(31, 119, 180);
const ORANGE: RGBColor = RGBColor(230, 120, 20);
const GREY: RGBColor = RGBColor(90, 90, 90);

/// The horizon totals `totals.svg` shows, in this order, when present.
const TOTALS: [(&str, &str); 5] = [
    ("cash", "cash"),
    ("npv", "NPV"),
    ("economic", "economic cost"),
    ("true_up", "true-ups"),
    ("shortfall_cost", "shortfall cost"),
];

/// One row of `periods.csv`.
#[derive(Debug, Clone)]
struct PeriodRow {
    date: String,
    mean: f64,
    /// p5, p25, p50, p75, p95.
    q: [f64; 5],
}

/// Bad content in one of the folder's files (exit code 2).
fn bad(file: &Path, line: Option<u64>, message: impl Into<String>) -> Error {
    Error::from(InputError {
        origin: match line {
            Some(line) => Origin::File {
                file: file.to_path_buf(),
                line: line as usize,
                column: 1,
            },
            None => Origin::FileOnly {
                file: file.to_path_buf(),
            },
        },
        field: String::new(),
        message: message.into(),
        hint: None,
    })
}

/// The rows of `file`, each as its header's columns `want` in order, with
/// the first `text` columns kept as text, the rest
/// parsed as numbers.
fn read(file: &Path, want: &[&str], text: usize) -> Result<Vec<(Vec<String>, Vec<f64>)>> {
    let bytes = std::fs::read(file).map_err(|e| {
        bad(
            file,
            None,
            format!("cannot read it ({e}); expected a result folder written by capsim run"),
        )
    })?;
    // The line a record starts on. On CRLF files (capsim writes them) csv
    // places a record at the `\n` ending the line before, and counts its
    // lines one short: skip line ends, then count them.
    let line_at = |byte: u64| {
        let mut at = (byte as usize).min(bytes.len());
        while at < bytes.len() && matches!(bytes[at], b'\r' | b'\n') {
            at += 1;
        }
        1 + bytes[..at].iter().filter(|&&b| b == b'\n').count() as u64
    };
    let mut r = csv::Reader::from_reader(&bytes[..]);
    let head = r
        .headers()
        .map_err(|e| bad(file, Some(1), format!("not a CSV header: {e}")))?
        .clone();
    let cols: Vec<usize> = want
        .iter()
        .map(|w| {
            head.iter().position(|h| h == *w).ok_or_else(|| {
                bad(
                    file,
                    Some(1),
                    format!("no column `{w}`; expected the columns capsim writes"),
                )
            })
        })
        .collect::<Result<_>>()?;
    let mut out = Vec::new();
    for rec in r.records() {
        let rec = rec.map_err(|e| {
            let line = e.position().map(|p| line_at(p.byte()));
            bad(file, line, format!("not a CSV row: {e}"))
        })?;
        let line = || rec.position().map_or(0, |p| line_at(p.byte()));
        let field = |i: usize| rec.get(cols[i]).unwrap_or("");
        let words = (0..text).map(|i| field(i).to_string()).collect();
        let numbers = (text..cols.len())
            .map(|i| {
                field(i).parse::<f64>().map_err(|_| {
                    bad(
                        file,
                        Some(line()),
                        format!(
                            "column `{}`: found `{}`, expected a number",
                            want[i],
                            field(i)
                        ),
                    )
                })
            })
            .collect::<Result<_>>()?;
        out.push((words, numbers));
    }
    Ok(out)
}

/// Writes [`CHARTS`] into `<dir>/charts/` from `dir`'s `periods.csv`,
/// `providers.csv` and `summary.csv`; `name` titles them and `currency`
/// labels money. Returns the charts' folder.
pub fn write_charts(dir: &Path, name: &str, currency: &str) -> Result<PathBuf> {
    let periods_file = dir.join("periods.csv");
    let mut periods: BTreeMap<String, Vec<PeriodRow>> = BTreeMap::new();
    for (w, x) in read(
        &periods_file,
        &["metric", "date", "mean", "p5", "p25", "p50", "p75", "p95"],
        2,
    )? {
        let rows = periods.entry(w[0].clone()).or_default();
        rows.push(PeriodRow {
            date: w[1].clone(),
            mean: x[0],
            q: [x[1], x[2], x[3], x[4], x[5]],
        });
    }
    let providers = read(
        &dir.join("providers.csv"),
        &["provider", "metric", "mean", "p5", "p95"],
        2,
    )?;
    let summary = read(
        &dir.join("summary.csv"),
        &["metric", "mean", "p5", "p25", "p50", "p75", "p95"],
        1,
    )?;
    let series = |m: &str| {
        periods
            .get(m)
            .filter(|r| !r.is_empty())
            .ok_or_else(|| bad(&periods_file, None, format!("no rows of metric `{m}`")))
    };
    let (cash, demand, served) = (series("cash")?, series("demand")?, series("served")?);
    if demand.len() != cash.len() || served.len() != cash.len() {
        return Err(bad(
            &periods_file,
            None,
            "metrics `cash`, `demand` and `served` have different numbers of periods",
        ));
    }

    let out = dir.join("charts");
    std::fs::create_dir_all(&out)
        .map_err(|e| Error::io(format!("cannot create {}", out.display()), e))?;
    let money = Unit::money(currency);
    let gpus = Unit::Count("GPUs");
    svg(&out.join(CHARTS[0]), |root| {
        fan(
            root,
            &format!("{name}: cash per period ({currency})"),
            &money,
            &[(cash, "cash", BLUE, true)],
        )
    })?;
    svg(&out.join(CHARTS[1]), |root| {
        fan(
            root,
            &format!("{name}: demand and served GPUs per period"),
            &gpus,
            &[
                (demand, "demand", ORANGE, false),
                (served, "served", BLUE, false),
            ],
        )
    })?;
    let bars: Vec<(String, f64, f64, f64)> = providers
        .iter()
        .filter(|(w, _)| w[1] == "cash")
        .map(|(w, x)| (w[0].clone(), x[0], x[1], x[2]))
        .collect();
    svg(&out.join(CHARTS[2]), |root| {
        provider_bars(
            root,
            &format!("{name}: cash by provider over the horizon ({currency})"),
            &money,
            &bars,
        )
    })?;
    let boxes: Vec<(&str, &[f64])> = TOTALS
        .iter()
        .filter_map(|(m, label)| {
            summary
                .iter()
                .find(|(w, _)| w[0] == *m)
                .map(|(_, x)| (*label, &x[..]))
        })
        .collect();
    svg(&out.join(CHARTS[3]), |root| {
        totals(
            root,
            &format!("{name}: totals over the horizon ({currency})"),
            &money,
            &boxes,
        )
    })?;
    Ok(out)
}

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
type Drawn = std::result::Result<(), Box<dyn std::error::Error + 'static>>;

/// Draws `file` ([`SIZE`]) by `draw` on a white page.
fn svg(file: &Path, draw: impl FnOnce(&Area<'_>) -> Drawn) -> Result<()> {
    svg_sized(file, SIZE, draw)
}

/// Draws `file`, `size` pixels, by `draw` on a white page.
fn svg_sized(file: &Path, size: (u32, u32), draw: impl FnOnce(&Area<'_>) -> Drawn) -> Result<()> {
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, size).into_drawing_area();
        let drawn = root
            .fill(&WHITE)
            .map_err(|e| e.into())
            .and_then(|()| draw(&root))
            .and_then(|()| root.present().map_err(|e| e.into()));
        drawn.map_err(|e| Error::Other(format!("cannot draw {}: {e}", file.display())))?;
    }
    std::fs::write(file, text).map_err(|e| Error::io(format!("cannot write {}", file.display()), e))
}

/// How an axis labels its values.
enum Unit {
    Money(&'static str, String),
    Count(&'static str),
}

impl Unit {
    fn money(currency: &str) -> Unit {
        Unit::Money(
            if currency == "USD" { "$" } else { "" },
            currency.to_string(),
        )
    }

    fn tick(&self, v: f64) -> String {
        let (scale, suffix) = super::scale(v);
        let x = v / scale;
        let digits = if x.abs() >= 100.0 || x == x.round() {
            0
        } else if x.abs() >= 10.0 {
            1
        } else {
            2
        };
        let sign = if v < 0.0 { "-" } else { "" };
        let prefix = match self {
            Unit::Money(p, _) => *p,
            Unit::Count(_) => "",
        };
        format!("{sign}{prefix}{:.digits$}{suffix}", x.abs())
    }

    fn name(&self) -> &str {
        match self {
            Unit::Money(_, c) => c,
            Unit::Count(c) => c,
        }
    }
}

/// Range of `values` with a margin, and zero included.
fn span(values: impl Iterator<Item = f64>) -> std::ops::Range<f64> {
    let (lo, hi) = values.fold((0.0f64, 0.0f64), |(l, h), v| (l.min(v), h.max(v)));
    let pad = if hi > lo { 0.05 * (hi - lo) } else { 1.0 };
    (if lo < 0.0 { lo - pad } else { 0.0 })..hi + pad
}

/// Range of `values` with a margin, zero included only if between them
/// (levels far from zero, whose differences would look flat from it).
fn tight_span(values: impl Iterator<Item = f64>) -> std::ops::Range<f64> {
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
        (l.min(v), h.max(v))
    });
    if !(lo.is_finite() && hi.is_finite()) {
        return 0.0..1.0;
    }
    let pad = if hi > lo {
        0.05 * (hi - lo)
    } else {
        (0.05 * lo.abs()).max(1.0)
    };
    lo - pad..hi + pad
}

/// Per-period fans: for each series, its 5-95% band (and with `inner`, its
/// 25-75% band and its mean), and its median.
fn fan(
    root: &Area<'_>,
    title: &str,
    unit: &Unit,
    series: &[(&Vec<PeriodRow>, &str, RGBColor, bool)],
) -> Drawn {
    let rows = series[0].0;
    let n = rows.len();
    let y = span(
        series
            .iter()
            .flat_map(|(r, ..)| r.iter().flat_map(|p| p.q.into_iter().chain([p.mean]))),
    );
    // Each period at its index; a single period as a short level segment.
    let at: Vec<f64> = if n == 1 {
        vec![-0.3, 0.3]
    } else {
        (0..n).map(|t| t as f64).collect()
    };
    let x = if n == 1 {
        -0.5..0.5
    } else {
        0.0..(n - 1) as f64
    };
    let points = |rows: &'_ Vec<PeriodRow>| -> Vec<(f64, PeriodRow)> {
        let one = n == 1;
        at.iter()
            .enumerate()
            .map(|(i, &x)| (x, rows[if one { 0 } else { i }].clone()))
            .collect()
    };
    let dates: Vec<String> = rows.iter().map(|r| r.date.clone()).collect();
    let mut chart = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 20))
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(80)
        .build_cartesian_2d(x, y)?;
    chart
        .configure_mesh()
        .x_labels(n.min(12))
        .x_label_formatter(&|x| {
            whole(*x)
                .and_then(|i| dates.get(i))
                .cloned()
                .unwrap_or_default()
        })
        .y_label_formatter(&|v| unit.tick(*v))
        .x_desc("period")
        .y_desc(unit.name())
        .light_line_style(WHITE)
        .draw()?;
    // The bands between two of `PeriodRow::q`'s quantiles (5, 25, 50, 75,
    // 95%), outer first, with their fill's opacity.
    let bands = [(0, 4, 0.15, "5-95%"), (1, 3, 0.3, "25-75%")];
    for &(rows, label, color, inner) in series {
        let pts = points(rows);
        for &(lo, hi, alpha, name) in &bands[..if inner { 2 } else { 1 }] {
            let up = pts.iter().map(|(x, r)| (*x, r.q[hi]));
            let down = pts.iter().rev().map(|(x, r)| (*x, r.q[lo]));
            let fill = color.mix(alpha).filled();
            chart
                .draw_series(std::iter::once(Polygon::new(
                    up.chain(down).collect::<Vec<_>>(),
                    fill,
                )))?
                .label(format!("{label}: {name}"))
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 20, y + 5)], fill));
        }
        chart
            .draw_series(LineSeries::new(
                pts.iter().map(|(x, r)| (*x, r.q[2])),
                color.stroke_width(2),
            ))?
            .label(format!("{label}: median"))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
        if inner {
            chart
                .draw_series(DashedLineSeries::new(
                    pts.iter().map(|(x, r)| (*x, r.mean)),
                    6,
                    4,
                    GREY.stroke_width(1),
                ))?
                .label(format!("{label}: mean"))
                .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], GREY));
        }
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.8))
        .border_style(GREY)
        .draw()?;
    Ok(())
}

/// `k` as an index, if it is a whole number (a tick at a category's
/// centre); `None` for ticks between categories.
fn whole(k: f64) -> Option<usize> {
    let i = k.round();
    ((k - i).abs() < 1e-6 && i >= 0.0).then_some(i as usize)
}

/// The category whose horizontal bar is centred at `y` when `n` bars are
/// stacked from the top (bar `i` at `n - i - 0.5`).
fn from_top(n: usize, y: f64) -> Option<usize> {
    whole(n as f64 - y - 0.5)
}

/// Horizontal bars of each provider's mean, with its 5-95% range.
fn provider_bars(
    root: &Area<'_>,
    title: &str,
    unit: &Unit,
    bars: &[(String, f64, f64, f64)],
) -> Drawn {
    let style = BarStyle {
        title,
        font: 20,
        margin: 15,
        x_label_area: 40,
        label_area: 110,
        x_labels: None,
        x_desc: Some(format!("{}: mean, whiskers 5-95%", unit.name())),
        caps: true,
        zero_line: false,
    };
    let bars: Vec<HBar> = bars
        .iter()
        .map(|(name, mean, p5, p95)| HBar {
            name: name.clone(),
            value: *mean,
            lo: *p5,
            hi: *p95,
            fill: BLUE.mix(0.6).filled(),
        })
        .collect();
    horizontal_bars(root, &style, unit, &bars)
}

/// One bar of [`horizontal_bars`]: from 0 to `value`, a whisker from `lo`
/// to `hi`.
struct HBar {
    name: String,
    value: f64,
    lo: f64,
    hi: f64,
    fill: ShapeStyle,
}

/// How [`horizontal_bars`] lays a chart out.
struct BarStyle<'a> {
    title: &'a str,
    font: u32,
    margin: u32,
    x_label_area: u32,
    label_area: u32,
    /// Ticks on the value axis (`None`: plotters' default).
    x_labels: Option<usize>,
    x_desc: Option<String>,
    /// End caps on the whiskers.
    caps: bool,
    /// A vertical line at 0 (for bars of both signs).
    zero_line: bool,
}

/// Horizontal bars, the first at the top, each labelled with its name.
fn horizontal_bars(root: &Area<'_>, style: &BarStyle<'_>, unit: &Unit, bars: &[HBar]) -> Drawn {
    let n = bars.len().max(1);
    let x = span(bars.iter().flat_map(|b| [b.value, b.lo, b.hi]));
    let mut chart = ChartBuilder::on(root)
        .caption(style.title, ("sans-serif", style.font))
        .margin(style.margin)
        .x_label_area_size(style.x_label_area)
        .y_label_area_size(style.label_area)
        .build_cartesian_2d(x, 0f64..n as f64)?;
    let label = |y: &f64| {
        from_top(n, *y)
            .and_then(|i| bars.get(i))
            .map(|b| b.name.clone())
            .unwrap_or_default()
    };
    let tick = |v: &f64| unit.tick(*v);
    let mut mesh = chart.configure_mesh();
    mesh.y_labels(n * 2 + 1)
        .y_label_formatter(&label)
        .x_label_formatter(&tick);
    if let Some(k) = style.x_labels {
        mesh.x_labels(k);
    }
    if let Some(d) = &style.x_desc {
        mesh.x_desc(d.as_str());
    }
    mesh.disable_y_mesh().light_line_style(WHITE).draw()?;
    for (i, b) in bars.iter().enumerate() {
        let c = n as f64 - i as f64 - 0.5;
        chart.draw_series(std::iter::once(Rectangle::new(
            [(0.0, c - 0.3), (b.value, c + 0.3)],
            b.fill,
        )))?;
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(b.lo, c), (b.hi, c)],
            GREY.stroke_width(2),
        )))?;
        if style.caps {
            for v in [b.lo, b.hi] {
                chart.draw_series(std::iter::once(PathElement::new(
                    vec![(v, c - 0.12), (v, c + 0.12)],
                    GREY.stroke_width(2),
                )))?;
            }
        }
    }
    if style.zero_line {
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(0.0, 0.0), (0.0, n as f64)],
            GREY.stroke_width(1),
        )))?;
    }
    Ok(())
}

/// Boxes of horizon totals: `x` is mean, p5, p25, p50, p75, p95.
fn totals(root: &Area<'_>, title: &str, unit: &Unit, boxes: &[(&str, &[f64])]) -> Drawn {
    let n = boxes.len().max(1);
    let y = span(boxes.iter().flat_map(|(_, x)| x.iter().copied()));
    let mut chart = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 20))
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(80)
        .build_cartesian_2d(0f64..n as f64, y)?;
    chart
        .configure_mesh()
        .x_labels(n * 2 + 1)
        .x_label_formatter(&|x| {
            whole(x - 0.5)
                .and_then(|i| boxes.get(i))
                .map(|b| b.0.to_string())
                .unwrap_or_default()
        })
        .y_label_formatter(&|v| unit.tick(*v))
        .y_desc(format!(
            "{}: box 25-75%, whiskers 5-95%, line median, dot mean",
            unit.name()
        ))
        .disable_x_mesh()
        .light_line_style(WHITE)
        .draw()?;
    for (i, (_, x)) in boxes.iter().enumerate() {
        let c = i as f64 + 0.5;
        let (mean, p5, p25, p50, p75, p95) = (x[0], x[1], x[2], x[3], x[4], x[5]);
        chart.draw_series(std::iter::once(Rectangle::new(
            [(c - 0.25, p25), (c + 0.25, p75)],
            BLUE.mix(0.3).filled(),
        )))?;
        for (a, b) in [(p5, p25), (p75, p95)] {
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(c, a), (c, b)],
                GREY.stroke_width(2),
            )))?;
        }
        for (v, w) in [(p5, 0.1), (p95, 0.1), (p50, 0.25)] {
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(c - w, v), (c + w, v)],
                BLUE.stroke_width(2),
            )))?;
        }
        chart.draw_series(std::iter::once(Circle::new((c, mean), 4, GREY.filled())))?;
    }
    Ok(())
}

/// The index chart `batch --charts` writes beside `index.csv`.
pub const INDEX_CHART: &str = "index.svg";

/// Draws `batch`'s `index.csv` as [`INDEX_CHART`] in the same folder:
/// per scenario other than `benchmark`, its paired difference from the
/// benchmark in economic cost, NPV and cash (one panel each), with 95%
/// whiskers (1.96 standard errors of the difference).
pub fn write_index_chart(index: &Path, benchmark: &str, currency: &str) -> Result<PathBuf> {
    let rows = read(
        index,
        &["scenario", "metric", "diff_vs_benchmark", "diff_stderr"],
        2,
    )?;
    let mut names: Vec<&str> = Vec::new();
    for (w, _) in &rows {
        if w[0] != benchmark && !names.contains(&w[0].as_str()) {
            names.push(&w[0]);
        }
    }
    let panels: Vec<(&str, Vec<(f64, f64)>)> = [
        ("economic", "economic cost"),
        ("npv", "NPV"),
        ("cash", "cash"),
    ]
    .iter()
    .map(|&(metric, label)| {
        let diffs = names
            .iter()
            .map(|n| {
                rows.iter()
                    .find(|(w, _)| w[0] == *n && w[1] == metric)
                    .map_or((0.0, 0.0), |(_, x)| (x[0], x[1]))
            })
            .collect();
        (label, diffs)
    })
    .collect();
    let file = index.with_file_name(INDEX_CHART);
    let height = 140 + 45 * names.len().max(1) as u32;
    let unit = Unit::money(currency);
    svg_sized(&file, (1200, height), |root| {
        let root = root.titled(
            &format!(
                "difference from {benchmark} ({currency}), paired paths: bar the mean (orange higher, blue lower), whiskers 95%"
            ),
            ("sans-serif", 20),
        )?;
        for (area, (label, diffs)) in root.split_evenly((1, panels.len())).iter().zip(&panels) {
            difference_bars(area, label, &unit, &names, diffs)?;
        }
        Ok(())
    })?;
    Ok(file)
}

/// The chart `sensitivity --charts` writes beside `tornado.csv`.
pub const TORNADO_CHART: &str = "tornado.svg";

/// The most parameters [`TORNADO_CHART`] draws (the file has them all).
const TORNADO_BARS: usize = 20;

/// Draws a sensitivity analysis's `tornado.csv` as [`TORNADO_CHART`] in
/// the same folder: per parameter, in the file's order (the largest
/// swing first; the first [`TORNADO_BARS`]), a bar from 0 to its npv at
/// the high end less its npv at the low end (orange where npv rises with
/// the parameter, blue where it falls), whiskers at 95% (1.96 paired
/// standard errors of the swing).
pub fn write_tornado_chart(tornado: &Path, currency: &str) -> Result<PathBuf> {
    let rows = read(
        tornado,
        &[
            "parameter",
            "low_value",
            "high_value",
            "npv_at_low",
            "npv_at_high",
            "swing_stderr",
        ],
        3,
    )?;
    let rows = &rows[..rows.len().min(TORNADO_BARS)];
    let names: Vec<String> = rows
        .iter()
        .map(|(w, _)| format!("{} {} -> {}", w[0], w[1], w[2]))
        .collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let diffs: Vec<(f64, f64)> = rows.iter().map(|(_, x)| (x[1] - x[0], x[2])).collect();
    let file = tornado.with_file_name(TORNADO_CHART);
    let longest = names.iter().map(|n| n.chars().count()).max().unwrap_or(0);
    let label_area = (60 + 7 * longest as u32).clamp(200, 560);
    let height = 140 + 32 * names.len().max(1) as u32;
    let unit = Unit::money(currency);
    svg_sized(&file, (700 + label_area, height), |root| {
        let style = BarStyle {
            title: &format!(
                "npv at high less npv at low ({currency}), paired paths: orange higher, blue \
                 lower, whiskers 95%"
            ),
            font: 18,
            margin: 15,
            x_label_area: 35,
            label_area,
            x_labels: Some(6),
            x_desc: None,
            caps: true,
            zero_line: true,
        };
        let bars: Vec<HBar> = names
            .iter()
            .zip(&diffs)
            .map(|(name, &(d, se))| HBar {
                name: name.to_string(),
                value: d,
                lo: d - 1.96 * se,
                hi: d + 1.96 * se,
                fill: (if d > 0.0 { ORANGE } else { BLUE }).mix(0.7).filled(),
            })
            .collect();
        horizontal_bars(root, &style, &unit, &bars)
    })?;
    Ok(file)
}

/// The chart `sweep --charts` writes beside `sweep.csv`.
pub const SWEEP_CHART: &str = "sweep.svg";

/// The most lines a panel of [`SWEEP_CHART`] draws.
const SWEEP_LINES: usize = 6;

/// One point of a line chart ([`sweep_panel`]): its coordinates, a value
/// with its band's ends (a sweep's mean npv, 5% and 95%), and a second
/// value with its band's ends (its difference from the reference and its
/// 95% interval, if paired).
struct Point {
    at: Vec<String>,
    mean: f64,
    p5: f64,
    p95: f64,
    diff: Option<(f64, f64, f64)>,
}

/// Draws a sweep's `sweep.csv` as [`SWEEP_CHART`] in the same folder: the
/// mean npv (line) and its 5-95% band against the first axis's values,
/// one line per combination of the other axes' values (the first
/// [`SWEEP_LINES`]); beside it, where the points are paired, each one's
/// difference from the reference point with its 95% interval.
pub fn write_sweep_chart(sweep: &Path, currency: &str) -> Result<PathBuf> {
    let bytes = std::fs::read(sweep).map_err(|e| {
        bad(
            sweep,
            None,
            format!("cannot read it ({e}); expected a sweep's folder written by capsim sweep"),
        )
    })?;
    let mut r = csv::Reader::from_reader(&bytes[..]);
    let head = r
        .headers()
        .map_err(|e| bad(sweep, Some(1), format!("not a CSV header: {e}")))?
        .clone();
    let col = |name: &str| {
        head.iter().position(|h| h == name).ok_or_else(|| {
            bad(
                sweep,
                Some(1),
                format!("no column `{name}`; expected the columns capsim sweep writes"),
            )
        })
    };
    let axes = col("metric")?;
    let [mean, p5, p95, diff, lo, hi] = [
        "mean",
        "p5",
        "p95",
        "diff_vs_reference",
        "diff_ci_low",
        "diff_ci_high",
    ]
    .map(col);
    let (mean, p5, p95, diff, lo, hi) = (mean?, p5?, p95?, diff?, lo?, hi?);
    if axes == 0 {
        return Err(bad(
            sweep,
            Some(1),
            "no swept parameter's column before `metric`",
        ));
    }
    let mut points = Vec::new();
    for (k, rec) in r.records().enumerate() {
        let rec = rec.map_err(|e| bad(sweep, None, format!("not a CSV row: {e}")))?;
        if rec.get(axes) != Some("npv") {
            continue;
        }
        let number = |i: usize| -> Result<Option<f64>> {
            match rec.get(i).unwrap_or("") {
                "" => Ok(None),
                v => v.parse().map(Some).map_err(|_| {
                    bad(
                        sweep,
                        Some(k as u64 + 2),
                        format!("column `{}`: found `{v}`, expected a number", &head[i]),
                    )
                }),
            }
        };
        let need = |i: usize| {
            number(i)?.ok_or_else(|| {
                bad(
                    sweep,
                    Some(k as u64 + 2),
                    format!("column `{}` is empty", &head[i]),
                )
            })
        };
        let d = match (number(diff)?, number(lo)?, number(hi)?) {
            (Some(d), Some(l), Some(h)) => Some((d, l, h)),
            _ => None,
        };
        points.push(Point {
            at: (0..axes).map(|i| rec[i].to_string()).collect(),
            mean: need(mean)?,
            p5: need(p5)?,
            p95: need(p95)?,
            diff: d,
        });
    }
    if points.is_empty() {
        return Err(bad(sweep, None, "no rows of metric `npv`"));
    }
    // The first axis's values in order, and each line's points: one line
    // per combination of the other axes' values, in the file's order.
    let mut xs: Vec<&str> = Vec::new();
    let mut lines: Vec<(String, Vec<(usize, &Point)>)> = Vec::new();
    for p in &points {
        let x = match xs.iter().position(|v| *v == p.at[0]) {
            Some(i) => i,
            None => {
                xs.push(&p.at[0]);
                xs.len() - 1
            }
        };
        let rest: Vec<String> = head
            .iter()
            .zip(&p.at)
            .skip(1)
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let name = rest.join(" ");
        match lines.iter_mut().find(|(n, _)| *n == name) {
            Some((_, l)) => l.push((x, p)),
            None => lines.push((name, vec![(x, p)])),
        }
    }
    let all = lines.len();
    lines.truncate(SWEEP_LINES);
    let paired = points.iter().any(|p| p.diff.is_some());
    let file = sweep.with_file_name(SWEEP_CHART);
    let unit = Unit::money(currency);
    let key = &head[0];
    let shown = if all > SWEEP_LINES {
        format!(", the first {SWEEP_LINES} of {all} lines")
    } else {
        String::new()
    };
    let width = if paired { 1400 } else { 800 };
    svg_sized(&file, (width, 560), |root| {
        let panels = root.split_evenly((1, if paired { 2 } else { 1 }));
        sweep_panel(
            &panels[0],
            &format!("npv ({currency}) by {key}: mean, 5-95% band{shown}"),
            &unit,
            &xs,
            &lines,
            false,
            |p| Some((p.mean, p.p5, p.p95)),
        )?;
        if paired {
            sweep_panel(
                &panels[1],
                &format!("npv less the reference's ({currency}), paired paths: 95% interval"),
                &unit,
                &xs,
                &lines,
                true,
                |p| p.diff,
            )?;
        }
        Ok(())
    })?;
    Ok(file)
}

/// Colours of a sweep chart's lines, in order.
const LINE_COLORS: [RGBColor; SWEEP_LINES] = [
    BLUE,
    ORANGE,
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

/// One panel of the sweep chart: per line, `value(point)` (a value and
/// its band's ends) at each of its points' first-axis positions `xs`; the
/// value axis from zero if `zero` (differences), else around the values
/// (levels).
fn sweep_panel(
    root: &Area<'_>,
    title: &str,
    unit: &Unit,
    xs: &[&str],
    lines: &[(String, Vec<(usize, &Point)>)],
    zero: bool,
    value: impl Fn(&Point) -> Option<(f64, f64, f64)>,
) -> Drawn {
    let n = xs.len();
    let values = lines
        .iter()
        .flat_map(|(_, l)| l.iter().filter_map(|(_, p)| value(p)))
        .flat_map(|(v, a, b)| [v, a, b]);
    let y = if zero {
        span(values)
    } else {
        tight_span(values)
    };
    let x = if n == 1 {
        -0.5..0.5
    } else {
        -0.2..(n - 1) as f64 + 0.2
    };
    let mut chart = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 18))
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(80)
        .build_cartesian_2d(x, y)?;
    chart
        .configure_mesh()
        .x_labels(n.min(11))
        .x_label_formatter(&|x| {
            whole(*x)
                .and_then(|i| xs.get(i))
                .map_or(String::new(), |v| v.to_string())
        })
        .y_label_formatter(&|v| unit.tick(*v))
        .light_line_style(WHITE)
        .draw()?;
    for (k, (name, pts)) in lines.iter().enumerate() {
        let color = LINE_COLORS[k % LINE_COLORS.len()];
        let vals: Vec<(f64, (f64, f64, f64))> = pts
            .iter()
            .filter_map(|(x, p)| value(p).map(|v| (*x as f64, v)))
            .collect();
        if vals.len() > 1 {
            let up = vals.iter().map(|(x, v)| (*x, v.2));
            let down = vals.iter().rev().map(|(x, v)| (*x, v.1));
            chart.draw_series(std::iter::once(Polygon::new(
                up.chain(down).collect::<Vec<_>>(),
                color.mix(0.12).filled(),
            )))?;
        }
        for (x, v) in &vals {
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(*x, v.1), (*x, v.2)],
                color.mix(0.6).stroke_width(2),
            )))?;
        }
        let drawn = chart.draw_series(
            LineSeries::new(vals.iter().map(|(x, v)| (*x, v.0)), color.stroke_width(2))
                .point_size(3),
        )?;
        if !name.is_empty() {
            drawn.label(name.as_str()).legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
        }
    }
    if lines.iter().any(|(n, _)| !n.is_empty()) {
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.8))
            .border_style(GREY)
            .draw()?;
    }
    Ok(())
}

/// The chart `compare --charts` writes beside `comparison.csv`.
pub const COMPARE_CHART: &str = "comparison.svg";

/// The horizon totals the comparison chart shows, in this order, when
/// present (money; the file has every metric).
const COMPARED: [&str; 7] = [
    "npv",
    "cash",
    "economic",
    "true_up",
    "shortfall_cost",
    "capex",
    "depreciation",
];

/// Draws a comparison's `comparison.csv` (and `comparison_periods.csv`
/// beside it) as [`COMPARE_CHART`] in the same folder: the alternative
/// less the base, paired path by path, for each horizon total of
/// [`COMPARED`] (a bar, orange higher, blue lower, whiskers its 95%
/// interval); beside it, where the two share their periods, the cash
/// difference period by period with its 95% band.
pub fn write_compare_chart(
    comparison: &Path,
    base: &str,
    alt: &str,
    currency: &str,
) -> Result<PathBuf> {
    let rows = read(
        comparison,
        &["metric", "diff_mean", "diff_ci_low", "diff_ci_high"],
        1,
    )?;
    let bars: Vec<HBar> = COMPARED
        .iter()
        .filter_map(|m| rows.iter().find(|(w, _)| w[0] == *m))
        .map(|(w, x)| HBar {
            name: w[0].clone(),
            value: x[0],
            lo: x[1],
            hi: x[2],
            fill: (if x[0] > 0.0 { ORANGE } else { BLUE }).mix(0.7).filled(),
        })
        .collect();
    let periods_file = comparison.with_file_name("comparison_periods.csv");
    let periods = read(
        &periods_file,
        &["metric", "date", "diff_mean", "diff_stderr"],
        2,
    )?;
    let cash: Vec<(&str, Point)> = periods
        .iter()
        .filter(|(w, _)| w[0] == "cash")
        .map(|(w, x)| {
            let half = 1.96 * x[1];
            let p = Point {
                at: Vec::new(),
                mean: x[0],
                p5: x[0] - half,
                p95: x[0] + half,
                diff: None,
            };
            (w[1].as_str(), p)
        })
        .collect();
    let dates: Vec<&str> = cash.iter().map(|(d, _)| *d).collect();
    let line = vec![(
        String::new(),
        cash.iter()
            .enumerate()
            .map(|(i, (_, p))| (i, p))
            .collect::<Vec<_>>(),
    )];
    let file = comparison.with_file_name(COMPARE_CHART);
    let unit = Unit::money(currency);
    let by_period = !cash.is_empty();
    let width = if by_period { 1400 } else { 760 };
    svg_sized(&file, (width, 520), |root| {
        let panels = root.split_evenly((1, if by_period { 2 } else { 1 }));
        let style = BarStyle {
            title: &format!("{alt} less {base} ({currency}), paired paths: whiskers 95%"),
            font: 18,
            margin: 15,
            x_label_area: 35,
            label_area: 120,
            x_labels: Some(6),
            x_desc: None,
            caps: true,
            zero_line: true,
        };
        horizontal_bars(&panels[0], &style, &unit, &bars)?;
        if by_period {
            sweep_panel(
                &panels[1],
                &format!("cash per period, {alt} less {base} ({currency}): 95% band"),
                &unit,
                &dates,
                &line,
                true,
                |p| Some((p.mean, p.p5, p.p95)),
            )?;
        }
        Ok(())
    })?;
    Ok(file)
}

/// One panel of the index chart: a bar per scenario from 0 to its mean
/// difference, whiskers at +-1.96 standard errors.
fn difference_bars(
    root: &Area<'_>,
    title: &str,
    unit: &Unit,
    names: &[&str],
    diffs: &[(f64, f64)],
) -> Drawn {
    let style = BarStyle {
        title,
        font: 16,
        margin: 10,
        x_label_area: 35,
        label_area: 130,
        x_labels: Some(5),
        x_desc: None,
        caps: false,
        zero_line: true,
    };
    let bars: Vec<HBar> = names
        .iter()
        .zip(diffs)
        .map(|(name, &(d, se))| HBar {
            name: name.to_string(),
            value: d,
            lo: d - 1.96 * se,
            hi: d + 1.96 * se,
            fill: (if d > 0.0 { ORANGE } else { BLUE }).mix(0.7).filled(),
        })
        .collect();
    horizontal_bars(root, &style, unit, &bars)
}
