//! The Lambda glue of muster's functions: logging, the HTTP Router through `lambda_http`, and
//! the SQS-triggered import worker with partial batch failures, and the scheduled directory
//! maintenance. Each function's `main.rs` calls one of these.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
pub use lambda_http::Error;
use lambda_http::{LambdaEvent, service_fn};
use muster::http::app;
use muster::queue::Delivery;

/// Time kept in hand before the invocation's deadline to save progress and answer.
const MARGIN: Duration = Duration::from_secs(10);

/// JSON logs to CloudWatch, level from `RUST_LOG`.
pub fn init_logs() {
    tracing_subscriber::fmt()
        .with_ansi(false)
        .json()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .without_time()
        .init();
}

/// Serves the Router to API Gateway events (every HTTP function).
pub async fn serve_http() -> Result<(), Error> {
    init_logs();
    let state = muster::wiring::state_from_env().await?;
    lambda_http::run(behind_api_gateway(app(state))).await
}

/// The Router as API Gateway calls it: each request states its client address and public
/// origin from the request context (`http.sourceIp`, `domainName`), which API Gateway writes
/// and no client can, so `X-Forwarded-For` (where a client may put any first hop) is never
/// read for the IP allowlists.
pub fn behind_api_gateway(router: axum::Router) -> axum::Router {
    router.layer(axum::middleware::map_request(state_the_caller))
}

async fn state_the_caller(mut req: axum::extract::Request) -> axum::extract::Request {
    use lambda_http::request::RequestContext;
    use muster::http::{StatedClient, StatedOrigin};
    let (client, origin) = match req.extensions().get::<RequestContext>() {
        Some(RequestContext::ApiGatewayV2(ctx)) => (
            ctx.http.source_ip.as_deref().and_then(|ip| ip.parse().ok()),
            ctx.domain_name.clone(),
        ),
        _ => (None, None),
    };
    if let Some(ip) = client {
        req.extensions_mut().insert(StatedClient(ip));
    }
    if let Some(domain) = origin {
        req.extensions_mut()
            .insert(StatedOrigin(format!("https://{domain}")));
    }
    req
}

/// The deliveries of an SQS event.
pub fn deliveries(event: SqsEvent) -> Vec<Delivery> {
    event
        .records
        .into_iter()
        .map(|r| Delivery {
            id: r.message_id.unwrap_or_default(),
            body: r.body.unwrap_or_default(),
        })
        .collect()
}

/// The answer naming the failed messages (`ReportBatchItemFailures`).
pub fn batch_response(failed: Vec<String>) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = failed
        .into_iter()
        .map(|id| {
            let mut f = BatchItemFailure::default();
            f.item_identifier = id;
            f
        })
        .collect();
    response
}

/// The instant to stop working, from the invocation's deadline (epoch milliseconds).
pub fn deadline(deadline_ms: u64) -> Instant {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default();
    Instant::now()
        + Duration::from_millis(deadline_ms.saturating_sub(now_ms)).saturating_sub(MARGIN)
}

/// Runs the SQS-triggered import worker.
pub async fn run_import_worker() -> Result<(), Error> {
    init_logs();
    let table = muster::wiring::table_from_env().await?;
    let imports = muster::wiring::imports_from_env(table).await?;
    let handler = service_fn(move |event: LambdaEvent<SqsEvent>| {
        let imports = imports.clone();
        async move {
            let until = deadline(event.context.deadline);
            let failed = muster::queue::process_batch(
                &imports.ctx,
                &*imports.queue,
                deliveries(event.payload),
                until,
            )
            .await;
            Ok::<_, Error>(batch_response(failed))
        }
    });
    lambda_http::lambda_runtime::run(handler).await
}

/// The answer to one scheduled event: the task it names, run over every tenant. An event that
/// names no task is an error (the invocation fails and is logged); drift is logged at error
/// level by the task itself and answered in the result.
pub async fn maintenance(
    m: &muster::directory::Maintenance,
    event: serde_json::Value,
) -> Result<muster::directory::Done, Error> {
    let task: muster::directory::Task = serde_json::from_value(event)
        .map_err(|e| format!("not a maintenance task ({e}); expected {{\"task\": \"drain\"}}"))?;
    Ok(m.run(&task).await?)
}

/// Runs the scheduled directory maintenance (drain, check, purge).
pub async fn run_maintenance() -> Result<(), Error> {
    init_logs();
    let m = muster::wiring::maintenance_from_env().await?;
    let handler = service_fn(move |event: LambdaEvent<serde_json::Value>| {
        let m = m.clone();
        async move { maintenance(&m, event.payload).await }
    });
    lambda_http::lambda_runtime::run(handler).await
}
