//! Helpers shared by the integration tests.

#![allow(dead_code)]

use capsim::engine::{self, Options, RunStats};
use capsim::kernel::{simulate_path, NoObserver, Scratch};
use capsim::model::Model;
use capsim::scenario::{self, Loaded};
use std::path::Path;

pub fn load(text: &str) -> Loaded {
    scenario::load_str(Path::new("test.toml"), text, &[]).unwrap_or_else(|e| panic!("{e}"))
}

pub fn load_with(text: &str, sets: &[&str]) -> Loaded {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    scenario::load_str(Path::new("test.toml"), text, &sets).unwrap_or_else(|e| panic!("{e}"))
}

pub fn model(text: &str) -> Model {
    Model::compile(&load(text).scenario)
}

pub fn run_model(m: &Model, threads: usize, block: usize) -> RunStats {
    engine::run(
        m,
        Options {
            threads,
            block,
            ..Default::default()
        },
    )
    .expect("run")
}

pub fn run(text: &str) -> (Model, RunStats) {
    let m = model(text);
    let s = run_model(&m, 2, engine::DEFAULT_BLOCK);
    (m, s)
}

/// One path's outputs, read by metric name.
pub struct OnePath {
    pub model: Model,
    pub out: Vec<f64>,
    pub per: Vec<f64>,
}

impl OnePath {
    pub fn new(text: &str) -> OnePath {
        let model = model(text);
        let mut s = Scratch::new(&model);
        let mut out = vec![0.0; model.layout.n_path()];
        let mut per = vec![0.0; model.periods * model.layout.n_period()];
        simulate_path(&model, 0, &mut s, &mut out, &mut per, &mut NoObserver);
        OnePath { model, out, per }
    }

    pub fn total(&self, name: &str) -> f64 {
        let i = self
            .model
            .layout
            .path_names
            .iter()
            .position(|n| n == name)
            .unwrap_or_else(|| panic!("no metric {name}"));
        self.out[i]
    }

    pub fn at(&self, t: usize, name: &str) -> f64 {
        let nq = self.model.layout.n_period();
        let i = self
            .model
            .layout
            .period_names
            .iter()
            .position(|n| n == name)
            .unwrap_or_else(|| panic!("no period metric {name}"));
        self.per[t * nq + i]
    }

    pub fn series(&self, name: &str) -> Vec<f64> {
        (0..self.model.periods).map(|t| self.at(t, name)).collect()
    }
}

pub fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs()).max(1e-300)
}

#[track_caller]
pub fn assert_close(a: f64, b: f64) {
    assert!(close(a, b, 1e-9), "{a} != {b}");
}

#[track_caller]
pub fn assert_series(got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "length: {got:?} vs {want:?}");
    for (t, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            close(*g, *w, 1e-9),
            "period {t}: got {g}, want {w}\n got {got:?}\nwant {want:?}"
        );
    }
}

/// Path to the built binary.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_capsim")
}

/// `capsim ARGS --out OUT --quiet`.
pub fn quietly(out: &Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(bin())
        .args(args)
        .arg("--out")
        .arg(out)
        .arg("--quiet")
        .output()
        .unwrap()
}

/// A numeric CSV such as `paths.csv`: its header and its rows.
pub struct NumericCsv {
    pub header: Vec<String>,
    pub rows: Vec<Vec<f64>>,
}

impl NumericCsv {
    pub fn read(path: &std::path::Path) -> NumericCsv {
        let text =
            std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut lines = text.lines();
        let header = lines
            .next()
            .expect("header")
            .split(',')
            .map(String::from)
            .collect();
        let rows = lines
            .map(|l| l.split(',').map(|x| x.parse().expect("a number")).collect())
            .collect();
        NumericCsv { header, rows }
    }

    /// Position of a column, by name.
    pub fn col(&self, name: &str) -> usize {
        self.header
            .iter()
            .position(|c| c == name)
            .unwrap_or_else(|| panic!("no column {name}"))
    }
}
