//! Discovery endpoints (RFC 7644 §4) describe exactly what the service does.

use http::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::{ENTERPRISE, GROUP, TestApp, USER};

#[tokio::test]
async fn service_provider_config_advertises_patch_etags_limits_and_bearer_auth() {
    let app = TestApp::new().await;
    let spc = app.get("/ServiceProviderConfig").await;
    assert_eq!(spc.status, StatusCode::OK);
    assert_eq!(spc.header("content-type"), Some("application/scim+json"));
    let b = &spc.body;
    assert_eq!(b["patch"]["supported"], true);
    assert_eq!(b["etag"]["supported"], true);
    assert_eq!(b["filter"]["supported"], true);
    assert_eq!(b["bulk"]["supported"], true);
    assert_eq!(b["bulk"]["maxOperations"], 1000);
    assert_eq!(b["sort"]["supported"], true);
    assert_eq!(b["pagination"]["cursor"], true);
    assert_eq!(b["filter"]["maxResults"], 1000);
    assert_eq!(b["bulk"]["maxPayloadSize"], 1024 * 1024);
    assert_eq!(b["authenticationSchemes"][0]["type"], "oauthbearertoken");
    assert!(
        b["meta"]["location"]
            .as_str()
            .unwrap()
            .ends_with("/ServiceProviderConfig")
    );
}

#[tokio::test]
async fn resource_types_name_their_schemas_and_extensions() {
    let app = TestApp::new().await;
    let list = app.get("/ResourceTypes").await.body;
    assert_eq!(list["totalResults"], 3);
    let user = app.get("/ResourceTypes/User").await.body;
    assert_eq!(user["endpoint"], "/Users");
    assert_eq!(user["schema"], USER);
    assert_eq!(user["schemaExtensions"][0]["schema"], ENTERPRISE);
    assert_eq!(
        user["schemaExtensions"][1]["schema"],
        "urn:muster:params:scim:schemas:extension:community:2.0:User"
    );
    assert_eq!(app.get("/ResourceTypes/Group").await.body["schema"], GROUP);
    app.get("/ResourceTypes/Nope")
        .await
        .assert_scim_error(404, None);
}

fn attribute<'a>(schema: &'a Value, name: &str) -> &'a Value {
    schema["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == name)
        .unwrap()
}

#[tokio::test]
async fn schemas_list_every_attribute_with_its_characteristics() {
    let app = TestApp::new().await;
    let list = app.get("/Schemas").await.body;
    let ids: Vec<&str> = list["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    let community = "urn:muster:params:scim:schemas:core:2.0:Community";
    let memberships = "urn:muster:params:scim:schemas:extension:community:2.0:User";
    assert_eq!(ids, [USER, ENTERPRISE, GROUP, community, memberships]);
    let user = app.get(&format!("/Schemas/{USER}")).await.body;
    let user_name = attribute(&user, "userName");
    assert_eq!(user_name["required"], true);
    assert_eq!(user_name["caseExact"], false);
    assert_eq!(user_name["uniqueness"], "server");
    let emails = attribute(&user, "emails");
    assert_eq!(emails["multiValued"], true);
    assert_eq!(emails["subAttributes"].as_array().unwrap().len(), 4);
    assert_eq!(attribute(&user, "password")["returned"], "never");
    assert_eq!(attribute(&user, "groups")["mutability"], "readOnly");
    let enterprise = app.get(&format!("/Schemas/{ENTERPRISE}")).await.body;
    assert_eq!(
        attribute(&enterprise, "employeeNumber")["uniqueness"],
        "server"
    );
    app.get("/Schemas/urn:nope")
        .await
        .assert_scim_error(404, None);
}

#[tokio::test]
async fn discovery_endpoints_refuse_other_methods_with_405() {
    let app = TestApp::new().await;
    for path in ["/ServiceProviderConfig", "/Schemas", "/ResourceTypes"] {
        let a = app
            .call(Method::POST, path, Some(serde_json::json!({})))
            .await;
        a.assert_scim_error(405, None);
    }
    app.call(Method::DELETE, "/Users", None)
        .await
        .assert_scim_error(405, None);
}
