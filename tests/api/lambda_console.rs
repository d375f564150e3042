//! The console on Lambda: API Gateway events for the sign-in form and the home page, through
//! `lambda_http`'s conversion and the Router, as the function serves them.

use axum::body::Body;
use http::StatusCode;
use http_body_util::BodyExt;
use muster::admin::Admin;
use muster::ids::TenantId;
use tower::ServiceExt;

use crate::helpers::TestApp;

struct Served {
    status: StatusCode,
    headers: http::HeaderMap,
    text: String,
}

async fn push(app: &TestApp, event_file: &str, fill: &[(&str, &str)]) -> Served {
    let path = format!("{}/../events/{event_file}", env!("CARGO_MANIFEST_DIR"));
    let raw = std::fs::read_to_string(&path).unwrap();
    let raw = fill
        .iter()
        .fold(raw, |raw, (k, v)| raw.replace(&format!("{{{{{k}}}}}"), v));
    let request = lambda_http::request::from_str(&raw).expect("a valid API Gateway v2 event");
    let request = request.map(|body| Body::from(body.to_vec()));
    let router = muster_lambda::behind_api_gateway(app.router.clone());
    let response = router.oneshot(request).await.unwrap();
    let (parts, body) = response.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes();
    Served {
        status: parts.status,
        headers: parts.headers,
        text: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

#[tokio::test]
async fn on_lambda_a_sign_in_link_starts_a_secure_session_that_opens_the_home_page() {
    let app = TestApp::new().await;
    let t = TenantId::parse(&app.acme.id).unwrap();
    let admin = Admin::new(app.table.clone());
    admin.create_community(&t, "Engineering").await.unwrap();
    let user = app.create_user("it@acme.test").await;
    admin.add_admin(&t, &user, None).await.unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let (_, link) = admin.console_link(&t, &user, now).await.unwrap();

    let fill = [
        ("tenant", app.acme.id.as_str()),
        ("code", link.code.as_str()),
    ];
    let signed = push(&app, "apigw-console-sign-in.json", &fill).await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", signed.text);
    let cookie = signed.headers["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.contains("; Secure"),
        "an https origin makes the cookie Secure: {cookie}"
    );
    let value = cookie
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("muster_console=")
        .to_owned();

    let home = push(&app, "apigw-console-home.json", &[("cookie", &value)]).await;
    assert_eq!(home.status, StatusCode::OK, "{}", home.text);
    assert!(home.text.contains("Engineering"), "{}", home.text);
    assert_eq!(home.headers["x-frame-options"], "DENY");

    let again = push(&app, "apigw-console-sign-in.json", &fill).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST, "a link works once");
}
