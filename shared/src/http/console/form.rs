//! A console form post: the signed-in administrator, the form's fields, and the proof that
//! it came from a current page of this service (its CSRF token and `Origin`), checked before
//! any handler runs.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;

use super::{Refusal, Signed, check_form};
use crate::http::AppState;
use crate::http::origin::origin;

/// The largest console form accepted, in bytes.
const MAX_FORM: usize = 64 * 1024;

/// The fields of an `application/x-www-form-urlencoded` body, in order, repeats kept.
pub struct Fields(Vec<(String, String)>);

impl Fields {
    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `name` (checked boxes).
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

/// A checked form post of a signed-in administrator.
pub struct Posted {
    /// Who posted it.
    pub who: Signed,
    /// Its fields.
    pub fields: Fields,
    /// This service's public origin.
    pub origin: String,
}

impl FromRequest<AppState> for Posted {
    type Rejection = Refusal;

    async fn from_request(req: Request, s: &AppState) -> Result<Self, Refusal> {
        let (mut parts, body) = req.into_parts();
        let who = Signed::from_request_parts(&mut parts, s).await?;
        let origin = origin(&parts.headers, &parts.extensions, &s.config);
        let bytes = axum::body::to_bytes(body, MAX_FORM).await.map_err(|_| {
            Refusal::page(
                StatusCode::PAYLOAD_TOO_LARGE,
                "Form too large",
                "The form could not be read.",
                None,
            )
        })?;
        let fields = Fields(form_urlencoded::parse(&bytes).into_owned().collect());
        check_form(
            &parts.headers,
            &origin,
            Some(&who.session),
            fields.get("csrf"),
        )?;
        Ok(Self {
            who,
            fields,
            origin,
        })
    }
}
