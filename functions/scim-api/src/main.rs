//! Lambda entry point of `scim-api`: the shared Router (API Gateway routes the SCIM paths,
//! `/oauth/token` and `/admin` here).

#[tokio::main]
async fn main() -> Result<(), muster_lambda::Error> {
    muster_lambda::serve_http().await
}
