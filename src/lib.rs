//! capsim: a parallel Monte Carlo simulator of compute-capacity cost.
//!
//! The pipeline, one module a stage: [`scenario`] (file -> validated
//! scenario) -> [`model`] (compiled flat arrays) -> [`engine`] (paths in
//! blocks over rayon, each path through the [`kernel`]) -> [`stats`]
//! (streaming, mergeable summaries) -> [`output`] (CSV and manifest files).
//! The methodology is docs/MODEL.md.

/// `println!` that does not panic when stdout is closed (`capsim ... |
/// head`, or a reader that went away): the line is dropped and the
/// command goes on, so a run still writes its result. (`println!` panics
/// there: exit 101 and a panic message.)
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

/// [`say!`] for stderr (warnings and notes), instead of `eprintln!`.
macro_rules! say_err {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr().lock(), $($arg)*);
    }};
}

pub mod error;
pub mod model;
pub mod scenario;

pub use error::{Error, InputError, Result};
pub mod cli;
pub mod compare;
pub mod engine;
pub mod interrupt;
pub mod kernel;
pub mod output;
pub mod rng;
pub mod runner;
pub mod sensitivity;
pub mod shard;
pub mod simd;
pub mod stats;
pub mod trace;
