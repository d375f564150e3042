//! The axum Router every entry point serves: `muster serve`, each Lambda, and the tests.

mod auth;
mod discovery;
mod extract;
mod resources;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::get;
use serde_json::json;

use crate::auth::{ScimTokens, Tenants};
use crate::config::Config;
use crate::scim::{Groups, ScimError, Users};
use crate::store::Table;

pub use extract::{ScimContext, scim_response};

/// What every handler shares: storage, configuration and the services built on them.
#[derive(Clone)]
pub struct AppState {
    /// The Table port.
    pub table: Arc<dyn Table>,
    /// Configuration.
    pub config: Arc<Config>,
    /// Tenants.
    pub tenants: Tenants,
    /// SCIM tokens.
    pub tokens: ScimTokens,
    /// Users.
    pub users: Arc<Users>,
    /// Groups.
    pub groups: Arc<Groups>,
}

impl AppState {
    /// Builds every service over one table.
    pub fn new(table: Arc<dyn Table>, config: Config) -> Self {
        Self {
            tenants: Tenants::new(table.clone()),
            tokens: ScimTokens::new(table.clone()),
            users: Arc::new(Users::new(table.clone())),
            groups: Arc::new(Groups::new(table.clone())),
            config: Arc::new(config),
            table,
        }
    }
}

/// The whole HTTP surface.
pub fn app(state: AppState) -> Router {
    let scim = Router::new()
        .merge(resources::routes())
        .merge(discovery::routes())
        .fallback(|| async { ScimError::not_found("no such SCIM endpoint") })
        .method_not_allowed_fallback(|| async {
            ScimError::method_not_allowed("this endpoint does not support this method")
        })
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require_scim_token,
        ));
    Router::new()
        .route(
            "/health",
            get(|| async { axum::Json(json!({"status": "ok"})) }),
        )
        .nest("/tenants/{tenant}/scim/v2", scim)
        .fallback(|| async {
            (
                StatusCode::NOT_FOUND,
                axum::Json(json!({"error": "not_found", "message": "no such route"})),
            )
        })
        .layer(DefaultBodyLimit::max(state.config.max_payload))
        .with_state(state)
}
