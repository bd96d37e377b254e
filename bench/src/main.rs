//! Load generator for Ruche's live channel (`scripts/bench-live.sh` runs it; it prints figures
//! and asserts nothing).
//!
//! `live-bench run`: N participants join one session over the real protocol (the code, through
//! the home page banner's `/join?code=…`, then the participant WebSocket), spread over one or more
//! Ruche instances; then the owner closes, opens and gives the session a new code, round after
//! round, and every participant's arrival time is recorded. The same N connections and the same
//! message sizes then go through a bare tokio broadcast server (`live-bench baseline`: each event
//! serialized once and its bytes shared through a `tokio::sync::broadcast`, over the same
//! WebSocket stack; the physical limit of this machine), and Ruche's figures are printed beside it.
//!
//! Joins are measured twice on each server. The first wave joins as fast as it can,
//! `JOIN_CONCURRENCY` at a time: the rate it reaches is the server's capacity. A second wave of as
//! many (to a new session, the first wave's sockets closed) arrives at a fixed rate, `--join-rate`
//! (default 5,000 a second), as a room does: its latencies are the server's at that rate.
//!
//! A phone loads the participant page between the code and the socket. The joins leave it out
//! (the baseline has nothing like it); the first `--page-loads` participants of the first wave
//! load it afterwards, each once, and its figures are printed apart.
//!
//! Sockets are spread over source addresses 127.0.0.1–127.0.0.64: one source address runs out of
//! ephemeral ports (and slows to a crawl searching for them) past about 14,000 connections, and
//! Ruche holds one client address to 3,000 connections and 2,000 new participants (the README's
//! Limits), so that two waves of 19,500 from fewer addresses would be refused as an attack.
use axum::extract::ws::{Message as AxumMessage, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::Query;
use axum::routing::{get, post};
use axum::serve::ListenerExt;
use bench::{
    arg, connect, cpu_seconds, encode, exchange, get_request, list, ms, percentile, post_request, rss_kib, Error, Reply,
};
use futures_util::{SinkExt, StreamExt};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio::sync::broadcast;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

// The load generator shares the cores with the servers it measures: with glibc's allocator it took
// more of them (see the README's Architecture), and the raw baseline runs on the same allocator as Ruche.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

type Socket = WebSocketStream<TcpStream>;

const SOURCE_ADDRESSES: u8 = 64;
const JOIN_CONCURRENCY: usize = 256;
const EVENT_PAUSE: Duration = Duration::from_millis(500);
const EVENT_TIMEOUT: Duration = Duration::from_secs(20);

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    match args.first().map(String::as_str) {
        Some("baseline") => runtime.block_on(serve_baseline(arg(&args, "--addr")?.parse()?)),
        Some("run") => runtime.block_on(run(&args)),
        _ => Err("usage: live-bench baseline --addr A | live-bench run --ruche A[,B] --ruche-pids P[,Q] --baseline A --baseline-pid P --participants N[,N…] [--rounds R] [--join-rate J] [--page-loads L]".into()),
    }
}

// ---------------------------------------------------------------------------------------------
// The raw baseline: a bare tokio broadcast over the same transport (axum WebSocket, 4 KiB read
// buffer, a writer and a reader task per socket), each message serialized once and shared.

async fn serve_baseline(addr: SocketAddr) -> Result<(), Error> {
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

// ---------------------------------------------------------------------------------------------
// Server function calls, each from the next of the source addresses.

static NEXT_SOURCE: AtomicUsize = AtomicUsize::new(0);

fn next_source() -> IpAddr {
    let n = NEXT_SOURCE.fetch_add(1, Ordering::Relaxed) % SOURCE_ADDRESSES as usize;
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1 + n as u8))
}

async fn http_post(
    target: SocketAddr,
    path: &str,
    form: &[(&str, &str)],
    cookie: Option<&str>,
) -> Result<Reply, Error> {
    let headers: Vec<(&str, &str)> = cookie.map(|c| ("Cookie", c)).into_iter().collect();
    let request = post_request(target, path, form, &headers);
    exchange(connect(target, next_source()).await?, &request).await
}

/// The owner, through the same server functions the pages call.
struct Owner {
    target: SocketAddr,
    cookie: String,
}

impl Owner {
    async fn sign_up(target: SocketAddr) -> Result<Self, Error> {
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

    async fn call(&self, name: &str, form: &[(&str, &str)]) -> Result<serde_json::Value, Error> {
        let reply = http_post(self.target, &format!("/api/{name}"), form, Some(&self.cookie)).await?;
        if !(200..400).contains(&reply.status) {
            return Err(format!("{name}: {} {}", reply.status, reply.body).into());
        }
        Ok(serde_json::from_str(&reply.body).unwrap_or(serde_json::Value::Null))
    }

    async fn create_session(&self, title: &str) -> Result<String, Error> {
        Ok(self.call("create_session", &[("title", title)]).await?.as_str().ok_or("no session id")?.to_owned())
    }

    /// The session's code, as participants type it (without the space it is shown with).
    async fn code(&self, session: &str) -> Result<String, Error> {
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

fn now_nanos() -> u64 {
    clock().elapsed().as_nanos() as u64
}

/// When each connection last received a text message, and how many arrived in all.
struct Arrivals {
    at: Vec<AtomicU64>,
    received: AtomicUsize,
    last_len: AtomicUsize,
}

fn follow(mut socket: Socket, index: usize, arrivals: Arc<Arrivals>) -> tokio::task::JoinHandle<()> {
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

async fn open_socket(target: SocketAddr, path: &str, cookie: Option<&str>) -> Result<Socket, Error> {
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
async fn join_ruche(
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
    first_text(&mut socket).await?;
    Ok((socket, code_request))
}

/// Participants joining one session by its code, the i-th at `targets[i % len]`.
#[derive(Clone)]
struct Wave {
    targets: Arc<[SocketAddr]>,
    code: Arc<str>,
    session: Arc<str>,
    /// The visitor cookies of the first `page_loads` participants, who load their page later.
    cookies: Arc<Mutex<Vec<String>>>,
    page_loads: usize,
}

impl Wave {
    fn new(targets: &[SocketAddr], code: String, session: &str, page_loads: usize) -> Self {
        Self {
            targets: targets.into(),
            code: code.into(),
            session: session.into(),
            cookies: Arc::default(),
            page_loads,
        }
    }

    fn join(&self, i: usize) -> impl std::future::Future<Output = Result<(Socket, u64), Error>> + Send + 'static {
        let wave = self.clone();
        async move {
            let keep = (i < wave.page_loads).then_some(&*wave.cookies);
            join_ruche(wave.targets[i % wave.targets.len()], &wave.code, &wave.session, keep).await
        }
    }
}

/// Participants of the first wave who then load the participant page, each once (`--page-loads`).
const PAGE_LOADS: usize = 1000;

/// What a phone's browser accepts (Chrome's list): the page comes compressed, as phones get it.
const PHONE_ENCODINGS: &str = "gzip, deflate, br, zstd";

/// The participant page, loaded by each kept visitor (`JOIN_CONCURRENCY` at a time, each on a
/// connection of its own, as the bench's other requests), its session open and showing a slide.
/// A phone loads it between the code and the socket; the joins above leave it out, as the raw
/// baseline has nothing like it. Returns pages a second, latency p50 and p99, and the servers'
/// CPU time per page.
async fn page_figures(wave: &Wave, pids: &[u32]) -> Result<[f64; 4], Error> {
    let cookies: Vec<String> = std::mem::take(&mut *wave.cookies.lock().unwrap_or_else(|p| p.into_inner()));
    let n = cookies.len();
    let path = format!("/p/{}", wave.session);
    // Once uncompressed, untimed: the participant's own view (its nickname form), not a refusal.
    if let Some(cookie) = cookies.first() {
        let request = get_request(wave.targets[0], &path, &[("Cookie", cookie)]);
        let reply = exchange(connect(wave.targets[0], next_source()).await?, &request).await?;
        if reply.status != 200 || !reply.body.contains("Save nickname") {
            return Err(format!(
                "participant page: {} {}",
                reply.status,
                reply.body.chars().take(300).collect::<String>()
            )
            .into());
        }
    }
    let requests: Arc<[(SocketAddr, String)]> = cookies
        .iter()
        .enumerate()
        .map(|(i, cookie)| {
            let target = wave.targets[i % wave.targets.len()];
            (target, get_request(target, &path, &[("Cookie", cookie), ("Accept-Encoding", PHONE_ENCODINGS)]))
        })
        .collect();
    let next = Arc::new(AtomicUsize::new(0));
    let (cpu_before, started) = (cpu_seconds(pids), Instant::now());
    let mut workers = Vec::new();
    for _ in 0..JOIN_CONCURRENCY.min(n) {
        let (requests, next) = (requests.clone(), next.clone());
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((target, request)) = requests.get(i) else { return Ok::<_, Error>(latencies) };
                let t0 = Instant::now();
                let reply = exchange(connect(*target, next_source()).await?, request).await?;
                latencies.push(t0.elapsed().as_nanos() as u64);
                if reply.status != 200 || reply.body.is_empty() {
                    return Err(format!("participant page {i}: {}", reply.status).into());
                }
            }
        }));
    }
    let mut latencies = Vec::with_capacity(n);
    for worker in workers {
        latencies.extend(worker.await??);
    }
    let (cpu, wall) = (cpu_seconds(pids) - cpu_before, started.elapsed().as_secs_f64());
    latencies.sort_unstable();
    Ok([
        n as f64 / wall,
        ms(percentile(&latencies, 50.0)),
        ms(percentile(&latencies, 99.0)),
        cpu * 1e6 / n.max(1) as f64,
    ])
}

/// The baseline has no code to look up: a join is the socket alone.
async fn join_baseline(target: SocketAddr) -> Result<(Socket, u64), Error> {
    let mut socket = open_socket(target, "/ws", None).await?;
    first_text(&mut socket).await?;
    Ok((socket, 0))
}

struct Joined {
    arrivals: Arc<Arrivals>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    latencies: Vec<u64>,
    /// The code's request alone, and the socket alone (until its first message): which part of
    /// a join is slow.
    code_requests: Vec<u64>,
    sockets: Vec<u64>,
    elapsed: Duration,
}

/// Joins `n` participants, `JOIN_CONCURRENCY` at a time; the i-th goes to `targets[i % len]`.
async fn join_all<F, Fut>(n: usize, join: F) -> Result<Joined, Error>
where
    F: Fn(usize) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = Result<(Socket, u64), Error>> + Send,
{
    let arrivals = Arc::new(Arrivals {
        at: (0..n).map(|_| AtomicU64::new(0)).collect(),
        received: AtomicUsize::new(0),
        last_len: AtomicUsize::new(0),
    });
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..JOIN_CONCURRENCY.min(n) {
        let (next, join, arrivals) = (next.clone(), join.clone(), arrivals.clone());
        workers.push(tokio::spawn(async move {
            let mut done = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return Ok::<_, Error>(done);
                }
                let t0 = Instant::now();
                let (socket, code_request) = join(i).await.map_err(|e| format!("participant {i}: {e}"))?;
                let latency = t0.elapsed().as_nanos() as u64;
                done.push((follow(socket, i, arrivals.clone()), latency, code_request));
            }
        }));
    }
    let (mut tasks, mut latencies, mut code_requests, mut sockets) =
        (Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n));
    for worker in workers {
        for (task, latency, code_request) in worker.await?? {
            tasks.push(task);
            latencies.push(latency);
            code_requests.push(code_request);
            sockets.push(latency - code_request);
        }
    }
    Ok(Joined { arrivals, tasks, latencies, code_requests, sockets, elapsed: started.elapsed() })
}

/// Joins `n` participants arriving at `rate` a second, as a room does, whatever the server makes
/// of those before them (an open loop; at most `JOIN_CONCURRENCY` in flight, as the file limit
/// leaves room for). Each latency counts from the participant's due time, so a server falling
/// behind shows as latency, not as a slower schedule. `join_all`'s latencies cannot show a
/// server's latency at a given rate: with a fixed number in flight, their mean is that number
/// divided by the rate reached (Little's law). Returns the latencies, sorted, and the rate reached;
/// the sockets close.
async fn join_at_rate<F, Fut>(n: usize, rate: f64, join: F) -> Result<(Vec<u64>, f64), Error>
where
    F: Fn(usize) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = Result<(Socket, u64), Error>> + Send + 'static,
{
    let in_flight = Arc::new(tokio::sync::Semaphore::new(JOIN_CONCURRENCY));
    let started = tokio::time::Instant::now();
    let mut joins = Vec::with_capacity(n);
    for i in 0..n {
        let due = started + Duration::from_secs_f64(i as f64 / rate);
        tokio::time::sleep_until(due).await;
        let slot = in_flight.clone().acquire_owned().await?;
        let join = join.clone();
        joins.push(tokio::spawn(async move {
            let (socket, _) = join(i).await.map_err(|e| format!("participant {i}: {e}"))?;
            drop(slot);
            Ok::<_, Error>((socket, due.elapsed().as_nanos() as u64))
        }));
    }
    let mut sockets = Vec::with_capacity(n);
    let mut latencies = Vec::with_capacity(n);
    for join in joins {
        let (socket, latency) = join.await??;
        sockets.push(socket);
        latencies.push(latency);
    }
    let reached = n as f64 / started.elapsed().as_secs_f64();
    drop(sockets);
    latencies.sort_unstable();
    Ok((latencies, reached))
}

/// What one event measured: each delivery latency, when its request was answered, and the
/// server's CPU time from the request to the last delivery.
type Measured = (Vec<u64>, u64, f64);

/// Fires one event and waits for every connection to receive it.
async fn measure<Fut>(joined: &Joined, pids: &[u32], fire: Fut) -> Result<Measured, Error>
where
    Fut: std::future::Future<Output = Result<(), Error>>,
{
    let n = joined.arrivals.at.len();
    let before = joined.arrivals.received.load(Ordering::Acquire);
    let cpu_before = cpu_seconds(pids);
    let t0 = now_nanos();
    fire.await?;
    let answered = now_nanos() - t0;
    let deadline = Instant::now() + EVENT_TIMEOUT;
    while joined.arrivals.received.load(Ordering::Acquire) < before + n {
        if Instant::now() > deadline {
            let got = joined.arrivals.received.load(Ordering::Acquire) - before;
            return Err(format!("only {got} of {n} participants received the event within {EVENT_TIMEOUT:?}").into());
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let cpu = cpu_seconds(pids) - cpu_before;
    Ok((joined.arrivals.at.iter().map(|a| a.load(Ordering::Relaxed).saturating_sub(t0)).collect(), answered, cpu))
}

/// What one kind of event measured: every delivery, the first and the last participant of each
/// round, and when the event's request was answered.
#[derive(Default)]
struct EventFigures {
    deliveries: Vec<u64>,
    /// What a server does before its fan-out starts (the event's request, and on Ruche its
    /// commit and the state it makes), beside the fan-out itself.
    first: Vec<u64>,
    last: Vec<u64>,
    answered: Vec<u64>,
    /// Server CPU seconds over every round, and the messages delivered in them.
    cpu: f64,
    messages: usize,
    size: usize,
}

impl EventFigures {
    fn add(&mut self, (mut latencies, answered, cpu): Measured, size: usize) {
        self.answered.push(answered);
        self.cpu += cpu;
        self.messages += latencies.len();
        latencies.sort_unstable();
        self.first.push(*latencies.first().unwrap_or(&0));
        self.last.push(*latencies.last().unwrap_or(&0));
        self.deliveries.extend(latencies);
        self.size = size;
    }

    fn summary(&mut self) -> [f64; 7] {
        self.deliveries.sort_unstable();
        self.first.sort_unstable();
        self.last.sort_unstable();
        self.answered.sort_unstable();
        [
            ms(percentile(&self.deliveries, 50.0)),
            ms(percentile(&self.deliveries, 95.0)),
            ms(percentile(&self.deliveries, 99.0)),
            ms(percentile(&self.first, 50.0)),
            ms(percentile(&self.last, 95.0)),
            ms(percentile(&self.answered, 50.0)),
            self.cpu * 1e6 / self.messages.max(1) as f64,
        ]
    }
}

struct RunFigures {
    joins_per_second: f64,
    join_p50: f64,
    join_p99: f64,
    code_request_p99: f64,
    socket_p99: f64,
    /// Server CPU time (user and system, every process) per join.
    cpu_per_join: f64,
    memory_per_participant: f64,
    events: Vec<(&'static str, EventFigures)>,
    /// A second wave of as many participants, arriving at the `--join-rate` (to a new session on
    /// Ruche): the rate reached, join latency p50 and p99 counted from each one's due time, and
    /// the cores the servers and the load generator kept busy meanwhile.
    paced: [f64; 5],
    /// The participant page (`page_figures`); none on the baseline.
    page: [f64; 4],
}

/// Ends a run: its connections close, and its figures are put together.
fn finish(
    joined: Joined,
    [joins_per_second, join_p50, join_p99, code_request_p99, socket_p99, cpu_per_join]: [f64; 6],
    memory_kib: u64,
    events: Vec<(&'static str, EventFigures)>,
) -> RunFigures {
    for task in &joined.tasks {
        task.abort();
    }
    let memory_per_participant = memory_kib as f64 * 1024.0 / joined.arrivals.at.len() as f64;
    RunFigures {
        joins_per_second,
        join_p50,
        join_p99,
        code_request_p99,
        socket_p99,
        cpu_per_join,
        memory_per_participant,
        events,
        paced: [0.0; 5],
        page: [0.0; 4],
    }
}

/// Joins a second wave at `rate` once the first one's sockets are gone. The cores busy tell
/// whether the machine, shared with the load generator, had any to spare: a tail while they
/// fill every core is the machine's, not the server's alone (PostgreSQL's share is not counted).
async fn paced_figures<F, Fut>(n: usize, rate: f64, pids: &[u32], join: F) -> Result<[f64; 5], Error>
where
    F: Fn(usize) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = Result<(Socket, u64), Error>> + Send + 'static,
{
    tokio::time::sleep(Duration::from_secs(3)).await;
    let me = [std::process::id()];
    let (servers_before, me_before, started) = (cpu_seconds(pids), cpu_seconds(&me), Instant::now());
    let (latencies, reached) = join_at_rate(n, rate, join).await?;
    let wall = started.elapsed().as_secs_f64();
    let cores = |before: f64, pids: &[u32]| (cpu_seconds(pids) - before) / wall;
    Ok([
        reached,
        ms(percentile(&latencies, 50.0)),
        ms(percentile(&latencies, 99.0)),
        cores(servers_before, pids),
        cores(me_before, &me),
    ])
}

fn join_figures(joined: &mut Joined, n: usize, cpu: f64) -> [f64; 6] {
    for latencies in [&mut joined.latencies, &mut joined.code_requests, &mut joined.sockets] {
        latencies.sort_unstable();
    }
    [
        n as f64 / joined.elapsed.as_secs_f64(),
        ms(percentile(&joined.latencies, 50.0)),
        ms(percentile(&joined.latencies, 99.0)),
        ms(percentile(&joined.code_requests, 99.0)),
        ms(percentile(&joined.sockets, 99.0)),
        cpu * 1e6 / n as f64,
    ]
}

async fn settle_memory(pids: &[u32]) -> u64 {
    tokio::time::sleep(Duration::from_secs(2)).await;
    pids.iter().map(|p| rss_kib(*p)).sum()
}

async fn run_ruche(
    targets: &[SocketAddr],
    pids: &[u32],
    n: usize,
    rounds: usize,
    join_rate: f64,
    page_loads: usize,
) -> Result<RunFigures, Error> {
    let owner = Owner::sign_up(targets[0]).await?;
    let session = owner.create_session("Benchmark").await?;
    let slide = owner
        .call("add_slide", &[("id", &session), ("kind", "LinkAndQr")])
        .await?
        .as_str()
        .ok_or("no slide id")?
        .to_owned();
    owner.call("show_slide", &[("id", &session), ("slide", &slide)]).await?;
    let wave = Wave::new(targets, owner.code(&session).await?, &session, page_loads);

    let memory_before = settle_memory(pids).await;
    let cpu_before = cpu_seconds(pids);
    let mut joined = join_all(n, {
        let wave = wave.clone();
        move |i| wave.join(i)
    })
    .await?;
    let cpu = cpu_seconds(pids) - cpu_before;
    let joins = join_figures(&mut joined, n, cpu);
    let memory_after = settle_memory(pids).await;

    let mut events = vec![
        ("close", EventFigures::default()),
        ("open", EventFigures::default()),
        ("new code", EventFigures::default()),
    ];
    for _ in 0..rounds {
        for (kind, figures) in events.iter_mut() {
            let latencies = match *kind {
                "close" => {
                    measure(&joined, pids, async {
                        owner.call("set_session_open", &[("id", &session), ("open", "false")]).await.map(drop)
                    })
                    .await?
                }
                "open" => {
                    measure(&joined, pids, async {
                        owner.call("set_session_open", &[("id", &session), ("open", "true")]).await.map(drop)
                    })
                    .await?
                }
                _ => {
                    measure(&joined, pids, async {
                        owner.call("generate_new_code", &[("id", &session)]).await.map(drop)
                    })
                    .await?
                }
            };
            figures.add(latencies, joined.arrivals.last_len.load(Ordering::Relaxed));
            tokio::time::sleep(EVENT_PAUSE).await;
        }
    }
    let page = page_figures(&wave, pids).await?;
    let mut figures = finish(joined, joins, memory_after.saturating_sub(memory_before), events);
    figures.page = page;

    // The second wave goes to a session of its own, which it fills from empty as the first did.
    let session = owner.create_session("Benchmark, paced").await?;
    let wave = Wave::new(targets, owner.code(&session).await?, &session, 0);
    figures.paced = paced_figures(n, join_rate, pids, move |i| wave.join(i)).await?;
    Ok(figures)
}

async fn run_baseline(
    target: SocketAddr,
    pid: u32,
    n: usize,
    rounds: usize,
    sizes: &[usize],
    join_rate: f64,
) -> Result<RunFigures, Error> {
    let memory_before = settle_memory(&[pid]).await;
    let cpu_before = cpu_seconds(&[pid]);
    let mut joined = join_all(n, move |_| join_baseline(target)).await?;
    let joins = join_figures(&mut joined, n, cpu_seconds(&[pid]) - cpu_before);
    let memory_after = settle_memory(&[pid]).await;
    let mut events: Vec<(&'static str, EventFigures)> = vec![
        ("close", EventFigures::default()),
        ("open", EventFigures::default()),
        ("new code", EventFigures::default()),
    ];
    for _ in 0..rounds {
        for (i, (_, figures)) in events.iter_mut().enumerate() {
            let size = sizes[i];
            let latencies = measure(&joined, &[pid], async move {
                let reply = http_post(target, &format!("/fire?size={size}"), &[], None).await?;
                if reply.status != 200 {
                    return Err(format!("fire: {}", reply.status).into());
                }
                Ok(())
            })
            .await?;
            figures.add(latencies, size);
            tokio::time::sleep(EVENT_PAUSE).await;
        }
    }
    let mut figures = finish(joined, joins, memory_after.saturating_sub(memory_before), events);
    figures.paced = paced_figures(n, join_rate, &[pid], move |_| join_baseline(target)).await?;
    Ok(figures)
}

async fn run(args: &[String]) -> Result<(), Error> {
    let targets: Vec<SocketAddr> = list(&arg(args, "--ruche")?)?;
    let pids: Vec<u32> = list(&arg(args, "--ruche-pids")?)?;
    let baseline: SocketAddr = arg(args, "--baseline")?.parse()?;
    let baseline_pid: u32 = arg(args, "--baseline-pid")?.parse()?;
    let sizes: Vec<usize> = list(&arg(args, "--participants")?)?;
    let rounds: usize = arg(args, "--rounds").ok().map(|r| r.parse()).transpose()?.unwrap_or(10);
    let join_rate: f64 = arg(args, "--join-rate").ok().map(|r| r.parse()).transpose()?.unwrap_or(5000.0);
    let page_loads: usize = arg(args, "--page-loads").ok().map(|r| r.parse()).transpose()?.unwrap_or(PAGE_LOADS);
    let label = arg(args, "--label").unwrap_or_else(|_| format!("{} instance(s)", targets.len()));
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());

    for n in sizes {
        println!("\n## {label}: {n} participants in one session, {rounds} rounds of each event");
        let page_loads = page_loads.min(n);
        let mut ruche = run_ruche(&targets, &pids, n, rounds, join_rate, page_loads).await?;
        // Let the closed sockets go before the baseline opens as many.
        tokio::time::sleep(Duration::from_secs(3)).await;
        let message_sizes: Vec<usize> = ruche.events.iter().map(|(_, f)| f.size).collect();
        let mut raw = run_baseline(baseline, baseline_pid, n, rounds, &message_sizes, join_rate).await?;
        tokio::time::sleep(Duration::from_secs(3)).await;

        println!("| figure | Ruche | raw broadcast | Ruche / raw |");
        println!("|---|---|---|---|");
        let ratio = |r: f64, b: f64| if b > 0.0 { r / b } else { f64::NAN };
        let row = |name: &str, r: f64, b: f64, unit: &str| {
            println!("| {name} | {r:.1} {unit} | {b:.1} {unit} | {:.2} |", ratio(r, b));
        };
        row("joins per second", ruche.joins_per_second, raw.joins_per_second, "/s");
        row("join latency p50", ruche.join_p50, raw.join_p50, "ms");
        row("join latency p99", ruche.join_p99, raw.join_p99, "ms");
        row("join: the code's request alone, p99", ruche.code_request_p99, raw.code_request_p99, "ms");
        row("join: the socket alone, p99", ruche.socket_p99, raw.socket_p99, "ms");
        row("server CPU time per join", ruche.cpu_per_join, raw.cpu_per_join, "µs");
        row(&format!("joins arriving at {join_rate} a second: rate reached"), ruche.paced[0], raw.paced[0], "/s");
        row(&format!("joins arriving at {join_rate} a second: latency p50"), ruche.paced[1], raw.paced[1], "ms");
        row(&format!("joins arriving at {join_rate} a second: latency p99"), ruche.paced[2], raw.paced[2], "ms");
        for (what, i) in [("server", 3), ("load generator", 4)] {
            let (r, b) = (ruche.paced[i], raw.paced[i]);
            println!("| joins arriving at {join_rate} a second: cores busy, {what} | {r:.2} of {cores} | {b:.2} of {cores} | {:.2} |", ratio(r, b));
        }
        if page_loads > 0 {
            let [pages, page_p50, page_p99, cpu_per_page] = ruche.page;
            println!("| the participant page, {page_loads} loads: pages a second, latency p50 / p99 | {pages:.1} /s, {page_p50:.1} / {page_p99:.1} ms | – | – |");
            println!("| the participant page: server CPU time per page (a phone's join: the code, this page, the socket) | {cpu_per_page:.1} µs | – | – |");
        }
        row(
            "server memory per participant",
            ruche.memory_per_participant / 1000.0,
            raw.memory_per_participant / 1000.0,
            "KB",
        );
        for ((kind, r), (_, b)) in ruche.events.iter_mut().zip(raw.events.iter_mut()) {
            let size = r.size;
            let (rs, bs) = (r.summary(), b.summary());
            let figures = [
                "delivery p50",
                "delivery p95",
                "delivery p99",
                "first participant reached, p50 over rounds",
                "last participant reached, p95 over rounds",
                "its request answered, p50",
            ];
            for (i, what) in figures.iter().enumerate() {
                row(&format!("{kind} ({size} B): {what}"), rs[i], bs[i], "ms");
            }
            row(&format!("{kind} ({size} B): server CPU time per message delivered"), rs[6], bs[6], "µs");
        }
    }
    Ok(())
}
