//! The axum Router every entry point serves: `muster serve`, each Lambda, and the tests.

mod admin;
mod admin_credentials;
mod admin_tenant;
mod auth;
pub mod console;
mod discovery;
mod extract;
mod imports;
mod oauth;
mod origin;
mod principal;
mod resources;
mod throttle;
mod v1;
mod v1_activity;
mod xml;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde_json::json;

use crate::admin::Admin;
use crate::auth::{ApiClients, KeyRing, ScimTokens, SigningKeys, Tenants};
use crate::community::Communities;
use crate::config::Config;
use crate::scim::{CommunityResources, Groups, ScimError, Users};
use crate::store::Table;

pub use extract::{ScimContext, scim_response};
pub use imports::Imports;
pub use origin::{StatedClient, StatedOrigin};
pub use principal::{
    AuthFailure, Principal, SourceIp, authenticate_access_token, bearer_token,
    require_imports_scope,
};
pub use v1::MAX_FILE_BYTES;

/// What every handler shares: storage, configuration and the services built on them, behind
/// one reference count. Every extractor and middleware takes its own copy of the state, several
/// per request; copying the services themselves (a few dozen shared pointers, each an atomic
/// count that two cores fight over) took a third of the CPU of an authenticated request.
#[derive(Clone)]
pub struct AppState(Arc<Services>);

impl std::ops::Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.0
    }
}

/// The services of [`AppState`].
#[derive(Clone)]
pub struct Services {
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
    /// Communities.
    pub communities: Arc<Communities>,
    /// The read-only `/Communities` resource endpoint.
    pub community_resources: Arc<CommunityResources>,
    /// OAuth API clients.
    pub clients: ApiClients,
    /// The keys that sign and verify access tokens.
    pub keys: Arc<KeyRing>,
    /// Tenant administration (the `/admin` routes).
    pub admin: Admin,
    /// The import wiring; `None` where imports do not run (the `/v1` routes answer 503).
    pub imports: Option<Imports>,
    /// Each tenant's share of requests.
    pub throttle: throttle::Throttle,
    /// The tenants' activity log.
    pub activity: crate::activity::Activity,
}

impl AppState {
    /// Builds every service over one table, with freshly generated signing keys (access
    /// tokens then last as long as the process: use [`AppState::with_keys`] to keep them).
    pub fn new(table: Arc<dyn Table>, config: Config) -> Self {
        Self(Arc::new(Services {
            clients: ApiClients::new(table.clone()),
            keys: Arc::new(KeyRing::fixed(SigningKeys::generate())),
            tenants: Tenants::new(table.clone()),
            tokens: ScimTokens::new(table.clone()),
            users: Arc::new(Users::new(table.clone())),
            groups: Arc::new(Groups::new(table.clone())),
            communities: Arc::new(Communities::new(table.clone())),
            community_resources: Arc::new(CommunityResources::new(table.clone())),
            admin: Admin::new(table.clone()),
            imports: None,
            throttle: throttle::Throttle::default(),
            activity: crate::activity::Activity::new(table.clone()),
            config: Arc::new(config),
            table,
        }))
    }

    fn services(&mut self) -> &mut Services {
        Arc::make_mut(&mut self.0)
    }

    /// The same state signing and verifying access tokens with `keys`.
    pub fn with_keys(self, keys: SigningKeys) -> Self {
        self.with_key_ring(KeyRing::fixed(keys))
    }

    /// The same state with keys that may be reloaded from their source.
    pub fn with_key_ring(mut self, keys: KeyRing) -> Self {
        self.services().keys = Arc::new(keys);
        self
    }

    /// The same state writing the activity log through `activity` (batched in `muster serve`).
    pub fn with_activity(mut self, activity: crate::activity::Activity) -> Self {
        self.services().activity = activity;
        self
    }

    /// The same state running imports with this wiring.
    pub fn with_imports(mut self, imports: Imports) -> Self {
        self.services().imports = Some(imports);
        self
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
            throttle::scim,
        ))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require_scim_token,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            xml::negotiate,
        ));
    Router::new()
        .route(
            "/health",
            get(|| async { axum::Json(json!({"status": "ok"})) }),
        )
        .route("/oauth/token", post(oauth::token))
        .nest("/tenants/{tenant}/scim/v2", scim)
        .nest("/admin", admin::routes(&state))
        .nest(
            "/v1",
            v1::routes()
                .route_layer(axum::middleware::from_fn_with_state(
                    state.clone(),
                    throttle::v1,
                ))
                .route_layer(axum::middleware::from_fn_with_state(
                    state.clone(),
                    require_imports_scope,
                )),
        )
        .merge(console::routes())
        .route(
            "/uploads/{token}",
            axum::routing::put(imports::upload)
                .layer(DefaultBodyLimit::max(v1::MAX_FILE_BYTES as usize)),
        )
        .fallback(|| async {
            (
                StatusCode::NOT_FOUND,
                axum::Json(json!({"error": "not_found", "message": "no such route"})),
            )
        })
        .layer(DefaultBodyLimit::max(state.config.max_payload))
        .with_state(state)
}
