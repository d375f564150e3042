//! muster's own schemas: the Community resource (read-only to SCIM clients) and the User
//! extension that shows a user's community memberships.

use std::sync::LazyLock;

use super::{Attribute as A, Mutability, Schema, Type};

/// URN of the Community resource schema (communities are stored under it).
pub use crate::community::COMMUNITY_SCHEMA;
/// URN of the User extension listing community memberships.
pub const MEMBERSHIP_SCHEMA: &str = "urn:muster:params:scim:schemas:extension:community:2.0:User";

fn read_only(a: A) -> A {
    a.mutability(Mutability::ReadOnly)
}

/// The Community schema: a space of the tenant that users belong to with a role.
pub fn community_schema() -> &'static Schema {
    static SCHEMA: LazyLock<Schema> = LazyLock::new(|| Schema {
        id: COMMUNITY_SCHEMA,
        name: "Community",
        description: "A community of the tenant; managed by administrators, read-only over SCIM",
        attributes: vec![
            read_only(A::string(
                "displayName",
                "Name of the community, unique in the tenant",
            ))
            .required()
            .unique(),
        ],
    });
    &SCHEMA
}

/// The memberships extension of User: one value per community the user belongs to.
pub fn membership_schema() -> &'static Schema {
    static SCHEMA: LazyLock<Schema> = LazyLock::new(|| Schema {
        id: MEMBERSHIP_SCHEMA,
        name: "CommunityMemberships",
        description: "The user's community memberships, derived from groups and file imports",
        attributes: vec![read_only(
            A::complex(
                "memberships",
                "Communities the user belongs to",
                vec![
                    read_only(A::string("value", "Id of the community")).case_exact(),
                    read_only(A::string("display", "Name of the community")),
                    read_only(A::string(
                        "role",
                        "Effective role: the highest of its sources",
                    ))
                    .canonical(&["member", "contributor", "administrator"]),
                    read_only(A::string("status", "Invitation status")).canonical(&[
                        "invited",
                        "invitation_sent",
                        "active",
                    ]),
                    read_only(A::new("$ref", Type::Reference, "URI of the community"))
                        .references(&["Community"]),
                ],
            )
            .multi(),
        )],
    });
    &SCHEMA
}
