//! `muster serve` under sockets that are opened and left silent or trickle their headers:
//! they are closed after the timeouts, and at the connection cap the idlest one makes room,
//! so `/health` and real clients are still answered.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{MUSTER, data_dir, http, start};

fn serve_with_limits(data: &std::path::Path) -> common::Server {
    let mut command = Command::new(MUSTER);
    command
        .args(["serve", "--addr", "127.0.0.1:0", "--max-connections", "20"])
        .args([
            "--header-timeout-s",
            "2",
            "--keep-alive-timeout-s",
            "1",
            "--data",
        ])
        .arg(data);
    start(command).0
}

/// Reads until the server closes the socket (or resets it); the guard only stops a hang.
fn closed_by_server(mut socket: TcpStream) -> bool {
    socket
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut sink = Vec::new();
    match socket.read_to_end(&mut sink) {
        Ok(_) => true,
        Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
    }
}

#[test]
fn silent_sockets_past_the_cap_never_starve_health_or_a_real_client() {
    let data = data_dir("connections-cap");
    let server = serve_with_limits(&data);
    let idle: Vec<TcpStream> = (0..60)
        .map(|_| TcpStream::connect(&server.addr).unwrap())
        .collect();
    for _ in 0..3 {
        let (status, body) = http(&server.addr, "GET", "/health", "", None);
        assert_eq!((status, body["status"].as_str()), (200, Some("ok")));
        let (status, _) = http(
            &server.addr,
            "GET",
            "/tenants/nobody/scim/v2/Users",
            "mst_x.y",
            None,
        );
        assert_eq!(status, 401, "a real client's request is answered");
    }
    for socket in idle {
        assert!(closed_by_server(socket), "every silent socket is closed");
    }
    std::fs::remove_dir_all(&data).unwrap();
}

#[test]
fn a_socket_trickling_its_headers_is_closed_by_the_header_timeout() {
    let data = data_dir("connections-trickle");
    let server = serve_with_limits(&data);
    let mut socket = TcpStream::connect(&server.addr).unwrap();
    socket
        .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let began = Instant::now();
    let mut closed = false;
    // One byte every 300 ms keeps the connection busy, never idle, for up to 30 s.
    while began.elapsed() < Duration::from_secs(30) {
        if socket.write_all(b"X").is_err() {
            closed = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(300));
        socket.set_nonblocking(true).unwrap();
        let mut byte = [0u8; 512];
        let read = socket.read(&mut byte);
        socket.set_nonblocking(false).unwrap();
        if read.is_ok() {
            closed = true;
            break;
        }
    }
    assert!(
        closed,
        "the server closed a connection that never finished its headers"
    );
    let (status, _) = http(&server.addr, "GET", "/health", "", None);
    assert_eq!(status, 200);
    std::fs::remove_dir_all(&data).unwrap();
}

#[test]
fn logs_written_to_a_file_carry_no_terminal_colour_codes() {
    let data = data_dir("connections-logs");
    let log = data.join("serve.log");
    let mut child = Command::new(MUSTER)
        .args(["serve", "--addr", "127.0.0.1:0", "--data"])
        .arg(data.join("store"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let addr = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap();
    let (status, _) = http(
        addr.trim_start_matches("http://"),
        "GET",
        "/health",
        "",
        None,
    );
    assert_eq!(status, 200);
    let _ = child.kill();
    let _ = child.wait();
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("serving"), "the log was written: {text}");
    assert!(!text.contains('\u{1b}'), "no escape sequences: {text:?}");
    std::fs::remove_dir_all(&data).unwrap();
}
