//! Fuzzes the SCIM XML reader: `muster::scim::xml::read` on arbitrary bytes as each kind of
//! body, and, when a body is read, writing its JSON back as XML must give a document the
//! reader parses again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use muster::scim::schema::resource_type;
use muster::scim::xml::{Body, parse, read, to_xml};

fuzz_target!(|data: &[u8]| {
    let user = resource_type("User");
    let group = resource_type("Group");
    for body in [
        Body::Resource(user),
        Body::Resource(group),
        Body::Patch(user),
        Body::Patch(group),
        Body::Search,
    ] {
        if let Ok(json) = read(data, body) {
            let written = to_xml(&json);
            assert!(
                parse(written.as_bytes()).is_ok(),
                "muster wrote XML it cannot read: {written}"
            );
        }
    }
});
