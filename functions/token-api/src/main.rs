//! Lambda entry point of `token-api`: the shared Router (API Gateway routes this function's paths).

#[tokio::main]
async fn main() -> Result<(), muster_lambda::Error> {
    muster_lambda::serve_http().await
}
