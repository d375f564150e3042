//! The Group schema (RFC 7643 §4.2).

use std::sync::LazyLock;

use super::{Attribute as A, Mutability, Schema, Type};

/// URN of the core Group schema.
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

/// The core Group schema. `displayName` is unique within a tenant (case-insensitively), so
/// that group-to-community mappings by name are unambiguous.
pub fn group_schema() -> &'static Schema {
    static SCHEMA: LazyLock<Schema> = LazyLock::new(|| Schema {
        id: GROUP_SCHEMA,
        name: "Group",
        description: "Group",
        attributes: vec![
            A::string("displayName", "Name of the group, unique in the tenant")
                .required()
                .unique(),
            A::complex(
                "members",
                "Users in the group",
                vec![
                    A::string("value", "Id of the member User")
                        .mutability(Mutability::Immutable)
                        .case_exact(),
                    A::new("$ref", Type::Reference, "URI of the member")
                        .mutability(Mutability::Immutable)
                        .references(&["User"]),
                    A::string("display", "Member's name").mutability(Mutability::ReadOnly),
                    A::string("type", "Kind of member")
                        .mutability(Mutability::Immutable)
                        .canonical(&["User"]),
                ],
            )
            .multi(),
        ],
    });
    &SCHEMA
}
