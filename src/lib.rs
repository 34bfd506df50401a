//! capsim: a parallel Monte Carlo simulator of compute-capacity cost.
//!
//! The pipeline, one module a stage: [`scenario`] (file -> validated
//! scenario) -> [`model`] (compiled flat arrays) -> [`engine`] (paths in
//! blocks over rayon, each path through the [`kernel`]) -> [`stats`]
//! (streaming, mergeable summaries) -> [`output`] (CSV and manifest files).
//! The methodology is docs/MODEL.md.

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
