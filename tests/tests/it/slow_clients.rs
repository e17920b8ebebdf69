//! Slow and idle clients (issue #10), over real sockets: a slowloris dribbling header bytes, an
//! idle kept-alive connection and a body that never comes are closed by the server, which keeps
//! serving others; beyond the connection cap new clients wait and are served once a slot frees.
//! The timeouts are set small here; the waits below are generous bounds, not measurements.

use std::time::Duration;

use idp_tests::{Setup, TestApp};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Far above every timeout set here: a socket still open after this was never closed.
const NEVER: Duration = Duration::from_secs(30);

async fn provider(header: i64, body: i64, idle: i64, max_connections: usize) -> TestApp {
    TestApp::spawn_with(Setup {
        tweak: Box::new(move |raw| {
            raw.http_header_timeout = header;
            raw.http_body_timeout = body;
            raw.http_idle_timeout = idle;
            raw.max_connections = max_connections;
        }),
        ..Setup::default()
    })
    .await
}

async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.issuer.trim_start_matches("http://")).await.unwrap()
}

/// Reads until the server closes the connection (EOF or reset); what it sent before.
async fn read_until_closed(socket: &mut TcpStream) -> String {
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match socket.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => received.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&received).into_owned()
}

/// Reads one response whose body is `Content-Length` long; the connection stays open.
async fn read_response(socket: &mut TcpStream) -> String {
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = socket.read(&mut buf).await.unwrap();
        assert!(n > 0, "the server closed the connection before answering: {}", String::from_utf8_lossy(&received));
        received.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&received).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_owned()))
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(0);
            if body.len() >= length {
                return text;
            }
        }
    }
}

fn get_healthz() -> &'static [u8] {
    b"GET /healthz HTTP/1.1\r\nHost: idp.test\r\n\r\n"
}

#[tokio::test]
async fn a_slowloris_connection_is_closed_after_the_header_timeout_while_others_are_served() {
    let app = provider(1, 30, 30, 100).await;
    let mut slow = connect(&app).await;
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: idp.test\r\n").await.unwrap();
    let dribble = async {
        // One header byte every 200 ms: the head is never complete.
        let (mut reader, mut writer) = slow.split();
        let mut buf = [0u8; 1024];
        loop {
            tokio::select! {
                read = reader.read(&mut buf) => match read {
                    Ok(0) | Err(_) => return String::new(),
                    Ok(n) => return String::from_utf8_lossy(&buf[..n]).into_owned(),
                },
                () = tokio::time::sleep(Duration::from_millis(200)) => {
                    if writer.write_all(b"X").await.is_err() {
                        return String::new();
                    }
                }
            }
        }
    };
    let normal = async {
        let response = reqwest::get(app.url("/healthz")).await.unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    };
    let (received, served) = tokio::join!(tokio::time::timeout(NEVER, dribble), normal);
    let received = received.expect("the server never closed the slowloris connection");
    assert_eq!(served, (200, "ok".to_owned()), "a normal request is served while the slowloris dribbles");
    assert!(!received.starts_with("HTTP/1.1 200"), "the incomplete request was answered: {received}");
    // And the server still serves after closing it.
    assert_eq!(reqwest::get(app.url("/healthz")).await.unwrap().status(), 200);
}

#[tokio::test]
async fn a_slowloris_on_a_kept_alive_connection_gets_the_header_timeout_not_the_idle_one() {
    // Idle 30 s, head 1 s: after one answered request, a head dribbled on the same connection
    // must be cut by the head's limit, long before the idle limit would.
    let app = provider(1, 30, 30, 100).await;
    let mut socket = connect(&app).await;
    socket.write_all(get_healthz()).await.unwrap();
    assert!(read_response(&mut socket).await.starts_with("HTTP/1.1 200"), "the first request is served");
    socket.write_all(b"GET /healthz HTTP/1.1\r\nHost: idp.test\r\n").await.unwrap();
    let dribble = async {
        let (mut reader, mut writer) = socket.split();
        let mut buf = [0u8; 1024];
        loop {
            tokio::select! {
                read = reader.read(&mut buf) => match read {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                },
                () = tokio::time::sleep(Duration::from_millis(200)) => {
                    if writer.write_all(b"X").await.is_err() {
                        return;
                    }
                }
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(15), dribble)
        .await
        .expect("the dribbled head on a kept-alive connection was held until the idle limit (or forever)");
}

#[tokio::test]
async fn a_new_connection_that_sends_nothing_is_closed_after_the_header_timeout() {
    let app = provider(1, 30, 30, 100).await;
    let mut silent = connect(&app).await;
    let received = tokio::time::timeout(NEVER, read_until_closed(&mut silent))
        .await
        .expect("the server never closed a connection that sent nothing");
    assert_eq!(received, "", "nothing was asked, nothing is answered");
}

#[tokio::test]
async fn an_idle_kept_alive_connection_is_closed_after_the_idle_timeout() {
    let app = provider(30, 30, 1, 100).await;
    let mut socket = connect(&app).await;
    socket.write_all(get_healthz()).await.unwrap();
    let first = read_response(&mut socket).await;
    assert!(first.starts_with("HTTP/1.1 200"), "{first}");
    assert!(!first.to_ascii_lowercase().contains("connection: close"), "the connection is kept alive: {first}");
    // The connection still serves a second request on it...
    socket.write_all(get_healthz()).await.unwrap();
    assert!(read_response(&mut socket).await.starts_with("HTTP/1.1 200"));
    // ...and, left idle, is closed by the server.
    let rest = tokio::time::timeout(NEVER, read_until_closed(&mut socket))
        .await
        .expect("the server never closed the idle kept-alive connection");
    assert_eq!(rest, "");
}

#[tokio::test]
async fn a_post_whose_body_never_comes_is_answered_408_after_the_body_timeout() {
    let app = provider(30, 1, 30, 100).await;
    for (path, expected_type) in [("/token", "application/json"), ("/login", "text/html")] {
        let mut socket = connect(&app).await;
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: idp.test\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 60000\r\n\r\ngrant_type="
        );
        socket.write_all(head.as_bytes()).await.unwrap();
        let received = tokio::time::timeout(NEVER, read_until_closed(&mut socket))
            .await
            .unwrap_or_else(|_| panic!("POST {path}: the server waited for the body forever"));
        assert!(received.starts_with("HTTP/1.1 408"), "POST {path}: expected 408, got {received}");
        let lower = received.to_ascii_lowercase();
        assert!(lower.contains(&format!("content-type: {expected_type}")), "POST {path}: {received}");
        assert!(lower.contains("connection: close"), "POST {path}: the connection is closed: {received}");
    }
    // A body announced beyond max_body_bytes is refused at once (413), without waiting for it.
    let mut socket = connect(&app).await;
    socket
        .write_all(b"POST /login HTTP/1.1\r\nHost: idp.test\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 10000000000\r\n\r\n")
        .await
        .unwrap();
    let received = read_response(&mut socket).await;
    assert!(received.starts_with("HTTP/1.1 413"), "expected 413, got {received}");
}

#[tokio::test]
async fn beyond_the_connection_cap_a_new_client_waits_and_is_served_once_a_slot_frees() {
    let app = provider(30, 30, 30, 2).await;
    let mut first = connect(&app).await;
    let second = connect(&app).await;
    // Both are accepted and held (they would be closed only after 30 s).
    first.write_all(get_healthz()).await.unwrap();
    assert!(read_response(&mut first).await.starts_with("HTTP/1.1 200"));
    let mut third = connect(&app).await;
    third.write_all(get_healthz()).await.unwrap();
    let mut buf = [0u8; 64];
    let early = tokio::time::timeout(Duration::from_millis(500), third.read(&mut buf)).await;
    assert!(early.is_err(), "a third connection was served beyond a cap of two");
    drop(second);
    let answered = tokio::time::timeout(NEVER, read_response(&mut third))
        .await
        .expect("the waiting client was never served after a slot freed");
    assert!(answered.starts_with("HTTP/1.1 200"), "{answered}");
    drop(first);
    drop(third);
    // The server keeps serving new clients.
    for _ in 0..3 {
        let response = reqwest::Client::new().get(app.url("/healthz")).send().await.unwrap();
        assert_eq!(response.status(), 200);
    }
}

#[tokio::test]
async fn the_probes_answer_when_the_dependencies_do() {
    let app = provider(30, 30, 30, 100).await;
    assert_eq!(reqwest::get(app.url("/health")).await.unwrap().status(), 200);
    assert_eq!(reqwest::get(app.url("/healthz")).await.unwrap().status(), 200);
    let ready = reqwest::get(app.url("/readyz")).await.unwrap();
    assert_eq!(ready.status(), 200);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body, serde_json::json!({"status": "ready", "database": "up", "ephemeral": "up"}));
}
