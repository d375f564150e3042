//! The AWS adapter of the signing-key port (`auth::KeySource`): the keys read from a Secrets
//! Manager secret (its `SecretString`, in the JSON of [`SigningKeys::to_json`]). The functions
//! need only `secretsmanager:GetSecretValue` on that one secret.

use async_trait::async_trait;
use aws_sdk_secretsmanager::Client;

use crate::auth::{KeySource, KeysError, SigningKeys};

/// A secret holding a key set.
pub struct SecretsManagerKeys {
    client: Client,
    secret_id: String,
}

impl SecretsManagerKeys {
    /// Reads the secret `secret_id` (a name or an ARN) with `client`.
    pub fn new(client: Client, secret_id: impl Into<String>) -> Self {
        Self {
            client,
            secret_id: secret_id.into(),
        }
    }

    /// A client configured from the standard `AWS_*` variables, `AWS_ENDPOINT_URL` included.
    pub async fn client_from_env() -> Client {
        Client::new(&crate::sdk::config_from_env().await)
    }
}

#[async_trait]
impl KeySource for SecretsManagerKeys {
    /// The `AWSCURRENT` version of the secret, parsed; a binary secret or one that is not a
    /// key set is an error, never an empty set.
    async fn load(&self) -> Result<SigningKeys, KeysError> {
        let out = self
            .client
            .get_secret_value()
            .secret_id(&self.secret_id)
            .send()
            .await
            .map_err(|e| {
                let failure = crate::sdk::describe("SecretsManager", "GetSecretValue", e);
                KeysError::Invalid(format!("reading secret {}: {failure}", self.secret_id))
            })?;
        let json = out.secret_string().ok_or_else(|| {
            KeysError::Invalid(format!("secret {} holds no SecretString", self.secret_id))
        })?;
        SigningKeys::from_json(json)
    }
}
