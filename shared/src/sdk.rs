//! What the AWS adapters share: the SDK configuration from the environment, and how SDK
//! failures are reported (the whole error chain goes to the log, callers get a short text
//! naming the service, the operation and the error code, never the message).

use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

/// Logs `err` in full and returns `"{service} {operation} failed ({code})"`.
pub(crate) fn describe<E, R>(service: &str, operation: &str, err: SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    tracing::error!(service, operation, error = %DisplayErrorContext(&err), "AWS request failed");
    let what = match &err {
        SdkError::ServiceError(service) => service.err().code().unwrap_or("service error"),
        SdkError::TimeoutError(_) => "timeout",
        SdkError::DispatchFailure(_) => "unreachable",
        SdkError::ResponseError(_) => "unreadable response",
        SdkError::ConstructionFailure(_) => "request not built",
        _ => "unknown error",
    };
    format!("{service} {operation} failed ({what})")
}

/// The SDK configuration of `aws_config`'s default chain: region, credentials and
/// `AWS_ENDPOINT_URL` from the standard `AWS_*` variables.
pub(crate) async fn config_from_env() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .load()
        .await
}
