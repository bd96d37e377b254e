//! The client side of Ruche's protocol, as a phone and an owner speak it (and the baseline's
//! socket): requests from many source addresses, the owner's server function calls, a
//! participant's join, and each connection's arrival times, on one clock.
use bench::{connect, encode, exchange, get_request, post_request, Error, KeptAlive, Reply};
use futures_util::StreamExt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

pub(crate) type Socket = WebSocketStream<TcpStream>;

const SOURCE_ADDRESSES: u8 = 64;

// ---------------------------------------------------------------------------------------------
// Server function calls, each from the next of the source addresses.

static NEXT_SOURCE: AtomicUsize = AtomicUsize::new(0);

pub(crate) fn next_source() -> IpAddr {
    let n = NEXT_SOURCE.fetch_add(1, Ordering::Relaxed) % SOURCE_ADDRESSES as usize;
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1 + n as u8))
}

pub(crate) async fn http_post(
    target: SocketAddr,
    path: &str,
    form: &[(&str, &str)],
    cookie: Option<&str>,
) -> Result<Reply, Error> {
    let headers: Vec<(&str, &str)> = cookie.map(|c| ("Cookie", c)).into_iter().collect();
    let request = post_request(target, path, form, &headers);
    exchange(connect(target, next_source()).await?, &request).await
}

/// The same on one of `kept`'s connections, a new one from the next source address if none is idle.
pub(crate) async fn http_post_kept(
    kept: &KeptAlive,
    path: &str,
    form: &[(&str, &str)],
    cookie: Option<&str>,
) -> Result<Reply, Error> {
    let headers: Vec<(&str, &str)> = cookie.map(|c| ("Cookie", c)).into_iter().collect();
    kept.post(next_source(), path, form, &headers).await
}

/// The owner, through the same server functions the pages call.
pub(crate) struct Owner {
    target: SocketAddr,
    cookie: String,
}

impl Owner {
    pub(crate) async fn sign_up(target: SocketAddr) -> Result<Self, Error> {
        let email =
            format!("bench-{}@example.org", std::process::id() as u128 * 1_000_000 + now_nanos() as u128 % 1_000_000);
        let reply = http_post(
            target,
            "/api/sign_up",
            &[("email", &email), ("display_name", "Bench"), ("password", "benchmark password")],
            None,
        )
        .await?;
        let cookie =
            reply.cookies.into_iter().find(|c| c.starts_with("ruche_login=")).ok_or("sign-up set no login cookie")?;
        Ok(Self { target, cookie })
    }

    pub(crate) async fn call(&self, name: &str, form: &[(&str, &str)]) -> Result<serde_json::Value, Error> {
        let reply = http_post(self.target, &format!("/api/{name}"), form, Some(&self.cookie)).await?;
        if !(200..400).contains(&reply.status) {
            return Err(format!("{name}: {} {}", reply.status, reply.body).into());
        }
        Ok(serde_json::from_str(&reply.body).unwrap_or(serde_json::Value::Null))
    }

    /// The login cookie, for the host's own live socket.
    pub(crate) fn cookie(&self) -> &str {
        &self.cookie
    }

    pub(crate) async fn create_session(&self, title: &str) -> Result<String, Error> {
        Ok(self.call("create_session", &[("title", title)]).await?.as_str().ok_or("no session id")?.to_owned())
    }

    /// The session's code, as participants type it (without the space it is shown with).
    pub(crate) async fn code(&self, session: &str) -> Result<String, Error> {
        Ok(self.call("host_session", &[("id", session)]).await?["state"]["ways_in"]["code"]
            .as_str()
            .ok_or("no code")?
            .replace(' ', ""))
    }
}

// ---------------------------------------------------------------------------------------------
// Connections and their arrival times.

fn clock() -> &'static Instant {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now)
}

pub(crate) fn now_nanos() -> u64 {
    clock().elapsed().as_nanos() as u64
}

/// When each connection last received a text message, and how many arrived in all.
pub(crate) struct Arrivals {
    pub(crate) at: Vec<AtomicU64>,
    pub(crate) received: AtomicUsize,
    pub(crate) last_len: AtomicUsize,
}

pub(crate) fn follow(mut socket: Socket, index: usize, arrivals: Arc<Arrivals>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        while let Some(Ok(message)) = socket.next().await {
            if let Message::Text(text) = message {
                arrivals.at[index].store(now_nanos(), Ordering::Relaxed);
                arrivals.last_len.store(text.len(), Ordering::Relaxed);
                arrivals.received.fetch_add(1, Ordering::Release);
            }
        }
    })
}

async fn first_text(socket: &mut Socket) -> Result<usize, Error> {
    loop {
        match tokio::time::timeout(Duration::from_secs(30), socket.next()).await? {
            Some(Ok(Message::Text(text))) => return Ok(text.len()),
            Some(Ok(Message::Close(frame))) => return Err(format!("closed: {frame:?}").into()),
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(e.into()),
            None => return Err("closed".into()),
        }
    }
}

pub(crate) async fn open_socket(target: SocketAddr, path: &str, cookie: Option<&str>) -> Result<Socket, Error> {
    let mut request = format!("ws://{target}{path}").into_client_request()?;
    if let Some(cookie) = cookie {
        request.headers_mut().insert("cookie", cookie.parse()?);
    }
    let stream = connect(target, next_source()).await?;
    // As small a read buffer as the servers': tungstenite zero-fills it before every read, and
    // with its 128 KiB default the load generator, not the server, would be what is measured.
    let config = WebSocketConfig::default().read_buffer_size(4096);
    Ok(tokio_tungstenite::client_async_with_config(request, stream, Some(config)).await?.0)
}

/// A participant joining Ruche as a phone does: the banner's `/join?code=…`, answered 303 to the
/// participant page (not loaded here: `page_figures` measures it apart), then the live socket,
/// until its first message (the state) arrives. Also returns how long the code's request took.
pub(crate) async fn join_ruche(
    target: SocketAddr,
    code: &str,
    session: &str,
    keep_cookie: Option<&Mutex<Vec<String>>>,
) -> Result<(Socket, u64), Error> {
    let t0 = Instant::now();
    let request = get_request(target, &format!("/join?code={}", encode(code)), &[]);
    let reply = exchange(connect(target, next_source()).await?, &request).await?;
    let visitor = reply
        .cookies
        .into_iter()
        .find(|c| c.starts_with("ruche_visitor="))
        .filter(|_| reply.status == 303)
        .ok_or_else(|| format!("join refused: {} {}", reply.status, reply.body))?;
    let code_request = t0.elapsed().as_nanos() as u64;
    if let Some(kept) = keep_cookie {
        kept.lock().unwrap_or_else(|p| p.into_inner()).push(visitor.clone());
    }
    let mut socket = open_socket(target, &format!("/live/p/{session}"), Some(&visitor)).await?;
    // The state, then the Discussion's snapshot: every connection starts with both.
    first_text(&mut socket).await?;
    first_text(&mut socket).await?;
    Ok((socket, code_request))
}

/// The baseline has no code to look up: a join is the socket alone.
pub(crate) async fn join_baseline(target: SocketAddr) -> Result<(Socket, u64), Error> {
    let mut socket = open_socket(target, "/ws", None).await?;
    first_text(&mut socket).await?;
    Ok((socket, 0))
}
