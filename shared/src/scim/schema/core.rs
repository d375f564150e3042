//! The attributes every resource has (RFC 7643 §3.1): `id`, `externalId`, `meta`.

use std::sync::LazyLock;

use super::{Attribute, Mutability, Returned, Type};

/// `id`, `externalId` and `meta`, as a validator sees them.
pub fn common_attributes() -> &'static [Attribute] {
    static COMMON: LazyLock<Vec<Attribute>> = LazyLock::new(|| {
        let read_only = |a: Attribute| a.mutability(Mutability::ReadOnly);
        vec![
            read_only(Attribute::string(
                "id",
                "Unique identifier issued by muster",
            ))
            .case_exact()
            .returned(Returned::Always)
            .unique(),
            Attribute::string("externalId", "Identifier issued by the provisioning client")
                .case_exact(),
            read_only(Attribute::complex(
                "meta",
                "Resource metadata",
                vec![
                    read_only(Attribute::string("resourceType", "Type of the resource")),
                    read_only(Attribute::new("created", Type::DateTime, "Creation time")),
                    read_only(Attribute::new(
                        "lastModified",
                        Type::DateTime,
                        "Last modification time",
                    )),
                    read_only(Attribute::new("location", Type::Reference, "Resource URI"))
                        .references(&["uri"]),
                    read_only(Attribute::string("version", "Weak ETag of the resource"))
                        .case_exact(),
                ],
            )),
        ]
    });
    &COMMON
}
