//! A WebSocket whose write side keeps no buffer of its own, for participants' sockets: tens of
//! thousands of them wait between two messages. axum's socket (tungstenite) copies each message
//! into a buffer of the socket's that keeps its largest size for as long as the socket lives, and
//! grows by doubling: a phone once sent a Discussion snapshot of 2 KiB held up to 4 KiB until it
//! left. Here a frame goes out as its header and the message's shared bytes in one vectored
//! write, and what the socket could not take yet is a slice of those shared bytes.
//!
//! Reading stays tungstenite's, on the read half: a tab sends only pongs and, when it goes, a close
//! frame. What tungstenite would answer by itself on that half (a pong to a ping, the echo of a
//! close) is dropped: browsers send no pings, and a tab closing its socket has stopped listening
//! (`app/src/pages/live_socket.rs` detaches its handlers first).
use axum::body::Bytes;
use axum::extract::ws::Message;
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::Sink;
use hyper::upgrade::{OnUpgrade, Upgraded};
use hyper_util::rt::TokioIo;
use std::future::Future;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf, ReadHalf, WriteHalf};
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Control, Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::FrameHeader;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::WebSocketStream;

type Io = TokioIo<Upgraded>;
/// What the tab sends, as tungstenite reads it.
pub type Incoming = WebSocketStream<ReadSide>;

/// A request to open a WebSocket, checked as axum's `WebSocketUpgrade` checks it (RFC 6455,
/// section 4.2.1): the answer that accepts it, and the connection it becomes.
pub struct Upgrade {
    accept: HeaderValue,
    on_upgrade: OnUpgrade,
}

impl Upgrade {
    /// The request's upgrade, or the status and sentence that answer a request that is not a
    /// WebSocket handshake (axum's own).
    pub fn from_request(request: &mut Request) -> Result<Self, (StatusCode, &'static str)> {
        let headers = request.headers();
        let has_token = |name: header::HeaderName, token: &str| {
            headers
                .get_all(name)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .any(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
        };
        let refused = |status: StatusCode, sentence: &'static str| Err((status, sentence));
        if !has_token(header::CONNECTION, "upgrade") {
            return refused(StatusCode::BAD_REQUEST, "Connection header did not include 'upgrade'");
        }
        if !has_token(header::UPGRADE, "websocket") {
            return refused(StatusCode::BAD_REQUEST, "`Upgrade` header did not include 'websocket'");
        }
        if headers.get(header::SEC_WEBSOCKET_VERSION).is_none_or(|v| v != "13") {
            return refused(StatusCode::BAD_REQUEST, "`Sec-WebSocket-Version` header did not include '13'");
        }
        let Some(key) = headers.get(header::SEC_WEBSOCKET_KEY) else {
            return refused(StatusCode::BAD_REQUEST, "`Sec-WebSocket-Key` header missing");
        };
        let accept = HeaderValue::from_str(&derive_accept_key(key.as_bytes())).expect("base64 is a header value");
        let Some(on_upgrade) = request.extensions_mut().remove::<OnUpgrade>() else {
            return refused(
                StatusCode::UPGRADE_REQUIRED,
                "WebSocket request couldn't be upgraded since no upgrade state was present",
            );
        };
        Ok(Self { accept, on_upgrade })
    }

    /// Answers 101 and, once the connection has switched, hands `then` the socket's two sides.
    pub fn on_upgrade<F, Fut>(self, config: WebSocketConfig, then: F) -> Response
    where
        F: FnOnce(FrameSink<WriteHalf<Io>>, Incoming) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        tokio::spawn(async move {
            let Ok(upgraded) = self.on_upgrade.await else { return };
            let (read, write) = tokio::io::split(TokioIo::new(upgraded));
            let incoming = WebSocketStream::from_raw_socket(ReadSide(read), Role::Server, Some(config)).await;
            then(FrameSink::new(write), incoming).await;
        });
        let mut headers = HeaderMap::new();
        headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
        headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        headers.insert(header::SEC_WEBSOCKET_ACCEPT, self.accept);
        (StatusCode::SWITCHING_PROTOCOLS, headers).into_response()
    }
}

/// The read half, as tungstenite wants a whole stream: what it writes is dropped (module doc).
pub struct ReadSide(ReadHalf<Io>);

impl AsyncRead for ReadSide {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for ReadSide {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// A server's frame header at most: two bytes, and eight of length (no mask).
const MAX_HEADER: usize = 10;

/// The write side: one frame at a time, its header and its payload (shared with every other
/// socket sent the same message) written straight to the connection.
pub struct FrameSink<W> {
    io: W,
    header: [u8; MAX_HEADER],
    header_len: u8,
    payload: Bytes,
    /// Bytes of the header, then of the payload, already written.
    sent: usize,
}

impl<W: AsyncWrite + Unpin> FrameSink<W> {
    pub fn new(io: W) -> Self {
        Self { io, header: [0; MAX_HEADER], header_len: 0, payload: Bytes::new(), sent: 0 }
    }

    /// Writes what is left of the current frame; ready once all of it is written.
    fn poll_frame(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let header_len = usize::from(self.header_len);
        while self.sent < header_len + self.payload.len() {
            let written = if self.sent < header_len {
                let parts = [IoSlice::new(&self.header[self.sent..header_len]), IoSlice::new(&self.payload)];
                ready!(Pin::new(&mut self.io).poll_write_vectored(cx, &parts))?
            } else {
                ready!(Pin::new(&mut self.io).poll_write(cx, &self.payload[self.sent - header_len..]))?
            };
            if written == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.sent += written;
        }
        (self.header_len, self.payload, self.sent) = (0, Bytes::new(), 0);
        Poll::Ready(Ok(()))
    }
}

impl<W: AsyncWrite + Unpin> Sink<Message> for FrameSink<W> {
    type Error = io::Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().poll_frame(cx)
    }

    fn start_send(self: Pin<&mut Self>, message: Message) -> io::Result<()> {
        let this = self.get_mut();
        if this.header_len != 0 {
            return Err(io::Error::other("a frame was sent before the one before it was written"));
        }
        let (opcode, payload) = match message {
            Message::Text(text) => (OpCode::Data(Data::Text), Bytes::from(text)),
            Message::Binary(bytes) => (OpCode::Data(Data::Binary), bytes),
            Message::Ping(bytes) => (OpCode::Control(Control::Ping), bytes),
            Message::Pong(bytes) => (OpCode::Control(Control::Pong), bytes),
            Message::Close(frame) => {
                let mut payload = Vec::new();
                if let Some(frame) = frame {
                    payload.extend_from_slice(&frame.code.to_be_bytes());
                    payload.extend_from_slice(frame.reason.as_str().as_bytes());
                }
                (OpCode::Control(Control::Close), Bytes::from(payload))
            }
        };
        let mut header = io::Cursor::new(&mut this.header[..]);
        FrameHeader { opcode, ..FrameHeader::default() }
            .format(payload.len() as u64, &mut header)
            .map_err(io::Error::other)?;
        this.header_len = header.position() as u8;
        this.payload = payload;
        this.sent = 0;
        Ok(())
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_frame(cx))?;
        Pin::new(&mut this.io).poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_frame(cx))?;
        Pin::new(&mut this.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::extract::ws::{CloseFrame, Utf8Bytes};
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message as Read;

    /// What a browser reads of frames written through a connection that takes 7 bytes at a time
    /// (every frame is written in pieces, its header too).
    #[tokio::test]
    async fn frames_written_in_pieces_read_as_the_messages_sent() {
        let (server, client) = tokio::io::duplex(7);
        // The browser's echo of the close frame is read, and dropped, as `ReadSide` drops it.
        let (mut echo, server) = tokio::io::split(server);
        tokio::spawn(async move { tokio::io::copy(&mut echo, &mut tokio::io::sink()).await });
        let mut sink = FrameSink::new(server);
        let long = "é".repeat(40_000);
        let sent = vec![
            Message::Text("hello".into()),
            Message::Text(long.clone().into()),
            Message::Ping(Bytes::new()),
            Message::Text(String::new().into()),
            Message::Close(Some(CloseFrame { code: 4003, reason: Utf8Bytes::from_static("Gone") })),
        ];
        let writer = tokio::spawn(async move {
            for message in sent {
                sink.send(message).await.unwrap();
            }
        });
        let mut browser = WebSocketStream::from_raw_socket(client, Role::Client, None).await;
        let mut read = Vec::new();
        while let Some(Ok(message)) = browser.next().await {
            let closing = message.is_close();
            read.push(message);
            if closing {
                break;
            }
        }
        writer.await.unwrap();
        assert_eq!(read.len(), 5, "{read:?}");
        assert_eq!(read[0], Read::text("hello"));
        assert_eq!(read[1], Read::text(long));
        assert!(matches!(read[2], Read::Ping(ref payload) if payload.is_empty()));
        assert_eq!(read[3], Read::text(""));
        let Read::Close(Some(frame)) = &read[4] else { panic!("a close frame: {:?}", read[4]) };
        assert_eq!((u16::from(frame.code), frame.reason.as_str()), (4003, "Gone"));
    }

    /// While a frame waits for the connection, the sink is not ready for the next one, and the
    /// frame is held as the message's own bytes, not a copy.
    #[tokio::test]
    async fn a_frame_the_connection_cannot_take_waits_as_the_shared_bytes() {
        let (server, mut client) = tokio::io::duplex(64);
        let mut sink = FrameSink::new(server);
        let text: Utf8Bytes = "x".repeat(1_000).into();
        let shared = Bytes::from(text.clone());
        let mut cx = Context::from_waker(std::task::Waker::noop());
        assert!(sink.poll_ready_unpin(&mut cx).is_ready());
        sink.start_send_unpin(Message::Text(text)).unwrap();
        assert!(sink.poll_flush_unpin(&mut cx).is_pending(), "64 bytes of 1,004 taken");
        assert!(sink.poll_ready_unpin(&mut cx).is_pending());
        assert_eq!(sink.payload.as_ptr(), shared.as_ptr(), "the message's bytes, not a copy");
        let mut received = Vec::new();
        let reading = async {
            let mut chunk = [0u8; 256];
            while received.len() < 1_004 {
                let n = tokio::io::AsyncReadExt::read(&mut client, &mut chunk).await.unwrap();
                received.extend_from_slice(&chunk[..n]);
            }
        };
        let (_, flushed) = tokio::join!(reading, sink.flush());
        flushed.unwrap();
        assert_eq!(&received[..4], &[0x81, 126, 0x03, 0xe8], "a final text frame of 1,000 bytes, unmasked");
        assert!(received[4..].iter().all(|b| *b == b'x'));
        assert_eq!((sink.header_len, sink.payload.len()), (0, 0), "nothing held once written");
    }
}
