//! `muster console link` as an operator runs it: a one-time URL that a `muster serve` of the
//! same data signs in with once.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;

use common::{data_dir, fails, muster, serve};

/// Sends a raw HTTP/1.1 request; returns the response head.
fn head(addr: &str, request: &str) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).unwrap();
    raw.split_once("\r\n\r\n").unwrap().0.to_owned()
}

fn redeem(addr: &str, tenant: &str, code: &str) -> String {
    let form = format!("tenant={tenant}&code={code}");
    head(
        addr,
        &format!(
            "POST /console/sign-in HTTP/1.1\r\nHost: {addr}\r\nOrigin: http://{addr}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{form}",
            form.len()
        ),
    )
}

#[test]
fn console_link_prints_a_url_that_signs_the_administrator_in_once() {
    let data = data_dir("console-link");
    let t = muster(
        &data,
        &[
            "tenant",
            "create",
            "--name",
            "Acme",
            "--domain",
            "acme.example",
        ],
    );
    let tenant = t["tenant_id"].as_str().unwrap();
    let err = fails(
        &data,
        &[
            "console",
            "link",
            "--tenant",
            tenant,
            "--user",
            "nobody@acme.example",
        ],
    );
    assert!(err.contains("no user"), "{err}");

    let server = serve(&data);
    let addr = server.url().trim_start_matches("http://").to_owned();
    drop(server);
    let link = muster(
        &data,
        &[
            "console",
            "link",
            "--tenant",
            tenant,
            "--user",
            "admin@acme.example",
            "--url",
            &format!("http://{addr}/"),
        ],
    );
    assert_eq!(link["user_id"], t["admin_user_id"]);
    assert!(
        link["expires_at"]
            .as_str()
            .is_some_and(|e| e.ends_with('Z'))
    );
    let url = link["url"].as_str().unwrap();
    let prefix = format!("http://{addr}/console/sign-in?tenant={tenant}&code=");
    assert!(url.starts_with(&prefix), "{url}");
    let code = &url[prefix.len()..];

    let mut command = std::process::Command::new(common::MUSTER);
    command
        .args(["serve", "--addr", &addr, "--data"])
        .arg(&data);
    let (_server, _) = common::start(command);
    let first = redeem(&addr, tenant, code);
    assert!(first.starts_with("HTTP/1.1 303"), "{first}");
    assert!(first.contains("set-cookie: muster_console="), "{first}");
    assert!(
        first.contains("HttpOnly") && first.contains("SameSite=Lax"),
        "{first}"
    );
    let again = redeem(&addr, tenant, code);
    assert!(again.starts_with("HTTP/1.1 400"), "used once: {again}");
}
