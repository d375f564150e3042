//! Communities and memberships: who belongs to which community with which role, and why
//! (the IdP groups mapped to the community, or a file import).

mod batch;
mod communities;
mod due;
mod mapping;
mod memberships;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

pub use batch::{Edit, MembershipEdit};
pub use communities::{COMMUNITY_SCHEMA, Communities, Community};
pub use due::{Due, InvitationsDue, STALE_AFTER_S};
pub use mapping::{GroupSelector, Mapping, Mappings, given_by};
pub use memberships::{Change, Memberships, decode as decode_membership, reverse_body};

/// A role in a community, ordered: `member < contributor < administrator`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads and takes part.
    Member,
    /// Publishes.
    Contributor,
    /// Manages the community.
    Administrator,
}

impl Role {
    /// The role's name as stored and answered.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Member => "member",
            Role::Contributor => "contributor",
            Role::Administrator => "administrator",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    /// Parses `member`, `contributor` or `administrator`, ignoring case and surrounding space.
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "member" => Ok(Role::Member),
            "contributor" => Ok(Role::Contributor),
            "administrator" => Ok(Role::Administrator),
            other => Err(format!(
                "unknown role {other:?}: use member, contributor or administrator"
            )),
        }
    }
}

/// Where an invitation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Created; the invitation waits for an administrator to send it.
    Invited,
    /// The invitation was sent.
    InvitationSent,
    /// The member has joined.
    Active,
}

/// Why a user belongs to a community.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Source {
    /// Membership of an IdP group mapped to the community.
    Group {
        /// The group's id.
        group: String,
        /// The role the mapping gives.
        role: Role,
    },
    /// A member-file import.
    File {
        /// The role the file gives.
        role: Role,
    },
    /// An administrator's direct grant (`muster admin add`).
    Admin {
        /// The role granted.
        role: Role,
    },
}

impl Source {
    /// The role this source gives.
    pub fn role(&self) -> Role {
        match self {
            Source::Group { role, .. } | Source::File { role } | Source::Admin { role } => *role,
        }
    }

    /// Whether `self` and `other` are the same origin (same group, or both file, or both admin).
    pub fn same_origin(&self, other: &Source) -> bool {
        match (self, other) {
            (Source::Group { group: a, .. }, Source::Group { group: b, .. }) => a == b,
            (Source::File { .. }, Source::File { .. })
            | (Source::Admin { .. }, Source::Admin { .. }) => true,
            _ => false,
        }
    }
}

/// One user's membership of one community.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    /// The user's id.
    pub user: String,
    /// The community's id.
    pub community: String,
    /// The effective role: the highest role among `sources`.
    pub role: Role,
    /// Invitation status.
    pub status: Status,
    /// Every origin of the membership; the membership ends with the last one.
    pub sources: Vec<Source>,
    /// Creation time.
    pub created: String,
    /// Last change.
    pub updated: String,
}

impl Membership {
    /// The highest role among the sources, if any.
    pub fn derived_role(sources: &[Source]) -> Option<Role> {
        sources.iter().map(Source::role).max()
    }
}
