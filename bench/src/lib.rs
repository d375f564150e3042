//! The shared pieces of muster's load tools (`muster-load`, `muster-stress`).

pub mod client;
