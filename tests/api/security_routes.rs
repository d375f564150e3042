//! The security sweep's route table: every route × method the Router serves, who may call it
//! (public routes with the reason) and a request that reaches it; and a guard that the table
//! lists exactly what the router sources declare, so no route escapes the sweep.

use std::collections::BTreeSet;

use Guard::{Console, Imports, Operator, Public, Scim};

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guard {
    /// A SCIM token, or a `scim` access token, of the tenant in the path; SCIM errors.
    Scim,
    /// The operator key; JSON errors.
    Operator,
    /// An access token with scope `imports`; the tenant is the token's; JSON errors.
    Imports,
    /// A console session cookie of the tenant (and, to change anything, the session's CSRF
    /// token and this service's `Origin`); HTML pages, a redirect to sign in without one.
    Console,
    /// Reachable without a bearer token, for the reason given.
    Public(&'static str),
}

/// One route × method.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    /// The file under `shared/src/http/` that declares it.
    pub file: &'static str,
    /// The path as declared there, below the file's mount point.
    pub path: &'static str,
    pub method: &'static str,
    pub guard: Guard,
    /// A request the right credential gets a 2xx for: URI with `{placeholders}`, and body.
    pub sample: &'static str,
    pub body: &'static str,
}

const fn r(
    file: &'static str,
    path: &'static str,
    method: &'static str,
    guard: Guard,
    sample: &'static str,
    body: &'static str,
) -> Route {
    Route {
        file,
        path,
        method,
        guard,
        sample,
        body,
    }
}

/// Where each router file is mounted (the `.nest` calls of `mod.rs`).
pub const MOUNTS: [(&str, &str); 6] = [
    ("mod.rs", ""),
    ("console/mod.rs", ""),
    ("resources.rs", "/tenants/{tenant}/scim/v2"),
    ("discovery.rs", "/tenants/{tenant}/scim/v2"),
    ("admin.rs", "/admin"),
    ("v1.rs", "/v1"),
];

const SOURCES: [(&str, &str); 6] = [
    ("mod.rs", include_str!("../../shared/src/http/mod.rs")),
    (
        "console/mod.rs",
        include_str!("../../shared/src/http/console/mod.rs"),
    ),
    (
        "resources.rs",
        include_str!("../../shared/src/http/resources.rs"),
    ),
    (
        "discovery.rs",
        include_str!("../../shared/src/http/discovery.rs"),
    ),
    ("admin.rs", include_str!("../../shared/src/http/admin.rs")),
    ("v1.rs", include_str!("../../shared/src/http/v1.rs")),
];

/// The SCIM base of the tenant `{tenant}`, `{S}` in samples.
pub const S: &str = "/tenants/{tenant}/scim/v2";
const SEARCH: &str = r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]}"#;
const BLOB: &str = r#"{"blob":{"filename":"m.csv","content_type":"text/csv","byte_size":10,"checksum":"1B2M2Y8AsgTpgAmY7PhCfg=="}}"#;
const MAPPING: &str = r#"{"group":"Sweepers","community":"{community}","role":"member"}"#;

/// Every route × method of the Router, one per line.
#[rustfmt::skip]
pub const ROUTES: &[Route] = &[
    r("mod.rs", "/health", "GET", Public("a liveness probe for load balancers; answers a constant"), "/health", ""),
    r("mod.rs", "/oauth/token", "POST", Public("the token endpoint takes client credentials (RFC 6749 §2.3), not a bearer token"), "/oauth/token", "grant_type=client_credentials"),
    r("mod.rs", "/uploads/{token}", "PUT", Public("the 256-bit token in the path is the credential, as a presigned S3 URL's signature is"), "/uploads/{upload}", ""),
    r("console/mod.rs", "/console", "GET", Console, "/console", ""),
    r("console/mod.rs", "/console/", "GET", Console, "/console/", ""),
    r("console/mod.rs", "/console/sign-in", "GET", Public("shows a button; opening the link changes nothing"), "/console/sign-in?tenant=someone&code=x", ""),
    r("console/mod.rs", "/console/sign-in", "POST", Public("the one-time code in the form is the credential"), "/console/sign-in", "tenant=someone&code=x"),
    r("console/mod.rs", "/console/sign-out", "POST", Public("ends the session the cookie names, with that session's CSRF token"), "/console/sign-out", ""),
    r("console/mod.rs", "/console/signed-out", "GET", Public("a page that says how to sign in"), "/console/signed-out", ""),
    r("console/mod.rs", "/console/communities/{id}", "GET", Console, "/console/communities/{community}", ""),
    r("console/mod.rs", "/console/communities/{id}/invitations", "POST", Console, "/console/communities/{community}/invitations", "csrf={csrf}&all=1"),
    r("console/mod.rs", "/console/communities/{id}/imports", "GET", Console, "/console/communities/{community}/imports", ""),
    r("console/mod.rs", "/console/communities/{id}/imports/{job}", "GET", Console, "/console/communities/{community}/imports/{job}", ""),
    r("console/mod.rs", "/console/templates", "GET", Console, "/console/templates?operation=UPSERT&format=csv", ""),
    r("console/mod.rs", "/console/activity", "GET", Console, "/console/activity", ""),
    r("console/mod.rs", "/console/settings", "GET", Console, "/console/settings", ""),
    r("console/mod.rs", "/console/settings", "POST", Console, "/console/settings", "csrf={csrf}&mirror=25&retention=14"),
    r("console/mod.rs", "/console/integrations", "GET", Console, "/console/integrations", ""),
    r("console/mod.rs", "/console/integrations/sync", "POST", Console, "/console/integrations/sync", "csrf={csrf}&on=1"),
    r("console/mod.rs", "/console/integrations/tokens", "POST", Console, "/console/integrations/tokens", "csrf={csrf}&name=Sweep"),
    r("console/mod.rs", "/console/integrations/tokens/{id}/revoke", "POST", Console, "/console/integrations/tokens/{token_id}/revoke", "csrf={csrf}"),
    r("console/mod.rs", "/console/integrations/groups", "GET", Console, "/console/integrations/groups", ""),
    r("console/mod.rs", "/console/integrations/groups", "POST", Console, "/console/integrations/groups", "csrf={csrf}&group_id={group}&community={community}&role=member"),
    r("console/mod.rs", "/console/integrations/groups/remove", "POST", Console, "/console/integrations/groups/remove", "csrf={csrf}&group_id={group}&community={community}"),
    r("console/mod.rs", "/console/connections", "GET", Console, "/console/connections", ""),
    r("console/mod.rs", "/console/connections", "POST", Console, "/console/connections", "csrf={csrf}&name=Sweep&scope=imports"),
    r("console/mod.rs", "/console/connections/{id}/revoke", "POST", Console, "/console/connections/{client}/revoke", "csrf={csrf}"),
    r("console/mod.rs", "/console/assets/{file}", "GET", Public("the stylesheet and scripts compiled into the binary"), "/console/assets/console.css", ""),
    r("console/mod.rs", "/console/{*rest}", "ANY", Public("the console's not-found page"), "/console/no-such-page", ""),
    r("resources.rs", "/.search", "POST", Scim, "{S}/.search", SEARCH),
    r("resources.rs", "/Bulk", "POST", Scim, "{S}/Bulk", r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"Operations":[{"method":"POST","path":"/Users","bulkId":"b1","data":{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"bulk@acme.test"}}]}"#),
    r("resources.rs", "/Users/.search", "POST", Scim, "{S}/Users/.search", SEARCH),
    r("resources.rs", "/Groups/.search", "POST", Scim, "{S}/Groups/.search", SEARCH),
    r("resources.rs", "/Communities/.search", "POST", Scim, "{S}/Communities/.search", SEARCH),
    r("resources.rs", "/Communities", "GET", Scim, "{S}/Communities", ""),
    r("resources.rs", "/Communities/{id}", "GET", Scim, "{S}/Communities/{community}", ""),
    r("resources.rs", "/Users", "GET", Scim, "{S}/Users", ""),
    r("resources.rs", "/Users", "POST", Scim, "{S}/Users", r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"new@acme.test"}"#),
    r("resources.rs", "/Users/{id}", "GET", Scim, "{S}/Users/{user}", ""),
    r("resources.rs", "/Users/{id}", "PUT", Scim, "{S}/Users/{user}", r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"victim@acme.test","active":false}"#),
    r("resources.rs", "/Users/{id}", "PATCH", Scim, "{S}/Users/{user}", r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":true}]}"#),
    r("resources.rs", "/Users/{id}", "DELETE", Scim, "{S}/Users/{user}", ""),
    r("resources.rs", "/Groups", "GET", Scim, "{S}/Groups", ""),
    r("resources.rs", "/Groups", "POST", Scim, "{S}/Groups", r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"New"}"#),
    r("resources.rs", "/Groups/{id}", "GET", Scim, "{S}/Groups/{group}", ""),
    r("resources.rs", "/Groups/{id}", "PUT", Scim, "{S}/Groups/{group}", r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Sweepers"}"#),
    r("resources.rs", "/Groups/{id}", "PATCH", Scim, "{S}/Groups/{group}", r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"displayName","value":"Sweepers"}]}"#),
    r("resources.rs", "/Groups/{id}", "DELETE", Scim, "{S}/Groups/{group}", ""),
    r("discovery.rs", "/ServiceProviderConfig", "GET", Scim, "{S}/ServiceProviderConfig", ""),
    r("discovery.rs", "/ResourceTypes", "GET", Scim, "{S}/ResourceTypes", ""),
    r("discovery.rs", "/ResourceTypes/{id}", "GET", Scim, "{S}/ResourceTypes/User", ""),
    r("discovery.rs", "/Schemas", "GET", Scim, "{S}/Schemas", ""),
    r("discovery.rs", "/Schemas/{id}", "GET", Scim, "{S}/Schemas/urn:ietf:params:scim:schemas:core:2.0:User", ""),
    r("admin.rs", "/tenants", "POST", Operator, "/admin/tenants", r#"{"name":"Gamma"}"#),
    r("admin.rs", "/tenants", "GET", Operator, "/admin/tenants", ""),
    r("admin.rs", "/tenants/{t}", "GET", Operator, "/admin/tenants/{tenant}", ""),
    r("admin.rs", "/tenants/{t}", "PATCH", Operator, "/admin/tenants/{tenant}", r#"{"sync":true}"#),
    r("admin.rs", "/tenants/{t}/tokens", "POST", Operator, "/admin/tenants/{tenant}/tokens", ""),
    r("admin.rs", "/tenants/{t}/tokens", "GET", Operator, "/admin/tenants/{tenant}/tokens", ""),
    r("admin.rs", "/tenants/{t}/tokens/{id}", "DELETE", Operator, "/admin/tenants/{tenant}/tokens/{token_id}", ""),
    r("admin.rs", "/tenants/{t}/clients", "POST", Operator, "/admin/tenants/{tenant}/clients", r#"{"scopes":["scim"]}"#),
    r("admin.rs", "/tenants/{t}/clients", "GET", Operator, "/admin/tenants/{tenant}/clients", ""),
    r("admin.rs", "/tenants/{t}/clients/{id}", "DELETE", Operator, "/admin/tenants/{tenant}/clients/{client}", ""),
    r("admin.rs", "/tenants/{t}/communities", "POST", Operator, "/admin/tenants/{tenant}/communities", r#"{"name":"Support"}"#),
    r("admin.rs", "/tenants/{t}/communities", "GET", Operator, "/admin/tenants/{tenant}/communities", ""),
    r("admin.rs", "/tenants/{t}/mappings", "GET", Operator, "/admin/tenants/{tenant}/mappings", ""),
    r("admin.rs", "/tenants/{t}/mappings", "PUT", Operator, "/admin/tenants/{tenant}/mappings", MAPPING),
    r("admin.rs", "/tenants/{t}/mappings", "DELETE", Operator, "/admin/tenants/{tenant}/mappings", MAPPING),
    r("admin.rs", "/tenants/{t}/admins", "POST", Operator, "/admin/tenants/{tenant}/admins", r#"{"user":"{user}"}"#),
    r("admin.rs", "/tenants/{t}/console-links", "POST", Operator, "/admin/tenants/{tenant}/console-links", r#"{"user":"{admin}"}"#),
    r("v1.rs", "/blobs", "POST", Imports, "/v1/blobs?user_id={admin}", BLOB),
    r("v1.rs", "/blobs", "GET", Imports, "/v1/blobs?user_id={admin}", BLOB),
    r("v1.rs", "/member_provisionings", "POST", Imports, "/v1/member_provisionings?signed_id={signed}&user_id={admin}&operation=UPSERT", ""),
    r("v1.rs", "/member_provisionings", "GET", Imports, "/v1/member_provisionings?id={job}&user_id={admin}", ""),
    r("v1.rs", "/member_provisionings/reports", "GET", Imports, "/v1/member_provisionings/reports?id={job}&user_id={admin}", ""),
    r("v1.rs", "/member_provisionings/errors", "GET", Imports, "/v1/member_provisionings/errors?id={job}&user_id={admin}", ""),
    r("v1.rs", "/member_provisionings/templates", "GET", Imports, "/v1/member_provisionings/templates?operation=MIRROR", ""),
    r("v1.rs", "/activity", "GET", Imports, "/v1/activity?user_id={admin}", ""),
    r("v1.rs", "/communities/{id}/invitations", "POST", Imports, "/v1/communities/{community}/invitations?user_id={admin}", ""),
];

/// The routes a guard protects.
pub fn guarded(guard: Guard) -> impl Iterator<Item = &'static Route> {
    ROUTES.iter().filter(move |r| r.guard == guard)
}

/// `(path, method)` of every `.route("…", …)` call in `source`.
fn declared_routes(source: &str) -> Vec<(String, String)> {
    const METHODS: [&str; 9] = [
        "get", "post", "put", "patch", "delete", "head", "options", "trace", "any",
    ];
    let mut found = Vec::new();
    for (at, _) in source.match_indices(".route(") {
        let call = &source[at + ".route(".len()..];
        let path = call.split('"').nth(1).expect("a route's path is a literal");
        let (mut depth, mut in_string, mut end) = (1, false, call.len());
        for (i, c) in call.char_indices() {
            match c {
                '"' => in_string = !in_string,
                '(' if !in_string => depth += 1,
                ')' if !in_string => depth -= 1,
                _ => {}
            }
            if depth == 0 {
                end = i;
                break;
            }
        }
        let call = &call[..end];
        let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
        for m in METHODS {
            let needle = format!("{m}(");
            let calls = call
                .match_indices(&needle)
                .filter(|(i, _)| !call[..*i].chars().next_back().is_some_and(is_ident));
            found.extend(calls.map(|_| (path.to_owned(), m.to_uppercase())));
        }
    }
    found
}

/// Whether `uri` (query ignored) is an instance of the route pattern `pattern`.
fn reaches(uri: &str, pattern: &str) -> bool {
    let path = uri.split('?').next().unwrap_or(uri);
    let (a, b): (Vec<_>, Vec<_>) = (path.split('/').collect(), pattern.split('/').collect());
    a.len() == b.len()
        && a.iter().zip(&b).all(|(seg, pat)| {
            seg == pat || (pat.starts_with('{') && pat.ends_with('}') && !seg.is_empty())
        })
}

#[test]
fn the_sweep_table_lists_exactly_the_routes_the_router_sources_declare() {
    let swept: BTreeSet<(String, String, String)> = ROUTES
        .iter()
        .map(|r| (r.file.into(), r.path.into(), r.method.into()))
        .collect();
    assert_eq!(
        swept.len(),
        ROUTES.len(),
        "a route × method is listed twice"
    );
    let mut declared = BTreeSet::new();
    for (file, source) in SOURCES {
        for (path, method) in declared_routes(source) {
            declared.insert((file.to_owned(), path, method));
        }
    }
    assert!(
        declared.len() >= 45,
        "the parser found the routes: {declared:?}"
    );
    let unswept: Vec<_> = declared.difference(&swept).collect();
    let stale: Vec<_> = swept.difference(&declared).collect();
    assert!(
        unswept.is_empty(),
        "routes missing from the sweep: {unswept:?}"
    );
    assert!(
        stale.is_empty(),
        "swept routes the Router does not declare: {stale:?}"
    );
    let nests: BTreeSet<&str> = SOURCES[0]
        .1
        .match_indices(".nest(")
        .filter_map(|(at, _)| SOURCES[0].1[at..].split('"').nth(1))
        .collect();
    let mounts: BTreeSet<&str> = MOUNTS
        .iter()
        .map(|(_, m)| *m)
        .filter(|m| !m.is_empty())
        .collect();
    assert_eq!(nests, mounts, "mod.rs nests routers where MOUNTS says");
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/src/http");
    let console = std::fs::read_dir(format!("{dir}/console")).unwrap();
    for entry in std::fs::read_dir(dir).unwrap().chain(console) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let parent = path
            .parent()
            .unwrap()
            .file_name()
            .unwrap()
            .to_str()
            .unwrap();
        let file = path.file_name().unwrap().to_str().unwrap();
        let name = if parent == "console" {
            format!("console/{file}")
        } else {
            file.to_owned()
        };
        let known = SOURCES.iter().any(|(f, _)| *f == name);
        assert!(
            known || !text.contains(".route("),
            "{name} declares routes the sweep does not read"
        );
        let opaque = [".route_service(", ".nest_service("];
        let serves = opaque.iter().any(|call| text.contains(call));
        assert!(!serves, "{name} mounts a service the sweep cannot list");
    }
    for route in ROUTES {
        let mount = MOUNTS.iter().find(|(f, _)| *f == route.file).unwrap().1;
        let sample = route.sample.replace("{S}", S);
        assert!(
            reaches(&sample, &format!("{mount}{}", route.path)),
            "{sample}"
        );
    }
}
