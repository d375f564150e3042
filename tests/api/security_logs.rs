//! Secrets never reach the logs: the whole flow of `security_flow` (tenant, SCIM tokens, API
//! clients and access tokens, uploads with presigned URLs, an import, refused credentials,
//! storage failures answered with 500) runs with every event of every crate, down to TRACE,
//! captured as the Lambda functions log them (JSON), and no secret it handled is in the capture.

use std::sync::{Arc, Mutex};

use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::util::SubscriberInitExt;

use crate::security_flow::Flow;

/// Everything the subscriber writes.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Capture {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }

    /// Waits (bounded) until `event` is captured: the worker logs a job's end just after
    /// writing the state a client can already read.
    async fn wait_for(&self, event: &str) {
        for _ in 0..2000 {
            if self.text().contains(event) {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    }
}

#[tokio::test]
async fn no_secret_a_whole_flow_handles_reaches_the_logs_even_at_trace_level() {
    let capture = Capture::default();
    let writer = capture.clone();
    let _logs = tracing_subscriber::fmt()
        .json()
        .with_max_level(LevelFilter::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish()
        .set_default();
    let mut flow = Flow::start().await;
    flow.provision().await;
    flow.authenticate().await;
    flow.import().await;
    capture.wait_for("import succeeded").await;
    flow.fail().await;
    flow.presign_on_s3().await;
    let logs = capture.text();
    let recorded = [
        ("access token issued", flow.client.0.as_str()),
        ("access token refused", "bad signature"),
        ("import succeeded", &flow.tenant),
        ("\"storage failure\"", "injected failure"),
        (
            "storage failure while authenticating a client",
            "injected failure",
        ),
        ("import API failure", "injected failure"),
        ("admin operation failed", "injected failure"),
        ("calculated signing parameters", "X-Amz-SignedHeaders"),
    ];
    for (event, detail) in recorded {
        let found = logs
            .lines()
            .any(|l| l.contains(event) && l.contains(detail));
        assert!(found, "the capture lacks {event} with {detail}:\n{logs}");
    }
    for (what, secret) in &flow.secrets {
        assert!(
            secret.len() >= 20,
            "a {what} long enough not to match by chance"
        );
        let leaks: Vec<&str> = logs
            .lines()
            .filter(|l| l.contains(secret.as_str()))
            .collect();
        assert!(leaks.is_empty(), "a {what} is in the logs: {leaks:#?}");
    }
}
