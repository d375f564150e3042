//! Integration tests of muster through its public Router, one module per capability.

mod auth;
mod bulk;
mod counting;
mod discovery;
mod errors;
mod groups;
mod helpers;
mod lambda;
mod patch;
mod query;
mod replay;
mod store_contract;
mod users;
