//! The raw baseline `live-bench baseline` serves: a bare tokio broadcast over the same transport
//! as Ruche's (axum WebSocket, 4 KiB read buffer, a writer and a reader task per socket), each
//! message serialized once and shared. It is what this machine can do at best, beside which
//! Ruche's figures are printed.
use axum::extract::ws::{Message as AxumMessage, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::Query;
use axum::routing::{get, post};
use axum::serve::ListenerExt;
use bench::Error;
use futures_util::{SinkExt, StreamExt};
use std::collections::HashMap;
use std::net::SocketAddr;
use tokio::sync::broadcast;

pub(crate) async fn serve_baseline(addr: SocketAddr) -> Result<(), Error> {
    let (tx, _) = broadcast::channel::<Utf8Bytes>(16);
    let fire_tx = tx.clone();
    let app = axum::Router::new()
        .route(
            "/ws",
            get(move |ws: WebSocketUpgrade| {
                let tx = tx.clone();
                async move { ws.read_buffer_size(4096).on_upgrade(move |socket| baseline_socket(socket, tx)) }
            }),
        )
        .route(
            "/fire",
            post(move |Query(q): Query<HashMap<String, usize>>| {
                let size = q.get("size").copied().unwrap_or(200);
                let _ = fire_tx.send("x".repeat(size).into());
                async {}
            }),
        );
    // Small writes go out at once, as Ruche's (`server::listen`).
    let listener = tokio::net::TcpListener::bind(addr).await?.tap_io(|stream: &mut tokio::net::TcpStream| {
        let _ = stream.set_nodelay(true);
    });
    axum::serve(listener, app).await?;
    Ok(())
}

async fn baseline_socket(socket: WebSocket, tx: broadcast::Sender<Utf8Bytes>) {
    let mut rx = tx.subscribe();
    let (mut sink, mut stream) = socket.split();
    let writer = tokio::spawn(async move {
        // As Ruche sends the state first, so does the baseline.
        if sink.send(AxumMessage::Text(Utf8Bytes::from_static("{}"))).await.is_err() {
            return;
        }
        loop {
            match rx.recv().await {
                Ok(text) => {
                    if sink.send(AxumMessage::Text(text)).await.is_err() {
                        return;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    });
    while let Some(Ok(message)) = stream.next().await {
        if matches!(message, AxumMessage::Close(_)) {
            break;
        }
    }
    writer.abort();
}
