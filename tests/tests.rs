//! capsim's integration tests: one test crate (links once), one module per area.

mod util;

mod bad_input;
mod charts;
mod closed_form;
mod determinism;
mod golden;
mod hand_cases;
mod policy;
mod scenario_format;
mod shards;
mod trace;
mod workflows;
