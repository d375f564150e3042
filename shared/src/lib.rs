//! muster: multi-tenant user provisioning (SCIM 2.0 and member-file imports).
//!
//! Domain logic talks to storage through the [`store::Table`] port only; the HTTP surface is
//! one axum Router ([`http::app`]) served by `muster serve`, by each Lambda and by the tests.

#![forbid(unsafe_code)]

pub mod activity;
pub mod admin;
pub mod auth;
pub mod blob;
pub mod community;
pub mod config;
pub mod console;
pub mod directory;
pub mod http;
pub mod ids;
pub mod import;
pub mod queue;
pub mod remembered;
pub mod scim;
#[cfg(feature = "aws")]
mod sdk;
#[cfg(feature = "aws")]
pub mod secrets;
pub mod store;
pub mod text;
pub mod unicode;
#[cfg(feature = "aws")]
pub mod wiring;
