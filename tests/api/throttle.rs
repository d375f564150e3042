//! Each tenant has its share: past its rate it is answered 429 with `Retry-After` and a SCIM
//! error body, while another tenant is served as before.

use http::{Method, StatusCode};
use muster::auth::{RequestLimits, Tenants};
use muster::ids::TenantId;

use crate::helpers::TestApp;

#[tokio::test]
async fn a_tenant_past_its_rate_gets_429_with_retry_after_and_others_are_served() {
    let app = TestApp::new().await;
    let acme = TenantId::parse(&app.acme.id).unwrap();
    let tight = RequestLimits {
        per_second: 1,
        burst: 3,
        concurrent: 10,
    };
    Tenants::new(app.table.clone())
        .update(&acme, |t| t.limits = Some(tight))
        .await
        .unwrap();
    let statuses: Vec<StatusCode> = {
        let mut out = Vec::new();
        for _ in 0..6 {
            out.push(app.get("/Users").await.status);
        }
        out
    };
    assert_eq!(&statuses[..3], &[StatusCode::OK; 3], "the burst passes");
    let refused = app.get("/Users").await;
    refused.assert_scim_error(429, None);
    assert_eq!(refused.header("retry-after"), Some("1"));
    let beta = format!("/tenants/{}/scim/v2/Users", app.beta.id);
    for _ in 0..10 {
        let b = app
            .call_as(&app.beta.token, Method::GET, &beta, None, &[])
            .await;
        assert_eq!(b.status, StatusCode::OK, "beta keeps its own share");
    }
}
