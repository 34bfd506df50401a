//! Runs one part of a run for instruction counting under callgrind (see
//! `benches/parts.rs`):
//!   cargo build --release --example parts
//!   valgrind --tool=callgrind target/release/examples/parts kernel scenarios/baseline.toml 2048
//! Parts: `kernel`, `rng_floor`, `rng_exp_floor`, `stats`, `setup` (loading
//! and compiling the scenario only, to subtract).

// A measuring tool run by hand and by run.sh, not a user's command: plain
// printing will do.
#![allow(clippy::disallowed_macros)]

#[path = "../benches/parts.rs"]
mod parts;

use capsim::kernel::Scratch;
use capsim::stats::{ChunkSums, HotTails};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (part, file, paths) = match args.as_slice() {
        [_, part, file, paths] => (part.as_str(), file.as_str(), paths.parse().unwrap_or(0)),
        _ => {
            eprintln!("usage: parts kernel|rng_floor|rng_exp_floor|stats|setup FILE PATHS");
            std::process::exit(2);
        }
    };
    if part == "stats" && (paths % 64 != 0 || paths > 65_472) {
        // The workers' 16-bit sketches take at most 65,535 paths before a
        // flush, which this part does not do (the engine does).
        eprintln!("part stats: PATHS must be a multiple of 64, at most 65,472");
        std::process::exit(2);
    }
    let m = parts::load(file, paths);
    let r = match part {
        "kernel" => {
            let mut s = Scratch::new(&m);
            let mut out = vec![0.0; m.layout.n_path()];
            let mut per = vec![0.0; m.periods * m.layout.n_period()];
            parts::kernel(&m, paths, &mut s, &mut out, &mut per)
        }
        "rng_floor" => parts::rng_floor(&m, paths, false),
        "rng_exp_floor" => parts::rng_floor(&m, paths, true),
        "stats" => {
            let (buf, k) = parts::stats_rows(&m);
            let (mut c, mut t) = (ChunkSums::new(k), HotTails::new(k));
            parts::stats(&buf, k, paths, &mut c, &mut t);
            c.n as f64
        }
        "setup" => 0.0,
        _ => {
            eprintln!("unknown part {part}");
            std::process::exit(2);
        }
    };
    println!("{part} {paths} {r}");
}
