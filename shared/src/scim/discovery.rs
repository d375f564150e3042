//! Service discovery (RFC 7644 §4): ServiceProviderConfig, ResourceTypes and Schemas, built
//! from the same definitions that validate requests, so they never drift from behaviour.

use serde_json::{Value, json};

use super::bulk::MAX_BULK_OPERATIONS;
use super::list_response;
use super::schema::{resource_types, schemas};
use crate::config::Config;

/// The ServiceProviderConfig resource (RFC 7643 §5), advertising what muster does.
pub fn service_provider_config(base: &str, config: &Config) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
        "patch": {"supported": true},
        "bulk": {
            "supported": true,
            "maxOperations": MAX_BULK_OPERATIONS,
            "maxPayloadSize": config.max_payload,
        },
        "filter": {"supported": true, "maxResults": config.max_results},
        "changePassword": {"supported": false},
        "sort": {"supported": true},
        "pagination": {
            "cursor": true,
            "index": true,
            "defaultPaginationMethod": "index",
            "defaultPageSize": config.max_results,
            "maxPageSize": config.max_results,
        },
        "etag": {"supported": true},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "Bearer token",
            "description": "The tenant's SCIM secret token, sent as Authorization: Bearer",
            "specUri": "https://www.rfc-editor.org/rfc/rfc6750",
            "primary": true,
        }],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": format!("{base}/ServiceProviderConfig"),
        },
    })
}

/// Every resource type, as a ListResponse.
pub fn resource_type_list(base: &str) -> Value {
    let all: Vec<Value> = resource_types().iter().map(|t| t.to_json(base)).collect();
    list_response(all.len() as u64, 1, all)
}

/// One resource type by name (`User`, `Group`), if it exists.
pub fn resource_type_by_id(base: &str, id: &str) -> Option<Value> {
    resource_types()
        .iter()
        .find(|t| t.name == id)
        .map(|t| t.to_json(base))
}

/// Every schema, as a ListResponse.
pub fn schema_list(base: &str) -> Value {
    let all: Vec<Value> = schemas().iter().map(|s| s.to_json(base)).collect();
    list_response(all.len() as u64, 1, all)
}

/// One schema by URN, if it exists.
pub fn schema_by_id(base: &str, id: &str) -> Option<Value> {
    schemas()
        .iter()
        .find(|s| s.id == id)
        .map(|s| s.to_json(base))
}
