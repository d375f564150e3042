//! The User schema (RFC 7643 §4.1) and the enterprise extension (§4.3).

use std::sync::LazyLock;

use super::{Attribute as A, Mutability, Returned, Schema, Type};

/// The URNs of the core User schema and of the enterprise extension: the directory stores
/// users in that representation.
pub use crate::directory::user::{ENTERPRISE_SCHEMA, USER_SCHEMA};

const TYPES_EMAIL: &[&str] = &["work", "home", "other"];
const TYPES_PHONE: &[&str] = &["work", "home", "mobile", "fax", "pager", "other"];

fn primary() -> A {
    A::new("primary", Type::Boolean, "Marks the preferred value")
}

/// A multi-valued attribute of `value`, `display`, `type` and `primary`.
fn plural(name: &'static str, description: &'static str, types: &'static [&'static str]) -> A {
    A::complex(
        name,
        description,
        vec![
            A::string("value", "The value"),
            A::string("display", "A label for display"),
            A::string("type", "A label for the value's function").canonical(types),
            primary(),
        ],
    )
    .multi()
}

fn name() -> A {
    A::complex(
        "name",
        "The person's name",
        vec![
            A::string("formatted", "Full name, formatted for display"),
            A::string("familyName", "Family name"),
            A::string("givenName", "Given name"),
            A::string("middleName", "Middle name"),
            A::string("honorificPrefix", "Honorific prefix"),
            A::string("honorificSuffix", "Honorific suffix"),
        ],
    )
}

fn addresses() -> A {
    A::complex(
        "addresses",
        "Physical mailing addresses",
        vec![
            A::string("formatted", "Full address"),
            A::string("streetAddress", "Street"),
            A::string("locality", "City"),
            A::string("region", "State or region"),
            A::string("postalCode", "Postal code"),
            A::string("country", "ISO 3166-1 alpha-2 country code"),
            A::string("type", "Kind of address").canonical(&["work", "home", "other"]),
            primary(),
        ],
    )
    .multi()
}

fn groups() -> A {
    let ro = |a: A| a.mutability(Mutability::ReadOnly);
    ro(A::complex(
        "groups",
        "Groups the user belongs to, maintained through the Group resource",
        vec![
            ro(A::string("value", "Id of the group")),
            ro(A::new("$ref", Type::Reference, "URI of the group")).references(&["Group"]),
            ro(A::string("display", "Group's displayName")),
            ro(A::string("type", "direct or indirect")).canonical(&["direct", "indirect"]),
        ],
    ))
    .multi()
}

/// The core User schema.
pub fn user_schema() -> &'static Schema {
    static SCHEMA: LazyLock<Schema> = LazyLock::new(|| Schema {
        id: USER_SCHEMA,
        name: "User",
        description: "User account",
        attributes: vec![
            A::string(
                "userName",
                "Unique identifier of the user, case-insensitive",
            )
            .required()
            .unique(),
            name(),
            A::string("displayName", "Name for display"),
            A::string("nickName", "Casual name"),
            A::new("profileUrl", Type::Reference, "Profile page").references(&["external"]),
            A::string("title", "Job title"),
            A::string("userType", "Relationship to the organisation"),
            A::string("preferredLanguage", "Preferred language (RFC 7231 §5.3.5)"),
            A::string("locale", "Locale for formatting"),
            A::string("timezone", "IANA time zone"),
            A::new("active", Type::Boolean, "Whether the user may sign in"),
            A::string("password", "Cleartext password; never stored nor returned")
                .mutability(Mutability::WriteOnly)
                .returned(Returned::Never),
            plural("emails", "E-mail addresses", TYPES_EMAIL),
            plural("phoneNumbers", "Phone numbers", TYPES_PHONE),
            plural("ims", "Instant messaging addresses", &[]),
            plural("photos", "Photo URLs", &["photo", "thumbnail"]),
            addresses(),
            groups(),
            plural("entitlements", "Entitlements", &[]),
            plural("roles", "Roles", &[]),
            A::complex(
                "x509Certificates",
                "Certificates",
                vec![
                    A::new("value", Type::Binary, "DER certificate, base64"),
                    A::string("display", "A label"),
                    A::string("type", "A label"),
                    primary(),
                ],
            )
            .multi(),
        ],
    });
    &SCHEMA
}

/// The enterprise User extension; `employeeNumber` is the member's matricule.
pub fn enterprise_schema() -> &'static Schema {
    static SCHEMA: LazyLock<Schema> = LazyLock::new(|| Schema {
        id: ENTERPRISE_SCHEMA,
        name: "EnterpriseUser",
        description: "Enterprise user",
        attributes: vec![
            A::string(
                "employeeNumber",
                "The member's matricule, unique in the tenant",
            )
            .case_exact()
            .unique(),
            A::string("costCenter", "Cost center"),
            A::string("organization", "Organisation"),
            A::string("division", "Division"),
            A::string("department", "Department"),
            A::complex(
                "manager",
                "The user's manager",
                vec![
                    A::string("value", "Id of the manager's User"),
                    A::new("$ref", Type::Reference, "URI of the manager").references(&["User"]),
                    A::string("displayName", "Manager's displayName")
                        .mutability(Mutability::ReadOnly),
                ],
            ),
        ],
    });
    &SCHEMA
}
