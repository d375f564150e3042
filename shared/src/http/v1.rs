//! The file-import API at `/v1/…`, in the shapes of the reference API: presign an upload,
//! start an import, follow it, read its report and row errors, download templates, send
//! pending invitations. Authenticated with an access token holding scope `imports`; `user_id`
//! names the acting administrator.

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::AppState;
use super::imports::{Failure, Imports, acting_scope, page_params};
use super::origin::RequestOrigin;
use super::principal::Principal;
use crate::activity::{Event, Kind};
use crate::blob::UploadSpec;
use crate::ids::random_bytes;
use crate::import::{
    CSV, JobState, Mode, StartError, StartImport, XLSX, delete_ratio_or, invite_pending,
    record_upload, template,
};

/// The largest member file accepted, in bytes (advertised in every presign answer).
pub const MAX_FILE_BYTES: u64 = 100 * 1024 * 1024;

/// The `/v1` routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/blobs", post(presign).get(presign))
        .route("/member_provisionings", post(start).get(status))
        .route("/member_provisionings/reports", get(reports))
        .route("/member_provisionings/errors", get(errors))
        .route("/member_provisionings/templates", get(templates))
        .route("/communities/{id}/invitations", post(invite))
        .route("/activity", get(super::v1_activity::activity))
}

type Params = Query<HashMap<String, String>>;
type Answer = Result<Response, Failure>;

pub(super) fn param<'a>(q: &'a HashMap<String, String>, name: &str) -> Result<&'a str, Failure> {
    q.get(name)
        .map(String::as_str)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            Failure::bad(
                "missing_parameter",
                format!("the {name} parameter is required"),
            )
        })
}

async fn presign(
    State(s): State<AppState>,
    who: Principal,
    Query(q): Params,
    RequestOrigin(origin): RequestOrigin,
    body: axum::body::Bytes,
) -> Answer {
    let imports = Imports::of(&s)?;
    acting_scope(&s, &who, param(&q, "user_id")?).await?;
    let body: Value = serde_json::from_slice(&body)
        .map_err(|e| Failure::bad("invalid_json", format!("the body is not JSON: {e}")))?;
    let blob = &body["blob"];
    let text = |k: &str| {
        blob[k]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| Failure::bad("invalid_blob", format!("blob.{k} is required")))
    };
    let (filename, content_type, checksum) =
        (text("filename")?, text("content_type")?, text("checksum")?);
    let byte_size = blob["byte_size"]
        .as_u64()
        .ok_or_else(|| Failure::bad("invalid_blob", "blob.byte_size must be a positive integer"))?;
    if content_type != CSV && content_type != XLSX {
        return Err(Failure::bad(
            "unsupported_content_type",
            format!("content_type must be {CSV} or {XLSX}"),
        ));
    }
    if byte_size == 0 || byte_size > MAX_FILE_BYTES {
        return Err(Failure::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_byte_size",
            format!("byte_size must be 1 to {MAX_FILE_BYTES} bytes"),
        ));
    }
    let md5 = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, &checksum)
        .ok()
        .filter(|b| b.len() == 16);
    if md5.is_none() {
        return Err(Failure::bad(
            "invalid_checksum",
            "checksum must be the base64 of the file's 16-byte MD5",
        ));
    }
    let id = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        random_bytes::<32>(),
    );
    let spec = UploadSpec {
        key: format!("{}-{id}", who.tenant),
        filename,
        content_type,
        byte_size,
        checksum,
    };
    record_upload(&imports.ctx, &who.tenant, &id, &spec)
        .await
        .map_err(Failure::internal)?;
    let upload = imports
        .blobs
        .presign_upload(&spec)
        .await
        .map_err(Failure::internal)?;
    let url = if upload.url.starts_with('/') {
        format!("{origin}{}", upload.url)
    } else {
        upload.url
    };
    let headers: serde_json::Map<String, Value> = upload
        .headers
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    let answer = json!({
        "signed_id": id,
        "direct_upload": {"url_for_direct_upload": url, "headers_for_direct_upload": headers},
        "expires_in": crate::blob::UPLOAD_VALIDITY.as_secs(),
        "max_byte_size": MAX_FILE_BYTES,
    });
    Ok((StatusCode::OK, axum::Json(answer)).into_response())
}

async fn start(
    State(s): State<AppState>,
    who: Principal,
    Query(q): Params,
    headers: HeaderMap,
) -> Answer {
    let imports = Imports::of(&s)?;
    let scope = acting_scope(&s, &who, param(&q, "user_id")?)
        .await?
        .ids(&s, &who.tenant)
        .await?;
    let mode: Mode = param(&q, "operation")?
        .parse()
        .map_err(|m| Failure::bad("invalid_operation", m))?;
    let allow = q
        .get("allow_mass_delete")
        .is_some_and(|v| v == "true" || v == "1");
    let ratio = q.get("max_delete_ratio").map(String::as_str);
    let threshold = match s.tenants.get(&who.tenant).await {
        Ok(Some(t)) => t
            .mirror_threshold
            .unwrap_or(crate::import::DEFAULT_MAX_DELETE_RATIO),
        Ok(None) => crate::import::DEFAULT_MAX_DELETE_RATIO,
        Err(e) => return Err(Failure::internal(e)),
    };
    let dry_run = match q.get("dry_run").map(String::as_str) {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            let message = format!("dry_run is true or false, not {other:?}");
            return Err(Failure::bad("invalid_parameter", message));
        }
    };
    let request = StartImport {
        signed_id: param(&q, "signed_id")?.to_owned(),
        mode,
        user_id: q["user_id"].clone(),
        scope,
        max_delete_ratio: delete_ratio_or(ratio, allow, threshold).map_err(not_started)?,
        idempotency_key: headers
            .get("idempotency-key")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        dry_run,
    };
    let (job, created) = crate::import::start(&imports.ctx, &*imports.queue, &who.tenant, request)
        .await
        .map_err(not_started)?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    if created {
        let what = if job.dry_run {
            "preview started"
        } else {
            "import started"
        };
        let mode = format!("{:?} {}", job.mode, job.file_name).to_uppercase();
        let event = Event::now(
            Kind::Import,
            &job.user_id,
            what,
            &format!("job {}", job.id),
            &mode,
        );
        s.activity.record(&who.tenant, event).await;
    }
    Ok((status, axum::Json(json!({ "id": job.id }))).into_response())
}

/// The answer of an import that did not start, in the reference API's error shape.
fn not_started(e: StartError) -> Failure {
    let code = match &e {
        StartError::UnknownBlob => (StatusCode::NOT_FOUND, "unknown_blob"),
        StartError::NotUploaded => (StatusCode::UNPROCESSABLE_ENTITY, "blob_not_uploaded"),
        StartError::Mismatch => (StatusCode::UNPROCESSABLE_ENTITY, "blob_mismatch"),
        StartError::InvalidRatio => return Failure::bad("invalid_parameter", e.to_string()),
        StartError::Store(_) | StartError::Blob(_) | StartError::Queue(_) => {
            return Failure::internal(e);
        }
    };
    Failure::new(code.0, code.1, e.to_string())
}

async fn job_of(
    s: &AppState,
    who: &Principal,
    q: &HashMap<String, String>,
) -> Result<crate::import::Job, Failure> {
    let imports = Imports::of(s)?;
    let user_id = param(q, "user_id")?;
    let scope = acting_scope(s, who, user_id).await?;
    let id: u64 = param(q, "id")?
        .parse()
        .map_err(|_| Failure::bad("invalid_parameter", "id is an integer"))?;
    let job = imports
        .ctx
        .jobs
        .get(&who.tenant, id)
        .await
        .map_err(Failure::internal)?
        .ok_or_else(|| {
            Failure::new(
                StatusCode::NOT_FOUND,
                "unknown_import",
                format!("no import {id}"),
            )
        })?;
    // A job's status, report and errors are for those whose scope covers all it touched.
    // The tenant-admin read is needed only when the scope does not cover the job (a
    // community the job touched was deleted since).
    if !job.scope.iter().all(|c| scope.contains(c))
        && !s
            .admin
            .is_tenant_admin(&who.tenant, user_id)
            .await
            .map_err(Failure::internal)?
    {
        return Err(Failure::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("import {id} covers communities user_id does not administer"),
        ));
    }
    Ok(job)
}

async fn status(State(s): State<AppState>, who: Principal, Query(q): Params) -> Answer {
    let job = job_of(&s, &who, &q).await?;
    let c = job.counters;
    let mut body = json!({
        "id": job.id, "state": job.state, "operation": job.mode,
        "rows_total": c.rows_total, "rows_read": c.rows_read, "rows_applied": c.rows_applied, "rows_failed": c.rows_failed,
        "created_at": job.created_at, "updated_at": job.updated_at,
    });
    if job.state == JobState::Failed || job.dry_run {
        body["reason"] = json!(job.reason);
    }
    body["dry_run"] = json!(job.dry_run);
    if job.dry_run {
        body["would_apply"] = json!(job.would_apply());
    }
    Ok(axum::Json(body).into_response())
}

async fn reports(State(s): State<AppState>, who: Principal, Query(q): Params) -> Answer {
    let job = job_of(&s, &who, &q).await?;
    let (page, per_page) = page_params(&q)?;
    let (data, total) = Imports::of(&s)?
        .ctx
        .data
        .report(&who.tenant, job.id, page, per_page)
        .await
        .map_err(Failure::internal)?;
    Ok(axum::Json(json!({"data": data, "meta": {"pagination": {"total": total, "page": page, "per_page": per_page}}})).into_response())
}

async fn errors(State(s): State<AppState>, who: Principal, Query(q): Params) -> Answer {
    let job = job_of(&s, &who, &q).await?;
    let (page, per_page) = page_params(&q)?;
    let (data, total) = Imports::of(&s)?
        .ctx
        .data
        .errors(&who.tenant, job.id, page, per_page)
        .await
        .map_err(Failure::internal)?;
    Ok(axum::Json(json!({"data": data, "meta": {"pagination": {"total": total, "page": page, "per_page": per_page}}})).into_response())
}

pub(super) async fn templates(Query(q): Params) -> Answer {
    let mode: Mode = param(&q, "operation")?
        .parse()
        .map_err(|m| Failure::bad("invalid_operation", m))?;
    match q.get("format").map(String::as_str).unwrap_or("csv") {
        "csv" => {
            let name = format!("members_{}.csv", format!("{mode:?}").to_lowercase());
            let disposition = format!("attachment; filename=\"{name}\"");
            Ok((
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                    (header::CONTENT_DISPOSITION, disposition),
                ],
                template(mode),
            )
                .into_response())
        }
        "xlsx" => {
            let header: Vec<String> = template(mode)
                .trim_end()
                .split(',')
                .map(str::to_owned)
                .collect();
            let name = format!("members_{}.xlsx", format!("{mode:?}").to_lowercase());
            let disposition = format!("attachment; filename=\"{name}\"");
            let body = crate::import::write_xlsx(&[header]);
            Ok((
                [
                    (header::CONTENT_TYPE, XLSX.to_owned()),
                    (header::CONTENT_DISPOSITION, disposition),
                ],
                body,
            )
                .into_response())
        }
        other => Err(Failure::bad(
            "invalid_format",
            format!("format is csv or xlsx, not {other:?}"),
        )),
    }
}

async fn invite(
    State(s): State<AppState>,
    who: Principal,
    axum::extract::Path(community): axum::extract::Path<String>,
    Query(q): Params,
) -> Answer {
    let imports = Imports::of(&s)?;
    let scope = acting_scope(&s, &who, param(&q, "user_id")?).await?;
    if !scope.covers(&s, &who.tenant, &community).await? {
        return Err(Failure::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "the acting administrator does not administer this community",
        ));
    }
    let notifier = &*imports.notifier;
    let sent = invite_pending(&s.table, notifier, &who.tenant, &community, None)
        .await
        .map_err(Failure::internal)?;
    let actor = param(&q, "user_id")?;
    let event = Event::now(
        Kind::Invitation,
        actor,
        "invitations sent",
        &community,
        &sent.len().to_string(),
    );
    s.activity.record(&who.tenant, event).await;
    Ok(axum::Json(json!({"community_id": community, "sent": sent.len()})).into_response())
}
