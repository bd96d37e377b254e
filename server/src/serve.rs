//! The accept loop: every connection Ruche takes, with the bounds a public server needs that
//! `axum::serve` does not set. A request's headers must arrive within `RequestDeadlines::headers`
//! (an idle keep-alive connection is closed after as long), and one client address holds at most
//! `CONNECTIONS_PER_ADDRESS` connections at once, so that neither half-sent requests nor a flood
//! of sockets from one place can hold the process's files (`rules::limits`). Bodies have their own
//! deadline, where they are read (`guard.rs`).
use app::rules::limits::{RequestDeadlines, CONNECTIONS_PER_ADDRESS};
use app::services::client_ip::limit_key;
use app::services::limits::OpenCounts;
use axum::extract::ConnectInfo;
use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tower::ServiceExt;

/// Connections waiting to be accepted, at most (the kernel may cap it: `net.core.somaxconn`).
/// A room joining at once opens two connections per person (the join, then the live socket):
/// with tokio's 1,024, bursts overflowed it and those phones waited a whole SYN retry (1 s).
const LISTEN_BACKLOG: u32 = 4096;

/// Where Ruche listens.
pub fn listen(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() { tokio::net::TcpSocket::new_v4()? } else { tokio::net::TcpSocket::new_v6()? };
    // As std's `bind`: a restarted server takes its port back at once.
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// The bounds of the accept loop; `Default` is what the server runs with, tests shorten them.
#[derive(Clone, Debug)]
pub struct Bounds {
    pub deadlines: RequestDeadlines,
    pub per_address: u32,
    /// `TRUSTED_PROXIES`: every client behind a proxy comes through its connections, which are
    /// not counted against one address.
    pub trusted_proxies: Arc<[IpAddr]>,
}

impl Bounds {
    pub fn new(trusted_proxies: Arc<[IpAddr]>) -> Self {
        Self { deadlines: RequestDeadlines::default(), per_address: CONNECTIONS_PER_ADDRESS, trusted_proxies }
    }
}

/// Serves `app` on `listener` until `shutdown` resolves, then lets the requests in flight finish.
/// Upgraded sockets (live channels) are not waited for: the app closes them itself.
pub async fn serve(listener: TcpListener, app: Router, bounds: Bounds, shutdown: impl Future<Output = ()>) {
    let open = OpenCounts::<IpAddr>::default();
    let mut builder = http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(bounds.deadlines.headers);
    // Each connection holds a receiver: once all are gone, every connection has ended.
    let (stopping, stop) = tokio::sync::watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of files, most likely: wait for some to close rather than spin.
                    tracing::warn!(error = %e, "could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Every client behind a trusted proxy comes through its connections: they are not counted.
        let slot = if bounds.trusted_proxies.contains(&peer.ip()) {
            None
        } else {
            let Some(held) = open.open(limit_key(peer.ip()), bounds.per_address) else {
                tracing::debug!(peer = %peer.ip(), "too many connections from one address: closed");
                continue;
            };
            Some(held)
        };
        send_at_once(&stream);
        // The peer address feeds the limits per client address (`ServerContext::client_ip_of`).
        let service = app.clone().map_request(move |request: hyper::Request<hyper::body::Incoming>| {
            let mut request = request.map(axum::body::Body::new);
            request.extensions_mut().insert(ConnectInfo(peer));
            request
        });
        let connection =
            builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service)).with_upgrades();
        let mut stop = stop.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let mut connection = std::pin::pin!(connection);
            let ended = tokio::select! {
                ended = connection.as_mut() => Some(ended),
                _ = stop.wait_for(|stop| *stop) => None,
            };
            // Shutting down: the request in flight is answered, then the connection closes.
            let ended = match ended {
                Some(ended) => ended,
                None => {
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(e) = ended {
                tracing::trace!(error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    drop(stop);
    let _ = stopping.send(true);
    stopping.closed().await;
}

/// Every connection sends small writes at once (`TCP_NODELAY`): a live socket writes frames one
/// after another (a host's state, then its participant count; a state, then a ping), and with
/// Nagle's algorithm the second would wait for the first's acknowledgement, which a client may
/// delay by 40 ms or more.
fn send_at_once(stream: &TcpStream) {
    if let Err(e) = stream.set_nodelay(true) {
        tracing::debug!(error = %e, "TCP_NODELAY could not be set on a connection");
    }
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn accepted_connections_send_small_writes_at_once() {
        let listener = super::listen("127.0.0.1:0".parse().unwrap()).unwrap();
        let _client = tokio::net::TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
        let (accepted, _) = listener.accept().await.unwrap();
        super::send_at_once(&accepted);
        assert!(accepted.nodelay().unwrap(), "TCP_NODELAY");
    }
}
