//! SCIM 2.0 (RFC 7643, RFC 7644): schemas, validation, filters, PATCH and projection, and the
//! Users and Groups endpoints that translate requests into the directory's commands
//! ([`crate::directory`]) and its errors into SCIM error bodies.

pub mod bulk;
mod communities;
pub mod discovery;
mod error;
pub mod filter;
mod group_members;
mod groups;
mod list;
pub mod patch;
mod project;
pub(crate) mod repo;
pub mod resource;
mod scan;
pub mod schema;
mod search;
pub mod service;
mod users;
mod users_render;
mod version;
pub mod xml;

/// A stored resource: the directory's record.
pub use crate::directory::Record as StoredResource;
pub use communities::CommunityResources;
pub use error::{ERROR_SCHEMA, SCIM_MEDIA_TYPE, ScimError};
pub use groups::Groups;
pub use list::{LIST_SCHEMA, ListParams, SEARCH_SCHEMA, cursor_response, list_response};
pub use project::Projection;
pub use search::SearchResult;
pub use users::Users;
pub use version::{Preconditions, etag};
