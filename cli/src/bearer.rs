//! The API client's access token for `muster import`, renewed as the command goes: a job can
//! outlive one token (900 s), and following it must not fail with 401 while it runs.

use std::time::{Duration, Instant};

use base64::Engine;

use crate::client::{Answer, Client};
use crate::refusal;

/// What is left of a token's lifetime when it is renewed ahead of time: a fifth.
const RENEW_AT: f64 = 0.8;

/// An HTTP client that sends every request with a fresh client-credentials access token.
pub struct Authorized {
    http: Client,
    token_url: String,
    basic: String,
    bearer: String,
    renew_at: Instant,
}

impl Authorized {
    /// Obtains a first token for `client_id` with scope `imports` from `{base}/oauth/token`.
    pub async fn obtain(base: &str, client_id: &str, secret: &str) -> anyhow::Result<Self> {
        let basic =
            base64::engine::general_purpose::STANDARD.encode(format!("{client_id}:{secret}"));
        let mut me = Self {
            http: Client::new()?,
            token_url: format!("{base}/oauth/token"),
            basic,
            bearer: String::new(),
            renew_at: Instant::now(),
        };
        me.renew().await?;
        Ok(me)
    }

    /// The plain client (for requests that carry their own signature, such as the upload).
    pub fn http(&self) -> &Client {
        &self.http
    }

    /// Gets a new token; the next one is due when four fifths of its lifetime have passed.
    async fn renew(&mut self) -> anyhow::Result<()> {
        let headers = [
            ("authorization", format!("Basic {}", self.basic)),
            ("content-type", "application/x-www-form-urlencoded".into()),
        ];
        let form = b"grant_type=client_credentials&scope=imports".to_vec();
        let token = self
            .http
            .send("POST", &self.token_url, &headers, form)
            .await?
            .ok("getting an access token")?;
        let lifetime = token["expires_in"].as_f64().unwrap_or(900.0).max(0.0);
        self.bearer = format!(
            "Bearer {}",
            token["access_token"].as_str().unwrap_or_default()
        );
        self.renew_at = Instant::now() + Duration::from_secs_f64(lifetime * RENEW_AT);
        Ok(())
    }

    /// Sends a request with the token: renewed first when due, and once more if the answer is
    /// 401 all the same (a clock apart, or a key rotated on the server). Refusals the server
    /// asks to be retried (see [`refusal`](crate::refusal)) are waited out up to
    /// [`MAX_RETRIES`](crate::refusal::MAX_RETRIES) times; the last answer is the caller's.
    pub async fn send(
        &mut self,
        method: &str,
        url: &str,
        headers: &[(&str, String)],
        body: Vec<u8>,
    ) -> anyhow::Result<Answer> {
        let mut attempt = 0;
        loop {
            if Instant::now() >= self.renew_at {
                self.renew().await?;
            }
            let mut answer = self.attempt(method, url, headers, body.clone()).await?;
            if answer.status == 401 {
                self.renew().await?;
                answer = self.attempt(method, url, headers, body.clone()).await?;
            }
            if attempt == refusal::MAX_RETRIES || !refusal::retryable(method, answer.status) {
                return Ok(answer);
            }
            attempt += 1;
            tokio::time::sleep(refusal::wait(answer.retry_after.as_deref(), attempt)).await;
        }
    }

    async fn attempt(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, String)],
        body: Vec<u8>,
    ) -> anyhow::Result<Answer> {
        let mut all = vec![("authorization", self.bearer.clone())];
        all.extend(headers.iter().cloned());
        self.http.send(method, url, &all, body).await
    }
}
