//! The accept loop's bounds over real TCP (`server/src/serve.rs`): a request whose headers or
//! body do not arrive in time is cut, and one client address holds a bounded number of
//! connections.
use app::rules::limits::RequestDeadlines;
use app::services::ServerContext;
use app::storage::Db;
use app::test_both_dbs;
use axum::routing::get;
use server::serve::{listen, serve, Bounds};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

mod common;

const SHORT: Duration = Duration::from_millis(400);

async fn start(app: axum::Router, bounds: Bounds) -> SocketAddr {
    let listener = listen("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(serve(listener, app, bounds, std::future::pending()));
    addr
}

fn bounds(per_address: u32, trusted: &[IpAddr]) -> Bounds {
    Bounds {
        deadlines: RequestDeadlines { headers: SHORT, body: SHORT },
        per_address,
        trusted_proxies: Arc::from(trusted),
    }
}

fn hello() -> axum::Router {
    axum::Router::new().route("/", get(|| async { "hello" }))
}

/// Reads until the server closes the connection; what it sent, or `None` if it was still open
/// after `within`.
async fn until_closed(stream: &mut TcpStream, within: Duration) -> Option<String> {
    let mut received = Vec::new();
    let read = tokio::time::timeout(within, async {
        let mut buffer = [0; 1024];
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => received.extend_from_slice(&buffer[..n]),
            }
        }
    })
    .await;
    read.ok().map(|()| String::from_utf8_lossy(&received).into_owned())
}

async fn answer(addr: SocketAddr) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.unwrap();
    until_closed(&mut stream, Duration::from_secs(5)).await.expect("an answer, then the connection closed")
}

#[tokio::test]
async fn half_a_request_line_is_cut_after_the_headers_deadline() {
    let addr = start(hello(), bounds(100, &[])).await;
    let mut slow = TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET / HT").await.unwrap();
    let started = Instant::now();
    let sent = until_closed(&mut slow, Duration::from_secs(5)).await.expect("the server cuts a request that stalls");
    assert!(started.elapsed() >= SHORT / 2, "not before the deadline");
    assert!(!sent.contains("hello"), "{sent}");
    // A kept-alive connection left idle goes the same way.
    let mut idle = TcpStream::connect(addr).await.unwrap();
    idle.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let sent = until_closed(&mut idle, Duration::from_secs(5)).await.expect("an idle connection is let go");
    assert!(sent.contains("hello"), "{sent}");
    assert!(answer(addr).await.contains("hello"), "whole requests are answered");
}

#[tokio::test]
async fn one_address_holds_a_bounded_number_of_connections() {
    let mut bounds = bounds(3, &[]);
    bounds.deadlines.headers = Duration::from_secs(30);
    let addr = start(hello(), bounds).await;
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(TcpStream::connect(addr).await.unwrap());
    }
    // Give the server time to count them, then the next one is closed at once.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut one_more = TcpStream::connect(addr).await.unwrap();
    let _ = one_more.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await;
    let sent = until_closed(&mut one_more, Duration::from_secs(2)).await.expect("closed at once");
    assert!(!sent.contains("hello"), "{sent}");
    // A connection that ends frees its place.
    drop(held.pop());
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(answer(addr).await.contains("hello"));
}

#[tokio::test]
async fn a_trusted_proxy_is_not_held_to_one_address() {
    let mut bounds = bounds(2, &["127.0.0.1".parse().unwrap()]);
    bounds.deadlines.headers = Duration::from_secs(30);
    let addr = start(hello(), bounds).await;
    let mut held = Vec::new();
    for _ in 0..5 {
        held.push(TcpStream::connect(addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(answer(addr).await.contains("hello"), "every client behind the proxy comes through it");
}

/// A server function's body that stalls is answered 408 once its deadline passes.
async fn a_body_that_stalls_is_cut(db: Db) {
    let mut ctx = ServerContext::new(db, "http://127.0.0.1:3000", Vec::new());
    ctx.deadlines = RequestDeadlines { headers: Duration::from_secs(30), body: SHORT };
    let addr = start(common::router_with(ctx), bounds(100, &[])).await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"POST /api/log_in HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nemail=a")
        .await
        .unwrap();
    let sent = until_closed(&mut stream, Duration::from_secs(5)).await.expect("the server answers and closes");
    assert!(sent.starts_with("HTTP/1.1 408"), "{sent}");
    assert!(sent.contains("it came too slowly"), "{sent}");
}
test_both_dbs!(a_body_that_stalls_is_cut);
