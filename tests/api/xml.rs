//! XML on the SCIM routes (seed 003): the seed's own request is accepted and answered in its
//! shape, answers follow `Accept`, errors and lists come as XML too, and the reader refuses
//! document type declarations and entities.

use axum::body::Body;
use http::{Method, Request, StatusCode};
use muster::scim::xml::{Element, parse};
use serde_json::json;

use crate::helpers::{Answer, ENTERPRISE, TestApp};

/// The seed's XML create request, byte for byte but for the address its copy hides.
const SEED_REQUEST: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<scimUser xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<schemas>
<schema>urn:ietf:params:scim:schemas:core:2.0:User</schema>
</schemas>
<userName>bjensen@example.com</userName>
<name>
<givenName>Barbara</givenName>
<familyName>Jensen</familyName>
</name>
<phoneNumbers>
<phoneNumber>
<value>555-555-5555</value>
</phoneNumber>
</phoneNumbers>
<title>Tour Guide</title>
<preferredLanguage>en-US</preferredLanguage>
<timezone>America/Los_Angeles</timezone>
</scimUser>"#;

impl TestApp {
    /// Sends `method path` with an XML body (or none) and these headers, as tenant Acme.
    pub(crate) async fn xml(
        &self,
        method: Method,
        path: &str,
        body: Option<&str>,
        accept: &str,
    ) -> Answer {
        let mut req = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base()))
            .header("host", "scim.test")
            .header("authorization", format!("Bearer {}", self.acme.token))
            .header("accept", accept);
        if body.is_some() {
            req = req.header("content-type", "application/xml");
        }
        let body = body.map_or_else(Body::empty, |b| Body::from(b.to_owned()));
        self.send(req.body(body).unwrap()).await
    }
}

/// The XML document of an answer, asserting it is one.
fn document(a: &Answer) -> Element {
    assert_eq!(
        a.header("content-type"),
        Some("application/xml; charset=utf-8"),
        "{}",
        a.body
    );
    parse(a.body.as_str().expect("an XML body").as_bytes()).expect("well-formed XML")
}

fn child<'a>(e: &'a Element, path: &str) -> &'a Element {
    path.split('/').fold(e, |e, name| {
        e.children
            .iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("no <{name}> in <{}>", e.name))
    })
}

#[tokio::test]
async fn the_seeds_xml_request_creates_the_user_and_is_answered_in_its_shape() {
    let app = TestApp::new().await;
    let a = app
        .xml(
            Method::POST,
            "/Users",
            Some(SEED_REQUEST),
            "application/xml",
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    let doc = document(&a);
    assert_eq!(doc.name, "scimUser");
    assert_eq!(
        child(&doc, "schemas/schema").text,
        "urn:ietf:params:scim:schemas:core:2.0:User"
    );
    assert_eq!(child(&doc, "userName").text, "bjensen@example.com");
    assert_eq!(child(&doc, "name/givenName").text, "Barbara");
    assert_eq!(
        child(&doc, "phoneNumbers/phoneNumber/value").text,
        "555-555-5555"
    );
    assert_eq!(child(&doc, "timezone").text, "America/Los_Angeles");
    let id = &child(&doc, "id").text;
    assert_eq!(
        Some(child(&doc, "meta/location").text.as_str()),
        a.header("location")
    );
    // The same user, read as JSON, holds what the XML said.
    let json = app.get(&format!("/Users/{id}")).await;
    assert_eq!(json.body["name"]["familyName"], "Jensen");
    assert_eq!(
        json.body["phoneNumbers"],
        json!([{"value": "555-555-5555"}])
    );
    assert_eq!(json.body["title"], "Tour Guide");
}

#[tokio::test]
async fn an_xml_answer_put_back_as_is_changes_nothing() {
    let app = TestApp::new().await;
    let created = app
        .xml(
            Method::POST,
            "/Users",
            Some(SEED_REQUEST),
            "application/xml",
        )
        .await;
    let id = child(&document(&created), "id").text.clone();
    let before = app.get(&format!("/Users/{id}")).await.body;
    let xml = created.body.as_str().unwrap();
    let put = app
        .xml(
            Method::PUT,
            &format!("/Users/{id}"),
            Some(xml),
            "application/xml",
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.body);
    let after = app.get(&format!("/Users/{id}")).await.body;
    let without_meta = |mut v: serde_json::Value| {
        v.as_object_mut().unwrap().remove("meta");
        v
    };
    assert_eq!(without_meta(after), without_meta(before));
    let read = app
        .xml(
            Method::GET,
            &format!("/Users/{id}"),
            None,
            "application/xml",
        )
        .await;
    assert_eq!(document(&read), document(&put));
}

#[tokio::test]
async fn types_extensions_and_patch_operations_are_read_from_xml() {
    let app = TestApp::new().await;
    let body = format!(
        r#"<scimUser><schemas><schema>urn:ietf:params:scim:schemas:core:2.0:User</schema><schema>{ENTERPRISE}</schema></schemas>
        <userName>ada@acme.test</userName><active>true</active>
        <emails><email><value>ada@acme.test</value><primary>true</primary></email></emails>
        <extension schema="{ENTERPRISE}"><employeeNumber>E7</employeeNumber></extension></scimUser>"#
    );
    let a = app
        .xml(Method::POST, "/Users", Some(&body), "application/scim+json")
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    assert_eq!(a.header("content-type"), Some("application/scim+json"));
    assert_eq!(a.body["active"], true);
    assert_eq!(a.body["emails"][0]["primary"], true);
    assert_eq!(a.body[ENTERPRISE]["employeeNumber"], "E7");
    let id = a.body["id"].as_str().unwrap();
    let patch = r#"<scimPatchOp><schemas><schema>urn:ietf:params:scim:api:messages:2.0:PatchOp</schema></schemas>
        <Operations><Operation><op>replace</op><path>active</path><value>false</value></Operation>
        <Operation><op>add</op><value><title>Countess</title></value></Operation></Operations></scimPatchOp>"#;
    let p = app
        .xml(
            Method::PATCH,
            &format!("/Users/{id}"),
            Some(patch),
            "application/xml",
        )
        .await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    let doc = document(&p);
    assert_eq!(child(&doc, "active").text, "false");
    assert_eq!(child(&doc, "title").text, "Countess");
    assert_eq!(
        child(&doc, "extension/employeeNumber").text,
        "E7",
        "an extension is written as <extension schema=…>"
    );
}

#[tokio::test]
async fn groups_and_their_members_travel_as_xml() {
    let app = TestApp::new().await;
    let alice = app.create_user("alice@acme.test").await;
    let bob = app.create_user("bob@acme.test").await;
    let body = format!(
        "<scimGroup><schemas><schema>urn:ietf:params:scim:schemas:core:2.0:Group</schema></schemas>\
         <displayName>Ops</displayName><members><member><value>{alice}</value></member></members></scimGroup>"
    );
    let g = app
        .xml(Method::POST, "/Groups", Some(&body), "application/xml")
        .await;
    assert_eq!(g.status, StatusCode::CREATED, "{}", g.body);
    let doc = document(&g);
    assert_eq!(doc.name, "scimGroup");
    assert_eq!(child(&doc, "members/member/value").text, alice);
    assert!(child(&doc, "members/member/ref").text.ends_with(&alice));
    let id = child(&doc, "id").text.clone();
    let patch = format!(
        "<scimPatchOp><schemas><schema>urn:ietf:params:scim:api:messages:2.0:PatchOp</schema></schemas>\
         <Operations><Operation><op>add</op><path>members</path><value><member><value>{bob}</value></member></value></Operation>\
         <Operation><op>remove</op><path>members[value eq \"{alice}\"]</path></Operation></Operations></scimPatchOp>"
    );
    let p = app
        .xml(
            Method::PATCH,
            &format!("/Groups/{id}"),
            Some(&patch),
            "application/xml",
        )
        .await;
    assert_eq!(p.status, StatusCode::NO_CONTENT, "{}", p.body);
    let members = app.get(&format!("/Groups/{id}")).await.body["members"].clone();
    assert_eq!(members.as_array().unwrap().len(), 1);
    assert_eq!(members[0]["value"], bob.as_str());
}

#[tokio::test]
async fn lists_and_errors_are_xml_when_xml_is_accepted() {
    let app = TestApp::new().await;
    app.create_user("ada@acme.test").await;
    let list = app
        .xml(
            Method::GET,
            "/Users?filter=userName%20eq%20%22ada@acme.test%22",
            None,
            "application/xml",
        )
        .await;
    let doc = document(&list);
    assert_eq!(doc.name, "scimListResponse");
    assert_eq!(child(&doc, "totalResults").text, "1");
    assert_eq!(
        child(&doc, "Resources/scimUser/userName").text,
        "ada@acme.test"
    );
    let missing = app.xml(Method::GET, "/Users/nope", None, "text/xml").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let doc = document(&missing);
    assert_eq!(doc.name, "scimError");
    assert_eq!(child(&doc, "status").text, "404");
    let json = app.get("/Users/nope").await;
    assert_eq!(json.header("content-type"), Some("application/scim+json"));
}

#[tokio::test]
async fn doctypes_entities_and_malformed_xml_are_refused_and_nothing_is_created() {
    let app = TestApp::new().await;
    let attacks = [
        r#"<?xml version="1.0"?><!DOCTYPE u [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><scimUser><userName>&b;</userName></scimUser>"#,
        r#"<?xml version="1.0"?><!DOCTYPE u [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><scimUser><userName>&xxe;</userName></scimUser>"#,
        "<scimUser><userName>&xxe;</userName></scimUser>",
        "<scimUser><userName>x</userName>",
        "<scimUser><userName>a</userName><userName>b</userName></scimUser>",
    ];
    for attack in attacks {
        let a = app
            .xml(Method::POST, "/Users", Some(attack), "application/xml")
            .await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{attack}");
        let doc = document(&a);
        assert_eq!(child(&doc, "scimType").text, "invalidSyntax", "{attack}");
    }
    let list = app.get("/Users").await;
    assert_eq!(list.body["totalResults"], 0);
}

#[tokio::test]
async fn xml_is_read_only_where_resources_are_written() {
    let app = TestApp::new().await;
    let a = app
        .xml(
            Method::POST,
            "/Bulk",
            Some("<scimBulkRequest/>"),
            "application/scim+json",
        )
        .await;
    a.assert_scim_error(415, None);
}
