//! Attribute definitions (RFC 7643 §2 and §7): the one description of each resource that
//! validation, projection and the `/Schemas` endpoint all read.

mod community;
mod core;
mod group;
mod user;

use serde_json::{Value, json};

pub use community::{COMMUNITY_SCHEMA, MEMBERSHIP_SCHEMA, community_schema, membership_schema};
pub use group::{GROUP_SCHEMA, group_schema};
pub use user::{ENTERPRISE_SCHEMA, USER_SCHEMA, enterprise_schema, user_schema};

/// An attribute's data type (RFC 7643 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    /// A Unicode string.
    String,
    /// `true` or `false`.
    Boolean,
    /// A real number.
    Decimal,
    /// A whole number.
    Integer,
    /// An RFC 3339 timestamp.
    DateTime,
    /// Base64 bytes.
    Binary,
    /// A URI naming another resource.
    Reference,
    /// A set of sub-attributes.
    Complex,
}

impl Type {
    fn name(self) -> &'static str {
        match self {
            Type::String => "string",
            Type::Boolean => "boolean",
            Type::Decimal => "decimal",
            Type::Integer => "integer",
            Type::DateTime => "dateTime",
            Type::Binary => "binary",
            Type::Reference => "reference",
            Type::Complex => "complex",
        }
    }
}

/// Whether and how a client may change an attribute (RFC 7643 §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutability {
    /// Set by the service only; client values are ignored.
    ReadOnly,
    /// Freely changed.
    ReadWrite,
    /// Set once, never changed.
    Immutable,
    /// Written, never returned.
    WriteOnly,
}

/// When an attribute appears in responses (RFC 7643 §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Returned {
    /// Always, whatever `attributes`/`excludedAttributes` say.
    Always,
    /// Never.
    Never,
    /// Unless excluded.
    Default,
    /// Only when asked for in `attributes`.
    Request,
}

/// One attribute definition.
#[derive(Debug, Clone)]
pub struct Attribute {
    /// Name, in its canonical spelling.
    pub name: &'static str,
    /// Data type.
    pub ty: Type,
    /// True for arrays.
    pub multi_valued: bool,
    /// Human description.
    pub description: &'static str,
    /// Must be present on create and replace.
    pub required: bool,
    /// Case matters when comparing values.
    pub case_exact: bool,
    /// Who may change it.
    pub mutability: Mutability,
    /// When it is returned.
    pub returned: Returned,
    /// `none`, `server` or `global`.
    pub uniqueness: &'static str,
    /// Suggested values.
    pub canonical_values: &'static [&'static str],
    /// For references: what they point to.
    pub reference_types: &'static [&'static str],
    /// For complex attributes.
    pub sub_attributes: Vec<Attribute>,
}

impl Attribute {
    /// A single-valued, optional, read-write, case-insensitive attribute of type `ty`.
    pub fn new(name: &'static str, ty: Type, description: &'static str) -> Self {
        Self {
            name,
            ty,
            multi_valued: false,
            description,
            required: false,
            case_exact: false,
            mutability: Mutability::ReadWrite,
            returned: Returned::Default,
            uniqueness: "none",
            canonical_values: &[],
            reference_types: &[],
            sub_attributes: Vec::new(),
        }
    }

    /// A string attribute.
    pub fn string(name: &'static str, description: &'static str) -> Self {
        Self::new(name, Type::String, description)
    }

    /// A complex attribute with these sub-attributes.
    pub fn complex(name: &'static str, description: &'static str, subs: Vec<Attribute>) -> Self {
        Self {
            sub_attributes: subs,
            ..Self::new(name, Type::Complex, description)
        }
    }

    /// Marks it multi-valued.
    pub fn multi(mut self) -> Self {
        self.multi_valued = true;
        self
    }
    /// Marks it required.
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }
    /// Marks it case-exact.
    pub fn case_exact(mut self) -> Self {
        self.case_exact = true;
        self
    }
    /// Sets its mutability.
    pub fn mutability(mut self, m: Mutability) -> Self {
        self.mutability = m;
        self
    }
    /// Sets when it is returned.
    pub fn returned(mut self, r: Returned) -> Self {
        self.returned = r;
        self
    }
    /// Marks it unique within the tenant.
    pub fn unique(mut self) -> Self {
        self.uniqueness = "server";
        self
    }
    /// Sets its canonical values.
    pub fn canonical(mut self, values: &'static [&'static str]) -> Self {
        self.canonical_values = values;
        self
    }
    /// Sets its reference types.
    pub fn references(mut self, types: &'static [&'static str]) -> Self {
        self.reference_types = types;
        self
    }

    /// The sub-attribute called `name` (case-insensitive, RFC 7643 §2.1).
    pub fn sub(&self, name: &str) -> Option<&Attribute> {
        find(&self.sub_attributes, name)
    }

    /// The RFC 7643 §7 representation used by `/Schemas`.
    pub fn to_json(&self) -> Value {
        let mut v = json!({
            "name": self.name,
            "type": self.ty.name(),
            "multiValued": self.multi_valued,
            "description": self.description,
            "required": self.required,
            "caseExact": self.case_exact,
            "mutability": match self.mutability {
                Mutability::ReadOnly => "readOnly",
                Mutability::ReadWrite => "readWrite",
                Mutability::Immutable => "immutable",
                Mutability::WriteOnly => "writeOnly",
            },
            "returned": match self.returned {
                Returned::Always => "always",
                Returned::Never => "never",
                Returned::Default => "default",
                Returned::Request => "request",
            },
            "uniqueness": self.uniqueness,
        });
        if !self.canonical_values.is_empty() {
            v["canonicalValues"] = json!(self.canonical_values);
        }
        if self.ty == Type::Reference {
            v["referenceTypes"] = json!(self.reference_types);
        }
        if self.ty == Type::Complex {
            let subs: Vec<Value> = self.sub_attributes.iter().map(Attribute::to_json).collect();
            v["subAttributes"] = json!(subs);
        }
        v
    }
}

/// The attribute called `name` among `attrs`, ignoring case.
pub fn find<'a>(attrs: &'a [Attribute], name: &str) -> Option<&'a Attribute> {
    attrs.iter().find(|a| a.name.eq_ignore_ascii_case(name))
}

/// A schema: its URN and its attributes.
#[derive(Debug, Clone)]
pub struct Schema {
    /// The schema URN.
    pub id: &'static str,
    /// Short name.
    pub name: &'static str,
    /// Human description.
    pub description: &'static str,
    /// Top-level attributes, without the common ones (`id`, `externalId`, `meta`).
    pub attributes: Vec<Attribute>,
}

impl Schema {
    /// The attribute called `name`, ignoring case.
    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        find(&self.attributes, name)
    }

    /// The RFC 7643 §7 representation, with `meta.location` under `base`.
    pub fn to_json(&self, base: &str) -> Value {
        let attrs: Vec<Value> = self.attributes.iter().map(Attribute::to_json).collect();
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "attributes": attrs,
            "meta": {"resourceType": "Schema", "location": format!("{base}/Schemas/{}", self.id)},
        })
    }
}

/// A resource type: its endpoint, core schema and extensions (RFC 7643 §6).
#[derive(Debug, Clone)]
pub struct ResourceType {
    /// `User`, `Group`, …
    pub name: &'static str,
    /// Path under the SCIM base, such as `/Users`.
    pub endpoint: &'static str,
    /// Human description.
    pub description: &'static str,
    /// The core schema.
    pub schema: &'static Schema,
    /// Extension schemas and whether each is required.
    pub extensions: Vec<(&'static Schema, bool)>,
}

impl ResourceType {
    /// The extension whose URN is `urn` (case-insensitive).
    pub fn extension(&self, urn: &str) -> Option<&'static Schema> {
        self.extensions
            .iter()
            .map(|(s, _)| *s)
            .find(|s| s.id.eq_ignore_ascii_case(urn))
    }

    /// The RFC 7643 §6 representation.
    pub fn to_json(&self, base: &str) -> Value {
        let extensions: Vec<Value> = self
            .extensions
            .iter()
            .map(|(s, required)| json!({"schema": s.id, "required": required}))
            .collect();
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
            "id": self.name,
            "name": self.name,
            "endpoint": self.endpoint,
            "description": self.description,
            "schema": self.schema.id,
            "schemaExtensions": extensions,
            "meta": {
                "resourceType": "ResourceType",
                "location": format!("{base}/ResourceTypes/{}", self.name),
            },
        })
    }
}

/// Every resource type muster serves.
pub fn resource_types() -> &'static [ResourceType] {
    use std::sync::LazyLock;
    static TYPES: LazyLock<Vec<ResourceType>> = LazyLock::new(|| {
        vec![
            ResourceType {
                name: "User",
                endpoint: "/Users",
                description: "A person of the tenant's directory",
                schema: user_schema(),
                extensions: vec![(enterprise_schema(), false), (membership_schema(), false)],
            },
            ResourceType {
                name: "Group",
                endpoint: "/Groups",
                description: "A group of users pushed by the identity provider",
                schema: group_schema(),
                extensions: vec![],
            },
            ResourceType {
                name: "Community",
                endpoint: "/Communities",
                description: "A community of the tenant (read-only)",
                schema: community_schema(),
                extensions: vec![],
            },
        ]
    });
    &TYPES
}

/// The resource type called `name`.
pub fn resource_type(name: &str) -> &'static ResourceType {
    resource_types()
        .iter()
        .find(|t| t.name == name)
        .expect("resource types are fixed at compile time")
}

/// Every schema muster serves, in `/Schemas` order.
pub fn schemas() -> [&'static Schema; 5] {
    [
        user_schema(),
        enterprise_schema(),
        group_schema(),
        community_schema(),
        membership_schema(),
    ]
}

pub use core::common_attributes;
