//! `GET /v1/activity`: the tenant's activity log for tools, paged by cursor.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::AppState;
use super::imports::{Failure, acting_scope};
use super::principal::Principal;
use super::v1::param;

/// `GET /v1/activity?user_id=…&cursor=…&count=…&kind=…&actor=…&resource=…`: the tenant's
/// activity log, newest first, for a tenant administrator. Paged as SCIM cursors are (RFC
/// 9865): `nextCursor` names the next page and is absent on the last; a cursor not answered
/// by this API is 400 `invalid_cursor`.
pub(super) async fn activity(
    State(s): State<AppState>,
    who: Principal,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, Failure> {
    let user = param(&q, "user_id")?;
    acting_scope(&s, &who, user).await?;
    let tenant_admin = s
        .admin
        .is_tenant_admin(&who.tenant, user)
        .await
        .map_err(Failure::internal)?;
    if !tenant_admin {
        return Err(Failure::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "the activity log is for the tenant's administrators",
        ));
    }
    let count = match q.get("count") {
        None => 50,
        Some(c) => c
            .parse::<usize>()
            .ok()
            .filter(|c| (1..=200).contains(c))
            .ok_or_else(|| Failure::bad("invalid_count", "count is a number from 1 to 200"))?,
    };
    let filter = super::console::activity_filter(&q);
    let cursor = q
        .get("cursor")
        .map(String::as_str)
        .filter(|c| !c.is_empty());
    let (events, next) = s
        .activity
        .page(&who.tenant, &filter, cursor, count)
        .await
        .map_err(|e| match e {
            crate::store::StoreError::Invalid(_) => {
                Failure::bad("invalid_cursor", "the cursor was not answered by this API")
            }
            e => Failure::internal(e),
        })?;
    let mut body = json!({"data": events});
    if let Some(next) = next {
        body["nextCursor"] = json!(next);
    }
    Ok(axum::Json(body).into_response())
}
