//! Names no one could tell apart are refused where they are written: an identifying
//! attribute (userName, an e-mail address, externalId, employeeNumber, a group's
//! displayName) holds no control character and no invisible (default-ignorable) one, so
//! that the folded uniqueness of [`crate::unicode::fold`] cannot be dodged with a U+200B.

use serde_json::Value;

use super::DirectoryError;
use super::records::Document;
use super::user::ENTERPRISE_SCHEMA;
use crate::unicode::check_identifier;

fn vet(attribute: &str, value: Option<&Value>) -> Result<(), DirectoryError> {
    match value.and_then(Value::as_str) {
        Some(s) => check_identifier(attribute, s).map_err(DirectoryError::Invalid),
        None => Ok(()),
    }
}

/// Vets a user's userName, externalId, e-mail addresses and employeeNumber.
pub fn vet_user(doc: &Document) -> Result<(), DirectoryError> {
    vet("userName", doc.get("userName"))?;
    vet("externalId", doc.get("externalId"))?;
    for email in doc
        .get("emails")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        vet("emails.value", email.get("value"))?;
    }
    let enterprise = doc.get(ENTERPRISE_SCHEMA);
    vet(
        "employeeNumber",
        enterprise.and_then(|e| e.get("employeeNumber")),
    )
}

/// Vets a group's displayName and externalId.
pub fn vet_group(doc: &Document) -> Result<(), DirectoryError> {
    vet("displayName", doc.get("displayName"))?;
    vet("externalId", doc.get("externalId"))
}
