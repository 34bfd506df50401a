//! A pinned summary for a small scenario that exercises every mechanism:
//! any change in the numbers shows up here and must be intended.
//! Regenerate with `CAPSIM_BLESS=1 cargo test golden`.

use crate::util::*;

const SCENARIO: &str = include_str!("data/golden.toml");

#[test]
fn golden_summary_is_pinned() {
    let m = model(SCENARIO);
    let st = run_model(&m, 2, 1024);
    let got = String::from_utf8(capsim::output::summary_csv(&m, &st).unwrap()).unwrap();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/summary.csv");
    if std::env::var_os("CAPSIM_BLESS").is_some() {
        std::fs::write(path, &got).unwrap();
    }
    let want = std::fs::read_to_string(path).expect("golden file (bless with CAPSIM_BLESS=1)");
    assert!(
        got == want,
        "summary changed; diff tests/golden/summary.csv\n{got}"
    );
}
