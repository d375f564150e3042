//! The typed commands that create and change users outside a protocol (member files): a
//! [`NewUser`] and the [`UserChange`] that brings a stored user in line with one.
//!
//! A user's record is its SCIM representation (RFC 7643 §4.1, with the enterprise extension of
//! §4.3 for the employee number); these commands write the attributes they own and keep every
//! other one as it is. As in SCIM, an empty value is an absent one.

use serde_json::{Value, json};

use super::records::Document;

/// The core User schema URN (RFC 7643 §8.7.1).
pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// The enterprise User extension's URN (RFC 7643 §4.3).
pub const ENTERPRISE_SCHEMA: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// A user as a member file states it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NewUser {
    /// The sign-in name; also the work e-mail.
    pub user_name: String,
    /// Given name.
    pub given_name: String,
    /// Family name.
    pub family_name: String,
    /// The employee number (matricule), unique in the tenant, when the user has one.
    pub employee_number: Option<String>,
    /// Job title, when stated.
    pub title: Option<String>,
    /// Work phone number, when stated.
    pub phone: Option<String>,
}

/// One attribute a [`UserChange`] sets, with its new value.
#[derive(Debug, Clone, PartialEq)]
enum Set {
    /// A top-level attribute (`userName`, `emails`, `title`, `phoneNumbers`).
    Attribute(&'static str, Value),
    /// A sub-attribute of `name` (`Null`: removed).
    Name(&'static str, Value),
}

/// The attributes to set on a stored user; empty when it is already in line.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct UserChange {
    sets: Vec<Set>,
}

impl NewUser {
    /// The record of a new, active user.
    pub fn record(&self) -> Document {
        let mut doc = Document::new();
        doc.insert("schemas".into(), json!([USER_SCHEMA, ENTERPRISE_SCHEMA]));
        doc.insert("userName".into(), json!(self.user_name));
        doc.insert("active".into(), json!(true));
        let mut name = Document::new();
        for (sub, value) in self.names() {
            if !value.is_null() {
                name.insert(sub.into(), value);
            }
        }
        if !name.is_empty() {
            doc.insert("name".into(), Value::Object(name));
        }
        for (name, value) in self.owned() {
            if !value.is_null() {
                doc.insert(name.into(), value);
            }
        }
        match present(self.employee_number.as_deref()) {
            Some(number) => {
                doc.insert(ENTERPRISE_SCHEMA.into(), json!({"employeeNumber": number}));
            }
            None => {
                doc.insert("schemas".into(), json!([USER_SCHEMA]));
            }
        }
        doc
    }

    /// The top-level attributes this user states besides its name, as stored (`Null`: the
    /// file does not state it).
    fn owned(&self) -> [(&'static str, Value); 4] {
        let work = |value: &str| json!([{"value": value, "type": "work"}]);
        [
            ("userName", json!(self.user_name)),
            (
                "emails",
                json!([{"value": self.user_name, "type": "work", "primary": true}]),
            ),
            (
                "title",
                present(self.title.as_deref()).map_or(Value::Null, |t| json!(t)),
            ),
            (
                "phoneNumbers",
                present(self.phone.as_deref()).map_or(Value::Null, work),
            ),
        ]
    }

    /// The sub-attributes of `name` (`Null`: empty, so absent).
    fn names(&self) -> [(&'static str, Value); 2] {
        let value = |v: &str| present(Some(v)).map_or(Value::Null, |v| json!(v));
        [
            ("givenName", value(&self.given_name)),
            ("familyName", value(&self.family_name)),
        ]
    }

    /// What changes `current` (a stored user's document) into this user: the attributes the
    /// file states that differ. An attribute the file leaves out (no title) is left alone.
    pub fn change_from(&self, current: &Document) -> UserChange {
        let mut sets = Vec::new();
        for (name, wanted) in self.owned() {
            if !wanted.is_null() && current.get(name) != Some(&wanted) {
                sets.push(Set::Attribute(name, wanted));
            }
        }
        let name = current.get("name");
        for (sub, wanted) in self.names() {
            let stored = name.and_then(|n| n.get(sub)).unwrap_or(&Value::Null);
            if *stored != wanted {
                sets.push(Set::Name(sub, wanted));
            }
        }
        UserChange { sets }
    }
}

/// The attributes of a stored user's document that a member file states, as [`stated`] reads
/// them; a `null` reads as absent, which is how [`NewUser::change_from`] compares it.
#[derive(serde::Deserialize)]
struct Stated {
    #[serde(rename = "userName")]
    user_name: Option<Value>,
    emails: Option<Value>,
    title: Option<Value>,
    #[serde(rename = "phoneNumbers")]
    phone_numbers: Option<Value>,
    name: Option<Value>,
}

/// The attributes of a stored user's document (its JSON) that a member file states:
/// `userName`, `emails`, `title`, `phoneNumbers` and `name`, the others skipped unbuilt. What
/// [`NewUser::change_from`] compares and [`UserChange::apply`] writes is all there, so the
/// change it answers is the one the whole document gives: a MIRROR reads every member of its
/// file, and building whole documents was a tenth of that read.
pub fn stated(json: &[u8]) -> serde_json::Result<Document> {
    let s: Stated = serde_json::from_slice(json)?;
    let attributes = [
        ("userName", s.user_name),
        ("emails", s.emails),
        ("title", s.title),
        ("phoneNumbers", s.phone_numbers),
        ("name", s.name),
    ];
    Ok(attributes
        .into_iter()
        .filter_map(|(name, value)| Some((name.to_owned(), value?)))
        .collect())
}

/// `value` unless it is empty (or blank).
fn present(value: Option<&str>) -> Option<&str> {
    value.filter(|v| !v.trim().is_empty())
}

impl UserChange {
    /// Whether nothing changes.
    pub fn is_empty(&self) -> bool {
        self.sets.is_empty()
    }

    /// Applies the change to a user's body (without `id` and `meta`).
    pub fn apply(&self, doc: &mut Document) {
        for set in &self.sets {
            match set {
                Set::Attribute(name, value) => {
                    doc.insert((*name).into(), value.clone());
                }
                Set::Name(sub, value) => {
                    let name = doc.entry("name").or_insert_with(|| json!({}));
                    if !name.is_object() {
                        *name = json!({});
                    }
                    let fields = name.as_object_mut().expect("an object");
                    if value.is_null() {
                        fields.remove(*sub);
                    } else {
                        fields.insert((*sub).into(), value.clone());
                    }
                    if fields.is_empty() {
                        doc.remove("name");
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stated_attributes_of_a_document_give_the_change_the_whole_document_gives() {
        let stored = NewUser {
            title: Some("Engineer".into()),
            ..ada()
        }
        .record();
        let mut whole = stored.clone();
        whole.insert("id".into(), json!("u1"));
        whole.insert("nickName".into(), json!("Ada"));
        whole.insert("meta".into(), json!({"resourceType": "User"}));
        let json = serde_json::to_vec(&whole).unwrap();
        let read = stated(&json).unwrap();
        assert!(!read.contains_key("meta") && !read.contains_key("nickName"));
        let renamed = NewUser {
            family_name: "King".into(),
            phone: Some("+44 20 0000".into()),
            ..ada()
        };
        for wanted in [ada(), renamed] {
            assert_eq!(wanted.change_from(&read), wanted.change_from(&whole));
        }
        assert!(ada().change_from(&read).is_empty());
    }

    fn ada() -> NewUser {
        NewUser {
            user_name: "ada@acme.test".into(),
            given_name: "Ada".into(),
            family_name: "Lovelace".into(),
            employee_number: Some("E1".into()),
            title: Some("Engineer".into()),
            phone: None,
        }
    }

    #[test]
    fn a_new_users_record_changes_nothing_when_compared_with_itself() {
        let record = ada().record();
        assert!(ada().change_from(&record).is_empty());
        assert_eq!(record["active"], true);
        assert_eq!(record[ENTERPRISE_SCHEMA]["employeeNumber"], "E1");
        assert!(record.get("phoneNumbers").is_none());
    }

    #[test]
    fn a_change_sets_only_what_differs_and_keeps_the_rest() {
        let mut stored = ada().record();
        stored.insert("nickName".into(), json!("Countess"));
        stored.insert(
            "phoneNumbers".into(),
            json!([{"value": "1", "type": "work"}]),
        );
        let mut wanted = ada();
        wanted.family_name = "King".into();
        wanted.title = None;
        let change = wanted.change_from(&stored);
        assert_eq!(change.sets.len(), 1, "{change:?}");
        change.apply(&mut stored);
        assert_eq!(stored["name"]["familyName"], "King");
        assert_eq!(stored["name"]["givenName"], "Ada");
        assert_eq!(
            stored["title"], "Engineer",
            "a title the file leaves out stays"
        );
        assert_eq!(stored["nickName"], "Countess");
        assert!(wanted.change_from(&stored).is_empty());
    }

    #[test]
    fn an_empty_name_in_the_file_is_an_absent_one() {
        let mut nameless = ada();
        nameless.given_name = String::new();
        let record = nameless.record();
        assert!(record["name"].get("givenName").is_none());
        assert!(nameless.change_from(&record).is_empty());
        let mut stored = ada().record();
        nameless.change_from(&stored).apply(&mut stored);
        assert_eq!(stored["name"], json!({"familyName": "Lovelace"}));
    }
}
