//! Integration tests of muster through its public Router, one module per capability.

mod admin;
mod auth;
mod blob_s3;
mod bulk;
mod communities;
mod counting;
mod discovery;
mod errors;
mod groups;
mod helpers;
mod import_harness;
mod imports;
mod imports_dynamo;
mod imports_safety;
mod imports_xlsx;
mod lambda;
mod lambda_worker;
mod oauth;
mod patch;
mod query;
mod queue_sqs;
mod replay;
mod store_contract;
mod store_dynamo;
mod users;
mod v1_auth;
