//! The directory core: users, groups, group members, lifecycle (live, soft-deleted, purged)
//! and the derivation of community memberships from groups, with the invariant it keeps.
//!
//! **Invariant.** For every user U and community C: U holds a group-sourced membership of C
//! with role R exactly when U is live (not soft-deleted), U is a member of at least one group
//! mapped to C, and R is the highest role among those mappings. A group member is always a
//! live user. A membership grants access only while its user is live and active: an inactive
//! user's memberships read as `suspended`.
//!
//! **How it is kept.** Primary writes (a member added or removed, a user deleted or restored,
//! a mapping set or removed, a group renamed or deleted) record an intent in their own
//! transaction ([`intent`]); adding a member checks in that transaction that the user is
//! live. The [`Reconciler`] drains intents idempotently from current state, inline after each
//! request and in the background ([`Maintenance`]), so a crash at any point leaves intents
//! behind that heal.
//! [`check`] verifies the whole invariant of a tenant on demand and repairs it.
//!
//! **Commands.** Protocols translate their requests into the directory's services:
//! [`UserDirectory`] (create or restore, change, soft delete, batch create of [`NewUser`]s and
//! [`UserChange`]s) and [`GroupDirectory`] (create, change with a [`MemberDelta`], delete),
//! over [`Records`] that keep unique indexes in the same transaction. Errors are
//! [`DirectoryError`]s, which keep their storage cause; SCIM, the admin API and imports each
//! turn them into their own answers.

mod change;
pub mod check;
mod derivation;
pub(crate) mod derive;
mod error;
mod groups;
pub mod intent;
mod lifecycle;
pub mod maintenance;
pub(crate) mod members;
mod names;
mod paging;
mod reconciler;
pub(crate) mod records;
mod records_many;
pub mod user;
mod users;
mod users_many;

pub use change::{ATTEMPTS, Pin, Unpinned, settle};
pub use derivation::UserDerivation;
pub use derive::{expected_sources, with_group_sources};
pub use error::DirectoryError;
pub use groups::GroupDirectory;
pub use intent::{Intents, Pending, Target};
pub use lifecycle::{Deleted, Lifecycle, Unique, is_active};
pub use maintenance::{Done, Maintenance, Task};
pub use members::{MemberDelta, Members};
pub use reconciler::{Drained, Reconciler};
pub use records::{Counted, Document, Kind, Record, Records, UniqueValue, no_intents};
pub use records_many::{Created, Extra, PreparedCreates};
pub use user::{NewUser, UserChange};
pub use users::{Made, UserDirectory};
pub use users_many::PreparedUsers;
