//! The live channel's sockets: one WebSocket per tab, on plain axum routes beside the Leptos
//! ones. `/live/s/<session>` is for hosts (the owner and facilitators), `/live/p/<session>` for
//! participants who joined; each follows its own states in the hub (`app::services::live_hub`), so
//! host-only data never reaches a participant's socket.
//!
//! Per socket: a 512-byte read buffer, a writer task that sends the newest state, and a reader task
//! that waits for the tab to go and keeps the ping timer and the shutdown wait. Not axum's default
//! 128 KiB buffer: every connection would hold it, and connects slow down when thousands come at
//! once. Not one task that `select!`s over reading and writing: tungstenite zero-fills its read
//! buffer before each read attempt, and such a task attempts one for every state it writes, which
//! multiplies the CPU of a delivery. A participant's writer is woken only for what the hub could
//! not write itself (`ParticipantOutlet`): a ping, "restarting", or a state the socket could not
//! take at once. A participant's socket keeps no copy of what it sends (`unbuffered_socket.rs`).
//! Instances sharing PostgreSQL hear each other in `peer_bridge.rs`.
use crate::unbuffered_socket::Upgrade;
use app::ids::{SessionId, UserId};
use app::live_protocol::{Keepalive, CLOSE_DENIED, CLOSE_LOGGED_OUT, CLOSE_RESTARTING};
use app::services::live_hub::discussion::{EventFrame, HostEvent};
use app::services::live_hub::{Audience, Frame, HostFrame, Outlet, Subscription};
use app::services::metrics as counted;
use app::services::{auth, visitor, ServerContext};
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, Request};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use futures_util::stream::SplitSink;
use futures_util::task::AtomicWaker;
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;
use tokio::sync::{broadcast, watch};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// How long a stopping server gives each socket to say "restarting".
const SHUTDOWN_WRITE: Duration = Duration::from_secs(2);
/// Tabs send nothing but pongs and a close frame, a few bytes each. tungstenite keeps the buffer
/// for the socket's life and zero-fills all of it before each read: a larger one costs every
/// participant memory and every join a memset. A larger frame (up to `MAX_INCOMING`) grows it.
const READ_BUFFER: usize = 512;
const MAX_INCOMING: usize = 4 * 1024;

pub fn routes<S: Clone + Send + Sync + 'static>(ctx: ServerContext) -> Router<S> {
    let participant_ctx = ctx.clone();
    Router::new()
        .route(
            "/live/s/{session}",
            get(move |Path(session): Path<String>, headers: HeaderMap, ws: WebSocketUpgrade| {
                host_socket(ctx.clone(), session, headers, ws)
            }),
        )
        .route(
            "/live/p/{session}",
            get(
                move |Path(session): Path<String>,
                      Query(query): Query<HashMap<String, String>>,
                      mut request: Request| {
                    // Where a reconnecting tab was in the Discussion's log (`participant_path`).
                    let since = query.get("since").and_then(|seq| seq.parse().ok());
                    let ctx = participant_ctx.clone();
                    async move {
                        match Upgrade::from_request(&mut request) {
                            Ok(ws) => participant_socket(ctx, session, since, request.headers(), ws).await,
                            Err(refused) => refused.into_response(),
                        }
                    }
                },
            ),
        )
}

fn upgrade(ws: WebSocketUpgrade) -> WebSocketUpgrade {
    ws.read_buffer_size(READ_BUFFER).max_message_size(MAX_INCOMING).max_frame_size(MAX_INCOMING)
}

/// The same bounds for a participant's socket (`unbuffered_socket`).
fn participant_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER)
        .max_message_size(Some(MAX_INCOMING))
        .max_frame_size(Some(MAX_INCOMING))
}

/// Only pages of this Ruche may open its sockets: the login cookie would otherwise let another
/// site follow a host's session in their name.
fn same_origin(ctx: &ServerContext, headers: &HeaderMap) -> bool {
    crate::guard::same_origin(&ctx.public_url, headers)
}

async fn host_socket(ctx: ServerContext, session: String, headers: HeaderMap, ws: WebSocketUpgrade) -> Response {
    if !same_origin(&ctx, &headers) {
        return (StatusCode::FORBIDDEN, "This page may not follow Ruche sessions.").into_response();
    }
    let Ok(session) = session.parse::<SessionId>() else {
        return upgrade(ws).on_upgrade(refuse);
    };
    // Subscribed before the login is checked, so that a logout committed meanwhile is heard.
    let ended_logins = ctx.live.ended_logins();
    let allowed = async {
        let Some(user) = auth::user_id_from_headers(&ctx.db, &headers, ctx.secure_cookies()).await? else {
            return Ok(None);
        };
        Ok::<_, sea_orm::DbErr>(ctx.db.role_in_session(session, user).await?.map(|_| user))
    };
    match (allowed.await, auth::login_digest_from_headers(&headers, ctx.secure_cookies())) {
        (Ok(Some(user)), Some(login)) => {
            let Some(slot) = ctx.limits.open_host_socket(user) else { return too_many_tabs() };
            upgrade(ws).on_upgrade(move |socket| async move {
                let _slot = slot;
                let subscription = ctx.live.subscribe(&ctx, session, Audience::Hosts);
                // A host tab (re)connecting has the session in hand, as a page load does.
                match ctx.db.record_host_activity(session, app::storage::now_micros()).await {
                    Ok(true) => ctx.live.changed(&ctx, session).await,
                    Ok(false) => {}
                    Err(e) => tracing::warn!(error = %e, "live: could not record host activity"),
                }
                let feed = HostFeed {
                    states: subscription.host_states(),
                    presence: subscription.presence(),
                    discussion: subscription.host_discussion_events(),
                    discussion_seq: None,
                    subscription,
                    user,
                    login,
                    ended_logins,
                };
                let within = ctx.keepalive.write_within;
                let _open = counted::socket_opened(Audience::Hosts);
                let (sink, stream) = socket.split();
                let heard = stream.map(|read| read.map(|message| matches!(message, Message::Close(_))));
                serve(sink, heard, move |sink, asides| write(sink, feed, asides, within), &ctx).await
            })
        }
        (Ok(_), _) => upgrade(ws).on_upgrade(refuse),
        (Err(e), _) => storage_failed(&e, "live: could not check a host socket"),
    }
}

async fn participant_socket(
    ctx: ServerContext,
    session: String,
    since: Option<u64>,
    headers: &HeaderMap,
    ws: Upgrade,
) -> Response {
    if !same_origin(&ctx, headers) {
        return (StatusCode::FORBIDDEN, "This page may not follow Ruche sessions.").into_response();
    }
    let (Ok(session), Some(visitor)) =
        (session.parse::<SessionId>(), visitor::visitor_digest_from_headers(headers, ctx.secure_cookies()))
    else {
        return refuse_participant(ws);
    };
    // A ban takes the visitor out of the admitted ones (`Live::banned`): they are looked up.
    let joined = match ctx.live.is_admitted(session, &visitor) {
        true => Ok(true),
        false => async { Ok(ctx.speakers.find(session, &visitor).await?.is_some_and(|found| !found.banned)) }.await,
    };
    match joined {
        Ok(true) => {
            let Some(slot) = ctx.limits.open_participant_socket(&visitor) else { return too_many_tabs() };
            ws.on_upgrade(participant_config(), move |sink, incoming| async move {
                let _slot = slot;
                let _open = counted::socket_opened(Audience::Participants);
                ctx.live.admit(session, &visitor);
                let mut subscription = ctx.live.subscribe(&ctx, session, Audience::Participants);
                // A position this log has not reached is not one of its own: a snapshot is sent.
                let since = since.filter(|seq| *seq <= subscription.discussion_seq());
                let write = move |sink, asides| {
                    let outlet = Arc::new(ParticipantOutlet::new(sink, asides).of(&visitor).since(since));
                    subscription.deliver_to(outlet.clone());
                    async move {
                        write_participant(outlet, subscription).await;
                        Ended::Done
                    }
                };
                serve(sink, incoming.map(|read| read.map(|message| message.is_close())), write, &ctx).await
            })
        }
        Ok(false) => refuse_participant(ws),
        Err(e) => storage_failed(&e, "live: could not check a participant socket"),
    }
}

/// A socket whose rights could not be checked: 503 while the database cannot be reached (the
/// tab retries with its backoff), 500 otherwise.
fn storage_failed(e: &app::storage::StorageError, what: &str) -> Response {
    if app::storage::is_unavailable(e) {
        app::storage::report_unavailable(e);
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    tracing::error!(error = %e, "{what}");
    StatusCode::INTERNAL_SERVER_ERROR.into_response()
}

/// One browser or one host past its share of sockets (`rules::limits::LIVE_SOCKETS_PER_*`): the tab
/// keeps retrying with its backoff, and gets in once another tab is closed.
fn too_many_tabs() -> Response {
    (
        StatusCode::TOO_MANY_REQUESTS,
        "Too many tabs follow sessions from this browser. Close one and this one reconnects.",
    )
        .into_response()
}

/// Closed with `CLOSE_DENIED`, so that the tab stops trying.
async fn refuse(mut socket: WebSocket) {
    let _ = socket.send(denied()).await;
}

fn refuse_participant(ws: Upgrade) -> Response {
    ws.on_upgrade(participant_config(), |mut sink, _| async move {
        let _ = sink.send(denied()).await;
    })
}

/// The close frame of a tab that may not follow the session: it stops trying.
fn denied() -> Message {
    close(CLOSE_DENIED, "You don't have access to this session.")
}

fn close(code: u16, reason: &'static str) -> Message {
    Message::Close(Some(CloseFrame { code, reason: Utf8Bytes::from_static(reason) }))
}

type SocketSink = SplitSink<WebSocket, Message>;

/// What the reader task asks of the writer besides the feed (a ping, "restarting"), and the hub
/// of a participant's writer (a state it could not write). One socket's own flags and waker: a
/// host's writer polls them after every message, and a lock or a channel there would cost each
/// delivery (and an mpsc channel memory on every socket).
#[derive(Default)]
struct Asides {
    asked: AtomicU8,
    writer: AtomicWaker,
}

const PING: u8 = 1;
const RESTARTING: u8 = 2;
/// A participant's socket could not take a state from the hub: its writer sends the newest.
const BEHIND: u8 = 4;
/// A participant's socket missed a Discussion event: its writer sends a snapshot.
const DISCUSSION: u8 = 8;
/// A host banned this participant: the writer closes the socket.
const BANNED: u8 = 16;

impl Asides {
    fn ask(&self, what: u8) {
        self.asked.fetch_or(what, Ordering::Release);
        self.writer.wake();
    }

    /// What was asked since the last call, once there is something.
    fn next(&self) -> impl std::future::Future<Output = u8> + '_ {
        std::future::poll_fn(|cx| {
            let mut asked = self.asked.swap(0, Ordering::Acquire);
            if asked == 0 {
                self.writer.register(cx.waker());
                // Asked between the first look and the registration: that wake-up found no waker.
                asked = self.asked.swap(0, Ordering::Acquire);
            }
            if asked == 0 {
                Poll::Pending
            } else {
                Poll::Ready(asked)
            }
        })
    }
}

/// Runs the writer as its own task and reads in this one until the tab goes. The reader also
/// keeps the ping timer and waits on the server's shutdown: it wakes rarely (a pong every 25 s),
/// where the writer wakes for every message of the session and would poll both each time. Each
/// poll of the shutdown wait takes a lock shared by every socket of the process (tokio's
/// `Notified`), which perf over the fan-out showed, as it showed the ping timer.
/// `heard` says of each message the tab sends whether it is a close frame.
async fn serve<K, H, E, W, F>(sink: K, heard: H, writer: W, ctx: &ServerContext)
where
    H: Stream<Item = Result<bool, E>> + Unpin,
    W: FnOnce(K, Arc<Asides>) -> F,
    F: std::future::Future<Output = Ended> + Send + 'static,
{
    let asides = Arc::new(Asides::default());
    let mut writer = tokio::spawn(writer(sink, asides.clone()));
    let reading = read_until_gone(heard, ctx.keepalive, ctx.live.shutdown_signal(), &asides);
    tokio::pin!(reading);
    // The writer's task wakes this one only when it ends.
    let mut written = false;
    let read = loop {
        tokio::select! {
            read = &mut reading => break read,
            ended = &mut writer, if !written => {
                written = true;
                // A tab that took no state in time: the socket goes now, not once it is heard from.
                if matches!(ended, Ok(Ended::Stalled)) {
                    return;
                }
            }
        }
    };
    if read == Read::ShuttingDown && !written {
        // The writer says "restarting" after what it is sending; a tab that reads nothing does
        // not hold the socket open.
        asides.ask(RESTARTING);
        let _ = tokio::time::timeout(SHUTDOWN_WRITE, &mut writer).await;
    }
    writer.abort();
}

/// How a socket's writer ended.
enum Ended {
    /// It said what it had to (a close frame, or the socket failed): the tab ends the socket.
    Done,
    /// The tab took no state within `Keepalive::write_within`.
    Stalled,
}

#[derive(PartialEq)]
enum Read {
    Gone,
    ShuttingDown,
}

async fn read_until_gone<E>(
    mut heard: impl Stream<Item = Result<bool, E>> + Unpin,
    keepalive: Keepalive,
    mut shutdown: watch::Receiver<bool>,
    asides: &Asides,
) -> Read {
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + keepalive.ping_every, keepalive.ping_every);
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let silence = tokio::time::sleep(keepalive.silence_limit);
    let shutting_down = shutdown.changed();
    tokio::pin!(silence, shutting_down);
    loop {
        tokio::select! {
            closing = heard.next() => match closing {
                Some(Ok(true)) | Some(Err(_)) | None => return Read::Gone,
                Some(Ok(false)) => silence.as_mut().reset(tokio::time::Instant::now() + keepalive.silence_limit),
            },
            _ = &mut silence => return Read::Gone,
            _ = ping.tick() => asides.ask(PING),
            _ = &mut shutting_down => return Read::ShuttingDown,
        }
    }
}

/// What a socket sends next.
enum Next {
    Send(Utf8Bytes),
    /// This tab may no longer follow the session: a host removed by the owner.
    Deny,
    /// The login this tab's socket was opened with ended.
    LoggedOut,
    /// This socket cannot tell whether its login still holds (it fell behind on logouts): the
    /// tab reconnects, and its login is checked again.
    Recheck,
    /// The session was deleted: this last state, then the socket closes for good.
    Last(Utf8Bytes),
    End,
}

/// The states a host's socket follows (participants' are written by the hub: `ParticipantOutlet`).
trait Feed: Send + 'static {
    /// The whole current state, sent first: a tab that reconnects is up to date with it.
    fn current(&mut self) -> Vec<Next>;
    fn next(&mut self) -> impl std::future::Future<Output = Next> + Send;
}

fn sent(frame: &Frame) -> Next {
    if frame.last {
        Next::Last(frame.text.clone())
    } else {
        Next::Send(frame.text.clone())
    }
}

/// A participant's socket, written by the hub's fan-out tasks and by its own writer task
/// (`write_participant`), whichever holds it.
struct ParticipantOutlet<S> {
    out: tokio::sync::Mutex<Out<S>>,
    asides: Arc<Asides>,
    /// The digest of the visitor cookie it was opened with, for bans.
    visitor: String,
}

struct Out<S> {
    sink: S,
    /// The stamp of the newest state sent: an older one offered later is not sent.
    stamp: i64,
    /// A write is still waiting for the socket to take it: nothing more is added behind it.
    unflushed: bool,
    /// The number of the last Discussion event (or snapshot) sent; none before the first.
    seq: Option<u64>,
}

impl<S> ParticipantOutlet<S> {
    fn new(sink: S, asides: Arc<Asides>) -> Self {
        let out = Out { sink, stamp: i64::MIN, unflushed: false, seq: None };
        Self { out: tokio::sync::Mutex::new(out), asides, visitor: String::new() }
    }

    fn of(self, visitor: &str) -> Self {
        Self { visitor: visitor.to_owned(), ..self }
    }

    /// The tab holds the Discussion up to event `seq` already (it reconnects).
    fn since(self, seq: Option<u64>) -> Self {
        self.out.try_lock().expect("a new outlet is not shared yet").seq = seq;
        self
    }
}

/// Writes `text` if the socket takes it at once: `None` when it could not (the writer catches
/// up), `Some(false)` when the socket failed (its reader sees it end).
fn write_now<S: Sink<Message> + Unpin>(out: &mut Out<S>, text: &Utf8Bytes, asides: &Asides) -> Option<bool> {
    let mut cx = Context::from_waker(Waker::noop());
    match out.sink.poll_ready_unpin(&mut cx) {
        Poll::Ready(Ok(())) => {}
        Poll::Ready(Err(_)) => return Some(false),
        Poll::Pending => return None,
    }
    if out.sink.start_send_unpin(Message::Text(text.clone())).is_err() {
        return Some(false);
    }
    counted::written(Audience::Participants, text.len());
    if out.sink.poll_flush_unpin(&mut cx).is_pending() {
        out.unflushed = true;
        asides.ask(BEHIND);
    }
    Some(true)
}

impl<S: Sink<Message> + Unpin> ParticipantOutlet<S> {
    /// Writes a Discussion frame that brings the socket to `frame.seq`, when the socket is behind
    /// it at a position that `follows` (the frame may go on from there), writes nothing pending,
    /// and takes the frame at once; otherwise, unless it is there already, its writer catches up.
    fn offer_discussion(&self, frame: &EventFrame, follows: impl FnOnce(u64) -> bool) {
        let Ok(mut out) = self.out.try_lock() else { return self.asides.ask(DISCUSSION) };
        match out.seq {
            Some(seq) if frame.seq <= seq => return,
            Some(seq) if follows(seq) && !out.unflushed => {}
            _ => return self.asides.ask(DISCUSSION),
        }
        match write_now(&mut out, &frame.text, &self.asides) {
            Some(true) => out.seq = Some(frame.seq),
            Some(false) => {}
            None => self.asides.ask(DISCUSSION),
        }
    }
}

impl<S: Sink<Message> + Unpin + Send + 'static> Outlet for ParticipantOutlet<S> {
    /// Writes the state if the socket takes it at once; otherwise its writer catches up. No waker
    /// is left here: the writer polls the socket again with its own.
    fn offer(&self, frame: &Frame) {
        let Ok(mut out) = self.out.try_lock() else { return self.asides.ask(BEHIND) };
        if frame.stamp <= out.stamp {
            return;
        }
        // The last state closes the socket, which is the writer's to do.
        if frame.last || out.unflushed {
            return self.asides.ask(BEHIND);
        }
        match write_now(&mut out, &frame.text, &self.asides) {
            Some(true) => out.stamp = frame.stamp,
            Some(false) => {}
            None => self.asides.ask(BEHIND),
        }
    }

    /// Writes the events if they start right after the last the socket was sent and the socket
    /// takes them at once; otherwise its writer sends what it missed.
    fn offer_event(&self, event: &EventFrame) {
        self.offer_discussion(event, |seq| event.first == seq + 1);
    }

    /// Writes the snapshot if the socket is behind it and takes it at once; otherwise its writer
    /// catches up. A socket whose writer has not started the Discussion yet (it sends the state
    /// first) is left to it.
    fn offer_snapshot(&self, snapshot: &EventFrame) {
        self.offer_discussion(snapshot, |_| true);
    }

    fn ban(&self, visitor_digest: &str) {
        if self.visitor == visitor_digest {
            self.asides.ask(BANNED);
        }
    }

    fn catch_up(&self) {
        self.asides.ask(DISCUSSION);
    }
}

/// What a participant socket's writer sends when it catches up: the newest state, and what the
/// socket misses of the Discussion from where it is (the events, or a snapshot). A subscription
/// in the server; a stand-in in tests.
trait Newest: Send + 'static {
    fn state(&self) -> Option<Frame>;
    fn discussion(&self, after: Option<u64>) -> impl std::future::Future<Output = Option<(u64, Utf8Bytes)>> + Send;
}

impl Newest for Subscription {
    fn state(&self) -> Option<Frame> {
        self.public_frame()
    }

    async fn discussion(&self, after: Option<u64>) -> Option<(u64, Utf8Bytes)> {
        self.discussion_after(after).await
    }
}

/// A participant socket's writer: the state there is, then whatever the hub could not write, a
/// ping, or "restarting". `newest` gives the session's newest public state (and holds the
/// subscription, so the socket counts while it writes).
async fn write_participant<S>(outlet: Arc<ParticipantOutlet<S>>, newest: impl Newest)
where
    S: Sink<Message> + Unpin + Send + 'static,
{
    let mut asked = BEHIND | DISCUSSION;
    loop {
        let mut out = outlet.out.lock().await;
        if asked & RESTARTING != 0 {
            let _ = out.sink.send(close(CLOSE_RESTARTING, "Ruche is restarting")).await;
            return;
        }
        if asked & BANNED != 0 {
            let _ = out.sink.send(close(CLOSE_DENIED, "A host removed you from this Discussion.")).await;
            return;
        }
        if asked & PING != 0 && out.sink.send(Message::Ping(Default::default())).await.is_err() {
            return;
        }
        if asked & BEHIND != 0 {
            if out.sink.flush().await.is_err() {
                return;
            }
            out.unflushed = false;
            if let Some(frame) = newest.state().filter(|f| f.stamp > out.stamp) {
                out.stamp = frame.stamp;
                if !send(&mut out.sink, sent(&frame), Audience::Participants).await {
                    return;
                }
            }
        }
        if asked & DISCUSSION != 0 {
            // Read without holding the socket: the hub's offers meanwhile see the old position,
            // and ask again, which is answered once this is sent.
            let after = out.seq;
            drop(out);
            let missed = newest.discussion(after).await;
            out = outlet.out.lock().await;
            if let Some((seq, text)) = missed.filter(|(seq, _)| out.seq.is_none_or(|sent| sent < *seq)) {
                if out.sink.flush().await.is_err() {
                    return;
                }
                out.unflushed = false;
                out.seq = Some(seq);
                if !send(&mut out.sink, Next::Send(text), Audience::Participants).await {
                    return;
                }
            }
        }
        drop(out);
        asked = outlet.asides.next().await;
    }
}

/// A host's socket follows the host state (as long as its user is among the hosts and its login
/// holds) and the participant count.
struct HostFeed {
    states: watch::Receiver<Option<Arc<HostFrame>>>,
    presence: watch::Receiver<(u32, Utf8Bytes)>,
    /// The Discussion's host events, and the number of the last one (or snapshot) sent.
    discussion: broadcast::Receiver<HostEvent>,
    discussion_seq: Option<u64>,
    /// Held so that the socket counts while it writes; gives the Discussion's snapshots.
    subscription: Subscription,
    user: UserId,
    /// The digest of the login the socket was opened with.
    login: String,
    ended_logins: broadcast::Receiver<Arc<[String]>>,
}

impl HostFeed {
    fn state(&mut self) -> Option<Next> {
        let user = self.user;
        self.states.borrow_and_update().as_ref().map(|f| {
            if f.frame.last || f.hosts.contains(&user) {
                sent(&f.frame)
            } else {
                Next::Deny
            }
        })
    }
}

impl Feed for HostFeed {
    fn current(&mut self) -> Vec<Next> {
        let mut first: Vec<Next> = self.state().into_iter().collect();
        first.push(Next::Send(self.presence.borrow_and_update().1.clone()));
        first
    }

    async fn next(&mut self) -> Next {
        loop {
            if self.discussion_seq.is_none() {
                if let Some((seq, text)) = self.subscription.discussion_snapshot().await {
                    self.discussion_seq = Some(seq);
                    return Next::Send(text);
                }
            }
            tokio::select! {
                biased;
                changed = self.states.changed() => {
                    if changed.is_err() { return Next::End }
                    if let Some(next) = self.state() { return next }
                }
                changed = self.presence.changed() => {
                    if changed.is_err() { return Next::End }
                    return Next::Send(self.presence.borrow_and_update().1.clone());
                }
                ended = self.ended_logins.recv() => match ended {
                    Ok(digests) => if digests.contains(&self.login) { return Next::LoggedOut },
                    Err(broadcast::error::RecvError::Lagged(_)) => return Next::Recheck,
                    Err(broadcast::error::RecvError::Closed) => return Next::End,
                },
                event = self.discussion.recv() => match event {
                    Ok(Some(event)) => match self.discussion_seq {
                        Some(seq) if event.seq <= seq => {}
                        Some(seq) if event.seq == seq + 1 => {
                            self.discussion_seq = Some(event.seq);
                            return Next::Send(event.text.clone());
                        }
                        // A gap: the next turn sends a snapshot.
                        _ => self.discussion_seq = None,
                    },
                    Ok(None) | Err(broadcast::error::RecvError::Lagged(_)) => self.discussion_seq = None,
                    Err(broadcast::error::RecvError::Closed) => return Next::End,
                },
            }
        }
    }
}

/// A host socket's writer task: the current state, then every change, and what the reader hands
/// it (a ping, "restarting"). Holds the subscription, so the socket counts while it writes.
/// A state the tab does not take within `within` lets the socket go (`Keepalive::write_within`).
async fn write(mut sink: SocketSink, mut feed: impl Feed, asides: Arc<Asides>, within: Duration) -> Ended {
    for next in feed.current() {
        if let Some(ended) = send_within(&mut sink, next, within).await {
            return ended;
        }
    }
    loop {
        // Biased: on an event (thousands of sockets wake at once) only the feed is polled.
        let next = tokio::select! {
            biased;
            next = feed.next() => next,
            asked = asides.next() => {
                if asked & RESTARTING != 0 {
                    let _ = sink.send(close(CLOSE_RESTARTING, "Ruche is restarting")).await;
                    return Ended::Done;
                }
                if sink.send(Message::Ping(Default::default())).await.is_err() {
                    return Ended::Done;
                }
                continue;
            }
        };
        if let Some(ended) = send_within(&mut sink, next, within).await {
            return ended;
        }
    }
}

/// `send`, within `within`: `None` while the socket goes on.
async fn send_within<S: Sink<Message> + Unpin>(sink: &mut S, next: Next, within: Duration) -> Option<Ended> {
    match tokio::time::timeout(within, send(sink, next, Audience::Hosts)).await {
        Ok(true) => None,
        Ok(false) => Some(Ended::Done),
        Err(_) => {
            tracing::debug!("live: a host socket took no state within {within:?}: let go");
            Some(Ended::Stalled)
        }
    }
}

/// Sends what the feed gave. False once the socket is done: closed by this, or failing.
async fn send<S: Sink<Message> + Unpin>(sink: &mut S, next: Next, audience: Audience) -> bool {
    if let Next::Send(text) | Next::Last(text) = &next {
        counted::written(audience, text.len());
    }
    match next {
        Next::Send(text) => sink.send(Message::Text(text)).await.is_ok(),
        Next::Deny => {
            let _ = sink.send(denied()).await;
            false
        }
        Next::LoggedOut => {
            let _ = sink.send(close(CLOSE_LOGGED_OUT, "You were logged out.")).await;
            false
        }
        Next::Recheck => {
            let _ = sink.send(close(CLOSE_RESTARTING, "Reconnect")).await;
            false
        }
        Next::Last(text) => {
            if sink.send(Message::Text(text)).await.is_ok() {
                let _ = sink.send(close(CLOSE_DENIED, "This session no longer exists.")).await;
            }
            false
        }
        Next::End => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::pin::Pin;
    use std::sync::Mutex;

    /// A socket whose phone can stop reading: while it is blocked, writes wait.
    #[derive(Clone, Default)]
    struct Phone(Arc<Mutex<PhoneState>>);

    #[derive(Default)]
    struct PhoneState {
        queued: Vec<String>,
        received: Vec<String>,
        blocked: bool,
        waker: Option<Waker>,
    }

    impl Phone {
        fn set_blocked(&self, blocked: bool) {
            let mut state = self.0.lock().unwrap();
            state.blocked = blocked;
            if let Some(waker) = state.waker.take() {
                waker.wake();
            }
        }

        fn received(&self) -> Vec<String> {
            self.0.lock().unwrap().received.clone()
        }

        async fn receives(&self, expected: &[&str]) {
            for _ in 0..500 {
                if self.received() == expected {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            assert_eq!(self.received(), expected);
        }
    }

    impl Sink<Message> for Phone {
        type Error = std::io::Error;

        fn poll_ready(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            Poll::Ready(Ok(()))
        }

        fn start_send(self: Pin<&mut Self>, message: Message) -> Result<(), Self::Error> {
            let text = match message {
                Message::Text(text) => text.to_string(),
                Message::Ping(_) => "ping".into(),
                Message::Close(Some(frame)) => format!("close {}", frame.code),
                other => format!("{other:?}"),
            };
            self.0.lock().unwrap().queued.push(text);
            Ok(())
        }

        fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            let mut state = self.0.lock().unwrap();
            if state.blocked {
                state.waker = Some(cx.waker().clone());
                return Poll::Pending;
            }
            let queued = std::mem::take(&mut state.queued);
            state.received.extend(queued);
            Poll::Ready(Ok(()))
        }

        fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            self.poll_flush(cx)
        }
    }

    fn state(stamp: i64, text: &str) -> Frame {
        Frame { stamp, text: text.to_owned().into(), last: false }
    }

    /// A participant's socket with its writer running; `newest` plays the hub's held state.
    fn participant(
        phone: &Phone,
        first: Frame,
    ) -> (Arc<ParticipantOutlet<Phone>>, Arc<Mutex<Frame>>, tokio::task::JoinHandle<()>) {
        let outlet = Arc::new(ParticipantOutlet::new(phone.clone(), Arc::new(Asides::default())));
        let newest = Arc::new(Mutex::new(first));
        let held = newest.clone();
        let writer = tokio::spawn(write_participant(outlet.clone(), Held(held)));
        (outlet, newest, writer)
    }

    /// The hub's held state, as a test sets it; no Discussion.
    struct Held(Arc<Mutex<Frame>>);

    impl Newest for Held {
        fn state(&self) -> Option<Frame> {
            Some(self.0.lock().unwrap().clone())
        }

        async fn discussion(&self, _: Option<u64>) -> Option<(u64, Utf8Bytes)> {
            None
        }
    }

    fn change(outlet: &ParticipantOutlet<Phone>, newest: &Mutex<Frame>, frame: Frame) {
        *newest.lock().unwrap() = frame.clone();
        outlet.offer(&frame);
    }

    #[tokio::test]
    async fn a_phone_that_stops_reading_gets_the_newest_state_once_it_reads_again() {
        let phone = Phone::default();
        let (outlet, newest, writer) = participant(&phone, state(1, "one"));
        phone.receives(&["one"]).await;

        // Taken at once: the hub's offer writes it, without the socket's own task.
        change(&outlet, &newest, state(2, "two"));
        assert_eq!(phone.received(), ["one", "two"]);
        // Two changes in a row may be offered out of order: the older one is not sent after.
        outlet.offer(&state(1, "one"));
        assert_eq!(phone.received(), ["one", "two"]);

        // The phone stops reading: "three" waits in the socket, and nothing queues up behind it;
        // once the phone reads again, it gets "three", then the newest state only.
        phone.set_blocked(true);
        for (stamp, text) in [(3, "three"), (4, "four"), (5, "five")] {
            change(&outlet, &newest, state(stamp, text));
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(phone.received(), ["one", "two"]);
        assert_eq!(phone.0.lock().unwrap().queued, ["three"]);
        phone.set_blocked(false);
        phone.receives(&["one", "two", "three", "five"]).await;

        // While its own task writes (a ping here, held by the blocked phone), the hub leaves the
        // state to it.
        phone.set_blocked(true);
        outlet.asides.ask(PING);
        tokio::time::sleep(Duration::from_millis(10)).await;
        change(&outlet, &newest, state(6, "six"));
        phone.set_blocked(false);
        phone.receives(&["one", "two", "three", "five", "ping", "six"]).await;

        // A deleted session's last state is sent, then the socket closes.
        change(&outlet, &newest, Frame { stamp: 7, text: "gone".into(), last: true });
        phone.receives(&["one", "two", "three", "five", "ping", "six", "gone", &format!("close {CLOSE_DENIED}")]).await;
        tokio::time::timeout(Duration::from_secs(1), writer).await.expect("the writer ends").unwrap();
    }

    #[tokio::test]
    async fn a_snapshot_from_the_fan_out_goes_only_to_sockets_behind_it() {
        let phone = Phone::default();
        let outlet = ParticipantOutlet::new(phone.clone(), Arc::new(Asides::default())).since(Some(5));
        let outlet = Arc::new(outlet);
        let newest = Arc::new(Mutex::new(state(1, "one")));
        let _writer = tokio::spawn(write_participant(outlet.clone(), Held(newest)));
        phone.receives(&["one"]).await;
        // Its writer has nothing of the Discussion to send (`Held`), and goes idle.
        tokio::time::sleep(Duration::from_millis(20)).await;
        let snapshot = |seq: u64| EventFrame { first: seq, seq, text: format!("snapshot {seq}").into() };
        outlet.offer_snapshot(&snapshot(10));
        assert_eq!(phone.received(), ["one", "snapshot 10"], "written by the fan-out itself");
        outlet.offer_snapshot(&snapshot(10));
        outlet.offer_snapshot(&snapshot(9));
        assert_eq!(phone.received(), ["one", "snapshot 10"], "a socket there already is sent nothing");
        outlet.offer_event(&EventFrame { first: 11, seq: 11, text: "event 11".into() });
        assert_eq!(phone.received(), ["one", "snapshot 10", "event 11"], "the events after it follow");

        // A socket whose writer has not started the Discussion yet (it sends the state first).
        let other = Phone::default();
        let fresh = ParticipantOutlet::new(other.clone(), Arc::new(Asides::default()));
        fresh.offer_snapshot(&snapshot(10));
        assert!(other.received().is_empty());
        assert_eq!(fresh.asides.asked.load(Ordering::Acquire), DISCUSSION, "left to its writer");
    }

    #[tokio::test]
    async fn a_restarting_server_says_so_after_what_it_sends() {
        let phone = Phone::default();
        let (outlet, _, writer) = participant(&phone, state(1, "one"));
        phone.receives(&["one"]).await;
        outlet.asides.ask(RESTARTING);
        phone.receives(&["one", &format!("close {CLOSE_RESTARTING}")]).await;
        tokio::time::timeout(Duration::from_secs(1), writer).await.expect("the writer ends").unwrap();
    }
}
