//! capsim's integration tests: one test crate (links once), one module per area.

// Closed forms and hand cases are computed with the platform's functions
// (clippy.toml keeps them out of the simulation, not out of its checks).
#![allow(clippy::disallowed_methods)]

mod util;

mod bad_input;
mod charts;
mod closed_form;
mod determinism;
mod golden;
mod hand_cases;
mod policy;
mod reference;
mod scenario_format;
mod shards;
mod trace;
mod workflows;
