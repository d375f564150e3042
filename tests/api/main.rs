//! Integration tests of muster through its public Router, one module per capability.

mod admin;
mod auth;
mod bulk;
mod communities;
mod counting;
mod discovery;
mod errors;
mod groups;
mod helpers;
mod lambda;
mod oauth;
mod patch;
mod query;
mod replay;
mod store_contract;
mod users;
mod v1_auth;
